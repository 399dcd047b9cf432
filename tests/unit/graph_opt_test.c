/* The optimization passes (simplify, cse, fuse-layernorm, fuse-gelu): the
 * graph before and after each pass, and the compiled outputs at -O2 equal to
 * those at -O0 (where none of them runs). */
#include "pass_harness.h"

/* ---- CSE ---- */

/* Two Relu(x), two equal constants, and a duplicate that is a graph output. */
static dlc_graph *cse_graph(void) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("cse", &g), DLC_OK);
    dlc_value *x = tb_value(g, "x", DLC_VALUE_INPUT, 2, (int64_t[]){3, 8});
    float c[8];
    for (int i = 0; i < 8; i++) c[i] = 0.5f + (float)i;
    dlc_value *c1 = tb_const(g, "c1", 1, (int64_t[]){8}, c), *c2 = tb_const(g, "c2", 1, (int64_t[]){8}, c);
    dlc_value *a = ph_op(g, "relu_a", "Relu", 1, &x), *b = ph_op(g, "relu_b", "Relu", 1, &x);
    dlc_value *m1 = ph_op(g, "mul_1", "Mul", 2, (dlc_value *[]){a, c1});
    dlc_value *m2 = ph_op(g, "mul_2", "Mul", 2, (dlc_value *[]){b, c2});
    dlc_value *y = ph_op(g, "sum", "Add", 2, (dlc_value *[]){m1, m2});
    dlc_value *z = ph_op(g, "relu_out", "Relu", 1, &x); /* same as relu_a, but an output */
    tb_set_io(g, 1, &x, 2, (dlc_value *[]){y, z});
    return g;
}

Test(cse, merges_equal_nodes_and_constants) {
    dlc_graph *g = ph_inferred(cse_graph);
    cr_assert_eq(ph_count_ops(g, "Relu"), 3);
    cr_assert_eq(ph_count_ops(g, "Mul"), 2);
    cr_assert(ph_run_pass(g, dlc_pass_cse));
    cr_assert_eq(ph_count_ops(g, "Relu"), 2, "the graph output's Relu keeps its name");
    cr_assert_eq(ph_count_ops(g, "Mul"), 1);
    cr_assert_eq(ph_count_ops(g, "Add"), 1);
    const dlc_node *add = g->nodes[g->num_nodes - 2];
    cr_assert_str_eq(add->op_type, "Add");
    cr_assert_eq(add->inputs[0], add->inputs[1], "both operands are now the one Mul");
    cr_assert_not(ph_run_pass(g, dlc_pass_cse), "a second run finds nothing");
    dlc_graph_free(g);
}

Test(cse, outputs_unchanged) { ph_expect_same_outputs(cse_graph, 1e-6); }

Test(cse, different_attributes_stay_apart) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("cse_attr", &g), DLC_OK);
    dlc_value *x = tb_value(g, "x", DLC_VALUE_INPUT, 3, (int64_t[]){2, 3, 4});
    dlc_value *t1 = ph_op(g, "t1", "Transpose", 1, &x), *t2 = ph_op(g, "t2", "Transpose", 1, &x);
    ph_attr_ints(g, "t1", "perm", 3, (int64_t[]){0, 2, 1});
    ph_attr_ints(g, "t2", "perm", 3, (int64_t[]){1, 0, 2});
    tb_set_io(g, 1, &x, 2, (dlc_value *[]){t1, t2});
    cr_assert_eq(dlc_infer_and_fold(g), DLC_OK, "%s", dlc_last_error());
    cr_assert_not(ph_run_pass(g, dlc_pass_cse));
    cr_assert_eq(ph_count_ops(g, "Transpose"), 2);
    dlc_graph_free(g);
}

/* ---- simplify ---- */

/* y1 = Cast(Div(Add(Mul(Unsqueeze(Reshape(Reshape(T(T(x))))), 1), 0), 1)) is Reshape(x, [1,24]);
 * y2 = T(T(x, [2,0,1]), [0,2,1]) is T(x, [2,1,0]); y3 = Mul(x, ones[2,3,4] broadcast to [2,2,3,4]) stays. */
static dlc_graph *simplify_graph(void) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("simplify", &g), DLC_OK);
    dlc_value *x = tb_value(g, "x", DLC_VALUE_INPUT, 3, (int64_t[]){2, 3, 4});
    dlc_value *t1 = ph_op(g, "t1", "Transpose", 1, &x);
    dlc_value *t2 = ph_op(g, "t2", "Transpose", 1, &t1);
    ph_attr_ints(g, "t1", "perm", 3, (int64_t[]){1, 0, 2});
    ph_attr_ints(g, "t2", "perm", 3, (int64_t[]){1, 0, 2});
    dlc_value *r1 = ph_op(g, "r1", "Reshape", 2, (dlc_value *[]){t2, ph_ints(g, "s1", 2, (int64_t[]){6, 4})});
    dlc_value *r2 = ph_op(g, "r2", "Reshape", 2, (dlc_value *[]){r1, ph_ints(g, "s2", 1, (int64_t[]){24})});
    dlc_value *u = ph_op(g, "u", "Unsqueeze", 2, (dlc_value *[]){r2, ph_ints(g, "ax", 1, (int64_t[]){0})});
    dlc_value *m = ph_op(g, "m", "Mul", 2, (dlc_value *[]){ph_scalar(g, "one", 1.0f), u});
    dlc_value *a = ph_op(g, "a", "Add", 2, (dlc_value *[]){m, ph_scalar(g, "zero", 0.0f)});
    dlc_value *d = ph_op(g, "d", "Div", 2, (dlc_value *[]){a, ph_scalar(g, "one_b", 1.0f)});
    dlc_value *y1 = ph_op(g, "c", "Cast", 1, &d);
    for (int32_t i = 0; i < g->num_nodes; i++)
        if (strcmp(g->nodes[i]->name, "c") == 0) {
            dlc_attr to = {.name = "to", .type = DLC_ATTR_INT, .i = DLC_FLOAT32};
            cr_assert_eq(dlc_node_add_attr(g->nodes[i], &to), DLC_OK);
        }
    dlc_value *t3 = ph_op(g, "t3", "Transpose", 1, &x);
    dlc_value *y2 = ph_op(g, "t4", "Transpose", 1, &t3);
    ph_attr_ints(g, "t3", "perm", 3, (int64_t[]){2, 0, 1});
    ph_attr_ints(g, "t4", "perm", 3, (int64_t[]){0, 2, 1});
    float ones[2 * 2 * 3 * 4];
    for (int i = 0; i < 48; i++) ones[i] = 1.0f;
    dlc_value *y3 = ph_op(g, "grow", "Mul", 2, (dlc_value *[]){x, tb_const(g, "ones", 4, (int64_t[]){2, 2, 3, 4}, ones)});
    tb_set_io(g, 1, &x, 3, (dlc_value *[]){y1, y2, y3});
    return g;
}

Test(simplify, collapses_transposes_reshapes_and_neutral_ops) {
    dlc_graph *g = ph_inferred(simplify_graph);
    cr_assert_eq(g->num_nodes, 12);
    cr_assert(ph_run_pass(g, dlc_pass_simplify));
    cr_assert_eq(ph_count_ops(g, "Transpose"), 1, "t1/t2 cancel, t3/t4 compose");
    cr_assert_eq(ph_count_ops(g, "Reshape"), 1);
    cr_assert_eq(ph_count_ops(g, "Unsqueeze") + ph_count_ops(g, "Add") + ph_count_ops(g, "Div") +
                     ph_count_ops(g, "Cast"), 0);
    cr_assert_eq(ph_count_ops(g, "Mul"), 1, "a Mul by ones that broadcasts stays");
    cr_assert_eq(g->num_nodes, 3);
    for (int32_t i = 0; i < g->num_nodes; i++) {
        const dlc_node *n = g->nodes[i];
        if (strcmp(n->op_type, "Reshape") == 0) {
            cr_assert_eq(n->inputs[0], g->inputs[0], "the reshape reads x itself");
            cr_assert_str_eq(n->outputs[0]->name, "c_out", "the graph output keeps its name");
        }
        if (strcmp(n->op_type, "Transpose") == 0) {
            int32_t count;
            const int64_t *perm = dlc_node_attr_ints(n, "perm", &count);
            cr_assert_eq(count, 3);
            cr_assert(perm[0] == 2 && perm[1] == 1 && perm[2] == 0, "composed perm [%lld,%lld,%lld]",
                      (long long)perm[0], (long long)perm[1], (long long)perm[2]);
        }
    }
    dlc_graph_free(g);
}

Test(simplify, outputs_unchanged) { ph_expect_same_outputs(simplify_graph, 0.0); }

Test(simplify, opt_level_0_runs_no_pass) {
    dlc_graph *g = ph_inferred(simplify_graph);
    dlc_pass_options opts = {.opt_level = 0, .verify_each = true};
    cr_assert_eq(dlc_run_passes(g, &opts), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(g->num_nodes, 12);
    dlc_graph_free(g);
}

/* ---- LayerNorm ---- */

enum { LN_C = 16 };

/* torch's decomposed LayerNorm; affine selects the Mul/Add tail. */
static dlc_graph *layernorm_graph_impl(bool affine, bool leak) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("ln", &g), DLC_OK);
    dlc_value *x = tb_value(g, "x", DLC_VALUE_INPUT, 3, (int64_t[]){2, 5, LN_C});
    dlc_value *mean = ph_op(g, "mean", "ReduceMean", 1, &x);
    ph_attr_ints(g, "mean", "axes", 1, (int64_t[]){-1});
    dlc_value *d = ph_op(g, "sub", "Sub", 2, (dlc_value *[]){x, mean});
    dlc_value *sq = ph_op(g, "pow", "Pow", 2, (dlc_value *[]){d, ph_scalar(g, "two", 2.0f)});
    dlc_value *var = ph_op(g, "var", "ReduceMean", 1, &sq);
    ph_attr_ints(g, "var", "axes", 1, (int64_t[]){-1});
    dlc_value *ve = ph_op(g, "add_eps", "Add", 2, (dlc_value *[]){var, ph_scalar(g, "eps", 1e-5f)});
    dlc_value *sd = ph_op(g, "sqrt", "Sqrt", 1, &ve);
    dlc_value *y = ph_op(g, "div", "Div", 2, (dlc_value *[]){d, sd});
    if (affine) {
        float w[LN_C], b[LN_C];
        for (int i = 0; i < LN_C; i++) w[i] = 0.5f + 0.1f * (float)i, b[i] = 0.25f * (float)(i % 5) - 0.5f;
        y = ph_op(g, "scale", "Mul", 2, (dlc_value *[]){y, tb_const(g, "w", 1, (int64_t[]){LN_C}, w)});
        y = ph_op(g, "shift", "Add", 2, (dlc_value *[]){tb_const(g, "b", 1, (int64_t[]){LN_C}, b), y});
    }
    if (leak) tb_set_io(g, 1, &x, 2, (dlc_value *[]){y, var}); /* the variance is read outside */
    else tb_set_io(g, 1, &x, 1, &y);
    return g;
}
static dlc_graph *layernorm_graph(void) { return layernorm_graph_impl(true, false); }
static dlc_graph *layernorm_plain_graph(void) { return layernorm_graph_impl(false, false); }
static dlc_graph *layernorm_leaky_graph(void) { return layernorm_graph_impl(true, true); }

Test(fuse_layernorm, decomposed_form_becomes_one_node) {
    dlc_graph *g = ph_inferred(layernorm_graph);
    cr_assert_eq(g->num_nodes, 9);
    cr_assert(ph_run_pass(g, dlc_pass_fuse_layernorm));
    cr_assert_eq(g->num_nodes, 1);
    const dlc_node *ln = g->nodes[0];
    cr_assert_str_eq(ln->op_type, "LayerNormalization");
    cr_assert_eq(ln->num_inputs, 3);
    cr_assert_str_eq(ln->inputs[1]->name, "w");
    cr_assert_str_eq(ln->inputs[2]->name, "b");
    cr_assert_float_eq(dlc_node_attr_float(ln, "epsilon", 0), 1e-5, 1e-9);
    cr_assert_str_eq(ln->outputs[0]->name, "shift_out");
    dlc_graph_free(g);
}

Test(fuse_layernorm, without_affine_gets_unit_scale) {
    dlc_graph *g = ph_inferred(layernorm_plain_graph);
    cr_assert(ph_run_pass(g, dlc_pass_fuse_layernorm));
    cr_assert_eq(g->num_nodes, 1);
    cr_assert_eq(g->nodes[0]->num_inputs, 2);
    cr_assert(dlc_const_all_equal(g->nodes[0]->inputs[1], 1.0));
    dlc_graph_free(g);
}

Test(fuse_layernorm, shared_intermediate_blocks_fusion) {
    dlc_graph *g = ph_inferred(layernorm_leaky_graph);
    cr_assert_not(ph_run_pass(g, dlc_pass_fuse_layernorm));
    cr_assert_eq(ph_count_ops(g, "LayerNormalization"), 0);
    dlc_graph_free(g);
}

Test(fuse_layernorm, outputs_unchanged) {
    ph_expect_same_outputs(layernorm_graph, 1e-5);
    ph_expect_same_outputs(layernorm_plain_graph, 1e-5);
    ph_expect_same_outputs(layernorm_leaky_graph, 1e-5);
}

/* ---- GELU ---- */

/* y1: torch's erf GELU, (x * (Erf(x / 1.41421) + 1)) * 0.5;
 * y2: the tanh form, (0.5 * x) * (1 + Tanh(0.797885 * (x + 0.044715 * Pow(x, 3)))). */
static dlc_graph *gelu_graph(void) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("gelu", &g), DLC_OK);
    dlc_value *x = tb_value(g, "x", DLC_VALUE_INPUT, 2, (int64_t[]){4, 32});
    dlc_value *s = ph_op(g, "div", "Div", 2, (dlc_value *[]){x, ph_scalar(g, "sqrt2", 1.4142135f)});
    dlc_value *e = ph_op(g, "erf", "Erf", 1, &s);
    dlc_value *a = ph_op(g, "add", "Add", 2, (dlc_value *[]){e, ph_scalar(g, "one", 1.0f)});
    dlc_value *m = ph_op(g, "mul", "Mul", 2, (dlc_value *[]){x, a});
    dlc_value *y1 = ph_op(g, "mul_half", "Mul", 2, (dlc_value *[]){m, ph_scalar(g, "half", 0.5f)});

    dlc_value *p = ph_op(g, "pow", "Pow", 2, (dlc_value *[]){x, ph_scalar(g, "three", 3.0f)});
    dlc_value *c = ph_op(g, "cube", "Mul", 2, (dlc_value *[]){ph_scalar(g, "k", 0.044715f), p});
    dlc_value *u = ph_op(g, "inner", "Add", 2, (dlc_value *[]){x, c});
    dlc_value *v = ph_op(g, "scale", "Mul", 2, (dlc_value *[]){u, ph_scalar(g, "c", 0.7978846f)});
    dlc_value *t = ph_op(g, "tanh", "Tanh", 1, &v);
    dlc_value *t1 = ph_op(g, "add_t", "Add", 2, (dlc_value *[]){ph_scalar(g, "one_t", 1.0f), t});
    dlc_value *h = ph_op(g, "half_x", "Mul", 2, (dlc_value *[]){ph_scalar(g, "half_t", 0.5f), x});
    dlc_value *y2 = ph_op(g, "gelu_t", "Mul", 2, (dlc_value *[]){h, t1});
    tb_set_io(g, 1, &x, 2, (dlc_value *[]){y1, y2});
    return g;
}

Test(fuse_gelu, erf_and_tanh_forms_become_gelu) {
    dlc_graph *g = ph_inferred(gelu_graph);
    cr_assert_eq(g->num_nodes, 13);
    cr_assert(ph_run_pass(g, dlc_pass_fuse_gelu));
    cr_assert_eq(g->num_nodes, 2);
    cr_assert_str_eq(g->nodes[0]->op_type, "Gelu");
    cr_assert_str_eq(dlc_node_attr_string(g->nodes[0], "approximate", "?"), "none");
    cr_assert_str_eq(g->nodes[1]->op_type, "Gelu");
    cr_assert_str_eq(dlc_node_attr_string(g->nodes[1], "approximate", "?"), "tanh");
    cr_assert_eq(g->nodes[1]->inputs[0], g->inputs[0]);
    dlc_graph_free(g);
}

Test(fuse_gelu, outputs_unchanged) { ph_expect_same_outputs(gelu_graph, 1e-5); }

/* HF gelu_new as torch.onnx exports it: x^3 as a Mul chain.
 * y1: x * (x * x); y2: (x * x) * x; y3: (x * x) * z is no cube and stays. */
static dlc_value *gelu_new_of(dlc_graph *g, const char *tag, dlc_value *x, dlc_value *cube) {
    char name[32];
#define GN(S) (snprintf(name, sizeof name, "%s_%s", tag, S), name)
    dlc_value *c = ph_op(g, GN("kc"), "Mul", 2, (dlc_value *[]){cube, ph_scalar(g, GN("k"), 0.044715f)});
    dlc_value *u = ph_op(g, GN("inner"), "Add", 2, (dlc_value *[]){x, c});
    dlc_value *v = ph_op(g, GN("scale"), "Mul", 2, (dlc_value *[]){ph_scalar(g, GN("c"), 0.7978846f), u});
    dlc_value *t = ph_op(g, GN("tanh"), "Tanh", 1, &v);
    dlc_value *t1 = ph_op(g, GN("add_t"), "Add", 2, (dlc_value *[]){t, ph_scalar(g, GN("one"), 1.0f)});
    dlc_value *h = ph_op(g, GN("half_x"), "Mul", 2, (dlc_value *[]){x, ph_scalar(g, GN("half"), 0.5f)});
    return ph_op(g, GN("gelu"), "Mul", 2, (dlc_value *[]){h, t1});
#undef GN
}

static dlc_graph *gelu_mul_cube_graph(void) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("gelu_new", &g), DLC_OK);
    dlc_value *x = tb_value(g, "x", DLC_VALUE_INPUT, 2, (int64_t[]){4, 32});
    dlc_value *z = tb_value(g, "z", DLC_VALUE_INPUT, 2, (int64_t[]){4, 32});
    dlc_value *sq1 = ph_op(g, "sq1", "Mul", 2, (dlc_value *[]){x, x});
    dlc_value *cube1 = ph_op(g, "cube1", "Mul", 2, (dlc_value *[]){x, sq1});
    dlc_value *sq2 = ph_op(g, "sq2", "Mul", 2, (dlc_value *[]){x, x});
    dlc_value *cube2 = ph_op(g, "cube2", "Mul", 2, (dlc_value *[]){sq2, x});
    dlc_value *sq3 = ph_op(g, "sq3", "Mul", 2, (dlc_value *[]){x, x});
    dlc_value *not_cube = ph_op(g, "not_cube", "Mul", 2, (dlc_value *[]){sq3, z});
    dlc_value *y1 = gelu_new_of(g, "a", x, cube1);
    dlc_value *y2 = gelu_new_of(g, "b", x, cube2);
    dlc_value *y3 = gelu_new_of(g, "c", x, not_cube);
    tb_set_io(g, 2, (dlc_value *[]){x, z}, 3, (dlc_value *[]){y1, y2, y3});
    return g;
}

Test(fuse_gelu, cube_as_mul_chain_becomes_gelu) {
    dlc_graph *g = ph_inferred(gelu_mul_cube_graph);
    cr_assert_eq(g->num_nodes, 27);
    cr_assert(ph_run_pass(g, dlc_pass_fuse_gelu));
    int gelus = 0, tanhs = 0;
    for (int32_t i = 0; i < g->num_nodes; i++) {
        if (strcmp(g->nodes[i]->op_type, "Gelu") == 0) {
            gelus++;
            cr_assert_str_eq(dlc_node_attr_string(g->nodes[i], "approximate", "?"), "tanh");
            cr_assert_eq(g->nodes[i]->inputs[0], g->inputs[0]);
        }
        tanhs += strcmp(g->nodes[i]->op_type, "Tanh") == 0;
    }
    cr_assert_eq(gelus, 2);
    cr_assert_eq(tanhs, 1, "the x*x*z chain is not a cube and keeps its Tanh");
    cr_assert_eq(g->num_nodes, 2 + 9);
    dlc_graph_free(g);
}

Test(fuse_gelu, mul_cube_outputs_unchanged) { ph_expect_same_outputs(gelu_mul_cube_graph, 1e-5); }
