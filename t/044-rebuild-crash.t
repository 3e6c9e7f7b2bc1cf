# Crashes in the middle of a rebuild of the vector index (issue 8, item 8):
# a forced refresh on a few thousand creators, then kill -9 of the worker
# that runs it (the master respawns it), or of the master and every
# worker at once (a machine that stops), at varied moments; and a worker
# that kills itself between the index's rename and the embedder state's
# (MT_TEST_CRASH_AT, the worst moment).  After each: /health is healthy,
# search answers 200 with results from every worker, the embedder state
# and the index on disk are of one epoch, and no temporary file stays.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(sleep time);
use Matcher::Flow;

plan skip_all => 'kills the master: needs one (not valgrind mode)'
    if $Test::Nginx::Socket::UseValgrind;

my $http = <<'_EOC_';
    matcher_store lmdb:store size=256m;
_EOC_
my $config = <<'_EOC_';
    location /api/creators { matcher_creators; }
    location /api/health { matcher_health; }
_EOC_

my $N = 4000;
my $J = JSON::PP->new->utf8->canonical;

# the worker that runs a job kills itself at MT_TEST_CRASH_AT (lib/vindex.c)
Test::Nginx::Socket::env_to_nginx('MT_TEST_CRASH_AT');
delete $ENV{MT_TEST_CRASH_AT};

my $root = $Test::Nginx::Socket::ServRoot;
my $store = "$root/store";
srand(44);

sub creator {
    my ($i, $round) = @_;
    return synthetic_creator('Crash', $i, 'Videos about %s, tip %d'
                             . ($round ? ", round $round" : '') . '.');
}

# the epoch in each file's header (lib/embed.c, lib/vindex_int.h)
sub epoch_at {
    my ($file, $off) = @_;
    open my $fh, '<:raw', $file or return undef;
    sysseek($fh, $off, 0) or return undef;
    sysread($fh, my $buf, 8) == 8 or return undef;
    return unpack 'Q<', $buf;
}

sub epochs {
    return (epoch_at("$store/embedder.idf", 24),
            epoch_at("$store/vectors.mtv", 80));
}

sub tmp_files {
    opendir my $d, $store or return ();
    return grep { /\.tmp(\.|$)/ } readdir $d;
}

# the worker that rebuilds: it holds the rebuild lock open (or, without
# one, its new files)
sub rebuilder {
    for my $pid (Test::Nginx::Socket::worker_pids()) {
        for my $fd (glob "/proc/$pid/fd/*") {
            my $t = readlink($fd) // next;
            return $pid
                if $t =~ m{/(?:vectors\.mtv\.(?:rebuild|tmp)|embedder\.idf\.tmp)};
        }
    }
    return undef;
}

# a forced refresh: its job id
sub refresh {
    my $r = request(POST => '/api/creators/embeddings/refresh',
                 { forceRefresh => JSON::PP::true });
    return $r->{status} == 202 ? $r->{json}{job}{id} : undef;
}

# every check of one round; each waits a little for the state to settle
sub check {
    my ($what) = @_;
    my ($h, $ok);
    for (1 .. 100) {
        $h = request(GET => '/api/health');
        $ok = $h->{status} == 200 && ($h->{json}{status} // '') eq 'healthy'
              && ($h->{json}{checks}{vectors}{status} // '') eq 'up'
              && ($h->{json}{checks}{embeddings}{status} // '') eq 'up';
        last if $ok;
        sleep 0.1;
    }
    ok($ok, "$what: /health healthy, embeddings and vectors up")
        or diag(explain($h->{json}));

    # fresh connections land on either worker: each must answer
    my @bad;
    for my $q (1 .. 8) {
        my $r = request(POST => '/api/creators/search',
                     { query => 'budget tips for personal finance',
                       topK => 5 });
        push @bad, "$r->{status} " . scalar(@{ $r->{json}{results} // [] })
            unless $r->{status} == 200 && @{ $r->{json}{results} // [] } > 0;
    }
    ok(!@bad, "$what: search 200 with results, 8 times")
        or diag("status and results: @bad");

    my ($e, $v);
    for (1 .. 50) {
        ($e, $v) = epochs();
        last if defined $e && defined $v && $e == $v;
        sleep 0.1;
    }
    ok(defined $e && defined $v && $e == $v,
       "$what: embedder state and index of one epoch")
        or diag('embedder.idf ' . ($e // 'none') . ', vectors.mtv '
                . ($v // 'none'));
    return $v;
}

sub restart {
    my @pids = Test::Nginx::Socket::worker_pids();
    Test::Nginx::Socket::stop_nginx(0);     # SIGKILL to the whole group
    # the workers, reparented, die a moment after the master
    for (1 .. 250) {
        last unless grep { kill 0, $_ } @pids
            or Test::Nginx::Socket::port_listening(
                   $Test::Nginx::Socket::ServerPort);
        sleep 0.02;
    }
    start_server(http_config => $http, config => $config, workers => 2);
}

sub log_problems {
    open my $fh, '<', $Test::Nginx::Socket::ErrLogFile or return ();
    # the worker kills are this test's own
    return grep { !/worker process \d+ exited on signal 9/ }
           grep { /\[(?:alert|emerg)\]|exited on signal|$Test::Nginx::Socket::SanitizerRe/ }
           <$fh>;
}

start_server(http_config => $http, config => $config, workers => 2);

my $body = join '', map { $J->encode(creator($_, 0)) . "\n" } 0 .. $N - 1;
my $r = request(POST => '/api/creators/ingest', $body,
                'Content-Type' => 'application/x-ndjson');
is($r->{json}{inserted}, $N, "$N creators ingested") or diag(substr($r->{body}, 0, 600));
my $t0 = time;
my $job = refresh();
ok($job, 'a first refresh');
for (1 .. 300) {
    last if request(GET => "/api/creators/embeddings/refresh/$job")
            ->{json}{job}{status} ne 'running';
    sleep 0.05;
}
diag(sprintf 'a rebuild of %d creators: about %.2f s', $N, time - $t0);
my $last = check('start');

my $t_start = time;
my @rounds = (('worker') x 3, ('master') x 3);

for my $i (0 .. $#rounds) {
    my $kind = $rounds[$i];

    # change a few creators: each rebuild learns another IDF
    my $batch = join '', map { $J->encode(creator($_, $i + 1)) . "\n" }
                         map { $_ * 37 % $N } 0 .. 49;
    request(POST => '/api/creators/ingest', $batch,
            'Content-Type' => 'application/x-ndjson');

    ok(refresh(), "round $i ($kind): refresh started");

    # the moment: anywhere from the rebuild's start to its end
    my $pid;
    for (1 .. 200) { last if $pid = rebuilder(); sleep 0.005 }
    sleep(rand(0.3));
    $pid //= (Test::Nginx::Socket::worker_pids())[0];

    if ($kind eq 'worker') {
        kill 'KILL', $pid;
        for (1 .. 100) { last unless kill 0, $pid; sleep 0.02 }
        check("round $i, worker $pid killed");
        restart();
        $last = check("round $i, after a restart");

    } else {
        restart();
        $last = check("round $i, master killed");
    }

    is_deeply([ tmp_files() ], [], "round $i: no temporary file left");
}

# the worst moment: between the index's rename and the state's
{
    local $ENV{MT_TEST_CRASH_AT} = 'index-renamed';
    restart();
}
my ($e0, $v0) = epochs();
ok(refresh(), 'a refresh that dies between its renames');
my $log = '';
for (1 .. 600) {        # 30 s: the respawned worker's first sync repairs
    open my $fh, '<', $Test::Nginx::Socket::ErrLogFile or last;
    $log = join '', <$fh>;
    last if $log =~ /renamed into place/;
    sleep 0.05;
}
like($log, qr/exited on signal 9/, 'the worker died between the renames');
like($log, qr/interrupted rebuild's embedder state renamed into place/,
     '... and a sync renamed the new state into place');
my $v = check('between the renames, the master alive');
isnt($v, $v0, '... serving the new pair');
restart();
check('between the renames, after a restart');
is_deeply([ tmp_files() ], [], 'no temporary file left');

diag(sprintf 'kill rounds: %.1f s', time - $t_start);

my @bad = log_problems();
ok(!@bad, 'no alert but the kills, no sanitizer report') or diag("@bad[0 .. 4]");

# the last run alone for the runner's own log check
truncate $Test::Nginx::Socket::ErrLogFile, 0;
restart();
check('a clean start');
stop_server();
done_testing();
