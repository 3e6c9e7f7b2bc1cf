# Fixture: a config nginx refuses; the block fails, the next one still runs.
# expect: fail
# expect-output: not ok [0-9]+ - .*TEST 1: bad config - nginx started: nginx exited with status 1 during start-up
# expect-output: unknown directive "bogus_directive"
# expect-output: ok [0-9]+ - .*TEST 2: good config - status code ok
use Test::Nginx::Socket 'no_plan';
no_shuffle();
run_tests();

__DATA__

=== TEST 1: bad config
--- config
    location = /t { bogus_directive 1; }
--- request
GET /t



=== TEST 2: good config
--- config
    location = /t { return 200; }
--- request
GET /t
