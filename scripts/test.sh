#!/usr/bin/env bash
# Installs what is missing (as root), builds in build/ and runs every test through ctest:
# unit, integration and browser tests (Debian's chromium driven by npm's playwright-core).
set -euo pipefail
source "$(dirname "$0")/common.sh"
build
ensure_browser_test_tools
cd "$BUILD"
ctest --output-on-failure -j2 "$@"
