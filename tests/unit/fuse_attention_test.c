/* fuse-attention: the exported attention chain becomes one dlc.Attention
 * (graph before/after, each mask form, chains with extra readers left
 * alone), and the fused kernel's outputs equal the unfused -O0 graph's
 * (odd lengths, several heads, more query rows than one block, Sq != Sk). */
#include "pass_harness.h"

typedef enum {
    MASK_NONE,
    MASK_ADD_INPUT,  /* Add(S, mask input [B,1,1,Sk]) */
    MASK_ADD_CAUSAL, /* Add(causal const [1,1,Sq,Sk], S) */
    MASK_WHERE_FILL, /* Where(cond, -3.4e38, S) */
    MASK_WHERE_KEEP, /* Where(cond, S, -1e9) */
} mask_form;

/* The graph the next builder call makes. */
static struct {
    int64_t B, Sq, Sk, H, D, Dv;
    mask_form mask;
    bool prescale;     /* Q * 1/sqrt(D) before the MatMul instead of a Div after it */
    bool leak_probs;   /* the softmax output is a graph output too */
    bool leak_scores;  /* the scaled scores are a graph output too */
} cfg;

static void set_cfg(int64_t B, int64_t Sq, int64_t Sk, int64_t H, int64_t D, int64_t Dv, mask_form mask) {
    memset(&cfg, 0, sizeof cfg);
    cfg.B = B, cfg.Sq = Sq, cfg.Sk = Sk, cfg.H = H, cfg.D = D, cfg.Dv = Dv, cfg.mask = mask;
}

static dlc_value *transposed(dlc_graph *g, const char *name, dlc_value *x, const int64_t *perm) {
    dlc_value *t = ph_op(g, name, "Transpose", 1, &x);
    ph_attr_ints(g, name, "perm", 4, perm);
    return t;
}

/* q [B,Sq,H,D], k [B,Sk,H,D], v [B,Sk,H,Dv] as torch lays out the heads. */
static dlc_graph *attention_graph(void) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("attention", &g), DLC_OK);
    dlc_value *in[4];
    int32_t n_in = 0;
    dlc_value *q = in[n_in++] = tb_value(g, "q", DLC_VALUE_INPUT, 4, (int64_t[]){cfg.B, cfg.Sq, cfg.H, cfg.D});
    dlc_value *k = in[n_in++] = tb_value(g, "k", DLC_VALUE_INPUT, 4, (int64_t[]){cfg.B, cfg.Sk, cfg.H, cfg.D});
    dlc_value *v = in[n_in++] = tb_value(g, "v", DLC_VALUE_INPUT, 4, (int64_t[]){cfg.B, cfg.Sk, cfg.H, cfg.Dv});
    float rs = 1.0f / sqrtf((float)cfg.D);
    if (cfg.prescale) q = ph_op(g, "q_scale", "Mul", 2, (dlc_value *[]){q, ph_scalar(g, "rsqrt_d", rs)});
    dlc_value *qt = transposed(g, "q_t", q, (int64_t[]){0, 2, 1, 3});
    dlc_value *kt = transposed(g, "k_t", k, (int64_t[]){0, 2, 3, 1});
    dlc_value *vt = transposed(g, "v_t", v, (int64_t[]){0, 2, 1, 3});
    dlc_value *s = ph_op(g, "qk", "MatMul", 2, (dlc_value *[]){qt, kt});
    if (!cfg.prescale) s = ph_op(g, "scale", "Div", 2, (dlc_value *[]){s, ph_scalar(g, "sqrt_d", 1.0f / rs)});
    dlc_value *scores = s;
    int64_t sq = cfg.Sq, sk = cfg.Sk;
    float *causal = malloc((size_t)(sq * sk) * sizeof(float));
    uint8_t *cond = malloc((size_t)(sq * sk));
    cr_assert(causal && cond);
    for (int64_t i = 0; i < sq; i++)
        for (int64_t j = 0; j < sk; j++) {
            cond[i * sk + j] = j > i; /* the future: masked */
            causal[i * sk + j] = j > i ? -1e9f : 0.0f;
        }
    dlc_shape ms = dlc_shape_make(4, (int64_t[]){1, 1, sq, sk});
    dlc_value *cv;
    switch (cfg.mask) {
    case MASK_NONE: break;
    case MASK_ADD_INPUT: {
        dlc_value *m = in[n_in++] = tb_value(g, "mask", DLC_VALUE_INPUT, 4, (int64_t[]){cfg.B, 1, 1, sk});
        s = ph_op(g, "add_mask", "Add", 2, (dlc_value *[]){s, m});
        break;
    }
    case MASK_ADD_CAUSAL:
        s = ph_op(g, "add_mask", "Add", 2, (dlc_value *[]){tb_const(g, "causal", 4, (int64_t[]){1, 1, sq, sk}, causal), s});
        break;
    case MASK_WHERE_FILL:
    case MASK_WHERE_KEEP: {
        if (cfg.mask == MASK_WHERE_KEEP)
            for (int64_t i = 0; i < sq * sk; i++) cond[i] = !cond[i];
        cr_assert_eq(dlc_graph_add_const(g, "cond", DLC_BOOL, &ms, cond, (size_t)(sq * sk), &cv), DLC_OK);
        dlc_value *fill = ph_scalar(g, "fill", cfg.mask == MASK_WHERE_FILL ? -3.4028234e38f : -1e9f);
        s = cfg.mask == MASK_WHERE_FILL ? ph_op(g, "where", "Where", 3, (dlc_value *[]){cv, fill, s})
                                        : ph_op(g, "where", "Where", 3, (dlc_value *[]){cv, s, fill});
        break;
    }
    }
    free(causal);
    free(cond);
    dlc_value *p = ph_op(g, "softmax", "Softmax", 1, &s);
    dlc_value *y = ph_op(g, "pv", "MatMul", 2, (dlc_value *[]){p, vt});
    dlc_value *out[3] = {y};
    int32_t n_out = 1;
    if (cfg.leak_probs) out[n_out++] = p;
    if (cfg.leak_scores) out[n_out++] = scores;
    tb_set_io(g, n_in, in, n_out, out);
    return g;
}

/* The graph after fold-transpose-matmul (the pipeline's order) and fuse-attention. */
static dlc_graph *fused(bool *changed) {
    dlc_graph *g = ph_inferred(attention_graph);
    ph_run_pass(g, dlc_pass_fold_transpose_matmul);
    *changed = ph_run_pass(g, dlc_pass_fuse_attention);
    return g;
}

static const dlc_node *only_attention(const dlc_graph *g) {
    cr_assert_eq(g->num_nodes, 1, "%d nodes left", g->num_nodes);
    const dlc_node *n = g->nodes[0];
    cr_assert_str_eq(n->domain, "dlc");
    cr_assert_str_eq(n->op_type, "Attention");
    cr_assert_str_eq(n->name, "pv"); /* the last MatMul's name and output */
    cr_assert_eq(n->outputs[0], g->outputs[0]);
    cr_assert_eq(n->inputs[0], g->inputs[0]);
    cr_assert_eq(n->inputs[1], g->inputs[1]);
    cr_assert_eq(n->inputs[2], g->inputs[2]);
    int32_t c;
    const int64_t *perm = dlc_node_attr_ints(n, "dlc_perm_k", &c);
    cr_assert(perm != NULL && c == 4 && perm[2] == 3 && perm[3] == 1);
    perm = dlc_node_attr_ints(n, "dlc_perm_v", &c);
    cr_assert(perm != NULL && c == 4 && perm[1] == 2 && perm[2] == 1);
    cr_assert_float_eq(dlc_node_attr_float(n, "scale", 0), 1.0 / sqrt((double)cfg.D), 1e-6);
    return n;
}

Test(fuse_attention, unmasked_chain_becomes_one_node) {
    set_cfg(2, 5, 5, 3, 4, 4, MASK_NONE);
    bool changed;
    dlc_graph *g = fused(&changed);
    cr_assert(changed);
    const dlc_node *n = only_attention(g);
    cr_assert_eq(n->num_inputs, 3);
    cr_assert_eq(dlc_node_attr_int(n, "mask", -1), 0);
    dlc_graph_free(g);
}

Test(fuse_attention, additive_masks_either_order) {
    set_cfg(2, 5, 7, 3, 4, 6, MASK_ADD_INPUT);
    bool changed;
    dlc_graph *g = fused(&changed);
    const dlc_node *n = only_attention(g);
    cr_assert_eq(dlc_node_attr_int(n, "mask", -1), 1);
    cr_assert_str_eq(n->inputs[3]->name, "mask");
    dlc_graph_free(g);

    set_cfg(1, 6, 6, 2, 4, 4, MASK_ADD_CAUSAL);
    g = fused(&changed);
    n = only_attention(g);
    cr_assert_eq(dlc_node_attr_int(n, "mask", -1), 1);
    cr_assert_eq(n->inputs[3]->kind, DLC_VALUE_CONST);
    dlc_graph_free(g);
}

Test(fuse_attention, where_masks_keep_fill_and_side) {
    set_cfg(1, 6, 6, 2, 4, 4, MASK_WHERE_FILL);
    bool changed;
    dlc_graph *g = fused(&changed);
    const dlc_node *n = only_attention(g);
    cr_assert_eq(dlc_node_attr_int(n, "mask", -1), 2);
    cr_assert_eq(dlc_node_attr_int(n, "mask_fill_if", -1), 1);
    cr_assert_float_eq(dlc_node_attr_float(n, "mask_fill", 0), -3.4028234e38, 1e32);
    cr_assert_eq(n->inputs[3]->dtype, DLC_BOOL);
    dlc_graph_free(g);

    set_cfg(1, 6, 6, 2, 4, 4, MASK_WHERE_KEEP);
    g = fused(&changed);
    n = only_attention(g);
    cr_assert_eq(dlc_node_attr_int(n, "mask_fill_if", -1), 0);
    cr_assert_float_eq(dlc_node_attr_float(n, "mask_fill", 0), -1e9, 1e3);
    dlc_graph_free(g);
}

Test(fuse_attention, scale_on_q_is_absorbed) {
    set_cfg(1, 5, 5, 2, 9, 9, MASK_ADD_CAUSAL);
    cfg.prescale = true;
    bool changed;
    dlc_graph *g = fused(&changed);
    cr_assert(changed);
    only_attention(g); /* the Mul went too: Q is the graph input */
    dlc_graph_free(g);
}

Test(fuse_attention, chains_with_extra_readers_stay) {
    set_cfg(1, 5, 5, 2, 4, 4, MASK_ADD_CAUSAL);
    cfg.leak_probs = true;
    bool changed;
    dlc_graph *g = fused(&changed);
    cr_assert_not(changed);
    cr_assert_eq(ph_count_ops(g, "Attention"), 0);
    cr_assert_eq(ph_count_ops(g, "Softmax"), 1);
    dlc_graph_free(g);

    set_cfg(1, 5, 5, 2, 4, 4, MASK_WHERE_FILL);
    cfg.leak_scores = true;
    g = fused(&changed);
    cr_assert_not(changed);
    cr_assert_eq(ph_count_ops(g, "Attention"), 0);
    dlc_graph_free(g);
}

/* Outputs at -O2 (fused) against -O0 (the unfused MatMul/Div/Add/Softmax/MatMul). */
static void same_as_unfused(int64_t B, int64_t Sq, int64_t Sk, int64_t H, int64_t D, int64_t Dv, mask_form mask) {
    set_cfg(B, Sq, Sk, H, D, Dv, mask);
    bool changed;
    dlc_graph *g = fused(&changed);
    cr_assert(changed, "not fused: B=%lld Sq=%lld Sk=%lld", (long long)B, (long long)Sq, (long long)Sk);
    dlc_graph_free(g);
    ph_expect_same_outputs(attention_graph, 1e-5);
}

Test(fuse_attention, numerics_small_and_odd) {
    same_as_unfused(2, 7, 7, 3, 5, 5, MASK_NONE);
    same_as_unfused(2, 13, 9, 3, 8, 6, MASK_ADD_INPUT);
    same_as_unfused(1, 1, 11, 4, 16, 16, MASK_ADD_INPUT); /* one query row (decoding) */
    same_as_unfused(1, 17, 17, 2, 8, 8, MASK_WHERE_FILL);
    same_as_unfused(1, 17, 17, 2, 8, 8, MASK_WHERE_KEEP);
}

/* 32768 / Sk rows per block: Sk 129 gives 248 rows, Sq 301 two blocks (one partial). */
Test(fuse_attention, numerics_several_row_blocks) {
    same_as_unfused(2, 301, 129, 3, 16, 8, MASK_ADD_INPUT);
    same_as_unfused(1, 300, 300, 2, 8, 8, MASK_ADD_CAUSAL);
}
