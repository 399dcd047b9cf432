/* Index ops over N-d coordinates: GatherND, ScatterND, TopK, ReverseSequence. */
#include <string.h>

#include "ir/op_registry.h"
#include "runtime/status.h"

static bool is_index(dlc_dtype t) { return t == DLC_INT64 || t == DLC_INT32; }

static dlc_status need_index(const dlc_node *node, int32_t input) {
    char where[256];
    if (!is_index(node->inputs[input]->dtype))
        return dlc_fail(DLC_ERR_DTYPE_MISMATCH, "node %s: input %d must be int32 or int64, got %s",
                        dlc_node_describe(node, where, sizeof where), input,
                        dlc_dtype_name(node->inputs[input]->dtype));
    return DLC_OK;
}

/* ---- GatherND: out = data[indices] over the last dim of indices -------- */
static dlc_status gather_nd_infer(dlc_graph *g, dlc_node *node) {
    char where[256], a[160], b[160];
    const dlc_value *data = node->inputs[0], *idx = node->inputs[1];
    DLC_TRY(need_index(node, 1));
    int64_t batch = dlc_node_attr_int(node, "batch_dims", 0);
    int32_t q = idx->shape.rank, r = data->shape.rank;
    int64_t last = q > 0 ? idx->shape.dims[q - 1].value : -1;
    if (q < 1 || r < 1 || last < 1 || batch < 0 || batch >= q || batch + last > r)
        return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: indices %s do not index data %s (batch_dims %lld)",
                        dlc_node_describe(node, where, sizeof where), dlc_shape_format(g, &idx->shape, a, sizeof a),
                        dlc_shape_format(g, &data->shape, b, sizeof b), (long long)batch);
    dlc_shape out = {.rank = q - 1 + r - (int32_t)batch - (int32_t)last};
    if (out.rank > DLC_MAX_RANK)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: result rank %d exceeds %d", where, out.rank, DLC_MAX_RANK);
    int32_t k = 0;
    for (int32_t d = 0; d < q - 1; d++) out.dims[k++] = idx->shape.dims[d];
    for (int32_t d = (int32_t)(batch + last); d < r; d++) out.dims[k++] = data->shape.dims[d];
    node->outputs[0]->dtype = data->dtype;
    node->outputs[0]->shape = out;
    return DLC_OK;
}

static dlc_status gather_nd_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    dlc_kcall_init(call, "gather_nd");
    return dlc_kcall_push_int(call, dlc_node_attr_int(node, "batch_dims", 0));
}

/* ---- ScatterND: out = data with out[indices] = updates (or reduced) ----- */
static dlc_status scatter_nd_infer(dlc_graph *g, dlc_node *node) {
    char where[256], a[160], b[160];
    const dlc_value *data = node->inputs[0], *idx = node->inputs[1], *upd = node->inputs[2];
    DLC_TRY(need_index(node, 1));
    int32_t q = idx->shape.rank, r = data->shape.rank;
    int64_t last = q > 0 ? idx->shape.dims[q - 1].value : -1;
    bool ok = q >= 1 && last >= 1 && last <= r && upd->dtype == data->dtype && upd->shape.rank == q - 1 + r - last;
    if (!ok)
        return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: indices %s and updates do not fit data %s",
                        dlc_node_describe(node, where, sizeof where), dlc_shape_format(g, &idx->shape, a, sizeof a),
                        dlc_shape_format(g, &data->shape, b, sizeof b));
    const char *reduction = dlc_node_attr_string(node, "reduction", "none");
    if (strcmp(reduction, "none") && strcmp(reduction, "add") && strcmp(reduction, "mul") &&
        strcmp(reduction, "max") && strcmp(reduction, "min"))
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: unknown reduction '%s'", where, reduction);
    node->outputs[0]->dtype = data->dtype;
    node->outputs[0]->shape = data->shape;
    return DLC_OK;
}

static dlc_status scatter_nd_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    static const char *const names[] = {"none", "add", "mul", "max", "min"};
    const char *reduction = dlc_node_attr_string(node, "reduction", "none");
    int64_t code = 0;
    for (int64_t i = 0; i < 5; i++)
        if (strcmp(reduction, names[i]) == 0) code = i;
    dlc_kcall_init(call, "scatter_nd");
    return dlc_kcall_push_int(call, code);
}

/* ---- TopK(X, K) -> Values, Indices along axis -------------------------- */
static dlc_status topk_infer(dlc_graph *g, dlc_node *node) {
    char where[256];
    dlc_node_describe(node, where, sizeof where);
    const dlc_value *x = node->inputs[0];
    int64_t k;
    if (node->opset < 10) {
        k = dlc_node_attr_int(node, "k", -1);
    } else {
        int64_t values[1];
        int32_t n;
        DLC_TRY(dlc_value_const_ints(node->inputs[1], values, 1, &n));
        k = n == 1 ? values[0] : -1;
    }
    int32_t axis;
    DLC_TRY(dlc_normalize_axis(node, dlc_node_attr_int(node, "axis", -1), x->shape.rank, &axis));
    int64_t len = x->shape.dims[axis].value;
    if (k < 0 || (len >= 0 && k > len))
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: K = %lld is outside [0, %lld]", where, (long long)k,
                        (long long)len);
    dlc_shape out = x->shape;
    out.dims[axis] = (dlc_dim){k, 0};
    node->outputs[0]->dtype = x->dtype;
    node->outputs[0]->shape = out;
    if (node->num_outputs > 1 && node->outputs[1] != NULL) {
        node->outputs[1]->dtype = DLC_INT64;
        node->outputs[1]->shape = out;
    }
    return DLC_OK;
}

static dlc_status topk_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    int32_t axis;
    DLC_TRY(dlc_normalize_axis(node, dlc_node_attr_int(node, "axis", -1), node->inputs[0]->shape.rank, &axis));
    dlc_kcall_init(call, "topk");
    DLC_TRY(dlc_kcall_push_int(call, axis));
    return dlc_kcall_push_int(call, dlc_node_attr_int(node, "largest", 1));
}

/* ---- ReverseSequence(input, sequence_lens) ------------------------------ */
static dlc_status reverse_sequence_infer(dlc_graph *g, dlc_node *node) {
    char where[256];
    const dlc_value *x = node->inputs[0];
    DLC_TRY(need_index(node, 1));
    int64_t batch = dlc_node_attr_int(node, "batch_axis", 1), time = dlc_node_attr_int(node, "time_axis", 0);
    if (x->shape.rank < 2 || batch == time || batch < 0 || batch > 1 || time < 0 || time > 1)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: batch_axis %lld and time_axis %lld must be 0 and 1",
                        dlc_node_describe(node, where, sizeof where), (long long)batch, (long long)time);
    node->outputs[0]->dtype = x->dtype;
    node->outputs[0]->shape = x->shape;
    return DLC_OK;
}

static dlc_status reverse_sequence_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    dlc_kcall_init(call, "reverse_sequence");
    return dlc_kcall_push_int(call, dlc_node_attr_int(node, "batch_axis", 1));
}

static int64_t no_flops(const dlc_node *node) { return 0; }

const dlc_op_schema dlc_ops_nd_index[] = {
    {"GatherND", "", 11, 2, 2, 1, 1, gather_nd_infer, gather_nd_lower, no_flops},
    {"ScatterND", "", 11, 3, 3, 1, 1, scatter_nd_infer, scatter_nd_lower, no_flops},
    {"TopK", "", 1, 1, 2, 1, 2, topk_infer, topk_lower, no_flops, 1u << 1},
    {"ReverseSequence", "", 10, 2, 2, 1, 1, reverse_sequence_infer, reverse_sequence_lower, no_flops},
    {0},
};
