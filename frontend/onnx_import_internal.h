/* Shared between the ONNX importer's files (graphs, attributes, types). */
#ifndef DLC_FRONTEND_ONNX_IMPORT_INTERNAL_H
#define DLC_FRONTEND_ONNX_IMPORT_INTERNAL_H

#include "frontend/name_table.h"
#include "ir/graph.h"
#include "onnx/onnx.pb-c.h"

/* Subgraphs (If/Loop/Scan bodies) nest at most this deep. */
#define DLC_ONNX_MAX_GRAPH_DEPTH 16

/* What holds for the whole model. */
typedef struct onnx_model_ctx {
    const char *base_dir;           /* external data folder, NULL: refused */
    const dlc_opset_import *opsets; /* normalized: "" for ai.onnx */
    int32_t num_opsets;
} onnx_model_ctx;

/* One graph being imported, and the graphs around it (for outer-scope names). */
typedef struct onnx_scope {
    dlc_graph *graph;
    dlc_name_table names;
    const struct onnx_scope *outer;
    int depth; /* 0 for the main graph */
} onnx_scope;

/* Imports gp as a new graph; subgraphs see outer's names. */
dlc_status onnx_import_graph(const onnx_model_ctx *ctx, const Onnx__GraphProto *gp, const onnx_scope *outer, int depth,
                             dlc_graph **out_graph);

/* Converts ap and appends it to node (GRAPH attributes are imported as
 * subgraphs of scope). */
dlc_status onnx_import_attr(const onnx_model_ctx *ctx, const onnx_scope *scope, dlc_node *node,
                            const Onnx__AttributeProto *ap);

/* dtype and shape of a ValueInfo's tensor type; symbolic dims are interned
 * in g. what names the value in messages ("graph input 'x'"). */
dlc_status onnx_value_type(dlc_graph *g, const Onnx__TypeProto *type, const char *what, dlc_dtype *out_dtype,
                           dlc_shape *out_shape);

/* A ValueInfo's type, tensor or not: a sequence of tensors, an optional
 * tensor or an optional sequence of tensors; dtype and shape describe the
 * innermost tensors. */
typedef struct onnx_full_type {
    dlc_value_type type, elem_type;
    dlc_dtype dtype;
    dlc_shape shape;
} onnx_full_type;
dlc_status onnx_value_full_type(dlc_graph *g, const Onnx__TypeProto *type, const char *what, onnx_full_type *out);

#endif
