# Fixture: a fixed plan, repeat_each(2), shuffled blocks, workers(2).
# expect: pass
# expect-output: ^1\.\.14$
# expect-output: Files=1, Tests=14
use Test::Nginx::Socket;

repeat_each(2);
workers(2);
log_level('info');
plan tests => repeat_each() * (blocks() * 2 + 1);

run_tests();

__DATA__

=== TEST 1: one
--- config
    location = /1 { return 200 "one\n"; }
--- request
GET /1
--- response_body
one



=== TEST 2: two, error_log at info level, with --- timeout
--- config
    location /f/ { root html; }
--- request
GET /f/none
--- error_code: 404
--- timeout: 2s
--- error_log
No such file or directory



=== TEST 3: three, no_error_log debug lines at info level
--- config
    location = /3 { return 200 "three"; }
--- request
GET /3
--- response_body chomp
three
--- no_error_log
[debug]
