#!/usr/bin/env bash
# Uncached POST /api/matches again, on the creators and index that a
# previous "SCENARIO=match bench/run.sh" left in bench/out/nginx, with
# the module as built now: a million creators take 25 minutes to ingest,
# index and refresh, a change to the ranking a minute to measure.
#
#   make -s build && bench/rematch.sh            (2 threads x 8, 30 s)
#   MATCH_CONNECTIONS=2 MATCH_DURATION=20s bench/rematch.sh
#
# The module is copied over the prefix's copy; nginx starts, its start-up
# sync (which reads every creator, seconds at a million) is waited out
# by watching the workers' CPU, a warm-up of 5 s runs, then the row.
# Prints wrk's latency percentiles, and the same for nginx's own
# "return 200" (/ref) right after, on the same box.
set -euo pipefail
cd "$(dirname "$0")/.."

NGINX=${NGINX:-/usr/sbin/nginx}
MODULE_SO=${MODULE_SO:-build/ngx_http_matcher_module.so}
MATCH_CONNECTIONS=${MATCH_CONNECTIONS:-8}
MATCH_THREADS=${MATCH_THREADS:-2}
MATCH_DURATION=${MATCH_DURATION:-30s}
say() { printf '%s\n' "bench: $*" >&2; }
die() { say "$*"; exit 1; }

. bench/lib.sh
bench_left_prefix

cp "$MODULE_SO" "$PREFIX/modules/"
NGINX_PID=""
trap '[[ -z $NGINX_PID ]] || stop_pid "$NGINX_PID" nginx QUIT' EXIT
bench_start_nginx "$PREFIX" "$BASE/ref"

# the workers' CPU ticks (utime + stime of every thread) until a second
# passes with under a tenth of a second of them
ticks() {
    local sum=0 pid t
    for pid in $(pgrep -P "$NGINX_PID"); do
        for t in /proc/"$pid"/task/*/stat; do
            sum=$(( sum + $(awk '{ print $14 + $15 }' "$t" 2> /dev/null || echo 0) ))
        done
    done
    echo "$sum"
}
start=$SECONDS
prev=$(ticks)
while :; do
    sleep 1
    now=$(ticks)
    (( now - prev < 10 )) && break
    prev=$now
    (( SECONDS - start < 600 )) || die "the workers are still busy after 600 s"
done
say "start-up sync done after about $(( SECONDS - start )) s"

health=$(curl -s "$BASE/api/health" | python3 -c 'import json, sys
print(json.load(sys.stdin)["checks"]["vectors"]["detail"])')

wrk_row() {
    wrk "-t$1" "-c$2" "-d$3" --latency -s "bench/wrk/$4.lua" "$BASE$5" 2>&1 \
        | sed -n 's/^BENCH //p'
}

salt=$(( $(date +%s) % 100000 * 1000 ))
BENCH_SALT=$salt wrk_row 2 8 5s post-match /api/matches > /dev/null
row=$(BENCH_SALT=$(( salt + 500000 )) wrk_row "$MATCH_THREADS" \
      "$MATCH_CONNECTIONS" "$MATCH_DURATION" post-match /api/matches)
ref=$(wrk_row "$MATCH_THREADS" "$MATCH_CONNECTIONS" 10s ref /ref)

echo "- $(date -u +'%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD), vectors \"$health\""
echo "- POST /api/matches uncached, -t$MATCH_THREADS -c$MATCH_CONNECTIONS -d$MATCH_DURATION: $row"
echo "- return 200 (/ref), -t$MATCH_THREADS -c$MATCH_CONNECTIONS -d10s: $ref"
