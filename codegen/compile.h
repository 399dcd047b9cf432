/* The whole compilation: .onnx → optimized graph → model.so. Library
 * entry points used by `dlc compile`, `dlc run` and `dlc test`. */
#ifndef DLC_CODEGEN_COMPILE_H
#define DLC_CODEGEN_COMPILE_H

#include <stdbool.h>
#include <stdio.h>

#include "ir/graph.h"

typedef struct dlc_input_shape {
    const char *name;  /* graph input name */
    int32_t rank;
    int64_t dims[DLC_MAX_RANK];
} dlc_input_shape;

/* The value of a graph input fixed at compile time (TensorRT's "shape
 * tensors"): the compiler treats it as a constant, the input stays in the
 * artifact's interface, and a run refuses any other value. */
typedef struct dlc_input_value {
    const char *name;
    const dlc_tensor *tensor;
} dlc_input_value;

/* The length of a sequence graph input, or whether an optional one holds a
 * value, fixed at compile time (codegen/bind_sequences.c): its elements
 * become tensor inputs "NAME[0]", "NAME[1]"... ("NAME" for a present
 * optional tensor), each with its own symbolic dims ("NAME[1].N"). */
typedef struct dlc_input_sequence {
    const char *name;
    int32_t length; /* sequence: elements; optional: -1 absent, else present (an optional sequence: its length) */
} dlc_input_sequence;

typedef struct dlc_compile_options {
    int32_t opt_level;           /* 0..3, default 2 */
    const char *cpu;             /* NULL or "native": host; "x86-64-v2/v3/v4" or any LLVM CPU name */
    const dlc_input_shape *input_shapes; /* binds symbolic input dims (optional) */
    int32_t num_input_shapes;
    FILE *print_after_all;       /* IR after every pass, or NULL */
    FILE *print_ir;              /* final IR, or NULL */
    FILE *log;                   /* progress messages, or NULL */
    const char *emit_llvm_path;  /* also write the optimized LLVM IR here (debugging), or NULL */
    const dlc_input_value *input_values; /* inputs bound to values (optional) */
    int32_t num_input_values;
    const dlc_input_sequence *input_sequences; /* lengths of sequence/optional inputs (optional) */
    int32_t num_input_sequences;
} dlc_compile_options;

void dlc_compile_options_init(dlc_compile_options *opts);

/* Runs passes, plans memory and generates the shared library at out_path
 * (written to a temporary name beside it and renamed, so a failed compile
 * leaves nothing behind). g is modified. */
dlc_status dlc_compile_graph(dlc_graph *g, const dlc_compile_options *opts, const char *out_path);

/* Imports path and compiles it. */
dlc_status dlc_compile_file(const char *onnx_path, const dlc_compile_options *opts, const char *out_path);

/* Binds inputs to values: their readers see a CONST, and a check node
 * (dlc.BoundInput, kernels/bound.c) makes every run compare the input with
 * it. Errors name the input and both shapes or dtypes. */
dlc_status dlc_bind_input_values(dlc_graph *g, const dlc_input_value *values, int32_t count);

/* Flattens g's sequence and optional inputs into tensor inputs as
 * dlc_input_sequence describes; every such input needs an entry. Before
 * dlc_bind_input_shapes, which may then bind the elements' shapes. */
dlc_status dlc_bind_input_sequences(dlc_graph *g, const dlc_input_sequence *seqs, int32_t count);

/* Applies opts->input_shapes to g's inputs (error names the input and both shapes). */
dlc_status dlc_bind_input_shapes(dlc_graph *g, const dlc_input_shape *shapes, int32_t count);

/* Fails naming the first input or tensor whose shape is not static. */
dlc_status dlc_check_static_shapes(const dlc_graph *g);

#endif
