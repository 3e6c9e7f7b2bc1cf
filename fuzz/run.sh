#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/fuzz_*.c against lib/) with clang,
# ASan and UBSan, and runs each for FUZZ_SECONDS (default 600).  Fails
# when any target finds a crash, a sanitizer report, a leak or a timeout;
# the input that did it is in build/fuzz/crashes/.
#
#   fuzz/run.sh                     build and run every target
#   fuzz/run.sh json query          only these
#   FUZZ_SECONDS=60 fuzz/run.sh     a short run
#   FUZZ_BUILD_ONLY=1 fuzz/run.sh   build, do not run
#
# The committed seeds (fuzz/corpus/<target>/) are read, never written:
# what a run finds goes to build/fuzz/corpus/<target>/, which later runs
# start from too.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

CC=${FUZZ_CC:-clang}
seconds=${FUZZ_SECONDS:-600}
out=build/fuzz
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(json query filter ingest)

san=(-fsanitize=address,undefined -fno-sanitize-recover=all
     -fno-omit-frame-pointer)
cflags=(-std=c11 -D_POSIX_C_SOURCE=200809L -g -O1 -Wall -Wextra -Werror
        -Ilib $(pkg-config --cflags yajl lmdb))
libs=($(pkg-config --libs yajl lmdb) -lm -lpthread)

mkdir -p "$out/obj" "$out/crashes"

# lib/ once, instrumented for coverage, as an archive: each target links
# only the objects it needs.  An object is rebuilt when its source or any
# header is newer.
newest_hdr=$(ls -t lib/*.h | head -1)
objs=()
for src in lib/*.c; do
    obj=$out/obj/$(basename "${src%.c}").o
    objs+=("$obj")
    if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] || [ "$newest_hdr" -nt "$obj" ]
    then
        "$CC" "${cflags[@]}" "${san[@]}" -fsanitize=fuzzer-no-link \
            -c "$src" -o "$obj" || exit 1
    fi
done
rm -f "$out/libmt.a"
ar rcs "$out/libmt.a" "${objs[@]}" || exit 1

for t in "${targets[@]}"; do
    if [ ! -f "fuzz/fuzz_$t.c" ]; then
        echo "fuzz: no target fuzz/fuzz_$t.c"
        exit 1
    fi
    "$CC" "${cflags[@]}" "${san[@]}" -fsanitize=fuzzer "fuzz/fuzz_$t.c" \
        "$out/libmt.a" "${libs[@]}" -o "$out/fuzz_$t" || exit 1
done

[ -n "${FUZZ_BUILD_ONLY:-}" ] && exit 0

status=0
for t in "${targets[@]}"; do
    mkdir -p "$out/corpus/$t"
    dict=()
    [ -f "fuzz/$t.dict" ] && dict=(-dict="fuzz/$t.dict")
    echo "fuzz: $t for ${seconds}s"
    # -timeout: one input taking 10 s is a hang, a failure like a crash
    if ! "$out/fuzz_$t" -max_total_time="$seconds" -detect_leaks=1 \
            -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
            -artifact_prefix="$out/crashes/$t-" "${dict[@]}" \
            "$out/corpus/$t" "fuzz/corpus/$t" > "$out/$t.log" 2>&1
    then
        echo "fuzz: $t FAILED; see $out/$t.log and $out/crashes/"
        grep -E "^==[0-9]+==ERROR|runtime error|^SUMMARY|Test unit written" \
            "$out/$t.log" | head -10
        status=1
    else
        grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb" \
            "$out/$t.log" | tr '\n' ' '
        echo
    fi
done

exit $status
