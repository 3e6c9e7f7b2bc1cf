# Fixture: the test process is SIGKILLed while nginx runs; the watchdog must
# kill nginx (selftest.sh checks that no nginx process is left behind).
# expect: fail
# allow-leftovers: yes
use Test::Nginx::Socket 'no_plan';
run_tests();

__DATA__

=== TEST 1: kill -9 from init
--- config
    location = /t { return 200; }
--- init
kill 'KILL', $$;
--- request
GET /t
