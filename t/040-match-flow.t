# Search, embeddings, refresh jobs and matching on the embedded default
# (local embedder, shared vector index, LMDB), with the 17 sample
# creators loaded at start-up.  The quality checks: the example
# assignment's top 3, four briefs of our own, each with one obvious best
# creator that the brief never names, and the graded benchmark
# (bench/quality) against floors a little under what the ranking reaches.
use strict;
use warnings;
use Cwd qw(abs_path);
use File::Temp qw(tempdir);
use List::Util qw(all);
use Test::More;
use Time::HiRes qw(sleep time);
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
    location /api/assignments { matcher_assignments; }
    location /api/matches { matcher_matches; }
_EOC_

my $J = json();

sub post { request(POST => $_[0], $J->encode($_[1])) }

start_server(http_config => $http, config => $config, workers => 2);

# the index is built in the background after the start-up load
my $r;
for (1 .. 100) {
    $r = post('/api/creators/search', { query => 'money', topK => 1 });
    last if $r->{status} == 200;
    sleep 0.1;
}
is($r->{status}, 200, 'the index is ready after the start-up load');

# Search

$r = post('/api/creators/search',
          { query => 'budgeting and saving money on groceries', topK => 5 });
is($r->{status}, 200, 'search');
is($r->{json}{count}, 5, 'topK results');
is($r->{json}{query}, 'budgeting and saving money on groceries', 'query');
my @s = map { $_->{score} } @{ $r->{json}{results} };
is_deeply(\@s, [sort { $b <=> $a } @s], 'best first');
ok((all { $_->{id} eq $_->{creator}{uniqueId} } @{ $r->{json}{results} }),
   'each result carries its creator');
ok(exists $r->{json}{results}[0]{metadata}{primaryNiches}, 'metadata');

sub ids {
    my ($filter, $q) = @_;
    my $r = post('/api/creators/search',
                 { query => $q // 'videos', topK => 100, filter => $filter });
    return $r->{status} unless $r->{status} == 200;
    return [ sort map { $_->{id} } @{ $r->{json}{results} } ];
}

is_deeply(ids({ region => 'UK' }), ['greenroutes'], 'bare value: $eq');
is_deeply(ids({ region => { '$in' => ['EU', 'CA'] } }),
          ['homefixhacks', 'travelbytram'], '$in');
is(scalar @{ ids({ region => { '$ne' => 'US' } }) }, 3, '$ne');
is_deeply(ids({ primaryNiches => 'Gaming' }), ['pixelsandpatches'],
          'a list field matches when one element does');
is_deeply(ids({ '$and' => [ { secondaryNiches => 'Personal Finance' },
                            { apparentValues => { '$in' => ['Honesty'] } } ] }),
          ['laughingledger'], '$and over list fields');
is_deeply(ids({ '$or' => [ { region => 'UK' }, { region => 'EU' } ] }),
          ['greenroutes', 'travelbytram'], '$or');
is_deeply(ids({ primaryNiches => { '$nin' => ['Gaming', 'Humor'] },
                region => { '$in' => ['UK', 'CA'] } }),
          ['greenroutes', 'homefixhacks'], '$nin and an implicit $and');
is_deeply(ids({ region => 'Mars' }), [], 'nothing matches: no results');
my $big = ids({ followerCount => { '$gte' => 0 } });
is(scalar @$big, 17, '$gte over every creator');
is_deeply(ids({ verified => { '$exists' => 1 }, region => 'UK' }),
          ids({ region => 'UK', verified => { '$exists' => 1 } }),
          'field order does not matter');

for my $bad ({ colour => 'red' }, { region => { '$regex' => 'U.*' } },
             { followerCount => { '$gt' => 'many' } },
             { region => { '$in' => [] } }, { '$and' => {} }, [1]) {
    $r = post('/api/creators/search',
              { query => 'x', filter => $bad });
    is($r->{status}, 400, 'bad filter ' . $J->encode($bad) . ': 400');
    is($r->{json}{code}, 'validation_failed', '... validation_failed');
    like($r->{json}{details}[0]{field} // '', qr/^filter/, '... at filter');
}

$r = post('/api/creators/search', { query => 'x', filter => { region =>
          { '$in' => [ map { "R$_" } 1 .. 1001 ] } } });
is($r->{status}, 400, '1001 $in values: 400');

$r = post('/api/creators/search', { query => '', topK => 0 });
is($r->{status}, 400, 'empty query, topK 0: 400');
is(scalar @{ $r->{json}{details} }, 2, 'both fields reported');

# Embeddings

$r = post('/api/creators/embeddings',
          { texts => ['shrinkflation at the grocery store', 'gaming',
                      'shrinkflation at the grocery store'] });
is($r->{status}, 200, 'embeddings of texts');
is($r->{json}{count}, 3, 'count');
is($r->{json}{model}, 'local-tfidf-v1', 'model');
my $dims = $r->{json}{dimensions};
is($dims, 512, 'default dimensions');
is(scalar @{ $r->{json}{embeddings}[0] }, $dims, 'a vector of dims floats');
my $norm = 0;
$norm += $_ * $_ for @{ $r->{json}{embeddings}[0] };
ok(abs(sqrt($norm) - 1) < 1e-4, 'unit length');
is_deeply($r->{json}{embeddings}[0], $r->{json}{embeddings}[2],
          'the same text, the same vector');

# a big batch is embedded on the thread pool: the same vectors
my @many = map { "text number $_ about budgets" } 1 .. 40;
my $batch = post('/api/creators/embeddings',
                 { texts => [ @many, 'shrinkflation at the grocery store' ] });
is($batch->{status}, 200, 'a batch of 41 texts');
is($batch->{json}{count}, 41, '... count');
is(scalar @{ $batch->{json}{embeddings} }, 41, '... 41 vectors');
is_deeply($batch->{json}{embeddings}[40], $r->{json}{embeddings}[0],
          '... the same vector as on the loop');

$r = post('/api/creators/embeddings',
          { creatorIds => ['mindsovermoney', 'nobody-here'] });
is($r->{status}, 200, 'embeddings of creators');
is($r->{json}{count}, 1, 'one embedded');
is_deeply($r->{json}{creatorIds}, ['mindsovermoney'], 'which one');
is($r->{json}{failed}[0]{creatorId}, 'nobody-here', 'the unknown one');

$r = request(GET => '/api/creators/mindsovermoney');
is($r->{json}{creator}{embedding}{status}, 'ready', 'stored status ready');
is($r->{json}{creator}{embedding}{dimensions}, 512, 'stored dimensions');

for my $bad ({}, { texts => [] }, { texts => ['a', 5] },
             { texts => ['a'], creatorIds => ['b'] },
             { creatorIds => [ map { "c$_" } 1 .. 1001 ] }) {
    $r = post('/api/creators/embeddings', $bad);
    is($r->{status}, 400, 'embeddings ' . substr($J->encode($bad), 0, 40)
                          . ': 400');
}

# Refresh jobs

$r = post('/api/creators/embeddings/refresh',
          { batchSize => 5, forceRefresh => JSON::PP::true });
is($r->{status}, 202, 'refresh: 202');
is($r->{json}{job}{status}, 'running', 'running');
my $job = $r->{json}{job}{id};
like($job, qr/^[0-9a-f]{24}$/, 'a job id');

my $j;
for (1 .. 100) {
    $j = request(GET => "/api/creators/embeddings/refresh/$job")->{json}{job};
    last if $j->{status} ne 'running';
    sleep 0.1;
}
is($j->{status}, 'completed', 'the job completes');
is($j->{summary}{totalCreators}, 17, 'summary: every creator');
is($j->{summary}{processed}, 17, 'summary: processed');
is($j->{summary}{errors}, 0, 'summary: no errors');
is($j->{summary}{batchSize}, 5, 'summary: batchSize');

$r = post('/api/creators/embeddings/refresh', {});
is($r->{status}, 202, 'refresh without force');
$job = $r->{json}{job}{id};
for (1 .. 100) {
    $j = request(GET => "/api/creators/embeddings/refresh/$job")->{json}{job};
    last if $j->{status} ne 'running';
    sleep 0.1;
}
is($j->{processed}, 0, 'nothing to do: every embedding is ready');

is(request(GET => '/api/creators/embeddings/refresh/' . ('0' x 24))
   ->{status}, 404, 'unknown job: 404');
is(post('/api/creators/embeddings/refresh', { batchSize => 0 })->{status},
   400, 'batchSize 0: 400');

# Matching: the example assignment

my $example_json = do { local (@ARGV, $/) = $example; <> };
my $assignment = $J->decode($example_json);

$r = post('/api/matches', { assignment => $assignment });
is($r->{status}, 200, 'POST /matches');
ok($r->{json}{success}, 'success envelope');
my $m = $r->{json}{data}{matches};
is(scalar @$m, 3, 'default topK 3');
my %fits = map { $_ => 1 }
    qw(mindsovermoney civicbriefs laughingledger marketdecoded);
for my $i (0 .. 2) {
    ok($fits{ $m->[$i]{creatorId} },
       "example top $i: $m->[$i]{creatorId} is about money, consumer "
       . 'psychology or rights, or lifestyle and money');
}
ok(!$r->{json}{data}{isFallback}, 'not a fallback');
like($r->{json}{data}{reasoning}, qr/\S/, 'overall reasoning');

my @scores = map { $_->{matchScore} } @$m;
is_deeply(\@scores, [sort { $b <=> $a } @scores], 'best first');
for my $x (@$m) {
    my $b = $x->{scoreBreakdown};
    ok((all { defined $b->{$_} && $b->{$_} >= 0 && $b->{$_} <= 1 }
        qw(semanticSimilarity nicheAlignment audienceMatch valueAlignment
           engagementFit)), "$x->{creatorId}: breakdown in [0,1]");
    ok($x->{matchScore} >= 0 && $x->{matchScore} <= 1, 'score in [0,1]');
    like($x->{reasoning}, qr/\Q$x->{creator}{nickname}\E|\w/, 'reasoning');
    isnt($x->{framingSuggestion}, $m->[0]{framingSuggestion},
         "$x->{creatorId}: its own framing")
        unless $x == $m->[0];
}
is($r->{headers}{'x-cache'}, 'MISS', 'first time: MISS');

my $again = post('/api/matches', { assignment => $assignment });
is($again->{headers}{'x-cache'}, 'HIT', 'the same brief again: HIT');
is_deeply($again->{json}{data}, $r->{json}{data}, 'the same answer');

# Four briefs of our own, each with one obvious best creator

my @briefs = (
    [ 'homefixhacks', {
        topic => 'Fixing a leaky faucet and patching drywall yourself',
        keyTakeaway => 'Small repairs at home are doable with a few basic '
                       . 'tools and a weekend afternoon.',
        additionalContext => 'Show a renovation on a budget: which tools '
                       . 'to buy, how to avoid common mistakes.',
        creatorNiches => ['Home Improvement', 'DIY'],
        targetAudience => { demographic => 'first-time homeowners',
                            locale => 'CA' } } ],
    [ 'pixelsandpatches', {
        topic => 'Launch of an indie roguelike on PC and consoles',
        keyTakeaway => 'This indie game rewards curiosity: every run '
                       . 'reveals something new.',
        additionalContext => 'Stream the first hour and review the game '
                       . 'honestly for players.',
        creatorNiches => ['Gaming', 'Indie Games'],
        toneStyle => 'playful' } ],
    [ 'climatebytes', {
        topic => 'Heat pumps and the energy transition',
        keyTakeaway => 'Switching home heating to heat pumps cuts '
                       . 'emissions and is backed by new policy incentives.',
        additionalContext => 'Explain the climate impact and the policy '
                       . 'behind the rebates.',
        creatorNiches => ['Climate Education', 'Energy Transition'],
        creatorValues => ['Hope', 'Accountability'] } ],
    [ 'travelbytram', {
        topic => 'Exploring European cities by tram on a budget',
        keyTakeaway => 'Public transit passes make city trips in Europe '
                       . 'cheap and easy.',
        additionalContext => 'Show a day of urban exploration with photos '
                       . 'from the tram window.',
        creatorNiches => ['Budget Travel', 'Urban Exploration'],
        targetAudience => { demographic => 'young travellers',
                            locale => 'EU' } } ],
);

for my $b (@briefs) {
    my ($want, $brief) = @$b;
    my $text = lc $J->encode($brief);
    unlike($text, qr/\Q$want\E/, "brief for $want does not name it");
    $r = post('/api/matches', { assignment => $brief, topK => 5 });
    is($r->{status}, 200, "brief '$brief->{topic}': 200");
    is($r->{json}{data}{matches}[0]{creatorId}, $want,
       "brief '$brief->{topic}': $want first");
    unlike($text, qr/\Q$r->{json}{data}{matches}[0]{creator}{nickname}\E/i,
           '... and the brief does not name its nickname');
}

# The graded benchmark (bench/quality/README.md): its 55 briefs as written
# and bare, each ranking all 17 creators, scored against grades.json.
# The floors sit a little under the totals the ranking reaches (the
# README's "Matching" gives them), so that a change that makes matching
# worse fails here.  Before the ingest below, which changes a creator.

my %floor = (
    'as written' => { ndcg => 0.95, p1 => 36, bad => 50, calib => 6 },
    'bare'       => { ndcg => 0.93, p1 => 36, bad => 53, calib => 6 },
    'everyday'   => { ndcg => 0.90, p1 => 11, bad => 13 },
);

SKIP: {
    skip 'no /usr/bin/python3 for bench/quality/quality.py', 4 * 3 - 1
        unless -x '/usr/bin/python3';
    my $dir = tempdir(CLEANUP => 1);
    my $base = "http://127.0.0.1:$Test::Nginx::Socket::ServerPort";
    my $rc = system('/usr/bin/python3', 'bench/quality/quality.py',
                    '--base', $base, '--creators', $creators,
                    '--quiet', '--results', "$dir/RESULTS.md",
                    '--totals', "$dir/totals.json") >> 8;
    my $t = $rc == 0 ? $J->decode(do { local (@ARGV, $/) = "$dir/totals.json";
                                       <> })
                     : {};
    for my $set ('as written', 'bare', 'everyday') {
        my ($f, $got) = ($floor{$set}, $t->{$set}{all} // {});
        cmp_ok($got->{ndcg} // 0, '>=', $f->{ndcg},
               "quality, $set: nDCG\@3 at least $f->{ndcg}");
        cmp_ok($got->{p1} // 0, '>=', $f->{p1},
               "quality, $set: P\@1 at least $f->{p1}/$got->{fit}");
        cmp_ok($got->{bad} // 1e9, '<=', $f->{bad},
               "quality, $set: bad\@3 at most $f->{bad}");
        next unless defined $f->{calib};
        cmp_ok($got->{calib_pass} // 0, '>=', $f->{calib},
               "quality, $set: calibration on $f->{calib} no-fit briefs");
    }
}

# Matching saved to an assignment

$r = post('/api/assignments', $assignment);
is($r->{status}, 201, 'an assignment');
my $aid = $r->{json}{data}{id};

$r = post('/api/matches', { assignmentId => $aid, topK => 4 });
is($r->{status}, 200, 'matches by assignmentId');
is($r->{json}{data}{assignmentId}, $aid, 'assignmentId in the reply');
is(scalar @{ $r->{json}{data}{matches} }, 4, 'topK 4');

$r = request(GET => "/api/assignments/$aid");
is($r->{json}{data}{status}, 'completed', 'saved: completed');
is(scalar @{ $r->{json}{data}{matchResults} }, 4, 'saved: 4 results');
is($r->{json}{data}{version}, 2, 'saved: version bumped');

is(post('/api/matches', { assignmentId => 'f' x 24 })->{status}, 404,
   'unknown assignmentId: 404');
is(post('/api/matches', { assignmentId => 'xyz' })->{status}, 400,
   'bad assignmentId: 400');
$r = post('/api/matches', { assignment => { topic => 'only a topic' } });
is($r->{status}, 400, 'incomplete assignment: 400');
like($r->{json}{details}[0]{field}, qr/^assignment\./,
     'fields below assignment');
is(post('/api/matches', { assignment => $assignment, topK => 51 })
   ->{status}, 400, 'topK 51: 400');
is(post('/api/matches', {})->{status}, 400, 'nothing to match: 400');
is(request(GET => '/api/assignments/not-an-id')->{status}, 400,
   'a bad id in the path: 400, one reply (the log check says)');

# Framing

$r = post('/api/matches/framing',
          { assignment => $assignment, creatorId => 'laughingledger' });
is($r->{status}, 200, 'framing');
ok(length($r->{json}{data}{framing}) > 40, 'a framing text');
is($r->{json}{data}{creator}{uniqueId}, 'laughingledger', 'its creator');
is(post('/api/matches/framing', { assignment => $assignment,
                                  creatorId => 'nobody' })->{status}, 404,
   'framing for an unknown creator: 404');

# An ingest changes the index generation: the cached answer goes

my $c = request(GET => '/api/creators/mindsovermoney')->{json}{creator};
delete @$c{qw(createdAt updatedAt embedding)};
$c->{bio} .= ' Now also covering grocery prices.';
$r = post('/api/creators/ingest', { creators => [$c] });
is($r->{json}{updated}, 1, 'a changed creator');
my $after;
for (1 .. 50) {
    $after = post('/api/matches', { assignment => $assignment });
    last if $after->{headers}{'x-cache'} ne 'HIT';
    sleep 0.1;
}
is($after->{headers}{'x-cache'}, 'MISS', 'after the ingest: MISS');

# The cache zone and the jobs survive a reload; the index survives a
# restart (and needs no rebuild: the log says "updated", not "rebuilt")

SKIP: {
    skip 'no reload without a master process (valgrind mode)', 3
        if $ENV{TEST_NGINX_USE_VALGRIND};
    reload_server();
    $r = post('/api/matches', { assignment => $assignment });
    is($r->{headers}{'x-cache'}, 'HIT', 'after a reload: still a HIT');
    is_deeply($r->{json}{data}, $after->{json}{data}, '... the same answer');
    $j = request(GET => "/api/creators/embeddings/refresh/$job")
         ->{json}{job};
    is($j->{status}, 'completed', 'a job is still known after a reload');
}

stop_server();
start_server();
$r = post('/api/creators/search', { query => 'indie games', topK => 1 });
is($r->{status}, 200, 'after a restart: the index is there at once');
is($r->{json}{results}[0]{id}, 'pixelsandpatches', '... with its vectors');
$r = post('/api/matches', { assignment => $assignment });
is($r->{headers}{'x-cache'}, 'MISS', 'a restart empties the cache');
is_deeply([ map { $_->{creatorId} } @{ $r->{json}{data}{matches} } ],
          [ map { $_->{creatorId} } @{ $after->{json}{data}{matches} } ],
          '... and gives the same ranking');

stop_server();
done_testing();
