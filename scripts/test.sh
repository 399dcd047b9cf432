#!/usr/bin/env bash
# Everything CI checks, in one command:
#   1. release build (build/) and its unit tests (ctest)
#   2. AddressSanitizer + UndefinedBehaviorSanitizer build (build-asan/) and its unit tests
#   3. `dlc test` on the bundled models (models/) and on the zoo (../shared/zoo)
#   4. the ONNX backend suite: every case in tests/conformance/passing.txt still passes,
#      the tutorials' models (small variants, exported by torch) match ONNX Runtime,
#      and the text-generation example gives ONNX Runtime's tokens (scripts/check_generate.sh)
#   5. the ONNX Runtime comparison script runs (bench/compare.sh, a few runs; not timed)
# Every step runs even when an earlier one failed; the last line sums up, and
# the exit status is non-zero if any step failed.
#
#   bash scripts/test.sh            (JOBS=N to change build parallelism)
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
jobs="${JOBS:-$(nproc)}"
zoo="${DLC_ZOO:-$root/../shared/zoo}"
# the zoo's stated tolerance: ONNX Runtime and dlc may sum in different orders
zoo_models=(mlp_mnist simple_cnn resnet18_cifar resnet18_cifar_unfolded bert_tiny gpt2_tiny)

passed=()
failed=()
skipped=()
step() { # step NAME COMMAND...
    local name="$1"
    shift
    printf '\n== %s\n' "$name"
    local start=$SECONDS
    if "$@" </dev/null; then
        passed+=("$name")
        printf -- '-- %s: ok (%ds)\n' "$name" $((SECONDS - start))
    else
        failed+=("$name")
        printf -- '-- %s: FAILED (%ds)\n' "$name" $((SECONDS - start))
    fi
}

build() { # build DIR CMAKE_ARGS...
    local dir="$1"
    shift
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" && cmake --build "$dir" -j"$jobs"
}

# a clean machine gets its dependencies first (a no-op when all are present)
step "dependencies" bash scripts/setup.sh --deps-only
step "build" build build
step "unit tests" ctest --test-dir build --output-on-failure -j"$jobs"
step "build (asan+ubsan)" build build-asan -DDLC_SANITIZE=ON
step "unit tests (asan+ubsan)" env ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-asan --output-on-failure -j"$jobs"

step "dlc test models/" build/dlc test models --atol 1e-5
step "dlc test models/ (asan+ubsan)" build-asan/dlc test models --atol 1e-5

if [ -d "$zoo" ]; then
    dirs=()
    for m in "${zoo_models[@]}"; do dirs+=("$zoo/$m"); done
    step "dlc test zoo" build/dlc test "${dirs[@]}" --atol 1e-5 -j 2
else
    echo "no zoo at $zoo (set DLC_ZOO): skipping the zoo models"
    skipped+=("dlc test zoo")
fi

step "ONNX backend suite: listed cases still pass" bash scripts/conformance.sh --build build

# the tutorials' models, small variants (scripts/gen_tutorial_models.py): torch
# exports them, ONNX Runtime computes the expected outputs (~15 s + ~30 s)
if ! /usr/bin/python3 -c 'import torch, torchvision' 2>/dev/null; then
    echo "/usr/bin/python3 cannot import torch/torchvision (apt-get install python3-torch python3-torchvision): skipping the tutorial models"
    skipped+=("tutorial models")
elif [ ! -f third_party/node_modules/onnxruntime-node/package.json ]; then
    echo "ONNX Runtime not installed (bash scripts/setup.sh): skipping the tutorial models"
    skipped+=("tutorial models")
else
    step "tutorial models: export" /usr/bin/python3 scripts/gen_tutorial_models.py
    step "dlc test tutorial models" build/dlc test tests/generated/tutorial --atol 1e-4 -j 2
    # examples/generate.c: greedy tokens equal ONNX Runtime's, seeded top-k sampling (~20 s)
    step "text generation: example vs ONNX Runtime" bash scripts/check_generate.sh --build build
fi

if [ -f third_party/node_modules/onnxruntime-node/package.json ] && [ -d "$zoo" ]; then
    step "bench/compare.sh runs" bash bench/compare.sh --build build --zoo "$zoo" --runs 3 mlp_mnist simple_cnn
else
    echo "ONNX Runtime not installed (bash scripts/setup.sh): skipping bench/compare.sh"
    skipped+=("bench/compare.sh")
fi

printf '\n'
[ ${#failed[@]} -eq 0 ] || printf 'failed steps: %s\n' "$(IFS=,; echo "${failed[*]}")"
summary="test.sh: ${#passed[@]} passed, ${#failed[@]} failed"
[ ${#skipped[@]} -eq 0 ] || summary+=", ${#skipped[@]} skipped"
echo "$summary"
[ ${#failed[@]} -eq 0 ]
