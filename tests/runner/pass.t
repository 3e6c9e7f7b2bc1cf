# Fixture for tests/runner/selftest.sh: every block must pass.
# expect: pass
use Test::Nginx::Socket 'no_plan';

$ENV{TEST_NGINX_GREETING} = 'bonjour';
no_shuffle();
run_tests();

__DATA__

=== TEST 1: plain return
--- config
    location = /t { return 200 "hello\n"; }
--- request
GET /t
--- response_body
hello
--- no_error_log
[error]
[warn]



=== TEST 2: status code, headers (present, absent, like), body_like
--- config
    location = /h {
        add_header X-Foo "bar baz" always;
        add_header X-Num 12345 always;
        return 418 "teapot\n";
    }
--- request
GET /h
--- error_code: 418
--- response_headers
X-Foo: bar baz
x-foo: bar baz
!X-Missing
Content-Type: text/plain
--- response_headers_like
X-Num: [0-9]+
Server: nginx.*
--- response_body_like: ^tea.ot$
--- response_body_unlike: coffee



=== TEST 3: error_log lines from a missing file (404), plain and eval forms
--- config
    location /files/ { root html; }
--- request
GET /files/nope.txt
--- error_code: 404
--- error_log
open() "
nope.txt" failed (2: No such file or directory)
--- no_error_log
[alert]
[crit]



=== TEST 4: error_log eval with an array of strings and regexes
--- config
    location /files/ { root html; }
--- request
GET /files/missing.html
--- error_code: 404
--- error_log eval
["No such file or directory", qr/\[error\] [0-9]+#[0-9]+: \*[0-9]+ open\(\)/]
--- response_body_like eval
qr/<title>404 Not Found<\/title>/



=== TEST 5: request body gets a Content-Length; more_headers
--- config
    location = /echo {
        return 200 "len=$http_content_length host=$host x=$http_x_test\n";
    }
--- more_headers
X-Test: abc
--- request
POST /echo
hello world
--- response_body
len=11 host=localhost x=abc



=== TEST 6: more_headers overrides Host and Content-Length
--- config
    location = /echo { return 200 "$host $http_content_length\n"; }
--- more_headers
Host: example.org
Content-Length: 3
--- request
POST /echo
abc
--- response_body
example.org 3



=== TEST 7: request eval, HTTP/1.0
--- config
    location = /v { return 200 "$server_protocol\n"; }
--- request eval
"GET /v HTTP/1.0"
--- response_body
HTTP/1.0



=== TEST 8: chunked response is decoded
--- config
    location = /c {
        sub_filter 'hello' 'bye';
        sub_filter_types *;
        return 200 "hello world\n";
    }
--- request
GET /c
--- response_headers
Transfer-Encoding: chunked
!Content-Length
--- response_body
bye world



=== TEST 9: pipelined requests on one keep-alive connection
--- config
    location = /a { return 200 "a\n"; }
    location = /b { return 201 "bb\n"; }
    location = /c { return 404; }
--- pipelined_requests eval
["GET /a", "GET /b", "HEAD /a", "GET /c"]
--- error_code eval
[200, 201, 200, 404]
--- response_body eval
["a\n", "bb\n", "", qr/404 Not Found/]



=== TEST 10: env substitution ($TEST_NGINX_* in config and request)
--- http_config
    map $uri $greeting { default "$TEST_NGINX_GREETING"; }
--- config
    location = /g { return 200 "$greeting $TEST_NGINX_SERVER_PORT\n"; }
    location = /index { alias $TEST_NGINX_HTML_DIR/index.html; }
--- request
GET /g?x=$TEST_NGINX_GREETING
--- response_body eval
"bonjour $ENV{TEST_NGINX_SERVER_PORT}\n"



=== TEST 11: html dir and root location
--- config
--- request
GET /
--- response_body_like: It works!



=== TEST 12: shutdown_error_log and wait
--- config
    location = /t { return 204; }
--- request
GET /t
--- error_code: 204
--- response_body:
--- wait: 0.1
--- shutdown_error_log
gracefully shutting down



=== TEST 13: must_die on an invalid config
--- config
    location = /t { no_such_directive on; }
--- must_die
--- error_log
unknown directive "no_such_directive"



=== TEST 14: response_body with $ServerPort and main_config
--- main_config
    worker_rlimit_core 0;
--- config
    location = /p { return 200 "port $server_port\n"; }
--- request
GET /p
--- response_body
port $ServerPort



=== TEST 15: request with chomp filter, raw_request
--- config
    location = /r { return 200 "$request_method $request_uri"; }
--- raw_request eval
"GET /r?raw=1 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
--- response_body chomp
GET /r?raw=1
--- response_body_like: ^GET
