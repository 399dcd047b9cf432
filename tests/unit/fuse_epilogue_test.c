/* fuse-epilogue: which chains after a Conv / Gemm / MatMul fold into it
 * (the graph after the pass), and the fused kernels' outputs against the
 * unfused ones at -O0: odd sizes, K > 256 (several K slices, so the epilogue
 * must wait for the last), the gemv path, depthwise and grouped convs,
 * batched MatMuls. */
#include "ir/ops/epilogue.h"
#include "pass_harness.h"

static float *ph_values(int64_t n, uint32_t seed) {
    float *v = malloc((size_t)n * sizeof *v);
    cr_assert_not_null(v);
    ph_fill(v, n, seed);
    for (int64_t i = 0; i < n; i++) v[i] *= 0.1f; /* keep sums of K terms near 1 */
    return v;
}

static dlc_value *ph_weights(dlc_graph *g, const char *name, int32_t rank, const int64_t *dims, uint32_t seed) {
    int64_t n = 1;
    for (int32_t d = 0; d < rank; d++) n *= dims[d];
    float *v = ph_values(n, seed);
    dlc_value *c = tb_const(g, name, rank, dims, v);
    free(v);
    return c;
}

static dlc_node *ph_node(dlc_graph *g, const char *name) {
    for (int32_t i = 0; i < g->num_nodes; i++)
        if (strcmp(g->nodes[i]->name, name) == 0) return g->nodes[i];
    return NULL;
}

static void ph_attr_float(dlc_graph *g, const char *node, const char *attr, double f) {
    dlc_attr a = {.name = (char *)attr, .type = DLC_ATTR_FLOAT, .f = f};
    cr_assert_eq(dlc_node_add_attr(ph_node(g, node), &a), DLC_OK);
}

/* ---- Conv: ResNet's block, Conv -> Add(bias) -> Add(residual) -> Relu ---- */

enum { RB_C = 8, RB_HW = 7 };

static dlc_graph *resblock_graph(void) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("resblock", &g), DLC_OK);
    dlc_value *x = tb_value(g, "x", DLC_VALUE_INPUT, 4, (int64_t[]){2, RB_C, RB_HW, RB_HW});
    dlc_value *w = ph_weights(g, "w", 4, (int64_t[]){RB_C, RB_C, 3, 3}, 1);
    dlc_value *b = ph_weights(g, "b", 1, (int64_t[]){RB_C}, 2);
    dlc_value *c = ph_weights(g, "c", 3, (int64_t[]){RB_C, 1, 1}, 3);
    dlc_value *y = ph_op(g, "conv", "Conv", 3, (dlc_value *[]){x, w, b});
    ph_attr_ints(g, "conv", "pads", 4, (int64_t[]){1, 1, 1, 1});
    dlc_value *yb = ph_op(g, "bias", "Add", 2, (dlc_value *[]){c, y});
    dlc_value *yr = ph_op(g, "res", "Add", 2, (dlc_value *[]){yb, x});
    dlc_value *out = ph_op(g, "relu", "Relu", 1, &yr);
    tb_set_io(g, 1, &x, 1, &out);
    return g;
}

Test(fuse_epilogue, conv_bias_residual_relu_become_one_conv) {
    dlc_graph *g = ph_inferred(resblock_graph);
    cr_assert_eq(g->num_nodes, 4);
    cr_assert(ph_run_pass(g, dlc_pass_fuse_epilogue));
    cr_assert_eq(g->num_nodes, 1);
    dlc_node *n = g->nodes[0];
    cr_assert_str_eq(n->op_type, "Conv");
    cr_assert_str_eq(n->name, "conv", "the fused node keeps the anchor's name for messages");
    cr_assert_eq(n->outputs[0], g->outputs[0]);
    cr_assert_eq(n->num_inputs, 4);
    cr_assert_eq(n->inputs[DLC_EPILOGUE_RESIDUAL], g->inputs[0]);
    cr_assert_str_eq(dlc_node_attr_string(n, DLC_EPILOGUE_ATTR, "?"), "Add+Add+Relu");
    cr_assert_str_eq(dlc_node_attr_string(n, DLC_ACTIVATION_ATTR, "?"), "Relu");
    char label[64];
    cr_assert_str_eq(dlc_node_label(n, label, sizeof label), "Conv+Add+Add+Relu");
    /* B is the conv's bias plus the Add's constant */
    float b[RB_C], c[RB_C];
    ph_fill(b, RB_C, 2), ph_fill(c, RB_C, 3);
    const dlc_value *fused_b = n->inputs[2];
    cr_assert_eq(fused_b->kind, DLC_VALUE_CONST);
    for (int i = 0; i < RB_C; i++)
        cr_assert_float_eq(((const float *)fused_b->data)[i], 0.1f * b[i] + 0.1f * c[i], 1e-6);
    cr_assert_not(ph_run_pass(g, dlc_pass_fuse_epilogue), "a second run finds nothing");
    dlc_graph_free(g);
}

Test(fuse_epilogue, conv_outputs_unchanged) { ph_expect_same_outputs(resblock_graph, 1e-5); }

Test(fuse_epilogue, opt_level_0_leaves_the_chain) {
    dlc_graph *g = ph_inferred(resblock_graph);
    dlc_pass_options opts = {.opt_level = 0, .verify_each = true};
    cr_assert_eq(dlc_run_passes(g, &opts), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(g->num_nodes, 4);
    dlc_graph_free(g);
}

/* ---- MatMul / Gemm: bias along the last dim, residual, activations; K > 256 ---- */

enum { MM_M = 5, MM_K = 300, MM_N = 37 };

static dlc_graph *matmul_graph(void) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("matmul_epilogue", &g), DLC_OK);
    dlc_value *x = tb_value(g, "x", DLC_VALUE_INPUT, 3, (int64_t[]){3, MM_M, MM_K});
    dlc_value *r = tb_value(g, "r", DLC_VALUE_INPUT, 3, (int64_t[]){3, MM_M, MM_N});
    dlc_value *v = tb_value(g, "v", DLC_VALUE_INPUT, 2, (int64_t[]){1, MM_K});
    /* y1 = (x W + bias) + r: a transformer's projection with its residual (tall: batches fold) */
    dlc_value *w = ph_weights(g, "w", 2, (int64_t[]){MM_K, MM_N}, 4);
    dlc_value *bias = ph_weights(g, "bias", 1, (int64_t[]){MM_N}, 5);
    dlc_value *p = ph_op(g, "proj", "MatMul", 2, (dlc_value *[]){x, w});
    dlc_value *pb = ph_op(g, "proj_bias", "Add", 2, (dlc_value *[]){p, bias});
    dlc_value *y1 = ph_op(g, "proj_res", "Add", 2, (dlc_value *[]){r, pb});
    /* y2 = LeakyRelu(x Wb + [1,1,N] bias), Wb batched: one GEMM per batch */
    dlc_value *wb = ph_weights(g, "wb", 3, (int64_t[]){3, MM_K, MM_N}, 6);
    dlc_value *bias3 = ph_weights(g, "bias3", 3, (int64_t[]){1, 1, MM_N}, 7);
    dlc_value *q = ph_op(g, "batched", "MatMul", 2, (dlc_value *[]){x, wb});
    dlc_value *qb = ph_op(g, "batched_bias", "Add", 2, (dlc_value *[]){bias3, q});
    dlc_value *y2 = ph_op(g, "leaky", "LeakyRelu", 1, &qb);
    ph_attr_float(g, "leaky", "alpha", 0.2);
    /* y3 = Clip(Gemm(v, W) + bias, 0, 6): the gemv path, bias into C */
    dlc_value *gm = ph_op(g, "gemm", "Gemm", 2, (dlc_value *[]){v, w});
    dlc_value *gb = ph_op(g, "gemm_bias", "Add", 2, (dlc_value *[]){gm, bias});
    dlc_value *y3 = ph_op(g, "relu6", "Clip", 3, (dlc_value *[]){gb, ph_scalar(g, "lo", 0.0f), ph_scalar(g, "hi", 0.06f)});
    /* y4 = Sigmoid(v W), y5 = Tanh(x W + r) */
    dlc_value *s = ph_op(g, "gemv", "MatMul", 2, (dlc_value *[]){v, w});
    dlc_value *y4 = ph_op(g, "sigmoid", "Sigmoid", 1, &s);
    dlc_value *wt = ph_weights(g, "wt", 2, (int64_t[]){MM_K, MM_N}, 13); /* not w: CSE would share proj's */
    dlc_value *t = ph_op(g, "tall", "MatMul", 2, (dlc_value *[]){x, wt});
    dlc_value *tr = ph_op(g, "tall_res", "Add", 2, (dlc_value *[]){t, r});
    dlc_value *y5 = ph_op(g, "tanh", "Tanh", 1, &tr);
    tb_set_io(g, 3, (dlc_value *[]){x, r, v}, 4, (dlc_value *[]){y1, y2, y3, y4});
    (void)y5;
    return g;
}

/* The same with y5 as the output in place of y4 (the harness takes 4). */
static dlc_graph *matmul_graph_tanh(void) {
    dlc_graph *g = matmul_graph();
    g->outputs[3] = dlc_graph_find_value(g, "tanh_out");
    return g;
}

Test(fuse_epilogue, matmul_and_gemm_chains_fold) {
    dlc_graph *g = ph_inferred(matmul_graph_tanh);
    cr_assert(ph_run_pass(g, dlc_pass_fuse_epilogue));
    cr_assert_eq(ph_count_ops(g, "Add"), 0);
    cr_assert_eq(ph_count_ops(g, "LeakyRelu") + ph_count_ops(g, "Clip") + ph_count_ops(g, "Tanh"), 0);
    const dlc_node *proj = ph_node(g, "proj"), *gemm = ph_node(g, "gemm"), *leaky = ph_node(g, "batched");
    cr_assert_not_null(proj);
    cr_assert_eq(proj->num_inputs, 4);
    cr_assert_eq(proj->inputs[2]->shape.rank, 1, "MatMul's bias as a vector [N]");
    cr_assert_eq(proj->inputs[DLC_EPILOGUE_RESIDUAL], dlc_graph_find_value(g, "r"));
    cr_assert_str_eq(dlc_node_attr_string(proj, DLC_EPILOGUE_ATTR, "?"), "Add+Add");
    cr_assert_null(dlc_node_attr(proj, DLC_ACTIVATION_ATTR));
    cr_assert_not_null(leaky);
    cr_assert_str_eq(dlc_node_attr_string(leaky, DLC_ACTIVATION_ATTR, "?"), "LeakyRelu");
    int32_t count;
    const double *alpha = dlc_node_attr_floats(leaky, DLC_ACTIVATION_PARAMS_ATTR, &count);
    cr_assert(count == 1 && fabs(alpha[0] - 0.2) < 1e-12);
    cr_assert_not_null(gemm);
    cr_assert_eq(gemm->num_inputs, 3, "the bias became Gemm's C");
    cr_assert_float_eq(dlc_node_attr_float(gemm, "beta", 0.0), 1.0, 0);
    const double *bounds = dlc_node_attr_floats(gemm, DLC_ACTIVATION_PARAMS_ATTR, &count);
    cr_assert(count == 2 && bounds[0] == 0.0 && fabs(bounds[1] - 0.06) < 1e-6);
    dlc_graph_free(g);
}

Test(fuse_epilogue, matmul_outputs_unchanged) { ph_expect_same_outputs(matmul_graph, 1e-5); }
Test(fuse_epilogue, matmul_tanh_outputs_unchanged) { ph_expect_same_outputs(matmul_graph_tanh, 1e-5); }

/* ---- depthwise and grouped convs, no bias, residual then Sigmoid ---- */

static void ph_attr_int(dlc_graph *g, const char *node, const char *attr, int64_t i) {
    dlc_attr a = {.name = (char *)attr, .type = DLC_ATTR_INT, .i = i};
    cr_assert_eq(dlc_node_add_attr(ph_node(g, node), &a), DLC_OK);
}

static dlc_graph *grouped_graph(void) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("grouped", &g), DLC_OK);
    dlc_value *x = tb_value(g, "x", DLC_VALUE_INPUT, 4, (int64_t[]){1, 6, 9, 11});
    dlc_value *wd = ph_weights(g, "wd", 4, (int64_t[]){6, 1, 3, 3}, 8);
    dlc_value *d = ph_op(g, "dw", "Conv", 2, (dlc_value *[]){x, wd});
    ph_attr_ints(g, "dw", "pads", 4, (int64_t[]){1, 1, 1, 1});
    ph_attr_int(g, "dw", "group", 6);
    dlc_value *dr = ph_op(g, "dw_res", "Add", 2, (dlc_value *[]){x, d});
    dlc_value *y1 = ph_op(g, "dw_sig", "Sigmoid", 1, &dr);
    dlc_value *wg = ph_weights(g, "wg", 4, (int64_t[]){6, 3, 1, 1}, 9);
    dlc_value *e = ph_op(g, "grouped", "Conv", 2, (dlc_value *[]){y1, wg});
    ph_attr_int(g, "grouped", "group", 2);
    dlc_value *y2 = ph_op(g, "grouped_relu", "Relu", 1, &e);
    tb_set_io(g, 1, &x, 2, (dlc_value *[]){y1, y2});
    return g;
}

Test(fuse_epilogue, depthwise_and_grouped_convs_fold) {
    dlc_graph *g = ph_inferred(grouped_graph);
    cr_assert(ph_run_pass(g, dlc_pass_fuse_epilogue));
    /* y1 is an output: the depthwise conv takes its residual and Sigmoid
     * (whose output is the graph's), the grouped conv its Relu */
    cr_assert_eq(g->num_nodes, 2);
    cr_assert_str_eq(dlc_node_attr_string(g->nodes[0], DLC_EPILOGUE_ATTR, "?"), "Add+Sigmoid");
    cr_assert_str_eq(dlc_node_attr_string(g->nodes[1], DLC_EPILOGUE_ATTR, "?"), "Relu");
    dlc_graph_free(g);
}

Test(fuse_epilogue, grouped_outputs_unchanged) { ph_expect_same_outputs(grouped_graph, 1e-5); }

/* ---- what does not fold ---- */

static dlc_graph *blocked_graph(void) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("blocked", &g), DLC_OK);
    dlc_value *x = tb_value(g, "x", DLC_VALUE_INPUT, 2, (int64_t[]){4, 16});
    dlc_value *row = tb_value(g, "row", DLC_VALUE_INPUT, 1, (int64_t[]){8});
    dlc_value *w = ph_weights(g, "w", 2, (int64_t[]){16, 8}, 10);
    /* a product read twice keeps its readers */
    dlc_value *a = ph_op(g, "shared", "MatMul", 2, (dlc_value *[]){x, w});
    dlc_value *a1 = ph_op(g, "shared_relu", "Relu", 1, &a);
    dlc_value *a2 = ph_op(g, "shared_tanh", "Tanh", 1, &a);
    /* a non-constant row broadcast is neither bias nor residual */
    dlc_value *b = ph_op(g, "bcast", "MatMul", 2, (dlc_value *[]){x, w});
    dlc_value *b1 = ph_op(g, "bcast_add", "Add", 2, (dlc_value *[]){b, row});
    /* the activation comes last: Relu then Add keeps the Add */
    dlc_value *c = ph_op(g, "order", "MatMul", 2, (dlc_value *[]){x, w});
    dlc_value *c1 = ph_op(g, "order_relu", "Relu", 1, &c);
    dlc_value *c2 = ph_op(g, "order_add", "Add", 2, (dlc_value *[]){c1, a1});
    tb_set_io(g, 2, (dlc_value *[]){x, row}, 3, (dlc_value *[]){a2, b1, c2});
    return g;
}

Test(fuse_epilogue, shared_broadcast_and_misordered_chains_stay) {
    dlc_graph *g = ph_inferred(blocked_graph);
    cr_assert(ph_run_pass(g, dlc_pass_fuse_epilogue));
    cr_assert_eq(ph_count_ops(g, "Tanh"), 1);
    cr_assert_eq(ph_count_ops(g, "Relu"), 1, "only order's Relu folds");
    cr_assert_eq(ph_count_ops(g, "Add"), 2);
    cr_assert_null(dlc_node_attr(ph_node(g, "shared"), DLC_EPILOGUE_ATTR));
    cr_assert_null(dlc_node_attr(ph_node(g, "bcast"), DLC_EPILOGUE_ATTR));
    cr_assert_str_eq(dlc_node_attr_string(ph_node(g, "order"), DLC_EPILOGUE_ATTR, "?"), "Relu");
    dlc_graph_free(g);
}

Test(fuse_epilogue, blocked_outputs_unchanged) { ph_expect_same_outputs(blocked_graph, 1e-5); }

/* A MatMul given inputs past its two without the epilogue attribute is refused. */
Test(fuse_epilogue, extra_inputs_need_the_attribute) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("bad", &g), DLC_OK);
    dlc_value *x = tb_value(g, "x", DLC_VALUE_INPUT, 2, (int64_t[]){4, 16});
    dlc_value *w = ph_weights(g, "w", 2, (int64_t[]){16, 8}, 11);
    dlc_value *bias = ph_weights(g, "bias", 1, (int64_t[]){8}, 12);
    dlc_value *y = ph_op(g, "mm", "MatMul", 3, (dlc_value *[]){x, w, bias});
    tb_set_io(g, 1, &x, 1, &y);
    cr_assert_neq(dlc_infer_and_fold(g), DLC_OK);
    cr_assert(strstr(dlc_last_error(), "'mm'") != NULL, "%s", dlc_last_error());
    dlc_graph_free(g);
}

/* ---- Gelu (both approximations) after a MatMul bias and a Gemm ---- */

static dlc_value *gelu_node(dlc_graph *g, const char *name, dlc_value *x, const char *approximate) {
    char out_name[64];
    snprintf(out_name, sizeof out_name, "%s_out", name);
    dlc_value *y = ph_temp(g, out_name);
    dlc_node *n = tb_node(g, name, "Gelu", 1, &x, y);
    n->opset = 20;
    dlc_attr a = {.name = "approximate", .type = DLC_ATTR_STRING, .s = (char *)approximate, .s_len = strlen(approximate)};
    cr_assert_eq(dlc_node_add_attr(n, &a), DLC_OK);
    return y;
}

static dlc_graph *gelu_graph(void) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("gelu_epilogue", &g), DLC_OK);
    dlc_value *x = tb_value(g, "x", DLC_VALUE_INPUT, 2, (int64_t[]){MM_M, MM_K});
    dlc_value *w = ph_weights(g, "w", 2, (int64_t[]){MM_K, MM_N}, 14);
    dlc_value *bias = ph_weights(g, "bias", 1, (int64_t[]){MM_N}, 15);
    dlc_value *p = ph_op(g, "fc1", "MatMul", 2, (dlc_value *[]){x, w});
    dlc_value *pb = ph_op(g, "fc1_bias", "Add", 2, (dlc_value *[]){p, bias});
    dlc_value *y1 = gelu_node(g, "gelu", pb, "none");
    dlc_value *wt = ph_weights(g, "wt", 2, (int64_t[]){MM_N, MM_K}, 16);
    dlc_value *q = ph_op(g, "gemm", "Gemm", 3, (dlc_value *[]){x, wt, bias});
    ph_attr_int(g, "gemm", "transB", 1);
    dlc_value *y2 = gelu_node(g, "gelu_tanh", q, "tanh");
    tb_set_io(g, 1, &x, 2, (dlc_value *[]){y1, y2});
    return g;
}

Test(fuse_epilogue, gelu_folds_with_its_approximation) {
    dlc_graph *g = ph_inferred(gelu_graph);
    cr_assert(ph_run_pass(g, dlc_pass_fuse_epilogue));
    cr_assert_eq(g->num_nodes, 2);
    cr_assert_str_eq(dlc_node_attr_string(ph_node(g, "fc1"), DLC_ACTIVATION_ATTR, "?"), "Gelu");
    cr_assert_str_eq(dlc_node_attr_string(ph_node(g, "fc1"), DLC_EPILOGUE_ATTR, "?"), "Add+Gelu");
    cr_assert_str_eq(dlc_node_attr_string(ph_node(g, "gemm"), DLC_ACTIVATION_ATTR, "?"), "GeluTanh");
    dlc_graph_free(g);
}

Test(fuse_epilogue, gelu_outputs_unchanged) { ph_expect_same_outputs(gelu_graph, 1e-5); }

/* ---- SiLU as PyTorch exports it: Sigmoid(v), Mul(v, Sigmoid(v)) ---- */

/* s = Sigmoid(v), then Mul(v, s) or Mul(s, v); returns the product. */
static dlc_value *silu_nodes(dlc_graph *g, const char *name, dlc_value *v, bool sigmoid_first) {
    char sig_name[64];
    snprintf(sig_name, sizeof sig_name, "%s_sigmoid", name);
    dlc_value *s = ph_op(g, sig_name, "Sigmoid", 1, &v);
    dlc_value *operands[2] = {sigmoid_first ? s : v, sigmoid_first ? v : s};
    return ph_op(g, name, "Mul", 2, operands);
}

/* YOLO's Conv -> SiLU (bias in the conv, x * sig), a 1x1 conv -> Add(bias)
 * -> SiLU (sig * x), a depthwise conv -> SiLU, a MatMul -> SiLU with K > 256
 * and a Gemm (bias as C) -> SiLU. */
static dlc_graph *silu_graph(void) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("silu_epilogue", &g), DLC_OK);
    dlc_value *x = tb_value(g, "x", DLC_VALUE_INPUT, 4, (int64_t[]){1, 4, 9, 11});
    dlc_value *w1 = ph_weights(g, "w1", 4, (int64_t[]){16, 4, 3, 3}, 21);
    dlc_value *b1 = ph_weights(g, "b1", 1, (int64_t[]){16}, 22);
    dlc_value *a = ph_op(g, "conv", "Conv", 3, (dlc_value *[]){x, w1, b1});
    ph_attr_ints(g, "conv", "pads", 4, (int64_t[]){1, 1, 1, 1});
    dlc_value *y1 = silu_nodes(g, "conv_silu", a, false);
    dlc_value *w2 = ph_weights(g, "w2", 4, (int64_t[]){8, 16, 1, 1}, 23);
    dlc_value *c2 = ph_weights(g, "c2", 3, (int64_t[]){8, 1, 1}, 24);
    dlc_value *p = ph_op(g, "pointwise", "Conv", 2, (dlc_value *[]){y1, w2});
    dlc_value *pb = ph_op(g, "pointwise_bias", "Add", 2, (dlc_value *[]){p, c2});
    dlc_value *y2 = silu_nodes(g, "pointwise_silu", pb, true);
    dlc_value *wd = ph_weights(g, "wd", 4, (int64_t[]){8, 1, 3, 3}, 25);
    dlc_value *d = ph_op(g, "dw", "Conv", 2, (dlc_value *[]){y2, wd});
    ph_attr_ints(g, "dw", "pads", 4, (int64_t[]){1, 1, 1, 1});
    ph_attr_int(g, "dw", "group", 8);
    dlc_value *y3 = silu_nodes(g, "dw_silu", d, false);

    dlc_value *v = tb_value(g, "v", DLC_VALUE_INPUT, 2, (int64_t[]){MM_M, MM_K});
    dlc_value *wm = ph_weights(g, "wm", 2, (int64_t[]){MM_K, MM_N}, 26);
    dlc_value *m = ph_op(g, "mm", "MatMul", 2, (dlc_value *[]){v, wm});
    dlc_value *y4 = silu_nodes(g, "mm_silu", m, true);
    dlc_value *wg = ph_weights(g, "wg", 2, (int64_t[]){MM_N, MM_K}, 27);
    dlc_value *bg = ph_weights(g, "bg", 1, (int64_t[]){MM_N}, 28);
    dlc_value *q = ph_op(g, "gemm", "Gemm", 3, (dlc_value *[]){v, wg, bg});
    ph_attr_int(g, "gemm", "transB", 1);
    dlc_value *y5 = silu_nodes(g, "gemm_silu", q, false);
    tb_set_io(g, 2, (dlc_value *[]){x, v}, 3, (dlc_value *[]){y3, y4, y5});
    return g;
}

Test(fuse_epilogue, silu_folds_in_either_operand_order) {
    dlc_graph *g = ph_inferred(silu_graph);
    cr_assert(ph_run_pass(g, dlc_pass_fuse_epilogue));
    cr_assert_eq(g->num_nodes, 5, "one node per anchor");
    cr_assert_eq(ph_count_ops(g, "Sigmoid") + ph_count_ops(g, "Mul") + ph_count_ops(g, "Add"), 0);
    const char *anchors[] = {"conv", "pointwise", "dw", "mm", "gemm"};
    for (size_t i = 0; i < sizeof anchors / sizeof anchors[0]; i++) {
        const dlc_node *n = ph_node(g, anchors[i]);
        cr_assert_not_null(n, "%s", anchors[i]);
        cr_assert_str_eq(dlc_node_attr_string(n, DLC_ACTIVATION_ATTR, "?"), "SiLU", "%s", anchors[i]);
        cr_assert_null(dlc_node_attr(n, DLC_ACTIVATION_PARAMS_ATTR));
    }
    char label[64];
    cr_assert_str_eq(dlc_node_label(ph_node(g, "conv"), label, sizeof label), "Conv+SiLU");
    cr_assert_str_eq(dlc_node_label(ph_node(g, "pointwise"), label, sizeof label), "Conv+Add+SiLU");
    cr_assert_eq(ph_node(g, "mm")->outputs[0], g->outputs[1], "the fused node writes the Mul's output");
    cr_assert_not(ph_run_pass(g, dlc_pass_fuse_epilogue), "a second run finds nothing");
    dlc_graph_free(g);
}

Test(fuse_epilogue, silu_outputs_unchanged) { ph_expect_same_outputs(silu_graph, 1e-5); }
Test(fuse_epilogue, silu_outputs_unchanged_on_3_threads) { ph_expect_same_outputs_threads(silu_graph, 1e-5, 3); }

/* A MatMul of two inputs (no prepacked weights: -O0 and -O2 run the same
 * GEMM) -> SiLU: the epilogue must give the very bits of the Sigmoid and
 * Mul kernels. */
static dlc_graph *silu_bits_graph(void) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("silu_bits", &g), DLC_OK);
    dlc_value *a = tb_value(g, "a", DLC_VALUE_INPUT, 2, (int64_t[]){33, 7});
    dlc_value *b = tb_value(g, "b", DLC_VALUE_INPUT, 2, (int64_t[]){7, 29});
    dlc_value *c = tb_value(g, "c", DLC_VALUE_INPUT, 2, (int64_t[]){7, 29});
    dlc_value *m = ph_op(g, "mm", "MatMul", 2, (dlc_value *[]){a, b});
    dlc_value *y1 = silu_nodes(g, "silu", m, false);
    dlc_value *n = ph_op(g, "mm2", "MatMul", 2, (dlc_value *[]){a, c});
    dlc_value *y2 = silu_nodes(g, "silu2", n, true);
    tb_set_io(g, 3, (dlc_value *[]){a, b, c}, 2, (dlc_value *[]){y1, y2});
    return g;
}

Test(fuse_epilogue, silu_gives_the_unfused_bits) {
    dlc_graph *g = ph_inferred(silu_bits_graph);
    cr_assert(ph_run_pass(g, dlc_pass_fuse_epilogue));
    cr_assert_eq(g->num_nodes, 2);
    dlc_graph_free(g);
    ph_expect_same_outputs(silu_bits_graph, 0.0);
}

/* What is no SiLU: the conv output read a third time, or being a graph
 * output; the Sigmoid's output read twice; a Mul of the sigmoid by another
 * tensor (the Sigmoid alone then folds); a float64 product. */
static dlc_graph *silu_blocked_graph(void) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("silu_blocked", &g), DLC_OK);
    dlc_value *x = tb_value(g, "x", DLC_VALUE_INPUT, 2, (int64_t[]){4, 16});
    dlc_value *z = tb_value(g, "z", DLC_VALUE_INPUT, 2, (int64_t[]){4, 8});
    dlc_value *w = ph_weights(g, "w", 2, (int64_t[]){16, 8}, 30);
    /* third use: a Relu reads the product too */
    dlc_value *a = ph_op(g, "third", "MatMul", 2, (dlc_value *[]){x, w});
    dlc_value *a1 = silu_nodes(g, "third_silu", a, false);
    dlc_value *a2 = ph_op(g, "third_relu", "Relu", 1, &a);
    dlc_value *a3 = ph_op(g, "third_sum", "Add", 2, (dlc_value *[]){a1, a2});
    /* the sigmoid's output is a graph output as well */
    dlc_value *wb = ph_weights(g, "wb", 2, (int64_t[]){16, 8}, 31);
    dlc_value *b = ph_op(g, "sig_out", "MatMul", 2, (dlc_value *[]){x, wb});
    dlc_value *bs = ph_op(g, "sig_out_sigmoid", "Sigmoid", 1, &b);
    dlc_value *b1 = ph_op(g, "sig_out_mul", "Mul", 2, (dlc_value *[]){b, bs});
    /* the sigmoid times another tensor: a gate, not a SiLU */
    dlc_value *wc = ph_weights(g, "wc", 2, (int64_t[]){16, 8}, 32);
    dlc_value *c = ph_op(g, "gate", "MatMul", 2, (dlc_value *[]){x, wc});
    dlc_value *cs = ph_op(g, "gate_sigmoid", "Sigmoid", 1, &c);
    dlc_value *c1 = ph_op(g, "gate_mul", "Mul", 2, (dlc_value *[]){z, cs});
    /* the product read by Sigmoid and by a Mul with another tensor */
    dlc_value *wd = ph_weights(g, "wd", 2, (int64_t[]){16, 8}, 33);
    dlc_value *d = ph_op(g, "other", "MatMul", 2, (dlc_value *[]){x, wd});
    dlc_value *ds = ph_op(g, "other_sigmoid", "Sigmoid", 1, &d);
    dlc_value *d1 = ph_op(g, "other_mul", "Mul", 2, (dlc_value *[]){d, z});
    dlc_value *d2 = ph_op(g, "other_sum", "Add", 2, (dlc_value *[]){ds, d1});
    tb_set_io(g, 2, (dlc_value *[]){x, z}, 5, (dlc_value *[]){a3, bs, b1, c1, d2});
    return g;
}

Test(fuse_epilogue, silu_needs_exactly_its_two_readers) {
    dlc_graph *g = ph_inferred(silu_blocked_graph);
    cr_assert(ph_run_pass(g, dlc_pass_fuse_epilogue));
    cr_assert_null(dlc_node_attr(ph_node(g, "third"), DLC_EPILOGUE_ATTR));
    cr_assert_null(dlc_node_attr(ph_node(g, "other"), DLC_EPILOGUE_ATTR));
    /* sig_out: Sigmoid's output is read twice; the MatMul's output is read
     * by the Sigmoid and the Mul, so not even the Sigmoid folds */
    cr_assert_null(dlc_node_attr(ph_node(g, "sig_out"), DLC_EPILOGUE_ATTR));
    cr_assert_str_eq(dlc_node_attr_string(ph_node(g, "gate"), DLC_ACTIVATION_ATTR, "?"), "Sigmoid");
    cr_assert_not_null(ph_node(g, "gate_mul"), "the gate's Mul stays");
    cr_assert_eq(ph_count_ops(g, "Mul"), 4);
    cr_assert_eq(ph_count_ops(g, "Sigmoid"), 3);
    dlc_graph_free(g);
}

Test(fuse_epilogue, silu_blocked_outputs_unchanged) { ph_expect_same_outputs(silu_blocked_graph, 1e-5); }

static dlc_graph *silu_float64_graph(void) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("silu_f64", &g), DLC_OK);
    dlc_shape xs = dlc_shape_make(2, (int64_t[]){4, 16}), ws = dlc_shape_make(2, (int64_t[]){16, 8});
    dlc_value *x, *w;
    cr_assert_eq(dlc_graph_add_value(g, "x", DLC_VALUE_INPUT, DLC_FLOAT64, &xs, &x), DLC_OK);
    double wdata[16 * 8];
    for (int i = 0; i < 16 * 8; i++) wdata[i] = (double)(i % 7 - 3) * 0.1;
    cr_assert_eq(dlc_graph_add_const(g, "w", DLC_FLOAT64, &ws, wdata, sizeof wdata, &w), DLC_OK);
    dlc_value *m = ph_op(g, "mm", "MatMul", 2, (dlc_value *[]){x, w});
    dlc_value *y = silu_nodes(g, "silu", m, false);
    tb_set_io(g, 1, &x, 1, &y);
    return g;
}

Test(fuse_epilogue, silu_is_float32_only) {
    dlc_graph *g = ph_inferred(silu_float64_graph);
    cr_assert_eq(g->outputs[0]->dtype, DLC_FLOAT64);
    cr_assert_not(ph_run_pass(g, dlc_pass_fuse_epilogue));
    cr_assert_eq(g->num_nodes, 3);
    dlc_graph_free(g);
}

/* ---- the SiLU epilogue kernel ---- */

#include "kernels/epilogue.h"
#include "kernels/fast_math.h"

/* dlc_epilogue_apply with SiLU after a bias and a residual equals the
 * unfused kernels' arithmetic, sigmoid_f32 rounded then multiplied, bit for
 * bit (special values included), and v / (1 + e^-v) in double closely. */
Test(fuse_epilogue, silu_kernel_matches_sigmoid_then_mul) {
    enum { ROWS = 3, COLS = 41, LD = 45 };
    static const float specials[] = {0.0f, -0.0f, 1e-30f, -1e-30f, 88.0f, -88.0f, 104.0f, -110.0f,
                                     INFINITY, -INFINITY, NAN, 20.0f, -20.0f, 1.0f, -1.0f};
    float c[ROWS * LD], residual[ROWS * LD], bias[ROWS], want[ROWS * LD];
    ph_fill(c, ROWS * LD, 40);
    ph_fill(residual, ROWS * LD, 41);
    ph_fill(bias, ROWS, 42);
    for (size_t k = 0; k < sizeof specials / sizeof specials[0]; k++) c[k] = specials[k], residual[k] = 0.0f;
    bias[0] = 0.0f;
    for (int i = 0; i < ROWS; i++)
        for (int j = 0; j < LD; j++) {
            float v = c[i * LD + j];
            if (j >= 2 && j < COLS) {
                v = v + bias[i];
                v = v + residual[i * LD + j];
                float s = sigmoid_f32(v);
                v = v * s;
            }
            want[i * LD + j] = v;
        }
    dlc_epilogue ep = {.bias = bias, .bias_rs = 1, .bias_cs = 0, .residual = residual, .residual_ld = LD,
                       .act = DLC_EP_SILU};
    float got[ROWS * LD];
    memcpy(got, c, sizeof got);
    dlc_epilogue_apply(&ep, got, LD, 0, ROWS, 2, COLS);
    for (int e = 0; e < ROWS * LD; e++) {
        cr_assert(memcmp(&got[e], &want[e], sizeof(float)) == 0 || (isnan(got[e]) && isnan(want[e])),
                  "element %d: %.9g, sigmoid then mul %.9g", e, got[e], want[e]);
        int j = e % LD;
        float in = c[e] + bias[e / LD] + residual[e];
        if (j < 2 || j >= COLS || !isfinite(in) || fabsf(in) > 80.0f) continue;
        double ref = (double)in / (1.0 + exp(-(double)in));
        cr_assert(fabs(got[e] - ref) <= 1e-6 * (1.0 + fabs(ref)), "element %d: silu(%.9g) = %.9g, want %.9g", e, in,
                  got[e], ref);
    }
}

/* ---- end to end: an ONNX YOLO block (tests/data/silu/gen_silu.py) ---- */

#include "codegen/compile.h"

#define YOLO_SILU DLC_SOURCE_DIR "/tests/data/silu/yolo_silu.onnx"

/* Compiles the model at opt_level (the final IR into *ir when asked), runs
 * it on a fixed input, returns outputs features [1,32,16,16] and head [1,10]. */
static void run_yolo_silu(int opt_level, float *features, float *head, char **ir) {
    char dir[64], so[256];
    tb_mkdtemp(dir, sizeof dir);
    snprintf(so, sizeof so, "%s/m.so", dir);
    dlc_compile_options opts;
    dlc_compile_options_init(&opts);
    opts.opt_level = opt_level;
    size_t ir_size = 0;
    FILE *f = ir != NULL ? open_memstream(ir, &ir_size) : NULL;
    opts.print_ir = f;
    cr_assert_eq(dlc_compile_file(YOLO_SILU, &opts, so), DLC_OK, "-O%d: %s", opt_level, dlc_last_error());
    if (f != NULL) fclose(f);
    dlc_model *model;
    dlc_session *session;
    cr_assert_eq(dlc_model_load(so, &model), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(dlc_session_create(model, NULL, &session), DLC_OK, "%s", dlc_last_error());
    static float x[1 * 3 * 32 * 32];
    ph_fill(x, 3 * 32 * 32, 7);
    dlc_tensor in = {.dtype = DLC_FLOAT32, .rank = 4, .dims = {1, 3, 32, 32}, .data = x, .size_bytes = sizeof x};
    dlc_tensor out[2] = {{.data = features, .size_bytes = 32 * 16 * 16 * sizeof(float)},
                         {.data = head, .size_bytes = 10 * sizeof(float)}};
    cr_assert_eq(dlc_session_run(session, &in, 1, out, 2), DLC_OK, "%s", dlc_last_error());
    dlc_session_free(session);
    dlc_model_free(model);
    tb_rmdir(dir);
}

static int count_substrings(const char *text, const char *needle) {
    int n = 0;
    for (const char *p = strstr(text, needle); p != NULL; p = strstr(p + 1, needle)) n++;
    return n;
}

Test(fuse_epilogue, yolo_block_silu_fuses_and_matches_O0) {
    static float f0[32 * 16 * 16], f2[32 * 16 * 16];
    float h0[10], h2[10];
    char *ir = NULL;
    run_yolo_silu(0, f0, h0, NULL);
    run_yolo_silu(2, f2, h2, &ir);
    /* stem, cv1, m, dw and the head's Gemm; shared's output has a third reader */
    cr_assert_eq(count_substrings(ir, "dlc_activation=\"SiLU\""), 5, "%s", ir);
    cr_assert_eq(count_substrings(ir, "Sigmoid"), 1, "shared's SiLU stays a Sigmoid+Mul chain: %s", ir);
    free(ir);
    for (int i = 0; i < 32 * 16 * 16; i++)
        cr_assert(fabsf(f2[i] - f0[i]) <= 1e-5f * (1.0f + fabsf(f0[i])), "features %d: -O2 %.9g, -O0 %.9g", i, f2[i],
                  f0[i]);
    for (int i = 0; i < 10; i++)
        cr_assert(fabsf(h2[i] - h0[i]) <= 1e-5f * (1.0f + fabsf(h0[i])), "head %d: -O2 %.9g, -O0 %.9g", i, h2[i], h0[i]);
}
