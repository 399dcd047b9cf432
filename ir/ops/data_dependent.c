/* Ops whose output extent depends on the data: NonZero, Compress, Unique,
 * NonMaxSuppression. Kernels: kernels/data_dependent.c.
 *
 * dlc compiles static shapes, so each such dim gets an upper bound here
 * (NonZero: numel; Compress: the condition's length or the axis extent,
 * whichever is smaller; Unique: numel or the axis extent; NMS:
 * batches * classes * min(boxes, max_output_boxes_per_class when constant))
 * and is marked in dlc_value.bounded_dims. Buffers are planned for the bound;
 * the kernel writes its output dense for the actual extent and reports it,
 * which the artifact returns to the caller (dlc_artifact_run_args.output_dims).
 * passes/bounded_dims.c refuses consumers that would need the extent at
 * compile time. With constant inputs the folder runs the kernel and the
 * result takes its actual shape. */
#include "ir/op_registry.h"
#include "runtime/status.h"

#define WHERE(node) dlc_node_describe((node), where, sizeof where)

static int64_t no_flops(const dlc_node *node) {
    (void)node;
    return 0;
}

static dlc_status need_static(const dlc_graph *g, const dlc_node *node, const dlc_value *v, const char *what) {
    char where[256], shape[256];
    if (v->shape.rank >= 0 && dlc_shape_is_static(&v->shape)) return DLC_OK;
    return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: %s '%s' has shape %s; its bound needs static dims", WHERE(node),
                    what, v->name,
                    v->shape.rank < 0 ? "of unknown rank" : dlc_shape_format(g, &v->shape, shape, sizeof shape));
}

static dlc_status need_sized_dtype(const dlc_node *node, const dlc_value *v, const char *what) {
    char where[256];
    if (dlc_dtype_size(v->dtype) > 0 && v->dtype != DLC_COMPLEX64 && v->dtype != DLC_COMPLEX128) return DLC_OK;
    return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: %s '%s' of dtype %s is not supported", WHERE(node), what, v->name,
                    dlc_dtype_name(v->dtype));
}

/* ---- NonZero(X) -> int64 [max(rank,1), count <= numel] --------------------- */
static dlc_status nonzero_infer(dlc_graph *g, dlc_node *node) {
    const dlc_value *x = node->inputs[0];
    DLC_TRY(need_static(g, node, x, "input"));
    DLC_TRY(need_sized_dtype(node, x, "input"));
    dlc_value *y = node->outputs[0];
    y->dtype = DLC_INT64;
    y->shape = dlc_shape_make(2, (int64_t[]){x->shape.rank > 0 ? x->shape.rank : 1, dlc_value_numel(x)});
    y->bounded_dims = 1u << 1;
    return DLC_OK;
}

static dlc_status nonzero_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    (void)g;
    (void)node;
    dlc_kcall_init(call, "nonzero");
    return DLC_OK;
}

/* ---- Compress(input, condition) {axis} ------------------------------------- */
static dlc_status compress_axis(const dlc_node *node, int32_t rank, int32_t *out_axis) {
    if (dlc_node_attr(node, "axis") == NULL) {
        *out_axis = -1;
        return DLC_OK;
    }
    return dlc_normalize_axis(node, dlc_node_attr_int(node, "axis", 0), rank, out_axis);
}

static dlc_status compress_infer(dlc_graph *g, dlc_node *node) {
    char where[256], shape[256];
    const dlc_value *x = node->inputs[0], *cond = node->inputs[1];
    DLC_TRY(need_static(g, node, x, "input"));
    DLC_TRY(need_static(g, node, cond, "condition"));
    DLC_TRY(need_sized_dtype(node, x, "input"));
    if (cond->dtype != DLC_BOOL || cond->shape.rank != 1)
        return dlc_fail(DLC_ERR_DTYPE_MISMATCH, "node %s: condition '%s' must be a 1-D bool tensor, is %s%s",
                        WHERE(node), cond->name, dlc_dtype_name(cond->dtype),
                        dlc_shape_format(g, &cond->shape, shape, sizeof shape));
    int32_t axis;
    DLC_TRY(compress_axis(node, x->shape.rank, &axis));
    int64_t len = cond->shape.dims[0].value;
    dlc_value *y = node->outputs[0];
    y->dtype = x->dtype;
    if (axis < 0) {
        int64_t n = dlc_value_numel(x);
        y->shape = dlc_shape_make(1, (int64_t[]){len < n ? len : n});
        y->bounded_dims = 1u;
    } else {
        int64_t extent = x->shape.dims[axis].value;
        y->shape = x->shape;
        y->shape.dims[axis] = (dlc_dim){len < extent ? len : extent, -1};
        y->bounded_dims = 1u << axis;
    }
    return DLC_OK;
}

static dlc_status compress_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    (void)g;
    int32_t axis;
    DLC_TRY(compress_axis(node, node->inputs[0]->shape.rank, &axis));
    dlc_kcall_init(call, "compress");
    return dlc_kcall_push_int(call, axis);
}

/* ---- Unique(X) {axis, sorted} -> Y, indices, inverse_indices, counts -------- */
static dlc_status unique_axis(const dlc_node *node, int32_t rank, int32_t *out_axis) {
    if (dlc_node_attr(node, "axis") == NULL) {
        *out_axis = -1;
        return DLC_OK;
    }
    return dlc_normalize_axis(node, dlc_node_attr_int(node, "axis", 0), rank, out_axis);
}

static dlc_status unique_infer(dlc_graph *g, dlc_node *node) {
    const dlc_value *x = node->inputs[0];
    DLC_TRY(need_static(g, node, x, "input"));
    DLC_TRY(need_sized_dtype(node, x, "input"));
    int32_t axis;
    DLC_TRY(unique_axis(node, x->shape.rank, &axis));
    int64_t n = axis < 0 ? dlc_value_numel(x) : x->shape.dims[axis].value;
    dlc_value *y = node->outputs[0];
    y->dtype = x->dtype;
    if (axis < 0) {
        y->shape = dlc_shape_make(1, (int64_t[]){n});
        y->bounded_dims = 1u;
    } else {
        y->shape = x->shape;
        y->bounded_dims = 1u << axis;
    }
    for (int32_t o = 1; o < node->num_outputs; o++) {
        dlc_value *v = node->outputs[o];
        if (v == NULL) continue;
        v->dtype = DLC_INT64;
        v->shape = dlc_shape_make(1, (int64_t[]){n});
        v->bounded_dims = o == 2 ? 0u : 1u; /* inverse_indices: one per input slice */
    }
    return DLC_OK;
}

static dlc_status unique_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    (void)g;
    int32_t axis;
    DLC_TRY(unique_axis(node, node->inputs[0]->shape.rank, &axis));
    dlc_kcall_init(call, "unique");
    DLC_TRY(dlc_kcall_push_int(call, axis));
    return dlc_kcall_push_int(call, dlc_node_attr_int(node, "sorted", 1) != 0);
}

/* ---- NonMaxSuppression(boxes, scores, max_output_boxes_per_class,
 *      iou_threshold, score_threshold) {center_point_box} -> int64 [k, 3] ---- */
static dlc_status nms_scalar(const dlc_graph *g, const dlc_node *node, int32_t index, const char *what,
                             dlc_dtype dtype) {
    char where[256], shape[256];
    const dlc_value *v = index < node->num_inputs ? node->inputs[index] : NULL;
    if (v == NULL) return DLC_OK;
    if (v->dtype != dtype || dlc_value_numel(v) != 1)
        return dlc_fail(DLC_ERR_DTYPE_MISMATCH, "node %s: %s '%s' must be a %s scalar (or 1-element tensor), is %s%s",
                        WHERE(node), what, v->name, dlc_dtype_name(dtype), dlc_dtype_name(v->dtype),
                        dlc_shape_format(g, &v->shape, shape, sizeof shape));
    return DLC_OK;
}

static dlc_status nms_infer(dlc_graph *g, dlc_node *node) {
    char where[256], a[256], b[256];
    const dlc_value *boxes = node->inputs[0], *scores = node->inputs[1];
    DLC_TRY(need_static(g, node, boxes, "boxes"));
    DLC_TRY(need_static(g, node, scores, "scores"));
    if (boxes->dtype != DLC_FLOAT32 || scores->dtype != DLC_FLOAT32)
        return dlc_fail(DLC_ERR_DTYPE_MISMATCH, "node %s: boxes and scores must be float32, are %s and %s",
                        WHERE(node), dlc_dtype_name(boxes->dtype), dlc_dtype_name(scores->dtype));
    const dlc_shape *bs = &boxes->shape, *ss = &scores->shape;
    if (bs->rank != 3 || ss->rank != 3 || bs->dims[2].value != 4 || bs->dims[0].value != ss->dims[0].value ||
        bs->dims[1].value != ss->dims[2].value)
        return dlc_fail(DLC_ERR_SHAPE_MISMATCH,
                        "node %s: boxes %s and scores %s do not fit [batches, boxes, 4] and [batches, classes, "
                        "boxes]",
                        WHERE(node), dlc_shape_format(g, bs, a, sizeof a), dlc_shape_format(g, ss, b, sizeof b));
    int64_t center = dlc_node_attr_int(node, "center_point_box", 0);
    if (center != 0 && center != 1)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: center_point_box must be 0 or 1, is %lld", WHERE(node),
                        (long long)center);
    const dlc_value *max_out = node->num_inputs > 2 ? node->inputs[2] : NULL;
    if (max_out != NULL && max_out->dtype != DLC_INT64)
        return dlc_fail(DLC_ERR_DTYPE_MISMATCH, "node %s: max_output_boxes_per_class '%s' must be int64, is %s",
                        WHERE(node), max_out->name, dlc_dtype_name(max_out->dtype));
    DLC_TRY(nms_scalar(g, node, 2, "max_output_boxes_per_class", DLC_INT64));
    DLC_TRY(nms_scalar(g, node, 3, "iou_threshold", DLC_FLOAT32));
    DLC_TRY(nms_scalar(g, node, 4, "score_threshold", DLC_FLOAT32));
    /* at most min(boxes, max_output_boxes_per_class) per batch and class; a
     * run-time max allows all boxes */
    int64_t per_class = bs->dims[1].value;
    if (max_out == NULL) {
        per_class = 0;
    } else if (max_out->kind == DLC_VALUE_CONST) {
        double m;
        DLC_TRY(dlc_value_const_scalar(max_out, &m));
        if (m < (double)per_class) per_class = m > 0 ? (int64_t)m : 0;
    }
    int64_t bound;
    if (!dlc_mul_size(bs->dims[0].value, ss->dims[1].value, &bound) || !dlc_mul_size(bound, per_class, &bound))
        return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: the output bound overflows", WHERE(node));
    dlc_value *y = node->outputs[0];
    y->dtype = DLC_INT64;
    y->shape = dlc_shape_make(2, (int64_t[]){bound, 3});
    y->bounded_dims = 1u;
    return DLC_OK;
}

static dlc_status nms_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    (void)g;
    dlc_kcall_init(call, "nms");
    return dlc_kcall_push_int(call, dlc_node_attr_int(node, "center_point_box", 0));
}

const dlc_op_schema dlc_ops_data_dependent[] = {
    {"NonZero", "", 9, 1, 1, 1, 1, nonzero_infer, nonzero_lower, no_flops},
    {"Compress", "", 9, 2, 2, 1, 1, compress_infer, compress_lower, no_flops},
    {"Unique", "", 11, 1, 1, 1, 4, unique_infer, unique_lower, no_flops},
    {"NonMaxSuppression", "", 10, 2, 5, 1, 1, nms_infer, nms_lower, no_flops},
    {0},
};
