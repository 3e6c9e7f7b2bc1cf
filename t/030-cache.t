# The shared cache: matcher_cache_zone checks in nginx -t, and through
# POST /creators/embeddings a MISS then a HIT, "matcher_cache off", the
# ttl, /health's cache check and a zone too small to hold much (which
# must never fail a request).  $matcher_cache_status is shown in an
# X-Cache header and in the access log.
use Test::Nginx::Socket 'no_plan';

# every block starts nginx afresh, so every block starts with an empty
# zone; an embedder directive, when one is needed, belongs here
our $Common = <<'_EOC_';
    matcher_store lmdb:store size=16m;
    log_format cache '$request_method $uri $status cache=$matcher_cache_status';
_EOC_

our $HttpConfig = $Common . "    matcher_cache_zone matcher:1m;\n";

our $Config = <<'_EOC_';
    location /api/creators/ {
        matcher_creators;
        add_header X-Cache $matcher_cache_status always;
        access_log logs/access.log cache;
    }
    location = /api/health {
        matcher_health;
        add_header X-Cache $matcher_cache_status always;
    }
_EOC_

our $Embed = qq{POST /api/creators/embeddings\n{"texts":["some text"]}};

# one embeddings request outside the block's own (for --- init, which
# runs once nginx is up): returns the response's head and body
use IO::Socket::INET;

sub embed {
    my ($text) = @_;
    my $body = qq{{"texts":["$text"]}};
    my $s = IO::Socket::INET->new('127.0.0.1:' . server_port())
        or die "cannot connect: $!\n";
    print $s "POST /api/creators/embeddings HTTP/1.0\r\n"
        . "Content-Type: application/json\r\n"
        . 'Content-Length: ' . length($body) . "\r\n\r\n$body";
    my $r = do { local $/; <$s> } // '';
    return split /\r\n\r\n/, $r, 2;
}

# until /api/health says the embedder is up: an empty store's first
# start builds the embedder's state in the background, and a request
# answered before it lands is embedded with no state, under another key
# than the same text after it (a MISS twice, seen on a busy box)
sub ready {
    for (1 .. 200) {
        my $s = IO::Socket::INET->new('127.0.0.1:' . server_port()) or next;
        print $s "GET /api/health HTTP/1.0\r\n\r\n";
        my $r = do { local $/; <$s> } // '';
        return if $r =~ /"embeddings":\{"status":"up"/;
        select undef, undef, undef, 0.05;
    }
    Test::More::fail('the embedder is up within 10 s');
}

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a zone smaller than eight pages
--- http_config
    matcher_cache_zone tiny:16k;
--- config
    location = /health { matcher_health; }
--- must_die
--- error_log
matcher_cache_zone "tiny:16k" is too small



=== TEST 2: a size that is not one
--- http_config
    matcher_cache_zone matcher:lots;
--- config
    location = /health { matcher_health; }
--- must_die
--- error_log
invalid zone size "matcher:lots" in "matcher_cache_zone"



=== TEST 3: no colon, no size
--- http_config
    matcher_cache_zone matcher;
--- config
    location = /health { matcher_health; }
--- must_die
--- error_log
invalid zone "matcher" in "matcher_cache_zone": expected "name:size"



=== TEST 4: no name
--- http_config
    matcher_cache_zone :1m;
--- config
    location = /health { matcher_health; }
--- must_die
--- error_log
invalid zone ":1m" in "matcher_cache_zone": expected "name:size"



=== TEST 5: one cache zone only
--- http_config
    matcher_cache_zone one:1m;
    matcher_cache_zone two:1m;
--- config
    location = /health { matcher_health; }
--- must_die
--- error_log
"matcher_cache_zone" directive is duplicate



=== TEST 6: the zone is declared at http level only
--- config
    location = /health {
        matcher_health;
        matcher_cache_zone matcher:1m;
    }
--- must_die
--- error_log
"matcher_cache_zone" directive is not allowed here



=== TEST 7: a zone name another module already uses
--- http_config
    limit_req_zone $binary_remote_addr zone=matcher:1m rate=1r/s;
    matcher_cache_zone matcher:1m;
--- config
    location = /health { matcher_health; }
--- must_die
--- error_log
the shared memory zone "matcher" is already declared for a different use



=== TEST 8: a bad ttl
--- http_config
    matcher_cache_zone matcher:1m;
    matcher_cache_ttl soon;
--- config
    location = /health { matcher_health; }
--- must_die
--- error_log
"matcher_cache_ttl" directive invalid value



=== TEST 9: matcher_cache is on or off
--- http_config
    matcher_cache_zone matcher:1m;
--- config
    location = /health {
        matcher_health;
        matcher_cache maybe;
    }
--- must_die
--- error_log
invalid value "maybe" in "matcher_cache" directive, it must be "on" or "off"



=== TEST 10: the smallest zone starts; the status is empty where the cache is not used
--- http_config
    matcher_cache_zone matcher:32k;
    matcher_cache_ttl 1h;
--- config
    location = /health {
        matcher_health;
        add_header X-Cache $matcher_cache_status always;
    }
--- request
GET /health
--- response_headers
!X-Cache
--- response_body_like: "cache":\{"status":"up"
--- no_error_log
[error]



=== TEST 11: without a zone the health check says the cache is disabled
--- config
    location = /health { matcher_health; }
--- request
GET /health
--- response_body_like: "cache":\{"status":"disabled"



=== TEST 12: the first request is a MISS, the same text again a HIT
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
main::ready();
--- more_headers
Content-Type: application/json
--- request eval
[$::Embed, $::Embed]
--- response_headers eval
["X-Cache: MISS", "X-Cache: HIT"]
--- response_body_like eval
[qr/^\{"embeddings":\[\[-?\d/, qr/^\{"embeddings":\[\[-?\d/]
--- access_log
POST /api/creators/embeddings 200 cache=MISS
POST /api/creators/embeddings 200 cache=HIT
--- no_error_log
[error]



=== TEST 13: a hit answers exactly what the miss computed
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers
Content-Type: application/json
--- init
main::ready();
my ($h1, $b1) = main::embed('same answer twice');
my ($h2, $b2) = main::embed('same answer twice');
Test::More::like($h1, qr/^X-Cache: MISS\r?$/m, 'TEST 13: first a miss');
Test::More::like($h2, qr/^X-Cache: HIT\r?$/m, 'TEST 13: then a hit');
Test::More::is($b2, $b1, 'TEST 13: the hit has the same body');
--- request
POST /api/creators/embeddings
{"texts":["same answer twice"]}
--- response_headers
X-Cache: HIT



=== TEST 14: different texts are different entries
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
main::ready();
--- more_headers
Content-Type: application/json
--- request eval
[qq{POST /api/creators/embeddings\n{"texts":["one text"]}},
 qq{POST /api/creators/embeddings\n{"texts":["another text"]}},
 qq{POST /api/creators/embeddings\n{"texts":["one text"]}}]
--- response_headers eval
["X-Cache: MISS", "X-Cache: MISS", "X-Cache: HIT"]



=== TEST 15: "matcher_cache off" in a location bypasses the cache
--- http_config eval: $::HttpConfig
--- config
    location /api/creators/ {
        matcher_creators;
        matcher_cache off;
        add_header X-Cache $matcher_cache_status always;
    }
--- more_headers
Content-Type: application/json
--- request eval
[$::Embed, $::Embed]
--- response_headers eval
["X-Cache: BYPASS", "X-Cache: BYPASS"]
--- error_code eval
[200, 200]



=== TEST 16: off at http level, on again in one location
--- http_config eval: $::HttpConfig . "    matcher_cache off;\n"
--- config
    location /api/creators/ {
        matcher_creators;
        add_header X-Cache $matcher_cache_status always;
    }
    location /v2/creators/ {
        matcher_creators;
        matcher_cache on;
        add_header X-Cache $matcher_cache_status always;
    }
--- more_headers
Content-Type: application/json
--- request eval
[$::Embed, qq{POST /v2/creators/embeddings\n{"texts":["some text"]}},
 qq{POST /v2/creators/embeddings\n{"texts":["some text"]}}]
--- response_headers eval
["X-Cache: BYPASS", "X-Cache: MISS", "X-Cache: HIT"]



=== TEST 17: an entry past its ttl is EXPIRED, and stored again
--- http_config eval: $::HttpConfig . "    matcher_cache_ttl 1s;\n"
--- config eval: $::Config
--- more_headers
Content-Type: application/json
--- init
main::ready();
main::embed('some text');
# nginx's clock counts whole seconds: two of them are past a 1s ttl
select undef, undef, undef, 2.1;
--- request eval
[$::Embed, $::Embed]
--- response_headers eval
["X-Cache: EXPIRED", "X-Cache: HIT"]



=== TEST 18: /health reports the zone with its hits and misses
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
main::ready();
--- more_headers
Content-Type: application/json
--- request eval
[$::Embed, $::Embed, "GET /api/health"]
--- response_headers eval
["X-Cache: MISS", "X-Cache: HIT", "!X-Cache"]
--- response_body_like eval
[qr/"embeddings"/, qr/"embeddings"/,
 qr/"cache":\{"status":"up"[^}]*hits\D{1,3}1\b[^}]*misses\D{1,3}1\b/]
--- no_error_log
[error]



=== TEST 19: a full zone never fails a request
--- http_config eval: $::Common . "    matcher_cache_zone tiny:32k;\n"
--- config eval: $::Config
--- more_headers
Content-Type: application/json
--- request eval
[map { qq{POST /api/creators/embeddings\n{"texts":["distinct text number $_ about personal finance"]}} } 1 .. 60]
--- error_code eval
[(200) x 60]
--- response_body_like eval
[(qr/^\{"embeddings":\[\[/) x 60]
--- no_error_log
[error]
[crit]



=== TEST 20: a zone that keeps evicting still serves hits for what it kept
--- http_config eval: $::Common . "    matcher_cache_zone small:64k;\n"
--- config eval: $::Config
--- init
main::ready();
--- more_headers
Content-Type: application/json
--- request eval
[(map { qq{POST /api/creators/embeddings\n{"texts":["filler $_"]}} } 1 .. 60),
 $::Embed, $::Embed]
--- error_code eval
[(200) x 62]
--- response_headers eval
[("") x 60, "X-Cache: MISS", "X-Cache: HIT"]
