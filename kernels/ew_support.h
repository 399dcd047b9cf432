/* Shared machinery of the elementwise and reduce kernels.
 *
 * Every dtype computes in one of four "classes": float32 (float32, and
 * float16/bfloat16 widened on load and rounded to nearest even on store),
 * float64, int64 (all integers but uint64, and bool; arithmetic wraps like
 * two's complement) and uint64. Operands are converted block by block into
 * small stack buffers of the class type, so each op is one tight loop over
 * contiguous arrays that compilers vectorize; a float32 operand read in
 * order is used in place, without a copy.
 *
 * Broadcasting: ew_plan gives each input element strides over the output
 * shape (0 on broadcast dims) and merges dims that stay contiguous for every
 * operand, so an output walk is a sequence of segments in which each input
 * is either contiguous or one repeated element. */
#ifndef DLC_KERNELS_EW_SUPPORT_H
#define DLC_KERNELS_EW_SUPPORT_H

#include <math.h>
#include <stdint.h>

#include "kernels/dlc_kernel.h"

/* Loop hints, written HINT() before a loop whose iteration i reads the
 * operands' element i and then writes the result's element i, and nothing
 * else of them. The memory plan runs elementwise nodes in place (the output
 * over a dying input, passes/memory_plan.h), so the result may be the very
 * array of an operand; without the hint LLVM guards the vector loop with an
 * overlap check that exact aliasing fails, and an in-place call runs the
 * scalar loop. Exact aliasing and disjoint arrays are both safe for such a
 * loop; partial overlap never occurs. The hint also forces vectorization
 * (LLVM warns at every model compile when it cannot), so it goes only on
 * loops that vectorize for every target: arithmetic, compares and selects,
 * and kernels/fast_math.h's float functions, never a libm call. Only the
 * bitcode (clang) build needs it; constant folding runs natively. */
#if defined(__clang__)
#define EW_ALIAS_SAFE() _Pragma("clang loop vectorize(assume_safety)")
#else
#define EW_ALIAS_SAFE()
#endif
#define EW_NO_HINT()

#define EW_BLOCK 512          /* elements per segment: buffers stay in L1 */
#define EW_MAX_IN 3           /* Where has three operands */
#define EW_MIN_CHUNK 16384    /* elements per thread before splitting pays */

enum { EW_F32, EW_F64, EW_I64, EW_U64 };

enum {
    EW_DT_F32 = 1, EW_DT_U8 = 2, EW_DT_I8 = 3, EW_DT_U16 = 4, EW_DT_I16 = 5, EW_DT_I32 = 6,
    EW_DT_I64 = 7, EW_DT_BOOL = 9, EW_DT_F16 = 10, EW_DT_F64 = 11, EW_DT_U32 = 12,
    EW_DT_U64 = 13, EW_DT_BF16 = 16,
};

static inline int ew_is_float(int32_t dt) {
    return dt == EW_DT_F32 || dt == EW_DT_F16 || dt == EW_DT_BF16 || dt == EW_DT_F64;
}
static inline int ew_class_of(int32_t dt) {
    switch (dt) {
    case EW_DT_F32: case EW_DT_F16: case EW_DT_BF16: return EW_F32;
    case EW_DT_F64: return EW_F64;
    case EW_DT_U64: return EW_U64;
    default: return EW_I64;
    }
}

/* ---- scalar conversions with defined results everywhere ---------------- */

/* float -> integer: NaN gives 0, out-of-range saturates to int64 first (C
 * leaves it undefined), narrower targets then wrap like numpy on x86. */
static inline int64_t ew_f64_to_i64(double v) {
    if (!(v == v)) return 0;
    if (v >= 9223372036854775808.0) return INT64_MAX;
    if (v < -9223372036854775808.0) return INT64_MIN;
    return (int64_t)v;
}
static inline uint64_t ew_f64_to_u64(double v) {
    if (!(v == v)) return 0;
    if (v >= 18446744073709551616.0) return UINT64_MAX;
    if (v >= 9223372036854775808.0) return (uint64_t)(v - 9223372036854775808.0) + 9223372036854775808u;
    return (uint64_t)ew_f64_to_i64(v);
}
/* double -> float rounded to odd: a following rounding to float16/bfloat16
 * (fewer than 22 mantissa bits) then equals one direct correct rounding. */
static inline float ew_f64_to_f32_odd(double d) {
    float f = (float)d;
    if (f == f && (double)f != d) {
        uint32_t bits = dlc_f32_to_bits(f);
        if (fabs((double)f) > fabs(d)) bits -= 1; /* rounded away from zero: step back */
        f = dlc_bits_to_f32(bits | 1u);
    }
    return f;
}

static inline float ew_get_f32(const void *p, int32_t dt, int64_t i) {
    switch (dt) {
    case EW_DT_F32: return ((const float *)p)[i];
    case EW_DT_F16: return dlc_f16_to_f32(((const uint16_t *)p)[i]);
    case EW_DT_BF16: return dlc_bf16_to_f32(((const uint16_t *)p)[i]);
    case EW_DT_F64: return (float)((const double *)p)[i];
    case EW_DT_U8: case EW_DT_BOOL: return ((const uint8_t *)p)[i];
    case EW_DT_I8: return ((const int8_t *)p)[i];
    case EW_DT_U16: return ((const uint16_t *)p)[i];
    case EW_DT_I16: return ((const int16_t *)p)[i];
    case EW_DT_I32: return (float)((const int32_t *)p)[i];
    case EW_DT_U32: return (float)((const uint32_t *)p)[i];
    case EW_DT_I64: return (float)((const int64_t *)p)[i];
    case EW_DT_U64: return (float)((const uint64_t *)p)[i];
    default: return 0.0f;
    }
}
static inline double ew_get_f64(const void *p, int32_t dt, int64_t i) {
    switch (dt) {
    case EW_DT_F64: return ((const double *)p)[i];
    case EW_DT_I64: return (double)((const int64_t *)p)[i];
    case EW_DT_U64: return (double)((const uint64_t *)p)[i];
    default: return ew_get_f32(p, dt, i); /* exact for every other dtype */
    }
}
/* Integers as 64-bit patterns: signed types sign-extend, unsigned and bool
 * zero-extend; floats convert toward zero (see ew_f64_to_i64). */
static inline int64_t ew_get_i64(const void *p, int32_t dt, int64_t i) {
    switch (dt) {
    case EW_DT_U8: case EW_DT_BOOL: return ((const uint8_t *)p)[i];
    case EW_DT_I8: return ((const int8_t *)p)[i];
    case EW_DT_U16: return ((const uint16_t *)p)[i];
    case EW_DT_I16: return ((const int16_t *)p)[i];
    case EW_DT_I32: return ((const int32_t *)p)[i];
    case EW_DT_U32: return ((const uint32_t *)p)[i];
    case EW_DT_I64: return ((const int64_t *)p)[i];
    case EW_DT_U64: return (int64_t)((const uint64_t *)p)[i];
    case EW_DT_F64: return ew_f64_to_i64(((const double *)p)[i]);
    default: return ew_f64_to_i64(ew_get_f32(p, dt, i));
    }
}

static inline void ew_put_i64(void *p, int32_t dt, int64_t i, int64_t v) {
    switch (dt) {
    case EW_DT_BOOL: ((uint8_t *)p)[i] = v != 0; break;
    case EW_DT_U8: case EW_DT_I8: ((uint8_t *)p)[i] = (uint8_t)v; break;
    case EW_DT_U16: case EW_DT_I16: ((uint16_t *)p)[i] = (uint16_t)v; break;
    case EW_DT_U32: case EW_DT_I32: ((uint32_t *)p)[i] = (uint32_t)v; break;
    case EW_DT_U64: case EW_DT_I64: ((uint64_t *)p)[i] = (uint64_t)v; break;
    case EW_DT_F32: ((float *)p)[i] = (float)v; break;
    case EW_DT_F64: ((double *)p)[i] = (double)v; break;
    case EW_DT_F16: ((uint16_t *)p)[i] = dlc_f32_to_f16(ew_f64_to_f32_odd((double)v)); break;
    case EW_DT_BF16: ((uint16_t *)p)[i] = dlc_f32_to_bf16(ew_f64_to_f32_odd((double)v)); break;
    default: break;
    }
}
static inline void ew_put_u64(void *p, int32_t dt, int64_t i, uint64_t v) {
    switch (dt) {
    case EW_DT_F32: ((float *)p)[i] = (float)v; break;
    case EW_DT_F64: ((double *)p)[i] = (double)v; break;
    case EW_DT_F16: ((uint16_t *)p)[i] = dlc_f32_to_f16(ew_f64_to_f32_odd((double)v)); break;
    case EW_DT_BF16: ((uint16_t *)p)[i] = dlc_f32_to_bf16(ew_f64_to_f32_odd((double)v)); break;
    default: ew_put_i64(p, dt, i, (int64_t)v); break;
    }
}
static inline void ew_put_f64(void *p, int32_t dt, int64_t i, double v) {
    switch (dt) {
    case EW_DT_F64: ((double *)p)[i] = v; break;
    case EW_DT_F32: ((float *)p)[i] = (float)v; break;
    case EW_DT_F16: ((uint16_t *)p)[i] = dlc_f32_to_f16(ew_f64_to_f32_odd(v)); break;
    case EW_DT_BF16: ((uint16_t *)p)[i] = dlc_f32_to_bf16(ew_f64_to_f32_odd(v)); break;
    case EW_DT_BOOL: ((uint8_t *)p)[i] = v != 0; break;
    case EW_DT_U64: ((uint64_t *)p)[i] = ew_f64_to_u64(v); break;
    default: ew_put_i64(p, dt, i, ew_f64_to_i64(v)); break;
    }
}
static inline void ew_put_f32(void *p, int32_t dt, int64_t i, float v) {
    switch (dt) {
    case EW_DT_F32: ((float *)p)[i] = v; break;
    case EW_DT_F16: ((uint16_t *)p)[i] = dlc_f32_to_f16(v); break;
    case EW_DT_BF16: ((uint16_t *)p)[i] = dlc_f32_to_bf16(v); break;
    default: ew_put_f64(p, dt, i, v); break;
    }
}

/* ---- block conversions (dtype switch outside the loop) ----------------- */

static inline void ew_convert_to_f32(const void *p, int32_t dt, int64_t off, int64_t n, float *dst) {
    switch (dt) {
    case EW_DT_F32: memcpy(dst, (const float *)p + off, (size_t)n * sizeof(float)); break;
    case EW_DT_F16: {
        const uint16_t *s = (const uint16_t *)p + off;
        for (int64_t i = 0; i < n; i++) dst[i] = dlc_f16_to_f32(s[i]);
        break;
    }
    case EW_DT_BF16: {
        const uint16_t *s = (const uint16_t *)p + off;
        for (int64_t i = 0; i < n; i++) dst[i] = dlc_bf16_to_f32(s[i]);
        break;
    }
    default:
        for (int64_t i = 0; i < n; i++) dst[i] = ew_get_f32(p, dt, off + i);
        break;
    }
}
static inline void ew_convert_to_f64(const void *p, int32_t dt, int64_t off, int64_t n, double *dst) {
    if (dt == EW_DT_F64) {
        memcpy(dst, (const double *)p + off, (size_t)n * sizeof(double));
        return;
    }
    for (int64_t i = 0; i < n; i++) dst[i] = ew_get_f64(p, dt, off + i);
}
static inline void ew_convert_to_i64(const void *p, int32_t dt, int64_t off, int64_t n, int64_t *dst) {
    switch (dt) {
    case EW_DT_I64: case EW_DT_U64: memcpy(dst, (const int64_t *)p + off, (size_t)n * sizeof(int64_t)); break;
    case EW_DT_I32: {
        const int32_t *s = (const int32_t *)p + off;
        for (int64_t i = 0; i < n; i++) dst[i] = s[i];
        break;
    }
    case EW_DT_U8: case EW_DT_BOOL: {
        const uint8_t *s = (const uint8_t *)p + off;
        for (int64_t i = 0; i < n; i++) dst[i] = s[i];
        break;
    }
    default:
        for (int64_t i = 0; i < n; i++) dst[i] = ew_get_i64(p, dt, off + i);
        break;
    }
}

static inline void ew_store_f32(void *p, int32_t dt, int64_t off, const float *src, int64_t n) {
    switch (dt) {
    case EW_DT_F32:
        if ((float *)p + off != src) memcpy((float *)p + off, src, (size_t)n * sizeof(float));
        break;
    case EW_DT_F16: {
        uint16_t *d = (uint16_t *)p + off;
        for (int64_t i = 0; i < n; i++) d[i] = dlc_f32_to_f16(src[i]);
        break;
    }
    case EW_DT_BF16: {
        uint16_t *d = (uint16_t *)p + off;
        for (int64_t i = 0; i < n; i++) d[i] = dlc_f32_to_bf16(src[i]);
        break;
    }
    default:
        for (int64_t i = 0; i < n; i++) ew_put_f32(p, dt, off + i, src[i]);
        break;
    }
}
static inline void ew_store_f64(void *p, int32_t dt, int64_t off, const double *src, int64_t n) {
    if (dt == EW_DT_F64) {
        if ((double *)p + off != src) memcpy((double *)p + off, src, (size_t)n * sizeof(double));
        return;
    }
    for (int64_t i = 0; i < n; i++) ew_put_f64(p, dt, off + i, src[i]);
}
static inline void ew_store_i64(void *p, int32_t dt, int64_t off, const int64_t *src, int64_t n) {
    switch (dt) {
    case EW_DT_I64: case EW_DT_U64:
        if ((int64_t *)p + off != src) memcpy((int64_t *)p + off, src, (size_t)n * sizeof(int64_t));
        break;
    case EW_DT_I32: case EW_DT_U32: {
        uint32_t *d = (uint32_t *)p + off;
        for (int64_t i = 0; i < n; i++) d[i] = (uint32_t)src[i];
        break;
    }
    default:
        for (int64_t i = 0; i < n; i++) ew_put_i64(p, dt, off + i, src[i]);
        break;
    }
}

/* ---- broadcast plans and segment walks -------------------------------- */

typedef struct ew_plan {
    int32_t rank; /* after merging; >= 1 */
    int32_t num_in;
    int64_t numel;
    int64_t dims[DLC_KMAX_RANK];
    int64_t strides[EW_MAX_IN][DLC_KMAX_RANK]; /* elements; 0 on broadcast dims */
} ew_plan;

/* One stretch of the output along its innermost dim: n elements from pos;
 * input k starts at off[k] and is contiguous (step[k] 1) or one repeated
 * element (step[k] 0). */
typedef struct ew_seg {
    int64_t pos, n;
    int64_t off[EW_MAX_IN];
    int32_t step[EW_MAX_IN];
} ew_seg;

/* Per-thread conversion buffers; a repeated element is converted once and
 * reused while it stays the same. */
typedef struct ew_scratch {
    union {
        float f32[EW_BLOCK];
        double f64[EW_BLOCK];
        int64_t i64[EW_BLOCK];
    } buf[EW_MAX_IN + 1];
    int64_t cached_off[EW_MAX_IN];
    int64_t cached_n[EW_MAX_IN];
} ew_scratch;

/* Inputs are broadcast (numpy rules, already validated by the compiler)
 * against out's shape. */
static inline void ew_plan_init(ew_plan *pl, const dlc_ktensor *out, const dlc_ktensor *const *ins, int num_in) {
    int32_t rank = out->rank;
    pl->num_in = num_in;
    pl->numel = out->numel;
    int32_t r = 0;
    for (int32_t d = 0; d < rank; d++) {
        if (out->dims[d] == 1) continue; /* size-1 dims never move an index */
        pl->dims[r] = out->dims[d];
        for (int k = 0; k < num_in; k++) {
            const dlc_ktensor *in = ins[k];
            int32_t id = d - (rank - in->rank);
            int64_t stride = 0;
            if (id >= 0 && in->dims[id] != 1) {
                stride = 1;
                for (int32_t j = id + 1; j < in->rank; j++) stride *= in->dims[j];
            }
            pl->strides[k][r] = stride;
        }
        r++;
    }
    if (r == 0) {
        pl->dims[0] = 1;
        for (int k = 0; k < num_in; k++) pl->strides[k][0] = 0;
        r = 1;
    }
    /* merge dim d into d+1 while every operand stays contiguous across them */
    int32_t m = 0;
    for (int32_t d = 1; d < r; d++) {
        int mergeable = 1;
        for (int k = 0; k < num_in; k++)
            if (pl->strides[k][m] != pl->strides[k][d] * pl->dims[d]) mergeable = 0;
        if (mergeable) {
            pl->dims[m] *= pl->dims[d];
            for (int k = 0; k < num_in; k++) pl->strides[k][m] = pl->strides[k][d];
        } else {
            m++;
            pl->dims[m] = pl->dims[d];
            for (int k = 0; k < num_in; k++) pl->strides[k][m] = pl->strides[k][d];
        }
    }
    pl->rank = m + 1;
}

typedef void (*ew_seg_fn)(void *arg, ew_scratch *scratch, const ew_seg *seg);

typedef struct ew_walk {
    const ew_plan *plan;
    ew_seg_fn fn;
    void *arg;
} ew_walk;

static inline void ew_walk_range(void *data, int64_t begin, int64_t end) {
    const ew_walk *w = data;
    const ew_plan *pl = w->plan;
    ew_scratch scratch;
    for (int k = 0; k < EW_MAX_IN; k++) scratch.cached_off[k] = -1, scratch.cached_n[k] = 0;
    int64_t coord[DLC_KMAX_RANK];
    int64_t rest = begin;
    for (int32_t d = pl->rank - 1; d >= 0; d--) {
        coord[d] = rest % pl->dims[d];
        rest /= pl->dims[d];
    }
    int32_t inner = pl->rank - 1;
    ew_seg seg;
    for (int k = 0; k < pl->num_in; k++) seg.step[k] = pl->strides[k][inner] != 0;
    for (int64_t pos = begin; pos < end;) {
        int64_t n = pl->dims[inner] - coord[inner];
        if (n > end - pos) n = end - pos;
        if (n > EW_BLOCK) n = EW_BLOCK;
        seg.pos = pos;
        seg.n = n;
        for (int k = 0; k < pl->num_in; k++) {
            int64_t off = 0;
            for (int32_t d = 0; d < pl->rank; d++) off += coord[d] * pl->strides[k][d];
            seg.off[k] = off;
        }
        w->fn(w->arg, &scratch, &seg);
        pos += n;
        coord[inner] += n;
        for (int32_t d = inner; d > 0 && coord[d] == pl->dims[d]; d--) {
            coord[d] = 0;
            coord[d - 1]++;
        }
    }
}

static inline void ew_run(const dlc_kctx *ctx, const ew_plan *pl, ew_seg_fn fn, void *arg) {
    ew_walk w = {pl, fn, arg};
    dlc_parallel_for(ctx, pl->numel, EW_MIN_CHUNK, ew_walk_range, &w);
}

/* Operand k of a segment as class-typed contiguous data: in place when it
 * already is, else converted into scratch buffer k. */
static inline const float *ew_load_f32(ew_scratch *s, int k, const void *p, int32_t dt, const ew_seg *seg) {
    float *buf = s->buf[k].f32;
    if (seg->step[k] == 0) {
        if (s->cached_off[k] != seg->off[k] || s->cached_n[k] < seg->n) {
            float v = ew_get_f32(p, dt, seg->off[k]);
            for (int64_t i = 0; i < seg->n; i++) buf[i] = v;
            s->cached_off[k] = seg->off[k];
            s->cached_n[k] = seg->n;
        }
        return buf;
    }
    if (dt == EW_DT_F32) return (const float *)p + seg->off[k];
    ew_convert_to_f32(p, dt, seg->off[k], seg->n, buf);
    return buf;
}
static inline const double *ew_load_f64(ew_scratch *s, int k, const void *p, int32_t dt, const ew_seg *seg) {
    double *buf = s->buf[k].f64;
    if (seg->step[k] == 0) {
        if (s->cached_off[k] != seg->off[k] || s->cached_n[k] < seg->n) {
            double v = ew_get_f64(p, dt, seg->off[k]);
            for (int64_t i = 0; i < seg->n; i++) buf[i] = v;
            s->cached_off[k] = seg->off[k];
            s->cached_n[k] = seg->n;
        }
        return buf;
    }
    if (dt == EW_DT_F64) return (const double *)p + seg->off[k];
    ew_convert_to_f64(p, dt, seg->off[k], seg->n, buf);
    return buf;
}
static inline const int64_t *ew_load_i64(ew_scratch *s, int k, const void *p, int32_t dt, const ew_seg *seg) {
    int64_t *buf = s->buf[k].i64;
    if (seg->step[k] == 0) {
        if (s->cached_off[k] != seg->off[k] || s->cached_n[k] < seg->n) {
            int64_t v = ew_get_i64(p, dt, seg->off[k]);
            for (int64_t i = 0; i < seg->n; i++) buf[i] = v;
            s->cached_off[k] = seg->off[k];
            s->cached_n[k] = seg->n;
        }
        return buf;
    }
    if (dt == EW_DT_I64 || dt == EW_DT_U64) return (const int64_t *)p + seg->off[k];
    ew_convert_to_i64(p, dt, seg->off[k], seg->n, buf);
    return buf;
}

#endif
