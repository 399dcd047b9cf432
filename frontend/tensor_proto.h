/* ONNX TensorProto → dense bytes, shared by the model importer (initializers,
 * tensor attributes) and the .pb tensor file reader. Every size comes from
 * outside and is checked: dims >= 0, rank <= DLC_MAX_RANK, numel * element
 * size without overflow, and the stored data exactly that long. */
#ifndef DLC_FRONTEND_TENSOR_PROTO_H
#define DLC_FRONTEND_TENSOR_PROTO_H

#include <stddef.h>

#include "ir/graph.h"
#include "onnx/onnx.pb-c.h"

typedef struct dlc_tensor_data {
    dlc_dtype dtype;
    dlc_shape shape;  /* static */
    const void *data; /* nbytes of dense little-endian row-major data; into the proto or into owned */
    size_t nbytes;
    void *owned;      /* NULL, or a 64-byte aligned buffer (size rounded up to 64) that data points to */
} dlc_tensor_data;

/* Decodes t. base_dir resolves external data (NULL: external data is
 * refused). Errors name the tensor ("tensor 'w': ..."). */
dlc_status dlc_tensor_proto_decode(const Onnx__TensorProto *t, const char *base_dir, dlc_tensor_data *out);
void dlc_tensor_data_release(dlc_tensor_data *d);

/* 64-byte aligned allocation of at least 64 bytes, padding zeroed; NULL when out of memory. */
void *dlc_alloc_aligned64(size_t nbytes);

/* Reads the external data of t (data_location EXTERNAL) into a 64-byte
 * aligned buffer of exactly expected_bytes. The file must resolve inside
 * base_dir: absolute paths, '..' and symlinks leading out are refused. */
dlc_status dlc_external_data_read(const Onnx__TensorProto *t, const char *name, const char *base_dir,
                                  size_t expected_bytes, void **out_data);

#endif
