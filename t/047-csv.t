# CSV export (issue 13): "Accept: text/csv" on POST /matches, GET
# /creators and POST /creators/search.  For each, the CSV is parsed here
# (strictly: RFC 4180, CRLF) and checked against the JSON reply to the
# same request: the header row, the number of rows, every cell by the
# flattening rule of README.md.  Creators whose fields hold quotes,
# commas, line breaks and formulas round-trip, guarded; Accept's q-values
# decide; errors stay JSON; the match cache serves either kind of client
# what it asked for.  With 17 sample creators, 4 awkward ones and 40
# with long bios, a page of 100 is over the 64 KB converted on the event
# loop: it is converted on the thread pool (every reply is, in the
# parked build).
use strict;
use warnings;
use B ();
use Cwd qw(abs_path);
use List::Util qw(all);
use Scalar::Util qw(looks_like_number);
use Test::More;
use Time::HiRes qw(sleep);
use Matcher::Flow;
use Matcher::Store;

my $creators = abs_path('t/data/creators.json');
my $example = abs_path('t/data/example-assignment.json');

my $http = <<"_EOC_";
    matcher_store lmdb:store size=64m;
    matcher_creators_file $creators;
    matcher_cache_zone matcher:4m;
_EOC_
my $config = <<'_EOC_';
    add_header X-Cache $matcher_cache_status always;
    location /api/creators { matcher_creators; }
    location /api/assignments { matcher_assignments; }
    location /api/matches { matcher_matches; }
_EOC_

my $J = json();
my $CSV = 'text/csv';

sub slurp { my ($f) = @_; local (@ARGV, $/) = $f; <> }

# the columns, as README.md lists them
my @creator_cols = qw(uniqueId nickname bio followerCount region verified
    avatarUrl profileUrl followingCount heartCount videoCount topHashtags
    analysis.summary analysis.primaryNiches analysis.secondaryNiches
    analysis.apparentValues analysis.audienceInterests
    analysis.identifiedCauses analysis.socialStances
    analysis.engagementStyle.tone analysis.engagementStyle.contentStyle
    analysis.engagementStyle.callsToAction
    analysis.partnershipPotential.alignedOrganizationTypes
    analysis.partnershipPotential.contentStrengths
    analysis.partnershipPotential.considerations analysis.topHashtags
    analysis.evidenceNotes createdAt updatedAt embedding.model
    embedding.dimensions embedding.textHash embedding.updatedAt
    embedding.status);
my @match_cols = (qw(creatorId matchScore reasoning framingSuggestion),
    map({ "scoreBreakdown.$_" } qw(semanticSimilarity nicheAlignment
        audienceMatch valueAlignment engagementFit toneAlignment)),
    map({ "creator.$_" } qw(uniqueId nickname avatarUrl profileUrl region
        followerCount verified bio analysis.primaryNiches
        analysis.secondaryNiches analysis.apparentValues
        analysis.engagementStyle.tone)));
my @search_cols = (qw(id score),
    map({ "metadata.$_" } qw(region followerCount verified primaryNiches
        secondaryNiches apparentValues)),
    map({ "creator.$_" } @creator_cols));

# RFC 4180, strictly: quoted fields with "" for ", others without " CR
# LF or comma; every record ends with CRLF.  Dies on anything else.
sub parse_csv {
    my ($s) = @_;
    my (@rows, @row);
    pos($s) = 0;
    while (pos($s) < length $s) {
        if ($s =~ /\G"((?:[^"]|"")*)"/gc) {
            (my $f = $1) =~ s/""/"/g;
            push @row, $f;
        } elsif ($s =~ /\G([^",\r\n]*)/gc) {
            push @row, $1;
        }
        next if $s =~ /\G,/gc;
        if ($s =~ /\G\r\n/gc) {
            push @rows, [@row];
            @row = ();
            next;
        }
        die 'not CSV at byte ' . pos($s) . ': '
            . $J->encode([substr($s, pos($s), 30)]) . "\n";
    }
    die "the last record has no CRLF\n" if @row;
    return \@rows;
}

sub is_number {
    my $f = B::svref_2object(\$_[0])->FLAGS;
    return ($f & (B::SVp_IOK | B::SVp_NOK)) && !($f & B::SVp_POK);
}

sub text_of {
    my ($v) = @_;
    return '' unless defined $v;
    return $v ? 'true' : 'false' if JSON::PP::is_bool($v);
    return join('; ', map { text_of($_) } @$v) if ref $v eq 'ARRAY';
    return $J->encode($v) if ref $v;
    return "$v";
}

# checks one CSV cell against the JSON value it comes from
sub cell_ok {
    my ($got, $row, $path, $name) = @_;
    my $v = $row;
    for my $k (split /\./, $path) {
        $v = (ref $v eq 'HASH') ? $v->{$k} : undef;
    }
    if (defined $v && !ref $v && is_number($v)) {
        return 1 if looks_like_number($got) && $got == $v;
    } else {
        my $want = text_of($v);
        $want = "'$want" if $want =~ /^[=+\-\@\t\r]/;
        return 1 if $got eq $want;
    }
    diag("$name: $path is " . $J->encode([$got]) . ', the JSON has '
         . $J->encode([$v]));
    return 0;
}

# the CSV reply against the JSON reply's rows
sub same_rows {
    my ($csv, $rows, $cols, $name) = @_;
    my $t = eval { parse_csv($csv->{body}) };
    ok($t, "$name: the CSV parses") or return diag($@);
    is_deeply($t->[0], $cols, "$name: the header row");
    is(scalar @$t - 1, scalar @$rows, "$name: as many rows as the JSON ("
       . scalar(@$rows) . ')');
    ok((all { scalar @$_ == @$cols } @$t), "$name: every row, every column");
    my $bad = 0;
    for my $i (0 .. $#$rows) {
        for my $c (0 .. $#$cols) {
            $bad++ unless cell_ok($t->[$i + 1][$c] // '(none)', $rows->[$i],
                                  $cols->[$c], "$name row $i");
            last if $bad > 5;
        }
    }
    ok(!$bad, "$name: every cell is the JSON's");
    return $t;
}

sub csv_headers_ok {
    my ($r, $file, $name) = @_;
    is($r->{status}, 200, "$name: 200");
    is($r->{headers}{'content-type'}, 'text/csv; charset=utf-8; header=present',
       "$name: Content-Type");
    is($r->{headers}{'content-disposition'},
       qq{attachment; filename="$file"}, "$name: Content-Disposition");
    like($r->{headers}{vary} // '', qr/\bAccept\b/, "$name: Vary: Accept");
}

sub json_ok {
    my ($r, $name) = @_;
    like($r->{headers}{'content-type'} // '', qr{^application/json},
         "$name: JSON");
    ok(!exists $r->{headers}{'content-disposition'},
       "$name: no Content-Disposition");
}

sub get { request(GET => $_[0], undef, @_[1 .. $#_]) }
sub post { request(POST => $_[0], $J->encode($_[1]), @_[2 .. $#_]) }

start_server(http_config => $http, config => $config, workers => 2);

my $r;
for (1 .. 100) {
    $r = post('/api/creators/search', { query => 'money', topK => 1 });
    last if $r->{status} == 200;
    sleep 0.1;
}
is($r->{status}, 200, 'the index is ready after the start-up load');

# creators whose fields a CSV writer must escape or guard

sub awkward {
    my ($id, %f) = @_;
    my $an = delete $f{analysis} || {};
    return { uniqueId => $id, nickname => $id, bio => 'A bio.',
             followerCount => 1000, region => 'US', %f,
             analysis => { summary => 'A summary.',
                           primaryNiches => ['Comedy'],
                           engagementStyle => { tone => ['Relatable'] },
                           %$an } };
}

my @awkward = (
    awkward('csv-quotes', nickname => 'Ann "The Saver", Esq.',
            bio => "line one\nline two, with \"quotes\"; and more\r\nend"),
    awkward('csv-formula', nickname => '=HYPERLINK("http://evil","x")',
            bio => '+1 555 0100',
            analysis => { primaryNiches => ['-minus', '@at', '=sum'],
                          summary => "\t tabbed" }),
    awkward('csv-at', nickname => '@handle', bio => "\rcarriage",
            analysis => { secondaryNiches => ['a,b', 'c'] }),
    awkward('csv-utf8', nickname => "Zo\xc3\xab \xe2\xac\x87\xef\xb8\x8f",
            bio => "caf\xc3\xa9, cr\xc3\xa8me"),
);
my $long = 'I post about money and food and travel. ' x 22;
my @many = map { synthetic_creator('CSV', $_, "%s video %d. $long") } 1 .. 40;

$r = post('/api/creators/ingest', { creators => [@awkward, @many] });
is($r->{status}, 200, 'ingest the awkward and the long ones');
is($r->{json}{count}, 44, '... all 44') or diag($r->{body});

# their embeddings are made in the background: JSON and CSV of a page are
# two requests, which must see the same creators
for (1 .. 100) {
    $r = get('/api/creators?limit=100');
    last if all { ($_->{embedding}{status} // '') eq 'ready' }
            @{ $r->{json}{creators} || [] };
    sleep 0.1;
}
ok((all { ($_->{embedding}{status} // '') eq 'ready' }
    @{ $r->{json}{creators} || [] }), 'every creator embedded');

# GET /creators: a page of 100 (over 64 KB of JSON), one of 20

for my $q ('limit=100', 'limit=20', 'limit=7&page=2', 'region=UK',
           'niche=Comedy&limit=50') {
    my $j = get("/api/creators?$q");
    my $c = get("/api/creators?$q", Accept => $CSV);
    is($j->{status}, 200, "GET /creators?$q as JSON");
    like($j->{headers}{vary} // '', qr/\bAccept\b/,
         '... says Vary: Accept too');
    csv_headers_ok($c, 'creators.csv', "GET /creators?$q as CSV");
    same_rows($c, $j->{json}{creators}, \@creator_cols, "GET /creators?$q");
    ok(length($j->{body}) > 65536, '... a page over 64 KB of JSON')
        if $q eq 'limit=100';
}

my $page = get('/api/creators?limit=100', Accept => $CSV);
my $t = parse_csv($page->{body});
my %by = map { $_->[0] => $_ } @$t[1 .. $#$t];
my %col;
@col{@creator_cols} = 0 .. $#creator_cols;
sub at { $by{ $_[0] }[ $col{ $_[1] } ] }

is(at('csv-quotes', 'nickname'), 'Ann "The Saver", Esq.',
   'quotes and a comma round-trip');
is(at('csv-quotes', 'bio'),
   "line one\nline two, with \"quotes\"; and more\r\nend",
   'LF, CRLF, quotes, a comma and a semicolon round-trip');
is(at('csv-formula', 'nickname'), q{'=HYPERLINK("http://evil","x")},
   '= guarded');
is(at('csv-formula', 'bio'), "'+1 555 0100", '+ guarded');
is(at('csv-formula', 'analysis.primaryNiches'), "'-minus; \@at; =sum",
   'a list starting with - guarded, once, as one cell');
is(at('csv-formula', 'analysis.summary'), "'\t tabbed", 'tab guarded');
is(at('csv-at', 'nickname'), "'\@handle", '@ guarded');
is(at('csv-at', 'bio'), "'\rcarriage", 'CR guarded');
is(at('csv-at', 'analysis.secondaryNiches'), 'a,b; c',
   'an item with a comma: one cell');
is(at('csv-utf8', 'nickname'), "Zo\xc3\xab \xe2\xac\x87\xef\xb8\x8f",
   'UTF-8 passes through');
is(at('csv-utf8', 'followerCount'), '1000', 'a number as in the JSON');
ok(index($page->{body}, qq{\r\ncsv-quotes,"Ann ""The Saver"", Esq.",}) > 0,
   'quotes doubled in the raw text');
ok(index($page->{body}, qq{\r\ncsv-formula,"'=HYPERLINK(""http://evil"",}
                        . qq{""x"")",'+1 555 0100,}) > 0,
   '... and the guard inside them');

my $head = request(HEAD => '/api/creators?limit=100', undef,
                   Accept => $CSV);
is($head->{headers}{'content-type'},
   'text/csv; charset=utf-8; header=present', 'HEAD: the CSV type');
is($head->{headers}{'content-length'}, length $page->{body},
   '... and its length');

# POST /creators/search

for my $body ({ query => 'budgeting and saving money', topK => 10 },
              { query => 'videos', topK => 100 },
              { query => 'videos', topK => 100,
                filter => { region => { '$in' => ['UK', 'EU'] } } },
              { query => 'nothing', filter => { region => 'Mars' } }) {
    my $name = 'search ' . $J->encode($body);
    my $j = post('/api/creators/search', $body);
    my $c = post('/api/creators/search', $body, Accept => $CSV);
    is($j->{status}, 200, "$name as JSON");
    csv_headers_ok($c, 'search.csv', "$name as CSV");
    same_rows($c, $j->{json}{results}, \@search_cols, $name);
}

# POST /matches, and its cache: a HIT serves the kind each client asked

my $assignment = $J->decode(slurp($example));

my $j1 = post('/api/matches', { assignment => $assignment, topK => 4 });
my $c1 = post('/api/matches', { assignment => $assignment, topK => 4 },
              Accept => $CSV);
is($j1->{headers}{'x-cache'}, 'MISS', 'matches as JSON: MISS');
is($c1->{headers}{'x-cache'}, 'HIT', 'the same as CSV: HIT');
csv_headers_ok($c1, 'matches.csv', 'matches as CSV');
same_rows($c1, $j1->{json}{data}{matches}, \@match_cols, 'matches topK 4');
my $j1b = post('/api/matches', { assignment => $assignment, topK => 4 });
is($j1b->{headers}{'x-cache'}, 'HIT', 'JSON again after the CSV: HIT');
json_ok($j1b, '... ');
is_deeply($j1b->{json}{data}{matches}, $j1->{json}{data}{matches},
          '... the same JSON as the first time');

my $b2 = { assignment => $assignment, topK => 7, framing => JSON::PP::false };
my $c2 = post('/api/matches', $b2, Accept => $CSV);
my $j2 = post('/api/matches', $b2);
is($c2->{headers}{'x-cache'}, 'MISS', 'matches as CSV first: MISS');
is($j2->{headers}{'x-cache'}, 'HIT', 'the same as JSON: HIT');
json_ok($j2, 'the JSON after a CSV');
is(scalar @{ $j2->{json}{data}{matches} }, 7, '... with its 7 matches');
my $t2 = same_rows($c2, $j2->{json}{data}{matches}, \@match_cols,
                   'matches topK 7 without framing');
ok((all { $_->[3] eq '' } @$t2[1 .. $#$t2]), '... framingSuggestion empty');
my $c2b = post('/api/matches', $b2, Accept => $CSV);
is($c2b->{headers}{'x-cache'}, 'HIT', 'CSV again: HIT');
is($c2b->{body}, $c2->{body}, '... the same CSV');

# saved to an assignment (computed, not cached): the rows it saved
$r = post('/api/assignments', $assignment);
my $aid = $r->{json}{data}{id};
my $c3 = post('/api/matches', { assignmentId => $aid, topK => 3 },
              Accept => $CSV);
csv_headers_ok($c3, 'matches.csv', 'matches saved to an assignment');
$r = get("/api/assignments/$aid");
same_rows($c3, $r->{json}{data}{matchResults}, \@match_cols,
          'matches saved to an assignment');

# Accept and its q-values

for ([undef, 0], ['*/*', 0], ['application/json', 0], ['text/*', 0],
     ['text/csv', 1], ['TEXT/CSV; charset=utf-8', 1],
     ['text/csv, */*', 1], ['text/html, text/csv;q=0.9, */*;q=0.8', 1],
     ['application/json;q=0.5, text/csv', 1],
     ['text/csv;q=0.5, application/json', 0],
     ['application/json, text/csv', 0],
     ['text/csv;q=0.4, */*;q=0.5', 0], ['text/csv;q=0', 0],
     ['text/csv;q=2', 0], ['text/csv;q=0.9, application/json;q=0.8', 1]) {
    my ($accept, $want) = @$_;
    my $c = get('/api/creators?limit=2', defined $accept
                                         ? (Accept => $accept) : ());
    my $name = 'Accept ' . ($accept // '(none)');
    if ($want) {
        like($c->{headers}{'content-type'} // '', qr{^text/csv},
             "$name: CSV");
    } else {
        json_ok($c, $name);
        is(scalar @{ $c->{json}{creators} || [] }, 2, "$name: the JSON");
    }
}

# two Accept headers are one list (by hand: request() takes one of each)
{
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
        PeerPort => $Test::Nginx::Socket::ServerPort, Proto => 'tcp',
        Timeout => 5) or die "connect: $!";
    print {$sock} "GET /api/creators?limit=2 HTTP/1.1\r\nHost: localhost\r\n"
        . "Connection: close\r\nAccept: application/json;q=0.5\r\n"
        . "Accept: text/csv\r\n\r\n";
    $r = read_raw($sock);
    like($r->{headers}{'content-type'} // '', qr{^text/csv},
         'two Accept headers: one list');
}

# errors stay JSON envelopes

for my $e (['GET', '/api/creators?limit=0', undef, 400],
           ['GET', '/api/creators?limit=10abc', undef, 400],
           ['POST', '/api/creators/search', { query => '', topK => 0 }, 400],
           ['POST', '/api/creators/search',
            { query => 'x', filter => { colour => 'red' } }, 400],
           ['POST', '/api/matches', { assignment => $assignment,
                                      topK => 51 }, 400],
           ['POST', '/api/matches', { assignmentId => 'f' x 24 }, 404],
           ['GET', '/api/creators/nobody-here', undef, 404],
           ['PUT', '/api/creators', '{}', 405]) {
    my ($m, $uri, $body, $status) = @$e;
    $r = request($m => $uri, ref $body ? $J->encode($body) : $body,
                 Accept => $CSV);
    my $name = "$m $uri with Accept: text/csv";
    is($r->{status}, $status, "$name: $status");
    json_ok($r, $name);
    ok($r->{json} && !$r->{json}{success} && $r->{json}{code},
       "$name: the error envelope");
}
$r = request(POST => '/api/creators/search', 'x{', Accept => $CSV);
is($r->{status}, 400, 'not JSON, CSV accepted: 400');
json_ok($r, '... ');

# other endpoints ignore Accept: text/csv, as before

for my $uri ('/api/creators/mindsovermoney', "/api/assignments/$aid") {
    $r = get($uri, Accept => $CSV);
    is($r->{status}, 200, "GET $uri with Accept: text/csv: 200");
    json_ok($r, "GET $uri");
    unlike($r->{headers}{vary} // '', qr/Accept/, '... no Vary: Accept');
}
$r = post('/api/matches/framing', { assignment => $assignment,
                                    creatorId => 'mindsovermoney' },
          Accept => $CSV);
is($r->{status}, 200, 'POST /matches/framing with Accept: text/csv: 200');
json_ok($r, 'POST /matches/framing');

stop_server();
done_testing();
