/* Shape/dtype inference and constant folding, in one walk over the graph.
 *
 * Folding runs the op's own kernel natively (kernels/kernel_registry.c), so
 * a folded value means exactly what the generated code would compute: the
 * semantics are written once. Shape-computing subgraphs (Shape → Gather →
 * Concat → Reshape) become constants here, which later rules need because
 * they read shapes from CONST inputs. */
#include <stdlib.h>
#include <string.h>

#include "ir/op_registry.h"
#include "kernels/kernel_registry.h"
#include "passes/autodiff.h"
#include "passes/pipeline.h"
#include "runtime/status.h"

/* Keeps huge expansions (Expand/Tile/ConstantOfShape of a big shape) out of
 * the artifact: computing them at run time is cheaper than storing them. */
#define DLC_FOLD_MAX_BYTES ((int64_t)64 << 20)

/* Ops whose result is not a function of their inputs (ir/ops/random.c, and
 * Dropout when training_mode is given: true drops at random). They draw from
 * a seeded generator, yet stay nodes: a random op is meant to run. */
static bool op_is_nondeterministic(const dlc_node *node) {
    static const char *const names[] = {"RandomNormal", "RandomNormalLike", "RandomUniform",
                                        "RandomUniformLike", "Bernoulli", "Multinomial"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(node->op_type, names[i]) == 0) return true;
    if (strcmp(node->op_type, "Dropout") == 0 && node->num_inputs > 2 && node->inputs[2] != NULL) {
        double training;
        return dlc_value_const_scalar(node->inputs[2], &training) != DLC_OK || training != 0.0;
    }
    return false;
}

static void *alloc_aligned(int64_t nbytes) {
    size_t rounded = ((size_t)nbytes + 63) & ~(size_t)63;
    if (rounded == 0) rounded = 64;
    void *p = aligned_alloc(64, rounded);
    if (p != NULL) memset(p, 0, rounded);
    return p;
}

/* Ops whose result depends on their input's shape only (their kernels read
 * the params block, never the input data): foldable once the shape is static. */
static bool op_reads_only_shape(const dlc_node *node) {
    return node->domain[0] == '\0' && (strcmp(node->op_type, "Shape") == 0 || strcmp(node->op_type, "Size") == 0);
}

/* Whether node can and should be folded: every present input CONST (or of
 * static shape for Shape/Size), every present output not yet CONST, with a
 * static shape and a size under the cap. */
static bool node_is_foldable(const dlc_graph *g, const dlc_node *node) {
    if (node->schema == NULL || node->schema->lower == NULL || op_is_nondeterministic(node)) return false;
    for (int32_t o = 0; o < node->num_outputs; o++)
        if (node->outputs[o] != NULL && dlc_graph_is_no_fold(g, node->outputs[o]->name)) return false;
    bool shape_only = op_reads_only_shape(node);
    int present_inputs = 0;
    for (int32_t i = 0; i < node->num_inputs; i++) {
        const dlc_value *v = node->inputs[i];
        if (v == NULL) continue;
        if (shape_only ? !dlc_shape_is_static(&v->shape) : v->kind != DLC_VALUE_CONST) return false;
        present_inputs++;
    }
    if (present_inputs == 0) return false; /* generators without inputs stay nodes */
    int present_outputs = 0;
    for (int32_t o = 0; o < node->num_outputs; o++) {
        const dlc_value *v = node->outputs[o];
        if (v == NULL) continue;
        if (v->kind == DLC_VALUE_CONST) return false;
        int64_t numel = dlc_value_numel(v), nbytes;
        if (numel < 0 || dlc_dtype_size(v->dtype) == 0) return false;
        if (!dlc_mul_size(numel, (int64_t)dlc_dtype_size(v->dtype), &nbytes) || nbytes > DLC_FOLD_MAX_BYTES)
            return false;
        present_outputs++;
    }
    return present_outputs > 0;
}

/* A folded output with data-dependent dims takes the extent its kernel
 * reported (the kernel wrote it dense for those dims), and is static from
 * then on. */
static dlc_status shrink_to_actual(dlc_value *v, const int64_t *dims, const char *where) {
    if (v->bounded_dims == 0) return DLC_OK;
    for (int32_t d = 0; d < v->shape.rank; d++) {
        if (((v->bounded_dims >> d) & 1u) == 0) continue;
        if (dims[d] < 0 || dims[d] > v->shape.dims[d].value)
            return dlc_fail(DLC_ERR_INTERNAL, "node %s: constant folding: output '%s' dim %d came back as %lld, "
                            "outside its bound %lld", where, v->name, d, (long long)dims[d],
                            (long long)v->shape.dims[d].value);
        v->shape.dims[d].value = dims[d];
    }
    v->bounded_dims = 0;
    return DLC_OK;
}

dlc_status dlc_fold_node(dlc_graph *g, dlc_node *node, bool *out_folded) {
    *out_folded = false;
    if (!node_is_foldable(g, node)) return DLC_OK;
    char where[256];
    dlc_node_describe(node, where, sizeof where);

    dlc_kcall call;
    dlc_status st = node->schema->lower(g, node, &call);
    if (st != DLC_OK) return st;
    const dlc_kernel_entry *kernel = dlc_kernel_find(call.kernel);
    if (kernel == NULL)
        return dlc_fail(DLC_ERR_INTERNAL, "node %s: lowered to kernel '%s', which is not in the kernel registry",
                        where, call.kernel);
    void *params = NULL;
    size_t params_size = 0;
    DLC_TRY(dlc_kparams_build(node, &call, &params, &params_size));

    void **inputs = calloc((size_t)node->num_inputs + 1, sizeof *inputs);
    void **outputs = calloc((size_t)node->num_outputs + 1, sizeof *outputs);
    void *workspace = NULL;
    int64_t workspace_size = 0;
    int64_t *out_dims = NULL;
    if (inputs == NULL || outputs == NULL) {
        st = dlc_fail(DLC_ERR_OUT_OF_MEMORY, "node %s: constant folding: out of memory", where);
        goto done;
    }
    /* Shape/Size of a non-constant input: its data is NULL, the kernel never reads it */
    for (int32_t i = 0; i < node->num_inputs; i++)
        inputs[i] = node->inputs[i] != NULL && node->inputs[i]->kind == DLC_VALUE_CONST ? node->inputs[i]->data : NULL;
    for (int32_t o = 0; o < node->num_outputs; o++) {
        const dlc_value *v = node->outputs[o];
        if (v == NULL) continue;
        outputs[o] = alloc_aligned(dlc_value_numel(v) * (int64_t)dlc_dtype_size(v->dtype));
        if (outputs[o] == NULL) {
            st = dlc_fail(DLC_ERR_OUT_OF_MEMORY, "node %s: constant folding: cannot allocate output '%s'", where,
                          v->name);
            goto done;
        }
    }
    if (kernel->workspace != NULL) {
        workspace_size = kernel->workspace(params);
        if (workspace_size < 0 || workspace_size > DLC_FOLD_MAX_BYTES * 4) {
            st = DLC_OK; /* not worth folding; codegen plans the workspace in the arena */
            goto done;
        }
        if (workspace_size > 0 && (workspace = alloc_aligned(workspace_size)) == NULL) {
            st = dlc_fail(DLC_ERR_OUT_OF_MEMORY, "node %s: constant folding: cannot allocate %lld bytes of workspace",
                          where, (long long)workspace_size);
            goto done;
        }
    }
    /* an op of data-dependent extent (bounded_dims) reports its actual dims here */
    out_dims = calloc(((size_t)node->num_outputs + 1) * DLC_KMAX_RANK, sizeof *out_dims);
    if (out_dims == NULL) {
        st = dlc_fail(DLC_ERR_OUT_OF_MEMORY, "node %s: constant folding: out of memory", where);
        goto done;
    }
    dlc_kctx ctx = {
        .num_threads = 1, .workspace = workspace, .workspace_size = workspace_size, .out_dims = out_dims};
    int32_t rc = kernel->fn(params, inputs, outputs, &ctx);
    if (rc != DLC_KOK) {
        const char *why = rc == DLC_KERR_INDEX_OUT_OF_RANGE ? "an index is out of range"
                          : rc == DLC_KERR_BAD_VALUE     ? "a value is invalid"
                          : rc == DLC_KERR_UNSUPPORTED   ? "this dtype or attribute combination is not supported"
                                                         : "the kernel failed";
        st = dlc_fail(rc == DLC_KERR_UNSUPPORTED ? DLC_ERR_UNSUPPORTED : DLC_ERR_RUNTIME,
                      "node %s: constant folding with kernel '%s': %s (code %d)", where, call.kernel, why, (int)rc);
        goto done;
    }
    for (int32_t o = 0; o < node->num_outputs && st == DLC_OK; o++) {
        dlc_value *v = node->outputs[o];
        if (v == NULL) continue;
        st = shrink_to_actual(v, out_dims + (size_t)o * DLC_KMAX_RANK, where);
        if (st != DLC_OK) break;
        size_t nbytes = (size_t)dlc_value_numel(v) * dlc_dtype_size(v->dtype);
        st = dlc_value_set_const(v, outputs[o], nbytes);
    }
    if (st == DLC_OK) *out_folded = true;
done:
    if (outputs != NULL)
        for (int32_t o = 0; o < node->num_outputs; o++) free(outputs[o]);
    free(outputs);
    free(inputs);
    free(out_dims);
    free(workspace);
    free(params);
    return st;
}

/* Adds the node to an inference error unless the op rule already named it. */
static dlc_status infer_node(dlc_graph *g, dlc_node *node) {
    char where[256];
    dlc_node_describe(node, where, sizeof where);
    dlc_status st = node->schema->infer(g, node);
    if (st == DLC_OK) return DLC_OK;
    if (strstr(dlc_last_error(), where) != NULL) return st;
    return dlc_fail_context(st, "node %s", where);
}

static bool all_outputs_const(const dlc_node *node) {
    bool any = false;
    for (int32_t o = 0; o < node->num_outputs; o++) {
        const dlc_value *v = node->outputs[o];
        if (v == NULL) continue;
        if (v->kind != DLC_VALUE_CONST) return false;
        any = true;
    }
    return any;
}

/* Values that must stay nodes until a Gradient node is expanded: the CONST
 * xs it differentiates with respect to, and everything computed from them
 * (a folded value has no producer for autodiff to walk back through). */
typedef struct pins {
    bool *pinned; /* by value id */
    int32_t cap;
} pins;

static dlc_status pin(pins *p, const dlc_value *v) {
    if (v->id >= p->cap) {
        int32_t cap = v->id * 2 + 64;
        bool *grown = realloc(p->pinned, (size_t)cap * sizeof *grown);
        if (grown == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "constant folding: out of memory");
        memset(grown + p->cap, 0, (size_t)(cap - p->cap) * sizeof *grown);
        p->pinned = grown;
        p->cap = cap;
    }
    p->pinned[v->id] = true;
    return DLC_OK;
}

static bool is_pinned(const pins *p, const dlc_value *v) { return v != NULL && v->id < p->cap && p->pinned[v->id]; }

static dlc_status pin_gradient_sources(const dlc_graph *g, pins *p) {
    for (int32_t n = 0; n < g->num_nodes; n++) {
        if (!dlc_is_gradient(g->nodes[n])) continue;
        dlc_value *xs[64];
        int32_t count = dlc_gradient_const_xs(g, g->nodes[n], xs, 64);
        for (int32_t k = 0; k < count; k++) DLC_TRY(pin(p, xs[k]));
    }
    return DLC_OK;
}

/* Pins node's outputs when it reads a pinned value; true when it did. */
static dlc_status propagate_pins(pins *p, const dlc_node *node, bool *out_pinned) {
    *out_pinned = false;
    if (p->cap == 0) return DLC_OK;
    for (int32_t i = 0; i < node->num_inputs && !*out_pinned; i++) *out_pinned = is_pinned(p, node->inputs[i]);
    for (int32_t o = 0; o < node->num_outputs && *out_pinned; o++)
        if (node->outputs[o] != NULL) DLC_TRY(pin(p, node->outputs[o]));
    return DLC_OK;
}

static dlc_status infer_and_fold_walk(dlc_graph *g, pins *p);

dlc_status dlc_infer_and_fold(dlc_graph *g) {
    bool any_gradient;
    DLC_TRY(dlc_gradient_prepare(g, &any_gradient));
    pins p = {0};
    dlc_status st = any_gradient ? pin_gradient_sources(g, &p) : DLC_OK;
    if (st == DLC_OK) st = infer_and_fold_walk(g, &p);
    free(p.pinned);
    return st;
}

static dlc_status infer_and_fold_walk(dlc_graph *g, pins *p) {
    DLC_TRY(dlc_graph_toposort(g));
    for (int32_t i = 0; i < g->num_nodes; i++) {
        dlc_node *node = g->nodes[i];
        if (node->schema == NULL) DLC_TRY(dlc_node_bind_schema(node));
        if (all_outputs_const(node)) continue; /* folded by an earlier run */
        if (dlc_is_gradient(node)) {
            /* replaced by the gradient nodes, appended and inferred already;
             * the walk goes on at i as for control flow */
            DLC_TRY(dlc_expand_gradient(g, node));
            DLC_TRY(dlc_graph_toposort(g));
            i--;
            continue;
        }
        if (dlc_is_control_flow(node)) {
            /* replaced by inferred clones of its subgraph; sorting keeps the
             * nodes before i in place, so the walk goes on at i */
            bool expanded;
            DLC_TRY(dlc_expand_control_flow(g, node, &expanded));
            if (expanded) {
                DLC_TRY(dlc_graph_toposort(g));
                i--;
                continue;
            }
        }
        if (dlc_is_sequence_node(node)) {
            bool expanded;
            DLC_TRY(dlc_expand_sequence_node(g, node, &expanded));
            if (expanded) {
                DLC_TRY(dlc_graph_toposort(g));
                i--;
                continue;
            }
        }
        DLC_TRY(dlc_bounded_dims_check_inputs(g, node));
        DLC_TRY(infer_node(g, node));
        dlc_bounded_dims_propagate(node);
        bool pinned, folded;
        DLC_TRY(propagate_pins(p, node, &pinned));
        if (!pinned) DLC_TRY(dlc_fold_node(g, node, &folded));
    }
    /* the artifact's interface holds tensors only */
    DLC_TRY(dlc_flatten_sequence_outputs(g));
    /* Nodes whose every output is now a constant have done their work. */
    for (int32_t i = g->num_nodes - 1; i >= 0; i--)
        if (all_outputs_const(g->nodes[i])) dlc_graph_remove_node(g, g->nodes[i]);
    bool changed;
    return dlc_pass_dead_code(g, &changed);
}
