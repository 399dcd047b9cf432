"""A small YOLO-style block for tests/unit/fuse_epilogue_test.c: convs
followed by SiLU as PyTorch exports it (Sigmoid, then Mul of the conv output
by the sigmoid, in either operand order). Run with /usr/bin/python3 (Debian
onnx 1.12); writes yolo_silu.onnx beside this file.

x[1, 3, 32, 32] through
  stem:   Conv 3->16 3x3 stride 2, bias, Mul(v, Sigmoid(v))
  cv1:    Conv 16->16 1x1, bias, Mul(Sigmoid(v), v)
  m:      Conv 16->16 3x3, bias, SiLU, then Add(cv1's output): the
          bottleneck's shortcut after the activation (stays an Add)
  shared: Conv 16->16 1x1 whose output is read a third time (Concat with
          its SiLU), so its SiLU must stay unfused
  dw:     depthwise Conv 3x3 on the Concat, SiLU, output `features`
  head:   GlobalAveragePool, Flatten, Gemm(transB) 32->10, SiLU, output `head`."""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(0)


def weight(name, shape, scale):
    return numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32), name)


def silu(v, out, name, sigmoid_first=False):
    s = f"{name}_sig"
    operands = [s, v] if sigmoid_first else [v, s]
    return [helper.make_node("Sigmoid", [v], [s], name=f"{name}_sigmoid"),
            helper.make_node("Mul", operands, [out], name=f"{name}_mul")]


def main():
    inits = [
        weight("stem_w", (16, 3, 3, 3), 0.4), weight("stem_b", (16,), 0.1),
        weight("cv1_w", (16, 16, 1, 1), 0.3), weight("cv1_b", (16,), 0.1),
        weight("m_w", (16, 16, 3, 3), 0.1), weight("m_b", (16,), 0.1),
        weight("shared_w", (16, 16, 1, 1), 0.3), weight("shared_b", (16,), 0.1),
        weight("dw_w", (32, 1, 3, 3), 0.3), weight("dw_b", (32,), 0.1),
        weight("head_w", (10, 32), 0.5), weight("head_b", (10,), 0.1),
    ]
    nodes = [helper.make_node("Conv", ["x", "stem_w", "stem_b"], ["stem"], name="stem",
                              kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])]
    nodes += silu("stem", "stem_act", "stem")
    nodes.append(helper.make_node("Conv", ["stem_act", "cv1_w", "cv1_b"], ["cv1"], name="cv1", kernel_shape=[1, 1]))
    nodes += silu("cv1", "cv1_act", "cv1", sigmoid_first=True)
    nodes.append(helper.make_node("Conv", ["cv1_act", "m_w", "m_b"], ["m"], name="m",
                                  kernel_shape=[3, 3], pads=[1, 1, 1, 1]))
    nodes += silu("m", "m_act", "m")
    nodes.append(helper.make_node("Add", ["m_act", "cv1_act"], ["m_sum"], name="shortcut"))
    nodes.append(helper.make_node("Conv", ["m_sum", "shared_w", "shared_b"], ["shared"], name="shared",
                                  kernel_shape=[1, 1]))
    nodes += silu("shared", "shared_act", "shared")
    nodes.append(helper.make_node("Concat", ["shared_act", "shared"], ["cat"], name="cat", axis=1))
    nodes.append(helper.make_node("Conv", ["cat", "dw_w", "dw_b"], ["dw"], name="dw",
                                  kernel_shape=[3, 3], pads=[1, 1, 1, 1], group=32))
    nodes += silu("dw", "features", "dw", sigmoid_first=True)
    nodes.append(helper.make_node("GlobalAveragePool", ["features"], ["pooled"], name="pool"))
    nodes.append(helper.make_node("Flatten", ["pooled"], ["flat"], name="flatten"))
    nodes.append(helper.make_node("Gemm", ["flat", "head_w", "head_b"], ["logits"], name="head_gemm", transB=1))
    nodes += silu("logits", "head", "head")
    graph = helper.make_graph(
        nodes, "yolo_silu",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 32, 32])],
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, [1, 32, 16, 16]),
         helper.make_tensor_value_info("head", TensorProto.FLOAT, [1, 10])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="gen_silu.py")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(HERE, "yolo_silu.onnx"))


if __name__ == "__main__":
    main()
