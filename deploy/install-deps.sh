#!/usr/bin/env bash
# Installs the Debian packages the module needs to build, run and test.
# Quiet and quick when everything is there already; uses sudo when not
# root; never prompts (CI has no stdin).
set -euo pipefail

packages=(
    nginx-core nginx-dev libnginx-mod-http-ndk libnginx-mod-http-ndk-dev
    libyajl-dev liblmdb-dev libcmocka-dev libtest-base-perl
    libpcre2-dev libssl-dev zlib1g-dev libcurl4-openssl-dev libmongoc-dev
    pkg-config make gcc
    valgrind cppcheck clang-tidy wrk
    python3 python3-bson python3-pymongo nodejs npm ca-certificates
    prometheus chromium
    debhelper dpkg-dev lintian fakeroot curl
)
# prometheus: its promtool checks /metrics (t/073-metrics.t); chromium:
# the cross-site test's browser (t/074-browser.t); debhelper, dpkg-dev:
# the Debian package (make deb; nginx-dev has dh_nginx); lintian, curl
# and, when not root, fakeroot its checks (tests/deb.sh)

missing=()
for p in "${packages[@]}"; do
    # NodeSource's nodejs bundles npm (and Conflicts: npm)
    if [ "$p" = npm ] && command -v npm >/dev/null 2>&1; then
        continue
    fi
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null \
            | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done

if [ ${#missing[@]} -gt 0 ]; then
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
fi

# The official Node clients the faithfulness checks run against our test
# servers: OpenAI's and Pinecone's (t/050-remote-clients.t against
# t/remote/fake_remote.py) and MongoDB's driver (t/060-mongo-server.t
# against t/mongo/fake_mongo.py), installed from the committed
# package-lock.json when node_modules is missing or older than it.  And
# playwright-core, which drives Debian's chromium in t/074-browser.t.
repo="$(cd "$(dirname "$0")/.." && pwd)"
for clients in "$repo/t/remote/clients" "$repo/t/mongo/clients" \
               "$repo/t/browser"; do
    if [ ! -d "$clients/node_modules" ] \
            || [ "$clients/package-lock.json" -nt "$clients/node_modules" ]; then
        echo "npm ci in $clients"
        npm ci --prefix "$clients" --no-audit --no-fund --loglevel=error \
            >/dev/null
        touch "$clients/node_modules"
    fi
done
