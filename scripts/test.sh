#!/usr/bin/env bash
# Installs what is missing (as root), builds in build/ and runs every test through ctest:
# unit, integration and browser tests (Debian's chromium driven by npm's playwright-core), then
# the cluster demo's suggestions (scripts/cluster-demo.sh with MIXI_CLUSTER_SERVE=0).
# Then the sanitizer stage (docs/robustness.md): builds build-san/ (clang, AddressSanitizer +
# UndefinedBehaviorSanitizer, the libFuzzer targets), runs the unit, integration and fuzz
# regression tests there (not the browser tests) and fuzzes each target for MIXI_FUZZ_SECONDS
# (default 10). MIXI_SKIP_SANITIZERS=1 skips that stage.
# The analytics tests run on SQLite and on PostgreSQL: a throwaway cluster (postgresql-15, its
# own data directory under /tmp, port 55432, run as a user who is not root) is started first and
# stopped at the end (start_test_postgres in common.sh). MIXI_TEST_POSTGRES set beforehand (a URI
# of a cluster where the tests may create databases) is used instead.
set -euo pipefail
source "$(dirname "$0")/common.sh"
build
ensure_browser_test_tools
[ -n "${MIXI_TEST_POSTGRES:-}" ] || start_test_postgres
(cd "$BUILD" && ctest --output-on-failure -j2 "$@")
echo "== scripts/cluster-demo.sh, its suggestions tried (MIXI_CLUSTER_SERVE=0)"
MIXI_CLUSTER_SERVE=0 "$ROOT/scripts/cluster-demo.sh"
if [ "${MIXI_SKIP_SANITIZERS:-0}" = 1 ]; then
    echo "== sanitizer stage skipped (MIXI_SKIP_SANITIZERS=1)"
    exit 0
fi
echo "== sanitizer stage in build-san (clang, AddressSanitizer, UndefinedBehaviorSanitizer, libFuzzer)"
build_sanitized
(cd "$SAN_BUILD" && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --output-on-failure -j2 -E '^browser[.]' "$@")
"$ROOT/scripts/fuzz.sh" "${MIXI_FUZZ_SECONDS:-10}"
