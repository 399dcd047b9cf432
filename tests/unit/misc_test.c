/* EyeLike and Shrink (ir/ops/misc.c, kernels/misc.c). */
#include <criterion/criterion.h>

#include "op_harness.h"

Test(misc, eyelike_off_diagonal_with_dtype) {
    oph_case c;
    dlc_dtype dtypes[1] = {DLC_FLOAT32};
    dlc_shape shapes[1] = {oph_shape(2, (int64_t[]){3, 4})};
    oph_begin(&c, "EyeLike", 9, 1, dtypes, shapes, 1, NULL);
    oph_attr_int(&c, "k", -1);
    oph_attr_int(&c, "dtype", DLC_INT32);
    cr_assert_eq(oph_infer(&c), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(c.out[0]->dtype, DLC_INT32);
    float x[12] = {0};
    int32_t y[12];
    memset(y, 0x7f, sizeof y);
    oph_run(&c, (void *[]){x}, (void *[]){y}, 1);
    for (int r = 0; r < 3; r++)
        for (int col = 0; col < 4; col++) cr_assert_eq(y[r * 4 + col], col == r - 1 ? 1 : 0, "y[%d][%d]", r, col);
    oph_end(&c);
}

Test(misc, eyelike_needs_two_dims) {
    oph_case c;
    dlc_dtype dtypes[1] = {DLC_FLOAT32};
    dlc_shape shapes[1] = {oph_shape(3, (int64_t[]){2, 3, 4})};
    oph_begin(&c, "EyeLike", 9, 1, dtypes, shapes, 1, NULL);
    cr_assert_eq(oph_infer(&c), DLC_ERR_SHAPE_MISMATCH);
    cr_assert(strstr(dlc_last_error(), "[2,3,4]") != NULL, "%s", dlc_last_error());
    oph_end(&c);
}

Test(misc, shrink_soft) {
    oph_case c;
    dlc_dtype dtypes[1] = {DLC_FLOAT32};
    dlc_shape shapes[1] = {oph_shape(1, (int64_t[]){5})};
    oph_begin(&c, "Shrink", 9, 1, dtypes, shapes, 1, NULL);
    oph_attr_float(&c, "lambd", 1.5);
    oph_attr_float(&c, "bias", 1.5);
    cr_assert_eq(oph_infer(&c), DLC_OK, "%s", dlc_last_error());
    float x[5] = {-2, -1, 0, 1, 2}, y[5];
    oph_run(&c, (void *[]){x}, (void *[]){y}, 1);
    double want[5] = {-0.5, 0, 0, 0, 0.5};
    oph_expect_close(y, want, 5, 1e-7, "shrink");
    oph_end(&c);
}

Test(nd_index, topk_smallest_keeps_lower_index_on_ties) {
    oph_case c;
    dlc_dtype dtypes[2] = {DLC_FLOAT32, DLC_INT64};
    dlc_shape shapes[2] = {oph_shape(2, (int64_t[]){2, 4}), oph_shape(1, (int64_t[]){1})};
    oph_begin(&c, "TopK", 11, 2, dtypes, shapes, 2, NULL);
    int64_t k = 2;
    dlc_value *kc;
    dlc_shape ks = oph_shape(1, (int64_t[]){1});
    cr_assert_eq(dlc_graph_add_const(c.g, "k", DLC_INT64, &ks, &k, sizeof k, &kc), DLC_OK);
    c.node->inputs[1] = kc;
    oph_attr_int(&c, "largest", 0);
    cr_assert_eq(oph_infer(&c), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(c.out[0]->shape.dims[1].value, 2);
    float x[8] = {3, 1, 2, 1, 5, 5, 4, 9}, v[4];
    int64_t idx[4];
    oph_run(&c, (void *[]){x, &k}, (void *[]){v, idx}, 1);
    cr_assert(v[0] == 1 && idx[0] == 1 && v[1] == 1 && idx[1] == 3, "row 0: %g@%lld %g@%lld", (double)v[0],
              (long long)idx[0], (double)v[1], (long long)idx[1]);
    cr_assert(v[2] == 4 && idx[2] == 2 && v[3] == 5 && idx[3] == 0);
    oph_end(&c);
}

Test(nd_index, gather_nd_out_of_range_index_fails) {
    oph_case c;
    dlc_dtype dtypes[2] = {DLC_FLOAT32, DLC_INT64};
    dlc_shape shapes[2] = {oph_shape(2, (int64_t[]){2, 2}), oph_shape(2, (int64_t[]){2, 2})};
    oph_begin(&c, "GatherND", 13, 2, dtypes, shapes, 1, NULL);
    cr_assert_eq(oph_infer(&c), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(c.out[0]->shape.rank, 1);
    dlc_kcall call;
    cr_assert_eq(c.node->schema->lower(c.g, c.node, &call), DLC_OK);
    void *blob;
    size_t size;
    cr_assert_eq(dlc_kparams_build(c.node, &call, &blob, &size), DLC_OK);
    float data[4] = {1, 2, 3, 4}, out[2];
    int64_t good[4] = {0, 1, -1, 0}, bad[4] = {0, 1, 2, 0};
    dlc_kctx ctx = {.num_threads = 1};
    cr_assert_eq(dlc_kernel_find("gather_nd")->fn(blob, (void *[]){data, good}, (void *[]){out}, &ctx), 0);
    cr_assert(out[0] == 2 && out[1] == 3, "got %g %g", (double)out[0], (double)out[1]);
    cr_assert_eq(dlc_kernel_find("gather_nd")->fn(blob, (void *[]){data, bad}, (void *[]){out}, &ctx),
                 DLC_KERR_INDEX_OUT_OF_RANGE);
    free(blob);
    oph_end(&c);
}

Test(misc, mvn_normalizes_each_channel) {
    oph_case c;
    dlc_dtype dtypes[1] = {DLC_FLOAT32};
    dlc_shape shapes[1] = {oph_shape(4, (int64_t[]){1, 2, 1, 3})};
    oph_begin(&c, "MeanVarianceNormalization", 13, 1, dtypes, shapes, 1, NULL);
    cr_assert_eq(oph_infer(&c), DLC_OK, "%s", dlc_last_error());
    float x[6] = {1, 2, 3, 10, 10, 40}, y[6];
    oph_run(&c, (void *[]){x}, (void *[]){y}, 1);
    double want[6];
    for (int ch = 0; ch < 2; ch++) {
        double mean = 0, sq = 0;
        for (int i = 0; i < 3; i++) mean += x[ch * 3 + i] / 3.0, sq += x[ch * 3 + i] * x[ch * 3 + i] / 3.0;
        for (int i = 0; i < 3; i++) want[ch * 3 + i] = (x[ch * 3 + i] - mean) / (sqrt(sq - mean * mean) + 1e-9);
    }
    oph_expect_close(y, want, 6, 1e-5, "mvn");
    oph_end(&c);
}

Test(misc, det_of_a_batch_including_a_singular_matrix) {
    oph_case c;
    dlc_dtype dtypes[1] = {DLC_FLOAT32};
    dlc_shape shapes[1] = {oph_shape(3, (int64_t[]){2, 3, 3})};
    oph_begin(&c, "Det", 11, 1, dtypes, shapes, 1, NULL);
    cr_assert_eq(oph_infer(&c), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(c.out[0]->shape.rank, 1);
    float x[18] = {0, 2, 1, 1, 0, 3, 4, 1, 0, /* needs a pivot swap */ 1, 2, 3, 2, 4, 6, 0, 1, 5 /* singular */};
    float y[2];
    oph_run(&c, (void *[]){x}, (void *[]){y}, 1);
    double want[2] = {0 * (0 * 0 - 3 * 1) - 2 * (1 * 0 - 3 * 4) + 1 * (1 * 1 - 0 * 4), 0};
    oph_expect_close(y, want, 2, 1e-6, "det");
    oph_end(&c);
}

Test(einsum, implicit_output_is_a_matmul) {
    oph_case c;
    dlc_dtype dtypes[2] = {DLC_FLOAT32, DLC_FLOAT32};
    dlc_shape shapes[2] = {oph_shape(2, (int64_t[]){2, 3}), oph_shape(2, (int64_t[]){3, 2})};
    oph_begin(&c, "Einsum", 12, 2, dtypes, shapes, 1, NULL);
    oph_attr_string(&c, "equation", "ij,jk");
    cr_assert_eq(oph_infer(&c), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(c.out[0]->shape.rank, 2);
    cr_assert_eq(c.out[0]->shape.dims[0].value, 2);
    cr_assert_eq(c.out[0]->shape.dims[1].value, 2);
    float a[6] = {1, 2, 3, 4, 5, 6}, b[6] = {1, 0, 0, 1, 2, 3}, y[4];
    oph_run(&c, (void *[]){a, b}, (void *[]){y}, 1);
    double want[4] = {1 + 6, 2 + 9, 4 + 12, 5 + 18};
    oph_expect_close(y, want, 4, 1e-6, "ij,jk");
    oph_end(&c);
}

Test(einsum, mismatched_label_sizes_are_an_error) {
    oph_case c;
    dlc_dtype dtypes[2] = {DLC_FLOAT32, DLC_FLOAT32};
    dlc_shape shapes[2] = {oph_shape(1, (int64_t[]){3}), oph_shape(1, (int64_t[]){4})};
    oph_begin(&c, "Einsum", 12, 2, dtypes, shapes, 1, NULL);
    oph_attr_string(&c, "equation", "i,i->");
    cr_assert_eq(oph_infer(&c), DLC_ERR_SHAPE_MISMATCH, "%s", dlc_last_error());
    oph_end(&c);
}
