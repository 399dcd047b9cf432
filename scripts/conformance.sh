#!/usr/bin/env bash
# The ONNX backend suite as a gate: every case listed in
# tests/conformance/passing.txt must still pass, so coverage only goes up.
#
#   bash scripts/conformance.sh [--build DIR] [-O LEVEL] [--update] [--report]
#
# Generates the suite from Debian's python3-onnx into tests/generated/backend
# (scripts/gen_backend_tests.sh, ~2 s), runs `dlc test` on the node and
# simple cases (about a minute on 2 cores), prints cases that dropped out
# (and fails) and cases that newly pass (--update records them). --report
# also rewrites docs/conformance.md from these results (per-op table and the
# ONNX Runtime comparison, scripts/conformance_report.py; the results are kept
# in DIR/conformance-results.txt). The `real` cases
# need model downloads and are not run. -O compiles every case at that
# optimization level (default: dlc's, -O2); the pass list holds at every level.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$root/build"
update=0
report=0
opt=()
while [ $# -gt 0 ]; do
    case "$1" in
        --build) build="$2"; shift 2 ;;
        -O) opt=(-O "$2"); shift 2 ;;
        -O[0-3]) opt=(-O "${1#-O}"); shift ;;
        --update) update=1; shift ;;
        --report) report=1; shift ;;
        -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
        *) echo "conformance.sh: unknown option '$1'" >&2; exit 2 ;;
    esac
done

suite="$root/tests/generated/backend"
list="$root/tests/conformance/passing.txt"
# beside the build, so that checkouts sharing one generated suite (worktrees
# with tests/generated linked) never write one results file at once
results="$build/conformance-results.txt"
mkdir -p "$root/tests/generated"

[ -x "$build/dlc" ] || { echo "conformance.sh: no $build/dlc (build first, or --build DIR)" >&2; exit 1; }
# always regenerated: cheap, and a newer python3-onnx cannot leave stale cases
bash "$root/scripts/gen_backend_tests.sh" "$suite" >/dev/null ||
    { echo "conformance.sh: generating the ONNX backend suite failed" >&2; exit 1; }
start=$SECONDS

: >"$results"
for group in node simple; do
    # one line per case; the prefix keeps node/ and simple/ names apart
    "$build/dlc" test "$suite/$group" "${opt[@]}" -j "$(nproc)" --timeout 120 </dev/null 2>&1 |
        sed -n -E "s#^(PASS|FAIL|UNSUPPORTED) ([^ :]+)#\1 $group/\2#p" >>"$results"
done

passing_now="$(sed -n -E 's/^PASS ([^ ]+).*/\1/p' "$results" | sort -u)"
total="$(wc -l <"$results")"
npass="$(printf '%s\n' "$passing_now" | grep -c . || true)"
echo "conformance: $npass of $total backend cases pass (node + simple; $((SECONDS - start)) s)"
[ -d "$suite/real" ] && echo "conformance: the $(ls "$suite/real" | wc -l) 'real' cases are not run (their models are downloads)"
if [ "$report" = 1 ]; then
    /usr/bin/python3 "$root/scripts/conformance_report.py" --results "$results" ||
        { echo "conformance.sh: writing the report failed" >&2; exit 1; }
fi

touch "$list"
dropped="$(comm -23 <(sort -u "$list") <(printf '%s\n' "$passing_now"))"
gained="$(comm -13 <(sort -u "$list") <(printf '%s\n' "$passing_now"))"
if [ -n "$gained" ]; then
    echo "newly passing ($(printf '%s\n' "$gained" | wc -l)):"
    printf '  %s\n' $gained
fi
if [ "$update" = 1 ]; then
    printf '%s\n' "$passing_now" | grep . >"$list"
    echo "updated $list"
fi
if [ -n "$dropped" ] && [ "$update" = 0 ]; then
    echo "NO LONGER PASSING ($(printf '%s\n' "$dropped" | wc -l)):"
    for c in $dropped; do
        grep -E "^(FAIL|UNSUPPORTED) $c( |:|$)" "$results" | cut -c1-300 | sed 's/^/  /' || echo "  $c (not run)"
    done
    exit 1
fi
exit 0
