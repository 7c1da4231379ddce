#!/usr/bin/env bash
# HTTP load test: nginx (baseline), mixi-search /healthz and /v1/search, and bare in-process
# Xapian, in one run, on the SciFact index. See bench/README.md ("load.sh") and the targets in
# bench/RESULTS.md.
#
#   bench/load.sh
#   BUILD=build-load bench/load.sh
#
# What one run does:
#   1. installs nginx and wrk with apt-get when they are missing (only as root);
#   2. builds the SciFact index in $MIXI_BENCH_INDEX when it is missing (with query_bench, so
#      it is the same index as query_bench's);
#   3. writes the query list: the 300 SciFact test queries and the first $MSMARCO_COUNT MS
#      MARCO queries, as raw text (for load_helper) and as URL-encoded /v1/search targets (for
#      the wrk script bench/load/requests.lua, which sends them round-robin);
#   4. starts nginx (one worker, its own temporary prefix, `return 200` of a ~1 KB JSON body,
#      access_log off) and `mixi-search serve` (one I/O thread, access log off), both on
#      127.0.0.1 only;
#   5. REPS rounds; in each, in turn: wrk on nginx, on mixi /healthz, on mixi /v1/search (the
#      query list) with the same -t/-c/-d, then /v1/search with one connection (for p50/p99;
#      the server's /metrics before and after give its own time per search, without the
#      client and the loopback), then load_helper: bare Xapian QueryParser+Enquire top 10 on one thread, and the same
#      queries through mixi's Searcher::search in process (no HTTP);
#   6. prints the medians and the ratios against the targets;
#   7. with FAULTS=1, then runs bench/faults.sh (load faults: a normal client's p50
#      and p99 beside 1,000 idle connections, a flood of 1,000 connections and 500 slow
#      clients trickling headers), on the same build.
# Everything it started is stopped on exit (trap). Runs take about 2.5 minutes with the
# defaults.
#
# Env: BUILD        build directory (default <repo>/build-bench); the binaries below are in it
#      MIXI_BIN     mixi-search (default $BUILD/cli/mixi-search)
#      LOAD_HELPER  load_helper (default $BUILD/bench/load_helper)
#      QUERY_BENCH  query_bench, used only to build a missing index ($BUILD/bench/query_bench)
#      MIXI_BENCH_DATA  the benchmark data folder (bench/README.md, "Data"); the two below
#                   default to files in it
#      MIXI_SCIFACT BEIR SciFact folder (default $MIXI_BENCH_DATA/beir/scifact)
#      MIXI_BENCH_INDEX  the index (default /tmp/mixi-load-scifact: built as query_bench builds
#                   /tmp/mixi-bench-scifact, but a folder of its own, so that a query_bench run
#                   that rebuilds its index cannot pull it away in the middle of a load test)
#      MSMARCO      MS MARCO topics file, qid<TAB>query (default
#                   $MIXI_BENCH_DATA/queries/msmarco/topics.msmarco-passage.dev-subset.txt.gz)
#      MSMARCO_COUNT  how many MS MARCO queries to add (default 300)
#      THREADS CONNS DURATION  wrk -t, -c, -d in seconds (default 1, 8, 10)
#      REPS         rounds (default 3); medians are reported
#      BARE_SECONDS LIB_SECONDS  seconds of each in-process measurement (default 5 and 3)
#      KEEPALIVE_REQUESTS  requests per keep-alive connection, for nginx (keepalive_requests)
#                   and mixi (limits.requests_per_connection); default 1000000, so that both
#                   serve whole runs on one connection (mixi's default of 1000 answers the
#                   1001st request with 429, where nginx closes after a 200)
#      PERF         1: after the rounds, one more /v1/search run under `perf record` on the
#                   server; prints the top of the profile and keeps the work folder
#      KEEP         1 keeps the work folder (printed at the end)
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
msmarco=${MSMARCO:-${data:+$data/queries/msmarco/topics.msmarco-passage.dev-subset.txt.gz}}
msmarco_count=${MSMARCO_COUNT:-300}
threads=${THREADS:-1}
conns=${CONNS:-8}
duration=${DURATION:-10}
reps=${REPS:-3}
bare_seconds=${BARE_SECONDS:-5}
lib_seconds=${LIB_SECONDS:-3}
keepalive=${KEEPALIVE_REQUESTS:-1000000}
perf=${PERF:-0}
keep=${KEEP:-0}

# shellcheck source=bench/lib.sh
. "$here/lib.sh" # die, check_int, stop_pid, field, start_serve, cpu_ticks, clk_tck
check_int THREADS "$threads" 1 16
check_int CONNS "$conns" 1 1000
check_int DURATION "$duration" 1 120
check_int REPS "$reps" 1 15
check_int BARE_SECONDS "$bare_seconds" 1 60
check_int LIB_SECONDS "$lib_seconds" 0 60
check_int MSMARCO_COUNT "$msmarco_count" 0 100000
check_int KEEPALIVE_REQUESTS "$keepalive" 1 1000000000
((conns >= threads)) || die "CONNS must be >= THREADS"

# ------------------------------------------------------------------------------------ tools

nginx_bin() { command -v nginx 2>/dev/null || { [[ -x /usr/sbin/nginx ]] && echo /usr/sbin/nginx; } || true; }
missing=()
[[ -n $(nginx_bin) ]] || missing+=(nginx)
command -v wrk >/dev/null || missing+=(wrk)
command -v curl >/dev/null || missing+=(curl)
if ((${#missing[@]})); then
    if [[ $EUID -ne 0 ]]; then
        die "missing: ${missing[*]}. Install them as root:" \
            "apt-get install -y --no-install-recommends nginx-light wrk curl (or run this script as root)"
    fi
    command -v apt-get >/dev/null || die "missing: ${missing[*]}, and there is no apt-get to install them"
    echo "load.sh: installing ${missing[*]} with apt-get ..."
    pkgs=(wrk curl)
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y --no-install-recommends nginx-light "${pkgs[@]}" >/dev/null; then
        apt-get update >/dev/null
        apt-get install -y --no-install-recommends nginx-light "${pkgs[@]}" >/dev/null ||
            apt-get install -y --no-install-recommends nginx "${pkgs[@]}" >/dev/null ||
            die "apt-get could not install nginx, wrk and curl"
    fi
fi
nginx=$(nginx_bin)
[[ -n $nginx ]] || die "nginx not found after installing it"

[[ -x $mixi ]] || die "mixi-search not found at $mixi. Build it:" \
    "cmake -S $repo -B $build -DCMAKE_BUILD_TYPE=Release -DMIXI_BUILD_TESTS=OFF &&" \
    "cmake --build $build -j2 --target mixi-search load_helper query_bench (or set BUILD / MIXI_BIN)"
[[ -x $helper ]] || die "load_helper not found at $helper (cmake --build $build --target load_helper)"
data_hint='bench/README.md ("Data") says where to get the data'
[[ -n $scifact ]] || die "no SciFact folder: set MIXI_BENCH_DATA (or MIXI_SCIFACT); $data_hint"
[[ -d $scifact ]] || die "no SciFact folder at $scifact (set MIXI_BENCH_DATA or MIXI_SCIFACT); $data_hint"
if ((msmarco_count > 0)); then
    [[ -n $msmarco ]] || die "no MS MARCO topics: set MIXI_BENCH_DATA (or MSMARCO, or MSMARCO_COUNT=0); $data_hint"
    [[ -f $msmarco ]] || die "no MS MARCO topics at $msmarco (set MSMARCO, or MSMARCO_COUNT=0); $data_hint"
fi

# --------------------------------------------------------------------- cleanup of processes

work=$(mktemp -d /tmp/mixi-load.XXXXXX)
nginx_pid='' mixi_pid='' wrk_pid='' perf_pid=

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_pid "$wrk_pid"
    stop_pid "$perf_pid" INT
    stop_pid "$mixi_pid"
    stop_pid "$nginx_pid" TERM # fast shutdown: the master stops its worker first
    if [[ $keep == 1 || $perf == 1 ]]; then
        echo "work folder kept: $work"
    else
        rm -rf "$work"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------------------------ the index

database_of() { if [[ -e $1/current ]]; then readlink -f "$1/current"; fi; }
if [[ -z $(database_of "$index") ]]; then
    [[ -x $query_bench ]] || die "no index at $index, and query_bench (which builds it) is not at $query_bench"
    echo "load.sh: building the SciFact index in $index (query_bench) ..."
    MIXI_SCIFACT=$scifact MIXI_BENCH_INDEX=$index "$query_bench" --benchmark_filter='^$' >/dev/null
    [[ -n $(database_of "$index") ]] || die "query_bench did not build an index in $index"
fi

# ------------------------------------------------------------------------- the query list

msmarco_args=()
((msmarco_count > 0)) && msmarco_args=(--msmarco "$msmarco" --msmarco-count "$msmarco_count")
query_summary=$("$helper" queries --scifact "$scifact" "${msmarco_args[@]}" \
    --raw "$work/queries.txt" --paths "$work/paths.txt")

# --------------------------------------------------------------------------- the servers

free_port() { # a port nobody listens on (bounded tries)
    local i p
    for ((i = 0; i < 50; i++)); do
        p=$((20000 + RANDOM % 40000))
        if ! command -v ss >/dev/null || [[ -z $(ss -Htln "sport = :$p" 2>/dev/null) ]]; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

# status CODE of GET URL (000 when nothing answers)
http_status() { curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$1" || true; }
http_bytes() { curl -s -o /dev/null -w '%{size_download}' --max-time 5 "$1" || echo 0; }

start_nginx() {
    local attempt i
    mkdir -p "$work/nginx/client_body"
    for ((attempt = 0; attempt < 5; attempt++)); do
        nginx_port=$(free_port) || die "no free port for nginx"
        sed -e "s|@PREFIX@|$work/nginx|g" -e "s|@PORT@|$nginx_port|g" \
            -e "s|@KEEPALIVE_REQUESTS@|$keepalive|g" "$here/load/nginx.conf.in" >"$work/nginx/nginx.conf"
        "$nginx" -p "$work/nginx" -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log" \
            >/dev/null 2>"$work/nginx/stderr.log" &
        nginx_pid=$!
        for ((i = 0; i < 50; i++)); do
            [[ $(http_status "http://127.0.0.1:$nginx_port/") == 200 ]] && return 0
            kill -0 "$nginx_pid" 2>/dev/null || break
            sleep 0.1
        done
        stop_pid "$nginx_pid" QUIT
        nginx_pid=
    done
    die "nginx did not start: $(tail -3 "$work/nginx/error.log" "$work/nginx/stderr.log" 2>/dev/null)"
}

start_mixi() {
    start_serve "$work" --index "$index" --data "$work/var" --set server.threads=1 \
        --set server.access_log=false --set "limits.requests_per_connection=$keepalive" \
        --set limits.rate_per_second=0 --set limits.connections_per_client=0
    [[ $(http_status "$mixi_url/healthz") == 200 ]] || die "$mixi_url/healthz does not answer 200"
}

start_nginx
start_mixi
nginx_url=http://127.0.0.1:$nginx_port
first_search=$(head -n1 "$work/paths.txt")
[[ $(http_status "$mixi_url$first_search") == 200 ]] || die "GET $first_search does not answer 200"

# Response sizes (bytes of body), for the table.
bytes_nginx=$(http_bytes "$nginx_url/")
bytes_healthz=$(http_bytes "$mixi_url/healthz")
bytes_search=$(
    total=0 n=0
    while IFS= read -r p && ((n < 20)); do
        total=$((total + $(http_bytes "$mixi_url$p"))) n=$((n + 1))
    done <"$work/paths.txt"
    echo $((total / (n ? n : 1)))
)

# ------------------------------------------------------------------------------ measuring

median() { sort -g | awk '{v[NR] = $1} END {if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }


# run_wrk NAME CONNS URL PATHS PID: one wrk run; appends its RESULT line, with the server's CPU
# time per request (cpu_us, from /proc/PID/stat), to $work/NAME.results
run_wrk() {
    local name=$1 c=$2 url=$3 paths=${4:-} pid=${5:-} line t0 t1
    t0=$(cpu_ticks "$pid")
    LOAD_PATHS=$paths wrk -t"$((threads < c ? threads : c))" -c"$c" -d"${duration}s" --latency \
        -s "$here/load/requests.lua" "$url" >"$work/$name.wrk.txt" 2>&1 &
    wrk_pid=$!
    wait "$wrk_pid" || die "wrk failed on $url: $(tail -3 "$work/$name.wrk.txt")"
    wrk_pid=
    t1=$(cpu_ticks "$pid")
    line=$(sed -n 's/^RESULT //p' "$work/$name.wrk.txt")
    [[ -n $line ]] || die "no RESULT line from wrk ($work/$name.wrk.txt)"
    line+=" cpu_us=$(awk -v d=$((t1 - t0)) -v hz="$clk_tck" -v n="$(field "$line" requests)" \
        'BEGIN {printf "%.1f", (n > 0 && d > 0 ? d * 1e6 / hz / n : 0)}')"
    echo "$line" >>"$work/$name.results"
    cat "$work/$name.wrk.txt" >>"$work/$name.wrk.all"
    printf '  %-14s %s\n' "$name" "$line"
}

# search_metrics: the server's own count of /v1/search requests, the sum of their durations (s)
# and how many took at most 1 ms, from its /metrics (time from the complete request to the
# response written: what the server spends, without the client and the network)
search_metrics() {
    curl -s --max-time 5 "$mixi_url/metrics" | awk '
        /^mixi_http_request_duration_seconds_count\{route="\/v1\/search"\}/ {c = $2}
        /^mixi_http_request_duration_seconds_sum\{route="\/v1\/search"\}/ {s = $2}
        /^mixi_http_request_duration_seconds_bucket\{route="\/v1\/search",le="0.001"\}/ {b = $2}
        END {print c + 0, s + 0, b + 0}'
}

# server_side NAME BEFORE AFTER: the server's mean time per /v1/search request and the share
# answered within 1 ms between two search_metrics, appended to $work/NAME.results
server_side() {
    local line
    line=$(awk -v b="$2" -v a="$3" 'BEGIN {
        split(b, x, " "); split(a, y, " "); n = y[1] - x[1]
        if (n > 0) printf "requests=%d mean_us=%.1f within_1ms=%.3f", n, (y[2] - x[2]) * 1e6 / n, (y[3] - x[3]) / n
    }')
    [[ -n $line ]] || die "no /v1/search requests counted in $mixi_url/metrics"
    echo "$line" >>"$work/$1.results"
    printf '  %-14s %s\n' "$1" "$line"
}

# run_helper NAME MODE SECONDS: one load_helper rate run
run_helper() {
    local line
    line=$("$helper" rate --index "$index" --queries "$work/queries.txt" --mode "$2" --seconds "$3" |
        sed -n 's/^RESULT //p')
    [[ -n $line ]] || die "no RESULT line from load_helper --mode $2"
    echo "$line" >>"$work/$1.results"
    printf '  %-14s %s\n' "$1" "$line"
}

echo "mixi-search load test, $(date -u '+%Y-%m-%d %H:%M UTC')"
changed=$(git -C "$repo" diff --name-only HEAD -- 2>/dev/null | tr '\n' ' ' || true)
echo "commit: $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?')${changed:+ + uncommitted changes in: $changed}"
echo "binary: $mixi ($(date -u -r "$mixi" '+built %Y-%m-%d %H:%M UTC' 2>/dev/null || echo '?'))"
echo "machine: $(nproc) cores, loadavg at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$(wrk -v 2>&1 | head -n1 | cut -d' ' -f1-2); $("$nginx" -v 2>&1)"
echo "$query_summary"
echo "index: $(database_of "$index")"
echo "nginx: $nginx_url (1 worker, return 200, $bytes_nginx bytes); mixi: $mixi_url (pid $mixi_pid," \
    "1 I/O thread); keep-alive requests per connection: $keepalive"
echo "wrk: -t$threads -c$conns -d${duration}s (search_c1: -t1 -c1); $reps rounds; in process: bare" \
    "${bare_seconds}s, lib ${lib_seconds}s per round"
echo

# Warm-up (not counted): page cache, the server's Searcher, nginx.
echo "warm-up ..."
saved_duration=$duration
duration=2
run_wrk warmup "$conns" "$nginx_url/" >/dev/null
run_wrk warmup "$conns" "$mixi_url/v1/search" "$work/paths.txt" >/dev/null
duration=$saved_duration
nginx_worker=$(pgrep -P "$nginx_pid" | head -n1 || true) # its one worker process

loads=()
for ((r = 1; r <= reps; r++)); do
    loads+=("$(cut -d' ' -f1 /proc/loadavg)")
    echo "round $r/$reps (loadavg $(cut -d' ' -f1-3 /proc/loadavg))"
    run_wrk nginx "$conns" "$nginx_url/" "" "$nginx_worker"
    run_wrk healthz "$conns" "$mixi_url/healthz" "" "$mixi_pid"
    run_wrk search "$conns" "$mixi_url/v1/search" "$work/paths.txt" "$mixi_pid"
    before=$(search_metrics)
    run_wrk search_c1 1 "$mixi_url/v1/search" "$work/paths.txt" "$mixi_pid"
    server_side in_server "$before" "$(search_metrics)"
    run_helper bare bare "$bare_seconds"
    ((lib_seconds > 0)) && run_helper lib mixi "$lib_seconds"
done
loads+=("$(cut -d' ' -f1 /proc/loadavg)")

# med NAME KEY: the median of KEY over NAME's runs
med() { while IFS= read -r l; do field "$l" "$2"; done <"$work/$1.results" | median; }
runs() { while IFS= read -r l; do field "$l" "$2"; done <"$work/$1.results" | awk '{printf "%s%.0f", (NR > 1 ? " / " : ""), $1}'; }
sum() { while IFS= read -r l; do field "$l" "$2"; done <"$work/$1.results" | awk '{s += $1} END {print s + 0}'; }

echo
echo "Medians of $reps rounds (loadavg during the rounds: ${loads[*]})"
printf '%-40s %8s %-24s %8s %8s %8s %6s %6s\n' "what" "req/s" "(each round)" "p50 ms" "p99 ms" \
    "CPU us" "non2xx" "bytes"
row() { # LABEL NAME BYTES
    printf '%-40s %8.0f %-24s %8.3f %8.3f %8.1f %6s %6s\n' "$1" "$(med "$2" rps)" "($(runs "$2" rps))" \
        "$(awk -v v="$(med "$2" p50_us)" 'BEGIN {print v / 1000}')" \
        "$(awk -v v="$(med "$2" p99_us)" 'BEGIN {print v / 1000}')" "$(med "$2" cpu_us)" \
        "$(sum "$2" non2xx)" "$3"
}
row_helper() { # LABEL NAME
    printf '%-40s %8.0f %-24s %8.3f %8.3f %8.1f %6s %6s\n' "$1" "$(med "$2" qps)" "($(runs "$2" qps))" \
        "$(awk -v v="$(med "$2" p50_us)" 'BEGIN {print v / 1000}')" \
        "$(awk -v v="$(med "$2" p99_us)" 'BEGIN {print v / 1000}')" "$(med "$2" cpu_us)" "-" "-"
}
row "nginx return 200 (-c$conns)" nginx "$bytes_nginx"
row "mixi GET /healthz (-c$conns)" healthz "$bytes_healthz"
row "mixi GET /v1/search (-c$conns)" search "$bytes_search"
row "mixi GET /v1/search (-c1)" search_c1 "$bytes_search"
row_helper "bare Xapian in process (1 thread)" bare
((lib_seconds > 0)) && row_helper "mixi Searcher::search+JSON in process" lib
echo "(CPU us: the server's CPU time per request (nginx: its worker), from /proc/PID/stat; for the"
echo " in-process rows, the process's CPU time per query. bytes: response body; for /v1/search the"
echo " mean over the first 20 queries. In-process rows: queries/s, and p50/p99 of single queries.)"

nginx_rps=$(med nginx rps) healthz_rps=$(med healthz rps) search_rps=$(med search rps)
bare_qps=$(med bare qps) c1_p50=$(med search_c1 p50_us) c1_p99=$(med search_c1 p99_us)
verdict() { awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN {ok = op == ">=" ? v >= t : v <= t; print ok ? "met" : "NOT MET"}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}'; }
r1=$(ratio "$healthz_rps" "$nginx_rps")
r2=$(ratio "$search_rps" "$bare_qps")
p50_ms=$(awk -v v="$c1_p50" 'BEGIN {printf "%.3f", v / 1000}')
p99_ms=$(awk -v v="$c1_p99" 'BEGIN {printf "%.3f", v / 1000}')
# per_round A KEY_A B KEY_B: A's KEY_A / B's KEY_B, round by round ("0.51 / 0.47 / 0.55")
per_round() {
    paste -d' ' <(while IFS= read -r l; do field "$l" "$2"; done <"$work/$1.results") \
        <(while IFS= read -r l; do field "$l" "$4"; done <"$work/$3.results") |
        awk '{printf "%s%.2f", (NR > 1 ? " / " : ""), ($2 > 0 ? $1 / $2 : 0)}'
}
echo
echo "Targets (ratio of the medians; in brackets, the ratio within each round, and the ratio of"
echo "CPU time per request, which other load on the machine disturbs less)"
printf '  %-50s %-22s %-8s %s\n' "/healthz >= 0.5x nginx req/s" "${r1}x (${healthz_rps%.*} / ${nginx_rps%.*})" \
    "$(verdict "$r1" 0.5 '>=')" "[rounds $(per_round healthz rps nginx rps); CPU $(ratio "$(med nginx cpu_us)" "$(med healthz cpu_us)")x]"
printf '  %-50s %-22s %-8s %s\n' "/v1/search (-c$conns) >= 0.5x bare Xapian queries/s" "${r2}x (${search_rps%.*} / ${bare_qps%.*})" \
    "$(verdict "$r2" 0.5 '>=')" "[rounds $(per_round search rps bare qps); CPU $(ratio "$(med bare cpu_us)" "$(med search cpu_us)")x]"
printf '  %-50s %-22s %-8s %s\n' "/v1/search p50 at one connection <= 1 ms" "$p50_ms ms" "$(verdict "$p50_ms" 1 '<=')" \
    "[rounds $(runs search_c1 p50_us | sed 's/[0-9][0-9]*/&us/g')]"
echo "    in the server itself (its /metrics, same -c1 runs): $(med in_server mean_us | cut -d. -f1)us mean," \
    "$(awk -v v="$(med in_server within_1ms)" 'BEGIN {printf "%.0f", v * 100}')% of searches within 1 ms" \
    "[rounds $(while IFS= read -r l; do field "$l" within_1ms; done <"$work/in_server.results" |
        awk '{printf "%s%.0f%%", (NR > 1 ? " / " : ""), $1 * 100}')]"
echo "    (wrk's time beyond it is the client, the loopback and waking each side)"
printf '  %-50s %-22s %-8s %s\n' "/v1/search p99 at one connection <= 5 ms" "$p99_ms ms" "$(verdict "$p99_ms" 5 '<=')" \
    "[rounds $(runs search_c1 p99_us | sed 's/[0-9][0-9]*/&us/g')]"
if ((lib_seconds > 0)); then
    echo "  (for reference: mixi's Searcher in process, no HTTP, runs at $(ratio "$(med lib qps)" "$bare_qps")x" \
        "bare Xapian's rate; /v1/search over HTTP at $(ratio "$search_rps" "$(med lib qps)")x the in-process rate)"
fi

# ---------------------------------------------------------------------------- profiling

if [[ $perf == 1 ]]; then
    command -v perf >/dev/null || die "PERF=1 needs perf (apt-get install linux-perf)"
    echo
    echo "perf: recording the server during one more /v1/search run (-c$conns, ${duration}s) ..."
    perf record -F 999 --call-graph dwarf,16384 -p "$mixi_pid" -o "$work/perf.data" \
        -- sleep "$duration" >"$work/perf.record.log" 2>&1 &
    perf_pid=$!
    sleep 0.5
    run_wrk perf_search "$conns" "$mixi_url/v1/search" "$work/paths.txt" "$mixi_pid"
    wait "$perf_pid" || true
    perf_pid=
    # One line per symbol, cut to 150 columns; frames without a symbol are left out.
    perf report -i "$work/perf.data" --stdio --no-children --sort dso,symbol --percent-limit 1 \
        -g none 2>/dev/null | grep -E '^ +[0-9]' | grep -v '\] 0x0' | cut -c1-150 |
        sed 's/ *$//' | head -40 >"$work/perf.self.txt" || true
    perf report -i "$work/perf.data" --stdio --children --sort dso,symbol --percent-limit 3 \
        -g none 2>/dev/null | grep -E '^ +[0-9]' | grep -v '\] 0x0' | cut -c1-150 |
        sed 's/ *$//' | head -60 >"$work/perf.children.txt" || true
    echo "self time (top):"
    head -25 "$work/perf.self.txt"
    echo "including callees (top):"
    head -40 "$work/perf.children.txt"
    echo "full data: perf report -i $work/perf.data"
fi

if [[ ${FAULTS:-0} == 1 ]]; then
    echo
    echo "== load faults (bench/faults.sh)"
    BUILD=$build MIXI_BIN=$mixi "$here/faults.sh"
fi
