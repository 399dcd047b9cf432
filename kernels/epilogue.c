/* Fused GEMM/Conv epilogues (see epilogue.h). Called on one GEMM block
 * (gemm.c) or one output row or block of rows (depthwise conv) at a time, while it is still
 * in cache; each activation is its own loop over a contiguous row so it
 * vectorizes. */
#include "kernels/epilogue.h"

#include <stdbool.h>

#include "kernels/fast_math.h" /* the Sigmoid/Tanh/Gelu kernels' own float functions, so results match */

static void act_row(int32_t act, float a, float b, float *restrict row, int64_t n) {
    switch (act) {
    case DLC_EP_RELU:
        for (int64_t j = 0; j < n; j++) row[j] = row[j] < 0.0f ? 0.0f : row[j];
        break;
    case DLC_EP_CLIP:
        for (int64_t j = 0; j < n; j++) {
            float v = row[j] < a ? a : row[j];
            row[j] = v > b ? b : v;
        }
        break;
    case DLC_EP_LEAKY_RELU:
        for (int64_t j = 0; j < n; j++) row[j] = row[j] < 0.0f ? a * row[j] : row[j];
        break;
    case DLC_EP_SIGMOID:
        for (int64_t j = 0; j < n; j++) row[j] = sigmoid_f32(row[j]);
        break;
    case DLC_EP_TANH:
        for (int64_t j = 0; j < n; j++) row[j] = tanh_f32(row[j]);
        break;
    case DLC_EP_GELU:
        for (int64_t j = 0; j < n; j++) {
            float v = row[j];
            row[j] = 0.5f * v * (1.0f + erf_f32(v * 0.70710678118654752440f));
        }
        break;
    case DLC_EP_GELU_TANH:
        for (int64_t j = 0; j < n; j++) {
            float v = row[j];
            row[j] = 0.5f * v * (1.0f + tanh_f32(0.79788456080286535588f * (v + 0.044715f * v * v * v)));
        }
        break;
    case DLC_EP_SILU:
        /* the sigmoid rounded to float, then the product: the bits of the
         * Sigmoid kernel followed by the Mul kernel (or their fused chain) */
        for (int64_t j = 0; j < n; j++) {
            float v = row[j];
            float s = sigmoid_f32(v);
            row[j] = v * s;
        }
        break;
    default:
        break;
    }
}

/* A conv's per-channel bias, residual and Relu or none (ResNet's blocks) in
 * one pass; the next row's residual is prefetched, as rows of a block lie a
 * feature map apart and the residual often comes from L3 or memory. */
static void bias_residual_relu_rows(const dlc_epilogue *ep, float *c, int64_t ldc, int64_t i0, int64_t i1,
                                    int64_t j0, int64_t n) {
    const bool relu = ep->act == DLC_EP_RELU;
    for (int64_t i = i0; i < i1; i++) {
        float *restrict row = c + i * ldc + j0;
        const float *restrict r = ep->residual + i * ep->residual_ld + j0;
        if (i + 1 < i1)
            for (int64_t j = 0; j < n; j += 16) __builtin_prefetch(r + ep->residual_ld + j);
        float bv = ep->bias != NULL ? ep->bias[i * ep->bias_rs] : 0.0f;
        if (relu)
            for (int64_t j = 0; j < n; j++) {
                float v = row[j] + bv + r[j];
                row[j] = v < 0.0f ? 0.0f : v;
            }
        else
            for (int64_t j = 0; j < n; j++) row[j] = row[j] + bv + r[j];
    }
}

void dlc_epilogue_apply(const dlc_epilogue *ep, float *c, int64_t ldc, int64_t i0, int64_t i1, int64_t j0,
                        int64_t j1) {
    int64_t n = j1 - j0;
    if (n <= 0) return;
    if (ep->residual != NULL && (ep->bias == NULL || ep->bias_cs == 0) &&
        (ep->act == DLC_EP_NONE || ep->act == DLC_EP_RELU)) {
        bias_residual_relu_rows(ep, c, ldc, i0, i1, j0, n);
        return;
    }
    for (int64_t i = i0; i < i1; i++) {
        float *restrict row = c + i * ldc + j0;
        if (ep->bias != NULL) {
            const float *bias = ep->bias + i * ep->bias_rs;
            if (ep->bias_cs == 0) {
                float bv = bias[0];
                for (int64_t j = 0; j < n; j++) row[j] += bv;
            } else {
                const float *restrict bj = bias + j0 * ep->bias_cs;
                if (ep->bias_cs == 1)
                    for (int64_t j = 0; j < n; j++) row[j] += bj[j];
                else
                    for (int64_t j = 0; j < n; j++) row[j] += bj[j * ep->bias_cs];
            }
        }
        if (ep->residual != NULL) {
            const float *restrict r = ep->residual + i * ep->residual_ld + j0;
            for (int64_t j = 0; j < n; j++) row[j] += r[j];
        }
        act_row(ep->act, ep->a, ep->b, row, n);
    }
}

void dlc_epilogue_read(const dlc_kparams *p, int32_t ints_at, int32_t floats_at, dlc_epilogue *ep) {
    ep->act = DLC_EP_NONE;
    ep->a = ep->b = 0.0f;
    if (p->num_ints <= ints_at) return;
    ep->act = (int32_t)dlc_kp_ints(p)[ints_at];
    if (p->num_floats >= floats_at + 2) {
        ep->a = (float)dlc_kp_floats(p)[floats_at];
        ep->b = (float)dlc_kp_floats(p)[floats_at + 1];
    }
}

#ifndef DLC_KERNEL_BITCODE
#include "kernels/kernel_registry.h"
/* The epilogue is a building block of the GEMM and conv kernels. */
const dlc_kernel_entry dlc_kernels_epilogue[] = {
    {NULL, NULL, NULL},
};
#endif
