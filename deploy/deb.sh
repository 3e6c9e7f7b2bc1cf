#!/usr/bin/env bash
# Builds the Debian package libnginx-mod-http-matcher (debian/) into
# build/deb/.  dpkg-buildpackage writes its .deb files to the parent of
# the tree it builds, so the tree is a copy, build/deb/src, of what the
# package is made of (config, module/, lib/, debian/, html/): the files
# git tracks plus the ones it does not ignore, uncommitted changes
# included.  Neither the repository nor its parent directory is written.
# Quiet unless it fails; the full output is in build/deb/build.log.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
out="$repo/build/deb"
src="$out/src"

# the package's sources, one a line
sources() {
    (cd "$repo"
     git ls-files --cached --others --exclude-standard \
         config module lib debian html | sort -u \
         | while IFS= read -r f; do [ -f "$f" ] && echo "$f"; done)
}
# their names and contents, and this script's, as build/deb/sources.sha256
# holds them for the last build: tests/deb.sh reuses a build whose
# digest is today's (a file changed, added or deleted is a new one)
digest() {
    (cd "$repo" && { sources; echo deploy/deb.sh; } | xargs -d '\n' sha256sum)
}
case "${1:-}" in
    --sources) sources; exit 0 ;;
    --digest)  digest; exit 0 ;;
esac

rm -rf "$out"
mkdir -p "$src"
digest > "$out/sources.tmp"
sources | (cd "$repo" && tar -cf - -T -) | tar -C "$src" -xf -

cd "$src"
if ! nice -n 19 dpkg-buildpackage -b -us -uc > "$out/build.log" 2>&1; then
    tail -40 "$out/build.log"
    echo "deploy/deb.sh: dpkg-buildpackage failed (build/deb/build.log)" >&2
    exit 1
fi
mv "$out/sources.tmp" "$out/sources.sha256"
ls "$out"/*.deb
