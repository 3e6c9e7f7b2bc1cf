# The MongoDB store against the wire-protocol test server
# (t/mongo/fake_mongo.py): real documents with named indexes and a TTL
# that follows matcher_assignment_ttl, credentials never logged, user
# strings never operators, 503 within the timeout while MongoDB is away
# and service back without a restart, a failing write that loses nothing
# acknowledged.  The contract's own suites run on MongoDB too: make test
# runs them again with TEST_MATCHER_STORE=mongodb (t/lib/Matcher/Store.pm).
use strict;
use warnings;
use Test::More;
use POSIX ();
use Time::HiRes qw(sleep time);
use Matcher::Flow;
use Matcher::Mongo;

my $mongo = start_mongo(user => 'matcher', password => 'pw-Secr3t-9');
my $port = $mongo->{port};

$ENV{MATCHER_TEST_MONGODB_URI} =
    "mongodb://matcher:pw-Secr3t-9\@127.0.0.1:$port/?authSource=admin";

my $http = <<"_EOC_";
    matcher_store mongodb uri=env:MATCHER_TEST_MONGODB_URI db=t061 dir=index
                  timeout=1s socket_timeout=5s;
    matcher_assignment_ttl 30d;
_EOC_
my $config = <<'_EOC_';
    location = /health { matcher_health; }
    location /api/assignments { matcher_assignments; }
    location /api/creators { matcher_creators; }
_EOC_

sub wait_for {
    my ($cond, $secs) = @_;
    my $deadline = time + ($Test::Nginx::Socket::UseValgrind ? 10 * $secs : $secs);
    while (time < $deadline) {
        return 1 if $cond->();
        sleep 0.1;
    }
    return 0;
}

sub indexes {
    my ($coll) = @_;
    my $r = mongo_command($mongo, 't061', qq({"listIndexes": "$coll"}));
    return { map { $_->{name} => $_ } @{ $r->{cursor}{firstBatch} || [] } };
}

sub error_log {
    open my $fh, '<', "$Test::Nginx::Socket::ServRoot/logs/error.log" or return '';
    local $/;
    return <$fh>;
}

start_server(http_config => $http, config => $config, workers => 2);

# --- the store is up, with its indexes -------------------------------

my $r;
ok(wait_for(sub { $r = request(GET => '/health');
              ($r->{json}{checks}{store}{status} // '') eq 'up' }, 10),
   'health: the store is up');
is($r->{json}{checks}{store}{detail}, 'mongodb', 'names the backend');

ok(wait_for(sub { exists indexes('assignments')->{createdAt_ttl} }, 10),
   'the indexes are made at start');
my $ai = indexes('assignments');
is_deeply($ai->{userId_createdAt}{key}, { userId => 1, createdAt => -1 },
          'history index {userId: 1, createdAt: -1}');
is($ai->{createdAt_ttl}{expireAfterSeconds}, 30 * 86400,
   'a TTL index of matcher_assignment_ttl');
my $ci = indexes('creators');
ok($ci->{uniqueId_unique}{unique}, 'uniqueId is unique');
ok($ci->{region_uniqueId} && $ci->{niches_uniqueId},
   'indexes for the region and niche filters');

# --- documents --------------------------------------------------------

$r = request(POST => '/api/assignments',
             { topic => 'Budget apps', keyTakeaway => 'Track spending',
               additionalContext => 'Everyday money', userId => 'u1' });
is($r->{status}, 201, 'an assignment is created');
my $id = $r->{json}{data}{id};

my $doc = mongo_command($mongo, 't061',
    qq({"find": "assignments", "filter": {"_id": {"\$oid": "$id"}}}))
    ->{cursor}{firstBatch}[0];
is($doc->{_id}{'$oid'}, $id, 'the contract id is the ObjectId _id');
ok(ref $doc->{createdAt} eq 'HASH' && exists $doc->{createdAt}{'$date'},
   'createdAt is a date (the TTL index reads it)');
is($doc->{topic}, 'Budget apps', 'fields are fields, not a JSON string');

$r = request(GET => "/api/assignments/$id");
is($r->{status}, 200, 'read back');
my $ms = $doc->{createdAt}{'$date'};
$ms = $ms->{'$numberLong'} if ref $ms;
is($r->{json}{data}{createdAt},
   POSIX::strftime('%Y-%m-%dT%H:%M:%S', gmtime(int($ms / 1000)))
   . sprintf('.%03dZ', $ms % 1000), 'the same createdAt');

# PATCH with If-Match: one conditional update, the loser gets 409
my $m = { matchResults => [ { creatorId => 'a', matchScore => 0.5,
                              reasoning => 'r' } ] };
$r = request(PATCH => "/api/assignments/$id/matches", $m, 'If-Match' => '"1"');
is($r->{status}, 200, 'PATCH at version 1');
$r = request(PATCH => "/api/assignments/$id/matches", $m, 'If-Match' => '"1"');
is($r->{status}, 412, 'a stale If-Match is refused')
    or diag($r->{body});

# --- no operator injection --------------------------------------------

request(POST => '/api/assignments',
        { topic => 't', keyTakeaway => 'k', additionalContext => 'c',
          userId => '{"$gt":""}' });
$r = request(GET => '/api/assignments/history/%7B%22%24gt%22%3A%22%22%7D');
is($r->{status}, 200, 'a userId shaped like an operator is a userId');
is(scalar @{ $r->{json}{data} }, 1, 'it finds only its own assignment');
is($r->{json}{data}[0]{userId}, '{"$gt":""}', 'the one with that userId');

my ($dot, $plain, $evil) = map { synthetic_creator('Inj', $_, 'About %s, %d.') }
                            0 .. 2;
$dot->{uniqueId} = 'dot.ted';
$dot->{region} = 'US';
$plain->{region} = 'UK';
$evil->{'$where'} = '1';
$r = request(POST => '/api/creators/ingest', { creators => [ $dot, $plain ] });
is($r->{status}, 200, 'ingest') or diag($r->{body});
is(request(GET => '/api/creators/dot.ted')->{status}, 200,
   'a uniqueId with a dot is a value');
$r = request(GET => '/api/creators/%24where');
is($r->{status}, 404, 'a uniqueId of $where: not found, not an operator');
$evil->{uniqueId} = '$gt';
$r = request(POST => '/api/creators/ingest', { creators => [ $evil ] });
is($r->{json}{inserted}, 0, 'a uniqueId with a leading $ is not stored');
delete $evil->{uniqueId};
$evil->{uniqueId} = 'evil';
$r = request(GET => '/api/creators?region=$where');
is($r->{status}, 200, 'a region of $where');
is($r->{json}{pagination}{total}, 0, 'matches nothing');
$r = request(GET => '/api/creators?region=us');
is($r->{json}{pagination}{total}, 1, 'region filters case-insensitively');
$r = request(POST => '/api/creators/ingest', { creators => [ $evil ] });
like($r->{body}, qr/field names may not/, 'a field named $where is refused');

# --- credentials are never logged -------------------------------------

unlike(error_log(), qr/pw-Secr3t-9/, 'the password is not in the error log');

# --- MongoDB goes away and comes back --------------------------------

stop_mongo($mongo);

my $t0 = time;
$r = request(GET => "/api/assignments/$id");
my $took = time - $t0;
is($r->{status}, 503, 'MongoDB down: 503');
is($r->{json}{code}, 'unavailable', 'code unavailable');
cmp_ok($took, '<', 3, "within the timeout (1 s) and a margin")
    unless $Test::Nginx::Socket::UseValgrind;
note(sprintf 'the first 503 after MongoDB stopped: %.2f s', $took);

$t0 = time;
my @codes = map { request(GET => "/api/assignments/$id")->{status} } 1 .. 10;
is_deeply(\@codes, [ (503) x 10 ], 'every request while it is down is 503');
my $ten = time - $t0;
cmp_ok($ten, '<', 3, 'and they fail fast, not one timeout each')
    unless $Test::Nginx::Socket::UseValgrind;
note(sprintf 'the next 10 requests: %.3f s in all', $ten);

$r = request(GET => '/health');
is($r->{status}, 503, 'health 503');
is($r->{json}{checks}{store}{status}, 'down', 'store down');
like($r->{json}{checks}{store}{detail}, qr/unreachable/, 'with the cause');
unlike($r->{json}{checks}{store}{detail}, qr/pw-Secr3t-9/,
       'and no password');

restart_mongo($mongo);
$t0 = time;
ok(wait_for(sub { request(GET => "/api/assignments/$id")->{status} == 200 }, 15),
   'service comes back without a restart');
note(sprintf 'back %.1f s after MongoDB', time - $t0);

# each worker's pool has its own monitor, which finds the server within a
# heartbeat (1 s); until it has, that worker still fails fast with 503.
# Served without a break for 1.5 s: every worker is back.
my $since;
ok(wait_for(sub {
    if (request(GET => "/api/assignments/$id")->{status} != 200) {
        undef $since;
        return 0;
    }
    $since //= time;
    return time - $since >= 1.5;
}, 15), 'and on every worker');
note(sprintf 'every worker back %.1f s after MongoDB', time - $t0);
is(request(GET => '/health')->{json}{checks}{store}{status}, 'up',
   'health up again');

# --- a failing write loses nothing acknowledged -----------------------

my @ids;
for my $i (1 .. 5) {
    $r = request(POST => '/api/assignments',
                 { topic => "t$i", keyTakeaway => 'k', additionalContext => 'c',
                   userId => 'fp' });
    push @ids, $r->{json}{data}{id} if $r->{status} == 201;
}
is(scalar @ids, 5, 'five acknowledged writes');

mongo_failpoint($mongo, { configureFailPoint => 'failCommand',
    mode => { times => 1 },
    data => { failCommands => ['insert'], errorCode => 91 } });
$r = request(POST => '/api/assignments',
             { topic => 'x', keyTakeaway => 'k', additionalContext => 'c',
               userId => 'fp' });
is($r->{status}, 503, 'a write failing with ShutdownInProgress: 503');
is($r->{json}{code}, 'unavailable', 'unavailable');
like(error_log(), qr/ShutdownInProgress|code 91/, 'the log says what MongoDB said');

mongo_failpoint($mongo, { configureFailPoint => 'failCommand',
    mode => 'alwaysOn',
    data => { failCommands => ['insert'], errorCode => 2,
              errmsg => 'bad value' } });
$r = request(POST => '/api/assignments',
             { topic => 'x', keyTakeaway => 'k', additionalContext => 'c',
               userId => 'fp' });
is($r->{status}, 500, 'another server error: 500');
is($r->{json}{code}, 'internal', 'internal');
mongo_failpoint($mongo, { configureFailPoint => 'failCommand', mode => 'off' });

$r = request(GET => '/api/assignments/history/fp?limit=50');
is($r->{json}{pagination}{total} // scalar @{ $r->{json}{data} }, 5,
   'exactly the acknowledged writes are there');
is(request(GET => "/api/assignments/$_")->{status}, 200, "acknowledged $_")
    for @ids;

stop_server();

# --- a changed TTL is set with collMod --------------------------------

(my $http7 = $http) =~ s/matcher_assignment_ttl 30d/matcher_assignment_ttl 7d/;
start_server(http_config => $http7, config => $config);
ok(wait_for(sub { (indexes('assignments')->{createdAt_ttl}{expireAfterSeconds} // 0)
              == 7 * 86400 }, 10),
   'the TTL index follows matcher_assignment_ttl');
ok(wait_for(sub { error_log() =~ /MongoDB indexes are in place/ }, 5),
   'and the log says the indexes are in place');
stop_server();

# --- configuration errors ---------------------------------------------

done_testing();
