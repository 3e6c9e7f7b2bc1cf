#!/usr/bin/env bash
# Self-test of the test runner t/lib/Test/Nginx/Socket.pm.
#
# Runs every fixture tests/runner/*.t (or the ones given as arguments) with
# prove and checks the outcome its header comments declare:
#
#   # expect: pass | fail       required: how prove must end
#   # expect-output: REGEX      a Perl regex (multi-line mode) that the
#                               `prove -v` output must match; repeatable
#   # requires: COMMAND         skip the fixture when COMMAND is missing
#   # allow-leftovers: yes      the fixture may leave its server root behind
#
# After each fixture it also checks that no nginx process (nor valgrind) is
# left running and, unless allowed, that no temporary server root is left.
# Prints a "selftest: N passed, N failed, N skipped" line; exits non-zero
# when any fixture did not behave as declared.
#
# Usage: tests/runner/selftest.sh [tests/runner/FIXTURE.t ...]

set -u
cd "$(dirname "$0")/../.." || exit 2

# Each fixture declares its own mode (the valgrind ones set it in BEGIN):
# the caller's TEST_NGINX_* settings (make test under valgrind, a kept
# server root) would change what the fixtures are checked against.
for v in $(env | sed -n 's/^\(TEST_NGINX_[A-Z_]*\)=.*/\1/p'); do
    [ "$v" = TEST_NGINX_BINARY ] || [ "$v" = TEST_NGINX_LOAD_MODULES ] \
        || unset "$v"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/nginx-runner-selftest.XXXXXX") || exit 2
trap 'rm -rf "$work"' EXIT

if [ $# -gt 0 ]; then
    fixtures=("$@")
else
    fixtures=(tests/runner/*.t)
fi

passed=0 failed=0 skipped=0

# Processes whose command line or working directory is under $1 (nginx
# workers rewrite their command line, but keep the server root as cwd).
procs_under() {
    perl -e '
        my $dir = shift;
        for my $p (glob "/proc/[0-9]*") {
            my ($pid) = $p =~ m{(\d+)$};
            next if $pid == $$;
            my $cwd = readlink("$p/cwd") // "";
            open my $fh, "<", "$p/cmdline" or next;
            my $cmd = do { local $/; <$fh> } // "";
            print "$pid " if index($cwd, $dir) == 0 || index($cmd, $dir) >= 0;
        }' "$1"
}

header() {   # header FILE KEY -> values of "# KEY: value" lines
    sed -n "s/^# $2: *//p" "$1"
}

for t in "${fixtures[@]}"; do
    name=$(basename "$t" .t)
    expect=$(header "$t" expect | head -n 1)
    problems=()

    missing=
    while IFS= read -r cmd; do
        [ -n "$cmd" ] && ! command -v "$cmd" >/dev/null 2>&1 && missing="$missing $cmd"
    done < <(header "$t" requires)
    if [ -n "$missing" ]; then
        echo "skip $name (missing:$missing)"
        skipped=$((skipped + 1))
        continue
    fi

    dir="$work/$name"
    mkdir -p "$dir"
    out="$dir/prove.out"
    TMPDIR="$dir" timeout 300 prove -v -I t/lib "$t" >"$out" 2>&1 </dev/null
    rc=$?

    case "$expect" in
        pass) [ "$rc" -eq 0 ] || problems+=("expected to pass, but prove exited with $rc") ;;
        fail) [ "$rc" -ne 0 ] || problems+=("expected to fail, but prove passed") ;;
        *)    problems+=("no valid '# expect: pass|fail' line") ;;
    esac
    [ "$rc" -eq 124 ] && problems+=("prove itself timed out")

    while IFS= read -r re; do
        [ -z "$re" ] && continue
        perl -e 'my $re = shift; local $/; my $t = <STDIN>; exit($t =~ /$re/m ? 0 : 1)' \
            "$re" <"$out" || problems+=("output does not match /$re/")
    done < <(header "$t" expect-output)

    # the watchdog of a killed test may need a moment to act
    left=
    for _ in $(seq 50); do
        left=$(procs_under "$dir")
        [ -z "$left" ] && break
        sleep 0.1
    done
    if [ -n "$left" ]; then
        problems+=("processes left running: $left")
        for pid in $left; do kill -KILL "$pid" 2>/dev/null; done
    fi

    if [ "$(header "$t" allow-leftovers)" != yes ] &&
       compgen -G "$dir/test-nginx-*" >/dev/null; then
        problems+=("temporary server root left behind: $(echo "$dir"/test-nginx-*)")
    fi

    if [ ${#problems[@]} -eq 0 ]; then
        echo "ok   $name (expected to $expect)"
        passed=$((passed + 1))
    else
        echo "FAIL $name"
        for p in "${problems[@]}"; do echo "     - $p"; done
        echo "     --- last lines of the prove output:"
        tail -n 25 "$out" | sed 's/^/     | /'
        failed=$((failed + 1))
    fi
done

echo "selftest: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
