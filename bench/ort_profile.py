#!/usr/bin/env python3
"""Per-node time of an ONNX Runtime profile, next to `dlc profile`.

    node tests/ort/ort_run.js model.onnx -i in.pb --runs 50 --profile /tmp/ort
    python3 bench/ort_profile.py /tmp/ort_*.json [--top N]

Prints each node's mean kernel time per run (ms), slowest first, and the
total. ORT names a node after its first output (its layout-transformed,
fused nodes end in _nchwc), so match them to dlc's by the layer path.
"""
import argparse
import collections
import json
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("trace", help="the JSON file ort_run.js --profile wrote")
    ap.add_argument("--top", type=int, default=0, help="lines to print (0: all)")
    args = ap.parse_args()
    try:
        with open(args.trace) as f:
            events = json.load(f)
    except (OSError, ValueError) as e:
        sys.exit(f"ort_profile.py: {args.trace}: {e}")
    runs = sum(1 for e in events if e.get("name") == "model_run")
    if runs == 0:
        sys.exit(f"ort_profile.py: {args.trace}: no model_run events (was --runs given?)")
    per_node = collections.defaultdict(float)
    for e in events:
        name = e.get("name", "")
        if e.get("cat") == "Node" and name.endswith("_kernel_time"):
            per_node[name[: -len("_kernel_time")]] += e.get("dur", 0)
    rows = sorted(per_node.items(), key=lambda kv: -kv[1])
    if args.top > 0:
        rows = rows[: args.top]
    total = sum(per_node.values()) / runs / 1000
    print(f"{runs} runs (warm-up included); kernels {total:.4f} ms per run")
    print("   ms/run   share  node")
    for name, us in rows:
        ms = us / runs / 1000
        print(f"{ms:9.4f} {100 * ms / total if total else 0:6.1f}%  {name}")


if __name__ == "__main__":
    main()
