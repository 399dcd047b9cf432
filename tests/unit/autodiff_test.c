/* Reverse-mode autodiff (passes/autodiff.c, passes/grad_rules.c) against
 * central finite differences, in float64.
 *
 * Each case is a function that builds a forward graph from its xs. The
 * analytic side builds it with the xs as CONSTs, infers it without folding,
 * appends the gradient of f = sum(dy * y) for a random dy, then folds the
 * whole graph (the native kernels compute every value). The numeric side
 * folds the forward graph at x ± h per element. Both go through the same
 * kernels, so a wrong rule (a missing transpose, a broadcast dim not summed,
 * a fan-out not accumulated) shows as a mismatch. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/graph.h"
#include "ir/op_registry.h"
#include "passes/autodiff.h"
#include "passes/pipeline.h"
#include "runtime/status.h"

#define MAX_XS 6

typedef dlc_value *(*forward_fn)(dlc_graph *g, dlc_value *const *xs);

typedef struct grad_case {
    const char *what;
    forward_fn forward;
    int32_t num_xs;
    dlc_shape shapes[MAX_XS];
    double lo, hi;             /* range of the xs' values */
    bool skip_grad[MAX_XS];    /* x given to the graph but not differentiated */
} grad_case;

/* ---- building forward graphs ---- */

static int name_counter;

static dlc_value *fresh(dlc_graph *g) {
    char name[32];
    snprintf(name, sizeof name, "v%d", name_counter++);
    dlc_value *v;
    cr_assert_eq(dlc_graph_add_value(g, name, DLC_VALUE_INTERMEDIATE, DLC_DTYPE_UNDEFINED, NULL, &v), DLC_OK);
    return v;
}

static dlc_node *add_node(dlc_graph *g, const char *op, int32_t n_in, dlc_value *const *in, dlc_value **out) {
    char name[32];
    snprintf(name, sizeof name, "n%d_%s", name_counter, op);
    *out = fresh(g);
    dlc_node *n;
    cr_assert_eq(dlc_graph_add_node(g, name, op, "", 13, n_in, in, 1, out, &n), DLC_OK, "%s", dlc_last_error());
    return n;
}

static dlc_value *op1(dlc_graph *g, const char *op, dlc_value *a) {
    dlc_value *y;
    add_node(g, op, 1, &a, &y);
    return y;
}

static dlc_value *op2(dlc_graph *g, const char *op, dlc_value *a, dlc_value *b) {
    dlc_value *y;
    add_node(g, op, 2, (dlc_value *[]){a, b}, &y);
    return y;
}

static void set_int(dlc_node *n, const char *name, int64_t v) {
    dlc_attr a = {.name = (char *)name, .type = DLC_ATTR_INT, .i = v};
    cr_assert_eq(dlc_node_add_attr(n, &a), DLC_OK);
}

static void set_float(dlc_node *n, const char *name, double v) {
    dlc_attr a = {.name = (char *)name, .type = DLC_ATTR_FLOAT, .f = v};
    cr_assert_eq(dlc_node_add_attr(n, &a), DLC_OK);
}

static void set_ints(dlc_node *n, const char *name, int32_t count, const int64_t *v) {
    dlc_attr a = {.name = (char *)name, .type = DLC_ATTR_INTS, .ints = (int64_t *)v, .count = count};
    cr_assert_eq(dlc_node_add_attr(n, &a), DLC_OK);
}

static dlc_value *ints(dlc_graph *g, int32_t count, const int64_t *v) {
    char name[32];
    snprintf(name, sizeof name, "i%d", name_counter++);
    dlc_shape s = dlc_shape_make(1, (int64_t[]){count});
    dlc_value *c;
    cr_assert_eq(dlc_graph_add_const(g, name, DLC_INT64, &s, v, (size_t)count * sizeof *v, &c), DLC_OK);
    return c;
}

static dlc_value *scalar(dlc_graph *g, double v) {
    char name[32];
    snprintf(name, sizeof name, "s%d", name_counter++);
    dlc_shape s = {.rank = 0};
    dlc_value *c;
    cr_assert_eq(dlc_graph_add_const(g, name, DLC_FLOAT64, &s, &v, sizeof v, &c), DLC_OK);
    return c;
}

/* ---- running cases ---- */

static void fill(double *p, int64_t n, uint32_t seed, double lo, double hi) {
    uint32_t s = seed * 2654435761u + 97u;
    for (int64_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        p[i] = lo + (hi - lo) * (double)(s >> 8) / 16777216.0;
    }
}

static void set_outputs(dlc_graph *g, int32_t count, dlc_value *const *outs) {
    free(g->outputs);
    g->outputs = malloc(sizeof *g->outputs * (size_t)count);
    memcpy(g->outputs, outs, sizeof *outs * (size_t)count);
    g->num_outputs = count;
    dlc_graph_update_uses(g);
}

/* A graph with the xs as float64 CONSTs holding data[k], and the forward
 * nodes appended. */
static dlc_graph *build(const grad_case *gc, double *const *data, dlc_value **xs, dlc_value **out_y) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("autodiff", &g), DLC_OK);
    for (int32_t k = 0; k < gc->num_xs; k++) {
        char name[16];
        snprintf(name, sizeof name, "x%d", (int)k);
        size_t n = (size_t)dlc_shape_numel(&gc->shapes[k]);
        cr_assert_eq(dlc_graph_add_const(g, name, DLC_FLOAT64, &gc->shapes[k], data[k], n * sizeof(double), &xs[k]),
                     DLC_OK, "%s", dlc_last_error());
    }
    *out_y = gc->forward(g, xs);
    return g;
}

/* Binds and infers every node in order, folding nothing. */
static void infer_only(dlc_graph *g) {
    cr_assert_eq(dlc_graph_toposort(g), DLC_OK, "%s", dlc_last_error());
    for (int32_t i = 0; i < g->num_nodes; i++) {
        dlc_node *n = g->nodes[i];
        cr_assert_eq(dlc_node_bind_schema(n), DLC_OK, "%s", dlc_last_error());
        cr_assert_eq(n->schema->infer(g, n), DLC_OK, "%s", dlc_last_error());
    }
}

/* f = sum(dy * y) at the given xs. */
static double objective(const grad_case *gc, double *const *data, const double *dy) {
    dlc_value *xs[MAX_XS], *y;
    dlc_graph *g = build(gc, data, xs, &y);
    set_outputs(g, 1, &y);
    cr_assert_eq(dlc_infer_and_fold(g), DLC_OK, "%s: %s", gc->what, dlc_last_error());
    cr_assert_eq(y->kind, DLC_VALUE_CONST, "%s: y did not fold", gc->what);
    cr_assert_eq(y->dtype, DLC_FLOAT64);
    const double *yv = y->data;
    double f = 0;
    for (int64_t i = 0; i < dlc_value_numel(y); i++) f += dy[i] * yv[i];
    dlc_graph_free(g);
    return f;
}

/* Checks every differentiated x's gradient against central differences;
 * returns the number of forward+backward nodes autodiff added. */
static int32_t check_case(const grad_case *gc) {
    double *data[MAX_XS];
    for (int32_t k = 0; k < gc->num_xs; k++) {
        int64_t n = dlc_shape_numel(&gc->shapes[k]);
        data[k] = malloc((size_t)(n > 0 ? n : 1) * sizeof(double));
        fill(data[k], n, (uint32_t)(k + 1), gc->lo, gc->hi);
    }
    dlc_value *xs[MAX_XS], *y, *grads[MAX_XS];
    dlc_graph *g = build(gc, data, xs, &y);
    infer_only(g);
    int64_t ny = dlc_value_numel(y);
    double *dy_data = malloc((size_t)(ny > 0 ? ny : 1) * sizeof(double));
    fill(dy_data, ny, 99, -1.0, 1.0);
    dlc_value *dy;
    cr_assert_eq(dlc_graph_add_const(g, "dy", DLC_FLOAT64, &y->shape, dy_data, (size_t)ny * sizeof(double), &dy),
                 DLC_OK);
    dlc_value *wrt[MAX_XS];
    int32_t nw = 0;
    for (int32_t k = 0; k < gc->num_xs; k++)
        if (!gc->skip_grad[k]) wrt[nw++] = xs[k];
    int32_t before = g->num_nodes;
    cr_assert_eq(dlc_autodiff(g, y, dy, nw, wrt, "grad", grads), DLC_OK, "%s: %s", gc->what, dlc_last_error());
    int32_t added = g->num_nodes - before;
    for (int32_t k = 0; k < nw; k++) {
        cr_assert_eq(grads[k]->dtype, DLC_FLOAT64, "%s: gradient %d dtype", gc->what, (int)k);
        cr_assert(dlc_shape_equal(&grads[k]->shape, &wrt[k]->shape), "%s: gradient %d has another shape than x",
                  gc->what, (int)k);
    }
    set_outputs(g, nw, grads);
    cr_assert_eq(dlc_graph_verify(g), DLC_OK, "%s: %s", gc->what, dlc_last_error());
    cr_assert_eq(dlc_infer_and_fold(g), DLC_OK, "%s: %s", gc->what, dlc_last_error());

    const double h = 1e-6;
    for (int32_t k = 0, w = 0; k < gc->num_xs; k++) {
        if (gc->skip_grad[k]) continue;
        dlc_value *gk = grads[w++];
        cr_assert_eq(gk->kind, DLC_VALUE_CONST, "%s: gradient of x%d did not fold", gc->what, (int)k);
        const double *analytic = gk->data;
        for (int64_t i = 0; i < dlc_shape_numel(&gc->shapes[k]); i++) {
            double saved = data[k][i];
            data[k][i] = saved + h;
            double up = objective(gc, data, dy_data);
            data[k][i] = saved - h;
            double down = objective(gc, data, dy_data);
            data[k][i] = saved;
            double numeric = (up - down) / (2 * h);
            cr_assert(fabs(analytic[i] - numeric) <= 1e-6 * (1.0 + fabs(numeric)),
                      "%s: d/dx%d[%lld] is %.10g, finite differences give %.10g", gc->what, (int)k, (long long)i,
                      analytic[i], numeric);
        }
    }
    dlc_graph_free(g);
    free(dy_data);
    for (int32_t k = 0; k < gc->num_xs; k++) free(data[k]);
    return added;
}

#define SHAPE(...) dlc_shape_make((int32_t)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), (int64_t[]){__VA_ARGS__})
#define SCALAR ((dlc_shape){.rank = 0})

/* ---- elementwise with broadcasting ---- */

static dlc_value *fw_add(dlc_graph *g, dlc_value *const *x) { return op2(g, "Add", x[0], x[1]); }
static dlc_value *fw_sub(dlc_graph *g, dlc_value *const *x) { return op2(g, "Sub", x[0], x[1]); }
static dlc_value *fw_mul(dlc_graph *g, dlc_value *const *x) { return op2(g, "Mul", x[0], x[1]); }
static dlc_value *fw_div(dlc_graph *g, dlc_value *const *x) { return op2(g, "Div", x[0], x[1]); }

Test(autodiff, binary_ops_same_shape) {
    grad_case cases[] = {
        {"Add", fw_add, 2, {SHAPE(2, 3), SHAPE(2, 3)}, -1, 1, {0}},
        {"Sub", fw_sub, 2, {SHAPE(2, 3), SHAPE(2, 3)}, -1, 1, {0}},
        {"Mul", fw_mul, 2, {SHAPE(2, 3), SHAPE(2, 3)}, -1, 1, {0}},
        {"Div", fw_div, 2, {SHAPE(2, 3), SHAPE(2, 3)}, 0.5, 2, {0}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check_case(&cases[i]);
}

/* Broadcast operands: leading dims and size-1 dims must be summed back. */
Test(autodiff, binary_ops_broadcast) {
    grad_case cases[] = {
        {"Add [2,3]+[3]", fw_add, 2, {SHAPE(2, 3), SHAPE(3)}, -1, 1, {0}},
        {"Sub [1,3]-[2,1]", fw_sub, 2, {SHAPE(1, 3), SHAPE(2, 1)}, -1, 1, {0}},
        {"Mul [2,1,3]*[4,1]", fw_mul, 2, {SHAPE(2, 1, 3), SHAPE(4, 1)}, -1, 1, {0}},
        {"Div [2,3]/scalar", fw_div, 2, {SHAPE(2, 3), SCALAR}, 0.5, 2, {0}},
        {"Mul scalar*[3,2]", fw_mul, 2, {SCALAR, SHAPE(3, 2)}, -1, 1, {0}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check_case(&cases[i]);
}

/* ---- elementwise unary ---- */

static const char *unary_op;
static dlc_value *fw_unary(dlc_graph *g, dlc_value *const *x) { return op1(g, unary_op, x[0]); }

Test(autodiff, unary_ops) {
    static const char *const signed_ops[] = {"Neg", "Relu", "Sigmoid", "Tanh", "Exp", "Abs", "Identity"};
    static const char *const positive_ops[] = {"Log", "Sqrt"};
    for (size_t i = 0; i < sizeof signed_ops / sizeof signed_ops[0]; i++) {
        unary_op = signed_ops[i];
        grad_case c = {signed_ops[i], fw_unary, 1, {SHAPE(3, 4)}, -2, 2, {0}};
        check_case(&c);
    }
    for (size_t i = 0; i < sizeof positive_ops / sizeof positive_ops[0]; i++) {
        unary_op = positive_ops[i];
        grad_case c = {positive_ops[i], fw_unary, 1, {SHAPE(3, 4)}, 0.3, 3, {0}};
        check_case(&c);
    }
}

static dlc_value *fw_pow_const(dlc_graph *g, dlc_value *const *x) { return op2(g, "Pow", x[0], scalar(g, 2.5)); }
static dlc_value *fw_pow_int(dlc_graph *g, dlc_value *const *x) {
    int64_t three = 3;
    dlc_shape s = {.rank = 0};
    dlc_value *p;
    cr_assert_eq(dlc_graph_add_const(g, "three", DLC_INT64, &s, &three, sizeof three, &p), DLC_OK);
    return op2(g, "Pow", x[0], p);
}
static dlc_value *fw_pow(dlc_graph *g, dlc_value *const *x) { return op2(g, "Pow", x[0], x[1]); }

Test(autodiff, pow) {
    grad_case cases[] = {
        {"Pow(x, 2.5)", fw_pow_const, 1, {SHAPE(2, 3)}, 0.5, 2, {0}},
        {"Pow(x, int64 3)", fw_pow_int, 1, {SHAPE(2, 3)}, -2, 2, {0}},
        {"Pow(x, y) [2,3]^[3]", fw_pow, 2, {SHAPE(2, 3), SHAPE(3)}, 0.5, 2, {0}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check_case(&cases[i]);
}

/* ---- linear algebra ---- */

static dlc_value *fw_matmul(dlc_graph *g, dlc_value *const *x) { return op2(g, "MatMul", x[0], x[1]); }

Test(autodiff, matmul) {
    grad_case cases[] = {
        {"[2,3]@[3,4]", fw_matmul, 2, {SHAPE(2, 3), SHAPE(3, 4)}, -1, 1, {0}},
        {"[2,2,3]@[3,4] (b broadcast over the batch)", fw_matmul, 2, {SHAPE(2, 2, 3), SHAPE(3, 4)}, -1, 1, {0}},
        {"[2,1,2,3]@[3,3,2]", fw_matmul, 2, {SHAPE(2, 1, 2, 3), SHAPE(3, 3, 2)}, -1, 1, {0}},
        {"[3]@[3,4]", fw_matmul, 2, {SHAPE(3), SHAPE(3, 4)}, -1, 1, {0}},
        {"[2,3]@[3]", fw_matmul, 2, {SHAPE(2, 3), SHAPE(3)}, -1, 1, {0}},
        {"[3]@[3]", fw_matmul, 2, {SHAPE(3), SHAPE(3)}, -1, 1, {0}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check_case(&cases[i]);
}

static int64_t gemm_ta, gemm_tb;
static dlc_value *fw_gemm(dlc_graph *g, dlc_value *const *x) {
    dlc_value *y;
    dlc_node *n = add_node(g, "Gemm", 3, (dlc_value *[]){x[0], x[1], x[2]}, &y);
    set_float(n, "alpha", 0.7);
    set_float(n, "beta", -1.3);
    set_int(n, "transA", gemm_ta);
    set_int(n, "transB", gemm_tb);
    return y;
}

Test(autodiff, gemm_all_transpositions) {
    for (gemm_ta = 0; gemm_ta < 2; gemm_ta++)
        for (gemm_tb = 0; gemm_tb < 2; gemm_tb++) {
            char what[64];
            snprintf(what, sizeof what, "Gemm transA=%d transB=%d", (int)gemm_ta, (int)gemm_tb);
            grad_case c = {what, fw_gemm, 3,
                           {gemm_ta ? SHAPE(3, 2) : SHAPE(2, 3), gemm_tb ? SHAPE(4, 3) : SHAPE(3, 4), SHAPE(4)},
                           -1, 1, {0}};
            check_case(&c);
        }
}

/* ---- shape ops ---- */

/* Transpose → Reshape → Unsqueeze → Flatten → Squeeze, times a weight so
 * every element's gradient differs. */
static dlc_value *fw_shape_chain(dlc_graph *g, dlc_value *const *x) {
    dlc_value *t;
    set_ints(add_node(g, "Transpose", 1, &x[0], &t), "perm", 3, (int64_t[]){2, 0, 1});
    dlc_value *r = op2(g, "Reshape", t, ints(g, 2, (int64_t[]){4, 6}));
    dlc_value *u = op2(g, "Unsqueeze", r, ints(g, 1, (int64_t[]){0}));
    dlc_value *f;
    set_int(add_node(g, "Flatten", 1, &u, &f), "axis", 1);
    dlc_value *s = op2(g, "Squeeze", f, ints(g, 1, (int64_t[]){0}));
    return op2(g, "Mul", s, x[1]);
}

Test(autodiff, transpose_and_reshapes) {
    grad_case c = {"shape chain", fw_shape_chain, 2, {SHAPE(2, 3, 4), SHAPE(24)}, -1, 1, {0}};
    check_case(&c);
}

static dlc_value *fw_concat(dlc_graph *g, dlc_value *const *x) {
    dlc_value *y;
    set_int(add_node(g, "Concat", 3, (dlc_value *[]){x[0], x[1], x[2]}, &y), "axis", 1);
    return y;
}

/* Split into three, the middle piece unused (its gradient is zero). */
static dlc_value *fw_split(dlc_graph *g, dlc_value *const *x) {
    dlc_value *outs[3] = {fresh(g), fresh(g), fresh(g)};
    dlc_node *n;
    cr_assert_eq(dlc_graph_add_node(g, "split", "Split", "", 13, 2, (dlc_value *[]){x[0], ints(g, 3, (int64_t[]){1, 2, 2})},
                                    3, outs, &n),
                 DLC_OK);
    set_int(n, "axis", -1);
    dlc_value *a = op2(g, "Mul", outs[0], outs[0]);
    return op2(g, "Sub", outs[2], a);
}

Test(autodiff, concat_and_split) {
    grad_case c1 = {"Concat axis 1", fw_concat, 3, {SHAPE(2, 1), SHAPE(2, 3), SHAPE(2, 2)}, -1, 1, {0}};
    check_case(&c1);
    grad_case c2 = {"Split axis -1", fw_split, 1, {SHAPE(2, 5)}, -1, 1, {0}};
    check_case(&c2);
}

/* ---- reductions and softmax ---- */

static int64_t keepdims;
static dlc_value *fw_reduce_sum(dlc_graph *g, dlc_value *const *x) {
    dlc_value *y;
    set_int(add_node(g, "ReduceSum", 2, (dlc_value *[]){x[0], ints(g, 2, (int64_t[]){-1, 0})}, &y), "keepdims",
            keepdims);
    return y;
}
static dlc_value *fw_reduce_mean(dlc_graph *g, dlc_value *const *x) {
    dlc_value *y;
    dlc_node *n = add_node(g, "ReduceMean", 1, &x[0], &y);
    set_ints(n, "axes", 1, (int64_t[]){1});
    set_int(n, "keepdims", keepdims);
    return y;
}
static dlc_value *fw_reduce_mean_all(dlc_graph *g, dlc_value *const *x) {
    dlc_value *y;
    set_int(add_node(g, "ReduceMean", 1, &x[0], &y), "keepdims", keepdims);
    return y;
}

Test(autodiff, reductions) {
    for (keepdims = 0; keepdims < 2; keepdims++) {
        grad_case cases[] = {
            {"ReduceSum axes [-1,0]", fw_reduce_sum, 1, {SHAPE(2, 3, 4)}, -1, 1, {0}},
            {"ReduceMean axes [1]", fw_reduce_mean, 1, {SHAPE(2, 3, 4)}, -1, 1, {0}},
            {"ReduceMean all", fw_reduce_mean_all, 1, {SHAPE(2, 3)}, -1, 1, {0}},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check_case(&cases[i]);
    }
}

static const char *softmax_op;
static int64_t softmax_axis;
static dlc_value *fw_softmax(dlc_graph *g, dlc_value *const *x) {
    dlc_value *y;
    set_int(add_node(g, softmax_op, 1, &x[0], &y), "axis", softmax_axis);
    return y;
}

Test(autodiff, softmax_and_log_softmax) {
    static const char *const ops[] = {"Softmax", "LogSoftmax"};
    for (size_t i = 0; i < 2; i++)
        for (softmax_axis = -1; softmax_axis <= 1; softmax_axis++) {
            softmax_op = ops[i];
            char what[64];
            snprintf(what, sizeof what, "%s axis %d", ops[i], (int)softmax_axis);
            grad_case c = {what, fw_softmax, 1, {SHAPE(2, 3, 4)}, -2, 2, {0}};
            check_case(&c);
        }
}

/* ---- graph structure ---- */

/* x is read by four nodes: y = x*x + exp(x) - x; the contributions add up. */
static dlc_value *fw_fan_out(dlc_graph *g, dlc_value *const *x) {
    dlc_value *sq = op2(g, "Mul", x[0], x[0]);
    dlc_value *e = op1(g, "Exp", x[0]);
    return op2(g, "Sub", op2(g, "Add", sq, e), x[0]);
}

Test(autodiff, fan_out_accumulates) {
    grad_case c = {"fan-out", fw_fan_out, 1, {SHAPE(5)}, -1, 1, {0}};
    cr_assert_gt(check_case(&c), 0);
}

/* y depends on x0 only: x1's gradient is zeros of its shape. */
static dlc_value *fw_unreached(dlc_graph *g, dlc_value *const *x) { return op1(g, "Tanh", x[0]); }

Test(autodiff, unreached_x_gets_zeros) {
    grad_case c = {"unreached", fw_unreached, 2, {SHAPE(3), SHAPE(2, 2)}, -1, 1, {0}};
    check_case(&c);
}

/* A small MLP and its loss: mean((relu(x W1 + b1) W2 + b2 - t)^2); gradient
 * with respect to the weights and biases, x and t held fixed. */
static dlc_value *fw_mlp(dlc_graph *g, dlc_value *const *x) {
    dlc_value *h = op1(g, "Relu", op2(g, "Add", op2(g, "MatMul", x[0], x[1]), x[2]));
    dlc_value *o = op2(g, "Add", op2(g, "MatMul", h, x[3]), x[4]);
    dlc_value *d = op2(g, "Sub", o, x[5]);
    dlc_value *loss;
    set_int(add_node(g, "ReduceMean", 1, (dlc_value *[]){op2(g, "Mul", d, d)}, &loss), "keepdims", 0);
    return loss;
}

Test(autodiff, mlp_loss_wrt_weights) {
    grad_case c = {"MLP",
                   fw_mlp,
                   6,
                   {SHAPE(4, 3), SHAPE(3, 5), SHAPE(5), SHAPE(5, 2), SHAPE(2), SHAPE(4, 2)},
                   -1,
                   1,
                   {true, false, false, false, false, true}};
    check_case(&c);
}

/* ---- refusals ---- */

Test(autodiff, op_without_rule_names_the_node) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("g", &g), DLC_OK);
    dlc_shape s = SHAPE(3);
    dlc_value *x, *y, *z, *grad;
    cr_assert_eq(dlc_graph_add_value(g, "x", DLC_VALUE_INPUT, DLC_FLOAT32, &s, &x), DLC_OK);
    cr_assert_eq(dlc_graph_add_value(g, "y", DLC_VALUE_INTERMEDIATE, DLC_DTYPE_UNDEFINED, NULL, &y), DLC_OK);
    cr_assert_eq(dlc_graph_add_value(g, "z", DLC_VALUE_INTERMEDIATE, DLC_DTYPE_UNDEFINED, NULL, &z), DLC_OK);
    dlc_node *n;
    cr_assert_eq(dlc_graph_add_node(g, "the_sine", "Sin", "", 13, 1, &x, 1, &y, &n), DLC_OK);
    cr_assert_eq(dlc_graph_add_node(g, "double", "Add", "", 13, 2, (dlc_value *[]){y, y}, 1, &z, &n), DLC_OK);
    infer_only(g);
    cr_assert_eq(dlc_autodiff(g, z, NULL, 1, &x, "grad", &grad), DLC_ERR_UNSUPPORTED);
    cr_assert(strstr(dlc_last_error(), "'the_sine'") != NULL && strstr(dlc_last_error(), "Sin") != NULL, "%s",
              dlc_last_error());
    dlc_graph_free(g);
}

Test(autodiff, integer_y_is_refused) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("g", &g), DLC_OK);
    dlc_shape s = SHAPE(3);
    dlc_value *x, *y, *grad;
    cr_assert_eq(dlc_graph_add_value(g, "x", DLC_VALUE_INPUT, DLC_INT64, &s, &x), DLC_OK);
    cr_assert_eq(dlc_graph_add_value(g, "y", DLC_VALUE_INTERMEDIATE, DLC_DTYPE_UNDEFINED, NULL, &y), DLC_OK);
    dlc_node *n;
    cr_assert_eq(dlc_graph_add_node(g, "neg", "Neg", "", 13, 1, &x, 1, &y, &n), DLC_OK);
    infer_only(g);
    cr_assert_eq(dlc_autodiff(g, y, NULL, 1, &x, "grad", &grad), DLC_ERR_UNSUPPORTED);
    cr_assert(strstr(dlc_last_error(), "int64") != NULL, "%s", dlc_last_error());
    dlc_graph_free(g);
}

/* ---- the Gradient op (ai.onnx.preview.training) ---- */

/* y = ReduceSum(W * x + W * W) with W an initializer (CONST) and x a CONST:
 * dy/dW = x + 2W. Folding must leave W's dependents alone until Gradient is
 * expanded, or nothing would flow back to W. Gradient comes first in file
 * order, before the nodes computing y. */
static dlc_graph *gradient_graph(const char *y_name, dlc_value **out_grad) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("g", &g), DLC_OK);
    dlc_shape s = SHAPE(3);
    double w_data[3] = {0.5, -1.0, 2.0}, x_data[3] = {3.0, 4.0, -5.0};
    dlc_value *w, *x, *grad = fresh(g);
    cr_assert_eq(dlc_graph_add_const(g, "W", DLC_FLOAT64, &s, w_data, sizeof w_data, &w), DLC_OK);
    cr_assert_eq(dlc_graph_add_const(g, "x", DLC_FLOAT64, &s, x_data, sizeof x_data, &x), DLC_OK);
    dlc_node *n;
    cr_assert_eq(dlc_graph_add_node(g, "grad", "Gradient", "ai.onnx.preview.training", 1, 1, &w, 1, &grad, &n), DLC_OK);
    char *xs[] = {"W"};
    dlc_attr xs_attr = {.name = "xs", .type = DLC_ATTR_STRINGS, .strings = xs, .count = 1};
    dlc_attr y_attr = {.name = "y", .type = DLC_ATTR_STRING, .s = (char *)y_name, .s_len = strlen(y_name)};
    cr_assert_eq(dlc_node_add_attr(n, &xs_attr), DLC_OK);
    cr_assert_eq(dlc_node_add_attr(n, &y_attr), DLC_OK);
    dlc_value *t = op2(g, "Add", op2(g, "Mul", w, x), op2(g, "Mul", w, w)), *y;
    set_int(add_node(g, "ReduceSum", 1, &t, &y), "keepdims", 0);
    free(y->name);
    y->name = strdup("y");
    set_outputs(g, 2, (dlc_value *[]){y, grad});
    *out_grad = grad;
    return g;
}

Test(gradient_op, const_xs_are_differentiated_then_folded) {
    dlc_value *grad;
    dlc_graph *g = gradient_graph("y", &grad);
    cr_assert_eq(dlc_infer_and_fold(g), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(grad->kind, DLC_VALUE_CONST, "the gradient of constants folds");
    cr_assert_eq(grad->shape.rank, 1);
    const double *d = grad->data;
    const double want[3] = {3.0 + 1.0, 4.0 - 2.0, -5.0 + 4.0};
    for (int i = 0; i < 3; i++) cr_assert_float_eq(d[i], want[i], 1e-12, "dy/dW[%d] = %g, want %g", i, d[i], want[i]);
    for (int32_t i = 0; i < g->num_nodes; i++)
        cr_assert_str_neq(g->nodes[i]->op_type, "Gradient", "the Gradient node is expanded");
    dlc_graph_free(g);
}

Test(gradient_op, unknown_y_names_the_node) {
    dlc_value *grad;
    dlc_graph *g = gradient_graph("nowhere", &grad);
    cr_assert_neq(dlc_infer_and_fold(g), DLC_OK);
    cr_assert(strstr(dlc_last_error(), "'grad'") != NULL && strstr(dlc_last_error(), "'nowhere'") != NULL, "%s",
              dlc_last_error());
    dlc_graph_free(g);
}
