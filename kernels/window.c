/* window: Hann (0), Hamming (1), Blackman (2) per the ONNX spec; ints: kind,
 * periodic. Computed in double, stored in the output dtype. */
#include <math.h>

#include "kernels/kvalue.h"

int32_t dlc_kernel_window(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx) {
    const dlc_ktensor *out = dlc_kp_out(p, 0);
    int64_t kind = dlc_kp_ints(p)[0], periodic = dlc_kp_ints(p)[1], size = out->dims[0];
    double N = (double)(periodic ? size : size - 1);
    const double pi = 3.14159265358979323846;
    for (int64_t n = 0; n < size; n++) {
        double x = N > 0 ? 2.0 * pi * (double)n / N : 0.0, w;
        if (kind == 0) w = 0.5 - 0.5 * cos(x);
        else if (kind == 1) w = 25.0 / 46.0 - (21.0 / 46.0) * cos(x);
        else w = 0.42 - 0.5 * cos(x) + 0.08 * cos(2.0 * x);
        if (dlc_kdtype_is_float(out->dtype)) dlc_kstore_f(outputs[0], out->dtype, n, w);
        else dlc_kstore_u(outputs[0], out->dtype, n, (uint64_t)(int64_t)w);
    }
    return DLC_KOK;
}

#ifndef DLC_KERNEL_BITCODE
#include "kernels/kernel_registry.h"
const dlc_kernel_entry dlc_kernels_window[] = {
    {"window", dlc_kernel_window, NULL},
    {NULL, NULL, NULL},
};
#endif
