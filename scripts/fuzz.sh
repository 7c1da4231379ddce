#!/usr/bin/env bash
# Fuzzes the targets of tests/fuzz with libFuzzer, one at a time (2 cores: the fuzzer and the
# rest of the machine), in the sanitizer build (build-san/, made by scripts/test.sh or here).
#   scripts/fuzz.sh [SECONDS] [TARGET...]     default: 60 s each, every target
# New interesting inputs go to build-san/fuzz/<target>/corpus (not to the seed corpus); a
# finding is written to build-san/fuzz/<target>/ and the script stops with its output. Copy a
# finding to tests/fuzz/crashes/<target>/ once it is fixed: it then runs in every test run.
set -euo pipefail
source "$(dirname "$0")/common.sh"
SAN="$SAN_BUILD"
SECONDS_EACH="${1:-60}"
shift || true
TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then # every tests/fuzz/<name>_fuzz.cc
    for f in "$ROOT"/tests/fuzz/*_fuzz.cc; do
        f="${f##*/}"
        TARGETS+=("${f%_fuzz.cc}")
    done
fi

build_sanitized
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"
for t in "${TARGETS[@]}"; do
    work="$SAN/fuzz/$t"
    mkdir -p "$work/corpus"
    echo "== fuzzing $t for ${SECONDS_EACH}s"
    "$SAN/tests/fuzz/${t}_fuzz" -max_total_time="$SECONDS_EACH" -timeout=25 -rss_limit_mb=2560 \
        -print_final_stats=1 -artifact_prefix="$work/" \
        "$work/corpus" "$ROOT/tests/fuzz/corpus/$t" "$ROOT/tests/fuzz/crashes/$t" \
        >"$work/log" 2>&1 || {
        tail -n 60 "$work/log"
        echo "fuzz.sh: $t found a problem; the input is in $work/ (log: $work/log)" >&2
        exit 1
    }
    grep -E "^(stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb)" \
        "$work/log" | tr '\n' ' '
    echo
done
