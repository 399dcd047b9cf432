/* Indexing and rearranging ops: Slice, Gather, GatherElements,
 * ScatterElements (and Scatter 9-10), OneHot, CumSum, Trilu, Pad,
 * DepthToSpace, SpaceToDepth. Kernels: kernels/tensor.c (strided_copy, pad,
 * trilu, cumsum) and kernels/tensor_index.c (parameter layouts there). */
#include <stdlib.h>
#include <string.h>

#include "ir/ops/tensor_util.h"
#include "runtime/status.h"

#define WHERE(node) dlc_node_describe((node), where, sizeof where)

static int64_t no_flops(const dlc_node *node) { return 0; }

static dlc_status require_index_dtype(const dlc_node *node, const dlc_value *v, const char *what) {
    if (v->dtype == DLC_INT64 || v->dtype == DLC_INT32) return DLC_OK;
    char where[256];
    return dlc_fail(DLC_ERR_DTYPE_MISMATCH, "node %s: %s '%s' must be int32 or int64, is %s", WHERE(node), what,
                    v->name, dlc_dtype_name(v->dtype));
}

/* ---- Slice ------------------------------------------------------------------------ */

typedef struct slice_plan {
    int64_t start[DLC_MAX_RANK], step[DLC_MAX_RANK], len[DLC_MAX_RANK];
    bool touched[DLC_MAX_RANK];
} slice_plan;

/* Clamps per the ONNX spec and returns the number of elements taken. */
static int64_t slice_axis(int64_t n, int64_t start, int64_t end, int64_t step, int64_t *out_start) {
    if (start < 0) start += n;
    if (end < 0) end += n;
    if (step > 0) {
        start = start < 0 ? 0 : start > n ? n : start;
        end = end < 0 ? 0 : end > n ? n : end;
        *out_start = start;
        return end > start ? (end - start + step - 1) / step : 0;
    }
    start = start < 0 ? 0 : start > n - 1 ? n - 1 : start;
    end = end < -1 ? -1 : end > n - 1 ? n - 1 : end;
    *out_start = start;
    return start > end ? (start - end + (-step) - 1) / (-step) : 0;
}

/* Reads starts/ends/axes/steps (attributes before opset 10, CONST inputs
 * after) and, for every static dim, the clamped start and length. */
static dlc_status slice_read(const dlc_graph *g, const dlc_node *node, slice_plan *plan) {
    char where[256];
    const dlc_value *x = node->inputs[0];
    DLC_TRY(tu_require_rank(g, node, x, "input"));
    int32_t rank = x->shape.rank;
    int64_t starts[DLC_TENSOR_MAX_CONST_INTS], ends[DLC_TENSOR_MAX_CONST_INTS], axes[DLC_TENSOR_MAX_CONST_INTS],
        steps[DLC_TENSOR_MAX_CONST_INTS];
    int32_t ns, ne, na = -1, nst = -1;
    if (node->opset < 10) {
        const int64_t *s = dlc_node_attr_ints(node, "starts", &ns), *e = dlc_node_attr_ints(node, "ends", &ne);
        const int64_t *a = dlc_node_attr_ints(node, "axes", &na);
        if (s == NULL || e == NULL)
            return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: attributes 'starts' and 'ends' are required",
                            WHERE(node));
        if (ns > DLC_MAX_RANK || ne > DLC_MAX_RANK || na > DLC_MAX_RANK)
            return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: more starts/ends/axes than dims", WHERE(node));
        memcpy(starts, s, (size_t)ns * sizeof *starts);
        memcpy(ends, e, (size_t)ne * sizeof *ends);
        if (a != NULL) memcpy(axes, a, (size_t)na * sizeof *axes);
        else na = -1;
    } else {
        DLC_TRY(tu_const_ints(node, 1, "starts", starts, DLC_TENSOR_MAX_CONST_INTS, &ns));
        DLC_TRY(tu_const_ints(node, 2, "ends", ends, DLC_TENSOR_MAX_CONST_INTS, &ne));
        if (tu_input(node, 3) != NULL) DLC_TRY(tu_const_ints(node, 3, "axes", axes, DLC_TENSOR_MAX_CONST_INTS, &na));
        if (tu_input(node, 4) != NULL) DLC_TRY(tu_const_ints(node, 4, "steps", steps, DLC_TENSOR_MAX_CONST_INTS, &nst));
    }
    if (ns != ne || (na >= 0 && na != ns) || (nst >= 0 && nst != ns) || ns > rank)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT,
                        "node %s: starts (%d), ends (%d), axes (%d) and steps (%d) must have equal lengths <= rank %d",
                        WHERE(node), ns, ne, na, nst, rank);
    int32_t norm[DLC_MAX_RANK];
    if (na < 0)
        for (int32_t i = 0; i < ns; i++) axes[i] = i;
    DLC_TRY(tu_normalize_axes(node, axes, ns, rank, norm));
    for (int32_t d = 0; d < rank; d++) {
        plan->start[d] = 0;
        plan->step[d] = 1;
        plan->len[d] = x->shape.dims[d].value;
        plan->touched[d] = false;
    }
    for (int32_t i = 0; i < ns; i++) {
        int32_t d = norm[i];
        int64_t step = nst >= 0 ? steps[i] : 1;
        if (step == 0) return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: step of axis %d is 0", WHERE(node), d);
        plan->step[d] = step;
        plan->touched[d] = true;
        int64_t n = x->shape.dims[d].value;
        if (n >= 0) {
            plan->len[d] = slice_axis(n, starts[i], ends[i], step, &plan->start[d]);
        } else if (starts[i] == 0 && step == 1 && ends[i] >= INT32_MAX) {
            plan->touched[d] = false; /* the whole symbolic dim */
        } else {
            plan->len[d] = -1;
        }
    }
    return DLC_OK;
}

static dlc_status slice_infer(dlc_graph *g, dlc_node *node) {
    slice_plan plan;
    DLC_TRY(slice_read(g, node, &plan));
    const dlc_value *x = node->inputs[0];
    dlc_shape out = x->shape;
    for (int32_t d = 0; d < out.rank; d++) {
        if (!plan.touched[d]) continue;
        if (plan.len[d] >= 0) out.dims[d] = (dlc_dim){plan.len[d], 0};
        else DLC_TRY(tu_fresh_dim(g, node, 0, d, &out.dims[d]));
    }
    node->outputs[0]->dtype = x->dtype;
    node->outputs[0]->shape = out;
    return DLC_OK;
}

static dlc_status slice_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    slice_plan plan;
    DLC_TRY(slice_read(g, node, &plan));
    const dlc_shape *in = &node->inputs[0]->shape;
    int64_t in_strides[DLC_MAX_RANK], strides[DLC_MAX_RANK], base = 0;
    tu_strides(in, in_strides);
    for (int32_t d = 0; d < in->rank; d++) {
        strides[d] = in_strides[d] * plan.step[d];
        if (plan.len[d] > 0) base += plan.start[d] * in_strides[d];
    }
    return tu_lower_strided(call, in->rank, plan.len, strides, base);
}

/* ---- Gather ---------------------------------------------------------------------- */

static dlc_status gather_infer(dlc_graph *g, dlc_node *node) {
    char where[256], sa[160];
    const dlc_value *x = node->inputs[0], *idx = node->inputs[1];
    DLC_TRY(tu_require_rank(g, node, x, "data"));
    DLC_TRY(tu_require_rank(g, node, idx, "indices"));
    DLC_TRY(require_index_dtype(node, idx, "indices"));
    int32_t axis;
    DLC_TRY(dlc_normalize_axis(node, dlc_node_attr_int(node, "axis", 0), x->shape.rank, &axis));
    int32_t rank = x->shape.rank - 1 + idx->shape.rank;
    if (rank > DLC_MAX_RANK)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: result rank %d exceeds %d", WHERE(node), rank, DLC_MAX_RANK);
    /* constant indices are checked here, where the message can say which */
    dlc_dim len = x->shape.dims[axis];
    if (idx->kind == DLC_VALUE_CONST && dlc_dim_is_static(len)) {
        int64_t n = dlc_value_numel(idx);
        for (int64_t i = 0; i < n; i++) {
            int64_t v = idx->dtype == DLC_INT64 ? ((const int64_t *)idx->data)[i] : ((const int32_t *)idx->data)[i];
            if (v < -len.value || v >= len.value)
                return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: index %lld is out of range for axis %d of %s",
                                WHERE(node), (long long)v, axis, dlc_shape_format(g, &x->shape, sa, sizeof sa));
        }
    }
    dlc_shape out = {.rank = rank};
    int32_t r = 0;
    for (int32_t d = 0; d < axis; d++) out.dims[r++] = x->shape.dims[d];
    for (int32_t d = 0; d < idx->shape.rank; d++) out.dims[r++] = idx->shape.dims[d];
    for (int32_t d = axis + 1; d < x->shape.rank; d++) out.dims[r++] = x->shape.dims[d];
    node->outputs[0]->dtype = x->dtype;
    node->outputs[0]->shape = out;
    return DLC_OK;
}

/* Lowers to `kernel` with the normalized axis attribute as its only int. */
static dlc_status lower_axis_kernel(const dlc_node *node, const char *kernel, int64_t fallback, dlc_kcall *call) {
    int32_t axis;
    DLC_TRY(dlc_normalize_axis(node, dlc_node_attr_int(node, "axis", fallback), node->inputs[0]->shape.rank, &axis));
    dlc_kcall_init(call, kernel);
    return dlc_kcall_push_int(call, axis);
}

static dlc_status gather_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    return lower_axis_kernel(node, "gather", 0, call);
}

/* ---- GatherElements / ScatterElements ---------------------------------------------------- */

static dlc_status elements_check(const dlc_graph *g, const dlc_node *node, const dlc_value *idx) {
    char where[256], sa[160], sb[160];
    const dlc_value *x = node->inputs[0];
    DLC_TRY(tu_require_rank(g, node, x, "data"));
    DLC_TRY(tu_require_rank(g, node, idx, "indices"));
    DLC_TRY(require_index_dtype(node, idx, "indices"));
    int32_t axis;
    DLC_TRY(dlc_normalize_axis(node, dlc_node_attr_int(node, "axis", 0), x->shape.rank, &axis));
    if (idx->shape.rank != x->shape.rank)
        return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: indices %s and data %s must have the same rank", WHERE(node),
                        dlc_shape_format(g, &idx->shape, sa, sizeof sa), dlc_shape_format(g, &x->shape, sb, sizeof sb));
    return DLC_OK;
}

static dlc_status gather_elements_infer(dlc_graph *g, dlc_node *node) {
    DLC_TRY(elements_check(g, node, node->inputs[1]));
    node->outputs[0]->dtype = node->inputs[0]->dtype;
    node->outputs[0]->shape = node->inputs[1]->shape;
    return DLC_OK;
}

static dlc_status gather_elements_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    return lower_axis_kernel(node, "gather_elements", 0, call);
}

static dlc_status scatter_reduction(const dlc_node *node, int64_t *out) {
    char where[256];
    const char *r = node->opset >= 16 ? dlc_node_attr_string(node, "reduction", "none") : "none";
    static const char *const names[] = {"none", "add", "mul", "max", "min"};
    int64_t allowed = node->opset >= 18 ? 5 : 3;
    for (int64_t i = 0; i < allowed; i++)
        if (strcmp(r, names[i]) == 0) {
            *out = i;
            return DLC_OK;
        }
    return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: reduction '%s' is not supported", WHERE(node), r);
}

static dlc_status scatter_elements_infer(dlc_graph *g, dlc_node *node) {
    char where[256], sa[160], sb[160];
    const dlc_value *x = node->inputs[0], *idx = node->inputs[1], *upd = node->inputs[2];
    DLC_TRY(elements_check(g, node, idx));
    int64_t reduction;
    DLC_TRY(scatter_reduction(node, &reduction));
    if (upd->dtype != x->dtype)
        return dlc_fail(DLC_ERR_DTYPE_MISMATCH, "node %s: updates are %s but data is %s", WHERE(node),
                        dlc_dtype_name(upd->dtype), dlc_dtype_name(x->dtype));
    if (upd->shape.rank >= 0 && !dlc_shape_equal(&upd->shape, &idx->shape) && dlc_shape_is_static(&upd->shape) &&
        dlc_shape_is_static(&idx->shape))
        return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: updates %s and indices %s must have the same shape",
                        WHERE(node), dlc_shape_format(g, &upd->shape, sa, sizeof sa),
                        dlc_shape_format(g, &idx->shape, sb, sizeof sb));
    if (reduction != 0 && (x->dtype == DLC_BOOL || x->dtype == DLC_STRING || x->dtype == DLC_COMPLEX64 ||
                           x->dtype == DLC_COMPLEX128))
        return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: reduction on %s is not supported", WHERE(node),
                        dlc_dtype_name(x->dtype));
    node->outputs[0]->dtype = x->dtype;
    node->outputs[0]->shape = x->shape;
    return DLC_OK;
}

static dlc_status scatter_elements_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    int64_t reduction;
    DLC_TRY(scatter_reduction(node, &reduction));
    DLC_TRY(lower_axis_kernel(node, "scatter_elements", 0, call));
    return dlc_kcall_push_int(call, reduction);
}

/* ---- OneHot ------------------------------------------------------------------------------ */

static dlc_status onehot_infer(dlc_graph *g, dlc_node *node) {
    char where[256];
    const dlc_value *idx = node->inputs[0], *depth = node->inputs[1], *values = node->inputs[2];
    DLC_TRY(tu_require_rank(g, node, idx, "indices"));
    if (depth->kind != DLC_VALUE_CONST)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: depth '%s' must be a constant to know the output shape",
                        WHERE(node), depth->name);
    double d;
    DLC_TRY(dlc_value_const_scalar(depth, &d));
    if (d < 1 || d > (double)INT32_MAX)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: depth %g is not a positive size", WHERE(node), d);
    if (dlc_value_numel(values) != 2 && values->shape.rank >= 0 && dlc_shape_is_static(&values->shape))
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: values must hold [off, on]", WHERE(node));
    if (idx->dtype == DLC_STRING || dlc_dtype_size(idx->dtype) == 0 || idx->dtype == DLC_COMPLEX64 ||
        idx->dtype == DLC_COMPLEX128)
        return dlc_fail(DLC_ERR_DTYPE_MISMATCH, "node %s: indices of %s are not supported", WHERE(node),
                        dlc_dtype_name(idx->dtype));
    int32_t rank = idx->shape.rank + 1, axis;
    if (rank > DLC_MAX_RANK)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: result rank %d exceeds %d", WHERE(node), rank, DLC_MAX_RANK);
    DLC_TRY(dlc_normalize_axis(node, dlc_node_attr_int(node, "axis", -1), rank, &axis));
    dlc_shape out = {.rank = rank};
    for (int32_t o = 0, i = 0; o < rank; o++) out.dims[o] = o == axis ? (dlc_dim){(int64_t)d, 0} : idx->shape.dims[i++];
    node->outputs[0]->dtype = values->dtype;
    node->outputs[0]->shape = out;
    return DLC_OK;
}

static dlc_status onehot_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    int32_t axis;
    DLC_TRY(dlc_normalize_axis(node, dlc_node_attr_int(node, "axis", -1), node->outputs[0]->shape.rank, &axis));
    dlc_kcall_init(call, "onehot");
    return dlc_kcall_push_int(call, axis);
}

/* ---- CumSum -------------------------------------------------------------------------------- */

static dlc_status cumsum_infer(dlc_graph *g, dlc_node *node) {
    char where[256];
    const dlc_value *x = node->inputs[0], *axis = node->inputs[1];
    DLC_TRY(tu_require_rank(g, node, x, "input"));
    DLC_TRY(require_index_dtype(node, axis, "axis"));
    switch (x->dtype) {
    case DLC_FLOAT32: case DLC_FLOAT64: case DLC_FLOAT16: case DLC_BFLOAT16:
    case DLC_INT32: case DLC_INT64: case DLC_UINT32: case DLC_UINT64: break;
    default:
        return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: CumSum of %s is not supported", WHERE(node),
                        dlc_dtype_name(x->dtype));
    }
    if (x->shape.rank < 1)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: CumSum needs rank >= 1", WHERE(node));
    if (axis->kind == DLC_VALUE_CONST) {
        int64_t a[1];
        int32_t n;
        DLC_TRY(tu_const_ints(node, 1, "axis", a, 1, &n));
        int32_t norm;
        if (n != 1) return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: axis must be a scalar", WHERE(node));
        DLC_TRY(dlc_normalize_axis(node, a[0], x->shape.rank, &norm));
    }
    node->outputs[0]->dtype = x->dtype;
    node->outputs[0]->shape = x->shape;
    return DLC_OK;
}

static dlc_status cumsum_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    dlc_kcall_init(call, "cumsum");
    DLC_TRY(dlc_kcall_push_int(call, dlc_node_attr_int(node, "exclusive", 0) != 0));
    return dlc_kcall_push_int(call, dlc_node_attr_int(node, "reverse", 0) != 0);
}

/* ---- Trilu -------------------------------------------------------------------------------------- */

static dlc_status trilu_infer(dlc_graph *g, dlc_node *node) {
    char where[256];
    const dlc_value *x = node->inputs[0], *k = tu_input(node, 1);
    DLC_TRY(tu_require_rank(g, node, x, "input"));
    if (x->shape.rank < 2) return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: Trilu needs rank >= 2", WHERE(node));
    if (k != NULL) DLC_TRY(require_index_dtype(node, k, "k"));
    node->outputs[0]->dtype = x->dtype;
    node->outputs[0]->shape = x->shape;
    return DLC_OK;
}

static dlc_status trilu_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    dlc_kcall_init(call, "trilu");
    DLC_TRY(dlc_kcall_push_int(call, dlc_node_attr_int(node, "upper", 1) != 0));
    return dlc_kcall_push_int(call, 0); /* k comes from input 1 when present */
}

/* ---- Pad ----------------------------------------------------------------------------------------- */

typedef struct pad_plan {
    int64_t mode;
    int64_t begin[DLC_MAX_RANK], end[DLC_MAX_RANK];
    int64_t value_bits[2];
} pad_plan;

static dlc_status pad_read(const dlc_graph *g, const dlc_node *node, pad_plan *plan) {
    char where[256];
    const dlc_value *x = node->inputs[0];
    DLC_TRY(tu_require_rank(g, node, x, "input"));
    int32_t rank = x->shape.rank;
    const char *mode = dlc_node_attr_string(node, "mode", "constant");
    static const char *const modes[] = {"constant", "reflect", "edge", "wrap"};
    plan->mode = -1;
    for (int64_t i = 0; i < (node->opset >= 19 ? 4 : 3); i++)
        if (strcmp(mode, modes[i]) == 0) plan->mode = i;
    if (plan->mode < 0) return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: pad mode '%s' is not supported", WHERE(node), mode);
    int64_t pads[2 * DLC_TENSOR_MAX_CONST_INTS], axes[DLC_TENSOR_MAX_CONST_INTS];
    int32_t np, na = -1;
    double value = 0.0;
    if (node->opset < 11) {
        const int64_t *p = dlc_node_attr_ints(node, "pads", &np);
        if (p == NULL) return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: attribute 'pads' is missing", WHERE(node));
        if (np > 2 * DLC_MAX_RANK) np = 2 * DLC_MAX_RANK + 1;
        else memcpy(pads, p, (size_t)np * sizeof *pads);
        value = dlc_node_attr_float(node, "value", 0.0);
    } else {
        DLC_TRY(tu_const_ints(node, 1, "pads", pads, 2 * DLC_TENSOR_MAX_CONST_INTS, &np));
        if (tu_input(node, 3) != NULL) DLC_TRY(tu_const_ints(node, 3, "axes", axes, DLC_TENSOR_MAX_CONST_INTS, &na));
        const dlc_value *cv = tu_input(node, 2);
        if (cv != NULL && cv->dtype != x->dtype)
            return dlc_fail(DLC_ERR_DTYPE_MISMATCH, "node %s: constant_value is %s but data is %s", WHERE(node),
                            dlc_dtype_name(cv->dtype), dlc_dtype_name(x->dtype));
    }
    int32_t count = na >= 0 ? na : rank;
    if (np != 2 * count)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: %d pads for %d axes (need 2 per axis)", WHERE(node), np,
                        count);
    int32_t norm[DLC_MAX_RANK];
    if (na < 0)
        for (int32_t i = 0; i < count; i++) axes[i] = i;
    if (count > DLC_MAX_RANK) return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: too many axes", WHERE(node));
    DLC_TRY(tu_normalize_axes(node, axes, count, rank, norm));
    memset(plan->begin, 0, sizeof plan->begin);
    memset(plan->end, 0, sizeof plan->end);
    for (int32_t i = 0; i < count; i++) {
        plan->begin[norm[i]] = pads[i];
        plan->end[norm[i]] = pads[count + i];
    }
    if (dlc_dtype_size(x->dtype) == 0 || dlc_dtype_size(x->dtype) > 16)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: Pad of %s is not supported", WHERE(node),
                        dlc_dtype_name(x->dtype));
    return tu_element_bits(node, x->dtype, value, plan->value_bits);
}

static dlc_status pad_infer(dlc_graph *g, dlc_node *node) {
    char where[256], sa[160];
    pad_plan plan;
    DLC_TRY(pad_read(g, node, &plan));
    const dlc_value *x = node->inputs[0];
    dlc_shape out = x->shape;
    for (int32_t d = 0; d < out.rank; d++) {
        if (plan.begin[d] == 0 && plan.end[d] == 0) continue;
        dlc_dim dim = x->shape.dims[d];
        if (!dlc_dim_is_static(dim)) {
            DLC_TRY(tu_fresh_dim(g, node, 0, d, &out.dims[d]));
            continue;
        }
        int64_t n = dim.value + plan.begin[d] + plan.end[d];
        if (n < 0)
            return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: pads %lld/%lld leave a negative size on axis %d of %s",
                            WHERE(node), (long long)plan.begin[d], (long long)plan.end[d], d,
                            dlc_shape_format(g, &x->shape, sa, sizeof sa));
        if (plan.mode != 0 && dim.value == 0 && n > 0)
            return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: cannot pad the empty axis %d of %s in a non-constant mode",
                            WHERE(node), d, dlc_shape_format(g, &x->shape, sa, sizeof sa));
        out.dims[d] = (dlc_dim){n, 0};
    }
    node->outputs[0]->dtype = x->dtype;
    node->outputs[0]->shape = out;
    return DLC_OK;
}

static dlc_status pad_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    pad_plan plan;
    DLC_TRY(pad_read(g, node, &plan));
    dlc_kcall_init(call, "pad");
    DLC_TRY(dlc_kcall_push_int(call, plan.mode));
    DLC_TRY(dlc_kcall_push_ints(call, plan.value_bits, 2));
    return dlc_kcall_push_ints(call, plan.begin, node->inputs[0]->shape.rank);
}

/* ---- DepthToSpace / SpaceToDepth ------------------------------------------------------------ */

static dlc_status space_depth_check(const dlc_graph *g, const dlc_node *node, int64_t *block) {
    char where[256], sa[160];
    const dlc_value *x = node->inputs[0];
    DLC_TRY(tu_require_rank(g, node, x, "input"));
    *block = dlc_node_attr_int(node, "blocksize", 0);
    if (*block < 1) return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: blocksize must be >= 1", WHERE(node));
    if (x->shape.rank != 4)
        return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: input %s must be 4-D (NCHW)", WHERE(node),
                        dlc_shape_format(g, &x->shape, sa, sizeof sa));
    return DLC_OK;
}

/* Static dim / b, or a fresh symbol. */
static dlc_status divide_dim(dlc_graph *g, const dlc_node *node, dlc_dim dim, int64_t b, int32_t axis, dlc_dim *out) {
    char where[256], sa[160];
    if (!dlc_dim_is_static(dim)) return tu_fresh_dim(g, node, 0, axis, out);
    if (dim.value % b != 0)
        return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: axis %d of %s (%lld) is not divisible by %lld", WHERE(node),
                        axis, dlc_shape_format(g, &node->inputs[0]->shape, sa, sizeof sa), (long long)dim.value,
                        (long long)b);
    *out = (dlc_dim){dim.value / b, 0};
    return DLC_OK;
}

static dlc_status multiply_dim(dlc_graph *g, const dlc_node *node, dlc_dim dim, int64_t b, int32_t axis, dlc_dim *out) {
    if (!dlc_dim_is_static(dim)) return tu_fresh_dim(g, node, 0, axis, out);
    *out = (dlc_dim){dim.value * b, 0};
    return DLC_OK;
}

static dlc_status depth_to_space_infer(dlc_graph *g, dlc_node *node) {
    char where[256];
    int64_t b;
    DLC_TRY(space_depth_check(g, node, &b));
    const char *mode = node->opset >= 11 ? dlc_node_attr_string(node, "mode", "DCR") : "DCR";
    if (strcmp(mode, "DCR") != 0 && strcmp(mode, "CRD") != 0)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: mode '%s' is neither DCR nor CRD", WHERE(node), mode);
    const dlc_shape *s = &node->inputs[0]->shape;
    dlc_shape out = {.rank = 4, .dims = {s->dims[0]}};
    DLC_TRY(divide_dim(g, node, s->dims[1], b * b, 1, &out.dims[1]));
    DLC_TRY(multiply_dim(g, node, s->dims[2], b, 2, &out.dims[2]));
    DLC_TRY(multiply_dim(g, node, s->dims[3], b, 3, &out.dims[3]));
    node->outputs[0]->dtype = node->inputs[0]->dtype;
    node->outputs[0]->shape = out;
    return DLC_OK;
}

static dlc_status depth_to_space_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    const dlc_shape *s = &node->inputs[0]->shape;
    int64_t b = dlc_node_attr_int(node, "blocksize", 1);
    int64_t N = s->dims[0].value, C = s->dims[1].value, H = s->dims[2].value, W = s->dims[3].value, Co = C / (b * b);
    bool crd = node->opset >= 11 && strcmp(dlc_node_attr_string(node, "mode", "DCR"), "CRD") == 0;
    /* input channel = DCR: (b1 * b + b2) * Co + c;  CRD: (c * b + b1) * b + b2 */
    int64_t s_c = crd ? b * b * H * W : H * W, s_b1 = crd ? b * H * W : b * Co * H * W, s_b2 = crd ? H * W : Co * H * W;
    /* output seen as [N, Co, H, b1, W, b2] */
    int64_t dims[6] = {N, Co, H, b, W, b};
    int64_t strides[6] = {C * H * W, s_c, W, s_b1, 1, s_b2};
    return tu_lower_strided(call, 6, dims, strides, 0);
}

static dlc_status space_to_depth_infer(dlc_graph *g, dlc_node *node) {
    int64_t b;
    DLC_TRY(space_depth_check(g, node, &b));
    const dlc_shape *s = &node->inputs[0]->shape;
    dlc_shape out = {.rank = 4, .dims = {s->dims[0]}};
    DLC_TRY(multiply_dim(g, node, s->dims[1], b * b, 1, &out.dims[1]));
    DLC_TRY(divide_dim(g, node, s->dims[2], b, 2, &out.dims[2]));
    DLC_TRY(divide_dim(g, node, s->dims[3], b, 3, &out.dims[3]));
    node->outputs[0]->dtype = node->inputs[0]->dtype;
    node->outputs[0]->shape = out;
    return DLC_OK;
}

static dlc_status space_to_depth_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    const dlc_shape *s = &node->inputs[0]->shape;
    int64_t b = dlc_node_attr_int(node, "blocksize", 1);
    int64_t N = s->dims[0].value, C = s->dims[1].value, H = s->dims[2].value, W = s->dims[3].value;
    /* output channel = (b1 * b + b2) * C + c; output seen as [N, b1, b2, C, H/b, W/b] */
    int64_t dims[6] = {N, b, b, C, H / b, W / b};
    int64_t strides[6] = {C * H * W, W, 1, H * W, b * W, b};
    return tu_lower_strided(call, 6, dims, strides, 0);
}

const dlc_op_schema dlc_ops_tensor_index[] = {
    {"Slice", "", 1, 1, 5, 1, 1, slice_infer, slice_lower, no_flops, 1u << 1 | 1u << 2 | 1u << 3 | 1u << 4},
    {"Gather", "", 1, 2, 2, 1, 1, gather_infer, gather_lower, no_flops},
    {"GatherElements", "", 11, 2, 2, 1, 1, gather_elements_infer, gather_elements_lower, no_flops},
    {"ScatterElements", "", 11, 3, 3, 1, 1, scatter_elements_infer, scatter_elements_lower, no_flops},
    {"Scatter", "", 9, 3, 3, 1, 1, scatter_elements_infer, scatter_elements_lower, no_flops},
    {"OneHot", "", 9, 3, 3, 1, 1, onehot_infer, onehot_lower, no_flops, 1u << 1},
    {"CumSum", "", 11, 2, 2, 1, 1, cumsum_infer, cumsum_lower, NULL},
    {"Trilu", "", 14, 1, 2, 1, 1, trilu_infer, trilu_lower, no_flops},
    {"Pad", "", 2, 1, 4, 1, 1, pad_infer, pad_lower, no_flops, 1u << 1 | 1u << 2 | 1u << 3},
    {"DepthToSpace", "", 1, 1, 1, 1, 1, depth_to_space_infer, depth_to_space_lower, no_flops},
    {"SpaceToDepth", "", 1, 1, 1, 1, 1, space_to_depth_infer, space_to_depth_lower, no_flops},
    {0},
};
