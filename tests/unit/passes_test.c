/* Graph passes: constant folding of shape arithmetic, BatchNormalization
 * folding (numerics checked by running the native kernels before and after),
 * dead code and identity elimination. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ir/graph.h"
#include "ir/op_registry.h"
#include "passes/pipeline.h"

static dlc_graph *new_graph(void) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("g", &g), DLC_OK);
    return g;
}

static dlc_value *tensor(dlc_graph *g, const char *name, dlc_value_kind kind, int32_t rank, const int64_t *dims) {
    dlc_shape s = dlc_shape_make(rank, dims);
    dlc_value *v;
    cr_assert_eq(dlc_graph_add_value(g, name, kind, DLC_FLOAT32, rank < 0 ? NULL : &s, &v), DLC_OK, "%s",
                 dlc_last_error());
    return v;
}

static dlc_value *temp(dlc_graph *g, const char *name) { return tensor(g, name, DLC_VALUE_INTERMEDIATE, -1, NULL); }

static dlc_value *const_f32(dlc_graph *g, const char *name, int32_t rank, const int64_t *dims, const float *data) {
    dlc_shape s = dlc_shape_make(rank, dims);
    dlc_value *v;
    cr_assert_eq(dlc_graph_add_const(g, name, DLC_FLOAT32, &s, data, (size_t)dlc_shape_numel(&s) * sizeof(float), &v),
                 DLC_OK, "%s", dlc_last_error());
    return v;
}

static dlc_value *const_i64(dlc_graph *g, const char *name, int32_t rank, const int64_t *dims, const int64_t *data) {
    dlc_shape s = dlc_shape_make(rank, dims);
    dlc_value *v;
    cr_assert_eq(dlc_graph_add_const(g, name, DLC_INT64, &s, data, (size_t)dlc_shape_numel(&s) * sizeof(int64_t), &v),
                 DLC_OK, "%s", dlc_last_error());
    return v;
}

static dlc_node *node(dlc_graph *g, const char *name, const char *op, int32_t n_in, dlc_value **in, int32_t n_out,
                      dlc_value **out) {
    dlc_node *n;
    cr_assert_eq(dlc_graph_add_node(g, name, op, "", 13, n_in, in, n_out, out, &n), DLC_OK, "%s", dlc_last_error());
    return n;
}

static void attr_int(dlc_node *n, const char *name, int64_t v) {
    dlc_attr a = {.name = (char *)name, .type = DLC_ATTR_INT, .i = v};
    cr_assert_eq(dlc_node_add_attr(n, &a), DLC_OK);
}

static void attr_ints(dlc_node *n, const char *name, int32_t count, const int64_t *v) {
    dlc_attr a = {.name = (char *)name, .type = DLC_ATTR_INTS, .ints = (int64_t *)v, .count = count};
    cr_assert_eq(dlc_node_add_attr(n, &a), DLC_OK);
}

static void set_outputs(dlc_graph *g, int32_t count, dlc_value **outs) {
    g->outputs = malloc(sizeof *g->outputs * (size_t)count);
    memcpy(g->outputs, outs, sizeof *outs * (size_t)count);
    g->num_outputs = count;
    dlc_graph_update_uses(g);
}

static int count_ops(const dlc_graph *g, const char *op) {
    int n = 0;
    for (int32_t i = 0; i < g->num_nodes; i++) n += strcmp(g->nodes[i]->op_type, op) == 0;
    return n;
}

/* Deterministic, varied test data. */
static void fill(float *data, int64_t n, int seed, float lo, float hi) {
    uint32_t state = 2654435761u * (uint32_t)(seed + 1);
    for (int64_t i = 0; i < n; i++) {
        state = state * 1664525u + 1013904223u;
        data[i] = lo + (hi - lo) * (float)(state >> 8) / 16777216.0f;
    }
}

/* ---- constant folding ---- */

/* Reshape(x, Concat(Unsqueeze(Gather(Shape(x), 0)), [-1])): the shape
 * computation folds away and Reshape sees a constant [2,-1]. */
Test(passes, shape_chain_folds_into_a_constant_shape) {
    dlc_graph *g = new_graph();
    dlc_value *x = tensor(g, "x", DLC_VALUE_INPUT, 3, (int64_t[]){2, 3, 4});
    dlc_value *shape = temp(g, "shape"), *dim0 = temp(g, "dim0"), *dim0v = temp(g, "dim0v");
    dlc_value *target = temp(g, "target"), *y = temp(g, "y");
    dlc_value *zero = const_i64(g, "zero", 0, NULL, (int64_t[]){0});
    dlc_value *axes = const_i64(g, "axes", 1, (int64_t[]){1}, (int64_t[]){0});
    dlc_value *minus_one = const_i64(g, "minus_one", 1, (int64_t[]){1}, (int64_t[]){-1});
    node(g, "shape_of_x", "Shape", 1, &x, 1, &shape);
    attr_int(node(g, "first_dim", "Gather", 2, (dlc_value *[]){shape, zero}, 1, &dim0), "axis", 0);
    node(g, "as_vector", "Unsqueeze", 2, (dlc_value *[]){dim0, axes}, 1, &dim0v);
    attr_int(node(g, "new_shape", "Concat", 2, (dlc_value *[]){dim0v, minus_one}, 1, &target), "axis", 0);
    node(g, "flatten", "Reshape", 2, (dlc_value *[]){x, target}, 1, &y);
    set_outputs(g, 1, &y);

    cr_assert_eq(dlc_infer_and_fold(g), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(g->num_nodes, 1, "only Reshape should remain, %d nodes", g->num_nodes);
    const dlc_node *reshape = g->nodes[0];
    cr_assert_str_eq(reshape->op_type, "Reshape");
    const dlc_value *folded = reshape->inputs[1];
    cr_assert_eq(folded->kind, DLC_VALUE_CONST);
    cr_assert_eq(folded->dtype, DLC_INT64);
    int64_t values[4];
    int32_t count;
    cr_assert_eq(dlc_value_const_ints(folded, values, 4, &count), DLC_OK);
    cr_assert_eq(count, 2);
    cr_assert_eq(values[0], 2);
    cr_assert_eq(values[1], -1);
    cr_assert_eq(y->shape.rank, 2);
    cr_assert_eq(y->shape.dims[0].value, 2);
    cr_assert_eq(y->shape.dims[1].value, 12);
    /* the folded intermediates and their inputs are gone */
    cr_assert_null(dlc_graph_find_value(g, "zero"));
    cr_assert_null(dlc_graph_find_value(g, "dim0"));
    cr_assert_eq(dlc_graph_verify(g), DLC_OK, "%s", dlc_last_error());
    dlc_graph_free(g);
}

Test(passes, constant_subgraph_folds_to_values) {
    dlc_graph *g = new_graph();
    dlc_value *a = const_f32(g, "a", 1, (int64_t[]){3}, (float[]){1, -2, 3});
    dlc_value *b = const_f32(g, "b", 1, (int64_t[]){3}, (float[]){0.5f, 0.5f, 0.5f});
    dlc_value *x = tensor(g, "x", DLC_VALUE_INPUT, 1, (int64_t[]){3});
    dlc_value *s = temp(g, "s"), *r = temp(g, "r"), *y = temp(g, "y");
    node(g, "sum", "Add", 2, (dlc_value *[]){a, b}, 1, &s);
    node(g, "relu", "Relu", 1, &s, 1, &r);
    node(g, "out", "Mul", 2, (dlc_value *[]){x, r}, 1, &y);
    set_outputs(g, 1, &y);
    cr_assert_eq(dlc_infer_and_fold(g), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(g->num_nodes, 1);
    const dlc_value *folded = g->nodes[0]->inputs[1];
    cr_assert_eq(folded->kind, DLC_VALUE_CONST);
    const float *f = folded->data;
    cr_assert_float_eq(f[0], 1.5f, 1e-6);
    cr_assert_float_eq(f[1], 0.0f, 1e-6);
    cr_assert_float_eq(f[2], 3.5f, 1e-6);
    dlc_graph_free(g);
}

Test(passes, inference_errors_name_the_node) {
    dlc_graph *g = new_graph();
    dlc_value *a = tensor(g, "a", DLC_VALUE_INPUT, 2, (int64_t[]){2, 3});
    dlc_value *b = tensor(g, "b", DLC_VALUE_INPUT, 2, (int64_t[]){4, 5});
    dlc_value *y = temp(g, "y");
    node(g, "bad_matmul", "MatMul", 2, (dlc_value *[]){a, b}, 1, &y);
    set_outputs(g, 1, &y);
    cr_assert_neq(dlc_infer_and_fold(g), DLC_OK);
    cr_assert(strstr(dlc_last_error(), "bad_matmul") != NULL, "%s", dlc_last_error());
    dlc_graph_free(g);
}

/* ---- BatchNormalization folding ---- */

typedef enum producer_kind { PRODUCER_CONV, PRODUCER_CONV_GROUPED, PRODUCER_GEMM, PRODUCER_MATMUL } producer_kind;

enum { N = 2, C_IN = 4, C_OUT = 6, HW = 5, FEATURES = 7 };

/* x → Conv/Gemm/MatMul (constant weights) → BatchNormalization → y. With
 * x_data, x is a constant (so folding computes y); otherwise an input. */
static dlc_graph *bn_graph(producer_kind kind, const float *x_data) {
    dlc_graph *g = new_graph();
    bool conv = kind == PRODUCER_CONV || kind == PRODUCER_CONV_GROUPED;
    int64_t group = kind == PRODUCER_CONV_GROUPED ? 2 : 1;
    int64_t x_dims[4] = {N, C_IN, HW, HW}, x_rank = conv ? 4 : 2;
    if (!conv) x_dims[1] = FEATURES;
    dlc_value *x;
    if (x_data != NULL) x = const_f32(g, "x", (int32_t)x_rank, x_dims, x_data);
    else x = tensor(g, "x", DLC_VALUE_INPUT, (int32_t)x_rank, x_dims);

    float w[C_OUT * C_IN * 9], bias[C_OUT], scale[C_OUT], shift[C_OUT], mean[C_OUT], var[C_OUT];
    fill(w, sizeof w / sizeof w[0], 1, -1, 1);
    fill(bias, C_OUT, 2, -1, 1);
    fill(scale, C_OUT, 3, 0.5f, 2);
    fill(shift, C_OUT, 4, -1, 1);
    fill(mean, C_OUT, 5, -0.5f, 0.5f);
    fill(var, C_OUT, 6, 0.1f, 3);
    dlc_value *h = temp(g, "h"), *y = temp(g, "y");
    dlc_node *p;
    if (conv) {
        dlc_value *wv = const_f32(g, "w", 4, (int64_t[]){C_OUT, C_IN / group, 3, 3}, w);
        dlc_value *bv = const_f32(g, "bias", 1, (int64_t[]){C_OUT}, bias);
        /* the grouped conv also tests adding a bias input */
        p = group == 1 ? node(g, "conv", "Conv", 3, (dlc_value *[]){x, wv, bv}, 1, &h)
                       : node(g, "conv", "Conv", 2, (dlc_value *[]){x, wv}, 1, &h);
        attr_ints(p, "kernel_shape", 2, (int64_t[]){3, 3});
        attr_ints(p, "pads", 4, (int64_t[]){1, 1, 1, 1});
        attr_int(p, "group", group);
    } else if (kind == PRODUCER_GEMM) {
        dlc_value *wv = const_f32(g, "w", 2, (int64_t[]){C_OUT, FEATURES}, w);
        dlc_value *bv = const_f32(g, "bias", 1, (int64_t[]){C_OUT}, bias);
        p = node(g, "fc", "Gemm", 3, (dlc_value *[]){x, wv, bv}, 1, &h);
        attr_int(p, "transB", 1);
        dlc_attr beta = {.name = "beta", .type = DLC_ATTR_FLOAT, .f = 0.5};
        cr_assert_eq(dlc_node_add_attr(p, &beta), DLC_OK);
    } else {
        dlc_value *wv = const_f32(g, "w", 2, (int64_t[]){FEATURES, C_OUT}, w);
        p = node(g, "mm", "MatMul", 2, (dlc_value *[]){x, wv}, 1, &h);
    }
    dlc_value *bn_in[5] = {h, const_f32(g, "scale", 1, (int64_t[]){C_OUT}, scale),
                           const_f32(g, "shift", 1, (int64_t[]){C_OUT}, shift),
                           const_f32(g, "mean", 1, (int64_t[]){C_OUT}, mean),
                           const_f32(g, "var", 1, (int64_t[]){C_OUT}, var)};
    dlc_node *bn = node(g, "bn", "BatchNormalization", 5, bn_in, 1, &y);
    dlc_attr eps = {.name = "epsilon", .type = DLC_ATTR_FLOAT, .f = 1e-3};
    cr_assert_eq(dlc_node_add_attr(bn, &eps), DLC_OK);
    set_outputs(g, 1, &y);
    return g;
}

static void check_bn_folding(producer_kind kind, const char *expected_op) {
    float x_data[N * C_IN * HW * HW];
    fill(x_data, sizeof x_data / sizeof x_data[0], 7, -2, 2);

    /* reference: everything constant, computed by the Conv/Gemm/MatMul and BatchNormalization kernels */
    dlc_graph *ref = bn_graph(kind, x_data);
    cr_assert_eq(dlc_infer_and_fold(ref), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(ref->num_nodes, 0);
    const dlc_value *y_ref = ref->outputs[0];
    cr_assert_eq(y_ref->kind, DLC_VALUE_CONST);

    dlc_graph *g = bn_graph(kind, NULL);
    cr_assert_eq(dlc_infer_and_fold(g), DLC_OK, "%s", dlc_last_error());
    bool changed = false;
    cr_assert_eq(dlc_pass_fold_batchnorm(g, &changed), DLC_OK, "%s", dlc_last_error());
    cr_assert(changed);
    cr_assert_eq(dlc_graph_verify(g), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(g->num_nodes, 1, "%d nodes after folding", g->num_nodes);
    dlc_node *p = g->nodes[0];
    cr_assert_str_eq(p->op_type, expected_op);
    cr_assert_eq(p->outputs[0], g->outputs[0], "the folded node writes the BN's output");
    cr_assert_str_eq(g->outputs[0]->name, "y");
    cr_assert_eq(count_ops(g, "BatchNormalization"), 0);
    cr_assert_eq(p->num_inputs, 3, "a bias input was added or kept");
    cr_assert_null(dlc_graph_find_value(g, "scale"), "BN parameters are dropped");

    /* now run the folded graph on the same x through the same kernels */
    dlc_value *x = dlc_graph_find_value(g, "x");
    cr_assert_eq(dlc_value_set_const(x, x_data, x->nbytes ? x->nbytes : (size_t)dlc_value_numel(x) * sizeof(float)),
                 DLC_OK, "%s", dlc_last_error());
    bool folded;
    cr_assert_eq(dlc_fold_node(g, p, &folded), DLC_OK, "%s", dlc_last_error());
    cr_assert(folded);
    const dlc_value *y = g->outputs[0];
    cr_assert_eq(dlc_value_numel(y), dlc_value_numel(y_ref));
    const float *got = y->data, *want = y_ref->data;
    for (int64_t i = 0; i < dlc_value_numel(y); i++)
        cr_assert(fabsf(got[i] - want[i]) <= 1e-4f + 1e-4f * fabsf(want[i]), "index %lld: %g vs %g", (long long)i,
                  (double)got[i], (double)want[i]);
    dlc_graph_free(ref);
    dlc_graph_free(g);
}

Test(passes, batchnorm_folds_into_conv) { check_bn_folding(PRODUCER_CONV, "Conv"); }
Test(passes, batchnorm_folds_into_grouped_conv_without_bias) { check_bn_folding(PRODUCER_CONV_GROUPED, "Conv"); }
Test(passes, batchnorm_folds_into_gemm_with_trans_b_and_beta) { check_bn_folding(PRODUCER_GEMM, "Gemm"); }
Test(passes, batchnorm_folds_matmul_into_gemm) { check_bn_folding(PRODUCER_MATMUL, "Gemm"); }

Test(passes, batchnorm_stays_when_conv_output_has_other_readers) {
    dlc_graph *g = bn_graph(PRODUCER_CONV, NULL);
    dlc_value *h = dlc_graph_find_value(g, "h"), *r = temp(g, "r");
    node(g, "other_reader", "Relu", 1, &h, 1, &r);
    dlc_value *outs[2] = {g->outputs[0], r};
    free(g->outputs);
    set_outputs(g, 2, outs);
    cr_assert_eq(dlc_infer_and_fold(g), DLC_OK, "%s", dlc_last_error());
    bool changed = true;
    cr_assert_eq(dlc_pass_fold_batchnorm(g, &changed), DLC_OK);
    cr_assert_not(changed);
    cr_assert_eq(count_ops(g, "BatchNormalization"), 1);
    dlc_graph_free(g);
}

/* ---- dead code and identity elimination ---- */

Test(passes, dead_code_removes_unused_nodes_and_constants) {
    dlc_graph *g = new_graph();
    dlc_value *x = tensor(g, "x", DLC_VALUE_INPUT, 1, (int64_t[]){4});
    dlc_value *w = const_f32(g, "unused_weight", 1, (int64_t[]){4}, (float[]){1, 2, 3, 4});
    dlc_value *y = temp(g, "y"), *dead = temp(g, "dead"), *dead2 = temp(g, "dead2");
    node(g, "live", "Relu", 1, &x, 1, &y);
    node(g, "dead_mul", "Mul", 2, (dlc_value *[]){x, w}, 1, &dead);
    node(g, "dead_relu", "Relu", 1, &dead, 1, &dead2);
    set_outputs(g, 1, &y);
    cr_assert_eq(dlc_infer_and_fold(g), DLC_OK, "%s", dlc_last_error());
    /* infer-and-fold ends with dead-code removal */
    cr_assert_eq(g->num_nodes, 1);
    cr_assert_null(dlc_graph_find_value(g, "unused_weight"));
    bool changed = true;
    cr_assert_eq(dlc_pass_dead_code(g, &changed), DLC_OK);
    cr_assert_not(changed, "nothing left to remove");
    dlc_graph_free(g);
}

Test(passes, identity_and_inference_dropout_are_removed_keeping_output_names) {
    dlc_graph *g = new_graph();
    dlc_value *x = tensor(g, "x", DLC_VALUE_INPUT, 1, (int64_t[]){4});
    dlc_value *a = temp(g, "a"), *b = temp(g, "b"), *c = temp(g, "c"), *d = temp(g, "d"), *out = temp(g, "out");
    dlc_value *mask = temp(g, "mask"), *passthrough = temp(g, "passthrough");
    /* Softmax, not an elementwise op: fuse-elementwise would merge two Relus */
    node(g, "softmax", "Softmax", 1, &x, 1, &a);
    node(g, "id1", "Identity", 1, &a, 1, &b);
    node(g, "drop", "Dropout", 1, &b, 2, (dlc_value *[]){c, mask});
    node(g, "relu2", "Relu", 1, &c, 1, &d);
    node(g, "id_out", "Identity", 1, &d, 1, &out);        /* a graph output: relu2 must write 'out' */
    node(g, "id_input", "Identity", 1, &x, 1, &passthrough); /* input → output: a copy has to stay */
    set_outputs(g, 2, (dlc_value *[]){out, passthrough});
    cr_assert_eq(dlc_infer_and_fold(g), DLC_OK, "%s", dlc_last_error());
    dlc_pass_options opts = {.opt_level = 1, .verify_each = true};
    cr_assert_eq(dlc_run_passes(g, &opts), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(count_ops(g, "Dropout"), 0);
    cr_assert_eq(count_ops(g, "Identity"), 1);
    cr_assert_eq(count_ops(g, "Softmax") + count_ops(g, "Relu"), 2);
    cr_assert_str_eq(g->outputs[0]->name, "out");
    cr_assert_not_null(g->outputs[0]->producer);
    cr_assert_str_eq(g->outputs[0]->producer->name, "relu2");
    cr_assert_eq(g->nodes[1]->inputs[0], g->nodes[0]->outputs[0], "relu2 reads softmax directly");
    dlc_graph_free(g);
}

Test(passes, o0_keeps_batchnorm_and_identity) {
    dlc_graph *g = bn_graph(PRODUCER_CONV, NULL);
    cr_assert_eq(dlc_infer_and_fold(g), DLC_OK, "%s", dlc_last_error());
    dlc_pass_options opts = {.opt_level = 0, .verify_each = true};
    cr_assert_eq(dlc_run_passes(g, &opts), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(count_ops(g, "BatchNormalization"), 1);
    dlc_graph_free(g);
}

/* x [2,3,4,5] -> Transpose [0,2,1,3] -> A [2,4,3,5]; w [2,6,4,5] ->
 * Transpose [0,2,3,1] -> B [2,4,5,6]; MatMul -> [2,4,3,6]. A third,
 * 2-D product m^T m reads m through a default (reversing) Transpose that
 * also is a graph output, so that Transpose must stay. */
static dlc_graph *transpose_matmul_graph(const float *x_data, const float *w_data, const float *m_data) {
    dlc_graph *g = new_graph();
    int64_t x_dims[4] = {2, 3, 4, 5}, w_dims[4] = {2, 6, 4, 5};
    dlc_value *x = x_data != NULL ? const_f32(g, "x", 4, x_dims, x_data) : tensor(g, "x", DLC_VALUE_INPUT, 4, x_dims);
    dlc_value *w = w_data != NULL ? const_f32(g, "w", 4, w_dims, w_data) : tensor(g, "w", DLC_VALUE_INPUT, 4, w_dims);
    dlc_value *a = temp(g, "a"), *b = temp(g, "b"), *y = temp(g, "y");
    attr_ints(node(g, "ta", "Transpose", 1, &x, 1, &a), "perm", 4, (int64_t[]){0, 2, 1, 3});
    attr_ints(node(g, "tb", "Transpose", 1, &w, 1, &b), "perm", 4, (int64_t[]){0, 2, 3, 1});
    node(g, "mm", "MatMul", 2, (dlc_value *[]){a, b}, 1, &y);
    /* m [5,7] -> Transpose (default perm) -> mt [7,5]; mt x m -> z [7,7] */
    dlc_value *m = m_data != NULL ? const_f32(g, "m", 2, (int64_t[]){5, 7}, m_data)
                                  : tensor(g, "m", DLC_VALUE_INPUT, 2, (int64_t[]){5, 7});
    dlc_value *mt = temp(g, "mt"), *z = temp(g, "z");
    node(g, "tm", "Transpose", 1, &m, 1, &mt);
    node(g, "mm2", "MatMul", 2, (dlc_value *[]){mt, m}, 1, &z);
    set_outputs(g, 3, (dlc_value *[]){y, z, mt});
    return g;
}

Test(passes, transpose_folds_into_matmul_operands) {
    float x_data[120], w_data[240], m_data[35];
    fill(x_data, 120, 11, -1, 1);
    fill(w_data, 240, 12, -1, 1);
    fill(m_data, 35, 13, -1, 1);
    dlc_graph *ref = transpose_matmul_graph(x_data, w_data, m_data);
    cr_assert_eq(dlc_infer_and_fold(ref), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(ref->num_nodes, 0);

    dlc_graph *g = transpose_matmul_graph(NULL, NULL, NULL);
    cr_assert_eq(dlc_infer_and_fold(g), DLC_OK, "%s", dlc_last_error());
    bool changed = false;
    cr_assert_eq(dlc_pass_fold_transpose_matmul(g, &changed), DLC_OK, "%s", dlc_last_error());
    cr_assert(changed);
    cr_assert_eq(dlc_graph_verify(g), DLC_OK, "%s", dlc_last_error());
    /* ta and tb are gone; tm stays because it is a graph output */
    cr_assert_eq(count_ops(g, "Transpose"), 1);
    cr_assert_eq(count_ops(g, "MatMul"), 2);
    int32_t count;
    dlc_node *mm = NULL, *mm2 = NULL;
    for (int32_t i = 0; i < g->num_nodes; i++) {
        if (strcmp(g->nodes[i]->name, "mm") == 0) mm = g->nodes[i];
        if (strcmp(g->nodes[i]->name, "mm2") == 0) mm2 = g->nodes[i];
    }
    cr_assert(mm != NULL && mm2 != NULL);
    const int64_t *pa = dlc_node_attr_ints(mm, "dlc_perm_a", &count);
    cr_assert(pa != NULL && count == 4 && pa[1] == 2 && pa[2] == 1);
    const int64_t *pb = dlc_node_attr_ints(mm2, "dlc_perm_a", &count);
    cr_assert(pb != NULL && count == 2 && pb[0] == 1 && pb[1] == 0, "the default perm reverses the dims");
    cr_assert_str_eq(mm->inputs[0]->name, "x");
    cr_assert_str_eq(mm->inputs[1]->name, "w");
    /* shapes are inferred through the views; re-inference gives the same */
    cr_assert_eq(dlc_infer_and_fold(g), DLC_OK, "%s", dlc_last_error());
    const dlc_value *y = g->outputs[0];
    cr_assert(y->shape.rank == 4 && y->shape.dims[1].value == 4 && y->shape.dims[2].value == 3 &&
              y->shape.dims[3].value == 6);

    /* run the folded graph on the same data through the same kernels */
    dlc_value *x = dlc_graph_find_value(g, "x"), *w = dlc_graph_find_value(g, "w"), *m = dlc_graph_find_value(g, "m");
    cr_assert_eq(dlc_value_set_const(x, x_data, sizeof x_data), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(dlc_value_set_const(m, m_data, sizeof m_data), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(dlc_value_set_const(w, w_data, sizeof w_data), DLC_OK, "%s", dlc_last_error());
    for (int32_t o = 0; o < 2; o++) {
        bool folded;
        dlc_node *n = o == 0 ? mm : mm2;
        cr_assert_eq(dlc_fold_node(g, n, &folded), DLC_OK, "%s", dlc_last_error());
        cr_assert(folded);
        const dlc_value *got_v = g->outputs[o], *want_v = ref->outputs[o];
        cr_assert_eq(dlc_value_numel(got_v), dlc_value_numel(want_v));
        const float *got = got_v->data, *want = want_v->data;
        for (int64_t i = 0; i < dlc_value_numel(got_v); i++)
            cr_assert(fabsf(got[i] - want[i]) <= 1e-6f + 1e-5f * fabsf(want[i]), "output %d index %lld: %g vs %g",
                      o, (long long)i, (double)got[i], (double)want[i]);
    }
    dlc_graph_free(ref);
    dlc_graph_free(g);
}

Test(passes, bad_matmul_perm_is_refused_naming_the_node) {
    dlc_graph *g = new_graph();
    dlc_value *a = tensor(g, "a", DLC_VALUE_INPUT, 2, (int64_t[]){3, 4});
    dlc_value *b = tensor(g, "b", DLC_VALUE_INPUT, 2, (int64_t[]){3, 5});
    dlc_value *y = temp(g, "y");
    attr_ints(node(g, "mm", "MatMul", 2, (dlc_value *[]){a, b}, 1, &y), "dlc_perm_a", 2, (int64_t[]){1, 1});
    set_outputs(g, 1, &y);
    cr_assert_neq(dlc_infer_and_fold(g), DLC_OK);
    cr_assert(strstr(dlc_last_error(), "mm") != NULL && strstr(dlc_last_error(), "dlc_perm_a") != NULL, "%s",
              dlc_last_error());
    dlc_graph_free(g);
}
