# Fixture: TEST_NGINX_LOAD_MODULES and $TEST_NGINX_RAND_PORT_N.
# expect: pass
BEGIN {
    $ENV{TEST_NGINX_LOAD_MODULES} = '/usr/lib/nginx/modules/ngx_stream_module.so';
}
use Test::Nginx::Socket;

plan skip_all => 'ngx_stream_module.so not installed'
    unless -f $ENV{TEST_NGINX_LOAD_MODULES};
plan tests => 2;
run_tests();

__DATA__

=== TEST 1: a stream server from a dynamic module, proxied by http
--- main_config
    stream {
        server {
            listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
            return "HTTP/1.0 200 OK\r\nContent-Length: 7\r\n\r\nstream\n";
        }
    }
--- config
    location = /s { proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1; }
--- request
GET /s
--- response_body
stream
