/* Pooling ops: output shapes (ceil_mode, auto_pad, pads, dilations) and the
 * kernels against per-window references, including MaxPool indices in both
 * storage orders, count_include_pad, and the global pools. */
#include "tests/unit/op_harness.h"

typedef struct pool_spec {
    int32_t nsp;
    int64_t N, C;
    int64_t in[3], k[3], stride[3], dil[3], pads[6];
    const char *auto_pad;
    int ceil_mode, count_include_pad;
    int64_t want_out[3], pad_begin[3], pad_end[3]; /* what the ONNX rules give */
} pool_spec;

enum { REF_MAX, REF_AVG, REF_LP2 };

static void pool_ref(const pool_spec *s, int kind, const float *x, double *y, int64_t *indices, int column_major) {
    int64_t in3[3] = {1, 1, 1}, k3[3] = {1, 1, 1}, o3[3] = {1, 1, 1}, st3[3] = {1, 1, 1}, d3[3] = {1, 1, 1};
    int64_t pb[3] = {0}, pe[3] = {0};
    for (int i = 0; i < s->nsp; i++) {
        int j = 3 - s->nsp + i;
        in3[j] = s->in[i], k3[j] = s->k[i], o3[j] = s->want_out[i], st3[j] = s->stride[i] ? s->stride[i] : 1;
        d3[j] = s->dil[i] ? s->dil[i] : 1, pb[j] = s->pad_begin[i], pe[j] = s->pad_end[i];
    }
    int64_t plane = in3[0] * in3[1] * in3[2], op = o3[0] * o3[1] * o3[2];
    for (int64_t pl = 0; pl < s->N * s->C; pl++)
        for (int64_t o = 0; o < op; o++) {
            int64_t oz = o / (o3[1] * o3[2]), oy = (o / o3[2]) % o3[1], ox = o % o3[2];
            double acc = kind == REF_MAX ? -INFINITY : 0.0;
            int64_t best = 0, count = 0, padded_count = 0;
            for (int64_t kz = 0; kz < k3[0]; kz++)
                for (int64_t ky = 0; ky < k3[1]; ky++)
                    for (int64_t kx = 0; kx < k3[2]; kx++) {
                        int64_t iz = oz * st3[0] - pb[0] + kz * d3[0], iy = oy * st3[1] - pb[1] + ky * d3[1];
                        int64_t ix = ox * st3[2] - pb[2] + kx * d3[2];
                        if (iz < in3[0] + pe[0] && iy < in3[1] + pe[1] && ix < in3[2] + pe[2]) padded_count++;
                        if (iz < 0 || iz >= in3[0] || iy < 0 || iy >= in3[1] || ix < 0 || ix >= in3[2]) continue;
                        double v = x[pl * plane + (iz * in3[1] + iy) * in3[2] + ix];
                        count++;
                        if (kind == REF_MAX && v > acc) {
                            acc = v;
                            best = column_major ? iz + iy * in3[0] + ix * in3[0] * in3[1] : (iz * in3[1] + iy) * in3[2] + ix;
                        } else if (kind == REF_AVG) {
                            acc += v;
                        } else if (kind == REF_LP2) {
                            acc += v * v;
                        }
                    }
            if (kind == REF_AVG) acc /= (double)(s->count_include_pad ? padded_count : count);
            if (kind == REF_LP2) acc = sqrt(acc);
            y[pl * op + o] = acc;
            if (indices) indices[pl * op + o] = pl * plane + best;
        }
}

static void check_pool(pool_spec s, const char *op, int kind, int with_indices, int column_major, int threads) {
    int64_t xd[5] = {s.N, s.C}, yd[5] = {s.N, s.C};
    int64_t ones[3] = {1, 1, 1};
    for (int i = 0; i < s.nsp; i++) {
        xd[2 + i] = s.in[i];
        yd[2 + i] = s.want_out[i];
    }
    dlc_dtype dt[1] = {DLC_FLOAT32};
    dlc_shape shapes[1] = {oph_shape(2 + s.nsp, xd)};
    oph_case c;
    oph_begin(&c, op, 19, 1, dt, shapes, with_indices ? 2 : 1, NULL);
    oph_attr_ints(&c, "kernel_shape", s.nsp, s.k);
    oph_attr_ints(&c, "strides", s.nsp, s.stride[0] ? s.stride : ones);
    oph_attr_ints(&c, "dilations", s.nsp, s.dil[0] ? s.dil : ones);
    if (s.auto_pad) oph_attr_string(&c, "auto_pad", s.auto_pad);
    else oph_attr_ints(&c, "pads", 2 * s.nsp, s.pads);
    oph_attr_int(&c, "ceil_mode", s.ceil_mode);
    if (kind == REF_AVG) oph_attr_int(&c, "count_include_pad", s.count_include_pad);
    if (with_indices) oph_attr_int(&c, "storage_order", column_major);
    cr_assert_eq(oph_infer(&c), DLC_OK, "%s", dlc_last_error());
    dlc_shape want = oph_shape(2 + s.nsp, yd);
    cr_assert(dlc_shape_equal(&c.out[0]->shape, &want), "%s output shape: last dim %lld, expected %lld", op,
              (long long)c.out[0]->shape.dims[1 + s.nsp].value, (long long)yd[1 + s.nsp]);
    int64_t yn = oph_numel(&want);
    float *x = oph_random(oph_numel(&shapes[0]), 31), *y = malloc((size_t)yn * sizeof *y);
    double *ref = malloc((size_t)yn * sizeof *ref);
    int64_t *idx = malloc((size_t)yn * sizeof *idx), *ref_idx = malloc((size_t)yn * sizeof *ref_idx);
    pool_ref(&s, kind, x, ref, ref_idx, column_major);
    void *ins[1] = {x}, *outs[2] = {y, idx};
    oph_run(&c, ins, outs, threads);
    oph_expect_close(y, ref, yn, 1e-5, op);
    if (with_indices) {
        cr_assert_eq(c.out[1]->dtype, DLC_INT64);
        for (int64_t i = 0; i < yn; i++) cr_assert_eq(idx[i], ref_idx[i], "index %lld", (long long)i);
    }
    free(x), free(y), free(ref), free(idx), free(ref_idx);
    oph_end(&c);
}

Test(max_pool, pads_strides_dilations_ceil_mode) {
    /* 3x3/2 pad 1 (ResNet stem) */
    check_pool((pool_spec){2, 2, 3, {11, 12}, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}, NULL, 0, 0, {6, 6}, {1, 1}, {1, 1}},
               "MaxPool", REF_MAX, 0, 0, 2);
    /* asymmetric pads, dilation */
    check_pool((pool_spec){2, 1, 2, {9, 10}, {2, 3}, {1, 2}, {2, 1}, {0, 1, 1, 2}, NULL, 0, 0, {8, 6}, {0, 1}, {1, 2}},
               "MaxPool", REF_MAX, 0, 0, 1);
    /* ceil_mode: (4-3)/2 -> ceil gives 2 */
    check_pool((pool_spec){2, 1, 1, {4, 4}, {3, 3}, {2, 2}, {1, 1}, {0}, NULL, 1, 0, {2, 2}, {0, 0}, {0, 0}}, "MaxPool",
               REF_MAX, 0, 0, 1);
    /* ceil_mode with a last window that would start in the padding is dropped: in 5, k 2, s 2, pad 1+1 */
    check_pool((pool_spec){2, 1, 1, {5, 5}, {2, 2}, {2, 2}, {1, 1}, {1, 1, 1, 1}, NULL, 1, 0, {3, 3}, {1, 1}, {1, 1}},
               "MaxPool", REF_MAX, 0, 0, 1);
    check_pool((pool_spec){1, 2, 3, {17}, {4}, {3}, {1}, {2, 1}, NULL, 1, 0, {7}, {2}, {1}}, "MaxPool", REF_MAX, 0, 0, 2);
    check_pool((pool_spec){3, 1, 2, {5, 6, 7}, {2, 3, 2}, {2, 1, 2}, {1, 1, 1}, {0, 1, 0, 0, 1, 1}, NULL, 0, 0, {2, 6, 4},
                           {0, 1, 0}, {0, 1, 1}},
               "MaxPool", REF_MAX, 0, 0, 2);
}

Test(max_pool, auto_pad_variants) {
    check_pool((pool_spec){2, 1, 2, {7, 8}, {3, 2}, {2, 3}, {1, 1}, {0}, "SAME_UPPER", 0, 0, {4, 3}, {1, 0}, {1, 0}},
               "MaxPool", REF_MAX, 0, 0, 1);
    check_pool((pool_spec){2, 1, 2, {7, 8}, {3, 2}, {2, 3}, {1, 1}, {0}, "SAME_LOWER", 0, 0, {4, 3}, {1, 0}, {1, 0}},
               "MaxPool", REF_MAX, 0, 0, 1);
    check_pool((pool_spec){2, 1, 2, {7, 8}, {3, 2}, {2, 3}, {1, 1}, {0}, "VALID", 0, 0, {3, 3}, {0, 0}, {0, 0}},
               "MaxPool", REF_MAX, 0, 0, 1);
}

Test(max_pool, indices_in_both_storage_orders) {
    pool_spec s = {2, 2, 3, {7, 6}, {3, 2}, {2, 2}, {1, 1}, {1, 0, 1, 1}, NULL, 0, 0, {4, 3}, {1, 0}, {1, 1}};
    check_pool(s, "MaxPool", REF_MAX, 1, 0, 2);
    check_pool(s, "MaxPool", REF_MAX, 1, 1, 1);
}

Test(avg_pool, count_include_pad_and_ceil_mode) {
    for (int include = 0; include < 2; include++) {
        check_pool((pool_spec){2, 2, 3, {9, 8}, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}, NULL, 0, include, {5, 4}, {1, 1},
                               {1, 1}},
                   "AveragePool", REF_AVG, 0, 0, 2);
        check_pool((pool_spec){2, 1, 2, {7, 7}, {3, 2}, {2, 2}, {1, 1}, {0, 1, 2, 0}, NULL, 1, include, {4, 4}, {0, 1},
                               {2, 0}},
                   "AveragePool", REF_AVG, 0, 0, 1);
        check_pool((pool_spec){2, 1, 2, {8, 9}, {3, 3}, {1, 2}, {2, 1}, {2, 1, 2, 1}, NULL, 0, include, {8, 5}, {2, 1},
                               {2, 1}},
                   "AveragePool", REF_AVG, 0, 0, 1); /* opset 19 dilations */
        check_pool((pool_spec){1, 1, 3, {10}, {3}, {2}, {1}, {0}, "SAME_UPPER", 0, include, {5}, {0}, {1}},
                   "AveragePool", REF_AVG, 0, 0, 1);
    }
}

/* The float32 2-D path (kernels/pool.c pool2d_f32_planes): the kernel
 * widths and strides it specializes (2x2/2, 3x3/2, 3x3/1, 2x2/1), a generic
 * one (4x4/3), odd sizes that leave input columns over, border columns
 * clipped by pads, ceil_mode windows that run past the input, both pools. */
Test(pool, float32_2d_fast_path_shapes) {
    const char *ops[2] = {"MaxPool", "AveragePool"};
    for (int k = 0; k < 2; k++) {
        int kind = k ? REF_AVG : REF_MAX;
        for (int include = 0; include < 1 + k; include++) {
            check_pool((pool_spec){2, 1, 16, {32, 32}, {2, 2}, {2, 2}, {1, 1}, {0}, NULL, 0, include, {16, 16}, {0, 0},
                                   {0, 0}},
                       ops[k], kind, 0, 0, 2);
            check_pool((pool_spec){2, 2, 3, {7, 9}, {2, 2}, {2, 2}, {1, 1}, {0}, NULL, 0, include, {3, 4}, {0, 0},
                                   {0, 0}},
                       ops[k], kind, 0, 0, 1);
            check_pool((pool_spec){2, 1, 3, {7, 9}, {2, 2}, {2, 2}, {1, 1}, {0}, NULL, 1, include, {4, 5}, {0, 0},
                                   {0, 0}},
                       ops[k], kind, 0, 0, 1);
            check_pool((pool_spec){2, 1, 4, {13, 21}, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}, NULL, 0, include, {7, 11},
                                   {1, 1}, {1, 1}},
                       ops[k], kind, 0, 0, 2);
            check_pool((pool_spec){2, 1, 2, {6, 19}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, NULL, 0, include, {6, 19},
                                   {1, 1}, {1, 1}},
                       ops[k], kind, 0, 0, 1);
            check_pool((pool_spec){2, 1, 2, {5, 18}, {2, 2}, {1, 1}, {1, 1}, {0}, NULL, 0, include, {4, 17}, {0, 0},
                                   {0, 0}},
                       ops[k], kind, 0, 0, 1);
            check_pool((pool_spec){2, 1, 2, {11, 23}, {4, 4}, {3, 3}, {1, 1}, {2, 1, 1, 2}, NULL, 0, include, {4, 8},
                                   {2, 1}, {1, 2}},
                       ops[k], kind, 0, 0, 1);
        }
    }
}

/* Max pools of 3x3 and wider run every column separably, the columns past
 * the input's edges standing for -inf (pool2d_max_cols): windows wider than
 * the specialized ones (5x5 as YOLO's SPPF, 7x7), pads on both sides,
 * strides 1 to 3, ceil_mode windows past the input, maps as small as the
 * window, 1 and 3 threads. */
Test(max_pool, separable_windows_cover_the_border_columns) {
    check_pool((pool_spec){2, 1, 2, {5, 5}, {5, 5}, {1, 1}, {1, 1}, {2, 2, 2, 2}, NULL, 0, 0, {5, 5}, {2, 2}, {2, 2}},
               "MaxPool", REF_MAX, 0, 0, 1);
    check_pool((pool_spec){2, 1, 6, {20, 20}, {5, 5}, {1, 1}, {1, 1}, {2, 2, 2, 2}, NULL, 0, 0, {20, 20}, {2, 2},
                           {2, 2}},
               "MaxPool", REF_MAX, 0, 0, 3);
    check_pool((pool_spec){2, 1, 3, {7, 9}, {7, 7}, {1, 1}, {1, 1}, {3, 3, 3, 3}, NULL, 0, 0, {7, 9}, {3, 3}, {3, 3}},
               "MaxPool", REF_MAX, 0, 0, 1);
    check_pool((pool_spec){2, 2, 4, {7, 7}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, NULL, 1, 0, {7, 7}, {1, 1}, {1, 1}},
               "MaxPool", REF_MAX, 0, 0, 3);
    check_pool((pool_spec){2, 1, 3, {28, 27}, {3, 3}, {2, 2}, {1, 1}, {0}, NULL, 1, 0, {14, 13}, {0, 0}, {1, 0}},
               "MaxPool", REF_MAX, 0, 0, 1);
    check_pool((pool_spec){2, 1, 2, {10, 17}, {5, 4}, {3, 3}, {1, 1}, {2, 1, 1, 2}, NULL, 0, 0, {3, 6}, {2, 1}, {1, 2}},
               "MaxPool", REF_MAX, 0, 0, 1);
}

Test(lp_pool, p2) {
    check_pool((pool_spec){2, 1, 2, {6, 7}, {2, 3}, {2, 1}, {1, 1}, {0, 1, 0, 1}, NULL, 0, 0, {3, 7}, {0, 1}, {0, 1}},
               "LpPool", REF_LP2, 0, 0, 1);
}

static void check_global(const char *op, int is_max, int64_t n, int64_t ch, int64_t h, int64_t w) {
    int64_t xd[4] = {n, ch, h, w};
    dlc_dtype dt[1] = {DLC_FLOAT32};
    dlc_shape shapes[1] = {oph_shape(4, xd)};
    oph_case c;
    oph_begin(&c, op, 13, 1, dt, shapes, 1, NULL);
    cr_assert_eq(oph_infer(&c), DLC_OK, "%s", dlc_last_error());
    dlc_shape want = oph_shape(4, (int64_t[]){n, ch, 1, 1});
    cr_assert(dlc_shape_equal(&c.out[0]->shape, &want));
    float *x = oph_random(n * ch * h * w, 41), *y = malloc((size_t)(n * ch) * sizeof *y);
    double *ref = malloc((size_t)(n * ch) * sizeof *ref);
    for (int64_t p = 0; p < n * ch; p++) {
        double acc = is_max ? -INFINITY : 0.0;
        for (int64_t i = 0; i < h * w; i++) acc = is_max ? fmax(acc, x[p * h * w + i]) : acc + x[p * h * w + i];
        ref[p] = is_max ? acc : acc / (double)(h * w);
    }
    void *ins[1] = {x}, *outs[1] = {y};
    oph_run(&c, ins, outs, 2);
    oph_expect_close(y, ref, n * ch, 1e-5, op);
    free(x), free(y), free(ref);
    oph_end(&c);
}

Test(global_pool, average_and_max) {
    check_global("GlobalAveragePool", 0, 2, 5, 7, 7);
    check_global("GlobalAveragePool", 0, 1, 3, 1, 37);
    check_global("GlobalMaxPool", 1, 2, 5, 7, 9);
}

Test(pool, window_larger_than_input_is_an_error) {
    int64_t xd[4] = {1, 1, 2, 2};
    dlc_dtype dt[1] = {DLC_FLOAT32};
    dlc_shape shapes[1] = {oph_shape(4, xd)};
    oph_case c;
    oph_begin(&c, "MaxPool", 12, 1, dt, shapes, 1, NULL);
    oph_attr_ints(&c, "kernel_shape", 2, (int64_t[]){3, 3});
    cr_assert_eq(oph_infer(&c), DLC_ERR_SHAPE_MISMATCH);
    cr_assert(strstr(dlc_last_error(), "node_under_test") && strstr(dlc_last_error(), "[1,1,2,2]"), "%s",
              dlc_last_error());
    oph_end(&c);
}

Test(max_pool, float16_and_int8) {
    int64_t xd[4] = {1, 1, 3, 3};
    dlc_shape shapes[1] = {oph_shape(4, xd)};
    dlc_dtype dt[1] = {DLC_INT8};
    oph_case c;
    oph_begin(&c, "MaxPool", 12, 1, dt, shapes, 1, NULL);
    oph_attr_ints(&c, "kernel_shape", 2, (int64_t[]){2, 2});
    cr_assert_eq(oph_infer(&c), DLC_OK, "%s", dlc_last_error());
    int8_t x[9] = {-5, 3, -1, 7, -128, 2, 0, 1, 127}, y[4];
    void *ins[1] = {x}, *outs[1] = {y};
    oph_run(&c, ins, outs, 1);
    int8_t want[4] = {7, 3, 7, 127};
    for (int i = 0; i < 4; i++) cr_assert_eq(y[i], want[i]);
    oph_end(&c);

    dt[0] = DLC_FLOAT16;
    oph_begin(&c, "AveragePool", 11, 1, dt, shapes, 1, NULL);
    oph_attr_ints(&c, "kernel_shape", 2, (int64_t[]){2, 2});
    cr_assert_eq(oph_infer(&c), DLC_OK, "%s", dlc_last_error());
    uint16_t hx[9], hy[4];
    for (int i = 0; i < 9; i++) hx[i] = dlc_f32_to_f16((float)i);
    void *hins[1] = {hx}, *houts[1] = {hy};
    oph_run(&c, hins, houts, 1);
    float hwant[4] = {2, 3, 5, 6};
    for (int i = 0; i < 4; i++) cr_assert_eq(dlc_f16_to_f32(hy[i]), hwant[i]);
    oph_end(&c);
}
