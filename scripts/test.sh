#!/usr/bin/env bash
# Installs what is missing (as root), builds in build/ and runs every test through ctest.
set -euo pipefail
source "$(dirname "$0")/common.sh"
build
cd "$BUILD"
ctest --output-on-failure -j2 "$@"
