# Assignments API on the embedded LMDB store: validation and error codes.
# Flows that need an id from a reply are in 011-assignment-flow.t.
use Test::Nginx::Socket 'no_plan';
use Matcher::Store;

our $HttpConfig = <<'_EOC_';
    matcher_store lmdb:store size=16m;
_EOC_

our $Config = <<'_EOC_';
    location /api/assignments { matcher_assignments; }
_EOC_

open my $fh, '<', 't/data/example-assignment.json' or die $!;
our $Example = do { local $/; <$fh> };

no_shuffle();
run_tests();

__DATA__

=== TEST 1: POST the example brief: 201, Location, the stored assignment
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers
Content-Type: application/json
--- request eval
"POST /api/assignments\n$::Example"
--- error_code: 201
--- response_headers_like
Location: ^/api/assignments/[0-9a-f]{24}$
--- response_body_like eval
qr/^\{"success":true,"data":\{"id":"[0-9a-f]{24}","topic":"Shrinkflation: paying the same price for smaller or lower-value products",.*"targetAudience":\{"demographic":"Everyday U.S. consumers, especially adults feeling rising costs","locale":"US"\},"creatorValues":\["Honesty","Transparency"\],.*"userId":"demo-user","status":"pending","matchResults":\[\],"createdAt":"[^"]+","updatedAt":"[^"]+","version":1\},"timestamp":"[^"]+"\}$/
--- no_error_log
[error]



=== TEST 2: every failing field is in details
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers
Content-Type: application/json
--- request
POST /api/assignments
{"topic": "  ", "keyTakeaway": 5, "targetAudience": {"locale": "X"},
 "creatorNiches": ["ok", ""], "toneStyle": "fine"}
--- error_code: 400
--- response_body_like eval
qr/"code":"validation_failed","details":\[\{"field":"topic",.*\{"field":"keyTakeaway",.*\{"field":"additionalContext",.*\{"field":"targetAudience.locale",.*"value":"X"\}.*\{"field":"creatorNiches\[1\]"/



=== TEST 3: unknown fields are dropped, strings trimmed
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers
Content-Type: application/json
--- request
POST /api/assignments
{"topic": "  Budget apps ", "keyTakeaway": "k", "additionalContext": "c",
 "isAdmin": true, "status": "completed", "version": 99}
--- error_code: 201
--- response_body_like: "topic":"Budget apps",.*"status":"pending","matchResults":\[\],.*"version":1\}
--- response_body_unlike: isAdmin



=== TEST 4: an id that is not 24 hex characters is 400
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/assignments/not-an-id
--- error_code: 400
--- response_body_like: "code":"validation_failed","details":\[\{"field":"id"



=== TEST 5: an unknown id is 404
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/assignments/65a1b2c3d4e5f60718293a4b
--- error_code: 404
--- response_body_like: ^\{"success":false,"error":"assignment not found","code":"not_found","timestamp":"[^"]+"\}$



=== TEST 6: history: strict integers and known sort fields, all reported
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/assignments/history/demo-user?limit=10abc&skip=-1&sortBy=bogus&sortOrder=up
--- error_code: 400
--- response_body_like eval
qr/"details":\[\{"field":"limit","message":"must be an integer from 1 to 100","value":"10abc"\},\{"field":"skip".*\{"field":"sortBy".*"value":"bogus"\},\{"field":"sortOrder"/



=== TEST 7: history: limit over 100 is 400
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/assignments/history/demo-user?limit=101
--- error_code: 400



=== TEST 8: history of a user with none is empty, with pagination
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/assignments/history/nobody
--- response_body_like: ^\{"success":true,"data":\[\],"pagination":\{"count":0,"total":0,"limit":50,"skip":0,"hasMore":false\},"timestamp":"[^"]+"\}$



=== TEST 9: history pages through a user's assignments
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- pipelined_requests eval
["POST /api/assignments\n{\"topic\":\"a\",\"keyTakeaway\":\"k\",\"additionalContext\":\"c\",\"userId\":\"pager\"}",
 "POST /api/assignments\n{\"topic\":\"b\",\"keyTakeaway\":\"k\",\"additionalContext\":\"c\",\"userId\":\"pager\"}",
 "POST /api/assignments\n{\"topic\":\"c\",\"keyTakeaway\":\"k\",\"additionalContext\":\"c\",\"userId\":\"pager\"}",
 "GET /api/assignments/history/pager?limit=2&sortBy=topic&sortOrder=asc"]
--- more_headers
Content-Type: application/json
--- error_code eval
[201, 201, 201, 200]
--- response_body_like eval
[".", ".", ".", qr/^\{"success":true,"data":\[\{"id":"[^"]+","topic":"a",.*\},\{"id":"[^"]+","topic":"b",.*\}\],"pagination":\{"count":2,"total":3,"limit":2,"skip":0,"hasMore":true\}/]



=== TEST 10: PATCH with an empty matchResults is 400
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers
Content-Type: application/json
--- request
PATCH /api/assignments/65a1b2c3d4e5f60718293a4b/matches
{"matchResults": []}
--- error_code: 400
--- response_body_like: "field":"matchResults"



=== TEST 11: PATCH with a score out of range and no reasoning is 400
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers
Content-Type: application/json
--- request
PATCH /api/assignments/65a1b2c3d4e5f60718293a4b/matches
{"matchResults": [{"creatorId": "x", "matchScore": 1.5, "reasoning": ""}]}
--- error_code: 400
--- response_body_like: "field":"matchResults\[0\].matchScore".*"field":"matchResults\[0\].reasoning"



=== TEST 12: PATCH of an unknown assignment is 404
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers
Content-Type: application/json
--- request
PATCH /api/assignments/65a1b2c3d4e5f60718293a4b/matches
{"matchResults": [{"creatorId": "x", "matchScore": 0.5, "reasoning": "fits"}]}
--- error_code: 404



=== TEST 13: PATCH with a bad If-Match is 412
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers
Content-Type: application/json
If-Match: "abc"
--- request
PATCH /api/assignments/65a1b2c3d4e5f60718293a4b/matches
{"matchResults": [{"creatorId": "x", "matchScore": 0.5, "reasoning": "fits"}]}
--- error_code: 412
--- response_body_like: "code":"precondition_failed"



=== TEST 14: OPTIONS on the item lists GET
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
OPTIONS /api/assignments/65a1b2c3d4e5f60718293a4b
--- error_code: 204
--- response_headers
Allow: GET, HEAD, OPTIONS
