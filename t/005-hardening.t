# Hostile requests at the module's edges (issue 8): the thread pool with
# no store, bodies that are JSON but not an object on every endpoint that
# takes a body, and "Expect: 100-continue" on a request the module will
# refuse, which must get its 4xx without asking the client for the body.
use Test::Nginx::Socket 'no_plan';

our $HttpConfig = <<'_EOC_';
    matcher_store lmdb:store size=16m;
_EOC_

our $Config = <<'_EOC_';
    lingering_timeout 100ms;  # the refused body never comes
    location /api/assignments { matcher_assignments; }
    location /api/creators { matcher_creators; }
    location /api/matches { matcher_matches; }
_EOC_

# every endpoint that takes a body, with a JSON text that is not an object
our @Endpoints = ('POST /api/assignments', 'POST /api/creators/search',
    'POST /api/creators/embeddings', 'POST /api/creators/embeddings/refresh',
    'POST /api/creators/ingest', 'POST /api/matches',
    'POST /api/matches/framing',
    'PATCH /api/assignments/0123456789abcdef01234567/matches');
our @NotObjects = ('[]', '1', '"x"', 'null', 'true', '[{"topic":"x"}]');

our @Requests = map { my $e = $_; map { "$e\n$_" } @NotObjects } @Endpoints;

# {"texts":["t1",...]} of n texts
sub texts_body {
    my ($n, $fmt) = @_;
    return '{"texts":[' . join(',', map { sprintf $fmt, $_ } 1 .. $n) . ']}';
}

# an object of n keys
sub wide_object {
    my ($n) = @_;
    return '{' . join(',', map { qq{"k$_":$_} } 1 .. $n) . '}';
}

# a chunked body of n chunks of len bytes
sub chunks {
    my ($n, $len) = @_;
    my $chunk = 'x' x $len;
    return join('', map { sprintf("%x", $len) . "\r\n$chunk\r\n" } 1 .. $n)
        . "0\r\n\r\n";
}

sub raw_expect {
    my ($type, $length) = @_;
    return "POST /api/creators/embeddings HTTP/1.1\r\n"
        . "Host: localhost\r\nConnection: close\r\n"
        . "Content-Type: $type\r\nContent-Length: $length\r\n"
        . "Expect: 100-continue\r\n\r\n";
}

no_shuffle();
run_tests();

__DATA__

=== TEST 1: without a store a big embedding batch runs on the thread pool
--- http_config
    matcher_store off;
--- config eval: $::Config
--- more_headers
Content-Type: application/json
--- request
POST /api/creators/embeddings
{"texts":["one","two","three","four","five","six","seven","eight","nine","ten","eleven","twelve"]}
--- error_code: 200
--- response_body_like: ^\{"embeddings":\[(?:\[[^\]]+\],){11}\[[^\]]+\]\]



=== TEST 2: with no matcher_store at all, the same
--- config eval: $::Config
--- more_headers
Content-Type: application/json
--- request eval
"POST /api/creators/embeddings\n" . main::texts_body(40, '"text number %d"')
--- error_code: 200
--- response_body_like: ^\{"embeddings":\[(?:\[[^\]]+\],){39}\[[^\]]+\]\]



=== TEST 3: a JSON text that is not an object is 400 validation_failed everywhere
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers eval
[map { "Content-Type: application/json" } @::Requests]
--- request eval
[@::Requests]
--- error_code eval
[map { 400 } @::Requests]
--- response_body_like eval
[map { qr/^\{"success":false,"error":"(?:[^"\\]|\\.)+","code":"validation_failed",(?:"details":\[.+\],)?"timestamp":"[^"]+"\}$/ } @::Requests]



=== TEST 4: Expect: 100-continue with a body over the limit: 413, no 100
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- raw_request eval
main::raw_expect('application/json', 64 * 1024 * 1024)
--- error_code: 413
--- raw_response_headers_unlike: 100 Continue
--- response_body_like: "code":"payload_too_large"



=== TEST 5: Expect: 100-continue with the wrong media type: 415, no 100
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- raw_request eval
main::raw_expect('text/plain', 100)
--- error_code: 415
--- raw_response_headers_unlike: 100 Continue



=== TEST 6: Expect: 100-continue on a path that does not exist: 404, no 100
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- raw_request eval
my $r = main::raw_expect('application/json', 100);
$r =~ s{/api/creators/embeddings}{/api/creators/nothing/here};
$r
--- error_code: 404
--- raw_response_headers_unlike: 100 Continue



=== TEST 7: Expect: 100-continue on a good request still gets its 100
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- raw_request eval
[main::raw_expect('application/json', 17), '{"texts":["one"]}']
--- raw_request_middle_delay: 0.2
--- error_code: 200
--- raw_response_headers_like: ^HTTP/1.1 100 Continue



=== TEST 8: a chunked body far past the limit is dropped as it comes
--- http_config eval: $::HttpConfig
--- config
    location /api/creators {
        matcher_creators;
        matcher_max_body_size 1k;
    }
--- raw_request eval
"POST /api/creators/search HTTP/1.1\r
Host: localhost\r
Connection: close\r
Content-Type: application/json\r
Transfer-Encoding: chunked\r
\r
" . main::chunks(200, 8000)
--- error_code: 413
--- response_body_like: "code":"payload_too_large"
--- error_log
matcher: request body exceeds 1024 bytes



=== TEST 9: a body of 60,000 keys is refused at the 4,097th, on every endpoint
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers eval
[map { "Content-Type: application/json" } 1 .. 3]
--- request eval
my $wide = main::wide_object(60000);
["POST /api/matches\n$wide", "POST /api/assignments\n$wide",
 "POST /api/creators/search\n$wide"]
--- error_code eval
[400, 400, 400]
--- response_body_like eval
[(qr/^\{"success":false,"error":"an object or array of more than 4096 members","code":"invalid_json"/) x 3]



=== TEST 10: 16,385 values in small arrays are refused; 2,048 texts are not
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers eval
[map { "Content-Type: application/json" } 1 .. 2]
--- request eval
my $many = main::texts_body(1100, '[1,1,1,1,1,1,1,1,1,1,1,1,1,1,%d]');
my $ok = main::texts_body(2048, '"t%d"');
["POST /api/creators/embeddings\n$many", "POST /api/creators/embeddings\n$ok"]
--- error_code eval
[400, 200]
--- response_body_like eval
[qr/^\{"success":false,"error":"more than 16384 values","code":"invalid_json"/, qr/^\{"embeddings":\[/]
