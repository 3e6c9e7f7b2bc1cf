# The MongoDB wire-protocol test server (t/mongo/fake_mongo.py) that the
# MongoDB store's suites run nginx against:
#  1. faithfulness: the official Node driver (npm "mongodb") runs
#     t/mongo/clients/check.mjs against it, with and without SCRAM, one
#     test a check;
#  2. what an acknowledged write survives: SIGKILL and a restart on the
#     same data directory;
#  3. the client mode the suites use, and its fail points.
use strict;
use warnings;
use Test::More;
use Matcher::Mongo;

my $clients = 't/mongo/clients';

# CI installs the driver (deploy/install-deps.sh): missing is a failure
ok(-d "$clients/node_modules/mongodb", 'the npm mongodb driver is installed')
    or BAIL_OUT("run deploy/install-deps.sh (npm ci in $clients)");

my $plain = start_mongo();
my $auth = start_mongo(user => 'checker', password => 'S3cret-pw');
my $uri = "mongodb://127.0.0.1:$plain->{port}/";
my $auth_uri = "mongodb://checker:S3cret-pw\@127.0.0.1:$auth->{port}/"
               . '?authSource=admin';

open my $fh, '-|', 'node', "$clients/check.mjs", $uri, $auth_uri
    or die "node: $!";
my $n = 0;
while (my $line = <$fh>) {
    chomp $line;
    if ($line =~ /^(not )?ok - (.*)$/) {
        ok(!$1, "driver: $2");
        $n++;
    } else {
        diag($line);
    }
}
close $fh;
is($?, 0, 'check.mjs exits 0');
cmp_ok($n, '>=', 40, "the driver ran every check ($n)");

# an acknowledged write survives SIGKILL
my $r = mongo_command($plain, 'persist',
                      '{"insert": "c", "documents": [{"_id": 1, "v": "kept"}]}');
is($r->{n}, 1, 'an acknowledged insert');
kill 'KILL', $plain->{pid};
waitpid($plain->{pid}, 0);
delete $plain->{pid};
restart_mongo($plain);
$r = mongo_command($plain, 'persist', '{"find": "c", "filter": {"_id": 1}}');
is($r->{cursor}{firstBatch}[0]{v}, 'kept', 'is there after kill -9 and a restart');

# indexes survive too
mongo_command($plain, 'persist', '{"createIndexes": "c", "indexes": '
              . '[{"key": {"v": 1}, "name": "v_unique", "unique": true}]}');
restart_mongo($plain);
$r = mongo_command($plain, 'persist',
                   '{"insert": "c", "documents": [{"_id": 2, "v": "kept"}]}');
is($r->{writeErrors}[0]{code}, 11000, 'a unique index is kept across a restart');

# the client mode authenticates
$r = mongo_command($auth, 'admin', '{"ping": 1}');
is($r->{ok}, 1, 'client mode with SCRAM');
$r = mongo_command({ port => $auth->{port} }, 'x', '{"find": "c"}');
is($r->{code}, 13, 'and without it: 13 Unauthorized');

# the fail point as the suites use it
mongo_failpoint($plain, { configureFailPoint => 'failCommand',
                          mode => { times => 1 },
                          data => { failCommands => ['find'],
                                    errorCode => 91 } });
is(mongo_command($plain, 'persist', '{"find": "c"}')->{code}, 91,
   'failCommand once');
is(mongo_command($plain, 'persist', '{"find": "c"}')->{ok}, 1, 'then not');

my $stats = mongo_stats($plain);
is($stats->{find}{count}, 2, 'fakeStats counts the commands since the start');

stop_mongo($_) for $plain, $auth;

done_testing();
