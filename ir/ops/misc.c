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
    if (!dlc_dtype_is_float(x->dtype))
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
    if (!dlc_dtype_is_float(x->dtype))
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

/* MaxUnpool(X, I, output_shape?) {kernel_shape, pads, strides}: scatters X
 * to the flat positions I (as MaxPool's Indices give them) of the default
 * output shape; a larger output_shape keeps each value's coordinates. */
static dlc_status unpool_default_shape(const dlc_node *node, dlc_shape *out);

static dlc_status max_unpool_infer(dlc_graph *g, dlc_node *node) {
    char where[256], a[160], b[160];
    dlc_node_describe(node, where, sizeof where);
    const dlc_value *x = node->inputs[0], *idx = node->inputs[1];
    if (idx->dtype != DLC_INT64 || !dlc_shape_equal(&x->shape, &idx->shape))
        return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: indices %s %s must be int64 shaped like X %s", where,
                        dlc_dtype_name(idx->dtype), dlc_shape_format(g, &idx->shape, a, sizeof a),
                        dlc_shape_format(g, &x->shape, b, sizeof b));
    dlc_shape out;
    DLC_TRY(unpool_default_shape(node, &out));
    const dlc_value *given = node->num_inputs > 2 ? node->inputs[2] : NULL;
    if (given != NULL) {
        int64_t dims[DLC_MAX_RANK];
        int32_t n;
        DLC_TRY(dlc_value_const_ints(given, dims, DLC_MAX_RANK, &n));
        if (n != x->shape.rank)
            return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: output_shape has %d dims, X has %d", where, n,
                            x->shape.rank);
        out = dlc_shape_make(n, dims);
    }
    node->outputs[0]->dtype = x->dtype;
    node->outputs[0]->shape = out;
    return DLC_OK;
}

static dlc_status unpool_default_shape(const dlc_node *node, dlc_shape *out_shape) {
    char where[256];
    dlc_node_describe(node, where, sizeof where);
    const dlc_value *x = node->inputs[0];
    dlc_shape out = x->shape;
    {
        int32_t nk, np, ns;
        const int64_t *kernel = dlc_node_attr_ints(node, "kernel_shape", &nk);
        const int64_t *pads = dlc_node_attr_ints(node, "pads", &np);
        const int64_t *strides = dlc_node_attr_ints(node, "strides", &ns);
        int32_t spatial = x->shape.rank - 2;
        if (kernel == NULL || nk != spatial || (pads != NULL && np != 2 * spatial) || (strides != NULL && ns != spatial))
            return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: kernel_shape/pads/strides do not fit rank %d", where,
                            x->shape.rank);
        for (int32_t d = 0; d < spatial; d++) {
            int64_t in = x->shape.dims[2 + d].value;
            int64_t stride = strides ? strides[d] : 1, pad = pads ? pads[d] + pads[spatial + d] : 0;
            out.dims[2 + d] = (dlc_dim){in < 0 ? -1 : (in - 1) * stride + kernel[d] - pad, 0};
        }
    }
    *out_shape = out;
    return DLC_OK;
}

/* ints: the default output dims (the space the indices count in) */
static dlc_status max_unpool_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    dlc_shape def;
    DLC_TRY(unpool_default_shape(node, &def));
    dlc_kcall_init(call, "max_unpool");
    for (int32_t d = 0; d < def.rank; d++) DLC_TRY(dlc_kcall_push_int(call, def.dims[d].value));
    return DLC_OK;
}

static int64_t no_flops(const dlc_node *node) { return 0; }

const dlc_op_schema dlc_ops_misc[] = {
    {"EyeLike", "", 9, 1, 1, 1, 1, eyelike_infer, eyelike_lower, no_flops},
    {"Shrink", "", 9, 1, 1, 1, 1, shrink_infer, shrink_lower, NULL},
    {"MeanVarianceNormalization", "", 9, 1, 1, 1, 1, mvn_infer, mvn_lower, NULL},
    {"Det", "", 11, 1, 1, 1, 1, det_infer, det_lower, NULL},
    {"MaxUnpool", "", 9, 2, 3, 1, 1, max_unpool_infer, max_unpool_lower, no_flops, 1u << 2},
    {0},
};
