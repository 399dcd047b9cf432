/* GridSample (opset 16, 4-D): samples X [N,C,H,W] at the normalized (x, y)
 * positions of grid [N,Ho,Wo,2]. mode bilinear/nearest/bicubic,
 * padding_mode zeros/border/reflection, align_corners — with PyTorch's
 * grid_sample semantics, which the ONNX spec follows. */
#include <string.h>

#include "ir/op_registry.h"
#include "runtime/status.h"

static int64_t code_of(const char *value, const char *const *names, int64_t count) {
    for (int64_t i = 0; i < count; i++)
        if (strcmp(value, names[i]) == 0) return i;
    return -1;
}

static const char *const modes[] = {"bilinear", "nearest", "bicubic"};
static const char *const paddings[] = {"zeros", "border", "reflection"};

static dlc_status grid_sample_infer(dlc_graph *g, dlc_node *node) {
    char where[256], a[160], b[160];
    dlc_node_describe(node, where, sizeof where);
    const dlc_value *x = node->inputs[0], *grid = node->inputs[1];
    if (x->shape.rank != 4 || grid->shape.rank != 4 || grid->shape.dims[3].value != 2 ||
        (x->shape.dims[0].value >= 0 && grid->shape.dims[0].value >= 0 &&
         x->shape.dims[0].value != grid->shape.dims[0].value))
        return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: X %s and grid %s must be [N,C,H,W] and [N,Ho,Wo,2]", where,
                        dlc_shape_format(g, &x->shape, a, sizeof a), dlc_shape_format(g, &grid->shape, b, sizeof b));
    if (code_of(dlc_node_attr_string(node, "mode", "bilinear"), modes, 3) < 0 ||
        code_of(dlc_node_attr_string(node, "padding_mode", "zeros"), paddings, 3) < 0)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: unknown mode or padding_mode", where);
    if (!dlc_dtype_is_float(x->dtype))
        return dlc_fail(DLC_ERR_DTYPE_MISMATCH, "node %s: X must be float, got %s", where, dlc_dtype_name(x->dtype));
    dlc_shape out = x->shape;
    out.dims[2] = grid->shape.dims[1];
    out.dims[3] = grid->shape.dims[2];
    node->outputs[0]->dtype = x->dtype;
    node->outputs[0]->shape = out;
    return DLC_OK;
}

/* ints: mode, padding, align_corners */
static dlc_status grid_sample_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    dlc_kcall_init(call, "grid_sample");
    DLC_TRY(dlc_kcall_push_int(call, code_of(dlc_node_attr_string(node, "mode", "bilinear"), modes, 3)));
    DLC_TRY(dlc_kcall_push_int(call, code_of(dlc_node_attr_string(node, "padding_mode", "zeros"), paddings, 3)));
    return dlc_kcall_push_int(call, dlc_node_attr_int(node, "align_corners", 0));
}

const dlc_op_schema dlc_ops_grid_sample[] = {
    {"GridSample", "", 16, 2, 2, 1, 1, grid_sample_infer, grid_sample_lower, NULL},
    {0},
};
