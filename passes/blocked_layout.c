/* blocked-layout: activations that pass from convolution to convolution are
 * kept in NCHW16c, [N, C/16, H, W, 16], as ONNX Runtime's NCHWc transformer
 * keeps them (kernels/conv.h). A conv then runs the direct loop (1x1 convs
 * too), reading each pixel's 16 channels of a block as one contiguous run
 * and writing its output tile with the bias, residual and activation
 * applied to whole vectors: no im2col packing of the activations, no
 * transpose, no re-read of the product for the epilogue. ResNet-50's 1x1
 * convs ran at 75-88% of the FMA peak through the GEMM, the blocked loop at
 * ~95%.
 *
 * A value is blocked when its producer and every reader can take NCHW16c:
 *  - a group-1 2-D float32 Conv with a constant weight of a multiple of 16
 *    output channels (its weight is then packed for the direct loop), as
 *    input X when X has a multiple of 16 channels, and as the fused residual
 *    when its own output is blocked too;
 *  - a 2-D float32 MaxPool without Indices, as X when its output is blocked;
 *  - GlobalAveragePool and GlobalMaxPool, as X (their output is [N, C, 1, 1],
 *    the same in both layouts).
 * Graph outputs stay NCHW. A 1x1 conv reading NCHW writes NCHW: with
 * nothing blocked to read, the GEMM serves it better. Any other reader
 * keeps the value NCHW, so a conv at a region's edge reads or writes NCHW
 * itself and no reorder node is ever needed.
 *
 * The values keep their NCHW shapes (and sizes); the node attribute
 * DLC_ATTR_BLOCKED records which of a node's X and Y are blocked. Runs
 * before prepack-weights, which packs these convs' weights in the direct
 * layout. Graphs with subgraphs are left alone: a value captured by a
 * subgraph has readers this graph does not list. */
#include <stdlib.h>
#include <string.h>

#include "ir/op_registry.h"
#include "ir/ops/epilogue.h"
#include "kernels/conv.h"
#include "passes/pipeline.h"
#include "runtime/status.h"

static bool is_op(const dlc_node *node, const char *op) {
    return node->domain[0] == '\0' && strcmp(node->op_type, op) == 0;
}

/* A float32 NCHW activation of a multiple of 16 channels whose C, H and W
 * are known (the batch may vary). */
static bool blockable(const dlc_value *v) {
    if (v == NULL || v->dtype != DLC_FLOAT32 || v->type != DLC_TYPE_TENSOR || v->shape.rank != 4) return false;
    for (int32_t d = 1; d < 4; d++)
        if (!dlc_dim_is_static(v->shape.dims[d]) || v->shape.dims[d].value < 1) return false;
    return v->shape.dims[1].value % 16 == 0;
}

static bool conv_candidate(const dlc_node *node) {
    if (!is_op(node, "Conv") || node->num_inputs < 2 || node->num_outputs != 1) return false;
    if (dlc_node_attr_int(node, "group", 1) != 1 || dlc_node_attr(node, DLC_ATTR_PACKED_W) != NULL) return false;
    const dlc_value *x = node->inputs[0], *w = node->inputs[1], *y = node->outputs[0];
    if (x == NULL || w == NULL || !blockable(y) || x->dtype != DLC_FLOAT32 || x->shape.rank != 4) return false;
    if (w->kind != DLC_VALUE_CONST || w->data == NULL || w->dtype != DLC_FLOAT32 || w->shape.rank != 4 ||
        !dlc_shape_is_static(&w->shape))
        return false;
    return w->shape.dims[0].value == y->shape.dims[1].value;
}

static bool maxpool_candidate(const dlc_node *node) {
    if (!is_op(node, "MaxPool") || node->num_inputs != 1) return false;
    if (node->num_outputs > 1 && node->outputs[1] != NULL) return false; /* Indices */
    return blockable(node->inputs[0]) && blockable(node->outputs[0]);
}

/* GlobalAveragePool/GlobalMaxPool: their [N, C, 1, 1] output is the same
 * in either layout, so they only read NCHW16c. */
static bool global_pool_candidate(const dlc_node *node) {
    if ((!is_op(node, "GlobalAveragePool") && !is_op(node, "GlobalMaxPool")) || node->num_inputs != 1) return false;
    return blockable(node->inputs[0]);
}

/* What a node can do with NCHW16c, decided once per node. */
typedef enum role { ROLE_NONE, ROLE_CONV, ROLE_MAXPOOL, ROLE_GLOBAL_POOL } role;

static role role_of(const dlc_node *node) {
    if (conv_candidate(node)) return ROLE_CONV;
    if (maxpool_candidate(node)) return ROLE_MAXPOOL;
    return global_pool_candidate(node) ? ROLE_GLOBAL_POOL : ROLE_NONE;
}

static bool is_pointwise(const dlc_node *conv) {
    const dlc_value *w = conv->inputs[1];
    return w->shape.dims[2].value == 1 && w->shape.dims[3].value == 1;
}

/* Whether reader (of role r) may read its input i blocked, given the
 * blocked set. */
static bool reads_blocked(const dlc_node *reader, role r, int32_t i, const bool *blocked) {
    switch (r) {
    case ROLE_CONV: return i == 0 || (i == DLC_EPILOGUE_RESIDUAL && blocked[reader->outputs[0]->id]);
    case ROLE_MAXPOOL: return i == 0 && blocked[reader->outputs[0]->id];
    case ROLE_GLOBAL_POOL: return i == 0;
    default: return false;
    }
}

/* Whether node (of role r) may write its output blocked, given the blocked
 * set. */
static bool writes_blocked(const dlc_node *node, role r, const bool *blocked) {
    const dlc_value *x = node->inputs[0];
    if (r == ROLE_MAXPOOL) return blocked[x->id];
    if (r != ROLE_CONV) return false;
    if (is_pointwise(node) && !blocked[x->id]) return false;
    const dlc_value *res = node->num_inputs > DLC_EPILOGUE_RESIDUAL ? node->inputs[DLC_EPILOGUE_RESIDUAL] : NULL;
    return res == NULL || blocked[res->id];
}

static bool has_subgraphs(const dlc_graph *g) {
    for (int32_t n = 0; n < g->num_nodes; n++)
        for (int32_t a = 0; a < g->nodes[n]->num_attrs; a++)
            if (g->nodes[n]->attrs[a].type == DLC_ATTR_GRAPH) return true;
    return false;
}

/* Drops from the blocked set what some reader or the producer cannot take;
 * returns whether anything was dropped. Only ever removes, so repeating it
 * reaches the largest consistent set. */
static bool drop_conflicts(const dlc_graph *g, const role *roles, bool *blocked) {
    bool dropped = false;
    for (int32_t n = 0; n < g->num_nodes; n++) {
        const dlc_node *node = g->nodes[n];
        for (int32_t i = 0; i < node->num_inputs; i++) {
            const dlc_value *v = node->inputs[i];
            if (v != NULL && blocked[v->id] && !reads_blocked(node, roles[n], i, blocked))
                blocked[v->id] = false, dropped = true;
        }
        for (int32_t o = 0; o < node->num_outputs; o++) {
            const dlc_value *y = node->outputs[o];
            if (y != NULL && blocked[y->id] && !writes_blocked(node, roles[n], blocked))
                blocked[y->id] = false, dropped = true;
        }
    }
    return dropped;
}

dlc_status dlc_pass_blocked_layout(dlc_graph *g, bool *out_changed) {
    *out_changed = false;
    if (has_subgraphs(g)) return DLC_OK;
    bool *blocked = calloc((size_t)g->num_values + 1, sizeof *blocked);
    role *roles = calloc((size_t)g->num_nodes + 1, sizeof *roles);
    if (blocked == NULL || roles == NULL) {
        free(blocked);
        free(roles);
        return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "blocked-layout: out of memory");
    }
    for (int32_t n = 0; n < g->num_nodes; n++) {
        roles[n] = role_of(g->nodes[n]);
        if (roles[n] != ROLE_CONV && roles[n] != ROLE_MAXPOOL) continue;
        const dlc_value *y = g->nodes[n]->outputs[0];
        blocked[y->id] = !y->is_graph_output;
    }
    while (drop_conflicts(g, roles, blocked)) {
    }
    dlc_status st = DLC_OK;
    for (int32_t n = 0; n < g->num_nodes && st == DLC_OK; n++) {
        dlc_node *node = g->nodes[n];
        if (roles[n] == ROLE_NONE) continue;
        int64_t flags = (blocked[node->inputs[0]->id] ? DLC_CONV_BLOCKED_X : 0) |
                        (blocked[node->outputs[0]->id] ? DLC_CONV_BLOCKED_Y : 0);
        if (flags == 0) continue;
        dlc_attr attr = {.name = (char *)DLC_ATTR_BLOCKED, .type = DLC_ATTR_INT, .i = flags};
        st = dlc_node_add_attr(node, &attr);
        *out_changed = true;
    }
    free(blocked);
    free(roles);
    return st;
}
