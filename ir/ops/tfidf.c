/* TfIdfVectorizer (opset 9), integer pools: counts the n-grams of the input
 * rows (skip-grams up to max_skip_count) that appear in pool_int64s and
 * writes TF, IDF or TF-IDF values at ngram_indexes. String pools are not
 * supported (dlc has no string tensors). */
#include <string.h>

#include "ir/op_registry.h"
#include "runtime/status.h"

/* The kernel walks the pool by ngram_counts and writes at ngram_indexes, so
 * both are checked here: counts start at 0, grow, stay inside the pool and
 * cut it into whole n-grams; one non-negative index per pool n-grams. */
static dlc_status tfidf_check_pool(const dlc_node *node, const char *where, int32_t n_pool, int32_t n_idx) {
    const char *mode = dlc_node_attr_string(node, "mode", "TF");
    if (strcmp(mode, "TF") != 0 && strcmp(mode, "IDF") != 0 && strcmp(mode, "TFIDF") != 0)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: mode '%s' is not TF, IDF or TFIDF", where, mode);
    int64_t min_gram = dlc_node_attr_int(node, "min_gram_length", 1);
    int64_t max_gram = dlc_node_attr_int(node, "max_gram_length", 1);
    if (min_gram < 1 || max_gram < min_gram || dlc_node_attr_int(node, "max_skip_count", 0) < 0)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: need 1 <= min_gram_length (%lld) <= max_gram_length (%lld) "
                        "and max_skip_count >= 0", where, (long long)min_gram, (long long)max_gram);
    int32_t L;
    const int64_t *counts = dlc_node_attr_ints(node, "ngram_counts", &L);
    if (L < 1 || counts[0] != 0)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: ngram_counts must start with 0", where);
    int64_t grams = 0;
    for (int32_t n = 1; n <= L; n++) {
        int64_t begin = counts[n - 1], end = n < L ? counts[n] : n_pool;
        if (end < begin || end > n_pool || (end - begin) % n != 0)
            return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: ngram_counts[%d] = %lld does not cut the pool of %d "
                            "into whole %d-grams", where, (int)n - 1, (long long)begin, (int)n_pool, (int)n);
        grams += (end - begin) / n;
    }
    if (grams != n_idx)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: the pool holds %lld n-grams but ngram_indexes has %d",
                        where, (long long)grams, (int)n_idx);
    int32_t n_indexes;
    const int64_t *indexes = dlc_node_attr_ints(node, "ngram_indexes", &n_indexes);
    for (int32_t i = 0; i < n_indexes; i++)
        if (indexes[i] < 0)
            return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: ngram_indexes[%d] = %lld is negative", where, (int)i,
                            (long long)indexes[i]);
    int32_t n_weights;
    if (dlc_node_attr_floats(node, "weights", &n_weights) != NULL && n_weights != n_idx)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: %d weights for %d n-grams", where, (int)n_weights,
                        (int)n_idx);
    return DLC_OK;
}

static dlc_status tfidf_infer(dlc_graph *g, dlc_node *node) {
    char where[256];
    dlc_node_describe(node, where, sizeof where);
    const dlc_value *x = node->inputs[0];
    if (x->dtype != DLC_INT32 && x->dtype != DLC_INT64)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: only int32/int64 input is supported, got %s", where,
                        dlc_dtype_name(x->dtype));
    if (x->shape.rank != 1 && x->shape.rank != 2)
        return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: input must be [C] or [N,C]", where);
    int32_t n_idx, n_pool;
    const int64_t *indexes = dlc_node_attr_ints(node, "ngram_indexes", &n_idx);
    dlc_node_attr_ints(node, "pool_int64s", &n_pool);
    if (indexes == NULL || n_pool == 0)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: needs ngram_indexes and an int64 pool", where);
    DLC_TRY(tfidf_check_pool(node, where, n_pool, n_idx));
    int64_t width = 0;
    for (int32_t i = 0; i < n_idx; i++) width = indexes[i] + 1 > width ? indexes[i] + 1 : width;
    dlc_shape out = x->shape;
    out.dims[x->shape.rank - 1] = (dlc_dim){width, 0};
    node->outputs[0]->dtype = DLC_FLOAT32;
    node->outputs[0]->shape = out;
    return DLC_OK;
}

/* ints: mode, min_gram, max_gram, max_skip, L, ngram_counts[L], P, pool[P],
 * ngram_indexes[K] (K = number of pool n-grams), then K weight bit patterns
 * (double) or 0 when there are no weights. */
static dlc_status tfidf_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    const char *mode = dlc_node_attr_string(node, "mode", "TF");
    int32_t n_counts, n_pool, n_idx, n_weights;
    const int64_t *counts = dlc_node_attr_ints(node, "ngram_counts", &n_counts);
    const int64_t *pool = dlc_node_attr_ints(node, "pool_int64s", &n_pool);
    const int64_t *indexes = dlc_node_attr_ints(node, "ngram_indexes", &n_idx);
    const double *weights = dlc_node_attr_floats(node, "weights", &n_weights);
    dlc_kcall_init(call, "tfidf");
    DLC_TRY(dlc_kcall_push_int(call, strcmp(mode, "TF") == 0 ? 0 : strcmp(mode, "IDF") == 0 ? 1 : 2));
    DLC_TRY(dlc_kcall_push_int(call, dlc_node_attr_int(node, "min_gram_length", 1)));
    DLC_TRY(dlc_kcall_push_int(call, dlc_node_attr_int(node, "max_gram_length", 1)));
    DLC_TRY(dlc_kcall_push_int(call, dlc_node_attr_int(node, "max_skip_count", 0)));
    DLC_TRY(dlc_kcall_push_int(call, n_counts));
    DLC_TRY(dlc_kcall_push_ints(call, counts, n_counts));
    DLC_TRY(dlc_kcall_push_int(call, n_pool));
    DLC_TRY(dlc_kcall_push_ints(call, pool, n_pool));
    DLC_TRY(dlc_kcall_push_int(call, n_idx));
    DLC_TRY(dlc_kcall_push_ints(call, indexes, n_idx));
    DLC_TRY(dlc_kcall_push_int(call, weights != NULL ? n_weights : 0));
    for (int32_t i = 0; weights != NULL && i < n_weights; i++) {
        int64_t bits;
        memcpy(&bits, &weights[i], sizeof bits);
        DLC_TRY(dlc_kcall_push_int(call, bits));
    }
    return DLC_OK;
}

const dlc_op_schema dlc_ops_tfidf[] = {
    {"TfIdfVectorizer", "", 9, 1, 1, 1, 1, tfidf_infer, tfidf_lower, NULL},
    {0},
};
