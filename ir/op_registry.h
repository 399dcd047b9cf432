/*
 * The op registry: one dlc_op_schema per ONNX op that dlc supports.
 *
 * An op lives in one place: ir/ops/<family>.c holds its schema, attribute
 * checks and shape/dtype rule (infer), its lowering to a kernel call
 * (lower) and its FLOP estimate; kernels/<family>.c holds its kernel.
 * Each family file exports a table terminated by an entry with
 * op_type == NULL, listed in ir/ops/op_families.h.
 */
#ifndef DLC_IR_OP_REGISTRY_H
#define DLC_IR_OP_REGISTRY_H

#include "ir/graph.h"

#define DLC_KCALL_MAX_INTS 256
#define DLC_KCALL_MAX_FLOATS 32

/* A backend-neutral call of one kernel: which one, and its scalar
 * parameters. Its tensors are the node's inputs then outputs, in order. */
typedef struct dlc_kcall {
    char kernel[64]; /* kernels/…: symbol dlc_kernel_<kernel> */
    int32_t num_ints;
    int64_t ints[DLC_KCALL_MAX_INTS];
    int32_t num_floats;
    double floats[DLC_KCALL_MAX_FLOATS];
} dlc_kcall;

void dlc_kcall_init(dlc_kcall *call, const char *kernel);
dlc_status dlc_kcall_push_int(dlc_kcall *call, int64_t value);
dlc_status dlc_kcall_push_ints(dlc_kcall *call, const int64_t *values, int32_t count);
dlc_status dlc_kcall_push_float(dlc_kcall *call, double value);

struct dlc_op_schema {
    const char *op_type;
    const char *domain;       /* "" for ai.onnx */
    int32_t min_opset;        /* oldest opset whose semantics infer/lower handle */
    int32_t min_inputs, max_inputs;   /* max -1: variadic */
    int32_t min_outputs, max_outputs;
    /* Checks attributes and input dtypes/shapes and sets every output's dtype
     * and shape. May read CONST inputs (e.g. Reshape's shape). Errors name the
     * node via dlc_node_describe. */
    dlc_status (*infer)(dlc_graph *g, dlc_node *node);
    /* Chooses the kernel and its scalar parameters. Called with every shape
     * static. NULL: the op must be removed by passes before codegen. */
    dlc_status (*lower)(const dlc_graph *g, const dlc_node *node, dlc_kcall *out_call);
    /* Floating-point operations of one run (multiply-add = 2); NULL: numel of outputs. */
    int64_t (*flops)(const dlc_node *node);
    /* Bit i set: input i decides output shapes (or which code runs, like
     * Dropout's training_mode), so it must be known at compile time: a
     * CONST, or a graph input bound to a value (codegen/compile.h). */
    uint32_t const_inputs;
};

/* FLOPs of one run of an inferred node: its schema's estimate, else the
 * element count of its outputs; -1 while a shape is symbolic. */
int64_t dlc_node_flops(const dlc_node *node);

/* The schema for (domain, op_type), or NULL. domain "ai.onnx" equals "". */
const dlc_op_schema *dlc_op_find(const char *domain, const char *op_type);
/* All schemas, for listings (dlc ops, docs). */
int32_t dlc_op_count(void);
const dlc_op_schema *dlc_op_at(int32_t index);

/* Binds node->schema and checks input/output counts and opset; the error
 * names op, opset and node ("unsupported op 'Foo' (opset 13) in node 'x'"). */
dlc_status dlc_node_bind_schema(dlc_node *node);

/* True when value (a graph input) is read by an operand whose schema needs
 * it at compile time (dlc_op_schema.const_inputs). */
bool dlc_value_decides_shapes(const dlc_graph *g, const dlc_value *value);

/* Serializes the kernel parameter block (kernels/dlc_kernel.h) of node:
 * node's input/output tensors followed by call's ints and floats. *out_blob
 * is malloc'd. Fails if a shape is not static. */
dlc_status dlc_kparams_build(const dlc_node *node, const dlc_kcall *call, void **out_blob, size_t *out_size);

/* Gemm/MatMul attribute set by the prepack-weights pass: ints [K, N, nr];
 * input 1 is then the float32 B[K, N] (Gemm's transB applied) pre-packed
 * into nr-wide panels (kernels/gemm.h), a rank-1 constant of
 * K * round_up(N, nr) floats. */
#define DLC_ATTR_PACKED_B "dlc_packed_b"

/* Conv attribute set by the prepack-weights pass: ints [layout, nr]; the
 * group-1 float32 weight W[M, C, k...] keeps its shape, but its data is in
 * that dlc_conv_weight_layout (kernels/conv.h; M a multiple of nr). */
#define DLC_ATTR_PACKED_W "dlc_packed_w"

/* Conv, MaxPool and global pool attribute set by the blocked-layout pass:
 * an int of DLC_CONV_BLOCKED_X / DLC_CONV_BLOCKED_Y (kernels/conv.h) saying
 * which of X and Y (with a Conv's fused residual) are in NCHW16c; the
 * values keep their NCHW shapes, only the order of their floats changes. A
 * Conv with it has DLC_ATTR_PACKED_W in the direct layout; a MaxPool has
 * both bits, a global pool X only. */
#define DLC_ATTR_BLOCKED "dlc_blocked"

/* Shape helpers shared by op rules. */
/* Multidirectional (numpy) broadcast of a and b into out; error names node. */
dlc_status dlc_broadcast_shapes(const dlc_graph *g, const dlc_node *node, const dlc_shape *a,
                                const dlc_shape *b, dlc_shape *out);
/* Normalizes a possibly negative axis for a tensor of rank; error names node. */
dlc_status dlc_normalize_axis(const dlc_node *node, int64_t axis, int32_t rank, int32_t *out_axis);

#endif
