/* Attention fusion: the exported scaled dot-product attention
 *
 *     S = MatMul(Q, K)           (Transposes already folded into dlc_perm_a/b)
 *     S = Div(S, c) | Mul(S, c)  (optional; or Q and/or K scaled before the MatMul)
 *     S = Add(S, mask)           (optional, either order; or Where(cond, fill, S)
 *                                 / Where(cond, S, fill) with a constant fill)
 *     P = Softmax(S, last axis)
 *     Y = MatMul(P, V)
 *
 * becomes one dlc.Attention(Q, K, V [, mask]) (ir/ops/attention.c) in place
 * of the last MatMul, keeping its name and output: the [.., Sq, Sk] scores
 * never leave the cache. Every intermediate must be read only inside the
 * pattern, everything float32, and Q, K, V views of one rank with equal
 * batch dims (no broadcasting between them). */
#include <string.h>

#include "passes/pipeline.h"
#include "passes/rewrite.h"
#include "runtime/status.h"

enum { MASK_NONE = 0, MASK_ADD = 1, MASK_WHERE = 2 };

typedef struct attn_match {
    dlc_value *q, *k, *v, *mask;
    int64_t perm[3][DLC_MAX_RANK]; /* copies: the MatMuls (owning the attributes) go */
    int32_t perm_n[3];             /* 0: no permutation */
    double scale;
    int64_t mask_kind, fill_if;
    double fill;
} attn_match;

static bool is_op(const dlc_node *n, const char *op) {
    return n != NULL && n->domain[0] == '\0' && strcmp(n->op_type, op) == 0;
}

/* v is a CONST of one element: its value. */
static bool const_scalar(const dlc_value *v, double *out) {
    if (v == NULL || v->kind != DLC_VALUE_CONST || dlc_value_numel(v) != 1 || !dlc_dtype_is_float(v->dtype))
        return false;
    *out = dlc_const_element(v, 0);
    return true;
}

/* v = x * c, c * x or x / c with a private v, x float32 of v's shape:
 * returns x and multiplies *scale by c (or 1/c); else v. */
static dlc_value *unscale(dlc_value *v, double *scale) {
    dlc_node *n = v != NULL && v->kind == DLC_VALUE_INTERMEDIATE ? v->producer : NULL;
    bool mul = is_op(n, "Mul"), div = is_op(n, "Div");
    if ((!mul && !div) || n->num_inputs != 2 || !dlc_value_private(v, 1)) return v;
    for (int side = 0; side < (mul ? 2 : 1); side++) {
        dlc_value *x = n->inputs[side];
        double c;
        if (x == NULL || !const_scalar(n->inputs[1 - side], &c) || x->dtype != DLC_FLOAT32 ||
            !dlc_shape_equal(&x->shape, &v->shape) || (div && c == 0.0))
            continue;
        *scale *= div ? 1.0 / c : c;
        return x;
    }
    return v;
}

/* A MatMul whose only attributes are operand permutations. */
static bool plain_matmul(const dlc_node *n) {
    if (!is_op(n, "MatMul") || n->num_inputs != 2 || n->inputs[0] == NULL || n->inputs[1] == NULL) return false;
    for (int32_t a = 0; a < n->num_attrs; a++)
        if (strcmp(n->attrs[a].name, "dlc_perm_a") != 0 && strcmp(n->attrs[a].name, "dlc_perm_b") != 0) return false;
    return true;
}

/* The shape of operand i of a MatMul as it is read (through dlc_perm_*). */
static dlc_shape view_of(const dlc_node *mm, int32_t i) {
    const dlc_value *v = mm->inputs[i];
    dlc_shape s = v->shape;
    int32_t n;
    const int64_t *perm = dlc_node_attr_ints(mm, i == 0 ? "dlc_perm_a" : "dlc_perm_b", &n);
    if (perm != NULL && n == v->shape.rank)
        for (int32_t d = 0; d < n; d++) s.dims[d] = v->shape.dims[perm[d]];
    return s;
}

static void copy_perm(const dlc_node *mm, const char *attr, attn_match *m, int i) {
    int32_t n;
    const int64_t *perm = dlc_node_attr_ints(mm, attr, &n);
    m->perm_n[i] = perm != NULL && n <= DLC_MAX_RANK ? n : 0;
    if (m->perm_n[i] > 0) memcpy(m->perm[i], perm, (size_t)n * sizeof *perm);
}

static bool same_dim(dlc_dim a, dlc_dim b) { return a.value == b.value && (a.value >= 0 || a.sym == b.sym); }

/* s = scale * Q K: fills q, k, their perms and the scale. s must be private. */
static bool match_scores(dlc_value *s, attn_match *m) {
    m->scale = 1.0;
    if (!dlc_value_private(s, 1)) return false;
    s = unscale(s, &m->scale);
    dlc_node *mm = dlc_producer_of(s, "MatMul");
    if (!plain_matmul(mm) || !dlc_value_private(s, 1)) return false;
    dlc_shape qv = view_of(mm, 0), kv = view_of(mm, 1);
    int32_t r = qv.rank;
    if (r < 2 || kv.rank != r) return false;
    for (int32_t d = 0; d < r - 2; d++)
        if (!same_dim(qv.dims[d], kv.dims[d])) return false; /* the fused kernel does not broadcast */
    /* a scale on Q or K keeps its shape, so the MatMul's perm still applies */
    m->q = unscale(mm->inputs[0], &m->scale);
    m->k = unscale(mm->inputs[1], &m->scale);
    copy_perm(mm, "dlc_perm_a", m, 0);
    copy_perm(mm, "dlc_perm_b", m, 1);
    return m->q->dtype == DLC_FLOAT32 && m->k->dtype == DLC_FLOAT32;
}

/* mask (rank <= the scores') broadcasts to the scores' shape without growing it. */
static bool mask_fits(const dlc_value *mask, const dlc_shape *scores) {
    if (mask->shape.rank < 0 || mask->shape.rank > scores->rank) return false;
    for (int32_t d = 1; d <= mask->shape.rank; d++) {
        dlc_dim md = mask->shape.dims[mask->shape.rank - d];
        if (md.value != 1 && !same_dim(md, scores->dims[scores->rank - d])) return false;
    }
    return true;
}

/* x = the softmax's input: the scores with an optional mask. */
static bool match_masked(dlc_value *x, attn_match *m) {
    m->mask_kind = MASK_NONE;
    m->mask = NULL;
    dlc_node *add = dlc_producer_of(x, "Add");
    if (add != NULL && add->num_inputs == 2 && dlc_value_private(x, 1)) {
        for (int side = 0; side < 2; side++) {
            dlc_value *s = add->inputs[side], *mask = add->inputs[1 - side];
            if (s == NULL || mask == NULL || mask->dtype != DLC_FLOAT32 || !dlc_shape_equal(&s->shape, &x->shape) ||
                !mask_fits(mask, &x->shape) || !match_scores(s, m))
                continue;
            m->mask_kind = MASK_ADD;
            m->mask = mask;
            return true;
        }
    }
    dlc_node *where = dlc_producer_of(x, "Where");
    if (where != NULL && where->num_inputs == 3 && dlc_value_private(x, 1) && where->inputs[0] != NULL &&
        where->inputs[0]->dtype == DLC_BOOL && mask_fits(where->inputs[0], &x->shape)) {
        for (int side = 1; side <= 2; side++) {
            dlc_value *fill = where->inputs[side], *s = where->inputs[3 - side];
            if (s == NULL || !const_scalar(fill, &m->fill) || !dlc_shape_equal(&s->shape, &x->shape) ||
                !match_scores(s, m))
                continue;
            m->mask_kind = MASK_WHERE;
            m->fill_if = side == 1; /* Where(cond, fill, S): fill where cond holds */
            m->mask = where->inputs[0];
            return true;
        }
    }
    return match_scores(x, m);
}

static bool match_attention(const dlc_node *mm, attn_match *m) {
    memset(m, 0, sizeof *m);
    if (!plain_matmul(mm) || dlc_node_attr(mm, "dlc_perm_a") != NULL) return false;
    dlc_value *p = mm->inputs[0];
    dlc_node *sm = dlc_producer_of(p, "Softmax");
    if (sm == NULL || !dlc_value_private(p, 1) || p->dtype != DLC_FLOAT32 || p->shape.rank < 2) return false;
    int32_t r = p->shape.rank;
    int64_t axis = dlc_node_attr_int(sm, "axis", sm->opset < 13 ? 1 : -1);
    if (axis < 0) axis += r;
    if (axis != r - 1 || !match_masked(sm->inputs[0], m)) return false;
    m->v = mm->inputs[1];
    copy_perm(mm, "dlc_perm_b", m, 2);
    dlc_shape vv = view_of(mm, 1);
    if (m->v->dtype != DLC_FLOAT32 || vv.rank != r) return false;
    for (int32_t d = 0; d < r - 2; d++)
        if (!same_dim(vv.dims[d], p->shape.dims[d])) return false;
    return same_dim(vv.dims[r - 2], p->shape.dims[r - 1]);
}

static dlc_status fuse(dlc_graph *g, dlc_node *mm, const attn_match *m) {
    static const char *const perm_names[3] = {"dlc_perm_q", "dlc_perm_k", "dlc_perm_v"};
    dlc_attr attrs[7];
    int32_t n = 0;
    for (int i = 0; i < 3; i++)
        if (m->perm_n[i] > 0)
            attrs[n++] = (dlc_attr){.name = (char *)perm_names[i], .type = DLC_ATTR_INTS,
                                    .ints = (int64_t *)m->perm[i], .count = m->perm_n[i]};
    attrs[n++] = (dlc_attr){.name = (char *)"scale", .type = DLC_ATTR_FLOAT, .f = m->scale};
    attrs[n++] = (dlc_attr){.name = (char *)"mask", .type = DLC_ATTR_INT, .i = m->mask_kind};
    if (m->mask_kind == MASK_WHERE) {
        attrs[n++] = (dlc_attr){.name = (char *)"mask_fill", .type = DLC_ATTR_FLOAT, .f = m->fill};
        attrs[n++] = (dlc_attr){.name = (char *)"mask_fill_if", .type = DLC_ATTR_INT, .i = m->fill_if};
    }
    dlc_value *inputs[4] = {m->q, m->k, m->v, m->mask};
    return dlc_replace_node_in(g, mm, "dlc", "Attention", 1, m->mask != NULL ? 4 : 3, inputs, n, attrs, NULL);
}

dlc_status dlc_pass_fuse_attention(dlc_graph *g, bool *out_changed) {
    *out_changed = false;
    dlc_graph_update_uses(g);
    for (int32_t i = 0; i < g->num_nodes; i++) {
        attn_match m;
        if (!match_attention(g->nodes[i], &m)) continue;
        DLC_TRY(fuse(g, g->nodes[i], &m));
        *out_changed = true;
    }
    if (*out_changed) {
        bool removed;
        DLC_TRY(dlc_pass_dead_code(g, &removed));
    }
    return DLC_OK;
}
