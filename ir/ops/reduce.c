/* Reductions: Softmax/LogSoftmax/Hardmax, Reduce* and ArgMax/ArgMin.
 * Schema, dtype and shape rules, lowering to kernels/reduce.c (op codes and
 * parameter layouts: kernels/ew_ops.h). */
#include <stdbool.h>
#include <string.h>

#include "ir/op_registry.h"
#include "kernels/ew_ops.h"
#include "runtime/status.h"

static bool is_numeric(dlc_dtype t) {
    return dlc_dtype_is_float(t) || t == DLC_INT8 || t == DLC_INT16 || t == DLC_INT32 || t == DLC_INT64 || t == DLC_UINT8 ||
           t == DLC_UINT16 || t == DLC_UINT32 || t == DLC_UINT64;
}

static dlc_status check_input(const dlc_node *node, bool float_only) {
    const dlc_value *x = node->inputs[0];
    char where[256];
    if (node->num_outputs < 1 || node->outputs[0] == NULL)
        return dlc_fail(DLC_ERR_PARSE, "node %s: output 0 is missing", dlc_node_describe(node, where, sizeof where));
    if (float_only ? dlc_dtype_is_float(x->dtype) : is_numeric(x->dtype)) return DLC_OK;
    return dlc_fail(x->dtype == DLC_STRING ? DLC_ERR_UNSUPPORTED : DLC_ERR_DTYPE_MISMATCH,
                    "node %s: input 0 ('%s') is %s, %s takes %s types", dlc_node_describe(node, where, sizeof where),
                    x->name, dlc_dtype_name(x->dtype), node->op_type, float_only ? "float" : "numeric");
}

static dlc_status need_known_rank(const dlc_node *node) {
    if (node->inputs[0]->shape.rank >= 0) return DLC_OK;
    char where[256];
    return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: input '%s' has unknown rank",
                    dlc_node_describe(node, where, sizeof where), node->inputs[0]->name);
}

static int64_t input_numel(const dlc_node *node) {
    int64_t n = dlc_value_numel(node->inputs[0]);
    return n > 0 ? n : 0;
}

/* ---- Softmax, LogSoftmax, Hardmax ------------------------------------------
 * Before opset 13 the input is coerced to 2-D at axis (default 1): the
 * axis and every dim after it form one row. From 13, one axis (default -1). */

static dlc_status softmax_axis(const dlc_node *node, int32_t *out_axis) {
    int64_t axis = dlc_node_attr_int(node, "axis", node->opset < 13 ? 1 : -1);
    return dlc_normalize_axis(node, axis, node->inputs[0]->shape.rank, out_axis);
}

static dlc_status softmax_infer(dlc_graph *g, dlc_node *node) {
    (void)g;
    DLC_TRY(check_input(node, true));
    DLC_TRY(need_known_rank(node));
    int32_t axis;
    DLC_TRY(softmax_axis(node, &axis));
    node->outputs[0]->dtype = node->inputs[0]->dtype;
    node->outputs[0]->shape = node->inputs[0]->shape;
    return DLC_OK;
}

static dlc_status softmax_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    (void)g;
    int32_t axis;
    DLC_TRY(softmax_axis(node, &axis));
    int mode = strcmp(node->op_type, "LogSoftmax") == 0 ? DLC_LOG_SOFTMAX
               : strcmp(node->op_type, "Hardmax") == 0  ? DLC_HARDMAX
                                                        : DLC_SOFTMAX;
    dlc_kcall_init(call, "softmax");
    DLC_TRY(dlc_kcall_push_int(call, mode));
    DLC_TRY(dlc_kcall_push_int(call, axis));
    return dlc_kcall_push_int(call, node->opset < 13);
}

static int64_t softmax_flops(const dlc_node *node) { return 5 * input_numel(node); }

/* ---- Reduce* ------------------------------------------------------------------ */

static const struct {
    const char *op_type;
    int code;
} reduce_codes[] = {
    {"ReduceSum", DLC_RED_SUM},       {"ReduceMean", DLC_RED_MEAN},
    {"ReduceMax", DLC_RED_MAX},       {"ReduceMin", DLC_RED_MIN},
    {"ReduceProd", DLC_RED_PROD},     {"ReduceL1", DLC_RED_L1},
    {"ReduceL2", DLC_RED_L2},         {"ReduceLogSum", DLC_RED_LOG_SUM},
    {"ReduceLogSumExp", DLC_RED_LOG_SUM_EXP}, {"ReduceSumSquare", DLC_RED_SUM_SQUARE},
};

static int reduce_code(const dlc_node *node) {
    for (size_t i = 0; i < sizeof reduce_codes / sizeof reduce_codes[0]; i++)
        if (strcmp(reduce_codes[i].op_type, node->op_type) == 0) return reduce_codes[i].code;
    return -1;
}

/* Bit d set: axis d is reduced. Axes come from an attribute before the
 * opset that made them an input (13 for ReduceSum, 18 for the others); an
 * axes input must be constant. No axes: all of them, or none with
 * noop_with_empty_axes. */
static dlc_status reduce_mask(const dlc_node *node, int64_t *out_mask) {
    char where[256];
    int32_t rank = node->inputs[0]->shape.rank;
    bool axes_as_input = node->opset >= (reduce_code(node) == DLC_RED_SUM ? 13 : 18);
    int64_t axes[DLC_MAX_RANK];
    int32_t count = 0;
    if (axes_as_input) {
        if (node->num_inputs > 1 && node->inputs[1] != NULL) {
            const dlc_value *v = node->inputs[1];
            if (v->kind != DLC_VALUE_CONST)
                return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: axes input '%s' must be a constant",
                                dlc_node_describe(node, where, sizeof where), v->name);
            dlc_status st = dlc_value_const_ints(v, axes, DLC_MAX_RANK, &count);
            if (st != DLC_OK)
                return dlc_fail_context(st, "node %s", dlc_node_describe(node, where, sizeof where));
        }
    } else {
        if (node->num_inputs > 1)
            return dlc_fail(DLC_ERR_PARSE, "node %s: axes is an attribute before opset %d, not an input",
                            dlc_node_describe(node, where, sizeof where), reduce_code(node) == DLC_RED_SUM ? 13 : 18);
        const int64_t *attr = dlc_node_attr_ints(node, "axes", &count);
        if (count > DLC_MAX_RANK)
            return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: %d axes for rank %d",
                            dlc_node_describe(node, where, sizeof where), count, rank);
        for (int32_t i = 0; i < count; i++) axes[i] = attr[i];
    }
    int64_t mask = 0;
    if (count == 0) {
        if (dlc_node_attr_int(node, "noop_with_empty_axes", 0) == 0) mask = ((int64_t)1 << rank) - 1;
    }
    for (int32_t i = 0; i < count; i++) {
        int32_t axis;
        DLC_TRY(dlc_normalize_axis(node, axes[i], rank, &axis));
        if (mask & ((int64_t)1 << axis))
            return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: axis %lld repeated",
                            dlc_node_describe(node, where, sizeof where), (long long)axes[i]);
        mask |= (int64_t)1 << axis;
    }
    *out_mask = mask;
    return DLC_OK;
}

static dlc_shape reduced_shape(const dlc_shape *in, int64_t mask, bool keepdims) {
    dlc_shape out = {.rank = 0};
    for (int32_t d = 0; d < in->rank; d++) {
        if (!(mask & ((int64_t)1 << d))) out.dims[out.rank++] = in->dims[d];
        else if (keepdims) out.dims[out.rank++] = (dlc_dim){1, 0};
    }
    return out;
}

static dlc_status reduce_infer(dlc_graph *g, dlc_node *node) {
    (void)g;
    DLC_TRY(check_input(node, false));
    DLC_TRY(need_known_rank(node));
    int64_t mask;
    DLC_TRY(reduce_mask(node, &mask));
    bool keepdims = dlc_node_attr_int(node, "keepdims", 1) != 0;
    node->outputs[0]->dtype = node->inputs[0]->dtype;
    node->outputs[0]->shape = reduced_shape(&node->inputs[0]->shape, mask, keepdims);
    return DLC_OK;
}

static dlc_status reduce_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    (void)g;
    int64_t mask;
    DLC_TRY(reduce_mask(node, &mask));
    if (mask == 0 && node->inputs[0]->shape.rank > 0) { /* noop_with_empty_axes: the data as it is */
        dlc_kcall_init(call, "copy");
        return DLC_OK;
    }
    dlc_kcall_init(call, "reduce");
    DLC_TRY(dlc_kcall_push_int(call, reduce_code(node)));
    return dlc_kcall_push_int(call, mask);
}

static int64_t reduce_flops(const dlc_node *node) {
    int code = reduce_code(node);
    int64_t weight = code == DLC_RED_LOG_SUM_EXP ? 8 : code == DLC_RED_SUM_SQUARE || code == DLC_RED_L2 ? 2 : 1;
    return weight * input_numel(node);
}

/* ---- ArgMax, ArgMin ---------------------------------------------------------------- */

static dlc_status arg_infer(dlc_graph *g, dlc_node *node) {
    (void)g;
    DLC_TRY(check_input(node, false));
    DLC_TRY(need_known_rank(node));
    const dlc_shape *in = &node->inputs[0]->shape;
    int32_t axis;
    DLC_TRY(dlc_normalize_axis(node, dlc_node_attr_int(node, "axis", 0), in->rank, &axis));
    if (in->dims[axis].value == 0) {
        char where[256];
        return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: axis %d of '%s' is empty, no index to return",
                        dlc_node_describe(node, where, sizeof where), axis, node->inputs[0]->name);
    }
    node->outputs[0]->dtype = DLC_INT64;
    node->outputs[0]->shape = reduced_shape(in, (int64_t)1 << axis, dlc_node_attr_int(node, "keepdims", 1) != 0);
    return DLC_OK;
}

static dlc_status arg_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    (void)g;
    int32_t axis;
    DLC_TRY(dlc_normalize_axis(node, dlc_node_attr_int(node, "axis", 0), node->inputs[0]->shape.rank, &axis));
    dlc_kcall_init(call, "argreduce");
    DLC_TRY(dlc_kcall_push_int(call, strcmp(node->op_type, "ArgMin") == 0 ? DLC_ARG_MIN : DLC_ARG_MAX));
    DLC_TRY(dlc_kcall_push_int(call, axis));
    return dlc_kcall_push_int(call, dlc_node_attr_int(node, "select_last_index", 0) != 0);
}

static int64_t arg_flops(const dlc_node *node) { return input_numel(node); }

#define SOFTMAX(name, opset) {name, "", opset, 1, 1, 1, 1, softmax_infer, softmax_lower, softmax_flops}
#define REDUCE(name) {name, "", 1, 1, 2, 1, 1, reduce_infer, reduce_lower, reduce_flops, 1u << 1}
#define ARG(name) {name, "", 1, 1, 1, 1, 1, arg_infer, arg_lower, arg_flops}

const dlc_op_schema dlc_ops_reduce[] = {
    SOFTMAX("Softmax", 1), SOFTMAX("LogSoftmax", 1), SOFTMAX("Hardmax", 1),
    REDUCE("ReduceSum"), REDUCE("ReduceMean"), REDUCE("ReduceMax"), REDUCE("ReduceMin"), REDUCE("ReduceProd"),
    REDUCE("ReduceL1"), REDUCE("ReduceL2"), REDUCE("ReduceLogSum"), REDUCE("ReduceLogSumExp"),
    REDUCE("ReduceSumSquare"),
    ARG("ArgMax"), ARG("ArgMin"),
    {0},
};
