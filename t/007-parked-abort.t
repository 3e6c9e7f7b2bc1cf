# A client that goes away while its request is parked on the thread pool
# (issue 9).  Against the parked build (make nginx-parked) every job
# sleeps MATCHER_TEST_PARK_MS first, so the client below leaves while its
# store read or vector search is on a thread; the worker must then finish
# the step, free it once and keep serving: no alert, no crash, and under
# TEST_NGINX_USE_VALGRIND no invalid access and no leak.  Against the
# normal build the same requests answer before the client leaves.
use Test::Nginx::Socket 'no_plan';
use Cwd qw(abs_path);

$ENV{TEST_NGINX_CREATORS} = abs_path('t/data/creators.json');
$ENV{MATCHER_TEST_PARK_MS} = 700;

our $MainConfig = <<'_EOC_';
env MATCHER_TEST_PARK_MS;
_EOC_

our $HttpConfig = <<'_EOC_';
    matcher_store lmdb:store size=64m;
    matcher_creators_file $TEST_NGINX_CREATORS;
_EOC_

our $Config = <<'_EOC_';
    location /api/assignments { matcher_assignments; }
    location /api/creators { matcher_creators; }
    location /api/matches { matcher_matches; }
_EOC_

# waits (bounded) until a search answers 200: the creators are loaded and
# indexed, each step parked for MATCHER_TEST_PARK_MS on the parked build
our $WaitIndex = <<'_EOC_';
use IO::Socket::INET;
my $body = '{"query":"personal finance"}';
for (1 .. 120) {
    my $s = IO::Socket::INET->new("127.0.0.1:$Test::Nginx::Socket::ServerPort")
        or next;
    print $s "POST /api/creators/search HTTP/1.0\r\nHost: x\r\n"
        . "Content-Type: application/json\r\n"
        . "Content-Length: " . length($body) . "\r\n\r\n$body";
    my $line = <$s> // '';
    last if $line =~ m{^HTTP/1\.\d 200};
    select(undef, undef, undef, 0.25);
}
_EOC_

no_shuffle();
run_tests();

__DATA__

=== TEST 1: the client leaves during a parked store read
--- main_config eval: $::MainConfig
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/assignments/0123456789abcdef01234567
--- timeout: 0.2
--- abort
--- ignore_response
--- wait: 1.5
--- no_error_log
[alert]
[crit]
[emerg]



=== TEST 2: the client leaves during a parked vector search
--- main_config eval: $::MainConfig
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init eval: $::WaitIndex
--- request
POST /api/creators/search
{"query":"budgeting tips for students","topK":5}
--- more_headers
Content-Type: application/json
--- timeout: 0.2
--- abort
--- ignore_response
--- wait: 2.5
--- no_error_log
[alert]
[crit]
[emerg]



=== TEST 3: the client leaves during a match (search, then candidates)
--- main_config eval: $::MainConfig
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init eval: $::WaitIndex
--- request
POST /api/matches
{"assignment":{"topic":"Saving on groceries","keyTakeaway":"Plan meals","additionalContext":"Short video"}}
--- more_headers
Content-Type: application/json
--- timeout: 0.2
--- abort
--- ignore_response
--- wait: 2.5
--- no_error_log
[alert]
[crit]
[emerg]



=== TEST 4: the same match, waited for, answers in full
--- main_config eval: $::MainConfig
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init eval: $::WaitIndex
--- request
POST /api/matches
{"assignment":{"topic":"Saving on groceries","keyTakeaway":"Plan meals","additionalContext":"Short video"}}
--- more_headers
Content-Type: application/json
--- timeout: 10
--- error_code: 200
--- response_body_like: "matches":\[\{"creatorId":"[^"]+"
