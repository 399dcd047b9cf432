/* ValueInfoProto types → dtype and shape with symbolic dims. */
#include <stdio.h>
#include <string.h>

#include "frontend/onnx_import_internal.h"
#include "runtime/status.h"

/* A fresh symbol for a dim the model leaves unnamed: such dims are unrelated
 * to every other dim, so each gets its own name. */
static dlc_status anonymous_symbol(dlc_graph *g, int32_t *out_sym) {
    char name[32];
    for (int32_t k = g->num_symbols;; k++) {
        snprintf(name, sizeof name, "unk__%d", k);
        int32_t fresh = g->num_symbols;
        DLC_TRY(dlc_graph_symbol(g, name, out_sym));
        if (*out_sym == fresh) return DLC_OK; /* not a name the model already uses */
    }
}

static const char *type_kind_name(Onnx__TypeProto__ValueCase c) {
    switch (c) {
    case ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE: return "a sequence";
    case ONNX__TYPE_PROTO__VALUE_MAP_TYPE: return "a map";
    case ONNX__TYPE_PROTO__VALUE_OPTIONAL_TYPE: return "an optional";
    case ONNX__TYPE_PROTO__VALUE_SPARSE_TENSOR_TYPE: return "a sparse tensor";
    default: return "of no known type";
    }
}

static dlc_status tensor_type(dlc_graph *g, const Onnx__TypeProto *type, const char *what, dlc_dtype *out_dtype,
                              dlc_shape *out_shape) {
    *out_dtype = DLC_DTYPE_UNDEFINED;
    memset(out_shape, 0, sizeof *out_shape);
    out_shape->rank = -1;
    if (type == NULL) return dlc_fail(DLC_ERR_PARSE, "%s has no type", what);
    if (type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || type->tensor_type == NULL)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "%s is %s; dlc supports tensors, sequences of tensors and optionals", what, type_kind_name(type->value_case));
    const Onnx__TypeProto__Tensor *tt = type->tensor_type;
    if (!tt->has_elem_type || tt->elem_type == DLC_DTYPE_UNDEFINED)
        return dlc_fail(DLC_ERR_PARSE, "%s has no element type", what);
    if (tt->elem_type == DLC_STRING) return dlc_fail(DLC_ERR_UNSUPPORTED, "%s: string tensors are not supported", what);
    if (dlc_dtype_size((dlc_dtype)tt->elem_type) == 0)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "%s: element type %d is not supported", what, (int)tt->elem_type);
    *out_dtype = (dlc_dtype)tt->elem_type;
    if (tt->shape == NULL) return DLC_OK; /* unknown rank */
    if (tt->shape->n_dim > DLC_MAX_RANK)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "%s: rank %zu is more than dlc supports (%d)", what, tt->shape->n_dim,
                        DLC_MAX_RANK);
    out_shape->rank = (int32_t)tt->shape->n_dim;
    for (size_t i = 0; i < tt->shape->n_dim; i++) {
        const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
        dlc_dim *dim = &out_shape->dims[i];
        /* Negative dim_value: some exporters write -1 for "unknown"; read it as an unnamed dim. */
        if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE && d->dim_value >= 0) {
            *dim = (dlc_dim){d->dim_value, 0};
        } else if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM && d->dim_param != NULL &&
                   d->dim_param[0] != '\0') {
            *dim = (dlc_dim){-1, 0};
            DLC_TRY(dlc_graph_symbol(g, d->dim_param, &dim->sym));
        } else {
            *dim = (dlc_dim){-1, 0};
            DLC_TRY(anonymous_symbol(g, &dim->sym));
        }
    }
    return DLC_OK;
}

dlc_status onnx_value_type(dlc_graph *g, const Onnx__TypeProto *type, const char *what, dlc_dtype *out_dtype,
                           dlc_shape *out_shape) {
    return tensor_type(g, type, what, out_dtype, out_shape);
}

/* The element type of a sequence or optional type proto; NULL if absent. */
static const Onnx__TypeProto *element_of(const Onnx__TypeProto *type) {
    if (type->value_case == ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE && type->sequence_type != NULL)
        return type->sequence_type->elem_type;
    if (type->value_case == ONNX__TYPE_PROTO__VALUE_OPTIONAL_TYPE && type->optional_type != NULL)
        return type->optional_type->elem_type;
    return NULL;
}

dlc_status onnx_value_full_type(dlc_graph *g, const Onnx__TypeProto *type, const char *what, onnx_full_type *out) {
    memset(out, 0, sizeof *out);
    out->shape.rank = -1;
    if (type == NULL) return dlc_fail(DLC_ERR_PARSE, "%s has no type", what);
    bool is_seq = type->value_case == ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE;
    bool is_opt = type->value_case == ONNX__TYPE_PROTO__VALUE_OPTIONAL_TYPE;
    if (!is_seq && !is_opt) return tensor_type(g, type, what, &out->dtype, &out->shape);
    out->type = is_seq ? DLC_TYPE_SEQUENCE : DLC_TYPE_OPTIONAL;
    out->elem_type = DLC_TYPE_TENSOR;
    const Onnx__TypeProto *elem = element_of(type);
    if (elem == NULL) return dlc_fail(DLC_ERR_PARSE, "%s is %s without an element type", what, type_kind_name(type->value_case));
    /* an optional may hold a sequence of tensors; deeper nesting is refused */
    if (is_opt && elem->value_case == ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE) {
        out->elem_type = DLC_TYPE_SEQUENCE;
        elem = element_of(elem);
        if (elem == NULL) return dlc_fail(DLC_ERR_PARSE, "%s is an optional sequence without an element type", what);
    }
    if (elem->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "%s is %s of %s; dlc supports sequences of tensors and optional tensors "
                        "or sequences", what, type_kind_name(type->value_case), type_kind_name(elem->value_case));
    return tensor_type(g, elem, what, &out->dtype, &out->shape);
}
