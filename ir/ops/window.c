/* Window functions (opset 17): HannWindow, HammingWindow, BlackmanWindow.
 * window(size) {output_datatype = float32, periodic = 1}: the size input
 * decides the output length, so it must be known at compile time. */
#include "ir/op_registry.h"
#include "runtime/status.h"

enum { WINDOW_HANN = 0, WINDOW_HAMMING = 1, WINDOW_BLACKMAN = 2 };

static dlc_status window_infer(dlc_graph *g, dlc_node *node) {
    char where[256];
    dlc_node_describe(node, where, sizeof where);
    int64_t size[1];
    int32_t n;
    DLC_TRY(dlc_value_const_ints(node->inputs[0], size, 1, &n));
    if (n != 1 || size[0] < 0)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: size must be one non-negative integer", where);
    dlc_dtype dtype = (dlc_dtype)dlc_node_attr_int(node, "output_datatype", DLC_FLOAT32);
    if (dlc_dtype_size(dtype) == 0 || dtype == DLC_BOOL)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: output_datatype %s is not supported", where,
                        dlc_dtype_name(dtype));
    node->outputs[0]->dtype = dtype;
    node->outputs[0]->shape = dlc_shape_make(1, size);
    return DLC_OK;
}

static dlc_status window_lower(const dlc_node *node, dlc_kcall *call, int64_t kind) {
    dlc_kcall_init(call, "window");
    DLC_TRY(dlc_kcall_push_int(call, kind));
    return dlc_kcall_push_int(call, dlc_node_attr_int(node, "periodic", 1));
}

static dlc_status hann_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    return window_lower(node, call, WINDOW_HANN);
}
static dlc_status hamming_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    return window_lower(node, call, WINDOW_HAMMING);
}
static dlc_status blackman_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    return window_lower(node, call, WINDOW_BLACKMAN);
}

/* MelWeightMatrix(num_mel_bins, dft_length, sample_rate, lower_edge_hertz,
 * upper_edge_hertz) -> [dft_length/2 + 1, num_mel_bins]: triangular mel
 * filters, as the ONNX reference builds them (integer bin edges). Every input
 * is a scalar that shapes the result, so all are needed at compile time. */
static dlc_status mel_infer(dlc_graph *g, dlc_node *node) {
    char where[256];
    dlc_node_describe(node, where, sizeof where);
    int64_t bins[1], length[1];
    int32_t n;
    DLC_TRY(dlc_value_const_ints(node->inputs[0], bins, 1, &n));
    DLC_TRY(dlc_value_const_ints(node->inputs[1], length, 1, &n));
    if (bins[0] < 1 || length[0] < 1)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: num_mel_bins and dft_length must be positive", where);
    dlc_dtype dtype = (dlc_dtype)dlc_node_attr_int(node, "output_datatype", DLC_FLOAT32);
    if (!dlc_dtype_is_float(dtype))
        return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: output_datatype %s is not supported", where,
                        dlc_dtype_name(dtype));
    node->outputs[0]->dtype = dtype;
    node->outputs[0]->shape = dlc_shape_make(2, (int64_t[]){length[0] / 2 + 1, bins[0]});
    return DLC_OK;
}

static dlc_status mel_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    dlc_kcall_init(call, "mel_weight_matrix");
    return DLC_OK;
}

const dlc_op_schema dlc_ops_window[] = {
    {"MelWeightMatrix", "", 17, 5, 5, 1, 1, mel_infer, mel_lower, NULL, 0x1fu},
    {"HannWindow", "", 17, 1, 1, 1, 1, window_infer, hann_lower, NULL, 1u << 0},
    {"HammingWindow", "", 17, 1, 1, 1, 1, window_infer, hamming_lower, NULL, 1u << 0},
    {"BlackmanWindow", "", 17, 1, 1, 1, 1, window_infer, blackman_lower, NULL, 1u << 0},
    {0},
};
