/* The ai.onnx.preview.training ops: Gradient (expanded by passes/autodiff.c)
 * and the optimizers Adagrad, Momentum, Adam. Each optimizer
 * updates n tensors at once: inputs R (learning rate), T (step count), then
 * n tensors X, n gradients G and the optimizer's n state tensors (Adam: two
 * groups); outputs the new X and the new states. Formulas as in the ONNX spec;
 * kernels/training.c computes them. */
#include <string.h>

#include "ir/op_registry.h"
#include "runtime/status.h"

enum { OPT_ADAGRAD = 0, OPT_MOMENTUM = 1, OPT_ADAM = 2 };

static int32_t state_groups(int64_t kind) { return kind == OPT_ADAM ? 2 : 1; }

static int64_t kind_of(const dlc_node *node) {
    return strcmp(node->op_type, "Adagrad") == 0 ? OPT_ADAGRAD : strcmp(node->op_type, "Momentum") == 0 ? OPT_MOMENTUM
                                                                                                           : OPT_ADAM;
}

static dlc_status optimizer_infer(dlc_graph *g, dlc_node *node) {
    char where[256], a[160], b[160];
    dlc_node_describe(node, where, sizeof where);
    int64_t kind = kind_of(node);
    int32_t groups = 2 + state_groups(kind); /* X, G, states */
    int32_t tensors = node->num_inputs - 2;
    if (tensors <= 0 || tensors % groups != 0 || node->num_outputs != tensors / groups * (1 + state_groups(kind)))
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: %d inputs and %d outputs do not make whole groups", where,
                        node->num_inputs, node->num_outputs);
    int32_t n = tensors / groups;
    if (kind == OPT_MOMENTUM) {
        /* the spec gives Momentum's attributes no defaults */
        static const char *const required[] = {"alpha", "beta", "mode", "norm_coefficient"};
        for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
            if (dlc_node_attr(node, required[i]) == NULL)
                return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: attribute '%s' is required", where, required[i]);
        const char *mode = dlc_node_attr_string(node, "mode", "");
        if (strcmp(mode, "standard") != 0 && strcmp(mode, "nesterov") != 0)
            return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: mode '%s' must be 'standard' or 'nesterov'", where,
                            mode);
    }
    const dlc_value *r = node->inputs[0], *t = node->inputs[1];
    if ((r->dtype != DLC_FLOAT32 && r->dtype != DLC_FLOAT64) || t->dtype != DLC_INT64)
        return dlc_fail(DLC_ERR_DTYPE_MISMATCH, "node %s: R must be float, T int64 (got %s, %s)", where,
                        dlc_dtype_name(r->dtype), dlc_dtype_name(t->dtype));
    for (int32_t i = 0; i < n; i++) {
        const dlc_value *x = node->inputs[2 + i];
        if (x->dtype != DLC_FLOAT32 && x->dtype != DLC_FLOAT64)
            return dlc_fail(DLC_ERR_DTYPE_MISMATCH, "node %s: '%s' must be float32 or float64", where, x->name);
        for (int32_t grp = 1; grp < groups; grp++) {
            const dlc_value *other = node->inputs[2 + grp * n + i];
            if (other->dtype != x->dtype || !dlc_shape_equal(&other->shape, &x->shape))
                return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: '%s' %s does not match '%s' %s", where, other->name,
                                dlc_shape_format(g, &other->shape, a, sizeof a), x->name,
                                dlc_shape_format(g, &x->shape, b, sizeof b));
        }
        for (int32_t grp = 0; grp <= state_groups(kind); grp++) {
            dlc_value *out = node->outputs[grp * n + i];
            if (out == NULL) continue;
            out->dtype = x->dtype;
            out->shape = x->shape;
        }
    }
    return DLC_OK;
}

/* ints: kind, n, nesterov; floats: per kind (see kernels/training.c) */
static dlc_status optimizer_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    int64_t kind = kind_of(node);
    dlc_kcall_init(call, "optimizer");
    DLC_TRY(dlc_kcall_push_int(call, kind));
    DLC_TRY(dlc_kcall_push_int(call, (node->num_inputs - 2) / (2 + state_groups(kind))));
    DLC_TRY(dlc_kcall_push_int(call, strcmp(dlc_node_attr_string(node, "mode", "standard"), "nesterov") == 0));
    if (kind == OPT_ADAGRAD) {
        DLC_TRY(dlc_kcall_push_float(call, dlc_node_attr_float(node, "decay_factor", 0.0)));
        DLC_TRY(dlc_kcall_push_float(call, dlc_node_attr_float(node, "epsilon", 1e-6)));
        DLC_TRY(dlc_kcall_push_float(call, dlc_node_attr_float(node, "norm_coefficient", 0.0)));
    } else if (kind == OPT_MOMENTUM) {
        DLC_TRY(dlc_kcall_push_float(call, dlc_node_attr_float(node, "alpha", 0.0)));
        DLC_TRY(dlc_kcall_push_float(call, dlc_node_attr_float(node, "beta", 0.0)));
        DLC_TRY(dlc_kcall_push_float(call, dlc_node_attr_float(node, "norm_coefficient", 0.0)));
    } else {
        DLC_TRY(dlc_kcall_push_float(call, dlc_node_attr_float(node, "alpha", 0.9)));
        DLC_TRY(dlc_kcall_push_float(call, dlc_node_attr_float(node, "beta", 0.999)));
        DLC_TRY(dlc_kcall_push_float(call, dlc_node_attr_float(node, "epsilon", 1e-6)));
        DLC_TRY(dlc_kcall_push_float(call, dlc_node_attr_float(node, "norm_coefficient", 0.0)));
        DLC_TRY(dlc_kcall_push_float(call, dlc_node_attr_float(node, "norm_coefficient_post", 0.0)));
    }
    return DLC_OK;
}

/* Gradient: passes/gradient_op.c replaces it by the nodes dlc_autodiff
 * builds before it would be inferred; this rule gives its outputs the xs'
 * dtypes and shapes for callers that only infer. */
static dlc_status gradient_infer(dlc_graph *g, dlc_node *node) {
    (void)g;
    char where[256];
    dlc_node_describe(node, where, sizeof where);
    const dlc_attr *xs = dlc_node_attr(node, "xs");
    if (xs == NULL || xs->type != DLC_ATTR_STRINGS || xs->count != node->num_outputs || node->num_inputs < xs->count)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: the attribute 'xs' must name one value per output", where);
    for (int32_t k = 0; k < node->num_outputs; k++) {
        if (node->outputs[k] == NULL || node->inputs[k] == NULL) continue;
        node->outputs[k]->dtype = node->inputs[k]->dtype;
        node->outputs[k]->shape = node->inputs[k]->shape;
    }
    return DLC_OK;
}

#define TRAINING_DOMAIN "ai.onnx.preview.training"

const dlc_op_schema dlc_ops_training[] = {
    {"Adagrad", TRAINING_DOMAIN, 1, 5, -1, 2, -1, optimizer_infer, optimizer_lower, NULL},
    {"Momentum", TRAINING_DOMAIN, 1, 5, -1, 2, -1, optimizer_infer, optimizer_lower, NULL},
    {"Adam", TRAINING_DOMAIN, 1, 6, -1, 3, -1, optimizer_infer, optimizer_lower, NULL},
    {"Gradient", TRAINING_DOMAIN, 1, 1, -1, 1, -1, gradient_infer, NULL, NULL},
    {0},
};
