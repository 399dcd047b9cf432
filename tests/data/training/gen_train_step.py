#!/usr/bin/python3
"""Writes models/train_step_adam: one training step of a small MLP as an
ONNX graph, the gradients computed by the Gradient op (differentiated by
dlc's autodiff) and applied by Adam, with numpy's results as the expected
outputs (dlc test layout; scripts/test.sh runs it through `dlc test models`).

    /usr/bin/python3 tests/data/training/gen_train_step.py [OUTDIR]

loss = mean((relu(x W1 + b1) W2 + b2 - t)^2); W1, b1, W2, b2 are
initializers, x and t inputs; outputs: loss, the four gradients and the four
updated weights. Deterministic (numpy seed 0)."""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

TRAINING = "ai.onnx.preview.training"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "models", "train_step_adam")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 4)).astype(np.float32)
    t = rng.standard_normal((8, 3)).astype(np.float32)
    weights = {
        "W1": (rng.standard_normal((4, 6)) * 0.5).astype(np.float32),
        "b1": (rng.standard_normal(6) * 0.1).astype(np.float32),
        "W2": (rng.standard_normal((6, 3)) * 0.5).astype(np.float32),
        "b2": (rng.standard_normal(3) * 0.1).astype(np.float32),
    }
    names = list(weights)
    lr, alpha, beta, eps = 0.01, 0.9, 0.999, 1e-6

    # the reference, in float64
    w = {k: v.astype(np.float64) for k, v in weights.items()}
    x64, t64 = x.astype(np.float64), t.astype(np.float64)
    z = x64 @ w["W1"] + w["b1"]
    hid = np.maximum(z, 0)
    o = hid @ w["W2"] + w["b2"]
    d = o - t64
    loss = np.mean(d * d)
    do = 2 * d / d.size
    grads = {"W2": hid.T @ do, "b2": do.sum(0)}
    dz = (do @ w["W2"].T) * (z > 0)
    grads.update({"W1": x64.T @ dz, "b1": dz.sum(0)})
    new = {}
    for k in names:  # Adam at step T = 0 from zero moments (the ONNX spec's formula)
        v = (1 - alpha) * grads[k]
        h = (1 - beta) * grads[k] ** 2
        new[k] = w[k] - lr * v / (np.sqrt(h) + eps)

    f32 = TensorProto.FLOAT
    nodes = [
        helper.make_node("MatMul", ["x", "W1"], ["xw1"]),
        helper.make_node("Add", ["xw1", "b1"], ["z"]),
        helper.make_node("Relu", ["z"], ["hid"]),
        helper.make_node("MatMul", ["hid", "W2"], ["hw2"]),
        helper.make_node("Add", ["hw2", "b2"], ["o"]),
        helper.make_node("Sub", ["o", "t"], ["d"]),
        helper.make_node("Mul", ["d", "d"], ["sq"]),
        helper.make_node("ReduceMean", ["sq"], ["loss"], keepdims=0),
        helper.make_node("Gradient", names, ["d_" + k for k in names], xs=names, y="loss", domain=TRAINING,
                         name="gradient"),
        helper.make_node("Adam", ["R", "T"] + names + ["d_" + k for k in names] + ["V_" + k for k in names]
                         + ["H_" + k for k in names],
                         ["new_" + k for k in names] + ["V_new_" + k for k in names] + ["H_new_" + k for k in names],
                         alpha=alpha, beta=beta, epsilon=eps, domain=TRAINING, name="adam"),
    ]
    inits = [numpy_helper.from_array(v, k) for k, v in weights.items()]
    inits += [numpy_helper.from_array(np.array(lr, np.float32), "R"), numpy_helper.from_array(np.array(0, np.int64), "T")]
    for k in names:
        inits.append(numpy_helper.from_array(np.zeros_like(weights[k]), "V_" + k))
        inits.append(numpy_helper.from_array(np.zeros_like(weights[k]), "H_" + k))
    outputs = [("loss", np.float32(loss))] + [("d_" + k, grads[k]) for k in names] + [("new_" + k, new[k]) for k in names]
    graph = helper.make_graph(
        nodes, "train_step_adam",
        [helper.make_tensor_value_info("x", f32, x.shape), helper.make_tensor_value_info("t", f32, t.shape)],
        [helper.make_tensor_value_info(n, f32, np.shape(v)) for n, v in outputs],
        initializer=inits)
    model = helper.make_model(graph, producer_name="gen_train_step.py",
                              opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid(TRAINING, 1)])
    onnx.checker.check_model(model)
    data = os.path.join(out, "test_data_set_0")
    os.makedirs(data, exist_ok=True)
    onnx.save(model, os.path.join(out, "model.onnx"))
    for i, (n, v) in enumerate([("x", x), ("t", t)]):
        onnx.save_tensor(numpy_helper.from_array(v, n), os.path.join(data, f"input_{i}.pb"))
    for i, (n, v) in enumerate(outputs):
        onnx.save_tensor(numpy_helper.from_array(np.asarray(v, np.float32), n), os.path.join(data, f"output_{i}.pb"))
    print(f"gen_train_step.py: wrote {out} (loss {loss:.6f})")


if __name__ == "__main__":
    main()
