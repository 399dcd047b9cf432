/* Checks for the optimization passes: build a small float32 graph twice,
 * compile it at -O0 (folding only) and -O2 (every pass), run both on the
 * same inputs through libdlcrt and require the same outputs. Header-only:
 * each test file is its own executable. */
#ifndef DLC_TESTS_UNIT_PASS_HARNESS_H
#define DLC_TESTS_UNIT_PASS_HARNESS_H

#include <math.h>

#include "model_builders.h"
#include "passes/pipeline.h"
#include "passes/rewrite.h"

typedef dlc_graph *(*ph_builder)(void);

static inline int ph_count_ops(const dlc_graph *g, const char *op) {
    int n = 0;
    for (int32_t i = 0; i < g->num_nodes; i++) n += strcmp(g->nodes[i]->op_type, op) == 0;
    return n;
}

/* Builds, infers and folds a graph (what every -O level starts from). */
static inline dlc_graph *ph_inferred(ph_builder build) {
    dlc_graph *g = build();
    cr_assert_eq(dlc_infer_and_fold(g), DLC_OK, "%s", dlc_last_error());
    return g;
}

/* Runs one pass and checks the graph stays valid. */
static inline bool ph_run_pass(dlc_graph *g, dlc_status (*pass)(dlc_graph *, bool *)) {
    bool changed = false;
    cr_assert_eq(pass(g, &changed), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(dlc_graph_verify(g), DLC_OK, "%s", dlc_last_error());
    return changed;
}

enum { PH_MAX_IO = 10 }; /* inputs, and outputs, of a harness graph */

typedef struct ph_result {
    int32_t count;
    float *data[PH_MAX_IO];
    int64_t numel[PH_MAX_IO];
} ph_result;

static inline void ph_fill(float *x, int64_t n, uint32_t seed) {
    uint32_t s = seed * 2654435761u + 1u;
    for (int64_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        x[i] = -3.0f + 6.0f * (float)(s >> 8) / 16777216.0f;
    }
}

/* Compiles build() at opt_level and runs it once on deterministic inputs
 * with num_threads threads. */
static inline ph_result ph_compile_run_threads(ph_builder build, int opt_level, int32_t num_threads) {
    char dir[64], path[256];
    tb_mkdtemp(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/m.so", dir);
    dlc_graph *g = build();
    dlc_compile_options opts;
    dlc_compile_options_init(&opts);
    opts.opt_level = opt_level;
    cr_assert_eq(dlc_compile_graph(g, &opts, path), DLC_OK, "-O%d: %s", opt_level, dlc_last_error());
    dlc_graph_free(g);
    dlc_model *model;
    dlc_session *session;
    cr_assert_eq(dlc_model_load(path, &model), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(dlc_session_create(model, &(dlc_session_options){.num_threads = num_threads}, &session), DLC_OK);
    int n_in = dlc_model_num_inputs(model), n_out = dlc_model_num_outputs(model);
    cr_assert(n_in <= PH_MAX_IO && n_out <= PH_MAX_IO);
    dlc_tensor ins[PH_MAX_IO], outs[PH_MAX_IO];
    ph_result r = {.count = n_out};
    for (int i = 0; i < n_in + n_out; i++) {
        dlc_tensor_info info;
        cr_assert_eq(i < n_in ? dlc_model_input(model, i, &info) : dlc_model_output(model, i - n_in, &info), DLC_OK);
        cr_assert_eq(info.dtype, DLC_FLOAT32);
        dlc_tensor *t = i < n_in ? &ins[i] : &outs[i - n_in];
        int64_t numel = 1;
        for (int d = 0; d < info.rank; d++) numel *= info.dims[d];
        *t = (dlc_tensor){.dtype = DLC_FLOAT32, .rank = info.rank, .size_bytes = (size_t)numel * sizeof(float)};
        memcpy(t->dims, info.dims, sizeof t->dims);
        t->data = calloc((size_t)(numel ? numel : 1), sizeof(float));
        if (i < n_in) ph_fill(t->data, numel, (uint32_t)i);
        else {
            r.data[i - n_in] = t->data;
            r.numel[i - n_in] = numel;
        }
    }
    cr_assert_eq(dlc_session_run(session, ins, n_in, outs, n_out), DLC_OK, "%s", dlc_last_error());
    for (int i = 0; i < n_in; i++) free(ins[i].data);
    dlc_session_free(session);
    dlc_model_free(model);
    tb_rmdir(dir);
    return r;
}

static inline ph_result ph_compile_run(ph_builder build, int opt_level) {
    return ph_compile_run_threads(build, opt_level, 1);
}

/* The outputs at -O2 on this many threads equal those at -O0 on one within
 * |a-b| <= tol*(1+|b|); tol 0: bit for bit (NaN equals NaN). */
static inline void ph_expect_same_outputs_threads(ph_builder build, double tol, int32_t threads) {
    ph_result base = ph_compile_run(build, 0), opt = ph_compile_run_threads(build, 2, threads);
    cr_assert_eq(base.count, opt.count);
    for (int32_t o = 0; o < base.count; o++) {
        cr_assert_eq(base.numel[o], opt.numel[o]);
        for (int64_t i = 0; i < base.numel[o]; i++) {
            float a = opt.data[o][i], b = base.data[o][i];
            bool same = tol == 0.0 ? memcmp(&a, &b, sizeof a) == 0 || (isnan(a) && isnan(b))
                                   : fabs((double)a - b) <= tol * (1.0 + fabs((double)b));
            cr_assert(same, "output %d index %lld: -O2 %.9g, -O0 %.9g", o, (long long)i, a, b);
        }
        free(base.data[o]);
        free(opt.data[o]);
    }
}

/* Compiles build() (a graph with symbolic dims: one artifact for every
 * size) at -O0 into paths[0] and at -O2 into paths[1], both in dir; returns
 * the -O2 IR (malloc'd). */
static inline char *ph_compile_o0_o2(ph_builder build, const char *dir, char paths[2][256]) {
    char *ir = NULL;
    size_t ir_size = 0;
    for (int level = 0; level < 2; level++) {
        snprintf(paths[level], 256, "%s/O%d.so", dir, level * 2);
        dlc_graph *g = build();
        dlc_compile_options opts;
        dlc_compile_options_init(&opts);
        opts.opt_level = level * 2;
        FILE *f = level == 1 ? open_memstream(&ir, &ir_size) : NULL;
        opts.print_ir = f;
        cr_assert_eq(dlc_compile_graph(g, &opts, paths[level]), DLC_OK, "%s", dlc_last_error());
        if (f != NULL) fclose(f);
        dlc_graph_free(g);
    }
    cr_assert_not_null(ir);
    return ir;
}

/* Loads the artifact at path and runs it once on one float32 input of the
 * given dims, filled by ph_fill(seed); returns the output's data (malloc'd,
 * out_numel floats) and *out its dims. */
static inline float *ph_run_artifact(const char *path, int32_t rank, const int64_t *dims, uint32_t seed,
                                     int64_t out_numel, dlc_tensor *out) {
    dlc_model *model;
    dlc_session *session;
    cr_assert_eq(dlc_model_load(path, &model), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(dlc_session_create(model, NULL, &session), DLC_OK, "%s", dlc_last_error());
    int64_t n = 1;
    for (int32_t d = 0; d < rank; d++) n *= dims[d];
    float *x = malloc((size_t)n * sizeof *x), *y = malloc((size_t)out_numel * sizeof *y);
    cr_assert(x != NULL && y != NULL);
    ph_fill(x, n, seed);
    dlc_tensor in = {.dtype = DLC_FLOAT32, .rank = rank, .data = x, .size_bytes = (size_t)n * sizeof *x};
    memcpy(in.dims, dims, (size_t)rank * sizeof *dims);
    *out = (dlc_tensor){.data = y, .size_bytes = (size_t)out_numel * sizeof *y};
    cr_assert_eq(dlc_session_run(session, &in, 1, out, 1), DLC_OK, "%s", dlc_last_error());
    free(x);
    dlc_session_free(session);
    dlc_model_free(model);
    return y;
}

/* The two artifacts of ph_compile_o0_o2 give the same output bits and dims
 * on one input of these dims (seed dims[0]); *out describes -O2's output. */
static inline void ph_expect_same_bits(char paths[2][256], int32_t rank, const int64_t *dims, int64_t out_numel,
                                       dlc_tensor *out) {
    dlc_tensor base_out;
    float *base = ph_run_artifact(paths[0], rank, dims, (uint32_t)dims[0], out_numel, &base_out);
    float *opt = ph_run_artifact(paths[1], rank, dims, (uint32_t)dims[0], out_numel, out);
    cr_assert_eq(base_out.rank, out->rank);
    cr_assert(memcmp(base_out.dims, out->dims, (size_t)out->rank * sizeof out->dims[0]) == 0, "output dims differ");
    for (int64_t i = 0; i < out_numel; i++)
        cr_assert(memcmp(&base[i], &opt[i], sizeof(float)) == 0, "dim0 %lld index %lld: -O2 %.9g, -O0 %.9g",
                  (long long)dims[0], (long long)i, opt[i], base[i]);
    free(base);
    free(opt);
}

static inline dlc_node *ph_node_named(const dlc_graph *g, const char *name) {
    for (int32_t i = 0; i < g->num_nodes; i++)
        if (strcmp(g->nodes[i]->name, name) == 0) return g->nodes[i];
    return NULL;
}

/* The outputs at -O2 equal those at -O0 within |a-b| <= tol*(1+|b|). */
static inline void ph_expect_same_outputs(ph_builder build, double tol) {
    ph_expect_same_outputs_threads(build, tol, 1);
}

/* ---- graph building ---- */

static inline dlc_value *ph_temp(dlc_graph *g, const char *name) {
    dlc_value *v;
    cr_assert_eq(dlc_graph_add_value(g, name, DLC_VALUE_INTERMEDIATE, DLC_FLOAT32, NULL, &v), DLC_OK);
    return v;
}

/* A constant of deterministic values in [-0.15, 0.15]: conv weights small
 * enough that deep stacks keep their outputs in range. */
static inline dlc_value *ph_weight(dlc_graph *g, const char *name, int32_t rank, const int64_t *dims, uint32_t seed) {
    int64_t n = 1;
    for (int32_t d = 0; d < rank; d++) n *= dims[d];
    float *w = malloc((size_t)n * sizeof *w);
    cr_assert(w != NULL);
    ph_fill(w, n, seed);
    for (int64_t i = 0; i < n; i++) w[i] *= 0.05f;
    dlc_value *v = tb_const(g, name, rank, dims, w);
    free(w);
    return v;
}

static inline dlc_value *ph_scalar(dlc_graph *g, const char *name, float x) {
    return tb_const(g, name, 0, NULL, &x);
}

static inline dlc_value *ph_ints(dlc_graph *g, const char *name, int32_t count, const int64_t *data) {
    dlc_shape s = dlc_shape_make(1, (int64_t[]){count});
    dlc_value *v;
    cr_assert_eq(dlc_graph_add_const(g, name, DLC_INT64, &s, data, (size_t)count * sizeof *data, &v), DLC_OK);
    return v;
}

/* out = op(inputs) with a fresh intermediate named after the node. */
static inline dlc_value *ph_op(dlc_graph *g, const char *name, const char *op, int32_t n_in, dlc_value **in) {
    char out_name[128];
    snprintf(out_name, sizeof out_name, "%s_out", name);
    dlc_value *out = ph_temp(g, out_name);
    tb_node(g, name, op, n_in, in, out);
    return out;
}

static inline void ph_attr_ints(dlc_graph *g, const char *node_name, const char *attr, int32_t count,
                                const int64_t *v) {
    for (int32_t i = 0; i < g->num_nodes; i++)
        if (strcmp(g->nodes[i]->name, node_name) == 0) {
            dlc_attr a = {.name = (char *)attr, .type = DLC_ATTR_INTS, .ints = (int64_t *)v, .count = count};
            cr_assert_eq(dlc_node_add_attr(g->nodes[i], &a), DLC_OK);
            return;
        }
    cr_assert_fail("no node '%s'", node_name);
}

#endif
