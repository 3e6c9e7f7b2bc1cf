# Creators API on the embedded store: listing, lookup, ingest (JSON and
# NDJSON), validation and the start-up load of matcher_creators_file.
use Test::Nginx::Socket 'no_plan';
use Matcher::Store;
use Cwd qw(abs_path);

$ENV{TEST_NGINX_CREATORS} = abs_path('t/data/creators.json');

our $HttpConfig = <<'_EOC_';
    matcher_store lmdb:store size=64m;
    matcher_creators_file $TEST_NGINX_CREATORS;
_EOC_

our $Config = <<'_EOC_';
    location /api/creators { matcher_creators; }
_EOC_

no_shuffle();
run_tests();

__DATA__

=== TEST 1: the creators file is loaded into the empty store at start
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
# the load runs on the thread pool after start: wait for it (bounded)
use IO::Socket::INET;
for (1 .. 300) {
    my $s = IO::Socket::INET->new("127.0.0.1:$Test::Nginx::Socket::ServerPort")
        or next;
    print $s "GET /api/creators?limit=1 HTTP/1.0\r\n\r\n";
    my $r = do { local $/; <$s> } // '';
    last if $r =~ /"total":17/;
    select undef, undef, undef, 0.1;
}
--- request
GET /api/creators?limit=100
--- response_body_like eval
qr/^\{"creators":\[\{"uniqueId":"artsyalmanac",.*\],"pagination":\{"page":1,"limit":100,"total":17,"pages":1\}\}$/
--- error_log
matcher: loaded 17 creators



=== TEST 2: one creator, as stored, with server fields
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/creators/mindsovermoney
--- response_body_like eval
qr/^\{"creator":\{"uniqueId":"mindsovermoney","nickname":"Alex R\.",.*"secUid":"MS4wLjABAAAA.*"crawlCount":\d+,"createdAt":"[^"]+","updatedAt":"[^"]+","embedding":\{(?:"model":null,"dimensions":0,"textHash":"[0-9a-f]{16}","updatedAt":null,"status":"pending"|"model":"local-tfidf-v1","dimensions":512,"textHash":"[0-9a-f]{16}","updatedAt":"[^"]+","status":"ready")\}\}\}$/



=== TEST 3: an unknown creator is 404 in the envelope
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/creators/nobody-here
--- error_code: 404
--- response_body_like: ^\{"success":false,"error":"creator not found","code":"not_found"



=== TEST 4: filter by region and niche (primary or secondary), any case
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/creators?region=us&niche=personal%20finance
--- response_body_like eval
qr/^\{"creators":\[\{"uniqueId":"laughingledger",.*\},\{"uniqueId":"mindsovermoney",.*\}\],"pagination":\{"page":1,"limit":20,"total":2,"pages":1\}\}$/



=== TEST 5: a niche that is secondary also matches ("+" is a space)
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/creators?niche=Consumer+Psychology&limit=5
--- response_body_like: "uniqueId":"mindsovermoney"



=== TEST 6: pages
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/creators?page=4&limit=5
--- response_body_like eval
qr/^\{"creators":\[\{"uniqueId":"techtruths",.*\},\{"uniqueId":"travelbytram",.*\}\],"pagination":\{"page":4,"limit":5,"total":17,"pages":4\}\}$/



=== TEST 7: limit over 100 and a non-integer page are 400
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/creators?limit=101&page=1x
--- error_code: 400
--- response_body_like: "details":\[\{"field":"page".*\{"field":"limit"



=== TEST 8: GET on ingest is 405: the path is reserved
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/creators/ingest
--- error_code: 405
--- response_headers
Allow: POST, OPTIONS



=== TEST 9: ingest the same file again: nothing changes
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers
Content-Type: application/json
--- request
POST /api/creators/ingest
--- response_body chomp
{"message":"ingested 17 creators","count":17,"inserted":0,"updated":0,"unchanged":17,"failed":[],"failedCount":0,"failedTruncated":false}



=== TEST 10: ingest JSON: one new, one changed, one invalid, one unchanged
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers
Content-Type: application/json
--- request eval
use JSON::PP;
open my $fh, '<', 't/data/creators.json' or die;
my $all = decode_json(do { local $/; <$fh> });
my $changed = { %{ $all->{mindsovermoney} }, followerCount => 1 };
my $same = $all->{marketdecoded};
my $new = { %{ $all->{techtruths} }, uniqueId => 'brandnew', futureField => [1, 2] };
my $bad = { uniqueId => 'search', nickname => 'x' };
"POST /api/creators/ingest\n" . JSON::PP->new->utf8->canonical->encode(
    { creators => [$new, $changed, $bad, $same] })
--- response_body_like eval
qr/^\{"message":"ingested 3 creators","count":3,"inserted":1,"updated":1,"unchanged":1,"failed":\[\{"index":2,"uniqueId":"search","error":"[^"]*uniqueId[^"]*"\}\],"failedCount":1,"failedTruncated":false\}$/



=== TEST 11: unknown fields are kept and returned
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/creators/brandnew
--- response_body_like: "futureField":\[1,2\]



=== TEST 12: NDJSON, blank lines skipped, indexes among non-empty lines
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers
Content-Type: application/x-ndjson
--- request eval
my $c = '{"uniqueId":"nd1","nickname":"N","bio":"b","followerCount":1,"region":"US","analysis":{"summary":"s","primaryNiches":["Gardening"],"engagementStyle":{"tone":["Calm"]}}}';
(my $d = $c) =~ s/nd1/nd2/;
"POST /api/creators/ingest\n$c\n\n{not json}\n$d\n"
--- response_body_like eval
qr/^\{"message":"ingested 2 creators","count":2,"inserted":2,"updated":0,"unchanged":0,"failed":\[\{"index":1,"uniqueId":null,"error":"invalid JSON at byte \d+"\}\],"failedCount":1,"failedTruncated":false\}$/



=== TEST 13: another media type on ingest is 415, naming both accepted
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers
Content-Type: text/csv
--- request
POST /api/creators/ingest
uniqueId,nickname
--- error_code: 415
--- response_body_like: application/json or application/x-ndjson



=== TEST 14: a body that is not {"creators": [...]} is 400
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers
Content-Type: application/json
--- request
POST /api/creators/ingest
{"people": []}
--- error_code: 400
--- response_body_like: "code":"validation_failed"



=== TEST 15: broken JSON in an ingest is 400 invalid_json
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers
Content-Type: application/json
--- request
POST /api/creators/ingest
{"creators": [
--- error_code: 400
--- response_body_like: "code":"invalid_json"



=== TEST 16: ingest with no body and no file configured is 400
--- http_config
    matcher_store lmdb:store2 size=16m;
--- config eval: $::Config
--- more_headers
Content-Type: application/json
--- request
POST /api/creators/ingest
--- error_code: 400
--- response_body_like: matcher_creators_file



=== TEST 17: an ingest over its own limit is 413
--- http_config eval: $::HttpConfig
--- config
    location /api/creators {
        matcher_creators;
        matcher_ingest_max_body_size 100;
    }
--- more_headers
Content-Type: application/json
--- request eval
"POST /api/creators/ingest\n{\"creators\": [" . ('{},' x 50) . '{}]}'
--- error_code: 413



=== TEST 18: the ingest limit is not the JSON limit
--- http_config eval: $::HttpConfig
--- config
    location /api/creators {
        matcher_creators;
        matcher_max_body_size 100;
    }
--- more_headers
Content-Type: application/json
--- request eval
"POST /api/creators/ingest\n{\"creators\": [" . ('{},' x 50) . '{}]}'
--- error_code: 200
--- response_body_like: "count":0,.*"failed":\[\{"index":0



=== TEST 19: search and matching without a store: 503; texts embed anyway
--- http_config
--- config
    location /api/creators { matcher_creators; }
    location /api/matches { matcher_matches; }
--- pipelined_requests eval
["POST /api/creators/search\n{\"query\":\"money\"}",
 "POST /api/creators/embeddings\n{\"texts\":[\"money\"]}",
 "POST /api/creators/embeddings\n{\"creatorIds\":[\"a\"]}",
 "POST /api/matches\n{\"assignment\":{\"topic\":\"t\",\"keyTakeaway\":\"k\",\"additionalContext\":\"c\"}}"]
--- more_headers
Content-Type: application/json
--- error_code eval
[503, 200, 503, 503]
--- response_body_like eval
[qr/"code":"unavailable"/, qr/^\{"embeddings":\[\[-?\d.*"count":1,"model":"local-tfidf-v1","dimensions":512\}$/, qr/"code":"unavailable"/, qr/"code":"unavailable"/]
