/* Common-subexpression elimination.
 *
 * Two nodes compute the same thing when they have the same op (type,
 * domain, opset), the same attributes and the very same input values; the
 * later one is removed and its readers read the earlier one's outputs.
 * Exporters produce such duplicates often (one Shape→Gather chain per
 * attention head, the same Unsqueeze of the mask per layer). Identical
 * constants are merged first, so nodes reading equal copies of a constant
 * become duplicates too.
 *
 * Kept apart: random ops and Dropout (two draws are two results), nodes
 * without outputs (run-time checks), nodes with subgraphs, and duplicates
 * whose outputs are graph outputs (their names are the artifact's
 * interface). */
#include <stdlib.h>
#include <string.h>

#include "passes/pipeline.h"
#include "runtime/status.h"

static uint64_t fnv(uint64_t h, const void *data, size_t n) {
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211u;
    return h;
}

/* ---- constants ---- */

static uint64_t const_hash(const dlc_value *v) {
    uint64_t h = fnv(14695981039346656037u, &v->dtype, sizeof v->dtype);
    h = fnv(h, &v->shape.rank, sizeof v->shape.rank);
    for (int32_t d = 0; d < v->shape.rank; d++) h = fnv(h, &v->shape.dims[d].value, sizeof(int64_t));
    return fnv(h, v->data, v->nbytes);
}

static bool const_equal(const dlc_value *a, const dlc_value *b) {
    return a->dtype == b->dtype && dlc_shape_equal(&a->shape, &b->shape) && a->nbytes == b->nbytes &&
           (a->nbytes == 0 || memcmp(a->data, b->data, a->nbytes) == 0);
}

static bool mergeable_const(const dlc_value *v) {
    return v != NULL && v->kind == DLC_VALUE_CONST && !v->is_graph_output && v->num_uses > 0 &&
           dlc_shape_is_static(&v->shape) && (v->data != NULL || v->nbytes == 0);
}

/* Replaces readers of each constant by the first equal constant. */
static dlc_status merge_constants(dlc_graph *g, bool *changed) {
    dlc_graph_update_uses(g);
    int32_t n = g->num_values, cap = 16;
    while (cap < 2 * n) cap *= 2;
    dlc_value **table = calloc((size_t)cap, sizeof *table);
    dlc_value **replacement = calloc((size_t)n + 1, sizeof *replacement);
    if (table == NULL || replacement == NULL) {
        free(table), free(replacement);
        return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "cse: out of memory");
    }
    bool any = false;
    for (int32_t i = 0; i < n; i++) {
        dlc_value *v = g->values[i];
        if (!mergeable_const(v)) continue;
        for (uint64_t slot = const_hash(v) & (uint64_t)(cap - 1);; slot = (slot + 1) & (uint64_t)(cap - 1)) {
            if (table[slot] == NULL) {
                table[slot] = v;
                break;
            }
            if (const_equal(table[slot], v)) {
                replacement[i] = table[slot];
                any = true;
                break;
            }
        }
    }
    if (any) {
        for (int32_t i = 0; i < g->num_nodes; i++) {
            dlc_node *node = g->nodes[i];
            for (int32_t k = 0; k < node->num_inputs; k++) {
                dlc_value *in = node->inputs[k];
                if (in != NULL && in->id >= 0 && in->id < n && replacement[in->id] != NULL)
                    node->inputs[k] = replacement[in->id];
            }
        }
        dlc_graph_update_uses(g);
        *changed = true;
    }
    free(table);
    free(replacement);
    return DLC_OK;
}

/* ---- nodes ---- */

static bool attr_equal(const dlc_attr *a, const dlc_attr *b) {
    if (a->type != b->type || strcmp(a->name, b->name) != 0) return false;
    switch (a->type) {
    case DLC_ATTR_INT: return a->i == b->i;
    case DLC_ATTR_FLOAT: return a->f == b->f || (a->f != a->f && b->f != b->f);
    case DLC_ATTR_STRING: return a->s_len == b->s_len && memcmp(a->s, b->s, a->s_len) == 0;
    case DLC_ATTR_INTS:
        return a->count == b->count && (a->count == 0 || memcmp(a->ints, b->ints, (size_t)a->count * 8) == 0);
    case DLC_ATTR_FLOATS:
        return a->count == b->count && (a->count == 0 || memcmp(a->floats, b->floats, (size_t)a->count * 8) == 0);
    case DLC_ATTR_STRINGS:
        if (a->count != b->count) return false;
        for (int32_t i = 0; i < a->count; i++)
            if (strcmp(a->strings[i], b->strings[i]) != 0) return false;
        return true;
    case DLC_ATTR_TENSOR: return a->tensor != NULL && b->tensor != NULL && const_equal(a->tensor, b->tensor);
    default: return false; /* subgraphs: never treated as equal */
    }
}

static bool nodes_equal(const dlc_node *a, const dlc_node *b) {
    if (strcmp(a->op_type, b->op_type) != 0 || strcmp(a->domain, b->domain) != 0 || a->opset != b->opset ||
        a->num_inputs != b->num_inputs || a->num_outputs != b->num_outputs || a->num_attrs != b->num_attrs)
        return false;
    for (int32_t k = 0; k < a->num_inputs; k++)
        if (a->inputs[k] != b->inputs[k]) return false;
    for (int32_t o = 0; o < a->num_outputs; o++)
        if ((a->outputs[o] == NULL) != (b->outputs[o] == NULL)) return false;
    for (int32_t i = 0; i < a->num_attrs; i++) {
        const dlc_attr *other = dlc_node_attr(b, a->attrs[i].name);
        if (other == NULL || !attr_equal(&a->attrs[i], other)) return false;
    }
    return true;
}

static bool node_is_candidate(const dlc_node *node) {
    static const char *const excluded[] = {"RandomNormal", "RandomNormalLike", "RandomUniform",
                                           "RandomUniformLike", "Bernoulli", "Multinomial", "Dropout"};
    if (node->num_outputs == 0 || node->schema == NULL) return false;
    for (size_t i = 0; i < sizeof excluded / sizeof excluded[0]; i++)
        if (strcmp(node->op_type, excluded[i]) == 0) return false;
    for (int32_t i = 0; i < node->num_attrs; i++)
        if (node->attrs[i].type == DLC_ATTR_GRAPH) return false;
    return true;
}

static uint64_t node_hash(const dlc_node *node) {
    uint64_t h = fnv(14695981039346656037u, node->op_type, strlen(node->op_type));
    for (int32_t k = 0; k < node->num_inputs; k++) {
        int32_t id = node->inputs[k] != NULL ? node->inputs[k]->id : -1;
        h = fnv(h, &id, sizeof id);
    }
    return h;
}

static bool outputs_are_graph_outputs(const dlc_node *node) {
    for (int32_t o = 0; o < node->num_outputs; o++)
        if (node->outputs[o] != NULL && node->outputs[o]->is_graph_output) return true;
    return false;
}

static dlc_status merge_nodes(dlc_graph *g, bool *changed) {
    int32_t cap = 16;
    while (cap < 2 * g->num_nodes) cap *= 2;
    dlc_node **table = calloc((size_t)cap, sizeof *table);
    if (table == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "cse: out of memory");
    dlc_graph_update_uses(g);
    /* topological order: a node's inputs are final (already merged) when it is reached */
    for (int32_t i = 0; i < g->num_nodes;) {
        dlc_node *node = g->nodes[i];
        if (!node_is_candidate(node)) {
            i++;
            continue;
        }
        dlc_node *original = NULL;
        uint64_t slot = node_hash(node) & (uint64_t)(cap - 1);
        for (; table[slot] != NULL; slot = (slot + 1) & (uint64_t)(cap - 1))
            if (nodes_equal(table[slot], node)) {
                original = table[slot];
                break;
            }
        if (original == NULL || outputs_are_graph_outputs(node)) {
            if (original == NULL) table[slot] = node;
            i++;
            continue;
        }
        dlc_value *olds[8], *news[8];
        int32_t n_out = node->num_outputs < 8 ? node->num_outputs : 8;
        if (node->num_outputs > 8) {
            i++;
            continue;
        }
        for (int32_t o = 0; o < n_out; o++) {
            olds[o] = node->outputs[o];
            news[o] = original->outputs[o];
        }
        dlc_graph_remove_node(g, node); /* slot i now holds the next node */
        for (int32_t o = 0; o < n_out; o++)
            if (olds[o] != NULL) dlc_graph_replace_uses(g, olds[o], news[o]);
        *changed = true;
    }
    free(table);
    return DLC_OK;
}

static dlc_status cse(dlc_graph *g, bool with_constants, bool *out_changed) {
    *out_changed = false;
    if (with_constants) DLC_TRY(merge_constants(g, out_changed));
    DLC_TRY(merge_nodes(g, out_changed));
    if (*out_changed) {
        bool removed;
        DLC_TRY(dlc_pass_dead_code(g, &removed));
    }
    return DLC_OK;
}

dlc_status dlc_pass_cse(dlc_graph *g, bool *out_changed) { return cse(g, true, out_changed); }

/* Two constants folded from the sizes (a Slice's end, a Reshape's shape) can
 * be equal at one size and differ at the next; merging them would make the
 * graph's structure depend on the size. Nodes are merged only when they read
 * the very same values, which holds at every size. */
dlc_status dlc_pass_cse_nodes(dlc_graph *g, bool *out_changed) { return cse(g, false, out_changed); }
