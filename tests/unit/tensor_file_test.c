/* Serialized TensorProto (.pb) files: round trips in every numeric dtype,
 * typed-field storage, the zoo's reference data, and malformed files. */
#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frontend/tensor_file.h"
#include "onnx/onnx.pb-c.h"

static char temp_dir[256];

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void make_temp_dir(void) {
    snprintf(temp_dir, sizeof temp_dir, "/tmp/dlc_tensor_file_test_XXXXXX");
    cr_assert_not_null(mkdtemp(temp_dir));
}

static void remove_temp_dir(void) {
    if (temp_dir[0] != '\0') nftw(temp_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    temp_dir[0] = '\0';
}

static const char *temp_path(const char *name) {
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", temp_dir, name);
    return path;
}

static void write_bytes(const char *path, const void *data, size_t size) {
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    cr_assert_eq(fwrite(data, 1, size, f), size);
    cr_assert_eq(fclose(f), 0);
}

static void write_proto(const char *path, const Onnx__TensorProto *t) {
    size_t size = onnx__tensor_proto__get_packed_size(t);
    uint8_t *buf = malloc(size + 1);
    onnx__tensor_proto__pack(t, buf);
    write_bytes(path, buf, size);
    free(buf);
}

static const dlc_dtype numeric_dtypes[] = {DLC_FLOAT32, DLC_UINT8,   DLC_INT8,      DLC_UINT16,    DLC_INT16,
                                           DLC_INT32,   DLC_INT64,   DLC_BOOL,      DLC_FLOAT16,   DLC_FLOAT64,
                                           DLC_UINT32,  DLC_UINT64,  DLC_COMPLEX64, DLC_COMPLEX128, DLC_BFLOAT16};

Test(tensor_file, round_trip_every_dtype, .init = make_temp_dir, .fini = remove_temp_dir) {
    for (size_t d = 0; d < sizeof numeric_dtypes / sizeof numeric_dtypes[0]; d++) {
        dlc_dtype dtype = numeric_dtypes[d];
        size_t elem = dlc_dtype_size(dtype);
        dlc_tensor t = {.dtype = dtype, .rank = 3, .dims = {2, 3, 5}};
        size_t nbytes = 30 * elem;
        uint8_t *data = malloc(nbytes);
        for (size_t i = 0; i < nbytes; i++) data[i] = (uint8_t)(i * 7 + d);
        if (dtype == DLC_BOOL)
            for (size_t i = 0; i < nbytes; i++) data[i] &= 1;
        t.data = data;
        t.size_bytes = nbytes;
        const char *path = temp_path("t.pb");
        cr_assert_eq(dlc_tensor_file_write(path, "tensor_name", &t), DLC_OK, "%s", dlc_last_error());
        dlc_owned_tensor back;
        cr_assert_eq(dlc_tensor_file_read(path, &back), DLC_OK, "%s: %s", dlc_dtype_name(dtype), dlc_last_error());
        cr_assert_eq(back.tensor.dtype, dtype);
        cr_assert_eq(back.tensor.rank, 3);
        cr_assert(back.tensor.dims[0] == 2 && back.tensor.dims[1] == 3 && back.tensor.dims[2] == 5);
        cr_assert_eq(back.tensor.size_bytes, nbytes);
        cr_assert_eq((uintptr_t)back.tensor.data % 64, 0);
        cr_assert_eq(memcmp(back.tensor.data, data, nbytes), 0, "%s", dlc_dtype_name(dtype));
        cr_assert_str_eq(back.name, "tensor_name");
        dlc_owned_tensor_free(&back);
        cr_assert_null(back.tensor.data);
        free(data);
    }
}

Test(tensor_file, scalar_empty_and_unnamed, .init = make_temp_dir, .fini = remove_temp_dir) {
    int64_t value = -77;
    dlc_tensor scalar = {.dtype = DLC_INT64, .rank = 0, .data = &value, .size_bytes = sizeof value};
    cr_assert_eq(dlc_tensor_file_write(temp_path("s.pb"), NULL, &scalar), DLC_OK, "%s", dlc_last_error());
    dlc_owned_tensor back;
    cr_assert_eq(dlc_tensor_file_read(temp_path("s.pb"), &back), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(back.tensor.rank, 0);
    cr_assert_eq(back.tensor.size_bytes, 8);
    cr_assert_eq(*(int64_t *)back.tensor.data, -77);
    cr_assert_null(back.name);
    dlc_owned_tensor_free(&back);

    dlc_tensor empty = {.dtype = DLC_FLOAT32, .rank = 2, .dims = {0, 4}};
    cr_assert_eq(dlc_tensor_file_write(temp_path("e.pb"), "e", &empty), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(dlc_tensor_file_read(temp_path("e.pb"), &back), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(back.tensor.size_bytes, 0);
    cr_assert_eq(back.tensor.dims[0], 0);
    cr_assert_not_null(back.tensor.data);
    dlc_owned_tensor_free(&back);
}

Test(tensor_file, write_refuses_bad_tensors, .init = make_temp_dir, .fini = remove_temp_dir) {
    float data[4] = {0};
    dlc_tensor small = {.dtype = DLC_FLOAT32, .rank = 1, .dims = {8}, .data = data, .size_bytes = sizeof data};
    cr_assert_eq(dlc_tensor_file_write(temp_path("x.pb"), "x", &small), DLC_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(dlc_last_error(), "32 bytes") != NULL && strstr(dlc_last_error(), "16") != NULL, "%s",
              dlc_last_error());
    dlc_tensor str = {.dtype = DLC_STRING, .rank = 1, .dims = {1}, .data = data, .size_bytes = sizeof data};
    cr_assert_eq(dlc_tensor_file_write(temp_path("x.pb"), "x", &str), DLC_ERR_UNSUPPORTED);
    dlc_tensor neg = {.dtype = DLC_FLOAT32, .rank = 1, .dims = {-1}, .data = data, .size_bytes = sizeof data};
    cr_assert_eq(dlc_tensor_file_write(temp_path("x.pb"), "x", &neg), DLC_ERR_INVALID_ARGUMENT);
    dlc_tensor rank = {.dtype = DLC_FLOAT32, .rank = 9, .data = data, .size_bytes = sizeof data};
    cr_assert_eq(dlc_tensor_file_write(temp_path("x.pb"), "x", &rank), DLC_ERR_INVALID_ARGUMENT);
    dlc_tensor ok = {.dtype = DLC_FLOAT32, .rank = 1, .dims = {4}, .data = data, .size_bytes = sizeof data};
    cr_assert_eq(dlc_tensor_file_write("/nonexistent/dir/x.pb", "x", &ok), DLC_ERR_IO);
    cr_assert(strstr(dlc_last_error(), "/nonexistent/dir/x.pb") != NULL);
}

Test(tensor_file, typed_fields_are_read, .init = make_temp_dir, .fini = remove_temp_dir) {
    Onnx__TensorProto t = ONNX__TENSOR_PROTO__INIT;
    int64_t dims[2] = {2, 2};
    t.n_dims = 2;
    t.dims = dims;
    t.has_data_type = 1;

    float f[4] = {1, 2, 3, 4};
    t.data_type = DLC_FLOAT32;
    t.n_float_data = 4;
    t.float_data = f;
    write_proto(temp_path("f.pb"), &t);
    t.n_float_data = 0;

    int32_t halves[4] = {0x3c00, 0x4000, 0x4200, 0x4400};
    t.data_type = DLC_FLOAT16;
    t.n_int32_data = 4;
    t.int32_data = halves;
    write_proto(temp_path("h.pb"), &t);
    t.n_int32_data = 0;

    double dv[4] = {0.5, 1.5, -2.5, 1e100};
    t.data_type = DLC_FLOAT64;
    t.n_double_data = 4;
    t.double_data = dv;
    write_proto(temp_path("d.pb"), &t);
    t.n_double_data = 0;

    int64_t lv[4] = {1, -1, INT64_MAX, INT64_MIN};
    t.data_type = DLC_INT64;
    t.n_int64_data = 4;
    t.int64_data = lv;
    write_proto(temp_path("l.pb"), &t);

    dlc_owned_tensor back;
    cr_assert_eq(dlc_tensor_file_read(temp_path("f.pb"), &back), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(memcmp(back.tensor.data, f, sizeof f), 0);
    dlc_owned_tensor_free(&back);
    cr_assert_eq(dlc_tensor_file_read(temp_path("h.pb"), &back), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(back.tensor.size_bytes, 8);
    cr_assert_eq(((uint16_t *)back.tensor.data)[3], 0x4400);
    dlc_owned_tensor_free(&back);
    cr_assert_eq(dlc_tensor_file_read(temp_path("d.pb"), &back), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(memcmp(back.tensor.data, dv, sizeof dv), 0);
    dlc_owned_tensor_free(&back);
    cr_assert_eq(dlc_tensor_file_read(temp_path("l.pb"), &back), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(memcmp(back.tensor.data, lv, sizeof lv), 0);
    dlc_owned_tensor_free(&back);
}

Test(tensor_file, external_data_next_to_the_file, .init = make_temp_dir, .fini = remove_temp_dir) {
    float values[3] = {7, 8, 9};
    write_bytes(temp_path("values.bin"), values, sizeof values);
    Onnx__TensorProto t = ONNX__TENSOR_PROTO__INIT;
    int64_t dims[1] = {3};
    t.n_dims = 1;
    t.dims = dims;
    t.has_data_type = 1;
    t.data_type = DLC_FLOAT32;
    t.has_data_location = 1;
    t.data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    Onnx__StringStringEntryProto loc = ONNX__STRING_STRING_ENTRY_PROTO__INIT;
    loc.key = "location";
    loc.value = "values.bin";
    Onnx__StringStringEntryProto *entries[1] = {&loc};
    t.n_external_data = 1;
    t.external_data = entries;
    write_proto(temp_path("ext.pb"), &t);
    dlc_owned_tensor back;
    cr_assert_eq(dlc_tensor_file_read(temp_path("ext.pb"), &back), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(memcmp(back.tensor.data, values, sizeof values), 0);
    dlc_owned_tensor_free(&back);
    loc.value = "../values.bin";
    write_proto(temp_path("ext.pb"), &t);
    cr_assert_eq(dlc_tensor_file_read(temp_path("ext.pb"), &back), DLC_ERR_PARSE);
    cr_assert(strstr(dlc_last_error(), "'..'") != NULL, "%s", dlc_last_error());
}

Test(tensor_file, zoo_reference_data) {
    dlc_owned_tensor in;
    cr_assert_eq(dlc_tensor_file_read("/work/shared/zoo/bert_tiny/test_data_set_0/input_0.pb", &in), DLC_OK, "%s",
                 dlc_last_error());
    cr_assert_eq(in.tensor.dtype, DLC_INT64);
    cr_assert_eq(in.tensor.rank, 2);
    cr_assert(in.tensor.dims[0] == 1 && in.tensor.dims[1] == 32);
    cr_assert_eq(in.tensor.size_bytes, 32 * sizeof(int64_t));
    dlc_owned_tensor_free(&in);
    dlc_owned_tensor out;
    cr_assert_eq(dlc_tensor_file_read("/work/shared/zoo/mlp_mnist/test_data_set_0/output_0.pb", &out), DLC_OK, "%s",
                 dlc_last_error());
    cr_assert_eq(out.tensor.dtype, DLC_FLOAT32);
    cr_assert_eq(out.tensor.size_bytes, 10 * sizeof(float));
    dlc_owned_tensor_free(&out);
}

Test(tensor_file, malformed_files, .init = make_temp_dir, .fini = remove_temp_dir) {
    dlc_owned_tensor t;
    cr_assert_eq(dlc_tensor_file_read("/nonexistent/input_0.pb", &t), DLC_ERR_NOT_FOUND);
    cr_assert(strstr(dlc_last_error(), "cannot open '/nonexistent/input_0.pb'") != NULL, "%s", dlc_last_error());

    write_bytes(temp_path("empty.pb"), "", 0);
    cr_assert_eq(dlc_tensor_file_read(temp_path("empty.pb"), &t), DLC_ERR_PARSE);
    cr_assert(strstr(dlc_last_error(), "is empty") != NULL, "%s", dlc_last_error());

    write_bytes(temp_path("garbage.pb"), "\xff\xff\xff\xff\xff", 5);
    cr_assert_eq(dlc_tensor_file_read(temp_path("garbage.pb"), &t), DLC_ERR_PARSE);
    cr_assert(strstr(dlc_last_error(), "garbage.pb") != NULL, "%s", dlc_last_error());

    Onnx__TensorProto p = ONNX__TENSOR_PROTO__INIT;
    int64_t dims[2] = {3, 3};
    p.n_dims = 2;
    p.dims = dims;
    p.has_data_type = 1;
    p.data_type = DLC_FLOAT32;
    p.name = "w";
    p.has_raw_data = 1;
    p.raw_data.data = (uint8_t *)"0123456789";
    p.raw_data.len = 10;
    write_proto(temp_path("short.pb"), &p);
    cr_assert_eq(dlc_tensor_file_read(temp_path("short.pb"), &t), DLC_ERR_PARSE);
    cr_assert(strstr(dlc_last_error(), "short.pb") && strstr(dlc_last_error(), "'w'") &&
                  strstr(dlc_last_error(), "raw_data has 10 bytes") && strstr(dlc_last_error(), "needs 36"),
              "%s", dlc_last_error());

    dims[0] = INT64_MAX;
    write_proto(temp_path("huge.pb"), &p);
    cr_assert_eq(dlc_tensor_file_read(temp_path("huge.pb"), &t), DLC_ERR_PARSE);
    cr_assert(strstr(dlc_last_error(), "overflow") != NULL, "%s", dlc_last_error());

    dims[0] = -3;
    write_proto(temp_path("neg.pb"), &p);
    cr_assert_eq(dlc_tensor_file_read(temp_path("neg.pb"), &t), DLC_ERR_PARSE);
    cr_assert(strstr(dlc_last_error(), "negative") != NULL, "%s", dlc_last_error());

    dims[0] = 3;
    p.data_type = DLC_STRING;
    write_proto(temp_path("str.pb"), &p);
    cr_assert_eq(dlc_tensor_file_read(temp_path("str.pb"), &t), DLC_ERR_UNSUPPORTED);
    cr_assert(strstr(dlc_last_error(), "string tensors are not supported") != NULL, "%s", dlc_last_error());

    /* every truncation of a valid file fails cleanly or reads a consistent tensor */
    float values[9] = {0};
    dlc_tensor ok = {.dtype = DLC_FLOAT32, .rank = 2, .dims = {3, 3}, .data = values, .size_bytes = sizeof values};
    cr_assert_eq(dlc_tensor_file_write(temp_path("ok.pb"), "w", &ok), DLC_OK);
    FILE *f = fopen(temp_path("ok.pb"), "rb");
    uint8_t bytes[256];
    size_t size = fread(bytes, 1, sizeof bytes, f);
    fclose(f);
    for (size_t cut = 1; cut < size; cut++) {
        write_bytes(temp_path("cut.pb"), bytes, cut);
        dlc_status st = dlc_tensor_file_read(temp_path("cut.pb"), &t);
        if (st == DLC_OK) {
            cr_assert_eq(t.tensor.size_bytes, 4 * (size_t)(t.tensor.rank == 0 ? 1 : t.tensor.dims[0]) *
                                                  (size_t)(t.tensor.rank > 1 ? t.tensor.dims[1] : 1));
            dlc_owned_tensor_free(&t);
        } else {
            cr_assert(dlc_last_error()[0] != '\0');
            cr_assert_null(t.tensor.data);
        }
    }
}
