/* Reverse-mode automatic differentiation over the IR (passes/autodiff.c),
 * its gradient rules (passes/grad_rules.c) and the ONNX Gradient op
 * (ai.onnx.preview.training, passes/gradient_op.c), which is expanded by it.
 *
 * dlc_autodiff appends to a graph the nodes that compute dy/dx: it walks the
 * nodes between the xs and y backwards, calls each op's gradient rule with the
 * gradients of the node's outputs, and sums the contributions of values read
 * by several nodes (Add). Gradients of broadcast operands are summed over the
 * broadcast dims (ReduceSum + Reshape), so each gradient has its x's shape.
 * The appended nodes are inferred (and folded where their inputs are
 * constant) as they are added, so rules see every shape. */
#ifndef DLC_PASSES_AUTODIFF_H
#define DLC_PASSES_AUTODIFF_H

#include "ir/graph.h"

/* Computes the gradients of y with respect to xs[0..num_xs) into
 * out_grads[0..num_xs): new values of the xs' dtypes and shapes.
 * dy: the gradient flowing into y (same dtype and shape), or NULL for ones
 * (so a non-scalar y is differentiated as the sum of its elements).
 * Every node from the xs to y must be inferred and still in the graph: a
 * folded (CONST) value has no producer, so nothing flows through it. An x
 * that y does not depend on gets a zero gradient. Names of new values and
 * nodes start with prefix. Errors name the node whose op has no gradient
 * rule (or whose rule cannot handle it). float32 and float64 only. */
dlc_status dlc_autodiff(dlc_graph *g, dlc_value *y, dlc_value *dy, int32_t num_xs, dlc_value *const *xs,
                        const char *prefix, dlc_value **out_grads);

/* ---- what gradient rules build with ---- */

/* State of one dlc_autodiff call, handed to the rules. */
typedef struct dlc_grad_ctx {
    dlc_graph *g;
    const dlc_node *node; /* the forward node whose rule runs (names, messages) */
    const char *prefix;
    int32_t counter;      /* makes new names unique */
    char where[256];      /* dlc_node_describe(node) */
} dlc_grad_ctx;

/* A gradient rule: given the gradients dy[o] of node's outputs (NULL: none
 * flows back from that output) and need[i] (input i depends on an x), sets
 * dx[i] to the gradient of each needed input (dx entries start NULL). */
typedef dlc_status (*dlc_grad_rule)(dlc_grad_ctx *c, const dlc_node *node, dlc_value *const *dy, const bool *need,
                                    dlc_value **dx);

/* The rule for a node's op, or NULL (passes/grad_rules.c). */
dlc_grad_rule dlc_grad_rule_find(const dlc_node *node);

/* Adds op_type(inputs) {attrs} → one new value *out (opset 13 semantics),
 * binds, infers and folds it. */
dlc_status dlc_grad_emit(dlc_grad_ctx *c, const char *op_type, int32_t num_inputs, dlc_value *const *inputs,
                         int32_t num_attrs, const dlc_attr *attrs, dlc_value **out);
dlc_status dlc_grad_unary(dlc_grad_ctx *c, const char *op_type, dlc_value *a, dlc_value **out);
dlc_status dlc_grad_binary(dlc_grad_ctx *c, const char *op_type, dlc_value *a, dlc_value *b, dlc_value **out);
/* A rank-0 CONST of dtype (float32 or float64) holding value. */
dlc_status dlc_grad_scalar(dlc_grad_ctx *c, dlc_dtype dtype, double value, dlc_value **out);
/* A 1-D int64 CONST. */
dlc_status dlc_grad_ints(dlc_grad_ctx *c, int32_t count, const int64_t *values, dlc_value **out);
/* v's shape as an int64 tensor: a CONST when static, else a Shape node. */
dlc_status dlc_grad_shape_of(dlc_grad_ctx *c, dlc_value *v, dlc_value **out);
/* A tensor of like's dtype and shape filled with value. */
dlc_status dlc_grad_fill_like(dlc_grad_ctx *c, dlc_value *like, double value, dlc_value **out);
/* grad, of a shape that target broadcast to, summed over the broadcast dims
 * and reshaped to target's shape (grad itself when the shapes agree). */
dlc_status dlc_grad_reduce_to(dlc_grad_ctx *c, dlc_value *grad, dlc_value *target, dlc_value **out);
/* Reshape(v, shape of target), or v when the shapes already agree. */
dlc_status dlc_grad_reshape_to(dlc_grad_ctx *c, dlc_value *v, dlc_value *target, dlc_value **out);

/* ---- the Gradient op ---- */

/* ai.onnx.preview.training.Gradient */
bool dlc_is_gradient(const dlc_node *node);
/* Makes the value named by each Gradient node's y attribute an implicit
 * input of the node (ir/subgraph.h), so topological order puts the node
 * after everything y depends on. Idempotent. *out_any: some Gradient exists. */
dlc_status dlc_gradient_prepare(dlc_graph *g, bool *out_any);
/* The xs of node that are CONST, at most max into out; returns how many.
 * Their dependents must not be folded before node is expanded. */
int32_t dlc_gradient_const_xs(const dlc_graph *g, const dlc_node *node, dlc_value **out, int32_t max);
/* Replaces a Gradient node (its y and the nodes before it inferred) by the
 * nodes computing its outputs; Identity nodes write them into the node's
 * output values. */
dlc_status dlc_expand_gradient(dlc_graph *g, dlc_node *node);

#endif
