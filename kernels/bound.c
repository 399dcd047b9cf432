/* check_equal: fails with DLC_KERR_BOUND_VALUE unless input 0 holds the same
 * bytes as input 1 (the value an input was bound to at compile time). */
#include "kernels/dlc_kernel.h"

int32_t dlc_kernel_check_equal(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx) {
    const dlc_ktensor *t = dlc_kp_in(p, 0);
    size_t bytes = (size_t)(t->numel * dlc_kdtype_size(t->dtype));
    return bytes == 0 || memcmp(inputs[0], inputs[1], bytes) == 0 ? DLC_KOK : DLC_KERR_BOUND_VALUE;
}

#ifndef DLC_KERNEL_BITCODE
#include "kernels/kernel_registry.h"
const dlc_kernel_entry dlc_kernels_bound[] = {
    {"check_equal", dlc_kernel_check_equal, NULL},
    {NULL, NULL, NULL},
};
#endif
