/* float32 exp, tanh, sigmoid and erf without a libm call.
 *
 * A libm call inside a loop keeps it scalar; these are straight-line float
 * arithmetic (selects instead of branches, bit casts for 2^n) so loops over
 * them vectorize. tests/unit/elementwise_test.c checks each against double
 * libm on a dense grid and at the special values. float64 keeps libm.
 *
 * Include after <tgmath.h> or <math.h>; the dlc_* macros pick the float
 * function for float arguments and libm's for double. */
#ifndef DLC_KERNELS_FAST_MATH_H
#define DLC_KERNELS_FAST_MATH_H

#include <math.h>
#include <stdint.h>

#include "kernels/dlc_kernel.h" /* dlc_bits_to_f32, dlc_f32_to_bits */

/* e^x within 2 ulp (normal results; subnormal ones within 1 unit of the
 * least subnormal). Cody-Waite reduction x = n ln2 + r, |r| <= ln2/2, with
 * ln2 split so that n * ln2_hi is exact; e^r by Cephes' degree-6 minimax
 * polynomial; 2^n applied as two exact power-of-two factors so that results
 * down in the subnormals are rounded once and 2^128 overflows to inf.
 * x is clamped first to [-104, 89] (beyond, e^x is 0 or inf in float);
 * NaN passes the clamps (comparisons are false) and stays NaN. */
static inline float exp_f32(float x) {
    x = x > 89.0f ? 89.0f : x;
    x = x < -104.0f ? -104.0f : x;
    /* n = round(x / ln2) by the 1.5 * 2^23 shifter: the low mantissa bits of
     * t hold n, no float-to-int conversion (undefined for NaN) is needed */
    const float shifter = 12582912.0f;
    float t = x * 1.44269504088896341f + shifter;
    float n = t - shifter;
    int32_t ni = (int32_t)(dlc_f32_to_bits(t) - dlc_f32_to_bits(shifter));
    float r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * (r * r) + r + 1.0f;
    /* n in [-150, 128]: halves in [-75, 64], each a normal power of two */
    int32_t n1 = ni / 2, n2 = ni - n1;
    float s1 = dlc_bits_to_f32((uint32_t)(n1 + 127) << 23);
    float s2 = dlc_bits_to_f32((uint32_t)(n2 + 127) << 23);
    return p * s1 * s2;
}

/* tanh(x): for |x| < 0.625 Cephes' odd polynomial x + x^3 P(x^2), accurate
 * in relative terms near 0 where 1 - 2/(e^2x + 1) would cancel; beyond it
 * that formula with the exp above (e^2x = inf gives exactly 1). The sign is
 * copied, so -0 stays -0 and NaN stays NaN. */
static inline float tanh_f32(float x) {
    float a = __builtin_fabsf(x);
    float z = a * a;
    float p = -5.70498872745e-3f;
    p = p * z + 2.06390887954e-2f;
    p = p * z - 5.37397155531e-2f;
    p = p * z + 1.33314422036e-1f;
    p = p * z - 3.33332819422e-1f;
    float small = a + a * z * p;
    float large = 1.0f - 2.0f / (exp_f32(a + a) + 1.0f);
    float r = a < 0.625f ? small : large;
    return __builtin_copysignf(r, x);
}

/* 1 / (1 + e^-x) with one exp of -|x|: for x < 0 written e^x / (1 + e^x)
 * so that tiny results keep their relative accuracy instead of 1/inf. */
static inline float sigmoid_f32(float x) {
    float e = exp_f32(-__builtin_fabsf(x));
    return (x >= 0.0f ? 1.0f : e) / (1.0f + e);
}

/* erf for float (Gelu spent a quarter of a BERT run in scalar erff).
 * erf(x) = x * P(x^2) / Q(x^2) for |x| <= 3.92, a rational fit of degree
 * 6/5 in x^2 (weighted least squares on the absolute error): at most 4e-7
 * from the exact value in float arithmetic; beyond 3.92 erf is 1 in float.
 * NaN stays NaN (the comparison is false for it), +-inf gives +-1. */
static inline float erf_f32(float x) {
    float a = __builtin_fabsf(x);
    a = a > 3.92f ? 3.92f : a;
    float t = a * a;
    float p = -1.3280937294357642e-08f;
    p = p * t + 4.7082238869358695e-06f;
    p = p * t + 3.7999529441683352e-04f;
    p = p * t + 3.8298019185345764e-03f;
    p = p * t + 5.4265266370170838e-02f;
    p = p * t + 1.8466191592385817e-01f;
    p = p * t + 1.1283791809040291e+00f;
    float q = 6.3330184966502515e-05f;
    q = q * t + 1.3040104610720119e-03f;
    q = q * t + 1.5424413471189136e-02f;
    q = q * t + 1.1375239571001022e-01f;
    q = q * t + 4.9698589135550691e-01f;
    q = q * t + 1.0f;
    float r = a * p / q;
    r = r > 1.0f ? 1.0f : r;
    return __builtin_copysignf(r, x);
}

static inline double fm_sigmoid_f64(double x) {
    return x >= 0.0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x));
}

/* float: the vectorizable versions above; double: libm's */
#define dlc_exp(V) _Generic((V), float: exp_f32, default: exp)(V)
#define dlc_tanh(V) _Generic((V), float: tanh_f32, default: tanh)(V)
#define dlc_sigmoid(V) _Generic((V), float: sigmoid_f32, default: fm_sigmoid_f64)(V)
#define dlc_erf(V) _Generic((V), float: erf_f32, default: erf)(V)

/* Softmax (log_mode: LogSoftmax) of one contiguous float row x into y (y may
 * be x): the max and the sum kept in SM_LANES independent lanes so that the
 * loops vectorize without reassociation, one exp per element. NaN anywhere
 * in a row makes the whole row NaN. Shared by Softmax and Attention. */
#define SM_LANES 16

static inline void softmax_row_f32(const float *x, float *y, int64_t K, int log_mode) {
    float lane_max[SM_LANES], lane_sum[SM_LANES];
    int lane_nan[SM_LANES];
    for (int l = 0; l < SM_LANES; l++) lane_max[l] = -INFINITY, lane_sum[l] = 0.0f, lane_nan[l] = 0;
    int64_t i = 0;
    for (; i + SM_LANES <= K; i += SM_LANES)
        for (int l = 0; l < SM_LANES; l++) {
            float v = x[i + l];
            lane_max[l] = v > lane_max[l] ? v : lane_max[l];
            lane_nan[l] |= v != v;
        }
    float max = -INFINITY;
    int nan = 0;
    for (int l = 0; l < SM_LANES; l++) max = lane_max[l] > max ? lane_max[l] : max, nan |= lane_nan[l];
    for (int64_t k = i; k < K; k++) max = x[k] > max ? x[k] : max, nan |= x[k] != x[k];
    if (nan) max = NAN;
    if (log_mode) {
        for (i = 0; i + SM_LANES <= K; i += SM_LANES)
            for (int l = 0; l < SM_LANES; l++) lane_sum[l] += exp_f32(x[i + l] - max);
    } else {
        for (i = 0; i + SM_LANES <= K; i += SM_LANES)
            for (int l = 0; l < SM_LANES; l++) {
                float e = exp_f32(x[i + l] - max);
                y[i + l] = e;
                lane_sum[l] += e;
            }
    }
    float sum = 0.0f;
    for (int l = 0; l < SM_LANES; l++) sum += lane_sum[l];
    for (int64_t k = i; k < K; k++) {
        float e = exp_f32(x[k] - max);
        if (!log_mode) y[k] = e;
        sum += e;
    }
    if (log_mode) {
        float log_sum = logf(sum);
        for (int64_t k = 0; k < K; k++) y[k] = x[k] - max - log_sum;
    } else {
        float scale = 1.0f / sum;
        for (int64_t k = 0; k < K; k++) y[k] *= scale;
    }
}


#endif
