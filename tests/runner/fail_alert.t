# Fixture: an [alert] in the error log fails the block even though every
# explicit check passes (setrlimit beyond the hard limit logs an [alert]).
# expect: fail
# expect-output: not ok [0-9]+ - .*TEST 1: alert - no \[alert\] or \[emerg\] in error log
# expect-output: setrlimit\(RLIMIT_NOFILE
use Test::Nginx::Socket 'no_plan';
run_tests();

__DATA__

=== TEST 1: alert
--- main_config
    worker_rlimit_nofile 999999999;
--- config
    location = /t { return 200 "x\n"; }
--- request
GET /t
--- response_body
x
