/* fuse-elementwise (-O1 and up, after fuse-epilogue, which has taken the
 * activations right after a Conv/Gemm/MatMul, SiLU's Sigmoid+Mul included):
 * connected float32 elementwise ops become one dlc.ElementwiseChain node
 * (ir/ops/ew_chain.c) whose kernel (kernels/ew_chain.c) runs them block
 * by block, each input and the output touched once, instead of one kernel
 * per op each reading and writing a whole tensor.
 *
 * A node joins the group of the producer of one of its inputs when
 *   - both are float32 unary ops (activations, math functions), binary
 *     arithmetic with numpy broadcasting (Add, Sub, Mul, Div, Pow, PRelu,
 *     two-input Max, Min, Sum) or Clip with constant bounds;
 *   - that input is read by this node only and is not a graph output (so
 *     every intermediate of a group lives inside it);
 *   - the input has the node's output shape: a group computes every element
 *     of one output shape, smaller intermediates (a bias computed from two
 *     bias vectors) stay separate nodes and become broadcast inputs.
 * Groups are trees with one sink; those of two or more nodes are replaced.
 * Scalar float32 constants become floats of the program; other operands,
 * broadcast ones included, are inputs. The fused node takes the sink's
 * position and output and the first fused node's name, and shows as
 * "Mul+Add+Sigmoid" in IR dumps and profiles.
 *
 * Reductions with their producers: a float32 Reduce* (any of reduce.c's
 * float ops, constant axes) over a set of trailing axes whose data is
 * computed by a group (one node or more) and read by it alone becomes one
 * node too: the group's program plus attributes reduce, reduce_axes and
 * keepdims, shown as "Mul+ReduceMean". Its kernel folds each output's
 * contiguous run of chain elements block by block, without writing the
 * full-size intermediate. Other axis sets stay unfused (the run of an
 * output would not be contiguous).
 *
 * For a compile for every size (sizes_vary) scalar constants stay inputs:
 * one folded from the sizes differs between samples, which an input may
 * (it is then computed at run time) but a float parameter may not. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/op_registry.h"
#include "kernels/ew_chain.h"
#include "kernels/ew_ops.h"
#include "passes/pipeline.h"
#include "passes/rewrite.h"
#include "runtime/status.h"

/* How one node computes, as an instruction; kind 0: not fusable. */
enum { EW_NONE = 0, EW_UNARY, EW_BINARY, EW_CLIP };

typedef struct ew_op {
    int kind, code;
    bool has_params;
    double p0, p1; /* unary alpha, beta; Clip lo, hi */
} ew_op;

/* ONNX ops that lower to the "unary", "binary", "variadic" or "clip" kernels
 * with float32 semantics the chain kernel repeats. */
static const char *const fusable_ops[] = {
    "Relu", "LeakyRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Exp", "Log", "Sqrt", "Reciprocal",
    "Neg", "Abs", "Erf", "Floor", "Ceil", "Round", "Sign", "Sin", "Cos", "Tan", "Asin", "Acos", "Atan", "Sinh",
    "Cosh", "Asinh", "Acosh", "Atanh", "Softplus", "Softsign", "Elu", "Selu", "Celu", "Mish", "Gelu",
    "ThresholdedRelu", "Add", "Sub", "Mul", "Div", "Pow", "PRelu", "Max", "Min", "Sum", "Clip",
};

static bool listed(const char *op) {
    for (size_t i = 0; i < sizeof fusable_ops / sizeof fusable_ops[0]; i++)
        if (strcmp(fusable_ops[i], op) == 0) return true;
    return false;
}

static bool is_f32(const dlc_value *v) { return v != NULL && v->dtype == DLC_FLOAT32 && v->shape.rank >= 0; }

/* A Clip bound input: absent, or a scalar constant (inlined into the program). */
static bool clip_bound(const dlc_value *b, bool keep_constants, double *out) {
    if (b == NULL) return true;
    if (keep_constants || b->kind != DLC_VALUE_CONST || dlc_value_numel(b) != 1) return false;
    *out = dlc_const_element(b, 0);
    return true;
}

/* Classifies n through its own lowering, so codes and parameters are the
 * very ones its unfused kernel would get. */
static dlc_status classify(const dlc_graph *g, const dlc_node *n, bool keep_constants, dlc_kcall *call, ew_op *out) {
    memset(out, 0, sizeof *out);
    if (n->domain[0] != '\0' || !listed(n->op_type) || n->schema == NULL || n->schema->lower == NULL ||
        n->num_outputs != 1 || !is_f32(n->outputs[0]) || n->num_inputs < 1 || !is_f32(n->inputs[0]))
        return DLC_OK;
    DLC_TRY(n->schema->lower(g, n, call));
    const int64_t *ints = call->ints;
    if (strcmp(call->kernel, "unary") == 0 && n->num_inputs == 1 && call->num_ints == 1) {
        *out = (ew_op){EW_UNARY, (int)ints[0], call->num_floats >= 2,
                       call->num_floats >= 2 ? call->floats[0] : 0.0, call->num_floats >= 2 ? call->floats[1] : 0.0};
    } else if ((strcmp(call->kernel, "binary") == 0 || strcmp(call->kernel, "variadic") == 0) &&
               n->num_inputs == 2 && is_f32(n->inputs[1])) {
        int code = (int)ints[0];
        bool ok = code == DLC_BIN_ADD || code == DLC_BIN_SUB || code == DLC_BIN_MUL || code == DLC_BIN_DIV ||
                  code == DLC_BIN_POW || code == DLC_BIN_PRELU || code == DLC_BIN_MAX || code == DLC_BIN_MIN;
        if (ok) *out = (ew_op){EW_BINARY, code, false, 0.0, 0.0};
    } else if (strcmp(call->kernel, "clip") == 0 && call->num_floats == 2) {
        double lo = call->floats[0], hi = call->floats[1];
        if (clip_bound(n->num_inputs > 1 ? n->inputs[1] : NULL, keep_constants, &lo) &&
            clip_bound(n->num_inputs > 2 ? n->inputs[2] : NULL, keep_constants, &hi))
            *out = (ew_op){EW_CLIP, 0, true, lo, hi};
    }
    return DLC_OK;
}

/* A reduction the chain kernel can finish a group with: a float32 Reduce*
 * of kernels/reduce.c over the last `*axes` axes of its data (mask from its
 * own lowering). *op -1: not one. */
static dlc_status classify_reduce(const dlc_graph *g, const dlc_node *n, dlc_kcall *call, int64_t *op, int64_t *axes) {
    *op = -1;
    if (n->domain[0] != '\0' || strncmp(n->op_type, "Reduce", 6) != 0 || n->schema == NULL ||
        n->schema->lower == NULL || n->num_outputs != 1 || !is_f32(n->outputs[0]) || n->num_inputs < 1 ||
        !is_f32(n->inputs[0]))
        return DLC_OK;
    /* axes not constant: the lowering would fail (and a later pass report it) */
    if (n->num_inputs > 1 && n->inputs[1] != NULL && n->inputs[1]->kind != DLC_VALUE_CONST) return DLC_OK;
    DLC_TRY(n->schema->lower(g, n, call));
    if (strcmp(call->kernel, "reduce") != 0 || call->num_ints != 2) return DLC_OK;
    int32_t rank = n->inputs[0]->shape.rank;
    int64_t mask = call->ints[1], all = ((int64_t)1 << rank) - 1;
    for (int32_t t = 1; t <= rank; t++)
        if (mask == (all & ~(((int64_t)1 << (rank - t)) - 1))) {
            *op = call->ints[0];
            *axes = t;
        }
    return DLC_OK;
}

/* Operands of n that are tensors the op computes on (Clip's bounds are parameters). */
static int32_t tensor_operands(const dlc_node *n, const ew_op *op) { return op->kind == EW_CLIP ? 1 : n->num_inputs; }

static int32_t find_root(int32_t *parent, int32_t i) {
    while (parent[i] != i) i = parent[i] = parent[parent[i]];
    return i;
}

/* ---- building one group's program ---- */

typedef struct builder {
    bool keep_constants;
    int32_t rank;             /* the output's */
    dlc_value *inputs[DLC_CHAIN_MAX_IN];
    int32_t num_in;
    double consts[DLC_CHAIN_MAX_FLOATS];
    int32_t num_consts;
    int64_t program[DLC_CHAIN_MAX_INSTR * DLC_CHAIN_WORDS];
    int32_t count;
    char label[256];
} builder;

static int64_t add_const(builder *b, double x, bool share) {
    for (int32_t c = 0; share && c < b->num_consts; c++)
        if (memcmp(&b->consts[c], &x, sizeof x) == 0) return DLC_CHAIN_CONST + c;
    if (b->num_consts == DLC_CHAIN_MAX_FLOATS) return -1;
    b->consts[b->num_consts] = x;
    return DLC_CHAIN_CONST + b->num_consts++;
}

/* A value read by the group from outside: a constant of the program or an input. */
static int64_t outside_operand(builder *b, dlc_value *v) {
    if (!b->keep_constants && v->kind == DLC_VALUE_CONST && dlc_value_numel(v) == 1 && v->shape.rank <= b->rank)
        return add_const(b, (double)(float)dlc_const_element(v, 0), true);
    for (int32_t k = 0; k < b->num_in; k++)
        if (b->inputs[k] == v) return DLC_CHAIN_IN + k;
    if (b->num_in == DLC_CHAIN_MAX_IN) return -1;
    b->inputs[b->num_in] = v;
    return DLC_CHAIN_IN + b->num_in++;
}

/* Which member computes v, or -1 (groups are small: a scan). */
static int32_t member_of(dlc_node *const *nodes, const int32_t *members, int32_t count, const dlc_value *v) {
    for (int32_t m = 0; m < count; m++)
        if (nodes[members[m]]->outputs[0] == v) return m;
    return -1;
}

/* Fills b from the members (graph positions, ascending; the last is the
 * sink). False when the group exceeds the program's limits. */
static bool build(builder *b, dlc_node *const *nodes, const ew_op *ops, const int32_t *members, int32_t count) {
    int32_t last_use[DLC_CHAIN_MAX_INSTR], reg[DLC_CHAIN_MAX_INSTR];
    bool busy[DLC_CHAIN_MAX_REGS] = {false};
    if (count > DLC_CHAIN_MAX_INSTR) return false;
    for (int32_t i = 0; i < count; i++) {
        last_use[i] = -1;
        reg[i] = -1;
    }
    for (int32_t i = 0; i < count; i++) {
        const dlc_node *n = nodes[members[i]];
        for (int32_t k = 0; k < tensor_operands(n, &ops[members[i]]); k++) {
            int32_t m = member_of(nodes, members, count, n->inputs[k]);
            if (m >= 0) last_use[m] = i;
        }
    }
    b->label[0] = '\0';
    for (int32_t i = 0; i < count; i++) {
        dlc_node *n = nodes[members[i]];
        const ew_op *op = &ops[members[i]];
        int64_t x[2] = {-1, -1};
        for (int32_t k = 0; k < tensor_operands(n, op); k++) {
            int32_t m = member_of(nodes, members, count, n->inputs[k]);
            x[k] = m >= 0 ? DLC_CHAIN_REG + reg[m] : outside_operand(b, n->inputs[k]);
            if (x[k] < 0) return false;
        }
        int64_t param = -1;
        if (op->has_params) {
            /* a pair, not shared: the kernel reads floats[param] and [param + 1] */
            param = add_const(b, op->p0, false) - DLC_CHAIN_CONST;
            if (param < 0 || add_const(b, op->p1, false) < 0) return false;
        }
        /* operands read for the last time free their registers, which the
         * result may take: each element is read before it is written */
        for (int32_t m = 0; m < i; m++)
            if (last_use[m] == i && reg[m] >= 0) busy[reg[m]] = false;
        int64_t dst = -1;
        if (i < count - 1) {
            for (int32_t r = 0; r < DLC_CHAIN_MAX_REGS && dst < 0; r++)
                if (!busy[r]) dst = r;
            if (dst < 0) return false;
            busy[dst] = true;
            reg[i] = (int32_t)dst;
        }
        int64_t code = op->kind == EW_CLIP     ? DLC_CHAIN_CLIP
                       : op->kind == EW_BINARY ? DLC_CHAIN_BINARY + op->code
                                               : DLC_CHAIN_UNARY + op->code;
        int64_t *w = &b->program[i * DLC_CHAIN_WORDS];
        w[0] = code, w[1] = dst, w[2] = x[0], w[3] = x[1], w[4] = param;
        size_t used = strlen(b->label);
        snprintf(b->label + used, sizeof b->label - used, "%s%s", i > 0 ? "+" : "", n->op_type);
    }
    b->count = count;
    return b->num_in > 0;
}

/* The inputs broadcast to exactly the sink's shape (an inlined scalar
 * constant of higher rank than the rest would have raised it). */
static dlc_status shape_kept(const dlc_graph *g, const builder *b, const dlc_node *sink, bool *out) {
    dlc_shape s = b->inputs[0]->shape;
    for (int32_t k = 1; k < b->num_in; k++) {
        dlc_shape next;
        DLC_TRY(dlc_broadcast_shapes(g, sink, &s, &b->inputs[k]->shape, &next));
        s = next;
    }
    *out = dlc_shape_equal(&s, &sink->outputs[0]->shape);
    return DLC_OK;
}

/* A reduction ending the group: it replaces the reduce node. */
typedef struct reduce_tail {
    dlc_node *node; /* NULL: none */
    int64_t op, axes;
} reduce_tail;

static dlc_status replace(dlc_graph *g, builder *b, dlc_node *sink, const reduce_tail *tail, const char *first_name) {
    dlc_attr attrs[6];
    int32_t n_attrs = 0;
    if (tail->node != NULL) {
        size_t used = strlen(b->label);
        snprintf(b->label + used, sizeof b->label - used, "+%s", tail->node->op_type);
        attrs[n_attrs++] = (dlc_attr){.name = (char *)"reduce", .type = DLC_ATTR_INT, .i = tail->op};
        attrs[n_attrs++] = (dlc_attr){.name = (char *)"reduce_axes", .type = DLC_ATTR_INT, .i = tail->axes};
        attrs[n_attrs++] = (dlc_attr){.name = (char *)"keepdims", .type = DLC_ATTR_INT,
                                      .i = dlc_node_attr_int(tail->node, "keepdims", 1) != 0};
        sink = tail->node;
    }
    attrs[n_attrs++] = (dlc_attr){.name = (char *)"program", .type = DLC_ATTR_INTS, .ints = (int64_t *)b->program,
                                  .count = b->count * DLC_CHAIN_WORDS};
    if (b->num_consts > 0)
        attrs[n_attrs++] = (dlc_attr){.name = (char *)"constants", .type = DLC_ATTR_FLOATS,
                                      .floats = (double *)b->consts, .count = b->num_consts};
    attrs[n_attrs++] = (dlc_attr){.name = (char *)"dlc_chain", .type = DLC_ATTR_STRING, .s = (char *)b->label,
                                  .s_len = strlen(b->label)};
    char *name = strdup(first_name);
    if (name == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "fuse-elementwise: %s", first_name);
    dlc_node *fresh = NULL;
    dlc_status st = dlc_replace_node_in(g, sink, "dlc", "ElementwiseChain", 1, b->num_in,
                                        (dlc_value *const *)b->inputs, n_attrs, attrs, &fresh);
    if (st != DLC_OK) {
        free(name);
        return st;
    }
    free(fresh->name); /* named after the chain's first op, as profiles list it */
    fresh->name = name;
    return DLC_OK;
}

/* ---- grouping ---- */

typedef struct pass_state {
    int32_t n;
    dlc_node **nodes; /* a snapshot: replacing a sink leaves the others in place */
    ew_op *ops;
    int32_t *parent, *size, *index_of_id;
    reduce_tail *tail; /* per node: the reduction reading its output alone */
} pass_state;

static void state_free(pass_state *s) {
    free(s->nodes);
    free(s->ops);
    free(s->parent);
    free(s->size);
    free(s->index_of_id);
    free(s->tail);
}

/* v, read by node i only, joins i to its producer's group. */
static void join_producer(pass_state *s, int32_t i, const dlc_value *v) {
    const dlc_node *n = s->nodes[i];
    if (v == NULL || v->producer == NULL) return;
    int32_t reads = 0;
    for (int32_t k = 0; k < n->num_inputs; k++) reads += n->inputs[k] == v;
    if (!dlc_value_private(v, reads) || !dlc_shape_equal(&v->shape, &n->outputs[0]->shape)) return;
    int32_t p = s->index_of_id[v->producer->id];
    if (p < 0 || s->ops[p].kind == EW_NONE) return;
    int32_t a = find_root(s->parent, p), b = find_root(s->parent, i);
    if (a == b || s->size[a] + s->size[b] > DLC_CHAIN_MAX_INSTR) return;
    s->parent[a] = b;
    s->size[b] += s->size[a];
}

static dlc_status fuse(dlc_graph *g, bool keep_constants, bool *out_changed) {
    *out_changed = false;
    dlc_graph_remove_dead(g); /* dead readers would keep values from looking private */
    pass_state s = {.n = g->num_nodes};
    size_t n = (size_t)s.n + 1;
    s.nodes = malloc(n * sizeof *s.nodes);
    s.ops = calloc(n, sizeof *s.ops);
    s.parent = malloc(n * sizeof *s.parent);
    s.size = malloc(n * sizeof *s.size);
    s.index_of_id = malloc(((size_t)g->next_node_id + 1) * sizeof *s.index_of_id);
    s.tail = calloc(n, sizeof *s.tail);
    dlc_kcall *call = malloc(sizeof *call);
    int32_t *members = malloc(n * sizeof *members);
    dlc_status st = DLC_OK;
    if (s.nodes == NULL || s.ops == NULL || s.parent == NULL || s.size == NULL || s.index_of_id == NULL ||
        s.tail == NULL || call == NULL || members == NULL)
        st = dlc_fail(DLC_ERR_OUT_OF_MEMORY, "fuse-elementwise: out of memory");
    for (int32_t id = 0; st == DLC_OK && id <= g->next_node_id; id++) s.index_of_id[id] = -1;
    for (int32_t i = 0; st == DLC_OK && i < s.n; i++) {
        s.nodes[i] = g->nodes[i];
        s.parent[i] = i;
        s.size[i] = 1;
        if (g->nodes[i]->id >= 0 && g->nodes[i]->id <= g->next_node_id) s.index_of_id[g->nodes[i]->id] = i;
        st = classify(g, g->nodes[i], keep_constants, call, &s.ops[i]);
    }
    for (int32_t i = 0; st == DLC_OK && i < s.n; i++) {
        if (s.ops[i].kind == EW_NONE) continue;
        for (int32_t k = 0; k < tensor_operands(s.nodes[i], &s.ops[i]); k++) join_producer(&s, i, s.nodes[i]->inputs[k]);
    }
    /* reductions whose data a fusable node computes for them alone (that
     * node is its group's sink: other members' outputs are read inside) */
    for (int32_t i = 0; st == DLC_OK && i < s.n; i++) {
        reduce_tail t = {.node = s.nodes[i]};
        st = classify_reduce(g, t.node, call, &t.op, &t.axes);
        const dlc_value *v = t.node->inputs[0];
        if (st != DLC_OK || t.op < 0 || v->producer == NULL || !dlc_value_private(v, 1)) continue;
        int32_t p = s.index_of_id[v->producer->id];
        if (p >= 0 && s.ops[p].kind != EW_NONE) s.tail[p] = t;
    }
    builder *b = st == DLC_OK ? malloc(sizeof *b) : NULL;
    if (st == DLC_OK && b == NULL) st = dlc_fail(DLC_ERR_OUT_OF_MEMORY, "fuse-elementwise: out of memory");
    /* a group's sink is its last member: every other member's output is read inside */
    for (int32_t sink = s.n - 1; st == DLC_OK && sink >= 0; sink--) {
        const reduce_tail *tail = &s.tail[sink];
        if (s.ops[sink].kind == EW_NONE || find_root(s.parent, sink) != sink || (s.size[sink] < 2 && !tail->node))
            continue;
        int32_t count = 0;
        for (int32_t i = 0; i <= sink; i++)
            if (s.ops[i].kind != EW_NONE && find_root(s.parent, i) == sink) members[count++] = i;
        *b = (builder){.keep_constants = keep_constants, .rank = s.nodes[sink]->outputs[0]->shape.rank};
        if (!build(b, s.nodes, s.ops, members, count)) continue;
        bool kept = false;
        st = shape_kept(g, b, s.nodes[sink], &kept);
        if (st != DLC_OK || !kept) continue;
        st = replace(g, b, s.nodes[sink], tail, s.nodes[members[0]]->name);
        *out_changed = true;
    }
    if (st == DLC_OK && *out_changed) dlc_graph_remove_dead(g);
    free(b);
    free(call);
    free(members);
    state_free(&s);
    return st;
}

dlc_status dlc_pass_fuse_elementwise(dlc_graph *g, bool *out_changed) { return fuse(g, false, out_changed); }

dlc_status dlc_pass_fuse_elementwise_keep_constants(dlc_graph *g, bool *out_changed) {
    return fuse(g, true, out_changed);
}
