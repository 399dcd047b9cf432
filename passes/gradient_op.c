/* ai.onnx.preview.training.Gradient, expanded by dlc_autodiff.
 *
 * Gradient's attributes name values of the graph: xs (differentiated), zs
 * (other inputs of the differentiated part) and y; its inputs are the values
 * of xs then zs, its outputs dy/dx for each x. y is read only through the
 * attribute, so dlc_gradient_prepare makes it an implicit input (the
 * convention of ir/subgraph.h): topological order then puts the node after
 * y, and dlc_infer_and_fold reaches it with everything y depends on
 * inferred. The expansion differentiates y at the values the graph computes;
 * feeding the node other values than the xs themselves would mean evaluating
 * a second copy of the graph, which is refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/op_registry.h"
#include "ir/subgraph.h"
#include "passes/autodiff.h"
#include "passes/pipeline.h"
#include "runtime/status.h"

#define TRAINING_DOMAIN "ai.onnx.preview.training"

bool dlc_is_gradient(const dlc_node *node) {
    return strcmp(node->domain, TRAINING_DOMAIN) == 0 && strcmp(node->op_type, "Gradient") == 0;
}

static int32_t strings_count(const dlc_node *node, const char *name) {
    const dlc_attr *a = dlc_node_attr(node, name);
    return a != NULL && a->type == DLC_ATTR_STRINGS ? a->count : 0;
}

/* The value named by the y attribute, or a failure naming the node. */
static dlc_status find_y(const dlc_graph *g, const dlc_node *node, dlc_value **out) {
    char where[256];
    dlc_node_describe(node, where, sizeof where);
    const dlc_attr *y = dlc_node_attr(node, "y");
    if (y == NULL || y->type != DLC_ATTR_STRING)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: the string attribute 'y' is required", where);
    *out = dlc_graph_find_value(g, y->s);
    if (*out == NULL)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: y names '%s', which is no value of the graph", where, y->s);
    return DLC_OK;
}

dlc_status dlc_gradient_prepare(dlc_graph *g, bool *out_any) {
    *out_any = false;
    for (int32_t n = 0; n < g->num_nodes; n++) {
        dlc_node *node = g->nodes[n];
        if (!dlc_is_gradient(node)) continue;
        *out_any = true;
        if (dlc_node_attr(node, DLC_ATTR_IMPLICIT_INPUTS) != NULL) continue;
        dlc_value *y;
        DLC_TRY(find_y(g, node, &y));
        dlc_value **inputs = realloc(node->inputs, (size_t)(node->num_inputs + 1) * sizeof *inputs);
        if (inputs == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "out of memory");
        node->inputs = inputs;
        node->inputs[node->num_inputs++] = y;
        dlc_attr count = {.name = DLC_ATTR_IMPLICIT_INPUTS, .type = DLC_ATTR_INT, .i = 1};
        DLC_TRY(dlc_node_add_attr(node, &count));
    }
    if (*out_any) dlc_graph_update_uses(g);
    return DLC_OK;
}

int32_t dlc_gradient_const_xs(const dlc_graph *g, const dlc_node *node, dlc_value **out, int32_t max) {
    const dlc_attr *xs = dlc_node_attr(node, "xs");
    int32_t count = 0;
    for (int32_t k = 0; xs != NULL && xs->type == DLC_ATTR_STRINGS && k < xs->count && count < max; k++) {
        dlc_value *v = dlc_graph_find_value(g, xs->strings[k]);
        if (v != NULL && v->kind == DLC_VALUE_CONST) out[count++] = v;
    }
    return count;
}

dlc_status dlc_expand_gradient(dlc_graph *g, dlc_node *node) {
    char where[256];
    dlc_node_describe(node, where, sizeof where);
    const dlc_attr *xs = dlc_node_attr(node, "xs");
    if (xs == NULL || xs->type != DLC_ATTR_STRINGS || xs->count == 0)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: the attribute 'xs' must name at least one value", where);
    int32_t nx = xs->count, nz = strings_count(node, "zs");
    if (dlc_node_num_explicit_inputs(node) != nx + nz)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: %d inputs, but xs and zs name %d values", where,
                        dlc_node_num_explicit_inputs(node), nx + nz);
    if (node->num_outputs != nx)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: %d outputs, but xs names %d values", where,
                        node->num_outputs, nx);
    dlc_value *y;
    DLC_TRY(find_y(g, node, &y));
    dlc_value **values = calloc((size_t)nx * 2, sizeof *values);
    if (values == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "out of memory");
    dlc_value **x = values, **grads = values + nx;
    dlc_status st = DLC_OK;
    for (int32_t k = 0; k < nx && st == DLC_OK; k++) {
        x[k] = dlc_graph_find_value(g, xs->strings[k]);
        if (x[k] == NULL)
            st = dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: xs names '%s', which is no value of the graph", where,
                          xs->strings[k]);
        else if (node->inputs[k] != x[k])
            st = dlc_fail(DLC_ERR_UNSUPPORTED,
                          "node %s: input %d is '%s', not '%s' named by xs; differentiating at other values than the "
                          "graph's is not supported",
                          where, (int)k, node->inputs[k] != NULL ? node->inputs[k]->name : "", x[k]->name);
    }
    /* the node is removed first, so the walk does not meet it */
    char *name = st == DLC_OK ? strdup(node->name) : NULL;
    dlc_value **outputs = st == DLC_OK ? calloc((size_t)nx, sizeof *outputs) : NULL;
    if (st == DLC_OK && (name == NULL || outputs == NULL)) st = dlc_fail(DLC_ERR_OUT_OF_MEMORY, "out of memory");
    if (st == DLC_OK) {
        memcpy(outputs, node->outputs, (size_t)nx * sizeof *outputs);
        dlc_graph_remove_node(g, node);
        st = dlc_autodiff(g, y, NULL, nx, x, name, grads);
        if (st != DLC_OK) st = dlc_fail_context(st, "node %s", where);
    }
    for (int32_t k = 0; k < nx && st == DLC_OK; k++)
        if (outputs[k] != NULL) st = dlc_write_identity(g, name, k, grads[k], outputs[k]);
    if (st == DLC_OK) dlc_graph_update_uses(g);
    free(outputs);
    free(name);
    free(values);
    return st;
}
