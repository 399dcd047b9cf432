/* eye (EyeLike) and shrink (Shrink); see ir/ops/misc.c. Any numeric dtype
 * through kvalue.h, computed in double (exact for integers below 2^53). */
#include <string.h>

#include "kernels/kvalue.h"

static void store_number(void *data, int32_t dtype, int64_t i, double v) {
    if (dlc_kdtype_is_float(dtype)) dlc_kstore_f(data, dtype, i, v);
    else dlc_kstore_u(data, dtype, i, (uint64_t)(int64_t)v);
}

/* ints: k */
int32_t dlc_kernel_eye(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx) {
    const dlc_ktensor *out = dlc_kp_out(p, 0);
    int64_t k = dlc_kp_ints(p)[0], rows = out->dims[0], cols = out->dims[1];
    memset(outputs[0], 0, (size_t)(out->numel * dlc_kdtype_size(out->dtype)));
    for (int64_t r = 0; r < rows; r++)
        if (r + k >= 0 && r + k < cols) store_number(outputs[0], out->dtype, r * cols + r + k, 1.0);
    return DLC_KOK;
}

/* floats: lambd, bias */
int32_t dlc_kernel_shrink(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx) {
    const dlc_ktensor *x = dlc_kp_in(p, 0);
    double lambd = dlc_kp_floats(p)[0], bias = dlc_kp_floats(p)[1];
    for (int64_t i = 0; i < x->numel; i++) {
        double v = dlc_kload_f(inputs[0], x->dtype, i);
        double y = v < -lambd ? v + bias : v > lambd ? v - bias : 0.0;
        store_number(outputs[0], x->dtype, i, y);
    }
    return DLC_KOK;
}

#ifndef DLC_KERNEL_BITCODE
#include "kernels/kernel_registry.h"
const dlc_kernel_entry dlc_kernels_misc[] = {
    {"eye", dlc_kernel_eye, NULL},
    {"shrink", dlc_kernel_shrink, NULL},
    {NULL, NULL, NULL},
};
#endif
