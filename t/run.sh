#!/usr/bin/env bash
# Runs the nginx suites with prove and ends with one
# "nginx: N passed, N failed" line (counting tests, not files).
set -uo pipefail
cd "$(dirname "$0")/.."

# --label NAME: the summary line says "nginx (NAME)"
label=nginx
if [ "${1:-}" = --label ]; then
    label="nginx ($2)"
    shift 2
fi

# a request's wait (Test::Nginx's default is 3 s): a CI machine's first
# run, cold caches and all, may be several times slower than this box
export TEST_NGINX_TIMEOUT=${TEST_NGINX_TIMEOUT:-10}

log=$(mktemp)
trap 'rm -f "$log"' EXIT

prove -r "${@:-t/}" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}

total=$(sed -n 's/^Files=[0-9]*, Tests=\([0-9]*\),.*/\1/p' "$log")
failed=$(sed -n 's/.*Failed: \([0-9]*\)).*/\1/p' "$log" \
         | awk '{ s += $1 } END { print s + 0 }')
total=${total:-0}
if [ $rc -ne 0 ] && [ "$failed" -eq 0 ]; then
    failed=1         # a file died before its plan
fi

echo "$label: $((total - failed)) passed, $failed failed"
exit $rc
