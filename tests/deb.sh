#!/usr/bin/env bash
# The Debian package (debian/, deploy/deb.sh), checked as it would be
# installed, without installing it on this machine: lintian, its
# dependencies, its files unpacked into a throw-away root, its
# maintainer scripts run against that root, and Debian's nginx serving
# the example site from it.  One "ok N - name" or "not ok N - name" a
# check (a failure also as "#   Failed test 'name'" for
# tests/failures.sh), then a "package: N passed, N failed" line.
#
# The .deb of build/deb/ is reused when it was built from the files of
# today (deploy/deb.sh --digest); otherwise deploy/deb.sh builds it
# (about a minute).

# every check is a function that "check" calls, which shellcheck misses
# shellcheck disable=SC2317
set -uo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo" || exit 1

NGINX=${NGINX:-/usr/sbin/nginx}
NDK_CONF=/usr/share/nginx/modules-available/mod-http-ndk.conf
ABI_VARS=/usr/share/nginx/src/debian/libnginx-mod.abisubstvars

n=0 failed=0
check() {             # check NAME COMMAND...: one test, its output kept
    local name=$1 out
    shift
    n=$((n + 1))
    if out=$("$@" 2>&1); then
        echo "ok $n - $name"
    else
        echo "not ok $n - $name"
        echo "#   Failed test '$name'"
        [ -n "$out" ] && head -30 <<< "$out" | sed 's/^/#   /'
        failed=$((failed + 1))
    fi
}
finish() {
    echo "package: $((n - failed)) passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit
}

# the package, built or reused
version=$(dpkg-parsechangelog -l debian/changelog -S Version)
arch=$(dpkg --print-architecture)
deb=build/deb/libnginx-mod-http-matcher_${version}_$arch.deb
stale() {
    [ -f "$deb" ] || return 0
    [ "$(deploy/deb.sh --digest)" \
      != "$(cat build/deb/sources.sha256 2>/dev/null)" ]
}
built() {
    if stale; then
        deploy/deb.sh || return 1
    fi
    [ -f "$deb" ]
}
if stale; then
    echo "# building $deb (deploy/deb.sh)"
else
    echo "# reusing $deb: built from today's files"
fi
check "package built ($deb)" built
[ -f "$deb" ] || finish

tmp=$(mktemp -d)
master=""
cleanup() {
    if [ -n "$master" ] && kill -0 "$master" 2>/dev/null; then
        kill -TERM "$master"
        sleep 1
        kill -KILL "$master" 2>/dev/null
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
# nginx's workers (www-data) walk into the root and the prefix
chmod 0755 "$tmp"
root=$tmp/root

lintian_clean() {
    # errors fail; warnings and overrides stay in the log
    local out
    out=$(lintian --pedantic --show-overrides "$deb" 2>&1)
    echo "$out"
    ! grep -q '^E: ' <<< "$out"
}
check "lintian: no errors" lintian_clean
lintian --pedantic "$deb" 2>/dev/null | grep '^[WI]: ' | sed 's/^/# /'

# the exact ABI of the nginx it was built for, and NDK
depends=$(dpkg-deb -f "$deb" Depends)
echo "# Depends: $depends"
abi=$(sed -n 's/^nginx:abi=//p' "$ABI_VARS")
has_dep() { grep -Eq "(^|, )$1( \\(|,|$)" <<< "$depends"; }
check "depends on $abi" has_dep "$abi"
check "depends on libnginx-mod-http-ndk" has_dep libnginx-mod-http-ndk
for lib in libyajl2 liblmdb0 libmongoc-1.0-0 libcurl4; do
    check "depends on $lib (shlibs)" has_dep "$lib"
done

# unpacked into the throw-away root; the maintainer scripts beside it
mkdir -p "$root" "$tmp/control"
dpkg-deb -x "$deb" "$root"
dpkg-deb -e "$deb" "$tmp/control"
so=$root/usr/lib/nginx/modules/ngx_http_matcher_module.so
snippet=$root/usr/share/nginx/modules-available/mod-http-matcher.conf
site=$root/etc/nginx/sites-available/matcher
example=$root/usr/share/doc/libnginx-mod-http-matcher/examples/matcher
keys=$root/etc/nginx/matcher/api-keys
has_files() {
    local f rc=0
    for f in "$@"; do
        [ -f "$f" ] || { echo "missing: ${f#"$root"}"; rc=1; }
    done
    return "$rc"
}
check "installs the module, its snippet, the site, the example, the keys" \
    has_files "$so" "$snippet" "$site" "$example" "$keys"
check "the snippet loads the module from nginx's module directory" \
    grep -qx 'load_module modules/ngx_http_matcher_module.so;' "$snippet"
check "the example is the site" cmp "$site" "$example"
html=()
if [ -d html ]; then
    mapfile -t html < <(cd html && find . -type f | sed 's|^\./||' | sort)
fi
page_installed() {
    local f rc=0
    for f in "${html[@]}"; do
        cmp "html/$f" "$root/usr/share/nginx-matcher/html/$f" || rc=1
    done
    return "$rc"
}
if [ ${#html[@]} -gt 0 ]; then
    check "installs html/ (${#html[@]} files) in /usr/share/nginx-matcher/" \
        page_installed
else
    echo "# no html/ files: the web page checks do not run"
fi

# The maintainer scripts, their absolute paths moved into the root and
# dpkg-trigger (which would reload this machine's nginx) a no-op.
mkdir -p "$root/etc/nginx/modules-enabled" "$root/var/lib" "$tmp/bin"
printf '#!/bin/sh\nexit 0\n' > "$tmp/bin/dpkg-trigger"
chmod +x "$tmp/bin/dpkg-trigger"
for s in postinst prerm postrm; do
    sed -e "s|/etc/nginx/|$root/etc/nginx/|g" \
        -e "s|/usr/share/nginx/|$root/usr/share/nginx/|g" \
        -e "s|/var/lib/nginx-matcher|$root/var/lib/nginx-matcher|g" \
        "$tmp/control/$s" > "$tmp/$s"
done
# Not root (a CI user), chown and stat run in one fakeroot session: the
# scripts' owners are checked, nginx's workers run as that user.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    else
        fakeroot -i "$tmp/fakeroot" -s "$tmp/fakeroot" "$@"
    fi
}
: > "$tmp/fakeroot"
script() { as_root env PATH="$tmp/bin:$PATH" sh -e "$tmp/$1" "${@:2}"; }
check "postinst configure (a first install) succeeds" script postinst configure
# the system's NDK snippet enabled under the name its package gives it
ln -s "$NDK_CONF" "$root/etc/nginx/modules-enabled/10-mod-http-ndk.conf"
enabled() { (cd "$root/etc/nginx/modules-enabled" && ls -- *.conf); }
after_ndk() {
    local names
    names=$(enabled)
    echo "$names"
    [ "$(sed -n 1p <<< "$names")" = 10-mod-http-ndk.conf ] \
        && [ "$(wc -l <<< "$names")" -eq 2 ] \
        && [ "$(readlink "$root/etc/nginx/modules-enabled/$(sed -n 2p \
               <<< "$names")")" = "$snippet" ]
}
check "postinst enables the snippet after 10-mod-http-ndk.conf" after_ndk
data=$root/var/lib/nginx-matcher
owned() {
    local is
    is=$(as_root stat -c %U:%G:%a "$1") || return 1
    [ "$is" = "$2" ] || { echo "$1: $is"; return 1; }
}
check "postinst makes the data directory, www-data's" \
    owned "$data" www-data:www-data:750

# nginx: free port, a prefix for logs and temp files, the enabled
# snippets (their "modules/" moved to the root, NDK's system one linked
# in), the site from the root with its paths moved there
port=$(perl -MIO::Socket::INET -e \
    'print IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1",
                                 LocalPort => 0)->sockport')
prefix=$tmp/prefix
mkdir -p "$prefix/logs" "$prefix/temp" "$prefix/modules-enabled"
ln -s /usr/lib/nginx/modules/ndk_http_module.so \
    "$root/usr/lib/nginx/modules/ndk_http_module.so"
for f in "$root"/etc/nginx/modules-enabled/*.conf; do
    sed "s|load_module modules/|load_module $root/usr/lib/nginx/modules/|" \
        "$f" > "$prefix/modules-enabled/$(basename "$f")"
done
sed -e "s|/var/lib/nginx-matcher|$data|g" \
    -e "s|/etc/nginx/matcher/|$root/etc/nginx/matcher/|g" \
    -e "s|/usr/share/nginx-matcher/|$root/usr/share/nginx-matcher/|g" \
    -e "s|/var/log/nginx/|$prefix/logs/|g" \
    -e "s|listen  *127.0.0.1:8080;|listen 127.0.0.1:$port;|" \
    "$site" > "$prefix/site"
outside() {         # every path of the site's copy is in the temp dir
    local bad
    bad=$(grep -v '^ *#' "$prefix/site" | grep -o ' /[^ ;]*' \
          | grep -v "^ $tmp/" | grep -v '^ /metrics$\|^ /health$\|^ /api' \
          | grep -v '^ /$')
    [ -z "$bad" ] || { echo "left outside: $bad"; return 1; }
    grep -q "listen 127.0.0.1:$port;" "$prefix/site"
}
check "the site's copy points into the temp root, port $port" outside
main_conf() {       # main_conf FILE [HTTP-INCLUDE]
    cat > "$1" << EOF
user  www-data;
worker_processes  2;
error_log  $prefix/logs/error.log notice;
pid        $prefix/logs/nginx.pid;
include    $prefix/modules-enabled/*.conf;
events { worker_connections 256; }
http {
    include  /etc/nginx/mime.types;
    default_type  application/octet-stream;
    access_log  $prefix/logs/access.log;
    client_body_temp_path  $prefix/temp/body;
    proxy_temp_path        $prefix/temp/proxy;
    fastcgi_temp_path      $prefix/temp/fastcgi;
    uwsgi_temp_path        $prefix/temp/uwsgi;
    scgi_temp_path         $prefix/temp/scgi;
    ${2:+include  $2;}
}
EOF
}
ngx() { "$NGINX" -p "$prefix/" -c "$1" "${@:2}"; }

# only the module loaded, no matcher directive: what installing it does
main_conf "$prefix/bare.conf"
bare() {
    local out
    out=$(ngx "$prefix/bare.conf" -t 2>&1)
    echo "$out"
    grep -q 'test is successful' <<< "$out" && ! grep -qi matcher <<< "$out"
}
check "nginx -t: the module loaded alone, silent" bare

# Debian's own nginx.conf, its default site and ours enabled: the logs,
# the pid and the enabled modules and sites moved into the prefix
debian_conf() {
    mkdir -p "$prefix/sites-enabled"
    cp "$prefix/site" "$prefix/sites-enabled/matcher"
    if [ -f /etc/nginx/sites-available/default ]; then
        sed "s|/var/log/nginx/|$prefix/logs/|g" \
            /etc/nginx/sites-available/default \
            > "$prefix/sites-enabled/default"
    fi
    sed -e "s|/etc/nginx/modules-enabled/|$prefix/modules-enabled/|" \
        -e "s|/etc/nginx/sites-enabled/|$prefix/sites-enabled/|" \
        -e "s|/var/log/nginx/|$prefix/logs/|g" \
        -e "s|/run/nginx.pid|$prefix/logs/nginx.pid|" \
        /etc/nginx/nginx.conf > "$prefix/debian.conf"
    grep -q "include $prefix/sites-enabled/" "$prefix/debian.conf" \
        || { echo "no sites-enabled include"; return 1; }
    ngx "$prefix/debian.conf" -t
}

# a key for the API checks
key=deb-test-$$-$RANDOM$RANDOM
printf 'deb-test:read:%s\n' "$(printf %s "$key" | sha256sum | cut -d' ' -f1)" \
    >> "$keys"
main_conf "$prefix/nginx.conf" "$prefix/site"
check "nginx -t: the example site" ngx "$prefix/nginx.conf" -t
check "nginx -t: Debian's nginx.conf with its default site and ours" \
    debian_conf
start() {
    ngx "$prefix/nginx.conf" || return 1
    for _ in $(seq 50); do
        curl -s -o /dev/null "http://127.0.0.1:$port/health" && break
        sleep 0.2
    done
    master=$(cat "$prefix/logs/nginx.pid")
    curl -s -o /dev/null "http://127.0.0.1:$port/health"
}
check "nginx starts with the example site" start
get() {             # get PATH [CURL ARGS...]: "status\nbody" on stdout
    curl -s -m 10 -w '\n%{http_code}' "${@:2}" "http://127.0.0.1:$port$1"
}
health() {
    local out
    out=$(get /health)
    echo "$out"
    [ "$(tail -1 <<< "$out")" = 200 ] || return 1
    sed '$d' <<< "$out" | perl -MJSON::PP -e '
        my $h = decode_json(join "", <STDIN>);
        my $c = $h->{checks};
        my @bad;
        sub is { my ($v, $re) = @_; defined $v && !ref $v && $v =~ $re }
        push @bad, "status" unless is($h->{status}, qr/^(healthy|degraded)$/);
        push @bad, "service" unless is($h->{service}, qr/^matching-service$/);
        push @bad, "timestamp"
            unless is($h->{timestamp}, qr/^\d{4}-\d\d-\d\dT/);
        push @bad, "version" unless is($h->{version}, qr/^\Q$ARGV[0]\E$/);
        for my $k (qw(store embeddings vectors cache)) {
            push @bad, "checks.$k" unless ref $c->{$k} eq "HASH"
                && is($c->{$k}{status}, qr/^(up|down|degraded|disabled)$/);
        }
        push @bad, "store not up" unless is($c->{store}{status}, qr/^up$/);
        die "bad: @bad\n" if @bad;' "${version%-*}"
}
check "GET /health: 200, the contract's JSON, the store up" health
worker=www-data
[ "$(id -u)" -eq 0 ] || worker=$(id -un)
store_made() {
    local is
    is=$(stat -c %U "$data/store") || return 1
    [ "$is" = "$worker" ] || { echo "owner: $is"; return 1; }
}
check "the store is in the data directory, $worker's" store_made
status_is() {       # status_is CODE PATH [CURL ARGS...]
    local out
    out=$(get "${@:2}")
    [ "$(tail -1 <<< "$out")" = "$1" ] || { echo "$out"; return 1; }
}
check "GET /api/creators without a key: 401" status_is 401 /api/creators
check "GET /api/creators with a key of the keys file: 200" \
    status_is 200 /api/creators -H "Authorization: Bearer $key"
metrics() {
    local out
    out=$(get /metrics)
    if [ "$(tail -1 <<< "$out")" != 200 ] \
           || ! grep -q '^matcher_info{' <<< "$out"; then
        head <<< "$out"
        return 1
    fi
}
check "GET /metrics from 127.0.0.1: 200, matcher_info" metrics
page() {
    local out
    out=$(curl -s -m 10 "http://127.0.0.1:$port/") || return 1
    [ "$out" = "$(cat "$root/usr/share/nginx-matcher/html/index.html")" ]
}
if [ ${#html[@]} -gt 0 ] && [ -f html/index.html ]; then
    check "GET /: the installed web page" page
    page_headers() {
        local h
        h=$(curl -s -m 10 -o /dev/null -D - "http://127.0.0.1:$port/")
        if ! grep -qi '^content-type: text/html' <<< "$h" \
           || ! grep -qi '^x-content-type-options: nosniff' <<< "$h" \
           || ! grep -qi '^content-security-policy: ' <<< "$h"; then
            echo "$h"
            return 1
        fi
    }
    check "GET /: text/html with nosniff and a CSP" page_headers
    every_file() {
        local f rc=0
        for f in "${html[@]}"; do
            curl -s -m 10 "http://127.0.0.1:$port/$f" \
                | cmp -s - "html/$f" || { echo "/$f differs"; rc=1; }
        done
        return "$rc"
    }
    check "GET of each html/ file: the file" every_file
fi
stop() {
    ngx "$prefix/nginx.conf" -s quit || return 1
    for _ in $(seq 50); do
        kill -0 "$master" 2>/dev/null || return 0
        sleep 0.2
    done
    echo "master $master still running"
    return 1
}
check "nginx stops" stop
check "no alert, crit or emerg in the error log" \
    bash -c "! grep -E '\\[(alert|crit|emerg)\\]' '$prefix/logs/error.log'"

# removal keeps the data and moves the link aside; purge drops both
removing() { script prerm remove && script postrm remove; }
check "prerm remove, postrm remove succeed" removing
removed() {
    [ -d "$data/store" ] || { echo "data gone"; return 1; }
    [ -L "$root/etc/nginx/modules-enabled/50-mod-http-matcher.conf.removed" ]
}
check "remove keeps the data directory and disables the snippet" removed
check "postrm purge succeeds" script postrm purge
purged() {
    [ ! -e "$data" ] || { echo "data kept"; return 1; }
    [ "$(enabled)" = 10-mod-http-ndk.conf ] \
        || { ls "$root/etc/nginx/modules-enabled/"; return 1; }
}
check "purge removes the data directory and the snippet's link" purged

finish
