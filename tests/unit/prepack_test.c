/* prepack-weights (passes/prepack_weights.c): constant float32 B operands of
 * MatMul and Gemm are stored in the GEMM's panel layout at -O1 and up and
 * not at -O0; a weight something else reads stays plain beside its packed
 * copy; the packed node still constant-folds; -O2 outputs equal -O0's, in a
 * static compile and in one artifact for every row count (M == 1 too). */
#include "pass_harness.h"

#include "ir/op_registry.h"

enum { M = 5, K = 70, N = 45 };

static float *weights(int64_t n, uint32_t seed) {
    float *w = malloc((size_t)n * sizeof *w);
    cr_assert(w != NULL);
    ph_fill(w, n, seed);
    return w;
}

/* x[M,K] @ w[K,N]; Gemm(x, v[N,K]^T, c[N]); x3[2,M,K] @ w (batched, shared B);
 * x @ u[K,N] where u is also added to xb[K,N] (so u stays plain too). */
static dlc_graph *build_products(void) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("prepack", &g), DLC_OK);
    float *w = weights(K * N, 1), *v = weights(N * K, 2), *c = weights(N, 3), *u = weights(K * N, 4);
    dlc_value *x = tb_value(g, "x", DLC_VALUE_INPUT, 2, (int64_t[]){M, K});
    dlc_value *x3 = tb_value(g, "x3", DLC_VALUE_INPUT, 3, (int64_t[]){2, M, K});
    dlc_value *xb = tb_value(g, "xb", DLC_VALUE_INPUT, 2, (int64_t[]){K, N});
    dlc_value *wv = tb_const(g, "w", 2, (int64_t[]){K, N}, w);
    dlc_value *vv = tb_const(g, "v", 2, (int64_t[]){N, K}, v);
    dlc_value *cv = tb_const(g, "c", 1, (int64_t[]){N}, c);
    dlc_value *uv = tb_const(g, "u", 2, (int64_t[]){K, N}, u);
    dlc_value *y1 = ph_op(g, "mm", "MatMul", 2, (dlc_value *[]){x, wv});
    dlc_value *y2 = ph_op(g, "gemm", "Gemm", 3, (dlc_value *[]){x, vv, cv});
    for (int32_t i = 0; i < g->num_nodes; i++)
        if (strcmp(g->nodes[i]->name, "gemm") == 0) {
            dlc_attr a = {.name = "transB", .type = DLC_ATTR_INT, .i = 1};
            cr_assert_eq(dlc_node_add_attr(g->nodes[i], &a), DLC_OK);
        }
    dlc_value *y3 = ph_op(g, "mm3", "MatMul", 2, (dlc_value *[]){x3, wv});
    dlc_value *yu = ph_op(g, "mmu", "MatMul", 2, (dlc_value *[]){x, uv});
    dlc_value *su = ph_op(g, "addu", "Add", 2, (dlc_value *[]){xb, uv});
    dlc_value *y4 = ph_op(g, "sum", "Add", 2, (dlc_value *[]){yu, ph_op(g, "red", "ReduceSum", 1, &su)});
    tb_set_io(g, 3, (dlc_value *[]){x, x3, xb}, 4, (dlc_value *[]){y1, y2, y3, y4});
    free(w), free(v), free(c), free(u);
    return g;
}

static int count_packed(const dlc_graph *g) {
    int n = 0;
    for (int32_t i = 0; i < g->num_nodes; i++) {
        const dlc_node *node = g->nodes[i];
        if (dlc_node_attr(node, DLC_ATTR_PACKED_B) == NULL) continue;
        cr_assert_eq(node->inputs[1]->shape.rank, 1, "node %s reads a packed B", node->name);
        cr_assert_eq(node->inputs[1]->kind, DLC_VALUE_CONST);
        n++;
    }
    return n;
}

static dlc_graph *optimized(int opt_level) {
    dlc_graph *g = ph_inferred(build_products);
    dlc_pass_options opts = {.opt_level = opt_level, .verify_each = true};
    cr_assert_eq(dlc_run_passes(g, &opts), DLC_OK, "%s", dlc_last_error());
    return g;
}

Test(prepack, weights_are_packed_at_o2_and_not_at_o0) {
    dlc_graph *g0 = optimized(0);
    cr_assert_eq(count_packed(g0), 0, "-O0 does not prepack");
    dlc_graph_free(g0);
    dlc_graph *g = optimized(2);
    cr_assert_eq(count_packed(g), 4, "both MatMuls on w, the Gemm with transB, the MatMul on u");
    /* w and v went with their plain layout; u stays for the Add */
    cr_assert_null(dlc_graph_find_value(g, "w"));
    cr_assert_null(dlc_graph_find_value(g, "v"));
    cr_assert_not_null(dlc_graph_find_value(g, "u"));
    for (int32_t i = 0; i < g->num_nodes; i++) {
        const dlc_node *node = g->nodes[i];
        int32_t n;
        const int64_t *kn = dlc_node_attr_ints(node, DLC_ATTR_PACKED_B, &n);
        if (kn == NULL) continue;
        cr_assert_eq(n, 3);
        cr_assert(kn[0] == K && kn[1] == N, "node %s: [K, N] = [%lld, %lld]", node->name, (long long)kn[0],
                  (long long)kn[1]);
        /* the output shape is still inferred from the logical B */
        cr_assert_eq(node->schema->infer(g, (dlc_node *)node), DLC_OK, "%s", dlc_last_error());
        cr_assert_eq(node->outputs[0]->shape.dims[node->outputs[0]->shape.rank - 1].value, N);
    }
    dlc_graph_free(g);
}

Test(prepack, o2_outputs_equal_o0) { ph_expect_same_outputs(build_products, 1e-5); }

/* A packed node whose A becomes constant folds through the native kernel. */
Test(prepack, a_packed_product_still_constant_folds) {
    dlc_graph *g = optimized(2);
    dlc_node *mm = NULL;
    for (int32_t i = 0; i < g->num_nodes; i++)
        if (strcmp(g->nodes[i]->name, "gemm") == 0) mm = g->nodes[i];
    cr_assert_not_null(mm);
    cr_assert_not_null(dlc_node_attr(mm, DLC_ATTR_PACKED_B));
    float *a = weights(M * K, 7), *v = weights(N * K, 2), *c = weights(N, 3);
    mm->inputs[0] = tb_const(g, "a_const", 2, (int64_t[]){M, K}, a);
    bool folded = false;
    cr_assert_eq(dlc_fold_node(g, mm, &folded), DLC_OK, "%s", dlc_last_error());
    cr_assert(folded);
    const float *y = mm->outputs[0]->data;
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            double want = c[j];
            for (int64_t k = 0; k < K; k++) want += (double)a[i * K + k] * v[j * K + k];
            cr_assert(fabs(y[i * N + j] - want) <= 1e-4 * (1 + fabs(want)), "[%lld,%lld]: %g vs %g", (long long)i,
                      (long long)j, y[i * N + j], want);
        }
    free(a), free(v), free(c);
    dlc_graph_free(g);
}

/* One artifact for every row count: x[m, K] @ w with m symbolic; m = 1 runs
 * the gemv on the panels. */
static dlc_graph *build_dynamic(void) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("prepack_dyn", &g), DLC_OK);
    int32_t sym;
    cr_assert_eq(dlc_graph_symbol(g, "m", &sym), DLC_OK);
    dlc_shape xs = {.rank = 2, .dims = {{-1, sym}, {K, -1}}};
    dlc_value *x;
    cr_assert_eq(dlc_graph_add_value(g, "x", DLC_VALUE_INPUT, DLC_FLOAT32, &xs, &x), DLC_OK);
    float *w = weights(K * N, 1);
    dlc_value *y = ph_op(g, "mm", "MatMul", 2, (dlc_value *[]){x, tb_const(g, "w", 2, (int64_t[]){K, N}, w)});
    tb_set_io(g, 1, &x, 1, &y);
    free(w);
    return g;
}

Test(prepack, one_artifact_for_every_row_count) {
    char dir[64], path[256];
    tb_mkdtemp(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/m.so", dir);
    dlc_graph *g = build_dynamic();
    cr_assert_eq(dlc_compile_graph(g, NULL, path), DLC_OK, "%s", dlc_last_error());
    dlc_graph_free(g);
    dlc_model *model;
    cr_assert_eq(dlc_model_load(path, &model), DLC_OK, "%s", dlc_last_error());
    float *w = weights(K * N, 1);
    for (int64_t m = 1; m <= 13; m += 4) {
        float *x = weights(m * K, 9), *y = calloc((size_t)(m * N), sizeof *y);
        dlc_tensor in = {DLC_FLOAT32, 2, {m, K}, x, (size_t)(m * K) * sizeof *x};
        dlc_tensor out = {.data = y, .size_bytes = (size_t)(m * N) * sizeof *y};
        dlc_session *session;
        cr_assert_eq(dlc_session_create(model, &(dlc_session_options){.num_threads = 2}, &session), DLC_OK);
        cr_assert_eq(dlc_session_run(session, &in, 1, &out, 1), DLC_OK, "m=%lld: %s", (long long)m, dlc_last_error());
        cr_assert(out.dims[0] == m && out.dims[1] == N);
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < N; j++) {
                double want = 0;
                for (int64_t k = 0; k < K; k++) want += (double)x[i * K + k] * w[k * N + j];
                cr_assert(fabs(y[i * N + j] - want) <= 1e-4 * (1 + fabs(want)), "m=%lld [%lld,%lld]: %g vs %g",
                          (long long)m, (long long)i, (long long)j, y[i * N + j], want);
            }
        dlc_session_free(session);
        free(x), free(y);
    }
    free(w);
    dlc_model_free(model);
    tb_rmdir(dir);
}
