#!/usr/bin/env bash
# The matching-quality benchmark, one command (`make quality` calls it):
#
#   bench/quality/run.sh
#
# Builds the module if needed, starts one nginx on a free 127.0.0.1 port
# with an LMDB store in a temporary prefix, the 17 sample creators
# (t/data/creators.json), the local embedder and vector index and no cache
# zone, waits until /health says the index holds all 17, then runs
# bench/quality/quality.py: every brief of briefs.json through
# POST /api/matches (as written and bare) and the two baselines, scored
# against grades.json.  Prints the tables and writes them to
# bench/quality/RESULTS.md (replaced each run).  nginx is stopped and the
# prefix removed on exit, whatever happens.
#
# Environment: MODULE_SO (build/ngx_http_matcher_module.so; another .so is
# measured as it is and not rebuilt), BUILD (1 for the default module:
# "make -s build" first, under /tmp/matcher-build.lock; 0: use it as it
# is), NGINX (/usr/sbin/nginx), NDK_SO
# (/usr/lib/nginx/modules/ndk_http_module.so), PORT (a free one), RESULTS
# (bench/quality/RESULTS.md), RAW (empty; a path: every ranking as JSON),
# KEEP (1: keep the prefix, e.g. to read its error.log).

set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$PWD
Q=$ROOT/bench/quality

NGINX=${NGINX:-/usr/sbin/nginx}
NDK_SO=${NDK_SO:-/usr/lib/nginx/modules/ndk_http_module.so}
PYTHON=/usr/bin/python3
CREATORS=$ROOT/t/data/creators.json
RESULTS=${RESULTS:-$Q/RESULTS.md}
RAW=${RAW:-}
DEFAULT_SO=$ROOT/build/ngx_http_matcher_module.so
if [[ -n ${MODULE_SO:-} ]]; then
    MODULE_SO=$(realpath -m "$MODULE_SO")
fi
if [[ -z ${MODULE_SO:-} || $MODULE_SO == "$DEFAULT_SO" ]]; then
    MODULE_SO=$DEFAULT_SO
    BUILD=${BUILD:-1}
else
    BUILD=${BUILD:-0}
fi

say() { printf '%s\n' "quality: $*" >&2; }
die() { say "$*"; exit 1; }

for tool in curl "$PYTHON" "$NGINX"; do
    command -v "$tool" > /dev/null || die "$tool not found"
done
[[ -f $NDK_SO ]] || die "no $NDK_SO (libnginx-mod-http-ndk)"

# --- build --------------------------------------------------------------------

if [[ $BUILD != 0 ]]; then
    say "building the module (make -s build)"
    # someone else may be building in this checkout: one build at a time
    BUILD_LOG=$(mktemp)
    if ! flock /tmp/matcher-build.lock make -s build > "$BUILD_LOG" 2>&1; then
        cat "$BUILD_LOG" >&2
        rm -f "$BUILD_LOG"
        die "build failed"
    fi
    rm -f "$BUILD_LOG"
fi
[[ -f $MODULE_SO ]] || die "no $MODULE_SO"

COMMIT=$(git rev-parse --short HEAD 2> /dev/null || echo unknown)
if [[ -n $(git status --porcelain -- lib module config 2> /dev/null) ]]; then
    COMMIT="$COMMIT (module sources modified)"
fi
COMMAND="bench/quality/run.sh"
if [[ $MODULE_SO != "$DEFAULT_SO" ]]; then
    COMMAND="MODULE_SO=${MODULE_SO#"$ROOT"/} $COMMAND"
fi

# --- nginx --------------------------------------------------------------------

if [[ -z ${PORT:-} ]]; then
    PORT=$("$PYTHON" -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
fi
BASE=http://127.0.0.1:$PORT

PREFIX=$(mktemp -d "${TMPDIR:-/tmp}/matcher-quality-XXXXXX")
NGINX_PID=""
cleanup() {
    if [[ -n $NGINX_PID ]] && kill -0 "$NGINX_PID" 2> /dev/null; then
        kill -QUIT "$NGINX_PID" 2> /dev/null || true
        for _ in $(seq 50); do
            kill -0 "$NGINX_PID" 2> /dev/null || break
            sleep 0.1
        done
        kill -0 "$NGINX_PID" 2> /dev/null && kill -KILL "$NGINX_PID" 2> /dev/null
        wait "$NGINX_PID" 2> /dev/null || true
    fi
    if [[ ${KEEP:-0} == 1 ]]; then
        say "prefix kept: $PREFIX"
    else
        rm -rf "$PREFIX"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$PREFIX/conf" "$PREFIX/logs" "$PREFIX/temp" "$PREFIX/modules"
# nginx loads a private copy: `make build` rewrites build/*.so in place,
# and workers forked after that from a master that mapped it crash
cp "$MODULE_SO" "$PREFIX/modules/ngx_http_matcher_module.so"
cp "$CREATORS" "$PREFIX/creators.json"
MODULE_NOTE="Module: ${MODULE_SO#"$ROOT"/}, built $(date -u -r "$MODULE_SO" +'%Y-%m-%d %H:%M:%S UTC'), sha256 $(sha256sum "$MODULE_SO" | cut -c1-12); creators: t/data/creators.json."

USER_LINE=""
if [[ $(id -u) -eq 0 ]]; then
    USER_LINE="user root;   # run as root: workers must write the store here"
fi

# The directives of conf/embedded.conf that matter for matching, without
# the cache zone (every request is ranked afresh) and CORS.
cat > "$PREFIX/conf/nginx.conf" <<EOF
$USER_LINE
load_module $NDK_SO;
load_module modules/ngx_http_matcher_module.so;

worker_processes  1;
master_process    on;
daemon            off;
error_log         logs/error.log notice;
pid               logs/nginx.pid;

events {
    worker_connections  256;
}

http {
    access_log  off;
    client_body_buffer_size  1m;

    client_body_temp_path  temp/body;
    proxy_temp_path        temp/proxy;
    fastcgi_temp_path      temp/fastcgi;
    uwsgi_temp_path        temp/uwsgi;
    scgi_temp_path         temp/scgi;

    matcher_store           lmdb:store size=64m;
    matcher_creators_file   creators.json;     # loaded into the empty store

    matcher_embedder        local dims=512;
    matcher_vectors         local capacity=1000;

    server {
        listen       127.0.0.1:$PORT;
        server_name  localhost;

        location = /health {
            matcher_health;
        }

        location /api/creators {
            matcher_creators;
        }

        location /api/matches {
            matcher_matches;
        }
    }
}
EOF

"$NGINX" -q -t -p "$PREFIX/" -c conf/nginx.conf -e logs/error.log \
    || die "nginx -t failed (see $PREFIX/conf/nginx.conf)"
"$NGINX" -p "$PREFIX/" -c conf/nginx.conf -e logs/error.log &
NGINX_PID=$!
say "nginx $NGINX_PID on $BASE, prefix $PREFIX"

# --- wait for the index ---------------------------------------------------------

# the store loads creators.json at start and the index is built in the
# background: rank only once /health reports the vectors up with all 17
# (before that, POST /matches answers with isFallback: true)
N=$("$PYTHON" -c 'import json, sys
d = json.load(open(sys.argv[1])); print(len(d))' "$CREATORS")
deadline=$(( SECONDS + 60 ))
while :; do
    kill -0 "$NGINX_PID" 2> /dev/null || die "nginx exited: $(tail -5 "$PREFIX/logs/error.log")"
    VECTORS=$(curl -s --max-time 2 "$BASE/health" | "$PYTHON" -c 'import json, sys
try:
    v = json.load(sys.stdin)["checks"]["vectors"]
    print(v["status"], v.get("detail", ""))
except Exception:
    print("")' || true)
    [[ $VECTORS == "up local: $N creators"* ]] && break
    (( SECONDS < deadline )) || die "no index of $N creators after 60 s: \"$VECTORS\""
    sleep 0.2
done
say "index ready: ${VECTORS#up }"

# --- measure ----------------------------------------------------------------------

"$PYTHON" "$Q/quality.py" --base "$BASE" --creators "$CREATORS" \
    --briefs "$Q/briefs.json" --grades "$Q/grades.json" --results "$RESULTS" \
    ${RAW:+--raw "$RAW"} --commit "$COMMIT" --command "$COMMAND" --note "$MODULE_NOTE"
say "written: ${RESULTS#"$ROOT"/}"
