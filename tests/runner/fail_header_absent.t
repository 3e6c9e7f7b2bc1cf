# Fixture: a header that must be absent ("!Name") is present.
# expect: fail
# expect-output: not ok [0-9]+ - .*TEST 1: header present - header Server not present
use Test::Nginx::Socket 'no_plan';
run_tests();

__DATA__

=== TEST 1: header present
--- config
    location = /t { return 200 "x"; }
--- request
GET /t
--- response_headers
!Server
