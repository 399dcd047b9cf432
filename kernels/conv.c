/* Conv and ConvTranspose kernels, 1-D to 3-D (lower ranks use leading unit
 * dims, so one 3-D loop nest serves all).
 *
 * conv:           inputs X[N,C,*in], W[M,C/group,*k], [B[M]]; output Y[N,M,*out].
 * conv_transpose: inputs X[N,C,*in], W[C,M/group,*k], [B[M]]; output Y[N,M,*out].
 * ints (both): [group, stride[3], dilation[3], pad_begin[3]], spatial dims
 * front-padded to 3 (stride 1, dilation 1, pad 0 on the unit dims). Output
 * sizes come from Y's shape, so auto_pad, output_padding and output_shape
 * are resolved at lowering.
 *
 * float32: with W as given, Conv is a GEMM per (image, group), W as A and
 * the input as an implicit im2col B (gemm.h), a plain view of X for 1x1
 * stride-1 unpadded kernels; depthwise convolutions (one input channel per
 * group) run a direct loop that vectorizes along output rows (3x3 and 5x5
 * ones at dilation and stride 1 or 2: blocks of rows from zero-padded row
 * buffers). A W packed at compile time (12th and 13th ints: layout and
 * block width, conv.h) runs the direct blocked loop or the pixel-major GEMM
 * instead. ConvTranspose is a GEMM (W^T x X into columns) followed by a
 * col2im scatter-add.
 * Other float dtypes: direct loops accumulating in double.
 *
 * conv, float32, fused epilogue (passes/fuse_epilogue.c): input 3, when
 * present, is a residual of Y's shape, and an 11th int (then floats [a, b])
 * an activation (kernels/epilogue.h), applied with the bias to each GEMM
 * block as it completes (per output row for depthwise convolutions; the 3x3
 * and 5x5 path applies Relu and Clip in registers, others per block of rows). */
#include <stdbool.h>

#include "kernels/conv.h"
#include "kernels/gemm.h"
#include "kernels/kvalue.h"

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

typedef struct conv_geom {
    int64_t N, C, M, group, Cg, Mg;
    int64_t in[3], out[3], kernel[3], stride[3], dil[3], pad[3];
    int64_t in_plane, out_plane, kvol;
    bool has_bias;
    dlc_epilogue ep; /* residual and activation (bias and pointers set per GEMM) */
    int32_t w_layout;  /* dlc_conv_weight_layout: how W is stored (conv.h) */
    int64_t packed_nr; /* the panel or block width of a packed W */
    bool x_blocked;    /* X in NCHW16c (conv.h: DLC_CONV_BLOCKED_X) */
    bool y_blocked;    /* Y and the residual in NCHW16c */
} conv_geom;

static conv_geom conv_geometry(const dlc_kparams *p, bool transpose) {
    const dlc_ktensor *x = dlc_kp_in(p, 0), *w = dlc_kp_in(p, 1), *y = dlc_kp_out(p, 0);
    const int64_t *ints = dlc_kp_ints(p);
    conv_geom g;
    int32_t nsp = x->rank - 2;
    g.N = x->dims[0];
    g.C = x->dims[1];
    g.M = y->dims[1];
    g.group = ints[0];
    g.Cg = g.C / g.group;
    g.Mg = g.M / g.group;
    g.in_plane = g.out_plane = g.kvol = 1;
    for (int i = 0; i < 3; i++) {
        int32_t d = i - (3 - nsp); /* index into the spatial dims, < 0 for padding dims */
        g.in[i] = d >= 0 ? x->dims[2 + d] : 1;
        g.out[i] = d >= 0 ? y->dims[2 + d] : 1;
        g.kernel[i] = d >= 0 ? w->dims[2 + d] : 1;
        g.stride[i] = ints[1 + i];
        g.dil[i] = ints[4 + i];
        g.pad[i] = ints[7 + i];
        g.in_plane *= g.in[i];
        g.out_plane *= g.out[i];
        g.kvol *= g.kernel[i];
    }
    (void)transpose;
    g.has_bias = p->num_inputs > 2 && dlc_kp_in(p, 2)->dtype != 0;
    g.ep = (dlc_epilogue){.residual_ld = g.out_plane};
    dlc_epilogue_read(p, 10, 0, &g.ep);
    g.w_layout = !transpose && p->num_ints > 12 ? (int32_t)ints[11] : DLC_CONV_W_PLAIN;
    g.packed_nr = g.w_layout != DLC_CONV_W_PLAIN ? ints[12] : 0;
    int64_t blocked = !transpose && p->num_ints > 13 ? ints[13] : 0;
    g.x_blocked = (blocked & DLC_CONV_BLOCKED_X) != 0;
    g.y_blocked = (blocked & DLC_CONV_BLOCKED_Y) != 0;
    return g;
}

/* Floats per pixel of one plane of X: a channel's in NCHW, 16 channels' in
 * NCHW16c (whose planes are the 16-channel blocks). */
static int64_t x_pixel_floats(const conv_geom *g) { return g->x_blocked ? 16 : 1; }

static bool conv_is_pointwise(const conv_geom *g) {
    for (int i = 0; i < 3; i++)
        if (g->kernel[i] != 1 || g->stride[i] != 1 || g->pad[i] != 0 || g->in[i] != g->out[i]) return false;
    return true;
}

static bool conv_is_depthwise(const conv_geom *g) { return g->Cg == 1 && g->group > 1; }

/* ---- conv, float32, GEMM path -------------------------------------------------- */

/* Spatial dims of the zero-padded copy of the input the GEMM path reads: the
 * leading pads plus whatever the last window reaches past the end. The
 * im2col packing then needs no bounds checks (gemm.c). */
static void conv_padded_dims(const conv_geom *g, int64_t dims[3]) {
    for (int i = 0; i < 3; i++) {
        int64_t reach = (g->out[i] - 1) * g->stride[i] + (g->kernel[i] - 1) * g->dil[i] + 1;
        dims[i] = max64(g->in[i] + g->pad[i], reach);
    }
}

static bool conv_needs_padding(const conv_geom *g) {
    int64_t dims[3];
    conv_padded_dims(g, dims);
    for (int i = 0; i < 3; i++)
        if (g->pad[i] != 0 || dims[i] != g->in[i]) return true;
    return false;
}

/* Bytes of the padded copy of all N images (0 when the input is read as is). */
static int64_t conv_padded_bytes(const conv_geom *g) {
    if (conv_is_pointwise(g) || !conv_needs_padding(g)) return 0;
    int64_t dims[3];
    conv_padded_dims(g, dims);
    return (g->N * g->C * dims[0] * dims[1] * dims[2] * 4 + 63) / 64 * 64;
}

typedef struct pad_job {
    const conv_geom *g;
    const float *x;
    float *dst;
    int64_t d[3]; /* padded D, H, W */
    int64_t unit; /* floats per pixel of one plane: 1, or 16 for NCHW16c (a plane per block) */
} pad_job;

/* One padded row of `width` floats: `left` zeros, `inside` floats of src,
 * zeros to the end; all zeros when src is NULL (a row outside the input). */
static void write_padded_row(float *dst, const float *src, int64_t left, int64_t inside, int64_t width) {
    if (src == NULL) {
        memset(dst, 0, (size_t)width * 4);
        return;
    }
    memset(dst, 0, (size_t)left * 4);
    memcpy(dst + left, src, (size_t)inside * 4);
    memset(dst + left + inside, 0, (size_t)(width - left - inside) * 4);
}

/* Padded planes begin..end: every padded row written once, zeros around the
 * copied input row (a memset of the whole buffer first wrote it twice). */
static void pad_planes(void *arg, int64_t begin, int64_t end) {
    const pad_job *job = arg;
    const conv_geom *g = job->g;
    const int64_t D = job->d[0], H = job->d[1], W = job->d[2], IW = g->in[2], u = job->unit;
    for (int64_t nc = begin; nc < end; nc++)
        for (int64_t z = 0; z < D; z++)
            for (int64_t y = 0; y < H; y++) {
                int64_t iz = z - g->pad[0], iy = y - g->pad[1];
                bool inside = iz >= 0 && iz < g->in[0] && iy >= 0 && iy < g->in[1];
                write_padded_row(job->dst + ((nc * D + z) * H + y) * W * u,
                                 inside ? job->x + ((nc * g->in[0] + iz) * g->in[1] + iy) * IW * u : NULL,
                                 g->pad[2] * u, IW * u, W * u);
            }
}

/* Split over planes: on one thread the copy left the second idle (~3% of a
 * ResNet-18 layer-1 conv at 2 threads). Chunks of 8K floats: at 16K the
 * 8x8 and 4x4 maps of resnet18_cifar (100 and 74 KiB padded) were copied
 * by one thread. */
static void conv_pad_input(const conv_geom *g, const float *x, float *dst, const dlc_kctx *ctx) {
    pad_job job = {.g = g, .x = x, .dst = dst, .unit = x_pixel_floats(g)};
    conv_padded_dims(g, job.d);
    int64_t plane = job.d[0] * job.d[1] * job.d[2] * job.unit;
    dlc_parallel_for(ctx, g->N * g->C / job.unit, max64(1, 8192 / max64(1, plane)), pad_planes, &job);
}

typedef struct conv_job {
    const conv_geom *g;
    const float *x, *w, *b;
    const float *residual; /* fused residual of Y's shape, or NULL */
    const float *xpad; /* the padded input, or NULL */
    int64_t xpad_dims[3];
    float *y;
    const dlc_kctx *ctx;
    char *workspace;
    int64_t slot_bytes, slots;
} conv_job;

/* Image n, group gi of the input as the GEMM's im2col view: the padded copy
 * when the conv made one (then no bounds to check), else X itself. */
static dlc_im2col conv_im2col_view(const conv_job *job, int64_t n, int64_t gi) {
    const conv_geom *g = job->g;
    dlc_im2col view = {.x = job->x + (n * g->C + gi * g->Cg) * g->in_plane, .channels = g->Cg};
    if (job->xpad != NULL) {
        int64_t plane = job->xpad_dims[0] * job->xpad_dims[1] * job->xpad_dims[2];
        view.x = job->xpad + (n * g->C + gi * g->Cg) * plane;
    }
    for (int i = 0; i < 3; i++) {
        view.in[i] = job->xpad != NULL ? job->xpad_dims[i] : g->in[i];
        view.kernel[i] = g->kernel[i];
        view.out[i] = g->out[i];
        view.stride[i] = g->stride[i];
        view.dilation[i] = g->dil[i];
        view.pad[i] = job->xpad != NULL ? 0 : g->pad[i];
    }
    return view;
}

/* Y[n, group gi] = act(W[group gi] x im2col(X[n, group gi]) + bias + residual), the bias, residual and
 * activation added to each GEMM block as it completes (gemm.h). */
static void conv_gemm_one(const conv_job *job, int64_t n, int64_t gi, bool threaded, void *ws, int64_t ws_size) {
    const conv_geom *g = job->g;
    int64_t K = g->Cg * g->kvol;
    const float *x = job->x + (n * g->C + gi * g->Cg) * g->in_plane;
    float *y = job->y + (n * g->M + gi * g->Mg) * g->out_plane;
    dlc_gemm_operand a = {job->w + gi * g->Mg * K, K, 1, NULL, 0, 0};
    dlc_im2col view;
    dlc_gemm_operand b = {x, g->in_plane, 1, NULL, 0, 0};
    if (!conv_is_pointwise(g)) {
        view = conv_im2col_view(job, n, gi);
        b.im2col = &view;
    }
    dlc_epilogue ep = g->ep; /* rows are this group's output channels */
    if (g->has_bias) ep.bias = job->b + gi * g->Mg, ep.bias_rs = 1, ep.bias_cs = 0;
    if (job->residual != NULL) ep.residual = job->residual + (y - job->y);
    if (threaded) dlc_sgemm_ep(job->ctx, g->Mg, g->out_plane, K, 1.0f, &a, &b, 0.0f, y, g->out_plane, ws, ws_size, &ep);
    else dlc_sgemm_single_ep(g->Mg, g->out_plane, K, 1.0f, &a, &b, 0.0f, y, g->out_plane, ws, &ep);
}

static void conv_gemm_slots(void *arg, int64_t begin, int64_t end) {
    const conv_job *job = arg;
    int64_t items = job->g->N * job->g->group;
    for (int64_t slot = begin; slot < end; slot++)
        for (int64_t it = items * slot / job->slots; it < items * (slot + 1) / job->slots; it++)
            conv_gemm_one(job, it / job->g->group, it % job->g->group, false, job->workspace + slot * job->slot_bytes, 0);
}

static void conv_gemm(const conv_job *job) {
    const conv_geom *g = job->g;
    const dlc_kctx *ctx = job->ctx;
    int64_t items = g->N * g->group;
    int64_t threads = ctx->num_threads > 1 ? ctx->num_threads : 1;
    int64_t slot_bytes = dlc_sgemm_workspace_single(g->Mg, g->out_plane, g->Cg * g->kvol);
    int64_t slots = min64(min64(threads, items), ctx->workspace_size / slot_bytes);
    int64_t flops = g->Mg * g->out_plane * g->Cg * g->kvol;
    if (slots > 1 && (items >= 4 * threads || flops < (1 << 21))) {
        conv_job sliced = *job;
        sliced.slot_bytes = slot_bytes;
        sliced.slots = slots;
        dlc_parallel_for(ctx, slots, 1, conv_gemm_slots, &sliced);
        return;
    }
    for (int64_t it = 0; it < items; it++)
        conv_gemm_one(job, it / g->group, it % g->group, true, ctx->workspace, ctx->workspace_size);
}

/* ---- conv, float32, pixel-major GEMM (conv.h) ------------------------------------- */

enum { DIRECT_OC = 32, DIRECT_WT = 8, DIRECT_C_CHUNK = 16, DIRECT_POINTWISE_CHUNK = 128 };

/* sixteen floats, loaded and stored unaligned */
typedef float v16f __attribute__((vector_size(64), aligned(4)));
typedef int32_t v16i __attribute__((vector_size(64), aligned(4)));

static int64_t align64(int64_t bytes) { return (bytes + 63) / 64 * 64; }

/* Row length of the [pixels, M] product the pixel-major path transposes
 * into Y: 16 floats more than M, so that rows are not a multiple of 4 KiB
 * apart (M = 1024, 2048): those shared L1 sets, and each tile's loads of
 * the row below waited on the stores to the row above (4K aliasing). */
static int64_t pixel_major_tmp_ld(const conv_geom *g) { return g->M + 16; }

/* Bytes of that product. */
static int64_t pixel_major_tmp_bytes(const conv_geom *g) { return align64(g->out_plane * pixel_major_tmp_ld(g) * 4); }

typedef struct transpose_job {
    const conv_geom *g;
    const float *tmp; /* [pixels, M] */
    float *y;         /* [M, pixels] of this image */
    dlc_epilogue ep;  /* rows: output channels */
} transpose_job;

enum { TRANSPOSE_BLOCK = 16 };

/* Stage s of a 16 x 16 transpose in registers: rows i and i + s (i & s ==
 * 0) swap their off-diagonal s x s blocks; after the stages 1, 2, 4 and 8
 * row o holds column o. (A scalar loop became gathers: 1 ns an element, 1%
 * of ResNet-50.) */
static inline __attribute__((always_inline)) void transpose_swap(v16f *a, v16f *b, int s) {
    v16f x = *a, y = *b;
    switch (s) {
    case 1:
        *a = __builtin_shufflevector(x, y, 0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30);
        *b = __builtin_shufflevector(x, y, 1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31);
        break;
    case 2:
        *a = __builtin_shufflevector(x, y, 0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29);
        *b = __builtin_shufflevector(x, y, 2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31);
        break;
    case 4:
        *a = __builtin_shufflevector(x, y, 0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27);
        *b = __builtin_shufflevector(x, y, 4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31);
        break;
    default:
        *a = __builtin_shufflevector(x, y, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
        *b = __builtin_shufflevector(x, y, 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31);
        break;
    }
}

/* One stage over all 16 rows; s a constant, so that the rows stay in
 * registers. */
static inline __attribute__((always_inline)) void transpose_stage(v16f *r, int s) {
    for (int i = 0; i < 16; i++)
        if ((i & s) == 0) transpose_swap(&r[i], &r[i + s], s);
}

/* dst[o * dst_ld + q] = src[q * src_ld + o] for o, q < 16. */
static void transpose_16x16(const float *src, int64_t src_ld, float *restrict dst, int64_t dst_ld) {
    v16f r[16];
    for (int i = 0; i < 16; i++) r[i] = *(const v16f *)(src + i * src_ld);
    transpose_stage(r, 1);
    transpose_stage(r, 2);
    transpose_stage(r, 4);
    transpose_stage(r, 8);
    for (int i = 0; i < 16; i++) *(v16f *)(dst + i * dst_ld) = r[i];
}

/* Output channels [begin, end) x TRANSPOSE_BLOCK: their rows of Y written
 * from the product's columns, then the bias, residual and activation while
 * the rows are in L1. */
static void transpose_channels(void *arg, int64_t begin, int64_t end) {
    const transpose_job *job = arg;
    const int64_t P = job->g->out_plane, M = job->g->M, ld = pixel_major_tmp_ld(job->g);
    for (int64_t blk = begin; blk < end; blk++) {
        int64_t o0 = blk * TRANSPOSE_BLOCK, o1 = min64(M, o0 + TRANSPOSE_BLOCK);
        for (int64_t p0 = 0; p0 < P; p0 += TRANSPOSE_BLOCK) {
            int64_t p1 = min64(P, p0 + TRANSPOSE_BLOCK);
            if (o1 - o0 == TRANSPOSE_BLOCK && p1 - p0 == TRANSPOSE_BLOCK) {
                transpose_16x16(job->tmp + p0 * ld + o0, ld, job->y + o0 * P + p0, P);
                continue;
            }
            for (int64_t o = o0; o < o1; o++)
                for (int64_t q = p0; q < p1; q++) job->y[o * P + q] = job->tmp[q * ld + o];
        }
        if (dlc_epilogue_active(&job->ep)) dlc_epilogue_apply(&job->ep, job->y, P, o0, o1, 0, P);
    }
}

/* Y^T[pixels, M] = im2col(X)^T x W^T with W^T pre-packed at compile time:
 * for small feature maps, whose pixel count pads badly to the GEMM's
 * column panels while the channel counts are multiples of them, and whose
 * long weight rows (K >= 1024) would alias in L1 when read in place. The
 * product is then transposed into Y. Group 1 only (the pass checks). */
static void conv_pixel_major(const conv_job *job, char *ws, int64_t ws_size) {
    const conv_geom *g = job->g;
    const int64_t K = g->C * g->kvol, P = g->out_plane;
    float *tmp = (float *)(void *)ws;
    int64_t tmp_bytes = pixel_major_tmp_bytes(g);
    for (int64_t n = 0; n < g->N; n++) {
        dlc_im2col view = conv_im2col_view(job, n, 0);
        dlc_gemm_operand a = {.im2col = &view};
        /* a 1x1 stride-1 window: A is X^T itself, each channel's pixels contiguous */
        if (conv_is_pointwise(g)) a = (dlc_gemm_operand){.data = view.x, .row_stride = 1, .col_stride = g->in_plane};
        dlc_gemm_operand b = {.data = job->w, .packed_nr = g->packed_nr, .packed_kc = dlc_sgemm_deep_kc(K)};
        dlc_sgemm(job->ctx, P, g->M, K, 1.0f, &a, &b, 0.0f, tmp, pixel_major_tmp_ld(g), ws + tmp_bytes,
                  ws_size - tmp_bytes);
        transpose_job tj = {.g = g, .tmp = tmp, .y = job->y + n * g->M * P, .ep = g->ep};
        if (g->has_bias) tj.ep.bias = job->b, tj.ep.bias_rs = 1, tj.ep.bias_cs = 0;
        if (job->residual != NULL) tj.ep.residual = job->residual + n * g->M * P;
        int64_t blocks = (g->M + TRANSPOSE_BLOCK - 1) / TRANSPOSE_BLOCK;
        dlc_parallel_for(job->ctx, blocks, max64(1, 4096 / max64(1, P * TRANSPOSE_BLOCK)), transpose_channels, &tj);
    }
}

/* ---- conv, float32, direct with blocked weights (conv.h) ----------------------------
 * One task = one block of 32 (or 16) output channels of one output row (or
 * of two or more on maps narrower than a tile); a tile = DIRECT_WT (or
 * fewer) adjacent pixels of it, in raster order, whose block x WT sums
 * stay in registers over the whole reduction: per input channel and tap,
 * one block-wide weight row (NV = 2 or 1 vectors) times WT broadcast input
 * values read in place from the (padded) input. No im2col copy, and each
 * output written once, with its bias, residual and activation. */

/* Taps [ky0, ky1) x [kx0, kx1) of the KH x KW window: the others read only
 * padding for every pixel of the tile (direct_live_taps). */
static inline __attribute__((always_inline)) void direct_tile_body(int WT, int NV, int CCH, int64_t KH, int64_t KW,
                                                                  int64_t sx, int64_t C, const float *x,
                                                                  const int64_t *off, int64_t plane, int64_t cstride,
                                                                  int64_t row_step, int64_t dx, int64_t ky0,
                                                                  int64_t ky1, int64_t kx0, int64_t kx1,
                                                                  const float *restrict w, float *restrict out) {
    /* the sums run over CCH input channels at a time, then into out:
     * shorter chains round less (as the GEMM's K slices and ORT's channel
     * blocks do). Within a chunk, runs of 16 channels: channel c1 + i of a
     * run is at x + c1 * plane + i * cstride, in NCHW (cstride = plane) and
     * in NCHW16c (cstride 1, plane the pixels of a block's plane) alike. */
    for (int64_t c0 = 0; c0 < C; c0 += CCH) {
        v16f acc[DIRECT_WT][2];
        for (int t = 0; t < WT; t++)
            for (int v = 0; v < NV; v++) acc[t][v] = (v16f){0};
        for (int64_t c1 = c0; c1 < min64(C, c0 + CCH); c1 += 16) {
            const float *xb = x + c1 * plane;
            for (int64_t c = c1; c < min64(C, c1 + 16); c++)
                for (int64_t ky = ky0; ky < ky1; ky++) {
                    const float *xr = xb + (c - c1) * cstride + ky * row_step;
                    const float *wp = w + ((c * KH + ky) * KW + kx0) * 16 * NV;
                    for (int64_t kx = kx0; kx < kx1; kx++) {
                        const float *xp = xr + kx * dx;
                        v16f wv[2];
                        for (int v = 0; v < NV; v++) wv[v] = *(const v16f *)(wp + 16 * v);
                        wp += 16 * NV;
                        for (int t = 0; t < WT; t++) {
                            float a = off != NULL ? xp[off[t]] : xp[t * sx];
                            for (int v = 0; v < NV; v++) acc[t][v] += a * wv[v];
                        }
                    }
                }
        }
        for (int t = 0; t < WT; t++)
            for (int v = 0; v < NV; v++) {
                v16f *o = (v16f *)(out + (t * NV + v) * 16);
                if (c0 == 0) *o = acc[t][v];
                else *o += acc[t][v];
            }
    }
}

typedef struct direct_args {
    int64_t C;
    /* a tile across rows: pixel t's input at off[t] floats from the
     * first's; NULL for a tile within one row (t * sx) */
    const int64_t *off;
    int64_t plane, row_step, dx, sx, KH, KW;
    int64_t cstride; /* floats from one input channel to the next within a run of 16 (direct_tile_body) */
    int64_t nv; /* vectors per weight row: the block's channels / 16 */
    int64_t ky0, ky1, kx0, kx1; /* the taps that read the input (direct_live_taps) */
} direct_args;

/* 3x3 windows at stride 1 or 2 (ResNet's downsampling) get constant loop
 * bounds (fully unrolled taps); any other window the general loops. */
static inline __attribute__((always_inline)) void direct_tile_window(int WT, int NV, const int64_t *off,
                                                                    const direct_args *d, const float *x,
                                                                    const float *w, float *out) {
    const int C16 = DIRECT_C_CHUNK;
    if (d->KH == 3 && d->KW == 3 && d->sx == 1 && d->dx == 1)
        direct_tile_body(WT, NV, C16, 3, 3, 1, d->C, x, off, d->plane, d->cstride, d->row_step, 1, 0, 3, 0, 3, w, out);
    else if (d->KH == 3 && d->KW == 3 && d->sx == 2 && d->dx == 1)
        direct_tile_body(WT, NV, C16, 3, 3, 2, d->C, x, off, d->plane, d->cstride, d->row_step, 1, 0, 3, 0, 3, w, out);
    /* the same over NCHW16c input: 16 floats a pixel */
    else if (d->KH == 3 && d->KW == 3 && d->sx == 16 && d->dx == 16)
        direct_tile_body(WT, NV, C16, 3, 3, 16, d->C, x, off, d->plane, 1, d->row_step, 16, 0, 3, 0, 3, w, out);
    else if (d->KH == 3 && d->KW == 3 && d->sx == 32 && d->dx == 16)
        direct_tile_body(WT, NV, C16, 3, 3, 32, d->C, x, off, d->plane, 1, d->row_step, 16, 0, 3, 0, 3, w, out);
    /* 1x1 windows (NCHW16c convs): one tap, so chains of 128 channels (as
     * many products as a 3x3 window's 16-channel chunk) */
    else if (d->KH == 1 && d->KW == 1)
        direct_tile_body(WT, NV, DIRECT_POINTWISE_CHUNK, 1, 1, d->sx, d->C, x, off, d->plane, d->cstride, d->row_step,
                         d->dx, 0, 1, 0, 1, w, out);
    /* all taps live: loops from a constant 0 (runtime starts cost the 7x7 stem 2-3%) */
    else if (d->ky0 == 0 && d->ky1 == d->KH && d->kx0 == 0 && d->kx1 == d->KW)
        direct_tile_body(WT, NV, C16, d->KH, d->KW, d->sx, d->C, x, off, d->plane, d->cstride, d->row_step, d->dx, 0,
                         d->KH, 0, d->KW, w, out);
    else
        direct_tile_body(WT, NV, C16, d->KH, d->KW, d->sx, d->C, x, off, d->plane, d->cstride, d->row_step, d->dx,
                         d->ky0, d->ky1, d->kx0, d->kx1, w, out);
}

static inline __attribute__((always_inline)) void direct_tile_width(int WT, const int64_t *off, const direct_args *d,
                                                                   const float *x, const float *w, float *out) {
    if (d->nv == 2) direct_tile_window(WT, 2, off, d, x, w, out);
    else direct_tile_window(WT, 1, off, d, x, w, out);
}

/* One function per tile width, so that the accumulators stay in registers
 * (inlined together into one caller, the wide bodies spilled: a stride-2
 * conv ran 4.7x slower); and the tiles across rows in functions of their
 * own: sharing one function with the in-row tiles, the in-row code spilled
 * too (simple_cnn 6% slower). */
static __attribute__((noinline)) void direct_tile_8(const direct_args *d, const float *x, const float *w, float *out) {
    direct_tile_width(8, NULL, d, x, w, out);
}
static __attribute__((noinline)) void direct_tile_7(const direct_args *d, const float *x, const float *w, float *out) {
    direct_tile_width(7, NULL, d, x, w, out);
}
static __attribute__((noinline)) void direct_tile_6(const direct_args *d, const float *x, const float *w, float *out) {
    direct_tile_width(6, NULL, d, x, w, out);
}
static __attribute__((noinline)) void direct_tile_5(const direct_args *d, const float *x, const float *w, float *out) {
    direct_tile_width(5, NULL, d, x, w, out);
}
static __attribute__((noinline)) void direct_tile_4(const direct_args *d, const float *x, const float *w, float *out) {
    direct_tile_width(4, NULL, d, x, w, out);
}
static __attribute__((noinline)) void direct_tile_3(const direct_args *d, const float *x, const float *w, float *out) {
    direct_tile_width(3, NULL, d, x, w, out);
}
static __attribute__((noinline)) void direct_tile_2(const direct_args *d, const float *x, const float *w, float *out) {
    direct_tile_width(2, NULL, d, x, w, out);
}
static __attribute__((noinline)) void direct_tile_1(const direct_args *d, const float *x, const float *w, float *out) {
    direct_tile_width(1, NULL, d, x, w, out);
}
static __attribute__((noinline)) void direct_span_8(const direct_args *d, const float *x, const float *w, float *out) {
    direct_tile_width(8, d->off, d, x, w, out);
}
static __attribute__((noinline)) void direct_span_7(const direct_args *d, const float *x, const float *w, float *out) {
    direct_tile_width(7, d->off, d, x, w, out);
}
static __attribute__((noinline)) void direct_span_6(const direct_args *d, const float *x, const float *w, float *out) {
    direct_tile_width(6, d->off, d, x, w, out);
}
static __attribute__((noinline)) void direct_span_5(const direct_args *d, const float *x, const float *w, float *out) {
    direct_tile_width(5, d->off, d, x, w, out);
}
static __attribute__((noinline)) void direct_span_4(const direct_args *d, const float *x, const float *w, float *out) {
    direct_tile_width(4, d->off, d, x, w, out);
}
static __attribute__((noinline)) void direct_span_3(const direct_args *d, const float *x, const float *w, float *out) {
    direct_tile_width(3, d->off, d, x, w, out);
}
static __attribute__((noinline)) void direct_span_2(const direct_args *d, const float *x, const float *w, float *out) {
    direct_tile_width(2, d->off, d, x, w, out);
}

static void direct_tile(int64_t wt, const direct_args *d, const float *x, const float *w, float *out) {
    if (d->off != NULL) { /* a tile across rows has at least two pixels */
        switch (wt) {
        case 8: direct_span_8(d, x, w, out); break;
        case 7: direct_span_7(d, x, w, out); break;
        case 6: direct_span_6(d, x, w, out); break;
        case 5: direct_span_5(d, x, w, out); break;
        case 4: direct_span_4(d, x, w, out); break;
        case 3: direct_span_3(d, x, w, out); break;
        default: direct_span_2(d, x, w, out); break;
        }
        return;
    }
    switch (wt) {
    case 8: direct_tile_8(d, x, w, out); break;
    case 7: direct_tile_7(d, x, w, out); break;
    case 6: direct_tile_6(d, x, w, out); break;
    case 5: direct_tile_5(d, x, w, out); break;
    case 4: direct_tile_4(d, x, w, out); break;
    case 3: direct_tile_3(d, x, w, out); break;
    case 2: direct_tile_2(d, x, w, out); break;
    default: direct_tile_1(d, x, w, out); break;
    }
}

static int64_t floor_div64(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

/* The taps [*k0, *k1) of one spatial dim that read the input for some
 * output position in [o_first, o_last]: the others fall in the padding for
 * all of them and multiply zeros. Large dilations on small maps (DeepLab's
 * atrous convs: dilation 24 and 36 on 33x33) leave most taps so. */
static void direct_live_taps(int64_t o_first, int64_t o_last, int64_t stride, int64_t pad, int64_t dil, int64_t in,
                             int64_t kernel, int64_t *k0, int64_t *k1) {
    /* tap k reads input o * stride - pad + k * dil: some o reaches >= 0 and
     * some < in (per tile: no divisions in the common undilated case) */
    if (dil == 1) {
        *k0 = max64(0, pad - o_last * stride);
        *k1 = min64(kernel, in + pad - o_first * stride);
    } else {
        *k0 = max64(0, -floor_div64(o_last * stride - pad, dil));
        *k1 = min64(kernel, floor_div64(in - 1 - o_first * stride + pad, dil) + 1);
    }
    if (*k1 < *k0) *k1 = *k0;
}

/* A tile's wt pixels x OC channels (tile[t * OC + o]) into an NCHW16c Y,
 * y at the tile's first pixel of its first block (blocks P * 16 floats
 * apart), with the bias (OC values), the residual (laid out as y, or NULL)
 * and the activation applied to each pixel's 16 channels in registers.
 * Relu and none inline; the other activations through the epilogue's row
 * code on the block's pixels just stored. */
static void direct_store_blocked(const dlc_epilogue *ep, const float *tile, int64_t wt, int64_t OC,
                                 const float *bias, const float *res, float *y, int64_t P) {
    const dlc_epilogue act_only = {.act = ep->act, .a = ep->a, .b = ep->b};
    for (int64_t v = 0; v < OC / 16; v++) {
        v16f b = bias != NULL ? *(const v16f *)(bias + v * 16) : (v16f){0};
        float *yv = y + v * P * 16;
        const float *rv = res != NULL ? res + v * P * 16 : NULL;
        for (int64_t t = 0; t < wt; t++) {
            v16f val = *(const v16f *)(tile + t * OC + v * 16) + b;
            if (rv != NULL) val += *(const v16f *)(rv + t * 16);
            if (ep->act == DLC_EP_RELU) {
                v16i negative = val < 0.0f; /* v < 0 ? 0 : v, NaN kept, as act_row */
                val = (v16f)((v16i)val & ~negative);
            }
            *(v16f *)(yv + t * 16) = val;
        }
        /* the tile's pixels of a block are contiguous: one row for the rest */
        if (ep->act != DLC_EP_NONE && ep->act != DLC_EP_RELU) dlc_epilogue_apply(&act_only, yv, 0, 0, 1, 0, wt * 16);
    }
}

/* One task = one block of output channels x one output row, or x as many
 * rows as make a tile of DIRECT_WT pixels on a narrower map: a 4x4 map's
 * tile spans two rows and keeps 16 sums in registers, where one row's 4
 * pixels kept 8 (resnet18_cifar's last convs). */
typedef struct direct_job {
    const conv_job *job;
    const float *x;     /* this image's (padded) input */
    int64_t in_h, in_w; /* its plane's dims */
    float *y;           /* this image's output */
    const float *residual;
    int64_t rows;   /* output rows per task */
    int64_t groups; /* tasks down the plane */
} direct_job;

/* Output rows oy0..oy1 of block ob. x: the input under output (oy0, 0),
 * channel 0, in planes of `plane` floats whose rows are in_w apart.
 * Each tile runs the whole reduction, a chunk of input channels at a time,
 * reading the block's weights in one sequential stream: a loop over chunks
 * outermost, each chunk's weights reused from L1 by every tile of a row,
 * ran 3-7% slower on ResNet-50's 3x3 convs (a 7x7 map's block of weights,
 * 590 KiB, comes from L3, and each chunk's restart of the stream seems to
 * have cost the prefetcher its lead). */
static void direct_task(const direct_job *dj, int64_t ob, int64_t oy0, int64_t oy1, const float *x, int64_t plane,
                        int64_t in_w) {
    const conv_geom *g = dj->job->g;
    const int64_t OW = g->out[2], P = g->out_plane, K = g->C * g->kvol;
    const int64_t OC = g->packed_nr; /* channels per block */
    const int64_t u = x_pixel_floats(g);
    const int64_t row_in = g->stride[1] * in_w * u, sx = g->stride[2] * u;
    direct_args d = {.C = g->C, .plane = plane, .row_step = g->dil[1] * in_w * u, .dx = g->dil[2] * u, .sx = sx,
                     .KH = g->kernel[1], .KW = g->kernel[2], .cstride = g->x_blocked ? 1 : plane, .nv = OC / 16};
    float tile[DIRECT_WT * DIRECT_OC] __attribute__((aligned(64)));
    int64_t pixels = (oy1 - oy0) * OW, tiles = (pixels + DIRECT_WT - 1) / DIRECT_WT;
    const float *w = dj->job->w + ob * K * OC;
    /* this block's first output row: NCHW row oy0 of channel ob * OC, or
     * pixel oy0 * OW of its first 16-channel block */
    float *yb = dj->y + ob * OC * P + oy0 * OW * (g->y_blocked ? 16 : 1);
    /* NCHW16c: the bias of the block's channels, the residual at yb's place */
    const float *bias = g->has_bias ? dj->job->b + ob * OC : NULL;
    const float *res = dj->residual != NULL ? dj->residual + (yb - dj->y) : NULL;
    for (int64_t i = 0; i < tiles; i++) {
        /* tiles of equal width: 14 pixels are 7 + 7, not 8 + 6 */
        int64_t p0 = i * pixels / tiles, wt = (i + 1) * pixels / tiles - p0;
        int64_t oy = p0 / OW, ox = p0 % OW;
        int64_t off[DIRECT_WT];
        d.off = NULL;
        if (ox + wt > OW) { /* across rows */
            for (int64_t t = 0; t < wt; t++) off[t] = ((p0 + t) / OW - oy) * row_in + ((p0 + t) % OW - ox) * sx;
            d.off = off;
        }
        /* output rows oy0 + oy .. of the plane; a tile across rows may touch any column */
        int64_t oy_last = (p0 + wt - 1) / OW, ox_first = d.off != NULL ? 0 : ox;
        int64_t ox_last = d.off != NULL ? OW - 1 : ox + wt - 1;
        direct_live_taps(oy0 + oy, oy0 + oy_last, g->stride[1], g->pad[1], g->dil[1], g->in[1], g->kernel[1], &d.ky0,
                         &d.ky1);
        direct_live_taps(ox_first, ox_last, g->stride[2], g->pad[2], g->dil[2], g->in[2], g->kernel[2], &d.kx0,
                         &d.kx1);
        direct_tile(wt, &d, x + oy * row_in + ox * sx, w, tile);
        if (g->y_blocked) {
            direct_store_blocked(&g->ep, tile, wt, OC, bias, res != NULL ? res + p0 * 16 : NULL, yb + p0 * 16, P);
        } else {
            for (int64_t o = 0; o < OC; o++)
                for (int64_t t = 0; t < wt; t++) yb[o * P + p0 + t] = tile[t * OC + o];
        }
    }
    if (g->y_blocked) return; /* the epilogue went with the stores */
    dlc_epilogue ep = g->ep;
    if (g->has_bias) ep.bias = dj->job->b, ep.bias_rs = 1, ep.bias_cs = 0;
    if (dj->residual != NULL) ep.residual = dj->residual;
    if (dlc_epilogue_active(&ep)) dlc_epilogue_apply(&ep, dj->y, P, ob * OC, (ob + 1) * OC, oy0 * OW, oy1 * OW);
}

/* Tasks of one block x dj->rows output rows, reading the padded input. */
static void direct_rows(void *arg, int64_t begin, int64_t end) {
    const direct_job *dj = arg;
    const conv_geom *g = dj->job->g;
    const int64_t row_in = g->stride[1] * dj->in_w * x_pixel_floats(g);
    for (int64_t task = begin; task < end; task++) {
        int64_t ob = task / dj->groups, oy0 = task % dj->groups * dj->rows;
        direct_task(dj, ob, oy0, min64(g->out[1], oy0 + dj->rows), dj->x + oy0 * row_in, dj->in_h * dj->in_w,
                    dj->in_w);
    }
}

/* ---- the slab variant: each thread pads its own rows ----
 * Where the input needs padding, the whole padded copy (one more pass over
 * memory, and a parallel step of its own) is replaced by slabs: a thread
 * takes a contiguous range of output rows, and for each group of rows
 * copies the input rows under it, padded, into its own buffer (in L2), then
 * runs every block of output channels on it. The rows a thread writes are
 * the rows it reads in the next convolution, so at 2 threads the input
 * comes from its own cache, not the other core's. Used where all the
 * weights fit in L2 (each thread reads them all, once per group) and there
 * are rows enough to share, and for stride-2 convs on inputs past L2
 * (direct_uses_slabs). */
enum { SLAB_MAX_WEIGHT_BYTES = 768 << 10, SLAB_PIXELS = 128, SLAB_MIN_GROUPS = 8, SLAB_LARGE_INPUT_BYTES = 2 << 20 };

/* Output rows per group of a slab, and the input window's rows and columns. */
static int64_t slab_rows(const conv_geom *g) { return max64(1, min64(g->out[1], SLAB_PIXELS / g->out[2])); }
static int64_t slab_in_rows(const conv_geom *g) {
    return (slab_rows(g) - 1) * g->stride[1] + (g->kernel[1] - 1) * g->dil[1] + 1;
}
static int64_t slab_in_cols(const conv_geom *g) {
    return (g->out[2] - 1) * g->stride[2] + (g->kernel[2] - 1) * g->dil[2] + 1;
}
static int64_t slab_window_bytes(const conv_geom *g) { return align64(g->C * slab_in_rows(g) * slab_in_cols(g) * 4); }
static int64_t slab_groups(const conv_geom *g) { return (g->out[1] + slab_rows(g) - 1) / slab_rows(g); }

static bool direct_uses_slabs(const conv_geom *g) {
    if (!conv_needs_padding(g) || slab_groups(g) < SLAB_MIN_GROUPS) return false;
    if (g->M * g->C * g->kvol * 4 <= SLAB_MAX_WEIGHT_BYTES && slab_in_rows(g) <= 2 * slab_rows(g)) return true;
    /* Stride-2 convs on inputs past L2 take slabs whatever their weights:
     * with the whole padded input in L3, each block of output channels
     * re-read it, a tile's input rows scattered over every channel plane;
     * a slab's rows stay in L2 for all the blocks while the weights stream
     * in order. YOLO's 3x3 stride-2 convs (64 -> 128 on 160x160, 256 -> 256
     * on 80x80) ran 1.6x faster. */
    return g->stride[1] == 2 && g->C * g->in_plane * 4 > SLAB_LARGE_INPUT_BYTES &&
           slab_in_rows(g) <= 4 * slab_rows(g) + 1;
}

typedef struct slab_job {
    const direct_job *dj;
    const float *x; /* the unpadded input of this image */
    char *windows;  /* one window per slab */
    int64_t slabs, groups;
} slab_job;

/* Input rows iy0.. (slab_in_rows of them, slab_in_cols columns from column
 * -pad on), every channel, zero outside the input. */
static void slab_fill(const conv_geom *g, const float *x, int64_t iy0, float *win) {
    const int64_t IH = g->in[1], IW = g->in[2], rows = slab_in_rows(g), cols = slab_in_cols(g);
    const int64_t left = min64(cols, g->pad[2]), inside = max64(0, min64(IW, cols - left));
    /* a plane per channel, or per 16-channel block of NCHW16c */
    const int64_t u = x_pixel_floats(g);
    for (int64_t c = 0; c < g->C / u; c++)
        for (int64_t r = 0; r < rows; r++) {
            int64_t iy = iy0 + r;
            write_padded_row(win + (c * rows + r) * cols * u, iy >= 0 && iy < IH ? x + (c * IH + iy) * IW * u : NULL,
                             left * u, inside * u, cols * u);
        }
}

static void direct_slabs(void *arg, int64_t begin, int64_t end) {
    const slab_job *sj = arg;
    const conv_geom *g = sj->dj->job->g;
    const int64_t rows = slab_rows(g), cols = slab_in_cols(g), plane = slab_in_rows(g) * cols;
    for (int64_t slab = begin; slab < end; slab++) {
        float *win = (float *)(void *)(sj->windows + slab * slab_window_bytes(g));
        for (int64_t grp = sj->groups * slab / sj->slabs; grp < sj->groups * (slab + 1) / sj->slabs; grp++) {
            int64_t oy0 = grp * rows, oy1 = min64(g->out[1], oy0 + rows);
            slab_fill(g, sj->x, oy0 * g->stride[1] - g->pad[1], win);
            for (int64_t ob = 0; ob < g->M / g->packed_nr; ob++) direct_task(sj->dj, ob, oy0, oy1, win, plane, cols);
        }
    }
}

static void conv_direct_blocked(const conv_job *job) {
    const conv_geom *g = job->g;
    for (int64_t n = 0; n < g->N; n++) {
        dlc_im2col view = conv_im2col_view(job, n, 0); /* the direct loop reads the same input */
        direct_job dj = {.job = job, .x = view.x, .in_h = view.in[1], .in_w = view.in[2],
                         .y = job->y + n * g->M * g->out_plane};
        if (job->residual != NULL) dj.residual = job->residual + n * g->M * g->out_plane;
        if (job->xpad == NULL && direct_uses_slabs(g)) {
            int64_t threads = job->ctx->num_threads > 1 ? job->ctx->num_threads : 1;
            slab_job sj = {.dj = &dj, .x = job->x + n * g->C * g->in_plane, .windows = job->workspace,
                           .slabs = min64(min64(threads, DLC_GEMM_MAX_THREADS), slab_groups(g)),
                           .groups = slab_groups(g)};
            dlc_parallel_for(job->ctx, sj.slabs, 1, direct_slabs, &sj);
            continue;
        }
        dj.rows = max64(1, DIRECT_WT / g->out[2]);
        dj.groups = (g->out[1] + dj.rows - 1) / dj.rows;
        int64_t tasks = g->M / g->packed_nr * dj.groups;
        int64_t per_task = g->packed_nr * dj.rows * g->out[2] * g->C * g->kvol;
        /* chunks of 128K multiply-adds (~4 us): simple_cnn's first conv
         * (0.44M) now takes both threads, 1.05-1.08x -> 0.99-1.01x of ORT's
         * time at 2 threads (at 256K it ran on one) */
        dlc_parallel_for(job->ctx, tasks, max64(1, (1 << 17) / max64(1, per_task)), direct_rows, &dj);
    }
}

/* Multiply-adds one element of the pixel-major product costs to transpose
 * into Y (a strided read and a write, next to 16 FMAs a cycle). */
#define PIXEL_MAJOR_TRANSPOSE_COST 32

static int64_t conv_pixel_major_nr(int64_t M, int64_t pixels, int64_t K) {
    int64_t nr = dlc_sgemm_pack_nr(pixels, M);
    if (M % nr != 0 || pixels < 2 || K < 1) return 0;
    double channel_major = (double)dlc_sgemm_tile_macs(M, pixels, K, 0);
    /* weight rows 4 KiB apart, read in place, share L1 sets */
    if (K % 1024 == 0) channel_major *= 1.1;
    double pixel_major = (double)dlc_sgemm_tile_macs(pixels, M, K, nr) + PIXEL_MAJOR_TRANSPOSE_COST * (double)(pixels * M);
    return pixel_major < channel_major ? nr : 0;
}

int32_t dlc_conv_choose_layout(const dlc_conv_shape *s, int64_t *nr) {
    *nr = 0;
    if (s->group != 1 || s->M < 1 || s->K < 1 || s->pixels < 1) return DLC_CONV_W_PLAIN;
    /* a real window: the direct loop reads the input in place where im2col
     * would copy it kernel-volume times; measured faster than both GEMMs on
     * every ResNet 3x3 and 7x7 conv, 4x4 to 112x112 maps */
    if (s->M % 16 == 0 && (s->kernel_volume > 1 || s->blocked) && s->spatial_rank <= 2) {
        *nr = s->M % DIRECT_OC == 0 ? DIRECT_OC : 16;
        return DLC_CONV_W_DIRECT;
    }
    *nr = conv_pixel_major_nr(s->M, s->pixels, s->K);
    return *nr > 0 ? DLC_CONV_W_PIXEL_MAJOR : DLC_CONV_W_PLAIN;
}

void dlc_conv_pack_weights(int32_t layout, int64_t M, int64_t K, const float *w, int64_t nr, float *dst) {
    if (layout == DLC_CONV_W_PIXEL_MAJOR) {
        dlc_gemm_operand wt = {.data = w, .row_stride = 1, .col_stride = K}; /* W^T[K, M] */
        /* deep K slices: each tile of the product is stored and reloaded
         * once per slice (ResNet-50's K = 1024 and 2048 1x1 convs: 2 and 3
         * slices instead of 4 and 8, 3-6% faster) */
        dlc_sgemm_pack_b(K, M, &wt, nr, dlc_sgemm_deep_kc(K), dst);
        return;
    }
    /* direct: per block of nr output channels, K rows of nr weights */
    for (int64_t ob = 0; ob < M / nr; ob++)
        for (int64_t k = 0; k < K; k++)
            for (int64_t o = 0; o < nr; o++) dst[(ob * K + k) * nr + o] = w[(ob * nr + o) * K + k];
}

/* ---- conv, float32, depthwise ------------------------------------------------------ */

/* One output plane (image n, output channel oc) of a convolution whose group
 * has a single input channel. Rows are accumulated tap by tap so the inner
 * loop runs along contiguous output columns. */
static void depthwise_plane(const conv_job *job, int64_t plane) {
    const conv_geom *g = job->g;
    int64_t n = plane / g->M, oc = plane % g->M;
    int64_t ic = oc / g->Mg;
    const float *x = job->x + (n * g->C + ic) * g->in_plane;
    const float *w = job->w + oc * g->kvol;
    float *y = job->y + plane * g->out_plane;
    float bias = g->has_bias ? job->b[oc] : 0.0f;
    const int64_t OW = g->out[2], IW = g->in[2], sx = g->stride[2], dx = g->dil[2], px = g->pad[2];
    dlc_epilogue ep = g->ep; /* the bias is in each row from the start */
    bool fused = job->residual != NULL || ep.act != DLC_EP_NONE;
    for (int64_t oz = 0; oz < g->out[0]; oz++)
        for (int64_t oy = 0; oy < g->out[1]; oy++) {
            float *yrow = y + (oz * g->out[1] + oy) * OW;
            if (job->residual != NULL) ep.residual = job->residual + (yrow - job->y);
            for (int64_t ox = 0; ox < OW; ox++) yrow[ox] = bias;
            for (int64_t kz = 0; kz < g->kernel[0]; kz++) {
                int64_t iz = oz * g->stride[0] - g->pad[0] + kz * g->dil[0];
                if (iz < 0 || iz >= g->in[0]) continue;
                for (int64_t ky = 0; ky < g->kernel[1]; ky++) {
                    int64_t iy = oy * g->stride[1] - g->pad[1] + ky * g->dil[1];
                    if (iy < 0 || iy >= g->in[1]) continue;
                    const float *xrow = x + (iz * g->in[1] + iy) * IW;
                    for (int64_t kx = 0; kx < g->kernel[2]; kx++) {
                        float wv = w[(kz * g->kernel[1] + ky) * g->kernel[2] + kx];
                        int64_t off = kx * dx - px; /* ix = ox * sx + off */
                        /* ox range with 0 <= ix < IW */
                        int64_t lo = off >= 0 ? 0 : (-off + sx - 1) / sx;
                        int64_t hi = IW - off <= 0 ? 0 : (IW - off + sx - 1) / sx;
                        hi = min64(hi, OW);
                        if (sx == 1) {
                            for (int64_t ox = lo; ox < hi; ox++) yrow[ox] += wv * xrow[ox + off];
                        } else {
                            for (int64_t ox = lo; ox < hi; ox++) yrow[ox] += wv * xrow[ox * sx + off];
                        }
                    }
                }
            }
            if (fused) dlc_epilogue_apply(&ep, yrow, 0, 0, 1, 0, OW); /* the row is final and in L1 */
        }
}

static void depthwise_range(void *arg, int64_t begin, int64_t end) {
    for (int64_t plane = begin; plane < end; plane++) depthwise_plane(arg, plane);
}

/* ---- conv, float32, depthwise 3x3 and 5x5 -------------------------------------------
 * MobileNet's and DeepLabV3's depthwise convs: 2-D, a 3x3 or 5x5 window,
 * dilation 1 or 2, stride 1 or 2, begin pads no wider than the window's
 * reach ((k - 1) * dilation). Output rows are computed a block of rows and
 * 16 columns at a time from the input rows with the window's weights in
 * registers, and the bias, residual and Relu or Clip applied before the one
 * store. The input rows are first copied into zero-padded row buffers, so
 * the loop has no bounds to check and rows of 7 or 14 outputs still take
 * whole vectors; at stride 2 the copy also splits a row into its even and
 * odd columns, so every tap is a contiguous load. */

/* Row buffers: the input rows of a block of output rows (below) fit, up to
 * 11 for 3 rows of a 5x5 window at dilation 2. */
enum { DWR_SLOTS = 16 };

/* Output rows computed together: the rows of a 7x7 or 14x14 map are one
 * vector each, and a single row's chain of dependent FMAs left the FMA
 * units idle. 3x3: 4 rows at stride 1, 3 at stride 2 (more input rows per
 * block). 5x5 with its 25 weights in registers: 3 and 2 (DeepLabV3's convs
 * at 1 thread: as fast as 4 and 3 or up to ~8% faster, near this machine's
 * noise; 2 rows at stride 1 ran ~15% slower at dilation 2 and were no
 * faster at dilation 1, so the dilation does not pick). */
static inline __attribute__((always_inline)) int dwr_block_rows(int64_t k, int64_t dil, int64_t sy) {
    (void)dil;
    if (k == 5) return sy == 1 ? 3 : 2;
    return sy == 1 ? 4 : 3;
}

/* Input rows a block of `rows` output rows reads. */
static inline __attribute__((always_inline)) int64_t dwr_rows_read(int64_t rows, int64_t k, int64_t dil,
                                                                   int64_t sy) {
    return (rows - 1) * sy + (k - 1) * dil + 1;
}

typedef int32_t v16i __attribute__((vector_size(64), aligned(4)));

/* Floats of the row buffers on the stack (38 KiB): the slots, the zero row
 * and the linear row, each up to 2 phases of 272 floats: output rows of up
 * to 256 at stride 2, 528 at stride 1. */
enum { DWR_BUF_FLOATS = (DWR_SLOTS + 2) * 2 * 272 };

static int64_t round_up16(int64_t n) { return (n + 15) / 16 * 16; }

/* A phase covers the vector-rounded output columns and the taps' reach past
 * them ((k - 1) * dilation / stride columns, at most 8). */
static int64_t dwr_phase_w(const conv_geom *g) { return round_up16(g->out[2]) + 16; }

static bool depthwise_rows_applies(const conv_geom *g) {
    if (g->in[0] != 1 || g->out[0] != 1 || g->kernel[0] != 1) return false;
    const int64_t k = g->kernel[2], dil = g->dil[2], sy = g->stride[1];
    if ((k != 3 && k != 5) || g->kernel[1] != k || (dil != 1 && dil != 2) || g->dil[1] != dil) return false;
    for (int i = 1; i < 3; i++)
        if (g->stride[i] < 1 || g->stride[i] > 2 || g->pad[i] < 0 || g->pad[i] > (k - 1) * dil) return false;
    return dwr_rows_read(dwr_block_rows(k, dil, sy), k, dil, sy) <= DWR_SLOTS &&
           (DWR_SLOTS + 2) * g->stride[2] * dwr_phase_w(g) <= DWR_BUF_FLOATS;
}

/* The padded input rows of one plane: a row's padded column c (input column
 * c - pad) is at phase c % stride, index c / stride, each phase phase_w
 * floats, zeros wherever no input column lands. Slot iy % DWR_SLOTS holds
 * input row held[slot]; rows above or below the input read `zero`. */
typedef struct dwr_rows {
    int64_t phase_w, copy_n; /* floats per phase; input columns copied (those some tap reads) */
    float *slot[DWR_SLOTS];
    int64_t held[DWR_SLOTS];
    const float *zero;
    float *linear; /* stride 2: one padded row before its split, 2 * phase_w floats */
    const float *x_begin, *x_end; /* the whole input, which a split may read past a row into */
} dwr_rows;

static void dwr_rows_init(dwr_rows *r, const conv_geom *g, float *buf) {
    int64_t sx = g->stride[2];
    r->phase_w = dwr_phase_w(g);
    r->copy_n = min64(g->in[2], sx * r->phase_w - g->pad[2]);
    /* the zeros stay: each fill writes the same columns */
    memset(buf, 0, (size_t)((DWR_SLOTS + 2) * sx * r->phase_w) * 4);
    for (int s = 0; s < DWR_SLOTS; s++) r->slot[s] = buf + s * sx * r->phase_w;
    r->zero = buf + DWR_SLOTS * sx * r->phase_w;
    r->linear = buf + (DWR_SLOTS + 1) * sx * r->phase_w;
}

/* Splits the padded row whose column 0 is at src into its even and odd
 * columns, a whole vector at a time (a loop over the input columns became
 * gathers), with zeros for the columns outside the input row: src may point
 * into the input around the row. */
static void dwr_split_row(const dwr_rows *r, float *dst, const float *src, int64_t px) {
    const v16i lane = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    const v16i zero = {0}, n = zero + (int32_t)r->copy_n;
    float *even = dst, *odd = dst + r->phase_w;
    for (int64_t k = 0; k < r->phase_w; k += 16) {
        v16i ia = lane + (int32_t)(2 * k - px), ib = ia + 16; /* input columns */
        v16i keep_a = (ia >= zero) & (ia < n), keep_b = (ib >= zero) & (ib < n);
        v16f a = (v16f)(*(const v16i *)(src + 2 * k) & keep_a), b = (v16f)(*(const v16i *)(src + 2 * k + 16) & keep_b);
        *(v16f *)(even + k) =
            __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        *(v16f *)(odd + k) = __builtin_shufflevector(a, b, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    }
}

/* Copies input row x into a slot. At stride 2 the split reads the input
 * itself where the padded row's span lies inside it, else a padded copy in
 * `linear` (the first and last rows): splitting a copy just made waited for
 * its stores, loads that straddle them are not forwarded. */
static void dwr_fill_row(const dwr_rows *r, float *dst, const float *x, int64_t px, int64_t sx) {
    if (sx == 1) {
        memcpy(dst + px, x, (size_t)r->copy_n * 4);
        return;
    }
    if (x - r->x_begin >= px && r->x_end - x >= 2 * r->phase_w - px) {
        dwr_split_row(r, dst, x - px, px);
        return;
    }
    memcpy(r->linear + px, x, (size_t)r->copy_n * 4);
    dwr_split_row(r, dst, r->linear, px);
}

/* Padded input row iy of the plane at x, copied on first use. */
static const float *dwr_row(dwr_rows *r, const conv_geom *g, const float *x, int64_t iy) {
    if (iy < 0 || iy >= g->in[1]) return r->zero;
    int64_t s = iy % DWR_SLOTS;
    if (r->held[s] != iy) {
        dwr_fill_row(r, r->slot[s], x + iy * g->in[2], g->pad[2], g->stride[2]);
        r->held[s] = iy;
    }
    return r->slot[s];
}

/* What one block of output rows needs: the weights (row-major, k * k of
 * them), bias and activation bounds broadcast, where tap kx of a padded row
 * starts, the input rows (output row r of the block reads rows
 * r * stride + ky * dilation), and where its rows go. */
typedef struct dwr_block {
    v16f w[25], bias, lo, hi;
    int64_t tap[5];
    const float *in[DWR_SLOTS];
    float *y;          /* the block's first output row */
    const float *res;  /* its residual, or NULL */
    int64_t OW, rows;  /* columns; rows to store (the last block of a plane may have fewer) */
    int64_t room;      /* floats from y to the end of the plane */
} dwr_block;

/* *v = max(*v, *lo) lane by lane as the epilogue computes it: v < lo ? lo : v,
 * so that a NaN stays NaN. (Vectors go by pointer: GCC's native build warns
 * about passing them by value without AVX-512.) */
static inline __attribute__((always_inline)) void dwr_raise_to(v16f *v, const v16f *lo) {
    v16i below = *v < *lo;
    *v = (v16f)((below & (v16i)*lo) | (~below & (v16i)*v));
}

/* *v = v > hi ? hi : v, lane by lane. */
static inline __attribute__((always_inline)) void dwr_lower_to(v16f *v, const v16f *hi) {
    v16i above = *v > *hi;
    *v = (v16f)((above & (v16i)*hi) | (~above & (v16i)*v));
}

/* Relu and Clip as the epilogue computes them. */
static inline __attribute__((always_inline)) void dwr_activate(v16f *v, const dwr_block *b, int32_t act) {
    const v16f zero = {0};
    if (act == DLC_EP_RELU) dwr_raise_to(v, &zero);
    if (act == DLC_EP_CLIP) {
        dwr_raise_to(v, &b->lo);
        dwr_lower_to(v, &b->hi);
    }
}

/* Stores output row r's columns j..j+15 of acc, plus the residual and
 * activation, of which `count` are in the row: a partial vector goes whole
 * when the plane has room past it (the overrun lands on later columns, all
 * stored after this one), else through a buffer. */
static inline __attribute__((always_inline)) void dwr_store(const dwr_block *b, int64_t r, int64_t j, int64_t count,
                                                            v16f *acc, int32_t act) {
    int64_t at = r * b->OW + j;
    if (count == 16 || at + 16 <= b->room) {
        if (b->res != NULL) *acc += *(const v16f *)(b->res + at);
        dwr_activate(acc, b, act);
        *(v16f *)(b->y + at) = *acc;
        return;
    }
    float tail[16] = {0};
    if (b->res != NULL) {
        for (int64_t i = 0; i < count; i++) tail[i] = b->res[at + i];
        *acc += *(const v16f *)tail;
    }
    dwr_activate(acc, b, act);
    *(v16f *)tail = *acc;
    for (int64_t i = 0; i < count; i++) b->y[at + i] = tail[i];
}

/* Columns j..j+15 of the block's rows for a k x k window at dilation dil and
 * row stride sy (constants): the bias plus the taps, in the generic loop's
 * order. */
static inline __attribute__((always_inline)) void dwr_columns(const dwr_block *b, int64_t k, int64_t dil, int64_t sy,
                                                              int64_t j, int64_t count, int32_t act) {
    const int rows = dwr_block_rows(k, dil, sy);
    v16f acc[4]; /* the most rows in a block */
    for (int r = 0; r < rows; r++) acc[r] = b->bias;
    for (int64_t ky = 0; ky < k; ky++)
        for (int64_t kx = 0; kx < k; kx++)
            for (int r = 0; r < rows; r++)
                acc[r] += b->w[ky * k + kx] * *(const v16f *)(b->in[r * sy + ky * dil] + b->tap[kx] + j);
    for (int r = 0; r < rows && r < b->rows; r++) dwr_store(b, r, j, count, &acc[r], act);
}

/* A block of output rows: the partial last vector of each row first, so that
 * whatever a whole store of it overruns into is written after. */
static inline __attribute__((always_inline)) void dwr_rows_block(const dwr_block *b, int64_t k, int64_t dil,
                                                                 int64_t sy, int32_t act) {
    int64_t whole = b->OW / 16 * 16;
    if (whole < b->OW) dwr_columns(b, k, dil, sy, whole, b->OW - whole, act);
    for (int64_t j = 0; j < whole; j += 16) dwr_columns(b, k, dil, sy, j, 16, act);
}

/* The block with its activation as a constant. */
static inline __attribute__((always_inline)) void dwr_block_act(const dwr_block *b, int64_t k, int64_t dil,
                                                                int64_t sy, int32_t act) {
    if (act == DLC_EP_RELU) dwr_rows_block(b, k, dil, sy, DLC_EP_RELU);
    else if (act == DLC_EP_CLIP) dwr_rows_block(b, k, dil, sy, DLC_EP_CLIP);
    else dwr_rows_block(b, k, dil, sy, DLC_EP_NONE);
}

/* The block with its window and dilation (and the row stride and activation
 * given) as constants. */
static inline __attribute__((always_inline)) void dwr_block_window(const dwr_block *b, int64_t k, int64_t dil,
                                                                   int64_t sy, int32_t act) {
    if (k == 3 && dil == 1) dwr_block_act(b, 3, 1, sy, act);
    else if (k == 3) dwr_block_act(b, 3, 2, sy, act);
    else if (dil == 1) dwr_block_act(b, 5, 1, sy, act);
    else dwr_block_act(b, 5, 2, sy, act);
}

/* The block with its window, dilation, row stride and activation as
 * constants (depthwise_rows_applies admits no other: k 3 or 5, dilation and
 * stride 1 or 2). Inlined into the plane's loop over blocks, so the block's
 * weights and row pointers stay in registers from block to block (called,
 * the 3x3 convs on 33x33 maps ran 10-17% slower). */
static inline __attribute__((always_inline)) void dwr_block_compute(const dwr_block *b, int64_t k, int64_t dil, int64_t sy, int32_t act) {
    if (sy == 1) dwr_block_window(b, k, dil, 1, act);
    else dwr_block_window(b, k, dil, 2, act);
}

static void depthwise_rows_plane(const conv_job *job, int64_t plane, dwr_rows *rows) {
    const conv_geom *g = job->g;
    const int64_t k = g->kernel[2], dil = g->dil[2];
    int64_t n = plane / g->M, oc = plane % g->M;
    const float *x = job->x + (n * g->C + oc / g->Mg) * g->in_plane;
    const float *w = job->w + oc * k * k;
    float *y = job->y + plane * g->out_plane;
    const int64_t OW = g->out[2], OH = g->out[1], sy = g->stride[1], sx = g->stride[2];
    const int64_t block_rows = dwr_block_rows(k, dil, sy), rows_read = dwr_rows_read(block_rows, k, dil, sy);
    dwr_block b;
    for (int64_t i = 0; i < k * k; i++) b.w[i] = (v16f){0} + w[i];
    b.bias = (v16f){0} + (g->has_bias ? job->b[oc] : 0.0f);
    b.lo = (v16f){0} + g->ep.a;
    b.hi = (v16f){0} + g->ep.b;
    for (int64_t kx = 0; kx < k; kx++) b.tap[kx] = (kx * dil % sx) * rows->phase_w + kx * dil / sx;
    b.OW = OW;
    for (int s = 0; s < DWR_SLOTS; s++) rows->held[s] = -1;
    /* Relu and Clip are applied in registers, other activations by the
     * epilogue once a block's rows are stored */
    int32_t act = g->ep.act;
    bool in_registers = act == DLC_EP_NONE || act == DLC_EP_RELU || act == DLC_EP_CLIP;
    dlc_epilogue ep = g->ep;
    ep.residual_ld = OW; /* applied to a block of rows */
    for (int64_t oy = 0; oy < OH; oy += block_rows) {
        for (int64_t i = 0; i < rows_read; i++) b.in[i] = dwr_row(rows, g, x, oy * sy - g->pad[1] + i);
        b.y = y + oy * OW;
        b.rows = min64(block_rows, OH - oy);
        b.res = job->residual != NULL && in_registers ? job->residual + (b.y - job->y) : NULL;
        b.room = g->out_plane - oy * OW; /* the residual is laid out like Y, never Y itself (memory_plan.c) */
        dwr_block_compute(&b, k, dil, sy, in_registers ? act : DLC_EP_NONE);
        if (!in_registers) {
            ep.residual = job->residual != NULL ? job->residual + (b.y - job->y) : NULL;
            dlc_epilogue_apply(&ep, b.y, OW, 0, b.rows, 0, OW);
        }
    }
}

static void depthwise_rows_range(void *arg, int64_t begin, int64_t end) {
    const conv_job *job = arg;
    _Alignas(64) float buf[DWR_BUF_FLOATS];
    dwr_rows rows;
    dwr_rows_init(&rows, job->g, buf);
    rows.x_begin = job->x;
    rows.x_end = job->x + job->g->N * job->g->C * job->g->in_plane;
    for (int64_t plane = begin; plane < end; plane++) depthwise_rows_plane(job, plane, &rows);
}

/* ---- conv, any float dtype, direct ------------------------------------------------- */

static void conv_direct_generic(const conv_geom *g, int32_t t, const void *x, const void *w, const void *b, void *y) {
    for (int64_t n = 0; n < g->N; n++)
        for (int64_t m = 0; m < g->M; m++) {
            int64_t gi = m / g->Mg;
            for (int64_t o = 0; o < g->out_plane; o++) {
                int64_t ox = o % g->out[2], oy = (o / g->out[2]) % g->out[1], oz = o / (g->out[2] * g->out[1]);
                double sum = b != NULL ? dlc_kload_f(b, t, m) : 0.0;
                for (int64_t c = 0; c < g->Cg; c++) {
                    int64_t xc = (n * g->C + gi * g->Cg + c) * g->in_plane;
                    int64_t wc = (m * g->Cg + c) * g->kvol;
                    for (int64_t kz = 0; kz < g->kernel[0]; kz++) {
                        int64_t iz = oz * g->stride[0] - g->pad[0] + kz * g->dil[0];
                        if (iz < 0 || iz >= g->in[0]) continue;
                        for (int64_t ky = 0; ky < g->kernel[1]; ky++) {
                            int64_t iy = oy * g->stride[1] - g->pad[1] + ky * g->dil[1];
                            if (iy < 0 || iy >= g->in[1]) continue;
                            for (int64_t kx = 0; kx < g->kernel[2]; kx++) {
                                int64_t ix = ox * g->stride[2] - g->pad[2] + kx * g->dil[2];
                                if (ix < 0 || ix >= g->in[2]) continue;
                                sum += dlc_kload_f(x, t, xc + (iz * g->in[1] + iy) * g->in[2] + ix) *
                                       dlc_kload_f(w, t, wc + (kz * g->kernel[1] + ky) * g->kernel[2] + kx);
                            }
                        }
                    }
                }
                dlc_kstore_f(y, t, (n * g->M + m) * g->out_plane + o, sum);
            }
        }
}

int64_t dlc_kernel_conv_workspace(const dlc_kparams *p) {
    if (dlc_kp_out(p, 0)->dtype != DLC_KT_FLOAT32) return 0;
    conv_geom g = conv_geometry(p, false);
    if (conv_is_depthwise(&g)) return 0;
    if (g.w_layout == DLC_CONV_W_DIRECT)
        return direct_uses_slabs(&g) ? DLC_GEMM_MAX_THREADS * slab_window_bytes(&g) : conv_padded_bytes(&g);
    if (g.w_layout == DLC_CONV_W_PIXEL_MAJOR)
        return conv_padded_bytes(&g) + pixel_major_tmp_bytes(&g) +
               dlc_sgemm_workspace_packed(g.out_plane, g.M, g.C * g.kvol);
    return conv_padded_bytes(&g) + dlc_sgemm_workspace(g.Mg, g.out_plane, g.Cg * g.kvol);
}

int32_t dlc_kernel_conv(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx) {
    conv_geom g = conv_geometry(p, false);
    int32_t t = dlc_kp_out(p, 0)->dtype;
    const void *bias = g.has_bias ? inputs[2] : NULL;
    const float *residual = p->num_inputs > 3 && dlc_kp_in(p, 3)->dtype != 0 ? inputs[3] : NULL;
    if (t != DLC_KT_FLOAT32) {
        /* epilogues are fused for float32 only */
        if (!dlc_kdtype_is_float(t) || residual != NULL || g.ep.act != DLC_EP_NONE) return DLC_KERR_UNSUPPORTED;
        conv_direct_generic(&g, t, inputs[0], inputs[1], bias, outputs[0]);
        return DLC_KOK;
    }
    conv_job job = {.g = &g, .x = inputs[0], .w = inputs[1], .b = bias, .residual = residual, .y = outputs[0],
                    .ctx = ctx, .workspace = ctx->workspace};
    if (g.w_layout != DLC_CONV_W_PLAIN &&
        (g.group != 1 || g.packed_nr <= 0 || g.M % g.packed_nr != 0 ||
         (g.w_layout == DLC_CONV_W_DIRECT && ((g.packed_nr != 16 && g.packed_nr != 32) || g.kernel[0] != 1))))
        return DLC_KERR_UNSUPPORTED;
    /* NCHW16c is read and written by the direct loop only */
    if ((g.x_blocked || g.y_blocked) &&
        (g.w_layout != DLC_CONV_W_DIRECT || (g.x_blocked && g.C % 16 != 0) || g.in[0] != 1 || g.out[0] != 1))
        return DLC_KERR_UNSUPPORTED;
    if (conv_is_depthwise(&g)) {
        dlc_parallel_body body = depthwise_rows_applies(&g) ? depthwise_rows_range : depthwise_range;
        dlc_parallel_for(ctx, g.N * g.M, max64(1, 65536 / max64(1, g.out_plane * g.kvol)), body, &job);
        return DLC_KOK;
    }
    /* the slab variant pads as it goes, in the workspace */
    int64_t pad_bytes = g.w_layout == DLC_CONV_W_DIRECT && direct_uses_slabs(&g) ? 0 : conv_padded_bytes(&g);
    if (pad_bytes > 0) {
        conv_pad_input(&g, job.x, ctx->workspace, ctx);
        job.xpad = ctx->workspace;
        conv_padded_dims(&g, job.xpad_dims);
    }
    dlc_kctx gemm_ctx = *ctx; /* the GEMMs get the rest of the workspace */
    gemm_ctx.workspace = (char *)ctx->workspace + pad_bytes;
    gemm_ctx.workspace_size = ctx->workspace_size - pad_bytes;
    job.ctx = &gemm_ctx;
    job.workspace = gemm_ctx.workspace;
    if (g.w_layout == DLC_CONV_W_PIXEL_MAJOR) conv_pixel_major(&job, gemm_ctx.workspace, gemm_ctx.workspace_size);
    else if (g.w_layout == DLC_CONV_W_DIRECT) conv_direct_blocked(&job);
    else conv_gemm(&job);
    return DLC_KOK;
}

/* ---- conv_transpose ----------------------------------------------------------------
 * Y[n, gi*Mg + m, o] = B[m] + sum_{c, k: o = i*stride - pad + k*dil} X[n, gi*Cg + c, i] * W[gi*Cg + c, m, k] */

/* Column buffer rows: (m, kz, ky, kx); columns: input positions. */
static int64_t convt_cols_floats(const conv_geom *g) { return g->Mg * g->kvol * g->in_plane; }

int64_t dlc_kernel_conv_transpose_workspace(const dlc_kparams *p) {
    if (dlc_kp_out(p, 0)->dtype != DLC_KT_FLOAT32) return 0;
    conv_geom g = conv_geometry(p, true);
    int64_t cols_bytes = (convt_cols_floats(&g) * 4 + 63) / 64 * 64;
    return cols_bytes + dlc_sgemm_workspace(g.Mg * g.kvol, g.in_plane, g.Cg);
}

typedef struct col2im_job {
    const conv_geom *g;
    const float *cols;
    float *y; /* first output channel of the group in this image */
} col2im_job;

static void col2im_channels(void *arg, int64_t begin, int64_t end) {
    const col2im_job *job = arg;
    const conv_geom *g = job->g;
    for (int64_t m = begin; m < end; m++) {
        float *y = job->y + m * g->out_plane;
        for (int64_t kz = 0; kz < g->kernel[0]; kz++)
            for (int64_t ky = 0; ky < g->kernel[1]; ky++)
                for (int64_t kx = 0; kx < g->kernel[2]; kx++) {
                    const float *col = job->cols + ((m * g->kernel[0] + kz) * g->kernel[1] + ky) * g->kernel[2] * g->in_plane +
                                       kx * g->in_plane;
                    for (int64_t iz = 0; iz < g->in[0]; iz++) {
                        int64_t oz = iz * g->stride[0] - g->pad[0] + kz * g->dil[0];
                        if (oz < 0 || oz >= g->out[0]) continue;
                        for (int64_t iy = 0; iy < g->in[1]; iy++) {
                            int64_t oy = iy * g->stride[1] - g->pad[1] + ky * g->dil[1];
                            if (oy < 0 || oy >= g->out[1]) continue;
                            const float *crow = col + (iz * g->in[1] + iy) * g->in[2];
                            float *yrow = y + (oz * g->out[1] + oy) * g->out[2];
                            int64_t off = kx * g->dil[2] - g->pad[2], sx = g->stride[2];
                            for (int64_t ix = 0; ix < g->in[2]; ix++) {
                                int64_t ox = ix * sx + off;
                                if (ox >= 0 && ox < g->out[2]) yrow[ox] += crow[ix];
                            }
                        }
                    }
                }
    }
}

static void convt_f32(const conv_geom *g, const float *x, const float *w, const float *b, float *y,
                      const dlc_kctx *ctx) {
    int64_t cols_bytes = (convt_cols_floats(g) * 4 + 63) / 64 * 64;
    float *cols = ctx->workspace;
    char *gemm_ws = (char *)ctx->workspace + cols_bytes;
    int64_t rows = g->Mg * g->kvol;
    for (int64_t n = 0; n < g->N; n++)
        for (int64_t gi = 0; gi < g->group; gi++) {
            float *yg = y + (n * g->M + gi * g->Mg) * g->out_plane;
            for (int64_t m = 0; m < g->Mg; m++) {
                float bias = b != NULL ? b[gi * g->Mg + m] : 0.0f;
                for (int64_t o = 0; o < g->out_plane; o++) yg[m * g->out_plane + o] = bias;
            }
            /* cols[rows, in_plane] = W_g^T[rows, Cg] x X_g[Cg, in_plane]; W_g is [Cg, rows] */
            dlc_gemm_operand a = {w + gi * g->Cg * rows, 1, rows, NULL, 0, 0};
            dlc_gemm_operand bx = {x + (n * g->C + gi * g->Cg) * g->in_plane, g->in_plane, 1, NULL, 0, 0};
            dlc_sgemm(ctx, rows, g->in_plane, g->Cg, 1.0f, &a, &bx, 0.0f, cols, g->in_plane, gemm_ws,
                      ctx->workspace_size - cols_bytes);
            col2im_job job = {g, cols, yg};
            dlc_parallel_for(ctx, g->Mg, 1, col2im_channels, &job);
        }
}

/* Gather form: each output sums the taps whose input position is integral. */
static void convt_generic(const conv_geom *g, int32_t t, const void *x, const void *w, const void *b, void *y) {
    for (int64_t n = 0; n < g->N; n++)
        for (int64_t oc = 0; oc < g->M; oc++) {
            int64_t gi = oc / g->Mg, m = oc % g->Mg;
            for (int64_t o = 0; o < g->out_plane; o++) {
                int64_t opos[3] = {o / (g->out[2] * g->out[1]), (o / g->out[2]) % g->out[1], o % g->out[2]};
                double sum = b != NULL ? dlc_kload_f(b, t, oc) : 0.0;
                for (int64_t k = 0; k < g->kvol; k++) {
                    int64_t kpos[3] = {k / (g->kernel[2] * g->kernel[1]), (k / g->kernel[2]) % g->kernel[1], k % g->kernel[2]};
                    int64_t ipos[3];
                    bool ok = true;
                    for (int d = 0; d < 3 && ok; d++) {
                        int64_t num = opos[d] + g->pad[d] - kpos[d] * g->dil[d];
                        ok = num >= 0 && num % g->stride[d] == 0 && num / g->stride[d] < g->in[d];
                        ipos[d] = ok ? num / g->stride[d] : 0;
                    }
                    if (!ok) continue;
                    int64_t ioff = (ipos[0] * g->in[1] + ipos[1]) * g->in[2] + ipos[2];
                    for (int64_t c = 0; c < g->Cg; c++) {
                        int64_t ic = gi * g->Cg + c;
                        sum += dlc_kload_f(x, t, (n * g->C + ic) * g->in_plane + ioff) *
                               dlc_kload_f(w, t, (ic * g->Mg + m) * g->kvol + k);
                    }
                }
                dlc_kstore_f(y, t, (n * g->M + oc) * g->out_plane + o, sum);
            }
        }
}

int32_t dlc_kernel_conv_transpose(const dlc_kparams *p, void *const *inputs, void *const *outputs,
                                  const dlc_kctx *ctx) {
    conv_geom g = conv_geometry(p, true);
    int32_t t = dlc_kp_out(p, 0)->dtype;
    const void *bias = g.has_bias ? inputs[2] : NULL;
    if (t == DLC_KT_FLOAT32) convt_f32(&g, inputs[0], inputs[1], bias, outputs[0], ctx);
    else if (dlc_kdtype_is_float(t)) convt_generic(&g, t, inputs[0], inputs[1], bias, outputs[0]);
    else return DLC_KERR_UNSUPPORTED;
    return DLC_KOK;
}

#ifndef DLC_KERNEL_BITCODE
#include "kernels/kernel_registry.h"
const dlc_kernel_entry dlc_kernels_conv[] = {
    {"conv", dlc_kernel_conv, dlc_kernel_conv_workspace},
    {"conv_transpose", dlc_kernel_conv_transpose, dlc_kernel_conv_transpose_workspace},
    {NULL, NULL, NULL},
};
#endif
