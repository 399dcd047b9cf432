/* Fused epilogues of Conv, Gemm and MatMul: checks and lowering shared by
 * their op rules (see epilogue.h). */
#include "ir/ops/epilogue.h"

#include <stdio.h>
#include <string.h>

#include "kernels/epilogue.h"
#include "runtime/status.h"

static const struct {
    const char *name;
    int32_t code, params;
} activations[] = {
    {"Relu", DLC_EP_RELU, 0},       {"Clip", DLC_EP_CLIP, 2},  {"LeakyRelu", DLC_EP_LEAKY_RELU, 1},
    {"Sigmoid", DLC_EP_SIGMOID, 0}, {"Tanh", DLC_EP_TANH, 0},  {"Gelu", DLC_EP_GELU, 0},
    {"GeluTanh", DLC_EP_GELU_TANH, 0}, /* Gelu with approximate="tanh" */
    {"SiLU", DLC_EP_SILU, 0},          /* x * Sigmoid(x) */
};

static int32_t act_index(const char *name) {
    for (size_t i = 0; name != NULL && i < sizeof activations / sizeof activations[0]; i++)
        if (strcmp(activations[i].name, name) == 0) return (int32_t)i;
    return -1;
}

int32_t dlc_epilogue_act_code(const char *name) {
    int32_t i = act_index(name);
    return i < 0 ? -1 : activations[i].code;
}

static bool dims_equal(dlc_dim a, dlc_dim b) {
    return dlc_dim_is_static(a) ? a.value == b.value : !dlc_dim_is_static(b) && a.sym == b.sym;
}

bool dlc_epilogue_has_activation(const dlc_node *node) { return dlc_node_attr(node, DLC_ACTIVATION_ATTR) != NULL; }

dlc_status dlc_epilogue_check(const dlc_graph *g, const dlc_node *node, int32_t base_inputs) {
    char where[256], s1[160], s2[160];
    bool fused = dlc_node_attr(node, DLC_EPILOGUE_ATTR) != NULL;
    bool extra = false;
    for (int32_t i = base_inputs; i < node->num_inputs; i++) extra = extra || node->inputs[i] != NULL;
    if (!fused && (extra || dlc_epilogue_has_activation(node)))
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: %s takes at most %d inputs",
                        dlc_node_describe(node, where, sizeof where), node->op_type, base_inputs);
    if (!fused) return DLC_OK;
    const dlc_value *y = node->outputs[0];
    dlc_node_describe(node, where, sizeof where);
    if (y->dtype != DLC_FLOAT32)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: a fused epilogue needs float32, not %s", where,
                        dlc_dtype_name(y->dtype));
    const dlc_value *r = node->num_inputs > DLC_EPILOGUE_RESIDUAL ? node->inputs[DLC_EPILOGUE_RESIDUAL] : NULL;
    if (r != NULL && y->shape.rank >= 0 &&
        (r->dtype != DLC_FLOAT32 || !dlc_shape_equal(&r->shape, &y->shape)))
        return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: residual '%s' %s %s must be the output's float32 %s", where,
                        r->name, dlc_dtype_name(r->dtype), dlc_shape_format(g, &r->shape, s1, sizeof s1),
                        dlc_shape_format(g, &y->shape, s2, sizeof s2));
    const dlc_value *bias = strcmp(node->op_type, "MatMul") == 0 && node->num_inputs > 2 ? node->inputs[2] : NULL;
    if (bias != NULL && y->shape.rank >= 1 &&
        (bias->dtype != DLC_FLOAT32 || bias->shape.rank != 1 ||
         !dims_equal(bias->shape.dims[0], y->shape.dims[y->shape.rank - 1])))
        return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: bias '%s' %s must be float32 [N] for the output %s", where,
                        bias->name, dlc_shape_format(g, &bias->shape, s1, sizeof s1),
                        dlc_shape_format(g, &y->shape, s2, sizeof s2));
    const char *act = dlc_node_attr_string(node, DLC_ACTIVATION_ATTR, NULL);
    if (act == NULL) return DLC_OK;
    int32_t k = act_index(act), count = 0;
    dlc_node_attr_floats(node, DLC_ACTIVATION_PARAMS_ATTR, &count);
    if (k < 0 || count < activations[k].params)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: fused activation '%s' is unknown or lacks its %d parameters",
                        where, act, k < 0 ? 0 : activations[k].params);
    return DLC_OK;
}

dlc_status dlc_epilogue_lower(const dlc_node *node, dlc_kcall *call) {
    const char *act = dlc_node_attr_string(node, DLC_ACTIVATION_ATTR, NULL);
    if (act == NULL) return DLC_OK;
    int32_t count = 0;
    const double *params = dlc_node_attr_floats(node, DLC_ACTIVATION_PARAMS_ATTR, &count);
    DLC_TRY(dlc_kcall_push_int(call, dlc_epilogue_act_code(act)));
    DLC_TRY(dlc_kcall_push_float(call, count > 0 ? params[0] : 0.0));
    return dlc_kcall_push_float(call, count > 1 ? params[1] : 0.0);
}

const char *dlc_node_label(const dlc_node *node, char *buf, size_t size) {
    const char *ep = dlc_node_attr_string(node, DLC_EPILOGUE_ATTR, NULL);
    const char *chain = dlc_node_attr_string(node, "dlc_chain", NULL); /* dlc.ElementwiseChain: its ops */
    if (chain != NULL) snprintf(buf, size, "%s", chain);
    else if (ep == NULL) snprintf(buf, size, "%s", node->op_type);
    else snprintf(buf, size, "%s+%s", node->op_type, ep);
    return buf;
}
