# The web page (html/, issue 13) in headless Chromium (Debian's chromium,
# driven by playwright-core from t/browser/, as t/074-browser.t): served
# by deploy/run.sh with the shipped conf/embedded.conf (the repo's html/
# linked into the prefix) and the sample creators.  It loads with its
# CSP, matches an example brief and one typed and sent from the keyboard
# into cards (score, a bar for each field of the breakdown, reasoning),
# browses and filters the creators, opens a profile and its lookalikes,
# searches with a filter, shows a creator's markup as text, watches a
# refresh to its end and fits a phone's width, without a console error or
# a failed request.  Then conf/secure.conf: the page loads without a key,
# the API answers it 401 (shown), and with the key the page works.
# Screenshots go to build/test-output/web/.
use strict;
use warnings;
use Cwd qw(abs_path);
use File::Path qw(make_path);
use File::Temp qw(tempdir);
use Digest::SHA qw(sha256_hex);
use HTTP::Tiny;
use Matcher::Conf;
use JSON::PP;
use Test::More;
use Time::HiRes qw(sleep);

my $repo = abs_path('.');
my $chromium = '/usr/bin/chromium';
ok(-x $chromium, "Debian's chromium is installed")
    & ok(-d 't/browser/node_modules/playwright-core',
         'playwright-core is installed (npm ci in t/browser)')
    or do { done_testing(); exit 1 };

my ($ndk, $so) = split ' ', ($ENV{TEST_NGINX_LOAD_MODULES} // '');
$so //= "$repo/build/ngx_http_matcher_module.so";
# one directory a build: the normal and the parked runs keep their own
my $label = $so =~ m{/parked/} ? 'parked' : 'normal';
my $shots = "$repo/build/test-output/web/$label";
make_path($shots);

my $J = JSON::PP->new->canonical;
my $ua = HTTP::Tiny->new(timeout => 10);

# deploy/run.sh with MATCHER_CONF=NAME on a free port (Matcher::Conf)
sub serve {
    my ($name, %env) = @_;
    my $run = run_conf($name, \%env);
    my $r = wait_health($run);
    is($r->{status}, 200, "deploy/run.sh serves conf/$name.conf")
        or diag $r->{diag};
    return $run;
}

sub stop {
    my ($run) = @_;
    is(stop_conf($run) & 127, 0, 'nginx stopped');
    my @bad = grep { /\[(?:alert|emerg)\]|exited on signal/ }
              `cat $run->{data}/logs/error.log`;
    ok(!@bad, 'no [alert], [emerg] or signal in error.log') or diag @bad;
}

sub browse {
    my @args = @_;
    my $out = `node t/browser/web.mjs @args 2>&1`;
    is($? >> 8, 0, "the browser ran ($args[0])") or diag $out;
    my $res = eval { decode_json((grep { /^\{/ } split /\n/, $out)[-1]) }
        || {};
    return $res;
}

sub card_ok {
    my ($c, $what, $expect) = @_;
    like($c->{score}, qr/^(?:0\.\d\d|1\.00)$/, "$what: a score");
    my $fields = join ',', map { $_->{field} } @{ $c->{bars} };
    # the contract's five first, then any the module adds
    like($fields, qr/^semanticSimilarity,nicheAlignment,audienceMatch,
                     valueAlignment,engagementFit\b/x,
         "$what: a bar for each field of the breakdown")
        or diag explain $c;
    is($fields, join(',', @$expect), "$what: the reply's fields, in order")
        if $expect;
    is($c->{bars}[0]{label}, 'Semantic similarity', "$what: labelled");
    ok(!(grep { $_->{value} !~ /^\d\.\d\d$/ || $_->{width} < 0 }
         @{ $c->{bars} }), "$what: each bar with its value");
    ok((grep { $_->{width} > 0 } @{ $c->{bars} }), "$what: bars drawn");
    like($c->{reasoning}, qr/\w{3,}.*\./, "$what: reasoning");
    like($c->{framing}, qr/\w{3,}/, "$what: framing suggestion");
    like($c->{handle}, qr/^\@[a-z]+$/, "$what: the handle");
}

my $csp = q{default-src 'self'; img-src 'self' data:; style-src 'self'; }
    . q{script-src 'self'; connect-src 'self'; frame-ancestors 'none'};

# ---- conf/embedded.conf: no keys ----------------------------------------

my $run = serve('embedded');
my $base = $run->{base};

# a creator whose name and bio are markup: the page must show it as text
my $hostile = {
    uniqueId => 'hostile-1',
    nickname => '<img src=x onerror="window.pwned=1"><b>bold</b>',
    bio => '<script>window.pwned=2</script>Cooking & "quotes"',
    followerCount => 5, region => 'US',
    analysis => { summary => 'Markup.', primaryNiches => ['Cooking'],
                  engagementStyle => { tone => ['Warm'] } },
};
my $r = $ua->post("$base/api/creators/ingest", {
    headers => { 'Content-Type' => 'application/json' },
    content => $J->encode({ creators => [$hostile] }) });
is($r->{status}, 200, 'the hostile creator is ingested') or diag $r->{content};
# the lookalikes need the sample creators in the index
for (1 .. 100) {
    $r = $ua->get("$base/api/creators/mindsovermoney/similar?topK=1");
    last if $r->{status} == 200;
    sleep 0.1;
}
is($r->{status}, 200, 'the sample creators are indexed');

$r = $ua->get("$base/");
is($r->{headers}{'content-security-policy'}, $csp, '/ with its CSP');
is($r->{headers}{'x-content-type-options'}, 'nosniff', 'and nosniff');
unlike($r->{content}, qr/<script>|<style>|\son\w+=|style=/i,
       'no inline script, style or handler in index.html');

my $res = browse('open', $base, $chromium, $shots, 'hostile-1');
is($res->{page}{status}, 200, 'the page loads');
is($res->{page}{csp}, $csp, 'the browser got the CSP');

my $ex = $res->{example} || {};
is(scalar @{ $ex->{cards} || [] }, 3, 'the example brief: three cards')
    or diag explain $ex;
for my $i (0 .. $#{ $ex->{cards} || [] }) {
    my $c = $ex->{cards}[$i];
    card_ok($c, "example card $c->{handle}", $ex->{fields}[$i] || ['none']);
}
like($ex->{summary} // '', qr/^3 creators\. \S/, 'with the reply\'s reasoning');
ok($ex->{csvEnabled}, 'Download CSV is offered once there are matches');
my $csv = $res->{csv} || {};
is($csv->{name}, 'matches.csv', 'Download CSV saves matches.csv')
    or diag explain $csv;
like($csv->{header} // '', qr/^creatorId,matchScore,reasoning,/,
     'its header row has the JSON field names');
is($csv->{rows}, 3, 'a row for each card');
is_deeply($csv->{ids}, $ex->{ids}, 'the same creators in the same order');
my @scores = map { $_->{score} } @{ $ex->{cards} || [] };
is_deeply([@scores], [sort { $b <=> $a } @scores], 'best first');

my $own = $res->{own} || {};
is(scalar @{ $own->{cards} || [] }, 5,
   'a typed brief sent with Enter, topK 5: five cards') or diag explain $own;
card_ok($own->{cards}[0] || {}, 'typed brief, first card');

my $b = $res->{browse} || {};
is($b->{all}, 18, 'browse: every creator listed') or diag explain $b;
like($b->{summary} // '', qr/^18 creators, page 1 of 1$/, 'with its count');
is_deeply($b->{uk}, ['greenroutes'], 'filtered on region UK');

my $p = $res->{profile} || {};
like($p->{handle} // '', qr/^\@greenroutes/, 'a click opens the profile')
    or diag explain $p;
ok(@{ $p->{similar} || [] } >= 5, 'its lookalikes are listed');
ok(!(grep { $_ eq 'greenroutes' } @{ $p->{similar} || [] }),
   'without itself');

my $s = $res->{search} || {};
is(scalar @{ $s->{ids} || [] }, 4, 'search: topK 4') or diag explain $s;

my $h = $res->{hostile} || {};
is($h->{name}, $hostile->{nickname}, 'a name of markup shows as text')
    or diag explain $h;
is($h->{bio}, $hostile->{bio}, 'a bio of markup shows as text');
is($h->{elements}, 0, 'no element made of it');
is($h->{pwned}, undef, 'no script of it ran');

my $j = $res->{refresh} || {};
like($j->{status} // '', qr/^Status: completed, errors: 0/,
     'the refresh is watched to its end') or diag explain $j;
like($j->{label} // '', qr/: 18 of 18 creators$/, 'its progress');
ok($j->{max} > 0 && $j->{value} == $j->{max}, 'the bar full');
like($j->{summary} // '', qr/Total creators\s*18/, 'and its summary');

ok(($res->{phone}{scrollWidth} // 999) <= 375,
   'at a phone\'s width nothing is wider than the screen')
    or diag explain $res->{phone};

is_deeply($res->{consoleErrors}, [], 'no console error');
is_deeply($res->{failed}, [], 'no failed request');
is_deeply($res->{bad}, [], 'no request answered 4xx or 5xx');
ok(!(grep { defined } @{ $res->{apiAuth} }), 'no key sent when none is set');

for (qw(web-matches web-phone)) {
    ok(-s "$shots/$_.png", "screenshot $shots/$_.png");
}

stop($run);

# ---- conf/secure.conf: API keys -------------------------------------------

my $key = 'web-test-key-0123456789abcdef';
my $keydir = tempdir('matcher-webkeys-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $keydir;
open my $kfh, '>', "$keydir/keys" or die;
print {$kfh} 'page:read,write:' . sha256_hex($key) . "\n";
close $kfh;
chmod 0644, "$keydir/keys";

$run = serve('secure', MATCHER_KEYS_FILE => "$keydir/keys",
              MATCHER_RATE => '100r/s', MATCHER_BURST => 200);
$base = $run->{base};
$r = $ua->get("$base/");
is($r->{status}, 200, 'secure: the page loads without a key');
is($r->{headers}{'content-security-policy'}, $csp, 'secure: with its CSP');
is($ua->get("$base/style.css")->{status}, 200, 'secure: and its files');
is($ua->get("$base/api/creators?limit=1")->{status}, 401,
   'secure: the API still wants a key');

$res = browse('key', $base, $chromium, $shots, $key);
is($res->{page}{status}, 200, 'secure: the browser loads the page');
like($res->{nokey}{error} // '', qr/401 unauthorized: an API key is required/,
     'without a key the page shows the 401\'s message')
    or diag explain $res;
is($res->{nokey}{cards}, 0, 'and no card');
my $w = $res->{withkey} || {};
is(scalar @{ $w->{cards} || [] }, 3, 'with the key: three cards')
    or diag explain $w;
card_ok($w->{cards}[0] || {}, 'with the key, first card');
ok($w->{errorHidden}, 'the error is gone');
is($w->{stored}, $key, 'the key is kept in sessionStorage');
ok($res->{browse}{count} >= 17, 'with the key: the creators listed');
my @auth = @{ $res->{apiAuth} || [] };
is($auth[0], undef, 'the first call went without a key');
is_deeply([@auth[1 .. $#auth]], [("Bearer $key") x $#auth],
          'every later call with "Authorization: Bearer KEY"');
# the 401 is the only error: Chromium logs each failed load
is_deeply($res->{bad}, ['401 POST /api/matches'], 'secure: only the 401')
    or diag explain $res->{bad};
ok(!(grep { !/status of 401/ } @{ $res->{consoleErrors} }),
   'no console error but the 401') or diag explain $res->{consoleErrors};
is_deeply($res->{failed}, [], 'secure: no failed request');
ok(-s "$shots/web-key.png", "screenshot $shots/web-key.png");

stop($run);

done_testing();
