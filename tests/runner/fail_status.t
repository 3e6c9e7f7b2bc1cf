# Fixture: wrong status code (default expectation is 200).
# expect: fail
# expect-output: not ok [0-9]+ - .*TEST 1: wrong status - status code ok
use Test::Nginx::Socket 'no_plan';
run_tests();

__DATA__

=== TEST 1: wrong status
--- config
    location = /t { return 403; }
--- request
GET /t
