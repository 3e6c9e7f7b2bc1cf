# Fixture: an --- error_log line never shows up.
# expect: fail
# expect-output: not ok [0-9]+ - .*TEST 1: error_log missing - pattern "this line is never logged" should match a line in error.log
use Test::Nginx::Socket 'no_plan';
run_tests();

__DATA__

=== TEST 1: error_log missing
--- config
    location = /t { return 200 "x"; }
--- request
GET /t
--- error_log
this line is never logged
