# Fixture: valgrind findings fail the block.  Stock nginx leaks two blocks
# at exit in single-process mode; with the runner's built-in suppressions
# turned off, memcheck reports them as definite leaks.
# expect: fail
# requires: valgrind
# expect-output: not ok [0-9]+ - .*TEST 1: leak - valgrind: no memory errors or definite leaks
# expect-output: are definitely lost in loss record
BEGIN {
    $ENV{TEST_NGINX_USE_VALGRIND} = 1;
    $ENV{TEST_NGINX_VALGRIND_STOCK_SUPP} = 0;
}
use Test::Nginx::Socket 'no_plan';
run_tests();

__DATA__

=== TEST 1: leak
--- config
    location = /t { return 200 "hello\n"; }
--- request
GET /t
--- response_body
hello
