# Fixture: the response never completes (keep-alive connection stays open).
# expect: fail
# expect-output: not ok [0-9]+ - .*TEST 1: timeout - timed out after 1s
use Test::Nginx::Socket 'no_plan';
run_tests();

__DATA__

=== TEST 1: timeout
--- config
    location = /t { return 200 "x\n"; }
--- more_headers
Connection: keep-alive
--- request
GET /t
--- timeout: 1
--- response_body
x
