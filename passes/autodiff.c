/* Reverse-mode autodiff (see autodiff.h): the walk over the forward nodes and
 * the node builder the gradient rules use. */
#include "passes/autodiff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/op_registry.h"
#include "passes/pipeline.h"
#include "runtime/status.h"

/* Opset whose semantics the emitted nodes follow: ReduceSum, Unsqueeze and
 * Slice take their axes as inputs from 13 on. */
#define GRAD_OPSET 13

/* ---- the builder ---- */

static void next_name(dlc_grad_ctx *c, const char *what, char *buf, size_t size) {
    const char *fwd = c->node != NULL ? c->node->name : "seed";
    snprintf(buf, size, "%s/%s/%s_%d", c->prefix, fwd, what, (int)c->counter++);
}

static dlc_status settle(dlc_graph *g, dlc_node *node) {
    DLC_TRY(dlc_node_bind_schema(node));
    dlc_status st = node->schema->infer(g, node);
    if (st != DLC_OK) {
        char where[256];
        dlc_node_describe(node, where, sizeof where);
        if (strstr(dlc_last_error(), where) == NULL) return dlc_fail_context(st, "node %s", where);
        return st;
    }
    bool folded;
    DLC_TRY(dlc_fold_node(g, node, &folded));
    /* a folded node has done its work: its output is a CONST now */
    if (folded) dlc_graph_remove_node(g, node);
    return DLC_OK;
}

dlc_status dlc_grad_emit(dlc_grad_ctx *c, const char *op_type, int32_t num_inputs, dlc_value *const *inputs,
                         int32_t num_attrs, const dlc_attr *attrs, dlc_value **out) {
    char name[512];
    next_name(c, op_type, name, sizeof name);
    dlc_value *v;
    DLC_TRY(dlc_graph_add_value(c->g, name, DLC_VALUE_INTERMEDIATE, DLC_DTYPE_UNDEFINED, NULL, &v));
    dlc_node *n;
    DLC_TRY(dlc_graph_add_node(c->g, name, op_type, "", GRAD_OPSET, num_inputs, inputs, 1, &v, &n));
    for (int32_t a = 0; a < num_attrs; a++) DLC_TRY(dlc_node_add_attr(n, &attrs[a]));
    dlc_status st = settle(c->g, n);
    if (st != DLC_OK) return dlc_fail_context(st, "gradient of node %s", c->where);
    *out = v;
    return DLC_OK;
}

dlc_status dlc_grad_unary(dlc_grad_ctx *c, const char *op_type, dlc_value *a, dlc_value **out) {
    return dlc_grad_emit(c, op_type, 1, &a, 0, NULL, out);
}

dlc_status dlc_grad_binary(dlc_grad_ctx *c, const char *op_type, dlc_value *a, dlc_value *b, dlc_value **out) {
    dlc_value *in[2] = {a, b};
    return dlc_grad_emit(c, op_type, 2, in, 0, NULL, out);
}

static dlc_status check_float(const dlc_grad_ctx *c, dlc_dtype dtype) {
    if (dtype == DLC_FLOAT32 || dtype == DLC_FLOAT64) return DLC_OK;
    return dlc_fail(DLC_ERR_UNSUPPORTED, "gradient of node %s: dtype %s is not differentiated (float32 and float64 are)",
                    c->where, dlc_dtype_name(dtype));
}

/* numel elements of dtype (float32/float64) set to value, malloc'd. */
static void *filled(dlc_dtype dtype, int64_t numel, double value) {
    size_t n = numel > 0 ? (size_t)numel : 1;
    if (dtype == DLC_FLOAT64) {
        double *p = malloc(n * sizeof *p);
        for (size_t i = 0; p != NULL && i < n; i++) p[i] = value;
        return p;
    }
    float *p = malloc(n * sizeof *p);
    for (size_t i = 0; p != NULL && i < n; i++) p[i] = (float)value;
    return p;
}

static dlc_status add_filled_const(dlc_grad_ctx *c, dlc_dtype dtype, const dlc_shape *shape, double value,
                                   dlc_value **out) {
    DLC_TRY(check_float(c, dtype));
    int64_t numel = dlc_shape_numel(shape);
    void *data = filled(dtype, numel, value);
    if (data == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "gradient of node %s: out of memory", c->where);
    char name[512];
    next_name(c, "const", name, sizeof name);
    dlc_status st = dlc_graph_add_const(c->g, name, dtype, shape, data, (size_t)numel * dlc_dtype_size(dtype), out);
    free(data);
    return st;
}

dlc_status dlc_grad_scalar(dlc_grad_ctx *c, dlc_dtype dtype, double value, dlc_value **out) {
    dlc_shape scalar = {.rank = 0};
    return add_filled_const(c, dtype, &scalar, value, out);
}

dlc_status dlc_grad_ints(dlc_grad_ctx *c, int32_t count, const int64_t *values, dlc_value **out) {
    char name[512];
    next_name(c, "ints", name, sizeof name);
    dlc_shape s = dlc_shape_make(1, (int64_t[]){count});
    int64_t dummy = 0;
    return dlc_graph_add_const(c->g, name, DLC_INT64, &s, count > 0 ? (const void *)values : &dummy,
                               (size_t)count * sizeof(int64_t), out);
}

dlc_status dlc_grad_shape_of(dlc_grad_ctx *c, dlc_value *v, dlc_value **out) {
    if (!dlc_shape_is_static(&v->shape)) return dlc_grad_unary(c, "Shape", v, out);
    int64_t dims[DLC_MAX_RANK];
    for (int32_t i = 0; i < v->shape.rank; i++) dims[i] = v->shape.dims[i].value;
    return dlc_grad_ints(c, v->shape.rank, dims, out);
}

dlc_status dlc_grad_fill_like(dlc_grad_ctx *c, dlc_value *like, double value, dlc_value **out) {
    if (dlc_shape_is_static(&like->shape)) return add_filled_const(c, like->dtype, &like->shape, value, out);
    dlc_value *scalar, *shape;
    DLC_TRY(dlc_grad_scalar(c, like->dtype, value, &scalar));
    DLC_TRY(dlc_grad_shape_of(c, like, &shape));
    return dlc_grad_binary(c, "Expand", scalar, shape, out);
}

static bool same_dim(dlc_dim a, dlc_dim b) {
    return dlc_dim_is_static(a) ? a.value == b.value : !dlc_dim_is_static(b) && a.sym == b.sym;
}

dlc_status dlc_grad_reshape_to(dlc_grad_ctx *c, dlc_value *v, dlc_value *target, dlc_value **out) {
    if (dlc_shape_equal(&v->shape, &target->shape) && dlc_shape_is_static(&v->shape)) {
        *out = v;
        return DLC_OK;
    }
    dlc_value *shape;
    DLC_TRY(dlc_grad_shape_of(c, target, &shape));
    return dlc_grad_binary(c, "Reshape", v, shape, out);
}

dlc_status dlc_grad_reduce_to(dlc_grad_ctx *c, dlc_value *grad, dlc_value *target, dlc_value **out) {
    const dlc_shape *gs = &grad->shape, *ts = &target->shape;
    char a[160], b[160];
    if (gs->rank < ts->rank)
        return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "gradient of node %s: gradient %s has fewer dims than '%s' %s",
                        c->where, dlc_shape_format(c->g, gs, a, sizeof a), target->name,
                        dlc_shape_format(c->g, ts, b, sizeof b));
    int32_t lead = gs->rank - ts->rank;
    int64_t axes[DLC_MAX_RANK];
    int32_t count = 0;
    for (int32_t i = 0; i < gs->rank; i++) {
        if (i < lead) {
            axes[count++] = i;
            continue;
        }
        dlc_dim gd = gs->dims[i], td = ts->dims[i - lead];
        if (same_dim(gd, td)) continue;
        if (dlc_dim_is_static(td) && td.value == 1) {
            axes[count++] = i;
            continue;
        }
        /* a symbolic dim of x facing another dim might be 1 at run time */
        return dlc_fail(DLC_ERR_UNSUPPORTED,
                        "gradient of node %s: cannot tell whether '%s' %s was broadcast to %s (dim %d); bind the "
                        "symbolic dims with --shape",
                        c->where, target->name, dlc_shape_format(c->g, ts, a, sizeof a),
                        dlc_shape_format(c->g, gs, b, sizeof b), (int)i);
    }
    dlc_value *summed = grad;
    if (count > 0) {
        dlc_value *axes_v;
        DLC_TRY(dlc_grad_ints(c, count, axes, &axes_v));
        dlc_attr keep = {.name = "keepdims", .type = DLC_ATTR_INT, .i = 1};
        dlc_value *in[2] = {grad, axes_v};
        DLC_TRY(dlc_grad_emit(c, "ReduceSum", 2, in, 1, &keep, &summed));
    }
    if (lead == 0) {
        *out = summed;
        return DLC_OK;
    }
    return dlc_grad_reshape_to(c, summed, target, out);
}

/* ---- the walk ---- */

typedef struct walk {
    dlc_graph *g;
    int32_t num_values; /* values at the start: the forward graph */
    bool *depends;      /* by value id: depends on some x (and is float) */
    dlc_value **grad;   /* by value id: gradient accumulated so far */
} walk;

static bool in_forward(const walk *w, const dlc_value *v) { return v != NULL && v->id < w->num_values; }

static dlc_status accumulate(dlc_grad_ctx *c, walk *w, dlc_value *v, dlc_value *contribution) {
    char a[160], b[160];
    if (contribution->dtype != v->dtype || !dlc_shape_equal(&contribution->shape, &v->shape))
        return dlc_fail(DLC_ERR_INTERNAL, "gradient of node %s: the gradient of '%s' is %s %s, not %s %s", c->where,
                        v->name, dlc_dtype_name(contribution->dtype),
                        dlc_shape_format(c->g, &contribution->shape, a, sizeof a), dlc_dtype_name(v->dtype),
                        dlc_shape_format(c->g, &v->shape, b, sizeof b));
    if (w->grad[v->id] == NULL) {
        w->grad[v->id] = contribution;
        return DLC_OK;
    }
    /* fan-out: v is read by several nodes, its gradient is the sum */
    return dlc_grad_binary(c, "Add", w->grad[v->id], contribution, &w->grad[v->id]);
}

static dlc_status differentiate_node(walk *w, dlc_grad_ctx *c, const dlc_node *node) {
    bool any_dy = false, any_need = false;
    for (int32_t o = 0; o < node->num_outputs; o++)
        any_dy |= in_forward(w, node->outputs[o]) && w->grad[node->outputs[o]->id] != NULL;
    if (!any_dy) return DLC_OK;
    bool need[64] = {0};
    dlc_value *dy[64] = {0}, *dx[64] = {0};
    if (node->num_inputs > 64 || node->num_outputs > 64)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "gradient of node %s: more than 64 inputs or outputs", c->where);
    for (int32_t i = 0; i < node->num_inputs; i++) {
        need[i] = in_forward(w, node->inputs[i]) && w->depends[node->inputs[i]->id];
        any_need |= need[i];
    }
    if (!any_need) return DLC_OK;
    for (int32_t o = 0; o < node->num_outputs; o++)
        if (in_forward(w, node->outputs[o])) dy[o] = w->grad[node->outputs[o]->id];
    dlc_grad_rule rule = dlc_grad_rule_find(node);
    if (rule == NULL)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "autodiff '%s': no gradient rule for op '%s' in node %s", c->prefix,
                        node->op_type, c->where);
    DLC_TRY(rule(c, node, dy, need, dx));
    for (int32_t i = 0; i < node->num_inputs; i++) {
        if (!need[i]) continue;
        if (dx[i] == NULL)
            return dlc_fail(DLC_ERR_UNSUPPORTED, "autodiff: node %s is not differentiable with respect to its input %d ('%s')",
                            c->where, (int)i, node->inputs[i]->name);
        DLC_TRY(accumulate(c, w, node->inputs[i], dx[i]));
    }
    return DLC_OK;
}

/* Marks every float value that depends on an x, in topological order. */
static void mark_dependents(walk *w, int32_t num_nodes, int32_t num_xs, dlc_value *const *xs) {
    for (int32_t k = 0; k < num_xs; k++) w->depends[xs[k]->id] = true;
    for (int32_t n = 0; n < num_nodes; n++) {
        const dlc_node *node = w->g->nodes[n];
        bool any = false;
        for (int32_t i = 0; i < node->num_inputs; i++) any |= in_forward(w, node->inputs[i]) && w->depends[node->inputs[i]->id];
        if (!any) continue;
        for (int32_t o = 0; o < node->num_outputs; o++) {
            const dlc_value *v = node->outputs[o];
            if (in_forward(w, v) && (v->dtype == DLC_FLOAT32 || v->dtype == DLC_FLOAT64)) w->depends[v->id] = true;
        }
    }
}

dlc_status dlc_autodiff(dlc_graph *g, dlc_value *y, dlc_value *dy, int32_t num_xs, dlc_value *const *xs,
                        const char *prefix, dlc_value **out_grads) {
    for (int32_t k = 0; k < num_xs; k++) out_grads[k] = NULL;
    dlc_grad_ctx c = {.g = g, .prefix = prefix};
    snprintf(c.where, sizeof c.where, "'%s'", prefix);
    DLC_TRY(check_float(&c, y->dtype));
    for (int32_t k = 0; k < num_xs; k++) DLC_TRY(check_float(&c, xs[k]->dtype));
    if (dy != NULL && (dy->dtype != y->dtype || !dlc_shape_equal(&dy->shape, &y->shape)))
        return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "autodiff '%s': the gradient '%s' of '%s' has another dtype or shape",
                        prefix, dy->name, y->name);

    walk w = {.g = g, .num_values = g->num_values};
    w.depends = calloc((size_t)w.num_values + 1, sizeof *w.depends);
    w.grad = calloc((size_t)w.num_values + 1, sizeof *w.grad);
    int32_t num_nodes = g->num_nodes; /* the rules append nodes after these */
    dlc_node **nodes = calloc((size_t)num_nodes + 1, sizeof *nodes);
    dlc_status st = w.depends && w.grad && nodes ? DLC_OK : dlc_fail(DLC_ERR_OUT_OF_MEMORY, "autodiff: out of memory");
    if (st == DLC_OK) {
        memcpy(nodes, g->nodes, (size_t)num_nodes * sizeof *nodes);
        mark_dependents(&w, num_nodes, num_xs, xs);
    }
    if (st == DLC_OK) {
        if (dy == NULL) st = dlc_grad_fill_like(&c, y, 1.0, &dy);
        if (st == DLC_OK) w.grad[y->id] = dy;
    }
    for (int32_t n = num_nodes - 1; n >= 0 && st == DLC_OK; n--) {
        c.node = nodes[n];
        dlc_node_describe(c.node, c.where, sizeof c.where);
        st = differentiate_node(&w, &c, c.node);
    }
    c.node = NULL;
    snprintf(c.where, sizeof c.where, "'%s'", prefix);
    for (int32_t k = 0; k < num_xs && st == DLC_OK; k++) {
        dlc_value *gx = w.grad[xs[k]->id];
        if (gx == NULL) st = dlc_grad_fill_like(&c, xs[k], 0.0, &gx); /* y does not depend on x */
        out_grads[k] = gx;
    }
    free(nodes);
    free(w.depends);
    free(w.grad);
    if (st == DLC_OK) dlc_graph_update_uses(g);
    return st;
}
