/* Helpers of the elementwise and reduce op tests: build a one-node graph,
 * run schema binding and inference, then lower it and run the kernel
 * natively on caller buffers. */
#ifndef DLC_TESTS_EW_TEST_UTIL_H
#define DLC_TESTS_EW_TEST_UTIL_H

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/graph.h"
#include "ir/op_registry.h"
#include "kernels/kernel_registry.h"

static dlc_graph *t_graph;

static inline void t_setup(void) { cr_assert_eq(dlc_graph_create("t", &t_graph), DLC_OK); }
static inline void t_teardown(void) {
    dlc_graph_free(t_graph);
    t_graph = NULL;
}

static inline dlc_value *t_input(const char *name, dlc_dtype dtype, int32_t rank, const int64_t *dims) {
    dlc_shape s = dlc_shape_make(rank, dims);
    dlc_value *v;
    cr_assert_eq(dlc_graph_add_value(t_graph, name, DLC_VALUE_INPUT, dtype, &s, &v), DLC_OK);
    return v;
}

static inline dlc_value *t_const(const char *name, dlc_dtype dtype, int32_t rank, const int64_t *dims, const void *data,
                          size_t nbytes) {
    dlc_shape s = dlc_shape_make(rank, dims);
    dlc_value *v;
    cr_assert_eq(dlc_graph_add_const(t_graph, name, dtype, &s, data, nbytes, &v), DLC_OK, "%s", dlc_last_error());
    return v;
}

static inline dlc_node *t_node(const char *op, int32_t opset, int32_t num_inputs, dlc_value *const *inputs) {
    dlc_value *out;
    char name[64];
    snprintf(name, sizeof name, "%s_out_%d", op, t_graph->num_values);
    cr_assert_eq(dlc_graph_add_value(t_graph, name, DLC_VALUE_INTERMEDIATE, DLC_DTYPE_UNDEFINED, NULL, &out), DLC_OK);
    dlc_node *n;
    snprintf(name, sizeof name, "%s_node", op);
    cr_assert_eq(dlc_graph_add_node(t_graph, name, op, "", opset, num_inputs, inputs, 1, &out, &n), DLC_OK);
    return n;
}

static inline void t_attr_int(dlc_node *n, const char *name, int64_t value) {
    dlc_attr a = {.name = (char *)name, .type = DLC_ATTR_INT, .i = value};
    cr_assert_eq(dlc_node_add_attr(n, &a), DLC_OK);
}
static inline void t_attr_float(dlc_node *n, const char *name, double value) {
    dlc_attr a = {.name = (char *)name, .type = DLC_ATTR_FLOAT, .f = value};
    cr_assert_eq(dlc_node_add_attr(n, &a), DLC_OK);
}
static inline void t_attr_string(dlc_node *n, const char *name, const char *value) {
    dlc_attr a = {.name = (char *)name, .type = DLC_ATTR_STRING, .s = (char *)value, .s_len = strlen(value)};
    cr_assert_eq(dlc_node_add_attr(n, &a), DLC_OK);
}
static inline void t_attr_ints(dlc_node *n, const char *name, int32_t count, const int64_t *values) {
    dlc_attr a = {.name = (char *)name, .type = DLC_ATTR_INTS, .ints = (int64_t *)values, .count = count};
    cr_assert_eq(dlc_node_add_attr(n, &a), DLC_OK);
}

static inline dlc_status t_infer(dlc_node *n) {
    dlc_status st = dlc_node_bind_schema(n);
    if (st != DLC_OK) return st;
    return n->schema->infer(t_graph, n);
}

static inline void t_infer_ok(dlc_node *n) {
    dlc_status st = t_infer(n);
    cr_assert_eq(st, DLC_OK, "infer %s: %s", n->op_type, dlc_last_error());
}

static inline void t_expect_shape(const dlc_value *v, int32_t rank, const int64_t *dims) {
    cr_assert_eq(v->shape.rank, rank, "rank %d, expected %d", v->shape.rank, rank);
    for (int32_t d = 0; d < rank; d++)
        cr_assert_eq(v->shape.dims[d].value, dims[d], "dim %d: %lld, expected %lld", d,
                     (long long)v->shape.dims[d].value, (long long)dims[d]);
}

/* Lowers n and runs its kernel on the given buffers with `threads` threads;
 * returns the kernel's code. */
static inline int32_t t_run_threads(dlc_node *n, void *const *inputs, void *const *outputs, int32_t threads) {
    dlc_kcall call;
    cr_assert_eq(n->schema->lower(t_graph, n, &call), DLC_OK, "lower: %s", dlc_last_error());
    void *params;
    size_t size;
    cr_assert_eq(dlc_kparams_build(n, &call, &params, &size), DLC_OK, "%s", dlc_last_error());
    const dlc_kernel_entry *k = dlc_kernel_find(call.kernel);
    cr_assert_not_null(k, "kernel %s", call.kernel);
    dlc_kctx ctx = {.num_threads = threads};
    int32_t rc = k->fn(params, inputs, outputs, &ctx);
    free(params);
    return rc;
}
static inline void t_run(dlc_node *n, void *const *inputs, void *const *outputs) {
    cr_assert_eq(t_run_threads(n, inputs, outputs, 1), 0, "kernel failed");
}

static inline void t_expect_floats(const float *got, const float *want, int64_t n, float tol) {
    for (int64_t i = 0; i < n; i++) {
        if (isnan(want[i])) {
            cr_assert(isnan(got[i]), "[%lld] got %g, expected NaN", (long long)i, got[i]);
            continue;
        }
        float err = fabsf(got[i] - want[i]);
        cr_assert(err <= tol * (1.0f + fabsf(want[i])) || got[i] == want[i], "[%lld] got %.9g, expected %.9g",
                  (long long)i, got[i], want[i]);
    }
}

#endif
