#!/usr/bin/env bash
# How cost grows with the collection: N generated site records (bench/gen/gen_records.py)
# built, updated and searched.
#
#   bench/scale.sh N
#
# 1. Generates N records into $WORK/records.ndjson (kept between runs of the same N).
# 2. Builds the index with `index build --threads T` for each T in THREADS (default "1 2"),
#    each under /usr/bin/time -v: wall, CPU (user+sys), records/s, input MB/s, peak RSS, index
#    size (du -sb of the version `current` points to) and bytes per record.
# 3. `index update` of 1% of the records (the same ids, new text; gen_records.py --edit):
#    time, the version directory before and after (the same: updated in place) and the size
#    change.
# 4. Searches the query mix of bench/gen/queries.py in process (scale_query: per class p50,
#    p99, max, cold and warm; prefixes also as bare Xapian wildcards) and over HTTP: wrk
#    against `mixi-search serve` (server.threads=2) with the search classes and with the
#    as-you-type prefixes, at 1 and 4 connections, and each prefix length alone at 1
#    connection; then the server's RSS.
# 5. For each S in SHARDS (default "2 4"): `index build --shards S --threads 2`, and the same
#    in-process mix over the S local shards searched as one.
#
# Env: BUILD (default build) holds cli/mixi-search and bench/scale_query; WORK (default
#      /tmp/mixi-scale-N); THREADS, SHARDS as above ("" skips); DURATION wrk seconds (10);
#      REPS warm passes of scale_query (3); PER_CLASS queries per class (100); REUSE=1
#      keeps an index built by an earlier run (and its timing) instead of building it again.
# The machine's other load moves wall times: CPU time is printed beside them, and
# /proc/loadavg at each step.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
. "$here/lib.sh"
n=${1:-}
check_int N "$n" 1 100000000
build=${BUILD:-$repo/build}
mixi=$build/cli/mixi-search
sq=$build/bench/scale_query
work=${WORK:-/tmp/mixi-scale-$n}
threads=${THREADS-1 2}
shards=${SHARDS-2 4}
duration=${DURATION:-10}
reps=${REPS:-3}
per_class=${PER_CLASS:-100}
[[ -x $mixi && -x $sq ]] || die "build mixi-search and scale_query first (cmake --build $build --target mixi-search scale_query)"
command -v wrk >/dev/null || die "wrk not found"
[[ -x /usr/bin/time ]] || die "/usr/bin/time not found (apt-get install time)"
mkdir -p "$work"
mixi_pid=
trap 'stop_pid "$mixi_pid"' EXIT

load() { cut -d' ' -f1-3 /proc/loadavg; }
say() { echo "[$(date -u +%H:%M:%S) load $(load)] $*"; }

records=$work/records.ndjson
if [[ ! -s $records ]] || (($(wc -l <"$records") != n)); then
    say "generating $n records"
    python3 "$repo/bench/gen/gen_records.py" "$n" >"$records"
fi
bytes=$(stat -c %s "$records")
say "records: $n, $bytes bytes"

# timed NAME CMD...: runs CMD under /usr/bin/time -v; prints one RESULT line.
timed() {
    local name=$1
    shift
    /usr/bin/time -v -o "$work/$name.time" "$@" >"$work/$name.out" 2>"$work/$name.err" ||
        die "$name failed: $(tail -3 "$work/$name.err")"
    awk -F': ' -v name="$name" -v n="$n" -v bytes="$bytes" '
        /User time/ {u = $2} /System time/ {s = $2} /Maximum resident/ {rss = $2}
        /Elapsed \(wall clock\)/ {k = split($2, p, ":"); w = 0; for (i = 1; i <= k; i++) w = w * 60 + p[i]}
        END {printf "RESULT %s wall_s=%.2f cpu_s=%.2f records_per_s=%.0f mb_per_s=%.2f peak_rss_mb=%.0f\n",
                    name, w, u + s, n / w, bytes / 1e6 / w, rss / 1024}' "$work/$name.time"
}

size_of() { du -sb "$(readlink -f "$1/current")" | cut -f1; }
sharded_size() { du -sb "$1" | cut -f1; }

# ---------------------------------------------------------------- builds
# timed_again NAME: the RESULT line of an earlier timed run (REUSE=1).
timed_again() {
    awk -F': ' -v name="$1" -v n="$n" -v bytes="$bytes" '
        /User time/ {u = $2} /System time/ {s = $2} /Maximum resident/ {rss = $2}
        /Elapsed \(wall clock\)/ {k = split($2, p, ":"); w = 0; for (i = 1; i <= k; i++) w = w * 60 + p[i]}
        END {printf "RESULT %s wall_s=%.2f cpu_s=%.2f records_per_s=%.0f mb_per_s=%.2f peak_rss_mb=%.0f (earlier run)\n",
                    name, w, u + s, n / w, bytes / 1e6 / w, rss / 1024}' "$work/$1.time"
}

for t in $threads; do
    if [[ ${REUSE:-0} == 1 && -e $work/idx-t$t/current && -s $work/build_t$t.time ]]; then
        timed_again "build_t$t"
    else
        say "index build --threads $t"
        rm -rf "$work/idx-t$t"
        timed "build_t$t" "$mixi" index build --quiet --threads "$t" --index "$work/idx-t$t" "$records"
    fi
    s=$(size_of "$work/idx-t$t")
    echo "RESULT build_t$t index_bytes=$s bytes_per_record=$((s / n))"
done
last=$(for t in $threads; do echo "$t"; done | tail -1)
index=$work/idx-t${last:-2}
[[ -e $index/current ]] || { rm -rf "$index"; timed build_t2 "$mixi" index build --quiet --threads 2 --index "$index" "$records"; }

# ---------------------------------------------------------------- update 1%
edits=$((n / 100 > 0 ? n / 100 : 1))
python3 "$repo/bench/gen/gen_records.py" "$edits" --edit >"$work/edits.ndjson"
before_dir=$(readlink -f "$index/current")
before_size=$(size_of "$index")
say "index update of $edits records"
timed update "$mixi" index update --quiet --threads 2 --index "$index" "$work/edits.ndjson"
after_dir=$(readlink -f "$index/current")
after_size=$(size_of "$index")
echo "RESULT update records=$edits same_version=$([[ $before_dir == "$after_dir" ]] && echo yes || echo no) version=$(basename "$after_dir") bytes_before=$before_size bytes_after=$after_size change_pct=$(awk -v a="$before_size" -v b="$after_size" 'BEGIN {printf "%.2f", (b - a) * 100 / a}')"

# ---------------------------------------------------------------- queries
queries=$work/queries.tsv
python3 "$repo/bench/gen/queries.py" --per-class "$per_class" >"$queries"
say "in process, one index"
"$sq" --index "$index" --queries "$queries" --reps "$reps" | sed 's/^/  /'
say "in process, prefixes as bare Xapian wildcards"
"$sq" --index "$index" --queries "$queries" --reps "$reps" --mode wildcard | sed 's/^/  /'

# ---------------------------------------------------------------- HTTP
awk -F'\t' '$1 !~ /^prefix/ {print "/v1/" $2 "?" $3}' "$queries" >"$work/mix.paths"
awk -F'\t' '$1 ~ /^prefix/ {print "/v1/" $2 "?" $3}' "$queries" >"$work/prefix.paths"
for k in 1 2 3 4 5 6; do
    awk -F'\t' -v c="prefix$k" '$1 == c {print "/v1/" $2 "?" $3}' "$queries" >"$work/prefix$k.paths"
done
start_serve "$work" --index "$index" --data "$work/var" --set server.threads=2 \
    --set server.access_log=false --set limits.rate_per_second=0 \
    --set limits.connections_per_client=0 --set limits.requests_per_connection=1000000000
say "serving $index at $mixi_url (pid $mixi_pid)"
wrk_run() { # NAME CONNS PATHS SECONDS
    LOAD_PATHS=$3 wrk -t1 -c"$2" -d"$4"s -s "$here/load/requests.lua" "$mixi_url" 2>&1 |
        sed -n "s/^RESULT /RESULT http_$1_c$2 /p"
}
wrk_run mix 1 "$work/mix.paths" 3 >/dev/null # warm-up
wrk_run prefix 1 "$work/prefix.paths" 3 >/dev/null
for c in 1 4; do
    say "wrk -c$c"
    wrk_run mix "$c" "$work/mix.paths" "$duration"
    wrk_run prefix "$c" "$work/prefix.paths" "$duration"
done
for k in 1 2 3 4 5 6; do
    wrk_run "prefix$k" 1 "$work/prefix$k.paths" 3
done
echo "RESULT server_rss_mb=$(awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$mixi_pid/status") peak_mb=$(awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$mixi_pid/status")"
stop_pid "$mixi_pid"
mixi_pid=

# ---------------------------------------------------------------- shards
for s in $shards; do
    if [[ ${REUSE:-0} == 1 && -e $work/idx-s$s/shards && -s $work/build_shards$s.time ]]; then
        timed_again "build_shards$s"
    else
        say "index build --shards $s --threads 2"
        rm -rf "$work/idx-s$s"
        timed "build_shards$s" "$mixi" index build --quiet --shards "$s" --threads 2 --index "$work/idx-s$s" "$records"
    fi
    echo "RESULT build_shards$s index_bytes=$(sharded_size "$work/idx-s$s")"
    say "in process, $s local shards"
    "$sq" --index "$work/idx-s$s" --queries "$queries" --reps "$reps" | sed 's/^/  /'
done
say "done"
