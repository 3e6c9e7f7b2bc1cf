#!/usr/bin/env bash
# Runs the cmocka test binaries given as arguments; prints each binary's
# output only when it fails, then one "unit: N passed, N failed" line
# counting test cases.
set -uo pipefail

pass=0
fail=0
for t in "$@"; do
    out=$("$t" 2>&1)
    rc=$?
    run=$(printf '%s\n' "$out" | sed -n 's/^\[==========\] \([0-9]*\) test(s) run\./\1/p')
    bad=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test(s).*/\1/p')
    run=${run:-0}
    bad=${bad:-0}
    if [ $rc -ne 0 ] && [ "$bad" -eq 0 ]; then
        bad=1        # crashed or a sanitizer stopped it
    fi
    pass=$((pass + run - bad))
    fail=$((fail + bad))
    if [ $rc -ne 0 ]; then
        printf '%s: FAILED\n%s\n' "$t" "$out"
    else
        printf '%s: %s tests\n' "$(basename "$t")" "$run"
    fi
done

echo "unit: $pass passed, $fail failed"
[ $fail -eq 0 ]
