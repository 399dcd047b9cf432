"""Models with symbolic dims for tests/unit/dynamic_test.c (one artifact for
every size). Run with /usr/bin/python3 (Debian onnx 1.12); writes
attention.onnx and floor_div.onnx beside this file.

attention.onnx: x[batch, seq, 8] and mask[batch, seq] through what exported
transformers do: a Shape -> Gather -> Concat -> Reshape head split, scores
B*H*T*T, a causal mask from ConstantOfShape + Trilu, position ids from
Range(0, seq) gathered from a table. floor_div.onnx: Slice(x, 0, n / 2), whose
output size floor(n/2) is no polynomial in n. equal_at_two.onnx: x[n, 4]
sliced along axis 0 up to Shape(x)[0] and along axis 1 up to a constant 2:
at n = 2 the two folded `ends` constants are equal, at other sizes not, so
merging equal constants (CSE) would give the samples different structures."""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(0)


def const(name, array):
    return numpy_helper.from_array(np.asarray(array), name)


def attention():
    nodes = [
        helper.make_node("Shape", ["x"], ["shape"], name="shape"),
        helper.make_node("Gather", ["shape", "zero"], ["b"], name="take_batch", axis=0),
        helper.make_node("Gather", ["shape", "one"], ["t"], name="take_seq", axis=0),
        helper.make_node("Unsqueeze", ["b", "axes0"], ["b1"], name="b1"),
        helper.make_node("Unsqueeze", ["t", "axes0"], ["t1"], name="t1"),
        helper.make_node("Concat", ["b1", "t1", "heads_dims"], ["split_shape"], name="split_shape", axis=0),
        helper.make_node("Range", ["zero_s", "t", "one_s"], ["pos"], name="positions"),
        helper.make_node("Gather", ["pos_table", "pos"], ["pos_emb"], name="pos_embed", axis=0),
        helper.make_node("Add", ["x", "pos_emb"], ["h"], name="add_pos"),
        helper.make_node("MatMul", ["h", "wq"], ["q"], name="q_proj"),
        helper.make_node("Reshape", ["q", "split_shape"], ["q4"], name="split_heads"),
        helper.make_node("Transpose", ["q4"], ["qh"], name="heads_first", perm=[0, 2, 1, 3]),
        helper.make_node("Transpose", ["q4"], ["kh"], name="keys_t", perm=[0, 2, 3, 1]),
        helper.make_node("MatMul", ["qh", "kh"], ["scores"], name="scores"),
        helper.make_node("Concat", ["t1", "t1"], ["tt"], name="tt", axis=0),
        helper.make_node("ConstantOfShape", ["tt"], ["ones"], name="ones",
                         value=helper.make_tensor("v", TensorProto.FLOAT, [1], [1.0])),
        helper.make_node("Trilu", ["ones"], ["causal"], name="causal", upper=0),
        helper.make_node("Sub", ["causal", "one_f"], ["causal_bias"], name="causal_bias"),
        helper.make_node("Mul", ["causal_bias", "big"], ["causal_add"], name="causal_scale"),
        helper.make_node("Unsqueeze", ["mask", "axes12"], ["mask4"], name="mask4"),
        helper.make_node("Add", ["scores", "causal_add"], ["s1"], name="add_causal"),
        helper.make_node("Add", ["s1", "mask4"], ["s2"], name="add_mask"),
        helper.make_node("Softmax", ["s2"], ["p"], name="softmax", axis=-1),
        helper.make_node("MatMul", ["p", "qh"], ["ctx"], name="context"),
        helper.make_node("Transpose", ["ctx"], ["ctx_t"], name="seq_first", perm=[0, 2, 1, 3]),
        helper.make_node("Concat", ["b1", "t1", "eight"], ["merge_shape"], name="merge_shape", axis=0),
        helper.make_node("Reshape", ["ctx_t", "merge_shape"], ["y"], name="merge_heads"),
    ]
    inits = [
        const("zero", np.array(0, np.int64)), const("one", np.array(1, np.int64)),
        const("zero_s", np.array(0, np.int64)), const("one_s", np.array(1, np.int64)),
        const("axes0", np.array([0], np.int64)), const("axes12", np.array([1, 2], np.int64)),
        const("heads_dims", np.array([2, 4], np.int64)), const("eight", np.array([8], np.int64)),
        const("pos_table", rng.standard_normal((64, 8)).astype(np.float32)),
        const("wq", (rng.standard_normal((8, 8)) * 0.5).astype(np.float32)),
        const("one_f", np.array(1.0, np.float32)), const("big", np.array(10000.0, np.float32)),
    ]
    graph = helper.make_graph(
        nodes, "attention",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "seq", 8]),
         helper.make_tensor_value_info("mask", TensorProto.FLOAT, ["batch", "seq"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", "seq", 8])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(HERE, "attention.onnx"))


def floor_div():
    nodes = [
        helper.make_node("Shape", ["x"], ["n"], name="size"),
        helper.make_node("Div", ["n", "two"], ["half"], name="half"),
        helper.make_node("Slice", ["x", "zero", "half"], ["y"], name="first_half"),
    ]
    inits = [const("two", np.array([2], np.int64)), const("zero", np.array([0], np.int64))]
    graph = helper.make_graph(nodes, "floor_div", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n"])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["half_n"])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(HERE, "floor_div.onnx"))


def equal_at_two():
    nodes = [
        helper.make_node("Shape", ["x"], ["shape"], name="shape"),
        helper.make_node("Slice", ["shape", "zero", "one", "zero"], ["n"], name="rows"),
        helper.make_node("Slice", ["x", "zero", "n", "zero"], ["all_rows"], name="all_rows"),
        helper.make_node("Slice", ["x", "zero", "two", "one"], ["two_cols"], name="two_cols"),
        helper.make_node("Concat", ["all_rows", "two_cols"], ["y"], name="join", axis=1),
    ]
    inits = [const("zero", np.array([0], np.int64)), const("one", np.array([1], np.int64)),
             const("two", np.array([2], np.int64))]
    graph = helper.make_graph(nodes, "equal_at_two", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 6])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(HERE, "equal_at_two.onnx"))


if __name__ == "__main__":
    attention()
    floor_div()
    equal_at_two()
