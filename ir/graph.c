#include "ir/graph.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/dlc_kernel.h"
#include "runtime/status.h"

char *dlc_string_copy(const char *s) {
    if (s == NULL) return NULL;
    size_t n = strlen(s) + 1;
    char *out = malloc(n);
    if (out != NULL) memcpy(out, s, n);
    return out;
}

/* See graph.h. */
void *dlc_aligned_copy(const void *data, size_t nbytes) {
    size_t rounded = (nbytes + 63) & ~(size_t)63;
    if (rounded == 0) rounded = 64;
    void *out = aligned_alloc(64, rounded);
    if (out == NULL) return NULL;
    memset((char *)out + nbytes, 0, rounded - nbytes);
    if (nbytes > 0 && data != NULL) memcpy(out, data, nbytes);
    else if (nbytes > 0) memset(out, 0, nbytes);
    return out;
}

static dlc_status grow(void **array, int32_t *cap, int32_t needed, size_t elem) {
    if (needed <= *cap) return DLC_OK;
    int32_t new_cap = *cap ? *cap * 2 : 16;
    while (new_cap < needed) new_cap *= 2;
    void *p = realloc(*array, (size_t)new_cap * elem);
    if (p == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "graph: out of memory");
    *array = p;
    *cap = new_cap;
    return DLC_OK;
}

/* ---- graphs ---- */

dlc_status dlc_graph_create(const char *name, dlc_graph **out_graph) {
    *out_graph = NULL;
    dlc_graph *g = calloc(1, sizeof *g);
    if (g == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "graph: out of memory");
    g->name = dlc_string_copy(name ? name : "");
    if (g->name == NULL) {
        free(g);
        return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "graph: out of memory");
    }
    *out_graph = g;
    return DLC_OK;
}

static void attr_clear(dlc_attr *a) {
    free(a->name);
    free(a->s);
    free(a->ints);
    free(a->floats);
    if (a->strings != NULL)
        for (int32_t i = 0; i < a->count; i++) free(a->strings[i]);
    free(a->strings);
    if (a->tensor != NULL) dlc_value_free(a->tensor);
    if (a->graph != NULL) dlc_graph_free(a->graph);
    memset(a, 0, sizeof *a);
}

static void node_free(dlc_node *n) {
    if (n == NULL) return;
    free(n->name);
    free(n->op_type);
    free(n->domain);
    free(n->inputs);
    free(n->outputs);
    for (int32_t i = 0; i < n->num_attrs; i++) attr_clear(&n->attrs[i]);
    free(n->attrs);
    free(n);
}

void dlc_value_free(dlc_value *v) {
    if (v == NULL) return;
    free(v->name);
    if (!v->data_borrowed) free(v->data);
    free(v->elems);
    free(v);
}

void dlc_graph_free(dlc_graph *g) {
    if (g == NULL) return;
    for (int32_t i = 0; i < g->num_nodes; i++) node_free(g->nodes[i]);
    for (int32_t i = 0; i < g->num_values; i++) dlc_value_free(g->values[i]);
    for (int32_t i = 0; i < g->num_symbols; i++) free(g->symbols[i]);
    for (int32_t i = 0; i < g->num_opsets; i++) free(g->opsets[i].domain);
    free(g->nodes);
    free(g->values);
    free(g->inputs);
    free(g->outputs);
    free(g->symbols);
    free(g->opsets);
    free(g->name);
    free(g->source_path);
    for (int32_t i = 0; i < g->num_no_fold; i++) free(g->no_fold[i]);
    free(g->no_fold);
    free(g);
}

dlc_status dlc_graph_add_no_fold(dlc_graph *g, const char *name) {
    if (dlc_graph_is_no_fold(g, name)) return DLC_OK;
    char **grown = realloc(g->no_fold, ((size_t)g->num_no_fold + 1) * sizeof *grown);
    if (grown == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "graph: out of memory");
    g->no_fold = grown;
    if ((g->no_fold[g->num_no_fold] = dlc_string_copy(name)) == NULL)
        return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "graph: out of memory");
    g->num_no_fold++;
    return DLC_OK;
}

bool dlc_graph_is_no_fold(const dlc_graph *g, const char *name) {
    for (int32_t i = 0; i < g->num_no_fold; i++)
        if (strcmp(g->no_fold[i], name) == 0) return true;
    return false;
}

/* ---- values ---- */

static dlc_status value_new(const char *name, dlc_value_kind kind, dlc_dtype dtype, const dlc_shape *shape,
                            dlc_value **out) {
    *out = NULL;
    dlc_value *v = calloc(1, sizeof *v);
    if (v == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "graph: out of memory");
    v->name = dlc_string_copy(name ? name : "");
    if (v->name == NULL) {
        free(v);
        return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "graph: out of memory");
    }
    v->id = -1;
    v->num_elems = -1;
    v->kind = kind;
    v->dtype = dtype;
    if (shape != NULL) v->shape = *shape;
    else v->shape.rank = -1;
    *out = v;
    return DLC_OK;
}

static dlc_status graph_register(dlc_graph *g, dlc_value *v) {
    dlc_status st = grow((void **)&g->values, &g->cap_values, g->num_values + 1, sizeof *g->values);
    if (st != DLC_OK) return st;
    v->id = g->num_values;
    g->values[g->num_values++] = v;
    return DLC_OK;
}

dlc_status dlc_graph_add_value(dlc_graph *g, const char *name, dlc_value_kind kind, dlc_dtype dtype,
                               const dlc_shape *shape, dlc_value **out_value) {
    *out_value = NULL;
    dlc_value *v;
    DLC_TRY(value_new(name, kind, dtype, shape, &v));
    dlc_status st = graph_register(g, v);
    if (st != DLC_OK) {
        dlc_value_free(v);
        return st;
    }
    if (kind == DLC_VALUE_INPUT) {
        dlc_value **p = realloc(g->inputs, (size_t)(g->num_inputs + 1) * sizeof *p);
        if (p == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "graph: out of memory");
        g->inputs = p;
        g->inputs[g->num_inputs++] = v;
    }
    *out_value = v;
    return DLC_OK;
}

dlc_status dlc_value_set_elems(dlc_value *value, dlc_value_type type, dlc_value_type elem_type, dlc_dtype dtype,
                               dlc_value *const *elems, int32_t count) {
    dlc_value **copy = calloc((size_t)count + 1, sizeof *copy);
    if (copy == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "graph: out of memory");
    for (int32_t i = 0; i < count; i++) copy[i] = elems[i];
    free(value->elems);
    value->elems = copy;
    value->num_elems = count;
    value->type = type;
    value->elem_type = elem_type;
    value->dtype = dtype;
    return DLC_OK;
}

const char *dlc_value_type_name(dlc_value_type type) {
    switch (type) {
    case DLC_TYPE_SEQUENCE: return "a sequence";
    case DLC_TYPE_OPTIONAL: return "an optional";
    default: return "a tensor";
    }
}

static dlc_status check_const_size(const char *name, dlc_dtype dtype, const dlc_shape *shape, size_t nbytes) {
    int64_t numel = dlc_shape_numel(shape);
    size_t elem = dlc_dtype_size(dtype);
    if (numel < 0 || elem == 0)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "constant '%s': needs a static shape and a numeric dtype", name);
    int64_t expected;
    if (!dlc_mul_size(numel, (int64_t)elem, &expected) || (uint64_t)expected != (uint64_t)nbytes)
        return dlc_fail(DLC_ERR_PARSE, "constant '%s': %zu bytes of data, its %s shape needs %lld", name, nbytes,
                        dlc_dtype_name(dtype), (long long)expected);
    return DLC_OK;
}

dlc_status dlc_value_create_detached_const(const char *name, dlc_dtype dtype, const dlc_shape *shape,
                                           const void *data, size_t nbytes, dlc_value **out_value) {
    *out_value = NULL;
    DLC_TRY(check_const_size(name ? name : "", dtype, shape, nbytes));
    dlc_value *v;
    DLC_TRY(value_new(name, DLC_VALUE_CONST, dtype, shape, &v));
    v->data = dlc_aligned_copy(data, nbytes);
    if (v->data == NULL) {
        dlc_value_free(v);
        return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "constant '%s': cannot allocate %zu bytes", name ? name : "", nbytes);
    }
    v->nbytes = nbytes;
    *out_value = v;
    return DLC_OK;
}

dlc_status dlc_graph_add_const(dlc_graph *g, const char *name, dlc_dtype dtype, const dlc_shape *shape,
                               const void *data, size_t nbytes, dlc_value **out_value) {
    *out_value = NULL;
    dlc_value *v;
    DLC_TRY(dlc_value_create_detached_const(name, dtype, shape, data, nbytes, &v));
    dlc_status st = graph_register(g, v);
    if (st != DLC_OK) {
        dlc_value_free(v);
        return st;
    }
    *out_value = v;
    return DLC_OK;
}

dlc_status dlc_value_set_const(dlc_value *v, const void *data, size_t nbytes) {
    DLC_TRY(check_const_size(v->name, v->dtype, &v->shape, nbytes));
    void *copy = dlc_aligned_copy(data, nbytes);
    if (copy == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "constant '%s': cannot allocate %zu bytes", v->name, nbytes);
    if (!v->data_borrowed) free(v->data);
    v->data = copy;
    v->data_borrowed = false;
    v->nbytes = nbytes;
    v->kind = DLC_VALUE_CONST;
    v->producer = NULL;
    v->producer_output = 0;
    return DLC_OK;
}

dlc_value *dlc_graph_find_value(const dlc_graph *g, const char *name) {
    /* Later definitions shadow nothing: names are unique in valid graphs. */
    for (int32_t i = 0; i < g->num_values; i++)
        if (g->values[i] != NULL && strcmp(g->values[i]->name, name) == 0) return g->values[i];
    return NULL;
}

dlc_status dlc_graph_symbol(dlc_graph *g, const char *name, int32_t *out_sym) {
    for (int32_t i = 0; i < g->num_symbols; i++)
        if (strcmp(g->symbols[i], name) == 0) {
            *out_sym = i;
            return DLC_OK;
        }
    char **p = realloc(g->symbols, (size_t)(g->num_symbols + 1) * sizeof *p);
    if (p == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "graph: out of memory");
    g->symbols = p;
    g->symbols[g->num_symbols] = dlc_string_copy(name);
    if (g->symbols[g->num_symbols] == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "graph: out of memory");
    *out_sym = g->num_symbols++;
    return DLC_OK;
}

/* ---- nodes ---- */

dlc_status dlc_graph_add_node(dlc_graph *g, const char *name, const char *op_type, const char *domain,
                              int32_t opset, int32_t num_inputs, dlc_value *const *inputs,
                              int32_t num_outputs, dlc_value *const *outputs, dlc_node **out_node) {
    *out_node = NULL;
    if (num_inputs < 0 || num_outputs < 0)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node '%s': negative operand count", name ? name : "");
    DLC_TRY(grow((void **)&g->nodes, &g->cap_nodes, g->num_nodes + 1, sizeof *g->nodes));
    dlc_node *n = calloc(1, sizeof *n);
    if (n == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "graph: out of memory");
    n->id = g->next_node_id++;
    char generated[96];
    if (name == NULL || name[0] == '\0') {
        snprintf(generated, sizeof generated, "%s_%d", op_type, n->id);
        name = generated;
    }
    n->name = dlc_string_copy(name);
    n->op_type = dlc_string_copy(op_type);
    n->domain = dlc_string_copy(domain ? domain : "");
    n->opset = opset;
    n->num_inputs = num_inputs;
    n->num_outputs = num_outputs;
    n->inputs = calloc((size_t)num_inputs + 1, sizeof *n->inputs);
    n->outputs = calloc((size_t)num_outputs + 1, sizeof *n->outputs);
    if (n->name == NULL || n->op_type == NULL || n->domain == NULL || n->inputs == NULL || n->outputs == NULL) {
        node_free(n);
        return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "graph: out of memory");
    }
    for (int32_t i = 0; i < num_inputs; i++) n->inputs[i] = inputs[i];
    for (int32_t i = 0; i < num_outputs; i++) {
        n->outputs[i] = outputs[i];
        if (outputs[i] != NULL) {
            outputs[i]->producer = n;
            outputs[i]->producer_output = i;
            outputs[i]->kind = DLC_VALUE_INTERMEDIATE;
        }
    }
    g->nodes[g->num_nodes++] = n;
    *out_node = n;
    return DLC_OK;
}

dlc_status dlc_attr_copy(dlc_attr *dst, const dlc_attr *src) {
    memset(dst, 0, sizeof *dst);
    dst->type = src->type;
    dst->i = src->i;
    dst->f = src->f;
    dst->count = src->count;
    dst->name = dlc_string_copy(src->name);
    if (dst->name == NULL) goto oom;
    if (src->s != NULL) {
        dst->s = malloc(src->s_len + 1);
        if (dst->s == NULL) goto oom;
        memcpy(dst->s, src->s, src->s_len);
        dst->s[src->s_len] = '\0';
        dst->s_len = src->s_len;
    }
    if (src->ints != NULL) {
        dst->ints = malloc((size_t)src->count * sizeof *dst->ints + 1);
        if (dst->ints == NULL) goto oom;
        memcpy(dst->ints, src->ints, (size_t)src->count * sizeof *dst->ints);
    }
    if (src->floats != NULL) {
        dst->floats = malloc((size_t)src->count * sizeof *dst->floats + 1);
        if (dst->floats == NULL) goto oom;
        memcpy(dst->floats, src->floats, (size_t)src->count * sizeof *dst->floats);
    }
    if (src->strings != NULL) {
        dst->strings = calloc((size_t)src->count + 1, sizeof *dst->strings);
        if (dst->strings == NULL) goto oom;
        for (int32_t i = 0; i < src->count; i++)
            if ((dst->strings[i] = dlc_string_copy(src->strings[i])) == NULL) goto oom;
    }
    if (src->tensor != NULL) {
        const dlc_value *t = src->tensor;
        if (dlc_value_create_detached_const(t->name, t->dtype, &t->shape, t->data, t->nbytes, &dst->tensor) != DLC_OK)
            goto fail;
    }
    if (src->graph != NULL && dlc_graph_clone(src->graph, &dst->graph) != DLC_OK) goto fail;
    return DLC_OK;
oom:
    dlc_fail(DLC_ERR_OUT_OF_MEMORY, "attribute '%s': out of memory", src->name ? src->name : "");
fail:
    attr_clear(dst);
    return DLC_ERR_OUT_OF_MEMORY;
}

dlc_status dlc_node_add_attr(dlc_node *node, const dlc_attr *attr) {
    dlc_attr *p = realloc(node->attrs, (size_t)(node->num_attrs + 1) * sizeof *p);
    if (p == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "node '%s': out of memory", node->name);
    node->attrs = p;
    if (attr->graph != NULL) {
        /* graph attributes: ownership of everything in *attr moves to the node */
        node->attrs[node->num_attrs++] = *attr;
        return DLC_OK;
    }
    DLC_TRY(dlc_attr_copy(&node->attrs[node->num_attrs], attr));
    node->num_attrs++;
    return DLC_OK;
}

void dlc_graph_remove_node(dlc_graph *g, dlc_node *node) {
    int32_t j = 0;
    for (int32_t i = 0; i < g->num_nodes; i++)
        if (g->nodes[i] != node) g->nodes[j++] = g->nodes[i];
    g->num_nodes = j;
    for (int32_t i = 0; i < node->num_outputs; i++)
        if (node->outputs[i] != NULL && node->outputs[i]->producer == node) node->outputs[i]->producer = NULL;
    node_free(node);
}

void dlc_graph_replace_uses(dlc_graph *g, dlc_value *old_value, dlc_value *new_value) {
    for (int32_t i = 0; i < g->num_nodes; i++) {
        dlc_node *n = g->nodes[i];
        for (int32_t k = 0; k < n->num_inputs; k++)
            if (n->inputs[k] == old_value) n->inputs[k] = new_value;
    }
    for (int32_t i = 0; i < g->num_outputs; i++)
        if (g->outputs[i] == old_value) g->outputs[i] = new_value;
    dlc_graph_update_uses(g);
}

void dlc_graph_update_uses(dlc_graph *g) {
    for (int32_t i = 0; i < g->num_values; i++)
        if (g->values[i] != NULL) {
            g->values[i]->num_uses = 0;
            g->values[i]->is_graph_output = false;
        }
    for (int32_t i = 0; i < g->num_nodes; i++) {
        dlc_node *n = g->nodes[i];
        for (int32_t k = 0; k < n->num_inputs; k++)
            if (n->inputs[k] != NULL) n->inputs[k]->num_uses++;
    }
    for (int32_t i = 0; i < g->num_outputs; i++)
        if (g->outputs[i] != NULL) g->outputs[i]->is_graph_output = true;
}

/* Kahn's algorithm, keeping the original order among ready nodes so that
 * run order (and so memory plans and profiles) follows the model file. */
dlc_status dlc_graph_toposort(dlc_graph *g) {
    int32_t n = g->num_nodes;
    if (n == 0) return DLC_OK;
    int32_t *pending = calloc((size_t)n, sizeof *pending);
    dlc_node **order = calloc((size_t)n, sizeof *order);
    int32_t *position = calloc((size_t)g->next_node_id + 1, sizeof *position); /* node id -> index */
    bool *done = calloc((size_t)n, sizeof *done);
    if (pending == NULL || order == NULL || position == NULL || done == NULL) {
        free(pending), free(order), free(position), free(done);
        return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "graph: out of memory");
    }
    for (int32_t i = 0; i < n; i++) position[g->nodes[i]->id] = i;
    dlc_status st = DLC_OK;
    for (int32_t i = 0; i < n && st == DLC_OK; i++) {
        dlc_node *node = g->nodes[i];
        for (int32_t k = 0; k < node->num_inputs; k++) {
            dlc_value *v = node->inputs[k];
            if (v == NULL) continue;
            /* a sequence or optional whose producer was expanded is its list of elements */
            if (v->kind == DLC_VALUE_INTERMEDIATE && v->producer == NULL && v->num_elems < 0) {
                char where[256];
                st = dlc_fail(DLC_ERR_PARSE, "node %s: input '%s' is not produced by any node, input or initializer",
                              dlc_node_describe(node, where, sizeof where), v->name);
                break;
            }
            if (v->producer != NULL) pending[i]++;
        }
    }
    int32_t count = 0;
    /* Repeated sweeps are O(n^2) in the worst case but keep file order; graphs
     * from exporters are almost sorted, so one or two sweeps suffice. */
    bool progress = true;
    while (st == DLC_OK && count < n && progress) {
        progress = false;
        for (int32_t i = 0; i < n; i++) {
            if (done[i] || pending[i] != 0) continue;
            dlc_node *node = g->nodes[i];
            done[i] = true;
            order[count++] = node;
            progress = true;
            for (int32_t o = 0; o < node->num_outputs; o++) {
                dlc_value *out = node->outputs[o];
                if (out == NULL || out->producer != node) continue;
                for (int32_t j = 0; j < n; j++) {
                    if (done[j]) continue;
                    dlc_node *user = g->nodes[j];
                    for (int32_t k = 0; k < user->num_inputs; k++)
                        if (user->inputs[k] == out) pending[j]--;
                }
            }
        }
    }
    if (st == DLC_OK && count < n) {
        for (int32_t i = 0; i < n; i++)
            if (!done[i]) {
                char where[256];
                st = dlc_fail(DLC_ERR_PARSE, "the graph has a cycle through node %s",
                              dlc_node_describe(g->nodes[i], where, sizeof where));
                break;
            }
    }
    if (st == DLC_OK) memcpy(g->nodes, order, (size_t)n * sizeof *order);
    free(pending), free(order), free(position), free(done);
    return st;
}

int dlc_graph_remove_dead(dlc_graph *g) {
    dlc_graph_update_uses(g);
    int removed = 0;
    /* Walk backwards so a dead consumer frees its producers in the same sweep. */
    for (int32_t i = g->num_nodes - 1; i >= 0; i--) {
        dlc_node *n = g->nodes[i];
        bool live = n->num_outputs == 0; /* output-less nodes are checks: kept for their effect */
        for (int32_t o = 0; o < n->num_outputs && !live; o++) {
            dlc_value *v = n->outputs[o];
            if (v != NULL && (v->num_uses > 0 || v->is_graph_output)) live = true;
        }
        if (live) continue;
        for (int32_t k = 0; k < n->num_inputs; k++)
            if (n->inputs[k] != NULL) n->inputs[k]->num_uses--;
        dlc_graph_remove_node(g, n);
        removed++;
    }
    /* Drop values nothing refers to any more (keeps weights out of artifacts). */
    for (int32_t i = 0; i < g->num_values; i++) {
        dlc_value *v = g->values[i];
        if (v == NULL || v->num_uses > 0 || v->is_graph_output || v->kind == DLC_VALUE_INPUT) continue;
        if (v->kind == DLC_VALUE_INTERMEDIATE && v->producer != NULL) continue;
        dlc_value_free(v);
        g->values[i] = NULL;
    }
    return removed;
}

dlc_status dlc_graph_verify(const dlc_graph *g) {
    char where[256];
    for (int32_t i = 0; i < g->num_values; i++) {
        const dlc_value *v = g->values[i];
        if (v == NULL) continue;
        if (v->id != i) return dlc_fail(DLC_ERR_INTERNAL, "verify: value '%s' has id %d at slot %d", v->name, v->id, i);
        if (v->kind == DLC_VALUE_CONST && v->data == NULL)
            return dlc_fail(DLC_ERR_INTERNAL, "verify: constant '%s' has no data", v->name);
    }
    for (int32_t i = 0; i < g->num_nodes; i++) {
        const dlc_node *n = g->nodes[i];
        for (int32_t k = 0; k < n->num_inputs; k++) {
            const dlc_value *v = n->inputs[k];
            if (v == NULL) continue;
            if (v->id < 0 || v->id >= g->num_values || g->values[v->id] != v)
                return dlc_fail(DLC_ERR_INTERNAL, "verify: node %s reads a value not in the graph",
                                dlc_node_describe(n, where, sizeof where));
            if (v->kind == DLC_VALUE_INTERMEDIATE) {
                bool earlier = false;
                for (int32_t j = 0; j < i && !earlier; j++) earlier = g->nodes[j] == v->producer;
                if (!earlier)
                    return dlc_fail(DLC_ERR_INTERNAL, "verify: node %s reads '%s' before it is produced",
                                    dlc_node_describe(n, where, sizeof where), v->name);
            }
        }
        for (int32_t o = 0; o < n->num_outputs; o++) {
            const dlc_value *v = n->outputs[o];
            if (v == NULL) continue;
            if (v->producer != n || v->kind != DLC_VALUE_INTERMEDIATE)
                return dlc_fail(DLC_ERR_INTERNAL, "verify: output '%s' of node %s does not name it as producer",
                                v->name, dlc_node_describe(n, where, sizeof where));
            if (v->dtype == DLC_DTYPE_UNDEFINED)
                return dlc_fail(DLC_ERR_INTERNAL, "verify: output '%s' of node %s has no dtype", v->name,
                                dlc_node_describe(n, where, sizeof where));
        }
    }
    for (int32_t i = 0; i < g->num_outputs; i++)
        if (g->outputs[i] == NULL) return dlc_fail(DLC_ERR_INTERNAL, "verify: graph output %d is missing", i);
    return DLC_OK;
}

const char *dlc_node_describe(const dlc_node *node, char *buf, size_t size) {
    snprintf(buf, size, "'%s' (%s%s%s, opset %d)", node->name, node->domain[0] ? node->domain : "",
             node->domain[0] ? "." : "", node->op_type, node->opset);
    return buf;
}

/* ---- attributes ---- */

const dlc_attr *dlc_node_attr(const dlc_node *node, const char *name) {
    for (int32_t i = 0; i < node->num_attrs; i++)
        if (strcmp(node->attrs[i].name, name) == 0) return &node->attrs[i];
    return NULL;
}

int64_t dlc_node_attr_int(const dlc_node *node, const char *name, int64_t fallback) {
    const dlc_attr *a = dlc_node_attr(node, name);
    return a != NULL && a->type == DLC_ATTR_INT ? a->i : fallback;
}

double dlc_node_attr_float(const dlc_node *node, const char *name, double fallback) {
    const dlc_attr *a = dlc_node_attr(node, name);
    if (a == NULL) return fallback;
    if (a->type == DLC_ATTR_FLOAT) return a->f;
    if (a->type == DLC_ATTR_INT) return (double)a->i;
    return fallback;
}

const char *dlc_node_attr_string(const dlc_node *node, const char *name, const char *fallback) {
    const dlc_attr *a = dlc_node_attr(node, name);
    return a != NULL && a->type == DLC_ATTR_STRING && a->s != NULL ? a->s : fallback;
}

const int64_t *dlc_node_attr_ints(const dlc_node *node, const char *name, int32_t *out_count) {
    const dlc_attr *a = dlc_node_attr(node, name);
    if (a == NULL || a->type != DLC_ATTR_INTS) {
        *out_count = 0;
        return NULL;
    }
    *out_count = a->count;
    return a->ints;
}

const double *dlc_node_attr_floats(const dlc_node *node, const char *name, int32_t *out_count) {
    const dlc_attr *a = dlc_node_attr(node, name);
    if (a == NULL || a->type != DLC_ATTR_FLOATS) {
        *out_count = 0;
        return NULL;
    }
    *out_count = a->count;
    return a->floats;
}

/* ---- shapes ---- */

dlc_shape dlc_shape_make(int32_t rank, const int64_t *dims) {
    dlc_shape s = {.rank = rank};
    for (int32_t i = 0; i < rank && i < DLC_MAX_RANK; i++) s.dims[i] = (dlc_dim){dims[i], 0};
    return s;
}

bool dlc_shape_is_static(const dlc_shape *s) {
    if (s->rank < 0) return false;
    for (int32_t i = 0; i < s->rank; i++)
        if (s->dims[i].value < 0) return false;
    return true;
}

bool dlc_mul_size(int64_t a, int64_t b, int64_t *out) {
    if (a < 0 || b < 0) return false;
    if (a != 0 && b > INT64_MAX / a) return false;
    *out = a * b;
    return true;
}

int64_t dlc_shape_numel(const dlc_shape *s) {
    if (!dlc_shape_is_static(s)) return -1;
    int64_t n = 1;
    for (int32_t i = 0; i < s->rank; i++)
        if (!dlc_mul_size(n, s->dims[i].value, &n)) return -2;
    return n;
}

bool dlc_shape_equal(const dlc_shape *a, const dlc_shape *b) {
    if (a->rank != b->rank) return false;
    for (int32_t i = 0; i < a->rank; i++) {
        if (a->dims[i].value != b->dims[i].value) return false;
        if (a->dims[i].value < 0 && a->dims[i].sym != b->dims[i].sym) return false;
    }
    return true;
}

const char *dlc_shape_format(const dlc_graph *g, const dlc_shape *s, char *buf, size_t size) {
    if (size == 0) return buf;
    if (s->rank < 0) {
        snprintf(buf, size, "[?]");
        return buf;
    }
    size_t used = 0;
    buf[0] = '\0';
    used += (size_t)snprintf(buf + used, size - used, "[");
    for (int32_t i = 0; i < s->rank && used < size; i++) {
        const char *sep = i ? "," : "";
        if (s->dims[i].value >= 0)
            used += (size_t)snprintf(buf + used, size - used, "%s%" PRId64, sep, s->dims[i].value);
        else if (g != NULL && s->dims[i].sym >= 0 && s->dims[i].sym < g->num_symbols)
            used += (size_t)snprintf(buf + used, size - used, "%s%s", sep, g->symbols[s->dims[i].sym]);
        else
            used += (size_t)snprintf(buf + used, size - used, "%s?", sep);
    }
    if (used < size) snprintf(buf + used, size - used, "]");
    return buf;
}

int64_t dlc_value_numel(const dlc_value *v) {
    int64_t n = dlc_shape_numel(&v->shape);
    return n < 0 ? -1 : n;
}

static double element_as_double(const void *data, dlc_dtype dtype, int64_t i) {
    switch (dtype) {
    case DLC_FLOAT32: return ((const float *)data)[i];
    case DLC_FLOAT64: return ((const double *)data)[i];
    case DLC_FLOAT16: return dlc_f16_to_f32(((const uint16_t *)data)[i]);
    case DLC_BFLOAT16: return dlc_bf16_to_f32(((const uint16_t *)data)[i]);
    case DLC_INT8: return ((const int8_t *)data)[i];
    case DLC_UINT8:
    case DLC_BOOL: return ((const uint8_t *)data)[i];
    case DLC_INT16: return ((const int16_t *)data)[i];
    case DLC_UINT16: return ((const uint16_t *)data)[i];
    case DLC_INT32: return ((const int32_t *)data)[i];
    case DLC_UINT32: return ((const uint32_t *)data)[i];
    case DLC_INT64: return (double)((const int64_t *)data)[i];
    case DLC_UINT64: return (double)((const uint64_t *)data)[i];
    default: return 0.0;
    }
}

dlc_status dlc_value_const_ints(const dlc_value *v, int64_t *out, int32_t max_count, int32_t *out_count) {
    *out_count = 0;
    if (v == NULL || v->kind != DLC_VALUE_CONST)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "tensor '%s' must be a constant", v ? v->name : "?");
    if (v->dtype != DLC_INT64 && v->dtype != DLC_INT32)
        return dlc_fail(DLC_ERR_DTYPE_MISMATCH, "tensor '%s' must be int32 or int64, is %s", v->name,
                        dlc_dtype_name(v->dtype));
    int64_t n = dlc_value_numel(v);
    if (n < 0 || n > max_count)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "tensor '%s' has %lld elements, at most %d are supported here", v->name,
                        (long long)n, max_count);
    for (int64_t i = 0; i < n; i++)
        out[i] = v->dtype == DLC_INT64 ? ((const int64_t *)v->data)[i] : ((const int32_t *)v->data)[i];
    *out_count = (int32_t)n;
    return DLC_OK;
}

dlc_status dlc_value_const_scalar(const dlc_value *v, double *out) {
    if (v == NULL || v->kind != DLC_VALUE_CONST)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "tensor '%s' must be a constant", v ? v->name : "?");
    if (dlc_value_numel(v) < 1 || dlc_dtype_size(v->dtype) == 0)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "tensor '%s' must hold at least one number", v->name);
    *out = element_as_double(v->data, v->dtype, 0);
    return DLC_OK;
}
