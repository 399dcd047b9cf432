#!/usr/bin/env python3
"""Generates the official ONNX backend test suite (node, simple, real) from
Debian's python3-onnx into a folder, in the backend-test layout.

    /usr/bin/python3 scripts/gen_backend_tests.py tests/generated/backend

onnx 1.12's generators still use numpy aliases that numpy 1.24 removed
(np.float, np.int, ...); they are put back before the generators load.
"""
import sys
import warnings

import numpy as np

warnings.simplefilter("ignore")
for alias, builtin in (("float", float), ("int", int), ("bool", bool), ("object", object),
                       ("complex", complex), ("str", str)):
    if alias not in np.__dict__:
        setattr(np, alias, builtin)

from onnx.backend.test.cmd_tools import main  # noqa: E402  (after the aliases)

if len(sys.argv) != 2:
    sys.exit("usage: gen_backend_tests.py OUTDIR")
sys.argv = [sys.argv[0], "generate-data", "-o", sys.argv[1]]
main()
