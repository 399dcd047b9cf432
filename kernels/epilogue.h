/*
 * Fused GEMM/Conv epilogues: what a Conv, Gemm or MatMul applies to each
 * block of its output while the block is still in cache, instead of separate
 * kernels re-reading the whole output (passes/fuse_epilogue.c decides):
 *
 *     C[i,j] = act(C[i,j] + bias[i * bias_rs + j * bias_cs] + residual[i * residual_ld + j])
 *
 * bias per row (Conv: output channels) or per column (MatMul/Gemm: the
 * output's last dim), residual a tensor laid out like C, either may be
 * absent. The activation codes are part of the kernel ABI of compiled
 * models (the last int of a fused conv/gemm/matmul call): append only.
 */
#ifndef DLC_KERNELS_EPILOGUE_H
#define DLC_KERNELS_EPILOGUE_H

#include "kernels/dlc_kernel.h"

enum dlc_epilogue_act {
    DLC_EP_NONE = 0,
    DLC_EP_RELU,       /* v < 0 ? 0 : v (NaN stays NaN, as the Relu kernel) */
    DLC_EP_CLIP,       /* min(max(v, a), b) */
    DLC_EP_LEAKY_RELU, /* v < 0 ? a * v : v */
    DLC_EP_SIGMOID,
    DLC_EP_TANH,
    DLC_EP_GELU,       /* 0.5 v (1 + erf(v / sqrt 2)) */
    DLC_EP_GELU_TANH,  /* 0.5 v (1 + tanh(sqrt(2/pi) (v + 0.044715 v^3))) */
    DLC_EP_SILU,       /* v * sigmoid(v) (SiLU / Swish: PyTorch's Sigmoid then Mul) */
    DLC_EP_COUNT
};

typedef struct dlc_epilogue {
    const float *bias; /* NULL: none */
    int64_t bias_rs, bias_cs;
    const float *residual; /* NULL: none; element (i, j) at residual[i * residual_ld + j] */
    int64_t residual_ld;
    int32_t act;       /* dlc_epilogue_act */
    float a, b;        /* activation parameters */
} dlc_epilogue;

/* True when ep is non-NULL and changes anything. */
static inline int dlc_epilogue_active(const dlc_epilogue *ep) {
    return ep != NULL && (ep->bias != NULL || ep->residual != NULL || ep->act != DLC_EP_NONE);
}

/* Applies ep to rows i0..i1, columns j0..j1 of C (element (i, j) at
 * c[i * ldc + j]; bias and residual are indexed by the same i, j). */
void dlc_epilogue_apply(const dlc_epilogue *ep, float *c, int64_t ldc, int64_t i0, int64_t i1, int64_t j0, int64_t j1);

/* The activation of a fused call: act = ints[at] when the call has that many
 * ints (else none), parameters the two floats from floats_at. */
void dlc_epilogue_read(const dlc_kparams *p, int32_t ints_at, int32_t floats_at, dlc_epilogue *ep);

#endif
