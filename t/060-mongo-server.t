# The MongoDB wire-protocol test server (t/mongo/fake_mongo.py) that the
# MongoDB store's suites run nginx against:
#  1. faithfulness: the official Node driver (npm "mongodb") runs
#     t/mongo/clients/check.mjs against it, with and without SCRAM, one
#     test a check; and the check fails against a server that misbehaves;
#  2. what an acknowledged write survives: SIGKILL and a restart on the
#     same data directory (documents, indexes, a TTL changed by collMod);
#  3. the client mode the suites use, and its fail points.
use strict;
use warnings;
use Test::More;
use Matcher::Mongo;

my $clients = 't/mongo/clients';

# CI installs the driver (deploy/install-deps.sh): missing is a failure
ok(-d "$clients/node_modules/mongodb", 'the npm mongodb driver is installed')
    or BAIL_OUT("run deploy/install-deps.sh (npm ci in $clients)");

# node check.mjs URI [AUTH_URI] -> (exit status, number of ok lines,
# the not-ok lines); every line a test when $as_tests
sub run_check {
    my ($as_tests, @uris) = @_;
    my ($n, @bad) = (0);
    my $pid = open(my $fh, '-|', 'node', "$clients/check.mjs", @uris)
        or die "node: $!";
    local $SIG{ALRM} = sub { kill 'KILL', $pid; };
    alarm 120;
    while (my $line = <$fh>) {
        chomp $line;
        if ($line =~ /^(not )?ok - (.*)$/) {
            ok(!$1, "driver: $2") if $as_tests;
            $1 ? push(@bad, $line) : $n++;
        } elsif ($as_tests) {
            diag($line);
        }
    }
    close $fh;
    my $rc = $?;
    alarm 0;
    return ($rc, $n, @bad);
}

my $plain = start_mongo();
my $auth = start_mongo(user => 'checker', password => 'S3cret-pw');
my $uri = "mongodb://127.0.0.1:$plain->{port}/";
my $auth_uri = "mongodb://checker:S3cret-pw\@127.0.0.1:$auth->{port}/"
               . '?authSource=admin';

my ($rc, $n) = run_check(1, $uri, $auth_uri);
is($rc, 0, 'check.mjs exits 0');
cmp_ok($n, '>=', 95, "the driver ran every check ($n)");

# the check can fail: a server whose distinct always fails
{
    my $broken = start_mongo();
    mongo_failpoint($broken, { configureFailPoint => 'failCommand',
                               mode => 'alwaysOn',
                               data => { failCommands => ['distinct'],
                                         errorCode => 8 } });
    my ($brc, $bn) = run_check(0, "mongodb://127.0.0.1:$broken->{port}/");
    isnt($brc, 0, 'check.mjs fails against a server that misbehaves');
    cmp_ok($bn, '<', $n, 'and stops short of the full run');
    stop_mongo($broken);
}

# the handshake a driver sees
my $hello = mongo_command($plain, 'admin', '{"hello": 1}');
is_deeply([@$hello{qw(isWritablePrimary helloOk maxWireVersion
                      maxBsonObjectSize maxWriteBatchSize
                      logicalSessionTimeoutMinutes)}],
          [JSON::PP::true(), JSON::PP::true(), 17, 16777216, 100000, 30],
          'hello: a standalone mongod 6.0');
ok(!exists $hello->{saslSupportedMechs}, 'no mechanisms without auth');
my $mechs = mongo_command($auth, 'admin',
                          '{"hello": 1, "saslSupportedMechs": "admin.checker"}');
is_deeply($mechs->{saslSupportedMechs}, ['SCRAM-SHA-1', 'SCRAM-SHA-256'],
          'and both SCRAM mechanisms with it');
is(mongo_command($plain, 'x', '{"nosuch": 1}')->{code}, 59,
   'an unknown command: 59');

# an acknowledged write survives SIGKILL
my $r = mongo_command($plain, 'persist',
                      '{"insert": "c", "documents": [{"_id": 1, "v": "kept"}]}');
is($r->{n}, 1, 'an acknowledged insert');
$r = mongo_command($plain, 'persist', '{"createIndexes": "c", "indexes": '
                   . '[{"key": {"v": 1}, "name": "v_unique", "unique": true},'
                   . ' {"key": {"at": 1}, "name": "at_ttl", '
                   . '"expireAfterSeconds": 3600}]}');
is($r->{numIndexesAfter}, 3, 'and two indexes');
$r = mongo_command($plain, 'persist', '{"collMod": "c", "index": '
                   . '{"keyPattern": {"at": 1}, "expireAfterSeconds": 60}}');
is($r->{expireAfterSeconds_new}, 60, 'a TTL changed by collMod');
stop_mongo($plain, 'KILL');
restart_mongo($plain);
$r = mongo_command($plain, 'persist', '{"find": "c", "filter": {"_id": 1}}');
is($r->{cursor}{firstBatch}[0]{v}, 'kept', 'is there after kill -9 and a restart');
$r = mongo_command($plain, 'persist',
                   '{"insert": "c", "documents": [{"_id": 2, "v": "kept"}]}');
is($r->{writeErrors}[0]{code}, 11000, 'and the unique index');
is_deeply($r->{writeErrors}[0]{keyValue}, { v => 'kept' },
          'its write error names the key');
$r = mongo_command($plain, 'persist', '{"listIndexes": "c"}');
my ($ttl) = grep { $_->{name} eq 'at_ttl' } @{$r->{cursor}{firstBatch}};
is($ttl->{expireAfterSeconds}, 60, 'and the TTL collMod set');

# the TTL monitor
$r = mongo_command($plain, 'persist', '{"insert": "c", "documents": ['
                   . '{"_id": 3, "at": {"$date": 0}}]}');
my $left;
for (1 .. 40) {
    $left = mongo_command($plain, 'persist',
                          '{"count": "c", "query": {"_id": 3}}')->{n};
    last unless $left;
    select(undef, undef, undef, 0.1);
}
is($left, 0, 'the TTL monitor deletes an expired document');

# the client mode authenticates
$r = mongo_command($auth, 'admin', '{"ping": 1}');
is($r->{ok}, 1, 'client mode with SCRAM');
$r = mongo_command({ port => $auth->{port} }, 'x', '{"find": "c"}');
is($r->{code}, 13, 'and without it: 13 Unauthorized');
$r = mongo_command({ %$auth, password => 'wrong' }, 'x', '{"ping": 1}');
is_deeply([@$r{qw(ok code codeName)}], [0, 18, 'AuthenticationFailed'],
          'a wrong password: 18 AuthenticationFailed');
my $logs = '';
for my $file ("$auth->{data}/server.log", "$auth->{data}/commands.log") {
    open my $f, '<', $file or next;
    local $/;
    $logs .= <$f>;
}
like($logs, qr/saslContinue admin/, 'the log has the handshake');
unlike($logs, qr/S3cret-pw/, 'and not the password');

# the fail points as the suites use them
mongo_failpoint($plain, { configureFailPoint => 'failCommand',
                          mode => { times => 1 },
                          data => { failCommands => ['find'],
                                    errorCode => 91 } });
$r = mongo_command($plain, 'persist', '{"find": "c"}');
is_deeply([@$r{qw(code codeName)}], [91, 'ShutdownInProgress'],
          'failCommand once');
is(mongo_command($plain, 'persist', '{"find": "c"}')->{ok}, 1, 'then not');
mongo_failpoint($plain, { configureFailPoint => 'failCommand',
                          mode => { times => 1 },
                          data => { failCommands => ['insert'],
                                    errorCode => 11600 } });
mongo_command($plain, 'persist', '{"insert": "c", "documents": [{"_id": 9}]}');
is(mongo_command($plain, 'persist', '{"count": "c", "query": {"_id": 9}}')->{n},
   0, 'a failed write writes nothing');
mongo_failpoint($plain, { configureFailPoint => 'failCommand',
                          mode => { times => 1 },
                          data => { failCommands => ['insert'],
                                    writeConcernError => {
                                        code => 64,
                                        errmsg => 'waiting for replication' } } });
$r = mongo_command($plain, 'persist', '{"insert": "c", "documents": [{"_id": 10}]}');
is_deeply([$r->{n}, $r->{writeConcernError}{code}], [1, 64],
          'a writeConcernError: the write applied, the error reported');
mongo_failpoint($plain, { configureFailPoint => 'failCommand',
                          mode => { times => 1 },
                          data => { failCommands => ['ping'],
                                    closeConnection => JSON::PP::true() } });
is(mongo_command($plain, 'x', '{"ping": 1}')->{ok}, 1,
   'ping is never failed');
mongo_failpoint($plain, { configureFailPoint => 'failCommand',
                          mode => { times => 1 },
                          data => { failCommands => ['count'],
                                    closeConnection => JSON::PP::true() } });
$r = mongo_command($plain, 'x', '{"count": "c"}');
ok(!$r->{ok} && !exists $r->{code}, 'closeConnection: no reply at all');

my $stats = mongo_stats($plain);
is($stats->{find}{count}, 3, 'fakeStats counts the commands since the start');
ok($stats->{find}{totalMicros} > 0, 'and their time');
mongo_stats($plain, 1);
ok(!exists mongo_stats($plain)->{find}, 'reset');

stop_mongo($_) for $plain, $auth;

done_testing();
