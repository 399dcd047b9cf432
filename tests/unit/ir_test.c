/* The IR graph: construction, topological order, dead code, verification,
 * attribute and shape helpers. */
#include <criterion/criterion.h>
#include <string.h>

#include "ir/graph.h"

static dlc_shape shape2(int64_t a, int64_t b) { return dlc_shape_make(2, (int64_t[]){a, b}); }

static dlc_value *add_tensor(dlc_graph *g, const char *name, dlc_value_kind kind) {
    dlc_shape s = shape2(2, 3);
    dlc_value *v;
    cr_assert_eq(dlc_graph_add_value(g, name, kind, DLC_FLOAT32, &s, &v), DLC_OK);
    return v;
}

static dlc_node *add_unary(dlc_graph *g, const char *name, dlc_value *in, dlc_value *out) {
    dlc_node *n;
    cr_assert_eq(dlc_graph_add_node(g, name, "Relu", "", 13, 1, &in, 1, &out, &n), DLC_OK);
    return n;
}

Test(ir_graph, toposort_reorders_and_keeps_file_order) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("g", &g), DLC_OK);
    dlc_value *x = add_tensor(g, "x", DLC_VALUE_INPUT);
    dlc_value *a = add_tensor(g, "a", DLC_VALUE_INTERMEDIATE);
    dlc_value *b = add_tensor(g, "b", DLC_VALUE_INTERMEDIATE);
    dlc_value *c = add_tensor(g, "c", DLC_VALUE_INTERMEDIATE);
    add_unary(g, "second", a, b); /* listed before its producer */
    add_unary(g, "first", x, a);
    add_unary(g, "independent", x, c);
    cr_assert_eq(dlc_graph_toposort(g), DLC_OK);
    cr_assert_str_eq(g->nodes[0]->name, "first");
    cr_assert_str_eq(g->nodes[1]->name, "independent");
    cr_assert_str_eq(g->nodes[2]->name, "second");
    g->outputs = malloc(sizeof *g->outputs);
    g->outputs[0] = b;
    g->num_outputs = 1;
    cr_assert_eq(dlc_graph_verify(g), DLC_OK);
    dlc_graph_free(g);
}

Test(ir_graph, cycle_is_an_error_naming_a_node) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("g", &g), DLC_OK);
    dlc_value *a = add_tensor(g, "a", DLC_VALUE_INTERMEDIATE);
    dlc_value *b = add_tensor(g, "b", DLC_VALUE_INTERMEDIATE);
    add_unary(g, "ping", a, b);
    add_unary(g, "pong", b, a);
    cr_assert_eq(dlc_graph_toposort(g), DLC_ERR_PARSE);
    cr_assert(strstr(dlc_last_error(), "cycle") != NULL, "%s", dlc_last_error());
    cr_assert(strstr(dlc_last_error(), "'ping' (Relu, opset 13)") != NULL, "%s", dlc_last_error());
    dlc_graph_free(g);
}

Test(ir_graph, undefined_input_is_an_error) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("g", &g), DLC_OK);
    dlc_value *ghost = add_tensor(g, "ghost", DLC_VALUE_INTERMEDIATE);
    dlc_value *out = add_tensor(g, "out", DLC_VALUE_INTERMEDIATE);
    add_unary(g, "reader", ghost, out);
    cr_assert_eq(dlc_graph_toposort(g), DLC_ERR_PARSE);
    cr_assert(strstr(dlc_last_error(), "ghost") != NULL, "%s", dlc_last_error());
    dlc_graph_free(g);
}

Test(ir_graph, remove_dead_drops_unused_nodes_and_constants) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("g", &g), DLC_OK);
    dlc_value *x = add_tensor(g, "x", DLC_VALUE_INPUT);
    float weights[6] = {0};
    dlc_shape s = shape2(2, 3);
    dlc_value *w;
    cr_assert_eq(dlc_graph_add_const(g, "w", DLC_FLOAT32, &s, weights, sizeof weights, &w), DLC_OK);
    dlc_value *used = add_tensor(g, "used", DLC_VALUE_INTERMEDIATE);
    dlc_value *dead1 = add_tensor(g, "dead1", DLC_VALUE_INTERMEDIATE);
    dlc_value *dead2 = add_tensor(g, "dead2", DLC_VALUE_INTERMEDIATE);
    add_unary(g, "live", x, used);
    add_unary(g, "dead_a", w, dead1);
    add_unary(g, "dead_b", dead1, dead2);
    g->outputs = malloc(sizeof *g->outputs);
    g->outputs[0] = used;
    g->num_outputs = 1;
    int32_t weight_id = w->id;
    cr_assert_eq(dlc_graph_remove_dead(g), 2);
    cr_assert_eq(g->num_nodes, 1);
    cr_assert_str_eq(g->nodes[0]->name, "live");
    cr_assert_null(g->values[weight_id], "the weight went with its readers");
    cr_assert_not_null(g->values[x->id], "inputs stay even when unused");
    dlc_graph_free(g);
}

Test(ir_graph, generated_names_and_attributes) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("g", &g), DLC_OK);
    dlc_value *x = add_tensor(g, "x", DLC_VALUE_INPUT);
    dlc_value *y = add_tensor(g, "y", DLC_VALUE_INTERMEDIATE);
    dlc_node *n = add_unary(g, "", x, y);
    cr_assert_str_eq(n->name, "Relu_0");
    int64_t pads[4] = {1, 2, 3, 4};
    dlc_attr a = {.name = "pads", .type = DLC_ATTR_INTS, .ints = pads, .count = 4};
    cr_assert_eq(dlc_node_add_attr(n, &a), DLC_OK);
    dlc_attr f = {.name = "alpha", .type = DLC_ATTR_FLOAT, .f = 0.5};
    cr_assert_eq(dlc_node_add_attr(n, &f), DLC_OK);
    char mode[] = "constant";
    dlc_attr str = {.name = "mode", .type = DLC_ATTR_STRING, .s = mode, .s_len = strlen(mode)};
    cr_assert_eq(dlc_node_add_attr(n, &str), DLC_OK);
    int32_t count;
    const int64_t *got = dlc_node_attr_ints(n, "pads", &count);
    cr_assert_eq(count, 4);
    cr_assert_eq(got[3], 4);
    cr_assert_neq(got, pads, "attributes are copied");
    cr_assert_float_eq(dlc_node_attr_float(n, "alpha", 1.0), 0.5, 1e-12);
    cr_assert_eq(dlc_node_attr_int(n, "missing", 7), 7);
    cr_assert_str_eq(dlc_node_attr_string(n, "mode", "x"), "constant");
    cr_assert_null(dlc_node_attr_ints(n, "alpha", &count));
    cr_assert_eq(count, 0);
    dlc_graph_free(g);
}

Test(ir_shape, numel_overflow_and_format) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("g", &g), DLC_OK);
    int32_t batch;
    cr_assert_eq(dlc_graph_symbol(g, "batch", &batch), DLC_OK);
    int32_t again;
    cr_assert_eq(dlc_graph_symbol(g, "batch", &again), DLC_OK);
    cr_assert_eq(batch, again);
    dlc_shape s = {.rank = 3, .dims = {{-1, batch}, {3, 0}, {32, 0}}};
    char buf[64];
    cr_assert_str_eq(dlc_shape_format(g, &s, buf, sizeof buf), "[batch,3,32]");
    cr_assert_eq(dlc_shape_numel(&s), -1);
    dlc_shape huge = dlc_shape_make(3, (int64_t[]){INT64_C(1) << 40, INT64_C(1) << 40, 2});
    cr_assert_eq(dlc_shape_numel(&huge), -2);
    dlc_shape scalar = dlc_shape_make(0, NULL);
    cr_assert_eq(dlc_shape_numel(&scalar), 1);
    cr_assert_str_eq(dlc_shape_format(g, &scalar, buf, sizeof buf), "[]");
    dlc_graph_free(g);
}

Test(ir_value, const_size_is_checked_and_read_back) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("g", &g), DLC_OK);
    int64_t dims[3] = {1, -1, 4};
    dlc_shape s = dlc_shape_make(1, (int64_t[]){3});
    dlc_value *v;
    cr_assert_eq(dlc_graph_add_const(g, "shape", DLC_INT64, &s, dims, sizeof dims - 1, &v), DLC_ERR_PARSE);
    cr_assert(strstr(dlc_last_error(), "'shape'") != NULL);
    cr_assert_eq(dlc_graph_add_const(g, "shape", DLC_INT64, &s, dims, sizeof dims, &v), DLC_OK);
    cr_assert_eq((uintptr_t)v->data % 64, 0);
    int64_t out[4];
    int32_t n;
    cr_assert_eq(dlc_value_const_ints(v, out, 4, &n), DLC_OK);
    cr_assert_eq(n, 3);
    cr_assert_eq(out[1], -1);
    cr_assert_eq(dlc_value_const_ints(v, out, 2, &n), DLC_ERR_UNSUPPORTED);
    double first;
    cr_assert_eq(dlc_value_const_scalar(v, &first), DLC_OK);
    cr_assert_float_eq(first, 1.0, 0);
    dlc_graph_free(g);
}
