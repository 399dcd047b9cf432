/* Serialized TensorProto files (.pb): read in any numeric dtype and storage
 * (raw_data, typed fields, external data next to the file); written as
 * dims + data_type + name + raw_data. */
#include "frontend/tensor_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "frontend/file_bytes.h"
#include "frontend/proto_depth.h"
#include "frontend/tensor_proto.h"
#include "onnx/onnx_data.pb-c.h"
#include "runtime/status.h"

void dlc_owned_tensor_free(dlc_owned_tensor *t) {
    if (t == NULL) return;
    free(t->name);
    free(t->tensor.data);
    memset(t, 0, sizeof *t);
}

static dlc_status take_tensor(const Onnx__TensorProto *t, const char *base_dir, dlc_owned_tensor *out) {
    dlc_tensor_data td;
    DLC_TRY(dlc_tensor_proto_decode(t, base_dir, &td));
    void *data = td.owned;
    if (data == NULL) { /* points into the parsed message: copy into our own aligned buffer */
        data = dlc_alloc_aligned64(td.nbytes);
        if (data == NULL) {
            dlc_tensor_data_release(&td);
            return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "cannot allocate %zu bytes", td.nbytes);
        }
        if (td.nbytes > 0) memcpy(data, td.data, td.nbytes);
    }
    td.owned = NULL; /* moved into out */
    if (t->name != NULL && t->name[0] != '\0' && (out->name = strdup(t->name)) == NULL) {
        free(data);
        return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "out of memory");
    }
    out->tensor.dtype = td.dtype;
    out->tensor.rank = td.shape.rank;
    for (int32_t i = 0; i < td.shape.rank; i++) out->tensor.dims[i] = td.shape.dims[i].value;
    out->tensor.data = data;
    out->tensor.size_bytes = td.nbytes;
    return DLC_OK;
}

dlc_status dlc_tensor_file_read(const char *path, dlc_owned_tensor *out) {
    memset(out, 0, sizeof *out);
    dlc_file_bytes bytes;
    DLC_TRY(dlc_file_bytes_map(path, "a tensor file", &bytes));
    dlc_status st = DLC_OK;
    Onnx__TensorProto *t = NULL;
    if (!dlc_proto_depth_ok(&onnx__tensor_proto__descriptor, bytes.data, bytes.size, DLC_PROTO_MAX_DEPTH))
        st = dlc_fail(DLC_ERR_PARSE, "'%s' nests messages too deep; not a tensor file", path);
    else if ((t = onnx__tensor_proto__unpack(NULL, bytes.size, bytes.data)) == NULL)
        st = dlc_fail(DLC_ERR_PARSE, "'%s' is not a valid TensorProto file (protobuf parse failed; truncated?)", path);
    if (st == DLC_OK) {
        char *base_dir = dlc_path_dirname(path);
        st = base_dir != NULL ? take_tensor(t, base_dir, out) : dlc_fail(DLC_ERR_OUT_OF_MEMORY, "out of memory");
        free(base_dir);
        if (st != DLC_OK) dlc_fail_context(st, "%s", path);
    }
    if (t != NULL) onnx__tensor_proto__free_unpacked(t, NULL);
    dlc_file_bytes_unmap(&bytes);
    return st;
}

/* ---- sequences and optionals ---- */

void dlc_owned_value_free(dlc_owned_value *v) {
    if (v == NULL) return;
    for (int32_t i = 0; i < v->count; i++) dlc_owned_tensor_free(&v->elems[i]);
    free(v->elems);
    free(v->name);
    memset(v, 0, sizeof *v);
}

enum { ELEM_UNDEFINED = 0, ELEM_TENSOR = 1, ELEM_SEQUENCE = 3 }; /* SequenceProto.DataType */

static dlc_status take_sequence(const Onnx__SequenceProto *sp, const char *base_dir, dlc_owned_value *out) {
    /* an empty sequence may leave elem_type undefined */
    if (sp->has_elem_type && sp->elem_type != ELEM_TENSOR && sp->elem_type != ELEM_UNDEFINED)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "a sequence of element type %d; dlc reads sequences of tensors",
                        (int)sp->elem_type);
    if (sp->n_sequence_values > 0 || sp->n_optional_values > 0)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "a sequence of sequences or optionals; dlc reads sequences of tensors");
    if (sp->n_tensor_values > INT32_MAX / 2) return dlc_fail(DLC_ERR_PARSE, "%zu elements", sp->n_tensor_values);
    out->holds_sequence = true;
    out->elems = calloc(sp->n_tensor_values + 1, sizeof *out->elems);
    if (out->elems == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "out of memory");
    for (size_t i = 0; i < sp->n_tensor_values; i++) {
        dlc_status st = take_tensor(sp->tensor_values[i], base_dir, &out->elems[i]);
        if (st != DLC_OK) return dlc_fail_context(st, "element %zu", i);
        out->count = (int32_t)i + 1;
    }
    return DLC_OK;
}

static dlc_status take_optional(const Onnx__OptionalProto *op, const char *base_dir, dlc_owned_value *out) {
    if (op->optional_value != NULL) return dlc_fail(DLC_ERR_UNSUPPORTED, "an optional of an optional");
    if (op->tensor_value != NULL) {
        out->present = true;
        out->elems = calloc(2, sizeof *out->elems);
        if (out->elems == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "out of memory");
        DLC_TRY(take_tensor(op->tensor_value, base_dir, &out->elems[0]));
        out->count = 1;
        return DLC_OK;
    }
    if (op->sequence_value != NULL) {
        out->present = true;
        return take_sequence(op->sequence_value, base_dir, out);
    }
    if (op->has_elem_type && op->elem_type != ELEM_UNDEFINED)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "an optional of element type %d; dlc reads tensors and sequences",
                        (int)op->elem_type);
    return DLC_OK; /* absent */
}

static dlc_status copy_name(const char *name, dlc_owned_value *out) {
    if (name == NULL || name[0] == '\0') return DLC_OK;
    out->name = strdup(name);
    return out->name != NULL ? DLC_OK : dlc_fail(DLC_ERR_OUT_OF_MEMORY, "out of memory");
}

dlc_status dlc_value_file_read(const char *path, dlc_file_kind kind, dlc_owned_value *out) {
    memset(out, 0, sizeof *out);
    out->kind = kind;
    if (kind == DLC_FILE_TENSOR) {
        out->present = true;
        out->elems = calloc(2, sizeof *out->elems);
        if (out->elems == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "out of memory");
        dlc_status st = dlc_tensor_file_read(path, &out->elems[0]);
        if (st == DLC_OK) st = copy_name(out->elems[0].name, out);
        if (st == DLC_OK) out->count = 1;
        else dlc_owned_value_free(out);
        return st;
    }
    const ProtobufCMessageDescriptor *desc =
        kind == DLC_FILE_SEQUENCE ? &onnx__sequence_proto__descriptor : &onnx__optional_proto__descriptor;
    const char *what = kind == DLC_FILE_SEQUENCE ? "SequenceProto" : "OptionalProto";
    /* a message with no field set is zero bytes: an empty sequence, an absent optional */
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size == 0) {
        out->present = kind == DLC_FILE_SEQUENCE;
        out->holds_sequence = kind == DLC_FILE_SEQUENCE;
        return DLC_OK;
    }
    dlc_file_bytes bytes;
    DLC_TRY(dlc_file_bytes_map(path, "a sequence or optional file", &bytes));
    dlc_status st = DLC_OK;
    ProtobufCMessage *m = NULL;
    if (!dlc_proto_depth_ok(desc, bytes.data, bytes.size, DLC_PROTO_MAX_DEPTH))
        st = dlc_fail(DLC_ERR_PARSE, "'%s' nests messages too deep; not a %s file", path, what);
    else if ((m = protobuf_c_message_unpack(desc, NULL, bytes.size, bytes.data)) == NULL)
        st = dlc_fail(DLC_ERR_PARSE, "'%s' is not a valid %s file (protobuf parse failed; truncated?)", path, what);
    char *base_dir = st == DLC_OK ? dlc_path_dirname(path) : NULL;
    if (st == DLC_OK && base_dir == NULL) st = dlc_fail(DLC_ERR_OUT_OF_MEMORY, "out of memory");
    if (st == DLC_OK && kind == DLC_FILE_SEQUENCE) {
        const Onnx__SequenceProto *sp = (const Onnx__SequenceProto *)m;
        out->present = true;
        st = take_sequence(sp, base_dir, out);
        if (st == DLC_OK) st = copy_name(sp->name, out);
    } else if (st == DLC_OK) {
        const Onnx__OptionalProto *op = (const Onnx__OptionalProto *)m;
        st = take_optional(op, base_dir, out);
        if (st == DLC_OK) st = copy_name(op->name, out);
    }
    free(base_dir);
    if (m != NULL) protobuf_c_message_free_unpacked(m, NULL);
    dlc_file_bytes_unmap(&bytes);
    if (st != DLC_OK) {
        dlc_owned_value_free(out);
        out->kind = kind;
        return dlc_fail_context(st, "%s", path);
    }
    return DLC_OK;
}

static dlc_status write_all(const char *path, const uint8_t *buf, size_t len) {
    FILE *f = fopen(path, "wb");
    if (f == NULL) return dlc_fail(DLC_ERR_IO, "cannot create '%s': %s", path, strerror(errno));
    bool ok = fwrite(buf, 1, len, f) == len;
    int err = errno;
    if (fclose(f) != 0 && ok) {
        ok = false;
        err = errno;
    }
    if (!ok) {
        remove(path);
        return dlc_fail(DLC_ERR_IO, "cannot write '%s': %s", path, strerror(err));
    }
    return DLC_OK;
}

dlc_status dlc_tensor_file_write(const char *path, const char *name, const dlc_tensor *tensor) {
    if (tensor == NULL || path == NULL) return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "dlc_tensor_file_write: NULL argument");
    size_t elem = dlc_dtype_size(tensor->dtype);
    if (elem == 0)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "'%s': cannot write a tensor of dtype %s", path, dlc_dtype_name(tensor->dtype));
    if (tensor->rank < 0 || tensor->rank > DLC_MAX_RANK)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "'%s': tensor rank %d is outside 0..%d", path, tensor->rank, DLC_MAX_RANK);
    int64_t numel = 1;
    for (int32_t i = 0; i < tensor->rank; i++)
        if (tensor->dims[i] < 0 || !dlc_mul_size(numel, tensor->dims[i], &numel))
            return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "'%s': tensor dim %d is %lld", path, i, (long long)tensor->dims[i]);
    int64_t nbytes;
    if (!dlc_mul_size(numel, (int64_t)elem, &nbytes) || (uint64_t)nbytes > tensor->size_bytes)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "'%s': the tensor's dims need %lld bytes, its buffer holds %zu", path,
                        (long long)nbytes, tensor->size_bytes);
    if (nbytes > 0 && tensor->data == NULL)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "'%s': tensor data is NULL", path);

    Onnx__TensorProto t = ONNX__TENSOR_PROTO__INIT;
    int64_t dims[DLC_MAX_RANK];
    memcpy(dims, tensor->dims, sizeof dims);
    t.n_dims = (size_t)tensor->rank;
    t.dims = dims;
    t.has_data_type = 1;
    t.data_type = tensor->dtype;
    t.name = name != NULL && name[0] != '\0' ? (char *)name : NULL;
    t.has_raw_data = 1;
    t.raw_data.len = (size_t)nbytes;
    t.raw_data.data = tensor->data;
    size_t len = onnx__tensor_proto__get_packed_size(&t);
    uint8_t *buf = malloc(len ? len : 1);
    if (buf == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "'%s': cannot allocate %zu bytes", path, len);
    onnx__tensor_proto__pack(&t, buf);
    dlc_status st = write_all(path, buf, len);
    free(buf);
    return st;
}
