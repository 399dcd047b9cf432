/* Pixel-major convolution (kernels/conv.h, chosen by passes/prepack_weights.c):
 * the cost model picks it for small feature maps and not for large ones;
 * at -O2 the chosen convs carry the packed, transposed weight; and their
 * outputs (bias, fused residual and Relu, stride, padding, two images, 1-D)
 * equal the channel-major -O0 ones, on one thread and on three. */
#include "pass_harness.h"

#include "ir/op_registry.h"
#include "kernels/conv.h"
#include "kernels/gemm.h"

enum { C = 64 };

static dlc_value *weight(dlc_graph *g, const char *name, int32_t rank, const int64_t *dims, uint32_t seed) {
    int64_t n = 1;
    for (int32_t d = 0; d < rank; d++) n *= dims[d];
    float *w = malloc((size_t)n * sizeof *w);
    cr_assert(w != NULL);
    ph_fill(w, n, seed);
    for (int64_t i = 0; i < n; i++) w[i] *= 0.05f;
    dlc_value *v = tb_const(g, name, rank, dims, w);
    free(w);
    return v;
}

static dlc_value *conv(dlc_graph *g, const char *name, int32_t n_in, dlc_value **in, int64_t stride, int64_t pad,
                       int32_t spatial) {
    dlc_value *y = ph_op(g, name, "Conv", n_in, in);
    int64_t strides[2] = {stride, stride}, pads[4] = {pad, pad, pad, pad};
    ph_attr_ints(g, name, "strides", spatial, strides);
    ph_attr_ints(g, name, "pads", 2 * spatial, pads);
    return y;
}

/* Two 6x6 images: 3x3 conv + bias + Relu; a 1x1 stride-2 conv; a 3x3
 * stride-2 conv whose residual Add and Relu fuse into it; and a 1-D conv
 * over 5 positions. */
static dlc_graph *build_small_maps(void) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("pixel_major", &g), DLC_OK);
    dlc_value *x = tb_value(g, "x", DLC_VALUE_INPUT, 4, (int64_t[]){2, C, 6, 6});
    dlc_value *x1 = tb_value(g, "x1", DLC_VALUE_INPUT, 3, (int64_t[]){1, 32, 5});
    dlc_value *w1 = weight(g, "w1", 4, (int64_t[]){C, C, 3, 3}, 1), *b1 = weight(g, "b1", 1, (int64_t[]){C}, 2);
    dlc_value *w2 = weight(g, "w2", 4, (int64_t[]){C, C, 1, 1}, 3);
    dlc_value *w3 = weight(g, "w3", 4, (int64_t[]){C, C, 3, 3}, 4), *b3 = weight(g, "b3", 1, (int64_t[]){C}, 5);
    dlc_value *w4 = weight(g, "w4", 3, (int64_t[]){32, 32, 3}, 6);
    dlc_value *r1 = ph_op(g, "relu1", "Relu", 1, (dlc_value *[]){conv(g, "c1", 3, (dlc_value *[]){x, w1, b1}, 1, 1, 2)});
    dlc_value *c2 = conv(g, "c2", 2, (dlc_value *[]){r1, w2}, 2, 0, 2);
    dlc_value *c3 = conv(g, "c3", 3, (dlc_value *[]){r1, w3, b3}, 2, 1, 2);
    dlc_value *y = ph_op(g, "relu3", "Relu", 1, (dlc_value *[]){ph_op(g, "add", "Add", 2, (dlc_value *[]){c3, c2})});
    dlc_value *y1 = conv(g, "c4", 2, (dlc_value *[]){x1, w4}, 1, 1, 1);
    tb_set_io(g, 2, (dlc_value *[]){x, x1}, 2, (dlc_value *[]){y, y1});
    return g;
}

Test(conv_pixel_major, chosen_for_small_maps_only) {
    cr_assert_eq(dlc_conv_pixel_major_nr(512, 7 * 7, 512 * 9), 32, "ResNet-50 layer 4: 49 pixels pad to 54 rows, not 64 columns");
    cr_assert_eq(dlc_conv_pixel_major_nr(256, 14 * 14, 1024), 32, "K = 1024: weight rows would alias in L1");
    cr_assert_eq(dlc_conv_pixel_major_nr(64, 56 * 56, 64 * 9), 0, "ResNet-50 layer 1 stays channel-major");
    cr_assert_eq(dlc_conv_pixel_major_nr(256, 14 * 14, 256), 0, "a 1x1 expansion: the transpose does not pay");
    cr_assert_eq(dlc_conv_pixel_major_nr(24, 7 * 7, 24 * 9), 0, "24 channels are no whole panels");
}

static int count_pixel_major(const dlc_graph *g) {
    int n = 0;
    for (int32_t i = 0; i < g->num_nodes; i++) {
        const dlc_node *node = g->nodes[i];
        int32_t count;
        const int64_t *nr = dlc_node_attr_ints(node, DLC_ATTR_PACKED_W, &count);
        if (nr == NULL) continue;
        cr_assert_eq(count, 1);
        cr_assert(nr[0] == 16 || nr[0] == 32);
        cr_assert_eq(node->inputs[1]->kind, DLC_VALUE_CONST);
        cr_assert_eq(node->inputs[1]->shape.dims[0].value % nr[0], 0);
        n++;
    }
    return n;
}

static dlc_graph *optimized(int opt_level) {
    dlc_graph *g = ph_inferred(build_small_maps);
    dlc_pass_options opts = {.opt_level = opt_level, .verify_each = true};
    cr_assert_eq(dlc_run_passes(g, &opts), DLC_OK, "%s", dlc_last_error());
    return g;
}

Test(conv_pixel_major, packed_at_o2_not_at_o0) {
    dlc_graph *g0 = optimized(0);
    cr_assert_eq(count_pixel_major(g0), 0);
    dlc_graph_free(g0);
    dlc_graph *g = optimized(2);
    cr_assert_eq(count_pixel_major(g), 4, "all four convs have small maps");
    /* the plain weights are gone: nothing else reads them */
    cr_assert_null(dlc_graph_find_value(g, "w1"));
    cr_assert_null(dlc_graph_find_value(g, "w4"));
    dlc_graph_free(g);
}

Test(conv_pixel_major, o2_outputs_equal_o0) { ph_expect_same_outputs(build_small_maps, 1e-5); }

Test(conv_pixel_major, o2_outputs_equal_o0_on_three_threads) {
    ph_expect_same_outputs_threads(build_small_maps, 1e-5, 3);
}

/* The weight layout itself: W^T in panels, as dlc_sgemm_pack_b lays out B. */
Test(conv_pixel_major, packed_weight_is_the_transpose_in_panels) {
    enum { M = 32, K = 200 }; /* one K slice */
    float *w = malloc(M * K * sizeof *w), *packed = malloc(M * K * sizeof *packed);
    cr_assert(w != NULL && packed != NULL);
    ph_fill(w, M * K, 9);
    dlc_conv_pack_weights(M, K, w, 32, packed);
    cr_assert_eq(dlc_sgemm_packed_b_floats(K, M, 32), M * K);
    for (int64_t k = 0; k < K; k++)
        for (int64_t m = 0; m < M; m++)
            cr_assert_eq(packed[k * 32 + m], w[m * K + k], "k %lld m %lld", (long long)k, (long long)m);
    free(w);
    free(packed);
}
