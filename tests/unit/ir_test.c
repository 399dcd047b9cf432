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

/* dlc_graph_clone: same ids, names, shapes, data, attributes (a subgraph
 * too), symbols and no_fold; nothing shared, so editing or freeing one
 * leaves the other intact. */
Test(ir_graph, clone_is_deep_and_keeps_ids) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("g", &g), DLC_OK);
    int32_t sym;
    cr_assert_eq(dlc_graph_symbol(g, "batch", &sym), DLC_OK);
    dlc_value *x = add_tensor(g, "x", DLC_VALUE_INPUT);
    x->shape.dims[0] = (dlc_dim){-1, sym};
    const float w[6] = {1, 2, 3, 4, 5, 6};
    dlc_shape s = shape2(2, 3);
    dlc_value *c;
    cr_assert_eq(dlc_graph_add_const(g, "w", DLC_FLOAT32, &s, w, sizeof w, &c), DLC_OK);
    dlc_value *y = add_tensor(g, "y", DLC_VALUE_INTERMEDIATE);
    dlc_node *n;
    dlc_value *ins[2] = {x, c};
    cr_assert_eq(dlc_graph_add_node(g, "add", "Add", "", 14, 2, ins, 1, &y, &n), DLC_OK);
    dlc_attr ints = {.name = "axes", .type = DLC_ATTR_INTS, .ints = (int64_t[]){0, 1}, .count = 2};
    cr_assert_eq(dlc_node_add_attr(n, &ints), DLC_OK);
    dlc_graph *sub;
    cr_assert_eq(dlc_graph_create("body", &sub), DLC_OK);
    add_tensor(sub, "inner", DLC_VALUE_INPUT);
    dlc_attr body = {.name = strdup("body"), .type = DLC_ATTR_GRAPH, .graph = sub};
    cr_assert_eq(dlc_node_add_attr(n, &body), DLC_OK); /* moves sub into the node */
    g->outputs = malloc(sizeof *g->outputs);
    g->outputs[0] = y;
    g->num_outputs = 1;
    cr_assert_eq(dlc_graph_add_no_fold(g, "y"), DLC_OK);
    dlc_graph_update_uses(g);

    dlc_graph *k;
    cr_assert_eq(dlc_graph_clone(g, &k), DLC_OK);
    cr_assert_eq(k->num_values, g->num_values);
    cr_assert_eq(k->num_nodes, 1);
    cr_assert_eq(k->num_inputs, 1);
    cr_assert_eq(k->inputs[0], k->values[x->id]);
    cr_assert_neq(k->inputs[0], x);
    cr_assert_str_eq(k->symbols[k->inputs[0]->shape.dims[0].sym], "batch");
    const dlc_node *m = k->nodes[0];
    cr_assert_neq(m, n);
    cr_assert_eq(m->id, n->id);
    cr_assert_eq(m->inputs[1], k->values[c->id]);
    cr_assert_eq(m->outputs[0]->producer, m);
    cr_assert_eq(k->outputs[0], m->outputs[0]);
    cr_assert(k->outputs[0]->is_graph_output);
    cr_assert_neq(k->values[c->id]->data, c->data);
    cr_assert_eq(memcmp(k->values[c->id]->data, w, sizeof w), 0);
    cr_assert_eq(((uintptr_t)k->values[c->id]->data) % 64, 0);
    cr_assert_eq(m->num_attrs, 2);
    cr_assert_eq(m->attrs[0].ints[1], 1);
    cr_assert_neq(m->attrs[0].ints, n->attrs[0].ints);
    cr_assert_neq(m->attrs[1].graph, sub);
    cr_assert_str_eq(m->attrs[1].graph->inputs[0]->name, "inner");
    cr_assert(dlc_graph_is_no_fold(k, "y"));
    cr_assert_eq(dlc_graph_verify(k), DLC_OK);

    ((float *)k->values[c->id]->data)[0] = 42; /* the copy is its own */
    cr_assert_eq(((const float *)c->data)[0], 1);
    dlc_graph_free(g);
    cr_assert_eq(dlc_graph_verify(k), DLC_OK);
    cr_assert_str_eq(k->nodes[0]->attrs[1].graph->name, "body");
    dlc_graph_free(k);
}

/* dlc_graph_clone_sharing_data: constants borrow the source's data; freeing
 * the copy leaves it, replacing a copy's constant does not touch it. */
Test(ir_graph, clone_sharing_data_borrows_constants) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("g", &g), DLC_OK);
    const float w[6] = {1, 2, 3, 4, 5, 6}, other[6] = {7, 8, 9, 10, 11, 12};
    dlc_shape s = shape2(2, 3);
    dlc_value *c;
    cr_assert_eq(dlc_graph_add_const(g, "w", DLC_FLOAT32, &s, w, sizeof w, &c), DLC_OK);
    dlc_graph *k1, *k2;
    cr_assert_eq(dlc_graph_clone_sharing_data(g, &k1), DLC_OK);
    cr_assert_eq(dlc_graph_clone_sharing_data(g, &k2), DLC_OK);
    cr_assert(k1->values[c->id]->data_borrowed);
    cr_assert_eq(k1->values[c->id]->data, c->data);
    cr_assert_eq(dlc_value_set_const(k2->values[c->id], other, sizeof other), DLC_OK);
    cr_assert_not(k2->values[c->id]->data_borrowed);
    cr_assert_eq(((const float *)c->data)[0], 1);
    cr_assert_eq(((const float *)k2->values[c->id]->data)[0], 7);
    dlc_graph_free(k1); /* must not free g's data (ASan builds would report it) */
    dlc_graph_free(k2);
    cr_assert_eq(((const float *)c->data)[5], 6);
    dlc_graph_free(g);
}
