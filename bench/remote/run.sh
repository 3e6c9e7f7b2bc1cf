#!/usr/bin/env bash
# The remote configuration's benchmark (issue 10), one command
# (`make bench-remote` runs it):
#
#   bench/remote/run.sh
#   LAT_REQUESTS=200 REFRESH_N=5000 APPEND=0 bench/remote/run.sh
#
# Starts, in a temporary directory under /tmp, the fake OpenAI/Pinecone
# server of t/remote/ (Python, one process; through fake_timed.py, which
# turns Nagle off on its replies, logs its own time per call and can
# return dense vectors: see there) and one nginx (2 workers,
# bench/remote/nginx.conf.in: the remote parts of conf/remote.conf,
# conf/matcher_remote_params included as it is, upstreams with keepalive
# 16, the keys passed through the environment with key=env:NAME), both on
# 127.0.0.1 only, and measures in this one run, side by side:
#
#   1. latency, sequential (one client connection): GET /ok (nginx's own
#      `return 200`), then LAT_REQUESTS uncached POST /api/creators/search
#      and as many uncached POST /api/matches (a unique word in each),
#      each followed by a direct replay of the two calls it made to the
#      fake (/v1/embeddings, /query: the same bodies and headers, from the
#      fake's /_control/log); module overhead = end to end minus the
#      replayed calls, per request (goal: under 1 ms at p50); also the
#      fake's own time in the module's calls and the nginx workers' CPU
#      time per request; then DENSE_REQUESTS of each with dense vectors
#      (every component non-zero, as OpenAI's: the fake's have a few
#      dozen), and NAGLE_REQUESTS searches with Nagle back on the fake's
#      replies (as t/remote/fake_remote.py has it);
#   2. cached POST /api/matches (one brief, the match cache answers)
#      against `return 200` before and after it, wrk -t2 -c8 -d10s each;
#   3. upstream connections opened (the fake's "connections") during
#      KEEPALIVE_REQUESTS uncached searches, on 1 and on 8 client
#      connections (KEEPALIVE_CLIENTS);
#   4. OpenAI calls for 1,000 matches of 100 distinct briefs, each 10
#      times, shuffled (BRIEFS, REPEAT);
#   5. a forced embedding refresh of REFRESH_DENSE_N (2,000) creators with
#      dense vectors, then of REFRESH_N (20,000) with the fake's own: each
#      time ingest them first (the sync the module starts by itself after
#      an ingest is waited out: the fake's vector count), then POST
#      /api/creators/embeddings/refresh {"forceRefresh":true} until the
#      job says completed; creators/s, the fake's call counts and time,
#      the workers' CPU.
#
# Steps 1 to 4 run with CORPUS (100) creators in the index: the fake's
# /query is a Python loop over every vector, whose time (subtracted in 1,
# but its jitter is not) grows with the index; the module's own work does
# not (it gets topK ids: 10 for a search, 50 candidates for a match).
#
# Prints the table, writes it to bench/remote/out/latest.md (with the
# nginx error log's notable lines; the logs, wrk's output and the raw
# results, results.json, go to out/ too), and appends it to
# bench/RESULTS.md under "Remote configuration (issue 10)" (APPEND=0:
# not).  Fails (exit 1) when a step does: a reply other than 200, an
# uncached request answered from the cache, a remote call count other
# than expected, wrk errors, an [alert] or [crit] in nginx's error log.
# Every process it starts is stopped on exit.  About 4 minutes on 2
# cores.
#
# Environment: CORPUS (100), LAT_REQUESTS (500), DENSE_REQUESTS (200),
# NAGLE_REQUESTS (30), KEEPALIVE_REQUESTS (1000), KEEPALIVE_CLIENTS
# ("1 8"), BRIEFS (100), REPEAT (10), REFRESH_N (20000), REFRESH_DENSE_N
# (2000; 0: none), SEED (1), WRK_THREADS (2), WRK_CONNECTIONS (8),
# WRK_DURATION (10s), SYNC_TIMEOUT (300 s, each wait for the fake's
# vector count and for a refresh job), RESULTS (bench/RESULTS.md), APPEND
# (1), BUILD (1: build the module under /tmp/matcher-build.lock when it
# is missing or older than its sources; 0: take it as it is), KEEP (0; 1
# keeps the temporary directory), NGINX, NDK_SO, MODULE_SO.

set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$PWD
HERE=$ROOT/bench/remote
. "$ROOT/bench/lib.sh"
OUT=$HERE/out

CORPUS=${CORPUS:-100}
LAT_REQUESTS=${LAT_REQUESTS:-500}
NAGLE_REQUESTS=${NAGLE_REQUESTS:-30}
DENSE_REQUESTS=${DENSE_REQUESTS:-200}
KEEPALIVE_REQUESTS=${KEEPALIVE_REQUESTS:-1000}
KEEPALIVE_CLIENTS=${KEEPALIVE_CLIENTS:-1 8}
BRIEFS=${BRIEFS:-100}
REPEAT=${REPEAT:-10}
REFRESH_N=${REFRESH_N:-20000}
REFRESH_DENSE_N=${REFRESH_DENSE_N:-2000}
SEED=${SEED:-1}
WRK_THREADS=${WRK_THREADS:-2}
WRK_CONNECTIONS=${WRK_CONNECTIONS:-8}
WRK_DURATION=${WRK_DURATION:-10s}
SYNC_TIMEOUT=${SYNC_TIMEOUT:-300}
RESULTS=${RESULTS:-$ROOT/bench/RESULTS.md}
APPEND=${APPEND:-1}
BUILD=${BUILD:-1}
KEEP=${KEEP:-0}
NGINX=${NGINX:-/usr/sbin/nginx}
NDK_SO=${NDK_SO:-/usr/lib/nginx/modules/ndk_http_module.so}
MODULE_SO=${MODULE_SO:-$ROOT/build/ngx_http_matcher_module.so}
NAMESPACE=creators

COMMAND="CORPUS=$CORPUS LAT_REQUESTS=$LAT_REQUESTS NAGLE_REQUESTS=$NAGLE_REQUESTS DENSE_REQUESTS=$DENSE_REQUESTS KEEPALIVE_REQUESTS=$KEEPALIVE_REQUESTS KEEPALIVE_CLIENTS=\"$KEEPALIVE_CLIENTS\" BRIEFS=$BRIEFS REPEAT=$REPEAT REFRESH_N=$REFRESH_N REFRESH_DENSE_N=$REFRESH_DENSE_N SEED=$SEED WRK_THREADS=$WRK_THREADS WRK_CONNECTIONS=$WRK_CONNECTIONS WRK_DURATION=$WRK_DURATION bench/remote/run.sh"

say() { printf '%s\n' "bench-remote: $*" >&2; }
die() { say "FAILED: $*"; exit 1; }

for tool in wrk curl python3 flock "$NGINX"; do
    command -v "$tool" > /dev/null || die "$tool not found"
done
for v in CORPUS LAT_REQUESTS KEEPALIVE_REQUESTS BRIEFS REPEAT REFRESH_N SEED; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer"
done
[[ $NAGLE_REQUESTS =~ ^[0-9]+$ ]] || die "NAGLE_REQUESTS must be a number"
[[ $DENSE_REQUESTS =~ ^[0-9]+$ ]] || die "DENSE_REQUESTS must be a number"
[[ $REFRESH_DENSE_N =~ ^[0-9]+$ ]] || die "REFRESH_DENSE_N must be a number"
(( REFRESH_DENSE_N == 0 || (REFRESH_DENSE_N >= CORPUS && REFRESH_DENSE_N <= REFRESH_N) )) \
    || die "REFRESH_DENSE_N must be 0 or from CORPUS to REFRESH_N"
(( REFRESH_N >= CORPUS )) || die "REFRESH_N must be at least CORPUS"
START=$SECONDS

# --- the module -------------------------------------------------------------

if [[ $BUILD != 0 ]] && { [[ ! -f $MODULE_SO ]] || \
        [[ -n $(find lib module config -newer "$MODULE_SO" -type f | head -1) ]]; }; then
    say "building the module (flock /tmp/matcher-build.lock make -s build)"
    mkdir -p "$OUT"
    flock /tmp/matcher-build.lock make -s build > "$OUT/build.log" 2>&1 \
        || { tail -30 "$OUT/build.log" >&2; die "build failed"; }
fi
[[ -f $MODULE_SO ]] || die "no $MODULE_SO"
[[ -f $NDK_SO ]] || die "no $NDK_SO"

COMMIT=$(git rev-parse --short HEAD 2> /dev/null || echo unknown)
if [[ -n $(git status --porcelain -- lib module config 2> /dev/null) ]]; then
    COMMIT="$COMMIT (module sources modified: \`git diff HEAD -- lib module config | sha256sum\` $(git diff HEAD -- lib module config | sha256sum | cut -c1-12))"
fi
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

# --- processes, and stopping them ---------------------------------------------

mkdir -p "$OUT"
TMP=$(mktemp -d /tmp/matcher-bench-remote.XXXXXX)
PREFIX=$TMP/nginx
mkdir -p "$PREFIX/conf" "$PREFIX/logs" "$PREFIX/tmp" "$PREFIX/store" \
         "$PREFIX/modules"
RES=$OUT/results.json
rm -f "$RES" "$OUT/latest.md"

NGINX_PID="" FAKE_PID=""
cleanup() {
    local rc=$?
    if [[ -n $NGINX_PID ]]; then
        stop_pid "$NGINX_PID" nginx QUIT
        NGINX_PID=""
    fi
    if [[ -n $FAKE_PID ]]; then
        stop_pid "$FAKE_PID" fake_timed.py TERM
        FAKE_PID=""
    fi
    # the logs, for a look after a failure too
    [[ -f $PREFIX/logs/error.log ]] && cp "$PREFIX/logs/error.log" "$OUT/error.log"
    [[ -f $TMP/fake.log ]] && cp "$TMP/fake.log" "$OUT/fake.log"
    if [[ $KEEP == 1 ]]; then
        say "kept $TMP"
    else
        rm -rf "$TMP"
    fi
    if (( rc != 0 )); then
        say "FAILED (exit $rc); logs in ${OUT#"$ROOT"/}/error.log and fake.log"
    fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# keys: new ones every run, to nginx through its environment only
MATCHER_BENCH_OPENAI_KEY="sk-bench-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
MATCHER_BENCH_PINECONE_KEY="pc-bench-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
export MATCHER_BENCH_OPENAI_KEY MATCHER_BENCH_PINECONE_KEY
export BENCH_OPENAI_KEY=$MATCHER_BENCH_OPENAI_KEY BENCH_PINECONE_KEY=$MATCHER_BENCH_PINECONE_KEY

say "starting the fake remote (t/remote/fake_remote.py through bench/remote/fake_timed.py)"
BENCH_FAKE_NAGLE_FILE=$TMP/nagle BENCH_FAKE_DENSE_FILE=$TMP/dense \
python3 "$HERE/fake_timed.py" --port 0 --host 127.0.0.1 \
    --openai-key "$MATCHER_BENCH_OPENAI_KEY" \
    --pinecone-key "$MATCHER_BENCH_PINECONE_KEY" \
    > "$TMP/fake.out" 2> "$TMP/fake.log" &
FAKE_PID=$!
REMOTE_PORT=""
for _ in $(seq 100); do
    REMOTE_PORT=$(sed -n 's/^ready \([0-9]*\)$/\1/p' "$TMP/fake.out")
    [[ -n $REMOTE_PORT ]] && break
    kill -0 "$FAKE_PID" 2> /dev/null || die "the fake exited: $(tail -5 "$TMP/fake.log")"
    sleep 0.1
done
[[ -n $REMOTE_PORT ]] || die "the fake did not say ready in 10 s"
REMOTE=http://127.0.0.1:$REMOTE_PORT

PORT=$(free_port)
BASE=http://127.0.0.1:$PORT
cp "$MODULE_SO" "$PREFIX/modules/"
MODULE_NOTE="${MODULE_SO#"$ROOT"/}, built $(date -u -r "$MODULE_SO" +'%Y-%m-%d %H:%M:%S UTC'), sha256 $(sha256sum "$MODULE_SO" | cut -c1-12)"
USER_LINE=""
if [[ $(id -u) -eq 0 ]]; then
    USER_LINE="user root;"
fi
sed -e "s|@NDK@|$NDK_SO|" -e "s|@MODULE@|$PREFIX/modules/${MODULE_SO##*/}|" \
    -e "s|@OPENAI_ENV@|MATCHER_BENCH_OPENAI_KEY|" \
    -e "s|@PINECONE_ENV@|MATCHER_BENCH_PINECONE_KEY|" \
    -e "s|@REMOTE_PORT@|$REMOTE_PORT|g" -e "s|@NAMESPACE@|$NAMESPACE|" \
    -e "s|@PORT@|$PORT|" -e "s|@PARAMS@|$ROOT/conf/matcher_remote_params|" \
    "$HERE/nginx.conf.in" > "$PREFIX/conf/nginx.conf"
if [[ -n $USER_LINE ]]; then
    sed -i "1i $USER_LINE" "$PREFIX/conf/nginx.conf"
fi
cp "$PREFIX/conf/nginx.conf" "$OUT/nginx.conf"

"$NGINX" -q -t -p "$PREFIX/" -c conf/nginx.conf -e logs/error.log \
    || die "nginx -t failed (see ${OUT#"$ROOT"/}/nginx.conf)"
bench_start_nginx "$PREFIX" "$BASE/ok"
say "nginx $NGINX_PID on $BASE, the fake $FAKE_PID on $REMOTE, in $TMP"

B=(python3 "$HERE/bench.py")
COMMON=(--nginx "$BASE" --remote "$REMOTE" --results "$RES"
        --namespace "$NAMESPACE" --timeout "$SYNC_TIMEOUT")

# --- data -----------------------------------------------------------------------

# line i holds creator i whatever N: the CORPUS creators are the first
# CORPUS lines of the REFRESH_N file
DATA=$OUT/creators-$REFRESH_N-$SEED.ndjson
if [[ ! -s $DATA || $DATA -ot bench/gen-creators.py || $DATA -ot t/data/creators.json ]]; then
    say "generating $REFRESH_N creators (seed $SEED)"
    python3 bench/gen-creators.py "$REFRESH_N" "$SEED" > "$DATA.tmp.$$"
    mv "$DATA.tmp.$$" "$DATA"
fi
head -n "$CORPUS" "$DATA" > "$TMP/corpus.ndjson"
(( $(stat -c %s "$DATA") <= 64 * 1024 * 1024 )) \
    || die "$DATA is over the module's 64 MB ingest limit: lower REFRESH_N"

# --- the steps --------------------------------------------------------------------

say "[setup] ingest $CORPUS creators"
"${B[@]}" ingest "${COMMON[@]}" --data "$TMP/corpus.ndjson" --expect "$CORPUS" --label a-corpus

say "[1/5] latency: $LAT_REQUESTS uncached searches and matches, sequential"
"${B[@]}" latency "${COMMON[@]}" --requests "$LAT_REQUESTS" --warmup 10 --tag "l$SEED" \
    --nagle-file "$TMP/nagle" --nagle-requests "$NAGLE_REQUESTS" \
    --dense-file "$TMP/dense" --dense-requests "$DENSE_REQUESTS" --nginx-pid "$NGINX_PID"

say "[2/5] cached match against return 200 (wrk)"
WRK_ARGS=(-t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"$WRK_DURATION" --latency)
"${B[@]}" cached-check "${COMMON[@]}" --data "$TMP/cached-body.json"
export BENCH_WRK_DIR=$ROOT/bench/wrk BENCH_BODY_FILE=$TMP/cached-body.json
run_wrk() {     # <label> <script> <path> [check remote calls: 1]
    local label=$1 script=$2 path=$3 check=${4:-0} before=()
    if [[ $check == 1 ]]; then
        before=(--calls-before "$("${B[@]}" remote-stats "${COMMON[@]}")")
    fi
    timeout -k 5 120 wrk "${WRK_ARGS[@]}" -s "$script" "$BASE$path" \
        > "$OUT/wrk-$label.txt" 2>&1 || die "wrk $label: $(tail -5 "$OUT/wrk-$label.txt")"
    "${B[@]}" wrk-record "${COMMON[@]}" --label "$label" --data "$OUT/wrk-$label.txt" \
        --wrk-args "-t$WRK_THREADS -c$WRK_CONNECTIONS -d$WRK_DURATION" "${before[@]}"
}
run_wrk ok1 "$ROOT/bench/wrk/ref.lua" /ok
run_wrk cached "$HERE/cached-match.lua" /api/matches 1
run_wrk ok2 "$ROOT/bench/wrk/ref.lua" /ok

say "[3/5] upstream connections: $KEEPALIVE_REQUESTS uncached searches"
for k in $KEEPALIVE_CLIENTS; do
    "${B[@]}" keepalive "${COMMON[@]}" --requests "$KEEPALIVE_REQUESTS" --clients "$k" --tag "k$SEED"
done

say "[4/5] OpenAI calls: $((BRIEFS * REPEAT)) matches of $BRIEFS briefs"
"${B[@]}" calls "${COMMON[@]}" --briefs "$BRIEFS" --repeat "$REPEAT" --seed "$SEED" --tag "c$SEED"

if (( REFRESH_DENSE_N > 0 )); then
    say "[5/5] refresh, dense vectors: ingest $REFRESH_DENSE_N creators, wait for the sync, forced refresh"
    head -n "$REFRESH_DENSE_N" "$DATA" > "$TMP/dense.ndjson"
    "${B[@]}" ingest "${COMMON[@]}" --data "$TMP/dense.ndjson" --expect "$REFRESH_DENSE_N" --label b-dense
    "${B[@]}" refresh "${COMMON[@]}" --expect "$REFRESH_DENSE_N" --fake-log "$TMP/fake.log" \
        --nginx-pid "$NGINX_PID" --dense-file "$TMP/dense" --label a-dense
fi
say "[5/5] refresh: ingest $REFRESH_N creators, wait for the sync, forced refresh"
"${B[@]}" ingest "${COMMON[@]}" --data "$DATA" --expect "$REFRESH_N" --label c-refresh
"${B[@]}" refresh "${COMMON[@]}" --expect "$REFRESH_N" --fake-log "$TMP/fake.log" \
    --nginx-pid "$NGINX_PID" --label b-sparse

# --- the error log, the report --------------------------------------------------------

kill -0 "$NGINX_PID" 2> /dev/null || die "nginx exited during the run"
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
stop_pid "$NGINX_PID" nginx QUIT
NGINX_PID=""
ELOG=$PREFIX/logs/error.log
BAD=$(grep -cE '\[(alert|crit|emerg)\]' "$ELOG" || true)
ERRS=$(grep -cE '\[error\]' "$ELOG" || true)
WARNS=$(grep -cE '\[warn\]' "$ELOG" || true)
# the distinct messages: without the time, pid and connection number
log_kinds() {
    grep -E "$1" "$ELOG" | sed -E 's/^[0-9/]+ [0-9:]+ //; s/[0-9]+#[0-9]+: (\*[0-9]+ )?//' \
        | sed -E 's/, client: .*//' | sort | uniq -c | sort -rn | head -8
}

TABLE=$("${B[@]}" report "${COMMON[@]}")
WALL=$(( SECONDS - START ))

report() {
    echo "### $(date -u +'%Y-%m-%d %H:%M:%S UTC'), commit $COMMIT, remote configuration"
    echo
    echo "- machine: $(nproc) CPUs ($(uname -m)), $(uname -sr); nginx $("$NGINX" -v 2>&1 | sed 's|.*/||'), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2), $(python3 -V) for the fake and the client; load average before: $LOAD_BEFORE, after: $LOAD_AFTER"
    echo "- command: \`$COMMAND\` ($WALL s in all)"
    echo "- module: $MODULE_NOTE"
    echo "- setup: bench/remote/nginx.conf.in (conf/remote.conf's remote parts; upstream keepalive 16 per remote, 2 workers); the fake OpenAI/Pinecone server (t/remote/fake_remote.py through bench/remote/fake_timed.py: Nagle off on its replies; 1536 dimensions) on the same box; steps 1-4 with $CORPUS creators in the index"
    if (( BAD > 0 || ERRS > 0 )); then
        echo "- **nginx error log: $BAD [alert]/[crit]/[emerg], $ERRS [error], $WARNS [warn] lines**:"
        echo
        echo '```'
        log_kinds '\[(alert|crit|emerg|error)\]'
        echo '```'
    else
        echo "- nginx error log: no [alert], [crit] or [error] line ($WARNS [warn])"
    fi
    echo
    printf '%s\n' "$TABLE"
    echo
}
REPORT=$(report)
printf '%s\n' "$REPORT"
printf '%s\n' "$REPORT" > "$OUT/latest.md"

if [[ $APPEND == 1 ]]; then
    if ! grep -q '^## Remote configuration (issue 10)' "$RESULTS" 2> /dev/null; then
        cat >> "$RESULTS" <<'EOF'

## Remote configuration (issue 10)

`make bench-remote` (`bench/remote/run.sh`, about 3 minutes): one nginx
(2 workers) with the remote configuration (OpenAI embeddings and a
Pinecone index through subrequests to internal locations, bulk jobs
through libcurl on the thread pool; `bench/remote/nginx.conf.in` keeps
`conf/remote.conf`'s remote directives, upstream keepalive 16, and
includes `conf/matcher_remote_params`) against the fake OpenAI/Pinecone
server of `t/remote/`, both on 127.0.0.1, all steps in one run.  Each
`###` below is one run.

How to read it:

- The fake is Python (`t/remote/fake_remote.py`, one process; its
  `/query` is a Python loop over every vector): its time is most of
  every uncached request, and is subtracted.  Each uncached search or
  match is followed by a replay of the two calls the module made (the
  same body bytes and headers) straight to the fake, with the same
  raw-socket client; **module overhead** = end to end − those two
  calls, per request, then its percentiles.  It is everything that is
  not the remote: nginx, the module's parsing, subrequests and
  proxying, the LMDB reads, ranking, the reply, and on this 2-core box
  the waits for a core that the fake, the client and nginx share.  The
  replays add the client's own time once more (less than the `GET /ok`
  row), so this slightly underestimates; "upper bound" subtracts only
  the fake's handler time (`bench/remote/fake_timed.py` logs it), which
  leaves the fake's HTTP parsing in.  p90/p99 of a difference mostly
  show the fake's jitter between a call and its replay.  CPU: user +
  system time of both nginx workers (all threads) per request.  Goal
  (the issue): overhead under 1 ms at p50.
- What `bench/remote/fake_timed.py` changes in the fake, and why.
  (1) TCP_NODELAY on its replies: `fake_remote.py` writes a reply's
  headers and body in two sends with Nagle on, so on nginx's kept-alive
  upstream connections the body waits for nginx's delayed ACK: 40 ms
  per request (the "Nagle" row).  (2) Its handler time in
  `/_control/log`.  (3) Dense vectors on demand: the fake's embeddings
  have a few dozen non-zero components of 1536, OpenAI's all 1536, and
  the module writes a zero as "0" but every other component in full;
  the "dense" rows add a small fixed noise vector to every embedding.
  (4) The raw bodies of the last calls, for the replays.
- The cached row: one brief, always answered by the match cache (no
  remote call during the row: checked), against `return 200` on the
  same server before and after it; the ratio divides by their mean.  At
  8 connections wrk shares the 2 cores with nginx, so both rows are
  partly wrk's limit: compare within a run.
- Upstream connections: the fake's `connections` (TCP connections that
  carried API requests since its counters were reset).  With keepalive,
  one per worker and upstream that the requests reach, and up to one
  per concurrent call (8 client connections: up to 8 per upstream);
  without it, one per remote call.  nginx also retires an upstream
  connection after 1,000 requests (`keepalive_requests`, default 1000
  since nginx 1.19.10), so a step can count 2 more when the worker
  serving it had made close to 1,000 calls before.
- OpenAI calls: a repeated brief is answered from the match cache, so
  100 distinct briefs should cost 100 `/v1/embeddings` calls and 100
  inputs.
- Refresh: all creators embedded and upserted again (libcurl on the
  thread pool, in batches); with the fake's vectors the rate is mostly
  the fake's (its time in the calls is listed); the dense row shows the
  batches OpenAI-like vectors make (upserts within Pinecone's 2 MB) and
  the module's CPU per creator.
EOF
    fi
    printf '\n%s\n' "$REPORT" >> "$RESULTS"
    say "appended to ${RESULTS#"$ROOT"/}"
fi

if (( BAD > 0 )); then
    die "nginx's error log has $BAD [alert]/[crit]/[emerg] lines (see ${OUT#"$ROOT"/}/error.log)"
fi
say "done in $WALL s; ${OUT#"$ROOT"/}/latest.md"
