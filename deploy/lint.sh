#!/usr/bin/env bash
# cppcheck and clang-tidy on our own sources (lib/, module/, tests/unit/).
# The module is checked with the include paths of the configured build.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -f build/nginx/objs/ngx_auto_config.h ] || make -s build >/dev/null

ngx=build/nginx
ngx_incs=(-I$ngx/src/core -I$ngx/src/event -I$ngx/src/event/modules
          -I$ngx/src/os/unix -I$ngx/src/http -I$ngx/src/http/modules
          -I$ngx/objs -Ilib -Imodule
          -I/usr/share/nginx-ndk/src/src -I/usr/share/nginx-ndk/src/objs
          $(pkg-config --cflags libmongoc-1.0))
lib_flags=(-std=c11 -D_POSIX_C_SOURCE=200809L -Ilib -Itests/unit
           $(pkg-config --cflags yajl cmocka lmdb libmongoc-1.0))

status=0

# variableScope: nginx style declares variables at the top of a block.
# run "$@", print what it says past its noise, fail when it says anything
check() {
    local out
    out=$("$@" 2>&1 | grep -vE '^[0-9]+ warnings? generated|^Suppressed|^Use -header|^$' || true)
    if [ -n "$out" ]; then
        printf '%s\n' "$out"
        status=1
    fi
}

check cppcheck --quiet --inline-suppr \
    --enable=warning,style,performance,portability \
    --suppress=variableScope --std=c11 -Ilib -Itests/unit lib/ tests/unit/

# nginx's macros confuse cppcheck's value flow: warnings only, with the
# real headers, so that it sees what the compiler sees.
check cppcheck --quiet --inline-suppr \
    --enable=warning,portability --suppress=missingIncludeSystem \
    -D__linux__ -DNGX_HAVE_THREADS=1 "${ngx_incs[@]}" module/

checks='-*,clang-analyzer-*,bugprone-*,-bugprone-easily-swappable-parameters'
checks+=',-bugprone-reserved-identifier,-bugprone-macro-parentheses'
checks+=',-bugprone-narrowing-conversions,-bugprone-assignment-in-if-condition'
checks+=',-clang-analyzer-security.insecureAPI.DeprecatedOrUnsafeBufferHandling'
checks+=',performance-*,-performance-no-int-to-ptr,portability-*'
checks+=',misc-redundant-expression'

# one clang-tidy per file, as many at once as there are cores: the
# analyzer is the slow part of lint.  A file found clean is remembered
# under a hash of itself, every header and the flags, so that a second
# run only analyses what changed (build/lint-cache; LINT_NOCACHE=1 skips).
cache=build/lint-cache
mkdir -p "$cache"
headers=$(cat lib/*.h module/*.h tests/unit/*.h | sha1sum | cut -c1-40)

tidy() {
    local flags=$1 f key todo=()
    shift
    for f in "$@"; do
        key=$( (cat "$f"; echo "$headers $checks $flags") | sha1sum | cut -c1-40)
        if [ -z "${LINT_NOCACHE:-}" ] && [ -f "$cache/$key" ]; then
            continue
        fi
        todo+=("$f:$key")
    done
    [ ${#todo[@]} -eq 0 ] && return 0
    printf '%s\n' "${todo[@]}" | xargs -P "$(nproc)" -I{} \
        sh -c 'f=${2%:*}; out=$(clang-tidy --quiet --checks="$1" "$f" -- $3 2>&1 \
                 | grep -vE "^[0-9]+ warnings? generated|^Suppressed|^Use -header|^$")
               if [ -n "$out" ]; then printf "%s\n" "$out"; else touch "$4/${2##*:}"; fi' \
        _ "$checks" {} "$flags" "$cache"
}

check tidy "${lib_flags[*]}" lib/*.c tests/unit/*.c
check tidy "${ngx_incs[*]}" module/*.c

[ $status -eq 0 ] && echo "lint: clean"
exit $status
