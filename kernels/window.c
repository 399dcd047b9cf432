/* window: Hann (0), Hamming (1), Blackman (2) per the ONNX spec; ints: kind,
 * periodic. Computed in double, stored in the output dtype. */
#include <math.h>

#include "kernels/kvalue.h"

int32_t dlc_kernel_window(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx) {
    const dlc_ktensor *out = dlc_kp_out(p, 0);
    int64_t kind = dlc_kp_ints(p)[0], periodic = dlc_kp_ints(p)[1], size = out->dims[0];
    double N = (double)(periodic ? size : size - 1);
    const double pi = 3.14159265358979323846;
    for (int64_t n = 0; n < size; n++) {
        double x = N > 0 ? 2.0 * pi * (double)n / N : 0.0, w;
        if (kind == 0) w = 0.5 - 0.5 * cos(x);
        else if (kind == 1) w = 25.0 / 46.0 - (21.0 / 46.0) * cos(x);
        else w = 0.42 - 0.5 * cos(x) + 0.08 * cos(2.0 * x);
        if (dlc_kdtype_is_float(out->dtype)) dlc_kstore_f(outputs[0], out->dtype, n, w);
        else dlc_kstore_u(outputs[0], out->dtype, n, (uint64_t)(int64_t)w);
    }
    return DLC_KOK;
}

/* mel_weight_matrix: inputs num_mel_bins, dft_length, sample_rate (ints),
 * lower/upper edge hertz (floats); see ir/ops/window.c. */
int32_t dlc_kernel_mel_weight_matrix(const dlc_kparams *p, void *const *inputs, void *const *outputs,
                                     const dlc_kctx *ctx) {
    const dlc_ktensor *out = dlc_kp_out(p, 0);
    int64_t spectrogram_bins = out->dims[0], mel_bins = out->dims[1];
    int64_t dft_length = (int64_t)dlc_kload_f(inputs[1], dlc_kp_in(p, 1)->dtype, 0);
    double sample_rate = dlc_kload_f(inputs[2], dlc_kp_in(p, 2)->dtype, 0);
    double low = dlc_kload_f(inputs[3], dlc_kp_in(p, 3)->dtype, 0), high = dlc_kload_f(inputs[4], dlc_kp_in(p, 4)->dtype, 0);
    double low_mel = 2595.0 * log10(1.0 + low / 700.0), high_mel = 2595.0 * log10(1.0 + high / 700.0);
    /* the ONNX reference (and ONNX Runtime) divide by the number of edges,
     * mel_bins + 2, not by the number of gaps between them */
    double step = (high_mel - low_mel) / (double)(mel_bins + 2);
    for (int64_t i = 0; i < out->numel; i++) dlc_kstore_f(outputs[0], out->dtype, i, 0.0);
    int64_t edge[3];
    for (int64_t m = 0; m < mel_bins; m++) {
        for (int k = 0; k < 3; k++) {
            double hz = 700.0 * (pow(10.0, ((double)(m + k) * step + low_mel) / 2595.0) - 1.0);
            edge[k] = (int64_t)floor((double)(dft_length + 1) * hz / sample_rate);
        }
        int64_t rise = edge[1] - edge[0], fall = edge[2] - edge[1];
        if (rise == 0) {
            if (edge[1] >= 0 && edge[1] < spectrogram_bins) dlc_kstore_f(outputs[0], out->dtype, edge[1] * mel_bins + m, 1.0);
        } else {
            for (int64_t j = edge[0]; j <= edge[1]; j++)
                if (j >= 0 && j < spectrogram_bins)
                    dlc_kstore_f(outputs[0], out->dtype, j * mel_bins + m, (double)(j - edge[0]) / (double)rise);
        }
        if (fall > 0)
            for (int64_t j = edge[1]; j < edge[2]; j++)
                if (j >= 0 && j < spectrogram_bins)
                    dlc_kstore_f(outputs[0], out->dtype, j * mel_bins + m, (double)(edge[2] - j) / (double)fall);
    }
    return DLC_KOK;
}

#ifndef DLC_KERNEL_BITCODE
#include "kernels/kernel_registry.h"
const dlc_kernel_entry dlc_kernels_window[] = {
    {"window", dlc_kernel_window, NULL},
    {"mel_weight_matrix", dlc_kernel_mel_weight_matrix, NULL},
    {NULL, NULL, NULL},
};
#endif
