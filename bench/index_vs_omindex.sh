#!/usr/bin/env bash
# Indexing speed and index size: `mixi-search index build` (1 and 2 threads) against Xapian's
# own omindex (Debian xapian-omega) on the same folder of HTML pages. The fair comparison is
# `XAPIAN_CJK_NGRAM=1 omindex -S`: spelling data and CJK n-grams, the work mixi-search does
# too (its targets: at least 1.5x its pages/s on two threads, at most 1.25x its size); plain
# omindex stays in the table for reference.
#
#   bench/index_vs_omindex.sh [SITE_DIR]        (default $MIXI_BENCH_DATA/site)
#
# SITE_DIR is a folder of HTML pages: the benchmark data's site/ (710 Debian documentation pages
# in five languages; bench/README.md, "Data"), or the smaller data/site of this repository.
#
# Env: MIXI_BENCH_DATA  the benchmark data folder (used when SITE_DIR is not given)
#      MIXI_BIN   mixi-search binary (default <repo>/build-bench/cli/mixi-search)
#      OMINDEX    omindex binary (default: omindex on PATH)
#      REPS       runs of each configuration; medians are reported (default 3)
#      SPELLING   1 (default) also times `omindex -S` without CJK n-grams; 0 skips it
#      KEEP       1 keeps the temporary databases (printed at the end)
#
# Every run writes a fresh database into a temporary folder. The configurations take turns
# (round-robin) so that a burst of load on the machine does not land on one of them only.
# Wall time is what the targets use; CPU time (user+sys) is shown beside it because it is less
# sensitive to other load on a shared machine.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
site=${1:-${MIXI_BENCH_DATA:+$MIXI_BENCH_DATA/site}}
mixi=${MIXI_BIN:-$repo/build-bench/cli/mixi-search}
omindex=${OMINDEX:-omindex}
reps=${REPS:-3}
spelling=${SPELLING:-1}

die() { echo "index_vs_omindex: $*" >&2; exit 1; }
[[ -n $site ]] || die "no site folder: give SITE_DIR or set MIXI_BENCH_DATA (bench/README.md, \"Data\", says where to get it; data/site in this repository also works)"
[[ -d $site ]] || die "no such folder: $site"
[[ -x $mixi ]] || die "mixi-search not found at $mixi (build it, or set MIXI_BIN)"
command -v "$omindex" >/dev/null || die "omindex not found (apt-get install xapian-omega)"
command -v xapian-delve >/dev/null || die "xapian-delve not found (apt-get install xapian-tools)"

work=$(mktemp -d /tmp/mixi-vs-omindex.XXXXXX)
cleanup() { [[ ${KEEP:-0} == 1 ]] || rm -rf "$work"; }
trap cleanup EXIT

configs=(mixi_t1 mixi_t2 omindex omindex_cjk_S)
[[ $spelling == 1 ]] && configs+=(omindex_S)

# omindex: only *.html / *.htm, read as text/html; every other file is skipped (the first
# matching -G pattern wins). --overwrite: always a new database.
omindex_args=(--overwrite --url / -G '*.html:text/html' -G '*.htm:text/html' -G '*:skip')

# command CONFIG DIR: sets cmd to the command that indexes $site into DIR.
command_for() {
    case $1 in
    mixi_t1) cmd=("$mixi" index build --quiet --threads 1 --index "$2" "$site") ;;
    mixi_t2) cmd=("$mixi" index build --quiet --threads 2 --index "$2" "$site") ;;
    omindex) cmd=("$omindex" "${omindex_args[@]}" --db "$2" "$site") ;;
    omindex_S) cmd=("$omindex" "${omindex_args[@]}" -S --db "$2" "$site") ;;
    omindex_cjk_S) cmd=(env XAPIAN_CJK_NGRAM=1 "$omindex" "${omindex_args[@]}" -S --db "$2" "$site") ;;
    esac
}

# The Xapian database directory of an index (mixi-search writes DIR/current -> versions/...).
database() {
    if [[ -e $1/current ]]; then readlink -f "$1/current"; else echo "$1"; fi
}

doccount() {
    xapian-delve "$(database "$1")" | sed -n 's/^number of documents = //p'
}

median() { sort -g | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

now() { date +%s.%N; }

# Warm the page cache so that no configuration pays for the first read of the pages.
find "$site" -type f -exec cat {} + >/dev/null

have_time=0
[[ -x /usr/bin/time ]] && /usr/bin/time -f %e true 2>/dev/null && have_time=1

declare -A wall cpu docs size
echo "site: $site ($(find "$site" -type f \( -name '*.html' -o -name '*.htm' \) | wc -l) HTML files, $(du -sb "$site" | cut -f1) bytes)"
echo "mixi-search: $mixi"
echo "omindex: $(command -v "$omindex") ($("$omindex" --version 2>&1 | head -1))"
echo "machine: $(nproc) cores; $reps runs each, medians"
echo
for ((r = 1; r <= reps; r++)); do
    for c in "${configs[@]}"; do
        dir=$work/$c.$r
        log=$work/$c.$r.log
        command_for "$c" "$dir"
        [[ $have_time == 1 ]] && cmd=(/usr/bin/time -o "$work/$c.$r.time" -f '%U %S' "${cmd[@]}")
        echo "${cmd[*]}" >"$log"
        t0=$(now)
        "${cmd[@]}" >>"$log" 2>&1 || { tail -5 "$log" >&2; die "$c failed (log $log)"; }
        t1=$(now)
        w=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}')
        wall[$c]+="$w "
        if [[ $have_time == 1 ]]; then
            cpu[$c]+="$(awk '{printf "%.2f", $1 + $2}' "$work/$c.$r.time") "
        fi
        docs[$c]=$(doccount "$dir")
        size[$c]=$(du -sb "$(database "$dir")" | cut -f1)
        printf '  run %d %-10s %8.2f s  %5s docs  %10s bytes\n' "$r" "$c" "$w" "${docs[$c]}" "${size[$c]}"
        [[ ${KEEP:-0} == 1 || $r == "$reps" ]] || rm -rf "$dir"
    done
done

echo
printf '%-13s %6s %9s %9s %9s %11s %11s %10s %9s %9s\n' config docs "wall s" "cpu s" "docs/s" "vs omindex" "vs cjk -S" "size B" "vs omindex" "vs cjk -S"
declare -A rate
for c in "${configs[@]}"; do
    w=$(tr ' ' '\n' <<<"${wall[$c]}" | grep . | median)
    rate[$c]=$(awk -v d="${docs[$c]}" -v w="$w" 'BEGIN {printf "%.1f", d / w}')
done
for c in "${configs[@]}"; do
    w=$(tr ' ' '\n' <<<"${wall[$c]}" | grep . | median)
    u=-
    [[ $have_time == 1 ]] && u=$(tr ' ' '\n' <<<"${cpu[$c]}" | grep . | median)
    printf '%-13s %6s %9.2f %9s %9s %10.2fx %10.2fx %10s %8.2fx %8.2fx\n' "$c" "${docs[$c]}" "$w" "$u" "${rate[$c]}" \
        "$(awk -v a="${rate[$c]}" -v b="${rate[omindex]}" 'BEGIN {print a / b}')" \
        "$(awk -v a="${rate[$c]}" -v b="${rate[omindex_cjk_S]}" 'BEGIN {print a / b}')" "${size[$c]}" \
        "$(awk -v a="${size[$c]}" -v b="${size[omindex]}" 'BEGIN {print a / b}')" \
        "$(awk -v a="${size[$c]}" -v b="${size[omindex_cjk_S]}" 'BEGIN {print a / b}')"
done

echo
check() { # check LABEL VALUE OP LIMIT
    local ok
    ok=$(awk -v v="$2" -v l="$4" -v op="$3" 'BEGIN {print (op == ">=" ? v >= l : v <= l) ? "PASS" : "FAIL"}')
    printf '%-52s %6.2f (target %s %s)  %s\n' "$1" "$2" "$3" "$4" "$ok"
}
check "docs/s, 2 threads / XAPIAN_CJK_NGRAM=1 omindex -S" "$(awk -v a="${rate[mixi_t2]}" -v b="${rate[omindex_cjk_S]}" 'BEGIN {print a / b}')" ">=" 1.5
check "index size / XAPIAN_CJK_NGRAM=1 omindex -S" "$(awk -v a="${size[mixi_t2]}" -v b="${size[omindex_cjk_S]}" 'BEGIN {print a / b}')" "<=" 1.25
echo "reference, plain omindex (no spelling data, no CJK segmentation):"
check "  docs/s, 1 thread / omindex" "$(awk -v a="${rate[mixi_t1]}" -v b="${rate[omindex]}" 'BEGIN {print a / b}')" ">=" 1.0
check "  docs/s, 2 threads / omindex" "$(awk -v a="${rate[mixi_t2]}" -v b="${rate[omindex]}" 'BEGIN {print a / b}')" ">=" 1.5
check "  index size / omindex" "$(awk -v a="${size[mixi_t1]}" -v b="${size[omindex]}" 'BEGIN {print a / b}')" "<=" 1.25
[[ ${docs[mixi_t1]} == "${docs[omindex]}" ]] ||
    echo "note: document counts differ (mixi ${docs[mixi_t1]}, omindex ${docs[omindex]})"
[[ ${KEEP:-0} == 1 ]] && echo "databases kept in $work"
exit 0
