# Fixture: a --- no_error_log line is present (404 on a missing file logs [error]).
# expect: fail
# expect-output: not ok [0-9]+ - .*TEST 1: unexpected error - pattern "\[error\]" should not match any line in error.log
use Test::Nginx::Socket 'no_plan';
run_tests();

__DATA__

=== TEST 1: unexpected error
--- config
    location /f/ { root html; }
--- request
GET /f/missing
--- error_code: 404
--- no_error_log
[error]
