/* tfidf: TfIdfVectorizer over integer pools (ir/ops/tfidf.c lays out ints). */
#include <stdbool.h>

#include "kernels/kvalue.h"
#include "kernels/tensor_support.h"

int32_t dlc_kernel_tfidf(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx) {
    const dlc_ktensor *x = dlc_kp_in(p, 0), *out = dlc_kp_out(p, 0);
    const int64_t *c = dlc_kp_ints(p);
    int64_t mode = c[0], min_gram = c[1], max_gram = c[2], max_skip = c[3], L = c[4];
    const int64_t *counts = c + 5;
    int64_t P = c[5 + L];
    const int64_t *pool = c + 6 + L;
    int64_t K = c[6 + L + P];
    const int64_t *indexes = c + 7 + L + P;
    int64_t W = c[7 + L + P + K];
    const int64_t *weight_bits = c + 8 + L + P + K;
    int64_t rows = x->rank == 2 ? x->dims[0] : 1, C = x->dims[x->rank - 1], width = out->dims[out->rank - 1];
    float *y = outputs[0];
    for (int64_t i = 0; i < out->numel; i++) y[i] = 0.0f;
    if (min_gram < 1) min_gram = 1;
    for (int64_t r = 0; r < rows; r++) {
        float *row_out = y + r * width;
        for (int64_t start = 0; start < C; start++)
            for (int64_t skip = 0; skip <= max_skip; skip++)
                for (int64_t n = min_gram; n <= max_gram && n <= L; n++) {
                    if (n == 1 && skip > 0) continue; /* a unigram has no gaps: count it once */
                    if (start + (n - 1) * (skip + 1) >= C) continue;
                    int64_t first = counts[n - 1], end = n < L ? counts[n] : P;
                    for (int64_t g = first; g + n <= end; g += n) {
                        bool match = true;
                        for (int64_t j = 0; j < n && match; j++)
                            match = pool[g + j] == tk_load_index(inputs[0], x->dtype, r * C + start + j * (skip + 1));
                        if (!match) continue;
                        int64_t k = g - first; /* the n-gram's number among all pool n-grams */
                        int64_t number = 0;
                        for (int64_t m = 1; m < n; m++) number += ((m < L ? counts[m] : P) - counts[m - 1]) / m;
                        number += k / n;
                        if (number < K && indexes[number] < width) row_out[indexes[number]] += 1.0f;
                    }
                }
        for (int64_t k = 0; k < K; k++) {
            int64_t at = indexes[k];
            if (at >= width) continue;
            double weight = 1.0;
            if (k < W) memcpy(&weight, &weight_bits[k], sizeof weight);
            if (mode == 1) row_out[at] = row_out[at] > 0 ? (float)weight : 0.0f;
            else if (mode == 2) row_out[at] = (float)(row_out[at] * weight);
        }
    }
    return DLC_KOK;
}

#ifndef DLC_KERNEL_BITCODE
#include "kernels/kernel_registry.h"
const dlc_kernel_entry dlc_kernels_tfidf[] = {
    {"tfidf", dlc_kernel_tfidf, NULL},
    {NULL, NULL, NULL},
};
#endif
