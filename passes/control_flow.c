/* If, Loop and Scan expanded at compile time.
 *
 * dlc's run function is straight-line code over one planned arena, so
 * control flow is resolved while inferring (dlc_infer_and_fold calls
 * dlc_expand_control_flow when it reaches such a node, its inputs already
 * inferred and folded):
 * - If with a CONST condition: the taken branch's nodes are cloned in place;
 * - Loop with a trip count and conditions known at compile time: the body is
 *   cloned once per iteration (unrolled), each copy inferred and folded at
 *   once, so a condition computed by the body is known before the next one;
 *   scan outputs are the iterations' values stacked on a new axis 0;
 * - Scan of static length: the body is cloned per step, reading the step's
 *   slice of each scan input (Gather), and scan outputs are stacked on their
 *   axis; opset 8's batch axis runs one such scan per batch row.
 * Every pass after this one, the memory plan and codegen see ordinary nodes.
 * The node's outputs keep their values (names, graph outputs): an Identity
 * writes each result into them, which identity elimination removes later.
 * Conditions or trip counts computed at run time are refused with a message
 * that names the value; `dlc test` and --bind can fix such graph inputs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/op_registry.h"
#include "ir/subgraph.h"
#include "passes/pipeline.h"
#include "runtime/status.h"

/* Unrolling copies the body: past these sizes the artifact would be huge. */
#define MAX_ITERATIONS 4096
#define MAX_CLONED_NODES 200000

/* Opset of the helper nodes (Identity, Gather, Unsqueeze, Concat) the
 * expansion adds: Unsqueeze takes its axes as an input from 13 on. */
#define HELPER_OPSET 13

bool dlc_is_control_flow(const dlc_node *node) {
    if (node->domain[0] != '\0') return false;
    return strcmp(node->op_type, "If") == 0 || strcmp(node->op_type, "Loop") == 0 || strcmp(node->op_type, "Scan") == 0;
}

typedef struct expansion {
    dlc_graph *g;
    const dlc_node *node; /* the node being expanded */
    char where[256];      /* dlc_node_describe(node) */
    int64_t cloned_nodes;
} expansion;

static dlc_status settle_node(dlc_graph *g, dlc_node *node);

/* ---- values and helper nodes ---- */

static dlc_status add_scalar_const(dlc_graph *g, const char *name, dlc_dtype dtype, int64_t value, dlc_value **out) {
    dlc_shape scalar = {.rank = 0};
    if (dtype == DLC_BOOL) {
        uint8_t b = value != 0;
        return dlc_graph_add_const(g, name, DLC_BOOL, &scalar, &b, 1, out);
    }
    return dlc_graph_add_const(g, name, DLC_INT64, &scalar, &value, sizeof value, out);
}

dlc_status dlc_add_settled_node(dlc_graph *g, const char *name, const char *op_type, int32_t num_inputs,
                                dlc_value *const *inputs, const char *attr_name, int64_t attr_value, dlc_value **out) {
    dlc_value *v;
    DLC_TRY(dlc_graph_add_value(g, name, DLC_VALUE_INTERMEDIATE, DLC_DTYPE_UNDEFINED, NULL, &v));
    dlc_node *n;
    DLC_TRY(dlc_graph_add_node(g, name, op_type, "", HELPER_OPSET, num_inputs, inputs, 1, &v, &n));
    if (attr_name != NULL) {
        dlc_attr a = {.name = (char *)attr_name, .type = DLC_ATTR_INT, .i = attr_value};
        DLC_TRY(dlc_node_add_attr(n, &a));
    }
    DLC_TRY(dlc_node_bind_schema(n));
    DLC_TRY(settle_node(g, n));
    *out = v;
    return DLC_OK;
}

dlc_status dlc_write_identity(dlc_graph *g, const char *node_name, int32_t index, dlc_value *result,
                              dlc_value *target) {
    char name[512];
    snprintf(name, sizeof name, "%s/output_%d", node_name, (int)index);
    dlc_node *n;
    DLC_TRY(dlc_graph_add_node(g, name, "Identity", "", HELPER_OPSET, 1, &result, 1, &target, &n));
    DLC_TRY(dlc_node_bind_schema(n));
    return settle_node(g, n);
}

/* values[0..count) stacked along a new axis (ONNX's scan outputs): Unsqueeze
 * each, then Concat; reverse stacks them last to first. */
static dlc_status stack(dlc_graph *g, const char *prefix, dlc_value *const *values, int64_t count, int64_t axis,
                        bool reverse, dlc_value **out) {
    char name[512];
    snprintf(name, sizeof name, "%s/axis", prefix);
    dlc_shape one = dlc_shape_make(1, (int64_t[]){1});
    dlc_value *axes;
    DLC_TRY(dlc_graph_add_const(g, name, DLC_INT64, &one, &axis, sizeof axis, &axes));
    dlc_value **parts = calloc((size_t)count + 1, sizeof *parts);
    if (parts == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "out of memory");
    dlc_status st = DLC_OK;
    for (int64_t i = 0; i < count && st == DLC_OK; i++) {
        snprintf(name, sizeof name, "%s/%lld", prefix, (long long)i);
        dlc_value *in[2] = {values[reverse ? count - 1 - i : i], axes};
        st = dlc_add_settled_node(g, name, "Unsqueeze", 2, in, NULL, 0, &parts[i]);
    }
    if (st == DLC_OK && count == 1) *out = parts[0];
    if (st == DLC_OK && count > 1) {
        snprintf(name, sizeof name, "%s/stacked", prefix);
        st = dlc_add_settled_node(g, name, "Concat", (int32_t)count, parts, "axis", axis, out);
    }
    free(parts);
    return st;
}

/* ---- cloning subgraphs ---- */

static dlc_status clone_graph(const dlc_graph *sub, dlc_graph **out);

/* Re-interns the symbolic dims of shape (from graph from) in graph to. */
static dlc_status move_symbols(const dlc_graph *from, dlc_graph *to, dlc_shape *shape) {
    for (int32_t i = 0; i < shape->rank; i++)
        if (shape->dims[i].value < 0 && shape->dims[i].sym >= 0 && shape->dims[i].sym < from->num_symbols)
            DLC_TRY(dlc_graph_symbol(to, from->symbols[shape->dims[i].sym], &shape->dims[i].sym));
    return DLC_OK;
}

static void name_in(char *buf, size_t size, const char *prefix, const char *name) {
    if (prefix[0] == '\0') snprintf(buf, size, "%s", name);
    else snprintf(buf, size, "%s/%s", prefix, name);
}

/* Copies sub's constants and nodes into g, sub's inputs reading inputs[]
 * (one per sub input), names prefixed with prefix. New nodes go to
 * *new_nodes (count in *num_new); results[] receives the values of sub's
 * outputs. Dtypes and shapes of the copies are left to inference. */
static dlc_status clone_into(dlc_graph *g, const dlc_graph *sub, const char *prefix, dlc_value *const *inputs,
                             dlc_value **results, dlc_node ***new_nodes, int32_t *num_new) {
    *new_nodes = NULL;
    *num_new = 0;
    dlc_value **map = calloc((size_t)sub->num_values + 1, sizeof *map);
    dlc_node **nodes = calloc((size_t)sub->num_nodes + 1, sizeof *nodes);
    dlc_value **ins = NULL, **outs = NULL;
    dlc_status st = map && nodes ? DLC_OK : dlc_fail(DLC_ERR_OUT_OF_MEMORY, "out of memory");
    char name[1024];
    for (int32_t k = 0; k < sub->num_inputs && st == DLC_OK; k++) map[sub->inputs[k]->id] = inputs[k];
    for (int32_t i = 0; i < sub->num_values && st == DLC_OK; i++) {
        const dlc_value *v = sub->values[i];
        if (v == NULL || v->kind != DLC_VALUE_CONST) continue;
        name_in(name, sizeof name, prefix, v->name);
        st = dlc_graph_add_const(g, name, v->dtype, &v->shape, v->data, v->nbytes, &map[v->id]);
    }
    for (int32_t n = 0; n < sub->num_nodes && st == DLC_OK; n++) {
        const dlc_node *src = sub->nodes[n];
        ins = calloc((size_t)src->num_inputs + 1, sizeof *ins);
        outs = calloc((size_t)src->num_outputs + 1, sizeof *outs);
        if (ins == NULL || outs == NULL) st = dlc_fail(DLC_ERR_OUT_OF_MEMORY, "out of memory");
        for (int32_t k = 0; k < src->num_inputs && st == DLC_OK; k++) {
            if (src->inputs[k] == NULL) continue;
            ins[k] = map[src->inputs[k]->id];
            if (ins[k] == NULL)
                st = dlc_fail(DLC_ERR_PARSE, "subgraph '%s': node '%s' reads '%s', which is not defined before it",
                              sub->name, src->name, src->inputs[k]->name);
        }
        for (int32_t o = 0; o < src->num_outputs && st == DLC_OK; o++) {
            if (src->outputs[o] == NULL) continue;
            name_in(name, sizeof name, prefix, src->outputs[o]->name);
            st = dlc_graph_add_value(g, name, DLC_VALUE_INTERMEDIATE, DLC_DTYPE_UNDEFINED, NULL, &outs[o]);
            if (st == DLC_OK) map[src->outputs[o]->id] = outs[o];
        }
        dlc_node *copy = NULL;
        name_in(name, sizeof name, prefix, src->name);
        if (st == DLC_OK)
            st = dlc_graph_add_node(g, name, src->op_type, src->domain, src->opset, src->num_inputs, ins,
                                    src->num_outputs, outs, &copy);
        for (int32_t a = 0; a < src->num_attrs && st == DLC_OK; a++) {
            dlc_attr attr = src->attrs[a];
            if (attr.graph == NULL) {
                st = dlc_node_add_attr(copy, &attr);
                continue;
            }
            /* dlc_node_add_attr takes ownership of a graph attribute */
            attr.name = strdup(src->attrs[a].name);
            attr.graph = NULL;
            st = attr.name != NULL ? clone_graph(src->attrs[a].graph, &attr.graph)
                                   : dlc_fail(DLC_ERR_OUT_OF_MEMORY, "out of memory");
            if (st == DLC_OK) st = dlc_node_add_attr(copy, &attr);
            if (st != DLC_OK) {
                free(attr.name);
                dlc_graph_free(attr.graph);
            }
        }
        if (st == DLC_OK) st = dlc_node_bind_schema(copy);
        if (st == DLC_OK) nodes[(*num_new)++] = copy;
        free(ins);
        free(outs);
        ins = outs = NULL;
    }
    for (int32_t k = 0; k < sub->num_outputs && st == DLC_OK; k++) {
        results[k] = map[sub->outputs[k]->id];
        if (results[k] == NULL)
            st = dlc_fail(DLC_ERR_PARSE, "subgraph '%s': output '%s' is not defined", sub->name, sub->outputs[k]->name);
    }
    free(map);
    if (st != DLC_OK) {
        free(nodes);
        *num_new = 0;
        return st;
    }
    *new_nodes = nodes;
    return DLC_OK;
}

/* A deep copy of a subgraph (a nested If/Loop/Scan body cloned with its node). */
static dlc_status clone_graph(const dlc_graph *sub, dlc_graph **out) {
    *out = NULL;
    dlc_graph *copy;
    DLC_TRY(dlc_graph_create(sub->name, &copy));
    dlc_value **inputs = calloc((size_t)sub->num_inputs + 1, sizeof *inputs);
    dlc_status st = inputs != NULL ? DLC_OK : dlc_fail(DLC_ERR_OUT_OF_MEMORY, "out of memory");
    copy->opsets = calloc((size_t)sub->num_opsets + 1, sizeof *copy->opsets);
    if (copy->opsets == NULL) st = dlc_fail(DLC_ERR_OUT_OF_MEMORY, "out of memory");
    for (int32_t i = 0; i < sub->num_opsets && st == DLC_OK; i++) {
        copy->opsets[i].version = sub->opsets[i].version;
        if ((copy->opsets[i].domain = strdup(sub->opsets[i].domain)) == NULL)
            st = dlc_fail(DLC_ERR_OUT_OF_MEMORY, "out of memory");
        else copy->num_opsets = i + 1;
    }
    for (int32_t k = 0; k < sub->num_inputs && st == DLC_OK; k++) {
        const dlc_value *in = sub->inputs[k];
        dlc_shape shape = in->shape;
        st = move_symbols(sub, copy, &shape);
        if (st == DLC_OK) st = dlc_graph_add_value(copy, in->name, DLC_VALUE_INPUT, in->dtype, &shape, &inputs[k]);
        if (st == DLC_OK) inputs[k]->type = in->type, inputs[k]->elem_type = in->elem_type;
    }
    if (st == DLC_OK) {
        copy->outputs = calloc((size_t)sub->num_outputs + 1, sizeof *copy->outputs);
        if (copy->outputs == NULL) st = dlc_fail(DLC_ERR_OUT_OF_MEMORY, "out of memory");
    }
    dlc_node **nodes = NULL;
    int32_t num_nodes = 0;
    if (st == DLC_OK) st = clone_into(copy, sub, "", inputs, copy->outputs, &nodes, &num_nodes);
    if (st == DLC_OK) copy->num_outputs = sub->num_outputs;
    free(nodes);
    free(inputs);
    if (st == DLC_OK) {
        dlc_graph_update_uses(copy);
        *out = copy;
        return DLC_OK;
    }
    dlc_graph_free(copy);
    return st;
}

/* Clones sub into the graph being expanded, then infers and folds the copies
 * (expanding nested control flow), so results[] have dtypes and shapes and
 * CONST results are known. */
static dlc_status inline_subgraph(expansion *x, const dlc_graph *sub, const char *prefix, dlc_value *const *inputs,
                                  dlc_value **results) {
    x->cloned_nodes += sub->num_nodes;
    if (x->cloned_nodes > MAX_CLONED_NODES)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: expanding it copies more than %d nodes; dlc unrolls control "
                        "flow at compile time and refuses bodies this large", x->where, MAX_CLONED_NODES);
    dlc_node **nodes;
    int32_t count;
    DLC_TRY(clone_into(x->g, sub, prefix, inputs, results, &nodes, &count));
    dlc_status st = DLC_OK;
    for (int32_t i = 0; i < count && st == DLC_OK; i++) st = settle_node(x->g, nodes[i]);
    free(nodes);
    return st;
}

/* ---- the node's subgraphs and implicit inputs ---- */

/* Formal inputs of each of node's subgraphs (ir/subgraph.h). */
static int32_t formal_inputs(const dlc_node *node) {
    if (strcmp(node->op_type, "If") == 0) return 0;
    int32_t explicit = dlc_node_num_explicit_inputs(node);
    if (strcmp(node->op_type, "Scan") == 0 && node->opset < 9) return explicit - 1; /* less sequence_lens */
    return explicit;
}

/* The subgraph in attribute name, and its inputs' values in the parent:
 * formal[0..formal_count) then node's implicit inputs that belong to it. */
static dlc_status subgraph_inputs(const expansion *x, const char *attr_name, dlc_value *const *formal,
                                  const dlc_graph **out_sub, dlc_value ***out_inputs) {
    *out_sub = NULL;
    *out_inputs = NULL;
    const dlc_node *node = x->node;
    int32_t num_formal = formal_inputs(node);
    int32_t next_implicit = dlc_node_num_explicit_inputs(node);
    const dlc_graph *sub = NULL;
    for (int32_t a = 0; a < node->num_attrs && sub == NULL; a++) {
        const dlc_attr *attr = &node->attrs[a];
        if (attr->graph == NULL) continue;
        if (attr->graph->num_inputs < num_formal)
            return dlc_fail(DLC_ERR_PARSE, "node %s: subgraph '%s' has %d inputs, the op passes it %d", x->where,
                            attr->name, attr->graph->num_inputs, num_formal);
        if (strcmp(attr->name, attr_name) == 0) sub = attr->graph;
        else next_implicit += attr->graph->num_inputs - num_formal;
    }
    if (sub == NULL) return dlc_fail(DLC_ERR_PARSE, "node %s: has no graph attribute '%s'", x->where, attr_name);
    int32_t captures = sub->num_inputs - num_formal;
    if (next_implicit + captures > node->num_inputs)
        return dlc_fail(DLC_ERR_INTERNAL, "node %s: subgraph '%s' reads %d outer values, the node lists fewer",
                        x->where, attr_name, captures);
    dlc_value **inputs = calloc((size_t)sub->num_inputs + 1, sizeof *inputs);
    if (inputs == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "out of memory");
    for (int32_t k = 0; k < num_formal; k++) inputs[k] = formal[k];
    for (int32_t k = 0; k < captures; k++) inputs[num_formal + k] = node->inputs[next_implicit + k];
    *out_sub = sub;
    *out_inputs = inputs;
    return DLC_OK;
}

/* Whether value is a CONST scalar; its value as int64 (bools 0/1). */
static dlc_status const_scalar(const expansion *x, const dlc_value *v, const char *what, int64_t *out) {
    if (v->kind != DLC_VALUE_CONST)
        return dlc_fail(DLC_ERR_UNSUPPORTED,
                        "node %s: %s ('%s') is computed at run time; dlc expands %s at compile time, so it must be "
                        "a constant (a graph input can be fixed with --bind)",
                        x->where, what, v->name, x->node->op_type);
    if (dlc_value_numel(v) != 1)
        return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: %s ('%s') must hold one value", x->where, what, v->name);
    double d;
    DLC_TRY(dlc_value_const_scalar(v, &d));
    *out = (int64_t)d;
    return DLC_OK;
}

/* ---- If ---- */

static dlc_status expand_if(expansion *x, dlc_value **results) {
    int64_t cond;
    DLC_TRY(const_scalar(x, x->node->inputs[0], "the condition", &cond));
    const char *branch = cond != 0 ? "then_branch" : "else_branch";
    const dlc_graph *sub;
    dlc_value **inputs;
    DLC_TRY(subgraph_inputs(x, branch, NULL, &sub, &inputs));
    dlc_status st = DLC_OK;
    if (sub->num_outputs != x->node->num_outputs)
        st = dlc_fail(DLC_ERR_PARSE, "node %s: %s has %d outputs, the node %d", x->where, branch, sub->num_outputs,
                      x->node->num_outputs);
    char prefix[512];
    snprintf(prefix, sizeof prefix, "%s/%s", x->node->name, branch);
    if (st == DLC_OK) st = inline_subgraph(x, sub, prefix, inputs, results);
    free(inputs);
    return st;
}

/* ---- Loop ---- */

typedef struct loop_state {
    int32_t num_carried, num_scans;
    dlc_value **carried;      /* current values of the loop-carried variables */
    dlc_value **scan_values;  /* [scan][iteration] */
    dlc_value **body_inputs;  /* iteration number, condition, carried..., captures... */
    dlc_value **body_results; /* condition, carried..., scans... */
} loop_state;

static void loop_state_free(loop_state *s) {
    free(s->carried);
    free(s->scan_values);
    free(s->body_inputs);
    free(s->body_results);
}

static dlc_status expand_loop(expansion *x, dlc_value **results) {
    const dlc_node *node = x->node;
    int32_t explicit = dlc_node_num_explicit_inputs(node);
    if (explicit < 2)
        return dlc_fail(DLC_ERR_PARSE, "node %s: Loop takes M and cond (either may be empty), it has %d inputs",
                        x->where, explicit);
    int64_t trip_count = -1, cond = 1;
    if (node->inputs[0] != NULL) DLC_TRY(const_scalar(x, node->inputs[0], "the trip count M", &trip_count));
    if (node->inputs[1] != NULL) DLC_TRY(const_scalar(x, node->inputs[1], "the condition", &cond));
    if (node->inputs[0] == NULL && node->inputs[1] == NULL)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: has neither a trip count nor a condition (an endless loop)",
                        x->where);
    if (trip_count > MAX_ITERATIONS)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: runs %lld iterations; dlc unrolls loops at compile time, at "
                        "most %d", x->where, (long long)trip_count, MAX_ITERATIONS);
    loop_state s = {.num_carried = explicit - 2};
    dlc_value **formal = calloc((size_t)explicit + 1, sizeof *formal);
    const dlc_graph *body = NULL;
    dlc_status st = formal != NULL ? DLC_OK : dlc_fail(DLC_ERR_OUT_OF_MEMORY, "out of memory");
    if (st == DLC_OK) st = subgraph_inputs(x, "body", formal, &body, &s.body_inputs);
    free(formal);
    if (st == DLC_OK) {
        s.num_scans = body->num_outputs - 1 - s.num_carried;
        if (s.num_scans < 0 || node->num_outputs > s.num_carried + s.num_scans)
            st = dlc_fail(DLC_ERR_PARSE, "node %s: the body has %d outputs; with %d loop-carried values it needs %d "
                          "or more, and the node's %d outputs at most that many",
                          x->where, body->num_outputs, s.num_carried, 1 + s.num_carried, node->num_outputs);
    }
    if (st == DLC_OK) {
        int64_t cap = trip_count >= 0 ? trip_count : MAX_ITERATIONS;
        s.carried = calloc((size_t)s.num_carried + 1, sizeof *s.carried);
        s.scan_values = calloc((size_t)(s.num_scans * cap) + 1, sizeof *s.scan_values);
        s.body_results = calloc((size_t)body->num_outputs + 1, sizeof *s.body_results);
        if (s.carried == NULL || s.scan_values == NULL || s.body_results == NULL)
            st = dlc_fail(DLC_ERR_OUT_OF_MEMORY, "out of memory");
        for (int32_t j = 0; j < s.num_carried && st == DLC_OK; j++) s.carried[j] = node->inputs[2 + j];
    }
    int64_t it = 0;
    char name[512];
    for (; st == DLC_OK && cond != 0 && (trip_count < 0 || it < trip_count); it++) {
        if (it >= MAX_ITERATIONS) {
            st = dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: its condition still holds after %d iterations; dlc unrolls "
                          "loops at compile time, at most %d", x->where, MAX_ITERATIONS, MAX_ITERATIONS);
            break;
        }
        snprintf(name, sizeof name, "%s/iter%lld/iteration_num", node->name, (long long)it);
        st = add_scalar_const(x->g, name, DLC_INT64, it, &s.body_inputs[0]);
        snprintf(name, sizeof name, "%s/iter%lld/cond_in", node->name, (long long)it);
        if (st == DLC_OK) st = add_scalar_const(x->g, name, DLC_BOOL, cond, &s.body_inputs[1]);
        for (int32_t j = 0; j < s.num_carried; j++) s.body_inputs[2 + j] = s.carried[j];
        snprintf(name, sizeof name, "%s/iter%lld", node->name, (long long)it);
        if (st == DLC_OK) st = inline_subgraph(x, body, name, s.body_inputs, s.body_results);
        if (st != DLC_OK) break;
        for (int32_t j = 0; j < s.num_carried; j++) s.carried[j] = s.body_results[1 + j];
        for (int32_t k = 0; k < s.num_scans; k++)
            s.scan_values[(size_t)k * (size_t)(trip_count >= 0 ? trip_count : MAX_ITERATIONS) + (size_t)it] =
                s.body_results[1 + s.num_carried + k];
        /* The last iteration's condition decides nothing when M ends the loop. */
        if (trip_count < 0 || it + 1 < trip_count)
            st = const_scalar(x, s.body_results[0], "the condition the body computes", &cond);
    }
    for (int32_t j = 0; j < s.num_carried && j < node->num_outputs && st == DLC_OK; j++) results[j] = s.carried[j];
    for (int32_t k = 0; k < s.num_scans && s.num_carried + k < node->num_outputs && st == DLC_OK; k++) {
        if (node->outputs[s.num_carried + k] == NULL) continue;
        if (it == 0) {
            st = dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: runs no iteration, so its scan output '%s' is empty with a "
                          "shape dlc cannot infer", x->where, node->outputs[s.num_carried + k]->name);
            break;
        }
        snprintf(name, sizeof name, "%s/scan%d", node->name, (int)k);
        size_t stride = (size_t)(trip_count >= 0 ? trip_count : MAX_ITERATIONS);
        st = stack(x->g, name, &s.scan_values[(size_t)k * stride], it, 0, false, &results[s.num_carried + k]);
    }
    loop_state_free(&s);
    return st;
}

/* ---- Scan ---- */

typedef struct scan_spec {
    int32_t num_states, num_scan_inputs, num_scan_outputs;
    int64_t length;           /* iterations */
    int64_t *in_axes, *in_reverse, *out_axes, *out_reverse;
} scan_spec;

/* One scan over states[] and scan inputs xs[] (each already without batch
 * axis): writes final states then stacked scan outputs to results. */
static dlc_status run_scan(expansion *x, const scan_spec *sp, const char *prefix, dlc_value *const *states,
                           dlc_value *const *xs, dlc_value **results) {
    const dlc_node *node = x->node;
    int32_t n = sp->num_states, m = sp->num_scan_inputs, k_out = sp->num_scan_outputs;
    dlc_value **formal = calloc((size_t)(n + m) + 1, sizeof *formal);
    dlc_value **body_results = NULL, **scan_values = NULL;
    const dlc_graph *body = NULL;
    dlc_value **body_inputs = NULL;
    dlc_status st = formal != NULL ? DLC_OK : dlc_fail(DLC_ERR_OUT_OF_MEMORY, "out of memory");
    if (st == DLC_OK) st = subgraph_inputs(x, "body", formal, &body, &body_inputs);
    if (st == DLC_OK && body->num_outputs != n + k_out)
        st = dlc_fail(DLC_ERR_PARSE, "node %s: the body has %d outputs, the node expects %d", x->where,
                      body->num_outputs, n + k_out);
    if (st == DLC_OK) {
        body_results = calloc((size_t)body->num_outputs + 1, sizeof *body_results);
        scan_values = calloc((size_t)(k_out * sp->length) + 1, sizeof *scan_values);
        if (body_results == NULL || scan_values == NULL) st = dlc_fail(DLC_ERR_OUT_OF_MEMORY, "out of memory");
    }
    for (int32_t j = 0; j < n && st == DLC_OK; j++) body_inputs[j] = states[j];
    char name[768];
    for (int64_t t = 0; t < sp->length && st == DLC_OK; t++) {
        for (int32_t j = 0; j < m && st == DLC_OK; j++) {
            int64_t index = sp->in_reverse[j] ? sp->length - 1 - t : t;
            snprintf(name, sizeof name, "%s/step%lld/index%d", prefix, (long long)t, (int)j);
            dlc_value *idx;
            st = add_scalar_const(x->g, name, DLC_INT64, index, &idx);
            snprintf(name, sizeof name, "%s/step%lld/slice%d", prefix, (long long)t, (int)j);
            dlc_value *in[2] = {xs[j], idx};
            if (st == DLC_OK)
                st = dlc_add_settled_node(x->g, name, "Gather", 2, in, "axis", sp->in_axes[j], &body_inputs[n + j]);
        }
        snprintf(name, sizeof name, "%s/step%lld", prefix, (long long)t);
        if (st == DLC_OK) st = inline_subgraph(x, body, name, body_inputs, body_results);
        for (int32_t j = 0; j < n && st == DLC_OK; j++) body_inputs[j] = body_results[j];
        for (int32_t k = 0; k < k_out && st == DLC_OK; k++) scan_values[k * sp->length + t] = body_results[n + k];
    }
    for (int32_t j = 0; j < n && st == DLC_OK; j++) results[j] = body_inputs[j];
    for (int32_t k = 0; k < k_out && st == DLC_OK; k++) {
        dlc_value *first = scan_values[k * sp->length];
        int64_t axis = sp->out_axes[k];
        if (first->shape.rank < 0) {
            st = dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: scan output %d has an unknown rank", x->where, (int)k);
            break;
        }
        if (axis < 0) axis += first->shape.rank + 1;
        if (axis < 0 || axis > first->shape.rank) {
            st = dlc_fail(DLC_ERR_PARSE, "node %s: scan_output_axes[%d] = %lld is out of range for rank %d",
                          x->where, (int)k, (long long)sp->out_axes[k], first->shape.rank + 1);
            break;
        }
        snprintf(name, sizeof name, "%s/scan_output%d", prefix, (int)k);
        st = stack(x->g, name, &scan_values[k * sp->length], sp->length, axis, sp->out_reverse[k] != 0,
                   &results[n + k]);
    }
    (void)node;
    free(formal);
    free(body_inputs);
    free(body_results);
    free(scan_values);
    return st;
}

/* An INTS attribute of count entries, default 0; out must hold count. */
static dlc_status scan_attr(const expansion *x, const char *name, int32_t count, int64_t *out) {
    int32_t n;
    const int64_t *v = dlc_node_attr_ints(x->node, name, &n);
    if (v != NULL && n != count)
        return dlc_fail(DLC_ERR_PARSE, "node %s: attribute %s has %d entries, expected %d", x->where, name, n, count);
    for (int32_t i = 0; i < count; i++) out[i] = v != NULL ? v[i] : 0;
    return DLC_OK;
}

/* The scan length: the static size of every scan input along its axis. */
static dlc_status scan_length(const expansion *x, dlc_value *const *xs, int32_t m, int64_t *axes, int64_t *out) {
    *out = -1;
    for (int32_t j = 0; j < m; j++) {
        const dlc_value *v = xs[j];
        if (v->shape.rank < 1)
            return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: scan input '%s' needs a rank of at least 1", x->where,
                            v->name);
        if (axes[j] < 0) axes[j] += v->shape.rank;
        if (axes[j] < 0 || axes[j] >= v->shape.rank)
            return dlc_fail(DLC_ERR_PARSE, "node %s: scan axis out of range for input '%s'", x->where, v->name);
        dlc_dim d = v->shape.dims[axes[j]];
        if (!dlc_dim_is_static(d))
            return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: scan input '%s' has a symbolic length; dlc unrolls Scan "
                            "at compile time (fix the dim with --shape)", x->where, v->name);
        if (*out >= 0 && d.value != *out)
            return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: scan inputs have lengths %lld and %lld", x->where,
                            (long long)*out, (long long)d.value);
        *out = d.value;
    }
    if (*out > MAX_ITERATIONS)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: scans %lld steps; dlc unrolls at most %d", x->where,
                        (long long)*out, MAX_ITERATIONS);
    return DLC_OK;
}

/* Opset 8: every input has a batch axis 0 (scan axis 1); one scan per batch
 * row, results stacked back on axis 0. */
static dlc_status expand_scan8(expansion *x, scan_spec *sp, dlc_value **results) {
    const dlc_node *node = x->node;
    dlc_value *const *states = &node->inputs[1], *const *xs = &node->inputs[1 + sp->num_states];
    int32_t n = sp->num_states, m = sp->num_scan_inputs, total = n + sp->num_scan_outputs;
    for (int32_t j = 0; j < n + m; j++)
        if (states[j]->shape.rank < 1 || !dlc_dim_is_static(states[j]->shape.dims[0]))
            return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: input '%s' needs a static batch axis", x->where,
                            states[j]->name);
    int64_t batch = states[0]->shape.dims[0].value;
    for (int32_t j = 0; j < m; j++) sp->in_axes[j] = 1;
    DLC_TRY(scan_length(x, xs, m, sp->in_axes, &sp->length));
    for (int32_t j = 0; j < m; j++) sp->in_axes[j] = 0; /* within one batch row */
    if (node->inputs[0] != NULL) {
        int64_t lens[MAX_ITERATIONS];
        int32_t count;
        if (node->inputs[0]->kind != DLC_VALUE_CONST ||
            dlc_value_const_ints(node->inputs[0], lens, MAX_ITERATIONS, &count) != DLC_OK)
            return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: sequence_lens must be a constant", x->where);
        for (int32_t i = 0; i < count; i++)
            if (lens[i] != sp->length)
                return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: sequence_lens[%d] = %lld; dlc supports only full "
                                "sequences (%lld)", x->where, (int)i, (long long)lens[i], (long long)sp->length);
    }
    if (batch > MAX_ITERATIONS) return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: batch too large to unroll", x->where);
    dlc_value **rows = calloc((size_t)(n + m) + 1, sizeof *rows);
    dlc_value **row_results = calloc((size_t)total + 1, sizeof *row_results);
    dlc_value **per_batch = calloc((size_t)(total * batch) + 1, sizeof *per_batch);
    dlc_status st = rows && row_results && per_batch ? DLC_OK : dlc_fail(DLC_ERR_OUT_OF_MEMORY, "out of memory");
    char name[512];
    for (int64_t b = 0; b < batch && st == DLC_OK; b++) {
        snprintf(name, sizeof name, "%s/batch%lld/index", node->name, (long long)b);
        dlc_value *idx;
        st = add_scalar_const(x->g, name, DLC_INT64, b, &idx);
        for (int32_t j = 0; j < n + m && st == DLC_OK; j++) {
            snprintf(name, sizeof name, "%s/batch%lld/input%d", node->name, (long long)b, (int)j);
            dlc_value *in[2] = {states[j], idx};
            st = dlc_add_settled_node(x->g, name, "Gather", 2, in, "axis", 0, &rows[j]);
        }
        snprintf(name, sizeof name, "%s/batch%lld", node->name, (long long)b);
        if (st == DLC_OK) st = run_scan(x, sp, name, rows, &rows[n], row_results);
        for (int32_t k = 0; k < total && st == DLC_OK; k++) per_batch[k * batch + b] = row_results[k];
    }
    for (int32_t k = 0; k < total && st == DLC_OK; k++) {
        snprintf(name, sizeof name, "%s/output%d", node->name, (int)k);
        st = stack(x->g, name, &per_batch[k * batch], batch, 0, false, &results[k]);
    }
    free(rows);
    free(row_results);
    free(per_batch);
    return st;
}

static dlc_status expand_scan(expansion *x, dlc_value **results) {
    const dlc_node *node = x->node;
    int32_t explicit = dlc_node_num_explicit_inputs(node);
    int64_t m = dlc_node_attr_int(node, "num_scan_inputs", -1);
    int32_t first = node->opset < 9 ? 1 : 0; /* opset 8: sequence_lens first */
    if (m < 1 || m > explicit - first)
        return dlc_fail(DLC_ERR_PARSE, "node %s: num_scan_inputs = %lld does not fit its %d inputs", x->where,
                        (long long)m, explicit);
    scan_spec sp = {.num_states = explicit - first - (int32_t)m, .num_scan_inputs = (int32_t)m};
    sp.num_scan_outputs = node->num_outputs - sp.num_states;
    if (sp.num_scan_outputs < 0)
        return dlc_fail(DLC_ERR_PARSE, "node %s: fewer outputs than state variables", x->where);
    for (int32_t j = first; j < explicit; j++)
        if (node->inputs[j] == NULL) return dlc_fail(DLC_ERR_PARSE, "node %s: input %d is missing", x->where, (int)j);
    int32_t k = sp.num_scan_outputs;
    int64_t *buf = calloc((size_t)(2 * m + 2 * k) + 1, sizeof *buf);
    if (buf == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "out of memory");
    sp.in_axes = buf, sp.in_reverse = buf + m, sp.out_axes = buf + 2 * m, sp.out_reverse = buf + 2 * m + k;
    dlc_status st;
    if (node->opset < 9) {
        st = scan_attr(x, "directions", (int32_t)m, sp.in_reverse);
        if (st == DLC_OK) st = expand_scan8(x, &sp, results);
    } else {
        st = scan_attr(x, "scan_input_axes", (int32_t)m, sp.in_axes);
        if (st == DLC_OK) st = scan_attr(x, "scan_input_directions", (int32_t)m, sp.in_reverse);
        if (st == DLC_OK) st = scan_attr(x, "scan_output_axes", k, sp.out_axes);
        if (st == DLC_OK) st = scan_attr(x, "scan_output_directions", k, sp.out_reverse);
        dlc_value *const *xs = &node->inputs[sp.num_states];
        if (st == DLC_OK) st = scan_length(x, xs, (int32_t)m, sp.in_axes, &sp.length);
        if (st == DLC_OK && sp.length == 0 && k > 0)
            st = dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: a scan of length 0 has empty outputs of unknown shape",
                          x->where);
        if (st == DLC_OK) st = run_scan(x, &sp, node->name, node->inputs, xs, results);
    }
    free(buf);
    return st;
}

/* ---- entry points ---- */

/* Infers and folds one new node; nested control flow and ops on sequences
 * are expanded. */
static dlc_status settle_node(dlc_graph *g, dlc_node *node) {
    if (dlc_is_control_flow(node)) {
        bool expanded;
        return dlc_expand_control_flow(g, node, &expanded);
    }
    if (dlc_is_sequence_node(node)) {
        bool expanded;
        return dlc_expand_sequence_node(g, node, &expanded);
    }
    dlc_status st = node->schema->infer(g, node);
    if (st != DLC_OK) {
        char where[256];
        dlc_node_describe(node, where, sizeof where);
        if (strstr(dlc_last_error(), where) == NULL) return dlc_fail_context(st, "node %s", where);
        return st;
    }
    bool folded;
    return dlc_fold_node(g, node, &folded);
}

dlc_status dlc_settle_node(dlc_graph *g, dlc_node *node) { return settle_node(g, node); }

dlc_status dlc_inline_node_graph(dlc_graph *g, const dlc_node *node, const char *attr_name, dlc_value *const *formal,
                                 const char *prefix, dlc_value **results) {
    expansion x = {.g = g, .node = node};
    dlc_node_describe(node, x.where, sizeof x.where);
    const dlc_graph *sub;
    dlc_value **inputs;
    DLC_TRY(subgraph_inputs(&x, attr_name, formal, &sub, &inputs));
    dlc_status st = inline_subgraph(&x, sub, prefix, inputs, results);
    free(inputs);
    return st;
}

dlc_status dlc_expand_control_flow(dlc_graph *g, dlc_node *node, bool *out_expanded) {
    *out_expanded = false;
    if (!dlc_is_control_flow(node)) return DLC_OK;
    expansion x = {.g = g, .node = node};
    dlc_node_describe(node, x.where, sizeof x.where);
    for (int32_t i = 0; i < node->num_inputs; i++)
        if (node->inputs[i] != NULL && node->inputs[i]->dtype == DLC_DTYPE_UNDEFINED)
            return dlc_fail(DLC_ERR_INTERNAL, "node %s: input '%s' has not been inferred", x.where,
                            node->inputs[i]->name);
    dlc_value **results = calloc((size_t)node->num_outputs + 1, sizeof *results);
    if (results == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "out of memory");
    dlc_status st;
    if (strcmp(node->op_type, "If") == 0) st = expand_if(&x, results);
    else if (strcmp(node->op_type, "Loop") == 0) st = expand_loop(&x, results);
    else st = expand_scan(&x, results);
    /* the node's output values stay (their names and graph-output roles);
     * Identity nodes write the results into them */
    int32_t num_outputs = node->num_outputs;
    dlc_value **targets = st == DLC_OK ? calloc((size_t)num_outputs + 1, sizeof *targets) : NULL;
    char *name = st == DLC_OK ? strdup(node->name) : NULL;
    if (st == DLC_OK && (targets == NULL || name == NULL)) st = dlc_fail(DLC_ERR_OUT_OF_MEMORY, "out of memory");
    if (st == DLC_OK) {
        memcpy(targets, node->outputs, (size_t)num_outputs * sizeof *targets);
        dlc_graph_remove_node(g, node);
        for (int32_t o = 0; o < num_outputs && st == DLC_OK; o++)
            if (targets[o] != NULL && results[o] != NULL) st = dlc_write_identity(g, name, o, results[o], targets[o]);
        if (st == DLC_OK) *out_expanded = true;
    }
    free(name);
    free(targets);
    free(results);
    if (st == DLC_OK) dlc_graph_update_uses(g);
    return st;
}
