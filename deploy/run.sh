#!/usr/bin/env bash
# Serves the embedded default in the foreground on 127.0.0.1:${PORT:-8080}
# with its data in ${DATA_DIR:-./data}.  Ctrl-C stops it.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
port=${PORT:-8080}
data=${DATA_DIR:-./data}
mkdir -p "$data"
data=$(cd "$data" && pwd)
prefix=$data
nginx=${NGINX:-/usr/sbin/nginx}

case $port in
    ''|*[!0-9]*) echo "PORT must be a number, not '$port'" >&2; exit 2 ;;
esac

mkdir -p "$prefix/conf" "$prefix/logs" "$prefix/modules" "$prefix/temp"
ln -sf /usr/lib/nginx/modules/ndk_http_module.so "$prefix/modules/"
ln -sf "$repo/build/ngx_http_matcher_module.so" "$prefix/modules/"

# the sample creators, loaded at start when the store is empty
[ -e "$prefix/creators.json" ] || cp "$repo/t/data/creators.json" "$prefix/"

sed -e "s/listen       127.0.0.1:8080;/listen       127.0.0.1:$port;/" \
    "$repo/conf/embedded.conf" > "$prefix/conf/nginx.conf"

"$nginx" -q -t -p "$prefix/" -c conf/nginx.conf -e "$prefix/logs/error.log"

echo "matcher: http://127.0.0.1:$port/health and /api/ (data in $data," \
     "logs in $prefix/logs); Ctrl-C stops it"

exec "$nginx" -p "$prefix/" -c conf/nginx.conf -g 'daemon off;' \
    -e "$prefix/logs/error.log"
