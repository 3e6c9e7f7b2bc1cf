#!/usr/bin/env bash
# The MongoDB store beside LMDB, same box, same run (make bench-mongo):
#
#   bench/mongo/run.sh                 N=10000 creators, 10 s per row
#
# Starts the MongoDB wire-protocol test server (t/mongo/fake_mongo.py)
# with an empty data directory, then runs bench/run.sh's crud rows
# (return 200, GET /api/creators/{id}, POST /api/assignments, GET
# /api/assignments/history/{userId}) twice: on LMDB, and with STORE=mongodb
# against the server.  The server's own time per command (its fakeStats)
# is read after the MongoDB run, so that the module's share of a MongoDB
# request can be read off: a request's latency minus the server's time
# for the commands it sends.  Appends one table to bench/RESULTS.md.
#
# Environment: N (10000), DURATION (10s), CONNECTIONS (2), THREADS (1),
# RESULTS (bench/RESULTS.md).  The test server is Python: its time per
# command, not the module, bounds the MongoDB rows' rps, so the rows run
# at 2 connections and read as latency: a MongoDB row's p50 minus the
# server's mean time for the commands of one request is the module's
# share (thread hop, libmongoc, BSON to JSON).
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=$ROOT/bench/out/mongo
RESULTS=${RESULTS:-$ROOT/bench/RESULTS.md}
N=${N:-10000}
DURATION=${DURATION:-10s}
# few connections: latency, not throughput.  The test server is Python
# with one lock: at 64 connections it, not the module, sets the numbers
CONNECTIONS=${CONNECTIONS:-2}
THREADS=${THREADS:-1}
PY=/usr/bin/python3
FAKE=$ROOT/t/mongo/fake_mongo.py

say() { printf '%s\n' "bench-mongo: $*" >&2; }
die() { say "$*"; exit 1; }

rm -rf "$OUT"
mkdir -p "$OUT/data"

"$PY" "$FAKE" --port 0 --data "$OUT/data" --port-file "$OUT/port" \
    > "$OUT/fake.log" 2>&1 &
FAKE_PID=$!
trap 'kill "$FAKE_PID" 2> /dev/null || true; wait "$FAKE_PID" 2> /dev/null || true' EXIT
for _ in $(seq 100); do
    [[ -s $OUT/port ]] && break
    kill -0 "$FAKE_PID" 2> /dev/null || die "the test server exited: $(tail -5 "$OUT/fake.log")"
    sleep 0.1
done
MPORT=$(cat "$OUT/port")
[[ -n $MPORT ]] || die "the test server did not start"

command() {     # command <db> <json>: one command through the server
    "$PY" "$FAKE" --client "127.0.0.1:$MPORT" --db "$1" --command "$2"
}

run() {         # run <store> <results file>
    say "bench/run.sh on $1"
    STORE=$1 MONGODB_URI="mongodb://127.0.0.1:$MPORT/" N=$N \
        DURATION=$DURATION CONNECTIONS=$CONNECTIONS THREADS=$THREADS \
        ONLY=ref,get-creator,post-assignment,history RESULTS=$2 \
        "$ROOT/bench/run.sh" > "$OUT/run-$1.log" 2>&1 \
        || die "bench/run.sh on $1 failed: $(tail -5 "$OUT/run-$1.log")"
}

run lmdb "$OUT/lmdb.md"
command admin '{"fakeStats": 1, "reset": true}' > /dev/null
run mongodb "$OUT/mongodb.md"
command admin '{"fakeStats": 1}' > "$OUT/stats.json"

# the rows of each table: scenario | rps | p50 | p99 | ...
row() {         # row <file> <scenario prefix>: "rps p50 p99"
    grep -F "| $2 |" "$1" | tail -1 | awk -F'|' '{ print $3, $4, $5 }'
}

{
    echo
    echo "## MongoDB beside LMDB ($(date -u +'%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD))"
    echo
    echo "\`N=$N DURATION=$DURATION CONNECTIONS=$CONNECTIONS THREADS=$THREADS bench/mongo/run.sh\`:"
    echo "bench/run.sh's crud rows on LMDB, then on MongoDB (\`matcher_store mongodb\`,"
    echo "every call on the thread pool) against t/mongo/fake_mongo.py, one nginx"
    echo "(2 workers), wrk and the test server on the same $(nproc) cores."
    echo
    echo "| scenario | LMDB rps | LMDB p50 / p99 ms | MongoDB rps | MongoDB p50 / p99 ms |"
    echo "| --- | ---: | ---: | ---: | ---: |"
    for s in "return 200" "GET /api/creators/{id}" "POST /api/assignments" \
             "GET /api/assignments/history/{userId}"; do
        read -r lr lp50 lp99 <<< "$(row "$OUT/lmdb.md" "$s")"
        read -r mr mp50 mp99 <<< "$(row "$OUT/mongodb.md" "$s")"
        echo "| $s | $lr | $lp50 / $lp99 | $mr | $mp50 / $mp99 |"
    done
    echo
    echo "The test server's own time per command during the MongoDB run (its"
    echo "\`fakeStats\`, waits for its one store lock included; the ingest's"
    echo "bulk writes included):"
    echo
    "$PY" - "$OUT/stats.json" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
cmds = s.get("commands", s)
print("| command | count | mean µs |")
print("| --- | ---: | ---: |")
# the monitors' hellos wait (the streaming protocol's long poll): not work
skip = {"hello", "isMaster", "endSessions", "fakeStats"}
for name in sorted(cmds):
    c = cmds[name]
    if name in skip:
        continue
    if not isinstance(c, dict) or not c.get("count"):
        continue
    mean = c.get("avgMicros") or c.get("totalMicros", 0) / c["count"]
    print("| %s | %d | %.0f |" % (name, c["count"], mean))
EOF
} >> "$RESULTS"

say "appended to ${RESULTS#"$ROOT"/}"
