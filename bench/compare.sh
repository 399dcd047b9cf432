#!/usr/bin/env bash
# Latency of dlc next to ONNX Runtime on the zoo models, measured in the same
# run on the same inputs: median of N runs each, and the ratio dlc/ORT.
#
#   bash bench/compare.sh [--threads N] [--runs N] [--rounds N] [--build DIR] [--zoo DIR] [MODEL...]
#
# dlc and ORT take turns, --rounds times (default 3), N runs each per turn;
# the table gives the medians over rounds and the median of the rounds'
# ratios. On a VM whose two cores are sometimes one core's two hyperthreads
# (2-thread runs then take ~40% longer, for seconds at a time) a ratio of
# back-to-back turns is far steadier than one of two separate sessions.
#
# Also the process CPU time per run of each (all threads together): on a
# machine shared with other work, wall time counts waiting for a core and CPU
# time does not, so the CPU ratio is the steadier one at --threads 1.
#
# Not a timed test: CI only checks that it runs (use a small --runs there).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
threads=1
runs=50
rounds=3
build="$root/build"
zoo="$root/../shared/zoo"
[ -d "$zoo" ] || zoo="$root/../../shared/zoo" # a worktree under work/wt/NAME
models=()
while [ $# -gt 0 ]; do
    case "$1" in
        --threads) threads="$2"; shift 2 ;;
        --runs) runs="$2"; shift 2 ;;
        --rounds) rounds="$2"; shift 2 ;;
        --build) build="$2"; shift 2 ;;
        --zoo) zoo="$2"; shift 2 ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        -*) echo "compare.sh: unknown option '$1'" >&2; exit 2 ;;
        *) models+=("$1"); shift ;;
    esac
done
[ ${#models[@]} -gt 0 ] || models=(mlp_mnist simple_cnn resnet18_cifar resnet18_cifar_unfolded bert_tiny gpt2_tiny)

dlc="$build/dlc"
[ -x "$dlc" ] || { echo "compare.sh: $dlc not found; build first (bash scripts/setup.sh)" >&2; exit 1; }
work="$(mktemp -d "${TMPDIR:-/tmp}/dlc-bench-XXXXXX")"
trap 'rm -rf "$work"' EXIT

median_of() { sed -n 's/.*median \([0-9.]*\) ms.*/\1/p' "$1" | head -n 1; }
cpu_of() { sed -n 's/.*cpu \([0-9.]*\) ms\/run.*/\1/p' "$1" | head -n 1; }

median_list() { tr ' ' '\n' | sed '/^$/d' | sort -g | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

printf '| model | dlc median (ms) | ONNX Runtime median (ms) | dlc / ORT | dlc cpu/run (ms) | ORT cpu/run (ms) | cpu dlc / ORT |\n'
printf '|---|---:|---:|---:|---:|---:|---:|\n'
for name in "${models[@]}"; do
    dir="$zoo/$name"
    if [ ! -f "$dir/model.onnx" ]; then
        printf '| %s | missing | | |\n' "$name"
        continue
    fi
    inputs=()
    for f in "$dir"/test_data_set_0/input_*.pb; do inputs+=(-i "$f"); done
    dlc_all="" ort_all="" dlc_cpus="" ort_cpus="" ratios="" cpu_ratios="" dlc_failed="" ort_failed=""
    for round in $(seq "$rounds"); do
        d="" o="" dc="" oc=""
        # an .onnx is compiled on the fly (symbolic dims bound from the stored inputs), then timed
        if "$dlc" bench "$dir/model.onnx" "${inputs[@]}" --threads "$threads" --runs "$runs" >"$work/$name.dlc" 2>"$work/$name.dlc.err"; then
            d="$(median_of "$work/$name.dlc")" dc="$(cpu_of "$work/$name.dlc")"
        else dlc_failed=1; fi
        if node "$root/tests/ort/ort_run.js" "$dir/model.onnx" "${inputs[@]}" --threads "$threads" --runs "$runs" \
            >"$work/$name.ort" 2>"$work/$name.ort.err"; then
            o="$(median_of "$work/$name.ort")" oc="$(cpu_of "$work/$name.ort")"
        else ort_failed=1; fi
        [ -n "$dlc_failed$ort_failed" ] && break
        dlc_all+=" $d" ort_all+=" $o" dlc_cpus+=" $dc" ort_cpus+=" $oc"
        ratios+=" $(awk -v a="$d" -v b="$o" 'BEGIN { if (b > 0) print a / b }')"
        cpu_ratios+=" $(awk -v a="$dc" -v b="$oc" 'BEGIN { if (b > 0) print a / b }')"
    done
    dlc_ms="$(median_list <<<"$dlc_all")" ort_ms="$(median_list <<<"$ort_all")"
    dlc_cpu="$(median_list <<<"$dlc_cpus")" ort_cpu="$(median_list <<<"$ort_cpus")"
    ratio="$(median_list <<<"$ratios")" cpu_ratio="$(median_list <<<"$cpu_ratios")"
    [ -n "$ratio" ] && ratio="$(printf '%.2fx' "$ratio")"
    [ -n "$cpu_ratio" ] && cpu_ratio="$(printf '%.2fx' "$cpu_ratio")"
    for v in dlc_ms ort_ms dlc_cpu ort_cpu; do [ -n "${!v}" ] && printf -v "$v" '%.4f' "${!v}"; done
    [ -z "$dlc_failed" ] || dlc_ms="failed: $(head -c 80 "$work/$name.dlc.err" | tr '\n|' '  ')"
    [ -z "$ort_failed" ] || ort_ms="failed: $(head -c 80 "$work/$name.ort.err" | tr '\n|' '  ')"
    printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$name" "$dlc_ms" "$ort_ms" "$ratio" "$dlc_cpu" "$ort_cpu" "$cpu_ratio"
done
printf '\n%s threads, %s rounds of %s runs each (dlc and ORT in turn), median latency of one inference; host: %s\n' \
    "$threads" "$rounds" "$runs" "$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2 | sed 's/^ //' || uname -m)"
