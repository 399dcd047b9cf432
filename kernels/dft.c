/* dft: direct transform along one axis (ir/ops/dft.c). ints: axis, length, inverse. */
#include <math.h>
#include <stdbool.h>

#include "kernels/kvalue.h"

int32_t dlc_kernel_dft(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx) {
    const dlc_ktensor *x = dlc_kp_in(p, 0), *out = dlc_kp_out(p, 0);
    int64_t axis = dlc_kp_ints(p)[0], n = dlc_kp_ints(p)[1], inverse = dlc_kp_ints(p)[2];
    int32_t signal_rank = x->rank - 1;
    int64_t comps = x->dims[signal_rank], in_len = x->dims[axis], out_len = out->dims[axis];
    int64_t outer = 1, inner = 1;
    for (int32_t d = 0; d < axis; d++) outer *= x->dims[d];
    for (int32_t d = (int32_t)axis + 1; d < signal_rank; d++) inner *= x->dims[d];
    const double sign = inverse ? 1.0 : -1.0, two_pi = 6.283185307179586476925286766559;
    int64_t used = in_len < n ? in_len : n;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++)
            for (int64_t k = 0; k < out_len; k++) {
                double re = 0.0, im = 0.0;
                for (int64_t t = 0; t < used; t++) {
                    int64_t at = ((o * in_len + t) * inner + i) * comps;
                    double xr = dlc_kload_f(inputs[0], x->dtype, at);
                    double xi = comps == 2 ? dlc_kload_f(inputs[0], x->dtype, at + 1) : 0.0;
                    double angle = sign * two_pi * (double)((k * t) % n) / (double)n;
                    double c = cos(angle), s = sin(angle);
                    re += xr * c - xi * s;
                    im += xr * s + xi * c;
                }
                if (inverse) re /= (double)n, im /= (double)n;
                int64_t dst = ((o * out_len + k) * inner + i) * 2;
                dlc_kstore_f(outputs[0], out->dtype, dst, re);
                dlc_kstore_f(outputs[0], out->dtype, dst + 1, im);
            }
    return DLC_KOK;
}

/* stft: ints frame_step, frame_length; window (input 2) optional. */
int32_t dlc_kernel_stft(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx) {
    const dlc_ktensor *x = dlc_kp_in(p, 0), *out = dlc_kp_out(p, 0);
    int64_t step = dlc_kp_ints(p)[0], n = dlc_kp_ints(p)[1];
    bool has_window = p->num_inputs > 2 && dlc_kp_in(p, 2)->dtype != 0;
    int64_t B = x->dims[0], L = x->dims[1], comps = x->dims[2], frames = out->dims[1], bins = out->dims[2];
    const double two_pi = 6.283185307179586476925286766559;
    for (int64_t b = 0; b < B; b++)
        for (int64_t f = 0; f < frames; f++)
            for (int64_t k = 0; k < bins; k++) {
                double re = 0.0, im = 0.0;
                for (int64_t t = 0; t < n; t++) {
                    int64_t at = (b * L + f * step + t) * comps;
                    double w = has_window ? dlc_kload_f(inputs[2], dlc_kp_in(p, 2)->dtype, t) : 1.0;
                    double xr = dlc_kload_f(inputs[0], x->dtype, at) * w;
                    double xi = comps == 2 ? dlc_kload_f(inputs[0], x->dtype, at + 1) * w : 0.0;
                    double angle = -two_pi * (double)((k * t) % n) / (double)n, c = cos(angle), s = sin(angle);
                    re += xr * c - xi * s;
                    im += xr * s + xi * c;
                }
                int64_t dst = ((b * frames + f) * bins + k) * 2;
                dlc_kstore_f(outputs[0], out->dtype, dst, re);
                dlc_kstore_f(outputs[0], out->dtype, dst + 1, im);
            }
    return DLC_KOK;
}

#ifndef DLC_KERNEL_BITCODE
#include "kernels/kernel_registry.h"
const dlc_kernel_entry dlc_kernels_dft[] = {
    {"dft", dlc_kernel_dft, NULL},
    {"stft", dlc_kernel_stft, NULL},
    {NULL, NULL, NULL},
};
#endif
