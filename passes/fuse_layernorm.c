/* LayerNormalization fusion: the decomposed form torch exports below opset
 * 17,
 *
 *     mean = ReduceMean(x, last axis)        d = Sub(x, mean)
 *     var  = ReduceMean(Pow(d, 2), last axis)
 *     y    = Div(d, Sqrt(Add(var, eps)))  [→ Mul(y, scale)]  [→ Add(y, bias)]
 *
 * becomes one LayerNormalization(x, scale, bias) over the last axis: one
 * kernel reading x twice instead of nine kernels and five temporaries. The
 * intermediate values must have no other readers; scale and bias must be
 * constants of at most one dim (what LayerNormalization broadcasts). */
#include <string.h>

#include "passes/pipeline.h"
#include "passes/rewrite.h"
#include "runtime/status.h"

/* The only node reading v, or NULL. */
static dlc_node *sole_user(const dlc_graph *g, const dlc_value *v) {
    if (!dlc_value_private(v, 1)) return NULL;
    for (int32_t i = 0; i < g->num_nodes; i++)
        for (int32_t k = 0; k < g->nodes[i]->num_inputs; k++)
            if (g->nodes[i]->inputs[k] == v) return g->nodes[i];
    return NULL;
}

/* ReduceMean over exactly the last axis with keepdims (by shapes: a
 * reduced dim of extent 1 changes nothing). */
static dlc_node *last_axis_mean(const dlc_value *v, int32_t uses) {
    dlc_node *m = dlc_producer_of(v, "ReduceMean");
    if (m == NULL || !dlc_value_private(v, uses)) return NULL;
    const dlc_shape *in = &m->inputs[0]->shape, *out = &v->shape;
    if (!dlc_shape_is_static(in) || !dlc_shape_is_static(out) || in->rank < 1 || out->rank != in->rank) return NULL;
    for (int32_t d = 0; d + 1 < in->rank; d++)
        if (in->dims[d].value != out->dims[d].value) return NULL;
    return out->dims[in->rank - 1].value == 1 ? m : NULL;
}

/* The operand of binary node n other than the one equal to v (-1: none). */
static int32_t other_side(const dlc_node *n, const dlc_value *v) {
    if (n->num_inputs != 2) return -1;
    return n->inputs[0] == v ? 1 : n->inputs[1] == v ? 0 : -1;
}

/* A constant scale or bias LayerNormalization can take for x. */
static bool param_fits(const dlc_value *p, const dlc_value *x) {
    if (p == NULL || p->kind != DLC_VALUE_CONST || p->dtype != x->dtype || p->shape.rank > 1) return false;
    int64_t c = x->shape.dims[x->shape.rank - 1].value;
    return p->shape.rank == 0 || p->shape.dims[0].value == 1 || p->shape.dims[0].value == c;
}

typedef struct ln_match {
    dlc_value *x;
    double eps;
    dlc_node *last;  /* the node replaced */
    dlc_value *scale, *bias;
} ln_match;

/* Matches the normalization ending in Div node div. */
static bool match_core(dlc_node *div, ln_match *m) {
    if (div->num_inputs != 2) return false;
    dlc_value *d = div->inputs[0], *den = div->inputs[1];
    dlc_node *sub = dlc_producer_of(d, "Sub");
    dlc_node *sqrt = dlc_producer_of(den, "Sqrt");
    if (sub == NULL || sqrt == NULL || !dlc_value_private(d, 2) || !dlc_value_private(den, 1)) return false;
    dlc_node *mean = last_axis_mean(sub->inputs[1], 1);
    if (mean == NULL || mean->inputs[0] != sub->inputs[0]) return false;
    dlc_value *x = sub->inputs[0];
    if (x->dtype != DLC_FLOAT32 || !dlc_shape_is_static(&x->shape) || !dlc_shape_equal(&x->shape, &d->shape))
        return false;
    dlc_node *add = dlc_producer_of(sqrt->inputs[0], "Add");
    if (add == NULL || !dlc_value_private(sqrt->inputs[0], 1)) return false;
    int32_t eps_side = add->inputs[1]->kind == DLC_VALUE_CONST ? 1 : 0;
    dlc_value *eps = add->inputs[eps_side], *var = add->inputs[1 - eps_side];
    if (eps->kind != DLC_VALUE_CONST || dlc_value_numel(eps) != 1) return false;
    dlc_node *var_mean = last_axis_mean(var, 1);
    if (var_mean == NULL) return false;
    dlc_value *sq = var_mean->inputs[0];
    dlc_node *pow = dlc_producer_of(sq, "Pow");
    dlc_node *mul = dlc_producer_of(sq, "Mul");
    if (!dlc_value_private(sq, 1)) return false;
    bool squares = (pow != NULL && pow->inputs[0] == d && dlc_const_all_equal(pow->inputs[1], 2.0)) ||
                   (mul != NULL && mul->inputs[0] == d && mul->inputs[1] == d);
    if (!squares) return false;
    m->x = x;
    m->eps = dlc_const_element(eps, 0);
    m->last = div;
    m->scale = m->bias = NULL;
    return m->eps >= 0;
}

/* Extends the match over a following Mul by the scale and Add of the bias. */
static void match_affine(const dlc_graph *g, ln_match *m) {
    dlc_value *y = m->last->outputs[0];
    dlc_node *next = sole_user(g, y);
    if (next != NULL && next->domain[0] == '\0' && strcmp(next->op_type, "Mul") == 0) {
        int32_t side = other_side(next, y);
        if (side < 0 || !param_fits(next->inputs[side], m->x) || !dlc_shape_equal(&next->outputs[0]->shape, &y->shape))
            return;
        m->scale = next->inputs[side];
        m->last = next;
        y = next->outputs[0];
        next = sole_user(g, y);
    }
    if (next != NULL && next->domain[0] == '\0' && strcmp(next->op_type, "Add") == 0) {
        int32_t side = other_side(next, y);
        if (side < 0 || !param_fits(next->inputs[side], m->x) || !dlc_shape_equal(&next->outputs[0]->shape, &y->shape))
            return;
        m->bias = next->inputs[side];
        m->last = next;
    }
}

dlc_status dlc_pass_fuse_layernorm(dlc_graph *g, bool *out_changed) {
    *out_changed = false;
    dlc_graph_update_uses(g);
    for (int32_t i = 0; i < g->num_nodes; i++) {
        dlc_node *node = g->nodes[i];
        if (node->domain[0] != '\0' || strcmp(node->op_type, "Div") != 0) continue;
        ln_match m;
        if (!match_core(node, &m)) continue;
        match_affine(g, &m);
        if (m.scale == NULL) {
            char name[300];
            snprintf(name, sizeof name, "%s/ln_scale", m.last->name);
            dlc_shape s = dlc_shape_make(1, &m.x->shape.dims[m.x->shape.rank - 1].value);
            DLC_TRY(dlc_add_const_filled(g, name, m.x->dtype, &s, 1.0, &m.scale));
        }
        dlc_value *ins[3] = {m.x, m.scale, m.bias};
        dlc_attr attrs[2] = {{.name = "axis", .type = DLC_ATTR_INT, .i = -1},
                             {.name = "epsilon", .type = DLC_ATTR_FLOAT, .f = m.eps}};
        /* the replaced node sits after every input of the pattern */
        DLC_TRY(dlc_replace_node(g, m.last, "LayerNormalization", 17, m.bias != NULL ? 3 : 2, ins, 2, attrs, NULL));
        *out_changed = true;
    }
    if (*out_changed) {
        bool removed;
        DLC_TRY(dlc_pass_dead_code(g, &removed));
    }
    return DLC_OK;
}
