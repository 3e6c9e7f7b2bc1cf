#!/usr/bin/env bash
# The benchmark, one command (`make bench` runs it):
#
#   bench/run.sh                       N=10000 creators, 10 s per scenario
#   N=50000 DURATION=30s bench/run.sh
#
# Builds the module if needed, starts one nginx (bench/nginx.conf.in) in
# bench/out/nginx with an empty LMDB store, generates N creators
# (bench/gen-creators.py), times their NDJSON ingest, then runs wrk on
# each scenario in this order:
#
#   return 200 | GET /api/creators/{id} | POST /api/assignments |
#   GET /api/assignments/history/{userId} | return 200 again (drift)
#
# prints a markdown table and appends it to bench/RESULTS.md.  nginx is
# stopped on exit, whatever happens.  Everything is on 127.0.0.1.
#
# Environment: N (10000), SEED (1), DURATION (10s), CONNECTIONS (64),
# THREADS (2), USERS (100: userIds of the POST and history scenarios),
# HISTORY_QUERY (empty: the contract's defaults, limit=50), PORT (a free
# one), RESULTS (bench/RESULTS.md), NGINX (/usr/sbin/nginx), NDK_SO.

set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD

N=${N:-10000}
SEED=${SEED:-1}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
USERS=${USERS:-100}
HISTORY_QUERY=${HISTORY_QUERY:-}
RESULTS=${RESULTS:-$ROOT/bench/RESULTS.md}
NGINX=${NGINX:-/usr/sbin/nginx}
NDK_SO=${NDK_SO:-/usr/lib/nginx/modules/ndk_http_module.so}
MODULE_SO=$ROOT/build/ngx_http_matcher_module.so

OUT=$ROOT/bench/out
PREFIX=$OUT/nginx
WRK_DIR=$ROOT/bench/wrk
COMMAND="N=$N SEED=$SEED DURATION=$DURATION CONNECTIONS=$CONNECTIONS THREADS=$THREADS USERS=$USERS${HISTORY_QUERY:+ HISTORY_QUERY=$HISTORY_QUERY} bench/run.sh"

say() { printf '%s\n' "bench: $*" >&2; }
die() { say "$*"; exit 1; }

for tool in wrk curl python3 "$NGINX"; do
    command -v "$tool" > /dev/null || die "$tool not found"
done
[[ $N =~ ^[1-9][0-9]*$ ]] || die "N must be a positive integer"

# seconds in a wrk duration (10, 10s, 2m, 1h), for the timeouts around wrk
duration_secs() {
    local d=$1
    case $d in
        *h) echo $(( ${d%h} * 3600 )) ;;
        *m) echo $(( ${d%m} * 60 )) ;;
        *s) echo "${d%s}" ;;
        *)  echo "$d" ;;
    esac
}
DUR_SECS=$(duration_secs "$DURATION")
[[ $DUR_SECS =~ ^[0-9]+$ ]] || die "DURATION: want e.g. 10s, 2m"

# --- build ------------------------------------------------------------------

mkdir -p "$OUT"
say "building the module (make -s build)"
make -s build > "$OUT/build.log" 2>&1 || { cat "$OUT/build.log" >&2; die "build failed"; }
[[ -f $MODULE_SO ]] || die "no $MODULE_SO"
COMMIT=$(git rev-parse --short HEAD 2> /dev/null || echo unknown)
if [[ -n $(git status --porcelain -- lib module config 2> /dev/null) ]]; then
    COMMIT="$COMMIT (module sources modified)"
fi
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

# --- data ---------------------------------------------------------------------

mkdir -p "$OUT"
DATA=$OUT/creators-$N-$SEED.ndjson
IDS=$OUT/ids-$N-$SEED.txt
if [[ ! -s $DATA || $DATA -ot bench/gen-creators.py || $DATA -ot t/data/creators.json ]]; then
    say "generating $N creators (seed $SEED)"
    python3 bench/gen-creators.py "$N" "$SEED" > "$DATA.tmp"
    mv "$DATA.tmp" "$DATA"
    rm -f "$IDS"
fi
if [[ ! -s $IDS || $IDS -ot $DATA ]]; then
    python3 -c 'import json, sys
for line in sys.stdin:
    if line.strip():
        print(json.loads(line)["uniqueId"])' < "$DATA" > "$IDS"
fi
DATA_BYTES=$(stat -c %s "$DATA")

# the ingest limit: the module's default (64m) unless the file is bigger
INGEST_MAX=64m
if (( DATA_BYTES > 64 * 1024 * 1024 )); then
    INGEST_MAX=$(( DATA_BYTES / 1024 / 1024 + 2 ))m
fi

# --- nginx --------------------------------------------------------------------

if [[ -z ${PORT:-} ]]; then
    PORT=$(python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
fi
BASE=http://127.0.0.1:$PORT

rm -rf "$PREFIX"
mkdir -p "$PREFIX/conf" "$PREFIX/logs" "$PREFIX/tmp" "$PREFIX/store" \
         "$PREFIX/modules"

# nginx loads a private copy: `make build` rewrites build/*.so in place
# (cp), and workers forked after that from a master that mapped it crash
cp "$MODULE_SO" "$PREFIX/modules/"

USER_LINE=""
if [[ $(id -u) -eq 0 ]]; then
    USER_LINE="user root;   # run as root: workers must write the store here"
fi
sed -e "s|@USER@|$USER_LINE|" -e "s|@NDK@|$NDK_SO|" \
    -e "s|@MODULE@|$PREFIX/modules/${MODULE_SO##*/}|" -e "s|@PORT@|$PORT|" \
    -e "s|@INGEST_MAX@|$INGEST_MAX|" \
    bench/nginx.conf.in > "$PREFIX/conf/nginx.conf"

"$NGINX" -q -t -p "$PREFIX/" -c conf/nginx.conf -e logs/error.log \
    || die "nginx -t failed (see $PREFIX/conf/nginx.conf)"

NGINX_PID=""
stop_nginx() {
    [[ -n $NGINX_PID ]] || return 0
    if kill -0 "$NGINX_PID" 2> /dev/null; then
        kill -QUIT "$NGINX_PID" 2> /dev/null || true
        for _ in $(seq 50); do
            kill -0 "$NGINX_PID" 2> /dev/null || break
            sleep 0.1
        done
        if kill -0 "$NGINX_PID" 2> /dev/null; then
            say "nginx did not quit in 5 s: TERM"
            kill -TERM "$NGINX_PID" 2> /dev/null || true
            sleep 1
            kill -KILL "$NGINX_PID" 2> /dev/null || true
        fi
    fi
    wait "$NGINX_PID" 2> /dev/null || true
    NGINX_PID=""
}
trap stop_nginx EXIT
trap 'exit 130' INT TERM

"$NGINX" -p "$PREFIX/" -c conf/nginx.conf -e logs/error.log &
NGINX_PID=$!

for _ in $(seq 100); do
    curl -sf -o /dev/null --max-time 1 "$BASE/ref" && break
    kill -0 "$NGINX_PID" 2> /dev/null || die "nginx exited: $(tail -5 "$PREFIX/logs/error.log")"
    sleep 0.1
done
curl -sf -o /dev/null --max-time 1 "$BASE/ref" || die "nginx does not answer on $BASE"
say "nginx $NGINX_PID on $BASE, prefix $PREFIX"

# --- ingest -------------------------------------------------------------------

say "ingesting $N creators ($DATA_BYTES bytes of NDJSON)"
INGEST_TIME=$(curl -s --max-time 600 -o "$OUT/ingest.json" -w '%{http_code} %{time_total}' \
    -H 'Content-Type: application/x-ndjson' --data-binary "@$DATA" \
    "$BASE/api/creators/ingest")
read -r INGEST_STATUS INGEST_SECS <<< "$INGEST_TIME"
[[ $INGEST_STATUS == 200 ]] || die "ingest: HTTP $INGEST_STATUS: $(head -c 500 "$OUT/ingest.json")"
read -r INGEST_COUNT INGEST_INSERTED INGEST_FAILED < <(python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
print(r.get("count"), r.get("inserted"), len(r.get("failed") or []))' "$OUT/ingest.json")
[[ $INGEST_COUNT == "$N" && $INGEST_FAILED == 0 ]] \
    || die "ingest accepted $INGEST_COUNT of $N, $INGEST_FAILED failed: $(head -c 500 "$OUT/ingest.json")"
INGEST_RATE=$(python3 -c "print(round($N / $INGEST_SECS))")
say "ingest: $N creators in ${INGEST_SECS}s = $INGEST_RATE creators/s"

# one of each, by hand, before measuring
FIRST_ID=$(head -1 "$IDS")
curl -sf -o /dev/null --max-time 5 "$BASE/api/creators/$FIRST_ID" \
    || die "GET /api/creators/$FIRST_ID failed"

# --- wrk ------------------------------------------------------------------------

export BENCH_WRK_DIR=$WRK_DIR BENCH_IDS=$IDS BENCH_USERS=$USERS \
       BENCH_HISTORY_QUERY=$HISTORY_QUERY
WRK_ARGS=(-t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency)

declare -A RPS P50 P99 BYTES ERRS
NAMES=()

# run_wrk <name> <script> <path>
run_wrk() {
    local name=$1 script=$2 path=$3 log line
    log=$OUT/wrk-${#NAMES[@]}-$script.txt
    say "wrk ${WRK_ARGS[*]} -s bench/wrk/$script.lua $BASE$path"
    timeout -k 5 $(( DUR_SECS + 60 )) \
        wrk "${WRK_ARGS[@]}" -s "$WRK_DIR/$script.lua" "$BASE$path" > "$log" 2>&1 \
        || die "wrk failed: $(tail -5 "$log")"
    line=$(grep '^BENCH ' "$log" | tail -1) || die "no BENCH line in $log"
    NAMES+=("$name")
    RPS[$name]=$(sed -E 's/.* rps=([^ ]+).*/\1/' <<< "$line")
    P50[$name]=$(sed -E 's/.* p50_ms=([^ ]+).*/\1/' <<< "$line")
    P99[$name]=$(sed -E 's/.* p99_ms=([^ ]+).*/\1/' <<< "$line")
    local req bytes err non2xx
    req=$(sed -E 's/.* requests=([^ ]+).*/\1/' <<< "$line")
    bytes=$(sed -E 's/.* bytes=([^ ]+).*/\1/' <<< "$line")
    err=$(sed -E 's/.* errors=([^ ]+).*/\1/' <<< "$line")
    non2xx=$(sed -E 's/.* non2xx=([^ ]+).*/\1/' <<< "$line")
    BYTES[$name]=$(( req > 0 ? bytes / req : 0 ))
    ERRS[$name]=$(( err + non2xx ))
    say "  $line"
}

run_wrk "return 200"                      ref             /ref
run_wrk "GET /api/creators/{id}"          get-creator     "/api/creators/$FIRST_ID"
run_wrk "POST /api/assignments"           post-assignment /api/assignments
HIST_SAMPLE=$(curl -sf --max-time 5 "$BASE/api/assignments/history/bench-user-000$HISTORY_QUERY" \
    | python3 -c 'import json, sys; r = json.load(sys.stdin); print(r["pagination"]["total"], r["pagination"]["count"])') \
    || die "GET history failed after the POST phase"
read -r HIST_TOTAL HIST_COUNT <<< "$HIST_SAMPLE"
(( HIST_COUNT > 0 )) || die "history of bench-user-000 is empty after the POST phase"
run_wrk "GET /api/assignments/history/{userId}" get-history /api/assignments/history/bench-user-000
run_wrk "return 200 (again)"              ref             /ref

stop_nginx
ALERTS=$(grep -cE '\[(alert|emerg|crit)\]' "$PREFIX/logs/error.log" || true)
if (( ALERTS > 0 )); then
    say "error.log has $ALERTS alert lines:"
    grep -E '\[(alert|emerg|crit)\]' "$PREFIX/logs/error.log" | head -5 >&2
fi

# --- report ---------------------------------------------------------------------

REF=$(python3 -c "print((${RPS["return 200"]} + ${RPS["return 200 (again)"]}) / 2)")


report() {
    local name ratio
    echo "### $(date -u +'%Y-%m-%d %H:%M:%S UTC'), commit $COMMIT"
    echo
    echo "- machine: $(nproc) CPUs ($(uname -m)), $(uname -sr); nginx $("$NGINX" -v 2>&1 | sed 's|.*/||'), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)"
    echo "- load average before the run: $LOAD_BEFORE"
    echo "- command: \`$COMMAND\`"
    echo "- wrk: \`wrk ${WRK_ARGS[*]} -s bench/wrk/<scenario>.lua http://127.0.0.1:<port><path>\`, scenarios in table order, one nginx (2 workers) and wrk on the same box"
    echo "- ingest: $N creators, $DATA_BYTES bytes of NDJSON, one \`POST /api/creators/ingest\` into an empty store: ${INGEST_SECS} s = **$INGEST_RATE creators/s**"
    echo "- history: $USERS users, bench-user-000 had $HIST_TOTAL assignments after the POST phase; replies list $HIST_COUNT each (${HISTORY_QUERY:-default query, limit=50})"
    if (( ALERTS > 0 )); then
        echo "- **error.log: $ALERTS [alert]/[crit]/[emerg] lines: this run is not valid**"
    fi
    echo
    echo "| scenario | rps | p50 ms | p99 ms | rps / return-200 | bytes/resp | errors |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
    for name in "${NAMES[@]}"; do
        ratio=$(python3 -c "print('%.2f' % (${RPS[$name]} / $REF))")
        printf '| %s | %.0f | %.2f | %.2f | %s | %s | %s |\n' "$name" \
            "${RPS[$name]}" "${P50[$name]}" "${P99[$name]}" "$ratio" \
            "${BYTES[$name]}" "${ERRS[$name]}"
    done
    echo
    echo "Goals:"
    python3 - "$REF" "$INGEST_RATE" \
        "${RPS["GET /api/creators/{id}"]}" "${P99["GET /api/creators/{id}"]}" \
        "${P99["POST /api/assignments"]}" \
        "${RPS["GET /api/assignments/history/{userId}"]}" "${P99["GET /api/assignments/history/{userId}"]}" <<'EOF'
import sys
ref, ingest, get_rps, get_p99, post_p99, hist_rps, hist_p99 = map(float, sys.argv[1:])
def line(ok, text):
    print("- %s %s" % ("met:   " if ok else "**MISSED**:", text))
line(get_p99 <= 2, "GET creator p99 %.2f ms (goal <= 2 ms)" % get_p99)
line(post_p99 <= 2, "POST assignment p99 %.2f ms (goal <= 2 ms)" % post_p99)
line(hist_p99 <= 2, "GET history p99 %.2f ms (goal <= 2 ms)" % hist_p99)
line(get_rps >= 0.3 * ref, "GET creator %.2fx return-200 rps (goal >= 0.3x)" % (get_rps / ref))
line(hist_rps >= 0.3 * ref, "GET history %.2fx return-200 rps (goal >= 0.3x)" % (hist_rps / ref))
line(ingest >= 20000, "ingest %d creators/s (goal >= 20,000)" % ingest)
EOF
    echo
}

TABLE=$(report)
printf '%s\n' "$TABLE"

if [[ ! -s $RESULTS ]]; then
    cat > "$RESULTS" <<'EOF'
# Benchmark results

Appended by `bench/run.sh` (`make bench`), newest last.  Each run starts one
nginx (2 workers) with an empty LMDB store in `bench/out/`, ingests N
synthetic creators (`bench/gen-creators.py`, vocabulary from the 17 samples
in `t/data/creators.json`) with one NDJSON `POST /api/creators/ingest`, then
runs wrk (`--latency`, keep-alive) against, in this order: nginx's own
`return 200` (the reference), `GET /api/creators/{id}` (rotating over all
ingested ids), `POST /api/assignments` (valid bodies for 100 userIds),
`GET /api/assignments/history/{userId}` (those users, filled by the POST
phase, default query: limit 50), and `return 200` again.

How to read it:

- wrk and nginx share the same cores, and the machines are noisy: compare
  rows of one run (same box, same minute), not absolute numbers across
  runs.  `rps / return-200` divides by the mean of the two `return 200`
  rows; the gap between those two rows shows how much the box drifted
  during the run.
- p50 and p99 are wrk's latency percentiles over all requests, in ms, at the
  stated connection count (all connections keep-alive, no think time:
  closed-loop, so latency and rps trade off against each other).
- POSTs are durable: each one is an LMDB write transaction committed (and
  synced to disk) on nginx's thread pool, so POST numbers depend on the
  disk's fsync latency; the reads do not touch the disk once cached.
- `bytes/resp` is wrk's bytes read per response (headers included);
  `errors` counts socket errors, timeouts and HTTP statuses >= 400 — a
  row with errors is not a valid measurement.
- Goals (from the issue): CRUD p99 <= 2 ms at 64 connections; reads >= 0.3x
  the `return 200` rps; ingest >= 20,000 creators/s.

EOF
fi
printf '%s\n' "$TABLE" >> "$RESULTS"
say "appended to ${RESULTS#"$ROOT"/}"
