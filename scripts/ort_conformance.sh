#!/usr/bin/env bash
# Runs ONNX Runtime (npm onnxruntime-node, third_party/) over the same ONNX
# backend cases as scripts/conformance.sh, with the same rule (rtol 1e-3,
# atol 1e-7), and records the cases it passes in
# tests/conformance/ort_passing.txt (checked in, so the report can compare
# without ORT installed); the lines with reasons go to
# tests/generated/ort-results.txt. A few seconds.
#
#   bash scripts/ort_conformance.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
suite="$root/tests/generated/backend"
results="$root/tests/generated/ort-results.txt"
list="$root/tests/conformance/ort_passing.txt"

bash "$root/scripts/gen_backend_tests.sh" "$suite" >/dev/null
: >"$results"
for group in node simple; do
    node "$root/tests/ort/ort_conformance.js" "$suite/$group" </dev/null |
        sed -n -E "s#^(PASS|FAIL|UNSUPPORTED) ([^ :]+)#\1 $group/\2#p" >>"$results"
done
sed -n -E 's/^PASS ([^ ]+).*/\1/p' "$results" | sort -u >"$list"
echo "ort_conformance.sh: ONNX Runtime passes $(wc -l <"$list") of $(wc -l <"$results") cases; wrote $list"
