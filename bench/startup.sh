#!/usr/bin/env bash
# Start-up on an existing index: how long from starting nginx until it
# serves a match on the creators a previous bench/run.sh left behind.
#
#   SCENARIO=match N=1000000 bench/run.sh     (leaves bench/out/nginx)
#   bench/startup.sh [ROUNDS]                 (default 3)
#
# Each round starts nginx on bench/out/nginx's configuration, store and
# index, and times, from the start: the first answer of /api/health, the
# first /api/health whose vectors check reports the index's creators
# (the workers have mapped vectors.mtv), and the first uncached POST
# /api/matches answered 200.  Then a graceful stop.  The page cache is
# warm (the bench just wrote the files); a cold start adds the reads of
# the pages a walk touches, not of the whole file: nothing is read at
# start but the header.  Prints a markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${1:-3}
NGINX=${NGINX:-/usr/sbin/nginx}
say() { printf '%s\n' "bench: $*" >&2; }
die() { say "$*"; exit 1; }

. bench/lib.sh
bench_left_prefix

now() { date +%s.%N; }
ms() { python3 -c "print('%.0f' % (($2 - $1) * 1000))"; }
detail() {
    curl -s --max-time 2 "$BASE/api/health" | python3 -c 'import json, sys
try:
    print(json.load(sys.stdin)["checks"]["vectors"]["detail"])
except Exception:
    print("")'
}

NGINX_PID=""
trap '[[ -z $NGINX_PID ]] || stop_pid "$NGINX_PID" nginx QUIT' EXIT

echo "| round | /health answers ms | index mapped ms | first match ms | vectors |"
echo "| ---: | ---: | ---: | ---: | --- |"
for round in $(seq "$ROUNDS"); do
    t0=$(now)
    "$NGINX" -p "$PREFIX/" -c conf/nginx.conf -e logs/error.log &
    NGINX_PID=$!
    until curl -s -o /dev/null --max-time 1 "$BASE/api/health"; do
        kill -0 "$NGINX_PID" 2> /dev/null || die "nginx exited"
        sleep 0.005
    done
    t1=$(now)
    for _ in $(seq 2000); do
        d=$(detail)
        [[ $d == *" creators,"* && $d != "local: 0 creators"* ]] && break
        sleep 0.005
    done
    t2=$(now)
    # a brief of its own each round: never in the cache
    st=$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 \
         -H 'Content-Type: application/json' \
         --data-binary "{\"assignment\":{\"topic\":\"start-up round $round $t0\",\"keyTakeaway\":\"budget meals for students\",\"additionalContext\":\"cooking on a small budget\"},\"topK\":10}" \
         "$BASE/api/matches")
    t3=$(now)
    [[ $st == 200 ]] || die "POST /api/matches: HTTP $st"
    echo "| $round | $(ms "$t0" "$t1") | $(ms "$t0" "$t2") | $(ms "$t0" "$t3") | $d |"
    stop_pid "$NGINX_PID" nginx QUIT
    NGINX_PID=""
done
