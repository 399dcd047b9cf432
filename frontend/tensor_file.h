/* Serialized ONNX TensorProto files (.pb), as used by the backend-test layout
 * (test_data_set_N/input_K.pb) and `dlc run`. */
#ifndef DLC_FRONTEND_TENSOR_FILE_H
#define DLC_FRONTEND_TENSOR_FILE_H

#include <stdbool.h>
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

/* What a backend-test .pb file holds. The file does not say: a
 * SequenceProto, an OptionalProto and many TensorProtos parse as each other,
 * so the reader is told, from the model's input or output type. */
typedef enum dlc_file_kind {
    DLC_FILE_TENSOR = 0,   /* TensorProto */
    DLC_FILE_SEQUENCE = 1, /* SequenceProto of tensors */
    DLC_FILE_OPTIONAL = 2, /* OptionalProto of a tensor or of a sequence of tensors */
} dlc_file_kind;

/* A tensor, sequence or optional read from a file, as its tensors. */
typedef struct dlc_owned_value {
    dlc_file_kind kind;
    char *name;             /* may be NULL */
    bool present;           /* an OPTIONAL holds a value (TENSOR and SEQUENCE: true) */
    bool holds_sequence;    /* a SEQUENCE, or an OPTIONAL holding one */
    int32_t count;          /* tensors in elems: 1 for a tensor, the length of a sequence, 0 when absent */
    dlc_owned_tensor *elems;
} dlc_owned_value;

dlc_status dlc_value_file_read(const char *path, dlc_file_kind kind, dlc_owned_value *out);
void dlc_owned_value_free(dlc_owned_value *v);

#endif
