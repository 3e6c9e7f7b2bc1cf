# Fixture: the second of two pipelined responses is wrong.
# expect: fail
# expect-output: ok [0-9]+ - .*response_body - response is expected \(repeated req 0, req 0\)
# expect-output: not ok [0-9]+ - .*response_body - response is expected \(repeated req 0, req 1\)
use Test::Nginx::Socket 'no_plan';
run_tests();

__DATA__

=== TEST 1: pipelined
--- config
    location = /a { return 200 "a\n"; }
    location = /b { return 200 "b\n"; }
--- pipelined_requests eval
["GET /a", "GET /b"]
--- response_body eval
["a\n", "a\n"]
