/* DFT (opset 17): input [..., signal, ..., 1 or 2] (real, or complex as
 * (re, im) pairs in the last dim); the transform runs along `axis` (default
 * 1) with length dft_length (a constant input; the signal is zero-padded or
 * cut), inverse (scaled by 1/n) and onesided (n/2 + 1 outputs). A direct
 * O(n^2) transform: correct for any length, not fast. */
#include "ir/op_registry.h"
#include "runtime/status.h"

static dlc_status dft_params(const dlc_node *node, int32_t *out_axis, int64_t *out_length) {
    const dlc_value *x = node->inputs[0];
    char where[256];
    dlc_node_describe(node, where, sizeof where);
    int32_t signal_rank = x->shape.rank - 1;
    if (x->shape.rank < 2 || (x->shape.dims[signal_rank].value != 1 && x->shape.dims[signal_rank].value != 2))
        return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: the last dim must be 1 (real) or 2 (complex)", where);
    int64_t axis = dlc_node_attr_int(node, "axis", 1);
    if (axis < 0) axis += signal_rank; /* negative axes count without the component dim */
    if (axis < 0 || axis >= signal_rank)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: axis %lld is out of range", where, (long long)axis);
    int64_t length = x->shape.dims[axis].value;
    if (node->num_inputs > 1 && node->inputs[1] != NULL) {
        int64_t given[1];
        int32_t n;
        DLC_TRY(dlc_value_const_ints(node->inputs[1], given, 1, &n));
        if (n != 1 || given[0] < 1)
            return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: dft_length must be one positive integer", where);
        length = given[0];
    }
    *out_axis = (int32_t)axis;
    *out_length = length;
    return DLC_OK;
}

static dlc_status dft_infer(dlc_graph *g, dlc_node *node) {
    const dlc_value *x = node->inputs[0];
    char where[256];
    if (!dlc_dtype_is_float(x->dtype))
        return dlc_fail(DLC_ERR_DTYPE_MISMATCH, "node %s: input must be float, got %s",
                        dlc_node_describe(node, where, sizeof where), dlc_dtype_name(x->dtype));
    int32_t axis;
    int64_t length;
    DLC_TRY(dft_params(node, &axis, &length));
    dlc_shape out = x->shape;
    bool onesided = dlc_node_attr_int(node, "onesided", 0) != 0;
    out.dims[axis] = (dlc_dim){onesided ? length / 2 + 1 : length, 0};
    out.dims[x->shape.rank - 1] = (dlc_dim){2, 0};
    node->outputs[0]->dtype = x->dtype;
    node->outputs[0]->shape = out;
    return DLC_OK;
}

/* ints: axis, length, inverse */
static dlc_status dft_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    int32_t axis;
    int64_t length;
    DLC_TRY(dft_params(node, &axis, &length));
    dlc_kcall_init(call, "dft");
    DLC_TRY(dlc_kcall_push_int(call, axis));
    DLC_TRY(dlc_kcall_push_int(call, length));
    return dlc_kcall_push_int(call, dlc_node_attr_int(node, "inverse", 0));
}

/* STFT(signal [B, L, 1|2], frame_step, window?, frame_length?) {onesided = 1}
 * -> [B, frames, bins, 2]: a DFT of each windowed frame. frame_step and
 * frame_length decide the output shape, so they must be known at compile time. */
static dlc_status stft_params(const dlc_node *node, int64_t *step, int64_t *length, int64_t *frames) {
    char where[256];
    dlc_node_describe(node, where, sizeof where);
    const dlc_value *x = node->inputs[0];
    if (x->shape.rank != 3 || (x->shape.dims[2].value != 1 && x->shape.dims[2].value != 2))
        return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: signal must be [batch, length, 1 or 2]", where);
    int64_t v[1];
    int32_t n;
    DLC_TRY(dlc_value_const_ints(node->inputs[1], v, 1, &n));
    *step = v[0];
    const dlc_value *window = node->num_inputs > 2 ? node->inputs[2] : NULL;
    const dlc_value *len = node->num_inputs > 3 ? node->inputs[3] : NULL;
    if (len != NULL) {
        DLC_TRY(dlc_value_const_ints(len, v, 1, &n));
        *length = v[0];
    } else if (window != NULL && window->shape.rank == 1) {
        *length = window->shape.dims[0].value;
    } else {
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: needs a window or frame_length", where);
    }
    /* the kernel reads frame_length window values */
    if (window != NULL && (window->shape.rank != 1 || window->shape.dims[0].value != *length))
        return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: window '%s' must be [%lld], the frame length", where,
                        window->name, (long long)*length);
    int64_t signal = x->shape.dims[1].value;
    if (*step < 1 || *length < 1 || signal < *length)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: frame_step %lld / frame_length %lld do not fit %lld samples",
                        where, (long long)*step, (long long)*length, (long long)signal);
    *frames = (signal - *length) / *step + 1;
    return DLC_OK;
}

static dlc_status stft_infer(dlc_graph *g, dlc_node *node) {
    int64_t step, length, frames;
    DLC_TRY(stft_params(node, &step, &length, &frames));
    bool onesided = dlc_node_attr_int(node, "onesided", 1) != 0;
    dlc_shape out = {.rank = 4};
    out.dims[0] = node->inputs[0]->shape.dims[0];
    out.dims[1] = (dlc_dim){frames, 0};
    out.dims[2] = (dlc_dim){onesided ? length / 2 + 1 : length, 0};
    out.dims[3] = (dlc_dim){2, 0};
    node->outputs[0]->dtype = node->inputs[0]->dtype;
    node->outputs[0]->shape = out;
    return DLC_OK;
}

/* ints: frame_step, frame_length */
static dlc_status stft_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    int64_t step, length, frames;
    DLC_TRY(stft_params(node, &step, &length, &frames));
    dlc_kcall_init(call, "stft");
    DLC_TRY(dlc_kcall_push_int(call, step));
    return dlc_kcall_push_int(call, length);
}

const dlc_op_schema dlc_ops_dft[] = {
    {"DFT", "", 17, 1, 2, 1, 1, dft_infer, dft_lower, NULL, 1u << 1},
    {"STFT", "", 17, 2, 4, 1, 1, stft_infer, stft_lower, NULL, 1u << 1 | 1u << 3},
    {0},
};
