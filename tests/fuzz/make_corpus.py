# Seeds for the importer fuzzer: small valid models covering attributes,
# initializer storages, symbolic dims and subgraphs, plus truncated variants.
import os, sys
import numpy as np
import onnx
from onnx import helper, TensorProto, numpy_helper

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(0)

def save(name, model):
    data = model.SerializeToString()
    assert len(data) < 20000, (name, len(data))
    open(os.path.join(out, name + ".onnx"), "wb").write(data)
    return data

def f32(*shape):
    return rng.standard_normal(shape).astype(np.float32)

def model(nodes, inputs, outputs, inits=(), opset=13, ir=8, extra_opsets=()):
    g = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)] + list(extra_opsets), ir_version=ir)

F = TensorProto.FLOAT
seeds = {}
seeds["matmul"] = model([helper.make_node("MatMul", ["x", "W"], ["y"], name="mm")],
                        [helper.make_tensor_value_info("x", F, ["batch", 4])],
                        [helper.make_tensor_value_info("y", F, ["batch", 3])],
                        [numpy_helper.from_array(f32(4, 3), "W")])
seeds["gemm_typed"] = model([helper.make_node("Gemm", ["x", "W", "b"], ["y"], alpha=0.5, beta=2.0, transB=1)],
                            [helper.make_tensor_value_info("x", F, [2, 4])],
                            [helper.make_tensor_value_info("y", F, [2, 3])],
                            [helper.make_tensor("W", F, [3, 4], f32(3, 4).flatten().tolist()),
                             helper.make_tensor("b", F, [3], [1.0, 2.0, 3.0])])
seeds["conv_relu_pool"] = model(
    [helper.make_node("Conv", ["x", "w", "b"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1]),
     helper.make_node("Relu", ["c"], ["r"]),
     helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
     helper.make_node("GlobalAveragePool", ["p"], ["y"])],
    [helper.make_tensor_value_info("x", F, [1, 2, 8, 8])],
    [helper.make_tensor_value_info("y", F, [1, 3, 1, 1])],
    [numpy_helper.from_array(f32(3, 2, 3, 3), "w"), numpy_helper.from_array(f32(3), "b")])
seeds["bn"] = model([helper.make_node("BatchNormalization", ["x", "s", "bi", "m", "v"], ["y"], epsilon=1e-5)],
                    [helper.make_tensor_value_info("x", F, ["n", 3, "h", "w"])],
                    [helper.make_tensor_value_info("y", F, None)],
                    [numpy_helper.from_array(f32(3), n) for n in ["s", "bi", "m"]] +
                    [numpy_helper.from_array(np.abs(f32(3)), "v")])
seeds["every_dtype"] = model(
    [helper.make_node("Identity", ["x"], ["y"])],
    [helper.make_tensor_value_info("x", F, [1])], [helper.make_tensor_value_info("y", F, [1])],
    [helper.make_tensor("i8", TensorProto.INT8, [3], [-1, 2, 3]),
     helper.make_tensor("u8", TensorProto.UINT8, [2], [1, 255]),
     helper.make_tensor("i16", TensorProto.INT16, [2], [-300, 3]),
     helper.make_tensor("u16", TensorProto.UINT16, [2], [60000, 3]),
     helper.make_tensor("i32", TensorProto.INT32, [2], [-7, 7]),
     helper.make_tensor("i64", TensorProto.INT64, [2], [-7, 1 << 40]),
     helper.make_tensor("bool", TensorProto.BOOL, [2], [True, False]),
     helper.make_tensor("f16", TensorProto.FLOAT16, [2], np.array([1, 2], np.float16).view(np.uint16).tolist()),
     helper.make_tensor("bf16", TensorProto.BFLOAT16, [1], [0x3f80]),
     helper.make_tensor("f64", TensorProto.DOUBLE, [2], [0.5, -1.5]),
     helper.make_tensor("u32", TensorProto.UINT32, [2], [1, 4000000000]),
     helper.make_tensor("u64", TensorProto.UINT64, [1], [1 << 63]),
     numpy_helper.from_array(np.arange(6, dtype=np.int64).reshape(2, 3), "raw_i64"),
     numpy_helper.from_array(np.array(3.5, np.float32), "scalar"),
     numpy_helper.from_array(np.zeros((0, 4), np.float32), "empty")])
seeds["attrs_all"] = model(
    [helper.make_node("Constant", [], ["c"], value=numpy_helper.from_array(f32(2, 2), "cv")),
     helper.make_node("Add", ["x", "c"], ["y"], i=3, f=1.5, s="str", ints=[1, 2, 3], floats=[0.5, 1.5],
                      strings=["a", "bc"])],
    [helper.make_tensor_value_info("x", F, [2, 2])], [helper.make_tensor_value_info("y", F, [2, 2])])
then_g = helper.make_graph([helper.make_node("Add", ["x", "one"], ["t"])], "then", [],
                           [helper.make_tensor_value_info("t", F, [2])],
                           [numpy_helper.from_array(np.ones(2, np.float32), "one")])
else_g = helper.make_graph([helper.make_node("Sub", ["x", "x"], ["e"])], "else", [],
                           [helper.make_tensor_value_info("e", F, [2])])
seeds["if_subgraph"] = model(
    [helper.make_node("If", ["cond"], ["y"], then_branch=then_g, else_branch=else_g)],
    [helper.make_tensor_value_info("cond", TensorProto.BOOL, []), helper.make_tensor_value_info("x", F, [2])],
    [helper.make_tensor_value_info("y", F, [2])])
seeds["unknown_op"] = model([helper.make_node("FooBar", ["x"], ["y"], name="mystery")],
                            [helper.make_tensor_value_info("x", F, [2])], [helper.make_tensor_value_info("y", F, [2])])
cd = helper.make_node("Thing", ["x"], ["y"], domain="com.example")
seeds["custom_domain"] = model([cd], [helper.make_tensor_value_info("x", F, [2])],
                               [helper.make_tensor_value_info("y", F, [2])],
                               extra_opsets=[helper.make_opsetid("com.example", 1)])
seeds["old_ir"] = model([helper.make_node("Relu", ["x"], ["y"])], [helper.make_tensor_value_info("x", F, [2])],
                        [helper.make_tensor_value_info("y", F, [2])], ir=3, opset=1)
seeds["unsorted_chain"] = model(
    [helper.make_node("Relu", ["h"], ["y"]), helper.make_node("Sigmoid", ["x"], ["h"])],
    [helper.make_tensor_value_info("x", F, ["n", "?"])], [helper.make_tensor_value_info("y", F, None)])
seeds["init_as_input"] = model([helper.make_node("Add", ["x", "b"], ["y"])],
                               [helper.make_tensor_value_info("x", F, [3]), helper.make_tensor_value_info("b", F, [3])],
                               [helper.make_tensor_value_info("y", F, [3])],
                               [numpy_helper.from_array(f32(3), "b")])
ext = numpy_helper.from_array(f32(2), "ext")
ext.ClearField("raw_data")
ext.data_location = TensorProto.EXTERNAL
for k, v in [("location", "weights.bin"), ("offset", "0"), ("length", "8")]:
    e = ext.external_data.add(); e.key = k; e.value = v
seeds["external"] = model([helper.make_node("Add", ["x", "ext"], ["y"])], [helper.make_tensor_value_info("x", F, [2])],
                          [helper.make_tensor_value_info("y", F, [2])], [ext])
seeds["optional_io"] = model(
    [helper.make_node("Dropout", ["x", "", ""], ["y", ""]), helper.make_node("Clip", ["y", "", "mx"], ["z"])],
    [helper.make_tensor_value_info("x", F, [4])], [helper.make_tensor_value_info("z", F, [4])],
    [numpy_helper.from_array(np.array(1.0, np.float32), "mx")])

for name, m in seeds.items():
    data = save(name, m)
    # truncated variants: a few cut points per model
    for frac in (0.25, 0.5, 0.9):
        cut = max(1, int(len(data) * frac))
        open(os.path.join(out, "%s_cut%d.onnx" % (name, cut)), "wb").write(data[:cut])
print(len(os.listdir(out)), "files")

# Hand-made hostile inputs (tests/fuzz/corpus/hostile/): each aims at one defense.
hostile = os.path.join(out, "hostile")
os.makedirs(hostile, exist_ok=True)

def varint(n):
    b = bytearray()
    while True:
        b.append((n & 0x7f) | (0x80 if n > 0x7f else 0))
        n >>= 7
        if not n:
            return bytes(b)

def wrap(field, payload):
    return varint((field << 3) | 2) + varint(len(payload)) + payload

# 300 levels of Graph.node → Node.attribute → Attribute.g: protobuf-c would recurse 900 deep.
deep = b""
for _ in range(300):
    deep = wrap(1, wrap(5, wrap(6, deep)))
open(os.path.join(hostile, "nesting_300.onnx"), "wb").write(wrap(7, deep))

# 20 nested If subgraphs, each reading the outermost input 'c' (the importer caps graphs at 16).
inner = helper.make_graph([helper.make_node("Relu", ["c"], ["y"])], "g", [], [helper.make_tensor_value_info("y", F, [2])])
for level in range(20):
    inputs = [helper.make_tensor_value_info("c", TensorProto.BOOL, [])] if level == 19 else []
    inner = helper.make_graph([helper.make_node("If", ["c"], ["y"], then_branch=inner)], "g", inputs,
                              [helper.make_tensor_value_info("y", F, [2])])
open(os.path.join(hostile, "subgraphs_20.onnx"), "wb").write(
    helper.make_model(inner, opset_imports=[helper.make_opsetid("", 13)]).SerializeToString())

def one_init(t, name):
    m = model([helper.make_node("Add", ["x", t.name], ["y"])], [helper.make_tensor_value_info("x", F, [2])],
              [helper.make_tensor_value_info("y", F, [2])], [t])
    open(os.path.join(hostile, name + ".onnx"), "wb").write(m.SerializeToString())

def bare(name, dims, dtype=F):  # dims only, no data: helper.make_tensor would refuse these
    t = TensorProto(); t.name = name; t.data_type = dtype; t.dims.extend(dims)
    return t

one_init(bare("huge", [1 << 40, 1 << 40]), "dims_overflow")
one_init(bare("bytes_overflow", [1 << 31, 1 << 31]), "bytes_overflow")
one_init(bare("neg", [-1, 2]), "negative_dim")
t = numpy_helper.from_array(f32(4), "short"); t.raw_data = t.raw_data[:5]; one_init(t, "raw_short")
one_init(bare("claims_big", [1 << 30]), "no_data_for_big_dims")
t = helper.make_tensor("rank9", F, [1] * 9, [1.0]); one_init(t, "rank9")
t = numpy_helper.from_array(f32(2), "seg"); t.segment.begin = 0; t.segment.end = 1; one_init(t, "segment")
t = helper.make_tensor("s", TensorProto.STRING, [1], [b"x"]); one_init(t, "string_tensor")
t = numpy_helper.from_array(f32(2), "ext_abs"); t.ClearField("raw_data"); t.data_location = TensorProto.EXTERNAL
e = t.external_data.add(); e.key = "location"; e.value = "/etc/passwd"; one_init(t, "external_absolute")
cyc = model([helper.make_node("Relu", ["b"], ["a"]), helper.make_node("Relu", ["a"], ["b"])], [],
            [helper.make_tensor_value_info("b", F, [2])])
open(os.path.join(hostile, "cycle.onnx"), "wb").write(cyc.SerializeToString())
dup = model([helper.make_node("Relu", ["x"], ["y"]), helper.make_node("Relu", ["x"], ["y"])],
            [helper.make_tensor_value_info("x", F, [2])], [helper.make_tensor_value_info("y", F, [2])])
open(os.path.join(hostile, "two_producers.onnx"), "wb").write(dup.SerializeToString())
print(len(os.listdir(hostile)), "hostile files")
