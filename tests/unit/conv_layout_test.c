/* Conv weight layouts (kernels/conv.h, chosen by passes/prepack_weights.c):
 * direct for 2-D and 1-D windows, pixel-major for 1x1 convs on small
 * feature maps, plain otherwise; at -O2 the chosen convs carry their packed
 * weight, and their outputs (bias, fused residual and Relu, stride,
 * dilation, padding, two images, 1-D, partial tiles) equal the -O0 ones
 * (plain, channel-major GEMM) on one thread and on three. */
#include "pass_harness.h"

#include "ir/op_registry.h"
#include "kernels/conv.h"
#include "kernels/gemm.h"

enum { C = 64 };

static dlc_value *conv(dlc_graph *g, const char *name, int32_t n_in, dlc_value **in, int64_t stride, int64_t pad,
                       int32_t spatial) {
    dlc_value *y = ph_op(g, name, "Conv", n_in, in);
    int64_t strides[2] = {stride, stride}, pads[4] = {pad, pad, pad, pad};
    ph_attr_ints(g, name, "strides", spatial, strides);
    ph_attr_ints(g, name, "pads", 2 * spatial, pads);
    return y;
}

/* Two 6x6 images through a 3x3 conv + bias + Relu (direct), then two 1x1
 * stride-2 convs (pixel-major), one with a bias, added, then Relu (fused
 * into one of them); a 1-D conv over 5 positions; two 9x11 images (a
 * partial tile of 3 pixels); on 11x11 outputs a stride-2 dilation-2 3x3
 * conv and a 7x7 stride-2 conv of 3 input channels added, then Relu; and
 * maps narrower than a tile, whose tiles span output rows: 5x3 (tiles of
 * two rows and one of one row) and 4x4 at stride 2; and two 50x20 images
 * whose conv pads its input a slab of rows at a time, with a residual
 * added, then Relu (9 slabs of rows, the last partial); and a 1x1 conv of
 * 1024 channels to 64 on a 7x7 map (pixel-major, its weights packed in two K
 * slices of 512, its 49 pixels in 7-row tiles) with a bias and Relu. */
static dlc_graph *build_convs(void) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("conv_layouts", &g), DLC_OK);
    dlc_value *x = tb_value(g, "x", DLC_VALUE_INPUT, 4, (int64_t[]){2, C, 6, 6});
    dlc_value *x1 = tb_value(g, "x1", DLC_VALUE_INPUT, 3, (int64_t[]){1, 32, 5});
    dlc_value *x2 = tb_value(g, "x2", DLC_VALUE_INPUT, 4, (int64_t[]){2, 8, 9, 11});
    dlc_value *x3 = tb_value(g, "x3", DLC_VALUE_INPUT, 4, (int64_t[]){1, 3, 21, 21});
    dlc_value *x4 = tb_value(g, "x4", DLC_VALUE_INPUT, 4, (int64_t[]){1, 16, 5, 3});
    dlc_value *x5 = tb_value(g, "x5", DLC_VALUE_INPUT, 4, (int64_t[]){1, 16, 8, 7});
    dlc_value *x6 = tb_value(g, "x6", DLC_VALUE_INPUT, 4, (int64_t[]){2, 16, 50, 20});
    dlc_value *x7 = tb_value(g, "x7", DLC_VALUE_INPUT, 4, (int64_t[]){2, 32, 50, 20});
    dlc_value *x8 = tb_value(g, "x8", DLC_VALUE_INPUT, 4, (int64_t[]){1, 1024, 7, 7});
    dlc_value *w1 = ph_weight(g, "w1", 4, (int64_t[]){C, C, 3, 3}, 1), *b1 = ph_weight(g, "b1", 1, (int64_t[]){C}, 2);
    dlc_value *w2 = ph_weight(g, "w2", 4, (int64_t[]){C, C, 1, 1}, 3);
    dlc_value *w3 = ph_weight(g, "w3", 4, (int64_t[]){C, C, 1, 1}, 4), *b3 = ph_weight(g, "b3", 1, (int64_t[]){C}, 5);
    dlc_value *w4 = ph_weight(g, "w4", 3, (int64_t[]){32, 32, 3}, 6);
    dlc_value *w5 = ph_weight(g, "w5", 4, (int64_t[]){32, 8, 3, 3}, 7), *b5 = ph_weight(g, "b5", 1, (int64_t[]){32}, 8);
    dlc_value *w6 = ph_weight(g, "w6", 4, (int64_t[]){C, 3, 3, 3}, 9), *w7 = ph_weight(g, "w7", 4, (int64_t[]){C, 3, 7, 7}, 10);
    dlc_value *r1 = ph_op(g, "relu1", "Relu", 1, (dlc_value *[]){conv(g, "c1", 3, (dlc_value *[]){x, w1, b1}, 1, 1, 2)});
    dlc_value *c2 = conv(g, "c2", 2, (dlc_value *[]){r1, w2}, 2, 0, 2);
    dlc_value *c3 = conv(g, "c3", 3, (dlc_value *[]){r1, w3, b3}, 2, 0, 2);
    dlc_value *y = ph_op(g, "relu3", "Relu", 1, (dlc_value *[]){ph_op(g, "add", "Add", 2, (dlc_value *[]){c3, c2})});
    dlc_value *y1 = conv(g, "c4", 2, (dlc_value *[]){x1, w4}, 1, 1, 1);
    dlc_value *y2 = conv(g, "c5", 3, (dlc_value *[]){x2, w5, b5}, 1, 1, 2);
    dlc_value *c6 = conv(g, "c6", 2, (dlc_value *[]){x3, w6}, 2, 2, 2);
    ph_attr_ints(g, "c6", "dilations", 2, (int64_t[]){2, 2});
    dlc_value *c7 = conv(g, "c7", 2, (dlc_value *[]){x3, w7}, 2, 3, 2);
    dlc_value *y3 = ph_op(g, "relu6", "Relu", 1, (dlc_value *[]){ph_op(g, "add6", "Add", 2, (dlc_value *[]){c6, c7})});
    dlc_value *w8 = ph_weight(g, "w8", 4, (int64_t[]){32, 16, 3, 3}, 12), *b8 = ph_weight(g, "b8", 1, (int64_t[]){32}, 13);
    dlc_value *w9 = ph_weight(g, "w9", 4, (int64_t[]){32, 16, 3, 3}, 14);
    dlc_value *y4 = ph_op(g, "relu8", "Relu", 1, (dlc_value *[]){conv(g, "c8", 3, (dlc_value *[]){x4, w8, b8}, 1, 1, 2)});
    dlc_value *y5 = conv(g, "c9", 2, (dlc_value *[]){x5, w9}, 2, 1, 2);
    dlc_value *w10 = ph_weight(g, "w10", 4, (int64_t[]){32, 16, 3, 3}, 15), *b10 = ph_weight(g, "b10", 1, (int64_t[]){32}, 16);
    dlc_value *c10 = conv(g, "c10", 3, (dlc_value *[]){x6, w10, b10}, 1, 1, 2);
    dlc_value *y6 = ph_op(g, "relu10", "Relu", 1, (dlc_value *[]){ph_op(g, "add10", "Add", 2, (dlc_value *[]){c10, x7})});
    dlc_value *w11 = ph_weight(g, "w11", 4, (int64_t[]){64, 1024, 1, 1}, 17);
    dlc_value *b11 = ph_weight(g, "b11", 1, (int64_t[]){64}, 18);
    dlc_value *c11 = conv(g, "c11", 3, (dlc_value *[]){x8, w11, b11}, 1, 0, 2);
    dlc_value *y7 = ph_op(g, "relu11", "Relu", 1, (dlc_value *[]){c11});
    tb_set_io(g, 9, (dlc_value *[]){x, x1, x2, x3, x4, x5, x6, x7, x8}, 8,
              (dlc_value *[]){y, y1, y2, y3, y4, y5, y6, y7});
    return g;
}

Test(conv_layout, chosen_by_shape) {
    int64_t nr;
    dlc_conv_shape r50_layer4 = {.M = 512, .K = 512 * 9, .group = 1, .pixels = 49, .kernel_volume = 9, .spatial_rank = 2};
    cr_assert_eq(dlc_conv_choose_layout(&r50_layer4, &nr), DLC_CONV_W_DIRECT, "a 3x3 window on a 7x7 map");
    cr_assert_eq(nr, 32);
    dlc_conv_shape r50_reduce = {.M = 256, .K = 1024, .group = 1, .pixels = 196, .kernel_volume = 1, .spatial_rank = 2};
    cr_assert_eq(dlc_conv_choose_layout(&r50_reduce, &nr), DLC_CONV_W_PIXEL_MAJOR, "K = 1024 weight rows alias in L1");
    cr_assert_eq(nr, 32);
    dlc_conv_shape r50_layer4_1x1 = {.M = 2048, .K = 512, .group = 1, .pixels = 49, .kernel_volume = 1, .spatial_rank = 2};
    cr_assert_eq(dlc_conv_choose_layout(&r50_layer4_1x1, &nr), DLC_CONV_W_PIXEL_MAJOR,
                 "49 pixels pad to 54 rows, not 64 columns");
    dlc_conv_shape r50_layer1 = {.M = 64, .K = 64 * 9, .group = 1, .pixels = 56 * 56, .kernel_volume = 9,
                                 .spatial_rank = 2};
    cr_assert_eq(dlc_conv_choose_layout(&r50_layer1, &nr), DLC_CONV_W_DIRECT, "a 3x3 window over 56-pixel rows");
    cr_assert_eq(nr, 32);
    dlc_conv_shape expand = {.M = 256, .K = 64, .group = 1, .pixels = 56 * 56, .kernel_volume = 1, .spatial_rank = 2};
    cr_assert_eq(dlc_conv_choose_layout(&expand, &nr), DLC_CONV_W_PLAIN, "a 1x1 conv is a plain GEMM");
    dlc_conv_shape narrow = r50_layer1;
    narrow.M = 48;
    cr_assert_eq(dlc_conv_choose_layout(&narrow, &nr), DLC_CONV_W_DIRECT, "48 channels: three blocks of 16");
    cr_assert_eq(nr, 16);
    dlc_conv_shape odd = {.M = 24, .K = 24 * 9, .group = 1, .pixels = 49, .kernel_volume = 9, .spatial_rank = 2};
    cr_assert_eq(dlc_conv_choose_layout(&odd, &nr), DLC_CONV_W_PLAIN, "24 channels are no whole panels or blocks");
    dlc_conv_shape grouped = r50_layer1;
    grouped.group = 2;
    cr_assert_eq(dlc_conv_choose_layout(&grouped, &nr), DLC_CONV_W_PLAIN);
    dlc_conv_shape volume = r50_layer1;
    volume.spatial_rank = 3;
    cr_assert_eq(dlc_conv_choose_layout(&volume, &nr), DLC_CONV_W_PLAIN, "3-D convs stay GEMMs");
}

/* The layout the pass gave node name (DLC_CONV_W_PLAIN: none). */
static int64_t layout_of(const dlc_graph *g, const char *name) {
    for (int32_t i = 0; i < g->num_nodes; i++) {
        const dlc_node *node = g->nodes[i];
        if (strcmp(node->name, name) != 0) continue;
        int32_t count;
        const int64_t *lw = dlc_node_attr_ints(node, DLC_ATTR_PACKED_W, &count);
        if (lw == NULL) return DLC_CONV_W_PLAIN;
        cr_assert_eq(count, 2);
        cr_assert(lw[1] == 16 || lw[1] == 32);
        cr_assert_eq(node->inputs[1]->kind, DLC_VALUE_CONST);
        cr_assert_eq(node->inputs[1]->shape.dims[0].value % lw[1], 0);
        return lw[0];
    }
    cr_assert_fail("no node %s", name);
    return -1;
}

static dlc_graph *optimized(int opt_level) {
    dlc_graph *g = ph_inferred(build_convs);
    dlc_pass_options opts = {.opt_level = opt_level, .verify_each = true};
    cr_assert_eq(dlc_run_passes(g, &opts), DLC_OK, "%s", dlc_last_error());
    return g;
}

Test(conv_layout, packed_at_o2_not_at_o0) {
    static const char *const names[] = {"c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9", "c10", "c11"};
    /* c2 and c3 read c1's output in NCHW16c (blocked-layout), so their 1x1
     * windows run the direct loop too */
    static const int64_t expected[] = {DLC_CONV_W_DIRECT, DLC_CONV_W_DIRECT,      DLC_CONV_W_DIRECT,
                                       DLC_CONV_W_DIRECT, DLC_CONV_W_DIRECT,      DLC_CONV_W_DIRECT,
                                       DLC_CONV_W_DIRECT, DLC_CONV_W_DIRECT,      DLC_CONV_W_DIRECT,
                                       DLC_CONV_W_DIRECT, DLC_CONV_W_PIXEL_MAJOR};
    enum { CONVS = sizeof names / sizeof names[0] };
    dlc_graph *g0 = optimized(0);
    for (int i = 0; i < CONVS; i++) cr_assert_eq(layout_of(g0, names[i]), DLC_CONV_W_PLAIN, "%s at -O0", names[i]);
    dlc_graph_free(g0);
    dlc_graph *g = optimized(2);
    for (int i = 0; i < CONVS; i++) cr_assert_eq(layout_of(g, names[i]), expected[i], "%s", names[i]);
    /* the plain weights are gone: nothing else reads them */
    cr_assert_null(dlc_graph_find_value(g, "w1"));
    cr_assert_null(dlc_graph_find_value(g, "w5"));
    dlc_graph_free(g);
}

Test(conv_layout, o2_outputs_equal_o0) { ph_expect_same_outputs(build_convs, 1e-5); }

Test(conv_layout, o2_outputs_equal_o0_on_three_threads) { ph_expect_same_outputs_threads(build_convs, 1e-5, 3); }

/* W^T in panels, as dlc_sgemm_pack_b lays out B (one K slice here). */
Test(conv_layout, pixel_major_weight_is_the_transpose_in_panels) {
    enum { M = 32, K = 200 };
    float *w = malloc(M * K * sizeof *w), *packed = malloc(M * K * sizeof *packed);
    cr_assert(w != NULL && packed != NULL);
    ph_fill(w, M * K, 9);
    dlc_conv_pack_weights(DLC_CONV_W_PIXEL_MAJOR, M, K, w, 32, packed);
    cr_assert_eq(dlc_sgemm_packed_b_floats(K, M, 32), M * K);
    for (int64_t k = 0; k < K; k++)
        for (int64_t m = 0; m < M; m++)
            cr_assert_eq(packed[k * 32 + m], w[m * K + k], "k %lld m %lld", (long long)k, (long long)m);
    free(w);
    free(packed);
}

Test(conv_layout, direct_weight_is_blocked_by_32_channels) {
    enum { M = 64, K = 27 };
    float w[M * K], packed[M * K];
    ph_fill(w, M * K, 11);
    dlc_conv_pack_weights(DLC_CONV_W_DIRECT, M, K, w, 32, packed);
    for (int64_t m = 0; m < M; m++)
        for (int64_t k = 0; k < K; k++)
            cr_assert_eq(packed[(m / 32 * K + k) * 32 + m % 32], w[m * K + k], "m %lld k %lld", (long long)m,
                         (long long)k);
}
