# Prometheus metrics (issue 12): matcher_metrics answers in the text
# format, counters kept in shared memory are exact across two workers and
# across "nginx -s reload", the latency histograms agree with the
# counts, the cache, index, backlog and job gauges are there, the
# location takes its own access rule and no API key, and the output
# passes "promtool check metrics".
use strict;
use warnings;
use Test::More;
use Digest::SHA qw(sha256_hex);
use File::Temp qw(tempdir);
use Time::HiRes qw(sleep);
use Matcher::Flow;

my $dir = tempdir('matcher-metrics-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $dir;
open my $fh, '>', "$dir/keys" or die;
print {$fh} "ops:read,write:" . sha256_hex('ops-key-0123456789') . "\n";
close $fh;
chmod 0644, "$dir/keys";
my %key = ('X-Api-Key' => 'ops-key-0123456789');

my $http = <<'_EOC_';
    matcher_store lmdb:store size=64m;
    matcher_embedder local dims=64;
    matcher_vectors local capacity=1000;
    matcher_cache_zone matcher:1m;
_EOC_
my $config = <<"_EOC_";
    matcher_api_keys $dir/keys;
    location /api/creators { matcher_creators; }
    location /api/assignments { matcher_assignments; }
    location = /health { matcher_health; }
    location = /metrics {
        allow 127.0.0.1;
        deny all;
        matcher_metrics;
    }
    location = /metrics-elsewhere {
        deny all;
        matcher_metrics;
    }
_EOC_

sub scrape {
    my $r = request(GET => '/metrics');
    is($r->{status}, 200, 'GET /metrics') or diag $r->{body};
    return $r;
}

# name{labels} value
sub metric {
    my ($text, $series) = @_;
    my $re = quotemeta $series;
    return $text =~ /^$re (\S+)$/m ? $1 : undef;
}

my $promtool = -x '/usr/bin/promtool' ? '/usr/bin/promtool' : undef;

sub promtool_ok {
    my ($text, $what) = @_;
    # deploy/install-deps.sh installs it (Debian's "prometheus"): a
    # missing promtool fails, it is not skipped
    if (!$promtool) {
        fail("promtool check metrics: $what: no /usr/bin/promtool");
        return;
    }
    my $file = "$dir/scrape.txt";
    open my $out, '>', $file or die;
    print {$out} $text;
    close $out;
    my $msg = `$promtool check metrics < $file 2>&1`;
    is($? >> 8, 0, "promtool check metrics: $what") or diag $msg;
}

start_server(http_config => $http, config => $config, workers => 2);

my $r = scrape();
like($r->{headers}{'content-type'}, qr{^text/plain; version=0\.0\.4},
     'the Prometheus text format');
like($r->{body}, qr/^matcher_info\{version="[\d.]+"\} 1$/m, 'matcher_info');
promtool_ok($r->{body}, 'before any request');

is(request(GET => '/metrics-elsewhere')->{status}, 403,
   'the location takes its own access rule');
is(request(POST => '/metrics', '{}')->{status}, 405, 'GET only');

# 20 reads and 5 refused, over new connections: both workers take some
my @c = map { synthetic_creator('Metrics', $_, 'Videos about %s, tip %d.') }
        0 .. 9;
is(request(POST => '/api/creators/ingest', { creators => \@c },
           %key)->{status}, 200, 'an ingest of 10');
for (1 .. 20) {
    request(GET => '/api/creators/metrics-00001', undef, %key);
}
for (1 .. 5) {
    request(GET => '/api/creators/metrics-00001');
}
request(GET => '/api/creators/a/b/c', undef, %key);
request(POST => '/api/creators/search', { query => 'cooking' }, %key)
    for 1 .. 3;
request(GET => '/health');

my $text = scrape()->{body};
my $get = 'method="GET",endpoint="/creators/{id}"';
is(metric($text, "matcher_http_requests_total{$get,code=\"200\"}"), 20,
   'the 200s of GET /creators/{id}, across the workers');
is(metric($text, "matcher_http_requests_total{$get,code=\"401\"}"), 5,
   'its 401s');
is(metric($text, 'matcher_http_requests_total{method="POST",'
                 . 'endpoint="/creators/ingest",code="200"}'), 1, 'ingest');
is(metric($text, 'matcher_http_requests_total{method="other",'
                 . 'endpoint="other",code="404"}'), 1,
   'a path no route has');
is(metric($text, 'matcher_http_requests_total{method="GET",'
                 . 'endpoint="/health",code="200"}'), 1, 'health');
is(metric($text, "matcher_http_request_duration_seconds_count{$get}"), 25,
   'the histogram counts every request of the endpoint');
is(metric($text, "matcher_http_request_duration_seconds_bucket{$get,"
                 . 'le="+Inf"}'), 25, 'and so does its +Inf bucket');
my $b10 = metric($text, "matcher_http_request_duration_seconds_bucket{$get,"
                        . 'le="10"}');
ok(defined $b10 && $b10 <= 25, 'buckets are cumulative');
unlike($text, qr/endpoint="\/metrics"/, 'the scrapes are not counted');
like($text, qr/^matcher_cache_lookups_total\{result="miss"\} [1-9]/m,
     'cache misses (the searches\' query embeddings)');
like($text, qr/^matcher_cache_lookups_total\{result="hit"\} [1-9]/m,
     'cache hits');
like($text, qr/^matcher_cache_used_bytes \d+$/m, 'cache bytes');
like($text, qr/^matcher_refresh_jobs\{state="running"\} \d+$/m,
     'jobs by state');
like($text, qr/^matcher_store_errors_total\{kind="unavailable"\} 0$/m,
     'store errors');
like($text, qr/^matcher_upstream_calls_total\{remote="openai_embeddings",via="request"\} 0$/m,
     'upstream calls per remote and path');
like($text, qr/^matcher_upstream_calls_total\{remote="pinecone",via="bulk"\} 0$/m,
     'the bulk jobs\' too');
promtool_ok($text, 'after traffic');

# the index follows the ingest in the background: backlog 0, 10 creators
for (1 .. 100) {
    $text = scrape()->{body};
    last if (metric($text, 'matcher_index_creators') // 0) == 10;
    sleep 0.1;
}
is(metric($text, 'matcher_index_creators'), 10, 'creators in the index');
is(metric($text, 'matcher_embedding_backlog_creators'), 0, 'no backlog');
ok(metric($text, 'matcher_index_generation') >= 1, 'the index generation');

SKIP: {
    skip 'no reload without a master process (valgrind mode)', 3
        if $ENV{TEST_NGINX_USE_VALGRIND};
    reload_server();
    request(GET => '/api/creators/metrics-00001', undef, %key);
    $text = scrape()->{body};
    is(metric($text, "matcher_http_requests_total{$get,code=\"200\"}"), 21,
       'after a reload the counters go on, exact');
    is(metric($text, "matcher_http_request_duration_seconds_count{$get}"),
       26, 'and so does the histogram');
    promtool_ok($text, 'after a reload');
}

stop_server();

done_testing();
