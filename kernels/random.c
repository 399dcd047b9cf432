/* Random ops (ir/ops/random.c) and Dropout in training mode. Every kernel
 * seeds its own generator (kernels/random_gen.h) from ints[0], the seed as
 * an unsigned 32-bit integer, and draws element by element in row-major
 * order, so a seed gives the values numpy.random.RandomState(seed) gives.
 *
 *   random_uniform  ints {seed}               floats {low, high}   out = low + (high - low) * U
 *   random_normal   ints {seed}               floats {mean, scale} out = mean + scale * N
 *   bernoulli       ints {seed}                                    out = U < p   (input p)
 *   multinomial     ints {seed, sample_size}                       out[b, s] = class drawn from
 *                                                                  softmax(input[b, :])
 *   dropout_random  ints {seed}               floats {ratio}       mask = U >= ratio,
 *                                                                  y = mask * x * 1/(1 - ratio)
 *
 * The *Like ops use the same kernels: their input only gives shape and dtype. */
#include "kernels/kvalue.h"
#include "kernels/random_gen.h"

static uint32_t seed_of(const dlc_kparams *p) { return (uint32_t)dlc_kp_ints(p)[0]; }

/* Stores a value drawn in double into any numeric dtype (integers truncate,
 * the way numpy's astype does). */
static void store_any(void *data, int32_t dtype, int64_t i, double v) {
    if (dlc_kdtype_is_float(dtype)) dlc_kstore_f(data, dtype, i, v);
    else if (dtype == DLC_KT_BOOL) ((uint8_t *)data)[i] = v != 0.0;
    else dlc_kstore_u(data, dtype, i, (uint64_t)(int64_t)v);
}

int32_t dlc_kernel_random_uniform(const dlc_kparams *p, void *const *inputs, void *const *outputs,
                                  const dlc_kctx *ctx) {
    const dlc_ktensor *out = dlc_kp_out(p, 0);
    double low = dlc_kp_floats(p)[0], high = dlc_kp_floats(p)[1];
    dlc_mt19937 mt;
    dlc_mt_seed(&mt, seed_of(p));
    for (int64_t i = 0; i < out->numel; i++) store_any(outputs[0], out->dtype, i, low + (high - low) * dlc_mt_uniform(&mt));
    return DLC_KOK;
}

int32_t dlc_kernel_random_normal(const dlc_kparams *p, void *const *inputs, void *const *outputs,
                                 const dlc_kctx *ctx) {
    const dlc_ktensor *out = dlc_kp_out(p, 0);
    double mean = dlc_kp_floats(p)[0], scale = dlc_kp_floats(p)[1];
    dlc_mt19937 mt;
    dlc_mt_seed(&mt, seed_of(p));
    for (int64_t i = 0; i < out->numel; i++) store_any(outputs[0], out->dtype, i, mean + scale * dlc_mt_gauss(&mt));
    return DLC_KOK;
}

int32_t dlc_kernel_bernoulli(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx) {
    const dlc_ktensor *in = dlc_kp_in(p, 0), *out = dlc_kp_out(p, 0);
    dlc_mt19937 mt;
    dlc_mt_seed(&mt, seed_of(p));
    for (int64_t i = 0; i < out->numel; i++) {
        /* 1 with probability p, as the spec says (U < p). ONNX 1.12's
         * function body, Greater(RandomUniformLike(p), p), draws the
         * complement: the expanded graph is not what we follow. */
        double u = dlc_mt_uniform(&mt);
        store_any(outputs[0], out->dtype, i, u < dlc_kload_f(inputs[0], in->dtype, i) ? 1.0 : 0.0);
    }
    return DLC_KOK;
}

int32_t dlc_kernel_multinomial(const dlc_kparams *p, void *const *inputs, void *const *outputs,
                               const dlc_kctx *ctx) {
    const dlc_ktensor *in = dlc_kp_in(p, 0), *out = dlc_kp_out(p, 0);
    int64_t batch = in->dims[0], classes = in->dims[1], samples = dlc_kp_ints(p)[1];
    dlc_mt19937 mt;
    dlc_mt_seed(&mt, seed_of(p));
    for (int64_t b = 0; b < batch; b++) {
        /* input rows are unnormalized log-probabilities: weights exp(x - max) */
        int64_t row = b * classes;
        double top = -INFINITY, total = 0.0;
        for (int64_t c = 0; c < classes; c++) {
            double x = dlc_kload_f(inputs[0], in->dtype, row + c);
            if (x > top) top = x;
        }
        for (int64_t c = 0; c < classes; c++) total += exp(dlc_kload_f(inputs[0], in->dtype, row + c) - top);
        if (!(total > 0.0) || !isfinite(total)) return DLC_KERR_BAD_VALUE;
        for (int64_t s = 0; s < samples; s++) {
            double target = dlc_mt_uniform(&mt) * total, acc = 0.0;
            int64_t chosen = classes - 1; /* rounding can leave target just above the last sum */
            for (int64_t c = 0; c < classes; c++) {
                acc += exp(dlc_kload_f(inputs[0], in->dtype, row + c) - top);
                if (target < acc) {
                    chosen = c;
                    break;
                }
            }
            dlc_kstore_u(outputs[0], out->dtype, b * samples + s, (uint64_t)chosen);
        }
    }
    return DLC_KOK;
}

/* Rounds v to dtype's precision (float dtypes; others unchanged). */
static double round_to(int32_t dtype, double v) {
    switch (dtype) {
    case DLC_KT_FLOAT32: return (float)v;
    case DLC_KT_FLOAT16: return dlc_f16_to_f32(dlc_f32_to_f16((float)v));
    case DLC_KT_BFLOAT16: return dlc_bf16_to_f32(dlc_f32_to_bf16((float)v));
    default: return v;
    }
}

/* The reference's scale = 1 / (1 - ratio) is computed in the ratio's dtype
 * (a python float when the input is absent), then mask * x * scale rounds
 * it to x's dtype; following both roundings keeps results bit-identical. */
static double dropout_scale(int32_t x_dtype, int32_t ratio_dtype, double ratio) {
    if (ratio_dtype == 0) ratio_dtype = DLC_KT_FLOAT64;
    double kept = round_to(ratio_dtype, 1.0 - ratio);
    return round_to(x_dtype, round_to(ratio_dtype, 1.0 / kept));
}

int32_t dlc_kernel_dropout_random(const dlc_kparams *p, void *const *inputs, void *const *outputs,
                                  const dlc_kctx *ctx) {
    const dlc_ktensor *x = dlc_kp_in(p, 0);
    double ratio = dlc_kp_floats(p)[0];
    if (!(ratio >= 0.0 && ratio < 1.0)) return DLC_KERR_BAD_VALUE;
    int32_t ratio_dtype = p->num_inputs > 1 ? dlc_kp_in(p, 1)->dtype : 0;
    double scale = dropout_scale(x->dtype, ratio_dtype, ratio);
    uint8_t *mask = p->num_outputs > 1 ? outputs[1] : NULL;
    dlc_mt19937 mt;
    dlc_mt_seed(&mt, seed_of(p));
    for (int64_t i = 0; i < x->numel; i++) {
        int keep = dlc_mt_uniform(&mt) >= ratio;
        /* (mask * x) * scale as the reference: a dropped -x is -0, a dropped NaN stays NaN */
        dlc_kstore_f(outputs[0], x->dtype, i, ((double)keep * dlc_kload_f(inputs[0], x->dtype, i)) * scale);
        if (mask != NULL) mask[i] = (uint8_t)keep;
    }
    return DLC_KOK;
}

#ifndef DLC_KERNEL_BITCODE
#include "kernels/kernel_registry.h"
const dlc_kernel_entry dlc_kernels_random[] = {
    {"random_uniform", dlc_kernel_random_uniform, NULL},
    {"random_normal", dlc_kernel_random_normal, NULL},
    {"bernoulli", dlc_kernel_bernoulli, NULL},
    {"multinomial", dlc_kernel_multinomial, NULL},
    {"dropout_random", dlc_kernel_dropout_random, NULL},
    {NULL, NULL, NULL},
};
#endif
