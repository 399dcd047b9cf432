/* Gemm and MatMul: schema, shape rules, lowering (kernels/linalg.c).
 *   gemm:   ints [transA, transB], floats [alpha, beta]
 *   matmul: no parameters (numpy semantics follow from the shapes)
 * With a pre-packed B (DLC_ATTR_PACKED_B) both append ints [K, N, nr]. */
#include <stdbool.h>

#include "ir/op_registry.h"
#include "ir/ops/epilogue.h"
#include "runtime/status.h"

static bool gemm_dtype_ok(dlc_dtype t) {
    switch (t) {
    case DLC_FLOAT32: case DLC_FLOAT64: case DLC_FLOAT16: case DLC_BFLOAT16:
    case DLC_INT32: case DLC_INT64: case DLC_UINT32: case DLC_UINT64: return true;
    default: return false;
    }
}

static dlc_status check_dtypes(const dlc_node *node) {
    char where[256];
    dlc_dtype t = node->inputs[0]->dtype;
    if (!gemm_dtype_ok(t))
        return dlc_fail(DLC_ERR_DTYPE_MISMATCH, "node %s: %s of %s is not supported",
                        dlc_node_describe(node, where, sizeof where), node->op_type, dlc_dtype_name(t));
    for (int32_t i = 1; i < node->num_inputs; i++)
        if (node->inputs[i] != NULL && node->inputs[i]->dtype != t)
            return dlc_fail(DLC_ERR_DTYPE_MISMATCH, "node %s: input %d ('%s') is %s but input 0 is %s",
                            dlc_node_describe(node, where, sizeof where), i, node->inputs[i]->name,
                            dlc_dtype_name(node->inputs[i]->dtype), dlc_dtype_name(t));
    return DLC_OK;
}

/* Two dims that must agree (either may be symbolic). */
static bool dims_conflict(dlc_dim a, dlc_dim b) {
    return dlc_dim_is_static(a) && dlc_dim_is_static(b) && a.value != b.value;
}

/* B's shape as the op sees it when the prepack-weights pass packed it:
 * [K, N] from the attribute; false when B is stored plain. The packed
 * constant's size is checked against it, so a wrong rewrite fails here. */
static dlc_status packed_b_shape(const dlc_node *node, dlc_shape *out, bool *out_packed) {
    int32_t n;
    const int64_t *kn = dlc_node_attr_ints(node, DLC_ATTR_PACKED_B, &n);
    *out_packed = kn != NULL;
    if (kn == NULL) return DLC_OK;
    const dlc_value *b = node->inputs[1];
    bool ok = n == 3 && kn[0] > 0 && kn[1] > 0 && (kn[2] == 16 || kn[2] == 32) && b->dtype == DLC_FLOAT32 &&
              b->shape.rank == 1 && b->shape.dims[0].value == kn[0] * ((kn[1] + kn[2] - 1) / kn[2] * kn[2]);
    if (!ok) {
        char where[256];
        return dlc_fail(DLC_ERR_INTERNAL, "node %s: input '%s' does not match its %s attribute",
                        dlc_node_describe(node, where, sizeof where), b->name, DLC_ATTR_PACKED_B);
    }
    *out = dlc_shape_make(2, kn);
    return DLC_OK;
}

static dlc_status push_packed_b(const dlc_node *node, dlc_kcall *call) {
    int32_t n;
    const int64_t *kn = dlc_node_attr_ints(node, DLC_ATTR_PACKED_B, &n);
    return kn != NULL && n == 3 ? dlc_kcall_push_ints(call, kn, 3) : DLC_OK;
}

/* ---- Gemm ---------------------------------------------------------------------- */

static dlc_status gemm_infer(dlc_graph *g, dlc_node *node) {
    DLC_TRY(check_dtypes(node));
    const dlc_value *a = node->inputs[0], *b = node->inputs[1];
    const dlc_value *c = node->num_inputs > 2 ? node->inputs[2] : NULL;
    dlc_value *y = node->outputs[0];
    char where[256], sa[160], sb[160], sc[160];
    dlc_node_describe(node, where, sizeof where);
    bool packed;
    dlc_value b_view = {.dtype = DLC_FLOAT32};
    DLC_TRY(packed_b_shape(node, &b_view.shape, &packed));
    if (packed) b = &b_view;
    y->dtype = a->dtype;
    if (a->shape.rank < 0 || b->shape.rank < 0) {
        y->shape.rank = -1;
        return DLC_OK;
    }
    if (a->shape.rank != 2 || b->shape.rank != 2)
        return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: A %s and B %s must be matrices", where,
                        dlc_shape_format(g, &a->shape, sa, sizeof sa), dlc_shape_format(g, &b->shape, sb, sizeof sb));
    bool ta = dlc_node_attr_int(node, "transA", 0) != 0, tb = !packed && dlc_node_attr_int(node, "transB", 0) != 0;
    dlc_dim m = a->shape.dims[ta ? 1 : 0], ka = a->shape.dims[ta ? 0 : 1];
    dlc_dim kb = b->shape.dims[tb ? 1 : 0], n = b->shape.dims[tb ? 0 : 1];
    if (dims_conflict(ka, kb))
        return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: A %s (transA=%d) and B %s (transB=%d) disagree on K: %lld vs %lld",
                        where, dlc_shape_format(g, &a->shape, sa, sizeof sa), ta,
                        dlc_shape_format(g, &b->shape, sb, sizeof sb), tb, (long long)ka.value, (long long)kb.value);
    if (c != NULL && c->shape.rank >= 0) {
        /* C broadcasts unidirectionally to [M, N] */
        bool ok = c->shape.rank <= 2;
        dlc_dim out[2] = {m, n};
        for (int32_t i = 0; ok && i < c->shape.rank; i++) {
            dlc_dim cd = c->shape.dims[i], od = out[2 - c->shape.rank + i];
            ok = !(dlc_dim_is_static(cd) && cd.value != 1 && dims_conflict(cd, od));
        }
        if (!ok)
            return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: C %s does not broadcast to the output [M,N] = [%lld,%lld]",
                            where, dlc_shape_format(g, &c->shape, sc, sizeof sc), (long long)m.value, (long long)n.value);
    }
    y->shape = (dlc_shape){.rank = 2, .dims = {m, n}};
    return dlc_epilogue_check(g, node, 3);
}

static dlc_status gemm_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    dlc_kcall_init(call, "gemm");
    DLC_TRY(dlc_kcall_push_int(call, dlc_node_attr_int(node, "transA", 0) != 0));
    DLC_TRY(dlc_kcall_push_int(call, dlc_node_attr_int(node, "transB", 0) != 0));
    DLC_TRY(push_packed_b(node, call));
    DLC_TRY(dlc_kcall_push_float(call, dlc_node_attr_float(node, "alpha", 1.0)));
    DLC_TRY(dlc_kcall_push_float(call, dlc_node_attr_float(node, "beta", 1.0)));
    return dlc_epilogue_lower(node, call);
}

static int64_t gemm_flops(const dlc_node *node) {
    const dlc_value *a = node->inputs[0];
    int64_t yn = dlc_value_numel(node->outputs[0]);
    if (yn < 0 || a->shape.rank != 2) return -1;
    int64_t k = a->shape.dims[dlc_node_attr_int(node, "transA", 0) ? 0 : 1].value;
    return k < 0 ? -1 : 2 * yn * k;
}

/* ---- MatMul ---------------------------------------------------------------------- */

/* MatMul may read an operand through a permutation of its dims: attribute
 * dlc_perm_a / dlc_perm_b (set by the fold-transpose-matmul pass, which
 * drops a Transpose feeding the MatMul) says operand dim d is input dim
 * perm[d], as Transpose's perm does. The operand's shape as MatMul sees it: */
static const char *const matmul_perm_attr[2] = {"dlc_perm_a", "dlc_perm_b"};

static dlc_status matmul_operand_shape(const dlc_node *node, int32_t i, dlc_shape *out) {
    const dlc_value *v = node->inputs[i];
    bool packed = false;
    if (i == 1) DLC_TRY(packed_b_shape(node, out, &packed));
    if (packed) return DLC_OK;
    *out = v->shape;
    int32_t n;
    const int64_t *perm = dlc_node_attr_ints(node, matmul_perm_attr[i], &n);
    if (perm == NULL || v->shape.rank < 0) return DLC_OK;
    char where[256];
    bool seen[DLC_MAX_RANK] = {false};
    bool ok = n == v->shape.rank;
    for (int32_t d = 0; ok && d < n; d++) {
        ok = perm[d] >= 0 && perm[d] < n && !seen[perm[d]];
        if (ok) seen[perm[d]] = true;
    }
    if (!ok)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: %s is not a permutation of the input's %d dims",
                        dlc_node_describe(node, where, sizeof where), matmul_perm_attr[i], v->shape.rank);
    for (int32_t d = 0; d < n; d++) out->dims[d] = v->shape.dims[perm[d]];
    return DLC_OK;
}

static dlc_status matmul_infer(dlc_graph *g, dlc_node *node) {
    DLC_TRY(check_dtypes(node));
    dlc_shape a_shape, b_shape;
    DLC_TRY(matmul_operand_shape(node, 0, &a_shape));
    DLC_TRY(matmul_operand_shape(node, 1, &b_shape));
    const dlc_value a_view = {.shape = a_shape}, b_view = {.shape = b_shape};
    const dlc_value *a = &a_view, *b = &b_view;
    dlc_value *y = node->outputs[0];
    char where[256], sa[160], sb[160];
    dlc_node_describe(node, where, sizeof where);
    y->dtype = node->inputs[0]->dtype;
    if (a->shape.rank < 0 || b->shape.rank < 0) {
        y->shape.rank = -1;
        return DLC_OK;
    }
    int32_t ra = a->shape.rank, rb = b->shape.rank;
    if (ra < 1 || rb < 1)
        return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: MatMul operands A %s and B %s must have rank >= 1", where,
                        dlc_shape_format(g, &a->shape, sa, sizeof sa), dlc_shape_format(g, &b->shape, sb, sizeof sb));
    dlc_dim ka = a->shape.dims[ra - 1], kb = b->shape.dims[rb == 1 ? 0 : rb - 2];
    if (dims_conflict(ka, kb))
        return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: A %s and B %s disagree on the contracted dim: %lld vs %lld",
                        where, dlc_shape_format(g, &a->shape, sa, sizeof sa),
                        dlc_shape_format(g, &b->shape, sb, sizeof sb), (long long)ka.value, (long long)kb.value);
    /* batch dims broadcast like numpy */
    dlc_shape batch_a = {.rank = ra > 2 ? ra - 2 : 0}, batch_b = {.rank = rb > 2 ? rb - 2 : 0}, batch;
    for (int32_t i = 0; i < batch_a.rank; i++) batch_a.dims[i] = a->shape.dims[i];
    for (int32_t i = 0; i < batch_b.rank; i++) batch_b.dims[i] = b->shape.dims[i];
    DLC_TRY(dlc_broadcast_shapes(g, node, &batch_a, &batch_b, &batch));
    int32_t rank = batch.rank + (ra > 1) + (rb > 1);
    if (rank > DLC_MAX_RANK)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: result rank %d exceeds %d", where, rank, DLC_MAX_RANK);
    dlc_shape out = batch;
    out.rank = rank;
    int32_t r = batch.rank;
    if (ra > 1) out.dims[r++] = a->shape.dims[ra - 2];
    if (rb > 1) out.dims[r++] = b->shape.dims[rb - 1];
    y->shape = out;
    return dlc_epilogue_check(g, node, 2);
}

/* ints: none, or for each operand its rank r then r perm entries (r = 0:
 * as stored), then [K, N, nr] when B is packed (its perm is applied
 * already), then a fused activation (ir/ops/epilogue.h); the perm part is
 * present whenever anything follows it */
static dlc_status matmul_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    dlc_kcall_init(call, "matmul");
    bool packed = dlc_node_attr(node, DLC_ATTR_PACKED_B) != NULL;
    if (!packed && dlc_node_attr(node, matmul_perm_attr[0]) == NULL && dlc_node_attr(node, matmul_perm_attr[1]) == NULL &&
        !dlc_epilogue_has_activation(node))
        return DLC_OK;
    for (int32_t i = 0; i < 2; i++) {
        int32_t n = 0;
        const int64_t *perm = dlc_node_attr_ints(node, matmul_perm_attr[i], &n);
        if (perm == NULL || (i == 1 && packed)) n = 0;
        DLC_TRY(dlc_kcall_push_int(call, n));
        for (int32_t d = 0; d < n; d++) DLC_TRY(dlc_kcall_push_int(call, perm[d]));
    }
    DLC_TRY(push_packed_b(node, call));
    return dlc_epilogue_lower(node, call);
}

static int64_t matmul_flops(const dlc_node *node) {
    dlc_shape a;
    int64_t yn = dlc_value_numel(node->outputs[0]);
    if (yn < 0 || matmul_operand_shape(node, 0, &a) != DLC_OK || a.rank < 1) return -1;
    int64_t k = a.dims[a.rank - 1].value;
    return k < 0 ? -1 : 2 * yn * k;
}

const dlc_op_schema dlc_ops_linalg[] = {
    /* inputs past C / B: a fused epilogue's (ir/ops/epilogue.h) */
    {"Gemm", "", 1, 2, 4, 1, 1, gemm_infer, gemm_lower, gemm_flops},
    {"MatMul", "", 1, 2, 4, 1, 1, matmul_infer, matmul_lower, matmul_flops},
    {0},
};
