/* dlc.Attention(Q, K, V [, mask]): scaled dot-product attention as one
 * kernel, made by passes/fuse_attention.c from
 *
 *     S = MatMul(Q, K)            Q viewed [..., Sq, D], K viewed [..., D, Sk]
 *     S = S * scale               (Div/Mul by a constant, on S or on Q)
 *     S = S + mask                (or Where(cond, fill, S) / Where(cond, S, fill))
 *     Y = MatMul(Softmax(S, -1), V)   V viewed [..., Sk, Dv]
 *
 * Attributes:
 *   dlc_perm_q, dlc_perm_k, dlc_perm_v  (ints, optional) operand dim d is
 *       input dim perm[d], as the MatMuls' dlc_perm_a/dlc_perm_b were
 *       (fold-transpose-matmul: the head split is read through strides);
 *   scale (float, default 1);
 *   mask (int): 0 none, 1 additive float32 mask, 2 bool cond selecting
 *       mask_fill (float) where cond == mask_fill_if (int 0/1).
 * Q, K and V views have the same rank >= 2 and equal batch dims; the mask
 * broadcasts to the scores [..., Sq, Sk] (each dim 1 or equal). Y is
 * [..., Sq, Dv], float32. */
#include <string.h>

#include "ir/op_registry.h"
#include "runtime/status.h"

enum { MASK_NONE = 0, MASK_ADD = 1, MASK_WHERE = 2 };

static const char *const perm_attr[3] = {"dlc_perm_q", "dlc_perm_k", "dlc_perm_v"};

/* Operand i (Q, K or V) as the products see it. */
static dlc_status operand_view(const dlc_node *node, int32_t i, dlc_shape *out) {
    const dlc_value *v = node->inputs[i];
    *out = v->shape;
    int32_t n;
    const int64_t *perm = dlc_node_attr_ints(node, perm_attr[i], &n);
    if (perm == NULL || v->shape.rank < 0) return DLC_OK;
    bool seen[DLC_MAX_RANK] = {false};
    bool ok = n == v->shape.rank;
    for (int32_t d = 0; ok && d < n; d++) {
        ok = perm[d] >= 0 && perm[d] < n && !seen[perm[d]];
        if (ok) seen[perm[d]] = true;
    }
    char where[256];
    if (!ok)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: %s is not a permutation of the input's %d dims",
                        dlc_node_describe(node, where, sizeof where), perm_attr[i], v->shape.rank);
    for (int32_t d = 0; d < n; d++) out->dims[d] = v->shape.dims[perm[d]];
    return DLC_OK;
}

static bool same_dim(dlc_dim a, dlc_dim b) { return a.value == b.value && (a.value >= 0 || a.sym == b.sym); }

static dlc_status attention_infer(dlc_graph *g, dlc_node *node) {
    char where[256], sq[160], sk[160], sv[160];
    dlc_node_describe(node, where, sizeof where);
    int64_t mask = dlc_node_attr_int(node, "mask", MASK_NONE);
    bool has_mask = node->num_inputs > 3 && node->inputs[3] != NULL;
    if (mask < MASK_NONE || mask > MASK_WHERE || has_mask != (mask != MASK_NONE))
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: mask=%lld does not match %d inputs", where,
                        (long long)mask, node->num_inputs);
    for (int32_t i = 0; i < 3; i++)
        if (node->inputs[i]->dtype != DLC_FLOAT32)
            return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: input %d is %s, only float32 is supported", where, i,
                            dlc_dtype_name(node->inputs[i]->dtype));
    dlc_shape q, k, v;
    DLC_TRY(operand_view(node, 0, &q));
    DLC_TRY(operand_view(node, 1, &k));
    DLC_TRY(operand_view(node, 2, &v));
    dlc_value *y = node->outputs[0];
    y->dtype = DLC_FLOAT32;
    int32_t r = q.rank;
    bool ok = r >= 2 && k.rank == r && v.rank == r && same_dim(q.dims[r - 1], k.dims[r - 2]) &&
              same_dim(k.dims[r - 1], v.dims[r - 2]);
    for (int32_t d = 0; ok && d < r - 2; d++) ok = same_dim(q.dims[d], k.dims[d]) && same_dim(q.dims[d], v.dims[d]);
    if (!ok)
        return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: Q %s, K %s and V %s do not form [..,Sq,D] [..,D,Sk] [..,Sk,Dv]",
                        where, dlc_shape_format(g, &q, sq, sizeof sq), dlc_shape_format(g, &k, sk, sizeof sk),
                        dlc_shape_format(g, &v, sv, sizeof sv));
    if (has_mask) {
        const dlc_value *m = node->inputs[3];
        dlc_dtype want = mask == MASK_ADD ? DLC_FLOAT32 : DLC_BOOL;
        dlc_shape scores = q;
        scores.dims[r - 1] = k.dims[r - 1];
        bool fits = m->dtype == want && m->shape.rank >= 0 && m->shape.rank <= r;
        for (int32_t d = 0; fits && d < m->shape.rank; d++) {
            dlc_dim md = m->shape.dims[m->shape.rank - 1 - d];
            fits = md.value == 1 || same_dim(md, scores.dims[r - 1 - d]);
        }
        if (!fits)
            return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: mask %s %s does not broadcast to the scores %s", where,
                            dlc_dtype_name(m->dtype), dlc_shape_format(g, &m->shape, sk, sizeof sk),
                            dlc_shape_format(g, &scores, sq, sizeof sq));
    }
    y->shape = q;
    y->shape.dims[r - 1] = v.dims[r - 1];
    return DLC_OK;
}

/* ints: mask kind, mask_fill_if, then for Q, K, V: rank n then n perm
 * entries (n = 0: as stored); floats: scale, mask_fill. */
static dlc_status attention_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    (void)g;
    dlc_kcall_init(call, "attention");
    DLC_TRY(dlc_kcall_push_int(call, dlc_node_attr_int(node, "mask", MASK_NONE)));
    DLC_TRY(dlc_kcall_push_int(call, dlc_node_attr_int(node, "mask_fill_if", 1) != 0));
    for (int32_t i = 0; i < 3; i++) {
        int32_t n = 0;
        const int64_t *perm = dlc_node_attr_ints(node, perm_attr[i], &n);
        DLC_TRY(dlc_kcall_push_int(call, perm != NULL ? n : 0));
        if (perm != NULL) DLC_TRY(dlc_kcall_push_ints(call, perm, n));
    }
    DLC_TRY(dlc_kcall_push_float(call, dlc_node_attr_float(node, "scale", 1.0)));
    return dlc_kcall_push_float(call, dlc_node_attr_float(node, "mask_fill", 0.0));
}

/* Both products, plus scale, mask and softmax (~5 per score). */
static int64_t attention_flops(const dlc_node *node) {
    dlc_shape q, k;
    int64_t yn = dlc_value_numel(node->outputs[0]);
    if (yn < 0 || operand_view(node, 0, &q) != DLC_OK || operand_view(node, 1, &k) != DLC_OK) return -1;
    int32_t r = q.rank;
    int64_t sq = q.dims[r - 1 - 1].value, d = q.dims[r - 1].value, sk = k.dims[r - 1].value;
    int64_t dv = node->outputs[0]->shape.dims[r - 1].value;
    if (sq <= 0 || dv <= 0 || d < 0 || sk < 0) return yn == 0 ? 0 : -1;
    int64_t scores = yn / dv * sk;
    return scores * (2 * d + 2 * dv + 5);
}

const dlc_op_schema dlc_ops_attention[] = {
    {"Attention", "dlc", 1, 3, 4, 1, 1, attention_infer, attention_lower, attention_flops},
    {0},
};
