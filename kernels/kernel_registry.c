#ifndef DLC_KERNEL_BITCODE
#include "kernels/kernel_registry.h"

#include <string.h>

#define DLC_KERNEL_FAMILY(family) extern const dlc_kernel_entry dlc_kernels_##family[];
#include "kernels/kernel_families.h"
#undef DLC_KERNEL_FAMILY

static const dlc_kernel_entry *const kernel_families[] = {
#define DLC_KERNEL_FAMILY(family) dlc_kernels_##family,
#include "kernels/kernel_families.h"
#undef DLC_KERNEL_FAMILY
};

const dlc_kernel_entry *dlc_kernel_find(const char *name) {
    for (size_t f = 0; f < sizeof kernel_families / sizeof kernel_families[0]; f++)
        for (const dlc_kernel_entry *k = kernel_families[f]; k->name != NULL; k++)
            if (strcmp(k->name, name) == 0) return k;
    return NULL;
}
#endif
