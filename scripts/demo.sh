#!/usr/bin/env bash
# Installs what is missing (as root), builds, indexes the bundled sample site in data/ and
# runs a few example queries.
set -euo pipefail
source "$(dirname "$0")/common.sh"
build
BIN="$BUILD/cli/mixi-search"
INDEX="$ROOT/var/demo-index"
mkdir -p "$ROOT/var"

echo "== indexing the sample site (data/site: 5 languages) and data/sample.ndjson"
"$BIN" index build --index "$INDEX" --threads 2 "$ROOT/data/site" "$ROOT/data/sample.ndjson"
"$BIN" index stats --index "$INDEX"

run() {
    echo
    echo "== mixi-search query $*"
    "$BIN" query --index "$INDEX" --format table "$@"
}
run "photography tips"
run 東京都で写真
run "package management" --lang en
run 'apt -"source list"' type:article
run photgraphy
