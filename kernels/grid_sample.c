/* grid_sample: see ir/ops/grid_sample.c. ints: mode (0 bilinear, 1 nearest,
 * 2 bicubic), padding (0 zeros, 1 border, 2 reflection), align_corners. */
#include <math.h>

#include "kernels/kvalue.h"

typedef struct sampler {
    const void *x;
    int32_t dtype;
    int64_t H, W, plane; /* plane: offset of the current (n, c) image */
    int64_t padding, align;
} sampler;

static double unnormalize(double v, int64_t size, int64_t align) {
    return align ? (v + 1.0) / 2.0 * (double)(size - 1) : ((v + 1.0) * (double)size - 1.0) / 2.0;
}

static double reflect(double v, int64_t size, int64_t align) {
    double twice_low = align ? 0.0 : -1.0, twice_high = align ? 2.0 * (double)(size - 1) : 2.0 * (double)size - 1.0;
    if (twice_low == twice_high) return 0.0;
    double lo = twice_low / 2.0, span = (twice_high - twice_low) / 2.0;
    v = fabs(v - lo);
    double extra = fmod(v, span);
    int64_t flips = (int64_t)floor(v / span);
    return flips % 2 == 0 ? extra + lo : span - extra + lo;
}

static double clip(double v, int64_t size) { return v < 0 ? 0 : v > (double)(size - 1) ? (double)(size - 1) : v; }

/* Source coordinate after the padding rule (bilinear and nearest). */
static double source_coordinate(double v, int64_t size, const sampler *s) {
    if (s->padding == 1) return clip(v, size);
    if (s->padding == 2) return clip(reflect(v, size, s->align), size);
    return v;
}

/* Pixel (y, x) with out-of-range taps handled by the padding rule (bicubic
 * applies it per tap; for the others, zeros is the only rule left to apply). */
static double pixel(const sampler *s, int64_t y, int64_t x) {
    if (s->padding == 1) {
        y = (int64_t)clip((double)y, s->H);
        x = (int64_t)clip((double)x, s->W);
    } else if (s->padding == 2) {
        y = (int64_t)clip(reflect((double)y, s->H, s->align), s->H);
        x = (int64_t)clip(reflect((double)x, s->W, s->align), s->W);
    }
    if (y < 0 || y >= s->H || x < 0 || x >= s->W) return 0.0;
    return dlc_kload_f(s->x, s->dtype, s->plane + y * s->W + x);
}

static double cubic_near(double t, double a) { return ((a + 2.0) * t - (a + 3.0)) * t * t + 1.0; }
static double cubic_far(double t, double a) { return ((a * t - 5.0 * a) * t + 8.0 * a) * t - 4.0 * a; }

static void cubic_weights(double t, double w[4]) {
    const double a = -0.75;
    w[0] = cubic_far(t + 1.0, a);
    w[1] = cubic_near(t, a);
    w[2] = cubic_near(1.0 - t, a);
    w[3] = cubic_far(2.0 - t, a);
}

int32_t dlc_kernel_grid_sample(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx) {
    const dlc_ktensor *x = dlc_kp_in(p, 0), *grid = dlc_kp_in(p, 1), *out = dlc_kp_out(p, 0);
    const int64_t *ints = dlc_kp_ints(p);
    int64_t mode = ints[0];
    sampler s = {inputs[0], x->dtype, x->dims[2], x->dims[3], 0, ints[1], ints[2]};
    int64_t N = x->dims[0], C = x->dims[1], Ho = out->dims[2], Wo = out->dims[3];
    for (int64_t n = 0; n < N; n++)
        for (int64_t c = 0; c < C; c++) {
            s.plane = (n * C + c) * s.H * s.W;
            for (int64_t oy = 0; oy < Ho; oy++)
                for (int64_t ox = 0; ox < Wo; ox++) {
                    int64_t gi = ((n * Ho + oy) * Wo + ox) * 2;
                    double gx = dlc_kload_f(inputs[1], grid->dtype, gi), gy = dlc_kload_f(inputs[1], grid->dtype, gi + 1);
                    double ix = unnormalize(gx, s.W, s.align), iy = unnormalize(gy, s.H, s.align), v;
                    if (mode == 2) {
                        double fx = floor(ix), fy = floor(iy), wx[4], wy[4];
                        cubic_weights(ix - fx, wx);
                        cubic_weights(iy - fy, wy);
                        v = 0.0;
                        for (int i = 0; i < 4; i++)
                            for (int j = 0; j < 4; j++)
                                v += wy[i] * wx[j] * pixel(&s, (int64_t)fy - 1 + i, (int64_t)fx - 1 + j);
                    } else {
                        ix = source_coordinate(ix, s.W, &s);
                        iy = source_coordinate(iy, s.H, &s);
                        if (mode == 1) {
                            v = pixel(&s, (int64_t)nearbyint(iy), (int64_t)nearbyint(ix));
                        } else {
                            double fx = floor(ix), fy = floor(iy), tx = ix - fx, ty = iy - fy;
                            int64_t x0 = (int64_t)fx, y0 = (int64_t)fy;
                            v = (1 - ty) * ((1 - tx) * pixel(&s, y0, x0) + tx * pixel(&s, y0, x0 + 1)) +
                                ty * ((1 - tx) * pixel(&s, y0 + 1, x0) + tx * pixel(&s, y0 + 1, x0 + 1));
                        }
                    }
                    dlc_kstore_f(outputs[0], out->dtype, ((n * C + c) * Ho + oy) * Wo + ox, v);
                }
        }
    return DLC_KOK;
}

#ifndef DLC_KERNEL_BITCODE
#include "kernels/kernel_registry.h"
const dlc_kernel_entry dlc_kernels_grid_sample[] = {
    {"grid_sample", dlc_kernel_grid_sample, NULL},
    {NULL, NULL, NULL},
};
#endif
