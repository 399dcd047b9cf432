/* Resize (opset 10-19) and Upsample (opset 7-9): schema, output size rule
 * and lowering to kernels/resize.c (parameter layout there).
 *
 * Scales, sizes and roi must be constants (the output shape depends on
 * them). Opset 10 Resize and Upsample use the asymmetric coordinate
 * transform; Upsample's nearest takes the floor (it repeats pixels). */
#include <math.h>
#include <string.h>

#include "ir/ops/tensor_util.h"
#include "kernels/dlc_kernel.h"
#include "runtime/status.h"

#define WHERE(node) dlc_node_describe((node), where, sizeof where)

typedef struct resize_plan {
    int64_t mode, coord_mode, nearest_mode, exclude_outside;
    double cubic_a, extrapolation;
    double scales[DLC_MAX_RANK], roi_start[DLC_MAX_RANK], roi_end[DLC_MAX_RANK];
    int64_t out_dims[DLC_MAX_RANK];
} resize_plan;

static int64_t find_name(const char *s, const char *const *names, int64_t count) {
    for (int64_t i = 0; i < count; i++)
        if (strcmp(s, names[i]) == 0) return i;
    return -1;
}

/* Floats of a CONST input (any float dtype); count -1 when absent or empty. */
static dlc_status const_floats(const dlc_node *node, int32_t index, const char *what, double *out, int32_t max,
                               int32_t *count) {
    char where[256];
    const dlc_value *v = tu_input(node, index);
    *count = -1;
    if (v == NULL) return DLC_OK;
    if (v->kind != DLC_VALUE_CONST)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: %s '%s' must be a constant to know the output shape",
                        WHERE(node), what, v->name);
    int64_t n = dlc_value_numel(v);
    if (n == 0) return DLC_OK;
    if (n < 0 || n > max)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: %s has %lld values, at most %d expected", WHERE(node), what,
                        (long long)n, max);
    for (int64_t i = 0; i < n; i++) {
        switch (v->dtype) {
        case DLC_FLOAT32: out[i] = ((const float *)v->data)[i]; break;
        case DLC_FLOAT64: out[i] = ((const double *)v->data)[i]; break;
        case DLC_FLOAT16: out[i] = dlc_f16_to_f32(((const uint16_t *)v->data)[i]); break;
        case DLC_BFLOAT16: out[i] = dlc_bf16_to_f32(((const uint16_t *)v->data)[i]); break;
        default:
            return dlc_fail(DLC_ERR_DTYPE_MISMATCH, "node %s: %s must be floating point, is %s", WHERE(node), what,
                            dlc_dtype_name(v->dtype));
        }
    }
    *count = (int32_t)n;
    return DLC_OK;
}

/* Reads the attributes and constant inputs and computes the output size. */
static dlc_status resize_read(const dlc_graph *g, const dlc_node *node, resize_plan *plan) {
    char where[256], sa[160];
    const dlc_value *x = node->inputs[0];
    DLC_TRY(tu_require_rank(g, node, x, "input"));
    int32_t rank = x->shape.rank;
    if (rank < 1) return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: input must have rank >= 1", WHERE(node));
    bool upsample = strcmp(node->op_type, "Upsample") == 0;
    static const char *const modes[] = {"nearest", "linear", "cubic"};
    static const char *const coords[] = {"half_pixel", "asymmetric", "align_corners", "pytorch_half_pixel",
                                         "tf_half_pixel_for_nearest", "half_pixel_symmetric", "tf_crop_and_resize"};
    static const char *const nearest[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
    const char *mode = dlc_node_attr_string(node, "mode", "nearest");
    plan->mode = find_name(mode, modes, upsample ? 2 : 3);
    if (upsample && strcmp(mode, "bilinear") == 0) plan->mode = 1;
    if (plan->mode < 0) return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: mode '%s' is not supported", WHERE(node), mode);
    bool modern = !upsample && node->opset >= 11;
    const char *coord = modern ? dlc_node_attr_string(node, "coordinate_transformation_mode", "half_pixel") : "asymmetric";
    plan->coord_mode = find_name(coord, coords, 7);
    if (plan->coord_mode < 0)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: coordinate_transformation_mode '%s' is not supported",
                        WHERE(node), coord);
    const char *nm = modern ? dlc_node_attr_string(node, "nearest_mode", "round_prefer_floor")
                     : upsample ? "floor" : "round_prefer_floor";
    plan->nearest_mode = find_name(nm, nearest, 4);
    if (plan->nearest_mode < 0)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: nearest_mode '%s' is not supported", WHERE(node), nm);
    plan->exclude_outside = modern && dlc_node_attr_int(node, "exclude_outside", 0) != 0;
    plan->cubic_a = dlc_node_attr_float(node, "cubic_coeff_a", -0.75);
    plan->extrapolation = dlc_node_attr_float(node, "extrapolation_value", 0.0);
    if (node->opset >= 18 && dlc_node_attr_int(node, "antialias", 0) != 0 && plan->mode != 0)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: antialias is not supported", WHERE(node));

    /* axes (opset 18) choose which dims scales/sizes/roi talk about */
    int32_t axes[DLC_MAX_RANK], naxes = rank;
    for (int32_t d = 0; d < rank; d++) axes[d] = d;
    int32_t nattr;
    const int64_t *axes_attr = node->opset >= 18 ? dlc_node_attr_ints(node, "axes", &nattr) : NULL;
    if (axes_attr != NULL) {
        if (nattr > rank) return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: more axes than dims", WHERE(node));
        naxes = nattr;
        DLC_TRY(tu_normalize_axes(node, axes_attr, nattr, rank, axes));
    }

    double scales[DLC_MAX_RANK], roi[2 * DLC_MAX_RANK];
    int64_t sizes[DLC_MAX_RANK];
    int32_t nscales = -1, nsizes = -1, nroi = -1;
    if (upsample && node->opset < 9) {
        const double *s = dlc_node_attr_floats(node, "scales", &nscales);
        if (s == NULL) return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: attribute 'scales' is missing", WHERE(node));
        if (nscales > DLC_MAX_RANK) nscales = DLC_MAX_RANK + 1;
        else memcpy(scales, s, (size_t)nscales * sizeof *scales);
    } else if (upsample || node->opset < 11) {
        DLC_TRY(const_floats(node, 1, "scales", scales, DLC_MAX_RANK, &nscales));
    } else {
        DLC_TRY(const_floats(node, 1, "roi", roi, 2 * DLC_MAX_RANK, &nroi));
        DLC_TRY(const_floats(node, 2, "scales", scales, DLC_MAX_RANK, &nscales));
        if (tu_input(node, 3) != NULL && dlc_value_numel(tu_input(node, 3)) != 0)
            DLC_TRY(tu_const_ints(node, 3, "sizes", sizes, DLC_MAX_RANK, &nsizes));
    }
    if ((nscales >= 0) == (nsizes >= 0))
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: exactly one of scales and sizes must be given", WHERE(node));
    int32_t given = nscales >= 0 ? nscales : nsizes;
    if (given != naxes)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: %d %s for %d axes of %s", WHERE(node), given,
                        nscales >= 0 ? "scales" : "sizes", naxes, dlc_shape_format(g, &x->shape, sa, sizeof sa));
    for (int32_t d = 0; d < rank; d++) {
        plan->scales[d] = 1.0;
        plan->roi_start[d] = 0.0;
        plan->roi_end[d] = 1.0;
    }
    if (plan->coord_mode == 6) {
        if (nroi != 2 * naxes)
            return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: tf_crop_and_resize needs roi with %d values",
                            WHERE(node), 2 * naxes);
        for (int32_t i = 0; i < naxes; i++) {
            plan->roi_start[axes[i]] = roi[i];
            plan->roi_end[axes[i]] = roi[naxes + i];
        }
    }
    for (int32_t d = 0; d < rank; d++) plan->out_dims[d] = x->shape.dims[d].value;
    if (nscales >= 0) {
        for (int32_t i = 0; i < naxes; i++) {
            int32_t d = axes[i];
            if (!(scales[i] > 0.0) || !isfinite(scales[i]))
                return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: scale %g of axis %d is not positive", WHERE(node),
                                scales[i], d);
            plan->scales[d] = scales[i];
            if (x->shape.dims[d].value >= 0) {
                double span = plan->coord_mode == 6 ? plan->roi_end[d] - plan->roi_start[d] : 1.0;
                double n = floor((double)x->shape.dims[d].value * span * scales[i]);
                if (n < 0 || n > (double)INT32_MAX * 64)
                    return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: output size %g of axis %d is invalid",
                                    WHERE(node), n, d);
                plan->out_dims[d] = (int64_t)n;
            }
        }
        return DLC_OK;
    }
    const char *policy = node->opset >= 18 ? dlc_node_attr_string(node, "keep_aspect_ratio_policy", "stretch") : "stretch";
    bool not_larger = strcmp(policy, "not_larger") == 0, not_smaller = strcmp(policy, "not_smaller") == 0;
    if (!not_larger && !not_smaller && strcmp(policy, "stretch") != 0)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: keep_aspect_ratio_policy '%s' is unknown", WHERE(node),
                        policy);
    double common = not_larger ? INFINITY : 0.0;
    for (int32_t i = 0; i < naxes; i++) {
        int32_t d = axes[i];
        int64_t in = x->shape.dims[d].value;
        if (sizes[i] < 0)
            return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: size %lld of axis %d is negative", WHERE(node),
                            (long long)sizes[i], d);
        if (in < 0) {
            plan->out_dims[d] = sizes[i];
            continue;
        }
        double s = in > 0 ? (double)sizes[i] / (double)in : 1.0;
        plan->scales[d] = s;
        plan->out_dims[d] = sizes[i];
        if (not_larger && s < common) common = s;
        if (not_smaller && s > common) common = s;
    }
    if (not_larger || not_smaller)
        for (int32_t i = 0; i < naxes; i++) {
            int32_t d = axes[i];
            plan->scales[d] = common;
            plan->out_dims[d] = (int64_t)nearbyint(common * (double)x->shape.dims[d].value);
        }
    return DLC_OK;
}

static dlc_status resize_infer(dlc_graph *g, dlc_node *node) {
    char where[256];
    resize_plan plan;
    DLC_TRY(resize_read(g, node, &plan));
    const dlc_value *x = node->inputs[0];
    dlc_dtype t = x->dtype;
    if (plan.mode != 0 && t != DLC_FLOAT32 && t != DLC_FLOAT64 && t != DLC_FLOAT16 && t != DLC_BFLOAT16 &&
        t != DLC_UINT8 && t != DLC_INT8 && t != DLC_INT32 && t != DLC_INT64)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: %s interpolation of %s is not supported", WHERE(node),
                        plan.mode == 1 ? "linear" : "cubic", dlc_dtype_name(t));
    if (dlc_dtype_size(t) == 0 || t == DLC_COMPLEX64 || t == DLC_COMPLEX128)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: Resize of %s is not supported", WHERE(node), dlc_dtype_name(t));
    dlc_shape out = {.rank = x->shape.rank};
    for (int32_t d = 0; d < out.rank; d++) {
        if (plan.out_dims[d] >= 0) out.dims[d] = (dlc_dim){plan.out_dims[d], 0};
        else if (plan.scales[d] == 1.0) out.dims[d] = x->shape.dims[d];
        else DLC_TRY(tu_fresh_dim(g, node, 0, d, &out.dims[d]));
    }
    node->outputs[0]->dtype = t;
    node->outputs[0]->shape = out;
    return DLC_OK;
}

static dlc_status resize_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    resize_plan plan;
    DLC_TRY(resize_read(g, node, &plan));
    int32_t rank = node->inputs[0]->shape.rank;
    dlc_kcall_init(call, "resize");
    DLC_TRY(dlc_kcall_push_int(call, plan.mode));
    DLC_TRY(dlc_kcall_push_int(call, plan.coord_mode));
    DLC_TRY(dlc_kcall_push_int(call, plan.nearest_mode));
    DLC_TRY(dlc_kcall_push_int(call, plan.exclude_outside));
    DLC_TRY(dlc_kcall_push_float(call, plan.cubic_a));
    DLC_TRY(dlc_kcall_push_float(call, plan.extrapolation));
    for (int32_t d = 0; d < rank; d++) DLC_TRY(dlc_kcall_push_float(call, plan.scales[d]));
    for (int32_t d = 0; d < rank; d++) DLC_TRY(dlc_kcall_push_float(call, plan.roi_start[d]));
    for (int32_t d = 0; d < rank; d++) DLC_TRY(dlc_kcall_push_float(call, plan.roi_end[d]));
    return DLC_OK;
}

static int64_t resize_flops(const dlc_node *node) {
    int64_t n = dlc_value_numel(node->outputs[0]);
    if (n < 0) return -1;
    int64_t mode = find_name(dlc_node_attr_string(node, "mode", "nearest"), (const char *const[]){"nearest", "linear", "cubic"}, 3);
    return mode == 1 ? 8 * n : mode == 2 ? 32 * n : 0;
}

const dlc_op_schema dlc_ops_resize[] = {
    {"Resize", "", 10, 1, 4, 1, 1, resize_infer, resize_lower, resize_flops, 1u << 1 | 1u << 2 | 1u << 3},
    {"Upsample", "", 7, 1, 2, 1, 1, resize_infer, resize_lower, resize_flops, 1u << 1},
    {0},
};
