/* MaxPool, AveragePool, LpPool, GlobalAveragePool, GlobalMaxPool: schema,
 * shape rules, lowering (kernels/pool.c; parameter layouts documented there). */
#include <stdbool.h>

#include "ir/op_registry.h"
#include "ir/ops/spatial.h"
#include "runtime/status.h"

static dlc_status check_input(const dlc_graph *g, const dlc_node *node, bool allow_int8) {
    char where[256], sx[160];
    const dlc_value *x = node->inputs[0];
    bool ok = dlc_dtype_is_float(x->dtype) || (allow_int8 && (x->dtype == DLC_INT8 || x->dtype == DLC_UINT8));
    if (!ok)
        return dlc_fail(DLC_ERR_DTYPE_MISMATCH, "node %s: input X is %s, not supported by %s",
                        dlc_node_describe(node, where, sizeof where), dlc_dtype_name(x->dtype), node->op_type);
    if (x->shape.rank >= 0 && x->shape.rank < 3)
        return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: input X %s needs rank >= 3 (N, C, spatial...)",
                        dlc_node_describe(node, where, sizeof where), dlc_shape_format(g, &x->shape, sx, sizeof sx));
    return DLC_OK;
}

typedef enum pool_kind { POOL_MAX, POOL_AVG, POOL_LP } pool_kind;

static pool_kind kind_of(const dlc_node *node) {
    if (node->op_type[0] == 'M') return POOL_MAX;
    if (node->op_type[0] == 'A') return POOL_AVG;
    return POOL_LP;
}

/* Attributes by opset: ceil_mode from 10 (LpPool 18), dilations for MaxPool
 * from 10, AveragePool from 19, LpPool from 18. */
static dlc_status read_window(const dlc_node *node, dlc_window *w, bool *ceil_mode) {
    pool_kind kind = kind_of(node);
    int32_t since = kind == POOL_MAX ? 10 : kind == POOL_AVG ? 19 : 18;
    DLC_TRY(dlc_window_read(node, node->inputs[0]->shape.rank - 2, NULL, node->opset >= since, w));
    *ceil_mode = dlc_node_attr_int(node, "ceil_mode", 0) != 0;
    return DLC_OK;
}

static dlc_status pool_infer(dlc_graph *g, dlc_node *node) {
    pool_kind kind = kind_of(node);
    DLC_TRY(check_input(g, node, kind == POOL_MAX && node->opset >= 12));
    const dlc_value *x = node->inputs[0];
    dlc_value *y = node->outputs[0];
    dlc_value *indices = node->num_outputs > 1 ? node->outputs[1] : NULL;
    y->dtype = x->dtype;
    if (indices != NULL) indices->dtype = DLC_INT64;
    if (x->shape.rank < 0) {
        y->shape.rank = -1;
        if (indices != NULL) indices->shape.rank = -1;
        return DLC_OK;
    }
    if (kind == POOL_MAX) {
        int64_t order = dlc_node_attr_int(node, "storage_order", 0);
        if (order != 0 && order != 1) {
            char where[256];
            return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: storage_order %lld must be 0 or 1",
                            dlc_node_describe(node, where, sizeof where), (long long)order);
        }
    }
    dlc_window w;
    bool ceil_mode;
    DLC_TRY(read_window(node, &w, &ceil_mode));
    DLC_TRY(dlc_window_output_shape(g, node, &x->shape, &w, ceil_mode, x->shape.dims[1], &y->shape));
    if (indices != NULL) indices->shape = y->shape;
    return DLC_OK;
}

/* The last int of a MaxPool or global pool call when its X is NCHW16c
 * (DLC_ATTR_BLOCKED, set by passes/blocked_layout.c); nothing otherwise. */
static dlc_status push_blocked(const dlc_node *node, dlc_kcall *call) {
    int64_t blocked = dlc_node_attr_int(node, DLC_ATTR_BLOCKED, 0);
    return blocked != 0 ? dlc_kcall_push_int(call, blocked) : DLC_OK;
}

static dlc_status pool_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    pool_kind kind = kind_of(node);
    dlc_window w;
    bool ceil_mode;
    DLC_TRY(read_window(node, &w, &ceil_mode));
    for (int32_t d = 0; d < w.rank; d++) {
        int64_t size;
        DLC_TRY(dlc_window_output(g, node, &node->inputs[0]->shape, &w, d, ceil_mode, &size));
    }
    if (kind == POOL_MAX) {
        dlc_kcall_init(call, "max_pool");
        DLC_TRY(dlc_window_push(call, &w, true));
        DLC_TRY(dlc_kcall_push_int(call, dlc_node_attr_int(node, "storage_order", 0)));
        return push_blocked(node, call);
    }
    if (kind == POOL_AVG) {
        dlc_kcall_init(call, "avg_pool");
        DLC_TRY(dlc_window_push(call, &w, true));
        DLC_TRY(dlc_window_push_pad_end(call, &w));
        return dlc_kcall_push_int(call, dlc_node_attr_int(node, "count_include_pad", 0));
    }
    int64_t p = dlc_node_attr_int(node, "p", 2);
    if (p < 1) {
        char where[256];
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: p = %lld must be >= 1",
                        dlc_node_describe(node, where, sizeof where), (long long)p);
    }
    dlc_kcall_init(call, "lp_pool");
    DLC_TRY(dlc_window_push(call, &w, true));
    return dlc_kcall_push_int(call, p);
}

/* one operation per window element */
static int64_t pool_flops(const dlc_node *node) {
    int64_t yn = dlc_value_numel(node->outputs[0]);
    int32_t count;
    const int64_t *k = dlc_node_attr_ints(node, "kernel_shape", &count);
    if (yn < 0 || k == NULL) return -1;
    int64_t window = 1;
    for (int32_t i = 0; i < count; i++) window *= k[i];
    return yn * window;
}

/* ---- global pools ---------------------------------------------------------------------- */

static dlc_status global_infer(dlc_graph *g, dlc_node *node) {
    DLC_TRY(check_input(g, node, false));
    const dlc_value *x = node->inputs[0];
    dlc_value *y = node->outputs[0];
    y->dtype = x->dtype;
    y->shape = x->shape;
    for (int32_t d = 2; d < x->shape.rank; d++) y->shape.dims[d] = (dlc_dim){1, 0};
    return DLC_OK;
}

static dlc_status global_avg_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    dlc_kcall_init(call, "global_avg_pool");
    return push_blocked(node, call);
}

static dlc_status global_max_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    dlc_kcall_init(call, "global_max_pool");
    return push_blocked(node, call);
}

static int64_t global_flops(const dlc_node *node) { return dlc_value_numel(node->inputs[0]); }

const dlc_op_schema dlc_ops_pool[] = {
    {"MaxPool", "", 1, 1, 1, 1, 2, pool_infer, pool_lower, pool_flops},
    {"AveragePool", "", 1, 1, 1, 1, 1, pool_infer, pool_lower, pool_flops},
    {"LpPool", "", 2, 1, 1, 1, 1, pool_infer, pool_lower, pool_flops},
    {"GlobalAveragePool", "", 1, 1, 1, 1, 1, global_infer, global_avg_lower, global_flops},
    {"GlobalMaxPool", "", 1, 1, 1, 1, 1, global_infer, global_max_lower, global_flops},
    {0},
};
