# Every endpoint of the contract with the remote configuration (OpenAI
# embeddings, a Pinecone index, documents in LMDB) against the test
# servers of t/remote/: the same answers as on the embedded default,
# vectors from the remotes.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(sleep);
use Matcher::Flow;
use Matcher::Remote;

my $J = json();
my ($okey, $pkey) = ('sk-contract-0123456789abcdefghijkl', 'pc-contract-0123456789');
start_remote(openai_key => $okey, pinecone_key => $pkey);
my ($http, $config) = remote_matcher_conf(openai_key => $okey,
                                          pinecone_key => $pkey);
start_server(http_config => $http, config => $config, workers => 1);

sub post { request(POST => $_[0], $J->encode($_[1])) }

for (1 .. 100) {
    last if (remote_stats()->{vectors}{creators} // 0) == 17;
    sleep 0.1;
}
is(remote_stats()->{vectors}{creators}, 17, 'the creators are in Pinecone');

# GET /health
my $r = request(GET => '/api/health');
is($r->{status}, 200, 'health');
is($r->{json}{status}, 'healthy', 'healthy');

# GET /creators, GET /creators/{id}
$r = request(GET => '/api/creators?limit=5&region=US');
is($r->{status}, 200, 'GET /creators');
ok(@{ $r->{json}{creators} // [] } >= 1, 'a page of creators');
$r = request(GET => '/api/creators/mindsovermoney');
is($r->{status}, 200, 'GET /creators/{id}');
is($r->{json}{creator}{embedding}{model}, 'text-embedding-ada-002',
   'embedded by the remote model');
is($r->{json}{creator}{embedding}{dimensions}, 1536, 'its dimensions');
is($r->{json}{creator}{embedding}{status}, 'ready', 'ready');

# POST /creators/embeddings {"texts"}: from OpenAI, then from the zone
remote_reset();
$r = post('/api/creators/embeddings', { texts => ['one text', 'two texts'] });
is($r->{status}, 200, 'embeddings of texts');
is($r->{json}{count}, 2, 'two');
is($r->{json}{dimensions}, 1536, '1536 dimensions');
is(scalar @{ $r->{json}{embeddings}[0] }, 1536, 'a vector of 1536');
is($r->{json}{model}, 'text-embedding-ada-002', 'the model');
$r = post('/api/creators/embeddings', { texts => ['two texts', 'three'] });
is(remote_stats()->{embedding_inputs}, 3, 'a text already embedded is not sent');
$r = post('/api/creators/embeddings', { texts => [ ('x') x 33 ] });
is($r->{status}, 400, 'over 32 texts with a remote embedder: 400');

# POST /creators/embeddings {"creatorIds"}: embedded and upserted now
remote_reset();
$r = post('/api/creators/embeddings',
          { creatorIds => ['greenroutes', 'nobody-here'] });
is($r->{status}, 200, 'embeddings of creators') or diag explain $r;
is_deeply($r->{json}{creatorIds}, ['greenroutes'], 'the one found');
is(remote_last('/vectors/upsert')->{body}{vectors}[0]{id}, 'greenroutes',
   'upserted into Pinecone');

# POST /creators/search with a filter
$r = post('/api/creators/search',
          { query => 'climate and cities', topK => 3,
            filter => { region => { '$eq' => 'US' } } });
is($r->{status}, 200, 'search');
ok(!(grep { $_->{creator}{region} ne 'US' } @{ $r->{json}{results} }),
   'the filter applied (by Pinecone)');

# assignments: POST, GET, history, PATCH matches, POST /matches by id
my $brief = { topic => 'Saving on groceries', keyTakeaway => 'Plan meals',
              additionalContext => 'Short videos for students',
              userId => 'remote-user' };
$r = post('/api/assignments', $brief);
is($r->{status}, 201, 'POST /assignments');
my $id = $r->{json}{data}{id};
$r = request(GET => "/api/assignments/$id");
is($r->{status}, 200, 'GET /assignments/{id}');
$r = request(GET => '/api/assignments/history/remote-user');
is($r->{status}, 200, 'history');
$r = post('/api/matches', { assignmentId => $id, topK => 2 });
is($r->{status}, 200, 'POST /matches by id');
is($r->{json}{data}{isFallback}, JSON::PP::false, 'from Pinecone');
is(scalar @{ $r->{json}{data}{matches} }, 2, 'topK 2');
$r = request(GET => "/api/assignments/$id");
is(scalar @{ $r->{json}{data}{matchResults} }, 2, 'saved to the assignment');
$r = request(PATCH => "/api/assignments/$id/matches",
             $J->encode({ matchResults => [
                 { creatorId => 'greenroutes', matchScore => 0.5,
                   reasoning => 'Chosen by hand.' } ] }));
is($r->{status}, 200, 'PATCH .../matches');
is($r->{json}{data}{matchResults}[0]{creatorId}, 'greenroutes', 'set');

# POST /matches/framing: the template (no matcher_framing)
$r = post('/api/matches/framing',
          { assignment => $brief, creatorId => 'greenroutes' });
is($r->{status}, 200, 'framing');
is($r->{json}{data}{framingSource}, 'template', 'from the template');

# POST /creators/embeddings/refresh
$r = post('/api/creators/embeddings/refresh', {});
is($r->{status}, 202, 'refresh');

stop_server();
done_testing();
