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

# field LINE KEY: the value of KEY=value in a RESULT line.
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<" $1"; }
