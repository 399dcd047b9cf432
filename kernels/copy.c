/* copy: output 0 = input 0 byte for byte (Identity, Reshape, Flatten,
 * Squeeze, Unsqueeze, Dropout at inference, graph outputs that alias). */
#include "kernels/dlc_kernel.h"

int32_t dlc_kernel_copy(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx) {
    const dlc_ktensor *in = dlc_kp_in(p, 0);
    if (outputs[0] != inputs[0]) memmove(outputs[0], inputs[0], (size_t)(in->numel * dlc_kdtype_size(in->dtype)));
    return DLC_KOK;
}

#ifndef DLC_KERNEL_BITCODE
#include "kernels/kernel_registry.h"
const dlc_kernel_entry dlc_kernels_copy[] = {
    {"copy", dlc_kernel_copy, NULL},
    {NULL, NULL, NULL},
};
#endif
