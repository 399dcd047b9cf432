/* Sequences and optionals expanded at compile time.
 *
 * dlc compiles static shapes, so a sequence's length and an optional's
 * presence are known at compile time, like a Loop's trip count: a sequence
 * value is the list of its element tensors (dlc_value.elems), an optional
 * holds zero or one value. dlc_infer_and_fold calls dlc_expand_sequence_node
 * when it reaches an op on such values, its inputs already known:
 * - SequenceEmpty/Construct/Insert/Erase, Optional, OptionalGetElement and
 *   Identity only rewire: their output is a new list of existing values;
 * - SequenceAt picks an element; SequenceLength and OptionalHasElement are
 *   constants;
 * - ConcatFromSequence becomes Concat (after Unsqueeze with new_axis=1);
 *   SplitToSequence becomes one Slice (or, without split and keepdims=0,
 *   Gather) per element;
 * - SequenceMap inlines its body once per element (dlc_inline_node_graph).
 * Positions and splits must be constants (graph inputs are bound at compile
 * time, see const_inputs in ir/ops/sequence.c). Tensor results are written
 * into the node's former output values by Identity nodes, which identity
 * elimination removes later, so names and graph outputs keep their values. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/op_registry.h"
#include "ir/subgraph.h"
#include "passes/pipeline.h"
#include "runtime/status.h"

/* Opset of the helper nodes: Unsqueeze, Slice take their axes as inputs. */
#define HELPER_OPSET 13

static const char *const sequence_ops[] = {
    "SequenceEmpty",  "SequenceConstruct", "SequenceInsert", "SequenceAt",         "SequenceErase",
    "SequenceLength", "ConcatFromSequence", "SplitToSequence", "SequenceMap",      "Optional",
    "OptionalHasElement", "OptionalGetElement",
};

bool dlc_is_sequence_node(const dlc_node *node) {
    if (node->domain[0] != '\0') return false;
    for (size_t i = 0; i < sizeof sequence_ops / sizeof sequence_ops[0]; i++)
        if (strcmp(node->op_type, sequence_ops[i]) == 0) return true;
    /* any other op reading a sequence: Identity passes it on, others are refused by name */
    for (int32_t i = 0; i < node->num_inputs; i++)
        if (node->inputs[i] != NULL && node->inputs[i]->type != DLC_TYPE_TENSOR) return true;
    return false;
}

typedef struct seq_expansion {
    dlc_graph *g;
    dlc_node *node;
    char where[256];
    int32_t helpers; /* names helper values uniquely */
} seq_expansion;

/* ---- values ---- */

/* A new value of g holding elems: the result of a rewiring op. */
static dlc_status new_list(seq_expansion *x, dlc_value_type type, dlc_value_type elem_type, dlc_dtype dtype,
                           dlc_value *const *elems, int32_t count, dlc_value **out) {
    char name[512];
    snprintf(name, sizeof name, "%s/list%d", x->node->name, (int)x->helpers++);
    DLC_TRY(dlc_graph_add_value(x->g, name, DLC_VALUE_INTERMEDIATE, dtype, NULL, out));
    return dlc_value_set_elems(*out, type, elem_type, dtype, elems, count);
}

static dlc_status int64_const(seq_expansion *x, int32_t rank, const int64_t *values, int64_t count, dlc_value **out) {
    char name[512];
    snprintf(name, sizeof name, "%s/const%d", x->node->name, (int)x->helpers++);
    dlc_shape shape = dlc_shape_make(rank, &count);
    return dlc_graph_add_const(x->g, name, DLC_INT64, &shape, values, (size_t)count * sizeof *values, out);
}

/* op(inputs) with an optional INT attribute → one new value, settled. */
static dlc_status helper(seq_expansion *x, const char *op_type, int32_t num_inputs, dlc_value *const *inputs,
                         const char *attr_name, int64_t attr_value, dlc_value **out) {
    char name[512];
    snprintf(name, sizeof name, "%s/%s%d", x->node->name, op_type, (int)x->helpers++);
    return dlc_add_settled_node(x->g, name, op_type, num_inputs, inputs, attr_name, attr_value, out);
}

/* ---- inputs ---- */

/* Input i as a sequence with known elements. */
static dlc_status sequence_input(const seq_expansion *x, int32_t i, dlc_value **out) {
    dlc_value *v = i < x->node->num_inputs ? x->node->inputs[i] : NULL;
    if (v == NULL) return dlc_fail(DLC_ERR_PARSE, "node %s: input %d (a sequence) is missing", x->where, (int)i);
    if (v->type != DLC_TYPE_SEQUENCE)
        return dlc_fail(DLC_ERR_PARSE, "node %s: input '%s' is %s; %s takes a sequence", x->where, v->name,
                        dlc_value_type_name(v->type), x->node->op_type);
    if (v->num_elems < 0)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: the length of sequence '%s' is not known at compile time",
                        x->where, v->name);
    *out = v;
    return DLC_OK;
}

static dlc_status tensor_input(const seq_expansion *x, int32_t i, dlc_value **out) {
    dlc_value *v = i < x->node->num_inputs ? x->node->inputs[i] : NULL;
    if (v == NULL) return dlc_fail(DLC_ERR_PARSE, "node %s: input %d (a tensor) is missing", x->where, (int)i);
    if (v->type != DLC_TYPE_TENSOR)
        return dlc_fail(DLC_ERR_PARSE, "node %s: input '%s' is %s; a tensor was expected", x->where, v->name,
                        dlc_value_type_name(v->type));
    *out = v;
    return DLC_OK;
}

/* A position input (a CONST scalar or one-element tensor), normalized
 * against length: -length <= p < length + extra (extra 1 for inserting). */
static dlc_status position_input(const seq_expansion *x, int32_t i, int32_t length, int32_t extra, int32_t *out) {
    const dlc_value *v = x->node->inputs[i];
    if (v->kind != DLC_VALUE_CONST)
        return dlc_fail(DLC_ERR_UNSUPPORTED,
                        "node %s: position '%s' is computed at run time; dlc expands sequences at compile time, so it "
                        "must be a constant (a graph input can be fixed with --bind)",
                        x->where, v->name);
    int64_t p;
    int32_t count;
    if (dlc_value_const_ints(v, &p, 1, &count) != DLC_OK || count != 1 || v->shape.rank > 1)
        return dlc_fail(DLC_ERR_PARSE, "node %s: position '%s' must be one int32 or int64 value", x->where, v->name);
    if (p < -(int64_t)length || p >= (int64_t)length + extra)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: position %lld is out of range for a sequence of length %d",
                        x->where, (long long)p, (int)length);
    *out = (int32_t)(p < 0 ? p + length : p);
    return DLC_OK;
}

/* ---- the ops ---- */

static dlc_status expand_empty(seq_expansion *x, dlc_value **result) {
    dlc_dtype dtype = (dlc_dtype)dlc_node_attr_int(x->node, "dtype", DLC_FLOAT32);
    if (dlc_dtype_size(dtype) == 0)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: dtype %d is not supported", x->where, (int)dtype);
    return new_list(x, DLC_TYPE_SEQUENCE, DLC_TYPE_TENSOR, dtype, NULL, 0, result);
}

static dlc_status expand_construct(seq_expansion *x, dlc_value **result) {
    dlc_value **elems = calloc((size_t)x->node->num_inputs + 1, sizeof *elems);
    if (elems == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "out of memory");
    dlc_status st = DLC_OK;
    for (int32_t i = 0; i < x->node->num_inputs && st == DLC_OK; i++) {
        st = tensor_input(x, i, &elems[i]);
        if (st == DLC_OK && elems[i]->dtype != elems[0]->dtype)
            st = dlc_fail(DLC_ERR_DTYPE_MISMATCH, "node %s: input '%s' is %s, input '%s' %s; a sequence holds one dtype",
                          x->where, elems[0]->name, dlc_dtype_name(elems[0]->dtype), elems[i]->name,
                          dlc_dtype_name(elems[i]->dtype));
    }
    if (st == DLC_OK)
        st = new_list(x, DLC_TYPE_SEQUENCE, DLC_TYPE_TENSOR, elems[0]->dtype, elems, x->node->num_inputs, result);
    free(elems);
    return st;
}

static dlc_status expand_insert(seq_expansion *x, dlc_value **result) {
    dlc_value *seq, *t;
    DLC_TRY(sequence_input(x, 0, &seq));
    DLC_TRY(tensor_input(x, 1, &t));
    int32_t n = seq->num_elems, p = n;
    if (x->node->num_inputs > 2 && x->node->inputs[2] != NULL) DLC_TRY(position_input(x, 2, n, 1, &p));
    if (t->dtype != seq->dtype)
        return dlc_fail(DLC_ERR_DTYPE_MISMATCH, "node %s: inserting %s '%s' into a sequence of %s", x->where,
                        dlc_dtype_name(t->dtype), t->name, dlc_dtype_name(seq->dtype));
    dlc_value **elems = calloc((size_t)n + 2, sizeof *elems);
    if (elems == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "out of memory");
    for (int32_t i = 0, k = 0; i <= n; i++) elems[i] = i == p ? t : seq->elems[k++];
    dlc_status st = new_list(x, DLC_TYPE_SEQUENCE, DLC_TYPE_TENSOR, seq->dtype, elems, n + 1, result);
    free(elems);
    return st;
}

static dlc_status expand_erase(seq_expansion *x, dlc_value **result) {
    dlc_value *seq;
    DLC_TRY(sequence_input(x, 0, &seq));
    int32_t n = seq->num_elems, p = n - 1;
    if (n == 0) return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: sequence '%s' is empty", x->where, seq->name);
    if (x->node->num_inputs > 1 && x->node->inputs[1] != NULL) DLC_TRY(position_input(x, 1, n, 0, &p));
    dlc_value **elems = calloc((size_t)n + 1, sizeof *elems);
    if (elems == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "out of memory");
    for (int32_t i = 0, k = 0; i < n; i++)
        if (i != p) elems[k++] = seq->elems[i];
    dlc_status st = new_list(x, DLC_TYPE_SEQUENCE, DLC_TYPE_TENSOR, seq->dtype, elems, n - 1, result);
    free(elems);
    return st;
}

static dlc_status expand_at(seq_expansion *x, dlc_value **result) {
    dlc_value *seq;
    DLC_TRY(sequence_input(x, 0, &seq));
    int32_t p;
    DLC_TRY(position_input(x, 1, seq->num_elems, 0, &p));
    *result = seq->elems[p];
    return DLC_OK;
}

static dlc_status expand_length(seq_expansion *x, dlc_value **result) {
    dlc_value *seq;
    DLC_TRY(sequence_input(x, 0, &seq));
    int64_t n = seq->num_elems;
    return int64_const(x, 0, &n, 1, result);
}

static dlc_status expand_concat(seq_expansion *x, dlc_value **result) {
    dlc_value *seq;
    DLC_TRY(sequence_input(x, 0, &seq));
    const dlc_attr *axis_attr = dlc_node_attr(x->node, "axis");
    if (axis_attr == NULL || axis_attr->type != DLC_ATTR_INT)
        return dlc_fail(DLC_ERR_PARSE, "node %s: attribute axis is required", x->where);
    int64_t axis = axis_attr->i, new_axis = dlc_node_attr_int(x->node, "new_axis", 0);
    int32_t n = seq->num_elems;
    if (n == 0)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: sequence '%s' is empty, so the result has no shape", x->where,
                        seq->name);
    if (new_axis == 0) return helper(x, "Concat", n, seq->elems, "axis", axis, result);
    /* new_axis: the elements are stacked along a new axis, which may be the last */
    int32_t rank = seq->elems[0]->shape.rank;
    if (rank < 0) return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: element '%s' has an unknown rank", x->where, seq->elems[0]->name);
    if (axis < -(int64_t)rank - 1 || axis > rank)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: axis %lld is out of range for a new axis on rank %d",
                        x->where, (long long)axis, (int)rank);
    if (axis < 0) axis += rank + 1;
    dlc_value *axes;
    DLC_TRY(int64_const(x, 1, &axis, 1, &axes));
    dlc_value **parts = calloc((size_t)n + 1, sizeof *parts);
    if (parts == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "out of memory");
    dlc_status st = DLC_OK;
    for (int32_t i = 0; i < n && st == DLC_OK; i++) {
        dlc_value *in[2] = {seq->elems[i], axes};
        st = helper(x, "Unsqueeze", 2, in, NULL, 0, &parts[i]);
    }
    if (st == DLC_OK) st = helper(x, "Concat", n, parts, "axis", axis, result);
    free(parts);
    return st;
}

/* One part of SplitToSequence: [start, start+length) along axis, the axis
 * dropped when squeeze (then length is 1). */
static dlc_status split_part(seq_expansion *x, dlc_value *input, int64_t axis, int64_t start, int64_t length,
                             bool squeeze, dlc_value **out) {
    dlc_value *index;
    if (squeeze) {
        DLC_TRY(int64_const(x, 0, &start, 1, &index));
        dlc_value *in[2] = {input, index};
        return helper(x, "Gather", 2, in, "axis", axis, out);
    }
    int64_t end = start + length;
    dlc_value *starts, *ends, *axes;
    DLC_TRY(int64_const(x, 1, &start, 1, &starts));
    DLC_TRY(int64_const(x, 1, &end, 1, &ends));
    DLC_TRY(int64_const(x, 1, &axis, 1, &axes));
    dlc_value *in[4] = {input, starts, ends, axes};
    return helper(x, "Slice", 4, in, NULL, 0, out);
}

static dlc_status expand_split(seq_expansion *x, dlc_value **result) {
    dlc_value *input;
    DLC_TRY(tensor_input(x, 0, &input));
    int32_t axis;
    if (input->shape.rank < 1)
        return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: input '%s' needs a rank of at least 1", x->where, input->name);
    DLC_TRY(dlc_normalize_axis(x->node, dlc_node_attr_int(x->node, "axis", 0), input->shape.rank, &axis));
    dlc_dim dim = input->shape.dims[axis];
    if (!dlc_dim_is_static(dim))
        return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: input '%s' has a symbolic size along axis %d", x->where,
                        input->name, (int)axis);
    int64_t size = dim.value;
    bool keepdims = dlc_node_attr_int(x->node, "keepdims", 1) != 0;
    const dlc_value *split = x->node->num_inputs > 1 ? x->node->inputs[1] : NULL;
    int64_t *lengths = NULL;
    int64_t count = 0;
    bool squeeze = false;
    if (split == NULL) { /* one element per index, the axis dropped unless keepdims */
        count = size;
        squeeze = !keepdims;
        lengths = calloc((size_t)count + 1, sizeof *lengths);
        for (int64_t i = 0; lengths != NULL && i < count; i++) lengths[i] = 1;
    } else {
        if (split->kind != DLC_VALUE_CONST)
            return dlc_fail(DLC_ERR_UNSUPPORTED,
                            "node %s: split '%s' is computed at run time; it decides the sequence's length, so it "
                            "must be a constant (a graph input can be fixed with --bind)",
                            x->where, split->name);
        int64_t n = dlc_value_numel(split);
        if (n < 0 || split->shape.rank > 1 || (split->dtype != DLC_INT64 && split->dtype != DLC_INT32))
            return dlc_fail(DLC_ERR_PARSE, "node %s: split '%s' must be an int32 or int64 scalar or 1-D tensor",
                            x->where, split->name);
        int64_t *values = calloc((size_t)n + 1, sizeof *values);
        int32_t got = 0;
        if (values == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "out of memory");
        dlc_status st = n > INT32_MAX ? DLC_ERR_UNSUPPORTED : dlc_value_const_ints(split, values, (int32_t)n, &got);
        if (st != DLC_OK) {
            free(values);
            return dlc_fail(DLC_ERR_PARSE, "node %s: cannot read split '%s'", x->where, split->name);
        }
        if (split->shape.rank == 0) { /* chunks of that size, the last one shorter */
            int64_t chunk = values[0];
            free(values);
            if (chunk <= 0)
                return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: split %lld must be positive", x->where, (long long)chunk);
            count = (size + chunk - 1) / chunk;
            lengths = calloc((size_t)count + 1, sizeof *lengths);
            for (int64_t i = 0; lengths != NULL && i < count; i++) lengths[i] = i + 1 < count ? chunk : size - chunk * i;
        } else {
            int64_t total = 0;
            for (int64_t i = 0; i < n; i++) {
                if (values[i] < 0) {
                    free(values);
                    return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: split[%lld] is negative", x->where, (long long)i);
                }
                total += values[i];
            }
            if (total != size) {
                free(values);
                return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: split sums to %lld, the axis has size %lld", x->where,
                                (long long)total, (long long)size);
            }
            count = n;
            lengths = values;
        }
    }
    if (lengths == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "out of memory");
    dlc_value **elems = calloc((size_t)count + 1, sizeof *elems);
    dlc_status st = elems != NULL ? DLC_OK : dlc_fail(DLC_ERR_OUT_OF_MEMORY, "out of memory");
    int64_t start = 0;
    for (int64_t i = 0; i < count && st == DLC_OK; i++) {
        st = split_part(x, input, axis, start, lengths[i], squeeze, &elems[i]);
        start += lengths[i];
    }
    if (st == DLC_OK) st = new_list(x, DLC_TYPE_SEQUENCE, DLC_TYPE_TENSOR, input->dtype, elems, (int32_t)count, result);
    free(elems);
    free(lengths);
    return st;
}

/* SequenceMap: the body once per element; sequence inputs give their i-th
 * element, tensor inputs themselves. results[o] are sequences. */
static dlc_status expand_map(seq_expansion *x, dlc_value **results) {
    const dlc_node *node = x->node;
    const dlc_attr *body_attr = dlc_node_attr(node, "body");
    if (body_attr == NULL || body_attr->graph == NULL)
        return dlc_fail(DLC_ERR_PARSE, "node %s: has no graph attribute 'body'", x->where);
    const dlc_graph *body = body_attr->graph;
    int32_t explicit = dlc_node_num_explicit_inputs(node);
    if (body->num_outputs != node->num_outputs)
        return dlc_fail(DLC_ERR_PARSE, "node %s: the body has %d outputs, the node %d", x->where, body->num_outputs,
                        node->num_outputs);
    dlc_value *first;
    DLC_TRY(sequence_input(x, 0, &first));
    int32_t n = first->num_elems, m = node->num_outputs;
    for (int32_t k = 1; k < explicit; k++) {
        const dlc_value *v = node->inputs[k];
        if (v == NULL) return dlc_fail(DLC_ERR_PARSE, "node %s: input %d is missing", x->where, (int)k);
        if (v->type == DLC_TYPE_OPTIONAL)
            return dlc_fail(DLC_ERR_PARSE, "node %s: input '%s' is an optional", x->where, v->name);
        if (v->type == DLC_TYPE_SEQUENCE && v->num_elems != n)
            return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: sequence '%s' has %d elements, '%s' %d", x->where,
                            v->name, (int)v->num_elems, first->name, (int)n);
    }
    dlc_value **formal = calloc((size_t)explicit + 1, sizeof *formal);
    dlc_value **step = calloc((size_t)m + 1, sizeof *step);
    dlc_value **collected = calloc((size_t)m * (size_t)n + 1, sizeof *collected);
    dlc_status st = formal && step && collected ? DLC_OK : dlc_fail(DLC_ERR_OUT_OF_MEMORY, "out of memory");
    char prefix[512];
    for (int32_t i = 0; i < n && st == DLC_OK; i++) {
        for (int32_t k = 0; k < explicit; k++) {
            dlc_value *v = node->inputs[k];
            formal[k] = v->type == DLC_TYPE_SEQUENCE ? v->elems[i] : v;
        }
        snprintf(prefix, sizeof prefix, "%s/element%d", node->name, (int)i);
        st = dlc_inline_node_graph(x->g, node, "body", formal, prefix, step);
        for (int32_t o = 0; o < m && st == DLC_OK; o++) {
            if (step[o]->type != DLC_TYPE_TENSOR)
                st = dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: body output '%s' is %s; dlc maps to sequences of tensors",
                              x->where, body->outputs[o]->name, dlc_value_type_name(step[o]->type));
            else collected[(size_t)o * (size_t)n + (size_t)i] = step[o];
        }
    }
    for (int32_t o = 0; o < m && st == DLC_OK; o++) {
        dlc_dtype dtype = n > 0 ? collected[(size_t)o * (size_t)n]->dtype : body->outputs[o]->dtype;
        st = new_list(x, DLC_TYPE_SEQUENCE, DLC_TYPE_TENSOR, dtype, &collected[(size_t)o * (size_t)n], n, &results[o]);
    }
    free(formal);
    free(step);
    free(collected);
    return st;
}

static dlc_status expand_optional(seq_expansion *x, dlc_value **result) {
    dlc_value *v = x->node->num_inputs > 0 ? x->node->inputs[0] : NULL;
    if (v != NULL) {
        if (v->type == DLC_TYPE_OPTIONAL)
            return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: '%s' is an optional; dlc does not nest optionals", x->where,
                            v->name);
        return new_list(x, DLC_TYPE_OPTIONAL, v->type, v->dtype, &v, 1, result);
    }
    const dlc_attr *type = dlc_node_attr(x->node, "type");
    if (type == NULL || type->type != DLC_ATTR_TYPE_PROTO || type->count != 3)
        return dlc_fail(DLC_ERR_PARSE, "node %s: an Optional without input needs attribute 'type'", x->where);
    if (type->ints[0] == DLC_TYPE_OPTIONAL)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: dlc does not nest optionals", x->where);
    return new_list(x, DLC_TYPE_OPTIONAL, (dlc_value_type)type->ints[0], (dlc_dtype)type->ints[2], NULL, 0, result);
}

/* A value that is not an optional counts as present (opset 18 allows
 * tensors and sequences here); no input at all is absent. */
static dlc_status expand_has_element(seq_expansion *x, dlc_value **result) {
    const dlc_value *v = x->node->num_inputs > 0 ? x->node->inputs[0] : NULL;
    uint8_t present = v != NULL && (v->type != DLC_TYPE_OPTIONAL || v->num_elems > 0);
    if (v != NULL && v->type == DLC_TYPE_OPTIONAL && v->num_elems < 0)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: whether '%s' holds a value is not known at compile time",
                        x->where, v->name);
    char name[512];
    snprintf(name, sizeof name, "%s/present", x->node->name);
    dlc_shape scalar = {.rank = 0};
    return dlc_graph_add_const(x->g, name, DLC_BOOL, &scalar, &present, 1, result);
}

static dlc_status expand_get_element(seq_expansion *x, dlc_value **result) {
    dlc_value *v = x->node->inputs[0];
    if (v == NULL) return dlc_fail(DLC_ERR_PARSE, "node %s: has no input", x->where);
    if (v->type != DLC_TYPE_OPTIONAL) { /* opset 18: a tensor or sequence is passed on */
        *result = v;
        return DLC_OK;
    }
    if (v->num_elems != 1)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: optional '%s' holds no value", x->where, v->name);
    *result = v->elems[0];
    return DLC_OK;
}

/* ---- entry points ---- */

static dlc_status expand(seq_expansion *x, dlc_value **results) {
    const char *op = x->node->op_type;
    if (strcmp(op, "SequenceMap") == 0) return expand_map(x, results);
    if (x->node->num_outputs != 1)
        return dlc_fail(DLC_ERR_PARSE, "node %s: %s has one output, the node %d", x->where, op, x->node->num_outputs);
    if (strcmp(op, "SequenceEmpty") == 0) return expand_empty(x, results);
    if (strcmp(op, "SequenceConstruct") == 0) return expand_construct(x, results);
    if (strcmp(op, "SequenceInsert") == 0) return expand_insert(x, results);
    if (strcmp(op, "SequenceErase") == 0) return expand_erase(x, results);
    if (strcmp(op, "SequenceAt") == 0) return expand_at(x, results);
    if (strcmp(op, "SequenceLength") == 0) return expand_length(x, results);
    if (strcmp(op, "ConcatFromSequence") == 0) return expand_concat(x, results);
    if (strcmp(op, "SplitToSequence") == 0) return expand_split(x, results);
    if (strcmp(op, "Optional") == 0) return expand_optional(x, results);
    if (strcmp(op, "OptionalHasElement") == 0) return expand_has_element(x, results);
    if (strcmp(op, "OptionalGetElement") == 0) return expand_get_element(x, results);
    if (strcmp(op, "Identity") == 0 && x->node->num_inputs == 1 && x->node->inputs[0] != NULL) {
        results[0] = x->node->inputs[0];
        return DLC_OK;
    }
    for (int32_t i = 0; i < x->node->num_inputs; i++) {
        const dlc_value *v = x->node->inputs[i];
        if (v != NULL && v->type != DLC_TYPE_TENSOR)
            return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: input '%s' is %s; %s takes tensors", x->where, v->name,
                            dlc_value_type_name(v->type), op);
    }
    return dlc_fail(DLC_ERR_INTERNAL, "node %s: not an op on sequences", x->where);
}

dlc_status dlc_expand_sequence_node(dlc_graph *g, dlc_node *node, bool *out_expanded) {
    *out_expanded = false;
    if (!dlc_is_sequence_node(node)) return DLC_OK;
    seq_expansion x = {.g = g, .node = node};
    dlc_node_describe(node, x.where, sizeof x.where);
    for (int32_t i = 0; i < node->num_inputs; i++)
        if (node->inputs[i] != NULL && node->inputs[i]->dtype == DLC_DTYPE_UNDEFINED && node->inputs[i]->num_elems < 0)
            return dlc_fail(DLC_ERR_INTERNAL, "node %s: input '%s' has not been inferred", x.where,
                            node->inputs[i]->name);
    int32_t num_outputs = node->num_outputs;
    dlc_value **results = calloc((size_t)num_outputs + 1, sizeof *results);
    dlc_value **targets = calloc((size_t)num_outputs + 1, sizeof *targets);
    char *name = strdup(node->name);
    dlc_status st = results && targets && name ? DLC_OK : dlc_fail(DLC_ERR_OUT_OF_MEMORY, "out of memory");
    if (st == DLC_OK) st = expand(&x, results);
    if (st == DLC_OK) {
        memcpy(targets, node->outputs, (size_t)num_outputs * sizeof *targets);
        dlc_graph_remove_node(g, node);
        for (int32_t o = 0; o < num_outputs && st == DLC_OK; o++) {
            dlc_value *r = results[o], *t = targets[o];
            if (t == NULL || r == NULL) continue;
            if (r->type == DLC_TYPE_TENSOR) {
                st = dlc_write_identity(g, name, o, r, t);
            } else { /* the output value becomes the list (its readers, graph outputs see it) */
                st = dlc_value_set_elems(t, r->type, r->elem_type, r->dtype, r->elems, r->num_elems);
                t->shape = r->shape;
            }
        }
        if (st == DLC_OK) *out_expanded = true;
    }
    free(name);
    free(targets);
    free(results);
    if (st == DLC_OK) dlc_graph_update_uses(g);
    return st;
}

/* ---- graph outputs ---- */

/* Appends Identity(elem) → a new value called name to outs. */
static dlc_status add_flat_output(dlc_graph *g, dlc_value *elem, const char *name, dlc_value **outs, int32_t *count) {
    if (elem->type != DLC_TYPE_TENSOR)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "graph output '%s' holds %s; dlc flattens one level", name,
                        dlc_value_type_name(elem->type));
    dlc_value *v;
    DLC_TRY(dlc_graph_add_value(g, name, DLC_VALUE_INTERMEDIATE, DLC_DTYPE_UNDEFINED, NULL, &v));
    char node_name[600];
    snprintf(node_name, sizeof node_name, "%s/flatten", name);
    dlc_node *n;
    DLC_TRY(dlc_graph_add_node(g, node_name, "Identity", "", HELPER_OPSET, 1, &elem, 1, &v, &n));
    DLC_TRY(dlc_node_bind_schema(n));
    DLC_TRY(dlc_settle_node(g, n));
    outs[(*count)++] = v;
    return DLC_OK;
}

/* Tensors a sequence or optional flattens into (counts elements). */
static int32_t flat_count(const dlc_value *v) {
    if (v->type == DLC_TYPE_TENSOR) return 1;
    int32_t n = 0;
    for (int32_t i = 0; i < v->num_elems; i++) n += flat_count(v->elems[i]);
    return n;
}

dlc_status dlc_flatten_sequence_outputs(dlc_graph *g) {
    int32_t total = 0;
    bool any = false;
    for (int32_t i = 0; i < g->num_outputs; i++) {
        const dlc_value *v = g->outputs[i];
        if (v->type == DLC_TYPE_TENSOR) {
            total++;
            continue;
        }
        any = true;
        if (v->num_elems < 0)
            return dlc_fail(DLC_ERR_UNSUPPORTED, "graph output '%s' is %s whose elements are not known at compile time",
                            v->name, dlc_value_type_name(v->type));
        total += flat_count(v);
    }
    if (!any) return DLC_OK;
    dlc_value **outs = calloc((size_t)total + 1, sizeof *outs);
    if (outs == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "out of memory");
    int32_t count = 0;
    dlc_status st = DLC_OK;
    char name[512];
    for (int32_t i = 0; i < g->num_outputs && st == DLC_OK; i++) {
        dlc_value *v = g->outputs[i];
        if (v->type == DLC_TYPE_TENSOR) {
            outs[count++] = v;
            continue;
        }
        dlc_value *seq = v;
        if (v->type == DLC_TYPE_OPTIONAL) {
            if (v->num_elems == 0) continue; /* absent: no tensor */
            seq = v->elems[0];
            if (seq->type == DLC_TYPE_TENSOR) {
                st = add_flat_output(g, seq, v->name, outs, &count);
                continue;
            }
        }
        for (int32_t k = 0; k < seq->num_elems && st == DLC_OK; k++) {
            snprintf(name, sizeof name, "%s[%d]", v->name, (int)k);
            st = add_flat_output(g, seq->elems[k], name, outs, &count);
        }
    }
    if (st != DLC_OK) {
        free(outs);
        return st;
    }
    free(g->outputs);
    g->outputs = outs;
    g->num_outputs = count;
    dlc_graph_update_uses(g);
    return DLC_OK;
}
