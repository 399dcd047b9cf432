/* gather_nd, scatter_nd, topk, reverse_sequence (see ir/ops/nd_index.c).
 * Data moves by element size; ScatterND reductions and TopK compare values
 * through kvalue.h (floats in double, integers exactly as int64). */
#include <stdbool.h>

#include "kernels/kvalue.h"
#include "kernels/tensor_support.h"

static int64_t product(const int64_t *dims, int32_t from, int32_t to) {
    int64_t p = 1;
    for (int32_t d = from; d < to; d++) p *= dims[d];
    return p;
}

/* Element offset of the index tuple at idx[tuple * L ...] into dims [first, first+L). */
static bool tuple_offset(const void *idx, int32_t idx_dtype, int64_t tuple, int64_t L, const dlc_ktensor *data,
                         int32_t first, int64_t *out) {
    int64_t offset = 0;
    for (int64_t j = 0; j < L; j++) {
        int64_t dim = data->dims[first + j];
        int64_t v = tk_load_index(idx, idx_dtype, tuple * L + j);
        if (v < 0) v += dim;
        if (v < 0 || v >= dim) return false;
        offset = offset * dim + v;
    }
    *out = offset;
    return true;
}

/* ints: batch_dims */
int32_t dlc_kernel_gather_nd(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx) {
    const dlc_ktensor *data = dlc_kp_in(p, 0), *idx = dlc_kp_in(p, 1);
    int32_t b = (int32_t)dlc_kp_ints(p)[0], q = idx->rank;
    int64_t L = idx->dims[q - 1], es = dlc_kdtype_size(data->dtype);
    int64_t batches = product(data->dims, 0, b), tuples = product(idx->dims, b, q - 1);
    int64_t slice = product(data->dims, b + (int32_t)L, data->rank), batch_stride = product(data->dims, b, data->rank);
    const char *src = inputs[0];
    char *dst = outputs[0];
    for (int64_t bi = 0; bi < batches; bi++)
        for (int64_t t = 0; t < tuples; t++) {
            int64_t offset;
            if (!tuple_offset(inputs[1], idx->dtype, bi * tuples + t, L, data, b, &offset))
                return DLC_KERR_INDEX_OUT_OF_RANGE;
            memcpy(dst + (bi * tuples + t) * slice * es, src + (bi * batch_stride + offset * slice) * es,
                   (size_t)(slice * es));
        }
    return DLC_KOK;
}

static void reduce_into(void *out, int64_t o, const void *upd, int64_t u, int32_t dtype, int64_t op) {
    if (dlc_kdtype_is_float(dtype)) {
        double a = dlc_kload_f(out, dtype, o), v = dlc_kload_f(upd, dtype, u);
        double r = op == 1 ? a + v : op == 2 ? a * v : op == 3 ? (v > a ? v : a) : (v < a ? v : a);
        dlc_kstore_f(out, dtype, o, r);
    } else {
        int64_t a = (int64_t)dlc_kload_u(out, dtype, o), v = (int64_t)dlc_kload_u(upd, dtype, u);
        uint64_t r = op == 1 ? (uint64_t)a + (uint64_t)v : op == 2 ? (uint64_t)a * (uint64_t)v
                   : op == 3 ? (uint64_t)(v > a ? v : a) : (uint64_t)(v < a ? v : a);
        dlc_kstore_u(out, dtype, o, r);
    }
}

/* ints: reduction (0 none, 1 add, 2 mul, 3 max, 4 min) */
int32_t dlc_kernel_scatter_nd(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx) {
    const dlc_ktensor *data = dlc_kp_in(p, 0), *idx = dlc_kp_in(p, 1);
    int64_t op = dlc_kp_ints(p)[0], L = idx->dims[idx->rank - 1], es = dlc_kdtype_size(data->dtype);
    int64_t tuples = product(idx->dims, 0, idx->rank - 1), slice = product(data->dims, (int32_t)L, data->rank);
    if (outputs[0] != inputs[0]) memmove(outputs[0], inputs[0], (size_t)(data->numel * es));
    for (int64_t t = 0; t < tuples; t++) {
        int64_t offset;
        if (!tuple_offset(inputs[1], idx->dtype, t, L, data, 0, &offset)) return DLC_KERR_INDEX_OUT_OF_RANGE;
        if (op == 0) {
            memcpy((char *)outputs[0] + offset * slice * es, (const char *)inputs[2] + t * slice * es,
                   (size_t)(slice * es));
            continue;
        }
        for (int64_t i = 0; i < slice; i++) reduce_into(outputs[0], offset * slice + i, inputs[2], t * slice + i,
                                                        data->dtype, op);
    }
    return DLC_KOK;
}

static double value_at(const void *x, int32_t dtype, int64_t i) {
    return dlc_kdtype_is_float(dtype) ? dlc_kload_f(x, dtype, i) : (double)(int64_t)dlc_kload_u(x, dtype, i);
}

/* a comes before b in TopK order: larger (or smaller) value, then lower index */
static bool ranks_before(double va, int64_t ia, double vb, int64_t ib, bool largest) {
    if (va != vb) return largest ? va > vb : va < vb;
    return ia < ib;
}

int64_t dlc_kernel_topk_workspace(const dlc_kparams *p) {
    const dlc_ktensor *x = dlc_kp_in(p, 0);
    return x->dims[dlc_kp_ints(p)[0]] * (int64_t)sizeof(int64_t);
}

/* ints: axis, largest. Outputs sorted; ties keep the lower index first. */
int32_t dlc_kernel_topk(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx) {
    const dlc_ktensor *x = dlc_kp_in(p, 0), *vals = dlc_kp_out(p, 0);
    int32_t axis = (int32_t)dlc_kp_ints(p)[0];
    bool largest = dlc_kp_ints(p)[1] != 0;
    int64_t len = x->dims[axis], k = vals->dims[axis], es = dlc_kdtype_size(x->dtype);
    int64_t outer = product(x->dims, 0, axis), inner = product(x->dims, axis + 1, x->rank);
    int64_t *order = ctx->workspace;
    bool want_indices = p->num_outputs > 1 && dlc_kp_out(p, 1)->dtype != 0;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t in = 0; in < inner; in++) {
            int64_t base = o * len * inner + in;
            for (int64_t i = 0; i < len; i++) order[i] = i;
            for (int64_t r = 0; r < k; r++) { /* selection: k passes, fine for the k users ask for */
                int64_t best = r;
                for (int64_t i = r + 1; i < len; i++)
                    if (ranks_before(value_at(inputs[0], x->dtype, base + order[i] * inner), order[i],
                                     value_at(inputs[0], x->dtype, base + order[best] * inner), order[best], largest))
                        best = i;
                int64_t chosen = order[best];
                order[best] = order[r];
                order[r] = chosen;
                int64_t dst = o * k * inner + r * inner + in;
                memcpy((char *)outputs[0] + dst * es, (const char *)inputs[0] + (base + chosen * inner) * es,
                       (size_t)es);
                if (want_indices) ((int64_t *)outputs[1])[dst] = chosen;
            }
        }
    return DLC_KOK;
}

/* ints: batch_axis (0 or 1; time is the other) */
int32_t dlc_kernel_reverse_sequence(const dlc_kparams *p, void *const *inputs, void *const *outputs,
                                    const dlc_kctx *ctx) {
    const dlc_ktensor *x = dlc_kp_in(p, 0), *lens = dlc_kp_in(p, 1);
    int64_t batch_axis = dlc_kp_ints(p)[0], es = dlc_kdtype_size(x->dtype);
    int64_t B = x->dims[batch_axis], T = x->dims[1 - batch_axis], inner = product(x->dims, 2, x->rank);
    for (int64_t b = 0; b < B; b++) {
        int64_t len = tk_load_index(inputs[1], lens->dtype, b);
        if (len < 0 || len > T) return DLC_KERR_INDEX_OUT_OF_RANGE;
        for (int64_t t = 0; t < T; t++) {
            int64_t from = t < len ? len - 1 - t : t;
            int64_t dst = batch_axis == 0 ? b * T + t : t * B + b;
            int64_t src = batch_axis == 0 ? b * T + from : from * B + b;
            memcpy((char *)outputs[0] + dst * inner * es, (const char *)inputs[0] + src * inner * es,
                   (size_t)(inner * es));
        }
    }
    return DLC_KOK;
}

#ifndef DLC_KERNEL_BITCODE
#include "kernels/kernel_registry.h"
const dlc_kernel_entry dlc_kernels_nd_index[] = {
    {"gather_nd", dlc_kernel_gather_nd, NULL},
    {"scatter_nd", dlc_kernel_scatter_nd, NULL},
    {"topk", dlc_kernel_topk, dlc_kernel_topk_workspace},
    {"reverse_sequence", dlc_kernel_reverse_sequence, NULL},
    {NULL, NULL, NULL},
};
#endif
