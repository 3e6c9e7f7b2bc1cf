# Query-string values: form-decoded with every byte kept, or refused with
# 400 validation_failed naming the argument (an encoded NUL, a malformed
# escape, invalid or overlong UTF-8).  Before, "US%00junk" was compared
# as "US" and "%GG" as "GG".
use Test::Nginx::Socket 'no_plan';
use Cwd qw(abs_path);

$ENV{TEST_NGINX_CREATORS} = abs_path('t/data/creators.json');

our $HttpConfig = <<'_EOC_';
    matcher_store lmdb:store size=64m;
    matcher_creators_file $TEST_NGINX_CREATORS;
_EOC_

our $Config = <<'_EOC_';
    location /api/creators { matcher_creators; }
    location /api/assignments { matcher_assignments; }
_EOC_

# the creators file loads on the thread pool after start: wait for it
our $Wait = <<'_EOC_';
use IO::Socket::INET;
for (1 .. 300) {
    my $s = IO::Socket::INET->new("127.0.0.1:$Test::Nginx::Socket::ServerPort")
        or next;
    print $s "GET /api/creators?limit=1 HTTP/1.0\r\n\r\n";
    my $r = do { local $/; <$s> } // '';
    last if $r =~ /"total":17/;
    select undef, undef, undef, 0.1;
}
_EOC_

no_shuffle();
run_tests();

__DATA__

=== TEST 1: an encoded NUL is refused, not cut ("US%00junk" is not "US")
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init eval: $::Wait
--- request
GET /api/creators?region=US%00junk
--- error_code: 400
--- response_body_like eval
qr/^\{"success":false,"error":"request validation failed","code":"validation_failed","details":\[\{"field":"region","message":"must be UTF-8 with no NUL and no malformed %-escape"\}\],"timestamp":"[^"]+"\}$/
--- no_error_log
[error]



=== TEST 2: a NUL at the end of a value, and alone
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/creators?niche=finance%00&region=%00
--- error_code: 400
--- response_body_like eval
qr/"code":"validation_failed","details":\[\{"field":"region",.*\{"field":"niche",/



=== TEST 3: a malformed escape is refused, not kept as text
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/creators?region=%GG
--- error_code: 400
--- response_body_like eval
qr/"code":"validation_failed","details":\[\{"field":"region",/



=== TEST 4: half an escape: "%G1" and "%4"
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/creators?region=%G1&niche=%4
--- error_code: 400
--- response_body_like eval
qr/"code":"validation_failed","details":\[\{"field":"region",.*\{"field":"niche",/



=== TEST 5: a trailing "%"
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/creators?region=US%
--- error_code: 400
--- response_body_like eval
qr/"code":"validation_failed","details":\[\{"field":"region",/



=== TEST 6: overlong UTF-8 ("%C0%AF" would be "/")
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/creators?niche=%C0%AF
--- error_code: 400
--- response_body_like eval
qr/"code":"validation_failed","details":\[\{"field":"niche",/



=== TEST 7: integers are refused for a NUL too ("1%00" is not 1)
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/creators?limit=1%00&page=%31%00
--- error_code: 400
--- response_body_like eval
qr/"code":"validation_failed","details":\[\{"field":"page","message":"must be an integer from 1 to 1000000"\},\{"field":"limit","message":"must be an integer from 1 to 100"\}\]/



=== TEST 8: history: sortBy and sortOrder with a NUL or a bad escape
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/assignments/history/demo-user?sortBy=createdAt%00x&sortOrder=asc%
--- error_code: 400
--- response_body_like eval
qr/"code":"validation_failed","details":\[\{"field":"sortBy",.*\{"field":"sortOrder",/



=== TEST 9: fine values: escapes and "+" decode, every byte compared
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init eval: $::Wait
--- request
GET /api/creators?region=%55%73&limit=%31%30%30
--- response_body_like eval
qr/^\{"creators":\[.*\],"pagination":\{"page":1,"limit":100,"total":14,"pages":1\}\}$/



=== TEST 10: a decoded value that only starts like a real one matches nothing
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init eval: $::Wait
--- request
GET /api/creators?niche=personal+finance%20x
--- response_body_like eval
qr/^\{"creators":\[\],"pagination":\{"page":1,"limit":20,"total":0,"pages":0\}\}$/



=== TEST 11: a valid multibyte value is kept (no creator has it)
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/creators?niche=caf%C3%A9+%E2%82%AC
--- response_body_like eval
qr/^\{"creators":\[\],"pagination":\{"page":1,"limit":20,"total":0,"pages":0\}\}$/
