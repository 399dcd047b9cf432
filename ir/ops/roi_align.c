/* RoiAlign (opset 10/16): X [N,C,H,W], rois [R,4] (x1,y1,x2,y2), batch_indices
 * [R] -> [R,C,output_height,output_width]. Each bin averages (or maxes)
 * sampling_ratio^2 bilinear samples (adaptive when 0: ceil(roi size / bins)).
 * coordinate_transformation_mode half_pixel shifts by -0.5 (opset 16's
 * default); output_half_pixel is opset 10's behaviour. */
#include <string.h>

#include "ir/op_registry.h"
#include "runtime/status.h"

static dlc_status roi_align_infer(dlc_graph *g, dlc_node *node) {
    char where[256], a[160], b[160];
    dlc_node_describe(node, where, sizeof where);
    const dlc_value *x = node->inputs[0], *rois = node->inputs[1], *idx = node->inputs[2];
    if (x->shape.rank != 4 || rois->shape.rank != 2 || rois->shape.dims[1].value != 4 || idx->shape.rank != 1)
        return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: X %s and rois %s must be [N,C,H,W] and [R,4]", where,
                        dlc_shape_format(g, &x->shape, a, sizeof a), dlc_shape_format(g, &rois->shape, b, sizeof b));
    if (idx->dtype != DLC_INT64 || rois->dtype != x->dtype)
        return dlc_fail(DLC_ERR_DTYPE_MISMATCH, "node %s: rois must match X's dtype and batch_indices be int64", where);
    const char *mode = dlc_node_attr_string(node, "mode", "avg");
    if (strcmp(mode, "avg") != 0 && strcmp(mode, "max") != 0)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: mode '%s' is not avg or max", where, mode);
    int64_t height = dlc_node_attr_int(node, "output_height", 1), width = dlc_node_attr_int(node, "output_width", 1);
    if (height < 1 || width < 1 || dlc_node_attr_int(node, "sampling_ratio", 0) < 0)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: output_height %lld and output_width %lld must be positive, "
                        "sampling_ratio non-negative", where, (long long)height, (long long)width);
    dlc_shape out = {.rank = 4};
    out.dims[0] = rois->shape.dims[0];
    out.dims[1] = x->shape.dims[1];
    out.dims[2] = (dlc_dim){dlc_node_attr_int(node, "output_height", 1), 0};
    out.dims[3] = (dlc_dim){dlc_node_attr_int(node, "output_width", 1), 0};
    node->outputs[0]->dtype = x->dtype;
    node->outputs[0]->shape = out;
    return DLC_OK;
}

/* ints: max_mode, sampling_ratio, half_pixel; floats: spatial_scale */
static dlc_status roi_align_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    const char *ctm = dlc_node_attr_string(node, "coordinate_transformation_mode",
                                           node->opset >= 16 ? "half_pixel" : "output_half_pixel");
    dlc_kcall_init(call, "roi_align");
    DLC_TRY(dlc_kcall_push_int(call, strcmp(dlc_node_attr_string(node, "mode", "avg"), "max") == 0));
    DLC_TRY(dlc_kcall_push_int(call, dlc_node_attr_int(node, "sampling_ratio", 0)));
    DLC_TRY(dlc_kcall_push_int(call, strcmp(ctm, "half_pixel") == 0));
    return dlc_kcall_push_float(call, dlc_node_attr_float(node, "spatial_scale", 1.0));
}

const dlc_op_schema dlc_ops_roi_align[] = {
    {"RoiAlign", "", 10, 3, 3, 1, 1, roi_align_infer, roi_align_lower, NULL},
    {0},
};
