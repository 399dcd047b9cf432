#!/usr/bin/env bash
# Latency of dlc next to ONNX Runtime on the zoo models, measured in the same
# run on the same inputs: median of N runs each, and the ratio dlc/ORT.
#
#   bash bench/compare.sh [--threads N] [--runs N] [--build DIR] [--zoo DIR] [MODEL...]
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
build="$root/build"
zoo="$root/../shared/zoo"
[ -d "$zoo" ] || zoo="$root/../../shared/zoo" # a worktree under work/wt/NAME
models=()
while [ $# -gt 0 ]; do
    case "$1" in
        --threads) threads="$2"; shift 2 ;;
        --runs) runs="$2"; shift 2 ;;
        --build) build="$2"; shift 2 ;;
        --zoo) zoo="$2"; shift 2 ;;
        -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
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
ratio_of() { [ -n "$1" ] && [ -n "$2" ] && awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b }'; }

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
    dlc_ms="" ort_ms="" dlc_cpu="" ort_cpu=""
    # an .onnx is compiled on the fly (symbolic dims bound from the stored inputs), then timed
    if "$dlc" bench "$dir/model.onnx" "${inputs[@]}" --threads "$threads" --runs "$runs" >"$work/$name.dlc" 2>"$work/$name.dlc.err"; then
        dlc_ms="$(median_of "$work/$name.dlc")"
        dlc_cpu="$(cpu_of "$work/$name.dlc")"
    fi
    if node "$root/tests/ort/ort_run.js" "$dir/model.onnx" "${inputs[@]}" --threads "$threads" --runs "$runs" \
        >"$work/$name.ort" 2>"$work/$name.ort.err"; then
        ort_ms="$(median_of "$work/$name.ort")"
        ort_cpu="$(cpu_of "$work/$name.ort")"
    fi
    ratio="$(ratio_of "$dlc_ms" "$ort_ms" || true)"
    cpu_ratio="$(ratio_of "$dlc_cpu" "$ort_cpu" || true)"
    [ -n "$dlc_ms" ] || dlc_ms="failed: $(head -c 80 "$work/$name.dlc.err" | tr '\n|' '  ')"
    [ -n "$ort_ms" ] || ort_ms="failed: $(head -c 80 "$work/$name.ort.err" | tr '\n|' '  ')"
    printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$name" "$dlc_ms" "$ort_ms" "$ratio" "$dlc_cpu" "$ort_cpu" "$cpu_ratio"
done
printf '\n%s threads, %s runs each, median latency of one inference; host: %s\n' "$threads" "$runs" \
    "$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2 | sed 's/^ //' || uname -m)"
