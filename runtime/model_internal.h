/* What libdlcrt keeps about a loaded artifact (shared by model.c and session.c). */
#ifndef DLC_RUNTIME_MODEL_INTERNAL_H
#define DLC_RUNTIME_MODEL_INTERNAL_H

#include "dlc/dlc.h"
#include "dlc/dlc_artifact.h"

struct dlc_model {
    void *handle;                    /* dlopen handle */
    const dlc_artifact_desc *desc;   /* inside the artifact */
    char *path;                      /* for messages */
    dlc_tensor_info *inputs;         /* copies of the descriptor's tables */
    dlc_tensor_info *outputs;
    int (*omp_get_max_threads)(void); /* the artifact's OpenMP runtime, if any */
};

/* "float32[1,3,32,32]" into buf. */
const char *dlc_format_tensor_type(dlc_dtype dtype, int32_t rank, const int64_t *dims, char *buf, size_t size);

#endif
