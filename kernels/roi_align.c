/* roi_align: see ir/ops/roi_align.c. ints: max_mode, sampling_ratio,
 * half_pixel; floats: spatial_scale. Samples outside [-1, size] count as 0. */
#include <math.h>

#include "kernels/kvalue.h"

static double bilinear(const void *x, int32_t dtype, int64_t plane, int64_t H, int64_t W, double y, double xx) {
    if (y < -1.0 || y > (double)H || xx < -1.0 || xx > (double)W) return 0.0;
    if (y <= 0) y = 0;
    if (xx <= 0) xx = 0;
    int64_t y0 = (int64_t)y, x0 = (int64_t)xx, y1, x1;
    if (y0 >= H - 1) y0 = y1 = H - 1, y = (double)y0;
    else y1 = y0 + 1;
    if (x0 >= W - 1) x0 = x1 = W - 1, xx = (double)x0;
    else x1 = x0 + 1;
    double ly = y - (double)y0, lx = xx - (double)x0, hy = 1.0 - ly, hx = 1.0 - lx;
    return hy * hx * dlc_kload_f(x, dtype, plane + y0 * W + x0) + hy * lx * dlc_kload_f(x, dtype, plane + y0 * W + x1) +
           ly * hx * dlc_kload_f(x, dtype, plane + y1 * W + x0) + ly * lx * dlc_kload_f(x, dtype, plane + y1 * W + x1);
}

int32_t dlc_kernel_roi_align(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx) {
    const dlc_ktensor *x = dlc_kp_in(p, 0), *rois = dlc_kp_in(p, 1), *out = dlc_kp_out(p, 0);
    const int64_t *ints = dlc_kp_ints(p);
    int64_t max_mode = ints[0], ratio = ints[1], half_pixel = ints[2];
    double scale = dlc_kp_floats(p)[0], offset = half_pixel ? 0.5 : 0.0;
    int64_t N = x->dims[0], C = x->dims[1], H = x->dims[2], W = x->dims[3];
    int64_t R = out->dims[0], OH = out->dims[2], OW = out->dims[3];
    const int64_t *batch = inputs[2];
    for (int64_t r = 0; r < R; r++) {
        if (batch[r] < 0 || batch[r] >= N) return DLC_KERR_INDEX_OUT_OF_RANGE;
        double x1 = dlc_kload_f(inputs[1], rois->dtype, r * 4) * scale - offset;
        double y1 = dlc_kload_f(inputs[1], rois->dtype, r * 4 + 1) * scale - offset;
        double x2 = dlc_kload_f(inputs[1], rois->dtype, r * 4 + 2) * scale - offset;
        double y2 = dlc_kload_f(inputs[1], rois->dtype, r * 4 + 3) * scale - offset;
        double roi_w = x2 - x1, roi_h = y2 - y1;
        if (!half_pixel) { /* the old mode forces rois to be at least 1x1 */
            if (roi_w < 1.0) roi_w = 1.0;
            if (roi_h < 1.0) roi_h = 1.0;
        }
        double bin_h = roi_h / (double)OH, bin_w = roi_w / (double)OW;
        int64_t sy = ratio > 0 ? ratio : (int64_t)ceil(roi_h / (double)OH);
        int64_t sx = ratio > 0 ? ratio : (int64_t)ceil(roi_w / (double)OW);
        if (sy < 1) sy = 1;
        if (sx < 1) sx = 1;
        for (int64_t c = 0; c < C; c++) {
            int64_t plane = (batch[r] * C + c) * H * W;
            for (int64_t oy = 0; oy < OH; oy++)
                for (int64_t ox = 0; ox < OW; ox++) {
                    double acc = max_mode ? -INFINITY : 0.0;
                    for (int64_t iy = 0; iy < sy; iy++)
                        for (int64_t ix = 0; ix < sx; ix++) {
                            double yy = y1 + (double)oy * bin_h + ((double)iy + 0.5) * bin_h / (double)sy;
                            double xx = x1 + (double)ox * bin_w + ((double)ix + 0.5) * bin_w / (double)sx;
                            double v = bilinear(inputs[0], x->dtype, plane, H, W, yy, xx);
                            acc = max_mode ? (v > acc ? v : acc) : acc + v;
                        }
                    if (!max_mode) acc /= (double)(sy * sx);
                    dlc_kstore_f(outputs[0], out->dtype, ((r * C + c) * OH + oy) * OW + ox, acc);
                }
        }
    }
    return DLC_KOK;
}

#ifndef DLC_KERNEL_BITCODE
#include "kernels/kernel_registry.h"
const dlc_kernel_entry dlc_kernels_roi_align[] = {
    {"roi_align", dlc_kernel_roi_align, NULL},
    {NULL, NULL, NULL},
};
#endif
