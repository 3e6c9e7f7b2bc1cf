# Fixture: a misspelt section is an error, not silently ignored.
# expect: fail
# expect-output: not ok [0-9]+ - .*TEST 1: typo - unsupported section\(s\): --- respone_body
use Test::Nginx::Socket 'no_plan';
run_tests();

__DATA__

=== TEST 1: typo
--- config
    location = /t { return 200 "x\n"; }
--- request
GET /t
--- respone_body
y
