/* If, Loop and Scan expanded at compile time (passes/control_flow.c):
 * graphs built in C are inferred and folded, so constant results check the
 * semantics natively; a checked-in nested model (tests/data/control_flow,
 * made by gen_control_flow.py) checks the importer's implicit inputs and a
 * compiled run. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "codegen/compile.h"
#include "dlc/dlc.h"
#include "frontend/onnx_import.h"
#include "ir/graph.h"
#include "ir/subgraph.h"
#include "model_builders.h"
#include "passes/pipeline.h"

static dlc_graph *new_graph(const char *name) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create(name, &g), DLC_OK);
    return g;
}

static dlc_value *typed(dlc_graph *g, const char *name, dlc_value_kind kind, dlc_dtype dtype, int32_t rank,
                        const int64_t *dims) {
    dlc_shape s = dlc_shape_make(rank, dims);
    dlc_value *v;
    cr_assert_eq(dlc_graph_add_value(g, name, kind, dtype, rank < 0 ? NULL : &s, &v), DLC_OK, "%s", dlc_last_error());
    return v;
}

static dlc_value *temp(dlc_graph *g, const char *name) {
    return typed(g, name, DLC_VALUE_INTERMEDIATE, DLC_DTYPE_UNDEFINED, -1, NULL);
}

static dlc_value *const_of(dlc_graph *g, const char *name, dlc_dtype dtype, int32_t rank, const int64_t *dims,
                           const void *data) {
    dlc_shape s = dlc_shape_make(rank, dims);
    dlc_value *v;
    size_t nbytes = (size_t)dlc_shape_numel(&s) * dlc_dtype_size(dtype);
    cr_assert_eq(dlc_graph_add_const(g, name, dtype, &s, data, nbytes, &v), DLC_OK, "%s", dlc_last_error());
    return v;
}

static dlc_value *scalar_bool(dlc_graph *g, const char *name, bool b) {
    uint8_t v = b;
    return const_of(g, name, DLC_BOOL, 0, NULL, &v);
}

static dlc_value *scalar_i64(dlc_graph *g, const char *name, int64_t v) {
    return const_of(g, name, DLC_INT64, 0, NULL, &v);
}

static dlc_node *node(dlc_graph *g, const char *name, const char *op, int32_t opset, int32_t n_in, dlc_value **in,
                      int32_t n_out, dlc_value **out) {
    dlc_node *n;
    cr_assert_eq(dlc_graph_add_node(g, name, op, "", opset, n_in, in, n_out, out, &n), DLC_OK, "%s", dlc_last_error());
    return n;
}

static void int_attr(dlc_node *n, const char *name, int64_t v) {
    dlc_attr a = {.name = (char *)name, .type = DLC_ATTR_INT, .i = v};
    cr_assert_eq(dlc_node_add_attr(n, &a), DLC_OK);
}

static void ints_attr(dlc_node *n, const char *name, int64_t *v, int32_t count) {
    dlc_attr a = {.name = (char *)name, .type = DLC_ATTR_INTS, .ints = v, .count = count};
    cr_assert_eq(dlc_node_add_attr(n, &a), DLC_OK);
}

static void graph_attr(dlc_node *n, const char *name, dlc_graph *sub) {
    dlc_attr a = {.name = strdup(name), .type = DLC_ATTR_GRAPH, .graph = sub};
    cr_assert_eq(dlc_node_add_attr(n, &a), DLC_OK);
}

static void set_outputs(dlc_graph *g, int32_t count, dlc_value **outs) {
    free(g->outputs);
    g->outputs = calloc((size_t)count + 1, sizeof *g->outputs);
    memcpy(g->outputs, outs, (size_t)count * sizeof *outs);
    g->num_outputs = count;
}

static void expect_floats(const dlc_value *v, const float *want, int64_t count) {
    cr_assert_eq(v->kind, DLC_VALUE_CONST, "'%s' was not folded", v->name);
    cr_assert_eq(v->dtype, DLC_FLOAT32);
    cr_assert_eq(dlc_value_numel(v), count);
    for (int64_t i = 0; i < count; i++)
        cr_assert_float_eq(((const float *)v->data)[i], want[i], 1e-6, "'%s'[%lld]", v->name, (long long)i);
}

static int count_ops(const dlc_graph *g, const char *op) {
    int n = 0;
    for (int32_t i = 0; i < g->num_nodes; i++) n += strcmp(g->nodes[i]->op_type, op) == 0;
    return n;
}

/* then: y = x + x; else: y = -x. Both read x of the main graph. */
static dlc_graph *branch(const char *name, const char *op, int32_t n_in) {
    int64_t two[1] = {2};
    dlc_graph *sub = new_graph(name);
    dlc_value *x = typed(sub, "x", DLC_VALUE_INPUT, DLC_FLOAT32, 1, two); /* the captured outer value */
    dlc_value *y = temp(sub, "y");
    dlc_value *in[2] = {x, x};
    node(sub, op, op, 13, n_in, in, 1, &y);
    set_outputs(sub, 1, &y);
    return sub;
}

static dlc_graph *make_if(bool cond_const, bool x_const, dlc_value **out_y) {
    dlc_graph *g = new_graph("if");
    int64_t two[1] = {2};
    const float xv[2] = {1.5f, -3.0f};
    dlc_value *x = x_const ? const_of(g, "x", DLC_FLOAT32, 1, two, xv)
                           : typed(g, "x", DLC_VALUE_INPUT, DLC_FLOAT32, 1, two);
    dlc_value *cond = cond_const ? scalar_bool(g, "cond", false)
                                 : typed(g, "cond", DLC_VALUE_INPUT, DLC_BOOL, 0, NULL);
    dlc_value *y = temp(g, "y");
    /* implicit inputs: x for then_branch, then x for else_branch */
    dlc_value *in[3] = {cond, x, x};
    dlc_node *n = node(g, "the_if", "If", 13, 3, in, 1, &y);
    graph_attr(n, "then_branch", branch("then", "Add", 2));
    graph_attr(n, "else_branch", branch("else", "Neg", 1));
    int_attr(n, DLC_ATTR_IMPLICIT_INPUTS, 2);
    set_outputs(g, 1, &y);
    dlc_graph_update_uses(g);
    *out_y = y;
    return g;
}

Test(control_flow, if_with_constant_condition_becomes_its_branch) {
    dlc_value *y;
    dlc_graph *g = make_if(true, true, &y);
    cr_assert_eq(dlc_infer_and_fold(g), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(count_ops(g, "If"), 0);
    expect_floats(g->outputs[0], (const float[]){-1.5f, 3.0f}, 2); /* else: Neg */
    cr_assert_eq(g->outputs[0], y, "the If's output value stays the graph output");
    cr_assert_eq(dlc_graph_verify(g), DLC_OK, "%s", dlc_last_error());
    dlc_graph_free(g);
}

Test(control_flow, if_branch_reads_run_time_data) {
    dlc_value *y;
    dlc_graph *g = make_if(true, false, &y);
    cr_assert_eq(dlc_infer_and_fold(g), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(count_ops(g, "If"), 0);
    cr_assert_eq(count_ops(g, "Neg"), 1);
    cr_assert_eq(y->dtype, DLC_FLOAT32);
    cr_assert_eq(y->shape.rank, 1);
    cr_assert_eq(y->shape.dims[0].value, 2);
    cr_assert_eq(dlc_graph_verify(g), DLC_OK, "%s", dlc_last_error());
    dlc_graph_free(g);
}

Test(control_flow, if_with_run_time_condition_is_refused_by_name) {
    dlc_value *y;
    dlc_graph *g = make_if(false, true, &y);
    cr_assert_eq(dlc_infer_and_fold(g), DLC_ERR_UNSUPPORTED);
    cr_assert(strstr(dlc_last_error(), "the_if") != NULL, "%s", dlc_last_error());
    cr_assert(strstr(dlc_last_error(), "'cond'") != NULL, "%s", dlc_last_error());
    cr_assert(strstr(dlc_last_error(), "--bind") != NULL, "%s", dlc_last_error());
    dlc_graph_free(g);
}

/* body(i, cond, v): v_out = v + float(i); cond_out = v_out < limit (or
 * cond passed through); scan_out = v_out */
static dlc_graph *loop_body(bool cond_from_limit, float limit) {
    int64_t one[1] = {1};
    dlc_graph *b = new_graph("body");
    dlc_value *i = typed(b, "i", DLC_VALUE_INPUT, DLC_INT64, 0, NULL);
    dlc_value *c = typed(b, "c", DLC_VALUE_INPUT, DLC_BOOL, 0, NULL);
    dlc_value *v = typed(b, "v", DLC_VALUE_INPUT, DLC_DTYPE_UNDEFINED, -1, NULL); /* typed by the initial value */
    dlc_value *fi = temp(b, "fi"), *v_out = temp(b, "v_out"), *c_out = temp(b, "c_out"), *s = temp(b, "s");
    dlc_node *cast = node(b, "cast", "Cast", 13, 1, &i, 1, &fi);
    int_attr(cast, "to", DLC_FLOAT32);
    dlc_value *one_plus[2] = {fi, const_of(b, "one", DLC_FLOAT32, 1, one, (const float[]){1.0f})};
    dlc_value *fi1 = temp(b, "fi1");
    node(b, "add1", "Add", 13, 2, one_plus, 1, &fi1);
    dlc_value *add_in[2] = {v, fi1};
    node(b, "add", "Add", 13, 2, add_in, 1, &v_out);
    if (cond_from_limit) {
        dlc_value *less_in[2] = {v_out, const_of(b, "limit", DLC_FLOAT32, 1, one, &limit)};
        dlc_value *lt = temp(b, "lt");
        node(b, "less", "Less", 13, 2, less_in, 1, &lt);
        int64_t axes = 0;
        dlc_value *sq_in[2] = {lt, const_of(b, "axes", DLC_INT64, 1, one, &axes)};
        node(b, "squeeze", "Squeeze", 13, 2, sq_in, 1, &c_out);
    } else {
        node(b, "cond_id", "Identity", 13, 1, &c, 1, &c_out);
    }
    node(b, "scan_id", "Identity", 13, 1, &v_out, 1, &s);
    dlc_value *outs[3] = {c_out, v_out, s};
    set_outputs(b, 3, outs);
    return b;
}

Test(control_flow, loop_unrolls_carried_values_and_scan_outputs) {
    dlc_graph *g = new_graph("loop");
    int64_t one[1] = {1};
    dlc_value *v0 = const_of(g, "v0", DLC_FLOAT32, 1, one, (const float[]){10.0f});
    dlc_value *in[3] = {scalar_i64(g, "M", 3), scalar_bool(g, "cond", true), v0};
    dlc_value *out[2] = {temp(g, "final"), temp(g, "scan")};
    dlc_node *n = node(g, "loop", "Loop", 13, 3, in, 2, out);
    graph_attr(n, "body", loop_body(false, 0));
    set_outputs(g, 2, out);
    dlc_graph_update_uses(g);
    cr_assert_eq(dlc_infer_and_fold(g), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(count_ops(g, "Loop"), 0);
    /* v += i + 1 for i = 0, 1, 2 */
    expect_floats(g->outputs[0], (const float[]){16.0f}, 1);
    expect_floats(g->outputs[1], (const float[]){11.0f, 13.0f, 16.0f}, 3);
    cr_assert_eq(g->outputs[1]->shape.rank, 2);
    cr_assert_eq(g->outputs[1]->shape.dims[0].value, 3);
    dlc_graph_free(g);
}

Test(control_flow, loop_stops_when_the_body_condition_turns_false) {
    dlc_graph *g = new_graph("while");
    int64_t one[1] = {1};
    dlc_value *v0 = const_of(g, "v0", DLC_FLOAT32, 1, one, (const float[]){0.0f});
    dlc_value *in[3] = {NULL, scalar_bool(g, "cond", true), v0}; /* no trip count: a while loop */
    dlc_value *final = temp(g, "final");
    dlc_node *n = node(g, "while", "Loop", 13, 3, in, 1, &final);
    graph_attr(n, "body", loop_body(true, 6.0f));
    set_outputs(g, 1, &final);
    dlc_graph_update_uses(g);
    cr_assert_eq(dlc_infer_and_fold(g), DLC_OK, "%s", dlc_last_error());
    /* 1, 3, 6: the third iteration makes v < 6 false */
    expect_floats(g->outputs[0], (const float[]){6.0f}, 1);
    dlc_graph_free(g);
}

Test(control_flow, loop_with_run_time_trip_count_is_refused_by_name) {
    dlc_graph *g = new_graph("loop");
    int64_t one[1] = {1};
    dlc_value *v0 = const_of(g, "v0", DLC_FLOAT32, 1, one, (const float[]){0.0f});
    dlc_value *in[3] = {typed(g, "M", DLC_VALUE_INPUT, DLC_INT64, 0, NULL), scalar_bool(g, "cond", true), v0};
    dlc_value *final = temp(g, "final");
    dlc_node *n = node(g, "the_loop", "Loop", 13, 3, in, 1, &final);
    graph_attr(n, "body", loop_body(false, 0));
    set_outputs(g, 1, &final);
    dlc_graph_update_uses(g);
    cr_assert_eq(dlc_infer_and_fold(g), DLC_ERR_UNSUPPORTED);
    cr_assert(strstr(dlc_last_error(), "the_loop") != NULL && strstr(dlc_last_error(), "trip count") != NULL, "%s",
              dlc_last_error());
    dlc_graph_free(g);
}

/* Scan opset 9: running sums of x's rows, read last to first. */
Test(control_flow, scan_reverse_input_and_axis) {
    dlc_graph *g = new_graph("scan");
    int64_t two[1] = {2}, x_dims[2] = {2, 3};
    dlc_value *init = const_of(g, "init", DLC_FLOAT32, 1, two, (const float[]){0, 0});
    /* scan axis 1: the columns [1,4], [2,5], [3,6] */
    dlc_value *x = const_of(g, "x", DLC_FLOAT32, 2, x_dims, (const float[]){1, 2, 3, 4, 5, 6});
    dlc_graph *b = new_graph("body");
    dlc_value *sum_in = typed(b, "sum_in", DLC_VALUE_INPUT, DLC_FLOAT32, 1, two);
    dlc_value *col = typed(b, "col", DLC_VALUE_INPUT, DLC_FLOAT32, 1, two);
    dlc_value *sum_out = temp(b, "sum_out"), *scan_out = temp(b, "scan_out");
    dlc_value *add_in[2] = {sum_in, col};
    node(b, "add", "Add", 13, 2, add_in, 1, &sum_out);
    node(b, "id", "Identity", 13, 1, &sum_out, 1, &scan_out);
    dlc_value *b_outs[2] = {sum_out, scan_out};
    set_outputs(b, 2, b_outs);
    dlc_value *in[2] = {init, x};
    dlc_value *out[2] = {temp(g, "total"), temp(g, "partial")};
    dlc_node *n = node(g, "scan", "Scan", 11, 2, in, 2, out);
    graph_attr(n, "body", b);
    int_attr(n, "num_scan_inputs", 1);
    ints_attr(n, "scan_input_axes", (int64_t[]){1}, 1);
    ints_attr(n, "scan_input_directions", (int64_t[]){1}, 1);
    ints_attr(n, "scan_output_axes", (int64_t[]){-1}, 1);
    set_outputs(g, 2, out);
    dlc_graph_update_uses(g);
    cr_assert_eq(dlc_infer_and_fold(g), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(count_ops(g, "Scan"), 0);
    expect_floats(g->outputs[0], (const float[]){6, 15}, 2);
    /* steps: [3,6], [5,11], [6,15], stacked on the last axis → [2,3] */
    cr_assert_eq(g->outputs[1]->shape.rank, 2);
    cr_assert_eq(g->outputs[1]->shape.dims[1].value, 3);
    expect_floats(g->outputs[1], (const float[]){3, 5, 6, 6, 11, 15}, 6);
    dlc_graph_free(g);
}

static const dlc_node *find_op(const dlc_graph *g, const char *op) {
    for (int32_t i = 0; i < g->num_nodes; i++)
        if (strcmp(g->nodes[i]->op_type, op) == 0) return g->nodes[i];
    return NULL;
}

static dlc_graph *import_nested(void) {
    dlc_graph *g;
    cr_assert_eq(dlc_onnx_import_file(DLC_SOURCE_DIR "/tests/data/control_flow/nested_loop_if.onnx", &g), DLC_OK, "%s",
                 dlc_last_error());
    return g;
}

Test(control_flow, importer_makes_outer_values_implicit_inputs) {
    dlc_graph *g = import_nested();
    const dlc_node *loop = find_op(g, "Loop");
    cr_assert_not_null(loop);
    /* M, cond, x, then w: read two levels down, by the If inside the body */
    cr_assert_eq(dlc_node_num_explicit_inputs(loop), 3);
    cr_assert_eq(dlc_node_num_implicit_inputs(loop), 1);
    cr_assert_str_eq(loop->inputs[3]->name, "w");
    const dlc_graph *body = dlc_node_attr(loop, "body")->graph;
    cr_assert_eq(body->num_inputs, 4);
    cr_assert_str_eq(body->inputs[3]->name, "w");
    const dlc_node *if_node = find_op(body, "If");
    cr_assert_not_null(if_node);
    cr_assert_eq(dlc_node_num_explicit_inputs(if_node), 1);
    /* then_branch reads v_in and w, else_branch too */
    cr_assert_eq(dlc_node_num_implicit_inputs(if_node), 4);
    dlc_graph_free(g);
}

Test(control_flow, nested_loop_and_if_compile_and_run) {
    dlc_graph *g = import_nested();
    char dir[64], path[256];
    tb_mkdtemp(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/nested.so", dir);
    dlc_compile_options opts;
    dlc_compile_options_init(&opts);
    cr_assert_eq(dlc_compile_graph(g, &opts, path), DLC_OK, "%s", dlc_last_error());
    dlc_graph_free(g);
    dlc_model *m;
    dlc_session *s;
    cr_assert_eq(dlc_model_load(path, &m), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(dlc_session_create(m, NULL, &s), DLC_OK, "%s", dlc_last_error());
    float x[2] = {1.0f, 2.0f}, y[2], steps[6];
    dlc_tensor in = {DLC_FLOAT32, 1, {2}, x, sizeof x};
    dlc_tensor out[2] = {{DLC_FLOAT32, 1, {2}, y, sizeof y}, {DLC_FLOAT32, 2, {3, 2}, steps, sizeof steps}};
    cr_assert_eq(dlc_session_run(s, &in, 1, out, 2), DLC_OK, "%s", dlc_last_error());
    /* w = [0.5, -1]: v + w, then v * w, then v + w */
    const float want_steps[6] = {1.5f, 1.0f, 0.75f, -1.0f, 1.25f, -2.0f};
    for (int i = 0; i < 6; i++) cr_assert_float_eq(steps[i], want_steps[i], 1e-6, "step value %d", i);
    cr_assert_float_eq(y[0], 1.25f, 1e-6);
    cr_assert_float_eq(y[1], -2.0f, 1e-6);
    dlc_session_free(s);
    dlc_model_free(m);
    tb_rmdir(dir);
}
