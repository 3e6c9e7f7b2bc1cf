# Fixture: an expected response header is missing.
# expect: fail
# expect-output: not ok [0-9]+ - .*TEST 1: missing header - header X-Foo ok
use Test::Nginx::Socket 'no_plan';
run_tests();

__DATA__

=== TEST 1: missing header
--- config
    location = /t { return 200 "x"; }
--- request
GET /t
--- response_headers
X-Foo: bar
