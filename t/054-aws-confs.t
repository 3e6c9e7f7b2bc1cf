# conf/alb.conf and conf/cloudfront.conf served by deploy/run.sh, with
# this machine in the load balancer's place: the ALB's X-Amzn-Trace-Id is
# the request id in the reply and the access log; the client's address
# comes from X-Forwarded-For only through trusted hops, so a client cannot
# pick it (nor reach /metrics by naming 127.0.0.1); idle connections
# outlive the ALB's 60 s; behind CloudFront a successful GET of the
# creators may be cached briefly and nothing else may; and
# deploy/aws/cdn-ranges.sh turns AWS's ip-ranges.json into the edges'
# set_real_ip_from lines.
use strict;
use warnings;
use Cwd qw(abs_path);
use Digest::SHA qw(sha256_hex);
use File::Temp qw(tempdir);
use HTTP::Tiny;
use Test::More;
use Matcher::Conf;

my $repo = abs_path('.');
my $ua = HTTP::Tiny->new(timeout => 10);
my $dir = tempdir('matcher-aws-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $dir;

open my $kfh, '>', "$dir/keys" or die;
print {$kfh} 'reader:read:' . sha256_hex('aws-read-key-0123456789') . "\n";
close $kfh;
chmod 0644, "$dir/keys";
my %key = ('X-Api-Key' => 'aws-read-key-0123456789');

# deploy/aws/cdn-ranges.sh: only CloudFront's origin-facing ranges, once
my $ranges = `"$repo/deploy/aws/cdn-ranges.sh" "$repo/t/data/aws-ip-ranges.json"`;
is($?, 0, 'cdn-ranges.sh reads ip-ranges.json');
is($ranges, "# CloudFront origin-facing ranges (deploy/aws/cdn-ranges.sh)\n"
    . "set_real_ip_from 192.0.2.0/24;\nset_real_ip_from 2001:db8::/32;\n",
   'cdn-ranges.sh: the origin-facing ranges, IPv4 and IPv6, no duplicate');
open my $rfh, '>', "$dir/cdn-ranges" or die;
print {$rfh} $ranges;
close $rfh;
open my $efh, '>', "$dir/empty.json" or die;
print {$efh} '{"prefixes": [{"ip_prefix": "198.51.100.0/24", '
    . '"service": "AMAZON"}]}';
close $efh;
my $out = `"$repo/deploy/aws/cdn-ranges.sh" "$dir/empty.json" 2>&1`;
isnt($?, 0, 'cdn-ranges.sh: a list without CloudFront fails');
like($out, qr/no CLOUDFRONT_ORIGIN_FACING range/, 'cdn-ranges.sh: saying so');

# idle connections: longer than the ALB's 60 s idle timeout
for my $name (qw(alb cloudfront)) {
    my $text = do { local (@ARGV, $/) = "$repo/conf/$name.conf"; <> };
    my ($t) = $text =~ /^\s*keepalive_timeout\s+(\d+)s?;/m;
    cmp_ok($t // 0, '>', 60, "conf/$name.conf: keepalive_timeout above 60 s");
    like($text, qr/^\s*matcher_request_id\s+\$http_x_amzn_trace_id;/m,
         "conf/$name.conf: the trace id is the request id");
}

my $trace = 'Self=1-67891234-12456789abcdef012345678;'
    . 'Root=1-67891233-abcdef012345678912345678';

# conf/alb.conf: the test's connections come from 127.0.0.1, the "VPC"
my $run = run_conf('alb', { MATCHER_KEYS_FILE => "$dir/keys",
                            MATCHER_LISTEN_ADDR => '127.0.0.1',
                            MATCHER_VPC_CIDR => '127.0.0.0/8' });
my $r = wait_health($run);
is($r->{status}, 200, 'deploy/run.sh serves conf/alb.conf; /health open')
    or diag $r->{content}, $r->{diag};
my $base = $run->{base};

$r = $ua->get("$base/api/creators?limit=1", { headers => {
    %key, 'X-Amzn-Trace-Id' => $trace,
    'X-Forwarded-For' => '203.0.113.66, 203.0.113.7' } });
is($r->{status}, 200, 'alb: a key reads');
is($r->{headers}{'x-request-id'}, $trace, 'alb: X-Request-Id is the trace id');

$r = $ua->get("$base/api/creators?limit=1", { headers => {
    %key, 'X-Amzn-Trace-Id' => 'Root=1-5759e988 <x>' } });
like($r->{headers}{'x-request-id'} // '', qr/^[0-9a-f]{32}$/,
     'alb: a trace id with other bytes is not taken');

# the ALB appends the address it saw: the rightmost untrusted one counts
$r = $ua->get("$base/metrics", { headers => {
    'X-Forwarded-For' => '127.0.0.1, 203.0.113.7' } });
is($r->{status}, 403, 'alb: a client naming 127.0.0.1 does not get /metrics');
$r = $ua->get("$base/metrics");
is($r->{status}, 200, 'alb: the instance itself does');

my $access = `cat $run->{data}/logs/access.log`;
like($access, qr/^203\.0\.113\.7 .* id=\Q$trace\E key=reader /m,
     'alb: the access log has the client and the trace id');
like($access, qr/^203\.0\.113\.7 .*"GET \/metrics HTTP\/1\.1" 403/m,
     'alb: and the refused /metrics as the client\'s');
is(stop_conf($run) & 127, 0, 'alb: nginx stopped');

# conf/cloudfront.conf: the ALB is 127.0.0.1, an edge is in 192.0.2.0/24
$run = run_conf('cloudfront', { MATCHER_KEYS_FILE => "$dir/keys",
                                MATCHER_CDN_RANGES => "$dir/cdn-ranges",
                                MATCHER_LISTEN_ADDR => '127.0.0.1',
                                MATCHER_VPC_CIDR => '127.0.0.1/32',
                                MATCHER_CDN_TTL => 45 });
$r = wait_health($run);
is($r->{status}, 200, 'deploy/run.sh serves conf/cloudfront.conf')
    or diag $r->{content}, $r->{diag};
$base = $run->{base};
is($r->{headers}{'cache-control'}, 'no-store', 'cloudfront: /health no-store');

sub cc {
    my ($method, $path, $body) = @_;
    my $r = $ua->request($method, "$base$path", { headers => {
        %key, 'Content-Type' => 'application/json',
        'X-Forwarded-For' => '203.0.113.66, 203.0.113.9, 192.0.2.10' },
        defined $body ? (content => $body) : () });
    return ($r->{status}, $r->{headers}{'cache-control'} // '');
}

my $cached = 'max-age=0, s-maxage=45';
is_deeply([cc('GET', '/api/creators?limit=2')], [200, $cached],
          'cloudfront: GET /api/creators may be cached, MATCHER_CDN_TTL');
is_deeply([cc('HEAD', '/api/creators?limit=2')], [200, $cached],
          'cloudfront: HEAD too');
my $list = $ua->get("$base/api/creators?limit=1", { headers => \%key });
my ($one) = $list->{content} =~ /"uniqueId":"([^"]+)"/;
is_deeply([cc('GET', "/api/creators/$one")], [200, $cached],
          'cloudfront: GET /api/creators/{id} too');
is_deeply([cc('GET', '/api/creators/no-such-creator')], [404, 'no-store'],
          'cloudfront: not an error');
is_deeply([cc('POST', '/api/creators/search', '{"query":"money","topK":2}')],
          [200, 'no-store'], 'cloudfront: never a POST');
my $example = do { local (@ARGV, $/) = "$repo/t/data/example-assignment.json";
                   <> };
is((cc('POST', '/api/matches', $example))[1], 'no-store',
   'cloudfront: never a match');
is_deeply([cc('GET', '/api/assignments/history/someone')], [200, 'no-store'],
          'cloudfront: never an assignment');
$r = $ua->get("$base/api/creators?limit=1");
is_deeply([$r->{status}, $r->{headers}{'cache-control'}], [401, 'no-store'],
          'cloudfront: never a 401');
$r = $ua->get("$base/");
is_deeply([$r->{status}, $r->{headers}{'cache-control'}], [200, 'max-age=300'],
          'cloudfront: the web page for five minutes');

$access = `cat $run->{data}/logs/access.log`;
like($access, qr/^203\.0\.113\.9 .*"GET \/api\/creators\?limit=2 /m,
     'cloudfront: the viewer CloudFront saw, past the edge and the ALB');
unlike($access, qr/^(?:203\.0\.113\.66|192\.0\.2\.10) /m,
       'cloudfront: neither the forged address nor the edge');
is(stop_conf($run) & 127, 0, 'cloudfront: nginx stopped');

done_testing();
