/* eye (EyeLike) and shrink (Shrink); see ir/ops/misc.c. Any numeric dtype
 * through kvalue.h, computed in double (exact for integers below 2^53). */
#include <math.h>
#include <string.h>

#include "kernels/kvalue.h"

static void store_number(void *data, int32_t dtype, int64_t i, double v) {
    if (dlc_kdtype_is_float(dtype)) dlc_kstore_f(data, dtype, i, v);
    else dlc_kstore_u(data, dtype, i, (uint64_t)(int64_t)v);
}

/* ints: k */
int32_t dlc_kernel_eye(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx) {
    const dlc_ktensor *out = dlc_kp_out(p, 0);
    int64_t k = dlc_kp_ints(p)[0], rows = out->dims[0], cols = out->dims[1];
    memset(outputs[0], 0, (size_t)(out->numel * dlc_kdtype_size(out->dtype)));
    for (int64_t r = 0; r < rows; r++)
        if (r + k >= 0 && r + k < cols) store_number(outputs[0], out->dtype, r * cols + r + k, 1.0);
    return DLC_KOK;
}

/* floats: lambd, bias */
int32_t dlc_kernel_shrink(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx) {
    const dlc_ktensor *x = dlc_kp_in(p, 0);
    double lambd = dlc_kp_floats(p)[0], bias = dlc_kp_floats(p)[1];
    for (int64_t i = 0; i < x->numel; i++) {
        double v = dlc_kload_f(inputs[0], x->dtype, i);
        double y = v < -lambd ? v + bias : v > lambd ? v - bias : 0.0;
        store_number(outputs[0], x->dtype, i, y);
    }
    return DLC_KOK;
}

/* Index of element i's group: its coordinates with the reduced axes dropped. */
static int64_t group_of(const dlc_ktensor *x, int64_t mask, int64_t i) {
    int64_t group = 0, scale = 1;
    for (int32_t d = x->rank - 1; d >= 0; d--) {
        int64_t coord = i % x->dims[d];
        i /= x->dims[d];
        if ((mask >> d) & 1) continue;
        group += coord * scale;
        scale *= x->dims[d];
    }
    return group;
}

static int64_t mvn_groups(const dlc_ktensor *x, int64_t mask) {
    int64_t groups = 1;
    for (int32_t d = 0; d < x->rank; d++)
        if (!((mask >> d) & 1)) groups *= x->dims[d];
    return groups;
}

int64_t dlc_kernel_mvn_workspace(const dlc_kparams *p) {
    return mvn_groups(dlc_kp_in(p, 0), dlc_kp_ints(p)[0]) * 2 * (int64_t)sizeof(double);
}

/* ints: mask of reduced axes */
int32_t dlc_kernel_mvn(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx) {
    const dlc_ktensor *x = dlc_kp_in(p, 0);
    int64_t mask = dlc_kp_ints(p)[0], groups = mvn_groups(x, mask);
    int64_t per_group = groups > 0 ? x->numel / groups : 0;
    double *sum = ctx->workspace, *sum_sq = sum + groups;
    for (int64_t gi = 0; gi < groups; gi++) sum[gi] = sum_sq[gi] = 0.0;
    for (int64_t i = 0; i < x->numel; i++) {
        double v = dlc_kload_f(inputs[0], x->dtype, i);
        int64_t gi = group_of(x, mask, i);
        sum[gi] += v;
        sum_sq[gi] += v * v;
    }
    for (int64_t i = 0; i < x->numel; i++) {
        int64_t gi = group_of(x, mask, i);
        double mean = sum[gi] / (double)per_group, var = sum_sq[gi] / (double)per_group - mean * mean;
        double v = dlc_kload_f(inputs[0], x->dtype, i);
        dlc_kstore_f(outputs[0], x->dtype, i, (v - mean) / (sqrt(var > 0 ? var : 0) + 1e-9));
    }
    return DLC_KOK;
}

int64_t dlc_kernel_det_workspace(const dlc_kparams *p) {
    const dlc_ktensor *x = dlc_kp_in(p, 0);
    int64_t m = x->dims[x->rank - 1];
    return m * m * (int64_t)sizeof(double);
}

/* det: LU with partial pivoting in double, one matrix at a time. */
int32_t dlc_kernel_det(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx) {
    const dlc_ktensor *x = dlc_kp_in(p, 0);
    int64_t m = x->dims[x->rank - 1], matrices = m > 0 ? x->numel / (m * m) : dlc_kp_out(p, 0)->numel;
    double *a = ctx->workspace;
    for (int64_t k = 0; k < matrices; k++) {
        for (int64_t i = 0; i < m * m; i++) a[i] = dlc_kload_f(inputs[0], x->dtype, k * m * m + i);
        double det = 1.0;
        for (int64_t col = 0; col < m && det != 0.0; col++) {
            int64_t pivot = col;
            for (int64_t r = col + 1; r < m; r++)
                if (fabs(a[r * m + col]) > fabs(a[pivot * m + col])) pivot = r;
            if (a[pivot * m + col] == 0.0) {
                det = 0.0;
                break;
            }
            if (pivot != col) {
                for (int64_t j = 0; j < m; j++) {
                    double t = a[col * m + j];
                    a[col * m + j] = a[pivot * m + j];
                    a[pivot * m + j] = t;
                }
                det = -det;
            }
            det *= a[col * m + col];
            for (int64_t r = col + 1; r < m; r++) {
                double f = a[r * m + col] / a[col * m + col];
                for (int64_t j = col; j < m; j++) a[r * m + j] -= f * a[col * m + j];
            }
        }
        dlc_kstore_f(outputs[0], x->dtype, k, det);
    }
    return DLC_KOK;
}

/* max_unpool: output = 0 except at I[i], a flat index into the default
 * output dims (ints), re-addressed into the actual output by coordinates. */
int32_t dlc_kernel_max_unpool(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx) {
    const dlc_ktensor *x = dlc_kp_in(p, 0), *out = dlc_kp_out(p, 0);
    const int64_t *def = dlc_kp_ints(p), *idx = inputs[1];
    int64_t es = dlc_kdtype_size(x->dtype), def_numel = 1;
    for (int32_t d = 0; d < out->rank; d++) def_numel *= def[d];
    memset(outputs[0], 0, (size_t)(out->numel * es));
    for (int64_t i = 0; i < x->numel; i++) {
        if (idx[i] < 0 || idx[i] >= def_numel) return DLC_KERR_INDEX_OUT_OF_RANGE;
        int64_t rest = idx[i], at = 0, scale = 1;
        for (int32_t d = out->rank - 1; d >= 0; d--) {
            int64_t coord = rest % def[d];
            rest /= def[d];
            if (coord >= out->dims[d]) return DLC_KERR_INDEX_OUT_OF_RANGE;
            at += coord * scale;
            scale *= out->dims[d];
        }
        memcpy((char *)outputs[0] + at * es, (const char *)inputs[0] + i * es, (size_t)es);
    }
    return DLC_KOK;
}

#ifndef DLC_KERNEL_BITCODE
#include "kernels/kernel_registry.h"
const dlc_kernel_entry dlc_kernels_misc[] = {
    {"eye", dlc_kernel_eye, NULL},
    {"shrink", dlc_kernel_shrink, NULL},
    {"mvn", dlc_kernel_mvn, dlc_kernel_mvn_workspace},
    {"det", dlc_kernel_det, dlc_kernel_det_workspace},
    {"max_unpool", dlc_kernel_max_unpool, NULL},
    {NULL, NULL, NULL},
};
#endif
