/* The graph passes and the order they run in. */
#ifndef DLC_PASSES_PIPELINE_H
#define DLC_PASSES_PIPELINE_H

#include <stdbool.h>
#include <stdio.h>

#include "ir/graph.h"

typedef struct dlc_pass_options {
    int32_t opt_level;        /* 0: only what compilation needs; 1-3: all graph passes */
    FILE *print_after_all;    /* non-NULL: print the IR after each pass here */
    bool verify_each;         /* run dlc_graph_verify after every pass */
    /* The graph is one sample of a compile for every size (codegen/dynamic.c):
     * every sample must come out with the same structure, so no rewrite may
     * depend on the contents of constants folded from the sizes (equal at one
     * size, different at another). */
    bool sizes_vary;
} dlc_pass_options;

/* Binds schemas, infers dtypes and shapes in topological order and folds
 * every node whose inputs are all constant (by running its kernel natively),
 * so shape-computing subgraphs become constants. Needed at every -O level. */
dlc_status dlc_infer_and_fold(dlc_graph *g);

/* Runs the optimization passes for opts->opt_level (after dlc_infer_and_fold). */
dlc_status dlc_run_passes(dlc_graph *g, const dlc_pass_options *opts);

/* Individual passes; each returns DLC_OK and sets *out_changed. */
dlc_status dlc_pass_fold_batchnorm(dlc_graph *g, bool *out_changed);
dlc_status dlc_pass_dead_code(dlc_graph *g, bool *out_changed);
/* Removes Identity, and Dropout at inference whose mask nobody reads. */
dlc_status dlc_pass_eliminate_identity(dlc_graph *g, bool *out_changed);
/* A Transpose feeding a MatMul becomes a permuted (strided) read of its input. */
dlc_status dlc_pass_fold_transpose_matmul(dlc_graph *g, bool *out_changed);

/* Algebraic simplification (passes/simplify.c): Transpose pairs, reshape
 * chains, x*1, x+0, x-0, x/1, Cast to the same dtype. */
dlc_status dlc_pass_simplify(dlc_graph *g, bool *out_changed);
/* Common-subexpression elimination, identical constants merged first. */
dlc_status dlc_pass_cse(dlc_graph *g, bool *out_changed);
/* CSE of nodes only, leaving equal constants apart (for sizes_vary). */
dlc_status dlc_pass_cse_nodes(dlc_graph *g, bool *out_changed);
/* The decomposed LayerNorm (ReduceMean/Sub/Pow/ReduceMean/Add/Sqrt/Div
 * [/Mul/Add]) as one LayerNormalization. */
dlc_status dlc_pass_fuse_layernorm(dlc_graph *g, bool *out_changed);
/* The erf and tanh GELU formulas as one Gelu. */
dlc_status dlc_pass_fuse_gelu(dlc_graph *g, bool *out_changed);
/* MatMul/scale/mask/Softmax/MatMul attention as one dlc.Attention. */
dlc_status dlc_pass_fuse_attention(dlc_graph *g, bool *out_changed);
/* fuse-epilogue: Conv/Gemm/MatMul absorb a following bias Add, residual Add
 * and activation (passes/fuse_epilogue.c). */
dlc_status dlc_pass_fuse_epilogue(dlc_graph *g, bool *out_changed);
/* fuse-elementwise: connected float32 elementwise ops as one
 * dlc.ElementwiseChain (passes/fuse_elementwise.c). The _keep_constants
 * form leaves scalar constants as inputs instead of program floats, for
 * sizes_vary (a constant folded from the sizes differs between samples). */
dlc_status dlc_pass_fuse_elementwise(dlc_graph *g, bool *out_changed);
dlc_status dlc_pass_fuse_elementwise_keep_constants(dlc_graph *g, bool *out_changed);
/* Activations passed from conv to conv (and through MaxPool) stay in
 * NCHW16c (passes/blocked_layout.c): the nodes get DLC_ATTR_BLOCKED. */
dlc_status dlc_pass_blocked_layout(dlc_graph *g, bool *out_changed);
/* A float32 MatMul/Gemm on a constant B matrix reads B pre-packed in the
 * GEMM's panel layout (passes/prepack_weights.c); the panel width follows
 * the product's rows. The _any_rows form chooses it from N alone, for
 * sizes_vary (the rows vary between samples). */
dlc_status dlc_pass_prepack_weights(dlc_graph *g, bool *out_changed);
dlc_status dlc_pass_prepack_weights_any_rows(dlc_graph *g, bool *out_changed);

/* Folds one inferred node whose inputs are all CONST by running its native
 * kernel; its outputs become CONST (the node stays; callers remove it).
 * *out_folded is false when the node is not foldable (non-constant inputs,
 * symbolic shapes, results over the size cap, nondeterministic ops). */
dlc_status dlc_fold_node(dlc_graph *g, dlc_node *node, bool *out_folded);

/* If, Loop and Scan (passes/control_flow.c). dlc_infer_and_fold calls
 * dlc_expand_control_flow on each such node once its inputs are inferred: an
 * If with a CONST condition becomes its taken branch, a Loop with a trip
 * count and conditions known at compile time and a Scan of static length
 * are unrolled. The node is removed; the clones are inferred and folded, and
 * Identity nodes write the results into the node's former output values.
 * Errors name the node and what is not known at compile time. */
bool dlc_is_control_flow(const dlc_node *node);

/* Data-dependent extents (passes/bounded_dims.c). Called by
 * dlc_infer_and_fold: before a node's rule, fails (naming the node, the input
 * and its dim) when the node reads a value with bounded_dims and is not a
 * pass-through (Identity); after it, a pass-through's output takes its
 * input's bounded_dims. */
dlc_status dlc_bounded_dims_check_inputs(const dlc_graph *g, const dlc_node *node);
void dlc_bounded_dims_propagate(dlc_node *node);
dlc_status dlc_expand_control_flow(dlc_graph *g, dlc_node *node, bool *out_expanded);

/* Infers and folds a node just added to g (control flow and ops on
 * sequences are expanded instead), as dlc_infer_and_fold would. */
dlc_status dlc_settle_node(dlc_graph *g, dlc_node *node);
/* Adds op(inputs) → one new value called name (with an optional INT
 * attribute; attr_name NULL for none), binds and settles it. */
dlc_status dlc_add_settled_node(dlc_graph *g, const char *name, const char *op_type, int32_t num_inputs,
                                dlc_value *const *inputs, const char *attr_name, int64_t attr_value, dlc_value **out);
/* Identity(result) → target (an output value of a node being expanded away),
 * named "<node_name>/output_<index>", settled. */
dlc_status dlc_write_identity(dlc_graph *g, const char *node_name, int32_t index, dlc_value *result,
                              dlc_value *target);
/* Clones node's graph attribute attr_name into g once: formal[] feed its
 * formal inputs, node's implicit inputs its captures (ir/subgraph.h), names
 * get prefix; the clones are settled and results[] (one per subgraph
 * output) receive its outputs. */
dlc_status dlc_inline_node_graph(dlc_graph *g, const dlc_node *node, const char *attr_name, dlc_value *const *formal,
                                 const char *prefix, dlc_value **results);

/* Sequences and optionals (passes/sequence.c). Their length and presence
 * are known at compile time, so dlc_infer_and_fold expands each op on them
 * once its inputs are known: the op's sequence outputs become lists of
 * tensor values (dlc_value.elems), its tensor outputs are written by tensor
 * ops (Concat, Slice, Gather, Unsqueeze, Identity) or are constants
 * (SequenceLength, OptionalHasElement); SequenceMap inlines its body per
 * element. The node is removed. Errors name the node. */
bool dlc_is_sequence_node(const dlc_node *node);
dlc_status dlc_expand_sequence_node(dlc_graph *g, dlc_node *node, bool *out_expanded);
/* Replaces each graph output that is a sequence or optional by one tensor
 * output per element: "y[0]", "y[1]"... for a sequence (an optional
 * sequence too), "y" for a present optional tensor, none when absent. */
dlc_status dlc_flatten_sequence_outputs(dlc_graph *g);

#endif
