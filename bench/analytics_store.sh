#!/usr/bin/env bash
# The analytics store under search load: one `mixi-search serve` on SQLite (the default) against
# two servers sharing one PostgreSQL database, on the same machine and the same SciFact index.
# See bench/README.md ("analytics_store.sh") and bench/RESULTS.md.
#
#   bench/analytics_store.sh
#
# What one run does:
#   1. builds the SciFact index (query_bench) and the query list (load_helper) as load.sh does;
#   2. starts a throwaway PostgreSQL cluster (scripts/common.sh start_test_postgres, on port
#      $PG_PORT, as a user who is not root; stopped at the end);
#   3. REPS rounds; in each: one server on analytics.sqlite, wrk -t1 -c$CONNS for $DURATION s
#      on /v1/search (the query list, round-robin); then two servers on one PostgreSQL database:
#      the same wrk on one of them (the other up and idle: what the store costs a server), then
#      one wrk -t1 -c$((CONNS / 2)) on each at the same time. Every server has one I/O thread
#      and flushes every $FLUSH_MS ms. Searches come from one client, so each logs a row and
#      adds to its cell.
#   4. prints, per setup, the medians of: searches/s (the two servers' summed), p99 (the worse
#      of the two), rows written into PostgreSQL per second (pg_stat_database: inserted +
#      updated + deleted tuples over the run), and each server's flush time (the server's
#      mixi_analytics_flush_seconds: mean and max) beside the flush interval.
#
# Env: BUILD (default <repo>/build-bench), MIXI_BIN, LOAD_HELPER, QUERY_BENCH, MIXI_BENCH_DATA,
#      MIXI_SCIFACT, MIXI_BENCH_INDEX as for load.sh; CONNS (8), DURATION (10), REPS (3),
#      FLUSH_MS (1000), PG_PORT (55433).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
build=${BUILD:-$repo/build-bench}
[[ $build == /* ]] || build=$PWD/$build
mixi=${MIXI_BIN:-$build/cli/mixi-search}
helper=${LOAD_HELPER:-$build/bench/load_helper}
query_bench=${QUERY_BENCH:-$build/bench/query_bench}
data=${MIXI_BENCH_DATA:-}
scifact=${MIXI_SCIFACT:-${data:+$data/beir/scifact}}
index=${MIXI_BENCH_INDEX:-/tmp/mixi-load-scifact}
conns=${CONNS:-8}
duration=${DURATION:-10}
reps=${REPS:-3}
flush_ms=${FLUSH_MS:-1000}
export MIXI_TEST_POSTGRES_PORT=${PG_PORT:-55433}

# shellcheck source=bench/lib.sh
. "$here/lib.sh" # die, check_int, stop_pid, field, start_serve, cpu_ticks, clk_tck
# shellcheck source=scripts/common.sh
. "$repo/scripts/common.sh" # start_test_postgres, stop_test_postgres
check_int CONNS "$conns" 2 1000
check_int DURATION "$duration" 1 120
check_int REPS "$reps" 1 15
check_int FLUSH_MS "$flush_ms" 10 60000
command -v wrk >/dev/null || die "wrk is missing: apt-get install -y wrk"
command -v curl >/dev/null || die "curl is missing: apt-get install -y curl"
[[ -x $mixi ]] || die "mixi-search not found at $mixi (set BUILD or MIXI_BIN)"
[[ -x $helper ]] || die "load_helper not found at $helper"
[[ -n $scifact && -d $scifact ]] || die "no SciFact folder: set MIXI_BENCH_DATA or MIXI_SCIFACT"

work=$(mktemp -d /tmp/mixi-analytics-bench.XXXXXX)
pids=()
cleanup() {
    local rc=$? pid
    trap - EXIT INT TERM
    for pid in "${pids[@]}"; do stop_pid "$pid"; done
    stop_test_postgres
    rm -rf "$work"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ ! -e $index/current ]]; then
    [[ -x $query_bench ]] || die "no index at $index, and no query_bench at $query_bench"
    echo "analytics_store.sh: building the SciFact index in $index (query_bench) ..."
    MIXI_SCIFACT=$scifact MIXI_BENCH_INDEX=$index "$query_bench" --benchmark_filter='^$' >/dev/null
fi
"$helper" queries --scifact "$scifact" --raw "$work/queries.txt" --paths "$work/paths.txt" >/dev/null

start_test_postgres >/dev/null
trap cleanup EXIT # start_test_postgres set its own
psql_cmd() {
    "$POSTGRES_BIN/psql" -X -q -A -t -h 127.0.0.1 -p "$MIXI_TEST_POSTGRES_PORT" -U mixi "$@"
}
# inserted + updated + deleted tuples of the database so far
pg_writes() {
    psql_cmd -d postgres -c "SELECT tup_inserted + tup_updated + tup_deleted FROM pg_stat_database WHERE datname = 'bench'"
}

# serve NAME STORE: a server on the index with one I/O thread; sets url
serve() {
    mkdir -p "$work/$1"
    start_serve "$work/$1" --index "$index" --data "$work/$1/var" --set "analytics.database=$2" \
        --set server.threads=1 --set server.access_log=false \
        --set limits.requests_per_connection=1000000 --set limits.rate_per_second=0 \
        --set limits.connections_per_client=0 --set "analytics.flush_interval_ms=$flush_ms"
    pids+=("$mixi_pid")
    url=$mixi_url
}

# flush_stats URL: "mean_ms max_ms" of its flushes so far
flush_stats() {
    curl -s --max-time 5 "$1/metrics" | awk '
        $1 == "mixi_analytics_flush_seconds_sum" { s = $2 }
        $1 == "mixi_analytics_flush_seconds_count" { n = $2 }
        $1 == "mixi_analytics_flush_seconds_max" { m = $2 }
        END { printf "%.2f %.2f\n", n ? 1000 * s / n : 0, 1000 * m }'
}

run_wrk() { # URL CONNS OUT [PID]: with PID, appends cpu_us= (its CPU time per request)
    local t0 t1
    t0=$(cpu_ticks "${4:-}")
    LOAD_PATHS="$work/paths.txt" wrk -t1 -c"$2" -d"${duration}s" --latency \
        -s "$here/load/requests.lua" "$1" >"$3" 2>&1
    t1=$(cpu_ticks "${4:-}")
    [[ -n ${4:-} ]] || return 0
    sed -i "s/^RESULT .*/& cpu_us=$(awk -v d=$((t1 - t0)) -v hz="$clk_tck" \
        -v n="$(field "$(grep '^RESULT' "$3")" requests)" \
        'BEGIN { printf "%.1f", (n > 0 ? d * 1e6 / hz / n : 0) }')/" "$3"
}

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

declare -A results
for ((round = 1; round <= reps; round++)); do
    # One server, SQLite.
    serve "sqlite-$round" ""
    run_wrk "$url" "$conns" "$work/wrk-sqlite.txt" "${pids[-1]}"
    line=$(grep '^RESULT' "$work/wrk-sqlite.txt")
    results[sqlite_rps]+="$(field "$line" rps) "
    results[sqlite_cpu]+="$(field "$line" cpu_us) "
    results[sqlite_p99]+="$(field "$line" p99_us) "
    read -r mean max < <(flush_stats "$url")
    results[sqlite_flush_mean]+="$mean "
    results[sqlite_flush_max]+="$max "
    stop_pid "${pids[-1]}"

    # Two servers, one PostgreSQL database: first the load of the SQLite server on one of them
    # alone (the other up, flushing its nothing), then half of it on each at the same time.
    psql_cmd -d postgres -c "DROP DATABASE IF EXISTS bench" -c "CREATE DATABASE bench"
    uri="postgresql://mixi@127.0.0.1:$MIXI_TEST_POSTGRES_PORT/bench"
    serve "pg-a-$round" "$uri"
    url_a=$url
    serve "pg-b-$round" "$uri"
    url_b=$url
    sleep 1
    run_wrk "$url_a" "$conns" "$work/wrk-one.txt" "${pids[-2]}"
    lo=$(grep '^RESULT' "$work/wrk-one.txt")
    results[one_rps]+="$(field "$lo" rps) "
    results[one_cpu]+="$(field "$lo" cpu_us) "
    results[one_p99]+="$(field "$lo" p99_us) "
    read -r mean max < <(flush_stats "$url_a")
    results[one_flush_mean]+="$mean "
    results[one_flush_max]+="$max "
    before=$(pg_writes)
    run_wrk "$url_a" $((conns / 2)) "$work/wrk-a.txt" &
    wrk_a=$!
    run_wrk "$url_b" $((conns / 2)) "$work/wrk-b.txt"
    wait "$wrk_a"
    sleep $(((flush_ms + 999) / 1000))
    after=$(pg_writes)
    la=$(grep '^RESULT' "$work/wrk-a.txt")
    lb=$(grep '^RESULT' "$work/wrk-b.txt")
    results[pg_rps]+="$(awk -v a="$(field "$la" rps)" -v b="$(field "$lb" rps)" 'BEGIN { print a + b }') "
    results[pg_p99]+="$(awk -v a="$(field "$la" p99_us)" -v b="$(field "$lb" p99_us)" 'BEGIN { print (a > b ? a : b) }') "
    results[pg_writes]+="$(awk -v n=$((after - before)) -v d="$duration" 'BEGIN { printf "%.0f", n / d }') "
    read -r mean_a max_a < <(flush_stats "$url_a")
    read -r mean_b max_b < <(flush_stats "$url_b")
    results[pg_flush_mean]+="$(awk -v a="$mean_a" -v b="$mean_b" 'BEGIN { print (a + b) / 2 }') "
    results[pg_flush_max]+="$(awk -v a="$max_a" -v b="$max_b" 'BEGIN { print (a > b ? a : b) }') "
    stop_pid "${pids[-1]}"
    stop_pid "${pids[-2]}"
    echo "round $round: sqlite $(field "$line" rps)/s, postgres one $(field "$lo" rps)/s, both $(field "$la" rps)+$(field "$lb" rps)/s"
done

med() { tr ' ' '\n' <<<"${results[$1]}" | grep -v '^$' | median; }
echo
echo "analytics store, $reps rounds (medians), flush every $flush_ms ms, wrk -t1 -c$conns for ${duration}s"
row() { # NAME RPS P99_US CPU_US PG_ROWS FLUSH_MEAN FLUSH_MAX
    printf '%-32s %11.0f %8.2f %14s %10s %14s %13s\n' "$1" "$2" "$(awk -v v="$3" 'BEGIN { print v / 1000 }')" \
        "$4" "$5" "$6" "$7"
}
printf '%-32s %11s %8s %14s %10s %14s %13s\n' setup searches/s p99_ms server_cpu_us pg_rows/s \
    flush_mean_ms flush_max_ms
row "1 server, SQLite" "$(med sqlite_rps)" "$(med sqlite_p99)" "$(med sqlite_cpu)" - \
    "$(med sqlite_flush_mean)" "$(med sqlite_flush_max)"
row "1 of 2 servers, one PostgreSQL" "$(med one_rps)" "$(med one_p99)" "$(med one_cpu)" - \
    "$(med one_flush_mean)" "$(med one_flush_max)"
row "2 servers, one PostgreSQL" "$(med pg_rps)" "$(med pg_p99)" - "$(med pg_writes)" \
    "$(med pg_flush_mean)" "$(med pg_flush_max)"
