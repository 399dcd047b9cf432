/* One artifact for every size: sample the pipeline, check that every sample
 * has the same structure, fit what changes as shape polynomials, verify,
 * lay out the arena by size polynomial (codegen/dynamic.h). */
#include "codegen/dynamic.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codegen/llvm/llvm_backend.h"
#include "ir/op_registry.h"
#include "ir/printer.h"
#include "kernels/dlc_kernel.h"
#include "kernels/kernel_registry.h"
#include "passes/memory_plan.h"
#include "passes/pipeline.h"
#include "runtime/status.h"

enum { MAX_ROUNDS = 8, NUM_VERIFY = 3 };

/* Verification points: larger than the fitting lattice, symbols pairwise
 * different so that no accidental equality hides a wrong fit. */
static const int64_t verify_points[NUM_VERIFY][DLC_POLY_MAX_SYMBOLS] = {
    {7, 9, 11, 13}, {10, 6, 12, 5}, {3, 13, 4, 8}};

typedef struct node_record {
    char kernel[64];
    void *params;
    size_t params_size;
    int64_t workspace;
    int64_t flops; /* dlc_node_flops: < 0 unknown */
} node_record;

typedef struct sample {
    int64_t symbols[DLC_POLY_MAX_SYMBOLS];
    dlc_graph *g;
    dlc_memory_plan plan;
    node_record *nodes;
    /* by value id: a weight whose data equalled the base sample's and was
     * freed (a large model would otherwise hold its weights once per sample) */
    bool *released;
} sample;

typedef struct dyn_ctx {
    int32_t num_samples;  /* pipeline runs so far, and their time (for the log) */
    double sample_seconds;
    const dlc_graph *g0;
    const dlc_compile_options *opts;
    int32_t num_symbols;
    const char *names[DLC_POLY_MAX_SYMBOLS];
    char **no_fold;
    int32_t num_no_fold;
} dyn_ctx;

bool dlc_graph_has_symbolic_inputs(const dlc_graph *g) {
    for (int32_t i = 0; i < g->num_inputs; i++) {
        const dlc_shape *s = &g->inputs[i]->shape;
        for (int32_t d = 0; d < s->rank; d++)
            if (!dlc_dim_is_static(s->dims[d])) return true;
    }
    return false;
}

static const char *format_point(const dyn_ctx *ctx, const int64_t *symbols, char *buf, size_t size) {
    size_t used = 0;
    buf[0] = '\0';
    for (int32_t k = 0; k < ctx->num_symbols && used < size; k++)
        used += (size_t)snprintf(buf + used, size - used, "%s%s=%lld", k ? ", " : "", ctx->names[k],
                                 (long long)symbols[k]);
    return buf;
}

static const char *symbol_list(const dyn_ctx *ctx, char *buf, size_t size) {
    size_t used = 0;
    buf[0] = '\0';
    for (int32_t k = 0; k < ctx->num_symbols && used < size; k++)
        used += (size_t)snprintf(buf + used, size - used, "%s'%s'", k ? ", " : "", ctx->names[k]);
    return buf;
}

static void sample_free(sample *s) {
    if (s->g != NULL) {
        for (int32_t i = 0; s->nodes != NULL && i < s->g->num_nodes; i++) free(s->nodes[i].params);
        dlc_graph_free(s->g);
    }
    free(s->nodes);
    free(s->released);
    dlc_memory_plan_free(&s->plan);
    memset(s, 0, sizeof *s);
}

/* Which poly symbol a graph dim is, or -1. */
static int32_t symbol_of(const dyn_ctx *ctx, const dlc_graph *g, dlc_dim d) {
    if (dlc_dim_is_static(d) || d.sym < 0 || d.sym >= g->num_symbols) return -1;
    for (int32_t k = 0; k < ctx->num_symbols; k++)
        if (strcmp(ctx->names[k], g->symbols[d.sym]) == 0) return k;
    return -1;
}

static dlc_status bind_symbols(const dyn_ctx *ctx, dlc_graph *g, const int64_t *symbols) {
    dlc_input_shape *shapes = calloc((size_t)g->num_inputs + 1, sizeof *shapes);
    if (shapes == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "dynamic shapes: out of memory");
    int32_t count = 0;
    for (int32_t i = 0; i < g->num_inputs; i++) {
        const dlc_value *in = g->inputs[i];
        if (in->shape.rank < 0 || dlc_shape_is_static(&in->shape)) continue;
        dlc_input_shape *s = &shapes[count++];
        s->name = in->name;
        s->rank = in->shape.rank;
        for (int32_t d = 0; d < in->shape.rank; d++) {
            int32_t k = symbol_of(ctx, g, in->shape.dims[d]);
            s->dims[d] = k >= 0 ? symbols[k] : in->shape.dims[d].value;
        }
    }
    dlc_status st = dlc_bind_input_shapes(g, shapes, count);
    free(shapes);
    return st;
}

static double seconds_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static dlc_status run_sample_timed(const dyn_ctx *ctx, const int64_t *symbols, sample *out);

/* The whole pipeline at one assignment of the symbols. */
static dlc_status run_sample(dyn_ctx *ctx, const int64_t *symbols, sample *out) {
    double start = seconds_now();
    dlc_status st = run_sample_timed(ctx, symbols, out);
    ctx->num_samples++;
    ctx->sample_seconds += seconds_now() - start;
    return st;
}

static dlc_status run_sample_timed(const dyn_ctx *ctx, const int64_t *symbols, sample *out) {
    memset(out, 0, sizeof *out);
    memcpy(out->symbols, symbols, sizeof out->symbols);
    const dlc_compile_options *opts = ctx->opts;
    /* g0 is the imported graph with sequences and --shape bound already */
    DLC_TRY(dlc_graph_clone_sharing_data(ctx->g0, &out->g));
    dlc_graph *g = out->g;
    dlc_status st = DLC_OK;
    for (int32_t i = 0; i < ctx->num_no_fold && st == DLC_OK; i++) st = dlc_graph_add_no_fold(g, ctx->no_fold[i]);
    if (st == DLC_OK) st = bind_symbols(ctx, g, symbols);
    if (st == DLC_OK) st = dlc_bind_input_values(g, opts->input_values, opts->num_input_values);
    if (st == DLC_OK) st = dlc_infer_and_fold(g);
    dlc_pass_options pass_opts = {.opt_level = opts->opt_level, .sizes_vary = true};
    if (st == DLC_OK) st = dlc_run_passes(g, &pass_opts);
    if (st == DLC_OK) st = dlc_check_static_shapes(g);
    if (st == DLC_OK) st = dlc_memory_plan_build(g, &out->plan);
    if (st == DLC_OK && (out->nodes = calloc((size_t)g->num_nodes + 1, sizeof *out->nodes)) == NULL)
        st = dlc_fail(DLC_ERR_OUT_OF_MEMORY, "dynamic shapes: out of memory");
    dlc_kcall *call = st == DLC_OK ? malloc(sizeof *call) : NULL;
    if (st == DLC_OK && call == NULL) st = dlc_fail(DLC_ERR_OUT_OF_MEMORY, "dynamic shapes: out of memory");
    for (int32_t pos = 0; pos < (st == DLC_OK ? g->num_nodes : 0) && st == DLC_OK; pos++) {
        const dlc_node *node = g->nodes[pos];
        node_record *r = &out->nodes[pos];
        char where[256];
        if (node->schema == NULL || node->schema->lower == NULL) {
            st = dlc_fail(DLC_ERR_UNSUPPORTED, "node %s has no kernel lowering",
                          dlc_node_describe(node, where, sizeof where));
            break;
        }
        st = node->schema->lower(g, node, call);
        if (st != DLC_OK) break;
        snprintf(r->kernel, sizeof r->kernel, "%s", call->kernel);
        st = dlc_kparams_build(node, call, &r->params, &r->params_size);
        const dlc_kernel_entry *kernel = dlc_kernel_find(call->kernel);
        if (st == DLC_OK && kernel != NULL && kernel->workspace != NULL) r->workspace = kernel->workspace(r->params);
        r->flops = dlc_node_flops(node);
    }
    free(call);
    if (st != DLC_OK) {
        char point[256];
        dlc_fail_context(st, "dynamic shapes: sample %s", format_point(ctx, symbols, point, sizeof point));
        sample_free(out);
        /* sizes the graph does not fit (a split or a bound shape made for
         * one size): the model is not compilable for every size, which
         * callers may answer by binding the sizes (dlc test falls back) */
        if (st == DLC_ERR_SHAPE_MISMATCH || st == DLC_ERR_INVALID_ARGUMENT) st = DLC_ERR_UNSUPPORTED;
    }
    return st;
}

static bool is_int_dtype(dlc_dtype t);

/* ---- constants shared with the base sample ---- */

/* Whether value id of s holds the same bytes as base_v (of the base sample). */
static bool same_data(const sample *s, int32_t id, const dlc_value *base_v) {
    const dlc_value *w = s->g->values[id];
    if (w->nbytes != base_v->nbytes) return false;
    if ((s->released != NULL && s->released[id]) || w->data == base_v->data) return true; /* borrowed */
    return memcmp(w->data, base_v->data, w->nbytes) == 0;
}

/* Frees s's copies of the large weights the base sample holds too (folded
 * ones: those of the model are borrowed from it already): only constants
 * that differ between samples are read from s later. */
static dlc_status release_shared_constants(const sample *base, sample *s) {
    enum { MIN_RELEASED_BYTES = 4096 };
    const dlc_graph *a = base->g;
    dlc_graph *b = s->g;
    if ((s->released = calloc((size_t)b->num_values + 1, sizeof *s->released)) == NULL)
        return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "dynamic shapes: out of memory");
    for (int32_t id = 0; id < a->num_values && id < b->num_values; id++) {
        const dlc_value *v = a->values[id];
        dlc_value *w = b->values[id];
        if (v == NULL || w == NULL || base->plan.values[id].kind != DLC_LOC_WEIGHT ||
            s->plan.values[id].kind != DLC_LOC_WEIGHT || w->data == NULL || w->data_borrowed ||
            w->nbytes < MIN_RELEASED_BYTES ||
            is_int_dtype(w->dtype) || /* fitted element by element where they vary */
            w->nbytes != v->nbytes || memcmp(w->data, v->data, v->nbytes) != 0)
            continue;
        free(w->data);
        w->data = NULL;
        s->released[id] = true;
    }
    return DLC_OK;
}

/* ---- structure ---- */

static const char *node_name(const dlc_graph *g, int32_t pos, char *buf, size_t size) {
    return dlc_node_describe(g->nodes[pos], buf, size);
}

/* Same nodes, kernels, block sizes, values and locations as the base. */
static dlc_status check_structure(const dyn_ctx *ctx, const sample *base, const sample *s) {
    const dlc_graph *a = base->g, *b = s->g;
    char p0[256], p1[256], where[256];
    format_point(ctx, base->symbols, p0, sizeof p0);
    format_point(ctx, s->symbols, p1, sizeof p1);
    if (a->num_nodes != b->num_nodes || a->num_values != b->num_values)
        return dlc_fail(DLC_ERR_UNSUPPORTED,
                        "dynamic shapes: the graph has %d nodes at %s but %d at %s: its structure depends on the "
                        "sizes; bind the symbolic dims with --shape",
                        a->num_nodes, p0, b->num_nodes, p1);
    for (int32_t pos = 0; pos < a->num_nodes; pos++) {
        const dlc_node *x = a->nodes[pos], *y = b->nodes[pos];
        bool same = strcmp(x->op_type, y->op_type) == 0 && x->num_inputs == y->num_inputs &&
                    x->num_outputs == y->num_outputs;
        for (int32_t i = 0; same && i < x->num_inputs; i++)
            same = (x->inputs[i] == NULL) == (y->inputs[i] == NULL) &&
                   (x->inputs[i] == NULL || x->inputs[i]->id == y->inputs[i]->id);
        for (int32_t i = 0; same && i < x->num_outputs; i++)
            same = (x->outputs[i] == NULL) == (y->outputs[i] == NULL) &&
                   (x->outputs[i] == NULL || x->outputs[i]->id == y->outputs[i]->id);
        if (!same)
            return dlc_fail(DLC_ERR_UNSUPPORTED,
                            "dynamic shapes: node %d is %s at %s but '%s' (%s) at %s: the graph's structure depends "
                            "on the sizes; bind the symbolic dims with --shape",
                            pos, node_name(a, pos, where, sizeof where), p0, y->name, y->op_type, p1);
        const node_record *r = &base->nodes[pos], *q = &s->nodes[pos];
        if (strcmp(r->kernel, q->kernel) != 0 || r->params_size != q->params_size)
            return dlc_fail(DLC_ERR_UNSUPPORTED,
                            "dynamic shapes: node %s runs kernel '%s' (%zu parameter bytes) at %s but '%s' (%zu) at "
                            "%s; bind the symbolic dims with --shape",
                            node_name(a, pos, where, sizeof where), r->kernel, r->params_size, p0, q->kernel,
                            q->params_size, p1);
    }
    for (int32_t id = 0; id < a->num_values; id++) {
        const dlc_value *x = a->values[id], *y = b->values[id];
        if ((x == NULL) != (y == NULL)) goto values_differ;
        if (x == NULL) continue;
        const dlc_location *lx = &base->plan.values[id], *ly = &s->plan.values[id];
        if (x->kind != y->kind || x->dtype != y->dtype || x->shape.rank != y->shape.rank || lx->kind != ly->kind ||
            ((lx->kind == DLC_LOC_INPUT || lx->kind == DLC_LOC_OUTPUT) && lx->index != ly->index))
            goto values_differ;
        continue;
    values_differ:
        return dlc_fail(DLC_ERR_UNSUPPORTED,
                        "dynamic shapes: tensor '%s' is computed differently at %s and at %s (constant at one size, "
                        "computed at the other, or placed elsewhere); bind the symbolic dims with --shape",
                        x ? x->name : y->name, p0, p1);
    }
    return DLC_OK;
}

/* ---- fitting ---- */

static int32_t add_poly(dlc_dyn_plan *plan, const dlc_poly *p) {
    if (plan->num_polys == plan->cap_polys) {
        int32_t cap = plan->cap_polys ? plan->cap_polys * 2 : 256;
        dlc_poly *grown = realloc(plan->polys, (size_t)cap * sizeof *grown);
        if (grown == NULL) return -1;
        plan->polys = grown;
        plan->cap_polys = cap;
    }
    plan->polys[plan->num_polys] = *p;
    return plan->num_polys++;
}

/* Fits values[t] (one per lattice sample); -1 on overflow or out of memory. */
static int32_t fit(dlc_dyn_plan *plan, const int64_t *values) {
    dlc_poly p;
    if (!dlc_poly_fit(&plan->space, values, &p)) return -1;
    return add_poly(plan, &p);
}

static int64_t value_bytes(const dlc_value *v) {
    return dlc_value_numel(v) * (int64_t)dlc_dtype_size(v->dtype);
}

static bool is_int_dtype(dlc_dtype t) { return t == DLC_INT64 || t == DLC_INT32; }

static int64_t const_element(const dlc_value *v, int64_t i) {
    return v->dtype == DLC_INT64 ? ((const int64_t *)v->data)[i] : ((const int32_t *)v->data)[i];
}

/* Constants that differ between samples: shape vectors (fixed length,
 * integers) are fitted; anything else keeps its producer unfolded. Returns
 * through *added how many names were added to ctx->no_fold. */
static dlc_status find_varying_constants(dyn_ctx *ctx, const sample *samples, int32_t count, int32_t *added) {
    *added = 0;
    const sample *base = &samples[0];
    for (int32_t id = 0; id < base->g->num_values; id++) {
        const dlc_value *v = base->g->values[id];
        if (v == NULL || base->plan.values[id].kind != DLC_LOC_WEIGHT) continue;
        bool size_varies = false, data_varies = false;
        for (int32_t t = 1; t < count; t++) {
            const dlc_value *w = samples[t].g->values[id];
            if (w->nbytes != v->nbytes) size_varies = true;
            else if (!same_data(&samples[t], id, v)) data_varies = true;
        }
        if (!size_varies && (!data_varies || is_int_dtype(v->dtype))) continue;
        char **grown = realloc(ctx->no_fold, ((size_t)ctx->num_no_fold + 1) * sizeof *grown);
        if (grown == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "dynamic shapes: out of memory");
        ctx->no_fold = grown;
        for (int32_t i = 0; i < ctx->num_no_fold; i++)
            if (strcmp(ctx->no_fold[i], v->name) == 0) {
                char list[128];
                return dlc_fail(DLC_ERR_UNSUPPORTED,
                                "dynamic shapes: constant '%s' depends on the symbolic dims (%s) and cannot be "
                                "computed at run time (it decides a shape or is not produced by a node); bind the "
                                "dims with --shape",
                                v->name, symbol_list(ctx, list, sizeof list));
            }
        if ((ctx->no_fold[ctx->num_no_fold] = strdup(v->name)) == NULL)
            return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "dynamic shapes: out of memory");
        ctx->num_no_fold++;
        (*added)++;
        if (ctx->opts->log)
            fprintf(ctx->opts->log, "compile: dynamic: '%s' depends on the sizes, computed at run time\n", v->name);
    }
    return DLC_OK;
}

/* What word w of a parameter block is, for messages. */
static const char *describe_word(const dlc_node *node, const dlc_kparams *p, int32_t w, char *buf, size_t size) {
    int32_t tensors = p->num_inputs + p->num_outputs, per = (int32_t)(sizeof(dlc_ktensor) / 8);
    int32_t x = w - (int32_t)(sizeof(dlc_kparams) / 8);
    if (x < 0) snprintf(buf, size, "header word %d", w);
    else if (x < tensors * per) {
        int32_t t = x / per, f = x % per;
        bool in = t < p->num_inputs;
        const dlc_value *v = in ? node->inputs[t] : node->outputs[t - p->num_inputs];
        const char *name = v ? v->name : "?";
        if (f == 0) snprintf(buf, size, "%s %d ('%s') dtype and rank", in ? "input" : "output", in ? t : t - p->num_inputs, name);
        else if (f == 1) snprintf(buf, size, "%s %d ('%s') element count", in ? "input" : "output", in ? t : t - p->num_inputs, name);
        else snprintf(buf, size, "%s %d ('%s') dim %d", in ? "input" : "output", in ? t : t - p->num_inputs, name, f - 2);
    } else if (x - tensors * per < p->num_ints) snprintf(buf, size, "integer parameter %d", x - tensors * per);
    else snprintf(buf, size, "float parameter %d", x - tensors * per - p->num_ints);
    return buf;
}

static bool word_is_float(const dlc_kparams *p, int32_t w) {
    int32_t x = w - (int32_t)(sizeof(dlc_kparams) / 8) - (p->num_inputs + p->num_outputs) * (int32_t)(sizeof(dlc_ktensor) / 8);
    return x >= p->num_ints;
}

static int64_t word_at(const node_record *r, int32_t w) {
    int64_t v;
    memcpy(&v, (const char *)r->params + (size_t)w * 8, sizeof v);
    return v;
}

static bool poly_gives(const dlc_dyn_plan *plan, int32_t poly, const int64_t *symbols, int64_t actual,
                       int64_t *expected);

/* Per node: the words that differ between samples, fitted. */
/* values[] fitted on the lattice samples and checked on the verification
 * samples (count.. total): the polynomial, or -1 when it is none. */
static int32_t fit_verified(dlc_dyn_plan *plan, const sample *samples, int32_t count, int32_t total,
                            const int64_t *values) {
    int32_t poly = fit(plan, values);
    int64_t expected;
    for (int32_t t = count; t < total && poly >= 0; t++)
        if (!poly_gives(plan, poly, samples[t].symbols, values[t], &expected)) poly = -1;
    return poly;
}

/* A node's FLOPs at every sample, fitted and verified: -1 when they are
 * unknown or no polynomial (profiles then show no GFLOP/s for this
 * artifact; the code does not depend on them). */
static int32_t fit_flops(dlc_dyn_plan *plan, const sample *samples, int32_t count, int32_t total, int32_t pos,
                         int64_t *values) {
    for (int32_t t = 0; t < total; t++)
        if ((values[t] = samples[t].nodes[pos].flops) < 0) return -1;
    return fit_verified(plan, samples, count, total, values);
}

static dlc_status fit_nodes(const dyn_ctx *ctx, const sample *samples, int32_t count, int32_t total,
                            dlc_dyn_plan *plan) {
    const sample *base = &samples[0];
    int64_t *values = malloc((size_t)total * sizeof *values);
    if (values == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "dynamic shapes: out of memory");
    dlc_status st = DLC_OK;
    plan->flops_fitted = true;
    for (int32_t pos = 0; pos < base->g->num_nodes && st == DLC_OK; pos++) {
        const node_record *r = &base->nodes[pos];
        dlc_dyn_node *dn = &plan->nodes[pos];
        dn->workspace_slot = -1;
        dn->workspace_poly = -1;
        dn->flops_poly = fit_flops(plan, samples, count, total, pos, values);
        if (dn->flops_poly < 0) plan->flops_fitted = false;
        int32_t num_words = (int32_t)(r->params_size / 8);
        for (int32_t w = 0; w < num_words && st == DLC_OK; w++) {
            bool varies = false;
            for (int32_t t = 0; t < count; t++) {
                values[t] = word_at(&samples[t].nodes[pos], w);
                if (values[t] != values[0]) varies = true;
            }
            if (!varies) continue;
            char where[256], what[256], list[128];
            const dlc_kparams *p = r->params;
            if (word_is_float(p, w)) {
                st = dlc_fail(DLC_ERR_UNSUPPORTED,
                              "dynamic shapes: node %s: %s changes with the symbolic dims (%s); only integer "
                              "parameters can follow the sizes at run time; bind the dims with --shape",
                              node_name(base->g, pos, where, sizeof where), describe_word(base->g->nodes[pos], p, w, what, sizeof what),
                              symbol_list(ctx, list, sizeof list));
                break;
            }
            int32_t poly = fit(plan, values);
            dlc_dyn_word *grown = realloc(dn->words, ((size_t)dn->num_words + 1) * sizeof *grown);
            if (grown != NULL) dn->words = grown;
            if (poly < 0 || grown == NULL) {
                st = dlc_fail(DLC_ERR_UNSUPPORTED, "dynamic shapes: node %s: %s cannot be fitted (overflow)",
                              node_name(base->g, pos, where, sizeof where), describe_word(base->g->nodes[pos], p, w, what, sizeof what));
                break;
            }
            dn->words = grown;
            dn->words[dn->num_words++] = (dlc_dyn_word){w, poly};
        }
        bool any_workspace = false;
        for (int32_t t = 0; t < total; t++) {
            values[t] = samples[t].nodes[pos].workspace;
            if (values[t] != 0) any_workspace = true;
        }
        if (!any_workspace || st != DLC_OK) continue;
        dn->workspace_poly = fit_verified(plan, samples, count, total, values);
        if (dn->workspace_poly < 0) { /* the kernel sizes it at run time */
            snprintf(dn->workspace_fn, sizeof dn->workspace_fn, "dlc_kernel_%s_workspace", r->kernel);
        }
    }
    free(values);
    return st;
}

/* Arena tensor sizes, shape-vector constants and output dims. */
static dlc_status fit_values(const sample *samples, int32_t count, dlc_dyn_plan *plan, int32_t *size_poly) {
    const sample *base = &samples[0];
    int64_t *values = malloc((size_t)count * sizeof *values);
    if (values == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "dynamic shapes: out of memory");
    dlc_status st = DLC_OK;
    for (int32_t id = 0; id < base->g->num_values && st == DLC_OK; id++) {
        const dlc_value *v = base->g->values[id];
        size_poly[id] = -1;
        if (v == NULL) continue;
        dlc_location_kind kind = base->plan.values[id].kind;
        if (kind == DLC_LOC_ARENA) {
            for (int32_t t = 0; t < count; t++) values[t] = value_bytes(samples[t].g->values[id]);
            if ((size_poly[id] = fit(plan, values)) < 0) st = dlc_fail(DLC_ERR_OUT_OF_MEMORY, "dynamic shapes: fit");
        } else if (kind == DLC_LOC_WEIGHT && is_int_dtype(v->dtype)) {
            bool varies = false;
            for (int32_t t = 1; t < count && !varies; t++)
                varies = !same_data(&samples[t], id, v);
            if (!varies) continue;
            dlc_dyn_const *grown = realloc(plan->consts, ((size_t)plan->num_consts + 1) * sizeof *grown);
            if (grown == NULL) {
                st = dlc_fail(DLC_ERR_OUT_OF_MEMORY, "dynamic shapes: out of memory");
                break;
            }
            plan->consts = grown;
            int64_t numel = dlc_value_numel(v);
            dlc_dyn_const *c = &plan->consts[plan->num_consts++];
            *c = (dlc_dyn_const){id, -1, (int32_t)v->dtype, numel, plan->num_polys};
            for (int64_t i = 0; i < numel && st == DLC_OK; i++) {
                for (int32_t t = 0; t < count; t++) values[t] = const_element(samples[t].g->values[id], i);
                if (fit(plan, values) < 0) st = dlc_fail(DLC_ERR_OUT_OF_MEMORY, "dynamic shapes: fit");
            }
            dlc_poly bytes = {{0}};
            bytes.c[0] = (int64_t)v->nbytes;
            if (st == DLC_OK && (size_poly[id] = add_poly(plan, &bytes)) < 0)
                st = dlc_fail(DLC_ERR_OUT_OF_MEMORY, "dynamic shapes: fit");
        }
    }
    for (int32_t j = 0; j < base->g->num_outputs && st == DLC_OK; j++) {
        const dlc_value *v = base->g->outputs[j];
        for (int32_t d = 0; d < v->shape.rank && st == DLC_OK; d++) {
            for (int32_t t = 0; t < count; t++) values[t] = samples[t].g->outputs[j]->shape.dims[d].value;
            if ((plan->output_dims[j * DLC_MAX_RANK + d] = fit(plan, values)) < 0)
                st = dlc_fail(DLC_ERR_OUT_OF_MEMORY, "dynamic shapes: fit");
        }
    }
    free(values);
    return st;
}

/* ---- verification ---- */

static bool poly_gives(const dlc_dyn_plan *plan, int32_t poly, const int64_t *symbols, int64_t actual,
                       int64_t *expected) {
    if (!dlc_poly_eval(&plan->space, &plan->polys[poly], symbols, expected)) return false;
    return *expected == actual;
}

static dlc_status not_polynomial(const dyn_ctx *ctx, const char *what, const int64_t *symbols, int64_t actual,
                                 int64_t expected) {
    char point[256], list[128];
    return dlc_fail(DLC_ERR_UNSUPPORTED,
                    "dynamic shapes: %s is not a polynomial of degree <= 3 in %s: at %s it is %lld, the fit "
                    "predicts %lld; bind the symbolic dims with --shape",
                    what, symbol_list(ctx, list, sizeof list), format_point(ctx, symbols, point, sizeof point),
                    (long long)actual, (long long)expected);
}

/* Everything fitted predicts sample s. */
static dlc_status verify_sample(const dyn_ctx *ctx, const sample *base, const sample *s, const dlc_dyn_plan *plan,
                                const int32_t *size_poly) {
    DLC_TRY(check_structure(ctx, base, s));
    char where[256], what[512];
    int64_t expected;
    for (int32_t pos = 0; pos < base->g->num_nodes; pos++) {
        const node_record *r = &base->nodes[pos], *q = &s->nodes[pos];
        const dlc_dyn_node *dn = &plan->nodes[pos];
        int32_t num_words = (int32_t)(r->params_size / 8), next = 0;
        for (int32_t w = 0; w < num_words; w++) {
            int64_t actual = word_at(q, w);
            bool dynamic = next < dn->num_words && dn->words[next].word == w;
            int32_t poly = dynamic ? dn->words[next++].poly : -1;
            bool ok = dynamic ? poly_gives(plan, poly, s->symbols, actual, &expected)
                              : (expected = word_at(r, w)) == actual;
            if (!ok) {
                char part[256];
                snprintf(what, sizeof what, "node %s: %s", node_name(base->g, pos, where, sizeof where),
                         describe_word(base->g->nodes[pos], r->params, w, part, sizeof part));
                return not_polynomial(ctx, what, s->symbols, actual, expected);
            }
        }
        int64_t ws = q->workspace;
        bool ok = dn->workspace_fn[0] != '\0' ||
                  (dn->workspace_poly >= 0 ? poly_gives(plan, dn->workspace_poly, s->symbols, ws, &expected)
                                           : (expected = 0) == ws);
        if (!ok) {
            snprintf(what, sizeof what, "node %s: the workspace size", node_name(base->g, pos, where, sizeof where));
            return not_polynomial(ctx, what, s->symbols, ws, expected);
        }
    }
    for (int32_t id = 0; id < base->g->num_values; id++) {
        const dlc_value *v = base->g->values[id], *w = s->g->values[id];
        if (v == NULL) continue;
        dlc_location_kind kind = base->plan.values[id].kind;
        if (kind == DLC_LOC_ARENA && !poly_gives(plan, size_poly[id], s->symbols, value_bytes(w), &expected)) {
            snprintf(what, sizeof what, "the size of tensor '%s'", v->name);
            return not_polynomial(ctx, what, s->symbols, value_bytes(w), expected);
        }
        if (kind != DLC_LOC_WEIGHT) continue;
        const dlc_dyn_const *c = NULL;
        for (int32_t i = 0; i < plan->num_consts; i++)
            if (plan->consts[i].value_id == id) c = &plan->consts[i];
        if (w->nbytes != v->nbytes || (c == NULL && !same_data(s, id, v))) {
            char p0[256], p1[256];
            return dlc_fail(DLC_ERR_UNSUPPORTED,
                            "dynamic shapes: constant '%s' differs between %s and %s; bind the symbolic dims with "
                            "--shape",
                            v->name, format_point(ctx, base->symbols, p0, sizeof p0),
                            format_point(ctx, s->symbols, p1, sizeof p1));
        }
        for (int64_t i = 0; c != NULL && i < c->numel; i++)
            if (!poly_gives(plan, c->first_poly + (int32_t)i, s->symbols, const_element(w, i), &expected)) {
                snprintf(what, sizeof what, "element %lld of the computed shape '%s'", (long long)i, v->name);
                return not_polynomial(ctx, what, s->symbols, const_element(w, i), expected);
            }
    }
    for (int32_t j = 0; j < base->g->num_outputs; j++) {
        const dlc_value *v = s->g->outputs[j];
        for (int32_t d = 0; d < v->shape.rank; d++)
            if (!poly_gives(plan, plan->output_dims[j * DLC_MAX_RANK + d], s->symbols, v->shape.dims[d].value,
                            &expected)) {
                snprintf(what, sizeof what, "dim %d of output '%s'", d, v->name);
                return not_polynomial(ctx, what, s->symbols, v->shape.dims[d].value, expected);
            }
    }
    return DLC_OK;
}

/* ---- arena layout ---- */

typedef struct slot_buffer {
    int32_t first, last, poly;
    int32_t *slot; /* where the result goes */
} slot_buffer;

static int by_first(const void *a, const void *b) {
    const slot_buffer *x = a, *y = b;
    return x->first != y->first ? (x->first < y->first ? -1 : 1) : 0;
}

/* shared[root]: the values aliased to arena value root (alias_of) take its
 * slot at every size. The base sample's plan paired them at its own sizes,
 * where an elementwise node's operand may be full-size only by chance (a
 * broadcast dim that is 1 there); so a group shares only when every member
 * has the root's size polynomial, which also rules out broadcasting at every
 * size. Otherwise each member gets a slot of its own, which is always valid:
 * every kernel then writes its own output (a copy copies). */
static void mark_shared_roots(const sample *base, const int32_t *size_poly, const dlc_dyn_plan *plan, bool *shared) {
    const dlc_graph *g = base->g;
    const int32_t *alias_of = base->plan.alias_of;
    for (int32_t id = 0; id < g->num_values; id++) shared[id] = size_poly[id] >= 0;
    for (int32_t id = 0; id < g->num_values; id++) {
        int32_t root = alias_of[id];
        if (root < 0 || !shared[root]) continue;
        if (size_poly[id] < 0 ||
            !dlc_poly_equal(&plan->space, &plan->polys[size_poly[id]], &plan->polys[size_poly[root]]))
            shared[root] = false;
    }
}

/* Buffers share a slot only when their sizes are the same polynomial and
 * their lifetimes are disjoint: valid at every size. */
static dlc_status layout_arena(const sample *base, const int32_t *size_poly, dlc_dyn_plan *plan) {
    const dlc_graph *g = base->g;
    int32_t cap = g->num_values + g->num_nodes + 1;
    slot_buffer *buffers = calloc((size_t)cap, sizeof *buffers);
    int32_t *first = malloc((size_t)(g->num_values + 1) * sizeof *first);
    int32_t *last = malloc((size_t)(g->num_values + 1) * sizeof *last);
    int32_t *slot_last = malloc((size_t)cap * sizeof *slot_last);
    bool *shared = malloc((size_t)(g->num_values + 1) * sizeof *shared);
    plan->slot_poly = malloc((size_t)cap * sizeof *plan->slot_poly);
    dlc_status st = buffers && first && last && slot_last && shared && plan->slot_poly
                        ? DLC_OK
                        : dlc_fail(DLC_ERR_OUT_OF_MEMORY, "dynamic shapes: out of memory");
    int32_t count = 0;
    if (st == DLC_OK) {
        for (int32_t id = 0; id < g->num_values; id++) first[id] = last[id] = -2;
        for (int32_t pos = 0; pos < g->num_nodes; pos++) {
            const dlc_node *n = g->nodes[pos];
            for (int32_t i = 0; i < n->num_inputs; i++)
                if (n->inputs[i] != NULL) last[n->inputs[i]->id] = pos;
            for (int32_t i = 0; i < n->num_outputs; i++)
                if (n->outputs[i] != NULL) {
                    first[n->outputs[i]->id] = pos;
                    if (last[n->outputs[i]->id] < pos) last[n->outputs[i]->id] = pos;
                }
        }
        for (int32_t j = 0; j < g->num_outputs; j++) last[g->outputs[j]->id] = g->num_nodes;
        /* a value that shares its source's bytes in the base sample's plan
         * (memory_plan.h alias_of: a copy, or an elementwise node writing
         * over its dying input) shares its slot, which then lives until the
         * alias's last reader */
        mark_shared_roots(base, size_poly, plan, shared);
        const int32_t *alias_of = base->plan.alias_of;
        for (int32_t id = 0; id < g->num_values; id++)
            if (alias_of[id] >= 0 && shared[alias_of[id]] && last[id] > last[alias_of[id]])
                last[alias_of[id]] = last[id];
        for (int32_t id = 0; id < g->num_values; id++) {
            if (size_poly[id] < 0 || (alias_of[id] >= 0 && shared[alias_of[id]])) continue;
            bool is_const = base->plan.values[id].kind == DLC_LOC_WEIGHT;
            /* shape vectors are written before the first node */
            buffers[count++] = (slot_buffer){is_const ? -1 : first[id], last[id], size_poly[id], &plan->value_slot[id]};
        }
        for (int32_t pos = 0; pos < g->num_nodes; pos++)
            if (plan->nodes[pos].workspace_poly >= 0)
                buffers[count++] =
                    (slot_buffer){pos, pos, plan->nodes[pos].workspace_poly, &plan->nodes[pos].workspace_slot};
        qsort(buffers, (size_t)count, sizeof *buffers, by_first);
        for (int32_t i = 0; i < count; i++) {
            slot_buffer *b = &buffers[i];
            int32_t chosen = -1;
            for (int32_t k = 0; k < plan->num_slots && chosen < 0; k++)
                if (slot_last[k] < b->first &&
                    dlc_poly_equal(&plan->space, &plan->polys[plan->slot_poly[k]], &plan->polys[b->poly]))
                    chosen = k;
            if (chosen < 0) {
                chosen = plan->num_slots++;
                plan->slot_poly[chosen] = b->poly;
            }
            slot_last[chosen] = b->last;
            *b->slot = chosen;
        }
    }
    for (int32_t id = 0; st == DLC_OK && id < g->num_values; id++)
        if (base->plan.alias_of[id] >= 0 && shared[base->plan.alias_of[id]])
            plan->value_slot[id] = plan->value_slot[base->plan.alias_of[id]];
    for (int32_t i = 0; i < plan->num_consts; i++) plan->consts[i].slot = plan->value_slot[plan->consts[i].value_id];
    free(buffers);
    free(first);
    free(last);
    free(slot_last);
    free(shared);
    return st;
}

void dlc_dyn_plan_free(dlc_dyn_plan *plan) {
    if (plan == NULL) return;
    for (int32_t k = 0; k < DLC_POLY_MAX_SYMBOLS; k++) free(plan->symbol_names[k]);
    for (int32_t i = 0; plan->nodes != NULL && i < plan->num_nodes; i++) free(plan->nodes[i].words);
    free(plan->nodes);
    free(plan->polys);
    free(plan->value_slot);
    free(plan->slot_poly);
    free(plan->consts);
    free(plan->output_dims);
    free(plan->input_dim_symbol);
    memset(plan, 0, sizeof *plan);
}

static dlc_status plan_init(const dyn_ctx *ctx, const sample *base, dlc_dyn_plan *plan) {
    memset(plan, 0, sizeof *plan);
    dlc_poly_space_init(&plan->space, ctx->num_symbols);
    const dlc_graph *g = base->g;
    plan->num_nodes = g->num_nodes;
    plan->num_values = g->num_values;
    plan->num_outputs = g->num_outputs;
    plan->num_inputs = g->num_inputs;
    plan->nodes = calloc((size_t)g->num_nodes + 1, sizeof *plan->nodes);
    plan->value_slot = malloc(((size_t)g->num_values + 1) * sizeof *plan->value_slot);
    plan->output_dims = malloc(((size_t)g->num_outputs + 1) * DLC_MAX_RANK * sizeof *plan->output_dims);
    plan->input_dim_symbol = malloc(((size_t)g->num_inputs + 1) * DLC_MAX_RANK * sizeof *plan->input_dim_symbol);
    if (!plan->nodes || !plan->value_slot || !plan->output_dims || !plan->input_dim_symbol)
        return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "dynamic shapes: out of memory");
    for (int32_t id = 0; id < g->num_values; id++) plan->value_slot[id] = -1;
    for (int32_t i = 0; i < g->num_outputs * DLC_MAX_RANK; i++) plan->output_dims[i] = -1;
    for (int32_t k = 0; k < ctx->num_symbols; k++) {
        plan->symbol_min[k] = 1;
        if ((plan->symbol_names[k] = strdup(ctx->names[k])) == NULL)
            return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "dynamic shapes: out of memory");
    }
    /* which input dims are which symbol: from the graph as given */
    for (int32_t i = 0; i < g->num_inputs; i++)
        for (int32_t d = 0; d < DLC_MAX_RANK; d++) {
            const dlc_value *in = ctx->g0->inputs[i];
            plan->input_dim_symbol[i * DLC_MAX_RANK + d] =
                d < in->shape.rank ? symbol_of(ctx, ctx->g0, in->shape.dims[d]) : -1;
        }
    return DLC_OK;
}

/* ---- the driver ---- */

static void free_samples(sample *samples, int32_t count) {
    for (int32_t t = 0; t < count; t++) sample_free(&samples[t]);
}

/* ---- size 1: checked by running both programs ---- */

/* Bytes of value id when the base program runs at `symbols`. */
static int64_t generic_bytes(const sample *base, const dlc_dyn_plan *plan, const int32_t *size_poly,
                             const sample *at, int32_t id, const int64_t *symbols) {
    const dlc_value *v = base->g->values[id];
    const dlc_location *loc = &base->plan.values[id];
    int64_t bytes = -1;
    if (size_poly[id] >= 0 && !dlc_poly_eval(&plan->space, &plan->polys[size_poly[id]], symbols, &bytes)) return -1;
    if (size_poly[id] >= 0) return bytes;
    if (loc->kind == DLC_LOC_INPUT) return value_bytes(at->g->inputs[loc->index]);
    if (loc->kind == DLC_LOC_WEIGHT) return (int64_t)v->nbytes;
    if (loc->kind == DLC_LOC_OUTPUT) {
        bytes = (int64_t)dlc_dtype_size(v->dtype);
        for (int32_t d = 0; d < v->shape.rank; d++) {
            int64_t dim;
            if (!dlc_poly_eval(&plan->space, &plan->polys[plan->output_dims[loc->index * DLC_MAX_RANK + d]], symbols,
                               &dim))
                return -1;
            bytes *= dim;
        }
        return bytes;
    }
    return 0;
}

/* Runs a sample's program natively (the kernels constant folding uses) on
 * inputs; generic: the base program with its polynomials evaluated at s's
 * symbols, else s's own. outputs[j] are malloc'd. */
static dlc_status execute(const sample *base, const dlc_dyn_plan *plan, const int32_t *size_poly, const sample *s,
                          bool generic, void *const *inputs, void **outputs, int64_t *output_bytes) {
    const sample *prog = generic ? base : s;
    const dlc_graph *g = prog->g;
    void **buffers = calloc((size_t)g->num_values + 1, sizeof *buffers);
    bool *owned = calloc((size_t)g->num_values + 1, sizeof *owned);
    dlc_status st = buffers && owned ? DLC_OK : dlc_fail(DLC_ERR_OUT_OF_MEMORY, "dynamic shapes: out of memory");
    for (int32_t id = 0; id < g->num_values && st == DLC_OK; id++) {
        const dlc_value *v = g->values[id];
        if (v == NULL || prog->plan.values[id].kind == DLC_LOC_NONE) continue;
        const dlc_location *loc = &prog->plan.values[id];
        bool fitted = false; /* a shape vector written from its polynomials below */
        for (int32_t i = 0; generic && i < plan->num_consts; i++) fitted = fitted || plan->consts[i].value_id == id;
        if (loc->kind == DLC_LOC_WEIGHT && !fitted) { /* kernels read weights in place, as folding does */
            buffers[id] = v->data;
            continue;
        }
        int64_t bytes = generic ? generic_bytes(base, plan, size_poly, s, id, s->symbols) : value_bytes(v);
        if (loc->kind == DLC_LOC_WEIGHT && !generic) bytes = (int64_t)v->nbytes;
        owned[id] = true;
        if (bytes < 0 || (buffers[id] = calloc(1, (size_t)bytes + 64)) == NULL) {
            st = dlc_fail(DLC_ERR_OUT_OF_MEMORY, "dynamic shapes: size-1 check buffers");
            break;
        }
        if (loc->kind == DLC_LOC_INPUT) memcpy(buffers[id], inputs[loc->index], (size_t)bytes);
        if (loc->kind == DLC_LOC_WEIGHT) memcpy(buffers[id], v->data, v->nbytes);
    }
    for (int32_t i = 0; generic && i < plan->num_consts && st == DLC_OK; i++) {
        const dlc_dyn_const *c = &plan->consts[i];
        for (int64_t e = 0; e < c->numel; e++) {
            int64_t x = 0;
            dlc_poly_eval(&plan->space, &plan->polys[c->first_poly + (int32_t)e], s->symbols, &x);
            if (c->dtype == DLC_INT64) ((int64_t *)buffers[c->value_id])[e] = x;
            else ((int32_t *)buffers[c->value_id])[e] = (int32_t)x;
        }
    }
    for (int32_t pos = 0; pos < g->num_nodes && st == DLC_OK; pos++) {
        const dlc_node *node = g->nodes[pos];
        const node_record *r = &prog->nodes[pos];
        const dlc_kernel_entry *kernel = dlc_kernel_find(r->kernel);
        void *params = malloc(r->params_size);
        void **ins = calloc((size_t)node->num_inputs + 1, sizeof *ins);
        void **outs = calloc((size_t)node->num_outputs + 1, sizeof *outs);
        void *workspace = NULL;
        if (kernel == NULL || params == NULL || ins == NULL || outs == NULL)
            st = dlc_fail(DLC_ERR_OUT_OF_MEMORY, "dynamic shapes: size-1 check");
        int64_t ws = 0;
        if (st == DLC_OK) {
            memcpy(params, r->params, r->params_size);
            const dlc_dyn_node *dn = generic ? &plan->nodes[pos] : NULL;
            for (int32_t w = 0; dn != NULL && w < dn->num_words; w++) {
                int64_t x = 0;
                dlc_poly_eval(&plan->space, &plan->polys[dn->words[w].poly], s->symbols, &x);
                memcpy((char *)params + (size_t)dn->words[w].word * 8, &x, 8);
            }
            for (int32_t i = 0; i < node->num_inputs; i++) ins[i] = node->inputs[i] ? buffers[node->inputs[i]->id] : NULL;
            for (int32_t i = 0; i < node->num_outputs; i++)
                outs[i] = node->outputs[i] ? buffers[node->outputs[i]->id] : NULL;
            ws = kernel->workspace != NULL ? kernel->workspace(params) : 0;
            if (ws > 0 && (workspace = calloc(1, (size_t)ws + 64)) == NULL)
                st = dlc_fail(DLC_ERR_OUT_OF_MEMORY, "dynamic shapes: size-1 check");
        }
        if (st == DLC_OK) {
            dlc_kctx kctx = {.num_threads = 1, .workspace = workspace, .workspace_size = ws};
            int32_t rc = kernel->fn(params, ins, outs, &kctx);
            if (rc != 0) st = dlc_fail(DLC_ERR_RUNTIME, "dynamic shapes: kernel '%s' failed (%d)", r->kernel, (int)rc);
        }
        free(workspace);
        free(params);
        free(ins);
        free(outs);
    }
    for (int32_t j = 0; j < g->num_outputs && st == DLC_OK; j++) {
        const dlc_value *v = g->outputs[j];
        output_bytes[j] = generic ? generic_bytes(base, plan, size_poly, s, v->id, s->symbols) : value_bytes(v);
        if (prog->plan.values[v->id].kind == DLC_LOC_WEIGHT) output_bytes[j] = (int64_t)v->nbytes;
        if ((outputs[j] = malloc((size_t)output_bytes[j] + 1)) == NULL)
            st = dlc_fail(DLC_ERR_OUT_OF_MEMORY, "dynamic shapes: size-1 check");
        else memcpy(outputs[j], buffers[v->id], (size_t)output_bytes[j]);
    }
    for (int32_t id = 0; buffers != NULL && owned != NULL && id < g->num_values; id++)
        if (owned[id]) free(buffers[id]);
    free(buffers);
    free(owned);
    return st;
}

static bool close_enough(dlc_dtype dtype, const void *a, const void *b, int64_t bytes) {
    if (dtype == DLC_FLOAT32) {
        const float *x = a, *y = b;
        for (int64_t i = 0; i < bytes / 4; i++) {
            double d = (double)x[i] - (double)y[i];
            if (!(d <= 1e-5 + 1e-4 * (y[i] < 0 ? -y[i] : y[i]) && -d <= 1e-5 + 1e-4 * (y[i] < 0 ? -y[i] : y[i])))
                return false;
        }
        return true;
    }
    return memcmp(a, b, (size_t)bytes) == 0;
}

/* The base program at s's sizes computes what s's own program computes, on
 * one deterministic input (floats in [-1, 1], integers 1). */
static dlc_status same_results(const sample *base, const dlc_dyn_plan *plan, const int32_t *size_poly,
                               const sample *s) {
    const dlc_graph *g = s->g;
    int32_t n_in = g->num_inputs, n_out = g->num_outputs;
    void **inputs = calloc((size_t)n_in + 1, sizeof *inputs);
    void **mine = calloc((size_t)n_out + 1, sizeof *mine), **theirs = calloc((size_t)n_out + 1, sizeof *theirs);
    int64_t *mine_bytes = calloc((size_t)n_out + 1, sizeof *mine_bytes);
    int64_t *their_bytes = calloc((size_t)n_out + 1, sizeof *their_bytes);
    dlc_status st = inputs && mine && theirs && mine_bytes && their_bytes
                        ? DLC_OK
                        : dlc_fail(DLC_ERR_OUT_OF_MEMORY, "dynamic shapes: size-1 check");
    uint32_t seed = 12345;
    for (int32_t i = 0; i < n_in && st == DLC_OK; i++) {
        const dlc_value *v = g->inputs[i];
        int64_t numel = dlc_value_numel(v), elem = (int64_t)dlc_dtype_size(v->dtype);
        if (numel < 0 || elem == 0 || (inputs[i] = calloc(1, (size_t)(numel * elem) + 1)) == NULL) {
            st = dlc_fail(DLC_ERR_UNSUPPORTED, "dynamic shapes: size-1 check: input '%s'", v->name);
            break;
        }
        for (int64_t e = 0; e < numel; e++) {
            seed = seed * 1664525u + 1013904223u;
            float f = (float)(seed >> 8) / (float)(1u << 24) * 2.0f - 1.0f;
            switch (v->dtype) {
            case DLC_FLOAT32: ((float *)inputs[i])[e] = f; break;
            case DLC_FLOAT64: ((double *)inputs[i])[e] = f; break;
            case DLC_INT64: ((int64_t *)inputs[i])[e] = 1; break;
            case DLC_INT32: ((int32_t *)inputs[i])[e] = 1; break;
            case DLC_BOOL: case DLC_UINT8: case DLC_INT8: ((uint8_t *)inputs[i])[e] = 1; break;
            default: break; /* zeros */
            }
        }
    }
    if (st == DLC_OK) st = execute(base, plan, size_poly, s, true, inputs, mine, mine_bytes);
    if (st == DLC_OK) st = execute(base, plan, size_poly, s, false, inputs, theirs, their_bytes);
    for (int32_t j = 0; j < n_out && st == DLC_OK; j++)
        if (mine_bytes[j] != their_bytes[j] ||
            !close_enough(g->outputs[j]->dtype, mine[j], theirs[j], mine_bytes[j]))
            st = dlc_fail(DLC_ERR_UNSUPPORTED, "output '%s' differs", g->outputs[j]->name);
    for (int32_t i = 0; i < n_in; i++) free(inputs ? inputs[i] : NULL);
    for (int32_t j = 0; j < n_out; j++) {
        free(mine ? mine[j] : NULL);
        free(theirs ? theirs[j] : NULL);
    }
    free(inputs);
    free(mine);
    free(theirs);
    free(mine_bytes);
    free(their_bytes);
    return st;
}

/* Size 1 often takes other paths (a unit dim dropped from a copy, a
 * broadcast elided), so its pipeline may differ from the polynomials'. A
 * symbol may still be 1 when either the size-1 pipeline matches every fit,
 * or running the general program at size 1 computes what the size-1
 * pipeline computes (checked natively, the other symbols at two points);
 * else runs need it >= 2. The other symbols stay small there: running a
 * model natively, twice per point, is most of what compiling for every size
 * adds (BERT-base: 4 s at the verification points, under 2 s at these). */
static void check_size_one(dyn_ctx *ctx, const sample *base, dlc_dyn_plan *plan, const int32_t *size_poly) {
    static const int64_t others[2][DLC_POLY_MAX_SYMBOLS] = {{3, 4, 5, 6}, {4, 3, 6, 5}};
    for (int32_t k = 0; k < ctx->num_symbols; k++) {
        for (int32_t p = 0; p < 2 && plan->symbol_min[k] == 1; p++) {
            int64_t symbols[DLC_POLY_MAX_SYMBOLS];
            memcpy(symbols, others[p], sizeof symbols);
            symbols[k] = 1;
            sample s;
            char why[512] = "";
            dlc_status st = run_sample(ctx, symbols, &s);
            if (st == DLC_OK && verify_sample(ctx, base, &s, plan, size_poly) != DLC_OK) {
                snprintf(why, sizeof why, "%s", dlc_last_error());
                st = same_results(base, plan, size_poly, &s);
                if (st == DLC_OK && ctx->opts->log)
                    fprintf(ctx->opts->log, "compile: dynamic: '%s' = 1 runs the general code, checked by running it "
                            "(the size-1 pipeline differs: %s)\n", ctx->names[k], why);
            }
            if (st != DLC_OK) {
                plan->symbol_min[k] = 2;
                if (ctx->opts->log)
                    fprintf(ctx->opts->log, "compile: dynamic: '%s' = 1 is not covered (%s); runs need '%s' >= 2\n",
                            ctx->names[k], why[0] ? why : dlc_last_error(), ctx->names[k]);
            }
            sample_free(&s);
        }
    }
}

static dlc_status collect_symbols(const dlc_graph *g, dyn_ctx *ctx) {
    for (int32_t i = 0; i < g->num_inputs; i++) {
        const dlc_value *in = g->inputs[i];
        if (in->shape.rank < 0)
            return dlc_fail(DLC_ERR_UNSUPPORTED, "input '%s' has an unknown rank; give its shape with --shape %s=d0,d1,...",
                            in->name, in->name);
        for (int32_t d = 0; d < in->shape.rank; d++) {
            dlc_dim dim = in->shape.dims[d];
            if (dlc_dim_is_static(dim)) continue;
            if (dim.sym < 0 || dim.sym >= g->num_symbols)
                return dlc_fail(DLC_ERR_UNSUPPORTED,
                                "input '%s' dim %d is unknown and unnamed; name it or bind it with --shape %s=...",
                                in->name, d, in->name);
            const char *name = g->symbols[dim.sym];
            bool known = false;
            for (int32_t k = 0; k < ctx->num_symbols; k++) known = known || strcmp(ctx->names[k], name) == 0;
            if (known) continue;
            if (ctx->num_symbols == DLC_POLY_MAX_SYMBOLS)
                return dlc_fail(DLC_ERR_UNSUPPORTED,
                                "the model's inputs have more than %d symbolic dims (at '%s' of input '%s'); bind "
                                "some with --shape",
                                DLC_POLY_MAX_SYMBOLS, name, in->name);
            ctx->names[ctx->num_symbols++] = name;
        }
    }
    return DLC_OK;
}

static dlc_status sample_rounds(dyn_ctx *ctx, dlc_dyn_plan *plan, sample *samples, int32_t num_fit, int32_t **out_size_poly) {
    dlc_poly_space space;
    dlc_poly_space_init(&space, ctx->num_symbols);
    for (int32_t round = 0;; round++) {
        for (int32_t t = 0; t < num_fit + NUM_VERIFY; t++) {
            int64_t symbols[DLC_POLY_MAX_SYMBOLS] = {0};
            if (t < num_fit) dlc_poly_fit_point(&space, t, symbols);
            else memcpy(symbols, verify_points[t - num_fit], sizeof symbols);
            dlc_status st = run_sample(ctx, symbols, &samples[t]);
            if (st == DLC_OK && t > 0) st = release_shared_constants(&samples[0], &samples[t]);
            if (st != DLC_OK) {
                free_samples(samples, t);
                return st;
            }
        }
        dlc_status st = DLC_OK;
        for (int32_t t = 1; t < num_fit + NUM_VERIFY && st == DLC_OK; t++)
            st = check_structure(ctx, &samples[0], &samples[t]);
        int32_t added = 0;
        if (st == DLC_OK) st = find_varying_constants(ctx, samples, num_fit + NUM_VERIFY, &added);
        if (st == DLC_OK && added > 0 && round + 1 >= MAX_ROUNDS)
            st = dlc_fail(DLC_ERR_UNSUPPORTED, "dynamic shapes: constants still depend on the sizes after %d rounds; "
                          "bind the symbolic dims with --shape", MAX_ROUNDS);
        if (st != DLC_OK || added > 0) free_samples(samples, num_fit + NUM_VERIFY);
        if (st != DLC_OK) return st;
        if (added > 0) continue;
        break;
    }
    const sample *base = &samples[0];
    DLC_TRY(plan_init(ctx, base, plan));
    int32_t *size_poly = malloc(((size_t)base->g->num_values + 1) * sizeof *size_poly);
    if (size_poly == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "dynamic shapes: out of memory");
    *out_size_poly = size_poly;
    DLC_TRY(fit_nodes(ctx, samples, num_fit, num_fit + NUM_VERIFY, plan));
    DLC_TRY(fit_values(samples, num_fit, plan, size_poly));
    for (int32_t t = num_fit; t < num_fit + NUM_VERIFY; t++) DLC_TRY(verify_sample(ctx, base, &samples[t], plan, size_poly));
    return DLC_OK;
}

dlc_status dlc_compile_dynamic(dlc_graph *g, const dlc_compile_options *opts, const char *out_path) {
    dyn_ctx ctx = {.g0 = g, .opts = opts};
    DLC_TRY(collect_symbols(g, &ctx));
    dlc_poly_space space;
    dlc_poly_space_init(&space, ctx.num_symbols);
    int32_t num_fit = space.num_terms, total = num_fit + NUM_VERIFY;
    char list[128];
    if (opts->log)
        fprintf(opts->log, "compile: dynamic shapes in %s: %d samples to fit, %d to verify\n",
                symbol_list(&ctx, list, sizeof list), num_fit, NUM_VERIFY);
    sample *samples = calloc((size_t)total, sizeof *samples);
    if (samples == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "dynamic shapes: out of memory");
    dlc_dyn_plan plan;
    memset(&plan, 0, sizeof plan);
    int32_t *size_poly = NULL;
    dlc_status st = sample_rounds(&ctx, &plan, samples, num_fit, &size_poly);
    if (st == DLC_OK) st = layout_arena(&samples[0], size_poly, &plan);
    double size_one_start = seconds_now();
    if (st == DLC_OK) check_size_one(&ctx, &samples[0], &plan, size_poly);
    double size_one_seconds = seconds_now() - size_one_start;
    if (st == DLC_OK && opts->print_ir) dlc_graph_print(samples[0].g, opts->print_ir);
    if (st == DLC_OK && opts->log)
        fprintf(opts->log, "compile: dynamic: %d polynomials, %d arena slots, %d shape vectors computed at run time "
                "(%d pipeline samples, %.2f s; size-1 checks %.2f s)\n",
                plan.num_polys, plan.num_slots, plan.num_consts, ctx.num_samples, ctx.sample_seconds, size_one_seconds);
    if (st == DLC_OK) st = dlc_llvm_compile(samples[0].g, &samples[0].plan, &plan, opts, out_path);
    free(size_poly);
    dlc_dyn_plan_free(&plan);
    free_samples(samples, total);
    free(samples);
    for (int32_t i = 0; i < ctx.num_no_fold; i++) free(ctx.no_fold[i]);
    free(ctx.no_fold);
    return st;
}
