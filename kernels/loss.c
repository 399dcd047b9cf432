/* nll_loss: NegativeLogLikelihoodLoss, and SoftmaxCrossEntropyLoss with
 * apply_log_softmax set (ir/ops/loss.c documents the semantics).
 * Inputs: scores [N,C,D...], targets [N,D...], optional weights [C].
 * Outputs: loss (scalar or [N,D...]), optional log_prob [N,C,D...] (SCE).
 * ints: reduction (0 none, 1 sum, 2 mean), has_ignore, ignore_index, apply_log_softmax.
 * Accumulates in double; float16/bfloat16/float32/float64 through kvalue.h. */
#include <math.h>
#include <stdbool.h>

#include "kernels/kvalue.h"

static int64_t target_at(const void *targets, int32_t dtype, int64_t i) {
    return dtype == DLC_KT_INT32 ? ((const int32_t *)targets)[i] : ((const int64_t *)targets)[i];
}

/* log-softmax over the class axis for one (n, d) column, into log_prob or
 * (when log_prob is NULL) just the value at class t. */
static double log_softmax_column(const void *x, int32_t dtype, int64_t base, int64_t C, int64_t D, void *log_prob,
                                 int64_t t) {
    double max = -INFINITY;
    for (int64_t c = 0; c < C; c++) {
        double v = dlc_kload_f(x, dtype, base + c * D);
        if (v > max || isnan(v)) max = v;
    }
    double sum = 0.0;
    for (int64_t c = 0; c < C; c++) sum += exp(dlc_kload_f(x, dtype, base + c * D) - max);
    double log_sum = log(sum);
    if (log_prob != NULL)
        for (int64_t c = 0; c < C; c++)
            dlc_kstore_f(log_prob, dtype, base + c * D, dlc_kload_f(x, dtype, base + c * D) - max - log_sum);
    return t >= 0 && t < C ? dlc_kload_f(x, dtype, base + t * D) - max - log_sum : 0.0;
}

int32_t dlc_kernel_nll_loss(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx) {
    const dlc_ktensor *xs = dlc_kp_in(p, 0), *ts = dlc_kp_in(p, 1);
    const int64_t *ints = dlc_kp_ints(p);
    int64_t reduction = ints[0], has_ignore = ints[1], ignore_index = ints[2], log_softmax = ints[3];
    const void *x = inputs[0], *targets = inputs[1];
    const void *weights = p->num_inputs > 2 && dlc_kp_in(p, 2)->dtype != 0 ? inputs[2] : NULL;
    void *log_prob = p->num_outputs > 1 && dlc_kp_out(p, 1)->dtype != 0 ? outputs[1] : NULL;
    int32_t dtype = xs->dtype;
    int64_t N = xs->dims[0], C = xs->dims[1], D = 1;
    for (int32_t d = 2; d < xs->rank; d++) D *= xs->dims[d];

    double total = 0.0, weight_total = 0.0;
    for (int64_t n = 0; n < N; n++) {
        for (int64_t d = 0; d < D; d++) {
            int64_t i = n * D + d, base = n * C * D + d;
            int64_t t = target_at(targets, ts->dtype, i);
            bool ignored = has_ignore && t == ignore_index;
            if (!ignored && (t < 0 || t >= C)) return DLC_KERR_INDEX_OUT_OF_RANGE;
            double logp = log_softmax ? log_softmax_column(x, dtype, base, C, D, log_prob, ignored ? -1 : t)
                          : ignored   ? 0.0
                                      : dlc_kload_f(x, dtype, base + t * D);
            double w = ignored ? 0.0 : weights != NULL ? dlc_kload_f(weights, dtype, t) : 1.0;
            double loss = ignored ? 0.0 : -logp * w;
            if (reduction == 0) dlc_kstore_f(outputs[0], dtype, i, loss);
            total += loss;
            weight_total += w;
        }
    }
    if (reduction == 1) dlc_kstore_f(outputs[0], dtype, 0, total);
    if (reduction == 2) dlc_kstore_f(outputs[0], dtype, 0, total / weight_total);
    return DLC_KOK;
}

#ifndef DLC_KERNEL_BITCODE
#include "kernels/kernel_registry.h"
const dlc_kernel_entry dlc_kernels_loss[] = {
    {"nll_loss", dlc_kernel_nll_loss, NULL},
    {NULL, NULL, NULL},
};
#endif
