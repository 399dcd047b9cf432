/* Kernels whose output extent depends on the data (see ir/ops/data_dependent.c):
 * nonzero, compress, unique, nms. Each output was allocated for an upper
 * bound (the params hold it); the kernel writes the output dense for its
 * actual dims and reports those in ctx->out_dims (dlc_kctx). */
#include <stdbool.h>

#include "kernels/kvalue.h"
#include "kernels/tensor_support.h"

static int64_t product(const int64_t *dims, int32_t from, int32_t to) {
    int64_t p = 1;
    for (int32_t d = from; d < to; d++) p *= dims[d];
    return p;
}

/* Reports output o's actual dims: its params dims with the bounded ones replaced. */
static void report_dims(const dlc_kparams *p, const dlc_kctx *ctx, int32_t o, const int64_t *dims) {
    if (ctx->out_dims == NULL || o >= p->num_outputs || dlc_kp_out(p, o)->dtype == 0) return;
    const dlc_ktensor *t = dlc_kp_out(p, o);
    for (int32_t d = 0; d < t->rank; d++) ctx->out_dims[o * DLC_KMAX_RANK + d] = dims[d];
}

static bool element_is_nonzero(const void *x, int32_t dtype, int64_t i) {
    if (dlc_kdtype_is_float(dtype)) return dlc_kload_f(x, dtype, i) != 0.0; /* -0.0 is zero, NaN is not */
    return dlc_kload_u(x, dtype, i) != 0;
}

/* ---- nonzero: out int64 [max(rank,1), count], coordinates of each nonzero
 * element in row-major order (a 0-d input counts as 1-d, as numpy's). */
int32_t dlc_kernel_nonzero(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx) {
    const dlc_ktensor *x = dlc_kp_in(p, 0);
    int64_t count = 0;
    for (int64_t i = 0; i < x->numel; i++) count += element_is_nonzero(inputs[0], x->dtype, i);
    int64_t *out = outputs[0];
    int32_t rank = x->rank;
    int64_t k = 0;
    for (int64_t i = 0; i < x->numel; i++) {
        if (!element_is_nonzero(inputs[0], x->dtype, i)) continue;
        int64_t rest = i;
        for (int32_t d = rank - 1; d >= 0; d--) {
            out[d * count + k] = rest % x->dims[d];
            rest /= x->dims[d];
        }
        if (rank == 0) out[k] = 0;
        k++;
    }
    int64_t dims[2] = {rank > 0 ? rank : 1, count};
    report_dims(p, ctx, 0, dims);
    return DLC_KOK;
}

/* ---- compress: ints: axis (-1: the flattened input). Slices (elements)
 * whose condition entry is true, in order; entries past the condition's end
 * are dropped, a true entry past the input's end is out of range (numpy). */
int32_t dlc_kernel_compress(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx) {
    const dlc_ktensor *x = dlc_kp_in(p, 0), *cond = dlc_kp_in(p, 1);
    int64_t axis = dlc_kp_ints(p)[0], es = dlc_kdtype_size(x->dtype);
    int64_t outer = 1, len = x->numel, inner = 1;
    if (axis >= 0) {
        outer = product(x->dims, 0, (int32_t)axis);
        len = x->dims[axis];
        inner = product(x->dims, (int32_t)axis + 1, x->rank);
    }
    const uint8_t *c = inputs[1];
    int64_t count = 0;
    for (int64_t j = 0; j < cond->numel; j++) {
        if (!c[j]) continue;
        if (j >= len) return DLC_KERR_INDEX_OUT_OF_RANGE;
        count++;
    }
    const char *src = inputs[0];
    char *dst = outputs[0];
    int64_t slice_bytes = inner * es;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t j = 0; j < cond->numel; j++)
            if (c[j]) {
                memcpy(dst, src + (o * len + j) * slice_bytes, (size_t)slice_bytes);
                dst += slice_bytes;
            }
    int64_t dims[DLC_KMAX_RANK];
    if (axis < 0) {
        dims[0] = count;
    } else {
        for (int32_t d = 0; d < x->rank; d++) dims[d] = x->dims[d];
        dims[axis] = count;
    }
    report_dims(p, ctx, 0, dims);
    return DLC_KOK;
}

/* ---- unique ----------------------------------------------------------- */

/* Orders elements as numpy's sort does: floats by value with NaN last (all
 * NaNs equal, as np.unique's equal_nan), integers exactly. */
static int compare_elements(const void *x, int32_t dtype, int64_t a, int64_t b) {
    if (dlc_kdtype_is_float(dtype)) {
        double va = dlc_kload_f(x, dtype, a), vb = dlc_kload_f(x, dtype, b);
        bool na = va != va, nb = vb != vb;
        if (na || nb) return na == nb ? 0 : na ? 1 : -1;
        return va < vb ? -1 : va > vb ? 1 : 0;
    }
    uint64_t ua = dlc_kload_u(x, dtype, a), ub = dlc_kload_u(x, dtype, b);
    if (dtype == DLC_KT_UINT64) return ua < ub ? -1 : ua > ub ? 1 : 0;
    int64_t sa = (int64_t)ua, sb = (int64_t)ub;
    return sa < sb ? -1 : sa > sb ? 1 : 0;
}

typedef struct unique_view {
    const void *x;
    int32_t dtype;
    int64_t outer, len, inner; /* slice k: x[o, k, i] over (o, i) in row-major order */
} unique_view;

/* Lexicographic order of slices a and b (numpy's unique with axis). */
static int compare_slices(const unique_view *v, int64_t a, int64_t b) {
    for (int64_t o = 0; o < v->outer; o++)
        for (int64_t i = 0; i < v->inner; i++) {
            int c = compare_elements(v->x, v->dtype, (o * v->len + a) * v->inner + i, (o * v->len + b) * v->inner + i);
            if (c != 0) return c;
        }
    return 0;
}

/* Stable bottom-up merge sort of order[0, n) by slice; tmp has n entries. */
static void sort_slices(const unique_view *v, int64_t *order, int64_t *tmp, int64_t n) {
    for (int64_t width = 1; width < n; width *= 2) {
        for (int64_t lo = 0; lo < n; lo += 2 * width) {
            int64_t mid = lo + width < n ? lo + width : n, hi = lo + 2 * width < n ? lo + 2 * width : n;
            int64_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) tmp[k++] = compare_slices(v, order[j], order[i]) < 0 ? order[j++] : order[i++];
            while (i < mid) tmp[k++] = order[i++];
            while (j < hi) tmp[k++] = order[j++];
        }
        memcpy(order, tmp, (size_t)n * sizeof *order);
    }
}

static int64_t unique_len(const dlc_kparams *p) {
    const dlc_ktensor *x = dlc_kp_in(p, 0);
    int64_t axis = dlc_kp_ints(p)[0];
    return axis >= 0 ? x->dims[axis] : x->numel;
}

/* order, tmp, group_of, group_rank, group_first, group_count: n each */
int64_t dlc_kernel_unique_workspace(const dlc_kparams *p) {
    return 6 * unique_len(p) * (int64_t)sizeof(int64_t);
}

/* ints: axis (-1: the flattened input), sorted. Outputs Y, indices,
 * inverse_indices, counts (any may be absent). Unique slices in ascending
 * order (sorted) or in order of first occurrence; indices are first
 * occurrences, as the ONNX reference (numpy's unique) gives them. */
int32_t dlc_kernel_unique(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx) {
    const dlc_ktensor *x = dlc_kp_in(p, 0);
    int64_t axis = dlc_kp_ints(p)[0];
    bool sorted = dlc_kp_ints(p)[1] != 0;
    unique_view v = {.x = inputs[0], .dtype = x->dtype, .outer = 1, .len = x->numel, .inner = 1};
    if (axis >= 0) {
        v.outer = product(x->dims, 0, (int32_t)axis);
        v.len = x->dims[axis];
        v.inner = product(x->dims, (int32_t)axis + 1, x->rank);
    }
    int64_t n = v.len;
    int64_t *order = ctx->workspace, *tmp = order + n, *group_of = tmp + n, *group_rank = group_of + n;
    int64_t *group_first = group_rank + n, *group_count = group_first + n;
    for (int64_t i = 0; i < n; i++) order[i] = i;
    sort_slices(&v, order, tmp, n);
    /* groups of equal slices in sorted order; stability makes each group's
     * first member its lowest index */
    int64_t groups = 0;
    for (int64_t s = 0; s < n; s++) {
        if (s == 0 || compare_slices(&v, order[s - 1], order[s]) != 0) {
            group_first[groups] = order[s];
            group_count[groups] = 0;
            groups++;
        }
        group_of[order[s]] = groups - 1;
        group_count[groups - 1]++;
    }
    /* output rank of each group: sorted order, or by first occurrence */
    if (sorted) {
        for (int64_t g = 0; g < groups; g++) group_rank[g] = g;
    } else {
        int64_t r = 0;
        for (int64_t i = 0; i < n; i++)
            if (group_first[group_of[i]] == i) group_rank[group_of[i]] = r++;
    }
    int64_t es = dlc_kdtype_size(x->dtype);
    bool want[4];
    for (int o = 0; o < 4; o++) want[o] = o < p->num_outputs && dlc_kp_out(p, o)->dtype != 0 && outputs[o] != NULL;
    for (int64_t g = 0; g < groups; g++) {
        int64_t r = group_rank[g];
        if (want[0])
            for (int64_t o = 0; o < v.outer; o++)
                memcpy((char *)outputs[0] + ((o * groups + r) * v.inner) * es,
                       (const char *)inputs[0] + ((o * v.len + group_first[g]) * v.inner) * es,
                       (size_t)(v.inner * es));
        if (want[1]) ((int64_t *)outputs[1])[r] = group_first[g];
        if (want[3]) ((int64_t *)outputs[3])[r] = group_count[g];
    }
    if (want[2])
        for (int64_t i = 0; i < n; i++) ((int64_t *)outputs[2])[i] = group_rank[group_of[i]];
    int64_t dims[DLC_KMAX_RANK];
    if (axis < 0) {
        dims[0] = groups;
    } else {
        for (int32_t d = 0; d < x->rank; d++) dims[d] = x->dims[d];
        dims[axis] = groups;
    }
    report_dims(p, ctx, 0, dims);
    int64_t list[1] = {groups}, all[1] = {n};
    report_dims(p, ctx, 1, list);
    report_dims(p, ctx, 2, all);
    report_dims(p, ctx, 3, list);
    return DLC_KOK;
}

/* ---- nms: NonMaxSuppression as the ONNX reference (a port of ONNX
 * Runtime's) computes it, in float32 arithmetic ------------------------- */

static void min_max(float a, float b, float *lo, float *hi) {
    *lo = a < b ? a : b;
    *hi = a < b ? b : a;
}

/* Whether box j suppresses box i: IOU strictly above the threshold. */
static bool suppresses(const float *box_i, const float *box_j, bool center_point_box, float iou_threshold) {
    float x1_min, y1_min, x1_max, y1_max, x2_min, y2_min, x2_max, y2_max;
    if (!center_point_box) { /* [y1, x1, y2, x2], any two opposite corners */
        min_max(box_i[1], box_i[3], &x1_min, &x1_max);
        min_max(box_j[1], box_j[3], &x2_min, &x2_max);
        min_max(box_i[0], box_i[2], &y1_min, &y1_max);
        min_max(box_j[0], box_j[2], &y2_min, &y2_max);
    } else { /* [x_center, y_center, width, height] */
        float w1 = box_i[2] / 2.0f, h1 = box_i[3] / 2.0f, w2 = box_j[2] / 2.0f, h2 = box_j[3] / 2.0f;
        x1_min = box_i[0] - w1;
        x1_max = box_i[0] + w1;
        y1_min = box_i[1] - h1;
        y1_max = box_i[1] + h1;
        x2_min = box_j[0] - w2;
        x2_max = box_j[0] + w2;
        y2_min = box_j[1] - h2;
        y2_max = box_j[1] + h2;
    }
    float ix_min = x1_min > x2_min ? x1_min : x2_min, ix_max = x1_max < x2_max ? x1_max : x2_max;
    float iy_min = y1_min > y2_min ? y1_min : y2_min, iy_max = y1_max < y2_max ? y1_max : y2_max;
    if (ix_max <= ix_min || iy_max <= iy_min) return false;
    float intersection = (ix_max - ix_min) * (iy_max - iy_min);
    if (intersection <= 0.0f) return false;
    float area1 = (x1_max - x1_min) * (y1_max - y1_min), area2 = (x2_max - x2_min) * (y2_max - y2_min);
    float union_area = area1 + area2 - intersection;
    if (area1 <= 0.0f || area2 <= 0.0f || union_area <= 0.0f) return false;
    return intersection / union_area > iou_threshold;
}

/* order (candidates) and selected: N each */
int64_t dlc_kernel_nms_workspace(const dlc_kparams *p) {
    return 2 * dlc_kp_in(p, 0)->dims[1] * (int64_t)sizeof(int64_t);
}

/* Stable merge sort of candidate box indices by score, highest first. */
static void sort_by_score(const float *scores, int64_t *order, int64_t *tmp, int64_t n) {
    for (int64_t width = 1; width < n; width *= 2) {
        for (int64_t lo = 0; lo < n; lo += 2 * width) {
            int64_t mid = lo + width < n ? lo + width : n, hi = lo + 2 * width < n ? lo + 2 * width : n;
            int64_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) tmp[k++] = scores[order[j]] > scores[order[i]] ? order[j++] : order[i++];
            while (i < mid) tmp[k++] = order[i++];
            while (j < hi) tmp[k++] = order[j++];
        }
        memcpy(order, tmp, (size_t)n * sizeof *order);
    }
}

/* ints: center_point_box. Inputs boxes [B,N,4], scores [B,C,N],
 * max_output_boxes_per_class, iou_threshold, score_threshold (the last three
 * optional scalars). Output int64 [selected, 3] of (batch, class, box). */
int32_t dlc_kernel_nms(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx) {
    const dlc_ktensor *boxes = dlc_kp_in(p, 0), *scores = dlc_kp_in(p, 1);
    bool center = dlc_kp_ints(p)[0] != 0;
    int64_t B = boxes->dims[0], N = boxes->dims[1], C = scores->dims[1];
    int64_t max_out = 0;
    if (p->num_inputs > 2 && inputs[2] != NULL && dlc_kp_in(p, 2)->numel > 0)
        max_out = tk_load_index(inputs[2], dlc_kp_in(p, 2)->dtype, 0);
    if (max_out > N) max_out = N;
    float iou = 0.0f, score_min = 0.0f;
    bool has_score_min = false;
    if (p->num_inputs > 3 && inputs[3] != NULL && dlc_kp_in(p, 3)->numel > 0) iou = ((const float *)inputs[3])[0];
    if (p->num_inputs > 4 && inputs[4] != NULL && dlc_kp_in(p, 4)->numel > 0) {
        score_min = ((const float *)inputs[4])[0];
        has_score_min = true;
    }
    if (iou < 0.0f || iou > 1.0f) return DLC_KERR_BAD_VALUE; /* the reference refuses it too */
    int64_t bound = dlc_kp_out(p, 0)->dims[0];
    int64_t *order = ctx->workspace, *selected = order + N, *out = outputs[0];
    int64_t total = 0;
    for (int64_t b = 0; b < B && max_out > 0; b++)
        for (int64_t c = 0; c < C; c++) {
            const float *s = (const float *)inputs[1] + (b * C + c) * N;
            const float *bx = (const float *)inputs[0] + b * N * 4;
            int64_t n = 0;
            for (int64_t i = 0; i < N; i++)
                if (!has_score_min || s[i] > score_min) order[n++] = i;
            /* selected doubles as the merge buffer until selection starts */
            sort_by_score(s, order, selected, n);
            int64_t kept = 0;
            for (int64_t k = 0; k < n && kept < max_out; k++) {
                bool keep = true;
                for (int64_t j = 0; j < kept && keep; j++)
                    if (suppresses(bx + order[k] * 4, bx + selected[j] * 4, center, iou)) keep = false;
                if (!keep) continue;
                selected[kept++] = order[k];
                if (total >= bound) return DLC_KERR_INDEX_OUT_OF_RANGE; /* cannot happen: bound covers B*C*max */
                out[total * 3] = b;
                out[total * 3 + 1] = c;
                out[total * 3 + 2] = order[k];
                total++;
            }
        }
    int64_t dims[2] = {total, 3};
    report_dims(p, ctx, 0, dims);
    return DLC_KOK;
}

#ifndef DLC_KERNEL_BITCODE
#include "kernels/kernel_registry.h"
const dlc_kernel_entry dlc_kernels_data_dependent[] = {
    {"nonzero", dlc_kernel_nonzero, NULL},
    {"compress", dlc_kernel_compress, NULL},
    {"unique", dlc_kernel_unique, dlc_kernel_unique_workspace},
    {"nms", dlc_kernel_nms, dlc_kernel_nms_workspace},
    {NULL, NULL, NULL},
};
#endif
