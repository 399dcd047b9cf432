/* Data-movement kernels. They move bytes, so most serve every dtype by
 * element size. Parameter layouts (ints / floats after the tensors):
 *
 *   strided_copy  [rank, base, dims[rank], strides[rank]]: output (dense, seen
 *                 as dims) = input[base + sum(i_d * strides_d)]. Transpose,
 *                 Slice, Expand, Tile, DepthToSpace, SpaceToDepth.
 *   concat        [axis]                 every input along axis into output 0
 *   split         [axis]                 input 0 along axis into the outputs
 *   pad           [mode, value_lo, value_hi, begin[rank]]  mode 0 constant,
 *                 1 reflect, 2 edge, 3 wrap; the constant is input 2 when
 *                 present, else the 16 bytes value_lo/value_hi
 *   fill          [value_lo, value_hi]   output 0 = the element (ConstantOfShape)
 *   dropout       []                     output 0 = input 0, output 1 (mask) = true
 *   shape         [start, end]           int64 dims of input 0 (data not read)
 *   size          []                     int64 numel of input 0 (data not read)
 *   range         []                     start + i * delta, from inputs 0 and 2
 *   trilu         [upper, k]             k is input 1 when present
 *   cumsum        [exclusive, reverse]   axis is input 1 (read at run time)
 */
#include "kernels/tensor_support.h"

/* ---- strided_copy ----------------------------------------------------------- */

typedef struct strided_job {
    const char *in;
    char *out;
    int64_t es, base, inner, inner_stride;
    int32_t rank; /* dims before the innermost */
    int64_t dims[DLC_STRIDED_MAX_RANK], strides[DLC_STRIDED_MAX_RANK];
} strided_job;

static void strided_rows(void *arg, int64_t begin, int64_t end) {
    const strided_job *j = arg;
    int64_t coord[DLC_STRIDED_MAX_RANK];
    int64_t rest = begin, offset = j->base;
    for (int32_t d = j->rank - 1; d >= 0; d--) {
        coord[d] = rest % j->dims[d];
        rest /= j->dims[d];
        offset += coord[d] * j->strides[d];
    }
    for (int64_t row = begin; row < end; row++) {
        tk_gather_run(j->out + row * j->inner * j->es, j->in + offset * j->es, j->inner, j->inner_stride, j->es);
        for (int32_t d = j->rank - 1; d >= 0; d--) { /* odometer step */
            offset += j->strides[d];
            if (++coord[d] < j->dims[d]) break;
            offset -= coord[d] * j->strides[d];
            coord[d] = 0;
        }
    }
}

int32_t dlc_kernel_strided_copy(const dlc_kparams *p, void *const *inputs, void *const *outputs,
                                const dlc_kctx *ctx) {
    const int64_t *ip = dlc_kp_ints(p);
    int32_t rank = (int32_t)ip[0];
    if (rank < 1 || rank > DLC_STRIDED_MAX_RANK) return DLC_KERR_UNSUPPORTED;
    const dlc_ktensor *out = dlc_kp_out(p, 0);
    if (out->numel == 0) return DLC_KOK;
    strided_job j = {.in = inputs[0], .out = outputs[0], .es = dlc_kdtype_size(out->dtype), .base = ip[1]};
    j.rank = rank - 1;
    for (int32_t d = 0; d < rank - 1; d++) {
        j.dims[d] = ip[2 + d];
        j.strides[d] = ip[2 + rank + d];
    }
    j.inner = ip[2 + rank - 1];
    j.inner_stride = ip[2 + 2 * rank - 1];
    int64_t rows = out->numel / j.inner;
    dlc_parallel_for(ctx, rows, 1 + 32768 / (j.inner * j.es), strided_rows, &j);
    return DLC_KOK;
}

/* ---- concat / split ------------------------------------------------------------ */

/* Bytes of one slab (the axis dim and everything inside it) of t. */
static int64_t slab_bytes(const dlc_ktensor *t, int32_t axis) {
    int64_t n = dlc_kdtype_size(t->dtype);
    for (int32_t d = axis; d < t->rank; d++) n *= t->dims[d];
    return n;
}

static int64_t outer_count(const dlc_ktensor *t, int32_t axis) {
    int64_t n = 1;
    for (int32_t d = 0; d < axis; d++) n *= t->dims[d];
    return n;
}

typedef struct slab_job {
    const dlc_kparams *p;
    void *const *parts; /* the many side: inputs of concat, outputs of split */
    char *whole;
    int32_t axis, num_parts, part_base, is_split;
    int64_t whole_slab;
} slab_job;

static void slab_rows(void *arg, int64_t begin, int64_t end) {
    const slab_job *j = arg;
    const dlc_ktensor *tensors = dlc_kp_tensors(j->p);
    for (int64_t o = begin; o < end; o++) {
        char *row = j->whole + o * j->whole_slab;
        for (int32_t i = 0; i < j->num_parts; i++) {
            const dlc_ktensor *t = &tensors[j->part_base + i];
            int64_t slab = slab_bytes(t, j->axis);
            if (slab > 0 && j->parts[i] != NULL) {
                char *part = (char *)j->parts[i] + o * slab;
                if (j->is_split) memcpy(part, row, (size_t)slab);
                else memcpy(row, part, (size_t)slab);
            }
            row += slab;
        }
    }
}

static int32_t run_slabs(const dlc_kparams *p, void *const *parts, char *whole, const dlc_ktensor *whole_t,
                         int32_t num_parts, int32_t part_base, int32_t is_split, const dlc_kctx *ctx) {
    int32_t axis = (int32_t)dlc_kp_ints(p)[0];
    if (axis < 0 || axis >= whole_t->rank) return DLC_KERR_BAD_VALUE;
    if (whole_t->numel == 0) return DLC_KOK;
    slab_job j = {p, parts, whole, axis, num_parts, part_base, is_split, slab_bytes(whole_t, axis)};
    dlc_parallel_for(ctx, outer_count(whole_t, axis), 1 + 65536 / (j.whole_slab + 1), slab_rows, &j);
    return DLC_KOK;
}

int32_t dlc_kernel_concat(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx) {
    return run_slabs(p, inputs, outputs[0], dlc_kp_out(p, 0), p->num_inputs, 0, 0, ctx);
}

int32_t dlc_kernel_split(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx) {
    return run_slabs(p, outputs, inputs[0], dlc_kp_in(p, 0), p->num_outputs, p->num_inputs, 1, ctx);
}

/* ---- pad ----------------------------------------------------------------------- */

enum { PAD_CONSTANT = 0, PAD_REFLECT = 1, PAD_EDGE = 2, PAD_WRAP = 3 };

/* Input index for output index o of a dim of length n padded by begin;
 * -1 means "the constant" (constant mode, outside the input). */
static int64_t pad_source(int64_t o, int64_t begin, int64_t n, int64_t mode) {
    int64_t i = o - begin;
    if (i >= 0 && i < n) return i;
    switch (mode) {
    case PAD_EDGE: return i < 0 ? 0 : n - 1;
    case PAD_WRAP: return ((i % n) + n) % n;
    case PAD_REFLECT: {
        if (n == 1) return 0;
        int64_t period = 2 * (n - 1);
        int64_t m = ((i % period) + period) % period;
        return m < n ? m : period - m;
    }
    default: return -1;
    }
}

typedef struct pad_job {
    const char *in;
    char *out;
    const char *value;
    int64_t es, mode;
    int32_t rank;
    const int64_t *begin;
    const dlc_ktensor *it, *ot;
    int64_t in_strides[DLC_KMAX_RANK];
} pad_job;

static void pad_rows(void *arg, int64_t first, int64_t last) {
    const pad_job *j = arg;
    int32_t r = j->rank;
    int64_t out_w = j->ot->dims[r - 1], in_w = j->it->dims[r - 1], b = j->begin[r - 1], es = j->es;
    /* the run copied straight from the input row */
    int64_t mid_lo = b > 0 ? b : 0, mid_hi = b + in_w < out_w ? b + in_w : out_w;
    if (mid_hi < mid_lo) mid_hi = mid_lo;
    for (int64_t row = first; row < last; row++) {
        char *dst = j->out + row * out_w * es;
        int64_t rest = row, src_off = 0, inside = 1;
        for (int32_t d = r - 2; d >= 0; d--) {
            int64_t o = rest % j->ot->dims[d];
            rest /= j->ot->dims[d];
            int64_t i = pad_source(o, j->begin[d], j->it->dims[d], j->mode);
            if (i < 0) inside = 0;
            else src_off += i * j->in_strides[d];
        }
        if (!inside) {
            tk_fill(dst, j->value, out_w, es);
            continue;
        }
        const char *src = j->in + src_off * es;
        for (int64_t o = 0; o < mid_lo; o++) {
            int64_t i = pad_source(o, b, in_w, j->mode);
            tk_put(dst + o * es, i < 0 ? j->value : src + i * es, es);
        }
        if (mid_hi > mid_lo) memcpy(dst + mid_lo * es, src + (mid_lo - b) * es, (size_t)((mid_hi - mid_lo) * es));
        for (int64_t o = mid_hi; o < out_w; o++) {
            int64_t i = pad_source(o, b, in_w, j->mode);
            tk_put(dst + o * es, i < 0 ? j->value : src + i * es, es);
        }
    }
}

int32_t dlc_kernel_pad(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx) {
    const int64_t *ip = dlc_kp_ints(p);
    const dlc_ktensor *it = dlc_kp_in(p, 0), *ot = dlc_kp_out(p, 0);
    if (ot->numel == 0) return DLC_KOK;
    pad_job j = {.in = inputs[0], .out = outputs[0], .es = dlc_kdtype_size(ot->dtype), .mode = ip[0],
                 .rank = it->rank, .begin = ip + 3, .it = it, .ot = ot};
    j.value = (const char *)&ip[1];
    if (p->num_inputs > 2 && dlc_kp_in(p, 2)->dtype != 0 && dlc_kp_in(p, 2)->numel > 0 && inputs[2] != NULL)
        j.value = inputs[2];
    if (it->rank == 0) {
        memcpy(outputs[0], inputs[0], (size_t)j.es);
        return DLC_KOK;
    }
    if (j.mode != PAD_CONSTANT && it->numel == 0) return DLC_KERR_BAD_VALUE;
    tk_strides(it, j.in_strides);
    int64_t out_w = ot->dims[ot->rank - 1];
    dlc_parallel_for(ctx, ot->numel / out_w, 1 + 32768 / (out_w * j.es), pad_rows, &j);
    return DLC_KOK;
}

/* ---- fill / dropout / shape / size ---------------------------------------------- */

int32_t dlc_kernel_fill(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx) {
    const dlc_ktensor *ot = dlc_kp_out(p, 0);
    tk_fill(outputs[0], dlc_kp_ints(p), ot->numel, dlc_kdtype_size(ot->dtype));
    return DLC_KOK;
}

int32_t dlc_kernel_dropout(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx) {
    const dlc_ktensor *it = dlc_kp_in(p, 0);
    if (outputs[0] != inputs[0] && it->numel > 0)
        memmove(outputs[0], inputs[0], (size_t)(it->numel * dlc_kdtype_size(it->dtype)));
    if (p->num_outputs > 1 && outputs[1] != NULL) memset(outputs[1], 1, (size_t)dlc_kp_out(p, 1)->numel);
    return DLC_KOK;
}

int32_t dlc_kernel_shape(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx) {
    const dlc_ktensor *it = dlc_kp_in(p, 0);
    int64_t start = dlc_kp_ints(p)[0], end = dlc_kp_ints(p)[1];
    int64_t *out = outputs[0];
    for (int64_t d = start; d < end && d < it->rank; d++) out[d - start] = it->dims[d];
    return DLC_KOK;
}

int32_t dlc_kernel_size(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx) {
    *(int64_t *)outputs[0] = dlc_kp_in(p, 0)->numel;
    return DLC_KOK;
}

/* ---- range ------------------------------------------------------------------------ */

int32_t dlc_kernel_range(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx) {
    const dlc_ktensor *ot = dlc_kp_out(p, 0);
    int64_t n = ot->numel;
    switch (ot->dtype) {
    case 1: {
        float start = *(const float *)inputs[0], delta = *(const float *)inputs[2];
        float *out = outputs[0];
        for (int64_t i = 0; i < n; i++) out[i] = start + (float)i * delta;
        return DLC_KOK;
    }
    case 11: {
        double start = *(const double *)inputs[0], delta = *(const double *)inputs[2];
        double *out = outputs[0];
        for (int64_t i = 0; i < n; i++) out[i] = start + (double)i * delta;
        return DLC_KOK;
    }
    case 5: case 6: case 7: {
        int64_t start = tk_load_index(inputs[0], ot->dtype, 0), delta = tk_load_index(inputs[2], ot->dtype, 0);
        for (int64_t i = 0; i < n; i++) {
            int64_t v = start + i * delta;
            if (ot->dtype == 7) ((int64_t *)outputs[0])[i] = v;
            else if (ot->dtype == 6) ((int32_t *)outputs[0])[i] = (int32_t)v;
            else ((int16_t *)outputs[0])[i] = (int16_t)v;
        }
        return DLC_KOK;
    }
    default: return DLC_KERR_UNSUPPORTED;
    }
}

/* ---- trilu ------------------------------------------------------------------------ */

int32_t dlc_kernel_trilu(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx) {
    const dlc_ktensor *it = dlc_kp_in(p, 0);
    int64_t upper = dlc_kp_ints(p)[0], k = dlc_kp_ints(p)[1];
    if (p->num_inputs > 1 && dlc_kp_in(p, 1)->dtype != 0 && inputs[1] != NULL)
        k = tk_load_index(inputs[1], dlc_kp_in(p, 1)->dtype, 0);
    if (it->rank < 2 || it->numel == 0) return it->rank < 2 ? DLC_KERR_BAD_VALUE : DLC_KOK;
    int64_t rows = it->dims[it->rank - 2], cols = it->dims[it->rank - 1], es = dlc_kdtype_size(it->dtype);
    int64_t mats = it->numel / (rows * cols);
    for (int64_t m = 0; m < mats; m++)
        for (int64_t r = 0; r < rows; r++) {
            const char *src = (const char *)inputs[0] + ((m * rows + r) * cols) * es;
            char *dst = (char *)outputs[0] + ((m * rows + r) * cols) * es;
            if (dst != src) memmove(dst, src, (size_t)(cols * es));
            /* kept columns: upper j >= r + k; lower j <= r + k */
            int64_t edge = r + k;
            if (upper) {
                int64_t zero_end = edge < 0 ? 0 : edge > cols ? cols : edge;
                memset(dst, 0, (size_t)(zero_end * es));
            } else {
                int64_t zero_begin = edge + 1 < 0 ? 0 : edge + 1 > cols ? cols : edge + 1;
                memset(dst + zero_begin * es, 0, (size_t)((cols - zero_begin) * es));
            }
        }
    return DLC_KOK;
}

/* ---- cumsum ------------------------------------------------------------------------ */

#define CUMSUM_LOOP(T, LOAD, STORE, ACC)                                                                     \
    for (int64_t o = 0; o < outer; o++)                                                                      \
        for (int64_t i = 0; i < inner; i++) {                                                                \
            const T *src = (const T *)inputs[0] + o * len * inner + i;                                       \
            T *dst = (T *)outputs[0] + o * len * inner + i;                                                  \
            ACC sum = 0;                                                                                     \
            for (int64_t s = 0; s < len; s++) {                                                              \
                int64_t at = (reverse ? len - 1 - s : s) * inner;                                            \
                ACC x = LOAD(src[at]);                                                                       \
                if (exclusive) {                                                                             \
                    dst[at] = STORE(sum);                                                                    \
                    sum += x;                                                                                \
                } else {                                                                                     \
                    sum += x;                                                                                \
                    dst[at] = STORE(sum);                                                                    \
                }                                                                                            \
            }                                                                                                \
        }

#define CS_ID(x) (x)

int32_t dlc_kernel_cumsum(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx) {
    const dlc_ktensor *it = dlc_kp_in(p, 0), *axis_t = dlc_kp_in(p, 1);
    int64_t exclusive = dlc_kp_ints(p)[0], reverse = dlc_kp_ints(p)[1];
    if (it->rank < 1) return DLC_KERR_BAD_VALUE;
    int64_t axis = tk_load_index(inputs[1], axis_t->dtype, 0);
    if (axis < -it->rank || axis >= it->rank) return DLC_KERR_INDEX_OUT_OF_RANGE;
    if (axis < 0) axis += it->rank;
    int64_t outer = 1, inner = 1, len = it->dims[axis];
    for (int64_t d = 0; d < axis; d++) outer *= it->dims[d];
    for (int64_t d = axis + 1; d < it->rank; d++) inner *= it->dims[d];
    switch (it->dtype) {
    case 1: CUMSUM_LOOP(float, CS_ID, CS_ID, float) break;
    case 11: CUMSUM_LOOP(double, CS_ID, CS_ID, double) break;
    case 6: CUMSUM_LOOP(int32_t, CS_ID, (int32_t), int64_t) break;
    case 7: CUMSUM_LOOP(int64_t, CS_ID, CS_ID, int64_t) break;
    case 12: CUMSUM_LOOP(uint32_t, CS_ID, (uint32_t), uint64_t) break;
    case 13: CUMSUM_LOOP(uint64_t, CS_ID, CS_ID, uint64_t) break;
    case 10: CUMSUM_LOOP(uint16_t, dlc_f16_to_f32, dlc_f32_to_f16, float) break;
    case 16: CUMSUM_LOOP(uint16_t, dlc_bf16_to_f32, dlc_f32_to_bf16, float) break;
    default: return DLC_KERR_UNSUPPORTED;
    }
    return DLC_KOK;
}

#ifndef DLC_KERNEL_BITCODE
#include "kernels/kernel_registry.h"
const dlc_kernel_entry dlc_kernels_tensor[] = {
    {"strided_copy", dlc_kernel_strided_copy, NULL},
    {"concat", dlc_kernel_concat, NULL},
    {"split", dlc_kernel_split, NULL},
    {"pad", dlc_kernel_pad, NULL},
    {"fill", dlc_kernel_fill, NULL},
    {"dropout", dlc_kernel_dropout, NULL},
    {"shape", dlc_kernel_shape, NULL},
    {"size", dlc_kernel_size, NULL},
    {"range", dlc_kernel_range, NULL},
    {"trilu", dlc_kernel_trilu, NULL},
    {"cumsum", dlc_kernel_cumsum, NULL},
    {NULL, NULL, NULL},
};
#endif
