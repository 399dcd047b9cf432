/* fuse-epilogue (-O1 and up): a float32 Conv, Gemm or MatMul absorbs the
 * elementwise chain after it,
 *
 *     [Add bias] -> [Add residual] -> [activation]
 *
 * each part optional but in this order (Conv -> Add -> Relu is ResNet's
 * residual block; MatMul -> Add(bias) -> Add(residual) a transformer's
 * projection), when every intermediate is read only by the next step. The
 * kernels then apply it to each output block as the block completes, while it
 * is still in cache, instead of separate kernels re-reading the whole output
 * (kernels/epilogue.h). How a fused node looks: ir/ops/epilogue.h.
 *
 *   bias:       an Add of a constant broadcast along the output channels (Conv:
 *               [M,1,1], [1,M,1,1], folded into B) or along the last dim
 *               (MatMul: new input 2 [N]; Gemm without C: becomes C, beta 1);
 *   residual:   an Add of any tensor of exactly the output's shape;
 *   activation: Relu, LeakyRelu, Sigmoid, Tanh, Gelu (either approximation),
 *               Clip with constant bounds, or SiLU as PyTorch exports it:
 *               Sigmoid(v) and Mul(v, Sigmoid(v)) (either operand order)
 *               as the only two readers of v, all float32. SiLU takes
 *               precedence over fuse-elementwise's Sigmoid+Mul chain by
 *               running first: YOLO's convs then write their activated
 *               output once instead of a second pass re-reading it.
 *
 * The fused node keeps the anchor's name (messages name the original node)
 * and takes the position of the chain's last node, writing its output. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/ops/epilogue.h"
#include "passes/pipeline.h"
#include "passes/rewrite.h"
#include "runtime/status.h"

#define MAX_CHAIN 4 /* Add, Add, then Sigmoid and Mul for a SiLU */

typedef struct chain {
    dlc_node *nodes[MAX_CHAIN];
    int32_t count;
    dlc_value *bias;     /* the constant operand of the bias Add */
    dlc_value *residual;
    const char *act;     /* activation name (a string literal, ir/ops/epilogue.c's), or NULL */
    bool silu;           /* the last two nodes are a SiLU's Sigmoid and Mul */
    double params[2];
    int32_t num_params;
} chain;

static bool is_op(const dlc_node *n, const char *op) {
    return n != NULL && n->domain[0] == '\0' && strcmp(n->op_type, op) == 0;
}

/* The node reading v, when v is an intermediate read exactly once. */
static dlc_node *sole_reader(const dlc_graph *g, const dlc_value *v) {
    if (!dlc_value_private(v, 1)) return NULL;
    for (int32_t i = 0; i < g->num_nodes; i++)
        for (int32_t k = 0; k < g->nodes[i]->num_inputs; k++)
            if (g->nodes[i]->inputs[k] == v) return g->nodes[i];
    return NULL;
}

static bool float32_like(const dlc_value *v, const dlc_value *ref) {
    return v != NULL && v->dtype == DLC_FLOAT32 && dlc_shape_equal(&v->shape, &ref->shape);
}

/* The output dim a bias of the anchor runs along: 1 (channels) for Conv,
 * the last for Gemm and MatMul. */
static int32_t bias_axis(const dlc_node *anchor, const dlc_value *y) {
    return is_op(anchor, "Conv") ? 1 : y->shape.rank - 1;
}

/* c broadcasts to y along bias_axis only (every other dim 1), with a static extent. */
static bool bias_shaped(const dlc_node *anchor, const dlc_value *c, const dlc_value *y) {
    if (c->kind != DLC_VALUE_CONST || c->dtype != DLC_FLOAT32 || c->shape.rank > y->shape.rank) return false;
    int32_t axis = bias_axis(anchor, y);
    if (axis < 0 || !dlc_dim_is_static(y->shape.dims[axis])) return false;
    for (int32_t i = 0; i < c->shape.rank; i++) {
        int64_t d = c->shape.dims[i].value;
        int32_t at = y->shape.rank - c->shape.rank + i;
        if (d != 1 && !(at == axis && d == y->shape.dims[axis].value)) return false;
    }
    return true;
}

/* The Clip's bounds: constant inputs (opset 11+) or attributes; false
 * when a bound is not a known scalar. */
static bool clip_bounds(const dlc_node *n, double *lo, double *hi) {
    *lo = -INFINITY, *hi = INFINITY;
    if (n->opset < 11) {
        *lo = dlc_node_attr_float(n, "min", -FLT_MAX);
        *hi = dlc_node_attr_float(n, "max", FLT_MAX);
        return true;
    }
    for (int32_t i = 1; i < n->num_inputs && i < 3; i++) {
        const dlc_value *b = n->inputs[i];
        if (b == NULL) continue;
        if (b->kind != DLC_VALUE_CONST || dlc_value_numel(b) != 1) return false;
        double x = dlc_const_element(b, 0);
        if (isnan(x)) return false;
        *(i == 1 ? lo : hi) = x;
    }
    return true;
}

/* Takes node as the chain's activation when it is one. */
static bool take_activation(chain *c, const dlc_node *n, const dlc_value *v) {
    if (n->num_outputs != 1 || n->inputs[0] != v || !float32_like(n->outputs[0], v)) return false;
    if (is_op(n, "Relu") || is_op(n, "Sigmoid") || is_op(n, "Tanh")) {
        c->num_params = 0;
    } else if (is_op(n, "Gelu")) {
        const char *approximate = dlc_node_attr_string(n, "approximate", "none");
        if (strcmp(approximate, "none") != 0 && strcmp(approximate, "tanh") != 0) return false;
        c->act = strcmp(approximate, "tanh") == 0 ? "GeluTanh" : "Gelu";
        c->num_params = 0;
        return true;
    } else if (is_op(n, "LeakyRelu")) {
        c->params[0] = dlc_node_attr_float(n, "alpha", 0.01);
        c->num_params = 1;
    } else if (is_op(n, "Clip")) {
        if (!clip_bounds(n, &c->params[0], &c->params[1])) return false;
        c->num_params = 2;
    } else {
        return false;
    }
    /* a copy: the node is freed when the chain is replaced */
    static const char *const names[] = {"Relu", "Sigmoid", "Tanh", "LeakyRelu", "Clip"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(names[i], n->op_type) == 0) c->act = names[i];
    return true;
}

/* The Sigmoid reading v as its only input, or NULL. */
static dlc_node *sigmoid_of(const dlc_graph *g, const dlc_value *v) {
    for (int32_t i = 0; i < g->num_nodes; i++) {
        dlc_node *n = g->nodes[i];
        if (is_op(n, "Sigmoid") && n->num_inputs == 1 && n->inputs[0] == v && n->num_outputs == 1) return n;
    }
    return NULL;
}

/* Takes SiLU, v * Sigmoid(v), as the chain's activation when v is read by
 * exactly a Sigmoid and a Mul of v by that Sigmoid's output (in either
 * order) and by nothing else, not even the graph's outputs: the product is
 * then all that anyone sees of v, so the epilogue may overwrite v with it. */
static bool take_silu(const dlc_graph *g, chain *c, const dlc_value *v) {
    if (c->count + 2 > MAX_CHAIN || !dlc_value_private(v, 2)) return false;
    dlc_node *sig = sigmoid_of(g, v);
    if (sig == NULL || !float32_like(sig->outputs[0], v)) return false;
    const dlc_value *s = sig->outputs[0];
    dlc_node *mul = sole_reader(g, s);
    if (!is_op(mul, "Mul") || mul->num_inputs != 2 || mul->num_outputs != 1 || !float32_like(mul->outputs[0], v))
        return false;
    bool x_times_sig = mul->inputs[0] == v && mul->inputs[1] == s;
    bool sig_times_x = mul->inputs[0] == s && mul->inputs[1] == v;
    if (!x_times_sig && !sig_times_x) return false;
    c->nodes[c->count++] = sig;
    c->nodes[c->count++] = mul;
    c->act = "SiLU";
    c->num_params = 0;
    c->silu = true;
    return true;
}

/* Follows the single readers of anchor's output as far as the pattern goes. */
static void match_chain(const dlc_graph *g, const dlc_node *anchor, chain *c) {
    memset(c, 0, sizeof *c);
    const dlc_value *y = anchor->outputs[0], *v = y;
    bool may_bias = !is_op(anchor, "Gemm") || anchor->num_inputs < 3 || anchor->inputs[2] == NULL;
    if (is_op(anchor, "Conv") && anchor->num_inputs > 2 && anchor->inputs[2] != NULL)
        may_bias = anchor->inputs[2]->kind == DLC_VALUE_CONST; /* merged into B */
    while (c->count < MAX_CHAIN && c->act == NULL) {
        if (take_silu(g, c, v)) return;
        dlc_node *n = sole_reader(g, v);
        if (n == NULL) return;
        if (is_op(n, "Add") && n->num_inputs == 2 && n->num_outputs == 1 && float32_like(n->outputs[0], v)) {
            dlc_value *other = n->inputs[0] == v ? n->inputs[1] : n->inputs[0];
            if (other == NULL || other == v) return;
            if (c->bias == NULL && c->residual == NULL && may_bias && bias_shaped(anchor, other, y)) {
                c->bias = other;
            } else if (c->residual == NULL && float32_like(other, v)) {
                c->residual = other;
            } else {
                return;
            }
        } else if (!take_activation(c, n, v)) {
            return;
        }
        c->nodes[c->count++] = n;
        v = n->outputs[0];
    }
}

/* The bias as a [len] vector (broadcasting a single value), plus base (a
 * CONST [len] or NULL), as a new constant. */
static dlc_status bias_vector(dlc_graph *g, const dlc_node *anchor, const dlc_value *bias, const dlc_value *base,
                              int64_t len, dlc_value **out) {
    float *data = malloc((size_t)len * sizeof *data);
    if (data == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "fuse-epilogue: bias of %s", anchor->name);
    bool per_element = dlc_value_numel(bias) == len;
    for (int64_t i = 0; i < len; i++)
        data[i] = (float)((base != NULL ? dlc_const_element(base, i) : 0.0) + dlc_const_element(bias, per_element ? i : 0));
    char name[512];
    snprintf(name, sizeof name, "%s.epilogue_bias", anchor->outputs[0]->name);
    dlc_shape s = dlc_shape_make(1, &len);
    dlc_status st = dlc_graph_add_const(g, name, DLC_FLOAT32, &s, data, (size_t)len * sizeof *data, out);
    free(data);
    return st;
}

/* "Add+Add+Relu": the absorbed ops, in order; a SiLU's Sigmoid and Mul as
 * "SiLU", so that profiles tell it from fuse-elementwise's Sigmoid+Mul. */
static void chain_label(const chain *c, char *buf, size_t size) {
    buf[0] = '\0';
    int32_t plain = c->silu ? c->count - 2 : c->count;
    for (int32_t i = 0; i < plain + (c->silu ? 1 : 0); i++) {
        size_t used = strlen(buf);
        const char *op = i < plain ? c->nodes[i]->op_type : "SiLU";
        snprintf(buf + used, size - used, "%s%s", i > 0 ? "+" : "", op);
    }
}

static dlc_status fuse(dlc_graph *g, dlc_node *anchor, const chain *c) {
    const dlc_value *y = anchor->outputs[0];
    dlc_value *inputs[4] = {anchor->inputs[0], anchor->inputs[1], NULL, NULL};
    int32_t n_in = anchor->num_inputs;
    for (int32_t i = 2; i < n_in; i++) inputs[i] = anchor->inputs[i];
    bool set_beta = false;
    if (c->bias != NULL) {
        int64_t len = y->shape.dims[bias_axis(anchor, y)].value;
        DLC_TRY(bias_vector(g, anchor, c->bias, n_in > 2 ? inputs[2] : NULL, len, &inputs[2]));
        set_beta = is_op(anchor, "Gemm");
        if (n_in < 3) n_in = 3;
    }
    if (c->residual != NULL) {
        inputs[DLC_EPILOGUE_RESIDUAL] = c->residual;
        n_in = 4;
    }
    /* the anchor's attributes, then the epilogue's */
    dlc_attr *attrs = calloc((size_t)anchor->num_attrs + 4, sizeof *attrs);
    if (attrs == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "fuse-epilogue: %s", anchor->name);
    int32_t n_attrs = 0;
    for (int32_t a = 0; a < anchor->num_attrs; a++)
        if (!(set_beta && strcmp(anchor->attrs[a].name, "beta") == 0)) attrs[n_attrs++] = anchor->attrs[a];
    if (set_beta) attrs[n_attrs++] = (dlc_attr){.name = "beta", .type = DLC_ATTR_FLOAT, .f = 1.0};
    char label[128];
    chain_label(c, label, sizeof label);
    attrs[n_attrs++] = (dlc_attr){.name = DLC_EPILOGUE_ATTR, .type = DLC_ATTR_STRING, .s = label, .s_len = strlen(label)};
    double params[2] = {c->params[0], c->params[1]};
    if (c->act != NULL) {
        attrs[n_attrs++] = (dlc_attr){.name = DLC_ACTIVATION_ATTR, .type = DLC_ATTR_STRING, .s = (char *)c->act,
                                      .s_len = strlen(c->act)};
        if (c->num_params > 0)
            attrs[n_attrs++] = (dlc_attr){.name = DLC_ACTIVATION_PARAMS_ATTR, .type = DLC_ATTR_FLOATS,
                                          .floats = params, .count = c->num_params};
    }
    char *name = strdup(anchor->name);
    dlc_node *fresh = NULL;
    dlc_status st = name == NULL ? dlc_fail(DLC_ERR_OUT_OF_MEMORY, "fuse-epilogue: %s", anchor->name)
                                 : dlc_replace_node(g, c->nodes[c->count - 1], anchor->op_type, anchor->opset, n_in,
                                                    inputs, n_attrs, attrs, &fresh);
    free(attrs);
    if (st != DLC_OK) {
        free(name);
        return st;
    }
    free(fresh->name); /* the fused node is the anchor, by name */
    fresh->name = name;
    return DLC_OK;
}

static bool is_anchor(const dlc_node *n) {
    if (!(is_op(n, "Conv") || is_op(n, "Gemm") || is_op(n, "MatMul")) || n->num_outputs != 1) return false;
    if (dlc_node_attr(n, DLC_EPILOGUE_ATTR) != NULL) return false;
    const dlc_value *y = n->outputs[0];
    if (y == NULL || y->dtype != DLC_FLOAT32 || y->shape.rank < 1) return false;
    /* MatMul: matrices, so the bias runs along the output's columns */
    if (is_op(n, "MatMul")) {
        for (int32_t i = 0; i < 2; i++)
            if (n->inputs[i] == NULL || n->inputs[i]->shape.rank < 2) return false;
    }
    return true;
}

dlc_status dlc_pass_fuse_epilogue(dlc_graph *g, bool *out_changed) {
    *out_changed = false;
    /* Dead nodes would count as readers (sole_reader, num_uses): none from
     * the start, and each fusion removes the nodes it leaves dead, which
     * are the anchor (at i) and chain nodes after it, so position i then
     * holds the next node to look at. */
    dlc_graph_remove_dead(g);
    for (int32_t i = 0; i < g->num_nodes;) {
        dlc_node *anchor = g->nodes[i];
        chain c;
        if (is_anchor(anchor)) match_chain(g, anchor, &c);
        if (!is_anchor(anchor) || c.count == 0) {
            i++;
            continue;
        }
        DLC_TRY(fuse(g, anchor, &c));
        dlc_graph_remove_dead(g);
        *out_changed = true;
    }
    return DLC_OK;
}
