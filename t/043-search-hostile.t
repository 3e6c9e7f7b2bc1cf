# POST /creators/search with filters sent to harm (issue 8): a filter
# over the limits of lib/filter.h is refused with 400 validation_failed
# naming its path, before any search; the costliest filter within them
# answers 200.  The 45,000-clause $or of the issue (889 KB, under the
# 1 MB body limit) held a worker's event loop for 97 s at 100,000
# creators; it is refused at once.
use Test::Nginx::Socket 'no_plan';
use Cwd qw(abs_path);

$ENV{TEST_NGINX_CREATORS} = abs_path('t/data/creators.json');

our $HttpConfig = <<'_EOC_';
    matcher_store lmdb:store size=64m;
    matcher_creators_file $TEST_NGINX_CREATORS;
_EOC_

our $Config = <<'_EOC_';
    location /api/creators { matcher_creators; }
_EOC_

# {"query":"money","filter":{"$op":[clause(0), ...]}}
sub wide {
    my ($op, $n, $clause) = @_;
    return "POST /api/creators/search\n"
        . '{"query":"money","filter":{"' . $op . '":['
        . join(',', map { sprintf $clause, $_ } 0 .. $n - 1) . ']}}';
}

# $nin lists of 1,000 under the four string fields, the rest of the n
# values under followerCount
sub values_filter {
    my ($n) = @_;
    my @f = qw(region primaryNiches secondaryNiches apparentValues);
    my $body = join ',', map {
        '"' . $_ . '":{"$nin":[' . join(',', map { "\"v$_\"" } 1 .. 1000)
            . ']}'
    } @f;
    return "POST /api/creators/search\n"
        . '{"query":"money","filter":{' . $body
        . ',"followerCount":{"$nin":[' . join(',', 1 .. $n - 4000)
        . ']}}}';
}

# the costliest within the limits: an $and of two $ors of 32 clauses,
# the first passing at its last, the second at none; 1,984 values
sub worst {
    my (@a, @b);
    my $v = 0;
    for my $i (0 .. 31) {
        if ($i == 31) {
            push @a, '{"followerCount":{"$gte":0}}';
        } elsif ($i % 2 == 0) {
            push @a, '{"apparentValues":{"$in":['
                . join(',', map { '"z' . $v++ . '"' } 1 .. 62) . ']}}';
        } else {
            push @a, '{"followerCount":{"$lt":-' . $i . '}}';
        }
        if ($i % 2) {
            push @b, '{"primaryNiches":{"$in":['
                . join(',', map { '"z' . $v++ . '"' } 1 .. 62) . ']}}';
        } else {
            push @b, '{"region":{"$exists":false}}';
        }
    }
    return "POST /api/creators/search\n"
        . '{"query":"money","filter":{"$and":[{"$or":[' . join(',', @a)
        . ']},{"$or":[' . join(',', @b) . ']}]}}';
}

# the load runs on the thread pool after start, then the index is built:
# wait until a search answers (bounded)
our $WaitIndex = <<'_EOC_';
use IO::Socket::INET;
for (1 .. 300) {
    my $s = IO::Socket::INET->new("127.0.0.1:$Test::Nginx::Socket::ServerPort")
        or next;
    my $b = '{"query":"money","topK":1}';
    print $s "POST /api/creators/search HTTP/1.0\r\n"
        . "Content-Type: application/json\r\n"
        . "Content-Length: " . length($b) . "\r\n\r\n$b";
    my $r = do { local $/; <$s> } // '';
    last if $r =~ m{^HTTP/1\.\d 200};
    select undef, undef, undef, 0.1;
}
_EOC_

no_shuffle();
run_tests();

__DATA__

=== TEST 1: issue 8's $or of 45,000 clauses (889 KB): 400 at once, by the parser
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers
Content-Type: application/json
--- request eval
::wide('$or', 45000, '{"region":"X%d"}')
--- error_code: 400
--- response_body_like: ^\{"success":false,"error":"an object or array of more than 4096 members","code":"invalid_json","timestamp":"[^"]+"\}$



=== TEST 1b: an $or of 4,000 clauses (130 KB) that the parser takes: 400 at the filter's size
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers
Content-Type: application/json
--- request eval
::wide('$or', 4000, '{"region":"X%d-a-region-name-of-some-length"}')
--- error_code: 400
--- response_body_like: ^\{"success":false,"error":"[^"]+","code":"validation_failed","details":\[\{"field":"filter","message":"must be at most 65536 bytes as JSON"[^\]]*\],"timestamp":"[^"]+"\}$



=== TEST 2: an $or of 65 clauses: 400 at the $or
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers
Content-Type: application/json
--- request eval
::wide('$or', 65, '{"region":"X%d"}')
--- error_code: 400
--- response_body_like: ^\{"success":false,"error":"[^"]+","code":"validation_failed","details":\[\{"field":"filter\.\$or","message":"must have at most 64 clauses"\}\],"timestamp":"[^"]+"\}$



=== TEST 3: 65 conditions: 400 at the 65th
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers
Content-Type: application/json
--- request eval
::wide('$and', 33, '{"followerCount":{"$gt":%d,"$lt":1000000000}}')
--- error_code: 400
--- response_body_like: "code":"validation_failed","details":\[\{"field":"filter\.\$and\[32\]\.followerCount\.\$gt","message":"more than 64 conditions in the filter"



=== TEST 4: 4,097 values: 400 at the set that passes 4,096
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers
Content-Type: application/json
--- request eval
::values_filter(4097)
--- error_code: 400
--- response_body_like: "code":"validation_failed","details":\[\{"field":"filter\.followerCount\.\$nin","message":"more than 4096 values in the filter"



=== TEST 5: 1,001 values in one $in: 400 (the contract's limit)
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers
Content-Type: application/json
--- request eval
"POST /api/creators/search\n{\"query\":\"money\",\"filter\":{\"region\":{\"\$in\":["
    . join(',', map { qq{"R$_"} } 1 .. 1001) . ']}}}'
--- error_code: 400
--- response_body_like: "details":\[\{"field":"filter\.region\.\$in","message":"must have at most 1000 values"



=== TEST 6: the costliest filter within the limits: 200, nothing matches
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init eval: $::WaitIndex
--- more_headers
Content-Type: application/json
--- request eval
::worst()
--- error_code: 200
--- response_body_like: ^\{"query":"money","results":\[\],"count":0\}$



=== TEST 7: 4,096 values and 64 clauses are allowed: 200
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init eval: $::WaitIndex
--- more_headers
Content-Type: application/json
--- request eval
[::values_filter(4096), ::wide('$or', 64, '{"region":"X%d"}')]
--- error_code eval
[200, 200]
--- response_body_like eval
['"count":', '"results":\[\],"count":0']
