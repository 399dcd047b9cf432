/* fuse-elementwise: which float32 elementwise groups become one
 * dlc.ElementwiseChain (the graph after the pass), and the chain kernel's
 * outputs against the unfused kernels' at -O0, bit for bit: random chains
 * over full, per-channel, row and scalar operands at sizes that are no
 * multiple of the kernel's block, a large one on several threads, Pow, and
 * a model compiled once for every size. */
#include <stdio.h>

#include "codegen/compile.h"
#include "dlc/dlc.h"
#include "ir/ops/epilogue.h" /* dlc_node_label */
#include "pass_harness.h"

static void set_attr_float(dlc_graph *g, const char *node, const char *attr, double f) {
    dlc_attr a = {.name = (char *)attr, .type = DLC_ATTR_FLOAT, .f = f};
    cr_assert_eq(dlc_node_add_attr(ph_node_named(g, node), &a), DLC_OK);
}

/* ---- graph before / after ---- */

enum { C = 3, H = 5, W = 7 };

/* which variant sigmoid_graph builds */
static enum { PLAIN, MUL_IS_OUTPUT, MUL_READ_OUTSIDE } variant;

/* y = Sigmoid(x * 0.5 + b), b a per-channel constant [C,1,1] */
static dlc_graph *sigmoid_graph(void) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("chain", &g), DLC_OK);
    dlc_value *x = tb_value(g, "x", DLC_VALUE_INPUT, 4, (int64_t[]){2, C, H, W});
    float bias[C] = {0.25f, -0.5f, 1.0f};
    dlc_value *b = tb_const(g, "b", 3, (int64_t[]){C, 1, 1}, bias);
    dlc_value *m = ph_op(g, "mul", "Mul", 2, (dlc_value *[]){x, ph_scalar(g, "half", 0.5f)});
    dlc_value *a = ph_op(g, "add", "Add", 2, (dlc_value *[]){m, b});
    dlc_value *y = ph_op(g, "sigmoid", "Sigmoid", 1, &a);
    if (variant == MUL_IS_OUTPUT) {
        tb_set_io(g, 1, &x, 2, (dlc_value *[]){y, m});
    } else if (variant == MUL_READ_OUTSIDE) {
        dlc_value *t = ph_op(g, "tanh", "Tanh", 1, &m);
        dlc_value *z = ph_op(g, "softmax", "Softmax", 1, &t); /* not elementwise: stays apart */
        tb_set_io(g, 1, &x, 2, (dlc_value *[]){y, z});
    } else {
        tb_set_io(g, 1, &x, 1, &y);
    }
    return g;
}

static dlc_graph *plain_sigmoid_graph(void) {
    variant = PLAIN;
    return sigmoid_graph();
}
static dlc_graph *mul_output_graph(void) {
    variant = MUL_IS_OUTPUT;
    return sigmoid_graph();
}
static dlc_graph *mul_outside_graph(void) {
    variant = MUL_READ_OUTSIDE;
    return sigmoid_graph();
}

Test(fuse_elementwise, mul_add_sigmoid_become_one_chain) {
    dlc_graph *g = ph_inferred(plain_sigmoid_graph);
    cr_assert_eq(g->num_nodes, 3);
    cr_assert(ph_run_pass(g, dlc_pass_fuse_elementwise));
    cr_assert_eq(g->num_nodes, 1);
    const dlc_node *n = g->nodes[0];
    cr_assert_str_eq(n->domain, "dlc");
    cr_assert_str_eq(n->op_type, "ElementwiseChain");
    cr_assert_str_eq(n->name, "mul", "named after the chain's first node");
    cr_assert_eq(n->outputs[0], g->outputs[0]);
    cr_assert_str_eq(dlc_node_attr_string(n, "dlc_chain", "?"), "Mul+Add+Sigmoid");
    char label[64];
    cr_assert_str_eq(dlc_node_label(n, label, sizeof label), "Mul+Add+Sigmoid");
    /* x and the per-channel bias are inputs; the scalar 0.5 is in the program */
    cr_assert_eq(n->num_inputs, 2);
    cr_assert_eq(n->inputs[0], g->inputs[0]);
    cr_assert_str_eq(n->inputs[1]->name, "b");
    int32_t count = 0;
    const double *consts = dlc_node_attr_floats(n, "constants", &count);
    cr_assert(count == 1 && consts[0] == 0.5);
    dlc_node_attr_ints(n, "program", &count);
    cr_assert_eq(count, 3 * 5);
    cr_assert_not(ph_run_pass(g, dlc_pass_fuse_elementwise), "a second run finds nothing");
    dlc_graph_free(g);
}

Test(fuse_elementwise, scalar_constants_stay_inputs_for_every_size) {
    dlc_graph *g = ph_inferred(plain_sigmoid_graph);
    cr_assert(ph_run_pass(g, dlc_pass_fuse_elementwise_keep_constants));
    cr_assert_eq(g->num_nodes, 1);
    cr_assert_eq(g->nodes[0]->num_inputs, 3);
    cr_assert_null(dlc_node_attr(g->nodes[0], "constants"));
    dlc_graph_free(g);
}

Test(fuse_elementwise, an_intermediate_graph_output_is_not_absorbed) {
    dlc_graph *g = ph_inferred(mul_output_graph);
    cr_assert(ph_run_pass(g, dlc_pass_fuse_elementwise));
    cr_assert_eq(g->num_nodes, 2);
    cr_assert_str_eq(g->nodes[0]->op_type, "Mul", "its output is the graph's");
    cr_assert_str_eq(dlc_node_attr_string(g->nodes[1], "dlc_chain", "?"), "Add+Sigmoid");
    cr_assert_eq(g->nodes[1]->inputs[0], g->outputs[1]);
    dlc_graph_free(g);
}

Test(fuse_elementwise, an_intermediate_read_outside_is_not_absorbed) {
    dlc_graph *g = ph_inferred(mul_outside_graph);
    cr_assert(ph_run_pass(g, dlc_pass_fuse_elementwise));
    cr_assert_eq(ph_count_ops(g, "Mul"), 1, "Mul's output is read by Add and by Tanh");
    cr_assert_eq(ph_count_ops(g, "Tanh") + ph_count_ops(g, "Softmax"), 2);
    cr_assert_eq(ph_count_ops(g, "ElementwiseChain"), 1);
    dlc_graph_free(g);
}

/* Neg -> Relu on float64: the chain kernel is float32 only */
static dlc_graph *float64_graph(void) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("f64", &g), DLC_OK);
    dlc_shape s = dlc_shape_make(2, (int64_t[]){4, 5});
    dlc_value *x;
    cr_assert_eq(dlc_graph_add_value(g, "x", DLC_VALUE_INPUT, DLC_FLOAT64, &s, &x), DLC_OK);
    dlc_value *n = ph_op(g, "neg", "Neg", 1, &x);
    dlc_value *y = ph_op(g, "relu", "Relu", 1, &n);
    tb_set_io(g, 1, &x, 1, &y);
    return g;
}

Test(fuse_elementwise, float64_is_left_alone) {
    dlc_graph *g = ph_inferred(float64_graph);
    cr_assert_not(ph_run_pass(g, dlc_pass_fuse_elementwise));
    cr_assert_eq(g->num_nodes, 2);
    dlc_graph_free(g);
}

/* Sigmoid(x) * x -> Relu, with the Sigmoid's input shared: x is one input */
static dlc_graph *swish_graph(void) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("swish", &g), DLC_OK);
    dlc_value *x = tb_value(g, "x", DLC_VALUE_INPUT, 2, (int64_t[]){3, 11});
    dlc_value *s = ph_op(g, "sig", "Sigmoid", 1, &x);
    dlc_value *m = ph_op(g, "swish", "Mul", 2, (dlc_value *[]){x, s});
    dlc_value *y = ph_op(g, "relu", "Relu", 1, &m);
    tb_set_io(g, 1, &x, 1, &y);
    return g;
}

Test(fuse_elementwise, a_shared_input_is_read_once) {
    dlc_graph *g = ph_inferred(swish_graph);
    cr_assert(ph_run_pass(g, dlc_pass_fuse_elementwise));
    cr_assert_eq(g->num_nodes, 1);
    cr_assert_eq(g->nodes[0]->num_inputs, 1);
    cr_assert_str_eq(dlc_node_attr_string(g->nodes[0], "dlc_chain", "?"), "Sigmoid+Mul+Relu");
    dlc_graph_free(g);
}

/* ---- outputs against the unfused kernels ---- */

Test(fuse_elementwise, mul_add_sigmoid_outputs_unchanged) {
    ph_expect_same_outputs_threads(plain_sigmoid_graph, 0.0, 1);
}
Test(fuse_elementwise, swish_outputs_unchanged) { ph_expect_same_outputs_threads(swish_graph, 0.0, 1); }

/* Random chains: each step an activation or a binary op with one of the
 * operands x (full), c (per channel [C,1,1]), r (a row [W]), s (an input
 * [1]), a scalar constant or a per-channel constant, on either side. */
static struct {
    uint32_t seed;
    int64_t n, c, h, w;
    int32_t steps;
} rc;

static uint32_t next_random(uint32_t *state) {
    *state = *state * 1664525u + 1013904223u;
    return *state >> 8;
}

static dlc_graph *random_graph(void) {
    static const char *const unary[] = {"Relu", "Sigmoid", "Tanh", "Abs", "Neg", "Erf", "LeakyRelu", "HardSigmoid",
                                        "HardSwish", "Softplus", "Softsign", "Clip", "Elu", "Floor"};
    static const char *const binary[] = {"Add", "Sub", "Mul", "Div", "Max", "Min", "PRelu"};
    uint32_t state = rc.seed * 2654435761u + 7u;
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("random_chain", &g), DLC_OK);
    dlc_value *x = tb_value(g, "x", DLC_VALUE_INPUT, 4, (int64_t[]){rc.n, rc.c, rc.h, rc.w});
    dlc_value *c = tb_value(g, "c", DLC_VALUE_INPUT, 3, (int64_t[]){rc.c, 1, 1});
    dlc_value *r = tb_value(g, "r", DLC_VALUE_INPUT, 1, (int64_t[]){rc.w});
    dlc_value *s = tb_value(g, "s", DLC_VALUE_INPUT, 1, (int64_t[]){1});
    float *kc = malloc((size_t)rc.c * sizeof *kc);
    cr_assert_not_null(kc);
    ph_fill(kc, rc.c, rc.seed + 11);
    dlc_value *operands[6] = {x, c, r, s, ph_scalar(g, "k", 0.75f), tb_const(g, "kc", 3, (int64_t[]){rc.c, 1, 1}, kc)};
    free(kc);
    dlc_value *v = x;
    for (int32_t step = 0; step < rc.steps; step++) {
        char name[32];
        snprintf(name, sizeof name, "n%d", step);
        if (next_random(&state) % 2 == 0) {
            const char *op = unary[next_random(&state) % (sizeof unary / sizeof unary[0])];
            if (strcmp(op, "Clip") == 0) {
                v = ph_op(g, name, op, 3, (dlc_value *[]){v, ph_scalar(g, "lo", -1.5f), ph_scalar(g, "hi", 2.0f)});
            } else {
                v = ph_op(g, name, op, 1, &v);
                if (strcmp(op, "LeakyRelu") == 0) set_attr_float(g, name, "alpha", 0.3);
                if (strcmp(op, "HardSigmoid") == 0) set_attr_float(g, name, "beta", 0.25);
                if (strcmp(op, "HardSwish") == 0) ph_node_named(g, name)->opset = 14;
            }
        } else {
            const char *op = binary[next_random(&state) % (sizeof binary / sizeof binary[0])];
            dlc_value *other = operands[next_random(&state) % 6];
            bool swap = strcmp(op, "PRelu") != 0 && next_random(&state) % 2 == 0; /* PRelu's slope is input 1 */
            v = ph_op(g, name, op, 2, swap ? (dlc_value *[]){other, v} : (dlc_value *[]){v, other});
        }
    }
    tb_set_io(g, 4, (dlc_value *[]){x, c, r, s}, 1, &v);
    return g;
}

static void check_random(uint32_t seed, int64_t n, int64_t c, int64_t h, int64_t w, int32_t steps, int32_t threads) {
    rc.seed = seed, rc.n = n, rc.c = c, rc.h = h, rc.w = w, rc.steps = steps;
    dlc_graph *g = ph_inferred(random_graph);
    dlc_pass_options opts = {.opt_level = 2, .verify_each = true};
    cr_assert_eq(dlc_run_passes(g, &opts), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(g->num_nodes, 1, "seed %u: the whole chain is one node, not %d", seed, g->num_nodes);
    cr_assert_str_eq(g->nodes[0]->op_type, "ElementwiseChain");
    dlc_graph_free(g);
    ph_expect_same_outputs_threads(random_graph, 0.0, threads);
}

Test(fuse_elementwise, random_chains_odd_sizes) {
    for (uint32_t seed = 1; seed <= 6; seed++) check_random(seed, 2, 5, 9, 13, 8, 1);
}

Test(fuse_elementwise, random_chains_one_element_rows) {
    /* rows of 1 along the inner dim: every segment is one element */
    for (uint32_t seed = 7; seed <= 9; seed++) check_random(seed, 3, 4, 6, 1, 6, 1);
}

Test(fuse_elementwise, random_chain_large_on_four_threads) {
    /* 3*17*61*67 = 208k elements: several threads, segments of the full block */
    check_random(21, 3, 17, 61, 67, 12, 4);
    check_random(22, 1, 3, 1, 70001, 10, 4); /* inner dim far over one block */
}

/* Pow with a constant exponent, and Sqrt/Exp/Log after Abs: libm and
 * fast_math functions within a few ulp of the unfused kernels */
static dlc_graph *pow_graph(void) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("pow", &g), DLC_OK);
    dlc_value *x = tb_value(g, "x", DLC_VALUE_INPUT, 3, (int64_t[]){3, 7, 19});
    dlc_value *a = ph_op(g, "abs", "Abs", 1, &x);
    dlc_value *p = ph_op(g, "pow", "Pow", 2, (dlc_value *[]){a, ph_scalar(g, "e", 1.5f)});
    dlc_value *q = ph_op(g, "sqrt", "Sqrt", 1, &p);
    dlc_value *l = ph_op(g, "log", "Log", 1, &q);
    dlc_value *y = ph_op(g, "exp", "Exp", 1, &l);
    tb_set_io(g, 1, &x, 1, &y);
    return g;
}

Test(fuse_elementwise, pow_sqrt_log_exp_outputs_close) {
    dlc_graph *g = ph_inferred(pow_graph);
    cr_assert(ph_run_pass(g, dlc_pass_fuse_elementwise));
    cr_assert_eq(g->num_nodes, 1);
    dlc_graph_free(g);
    ph_expect_same_outputs_threads(pow_graph, 1e-6, 1);
}

/* ---- one artifact for every size ---- */

/* y = Tanh(x * w + 0.5) - x, x [batch, 6, 9], w a per-channel constant [6,1] */
static dlc_graph *dynamic_graph(void) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("dynamic_chain", &g), DLC_OK);
    int32_t sym;
    cr_assert_eq(dlc_graph_symbol(g, "batch", &sym), DLC_OK);
    dlc_shape s = {.rank = 3, .dims = {{-1, sym}, {6, 0}, {9, 0}}};
    dlc_value *x;
    cr_assert_eq(dlc_graph_add_value(g, "x", DLC_VALUE_INPUT, DLC_FLOAT32, &s, &x), DLC_OK);
    float w[6] = {0.5f, -1.0f, 2.0f, 0.25f, -0.75f, 1.5f};
    dlc_value *m = ph_op(g, "mul", "Mul", 2, (dlc_value *[]){x, tb_const(g, "w", 2, (int64_t[]){6, 1}, w)});
    dlc_value *a = ph_op(g, "add", "Add", 2, (dlc_value *[]){m, ph_scalar(g, "half", 0.5f)});
    dlc_value *t = ph_op(g, "tanh", "Tanh", 1, &a);
    dlc_value *y = ph_op(g, "sub", "Sub", 2, (dlc_value *[]){t, x});
    tb_set_io(g, 1, &x, 1, &y);
    return g;
}

Test(fuse_elementwise, one_artifact_for_every_size) {
    char dir[64], paths[2][256];
    tb_mkdtemp(dir, sizeof dir);
    char *ir = ph_compile_o0_o2(dynamic_graph, dir, paths);
    cr_assert(ir != NULL && strstr(ir, "ElementwiseChain") != NULL, "-O2 IR:\n%s", ir ? ir : "");
    cr_assert(strstr(ir, "Mul+Add+Tanh+Sub") != NULL, "-O2 IR:\n%s", ir);
    free(ir);
    for (int64_t batch = 2; batch <= 7; batch += 5) {
        dlc_tensor out;
        ph_expect_same_bits(paths, 3, (int64_t[]){batch, 6, 9}, batch * 54, &out);
        cr_assert_eq(out.dims[0], batch);
    }
    tb_rmdir(dir);
}
