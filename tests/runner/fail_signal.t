# Fixture: a worker killed by a signal (simulated: --- init sends SIGSEGV to
# the worker) fails the block; nginx's master respawns it, so the request
# itself succeeds.  worker_rlimit_core 0 keeps core files out of the tree.
# expect: fail
# expect-output: not ok [0-9]+ - .*TEST 1: crash - no \[alert\] or \[emerg\] in error log
# expect-output: exited on signal 11
use Test::Nginx::Socket 'no_plan';
run_tests();

__DATA__

=== TEST 1: crash
--- main_config
    worker_rlimit_core 0;
--- config
    location = /t { return 200 "x\n"; }
--- init
my @pids = Test::Nginx::Socket::worker_pids();
die "no worker found\n" unless @pids;
kill 'SEGV', @pids;
sleep 0.2;
--- request
GET /t
--- response_body
x
