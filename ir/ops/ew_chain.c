/* dlc.ElementwiseChain(x0, ..., xn-1): a chain of float32 elementwise ops
 * run as one kernel (kernels/ew_chain.c), made by passes/fuse_elementwise.c.
 *
 * Attributes:
 *   program (ints): the instructions, DLC_CHAIN_WORDS words each, as
 *       kernels/ew_chain.h describes them;
 *   constants (floats, optional): the scalars and op parameters they name;
 *   dlc_chain (string): the fused ops, "Mul+Add+Sigmoid", for IR dumps and
 *       profiles (dlc_node_label);
 *   reduce (int, optional): a DLC_RED_* op (kernels/ew_ops.h) applied to the
 *       chain's result over its last reduce_axes (int) axes, keepdims (int,
 *       default 1) as ONNX's Reduce* take it; the kernel is then
 *       "ew_chain_reduce" (fuse-elementwise's reductions with their producers).
 * Every input is float32; the chain's result, float32, has their broadcast
 * shape, which is the output's without a reduction. */
#include <string.h>

#include "ir/op_registry.h"
#include "kernels/ew_chain.h"
#include "kernels/ew_ops.h"
#include "runtime/status.h"

static bool binary_op(int64_t op) {
    switch (op - DLC_CHAIN_BINARY) {
    case DLC_BIN_ADD: case DLC_BIN_SUB: case DLC_BIN_MUL: case DLC_BIN_DIV: case DLC_BIN_POW:
    case DLC_BIN_PRELU: case DLC_BIN_MAX: case DLC_BIN_MIN: return true;
    default: return false;
    }
}

static bool unary_op(int64_t op) {
    int64_t u = op - DLC_CHAIN_UNARY;
    return u >= 0 && u < DLC_UN_COUNT && u != DLC_UN_NOT && u != DLC_UN_ISNAN && u != DLC_UN_ISINF &&
           u != DLC_UN_BITWISE_NOT;
}

/* Operand x is an input, a register written before, or a constant. */
static bool operand_ok(int64_t x, int32_t num_in, const bool *written, int32_t num_consts) {
    if (x >= DLC_CHAIN_CONST) return x < DLC_CHAIN_CONST + num_consts;
    if (x >= DLC_CHAIN_REG) return x < DLC_CHAIN_REG + DLC_CHAIN_MAX_REGS && written[x - DLC_CHAIN_REG];
    return x >= DLC_CHAIN_IN && x < DLC_CHAIN_IN + num_in;
}

/* The program's first fault, or NULL. */
static const char *check_program(const dlc_node *node, int32_t *at) {
    int32_t n = 0, num_consts = 0;
    const int64_t *w = dlc_node_attr_ints(node, "program", &n);
    dlc_node_attr_floats(node, "constants", &num_consts);
    *at = -1;
    if (w == NULL || n == 0 || n % DLC_CHAIN_WORDS != 0 || n / DLC_CHAIN_WORDS > DLC_CHAIN_MAX_INSTR)
        return "attribute program must hold 1 to 16 instructions of 5 words";
    if (num_consts > DLC_CHAIN_MAX_FLOATS) return "attribute constants holds more than 32 values";
    bool written[DLC_CHAIN_MAX_REGS] = {false};
    int32_t count = n / DLC_CHAIN_WORDS;
    for (int32_t k = 0; k < count; k++, w += DLC_CHAIN_WORDS) {
        *at = k;
        int64_t op = w[0], dst = w[1], a = w[2], b = w[3], param = w[4];
        bool binary = binary_op(op), clip = op == DLC_CHAIN_CLIP;
        if (!binary && !clip && !unary_op(op)) return "unknown op";
        if (!operand_ok(a, node->num_inputs, written, num_consts)) return "operand a is out of range or unwritten";
        if (binary ? !operand_ok(b, node->num_inputs, written, num_consts) : b != -1)
            return "operand b is out of range or unwritten (or given to a unary op)";
        int64_t params = clip || (!binary && param >= 0) ? 2 : 0;
        if (params > 0 && (param < 0 || param + params > num_consts)) return "parameter index out of range";
        if (k == count - 1 ? dst != -1 : dst < 0 || dst >= DLC_CHAIN_MAX_REGS)
            return "destination must be a register, and the output (-1) for the last instruction only";
        if (dst >= 0) written[dst] = true;
    }
    return NULL;
}

static dlc_status chain_infer(dlc_graph *g, dlc_node *node) {
    char where[256];
    dlc_node_describe(node, where, sizeof where);
    if (node->num_inputs > DLC_CHAIN_MAX_IN)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: %d inputs, at most %d", where, node->num_inputs,
                        DLC_CHAIN_MAX_IN);
    dlc_shape out = {.rank = 0};
    for (int32_t i = 0; i < node->num_inputs; i++) {
        const dlc_value *x = node->inputs[i];
        if (x == NULL || x->dtype != DLC_FLOAT32)
            return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: input %d is %s, only float32 is supported", where, i,
                            x == NULL ? "missing" : dlc_dtype_name(x->dtype));
        dlc_shape next;
        DLC_TRY(dlc_broadcast_shapes(g, node, &out, &x->shape, &next));
        out = next;
    }
    int32_t at;
    const char *fault = check_program(node, &at);
    if (fault != NULL)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: program instruction %d: %s", where, at, fault);
    int64_t op = dlc_node_attr_int(node, "reduce", -1);
    if (op >= 0) {
        int64_t axes = dlc_node_attr_int(node, "reduce_axes", 0);
        if (op >= DLC_RED_COUNT || axes < 1 || axes > out.rank)
            return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: reduce %lld over the last %lld of %d axes", where,
                            (long long)op, (long long)axes, out.rank);
        bool keepdims = dlc_node_attr_int(node, "keepdims", 1) != 0;
        if (!keepdims) out.rank -= (int32_t)axes;
        else
            for (int32_t d = out.rank - (int32_t)axes; d < out.rank; d++) out.dims[d] = (dlc_dim){1, 0};
    }
    node->outputs[0]->dtype = DLC_FLOAT32;
    node->outputs[0]->shape = out;
    return DLC_OK;
}

/* ints: count, then the program; floats: the constants. */
static dlc_status chain_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    (void)g;
    int32_t n = 0, num_consts = 0;
    const int64_t *w = dlc_node_attr_ints(node, "program", &n);
    const double *consts = dlc_node_attr_floats(node, "constants", &num_consts);
    int64_t op = dlc_node_attr_int(node, "reduce", -1);
    dlc_kcall_init(call, op >= 0 ? "ew_chain_reduce" : "ew_chain");
    DLC_TRY(dlc_kcall_push_int(call, n / DLC_CHAIN_WORDS));
    DLC_TRY(dlc_kcall_push_ints(call, w, n));
    if (op >= 0) {
        DLC_TRY(dlc_kcall_push_int(call, op));
        DLC_TRY(dlc_kcall_push_int(call, dlc_node_attr_int(node, "reduce_axes", 0)));
    }
    for (int32_t c = 0; c < num_consts; c++) DLC_TRY(dlc_kcall_push_float(call, consts[c]));
    return DLC_OK;
}

/* Elements of the inputs' broadcast shape (the output's, without a
 * reduction); -1 when a size is unknown. */
static int64_t chain_numel(const dlc_node *node) {
    int32_t rank = 0;
    for (int32_t i = 0; i < node->num_inputs; i++)
        if (node->inputs[i]->shape.rank > rank) rank = node->inputs[i]->shape.rank;
    int64_t numel = 1;
    for (int32_t d = 0; d < rank; d++) {
        int64_t size = 1;
        for (int32_t i = 0; i < node->num_inputs; i++) {
            const dlc_shape *s = &node->inputs[i]->shape;
            int32_t e = d - (rank - s->rank);
            if (e >= 0 && s->dims[e].value != 1) size = s->dims[e].value;
        }
        if (size < 0) return -1;
        numel *= size;
    }
    return numel;
}

/* The unfused ops' estimates: transcendental functions ~8, Pow 8, the rest
 * 1-3; a reduction 1 (LogSumExp 8) per element reduced. */
static int64_t chain_flops(const dlc_node *node) {
    int64_t numel = chain_numel(node), red = dlc_node_attr_int(node, "reduce", -1);
    int64_t per = red < 0 ? 0 : red == DLC_RED_LOG_SUM_EXP ? 8 : 1;
    if (numel < 0) return -1;
    int32_t n = 0;
    const int64_t *w = dlc_node_attr_ints(node, "program", &n);
    for (int32_t k = 0; k + DLC_CHAIN_WORDS <= n; k += DLC_CHAIN_WORDS) {
        int64_t op = w[k];
        if (op == DLC_CHAIN_CLIP) per += 2;
        else if (op >= DLC_CHAIN_BINARY) per += op - DLC_CHAIN_BINARY == DLC_BIN_POW ? 8 : 1;
        else switch (op - DLC_CHAIN_UNARY) {
            case DLC_UN_RELU: case DLC_UN_NEG: case DLC_UN_ABS: case DLC_UN_FLOOR: case DLC_UN_CEIL:
            case DLC_UN_ROUND: case DLC_UN_SIGN: case DLC_UN_LEAKY_RELU: case DLC_UN_THRESHOLDED_RELU: per += 1; break;
            case DLC_UN_HARD_SIGMOID: case DLC_UN_HARD_SWISH: case DLC_UN_SOFTSIGN: case DLC_UN_RECIPROCAL:
            case DLC_UN_SQRT: per += 3; break;
            case DLC_UN_MISH: case DLC_UN_GELU: per += 12; break;
            default: per += 8; break;
            }
    }
    return per * numel;
}

const dlc_op_schema dlc_ops_ew_chain[] = {
    {"ElementwiseChain", "dlc", 1, 1, DLC_CHAIN_MAX_IN, 1, 1, chain_infer, chain_lower, chain_flops},
    {0},
};
