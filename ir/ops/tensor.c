/* Shape and data-movement ops: schema, shape/dtype rules, lowering to the
 * kernels in kernels/tensor.c (parameter layouts are listed there).
 *
 * Constant, Identity, Dropout, Reshape, Flatten, Squeeze, Unsqueeze, Shape,
 * Size, ConstantOfShape, Range, Expand, Tile, Transpose, Concat, Split.
 * Reshape-like ops lower to "copy": the bytes do not change. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ir/ops/tensor_util.h"
#include "runtime/status.h"

#define WHERE(node) dlc_node_describe((node), where, sizeof where)

static dlc_status lower_copy(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    dlc_kcall_init(call, "copy");
    return DLC_OK;
}

static int64_t no_flops(const dlc_node *node) { return 0; }

/* ---- Constant ------------------------------------------------------------------ */

static dlc_status constant_infer(dlc_graph *g, dlc_node *node) {
    char where[256];
    dlc_value *y = node->outputs[0];
    if (node->num_attrs != 1)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: Constant needs exactly one value attribute, has %d",
                        WHERE(node), node->num_attrs);
    const dlc_attr *a = &node->attrs[0];
    if (strcmp(a->name, "value") == 0 && a->type == DLC_ATTR_TENSOR && a->tensor != NULL) {
        const dlc_value *t = a->tensor;
        if (t->dtype == DLC_STRING || dlc_dtype_size(t->dtype) == 0)
            return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: constant of type %s is not supported", WHERE(node),
                            dlc_dtype_name(t->dtype));
        y->dtype = t->dtype;
        y->shape = t->shape;
        return dlc_value_set_const(y, t->data, t->nbytes);
    }
    if (strcmp(a->name, "value_float") == 0 || strcmp(a->name, "value_int") == 0) {
        bool is_float = a->name[6] == 'f';
        y->shape = (dlc_shape){.rank = 0};
        y->dtype = is_float ? DLC_FLOAT32 : DLC_INT64;
        float f = (float)(a->type == DLC_ATTR_FLOAT ? a->f : (double)a->i);
        int64_t i = a->type == DLC_ATTR_INT ? a->i : (int64_t)a->f;
        return is_float ? dlc_value_set_const(y, &f, sizeof f) : dlc_value_set_const(y, &i, sizeof i);
    }
    if (strcmp(a->name, "value_ints") == 0 && (a->type == DLC_ATTR_INTS || a->count == 0)) {
        y->dtype = DLC_INT64;
        y->shape = (dlc_shape){.rank = 1, .dims = {{a->count, 0}}};
        return dlc_value_set_const(y, a->ints, (size_t)a->count * sizeof(int64_t));
    }
    if (strcmp(a->name, "value_floats") == 0 && (a->type == DLC_ATTR_FLOATS || a->count == 0)) {
        y->dtype = DLC_FLOAT32;
        y->shape = (dlc_shape){.rank = 1, .dims = {{a->count, 0}}};
        float *f = malloc((size_t)(a->count > 0 ? a->count : 1) * sizeof *f);
        if (f == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "node %s: out of memory", WHERE(node));
        for (int32_t k = 0; k < a->count; k++) f[k] = (float)a->floats[k];
        dlc_status st = dlc_value_set_const(y, f, (size_t)a->count * sizeof *f);
        free(f);
        return st;
    }
    if (strncmp(a->name, "value_string", 12) == 0)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: string constants (%s) are not supported", WHERE(node), a->name);
    if (strcmp(a->name, "sparse_value") == 0)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: sparse constants are not supported", WHERE(node));
    return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: Constant attribute '%s' (type %d) is not a value attribute",
                    WHERE(node), a->name, (int)a->type);
}

/* ---- Identity / Dropout ------------------------------------------------------------ */

static dlc_status identity_infer(dlc_graph *g, dlc_node *node) {
    node->outputs[0]->dtype = node->inputs[0]->dtype;
    node->outputs[0]->shape = node->inputs[0]->shape;
    return DLC_OK;
}

/* Whether node drops at random: training_mode a constant true and the ratio
 * (a constant, 0.5 when absent) above 0; *out_ratio gets the ratio. Training
 * with ratio 0 drops nothing, the same as inference. */
static dlc_status dropout_training_ratio(const dlc_node *node, bool *out_random, double *out_ratio) {
    char where[256];
    *out_random = false;
    *out_ratio = 0.0;
    const dlc_value *training = tu_input(node, 2);
    if (training == NULL) return DLC_OK;
    double mode;
    if (training->kind != DLC_VALUE_CONST || dlc_value_const_scalar(training, &mode) != DLC_OK)
        return dlc_fail(DLC_ERR_UNSUPPORTED,
                        "node %s: training_mode '%s' must be known at compile time (a constant, or bound with --bind)",
                        WHERE(node), training->name);
    if (mode == 0.0) return DLC_OK;
    const dlc_value *ratio = tu_input(node, 1);
    double r = 0.5;
    if (ratio != NULL) {
        if (ratio->kind != DLC_VALUE_CONST || dlc_value_const_scalar(ratio, &r) != DLC_OK)
            return dlc_fail(DLC_ERR_UNSUPPORTED,
                            "node %s: ratio '%s' must be known at compile time in training mode (a constant, or "
                            "bound with --bind)", WHERE(node), ratio->name);
        if (!(r >= 0.0 && r < 1.0))
            return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: ratio %g is outside [0, 1)", WHERE(node), r);
    }
    *out_random = r != 0.0;
    *out_ratio = r;
    return DLC_OK;
}

static dlc_status dropout_infer(dlc_graph *g, dlc_node *node) {
    char where[256];
    bool random;
    double ratio;
    DLC_TRY(dropout_training_ratio(node, &random, &ratio));
    if (random && !dlc_dtype_is_float(node->inputs[0]->dtype))
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: data '%s' must be float in training mode, not %s",
                        WHERE(node), node->inputs[0]->name, dlc_dtype_name(node->inputs[0]->dtype));
    DLC_TRY(identity_infer(g, node));
    dlc_value *mask = tu_output(node, 1);
    if (mask != NULL) {
        /* opset 10 made the mask bool; before it had the data's type */
        mask->dtype = node->opset >= 10 ? DLC_BOOL : node->inputs[0]->dtype;
        mask->shape = node->inputs[0]->shape;
    }
    return DLC_OK;
}

/* In training mode the random kernel (kernels/random.c): the seed attribute
 * (0 when absent) seeds numpy's stream, so a seeded Dropout matches the ONNX
 * reference. */
static dlc_status dropout_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    bool random;
    double ratio;
    DLC_TRY(dropout_training_ratio(node, &random, &ratio));
    if (random) {
        dlc_kcall_init(call, "dropout_random");
        DLC_TRY(dlc_kcall_push_int(call, (int64_t)(uint32_t)dlc_node_attr_int(node, "seed", 0)));
        return dlc_kcall_push_float(call, ratio);
    }
    const dlc_value *mask = tu_output(node, 1);
    if (mask == NULL) return lower_copy(g, node, call);
    int64_t one[2];
    DLC_TRY(tu_element_bits(node, mask->dtype, 1.0, one));
    dlc_kcall_init(call, "dropout");
    return dlc_kcall_push_ints(call, one, 2);
}

/* ---- Reshape ---------------------------------------------------------------------- */

static dlc_status reshape_infer(dlc_graph *g, dlc_node *node) {
    char where[256], sa[160];
    const dlc_value *x = node->inputs[0];
    dlc_value *y = node->outputs[0];
    int64_t target[DLC_TENSOR_MAX_CONST_INTS];
    int32_t n;
    if (node->opset < 5) {
        const int64_t *attr = dlc_node_attr_ints(node, "shape", &n);
        if (attr == NULL) return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: attribute 'shape' is missing", WHERE(node));
        if (n > DLC_MAX_RANK)
            return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: target rank %d exceeds %d", WHERE(node), n, DLC_MAX_RANK);
        memcpy(target, attr, (size_t)n * sizeof *target);
    } else {
        DLC_TRY(tu_const_ints(node, 1, "shape", target, DLC_TENSOR_MAX_CONST_INTS, &n));
    }
    if (n > DLC_MAX_RANK)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: target rank %d exceeds %d", WHERE(node), n, DLC_MAX_RANK);
    DLC_TRY(tu_require_rank(g, node, x, "input"));
    bool allowzero = node->opset >= 14 && dlc_node_attr_int(node, "allowzero", 0) != 0;
    dlc_shape out = {.rank = n};
    int32_t infer_at = -1;
    for (int32_t d = 0; d < n; d++) {
        if (target[d] == -1) {
            if (infer_at >= 0)
                return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: target shape has more than one -1", WHERE(node));
            infer_at = d;
        } else if (target[d] == 0 && !allowzero) {
            if (d >= x->shape.rank)
                return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: target dim %d is 0 (copy) but input %s has rank %d",
                                WHERE(node), d, dlc_shape_format(g, &x->shape, sa, sizeof sa), x->shape.rank);
            out.dims[d] = x->shape.dims[d];
        } else if (target[d] < 0) {
            return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: target dim %d is %lld", WHERE(node), d,
                            (long long)target[d]);
        } else {
            out.dims[d] = (dlc_dim){target[d], 0};
        }
    }
    if (allowzero && infer_at >= 0)
        for (int32_t d = 0; d < n; d++)
            if (target[d] == 0)
                return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: allowzero=1 forbids 0 together with -1",
                                WHERE(node));
    /* Static parts: input dims not copied one-for-one to the same position. */
    int64_t in_static = 1, out_static = 1;
    bool in_symbolic = false;
    for (int32_t d = 0; d < x->shape.rank; d++) {
        dlc_dim dim = x->shape.dims[d];
        bool copied = d < n && !allowzero && target[d] == 0;
        if (copied) continue;
        if (dlc_dim_is_static(dim)) {
            if (!dlc_mul_size(in_static, dim.value, &in_static))
                return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: input size overflows", WHERE(node));
        } else {
            in_symbolic = true;
        }
    }
    for (int32_t d = 0; d < n; d++) {
        if (d == infer_at || (!allowzero && target[d] == 0)) continue;
        if (!dlc_mul_size(out_static, out.dims[d].value, &out_static))
            return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: target size overflows", WHERE(node));
    }
    if (infer_at >= 0) {
        if (in_symbolic) {
            DLC_TRY(tu_fresh_dim(g, node, 0, infer_at, &out.dims[infer_at]));
        } else {
            if (out_static == 0 || in_static % out_static != 0)
                return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: cannot reshape %s (%lld elements) with -1 into a "
                                "multiple of %lld",
                                WHERE(node), dlc_shape_format(g, &x->shape, sa, sizeof sa), (long long)in_static,
                                (long long)out_static);
            out.dims[infer_at] = (dlc_dim){in_static / out_static, 0};
        }
    } else if (!in_symbolic && in_static != out_static) {
        char sb[160];
        return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: cannot reshape %s into %s (element counts differ)",
                        WHERE(node), dlc_shape_format(g, &x->shape, sa, sizeof sa),
                        dlc_shape_format(g, &out, sb, sizeof sb));
    }
    y->dtype = x->dtype;
    y->shape = out;
    return DLC_OK;
}

/* ---- Flatten ------------------------------------------------------------------------ */

/* The product of dims [begin, end) as one dim (a fresh symbol when symbolic
 * and not a single dim). */
static dlc_status product_dim(dlc_graph *g, const dlc_node *node, const dlc_shape *s, int32_t begin, int32_t end,
                              int32_t out_axis, dlc_dim *out) {
    int64_t p = 1;
    int32_t symbolic = 0;
    dlc_dim sym_dim = {0, 0};
    for (int32_t d = begin; d < end; d++) {
        if (!dlc_dim_is_static(s->dims[d])) {
            symbolic++;
            sym_dim = s->dims[d];
        } else if (!dlc_mul_size(p, s->dims[d].value, &p)) {
            char where[256];
            return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: size overflows", WHERE(node));
        }
    }
    if (symbolic == 0) *out = (dlc_dim){p, 0};
    else if (symbolic == 1 && p == 1) *out = sym_dim;
    else DLC_TRY(tu_fresh_dim(g, node, 0, out_axis, out));
    return DLC_OK;
}

static dlc_status flatten_infer(dlc_graph *g, dlc_node *node) {
    const dlc_value *x = node->inputs[0];
    DLC_TRY(tu_require_rank(g, node, x, "input"));
    int64_t axis = dlc_node_attr_int(node, "axis", 1);
    int32_t r = x->shape.rank;
    if (axis < 0) axis += r;
    if (axis < 0 || axis > r) {
        char where[256];
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: axis %lld out of range for rank %d", WHERE(node),
                        (long long)dlc_node_attr_int(node, "axis", 1), r);
    }
    int32_t a = (int32_t)axis;
    dlc_shape out = {.rank = 2};
    DLC_TRY(product_dim(g, node, &x->shape, 0, a, 0, &out.dims[0]));
    DLC_TRY(product_dim(g, node, &x->shape, a, r, 1, &out.dims[1]));
    node->outputs[0]->dtype = x->dtype;
    node->outputs[0]->shape = out;
    return DLC_OK;
}

/* ---- Squeeze / Unsqueeze ---------------------------------------------------------------- */

/* Axes from the attribute (before opset 13) or the optional CONST input 1. */
static dlc_status read_axes(const dlc_node *node, int32_t from_input_opset, int64_t *axes, int32_t *count,
                            bool *present) {
    *count = 0;
    *present = false;
    if (node->opset < from_input_opset) {
        const int64_t *a = dlc_node_attr_ints(node, "axes", count);
        if (a == NULL) return DLC_OK;
        if (*count > DLC_TENSOR_MAX_CONST_INTS) {
            char where[256];
            return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: too many axes", WHERE(node));
        }
        memcpy(axes, a, (size_t)*count * sizeof *axes);
        *present = true;
        return DLC_OK;
    }
    if (tu_input(node, 1) == NULL) return DLC_OK;
    *present = true;
    return tu_const_ints(node, 1, "axes", axes, DLC_TENSOR_MAX_CONST_INTS, count);
}

static dlc_status squeeze_infer(dlc_graph *g, dlc_node *node) {
    char where[256], sa[160];
    const dlc_value *x = node->inputs[0];
    DLC_TRY(tu_require_rank(g, node, x, "input"));
    int64_t axes[DLC_TENSOR_MAX_CONST_INTS];
    int32_t count, norm[DLC_TENSOR_MAX_CONST_INTS];
    bool present;
    DLC_TRY(read_axes(node, 13, axes, &count, &present));
    DLC_TRY(tu_normalize_axes(node, axes, count, x->shape.rank, norm));
    bool drop[DLC_MAX_RANK] = {false};
    if (!present) {
        /* no axes: every dim known to be 1 (a symbolic dim is assumed not 1) */
        for (int32_t d = 0; d < x->shape.rank; d++) drop[d] = x->shape.dims[d].value == 1;
    }
    for (int32_t i = 0; i < count; i++) {
        dlc_dim dim = x->shape.dims[norm[i]];
        if (dlc_dim_is_static(dim) && dim.value != 1)
            return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: cannot squeeze axis %d of %s: its size is %lld, not 1",
                            WHERE(node), norm[i], dlc_shape_format(g, &x->shape, sa, sizeof sa), (long long)dim.value);
        drop[norm[i]] = true;
    }
    dlc_shape out = {.rank = 0};
    for (int32_t d = 0; d < x->shape.rank; d++)
        if (!drop[d]) out.dims[out.rank++] = x->shape.dims[d];
    node->outputs[0]->dtype = x->dtype;
    node->outputs[0]->shape = out;
    return DLC_OK;
}

static dlc_status unsqueeze_infer(dlc_graph *g, dlc_node *node) {
    char where[256];
    const dlc_value *x = node->inputs[0];
    DLC_TRY(tu_require_rank(g, node, x, "input"));
    int64_t axes[DLC_TENSOR_MAX_CONST_INTS];
    int32_t count, norm[DLC_TENSOR_MAX_CONST_INTS];
    bool present;
    DLC_TRY(read_axes(node, 13, axes, &count, &present));
    if (!present || count == 0)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: Unsqueeze needs axes", WHERE(node));
    int32_t rank = x->shape.rank + count;
    if (rank > DLC_MAX_RANK)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: result rank %d exceeds %d", WHERE(node), rank, DLC_MAX_RANK);
    DLC_TRY(tu_normalize_axes(node, axes, count, rank, norm));
    bool inserted[DLC_MAX_RANK] = {false};
    for (int32_t i = 0; i < count; i++) inserted[norm[i]] = true;
    dlc_shape out = {.rank = rank};
    for (int32_t d = 0, src = 0; d < rank; d++) out.dims[d] = inserted[d] ? (dlc_dim){1, 0} : x->shape.dims[src++];
    node->outputs[0]->dtype = x->dtype;
    node->outputs[0]->shape = out;
    return DLC_OK;
}

/* ---- Shape / Size ----------------------------------------------------------------------- */

/* Shape's [start, end) after clamping (opset 15). */
static void shape_range(const dlc_node *node, int32_t rank, int64_t *start, int64_t *end) {
    int64_t s = node->opset >= 15 ? dlc_node_attr_int(node, "start", 0) : 0;
    int64_t e = node->opset >= 15 ? dlc_node_attr_int(node, "end", rank) : rank;
    if (s < 0) s += rank;
    if (e < 0) e += rank;
    s = s < 0 ? 0 : s > rank ? rank : s;
    e = e < 0 ? 0 : e > rank ? rank : e;
    *start = s;
    *end = e > s ? e : s;
}

static dlc_status shape_infer(dlc_graph *g, dlc_node *node) {
    DLC_TRY(tu_require_rank(g, node, node->inputs[0], "input"));
    int64_t start, end;
    shape_range(node, node->inputs[0]->shape.rank, &start, &end);
    node->outputs[0]->dtype = DLC_INT64;
    node->outputs[0]->shape = (dlc_shape){.rank = 1, .dims = {{end - start, 0}}};
    return DLC_OK;
}

static dlc_status shape_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    int64_t start, end;
    shape_range(node, node->inputs[0]->shape.rank, &start, &end);
    dlc_kcall_init(call, "shape");
    DLC_TRY(dlc_kcall_push_int(call, start));
    return dlc_kcall_push_int(call, end);
}

static dlc_status size_infer(dlc_graph *g, dlc_node *node) {
    node->outputs[0]->dtype = DLC_INT64;
    node->outputs[0]->shape = (dlc_shape){.rank = 0};
    return DLC_OK;
}

static dlc_status size_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    dlc_kcall_init(call, "size");
    return DLC_OK;
}

/* ---- ConstantOfShape -------------------------------------------------------------------- */

static dlc_status constant_of_shape_value(const dlc_node *node, dlc_dtype *dtype, int64_t bits[2]) {
    char where[256];
    const dlc_attr *a = dlc_node_attr(node, "value");
    memset(bits, 0, 2 * sizeof *bits);
    *dtype = DLC_FLOAT32;
    if (a == NULL) return DLC_OK;
    if (a->type != DLC_ATTR_TENSOR || a->tensor == NULL || dlc_value_numel(a->tensor) != 1)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: 'value' must be a one-element tensor", WHERE(node));
    *dtype = a->tensor->dtype;
    size_t es = dlc_dtype_size(*dtype);
    if (es == 0 || es > 16)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: value of type %s is not supported", WHERE(node),
                        dlc_dtype_name(*dtype));
    memcpy(bits, a->tensor->data, es);
    return DLC_OK;
}

static dlc_status constant_of_shape_infer(dlc_graph *g, dlc_node *node) {
    char where[256];
    int64_t dims[DLC_TENSOR_MAX_CONST_INTS], bits[2];
    int32_t n;
    dlc_dtype dtype;
    DLC_TRY(constant_of_shape_value(node, &dtype, bits));
    DLC_TRY(tu_const_ints(node, 0, "shape", dims, DLC_TENSOR_MAX_CONST_INTS, &n));
    if (n > DLC_MAX_RANK)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: rank %d exceeds %d", WHERE(node), n, DLC_MAX_RANK);
    for (int32_t d = 0; d < n; d++)
        if (dims[d] < 0)
            return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: dim %d is negative (%lld)", WHERE(node), d,
                            (long long)dims[d]);
    dlc_shape s = dlc_shape_make(n, dims);
    if (dlc_shape_numel(&s) < 0)
        return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: size overflows", WHERE(node));
    node->outputs[0]->dtype = dtype;
    node->outputs[0]->shape = s;
    return DLC_OK;
}

static dlc_status constant_of_shape_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    int64_t bits[2];
    dlc_dtype dtype;
    DLC_TRY(constant_of_shape_value(node, &dtype, bits));
    dlc_kcall_init(call, "fill");
    return dlc_kcall_push_ints(call, bits, 2);
}

/* ---- Range -------------------------------------------------------------------------------- */

static dlc_status range_infer(dlc_graph *g, dlc_node *node) {
    char where[256];
    dlc_dtype t = node->inputs[0]->dtype;
    static const char *const names[3] = {"start", "limit", "delta"};
    for (int32_t i = 0; i < 3; i++) {
        const dlc_value *v = node->inputs[i];
        if (v->dtype != t)
            return dlc_fail(DLC_ERR_DTYPE_MISMATCH, "node %s: %s is %s but start is %s", WHERE(node), names[i],
                            dlc_dtype_name(v->dtype), dlc_dtype_name(t));
        if (v->kind != DLC_VALUE_CONST)
            return dlc_fail(DLC_ERR_UNSUPPORTED,
                            "node %s: %s ('%s') is computed at run time; Range needs constant inputs to know its "
                            "output length",
                            WHERE(node), names[i], v->name);
        if (dlc_value_numel(v) != 1)
            return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: %s must be a scalar", WHERE(node), names[i]);
    }
    if (t != DLC_FLOAT32 && t != DLC_FLOAT64 && t != DLC_INT16 && t != DLC_INT32 && t != DLC_INT64)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: Range of %s is not supported", WHERE(node), dlc_dtype_name(t));
    int64_t count;
    if (t == DLC_FLOAT32 || t == DLC_FLOAT64) {
        double start, limit, delta;
        DLC_TRY(dlc_value_const_scalar(node->inputs[0], &start));
        DLC_TRY(dlc_value_const_scalar(node->inputs[1], &limit));
        DLC_TRY(dlc_value_const_scalar(node->inputs[2], &delta));
        if (delta == 0.0 || !isfinite(start) || !isfinite(limit) || !isfinite(delta))
            return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: delta must be nonzero and every input finite",
                            WHERE(node));
        double c = ceil((limit - start) / delta);
        if (c > (double)INT32_MAX * 64)
            return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: %g elements are too many", WHERE(node), c);
        count = c > 0 ? (int64_t)c : 0;
    } else {
        double s, l, d;
        DLC_TRY(dlc_value_const_scalar(node->inputs[0], &s));
        DLC_TRY(dlc_value_const_scalar(node->inputs[1], &l));
        DLC_TRY(dlc_value_const_scalar(node->inputs[2], &d));
        int64_t start = (int64_t)s, limit = (int64_t)l, delta = (int64_t)d;
        if (delta == 0) return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: delta is 0", WHERE(node));
        /* ceil((limit - start) / delta) in integers */
        __int128 span = (__int128)limit - start;
        __int128 q = span / delta;
        if (q * delta != span && ((span > 0) == (delta > 0))) q++;
        count = q > 0 ? (int64_t)q : 0;
    }
    node->outputs[0]->dtype = t;
    node->outputs[0]->shape = (dlc_shape){.rank = 1, .dims = {{count, 0}}};
    return DLC_OK;
}

static dlc_status range_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    dlc_kcall_init(call, "range");
    return DLC_OK;
}

/* ---- Expand / Tile ----------------------------------------------------------------------- */

static dlc_status expand_infer(dlc_graph *g, dlc_node *node) {
    char where[256];
    const dlc_value *x = node->inputs[0];
    DLC_TRY(tu_require_rank(g, node, x, "input"));
    int64_t dims[DLC_TENSOR_MAX_CONST_INTS];
    int32_t n;
    DLC_TRY(tu_const_ints(node, 1, "shape", dims, DLC_TENSOR_MAX_CONST_INTS, &n));
    if (n > DLC_MAX_RANK)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: rank %d exceeds %d", WHERE(node), n, DLC_MAX_RANK);
    for (int32_t d = 0; d < n; d++)
        if (dims[d] < 0)
            return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: shape dim %d is %lld", WHERE(node), d,
                            (long long)dims[d]);
    dlc_shape target = dlc_shape_make(n, dims);
    node->outputs[0]->dtype = x->dtype;
    return dlc_broadcast_shapes(g, node, &x->shape, &target, &node->outputs[0]->shape);
}

static dlc_status expand_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    const dlc_shape *in = &node->inputs[0]->shape, *out = &node->outputs[0]->shape;
    int64_t in_strides[DLC_MAX_RANK], dims[DLC_MAX_RANK], strides[DLC_MAX_RANK];
    tu_strides(in, in_strides);
    int32_t lead = out->rank - in->rank;
    for (int32_t d = 0; d < out->rank; d++) {
        dims[d] = out->dims[d].value;
        int32_t id = d - lead;
        strides[d] = id < 0 || in->dims[id].value == 1 ? 0 : in_strides[id];
    }
    return tu_lower_strided(call, out->rank, dims, strides, 0);
}

static dlc_status tile_infer(dlc_graph *g, dlc_node *node) {
    char where[256];
    const dlc_value *x = node->inputs[0];
    DLC_TRY(tu_require_rank(g, node, x, "input"));
    int64_t reps[DLC_TENSOR_MAX_CONST_INTS];
    int32_t n;
    DLC_TRY(tu_const_ints(node, 1, "repeats", reps, DLC_TENSOR_MAX_CONST_INTS, &n));
    if (n != x->shape.rank)
        return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: %d repeats for an input of rank %d", WHERE(node), n,
                        x->shape.rank);
    dlc_shape out = x->shape;
    for (int32_t d = 0; d < n; d++) {
        if (reps[d] < 0)
            return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: repeat %d is %lld", WHERE(node), d, (long long)reps[d]);
        if (reps[d] == 1) continue;
        if (dlc_dim_is_static(out.dims[d])) {
            if (!dlc_mul_size(out.dims[d].value, reps[d], &out.dims[d].value))
                return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: size overflows", WHERE(node));
        } else if (reps[d] == 0) {
            out.dims[d] = (dlc_dim){0, 0};
        } else {
            DLC_TRY(tu_fresh_dim(g, node, 0, d, &out.dims[d]));
        }
    }
    node->outputs[0]->dtype = x->dtype;
    node->outputs[0]->shape = out;
    return DLC_OK;
}

static dlc_status tile_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    const dlc_shape *in = &node->inputs[0]->shape, *out = &node->outputs[0]->shape;
    int64_t in_strides[DLC_MAX_RANK], dims[2 * DLC_MAX_RANK], strides[2 * DLC_MAX_RANK];
    tu_strides(in, in_strides);
    /* output seen as [rep0, in0, rep1, in1, ...]; the repeat dims do not move in the input */
    for (int32_t d = 0; d < in->rank; d++) {
        int64_t n = in->dims[d].value;
        dims[2 * d] = n == 0 ? 0 : out->dims[d].value / n;
        strides[2 * d] = 0;
        dims[2 * d + 1] = n;
        strides[2 * d + 1] = in_strides[d];
    }
    return tu_lower_strided(call, 2 * in->rank, dims, strides, 0);
}

/* ---- Transpose --------------------------------------------------------------------------- */

static dlc_status transpose_perm(const dlc_node *node, int32_t rank, int32_t *perm) {
    char where[256];
    int32_t n;
    const int64_t *p = dlc_node_attr_ints(node, "perm", &n);
    if (p == NULL) {
        for (int32_t d = 0; d < rank; d++) perm[d] = rank - 1 - d;
        return DLC_OK;
    }
    if (n != rank)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: perm has %d entries for an input of rank %d", WHERE(node),
                        n, rank);
    bool seen[DLC_MAX_RANK] = {false};
    for (int32_t d = 0; d < n; d++) {
        if (p[d] < 0 || p[d] >= rank || seen[p[d]])
            return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: perm is not a permutation of 0..%d", WHERE(node),
                            rank - 1);
        seen[p[d]] = true;
        perm[d] = (int32_t)p[d];
    }
    return DLC_OK;
}

static dlc_status transpose_infer(dlc_graph *g, dlc_node *node) {
    const dlc_value *x = node->inputs[0];
    DLC_TRY(tu_require_rank(g, node, x, "input"));
    int32_t perm[DLC_MAX_RANK];
    DLC_TRY(transpose_perm(node, x->shape.rank, perm));
    dlc_shape out = {.rank = x->shape.rank};
    for (int32_t d = 0; d < out.rank; d++) out.dims[d] = x->shape.dims[perm[d]];
    node->outputs[0]->dtype = x->dtype;
    node->outputs[0]->shape = out;
    return DLC_OK;
}

static dlc_status transpose_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    const dlc_shape *in = &node->inputs[0]->shape;
    int32_t perm[DLC_MAX_RANK];
    DLC_TRY(transpose_perm(node, in->rank, perm));
    int64_t in_strides[DLC_MAX_RANK], dims[DLC_MAX_RANK], strides[DLC_MAX_RANK];
    tu_strides(in, in_strides);
    for (int32_t d = 0; d < in->rank; d++) {
        dims[d] = in->dims[perm[d]].value;
        strides[d] = in_strides[perm[d]];
    }
    return tu_lower_strided(call, in->rank, dims, strides, 0);
}

/* ---- Concat ------------------------------------------------------------------------------- */

static dlc_status concat_axis(const dlc_node *node, int32_t rank, int32_t *axis) {
    char where[256];
    const dlc_attr *a = dlc_node_attr(node, "axis");
    if (a == NULL && node->opset >= 4)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: attribute 'axis' is missing", WHERE(node));
    return dlc_normalize_axis(node, a != NULL ? a->i : 1, rank, axis);
}

static dlc_status concat_infer(dlc_graph *g, dlc_node *node) {
    char where[256], sa[160], sb[160];
    if (node->num_inputs < 1)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: Concat needs at least one input", WHERE(node));
    const dlc_value *first = node->inputs[0];
    for (int32_t i = 0; i < node->num_inputs; i++) {
        if (node->inputs[i] == NULL)
            return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: input %d is missing", WHERE(node), i);
        DLC_TRY(tu_require_rank(g, node, node->inputs[i], "input"));
    }
    int32_t rank = first->shape.rank, axis;
    DLC_TRY(concat_axis(node, rank, &axis));
    dlc_shape out = first->shape;
    int64_t sum = 0;
    bool symbolic = false;
    for (int32_t i = 0; i < node->num_inputs; i++) {
        const dlc_value *v = node->inputs[i];
        if (v->dtype != first->dtype)
            return dlc_fail(DLC_ERR_DTYPE_MISMATCH, "node %s: input %d ('%s') is %s but input 0 is %s", WHERE(node), i,
                            v->name, dlc_dtype_name(v->dtype), dlc_dtype_name(first->dtype));
        if (v->shape.rank != rank)
            return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: input %d has shape %s, input 0 has %s (ranks differ)",
                            WHERE(node), i, dlc_shape_format(g, &v->shape, sa, sizeof sa),
                            dlc_shape_format(g, &first->shape, sb, sizeof sb));
        for (int32_t d = 0; d < rank; d++) {
            dlc_dim a = v->shape.dims[d], b = out.dims[d];
            if (d == axis) continue;
            if (dlc_dim_is_static(a) && dlc_dim_is_static(b) && a.value != b.value)
                return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: input %d has shape %s, input 0 has %s (dim %d differs)",
                                WHERE(node), i, dlc_shape_format(g, &v->shape, sa, sizeof sa),
                                dlc_shape_format(g, &first->shape, sb, sizeof sb), d);
            if (!dlc_dim_is_static(b) && dlc_dim_is_static(a)) out.dims[d] = a; /* a static size pins it */
        }
        dlc_dim ad = v->shape.dims[axis];
        if (dlc_dim_is_static(ad)) sum += ad.value;
        else symbolic = true;
    }
    if (!symbolic) out.dims[axis] = (dlc_dim){sum, 0};
    else {
        /* one symbolic input among empty ones keeps its symbol */
        int32_t nonempty = 0;
        dlc_dim only = {0, 0};
        for (int32_t i = 0; i < node->num_inputs; i++)
            if (node->inputs[i]->shape.dims[axis].value != 0) {
                nonempty++;
                only = node->inputs[i]->shape.dims[axis];
            }
        if (nonempty == 1) out.dims[axis] = only;
        else DLC_TRY(tu_fresh_dim(g, node, 0, axis, &out.dims[axis]));
    }
    node->outputs[0]->dtype = first->dtype;
    node->outputs[0]->shape = out;
    return DLC_OK;
}

static dlc_status concat_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    int32_t axis;
    DLC_TRY(concat_axis(node, node->inputs[0]->shape.rank, &axis));
    dlc_kcall_init(call, "concat");
    return dlc_kcall_push_int(call, axis);
}

/* ---- Split ---------------------------------------------------------------------------------- */

static dlc_status split_sizes(const dlc_graph *g, const dlc_node *node, int32_t *out_axis, int64_t *sizes) {
    char where[256], sa[160];
    const dlc_value *x = node->inputs[0];
    DLC_TRY(tu_require_rank(g, node, x, "input"));
    DLC_TRY(dlc_normalize_axis(node, dlc_node_attr_int(node, "axis", 0), x->shape.rank, out_axis));
    int32_t axis = *out_axis, outputs = node->num_outputs, n = 0;
    dlc_dim dim = x->shape.dims[axis];
    bool given = false;
    if (node->opset < 13) {
        const int64_t *s = dlc_node_attr_ints(node, "split", &n);
        if (s == NULL && node->opset < 2 && tu_input(node, 1) != NULL) {
            DLC_TRY(tu_const_ints(node, 1, "split", sizes, DLC_TENSOR_MAX_CONST_INTS, &n));
            given = true;
        } else if (s != NULL) {
            if (n > DLC_TENSOR_MAX_CONST_INTS) n = DLC_TENSOR_MAX_CONST_INTS;
            memcpy(sizes, s, (size_t)n * sizeof *sizes);
            given = true;
        }
    } else if (tu_input(node, 1) != NULL) {
        DLC_TRY(tu_const_ints(node, 1, "split", sizes, DLC_TENSOR_MAX_CONST_INTS, &n));
        given = true;
    }
    if (given) {
        if (n != outputs)
            return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: split has %d sizes for %d outputs", WHERE(node), n,
                            outputs);
        int64_t total = 0;
        for (int32_t i = 0; i < n; i++) {
            if (sizes[i] < 0)
                return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: split size %d is %lld", WHERE(node), i,
                                (long long)sizes[i]);
            total += sizes[i];
        }
        if (dlc_dim_is_static(dim) && total != dim.value)
            return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: split sizes add up to %lld, axis %d of %s is %lld",
                            WHERE(node), (long long)total, axis, dlc_shape_format(g, &x->shape, sa, sizeof sa),
                            (long long)dim.value);
        return DLC_OK;
    }
    if (!dlc_dim_is_static(dim))
        return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: an equal split of the symbolic axis %d of %s is not supported",
                        WHERE(node), axis, dlc_shape_format(g, &x->shape, sa, sizeof sa));
    if (outputs > DLC_TENSOR_MAX_CONST_INTS)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: %d outputs are too many", WHERE(node), outputs);
    if (node->opset >= 18) {
        const dlc_attr *num = dlc_node_attr(node, "num_outputs");
        if (num == NULL)
            return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: needs the split input or num_outputs", WHERE(node));
        if (num->i != outputs)
            return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: num_outputs is %lld but the node has %d outputs",
                            WHERE(node), (long long)num->i, outputs);
        /* chunks of ceil(dim / n), the last one smaller */
        int64_t chunk = (dim.value + outputs - 1) / outputs, left = dim.value;
        for (int32_t i = 0; i < outputs; i++) {
            sizes[i] = left < chunk ? left : chunk;
            left -= sizes[i];
        }
        return DLC_OK;
    }
    if (dim.value % outputs != 0)
        return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: axis %d of %s (%lld) does not split into %d equal parts",
                        WHERE(node), axis, dlc_shape_format(g, &x->shape, sa, sizeof sa), (long long)dim.value,
                        outputs);
    for (int32_t i = 0; i < outputs; i++) sizes[i] = dim.value / outputs;
    return DLC_OK;
}

static dlc_status split_infer(dlc_graph *g, dlc_node *node) {
    int64_t sizes[DLC_TENSOR_MAX_CONST_INTS];
    int32_t axis;
    DLC_TRY(split_sizes(g, node, &axis, sizes));
    for (int32_t i = 0; i < node->num_outputs; i++) {
        dlc_value *y = node->outputs[i];
        if (y == NULL) continue;
        y->dtype = node->inputs[0]->dtype;
        y->shape = node->inputs[0]->shape;
        y->shape.dims[axis] = (dlc_dim){sizes[i], 0};
    }
    return DLC_OK;
}

static dlc_status split_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    char where[256];
    for (int32_t i = 0; i < node->num_outputs; i++)
        if (node->outputs[i] == NULL) /* the kernel needs every part's shape to find the next */
            return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: omitted Split outputs are not supported", WHERE(node));
    int64_t sizes[DLC_TENSOR_MAX_CONST_INTS];
    int32_t axis;
    DLC_TRY(split_sizes(g, node, &axis, sizes));
    dlc_kcall_init(call, "split");
    return dlc_kcall_push_int(call, axis);
}

const dlc_op_schema dlc_ops_tensor[] = {
    {"Constant", "", 1, 0, 0, 1, 1, constant_infer, NULL, no_flops},
    {"Identity", "", 1, 1, 1, 1, 1, identity_infer, lower_copy, no_flops},
    {"Dropout", "", 1, 1, 3, 1, 2, dropout_infer, dropout_lower, no_flops, 1u << 1 | 1u << 2},
    {"Reshape", "", 1, 1, 2, 1, 1, reshape_infer, lower_copy, no_flops, 1u << 1},
    {"Flatten", "", 1, 1, 1, 1, 1, flatten_infer, lower_copy, no_flops},
    {"Squeeze", "", 1, 1, 2, 1, 1, squeeze_infer, lower_copy, no_flops, 1u << 1},
    {"Unsqueeze", "", 1, 1, 2, 1, 1, unsqueeze_infer, lower_copy, no_flops, 1u << 1},
    {"Shape", "", 1, 1, 1, 1, 1, shape_infer, shape_lower, no_flops},
    {"Size", "", 1, 1, 1, 1, 1, size_infer, size_lower, no_flops},
    {"ConstantOfShape", "", 9, 1, 1, 1, 1, constant_of_shape_infer, constant_of_shape_lower, no_flops, 1u << 0},
    {"Range", "", 11, 3, 3, 1, 1, range_infer, range_lower, NULL, 1u << 0 | 1u << 1 | 1u << 2},
    {"Expand", "", 8, 2, 2, 1, 1, expand_infer, expand_lower, no_flops, 1u << 1},
    {"Tile", "", 6, 2, 2, 1, 1, tile_infer, tile_lower, no_flops, 1u << 1},
    {"Transpose", "", 1, 1, 1, 1, 1, transpose_infer, transpose_lower, no_flops},
    {"Concat", "", 1, 1, -1, 1, 1, concat_infer, concat_lower, no_flops},
    {"Split", "", 1, 1, 2, 1, -1, split_infer, split_lower, no_flops, 1u << 1},
    {0},
};
