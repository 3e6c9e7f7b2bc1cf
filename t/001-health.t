# GET /health, method handling, request ids and the ids directives.
use Test::Nginx::Socket 'no_plan';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: health answers with the contract's fields
--- config
    location = /health { matcher_health; }
--- request
GET /health
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like eval
qr/^\{"status":"healthy","service":"matching-service","timestamp":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z","version":"[0-9.]+","checks":\{"store":\{"status":"disabled","latencyMs":0,"detail":"[^"]+"\},"embeddings":\{.*\},"vectors":\{.*\},"cache":\{.*\}\}\}$/
--- no_error_log
[error]



=== TEST 2: the service name is configuration
--- http_config
    matcher_service_name creator-matcher;
--- config
    location = /api/health { matcher_health; }
--- request
GET /api/health
--- response_body_like: "service":"creator-matcher"



=== TEST 3: HEAD is served where GET is, without a body
--- config
    location = /health { matcher_health; }
--- request
HEAD /health
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body



=== TEST 4: another method gets 405 with Allow, in the JSON envelope
--- config
    location = /health { matcher_health; }
--- request
DELETE /health
--- error_code: 405
--- response_headers
Allow: GET, HEAD, OPTIONS
Content-Type: application/json; charset=utf-8
--- response_body_like eval
qr/^\{"success":false,"error":"[^"]+","code":"method_not_allowed","timestamp":"[^"]+"\}$/



=== TEST 5: OPTIONS answers 204 with Allow and no CORS headers by default
--- config
    location = /health { matcher_health; }
--- request
OPTIONS /health
--- more_headers
Origin: http://localhost:5173
--- error_code: 204
--- response_headers
Allow: GET, HEAD, OPTIONS
!Access-Control-Allow-Origin
--- response_body



=== TEST 6: a CORS preflight from an allowed origin
--- config
    location = /health {
        matcher_health;
        matcher_cors_origins http://localhost:5173 https://app.example.com;
    }
--- request
OPTIONS /health
--- more_headers
Origin: https://app.example.com
Access-Control-Request-Method: GET
Access-Control-Request-Headers: content-type
--- error_code: 204
--- response_headers
Access-Control-Allow-Origin: https://app.example.com
Access-Control-Allow-Methods: GET, HEAD, OPTIONS
Access-Control-Allow-Headers: Content-Type
Vary: Origin



=== TEST 7: a CORS request from an origin not listed gets no CORS headers
--- config
    location = /health {
        matcher_health;
        matcher_cors_origins http://localhost:5173;
    }
--- request
GET /health
--- more_headers
Origin: http://evil.example
--- response_headers
!Access-Control-Allow-Origin



=== TEST 8: CORS with "*" on a plain request exposes the reply headers
--- config
    location = /health {
        matcher_health;
        matcher_cors_origins *;
    }
--- request
GET /health
--- more_headers
Origin: http://any.example
--- response_headers
Access-Control-Allow-Origin: *
Access-Control-Expose-Headers: Location, X-Request-Id, ETag, Retry-After, WWW-Authenticate
Vary: Origin



=== TEST 9: a path below an exact endpoint is not found, as JSON
--- config
    location /health { matcher_health; }
--- request
GET /health/deeper
--- error_code: 404
--- response_body_like: "code":"not_found"



=== TEST 10: X-Request-Id matches the request id in the error log
--- config
    location = /health { matcher_health; }
--- request
POST /health
--- error_code: 405
--- response_headers_like
X-Request-Id: ^[0-9a-f]{32}$
--- error_log eval
qr/\[info\] .*matcher: 405 method_not_allowed: .*request_id: "[0-9a-f]{32}"/



=== TEST 11: $matcher_error_code carries the error code for logs
--- config
    location = /health {
        matcher_health;
        add_header X-Error-Code $matcher_error_code always;
    }
--- request
PUT /health
--- error_code: 405
--- response_headers
X-Error-Code: method_not_allowed



=== TEST 12: set_matcher_object_id makes distinct ObjectIds
--- config
    location = /t {
        set_matcher_object_id $a;
        set_matcher_object_id $b;
        return 200 "$a $b\n";
    }
--- request
GET /t
--- response_body_like eval
qr/^([0-9a-f]{24}) (?!\1)[0-9a-f]{24}\n$/



=== TEST 13: set_matcher_id canonicalises an id or empties a bad one
--- config
    location = /t {
        set_matcher_id $good $arg_a;
        set_matcher_id $bad $arg_b;
        return 200 "[$good] [$bad]\n";
    }
--- request
GET /t?a=65A1B2C3D4E5F60718293A4B&b=65a1b2c3d4e5f60718293a4
--- response_body
[65a1b2c3d4e5f60718293a4b] []



=== TEST 14: matcher_request_id: an ALB's X-Amzn-Trace-Id is the request id
--- config
    matcher_request_id $http_x_amzn_trace_id;
    location = /health { matcher_health; }
--- more_headers
X-Amzn-Trace-Id: Self=1-67891234-12456789abcdef012345678;Root=1-67891233-abcdef012345678912345678;Sampled=1
--- request
POST /health
--- error_code: 405
--- response_headers
X-Request-Id: Self=1-67891234-12456789abcdef012345678;Root=1-67891233-abcdef012345678912345678;Sampled=1
--- error_log
request_id: "Self=1-67891234-12456789abcdef012345678;Root=1-67891233-abcdef012345678912345678;Sampled=1"



=== TEST 15: a value with bytes a trace id has not falls back to $request_id
--- config
    matcher_request_id $http_x_amzn_trace_id;
    location = /health { matcher_health; }
--- more_headers
X-Amzn-Trace-Id: Root=1-abc "x"
--- request
POST /health
--- error_code: 405
--- response_headers_like
X-Request-Id: ^[0-9a-f]{32}$
--- error_log eval
qr/request_id: "[0-9a-f]{32}"/
--- no_error_log
request_id: "Root



=== TEST 16: 256 bytes are taken, 257 are not
--- config
    matcher_request_id $http_x_amzn_trace_id$arg_more;
    location = /health { matcher_health; }
--- more_headers eval
"X-Amzn-Trace-Id: " . ("a" x 256)
--- pipelined_requests eval
["GET /health", "GET /health?more=b"]
--- response_headers_like eval
["X-Request-Id: ^a{256}\$", "X-Request-Id: ^[0-9a-f]{32}\$"]



=== TEST 17: without the header, $request_id; $matcher_request_id in any location
--- config
    matcher_request_id $http_x_amzn_trace_id;
    location = /t { return 200 "$matcher_request_id\n"; }
    location = /health { matcher_health; }
--- pipelined_requests eval
["GET /t", "GET /health"]
--- response_headers_like eval
["", "X-Request-Id: ^[0-9a-f]{32}\$"]
--- response_body_like eval
[qr/^[0-9a-f]{32}\n\z/, qr/"status"/]



=== TEST 18: $matcher_request_id is the trace id where logs read it
--- config
    matcher_request_id $http_x_amzn_trace_id;
    location = /t { return 200 "$matcher_request_id\n"; }
--- more_headers
X-Amzn-Trace-Id: Root=1-5759e988-bd862e3fe1be46a994272793
--- request
GET /t
--- response_body
Root=1-5759e988-bd862e3fe1be46a994272793



=== TEST 19: matcher_request_id takes one value
--- config
    matcher_request_id $http_x_amzn_trace_id $request_id;
--- must_die
--- error_log
invalid number of arguments in "matcher_request_id" directive
