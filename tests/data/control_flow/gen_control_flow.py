#!/usr/bin/python3
"""Writes nested_loop_if.onnx for tests/unit/control_flow_test.c.

A Loop (M = 3, a constant) whose body holds an If on the iteration number's
parity; both branches read the Loop's carried value (one level out) and the
initializer w (two levels out), so the importer's implicit inputs and the
unrolling of nested control flow are both exercised:
    v = x;  for i in 0..2:  v = v + w if i is even else v * w
    y = v, and scan output s stacks each iteration's v.
Run: /usr/bin/python3 tests/data/control_flow/gen_control_flow.py
"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

here = os.path.dirname(os.path.abspath(__file__))

then_branch = helper.make_graph(
    [helper.make_node("Add", ["v_in", "w"], ["then_out"])], "then_branch", [],
    [helper.make_tensor_value_info("then_out", TensorProto.FLOAT, [2])])
else_branch = helper.make_graph(
    [helper.make_node("Mul", ["v_in", "w"], ["else_out"])], "else_branch", [],
    [helper.make_tensor_value_info("else_out", TensorProto.FLOAT, [2])])
body = helper.make_graph(
    [
        helper.make_node("Constant", [], ["two"], value=numpy_helper.from_array(np.array(2, np.int64))),
        helper.make_node("Constant", [], ["zero"], value=numpy_helper.from_array(np.array(0, np.int64))),
        helper.make_node("Mod", ["i", "two"], ["parity"]),
        helper.make_node("Equal", ["parity", "zero"], ["even"]),
        helper.make_node("If", ["even"], ["v_out"], then_branch=then_branch, else_branch=else_branch),
        helper.make_node("Identity", ["cond_in"], ["cond_out"]),
        helper.make_node("Identity", ["v_out"], ["scan_out"]),
    ],
    "body",
    [
        helper.make_tensor_value_info("i", TensorProto.INT64, []),
        helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
        helper.make_tensor_value_info("v_in", TensorProto.FLOAT, [2]),
    ],
    [
        helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
        helper.make_tensor_value_info("v_out", TensorProto.FLOAT, [2]),
        helper.make_tensor_value_info("scan_out", TensorProto.FLOAT, [2]),
    ])
graph = helper.make_graph(
    [helper.make_node("Loop", ["M", "cond", "x"], ["y", "s"], body=body)],
    "nested_loop_if",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2]),
     helper.make_tensor_value_info("s", TensorProto.FLOAT, [3, 2])],
    initializer=[
        numpy_helper.from_array(np.array(3, np.int64), "M"),
        numpy_helper.from_array(np.array(True), "cond"),
        numpy_helper.from_array(np.array([0.5, -1.0], np.float32), "w"),
    ])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="gen_control_flow.py")
model.ir_version = 8
onnx.checker.check_model(model)
onnx.save(model, os.path.join(here, "nested_loop_if.onnx"))
