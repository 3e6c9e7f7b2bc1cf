#!/usr/bin/env bash
# Installs the Debian packages the module needs to build, run and test.
# Quiet and quick when everything is there already; uses sudo when not
# root; never prompts (CI has no stdin).
set -euo pipefail

packages=(
    nginx-core nginx-dev libnginx-mod-http-ndk libnginx-mod-http-ndk-dev
    libyajl-dev liblmdb-dev libcmocka-dev libtest-base-perl
    libpcre2-dev libssl-dev zlib1g-dev pkg-config make gcc
    valgrind cppcheck clang-tidy wrk
)

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null \
            | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done

[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi

echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# keep the packaged nginx service from starting on port 80
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
    $sudo chmod +x /usr/sbin/policy-rc.d
    trap '$sudo rm -f /usr/sbin/policy-rc.d' EXIT
fi
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    >/dev/null
