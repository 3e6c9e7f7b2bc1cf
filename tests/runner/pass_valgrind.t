# Fixture: valgrind mode (master_process off, longer timeouts, memcheck log
# parsing; stock nginx's exit-time leaks are suppressed by the runner).
# expect: pass
# requires: valgrind
# expect-output: Files=1, Tests=5
BEGIN { $ENV{TEST_NGINX_USE_VALGRIND} = 1 }
use Test::Nginx::Socket;

plan tests => 5;
no_shuffle();
run_tests();

__DATA__

=== TEST 1: hello under valgrind
--- config
    location = /t { return 200 "hello\n"; }
--- request
GET /t
--- response_body
hello



=== TEST 2: 404 with an error_log line, single process
--- config
    location /f/ { root html; }
--- request
GET /f/none
--- error_code: 404
--- error_log
No such file or directory
--- shutdown_error_log
exit
