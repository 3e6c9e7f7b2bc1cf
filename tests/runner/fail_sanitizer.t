# Fixture: a sanitizer report in the error log fails the block (simulated:
# nginx's debug log echoes request headers verbatim).
# expect: fail
# expect-output: not ok [0-9]+ - .*TEST 1: asan - no sanitizer report in error log or stderr
use Test::Nginx::Socket 'no_plan';
run_tests();

__DATA__

=== TEST 1: asan
--- config
    location = /t { return 200 "x\n"; }
--- more_headers
X-Inject: ==1==ERROR: AddressSanitizer: heap-use-after-free
--- request
GET /t
--- response_body
x
