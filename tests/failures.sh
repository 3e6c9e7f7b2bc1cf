#!/usr/bin/env bash
# Names what failed, one short line each, so that the last lines of a
# "make test" (all a CI page may keep) say which test to look at: the
# failed cmocka cases, then prove's failed blocks and files.
for log in "$@"; do
    [ -f "$log" ] || continue
    name=$(basename "$log" .log)
    grep -h '^\[  FAILED  \] [a-z]' "$log" | sed "s|^|$name: |" | head -8
    grep -h "^#   Failed test '" "$log" \
        | sed "s|^#   Failed test '\\(.*\\)'$|$name: \\1|" | sort -u | head -8
    sed -n '/^Test Summary Report/,/^Files=/p' "$log" \
        | grep -v '^Test Summary\|^---\|^Files=' | sed "s|^ *|$name: |" \
        | head -8
done
