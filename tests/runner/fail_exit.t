# Fixture: the test script exits while nginx runs; END must stop nginx
# (selftest.sh checks that no nginx process is left behind).
# expect: fail
use Test::Nginx::Socket 'no_plan';
run_tests();

__DATA__

=== TEST 1: exit from init
--- config
    location = /t { return 200; }
--- init
exit 3;
--- request
GET /t
