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
