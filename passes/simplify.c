/* Algebraic simplification, to a fixed point:
 *  - Transpose of a Transpose becomes one Transpose of the composed
 *    permutation, or an Identity when they cancel; an identity perm is an
 *    Identity;
 *  - a Reshape/Flatten/Squeeze/Unsqueeze of another one becomes one Reshape
 *    of the first one's input (the static output shape as a constant), and
 *    one whose output shape equals its input's is an Identity;
 *  - x*1, 1*x, x+0, 0+x, x-0 and x/1 are Identity when the constant does
 *    not broadcast x to a larger shape or change its dtype;
 *  - Cast (and CastLike) to the dtype the input already has is an Identity.
 * The Identity nodes made here are removed by eliminate-identity, which
 * runs next and knows how to keep graph output names. */
#include <string.h>

#include "passes/pipeline.h"
#include "passes/rewrite.h"
#include "runtime/status.h"

static bool is_op(const dlc_node *node, const char *op) {
    return node->domain[0] == '\0' && strcmp(node->op_type, op) == 0;
}

static dlc_status to_identity(dlc_graph *g, dlc_node *node, dlc_value *input) {
    return dlc_replace_node(g, node, "Identity", 13, 1, &input, 0, NULL, NULL);
}

/* perm of a Transpose (default: reversed axes); false when unusable. */
static bool transpose_perm(const dlc_node *node, int64_t *perm, int32_t *rank) {
    const dlc_value *x = node->inputs[0];
    if (x == NULL || x->shape.rank < 0) return false;
    int32_t count;
    const int64_t *p = dlc_node_attr_ints(node, "perm", &count);
    *rank = x->shape.rank;
    if (p == NULL) {
        for (int32_t i = 0; i < *rank; i++) perm[i] = *rank - 1 - i;
        return true;
    }
    if (count != *rank) return false;
    memcpy(perm, p, (size_t)count * sizeof *perm);
    return true;
}

static dlc_status simplify_transpose(dlc_graph *g, dlc_node *node, bool *changed) {
    int64_t outer[DLC_MAX_RANK], inner[DLC_MAX_RANK], composed[DLC_MAX_RANK];
    int32_t rank, inner_rank;
    if (!transpose_perm(node, outer, &rank)) return DLC_OK;
    dlc_node *first = dlc_producer_of(node->inputs[0], "Transpose");
    dlc_value *source = node->inputs[0];
    const int64_t *perm = outer;
    if (first != NULL && transpose_perm(first, inner, &inner_rank) && inner_rank == rank) {
        /* y[i] = x[inner[i]], z[i] = y[outer[i]] = x[inner[outer[i]]] */
        for (int32_t i = 0; i < rank; i++) composed[i] = inner[outer[i]];
        source = first->inputs[0];
        perm = composed;
    } else {
        first = NULL;
    }
    bool identity = true;
    for (int32_t i = 0; i < rank; i++) identity = identity && perm[i] == i;
    if (identity) {
        *changed = true;
        return to_identity(g, node, source);
    }
    if (first == NULL) return DLC_OK;
    dlc_attr attr = {.name = "perm", .type = DLC_ATTR_INTS, .ints = (int64_t *)perm, .count = rank};
    *changed = true;
    return dlc_replace_node(g, node, "Transpose", node->opset, 1, &source, 1, &attr, NULL);
}

static bool is_reshape_like(const dlc_node *node) {
    return node != NULL && node->domain[0] == '\0' &&
           (strcmp(node->op_type, "Reshape") == 0 || strcmp(node->op_type, "Flatten") == 0 ||
            strcmp(node->op_type, "Squeeze") == 0 || strcmp(node->op_type, "Unsqueeze") == 0);
}

static dlc_status simplify_reshape(dlc_graph *g, dlc_node *node, bool *changed) {
    dlc_value *x = node->inputs[0], *y = node->outputs[0];
    if (x == NULL || y == NULL || !dlc_shape_is_static(&y->shape) || !dlc_shape_is_static(&x->shape)) return DLC_OK;
    if (dlc_shape_equal(&x->shape, &y->shape)) {
        *changed = true;
        return to_identity(g, node, x);
    }
    dlc_node *first = x->producer;
    if (x->kind != DLC_VALUE_INTERMEDIATE || !is_reshape_like(first)) return DLC_OK;
    dlc_value *source = first->inputs[0];
    if (source == NULL || !dlc_shape_is_static(&source->shape)) return DLC_OK;
    int64_t dims[DLC_MAX_RANK];
    for (int32_t d = 0; d < y->shape.rank; d++) {
        dims[d] = y->shape.dims[d].value;
        if (dims[d] == 0) return DLC_OK; /* 0 means "copy the input dim" without allowzero */
    }
    *changed = true;
    if (dlc_shape_equal(&source->shape, &y->shape)) return to_identity(g, node, source);
    char name[300];
    snprintf(name, sizeof name, "%s/shape", node->name);
    dlc_value *shape;
    DLC_TRY(dlc_add_const_i64s(g, name, dims, y->shape.rank, &shape));
    dlc_value *ins[2] = {source, shape};
    return dlc_replace_node(g, node, "Reshape", 13, 2, ins, 0, NULL, NULL);
}

/* x op c (or c op x when commutative) is x when c is all `neutral`. */
static dlc_status simplify_neutral(dlc_graph *g, dlc_node *node, double neutral, bool commutative, bool *changed) {
    if (node->num_inputs != 2 || node->inputs[0] == NULL || node->inputs[1] == NULL) return DLC_OK;
    dlc_value *y = node->outputs[0];
    for (int32_t side = 1; side >= (commutative ? 0 : 1); side--) {
        dlc_value *c = node->inputs[side], *x = node->inputs[1 - side];
        if (!dlc_const_all_equal(c, neutral)) continue;
        if (x->dtype != y->dtype || !dlc_shape_is_static(&y->shape) || !dlc_shape_equal(&x->shape, &y->shape))
            continue;
        *changed = true;
        return to_identity(g, node, x);
    }
    return DLC_OK;
}

static dlc_status simplify_cast(dlc_graph *g, dlc_node *node, bool *changed) {
    dlc_value *x = node->inputs[0], *y = node->outputs[0];
    if (x == NULL || y == NULL || x->dtype != y->dtype) return DLC_OK;
    if (is_op(node, "Cast") && node->num_inputs != 1) return DLC_OK;
    *changed = true;
    return to_identity(g, node, x);
}

static dlc_status simplify_node(dlc_graph *g, dlc_node *node, bool *changed) {
    if (node->domain[0] != '\0' || node->num_outputs < 1 || node->outputs[0] == NULL || node->num_inputs < 1 ||
        node->inputs[0] == NULL)
        return DLC_OK;
    if (is_op(node, "Transpose")) return simplify_transpose(g, node, changed);
    if (is_reshape_like(node) && node->num_outputs == 1) return simplify_reshape(g, node, changed);
    if (is_op(node, "Mul")) return simplify_neutral(g, node, 1.0, true, changed);
    if (is_op(node, "Add")) return simplify_neutral(g, node, 0.0, true, changed);
    if (is_op(node, "Sub")) return simplify_neutral(g, node, 0.0, false, changed);
    if (is_op(node, "Div")) return simplify_neutral(g, node, 1.0, false, changed);
    if (is_op(node, "Cast") || is_op(node, "CastLike")) return simplify_cast(g, node, changed);
    return DLC_OK;
}

dlc_status dlc_pass_simplify(dlc_graph *g, bool *out_changed) {
    *out_changed = false;
    dlc_graph_update_uses(g);
    for (bool again = true; again;) {
        again = false;
        /* rewrites replace node i in place, so indices stay valid */
        for (int32_t i = 0; i < g->num_nodes; i++) {
            bool changed = false;
            DLC_TRY(simplify_node(g, g->nodes[i], &changed));
            again = again || changed;
        }
        /* an Identity between two reshapes would hide the chain: remove them now */
        if (again) {
            bool removed;
            DLC_TRY(dlc_pass_eliminate_identity(g, &removed));
            *out_changed = true;
        }
    }
    return DLC_OK;
}
