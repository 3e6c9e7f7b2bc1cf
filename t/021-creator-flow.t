# Creator ingest at scale: 10,000 creators as NDJSON (timed), the same
# batch again (nothing changes), reads on fresh connections (either
# worker) right after a write, the data across a reload and a restart,
# and clients that hang up during a big ingest.
use strict;
use warnings;
use IO::Select;
use IO::Socket::INET;
use Test::More;
use Time::HiRes qw(sleep time);
use Matcher::Flow;
use Matcher::Store;

my $http = <<'_EOC_';
    matcher_store lmdb:store size=1g;
    matcher_ingest_max_body_size 128m;
_EOC_
my $config = <<'_EOC_';
    location /api/creators { matcher_creators; }
_EOC_

my $N = 10_000;
my @Niches = ('Personal Finance', 'Cooking', 'Travel', 'Fitness',
              'Gardening', 'Tech Reviews', 'Parenting', 'Comedy');
my @Regions = qw(US UK EU CA AU);
my %ND = ('Content-Type' => 'application/x-ndjson');

# a valid creator of about 1.5 KB, the same for the same $i
sub creator {
    my ($i, $prefix) = @_;
    my $id = sprintf '%s-%05d', $prefix // 'flow', $i;
    my $n = $Niches[$i % @Niches];
    my $n2 = $Niches[($i * 3 + 1) % @Niches];
    (my $tag = lc $n) =~ s/\s+//g;
    return {
        uniqueId => $id,
        nickname => "Flow Creator $i",
        bio => "Creator $i makes short videos about \L$n\E. "
               . 'Practical tips, honest reviews and weekly Q&A for '
               . "curious viewers. \x{2b07}" x 3,
        followerCount => 1000 + $i * 7,
        followingCount => $i % 500,
        heartCount => $i * 113,
        videoCount => 10 + $i % 300,
        verified => $i % 5 ? JSON::PP::false : JSON::PP::true,
        region => $Regions[$i % @Regions],
        avatarUrl => "https://example.com/avatars/$id.jpg",
        profileUrl => "https://www.tiktok.com/\@$id",
        analysis => {
            summary => "Creator $i is a short-form creator focused on $n "
                       . "with supporting themes in $n2. Their videos "
                       . 'prioritise clarity, practical takeaways and '
                       . 'consistent audience engagement.',
            primaryNiches => [$n],
            secondaryNiches => [$n2, 'Lifestyle'],
            apparentValues => ['Clarity', 'Honesty', 'Community'],
            audienceInterests => ['Saving strategies', 'Everyday tips'],
            identifiedCauses => ['Education'],
            socialStances => ['Supports open access to information'],
            engagementStyle => {
                tone => ['Informative', 'Relatable'],
                contentStyle => 'Quick explainers and audience Q&A.',
                callsToAction => ['Share with a friend', 'Comment below'],
            },
            partnershipPotential => {
                alignedOrganizationTypes => ['Educational nonprofits'],
                contentStrengths => ['Clear explanations'],
                considerations => ['Keep disclosures transparent'],
            },
            topHashtags => ['#tips', "#$tag", "#creator$i"],
        },
        futureField => { crawl => $i % 7 },
    };
}

# bytes both ways: the bios are not all ASCII
my $Enc = JSON::PP->new->utf8->canonical;
sub ndjson { join '', map { $Enc->encode($_) . "\n" } @_ }

sub counts {
    my ($r) = @_;
    return [ $r->{status}, map { $r->{json}{$_} }
             qw(count inserted updated unchanged) ];
}

sub total { request(GET => '/api/creators?limit=1')->{json}{pagination}{total} }

# the stored creator, without the server's fields unless $all
sub get_creator {
    my ($id, $all) = @_;
    my $r = request(GET => "/api/creators/$id");
    return undef unless $r->{status} == 200;
    my $c = $Enc->decode($r->{body})->{creator};
    delete @$c{qw(createdAt updatedAt embedding)} unless $all;
    return $c;
}

# Writes a raw request as send_raw() does, but a body that nginx stops
# reading (a crashed worker) fails the test instead of hanging it.
sub send_big {
    my ($req) = @_;
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
        PeerPort => $Test::Nginx::Socket::ServerPort, Proto => 'tcp',
        Timeout => 5) or die "connect: $!";
    my $sel = IO::Select->new($sock);
    $sock->blocking(0);
    for (my $off = 0; $off < length $req; ) {
        $sel->can_write(30) or die "nginx stopped reading the request\n";
        my $n = syswrite($sock, $req, 1 << 20, $off);
        die "write: $!" unless defined $n or $!{EAGAIN};
        $off += $n // 0;
    }
    $sock->blocking(1);
    return $sock;
}

sub ingest_raw {
    Matcher::Flow::build(POST => '/api/creators/ingest', $_[0], %ND);
}

# NDJSON wants application/x-ndjson; Flow's default is application/json
sub ingest { read_raw(send_big(ingest_raw($_[0]))) }
sub ingest_json {
    request(POST => '/api/creators/ingest', $Enc->encode({ creators => [@_] }));
}

start_server(http_config => $http, config => $config, workers => 2);

# 10,000 new creators, then the same again
my @all = map { creator($_) } 0 .. $N - 1;
my $body = ndjson(@all);
diag(sprintf '%d creators: %.1f MB of NDJSON', $N, length($body) / 1e6);

my $t = time;
my $r = ingest($body);
my $took = time - $t;
is_deeply(counts($r), [200, $N, $N, 0, 0], '10,000 inserted');
is_deeply($r->{json}{failed}, [], 'none failed');
is($r->{json}{message}, "ingested $N creators", 'message');
diag(sprintf 'ingest of %d new creators: %.2f s', $N, $took);

$t = time;
$r = ingest($body);
$took = time - $t;
is_deeply(counts($r), [200, $N, 0, 0, $N], 'the same again: all unchanged');
diag(sprintf 'ingest of %d unchanged creators: %.2f s', $N, $took);

$r = request(GET => '/api/creators?limit=100&page=3');
is($r->{json}{pagination}{total}, $N, 'GET /api/creators counts them');
is($r->{json}{pagination}{pages}, $N / 100, 'pages');
is_deeply([map { $_->{uniqueId} } @{ $r->{json}{creators} }],
          [map { sprintf 'flow-%05d', $_ } 200 .. 299], 'in uniqueId order');

# the indexes at scale: region and niche (primary or secondary)
my $want = grep {
    $_->{region} eq 'UK' && grep { lc eq 'cooking' }
        @{ $_->{analysis}{primaryNiches} }, @{ $_->{analysis}{secondaryNiches} }
} @all;
is(request(GET => '/api/creators?region=uk&niche=Cooking&limit=1')
       ->{json}{pagination}{total}, $want, "region and niche: $want");

srand(21);
my @pick = (0, $N - 1, map { int rand $N } 1 .. 6);
for my $i (@pick) {
    my $id = $all[$i]{uniqueId};
    my $c = get_creator($id, 1);
    ok($c, "GET $id") or next;
    is($c->{followerCount}, $all[$i]{followerCount}, "$id: followerCount");
    is($c->{bio}, $all[$i]{bio}, "$id: bio, UTF-8 included");
    # pending until the background index sync gets to it, then ready
    like($c->{embedding}{status}, qr/^(pending|ready)$/,
         "$id: embedding pending or ready");
    is($c->{embedding}{model}, 'local-tfidf-v1', "$id: ready: the model")
        if $c->{embedding}{status} eq 'ready';
    like($c->{embedding}{textHash}, qr/^[0-9a-f]{16}$/, "$id: textHash");
    delete @$c{qw(createdAt updatedAt embedding)};
    is_deeply($c, $all[$i], "$id: the document as sent");
}

# every worker sees a write at once: fresh connections, some at once
for my $round (1 .. 3) {
    my $new = creator($round, 'fresh');
    $r = ingest_json($new);
    is_deeply(counts($r), [200, 1, 1, 0, 0], "round $round: one inserted");

    my $uri = "/api/creators/$new->{uniqueId}";
    my @socks = map { send_raw(GET => $uri) } 1 .. 10;
    my @seen = grep { $_->{status} == 200
                      && $_->{json}{creator}{nickname} eq $new->{nickname} }
               map { read_raw($_) } @socks;
    push @seen, grep { $_->{status} == 200 }
                map { request(GET => $uri) } 1 .. 10;
    is(scalar @seen, 20, "round $round: 20 connections read it");

    # and an update
    my $upd = { %{ $all[$round] }, followerCount => 7_000_000 + $round };
    $r = ingest_json($upd);
    is_deeply(counts($r), [200, 1, 0, 1, 0], "round $round: one updated");
    $uri = "/api/creators/$upd->{uniqueId}";
    @socks = map { send_raw(GET => $uri) } 1 .. 10;
    @seen = grep { ($_->{json}{creator}{followerCount} // -1)
                   == $upd->{followerCount} } map { read_raw($_) } @socks;
    is(scalar @seen, 10, "round $round: 10 connections read the update");
    $all[$round] = $upd;
}

my $total = $N + 3;
is(total(), $total, 'total after the single ingests');

# a reload and a restart keep everything (no reload in valgrind mode:
# without a master process nginx cannot reload its thread pools)
SKIP: {
    skip 'no reload without a master process (valgrind mode)', 2
        if $ENV{TEST_NGINX_USE_VALGRIND};
    reload_server();
    is(total(), $total, 'after a reload: the total');
    is_deeply(get_creator($all[$N - 1]{uniqueId}), $all[$N - 1],
              'after a reload: a document');
}
stop_server();

start_server();
is(total(), $total, 'after a restart: the total');
is_deeply(get_creator($all[2]{uniqueId}), $all[2],
          'after a restart: an updated document');
is_deeply(get_creator('fresh-00003'), creator(3, 'fresh'),
          'after a restart: a new one');

# the content hashes came through too: the batch is still unchanged but
# for the three updated since
$r = ingest($body);
is_deeply(counts($r), [200, $N, 0, 3, $N - 3], 'after a restart: unchanged');
$all[$_] = creator($_) for 1 .. 3;

# a client that sends half a body and hangs up: nothing is ingested
my $half = ndjson(map { creator($_, 'half') } 0 .. 999);
my $req = ingest_raw($half);
my $sock = send_big(substr($req, 0, length($req) - length($half) / 2));
close $sock;

# a client that hangs up right after sending a big ingest: it completes
(my $gone = $body) =~ s/"uniqueId":"flow-/"uniqueId":"gone-/g;
$t = time;
$sock = send_big(ingest_raw($gone));
close $sock;

my $last = sprintf 'gone-%05d', $N - 1;
my $found;
while (time - $t < 30) {
    last if $found = get_creator($last);
    sleep 0.1;
}
diag(sprintf 'ingest without its client: found the last one after %.2f s',
     time - $t);
is_deeply($found, { %{ $all[$N - 1] }, uniqueId => $last },
          'the ingest of a client that hung up completed');
is(total(), $total + $N, 'all of it');
is(request(GET => '/api/creators/half-00000')->{status}, 404,
   'the half-sent batch wrote nothing');

stop_server();

done_testing();
