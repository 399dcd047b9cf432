/* Native kernel lookup, for constant folding in the compiler. */
#ifndef DLC_KERNELS_KERNEL_REGISTRY_H
#define DLC_KERNELS_KERNEL_REGISTRY_H

#include "kernels/dlc_kernel.h"

typedef struct dlc_kernel_entry {
    const char *name;                  /* dlc_kernel_<name> */
    dlc_kernel_fn fn;
    dlc_kernel_workspace_fn workspace; /* NULL: needs none */
} dlc_kernel_entry;

/* NULL when no kernel has that name. */
const dlc_kernel_entry *dlc_kernel_find(const char *name);

#endif
