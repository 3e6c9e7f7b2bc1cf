# Fixture: TEST_NGINX_LOAD_MODULES is honoured (a missing .so stops nginx).
# expect: fail
# expect-output: not ok [0-9]+ - .*TEST 1: load - nginx started
# expect-output: dlopen\(\) "/nonexistent/ngx_http_nothing_module\.so" failed
BEGIN { $ENV{TEST_NGINX_LOAD_MODULES} = '/nonexistent/ngx_http_nothing_module.so' }
use Test::Nginx::Socket 'no_plan';
run_tests();

__DATA__

=== TEST 1: load
--- config
    location = /t { return 200; }
--- request
GET /t
