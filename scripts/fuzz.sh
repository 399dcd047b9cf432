#!/usr/bin/env bash
# Builds the libFuzzer targets with clang-19 (ASan + UBSan, coverage on all of
# dlc's code, not only the entry point) and fuzzes the ONNX importer.
#
#   scripts/fuzz.sh [seconds=60] [build-dir=build-fuzz]
#
# Seeds come from tests/fuzz/corpus (read-only); new inputs go to
# <build-dir>/fuzz-corpus and crashes to <build-dir>/fuzz-artifacts/. Keep a
# crashing input, once fixed, in tests/fuzz/corpus/regressions/: the unit
# tests replay every corpus file. Needs libclang-rt-19-dev (libFuzzer runtime).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
build=${2:-build-fuzz}
sanitizers="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"

cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang-19 -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DDLC_FUZZ=ON -DDLC_BUILD_TESTS=OFF -DCMAKE_C_FLAGS="$sanitizers" >/dev/null
cmake --build "$build" -j2 --target onnx_import_fuzz

mkdir -p "$build/fuzz-corpus" "$build/fuzz-artifacts"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
"$build/onnx_import_fuzz" "$build/fuzz-corpus" tests/fuzz/corpus \
    -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$build/fuzz-artifacts/" -print_final_stats=1
