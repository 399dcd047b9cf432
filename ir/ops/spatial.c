#include "ir/ops/spatial.h"

#include <stdio.h>
#include <string.h>

#include "runtime/status.h"

static dlc_status read_ints(const dlc_node *node, const char *name, int32_t rank, int64_t fallback, int64_t min,
                            int64_t *out) {
    int32_t count;
    const int64_t *values = dlc_node_attr_ints(node, name, &count);
    char where[256];
    if (values == NULL) {
        for (int32_t i = 0; i < rank; i++) out[i] = fallback;
        return DLC_OK;
    }
    if (count != rank)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: attribute %s has %d values, the input has %d spatial dims",
                        dlc_node_describe(node, where, sizeof where), name, count, rank);
    for (int32_t i = 0; i < rank; i++) {
        if (values[i] < min)
            return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: attribute %s[%d] = %lld, must be >= %lld",
                            dlc_node_describe(node, where, sizeof where), name, i, (long long)values[i],
                            (long long)min);
        out[i] = values[i];
    }
    return DLC_OK;
}

dlc_status dlc_window_read(const dlc_node *node, int32_t rank, const int64_t *kernel, bool allow_dilations,
                           dlc_window *out) {
    char where[256];
    memset(out, 0, sizeof *out);
    out->rank = rank;
    if (rank < 1 || rank > DLC_MAX_RANK - 2 || rank > 3)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: %d spatial dims, dlc supports 1 to 3",
                        dlc_node_describe(node, where, sizeof where), rank);
    int32_t count;
    const int64_t *kernel_attr = dlc_node_attr_ints(node, "kernel_shape", &count);
    if (kernel != NULL) {
        if (kernel_attr != NULL) {
            bool same = count == rank;
            for (int32_t i = 0; same && i < rank; i++) same = kernel_attr[i] == kernel[i];
            if (!same)
                return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: kernel_shape does not match the weights' spatial dims",
                                dlc_node_describe(node, where, sizeof where));
        }
        for (int32_t i = 0; i < rank; i++) out->kernel[i] = kernel[i];
    } else {
        if (kernel_attr == NULL)
            return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: attribute kernel_shape is required",
                            dlc_node_describe(node, where, sizeof where));
        DLC_TRY(read_ints(node, "kernel_shape", rank, 1, 1, out->kernel));
    }
    DLC_TRY(read_ints(node, "strides", rank, 1, 1, out->stride));
    if (allow_dilations) DLC_TRY(read_ints(node, "dilations", rank, 1, 1, out->dilation));
    else if (dlc_node_attr(node, "dilations") != NULL) {
        int64_t d[DLC_MAX_RANK];
        DLC_TRY(read_ints(node, "dilations", rank, 1, 1, d));
        for (int32_t i = 0; i < rank; i++)
            if (d[i] != 1)
                return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: dilations are not part of this op at this opset",
                                dlc_node_describe(node, where, sizeof where));
        for (int32_t i = 0; i < rank; i++) out->dilation[i] = 1;
    } else {
        for (int32_t i = 0; i < rank; i++) out->dilation[i] = 1;
    }
    const char *auto_pad = dlc_node_attr_string(node, "auto_pad", "NOTSET");
    if (strcmp(auto_pad, "NOTSET") == 0) out->auto_pad = DLC_PAD_NOTSET;
    else if (strcmp(auto_pad, "SAME_UPPER") == 0) out->auto_pad = DLC_PAD_SAME_UPPER;
    else if (strcmp(auto_pad, "SAME_LOWER") == 0) out->auto_pad = DLC_PAD_SAME_LOWER;
    else if (strcmp(auto_pad, "VALID") == 0) out->auto_pad = DLC_PAD_VALID;
    else
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: unknown auto_pad '%s'",
                        dlc_node_describe(node, where, sizeof where), auto_pad);
    const int64_t *pads = dlc_node_attr_ints(node, "pads", &count);
    if (pads != NULL && out->auto_pad == DLC_PAD_NOTSET) {
        if (count != 2 * rank)
            return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: pads has %d values, expected %d",
                            dlc_node_describe(node, where, sizeof where), count, 2 * rank);
        for (int32_t i = 0; i < rank; i++) {
            if (pads[i] < 0 || pads[rank + i] < 0)
                return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: negative pads are not supported",
                                dlc_node_describe(node, where, sizeof where));
            out->pad_begin[i] = pads[i];
            out->pad_end[i] = pads[rank + i];
        }
    }
    return DLC_OK;
}

dlc_status dlc_window_output(const dlc_graph *g, const dlc_node *node, const dlc_shape *input, dlc_window *w,
                             int32_t d, bool ceil_mode, int64_t *out) {
    int64_t in = input->dims[2 + d].value;
    int64_t s = w->stride[d];
    int64_t span = (w->kernel[d] - 1) * w->dilation[d] + 1;
    int64_t result;
    switch (w->auto_pad) {
    case DLC_PAD_SAME_UPPER:
    case DLC_PAD_SAME_LOWER: {
        result = (in + s - 1) / s;
        int64_t total = (result - 1) * s + span - in;
        if (total < 0) total = 0;
        int64_t small = total / 2, large = total - total / 2;
        w->pad_begin[d] = w->auto_pad == DLC_PAD_SAME_UPPER ? small : large;
        w->pad_end[d] = w->auto_pad == DLC_PAD_SAME_UPPER ? large : small;
        break;
    }
    case DLC_PAD_VALID:
        w->pad_begin[d] = w->pad_end[d] = 0;
        result = in >= span ? (in - span) / s + 1 : 0;
        break;
    default: {
        int64_t padded = in + w->pad_begin[d] + w->pad_end[d];
        if (padded < span) {
            result = 0;
            break;
        }
        result = ceil_mode ? (padded - span + s - 1) / s + 1 : (padded - span) / s + 1;
        /* a last window starting inside the end padding is dropped */
        if (ceil_mode && (result - 1) * s >= in + w->pad_begin[d]) result--;
        break;
    }
    }
    if (result < 1) {
        char where[256], shape[160];
        return dlc_fail(DLC_ERR_SHAPE_MISMATCH,
                        "node %s: input %s is smaller than the window along spatial dim %d (kernel %lld, dilation %lld, "
                        "pads %lld+%lld)",
                        dlc_node_describe(node, where, sizeof where), dlc_shape_format(g, input, shape, sizeof shape), d,
                        (long long)w->kernel[d], (long long)w->dilation[d], (long long)w->pad_begin[d],
                        (long long)w->pad_end[d]);
    }
    *out = result;
    return DLC_OK;
}

dlc_status dlc_fresh_symbol(dlc_graph *g, const dlc_node *node, int32_t dim, dlc_dim *out) {
    char name[160];
    snprintf(name, sizeof name, "%s:%d", node->name, dim);
    int32_t sym;
    DLC_TRY(dlc_graph_symbol(g, name, &sym));
    *out = (dlc_dim){-1, sym};
    return DLC_OK;
}

dlc_status dlc_window_output_shape(dlc_graph *g, const dlc_node *node, const dlc_shape *input,
                                   dlc_window *w, bool ceil_mode, dlc_dim channels, dlc_shape *out) {
    dlc_shape result = {.rank = input->rank};
    result.dims[0] = input->dims[0];
    result.dims[1] = channels;
    for (int32_t d = 0; d < w->rank; d++) {
        if (!dlc_dim_is_static(input->dims[2 + d])) {
            dlc_status st = dlc_fresh_symbol(g, node, 2 + d, &result.dims[2 + d]);
            if (st != DLC_OK) return st;
            continue;
        }
        int64_t size;
        DLC_TRY(dlc_window_output(g, node, input, w, d, ceil_mode, &size));
        result.dims[2 + d] = (dlc_dim){size, 0};
    }
    *out = result;
    return DLC_OK;
}

static dlc_status push_triple(dlc_kcall *call, const dlc_window *w, const int64_t *values, int64_t fill) {
    int32_t lead = 3 - w->rank;
    for (int32_t i = 0; i < 3; i++) DLC_TRY(dlc_kcall_push_int(call, i < lead ? fill : values[i - lead]));
    return DLC_OK;
}

dlc_status dlc_window_push(dlc_kcall *call, const dlc_window *w, bool with_kernel) {
    if (with_kernel) DLC_TRY(push_triple(call, w, w->kernel, 1));
    DLC_TRY(push_triple(call, w, w->stride, 1));
    DLC_TRY(push_triple(call, w, w->dilation, 1));
    return push_triple(call, w, w->pad_begin, 0);
}

dlc_status dlc_window_push_pad_end(dlc_kcall *call, const dlc_window *w) {
    return push_triple(call, w, w->pad_end, 0);
}
