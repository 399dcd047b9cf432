/* optimizer: Adagrad (0), Momentum (1), Adam (2) of ai.onnx.preview.training
 * over n tensors (ir/ops/training.c). ints: kind, n, nesterov. floats:
 * Adagrad {decay_factor, epsilon, norm_coefficient}; Momentum {alpha, beta,
 * norm_coefficient}; Adam {alpha, beta, epsilon, norm_coefficient,
 * norm_coefficient_post}. Computed in double. */
#include <math.h>

#include "kernels/kvalue.h"

int32_t dlc_kernel_optimizer(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx) {
    const int64_t *ints = dlc_kp_ints(p);
    const double *f = dlc_kp_floats(p);
    int64_t kind = ints[0], n = ints[1], nesterov = ints[2];
    double R = dlc_kload_f(inputs[0], dlc_kp_in(p, 0)->dtype, 0);
    int64_t T = ((const int64_t *)inputs[1])[0];
    for (int64_t i = 0; i < n; i++) {
        const dlc_ktensor *xt = dlc_kp_in(p, (int)(2 + i));
        int32_t dt = xt->dtype;
        const void *X = inputs[2 + i], *G = inputs[2 + n + i], *S1 = inputs[2 + 2 * n + i];
        const void *S2 = kind == 2 ? inputs[2 + 3 * n + i] : NULL;
        void *x_new = outputs[i], *s1_new = outputs[n + i], *s2_new = kind == 2 ? outputs[2 * n + i] : NULL;
        for (int64_t e = 0; e < xt->numel; e++) {
            double x = dlc_kload_f(X, dt, e), g = dlc_kload_f(G, dt, e), s1 = dlc_kload_f(S1, dt, e);
            if (kind == 0) { /* Adagrad */
                double r = R / (1.0 + (double)T * f[0]);
                double g_reg = f[2] * x + g, h = s1 + g_reg * g_reg;
                if (x_new) dlc_kstore_f(x_new, dt, e, x - r * g_reg / (sqrt(h) + f[1]));
                if (s1_new) dlc_kstore_f(s1_new, dt, e, h);
            } else if (kind == 1) { /* Momentum */
                double alpha = f[0], beta = T > 0 ? f[1] : 1.0, g_reg = f[2] * x + g;
                double v = alpha * s1 + beta * g_reg;
                double step = nesterov ? g_reg + alpha * v : v;
                if (x_new) dlc_kstore_f(x_new, dt, e, x - R * step);
                if (s1_new) dlc_kstore_f(s1_new, dt, e, v);
            } else { /* Adam */
                double alpha = f[0], beta = f[1], s2 = dlc_kload_f(S2, dt, e), g_reg = f[3] * x + g;
                double v = alpha * s1 + (1.0 - alpha) * g_reg, h = beta * s2 + (1.0 - beta) * g_reg * g_reg;
                double r = T > 0 ? R * sqrt(1.0 - pow(beta, (double)T)) / (1.0 - pow(alpha, (double)T)) : R;
                double x1 = x - r * (v / (sqrt(h) + f[2]));
                if (x_new) dlc_kstore_f(x_new, dt, e, (1.0 - f[4]) * x1);
                if (s1_new) dlc_kstore_f(s1_new, dt, e, v);
                if (s2_new) dlc_kstore_f(s2_new, dt, e, h);
            }
        }
    }
    return DLC_KOK;
}

#ifndef DLC_KERNEL_BITCODE
#include "kernels/kernel_registry.h"
const dlc_kernel_entry dlc_kernels_training[] = {
    {"optimizer", dlc_kernel_optimizer, NULL},
    {NULL, NULL, NULL},
};
#endif
