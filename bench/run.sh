#!/usr/bin/env bash
# The benchmark, one command (`make bench` runs it):
#
#   bench/run.sh                       N=10000 creators, 10 s per scenario
#   N=50000 DURATION=30s bench/run.sh
#   SCENARIO=match bench/run.sh        the same and matching, N=100000
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
# SCENARIO=match (N defaults to 100000) turns on the local embedder, the
# vector index and the cache zone (the @MATCH@ lines of nginx.conf.in),
# waits after the ingest until the background index build has embedded
# all N creators, times a full embedding refresh (forceRefresh job, POST
# to "completed"), records the store's files and the processes' memory
# (bench/mem.py), and runs, between the history and the second return
# 200:
#
#   POST /api/matches, a new assignment every request (uncached) |
#   POST /api/creators/search, a new query every request |
#   the same with a filter | POST /api/matches over 100 cached assignments
#
# the first three at MATCH_THREADS x MATCH_CONNECTIONS (1 x 2: latency,
# not queueing) for MATCH_DURATION, the cached one like the return 200
# rows; the memory is recorded again at the end.
#
# Environment: N (10000), SEED (1), DURATION (10s), CONNECTIONS (64),
# THREADS (2), USERS (100: userIds of the POST and history scenarios),
# HISTORY_QUERY (empty: the contract's defaults, limit=50), PORT (a free
# one), RESULTS (bench/RESULTS.md; another file gets the same table, and
# the introduction if it is empty), NGINX (/usr/sbin/nginx), NDK_SO,
# MODULE_SO (build/ngx_http_matcher_module.so; another .so, e.g. an older
# commit's built in a git worktree, is measured as it is: BUILD then
# defaults to 0, and the table's commit is that of the git checkout the
# .so lies in, or MODULE_COMMIT if set), BUILD (1: "make -s build" first; 0: use MODULE_SO as it
# is, e.g. while the sources are being edited), SCENARIO (crud, or match
# with MATCH_DURATION (30s), MATCH_CONNECTIONS (2), MATCH_THREADS (1),
# MATCH_FILTER (the search filter, JSON), INDEX_TIMEOUT (600 s),
# VECTORS_RUN (empty: the module's default; loop or pool: appended to the
# matcher_vectors line as "run=loop" or "run=pool", where each vector
# search runs: on the event loop or on the thread pool; modules from
# before that parameter refuse it, so leave it empty for them)).
#
# STORE (lmdb): mongodb puts the documents in the MongoDB of MONGODB_URI
# instead (database "bench"; bench/mongo/run.sh starts a test server).
#
# ONLY (empty: every row) restricts the wrk rows to a comma-separated
# list of: ref (both return 200 rows), get-creator, post-assignment,
# history (needs post-assignment, which fills the history), and with
# SCENARIO=match match-uncached, search, search-filter, match-cached;
# e.g. ONLY=match-uncached MATCH_CONNECTIONS=8 MATCH_THREADS=2 for one
# row at 8 connections (bench/compare.sh does).  The ingest, the index
# build, the refresh and the memory are measured whatever ONLY says;
# without the ref rows the rps / return-200 column and those goals are
# left out.

set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD

SCENARIO=${SCENARIO:-crud}
case $SCENARIO in
    crud)  N=${N:-10000} ;;
    match) N=${N:-100000} ;;
    *)     echo "bench: SCENARIO must be crud or match" >&2; exit 1 ;;
esac
SEED=${SEED:-1}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
USERS=${USERS:-100}
HISTORY_QUERY=${HISTORY_QUERY:-}
RESULTS=${RESULTS:-$ROOT/bench/RESULTS.md}
NGINX=${NGINX:-/usr/sbin/nginx}
NDK_SO=${NDK_SO:-/usr/lib/nginx/modules/ndk_http_module.so}
if [[ -n ${MODULE_SO:-} ]]; then
    MODULE_SO=$(realpath -m "$MODULE_SO")
fi
if [[ -z ${MODULE_SO:-} || $MODULE_SO == "$ROOT/build/ngx_http_matcher_module.so" ]]; then
    MODULE_SO=$ROOT/build/ngx_http_matcher_module.so
    BUILD=${BUILD:-1}
else
    BUILD=${BUILD:-0}
fi
MATCH_DURATION=${MATCH_DURATION:-30s}
MATCH_CONNECTIONS=${MATCH_CONNECTIONS:-2}
MATCH_THREADS=${MATCH_THREADS:-1}
MATCH_FILTER=${MATCH_FILTER:-'{"region":"US","followerCount":{"$gte":10000}}'}
INDEX_TIMEOUT=${INDEX_TIMEOUT:-600}
VECTORS_RUN=${VECTORS_RUN:-}
ONLY=${ONLY:-}

OUT=$ROOT/bench/out
PREFIX=$OUT/nginx
WRK_DIR=$ROOT/bench/wrk
COMMAND="N=$N SEED=$SEED DURATION=$DURATION CONNECTIONS=$CONNECTIONS THREADS=$THREADS USERS=$USERS${HISTORY_QUERY:+ HISTORY_QUERY=$HISTORY_QUERY} bench/run.sh"
if [[ $SCENARIO == match ]]; then
    COMMAND="SCENARIO=match MATCH_DURATION=$MATCH_DURATION MATCH_CONNECTIONS=$MATCH_CONNECTIONS MATCH_THREADS=$MATCH_THREADS${VECTORS_RUN:+ VECTORS_RUN=$VECTORS_RUN} $COMMAND"
fi
if [[ -n $ONLY ]]; then
    COMMAND="ONLY=$ONLY $COMMAND"
fi
if [[ $MODULE_SO != "$ROOT/build/ngx_http_matcher_module.so" ]]; then
    COMMAND="MODULE_SO=${MODULE_SO#"$ROOT"/} $COMMAND"
fi

say() { printf '%s\n' "bench: $*" >&2; }
die() { say "$*"; exit 1; }

for tool in wrk curl python3 "$NGINX"; do
    command -v "$tool" > /dev/null || die "$tool not found"
done
[[ $N =~ ^[1-9][0-9]*$ ]] || die "N must be a positive integer"
case $VECTORS_RUN in
    ""|loop|pool) ;;
    *) die "VECTORS_RUN must be empty, loop or pool" ;;
esac
[[ -z $VECTORS_RUN || $SCENARIO == match ]] || die "VECTORS_RUN needs SCENARIO=match"

# the rows to run (ONLY): want <row> is true for each
ROWS="ref get-creator post-assignment history"
if [[ $SCENARIO == match ]]; then
    ROWS="$ROWS match-uncached search search-filter match-cached"
fi
declare -A WANT
for row in ${ONLY//,/ }; do
    [[ " $ROWS " == *" $row "* ]] || die "ONLY: unknown row \"$row\" (rows: ${ROWS// /,})"
    WANT[$row]=1
done
want() { [[ -z $ONLY || -n ${WANT[$1]:-} ]]; }
if want history && ! want post-assignment; then
    die "ONLY: history needs post-assignment (which fills the history)"
fi

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
MATCH_DUR_SECS=$(duration_secs "$MATCH_DURATION")
[[ $MATCH_DUR_SECS =~ ^[0-9]+$ ]] || die "MATCH_DURATION: want e.g. 20s, 1m"

# --- build ------------------------------------------------------------------

mkdir -p "$OUT"
if [[ $BUILD != 0 ]]; then
    say "building the module (make -s build)"
    make -s build > "$OUT/build.log" 2>&1 || { cat "$OUT/build.log" >&2; die "build failed"; }
fi
[[ -f $MODULE_SO ]] || die "no $MODULE_SO"
# the commit: that of the git checkout the module lies in (build/ of this
# one, or of a worktree with another commit), its sources beside it
# (MODULE_COMMIT, if set, says it instead: a copy of a module, whose
# checkout may have moved on since)
SRC_ROOT=$(git -C "$(dirname "$MODULE_SO")" rev-parse --show-toplevel 2> /dev/null || true)
if [[ -n ${MODULE_COMMIT:-} ]]; then
    COMMIT=$MODULE_COMMIT
    SRC_ROOT=""
elif [[ -n $SRC_ROOT ]]; then
    COMMIT=$(git -C "$SRC_ROOT" rev-parse --short HEAD 2> /dev/null || echo unknown)
    if [[ -n $(git -C "$SRC_ROOT" status --porcelain -- lib module config 2> /dev/null) ]]; then
        COMMIT="$COMMIT (module sources modified)"
    fi
else
    COMMIT="unknown (${MODULE_SO##*/} is not in a git checkout)"
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
# which module was measured: the copy's checksum and build time, and
# whether a source is newer than it (BUILD=0 takes the .so as it is)
MODULE_NOTE="${MODULE_SO#"$ROOT"/}, built $(date -u -r "$MODULE_SO" +'%Y-%m-%d %H:%M:%S UTC'), sha256 $(sha256sum "$PREFIX/modules/${MODULE_SO##*/}" | cut -c1-12)"
if [[ -n $SRC_ROOT && -n $(cd "$SRC_ROOT" && find lib module config -newer "$MODULE_SO" -type f 2> /dev/null | head -1) ]]; then
    MODULE_NOTE="$MODULE_NOTE; **sources newer than the module**"
    COMMIT="$COMMIT (module older than its sources)"
fi

USER_LINE=""
if [[ $(id -u) -eq 0 ]]; then
    USER_LINE="user root;   # run as root: workers must write the store here"
fi
# crud: the matching lines commented out, the store as before; match: a
# map for 100k creators and the assignments of the POST phase, and notice
# level for the index's "rebuilt" line
if [[ $SCENARIO == match ]]; then
    STORE_SIZE=8g LOG_LEVEL=notice MATCH_MARK=""
else
    STORE_SIZE=2048m LOG_LEVEL=warn MATCH_MARK="#"
fi
sed -e "s|@USER@|$USER_LINE|" -e "s|@NDK@|$NDK_SO|" \
    -e "s|@MODULE@|$PREFIX/modules/${MODULE_SO##*/}|" -e "s|@PORT@|$PORT|" \
    -e "s|@INGEST_MAX@|$INGEST_MAX|" -e "s|@STORE_SIZE@|$STORE_SIZE|" \
    -e "s|@LOG_LEVEL@|$LOG_LEVEL|" -e "s|^@MATCH@|$MATCH_MARK|" \
    -e "s|@VECTORS_RUN@|${VECTORS_RUN:+ run=$VECTORS_RUN}|" \
    bench/nginx.conf.in > "$PREFIX/conf/nginx.conf"
# STORE=mongodb: the documents in the MongoDB at $MONGODB_URI (db "bench",
# the index's files in store/), as bench/mongo/run.sh runs it
if [[ ${STORE:-lmdb} == mongodb ]]; then
    [[ -n ${MONGODB_URI:-} ]] || die "STORE=mongodb needs MONGODB_URI"
    sed -i "s|lmdb:store size=[^;]*;|mongodb uri=env:MONGODB_URI db=bench dir=store;|" \
        "$PREFIX/conf/nginx.conf"
    COMMAND="STORE=mongodb $COMMAND"
fi

"$NGINX" -q -t -p "$PREFIX/" -c conf/nginx.conf -e logs/error.log \
    || die "nginx -t failed (see $PREFIX/conf/nginx.conf)"

. "$(dirname "$0")/lib.sh"

NGINX_PID=""
stop_nginx() {
    [[ -n $NGINX_PID ]] || return 0
    stop_pid "$NGINX_PID" nginx QUIT
}
trap stop_nginx EXIT
trap 'exit 130' INT TERM

bench_start_nginx "$PREFIX" "$BASE/ref"
say "nginx $NGINX_PID on $BASE, prefix $PREFIX"

# --- ingest -------------------------------------------------------------------

say "ingesting $N creators ($DATA_BYTES bytes of NDJSON)"
# more than 200,000 creators go in parts of 200,000, one request each
# (curl holds a --data-binary body in memory; 2 GB is too much for it)
PARTS=("$DATA")
if (( N > 200000 )); then
    rm -rf "$OUT/parts"
    mkdir -p "$OUT/parts"
    split -l 200000 -d -a 3 "$DATA" "$OUT/parts/part-"
    PARTS=("$OUT"/parts/part-*)
fi
INGEST_SECS=0 INGEST_COUNT=0 INGEST_INSERTED=0 INGEST_FAILED=0
for part in "${PARTS[@]}"; do
    INGEST_TIME=$(curl -s --max-time 600 -o "$OUT/ingest.json" -w '%{http_code} %{time_total}' \
        -H 'Content-Type: application/x-ndjson' --data-binary "@$part" \
        "$BASE/api/creators/ingest")
    read -r INGEST_STATUS secs <<< "$INGEST_TIME"
    [[ $INGEST_STATUS == 200 ]] || die "ingest: HTTP $INGEST_STATUS: $(head -c 500 "$OUT/ingest.json")"
    read -r count inserted failed < <(python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
print(r.get("count"), r.get("inserted"), len(r.get("failed") or []))' "$OUT/ingest.json")
    INGEST_SECS=$(python3 -c "print($INGEST_SECS + $secs)")
    INGEST_COUNT=$(( INGEST_COUNT + count ))
    INGEST_INSERTED=$(( INGEST_INSERTED + inserted ))
    INGEST_FAILED=$(( INGEST_FAILED + failed ))
done
rm -rf "$OUT/parts"
INGEST_DONE=$(date +%s.%N)
[[ $INGEST_COUNT == "$N" && $INGEST_FAILED == 0 ]] \
    || die "ingest accepted $INGEST_COUNT of $N, $INGEST_FAILED failed: $(head -c 500 "$OUT/ingest.json")"
INGEST_RATE=$(python3 -c "print(round($N / $INGEST_SECS))")
say "ingest: $N creators in ${INGEST_SECS}s = $INGEST_RATE creators/s"

# one of each, by hand, before measuring
FIRST_ID=$(head -1 "$IDS")
curl -sf -o /dev/null --max-time 5 "$BASE/api/creators/$FIRST_ID" \
    || die "GET /api/creators/$FIRST_ID failed"

# --- matching: the index, a full refresh, memory ----------------------------------

now() { date +%s.%N; }
since() { python3 -c "print('%.2f' % ($(now) - $1))"; }

# the detail of one of /api/health's checks (vectors, embeddings, cache)
health_detail() {
    curl -s --max-time 5 "$BASE/api/health" | python3 -c 'import json, sys
try:
    print(json.load(sys.stdin)["checks"][sys.argv[1]]["detail"])
except Exception:
    print("")' "$1"
}

# "hits misses" of the cache zone, from /api/health
cache_counts() {
    health_detail cache | sed -nE 's/^hits ([0-9]+), misses ([0-9]+),.*/\1 \2/p'
}

# wait until /api/health says the index holds all N creators
wait_vectors() {
    local what=$1 deadline=$(( SECONDS + INDEX_TIMEOUT ))
    while :; do
        VECTORS=$(health_detail vectors)
        [[ $VECTORS == "local: $N creators,"* ]] && return 0
        grep -q 'matcher: vector index update failed' "$PREFIX/logs/error.log" \
            && die "$what: $(grep 'vector index update failed' "$PREFIX/logs/error.log" | tail -1)"
        kill -0 "$NGINX_PID" 2> /dev/null || die "nginx exited: $(tail -5 "$PREFIX/logs/error.log")"
        (( SECONDS < deadline )) || die "$what: no index of $N creators after ${INDEX_TIMEOUT}s: $VECTORS"
        sleep 0.2
    done
}

# POST a JSON body; prints "<status> <X-Cache>" and leaves the body in $OUT/last.json
post_json() {
    curl -s --max-time 60 -o "$OUT/last.json" -D "$OUT/last.headers" -w '%{http_code}' \
        -H 'Content-Type: application/json' --data-binary "$2" "$BASE$1"
    printf ' %s\n' "$(sed -nE 's/^X-Cache: *([A-Z]*).*/\1/ip' "$OUT/last.headers" | tr -d '\r')"
}

# the index builds in the background after an ingest: on MongoDB its
# scan of the collection would share the (Python, one-lock) test server
# with the measured rows, so they wait for it
if [[ $SCENARIO != match && ${STORE:-lmdb} == mongodb ]]; then
    say "waiting for the background index build ($N creators)"
    wait_vectors "the index build after the ingest"
fi

if [[ $SCENARIO == match ]]; then
    # the background build: the index answers once health counts N
    # creators and the worker logged "vector index rebuilt: N creators
    # embedded" (the corpus more than doubled, so a full rebuild)
    say "waiting for the background index build ($N creators)"
    wait_vectors "the index build after the ingest"
    deadline=$(( SECONDS + INDEX_TIMEOUT ))
    until grep -qE "matcher: vector index (rebuilt|updated): $N creators embedded" \
            "$PREFIX/logs/error.log"; do
        (( SECONDS < deadline )) || die "no \"vector index rebuilt: $N\" line in the error log"
        sleep 0.2
    done
    INDEX_SECS=$(since "$INGEST_DONE")
    INDEX_LOG=$(grep -oE 'matcher: vector index (rebuilt|updated): [0-9]+ creators embedded, [0-9]+ errors' \
                "$PREFIX/logs/error.log" | grep -v ': 0 creators' | sed 's/^matcher: //' \
                | paste -sd ';' | sed 's/;/; /g')
    say "index ready ${INDEX_SECS}s after the ingest: $VECTORS"

    # one of each by hand: search (with the filter), and the cache
    read -r st _ <<< "$(post_json /api/creators/search \
        "{\"query\":\"budget travel by train\",\"topK\":10,\"filter\":$MATCH_FILTER}")"
    [[ $st == 200 ]] || die "search with a filter: HTTP $st: $(head -c 300 "$OUT/last.json")"
    SEARCH_FILTER_HITS=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["count"])' "$OUT/last.json")
    EXAMPLE=$(python3 -c 'import json
a = json.load(open("t/data/example-assignment.json")); a.pop("userId", None)
print(json.dumps({"assignment": a, "topK": 3}))')
    read -r st c1 <<< "$(post_json /api/matches "$EXAMPLE")"
    [[ $st == 200 ]] || die "POST /api/matches: HTTP $st: $(head -c 300 "$OUT/last.json")"
    read -r st c2 <<< "$(post_json /api/matches "$EXAMPLE")"
    [[ $c1 == MISS && $c2 == HIT ]] || die "the example assignment twice: X-Cache $c1 then $c2, want MISS then HIT"

    # a full refresh: every creator embedded again, wall time from the
    # POST to the job's "completed"
    say "full refresh (forceRefresh) of $N creators"
    REFRESH_START=$(now)
    read -r st _ <<< "$(post_json /api/creators/embeddings/refresh '{"forceRefresh":true}')"
    [[ $st == 202 ]] || die "refresh: HTTP $st: $(head -c 300 "$OUT/last.json")"
    JOB=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["job"]["id"])' "$OUT/last.json")
    deadline=$(( SECONDS + INDEX_TIMEOUT ))
    while :; do
        curl -s --max-time 5 -o "$OUT/refresh.json" "$BASE/api/creators/embeddings/refresh/$JOB" || true
        grep -q '"status":"running"' "$OUT/refresh.json" || break
        (( SECONDS < deadline )) || die "refresh job $JOB still running after ${INDEX_TIMEOUT}s"
        sleep 0.1
    done
    REFRESH_SECS=$(since "$REFRESH_START")
    read -r REFRESH_STATUS REFRESH_TOTAL REFRESH_DONE REFRESH_ERRORS REFRESH_SERVER_SECS < <(python3 -c '
import json, sys, datetime
j = json.load(open(sys.argv[1]))["job"]; s = j.get("summary") or {}
t = lambda x: datetime.datetime.strptime(x, "%Y-%m-%dT%H:%M:%S.%fZ")
secs = (t(j["finishedAt"]) - t(j["startedAt"])).total_seconds() if j.get("finishedAt") else -1
print(j["status"], s.get("totalCreators"), s.get("processed"), s.get("errors"), "%.2f" % secs)' "$OUT/refresh.json")
    [[ $REFRESH_STATUS == completed && $REFRESH_DONE == "$N" ]] \
        || die "refresh job: $(head -c 500 "$OUT/refresh.json")"
    REFRESH_RATE=$(python3 -c "print(round($N / $REFRESH_SECS))")
    wait_vectors "the index after the refresh"
    say "refresh: $N creators in ${REFRESH_SECS}s (job: ${REFRESH_SERVER_SECS}s) = $REFRESH_RATE creators/s; $VECTORS"
    VECTORS_READY=$VECTORS
    EMBEDDINGS_READY=$(health_detail embeddings)

    python3 bench/mem.py "$PREFIX/store" "$N" "$NGINX_PID" > "$OUT/mem-ready.md" \
        || die "bench/mem.py failed"
fi

# --- wrk ------------------------------------------------------------------------

export BENCH_WRK_DIR=$WRK_DIR BENCH_IDS=$IDS BENCH_USERS=$USERS \
       BENCH_HISTORY_QUERY=$HISTORY_QUERY
WRK_ARGS=(-t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency)

declare -A RPS P50 P99 BYTES ERRS
NAMES=()

declare -A WRKSET CACHE

# run_wrk <name> <script> <path> [wrk options, default ${WRK_ARGS[@]}]
# (BENCH_* variables for the script go in its environment)
run_wrk() {
    local name=$1 script=$2 path=$3 log line secs before after
    shift 3
    local -a args=("$@")
    (( ${#args[@]} )) || args=("${WRK_ARGS[@]}")
    secs=$(( DUR_SECS > MATCH_DUR_SECS ? DUR_SECS : MATCH_DUR_SECS ))
    log=$OUT/wrk-${#NAMES[@]}-$script.txt
    if [[ $SCENARIO == match ]]; then
        before=$(cache_counts)
    fi
    say "wrk ${args[*]} -s bench/wrk/$script.lua $BASE$path"
    timeout -k 5 $(( secs + 60 )) \
        wrk "${args[@]}" -s "$WRK_DIR/$script.lua" "$BASE$path" > "$log" 2>&1 \
        || die "wrk failed: $(tail -5 "$log")"
    line=$(grep '^BENCH ' "$log" | tail -1) || die "no BENCH line in $log"
    NAMES+=("$name")
    WRKSET[$name]="${args[0]} ${args[1]}"
    if [[ $SCENARIO == match ]]; then
        after=$(cache_counts)
        # hits / misses of the cache zone during the row
        CACHE[$name]=$(python3 -c 'import sys
b, a = sys.argv[1].split(), sys.argv[2].split()
print("%d / %d" % (int(a[0]) - int(b[0]), int(a[1]) - int(b[1])))' "$before" "$after")
    fi
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

want ref && run_wrk "return 200"          ref             /ref
want get-creator \
    && run_wrk "GET /api/creators/{id}"   get-creator     "/api/creators/$FIRST_ID"
want post-assignment \
    && run_wrk "POST /api/assignments"    post-assignment /api/assignments
HIST_TOTAL="" HIST_COUNT=""
if want history; then
    HIST_SAMPLE=$(curl -sf --max-time 5 "$BASE/api/assignments/history/bench-user-000$HISTORY_QUERY" \
        | python3 -c 'import json, sys; r = json.load(sys.stdin); print(r["pagination"]["total"], r["pagination"]["count"])') \
        || die "GET history failed after the POST phase"
    read -r HIST_TOTAL HIST_COUNT <<< "$HIST_SAMPLE"
    (( HIST_COUNT > 0 )) || die "history of bench-user-000 is empty after the POST phase"
    run_wrk "GET /api/assignments/history/{userId}" get-history /api/assignments/history/bench-user-000
fi
if [[ $SCENARIO == match ]]; then
    MATCH_ARGS=(-t"$MATCH_THREADS" -c"$MATCH_CONNECTIONS" -d"$MATCH_DURATION" --latency)
    # a different assignment, a different query every request: counters
    # from disjoint ranges (bench/wrk/briefs.lua)
    want match-uncached && BENCH_MATCH_MODE=uncached BENCH_SALT=0 \
        run_wrk "POST /api/matches (uncached)" post-match /api/matches "${MATCH_ARGS[@]}"
    want search && BENCH_SALT=0 \
        run_wrk "POST /api/creators/search" search /api/creators/search "${MATCH_ARGS[@]}"
    want search-filter && BENCH_SALT=200000 BENCH_SEARCH_FILTER=$MATCH_FILTER \
        run_wrk "POST /api/creators/search (filter)" search /api/creators/search "${MATCH_ARGS[@]}"
fi
if [[ $SCENARIO == match ]] && want match-cached; then
    # the cached row's 100 assignments into the cache: warm-up runs until
    # one adds no miss
    for _ in 1 2 3 4 5; do
        before=$(cache_counts)
        BENCH_MATCH_MODE=cached BENCH_SALT=1900000 timeout -k 5 60 \
            wrk -t1 -c4 -d3s -s "$WRK_DIR/post-match.lua" "$BASE/api/matches" \
            > "$OUT/wrk-warm-up.txt" 2>&1 || die "wrk warm-up failed: $(tail -5 "$OUT/wrk-warm-up.txt")"
        [[ $(cache_counts | cut -d' ' -f2) == "$(cut -d' ' -f2 <<< "$before")" ]] && break
    done
    BENCH_MATCH_MODE=cached BENCH_SALT=1900000 \
        run_wrk "POST /api/matches (cached)" post-match /api/matches
fi
want ref && run_wrk "return 200 (again)"  ref             /ref

if [[ $SCENARIO == match ]]; then
    python3 bench/mem.py "$PREFIX/store" "$N" "$NGINX_PID" > "$OUT/mem-end.md" \
        || die "bench/mem.py failed"
    VECTORS_END=$(health_detail vectors)
    CACHE_END=$(health_detail cache)
fi

LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
stop_nginx
ALERTS=$(grep -cE '\[(alert|emerg|crit)\]' "$PREFIX/logs/error.log" || true)
if (( ALERTS > 0 )); then
    say "error.log has $ALERTS alert lines:"
    grep -E '\[(alert|emerg|crit)\]' "$PREFIX/logs/error.log" | head -5 >&2
fi

# --- report ---------------------------------------------------------------------

(( ${#NAMES[@]} > 0 )) || die "ONLY=$ONLY: no rows ran"
# the reference: the mean of the two return 200 rows, if they ran
REF=""
if want ref; then
    REF=$(python3 -c "print((${RPS["return 200"]} + ${RPS["return 200 (again)"]}) / 2)")
fi
# rps / return-200 of a row, or - without the reference
ratio_of() {
    if [[ -n $REF ]]; then
        python3 -c "print('%.2f' % ($1 / $REF))"
    else
        echo -
    fi
}


report() {
    local name ratio
    if [[ $SCENARIO == match ]]; then
        echo "### $(date -u +'%Y-%m-%d %H:%M:%S UTC'), commit $COMMIT, matching (SCENARIO=match), N=$N"
    else
        echo "### $(date -u +'%Y-%m-%d %H:%M:%S UTC'), commit $COMMIT"
    fi
    echo
    echo "- machine: $(nproc) CPUs ($(uname -m)), $(uname -sr); nginx $("$NGINX" -v 2>&1 | sed 's|.*/||'), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)"
    echo "- load average before the run: $LOAD_BEFORE; after: $LOAD_AFTER"
    echo "- command: \`$COMMAND\`"
    echo "- module: $MODULE_NOTE"
    if [[ $SCENARIO == match ]]; then
        echo "- wrk: \`wrk <wrk column> -d<duration> --latency -s bench/wrk/<scenario>.lua http://127.0.0.1:<port><path>\`, -d$DURATION at ${THREADS}x$CONNECTIONS, -d$MATCH_DURATION at ${MATCH_THREADS}x$MATCH_CONNECTIONS; scenarios in table order, one nginx (2 workers) and wrk on the same box ($(nproc) cores: wrk's CPU is taken from nginx's)"
    else
        echo "- wrk: \`wrk ${WRK_ARGS[*]} -s bench/wrk/<scenario>.lua http://127.0.0.1:<port><path>\`, scenarios in table order, one nginx (2 workers) and wrk on the same box"
    fi
    echo "- ingest: $N creators, $DATA_BYTES bytes of NDJSON, one \`POST /api/creators/ingest\` into an empty store: ${INGEST_SECS} s = **$INGEST_RATE creators/s**"
    if [[ -n $HIST_COUNT ]]; then
        echo "- history: $USERS users, bench-user-000 had $HIST_TOTAL assignments after the POST phase; replies list $HIST_COUNT each (${HISTORY_QUERY:-default query, limit=50})"
    fi
    if [[ -n $ONLY ]]; then
        echo "- rows: only $ONLY (ONLY)"
    fi
    if [[ $SCENARIO == match ]]; then
        if [[ -n $VECTORS_RUN ]]; then
            echo "- vector search: \`matcher_vectors ... run=$VECTORS_RUN\` (VECTORS_RUN)"
        else
            echo "- vector search: the module's default (no run= parameter)"
        fi
        echo "- index build after the ingest (background): **${INDEX_SECS} s** from the ingest's reply until \`/api/health\` counted $N creators and the error log said \"$INDEX_LOG\""
        echo "- full refresh (\`POST /api/creators/embeddings/refresh {\"forceRefresh\": true}\`, polled every 0.1 s): **${REFRESH_SECS} s** from the POST to \`completed\` = $REFRESH_RATE creators/s (the job's startedAt to finishedAt: ${REFRESH_SERVER_SECS} s); summary: totalCreators $REFRESH_TOTAL, processed $REFRESH_DONE, errors $REFRESH_ERRORS"
        echo "- \`/api/health\` after the refresh: vectors \"$VECTORS_READY\"; embeddings \"$EMBEDDINGS_READY\""
        echo "- \`/api/health\` at the end: vectors \"$VECTORS_END\"; cache \"$CACHE_END\""
        echo "- search: topK 10, a new query every request; the filter row uses \`$MATCH_FILTER\` (a sample query returned $SEARCH_FILTER_HITS results). Matches: topK 3, framing on (the default); uncached: a new assignment every request; cached: 100 assignments, put in the cache by a warm-up run. \`cache\`: hits / misses of the cache zone during the row (\`/api/health\`'s counters; an uncached match misses twice: its query embedding and its result)"
    fi
    if (( ALERTS > 0 )); then
        echo "- **error.log: $ALERTS [alert]/[crit]/[emerg] lines: this run is not valid**"
    fi
    echo
    if [[ $SCENARIO == match ]]; then
        echo "| scenario | wrk | rps | p50 ms | p99 ms | rps / return-200 | bytes/resp | errors | cache hits / misses |"
        echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
        for name in "${NAMES[@]}"; do
            ratio=$(ratio_of "${RPS[$name]}")
            printf '| %s | %s | %.0f | %.2f | %.2f | %s | %s | %s | %s |\n' "$name" \
                "${WRKSET[$name]}" "${RPS[$name]}" "${P50[$name]}" "${P99[$name]}" \
                "$ratio" "${BYTES[$name]}" "${ERRS[$name]}" "${CACHE[$name]}"
        done
        echo
        echo "Memory after the index build and the refresh, before the scenarios (allocated / creator: the file's allocated blocks / $N; Pss in MiB, split by mapping):"
        echo
        cat "$OUT/mem-ready.md"
        echo
        echo "Memory at the end (data.mdb now also holds the POST phase's assignments):"
        echo
        cat "$OUT/mem-end.md"
    else
        echo "| scenario | rps | p50 ms | p99 ms | rps / return-200 | bytes/resp | errors |"
        echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
        for name in "${NAMES[@]}"; do
            ratio=$(ratio_of "${RPS[$name]}")
            printf '| %s | %.0f | %.2f | %.2f | %s | %s | %s |\n' "$name" \
                "${RPS[$name]}" "${P50[$name]}" "${P99[$name]}" "$ratio" \
                "${BYTES[$name]}" "${ERRS[$name]}"
        done
    fi
    echo
    echo "Goals:"
    # a row left out by ONLY passes nan: its goals are not printed
    python3 - "${REF:-nan}" "$INGEST_RATE" \
        "${RPS["GET /api/creators/{id}"]:-nan}" "${P99["GET /api/creators/{id}"]:-nan}" \
        "${P99["POST /api/assignments"]:-nan}" \
        "${RPS["GET /api/assignments/history/{userId}"]:-nan}" \
        "${P99["GET /api/assignments/history/{userId}"]:-nan}" \
        "${P99["POST /api/matches (uncached)"]:-nan}" \
        "${RPS["POST /api/matches (cached)"]:-nan}" "$SCENARIO" <<'EOF'
import math, sys
(ref, ingest, get_rps, get_p99, post_p99, hist_rps, hist_p99, unc_p99,
 cached_rps) = map(float, sys.argv[1:10])
match = sys.argv[10] == "match"
def line(values, ok, text):
    if not any(math.isnan(v) for v in values):
        print("- %s %s" % ("met:   " if ok() else "**MISSED**:", text()))
line([get_p99], lambda: get_p99 <= 2, lambda: "GET creator p99 %.2f ms (goal <= 2 ms)" % get_p99)
line([post_p99], lambda: post_p99 <= 2, lambda: "POST assignment p99 %.2f ms (goal <= 2 ms)" % post_p99)
line([hist_p99], lambda: hist_p99 <= 2, lambda: "GET history p99 %.2f ms (goal <= 2 ms)" % hist_p99)
line([get_rps, ref], lambda: get_rps >= 0.3 * ref, lambda: "GET creator %.2fx return-200 rps (goal >= 0.3x)" % (get_rps / ref))
line([hist_rps, ref], lambda: hist_rps >= 0.3 * ref, lambda: "GET history %.2fx return-200 rps (goal >= 0.3x)" % (hist_rps / ref))
line([ingest], lambda: ingest >= 20000, lambda: "ingest %d creators/s (goal >= 20,000)" % ingest)
if match:
    line([unc_p99], lambda: unc_p99 <= 10, lambda: "POST /matches uncached p99 %.2f ms (goal <= 10 ms)" % unc_p99)
    line([cached_rps, ref], lambda: cached_rps >= 0.5 * ref, lambda: "POST /matches cached %.2fx return-200 rps (goal >= 0.5x)" % (cached_rps / ref))
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
if [[ $SCENARIO == match ]] && ! grep -q '^## Matching' "$RESULTS"; then
    cat >> "$RESULTS" <<'EOF'

## Matching (`SCENARIO=match`)

One command, one run (about 3 minutes on 2 cores, plus half a minute the
first time to generate the creators):

    SCENARIO=match N=100000 bench/run.sh

(`BUILD=0` in front uses `build/ngx_http_matcher_module.so` as it is
instead of running `make -s build` first.)  The same nginx, ingest and
CRUD rows as above, with the local embedder (512 dimensions), the vector
index (`matcher_vectors local capacity=1000000`) and a 256 MB cache zone
(TTL 10 min) turned on (the `@MATCH@` lines of `bench/nginx.conf.in`).
The 100,000 creators (`bench/gen-creators.py`) each start from one of
the 17 samples (2-3 of its niches, 1-2 of its values, its bio) and mix
in niches and values from the whole vocabulary (59 niches, 41 values):
about 52,000 distinct niche sets, 6 regions, followers log-uniform from
1,000 to 10,000,000.  After the ingest it waits for the background index
build, times a full refresh, records the memory, and adds these rows
between the history and the second `return 200`:

- `POST /api/matches (uncached)`: a different assignment every request
  (topic, two related niches, two values, tone, audience: distinct for 2
  million requests, `bench/wrk/briefs.lua`), at 1 thread x 2 connections,
  so p50/p99 are the latency of one ranking, not queueing (the two
  connections may land on the same worker: then one waits for the other);
- `POST /api/creators/search`, then the same with a filter
  (`{"region":"US","followerCount":{"$gte":10000}}`, about 1 creator in
  8): a different query every request, at 1 x 2;
- `POST /api/matches (cached)`: 100 assignments already in the cache,
  at the same 2 threads x 64 connections as the `return 200` rows.

How to read it, besides the notes above:

- the `cache` column (hits / misses of the cache zone during the row)
  shows that the uncached row missed every time and the cached row hit
  every time;
- memory: `vectors.mtv` is a sparse file sized for `capacity`; its
  allocated blocks (`du`, not `du --apparent-size`) are what 100k
  creators cost.  Each worker maps it shared, so a worker's Pss holds
  its share; `vectors.mtv (deleted)` is an index generation that a
  worker still maps because it has served no request since the file was
  replaced; `data.mdb` is LMDB's map (file pages the worker touched);
  `shm zones` are the cache zone and nginx's own shared memory;
- goals (issue item 7): uncached `POST /matches` p99 <= 10 ms; cached
  `POST /matches` >= 0.5x the `return 200` rps; search latency, the full
  refresh time and the memory per 100,000 creators are reported.
EOF
fi
printf '\n%s\n' "$TABLE" >> "$RESULTS"
say "appended to ${RESULTS#"$ROOT"/}"
