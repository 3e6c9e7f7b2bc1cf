# POST /matches edge cases that need no creators: an empty creator set,
# bad input, and the framing endpoint's validation.
use Test::Nginx::Socket 'no_plan';

our $HttpConfig = <<'_EOC_';
    matcher_store lmdb:store size=16m;
_EOC_

our $Config = <<'_EOC_';
    location /api/matches { matcher_matches; }
_EOC_

no_shuffle();
run_tests();

__DATA__

=== TEST 1: no creators at all: 200, no matches, a reasoning that says so
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
POST /api/matches
{"assignment":{"topic":"Budgeting","keyTakeaway":"Save more","additionalContext":"Short video"}}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_body_like: ^\{"success":true,"data":\{"assignment":\{"topic":"Budgeting",.*"matches":\[\],"reasoning":"[^"]*(?i:empty)[^"]*","isFallback":(true|false)\},"timestamp":"[^"]+"\}$



=== TEST 2: an assignment that is not an object
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
POST /api/matches
{"assignment":"budgeting"}
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_body_like: "code":"validation_failed","details":\[\{"field":"assignment","message":"must be an object"



=== TEST 3: topK and framing of the wrong type, both reported
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
POST /api/matches
{"assignment":{"topic":"t","keyTakeaway":"k","additionalContext":"c"},"topK":"3","framing":1}
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_body_like: "details":\[\{"field":"topK",.*\{"field":"framing"



=== TEST 4: framing without a creator
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
POST /api/matches/framing
{"assignment":{"topic":"t","keyTakeaway":"k","additionalContext":"c"}}
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_body_like: "field":"creatorId"



=== TEST 5: framing for a creator sent inline needs no store lookup
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
POST /api/matches/framing
{"assignment":{"topic":"Budget apps","keyTakeaway":"Track every coffee","additionalContext":"c"},"creator":{"uniqueId":"x1","nickname":"Sam","analysis":{"primaryNiches":["Personal Finance"],"engagementStyle":{"tone":["Humorous"]}}}}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_body_like: ^\{"success":true,"data":\{"assignment":\{"topic":"Budget apps","keyTakeaway":"Track every coffee","additionalContext":"c"\},"creator":\{"uniqueId":"x1".*"framing":"(?:[^"\\]|\\.)*Sam(?:[^"\\]|\\.)*Track every coffee



=== TEST 6: GET is not a method of /matches
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/matches
--- error_code: 405
--- response_headers
Allow: POST, OPTIONS
