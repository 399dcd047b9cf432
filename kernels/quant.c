/* Quantization kernels (uint8/int8 with float scales, ONNX semantics).
 *
 * quantize_linear:   inputs x, y_scale, [y_zero_point]; output y.
 *                    ints [axis of the per-axis scale, -1 per-tensor].
 *                    y = saturate(round_half_even(x / scale) + zero_point).
 * dequantize_linear: inputs x, x_scale, [x_zero_point]; output y (scale's
 *                    dtype). ints [axis, -1 per-tensor]. y = (x - zp) * scale.
 * dynamic_quantize_linear: input x (float32); outputs y (uint8), y_scale,
 *                    y_zero_point (scalars), by the formula of the ONNX spec
 *                    over the range [min(0, min x), max(0, max x)].
 * matmul_integer:    ints [mode]. mode 0 (MatMulInteger): inputs A, B,
 *                    [a_zero_point], [b_zero_point]; output int32. mode 1
 *                    (QLinearMatMul): inputs a, a_scale, a_zp, b, b_scale,
 *                    b_zp, y_scale, y_zp; output y_zp's dtype. numpy matmul
 *                    broadcasting; A's zero point/scale per tensor or per row
 *                    (M values, or batch x M), B's per tensor or per column.
 * conv_integer:      ints [mode, group, stride[3], dilation[3], pad_begin[3]]
 *                    (spatial dims front-padded to 3). mode 0 (ConvInteger):
 *                    inputs x, w, [x_zp], [w_zp]; output int32. mode 1
 *                    (QLinearConv): inputs x, x_scale, x_zp, w, w_scale, w_zp,
 *                    y_scale, y_zp, [B int32]. w's zero point and scale per
 *                    tensor or per output channel. Padding reads as the zero
 *                    point, i.e. contributes nothing.
 *
 * Requantization (mode 1) is MLAS's: round_half_even(acc * (sa * sb / sy)) +
 * zero point, in float32, saturated. The integer products widen the inputs
 * (minus zero points) into int32 copies in the workspace so the inner loops
 * are plain int32 dot products. */
#include <math.h>
#include <stdbool.h>

#include "kernels/kvalue.h"

enum { MODE_PLAIN = 0, MODE_QLINEAR = 1 };

static int64_t load_int(const void *data, int32_t dtype, int64_t i) { return (int64_t)dlc_kload_u(data, dtype, i); }

static const dlc_ktensor *opt_in(const dlc_kparams *p, int i) {
    return i < p->num_inputs && dlc_kp_in(p, i)->dtype != 0 ? dlc_kp_in(p, i) : NULL;
}

/* Saturating store of a rounded float to uint8/int8. */
static void store_quant(void *y, int32_t dtype, int64_t i, float rounded_plus_zp) {
    float lo = dtype == DLC_KT_INT8 ? -128.0f : 0.0f, hi = dtype == DLC_KT_INT8 ? 127.0f : 255.0f;
    float v = rounded_plus_zp;
    if (!(v == v)) v = 0.0f;
    v = v < lo ? lo : v > hi ? hi : v;
    if (dtype == DLC_KT_INT8) ((int8_t *)y)[i] = (int8_t)v;
    else ((uint8_t *)y)[i] = (uint8_t)v;
}

/* Channel of element i along axis (-1: 0) of tensor t. */
static int64_t channel_of(const dlc_ktensor *t, int32_t axis, int64_t i) {
    if (axis < 0) return 0;
    int64_t inner = 1;
    for (int32_t d = axis + 1; d < t->rank; d++) inner *= t->dims[d];
    return (i / inner) % t->dims[axis];
}

/* ---- QuantizeLinear / DequantizeLinear ------------------------------------------------ */

int32_t dlc_kernel_quantize_linear(const dlc_kparams *p, void *const *inputs, void *const *outputs,
                                   const dlc_kctx *ctx) {
    (void)ctx;
    const dlc_ktensor *x = dlc_kp_in(p, 0), *s = dlc_kp_in(p, 1), *zp = opt_in(p, 2), *y = dlc_kp_out(p, 0);
    int32_t axis = (int32_t)dlc_kp_ints(p)[0];
    if (axis >= x->rank) return DLC_KERR_BAD_VALUE;
    for (int64_t i = 0; i < x->numel; i++) {
        int64_t c = channel_of(x, axis, i);
        float scale = (float)dlc_kload_f(inputs[1], s->dtype, c);
        float z = zp != NULL ? (float)load_int(inputs[2], zp->dtype, c) : 0.0f;
        float q;
        if (x->dtype == DLC_KT_INT32) /* numpy divides int32 by float32 in double */
            q = (float)rint((double)((const int32_t *)inputs[0])[i] / (double)scale);
        else
            q = rintf((float)dlc_kload_f(inputs[0], x->dtype, i) / scale);
        store_quant(outputs[0], y->dtype, i, q + z);
    }
    return DLC_KOK;
}

int32_t dlc_kernel_dequantize_linear(const dlc_kparams *p, void *const *inputs, void *const *outputs,
                                     const dlc_kctx *ctx) {
    (void)ctx;
    const dlc_ktensor *x = dlc_kp_in(p, 0), *s = dlc_kp_in(p, 1), *zp = opt_in(p, 2), *y = dlc_kp_out(p, 0);
    int32_t axis = (int32_t)dlc_kp_ints(p)[0];
    if (axis >= x->rank) return DLC_KERR_BAD_VALUE;
    for (int64_t i = 0; i < x->numel; i++) {
        int64_t c = channel_of(x, axis, i);
        int64_t z = zp != NULL ? load_int(inputs[2], zp->dtype, c) : 0;
        float scale = (float)dlc_kload_f(inputs[1], s->dtype, c);
        dlc_kstore_f(outputs[0], y->dtype, i, (float)(load_int(inputs[0], x->dtype, i) - z) * scale);
    }
    return DLC_KOK;
}

/* ---- DynamicQuantizeLinear --------------------------------------------------------------- */

int32_t dlc_kernel_dynamic_quantize_linear(const dlc_kparams *p, void *const *inputs, void *const *outputs,
                                           const dlc_kctx *ctx) {
    (void)ctx;
    const dlc_ktensor *x = dlc_kp_in(p, 0);
    const float *xv = inputs[0];
    float lo = 0.0f, hi = 0.0f; /* the range always includes 0 */
    for (int64_t i = 0; i < x->numel; i++) {
        lo = xv[i] < lo ? xv[i] : lo;
        hi = xv[i] > hi ? xv[i] : hi;
    }
    float scale = (hi - lo) / 255.0f;
    float zp = 0.0f;
    if (scale > 0.0f) {
        zp = rintf(0.0f - lo / scale);
        zp = zp < 0.0f ? 0.0f : zp > 255.0f ? 255.0f : zp;
    }
    uint8_t *y = outputs[0];
    for (int64_t i = 0; i < x->numel; i++) {
        if (scale > 0.0f) store_quant(y, DLC_KT_UINT8, i, rintf(xv[i] / scale) + zp);
        else y[i] = 0; /* all zeros: nothing to scale */
    }
    if (p->num_outputs > 1 && outputs[1] != NULL) *(float *)outputs[1] = scale;
    if (p->num_outputs > 2 && outputs[2] != NULL) *(uint8_t *)outputs[2] = (uint8_t)zp;
    return DLC_KOK;
}

/* ---- MatMulInteger / QLinearMatMul --------------------------------------------------------- */

typedef struct mm_roles {
    int a, b, a_zp, b_zp, a_scale, b_scale, y_scale, y_zp;
} mm_roles;

static mm_roles mm_roles_of(int64_t mode) {
    if (mode == MODE_QLINEAR) return (mm_roles){0, 3, 2, 5, 1, 4, 6, 7};
    return (mm_roles){0, 1, 2, 3, -1, -1, -1, -1};
}

typedef struct mm_geom {
    int64_t M, K, N, batches, a_batches, b_batches;
    int32_t out_batch_rank;
    int64_t out_batch[DLC_KMAX_RANK], a_stride[DLC_KMAX_RANK], b_stride[DLC_KMAX_RANK]; /* in matrices */
} mm_geom;

static bool mm_geometry(const dlc_kparams *p, mm_geom *g) {
    mm_roles r = mm_roles_of(dlc_kp_ints(p)[0]);
    if (p->num_inputs <= r.b) return false;
    const dlc_ktensor *a = dlc_kp_in(p, r.a), *b = dlc_kp_in(p, r.b), *y = dlc_kp_out(p, 0);
    int32_t ra = a->rank, rb = b->rank;
    if (ra < 1 || rb < 1) return false;
    g->K = a->dims[ra - 1];
    g->M = ra >= 2 ? a->dims[ra - 2] : 1;
    g->N = rb >= 2 ? b->dims[rb - 1] : 1;
    if ((rb >= 2 ? b->dims[rb - 2] : b->dims[0]) != g->K) return false;
    g->out_batch_rank = y->rank - (ra > 1) - (rb > 1);
    int32_t bra = ra > 2 ? ra - 2 : 0, brb = rb > 2 ? rb - 2 : 0;
    if (g->out_batch_rank < bra || g->out_batch_rank < brb) return false;
    g->batches = 1;
    int64_t sa = 1, sb = 1;
    for (int32_t d = g->out_batch_rank - 1; d >= 0; d--) {
        g->out_batch[d] = y->dims[d];
        g->batches *= y->dims[d];
        int32_t da = d - (g->out_batch_rank - bra), db = d - (g->out_batch_rank - brb);
        int64_t ea = da >= 0 ? a->dims[da] : 1, eb = db >= 0 ? b->dims[db] : 1;
        g->a_stride[d] = ea == 1 ? 0 : sa;
        g->b_stride[d] = eb == 1 ? 0 : sb;
        sa *= ea;
        sb *= eb;
    }
    g->a_batches = sa;
    g->b_batches = sb;
    return true;
}

static int64_t mm_workspace_ints(const dlc_kparams *p) {
    mm_geom g;
    if (!mm_geometry(p, &g)) return 0;
    return g.a_batches * g.M * g.K + g.b_batches * g.N * g.K;
}

int64_t dlc_kernel_matmul_integer_workspace(const dlc_kparams *p) {
    return mm_workspace_ints(p) * (int64_t)sizeof(int32_t) + 64;
}

/* Per-tensor or per-row/column parameter at row/column index `at`. */
static int64_t param_index(const dlc_ktensor *t, int64_t at) { return t->numel <= 1 ? 0 : at % t->numel; }

typedef struct mm_job {
    const mm_geom *g;
    const int32_t *a, *b; /* [a_batches*M, K], [b_batches*N, K] (B transposed) */
    int64_t mode;
    const dlc_kparams *p;
    void *const *in;
    void *y;
    mm_roles r;
} mm_job;

static void mm_rows(void *arg, int64_t begin, int64_t end) {
    const mm_job *job = arg;
    const mm_geom *g = job->g;
    const dlc_kparams *p = job->p;
    int32_t y_dtype = dlc_kp_out(p, 0)->dtype;
    for (int64_t row = begin; row < end; row++) { /* row over batches * M */
        int64_t batch = row / g->M, m = row % g->M;
        int64_t ab = 0, bb = 0, rest = batch;
        for (int32_t d = g->out_batch_rank - 1; d >= 0; d--) {
            int64_t idx = rest % g->out_batch[d];
            rest /= g->out_batch[d];
            ab += idx * g->a_stride[d];
            bb += idx * g->b_stride[d];
        }
        const int32_t *arow = job->a + (ab * g->M + m) * g->K;
        for (int64_t n = 0; n < g->N; n++) {
            const int32_t *bcol = job->b + (bb * g->N + n) * g->K;
            int32_t acc = 0;
            for (int64_t k = 0; k < g->K; k++) acc += arow[k] * bcol[k];
            int64_t out = row * g->N + n;
            if (job->mode == MODE_PLAIN) {
                ((int32_t *)job->y)[out] = acc;
                continue;
            }
            const dlc_ktensor *as = dlc_kp_in(p, job->r.a_scale), *bs = dlc_kp_in(p, job->r.b_scale);
            const dlc_ktensor *ys = dlc_kp_in(p, job->r.y_scale), *yz = dlc_kp_in(p, job->r.y_zp);
            float sa = (float)dlc_kload_f(job->in[job->r.a_scale], as->dtype, param_index(as, ab * g->M + m));
            float sb = (float)dlc_kload_f(job->in[job->r.b_scale], bs->dtype, param_index(bs, bb * g->N + n));
            float sy = (float)dlc_kload_f(job->in[job->r.y_scale], ys->dtype, 0);
            float z = (float)load_int(job->in[job->r.y_zp], yz->dtype, 0);
            store_quant(job->y, y_dtype, out, rintf((float)acc * (sa * sb / sy)) + z);
        }
    }
}

int32_t dlc_kernel_matmul_integer(const dlc_kparams *p, void *const *inputs, void *const *outputs,
                                  const dlc_kctx *ctx) {
    mm_geom g;
    if (!mm_geometry(p, &g)) return DLC_KERR_BAD_VALUE;
    int64_t mode = dlc_kp_ints(p)[0];
    mm_roles r = mm_roles_of(mode);
    if (ctx->workspace_size < mm_workspace_ints(p) * (int64_t)sizeof(int32_t)) return DLC_KERR_BAD_VALUE;
    int32_t *a = ctx->workspace, *b = a + g.a_batches * g.M * g.K;
    const dlc_ktensor *at = dlc_kp_in(p, r.a), *bt = dlc_kp_in(p, r.b);
    const dlc_ktensor *az = opt_in(p, r.a_zp), *bz = opt_in(p, r.b_zp);
    for (int64_t e = 0; e < at->numel; e++) {
        int64_t z = az != NULL ? load_int(inputs[r.a_zp], az->dtype, param_index(az, e / g.K)) : 0;
        a[e] = (int32_t)(load_int(inputs[r.a], at->dtype, e) - z);
    }
    /* B [bb, K, N] -> [bb, N, K] */
    for (int64_t e = 0; e < bt->numel; e++) {
        int64_t bb = e / (g.K * g.N), k = e / g.N % g.K, n = e % g.N;
        int64_t z = bz != NULL ? load_int(inputs[r.b_zp], bz->dtype, param_index(bz, bb * g.N + n)) : 0;
        b[(bb * g.N + n) * g.K + k] = (int32_t)(load_int(inputs[r.b], bt->dtype, e) - z);
    }
    mm_job job = {.g = &g, .a = a, .b = b, .mode = mode, .p = p, .in = inputs, .y = outputs[0], .r = r};
    int64_t per_row = g.N * g.K > 0 ? g.N * g.K : 1;
    dlc_parallel_for(ctx, g.batches * g.M, 65536 / per_row + 1, mm_rows, &job);
    return DLC_KOK;
}

/* ---- ConvInteger / QLinearConv ----------------------------------------------------------------- */

typedef struct conv_roles {
    int x, w, x_zp, w_zp, x_scale, w_scale, y_scale, y_zp, bias;
} conv_roles;

static conv_roles conv_roles_of(int64_t mode) {
    if (mode == MODE_QLINEAR) return (conv_roles){0, 3, 2, 5, 1, 4, 6, 7, 8};
    return (conv_roles){0, 1, 2, 3, -1, -1, -1, -1, -1};
}

typedef struct qconv_geom {
    int64_t N, C, M, group, Cg, Mg;
    int64_t in[3], out[3], kernel[3], stride[3], dil[3], pad[3];
    int64_t in_plane, out_plane, kvol;
} qconv_geom;

static bool qconv_geometry(const dlc_kparams *p, qconv_geom *g) {
    const int64_t *ints = dlc_kp_ints(p);
    conv_roles r = conv_roles_of(ints[0]);
    if (p->num_ints < 11 || p->num_inputs <= r.w) return false;
    const dlc_ktensor *x = dlc_kp_in(p, r.x), *w = dlc_kp_in(p, r.w), *y = dlc_kp_out(p, 0);
    int32_t nsp = x->rank - 2;
    if (nsp < 1 || nsp > 3 || w->rank != x->rank || y->rank != x->rank) return false;
    g->N = x->dims[0];
    g->C = x->dims[1];
    g->M = y->dims[1];
    g->group = ints[1];
    if (g->group < 1) return false;
    g->Cg = g->C / g->group;
    g->Mg = g->M / g->group;
    g->in_plane = g->out_plane = g->kvol = 1;
    for (int i = 0; i < 3; i++) {
        int32_t d = i - (3 - nsp);
        g->in[i] = d >= 0 ? x->dims[2 + d] : 1;
        g->out[i] = d >= 0 ? y->dims[2 + d] : 1;
        g->kernel[i] = d >= 0 ? w->dims[2 + d] : 1;
        g->stride[i] = ints[2 + i];
        g->dil[i] = ints[5 + i];
        g->pad[i] = ints[8 + i];
        g->in_plane *= g->in[i];
        g->out_plane *= g->out[i];
        g->kvol *= g->kernel[i];
    }
    return w->dims[1] == g->Cg && g->Cg * g->group == g->C;
}

int64_t dlc_kernel_conv_integer_workspace(const dlc_kparams *p) {
    conv_roles r = conv_roles_of(dlc_kp_ints(p)[0]);
    if (p->num_inputs <= r.w) return 0;
    return (dlc_kp_in(p, r.x)->numel + dlc_kp_in(p, r.w)->numel) * (int64_t)sizeof(int32_t) + 64;
}

typedef struct qconv_job {
    const qconv_geom *g;
    const int32_t *x, *w;
    const dlc_kparams *p;
    void *const *in;
    void *y;
    conv_roles r;
    int64_t mode;
} qconv_job;

static void qconv_planes(void *arg, int64_t begin, int64_t end) {
    const qconv_job *job = arg;
    const qconv_geom *g = job->g;
    const dlc_kparams *p = job->p;
    conv_roles r = job->r;
    for (int64_t plane = begin; plane < end; plane++) { /* over N * M */
        int64_t n = plane / g->M, oc = plane % g->M, grp = oc / g->Mg;
        const int32_t *wk = job->w + oc * g->Cg * g->kvol;
        const int32_t *xg = job->x + (n * g->C + grp * g->Cg) * g->in_plane;
        int32_t bias = 0;
        float mult = 0.0f, zp = 0.0f;
        int32_t y_dtype = dlc_kp_out(p, 0)->dtype;
        if (job->mode == MODE_QLINEAR) {
            const dlc_ktensor *xs = dlc_kp_in(p, r.x_scale), *ws = dlc_kp_in(p, r.w_scale);
            const dlc_ktensor *ys = dlc_kp_in(p, r.y_scale), *yz = dlc_kp_in(p, r.y_zp), *b = opt_in(p, r.bias);
            float sx = (float)dlc_kload_f(job->in[r.x_scale], xs->dtype, 0);
            float sw = (float)dlc_kload_f(job->in[r.w_scale], ws->dtype, param_index(ws, oc));
            float sy = (float)dlc_kload_f(job->in[r.y_scale], ys->dtype, 0);
            mult = sx * sw / sy;
            zp = (float)load_int(job->in[r.y_zp], yz->dtype, 0);
            if (b != NULL) bias = ((const int32_t *)job->in[r.bias])[oc];
        }
        for (int64_t oz = 0; oz < g->out[0]; oz++)
            for (int64_t oy = 0; oy < g->out[1]; oy++)
                for (int64_t ox = 0; ox < g->out[2]; ox++) {
                    int32_t acc = bias;
                    for (int64_t c = 0; c < g->Cg; c++) {
                        const int32_t *xc = xg + c * g->in_plane, *wc = wk + c * g->kvol;
                        for (int64_t kz = 0; kz < g->kernel[0]; kz++) {
                            int64_t iz = oz * g->stride[0] - g->pad[0] + kz * g->dil[0];
                            if (iz < 0 || iz >= g->in[0]) continue;
                            for (int64_t ky = 0; ky < g->kernel[1]; ky++) {
                                int64_t iy = oy * g->stride[1] - g->pad[1] + ky * g->dil[1];
                                if (iy < 0 || iy >= g->in[1]) continue;
                                const int32_t *xrow = xc + (iz * g->in[1] + iy) * g->in[2];
                                const int32_t *wrow = wc + (kz * g->kernel[1] + ky) * g->kernel[2];
                                for (int64_t kx = 0; kx < g->kernel[2]; kx++) {
                                    int64_t ix = ox * g->stride[2] - g->pad[2] + kx * g->dil[2];
                                    if (ix >= 0 && ix < g->in[2]) acc += xrow[ix] * wrow[kx];
                                }
                            }
                        }
                    }
                    int64_t out = plane * g->out_plane + (oz * g->out[1] + oy) * g->out[2] + ox;
                    if (job->mode == MODE_PLAIN) ((int32_t *)job->y)[out] = acc;
                    else store_quant(job->y, y_dtype, out, rintf((float)acc * mult) + zp);
                }
    }
}

int32_t dlc_kernel_conv_integer(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx) {
    qconv_geom g;
    if (!qconv_geometry(p, &g)) return DLC_KERR_BAD_VALUE;
    int64_t mode = dlc_kp_ints(p)[0];
    conv_roles r = conv_roles_of(mode);
    const dlc_ktensor *xt = dlc_kp_in(p, r.x), *wt = dlc_kp_in(p, r.w);
    if (ctx->workspace_size < (xt->numel + wt->numel) * (int64_t)sizeof(int32_t)) return DLC_KERR_BAD_VALUE;
    int32_t *x = ctx->workspace, *w = x + xt->numel;
    const dlc_ktensor *xz = opt_in(p, r.x_zp), *wz = opt_in(p, r.w_zp);
    int64_t x_zero = xz != NULL ? load_int(inputs[r.x_zp], xz->dtype, 0) : 0;
    for (int64_t e = 0; e < xt->numel; e++) x[e] = (int32_t)(load_int(inputs[r.x], xt->dtype, e) - x_zero);
    int64_t per_oc = g.Cg * g.kvol;
    for (int64_t e = 0; e < wt->numel; e++) {
        int64_t z = wz != NULL ? load_int(inputs[r.w_zp], wz->dtype, param_index(wz, e / per_oc)) : 0;
        w[e] = (int32_t)(load_int(inputs[r.w], wt->dtype, e) - z);
    }
    qconv_job job = {.g = &g, .x = x, .w = w, .p = p, .in = inputs, .y = outputs[0], .r = r, .mode = mode};
    int64_t work = g.out_plane * per_oc > 0 ? g.out_plane * per_oc : 1;
    dlc_parallel_for(ctx, g.N * g.M, 65536 / work + 1, qconv_planes, &job);
    return DLC_KOK;
}

#ifndef DLC_KERNEL_BITCODE
#include "kernels/kernel_registry.h"
const dlc_kernel_entry dlc_kernels_quant[] = {
    {"quantize_linear", dlc_kernel_quantize_linear, NULL},
    {"dequantize_linear", dlc_kernel_dequantize_linear, NULL},
    {"dynamic_quantize_linear", dlc_kernel_dynamic_quantize_linear, NULL},
    {"matmul_integer", dlc_kernel_matmul_integer, dlc_kernel_matmul_integer_workspace},
    {"conv_integer", dlc_kernel_conv_integer, dlc_kernel_conv_integer_workspace},
    {NULL, NULL, NULL},
};
#endif
