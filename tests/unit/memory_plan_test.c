/* Memory planning: caller buffers for inputs/outputs, aligned weights, arena
 * reuse by liveness — and never two live buffers sharing a byte. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "model_builders.h"
#include "passes/memory_plan.h"
#include "passes/pipeline.h"

/* x → Relu → a → Relu → b → Relu → c → Relu → d → Relu → y */
static dlc_graph *relu_chain(dlc_value **out_values) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("chain", &g), DLC_OK);
    dlc_value *prev = tb_value(g, "x", DLC_VALUE_INPUT, 2, (int64_t[]){8, 16});
    dlc_value *x = prev;
    const char *names[5] = {"a", "b", "c", "d", "y"};
    for (int i = 0; i < 5; i++) {
        dlc_value *next = tb_value(g, names[i], DLC_VALUE_INTERMEDIATE, -1, NULL);
        char node_name[16];
        snprintf(node_name, sizeof node_name, "relu%d", i);
        tb_node(g, node_name, "Relu", 1, &prev, next);
        out_values[i] = next;
        prev = next;
    }
    tb_set_io(g, 1, &x, 1, &prev);
    cr_assert_eq(dlc_infer_and_fold(g), DLC_OK, "%s", dlc_last_error());
    return g;
}

Test(memory_plan, chain_reuses_dead_buffers) {
    dlc_value *v[5];
    dlc_graph *g = relu_chain(v);
    dlc_memory_plan plan;
    cr_assert_eq(dlc_memory_plan_build(g, &plan), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(plan.values[g->inputs[0]->id].kind, DLC_LOC_INPUT);
    cr_assert_eq(plan.values[v[4]->id].kind, DLC_LOC_OUTPUT);
    cr_assert_eq(plan.values[v[4]->id].index, 0);
    for (int i = 0; i < 4; i++) cr_assert_eq(plan.values[v[i]->id].kind, DLC_LOC_ARENA);
    /* a and c are never alive together, nor b and d: two buffers suffice */
    cr_assert_eq(plan.arena_size, 2 * 8 * 16 * sizeof(float));
    cr_assert_eq(plan.values[v[0]->id].offset, plan.values[v[2]->id].offset);
    cr_assert_eq(plan.values[v[1]->id].offset, plan.values[v[3]->id].offset);
    cr_assert_neq(plan.values[v[0]->id].offset, plan.values[v[1]->id].offset);
    dlc_memory_plan_free(&plan);
    dlc_graph_free(g);
}

Test(memory_plan, weights_are_aligned_and_outputs_in_place_once) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("w", &g), DLC_OK);
    float c1[3] = {1, 2, 3}, c2[3] = {4, 5, 6};
    dlc_value *x = tb_value(g, "x", DLC_VALUE_INPUT, 1, (int64_t[]){3});
    dlc_value *k1 = tb_const(g, "k1", 1, (int64_t[]){3}, c1);
    dlc_value *k2 = tb_const(g, "k2", 1, (int64_t[]){3}, c2);
    int32_t unused_id = tb_const(g, "unused", 1, (int64_t[]){3}, c2)->id; /* may be removed as dead */
    dlc_value *s = tb_value(g, "s", DLC_VALUE_INTERMEDIATE, -1, NULL);
    dlc_value *t = tb_value(g, "t", DLC_VALUE_INTERMEDIATE, -1, NULL);
    tb_node(g, "add1", "Add", 2, (dlc_value *[]){x, k1}, s);
    tb_node(g, "add2", "Add", 2, (dlc_value *[]){s, k2}, t);
    /* t twice, and the input itself as an output: only one slot is in place */
    tb_set_io(g, 1, &x, 3, (dlc_value *[]){t, t, x});
    cr_assert_eq(dlc_infer_and_fold(g), DLC_OK, "%s", dlc_last_error());
    dlc_memory_plan plan;
    cr_assert_eq(dlc_memory_plan_build(g, &plan), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(plan.values[k1->id].kind, DLC_LOC_WEIGHT);
    cr_assert_eq(plan.values[k2->id].kind, DLC_LOC_WEIGHT);
    cr_assert_eq(plan.values[k1->id].offset % 64, 0);
    cr_assert_eq(plan.values[k2->id].offset % 64, 0);
    cr_assert_neq(plan.values[k1->id].offset, plan.values[k2->id].offset);
    cr_assert_eq(plan.values[unused_id].kind, DLC_LOC_NONE);
    cr_assert_eq(plan.weights_size, 128);
    cr_assert_eq(plan.values[t->id].kind, DLC_LOC_OUTPUT);
    cr_assert_eq(plan.values[t->id].index, 0);
    cr_assert_eq(plan.values[x->id].kind, DLC_LOC_INPUT);
    cr_assert_eq(plan.values[s->id].kind, DLC_LOC_ARENA);
    dlc_memory_plan_free(&plan);
    dlc_graph_free(g);
}

/* Lifetime of every arena buffer recomputed independently of the planner. */
typedef struct span {
    int first, last;
    uint64_t offset, size;
    int32_t value_id; /* -1: a workspace */
} span;

static void check_no_overlap(const dlc_graph *g, const dlc_memory_plan *plan) {
    int count = 0;
    span *spans = calloc((size_t)(g->num_values + g->num_nodes), sizeof *spans);
    for (int id = 0; id < g->num_values; id++) {
        const dlc_value *v = g->values[id];
        if (v == NULL || plan->values[id].kind != DLC_LOC_ARENA) continue;
        span s = {-1, -1, plan->values[id].offset, (uint64_t)dlc_value_numel(v) * dlc_dtype_size(v->dtype), id};
        for (int p = 0; p < g->num_nodes; p++) {
            for (int i = 0; i < g->nodes[p]->num_inputs; i++)
                if (g->nodes[p]->inputs[i] == v) s.last = p;
            for (int o = 0; o < g->nodes[p]->num_outputs; o++)
                if (g->nodes[p]->outputs[o] == v) s.first = p;
        }
        if (v->is_graph_output) s.last = g->num_nodes;
        if (s.last < s.first) s.last = s.first;
        cr_assert_geq(s.first, 0, "arena tensor '%s' has no producer", v->name);
        s.value_id = id;
        spans[count++] = s;
    }
    /* a copy's output shares its source's bytes: one buffer, alive from the
     * source's producer to the last reader of either */
    for (int i = 0; i < count; i++) {
        int32_t root = plan->alias_of[spans[i].value_id];
        if (root < 0) continue;
        cr_assert_eq(plan->values[spans[i].value_id].offset, plan->values[root].offset);
        for (int j = 0; j < count; j++)
            if (spans[j].value_id == root) {
                if (spans[i].last > spans[j].last) spans[j].last = spans[i].last;
                if (spans[i].first < spans[j].first) spans[j].first = spans[i].first;
            }
        spans[i].size = 0; /* checked as part of its source */
    }
    for (int p = 0; p < g->num_nodes; p++)
        if (plan->workspace_size[p] > 0)
            spans[count++] = (span){p, p, plan->workspace_offset[p], plan->workspace_size[p], -1};
    for (int i = 0; i < count; i++) {
        cr_assert_eq(spans[i].offset % plan->alignment, 0);
        cr_assert_leq(spans[i].offset + spans[i].size, plan->arena_size);
        for (int j = i + 1; j < count; j++) {
            bool live_together = spans[i].first <= spans[j].last && spans[j].first <= spans[i].last;
            bool share_bytes = spans[i].offset < spans[j].offset + spans[j].size &&
                               spans[j].offset < spans[i].offset + spans[i].size;
            cr_assert(!(live_together && share_bytes && spans[i].size > 0 && spans[j].size > 0),
                      "buffers %d [%d,%d] @%llu+%llu and %d [%d,%d] @%llu+%llu overlap", i, spans[i].first,
                      spans[i].last, (unsigned long long)spans[i].offset, (unsigned long long)spans[i].size, j,
                      spans[j].first, spans[j].last, (unsigned long long)spans[j].offset,
                      (unsigned long long)spans[j].size);
        }
    }
    free(spans);
}

/* x -> Relu -> a -> Flatten -> f; then b = Relu(a), c = Relu(b), y = f + c:
 * f is a's bytes, so a stays alive until the Add and neither b nor c may
 * take its place; Flatten of the input x is the caller's buffer itself. */
Test(memory_plan, copies_share_their_source_bytes) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("alias", &g), DLC_OK);
    dlc_value *x = tb_value(g, "x", DLC_VALUE_INPUT, 2, (int64_t[]){8, 16});
    dlc_value *a = tb_value(g, "a", DLC_VALUE_INTERMEDIATE, -1, NULL);
    dlc_value *f = tb_value(g, "f", DLC_VALUE_INTERMEDIATE, -1, NULL);
    dlc_value *b = tb_value(g, "b", DLC_VALUE_INTERMEDIATE, -1, NULL);
    dlc_value *c = tb_value(g, "c", DLC_VALUE_INTERMEDIATE, -1, NULL);
    dlc_value *fx = tb_value(g, "fx", DLC_VALUE_INTERMEDIATE, -1, NULL);
    dlc_value *s = tb_value(g, "s", DLC_VALUE_INTERMEDIATE, -1, NULL);
    dlc_value *y = tb_value(g, "y", DLC_VALUE_INTERMEDIATE, -1, NULL);
    tb_node(g, "relu_a", "Relu", 1, &x, a);
    tb_node(g, "flat", "Flatten", 1, &a, f);
    tb_node(g, "relu_b", "Relu", 1, &a, b);
    tb_node(g, "relu_c", "Relu", 1, &b, c);
    tb_node(g, "flat_x", "Flatten", 1, &x, fx);
    tb_node(g, "add", "Add", 2, (dlc_value *[]){f, c}, s);
    tb_node(g, "add_x", "Add", 2, (dlc_value *[]){s, fx}, y);
    tb_set_io(g, 1, &x, 1, &y);
    cr_assert_eq(dlc_infer_and_fold(g), DLC_OK, "%s", dlc_last_error());
    dlc_memory_plan plan;
    cr_assert_eq(dlc_memory_plan_build(g, &plan), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(plan.alias_of[f->id], a->id);
    cr_assert_eq(plan.values[f->id].kind, DLC_LOC_ARENA);
    cr_assert_eq(plan.values[f->id].offset, plan.values[a->id].offset);
    cr_assert_neq(plan.values[b->id].offset, plan.values[a->id].offset);
    cr_assert_neq(plan.values[c->id].offset, plan.values[a->id].offset);
    cr_assert_eq(plan.alias_of[fx->id], x->id);
    cr_assert_eq(plan.values[fx->id].kind, DLC_LOC_INPUT);
    cr_assert_eq(plan.alias_of[y->id], -1);
    check_no_overlap(g, &plan);
    dlc_memory_plan_free(&plan);
    dlc_graph_free(g);
}

/* Random DAGs of Add/Relu/Flatten over two tensor sizes. */
Test(memory_plan, random_graphs_never_overlap_live_buffers) {
    unsigned seed = 12345;
    for (int trial = 0; trial < 20; trial++) {
        dlc_graph *g;
        cr_assert_eq(dlc_graph_create("random", &g), DLC_OK);
        dlc_value *pool[2][64];
        int pool_count[2] = {1, 1};
        pool[0][0] = tb_value(g, "in0", DLC_VALUE_INPUT, 2, (int64_t[]){4, 16});
        pool[1][0] = tb_value(g, "in1", DLC_VALUE_INPUT, 2, (int64_t[]){8, 32});
        int nodes = 8 + trial * 2;
        for (int n = 0; n < nodes; n++) {
            seed = seed * 1103515245u + 12345u;
            int cls = (seed >> 16) & 1;
            seed = seed * 1103515245u + 12345u;
            dlc_value *a = pool[cls][(seed >> 16) % (unsigned)pool_count[cls]];
            seed = seed * 1103515245u + 12345u;
            dlc_value *b = pool[cls][(seed >> 16) % (unsigned)pool_count[cls]];
            char name[32];
            snprintf(name, sizeof name, "v%d", n);
            dlc_value *out = tb_value(g, name, DLC_VALUE_INTERMEDIATE, -1, NULL);
            snprintf(name, sizeof name, "n%d", n);
            if (((seed >> 20) & 3) == 3)
                tb_node(g, name, "Flatten", 1, &a, out); /* [r, c] stays [r, c]: a copy, shared bytes */
            else if ((seed >> 20) & 1)
                tb_node(g, name, "Relu", 1, &a, out);
            else
                tb_node(g, name, "Add", 2, (dlc_value *[]){a, b}, out);
            pool[cls][pool_count[cls]++] = out;
        }
        tb_set_io(g, 2, (dlc_value *[]){pool[0][0], pool[1][0]}, 2,
                  (dlc_value *[]){pool[0][pool_count[0] - 1], pool[1][pool_count[1] - 1]});
        cr_assert_eq(dlc_infer_and_fold(g), DLC_OK, "%s", dlc_last_error());
        dlc_memory_plan plan;
        cr_assert_eq(dlc_memory_plan_build(g, &plan), DLC_OK, "%s", dlc_last_error());
        check_no_overlap(g, &plan);
        dlc_memory_plan_free(&plan);
        dlc_graph_free(g);
    }
}

Test(memory_plan, symbolic_shape_is_an_error_naming_the_tensor) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("sym", &g), DLC_OK);
    dlc_value *x = tb_value(g, "x", DLC_VALUE_INPUT, 2, (int64_t[]){2, 3});
    int32_t sym;
    cr_assert_eq(dlc_graph_symbol(g, "batch", &sym), DLC_OK);
    x->shape.dims[0] = (dlc_dim){-1, sym};
    dlc_value *y = tb_value(g, "y", DLC_VALUE_INTERMEDIATE, -1, NULL);
    tb_node(g, "relu", "Relu", 1, &x, y);
    tb_set_io(g, 1, &x, 1, &y);
    cr_assert_eq(dlc_infer_and_fold(g), DLC_OK, "%s", dlc_last_error());
    dlc_memory_plan plan;
    cr_assert_neq(dlc_memory_plan_build(g, &plan), DLC_OK);
    cr_assert(strstr(dlc_last_error(), "no static shape ([batch,3])") != NULL, "%s", dlc_last_error());
    dlc_graph_free(g);
}
