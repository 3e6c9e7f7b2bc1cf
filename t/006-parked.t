# Store reads parked on the thread pool (issue 9), in every build:
# "matcher_store ... reads=pool" runs each read on a thread and resumes
# the request after it.  Each endpoint that reads the store is asked
# twice on the same store, first with reads on the loop ("reads=loop",
# so also in the parked build), then parked: the parked answer must be
# the loop's byte for byte, but for the clock ("timestamp", "latencyMs").
# The blocks depend on each other: the first fills the store.
use Test::Nginx::Socket 'no_plan';
use Cwd qw(abs_path);
use Time::HiRes qw(sleep);
use Matcher::Flow ();

$ENV{TEST_NGINX_CREATORS} = abs_path('t/data/creators.json');

# a user of this run's own: a kept server root keeps the store too
$ENV{TEST_NGINX_PARKED_USER} = "parked-$$-" . time;

our $LoopConfig = <<'_EOC_';
    matcher_store lmdb:store size=64m reads=loop;
    matcher_creators_file $TEST_NGINX_CREATORS;
_EOC_

our $PoolConfig = <<'_EOC_';
    matcher_store lmdb:store size=64m reads=pool;
    matcher_creators_file $TEST_NGINX_CREATORS;
_EOC_

our $Config = <<'_EOC_';
    location = /health { matcher_health; }
    location /api/assignments { matcher_assignments; }
    location /api/creators { matcher_creators; }
    location /api/matches { matcher_matches; }
_EOC_

our $Tries = $Test::Nginx::Socket::UseValgrind ? 1200 : 200;

# the creators loaded and all embedded: the background work that writes
# the store is done, so later blocks read what this one read
our $WaitStore = <<'_EOC_';
for (1 .. $main::Tries) {
    my $r = Matcher::Flow::request(GET => '/api/creators?limit=100');
    my @ready = $r->{body} =~ /"status":"ready"/g;
    last if $r->{body} =~ /"total":17\b/ && @ready == 17;
    sleep 0.1;
}
_EOC_

# a stored assignment; later blocks name it as $TEST_NGINX_ASSIGNMENT
our $MakeAssignment = <<'_EOC_';
my $r = Matcher::Flow::request(POST => '/api/assignments',
    { topic => 'Budget apps for students',
      keyTakeaway => 'Track every coffee',
      additionalContext => 'Short videos',
      userId => $ENV{TEST_NGINX_PARKED_USER} });
die "POST /api/assignments: $r->{status}\n" unless $r->{status} == 201;
$ENV{TEST_NGINX_ASSIGNMENT} = $r->{json}{data}{id};
_EOC_

# the start-up sync has mapped the index: /health is no longer degraded
our $WaitHealthy = <<'_EOC_';
for (1 .. $main::Tries) {
    my $r = Matcher::Flow::request(GET => '/health');
    last if $r->{body} =~ /^\{"status":"healthy"/;
    sleep 0.1;
}
_EOC_

# keep(KEY, RE): a pattern that matches as RE does and keeps the answer
# as KEY.  same(KEY): one that matches only the answer kept as KEY, byte
# for byte but for the clock, and says where the two differ when not.
# ($_ is the whole answer in a pattern's code blocks.)
our %Kept;

sub keep {
    my ($key, $re) = @_;
    return qr/\A(?=$re)(?{ $main::Kept{$key} = $_ })/s;
}

sub same {
    my ($key) = @_;
    return qr/\A(?(?{ main::is_kept($key, $_) })|(*FAIL))/;
}

sub unclocked {
    my ($body) = @_;
    $body =~ s/"timestamp":"[^"]*"/"timestamp":""/g;
    $body =~ s/"latencyMs":\d+/"latencyMs":0/g;
    return $body;
}

sub is_kept {
    my ($key, $body) = @_;
    my $kept = $Kept{$key};
    if (!defined $kept) {
        Test::More::diag("no answer with reads on the loop kept as '$key'");
        return 0;
    }
    my ($got, $exp) = (unclocked($body), unclocked($kept));
    return 1 if $got eq $exp;
    my $i = 0;
    $i++ while $i < length($got) && $i < length($exp)
               && substr($got, $i, 1) eq substr($exp, $i, 1);
    my $from = $i > 40 ? $i - 40 : 0;
    Test::More::diag("'$key' parked differs at byte $i from reads on the "
                     . "loop:\n     parked: " . substr($got, $from, 120)
                     . "\n       loop: " . substr($exp, $from, 120));
    return 0;
}

no_shuffle();
run_tests();

__DATA__

=== TEST 1: reads on the loop: the creators, listed
--- http_config eval: $::LoopConfig
--- config eval: $::Config
--- init eval: $::WaitStore . $::MakeAssignment
--- request eval
["GET /api/creators?limit=100",
 "GET /api/creators?region=US&niche=personal%20finance&limit=1&page=2",
 "GET /api/creators?niche=nothing-like-this",
 "GET /api/creators?page=9&limit=5"]
--- error_code eval
[200, 200, 200, 200]
--- response_body eval
[main::keep('list', qr/^\{"creators":\[\{"uniqueId":"artsyalmanac",.*\],"pagination":\{"page":1,"limit":100,"total":17,"pages":1\}\}$/s),
 main::keep('filtered', qr/^\{"creators":\[\{"uniqueId":.*"region":"US".*\],"pagination":\{"page":2,"limit":1,"total":2,"pages":2\}\}$/s),
 main::keep('none', qr/^\{"creators":\[\],"pagination":\{"page":1,"limit":20,"total":0,"pages":0\}\}$/),
 main::keep('past', qr/^\{"creators":\[\],"pagination":\{"page":9,"limit":5,"total":17,"pages":4\}\}$/)]



=== TEST 2: parked: the same lists
--- http_config eval: $::PoolConfig
--- config eval: $::Config
--- request eval
["GET /api/creators?limit=100",
 "GET /api/creators?region=US&niche=personal%20finance&limit=1&page=2",
 "GET /api/creators?niche=nothing-like-this",
 "GET /api/creators?page=9&limit=5"]
--- error_code eval
[200, 200, 200, 200]
--- response_body eval
[main::same('list'), main::same('filtered'), main::same('none'),
 main::same('past')]
--- no_error_log
[error]



=== TEST 3: reads on the loop: one creator, and one that is not there
--- http_config eval: $::LoopConfig
--- config eval: $::Config
--- request eval
["GET /api/creators/mindsovermoney", "GET /api/creators/nobody-here"]
--- error_code eval
[200, 404]
--- response_body eval
[main::keep('creator', qr/^\{"creator":\{"uniqueId":"mindsovermoney",.*"status":"ready"\}\}\}$/s),
 main::keep('no-creator', qr/^\{"success":false,"error":"creator not found","code":"not_found"/)]



=== TEST 4: parked: the same creator, the same 404
--- http_config eval: $::PoolConfig
--- config eval: $::Config
--- request eval
["GET /api/creators/mindsovermoney", "GET /api/creators/nobody-here"]
--- error_code eval
[200, 404]
--- response_body eval
[main::same('creator'), main::same('no-creator')]
--- no_error_log
[error]



=== TEST 5: reads on the loop: the assignment, and an unknown one
--- http_config eval: $::LoopConfig
--- config eval: $::Config
--- request eval
["GET /api/assignments/\$TEST_NGINX_ASSIGNMENT",
 "GET /api/assignments/65a1b2c3d4e5f60718293a4b"]
--- error_code eval
[200, 404]
--- response_body eval
[main::keep('assignment', qr/^\{"success":true,"data":\{"id":"[0-9a-f]{24}","topic":"Budget apps for students",.*"userId":"parked-\d+-\d+".*"version":1\},"timestamp":"[^"]+"\}$/s),
 main::keep('no-assignment', qr/^\{"success":false,"error":"assignment not found","code":"not_found"/)]



=== TEST 6: parked: the same assignment, the same 404
--- http_config eval: $::PoolConfig
--- config eval: $::Config
--- request eval
["GET /api/assignments/\$TEST_NGINX_ASSIGNMENT",
 "GET /api/assignments/65a1b2c3d4e5f60718293a4b"]
--- error_code eval
[200, 404]
--- response_body eval
[main::same('assignment'), main::same('no-assignment')]
--- no_error_log
[error]



=== TEST 7: reads on the loop: a user's history, and a user with none
--- http_config eval: $::LoopConfig
--- config eval: $::Config
--- request eval
["GET /api/assignments/history/\$TEST_NGINX_PARKED_USER?sortBy=topic&sortOrder=asc",
 "GET /api/assignments/history/nobody?limit=5&skip=10"]
--- error_code eval
[200, 200]
--- response_body eval
[main::keep('history', qr/^\{"success":true,"data":\[\{"id":"[0-9a-f]{24}","topic":"Budget apps for students",.*\}\],"pagination":\{"count":1,"total":1,"limit":50,"skip":0,"hasMore":false\},"timestamp":"[^"]+"\}$/s),
 main::keep('no-history', qr/^\{"success":true,"data":\[\],"pagination":\{"count":0,"total":0,"limit":5,"skip":10,"hasMore":false\},"timestamp":"[^"]+"\}$/)]



=== TEST 8: parked: the same histories
--- http_config eval: $::PoolConfig
--- config eval: $::Config
--- request eval
["GET /api/assignments/history/\$TEST_NGINX_PARKED_USER?sortBy=topic&sortOrder=asc",
 "GET /api/assignments/history/nobody?limit=5&skip=10"]
--- error_code eval
[200, 200]
--- response_body eval
[main::same('history'), main::same('no-history')]
--- no_error_log
[error]



=== TEST 9: reads on the loop: /health pings the store
--- http_config eval: $::LoopConfig
--- config eval: $::Config
--- init eval: $::WaitHealthy
--- request
GET /health
--- error_code: 200
--- response_body eval
main::keep('health', qr/^\{"status":"healthy","service":"[^"]+","timestamp":"[^"]+","version":"[^"]+","checks":\{"store":\{"status":"up","latencyMs":\d+,"detail":"lmdb"\},/)



=== TEST 10: parked: /health answers after the ping, the same
--- http_config eval: $::PoolConfig
--- config eval: $::Config
--- init eval: $::WaitHealthy
--- request
GET /health
--- error_code: 200
--- response_body eval
main::same('health')
--- no_error_log
[error]



=== TEST 11: reads on the loop: framing, stored and sent, found or not
--- http_config eval: $::LoopConfig
--- config eval: $::Config
--- more_headers
Content-Type: application/json
--- request eval
['POST /api/matches/framing
{"assignmentId":"$TEST_NGINX_ASSIGNMENT","creatorId":"mindsovermoney"}',
 'POST /api/matches/framing
{"assignment":{"topic":"Budget apps","keyTakeaway":"Track every coffee","additionalContext":"c"},"creatorId":"laughingledger"}',
 'POST /api/matches/framing
{"assignmentId":"$TEST_NGINX_ASSIGNMENT","creator":{"uniqueId":"x1","nickname":"Sam","analysis":{"primaryNiches":["Personal Finance"]}}}',
 'POST /api/matches/framing
{"assignmentId":"65a1b2c3d4e5f60718293a4b","creatorId":"mindsovermoney"}',
 'POST /api/matches/framing
{"assignmentId":"$TEST_NGINX_ASSIGNMENT","creatorId":"nobody-here"}']
--- error_code eval
[200, 200, 200, 404, 404]
--- response_body eval
[main::keep('framing-stored', qr/^\{"success":true,"data":\{"assignment":\{"id":"[0-9a-f]{24}","topic":"Budget apps for students",.*"creator":\{"uniqueId":"mindsovermoney",.*"framing":"(?:[^"\\]|\\.)+","timestamp":"[^"]+"\},"timestamp":"[^"]+"\}$/s),
 main::keep('framing-sent', qr/^\{"success":true,"data":\{"assignment":\{"topic":"Budget apps","keyTakeaway":"Track every coffee","additionalContext":"c"\},"creator":\{"uniqueId":"laughingledger",.*"framing":"(?:[^"\\]|\\.)+","timestamp":"[^"]+"\},"timestamp":"[^"]+"\}$/s),
 main::keep('framing-inline', qr/^\{"success":true,"data":\{"assignment":\{"id":"[0-9a-f]{24}",.*"creator":\{"uniqueId":"x1","nickname":"Sam",.*"framing":"Use Sam's own voice(?:[^"\\]|\\.)+","timestamp":"[^"]+"\},"timestamp":"[^"]+"\}$/s),
 main::keep('framing-no-assignment', qr/^\{"success":false,"error":"assignment not found","code":"not_found"/),
 main::keep('framing-no-creator', qr/^\{"success":false,"error":"creator not found","code":"not_found"/)]



=== TEST 12: parked: the same framings, the same 404s
--- http_config eval: $::PoolConfig
--- config eval: $::Config
--- more_headers
Content-Type: application/json
--- request eval
['POST /api/matches/framing
{"assignmentId":"$TEST_NGINX_ASSIGNMENT","creatorId":"mindsovermoney"}',
 'POST /api/matches/framing
{"assignment":{"topic":"Budget apps","keyTakeaway":"Track every coffee","additionalContext":"c"},"creatorId":"laughingledger"}',
 'POST /api/matches/framing
{"assignmentId":"$TEST_NGINX_ASSIGNMENT","creator":{"uniqueId":"x1","nickname":"Sam","analysis":{"primaryNiches":["Personal Finance"]}}}',
 'POST /api/matches/framing
{"assignmentId":"65a1b2c3d4e5f60718293a4b","creatorId":"mindsovermoney"}',
 'POST /api/matches/framing
{"assignmentId":"$TEST_NGINX_ASSIGNMENT","creatorId":"nobody-here"}']
--- error_code eval
[200, 200, 200, 404, 404]
--- response_body eval
[main::same('framing-stored'), main::same('framing-sent'),
 main::same('framing-inline'), main::same('framing-no-assignment'),
 main::same('framing-no-creator')]
--- no_error_log
[error]
