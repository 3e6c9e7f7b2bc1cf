# Fixture: --- must_die but the config is valid.
# expect: fail
# expect-output: not ok [0-9]+ - .*TEST 1: must die - nginx should have failed to start
use Test::Nginx::Socket 'no_plan';
run_tests();

__DATA__

=== TEST 1: must die
--- config
    location = /t { return 200; }
--- must_die
