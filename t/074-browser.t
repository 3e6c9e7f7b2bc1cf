# Cross-site safety in a real browser (issue 12): headless Chromium
# (Debian's chromium, driven by playwright-core from t/browser/) loads a
# page of an origin the API does not list and one of the origin it does.
# The API runs without keys, the worst case: only the 415 for requests
# without a JSON type and CORS's allow-list stand between a page and the
# data.  The other origin cannot ingest, refresh or create (its simple
# requests get 415, its JSON request never passes the preflight); the
# allowed one can, and reads the replies.
use strict;
use warnings;
use Test::More;
use IO::Socket::INET;
use File::Temp qw(tempdir);
use JSON::PP;
use Matcher::Flow;

my $chromium = '/usr/bin/chromium';
my $node_modules = 't/browser/node_modules/playwright-core';

# deploy/install-deps.sh installs both: missing, the test fails (and
# stops here, leaving the other suites to run)
ok(-x $chromium, "Debian's chromium is installed")
    & ok(-d $node_modules, 'playwright-core is installed (npm ci in t/browser)')
    or do { done_testing(); exit 1 };

sub free_port {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1:0')
        or die;
    my $p = $s->sockport;
    close $s;
    return $p;
}

my ($good, $bad) = (free_port(), free_port());
my $pages = tempdir('matcher-pages-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $pages;
open my $fh, '>', "$pages/page.html" or die;
print {$fh} "<!doctype html><title>page</title><p>a page\n";
close $fh;
chmod 0644, "$pages/page.html";

my $http = <<"_EOC_";
    matcher_store lmdb:store size=16m;
    log_format origin '\$request_method \$uri \$status origin=\$http_origin';

    # the two pages' origins: another port is another origin
    server {
        listen 127.0.0.1:$good;
        location / { root $pages; }
    }
    server {
        listen 127.0.0.1:$bad;
        location / { root $pages; }
    }
_EOC_
my $config = <<"_EOC_";
    access_log logs/access.log origin;
    matcher_cors_origins http://127.0.0.1:$good;
    location /api/creators { matcher_creators; }
    location /api/assignments { matcher_assignments; }
_EOC_

start_server(http_config => $http, config => $config);

my $api = "http://127.0.0.1:$Test::Nginx::Socket::ServerPort";
my $out = `node t/browser/check.mjs $api http://127.0.0.1:$good http://127.0.0.1:$bad $chromium 2>&1`;
is($? >> 8, 0, 'the browser ran') or diag $out;
my $res = eval { decode_json((grep { /^\{/ } split /\n/, $out)[-1]) } || {};
my ($e, $g) = ($res->{evil} || {}, $res->{allowed} || {});

# what the page of the other origin saw
is($e->{ingest}{type}, 'opaque', 'other origin: a no-body ingest is sent, '
   . 'its reply unreadable');
is($e->{create_text}{type}, 'opaque', 'other origin: a text/plain create');
like($e->{create_json}{error} // '', qr/TypeError|Failed to fetch/,
     'other origin: a JSON create fails its preflight');
like($e->{read}{error} // '', qr/TypeError|Failed to fetch/,
     'other origin: cannot read a reply');

# what the page of the allowed origin saw
is($g->{ingest}{status}, 200, 'allowed origin: ingest') or diag $out;
like($g->{ingest}{body} // '', qr/"inserted":1/, 'and reads the reply');
is($g->{refresh}{status}, 202, 'allowed origin: refresh');
is($g->{create_json}{status}, 201, 'allowed origin: create');
like($g->{create_json}{requestId} // '', qr/^[0-9a-f]{32}$/,
     'an exposed header is readable');
is($g->{read}{status}, 200, 'allowed origin: read');

# what the server did, from its access log
open my $log, '<', $Test::Nginx::Socket::AccLogFile or die;
my @lines = grep { /origin=http:\/\/127\.0\.0\.1:$bad$/ } <$log>;
close $log;
my @evil_posts = grep { /^POST / } @lines;
is(scalar(grep { / 415 / } @evil_posts), 4,
   'every POST of the other origin got 415: ingest, refresh, two creates')
    or diag @lines;
ok(!(grep { !/ 415 / } @evil_posts), 'none of them got anything else');
ok((grep { /^OPTIONS \/api\/assignments 204 / } @lines),
   'the JSON create stopped at its preflight');

# and the state: one creator, the allowed one's
my $r = request(GET => '/api/creators?limit=10');
is($r->{json}{pagination}{total}, 1, 'one creator in the store');
$r = request(GET => '/api/assignments/history/browser-user');
is($r->{json}{pagination}{total}, 1, 'one assignment, the allowed one');

stop_server();

done_testing();
