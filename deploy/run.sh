#!/usr/bin/env bash
# Serves conf/${MATCHER_CONF:-embedded}.conf in the foreground on
# 127.0.0.1:${PORT:-8080} with its data in ${DATA_DIR:-./data}.  Ctrl-C
# stops it.
#
# A conf names the environment variables it takes in "# matcher-env:"
# lines ("NAME required" or "NAME=default"); they fill its ${NAME}s, as
# the official nginx image fills its templates.  A *_BASE_URL or
# *_INDEX_HOST URL also gives ${X_SCHEME}, ${X_HOST}, ${X_AUTHORITY}
# (host[:port] as given), ${X_HOSTPORT} and ${X_PATH} for its upstream
# block and location (X: OPENAI, PINECONE).
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
# MATCHER_MODULE_SO: another build of the module (the tests' parked one)
ln -sf "${MATCHER_MODULE_SO:-$repo/build/ngx_http_matcher_module.so}" \
    "$prefix/modules/ngx_http_matcher_module.so"

# the web page (conf/*.conf: "location / { root html; }"): the repo's
# files, linked, not copied: an edit shows at once
ln -sfn "$repo/html" "$prefix/html"

# the sample creators, loaded at start when the store is empty
[ -e "$prefix/creators.json" ] || cp "$repo/t/data/creators.json" "$prefix/"

name=${MATCHER_CONF:-embedded}
case $name in
    ''|*[!A-Za-z0-9_-]*) echo "MATCHER_CONF must name a file in conf/," \
                              "not '$name'" >&2; exit 2 ;;
esac
conf="$repo/conf/$name.conf"
if [ ! -f "$conf" ]; then
    echo "MATCHER_CONF=$name: no $conf" >&2
    exit 2
fi

cp "$repo/conf/matcher_remote_params" "$prefix/conf/"

# a relative key file (conf/secure.conf) or CloudFront ranges file
# (conf/cloudfront.conf) is the caller's, not the prefix's
for var in MATCHER_KEYS_FILE MATCHER_CDN_RANGES; do
    val=${!var:-}
    if [ -n "$val" ] && [ "${val#/}" = "$val" ]; then
        export "$var=$PWD/$val"
    fi
done

MATCHER_CONF_LISTEN=$port "$repo/deploy/fill-conf.pl" "$conf" \
    > "$prefix/conf/nginx.conf"

"$nginx" -q -t -p "$prefix/" -c conf/nginx.conf -e "$prefix/logs/error.log"

echo "matcher: http://127.0.0.1:$port/health and /api/ (data in $data," \
     "logs in $prefix/logs); Ctrl-C stops it"

exec "$nginx" -p "$prefix/" -c conf/nginx.conf -g 'daemon off;' \
    -e "$prefix/logs/error.log"
