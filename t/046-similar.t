# Lookalike creators (GET and POST /creators/{uniqueId}/similar) and
# POST /matches' minScore, on the embedded default (local embedder,
# shared vector index, LMDB) with the 17 sample creators loaded at
# start-up.  What two creators share is checked against a computation of
# its own here, from t/data/creators.json, for every result.
use strict;
use warnings;
use Cwd qw(abs_path);
use List::Util qw(all any first);
use Test::More;
use Time::HiRes qw(sleep);
use Matcher::Flow;
use Matcher::Store;

my $creators = abs_path('t/data/creators.json');
my $example = abs_path('t/data/example-assignment.json');

my $http = <<"_EOC_";
    matcher_store lmdb:store size=64m;
    matcher_creators_file $creators;
    matcher_cache_zone matcher:4m;
_EOC_
my $config = <<'_EOC_';
    add_header X-Cache $matcher_cache_status always;
    location /api/creators { matcher_creators; }
    location /api/matches { matcher_matches; }
    location /api/assignments { matcher_assignments; }
_EOC_

my $J = json();

sub post { request(POST => $_[0], $J->encode($_[1])) }
sub slurp { my ($f) = @_; local (@ARGV, $/) = $f; <> }

my $data = $J->decode(slurp($creators));
my %by_id = map { $_->{uniqueId} => $_ }
    (ref $data eq 'HASH' ? values %$data : @$data);
is(scalar keys %by_id, 17, '17 sample creators');

# what a and b share, in a's spelling and order, case aside
sub inter {
    my ($x, $y) = @_;
    my %in = map { lc($_) => 1 } @$y;
    my (%seen, @out);
    for (@$x) {
        push @out, $_ if $in{ lc $_ } && !$seen{ lc $_ }++;
    }
    return \@out;
}

sub expect_shared {
    my ($a, $b) = @_;
    my ($aa, $ba) = ($a->{analysis}, $b->{analysis});
    my $niches = inter([ @{ $aa->{primaryNiches} || [] },
                         @{ $aa->{secondaryNiches} || [] } ],
                       [ @{ $ba->{primaryNiches} || [] },
                         @{ $ba->{secondaryNiches} || [] } ]);
    return {
        niches => $niches,
        region => lc $a->{region} eq lc $b->{region} ? $a->{region} : undef,
        tone => inter($aa->{engagementStyle}{tone} || [],
                      $ba->{engagementStyle}{tone} || []),
        values => inter($aa->{apparentValues} || [],
                        $ba->{apparentValues} || []),
    };
}

start_server(http_config => $http, config => $config, workers => 2);

# the index is built in the background after the start-up load
my $r;
for (1 .. 100) {
    $r = request(GET => '/api/creators/laughingledger/similar?topK=1');
    last if $r->{status} == 200;
    sleep 0.1;
}
is($r->{status}, 200, 'the index is ready after the start-up load');

# GET: topK honoured, the creator itself left out, best first

$r = request(GET => '/api/creators/laughingledger/similar?topK=5');
is($r->{status}, 200, 'GET similar');
is($r->{json}{uniqueId}, 'laughingledger', 'names the creator');
is($r->{json}{count}, 5, 'topK 5: count 5');
is(scalar @{ $r->{json}{results} }, 5, '... 5 results');
ok(!(any { $_->{id} eq 'laughingledger' } @{ $r->{json}{results} }),
   'the creator itself is left out');
my @s = map { $_->{score} } @{ $r->{json}{results} };
is_deeply(\@s, [ sort { $b <=> $a } @s ], 'best first');
ok((all { $_->{id} eq $_->{creatorId} && $_->{id} eq $_->{creator}{uniqueId}
          && exists $_->{metadata}{region} } @{ $r->{json}{results} }),
   'each result carries its id, creator and metadata, as search does');

$r = request(GET => '/api/creators/laughingledger/similar');
is($r->{json}{count}, 10, 'default topK 10');

# every other creator: the shared signals of each, checked here

$r = request(GET => '/api/creators/laughingledger/similar?topK=100');
is($r->{status}, 200, 'topK 100');
is($r->{json}{count}, 16, 'all 16 others, not itself');
is_deeply([ sort map { $_->{id} } @{ $r->{json}{results} } ],
          [ sort grep { $_ ne 'laughingledger' } keys %by_id ],
          '... each once');

for my $x (@{ $r->{json}{results} }) {
    my $want = expect_shared($by_id{laughingledger}, $by_id{ $x->{id} });
    my $got = { map { $_ => $x->{shared}{$_} } qw(niches region tone values) };
    is_deeply($got, $want, "laughingledger and $x->{id}: shared signals");
    like($x->{shared}{summary}, qr/\S/, '... and a summary');
    if (@{ $want->{niches} }) {
        like($x->{shared}{summary},
             qr/both post about \Q${\ lc $want->{niches}[0]}\E/,
             '... that names a shared niche');
    }
}

# one pair by hand: both humour and lifestyle, US, the same three tones,
# both value honesty
my $pd = first { $_->{id} eq 'parentingafterdark' } @{ $r->{json}{results} };
is_deeply($pd->{shared}{niches}, ['Humor', 'Lifestyle'], 'pair: niches');
is($pd->{shared}{region}, 'US', 'pair: region');
is_deeply($pd->{shared}{tone}, ['Informative', 'Relatable', 'Humorous'],
          'pair: tone');
is_deeply($pd->{shared}{values}, ['Honesty'], 'pair: values');
is($pd->{shared}{summary}, 'both post about humor and lifestyle, both US, '
   . 'both informative, relatable and humorous, both value honesty',
   'pair: the human string');
my $gr = first { $_->{id} eq 'greenroutes' } @{ $r->{json}{results} };
is($gr->{shared}{region}, undef, 'a UK creator: region not shared');

# the cache: the same request again is a HIT, with the same answer

my $first = request(GET => '/api/creators/mindsovermoney/similar?topK=4');
is($first->{headers}{'x-cache'}, 'MISS', 'first time: MISS');
my $again = request(GET => '/api/creators/mindsovermoney/similar?topK=4');
is($again->{headers}{'x-cache'}, 'HIT', 'the same again: HIT');
is_deeply($again->{json}, $first->{json}, '... the same answer');
my $other = request(GET => '/api/creators/mindsovermoney/similar?topK=3');
is($other->{headers}{'x-cache'}, 'MISS', 'another topK: MISS');
is($other->{json}{count}, 3, '... and its own count');
is_deeply([ map { $_->{id} } @{ $other->{json}{results} } ],
          [ map { $_->{id} } @{ $first->{json}{results} }[0 .. 2] ],
          '... the first 3 of the 4');

# POST with a filter, the search's language

$r = post('/api/creators/laughingledger/similar',
          { topK => 100, filter => { region => 'US' } });
is($r->{status}, 200, 'POST with a filter');
my @us = grep { $by_id{$_}{region} eq 'US' && $_ ne 'laughingledger' }
    keys %by_id;
is($r->{json}{count}, scalar @us, 'every other US creator');
ok((all { $_->{creator}{region} eq 'US' } @{ $r->{json}{results} }),
   '... and only US ones');

$r = post('/api/creators/laughingledger/similar',
          { filter => { region => { '$in' => ['UK', 'CA'] } } });
is_deeply([ sort map { $_->{id} } @{ $r->{json}{results} } ],
          ['greenroutes', 'homefixhacks'], '$in over regions');

$r = post('/api/creators/laughingledger/similar', { topK => 2 });
is($r->{json}{count}, 2, 'POST without a filter: topK');
my $p1 = post('/api/creators/laughingledger/similar',
              { topK => 2, filter => { region => 'UK' } });
my $p2 = post('/api/creators/laughingledger/similar',
              { topK => 2, filter => { region => 'CA' } });
is_deeply([ map { $_->{id} } @{ $p2->{json}{results} } ], ['homefixhacks'],
          'another filter, not the cached answer of the first');
is($p2->{headers}{'x-cache'}, 'MISS', '... a MISS');

# errors, in the contract's envelope

$r = request(GET => '/api/creators/nobody-here/similar');
is($r->{status}, 404, 'unknown creator: 404');
is($r->{json}{code}, 'not_found', '... not_found');
ok(!$r->{json}{success} && $r->{json}{timestamp}, '... error envelope');
is(post('/api/creators/nobody-here/similar', { topK => 3 })->{status}, 404,
   'unknown creator, POST: 404');

for my $q ('topK=0', 'topK=101', 'topK=10abc', 'topK=') {
    $r = request(GET => "/api/creators/laughingledger/similar?$q");
    is($r->{status}, 400, "$q: 400");
    is($r->{json}{code}, 'validation_failed', '... validation_failed');
}
for my $bad ({ topK => 0 }, { topK => 101 }, { topK => 'x' },
             { topK => 2.5 }, { filter => { colour => 'red' } },
             { filter => { region => { '$regex' => 'U.*' } } }) {
    $r = post('/api/creators/laughingledger/similar', $bad);
    is($r->{status}, 400, 'POST ' . $J->encode($bad) . ': 400');
    is($r->{json}{code}, 'validation_failed', '... validation_failed');
    ok(!$r->{json}{success} && @{ $r->{json}{details} || [] },
       '... with details');
}
is(request(POST => '/api/creators/laughingledger/similar', 'x{')->{status},
   400, 'not JSON: 400');
$r = request(PUT => '/api/creators/laughingledger/similar', '{}');
is($r->{status}, 405, 'PUT: 405');
like($r->{headers}{allow} // '', qr/GET/, '... Allow names GET');
like($r->{headers}{allow} // '', qr/POST/, '... and POST');

# POST /matches: minScore

my $assignment = $J->decode(slurp($example));

$r = post('/api/matches', { assignment => $assignment, topK => 5 });
is($r->{status}, 200, 'matches, no minScore');
my @all = map { $_->{matchScore} } @{ $r->{json}{data}{matches} };
is(scalar @all, 5, '... all 5 kept');
unlike($r->{json}{data}{reasoning}, qr/left out/, '... none left out');

$r = post('/api/matches', { assignment => $assignment, topK => 5,
                            minScore => 0 });
is_deeply([ map { $_->{matchScore} } @{ $r->{json}{data}{matches} } ], \@all,
          'minScore 0: the same');

# a threshold between the scores: those below it go, and are counted
# between two scores, in 6 digits: the double the client means is the
# one the server parses (a score re-encoded in 15 digits may round up)
my ($gap) = grep { $all[$_ - 1] - $all[$_] > 1e-5 } 1 .. $#all;
ok($gap, 'two scores apart, for a threshold between them');
$gap //= 1;
my $cut = sprintf('%.6f', ($all[$gap - 1] + $all[$gap]) / 2) + 0;
my $kept = grep { $_ >= $cut } @all;
$r = post('/api/matches', { assignment => $assignment, topK => 5,
                            minScore => $cut });
is($r->{status}, 200, "minScore $cut");
is(scalar @{ $r->{json}{data}{matches} }, $kept, "... keeps $kept");
ok((all { $_->{matchScore} >= $cut } @{ $r->{json}{data}{matches} }),
   '... all at or above it');
my $dropped = 5 - $kept;
ok($dropped > 0, "... $dropped of them below it");
like($r->{json}{data}{reasoning},
     qr/\b$dropped weaker match(es)? \(below minScore \Q$cut\E\) left out/,
     "... the reasoning says $dropped left out")
    if $dropped;

$r = post('/api/matches', { assignment => $assignment, topK => 5,
                            minScore => 0.99 });
is($r->{status}, 200, 'minScore 0.99');
my $left = grep { $_ >= 0.99 } @all;
is(scalar @{ $r->{json}{data}{matches} }, $left, "... keeps $left");
my $gone = 5 - $left;
like($r->{json}{data}{reasoning},
     qr/\b$gone weaker match(es)? \(below minScore 0\.99\) left out/,
     "... the reasoning says $gone left out");

# the cache keys on minScore: a reply for 0.99 is not one for 0
$r = post('/api/matches', { assignment => $assignment, topK => 5 });
is(scalar @{ $r->{json}{data}{matches} }, 5, 'no minScore after 0.99: 5');
is($r->{headers}{'x-cache'}, 'HIT', '... from its own cache entry');
$r = post('/api/matches', { assignment => $assignment, topK => 5,
                            minScore => 0.99 });
is($r->{headers}{'x-cache'}, 'HIT', 'minScore 0.99 again: HIT');
is(scalar @{ $r->{json}{data}{matches} }, $left, '... still ' . $left);

for my $bad ('x', 2, -0.1, 1.5, undef, [0.5], '0.5') {
    $r = post('/api/matches', { assignment => $assignment,
                                minScore => $bad });
    my $name = 'minScore ' . $J->encode([$bad]);
    is($r->{status}, 400, "$name: 400");
    is($r->{json}{code}, 'validation_failed', '... validation_failed');
    ok(!$r->{json}{success} && $r->{json}{timestamp}, '... error envelope');
    is($r->{json}{details}[0]{field}, 'minScore', '... names minScore');
}
$r = post('/api/matches', { assignment => $assignment, minScore => 1 });
is($r->{status}, 200, 'minScore 1: allowed');

# saved to an assignment: what minScore kept, no more
$r = post('/api/assignments', $assignment);
is($r->{status}, 201, 'an assignment to save to');
my $aid = $r->{json}{data}{id};
$r = post('/api/matches', { assignmentId => $aid, topK => 5,
                            minScore => $cut });
is($r->{status}, 200, 'matches by assignmentId with minScore');
is(scalar @{ $r->{json}{data}{matches} }, $kept, "... keeps $kept");
$r = request(GET => "/api/assignments/$aid");
is(scalar @{ $r->{json}{data}{matchResults} }, $kept,
   "... and $kept are saved");

stop_server();
done_testing();
