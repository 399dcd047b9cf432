/* BatchNormalization (inference), InstanceNormalization,
 * LayerNormalization, LRN: schema, shape rules, lowering (kernels/norm.c;
 * parameter layouts documented there). */
#include <stdbool.h>

#include "ir/op_registry.h"
#include "runtime/status.h"

static dlc_status check_float(const dlc_node *node, int32_t input) {
    const dlc_value *v = node->inputs[input];
    if (v == NULL || dlc_dtype_is_float(v->dtype)) return DLC_OK;
    char where[256];
    return dlc_fail(DLC_ERR_DTYPE_MISMATCH, "node %s: input %d ('%s') is %s, %s takes float types",
                    dlc_node_describe(node, where, sizeof where), input, v->name, dlc_dtype_name(v->dtype),
                    node->op_type);
}

static dlc_status check_same_dtype(const dlc_node *node, int32_t input) {
    const dlc_value *v = node->inputs[input], *x = node->inputs[0];
    if (v == NULL || v->dtype == x->dtype) return DLC_OK;
    char where[256];
    return dlc_fail(DLC_ERR_DTYPE_MISMATCH, "node %s: input %d ('%s') is %s but X is %s",
                    dlc_node_describe(node, where, sizeof where), input, v->name, dlc_dtype_name(v->dtype),
                    dlc_dtype_name(x->dtype));
}

/* A per-channel parameter: 1-D with C values (C may be symbolic). */
static dlc_status check_channel_param(const dlc_graph *g, const dlc_node *node, int32_t input, int64_t values) {
    const dlc_value *v = node->inputs[input], *x = node->inputs[0];
    if (v == NULL || v->shape.rank < 0) return DLC_OK;
    int64_t numel = dlc_value_numel(v);
    bool ok = numel < 0 || values < 0 || numel == values;
    if (ok && values >= 0 && numel < 0) ok = v->shape.rank >= 1;
    if (!ok) {
        char where[256], sv[160], sx[160];
        return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: input %d ('%s') has shape %s, X %s needs %lld values",
                        dlc_node_describe(node, where, sizeof where), input, v->name,
                        dlc_shape_format(g, &v->shape, sv, sizeof sv), dlc_shape_format(g, &x->shape, sx, sizeof sx),
                        (long long)values);
    }
    return DLC_OK;
}

static dlc_status check_rank(const dlc_graph *g, const dlc_node *node, int32_t min_rank) {
    const dlc_value *x = node->inputs[0];
    if (x->shape.rank < 0 || x->shape.rank >= min_rank) return DLC_OK;
    char where[256], sx[160];
    return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: input X %s needs rank >= %d",
                    dlc_node_describe(node, where, sizeof where), dlc_shape_format(g, &x->shape, sx, sizeof sx),
                    min_rank);
}

static dlc_dim channels_of(const dlc_value *x) { return x->shape.rank >= 2 ? x->shape.dims[1] : (dlc_dim){1, 0}; }

static void output_like_x(dlc_node *node) {
    node->outputs[0]->dtype = node->inputs[0]->dtype;
    node->outputs[0]->shape = node->inputs[0]->shape;
}

/* ---- BatchNormalization --------------------------------------------------------------- */

static dlc_status bn_infer(dlc_graph *g, dlc_node *node) {
    char where[256];
    dlc_node_describe(node, where, sizeof where);
    bool training = node->opset >= 14 && dlc_node_attr_int(node, "training_mode", 0) != 0;
    for (int32_t i = 1; i < node->num_outputs; i++) training |= node->outputs[i] != NULL;
    /* opset 14+ training mode: batch statistics, optional running_mean/var
     * outputs; older opsets' saved_mean/saved_var outputs are not supported */
    if (training && node->opset < 14)
        return dlc_fail(DLC_ERR_UNSUPPORTED,
                        "node %s: BatchNormalization statistics outputs before opset 14 are not supported", where);
    for (int32_t i = 0; i < 5; i++) DLC_TRY(check_float(node, i));
    /* opset 15 lets scale/B (T1) and mean/var (T2) differ from X */
    if (node->opset < 15)
        for (int32_t i = 1; i < 5; i++) DLC_TRY(check_same_dtype(node, i));
    DLC_TRY(check_rank(g, node, 2));
    const dlc_value *x = node->inputs[0];
    if (x->shape.rank >= 0) {
        dlc_dim c = channels_of(x);
        int64_t values = c.value;
        /* opset < 9, spatial = 0: one value per activation (C x spatial) */
        if (node->opset < 9 && dlc_node_attr_int(node, "spatial", 1) == 0) {
            values = 1;
            for (int32_t d = 1; d < x->shape.rank && values >= 0; d++)
                values = dlc_dim_is_static(x->shape.dims[d]) ? values * x->shape.dims[d].value : -1;
        }
        for (int32_t i = 1; i < 5; i++) DLC_TRY(check_channel_param(g, node, i, values));
    }
    output_like_x(node);
    for (int32_t i = 1; i < node->num_outputs; i++)
        if (node->outputs[i] != NULL) {
            node->outputs[i]->dtype = node->inputs[2 + i]->dtype; /* running_mean, running_var */
            node->outputs[i]->shape = node->inputs[2 + i]->shape;
        }
    return DLC_OK;
}

static bool bn_training(const dlc_node *node) {
    bool training = node->opset >= 14 && dlc_node_attr_int(node, "training_mode", 0) != 0;
    for (int32_t i = 1; i < node->num_outputs; i++) training |= node->outputs[i] != NULL;
    return training;
}

static dlc_status bn_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    dlc_kcall_init(call, bn_training(node) ? "batch_norm_train" : "batch_norm");
    DLC_TRY(dlc_kcall_push_float(call, dlc_node_attr_float(node, "epsilon", 1e-5)));
    return dlc_kcall_push_float(call, dlc_node_attr_float(node, "momentum", 0.9));
}

static int64_t two_per_element(const dlc_node *node) {
    int64_t n = dlc_value_numel(node->inputs[0]);
    return n < 0 ? -1 : 2 * n;
}

/* ---- InstanceNormalization -------------------------------------------------------------- */

static dlc_status in_infer(dlc_graph *g, dlc_node *node) {
    for (int32_t i = 0; i < 3; i++) {
        DLC_TRY(check_float(node, i));
        DLC_TRY(check_same_dtype(node, i));
    }
    DLC_TRY(check_rank(g, node, 3));
    const dlc_value *x = node->inputs[0];
    if (x->shape.rank >= 0)
        for (int32_t i = 1; i < 3; i++) DLC_TRY(check_channel_param(g, node, i, channels_of(x).value));
    output_like_x(node);
    return DLC_OK;
}

static dlc_status in_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    dlc_kcall_init(call, "instance_norm");
    return dlc_kcall_push_float(call, dlc_node_attr_float(node, "epsilon", 1e-5));
}

static int64_t five_per_element(const dlc_node *node) {
    int64_t n = dlc_value_numel(node->inputs[0]);
    return n < 0 ? -1 : 5 * n;
}

/* ---- LayerNormalization ------------------------------------------------------------------- */

/* Scale and B broadcast unidirectionally to X.shape[axis:]. */
static dlc_status ln_check_param(const dlc_graph *g, const dlc_node *node, int32_t input, int32_t axis) {
    const dlc_value *v = node->inputs[input], *x = node->inputs[0];
    if (v == NULL || v->shape.rank < 0) return DLC_OK;
    int32_t norm_rank = x->shape.rank - axis;
    bool ok = v->shape.rank <= norm_rank;
    for (int32_t i = 0; ok && i < v->shape.rank; i++) {
        dlc_dim vd = v->shape.dims[v->shape.rank - 1 - i], xd = x->shape.dims[x->shape.rank - 1 - i];
        ok = !dlc_dim_is_static(vd) || vd.value == 1 || !dlc_dim_is_static(xd) || vd.value == xd.value;
    }
    if (ok) return DLC_OK;
    char where[256], sv[160], sx[160];
    return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: input %d ('%s') %s does not broadcast to X %s from axis %d",
                    dlc_node_describe(node, where, sizeof where), input, v->name,
                    dlc_shape_format(g, &v->shape, sv, sizeof sv), dlc_shape_format(g, &x->shape, sx, sizeof sx), axis);
}

static dlc_status ln_axis(const dlc_node *node, int32_t *axis) {
    return dlc_normalize_axis(node, dlc_node_attr_int(node, "axis", -1), node->inputs[0]->shape.rank, axis);
}

static dlc_status ln_infer(dlc_graph *g, dlc_node *node) {
    for (int32_t i = 0; i < node->num_inputs; i++) {
        DLC_TRY(check_float(node, i));
        DLC_TRY(check_same_dtype(node, i));
    }
    const dlc_value *x = node->inputs[0];
    output_like_x(node);
    /* Mean and InvStdDev: float32 (stash_type 1), float64 for float64 inputs */
    dlc_dtype stat = x->dtype == DLC_FLOAT64 ? DLC_FLOAT64 : DLC_FLOAT32;
    if (x->shape.rank < 0) {
        for (int32_t i = 1; i < node->num_outputs; i++)
            if (node->outputs[i] != NULL) {
                node->outputs[i]->dtype = stat;
                node->outputs[i]->shape.rank = -1;
            }
        return DLC_OK;
    }
    int32_t axis;
    DLC_TRY(ln_axis(node, &axis));
    for (int32_t i = 1; i < node->num_inputs; i++) DLC_TRY(ln_check_param(g, node, i, axis));
    for (int32_t i = 1; i < node->num_outputs; i++) {
        dlc_value *s = node->outputs[i];
        if (s == NULL) continue;
        s->dtype = stat;
        s->shape = x->shape;
        for (int32_t d = axis; d < x->shape.rank; d++) s->shape.dims[d] = (dlc_dim){1, 0};
    }
    return DLC_OK;
}

static dlc_status ln_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    int32_t axis;
    DLC_TRY(ln_axis(node, &axis));
    dlc_kcall_init(call, "layer_norm");
    DLC_TRY(dlc_kcall_push_int(call, axis));
    return dlc_kcall_push_float(call, dlc_node_attr_float(node, "epsilon", 1e-5));
}

/* ---- LRN ------------------------------------------------------------------------------------- */

static dlc_status lrn_infer(dlc_graph *g, dlc_node *node) {
    DLC_TRY(check_float(node, 0));
    DLC_TRY(check_rank(g, node, 2));
    if (dlc_node_attr_int(node, "size", 0) < 1) {
        char where[256];
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: attribute size (>= 1) is required",
                        dlc_node_describe(node, where, sizeof where));
    }
    output_like_x(node);
    return DLC_OK;
}

static dlc_status lrn_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    dlc_kcall_init(call, "lrn");
    DLC_TRY(dlc_kcall_push_int(call, dlc_node_attr_int(node, "size", 1)));
    DLC_TRY(dlc_kcall_push_float(call, dlc_node_attr_float(node, "alpha", 1e-4)));
    DLC_TRY(dlc_kcall_push_float(call, dlc_node_attr_float(node, "beta", 0.75)));
    return dlc_kcall_push_float(call, dlc_node_attr_float(node, "bias", 1.0));
}

static int64_t lrn_flops(const dlc_node *node) {
    int64_t n = dlc_value_numel(node->inputs[0]);
    return n < 0 ? -1 : n * (2 * dlc_node_attr_int(node, "size", 1) + 4);
}

const dlc_op_schema dlc_ops_norm[] = {
    {"BatchNormalization", "", 1, 5, 5, 1, 5, bn_infer, bn_lower, two_per_element},
    {"InstanceNormalization", "", 1, 3, 3, 1, 1, in_infer, in_lower, five_per_element},
    {"LayerNormalization", "", 17, 2, 3, 1, 3, ln_infer, ln_lower, five_per_element},
    {"LRN", "", 1, 1, 1, 1, 1, lrn_infer, lrn_lower, lrn_flops},
    {0},
};
