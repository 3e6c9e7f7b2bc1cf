# Fixture: an undefined $TEST_NGINX_* variable in the config fails the block.
# expect: fail
# expect-output: not ok [0-9]+ - .*TEST 1: env - no environment variable TEST_NGINX_NOT_SET_ANYWHERE defined
use Test::Nginx::Socket 'no_plan';
delete $ENV{TEST_NGINX_NOT_SET_ANYWHERE};
run_tests();

__DATA__

=== TEST 1: env
--- config
    location = /t { return 200 "$TEST_NGINX_NOT_SET_ANYWHERE"; }
--- request
GET /t
