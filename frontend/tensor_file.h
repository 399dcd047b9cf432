/* Serialized ONNX TensorProto files (.pb), as used by the backend-test layout
 * (test_data_set_N/input_K.pb) and `dlc run`. */
#ifndef DLC_FRONTEND_TENSOR_FILE_H
#define DLC_FRONTEND_TENSOR_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "dlc/dlc.h"

/* A tensor with its own heap buffer. */
typedef struct dlc_owned_tensor {
    char *name;        /* may be NULL */
    dlc_tensor tensor; /* tensor.data is owned, 64-byte aligned; size_bytes exact */
} dlc_owned_tensor;

dlc_status dlc_tensor_file_read(const char *path, dlc_owned_tensor *out);
dlc_status dlc_tensor_file_write(const char *path, const char *name, const dlc_tensor *tensor);
void dlc_owned_tensor_free(dlc_owned_tensor *t);

#endif
