/* Gradient rules, one per op, in one table (see dlc_grad_rule in autodiff.h).
 *
 * A rule builds the vector-Jacobian product of its node: from the gradient
 * dy of each output, the gradient of each input that needs one. Rules reuse
 * the forward values (y = sigmoid(x) gives dy * y * (1 - y)), and leave the
 * summing over broadcast dims to dlc_grad_reduce_to. Inputs that only steer
 * the op (shapes, axes, exponents of integer dtype) get no gradient: a node
 * asked for one fails with a message naming it. */
#include <stdlib.h>
#include <string.h>

#include "ir/op_registry.h"
#include "passes/autodiff.h"
#include "runtime/status.h"

#define RULE(name) static dlc_status name(dlc_grad_ctx *c, const dlc_node *n, dlc_value *const *dy, const bool *need, dlc_value **dx)

static dlc_attr attr_int(const char *name, int64_t v) { return (dlc_attr){.name = (char *)name, .type = DLC_ATTR_INT, .i = v}; }
static dlc_attr attr_float(const char *name, double v) {
    return (dlc_attr){.name = (char *)name, .type = DLC_ATTR_FLOAT, .f = v};
}
static dlc_attr attr_ints(const char *name, int32_t count, int64_t *v) {
    return (dlc_attr){.name = (char *)name, .type = DLC_ATTR_INTS, .ints = v, .count = count};
}

static dlc_status mul(dlc_grad_ctx *c, dlc_value *a, dlc_value *b, dlc_value **out) {
    return dlc_grad_binary(c, "Mul", a, b, out);
}

/* a * k for a constant k */
static dlc_status scale(dlc_grad_ctx *c, dlc_value *a, double k, dlc_value **out) {
    if (k == 1.0) {
        *out = a;
        return DLC_OK;
    }
    dlc_value *kv;
    DLC_TRY(dlc_grad_scalar(c, a->dtype, k, &kv));
    return mul(c, a, kv, out);
}

/* ReduceSum(v, axes, keepdims=1) */
static dlc_status sum_keep(dlc_grad_ctx *c, dlc_value *v, int32_t count, const int64_t *axes, dlc_value **out) {
    dlc_value *axes_v;
    DLC_TRY(dlc_grad_ints(c, count, axes, &axes_v));
    dlc_attr keep = attr_int("keepdims", 1);
    dlc_value *in[2] = {v, axes_v};
    return dlc_grad_emit(c, "ReduceSum", 2, in, 1, &keep, out);
}

/* Transpose swapping the last two dims (rank >= 2). */
static dlc_status transpose_last2(dlc_grad_ctx *c, dlc_value *v, dlc_value **out) {
    int32_t r = v->shape.rank;
    int64_t perm[DLC_MAX_RANK];
    for (int32_t i = 0; i < r; i++) perm[i] = i;
    perm[r - 2] = r - 1;
    perm[r - 1] = r - 2;
    dlc_attr a = attr_ints("perm", r, perm);
    return dlc_grad_emit(c, "Transpose", 1, &v, 1, &a, out);
}

static dlc_status unsqueeze(dlc_grad_ctx *c, dlc_value *v, int32_t count, const int64_t *axes, dlc_value **out) {
    dlc_value *axes_v;
    DLC_TRY(dlc_grad_ints(c, count, axes, &axes_v));
    return dlc_grad_binary(c, "Unsqueeze", v, axes_v, out);
}

/* ---- elementwise binary ---- */

RULE(grad_add) {
    for (int32_t i = 0; i < 2; i++)
        if (need[i]) DLC_TRY(dlc_grad_reduce_to(c, dy[0], n->inputs[i], &dx[i]));
    return DLC_OK;
}

RULE(grad_sum) {
    for (int32_t i = 0; i < n->num_inputs; i++)
        if (need[i]) DLC_TRY(dlc_grad_reduce_to(c, dy[0], n->inputs[i], &dx[i]));
    return DLC_OK;
}

RULE(grad_sub) {
    if (need[0]) DLC_TRY(dlc_grad_reduce_to(c, dy[0], n->inputs[0], &dx[0]));
    if (need[1]) {
        dlc_value *neg;
        DLC_TRY(dlc_grad_unary(c, "Neg", dy[0], &neg));
        DLC_TRY(dlc_grad_reduce_to(c, neg, n->inputs[1], &dx[1]));
    }
    return DLC_OK;
}

RULE(grad_mul) {
    for (int32_t i = 0; i < 2; i++) {
        if (!need[i]) continue;
        dlc_value *t;
        DLC_TRY(mul(c, dy[0], n->inputs[1 - i], &t));
        DLC_TRY(dlc_grad_reduce_to(c, t, n->inputs[i], &dx[i]));
    }
    return DLC_OK;
}

/* y = a / b: da = dy / b, db = -dy * y / b */
RULE(grad_div) {
    dlc_value *a_grad, *t, *u;
    DLC_TRY(dlc_grad_binary(c, "Div", dy[0], n->inputs[1], &a_grad));
    if (need[0]) DLC_TRY(dlc_grad_reduce_to(c, a_grad, n->inputs[0], &dx[0]));
    if (need[1]) {
        DLC_TRY(mul(c, a_grad, n->outputs[0], &t));
        DLC_TRY(dlc_grad_unary(c, "Neg", t, &u));
        DLC_TRY(dlc_grad_reduce_to(c, u, n->inputs[1], &dx[1]));
    }
    return DLC_OK;
}

/* y = a ^ p: da = dy * p * a^(p-1); dp = dy * y * ln(a) */
RULE(grad_pow) {
    dlc_value *a = n->inputs[0], *p = n->inputs[1], *y = n->outputs[0];
    if (need[0]) {
        dlc_value *pf = p, *one, *pm1, *pw, *t, *u;
        if (p->dtype != a->dtype) {
            dlc_attr to = attr_int("to", a->dtype);
            DLC_TRY(dlc_grad_emit(c, "Cast", 1, &p, 1, &to, &pf));
        }
        DLC_TRY(dlc_grad_scalar(c, a->dtype, 1.0, &one));
        DLC_TRY(dlc_grad_binary(c, "Sub", pf, one, &pm1));
        DLC_TRY(dlc_grad_binary(c, "Pow", a, pm1, &pw));
        DLC_TRY(mul(c, pw, pf, &t));
        DLC_TRY(mul(c, dy[0], t, &u));
        DLC_TRY(dlc_grad_reduce_to(c, u, a, &dx[0]));
    }
    if (need[1]) {
        dlc_value *ln, *t, *u;
        DLC_TRY(dlc_grad_unary(c, "Log", a, &ln));
        DLC_TRY(mul(c, y, ln, &t));
        DLC_TRY(mul(c, dy[0], t, &u));
        DLC_TRY(dlc_grad_reduce_to(c, u, p, &dx[1]));
    }
    return DLC_OK;
}

/* ---- elementwise unary ---- */

RULE(grad_neg) {
    (void)n, (void)need;
    return dlc_grad_unary(c, "Neg", dy[0], &dx[0]);
}

RULE(grad_identity) {
    (void)c, (void)need;
    (void)n;
    dx[0] = dy[0];
    return DLC_OK;
}

RULE(grad_relu) {
    (void)need;
    dlc_value *zero, *positive;
    DLC_TRY(dlc_grad_scalar(c, n->inputs[0]->dtype, 0.0, &zero));
    DLC_TRY(dlc_grad_binary(c, "Greater", n->inputs[0], zero, &positive));
    dlc_value *in[3] = {positive, dy[0], zero};
    return dlc_grad_emit(c, "Where", 3, in, 0, NULL, &dx[0]);
}

RULE(grad_abs) {
    (void)need;
    dlc_value *sign;
    DLC_TRY(dlc_grad_unary(c, "Sign", n->inputs[0], &sign));
    return mul(c, dy[0], sign, &dx[0]);
}

/* dy * y * (1 - y) */
RULE(grad_sigmoid) {
    (void)need;
    dlc_value *y = n->outputs[0], *one, *rest, *t;
    DLC_TRY(dlc_grad_scalar(c, y->dtype, 1.0, &one));
    DLC_TRY(dlc_grad_binary(c, "Sub", one, y, &rest));
    DLC_TRY(mul(c, y, rest, &t));
    return mul(c, dy[0], t, &dx[0]);
}

/* dy * (1 - y^2) */
RULE(grad_tanh) {
    (void)need;
    dlc_value *y = n->outputs[0], *one, *sq, *rest;
    DLC_TRY(dlc_grad_scalar(c, y->dtype, 1.0, &one));
    DLC_TRY(mul(c, y, y, &sq));
    DLC_TRY(dlc_grad_binary(c, "Sub", one, sq, &rest));
    return mul(c, dy[0], rest, &dx[0]);
}

RULE(grad_exp) {
    (void)need;
    return mul(c, dy[0], n->outputs[0], &dx[0]);
}

RULE(grad_log) {
    (void)need;
    return dlc_grad_binary(c, "Div", dy[0], n->inputs[0], &dx[0]);
}

/* dy / (2 y) */
RULE(grad_sqrt) {
    (void)need;
    dlc_value *half;
    DLC_TRY(scale(c, dy[0], 0.5, &half));
    return dlc_grad_binary(c, "Div", half, n->outputs[0], &dx[0]);
}

/* float to float: the gradient goes back to the input's dtype */
RULE(grad_cast) {
    (void)need;
    dlc_attr to = attr_int("to", n->inputs[0]->dtype);
    return dlc_grad_emit(c, "Cast", 1, &dy[0], 1, &to, &dx[0]);
}

/* ---- linear algebra ---- */

/* y = a @ b with numpy's rules: rank-1 operands are promoted ([K] → [1,K]
 * for a, [K,1] for b) and their unit dim removed from y; batch dims
 * broadcast. da = dy @ b^T, db = a^T @ dy, summed over broadcast batch dims. */
RULE(grad_matmul) {
    dlc_value *a = n->inputs[0], *b = n->inputs[1], *a2 = a, *b2 = b, *g2 = dy[0];
    int32_t ra = a->shape.rank, rb = b->shape.rank;
    if (ra == 1) DLC_TRY(unsqueeze(c, a, 1, (int64_t[]){0}, &a2));
    if (rb == 1) DLC_TRY(unsqueeze(c, b, 1, (int64_t[]){1}, &b2));
    int32_t r2 = a2->shape.rank > b2->shape.rank ? a2->shape.rank : b2->shape.rank;
    int64_t axes[2];
    int32_t count = 0;
    if (ra == 1) axes[count++] = r2 - 2;
    if (rb == 1) axes[count++] = r2 - 1;
    if (count > 0) DLC_TRY(unsqueeze(c, dy[0], count, axes, &g2));
    if (need[0]) {
        dlc_value *bt, *t, *u;
        DLC_TRY(transpose_last2(c, b2, &bt));
        DLC_TRY(dlc_grad_binary(c, "MatMul", g2, bt, &t));
        DLC_TRY(dlc_grad_reduce_to(c, t, a2, &u));
        DLC_TRY(dlc_grad_reshape_to(c, u, a, &dx[0]));
    }
    if (need[1]) {
        dlc_value *at, *t, *u;
        DLC_TRY(transpose_last2(c, a2, &at));
        DLC_TRY(dlc_grad_binary(c, "MatMul", at, g2, &t));
        DLC_TRY(dlc_grad_reduce_to(c, t, b2, &u));
        DLC_TRY(dlc_grad_reshape_to(c, u, b, &dx[1]));
    }
    return DLC_OK;
}

static dlc_status gemm(dlc_grad_ctx *c, dlc_value *a, dlc_value *b, double alpha, int64_t trans_a, int64_t trans_b,
                       dlc_value **out) {
    dlc_attr attrs[3] = {attr_float("alpha", alpha), attr_int("transA", trans_a), attr_int("transB", trans_b)};
    dlc_value *in[2] = {a, b};
    return dlc_grad_emit(c, "Gemm", 2, in, 3, attrs, out);
}

/* Y = alpha * A' B' + beta * C, A' = transA ? A^T : A (B' likewise).
 * dA' = alpha dY B'^T and dB' = alpha A'^T dY, each written as one Gemm that
 * also undoes the operand's transposition. */
RULE(grad_gemm) {
    dlc_value *a = n->inputs[0], *b = n->inputs[1];
    double alpha = dlc_node_attr_float(n, "alpha", 1.0), beta = dlc_node_attr_float(n, "beta", 1.0);
    int64_t ta = dlc_node_attr_int(n, "transA", 0) != 0, tb = dlc_node_attr_int(n, "transB", 0) != 0;
    if (need[0]) DLC_TRY(ta ? gemm(c, b, dy[0], alpha, tb, 1, &dx[0]) : gemm(c, dy[0], b, alpha, 0, !tb, &dx[0]));
    if (need[1]) DLC_TRY(tb ? gemm(c, dy[0], a, alpha, 1, ta, &dx[1]) : gemm(c, a, dy[0], alpha, !ta, 0, &dx[1]));
    if (n->num_inputs > 2 && need[2]) {
        dlc_value *t;
        DLC_TRY(scale(c, dy[0], beta, &t));
        DLC_TRY(dlc_grad_reduce_to(c, t, n->inputs[2], &dx[2]));
    }
    return DLC_OK;
}

/* ---- shape ops ---- */

/* Reshape, Flatten, Squeeze, Unsqueeze: same elements, x's shape back. */
RULE(grad_reshape) {
    (void)need;
    return dlc_grad_reshape_to(c, dy[0], n->inputs[0], &dx[0]);
}

RULE(grad_transpose) {
    (void)need;
    int32_t r = n->inputs[0]->shape.rank, count;
    const int64_t *perm = dlc_node_attr_ints(n, "perm", &count);
    int64_t inverse[DLC_MAX_RANK];
    for (int32_t i = 0; i < r; i++) {
        int64_t p = perm != NULL && count == r ? perm[i] : r - 1 - i;
        inverse[p] = i;
    }
    dlc_attr a = attr_ints("perm", r, inverse);
    return dlc_grad_emit(c, "Transpose", 1, &dy[0], 1, &a, &dx[0]);
}

/* Slices dy along the axis, one piece per input. */
RULE(grad_concat) {
    int32_t r = n->outputs[0]->shape.rank, axis;
    DLC_TRY(dlc_normalize_axis(n, dlc_node_attr_int(n, "axis", 0), r, &axis));
    int64_t offset = 0;
    for (int32_t i = 0; i < n->num_inputs; i++) {
        dlc_dim d = n->inputs[i]->shape.dims[axis];
        if (!dlc_dim_is_static(d))
            return dlc_fail(DLC_ERR_UNSUPPORTED, "gradient of node %s: input %d has a symbolic size on axis %d",
                            c->where, (int)i, (int)axis);
        if (need[i]) {
            dlc_value *starts, *ends, *axes;
            int64_t ax = axis, end = offset + d.value;
            DLC_TRY(dlc_grad_ints(c, 1, &offset, &starts));
            DLC_TRY(dlc_grad_ints(c, 1, &end, &ends));
            DLC_TRY(dlc_grad_ints(c, 1, &ax, &axes));
            dlc_value *in[4] = {dy[0], starts, ends, axes};
            DLC_TRY(dlc_grad_emit(c, "Slice", 4, in, 0, NULL, &dx[i]));
        }
        offset += d.value;
    }
    return DLC_OK;
}

/* Concatenates the outputs' gradients (zeros for outputs without one). */
RULE(grad_split) {
    (void)need;
    int32_t r = n->inputs[0]->shape.rank, axis;
    DLC_TRY(dlc_normalize_axis(n, dlc_node_attr_int(n, "axis", 0), r, &axis));
    dlc_value **parts = calloc((size_t)n->num_outputs + 1, sizeof *parts);
    if (parts == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "out of memory");
    dlc_status st = DLC_OK;
    for (int32_t o = 0; o < n->num_outputs && st == DLC_OK; o++) {
        if (n->outputs[o] == NULL)
            st = dlc_fail(DLC_ERR_UNSUPPORTED, "gradient of node %s: output %d is omitted", c->where, (int)o);
        else if (dy[o] != NULL) parts[o] = dy[o];
        else st = dlc_grad_fill_like(c, n->outputs[o], 0.0, &parts[o]);
    }
    dlc_attr a = attr_int("axis", axis);
    if (st == DLC_OK && n->num_outputs == 1) dx[0] = parts[0];
    else if (st == DLC_OK) st = dlc_grad_emit(c, "Concat", n->num_outputs, parts, 1, &a, &dx[0]);
    free(parts);
    return st;
}

/* ---- reductions ---- */

/* The axes a Reduce* node reduces (normalized, ascending), *out_all when it
 * reduces everything; *out_identity when noop_with_empty_axes applies. */
static dlc_status reduce_axes(dlc_grad_ctx *c, const dlc_node *n, int64_t *axes, int32_t *out_count,
                              bool *out_identity) {
    int32_t r = n->inputs[0]->shape.rank, count = 0;
    int64_t raw[DLC_MAX_RANK];
    *out_identity = false;
    if (n->num_inputs > 1 && n->inputs[1] != NULL) {
        if (dlc_value_const_ints(n->inputs[1], raw, DLC_MAX_RANK, &count) != DLC_OK)
            return dlc_fail(DLC_ERR_UNSUPPORTED, "gradient of node %s: the axes must be known at compile time", c->where);
    } else {
        const int64_t *a = dlc_node_attr_ints(n, "axes", &count);
        if (count > DLC_MAX_RANK) return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: too many axes", c->where);
        if (count > 0) memcpy(raw, a, (size_t)count * sizeof *raw);
    }
    bool chosen[DLC_MAX_RANK] = {0};
    if (count == 0) {
        if (dlc_node_attr_int(n, "noop_with_empty_axes", 0) != 0) *out_identity = true;
        for (int32_t i = 0; i < r; i++) chosen[i] = true;
    }
    for (int32_t k = 0; k < count; k++) {
        int32_t ax;
        DLC_TRY(dlc_normalize_axis(n, raw[k], r, &ax));
        chosen[ax] = true;
    }
    *out_count = 0;
    for (int32_t i = 0; i < r; i++)
        if (chosen[i]) axes[(*out_count)++] = i;
    return DLC_OK;
}

/* dx = dy broadcast back over the reduced axes (times 1/count for the mean). */
static dlc_status reduce_back(dlc_grad_ctx *c, const dlc_node *n, dlc_value *dy, bool mean, dlc_value **dx) {
    dlc_value *x = n->inputs[0], *g = dy, *shape;
    int64_t axes[DLC_MAX_RANK];
    int32_t count;
    bool identity;
    DLC_TRY(reduce_axes(c, n, axes, &count, &identity));
    if (identity) {
        *dx = dy;
        return DLC_OK;
    }
    if (dlc_node_attr_int(n, "keepdims", 1) == 0 && count > 0) DLC_TRY(unsqueeze(c, dy, count, axes, &g));
    if (mean) {
        int64_t k = 1;
        for (int32_t i = 0; i < count; i++) {
            if (!dlc_dim_is_static(x->shape.dims[axes[i]]))
                return dlc_fail(DLC_ERR_UNSUPPORTED, "gradient of node %s: reduced axis %d has a symbolic size",
                                c->where, (int)axes[i]);
            k *= x->shape.dims[axes[i]].value;
        }
        DLC_TRY(scale(c, g, k > 0 ? 1.0 / (double)k : 0.0, &g));
    }
    DLC_TRY(dlc_grad_shape_of(c, x, &shape));
    return dlc_grad_binary(c, "Expand", g, shape, dx);
}

RULE(grad_reduce_sum) {
    (void)need;
    return reduce_back(c, n, dy[0], false, &dx[0]);
}

RULE(grad_reduce_mean) {
    (void)need;
    return reduce_back(c, n, dy[0], true, &dx[0]);
}

/* Softmax's axes: one axis from opset 13, the flattened tail before. */
static dlc_status softmax_axes(const dlc_node *n, int64_t *axes, int32_t *count) {
    int32_t r = n->inputs[0]->shape.rank, axis;
    DLC_TRY(dlc_normalize_axis(n, dlc_node_attr_int(n, "axis", n->opset >= 13 ? -1 : 1), r, &axis));
    *count = 0;
    for (int32_t i = axis; i < (n->opset >= 13 ? axis + 1 : r); i++) axes[(*count)++] = i;
    return DLC_OK;
}

/* dx = y * (dy - sum(dy * y)) over the softmax axes */
RULE(grad_softmax) {
    (void)need;
    int64_t axes[DLC_MAX_RANK];
    int32_t count;
    DLC_TRY(softmax_axes(n, axes, &count));
    dlc_value *y = n->outputs[0], *t, *s, *d;
    DLC_TRY(mul(c, dy[0], y, &t));
    DLC_TRY(sum_keep(c, t, count, axes, &s));
    DLC_TRY(dlc_grad_binary(c, "Sub", dy[0], s, &d));
    return mul(c, y, d, &dx[0]);
}

/* dx = dy - exp(y) * sum(dy) over the axes */
RULE(grad_log_softmax) {
    (void)need;
    int64_t axes[DLC_MAX_RANK];
    int32_t count;
    DLC_TRY(softmax_axes(n, axes, &count));
    dlc_value *e, *s, *t;
    DLC_TRY(dlc_grad_unary(c, "Exp", n->outputs[0], &e));
    DLC_TRY(sum_keep(c, dy[0], count, axes, &s));
    DLC_TRY(mul(c, e, s, &t));
    return dlc_grad_binary(c, "Sub", dy[0], t, &dx[0]);
}

typedef struct rule_entry {
    const char *op_type;
    dlc_grad_rule rule;
} rule_entry;

static const rule_entry rules[] = {
    {"Add", grad_add},           {"Sub", grad_sub},
    {"Mul", grad_mul},           {"Div", grad_div},
    {"Pow", grad_pow},           {"Sum", grad_sum},
    {"Neg", grad_neg},           {"Identity", grad_identity},
    {"Relu", grad_relu},         {"Abs", grad_abs},
    {"Sigmoid", grad_sigmoid},   {"Tanh", grad_tanh},
    {"Exp", grad_exp},           {"Log", grad_log},
    {"Sqrt", grad_sqrt},         {"Cast", grad_cast},
    {"MatMul", grad_matmul},     {"Gemm", grad_gemm},
    {"Reshape", grad_reshape},   {"Flatten", grad_reshape},
    {"Squeeze", grad_reshape},   {"Unsqueeze", grad_reshape},
    {"Transpose", grad_transpose}, {"Concat", grad_concat},
    {"Split", grad_split},       {"ReduceSum", grad_reduce_sum},
    {"ReduceMean", grad_reduce_mean}, {"Softmax", grad_softmax},
    {"LogSoftmax", grad_log_softmax},
};

dlc_grad_rule dlc_grad_rule_find(const dlc_node *node) {
    if (node->domain[0] != '\0' && strcmp(node->domain, "ai.onnx") != 0) return NULL;
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (strcmp(rules[i].op_type, node->op_type) == 0) return rules[i].rule;
    return NULL;
}
