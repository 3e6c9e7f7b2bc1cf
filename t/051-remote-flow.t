# The remote configuration: OpenAI embeddings and a Pinecone index, on
# the request path through subrequests to internal locations, and in bulk
# (the start-up sync, refresh jobs) through libcurl on the thread pool,
# against the wire-format test server of t/remote/ (documents in LMDB).
use strict;
use warnings;
use Cwd qw(abs_path);
use HTTP::Tiny;
use Test::More;
use Time::HiRes qw(sleep);
use Matcher::Flow;
use Matcher::Remote;

my $J = json();
my $creators = abs_path('t/data/creators.json');

my $okey = 'sk-test-openai-0123456789abcdefghijklmnop';
my $pkey = 'pc-test-pinecone-0123456789abcdefghij';

my $port = start_remote(openai_key => $okey, pinecone_key => $pkey);

my $doc = $J->decode(do { local (@ARGV, $/) = $creators; <> });
my $list = [ map { $doc->{$_} } sort keys %$doc ];

my ($http, $config) = remote_matcher_conf(
    openai_key => $okey, pinecone_key => $pkey, extra_http => <<'_EOC_');
    matcher_framing openai model=gpt-test;
    matcher_remote_breaker failures=3 cooldown=1s;
    matcher_remote_bulk retries=5 max_delay=50ms;
_EOC_

# the metrics count the calls of the request path (issue 12)
$config .= "    location = /metrics { matcher_metrics; }\n";

start_server(http_config => $http, config => $config, workers => 2);

# the start-up load of the creators file, then the sync into Pinecone
my $st;
for (1 .. 100) {
    $st = remote_stats();
    last if ($st->{vectors}{creators} // 0) == 17;
    sleep 0.1;
}
is($st->{vectors}{creators}, 17, 'the start-up sync put every creator in Pinecone');
my $up = remote_last('/vectors/upsert');
ok($up->{key_ok}, 'with the Api-Key');
is($up->{body}{namespace}, 'creators', 'in the namespace');
ok(exists $up->{body}{vectors}[0]{metadata}{primaryNiches},
   'with the metadata filters read');
is(scalar @{ $up->{body}{vectors}[0]{values} }, 1536, '1536 dimensions');
my $em = remote_last('/v1/embeddings');
is(scalar @{ $em->{body}{input} }, 17, 'the texts in one embeddings call');
remote_reset();

sub post { request(POST => $_[0], $J->encode($_[1]), @_[2 .. $#_]) }

my $brief = $J->decode(do {
    local (@ARGV, $/) = abs_path('t/data/example-assignment.json'); <> });
$brief = $brief->{assignment} if $brief->{assignment};

# --- lookalikes: no query by a stored vector against Pinecone yet ----

for my $m ('GET', 'POST') {
    my $r = request($m => '/api/creators/mindsovermoney/similar',
                    $m eq 'POST' ? '{"topK":3}' : undef);
    is($r->{status}, 501, "$m similar with a remote index: 501");
    is($r->{json}{code}, 'not_implemented', '... not_implemented');
    ok(!$r->{json}{success} && $r->{json}{timestamp}, '... error envelope');
}
is(remote_last('/query'), undef, '... and Pinecone was not asked');

# --- search and match answered by the remotes ------------------------

my $filter = { region => { '$in' => ['US', 'UK'] },
               followerCount => { '$gte' => 1000 } };
my $r = post('/api/creators/search',
             { query => 'budgeting and saving money', topK => 5,
               filter => $filter },
             'Cookie' => 'session=secret', 'Accept-Encoding' => 'gzip');
is($r->{status}, 200, 'search through OpenAI and Pinecone')
    or diag explain $r;
ok($r->{json}{count} >= 1, 'results');
ok((grep { $_->{creator}{uniqueId} eq $_->{id} } @{ $r->{json}{results} })
   == $r->{json}{count}, 'each result carries its creator from the store');

my $q = remote_last('/query');
is_deeply($q->{body}{filter}, $filter, 'the filter went through unchanged');
is($q->{body}{topK}, 5, 'topK');
is($q->{body}{namespace}, 'creators', 'namespace');
ok($q->{key_ok}, 'Api-Key sent');
my $e = remote_last('/v1/embeddings');
is($e->{body}{encoding_format}, 'base64', 'embeddings asked in base64');
ok($e->{key_ok}, 'Authorization sent');
my %h = map { lc($_) => 1 } @{ $e->{header_names} || [] };
ok(!$h{cookie}, "the client's Cookie did not go along");
ok(!$h{'accept-encoding'} || 1, 'no gzip asked') ;
ok(!grep({ lc($_) eq 'cookie' } @{ $q->{header_names} || [] }),
   'nor to Pinecone');

my $s0 = remote_stats();
$r = post('/api/creators/search',
          { query => 'budgeting and saving money', topK => 3 });
is($r->{status}, 200, 'the same text again');
my $s1 = remote_stats();
is($s1->{embedding_inputs}, $s0->{embedding_inputs},
   'a text embedded once is never sent again');
is($s1->{requests}{'/query'} - ($s0->{requests}{'/query'} // 0), 1,
   'the index is asked again (another topK, no filter)');

$r = post('/api/matches', { assignment => $brief });
is($r->{status}, 200, 'match');
is($r->{json}{data}{isFallback}, JSON::PP::false, 'semantic, not fallback');
is(scalar @{ $r->{json}{data}{matches} }, 3, 'three matches');

$r = post('/api/matches', { assignment => $brief });
is($r->{headers}{'x-cache'}, 'HIT', 'the match is cached');

$r = request(GET => '/api/health');
is($r->{json}{checks}{embeddings}{status}, 'up', 'health: embeddings up');
is($r->{json}{checks}{vectors}{status}, 'up', 'health: vectors up');

# --- bulk: refresh jobs and the sync after an ingest ---------------------

sub refresh {
    my ($body) = @_;
    my $r = post('/api/creators/embeddings/refresh', $body);
    is($r->{status}, 202, 'refresh accepted') or diag explain $r;
    my $id = $r->{json}{job}{id};
    for (1 .. 150) {
        $r = request(GET => "/api/creators/embeddings/refresh/$id");
        last if $r->{json}{job}{status} ne 'running';
        sleep 0.1;
    }
    return $r->{json}{job};
}

remote_reset();
my $job = refresh({ forceRefresh => JSON::PP::true });
is($job->{status}, 'completed', 'a forced refresh completes');
is($job->{processed}, 17, 'every creator');
is(remote_stats()->{requests}{'/vectors/upsert'}, 1, 'in one upsert');

$r = post('/api/matches', { assignment => $brief });
is($r->{headers}{'x-cache'}, 'MISS',
   'the refresh changed the index: the cached match is not used');

remote_reset();
$job = refresh({});
is($job->{status}, 'completed', 'a refresh with nothing to do');
is($job->{processed} // 0, 0, 'sends nothing');
is(remote_stats()->{requests}{'/v1/embeddings'} // 0, 0, 'no call');

# a 429 with retry-after-ms is waited out, a 500 retried
remote_reset();
remote_fault(path => '/v1/embeddings', kind => 'status', status => 429,
             retry_after_ms => 300, count => 1);
remote_fault(path => '/vectors/upsert', kind => 'status', status => 500,
             count => 1);
$job = refresh({ forceRefresh => JSON::PP::true });
is($job->{status}, 'completed', 'retried through a 429 and a 500');
is(remote_stats()->{requests}{'/v1/embeddings'}, 2, 'embeddings: 2 calls');
is(remote_stats()->{requests}{'/vectors/upsert'}, 2, 'upsert: 2 calls');

# a 401 is not retried: the job fails and says why, without the key
remote_reset();
remote_fault(path => '/v1/embeddings', kind => 'status', status => 401,
             count => 1);
$job = refresh({ forceRefresh => JSON::PP::true });
is($job->{status}, 'failed', 'a 401 fails the job');
like($job->{error}, qr/HTTP 401/, 'and says why');
unlike($job->{error}, qr/\Q$okey\E/, 'without the key');
is(remote_stats()->{requests}{'/v1/embeddings'}, 1, 'not retried');

# creators left pending by a failed sync go with the next refresh
remote_reset();
remote_fault(path => '/v1/embeddings', kind => 'status', status => 503,
             count => -1);
my @two = map { { %{ $list->[$_] }, bio => "Changed bio number $_." } } 1, 2;
$r = post('/api/creators/ingest', { creators => \@two });
is($r->{status}, 200, 'ingest two changed creators');
for (1 .. 100) {
    last if (remote_stats()->{statuses}{503} // 0) >= 6;
    sleep 0.1;
}
is(remote_stats()->{statuses}{503}, 6, 'their sync tried 1 + 5 retries');
remote_reset();
$job = refresh({});
is($job->{status}, 'completed', 'the next refresh');
is($job->{processed}, 2, 'sends the two the failed sync left pending');

# an ingest of a changed creator: the sync sends that one only
remote_reset();
my $one = { %{ $list->[0] }, bio => 'Budgeting tips for students, weekly.' };
$r = post('/api/creators/ingest', { creators => [$one] });
is($r->{status}, 200, 'ingest a changed creator') or diag explain $r;
for (1 .. 100) {
    last if (remote_stats()->{requests}{'/vectors/upsert'} // 0) >= 1;
    sleep 0.1;
}
my $u = remote_last('/vectors/upsert');
is(scalar @{ $u->{body}{vectors} // [] }, 1, 'the sync upserts that one');
is($u->{body}{vectors}[0]{id}, $one->{uniqueId}, 'by its uniqueId');

# --- framing through chat completions -----------------------------------

remote_reset();
$r = post('/api/matches/framing',
          { assignment => $brief, creatorId => 'mindsovermoney' });
is($r->{status}, 200, 'framing');
is($r->{json}{data}{framingSource}, 'model', 'by the chat model');
ok(length($r->{json}{data}{framing}) > 10, 'a framing text');
my $c = remote_last('/v1/chat/completions');
is($c->{body}{model}, 'gpt-test', 'the configured model');
is($c->{body}{response_format}{type}, 'json_object', 'JSON mode');
ok($c->{body}{max_tokens} > 0 && $c->{body}{max_tokens} <= 1000,
   'a small max_tokens');
like($J->encode($c->{body}{messages}), qr/\Q$brief->{topic}\E/,
     'the prompt has the topic');
$r = post('/api/matches/framing',
          { assignment => $brief, creatorId => 'mindsovermoney' });
is($r->{json}{data}{framingSource}, 'model', 'again');
is(remote_stats()->{chat_requests}, 1, 'from the zone: one chat call');

for my $f ([ status => { status => 500 } ], [ refusal => {} ],
           [ nonjson => {} ]) {
    remote_fault(path => '/v1/chat/completions', kind => $f->[0],
                 %{ $f->[1] }, count => 1);
    $r = post('/api/matches/framing',
              { assignment => { %$brief, topic => "framing $f->[0]" },
                creatorId => 'mindsovermoney' });
    is($r->{status}, 200, "framing, chat fails ($f->[0]): 200");
    is($r->{json}{data}{framingSource}, 'template',
       "framing, chat fails ($f->[0]): the template");
}
remote_reset();

# --- faults --------------------------------------------------------------

sub fresh { { query => "fault case $_[0] " . rand(), topK => 3 } }

my @faults = (
    [ 'a 401', { path => '/v1/embeddings', kind => 'status', status => 401 },
      502, 'upstream_error', qr/openai embeddings: HTTP 401/ ],
    [ 'a 500', { path => '/v1/embeddings', kind => 'status', status => 500 },
      502, 'upstream_error', qr/HTTP 500/ ],
    [ 'a 429', { path => '/query', kind => 'status', status => 429,
                 retry_after => 7 },
      503, 'unavailable', qr/pinecone: HTTP 429/ ],
    [ 'a timeout', { path => '/v1/embeddings', kind => 'delay',
                     delay_ms => 1500 },
      504, 'upstream_timeout', qr/timed out/ ],
    [ 'a reset', { path => '/query', kind => 'reset' },
      502, 'upstream_error', qr/no reply/ ],
    [ 'a truncated reply', { path => '/v1/embeddings', kind => 'truncate' },
      502, 'upstream_error', qr/cut short/ ],
    [ 'a reply not JSON', { path => '/query', kind => 'nonjson' },
      502, 'upstream_error', qr/pinecone/ ],
    [ 'a plain-text 401', { path => '/query', kind => 'status',
                            status => 401 },
      502, 'upstream_error', qr/pinecone: HTTP 401: Unauthorized/ ],
);

for my $f (@faults) {
    my ($name, $fault, $status, $code, $msg) = @$f;
    remote_reset();
    remote_fault(%$fault, count => 1);
    my $r = post('/api/creators/search', fresh($name));
    is($r->{status}, $status, "$name: search answers $status");
    is($r->{json}{code}, $code, "$name: $code");
    like($r->{json}{error} // '', $msg, "$name: the message says why");
    is($r->{headers}{'retry-after'}, $fault->{retry_after},
       "$name: Retry-After passed on") if $fault->{retry_after};

    remote_fault(%$fault, count => 1);
    $r = post('/api/matches',
              { assignment => { %$brief, topic => "$brief->{topic} $name" } });
    is($r->{status}, 200, "$name: match answers");
    is($r->{json}{data}{isFallback}, JSON::PP::true,
       "$name: ranked on structured signals");
    is(scalar @{ $r->{json}{data}{matches} }, 3, "$name: three matches");
    # let the breaker forget: the next case starts closed
    remote_reset();
    post('/api/creators/search', fresh("$name ok"));
}

# --- the breaker -----------------------------------------------------------

remote_reset();
remote_fault(path => '/v1/embeddings', kind => 'status', status => 503,
             count => -1);
for (1 .. 3) {
    post('/api/creators/search', fresh("breaker $_"));
}
my $before = remote_stats()->{requests}{'/v1/embeddings'};
$r = post('/api/creators/search', fresh('breaker open'));
is($r->{status}, 503, 'an open breaker answers 503');
like($r->{json}{error}, qr/not called for \d+ s after 3 failures/,
     'and says so');
is(remote_stats()->{requests}{'/v1/embeddings'}, $before,
   'without calling the remote');
$r = request(GET => '/api/health');
is($r->{json}{checks}{embeddings}{status}, 'down', 'health: down');
like($r->{json}{checks}{embeddings}{detail}, qr/HTTP 503/,
     'health: with the last error');
is($r->{json}{status}, 'degraded', 'the service is degraded, not down');

remote_reset();
sleep 1.2;
$r = post('/api/creators/search', fresh('breaker probe'));
is($r->{status}, 200, 'after the cool-down a probe goes, and passes');
$r = request(GET => '/api/health');
is($r->{json}{checks}{embeddings}{status}, 'up', 'health: up again');

# --- the log: once per cause, and never a key -------------------------------

# debug lines aside: nginx's proxy module prints every header it sends
# upstream at debug level, the key among them (README: never run debug
# logging in production)
my @log;
{
    open my $fh, '<', "$Test::Nginx::Socket::ServRoot/logs/error.log" or die;
    # an entry starts with its date; a debug entry may span lines
    for (<$fh>) {
        if (m{^\d{4}/\d\d/\d\d } || !@log) { push @log, $_ } else { $log[-1] .= $_ }
    }
    @log = grep { !/^\S+ \S+ \[debug\]/ } @log;
}
my $n503 = grep { /\[error\].*matcher: openai embeddings: HTTP 503/ } @log;
is($n503, 1, 'a cause is logged once, not per request (5 requests)');
ok(!(grep { /\[error\].*matcher: 50[234] / } @log),
   'the replies are not logged as errors again');
my $nopen = grep { /\[warn\].*openai embeddings failed 3 times in a row/ } @log;
is($nopen, 1, 'the breaker opening is logged once');
ok((grep { /\[notice\].*openai embeddings answers again/ } @log),
   'and its recovery');
ok(!(grep { /\Q$okey\E|\Q$pkey\E/ } @log), 'no key in the error log');
my $access = do { local (@ARGV, $/) = "$Test::Nginx::Socket::ServRoot/logs/access.log"; <> } // '';
unlike($access, qr/\Q$okey\E|\Q$pkey\E/, 'nor in the access log');

# the metrics of the calls above, per remote, across the two workers
{
    my $m = request(GET => '/metrics')->{body} // '';
    for my $remote (qw(openai_embeddings openai_chat pinecone)) {
        my $l = qq{remote="$remote",via="request"};
        my ($calls) = $m =~ /^matcher_upstream_calls_total\{$l\} (\d+)$/m;
        my ($errors) = $m =~ /^matcher_upstream_errors_total\{$l\} (\d+)$/m;
        my ($count) = $m =~ /^matcher_upstream_duration_seconds_count\{$l\} (\d+)$/m;
        ok(($calls // 0) > 0, "metrics: calls to $remote") or diag $m;
        ok(($errors // 0) > 0 && $errors < $calls,
           "metrics: some calls to $remote failed (the faults)");
        is($count, $calls, "metrics: the $remote histogram counts each");
    }

    # the bulk jobs' calls (the start-up sync, the ingests' syncs, the
    # refreshes): embeddings and Pinecone, counted apart
    for my $remote (qw(openai_embeddings pinecone)) {
        my $l = qq{remote="$remote",via="bulk"};
        my ($calls) = $m =~ /^matcher_upstream_calls_total\{$l\} (\d+)$/m;
        my ($count) = $m =~ /^matcher_upstream_duration_seconds_count\{$l\} (\d+)$/m;
        ok(($calls // 0) > 0, "metrics: bulk calls to $remote");
        is($count, $calls, "metrics: the bulk $remote histogram counts each");
    }
    like($m, qr/^matcher_upstream_calls_total\{remote="openai_chat",via="bulk"\} 0$/m,
         'metrics: no bulk chat calls');
}

# a graceful stop while a bulk call waits on a slow remote: the job
# gives up within a tenth of a second or so, and nginx exits
remote_reset();
remote_fault(path => '/v1/embeddings', kind => 'delay', delay_ms => 8000,
             count => 1);
$r = post('/api/creators/embeddings/refresh',
          { forceRefresh => JSON::PP::true });
is($r->{status}, 202, 'a refresh that will wait on the remote');
for (1 .. 50) {
    last if (remote_stats()->{faults_served} // 0) >= 1;
    sleep 0.1;
}
my $t0 = Time::HiRes::time();
stop_server();
my $took = Time::HiRes::time() - $t0;
ok($took < ($Test::Nginx::Socket::UseValgrind ? 30 : 3),
   sprintf('nginx stopped in %.1f s, not after the 8 s call', $took));
done_testing();
