/* Small graph-rewriting helpers shared by the optimization passes
 * (simplify, CSE, the pattern fusions): replacing a node in place while
 * keeping its output values, reading constants, making small constants. */
#ifndef DLC_PASSES_REWRITE_H
#define DLC_PASSES_REWRITE_H

#include <stdbool.h>

#include "ir/graph.h"

/* Replaces node by op_type(inputs) with attrs, at the same position in the
 * node order and writing the very same output values, so readers and graph
 * outputs (whose names are the artifact's interface) are untouched. The new
 * node takes the old one's name, is bound to its schema and inferred; a
 * change of any output's dtype or shape is an internal error (the caller's
 * pattern check was wrong). Inputs must be defined before node's position. */
dlc_status dlc_replace_node(dlc_graph *g, dlc_node *node, const char *op_type, int32_t opset, int32_t num_inputs,
                            dlc_value *const *inputs, int32_t num_attrs, const dlc_attr *attrs,
                            dlc_node **out_node);
/* The same with an op of another domain (the private "dlc" ops). */
dlc_status dlc_replace_node_in(dlc_graph *g, dlc_node *node, const char *domain, const char *op_type, int32_t opset,
                               int32_t num_inputs, dlc_value *const *inputs, int32_t num_attrs, const dlc_attr *attrs,
                               dlc_node **out_node);

/* Element i of a CONST value as double (numeric dtypes), NaN otherwise. */
double dlc_const_element(const dlc_value *v, int64_t i);
/* True when v is CONST, non-empty, and every element equals x. */
bool dlc_const_all_equal(const dlc_value *v, double x);
/* True when v is a CONST with exactly one element (any rank) close to x
 * (relative tolerance rtol). */
bool dlc_const_scalar_near(const dlc_value *v, double x, double rtol);

/* The node producing v with op_type (ai.onnx), or NULL. */
dlc_node *dlc_producer_of(const dlc_value *v, const char *op_type);
/* True when v is an intermediate read exactly `uses` times and not a graph
 * output: a pattern may absorb its producer. */
bool dlc_value_private(const dlc_value *v, int32_t uses);

/* A new CONST int64 vector / a new CONST filled with x of dtype (float32 or
 * float64) and shape. */
dlc_status dlc_add_const_i64s(dlc_graph *g, const char *name, const int64_t *data, int32_t count,
                              dlc_value **out_value);
dlc_status dlc_add_const_filled(dlc_graph *g, const char *name, dlc_dtype dtype, const dlc_shape *shape, double x,
                                dlc_value **out_value);

#endif
