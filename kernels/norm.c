/* Normalization kernels (inference).
 *
 * batch_norm:    inputs X[N,C,*], scale, B, mean, var; output Y. floats: [epsilon].
 *                scale/B and mean/var may each have their own float dtype.
 *                Parameters hold C values (per channel) or C * spatial values
 *                (opset < 9 with spatial = 0: per activation).
 * instance_norm: inputs X[N,C,*], scale[C], B[C]; output Y. floats: [epsilon].
 * layer_norm:    inputs X, Scale, [B]; outputs Y, [Mean], [InvStdDev].
 *                ints: [axis (normalized, >= 0)]; floats: [epsilon]. Scale and
 *                B broadcast to X.shape[axis:]; Mean/InvStdDev hold one value
 *                per row (float32 or X's dtype).
 * lrn:           inputs X[N,C,*]; output Y. ints: [size]; floats: [alpha, beta, bias].
 *
 * Every kernel reads elements through kvalue.h: in a model the dtype is a
 * constant of the specialized params block, so the switch folds away and
 * the float32 loops stay plain loads. Statistics accumulate in double, in
 * independent lanes so that the loops vectorize without reassociation. */
#include <math.h>
#include <stdbool.h>

#include "kernels/kvalue.h"

static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

#define NORM_LANES 8

/* Mean and 1/sqrt(variance + eps) of n elements of x starting at offset. */
static void row_stats(const void *x, int32_t t, int64_t offset, int64_t n, double eps, double *mean,
                      double *inv_std) {
    double part[NORM_LANES] = {0};
    int64_t i = 0;
    for (; i + NORM_LANES <= n; i += NORM_LANES)
        for (int l = 0; l < NORM_LANES; l++) part[l] += dlc_kload_f(x, t, offset + i + l);
    double sum = 0.0;
    for (int l = 0; l < NORM_LANES; l++) sum += part[l];
    for (; i < n; i++) sum += dlc_kload_f(x, t, offset + i);
    double m = n > 0 ? sum / (double)n : 0.0;
    double sq[NORM_LANES] = {0};
    for (i = 0; i + NORM_LANES <= n; i += NORM_LANES)
        for (int l = 0; l < NORM_LANES; l++) {
            double d = dlc_kload_f(x, t, offset + i + l) - m;
            sq[l] += d * d;
        }
    double ss = 0.0;
    for (int l = 0; l < NORM_LANES; l++) ss += sq[l];
    for (; i < n; i++) {
        double d = dlc_kload_f(x, t, offset + i) - m;
        ss += d * d;
    }
    *mean = m;
    *inv_std = 1.0 / sqrt((n > 0 ? ss / (double)n : 0.0) + eps);
}

/* ---- batch_norm -------------------------------------------------------------- */

typedef struct bn_job {
    int32_t t, t_scale, t_stats; /* X/Y; scale and B; mean and var (may differ from opset 15) */
    int64_t C, plane;
    bool per_activation;
    double eps;
    void *const *in;
    void *y;
} bn_job;

static void bn_planes(void *arg, int64_t begin, int64_t end) {
    const bn_job *job = arg;
    int32_t t = job->t;
    for (int64_t pl = begin; pl < end; pl++) {
        int64_t c = pl % job->C, base = pl * job->plane;
        if (!job->per_activation) {
            /* y = x * a + b with a = scale / sqrt(var + eps), b = B - mean * a */
            double a = dlc_kload_f(job->in[1], job->t_scale, c) / sqrt(dlc_kload_f(job->in[4], job->t_stats, c) + job->eps);
            double b = dlc_kload_f(job->in[2], job->t_scale, c) - dlc_kload_f(job->in[3], job->t_stats, c) * a;
            if (t == DLC_KT_FLOAT32) {
                const float *x = (const float *)job->in[0] + base;
                float *y = (float *)job->y + base;
                float af = (float)a, bf = (float)b;
                for (int64_t i = 0; i < job->plane; i++) y[i] = x[i] * af + bf;
            } else {
                for (int64_t i = 0; i < job->plane; i++)
                    dlc_kstore_f(job->y, t, base + i, dlc_kload_f(job->in[0], t, base + i) * a + b);
            }
        } else {
            for (int64_t i = 0; i < job->plane; i++) {
                int64_t k = c * job->plane + i;
                double a = dlc_kload_f(job->in[1], job->t_scale, k) / sqrt(dlc_kload_f(job->in[4], job->t_stats, k) + job->eps);
                double v = (dlc_kload_f(job->in[0], t, base + i) - dlc_kload_f(job->in[3], job->t_stats, k)) * a +
                           dlc_kload_f(job->in[2], job->t_scale, k);
                dlc_kstore_f(job->y, t, base + i, v);
            }
        }
    }
}

int32_t dlc_kernel_batch_norm(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx) {
    const dlc_ktensor *x = dlc_kp_in(p, 0);
    bn_job job = {.t = x->dtype, .t_scale = dlc_kp_in(p, 1)->dtype, .t_stats = dlc_kp_in(p, 3)->dtype, .C = x->rank > 1 ? x->dims[1] : 1, .eps = dlc_kp_floats(p)[0], .in = inputs,
                  .y = outputs[0]};
    int64_t planes = x->rank > 0 ? x->dims[0] * job.C : 1;
    job.plane = planes > 0 ? x->numel / planes : 0;
    job.per_activation = dlc_kp_in(p, 1)->numel != job.C;
    if (!dlc_kdtype_is_float(job.t)) return DLC_KERR_UNSUPPORTED;
    dlc_parallel_for(ctx, planes, max64(1, 65536 / max64(1, job.plane)), bn_planes, &job);
    return DLC_KOK;
}

/* batch_norm_train: BatchNormalization with training_mode (opset 14+): Y from
 * the batch's own mean and (population) variance per channel; outputs 1 and
 * 2, when present, are the running statistics
 * input_mean * momentum + batch_mean * (1 - momentum) (likewise var).
 * floats: epsilon, momentum. */
int32_t dlc_kernel_batch_norm_train(const dlc_kparams *p, void *const *inputs, void *const *outputs,
                                    const dlc_kctx *ctx) {
    const dlc_ktensor *x = dlc_kp_in(p, 0);
    int32_t t = x->dtype, ts = dlc_kp_in(p, 1)->dtype, tm = dlc_kp_in(p, 3)->dtype;
    double eps = dlc_kp_floats(p)[0], momentum = dlc_kp_floats(p)[1];
    int64_t N = x->dims[0], C = x->rank > 1 ? x->dims[1] : 1;
    int64_t plane = N * C > 0 ? x->numel / (N * C) : 0, count = N * plane;
    if (!dlc_kdtype_is_float(t)) return DLC_KERR_UNSUPPORTED;
    for (int64_t c = 0; c < C; c++) {
        double sum = 0.0, sum_sq = 0.0;
        for (int64_t n = 0; n < N; n++)
            for (int64_t i = 0; i < plane; i++) {
                double v = dlc_kload_f(inputs[0], t, (n * C + c) * plane + i);
                sum += v;
                sum_sq += v * v;
            }
        double mean = count > 0 ? sum / (double)count : 0.0;
        double var = count > 0 ? sum_sq / (double)count - mean * mean : 0.0;
        double a = dlc_kload_f(inputs[1], ts, c) / sqrt(var + eps), b = dlc_kload_f(inputs[2], ts, c) - mean * a;
        for (int64_t n = 0; n < N; n++)
            for (int64_t i = 0; i < plane; i++) {
                int64_t at = (n * C + c) * plane + i;
                dlc_kstore_f(outputs[0], t, at, dlc_kload_f(inputs[0], t, at) * a + b);
            }
        if (p->num_outputs > 1 && dlc_kp_out(p, 1)->dtype != 0)
            dlc_kstore_f(outputs[1], tm, c, dlc_kload_f(inputs[3], tm, c) * momentum + mean * (1.0 - momentum));
        if (p->num_outputs > 2 && dlc_kp_out(p, 2)->dtype != 0)
            dlc_kstore_f(outputs[2], tm, c, dlc_kload_f(inputs[4], tm, c) * momentum + var * (1.0 - momentum));
    }
    return DLC_KOK;
}

/* ---- instance_norm ------------------------------------------------------------- */

typedef struct in_job {
    int32_t t;
    int64_t C, plane;
    double eps;
    void *const *in;
    void *y;
} in_job;

static void in_planes(void *arg, int64_t begin, int64_t end) {
    const in_job *job = arg;
    int32_t t = job->t;
    for (int64_t pl = begin; pl < end; pl++) {
        int64_t c = pl % job->C, base = pl * job->plane;
        double mean, inv_std;
        row_stats(job->in[0], t, base, job->plane, job->eps, &mean, &inv_std);
        double a = dlc_kload_f(job->in[1], t, c) * inv_std;
        double b = dlc_kload_f(job->in[2], t, c) - mean * a;
        for (int64_t i = 0; i < job->plane; i++)
            dlc_kstore_f(job->y, t, base + i, dlc_kload_f(job->in[0], t, base + i) * a + b);
    }
}

int32_t dlc_kernel_instance_norm(const dlc_kparams *p, void *const *inputs, void *const *outputs,
                                 const dlc_kctx *ctx) {
    const dlc_ktensor *x = dlc_kp_in(p, 0);
    in_job job = {.t = x->dtype, .C = x->dims[1], .eps = dlc_kp_floats(p)[0], .in = inputs, .y = outputs[0]};
    int64_t planes = x->dims[0] * job.C;
    job.plane = planes > 0 ? x->numel / planes : 0;
    if (!dlc_kdtype_is_float(job.t)) return DLC_KERR_UNSUPPORTED;
    dlc_parallel_for(ctx, planes, max64(1, 16384 / max64(1, job.plane)), in_planes, &job);
    return DLC_KOK;
}

/* ---- layer_norm ---------------------------------------------------------------- */

typedef struct ln_job {
    int32_t t;
    int64_t cols;
    double eps;
    const void *x, *scale, *bias;
    const dlc_ktensor *scale_desc, *bias_desc, *x_desc;
    int32_t axis;
    void *y, *mean_out, *inv_std_out;
    int32_t stat_dtype;
} ln_job;

/* Index into a parameter broadcast to X.shape[axis:] for column j. */
static int64_t broadcast_index(const ln_job *job, const dlc_ktensor *param, int64_t j) {
    if (param->numel == job->cols) return j;
    if (param->numel == 1) return 0;
    int64_t index = 0, stride = 1;
    for (int32_t d = job->x_desc->rank - 1, pd = param->rank - 1; d >= job->axis; d--, pd--) {
        int64_t dim = job->x_desc->dims[d];
        int64_t coord = j % dim;
        j /= dim;
        if (pd >= 0 && param->dims[pd] != 1) {
            index += coord * stride;
            stride *= param->dims[pd];
        }
    }
    return index;
}

static void ln_rows(void *arg, int64_t begin, int64_t end) {
    const ln_job *job = arg;
    int32_t t = job->t;
    bool direct = job->scale_desc->numel == job->cols && (job->bias == NULL || job->bias_desc->numel == job->cols);
    for (int64_t r = begin; r < end; r++) {
        int64_t base = r * job->cols;
        double mean, inv_std;
        row_stats(job->x, t, base, job->cols, job->eps, &mean, &inv_std);
        if (direct) {
            for (int64_t j = 0; j < job->cols; j++) {
                double v = (dlc_kload_f(job->x, t, base + j) - mean) * inv_std * dlc_kload_f(job->scale, t, j);
                if (job->bias != NULL) v += dlc_kload_f(job->bias, t, j);
                dlc_kstore_f(job->y, t, base + j, v);
            }
        } else {
            for (int64_t j = 0; j < job->cols; j++) {
                double v = (dlc_kload_f(job->x, t, base + j) - mean) * inv_std *
                           dlc_kload_f(job->scale, t, broadcast_index(job, job->scale_desc, j));
                if (job->bias != NULL) v += dlc_kload_f(job->bias, t, broadcast_index(job, job->bias_desc, j));
                dlc_kstore_f(job->y, t, base + j, v);
            }
        }
        if (job->mean_out != NULL) dlc_kstore_f(job->mean_out, job->stat_dtype, r, mean);
        if (job->inv_std_out != NULL) dlc_kstore_f(job->inv_std_out, job->stat_dtype, r, inv_std);
    }
}

/* float32 rows with Scale and B of exactly cols elements (the transformer
 * case): float statistics in LN_LANES independent lanes (two passes, mean
 * then squared deviations, so no cancellation in the variance) and a fused scale-and-shift
 * loop, all plain float loads that vectorize; no per-element dtype switch. */
#define LN_LANES 16

static float ln_lane_sum(const float *lanes) {
    float s = 0.0f;
    for (int l = 0; l < LN_LANES; l++) s += lanes[l];
    return s;
}

static void ln_rows_fast_f32(void *arg, int64_t begin, int64_t end) {
    const ln_job *job = arg;
    const int64_t n = job->cols;
    const float *scale = job->scale, *bias = job->bias;
    for (int64_t r = begin; r < end; r++) {
        const float *x = (const float *)job->x + r * n;
        float *y = (float *)job->y + r * n;
        /* sums of x - x[0]: a row far from 0 (a large common offset) would
         * otherwise lose the mean's low bits to the float sum's magnitude */
        float shift = n > 0 ? x[0] : 0.0f, part[LN_LANES] = {0};
        int64_t i = 0;
        for (; i + LN_LANES <= n; i += LN_LANES)
            for (int l = 0; l < LN_LANES; l++) part[l] += x[i + l] - shift;
        float sum = ln_lane_sum(part);
        for (int64_t k = i; k < n; k++) sum += x[k] - shift;
        float mean = n > 0 ? shift + sum / (float)n : 0.0f;
        float sq[LN_LANES] = {0};
        for (i = 0; i + LN_LANES <= n; i += LN_LANES)
            for (int l = 0; l < LN_LANES; l++) {
                float d = x[i + l] - mean;
                sq[l] += d * d;
            }
        float ss = ln_lane_sum(sq);
        for (int64_t k = i; k < n; k++) ss += (x[k] - mean) * (x[k] - mean);
        float inv_std = (float)(1.0 / sqrt((n > 0 ? (double)ss / (double)n : 0.0) + job->eps));
        if (bias != NULL)
            for (int64_t k = 0; k < n; k++) y[k] = (x[k] - mean) * inv_std * scale[k] + bias[k];
        else
            for (int64_t k = 0; k < n; k++) y[k] = (x[k] - mean) * inv_std * scale[k];
        if (job->mean_out != NULL) dlc_kstore_f(job->mean_out, job->stat_dtype, r, mean);
        if (job->inv_std_out != NULL) dlc_kstore_f(job->inv_std_out, job->stat_dtype, r, inv_std);
    }
}

int32_t dlc_kernel_layer_norm(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx) {
    const dlc_ktensor *x = dlc_kp_in(p, 0);
    int32_t axis = (int32_t)dlc_kp_ints(p)[0];
    int64_t cols = 1;
    for (int32_t d = axis; d < x->rank; d++) cols *= x->dims[d];
    bool has_bias = p->num_inputs > 2 && dlc_kp_in(p, 2)->dtype != 0;
    ln_job job = {.t = x->dtype, .cols = cols, .eps = dlc_kp_floats(p)[0], .x = inputs[0], .scale = inputs[1],
                  .bias = has_bias ? inputs[2] : NULL, .scale_desc = dlc_kp_in(p, 1),
                  .bias_desc = has_bias ? dlc_kp_in(p, 2) : NULL, .x_desc = x, .axis = axis, .y = outputs[0]};
    if (p->num_outputs > 1 && dlc_kp_out(p, 1)->dtype != 0) {
        job.mean_out = outputs[1];
        job.stat_dtype = dlc_kp_out(p, 1)->dtype;
    }
    if (p->num_outputs > 2 && dlc_kp_out(p, 2)->dtype != 0) {
        job.inv_std_out = outputs[2];
        job.stat_dtype = dlc_kp_out(p, 2)->dtype;
    }
    if (!dlc_kdtype_is_float(job.t)) return DLC_KERR_UNSUPPORTED;
    int64_t rows = cols > 0 ? x->numel / cols : 0;
    bool fast = job.t == DLC_KT_FLOAT32 && job.scale_desc->dtype == DLC_KT_FLOAT32 && job.scale_desc->numel == cols &&
                (!has_bias || (job.bias_desc->dtype == DLC_KT_FLOAT32 && job.bias_desc->numel == cols));
    dlc_parallel_for(ctx, rows, max64(1, 16384 / max64(1, cols)), fast ? ln_rows_fast_f32 : ln_rows, &job);
    return DLC_KOK;
}

/* ---- lrn ------------------------------------------------------------------------
 * y = x / (bias + alpha / size * sum of x^2 over channels
 *          [c - floor((size-1)/2), c + ceil((size-1)/2)])^beta */

typedef struct lrn_job {
    int32_t t;
    int64_t C, plane, size;
    double alpha, beta, bias;
    const void *x;
    void *y;
} lrn_job;

static void lrn_planes(void *arg, int64_t begin, int64_t end) {
    const lrn_job *job = arg;
    int32_t t = job->t;
    int64_t before = (job->size - 1) / 2, after = job->size - 1 - before;
    for (int64_t pl = begin; pl < end; pl++) {
        int64_t n = pl / job->C, c = pl % job->C;
        int64_t c0 = c - before < 0 ? 0 : c - before, c1 = c + after >= job->C ? job->C - 1 : c + after;
        for (int64_t i = 0; i < job->plane; i++) {
            double sum = 0.0;
            for (int64_t cc = c0; cc <= c1; cc++) {
                double v = dlc_kload_f(job->x, t, (n * job->C + cc) * job->plane + i);
                sum += v * v;
            }
            double denom = pow(job->bias + job->alpha / (double)job->size * sum, job->beta);
            int64_t k = pl * job->plane + i;
            dlc_kstore_f(job->y, t, k, dlc_kload_f(job->x, t, k) / denom);
        }
    }
}

int32_t dlc_kernel_lrn(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx) {
    const dlc_ktensor *x = dlc_kp_in(p, 0);
    const double *f = dlc_kp_floats(p);
    lrn_job job = {.t = x->dtype, .C = x->dims[1], .size = dlc_kp_ints(p)[0], .alpha = f[0], .beta = f[1],
                   .bias = f[2], .x = inputs[0], .y = outputs[0]};
    int64_t planes = x->dims[0] * job.C;
    job.plane = planes > 0 ? x->numel / planes : 0;
    if (!dlc_kdtype_is_float(job.t)) return DLC_KERR_UNSUPPORTED;
    dlc_parallel_for(ctx, planes, max64(1, 8192 / max64(1, job.plane * job.size)), lrn_planes, &job);
    return DLC_KOK;
}

#ifndef DLC_KERNEL_BITCODE
#include "kernels/kernel_registry.h"
const dlc_kernel_entry dlc_kernels_norm[] = {
    {"batch_norm", dlc_kernel_batch_norm, NULL},
    {"batch_norm_train", dlc_kernel_batch_norm_train, NULL},
    {"instance_norm", dlc_kernel_instance_norm, NULL},
    {"layer_norm", dlc_kernel_layer_norm, NULL},
    {"lrn", dlc_kernel_lrn, NULL},
    {NULL, NULL, NULL},
};
#endif
