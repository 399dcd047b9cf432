/* fuse-elementwise, reductions with their producers: a float32 Reduce* over
 * trailing axes whose data an elementwise group (or one elementwise node)
 * computes for it alone becomes one dlc.ElementwiseChain with a reduction
 * (the graph after the pass), and its kernel gives the -O0 outputs (chain
 * kernel, then reduce kernel) bit for bit: every float reduction with
 * keepdims 0 and 1, odd sizes, runs over one block, several threads, and a
 * model compiled once for every size. */
#include <stdio.h>

#include "codegen/compile.h"
#include "dlc/dlc.h"
#include "ir/ops/epilogue.h" /* dlc_node_label */
#include "pass_harness.h"

static void set_int(dlc_graph *g, const char *node, const char *attr, int64_t i) {
    dlc_attr a = {.name = (char *)attr, .type = DLC_ATTR_INT, .i = i};
    cr_assert_eq(dlc_node_add_attr(ph_node_named(g, node), &a), DLC_OK);
}

/* out = op(data) reducing axes: ReduceSum (opset 13) and any op at opset
 * 18 take them as an input, the others (opset 13) as an attribute. */
static dlc_value *reduce(dlc_graph *g, const char *name, const char *op, int opset, dlc_value *data, int32_t n_axes,
                         const int64_t *axes, int keepdims) {
    bool as_input = opset >= 18 || strcmp(op, "ReduceSum") == 0;
    char axes_name[64];
    snprintf(axes_name, sizeof axes_name, "%s_axes", name);
    dlc_value *y = as_input ? ph_op(g, name, op, 2, (dlc_value *[]){data, ph_ints(g, axes_name, n_axes, axes)})
                            : ph_op(g, name, op, 1, &data);
    ph_node_named(g, name)->opset = opset;
    if (!as_input) ph_attr_ints(g, name, "axes", n_axes, axes);
    if (keepdims >= 0) set_int(g, name, "keepdims", keepdims);
    return y;
}

/* ---- graph before / after ---- */

enum { N = 2, C = 3, H = 5, W = 7 };

/* which variant the graphs build */
static enum { PLAIN, CHAIN_IS_OUTPUT, CHAIN_READ_OUTSIDE, MIDDLE_AXIS } variant;

/* RMSNorm's mean of squares: ReduceMean(x * x, axes=[-1]) */
static dlc_graph *square_mean_graph(void) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("square_mean", &g), DLC_OK);
    dlc_value *x = tb_value(g, "x", DLC_VALUE_INPUT, 3, (int64_t[]){N, H, W});
    dlc_value *sq = ph_op(g, "sq", "Mul", 2, (dlc_value *[]){x, x});
    int64_t axes = variant == MIDDLE_AXIS ? 1 : -1;
    dlc_value *y = reduce(g, "mean", "ReduceMean", 13, sq, 1, &axes, 1);
    if (variant == CHAIN_IS_OUTPUT) {
        tb_set_io(g, 1, &x, 2, (dlc_value *[]){y, sq});
    } else if (variant == CHAIN_READ_OUTSIDE) {
        dlc_value *z = ph_op(g, "softmax", "Softmax", 1, &sq); /* not elementwise */
        tb_set_io(g, 1, &x, 2, (dlc_value *[]){y, z});
    } else {
        tb_set_io(g, 1, &x, 1, &y);
    }
    return g;
}

static dlc_graph *plain_square_mean(void) {
    variant = PLAIN;
    return square_mean_graph();
}

Test(fuse_reduce, square_then_mean_is_one_node) {
    dlc_graph *g = ph_inferred(plain_square_mean);
    cr_assert_eq(g->num_nodes, 2);
    cr_assert(ph_run_pass(g, dlc_pass_fuse_elementwise));
    cr_assert_eq(g->num_nodes, 1);
    const dlc_node *n = g->nodes[0];
    cr_assert_str_eq(n->op_type, "ElementwiseChain");
    cr_assert_str_eq(n->name, "sq");
    cr_assert_eq(n->outputs[0], g->outputs[0]);
    char label[64];
    cr_assert_str_eq(dlc_node_label(n, label, sizeof label), "Mul+ReduceMean");
    cr_assert_eq(dlc_node_attr_int(n, "reduce_axes", 0), 1);
    cr_assert_eq(dlc_node_attr_int(n, "keepdims", 0), 1);
    cr_assert_eq(n->num_inputs, 1, "x read once");
    const dlc_shape *s = &n->outputs[0]->shape;
    cr_assert(s->rank == 3 && s->dims[0].value == N && s->dims[1].value == H && s->dims[2].value == 1);
    cr_assert_not(ph_run_pass(g, dlc_pass_fuse_elementwise), "a second run finds nothing");
    dlc_graph_free(g);
}

static dlc_graph *output_square_mean(void) {
    variant = CHAIN_IS_OUTPUT;
    return square_mean_graph();
}
static dlc_graph *outside_square_mean(void) {
    variant = CHAIN_READ_OUTSIDE;
    return square_mean_graph();
}
static dlc_graph *middle_square_mean(void) {
    variant = MIDDLE_AXIS;
    return square_mean_graph();
}

/* Runs the pass on build's graph and checks the Mul and the ReduceMean are
 * both still there; returns whether the pass changed anything. */
static bool run_expecting_both_kept(dlc_graph *(*build)(void)) {
    dlc_graph *g = ph_inferred(build);
    bool changed = ph_run_pass(g, dlc_pass_fuse_elementwise);
    cr_assert_eq(ph_count_ops(g, "Mul"), 1);
    cr_assert_eq(ph_count_ops(g, "ReduceMean"), 1);
    dlc_graph_free(g);
    return changed;
}

Test(fuse_reduce, not_fused_when_the_data_is_a_graph_output) { run_expecting_both_kept(output_square_mean); }

Test(fuse_reduce, not_fused_when_the_data_is_read_elsewhere) { run_expecting_both_kept(outside_square_mean); }

Test(fuse_reduce, not_fused_over_a_middle_axis) { cr_assert_not(run_expecting_both_kept(middle_square_mean)); }

/* softmax's denominator: ReduceSum(Exp(x - m), axes=[-1], keepdims=0), m an input [N,C,H,1] */
static dlc_graph *exp_sum_graph(void) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("exp_sum", &g), DLC_OK);
    dlc_value *x = tb_value(g, "x", DLC_VALUE_INPUT, 4, (int64_t[]){N, C, H, W});
    dlc_value *m = tb_value(g, "m", DLC_VALUE_INPUT, 4, (int64_t[]){N, C, H, 1});
    dlc_value *d = ph_op(g, "sub", "Sub", 2, (dlc_value *[]){x, m});
    dlc_value *e = ph_op(g, "exp", "Exp", 1, &d);
    dlc_value *y = reduce(g, "sum", "ReduceSum", 13, e, 1, (int64_t[]){-1}, 0);
    tb_set_io(g, 2, (dlc_value *[]){x, m}, 1, &y);
    return g;
}

/* squeeze-excite pooling: ReduceMean(Relu(x), axes=[2,3]) at opset 18 (axes an input) */
static dlc_graph *relu_pool_graph(void) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("relu_pool", &g), DLC_OK);
    dlc_value *x = tb_value(g, "x", DLC_VALUE_INPUT, 4, (int64_t[]){N, C, H, W});
    dlc_value *r = ph_op(g, "relu", "Relu", 1, &x);
    dlc_value *y = reduce(g, "pool", "ReduceMean", 18, r, 2, (int64_t[]){2, 3}, -1);
    tb_set_io(g, 1, &x, 1, &y);
    return g;
}

Test(fuse_reduce, exp_sum_and_relu_pool_fuse) {
    dlc_graph *g = ph_inferred(exp_sum_graph);
    cr_assert(ph_run_pass(g, dlc_pass_fuse_elementwise));
    cr_assert_eq(g->num_nodes, 1);
    cr_assert_str_eq(dlc_node_attr_string(g->nodes[0], "dlc_chain", "?"), "Sub+Exp+ReduceSum");
    cr_assert_eq(g->nodes[0]->num_inputs, 2);
    cr_assert_eq(g->nodes[0]->outputs[0]->shape.rank, 3, "keepdims 0");
    dlc_graph_free(g);

    g = ph_inferred(relu_pool_graph);
    cr_assert(ph_run_pass(g, dlc_pass_fuse_elementwise), "a single elementwise node fuses too");
    cr_assert_eq(g->num_nodes, 1);
    cr_assert_str_eq(dlc_node_attr_string(g->nodes[0], "dlc_chain", "?"), "Relu+ReduceMean");
    cr_assert_eq(dlc_node_attr_int(g->nodes[0], "reduce_axes", 0), 2);
    const dlc_shape *s = &g->nodes[0]->outputs[0]->shape;
    cr_assert(s->rank == 4 && s->dims[1].value == C && s->dims[2].value == 1 && s->dims[3].value == 1);
    dlc_graph_free(g);
}

/* ---- outputs against the unfused kernels ---- */

Test(fuse_reduce, exp_sum_and_relu_pool_outputs_unchanged) {
    ph_expect_same_outputs_threads(exp_sum_graph, 0.0, 1);
    ph_expect_same_outputs_threads(relu_pool_graph, 0.0, 1);
}

/* MSE-like: op((a - b) * s + c) over the last `axes` axes, c per channel
 * [C,1,1], s a scalar constant; the data [n, c, h, w]. */
static struct {
    const char *op;
    int64_t n, c, h, w;
    int32_t axes;
    int keepdims;
} rg;

static dlc_graph *reduce_graph(void) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("chain_reduce", &g), DLC_OK);
    dlc_value *a = tb_value(g, "a", DLC_VALUE_INPUT, 4, (int64_t[]){rg.n, rg.c, rg.h, rg.w});
    dlc_value *b = tb_value(g, "b", DLC_VALUE_INPUT, 4, (int64_t[]){rg.n, rg.c, rg.h, rg.w});
    dlc_value *c = tb_value(g, "c", DLC_VALUE_INPUT, 3, (int64_t[]){rg.c, 1, 1});
    dlc_value *d = ph_op(g, "sub", "Sub", 2, (dlc_value *[]){a, b});
    dlc_value *m = ph_op(g, "mul", "Mul", 2, (dlc_value *[]){d, ph_scalar(g, "s", 0.375f)});
    dlc_value *v = ph_op(g, "add", "Add", 2, (dlc_value *[]){m, c});
    if (strcmp(rg.op, "ReduceLogSum") == 0) v = ph_op(g, "abs", "Abs", 1, &v); /* log of positives */
    int64_t axes[4];
    for (int32_t k = 0; k < rg.axes; k++) axes[k] = 4 - rg.axes + k;
    dlc_value *y = reduce(g, "red", rg.op, 13, v, rg.axes, axes, rg.keepdims);
    tb_set_io(g, 3, (dlc_value *[]){a, b, c}, 1, &y);
    return g;
}

static const char *const reduce_ops[] = {"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin",
                                         "ReduceSumSquare", "ReduceL1", "ReduceL2", "ReduceLogSumExp",
                                         "ReduceLogSum", "ReduceProd"};

static void check_reduce(const char *op, int64_t n, int64_t c, int64_t h, int64_t w, int32_t axes, int keepdims,
                         int32_t threads) {
    rg.op = op, rg.n = n, rg.c = c, rg.h = h, rg.w = w, rg.axes = axes, rg.keepdims = keepdims;
    dlc_graph *g = ph_inferred(reduce_graph);
    dlc_pass_options opts = {.opt_level = 2, .verify_each = true};
    cr_assert_eq(dlc_run_passes(g, &opts), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(g->num_nodes, 1, "%s over %d axes: one node, not %d", op, axes, g->num_nodes);
    cr_assert_eq(dlc_node_attr_int(g->nodes[0], "reduce_axes", 0), axes);
    dlc_graph_free(g);
    ph_expect_same_outputs_threads(reduce_graph, 0.0, threads);
}

Test(fuse_reduce, every_reduction_odd_sizes_keepdims_both) {
    for (size_t k = 0; k < sizeof reduce_ops / sizeof reduce_ops[0]; k++)
        for (int keepdims = 0; keepdims <= 1; keepdims++)
            for (int32_t axes = 1; axes <= 4; axes += keepdims ? 1 : 2)
                check_reduce(reduce_ops[k], 2, 3, 5, 13, axes, keepdims, 1);
}

Test(fuse_reduce, runs_over_several_blocks) {
    /* 1100 and 3*1100 elements per output: blocks of 512 and a partial one */
    for (size_t k = 0; k < sizeof reduce_ops / sizeof reduce_ops[0]; k++) check_reduce(reduce_ops[k], 2, 3, 3, 1100, 2, 1, 1);
    check_reduce("ReduceSum", 1, 1, 3, 1100, 1, 0, 1);
}

Test(fuse_reduce, large_on_four_threads) {
    check_reduce("ReduceMean", 4, 64, 31, 97, 1, 1, 4);       /* 7936 outputs of 97 */
    check_reduce("ReduceSumSquare", 4, 64, 31, 97, 2, 0, 4);  /* 256 outputs of 3007 */
    check_reduce("ReduceLogSumExp", 2, 5, 130, 257, 2, 1, 4); /* 10 outputs of 33410 */
    /* fewer outputs than threads: each output's run split over them */
    check_reduce("ReduceMax", 1, 3, 701, 331, 4, 0, 4);       /* one output of 696093 */
    check_reduce("ReduceLogSumExp", 1, 2, 1201, 997, 4, 1, 4); /* one of 2394794: over 1024 blocks */
    check_reduce("ReduceL2", 1, 2, 3, 70001, 2, 0, 4);         /* two of 210003 */
}

/* ---- one artifact for every size ---- */

/* y = ReduceMean(x * x + 0.5, axes=[-1]), x [batch, 6, 9] */
static dlc_graph *dynamic_graph(void) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("dynamic_reduce", &g), DLC_OK);
    int32_t sym;
    cr_assert_eq(dlc_graph_symbol(g, "batch", &sym), DLC_OK);
    dlc_shape s = {.rank = 3, .dims = {{-1, sym}, {6, 0}, {9, 0}}};
    dlc_value *x;
    cr_assert_eq(dlc_graph_add_value(g, "x", DLC_VALUE_INPUT, DLC_FLOAT32, &s, &x), DLC_OK);
    dlc_value *m = ph_op(g, "mul", "Mul", 2, (dlc_value *[]){x, x});
    dlc_value *a = ph_op(g, "add", "Add", 2, (dlc_value *[]){m, ph_scalar(g, "half", 0.5f)});
    dlc_value *y = reduce(g, "mean", "ReduceMean", 13, a, 1, (int64_t[]){-1}, 0);
    tb_set_io(g, 1, &x, 1, &y);
    return g;
}

Test(fuse_reduce, one_artifact_for_every_size) {
    char dir[64], paths[2][256];
    tb_mkdtemp(dir, sizeof dir);
    char *ir = ph_compile_o0_o2(dynamic_graph, dir, paths);
    cr_assert(ir != NULL && strstr(ir, "Mul+Add+ReduceMean") != NULL, "-O2 IR:\n%s", ir ? ir : "");
    free(ir);
    for (int64_t batch = 1; batch <= 7; batch += 3) {
        dlc_tensor out;
        ph_expect_same_bits(paths, 3, (int64_t[]){batch, 6, 9}, batch * 6, &out);
        cr_assert(out.rank == 2 && out.dims[0] == batch && out.dims[1] == 6);
    }
    tb_rmdir(dir);
}
