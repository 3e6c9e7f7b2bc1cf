# The graph search through nginx: an index built with graph_m, searched
# by walks of width ef, the same hits as the exact search for a query
# that names a creator's own words, and a graph_m changed in the
# configuration taking effect at the next start (a rebuild), the index
# serving meanwhile.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(sleep time);
use Matcher::Flow;
use Matcher::Store;

my $N = 3000;
my $J = JSON::PP->new->utf8->canonical;

my $config = <<'_EOC_';
    location /api/creators { matcher_creators; }
    location /api/health { matcher_health; }
_EOC_

sub http { <<"_EOC_" }
    matcher_store lmdb:store size=256m;
    matcher_vectors local search=$_[0] graph_m=$_[1] ef=256;
_EOC_

sub detail {
    request(GET => '/api/health')->{json}{checks}{vectors}{detail} // '';
}

# the detail once it matches re, within 60 s
sub wait_detail {
    my ($re) = @_;
    my $d = '';
    for (1 .. 600) {
        $d = detail();
        return $d if $d =~ $re;
        sleep 0.1;
    }
    return $d;
}

sub search {
    my ($q) = @_;
    my $r = request(POST => '/api/creators/search',
                    { query => $q, topK => 10 });
    is($r->{status}, 200, "search \"$q\": 200");
    return [ map { $_->{score} } @{ $r->{json}{results} // [] } ];
}

start_server(http_config => http('graph', 16), config => $config,
             workers => 2);

my $body = join '', map {
    $J->encode(synthetic_creator('Graph', $_,
                                 'Videos about %s, episode %d.')) . "\n"
} 0 .. $N - 1;
my $r = request(POST => '/api/creators/ingest', $body,
                'Content-Type' => 'application/x-ndjson');
is($r->{json}{inserted}, $N, "$N creators ingested");

like(wait_detail(qr/\b$N creators.*graph M 16, ef 256/),
     qr/\b$N creators, .*graph search, .*graph M 16, ef 256/,
     'the index follows the ingest, with a graph of M 16');

my @queries = ('gardening tips for small balconies',
               'budget travel with kids', 'home workouts without gear');
my %graph = map { $_ => search($_) } @queries;
ok(@{ $graph{$_} } == 10, "graph: 10 hits for \"$_\"") for @queries;
stop_server();

# the same store, exact search: the graph found nearly as good a top 10,
# its hits scoring at least the exact tenth (the scores are compared, not
# the ids: made-up bios tie).  These bios are a hard case for a graph:
# a niche word shared by hundreds and a number each, so that within a
# niche the records are as far from each other as random vectors; a
# walk needs a width of hundreds (ef=256) where real bios need 64.
start_server(http_config => http('exact', 16), config => $config,
             workers => 1);
like(wait_detail(qr/\b$N creators/), qr/exact search/, 'exact search');
for my $q (@queries) {
    my $exact = search($q);
    my $same = grep { $_ >= $exact->[9] - 1e-4 } @{ $graph{$q} };
    cmp_ok($same, '>=', 8, "\"$q\": the graph's top 10 are among the "
                           . "exact ones ($same of 10)");
    ok(abs($graph{$q}[0] - $exact->[0]) < 1e-4, "\"$q\": the same best");
}
stop_server();

# graph_m 24 in the configuration: a start rebuilds the index with it
my $t = time;
start_server(http_config => http('graph', 24), config => $config,
             workers => 1);
like(wait_detail(qr/graph M 24/), qr/\b$N creators, .*graph M 24/,
     'graph_m changed: the index is rebuilt with it');
diag(sprintf 'rebuild of %d creators for graph_m 24: %.2f s', $N,
             time - $t);
is(scalar @{ search($queries[0]) }, 10, 'the rebuilt graph serves');
stop_server();

# a full file: 800 creators in a capacity of 1,000, then all 800 updated
# (an update appends): the sync that finds it full rebuilds
sub rebuilds {
    open my $fh, '<', $Test::Nginx::Socket::ErrLogFile or return 0;
    return scalar grep { /vector index rebuilt/ } <$fh>;
}

start_server(http_config => <<'_EOC_', config => $config, workers => 1);
    matcher_store lmdb:small size=64m;
    matcher_vectors local search=graph capacity=1000;
_EOC_
my $before;
for my $bio ('Videos about %s, episode %d.', 'Changed %s notes, part %d.') {
    $before = rebuilds();
    my $b = join '', map {
        $J->encode(synthetic_creator('Full', $_, $bio)) . "\n"
    } 0 .. 799;
    $r = request(POST => '/api/creators/ingest', $b,
                 'Content-Type' => 'application/x-ndjson');
    is($r->{status}, 200, 'ingest of 800 into a capacity of 1,000');
    like(wait_detail(qr/\b800 creators/), qr/\b800 creators/,
         '... all in the index');
}
for (1 .. 300) {
    last if rebuilds() > $before;
    sleep 0.1;
}
cmp_ok(rebuilds(), '>', $before,
       'the updates found the index full: it was rebuilt');
open my $fh, '<', $Test::Nginx::Socket::ErrLogFile;
unlike(join('', <$fh>), qr/index full/, '... and no update was lost');
stop_server();

done_testing();
