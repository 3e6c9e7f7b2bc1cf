# The shipped configurations: conf/*.conf filled from the environment by
# deploy/fill-conf.pl pass "nginx -t"; a missing required variable stops
# the start naming it; deploy/run.sh serves conf/remote.conf against the
# wire-format test server: an ingest and a refresh put every creator in
# Pinecone, and search and matches answer from it; and it serves
# conf/mongodb.conf against the MongoDB test server; every conf serves
# /metrics to 127.0.0.1 only, and conf/secure.conf takes keys and limits.
use strict;
use warnings;
use Cwd qw(abs_path);
use File::Temp qw(tempdir);
use HTTP::Tiny;
use JSON::PP;
use Test::More;
use Time::HiRes qw(sleep);
use Digest::SHA qw(sha256_hex);
use Matcher::Remote;
use Matcher::Mongo;
use Matcher::Conf;

my $repo = abs_path('.');
my $nginx = $ENV{TEST_NGINX_BINARY} || '/usr/sbin/nginx';
my ($ndk, $so) = split ' ', ($ENV{TEST_NGINX_LOAD_MODULES} // '');
$ndk //= '/usr/lib/nginx/modules/ndk_http_module.so';
$so //= "$repo/build/ngx_http_matcher_module.so";
my $J = JSON::PP->new->canonical;
# the web page's (conf/*.conf, location /)
my $csp = q{default-src 'self'; img-src 'self' data:; style-src 'self'; }
    . q{script-src 'self'; connect-src 'self'; frame-ancestors 'none'};

my $okey = 'sk-conf-test-0123456789abcdefghijklmnop';
my $pkey = 'pc-conf-test-0123456789abcdefghij';
my $port = start_remote(openai_key => $okey, pinecone_key => $pkey);
my $mongo = start_mongo();
# conf/secure.conf's keys: a reader and an operator
my $keydir = tempdir('matcher-keys-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $keydir;
open my $kfh, '>', "$keydir/keys" or die;
print {$kfh} "# shipped-conf test\n"
    . "reader:read:" . sha256_hex('conf-read-key-0123456789') . "\n"
    . "ops:read,write:" . sha256_hex('conf-ops-key-0123456789') . "\n";
close $kfh;
chmod 0644, "$keydir/keys";

# conf/cloudfront.conf's edges (deploy/aws/cdn-ranges.sh's output)
open my $cfh, '>', "$keydir/cdn-ranges" or die;
print {$cfh} "set_real_ip_from 192.0.2.0/24;\n";
close $cfh;

my %remote_env = (
    MATCHER_KEYS_FILE => "$keydir/keys",
    MATCHER_CDN_RANGES => "$keydir/cdn-ranges",
    MONGODB_URI => "mongodb://127.0.0.1:$mongo->{port}/",
    OPENAI_API_KEY => $okey, PINECONE_API_KEY => $pkey,
    OPENAI_BASE_URL => "http://127.0.0.1:$port/v1",
    PINECONE_INDEX_HOST => "http://127.0.0.1:$port",
    PINECONE_NAMESPACE => 'shipped',
);

sub prefix {
    my $p = tempdir('matcher-conf-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    mkdir "$p/$_" for qw(conf logs modules temp);
    symlink $ndk, "$p/modules/ndk_http_module.so" or die;
    symlink $so, "$p/modules/ngx_http_matcher_module.so" or die;
    system('cp', "$repo/conf/matcher_remote_params", "$p/conf/") == 0
        or die;
    system('cp', "$repo/t/data/creators.json", "$p/") == 0 or die;
    return $p;
}

sub fill {
    my ($name, $env, $out) = @_;
    local %ENV = (%ENV, %$env);
    delete $ENV{$_} for grep { !defined $env->{$_} && exists $env->{$_} }
                        keys %$env;
    my $err = `"$repo/deploy/fill-conf.pl" "$repo/conf/$name.conf" 2>&1 >"$out"`;
    return ($? >> 8, $err);
}

for my $name (map { m{conf/(.+)\.conf$} } glob "$repo/conf/*.conf") {
    my $p = prefix();
    my ($rc, $err) = fill($name, \%remote_env, "$p/conf/nginx.conf");
    is($rc, 0, "conf/$name.conf: filled") or diag $err;
    local %ENV = (%ENV, %remote_env);
    my $t = `"$nginx" -q -t -p "$p/" -c conf/nginx.conf -e "$p/logs/error.log" 2>&1`;
    is($?, 0, "conf/$name.conf: nginx -t") or diag $t;
    my $text = do { local (@ARGV, $/) = "$p/conf/nginx.conf"; <> };
    like($text, qr{location / \{\s*root\s+html;\s*index\s+index\.html;}s,
         "conf/$name.conf: the web page at /");
    like($text, qr{add_header\s+Content-Security-Policy\s+"\Q$csp\E"\s+always;}s,
         "conf/$name.conf: with its CSP");
    # no mime.types is included: without these, nosniff blocks the page
    like($text, qr!location\s+/\s+\{[^}]*types\s+\{[^}]*text/css\s+css;[^}]*
                   text/javascript\s+js;!sx,
         "conf/$name.conf: the page's types");
    like($text, qr{location = /metrics \{\s*allow\s+127\.0\.0\.1;\s*deny\s+all;\s*matcher_metrics;}s,
         "conf/$name.conf: /metrics for 127.0.0.1 only");
}

# the metrics of a running conf: 200 from 127.0.0.1, 403 from another
# address (127.0.0.2 is this machine too, not allowed)
sub metrics_ok {
    my ($base, $name) = @_;
    my $r = HTTP::Tiny->new(timeout => 10)->get("$base/metrics");
    is($r->{status}, 200, "$name: /metrics from 127.0.0.1");
    like($r->{content}, qr/^matcher_http_requests_total\{/m,
         "$name: the requests are counted");
    $r = HTTP::Tiny->new(timeout => 10, local_address => '127.0.0.2')
        ->get("$base/metrics");
    is($r->{status}, 403, "$name: /metrics from another address: 403");
}

# the web page at /: html/ linked by deploy/run.sh, no key needed, its
# CSP and nosniff, its script and style with their own types

sub page_ok {
    my ($base, $name) = @_;
    my $ua = HTTP::Tiny->new(timeout => 10);
    my $r = $ua->get("$base/");
    is($r->{status}, 200, "$name: / serves the page, without a key");
    like($r->{content}, qr{<script src="app\.js" defer></script>},
         "$name: html/index.html");
    is($r->{headers}{'content-security-policy'}, $csp, "$name: with its CSP");
    is($r->{headers}{'x-content-type-options'}, 'nosniff',
       "$name: and nosniff");
    like($ua->get("$base/app.js")->{headers}{'content-type'} // '',
         qr{^text/javascript}, "$name: app.js as JavaScript");
    like($ua->get("$base/style.css")->{headers}{'content-type'} // '',
         qr{^text/css}, "$name: style.css as CSS");
}

# a required variable missing: the start stops and names it
for my $x ([remote => 'OPENAI_API_KEY'], [remote => 'PINECONE_INDEX_HOST'],
           [mongodb => 'MONGODB_URI'], [atlas => 'MONGODB_URI'],
           [secure => 'MATCHER_KEYS_FILE'], [alb => 'MATCHER_KEYS_FILE'],
           [cloudfront => 'MATCHER_KEYS_FILE'],
           [cloudfront => 'MATCHER_CDN_RANGES'])
{
    my ($conf, $var) = @$x;
    my $p = prefix();
    my ($rc, $err) = fill($conf, { %remote_env, $var => undef },
                          "$p/conf/nginx.conf");
    isnt($rc, 0, "$conf.conf without $var: refused");
    like($err, qr/\b$var\b/, "$conf.conf without $var: named");
}

my ($rc, $err) = fill('remote', { %remote_env, OPENAI_BASE_URL => 'ftp://x' },
                      '/dev/null');
isnt($rc, 0, 'a base URL that is not http(s): refused');

my $p = prefix();
($rc, $err) = fill('remote', { %remote_env, PINECONE_NAMESPACE => 'a;b' },
                   '/dev/null');
isnt($rc, 0, 'a value that would end a directive: refused');

my $run = run_conf('remote', \%remote_env);
my $ua = HTTP::Tiny->new(timeout => 10);
my $base = $run->{base};
my $r = wait_health($run, '/api/health');
is($r->{status}, 200, 'deploy/run.sh serves conf/remote.conf')
    or diag $r->{content}, $r->{diag};
my $h = eval { $J->decode($r->{content}) } || {};
is($h->{checks}{vectors}{status}, 'up', 'health: Pinecone up');

sub post {
    my ($path, $body) = @_;
    my $r = $ua->post("$base$path", {
        headers => { 'Content-Type' => 'application/json' },
        content => defined $body ? $J->encode($body) : '' });
    $r->{json} = eval { $J->decode($r->{content}) };
    return $r;
}

$r = post('/api/creators/ingest');
is($r->{status}, 200, 'ingest (the creators file)');
$r = post('/api/creators/embeddings/refresh', { forceRefresh => JSON::PP::true });
is($r->{status}, 202, 'refresh');
my $id = $r->{json}{job}{id} // '';
for (1 .. 150) {
    $r = $ua->get("$base/api/creators/embeddings/refresh/$id");
    last if ($J->decode($r->{content})->{job}{status} // '') ne 'running';
    sleep 0.1;
}
is($J->decode($r->{content})->{job}{status}, 'completed', 'refresh completed');
is(remote_stats()->{vectors}{shipped}, 17,
   'every creator is in Pinecone, in the namespace');

$r = post('/api/creators/search', { query => 'saving money', topK => 3 });
is($r->{status}, 200, 'search answers from Pinecone');
is($r->{json}{count}, 3, 'three results');

my $example = $J->decode(do {
    local (@ARGV, $/) = "$repo/t/data/example-assignment.json"; <> });
$example = $example->{assignment} if $example->{assignment};
$r = post('/api/matches', { assignment => $example });
is($r->{status}, 200, 'a match');
ok(!$r->{json}{data}{isFallback}, 'semantic, from Pinecone');

metrics_ok($base, 'conf/remote.conf');
page_ok($base, 'conf/remote.conf');

is(stop_conf($run) & 127, 0, 'nginx stopped');

# conf/mongodb.conf: documents in MongoDB, the local index
$run = run_conf('mongodb', \%remote_env);
$base = $run->{base};
$r = wait_health($run);
is($r->{status}, 200, 'deploy/run.sh serves conf/mongodb.conf')
    or diag $r->{content}, $r->{diag};
$h = eval { $J->decode($r->{content}) } || {};
is($h->{checks}{store}{detail}, 'mongodb', 'health: the store is MongoDB');

# the creators file was loaded into the empty database at start
for (1 .. 50) {
    $r = $ua->get("$base/api/creators?limit=1");
    last if (eval { $J->decode($r->{content})->{pagination}{total} } // 0) == 17;
    sleep 0.1;
}
is(eval { $J->decode($r->{content})->{pagination}{total} }, 17,
   'the 17 sample creators are in MongoDB');
$r = post('/api/assignments', $example);
is($r->{status}, 201, 'an assignment is stored');
my $asg = mongo_command($mongo, 'matcher', '{"count": "assignments"}');
is($asg->{n}, 1, 'in the database MONGODB_DB names');
$r = post('/api/matches', { assignment => $example });
is($r->{status}, 200, 'a match on the local index');

metrics_ok($base, 'conf/mongodb.conf');
page_ok($base, 'conf/mongodb.conf');

is(stop_conf($run) & 127, 0, 'nginx stopped');

# conf/secure.conf: keys, per-key limits (2 a minute, a burst of 2 here)
$run = run_conf('secure', { %remote_env, MATCHER_RATE => '2r/m',
                            MATCHER_BURST => 2 });
$base = $run->{base};
$r = wait_health($run);
is($r->{status}, 200, 'deploy/run.sh serves conf/secure.conf; /health open')
    or diag $r->{content}, $r->{diag};

my %reader = ('X-Api-Key' => 'conf-read-key-0123456789');
my %ops = (Authorization => 'Bearer conf-ops-key-0123456789');
$r = $ua->get("$base/api/creators?limit=1");
is($r->{status}, 401, 'secure: no key, 401');
like($r->{headers}{'www-authenticate'} // '', qr/^Bearer realm=/,
     'secure: with WWW-Authenticate');
$r = $ua->get("$base/api/creators?limit=1", { headers => \%reader });
is($r->{status}, 200, 'secure: the read key reads');
$r = $ua->post("$base/api/creators/ingest", { headers => {
    %reader, 'Content-Type' => 'application/json' } });
is($r->{status}, 403, 'secure: the read key may not ingest');
$r = $ua->post("$base/api/creators/ingest", { headers => {
    %ops, 'Content-Type' => 'application/json' } });
is($r->{status}, 200, 'secure: the operator key ingests');
$r = $ua->post("$base/api/creators/ingest", { headers => {
    %ops } });
is($r->{status}, 415, 'secure: not without a JSON Content-Type');

# the reader's bucket: 1 + a burst of 2, then 429s in the envelope
my @codes;
for (1 .. 3) {
    $r = $ua->get("$base/api/creators?limit=1", { headers => \%reader });
    push @codes, $r->{status};
}
is($codes[-1], 429, 'secure: the reader is limited') or diag "@codes";
is($r->{headers}{'retry-after'}, 1, 'secure: Retry-After');
like($r->{content}, qr/"code":"rate_limited"/, 'secure: in the envelope');
$r = $ua->get("$base/api/creators?limit=1", { headers => \%ops });
is($r->{status}, 200, 'secure: the operator has a bucket of its own');

my $access = `cat $run->{data}/logs/access.log`;
like($access, qr/ 429 .*key=reader /, 'secure: the access log names the key');
unlike($access, qr/conf-(?:read|ops)-key/, 'secure: and never logs a key');
metrics_ok($base, 'conf/secure.conf');
page_ok($base, 'conf/secure.conf');
my $n429 = grep { $_ == 429 } @codes;
like($ua->get("$base/metrics")->{content},
     qr/^matcher_http_requests_total\{method="other",endpoint="other",code="429"\} $n429$/m,
     'secure: the 429s are counted');

is(stop_conf($run) & 127, 0, 'nginx stopped');

done_testing();
