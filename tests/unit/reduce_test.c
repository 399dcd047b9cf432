/* Softmax family, Reduce* and ArgMax/ArgMin: opset-dependent axes,
 * shapes, errors, and kernel results against plain reference loops. */
#include "ew_test_util.h"

#include "kernels/dlc_kernel.h"

TestSuite(reduce, .init = t_setup, .fini = t_teardown);

static dlc_node *unary(const char *op, int32_t opset, dlc_value *x) { return t_node(op, opset, 1, &x); }

/* softmax of rows of length k in x (n values) */
static void softmax_rows(const float *x, float *y, int n, int k, int log_mode) {
    for (int r = 0; r < n / k; r++) {
        double m = -INFINITY, s = 0;
        for (int i = 0; i < k; i++) m = fmax(m, x[r * k + i]);
        for (int i = 0; i < k; i++) s += exp(x[r * k + i] - m);
        for (int i = 0; i < k; i++)
            y[r * k + i] = (float)(log_mode ? x[r * k + i] - m - log(s) : exp(x[r * k + i] - m) / s);
    }
}

Test(reduce, softmax_opset13_last_axis_is_stable) {
    dlc_value *x = t_input("x", DLC_FLOAT32, 2, (int64_t[]){2, 3});
    float xv[6] = {1000, 1001, 1002, -1, 0, 1}, out[6], want[6];
    dlc_node *n = unary("Softmax", 13, x);
    t_infer_ok(n);
    t_expect_shape(n->outputs[0], 2, (int64_t[]){2, 3});
    t_run(n, (void *[]){xv}, (void *[]){out});
    softmax_rows(xv, want, 6, 3, 0);
    t_expect_floats(out, want, 6, 1e-6f);
    dlc_node *l = unary("LogSoftmax", 13, x);
    t_infer_ok(l);
    t_run(l, (void *[]){xv}, (void *[]){out});
    softmax_rows(xv, want, 6, 3, 1);
    t_expect_floats(out, want, 6, 1e-6f);
}

/* The float32 contiguous-row fast path (kernels/reduce.c sm_row_fast_f32):
 * rows shorter than, equal to and not a multiple of its 16 lanes, large
 * offsets, a -inf, and a NaN that makes only its own row NaN. */
Test(reduce, softmax_float32_rows_odd_lengths) {
    int ks[] = {1, 5, 16, 17, 31, 100, 1000};
    for (size_t c = 0; c < sizeof ks / sizeof ks[0]; c++) {
        int k = ks[c], n = 3 * k;
        dlc_value *x = t_input("x", DLC_FLOAT32, 2, (int64_t[]){3, k});
        float *xv = malloc((size_t)n * sizeof *xv), *out = malloc((size_t)n * sizeof *out);
        float *want = malloc((size_t)n * sizeof *want);
        cr_assert(xv && out && want);
        for (int i = 0; i < n; i++) xv[i] = (float)((i * 37 % 101) * 0.173 - 8.0) + (i >= 2 * k ? 500.0f : 0.0f);
        if (k > 1) xv[k] = -INFINITY;
        for (int mode = 0; mode < 2; mode++) {
            dlc_node *s = unary(mode ? "LogSoftmax" : "Softmax", 13, x);
            t_infer_ok(s);
            t_run(s, (void *[]){xv}, (void *[]){out});
            softmax_rows(xv, want, n, k, mode);
            t_expect_floats(out, want, n, 2e-6f);
        }
        xv[k / 2] = NAN;
        dlc_node *s = unary("Softmax", 13, x);
        t_infer_ok(s);
        t_run(s, (void *[]){xv}, (void *[]){out});
        for (int i = 0; i < k; i++) cr_assert(isnan(out[i]), "k %d: NaN row, element %d is %g", k, i, out[i]);
        for (int i = k; i < n; i++) cr_assert(!isnan(out[i]), "k %d: element %d of a finite row is NaN", k, i);
        free(xv), free(out), free(want);
    }
}

Test(reduce, softmax_before_13_coerces_to_2d) {
    dlc_value *x = t_input("x", DLC_FLOAT32, 3, (int64_t[]){2, 2, 2});
    float xv[8] = {1, 2, 3, 4, 5, 6, 7, 9}, out[8], want[8];
    dlc_node *old = unary("Softmax", 11, x); /* axis 1: rows of 2*2 */
    t_infer_ok(old);
    t_run(old, (void *[]){xv}, (void *[]){out});
    softmax_rows(xv, want, 8, 4, 0);
    t_expect_floats(out, want, 8, 1e-6f);
    dlc_node *neu = unary("Softmax", 13, x);
    t_attr_int(neu, "axis", 1); /* only axis 1: columns two apart */
    t_infer_ok(neu);
    t_run(neu, (void *[]){xv}, (void *[]){out});
    for (int b = 0; b < 2; b++)
        for (int c = 0; c < 2; c++) {
            double e0 = exp(xv[b * 4 + c]), e1 = exp(xv[b * 4 + 2 + c]);
            want[b * 4 + c] = (float)(e0 / (e0 + e1));
            want[b * 4 + 2 + c] = (float)(e1 / (e0 + e1));
        }
    t_expect_floats(out, want, 8, 1e-6f);
    dlc_node *bad = unary("Softmax", 13, x);
    t_attr_int(bad, "axis", 3);
    cr_assert_eq(t_infer(bad), DLC_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(dlc_last_error(), "Softmax_node") != NULL, "%s", dlc_last_error());
}

Test(reduce, hardmax_and_float16_softmax) {
    dlc_value *x = t_input("x", DLC_FLOAT32, 2, (int64_t[]){2, 3});
    float xv[6] = {1, 3, 3, -1, -2, -3}, out[6];
    dlc_node *h = unary("Hardmax", 13, x);
    t_infer_ok(h);
    t_run(h, (void *[]){xv}, (void *[]){out});
    t_expect_floats(out, (float[]){0, 1, 0, 1, 0, 0}, 6, 0); /* first max wins */
    dlc_value *xh = t_input("xh", DLC_FLOAT16, 1, (int64_t[]){4});
    uint16_t hv[4], ho[4];
    float src[4] = {0, 1, 2, 3}, want[4], got[4];
    for (int i = 0; i < 4; i++) hv[i] = dlc_f32_to_f16(src[i]);
    dlc_node *s = unary("Softmax", 13, xh);
    t_infer_ok(s);
    t_run(s, (void *[]){hv}, (void *[]){ho});
    softmax_rows(src, want, 4, 4, 0);
    for (int i = 0; i < 4; i++) got[i] = dlc_f16_to_f32(ho[i]);
    t_expect_floats(got, want, 4, 1e-3f);
}

static dlc_node *reduce_attr(const char *op, int32_t opset, dlc_value *x, int32_t count, const int64_t *axes,
                             int64_t keepdims) {
    dlc_node *n = unary(op, opset, x);
    if (count > 0) t_attr_ints(n, "axes", count, axes);
    if (keepdims >= 0) t_attr_int(n, "keepdims", keepdims);
    return n;
}

Test(reduce, reduce_sum_axes_attribute_then_input) {
    dlc_value *x = t_input("x", DLC_FLOAT32, 3, (int64_t[]){2, 3, 4});
    float xv[24], out[24];
    for (int i = 0; i < 24; i++) xv[i] = (float)i;
    dlc_node *old = reduce_attr("ReduceSum", 11, x, 1, (int64_t[]){-2}, 0);
    t_infer_ok(old);
    t_expect_shape(old->outputs[0], 2, (int64_t[]){2, 4});
    t_run(old, (void *[]){xv}, (void *[]){out});
    float want[8];
    for (int a = 0; a < 2; a++)
        for (int c = 0; c < 4; c++) want[a * 4 + c] = xv[a * 12 + c] + xv[a * 12 + 4 + c] + xv[a * 12 + 8 + c];
    t_expect_floats(out, want, 8, 0);

    int64_t axes[2] = {0, 2};
    dlc_value *axes_v = t_const("axes", DLC_INT64, 1, (int64_t[]){2}, axes, sizeof axes);
    dlc_value *ins[2] = {x, axes_v};
    dlc_node *neu = t_node("ReduceSum", 13, 2, ins);
    t_infer_ok(neu);
    t_expect_shape(neu->outputs[0], 3, (int64_t[]){1, 3, 1});
    t_run(neu, (void *[]){xv, axes}, (void *[]){out});
    for (int b = 0; b < 3; b++) {
        float s = 0;
        for (int a = 0; a < 2; a++)
            for (int c = 0; c < 4; c++) s += xv[a * 12 + b * 4 + c];
        cr_assert_eq(out[b], s);
    }

    dlc_value *dyn = t_input("dyn_axes", DLC_INT64, 1, (int64_t[]){1});
    dlc_value *ins2[2] = {x, dyn};
    dlc_node *bad = t_node("ReduceSum", 13, 2, ins2);
    cr_assert_eq(t_infer(bad), DLC_ERR_UNSUPPORTED);
    cr_assert(strstr(dlc_last_error(), "ReduceSum_node") != NULL, "%s", dlc_last_error());
    cr_assert(strstr(dlc_last_error(), "dyn_axes") != NULL, "%s", dlc_last_error());

    /* no axes: everything, or nothing with noop_with_empty_axes */
    dlc_node *all = t_node("ReduceSum", 13, 1, &x);
    t_infer_ok(all);
    t_expect_shape(all->outputs[0], 3, (int64_t[]){1, 1, 1});
    t_run(all, (void *[]){xv}, (void *[]){out});
    cr_assert_eq(out[0], 276.0f);
    dlc_node *noop = t_node("ReduceSum", 13, 1, &x);
    t_attr_int(noop, "noop_with_empty_axes", 1);
    t_infer_ok(noop);
    t_expect_shape(noop->outputs[0], 3, (int64_t[]){2, 3, 4});
    t_run(noop, (void *[]){xv}, (void *[]){out});
    t_expect_floats(out, xv, 24, 0);

    /* ReduceMean takes axes as an attribute until opset 18 */
    dlc_node *mean17 = reduce_attr("ReduceMean", 17, x, 1, (int64_t[]){2}, 1);
    t_infer_ok(mean17);
    t_expect_shape(mean17->outputs[0], 3, (int64_t[]){2, 3, 1});
    dlc_value *ax2 = t_const("ax2", DLC_INT64, 1, (int64_t[]){1}, (int64_t[]){2}, sizeof(int64_t));
    dlc_value *ins3[2] = {x, ax2};
    cr_assert_eq(t_infer(t_node("ReduceMean", 17, 2, ins3)), DLC_ERR_PARSE);
    dlc_node *mean18 = t_node("ReduceMean", 18, 2, ins3);
    t_infer_ok(mean18);
    t_run(mean18, (void *[]){xv, NULL}, (void *[]){out});
    for (int r = 0; r < 6; r++) cr_assert_float_eq(out[r], xv[r * 4] + 1.5f, 1e-6f);
}

/* Every reduce op over axes {0, 2} (inner dim reduced) and {0} (inner kept). */
Test(reduce, all_ops_match_reference) {
    const char *ops[] = {"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd",
                         "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"};
    dlc_value *x = t_input("x", DLC_FLOAT32, 3, (int64_t[]){2, 3, 5});
    float xv[30], out[15];
    for (int i = 0; i < 30; i++) xv[i] = 0.25f + (float)((i * 7) % 11) / 8.0f;
    int64_t masks[2] = {5, 1};
    for (int o = 0; o < 10; o++) {
        for (int m = 0; m < 2; m++) {
            int64_t axes[2] = {0, 2};
            dlc_node *n = reduce_attr(ops[o], 13, x, m == 0 ? 2 : 1, axes, 0);
            if (o == 0) { /* ReduceSum 13 takes an input; use opset 12 for the attribute */
                n = reduce_attr(ops[o], 12, x, m == 0 ? 2 : 1, axes, 0);
            }
            t_infer_ok(n);
            t_run(n, (void *[]){xv}, (void *[]){out});
            int outputs = m == 0 ? 3 : 15;
            for (int k = 0; k < outputs; k++) {
                double acc = o == 4 ? 1 : o == 2 ? -INFINITY : o == 3 ? INFINITY : 0, mx = -INFINITY;
                int count = 0;
                for (int i = 0; i < 30; i++) {
                    int a = i / 15, b = (i / 5) % 3, c = i % 5;
                    (void)a;
                    if (masks[m] == 5 ? b != k : (b * 5 + c) != k) continue;
                    double v = xv[i];
                    count++;
                    mx = fmax(mx, v);
                    switch (o) {
                    case 2: acc = fmax(acc, v); break;
                    case 3: acc = fmin(acc, v); break;
                    case 4: acc *= v; break;
                    case 5: acc += fabs(v); break;
                    case 6: case 9: acc += v * v; break;
                    case 8: acc += exp(v); break;
                    default: acc += v; break;
                    }
                }
                if (o == 1) acc /= count;
                if (o == 6) acc = sqrt(acc);
                if (o == 7 || o == 8) acc = log(acc);
                cr_assert_float_eq(out[k], (float)acc, 2e-6 * fabs(acc) + 1e-6, "%s mask %lld [%d]: %g vs %g", ops[o],
                                   (long long)masks[m], k, out[k], acc);
            }
        }
    }
}

Test(reduce, nan_and_empty_reductions) {
    dlc_value *x = t_input("x", DLC_FLOAT32, 2, (int64_t[]){2, 3});
    float xv[6] = {1, NAN, 3, 4, 5, 6}, out[3];
    dlc_node *mx = reduce_attr("ReduceMax", 13, x, 1, (int64_t[]){1}, 0);
    t_infer_ok(mx);
    t_run(mx, (void *[]){xv}, (void *[]){out});
    t_expect_floats(out, (float[]){NAN, 6}, 2, 0);
    dlc_node *mn = reduce_attr("ReduceMin", 13, x, 1, (int64_t[]){0}, 0);
    t_infer_ok(mn);
    t_run(mn, (void *[]){xv}, (void *[]){out});
    t_expect_floats(out, (float[]){1, NAN, 3}, 3, 0);

    dlc_value *e = t_input("e", DLC_FLOAT32, 2, (int64_t[]){2, 0});
    float dummy = 0;
    const char *ops[] = {"ReduceSum", "ReduceProd", "ReduceMax", "ReduceLogSumExp"};
    float want[] = {0, 1, -INFINITY, -INFINITY};
    for (int o = 0; o < 4; o++) {
        dlc_node *n = reduce_attr(ops[o], 13, e, 1, (int64_t[]){1}, 1);
        if (o == 0) n = reduce_attr(ops[o], 11, e, 1, (int64_t[]){1}, 1);
        t_infer_ok(n);
        t_expect_shape(n->outputs[0], 2, (int64_t[]){2, 1});
        t_run(n, (void *[]){&dummy}, (void *[]){out});
        t_expect_floats(out, (float[]){want[o], want[o]}, 2, 0);
    }
}

Test(reduce, integer_and_half_reductions) {
    dlc_value *x = t_input("x", DLC_INT8, 1, (int64_t[]){4});
    int8_t xv[4] = {100, 100, 100, -1}, out[1];
    dlc_node *n = reduce_attr("ReduceSum", 11, x, 0, NULL, 0);
    t_infer_ok(n);
    t_expect_shape(n->outputs[0], 0, NULL);
    t_run(n, (void *[]){xv}, (void *[]){out});
    cr_assert_eq(out[0], (int8_t)43); /* 299 wraps */
    dlc_node *mean = reduce_attr("ReduceMean", 13, x, 0, NULL, 0);
    t_infer_ok(mean);
    int8_t small[4] = {1, 2, 2, 2};
    t_run(mean, (void *[]){small}, (void *[]){out});
    cr_assert_eq(out[0], 1); /* 7/4 truncates */

    dlc_value *h = t_input("h", DLC_FLOAT16, 2, (int64_t[]){2, 600});
    uint16_t *hv = malloc(sizeof(uint16_t) * 1200), ho[2];
    for (int i = 0; i < 1200; i++) hv[i] = dlc_f32_to_f16(i < 600 ? 0.5f : 1.0f);
    dlc_node *hs = reduce_attr("ReduceSum", 11, h, 1, (int64_t[]){1}, 0);
    t_infer_ok(hs);
    t_run(hs, (void *[]){hv}, (void *[]){ho});
    cr_assert_eq(dlc_f16_to_f32(ho[0]), 300.0f);
    cr_assert_eq(dlc_f16_to_f32(ho[1]), 600.0f);
    free(hv);
}

Test(reduce, argmax_argmin) {
    dlc_value *x = t_input("x", DLC_FLOAT32, 2, (int64_t[]){2, 4});
    float xv[8] = {1, 5, 5, 2, 7, -1, 7, -1};
    int64_t out[4];
    dlc_node *n = unary("ArgMax", 13, x);
    t_attr_int(n, "axis", -1);
    t_infer_ok(n);
    cr_assert_eq(n->outputs[0]->dtype, DLC_INT64);
    t_expect_shape(n->outputs[0], 2, (int64_t[]){2, 1});
    t_run(n, (void *[]){xv}, (void *[]){out});
    cr_assert_eq(out[0], 1);
    cr_assert_eq(out[1], 0);
    dlc_node *last = unary("ArgMax", 13, x);
    t_attr_int(last, "axis", 1);
    t_attr_int(last, "select_last_index", 1);
    t_attr_int(last, "keepdims", 0);
    t_infer_ok(last);
    t_expect_shape(last->outputs[0], 1, (int64_t[]){2});
    t_run(last, (void *[]){xv}, (void *[]){out});
    cr_assert_eq(out[0], 2);
    cr_assert_eq(out[1], 2);
    dlc_node *mn = unary("ArgMin", 13, x); /* axis 0 */
    t_infer_ok(mn);
    t_expect_shape(mn->outputs[0], 2, (int64_t[]){1, 4});
    t_run(mn, (void *[]){xv}, (void *[]){out});
    cr_assert_arr_eq(out, ((int64_t[]){0, 1, 0, 1}), sizeof out);
    dlc_value *iv = t_input("iv", DLC_UINT64, 1, (int64_t[]){3});
    uint64_t uv[3] = {1, UINT64_MAX, 2};
    dlc_node *um = unary("ArgMax", 13, iv);
    t_infer_ok(um);
    t_run(um, (void *[]){uv}, (void *[]){out});
    cr_assert_eq(out[0], 1);
}

/* Column (inner kept) and row paths split across threads. */
Test(reduce, large_reductions_across_threads) {
    enum { R = 2000, C = 130 };
    dlc_value *x = t_input("x", DLC_FLOAT32, 2, (int64_t[]){R, C});
    float *xv = malloc(sizeof(float) * R * C), *out = malloc(sizeof(float) * R * C);
    for (int i = 0; i < R * C; i++) xv[i] = (float)((i * 13) % 17) - 8;
    dlc_node *rows = reduce_attr("ReduceSum", 11, x, 1, (int64_t[]){1}, 0);
    t_infer_ok(rows);
    cr_assert_eq(t_run_threads(rows, (void *[]){xv}, (void *[]){out}, 4), 0);
    for (int r = 0; r < R; r++) {
        float s = 0;
        for (int c = 0; c < C; c++) s += xv[r * C + c];
        cr_assert_eq(out[r], s, "row %d", r);
    }
    dlc_node *cols = reduce_attr("ReduceMax", 13, x, 1, (int64_t[]){0}, 0);
    t_infer_ok(cols);
    cr_assert_eq(t_run_threads(cols, (void *[]){xv}, (void *[]){out}, 4), 0);
    for (int c = 0; c < C; c++) {
        float m = -INFINITY;
        for (int r = 0; r < R; r++) m = fmaxf(m, xv[r * C + c]);
        cr_assert_eq(out[c], m, "col %d", c);
    }
    dlc_node *sm = unary("Softmax", 13, x);
    t_infer_ok(sm);
    cr_assert_eq(t_run_threads(sm, (void *[]){xv}, (void *[]){out}, 4), 0);
    float *want = malloc(sizeof(float) * R * C);
    softmax_rows(xv, want, R * C, C, 0);
    t_expect_floats(out, want, R * C, 1e-5f);
    free(want);
    free(xv);
    free(out);
}
