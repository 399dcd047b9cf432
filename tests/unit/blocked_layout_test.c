/* blocked-layout (passes/blocked_layout.c): which convs and max pools read
 * and write NCHW16c, and that the kernels running them compute what the
 * plain NCHW kernels do at -O0: 3x3 and 1x1 windows, strides, padding (a
 * whole padded copy and slabs of rows), tiles across rows on narrow maps,
 * residuals, Relu in registers and other activations, max pools with pads,
 * ceil_mode and dilation, one and three threads. */
#include "pass_harness.h"

#include "ir/op_registry.h"
#include "kernels/conv.h"

/* Conv name of x (C channels): M output channels, k x k window, stride, pad; a bias when
 * seeded (bias_seed > 0); the weight's seed is the name's hash. */
static dlc_value *conv(dlc_graph *g, const char *name, dlc_value *x, int64_t C, int64_t M, int64_t k, int64_t stride,
                       int64_t pad, uint32_t bias_seed) {
    uint32_t seed = 7;
    for (const char *c = name; *c != '\0'; c++) seed = seed * 31 + (uint32_t)*c;
    char wname[64], bname[64];
    snprintf(wname, sizeof wname, "%s_w", name);
    snprintf(bname, sizeof bname, "%s_b", name);
    dlc_value *in[3] = {x, ph_weight(g, wname, 4, (int64_t[]){M, C, k, k}, seed), NULL};
    if (bias_seed > 0) in[2] = ph_weight(g, bname, 1, (int64_t[]){M}, bias_seed);
    dlc_value *y = ph_op(g, name, "Conv", bias_seed > 0 ? 3 : 2, in);
    ph_attr_ints(g, name, "strides", 2, (int64_t[]){stride, stride});
    ph_attr_ints(g, name, "pads", 4, (int64_t[]){pad, pad, pad, pad});
    ph_attr_ints(g, name, "kernel_shape", 2, (int64_t[]){k, k});
    return y;
}

static dlc_value *unary(dlc_graph *g, const char *name, const char *op, dlc_value *x) {
    return ph_op(g, name, op, 1, (dlc_value *[]){x});
}

static dlc_value *add(dlc_graph *g, const char *name, dlc_value *a, dlc_value *b) {
    return ph_op(g, name, "Add", 2, (dlc_value *[]){a, b});
}

/* A ResNet-style stem and bottleneck on two 20x18 images:
 *   c0 3x3 (3 -> 32 channels: reads NCHW) + Relu -> mp 3x3/2 pad 1 ->
 *   c1 1x1 + Relu -> c2 3x3 + Relu -> c3 1x1 + mp (residual) + Relu ->
 *   c4 1x1 stride 2 (a graph output: writes NCHW);
 *   c3 -> c5 3x3 stride 2 + Sigmoid (not inlined) -> mp2 2x2/2 ceil_mode
 *   (5x5 -> 3x3) -> c6 1x1 (writes NCHW) -> graph output;
 *   GlobalAveragePool of c3's output, GlobalMaxPool of c1's (16 channels:
 *   one block) read NCHW16c. */
static dlc_graph *build_bottleneck(void) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("blocked_bottleneck", &g), DLC_OK);
    dlc_value *x = tb_value(g, "x", DLC_VALUE_INPUT, 4, (int64_t[]){2, 3, 20, 18});
    dlc_value *r0 = unary(g, "relu0", "Relu", conv(g, "c0", x, 3, 32, 3, 1, 1, 1));
    dlc_value *mp = ph_op(g, "mp", "MaxPool", 1, (dlc_value *[]){r0});
    ph_attr_ints(g, "mp", "kernel_shape", 2, (int64_t[]){3, 3});
    ph_attr_ints(g, "mp", "strides", 2, (int64_t[]){2, 2});
    ph_attr_ints(g, "mp", "pads", 4, (int64_t[]){1, 1, 1, 1});
    dlc_value *r1 = unary(g, "relu1", "Relu", conv(g, "c1", mp, 32, 16, 1, 1, 0, 2));
    dlc_value *r2 = unary(g, "relu2", "Relu", conv(g, "c2", r1, 16, 16, 3, 1, 1, 0));
    dlc_value *r3 = unary(g, "relu3", "Relu", add(g, "add3", conv(g, "c3", r2, 16, 32, 1, 1, 0, 3), mp));
    dlc_value *y0 = conv(g, "c4", r3, 32, 48, 1, 2, 0, 0);
    dlc_value *s5 = unary(g, "sig5", "Sigmoid", conv(g, "c5", r3, 32, 32, 3, 2, 1, 4));
    dlc_value *mp2 = ph_op(g, "mp2", "MaxPool", 1, (dlc_value *[]){s5});
    ph_attr_ints(g, "mp2", "kernel_shape", 2, (int64_t[]){2, 2});
    ph_attr_ints(g, "mp2", "strides", 2, (int64_t[]){2, 2});
    dlc_attr ceil = {.name = "ceil_mode", .type = DLC_ATTR_INT, .i = 1};
    cr_assert_eq(dlc_node_add_attr(ph_node_named(g, "mp2"), &ceil), DLC_OK);
    dlc_value *y1 = conv(g, "c6", mp2, 32, 16, 1, 1, 0, 5);
    dlc_value *y2 = unary(g, "gap", "GlobalAveragePool", r3);
    dlc_value *y3 = unary(g, "gmp", "GlobalMaxPool", r1);
    tb_set_io(g, 1, (dlc_value *[]){x}, 4, (dlc_value *[]){y0, y1, y2, y3});
    return g;
}

/* Region edges on a 9x7 map of 16 channels:
 *   d0 3x3 + Relu, read by d1 (1x1) and by Neg (no NCHW16c reader): NCHW;
 *   d1 1x1 on an NCHW input: stays a GEMM;
 *   d2 3x3 -> d3 1x1 + d0 (an NCHW residual) + Relu: d3 reads d2's blocked
 *   output and writes NCHW;
 *   d4 3x3 dilation 2 + Clip -> mp4 3x3 stride 1 pad 1 dilation 2 ->
 *   d5 1x1 + Relu. */
static dlc_graph *build_edges(void) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("blocked_edges", &g), DLC_OK);
    dlc_value *x = tb_value(g, "x", DLC_VALUE_INPUT, 4, (int64_t[]){1, 16, 9, 7});
    dlc_value *r0 = unary(g, "relu0", "Relu", conv(g, "d0", x, 16, 32, 3, 1, 1, 1));
    dlc_value *y0 = conv(g, "d1", r0, 32, 32, 1, 1, 0, 2);
    dlc_value *y1 = unary(g, "neg", "Neg", r0);
    dlc_value *d2 = conv(g, "d2", x, 16, 32, 3, 1, 1, 0);
    dlc_value *y2 = unary(g, "relu3", "Relu", add(g, "add3", conv(g, "d3", d2, 32, 32, 1, 1, 0, 3), r0));
    dlc_value *d4 = conv(g, "d4", x, 16, 32, 3, 1, 2, 4);
    ph_attr_ints(g, "d4", "dilations", 2, (int64_t[]){2, 2});
    dlc_value *clip_min = ph_scalar(g, "lo", -0.5f), *clip_max = ph_scalar(g, "hi", 0.75f);
    dlc_value *c4 = ph_op(g, "clip4", "Clip", 3, (dlc_value *[]){d4, clip_min, clip_max});
    dlc_value *mp4 = ph_op(g, "mp4", "MaxPool", 1, (dlc_value *[]){c4});
    ph_attr_ints(g, "mp4", "kernel_shape", 2, (int64_t[]){3, 3});
    ph_attr_ints(g, "mp4", "pads", 4, (int64_t[]){1, 1, 1, 1});
    ph_attr_ints(g, "mp4", "dilations", 2, (int64_t[]){2, 2});
    dlc_value *y3 = unary(g, "relu5", "Relu", conv(g, "d5", mp4, 32, 16, 1, 1, 0, 5));
    tb_set_io(g, 1, (dlc_value *[]){x}, 4, (dlc_value *[]){y0, y1, y2, y3});
    return g;
}

/* The direct loop's other input paths, each reading NCHW16c:
 *   two 50x20 images: e1 pads slabs of rows (3x3 with a residual), e2 a
 *   stride-2 3x3;
 *   a 96x96 map of 64 channels (2.25 MiB): f1 3x3 stride 2 takes slabs for
 *   its large input;
 *   a 5x3 map: tiles across rows (g1 3x3, g2 1x1 to 48 channels: blocks of
 *   16). */
static dlc_graph *build_paths(void) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("blocked_paths", &g), DLC_OK);
    dlc_value *xe = tb_value(g, "xe", DLC_VALUE_INPUT, 4, (int64_t[]){2, 16, 50, 20});
    dlc_value *xf = tb_value(g, "xf", DLC_VALUE_INPUT, 4, (int64_t[]){1, 16, 96, 96});
    dlc_value *xg = tb_value(g, "xg", DLC_VALUE_INPUT, 4, (int64_t[]){1, 16, 5, 3});
    dlc_value *e0 = unary(g, "relu_e0", "Relu", conv(g, "e0", xe, 16, 32, 3, 1, 1, 1));
    dlc_value *e1 = unary(g, "relu_e1", "Relu", add(g, "add_e1", conv(g, "e1", e0, 32, 32, 3, 1, 1, 2), e0));
    dlc_value *ye = conv(g, "e2", e1, 32, 32, 3, 2, 1, 3);
    dlc_value *f0 = unary(g, "relu_f0", "Relu", conv(g, "f0", xf, 16, 64, 3, 1, 1, 4));
    dlc_value *yf = conv(g, "f1", f0, 64, 32, 3, 2, 1, 5);
    dlc_value *g0 = unary(g, "relu_g0", "Relu", conv(g, "g0", xg, 16, 32, 3, 1, 1, 6));
    dlc_value *g1 = unary(g, "relu_g1", "Relu", conv(g, "g1", g0, 32, 32, 3, 1, 1, 0));
    dlc_value *yg = conv(g, "g2", g1, 32, 48, 1, 1, 0, 7);
    tb_set_io(g, 3, (dlc_value *[]){xe, xf, xg}, 3, (dlc_value *[]){ye, yf, yg});
    return g;
}

static dlc_graph *optimized(ph_builder build, int opt_level) {
    dlc_graph *g = ph_inferred(build);
    dlc_pass_options opts = {.opt_level = opt_level, .verify_each = true};
    cr_assert_eq(dlc_run_passes(g, &opts), DLC_OK, "%s", dlc_last_error());
    return g;
}

static int64_t flags_of(const dlc_graph *g, const char *name) {
    const dlc_node *node = ph_node_named(g, name);
    cr_assert(node != NULL, "no node %s", name);
    return dlc_node_attr_int(node, DLC_ATTR_BLOCKED, 0);
}

static int64_t weight_layout(const dlc_graph *g, const char *name) {
    int32_t n;
    const int64_t *lw = dlc_node_attr_ints(ph_node_named(g, name), DLC_ATTR_PACKED_W, &n);
    return lw == NULL ? DLC_CONV_W_PLAIN : lw[0];
}

enum { X = DLC_CONV_BLOCKED_X, Y = DLC_CONV_BLOCKED_Y };

typedef struct expect {
    const char *node;
    int64_t flags;
} expect;

static void check_flags(ph_builder build, const expect *e, int count) {
    for (int level = 0; level <= 1; level++) {
        dlc_graph *g = optimized(build, level);
        for (int i = 0; i < count; i++) cr_assert_eq(flags_of(g, e[i].node), 0, "%s at -O%d", e[i].node, level);
        dlc_graph_free(g);
    }
    dlc_graph *g = optimized(build, 2);
    for (int i = 0; i < count; i++) {
        cr_assert_eq(flags_of(g, e[i].node), e[i].flags, "%s", e[i].node);
        /* every conv touching NCHW16c runs the direct loop */
        if (e[i].flags != 0 && strcmp(ph_node_named(g, e[i].node)->op_type, "Conv") == 0)
            cr_assert_eq(weight_layout(g, e[i].node), DLC_CONV_W_DIRECT, "%s", e[i].node);
    }
    dlc_graph_free(g);
}

Test(blocked_layout, bottleneck_regions) {
    static const expect e[] = {{"c0", Y},     {"mp", X | Y}, {"c1", X | Y}, {"c2", X | Y}, {"c3", X | Y},
                               {"c4", X},     {"c5", X | Y}, {"mp2", X | Y}, {"c6", X}, {"gap", X}, {"gmp", X}};
    check_flags(build_bottleneck, e, sizeof e / sizeof e[0]);
}

Test(blocked_layout, region_edges) {
    /* d0's output has a Neg reader: NCHW; d1 reads NCHW with a 1x1 window:
     * the GEMM, no packing for the direct loop; d3's residual is NCHW, so
     * d3 writes NCHW; mp4 and d5 follow d4 */
    static const expect e[] = {{"d0", 0}, {"d1", 0}, {"d2", Y}, {"d3", X}, {"d4", Y}, {"mp4", X | Y}, {"d5", X}};
    check_flags(build_edges, e, sizeof e / sizeof e[0]);
    dlc_graph *g = optimized(build_edges, 2);
    cr_assert_neq(weight_layout(g, "d1"), DLC_CONV_W_DIRECT);
    dlc_graph_free(g);
}

Test(blocked_layout, input_paths_regions) {
    static const expect e[] = {{"e0", Y}, {"e1", X | Y}, {"e2", X},     {"f0", Y},
                               {"f1", X}, {"g0", Y},     {"g1", X | Y}, {"g2", X}};
    check_flags(build_paths, e, sizeof e / sizeof e[0]);
}

Test(blocked_layout, bottleneck_o2_equals_o0) { ph_expect_same_outputs(build_bottleneck, 1e-5); }
Test(blocked_layout, bottleneck_o2_equals_o0_three_threads) {
    ph_expect_same_outputs_threads(build_bottleneck, 1e-5, 3);
}
Test(blocked_layout, edges_o2_equals_o0) { ph_expect_same_outputs(build_edges, 1e-5); }
Test(blocked_layout, edges_o2_equals_o0_three_threads) { ph_expect_same_outputs_threads(build_edges, 1e-5, 3); }
Test(blocked_layout, paths_o2_equals_o0) { ph_expect_same_outputs(build_paths, 1e-5); }
Test(blocked_layout, paths_o2_equals_o0_three_threads) { ph_expect_same_outputs_threads(build_paths, 1e-5, 3); }

/* A subgraph may read any value of the graph without being listed as a
 * reader: such graphs are left as they are. */
Test(blocked_layout, graphs_with_subgraphs_unchanged) {
    dlc_graph *g = ph_inferred(build_bottleneck);
    dlc_graph *body;
    cr_assert_eq(dlc_graph_create("body", &body), DLC_OK);
    dlc_node *node = ph_node_named(g, "relu1");
    /* ownership of a graph attribute, name included, moves to the node */
    dlc_attr attr = {.name = dlc_string_copy("unused_body"), .type = DLC_ATTR_GRAPH, .graph = body};
    cr_assert_eq(dlc_node_add_attr(node, &attr), DLC_OK);
    bool changed = true;
    cr_assert_eq(dlc_pass_blocked_layout(g, &changed), DLC_OK);
    cr_assert(!changed);
    cr_assert_eq(flags_of(g, "c1"), 0);
    dlc_graph_free(g);
}
