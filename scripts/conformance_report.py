#!/usr/bin/python3
"""Writes docs/conformance.md: how dlc does on the ONNX backend suite, per op,
with the reason for every case that does not pass, and how that compares with
ONNX Runtime on the same cases.

    /usr/bin/python3 scripts/conformance_report.py [--results FILE] [--out FILE]

Reads the `dlc test` lines scripts/conformance.sh leaves in
build/conformance-results.txt (run `bash scripts/conformance.sh
--report` to do both), ONNX Runtime's pass list tests/conformance/ort_passing.txt
(and its reasons from tests/generated/ort-results.txt when present; both from
scripts/ort_conformance.sh) and the cases' models (for the op names).
"""
import argparse
import collections
import fnmatch
import os
import re
import sys

import onnx
from onnx import defs

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SUITE = os.path.join(ROOT, "tests", "generated", "backend")
# "PASS node/test_x (bound: shape)" names inputs bound to their values
LINE = re.compile(r"^(PASS|FAIL|UNSUPPORTED) (\S+?)(?:: (.*)| \((.*)\))?$")


def read_results(path):
    """{case: (verdict, message)} from lines like 'FAIL node/test_x: why'."""
    results = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = LINE.match(line.rstrip("\n"))
            if m:
                results[m.group(2)] = (m.group(1), m.group(3) or m.group(4) or "")
    return results


def read_list(path):
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        return {line.strip() for line in f if line.strip()}


# Cases whose expected outputs do not follow from their model and the spec
# (read off the generators of Debian's onnx 1.12 in
# onnx/backend/test/case/node/): the reason is printed under the case, so a
# quirk is not mistaken for a dlc bug. fnmatch patterns.
TEST_DATA_QUIRKS = [
    ("node/test_adam_multiple",
     "test data: the expected values were computed with epsilon=1e-2, which the node does not carry, so the "
     "spec's default 1e-6 applies (it gives dlc's 0.755959)"),
    ("node/test_bernoulli*",
     "test data: the reference draws from numpy's global generator, unseeded and shared with the draws of the "
     "input; the generator itself says implementations may differ even with a seed"),
    ("node/test_cast*_FLOAT_to_BFLOAT16*",
     "test data: the generator truncates float32 to bfloat16 (keeps the high 16 bits); dlc rounds to nearest even"),
    ("node/test_castlike_*BFLOAT16*",
     "test data: the model declares 'like' with the output's shape [3,4] but its data holds one element"),
]


def quirk(case):
    for pattern, why in TEST_DATA_QUIRKS:
        if fnmatch.fnmatchcase(case, pattern):
            yield why


def shorten(message, case):
    """The reason without the folder paths dlc prints (they only repeat the case)."""
    message = re.sub(r"\S*/" + re.escape(case.split("/")[-1]) + r"/(\S*?)(?=[:)\s]|$)", r"\1", message)
    message = re.sub(r"^model\.onnx: ", "", message)
    message = re.sub(r"\s+", " ", message).strip()
    return message if len(message) <= 200 else message[:197] + "..."


def op_names():
    """Every op of onnx's schemas, keyed by the spellings case names use:
    'reduce_sum', 'reducesum' -> 'ReduceSum'."""
    names = {}
    for schema in defs.get_all_schemas_with_history():
        op = schema.name
        snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", op).lower()
        prefix = "" if schema.domain in ("", "ai.onnx") else schema.domain + "."
        for key in (snake, op.lower()):
            names.setdefault(key, prefix + op)
    return names


def model_ops(case):
    path = os.path.join(SUITE, case, "model.onnx")
    try:
        model = onnx.load(path, load_external_data=False)
    except Exception:  # a case whose model does not load still gets a row
        return []
    ops = []
    for node in model.graph.node:
        op = node.op_type if node.domain in ("", "ai.onnx") else node.domain + "." + node.op_type
        if op not in ops:
            ops.append(op)
    return ops


# case-name abbreviations onnx uses for a few ops
ABBREVIATIONS = {"nllloss": "NegativeLogLikelihoodLoss", "sce": "SoftmaxCrossEntropyLoss",
                 "mvn": "MeanVarianceNormalization"}


def case_op(case, names):
    """The op a case tests: the model's only op, else the longest op name the
    case's name starts with (expanded cases hold other ops but are named
    after the function they expand: test_sce_mean_expanded ->
    SoftmaxCrossEntropyLoss), else the model's ops joined."""
    ops = [op for op in model_ops(case) if op != "Constant"] or model_ops(case)
    if len(ops) == 1:
        return ops[0]
    stem = case.split("/")[-1]
    stem = stem[len("test_"):] if stem.startswith("test_") else stem
    names = dict(names, **ABBREVIATIONS)
    best = None
    for key, op in names.items():
        if (stem == key or stem.startswith(key + "_")) and (best is None or len(key) > len(best[0])):
            best = (key, op)
    if best is not None:
        return best[1]
    return "+".join(ops[:3]) + ("+..." if len(ops) > 3 else "") if ops else "(no model)"


def md_list(cases, reasons=None, limit=None):
    lines = []
    for case in sorted(cases)[:limit]:
        why = reasons.get(case) if reasons else None
        lines.append(f"- `{case}`" + (f": {why}" if why else ""))
    if limit is not None and len(cases) > limit:
        lines.append(f"- ... and {len(cases) - limit} more")
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--results", default=os.path.join(ROOT, "build", "conformance-results.txt"))
    ap.add_argument("--ort-list", default=os.path.join(ROOT, "tests", "conformance", "ort_passing.txt"))
    ap.add_argument("--ort-results", default=os.path.join(ROOT, "tests", "generated", "ort-results.txt"))
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "conformance.md"))
    args = ap.parse_args()

    if not os.path.exists(args.results):
        sys.exit(f"conformance_report.py: no {args.results}: run bash scripts/conformance.sh first")
    results = read_results(args.results)
    if not results:
        sys.exit(f"conformance_report.py: {args.results} holds no result lines")
    names = op_names()

    per_op = collections.defaultdict(lambda: collections.Counter())
    not_passing = collections.defaultdict(list)
    groups = collections.defaultdict(collections.Counter)
    for case, (verdict, message) in sorted(results.items()):
        op = case_op(case, names)
        per_op[op]["cases"] += 1
        per_op[op][verdict] += 1
        groups[case.split("/")[0]][verdict] += 1
        if verdict != "PASS":
            not_passing[op].append((case, verdict, shorten(message, case)))

    total = len(results)
    dlc_pass = {c for c, (v, _) in results.items() if v == "PASS"}
    count = collections.Counter(v for v, _ in results.values())
    out = []
    out.append("# ONNX backend conformance")
    out.append("")
    out.append("Generated by `bash scripts/conformance.sh --report` (or `/usr/bin/python3 scripts/conformance_report.py` "
               "on the last results); do not edit by hand. The cases are the ONNX backend suite of Debian's "
               f"python3-onnx {onnx.__version__} (`node` and `simple`; `real` needs model downloads and is not run), "
               "generated by `scripts/gen_backend_tests.sh`. A case passes when every output matches with "
               "|got - expected| <= 1e-7 + 1e-3 * |expected| (NaN equal to NaN; integers exactly). Cases listed in "
               "`tests/conformance/passing.txt` must keep passing (`scripts/test.sh` checks it).")
    out.append("")
    out.append("## Totals")
    out.append("")
    out.append("| suite | cases | passed | failed | unsupported |")
    out.append("|---|---:|---:|---:|---:|")
    for group in sorted(groups):
        c = groups[group]
        out.append(f"| {group} | {sum(c.values())} | {c['PASS']} | {c['FAIL']} | {c['UNSUPPORTED']} |")
    out.append(f"| **all** | **{total}** | **{count['PASS']}** | **{count['FAIL']}** | **{count['UNSUPPORTED']}** |")
    out.append("")
    out.append("FAIL: dlc compiled the model but an output differs, or a run or data file failed; UNSUPPORTED: dlc "
               "declined the model at compile time (an op, dtype or dynamic shape it does not handle).")
    out.append("")

    out.append("## Compared with ONNX Runtime")
    out.append("")
    ort_pass = read_list(args.ort_list)
    if ort_pass is None:
        out.append(f"No `{os.path.relpath(args.ort_list, ROOT)}`: run `bash scripts/ort_conformance.sh` "
                   "(needs node and onnxruntime-node from `bash scripts/setup.sh --deps-only`).")
    else:
        ort_pass &= set(results)
        ort_reasons = {}
        if os.path.exists(args.ort_results):
            ort_reasons = {c: shorten(m, c) for c, (v, m) in read_results(args.ort_results).items() if v != "PASS"}
        dlc_only = dlc_pass - ort_pass
        ort_only = ort_pass - dlc_pass
        out.append(f"ONNX Runtime 1.30 (CPU, npm onnxruntime-node) on the same cases with the same rule "
                   f"(`scripts/ort_conformance.sh`, cached in `tests/conformance/ort_passing.txt`): "
                   f"**dlc passes {len(dlc_pass)}, ORT passes {len(ort_pass)}, both {len(dlc_pass & ort_pass)}, "
                   f"dlc-only {len(dlc_only)}, ORT-only {len(ort_only)}** (of {total}). The runner "
                   "(`tests/ort/ort_conformance.js`) feeds tensor files only, so cases whose data are sequences or "
                   "optionals count as ORT failures (dlc reads them as each model declares them); StringNormalizer "
                   "cases need the en_US.UTF-8 locale installed.")
        out.append("")
        out.append(f"### ORT-only ({len(ort_only)}): ONNX Runtime passes, dlc does not (dlc's reason)")
        out.append("")
        out += md_list(ort_only, {c: results[c][0] + ": " + shorten(results[c][1], c) for c in ort_only}) or ["(none)"]
        out.append("")
        out.append(f"### dlc-only ({len(dlc_only)}): dlc passes, ONNX Runtime does not (ORT's reason)")
        out.append("")
        out += md_list(dlc_only, ort_reasons) or ["(none)"]
        out.append("")

    out.append("## Per op")
    out.append("")
    out.append("The op is the model's only op, or for a model of several (an expanded function) the op the case "
               "is named after.")
    out.append("")
    out.append("| op | cases | passed | failed | unsupported |")
    out.append("|---|---:|---:|---:|---:|")
    for op in sorted(per_op, key=str.lower):
        c = per_op[op]
        mark = "" if c["PASS"] == c["cases"] else " *"
        out.append(f"| {op}{mark} | {c['cases']} | {c['PASS']} | {c['FAIL']} | {c['UNSUPPORTED']} |")
    out.append("")
    out.append("`*`: not every case passes; the reasons follow.")
    out.append("")
    out.append("## Cases that do not pass, by op")
    out.append("")
    for op in sorted(not_passing, key=str.lower):
        out.append(f"### {op}")
        out.append("")
        for case, verdict, why in not_passing[op]:
            out.append(f"- `{case}` {verdict}: {why}")
            out += [f"  - {note}" for note in quirk(case)]
        out.append("")

    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write("\n".join(out).rstrip("\n") + "\n")
    print(f"conformance_report.py: wrote {args.out} "
          f"({count['PASS']} of {total} pass; {len(per_op)} ops)")


if __name__ == "__main__":
    main()
