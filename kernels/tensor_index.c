/* Indexing kernels: indices come as data (int32/int64; OneHot any numeric),
 * negative ones count from the end, others out of range fail with
 * DLC_KERR_INDEX_OUT_OF_RANGE. Parameters (ints after the tensors):
 *
 *   gather            [axis]             Gather
 *   gather_elements   [axis]             GatherElements
 *   scatter_elements  [axis, reduction]  0 none, 1 add, 2 mul, 3 max, 4 min
 *   onehot            [axis]             axis of the depth dim in the output;
 *                                        input 2 = [off, on]
 */
#include "kernels/tensor_support.h"

/* ---- gather ----------------------------------------------------------------- */

typedef struct gather_job {
    const char *in;
    char *out;
    const void *indices;
    int32_t index_dtype;
    int64_t num_indices, axis_len, inner_bytes;
    int32_t bad;
} gather_job;

static void gather_rows(void *arg, int64_t begin, int64_t end) {
    gather_job *j = arg;
    for (int64_t row = begin; row < end; row++) { /* row = outer * num_indices + k */
        int64_t o = row / j->num_indices, k = row % j->num_indices;
        int64_t idx = tk_load_index(j->indices, j->index_dtype, k);
        if (idx < 0) idx += j->axis_len;
        if (idx < 0 || idx >= j->axis_len) {
            j->bad = 1; /* every thread writes the same value: a benign flag */
            return;
        }
        memcpy(j->out + row * j->inner_bytes, j->in + (o * j->axis_len + idx) * j->inner_bytes,
               (size_t)j->inner_bytes);
    }
}

int32_t dlc_kernel_gather(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx) {
    const dlc_ktensor *data = dlc_kp_in(p, 0), *it = dlc_kp_in(p, 1), *ot = dlc_kp_out(p, 0);
    int64_t axis = dlc_kp_ints(p)[0];
    if (axis < 0 || axis >= data->rank) return DLC_KERR_BAD_VALUE;
    int64_t outer = 1, inner = dlc_kdtype_size(data->dtype);
    for (int64_t d = 0; d < axis; d++) outer *= data->dims[d];
    for (int64_t d = axis + 1; d < data->rank; d++) inner *= data->dims[d];
    gather_job j = {inputs[0], outputs[0], inputs[1], it->dtype, it->numel, data->dims[axis], inner, 0};
    if (ot->numel == 0) {
        /* nothing to copy, but indices must still be valid when the data is empty */
        for (int64_t k = 0; k < it->numel; k++) {
            int64_t idx = tk_load_index(inputs[1], it->dtype, k);
            if (idx < -j.axis_len || idx >= j.axis_len) return DLC_KERR_INDEX_OUT_OF_RANGE;
        }
        return DLC_KOK;
    }
    dlc_parallel_for(ctx, outer * it->numel, 1 + 32768 / (inner + 1), gather_rows, &j);
    return j.bad ? DLC_KERR_INDEX_OUT_OF_RANGE : DLC_KOK;
}

/* ---- gather_elements / scatter_elements --------------------------------------- */

/* Offset in data (dims of data) of element e of indices with index idx on axis. */
static int64_t element_offset(const dlc_ktensor *idx_t, const int64_t *data_strides, int64_t axis, int64_t e,
                              int64_t idx) {
    int64_t off = 0;
    for (int32_t d = idx_t->rank - 1; d >= 0; d--) {
        int64_t c = e % idx_t->dims[d];
        e /= idx_t->dims[d];
        off += (d == axis ? idx : c) * data_strides[d];
    }
    return off;
}

int32_t dlc_kernel_gather_elements(const dlc_kparams *p, void *const *inputs, void *const *outputs,
                                   const dlc_kctx *ctx) {
    const dlc_ktensor *data = dlc_kp_in(p, 0), *it = dlc_kp_in(p, 1);
    int64_t axis = dlc_kp_ints(p)[0], es = dlc_kdtype_size(data->dtype);
    if (axis < 0 || axis >= data->rank || it->rank != data->rank) return DLC_KERR_BAD_VALUE;
    int64_t strides[DLC_KMAX_RANK];
    tk_strides(data, strides);
    int64_t len = data->dims[axis];
    for (int64_t e = 0; e < it->numel; e++) {
        int64_t idx = tk_load_index(inputs[1], it->dtype, e);
        if (idx < 0) idx += len;
        if (idx < 0 || idx >= len) return DLC_KERR_INDEX_OUT_OF_RANGE;
        tk_put((char *)outputs[0] + e * es, (const char *)inputs[0] + element_offset(it, strides, axis, e, idx) * es,
               es);
    }
    return DLC_KOK;
}

enum { SCATTER_NONE = 0, SCATTER_ADD = 1, SCATTER_MUL = 2, SCATTER_MAX = 3, SCATTER_MIN = 4 };

#define SCATTER_APPLY(T, ACC, LOAD, STORE)                                                                  \
    do {                                                                                                     \
        ACC a = LOAD(*(const T *)dst), b = LOAD(*(const T *)src), r;                                       \
        switch (reduction) {                                                                                 \
        case SCATTER_ADD: r = a + b; break;                                                                  \
        case SCATTER_MUL: r = a * b; break;                                                                  \
        case SCATTER_MAX: r = a > b ? a : b; break;                                                          \
        default: r = a < b ? a : b; break;                                                                   \
        }                                                                                                    \
        *(T *)dst = STORE(r);                                                                                \
    } while (0)

#define SC_ID(x) (x)
#define SC_U8(x) ((uint8_t)(x))
#define SC_I8(x) ((int8_t)(x))
#define SC_U16(x) ((uint16_t)(x))
#define SC_I16(x) ((int16_t)(x))
#define SC_I32(x) ((int32_t)(x))
#define SC_U32(x) ((uint32_t)(x))

/* dst op= src for one element; returns nonzero when the dtype has no arithmetic. */
static int scatter_reduce(void *dst, const void *src, int32_t dtype, int64_t reduction) {
    switch (dtype) {
    case 1: SCATTER_APPLY(float, float, SC_ID, SC_ID); return 0;
    case 11: SCATTER_APPLY(double, double, SC_ID, SC_ID); return 0;
    case 10: SCATTER_APPLY(uint16_t, float, dlc_f16_to_f32, dlc_f32_to_f16); return 0;
    case 16: SCATTER_APPLY(uint16_t, float, dlc_bf16_to_f32, dlc_f32_to_bf16); return 0;
    case 2: SCATTER_APPLY(uint8_t, uint64_t, SC_ID, SC_U8); return 0;
    case 3: SCATTER_APPLY(int8_t, int64_t, SC_ID, SC_I8); return 0;
    case 4: SCATTER_APPLY(uint16_t, uint64_t, SC_ID, SC_U16); return 0;
    case 5: SCATTER_APPLY(int16_t, int64_t, SC_ID, SC_I16); return 0;
    case 6: SCATTER_APPLY(int32_t, int64_t, SC_ID, SC_I32); return 0;
    case 12: SCATTER_APPLY(uint32_t, uint64_t, SC_ID, SC_U32); return 0;
    case 7: SCATTER_APPLY(int64_t, int64_t, SC_ID, SC_ID); return 0;
    case 13: SCATTER_APPLY(uint64_t, uint64_t, SC_ID, SC_ID); return 0;
    default: return 1;
    }
}

/* inputs: data, indices, updates; output = data with updates written (or
 * combined) at the indexed positions, in index order. */
int32_t dlc_kernel_scatter_elements(const dlc_kparams *p, void *const *inputs, void *const *outputs,
                                    const dlc_kctx *ctx) {
    const dlc_ktensor *data = dlc_kp_in(p, 0), *it = dlc_kp_in(p, 1);
    int64_t axis = dlc_kp_ints(p)[0], reduction = dlc_kp_ints(p)[1], es = dlc_kdtype_size(data->dtype);
    if (axis < 0 || axis >= data->rank || it->rank != data->rank) return DLC_KERR_BAD_VALUE;
    int64_t strides[DLC_KMAX_RANK];
    tk_strides(data, strides);
    int64_t len = data->dims[axis];
    /* validate every index before writing, so a failed run leaves no half result */
    for (int64_t e = 0; e < it->numel; e++) {
        int64_t idx = tk_load_index(inputs[1], it->dtype, e);
        if (idx < -len || idx >= len) return DLC_KERR_INDEX_OUT_OF_RANGE;
    }
    if (outputs[0] != inputs[0] && data->numel > 0) memmove(outputs[0], inputs[0], (size_t)(data->numel * es));
    for (int64_t e = 0; e < it->numel; e++) {
        int64_t idx = tk_load_index(inputs[1], it->dtype, e);
        if (idx < 0) idx += len;
        char *dst = (char *)outputs[0] + element_offset(it, strides, axis, e, idx) * es;
        const char *src = (const char *)inputs[2] + e * es;
        if (reduction == SCATTER_NONE) tk_put(dst, src, es);
        else if (scatter_reduce(dst, src, data->dtype, reduction)) return DLC_KERR_UNSUPPORTED;
    }
    return DLC_KOK;
}

/* ---- onehot -------------------------------------------------------------------- */

int32_t dlc_kernel_onehot(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx) {
    const dlc_ktensor *it = dlc_kp_in(p, 0), *ot = dlc_kp_out(p, 0);
    int64_t axis = dlc_kp_ints(p)[0], es = dlc_kdtype_size(ot->dtype);
    if (axis < 0 || axis >= ot->rank) return DLC_KERR_BAD_VALUE;
    const char *off = inputs[2], *on = (const char *)inputs[2] + es;
    int64_t depth = ot->dims[axis], inner = 1;
    for (int64_t d = axis + 1; d < ot->rank; d++) inner *= ot->dims[d];
    tk_fill(outputs[0], off, ot->numel, es);
    /* indices element e = (o, i) with o over dims before axis, i over those after */
    for (int64_t e = 0; e < it->numel; e++) {
        int64_t idx = tk_load_index(inputs[0], it->dtype, e);
        if (idx < 0) idx += depth;
        if (idx < 0 || idx >= depth) continue; /* out of range: all off, as the spec says */
        int64_t o = e / inner, i = e % inner;
        tk_put((char *)outputs[0] + ((o * depth + idx) * inner + i) * es, on, es);
    }
    return DLC_KOK;
}

#ifndef DLC_KERNEL_BITCODE
#include "kernels/kernel_registry.h"
const dlc_kernel_entry dlc_kernels_tensor_index[] = {
    {"gather", dlc_kernel_gather, NULL},
    {"gather_elements", dlc_kernel_gather_elements, NULL},
    {"scatter_elements", dlc_kernel_scatter_elements, NULL},
    {"onehot", dlc_kernel_onehot, NULL},
    {NULL, NULL, NULL},
};
#endif
