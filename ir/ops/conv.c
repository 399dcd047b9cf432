/* Conv and ConvTranspose: schema, shape rules, lowering (kernels/conv.c).
 * Both lower to kernels taking ints [group, stride[3], dilation[3],
 * pad_begin[3]] with the spatial dims front-padded to three; auto_pad,
 * output_padding and output_shape are resolved here into pads and Y's shape. */
#include <stdbool.h>

#include "ir/op_registry.h"
#include "ir/ops/epilogue.h"
#include "ir/ops/spatial.h"
#include "kernels/conv.h"
#include "kernels/epilogue.h"
#include "runtime/status.h"

/* X, W and the optional B share one float dtype. */
static dlc_status check_dtypes(const dlc_node *node) {
    char where[256];
    const dlc_value *x = node->inputs[0];
    if (!dlc_dtype_is_float(x->dtype))
        return dlc_fail(DLC_ERR_DTYPE_MISMATCH, "node %s: input X is %s, %s takes float16/bfloat16/float32/float64",
                        dlc_node_describe(node, where, sizeof where), dlc_dtype_name(x->dtype), node->op_type);
    for (int32_t i = 1; i < node->num_inputs && i < 3; i++)
        if (node->inputs[i] != NULL && node->inputs[i]->dtype != x->dtype)
            return dlc_fail(DLC_ERR_DTYPE_MISMATCH, "node %s: input %d ('%s') is %s but X is %s",
                            dlc_node_describe(node, where, sizeof where), i, node->inputs[i]->name,
                            dlc_dtype_name(node->inputs[i]->dtype), dlc_dtype_name(x->dtype));
    return DLC_OK;
}

/* Ranks, static kernel dims, group; fills the window (pads not yet resolved). */
static dlc_status read_common(const dlc_graph *g, const dlc_node *node, int64_t *group, dlc_window *w) {
    char where[256], sx[160], sw[160];
    const dlc_value *x = node->inputs[0], *wt = node->inputs[1];
    dlc_node_describe(node, where, sizeof where);
    if (x->shape.rank < 3 || wt->shape.rank != x->shape.rank)
        return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: X %s and W %s must have the same rank, at least 3", where,
                        dlc_shape_format(g, &x->shape, sx, sizeof sx), dlc_shape_format(g, &wt->shape, sw, sizeof sw));
    int32_t nsp = x->shape.rank - 2;
    int64_t kernel[DLC_MAX_RANK];
    for (int32_t i = 0; i < nsp; i++) {
        kernel[i] = wt->shape.dims[2 + i].value;
        if (kernel[i] < 1)
            return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: weights W %s need static spatial dims", where,
                            dlc_shape_format(g, &wt->shape, sw, sizeof sw));
    }
    *group = dlc_node_attr_int(node, "group", 1);
    if (*group < 1) return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: group %lld must be >= 1", where, (long long)*group);
    return dlc_window_read(node, nsp, kernel, true, w);
}

static dlc_status check_bias(const dlc_graph *g, const dlc_node *node, dlc_dim channels) {
    const dlc_value *b = node->num_inputs > 2 ? node->inputs[2] : NULL;
    if (b == NULL || b->shape.rank < 0) return DLC_OK;
    if (b->shape.rank != 1 || (dlc_dim_is_static(b->shape.dims[0]) && dlc_dim_is_static(channels) &&
                               b->shape.dims[0].value != channels.value)) {
        char where[256], sb[160];
        return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: bias B %s must be 1-D with %lld values (output channels)",
                        dlc_node_describe(node, where, sizeof where), dlc_shape_format(g, &b->shape, sb, sizeof sb),
                        (long long)channels.value);
    }
    return DLC_OK;
}

/* ---- Conv ------------------------------------------------------------------------- */

static dlc_status conv_check(const dlc_graph *g, const dlc_node *node, int64_t *group, dlc_window *w) {
    DLC_TRY(read_common(g, node, group, w));
    const dlc_value *x = node->inputs[0], *wt = node->inputs[1];
    char where[256], sx[160], sw[160];
    dlc_dim c = x->shape.dims[1], wc = wt->shape.dims[1], m = wt->shape.dims[0];
    if (dlc_dim_is_static(c) && dlc_dim_is_static(wc) && c.value != wc.value * *group)
        return dlc_fail(DLC_ERR_SHAPE_MISMATCH,
                        "node %s: input X %s has %lld channels but weights W %s with group %lld expect %lld",
                        dlc_node_describe(node, where, sizeof where), dlc_shape_format(g, &x->shape, sx, sizeof sx),
                        (long long)c.value, dlc_shape_format(g, &wt->shape, sw, sizeof sw), (long long)*group,
                        (long long)(wc.value * *group));
    if (dlc_dim_is_static(m) && m.value % *group != 0)
        return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: weights W %s have %lld output channels, not a multiple of group %lld",
                        dlc_node_describe(node, where, sizeof where), dlc_shape_format(g, &wt->shape, sw, sizeof sw),
                        (long long)m.value, (long long)*group);
    return check_bias(g, node, m);
}

static dlc_status conv_infer(dlc_graph *g, dlc_node *node) {
    DLC_TRY(check_dtypes(node));
    dlc_value *y = node->outputs[0];
    y->dtype = node->inputs[0]->dtype;
    if (node->inputs[0]->shape.rank < 0 || node->inputs[1]->shape.rank < 0) {
        y->shape.rank = -1;
        return DLC_OK;
    }
    int64_t group;
    dlc_window w;
    DLC_TRY(conv_check(g, node, &group, &w));
    DLC_TRY(dlc_window_output_shape(g, node, &node->inputs[0]->shape, &w, false, node->inputs[1]->shape.dims[0],
                                    &y->shape));
    return dlc_epilogue_check(g, node, 3);
}

/* ints [act, layout, nr] after the window (the activation slot, "none" when
 * nothing is fused, keeps the layout at a fixed position) when W is packed,
 * then the activation layouts (DLC_ATTR_BLOCKED) when not plain NCHW. */
static dlc_status push_packed_w(const dlc_node *node, int64_t group, dlc_kcall *call) {
    int32_t n;
    const int64_t *lw = dlc_node_attr_ints(node, DLC_ATTR_PACKED_W, &n);
    int64_t blocked = dlc_node_attr_int(node, DLC_ATTR_BLOCKED, 0);
    if (lw == NULL && blocked == 0) return DLC_OK;
    if (lw == NULL || (blocked != 0 && (n != 2 || lw[0] != DLC_CONV_W_DIRECT))) {
        char where[256];
        return dlc_fail(DLC_ERR_INTERNAL, "node %s: %s needs weights packed in the direct layout",
                        dlc_node_describe(node, where, sizeof where), DLC_ATTR_BLOCKED);
    }
    const dlc_value *wt = node->inputs[1];
    bool ok = n == 2 && (lw[0] == DLC_CONV_W_PIXEL_MAJOR || lw[0] == DLC_CONV_W_DIRECT) &&
              (lw[1] == 16 || lw[1] == 32) && group == 1 && wt->dtype == DLC_FLOAT32 &&
              dlc_dim_is_static(wt->shape.dims[0]) && wt->shape.dims[0].value % lw[1] == 0;
    if (!ok) {
        char where[256];
        return dlc_fail(DLC_ERR_INTERNAL, "node %s: weight '%s' does not match its %s attribute",
                        dlc_node_describe(node, where, sizeof where), wt->name, DLC_ATTR_PACKED_W);
    }
    if (dlc_node_attr_string(node, DLC_ACTIVATION_ATTR, NULL) == NULL) {
        DLC_TRY(dlc_kcall_push_int(call, DLC_EP_NONE));
        DLC_TRY(dlc_kcall_push_float(call, 0.0));
        DLC_TRY(dlc_kcall_push_float(call, 0.0));
    }
    DLC_TRY(dlc_kcall_push_ints(call, lw, 2));
    return blocked != 0 ? dlc_kcall_push_int(call, blocked) : DLC_OK;
}

static dlc_status conv_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    int64_t group;
    dlc_window w;
    DLC_TRY(conv_check(g, node, &group, &w));
    for (int32_t d = 0; d < w.rank; d++) {
        int64_t size;
        DLC_TRY(dlc_window_output(g, node, &node->inputs[0]->shape, &w, d, false, &size));
    }
    dlc_kcall_init(call, "conv");
    DLC_TRY(dlc_kcall_push_int(call, group));
    DLC_TRY(dlc_window_push(call, &w, false));
    DLC_TRY(dlc_epilogue_lower(node, call));
    return push_packed_w(node, group, call);
}

/* 2 * N * M * out_spatial * (C / group) * kernel volume */
static int64_t conv_flops(const dlc_node *node) {
    const dlc_value *w = node->inputs[1], *y = node->outputs[0];
    int64_t wn = dlc_value_numel(w), yn = dlc_value_numel(y);
    if (wn < 0 || yn < 0 || w->shape.dims[0].value <= 0) return -1;
    return 2 * yn * (wn / w->shape.dims[0].value);
}

/* ---- ConvTranspose ------------------------------------------------------------------ */

/* Output spatial sizes and pads for static X (per dim d):
 * out = stride*(in-1) + output_padding + (k-1)*dilation + 1 - pad_begin - pad_end,
 * or given by output_shape / SAME auto_pad, the pads then following from it. */
static dlc_status convt_resolve(const dlc_graph *g, const dlc_node *node, dlc_window *w, int64_t *out_sizes) {
    char where[256];
    dlc_node_describe(node, where, sizeof where);
    const dlc_shape *xs = &node->inputs[0]->shape;
    int32_t nsp = w->rank, count;
    int64_t out_pad[DLC_MAX_RANK] = {0};
    const int64_t *op = dlc_node_attr_ints(node, "output_padding", &count);
    if (op != NULL) {
        if (count != nsp)
            return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: output_padding has %d values, expected %d", where, count, nsp);
        for (int32_t d = 0; d < nsp; d++) out_pad[d] = op[d];
    }
    const int64_t *os = dlc_node_attr_ints(node, "output_shape", &count);
    if (os != NULL && count != nsp && count != nsp + 2)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: output_shape has %d values, expected %d", where, count, nsp);
    for (int32_t d = 0; d < nsp; d++) {
        int64_t in = xs->dims[2 + d].value;
        if (in < 0) {
            out_sizes[d] = -1;
            continue;
        }
        int64_t s = w->stride[d], span = (w->kernel[d] - 1) * w->dilation[d] + 1;
        if (out_pad[d] < 0 || (out_pad[d] >= s && out_pad[d] >= w->dilation[d]))
            return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: output_padding[%d] = %lld must be below the stride or dilation",
                            where, d, (long long)out_pad[d]);
        int64_t full = s * (in - 1) + out_pad[d] + span;
        int64_t out;
        if (os != NULL || w->auto_pad == DLC_PAD_SAME_UPPER || w->auto_pad == DLC_PAD_SAME_LOWER) {
            out = os != NULL ? os[count - nsp + d] : in * s;
            int64_t total = full - out;
            if (total < 0) total = 0; /* a larger output_shape extends at the end */
            int64_t small = total / 2, large = total - small;
            w->pad_begin[d] = w->auto_pad == DLC_PAD_SAME_UPPER ? small : large;
            w->pad_end[d] = w->auto_pad == DLC_PAD_SAME_UPPER ? large : small;
        } else {
            if (w->auto_pad == DLC_PAD_VALID) w->pad_begin[d] = w->pad_end[d] = 0;
            out = full - w->pad_begin[d] - w->pad_end[d];
        }
        if (out < 1)
            return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: output size %lld along spatial dim %d (pads too large)", where,
                            (long long)out, d);
        out_sizes[d] = out;
    }
    return DLC_OK;
}

static dlc_status convt_check(const dlc_graph *g, const dlc_node *node, int64_t *group, dlc_window *w,
                              int64_t *out_sizes) {
    DLC_TRY(read_common(g, node, group, w));
    const dlc_value *x = node->inputs[0], *wt = node->inputs[1];
    char where[256], sx[160], sw[160];
    dlc_dim c = x->shape.dims[1], wc = wt->shape.dims[0];
    if (dlc_dim_is_static(c) && dlc_dim_is_static(wc) && (c.value != wc.value || c.value % *group != 0))
        return dlc_fail(DLC_ERR_SHAPE_MISMATCH,
                        "node %s: input X %s has %lld channels but weights W %s expect %lld (a multiple of group %lld)",
                        dlc_node_describe(node, where, sizeof where), dlc_shape_format(g, &x->shape, sx, sizeof sx),
                        (long long)c.value, dlc_shape_format(g, &wt->shape, sw, sizeof sw), (long long)wc.value,
                        (long long)*group);
    dlc_dim m = wt->shape.dims[1];
    if (dlc_dim_is_static(m)) m.value *= *group;
    DLC_TRY(check_bias(g, node, m));
    return convt_resolve(g, node, w, out_sizes);
}

static dlc_status convt_infer(dlc_graph *g, dlc_node *node) {
    DLC_TRY(check_dtypes(node));
    dlc_value *x = node->inputs[0], *wt = node->inputs[1], *y = node->outputs[0];
    y->dtype = x->dtype;
    if (x->shape.rank < 0 || wt->shape.rank < 0) {
        y->shape.rank = -1;
        return DLC_OK;
    }
    int64_t group, out_sizes[DLC_MAX_RANK];
    dlc_window w;
    DLC_TRY(convt_check(g, node, &group, &w, out_sizes));
    dlc_shape s = {.rank = x->shape.rank};
    s.dims[0] = x->shape.dims[0];
    if (dlc_dim_is_static(wt->shape.dims[1])) s.dims[1] = (dlc_dim){wt->shape.dims[1].value * group, 0};
    else DLC_TRY(dlc_fresh_symbol(g, node, 1, &s.dims[1]));
    for (int32_t d = 0; d < w.rank; d++) {
        if (out_sizes[d] >= 0) s.dims[2 + d] = (dlc_dim){out_sizes[d], 0};
        else DLC_TRY(dlc_fresh_symbol(g, node, 2 + d, &s.dims[2 + d]));
    }
    y->shape = s;
    return DLC_OK;
}

static dlc_status convt_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    int64_t group, out_sizes[DLC_MAX_RANK];
    dlc_window w;
    DLC_TRY(convt_check(g, node, &group, &w, out_sizes));
    dlc_kcall_init(call, "conv_transpose");
    DLC_TRY(dlc_kcall_push_int(call, group));
    return dlc_window_push(call, &w, false);
}

/* every input element meets every weight of its group: 2 * N * C * in_spatial * (M / group) * kvol */
static int64_t convt_flops(const dlc_node *node) {
    const dlc_value *x = node->inputs[0], *w = node->inputs[1];
    int64_t xn = dlc_value_numel(x), wn = dlc_value_numel(w);
    if (xn < 0 || wn < 0 || w->shape.dims[0].value <= 0) return -1;
    return 2 * xn * (wn / w->shape.dims[0].value);
}

const dlc_op_schema dlc_ops_conv[] = {
    {"Conv", "", 1, 2, 4, 1, 1, conv_infer, conv_lower, conv_flops}, /* input 3: a fused residual (ir/ops/epilogue.h) */
    {"ConvTranspose", "", 1, 2, 3, 1, 1, convt_infer, convt_lower, convt_flops},
    {0},
};
