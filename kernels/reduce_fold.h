/* The fold of a float reduction, shared by kernels/reduce.c (the Reduce*
 * kernels) and kernels/ew_chain.c (an elementwise chain fused with the
 * reduction after it), so that the fused node gives the very bits of the
 * two kernels run apart. A run is folded EW_BLOCK elements at a time: eight
 * lanes, combined in order (lanes_S), then into the running result with
 * red_combine_kind's combine_S. Include after <tgmath.h>. */
#ifndef DLC_KERNELS_REDUCE_FOLD_H
#define DLC_KERNELS_REDUCE_FOLD_H

#include "kernels/ew_ops.h"    /* DLC_RED_* */
#include "kernels/fast_math.h" /* dlc_exp: float exp without a libm call */

/* What each element contributes, and how contributions combine. */
enum { K_SUM, K_ABS, K_SQ, K_PROD, K_MAX, K_MIN, K_EXP };

static inline int red_kind_of(int op) {
    switch (op) {
    case DLC_RED_L1: return K_ABS;
    case DLC_RED_L2: case DLC_RED_SUM_SQUARE: return K_SQ;
    case DLC_RED_PROD: return K_PROD;
    case DLC_RED_MAX: return K_MAX;
    case DLC_RED_MIN: return K_MIN;
    case DLC_RED_LOG_SUM_EXP: return K_EXP;
    default: return K_SUM;
    }
}

/* How a kind's partial results join: contributions of |x|, x^2 and exp add. */
static inline int red_combine_kind(int kind) { return kind == K_EXP || kind == K_ABS || kind == K_SQ ? K_SUM : kind; }

#define RED_NAN_MAX(A, B) ((B) > (A) || (B) != (B) ? (B) : (A)) /* NaN, once in, stays */
#define RED_NAN_MIN(A, B) ((B) < (A) || (B) != (B) ? (B) : (A))

/* init_S, combine_S, lanes_S (the combined contributions of x[0..n)) and
 * finish_S (Mean's division, L2's root, the logs) for element type T. */
#define DEFINE_REDUCE_FOLD(S, T)                                                                   \
    static inline T init_##S(int kind) {                                                           \
        return kind == K_PROD ? (T)1 : kind == K_MAX ? -(T)INFINITY : kind == K_MIN ? (T)INFINITY : (T)0; \
    }                                                                                              \
    static inline T combine_##S(int kind, T a, T b) {                                              \
        switch (kind) {                                                                            \
        case K_PROD: return a * b;                                                                 \
        case K_MAX: return RED_NAN_MAX(a, b);                                                      \
        case K_MIN: return RED_NAN_MIN(a, b);                                                      \
        default: return a + b;                                                                     \
        }                                                                                          \
    }                                                                                              \
    static inline T lanes_##S(int kind, const T *x, int64_t n, T shift) {                          \
        T l[8];                                                                                    \
        for (int q = 0; q < 8; q++) l[q] = init_##S(kind);                                         \
        int64_t i = 0;                                                                             \
        switch (kind) {                                                                            \
        case K_SUM: for (; i + 8 <= n; i += 8) for (int q = 0; q < 8; q++) l[q] += x[i + q]; break; \
        case K_ABS: for (; i + 8 <= n; i += 8) for (int q = 0; q < 8; q++) l[q] += fabs(x[i + q]); break; \
        case K_SQ: for (; i + 8 <= n; i += 8) for (int q = 0; q < 8; q++) l[q] += x[i + q] * x[i + q]; break; \
        case K_PROD: for (; i + 8 <= n; i += 8) for (int q = 0; q < 8; q++) l[q] *= x[i + q]; break; \
        case K_MAX: for (; i + 8 <= n; i += 8) for (int q = 0; q < 8; q++) l[q] = RED_NAN_MAX(l[q], x[i + q]); break; \
        case K_MIN: for (; i + 8 <= n; i += 8) for (int q = 0; q < 8; q++) l[q] = RED_NAN_MIN(l[q], x[i + q]); break; \
        default: for (; i + 8 <= n; i += 8) for (int q = 0; q < 8; q++) l[q] += dlc_exp(x[i + q] - shift); break; \
        }                                                                                          \
        int ckind = red_combine_kind(kind);                                                        \
        for (; i < n; i++) {                                                                       \
            T v = x[i];                                                                            \
            if (kind == K_ABS) v = fabs(v);                                                        \
            else if (kind == K_SQ) v = v * v;                                                      \
            else if (kind == K_EXP) v = dlc_exp(v - shift);                                        \
            l[0] = combine_##S(ckind, l[0], v);                                                    \
        }                                                                                          \
        for (int q = 1; q < 8; q++) l[0] = combine_##S(ckind, l[0], l[q]);                         \
        return l[0];                                                                               \
    }                                                                                              \
    static inline T finish_##S(int op, T acc, T shift, int64_t K) {                                \
        switch (op) {                                                                              \
        case DLC_RED_MEAN: return K == 0 ? (T)NAN : acc / (T)K;                                    \
        case DLC_RED_L2: return sqrt(acc);                                                         \
        case DLC_RED_LOG_SUM: return log(acc);                                                     \
        case DLC_RED_LOG_SUM_EXP: return isfinite(shift) ? log(acc) + shift : shift;               \
        default: return acc;                                                                       \
        }                                                                                          \
    }

#endif
