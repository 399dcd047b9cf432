#!/usr/bin/env bash
# Sets dlc up on a fresh Debian 12: system packages (only the missing ones),
# ONNX Runtime for reference comparisons (npm, into third_party/), a release
# build in build/, then compiles the bundled MNIST model and runs it twice:
# with `dlc run` and with the plain C example (examples/classify.c).
#
#   bash scripts/setup.sh              everything
#   bash scripts/setup.sh --deps-only  only the packages and ONNX Runtime (used by scripts/test.sh)
#
# Works unattended (CI=true, no stdin). Uses sudo for apt-get when not root.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
say() { printf '\n== %s\n' "$*"; }

# ---- system packages ---------------------------------------------------------
packages=(cmake make gcc g++ llvm-19-dev clang-19 libprotobuf-c-dev protobuf-c-compiler
          libonnx-dev python3-onnx python3-numpy libcriterion-dev
          python3-torch python3-torchvision)
# node/npm may come from nodesource (whose nodejs bundles npm): never replace them
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    say "installing: ${missing[*]}"
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 || { echo "setup.sh: need root or sudo to install ${missing[*]}" >&2; exit 1; }
        sudo="sudo"
    fi
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update
    $sudo apt-get install -y --no-install-recommends "${missing[@]}" </dev/null
else
    say "system packages: all present"
fi

# ---- ONNX Runtime (reference for tests/ort and bench) -------------------------
say "ONNX Runtime (npm onnxruntime-node) into third_party/"
if [ -f third_party/node_modules/onnxruntime-node/package.json ] &&
   grep -q '"version": "1.30.0"' third_party/node_modules/onnxruntime-node/package.json; then
    echo "onnxruntime-node 1.30.0 already installed"
else
    # --ignore-scripts: the CPU binaries ship in the package; the install
    # script would only fetch optional GPU providers
    (cd third_party && npm install --ignore-scripts --no-audit --no-fund </dev/null)
fi

if [ "${1:-}" = "--deps-only" ]; then
    exit 0
fi

# ---- build ----------------------------------------------------------------------
say "build (build/)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$(nproc)"

# ---- the bundled example model ---------------------------------------------------
model=models/mlp_mnist
say "compile $model/model.onnx"
mkdir -p build/models
build/dlc compile "$model/model.onnx" -o build/models/mlp_mnist.so

say "dlc run on $model/test_data_set_0/input_0.pb"
build/dlc run build/models/mlp_mnist.so -i "$model/test_data_set_0/input_0.pb" -o build/models/mlp_mnist_out

say "examples/classify.c (dlc.h + libdlcrt only) on the same input"
/usr/bin/python3 - "$model/test_data_set_0/input_0.pb" build/models/mlp_mnist_input.raw <<'PY'
import sys
import numpy as np
import onnx
from onnx import numpy_helper
array = numpy_helper.to_array(onnx.load_tensor(sys.argv[1])).astype(np.float32)
array.tofile(sys.argv[2])
PY
build/example_classify build/models/mlp_mnist.so build/models/mlp_mnist_input.raw

say "done: try 'bash scripts/test.sh' next"
