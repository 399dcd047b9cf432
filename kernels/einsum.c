/* einsum: sum over every assignment of the labels of the product of the
 * inputs' elements (ir/ops/einsum.c lays out the ints). Dims of size 1
 * broadcast. Accumulates in double (or int64 for integers). */
#include <stdbool.h>

#include "kernels/kvalue.h"

enum { EINSUM_MAX_LABELS = 26 + 26 + DLC_KMAX_RANK, EINSUM_MAX_OPERANDS = 9 };

int32_t dlc_kernel_einsum(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx) {
    const int64_t *ints = dlc_kp_ints(p);
    int64_t L = ints[0];
    const int64_t *label_dim = ints + 1;
    const int64_t *cursor = ints + 1 + L;
    int32_t n = p->num_inputs;
    int64_t rank[EINSUM_MAX_OPERANDS];
    const int64_t *labels[EINSUM_MAX_OPERANDS];
    int64_t stride[EINSUM_MAX_OPERANDS][EINSUM_MAX_LABELS];
    for (int32_t op = 0; op <= n; op++) {
        rank[op] = *cursor++;
        labels[op] = cursor;
        cursor += rank[op];
        const dlc_ktensor *t = op < n ? dlc_kp_in(p, op) : dlc_kp_out(p, 0);
        for (int64_t l = 0; l < L; l++) stride[op][l] = 0;
        int64_t s = 1;
        for (int64_t a = rank[op] - 1; a >= 0; a--) {
            if (t->dims[a] != 1) stride[op][labels[op][a]] += s; /* size-1 dims broadcast */
            s *= t->dims[a];
        }
    }
    const dlc_ktensor *out = dlc_kp_out(p, 0);
    bool is_float = dlc_kdtype_is_float(out->dtype);
    /* zero the output, then accumulate */
    for (int64_t i = 0; i < out->numel; i++) {
        if (is_float) dlc_kstore_f(outputs[0], out->dtype, i, 0.0);
        else dlc_kstore_u(outputs[0], out->dtype, i, 0);
    }
    int64_t total = 1;
    for (int64_t l = 0; l < L; l++) total *= label_dim[l];
    int64_t coord[EINSUM_MAX_LABELS] = {0};
    for (int64_t it = 0; it < total; it++) {
        double product = 1.0;
        uint64_t iproduct = 1;
        for (int32_t op = 0; op < n; op++) {
            int64_t at = 0;
            for (int64_t l = 0; l < L; l++) at += coord[l] * stride[op][l];
            int32_t dt = dlc_kp_in(p, op)->dtype;
            if (is_float) product *= dlc_kload_f(inputs[op], dt, at);
            else iproduct *= dlc_kload_u(inputs[op], dt, at);
        }
        /* a label repeated within one input (a diagonal) is one coordinate
         * used twice, which the shared coord[] already expresses */
        int64_t o = 0;
        for (int64_t l = 0; l < L; l++) o += coord[l] * stride[n][l];
        if (is_float) dlc_kstore_f(outputs[0], out->dtype, o, dlc_kload_f(outputs[0], out->dtype, o) + product);
        else dlc_kstore_u(outputs[0], out->dtype, o, dlc_kload_u(outputs[0], out->dtype, o) + iproduct);
        for (int64_t l = L - 1; l >= 0; l--) {
            if (++coord[l] < label_dim[l]) break;
            coord[l] = 0;
        }
    }
    return DLC_KOK;
}

#ifndef DLC_KERNEL_BITCODE
#include "kernels/kernel_registry.h"
const dlc_kernel_entry dlc_kernels_einsum[] = {
    {"einsum", dlc_kernel_einsum, NULL},
    {NULL, NULL, NULL},
};
#endif
