#!/usr/bin/python3
"""Exports the GPT-2-style decoder used by examples/generate.c, in two forms.

    OUT/gpt2_lm.onnx        input_ids int64[1, sequence] -> logits float32[1, sequence, vocab]
    OUT/gpt2_lm_past.onnx   input_ids int64[1, sequence], attention_mask int64[1, total_sequence],
                            position_ids int64[1, sequence],
                            past_key_i / past_value_i float32[1, heads, past_sequence, head_dim]
                            -> logits, present_key_i / present_value_i [1, heads, total_sequence, head_dim]

(total_sequence = past_sequence + sequence; HuggingFace's GPT-2 export with
use_cache has these inputs.) The attention mask lets a fixed-size cache work:
compiled for one past length, unused slots are masked (examples/generate.c).

Both come from the same module (scripts/gen_tutorial_models.py: GPT2 and
GPT2WithPast) with the same seeded random weights (nothing is downloaded;
spread wider than usual, see spread_weights), so
a greedy loop over either gives the same tokens. The small variant (vocab 97,
32 hidden, 2 layers, 4 heads, 64 positions) is for CI; --full is GPT-2 small's
size (vocab 50257, 768 hidden, 12 layers, 12 heads, 1024 positions, ~500 MB).

    /usr/bin/python3 scripts/gen_generate_models.py [--full] [--out DIR] [--dlc build/dlc [--context T]]

--dlc also compiles them: OUT/gpt2_lm_dynamic.so with the sequence length
symbolic (one artifact for every length), and for a context of T tokens
(--context, default 32), binding every symbolic dim with --shape,
OUT/gpt2_lm.so running input_ids [1, T] (the example right-pads) and
OUT/gpt2_lm_past.so running one new token against T - 1 cached slots
(attention_mask [1, T]). examples/generate.c runs any of the three.

Exit status: 0 when both models were written, 1 on failure, 2 when torch
cannot be imported (callers may treat that as "skip").
"""
import argparse
import os
import subprocess
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_tutorial_models as tut  # noqa: E402  (the model definitions)

ROOT = tut.ROOT


def spread_weights(model, hidden):
    """Random weights of the usual scales make a decoder whose logits are its
    input token's embedding (tied lm_head) or one favourite token: greedy
    decoding repeats one id, which would make "same tokens as ONNX Runtime" a
    weak check. Wider weights (std 1.7/sqrt(hidden): 0.3 for the small model)
    let the context decide, and greedy continuations vary from step to step."""
    nn = tut.nn
    std = 1.7 / hidden ** 0.5
    with tut.torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, 0.0, std)


def export(full, out):
    torch = tut.torch
    torch.manual_seed(0)
    config = tut.gpt2_config(full)
    model = tut.GPT2(*config).eval()
    tut.randomize_norms(model)
    spread_weights(model, config[1])
    past_model = tut.GPT2WithPast(model).eval()
    vocab = tut.gpt2_config(full)[0]
    os.makedirs(out, exist_ok=True)
    ids = torch.randint(0, vocab, (1, 5), dtype=torch.long)
    with torch.no_grad():
        torch.onnx.export(model, (ids,), os.path.join(out, "gpt2_lm.onnx"), opset_version=15,
                          input_names=["input_ids"], output_names=["logits"],
                          dynamic_axes={"input_ids": {1: "sequence"}, "logits": {1: "sequence"}},
                          do_constant_folding=True)
        # traced with 2 new tokens after 3 cached ones: nothing may be specialized to 1 or 0
        feeds = tut.gpt2_past_inputs(full, 2, 3)
        axes = tut.gpt2_past_axes(full)
        for v in axes.values():
            v.pop(0, None)  # generation runs batch 1; keep the batch dim static
        torch.onnx.export(past_model, tuple(feeds.values()), os.path.join(out, "gpt2_lm_past.onnx"),
                          opset_version=15, input_names=list(feeds),
                          output_names=tut.gpt2_past_outputs(full), dynamic_axes=axes,
                          do_constant_folding=True)


def compile_shapes(full, context):
    """dlc compile --shape flags for both models at a context of `context` tokens."""
    _, hidden, _, heads, max_pos = tut.gpt2_config(full)
    if not 2 <= context <= max_pos:
        raise ValueError(f"--context {context}: the decoder has {max_pos} positions (and needs 2 or more)")
    past = ["--shape=input_ids=1,1", "--shape=position_ids=1,1", f"--shape=attention_mask=1,{context}"]
    past += [f"--shape=past_{n}=1,{heads},{context - 1},{hidden // heads}" for n in tut.gpt2_past_names(full)]
    return {"gpt2_lm": [f"--shape=input_ids=1,{context}"], "gpt2_lm_past": past}


# artifact name -> the model it is compiled from
SOURCES = {"gpt2_lm": "gpt2_lm", "gpt2_lm_past": "gpt2_lm_past", "gpt2_lm_dynamic": "gpt2_lm"}


def compile_models(dlc, full, out, context):
    shapes_of = compile_shapes(full, context)
    shapes_of["gpt2_lm_dynamic"] = []  # the sequence length stays symbolic: one artifact for every length
    for name, shapes in shapes_of.items():
        args = [dlc, "compile", os.path.join(out, SOURCES[name] + ".onnx"), "-o", os.path.join(out, name + ".so"), "-q"]
        r = subprocess.run(args + shapes, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"{' '.join(args + shapes)}: {(r.stderr or r.stdout).strip()}")
        print(f"gen_generate_models.py: compiled {out}/{name}.so" + (f" (context {context})" if shapes else ""))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--full", action="store_true", help="GPT-2 small's size (large, slow)")
    ap.add_argument("--out", default=None, help="output folder (default tests/generated/generate[_full])")
    ap.add_argument("--dlc", default=None, help="the dlc binary: also compile both models")
    ap.add_argument("--context", type=int, default=32, help="tokens the compiled models hold (default 32)")
    a = ap.parse_args()
    if tut.IMPORT_ERROR is not None:
        print(f"gen_generate_models.py: cannot import torch ({tut.IMPORT_ERROR}); "
              "apt-get install python3-torch python3-torchvision", file=sys.stderr)
        return 2
    out = a.out or os.path.join(ROOT, "tests", "generated", "generate_full" if a.full else "generate")
    tut.torch.set_num_threads(min(2, os.cpu_count() or 1))
    warnings.filterwarnings("ignore")  # the exporter's tracer warnings are expected here
    try:
        export(a.full, out)
        print(f"gen_generate_models.py: wrote {out}/gpt2_lm.onnx and {out}/gpt2_lm_past.onnx")
        sys.stdout.flush()
        if a.dlc:
            compile_models(a.dlc, a.full, out, a.context)
    except Exception as e:
        print(f"gen_generate_models.py: failed: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
