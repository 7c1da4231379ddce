#!/usr/bin/env bash
# Installs what is missing (as root), builds, indexes the bundled sample site in data/, runs a
# few example queries, then serves the site on 127.0.0.1:8080 until Ctrl-C.
# MIXI_DEMO_PORT picks another port; MIXI_DEMO_SERVE=0 stops after the example queries.
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

[ "${MIXI_DEMO_SERVE:-1}" = 0 ] && exit 0
PORT="${MIXI_DEMO_PORT:-8080}"
cat <<EOF2

== serving the sample site on http://127.0.0.1:$PORT (Ctrl-C stops)
   search page:  http://127.0.0.1:$PORT/
   curl 'http://127.0.0.1:$PORT/v1/search?q=photography+tips'
   curl 'http://127.0.0.1:$PORT/v1/search?q=%E5%AF%8C%E5%A3%AB%E5%B1%B1&type=photo'   # 富士山, photos only
   curl 'http://127.0.0.1:$PORT/v1/suggest?q=pho'
   curl 'http://127.0.0.1:$PORT/healthz'
   curl -X POST -H 'Content-Type: text/plain' -d '{"id":"a-001"}' 'http://127.0.0.1:$PORT/v1/views'   # a page view
EOF2
exec "$BIN" serve --address 127.0.0.1 --port "$PORT" --index "$INDEX" --web-root "$ROOT/web" \
    --data "$ROOT/var/demo-data"
