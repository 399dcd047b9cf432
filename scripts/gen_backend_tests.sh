#!/usr/bin/env bash
# Generates the official ONNX backend test suite (node, simple, real) from
# Debian's python3-onnx into tests/generated/backend (gitignored), about 3 s.
#
#   bash scripts/gen_backend_tests.sh [--force] [OUTDIR]
#
# Idempotent: OUTDIR/.stamp records the onnx version and the generator's
# hash; when they match, nothing is rewritten (so a run that is reading the
# suite is not disturbed). Otherwise (or with --force) the suite is generated
# into a fresh folder beside OUTDIR and swapped in, so no stale cases survive
# (the generators are deterministic). The `real` cases only hold model
# download stubs; scripts/conformance.sh runs node and simple.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
force=0
if [ "${1:-}" = --force ]; then force=1; shift; fi
out="${1:-$root/tests/generated/backend}"
python=/usr/bin/python3 # Debian's: it has python3-onnx (1.12) and numpy

if ! "$python" -c 'import onnx' 2>/dev/null; then
    echo "gen_backend_tests.sh: $python cannot import onnx (apt-get install python3-onnx)" >&2
    exit 1
fi
stamp="onnx $("$python" -c 'import onnx; print(onnx.__version__)') generator $(sha256sum <"$root/scripts/gen_backend_tests.py" | cut -c1-16)"
if [ "$force" = 0 ] && [ "$(cat "$out/.stamp" 2>/dev/null)" = "$stamp" ]; then
    echo "gen_backend_tests.sh: $out is up to date ($stamp)"
    exit 0
fi
mkdir -p "$(dirname "$out")"
tmp="$(mktemp -d "$out.new.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
"$python" "$root/scripts/gen_backend_tests.py" "$tmp" >/dev/null
for group in node simple; do
    [ -d "$tmp/$group" ] || { echo "gen_backend_tests.sh: no $group cases were generated" >&2; exit 1; }
done
echo "$stamp" >"$tmp/.stamp"
rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
echo "gen_backend_tests.sh: $(ls "$out/node" | wc -l) node, $(ls "$out/simple" | wc -l) simple cases in $out"
