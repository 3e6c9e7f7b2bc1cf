# Hostile ingests: thousands of failing items get the first 100 failures
# listed and every one counted (the reply stays a few KB), creators over
# the caps fail alone with the field named, and an item over 64 KiB is
# refused unparsed.
use Test::Nginx::Socket 'no_plan';

our $HttpConfig = <<'_EOC_';
    matcher_store lmdb:store size=64m;
_EOC_

our $Config = <<'_EOC_';
    location /api/creators { matcher_creators; }
_EOC_

# one failure of the list, as the reply writes it
our $NotObject = '\{"index":\d+,"uniqueId":null,"error":"must be a JSON object"\}';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: 3,000 NDJSON lines "1": 100 failures listed, 3,000 counted
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers
Content-Type: application/x-ndjson
--- request eval
"POST /api/creators/ingest\n" . ("1\n" x 3000)
--- response_body_like eval
qr/^\{"message":"ingested 0 creators; 3000 failed, the first 100 listed","count":0,"inserted":0,"updated":0,"unchanged":0,"failed":\[\{"index":0,[^}]*\}(?:,$::NotObject){98},\{"index":99,[^}]*\}\],"failedCount":3000,"failedTruncated":true\}$/s
--- response_body_unlike: "index":100,



=== TEST 2: the same as {"creators":[...]}: 5,000 items, one valid at the end
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers
Content-Type: application/json
--- request eval
my $c = '{"uniqueId":"hostile-ok","nickname":"N","bio":"b","followerCount":1,"region":"US","analysis":{"summary":"s","primaryNiches":["Gardening"],"engagementStyle":{"tone":["Calm"]}}}';
"POST /api/creators/ingest\n" . '{"creators":[' . join(',', ('1') x 5000, $c) . ']}'
--- response_body_like eval
qr/^\{"message":"ingested 1 creators; 5000 failed, the first 100 listed","count":1,"inserted":1,"updated":0,"unchanged":0,"failed":\[$::NotObject(?:,$::NotObject){99}\],"failedCount":5000,"failedTruncated":true\}$/



=== TEST 3: the reply of 20,000 failures is as small as that of 100
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers
Content-Type: application/x-ndjson
--- request eval
"POST /api/creators/ingest\n" . ("[]\n{}\n" x 10000)
--- response_body_like eval
qr/^\{"message":"ingested 0 creators; 20000 failed, the first 100 listed",.*"failedCount":20000,"failedTruncated":true\}$/s
--- response_headers_like
Content-Length: ^[0-9]{4,5}$



=== TEST 4: under the cap every failure is listed, failedTruncated false
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers
Content-Type: application/x-ndjson
--- request eval
"POST /api/creators/ingest\n1\n\"x\"\n"
--- response_body_like eval
qr/^\{"message":"ingested 0 creators","count":0,"inserted":0,"updated":0,"unchanged":0,"failed":\[\{"index":0,"uniqueId":null,"error":"must be a JSON object"\},\{"index":1,"uniqueId":null,"error":"must be a JSON object"\}\],"failedCount":2,"failedTruncated":false\}$/



=== TEST 5: creators over a cap fail alone, the field named; at the cap they pass
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers
Content-Type: application/x-ndjson
--- request eval
sub cr {
    my ($id, $extra) = @_;
    return qq({"uniqueId":"$id","nickname":"N","bio":"b","followerCount":1,"region":"US","analysis":{"summary":"s","primaryNiches":["Gardening"],"engagementStyle":{"tone":["Calm"]}}$extra});
}
my $list50 = join(',', ('"x"') x 50);
my $list51 = join(',', ('"x"') x 51);
my $keys101 = join('', map { qq(,"k$_":$_) } 1 .. 101);
my $big = ',"notes":"' . ('n' x 70000) . '"';
"POST /api/creators/ingest\n"
. cr('cap-at', qq(,"topHashtags":[$list50])) . "\n"
. cr('cap-list', qq(,"topHashtags":[$list51])) . "\n"
. cr('cap-item', ',"topHashtags":["' . ('a' x 201) . '"]') . "\n"
. cr('cap-keys', $keys101) . "\n"
. cr('cap-size', $big) . "\n"
--- response_body_like eval
qr/^\{"message":"ingested 1 creators","count":1,"inserted":1,"updated":0,"unchanged":0,"failed":\[\{"index":1,"uniqueId":"cap-list","error":"topHashtags: must have at most 50 items"\},\{"index":2,"uniqueId":"cap-item","error":"topHashtags\[0\]: must be at most 200 characters"\},\{"index":3,"uniqueId":"cap-keys","error":"must have at most 100 members \(keys\)"\},\{"index":4,"uniqueId":null,"error":"must be at most 65536 bytes of JSON"\}\],"failedCount":4,"failedTruncated":false\}$/
