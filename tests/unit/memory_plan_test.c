/* Memory planning: caller buffers for inputs/outputs, aligned weights, arena
 * reuse by liveness — and never two live buffers sharing a byte. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "model_builders.h"
#include "pass_harness.h"
#include "passes/memory_plan.h"
#include "passes/pipeline.h"

/* x → OP → a → OP → b → OP → c → OP → d → OP → y */
static dlc_graph *op_chain(const char *op, dlc_value **out_values) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("chain", &g), DLC_OK);
    dlc_value *prev = tb_value(g, "x", DLC_VALUE_INPUT, 2, (int64_t[]){8, 16});
    dlc_value *x = prev;
    const char *names[5] = {"a", "b", "c", "d", "y"};
    for (int i = 0; i < 5; i++) {
        dlc_value *next = tb_value(g, names[i], DLC_VALUE_INTERMEDIATE, -1, NULL);
        char node_name[16];
        snprintf(node_name, sizeof node_name, "n%d", i);
        tb_node(g, node_name, op, 1, &prev, next);
        out_values[i] = next;
        prev = next;
    }
    tb_set_io(g, 1, &x, 1, &prev);
    cr_assert_eq(dlc_infer_and_fold(g), DLC_OK, "%s", dlc_last_error());
    return g;
}

/* Softmax does not run in place: buffers are reused by liveness alone */
Test(memory_plan, chain_reuses_dead_buffers) {
    dlc_value *v[5];
    dlc_graph *g = op_chain("Softmax", v);
    dlc_memory_plan plan;
    cr_assert_eq(dlc_memory_plan_build(g, &plan), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(plan.values[g->inputs[0]->id].kind, DLC_LOC_INPUT);
    cr_assert_eq(plan.values[v[4]->id].kind, DLC_LOC_OUTPUT);
    cr_assert_eq(plan.values[v[4]->id].index, 0);
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(plan.values[v[i]->id].kind, DLC_LOC_ARENA);
        cr_assert_eq(plan.alias_of[v[i]->id], -1);
    }
    /* a and c are never alive together, nor b and d: two buffers suffice */
    cr_assert_eq(plan.arena_size, 2 * 8 * 16 * sizeof(float));
    cr_assert_eq(plan.values[v[0]->id].offset, plan.values[v[2]->id].offset);
    cr_assert_eq(plan.values[v[1]->id].offset, plan.values[v[3]->id].offset);
    cr_assert_neq(plan.values[v[0]->id].offset, plan.values[v[1]->id].offset);
    dlc_memory_plan_free(&plan);
    dlc_graph_free(g);
}

/* Relu's input dies at each Relu: b, c, d overwrite a; the graph input x
 * (the caller's) and the output y (the caller's) are never overwritten. */
Test(memory_plan, elementwise_chain_runs_in_place) {
    dlc_value *v[5];
    dlc_graph *g = op_chain("Relu", v);
    dlc_memory_plan plan;
    cr_assert_eq(dlc_memory_plan_build(g, &plan), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(plan.alias_of[v[0]->id], -1, "a must not overwrite the graph input");
    for (int i = 1; i < 4; i++) {
        cr_assert_eq(plan.alias_of[v[i]->id], v[0]->id, "%s", v[i]->name);
        cr_assert_eq(plan.values[v[i]->id].kind, DLC_LOC_ARENA);
        cr_assert_eq(plan.values[v[i]->id].offset, plan.values[v[0]->id].offset);
    }
    cr_assert_eq(plan.alias_of[v[4]->id], -1);
    cr_assert_eq(plan.values[v[4]->id].kind, DLC_LOC_OUTPUT);
    cr_assert_eq(plan.arena_size, 8 * 16 * sizeof(float));
    cr_assert_eq(plan.num_in_place, 3);
    cr_assert_eq(plan.num_copies_shared, 0);
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

/* Position of v's producer and its last reader (num_nodes: a graph output). */
static void value_span(const dlc_graph *g, const dlc_value *v, int *first, int *last) {
    *first = *last = -1;
    for (int p = 0; p < g->num_nodes; p++) {
        for (int i = 0; i < g->nodes[p]->num_inputs; i++)
            if (g->nodes[p]->inputs[i] == v) *last = p;
        for (int o = 0; o < g->nodes[p]->num_outputs; o++)
            if (g->nodes[p]->outputs[o] == v) *first = p;
    }
    if (v->is_graph_output) *last = g->num_nodes;
    if (*last < *first) *last = *first;
}

/* True when value id comes from a node that copies its input's bytes. */
static bool copies_bytes(const dlc_graph *g, int32_t id) {
    static const char *const copies[] = {"Flatten", "Reshape", "Identity", "Squeeze", "Unsqueeze"};
    for (int p = 0; p < g->num_nodes; p++)
        if (g->nodes[p]->num_outputs > 0 && g->nodes[p]->outputs[0] == g->values[id])
            for (size_t k = 0; k < sizeof copies / sizeof copies[0]; k++)
                if (strcmp(g->nodes[p]->op_type, copies[k]) == 0) return true;
    return false;
}

static void check_no_overlap(const dlc_graph *g, const dlc_memory_plan *plan) {
    int count = 0;
    span *spans = calloc((size_t)(g->num_values + g->num_nodes), sizeof *spans);
    int *spans_first = calloc((size_t)(g->num_values + g->num_nodes), sizeof *spans_first);
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
        spans_first[count] = s.first;
        spans[count++] = s;
    }
    /* a copy's or an in-place node's output shares its source's bytes: one
     * buffer, alive from the source's producer to the last reader of any */
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
    /* bytes are overwritten only by a node whose input dies there: a value
     * written over others of its group (not a copy, which keeps the bytes)
     * comes after the last reader of every member written before it */
    for (int i = 0; i < count; i++) {
        int32_t id = spans[i].value_id, root = plan->alias_of[id];
        if (root < 0 || copies_bytes(g, id)) continue;
        for (int j = 0; j < count; j++) {
            int32_t other = spans[j].value_id;
            if (j == i || (other != root && plan->alias_of[other] != root)) continue;
            int first_j = -1, last_j = -1;
            value_span(g, g->values[other], &first_j, &last_j);
            if (first_j < spans_first[i])
                cr_assert_leq(last_j, spans_first[i], "'%s' overwrites '%s', which is read later",
                              g->values[id]->name, g->values[other]->name);
        }
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
    free(spans_first);
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

static void t_expect_close(const float *got, const float *want, int n, double tol, int level, int output) {
    for (int i = 0; i < n; i++)
        cr_assert(fabs((double)got[i] - want[i]) <= tol * (1.0 + fabs((double)want[i])),
                  "-O%d output %d [%d]: got %.9g, expected %.9g", level, output, i, got[i], want[i]);
}

static dlc_memory_plan plan_of(dlc_graph *g) {
    cr_assert_eq(dlc_infer_and_fold(g), DLC_OK, "%s", dlc_last_error());
    dlc_memory_plan plan;
    cr_assert_eq(dlc_memory_plan_build(g, &plan), DLC_OK, "%s", dlc_last_error());
    check_no_overlap(g, &plan);
    return plan;
}

/* a = Relu(x); b = Relu(a); s = Add(a, b) -- b may not overwrite a (read by
 * the Add), the Add may overwrite either (both die there: the first, a);
 * t = Sigmoid(s) overwrites s; y = Mul(t, t) is the caller's output. */
Test(memory_plan, in_place_only_over_a_dying_input) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("dying", &g), DLC_OK);
    dlc_value *x = tb_value(g, "x", DLC_VALUE_INPUT, 2, (int64_t[]){8, 16});
    dlc_value *a = tb_value(g, "a", DLC_VALUE_INTERMEDIATE, -1, NULL);
    dlc_value *b = tb_value(g, "b", DLC_VALUE_INTERMEDIATE, -1, NULL);
    dlc_value *sum = tb_value(g, "s", DLC_VALUE_INTERMEDIATE, -1, NULL);
    dlc_value *t = tb_value(g, "t", DLC_VALUE_INTERMEDIATE, -1, NULL);
    dlc_value *y = tb_value(g, "y", DLC_VALUE_INTERMEDIATE, -1, NULL);
    tb_node(g, "relu_a", "Relu", 1, &x, a);
    tb_node(g, "relu_b", "Relu", 1, &a, b);
    tb_node(g, "add", "Add", 2, (dlc_value *[]){a, b}, sum);
    tb_node(g, "sig", "Sigmoid", 1, &sum, t);
    tb_node(g, "sq", "Mul", 2, (dlc_value *[]){t, t}, y);
    tb_set_io(g, 1, &x, 1, &y);
    dlc_memory_plan plan = plan_of(g);
    cr_assert_eq(plan.alias_of[a->id], -1, "the graph input is the caller's");
    cr_assert_eq(plan.alias_of[b->id], -1, "a is read after b");
    cr_assert_neq(plan.values[b->id].offset, plan.values[a->id].offset);
    cr_assert_eq(plan.alias_of[sum->id], a->id);
    cr_assert_eq(plan.alias_of[t->id], a->id);
    cr_assert_eq(plan.values[t->id].offset, plan.values[a->id].offset);
    cr_assert_eq(plan.alias_of[y->id], -1);
    cr_assert_eq(plan.values[y->id].kind, DLC_LOC_OUTPUT);
    cr_assert_eq(plan.arena_size, 2 * 8 * 16 * sizeof(float));
    dlc_memory_plan_free(&plan);
    dlc_graph_free(g);
}

/* No in-place write over: a constant, a broadcast operand (its element i is
 * not the one written), an operand of another dtype (Less gives bool), or
 * the third input of a variadic Sum (read after the first two are folded
 * into the output). */
Test(memory_plan, no_in_place_over_constants_broadcasts_or_other_dtypes) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("never", &g), DLC_OK);
    float k[128] = {0}, kr[16] = {0};
    dlc_value *x = tb_value(g, "x", DLC_VALUE_INPUT, 2, (int64_t[]){8, 16});
    dlc_value *row = tb_value(g, "row", DLC_VALUE_INPUT, 2, (int64_t[]){1, 16});
    dlc_value *kc = tb_const(g, "k", 2, (int64_t[]){8, 16}, k);
    dlc_value *krow = tb_const(g, "krow", 2, (int64_t[]){1, 16}, kr);
    dlc_value *r = tb_value(g, "r", DLC_VALUE_INTERMEDIATE, -1, NULL);    /* [1,16], dies at a broadcast */
    dlc_value *bc = tb_value(g, "bc", DLC_VALUE_INTERMEDIATE, -1, NULL);  /* Add(r, x): [8,16] */
    dlc_value *kx = tb_value(g, "kx", DLC_VALUE_INTERMEDIATE, -1, NULL);  /* Add(k, krow): constant only */
    dlc_value *m = tb_value(g, "m", DLC_VALUE_INTERMEDIATE, -1, NULL);    /* Relu(x) */
    dlc_value *lt = tb_value(g, "lt", DLC_VALUE_INTERMEDIATE, -1, NULL);  /* Less(m, x): bool */
    dlc_value *p = tb_value(g, "p", DLC_VALUE_INTERMEDIATE, -1, NULL);    /* Relu(x) */
    dlc_value *sum = tb_value(g, "sum", DLC_VALUE_INTERMEDIATE, -1, NULL);/* Sum(x, bc, p) */
    dlc_value *o1 = tb_value(g, "o1", DLC_VALUE_INTERMEDIATE, -1, NULL);
    dlc_value *o2 = tb_value(g, "o2", DLC_VALUE_INTERMEDIATE, -1, NULL);
    tb_node(g, "relu_r", "Relu", 1, &row, r);
    tb_node(g, "add_bc", "Add", 2, (dlc_value *[]){r, x}, bc);
    tb_node(g, "relu_m", "Relu", 1, &x, m);
    tb_node(g, "less", "Less", 2, (dlc_value *[]){m, x}, lt);
    tb_node(g, "relu_p", "Relu", 1, &x, p);
    tb_node(g, "sum", "Sum", 3, (dlc_value *[]){x, bc, p}, sum);
    tb_node(g, "add_k", "Add", 2, (dlc_value *[]){kc, sum}, kx);
    tb_node(g, "where", "Where", 3, (dlc_value *[]){lt, kx, krow}, o1);
    tb_node(g, "neg", "Neg", 1, &o1, o2);
    tb_set_io(g, 2, (dlc_value *[]){x, row}, 1, &o2);
    dlc_memory_plan plan = plan_of(g);
    cr_assert_eq(plan.alias_of[bc->id], -1, "r is broadcast");
    cr_assert_eq(plan.alias_of[lt->id], -1, "bool over float");
    /* Sum(x, bc, p): x is the caller's, bc dies there as operand 1 */
    cr_assert_eq(plan.alias_of[sum->id], bc->id);
    cr_assert_eq(plan.alias_of[kx->id], bc->id, "k is a constant, sum dies at the Add");
    cr_assert_eq(plan.alias_of[o1->id], bc->id, "Where over its full-size x operand, not the bool condition");
    cr_assert_eq(plan.alias_of[o2->id], -1);
    dlc_memory_plan_free(&plan);
    dlc_graph_free(g);
}

/* Sum(x, x, b): b dies there but the kernel reads it only after writing
 * x + x into the output, so b's bytes are not the output's; in Sum(x, a, s1)
 * with a dying too, the output goes over a; Sum(s2, x, s2) reads s2 as
 * operand 2 as well, so not over s2. */
Test(memory_plan, variadic_writes_over_its_first_two_operands_only) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("sum", &g), DLC_OK);
    dlc_value *x = tb_value(g, "x", DLC_VALUE_INPUT, 2, (int64_t[]){8, 16});
    dlc_value *a = tb_value(g, "a", DLC_VALUE_INTERMEDIATE, -1, NULL);
    dlc_value *b = tb_value(g, "b", DLC_VALUE_INTERMEDIATE, -1, NULL);
    dlc_value *s1 = tb_value(g, "s1", DLC_VALUE_INTERMEDIATE, -1, NULL);
    dlc_value *s2 = tb_value(g, "s2", DLC_VALUE_INTERMEDIATE, -1, NULL);
    dlc_value *s3 = tb_value(g, "s3", DLC_VALUE_INTERMEDIATE, -1, NULL);
    dlc_value *y = tb_value(g, "y", DLC_VALUE_INTERMEDIATE, -1, NULL);
    tb_node(g, "relu_a", "Relu", 1, &x, a);
    tb_node(g, "relu_b", "Relu", 1, &x, b);
    tb_node(g, "sum1", "Sum", 3, (dlc_value *[]){x, x, b}, s1); /* b only as operand 2 */
    tb_node(g, "sum2", "Sum", 3, (dlc_value *[]){x, a, s1}, s2);
    tb_node(g, "sum3", "Sum", 3, (dlc_value *[]){s2, x, s2}, s3); /* s2 is operand 2 as well */
    tb_node(g, "neg", "Neg", 1, &s3, y);
    tb_set_io(g, 1, &x, 1, &y);
    dlc_memory_plan plan = plan_of(g);
    cr_assert_eq(plan.alias_of[s1->id], -1);
    cr_assert_eq(plan.alias_of[s2->id], a->id);
    cr_assert_eq(plan.alias_of[s3->id], -1);
    dlc_memory_plan_free(&plan);
    dlc_graph_free(g);
}

/* a = Relu(x); f = Flatten(a) shares a's bytes; r = Relu(f) may overwrite
 * them (a and f both die there); but q = Relu(g2) may not overwrite g2's
 * bytes while the Flatten alias h of them is read later. */
Test(memory_plan, in_place_through_copy_aliases) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("copies", &g), DLC_OK);
    dlc_value *x = tb_value(g, "x", DLC_VALUE_INPUT, 2, (int64_t[]){8, 16});
    dlc_value *a = tb_value(g, "a", DLC_VALUE_INTERMEDIATE, -1, NULL);
    dlc_value *f = tb_value(g, "f", DLC_VALUE_INTERMEDIATE, -1, NULL);
    dlc_value *r = tb_value(g, "r", DLC_VALUE_INTERMEDIATE, -1, NULL);
    dlc_value *h = tb_value(g, "h", DLC_VALUE_INTERMEDIATE, -1, NULL);
    dlc_value *q = tb_value(g, "q", DLC_VALUE_INTERMEDIATE, -1, NULL);
    dlc_value *y = tb_value(g, "y", DLC_VALUE_INTERMEDIATE, -1, NULL);
    tb_node(g, "relu_a", "Relu", 1, &x, a);
    tb_node(g, "flat", "Flatten", 1, &a, f);
    tb_node(g, "relu_r", "Relu", 1, &f, r);
    tb_node(g, "flat_h", "Flatten", 1, &r, h);
    tb_node(g, "relu_q", "Relu", 1, &r, q);
    tb_node(g, "add", "Add", 2, (dlc_value *[]){q, h}, y);
    tb_set_io(g, 1, &x, 1, &y);
    dlc_memory_plan plan = plan_of(g);
    cr_assert_eq(plan.alias_of[f->id], a->id);
    cr_assert_eq(plan.alias_of[r->id], a->id);
    cr_assert_eq(plan.alias_of[h->id], a->id);
    cr_assert_eq(plan.alias_of[q->id], -1, "h, an alias of r's bytes, is read after q");
    cr_assert_eq(plan.num_in_place, 1);
    cr_assert_eq(plan.num_copies_shared, 2);
    cr_assert_neq(plan.values[q->id].offset, plan.values[a->id].offset);
    dlc_memory_plan_free(&plan);
    dlc_graph_free(g);
}

/* Random DAGs of Add/Mul/Relu/Sigmoid/Flatten over two tensor sizes, with
 * [1,16] rows broadcast into the [4,16] ones: copies and in-place nodes
 * share bytes, and no two live buffers overlap (check_no_overlap). */
Test(memory_plan, random_graphs_never_overlap_live_buffers) {
    unsigned seed = 12345;
    int in_place = 0;
    for (int trial = 0; trial < 40; trial++) {
        dlc_graph *g;
        cr_assert_eq(dlc_graph_create("random", &g), DLC_OK);
        dlc_value *pool[3][96];
        int pool_count[3] = {1, 1, 1};
        pool[0][0] = tb_value(g, "in0", DLC_VALUE_INPUT, 2, (int64_t[]){4, 16});
        pool[1][0] = tb_value(g, "in1", DLC_VALUE_INPUT, 2, (int64_t[]){8, 32});
        pool[2][0] = tb_value(g, "in2", DLC_VALUE_INPUT, 2, (int64_t[]){1, 16});
        int nodes = 8 + trial * 2;
        for (int n = 0; n < nodes; n++) {
            seed = seed * 1103515245u + 12345u;
            int cls = (int)((seed >> 16) % 3u);
            seed = seed * 1103515245u + 12345u;
            dlc_value *a = pool[cls][(seed >> 16) % (unsigned)pool_count[cls]];
            seed = seed * 1103515245u + 12345u;
            /* a [4,16] operand's partner may be a [1,16] row, either side */
            int bcls = cls == 0 && ((seed >> 8) & 1) ? 2 : cls;
            dlc_value *b = pool[bcls][(seed >> 16) % (unsigned)pool_count[bcls]];
            if ((seed >> 9) & 1) {
                dlc_value *t = a;
                a = b;
                b = t;
            }
            char name[32];
            snprintf(name, sizeof name, "v%d", n);
            dlc_value *out = tb_value(g, name, DLC_VALUE_INTERMEDIATE, -1, NULL);
            snprintf(name, sizeof name, "n%d", n);
            unsigned pick = (seed >> 20) % 5u;
            dlc_value *un = bcls == cls ? a : pool[cls][0];
            if (pick == 0)
                tb_node(g, name, "Flatten", 1, &un, out); /* [r, c] stays [r, c]: a copy, shared bytes */
            else if (pick == 1)
                tb_node(g, name, "Relu", 1, &un, out);
            else if (pick == 2)
                tb_node(g, name, "Sigmoid", 1, &un, out);
            else
                tb_node(g, name, pick == 3 ? "Add" : "Mul", 2, (dlc_value *[]){a, b}, out);
            pool[cls][pool_count[cls]++] = out;
        }
        tb_set_io(g, 3, (dlc_value *[]){pool[0][0], pool[1][0], pool[2][0]}, 3,
                  (dlc_value *[]){pool[0][pool_count[0] - 1], pool[1][pool_count[1] - 1],
                                  pool[2][pool_count[2] - 1]});
        cr_assert_eq(dlc_infer_and_fold(g), DLC_OK, "%s", dlc_last_error());
        dlc_memory_plan plan;
        cr_assert_eq(dlc_memory_plan_build(g, &plan), DLC_OK, "%s", dlc_last_error());
        check_no_overlap(g, &plan);
        for (int id = 0; id < g->num_values; id++) in_place += plan.alias_of[id] >= 0 && !copies_bytes(g, id);
        dlc_memory_plan_free(&plan);
        dlc_graph_free(g);
    }
    cr_assert_gt(in_place, 20, "only %d in-place nodes: the test does not exercise them", in_place);
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

/* ---- compiled models with in-place chains ---- */

enum { CH_ROWS = 3, CH_COLS = 500 };

static float chain_row(int j) { return (float)(j % 13) * 0.05f - 0.3f; }

/* x: [3,500] -> Mul 2 -> Relu -> Add x -> Sigmoid -> Mul itself -> Sub row
 * -> Tanh -> Max x -> Neg = y1; x -> Mul 0.5 -> LeakyRelu -> HardSigmoid ->
 * Erf -> Softsign -> Abs -> Sqrt -> Reciprocal -> Neg -> Exp -> Clip ->
 * Add x = y2. Every node after the first Mul of a chain but the last runs
 * over its input (the last writes the caller's output). */
static dlc_graph *in_place_chains(void) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("in_place_chains", &g), DLC_OK);
    dlc_value *x = tb_value(g, "x", DLC_VALUE_INPUT, 2, (int64_t[]){CH_ROWS, CH_COLS});
    float row[CH_COLS];
    for (int j = 0; j < CH_COLS; j++) row[j] = chain_row(j);
    dlc_value *rowc = tb_const(g, "row", 1, (int64_t[]){CH_COLS}, row);
    dlc_value *v = ph_op(g, "m2", "Mul", 2, (dlc_value *[]){x, ph_scalar(g, "two", 2.0f)});
    v = ph_op(g, "relu", "Relu", 1, &v);
    v = ph_op(g, "add_x", "Add", 2, (dlc_value *[]){v, x});
    v = ph_op(g, "sig", "Sigmoid", 1, &v);
    v = ph_op(g, "sq", "Mul", 2, (dlc_value *[]){v, v});
    v = ph_op(g, "sub_row", "Sub", 2, (dlc_value *[]){v, rowc});
    v = ph_op(g, "tanh", "Tanh", 1, &v);
    v = ph_op(g, "max_x", "Max", 2, (dlc_value *[]){x, v});
    dlc_value *y1 = ph_op(g, "neg", "Neg", 1, &v);
    dlc_value *w = ph_op(g, "m05", "Mul", 2, (dlc_value *[]){x, ph_scalar(g, "half", 0.5f)});
    const char *unary_ops[] = {"LeakyRelu", "HardSigmoid", "Erf", "Softsign", "Abs", "Sqrt", "Reciprocal", "Neg",
                               "Exp"};
    for (size_t k = 0; k < sizeof unary_ops / sizeof unary_ops[0]; k++) {
        char name[32];
        snprintf(name, sizeof name, "u%zu", k);
        w = ph_op(g, name, unary_ops[k], 1, &w);
    }
    w = ph_op(g, "clip", "Clip", 3, (dlc_value *[]){w, ph_scalar(g, "lo", 0.4f), ph_scalar(g, "hi", 0.9f)});
    dlc_value *y2 = ph_op(g, "add_x2", "Add", 2, (dlc_value *[]){w, x});
    tb_set_io(g, 1, &x, 2, (dlc_value *[]){y1, y2});
    return g;
}

static void in_place_reference(const float *x, float *y1, float *y2) {
    for (int i = 0; i < CH_ROWS * CH_COLS; i++) {
        double v = x[i], a = fmax(2 * v, 0) + v, s = 1 / (1 + exp(-a));
        double t = tanh(s * s - chain_row(i % CH_COLS));
        y1[i] = (float)-fmax(v, t);
        double w = 0.5 * v;
        w = w < 0 ? 0.01 * w : w;
        w = fmax(0, fmin(1, 0.2 * w + 0.5));
        w = erf(w);
        w = w / (1 + fabs(w));
        w = exp(-1 / sqrt(fabs(w)));
        y2[i] = (float)(fmin(0.9, fmax(0.4, w)) + v);
    }
}

/* The plan puts 17 of the 21 nodes over their input, and the compiled
 * model (LLVM-vectorized bitcode kernels, in place) gives the reference
 * values at -O0 and -O2 alike. */
Test(memory_plan, compiled_in_place_chains_match_the_reference) {
    dlc_graph *g = in_place_chains();
    dlc_memory_plan plan = plan_of(g);
    int in_place = 0;
    for (int id = 0; id < g->num_values; id++) in_place += plan.alias_of[id] >= 0;
    cr_assert_eq(in_place, 17, "%d values in place", in_place);
    cr_assert_eq(plan.num_in_place, 17);
    /* one buffer for each chain in turn, rounded to the 64-byte alignment */
    cr_assert_eq(plan.arena_size, (CH_ROWS * CH_COLS * sizeof(float) + 63) / 64 * 64, "%llu",
                 (unsigned long long)plan.arena_size);
    dlc_memory_plan_free(&plan);
    dlc_graph_free(g);

    static float x[CH_ROWS * CH_COLS], want1[CH_ROWS * CH_COLS], want2[CH_ROWS * CH_COLS];
    ph_fill(x, CH_ROWS * CH_COLS, 0); /* what ph_compile_run feeds input 0 */
    in_place_reference(x, want1, want2);
    for (int level = 0; level <= 2; level += 2) {
        ph_result r = ph_compile_run(in_place_chains, level);
        cr_assert_eq(r.count, 2);
        for (int o = 0; o < 2; o++) {
            cr_assert_eq(r.numel[o], CH_ROWS * CH_COLS);
            t_expect_close(r.data[o], o == 0 ? want1 : want2, CH_ROWS * CH_COLS, 2e-5, level, o);
            free(r.data[o]);
        }
    }
    ph_expect_same_outputs(in_place_chains, 1e-6);
}
