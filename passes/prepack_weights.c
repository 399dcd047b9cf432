/* prepack-weights: a float32 MatMul/Gemm whose B is a constant matrix (a
 * weight: MatMul(activation, W), Gemm with transB=1) gets B pre-packed, once
 * at compile time, into the nr-wide panels the GEMM micro-kernel reads
 * (kernels/gemm.h). Every run used to repack the whole weight: BERT-base's
 * ff1 copied 9.4 MB per call.
 *
 * The node's input 1 becomes a new rank-1 constant holding the panels and
 * attribute DLC_ATTR_PACKED_B = [K, N, nr] says so (ir/ops/linalg.c infers
 * and lowers from it; the kernel, natively too, so constant folding still
 * evaluates such a node). The plain weight stays only while something else
 * reads it (a tied embedding), which then keeps both layouts.
 *
 * The panel width follows the tile the GEMM would pick for the product's
 * rows; when sizes vary (one artifact for every sequence length, and
 * M == 1 decode steps too) it depends on N alone, so that every sample of
 * the pipeline packs the same bytes and the products use the tiles of that
 * width whatever M is.
 *
 * A Conv on a small feature map gets its weight transposed and packed for
 * the pixel-major product instead (kernels/conv.h), when the GEMM's tile
 * padding says that is cheaper: ResNet-50's 14x14 and 7x7 stages. */
#include <stdlib.h>
#include <string.h>

#include "ir/op_registry.h"
#include "kernels/conv.h"
#include "kernels/gemm.h"
#include "passes/pipeline.h"
#include "runtime/status.h"

static bool is_op(const dlc_node *node, const char *op) {
    return node->domain[0] == '\0' && strcmp(node->op_type, op) == 0;
}

/* Whether B (rank 2) is read transposed: Gemm's transB, MatMul's perm [1, 0]. */
static bool b_transposed(const dlc_node *node, bool gemm) {
    if (gemm) return dlc_node_attr_int(node, "transB", 0) != 0;
    int32_t n;
    const int64_t *perm = dlc_node_attr_ints(node, "dlc_perm_b", &n);
    return perm != NULL && n == 2 && perm[0] == 1;
}

static dlc_status prepack_node(dlc_graph *g, dlc_node *node, bool rows_known, bool *changed) {
    bool gemm = is_op(node, "Gemm"), matmul = is_op(node, "MatMul");
    if ((!gemm && !matmul) || node->num_inputs < 2 || node->num_outputs != 1) return DLC_OK;
    if (dlc_node_attr(node, DLC_ATTR_PACKED_B) != NULL) return DLC_OK;
    dlc_value *b = node->inputs[1], *y = node->outputs[0];
    if (b == NULL || y == NULL || b->kind != DLC_VALUE_CONST || b->data == NULL || b->dtype != DLC_FLOAT32 ||
        y->dtype != DLC_FLOAT32 || node->inputs[0] == NULL || node->inputs[0]->dtype != DLC_FLOAT32)
        return DLC_OK;
    /* a matrix; a batched B (rank > 2) varies per batch, a vector is no panel */
    if (b->shape.rank != 2 || !dlc_shape_is_static(&b->shape)) return DLC_OK;
    int64_t rows = b->shape.dims[0].value, cols = b->shape.dims[1].value;
    bool trans = b_transposed(node, gemm);
    int64_t K = trans ? cols : rows, N = trans ? rows : cols;
    /* N == 1 is a matrix-vector product reading B as the vector */
    if (K < 1 || N < 2) return DLC_OK;
    int64_t M = -1;
    int64_t y_numel = dlc_value_numel(y);
    if (rows_known && y_numel > 0) M = y_numel / N; /* a batched MatMul on a shared B is one tall product */
    int64_t nr = dlc_sgemm_pack_nr(M, N);
    int64_t floats = dlc_sgemm_packed_b_floats(K, N, nr);
    float *packed = malloc((size_t)floats * sizeof *packed);
    if (packed == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "prepack-weights: out of memory");
    dlc_gemm_operand plain = {b->data, trans ? 1 : cols, trans ? cols : 1, NULL, 0, 0};
    dlc_sgemm_pack_b(K, N, &plain, nr, dlc_sgemm_deep_kc(K), packed); /* the MatMul/Gemm kernels read it so */

    char name[512];
    snprintf(name, sizeof name, "%s/packed%lld", b->name, (long long)nr);
    if (dlc_graph_find_value(g, name) != NULL)
        snprintf(name, sizeof name, "%s/packed%lld_%d", b->name, (long long)nr, node->id);
    dlc_shape shape = dlc_shape_make(1, &floats);
    dlc_value *pv;
    dlc_status st = dlc_graph_add_const(g, name, DLC_FLOAT32, &shape, packed, (size_t)floats * sizeof *packed, &pv);
    free(packed);
    DLC_TRY(st);
    int64_t kn[3] = {K, N, nr};
    dlc_attr attr = {.name = (char *)DLC_ATTR_PACKED_B, .type = DLC_ATTR_INTS, .ints = kn, .count = 3};
    DLC_TRY(dlc_node_add_attr(node, &attr));
    node->inputs[1] = pv;
    *changed = true;
    return DLC_OK;
}

/* A group-1 float32 Conv with a constant weight whose pixel-major product
 * (kernels/conv.h) is expected to beat the channel-major one gets W^T
 * packed into panels, in a new constant of W's shape, and DLC_ATTR_PACKED_W.
 * The choice depends on the feature map, so its sizes must be known; the
 * batch may vary (the kernel loops over images). */
static dlc_status prepack_conv(dlc_graph *g, dlc_node *node, bool *changed) {
    if (!is_op(node, "Conv") || node->num_inputs < 2 || node->num_outputs != 1) return DLC_OK;
    if (dlc_node_attr(node, DLC_ATTR_PACKED_W) != NULL || dlc_node_attr_int(node, "group", 1) != 1) return DLC_OK;
    dlc_value *x = node->inputs[0], *w = node->inputs[1], *y = node->outputs[0];
    if (x == NULL || w == NULL || y == NULL || w->kind != DLC_VALUE_CONST || w->data == NULL ||
        w->dtype != DLC_FLOAT32 || x->dtype != DLC_FLOAT32 || y->dtype != DLC_FLOAT32 || w->shape.rank < 3 ||
        y->shape.rank != w->shape.rank || !dlc_shape_is_static(&w->shape))
        return DLC_OK;
    for (int32_t d = 1; d < y->shape.rank; d++)
        if (!dlc_dim_is_static(y->shape.dims[d])) return DLC_OK;
    int64_t M = w->shape.dims[0].value, K = dlc_value_numel(w) / (M > 0 ? M : 1);
    if (M < 1 || y->shape.dims[1].value != M) return DLC_OK;
    int64_t kernel_volume = 1;
    for (int32_t d = 2; d < w->shape.rank; d++) kernel_volume *= w->shape.dims[d].value;
    dlc_conv_shape shape = {.M = M, .K = K, .group = 1, .pixels = 1, .kernel_volume = kernel_volume,
                            .spatial_rank = y->shape.rank - 2,
                            .blocked = dlc_node_attr_int(node, DLC_ATTR_BLOCKED, 0) != 0};
    for (int32_t d = 2; d < y->shape.rank; d++) shape.pixels *= y->shape.dims[d].value;
    int64_t nr;
    int64_t layout = dlc_conv_choose_layout(&shape, &nr);
    if (shape.blocked && layout != DLC_CONV_W_DIRECT) {
        char where[256];
        return dlc_fail(DLC_ERR_INTERNAL, "prepack-weights: node %s is marked %s but its weight cannot take the direct layout",
                        dlc_node_describe(node, where, sizeof where), DLC_ATTR_BLOCKED);
    }
    if (layout == DLC_CONV_W_PLAIN) return DLC_OK;
    float *packed = malloc((size_t)(M * K) * sizeof *packed);
    if (packed == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "prepack-weights: out of memory");
    dlc_conv_pack_weights((int32_t)layout, M, K, w->data, nr, packed);
    const char *kind = layout == DLC_CONV_W_DIRECT ? "direct" : "pixel_major";
    char name[512];
    snprintf(name, sizeof name, "%s/%s%lld", w->name, kind, (long long)nr);
    if (dlc_graph_find_value(g, name) != NULL)
        snprintf(name, sizeof name, "%s/%s%lld_%d", w->name, kind, (long long)nr, node->id);
    dlc_value *pv;
    dlc_status st = dlc_graph_add_const(g, name, DLC_FLOAT32, &w->shape, packed, (size_t)(M * K) * sizeof *packed, &pv);
    free(packed);
    DLC_TRY(st);
    int64_t layout_nr[2] = {layout, nr};
    dlc_attr attr = {.name = (char *)DLC_ATTR_PACKED_W, .type = DLC_ATTR_INTS, .ints = layout_nr, .count = 2};
    DLC_TRY(dlc_node_add_attr(node, &attr));
    node->inputs[1] = pv;
    *changed = true;
    return DLC_OK;
}

static dlc_status prepack(dlc_graph *g, bool rows_known, bool *out_changed) {
    *out_changed = false;
    for (int32_t n = 0; n < g->num_nodes; n++) {
        DLC_TRY(prepack_node(g, g->nodes[n], rows_known, out_changed));
        DLC_TRY(prepack_conv(g, g->nodes[n], out_changed));
    }
    if (*out_changed) {
        /* plain weights nothing else reads go */
        dlc_graph_update_uses(g);
        dlc_graph_remove_dead(g);
    }
    return DLC_OK;
}

dlc_status dlc_pass_prepack_weights(dlc_graph *g, bool *out_changed) { return prepack(g, true, out_changed); }

dlc_status dlc_pass_prepack_weights_any_rows(dlc_graph *g, bool *out_changed) {
    return prepack(g, false, out_changed);
}
