#include "ir/op_registry.h"
#include "runtime/status.h"

dlc_status dlc_broadcast_shapes(const dlc_graph *g, const dlc_node *node, const dlc_shape *a,
                                const dlc_shape *b, dlc_shape *out) {
    char where[256], sa[160], sb[160];
    if (a->rank < 0 || b->rank < 0) {
        out->rank = -1;
        return DLC_OK;
    }
    int32_t rank = a->rank > b->rank ? a->rank : b->rank;
    dlc_shape result = {.rank = rank};
    for (int32_t i = 0; i < rank; i++) {
        int32_t ia = i - (rank - a->rank), ib = i - (rank - b->rank);
        dlc_dim da = ia >= 0 ? a->dims[ia] : (dlc_dim){1, 0};
        dlc_dim db = ib >= 0 ? b->dims[ib] : (dlc_dim){1, 0};
        if (da.value == 1) result.dims[i] = db;
        else if (db.value == 1) result.dims[i] = da;
        else if (da.value >= 0 && db.value >= 0) {
            if (da.value != db.value)
                return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: shapes %s and %s do not broadcast (dim %d: %lld vs %lld)",
                                dlc_node_describe(node, where, sizeof where), dlc_shape_format(g, a, sa, sizeof sa),
                                dlc_shape_format(g, b, sb, sizeof sb), i, (long long)da.value, (long long)db.value);
            result.dims[i] = da;
        } else if (da.value < 0 && db.value < 0) {
            result.dims[i] = da; /* assume equal symbols; checked at run time once shapes are known */
        } else {
            result.dims[i] = da.value >= 0 ? da : db; /* a static dim != 1 fixes the symbolic one */
        }
    }
    *out = result;
    return DLC_OK;
}

dlc_status dlc_normalize_axis(const dlc_node *node, int64_t axis, int32_t rank, int32_t *out_axis) {
    if (axis < -(int64_t)rank || axis >= rank) {
        char where[256];
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: axis %lld out of range for rank %d",
                        dlc_node_describe(node, where, sizeof where), (long long)axis, rank);
    }
    *out_axis = (int32_t)(axis < 0 ? axis + rank : axis);
    return DLC_OK;
}
