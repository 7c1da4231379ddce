#!/usr/bin/env bash
# Installs what is missing (as root), builds, indexes the bundled sample site in data/, loads the
# bundled page-view counts and synonyms, runs a few example queries, then serves the search page on
# 127.0.0.1:8080 until Ctrl-C.
# MIXI_DEMO_PORT picks another port; MIXI_DEMO_SERVE=0 stops after the example queries.
set -euo pipefail
source "$(dirname "$0")/common.sh"
build
BIN="$BUILD/cli/mixi-search"
INDEX="$ROOT/var/demo-index"
DATA="$ROOT/var/demo-data"
GEOIP="$ROOT/data/geoip/GeoIP2-Country-Test.mmdb"
mkdir -p "$ROOT/var"

echo "== indexing the sample site (data/site: 5 languages) and data/sample.ndjson"
"$BIN" index build --index "$INDEX" --threads 2 "$ROOT/data/site" "$ROOT/data/sample.ndjson"
"$BIN" index stats --index "$INDEX"

# data/views.csv holds a few days of counts by country ending on its last day; they are moved to
# end today, so that the ranking's half-life (7 days) does not fade them away. Each run starts
# from these counts again (views counted by an earlier demo are dropped).
echo
echo "== loading the page-view counts of data/views.csv (by country, moved to end today)"
rm -rf "$DATA"
mkdir -p "$DATA"
last=$(cut -d, -f3 "$ROOT/data/views.csv" | sort | tail -n 1)
shift_days=$(( ($(date -u +%s) - $(date -u -d "$last" +%s)) / 86400 ))
sed_script=""
for day in $(cut -d, -f3 "$ROOT/data/views.csv" | sort -u); do
    sed_script+="s/,$day,/,$(date -u -d "$day + $shift_days days" +%F),/;"
done
sed "$sed_script" "$ROOT/data/views.csv" > "$DATA/views.csv"
"$BIN" views import --data "$DATA" --index "$INDEX" "$DATA/views.csv"
"$BIN" views stats --data "$DATA"

echo
echo "== importing the synonyms of data/synonyms.txt (写真, フォト, photo, ...)"
"$BIN" synonyms import --index "$INDEX" "$ROOT/data/synonyms.txt"

run() {
    echo
    echo "== mixi-search query $*"
    "$BIN" query --index "$INDEX" --data "$DATA" --format table "$@"
}
run "photography tips"
run 東京都で写真
run "package management" --lang en
run 'apt -"source list"' type:article
run photgraphy
run フォト
run 富士山 --country JP

[ "${MIXI_DEMO_SERVE:-1}" = 0 ] && exit 0
PORT="${MIXI_DEMO_PORT:-8080}"
URL="http://127.0.0.1:$PORT"
cat <<EOF2

== serving the sample site on $URL/ (Ctrl-C stops)

   Open $URL/ and try:
     photography tips        (English: highlighted snippets, type and language facets)
     東京都で写真             (Japanese: the photo p-001 and Japanese pages)
     フォト                   (synonyms, data/synonyms.txt: also finds 写真 and photo, below)
     apt                     (the Debian pages in five languages; pick a language facet)

   Regions: the demo uses MaxMind's *test* GeoIP database (data/geoip/), which knows only a few
   test networks, so a browser on 127.0.0.1 has no region (ZZ) and gets no regional boost. The
   demo trusts 127.0.0.1 as a proxy, so curl can speak for a test address of Japan:
     curl -H 'X-Forwarded-For: 2001:218::1' '$URL/v1/search?q=%E5%AF%8C%E5%A3%AB%E5%B1%B1'   # 富士山 from JP
     curl '$URL/v1/suggest?q=pho'
     curl -X POST -H 'Content-Type: text/plain' -d '{"id":"a-001"}' '$URL/v1/views'   # a page view
     curl '$URL/opensearch.xml'   # lets a browser add this search
EOF2
exec "$BIN" serve --address 127.0.0.1 --port "$PORT" --index "$INDEX" --web-root "$ROOT/web" \
    --data "$DATA" --set "geoip.database=$GEOIP" --set server.trusted_proxies=127.0.0.1
