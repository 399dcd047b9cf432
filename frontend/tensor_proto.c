#include "frontend/tensor_proto.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/status.h"

/* raw_data is little-endian; dlc targets little-endian hosts only. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "dlc reads ONNX raw_data as host-order bytes");

void *dlc_alloc_aligned64(size_t nbytes) {
    size_t rounded = nbytes + 63 < nbytes ? 0 : (nbytes + 63) & ~(size_t)63;
    if (nbytes > 0 && rounded == 0) return NULL;
    if (rounded == 0) rounded = 64;
    void *p = aligned_alloc(64, rounded);
    if (p != NULL) memset((char *)p + nbytes, 0, rounded - nbytes);
    return p;
}

void dlc_tensor_data_release(dlc_tensor_data *d) {
    free(d->owned);
    memset(d, 0, sizeof *d);
}

/* Which typed field holds a dtype's values, and how many per element. */
typedef enum typed_field { FIELD_FLOAT, FIELD_INT32, FIELD_INT64, FIELD_DOUBLE, FIELD_UINT64 } typed_field;

static typed_field field_of(dlc_dtype dtype, int *per_element) {
    *per_element = dtype == DLC_COMPLEX64 || dtype == DLC_COMPLEX128 ? 2 : 1;
    switch (dtype) {
    case DLC_FLOAT32:
    case DLC_COMPLEX64: return FIELD_FLOAT;
    case DLC_INT64: return FIELD_INT64;
    case DLC_FLOAT64:
    case DLC_COMPLEX128: return FIELD_DOUBLE;
    case DLC_UINT32:
    case DLC_UINT64: return FIELD_UINT64;
    default: return FIELD_INT32; /* int8/16/32, uint8/16, bool, float16, bfloat16 (as bits) */
    }
}

static const char *const field_names[] = {"float_data", "int32_data", "int64_data", "double_data", "uint64_data"};

static size_t field_count(const Onnx__TensorProto *t, typed_field f) {
    switch (f) {
    case FIELD_FLOAT: return t->n_float_data;
    case FIELD_INT32: return t->n_int32_data;
    case FIELD_INT64: return t->n_int64_data;
    case FIELD_DOUBLE: return t->n_double_data;
    case FIELD_UINT64: return t->n_uint64_data;
    }
    return 0;
}

static const char *format_dims(const Onnx__TensorProto *t, char *buf, size_t size) {
    size_t used = (size_t)snprintf(buf, size, "[");
    for (size_t i = 0; i < t->n_dims && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%" PRId64, i ? "," : "", t->dims[i]);
    if (used < size) snprintf(buf + used, size - used, "]");
    return buf;
}

static void convert_typed(const Onnx__TensorProto *t, dlc_dtype dtype, typed_field field, size_t count, void *dst) {
    size_t elem = dlc_dtype_size(dtype);
    switch (field) {
    case FIELD_FLOAT: memcpy(dst, t->float_data, count * sizeof(float)); return;
    case FIELD_INT64: memcpy(dst, t->int64_data, count * sizeof(int64_t)); return;
    case FIELD_DOUBLE: memcpy(dst, t->double_data, count * sizeof(double)); return;
    case FIELD_UINT64:
        if (elem == 8) {
            memcpy(dst, t->uint64_data, count * sizeof(uint64_t));
        } else {
            for (size_t i = 0; i < count; i++) ((uint32_t *)dst)[i] = (uint32_t)t->uint64_data[i];
        }
        return;
    case FIELD_INT32:
        /* Narrow types keep their low bits (ONNX stores float16/bfloat16 as bit patterns here). */
        for (size_t i = 0; i < count; i++) {
            int32_t v = t->int32_data[i];
            if (dtype == DLC_BOOL) ((uint8_t *)dst)[i] = v != 0;
            else if (elem == 1) ((uint8_t *)dst)[i] = (uint8_t)v;
            else if (elem == 2) ((uint16_t *)dst)[i] = (uint16_t)v;
            else ((int32_t *)dst)[i] = v;
        }
        return;
    }
}

dlc_status dlc_tensor_proto_decode(const Onnx__TensorProto *t, const char *base_dir, dlc_tensor_data *out) {
    memset(out, 0, sizeof *out);
    const char *name = t->name ? t->name : "";
    char dims_text[256];
    if (t->segment != NULL) return dlc_fail(DLC_ERR_UNSUPPORTED, "tensor '%s': segmented tensors are not supported", name);
    if (!t->has_data_type || t->data_type == DLC_DTYPE_UNDEFINED)
        return dlc_fail(DLC_ERR_PARSE, "tensor '%s' has no data type", name);
    if (t->data_type == DLC_STRING)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "tensor '%s': string tensors are not supported", name);
    dlc_dtype dtype = (dlc_dtype)t->data_type;
    size_t elem = dlc_dtype_size(dtype);
    if (elem == 0) return dlc_fail(DLC_ERR_UNSUPPORTED, "tensor '%s': data type %d is not supported", name, (int)t->data_type);
    if (t->n_dims > DLC_MAX_RANK)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "tensor '%s': rank %zu is more than dlc supports (%d)", name, t->n_dims,
                        DLC_MAX_RANK);
    int64_t numel = 1;
    for (size_t i = 0; i < t->n_dims; i++) {
        if (t->dims[i] < 0)
            return dlc_fail(DLC_ERR_PARSE, "tensor '%s': negative dim %" PRId64 " in shape %s", name, t->dims[i],
                            format_dims(t, dims_text, sizeof dims_text));
        if (!dlc_mul_size(numel, t->dims[i], &numel))
            return dlc_fail(DLC_ERR_PARSE, "tensor '%s': shape %s has too many elements (overflow)", name,
                            format_dims(t, dims_text, sizeof dims_text));
    }
    int64_t expected64;
    if (!dlc_mul_size(numel, (int64_t)elem, &expected64) || (uint64_t)expected64 > SIZE_MAX)
        return dlc_fail(DLC_ERR_PARSE, "tensor '%s': shape %s of %s is too large (overflow)", name,
                        format_dims(t, dims_text, sizeof dims_text), dlc_dtype_name(dtype));
    size_t expected = (size_t)expected64;

    int per_element;
    typed_field field = field_of(dtype, &per_element);
    size_t typed_total = t->n_float_data + t->n_int32_data + t->n_int64_data + t->n_double_data + t->n_uint64_data +
                         t->n_string_data;
    bool external = t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    if ((external && (t->has_raw_data || typed_total > 0)) || (t->has_raw_data && typed_total > 0))
        return dlc_fail(DLC_ERR_PARSE, "tensor '%s' stores its data in more than one place (raw_data, typed fields, "
                        "external data)", name);

    out->dtype = dtype;
    out->shape = dlc_shape_make((int32_t)t->n_dims, t->dims);
    out->nbytes = expected;
    if (external) {
        DLC_TRY(dlc_external_data_read(t, name, base_dir, expected, &out->owned));
        out->data = out->owned;
        return DLC_OK;
    }
    if (t->has_raw_data) {
        if (t->raw_data.len != expected)
            return dlc_fail(DLC_ERR_PARSE, "tensor '%s': raw_data has %zu bytes, shape %s of %s needs %zu", name,
                            t->raw_data.len, format_dims(t, dims_text, sizeof dims_text), dlc_dtype_name(dtype),
                            expected);
        out->data = t->raw_data.data;
        return DLC_OK;
    }
    size_t count = field_count(t, field);
    if (typed_total != count)
        return dlc_fail(DLC_ERR_PARSE, "tensor '%s': %s values must be in %s, other typed fields are set", name,
                        dlc_dtype_name(dtype), field_names[field]);
    if ((uint64_t)count != (uint64_t)numel * (uint64_t)per_element)
        return dlc_fail(DLC_ERR_PARSE, "tensor '%s': %zu values in %s, shape %s needs %" PRId64, name, count,
                        field_names[field], format_dims(t, dims_text, sizeof dims_text), numel * per_element);
    if (expected == 0) return DLC_OK;
    out->owned = dlc_alloc_aligned64(expected);
    if (out->owned == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "tensor '%s': cannot allocate %zu bytes", name, expected);
    convert_typed(t, dtype, field, count, out->owned);
    out->data = out->owned;
    return DLC_OK;
}
