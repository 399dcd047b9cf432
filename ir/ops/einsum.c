/* Einsum (opset 12): the equation is parsed here, at compile time, into
 * label ids per operand axis; kernels/einsum.c then sums products over every
 * assignment of the labels. General (repeated labels, ellipsis, implicit
 * output) but not fast: large contractions belong in MatMul. */
#include <ctype.h>
#include <string.h>

#include "ir/op_registry.h"
#include "runtime/status.h"

enum { EINSUM_MAX_LABELS = 26 + 26 + DLC_MAX_RANK, EINSUM_MAX_OPERANDS = 8 };

typedef struct einsum_plan {
    int32_t num_labels;
    int64_t label_dim[EINSUM_MAX_LABELS];
    int32_t num_inputs;
    int32_t rank[EINSUM_MAX_OPERANDS + 1]; /* inputs, then the output */
    int32_t label[EINSUM_MAX_OPERANDS + 1][DLC_MAX_RANK];
} einsum_plan;

static int32_t letter_id(char c) { return islower((unsigned char)c) ? c - 'a' : 26 + (c - 'A'); }

/* Parses one term ("ij", "...ii") of an operand of rank `rank` into label ids;
 * ellipsis dims get ids 52.. counted from the right. */
static dlc_status parse_term(const dlc_node *node, const char *term, size_t len, int32_t rank, int32_t *labels,
                             int32_t *out_rank, int32_t *ellipsis_rank) {
    char where[256];
    dlc_node_describe(node, where, sizeof where);
    int32_t letters = 0;
    bool ellipsis = false;
    for (size_t i = 0; i < len; i++) {
        if (term[i] == '.') {
            if (ellipsis || i + 2 >= len || strncmp(term + i, "...", 3) != 0)
                return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: bad ellipsis in equation", where);
            ellipsis = true;
            i += 2;
        } else if (isalpha((unsigned char)term[i])) {
            letters++;
        } else if (term[i] != ' ') {
            return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: unexpected '%c' in equation", where, term[i]);
        }
    }
    int32_t ell = ellipsis ? (rank >= 0 ? rank - letters : *ellipsis_rank) : 0;
    if (ell < 0 || (!ellipsis && rank >= 0 && letters != rank) || letters + ell > DLC_MAX_RANK)
        return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: equation term '%.*s' does not fit rank %d", where, (int)len,
                        term, rank);
    /* the output's ellipsis spans the widest input ellipsis (broadcasting) */
    if (ellipsis && rank >= 0 && ell > *ellipsis_rank) *ellipsis_rank = ell;
    int32_t k = 0;
    for (size_t i = 0; i < len; i++) {
        if (term[i] == '.') {
            for (int32_t e = 0; e < ell; e++) labels[k++] = 52 + (DLC_MAX_RANK - ell + e);
            i += 2;
        } else if (isalpha((unsigned char)term[i])) {
            labels[k++] = letter_id(term[i]);
        }
    }
    *out_rank = k;
    return DLC_OK;
}

static dlc_status einsum_plan_build(const dlc_graph *g, const dlc_node *node, einsum_plan *plan) {
    char where[256];
    dlc_node_describe(node, where, sizeof where);
    memset(plan, 0, sizeof *plan);
    const char *eq = dlc_node_attr_string(node, "equation", NULL);
    if (eq == NULL) return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: attribute 'equation' is required", where);
    if (node->num_inputs > EINSUM_MAX_OPERANDS)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: more than %d operands", where, EINSUM_MAX_OPERANDS);
    const char *arrow = strstr(eq, "->");
    size_t lhs_len = arrow ? (size_t)(arrow - eq) : strlen(eq);
    plan->num_inputs = node->num_inputs;
    int64_t dims[EINSUM_MAX_LABELS];
    int32_t counts[EINSUM_MAX_LABELS] = {0};
    for (int32_t l = 0; l < EINSUM_MAX_LABELS; l++) dims[l] = -1;
    int32_t ellipsis_rank = -1;
    const char *term = eq;
    for (int32_t op = 0; op < node->num_inputs; op++) {
        const char *end = memchr(term, ',', lhs_len - (size_t)(term - eq));
        size_t len = end ? (size_t)(end - term) : lhs_len - (size_t)(term - eq);
        if (!end && op + 1 < node->num_inputs)
            return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: equation '%s' has fewer terms than inputs", where, eq);
        const dlc_value *v = node->inputs[op];
        DLC_TRY(parse_term(node, term, len, v->shape.rank, plan->label[op], &plan->rank[op], &ellipsis_rank));
        for (int32_t a = 0; a < plan->rank[op]; a++) {
            int32_t l = plan->label[op][a];
            int64_t d = v->shape.dims[a].value;
            counts[l]++;
            if (d < 0) return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: Einsum needs static shapes", where);
            if (dims[l] < 0 || dims[l] == 1) dims[l] = d;
            else if (d != 1 && d != dims[l])
                return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: label size %lld vs %lld in '%s'", where,
                                (long long)dims[l], (long long)d, eq);
        }
        term = end ? end + 1 : eq + lhs_len;
    }
    int32_t out = node->num_inputs;
    if (arrow) {
        DLC_TRY(parse_term(node, arrow + 2, strlen(arrow + 2), -1, plan->label[out], &plan->rank[out],
                           &ellipsis_rank));
    } else { /* implicit: ellipsis dims, then labels seen once, alphabetically */
        int32_t k = 0;
        for (int32_t l = 52; l < EINSUM_MAX_LABELS; l++)
            if (counts[l] > 0) plan->label[out][k++] = l;
        for (int32_t l = 0; l < 52; l++)
            if (counts[l] == 1 && k < DLC_MAX_RANK) plan->label[out][k++] = l;
        plan->rank[out] = k;
    }
    /* renumber labels densely */
    int32_t dense[EINSUM_MAX_LABELS];
    for (int32_t l = 0; l < EINSUM_MAX_LABELS; l++) dense[l] = -1;
    for (int32_t op = 0; op <= out; op++)
        for (int32_t a = 0; a < plan->rank[op]; a++) {
            int32_t l = plan->label[op][a];
            if (dims[l] < 0)
                return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: output label of '%s' appears in no input", where,
                                eq);
            if (dense[l] < 0) {
                dense[l] = plan->num_labels++;
                plan->label_dim[dense[l]] = dims[l];
            }
            plan->label[op][a] = dense[l];
        }
    return DLC_OK;
}

static dlc_status einsum_infer(dlc_graph *g, dlc_node *node) {
    einsum_plan plan;
    DLC_TRY(einsum_plan_build(g, node, &plan));
    dlc_shape out = {.rank = plan.rank[plan.num_inputs]};
    for (int32_t a = 0; a < out.rank; a++) out.dims[a] = (dlc_dim){plan.label_dim[plan.label[plan.num_inputs][a]], 0};
    node->outputs[0]->dtype = node->inputs[0]->dtype;
    node->outputs[0]->shape = out;
    return DLC_OK;
}

/* ints: num_labels, label dims..., then per operand (inputs, output): rank, label ids... */
static dlc_status einsum_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    einsum_plan plan;
    DLC_TRY(einsum_plan_build(g, node, &plan));
    dlc_kcall_init(call, "einsum");
    DLC_TRY(dlc_kcall_push_int(call, plan.num_labels));
    DLC_TRY(dlc_kcall_push_ints(call, plan.label_dim, plan.num_labels));
    for (int32_t op = 0; op <= plan.num_inputs; op++) {
        DLC_TRY(dlc_kcall_push_int(call, plan.rank[op]));
        for (int32_t a = 0; a < plan.rank[op]; a++) DLC_TRY(dlc_kcall_push_int(call, plan.label[op][a]));
    }
    return DLC_OK;
}

const dlc_op_schema dlc_ops_einsum[] = {
    {"Einsum", "", 12, 1, -1, 1, 1, einsum_infer, einsum_lower, NULL},
    {0},
};
