/* fold-transpose-matmul: a Transpose feeding a MatMul operand becomes a
 * permuted read of its input (attribute dlc_perm_a / dlc_perm_b, see
 * ir/ops/linalg.c). The GEMM reads operands through strides anyway, so
 * attention's Q, K^T and V stop being copied: Reshape [B,S,H,D] ->
 * Transpose [0,2,3,1] -> MatMul reads K straight from the reshaped tensor.
 *
 * The Transpose goes when nothing else reads it (dead code elimination). */
#include <string.h>

#include "passes/pipeline.h"
#include "runtime/status.h"

static const char *const perm_attr[2] = {"dlc_perm_a", "dlc_perm_b"};

static bool is_op(const dlc_node *node, const char *op) {
    return node != NULL && node->domain[0] == '\0' && strcmp(node->op_type, op) == 0;
}

/* The Transpose's perm in full (the default reverses the dims); false when
 * the rank is unknown. */
static bool transpose_perm(const dlc_node *t, int64_t *perm, int32_t *rank) {
    const dlc_value *x = t->inputs[0];
    if (x == NULL || x->shape.rank < 1) return false;
    *rank = x->shape.rank;
    int32_t n;
    const int64_t *p = dlc_node_attr_ints(t, "perm", &n);
    if (p != NULL && n != *rank) return false;
    for (int32_t d = 0; d < *rank; d++) perm[d] = p != NULL ? p[d] : *rank - 1 - d;
    return true;
}

static dlc_status fold_operand(dlc_node *mm, int32_t i, bool *changed) {
    dlc_value *v = mm->inputs[i];
    if (v == NULL || v->kind != DLC_VALUE_INTERMEDIATE || !is_op(v->producer, "Transpose")) return DLC_OK;
    if (dlc_node_attr(mm, perm_attr[i]) != NULL) return DLC_OK; /* already a view */
    dlc_node *t = v->producer;
    int64_t perm[DLC_MAX_RANK];
    int32_t rank;
    if (!transpose_perm(t, perm, &rank) || rank < 2) return DLC_OK;
    dlc_attr attr = {.name = (char *)perm_attr[i], .type = DLC_ATTR_INTS, .ints = perm, .count = rank};
    DLC_TRY(dlc_node_add_attr(mm, &attr));
    mm->inputs[i] = t->inputs[0];
    *changed = true;
    return DLC_OK;
}

dlc_status dlc_pass_fold_transpose_matmul(dlc_graph *g, bool *out_changed) {
    *out_changed = false;
    for (int32_t n = 0; n < g->num_nodes; n++) {
        dlc_node *node = g->nodes[n];
        if (!is_op(node, "MatMul") || node->num_inputs != 2) continue;
        for (int32_t i = 0; i < 2; i++) DLC_TRY(fold_operand(node, i, out_changed));
    }
    if (*out_changed) {
        dlc_graph_update_uses(g);
        bool removed;
        DLC_TRY(dlc_pass_dead_code(g, &removed));
    }
    return DLC_OK;
}
