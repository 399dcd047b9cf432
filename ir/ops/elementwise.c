/* Elementwise ops: unary math and activations, broadcasting binary
 * arithmetic/comparison/logic, variadic Max/Min/Sum/Mean, Where, Clip and
 * Cast. Schema, dtype and shape rules, lowering to the kernels of
 * kernels/elementwise*.c (op codes and parameter layouts: kernels/ew_ops.h). */
#include <stdbool.h>
#include <string.h>

#include "ir/op_registry.h"
#include "kernels/ew_ops.h"
#include "runtime/status.h"

/* ---- dtype sets ---------------------------------------------------------- */
#define T_(d) (1u << (d))
#define T_FLOAT (T_(DLC_FLOAT32) | T_(DLC_FLOAT16) | T_(DLC_BFLOAT16) | T_(DLC_FLOAT64))
#define T_SINT (T_(DLC_INT8) | T_(DLC_INT16) | T_(DLC_INT32) | T_(DLC_INT64))
#define T_UINT (T_(DLC_UINT8) | T_(DLC_UINT16) | T_(DLC_UINT32) | T_(DLC_UINT64))
#define T_INT (T_SINT | T_UINT)
#define T_NUM (T_FLOAT | T_INT)
#define T_BOOL T_(DLC_BOOL)
#define T_ALL (T_NUM | T_BOOL)

enum ew_kind { K_UNARY, K_BINARY, K_COMPARE, K_VARIADIC };

/* One row per op: how it lowers and which dtypes it takes. Opset-dependent
 * dtype additions (e.g. integer Relu from 14) are accepted at every opset:
 * the kernels compute them the same way. */
typedef struct ew_info {
    const char *op_type;
    int kind;
    int code;
    uint32_t types;
} ew_info;

static const ew_info ew_table[] = {
    {"Relu", K_UNARY, DLC_UN_RELU, T_FLOAT | T_SINT},
    {"LeakyRelu", K_UNARY, DLC_UN_LEAKY_RELU, T_FLOAT},
    {"Sigmoid", K_UNARY, DLC_UN_SIGMOID, T_FLOAT},
    {"HardSigmoid", K_UNARY, DLC_UN_HARD_SIGMOID, T_FLOAT},
    {"HardSwish", K_UNARY, DLC_UN_HARD_SWISH, T_FLOAT},
    {"Tanh", K_UNARY, DLC_UN_TANH, T_FLOAT},
    {"Exp", K_UNARY, DLC_UN_EXP, T_FLOAT},
    {"Log", K_UNARY, DLC_UN_LOG, T_FLOAT},
    {"Sqrt", K_UNARY, DLC_UN_SQRT, T_FLOAT},
    {"Reciprocal", K_UNARY, DLC_UN_RECIPROCAL, T_FLOAT},
    {"Neg", K_UNARY, DLC_UN_NEG, T_FLOAT | T_SINT},
    {"Abs", K_UNARY, DLC_UN_ABS, T_NUM},
    {"Erf", K_UNARY, DLC_UN_ERF, T_FLOAT},
    {"Floor", K_UNARY, DLC_UN_FLOOR, T_FLOAT},
    {"Ceil", K_UNARY, DLC_UN_CEIL, T_FLOAT},
    {"Round", K_UNARY, DLC_UN_ROUND, T_FLOAT},
    {"Sign", K_UNARY, DLC_UN_SIGN, T_NUM},
    {"Sin", K_UNARY, DLC_UN_SIN, T_FLOAT},
    {"Cos", K_UNARY, DLC_UN_COS, T_FLOAT},
    {"Tan", K_UNARY, DLC_UN_TAN, T_FLOAT},
    {"Asin", K_UNARY, DLC_UN_ASIN, T_FLOAT},
    {"Acos", K_UNARY, DLC_UN_ACOS, T_FLOAT},
    {"Atan", K_UNARY, DLC_UN_ATAN, T_FLOAT},
    {"Sinh", K_UNARY, DLC_UN_SINH, T_FLOAT},
    {"Cosh", K_UNARY, DLC_UN_COSH, T_FLOAT},
    {"Asinh", K_UNARY, DLC_UN_ASINH, T_FLOAT},
    {"Acosh", K_UNARY, DLC_UN_ACOSH, T_FLOAT},
    {"Atanh", K_UNARY, DLC_UN_ATANH, T_FLOAT},
    {"Softplus", K_UNARY, DLC_UN_SOFTPLUS, T_FLOAT},
    {"Softsign", K_UNARY, DLC_UN_SOFTSIGN, T_FLOAT},
    {"Elu", K_UNARY, DLC_UN_ELU, T_FLOAT},
    {"Selu", K_UNARY, DLC_UN_SELU, T_FLOAT},
    {"Celu", K_UNARY, DLC_UN_CELU, T_FLOAT},
    {"Mish", K_UNARY, DLC_UN_MISH, T_FLOAT},
    {"Gelu", K_UNARY, DLC_UN_GELU, T_FLOAT},
    {"ThresholdedRelu", K_UNARY, DLC_UN_THRESHOLDED_RELU, T_FLOAT},
    {"Not", K_UNARY, DLC_UN_NOT, T_BOOL},
    {"IsNaN", K_UNARY, DLC_UN_ISNAN, T_FLOAT},
    {"IsInf", K_UNARY, DLC_UN_ISINF, T_FLOAT},
    {"BitwiseNot", K_UNARY, DLC_UN_BITWISE_NOT, T_INT},
    {"Add", K_BINARY, DLC_BIN_ADD, T_NUM},
    {"Sub", K_BINARY, DLC_BIN_SUB, T_NUM},
    {"Mul", K_BINARY, DLC_BIN_MUL, T_NUM},
    {"Div", K_BINARY, DLC_BIN_DIV, T_NUM},
    {"Pow", K_BINARY, DLC_BIN_POW, T_NUM},
    {"Mod", K_BINARY, DLC_BIN_MOD, T_NUM},
    {"PRelu", K_BINARY, DLC_BIN_PRELU, T_NUM},
    {"BitShift", K_BINARY, DLC_BIN_SHL, T_UINT},
    {"BitwiseAnd", K_BINARY, DLC_BIN_BITAND, T_INT},
    {"BitwiseOr", K_BINARY, DLC_BIN_BITOR, T_INT},
    {"BitwiseXor", K_BINARY, DLC_BIN_BITXOR, T_INT},
    {"Equal", K_COMPARE, DLC_BIN_EQUAL, T_ALL},
    {"Less", K_COMPARE, DLC_BIN_LESS, T_NUM},
    {"Greater", K_COMPARE, DLC_BIN_GREATER, T_NUM},
    {"LessOrEqual", K_COMPARE, DLC_BIN_LESS_EQUAL, T_NUM},
    {"GreaterOrEqual", K_COMPARE, DLC_BIN_GREATER_EQUAL, T_NUM},
    {"And", K_COMPARE, DLC_BIN_AND, T_BOOL},
    {"Or", K_COMPARE, DLC_BIN_OR, T_BOOL},
    {"Xor", K_COMPARE, DLC_BIN_XOR, T_BOOL},
    {"Max", K_VARIADIC, DLC_BIN_MAX, T_NUM},
    {"Min", K_VARIADIC, DLC_BIN_MIN, T_NUM},
    {"Sum", K_VARIADIC, DLC_BIN_ADD, T_FLOAT},
    {"Mean", K_VARIADIC, DLC_BIN_MEAN, T_FLOAT},
};

static const ew_info *info_of(const dlc_node *node) {
    for (size_t i = 0; i < sizeof ew_table / sizeof ew_table[0]; i++)
        if (strcmp(ew_table[i].op_type, node->op_type) == 0) return &ew_table[i];
    return NULL;
}

static bool dtype_in(dlc_dtype dt, uint32_t set) { return dt > 0 && dt < 32 && (set & T_(dt)) != 0; }

/* ---- shared checks ---------------------------------------------------- */

static dlc_status check_dtype(const dlc_node *node, int32_t input, uint32_t set) {
    const dlc_value *v = node->inputs[input];
    if (v == NULL || dtype_in(v->dtype, set)) return DLC_OK;
    char where[256];
    return dlc_fail(v->dtype == DLC_STRING || v->dtype == DLC_COMPLEX64 || v->dtype == DLC_COMPLEX128
                        ? DLC_ERR_UNSUPPORTED
                        : DLC_ERR_DTYPE_MISMATCH,
                    "node %s: input %d ('%s') is %s, which %s does not take",
                    dlc_node_describe(node, where, sizeof where), input, v->name, dlc_dtype_name(v->dtype),
                    node->op_type);
}

static dlc_status check_same_dtype(const dlc_node *node, int32_t input, int32_t like) {
    const dlc_value *v = node->inputs[input], *ref = node->inputs[like];
    if (v == NULL || ref == NULL || v->dtype == ref->dtype) return DLC_OK;
    char where[256];
    return dlc_fail(DLC_ERR_DTYPE_MISMATCH, "node %s: input %d ('%s') is %s but input %d ('%s') is %s",
                    dlc_node_describe(node, where, sizeof where), input, v->name, dlc_dtype_name(v->dtype), like,
                    ref->name, dlc_dtype_name(ref->dtype));
}

static dlc_status check_output(const dlc_node *node) {
    if (node->num_outputs >= 1 && node->outputs[0] != NULL) return DLC_OK;
    char where[256];
    return dlc_fail(DLC_ERR_PARSE, "node %s: output 0 is missing", dlc_node_describe(node, where, sizeof where));
}

static dlc_status attr_error(const dlc_node *node, const char *what) {
    char where[256];
    return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: %s", dlc_node_describe(node, where, sizeof where), what);
}

static void set_output(dlc_node *node, dlc_dtype dtype, const dlc_shape *shape) {
    node->outputs[0]->dtype = dtype;
    node->outputs[0]->shape = *shape;
}

static int64_t output_numel(const dlc_node *node) {
    int64_t n = node->num_outputs > 0 && node->outputs[0] ? dlc_value_numel(node->outputs[0]) : -1;
    return n > 0 ? n : 0;
}

/* ---- unary ---------------------------------------------------------------- */

static dlc_status unary_infer(dlc_graph *g, dlc_node *node) {
    (void)g;
    const ew_info *info = info_of(node);
    DLC_TRY(check_output(node));
    DLC_TRY(check_dtype(node, 0, info->types));
    if (strcmp(node->op_type, "Gelu") == 0) {
        const char *approx = dlc_node_attr_string(node, "approximate", "none");
        if (strcmp(approx, "none") != 0 && strcmp(approx, "tanh") != 0)
            return attr_error(node, "attribute approximate must be \"none\" or \"tanh\"");
    }
    if (strcmp(node->op_type, "Celu") == 0 && dlc_node_attr_float(node, "alpha", 1.0) == 0.0)
        return attr_error(node, "attribute alpha must not be 0");
    bool classify = info->code == DLC_UN_ISNAN || info->code == DLC_UN_ISINF;
    set_output(node, classify ? DLC_BOOL : node->inputs[0]->dtype, &node->inputs[0]->shape);
    return DLC_OK;
}

static dlc_status unary_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    (void)g;
    const ew_info *info = info_of(node);
    const char *op = node->op_type;
    int code = info->code;
    double alpha = 0.0, beta = 0.0;
    if (strcmp(op, "LeakyRelu") == 0) alpha = dlc_node_attr_float(node, "alpha", 0.01);
    else if (strcmp(op, "HardSigmoid") == 0) {
        alpha = dlc_node_attr_float(node, "alpha", 0.2);
        beta = dlc_node_attr_float(node, "beta", 0.5);
    } else if (strcmp(op, "Elu") == 0 || strcmp(op, "Celu") == 0 || strcmp(op, "ThresholdedRelu") == 0)
        alpha = dlc_node_attr_float(node, "alpha", 1.0);
    else if (strcmp(op, "Selu") == 0) {
        alpha = dlc_node_attr_float(node, "alpha", 1.67326319217681884765625);
        beta = dlc_node_attr_float(node, "gamma", 1.05070102214813232421875);
    } else if (strcmp(op, "Gelu") == 0 && strcmp(dlc_node_attr_string(node, "approximate", "none"), "tanh") == 0)
        code = DLC_UN_GELU_TANH;
    dlc_kcall_init(call, "unary");
    DLC_TRY(dlc_kcall_push_int(call, code));
    if (code == DLC_UN_ISINF) {
        DLC_TRY(dlc_kcall_push_int(call, dlc_node_attr_int(node, "detect_negative", 1) != 0));
        DLC_TRY(dlc_kcall_push_int(call, dlc_node_attr_int(node, "detect_positive", 1) != 0));
    }
    if (alpha != 0.0 || beta != 0.0) {
        DLC_TRY(dlc_kcall_push_float(call, alpha));
        DLC_TRY(dlc_kcall_push_float(call, beta));
    }
    return DLC_OK;
}

/* Transcendental functions cost several operations; a rough count keeps
 * profiles honest without pretending to precision. */
static int64_t unary_flops(const dlc_node *node) {
    const ew_info *info = info_of(node);
    int64_t weight = 1;
    switch (info ? info->code : -1) {
    case DLC_UN_RELU: case DLC_UN_NEG: case DLC_UN_ABS: case DLC_UN_NOT: case DLC_UN_ISNAN: case DLC_UN_ISINF:
    case DLC_UN_BITWISE_NOT: case DLC_UN_FLOOR: case DLC_UN_CEIL: case DLC_UN_ROUND: case DLC_UN_SIGN:
    case DLC_UN_LEAKY_RELU: case DLC_UN_THRESHOLDED_RELU: weight = 1; break;
    case DLC_UN_HARD_SIGMOID: case DLC_UN_HARD_SWISH: case DLC_UN_SOFTSIGN: case DLC_UN_RECIPROCAL:
    case DLC_UN_SQRT: weight = 3; break;
    case DLC_UN_MISH: case DLC_UN_GELU: weight = 12; break;
    default: weight = 8; break;
    }
    return weight * output_numel(node);
}

/* ---- binary ------------------------------------------------------------------ */

static dlc_status binary_infer(dlc_graph *g, dlc_node *node) {
    const ew_info *info = info_of(node);
    DLC_TRY(check_output(node));
    const dlc_value *a = node->inputs[0], *b = node->inputs[1];
    DLC_TRY(check_dtype(node, 0, info->types));
    if (info->code == DLC_BIN_POW) {
        DLC_TRY(check_dtype(node, 0, T_FLOAT | T_(DLC_INT32) | T_(DLC_INT64)));
        DLC_TRY(check_dtype(node, 1, T_NUM));
    } else {
        DLC_TRY(check_same_dtype(node, 1, 0));
    }
    if (info->code == DLC_BIN_MOD && dlc_node_attr_int(node, "fmod", 0) == 0 && dtype_in(a->dtype, T_FLOAT))
        return attr_error(node, "Mod of floating-point inputs needs fmod=1");
    if (info->code == DLC_BIN_SHL) {
        const char *direction = dlc_node_attr_string(node, "direction", "");
        if (strcmp(direction, "LEFT") != 0 && strcmp(direction, "RIGHT") != 0)
            return attr_error(node, "attribute direction must be \"LEFT\" or \"RIGHT\"");
    }
    dlc_shape out;
    DLC_TRY(dlc_broadcast_shapes(g, node, &a->shape, &b->shape, &out));
    if (info->code == DLC_BIN_PRELU && out.rank >= 0 && a->shape.rank >= 0) {
        /* slope broadcasts to X only (unidirectionally): the result keeps X's shape */
        bool grows = out.rank != a->shape.rank;
        for (int32_t d = 0; d < out.rank && !grows; d++)
            grows = dlc_dim_is_static(out.dims[d]) && out.dims[d].value != a->shape.dims[d].value;
        if (grows) {
            char where[256], sa[160], sb[160];
            return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: slope %s does not broadcast to X %s",
                            dlc_node_describe(node, where, sizeof where), dlc_shape_format(g, &b->shape, sb, sizeof sb),
                            dlc_shape_format(g, &a->shape, sa, sizeof sa));
        }
        out = a->shape;
    }
    set_output(node, info->kind == K_COMPARE ? DLC_BOOL : a->dtype, &out);
    return DLC_OK;
}

static dlc_status binary_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    (void)g;
    const ew_info *info = info_of(node);
    int code = info->code;
    if (code == DLC_BIN_MOD && dlc_node_attr_int(node, "fmod", 0) != 0) code = DLC_BIN_FMOD;
    if (code == DLC_BIN_SHL && strcmp(dlc_node_attr_string(node, "direction", ""), "RIGHT") == 0)
        code = DLC_BIN_SHR;
    dlc_kcall_init(call, "binary");
    return dlc_kcall_push_int(call, code);
}

static int64_t binary_flops(const dlc_node *node) {
    const ew_info *info = info_of(node);
    return (info && info->code == DLC_BIN_POW ? 8 : 1) * output_numel(node);
}

/* ---- variadic ------------------------------------------------------------- */

static dlc_status variadic_infer(dlc_graph *g, dlc_node *node) {
    const ew_info *info = info_of(node);
    DLC_TRY(check_output(node));
    uint32_t types = info->types;
    if ((info->code == DLC_BIN_MAX || info->code == DLC_BIN_MIN) && node->opset < 12) types = T_FLOAT;
    dlc_shape out = {.rank = 0};
    for (int32_t i = 0; i < node->num_inputs; i++) {
        if (node->inputs[i] == NULL) {
            char where[256];
            return dlc_fail(DLC_ERR_PARSE, "node %s: input %d is missing", dlc_node_describe(node, where, sizeof where), i);
        }
        DLC_TRY(check_dtype(node, i, types));
        DLC_TRY(check_same_dtype(node, i, 0));
        dlc_shape next;
        DLC_TRY(dlc_broadcast_shapes(g, node, &out, &node->inputs[i]->shape, &next));
        out = next;
    }
    set_output(node, node->inputs[0]->dtype, &out);
    return DLC_OK;
}

static dlc_status variadic_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    (void)g;
    dlc_kcall_init(call, "variadic");
    return dlc_kcall_push_int(call, info_of(node)->code);
}

static int64_t variadic_flops(const dlc_node *node) {
    int64_t steps = node->num_inputs > 1 ? node->num_inputs - 1 : 1;
    return steps * output_numel(node);
}

/* ---- Where -------------------------------------------------------------------- */

static dlc_status where_infer(dlc_graph *g, dlc_node *node) {
    DLC_TRY(check_output(node));
    DLC_TRY(check_dtype(node, 0, T_BOOL));
    DLC_TRY(check_dtype(node, 1, T_ALL));
    DLC_TRY(check_same_dtype(node, 2, 1));
    dlc_shape xy, out;
    DLC_TRY(dlc_broadcast_shapes(g, node, &node->inputs[1]->shape, &node->inputs[2]->shape, &xy));
    DLC_TRY(dlc_broadcast_shapes(g, node, &node->inputs[0]->shape, &xy, &out));
    set_output(node, node->inputs[1]->dtype, &out);
    return DLC_OK;
}

static dlc_status where_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    (void)g, (void)node;
    dlc_kcall_init(call, "where");
    return DLC_OK;
}

/* ---- Clip ------------------------------------------------------------------------ */

static dlc_status clip_infer(dlc_graph *g, dlc_node *node) {
    DLC_TRY(check_output(node));
    DLC_TRY(check_dtype(node, 0, node->opset < 12 ? T_FLOAT : T_NUM));
    if (node->opset < 11 && node->num_inputs > 1)
        return attr_error(node, "Clip before opset 11 takes min and max as attributes, not inputs");
    for (int32_t i = 1; i < node->num_inputs; i++) {
        const dlc_value *bound = node->inputs[i];
        if (bound == NULL) continue;
        DLC_TRY(check_same_dtype(node, i, 0));
        int64_t n = dlc_value_numel(bound);
        if (bound->shape.rank > 1 || n > 1 || n == 0) {
            char where[256], sb[160];
            return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: %s ('%s') must be a scalar, has shape %s",
                            dlc_node_describe(node, where, sizeof where), i == 1 ? "min" : "max", bound->name,
                            dlc_shape_format(g, &bound->shape, sb, sizeof sb));
        }
    }
    set_output(node, node->inputs[0]->dtype, &node->inputs[0]->shape);
    return DLC_OK;
}

static dlc_status clip_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    (void)g;
    dlc_kcall_init(call, "clip");
    /* attribute defaults are numeric_limits<float>::lowest()/max() */
    double lo = node->opset < 11 ? dlc_node_attr_float(node, "min", -3.4028234663852886e38) : -1.0 / 0.0;
    double hi = node->opset < 11 ? dlc_node_attr_float(node, "max", 3.4028234663852886e38) : 1.0 / 0.0;
    DLC_TRY(dlc_kcall_push_float(call, lo));
    return dlc_kcall_push_float(call, hi);
}

static int64_t two_per_element(const dlc_node *node) { return 2 * output_numel(node); }

/* ---- Cast ------------------------------------------------------------------------- */

static dlc_status cast_infer(dlc_graph *g, dlc_node *node) {
    (void)g;
    DLC_TRY(check_output(node));
    DLC_TRY(check_dtype(node, 0, T_ALL));
    if (dlc_node_attr(node, "to") == NULL) return attr_error(node, "attribute 'to' is required");
    int64_t to = dlc_node_attr_int(node, "to", 0);
    if (to < 0 || to >= 32 || !dtype_in((dlc_dtype)to, T_ALL)) {
        char where[256];
        return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: cast to %s (ONNX type %lld) is not supported",
                        dlc_node_describe(node, where, sizeof where),
                        to > 0 && to < 32 ? dlc_dtype_name((dlc_dtype)to) : "unknown", (long long)to);
    }
    set_output(node, (dlc_dtype)to, &node->inputs[0]->shape);
    return DLC_OK;
}

static dlc_status cast_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    (void)g, (void)node;
    dlc_kcall_init(call, "cast");
    return DLC_OK;
}

/* CastLike (opset 15): Cast to the dtype of input 1, whose values are unused. */
static dlc_status castlike_infer(dlc_graph *g, dlc_node *node) {
    (void)g;
    DLC_TRY(check_output(node));
    DLC_TRY(check_dtype(node, 0, T_ALL));
    DLC_TRY(check_dtype(node, 1, T_ALL));
    set_output(node, node->inputs[1]->dtype, &node->inputs[0]->shape);
    return DLC_OK;
}

#define UNARY(name, opset) {name, "", opset, 1, 1, 1, 1, unary_infer, unary_lower, unary_flops}
#define BINARY(name, opset) {name, "", opset, 2, 2, 1, 1, binary_infer, binary_lower, binary_flops}
#define VARIADIC(name, opset) {name, "", opset, 1, -1, 1, 1, variadic_infer, variadic_lower, variadic_flops}

const dlc_op_schema dlc_ops_elementwise[] = {
    UNARY("Relu", 6), UNARY("LeakyRelu", 6), UNARY("Sigmoid", 6), UNARY("HardSigmoid", 6),
    UNARY("HardSwish", 14), UNARY("Tanh", 6), UNARY("Exp", 6), UNARY("Log", 6), UNARY("Sqrt", 6),
    UNARY("Reciprocal", 6), UNARY("Neg", 6), UNARY("Abs", 6), UNARY("Erf", 9), UNARY("Floor", 6),
    UNARY("Ceil", 6), UNARY("Round", 11), UNARY("Sign", 9), UNARY("Sin", 7), UNARY("Cos", 7),
    UNARY("Tan", 7), UNARY("Asin", 7), UNARY("Acos", 7), UNARY("Atan", 7), UNARY("Sinh", 9),
    UNARY("Cosh", 9), UNARY("Asinh", 9), UNARY("Acosh", 9), UNARY("Atanh", 9), UNARY("Softplus", 1),
    UNARY("Softsign", 1), UNARY("Elu", 6), UNARY("Selu", 6), UNARY("Celu", 12), UNARY("Mish", 18),
    UNARY("Gelu", 20), UNARY("ThresholdedRelu", 10), UNARY("Not", 1), UNARY("IsNaN", 9),
    UNARY("IsInf", 10), UNARY("BitwiseNot", 18),
    BINARY("Add", 7), BINARY("Sub", 7), BINARY("Mul", 7), BINARY("Div", 7), BINARY("Pow", 7),
    BINARY("Mod", 10), BINARY("PRelu", 7), BINARY("BitShift", 11), BINARY("BitwiseAnd", 18),
    BINARY("BitwiseOr", 18), BINARY("BitwiseXor", 18), BINARY("Equal", 7), BINARY("Less", 7),
    BINARY("Greater", 7), BINARY("LessOrEqual", 12), BINARY("GreaterOrEqual", 12), BINARY("And", 7),
    BINARY("Or", 7), BINARY("Xor", 7),
    VARIADIC("Max", 6), VARIADIC("Min", 6), VARIADIC("Sum", 6), VARIADIC("Mean", 6),
    {"Where", "", 9, 3, 3, 1, 1, where_infer, where_lower, NULL},
    {"Clip", "", 6, 1, 3, 1, 1, clip_infer, clip_lower, two_per_element},
    {"Cast", "", 6, 1, 1, 1, 1, cast_infer, cast_lower, NULL},
    {"CastLike", "", 15, 2, 2, 1, 1, castlike_infer, cast_lower, NULL},
    {0},
};
