/* Copies of graphs (ir/graph.h: dlc_graph_clone). Compiling for every size
 * runs the pipeline once per sample of the symbolic dims; each sample starts
 * from a copy of the imported graph instead of importing the file again
 * (for BERT-base, 4 s per import), borrowing its weights. Attribute tensors
 * and subgraphs are always copied (small). */
#include <stdlib.h>
#include <string.h>

#include "ir/graph.h"
#include "runtime/status.h"

static dlc_status oom(const dlc_graph *g) {
    return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "copying graph '%s': out of memory", g->name ? g->name : "");
}

static dlc_value *map_value(dlc_graph *dst, const dlc_value *v) { return v != NULL ? dst->values[v->id] : NULL; }

static dlc_status clone_values(const dlc_graph *src, dlc_graph *dst, bool share_data) {
    dst->values = calloc((size_t)src->num_values + 1, sizeof *dst->values);
    if (dst->values == NULL) return oom(src);
    dst->cap_values = src->num_values + 1;
    for (int32_t id = 0; id < src->num_values; id++) {
        const dlc_value *v = src->values[id];
        if (v == NULL) continue;
        dlc_value *c = malloc(sizeof *c);
        if (c == NULL) return oom(src);
        *c = *v;
        c->name = NULL;
        c->data = NULL;
        c->data_borrowed = false;
        c->elems = NULL;
        c->producer = NULL;
        dst->values[id] = c;
        dst->num_values = id + 1; /* what dlc_graph_free walks, should a copy below fail */
        if ((c->name = dlc_string_copy(v->name)) == NULL) return oom(src);
        c->data_borrowed = share_data && v->data != NULL;
        if (c->data_borrowed) c->data = v->data;
        else if (v->data != NULL && (c->data = dlc_aligned_copy(v->data, v->nbytes)) == NULL) return oom(src);
    }
    dst->num_values = src->num_values;
    for (int32_t id = 0; id < src->num_values; id++) { /* elements name values of the same graph */
        const dlc_value *v = src->values[id];
        if (v == NULL || v->elems == NULL) continue;
        dlc_value **elems = calloc((size_t)(v->num_elems > 0 ? v->num_elems : 0) + 1, sizeof *elems);
        if (elems == NULL) return oom(src);
        for (int32_t i = 0; i < v->num_elems; i++) elems[i] = map_value(dst, v->elems[i]);
        dst->values[id]->elems = elems;
    }
    return DLC_OK;
}

static dlc_status clone_node(const dlc_graph *src, dlc_graph *dst, const dlc_node *n, dlc_node **out) {
    dlc_node *c = calloc(1, sizeof *c);
    if (c == NULL) return oom(src);
    *out = c;
    c->id = n->id;
    c->opset = n->opset;
    c->schema = n->schema;
    c->name = dlc_string_copy(n->name);
    c->op_type = dlc_string_copy(n->op_type);
    c->domain = dlc_string_copy(n->domain);
    c->inputs = calloc((size_t)n->num_inputs + 1, sizeof *c->inputs);
    c->outputs = calloc((size_t)n->num_outputs + 1, sizeof *c->outputs);
    c->attrs = calloc((size_t)n->num_attrs + 1, sizeof *c->attrs);
    if (!c->name || !c->op_type || !c->domain || !c->inputs || !c->outputs || !c->attrs) return oom(src);
    c->num_inputs = n->num_inputs;
    c->num_outputs = n->num_outputs;
    for (int32_t i = 0; i < n->num_inputs; i++) c->inputs[i] = map_value(dst, n->inputs[i]);
    for (int32_t i = 0; i < n->num_outputs; i++) {
        c->outputs[i] = map_value(dst, n->outputs[i]);
        if (c->outputs[i] != NULL && n->outputs[i]->producer == n) c->outputs[i]->producer = c;
    }
    for (int32_t i = 0; i < n->num_attrs; i++) {
        DLC_TRY(dlc_attr_copy(&c->attrs[i], &n->attrs[i]));
        c->num_attrs = i + 1;
    }
    return DLC_OK;
}

static dlc_status clone_strings(const dlc_graph *src, char *const *from, int32_t count, char ***to) {
    *to = calloc((size_t)count + 1, sizeof **to);
    if (*to == NULL) return oom(src);
    for (int32_t i = 0; i < count; i++)
        if (((*to)[i] = dlc_string_copy(from[i])) == NULL) return oom(src);
    return DLC_OK;
}

static dlc_status clone_into(const dlc_graph *src, dlc_graph *dst, bool share_data) {
    DLC_TRY(clone_values(src, dst, share_data));
    dst->nodes = calloc((size_t)src->num_nodes + 1, sizeof *dst->nodes);
    if (dst->nodes == NULL) return oom(src);
    dst->cap_nodes = src->num_nodes + 1;
    for (int32_t i = 0; i < src->num_nodes; i++) {
        dlc_node *c = NULL;
        dlc_status st = clone_node(src, dst, src->nodes[i], &c);
        dst->nodes[dst->num_nodes++] = c; /* freed with the graph, even half built */
        if (st != DLC_OK) return st;
    }
    dst->next_node_id = src->next_node_id;
    dst->inputs = calloc((size_t)src->num_inputs + 1, sizeof *dst->inputs);
    dst->outputs = calloc((size_t)src->num_outputs + 1, sizeof *dst->outputs);
    if (dst->inputs == NULL || dst->outputs == NULL) return oom(src);
    for (int32_t i = 0; i < src->num_inputs; i++) dst->inputs[i] = map_value(dst, src->inputs[i]);
    dst->num_inputs = src->num_inputs;
    for (int32_t i = 0; i < src->num_outputs; i++) dst->outputs[i] = map_value(dst, src->outputs[i]);
    dst->num_outputs = src->num_outputs;
    DLC_TRY(clone_strings(src, src->symbols, src->num_symbols, &dst->symbols));
    dst->num_symbols = src->num_symbols;
    DLC_TRY(clone_strings(src, src->no_fold, src->num_no_fold, &dst->no_fold));
    dst->num_no_fold = src->num_no_fold;
    dst->opsets = calloc((size_t)src->num_opsets + 1, sizeof *dst->opsets);
    if (dst->opsets == NULL) return oom(src);
    for (int32_t i = 0; i < src->num_opsets; i++) {
        dst->opsets[i].version = src->opsets[i].version;
        if ((dst->opsets[i].domain = dlc_string_copy(src->opsets[i].domain)) == NULL) return oom(src);
        dst->num_opsets = i + 1;
    }
    if (src->source_path != NULL && (dst->source_path = dlc_string_copy(src->source_path)) == NULL) return oom(src);
    return DLC_OK;
}

static dlc_status clone(const dlc_graph *src, bool share_data, dlc_graph **out_graph) {
    *out_graph = NULL;
    dlc_graph *dst;
    DLC_TRY(dlc_graph_create(src->name, &dst));
    dlc_status st = clone_into(src, dst, share_data);
    if (st != DLC_OK) {
        dlc_graph_free(dst);
        return st;
    }
    *out_graph = dst;
    return DLC_OK;
}

dlc_status dlc_graph_clone(const dlc_graph *src, dlc_graph **out_graph) { return clone(src, false, out_graph); }

dlc_status dlc_graph_clone_sharing_data(const dlc_graph *src, dlc_graph **out_graph) {
    return clone(src, true, out_graph);
}
