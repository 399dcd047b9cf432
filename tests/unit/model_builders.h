/* Small graphs built in C for the codegen, memory plan and runtime tests,
 * and a temporary folder for the compiled models. Header-only: each test
 * file is its own executable. */
#ifndef DLC_TESTS_UNIT_MODEL_BUILDERS_H
#define DLC_TESTS_UNIT_MODEL_BUILDERS_H

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codegen/compile.h"
#include "ir/graph.h"

enum { MLP_BATCH = 2, MLP_IN = 4, MLP_OUT = 3 };

static inline dlc_value *tb_value(dlc_graph *g, const char *name, dlc_value_kind kind, int32_t rank,
                                  const int64_t *dims) {
    dlc_shape s = dlc_shape_make(rank, dims);
    dlc_value *v;
    cr_assert_eq(dlc_graph_add_value(g, name, kind, DLC_FLOAT32, &s, &v), DLC_OK, "%s", dlc_last_error());
    return v;
}

static inline dlc_value *tb_const(dlc_graph *g, const char *name, int32_t rank, const int64_t *dims, const float *data) {
    dlc_shape s = dlc_shape_make(rank, dims);
    int64_t n = dlc_shape_numel(&s);
    dlc_value *v;
    cr_assert_eq(dlc_graph_add_const(g, name, DLC_FLOAT32, &s, data, (size_t)n * sizeof(float), &v), DLC_OK, "%s",
                 dlc_last_error());
    return v;
}

static inline dlc_node *tb_node(dlc_graph *g, const char *name, const char *op, int32_t n_in, dlc_value **in,
                                dlc_value *out) {
    dlc_node *node;
    cr_assert_eq(dlc_graph_add_node(g, name, op, "", 13, n_in, in, 1, &out, &node), DLC_OK, "%s", dlc_last_error());
    return node;
}

/* Sets the graph's inputs (replacing the list dlc_graph_add_value keeps) and outputs. */
static inline void tb_set_io(dlc_graph *g, int32_t n_in, dlc_value **in, int32_t n_out, dlc_value **out) {
    free(g->inputs);
    free(g->outputs);
    g->inputs = malloc(sizeof *g->inputs * (size_t)(n_in ? n_in : 1));
    g->outputs = malloc(sizeof *g->outputs * (size_t)(n_out ? n_out : 1));
    cr_assert(g->inputs && g->outputs);
    memcpy(g->inputs, in, sizeof *in * (size_t)n_in);
    memcpy(g->outputs, out, sizeof *out * (size_t)n_out);
    g->num_inputs = n_in;
    g->num_outputs = n_out;
    dlc_graph_update_uses(g);
}

static inline float mlp_w(int k, int n) { return (float)((k * 3 + n * 5) % 7 - 3) * 0.25f; }
static inline float mlp_b(int n) { return 0.5f - (float)n * 0.5f; }
static inline float mlp_c(int n) { return (float)n * 0.125f; }

/* y = Relu(x · W + b) + c, x: float32[2,4] → y: float32[2,3]. */
static inline dlc_graph *tb_mlp_graph(void) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("mlp", &g), DLC_OK);
    float w[MLP_IN * MLP_OUT], b[MLP_OUT], c[MLP_OUT];
    for (int k = 0; k < MLP_IN; k++)
        for (int n = 0; n < MLP_OUT; n++) w[k * MLP_OUT + n] = mlp_w(k, n);
    for (int n = 0; n < MLP_OUT; n++) {
        b[n] = mlp_b(n);
        c[n] = mlp_c(n);
    }
    dlc_value *x = tb_value(g, "x", DLC_VALUE_INPUT, 2, (int64_t[]){MLP_BATCH, MLP_IN});
    dlc_value *wv = tb_const(g, "W", 2, (int64_t[]){MLP_IN, MLP_OUT}, w);
    dlc_value *bv = tb_const(g, "B", 1, (int64_t[]){MLP_OUT}, b);
    dlc_value *cv = tb_const(g, "C", 1, (int64_t[]){MLP_OUT}, c);
    dlc_value *h = tb_value(g, "h", DLC_VALUE_INTERMEDIATE, -1, NULL);
    dlc_value *r = tb_value(g, "r", DLC_VALUE_INTERMEDIATE, -1, NULL);
    dlc_value *y = tb_value(g, "y", DLC_VALUE_INTERMEDIATE, -1, NULL);
    tb_node(g, "fc", "Gemm", 3, (dlc_value *[]){x, wv, bv}, h);
    tb_node(g, "act", "Relu", 1, (dlc_value *[]){h}, r);
    tb_node(g, "shift", "Add", 2, (dlc_value *[]){r, cv}, y);
    tb_set_io(g, 1, &x, 1, &y);
    return g;
}

static inline void mlp_input(float *x) {
    for (int i = 0; i < MLP_BATCH * MLP_IN; i++) x[i] = (float)(i % 5) - 1.5f;
}

static inline void mlp_reference(const float *x, float *y) {
    for (int m = 0; m < MLP_BATCH; m++)
        for (int n = 0; n < MLP_OUT; n++) {
            float acc = mlp_b(n);
            for (int k = 0; k < MLP_IN; k++) acc += x[m * MLP_IN + k] * mlp_w(k, n);
            y[m * MLP_OUT + n] = (acc > 0 ? acc : 0) + mlp_c(n);
        }
}

/* A fresh folder for this test's files; removed (with its files) by tb_rmdir. */
static inline void tb_mkdtemp(char *dir, size_t size) {
    snprintf(dir, size, "/tmp/dlc-test-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static inline int tb_count_files(const char *dir) {
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d != NULL && (e = readdir(d)) != NULL;)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) n++;
    if (d) closedir(d);
    return n;
}

static inline void tb_rmdir(const char *dir) {
    DIR *d = opendir(dir);
    char path[4200];
    for (struct dirent *e; d != NULL && (e = readdir(d)) != NULL;) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        remove(path);
    }
    if (d) closedir(d);
    rmdir(dir);
}

/* Compiles the MLP into dir/name. */
static inline void tb_compile_mlp(const char *dir, const char *name, int opt_level, const char *cpu, char *out,
                                  size_t size) {
    snprintf(out, size, "%s/%s", dir, name);
    dlc_graph *g = tb_mlp_graph();
    dlc_compile_options opts;
    dlc_compile_options_init(&opts);
    opts.opt_level = opt_level;
    opts.cpu = cpu;
    cr_assert_eq(dlc_compile_graph(g, &opts, out), DLC_OK, "%s", dlc_last_error());
    dlc_graph_free(g);
}

#endif
