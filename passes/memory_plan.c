/* Memory planning: where every tensor lives during a run.
 *
 * Inputs and in-place outputs are the caller's buffers, constants are packed
 * into the weights blob, and everything else (intermediates and kernel
 * workspaces) shares one arena. Arena buffers are live over [defining node,
 * last reading node] and placed greedily, largest first, into the smallest gap
 * between buffers whose lifetimes overlap (TFLite's "greedy by size"), which
 * packs well and never lets two live buffers share bytes. */
#include "passes/memory_plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/op_registry.h"
#include "kernels/kernel_registry.h"
#include "runtime/status.h"

enum { PLAN_ALIGNMENT = 64 };

/* One arena buffer to place: a tensor or a node's workspace. */
typedef struct arena_buffer {
    uint64_t size;   /* rounded up to the alignment */
    int32_t first;   /* node position that writes it first */
    int32_t last;    /* node position that reads it last (num_nodes: the final output copies) */
    uint64_t offset; /* result */
    int32_t value_id;  /* >= 0: a tensor */
    int32_t node_pos;  /* >= 0: a workspace */
} arena_buffer;

static bool round_up(uint64_t size, uint64_t alignment, uint64_t *out) {
    if (size > UINT64_MAX - (alignment - 1)) return false;
    *out = (size + alignment - 1) / alignment * alignment;
    return true;
}

/* Bytes of a statically shaped value, overflow-checked. */
static dlc_status value_bytes(const dlc_graph *g, const dlc_value *v, uint64_t *out) {
    char shape[256];
    int64_t numel = dlc_value_numel(v);
    size_t elem = dlc_dtype_size(v->dtype);
    int64_t bytes;
    if (numel < 0)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "memory plan: tensor '%s' has no static shape (%s)", v->name,
                        dlc_shape_format(g, &v->shape, shape, sizeof shape));
    if (elem == 0)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "memory plan: tensor '%s' has dtype %s, which has no fixed size",
                        v->name, dlc_dtype_name(v->dtype));
    if (!dlc_mul_size(numel, (int64_t)elem, &bytes))
        return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "memory plan: tensor '%s' %s %s is too large", v->name,
                        dlc_dtype_name(v->dtype), dlc_shape_format(g, &v->shape, shape, sizeof shape));
    *out = (uint64_t)bytes;
    return DLC_OK;
}

/* Workspace bytes of node's kernel (lowering it the way codegen will). */
static dlc_status node_workspace(const dlc_graph *g, const dlc_node *node, uint64_t *out) {
    char where[256];
    *out = 0;
    if (node->schema == NULL || node->schema->lower == NULL)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "memory plan: node %s has no lowering to a kernel",
                        dlc_node_describe(node, where, sizeof where));
    dlc_kcall *call = malloc(sizeof *call);
    if (call == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "memory plan: kernel call");
    dlc_status st = node->schema->lower(g, node, call);
    if (st != DLC_OK) {
        free(call);
        return dlc_fail_context(st, "memory plan: lowering node %s", dlc_node_describe(node, where, sizeof where));
    }
    const dlc_kernel_entry *kernel = dlc_kernel_find(call->kernel);
    if (kernel == NULL) {
        st = dlc_fail(DLC_ERR_INTERNAL, "memory plan: node %s lowers to kernel '%s', which does not exist",
                      dlc_node_describe(node, where, sizeof where), call->kernel);
        free(call);
        return st;
    }
    if (kernel->workspace != NULL) {
        void *params;
        size_t params_size;
        st = dlc_kparams_build(node, call, &params, &params_size);
        if (st == DLC_OK) {
            int64_t bytes = kernel->workspace(params);
            free(params);
            if (bytes < 0)
                st = dlc_fail(DLC_ERR_INTERNAL, "memory plan: node %s: kernel '%s' asks for %lld workspace bytes",
                              dlc_node_describe(node, where, sizeof where), call->kernel, (long long)bytes);
            else
                *out = (uint64_t)bytes;
        }
    }
    free(call);
    return st;
}

static int by_size_descending(const void *a, const void *b) {
    const arena_buffer *x = a, *y = b;
    if (x->size != y->size) return x->size > y->size ? -1 : 1;
    if (x->first != y->first) return x->first < y->first ? -1 : 1;
    return 0;
}

static bool lifetimes_overlap(const arena_buffer *a, const arena_buffer *b) {
    return a->first <= b->last && b->first <= a->last;
}

static int by_offset(const void *a, const void *b) {
    const arena_buffer *x = *(const arena_buffer *const *)a, *y = *(const arena_buffer *const *)b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* Places buffers (sorted largest first); returns the arena size. */
static dlc_status place_buffers(arena_buffer *buffers, int32_t count, uint64_t *out_arena_size) {
    uint64_t arena_size = 0;
    arena_buffer **live = malloc(((size_t)count + 1) * sizeof *live);
    if (live == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "memory plan: %d buffers", count);
    for (int32_t i = 0; i < count; i++) {
        arena_buffer *buf = &buffers[i];
        buf->offset = 0;
        if (buf->size == 0) continue;
        /* the already placed buffers alive at the same time, by offset */
        int32_t n = 0;
        for (int32_t j = 0; j < i; j++)
            if (buffers[j].size > 0 && lifetimes_overlap(&buffers[j], buf)) live[n++] = &buffers[j];
        qsort(live, (size_t)n, sizeof *live, by_offset);
        uint64_t best_offset = UINT64_MAX, best_gap = UINT64_MAX, cursor = 0;
        for (int32_t j = 0; j < n; j++) {
            if (live[j]->offset > cursor) {
                uint64_t gap = live[j]->offset - cursor;
                if (gap >= buf->size && gap < best_gap) {
                    best_gap = gap;
                    best_offset = cursor;
                }
            }
            uint64_t end = live[j]->offset + live[j]->size;
            if (end > cursor) cursor = end;
        }
        buf->offset = best_offset != UINT64_MAX ? best_offset : cursor;
        if (buf->offset > UINT64_MAX - buf->size) {
            free(live);
            return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "memory plan: arena size overflows");
        }
        if (buf->offset + buf->size > arena_size) arena_size = buf->offset + buf->size;
    }
    free(live);
    *out_arena_size = arena_size;
    return DLC_OK;
}

void dlc_memory_plan_free(dlc_memory_plan *plan) {
    if (plan == NULL) return;
    free(plan->values);
    free(plan->workspace_offset);
    free(plan->workspace_size);
    free(plan->alias_of);
    memset(plan, 0, sizeof *plan);
}

/* Position of each value's defining node and last reader. */
static dlc_status compute_lifetimes(const dlc_graph *g, int32_t *first, int32_t *last, bool *used) {
    for (int32_t id = 0; id < g->num_values; id++) {
        first[id] = -1;
        last[id] = -1;
        used[id] = false;
    }
    for (int32_t pos = 0; pos < g->num_nodes; pos++) {
        const dlc_node *node = g->nodes[pos];
        for (int32_t i = 0; i < node->num_inputs; i++) {
            const dlc_value *v = node->inputs[i];
            if (v == NULL) continue;
            used[v->id] = true;
            if (pos > last[v->id]) last[v->id] = pos;
        }
        for (int32_t i = 0; i < node->num_outputs; i++) {
            const dlc_value *v = node->outputs[i];
            if (v == NULL) continue;
            if (first[v->id] >= 0) {
                char where[256];
                return dlc_fail(DLC_ERR_INTERNAL, "memory plan: tensor '%s' is written twice (again by node %s)",
                                v->name, dlc_node_describe(node, where, sizeof where));
            }
            first[v->id] = pos;
            used[v->id] = true;
            if (last[v->id] < pos) last[v->id] = pos; /* written even if nobody reads it */
        }
    }
    for (int32_t j = 0; j < g->num_outputs; j++) {
        const dlc_value *v = g->outputs[j];
        used[v->id] = true;
        last[v->id] = g->num_nodes; /* may be copied after the last node */
    }
    return DLC_OK;
}

/* The kernel node lowers to ("" when it has none). */
static dlc_status node_kernel(const dlc_graph *g, const dlc_node *node, char *name, size_t size) {
    name[0] = '\0';
    if (node->schema == NULL || node->schema->lower == NULL || node->num_outputs != 1 || node->num_inputs < 1 ||
        node->outputs[0] == NULL)
        return DLC_OK;
    dlc_kcall *call = malloc(sizeof *call);
    if (call == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "memory plan: kernel call");
    dlc_status st = node->schema->lower(g, node, call);
    if (st == DLC_OK) snprintf(name, size, "%s", call->kernel);
    free(call);
    return st;
}

/* How many leading inputs of `kernel` it may overwrite with its output:
 * kernels that, at every output index i, read each full-size operand's
 * element i before writing element i (and nothing else of it). The variadic
 * kernel folds x0 op x1 into the output first and then reads x2, x3, ...
 * from their own buffers, so only x0 and x1 qualify. */
static int32_t inplace_operands(const char *kernel) {
    if (strcmp(kernel, "unary") == 0 || strcmp(kernel, "clip") == 0) return 1;
    if (strcmp(kernel, "binary") == 0 || strcmp(kernel, "variadic") == 0) return 2;
    if (strcmp(kernel, "where") == 0) return 3;
    return 0;
}

static int32_t root_of(const dlc_memory_plan *plan, const dlc_value *v) {
    return plan->alias_of[v->id] >= 0 ? plan->alias_of[v->id] : v->id;
}

/* The input of an elementwise node at pos whose bytes its output can take
 * (-1: none): an arena tensor (not the caller's input, a weight or a graph
 * output) of the output's dtype and element count, so it is read at exactly
 * the index being written, whose bytes (through any copy aliases) nobody
 * reads after this node; every other operand on the same bytes must be
 * full-size too, and none may be one the kernel reads after writing. */
static int32_t inplace_source(const dlc_graph *g, const dlc_memory_plan *plan, const int32_t *last, int32_t pos,
                              int32_t eligible) {
    const dlc_node *node = g->nodes[pos];
    const dlc_value *out = node->outputs[0];
    int64_t numel = dlc_value_numel(out);
    for (int32_t k = 0; k < eligible && k < node->num_inputs; k++) {
        const dlc_value *in = node->inputs[k];
        if (in == NULL || in->dtype != out->dtype || dlc_value_numel(in) != numel) continue;
        int32_t root = root_of(plan, in);
        const dlc_value *r = g->values[root];
        if (r->kind != DLC_VALUE_INTERMEDIATE || plan->values[root].kind != DLC_LOC_NONE || last[root] != pos)
            continue;
        bool ok = true;
        for (int32_t i = 0; i < node->num_inputs && ok; i++) {
            const dlc_value *other = node->inputs[i];
            if (other == NULL || root_of(plan, other) != root) continue;
            ok = i < eligible && dlc_value_numel(other) == numel;
        }
        if (ok) return root;
    }
    return -1;
}

/* Shares bytes, in node order, so chains resolve to one root (see
 * dlc_memory_plan.alias_of); the shared bytes live until the last reader of
 * any of them. Run before the arena is placed.
 * - A copy node (Reshape, Flatten, ...) whose input is an arena tensor or a
 *   graph input and whose output is an arena tensor: the kernel then finds
 *   source and destination equal and copies nothing.
 * - An elementwise node whose input dies there (inplace_source): the output
 *   overwrites it, so the arena shrinks and the data stays in cache. */
static dlc_status plan_aliases(const dlc_graph *g, bool in_place, dlc_memory_plan *plan, int32_t *last) {
    char kernel[64];
    for (int32_t pos = 0; pos < g->num_nodes; pos++) {
        const dlc_node *node = g->nodes[pos];
        DLC_TRY(node_kernel(g, node, kernel, sizeof kernel));
        if (kernel[0] == '\0') continue;
        const dlc_value *out = node->outputs[0];
        if (out->kind != DLC_VALUE_INTERMEDIATE || plan->values[out->id].kind != DLC_LOC_NONE) continue;
        int32_t root = -1;
        if (strcmp(kernel, "copy") == 0) {
            const dlc_value *in = node->inputs[0];
            if (in == NULL || in->dtype != out->dtype || dlc_value_numel(in) != dlc_value_numel(out)) continue;
            root = root_of(plan, in);
            bool arena = g->values[root]->kind == DLC_VALUE_INTERMEDIATE && plan->values[root].kind == DLC_LOC_NONE;
            bool input = plan->values[root].kind == DLC_LOC_INPUT;
            if (!arena && !input) continue;
        } else {
            int32_t eligible = in_place ? inplace_operands(kernel) : 0;
            if (eligible == 0 || (root = inplace_source(g, plan, last, pos, eligible)) < 0) continue;
        }
        if (strcmp(kernel, "copy") == 0) plan->num_copies_shared++;
        else plan->num_in_place++;
        plan->alias_of[out->id] = root;
        if (last[out->id] > last[root]) last[root] = last[out->id];
    }
    return DLC_OK;
}

static dlc_status plan_weights(const dlc_graph *g, const bool *used, dlc_memory_plan *plan) {
    uint64_t cursor = 0;
    for (int32_t id = 0; id < g->num_values; id++) {
        const dlc_value *v = g->values[id];
        if (v == NULL || v->kind != DLC_VALUE_CONST || !used[id]) continue;
        uint64_t bytes;
        DLC_TRY(value_bytes(g, v, &bytes));
        if (bytes != v->nbytes)
            return dlc_fail(DLC_ERR_INTERNAL, "memory plan: constant '%s' holds %zu bytes, its shape needs %llu",
                            v->name, v->nbytes, (unsigned long long)bytes);
        plan->values[id] = (dlc_location){DLC_LOC_WEIGHT, -1, cursor};
        uint64_t rounded;
        if (!round_up(bytes, PLAN_ALIGNMENT, &rounded) || cursor > UINT64_MAX - rounded)
            return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "memory plan: weights size overflows at '%s'", v->name);
        cursor += rounded;
    }
    plan->weights_size = cursor;
    return DLC_OK;
}

static dlc_status plan_arena(const dlc_graph *g, const int32_t *first, const int32_t *last, dlc_memory_plan *plan) {
    int32_t capacity = g->num_values + g->num_nodes;
    arena_buffer *buffers = calloc((size_t)capacity + 1, sizeof *buffers);
    if (buffers == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "memory plan: %d buffers", capacity);
    int32_t count = 0;
    dlc_status st = DLC_OK;
    for (int32_t id = 0; id < g->num_values && st == DLC_OK; id++) {
        const dlc_value *v = g->values[id];
        if (v == NULL || v->kind != DLC_VALUE_INTERMEDIATE || first[id] < 0) continue;
        if (plan->values[id].kind == DLC_LOC_OUTPUT || plan->alias_of[id] >= 0) continue;
        uint64_t bytes;
        st = value_bytes(g, v, &bytes);
        if (st == DLC_OK && !round_up(bytes, PLAN_ALIGNMENT, &bytes))
            st = dlc_fail(DLC_ERR_OUT_OF_MEMORY, "memory plan: tensor '%s' is too large", v->name);
        buffers[count++] = (arena_buffer){bytes, first[id], last[id], 0, id, -1};
    }
    for (int32_t pos = 0; pos < g->num_nodes && st == DLC_OK; pos++) {
        uint64_t bytes;
        st = node_workspace(g, g->nodes[pos], &bytes);
        if (st == DLC_OK && !round_up(bytes, PLAN_ALIGNMENT, &bytes))
            st = dlc_fail(DLC_ERR_OUT_OF_MEMORY, "memory plan: workspace too large");
        if (st == DLC_OK && bytes > 0) buffers[count++] = (arena_buffer){bytes, pos, pos, 0, -1, pos};
    }
    if (st == DLC_OK) {
        qsort(buffers, (size_t)count, sizeof *buffers, by_size_descending);
        st = place_buffers(buffers, count, &plan->arena_size);
    }
    for (int32_t i = 0; i < count && st == DLC_OK; i++) {
        const arena_buffer *b = &buffers[i];
        if (b->value_id >= 0) {
            plan->values[b->value_id] = (dlc_location){DLC_LOC_ARENA, -1, b->offset};
        } else {
            plan->workspace_offset[b->node_pos] = b->offset;
            plan->workspace_size[b->node_pos] = b->size;
        }
    }
    for (int32_t id = 0; id < g->num_values && st == DLC_OK; id++)
        if (plan->alias_of[id] >= 0) plan->values[id] = plan->values[plan->alias_of[id]];
    free(buffers);
    return st;
}

/* One plan, with or without in-place elementwise nodes. */
static dlc_status build_plan(const dlc_graph *g, bool in_place, dlc_memory_plan *out_plan) {
    dlc_memory_plan plan = {.num_values = g->num_values, .num_nodes = g->num_nodes, .alignment = PLAN_ALIGNMENT};
    size_t nv = (size_t)g->num_values + 1, nn = (size_t)g->num_nodes + 1;
    plan.values = calloc(nv, sizeof *plan.values);
    plan.workspace_offset = calloc(nn, sizeof *plan.workspace_offset);
    plan.workspace_size = calloc(nn, sizeof *plan.workspace_size);
    plan.alias_of = malloc(nv * sizeof *plan.alias_of);
    for (int32_t id = 0; plan.alias_of != NULL && id < g->num_values; id++) plan.alias_of[id] = -1;
    int32_t *first = malloc(nv * sizeof *first);
    int32_t *last = malloc(nv * sizeof *last);
    bool *used = malloc(nv * sizeof *used);
    dlc_status st = DLC_OK;
    if (!plan.values || !plan.workspace_offset || !plan.workspace_size || !plan.alias_of || !first || !last || !used)
        st = dlc_fail(DLC_ERR_OUT_OF_MEMORY, "memory plan for %d values", g->num_values);
    if (st == DLC_OK) st = compute_lifetimes(g, first, last, used);
    /* every tensor the run touches needs a size, even the caller's */
    for (int32_t id = 0; id < g->num_values && st == DLC_OK; id++) {
        uint64_t bytes;
        if (g->values[id] != NULL && used[id]) st = value_bytes(g, g->values[id], &bytes);
    }
    if (st == DLC_OK) {
        for (int32_t i = 0; i < g->num_inputs; i++)
            plan.values[g->inputs[i]->id] = (dlc_location){DLC_LOC_INPUT, i, 0};
        /* The first output slot naming a node-produced value is written in
         * place; further slots of the same value (and inputs or constants
         * returned as outputs) are copied by codegen. */
        for (int32_t j = 0; j < g->num_outputs; j++) {
            const dlc_value *v = g->outputs[j];
            if (v->kind == DLC_VALUE_INTERMEDIATE && first[v->id] >= 0 && plan.values[v->id].kind == DLC_LOC_NONE)
                plan.values[v->id] = (dlc_location){DLC_LOC_OUTPUT, j, 0};
        }
        st = plan_weights(g, used, &plan);
    }
    if (st == DLC_OK) st = plan_aliases(g, in_place, &plan, last);
    if (st == DLC_OK) st = plan_arena(g, first, last, &plan);
    free(first);
    free(last);
    free(used);
    if (st != DLC_OK) {
        dlc_memory_plan_free(&plan);
        return st;
    }
    *out_plan = plan;
    return DLC_OK;
}

/* Greedy placement is not optimal: a run of in-place nodes is one buffer
 * alive over the whole run, which can pack worse than the short-lived
 * buffers it replaces (resnet50 at -O0: 15.8 MB of arena without in-place
 * nodes, 17.1 MB with). The plan without them is kept when it is smaller. */
dlc_status dlc_memory_plan_build(const dlc_graph *g, dlc_memory_plan *out_plan) {
    memset(out_plan, 0, sizeof *out_plan);
    if (g == NULL) return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "memory plan: graph is NULL");
    dlc_memory_plan plan, plain;
    DLC_TRY(build_plan(g, true, &plan));
    if (plan.num_in_place == 0) {
        *out_plan = plan;
        return DLC_OK;
    }
    dlc_status st = build_plan(g, false, &plain);
    if (st != DLC_OK) {
        dlc_memory_plan_free(&plan);
        return st;
    }
    bool smaller = plain.arena_size < plan.arena_size;
    dlc_memory_plan_free(smaller ? &plan : &plain);
    *out_plan = smaller ? plain : plan;
    return DLC_OK;
}
