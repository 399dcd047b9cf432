/* Normalization ops: BatchNormalization (inference, per-activation params of
 * old opsets, training mode refused), InstanceNormalization,
 * LayerNormalization with Mean/InvStdDev, LRN, against direct formulas. */
#include "tests/unit/op_harness.h"

static void bn_case(int32_t opset, int per_activation, int threads) {
    int64_t xd[4] = {2, 3, 4, 5};
    int64_t pn = per_activation ? 3 * 4 * 5 : 3;
    int64_t pd[3] = {3, 4, 5};
    dlc_dtype dt[5] = {DLC_FLOAT32, DLC_FLOAT32, DLC_FLOAT32, DLC_FLOAT32, DLC_FLOAT32};
    dlc_shape ps = per_activation ? oph_shape(3, pd) : oph_shape(1, &pn);
    dlc_shape shapes[5] = {oph_shape(4, xd), ps, ps, ps, ps};
    oph_case c;
    oph_begin(&c, "BatchNormalization", opset, 5, dt, shapes, 1, NULL);
    oph_attr_float(&c, "epsilon", 1e-3);
    if (per_activation) oph_attr_int(&c, "spatial", 0);
    cr_assert_eq(oph_infer(&c), DLC_OK, "%s", dlc_last_error());
    cr_assert(dlc_shape_equal(&c.out[0]->shape, &shapes[0]));
    float *x = oph_random(120, 51), *scale = oph_random(pn, 52), *bias = oph_random(pn, 53), *mean = oph_random(pn, 54);
    float *var = oph_random(pn, 55), y[120];
    for (int64_t i = 0; i < pn; i++) var[i] = var[i] * var[i] + 0.1f;
    double ref[120];
    for (int64_t i = 0; i < 120; i++) {
        int64_t ch = (i / 20) % 3, k = per_activation ? ch * 20 + i % 20 : ch;
        ref[i] = (x[i] - mean[k]) / sqrt(var[k] + 1e-3) * scale[k] + bias[k];
    }
    void *ins[5] = {x, scale, bias, mean, var}, *outs[1] = {y};
    oph_run(&c, ins, outs, threads);
    oph_expect_close(y, ref, 120, 1e-5, "batch_norm");
    free(x), free(scale), free(bias), free(mean), free(var);
    oph_end(&c);
}

Test(batch_norm, per_channel_and_per_activation) {
    bn_case(15, 0, 1);
    bn_case(9, 0, 2);
    bn_case(7, 1, 1);
}

Test(batch_norm, training_mode_uses_batch_statistics) {
    int64_t xd[4] = {2, 3, 2, 1}, pn = 3;
    dlc_dtype dt[5] = {DLC_FLOAT32, DLC_FLOAT32, DLC_FLOAT32, DLC_FLOAT32, DLC_FLOAT32};
    dlc_shape ps = oph_shape(1, &pn);
    dlc_shape shapes[5] = {oph_shape(4, xd), ps, ps, ps, ps};
    oph_case c;
    oph_begin(&c, "BatchNormalization", 15, 5, dt, shapes, 3, NULL);
    oph_attr_int(&c, "training_mode", 1);
    oph_attr_float(&c, "momentum", 0.75);
    cr_assert_eq(oph_infer(&c), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(c.out[1]->shape.dims[0].value, 3);
    float x[12], scale[3] = {1, 2, 0.5f}, bias[3] = {0, 1, -1}, mean[3] = {1, 1, 1}, var[3] = {2, 2, 2};
    for (int i = 0; i < 12; i++) x[i] = (float)(i * i % 7) - 2.0f;
    float y[12], running_mean[3], running_var[3];
    oph_run(&c, (void *[]){x, scale, bias, mean, var}, (void *[]){y, running_mean, running_var}, 1);
    for (int ch = 0; ch < 3; ch++) {
        double m = 0, v = 0;
        for (int n = 0; n < 2; n++)
            for (int i = 0; i < 2; i++) m += x[(n * 3 + ch) * 2 + i] / 4.0;
        for (int n = 0; n < 2; n++)
            for (int i = 0; i < 2; i++) v += (x[(n * 3 + ch) * 2 + i] - m) * (x[(n * 3 + ch) * 2 + i] - m) / 4.0;
        double want_y[4], want_mean = 1 * 0.75 + m * 0.25, want_var = 2 * 0.75 + v * 0.25;
        float got_y[4];
        for (int n = 0; n < 2; n++)
            for (int i = 0; i < 2; i++) {
                int at = (n * 3 + ch) * 2 + i;
                want_y[n * 2 + i] = (x[at] - m) / sqrt(v + 1e-5) * scale[ch] + bias[ch];
                got_y[n * 2 + i] = y[at];
            }
        oph_expect_close(got_y, want_y, 4, 1e-5, "y");
        oph_expect_close(&running_mean[ch], &want_mean, 1, 1e-6, "running_mean");
        oph_expect_close(&running_var[ch], &want_var, 1, 1e-6, "running_var");
    }
    oph_end(&c);
    /* before opset 14 the statistics outputs meant something else */
    oph_begin(&c, "BatchNormalization", 9, 5, dt, shapes, 3, NULL);
    cr_assert_eq(oph_infer(&c), DLC_ERR_UNSUPPORTED);
    cr_assert(strstr(dlc_last_error(), "node_under_test"), "%s", dlc_last_error());
    oph_end(&c);
}

Test(batch_norm, wrong_parameter_size_names_both_shapes) {
    int64_t xd[4] = {2, 3, 4, 5}, pn = 4;
    dlc_dtype dt[5] = {DLC_FLOAT32, DLC_FLOAT32, DLC_FLOAT32, DLC_FLOAT32, DLC_FLOAT32};
    dlc_shape ps = oph_shape(1, &pn);
    dlc_shape shapes[5] = {oph_shape(4, xd), ps, ps, ps, ps};
    oph_case c;
    oph_begin(&c, "BatchNormalization", 15, 5, dt, shapes, 1, NULL);
    cr_assert_eq(oph_infer(&c), DLC_ERR_SHAPE_MISMATCH);
    const char *msg = dlc_last_error();
    cr_assert(strstr(msg, "node_under_test") && strstr(msg, "[4]") && strstr(msg, "[2,3,4,5]"), "%s", msg);
    oph_end(&c);
}

Test(instance_norm, per_plane_statistics) {
    int64_t xd[4] = {2, 3, 5, 7}, pn = 3;
    dlc_dtype dt[3] = {DLC_FLOAT32, DLC_FLOAT32, DLC_FLOAT32};
    dlc_shape shapes[3] = {oph_shape(4, xd), oph_shape(1, &pn), oph_shape(1, &pn)};
    oph_case c;
    oph_begin(&c, "InstanceNormalization", 6, 3, dt, shapes, 1, NULL);
    oph_attr_float(&c, "epsilon", 1e-4);
    cr_assert_eq(oph_infer(&c), DLC_OK, "%s", dlc_last_error());
    float *x = oph_random(210, 61), *scale = oph_random(3, 62), *bias = oph_random(3, 63), y[210];
    double ref[210];
    for (int p = 0; p < 6; p++) {
        double m = 0, v = 0;
        for (int i = 0; i < 35; i++) m += x[p * 35 + i];
        m /= 35;
        for (int i = 0; i < 35; i++) v += (x[p * 35 + i] - m) * (x[p * 35 + i] - m);
        v /= 35;
        for (int i = 0; i < 35; i++) ref[p * 35 + i] = (x[p * 35 + i] - m) / sqrt(v + 1e-4) * scale[p % 3] + bias[p % 3];
    }
    void *ins[3] = {x, scale, bias}, *outs[1] = {y};
    oph_run(&c, ins, outs, 2);
    oph_expect_close(y, ref, 210, 1e-5, "instance_norm");
    free(x), free(scale), free(bias);
    oph_end(&c);
}

static void ln_case(int64_t axis, int with_bias, int stats, int scale_rank) {
    int64_t xd[3] = {3, 4, 10};
    int32_t a = (int32_t)(axis < 0 ? axis + 3 : axis);
    int64_t cols = 1;
    for (int d = a; d < 3; d++) cols *= xd[d];
    int64_t rows = 120 / cols;
    dlc_shape ss = oph_shape(3 - a, xd + a);
    if (scale_rank == 1) ss = oph_shape(1, &xd[2]); /* broadcasts along the earlier normalized dims */
    dlc_dtype dt[3] = {DLC_FLOAT32, DLC_FLOAT32, DLC_FLOAT32};
    dlc_shape shapes[3] = {oph_shape(3, xd), ss, ss};
    const char *names[3] = {"y", stats ? "mean" : "", stats ? "inv" : ""};
    oph_case c;
    oph_begin(&c, "LayerNormalization", 17, with_bias ? 3 : 2, dt, shapes, 3, names);
    oph_attr_int(&c, "axis", axis);
    oph_attr_float(&c, "epsilon", 1e-5);
    cr_assert_eq(oph_infer(&c), DLC_OK, "%s", dlc_last_error());
    if (stats) {
        cr_assert_eq(c.out[1]->dtype, DLC_FLOAT32);
        cr_assert_eq(c.out[1]->shape.rank, 3);
        cr_assert_eq(c.out[1]->shape.dims[2].value, 1);
        cr_assert_eq(c.out[1]->shape.dims[0].value, a > 0 ? 3 : 1);
    }
    int64_t sn = oph_numel(&ss);
    float *x = oph_random(120, 71), *scale = oph_random(sn, 72), *bias = oph_random(sn, 73), y[120], mean[120], inv[120];
    double ref[120], ref_mean[120], ref_inv[120];
    for (int64_t r = 0; r < rows; r++) {
        double m = 0, v = 0;
        for (int64_t j = 0; j < cols; j++) m += x[r * cols + j];
        m /= (double)cols;
        for (int64_t j = 0; j < cols; j++) v += (x[r * cols + j] - m) * (x[r * cols + j] - m);
        v /= (double)cols;
        ref_mean[r] = m;
        ref_inv[r] = 1.0 / sqrt(v + 1e-5);
        for (int64_t j = 0; j < cols; j++) {
            int64_t k = j % sn;
            ref[r * cols + j] = (x[r * cols + j] - m) * ref_inv[r] * scale[k] + (with_bias ? bias[k] : 0.0);
        }
    }
    void *ins[3] = {x, scale, bias}, *outs[3] = {y, mean, inv};
    oph_run(&c, ins, outs, 2);
    oph_expect_close(y, ref, 120, 1e-5, "layer_norm");
    if (stats) {
        oph_expect_close(mean, ref_mean, rows, 1e-6, "layer_norm mean");
        oph_expect_close(inv, ref_inv, rows, 1e-5, "layer_norm inv_std_dev");
    }
    free(x), free(scale), free(bias);
    oph_end(&c);
}

Test(layer_norm, axes_bias_statistics_and_broadcast_scale) {
    ln_case(-1, 1, 0, 0);
    ln_case(1, 0, 1, 0);
    ln_case(1, 1, 1, 1);
    ln_case(0, 1, 1, 0);
}

/* The float32 fast path (Scale/B of cols elements, kernels/norm.c
 * ln_rows_fast_f32): rows shorter than, equal to and not a multiple of its
 * 16 lanes, with and without B, rows offset far from 0 (the two-pass
 * variance keeps them exact), on 1 and 2 threads, against double. */
static void ln_fast_case(int64_t rows, int64_t cols, int with_bias, double offset, int threads) {
    int64_t xd[2] = {rows, cols}, n = rows * cols;
    dlc_dtype dt[3] = {DLC_FLOAT32, DLC_FLOAT32, DLC_FLOAT32};
    dlc_shape shapes[3] = {oph_shape(2, xd), oph_shape(1, &cols), oph_shape(1, &cols)};
    const char *names[3] = {"y", "mean", "inv"};
    oph_case c;
    oph_begin(&c, "LayerNormalization", 17, with_bias ? 3 : 2, dt, shapes, 3, names);
    oph_attr_int(&c, "axis", -1);
    oph_attr_float(&c, "epsilon", 1e-5);
    cr_assert_eq(oph_infer(&c), DLC_OK, "%s", dlc_last_error());
    float *x = oph_random(n, 81), *scale = oph_random(cols, 82), *bias = oph_random(cols, 83);
    float *y = malloc((size_t)n * sizeof *y), *mean = malloc((size_t)rows * sizeof *mean);
    float *inv = malloc((size_t)rows * sizeof *inv);
    double *ref = malloc((size_t)n * sizeof *ref), *ref_mean = malloc((size_t)rows * sizeof *ref_mean);
    double *ref_inv = malloc((size_t)rows * sizeof *ref_inv);
    cr_assert(y && mean && inv && ref && ref_mean && ref_inv);
    for (int64_t i = 0; i < n; i++) x[i] = (float)(x[i] + offset);
    for (int64_t r = 0; r < rows; r++) {
        double m = 0, v = 0;
        for (int64_t j = 0; j < cols; j++) m += x[r * cols + j];
        m /= (double)cols;
        for (int64_t j = 0; j < cols; j++) v += (x[r * cols + j] - m) * (x[r * cols + j] - m);
        v /= (double)cols;
        ref_mean[r] = m;
        ref_inv[r] = 1.0 / sqrt(v + 1e-5);
        for (int64_t j = 0; j < cols; j++)
            ref[r * cols + j] = (x[r * cols + j] - m) * ref_inv[r] * scale[j] + (with_bias ? bias[j] : 0.0);
    }
    void *ins[3] = {x, scale, bias}, *outs[3] = {y, mean, inv};
    oph_run(&c, ins, outs, threads);
    char what[64];
    snprintf(what, sizeof what, "layer_norm %lldx%lld bias %d offset %g", (long long)rows, (long long)cols, with_bias,
             offset);
    oph_expect_close(y, ref, n, 2e-5, what);
    oph_expect_close(mean, ref_mean, rows, 1e-6, what);
    oph_expect_close(inv, ref_inv, rows, 2e-5, what);
    free(x), free(scale), free(bias), free(y), free(mean), free(inv), free(ref), free(ref_mean), free(ref_inv);
    oph_end(&c);
}

Test(layer_norm, float32_fast_path_odd_sizes) {
    int64_t cols[] = {1, 7, 16, 17, 33, 768, 771};
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++)
        for (int bias = 0; bias < 2; bias++) ln_fast_case(5, cols[i], bias, 0.0, 1 + bias);
    ln_fast_case(9, 129, 1, 100.0, 2);
}

Test(lrn, cross_channel_window) {
    int64_t xd[4] = {2, 6, 3, 3};
    dlc_dtype dt[1] = {DLC_FLOAT32};
    dlc_shape shapes[1] = {oph_shape(4, xd)};
    oph_case c;
    oph_begin(&c, "LRN", 13, 1, dt, shapes, 1, NULL);
    oph_attr_int(&c, "size", 4);
    oph_attr_float(&c, "alpha", 0.02);
    oph_attr_float(&c, "beta", 0.6);
    oph_attr_float(&c, "bias", 2.0);
    cr_assert_eq(oph_infer(&c), DLC_OK, "%s", dlc_last_error());
    float *x = oph_random(108, 81), y[108];
    double ref[108];
    for (int n = 0; n < 2; n++)
        for (int ch = 0; ch < 6; ch++)
            for (int i = 0; i < 9; i++) {
                double sum = 0;
                for (int cc = ch - 1; cc <= ch + 2; cc++) /* floor((4-1)/2) = 1 before, ceil = 2 after */
                    if (cc >= 0 && cc < 6) sum += (double)x[(n * 6 + cc) * 9 + i] * x[(n * 6 + cc) * 9 + i];
                int k = (n * 6 + ch) * 9 + i;
                ref[k] = x[k] / pow(2.0 + 0.02 / 4 * sum, 0.6);
            }
    void *ins[1] = {x}, *outs[1] = {y};
    oph_run(&c, ins, outs, 1);
    oph_expect_close(y, ref, 108, 1e-5, "lrn");
    free(x);
    oph_end(&c);
}
