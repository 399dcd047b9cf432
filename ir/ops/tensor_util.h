/* Helpers shared by the data-movement op rules (ir/ops/tensor*.c, resize.c). */
#ifndef DLC_IR_OPS_TENSOR_UTIL_H
#define DLC_IR_OPS_TENSOR_UTIL_H

#include "ir/op_registry.h"

/* Most int64 operands an op rule reads from a CONST (shapes, pads, axes). */
#define DLC_TENSOR_MAX_CONST_INTS 64

/* node->inputs[i] when present, else NULL. */
static inline dlc_value *tu_input(const dlc_node *node, int32_t i) {
    return i < node->num_inputs ? node->inputs[i] : NULL;
}
static inline dlc_value *tu_output(const dlc_node *node, int32_t i) {
    return i < node->num_outputs ? node->outputs[i] : NULL;
}

/* Reads input `index` as small CONST int32/int64 data; the error names the
 * node, the operand's role (`what`) and why a non-constant is refused. */
dlc_status tu_const_ints(const dlc_node *node, int32_t index, const char *what, int64_t *out, int32_t max_count,
                         int32_t *out_count);

/* Normalizes and checks a list of axes (negative from the end, no duplicates)
 * against rank; out_axes may alias axes. */
dlc_status tu_normalize_axes(const dlc_node *node, const int64_t *axes, int32_t count, int32_t rank,
                             int32_t *out_axes);

/* A dim that dlc cannot compute statically: a fresh symbol named after the
 * node's output so messages and the artifact can still show it. */
dlc_status tu_fresh_dim(dlc_graph *g, const dlc_node *node, int32_t output, int32_t axis, dlc_dim *out);

/* The bytes of one element of dtype holding `value`, in two int64 words
 * (the "fill"/"pad" kernels' parameter layout). */
dlc_status tu_element_bits(const dlc_node *node, dlc_dtype dtype, double value, int64_t out[2]);

/* Lowers a "strided_copy": output (dense, seen as dims) = input[base +
 * sum(i_d * strides_d)], after dropping size-1 dims and merging dims that
 * are contiguous in the input. */
dlc_status tu_lower_strided(dlc_kcall *call, int32_t rank, const int64_t *dims, const int64_t *strides, int64_t base);

/* Row-major strides of a static shape. */
void tu_strides(const dlc_shape *s, int64_t *strides);

/* Fails unless the value's rank is known; messages name the node and input. */
dlc_status tu_require_rank(const dlc_graph *g, const dlc_node *node, const dlc_value *v, const char *what);

#endif
