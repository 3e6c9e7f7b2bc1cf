# /health reports the store: up with its backend, or down (503,
# "unhealthy") when the store cannot be opened.  Needs a prepared
# prefix before nginx starts, hence a flow test.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(sleep);
use Matcher::Flow;

my $config = <<'_EOC_';
    location = /health { matcher_health; }
    location /api/assignments { matcher_assignments; }
_EOC_

start_server(http_config => "    matcher_store lmdb:store size=8m;\n",
             config => $config);

# "degraded" until the start-up sync has made the (empty) index: a moment,
# or seconds under valgrind
my $r;
for (1 .. ($Test::Nginx::Socket::UseValgrind ? 600 : 100)) {
    $r = request(GET => '/health');
    last if ($r->{json}{status} // '') ne 'degraded';
    sleep 0.1;
}
is($r->{status}, 200, 'healthy with a store');
is($r->{json}{status}, 'healthy', 'status healthy');
is($r->{json}{checks}{store}{status}, 'up', 'store up');
is($r->{json}{checks}{store}{detail}, 'lmdb', 'names the backend');
stop_server();

# data.mdb is a directory: LMDB cannot open the environment
start_server(http_config => "    matcher_store lmdb:broken size=8m;\n",
             config => $config,
             before_start => sub { mkdir "$_[0]/broken"; mkdir "$_[0]/broken/data.mdb" });
$r = request(GET => '/health');
is($r->{status}, 503, '503 when the store cannot be opened');
is($r->{json}{status}, 'unhealthy', 'status unhealthy');
is($r->{json}{checks}{store}{status}, 'down', 'store down');

$r = request(POST => '/api/assignments',
             { topic => 't', keyTakeaway => 'k', additionalContext => 'c' });
is($r->{status}, 503, 'writes are 503 too');
is($r->{json}{code}, 'unavailable', 'code unavailable');
is($r->{json}{error}, 'the store is unavailable', 'and says why');

open my $fh, '<', "$Test::Nginx::Socket::ServRoot/logs/error.log" or die $!;
ok((grep { /\[crit\] .*matcher: cannot open store ".*broken": mdb_env_open: Is a directory/ } <$fh>),
   'the error log says which store and why');
stop_server();

done_testing();
