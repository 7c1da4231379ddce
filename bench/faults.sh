#!/usr/bin/env bash
# Load faults: does a normal client keep getting answers, and how fast, while the
# server is flooded with connections or held by slow clients? See bench/README.md ("faults.sh")
# and the numbers in bench/RESULTS.md.
#
#   bench/faults.sh
#   BUILD=build bench/faults.sh
#
# What one run does:
#   1. builds an index of the sample site (data/site and data/sample.ndjson) in a work folder and
#      starts `mixi-search serve` on 127.0.0.1 with its default limits (max_connections 1024,
#      read_timeout_ms 10000, one I/O thread per core), except the per-client rate limit and
#      connection cap, which are off: every client here is 127.0.0.1;
#   2. baseline: the normal client alone, wrk -t1 -c1 on /v1/search (a list of sample queries)
#      for DURATION seconds: p50, p99, errors;
#   3. idle: the same normal client while $FLOOD_CONNS (1000) other connections are open, each
#      after one request, idle (bench/load/slow_clients.py in idle mode);
#   4. flood: the same normal client while wrk -t2 -c$FLOOD_CONNS (1000) sends /v1/search as
#      fast as it can on as many keep-alive connections (on 2 cores: CPU overload, so the
#      normal client's requests queue behind the flood's);
#   5. slow: the same normal client while $SLOW_CLIENTS (500) connections trickle the headers of
#      a request that never ends, one byte every $TRICKLE_S s (bench/load/slow_clients.py), so
#      the server's read timeout must close them (each reconnects at once);
#   6. prints a table, and checks that the server is still alive and answers /healthz.
# Everything it started is stopped on exit. The whole run takes about 5 x DURATION seconds.
#
# Env: BUILD          build directory (default <repo>/build); MIXI_BIN mixi-search in it
#      DURATION       seconds of each phase (default 20; the slow clients need more than
#                     limits.read_timeout_ms to be closed)
#      FLOOD_CONNS    connections of the flood (default 1000)
#      SLOW_CLIENTS   slow connections (default 500); TRICKLE_S seconds between their bytes (1)
#      READ_TIMEOUT_MS  the server's limits.read_timeout_ms (default: the server's, 10000)
#      KEEP           1 keeps the work folder
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
build=${BUILD:-$repo/build}
[[ $build == /* ]] || build=$PWD/$build
mixi=${MIXI_BIN:-$build/cli/mixi-search}
duration=${DURATION:-20}
flood_conns=${FLOOD_CONNS:-1000}
slow_clients=${SLOW_CLIENTS:-500}
trickle=${TRICKLE_S:-1}
read_timeout=${READ_TIMEOUT_MS:-}
keep=${KEEP:-0}

# shellcheck source=bench/lib.sh
. "$here/lib.sh" # die, check_int, stop_pid, field, start_serve
check_int DURATION "$duration" 1 300
check_int FLOOD_CONNS "$flood_conns" 1 20000
check_int SLOW_CLIENTS "$slow_clients" 1 20000
check_int TRICKLE_S "$trickle" 1 60
[[ -z $read_timeout ]] || check_int READ_TIMEOUT_MS "$read_timeout" 1 600000

command -v wrk >/dev/null || die "wrk is missing: apt-get install -y --no-install-recommends wrk"
command -v curl >/dev/null || die "curl is missing: apt-get install -y --no-install-recommends curl"
command -v python3 >/dev/null || die "python3 is missing (bench/load/slow_clients.py)"
[[ -x $mixi ]] || die "mixi-search not found at $mixi (cmake --build $build --target mixi-search, or set BUILD / MIXI_BIN)"

# Every connection is a descriptor on both ends (wrk or the slow clients, and the server, which
# inherits this limit).
want_fds=$((2 * (flood_conns + slow_clients) + 1024))
if (($(ulimit -n) < want_fds)); then
    ulimit -n "$want_fds" 2>/dev/null || ulimit -n "$(ulimit -Hn)" ||
        die "cannot raise ulimit -n to $want_fds (hard limit $(ulimit -Hn))"
fi

work=$(mktemp -d /tmp/mixi-faults.XXXXXX)
mixi_pid='' bg_pids=()

cleanup() {
    local rc=$? p
    trap - EXIT INT TERM
    for p in "${bg_pids[@]}"; do stop_pid "$p"; done
    stop_pid "$mixi_pid"
    if [[ $keep == 1 ]]; then echo "work folder kept: $work"; else rm -rf "$work"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------------------ index and server

"$mixi" index build --index "$work/index" "$repo/data/site" "$repo/data/sample.ndjson" >"$work/build.log" 2>&1 ||
    die "index build failed: $(tail -3 "$work/build.log")"
for q in photography "hiking alps" camera travel ramen tokyo debian "package manager" apt kernel \
    "network configuration" 写真 東京 検索 paquet Paket "night market" video recipe festival; do
    printf '/v1/search?q=%s\n' "$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$q")"
done >"$work/paths.txt"

sets=(--set limits.rate_per_second=0 --set limits.connections_per_client=0 --set server.access_log=false
    --set limits.requests_per_connection=1000000000)
[[ -z $read_timeout ]] || sets+=(--set "limits.read_timeout_ms=$read_timeout")
start_serve "$work" --index "$work/index" --data "$work/var" "${sets[@]}"
url=$mixi_url
port=${url##*:}
limits=$("$mixi" serve --print-config "${sets[@]}" 2>/dev/null |
    grep -E '^(max_connections|read_timeout_ms|threads) *=' | tr -s ' ' | tr '\n' ' ' || true)

# ------------------------------------------------------------------------------ measuring

ms() { awk -v v="$1" 'BEGIN {printf "%.2f", v / 1000}'; }

# normal NAME: the normal client for DURATION s; its RESULT line in $work/NAME.result
normal() {
    LOAD_PATHS=$work/paths.txt wrk -t1 -c1 -d"${duration}s" --timeout 10s --latency \
        -s "$here/load/requests.lua" "$url" >"$work/$1.wrk.txt" 2>&1 ||
        die "wrk (normal client) failed: $(tail -3 "$work/$1.wrk.txt")"
    sed -n 's/^RESULT //p' "$work/$1.wrk.txt" >"$work/$1.result"
    [[ -s $work/$1.result ]] || die "no RESULT from wrk ($work/$1.wrk.txt)"
}
alive() { [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$url/healthz" || true) == 200 ]]; }

# beside NAME LABEL COMMAND...: the normal client (as `normal NAME_normal`) while COMMAND runs
# in the background (output in $work/NAME.txt); then its RESULT line in $NAME, the connections
# to the server during the phase in $NAME_open, and a check that the server still answers.
beside() {
    local name=$1 label=$2 pid open
    shift 2
    "$@" >"$work/$name.txt" 2>&1 &
    pid=$!
    bg_pids+=("$pid")
    sleep 2 # let them connect
    open=$(ss -Htn state established "dport = :$port" 2>/dev/null | wc -l || echo '?')
    normal "${name}_normal"
    wait "$pid" || die "the $label (${*:1:2}) failed: $(tail -3 "$work/$name.txt")"
    printf -v "$name" '%s' "$(sed -n 's/^RESULT //p' "$work/$name.txt")"
    printf -v "${name}_open" '%s' "$open"
    alive || die "the server does not answer /healthz after the $label: $(tail -5 "$work/mixi.err")"
}

echo "mixi-search load faults, $(date -u '+%Y-%m-%d %H:%M UTC'); commit $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "machine: $(nproc) cores, loadavg at start: $(cut -d' ' -f1-3 /proc/loadavg); ulimit -n $(ulimit -n)"
echo "server: $url (pid $mixi_pid), config: ${limits:-?}; $(wc -l <"$work/paths.txt") queries round-robin"
echo

echo "1/4 baseline: normal client alone (${duration}s) ..."
sleep 1
normal baseline

echo "2/4 idle: $flood_conns idle keep-alive connections, and the normal client ..."
beside idle "idle connections" python3 "$here/load/slow_clients.py" "$port" "$flood_conns" \
    "$((duration + 4))" 1 idle

echo "3/4 flood: $flood_conns connections of wrk -t2 on /v1/search, and the normal client ..."
beside flood flood env LOAD_PATHS="$work/paths.txt" wrk -t2 -c"$flood_conns" \
    -d"$((duration + 4))s" --timeout 10s --latency -s "$here/load/requests.lua" "$url"

echo "4/4 slow: $slow_clients slow clients (a header byte every ${trickle}s), and the normal client ..."
beside slow "slow clients" python3 "$here/load/slow_clients.py" "$port" "$slow_clients" \
    "$((duration + 4))" "$trickle"
kill -0 "$mixi_pid" || die "the server is gone"

echo
printf '%-52s %8s %9s %9s %9s %7s %7s\n' "normal client (wrk -t1 -c1, /v1/search)" req/s "p50 ms" "p99 ms" "max ms" non2xx errors
row() { # LABEL RESULT
    printf '%-52s %8.1f %9s %9s %9s %7s %7s\n' "$1" "$(field "$2" rps)" "$(ms "$(field "$2" p50_us)")" \
        "$(ms "$(field "$2" p99_us)")" "$(ms "$(field "$2" max_us)")" "$(field "$2" non2xx)" \
        "$(field "$2" socket_errors)"
}
row "alone" "$(cat "$work/baseline.result")"
row "with $flood_conns idle connections" "$(cat "$work/idle_normal.result")"
row "with $flood_conns flooding connections" "$(cat "$work/flood_normal.result")"
row "with $slow_clients slow clients" "$(cat "$work/slow_normal.result")"
echo
echo "flood itself: $(field "$flood" rps) req/s over $flood_conns connections, p50 $(ms "$(field "$flood" p50_us)") ms," \
    "p99 $(ms "$(field "$flood" p99_us)") ms, non2xx $(field "$flood" non2xx), socket errors $(field "$flood" socket_errors)"
echo "idle connections: $idle (connections to the server during the phase: $idle_open)"
echo "slow clients: $slow (connections to the server during the phase: $slow_open)"
echo "server: alive, /healthz 200; its stderr: $(grep -cv '^$' "$work/mixi.err" || true) lines" \
    "$(grep -v '^$' "$work/mixi.err" | sort | uniq -c | sort -rn | head -3 | tr -s ' ' | tr '\n' ';' || true)"
