# Cross-site safety (issue 12), with or without keys: a request that
# changes state needs a JSON (or, for ingest, NDJSON) Content-Type even
# with no body, since a page of another origin can send a "simple" POST
# without one and without a preflight; CORS is an allow-list with
# "Vary: Origin" on every reply.  And limit_req's 429 in the contract's
# envelope, with Retry-After, keyed on $matcher_api_key_name.
use Test::Nginx::Socket 'no_plan';
use Digest::SHA qw(sha256_hex);
use File::Temp qw(tempdir);

our $Dir = tempdir('matcher-keys-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $Dir;
open my $fh, '>', "$Dir/keys" or die;
print {$fh} "a:read,write:" . sha256_hex('key-a-0123456789') . "\n"
          . "b:read,write:" . sha256_hex('key-b-0123456789') . "\n";
close $fh;
chmod 0644, "$Dir/keys";
our $Keys = "$Dir/keys";

our $HttpConfig = <<'_EOC_';
    matcher_store lmdb:store size=16m;
_EOC_

our $Config = <<'_EOC_';
    matcher_cors_origins https://app.example.com;
    location /api/assignments { matcher_assignments; }
    location /api/creators { matcher_creators; }
    location /api/matches { matcher_matches; }
_EOC_

# one request a minute per key, the second of a burst refused
our $Limited = <<"_EOC_";
    matcher_api_keys $Keys;
    matcher_cors_origins https://app.example.com;
    limit_req zone=perkey;
    limit_req_status 429;
    error_page 429 \@rate_limited;
    location \@rate_limited { matcher_rate_limited 7s; }
    location /api/creators { matcher_creators; }
_EOC_

our $LimitedHttp = <<'_EOC_';
    matcher_store lmdb:store size=16m;
    limit_req_zone $matcher_api_key_name zone=perkey:1m rate=1r/m;
_EOC_

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a no-body ingest without a Content-Type is 415: no file reload
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
POST /api/creators/ingest
--- error_code: 415
--- response_body_like: "code":"unsupported_media_type"



=== TEST 2: the same for refresh, assignments, matches and PATCH
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- pipelined_requests eval
["POST /api/creators/embeddings/refresh", "POST /api/assignments",
 "POST /api/matches", "PATCH /api/assignments/0123456789abcdef01234567/matches"]
--- error_code eval
[415, 415, 415, 415]



=== TEST 3: the types a form or a simple fetch can send are 415 with a body
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- pipelined_requests eval
["POST /api/assignments\n{\"topic\":\"x\"}",
 "POST /api/assignments\ntopic=x",
 "POST /api/assignments\n--b--"]
--- more_headers eval
["Content-Type: text/plain", "Content-Type: application/x-www-form-urlencoded",
 "Content-Type: multipart/form-data; boundary=b"]
--- error_code eval
[415, 415, 415]



=== TEST 4: a no-body refresh with application/json goes through
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers
Content-Type: application/json
--- request
POST /api/creators/embeddings/refresh
--- error_code: 202



=== TEST 5: every reply of a CORS location varies on Origin, with or without one
(and GET /creators' 200 on Accept too: it may be CSV, issue 13)
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- pipelined_requests eval
["GET /api/creators?limit=1", "GET /api/creators?limit=1",
 "GET /api/creators/nobody", "POST /api/creators/ingest"]
--- more_headers eval
["", "Origin: https://evil.example", "Origin: https://app.example.com", ""]
--- error_code eval
[200, 200, 404, 415]
--- response_headers eval
["Vary: Accept, Origin\n!Access-Control-Allow-Origin",
 "Vary: Accept, Origin\n!Access-Control-Allow-Origin",
 "Vary: Origin\nAccess-Control-Allow-Origin: https://app.example.com",
 "Vary: Origin"]



=== TEST 6: a preflight from another origin gets no CORS headers
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers
Origin: https://evil.example
Access-Control-Request-Method: POST
Access-Control-Request-Headers: content-type
--- request
OPTIONS /api/creators/ingest
--- error_code: 204
--- response_headers
!Access-Control-Allow-Origin
!Access-Control-Allow-Headers
!Access-Control-Allow-Methods
Vary: Origin



=== TEST 7: a preflight asking only for headers we do not take gets none
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers
Origin: https://app.example.com
Access-Control-Request-Method: POST
Access-Control-Request-Headers: x-evil, cookie
--- request
OPTIONS /api/assignments
--- error_code: 204
--- response_headers
Access-Control-Allow-Origin: https://app.example.com
Access-Control-Allow-Methods: POST, OPTIONS
!Access-Control-Allow-Headers



=== TEST 8: a location without matcher_cors_origins sends no Vary: Origin
(GET /creators' 200 varies on Accept only: it may be CSV, issue 13)
--- http_config eval: $::HttpConfig
--- config
    location /api/creators { matcher_creators; }
--- request
GET /api/creators?limit=1
--- response_headers
Vary: Accept



=== TEST 9: limit_req per key: the second is 429 in the envelope, Retry-After
--- http_config eval: $::LimitedHttp
--- config eval: $::Limited
--- pipelined_requests eval
["GET /api/creators?limit=1", "GET /api/creators?limit=1",
 "GET /api/creators?limit=1", "POST /api/creators/ingest\n{\"creators\":[]}"]
--- more_headers eval
["X-Api-Key: key-a-0123456789", "X-Api-Key: key-a-0123456789\nOrigin: https://app.example.com",
 "X-Api-Key: key-b-0123456789", "X-Api-Key: key-a-0123456789\nContent-Type: application/json"]
--- error_code eval
[200, 429, 200, 429]
--- response_headers eval
["!Retry-After", "Retry-After: 7\nContent-Type: application/json; charset=utf-8\nAccess-Control-Allow-Origin: https://app.example.com\nVary: Origin",
 "!Retry-After", "Retry-After: 7"]
--- response_body_like eval
['"pagination"', '^\{"success":false,"error":"too many requests[^"]*","code":"rate_limited","timestamp":"[^"]+"\}$',
 '"pagination"', '"code":"rate_limited"']



=== TEST 10: no key is never limited by the key's zone: its 401 stays a 401
--- http_config eval: $::LimitedHttp
--- config eval: $::Limited
--- pipelined_requests eval
["GET /api/creators", "GET /api/creators", "GET /api/creators"]
--- error_code eval
[401, 401, 401]



=== TEST 11: matcher_rate_limited takes a time from 1s to 1d
--- http_config eval: $::HttpConfig
--- config
    location @rl { matcher_rate_limited 0s; }
--- must_die
--- error_log
takes a time from 1s to 1d
