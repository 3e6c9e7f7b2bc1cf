#!/usr/bin/env bash
# Before and after in one run (issue 9: "performance must not regress"),
# `make bench-compare` runs it:
#
#   bench/compare.sh                   base 8e534c0 against the working tree
#   BASE=f109197 N=20000 bench/compare.sh
#
# 1. builds the BASE commit's module in a git worktree,
#    build/base-worktree (`git worktree add --detach`, then `make -s
#    build` in it; reused while it holds that commit and its module was
#    built for it), and the working tree's module (`make -s build`; BUILD=0
#    measures build/ngx_http_matcher_module.so as it is), copied once to
#    bench/out/compare/ so that every run measures the same build;
# 2. runs bench/run.sh SCENARIO=match (N creators, data generated once
#    and reused) for
#      base   the BASE module,
#      loop   the working tree's module, matcher_vectors run=loop,
#      pool   the same with run=pool (each vector search on the thread pool),
#    then only the uncached POST /api/matches row at C8_THREADS x
#    C8_CONNECTIONS (2 x 8) for
#      loop8  run=loop,
#      pool8  run=pool,
#      base8  the BASE module (only with C8_BASE=1);
#    each a separate nginx with an empty store: ingest, index build and
#    full refresh every time (about a minute at N=100000), then the rows;
# 3. prints one markdown table, base / run=loop / run=pool side by side
#    (rps, and p50 / p99 ms, per row), and appends it to bench/RESULTS.md
#    with the command, the commits, the load average and each run's
#    ingest, index and refresh times.  Each run's own table (with the
#    memory) and log stay in bench/out/compare/<run>.md and .log.
#
# It takes about 10 minutes at N=100000 on 2 cores (measured 9 min 13 s
# to 9 min 40 s: 3 runs of about 2.5 minutes, 2 of about 45 s; C8_BASE=1
# adds 45 s), plus about 30 s for the BASE build the first time.
#
# Environment: BASE (8e534c0: a commit, tag or branch), N (100000), SEED
# (1), DURATION (10s: the rows at THREADS x CONNECTIONS, 2 x 64),
# MATCH_DURATION (10s: the match and search rows at 1 x 2, and the 2 x 8
# row), C8_CONNECTIONS (8), C8_THREADS (2), C8_BASE (0; 1: the 2 x 8 row
# for BASE too), RUNS (the runs above, "base loop pool loop8 pool8";
# a subset, e.g. RUNS=base N=5000 APPEND=0 to try the parsing), BUILD
# (1; 0: no build of the working tree's module),
# BUILD_LOCK (empty; a file: every build runs under `flock` on it, e.g.
# /tmp/matcher-build.lock, so that it never overlaps another build of
# the tree), RESULTS (bench/RESULTS.md; APPEND=0: print only), and
# bench/run.sh's own (PORT, NGINX, NDK_SO, USERS, INDEX_TIMEOUT, ...)
# pass through.  A run that fails is marked in the table, which then is
# not appended, and compare.sh exits 1.
#
# Noise: the box is shared (2 cores here, wrk on the same cores as
# nginx); compare columns of one compare.sh, and read the return 200
# rows and the load averages before trusting a few percent.

set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD

BASE=${BASE:-8e534c0}
N=${N:-100000}
SEED=${SEED:-1}
DURATION=${DURATION:-10s}
MATCH_DURATION=${MATCH_DURATION:-10s}
C8_CONNECTIONS=${C8_CONNECTIONS:-8}
C8_THREADS=${C8_THREADS:-2}
C8_BASE=${C8_BASE:-0}
BUILD=${BUILD:-1}
BUILD_LOCK=${BUILD_LOCK:-}
RESULTS=${RESULTS:-$ROOT/bench/RESULTS.md}
APPEND=${APPEND:-1}
RUNS_SET=${RUNS:-}
if [[ -z $RUNS_SET ]]; then
    RUNS="base loop pool loop8 pool8"
    [[ $C8_BASE != 1 ]] || RUNS="$RUNS base8"
fi
RUNS=${RUNS//,/ }
for label in $RUNS; do
    [[ $label =~ ^(base|loop|pool|loop8|pool8|base8)$ ]] \
        || { echo "compare: RUNS: unknown run \"$label\" (base loop pool loop8 pool8 base8)" >&2; exit 1; }
done

WT=$ROOT/build/base-worktree
BASE_SO=$WT/build/ngx_http_matcher_module.so
NEW_SO=$ROOT/build/ngx_http_matcher_module.so
OUTDIR=$ROOT/bench/out/compare
NEW_COPY=$OUTDIR/ngx_http_matcher_module.so

say() { printf '%s\n' "compare: $*" >&2; }
die() { say "$*"; exit 1; }

[[ $N =~ ^[1-9][0-9]*$ ]] || die "N must be a positive integer"
START=$SECONDS
START_DATE=$(date -u +'%Y-%m-%d %H:%M:%S UTC')
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
C8_BASE_ARG=""
[[ $C8_BASE != 1 ]] || C8_BASE_ARG=" C8_BASE=1"
COMMAND="${RUNS_SET:+RUNS=\"$RUNS\" }BASE=$BASE N=$N DURATION=$DURATION MATCH_DURATION=$MATCH_DURATION C8_THREADS=$C8_THREADS C8_CONNECTIONS=$C8_CONNECTIONS SEED=$SEED${C8_BASE_ARG} bench/compare.sh"

# make -s build in a directory, under the lock if BUILD_LOCK names one
build_in() {
    local dir=$1 log=$2
    if [[ -n $BUILD_LOCK ]]; then
        (cd "$dir" && flock "$BUILD_LOCK" make -s build) > "$log" 2>&1
    else
        (cd "$dir" && make -s build) > "$log" 2>&1
    fi || { tail -30 "$log" >&2; die "make -s build failed in $dir (log: $log)"; }
}

mkdir -p "$OUTDIR"

# --- the BASE module, in its worktree -------------------------------------------

BASE_COMMIT=$(git rev-parse --verify --quiet "$BASE^{commit}") \
    || die "BASE=$BASE: not a commit"
BASE_SHORT=$(git rev-parse --short "$BASE_COMMIT")
STAMP=$WT/build/.bench-compare-commit

if [[ ! -e $WT/.git ]]; then
    [[ ! -e $WT ]] || die "$WT exists but is not a git worktree: remove it"
    git worktree prune
    say "git worktree add --detach ${WT#"$ROOT"/} $BASE_SHORT"
    git worktree add --quiet --detach "$WT" "$BASE_COMMIT"
elif [[ $(git -C "$WT" rev-parse HEAD) != "$BASE_COMMIT" ]]; then
    [[ -z $(git -C "$WT" status --porcelain --untracked-files=no) ]] \
        || die "$WT has local changes: not switching it to $BASE_SHORT"
    say "${WT#"$ROOT"/}: checking out $BASE_SHORT"
    git -C "$WT" checkout --quiet --detach "$BASE_COMMIT"
    rm -f "$STAMP"
fi
[[ -z $(git -C "$WT" status --porcelain --untracked-files=no) ]] \
    || die "$WT has local changes: it must hold $BASE_SHORT as committed"
if [[ -f $BASE_SO && -f $STAMP && $(cat "$STAMP") == "$BASE_COMMIT" ]]; then
    say "base module: reusing ${BASE_SO#"$ROOT"/} ($BASE_SHORT)"
else
    say "base module: make -s build in ${WT#"$ROOT"/} ($BASE_SHORT; a minute or two the first time)"
    build_in "$WT" "$OUTDIR/build-base.log"
    echo "$BASE_COMMIT" > "$STAMP"
fi

# --- the working tree's module ------------------------------------------------------

NEW_WANTED=0
[[ " $RUNS " =~ \ (loop|pool|loop8|pool8)\  ]] && NEW_WANTED=1
if [[ $BUILD != 0 && $NEW_WANTED == 1 ]]; then
    say "new module: make -s build"
    build_in "$ROOT" "$OUTDIR/build-new.log"
fi
[[ $NEW_WANTED == 0 || -f $NEW_SO ]] || die "no ${NEW_SO#"$ROOT"/} (BUILD=0 takes it as it is)"
# every run of the new module measures this copy, whatever builds of the
# tree happen meanwhile (cp -p: its time stays the build's)
if [[ $NEW_WANTED == 1 ]]; then
    cp -p "$NEW_SO" "$NEW_COPY.tmp"
    mv -f "$NEW_COPY.tmp" "$NEW_COPY"
fi
NEW_COMMIT=$(git rev-parse HEAD)
NEW_SHORT=$(git rev-parse --short HEAD)
NEW_STATE=""
if [[ -n $(git status --porcelain -- lib module config) ]]; then
    NEW_STATE=" + uncommitted changes to lib/ module/ config (\`git diff HEAD -- lib module config | sha256sum\`: $(git diff HEAD -- lib module config | sha256sum | cut -c1-12))"
fi
if [[ -f $NEW_SO && -n $(find lib module config -newer "$NEW_SO" -type f | head -1) ]]; then
    NEW_STATE="$NEW_STATE; **sources newer than the module**"
fi
# what run.sh reports as the copy's commit: the tree as it was copied
NEW_LABEL=$NEW_SHORT
if [[ -n $NEW_STATE ]]; then
    NEW_LABEL="$NEW_SHORT (working tree, diff $(git diff HEAD -- lib module config | sha256sum | cut -c1-12))"
fi

# --- the runs -----------------------------------------------------------------

declare -A STATUS
DONE=()

# run <label> <env assignments for bench/run.sh...>
run() {
    local label=$1 t0=$SECONDS
    shift
    local md=$OUTDIR/$label.md log=$OUTDIR/$label.log
    rm -f "$md"
    DONE+=("$label")
    say "run $label: $* bench/run.sh (log: ${log#"$ROOT"/})"
    # compare.sh's own choices only: none of these from the caller
    if env -u VECTORS_RUN -u ONLY -u MATCH_THREADS -u MATCH_CONNECTIONS \
            -u MODULE_SO -u MODULE_COMMIT SCENARIO=match N="$N" SEED="$SEED" DURATION="$DURATION" \
            MATCH_DURATION="$MATCH_DURATION" RESULTS="$md" BUILD=0 "$@" \
            bench/run.sh > "$log" 2>&1; then
        STATUS[$label]=ok
        say "run $label: done in $(( SECONDS - t0 )) s"
    else
        STATUS[$label]=failed
        say "run $label: FAILED after $(( SECONDS - t0 )) s: $(grep '^bench: ' "$log" | tail -1)"
    fi
}

C8=(ONLY=match-uncached MATCH_THREADS="$C8_THREADS" MATCH_CONNECTIONS="$C8_CONNECTIONS")
for label in $RUNS; do
    case $label in
        base)  run base  MODULE_SO="$BASE_SO" ;;
        loop)  run loop  MODULE_SO="$NEW_COPY" MODULE_COMMIT="$NEW_LABEL" VECTORS_RUN=loop ;;
        pool)  run pool  MODULE_SO="$NEW_COPY" MODULE_COMMIT="$NEW_LABEL" VECTORS_RUN=pool ;;
        loop8) run loop8 MODULE_SO="$NEW_COPY" MODULE_COMMIT="$NEW_LABEL" VECTORS_RUN=loop "${C8[@]}" ;;
        pool8) run pool8 MODULE_SO="$NEW_COPY" MODULE_COMMIT="$NEW_LABEL" VECTORS_RUN=pool "${C8[@]}" ;;
        base8) run base8 MODULE_SO="$BASE_SO" "${C8[@]}" ;;
    esac
done

LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
ELAPSED=$(( SECONDS - START ))

# --- the table ----------------------------------------------------------------------

STATUS_ARGS=()
for label in "${DONE[@]}"; do
    STATUS_ARGS+=("$label=${STATUS[$label]}")
done

TABLE=$(python3 - "$OUTDIR" "$BASE_SHORT" "$C8_THREADS" "$C8_CONNECTIONS" "${STATUS_ARGS[@]}" <<'EOF'
import os, re, sys

outdir, base_short, c8t, c8c = sys.argv[1:5]
status = dict(a.split("=", 1) for a in sys.argv[5:])

def parse(label):
    """rows {name: (wrk, rps, p50, p99, errors)} and notes of one run's table"""
    rows, notes = {}, {}
    path = os.path.join(outdir, label + ".md")
    if status.get(label) != "ok" or not os.path.exists(path):
        return None, notes
    intable = False
    for line in open(path):
        line = line.rstrip("\n")
        m = re.match(r"### .*, commit (.*), matching", line)
        if m:
            notes["commit"] = m.group(1)
        if line.startswith("| scenario | wrk | rps |"):
            intable = True
            continue
        if intable:
            if not line.startswith("|"):
                intable = False
                continue
            cells = [c.strip() for c in line.strip("|").split("|")]
            if cells[0].startswith("---"):
                continue
            rows[cells[0]] = (cells[1], float(cells[2]), float(cells[3]),
                              float(cells[4]), int(cells[7]))
        m = re.match(r"- load average before the run: (.*); after: (.*)", line)
        if m:
            notes["load"] = "%s → %s" % m.groups()
        for key, pat in (
                         ("module", r"- module: (.*)"),
                         ("ingest", r"- ingest: .*\*\*(\d+) creators/s\*\*"),
                         ("index", r"- index build after the ingest .*?\*\*([\d.]+) s\*\*"),
                         ("refresh", r"- full refresh .*?\*\*([\d.]+) s\*\*"),
                         ("invalid", r"- \*\*(error\.log: .*)\*\*")):
            m = re.match(pat, line)
            if m:
                notes[key] = m.group(1)
    return rows, notes

runs = {}
for label in ("base", "loop", "pool", "loop8", "pool8", "base8"):
    if label in status:
        runs[label] = parse(label)

def cell(label, name, ref_label=None):
    """'rps' and 'p50 / p99' cells; rps with its ratio to ref_label's"""
    rows = runs.get(label, (None, None))[0]
    if label not in runs:
        return "-", "-"
    if rows is None:
        return "failed", "failed"
    if name not in rows:
        return "-", "-"
    wrk, rps, p50, p99, errors = rows[name]
    text = "%.0f" % rps
    ref_rows = runs.get(ref_label, (None, None))[0] if ref_label else None
    if ref_rows and name in ref_rows and ref_rows[name][1] > 0:
        text += " (%.2fx)" % (rps / ref_rows[name][1])
    if errors:
        text += " **%d errors**" % errors
    return text, "%.2f / %.2f" % (p50, p99)

def wrk_of(name, labels):
    for label in labels:
        rows = runs.get(label, (None, None))[0]
        if rows and name in rows:
            return rows[name][0]
    return None

ROWS = [
    ("return 200", "return 200"),
    ("GET /api/creators/{id}", "GET creator"),
    ("POST /api/assignments", "POST assignment"),
    ("GET /api/assignments/history/{userId}", "GET history"),
    ("POST /api/matches (uncached)", "uncached POST /api/matches"),
    ("POST /api/creators/search", "search"),
    ("POST /api/creators/search (filter)", "search with filter"),
    ("POST /api/matches (cached)", "cached POST /api/matches"),
    ("return 200 (again)", "return 200 (again)"),
]

print("| scenario | wrk | base %s rps | p50 / p99 ms | new run=loop rps | p50 / p99 ms | new run=pool rps | p50 / p99 ms |" % base_short)
print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
for name, title in ROWS:
    b = cell("base", name)
    l = cell("loop", name, "base")
    p = cell("pool", name, "base")
    print("| %s | %s | %s | %s | %s | %s | %s | %s |"
          % (title, wrk_of(name, ("loop", "base", "pool")) or "?", *b, *l, *p))
name = "POST /api/matches (uncached)"
ref8 = "base8" if "base8" in runs else None
b = cell("base8", name) if "base8" in runs else ("-", "-")
l = cell("loop8", name, ref8)
p = cell("pool8", name, ref8 or "loop8")
print("| uncached POST /api/matches, %s connections | %s | %s | %s | %s | %s | %s | %s |"
      % (c8c, wrk_of(name, ("loop8", "pool8", "base8")) or "-t%s -c%s" % (c8t, c8c),
         *b, *l, *p))
print()
print("Runs (each its own nginx, empty store, ingest, index build, full refresh, then its rows):")
print()
for label, (rows, notes) in runs.items():
    if rows is None:
        print("- %s: **failed** (bench/out/compare/%s.log)" % (label, label))
        continue
    print("- %s: commit %s; %s; load average %s; ingest %s creators/s, index %s s, refresh %s s%s"
          % (label, notes.get("commit", "?"), notes.get("module", "?"),
             notes.get("load", "?"), notes.get("ingest", "?"),
             notes.get("index", "?"), notes.get("refresh", "?"),
             "; **%s**" % notes["invalid"] if "invalid" in notes else ""))
EOF
)

HEADING="### $START_DATE, before/after (bench/compare.sh): base $BASE_SHORT against $NEW_SHORT${NEW_STATE:+ (working tree)}, matching, N=$N"
REPORT=$(cat <<EOF
$HEADING

- command: \`$COMMAND\`
- base: $BASE_COMMIT, built in build/base-worktree; new: the working tree at $NEW_COMMIT$NEW_STATE
- machine: $(nproc) CPUs ($(uname -m)), $(uname -sr); load average before: $LOAD_BEFORE; after: $LOAD_AFTER; shared with other work
- rows: bench/run.sh SCENARIO=match, -d$DURATION at 2 x 64 (return 200, GET creator, POST assignment, history, cached match), -d$MATCH_DURATION at 1 x 2 (uncached match, search: one request at a time per connection, latency) and at $C8_THREADS x $C8_CONNECTIONS (the last row: queueing on 2 workers); (0.98x): rps relative to base (in the last row, run=pool relative to run=loop unless C8_BASE=1 ran base too)
- wall time: $(( ELAPSED / 60 )) min $(( ELAPSED % 60 )) s in all (runs: ${DONE[*]}; builds included)

$TABLE
EOF
)

printf '\n%s\n\n' "$REPORT"

failed=0
for label in "${DONE[@]}"; do
    [[ ${STATUS[$label]} == ok ]] || failed=1
done
if (( failed )); then
    say "a run failed: not appended to ${RESULTS#"$ROOT"/}"
    exit 1
fi
if [[ $APPEND != 0 ]]; then
    if ! grep -q '^## Before and after' "$RESULTS" 2> /dev/null; then
        cat >> "$RESULTS" <<'EOF'

## Before and after (`bench/compare.sh`, `make bench-compare`)

One command measures an older commit's module (BASE, built in a git
worktree) and the working tree's, one after the other on the same box,
so that a regression shows against numbers from the same minutes:

    bench/compare.sh                    # BASE=8e534c0 N=100000

Each column is its own `SCENARIO=match bench/run.sh` (its own nginx,
store, ingest, index build and refresh, then the rows, 10 s each);
`run=loop` and `run=pool` are `matcher_vectors`' new parameter: each
vector search on the event loop, or on the thread pool.  The last row is
the uncached match again at 2 threads x 8 connections, in two more runs
(`ONLY=match-uncached`), where searches queue on the 2 workers: on the
loop they wait behind each other, on the pool they overlap.  Every run's
full table (memory too) is in `bench/out/compare/`.
EOF
    fi
    printf '\n%s\n' "$REPORT" >> "$RESULTS"
    say "appended to ${RESULTS#"$ROOT"/}"
fi
say "done in $(( ELAPSED / 60 )) min $(( ELAPSED % 60 )) s"
