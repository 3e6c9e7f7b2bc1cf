#!/usr/bin/env bash
# Issue 12's bench (`make bench-auth`): GET /api/creators/{id} with the
# API key check and the metrics on, beside the same without, in one run:
#
#   N=10000 ROUNDS=3 DURATION=10s bench/auth.sh
#
# One nginx (bench/auth.conf.in, 2 workers) in bench/out/auth with N
# creators ingested once; then ROUNDS times: "off" (no keys, no metrics
# location, so no zone and no counting), "on" (a key file of KEYS keys,
# the request's key the last of them, X-Api-Key on every request, and
# /metrics, so every request is hashed, looked up and counted), switched
# by "nginx -s reload" on the same store, wrk at CONNECTIONS x THREADS for
# DURATION each.  Alternating rounds spread the box's drift over both.
# Prints a markdown table and appends it to bench/RESULTS.md (APPEND=0:
# not).  The goal: "on" within 5 % of "off".
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD

N=${N:-10000}
SEED=${SEED:-1}
ROUNDS=${ROUNDS:-3}
KEYS=${KEYS:-100}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
RESULTS=${RESULTS:-$ROOT/bench/RESULTS.md}
APPEND=${APPEND:-1}
NGINX=${NGINX:-/usr/sbin/nginx}
NDK_SO=${NDK_SO:-/usr/lib/nginx/modules/ndk_http_module.so}
MODULE_SO=$ROOT/build/ngx_http_matcher_module.so
OUT=$ROOT/bench/out
PREFIX=$OUT/auth

say() { printf '%s\n' "bench: $*" >&2; }
die() { say "$*"; exit 1; }

for tool in wrk curl python3 sha256sum "$NGINX"; do
    command -v "$tool" > /dev/null || die "$tool not found"
done
[[ $N =~ ^[1-9][0-9]*$ && $ROUNDS =~ ^[1-9][0-9]*$ && $KEYS =~ ^[1-9][0-9]*$ ]] \
    || die "N, ROUNDS and KEYS must be positive integers"

if [[ ${BUILD:-1} == 1 ]]; then
    make -s build || die "make build failed"
fi

. "$ROOT/bench/lib.sh"

mkdir -p "$OUT"
rm -rf "$PREFIX"
mkdir -p "$PREFIX"/{conf,logs,modules,tmp}
cp "$MODULE_SO" "$PREFIX/modules/"
PORT=${PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
BASE=http://127.0.0.1:$PORT

DATA=$OUT/creators-$N-$SEED.ndjson
IDS=$OUT/ids-$N-$SEED.txt
if [[ ! -s $DATA || ! -s $IDS || $DATA -ot bench/gen-creators.py ]]; then
    say "generating $N creators"
    python3 bench/gen-creators.py "$N" "$SEED" > "$DATA.tmp"
    mv "$DATA.tmp" "$DATA"
    python3 -c 'import json, sys
for line in open(sys.argv[1]):
    print(json.loads(line)["uniqueId"])' "$DATA" > "$IDS"
fi
INGEST_MAX=$(( $(stat -c %s "$DATA") / 1048576 + 64 ))m

# KEYS keys, the measured one last: every lookup compares them all
KEY=bench-key-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
for i in $(seq "$KEYS"); do
    k=$KEY
    (( i == KEYS )) || k=other-$i-$KEY
    printf 'key%d:read,write:%s\n' "$i" "$(printf %s "$k" | sha256sum | cut -d' ' -f1)"
done > "$PREFIX/conf/keys"

USER_LINE=""
if [[ $(id -u) -eq 0 ]]; then
    USER_LINE="user root;"
fi

# conf <on|off>: writes nginx.conf
conf() {
    local mark='#'
    [[ $1 == on ]] && mark=''
    sed -e "s|@USER@|$USER_LINE|" -e "s|@NDK@|$NDK_SO|" \
        -e "s|@MODULE@|$PREFIX/modules/ngx_http_matcher_module.so|" \
        -e "s|@PORT@|$PORT|" -e "s|@INGEST_MAX@|$INGEST_MAX|" \
        -e "s|@KEYS@|$PREFIX/conf/keys|" -e "s|^@ON@|$mark|" \
        bench/auth.conf.in > "$PREFIX/conf/nginx.conf"
    "$NGINX" -q -t -p "$PREFIX/" -c conf/nginx.conf -e logs/error.log \
        || die "nginx -t failed (see $PREFIX/conf/nginx.conf)"
}

NGINX_PID=""
stop_nginx() {
    [[ -n $NGINX_PID ]] || return 0
    stop_pid "$NGINX_PID" nginx QUIT
}
trap stop_nginx EXIT
trap 'exit 130' INT TERM

# reload <on|off>: the new workers answer as that mode does
reload() {
    local want=200
    conf "$1"
    kill -HUP "$NGINX_PID"
    [[ $1 == on ]] || want=404
    for _ in $(seq 100); do
        sleep 0.1
        [[ $(curl -s -o /dev/null -w '%{http_code}' "$BASE/metrics") == "$want" ]] \
            || continue
        # and no old worker left to take a connection
        (( $(pgrep -c -P "$NGINX_PID" || true) <= 2 )) && return 0
    done
    die "the reload to \"$1\" did not take"
}

conf off
bench_start_nginx "$PREFIX" "$BASE/ref"
say "nginx $NGINX_PID on $BASE, prefix $PREFIX"

say "ingesting $N creators"
st=$(curl -s --max-time 600 -o "$OUT/auth-ingest.json" -w '%{http_code}' \
    -H 'Content-Type: application/x-ndjson' --data-binary "@$DATA" \
    "$BASE/api/creators/ingest")
[[ $st == 200 ]] || die "ingest: HTTP $st: $(head -c 300 "$OUT/auth-ingest.json")"

FIRST_ID=$(head -1 "$IDS")
export BENCH_WRK_DIR=$ROOT/bench/wrk BENCH_IDS=$IDS

declare -A RPS P50 P99 ERRS REQS COUNTED CPU

# the workers' CPU time so far (user + system, clock ticks): per request
# it tells the cost of a mode apart from the box's noise better than rps
TICK=$(getconf CLK_TCK)
worker_ticks() {
    local pid t=0
    for pid in $(pgrep -P "$NGINX_PID"); do
        t=$(( t + $(awk '{ print $14 + $15 }' "/proc/$pid/stat") ))
    done
    echo "$t"
}
run() {   # <mode> <round>
    local mode=$1 round=$2 log line key=''
    [[ $mode == on ]] && key=$KEY
    # one by hand: the key is taken (on), or not needed (off)
    st=$(curl -s -o /dev/null -w '%{http_code}' ${key:+-H "X-Api-Key: $key"} \
        "$BASE/api/creators/$FIRST_ID")
    [[ $st == 200 ]] || die "$mode: GET /api/creators/$FIRST_ID: HTTP $st"
    log=$OUT/auth-wrk-$mode-$round.txt
    say "round $round, $mode: wrk -t$THREADS -c$CONNECTIONS -d$DURATION"
    local t0
    t0=$(worker_ticks)
    BENCH_API_KEY=$key timeout -k 5 600 wrk -t"$THREADS" -c"$CONNECTIONS" \
        -d"$DURATION" --latency -s "$BENCH_WRK_DIR/get-creator.lua" \
        "$BASE/api/creators/$FIRST_ID" > "$log" 2>&1 \
        || die "wrk failed: $(tail -5 "$log")"
    line=$(grep '^BENCH ' "$log" | tail -1) || die "no BENCH line in $log"
    say "  $line"
    RPS[$mode.$round]=$(sed -E 's/.* rps=([^ ]+).*/\1/' <<< "$line")
    P50[$mode.$round]=$(sed -E 's/.* p50_ms=([^ ]+).*/\1/' <<< "$line")
    P99[$mode.$round]=$(sed -E 's/.* p99_ms=([^ ]+).*/\1/' <<< "$line")
    ERRS[$mode.$round]=$(( $(sed -E 's/.* errors=([^ ]+).*/\1/' <<< "$line")
                           + $(sed -E 's/.* non2xx=([^ ]+).*/\1/' <<< "$line") ))
    REQS[$mode.$round]=$(sed -E 's/.* requests=([^ ]+).*/\1/' <<< "$line")
    CPU[$mode.$round]=$(python3 -c "print('%.1f' % (($(worker_ticks) - $t0) / $TICK * 1e6 / ${REQS[$mode.$round]}))")
    # "on": the zone was made by this round's reload, so it counted
    # exactly this round's requests and the one curl above; wrk's count
    # leaves out those still in flight when it stopped
    if [[ $mode == on ]]; then
        COUNTED[$round]=$(curl -s "$BASE/metrics" | sed -nE \
            's/^matcher_http_requests_total\{method="GET",endpoint="\/creators\/\{id\}",code="200"\} ([0-9]+)$/\1/p')
    fi
}

for round in $(seq "$ROUNDS"); do
    (( round == 1 )) || reload off
    run off "$round"
    reload on
    run on "$round"
done

COMMIT=$(git rev-parse --short HEAD 2> /dev/null || echo unknown)
[[ -z $(git status --porcelain -- lib module config 2> /dev/null) ]] \
    || COMMIT="$COMMIT (with uncommitted changes)"

TABLE=$(
    echo
    echo "## API keys and metrics on vs off ($(date -u +'%Y-%m-%d %H:%M') UTC, commit $COMMIT)"
    echo
    echo "\`N=$N ROUNDS=$ROUNDS KEYS=$KEYS DURATION=$DURATION CONNECTIONS=$CONNECTIONS THREADS=$THREADS bench/auth.sh\`:"
    echo "GET /api/creators/{id} (rotating over the $N ids), one nginx (2 workers)"
    echo "reloaded between \"off\" (no keys, no metrics) and \"on\" ($KEYS keys in"
    echo "the file, X-Api-Key on every request, /metrics counting), wrk on the same"
    echo "2 cores (shared with whatever else runs there: rounds alternate so that"
    echo "its drift falls on both).  \"counted\": the round's requests in /metrics"
    echo "(wrk's count + 1, less the requests wrk left in flight)."
    echo
    echo "\"CPU µs/req\": the workers' user + system time over the row's requests,"
    echo "less sensitive to a busy box than rps."
    echo
    echo "| round | off rps | off p50 / p99 ms | off CPU µs/req | on rps | on p50 / p99 ms | on CPU µs/req | rps on / off | CPU on / off | on: wrk / counted |"
    echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    for round in $(seq "$ROUNDS"); do
        printf '| %s | %.0f | %s / %s | %s | %.0f | %s / %s | %s | %s | %s | %s / %s |\n' "$round" \
            "${RPS[off.$round]}" "${P50[off.$round]}" "${P99[off.$round]}" "${CPU[off.$round]}" \
            "${RPS[on.$round]}" "${P50[on.$round]}" "${P99[on.$round]}" "${CPU[on.$round]}" \
            "$(python3 -c "print('%.3f' % (${RPS[on.$round]} / ${RPS[off.$round]}))")" \
            "$(python3 -c "print('%.3f' % (${CPU[on.$round]} / ${CPU[off.$round]}))")" \
            "${REQS[on.$round]}" "${COUNTED[$round]:-none}"
    done
    off=$(for r in $(seq "$ROUNDS"); do echo "${RPS[off.$r]}"; done | paste -sd+)
    on=$(for r in $(seq "$ROUNDS"); do echo "${RPS[on.$r]}"; done | paste -sd+)
    coff=$(for r in $(seq "$ROUNDS"); do echo "${CPU[off.$r]}"; done | paste -sd+)
    con=$(for r in $(seq "$ROUNDS"); do echo "${CPU[on.$r]}"; done | paste -sd+)
    python3 -c "print('| mean | %.0f | | %.1f | %.0f | | %.1f | **%.3f** | **%.3f** | |' % (($off) / $ROUNDS, ($coff) / $ROUNDS, ($on) / $ROUNDS, ($con) / $ROUNDS, ($on) / ($off), ($con) / ($coff)))"
    errs=0
    for k in "${!ERRS[@]}"; do errs=$(( errs + ERRS[$k] )); done
    echo
    echo "Errors and non-2xx replies in all rows: $errs."
)

printf '%s\n' "$TABLE"
if [[ $APPEND == 1 ]]; then
    printf '%s\n' "$TABLE" >> "$RESULTS"
    say "appended to ${RESULTS#"$ROOT"/}"
fi
