/* RNN, GRU, LSTM (opsets 7 and 14): schema, shape rules, lowering to the
 * one "rnn" kernel (kernels/rnn.c documents the parameter layout).
 *
 * Activation names become small codes here, alpha/beta are resolved to
 * explicit values (defaults of the ONNX activation ops, consumed in order by
 * the activations that take them, as ONNX Runtime does) and a list given for
 * one direction of a bidirectional node is repeated for the other, so the
 * kernel sees exactly one (code, alpha, beta) per activation slot. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ir/op_registry.h"
#include "runtime/status.h"

enum { CELL_RNN = 0, CELL_GRU = 1, CELL_LSTM = 2 };

/* Must match kernels/rnn.c. */
enum {
    ACT_SIGMOID, ACT_TANH, ACT_RELU, ACT_HARD_SIGMOID, ACT_LEAKY_RELU, ACT_THRESHOLDED_RELU,
    ACT_SCALED_TANH, ACT_AFFINE, ACT_ELU, ACT_SOFTSIGN, ACT_SOFTPLUS,
};

typedef struct act_info {
    const char *name;
    int32_t code;
    int32_t num_params; /* how many of alpha, beta it consumes */
    double alpha, beta; /* defaults */
} act_info;

static const act_info activations[] = {
    {"Sigmoid", ACT_SIGMOID, 0, 0, 0},
    {"Tanh", ACT_TANH, 0, 0, 0},
    {"Relu", ACT_RELU, 0, 0, 0},
    {"HardSigmoid", ACT_HARD_SIGMOID, 2, 0.2, 0.5},
    {"LeakyRelu", ACT_LEAKY_RELU, 1, 0.01, 0},
    {"ThresholdedRelu", ACT_THRESHOLDED_RELU, 1, 1.0, 0},
    {"ScaledTanh", ACT_SCALED_TANH, 2, 1.0, 1.0},
    {"Affine", ACT_AFFINE, 2, 1.0, 0.0},
    {"Elu", ACT_ELU, 1, 1.0, 0},
    {"Softsign", ACT_SOFTSIGN, 0, 0, 0},
    {"Softplus", ACT_SOFTPLUS, 0, 0, 0},
};

static int32_t cell_of(const dlc_node *node) {
    if (strcmp(node->op_type, "GRU") == 0) return CELL_GRU;
    if (strcmp(node->op_type, "LSTM") == 0) return CELL_LSTM;
    return CELL_RNN;
}
static int64_t gates_of(int32_t cell) { return cell == CELL_LSTM ? 4 : cell == CELL_GRU ? 3 : 1; }
static int32_t acts_per_direction(int32_t cell) { return cell == CELL_LSTM ? 3 : cell == CELL_GRU ? 2 : 1; }

static const char *where_of(const dlc_node *node, char *buf, size_t size) { return dlc_node_describe(node, buf, size); }

/* 0 forward, 1 reverse, 2 bidirectional. */
static dlc_status direction_of(const dlc_node *node, int32_t *out) {
    const char *d = dlc_node_attr_string(node, "direction", "forward");
    if (strcmp(d, "forward") == 0) *out = 0;
    else if (strcmp(d, "reverse") == 0) *out = 1;
    else if (strcmp(d, "bidirectional") == 0) *out = 2;
    else {
        char where[256];
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: direction '%s' is not forward, reverse or bidirectional",
                        where_of(node, where, sizeof where), d);
    }
    return DLC_OK;
}

static int64_t layout_of(const dlc_node *node) { return node->opset >= 14 ? dlc_node_attr_int(node, "layout", 0) : 0; }

static dlc_value *input_at(const dlc_node *node, int32_t i) { return i < node->num_inputs ? node->inputs[i] : NULL; }

/* Checks one operand against its expected dims (-1: anything). */
static dlc_status check_operand(const dlc_graph *g, const dlc_node *node, int32_t index, const char *role,
                                int32_t rank, const int64_t *dims) {
    const dlc_value *v = input_at(node, index);
    if (v == NULL || v->shape.rank < 0) return DLC_OK;
    bool ok = v->shape.rank == rank;
    for (int32_t i = 0; ok && i < rank; i++)
        ok = dims[i] < 0 || !dlc_dim_is_static(v->shape.dims[i]) || v->shape.dims[i].value == dims[i];
    if (ok) return DLC_OK;
    char where[256], sv[160], want[160];
    int n = snprintf(want, sizeof want, "[");
    for (int32_t i = 0; i < rank && n < (int)sizeof want; i++)
        n += dims[i] < 0 ? snprintf(want + n, sizeof want - (size_t)n, "%s?", i ? "," : "")
                         : snprintf(want + n, sizeof want - (size_t)n, "%s%lld", i ? "," : "", (long long)dims[i]);
    if (n < (int)sizeof want) snprintf(want + n, sizeof want - (size_t)n, "]");
    return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: %s ('%s') has shape %s, expected %s", where_of(node, where, sizeof where),
                    role, v->name, dlc_shape_format(g, &v->shape, sv, sizeof sv), want);
}

static int64_t static_or(dlc_dim d) { return dlc_dim_is_static(d) ? d.value : -1; }

static dlc_status rnn_infer(dlc_graph *g, dlc_node *node) {
    char where[256];
    where_of(node, where, sizeof where);
    int32_t cell = cell_of(node), direction;
    DLC_TRY(direction_of(node, &direction));
    int64_t layout = layout_of(node);
    if (layout != 0 && layout != 1)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: layout must be 0 or 1, got %lld", where, (long long)layout);
    const dlc_value *x = node->inputs[0], *r = node->inputs[2];
    for (int32_t i = 0; i < node->num_inputs; i++) {
        const dlc_value *v = node->inputs[i];
        if (v == NULL) continue;
        if (i == 4) {
            if (v->dtype != DLC_INT32)
                return dlc_fail(DLC_ERR_DTYPE_MISMATCH, "node %s: sequence_lens ('%s') is %s, must be int32", where,
                                v->name, dlc_dtype_name(v->dtype));
            continue;
        }
        if (!dlc_dtype_is_float(v->dtype) || v->dtype != x->dtype)
            return dlc_fail(DLC_ERR_DTYPE_MISMATCH, "node %s: input %d ('%s') is %s; %s needs float inputs of X's dtype (%s)",
                            where, i, v->name, dlc_dtype_name(v->dtype), node->op_type, dlc_dtype_name(x->dtype));
    }
    int64_t num_dir = direction == 2 ? 2 : 1, G = gates_of(cell);
    int64_t hidden = dlc_node_attr_int(node, "hidden_size", -1);
    if (hidden < 0 && r->shape.rank == 3) hidden = static_or(r->shape.dims[2]);
    if (dlc_node_attr(node, "hidden_size") != NULL && hidden < 1)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: hidden_size must be >= 1, got %lld", where, (long long)hidden);
    if (x->shape.rank >= 0 && x->shape.rank != 3) {
        char sx[160];
        return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "node %s: X %s must have rank 3", where,
                        dlc_shape_format(g, &x->shape, sx, sizeof sx));
    }
    dlc_dim seq = {-1, 0}, batch = {-1, 0}, hid = {hidden, 0};
    bool known = x->shape.rank == 3;
    if (known) {
        seq = x->shape.dims[layout == 0 ? 0 : 1];
        batch = x->shape.dims[layout == 0 ? 1 : 0];
    }
    int64_t input_size = known ? static_or(x->shape.dims[2]) : -1, b = static_or(batch);
    int64_t gh = hidden >= 0 ? G * hidden : -1;
    DLC_TRY(check_operand(g, node, 1, "W", 3, (int64_t[]){num_dir, gh, input_size}));
    DLC_TRY(check_operand(g, node, 2, "R", 3, (int64_t[]){num_dir, gh, hidden}));
    DLC_TRY(check_operand(g, node, 3, "B", 2, (int64_t[]){num_dir, gh >= 0 ? 2 * gh : -1}));
    DLC_TRY(check_operand(g, node, 4, "sequence_lens", 1, (int64_t[]){b}));
    int64_t state_dims[3] = {num_dir, b, hidden};
    if (layout == 1) state_dims[0] = b, state_dims[1] = num_dir;
    DLC_TRY(check_operand(g, node, 5, "initial_h", 3, state_dims));
    if (cell == CELL_LSTM) {
        DLC_TRY(check_operand(g, node, 6, "initial_c", 3, state_dims));
        DLC_TRY(check_operand(g, node, 7, "P", 2, (int64_t[]){num_dir, hidden >= 0 ? 3 * hidden : -1}));
    }
    if (hidden < 0)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: hidden_size is not given and R's shape is unknown", where);
    /* activations: validated here so lowering cannot fail on them */
    int32_t count = 0;
    const dlc_attr *acts = dlc_node_attr(node, "activations");
    if (acts != NULL) {
        count = acts->count;
        int32_t per = acts_per_direction(cell);
        if (count != per && count != per * (int32_t)num_dir)
            return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: %d activations given, %s takes %d per direction", where,
                            count, node->op_type, per);
        for (int32_t i = 0; i < count; i++) {
            bool found = false;
            for (size_t k = 0; k < sizeof activations / sizeof activations[0]; k++)
                found |= strcasecmp(acts->strings[i], activations[k].name) == 0;
            if (!found)
                return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: activation '%s' is not supported", where, acts->strings[i]);
        }
    }
    dlc_dtype t = x->dtype;
    dlc_value *y = node->num_outputs > 0 ? node->outputs[0] : NULL;
    if (y != NULL) {
        y->dtype = t;
        y->shape = layout == 0 ? (dlc_shape){.rank = 4, .dims = {seq, {num_dir, 0}, batch, hid}}
                               : (dlc_shape){.rank = 4, .dims = {batch, seq, {num_dir, 0}, hid}};
        if (!known) y->shape.rank = -1;
    }
    for (int32_t o = 1; o < node->num_outputs; o++) {
        dlc_value *s = node->outputs[o];
        if (s == NULL) continue;
        s->dtype = t;
        s->shape = layout == 0 ? (dlc_shape){.rank = 3, .dims = {{num_dir, 0}, batch, hid}}
                               : (dlc_shape){.rank = 3, .dims = {batch, {num_dir, 0}, hid}};
        if (!known) s->shape.rank = -1;
    }
    return DLC_OK;
}

static const act_info *find_activation(const char *name) {
    for (size_t k = 0; k < sizeof activations / sizeof activations[0]; k++)
        if (strcasecmp(name, activations[k].name) == 0) return &activations[k];
    return NULL;
}

static dlc_status rnn_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    (void)g;
    int32_t cell = cell_of(node), direction;
    DLC_TRY(direction_of(node, &direction));
    int32_t num_dir = direction == 2 ? 2 : 1, per = acts_per_direction(cell);
    const dlc_value *r = node->inputs[2];
    int64_t hidden = dlc_node_attr_int(node, "hidden_size", r->shape.rank == 3 ? r->shape.dims[2].value : -1);
    const char *defaults[3][3] = {{"Tanh"}, {"Sigmoid", "Tanh"}, {"Sigmoid", "Tanh", "Tanh"}};
    const dlc_attr *acts = dlc_node_attr(node, "activations");
    int32_t num_alpha = 0, num_beta = 0;
    const double *alphas = dlc_node_attr_floats(node, "activation_alpha", &num_alpha);
    const double *betas = dlc_node_attr_floats(node, "activation_beta", &num_beta);
    bool has_clip = dlc_node_attr(node, "clip") != NULL;

    dlc_kcall_init(call, "rnn");
    DLC_TRY(dlc_kcall_push_int(call, cell));
    DLC_TRY(dlc_kcall_push_int(call, direction));
    DLC_TRY(dlc_kcall_push_int(call, layout_of(node)));
    DLC_TRY(dlc_kcall_push_int(call, hidden));
    DLC_TRY(dlc_kcall_push_int(call, cell == CELL_GRU && dlc_node_attr_int(node, "linear_before_reset", 0) != 0));
    DLC_TRY(dlc_kcall_push_int(call, cell == CELL_LSTM && dlc_node_attr_int(node, "input_forget", 0) != 0));
    DLC_TRY(dlc_kcall_push_int(call, has_clip));
    DLC_TRY(dlc_kcall_push_float(call, has_clip ? dlc_node_attr_float(node, "clip", 0.0) : 0.0));
    int32_t next_alpha = 0, next_beta = 0;
    for (int32_t i = 0; i < num_dir * per; i++) {
        const char *name = defaults[cell][i % per];
        if (acts != NULL) name = acts->strings[acts->count == per ? i % per : i];
        const act_info *a = find_activation(name);
        if (a == NULL) {
            char where[256];
            return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: activation '%s' is not supported",
                            where_of(node, where, sizeof where), name);
        }
        double alpha = a->alpha, beta = a->beta;
        /* a list for one direction is reused for the other: restart its parameters too */
        if (acts != NULL && acts->count == per && i == per) next_alpha = next_beta = 0;
        if (a->num_params >= 1 && next_alpha < num_alpha) alpha = alphas[next_alpha++];
        if (a->num_params >= 2 && next_beta < num_beta) beta = betas[next_beta++];
        DLC_TRY(dlc_kcall_push_int(call, a->code));
        DLC_TRY(dlc_kcall_push_float(call, alpha));
        DLC_TRY(dlc_kcall_push_float(call, beta));
    }
    return DLC_OK;
}

/* Two multiply-adds per weight per step and batch row, plus the gate math. */
static int64_t rnn_flops(const dlc_node *node) {
    const dlc_value *x = node->inputs[0], *w = node->inputs[1], *r = node->inputs[2];
    int64_t xn = dlc_value_numel(x), wn = dlc_value_numel(w), rn = dlc_value_numel(r);
    if (xn < 0 || wn < 0 || rn < 0 || x->shape.rank != 3 || w->shape.rank != 3) return -1;
    int64_t input_size = x->shape.dims[2].value, num_dir = w->shape.dims[0].value;
    if (input_size <= 0 || num_dir <= 0) return 0;
    int64_t rows = xn / input_size; /* seq * batch */
    int64_t gh = wn / num_dir / input_size;
    return 2 * rows * (wn + rn) + 8 * rows * gh * num_dir;
}

const dlc_op_schema dlc_ops_rnn[] = {
    {"RNN", "", 7, 3, 6, 0, 2, rnn_infer, rnn_lower, rnn_flops},
    {"GRU", "", 7, 3, 6, 0, 2, rnn_infer, rnn_lower, rnn_flops},
    {"LSTM", "", 7, 3, 8, 0, 3, rnn_infer, rnn_lower, rnn_flops},
    {0},
};
