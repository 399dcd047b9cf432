/* Quantization ops: QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear,
 * MatMulInteger, QLinearMatMul, ConvInteger, QLinearConv: schema, shape
 * rules, lowering (kernels/quant.c documents the parameter layouts).
 *
 * Quantized tensors are uint8 or int8; scales are float (float32 before
 * opset 19). A scale or zero point with one element is per-tensor; a 1-D
 * one with more is per-axis (Quantize/DequantizeLinear), per output channel
 * (the convolutions' weights) or per row/column (the matmuls). */
#include <stdbool.h>
#include <string.h>

#include "ir/op_registry.h"
#include "ir/ops/spatial.h"
#include "runtime/status.h"

enum { MODE_PLAIN = 0, MODE_QLINEAR = 1 };

static bool is_quant(dlc_dtype t) { return t == DLC_UINT8 || t == DLC_INT8; }
static bool is_scale(dlc_dtype t) { return t == DLC_FLOAT32 || t == DLC_FLOAT16 || t == DLC_BFLOAT16; }

static dlc_value *input_at(const dlc_node *node, int32_t i) { return i < node->num_inputs ? node->inputs[i] : NULL; }

static dlc_status bad_dtype(const dlc_node *node, int32_t i, const char *role, const char *allowed) {
    char where[256];
    const dlc_value *v = node->inputs[i];
    return dlc_fail(DLC_ERR_DTYPE_MISMATCH, "node %s: %s ('%s', input %d) is %s, %s takes %s",
                    dlc_node_describe(node, where, sizeof where), role, v->name, i, dlc_dtype_name(v->dtype),
                    node->op_type, allowed);
}

static dlc_status require_quant(const dlc_node *node, int32_t i, const char *role) {
    const dlc_value *v = input_at(node, i);
    return v == NULL || is_quant(v->dtype) ? DLC_OK : bad_dtype(node, i, role, "uint8 or int8");
}
static dlc_status require_scale(const dlc_node *node, int32_t i, const char *role) {
    const dlc_value *v = input_at(node, i);
    if (v == NULL || v->dtype == DLC_FLOAT32 || (node->opset >= 19 && is_scale(v->dtype))) return DLC_OK;
    return bad_dtype(node, i, role, node->opset >= 19 ? "float32, float16 or bfloat16" : "float32");
}
/* A zero point shares its quantized tensor's dtype. */
static dlc_status require_same(const dlc_node *node, int32_t i, int32_t like, const char *role) {
    const dlc_value *v = input_at(node, i), *l = input_at(node, like);
    if (v == NULL || l == NULL || v->dtype == l->dtype) return DLC_OK;
    char where[256];
    return dlc_fail(DLC_ERR_DTYPE_MISMATCH, "node %s: %s ('%s') is %s but '%s' is %s",
                    dlc_node_describe(node, where, sizeof where), role, v->name, dlc_dtype_name(v->dtype), l->name,
                    dlc_dtype_name(l->dtype));
}

/* Scale/zero point: one value (any rank) or a 1-D vector of `count` values
 * (count < 0: unknown, anything 1-D is accepted). */
static dlc_status check_param(const dlc_graph *g, const dlc_node *node, int32_t i, const char *role, bool vector_ok,
                              int64_t count) {
    const dlc_value *v = input_at(node, i);
    if (v == NULL || v->shape.rank < 0) return DLC_OK;
    int64_t n = dlc_value_numel(v);
    if (n == 1) return DLC_OK;
    bool ok = vector_ok && v->shape.rank == 1 && (n < 0 || count < 0 || n == count);
    if (ok) return DLC_OK;
    char where[256], sv[160];
    if (vector_ok)
        return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: %s ('%s') has shape %s; expected one value or %lld values",
                        dlc_node_describe(node, where, sizeof where), role, v->name,
                        dlc_shape_format(g, &v->shape, sv, sizeof sv), (long long)count);
    return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: %s ('%s') has shape %s; expected a single value",
                    dlc_node_describe(node, where, sizeof where), role, v->name, dlc_shape_format(g, &v->shape, sv, sizeof sv));
}

static void set_output(dlc_node *node, int32_t o, dlc_dtype t, const dlc_shape *shape) {
    if (o >= node->num_outputs || node->outputs[o] == NULL) return;
    node->outputs[o]->dtype = t;
    node->outputs[o]->shape = *shape;
}

/* ---- QuantizeLinear / DequantizeLinear ------------------------------------------- */

/* The axis of a per-axis scale, or -1 for per-tensor. */
static dlc_status quant_axis(const dlc_graph *g, const dlc_node *node, int32_t *out_axis) {
    const dlc_value *x = node->inputs[0], *scale = node->inputs[1];
    *out_axis = -1;
    int64_t n = dlc_value_numel(scale);
    bool vector = scale->shape.rank == 1 && n != 1;
    if (!vector) return check_param(g, node, 1, "scale", false, 1);
    char where[256];
    if (node->opset < 13)
        return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: a per-axis scale needs opset 13",
                        dlc_node_describe(node, where, sizeof where));
    if (x->shape.rank < 0) return DLC_OK;
    DLC_TRY(dlc_normalize_axis(node, dlc_node_attr_int(node, "axis", 1), x->shape.rank, out_axis));
    dlc_dim c = x->shape.dims[*out_axis];
    int64_t count = dlc_dim_is_static(c) ? c.value : -1;
    DLC_TRY(check_param(g, node, 1, "scale", true, count));
    return check_param(g, node, 2, "zero point", true, count);
}

static dlc_status quantize_infer(dlc_graph *g, dlc_node *node) {
    const dlc_value *x = node->inputs[0], *zp = input_at(node, 2);
    bool x_ok = x->dtype == DLC_FLOAT32 || x->dtype == DLC_INT32 || (node->opset >= 19 && is_scale(x->dtype));
    if (!x_ok) return bad_dtype(node, 0, "x", node->opset >= 19 ? "float32/float16/bfloat16/int32" : "float32 or int32");
    DLC_TRY(require_scale(node, 1, "y_scale"));
    DLC_TRY(require_quant(node, 2, "y_zero_point"));
    int32_t axis;
    DLC_TRY(quant_axis(g, node, &axis));
    if (input_at(node, 2) != NULL && axis < 0) DLC_TRY(check_param(g, node, 2, "y_zero_point", false, 1));
    set_output(node, 0, zp != NULL ? zp->dtype : DLC_UINT8, &x->shape);
    return DLC_OK;
}

static dlc_status dequantize_infer(dlc_graph *g, dlc_node *node) {
    const dlc_value *x = node->inputs[0], *scale = node->inputs[1];
    if (!is_quant(x->dtype) && x->dtype != DLC_INT32) return bad_dtype(node, 0, "x", "uint8, int8 or int32");
    DLC_TRY(require_scale(node, 1, "x_scale"));
    DLC_TRY(require_same(node, 2, 0, "x_zero_point"));
    int32_t axis;
    DLC_TRY(quant_axis(g, node, &axis));
    if (input_at(node, 2) != NULL && axis < 0) DLC_TRY(check_param(g, node, 2, "x_zero_point", false, 1));
    set_output(node, 0, scale->dtype, &x->shape);
    return DLC_OK;
}

static dlc_status quant_lower_common(const dlc_graph *g, const dlc_node *node, dlc_kcall *call, const char *kernel) {
    int32_t axis;
    DLC_TRY(quant_axis(g, node, &axis));
    dlc_kcall_init(call, kernel);
    return dlc_kcall_push_int(call, axis);
}
static dlc_status quantize_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    return quant_lower_common(g, node, call, "quantize_linear");
}
static dlc_status dequantize_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    return quant_lower_common(g, node, call, "dequantize_linear");
}

/* ---- DynamicQuantizeLinear --------------------------------------------------------- */

static dlc_status dynq_infer(dlc_graph *g, dlc_node *node) {
    (void)g;
    const dlc_value *x = node->inputs[0];
    if (x->dtype != DLC_FLOAT32) return bad_dtype(node, 0, "x", "float32");
    dlc_shape scalar = {.rank = 0};
    set_output(node, 0, DLC_UINT8, &x->shape);
    set_output(node, 1, DLC_FLOAT32, &scalar);
    set_output(node, 2, DLC_UINT8, &scalar);
    return DLC_OK;
}

static dlc_status dynq_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    (void)g, (void)node;
    dlc_kcall_init(call, "dynamic_quantize_linear");
    return DLC_OK;
}

/* ---- MatMulInteger / QLinearMatMul ---------------------------------------------------- */

static bool dims_conflict(dlc_dim a, dlc_dim b) {
    return dlc_dim_is_static(a) && dlc_dim_is_static(b) && a.value != b.value;
}

/* numpy matmul shape of a and b into out. */
static dlc_status matmul_shape(const dlc_graph *g, const dlc_node *node, const dlc_value *a, const dlc_value *b,
                               dlc_shape *out) {
    char where[256], sa[160], sb[160];
    dlc_node_describe(node, where, sizeof where);
    if (a->shape.rank < 0 || b->shape.rank < 0) {
        out->rank = -1;
        return DLC_OK;
    }
    int32_t ra = a->shape.rank, rb = b->shape.rank;
    if (ra < 1 || rb < 1)
        return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: operands %s and %s must have rank >= 1", where,
                        dlc_shape_format(g, &a->shape, sa, sizeof sa), dlc_shape_format(g, &b->shape, sb, sizeof sb));
    if (dims_conflict(a->shape.dims[ra - 1], b->shape.dims[rb == 1 ? 0 : rb - 2]))
        return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: operands %s and %s disagree on the contracted dim", where,
                        dlc_shape_format(g, &a->shape, sa, sizeof sa), dlc_shape_format(g, &b->shape, sb, sizeof sb));
    dlc_shape batch_a = {.rank = ra > 2 ? ra - 2 : 0}, batch_b = {.rank = rb > 2 ? rb - 2 : 0}, batch;
    for (int32_t i = 0; i < batch_a.rank; i++) batch_a.dims[i] = a->shape.dims[i];
    for (int32_t i = 0; i < batch_b.rank; i++) batch_b.dims[i] = b->shape.dims[i];
    DLC_TRY(dlc_broadcast_shapes(g, node, &batch_a, &batch_b, &batch));
    int32_t rank = batch.rank + (ra > 1) + (rb > 1);
    if (rank > DLC_MAX_RANK)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: result rank %d exceeds %d", where, rank, DLC_MAX_RANK);
    *out = batch;
    out->rank = rank;
    int32_t r = batch.rank;
    if (ra > 1) out->dims[r++] = a->shape.dims[ra - 2];
    if (rb > 1) out->dims[r++] = b->shape.dims[rb - 1];
    return DLC_OK;
}

/* Per-row parameter of A: one value, M values, or A's batch dims x M (x 1). */
static dlc_status check_row_param(const dlc_graph *g, const dlc_node *node, int32_t i, int32_t of, bool columns,
                                  const char *role) {
    const dlc_value *v = input_at(node, i), *m = node->inputs[of];
    if (v == NULL || v->shape.rank < 0 || m->shape.rank < 0) return DLC_OK;
    int64_t n = dlc_value_numel(v), mn = dlc_value_numel(m);
    if (n == 1 || n < 0 || mn < 0) return DLC_OK;
    int32_t r = m->shape.rank;
    int64_t rows = columns ? (r >= 2 ? m->shape.dims[r - 1].value : 1) : (r >= 2 ? m->shape.dims[r - 2].value : 1);
    int64_t k = columns ? (r >= 2 ? m->shape.dims[r - 2].value : m->shape.dims[0].value) : m->shape.dims[r - 1].value;
    if (n == rows || (k > 0 && n == mn / k)) return DLC_OK;
    char where[256], sv[160], sm[160];
    return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: %s ('%s') %s fits neither per-tensor nor per-%s use with %s",
                    dlc_node_describe(node, where, sizeof where), role, v->name,
                    dlc_shape_format(g, &v->shape, sv, sizeof sv), columns ? "column" : "row",
                    dlc_shape_format(g, &m->shape, sm, sizeof sm));
}

static dlc_status matmul_integer_infer(dlc_graph *g, dlc_node *node) {
    DLC_TRY(require_quant(node, 0, "A"));
    DLC_TRY(require_quant(node, 1, "B"));
    DLC_TRY(require_same(node, 2, 0, "a_zero_point"));
    DLC_TRY(require_same(node, 3, 1, "b_zero_point"));
    DLC_TRY(check_row_param(g, node, 2, 0, false, "a_zero_point"));
    DLC_TRY(check_row_param(g, node, 3, 1, true, "b_zero_point"));
    dlc_shape out;
    DLC_TRY(matmul_shape(g, node, node->inputs[0], node->inputs[1], &out));
    set_output(node, 0, DLC_INT32, &out);
    return DLC_OK;
}

static dlc_status qlinear_matmul_infer(dlc_graph *g, dlc_node *node) {
    DLC_TRY(require_quant(node, 0, "a"));
    DLC_TRY(require_scale(node, 1, "a_scale"));
    DLC_TRY(require_same(node, 2, 0, "a_zero_point"));
    DLC_TRY(require_quant(node, 3, "b"));
    DLC_TRY(require_scale(node, 4, "b_scale"));
    DLC_TRY(require_same(node, 5, 3, "b_zero_point"));
    DLC_TRY(require_scale(node, 6, "y_scale"));
    DLC_TRY(require_quant(node, 7, "y_zero_point"));
    DLC_TRY(check_row_param(g, node, 1, 0, false, "a_scale"));
    DLC_TRY(check_row_param(g, node, 2, 0, false, "a_zero_point"));
    DLC_TRY(check_row_param(g, node, 4, 3, true, "b_scale"));
    DLC_TRY(check_row_param(g, node, 5, 3, true, "b_zero_point"));
    DLC_TRY(check_param(g, node, 6, "y_scale", false, 1));
    DLC_TRY(check_param(g, node, 7, "y_zero_point", false, 1));
    dlc_shape out;
    DLC_TRY(matmul_shape(g, node, node->inputs[0], node->inputs[3], &out));
    set_output(node, 0, node->inputs[7]->dtype, &out);
    return DLC_OK;
}

static dlc_status matmul_integer_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    (void)g;
    dlc_kcall_init(call, "matmul_integer");
    return dlc_kcall_push_int(call, strcmp(node->op_type, "QLinearMatMul") == 0 ? MODE_QLINEAR : MODE_PLAIN);
}

static int64_t matmul_flops(const dlc_node *node) {
    const dlc_value *a = node->inputs[0];
    int64_t yn = dlc_value_numel(node->outputs[0]);
    if (yn < 0 || a->shape.rank < 1) return -1;
    int64_t k = a->shape.dims[a->shape.rank - 1].value;
    return k < 0 ? -1 : 2 * yn * k;
}

/* ---- ConvInteger / QLinearConv ------------------------------------------------------- */

typedef struct conv_roles {
    int32_t x, w, x_zp, w_zp, x_scale, w_scale, y_scale, y_zp, bias; /* input indices, -1 absent */
} conv_roles;

static conv_roles roles_of(const dlc_node *node) {
    if (strcmp(node->op_type, "QLinearConv") == 0) return (conv_roles){0, 3, 2, 5, 1, 4, 6, 7, 8};
    return (conv_roles){0, 1, 2, 3, -1, -1, -1, -1, -1};
}

static dlc_status conv_geometry(const dlc_graph *g, const dlc_node *node, int64_t *group, dlc_window *win) {
    conv_roles r = roles_of(node);
    const dlc_value *x = node->inputs[r.x], *w = node->inputs[r.w];
    char where[256], sx[160], sw[160];
    dlc_node_describe(node, where, sizeof where);
    if (x->shape.rank < 3 || w->shape.rank != x->shape.rank || x->shape.rank > 5)
        return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: x %s and w %s must have the same rank, 3 to 5", where,
                        dlc_shape_format(g, &x->shape, sx, sizeof sx), dlc_shape_format(g, &w->shape, sw, sizeof sw));
    int32_t nsp = x->shape.rank - 2;
    int64_t kernel[DLC_MAX_RANK];
    for (int32_t i = 0; i < nsp; i++) {
        kernel[i] = w->shape.dims[2 + i].value;
        if (kernel[i] < 1)
            return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: weights w %s need static spatial dims", where,
                            dlc_shape_format(g, &w->shape, sw, sizeof sw));
    }
    *group = dlc_node_attr_int(node, "group", 1);
    if (*group < 1) return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: group %lld must be >= 1", where, (long long)*group);
    dlc_dim c = x->shape.dims[1], wc = w->shape.dims[1], m = w->shape.dims[0];
    if (dlc_dim_is_static(c) && dlc_dim_is_static(wc) && c.value != wc.value * *group)
        return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: x %s has %lld channels but w %s with group %lld expects %lld",
                        where, dlc_shape_format(g, &x->shape, sx, sizeof sx), (long long)c.value,
                        dlc_shape_format(g, &w->shape, sw, sizeof sw), (long long)*group, (long long)(wc.value * *group));
    if (dlc_dim_is_static(m) && m.value % *group != 0)
        return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: w %s has %lld output channels, not a multiple of group %lld",
                        where, dlc_shape_format(g, &w->shape, sw, sizeof sw), (long long)m.value, (long long)*group);
    int64_t channels = dlc_dim_is_static(m) ? m.value : -1;
    DLC_TRY(check_param(g, node, r.x_zp, "x_zero_point", false, 1));
    DLC_TRY(check_param(g, node, r.w_zp, "w_zero_point", true, channels));
    if (r.x_scale >= 0) {
        DLC_TRY(check_param(g, node, r.x_scale, "x_scale", false, 1));
        DLC_TRY(check_param(g, node, r.w_scale, "w_scale", true, channels));
        DLC_TRY(check_param(g, node, r.y_scale, "y_scale", false, 1));
        DLC_TRY(check_param(g, node, r.y_zp, "y_zero_point", false, 1));
        const dlc_value *b = input_at(node, r.bias);
        if (b != NULL && b->shape.rank >= 0 && (b->shape.rank != 1 || dims_conflict(b->shape.dims[0], m))) {
            char sb[160];
            return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: bias B %s must be 1-D with %lld values", where,
                            dlc_shape_format(g, &b->shape, sb, sizeof sb), (long long)channels);
        }
    }
    return dlc_window_read(node, nsp, kernel, true, win);
}

static dlc_status conv_integer_infer(dlc_graph *g, dlc_node *node) {
    conv_roles r = roles_of(node);
    DLC_TRY(require_quant(node, r.x, "x"));
    DLC_TRY(require_quant(node, r.w, "w"));
    DLC_TRY(require_same(node, r.x_zp, r.x, "x_zero_point"));
    DLC_TRY(require_same(node, r.w_zp, r.w, "w_zero_point"));
    dlc_dtype out_dtype = DLC_INT32;
    if (r.x_scale >= 0) {
        DLC_TRY(require_scale(node, r.x_scale, "x_scale"));
        DLC_TRY(require_scale(node, r.w_scale, "w_scale"));
        DLC_TRY(require_scale(node, r.y_scale, "y_scale"));
        DLC_TRY(require_quant(node, r.y_zp, "y_zero_point"));
        const dlc_value *b = input_at(node, r.bias);
        if (b != NULL && b->dtype != DLC_INT32) return bad_dtype(node, r.bias, "B", "int32");
        out_dtype = node->inputs[r.y_zp]->dtype;
    }
    dlc_value *y = node->outputs[0];
    y->dtype = out_dtype;
    const dlc_value *x = node->inputs[r.x], *w = node->inputs[r.w];
    if (x->shape.rank < 0 || w->shape.rank < 0) {
        y->shape.rank = -1;
        return DLC_OK;
    }
    int64_t group;
    dlc_window win;
    DLC_TRY(conv_geometry(g, node, &group, &win));
    return dlc_window_output_shape(g, node, &x->shape, &win, false, w->shape.dims[0], &y->shape);
}

static dlc_status conv_integer_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    int64_t group;
    dlc_window win;
    DLC_TRY(conv_geometry(g, node, &group, &win));
    const dlc_value *x = node->inputs[roles_of(node).x];
    for (int32_t d = 0; d < win.rank; d++) {
        int64_t size;
        DLC_TRY(dlc_window_output(g, node, &x->shape, &win, d, false, &size));
    }
    dlc_kcall_init(call, "conv_integer");
    DLC_TRY(dlc_kcall_push_int(call, strcmp(node->op_type, "QLinearConv") == 0 ? MODE_QLINEAR : MODE_PLAIN));
    DLC_TRY(dlc_kcall_push_int(call, group));
    return dlc_window_push(call, &win, false);
}

static int64_t conv_flops(const dlc_node *node) {
    const dlc_value *w = node->inputs[roles_of(node).w];
    int64_t yn = dlc_value_numel(node->outputs[0]), wn = dlc_value_numel(w);
    if (yn < 0 || wn < 0 || w->shape.rank < 1 || w->shape.dims[0].value <= 0) return -1;
    return 2 * yn * (wn / w->shape.dims[0].value);
}

const dlc_op_schema dlc_ops_quant[] = {
    {"QuantizeLinear", "", 10, 2, 3, 1, 1, quantize_infer, quantize_lower, NULL},
    {"DequantizeLinear", "", 10, 2, 3, 1, 1, dequantize_infer, dequantize_lower, NULL},
    {"DynamicQuantizeLinear", "", 11, 1, 1, 3, 3, dynq_infer, dynq_lower, NULL},
    {"MatMulInteger", "", 10, 2, 4, 1, 1, matmul_integer_infer, matmul_integer_lower, matmul_flops},
    {"QLinearMatMul", "", 10, 8, 8, 1, 1, qlinear_matmul_infer, matmul_integer_lower, matmul_flops},
    {"ConvInteger", "", 10, 2, 4, 1, 1, conv_integer_infer, conv_integer_lower, conv_flops},
    {"QLinearConv", "", 10, 8, 9, 1, 1, conv_integer_infer, conv_integer_lower, conv_flops},
    {0},
};
