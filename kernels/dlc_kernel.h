/*
 * The kernel ABI: how generated code (and the constant folder) calls an op's
 * implementation. Op semantics are written once, in kernels/<family>.c, as C:
 *  - compiled to LLVM bitcode at build time, linked into every model by the
 *    LLVM backend and specialized there (the params block is a constant);
 *  - compiled natively into the compiler, where constant folding calls the
 *    very same functions (kernels/kernel_registry.c).
 *
 * Every kernel has one signature:
 *
 *     int32_t dlc_kernel_<name>(const dlc_kparams *p, void *const *inputs,
 *                               void *const *outputs, const dlc_kctx *ctx);
 *
 * returning 0 on success or a DLC_KERR_* code. A kernel that needs scratch
 * memory also defines
 *
 *     int64_t dlc_kernel_<name>_workspace(const dlc_kparams *p);
 *
 * and gets that many bytes (64-byte aligned) in ctx->workspace.
 *
 * Kernels must not allocate, print, or touch globals: they run inside a
 * session's run, possibly from several threads at once.
 *
 * This header is included by kernel C files (compiled by clang to bitcode
 * and by gcc natively) and by the compiler. Keep it plain C17.
 */
#ifndef DLC_KERNELS_DLC_KERNEL_H
#define DLC_KERNELS_DLC_KERNEL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define DLC_KMAX_RANK 8

/* Kernel return codes (mapped to DLC_ERR_RUNTIME with a message by the runtime). */
enum {
    DLC_KOK = 0,
    DLC_KERR_INDEX_OUT_OF_RANGE = 1,
    DLC_KERR_BAD_VALUE = 2,       /* e.g. a negative size given as data */
    DLC_KERR_UNSUPPORTED = 3,     /* a dtype/attribute combination the kernel lacks */
    DLC_KERR_BOUND_VALUE = 4,     /* an input differs from the value bound at compile time */
};

/* Shape and dtype of one kernel operand. dtype 0 = operand absent
 * (an omitted optional ONNX input); its data pointer is then NULL. */
typedef struct dlc_ktensor {
    int32_t dtype; /* dlc_dtype */
    int32_t rank;
    int64_t numel;
    int64_t dims[DLC_KMAX_RANK];
} dlc_ktensor;

/* Parameter block of one kernel call. In memory it is followed by
 *   dlc_ktensor tensors[num_inputs + num_outputs];  (inputs first)
 *   int64_t ints[num_ints];
 *   double floats[num_floats];
 * Built by dlc_kparams_build() (ir/kparams.c); read with the accessors below. */
typedef struct dlc_kparams {
    int32_t num_inputs;
    int32_t num_outputs;
    int32_t num_ints;
    int32_t num_floats;
} dlc_kparams;

typedef struct dlc_kctx {
    int32_t num_threads; /* >= 1 */
    int32_t reserved;
    void *workspace;     /* dlc_kernel_<name>_workspace() bytes, or NULL */
    int64_t workspace_size;
    /* For kernels whose outputs have data-dependent extents (NonZero, Unique,
     * ...; the params give each such output's upper bound): num_outputs *
     * DLC_KMAX_RANK entries where the kernel writes every output's actual
     * dims, output o at [o * DLC_KMAX_RANK]. Such a kernel writes each output
     * dense for its actual dims. NULL for every other kernel. */
    int64_t *out_dims;
} dlc_kctx;

typedef int32_t (*dlc_kernel_fn)(const dlc_kparams *p, void *const *inputs, void *const *outputs,
                                 const dlc_kctx *ctx);
typedef int64_t (*dlc_kernel_workspace_fn)(const dlc_kparams *p);

static inline const dlc_ktensor *dlc_kp_tensors(const dlc_kparams *p) {
    return (const dlc_ktensor *)(const void *)(p + 1);
}
static inline const dlc_ktensor *dlc_kp_in(const dlc_kparams *p, int i) { return dlc_kp_tensors(p) + i; }
static inline const dlc_ktensor *dlc_kp_out(const dlc_kparams *p, int i) {
    return dlc_kp_tensors(p) + p->num_inputs + i;
}
static inline const int64_t *dlc_kp_ints(const dlc_kparams *p) {
    return (const int64_t *)(const void *)(dlc_kp_tensors(p) + p->num_inputs + p->num_outputs);
}
static inline const double *dlc_kp_floats(const dlc_kparams *p) {
    return (const double *)(const void *)(dlc_kp_ints(p) + p->num_ints);
}
/* Total bytes of a params block with these counts. */
static inline size_t dlc_kparams_size(int num_inputs, int num_outputs, int num_ints, int num_floats) {
    return sizeof(dlc_kparams) + (size_t)(num_inputs + num_outputs) * sizeof(dlc_ktensor) +
           (size_t)num_ints * sizeof(int64_t) + (size_t)num_floats * sizeof(double);
}

/* Bytes per element of a dlc_dtype (ONNX numbering); 0 for string/unknown. */
static inline int64_t dlc_kdtype_size(int32_t dtype) {
    switch (dtype) {
    case 2: case 3: case 9: return 1;            /* uint8 int8 bool */
    case 4: case 5: case 10: case 16: return 2;  /* uint16 int16 float16 bfloat16 */
    case 1: case 6: case 12: return 4;           /* float32 int32 uint32 */
    case 7: case 11: case 13: case 14: return 8; /* int64 float64 uint64 complex64 */
    case 15: return 16;                          /* complex128 */
    default: return 0;
    }
}

/* ---- Threads ------------------------------------------------------------
 * Runs body(arg, begin, end) over [0, n) split into contiguous chunks of at
 * least min_chunk indices, on up to ctx->num_threads threads (the worker pool
 * of kernels/parallel.c). A body must compute each index independently of
 * the split, so results do not depend on the thread count. Callers choose
 * min_chunk so that one chunk is worth handing to another thread.
 *
 * The serial case is inline here so that a direct call of body remains,
 * which LLVM specializes on the kernel's constant parameters. */
typedef void (*dlc_parallel_body)(void *arg, int64_t begin, int64_t end);
void dlc_parallel_run(int64_t threads, int64_t n, int64_t min_chunk, dlc_parallel_body body, void *arg);
static inline void dlc_parallel_for(const dlc_kctx *ctx, int64_t n, int64_t min_chunk, dlc_parallel_body body,
                                    void *arg) {
    if (n <= 0) return;
    int64_t threads = ctx != NULL && ctx->num_threads > 1 ? ctx->num_threads : 1;
    if (min_chunk < 1) min_chunk = 1;
    if (threads > n / min_chunk) threads = n / min_chunk;
    if (threads <= 1) body(arg, 0, n);
    else dlc_parallel_run(threads, n, min_chunk, body, arg);
}

/* ---- Half precision ---------------------------------------------------- */
static inline float dlc_bits_to_f32(uint32_t bits) {
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}
static inline uint32_t dlc_f32_to_bits(float f) {
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    return bits;
}
static inline float dlc_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exponent = (h >> 10) & 0x1fu;
    uint32_t mantissa = h & 0x3ffu;
    if (exponent == 0x1f) return dlc_bits_to_f32(sign | 0x7f800000u | (mantissa << 13));
    if (exponent == 0) {
        if (mantissa == 0) return dlc_bits_to_f32(sign);
        /* subnormal: value = mantissa * 2^-24 */
        float magnitude = (float)mantissa * 5.9604644775390625e-8f;
        return sign ? -magnitude : magnitude;
    }
    return dlc_bits_to_f32(sign | ((exponent + 112u) << 23) | (mantissa << 13));
}
/* Round to nearest even, overflow to inf, NaN stays NaN. */
static inline uint16_t dlc_f32_to_f16(float f) {
    uint32_t bits = dlc_f32_to_bits(f);
    uint16_t sign = (uint16_t)((bits >> 16) & 0x8000u);
    uint32_t abs_bits = bits & 0x7fffffffu;
    if (abs_bits >= 0x7f800000u) return (uint16_t)(sign | 0x7c00u | (abs_bits > 0x7f800000u ? 0x200u : 0u));
    if (abs_bits >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u); /* rounds to >= 65520 */
    if (abs_bits < 0x38800000u) {                                   /* result is subnormal or zero */
        float magnitude = dlc_bits_to_f32(abs_bits);
        /* adding 0.5 (2^-1) aligns the mantissa so the FPU rounds to even at 2^-24 */
        uint32_t rounded = dlc_f32_to_bits(magnitude + 0.5f) - 0x3f000000u;
        return (uint16_t)(sign | rounded);
    }
    uint32_t mantissa_odd = (abs_bits >> 13) & 1u;
    abs_bits += 0xc8000fffu + mantissa_odd; /* rebias exponent (-112 << 23) and round */
    return (uint16_t)(sign | (abs_bits >> 13));
}
static inline float dlc_bf16_to_f32(uint16_t b) { return dlc_bits_to_f32((uint32_t)b << 16); }
static inline uint16_t dlc_f32_to_bf16(float f) {
    uint32_t bits = dlc_f32_to_bits(f);
    if ((bits & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((bits >> 16) | 0x40u); /* quiet NaN */
    bits += 0x7fffu + ((bits >> 16) & 1u);
    return (uint16_t)(bits >> 16);
}

#endif
