#!/usr/bin/env bash
# One command for a fresh Debian 12 machine: install the packages, build
# the module against Debian's nginx, serve the embedded default in the
# foreground (PORT, DATA_DIR as in README.md).
set -euo pipefail
cd "$(dirname "$0")/.."

deploy/install-deps.sh
make -s build
exec deploy/run.sh
