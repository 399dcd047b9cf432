/* GELU fusion: the exported formulas
 *
 *     erf form:   0.5 * x * (1 + Erf(x / sqrt(2)))            (x * 0.7071… also)
 *     tanh form:  0.5 * x * (1 + Tanh(0.7978… * (x + 0.044715 * x^3)))
 *                 (x^3 as Pow(x, 3) or as x * (x * x) in any order)
 *
 * with the three factors multiplied in any order and grouping, become one
 * Gelu(x) (approximate "none" or "tanh"): one kernel instead of five to
 * eight. Every intermediate must be read only inside the pattern. */
#include <string.h>

#include "passes/pipeline.h"
#include "passes/rewrite.h"
#include "runtime/status.h"

#define SQRT1_2 0.70710678118654752440
#define SQRT_2_OVER_PI 0.79788456080286535588
#define RTOL 1e-4

static bool is_binary(const dlc_node *n, const char *op) {
    return n != NULL && n->domain[0] == '\0' && strcmp(n->op_type, op) == 0 && n->num_inputs == 2 &&
           n->inputs[0] != NULL && n->inputs[1] != NULL;
}

/* v = op(other, c) or op(c, other) (commutative ops) with c ≈ constant;
 * returns other, or NULL. */
static dlc_value *const_operand(const dlc_value *v, const char *op, double c, bool commutative) {
    dlc_node *n = dlc_producer_of(v, op);
    if (!is_binary(n, op) || !dlc_value_private(v, 1)) return NULL;
    if (dlc_const_scalar_near(n->inputs[1], c, RTOL)) return n->inputs[0];
    if (commutative && dlc_const_scalar_near(n->inputs[0], c, RTOL)) return n->inputs[1];
    return NULL;
}

/* x / sqrt(2) or x * (1/sqrt(2)): returns x. */
static dlc_value *scaled_by_rsqrt2(const dlc_value *v) {
    dlc_value *x = const_operand(v, "Div", 1.0 / SQRT1_2, false);
    return x != NULL ? x : const_operand(v, "Mul", SQRT1_2, true);
}

/* v = x^3 as Pow(x, 3), or as Mul(Mul(x, x), x) with the operands in either
 * order (torch.onnx writes HF's gelu_new x ** 3 / x * x * x that way). */
static bool is_cube_of(const dlc_value *v, const dlc_value *x) {
    if (!dlc_value_private(v, 1)) return false;
    dlc_node *pow = dlc_producer_of(v, "Pow");
    if (pow != NULL) return pow->inputs[0] == x && dlc_const_scalar_near(pow->inputs[1], 3.0, 0.0);
    dlc_node *mul = dlc_producer_of(v, "Mul");
    if (!is_binary(mul, "Mul")) return false;
    for (int side = 0; side < 2; side++) {
        dlc_value *sq = mul->inputs[1 - side];
        dlc_node *sq_mul = dlc_producer_of(sq, "Mul");
        if (mul->inputs[side] == x && is_binary(sq_mul, "Mul") && sq_mul->inputs[0] == x &&
            sq_mul->inputs[1] == x && dlc_value_private(sq, 1))
            return true;
    }
    return false;
}

/* 1 + Erf(x/√2) → x, "none"; 1 + Tanh(√(2/π)(x + 0.044715 x³)) → x, "tanh". */
static dlc_value *one_plus(const dlc_value *a, const char **approximate) {
    dlc_value *t = const_operand(a, "Add", 1.0, true);
    if (t == NULL || !dlc_value_private(t, 1)) return NULL;
    dlc_node *erf = dlc_producer_of(t, "Erf");
    if (erf != NULL) {
        *approximate = "none";
        return scaled_by_rsqrt2(erf->inputs[0]);
    }
    dlc_node *tanh = dlc_producer_of(t, "Tanh");
    if (tanh == NULL) return NULL;
    dlc_value *u = const_operand(tanh->inputs[0], "Mul", SQRT_2_OVER_PI, true);
    dlc_node *add = u != NULL ? dlc_producer_of(u, "Add") : NULL;
    if (!is_binary(add, "Add") || !dlc_value_private(u, 1)) return NULL;
    for (int side = 0; side < 2; side++) {
        dlc_value *x = add->inputs[side];
        dlc_value *cube = const_operand(add->inputs[1 - side], "Mul", 0.044715, true);
        if (cube != NULL && is_cube_of(cube, x)) {
            *approximate = "tanh";
            return x;
        }
    }
    return NULL;
}

/* Flattens the product at Mul node into up to 3 factors, expanding operands
 * that are private Mul results. */
static int32_t factors(const dlc_node *mul, dlc_value **out) {
    int32_t n = 0;
    for (int side = 0; side < 2; side++) {
        dlc_value *v = mul->inputs[side];
        dlc_node *inner = dlc_producer_of(v, "Mul");
        if (is_binary(inner, "Mul") && dlc_value_private(v, 1) && n + 2 <= 3) {
            out[n++] = inner->inputs[0];
            out[n++] = inner->inputs[1];
        } else if (n < 3) {
            out[n++] = v;
        } else {
            return -1;
        }
    }
    return n;
}

/* x when mul computes GELU of x. */
static dlc_value *match_gelu(dlc_node *mul, const char **approximate) {
    dlc_value *f[3];
    if (!is_binary(mul, "Mul") || factors(mul, f) != 3) return NULL;
    for (int half = 0; half < 3; half++) {
        if (!dlc_const_scalar_near(f[half], 0.5, RTOL)) continue;
        for (int a = 0; a < 3; a++) {
            if (a == half) continue;
            dlc_value *x = f[3 - half - a];
            if (one_plus(f[a], approximate) == x && x->dtype == DLC_FLOAT32 &&
                dlc_shape_equal(&x->shape, &mul->outputs[0]->shape))
                return x;
        }
    }
    return NULL;
}

dlc_status dlc_pass_fuse_gelu(dlc_graph *g, bool *out_changed) {
    *out_changed = false;
    dlc_graph_update_uses(g);
    for (int32_t i = 0; i < g->num_nodes; i++) {
        const char *approximate = "none";
        dlc_value *x = match_gelu(g->nodes[i], &approximate);
        if (x == NULL) continue;
        dlc_attr attr = {.name = "approximate", .type = DLC_ATTR_STRING, .s = (char *)approximate,
                         .s_len = strlen(approximate)};
        DLC_TRY(dlc_replace_node(g, g->nodes[i], "Gelu", 20, 1, &x, 1, &attr, NULL));
        *out_changed = true;
    }
    if (*out_changed) {
        bool removed;
        DLC_TRY(dlc_pass_dead_code(g, &removed));
    }
    return DLC_OK;
}
