# Fixture: wrong response body.
# expect: fail
# expect-output: not ok [0-9]+ - .*TEST 1: wrong body - response_body - response is expected
# expect-output: strings begin to differ at char 2
use Test::Nginx::Socket 'no_plan';
run_tests();

__DATA__

=== TEST 1: wrong body
--- config
    location = /t { return 200 "hello\n"; }
--- request
GET /t
--- response_body
hallo
