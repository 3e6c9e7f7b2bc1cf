# Request bodies: media types, limits (Content-Length and chunked), bodies
# larger than nginx's buffer (kept in memory, never spilled), JSON errors.  POST /assignments is the
# endpoint under test; the store is a fresh LMDB per file.
use Test::Nginx::Socket 'no_plan';

our $HttpConfig = <<'_EOC_';
    matcher_store lmdb:store size=16m;
_EOC_

our $Body = '{"topic":"Shrinkflation","keyTakeaway":"Spot it","additionalContext":"Everyday prices"}';
$ENV{TEST_NGINX_BODY} = $Body;

no_shuffle();
run_tests();

__DATA__

=== TEST 1: no Content-Type is 415
--- http_config eval: $::HttpConfig
--- config
    location /api/assignments { matcher_assignments; }
--- request eval
"POST /api/assignments\n$::Body"
--- error_code: 415
--- response_body_like: "code":"unsupported_media_type"



=== TEST 2: text/plain is 415
--- http_config eval: $::HttpConfig
--- config
    location /api/assignments { matcher_assignments; }
--- more_headers
Content-Type: text/plain
--- request eval
"POST /api/assignments\n$::Body"
--- error_code: 415



=== TEST 3: a charset other than utf-8 is 415
--- http_config eval: $::HttpConfig
--- config
    location /api/assignments { matcher_assignments; }
--- more_headers
Content-Type: application/json; charset=iso-8859-1
--- request eval
"POST /api/assignments\n$::Body"
--- error_code: 415



=== TEST 4: application/json with charset=UTF-8 is accepted
--- http_config eval: $::HttpConfig
--- config
    location /api/assignments { matcher_assignments; }
--- more_headers
Content-Type: Application/JSON; charset="UTF-8"
--- request eval
"POST /api/assignments\n$::Body"
--- error_code: 201
--- response_body_like: "success":true



=== TEST 5: unparseable JSON is 400 invalid_json with the byte offset
--- http_config eval: $::HttpConfig
--- config
    location /api/assignments { matcher_assignments; }
--- more_headers
Content-Type: application/json
--- request
POST /api/assignments
{"topic": "x",,}
--- error_code: 400
--- response_body_like: ^\{"success":false,"error":"invalid JSON at byte \d+","code":"invalid_json","timestamp":"[^"]+"\}$



=== TEST 6: invalid UTF-8 in a string is 400 invalid_json
--- http_config eval: $::HttpConfig
--- config
    location /api/assignments { matcher_assignments; }
--- more_headers
Content-Type: application/json
--- request eval
"POST /api/assignments\n{\"topic\":\"caf\xc3\x28\",\"keyTakeaway\":\"k\",\"additionalContext\":\"c\"}"
--- error_code: 400
--- response_body_like: "code":"invalid_json"



=== TEST 7: bytes after the JSON text are 400 invalid_json, even an open string
--- http_config eval: $::HttpConfig
--- config
    location /api/assignments { matcher_assignments; }
--- more_headers eval
[("Content-Type: application/json") x 4]
--- request eval
["POST /api/assignments\n$::Body x", "POST /api/assignments\n$::Body$::Body",
 "POST /api/assignments\n$::Body \"junk", "POST /api/assignments\n$::Body 1"]
--- error_code eval
[400, 400, 400, 400]
--- response_body_like eval
[(qr/"code":"invalid_json"/) x 4]



=== TEST 8: an empty body is 400 invalid_json
--- http_config eval: $::HttpConfig
--- config
    location /api/assignments { matcher_assignments; }
--- more_headers
Content-Type: application/json
Content-Length: 0
--- request
POST /api/assignments
--- error_code: 400
--- response_body_like: "error":"request body is empty","code":"invalid_json"



=== TEST 9: JSON that is not an object is 400 validation_failed
--- http_config eval: $::HttpConfig
--- config
    location /api/assignments { matcher_assignments; }
--- more_headers
Content-Type: application/json
--- request
POST /api/assignments
[1, 2, 3]
--- error_code: 400
--- response_body_like: "code":"validation_failed"



=== TEST 10: a Content-Length over the limit is 413 in the envelope
--- http_config eval: $::HttpConfig
--- config
    location /api/assignments {
        matcher_assignments;
        matcher_max_body_size 64;
    }
--- more_headers
Content-Type: application/json
--- request eval
"POST /api/assignments\n" . ('{"topic":"' . ('x' x 100) . '"}')
--- error_code: 413
--- response_body_like: ^\{"success":false,"error":"request body is too large","code":"payload_too_large"



=== TEST 11: a chunked body over the limit is 413 in the envelope
--- http_config eval: $::HttpConfig
--- config
    location /api/assignments {
        matcher_assignments;
        matcher_max_body_size 64;
    }
--- raw_request eval
my $chunk = '{"topic":"' . ('x' x 100) . '"}';
"POST /api/assignments HTTP/1.1\r
Host: localhost\r
Connection: close\r
Content-Type: application/json\r
Transfer-Encoding: chunked\r
\r
" . sprintf("%x", length $chunk) . "\r\n$chunk\r\n0\r\n\r\n"
--- error_code: 413
--- response_body_like: "code":"payload_too_large"
--- error_log
matcher: request body exceeds 64 bytes



=== TEST 12: a chunked body within the limit is read
--- http_config eval: $::HttpConfig
--- config
    location /api/assignments { matcher_assignments; }
--- raw_request eval
my $b = $::Body;
"POST /api/assignments HTTP/1.1\r
Host: localhost\r
Connection: close\r
Content-Type: application/json\r
Transfer-Encoding: chunked\r
\r
" . sprintf("%x", 10) . "\r\n" . substr($b, 0, 10) . "\r\n"
  . sprintf("%x", length($b) - 10) . "\r\n" . substr($b, 10) . "\r\n0\r\n\r\n"
--- error_code: 201



=== TEST 13: a body over client_body_buffer_size stays in memory, no temp file
--- http_config eval: $::HttpConfig
--- config
    client_body_buffer_size 1k;
    location /api/assignments { matcher_assignments; }
--- more_headers
Content-Type: application/json
--- request eval
"POST /api/assignments\n" . '{"topic":"Spilled","keyTakeaway":"k","additionalContext":"c",'
    . '"dropped":"' . ('padding ' x 1000) . '"}'
--- error_code: 201
--- response_body_like: "topic":"Spilled"
--- no_error_log
a client request body is buffered to a temporary file



=== TEST 14: nesting deeper than matcher_json_max_depth is 400
--- http_config eval: $::HttpConfig
--- config
    location /api/assignments {
        matcher_assignments;
        matcher_json_max_depth 3;
    }
--- more_headers
Content-Type: application/json
--- request
POST /api/assignments
{"a":{"b":{"c":{"d":1}}}}
--- error_code: 400
--- response_body_like: "error":"nesting deeper than 3 levels","code":"invalid_json"



=== TEST 15: the wrong method on a resource is 405 with its Allow
--- http_config eval: $::HttpConfig
--- config
    location /api/assignments { matcher_assignments; }
--- request
GET /api/assignments
--- error_code: 405
--- response_headers
Allow: POST, OPTIONS



=== TEST 16: a path the endpoint does not have is 404
--- http_config eval: $::HttpConfig
--- config
    location /api/assignments { matcher_assignments; }
--- request
GET /api/assignments/a/b/c
--- error_code: 404
--- response_body_like: "code":"not_found"



=== TEST 17: a prefix location does not take a longer word as a path
--- http_config eval: $::HttpConfig
--- config
    location /api/assignments { matcher_assignments; }
--- request
GET /api/assignmentsabcdef0123456789abcdef012
--- error_code: 404
--- response_body_like: "error":"no such endpoint","code":"not_found"



=== TEST 18: a body on GET is discarded, the request still answered
--- http_config eval: $::HttpConfig
--- config
    location /api/assignments { matcher_assignments; }
--- more_headers
Content-Type: application/json
--- request
GET /api/assignments/65a1b2c3d4e5f60718293a4b
{"ignored": true}
--- error_code: 404
--- response_body_like: "error":"assignment not found","code":"not_found"



=== TEST 19: without a store the endpoint is 503 unavailable
--- config
    location /api/assignments { matcher_assignments; }
--- more_headers
Content-Type: application/json
--- request eval
"POST /api/assignments\n$::Body"
--- error_code: 503
--- response_body_like: "code":"unavailable"
