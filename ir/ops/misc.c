/* Small ops without a larger family: EyeLike, Shrink, MeanVarianceNormalization. */
#include <string.h>

#include "ir/op_registry.h"
#include "runtime/status.h"

static bool is_numeric(dlc_dtype t) { return dlc_dtype_size(t) > 0 && t != DLC_COMPLEX64 && t != DLC_COMPLEX128; }

/* EyeLike(input) {dtype, k}: a 2-D tensor of input's shape with ones on the
 * k-th diagonal. */
static dlc_status eyelike_infer(dlc_graph *g, dlc_node *node) {
    char where[256], s[160];
    const dlc_value *x = node->inputs[0];
    if (x->shape.rank != 2)
        return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: input %s must be 2-D",
                        dlc_node_describe(node, where, sizeof where), dlc_shape_format(g, &x->shape, s, sizeof s));
    dlc_dtype dtype = (dlc_dtype)dlc_node_attr_int(node, "dtype", x->dtype);
    if (!is_numeric(dtype))
        return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: dtype %s is not supported",
                        dlc_node_describe(node, where, sizeof where), dlc_dtype_name(dtype));
    node->outputs[0]->dtype = dtype;
    node->outputs[0]->shape = x->shape;
    return DLC_OK;
}

static dlc_status eyelike_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    dlc_kcall_init(call, "eye");
    return dlc_kcall_push_int(call, dlc_node_attr_int(node, "k", 0));
}

/* Shrink(x) {lambd = 0.5, bias = 0}: x + bias below -lambd, x - bias above
 * lambd, 0 between. */
static dlc_status shrink_infer(dlc_graph *g, dlc_node *node) {
    char where[256];
    const dlc_value *x = node->inputs[0];
    if (!is_numeric(x->dtype) || x->dtype == DLC_BOOL)
        return dlc_fail(DLC_ERR_DTYPE_MISMATCH, "node %s: Shrink needs a numeric input, got %s",
                        dlc_node_describe(node, where, sizeof where), dlc_dtype_name(x->dtype));
    node->outputs[0]->dtype = x->dtype;
    node->outputs[0]->shape = x->shape;
    return DLC_OK;
}

static dlc_status shrink_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    dlc_kcall_init(call, "shrink");
    DLC_TRY(dlc_kcall_push_float(call, dlc_node_attr_float(node, "lambd", 0.5)));
    return dlc_kcall_push_float(call, dlc_node_attr_float(node, "bias", 0.0));
}

/* MeanVarianceNormalization(X) {axes = [0,2,3]}: (X - E[X]) / (sqrt(E[X^2] -
 * E[X]^2) + 1e-9) over axes, as the ONNX function body computes it. */
static dlc_status mvn_axes(const dlc_node *node, int32_t rank, int64_t *out_mask) {
    int32_t count;
    const int64_t *axes = dlc_node_attr_ints(node, "axes", &count);
    static const int64_t default_axes[3] = {0, 2, 3};
    if (axes == NULL) axes = default_axes, count = 3;
    int64_t mask = 0;
    for (int32_t i = 0; i < count; i++) {
        int32_t axis;
        DLC_TRY(dlc_normalize_axis(node, axes[i], rank, &axis));
        mask |= INT64_C(1) << axis;
    }
    *out_mask = mask;
    return DLC_OK;
}

static dlc_status mvn_infer(dlc_graph *g, dlc_node *node) {
    char where[256];
    const dlc_value *x = node->inputs[0];
    if (x->dtype != DLC_FLOAT32 && x->dtype != DLC_FLOAT64 && x->dtype != DLC_FLOAT16 && x->dtype != DLC_BFLOAT16)
        return dlc_fail(DLC_ERR_DTYPE_MISMATCH, "node %s: needs a float input, got %s",
                        dlc_node_describe(node, where, sizeof where), dlc_dtype_name(x->dtype));
    int64_t mask;
    DLC_TRY(mvn_axes(node, x->shape.rank, &mask));
    node->outputs[0]->dtype = x->dtype;
    node->outputs[0]->shape = x->shape;
    return DLC_OK;
}

static dlc_status mvn_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    int64_t mask;
    DLC_TRY(mvn_axes(node, node->inputs[0]->shape.rank, &mask));
    dlc_kcall_init(call, "mvn");
    return dlc_kcall_push_int(call, mask);
}

/* Det(X [..., M, M]) -> [...]: determinant of each square matrix. */
static dlc_status det_infer(dlc_graph *g, dlc_node *node) {
    char where[256], s[160];
    const dlc_value *x = node->inputs[0];
    int32_t r = x->shape.rank;
    if (r < 2 || (x->shape.dims[r - 1].value >= 0 && x->shape.dims[r - 2].value >= 0 &&
                  x->shape.dims[r - 1].value != x->shape.dims[r - 2].value))
        return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: %s is not a batch of square matrices",
                        dlc_node_describe(node, where, sizeof where), dlc_shape_format(g, &x->shape, s, sizeof s));
    if (x->dtype != DLC_FLOAT32 && x->dtype != DLC_FLOAT64 && x->dtype != DLC_FLOAT16 && x->dtype != DLC_BFLOAT16)
        return dlc_fail(DLC_ERR_DTYPE_MISMATCH, "node %s: needs a float input, got %s", where,
                        dlc_dtype_name(x->dtype));
    node->outputs[0]->dtype = x->dtype;
    node->outputs[0]->shape = (dlc_shape){.rank = r - 2};
    for (int32_t d = 0; d < r - 2; d++) node->outputs[0]->shape.dims[d] = x->shape.dims[d];
    return DLC_OK;
}

static dlc_status det_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    dlc_kcall_init(call, "det");
    return DLC_OK;
}

static int64_t no_flops(const dlc_node *node) { return 0; }

const dlc_op_schema dlc_ops_misc[] = {
    {"EyeLike", "", 9, 1, 1, 1, 1, eyelike_infer, eyelike_lower, no_flops},
    {"Shrink", "", 9, 1, 1, 1, 1, shrink_infer, shrink_lower, NULL},
    {"MeanVarianceNormalization", "", 9, 1, 1, 1, 1, mvn_infer, mvn_lower, NULL},
    {"Det", "", 11, 1, 1, 1, 1, det_infer, det_lower, NULL},
    {0},
};
