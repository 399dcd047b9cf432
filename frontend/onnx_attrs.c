/* AttributeProto → dlc_attr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/onnx_import_internal.h"
#include "frontend/tensor_proto.h"
#include "runtime/status.h"

/* AttributeProto.AttributeType values dlc refuses. */
enum {
    ONNX_ATTR_TENSORS = 9,
    ONNX_ATTR_GRAPHS = 10,
    ONNX_ATTR_SPARSE_TENSOR = 11,
    ONNX_ATTR_SPARSE_TENSORS = 12,
    ONNX_ATTR_TYPE_PROTO = 13,
    ONNX_ATTR_TYPE_PROTOS = 14,
};

/* Old exporters (IR version 1) leave type unset; the field that holds a value tells it. */
static int attr_type_of(const Onnx__AttributeProto *ap) {
    if (ap->has_type && ap->type != 0) return (int)ap->type;
    if (ap->has_f) return DLC_ATTR_FLOAT;
    if (ap->has_i) return DLC_ATTR_INT;
    if (ap->has_s) return DLC_ATTR_STRING;
    if (ap->t != NULL) return DLC_ATTR_TENSOR;
    if (ap->g != NULL) return DLC_ATTR_GRAPH;
    if (ap->n_floats > 0) return DLC_ATTR_FLOATS;
    if (ap->n_ints > 0) return DLC_ATTR_INTS;
    if (ap->n_strings > 0) return DLC_ATTR_STRINGS;
    return 0;
}

static char *copy_bytes(const ProtobufCBinaryData *b) {
    char *s = malloc(b->len + 1);
    if (s == NULL) return NULL;
    if (b->len > 0) memcpy(s, b->data, b->len);
    s[b->len] = '\0';
    return s;
}

/* A TypeProto attribute (Optional's type): kept as {type, elem_type, dtype}
 * in ints (DLC_ATTR_TYPE_PROTO); shapes are not needed, no value is made of it. */
static dlc_status import_type_attr(const onnx_scope *scope, dlc_node *node, const Onnx__AttributeProto *ap,
                                   const char *where) {
    char what[400];
    snprintf(what, sizeof what, "attribute '%s' of node %s", ap->name, where);
    onnx_full_type ft;
    DLC_TRY(onnx_value_full_type(scope->graph, ap->tp, what, &ft));
    int64_t ints[3] = {ft.type, ft.elem_type, ft.dtype};
    dlc_attr a = {.name = ap->name, .type = DLC_ATTR_TYPE_PROTO, .ints = ints, .count = 3};
    return dlc_node_add_attr(node, &a);
}

static dlc_status import_graph_attr(const onnx_model_ctx *ctx, const onnx_scope *scope, dlc_node *node,
                                    const Onnx__AttributeProto *ap, const char *where) {
    if (ap->g == NULL) return dlc_fail(DLC_ERR_PARSE, "node %s: graph attribute '%s' holds no graph", where, ap->name);
    dlc_attr a = {.type = DLC_ATTR_GRAPH};
    dlc_status st = onnx_import_graph(ctx, ap->g, scope, scope->depth + 1, &a.graph);
    /* Only the outermost attribute adds context: one line per level would
     * push the actual error past the end of the message buffer. */
    if (st != DLC_OK && scope->depth == 0)
        return dlc_fail_context(st, "in graph attribute '%s' of node %s", ap->name, where);
    if (st != DLC_OK) return st;
    a.name = strdup(ap->name);
    /* dlc_node_add_attr takes ownership of a graph attribute (name included) only on success. */
    st = a.name == NULL ? dlc_fail(DLC_ERR_OUT_OF_MEMORY, "node %s: out of memory", where) : dlc_node_add_attr(node, &a);
    if (st != DLC_OK) {
        free(a.name);
        dlc_graph_free(a.graph);
    }
    return st;
}

static dlc_status import_tensor_attr(const onnx_model_ctx *ctx, dlc_node *node, const Onnx__AttributeProto *ap,
                                     const char *where) {
    if (ap->t == NULL) return dlc_fail(DLC_ERR_PARSE, "node %s: tensor attribute '%s' holds no tensor", where, ap->name);
    dlc_tensor_data td;
    dlc_status st = dlc_tensor_proto_decode(ap->t, ctx->base_dir, &td);
    dlc_attr a = {.name = ap->name, .type = DLC_ATTR_TENSOR};
    if (st == DLC_OK) {
        const char *tensor_name = ap->t->name != NULL && ap->t->name[0] != '\0' ? ap->t->name : ap->name;
        st = dlc_value_create_detached_const(tensor_name, td.dtype, &td.shape, td.data, td.nbytes, &a.tensor);
    }
    if (st == DLC_OK) st = dlc_node_add_attr(node, &a); /* copies the tensor */
    dlc_value_free(a.tensor);
    dlc_tensor_data_release(&td);
    if (st != DLC_OK) return dlc_fail_context(st, "node %s, attribute '%s'", where, ap->name);
    return DLC_OK;
}

/* FLOATS and STRINGS need converted copies; the rest points into ap. */
static dlc_status import_plain_attr(dlc_node *node, const Onnx__AttributeProto *ap, int type, const char *where) {
    dlc_attr a = {.name = ap->name, .type = (dlc_attr_type)type};
    dlc_status st = DLC_OK;
    switch (type) {
    case DLC_ATTR_FLOAT: a.f = ap->f; break;
    case DLC_ATTR_INT: a.i = ap->i; break;
    case DLC_ATTR_STRING:
        a.s = copy_bytes(&ap->s);
        a.s_len = ap->s.len;
        if (a.s == NULL) st = DLC_ERR_OUT_OF_MEMORY;
        break;
    case DLC_ATTR_INTS:
        a.ints = ap->ints;
        a.count = (int32_t)ap->n_ints;
        break;
    case DLC_ATTR_FLOATS:
        a.count = (int32_t)ap->n_floats;
        a.floats = malloc((ap->n_floats + 1) * sizeof *a.floats);
        if (a.floats == NULL) st = DLC_ERR_OUT_OF_MEMORY;
        for (size_t k = 0; st == DLC_OK && k < ap->n_floats; k++) a.floats[k] = ap->floats[k];
        break;
    case DLC_ATTR_STRINGS:
        a.count = (int32_t)ap->n_strings;
        a.strings = calloc(ap->n_strings + 1, sizeof *a.strings);
        if (a.strings == NULL) st = DLC_ERR_OUT_OF_MEMORY;
        for (size_t k = 0; st == DLC_OK && k < ap->n_strings; k++)
            if ((a.strings[k] = copy_bytes(&ap->strings[k])) == NULL) st = DLC_ERR_OUT_OF_MEMORY;
        break;
    default: break;
    }
    if (st == DLC_OK) st = dlc_node_add_attr(node, &a);
    else dlc_fail(st, "node %s: out of memory reading attribute '%s'", where, ap->name);
    free(a.s);
    free(a.floats);
    if (a.strings != NULL)
        for (size_t k = 0; k < ap->n_strings; k++) free(a.strings[k]);
    free(a.strings);
    return st;
}

dlc_status onnx_import_attr(const onnx_model_ctx *ctx, const onnx_scope *scope, dlc_node *node,
                            const Onnx__AttributeProto *ap) {
    char where[256];
    dlc_node_describe(node, where, sizeof where);
    if (ap->name == NULL || ap->name[0] == '\0')
        return dlc_fail(DLC_ERR_PARSE, "node %s has an attribute without a name", where);
    if (dlc_node_attr(node, ap->name) != NULL)
        return dlc_fail(DLC_ERR_PARSE, "node %s has attribute '%s' twice", where, ap->name);
    if (ap->n_ints > INT32_MAX || ap->n_floats > INT32_MAX || ap->n_strings > INT32_MAX)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: attribute '%s' has too many elements", where, ap->name);
    int type = attr_type_of(ap);
    switch (type) {
    case DLC_ATTR_FLOAT:
    case DLC_ATTR_INT:
    case DLC_ATTR_STRING:
    case DLC_ATTR_INTS:
    case DLC_ATTR_FLOATS:
    case DLC_ATTR_STRINGS: return import_plain_attr(node, ap, type, where);
    case DLC_ATTR_TENSOR: return import_tensor_attr(ctx, node, ap, where);
    case DLC_ATTR_GRAPH: return import_graph_attr(ctx, scope, node, ap, where);
    case ONNX_ATTR_TYPE_PROTO:
        if (ap->tp != NULL) return import_type_attr(scope, node, ap, where);
        /* fall through */
    case ONNX_ATTR_TENSORS:
    case ONNX_ATTR_GRAPHS:
    case ONNX_ATTR_SPARSE_TENSOR:
    case ONNX_ATTR_SPARSE_TENSORS:
    case ONNX_ATTR_TYPE_PROTOS: {
        static const char *const kinds[] = {"a list of tensors", "a list of graphs", "a sparse tensor",
                                            "a list of sparse tensors", "a type", "a list of types"};
        return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: attribute '%s' is %s, which dlc does not support", where,
                        ap->name, kinds[type - ONNX_ATTR_TENSORS]);
    }
    case 0: return dlc_fail(DLC_ERR_PARSE, "node %s: attribute '%s' has no type and no value", where, ap->name);
    default: return dlc_fail(DLC_ERR_PARSE, "node %s: attribute '%s' has unknown type %d", where, ap->name, type);
    }
}
