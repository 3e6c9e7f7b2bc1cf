# Fixture: response_body_like does not match.
# expect: fail
# expect-output: not ok [0-9]+ - .*TEST 1: body like - response_body_like - response is expected
use Test::Nginx::Socket 'no_plan';
run_tests();

__DATA__

=== TEST 1: body like
--- config
    location = /t { return 200 "hello\n"; }
--- request
GET /t
--- response_body_like: ^bye
