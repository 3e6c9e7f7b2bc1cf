# API keys across "nginx -s reload" (issue 12): the key file is read with
# the configuration, so a reload takes a new key and drops a revoked one
# without a restart; a reload with a broken file keeps the old keys
# serving.  And "nginx -t" warns once, not once a location, when no
# location has keys.
use strict;
use warnings;
use Test::More;
use Digest::SHA qw(sha256_hex);
use File::Temp qw(tempdir);
use Matcher::Flow;

my $dir = tempdir('matcher-keys-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $dir;
my $keys = "$dir/keys";

sub write_keys {
    open my $fh, '>', $keys or die "$keys: $!";
    print {$fh} @_;
    close $fh;
    chmod 0644, $keys;
}

sub status {
    my ($key) = @_;
    return request(GET => '/api/creators?limit=1', undef,
                   defined $key ? ('X-Api-Key' => $key) : ())->{status};
}

write_keys("old:read:" . sha256_hex('old-key-0123456789') . "\n");

my $http = "    matcher_store lmdb:store size=16m;\n";
my $config = <<"_EOC_";
    matcher_api_keys $keys;
    location /api/creators { matcher_creators; }
_EOC_

start_server(http_config => $http, config => $config, workers => 2);

is(status('old-key-0123456789'), 200, 'the key of the file is taken');
is(status('new-key-0123456789'), 401, 'a key not in it is not');

SKIP: {
    skip 'no reload without a master process (valgrind mode)', 5
        if $ENV{TEST_NGINX_USE_VALGRIND};

    write_keys("new:read:" . sha256_hex('new-key-0123456789') . "\n");
    reload_server();
    is(status('new-key-0123456789'), 200, 'after a reload: the new key');
    is(status('old-key-0123456789'), 401, 'and the revoked one is refused');

    # a broken file: the reload fails, the running workers keep the keys
    write_keys("new:read:" . sha256_hex('new-key-0123456789') . "\n"
               . "broken line\n");
    my @workers = Test::Nginx::Socket::worker_pids();
    kill 'HUP', $Test::Nginx::Socket::NginxPid;
    my $seen = 0;
    for (1 .. 100) {
        open my $fh, '<', $Test::Nginx::Socket::ErrLogFile or last;
        $seen = grep { /invalid line 2 in key file/ } <$fh>;
        last if $seen;
        select undef, undef, undef, 0.05;
    }
    ok($seen, 'a broken key file is reported');
    is(status('new-key-0123456789'), 200, 'and the old keys keep serving');
    ok((grep { kill 0, $_ } @workers) == @workers, 'by the same workers');
}

# stop_server() but for the [emerg] of the broken reload, expected here
my $st = Test::Nginx::Socket::stop_nginx(
    $ENV{TEST_NGINX_USE_VALGRIND} ? 60 : 5);
ok(!$st->{killed}, 'nginx stopped gracefully');
Test::Nginx::Socket::check_valgrind('keys', $st->{pid})
    if $ENV{TEST_NGINX_USE_VALGRIND} && $st->{pid};
{
    open my $fh, '<', $Test::Nginx::Socket::ErrLogFile or die;
    my @bad = grep { !/invalid line 2 in key file/ }
              grep { /\[(?:alert|emerg)\]|exited on signal|$Test::Nginx::Socket::SanitizerRe/ }
              <$fh>;
    ok(!@bad, 'no other [alert], [emerg], signal or sanitizer report')
        or diag(join '', @bad);
}

# nginx -t: one warning for a configuration with no keys at all
my $root = tempdir('matcher-t-XXXXXX', TMPDIR => 1, CLEANUP => 1);
mkdir "$root/$_" for qw(conf logs);
my $modules = join '', map { "load_module $_;\n" }
    split ' ', $ENV{TEST_NGINX_LOAD_MODULES} // '';

sub nginx_t {
    my ($server) = @_;
    open my $fh, '>', "$root/conf/nginx.conf" or die;
    print {$fh} "${modules}error_log logs/error.log;\n"
        . "events {}\nhttp {\n  server {\n    listen 127.0.0.1:1;\n"
        . "$server  }\n  server {\n    listen 127.0.0.1:2;\n"
        . "    location /b { matcher_matches; }\n  }\n}\n";
    close $fh;
    my $nginx = $ENV{TEST_NGINX_BINARY} || 'nginx';
    my $out = `"$nginx" -t -p "$root/" -c conf/nginx.conf 2>&1`;
    return ($? >> 8, $out);
}

my ($rc, $out) = nginx_t("    location /a { matcher_creators; }\n"
                         . "    location /c { matcher_assignments; }\n");
is($rc, 0, 'nginx -t without keys passes');
my @warn = $out =~ /\[warn\].*no "matcher_api_keys": the API is open/g;
is(scalar @warn, 1, 'and warns once for three locations') or diag $out;

write_keys("k:read:" . sha256_hex('k') . "\nbroken line\n");
($rc, $out) = nginx_t("    matcher_api_keys $keys;\n"
                      . "    location /a { matcher_creators; }\n");
isnt($rc, 0, 'a broken key file fails nginx -t');
like($out, qr/\[emerg\].*invalid line 2 in key file/, 'naming the line');

write_keys("k:read:" . sha256_hex('k') . "\n");
($rc, $out) = nginx_t("    matcher_api_keys $keys;\n"
                      . "    location /a { matcher_creators; }\n");
is($rc, 0, 'with keys in one location nginx -t passes');
unlike($out, qr/matcher_api_keys/, 'without the warning');

done_testing();
