/* Graph-rewriting helpers for the optimization passes (passes/rewrite.h). */
#include "passes/rewrite.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ir/op_registry.h"
#include "kernels/dlc_kernel.h"
#include "runtime/status.h"

/* Moves the last node of g->nodes to index pos, shifting the rest right. */
static void move_last_to(dlc_graph *g, int32_t pos) {
    dlc_node *last = g->nodes[g->num_nodes - 1];
    memmove(&g->nodes[pos + 1], &g->nodes[pos], (size_t)(g->num_nodes - 1 - pos) * sizeof *g->nodes);
    g->nodes[pos] = last;
}

dlc_status dlc_replace_node(dlc_graph *g, dlc_node *node, const char *op_type, int32_t opset, int32_t num_inputs,
                            dlc_value *const *inputs, int32_t num_attrs, const dlc_attr *attrs,
                            dlc_node **out_node) {
    return dlc_replace_node_in(g, node, "", op_type, opset, num_inputs, inputs, num_attrs, attrs, out_node);
}

dlc_status dlc_replace_node_in(dlc_graph *g, dlc_node *node, const char *domain, const char *op_type, int32_t opset,
                               int32_t num_inputs, dlc_value *const *inputs, int32_t num_attrs, const dlc_attr *attrs,
                               dlc_node **out_node) {
    char where[256];
    dlc_node_describe(node, where, sizeof where);
    int32_t pos = -1;
    for (int32_t i = 0; i < g->num_nodes && pos < 0; i++)
        if (g->nodes[i] == node) pos = i;
    if (pos < 0) return dlc_fail(DLC_ERR_INTERNAL, "rewrite: node %s is not in the graph", where);

    int32_t n_out = node->num_outputs;
    dlc_shape shapes[8];
    dlc_dtype dtypes[8];
    if (n_out > 8) return dlc_fail(DLC_ERR_INTERNAL, "rewrite: node %s has too many outputs", where);
    for (int32_t o = 0; o < n_out; o++)
        if (node->outputs[o] != NULL) {
            shapes[o] = node->outputs[o]->shape;
            dtypes[o] = node->outputs[o]->dtype;
        }
    /* the name is copied by add_node, before the old node (owning it) is freed */
    dlc_node *fresh;
    DLC_TRY(dlc_graph_add_node(g, node->name, op_type, domain, opset, num_inputs, inputs, n_out, node->outputs, &fresh));
    dlc_graph_remove_node(g, node); /* its outputs' producer is already fresh: they are kept */
    move_last_to(g, pos);
    for (int32_t a = 0; a < num_attrs; a++) DLC_TRY(dlc_node_add_attr(fresh, &attrs[a]));
    dlc_graph_update_uses(g);
    dlc_node_describe(fresh, where, sizeof where);
    dlc_status st = dlc_node_bind_schema(fresh);
    if (st == DLC_OK) st = fresh->schema->infer(g, fresh);
    if (st != DLC_OK) return dlc_fail_context(DLC_ERR_INTERNAL, "rewrite to node %s", where);
    for (int32_t o = 0; o < n_out; o++) {
        const dlc_value *v = fresh->outputs[o];
        if (v != NULL && (v->dtype != dtypes[o] || !dlc_shape_equal(&v->shape, &shapes[o])))
            return dlc_fail(DLC_ERR_INTERNAL, "rewrite to node %s changed the dtype or shape of '%s'", where,
                            v->name);
    }
    if (out_node != NULL) *out_node = fresh;
    return DLC_OK;
}

double dlc_const_element(const dlc_value *v, int64_t i) {
    const void *d = v->data;
    switch (v->dtype) {
    case DLC_FLOAT32: return ((const float *)d)[i];
    case DLC_FLOAT64: return ((const double *)d)[i];
    case DLC_FLOAT16: return dlc_f16_to_f32(((const uint16_t *)d)[i]);
    case DLC_BFLOAT16: return dlc_bf16_to_f32(((const uint16_t *)d)[i]);
    case DLC_INT8: return ((const int8_t *)d)[i];
    case DLC_UINT8: case DLC_BOOL: return ((const uint8_t *)d)[i];
    case DLC_INT16: return ((const int16_t *)d)[i];
    case DLC_UINT16: return ((const uint16_t *)d)[i];
    case DLC_INT32: return ((const int32_t *)d)[i];
    case DLC_UINT32: return ((const uint32_t *)d)[i];
    case DLC_INT64: return (double)((const int64_t *)d)[i];
    case DLC_UINT64: return (double)((const uint64_t *)d)[i];
    default: return NAN;
    }
}

bool dlc_const_all_equal(const dlc_value *v, double x) {
    if (v == NULL || v->kind != DLC_VALUE_CONST || v->data == NULL) return false;
    int64_t n = dlc_value_numel(v);
    if (n < 1) return false;
    for (int64_t i = 0; i < n; i++)
        if (dlc_const_element(v, i) != x) return false;
    return true;
}

bool dlc_const_scalar_near(const dlc_value *v, double x, double rtol) {
    if (v == NULL || v->kind != DLC_VALUE_CONST || v->data == NULL || dlc_value_numel(v) != 1) return false;
    return fabs(dlc_const_element(v, 0) - x) <= rtol * fabs(x);
}

dlc_node *dlc_producer_of(const dlc_value *v, const char *op_type) {
    if (v == NULL || v->kind != DLC_VALUE_INTERMEDIATE || v->producer == NULL) return NULL;
    dlc_node *p = v->producer;
    return p->domain[0] == '\0' && strcmp(p->op_type, op_type) == 0 ? p : NULL;
}

bool dlc_value_private(const dlc_value *v, int32_t uses) {
    return v != NULL && v->kind == DLC_VALUE_INTERMEDIATE && !v->is_graph_output && v->num_uses == uses;
}

dlc_status dlc_add_const_i64s(dlc_graph *g, const char *name, const int64_t *data, int32_t count,
                              dlc_value **out_value) {
    int64_t dims[1] = {count};
    dlc_shape s = dlc_shape_make(1, dims);
    return dlc_graph_add_const(g, name, DLC_INT64, &s, data, (size_t)count * sizeof *data, out_value);
}

dlc_status dlc_add_const_filled(dlc_graph *g, const char *name, dlc_dtype dtype, const dlc_shape *shape, double x,
                                dlc_value **out_value) {
    int64_t n = dlc_shape_numel(shape);
    if (n < 0 || (dtype != DLC_FLOAT32 && dtype != DLC_FLOAT64))
        return dlc_fail(DLC_ERR_INTERNAL, "rewrite: constant '%s' needs a static shape and a float dtype", name);
    size_t size = dlc_dtype_size(dtype), nbytes = (size_t)n * size;
    void *data = malloc(nbytes ? nbytes : 1);
    if (data == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "rewrite: constant '%s'", name);
    for (int64_t i = 0; i < n; i++) {
        if (dtype == DLC_FLOAT32) ((float *)data)[i] = (float)x;
        else ((double *)data)[i] = x;
    }
    dlc_status st = dlc_graph_add_const(g, name, dtype, shape, data, nbytes, out_value);
    free(data);
    return st;
}
