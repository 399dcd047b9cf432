/* Test harness for op families: builds a one-node graph by hand, runs the
 * schema's shape inference, lowers it and runs the native kernel on buffers
 * the test owns. Shared by the linalg/conv/pool/norm tests. */
#ifndef DLC_TESTS_UNIT_OP_HARNESS_H
#define DLC_TESTS_UNIT_OP_HARNESS_H

#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ir/graph.h"
#include "ir/op_registry.h"
#include "kernels/kernel_registry.h"
#include "runtime/status.h"
#include <stdio.h>

#define OPH_MAX_IO 8

typedef struct oph_case {
    dlc_graph *g;
    dlc_node *node;
    dlc_value *in[OPH_MAX_IO];
    dlc_value *out[OPH_MAX_IO];
} oph_case;

/* Starts a case: graph with inputs (shape rank < 0 in the list = omitted
 * optional input) and num_outputs outputs of unknown shape ("" name = omitted). */
static inline void oph_begin(oph_case *c, const char *op_type, int32_t opset, int32_t num_inputs,
                             const dlc_dtype *dtypes, const dlc_shape *shapes, int32_t num_outputs,
                             const char *const *output_names) {
    memset(c, 0, sizeof *c);
    cr_assert_eq(dlc_graph_create("test", &c->g), DLC_OK);
    for (int32_t i = 0; i < num_inputs; i++) {
        if (shapes[i].rank < 0 && dtypes[i] == DLC_DTYPE_UNDEFINED) continue;
        char name[32];
        snprintf(name, sizeof name, "in%d", i);
        cr_assert_eq(dlc_graph_add_value(c->g, name, DLC_VALUE_INPUT, dtypes[i], &shapes[i], &c->in[i]), DLC_OK);
    }
    dlc_shape unknown = {.rank = -1};
    for (int32_t i = 0; i < num_outputs; i++) {
        if (output_names != NULL && output_names[i][0] == '\0') continue;
        char name[32];
        snprintf(name, sizeof name, "out%d", i);
        cr_assert_eq(dlc_graph_add_value(c->g, name, DLC_VALUE_INTERMEDIATE, DLC_DTYPE_UNDEFINED, &unknown, &c->out[i]),
                     DLC_OK);
    }
    cr_assert_eq(dlc_graph_add_node(c->g, "node_under_test", op_type, "", opset, num_inputs, c->in, num_outputs,
                                    c->out, &c->node),
                 DLC_OK);
}

static inline void oph_attr_int(oph_case *c, const char *name, int64_t v) {
    dlc_attr a = {.name = (char *)name, .type = DLC_ATTR_INT, .i = v};
    cr_assert_eq(dlc_node_add_attr(c->node, &a), DLC_OK);
}

static inline void oph_attr_float(oph_case *c, const char *name, double v) {
    dlc_attr a = {.name = (char *)name, .type = DLC_ATTR_FLOAT, .f = v};
    cr_assert_eq(dlc_node_add_attr(c->node, &a), DLC_OK);
}

static inline void oph_attr_ints(oph_case *c, const char *name, int32_t count, const int64_t *v) {
    dlc_attr a = {.name = (char *)name, .type = DLC_ATTR_INTS, .ints = (int64_t *)v, .count = count};
    cr_assert_eq(dlc_node_add_attr(c->node, &a), DLC_OK);
}

static inline void oph_attr_string(oph_case *c, const char *name, const char *s) {
    dlc_attr a = {.name = (char *)name, .type = DLC_ATTR_STRING, .s = (char *)s, .s_len = strlen(s)};
    cr_assert_eq(dlc_node_add_attr(c->node, &a), DLC_OK);
}

/* Binds the schema and runs shape inference; returns its status. */
static inline dlc_status oph_infer(oph_case *c) {
    dlc_status st = dlc_node_bind_schema(c->node);
    if (st != DLC_OK) return st;
    return c->node->schema->infer(c->g, c->node);
}

/* Lowers and runs the kernel natively with the given thread count; dims
 * (NULL, or num_outputs * DLC_KMAX_RANK slots, preset to -99) receives the
 * output dims a data-dependent kernel reports. Returns the kernel's code. */
static inline int32_t oph_run_code(oph_case *c, void **inputs, void **outputs, int32_t threads, int64_t *dims) {
    dlc_kcall call;
    cr_assert_eq(c->node->schema->lower(c->g, c->node, &call), DLC_OK, "lower: %s", dlc_last_error());
    void *blob;
    size_t size;
    cr_assert_eq(dlc_kparams_build(c->node, &call, &blob, &size), DLC_OK, "kparams: %s", dlc_last_error());
    const dlc_kernel_entry *k = dlc_kernel_find(call.kernel);
    cr_assert_not_null(k, "no kernel named %s", call.kernel);
    int64_t ws_size = k->workspace != NULL ? k->workspace(blob) : 0;
    void *ws = ws_size > 0 ? aligned_alloc(64, (size_t)(ws_size + 63) / 64 * 64) : NULL;
    for (int i = 0; dims != NULL && i < c->node->num_outputs * DLC_KMAX_RANK; i++) dims[i] = -99;
    dlc_kctx ctx = {.num_threads = threads, .workspace = ws, .workspace_size = ws_size, .out_dims = dims};
    int32_t rc = k->fn(blob, inputs, outputs, &ctx);
    free(ws);
    free(blob);
    return rc;
}

/* The same, asserting the kernel succeeds. */
static inline void oph_run(oph_case *c, void **inputs, void **outputs, int32_t threads) {
    cr_assert_eq(oph_run_code(c, inputs, outputs, threads, NULL), 0, "kernel for node '%s' failed", c->node->name);
}

static inline void oph_end(oph_case *c) { dlc_graph_free(c->g); }

/* ---- data ---- */

static inline float *oph_random(int64_t n, uint32_t seed) {
    float *p = malloc((size_t)(n > 0 ? n : 1) * sizeof *p);
    uint32_t s = seed * 2654435761u + 12345u;
    for (int64_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        p[i] = (float)((s >> 8) & 0xffff) / 32768.0f - 1.0f;
    }
    return p;
}

static inline int64_t oph_numel(const dlc_shape *s) {
    int64_t n = 1;
    for (int32_t i = 0; i < s->rank; i++) n *= s->dims[i].value;
    return n;
}

/* |got - want| <= tol * (1 + |want|) everywhere. */
static inline void oph_expect_close(const float *got, const double *want, int64_t n, double tol, const char *what) {
    for (int64_t i = 0; i < n; i++)
        cr_assert(fabs(got[i] - want[i]) <= tol * (1.0 + fabs(want[i])), "%s: element %lld is %.7g, expected %.7g",
                  what, (long long)i, (double)got[i], want[i]);
}

static inline dlc_shape oph_shape(int32_t rank, const int64_t *dims) { return dlc_shape_make(rank, dims); }

#endif
