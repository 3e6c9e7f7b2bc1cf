# Assignment flows that chain replies: create, read, patch with and
# without If-Match, two PATCHes racing on one version, retention, and the
# data surviving a restart and a reload.
use strict;
use warnings;
use Test::More;
use Matcher::Flow;
use Matcher::Store;

my $http = <<'_EOC_';
    matcher_store lmdb:store size=16m;
_EOC_
my $config = <<'_EOC_';
    location /api/assignments { matcher_assignments; }
_EOC_

start_server(http_config => $http, config => $config, workers => 2);

my $brief = { topic => 'Budget apps', keyTakeaway => 'Track spending',
              additionalContext => 'Everyday money', userId => 'flow-user' };

my $r = request(POST => '/api/assignments', $brief);
is($r->{status}, 201, 'created');
my $id = $r->{json}{data}{id};
like($id, qr/^[0-9a-f]{24}$/, 'an ObjectId');
is($r->{headers}{location}, "/api/assignments/$id", 'Location names it');

# every worker sees the write at once: many fresh connections
my $seen = 0;
for (1 .. 20) {
    $seen++ if request(GET => "/api/assignments/$id")->{status} == 200;
}
is($seen, 20, 'every connection (either worker) reads the new assignment');

$r = request(GET => '/api/assignments/' . uc $id);
is($r->{status}, 200, 'ids match case-insensitively');
is_deeply($r->{json}{data}, request(GET => "/api/assignments/$id")->{json}{data},
          'the same document');

my $matches = { matchResults => [
    { creatorId => 'mindsovermoney', matchScore => 0.91,
      reasoning => 'Explains money decisions', unknownExtra => 'kept' } ] };

$r = request(PATCH => "/api/assignments/$id/matches", $matches,
             'If-Match' => '"1"');
is($r->{status}, 200, 'PATCH with the current version');
is($r->{json}{data}{version}, 2, 'version bumped');
is($r->{json}{data}{status}, 'completed', 'status completed');
is($r->{json}{data}{matchResults}[0]{creatorId}, 'mindsovermoney', 'results set');
is($r->{json}{data}{createdAt}, request(GET => "/api/assignments/$id")->{json}{data}{createdAt},
   'createdAt kept');

$r = request(PATCH => "/api/assignments/$id/matches", $matches,
             'If-Match' => '"1"');
is($r->{status}, 412, 'a stale If-Match is 412');
is(request(GET => "/api/assignments/$id")->{json}{data}{version}, 2,
   'and nothing changed');

# two PATCHes with the same If-Match at once: exactly one wins
for my $round (1 .. 5) {
    my $v = request(GET => "/api/assignments/$id")->{json}{data}{version};
    my @socks = map { send_raw(PATCH => "/api/assignments/$id/matches", $matches,
                               'If-Match' => "\"$v\"") } 1 .. 2;
    my @codes = sort map { read_raw($_)->{status} } @socks;
    is_deeply(\@codes, [200, 412], "round $round: one 200, one 412");
    is(request(GET => "/api/assignments/$id")->{json}{data}{version}, $v + 1,
       "round $round: one version step");
}

# without If-Match concurrent PATCHes all apply, one after another
my $v = request(GET => "/api/assignments/$id")->{json}{data}{version};
my @socks = map { send_raw(PATCH => "/api/assignments/$id/matches", $matches) } 1 .. 6;
my @codes = map { read_raw($_)->{status} } @socks;
is_deeply(\@codes, [(200) x 6], 'six unpinned PATCHes succeed');
is(request(GET => "/api/assignments/$id")->{json}{data}{version}, $v + 6,
   'each one bumped the version');

# the data survives a reload and a restart.  Valgrind mode runs nginx
# without a master process, where nginx cannot reload a configuration
# with thread pools (it never starts the new pools), so no reload there.
SKIP: {
    skip 'no reload without a master process (valgrind mode)', 1
        if $ENV{TEST_NGINX_USE_VALGRIND};
    reload_server();
    is(request(GET => "/api/assignments/$id")->{status}, 200, 'after a reload');
}
stop_server();
start_server();
$r = request(GET => "/api/assignments/$id");
is($r->{status}, 200, 'after a restart');
is($r->{json}{data}{topic}, 'Budget apps', 'same document');

$r = request(GET => '/api/assignments/history/flow-user');
is($r->{json}{pagination}{total}, 1, 'history counts it');
stop_server();

# retention: a 1s ttl purges it in the background
start_server(http_config => $http . "    matcher_assignment_ttl 1s;\n",
             config => $config);
my $gone = 0;
for (1 .. 60) {
    if (request(GET => "/api/assignments/$id")->{status} == 404) {
        $gone = 1;
        last;
    }
    select(undef, undef, undef, 0.1);
}
ok($gone, 'an assignment older than matcher_assignment_ttl is purged');
is(request(GET => '/api/assignments/history/flow-user')->{json}{pagination}{total},
   0, 'and gone from the history');
stop_server();

done_testing();
