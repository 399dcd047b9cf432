/* Loss ops: NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (opset 12+).
 *
 * Both take class scores laid out [N, C, d1, ..., dk] and integer targets
 * [N, d1, ..., dk]. The kernel (kernels/loss.c) computes the per-element
 * losses -w[t] * x[n, t, d] (x = log-softmax of the scores for SCE), then
 * applies the reduction: none, sum, or mean = sum / sum of the weights of
 * the targets that were not ignored. */
#include <string.h>

#include "ir/op_registry.h"
#include "runtime/status.h"

enum { LOSS_NONE = 0, LOSS_SUM = 1, LOSS_MEAN = 2 };

static dlc_status reduction_of(const dlc_node *node, int64_t *out) {
    const char *r = dlc_node_attr_string(node, "reduction", "mean");
    char where[256];
    if (strcmp(r, "none") == 0) *out = LOSS_NONE;
    else if (strcmp(r, "sum") == 0) *out = LOSS_SUM;
    else if (strcmp(r, "mean") == 0) *out = LOSS_MEAN;
    else
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: reduction '%s' is not none, sum or mean",
                        dlc_node_describe(node, where, sizeof where), r);
    return DLC_OK;
}

/* Checks scores [N,C,...], targets [N,...] and weights [C]; sets output 0. */
static dlc_status loss_infer(dlc_graph *g, dlc_node *node) {
    char where[256], sa[160], sb[160];
    dlc_node_describe(node, where, sizeof where);
    const dlc_value *x = node->inputs[0], *t = node->inputs[1];
    const dlc_value *w = node->num_inputs > 2 ? node->inputs[2] : NULL;
    if (!dlc_dtype_is_float(x->dtype))
        return dlc_fail(DLC_ERR_DTYPE_MISMATCH, "node %s: scores must be a float tensor, got %s", where,
                        dlc_dtype_name(x->dtype));
    if (t->dtype != DLC_INT32 && t->dtype != DLC_INT64)
        return dlc_fail(DLC_ERR_DTYPE_MISMATCH, "node %s: targets must be int32 or int64, got %s", where,
                        dlc_dtype_name(t->dtype));
    if (w != NULL && w->dtype != x->dtype)
        return dlc_fail(DLC_ERR_DTYPE_MISMATCH, "node %s: weights are %s, scores %s", where,
                        dlc_dtype_name(w->dtype), dlc_dtype_name(x->dtype));
    if (x->shape.rank < 2 || t->shape.rank != x->shape.rank - 1)
        return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: scores %s need rank >= 2 and targets %s one rank less",
                        where, dlc_shape_format(g, &x->shape, sa, sizeof sa),
                        dlc_shape_format(g, &t->shape, sb, sizeof sb));
    for (int32_t d = 0; d < t->shape.rank; d++) {
        dlc_dim xd = x->shape.dims[d == 0 ? 0 : d + 1], td = t->shape.dims[d];
        if (xd.value >= 0 && td.value >= 0 && xd.value != td.value)
            return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: scores %s and targets %s disagree in dim %d", where,
                            dlc_shape_format(g, &x->shape, sa, sizeof sa),
                            dlc_shape_format(g, &t->shape, sb, sizeof sb), d);
    }
    if (w != NULL && (w->shape.rank != 1 || (w->shape.dims[0].value >= 0 && x->shape.dims[1].value >= 0 &&
                                             w->shape.dims[0].value != x->shape.dims[1].value)))
        return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: weights %s must be [C] for scores %s", where,
                        dlc_shape_format(g, &w->shape, sa, sizeof sa), dlc_shape_format(g, &x->shape, sb, sizeof sb));
    int64_t reduction;
    DLC_TRY(reduction_of(node, &reduction));
    dlc_value *out = node->outputs[0];
    out->dtype = x->dtype;
    out->shape = reduction == LOSS_NONE ? t->shape : (dlc_shape){.rank = 0};
    return DLC_OK;
}

static dlc_status sce_infer(dlc_graph *g, dlc_node *node) {
    DLC_TRY(loss_infer(g, node));
    if (node->num_outputs > 1 && node->outputs[1] != NULL) {
        node->outputs[1]->dtype = node->inputs[0]->dtype;
        node->outputs[1]->shape = node->inputs[0]->shape;
    }
    return DLC_OK;
}

/* ints: reduction, has_ignore_index, ignore_index, apply_log_softmax */
static dlc_status loss_lower_common(const dlc_node *node, dlc_kcall *call, int64_t log_softmax) {
    int64_t reduction;
    DLC_TRY(reduction_of(node, &reduction));
    const dlc_attr *ignore = dlc_node_attr(node, "ignore_index");
    dlc_kcall_init(call, "nll_loss");
    DLC_TRY(dlc_kcall_push_int(call, reduction));
    DLC_TRY(dlc_kcall_push_int(call, ignore != NULL ? 1 : 0));
    DLC_TRY(dlc_kcall_push_int(call, ignore != NULL ? ignore->i : 0));
    DLC_TRY(dlc_kcall_push_int(call, log_softmax));
    return DLC_OK;
}

static dlc_status nll_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    return loss_lower_common(node, call, 0);
}

static dlc_status sce_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    return loss_lower_common(node, call, 1);
}

static int64_t loss_flops(const dlc_node *node) {
    int64_t n = dlc_value_numel(node->inputs[0]);
    return n < 0 ? 0 : n;
}

static int64_t sce_flops(const dlc_node *node) { return 4 * loss_flops(node); }

const dlc_op_schema dlc_ops_loss[] = {
    {"NegativeLogLikelihoodLoss", "", 12, 2, 3, 1, 1, loss_infer, nll_lower, loss_flops},
    {"SoftmaxCrossEntropyLoss", "", 12, 2, 3, 1, 2, sce_infer, sce_lower, sce_flops},
    {0},
};
