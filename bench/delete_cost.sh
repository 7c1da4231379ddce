#!/usr/bin/env bash
# What deleting one document costs now that a delete leaves no copy of it on disk: `index
# delete` commits in place and then rewrites the index compacted into a new version
# (docs/privacy.md, "Deleted data on disk"). Numbers in bench/RESULTS.md ("Deleting one
# document").
#
#   bench/delete_cost.sh                  # a generated corpus of DOCS (40,000) documents
#   bench/delete_cost.sh corpus.jsonl.gz  # a BEIR corpus ({"_id","title","text"}), e.g. SciFact
#
# One run: converts or generates the NDJSON, builds an index (one thread), then deletes RUNS
# (3) single documents one after the other, timing each `index delete` (wall clock, the whole
# process), and prints the index size before and after, and that the deleted document's unique
# word is in no file under the index afterwards.
#
# Env: BUILD build directory (default <repo>/build); DOCS generated documents; RUNS deletes;
#      KEEP=1 keeps the work folder.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
build=${BUILD:-$repo/build}
[[ $build == /* ]] || build=$PWD/$build
mixi=${MIXI_BIN:-$build/cli/mixi-search}
docs=${DOCS:-40000}
runs=${RUNS:-3}
[[ -x $mixi ]] || { echo "no $mixi: build first" >&2; exit 1; }
work=$(mktemp -d /tmp/mixi-delete-cost.XXXXXX)
[[ ${KEEP:-0} == 1 ]] || trap 'rm -rf "$work"' EXIT

# Each document gets a unique word (uniqueNNNNN) to look for on disk after its delete.
if [[ $# -ge 1 ]]; then
    zcat -f "$1" | jq -c '{id: ._id, title: .title, body: (.text + " unique" + ._id),
                          type: "article", lang: "en", visibility: "public"}' >"$work/corpus.ndjson"
else
    python3 - "$docs" >"$work/corpus.ndjson" <<'PY'
import json, random, sys
random.seed(7)
words = [''.join(random.choice('abcdefghijklmnopqrstuvwxyz') for _ in range(random.randint(3, 10)))
         for _ in range(30000)]
weights = [1 / (i + 1) for i in range(len(words))]  # Zipf-like
for i in range(int(sys.argv[1])):
    body = random.choices(words, weights, k=random.randint(80, 300))
    print(json.dumps({"id": f"d{i}", "title": ' '.join(random.choices(words, weights, k=6)),
                      "body": ' '.join(body) + f" unique{i}", "type": "article", "lang": "en",
                      "visibility": "public"}))
PY
fi
n=$(wc -l <"$work/corpus.ndjson")
ids=$(jq -r .id "$work/corpus.ndjson" | awk -v n="$n" -v r="$runs" 'NR % int(n / r) == 1' | head -n "$runs")

seconds() { date +%s.%N; }
t0=$(seconds)
"$mixi" index build --index "$work/index" "$work/corpus.ndjson" >/dev/null
t1=$(seconds)
size() { du -sk "$work/index" | cut -f1; }
printf 'corpus: %s documents, %s MB of NDJSON\n' "$n" "$(($(stat -c %s "$work/corpus.ndjson") / 1048576))"
printf 'build: %.1f s, index %s MB\n' "$(echo "$t1 - $t0" | bc)" "$(($(size) / 1024))"
files_with() { grep -rl --binary-files=binary "unique${1#d}\b" "$work/index" | wc -l || true; }
for id in $ids; do
    before=$(files_with "$id")
    t0=$(seconds)
    "$mixi" index delete --index "$work/index" "$id" >/dev/null
    t1=$(seconds)
    printf 'delete %s: %.2f s, index %s MB, files with its unique word: %s before, %s after\n' \
        "$id" "$(echo "$t1 - $t0" | bc)" "$(($(size) / 1024))" "$before" "$(files_with "$id")"
done
