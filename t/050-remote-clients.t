# The local OpenAI + Pinecone stand-in (t/remote/fake_remote.py) that the
# remote-backend tests run nginx against:
#  1. faithfulness: the official Node clients (openai, Pinecone's) talk to
#     it without noticing (t/remote/clients/check.mjs, one test a check);
#  2. the OpenAI side over plain HTTP: reply shapes, validation, vectors;
#  3. every fault kind of /_control/fault, keep-alive counting, /last;
#  4. the Pinecone side: validation, the metadata filter language, list
#     pagination, update, delete, stats, and --state across a restart.
use strict;
use warnings;
use File::Temp qw(tempdir);
use HTTP::Tiny;
use IO::Select;
use IO::Socket::INET;
use JSON::PP ();
use List::Util qw(sum);
use MIME::Base64 qw(decode_base64);
use Test::More;
use Time::HiRes qw(sleep time);
use Matcher::Remote;

my $J = JSON::PP->new->utf8->canonical;
my ($OK, $PK) = ('sk-test-050', 'pc-test-050');
my $DIMS = 1536;

sub oa {
    my ($path, $body, %h) = @_;
    remote_request(POST => $path, $body, Authorization => "Bearer $OK", %h);
}

sub embed {
    my (%b) = @_;
    my $r = oa('/v1/embeddings', { model => 'text-embedding-3-small', %b });
    die "embeddings: $r->{status} $r->{body}\n" unless $r->{status} == 200;
    return [map { $_->{embedding} }
            sort { $a->{index} <=> $b->{index} } @{ $r->{json}{data} }];
}

sub cosine {
    my ($x, $y) = @_;
    my ($d, $nx, $ny) = (0, 0, 0);
    for my $i (0 .. $#$x) {
        $d += $x->[$i] * $y->[$i];
        $nx += $x->[$i]**2;
        $ny += $y->[$i]**2;
    }
    return $d / sqrt($nx * $ny);
}

# send a raw request; read until EOF or error: (bytes, error)
sub raw_exchange {
    my ($port, $req) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Proto => 'tcp', Timeout => 5)
        or die "connect: $!";
    print {$s} $req;
    my $sel = IO::Select->new($s);
    my ($raw, $err) = ('', '');
    my $deadline = time + 10;
    while (time < $deadline && $sel->can_read($deadline - time)) {
        my $n = sysread($s, my $buf, 65536);
        if (!defined $n) { $err = "$!"; last }
        last unless $n;
        $raw .= $buf;
    }
    close $s;
    return ($raw, $err);
}

sub post_req {
    my ($path, $body, @h) = @_;
    my $req = "POST $path HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            . "Content-Type: application/json\r\n"
            . 'Content-Length: ' . length($body) . "\r\n";
    $req .= "$_\r\n" for @h;
    return "$req\r\n$body";
}

# ------------------------------------------------------------ 1. clients

my $port = start_remote(openai_key => $OK, pinecone_key => $PK);
ok($port, "fake remote listening on 127.0.0.1:$port");

my $clients = 't/remote/clients';
my $fix = 'run deploy/install-deps.sh (it installs nodejs and npm, then '
        . "runs npm ci in $clients)";
my $node = `node --version 2>/dev/null` // '';
chomp $node;
my ($major) = $node =~ /^v(\d+)\./;
my $have_node = ok($major && $major >= 18,
                   "node >= 18 is installed (found '$node')")
    or diag("node is missing or too old: $fix");
my $have_modules = ok(-f "$clients/node_modules/openai/package.json"
    && -f "$clients/node_modules/\@pinecone-database/pinecone/package.json",
    "$clients/node_modules has openai and \@pinecone-database/pinecone")
    or diag("the npm clients are not installed: $fix");

if ($have_node && $have_modules) {
    my ($n, $bad) = (0, 0);
    local $SIG{ALRM} = sub { die "check.mjs timed out\n" };
    alarm 120;
    open(my $fh, '-|', 'node', "$clients/check.mjs", $port, $OK, $PK)
        or die "node: $!";
    while (my $line = <$fh>) {
        chomp $line;
        if ($line =~ /^ok - (.*)/) {
            pass("client: $1");
            $n++;
        } elsif ($line =~ /^not ok - (.*)/) {
            fail("client: $1");
            $n++;
            $bad++;
        } elsif ($line =~ /^# ?(.*)/) {
            diag($1);
        } else {
            diag("check.mjs: $line");
        }
    }
    close $fh;
    my $rc = $?;
    alarm 0;
    is($rc, 0, 'check.mjs exited 0');
    cmp_ok($n, '>=', 25, 'check.mjs ran all its checks');
    is($bad, 0, 'no client check failed');
}

# ------------------------------------------------------------ 2. OpenAI

remote_clear();
my @texts = ('Vegan cooking recipes for families',
             'Quick budgeting tips and personal finance for students',
             'family vegan recipe cooked at home', '',
             'The and of a');
{
    my $r = oa('/v1/embeddings', { model => 'text-embedding-3-small',
                                   input => [@texts[0 .. 2]] });
    is($r->{status}, 200, 'embeddings: 200');
    like($r->{headers}{'x-request-id'}, qr/^req_\d+$/, 'x-request-id');
    is($r->{headers}{'content-type'}, 'application/json', 'content-type');
    my $j = $r->{json};
    is_deeply([map { $_->{index} } @{ $j->{data} }], [2, 1, 0],
              'data comes reversed (clients must match on index)');
    is_deeply([sort keys %$j], [qw(data model object usage)],
              'reply has object, data, model, usage');
    is($j->{object}, 'list', 'object list');
    is($j->{model}, 'text-embedding-3-small', 'model echoed');
    is_deeply([sort keys %{ $j->{data}[0] }], [qw(embedding index object)],
              'item has object, index, embedding');
    is($j->{data}[0]{object}, 'embedding', 'item object embedding');
    my $tok = sum(map { int((length($_) + 3) / 4) } @texts[0 .. 2]);
    is_deeply($j->{usage}, { prompt_tokens => $tok, total_tokens => $tok },
              'usage counts ceil(bytes / 4) tokens');
    my @v = map { $_->{embedding} }
            sort { $a->{index} <=> $b->{index} } @{ $j->{data} };
    is(scalar @{ $v[0] }, $DIMS, "3-small: $DIMS dims");
    my $norm = sqrt(sum(map { $_ * $_ } @{ $v[0] }));
    ok(abs($norm - 1) < 1e-5, "unit length ($norm)");
    my $similar = cosine($v[0], $v[2]);
    my $unrelated = cosine($v[0], $v[1]);
    cmp_ok($similar, '>', 0.7, "similar texts: cosine $similar");
    cmp_ok($unrelated, '<', 0.3, "unrelated texts: cosine $unrelated");

    my $again = embed(input => $texts[0], encoding_format => 'float');
    is_deeply($again->[0], $v[0], 'the same text gives the same vector');
    my $b64 = embed(input => [@texts[0 .. 2]], encoding_format => 'base64');
    ok(!ref $b64->[0], 'base64: a string');
    is_deeply([map { [unpack 'f<*', decode_base64($_)] } @$b64], \@v,
              'base64 is float32 little-endian of the same vectors');
    my $stop = embed(input => $texts[4]);
    my $u = 1 / sqrt($DIMS);
    ok(!(grep { abs($_ - $u) > 1e-6 } @{ $stop->[0] }),
       'only stop words: the fixed unit vector');
}

for my $m (['text-embedding-ada-002', 1536], ['text-embedding-3-large', 3072],
           ['my-local-model', $DIMS]) {
    my $v = embed(model => $m->[0], input => 'dims');
    is(scalar @{ $v->[0] }, $m->[1], "$m->[0]: $m->[1] dims");
}
is(scalar @{ embed(input => 'x', dimensions => 64)->[0] }, 64,
   '3-small with dimensions 64');
is(scalar @{ embed(model => 'text-embedding-3-large', input => 'x',
                   dimensions => 3072)->[0] }, 3072, '3-large at 3072');

my $many = oa('/v1/embeddings', { model => 'text-embedding-3-small',
    dimensions => 4, input => [map { "text $_" } 1 .. 2048] });
is($many->{status}, 200, '2048 inputs accepted');
is(scalar @{ $many->{json}{data} }, 2048, '2048 embeddings back');
is(oa('/v1/embeddings', { model => 'm', input => 'a' x 32768 })->{status},
   200, '8192 tokens (32768 bytes) accepted');

my @bad_embed = (
    ['unknown field', { model => 'm', input => 'x', foo => 1 },
     qr/Unrecognized request argument supplied: foo/],
    ['no model', { input => 'x' }, qr/model/],
    ['no input', { model => 'm' }, qr/input/],
    ['empty string', { model => 'm', input => '' }, qr/input/],
    ['empty list', { model => 'm', input => [] }, qr/input/],
    ['empty string in list', { model => 'm', input => ['a', ''] }, qr/input/],
    ['2049 inputs', { model => 'm', input => [('x') x 2049] }, qr/2048/],
    ['token array', { model => 'm', input => [[1, 2, 3]] }, qr/token/],
    ['input a number', { model => 'm', input => 5 }, qr/input/],
    ['bad encoding_format', { model => 'm', input => 'x',
                              encoding_format => 'hex' }, qr/encoding_format/],
    ['dimensions on ada-002', { model => 'text-embedding-ada-002',
                                input => 'x', dimensions => 64 },
     qr/does not support specifying dimensions/],
    ['dimensions on another model', { model => 'm', input => 'x',
                                      dimensions => 64 }, qr/dimensions/],
    ['dimensions above native', { model => 'text-embedding-3-small',
                                  input => 'x', dimensions => 1537 },
     qr/dimensions/],
    ['dimensions 0', { model => 'text-embedding-3-small', input => 'x',
                       dimensions => 0 }, qr/dimensions/],
    ['8193 tokens', { model => 'm', input => 'a' x 32769 },
     qr/maximum context length is 8192 tokens, however you requested 8193/],
    ['300,000 tokens summed', { model => 'm', input => [('a' x 32768) x 37] },
     qr/Requested 303104 tokens, max 300000/],
);
for my $c (@bad_embed) {
    my $r = oa('/v1/embeddings', $c->[1]);
    is($r->{status}, 400, "embeddings 400: $c->[0]");
    is($r->{json}{error}{type}, 'invalid_request_error',
       "  invalid_request_error ($c->[0])");
    like($r->{json}{error}{message}, $c->[2], "  message ($c->[0])");
}
{
    my $r = remote_request(POST => '/v1/embeddings', '{"model": "m", inp',
                           Authorization => "Bearer $OK");
    is($r->{status}, 400, 'malformed JSON: 400');
    like($r->{json}{error}{message}, qr/could not parse the JSON body/,
         '  OpenAI\'s message');
}

# 401: exact bodies
{
    my $r = remote_request(POST => '/v1/embeddings',
                           { model => 'm', input => 'x' },
                           Authorization => 'Bearer nope');
    is($r->{status}, 401, 'OpenAI wrong key: 401');
    is($r->{body}, '{"error":{"message":"Incorrect API key provided.",'
       . '"type":"invalid_request_error","param":null,'
       . '"code":"invalid_api_key"}}', '  the exact JSON error body');
    $r = remote_request(POST => '/v1/embeddings', { model => 'm',
                                                    input => 'x' });
    is($r->{status}, 401, 'OpenAI no key: 401');
    $r = remote_request(POST => '/query', { topK => 1, id => 'x' },
                        'Api-Key' => 'nope');
    is($r->{status}, 401, 'Pinecone wrong key: 401');
    is($r->{body}, 'Unauthorized', '  plain-text body');
    like($r->{headers}{'content-type'}, qr{^text/plain}, '  text/plain');
    $r = remote_request(GET => '/vectors/list');
    is($r->{status}, 401, 'Pinecone no key: 401');
}

# chat completions
{
    my $msgs = [{ role => 'system', content => 'Reply in JSON.' },
                { role => 'user', content => 'Write a pitch for a budget '
                  . 'travel creator who films cheap weekend trips in Europe' }];
    my $r = oa('/v1/chat/completions', { model => 'gpt-4o-mini',
        messages => $msgs, response_format => { type => 'json_object' },
        temperature => 0.3, max_tokens => 500 });
    is($r->{status}, 200, 'chat: 200');
    my $j = $r->{json};
    is_deeply([sort keys %$j],
              [qw(choices created id model object usage)], 'chat: keys');
    is($j->{object}, 'chat.completion', 'object chat.completion');
    is($j->{model}, 'gpt-4o-mini', 'model echoed');
    my $c = $j->{choices}[0];
    is_deeply([sort keys %$c], [qw(finish_reason index logprobs message)],
              'choice keys');
    is($c->{finish_reason}, 'stop', 'finish_reason stop');
    is_deeply([sort keys %{ $c->{message} }], [qw(content refusal role)],
              'message keys');
    is($c->{message}{role}, 'assistant', 'role assistant');
    my $content = eval { $J->decode($c->{message}{content}) };
    is_deeply([sort keys %{ $content || {} }], [qw(framing reasoning)],
              'json_object: {"framing", "reasoning"}');
    is($content->{framing},
       'Frame Write a pitch for a budget travel creator for this audience.', 'framing: the first 8 words of the last user message');
    is($j->{usage}{total_tokens},
       $j->{usage}{prompt_tokens} + $j->{usage}{completion_tokens},
       'usage adds up');
    my $again = oa('/v1/chat/completions', { model => 'gpt-4o-mini',
        messages => $msgs, response_format => { type => 'json_object' } });
    is($again->{json}{choices}[0]{message}{content}, $c->{message}{content},
       'deterministic content');

    $r = oa('/v1/chat/completions', { model => 'm', max_tokens => 4,
        messages => [{ role => 'user', content => 'a long enough request '
                       . 'to be cut by the token limit' }] });
    is($r->{json}{choices}[0]{finish_reason}, 'length',
       'max_tokens 4: finish_reason length');
    cmp_ok(length $r->{json}{choices}[0]{message}{content}, '<=', 16,
           '  content cut to about 4 tokens');

    $r = oa('/v1/chat/completions', { model => 'm',
        messages => [{ role => 'user', content => 'Frame this' }],
        response_format => { type => 'json_schema', json_schema => {
            name => 'f', strict => JSON::PP::true, schema => {
                type => 'object', properties => {
                    framing => { type => 'string' },
                    score => { type => 'number' },
                    tags => { type => 'array', items => { type => 'string' } },
                } } } } });
    my $s = eval { $J->decode($r->{json}{choices}[0]{message}{content}) };
    ok($s && defined $s->{framing} && defined $s->{score}
       && ref $s->{tags} eq 'ARRAY', 'json_schema: an object of the schema');

    my @bad_chat = (
        ['no json word with json_object', { model => 'm',
            messages => [{ role => 'user', content => 'hi' }],
            response_format => { type => 'json_object' } }, qr/json/],
        ['bad role', { model => 'm',
            messages => [{ role => 'tool', content => 'hi' }] }, qr/role|tool/],
        ['no messages', { model => 'm' }, qr/messages/],
        ['empty messages', { model => 'm', messages => [] }, qr/messages/],
        ['no model', { messages => [{ role => 'user', content => 'x' }] },
         qr/model/],
        ['temperature 2.5', { model => 'm', temperature => 2.5,
            messages => [{ role => 'user', content => 'x' }] },
         qr/temperature/],
        ['max_tokens 0', { model => 'm', max_tokens => 0,
            messages => [{ role => 'user', content => 'x' }] },
         qr/max_tokens/],
        ['response_format xml', { model => 'm',
            messages => [{ role => 'user', content => 'x' }],
            response_format => { type => 'xml' } }, qr/response_format/],
        ['unknown field', { model => 'm', bogus => 1,
            messages => [{ role => 'user', content => 'x' }] }, qr/bogus/],
        ['content not a string', { model => 'm',
            messages => [{ role => 'user', content => { a => 1 } }] },
         qr/content/],
    );
    for my $c (@bad_chat) {
        my $r = oa('/v1/chat/completions', $c->[1]);
        is($r->{status}, 400, "chat 400: $c->[0]");
        like($r->{json}{error}{message} // '', $c->[2], "  message");
    }
}
{
    my $st = remote_stats();
    is($st->{chat_requests}, 4, 'stats: chat_requests counts 200 replies');
    is($st->{embedding_inputs}, 3 + 1 + 3 + 1 + 3 + 2 + 2048 + 1,
       'stats: embedding_inputs');
    is($st->{embedding_requests}, 11, 'stats: embedding_requests');
}

# ------------------------------------------------------------ 3. faults

my $E = { model => 'm', input => 'fault' };
remote_reset();
{
    remote_fault(path => '/v1/embeddings', kind => 'status', status => 429,
                 retry_after => 2, retry_after_ms => 1500.5);
    my $r = oa('/v1/embeddings', $E);
    is($r->{status}, 429, 'status fault: 429');
    is($r->{headers}{'retry-after'}, '2', '  Retry-After');
    is($r->{headers}{'retry-after-ms'}, '1500.5', '  retry-after-ms');
    is($r->{json}{error}{code}, 'rate_limit_exceeded', '  OpenAI error body');
    like($r->{headers}{'x-request-id'}, qr/^req_/, '  x-request-id');
    is(oa('/v1/embeddings', $E)->{status}, 200, 'count 1: the next is 200');

    remote_fault(path => '/query', kind => 'status', status => 503);
    $r = remote_request(POST => '/query', { topK => 1, id => 'x' },
                        'Api-Key' => $PK);
    is($r->{status}, 503, 'status fault on /query: 503');
    is_deeply([sort keys %{ $r->{json} || {} }], [qw(code details message)],
              '  Pinecone {"code","message","details"}');
    is($r->{json}{code}, 14, '  gRPC UNAVAILABLE');

    remote_fault(path => '/vectors/upsert', kind => 'status', status => 401);
    $r = remote_request(POST => '/vectors/upsert', {}, 'Api-Key' => $PK);
    is("$r->{status} $r->{body}", '401 Unauthorized',
       'status 401 on a Pinecone path: plain text');

    remote_fault(path => '/v1/embeddings', kind => 'plain401');
    $r = oa('/v1/embeddings', $E);
    is("$r->{status} $r->{body}", '401 Unauthorized', 'plain401');
    like($r->{headers}{'content-type'}, qr{^text/plain}, '  text/plain');

    remote_fault(path => '/v1/embeddings', kind => 'status', status => 500,
                 body => '{"error":"custom"}',
                 headers => { 'x-should-retry' => 'false' });
    $r = oa('/v1/embeddings', $E);
    is("$r->{status} $r->{body}", '500 {"error":"custom"}',
       'status fault with a raw body');
    is($r->{headers}{'x-should-retry'}, 'false', '  extra headers');

    remote_fault(path => '/v1/embeddings', kind => 'nonjson');
    $r = oa('/v1/embeddings', $E);
    is("$r->{status} $r->{body}", '200 <html>oops</html>', 'nonjson');
    is($r->{headers}{'content-type'}, 'application/json',
       '  labelled application/json');

    remote_fault(path => '/v1/embeddings', kind => 'delay', delay_ms => 300);
    my $t0 = time;
    $r = oa('/v1/embeddings', $E);
    my $dt = time - $t0;
    is($r->{status}, 200, 'delay: answers normally');
    cmp_ok($dt, '>=', 0.29, "  after the delay (${dt}s)");

    remote_fault(path => '/v1/embeddings', kind => 'status', status => 429,
                 delay_ms => 200);
    $t0 = time;
    $r = oa('/v1/embeddings', $E);
    ok($r->{status} == 429 && time - $t0 >= 0.19, 'delay_ms with a status');

    remote_fault(path => '/v1/embeddings', kind => 'reset');
    my ($raw, $err) = raw_exchange($port, post_req('/v1/embeddings',
        $J->encode($E), "Authorization: Bearer $OK"));
    is($raw, '', 'reset: no reply bytes');
    like($err, qr/reset/i, "  connection reset by peer ($err)");
    remote_fault(path => '/v1/embeddings', kind => 'reset');
    is(oa('/v1/embeddings', $E)->{status}, 599,
       '  HTTP::Tiny sees a transport error');

    remote_fault(path => '/v1/embeddings', kind => 'truncate');
    ($raw, $err) = raw_exchange($port, post_req('/v1/embeddings',
        $J->encode($E), "Authorization: Bearer $OK"));
    my ($head, $body) = split /\r\n\r\n/, $raw, 2;
    my ($cl) = $head =~ /^Content-Length: (\d+)/mi;
    like($head, qr{^HTTP/1\.1 200}, 'truncate: 200 headers');
    ok($cl && length($body) == int($cl / 2),
       "  half of Content-Length $cl sent (" . length($body) . ')');
    remote_fault(path => '/query', kind => 'truncate');
    $r = remote_request(POST => '/query', { topK => 1, id => 'x' },
                        'Api-Key' => $PK);
    is($r->{status}, 599, '  HTTP::Tiny sees a transport error');

    remote_fault(path => '/v1/chat/completions', kind => 'refusal');
    $r = oa('/v1/chat/completions', { model => 'm',
        messages => [{ role => 'user', content => 'x' }] });
    ok(!defined $r->{json}{choices}[0]{message}{content}
       && $r->{json}{choices}[0]{message}{refusal}, 'refusal: content null');
    remote_fault(path => '/v1/chat/completions', kind => 'content_filter');
    $r = oa('/v1/chat/completions', { model => 'm',
        messages => [{ role => 'user', content => 'x' }] });
    is($r->{json}{choices}[0]{finish_reason}, 'content_filter',
       'content_filter');

    remote_fault(path => '/v1/embeddings', kind => 'status', status => 500,
                 count => 2);
    is(join(',', map { oa('/v1/embeddings', $E)->{status} } 1 .. 3),
       '500,500,200', 'count 2');
    remote_fault(path => '/v1/embeddings', kind => 'status', status => 429);
    remote_fault(path => '/v1/embeddings', kind => 'status', status => 503);
    is(join(',', map { oa('/v1/embeddings', $E)->{status} } 1 .. 3),
       '429,503,200', 'faults queue per path, first first');
    remote_fault(path => '/query', kind => 'status', status => 502);
    is(oa('/v1/embeddings', $E)->{status}, 200,
       'a fault on /query leaves /v1/embeddings alone');
    is(remote_request(POST => '/query', { topK => 1, id => 'x' },
                      'Api-Key' => $PK)->{status}, 502, '  and hits /query');
    remote_fault(path => '*', kind => 'status', status => 500, count => -1);
    is(join(',', (map { oa('/v1/embeddings', $E)->{status} } 1 .. 3),
            remote_request(GET => '/vectors/list',
                           undef, 'Api-Key' => $PK)->{status}),
       '500,500,500,500', "path '*' and count -1: until cleared");
    is(remote_stats()->{requests}{'/_control/stats'}, undef,
       'control requests are not counted and never faulted');
    remote_reset();
    is(oa('/v1/embeddings', $E)->{status}, 200, '/_control/reset clears');

    ok(!eval { remote_fault(kind => 'explode'); 1 }, 'bad fault kind: 400');
    ok(!eval { remote_fault(kind => 'status', count => 0); 1 },
       'count 0: 400');
}
{
    remote_reset();
    remote_fault(path => '/v1/embeddings', kind => 'status', status => 503);
    oa('/v1/embeddings', $E) for 1 .. 2;
    my $st = remote_stats();
    is($st->{faults_served}, 1, 'stats: faults_served');
    is($st->{requests}{'/v1/embeddings'}, 2, 'stats: requests per path');
    is_deeply($st->{statuses}, { 200 => 1, 503 => 1 }, 'stats: statuses');
}

# keep-alive: connections counts the TCP connections that carried API
# requests (control calls are left out)
{
    remote_reset();
    my $ka = HTTP::Tiny->new(keep_alive => 1);
    my $url = remote_url() . '/v1/embeddings';
    my %o = (headers => { Authorization => "Bearer $OK",
                          'Content-Type' => 'application/json' },
             content => $J->encode($E));
    is(join(',', map { $ka->request(POST => $url, \%o)->{status} } 1 .. 3),
       '200,200,200', 'three requests on one keep-alive connection');
    is(remote_stats()->{connections}, 1, '  connections: 1');
    my $close = HTTP::Tiny->new(keep_alive => 0);
    $close->request(POST => $url, \%o) for 1 .. 3;
    is(remote_stats()->{connections}, 4, '  three more without: 4');
    remote_reset();
    $ka->request(POST => $url, \%o);
    is(remote_stats()->{connections}, 1,
       '  after a reset the kept-alive connection counts again');
}

# /_control/last: what the client sent
{
    oa('/v1/embeddings', { model => 'm', input => ['a', 'b'],
                           encoding_format => 'base64' },
       Cookie => 'session=1', 'X-Custom' => 'yes');
    my $l = remote_last('/v1/embeddings');
    is($l->{method}, 'POST', 'last: method');
    is($l->{path}, '/v1/embeddings', 'last: path');
    is($l->{body}{encoding_format}, 'base64', 'last: parsed JSON body');
    ok((grep { $_ eq 'Cookie' } @{ $l->{header_names} }),
       'last: header names as sent');
    is($l->{headers}{'x-custom'}, 'yes', 'last: header values');
    is_deeply($l->{secrets}, {
        authorization => { present => JSON::PP::true,
                           matches => JSON::PP::true },
        'api-key' => { present => JSON::PP::false,
                       matches => JSON::PP::false } },
        'last: the secret headers only as present / matches');
    ok($l->{key_ok}, "last: key_ok, this path's own key matched");
    unlike($J->encode($l), qr/\Q$OK\E/, 'last: the key never appears');
    is($l->{status}, 200, 'last: the status answered');
    is(remote_last('/nothing/here'), undef, 'last of an unseen path: undef');
    my $log = remote_log('/v1/embeddings', 2);
    is(scalar @$log, 2, 'log: the last 2 of a path');
}

# robustness
{
    # (Python's http.server answers a request line without a version
    # the HTTP/0.9 way: a body and no status line)
    my ($raw) = raw_exchange($port, "GARBAGE\r\n\r\n");
    like($raw, qr{Error code: 400}, 'a garbage request line: 400');
    ($raw) = raw_exchange($port, "BREW / HTTP/1.1\r\nHost: x\r\n\r\n");
    like($raw, qr{^HTTP/1\.1 501}, 'an unknown method: 501');
    my @chunks = ('{"mod', 'el":"m","input":"chunk"}');
    ($raw) = raw_exchange($port, "POST /v1/embeddings HTTP/1.1\r\nHost: x\r\n"
        . "Authorization: Bearer $OK\r\nTransfer-Encoding: chunked\r\n"
        . "Connection: close\r\n\r\n"
        . join('', map { sprintf("%x\r\n%s\r\n", length, $_) } @chunks)
        . "0\r\n\r\n");
    like($raw, qr{^HTTP/1\.1 200}, 'a chunked request body');
    ($raw) = raw_exchange($port, "GET /v1/embeddings HTTP/1.1\r\nHost: x\r\n"
        . "Connection: close\r\nAuthorization: Bearer $OK\r\n\r\n");
    like($raw, qr{^HTTP/1\.1 405}, 'GET on a POST path: 405');
    my $r = oa('/v1/nothing', {});
    is($r->{status}, 404, 'unknown OpenAI path: 404');
    like($r->{json}{error}{message}, qr{Invalid URL \(POST /v1/nothing\)},
         '  OpenAI\'s message');
    is(oa('/v1/embeddings', $E)->{status}, 200, 'still serving');
}

# ------------------------------------------------------------ 4. Pinecone

stop_remote();
my $dir = tempdir(CLEANUP => 1);
my $state = "$dir/vectors.json";
$port = start_remote(pinecone_key => $PK, dims => 4, state => $state);
is(remote_request(POST => '/v1/embeddings', { model => 'm', input => 'x' })
   ->{status}, 200, 'no OpenAI key configured: no Authorization needed');
is(scalar @{ remote_request(POST => '/v1/embeddings', { model => 'm',
   input => 'x' })->{json}{data}[0]{embedding} }, 4, '  --dims 4');

sub pc {
    my ($method, $path, $body, %h) = @_;
    remote_request($method, $path, $body, 'Api-Key' => $PK,
                   'X-Pinecone-Api-Version' => '2025-04', %h);
}

sub ids_of { join ',', sort map { $_->{id} } @{ $_[0]{json}{matches} } }

my @recs = (
    { id => 'a', values => [1, 0, 0, 0], metadata => { region => 'US',
      tags => ['cooking', 'vegan'], followers => 1200,
      verified => JSON::PP::true } },
    { id => 'b', values => [0.75, 0.25, 0, 0], metadata => { region => 'UK',
      tags => ['finance'], followers => 800, verified => JSON::PP::false } },
    { id => 'c', values => [0, 1, 0, 0], metadata => { region => 'US',
      tags => ['travel', 'cooking'], followers => 50 } },
    { id => 'd', values => [0, 0, 1, 0], metadata => { region => 'EU' } },
    { id => 'e', values => [1, 0, 0, 0], metadata => { region => 'US',
      tags => [] } },
);
{
    my $r = pc(POST => '/vectors/upsert', { vectors => \@recs });
    is($r->{status}, 200, 'upsert: 200');
    is_deeply($r->{json}, { upsertedCount => 5 }, '  {"upsertedCount":5}');
    $r = pc(POST => '/vectors/upsert', { namespace => 'paged', vectors =>
        [map { { id => sprintf('p-%02d', $_), values => [1, $_, 0, 0] } }
             0 .. 24] });
    is($r->{json}{upsertedCount}, 25, 'upsert 25 into namespace paged');
}

my @filters = (
    [{ region => 'US' }, 'a,c,e', 'implicit $eq'],
    [{ region => { '$eq' => 'US' } }, 'a,c,e', '$eq string'],
    [{ tags => { '$eq' => 'cooking' } }, 'a,c', '$eq on a list: any element'],
    [{ tags => 'vegan' }, 'a', 'implicit $eq on a list'],
    [{ tags => { '$ne' => 'cooking' } }, 'b,d,e',
     '$ne on a list: no element (a missing field matches)'],
    [{ region => { '$ne' => 'US' } }, 'b,d', '$ne string'],
    [{ tags => { '$in' => ['finance', 'travel'] } }, 'b,c', '$in on a list'],
    [{ region => { '$in' => ['UK', 'EU'] } }, 'b,d', '$in scalar'],
    [{ tags => { '$nin' => ['cooking'] } }, 'b,d,e', '$nin on a list'],
    [{ region => { '$nin' => ['US', 'UK'] } }, 'd', '$nin scalar'],
    [{ followers => { '$exists' => JSON::PP::true } }, 'a,b,c',
     '$exists true'],
    [{ followers => { '$exists' => JSON::PP::false } }, 'd,e',
     '$exists false'],
    [{ followers => { '$gt' => 800 } }, 'a', '$gt'],
    [{ followers => { '$gte' => 800 } }, 'a,b', '$gte'],
    [{ followers => { '$lt' => 800 } }, 'c', '$lt'],
    [{ followers => { '$lte' => 50 } }, 'c', '$lte'],
    [{ followers => { '$gt' => 10, '$lt' => 1000 } }, 'b,c',
     'two operators on a field: both'],
    [{ followers => 800 }, 'b', 'implicit $eq number'],
    [{ verified => JSON::PP::true }, 'a', '$eq bool'],
    [{ verified => { '$ne' => JSON::PP::true } }, 'b,c,d,e', '$ne bool'],
    [{ '$and' => [{ region => 'US' }, { followers => { '$gte' => 100 } }] },
     'a', '$and'],
    [{ '$or' => [{ region => 'UK' }, { tags => 'travel' }] }, 'b,c', '$or'],
    [{ '$or' => [{ '$and' => [{ region => 'US' },
                              { verified => JSON::PP::true }] },
                 { region => 'EU' }] }, 'a,d', '$or of $and'],
    [{ region => 'US', tags => 'cooking' }, 'a,c',
     'two fields: implicit $and'],
    [{}, 'a,b,c,d,e', 'empty filter: all'],
);
for my $f (@filters) {
    my $r = pc(POST => '/query', { topK => 100, vector => [1, 1, 1, 1],
                                   filter => $f->[0] });
    is(ids_of($r), $f->[1], "filter $f->[2]: $f->[1]");
}
is_deeply(remote_last('/query')->{body}{filter}, {},
          'the filter arrives as sent');

my @bad_filters = (
    [{ region => { '$regex' => 'U.*' } }, 'unknown operator'],
    [{ '$not' => { region => 'US' } }, 'unknown top-level operator'],
    [{ region => { '$in' => 'US' } }, '$in not an array'],
    [{ followers => { '$gt' => '10' } }, '$gt with a string'],
    [{ region => undef }, 'null value'],
    [{ region => ['US'] }, 'a bare array'],
    [{ region => { '$eq' => { a => 1 } } }, '$eq with an object'],
    [{ '$and' => { region => 'US' } }, '$and not an array'],
    [{ '$or' => [] }, 'empty $or'],
    [{ followers => { '$exists' => 1 } }, '$exists not a bool'],
    [{ region => {} }, 'an empty condition'],
);
for my $f (@bad_filters) {
    my $r = pc(POST => '/query', { topK => 5, vector => [1, 0, 0, 0],
                                   filter => $f->[0] });
    is($r->{status}, 400, "invalid filter, $f->[1]: 400");
    is($r->{json}{code}, 3, '  code 3 INVALID_ARGUMENT');
}
is(pc(POST => '/vectors/delete', { filter => { a => { '$x' => 1 } } })
   ->{status}, 400, 'invalid filter on delete: 400');

{
    my $r = pc(POST => '/query', { topK => 3, vector => [2, 0, 0, 0],
                                   namespace => '' });
    is_deeply([map { $_->{id} } @{ $r->{json}{matches} }], [qw(a e b)],
              'query: best first, ties by id');
    is_deeply([sort keys %{ $r->{json} }], [qw(matches namespace usage)],
              'query: matches, namespace, usage');
    ok(abs($r->{json}{matches}[0]{score} - 1) < 1e-6, 'cosine 1');
    ok(abs($r->{json}{matches}[2]{score} - 0.75 / sqrt(0.625)) < 1e-6,
       'cosine of b');
    is_deeply([sort keys %{ $r->{json}{matches}[0] }], [qw(id score)],
              'no values or metadata unless asked');
    ok($r->{json}{usage}{readUnits} >= 1, 'usage.readUnits');
    $r = pc(POST => '/query', { topK => 1, id => 'c', includeValues =>
        JSON::PP::true, includeMetadata => JSON::PP::true });
    is_deeply($r->{json}{matches}, [{ id => 'c', score => 1,
        values => [0, 1, 0, 0], metadata => $recs[2]{metadata} }],
        'query by id with values and metadata');
    $r = pc(POST => '/query', { topK => 1, id => 'zz' });
    is_deeply($r->{json}{matches}, [], 'query by an unknown id: no matches');
    $r = pc(POST => '/query', { topK => 10, vector => [1, 0, 0, 0],
                                namespace => '__default__' });
    is(scalar @{ $r->{json}{matches} }, 5, "'__default__' is ''");
    is($r->{json}{namespace}, '__default__', '  echoed as sent');
    for my $q (['topK 0', { topK => 0, id => 'a' }],
               ['topK 10001', { topK => 10001, id => 'a' }],
               ['no topK', { id => 'a' }],
               ['vector and id', { topK => 1, id => 'a',
                                   vector => [1, 0, 0, 0] }],
               ['neither vector nor id', { topK => 1 }],
               ['wrong length', { topK => 1, vector => [1, 0, 0] }],
               ['snake_case top_k', { top_k => 1, id => 'a' }],
               ['includeValues not a bool', { topK => 1, id => 'a',
                                              includeValues => 'yes' }],
               ['topK 1001 with includeMetadata', { topK => 1001, id => 'a',
                   includeMetadata => JSON::PP::true }]) {
        is(pc(POST => '/query', $q->[1])->{status}, 400, "query 400: $q->[0]");
    }
}

# upsert validation
{
    my $v = [1, 0, 0, 0];
    my @bad = (
        ['wrong dimension', [{ id => 'x', values => [1, 0, 0] }],
         qr/dimension 3 does not match the dimension of the index 4/],
        ['all zero', [{ id => 'x', values => [0, 0, 0, 0] }], qr/non-zero/],
        ['all below 1e-8', [{ id => 'x', values => [1e-9, 0, 0, 0] }],
         qr/non-zero/],
        ['no values', [{ id => 'x' }], qr/values/],
        ['values not numbers', [{ id => 'x', values => ['1', 0, 0, 0] }],
         qr/numbers/],
        ['null metadata value', [{ id => 'x', values => $v,
                                   metadata => { a => undef } }], qr/null/],
        ['nested metadata', [{ id => 'x', values => $v,
                               metadata => { a => { b => 1 } } }], qr/a/],
        ['list of numbers', [{ id => 'x', values => $v,
                               metadata => { a => [1, 2] } }], qr/strings/],
        ['$ key', [{ id => 'x', values => $v, metadata => { '$a' => 1 } }],
         qr/\$a/],
        ['metadata over 40 KB', [{ id => 'x', values => $v,
                                   metadata => { a => 'x' x 41000 } }],
         qr/40960/],
        ['empty id', [{ id => '', values => $v }], qr/id/],
        ['id of 513', [{ id => 'i' x 513, values => $v }], qr/512/],
        ['non-ASCII id', [{ id => "caf\x{e9}", values => $v }], qr/ASCII/],
        ['id not a string', [{ id => 5, values => $v }], qr/id/],
        ['no vectors', [], qr/1000/],
        ['1001 vectors', [map { { id => "v$_", values => $v } } 1 .. 1001],
         qr/1000/],
        ['unknown record field', [{ id => 'x', values => $v, score => 1 }],
         qr/score/],
        ['over 2 MB', [map { { id => "big$_", values => $v,
                               metadata => { t => 'x' x 30000 } } } 1 .. 80],
         qr/2MB/],
    );
    for my $c (@bad) {
        my $r = pc(POST => '/vectors/upsert', { vectors => $c->[1] });
        is($r->{status}, 400, "upsert 400: $c->[0]");
        is($r->{json}{code}, 3, '  code 3');
        like($r->{json}{message} // '', $c->[2], '  message');
    }
    my $r = pc(POST => '/vectors/upsert', { vectors => [
        { id => 'i' x 512, values => [0, 0, 0, 1e-8],
          metadata => { s => 'x', n => -1.5, b => JSON::PP::false,
                        l => ['p', 'q'], big => 'x' x 40000 } }] });
    is($r->{status}, 200, 'upsert at the limits: 512-char id, |v| = 1e-8, '
       . 'every metadata type, ~40 KB');
    is(pc(POST => '/vectors/upsert', { vectors => [], extra => 1 })->{status},
       400, 'unknown top-level field: 400');
    pc(POST => '/vectors/delete', { ids => ['i' x 512] });
}

# fetch, list, update, stats, delete
{
    my $r = pc(GET => '/vectors/fetch?ids=a&ids=b&ids=zz');
    is($r->{status}, 200, 'fetch: 200');
    is_deeply([sort keys %{ $r->{json}{vectors} }], [qw(a b)],
              'fetch: the known ids');
    is_deeply($r->{json}{vectors}{b}, { id => 'b', values => $recs[1]{values},
        metadata => $recs[1]{metadata} }, 'fetch: id, values, metadata');
    ok(exists $r->{json}{namespace} && $r->{json}{usage}, 'namespace, usage');
    is(pc(GET => '/vectors/fetch')->{status}, 400, 'fetch without ids: 400');
    is(pc(GET => '/vectors/fetch?' . join('&', map { "ids=$_" } 1 .. 1001))
       ->{status}, 400, 'fetch of 1001 ids: 400');

    my (@all, $token, $pages);
    do {
        my $q = '/vectors/list?namespace=paged&prefix=p-&limit=10';
        $q .= "&paginationToken=$token" if $token;
        $r = pc(GET => $q);
        push @all, map { $_->{id} } @{ $r->{json}{vectors} };
        $token = $r->{json}{pagination} && $r->{json}{pagination}{next};
        $pages++;
    } while ($token && $pages < 10);
    is($pages, 3, 'list: 3 pages of 10');
    ok(!exists $r->{json}{pagination}, 'list: no pagination on the last');
    is_deeply(\@all, [map { sprintf 'p-%02d', $_ } 0 .. 24],
              'list: every id once, in order');
    is($r->{json}{namespace}, 'paged', 'list: namespace');
    is(scalar @{ pc(GET => '/vectors/list?namespace=paged&prefix=p-1')
                 ->{json}{vectors} }, 10, 'list: prefix');
    is(pc(GET => '/vectors/list?limit=0')->{status}, 400, 'list limit 0: 400');
    is(pc(GET => '/vectors/list?paginationToken=%21%21')->{status}, 400,
       'list: a bad token: 400');

    $r = pc(POST => '/vectors/update', { id => 'b',
        setMetadata => { region => 'US', note => 'moved' } });
    is_deeply($r->{json}, {}, 'update (2025-04): {}');
    $r = pc(GET => '/vectors/fetch?ids=b');
    is_deeply($r->{json}{vectors}{b}{metadata}, { %{ $recs[1]{metadata} },
              region => 'US', note => 'moved' }, 'setMetadata merges');
    $r = pc(POST => '/vectors/update', { id => 'b', values => [0, 0, 0, 1] },
            'X-Pinecone-Api-Version' => '2025-10');
    is_deeply($r->{json}, { matchedRecords => 1 },
              'update (2025-10): matchedRecords');
    $r = pc(POST => '/query', { topK => 1, vector => [0, 0, 0, 1] });
    is(ids_of($r), 'b', 'update: new values');
    $r = pc(POST => '/vectors/update', { id => 'nope', values => [1, 0, 0, 0] },
            'X-Pinecone-Api-Version' => '2025-10');
    is_deeply($r->{json}, { matchedRecords => 0 }, 'update of a missing id');
    is(pc(POST => '/vectors/update', { id => 'b',
                                       setMetadata => { x => undef } })
       ->{status}, 400, 'update with a null metadata value: 400');

    $r = pc(POST => '/describe_index_stats', {});
    is_deeply($r->{json}, { namespaces => { '' => { vectorCount => 5 },
        paged => { vectorCount => 25 } }, dimension => 4,
        indexFullness => 0, totalVectorCount => 30, metric => 'cosine',
        vectorType => 'dense' }, 'describe_index_stats');
    $r = pc(POST => '/describe_index_stats', { filter => { region => 'US' } });
    is($r->{json}{namespaces}{''}{vectorCount}, 4, 'stats with a filter');
    is(pc(GET => '/describe_index_stats')->{json}{totalVectorCount}, 30,
       'GET describe_index_stats');

    is_deeply(pc(POST => '/vectors/delete', { ids => ['a'] })->{json}, {},
              'delete ids: {}');
    is_deeply(pc(POST => '/vectors/delete', { filter => { region => 'EU' } })
              ->{json}, {}, 'delete by filter');
    is_deeply(pc(POST => '/vectors/delete', { deleteAll => JSON::PP::true,
                                              namespace => 'paged' })->{json},
              {}, 'deleteAll in a namespace');
    $r = pc(POST => '/describe_index_stats', {});
    is_deeply($r->{json}{namespaces}, { '' => { vectorCount => 3 } },
              'stats after the deletes: an empty namespace disappears');
    is(pc(POST => '/vectors/delete', {})->{status}, 400,
       'delete with no mode: 400');
    is(pc(POST => '/vectors/delete', { ids => ['b'], deleteAll =>
                                       JSON::PP::true })->{status}, 400,
       'delete with two modes: 400');
}

# --state: the vectors survive a restart on the same port
{
    ok(-s $state, 'the state file is written');
    stop_remote();
    my $p2 = start_remote(pinecone_key => $PK, dims => 4, state => $state,
                          port => $port);
    is($p2, $port, 'restarted on the same port');
    my $r = pc(GET => '/vectors/fetch?ids=b&ids=c&ids=e');
    is_deeply([sort keys %{ $r->{json}{vectors} }], [qw(b c e)],
              'the vectors are back after the restart');
    is($r->{json}{vectors}{b}{metadata}{note}, 'moved', '  with metadata');
    remote_clear();
    is(pc(POST => '/describe_index_stats', {})->{json}{totalVectorCount}, 0,
       '/_control/clear drops every vector');
    stop_remote();
    start_remote(pinecone_key => $PK, dims => 4, state => $state);
    is(pc(POST => '/describe_index_stats', {})->{json}{totalVectorCount}, 0,
       '  also in the state file');
}

stop_remote();
done_testing();
