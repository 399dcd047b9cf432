/* Gemm and MatMul: shape inference, errors, and the kernels against
 * triple-loop references over transposes, broadcasts, odd sizes (not
 * multiples of the GEMM blocks), matrix-vector shapes and dtypes. */
#include "tests/unit/op_harness.h"

/* ---- Gemm ---------------------------------------------------------------------- */

typedef struct gemm_case {
    int64_t M, N, K;
    int trans_a, trans_b;
    double alpha, beta;
    int c_rank;          /* -1: no C */
    int64_t c_dims[2];
    int threads;
} gemm_case;

static void check_gemm(gemm_case t) {
    int64_t a_dims[2] = {t.trans_a ? t.K : t.M, t.trans_a ? t.M : t.K};
    int64_t b_dims[2] = {t.trans_b ? t.N : t.K, t.trans_b ? t.K : t.N};
    dlc_dtype dt[3] = {DLC_FLOAT32, DLC_FLOAT32, DLC_FLOAT32};
    dlc_shape shapes[3] = {oph_shape(2, a_dims), oph_shape(2, b_dims), oph_shape(t.c_rank, t.c_dims)};
    oph_case c;
    oph_begin(&c, "Gemm", 13, t.c_rank >= 0 ? 3 : 2, dt, shapes, 1, NULL);
    oph_attr_int(&c, "transA", t.trans_a);
    oph_attr_int(&c, "transB", t.trans_b);
    oph_attr_float(&c, "alpha", t.alpha);
    oph_attr_float(&c, "beta", t.beta);
    cr_assert_eq(oph_infer(&c), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(c.out[0]->shape.rank, 2);
    cr_assert_eq(c.out[0]->shape.dims[0].value, t.M);
    cr_assert_eq(c.out[0]->shape.dims[1].value, t.N);
    int64_t c_numel = t.c_rank >= 0 ? oph_numel(&shapes[2]) : 0;
    float *a = oph_random(t.M * t.K, 1), *b = oph_random(t.K * t.N, 2), *cc = oph_random(c_numel, 3);
    float *y = malloc((size_t)(t.M * t.N) * sizeof *y);
    double *ref = malloc((size_t)(t.M * t.N) * sizeof *ref);
    for (int64_t i = 0; i < t.M; i++)
        for (int64_t j = 0; j < t.N; j++) {
            double sum = 0;
            for (int64_t k = 0; k < t.K; k++) {
                double av = t.trans_a ? a[k * t.M + i] : a[i * t.K + k];
                double bv = t.trans_b ? b[j * t.K + k] : b[k * t.N + j];
                sum += av * bv;
            }
            double cv = 0;
            if (t.c_rank == 0) cv = cc[0];
            else if (t.c_rank == 1) cv = cc[t.c_dims[0] == 1 ? 0 : j];
            else if (t.c_rank == 2) cv = cc[(t.c_dims[0] == 1 ? 0 : i) * t.c_dims[1] + (t.c_dims[1] == 1 ? 0 : j)];
            ref[i * t.N + j] = t.alpha * sum + t.beta * cv;
        }
    void *ins[3] = {a, b, cc}, *outs[1] = {y};
    oph_run(&c, ins, outs, t.threads);
    oph_expect_close(y, ref, t.M * t.N, 1e-4, "gemm");
    free(a), free(b), free(cc), free(y), free(ref);
    oph_end(&c);
}

Test(gemm, transposes_and_c_broadcasts_on_odd_sizes) {
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            check_gemm((gemm_case){37, 53, 71, ta, tb, 1.0, 1.0, -1, {0, 0}, 1});
            check_gemm((gemm_case){37, 53, 71, ta, tb, 0.5, 2.0, 2, {37, 53}, 2});
            check_gemm((gemm_case){13, 7, 300, ta, tb, 1.5, -1.0, 1, {7, 0}, 2});
        }
    check_gemm((gemm_case){9, 11, 5, 0, 0, 1.0, 0.5, 2, {9, 1}, 1});
    check_gemm((gemm_case){9, 11, 5, 0, 0, 1.0, 0.5, 2, {1, 11}, 1});
    check_gemm((gemm_case){9, 11, 5, 0, 1, 1.0, 3.0, 0, {0, 0}, 1});
    check_gemm((gemm_case){9, 11, 5, 1, 0, 1.0, 0.0, 2, {9, 11}, 1});
}

Test(gemm, blocks_larger_than_the_cache_tiles) {
    /* K > KC (several slices), M > MC, N split across threads */
    check_gemm((gemm_case){131, 301, 517, 0, 0, 1.0, 1.0, 1, {301, 0}, 2});
    check_gemm((gemm_case){250, 97, 260, 1, 1, 1.0, 0.0, -1, {0, 0}, 2});
    check_gemm((gemm_case){64, 1100, 64, 0, 1, 1.0, 0.0, -1, {0, 0}, 3});
}

Test(gemm, tiles_along_long_rows_of_c) {
    /* B packed at run time and rows of 256+ columns: tiles run along C's
     * rows; partial tiles at both ends, two K slices, beta read once */
    check_gemm((gemm_case){37, 300, 300, 0, 0, 1.0, 1.0, 2, {37, 300}, 1});
    check_gemm((gemm_case){37, 300, 300, 1, 1, 0.5, 0.0, -1, {0, 0}, 1});
    check_gemm((gemm_case){125, 257, 64, 0, 0, 1.0, 2.0, 1, {257, 0}, 1});
}

Test(gemm, narrow_products_and_unpacked_a) {
    /* N <= 16 picks the 12 x 16 tile; row-major A with alpha 1 is read in
     * place except its last partial row panel; alpha != 1 packs all of A */
    check_gemm((gemm_case){130, 16, 300, 0, 0, 1.0, 0.0, -1, {0, 0}, 1});
    check_gemm((gemm_case){130, 16, 300, 0, 0, 1.0, 1.0, 1, {16, 0}, 2});
    check_gemm((gemm_case){29, 13, 40, 0, 1, 1.0, 0.0, -1, {0, 0}, 2});
    check_gemm((gemm_case){29, 13, 40, 0, 0, 0.5, 0.0, -1, {0, 0}, 1});
    check_gemm((gemm_case){127, 45, 600, 0, 0, 1.0, 0.0, -1, {0, 0}, 2});
}

Test(gemm, matrix_vector_shapes) {
    check_gemm((gemm_case){1, 1000, 257, 0, 1, 1.0, 1.0, 1, {1000, 0}, 2}); /* FC layer, batch 1 */
    check_gemm((gemm_case){1, 300, 70, 0, 0, 2.0, 1.0, 2, {1, 300}, 2});
    check_gemm((gemm_case){300, 1, 70, 0, 0, 1.0, 0.0, -1, {0, 0}, 2});
    check_gemm((gemm_case){300, 1, 70, 1, 1, 1.0, 0.0, -1, {0, 0}, 1});
    check_gemm((gemm_case){5, 6, 0, 0, 0, 1.0, 1.0, 2, {5, 6}, 1}); /* K == 0: Y = beta * C */
}

Test(gemm, float64_and_int64) {
    int64_t ad[2] = {3, 4}, bd[2] = {4, 2};
    dlc_shape shapes[2] = {oph_shape(2, ad), oph_shape(2, bd)};
    dlc_dtype d64[2] = {DLC_FLOAT64, DLC_FLOAT64};
    oph_case c;
    oph_begin(&c, "Gemm", 13, 2, d64, shapes, 1, NULL);
    cr_assert_eq(oph_infer(&c), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(c.out[0]->dtype, DLC_FLOAT64);
    double a[12], b[8], y[6];
    for (int i = 0; i < 12; i++) a[i] = 0.1 * i + 1e-12;
    for (int i = 0; i < 8; i++) b[i] = 1.0 / (i + 1);
    void *ins[2] = {a, b}, *outs[1] = {y};
    oph_run(&c, ins, outs, 1);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 2; j++) {
            double r = 0;
            for (int k = 0; k < 4; k++) r += a[i * 4 + k] * b[k * 2 + j];
            cr_assert(fabs(y[i * 2 + j] - r) < 1e-15, "float64 gemm keeps double precision");
        }
    oph_end(&c);

    dlc_dtype i64[2] = {DLC_INT64, DLC_INT64};
    oph_begin(&c, "Gemm", 13, 2, i64, shapes, 1, NULL);
    cr_assert_eq(oph_infer(&c), DLC_OK, "%s", dlc_last_error());
    int64_t ia[12], ib[8], iy[6];
    for (int i = 0; i < 12; i++) ia[i] = (int64_t)1 << 40 | i;
    for (int i = 0; i < 8; i++) ib[i] = i - 3;
    void *iins[2] = {ia, ib}, *iouts[1] = {iy};
    oph_run(&c, iins, iouts, 1);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 2; j++) {
            int64_t r = 0;
            for (int k = 0; k < 4; k++) r += ia[i * 4 + k] * ib[k * 2 + j];
            cr_assert_eq(iy[i * 2 + j], r, "int64 gemm is exact");
        }
    oph_end(&c);
}

Test(gemm, mismatched_k_names_node_and_shapes) {
    int64_t ad[2] = {3, 4}, bd[2] = {5, 2};
    dlc_shape shapes[2] = {oph_shape(2, ad), oph_shape(2, bd)};
    dlc_dtype dt[2] = {DLC_FLOAT32, DLC_FLOAT32};
    oph_case c;
    oph_begin(&c, "Gemm", 13, 2, dt, shapes, 1, NULL);
    cr_assert_eq(oph_infer(&c), DLC_ERR_SHAPE_MISMATCH);
    const char *msg = dlc_last_error();
    cr_assert(strstr(msg, "node_under_test") && strstr(msg, "[3,4]") && strstr(msg, "[5,2]"), "message: %s", msg);
    oph_end(&c);
}

/* ---- MatMul ---------------------------------------------------------------------- */

/* numpy matmul in double for float32 operands */
static void matmul_ref(const dlc_shape *as, const float *a, const dlc_shape *bs, const float *b, const dlc_shape *ys,
                       double *y) {
    int32_t ra = as->rank, rb = bs->rank, ry = ys->rank;
    int64_t M = ra == 1 ? 1 : as->dims[ra - 2].value, K = as->dims[ra - 1].value;
    int64_t N = rb == 1 ? 1 : bs->dims[rb - 1].value;
    int32_t batch_rank = ry - (ra > 1) - (rb > 1);
    int64_t batches = 1;
    for (int32_t i = 0; i < batch_rank; i++) batches *= ys->dims[i].value;
    for (int64_t bt = 0; bt < batches; bt++) {
        int64_t idx[DLC_MAX_RANK], rem = bt;
        for (int32_t i = batch_rank - 1; i >= 0; i--) {
            idx[i] = rem % ys->dims[i].value;
            rem /= ys->dims[i].value;
        }
        int64_t aoff = 0, boff = 0;
        for (int32_t i = 0, ab = ra - 2; i < ab; i++) {
            int32_t yi = batch_rank - ab + i;
            aoff = aoff * as->dims[i].value + (as->dims[i].value == 1 ? 0 : idx[yi]);
        }
        for (int32_t i = 0, bb = rb - 2; i < bb; i++) {
            int32_t yi = batch_rank - bb + i;
            boff = boff * bs->dims[i].value + (bs->dims[i].value == 1 ? 0 : idx[yi]);
        }
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) {
                double s = 0;
                for (int64_t k = 0; k < K; k++) s += (double)a[aoff * M * K + i * K + k] * b[boff * K * N + k * N + j];
                y[bt * M * N + i * N + j] = s;
            }
    }
}

static void check_matmul(int32_t ra, const int64_t *ad, int32_t rb, const int64_t *bd, int32_t ry, const int64_t *yd,
                         int threads) {
    dlc_shape shapes[2] = {oph_shape(ra, ad), oph_shape(rb, bd)};
    dlc_dtype dt[2] = {DLC_FLOAT32, DLC_FLOAT32};
    oph_case c;
    oph_begin(&c, "MatMul", 13, 2, dt, shapes, 1, NULL);
    cr_assert_eq(oph_infer(&c), DLC_OK, "%s", dlc_last_error());
    dlc_shape want = oph_shape(ry, yd);
    cr_assert(dlc_shape_equal(&c.out[0]->shape, &want), "matmul result shape");
    int64_t yn = oph_numel(&want);
    float *a = oph_random(oph_numel(&shapes[0]), 4), *b = oph_random(oph_numel(&shapes[1]), 5);
    float *y = malloc((size_t)yn * sizeof *y);
    double *ref = malloc((size_t)yn * sizeof *ref);
    matmul_ref(&shapes[0], a, &shapes[1], b, &want, ref);
    void *ins[2] = {a, b}, *outs[1] = {y};
    oph_run(&c, ins, outs, threads);
    oph_expect_close(y, ref, yn, 1e-4, "matmul");
    free(a), free(b), free(y), free(ref);
    oph_end(&c);
}

Test(matmul, one_dimensional_operands) {
    check_matmul(1, (int64_t[]){7}, 1, (int64_t[]){7}, 0, NULL, 1);
    check_matmul(1, (int64_t[]){7}, 2, (int64_t[]){7, 5}, 1, (int64_t[]){5}, 1);
    check_matmul(2, (int64_t[]){5, 7}, 1, (int64_t[]){7}, 1, (int64_t[]){5}, 2);
    check_matmul(1, (int64_t[]){7}, 3, (int64_t[]){3, 7, 5}, 2, (int64_t[]){3, 5}, 2);
    check_matmul(3, (int64_t[]){3, 4, 7}, 1, (int64_t[]){7}, 2, (int64_t[]){3, 4}, 2);
}

Test(matmul, batch_broadcasting) {
    check_matmul(4, (int64_t[]){2, 1, 5, 7}, 3, (int64_t[]){3, 7, 4}, 4, (int64_t[]){2, 3, 5, 4}, 2);
    check_matmul(3, (int64_t[]){1, 33, 20}, 3, (int64_t[]){6, 20, 41}, 3, (int64_t[]){6, 33, 41}, 2);
    /* B shared: batches fold into one tall product */
    check_matmul(3, (int64_t[]){4, 50, 70}, 2, (int64_t[]){70, 90}, 3, (int64_t[]){4, 50, 90}, 2);
    check_matmul(2, (int64_t[]){50, 70}, 3, (int64_t[]){4, 70, 90}, 3, (int64_t[]){4, 50, 90}, 2);
    /* many small products (attention-like) and a few big ones */
    check_matmul(3, (int64_t[]){24, 9, 16}, 3, (int64_t[]){24, 16, 9}, 3, (int64_t[]){24, 9, 9}, 2);
    check_matmul(3, (int64_t[]){2, 200, 300}, 3, (int64_t[]){2, 300, 150}, 3, (int64_t[]){2, 200, 150}, 2);
}

Test(matmul, integer_matmul_wraps_like_the_type) {
    int64_t ad[2] = {2, 3}, bd[2] = {3, 2};
    dlc_shape shapes[2] = {oph_shape(2, ad), oph_shape(2, bd)};
    dlc_dtype dt[2] = {DLC_INT32, DLC_INT32};
    oph_case c;
    oph_begin(&c, "MatMul", 13, 2, dt, shapes, 1, NULL);
    cr_assert_eq(oph_infer(&c), DLC_OK, "%s", dlc_last_error());
    int32_t a[6] = {1, -2, 3, 100000, 70000, -1}, b[6] = {4, 5, -6, 7, 8, 100000}, y[4];
    void *ins[2] = {a, b}, *outs[1] = {y};
    oph_run(&c, ins, outs, 1);
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) {
            uint32_t r = 0;
            for (int k = 0; k < 3; k++) r += (uint32_t)a[i * 3 + k] * (uint32_t)b[k * 2 + j];
            cr_assert_eq((uint32_t)y[i * 2 + j], r);
        }
    oph_end(&c);
}

Test(matmul, incompatible_batches_and_k_are_errors) {
    dlc_dtype dt[2] = {DLC_FLOAT32, DLC_FLOAT32};
    dlc_shape shapes[2] = {oph_shape(3, (int64_t[]){2, 5, 7}), oph_shape(3, (int64_t[]){3, 7, 4})};
    oph_case c;
    oph_begin(&c, "MatMul", 13, 2, dt, shapes, 1, NULL);
    cr_assert_eq(oph_infer(&c), DLC_ERR_SHAPE_MISMATCH);
    cr_assert(strstr(dlc_last_error(), "node_under_test"), "%s", dlc_last_error());
    oph_end(&c);
    dlc_shape shapes2[2] = {oph_shape(2, (int64_t[]){5, 7}), oph_shape(2, (int64_t[]){6, 4})};
    oph_begin(&c, "MatMul", 13, 2, dt, shapes2, 1, NULL);
    cr_assert_eq(oph_infer(&c), DLC_ERR_SHAPE_MISMATCH);
    cr_assert(strstr(dlc_last_error(), "[5,7]") && strstr(dlc_last_error(), "[6,4]"), "%s", dlc_last_error());
    oph_end(&c);
}

Test(matmul, symbolic_batch_dims_pass_through) {
    oph_case c;
    dlc_dtype dt[2] = {DLC_FLOAT32, DLC_FLOAT32};
    dlc_graph *probe;
    cr_assert_eq(dlc_graph_create("probe", &probe), DLC_OK);
    dlc_graph_free(probe);
    dlc_shape a = oph_shape(3, (int64_t[]){1, 5, 7}), b = oph_shape(2, (int64_t[]){7, 3});
    a.dims[0] = (dlc_dim){-1, 0};
    dlc_shape shapes[2] = {a, b};
    oph_begin(&c, "MatMul", 13, 2, dt, shapes, 1, NULL);
    int32_t sym;
    cr_assert_eq(dlc_graph_symbol(c.g, "batch", &sym), DLC_OK);
    cr_assert_eq(oph_infer(&c), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(c.out[0]->shape.rank, 3);
    cr_assert_eq(c.out[0]->shape.dims[0].value, -1);
    cr_assert_eq(c.out[0]->shape.dims[2].value, 3);
    oph_end(&c);
}

/* ---- B pre-packed at compile time (kernels/gemm.h) ------------------------------ */

#include "kernels/gemm.h"

typedef struct packed_case {
    int64_t M, N, K;
    int trans_b;
    int64_t nr;    /* panel width packed for; 0: dlc_sgemm_pack_nr(M, N) */
    float alpha, beta;
    int threads;
} packed_case;

/* The product on B packed once equals the product repacking B per call and
 * a double reference, through the kernel's own workspace sizing. */
/* B packed in K slices of kc (0: the GEMM's own 256, as convolutions pack
 * it; dlc_sgemm_deep_kc as MatMul and Gemm do) against the per-call packing
 * and a double reference. */
static void check_packed_kc(packed_case t, int64_t kc) {
    int64_t nr = t.nr > 0 ? t.nr : dlc_sgemm_pack_nr(t.M, t.N);
    float *a = oph_random(t.M * t.K, 11), *b = oph_random(t.K * t.N, 12), *c0 = oph_random(t.M * t.N, 13);
    int64_t b_rs = t.trans_b ? 1 : t.N, b_cs = t.trans_b ? t.K : 1;
    dlc_gemm_operand ga = {a, t.K, 1, NULL, 0, 0}, plain = {b, b_rs, b_cs, NULL, 0, 0};
    int64_t floats = dlc_sgemm_packed_b_floats(t.K, t.N, nr);
    cr_assert_eq(floats % (t.K * nr), 0);
    float *panels = malloc((size_t)floats * sizeof *panels);
    dlc_sgemm_pack_b(t.K, t.N, &plain, nr, kc, panels);
    dlc_gemm_operand packed = {panels, 0, 0, NULL, nr, kc};

    float *y_plain = malloc((size_t)(t.M * t.N) * sizeof(float)), *y_packed = malloc((size_t)(t.M * t.N) * sizeof(float));
    memcpy(y_plain, c0, (size_t)(t.M * t.N) * sizeof(float));
    memcpy(y_packed, c0, (size_t)(t.M * t.N) * sizeof(float));
    int64_t ws_plain = dlc_sgemm_workspace(t.M, t.N, t.K), ws_packed = dlc_sgemm_workspace_packed(t.M, t.N, t.K);
    cr_assert_lt(ws_packed, ws_plain, "a packed B needs no B buffers");
    void *w1 = aligned_alloc(64, (size_t)ws_plain), *w2 = aligned_alloc(64, (size_t)ws_packed);
    dlc_kctx c1 = {.num_threads = t.threads, .workspace = w1, .workspace_size = ws_plain};
    dlc_kctx c2 = {.num_threads = t.threads, .workspace = w2, .workspace_size = ws_packed};
    dlc_sgemm(&c1, t.M, t.N, t.K, t.alpha, &ga, &plain, t.beta, y_plain, t.N, w1, ws_plain);
    dlc_sgemm(&c2, t.M, t.N, t.K, t.alpha, &ga, &packed, t.beta, y_packed, t.N, w2, ws_packed);

    double *ref = malloc((size_t)(t.M * t.N) * sizeof *ref), *plain_d = malloc((size_t)(t.M * t.N) * sizeof *plain_d);
    for (int64_t i = 0; i < t.M; i++)
        for (int64_t j = 0; j < t.N; j++) {
            double sum = 0;
            for (int64_t k = 0; k < t.K; k++) sum += (double)a[i * t.K + k] * b[k * b_rs + j * b_cs];
            ref[i * t.N + j] = t.alpha * sum + t.beta * c0[i * t.N + j];
            plain_d[i * t.N + j] = y_plain[i * t.N + j];
        }
    char what[160];
    snprintf(what, sizeof what, "packed M=%lld N=%lld K=%lld transB=%d nr=%lld kc=%lld", (long long)t.M,
             (long long)t.N, (long long)t.K, t.trans_b, (long long)nr, (long long)kc);
    oph_expect_close(y_packed, ref, t.M * t.N, 1e-4, what);
    /* the same micro-kernel: in the same slices exactly the per-call
     * product, in deeper ones no further than rounding (M == 1's gemvs sum
     * in a different order either way) */
    if (t.M > 1) oph_expect_close(y_packed, plain_d, t.M * t.N, kc == 0 ? 0.0 : 3e-5, what);
    free(a), free(b), free(c0), free(panels), free(y_plain), free(y_packed), free(w1), free(w2), free(ref),
        free(plain_d);
}

static void check_packed(packed_case t) {
    check_packed_kc(t, 0);
    check_packed_kc(t, dlc_sgemm_deep_kc(t.K));
}

Test(gemm, prepacked_b_matches_repacking_per_call) {
    for (int tb = 0; tb < 2; tb++) {
        check_packed((packed_case){37, 53, 71, tb, 0, 1.0f, 0.0f, 1});       /* odd K, N not a multiple of nr */
        check_packed((packed_case){37, 53, 71, tb, 16, 1.0f, 0.0f, 2});      /* the narrow tile */
        check_packed((packed_case){131, 301, 517, tb, 32, 1.0f, 1.0f, 2});   /* one packed slice, three per call */
        check_packed((packed_case){40, 70, 1600, tb, 32, 1.0f, 1.0f, 2});    /* packed slices 544, 544, 512 */
        check_packed((packed_case){64, 1100, 300, tb, 32, 0.5f, -1.0f, 3});  /* N > NC, alpha packs A */
        check_packed((packed_case){16, 1100, 300, tb, 16, 1.0f, 0.0f, 2});   /* m_tasks > 1 */
    }
    /* a tile of the other width than the one the rows alone would pick */
    check_packed((packed_case){32, 48, 40, 0, 32, 1.0f, 0.0f, 1});
    check_packed((packed_case){7, 64, 40, 0, 16, 1.0f, 0.0f, 1});
}

Test(gemm, prepacked_b_matrix_vector_rows) {
    /* M == 1 (a decode step) reads the panels as a gemv */
    for (int tb = 0; tb < 2; tb++) {
        check_packed((packed_case){1, 3072, 768, tb, 32, 1.0f, 0.0f, 2});
        check_packed((packed_case){1, 53, 517, tb, 16, 1.0f, 0.0f, 1});
        check_packed((packed_case){1, 100, 1600, tb, 32, 1.0f, 0.0f, 1}); /* three packed slices */
        check_packed((packed_case){1, 33, 1, tb, 32, 2.0f, 0.5f, 1});
    }
}

Test(gemm, seven_row_tiles_for_multiples_of_seven) {
    /* M = 49 (a 7x7 map's pixels) pads to 49 rows with the 7 x 32 tile, not
     * 54; M = 245 runs row blocks of 119 (GEMM_MC rounded down to 7), 119
     * and 7; A read in place, packed (alpha != 1), transposed, and on 3
     * threads */
    cr_assert_eq(dlc_sgemm_tile_macs(49, 2048, 1, 32), 49 * 2048);
    cr_assert_eq(dlc_sgemm_tile_macs(196, 1024, 2, 0), 196 * 1024 * 2);
    cr_assert_eq(dlc_sgemm_tile_macs(48, 64, 1, 0), 48 * 64, "multiples of 6 keep the 6 x 32 tile");
    check_gemm((gemm_case){49, 70, 300, 0, 0, 1.0, 0.0, -1, {0, 0}, 1});
    check_gemm((gemm_case){49, 70, 300, 1, 0, 1.0, 1.0, 2, {49, 70}, 2});
    check_gemm((gemm_case){245, 40, 33, 0, 1, 0.5, 0.0, -1, {0, 0}, 3});
    check_gemm((gemm_case){245, 100, 520, 0, 0, 1.0, 0.0, 1, {100, 0}, 1});
}

Test(gemm, threads_split_short_rows_of_c_by_rows) {
    /* 1x1 convs' products: weights (row-major A, read in place) times the
     * input, packed at run time. Tiles walk along C's rows, and each row
     * segment restarts the prefetcher's streams: a 28x28 map's rows (784
     * columns) are split between threads by rows, each thread packing all
     * of B ... */
    int64_t m_tasks = 0, n_tasks = 0;
    dlc_gemm_operand w = {.row_stride = 128, .col_stride = 1}, x = {.row_stride = 784, .col_stride = 1};
    dlc_sgemm_task_grid(512, 784, 128, &w, &x, 2, &m_tasks, &n_tasks);
    cr_assert_eq(m_tasks, 2);
    cr_assert_eq(n_tasks, 1);
    /* ... while a 56x56 map with a deep K splits its columns: all of B
     * packed twice would cost more than the segments */
    dlc_gemm_operand w2 = {.row_stride = 256, .col_stride = 1}, x2 = {.row_stride = 3136, .col_stride = 1};
    dlc_sgemm_task_grid(64, 3136, 256, &w2, &x2, 2, &m_tasks, &n_tasks);
    cr_assert_eq(m_tasks, 1);
    cr_assert_eq(n_tasks, 2);
    /* one thread: one task */
    dlc_sgemm_task_grid(512, 784, 128, &w, &x, 1, &m_tasks, &n_tasks);
    cr_assert_eq(m_tasks * n_tasks, 1);
    /* and the row split computes the same product */
    check_gemm((gemm_case){512, 784, 128, 0, 0, 1.0, 1.0, 1, {784, 0}, 2});
}

Test(gemm, pack_width_follows_the_rows_or_n_alone) {
    cr_assert_eq(dlc_sgemm_pack_nr(-1, 1000), 16, "1008 pads less than 1024");
    cr_assert_eq(dlc_sgemm_pack_nr(-1, 3072), 32);
    cr_assert_eq(dlc_sgemm_pack_nr(-1, 48), 16);
    cr_assert_eq(dlc_sgemm_pack_nr(32, 1000), 32, "M = 32: the 8 x 32 tile wastes least");
    cr_assert_eq(dlc_sgemm_pack_nr(130, 16), 16);
    cr_assert_eq(dlc_sgemm_packed_b_floats(5, 33, 32), 5 * 64);
}
