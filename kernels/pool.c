/* Pooling kernels, 1-D to 3-D (leading unit dims pad lower ranks to 3-D).
 *
 * max_pool:  inputs X; outputs Y, [Indices int64].
 *            ints: [kernel[3], stride[3], dilation[3], pad_begin[3], storage_order,
 *            [blocked]]: blocked != 0, X and Y are NCHW16c (float32, 2-D, no Indices)
 * avg_pool:  inputs X; output Y.
 *            ints: [kernel[3], stride[3], dilation[3], pad_begin[3], pad_end[3], count_include_pad]
 * lp_pool:   inputs X; output Y. ints: [kernel[3], stride[3], dilation[3], pad_begin[3], p]
 * global_avg_pool, global_max_pool: inputs X; output Y[N,C,1...]. ints: [[blocked]]:
 *            blocked != 0, X is NCHW16c (float32; Y is the same either way)
 * Output sizes come from Y (ceil_mode and auto_pad are resolved at lowering).
 *
 * float32 runs row-wise loops that vectorize along output columns; other
 * dtypes (float16/bfloat16/float64, int8/uint8 for MaxPool) and MaxPool with
 * Indices use a per-element loop. */
#include <math.h>
#include <stdbool.h>

#include "kernels/kvalue.h"

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

typedef struct pool_geom {
    int64_t planes;           /* N * C */
    int64_t in[3], out[3], kernel[3], stride[3], dil[3], pad[3], pad_end[3];
    int64_t in_plane, out_plane;
} pool_geom;

static pool_geom pool_geometry(const dlc_kparams *p, bool has_pad_end) {
    const dlc_ktensor *x = dlc_kp_in(p, 0), *y = dlc_kp_out(p, 0);
    const int64_t *ints = dlc_kp_ints(p);
    pool_geom g;
    int32_t nsp = x->rank - 2;
    g.planes = x->dims[0] * x->dims[1];
    g.in_plane = g.out_plane = 1;
    for (int i = 0; i < 3; i++) {
        int32_t d = i - (3 - nsp);
        g.in[i] = d >= 0 ? x->dims[2 + d] : 1;
        g.out[i] = d >= 0 ? y->dims[2 + d] : 1;
        g.kernel[i] = ints != NULL && p->num_ints >= 12 ? ints[i] : g.in[i];
        g.stride[i] = ints != NULL && p->num_ints >= 12 ? ints[3 + i] : 1;
        g.dil[i] = ints != NULL && p->num_ints >= 12 ? ints[6 + i] : 1;
        g.pad[i] = ints != NULL && p->num_ints >= 12 ? ints[9 + i] : 0;
        g.pad_end[i] = has_pad_end ? ints[12 + i] : 0;
        g.in_plane *= g.in[i];
        g.out_plane *= g.out[i];
    }
    return g;
}

/* Taps k in [0, K) of one dim whose position o*s - pad + k*d lies in [lo, hi). */
static void tap_range(int64_t base, int64_t K, int64_t d, int64_t lo, int64_t hi, int64_t *k_begin, int64_t *k_end) {
    int64_t b = base >= lo ? 0 : (lo - base + d - 1) / d;
    int64_t e = base >= hi ? 0 : (hi - base + d - 1) / d;
    *k_begin = min64(b, K);
    *k_end = min64(max64(e, *k_begin), K);
}

static void store_any(void *data, int32_t t, int64_t i, double v) {
    if (dlc_kdtype_is_float(t)) dlc_kstore_f(data, t, i, v);
    else dlc_kstore_u(data, t, i, (uint64_t)(int64_t)v);
}

/* ---- per-element loop (any dtype, MaxPool indices) -------------------------------- *
 * Indices are flat positions in X; with storage_order 1 the spatial part is
 * column-major (first spatial dim fastest), as ONNX Runtime computes it. */

enum { POOL_MAX, POOL_AVG, POOL_LP };

typedef struct pool_job {
    const pool_geom *g;
    int kind;
    int32_t dtype;
    const void *x;
    void *y;
    int64_t *indices;         /* MaxPool's optional output */
    bool column_major;        /* MaxPool storage_order 1 */
    bool count_include_pad;   /* AveragePool */
    double p;                 /* LpPool */
} pool_job;

static void pool_generic_planes(void *arg, int64_t begin, int64_t end) {
    const pool_job *job = arg;
    const pool_geom *g = job->g;
    int32_t t = job->dtype;
    for (int64_t plane = begin; plane < end; plane++) {
        int64_t xbase = plane * g->in_plane;
        for (int64_t o = 0; o < g->out_plane; o++) {
            int64_t opos[3] = {o / (g->out[2] * g->out[1]), (o / g->out[2]) % g->out[1], o % g->out[2]};
            int64_t kb[3], ke[3], base[3];
            int64_t count_padded = 1;
            for (int d = 0; d < 3; d++) {
                base[d] = opos[d] * g->stride[d] - g->pad[d];
                tap_range(base[d], g->kernel[d], g->dil[d], 0, g->in[d], &kb[d], &ke[d]);
                int64_t pb, pe;
                tap_range(base[d], g->kernel[d], g->dil[d], -g->pad[d], g->in[d] + g->pad_end[d], &pb, &pe);
                count_padded *= pe - pb;
            }
            double acc = job->kind == POOL_MAX ? -INFINITY : 0.0;
            int64_t best = -1, count = 0;
            for (int64_t kz = kb[0]; kz < ke[0]; kz++)
                for (int64_t ky = kb[1]; ky < ke[1]; ky++)
                    for (int64_t kx = kb[2]; kx < ke[2]; kx++) {
                        int64_t iz = base[0] + kz * g->dil[0], iy = base[1] + ky * g->dil[1], ix = base[2] + kx * g->dil[2];
                        int64_t off = (iz * g->in[1] + iy) * g->in[2] + ix;
                        double v = dlc_kload_f(job->x, t, xbase + off);
                        count++;
                        if (job->kind == POOL_MAX) {
                            if (best < 0 || v > acc) {
                                acc = v;
                                best = job->column_major ? iz + (iy + ix * g->in[1]) * g->in[0] : off;
                            }
                        } else if (job->kind == POOL_AVG) {
                            acc += v;
                        } else {
                            acc += job->p == 2.0 ? v * v : pow(fabs(v), job->p);
                        }
                    }
            if (job->kind == POOL_MAX && best < 0) acc = 0.0; /* empty window (not produced by valid shapes) */
            if (job->kind == POOL_AVG) acc /= (double)(job->count_include_pad ? count_padded : max64(count, 1));
            if (job->kind == POOL_LP) acc = job->p == 2.0 ? sqrt(acc) : pow(acc, 1.0 / job->p);
            store_any(job->y, t, plane * g->out_plane + o, acc);
            if (job->indices != NULL) job->indices[plane * g->out_plane + o] = xbase + (best < 0 ? 0 : best);
        }
    }
}

/* ---- float32 row-wise loops ------------------------------------------------------ */

static void pool_f32_planes(void *arg, int64_t begin, int64_t end) {
    const pool_job *job = arg;
    const pool_geom *g = job->g;
    const int64_t OW = g->out[2], IW = g->in[2], sx = g->stride[2];
    bool is_max = job->kind == POOL_MAX;
    for (int64_t plane = begin; plane < end; plane++) {
        const float *x = (const float *)job->x + plane * g->in_plane;
        float *y = (float *)job->y + plane * g->out_plane;
        for (int64_t oz = 0; oz < g->out[0]; oz++)
            for (int64_t oy = 0; oy < g->out[1]; oy++) {
                float *yrow = y + (oz * g->out[1] + oy) * OW;
                for (int64_t ox = 0; ox < OW; ox++) yrow[ox] = is_max ? -INFINITY : 0.0f;
                int64_t bz = oz * g->stride[0] - g->pad[0], by = oy * g->stride[1] - g->pad[1];
                int64_t kz0, kz1, ky0, ky1;
                tap_range(bz, g->kernel[0], g->dil[0], 0, g->in[0], &kz0, &kz1);
                tap_range(by, g->kernel[1], g->dil[1], 0, g->in[1], &ky0, &ky1);
                for (int64_t kz = kz0; kz < kz1; kz++)
                    for (int64_t ky = ky0; ky < ky1; ky++) {
                        const float *xrow = x + ((bz + kz * g->dil[0]) * g->in[1] + by + ky * g->dil[1]) * IW;
                        for (int64_t kx = 0; kx < g->kernel[2]; kx++) {
                            int64_t off = kx * g->dil[2] - g->pad[2]; /* ix = ox * sx + off */
                            int64_t lo = off >= 0 ? 0 : (-off + sx - 1) / sx;
                            int64_t hi = min64(IW - off <= 0 ? 0 : (IW - off + sx - 1) / sx, OW);
                            if (is_max) {
                                for (int64_t ox = lo; ox < hi; ox++) {
                                    float v = xrow[ox * sx + off];
                                    yrow[ox] = v > yrow[ox] ? v : yrow[ox];
                                }
                            } else {
                                for (int64_t ox = lo; ox < hi; ox++) yrow[ox] += xrow[ox * sx + off];
                            }
                        }
                    }
                if (is_max) continue;
                /* divisor: taps inside the input (or the padded input) per dim */
                int64_t pz0 = kz0, pz1 = kz1, py0 = ky0, py1 = ky1;
                if (job->count_include_pad) {
                    tap_range(bz, g->kernel[0], g->dil[0], -g->pad[0], g->in[0] + g->pad_end[0], &pz0, &pz1);
                    tap_range(by, g->kernel[1], g->dil[1], -g->pad[1], g->in[1] + g->pad_end[1], &py0, &py1);
                }
                int64_t outer = (pz1 - pz0) * (py1 - py0);
                for (int64_t ox = 0; ox < OW; ox++) {
                    int64_t bx = ox * sx - g->pad[2], k0, k1;
                    if (job->count_include_pad) tap_range(bx, g->kernel[2], g->dil[2], -g->pad[2], IW + g->pad_end[2], &k0, &k1);
                    else tap_range(bx, g->kernel[2], g->dil[2], 0, IW, &k0, &k1);
                    int64_t count = outer * (k1 - k0);
                    yrow[ox] = count > 0 ? yrow[ox] / (float)count : 0.0f;
                }
            }
    }
}

/* ---- float32 2-D, no dilation ------------------------------------------------------
 * The CNN cases (2x2 stride 2, 3x3 stride 2 with pad 1, ...). Per output row,
 * the columns whose window lies inside the input run one loop with the
 * kernel width and stride as constants (pool2d_cols is inlined with literal
 * KW/SX), so the taps unroll and the strided loads vectorize; the few border
 * columns clip their window. Max keeps the row-wise loop's rule
 * (v > acc ? v : acc from -inf, so NaN is skipped), average its divisors. */

static inline void pool2d_cols(const float *const *rows, int64_t nrows, float *y, int64_t lo, int64_t hi,
                               int64_t KW, int64_t SX, int64_t px, bool is_max, float count) {
    for (int64_t ox = lo; ox < hi; ox++) y[ox] = is_max ? -INFINITY : 0.0f;
    /* row by row into y, so that the innermost loop runs along ox (taps in
     * the same order as the row-wise loop: row, then column) */
    for (int64_t r = 0; r < nrows; r++) {
        const float *row = rows[r];
        for (int64_t ox = lo; ox < hi; ox++) {
            float acc = y[ox];
            for (int64_t kx = 0; kx < KW; kx++) {
                float v = row[ox * SX - px + kx];
                acc = is_max ? (v > acc ? v : acc) : acc + v;
            }
            y[ox] = acc;
        }
    }
    if (!is_max)
        for (int64_t ox = lo; ox < hi; ox++) y[ox] /= count;
}

/* Max pooling, separably: the maximum down the window's rows for every
 * input column the interior windows touch (contiguous loads along a row),
 * then across each window's KW columns of that one row. Per output row
 * this reads each input element once instead of once per window holding it
 * and writes y once: ResNet's 3x3 stride-2 max pool took 0.35 ms where
 * ONNX Runtime's took 0.11. Columns then rows gives the same maximum (NaN
 * is skipped either way; only the sign of a zero maximum may differ). */
enum { POOL_ROW_MAX = 4096 };

static inline void pool2d_max_cols(const float *const *rows, int64_t nrows, float *y, int64_t lo, int64_t hi,
                                   int64_t KW, int64_t SX, int64_t px, int64_t IW) {
    float colmax[POOL_ROW_MAX];
    /* input columns [x0, x1); those outside [0, IW) are padding, -inf, so
     * the border windows need no clipping of their own */
    const int64_t x0 = lo * SX - px, x1 = (hi - 1) * SX - px + KW;
    const int64_t in0 = max64(x0, 0), in1 = min64(x1, IW);
    for (int64_t ix = x0; ix < x1; ix++) colmax[ix - x0] = -INFINITY;
    for (int64_t r = 0; r < nrows; r++) {
        const float *row = rows[r];
        for (int64_t ix = in0; ix < in1; ix++) {
            float v = row[ix], acc = colmax[ix - x0];
            colmax[ix - x0] = v > acc ? v : acc;
        }
    }
    for (int64_t ox = lo; ox < hi; ox++) {
        float acc = -INFINITY;
        for (int64_t kx = 0; kx < KW; kx++) {
            float v = colmax[(ox - lo) * SX + kx];
            acc = v > acc ? v : acc;
        }
        y[ox] = acc;
    }
}

/* pool2d_cols with the kernel width, stride and pool kind as constants */
#define POOL2D_COLS(KW_, SX_)                                                                      \
    (is_max ? (separable ? pool2d_max_cols(rows, nrows, yrow, lo, hi, KW_, SX_, px, IW)            \
                         : pool2d_cols(rows, nrows, yrow, lo, hi, KW_, SX_, px, true, count))      \
            : pool2d_cols(rows, nrows, yrow, lo, hi, KW_, SX_, px, false, count))

static void pool2d_f32_planes(void *arg, int64_t begin, int64_t end) {
    const pool_job *job = arg;
    const pool_geom *g = job->g;
    const int64_t IH = g->in[1], IW = g->in[2], OH = g->out[1], OW = g->out[2];
    const int64_t KH = g->kernel[1], KW = g->kernel[2], SY = g->stride[1], SX = g->stride[2];
    const int64_t py = g->pad[1], px = g->pad[2];
    const bool is_max = job->kind == POOL_MAX, incl = job->count_include_pad;
    /* columns [lo, hi) have bx = ox*SX - px >= 0 and bx + KW <= IW */
    int64_t lo = min64((px + SX - 1) / SX, OW);
    int64_t hi = IW + px - KW < 0 ? 0 : min64((IW + px - KW) / SX + 1, OW);
    if (hi < lo) hi = lo;
    /* windows of 3x3 and up; 2x2 ran 20% slower separably (one more pass).
     * Max pools take every column so, the border ones padded with -inf:
     * on GoogLeNet's 14x14 and 7x7 maps the clipped border windows had cost
     * more than the interior */
    const bool separable = KW >= 3 && KH >= 3 && is_max && (OW - 1) * SX + KW <= POOL_ROW_MAX;
    if (separable) lo = 0, hi = OW;
    const float *rows[16];
    for (int64_t plane = begin; plane < end; plane++) {
        const float *x = (const float *)job->x + plane * g->in_plane;
        float *y = (float *)job->y + plane * g->out_plane;
        for (int64_t oy = 0; oy < OH; oy++) {
            float *yrow = y + oy * OW;
            int64_t by = oy * SY - py, ky0, ky1, pk0, pk1;
            tap_range(by, KH, 1, 0, IH, &ky0, &ky1);
            int64_t nrows = ky1 - ky0;
            for (int64_t r = 0; r < nrows; r++) rows[r] = x + (by + ky0 + r) * IW;
            pk0 = ky0, pk1 = ky1;
            if (incl) tap_range(by, KH, 1, -py, IH + g->pad_end[1], &pk0, &pk1);
            float count = (float)((pk1 - pk0) * KW); /* interior windows: all KW columns */
            if (KW == 2 && SX == 2) POOL2D_COLS(2, 2);
            else if (KW == 3 && SX == 2) POOL2D_COLS(3, 2);
            else if (KW == 3 && SX == 1) POOL2D_COLS(3, 1);
            else if (KW == 2 && SX == 1) POOL2D_COLS(2, 1);
            else if (separable) pool2d_max_cols(rows, nrows, yrow, lo, hi, KW, SX, px, IW);
            else pool2d_cols(rows, nrows, yrow, lo, hi, KW, SX, px, is_max, count);
            /* border columns: the window clipped to the input */
            for (int64_t ox = 0; ox < OW; ox++) {
                if (ox == lo) ox = hi;
                if (ox >= OW) break;
                int64_t bx = ox * SX - px, k0, k1;
                tap_range(bx, KW, 1, 0, IW, &k0, &k1);
                float acc = is_max ? -INFINITY : 0.0f;
                for (int64_t r = 0; r < nrows; r++)
                    for (int64_t kx = k0; kx < k1; kx++) {
                        float v = rows[r][bx + kx];
                        acc = is_max ? (v > acc ? v : acc) : acc + v;
                    }
                if (!is_max) {
                    int64_t c0 = k0, c1 = k1;
                    if (incl) tap_range(bx, KW, 1, -px, IW + g->pad_end[2], &c0, &c1);
                    int64_t taps = (pk1 - pk0) * (c1 - c0);
                    acc = taps > 0 ? acc / (float)taps : 0.0f;
                }
                yrow[ox] = acc;
            }
        }
    }
}

/* pool2d_f32_planes' domain: 2-D (the padded leading dim is 1), float32,
 * dilation 1, at most 16 window rows, and windows that hold an input row
 * (no all-padding windows, which the row-wise loop handles). */
static bool pool2d_fits(const pool_geom *g) {
    return g->in[0] == 1 && g->out[0] == 1 && g->kernel[0] == 1 && g->pad[0] == 0 && g->dil[1] == 1 &&
           g->dil[2] == 1 && g->kernel[1] <= 16 && g->pad[1] < g->kernel[1] && g->pad[2] < g->kernel[2] &&
           g->pad_end[1] < g->kernel[1] && g->pad_end[2] < g->kernel[2];
}

/* ---- float32 2-D max pool, odd K x K window, stride 1, the input's size ----
 * Inception's 3x3 branch pools and YOLO's 5x5 SPPF pools, on maps of 7x7 to
 * 40x40: the plane is one flat array, so the maximum down the window's rows
 * and then across its columns are each a few passes over all its pixels
 * (per output row, a 14x14 map's rows had been shorter than a vector plus
 * the loop overheads); the rows and columns whose window the map clips are
 * redone afterwards. Taps in the separable path's order, so the same rule
 * (v > acc ? v : acc from -inf: NaN is skipped). */
enum { POOL_PLANE_MAX = 4096 };

static bool pool_same_max_fits(const pool_geom *g) {
    const int64_t K = g->kernel[1];
    return g->in[0] == 1 && g->kernel[0] == 1 && K == g->kernel[2] && K % 2 == 1 && K <= 7 && g->stride[1] == 1 &&
           g->stride[2] == 1 && g->dil[1] == 1 && g->dil[2] == 1 && g->pad[1] == K / 2 && g->pad[2] == K / 2 &&
           g->out[1] == g->in[1] && g->out[2] == g->in[2] && g->in_plane <= POOL_PLANE_MAX;
}

static inline float max_rule(float v, float acc) { return v > acc ? v : acc; }

static void pool_same_max_plane(const pool_geom *g, const float *restrict x, float *restrict y, float *restrict vm) {
    const int64_t H = g->in[1], W = g->in[2], p = g->kernel[1] / 2, n = H * W;
    /* down the rows: vm = the maximum of each pixel's window rows */
    for (int64_t i = 0; i < n; i++) vm[i] = -INFINITY;
    for (int64_t dy = -p; dy <= p; dy++) {
        int64_t r0 = max64(0, -dy), r1 = min64(H, H - dy); /* rows whose row + dy is inside */
        for (int64_t i = r0 * W; i < r1 * W; i++) vm[i] = max_rule(x[i + dy * W], vm[i]);
    }
    /* across the columns, as if rows ran on; then the clipped columns */
    for (int64_t i = 0; i < n; i++) y[i] = -INFINITY;
    for (int64_t dx = -p; dx <= p; dx++)
        for (int64_t i = p; i < n - p; i++) y[i] = max_rule(vm[i + dx], y[i]);
    for (int64_t r = 0; r < H; r++)
        for (int64_t c = 0; c < W; c++) {
            if (c == p && W - p > p) c = W - p; /* interior columns are done */
            float acc = -INFINITY;
            for (int64_t dx = max64(-p, -c); dx <= min64(p, W - 1 - c); dx++) acc = max_rule(vm[r * W + c + dx], acc);
            y[r * W + c] = acc;
        }
}

static void pool_same_max_planes(void *arg, int64_t begin, int64_t end) {
    const pool_job *job = arg;
    const pool_geom *g = job->g;
    float vm[POOL_PLANE_MAX];
    for (int64_t plane = begin; plane < end; plane++)
        pool_same_max_plane(g, (const float *)job->x + plane * g->in_plane, (float *)job->y + plane * g->out_plane,
                            vm);
}

static void run_pool(const dlc_kctx *ctx, pool_job *job, bool fast) {
    const pool_geom *g = job->g;
    int64_t work = max64(1, g->out_plane * g->kernel[0] * g->kernel[1] * g->kernel[2]);
    void (*body)(void *, int64_t, int64_t) = pool_generic_planes;
    if (fast) body = pool2d_fits(g) ? pool2d_f32_planes : pool_f32_planes;
    if (fast && job->kind == POOL_MAX && pool_same_max_fits(g)) body = pool_same_max_planes;
    dlc_parallel_for(ctx, g->planes, max64(1, 32768 / work), body, job);
}

/* ---- max pool over NCHW16c (ints[13] set by passes/blocked_layout.c) ----
 * X and Y are [N, C/16, H, W, 16]: a window's max is taken over vectors of
 * 16 channels, one output row of one block per task. */

typedef float v16f __attribute__((vector_size(64), aligned(4)));
typedef int32_t v16i __attribute__((vector_size(64), aligned(4)));

typedef struct blocked_pool_job {
    const pool_geom *g;
    const float *x;
    float *y;
} blocked_pool_job;

static void max_pool_blocked_rows(void *arg, int64_t begin, int64_t end) {
    const blocked_pool_job *job = arg;
    const pool_geom *g = job->g;
    const int64_t IH = g->in[1], IW = g->in[2], OH = g->out[1], OW = g->out[2];
    for (int64_t task = begin; task < end; task++) {
        int64_t block = task / OH, oy = task % OH;
        const float *x = job->x + block * IH * IW * 16;
        float *y = job->y + (block * OH + oy) * OW * 16;
        int64_t by = oy * g->stride[1] - g->pad[1], ky0, ky1;
        tap_range(by, g->kernel[1], g->dil[1], 0, IH, &ky0, &ky1);
        for (int64_t ox = 0; ox < OW; ox++) {
            int64_t bx = ox * g->stride[2] - g->pad[2], kx0, kx1;
            tap_range(bx, g->kernel[2], g->dil[2], 0, IW, &kx0, &kx1);
            v16f m = (v16f){0} - INFINITY;
            for (int64_t ky = ky0; ky < ky1; ky++) {
                const float *row = x + (by + ky * g->dil[1]) * IW * 16;
                for (int64_t kx = kx0; kx < kx1; kx++) {
                    v16f v = *(const v16f *)(row + (bx + kx * g->dil[2]) * 16);
                    /* v > m ? v : m per lane (a NaN tap is skipped, as in the NCHW kernels) */
                    v16i take = v > m;
                    m = (v16f)(((v16i)v & take) | ((v16i)m & ~take));
                }
            }
            *(v16f *)(y + ox * 16) = m;
        }
    }
}

int32_t dlc_kernel_max_pool(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx) {
    pool_geom g = pool_geometry(p, false);
    bool want_indices = p->num_outputs > 1 && dlc_kp_out(p, 1)->dtype != 0;
    if (p->num_ints > 13 && dlc_kp_ints(p)[13] != 0) {
        const dlc_ktensor *x = dlc_kp_in(p, 0);
        if (want_indices || x->dtype != DLC_KT_FLOAT32 || x->rank != 4 || x->dims[1] % 16 != 0)
            return DLC_KERR_UNSUPPORTED;
        blocked_pool_job job = {.g = &g, .x = inputs[0], .y = outputs[0]};
        int64_t tasks = g.planes / 16 * g.out[1];
        dlc_parallel_for(ctx, tasks, max64(1, 2048 / max64(1, g.out[2] * g.kernel[1] * g.kernel[2])),
                         max_pool_blocked_rows, &job);
        return DLC_KOK;
    }
    pool_job job = {.g = &g, .kind = POOL_MAX, .dtype = dlc_kp_in(p, 0)->dtype, .x = inputs[0], .y = outputs[0],
                    .indices = want_indices ? outputs[1] : NULL, .column_major = dlc_kp_ints(p)[12] != 0};
    run_pool(ctx, &job, job.dtype == DLC_KT_FLOAT32 && !want_indices);
    return DLC_KOK;
}

int32_t dlc_kernel_avg_pool(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx) {
    pool_geom g = pool_geometry(p, true);
    pool_job job = {.g = &g, .kind = POOL_AVG, .dtype = dlc_kp_in(p, 0)->dtype, .x = inputs[0], .y = outputs[0],
                    .count_include_pad = dlc_kp_ints(p)[15] != 0};
    if (!dlc_kdtype_is_float(job.dtype)) return DLC_KERR_UNSUPPORTED;
    run_pool(ctx, &job, job.dtype == DLC_KT_FLOAT32);
    return DLC_KOK;
}

int32_t dlc_kernel_lp_pool(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx) {
    pool_geom g = pool_geometry(p, false);
    pool_job job = {.g = &g, .kind = POOL_LP, .dtype = dlc_kp_in(p, 0)->dtype, .x = inputs[0], .y = outputs[0],
                    .p = (double)dlc_kp_ints(p)[12]};
    if (!dlc_kdtype_is_float(job.dtype)) return DLC_KERR_UNSUPPORTED;
    run_pool(ctx, &job, false);
    return DLC_KOK;
}

/* ---- global pools --------------------------------------------------------------- */

#define POOL_LANES 16

typedef struct global_job {
    int64_t plane;
    int32_t dtype;
    const void *x;
    void *y;
    bool is_max;
    bool blocked; /* float32 X in NCHW16c: plane c's pixel i at (c / 16 * plane + i) * 16 + c % 16 */
} global_job;

/* The sum or max of n floats step apart (a constant at each call), in
 * POOL_LANES partial results: vectorizes along a contiguous plane without
 * reassociating adds. */
static inline __attribute__((always_inline)) double global_plane_f32(const float *x, int64_t n, int64_t step,
                                                                    bool is_max) {
    float part[POOL_LANES];
    for (int l = 0; l < POOL_LANES; l++) part[l] = is_max ? -INFINITY : 0.0f;
    int64_t i = 0;
    for (; i + POOL_LANES <= n; i += POOL_LANES)
        for (int l = 0; l < POOL_LANES; l++) {
            float v = x[(i + l) * step];
            part[l] = is_max ? (v > part[l] ? v : part[l]) : part[l] + v;
        }
    double acc = is_max ? -INFINITY : 0.0;
    for (int l = 0; l < POOL_LANES; l++) acc = is_max ? (part[l] > acc ? part[l] : acc) : acc + part[l];
    for (; i < n; i++) acc = is_max ? (x[i * step] > acc ? x[i * step] : acc) : acc + x[i * step];
    return acc;
}

static void global_planes(void *arg, int64_t begin, int64_t end) {
    const global_job *job = arg;
    int64_t n = job->plane;
    for (int64_t c = begin; c < end; c++) {
        double result;
        if (job->dtype == DLC_KT_FLOAT32 && job->blocked) {
            /* the NCHW loop's sums in its order over the block's lane: the same bits */
            result = global_plane_f32((const float *)job->x + (c / 16 * n) * 16 + c % 16, n, 16, job->is_max);
        } else if (job->dtype == DLC_KT_FLOAT32) {
            result = global_plane_f32((const float *)job->x + c * n, n, 1, job->is_max);
        } else {
            double acc = job->is_max ? -INFINITY : 0.0;
            for (int64_t i = 0; i < n; i++) {
                double v = dlc_kload_f(job->x, job->dtype, c * n + i);
                acc = job->is_max ? (v > acc ? v : acc) : acc + v;
            }
            result = acc;
        }
        if (!job->is_max) result /= (double)(n > 0 ? n : 1);
        store_any(job->y, job->dtype, c, result);
    }
}

static int32_t global_pool(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx,
                           bool is_max) {
    const dlc_ktensor *x = dlc_kp_in(p, 0);
    int64_t planes = x->dims[0] * x->dims[1];
    global_job job = {planes > 0 ? x->numel / planes : 0, x->dtype, inputs[0], outputs[0], is_max, false};
    if (!dlc_kdtype_is_float(job.dtype)) return DLC_KERR_UNSUPPORTED;
    job.blocked = p->num_ints > 0 && dlc_kp_ints(p)[0] != 0;
    if (job.blocked && (job.dtype != DLC_KT_FLOAT32 || x->dims[1] % 16 != 0)) return DLC_KERR_UNSUPPORTED;
    dlc_parallel_for(ctx, planes, max64(1, 65536 / max64(1, job.plane)), global_planes, &job);
    return DLC_KOK;
}

int32_t dlc_kernel_global_avg_pool(const dlc_kparams *p, void *const *inputs, void *const *outputs,
                                   const dlc_kctx *ctx) {
    return global_pool(p, inputs, outputs, ctx, false);
}

int32_t dlc_kernel_global_max_pool(const dlc_kparams *p, void *const *inputs, void *const *outputs,
                                   const dlc_kctx *ctx) {
    return global_pool(p, inputs, outputs, ctx, true);
}

#ifndef DLC_KERNEL_BITCODE
#include "kernels/kernel_registry.h"
const dlc_kernel_entry dlc_kernels_pool[] = {
    {"max_pool", dlc_kernel_max_pool, NULL},
    {"avg_pool", dlc_kernel_avg_pool, NULL},
    {"lp_pool", dlc_kernel_lp_pool, NULL},
    {"global_avg_pool", dlc_kernel_global_avg_pool, NULL},
    {"global_max_pool", dlc_kernel_global_max_pool, NULL},
    {NULL, NULL, NULL},
};
#endif
