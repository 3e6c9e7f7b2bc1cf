# API keys (issue 12): matcher_api_keys names a file of
# name:scopes:sha256hex lines; no key or an unknown one is 401 with
# WWW-Authenticate, a read key on a write is 403, /health and preflights
# stay open, $matcher_api_key_name names the key for logs and limit_req,
# and limit_req's 429 comes in the contract's envelope with Retry-After.
# Also the cross-site rules that hold with or without keys: 415 for a
# state-changing request without a JSON type, even with no body, and
# CORS as an allow-list.
use Test::Nginx::Socket 'no_plan';
use Digest::SHA qw(sha256_hex);
use File::Temp qw(tempdir);

our $Dir = tempdir('matcher-keys-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $Dir;

sub keyfile {
    my ($name, $text) = @_;
    open my $fh, '>', "$Dir/$name" or die "$Dir/$name: $!";
    print {$fh} $text;
    close $fh;
    chmod 0644, "$Dir/$name";
    return "$Dir/$name";
}

our $Keys = keyfile('keys', <<"_EOK_");
# the test's keys
reader:read:${\ sha256_hex('read-key-0123456789') }
writer:read,write:${\ sha256_hex('write-key-0123456789') }   # ops

  other:write:${\ sha256_hex('other-key-0123456789') }
_EOK_

our $BadLine = keyfile('bad', "reader:read:" . sha256_hex('x') . "\n"
                              . "writer:admin:" . sha256_hex('y') . "\n");
our $Plain = keyfile('plain', "reader:read:read-key-0123456789\n");
our $Twice = keyfile('twice', "a:read:" . sha256_hex('k') . "\n"
                              . "b:write:" . sha256_hex('k') . "\n");

our $HttpConfig = <<"_EOC_";
    matcher_store lmdb:store size=16m;
    log_format keys '\$request_uri key=\$matcher_api_key_name '
                    'status=\$status error=\$matcher_error_code';
_EOC_

our $Config = <<"_EOC_";
    matcher_api_keys $Keys;
    access_log logs/access.log keys;
    location = /health { matcher_health; }
    location /api/assignments { matcher_assignments; }
    location /api/creators { matcher_creators; }
    location /api/matches { matcher_matches; }
    location /open/creators {
        matcher_api_keys off;
        matcher_creators;
    }
_EOC_

our $Read = 'Authorization: Bearer read-key-0123456789';
our $Write = 'Authorization: Bearer write-key-0123456789';

our $Creator = '{"creators":[{"uniqueId":"keyed","nickname":"K",'
    . '"bio":"Cooking videos","followerCount":10,"region":"US",'
    . '"analysis":{"summary":"Cooking.","primaryNiches":["Cooking"],'
    . '"engagementStyle":{"tone":["Warm"]}}}]}';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: no key: 401 in the envelope, WWW-Authenticate names the realm
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/creators
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer realm="matching-service"
--- response_body_like: ^\{"success":false,"error":"an API key is required[^"]*","code":"unauthorized","timestamp":"[^"]+"\}$



=== TEST 2: an unknown key: 401, invalid_token, and the key is never logged
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers
X-Api-Key: wrong-key-0123456789
--- request
GET /api/creators
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer realm="matching-service", error="invalid_token"
--- response_body_like: "code":"unauthorized"
--- error_log
matcher: 401 unauthorized: the API key is not valid
--- no_error_log eval
qr/^(?!.*\[debug\]).*wrong-key-0123456789/



=== TEST 3: a read key as a Bearer token reads
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers eval: $::Read
--- request
GET /api/creators?limit=1
--- error_code: 200
--- response_body_like: "pagination"



=== TEST 4: a read key in X-Api-Key reads; the scheme's case does not matter
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- pipelined_requests eval
["GET /api/creators?limit=1", "GET /api/creators?limit=1"]
--- more_headers eval
["X-Api-Key: read-key-0123456789", "Authorization: bearer  read-key-0123456789"]
--- error_code eval
[200, 200]



=== TEST 5: a read key on a write: 403 forbidden, before the body is read
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers eval: "$::Read\nContent-Type: application/json"
--- request eval
"POST /api/creators/ingest\n$::Creator"
--- error_code: 403
--- response_body_like: ^\{"success":false,"error":"this API key may not write[^"]*","code":"forbidden"



=== TEST 6: a read key on a PATCH and on POST /matches (it may save): 403
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- pipelined_requests eval
["PATCH /api/assignments/0123456789abcdef01234567/matches\n{}",
 "POST /api/matches\n{}", "POST /api/assignments\n{}",
 "POST /api/creators/embeddings/refresh\n{}"]
--- more_headers eval: "$::Read\nContent-Type: application/json"
--- error_code eval
[403, 403, 403, 403]



=== TEST 7: a read key may POST what only reads: search, embeddings, framing
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- pipelined_requests eval
["POST /api/creators/search\n{\"query\":\"cooking\"}",
 "POST /api/creators/embeddings\n{\"texts\":[\"a\"]}",
 "POST /api/matches/framing\n{}"]
--- more_headers eval: "$::Read\nContent-Type: application/json"
--- error_code eval
[200, 200, 400]



=== TEST 8: a write key writes, and the access log names it, never the key
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers eval: "$::Write\nContent-Type: application/json"
--- request eval
"POST /api/creators/ingest\n$::Creator"
--- error_code: 200
--- response_body_like: "inserted":1
--- access_log
key=writer status=200
--- no_error_log eval
qr/^(?!.*\[debug\]).*write-key-0123456789/



=== TEST 9: a write-only key can write but not read
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- pipelined_requests eval
["GET /api/creators/keyed", "POST /api/creators/ingest\n$::Creator"]
--- more_headers eval: "X-Api-Key: other-key-0123456789\nContent-Type: application/json"
--- error_code eval
[403, 200]



=== TEST 10: /health stays open, and so does a location with "off"
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- pipelined_requests eval
["GET /health", "GET /open/creators?limit=1"]
--- error_code eval
[200, 200]



=== TEST 11: a preflight carries no key and gets its 204
--- http_config eval: $::HttpConfig
--- config eval: "matcher_cors_origins https://app.example.com;\n$::Config"
--- more_headers
Origin: https://app.example.com
Access-Control-Request-Method: POST
Access-Control-Request-Headers: content-type, authorization, x-evil
--- request
OPTIONS /api/creators/ingest
--- error_code: 204
--- response_headers
Access-Control-Allow-Origin: https://app.example.com
Access-Control-Allow-Headers: Content-Type, Authorization
Vary: Origin



=== TEST 12: without a key an unknown path is 401, not 404: no key learns paths
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- pipelined_requests eval
["GET /api/creators/a/b/c", "DELETE /api/creators"]
--- error_code eval
[401, 401]



=== TEST 13: with a key, the 404 and the 405 as before
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- pipelined_requests eval
["GET /api/creators/a/b/c", "DELETE /api/creators"]
--- more_headers eval: $::Read
--- error_code eval
[404, 405]



=== TEST 14: a key far too long is refused without hashing it
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers eval: "X-Api-Key: " . ("k" x 5000)
--- request
GET /api/creators
--- error_code: 401



=== TEST 15: a bad line stops nginx -t, naming the file and the line
--- http_config eval: $::HttpConfig
--- config eval: "matcher_api_keys $::BadLine;\nlocation /api/creators { matcher_creators; }"
--- must_die
--- error_log eval
qr/invalid line 2 in key file ".*bad": scopes must be a comma list/



=== TEST 16: a key in clear instead of its hash is refused
--- http_config eval: $::HttpConfig
--- config eval: "matcher_api_keys $::Plain;\nlocation /api/creators { matcher_creators; }"
--- must_die
--- error_log eval
qr/invalid line 1 in key file ".*plain": the hash must be 64 hex digits/



=== TEST 17: one key under two names is refused
--- http_config eval: $::HttpConfig
--- config eval: "matcher_api_keys $::Twice;\nlocation /api/creators { matcher_creators; }"
--- must_die
--- error_log eval
qr/line 2 of key file ".*twice" has the key of "a" again/



=== TEST 18: a missing key file is refused
--- http_config eval: $::HttpConfig
--- config eval: "matcher_api_keys $::Dir/none;\nlocation /api/creators { matcher_creators; }"
--- must_die
--- error_log eval
qr/open\(\) ".*none" failed/
