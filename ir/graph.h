/*
 * The dlc IR: a typed SSA graph.
 *
 * A graph owns its values and nodes. A value is defined once: by being a
 * graph input, a constant (initializer or folded result), or a node output.
 * Nodes are kept in topological order in graph->nodes (dlc_graph_toposort
 * restores it after rewrites). Shapes may hold symbolic dims.
 *
 * Ownership: every pointer reachable from a graph is freed by
 * dlc_graph_free(). Strings are copied in.
 */
#ifndef DLC_IR_GRAPH_H
#define DLC_IR_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dlc/dlc.h"

/* A dim is static (value >= 0) or symbolic (value < 0, sym = index into
 * graph->symbols). Unknown-rank tensors have rank < 0. */
typedef struct dlc_dim {
    int64_t value;
    int32_t sym;
} dlc_dim;

typedef struct dlc_shape {
    int32_t rank;
    dlc_dim dims[DLC_MAX_RANK];
} dlc_shape;

typedef enum dlc_value_kind {
    DLC_VALUE_INPUT,        /* graph input, data given at run time */
    DLC_VALUE_CONST,        /* data known at compile time (owned by the value) */
    DLC_VALUE_INTERMEDIATE, /* produced by a node */
} dlc_value_kind;

typedef struct dlc_node dlc_node;
typedef struct dlc_graph dlc_graph;

/* ONNX values that are not tensors. dlc knows a sequence's length and an
 * optional's presence at compile time: such a value is the list of its
 * elements (`elems`), which are ordinary tensor values (an optional may hold
 * a sequence). passes/sequence.c expands every op on them into tensor ops,
 * and graph inputs and outputs of these types are flattened into one tensor
 * per element, so neither codegen nor the artifact ever sees one. */
typedef enum dlc_value_type {
    DLC_TYPE_TENSOR = 0,
    DLC_TYPE_SEQUENCE = 1, /* of tensors */
    DLC_TYPE_OPTIONAL = 2, /* of a tensor or of a sequence of tensors */
} dlc_value_type;

typedef struct dlc_value {
    int32_t id;             /* index in graph->values; stable for the graph's life */
    char *name;
    dlc_value_kind kind;
    dlc_dtype dtype;
    dlc_shape shape;
    dlc_node *producer;     /* for INTERMEDIATE */
    int32_t producer_output;
    void *data;             /* for CONST: dense row-major bytes, 64-byte aligned; never
                             * written in place (dlc_value_set_const replaces it) */
    size_t nbytes;
    bool data_borrowed;     /* data belongs to another graph (dlc_graph_clone_sharing_data) */
    int32_t num_uses;       /* node inputs reading it (kept by dlc_graph_update_uses) */
    bool is_graph_output;
    /* Bit d set: shape.dims[d] is an upper bound, the actual extent is known
     * only when the producing kernel has run (NonZero, Compress, Unique,
     * NonMaxSuppression; set by their infer rules; passes/bounded_dims.c
     * decides which consumers may read such a value). */
    uint32_t bounded_dims;
    /* Sequences and optionals (dlc_value_type): dtype and shape describe the
     * innermost tensors (shape: a template that elements may refine). */
    dlc_value_type type;
    dlc_value_type elem_type; /* OPTIONAL: what it holds (TENSOR or SEQUENCE); SEQUENCE: TENSOR */
    int32_t num_elems;        /* -1 until known; an OPTIONAL holds 0 (absent) or 1 */
    struct dlc_value **elems; /* owned array of borrowed values of the same graph */
} dlc_value;

typedef enum dlc_attr_type {
    DLC_ATTR_UNDEFINED = 0,
    DLC_ATTR_FLOAT = 1,
    DLC_ATTR_INT = 2,
    DLC_ATTR_STRING = 3,
    DLC_ATTR_TENSOR = 4,
    DLC_ATTR_GRAPH = 5,
    DLC_ATTR_FLOATS = 6,
    DLC_ATTR_INTS = 7,
    DLC_ATTR_STRINGS = 8,
    DLC_ATTR_TYPE_PROTO = 13, /* ints = {dlc_value_type, elem dlc_value_type, innermost dtype} */
} dlc_attr_type; /* numbers follow ONNX AttributeProto.AttributeType */

typedef struct dlc_attr {
    char *name;
    dlc_attr_type type;
    int64_t i;
    double f;
    char *s;                 /* STRING (NUL-terminated copy; s_len bytes without the NUL) */
    size_t s_len;
    int64_t *ints;           /* INTS */
    double *floats;          /* FLOATS */
    char **strings;          /* STRINGS */
    int32_t count;           /* elements of INTS / FLOATS / STRINGS */
    dlc_value *tensor;       /* TENSOR: a detached CONST value owned by the attr */
    dlc_graph *graph;        /* GRAPH: a subgraph owned by the attr */
} dlc_attr;

typedef struct dlc_op_schema dlc_op_schema;

struct dlc_node {
    int32_t id;              /* unique within the graph */
    char *name;              /* ONNX node name (may be generated: "<OpType>_<id>") */
    char *op_type;
    char *domain;            /* "" for ai.onnx */
    int32_t opset;           /* opset version of the node's domain */
    const dlc_op_schema *schema;
    int32_t num_inputs;
    dlc_value **inputs;      /* NULL entries: omitted optional inputs */
    int32_t num_outputs;
    dlc_value **outputs;     /* NULL entries: omitted optional outputs */
    int32_t num_attrs;
    dlc_attr *attrs;
};

typedef struct dlc_opset_import {
    char *domain;
    int64_t version;
} dlc_opset_import;

struct dlc_graph {
    char *name;
    dlc_value **values;      /* by id; entries may be NULL after removal */
    int32_t num_values, cap_values;
    dlc_node **nodes;        /* topological order */
    int32_t num_nodes, cap_nodes;
    int32_t next_node_id;
    dlc_value **inputs;      /* graph inputs (INPUT values), in model order */
    int32_t num_inputs;
    dlc_value **outputs;     /* graph outputs, in model order */
    int32_t num_outputs;
    char **symbols;          /* names of symbolic dims */
    int32_t num_symbols;
    dlc_opset_import *opsets;
    int32_t num_opsets;
    char *source_path;       /* model file, for messages */
    /* Names of values whose producing nodes constant folding leaves in place
     * (codegen/dynamic.c: a result whose size depends on a symbolic dim is
     * computed at run time). */
    char **no_fold;
    int32_t num_no_fold;
};

/* ---- graphs ---- */
dlc_status dlc_graph_create(const char *name, dlc_graph **out_graph);

/* Heap copy of s (NULL stays NULL, and out of memory gives NULL). */
char *dlc_string_copy(const char *s);
/* 64-byte aligned copy of nbytes (data NULL: zeros), padded with zeros to a
 * multiple of 64 and never a zero-size allocation: the layout of constant
 * data (see dlc_value). NULL when out of memory. */
void *dlc_aligned_copy(const void *data, size_t nbytes);
void dlc_graph_free(dlc_graph *graph);
/* A deep copy (values with their data, nodes, attributes with subgraphs,
 * symbols, no_fold) sharing nothing with src; ids and node order are kept,
 * so a value or node of the copy has the id of its original (ir/graph_clone.c). */
dlc_status dlc_graph_clone(const dlc_graph *src, dlc_graph **out_graph);
/* The same, except that constants borrow src's data instead of copying it:
 * src must outlive the copy (codegen/dynamic.c samples a model's pipeline
 * many times without holding its weights once per sample). */
dlc_status dlc_graph_clone_sharing_data(const dlc_graph *src, dlc_graph **out_graph);

/* Adds name to g->no_fold (a copy). */
dlc_status dlc_graph_add_no_fold(dlc_graph *g, const char *name);
bool dlc_graph_is_no_fold(const dlc_graph *g, const char *name);

/* ---- values ---- */
dlc_status dlc_graph_add_value(dlc_graph *g, const char *name, dlc_value_kind kind, dlc_dtype dtype,
                               const dlc_shape *shape, dlc_value **out_value);
/* A CONST value taking a copy of data (nbytes must equal numel * dtype size). */
dlc_status dlc_graph_add_const(dlc_graph *g, const char *name, dlc_dtype dtype, const dlc_shape *shape,
                               const void *data, size_t nbytes, dlc_value **out_value);
/* A CONST value not registered in any graph (attribute tensors). */
dlc_status dlc_value_create_detached_const(const char *name, dlc_dtype dtype, const dlc_shape *shape,
                                           const void *data, size_t nbytes, dlc_value **out_value);
void dlc_value_free(dlc_value *value);
/* Makes value a sequence or optional holding elems[0..count) (copied array). */
dlc_status dlc_value_set_elems(dlc_value *value, dlc_value_type type, dlc_value_type elem_type, dlc_dtype dtype,
                               dlc_value *const *elems, int32_t count);
/* "'x' (a sequence)" style names of value types for messages. */
const char *dlc_value_type_name(dlc_value_type type);
/* Turns a value into a CONST holding a copy of data (used by constant folding). */
dlc_status dlc_value_set_const(dlc_value *value, const void *data, size_t nbytes);
dlc_value *dlc_graph_find_value(const dlc_graph *g, const char *name);
/* Interns a symbolic dim name and returns its index. */
dlc_status dlc_graph_symbol(dlc_graph *g, const char *name, int32_t *out_sym);

/* ---- nodes ---- */
dlc_status dlc_graph_add_node(dlc_graph *g, const char *name, const char *op_type, const char *domain,
                              int32_t opset, int32_t num_inputs, dlc_value *const *inputs,
                              int32_t num_outputs, dlc_value *const *outputs, dlc_node **out_node);
/* A deep copy of attr into dst (a subgraph is cloned); dst is cleared on failure. */
dlc_status dlc_attr_copy(dlc_attr *dst, const dlc_attr *src);
/* Appends a copy of attr (deep) to node. */
dlc_status dlc_node_add_attr(dlc_node *node, const dlc_attr *attr);
/* Removes the node (its outputs lose their producer). */
void dlc_graph_remove_node(dlc_graph *g, dlc_node *node);
/* Replaces every use of old_value (node inputs, graph outputs) by new_value. */
void dlc_graph_replace_uses(dlc_graph *g, dlc_value *old_value, dlc_value *new_value);
/* Recomputes num_uses and is_graph_output of every value. */
void dlc_graph_update_uses(dlc_graph *g);
/* Orders nodes topologically; fails (naming a node) on a cycle or on an
 * input that nothing defines. */
dlc_status dlc_graph_toposort(dlc_graph *g);
/* Removes nodes whose outputs are all unused and not graph outputs, and
 * unused CONST values. Returns how many nodes were removed. */
int dlc_graph_remove_dead(dlc_graph *g);
/* Checks structural invariants (SSA, order, dtype/shape set); for debug
 * builds after every pass and for tests. */
dlc_status dlc_graph_verify(const dlc_graph *g);

/* "'conv1' (Conv, opset 13)" into buf, for messages. */
const char *dlc_node_describe(const dlc_node *node, char *buf, size_t size);

/* ---- attributes ---- */
const dlc_attr *dlc_node_attr(const dlc_node *node, const char *name);
int64_t dlc_node_attr_int(const dlc_node *node, const char *name, int64_t fallback);
double dlc_node_attr_float(const dlc_node *node, const char *name, double fallback);
/* Returns fallback when absent. */
const char *dlc_node_attr_string(const dlc_node *node, const char *name, const char *fallback);
/* Sets *out_count and returns the array, or NULL with *out_count = 0 when absent. */
const int64_t *dlc_node_attr_ints(const dlc_node *node, const char *name, int32_t *out_count);
const double *dlc_node_attr_floats(const dlc_node *node, const char *name, int32_t *out_count);

/* float32, float64, float16 or bfloat16 */
static inline bool dlc_dtype_is_float(dlc_dtype t) {
    return t == DLC_FLOAT32 || t == DLC_FLOAT64 || t == DLC_FLOAT16 || t == DLC_BFLOAT16;
}

/* ---- shapes ---- */
static inline bool dlc_dim_is_static(dlc_dim d) { return d.value >= 0; }
dlc_shape dlc_shape_make(int32_t rank, const int64_t *dims);
bool dlc_shape_is_static(const dlc_shape *s);
/* Product of dims; -1 if symbolic/unknown, -2 on int64 overflow. */
int64_t dlc_shape_numel(const dlc_shape *s);
bool dlc_shape_equal(const dlc_shape *a, const dlc_shape *b);
/* "[1,3,batch,32]" into buf. */
const char *dlc_shape_format(const dlc_graph *g, const dlc_shape *s, char *buf, size_t size);
/* Multiplies with overflow detection; returns false on overflow or negative. */
bool dlc_mul_size(int64_t a, int64_t b, int64_t *out);

/* Value of a small integer CONST tensor (int32/int64) as int64; fails
 * unless value is CONST with at most max_count elements. */
dlc_status dlc_value_const_ints(const dlc_value *value, int64_t *out, int32_t max_count, int32_t *out_count);
/* First element of a CONST value converted to double (any numeric dtype). */
dlc_status dlc_value_const_scalar(const dlc_value *value, double *out);
/* Number of elements, -1 if not static. */
int64_t dlc_value_numel(const dlc_value *value);

#endif
