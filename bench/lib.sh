# Shared by bench/load.sh and bench/faults.sh (sourced; shellcheck shell=bash).

# die MESSAGE: print it, prefixed with the script's name, and exit 1.
die() { echo "$(basename "$0"): $*" >&2; exit 1; }

# check_int NAME VALUE MIN MAX: numbers only, and within bounds, so that every loop is bounded.
check_int() {
    if ! [[ $2 =~ ^[0-9]+$ ]] || (($2 < $3 || $2 > $4)); then
        die "$1 must be an integer in [$3, $4], got \"$2\""
    fi
}

# stop_pid PID [SIGNAL]: signal (TERM), wait up to 5 s, then SIGKILL; reaps it.
stop_pid() {
    local pid=$1 sig=${2:-TERM} i
    [[ -n $pid ]] || return 0
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    kill -"$sig" "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null || true
}

clk_tck=$(getconf CLK_TCK 2>/dev/null || echo 100)
# cpu_ticks PID: CPU time (user + system, in clock ticks) of process PID so far; 0 when unknown.
cpu_ticks() {
    [[ -n $1 && -r /proc/$1/stat ]] || { echo 0; return; }
    awk '{sub(/^.*\) /, ""); print $12 + $13}' "/proc/$1/stat" 2>/dev/null || echo 0
}

# field LINE KEY: the value of KEY=value in a RESULT line.
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<" $1"; }

# start_serve DIR ARGS...: `$mixi serve --address 127.0.0.1 --port 0 ARGS...` in the background,
# its stdout and stderr in DIR/mixi.out and DIR/mixi.err; sets mixi_pid, and mixi_url to the
# address it prints first; dies when it has not printed one within 10 s.
start_serve() {
    local dir=$1 i
    shift
    "$mixi" serve --address 127.0.0.1 --port 0 "$@" >"$dir/mixi.out" 2>"$dir/mixi.err" &
    mixi_pid=$!
    mixi_url=
    for ((i = 0; i < 100; i++)); do
        mixi_url=$(head -n1 "$dir/mixi.out" 2>/dev/null || true)
        [[ $mixi_url == http://127.0.0.1:* ]] && return 0
        mixi_url=
        kill -0 "$mixi_pid" 2>/dev/null || break
        sleep 0.1
    done
    die "mixi-search serve did not start: $(tail -3 "$dir/mixi.err")"
}
