#!/bin/sh
# The ANN benchmark (bench/ann/README.md): builds the programs, makes the
# data of N creators (once: kept in bench/out/ann-N/), runs ours, hnswlib
# and faiss one after the other, single-threaded, and writes the table
# to bench/ann/results-N.md.  From anywhere:
#
#   bench/ann/run.sh [N]            (default 100000)
#
# Environment (all optional):
#   ANN_Q=1000          queries a query set
#   ANN_ONLY="ours hnsw faiss"   which to run
#   ANN_REGEN=1         make the data again even when it is there
#   ANN_GEN_THREADS=    gen.c's threads (default 1 below N 500000, else 2)
#   ANN_WARMUP=100      queries run untimed before each configuration
#   OURS_LISTS=         IVF lists (default sqrt(N) to a power of two)
#   OURS_GRAPH_M=16     graph_m, when lib/vindex.h has the graph mode
#   OURS_GRAPH_EFC=     graph_efc (default: the library's)
#   HNSW_M=16,32  HNSW_EFC=100 (e.g. 100,200)
#   FAISS_M=32  FAISS_EFC=100  FAISS_NLIST= (default round(4 sqrt(N)))
#   FAISS_SKIP=hnsw|ivf  leave out one of faiss's two indexes
#   CC=gcc CXX=g++

set -eu

N=${1:-100000}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/bench/ann
BIN=$ROOT/bench/out/ann-bin
DATA=$ROOT/bench/out/ann-$N
CC=${CC:-gcc}
CXX=${CXX:-g++}
Q=${ANN_Q:-1000}
ONLY=${ANN_ONLY:-ours hnsw faiss}
WARMUP=${ANN_WARMUP:-100}

# one thread for every library (OpenMP, OpenBLAS)
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE

mkdir -p "$BIN" "$DATA"
cd "$ROOT"

note() { echo "run.sh: $*" >&2; }

# ours: as the module compiles lib/ (Makefile MODULE_CFLAGS: -O2, no -march)
OURS_CFLAGS="-std=c11 -D_POSIX_C_SOURCE=200809L -g -O2"
# gen.c: -march=native for the brute-force ground truth only; the
# embedder (lib/embed.c) and the texts as the module builds them
GEN_CFLAGS_MAIN="-std=c11 -D_POSIX_C_SOURCE=200809L -O2 -march=native"
HNSW_CXXFLAGS="-std=c++17 -O2 -march=native"
FAISS_CXXFLAGS="-std=c++17 -O2 -fopenmp"

have_pkgs() {
    [ -f /usr/include/hnswlib/hnswlib.h ] \
        && [ -f /usr/include/faiss/IndexHNSW.h ] \
        && { [ -e /usr/lib/x86_64-linux-gnu/libopenblas.so ] \
             || [ -e /usr/lib/x86_64-linux-gnu/libblas.so ]; }
}

case " $ONLY " in
*" hnsw "*|*" faiss "*)
    if ! have_pkgs; then
        note "installing libhnswlib-dev libfaiss-dev libopenblas-dev"
        SUDO=
        [ "$(id -u)" = 0 ] || SUDO=sudo
        $SUDO apt-get install -y libhnswlib-dev libfaiss-dev \
            libopenblas-dev >&2 \
            || { $SUDO apt-get update >&2 \
                 && $SUDO apt-get install -y libhnswlib-dev libfaiss-dev \
                        libopenblas-dev >&2; } \
            || note "apt-get failed: hnswlib/faiss may be skipped"
    fi
    ;;
esac

# build
note "building in $BIN"

$CC $GEN_CFLAGS_MAIN -Ilib -Itests/unit -c "$HERE/gen.c" -o "$BIN/gen.o"
$CC $OURS_CFLAGS -Ilib -Itests/unit "$BIN/gen.o" lib/embed.c lib/util.c \
    tests/unit/gen_text.c -lm -lpthread -o "$BIN/gen"

OURS_OK=0
case " $ONLY " in
*" ours "*)
    # the lib/*.c that lib/vindex.h and lib/filter.h need, as
    # bench/vindex_bench.c lists them
    if $CC $OURS_CFLAGS -Ilib -I"$HERE" "$HERE/ours.c" lib/vindex*.c \
        lib/embed.c lib/filter.c lib/json.c lib/json_write.c lib/util.c \
        lib/model.c lib/model_check.c lib/creator.c lib/oid.c \
        $(pkg-config --cflags --libs yajl) -lm -lpthread -o "$BIN/ours"
    then
        OURS_OK=1
    else
        note "ours does not compile (lib/vindex* being edited?): skipped"
    fi
    ;;
esac

HNSW_OK=0
case " $ONLY " in
*" hnsw "*)
    if $CXX $HNSW_CXXFLAGS -I"$HERE" "$HERE/hnsw.cpp" -lpthread \
        -o "$BIN/hnsw"
    then
        HNSW_OK=1
    else
        note "hnswlib: does not compile: skipped"
    fi
    ;;
esac

FAISS_OK=0
case " $ONLY " in
*" faiss "*)
    if $CXX $FAISS_CXXFLAGS -I"$HERE" "$HERE/faiss.cpp" -lfaiss -lblas \
        -llapack -lpthread -o "$BIN/faiss"
    then
        FAISS_OK=1
    else
        note "faiss: does not compile: skipped"
    fi
    ;;
esac

# data
if [ "${ANN_REGEN:-0}" = 1 ] || ! [ -f "$DATA/brief.gt" ] \
    || ! [ -f "$DATA/self.gt" ] || ! [ -f "$DATA/meta.tsv" ] \
    || ! grep -q "^n $N\$" "$DATA/info.txt" 2>/dev/null \
    || ! grep -q "^queries $Q\$" "$DATA/info.txt" 2>/dev/null
then
    note "generating N=$N Q=$Q into $DATA"
    rm -f "$DATA"/*.tsv "$DATA"/*.log
    "$BIN/gen" -n "$N" -q "$Q" ${ANN_GEN_THREADS:+-t "$ANN_GEN_THREADS"} \
        "$DATA"
else
    note "reusing the data in $DATA (ANN_REGEN=1 to make it again)"
fi

# runs, one after the other: each single-threaded
if [ "$OURS_OK" = 1 ]; then
    note "ours"
    "$BIN/ours" -w "$WARMUP" ${OURS_LISTS:+-l "$OURS_LISTS"} \
        -g "${OURS_GRAPH_M:-16}" ${OURS_GRAPH_EFC:+-e "$OURS_GRAPH_EFC"} \
        "$DATA" > "$DATA/ours.tsv" 2> "$DATA/ours.log" \
        || note "ours failed: see $DATA/ours.log"
    echo "# compiled: $CC $OURS_CFLAGS (as the module: no -march)" \
        >> "$DATA/ours.tsv"
fi

if [ "$HNSW_OK" = 1 ]; then
    note "hnswlib"
    "$BIN/hnsw" -w "$WARMUP" -m "${HNSW_M:-16,32}" -c "${HNSW_EFC:-100}" \
        "$DATA" > "$DATA/hnsw.tsv" 2> "$DATA/hnsw.log" \
        || note "hnswlib failed: see $DATA/hnsw.log"
    echo "# compiled: $CXX $HNSW_CXXFLAGS (hnswlib's SIMD needs -march)" \
        >> "$DATA/hnsw.tsv"
fi

if [ "$FAISS_OK" = 1 ]; then
    note "faiss"
    "$BIN/faiss" -w "$WARMUP" -m "${FAISS_M:-32}" -c "${FAISS_EFC:-100}" \
        ${FAISS_NLIST:+-l "$FAISS_NLIST"} ${FAISS_SKIP:+-x "$FAISS_SKIP"} \
        "$DATA" > "$DATA/faiss.tsv" 2> "$DATA/faiss.log" \
        || note "faiss failed: see $DATA/faiss.log"
    echo "# compiled: $CXX $FAISS_CXXFLAGS, linked with Debian's" \
         "libfaiss.a (built for generic x86-64: scalar distances)" \
        >> "$DATA/faiss.tsv"
fi

/usr/bin/python3 "$HERE/table.py" "$N" "$DATA" > "$HERE/results-$N.md"
note "wrote bench/ann/results-$N.md"
