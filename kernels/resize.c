/* resize: Resize (opset 10+) and Upsample, N-D, separable.
 *
 *   ints   [mode, coord_mode, nearest_mode, exclude_outside]
 *          mode 0 nearest, 1 linear, 2 cubic;
 *          coord_mode 0 half_pixel, 1 asymmetric, 2 align_corners,
 *          3 pytorch_half_pixel, 4 tf_half_pixel_for_nearest,
 *          5 half_pixel_symmetric, 6 tf_crop_and_resize;
 *          nearest_mode 0 round_prefer_floor, 1 round_prefer_ceil, 2 floor, 3 ceil
 *   floats [cubic_coeff_a, extrapolation_value, scales[rank], roi_start[rank], roi_end[rank]]
 *
 * Follows the ONNX reference (onnx/reference/ops/op_resize.py): the source
 * coordinate of output index x is computed per dim with the scale (not the
 * integer size ratio), neighbours outside the input repeat the edge, and
 * the N-D result is the product of 1-D weights. The workspace holds each
 * dim's taps (input index, weight) per output index, computed once. */
#include <math.h>
#include <stdbool.h>

#include "kernels/kvalue.h"
#include "kernels/tensor_support.h"

enum { RS_NEAREST = 0, RS_LINEAR = 1, RS_CUBIC = 2 };
enum { CT_HALF_PIXEL, CT_ASYMMETRIC, CT_ALIGN_CORNERS, CT_PYTORCH_HALF_PIXEL, CT_TF_HALF_PIXEL_FOR_NEAREST,
       CT_HALF_PIXEL_SYMMETRIC, CT_TF_CROP_AND_RESIZE };
enum { NM_ROUND_PREFER_FLOOR, NM_ROUND_PREFER_CEIL, NM_FLOOR, NM_CEIL };

typedef struct rs_taps {
    int64_t index[4];
    double weight[4];
    int32_t count; /* 0: outside the crop region, the result is the extrapolation value */
    int32_t reserved;
} rs_taps;

static int64_t total_taps(const dlc_kparams *p) {
    const dlc_ktensor *ot = dlc_kp_out(p, 0);
    int64_t n = 0;
    for (int32_t d = 0; d < ot->rank; d++) n += ot->dims[d];
    return n;
}

/* float32 linear and cubic resizes interpolate each input row along the
 * last dim once into a small per-thread cache of rows (RS_CACHE_ROWS of the
 * output's width), then blend cached rows across the leading dims. */
enum { RS_CACHE_ROWS = 8, RS_MAX_SLOTS = 8 };

static int64_t taps_bytes(const dlc_kparams *p) { return (total_taps(p) * (int64_t)sizeof(rs_taps) + 63) / 64 * 64; }

static int64_t cache_bytes(const dlc_kparams *p) {
    const dlc_ktensor *ot = dlc_kp_out(p, 0);
    return ot->rank < 1 ? 0 : (RS_CACHE_ROWS * ot->dims[ot->rank - 1] * (int64_t)sizeof(float) + 63) / 64 * 64;
}

int64_t dlc_kernel_resize_workspace(const dlc_kparams *p) { return taps_bytes(p) + RS_MAX_SLOTS * cache_bytes(p); }

/* Source coordinate of output index x (the reference's x_ori); sets *outside
 * for tf_crop_and_resize points outside the input. */
static double source_coord(int64_t coord_mode, double x, double scale, int64_t in_len, int64_t out_len,
                           double roi_start, double roi_end, int *outside) {
    double out_width = scale * (double)in_len; /* the reference uses the real-valued width */
    *outside = 0;
    switch (coord_mode) {
    case CT_ASYMMETRIC: return x / scale;
    case CT_ALIGN_CORNERS: return out_width == 1.0 ? 0.0 : x * (double)(in_len - 1) / (out_width - 1.0);
    case CT_PYTORCH_HALF_PIXEL: return out_width == 1.0 ? -0.5 : (x + 0.5) / scale - 0.5;
    case CT_TF_HALF_PIXEL_FOR_NEAREST: return (x + 0.5) / scale;
    case CT_HALF_PIXEL_SYMMETRIC: {
        double adjustment = (double)out_len / out_width;
        double center = (double)in_len / 2.0;
        return center * (1.0 - adjustment) + (x + 0.5) / scale - 0.5;
    }
    case CT_TF_CROP_AND_RESIZE: {
        double span = (roi_end - roi_start) * (double)(in_len - 1);
        double xo = out_width == 1.0 ? span / 2.0 : x * span / (out_width - 1.0);
        xo += roi_start * (double)(in_len - 1);
        *outside = xo < 0.0 || xo > (double)(in_len - 1);
        return xo;
    }
    default: return (x + 0.5) / scale - 0.5;
    }
}

static int64_t clamp_index(int64_t i, int64_t n) { return i < 0 ? 0 : i >= n ? n - 1 : i; }

static void cubic_coeffs(double r, double a, double *c) {
    double s = 1.0 - r;
    c[0] = ((a * (r + 1.0) - 5.0 * a) * (r + 1.0) + 8.0 * a) * (r + 1.0) - 4.0 * a;
    c[1] = ((a + 2.0) * r - (a + 3.0)) * r * r + 1.0;
    c[2] = ((a + 2.0) * s - (a + 3.0)) * s * s + 1.0;
    c[3] = ((a * (s + 1.0) - 5.0 * a) * (s + 1.0) + 8.0 * a) * (s + 1.0) - 4.0 * a;
}

static void make_taps(const int64_t *ip, const double *fp, int32_t rank, int32_t d, int64_t in_len, int64_t out_len,
                      rs_taps *taps) {
    int64_t mode = ip[0], coord_mode = ip[1], nearest_mode = ip[2], exclude_outside = ip[3];
    double scale = fp[2 + d], roi_start = fp[2 + rank + d], roi_end = fp[2 + 2 * rank + d];
    for (int64_t x = 0; x < out_len; x++) {
        rs_taps *t = &taps[x];
        int outside;
        double xo = source_coord(coord_mode, (double)x, scale, in_len, out_len, roi_start, roi_end, &outside);
        t->count = 0;
        if (outside) continue;
        /* the reference: ratio in (0, 1], an integer coordinate takes ratio 1 of the left neighbour pair */
        double fl = floor(xo), ratio = xo - fl;
        if (ratio == 0.0) {
            fl -= 1.0;
            ratio = 1.0;
        }
        int64_t base = (int64_t)fl;
        if (mode == RS_NEAREST) {
            int take_upper;
            if (ratio == 1.0) take_upper = 1;
            else if (nearest_mode == NM_ROUND_PREFER_CEIL) take_upper = ratio >= 0.5;
            else if (nearest_mode == NM_FLOOR) take_upper = 0;
            else if (nearest_mode == NM_CEIL) take_upper = 1;
            else take_upper = ratio > 0.5;
            t->index[0] = clamp_index(base + take_upper, in_len);
            t->weight[0] = 1.0;
            t->count = 1;
            continue;
        }
        double w[4];
        int64_t first, n;
        if (mode == RS_LINEAR) {
            w[0] = 1.0 - ratio;
            w[1] = ratio;
            first = base;
            n = 2;
        } else {
            cubic_coeffs(ratio, fp[0], w);
            first = base - 1;
            n = 4;
        }
        if (exclude_outside) {
            double sum = 0.0;
            for (int64_t k = 0; k < n; k++) {
                if (first + k < 0 || first + k >= in_len) w[k] = 0.0;
                sum += w[k];
            }
            if (sum != 0.0)
                for (int64_t k = 0; k < n; k++) w[k] /= sum;
        }
        for (int64_t k = 0; k < n; k++)
            if (w[k] != 0.0) {
                t->index[t->count] = clamp_index(first + k, in_len);
                t->weight[t->count] = w[k];
                t->count++;
            }
        if (t->count == 0) { /* all weights vanished (cannot happen for sane a): keep the nearest */
            t->index[0] = clamp_index(base + (ratio > 0.5), in_len);
            t->weight[0] = 1.0;
            t->count = 1;
        }
    }
}

static double load_double(const void *data, int32_t dtype, int64_t i) {
    switch (dtype) {
    case 1: return ((const float *)data)[i];
    case 11: return ((const double *)data)[i];
    case 10: return dlc_f16_to_f32(((const uint16_t *)data)[i]);
    case 16: return dlc_bf16_to_f32(((const uint16_t *)data)[i]);
    default: return (double)tk_load_index(data, dtype, i);
    }
}

static double saturate(double v, double lo, double hi) { return v < lo ? lo : v > hi ? hi : v; }

static void store_double(void *data, int32_t dtype, int64_t i, double v) {
    switch (dtype) {
    case 1: ((float *)data)[i] = (float)v; return;
    case 11: ((double *)data)[i] = v; return;
    case 10: ((uint16_t *)data)[i] = dlc_f32_to_f16((float)v); return;
    case 16: ((uint16_t *)data)[i] = dlc_f32_to_bf16((float)v); return;
    case 2: ((uint8_t *)data)[i] = (uint8_t)saturate(round(v), 0, 255); return;
    case 3: ((int8_t *)data)[i] = (int8_t)saturate(round(v), -128, 127); return;
    case 4: ((uint16_t *)data)[i] = (uint16_t)saturate(round(v), 0, 65535); return;
    case 5: ((int16_t *)data)[i] = (int16_t)saturate(round(v), -32768, 32767); return;
    case 6: ((int32_t *)data)[i] = (int32_t)saturate(round(v), -2147483648.0, 2147483647.0); return;
    case 12: ((uint32_t *)data)[i] = (uint32_t)saturate(round(v), 0, 4294967295.0); return;
    case 7: ((int64_t *)data)[i] = (int64_t)round(v); return;
    case 13: ((uint64_t *)data)[i] = (uint64_t)saturate(round(v), 0, 1.8e19); return;
    case 9: ((uint8_t *)data)[i] = v != 0.0; return;
    default: return;
    }
}

typedef struct rs_job {
    const dlc_kparams *p;
    const void *in;
    void *out;
    const rs_taps *taps[DLC_KMAX_RANK]; /* per dim, indexed by output coordinate */
    int64_t in_strides[DLC_KMAX_RANK];
    int32_t rank, nearest;
    bool crop; /* tf_crop_and_resize: a tap count may be 0 (the extrapolation value) */
    double extrapolation;
    /* the cached float path (rs_cached_rows): slots of rows, each with its cache */
    int64_t num_rows, slots;
    char *caches;
    int64_t cache_bytes;
} rs_job;

/* The leading dims' taps of one output row multiplied out: up to this many
 * (input offset, weight) pairs; more (a 3-D cubic resize) takes the general
 * loop below. */
enum { RS_MAX_LEAD = 64 };

typedef struct rs_lead {
    int32_t count; /* 0: some leading dim lies outside the crop region */
    int64_t offset[RS_MAX_LEAD];
    double weight[RS_MAX_LEAD];
} rs_lead;

/* Multiplies out cur[0..r-2]'s taps in the order the general loop visits
 * them (the last leading dim fastest), each weight the same left-to-right
 * product, so results are bit-identical to it. False when too many. */
static bool lead_combos(const rs_job *j, const rs_taps *const *cur, rs_lead *lead) {
    int32_t lead_dims = j->rank - 1;
    int64_t total = 1;
    for (int32_t d = 0; d < lead_dims; d++) total *= cur[d]->count;
    lead->count = (int32_t)total;
    if (total == 0) return true;
    if (total > RS_MAX_LEAD) return false;
    int32_t k[DLC_KMAX_RANK] = {0};
    for (int64_t c = 0; c < total; c++) {
        double w = 1.0;
        int64_t off = 0;
        for (int32_t d = 0; d < lead_dims; d++) {
            w *= cur[d]->weight[k[d]];
            off += cur[d]->index[k[d]] * j->in_strides[d];
        }
        lead->weight[c] = w;
        lead->offset[c] = off;
        for (int32_t d = lead_dims - 1; d >= 0 && ++k[d] == cur[d]->count; d--) k[d] = 0;
    }
    return true;
}

/* One output row from its leading combos: per output column, the sum over
 * combos x the last dim's taps. float32 reads and writes its elements
 * directly; other dtypes go through doubles. */
static void rs_row_from_lead(const rs_job *j, const rs_lead *lead, int64_t row) {
    const dlc_ktensor *ot = dlc_kp_out(j->p, 0), *it = dlc_kp_in(j->p, 0);
    const int32_t r = j->rank;
    const int64_t width = ot->dims[r - 1], s_last = j->in_strides[r - 1];
    const rs_taps *last = j->taps[r - 1];
    const bool f32 = it->dtype == DLC_KT_FLOAT32 && ot->dtype == DLC_KT_FLOAT32;
    const float *in32 = j->in;
    float *out32 = (float *)j->out + row * width;
    for (int64_t x = 0; x < width; x++) {
        const rs_taps *t = &last[x];
        double acc = 0.0;
        if (lead->count == 0 || t->count == 0) {
            acc = j->extrapolation;
        } else if (f32) {
            for (int32_t c = 0; c < lead->count; c++)
                for (int32_t k = 0; k < t->count; k++)
                    acc += lead->weight[c] * t->weight[k] * in32[lead->offset[c] + t->index[k] * s_last];
        } else {
            for (int32_t c = 0; c < lead->count; c++)
                for (int32_t k = 0; k < t->count; k++)
                    acc += lead->weight[c] * t->weight[k] *
                           load_double(j->in, it->dtype, lead->offset[c] + t->index[k] * s_last);
        }
        if (f32) out32[x] = (float)acc;
        else store_double(j->out, ot->dtype, row * width + x, acc);
    }
}

/* One output row element by element, through every dim's taps (nearest, a
 * crop region, or more leading combos than rs_lead holds). */
static void rs_row_general(const rs_job *j, const rs_taps **cur, int64_t row) {
    const dlc_ktensor *ot = dlc_kp_out(j->p, 0), *it = dlc_kp_in(j->p, 0);
    int32_t r = j->rank;
    int64_t width = ot->dims[r - 1], es = dlc_kdtype_size(ot->dtype);
    for (int64_t x = 0; x < width; x++) {
        int64_t out_i = row * width + x;
        cur[r - 1] = &j->taps[r - 1][x];
        int any_empty = 0;
        for (int32_t d = 0; d < r; d++) any_empty |= cur[d]->count == 0;
        if (any_empty) {
            store_double(j->out, ot->dtype, out_i, j->extrapolation);
            continue;
        }
        if (j->nearest) {
            int64_t off = 0;
            for (int32_t d = 0; d < r; d++) off += cur[d]->index[0] * j->in_strides[d];
            tk_put((char *)j->out + out_i * es, (const char *)j->in + off * es, es);
            continue;
        }
        /* sum over the product of every dim's taps */
        int32_t k[DLC_KMAX_RANK] = {0};
        double acc = 0.0;
        for (;;) {
            double w = 1.0;
            int64_t off = 0;
            for (int32_t d = 0; d < r; d++) {
                w *= cur[d]->weight[k[d]];
                off += cur[d]->index[k[d]] * j->in_strides[d];
            }
            acc += w * load_double(j->in, it->dtype, off);
            int32_t d = r - 1;
            while (d >= 0 && ++k[d] == cur[d]->count) k[d--] = 0;
            if (d < 0) break;
        }
        store_double(j->out, ot->dtype, out_i, acc);
    }
}

/* Input rows interpolated along the last dim, by the input offset of their
 * first element; used[] stamps the output row that last read each. */
typedef struct rs_cache {
    float *rows;
    int64_t offset[RS_CACHE_ROWS];
    int64_t used[RS_CACHE_ROWS];
} rs_cache;

/* The interpolated input row starting at offset, computed unless cached.
 * A row the current output row already uses carries its stamp, so the least
 * recently used entry evicted is never one of them (lead->count is at most
 * RS_CACHE_ROWS / 2). */
static const float *cached_row(const rs_job *j, rs_cache *cache, int64_t offset, int64_t stamp) {
    int32_t victim = 0;
    for (int32_t e = 0; e < RS_CACHE_ROWS; e++) {
        if (cache->offset[e] == offset) {
            cache->used[e] = stamp;
            return cache->rows + e * dlc_kp_out(j->p, 0)->dims[j->rank - 1];
        }
        if (cache->used[e] < cache->used[victim]) victim = e;
    }
    const dlc_ktensor *ot = dlc_kp_out(j->p, 0);
    const int64_t width = ot->dims[j->rank - 1], s_last = j->in_strides[j->rank - 1];
    const rs_taps *last = j->taps[j->rank - 1];
    const float *in = (const float *)j->in + offset;
    float *row = cache->rows + victim * width;
    for (int64_t x = 0; x < width; x++) {
        const rs_taps *t = &last[x];
        float sum = 0.0f;
        for (int32_t k = 0; k < t->count; k++) sum += (float)t->weight[k] * in[t->index[k] * s_last];
        row[x] = sum;
    }
    cache->offset[victim] = offset;
    cache->used[victim] = stamp;
    return row;
}

/* One slot's consecutive output rows (float32, no crop region: every tap
 * count is positive). Consecutive rows of an upscale read the same input
 * rows, interpolated once each. */
static void rs_cached_rows(void *arg, int64_t begin, int64_t end) {
    const rs_job *j = arg;
    const dlc_ktensor *ot = dlc_kp_out(j->p, 0);
    const int32_t r = j->rank;
    const int64_t width = ot->dims[r - 1];
    rs_lead lead;
    for (int64_t slot = begin; slot < end; slot++) {
        rs_cache cache = {.rows = (float *)(void *)(j->caches + slot * j->cache_bytes)};
        for (int32_t e = 0; e < RS_CACHE_ROWS; e++) cache.offset[e] = -1, cache.used[e] = -1;
        for (int64_t row = j->num_rows * slot / j->slots; row < j->num_rows * (slot + 1) / j->slots; row++) {
            const rs_taps *cur[DLC_KMAX_RANK];
            int64_t rest = row;
            for (int32_t d = r - 2; d >= 0; d--) {
                cur[d] = &j->taps[d][rest % ot->dims[d]];
                rest /= ot->dims[d];
            }
            float *out = (float *)j->out + row * width;
            if (!lead_combos(j, cur, &lead)) {
                rs_row_general(j, cur, row);
                continue;
            }
            if (lead.count > RS_CACHE_ROWS / 2) {
                rs_row_from_lead(j, &lead, row);
                continue;
            }
            const float *src[RS_CACHE_ROWS / 2];
            for (int32_t c = 0; c < lead.count; c++) src[c] = cached_row(j, &cache, lead.offset[c], row);
            float w0 = (float)lead.weight[0];
            for (int64_t x = 0; x < width; x++) out[x] = w0 * src[0][x];
            for (int32_t c = 1; c < lead.count; c++) {
                float wc = (float)lead.weight[c];
                const float *restrict h = src[c];
                for (int64_t x = 0; x < width; x++) out[x] += wc * h[x];
            }
        }
    }
}

/* A nearest-mode row: one input offset for the leading dims, then a
 * gather along the last; float32 (and other 4-byte types) copy words. */
static void rs_row_nearest(const rs_job *j, const rs_taps *const *cur, int64_t row) {
    const dlc_ktensor *ot = dlc_kp_out(j->p, 0);
    const int32_t r = j->rank;
    const int64_t width = ot->dims[r - 1], es = dlc_kdtype_size(ot->dtype), s_last = j->in_strides[r - 1];
    const rs_taps *last = j->taps[r - 1];
    int64_t lead_off = 0;
    for (int32_t d = 0; d < r - 1; d++) lead_off += cur[d]->index[0] * j->in_strides[d];
    if (es == 4) {
        const uint32_t *in = (const uint32_t *)j->in + lead_off;
        uint32_t *out = (uint32_t *)j->out + row * width;
        for (int64_t x = 0; x < width; x++) out[x] = in[last[x].index[0] * s_last];
        return;
    }
    for (int64_t x = 0; x < width; x++)
        tk_put((char *)j->out + (row * width + x) * es, (const char *)j->in + (lead_off + last[x].index[0] * s_last) * es,
               es);
}

static void rs_rows(void *arg, int64_t begin, int64_t end) {
    const rs_job *j = arg;
    const dlc_ktensor *ot = dlc_kp_out(j->p, 0);
    int32_t r = j->rank;
    rs_lead lead;
    for (int64_t row = begin; row < end; row++) {
        const rs_taps *cur[DLC_KMAX_RANK];
        int64_t rest = row;
        for (int32_t d = r - 2; d >= 0; d--) {
            cur[d] = &j->taps[d][rest % ot->dims[d]];
            rest /= ot->dims[d];
        }
        if (j->nearest && !j->crop) {
            rs_row_nearest(j, cur, row);
            continue;
        }
        if (!j->nearest && lead_combos(j, cur, &lead)) {
            rs_row_from_lead(j, &lead, row);
            continue;
        }
        rs_row_general(j, cur, row);
    }
}

int32_t dlc_kernel_resize(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx) {
    const dlc_ktensor *it = dlc_kp_in(p, 0), *ot = dlc_kp_out(p, 0);
    const int64_t *ip = dlc_kp_ints(p);
    const double *fp = dlc_kp_floats(p);
    int32_t rank = ot->rank;
    if (rank < 1 || it->rank != rank || p->num_floats < 2 + 3 * rank) return DLC_KERR_BAD_VALUE;
    if (ot->numel == 0) return DLC_KOK;
    if (it->numel == 0) return DLC_KERR_BAD_VALUE;
    if (ctx->workspace == NULL || ctx->workspace_size < dlc_kernel_resize_workspace(p)) return DLC_KERR_BAD_VALUE;
    rs_job j = {.p = p, .in = inputs[0], .out = outputs[0], .rank = rank, .nearest = ip[0] == RS_NEAREST,
                .extrapolation = fp[1]};
    rs_taps *taps = ctx->workspace;
    for (int32_t d = 0; d < rank; d++) {
        make_taps(ip, fp, rank, d, it->dims[d], ot->dims[d], taps);
        j.taps[d] = taps;
        taps += ot->dims[d];
    }
    tk_strides(it, j.in_strides);
    int64_t width = ot->dims[rank - 1];
    j.num_rows = ot->numel / width;
    j.crop = ip[1] == CT_TF_CROP_AND_RESIZE;
    bool cached = !j.nearest && rank >= 2 && !j.crop && it->dtype == DLC_KT_FLOAT32 &&
                  ot->dtype == DLC_KT_FLOAT32;
    if (cached) {
        int64_t threads = ctx->num_threads > 1 ? ctx->num_threads : 1;
        /* at least ~16K outputs per slot: the fork costs more below */
        j.slots = threads < RS_MAX_SLOTS ? threads : RS_MAX_SLOTS;
        int64_t by_size = ot->numel / 16384;
        j.slots = j.slots < by_size ? j.slots : (by_size > 1 ? by_size : 1);
        j.slots = j.slots < j.num_rows ? j.slots : j.num_rows;
        j.caches = (char *)ctx->workspace + taps_bytes(p);
        j.cache_bytes = cache_bytes(p);
        dlc_parallel_for(ctx, j.slots, 1, rs_cached_rows, &j);
        return DLC_KOK;
    }
    dlc_parallel_for(ctx, j.num_rows, 1 + 4096 / width, rs_rows, &j);
    return DLC_KOK;
}

#ifndef DLC_KERNEL_BITCODE
#include "kernels/kernel_registry.h"
const dlc_kernel_entry dlc_kernels_resize[] = {
    {"resize", dlc_kernel_resize, dlc_kernel_resize_workspace},
    {NULL, NULL, NULL},
};
#endif
