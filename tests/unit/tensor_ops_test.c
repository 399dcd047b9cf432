/* Tensor (data-movement) ops: shape rules over opsets, error messages, and
 * the kernels run natively against values computed plainly here. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/graph.h"
#include "ir/op_registry.h"
#include "kernels/kernel_registry.h"
#include "passes/pipeline.h"
#include "runtime/status.h"

/* ---- a one-node graph under test ---------------------------------------------- */

typedef struct tcase {
    dlc_graph *g;
    dlc_node *node;
    const char *op;
    int32_t opset, nin, nout;
    dlc_value *in[8];
    dlc_value *out[8];
} tcase;

static void tc_begin(tcase *c, const char *op, int32_t opset) {
    memset(c, 0, sizeof *c);
    cr_assert_eq(dlc_graph_create("t", &c->g), DLC_OK);
    c->op = op;
    c->opset = opset;
}

static dlc_value *tc_input(tcase *c, dlc_dtype t, int32_t rank, const int64_t *dims) {
    char name[16];
    snprintf(name, sizeof name, "in%d", c->nin);
    dlc_shape s = dlc_shape_make(rank, dims);
    cr_assert_eq(dlc_graph_add_value(c->g, name, DLC_VALUE_INPUT, t, &s, &c->in[c->nin]), DLC_OK, "%s",
                 dlc_last_error());
    return c->in[c->nin++];
}

static dlc_value *tc_const(tcase *c, dlc_dtype t, int32_t rank, const int64_t *dims, const void *data) {
    char name[16];
    snprintf(name, sizeof name, "in%d", c->nin);
    dlc_shape s = dlc_shape_make(rank, dims);
    size_t nbytes = (size_t)dlc_shape_numel(&s) * dlc_dtype_size(t);
    cr_assert_eq(dlc_graph_add_const(c->g, name, t, &s, data, nbytes, &c->in[c->nin]), DLC_OK, "%s", dlc_last_error());
    return c->in[c->nin++];
}

static dlc_value *tc_ints(tcase *c, int32_t n, const int64_t *v) { return tc_const(c, DLC_INT64, 1, (int64_t[]){n}, v); }
static void tc_skip(tcase *c) { c->in[c->nin++] = NULL; }

static void tc_node(tcase *c, int32_t nout) {
    dlc_shape unknown = {.rank = -1};
    for (int32_t i = 0; i < nout; i++) {
        char name[16];
        snprintf(name, sizeof name, "out%d", i);
        cr_assert_eq(dlc_graph_add_value(c->g, name, DLC_VALUE_INTERMEDIATE, DLC_DTYPE_UNDEFINED, &unknown, &c->out[i]),
                     DLC_OK);
    }
    c->nout = nout;
    cr_assert_eq(dlc_graph_add_node(c->g, "n", c->op, "", c->opset, c->nin, c->in, nout, c->out, &c->node), DLC_OK,
                 "%s", dlc_last_error());
}

static void tc_attr_int(tcase *c, const char *name, int64_t v) {
    dlc_attr a = {.name = (char *)name, .type = DLC_ATTR_INT, .i = v};
    cr_assert_eq(dlc_node_add_attr(c->node, &a), DLC_OK);
}
static void tc_attr_float(tcase *c, const char *name, double v) {
    dlc_attr a = {.name = (char *)name, .type = DLC_ATTR_FLOAT, .f = v};
    cr_assert_eq(dlc_node_add_attr(c->node, &a), DLC_OK);
}
static void tc_attr_ints(tcase *c, const char *name, int32_t n, const int64_t *v) {
    dlc_attr a = {.name = (char *)name, .type = DLC_ATTR_INTS, .ints = (int64_t *)v, .count = n};
    cr_assert_eq(dlc_node_add_attr(c->node, &a), DLC_OK);
}
static void tc_attr_string(tcase *c, const char *name, const char *s) {
    dlc_attr a = {.name = (char *)name, .type = DLC_ATTR_STRING, .s = (char *)s, .s_len = strlen(s)};
    cr_assert_eq(dlc_node_add_attr(c->node, &a), DLC_OK);
}

static dlc_status tc_infer(tcase *c) {
    DLC_TRY(dlc_node_bind_schema(c->node));
    return c->node->schema->infer(c->g, c->node);
}

static void tc_infer_ok(tcase *c) { cr_assert_eq(tc_infer(c), DLC_OK, "infer: %s", dlc_last_error()); }

/* Fails the test unless inference fails with a message containing `needle`
 * and naming the node. */
static void tc_infer_fails(tcase *c, const char *needle) {
    cr_assert_neq(tc_infer(c), DLC_OK, "inference should fail");
    cr_assert(strstr(dlc_last_error(), needle) != NULL, "message '%s' lacks '%s'", dlc_last_error(), needle);
    cr_assert(strstr(dlc_last_error(), "'n'") != NULL, "message '%s' does not name the node", dlc_last_error());
}

static void tc_expect_shape(const tcase *c, int32_t output, int32_t rank, const int64_t *dims) {
    const dlc_shape *s = &c->out[output]->shape;
    cr_assert_eq(s->rank, rank, "output %d rank %d, expected %d", output, s->rank, rank);
    for (int32_t d = 0; d < rank; d++)
        cr_assert_eq(s->dims[d].value, dims[d], "output %d dim %d is %lld, expected %lld", output, d,
                     (long long)s->dims[d].value, (long long)dims[d]);
}

/* Lowers and runs the kernel; returns its code. ins has one slot per node
 * input (callers pass (void *[8]){...} so unnamed slots are NULL); a NULL
 * slot of a CONST input uses the constant's own data. */
static int32_t tc_run(tcase *c, void **ins, void **outs, int32_t threads) {
    dlc_kcall call;
    cr_assert_eq(c->node->schema->lower(c->g, c->node, &call), DLC_OK, "lower: %s", dlc_last_error());
    void *blob;
    size_t size;
    cr_assert_eq(dlc_kparams_build(c->node, &call, &blob, &size), DLC_OK, "kparams: %s", dlc_last_error());
    const dlc_kernel_entry *k = dlc_kernel_find(call.kernel);
    cr_assert_not_null(k, "no kernel %s", call.kernel);
    void *in_ptrs[8] = {0};
    for (int32_t i = 0; i < c->nin; i++)
        in_ptrs[i] = ins != NULL && ins[i] != NULL ? ins[i] : c->in[i] != NULL ? c->in[i]->data : NULL;
    int64_t ws_size = k->workspace != NULL ? k->workspace(blob) : 0;
    void *ws = ws_size > 0 ? aligned_alloc(64, (size_t)(ws_size + 63) / 64 * 64) : NULL;
    dlc_kctx ctx = {.num_threads = threads, .workspace = ws, .workspace_size = ws_size};
    int32_t rc = k->fn(blob, in_ptrs, outs, &ctx);
    free(ws);
    free(blob);
    return rc;
}

static void tc_end(tcase *c) { dlc_graph_free(c->g); }

static float *iota_f(int64_t n) {
    float *p = malloc((size_t)(n > 0 ? n : 1) * sizeof *p);
    for (int64_t i = 0; i < n; i++) p[i] = (float)i;
    return p;
}

static void expect_floats(const float *got, const float *want, int64_t n, float tol) {
    for (int64_t i = 0; i < n; i++)
        cr_assert(fabsf(got[i] - want[i]) <= tol, "element %lld is %g, expected %g", (long long)i, got[i], want[i]);
}

/* ---- Reshape / Flatten / Squeeze / Unsqueeze ------------------------------------ */

Test(tensor_ops, reshape_zero_copies_and_minus_one_infers) {
    tcase c;
    tc_begin(&c, "Reshape", 13);
    tc_input(&c, DLC_FLOAT32, 3, (int64_t[]){2, 3, 4});
    tc_ints(&c, 3, (int64_t[]){0, -1, 2});
    tc_node(&c, 1);
    tc_infer_ok(&c);
    tc_expect_shape(&c, 0, 3, (int64_t[]){2, 6, 2});
    float *x = iota_f(24), y[24];
    cr_assert_eq(tc_run(&c, (void *[8]){x}, (void *[]){y}, 1), 0);
    expect_floats(y, x, 24, 0);
    free(x);
    tc_end(&c);
}

Test(tensor_ops, reshape_allowzero_keeps_zero) {
    tcase c;
    tc_begin(&c, "Reshape", 14);
    tc_input(&c, DLC_FLOAT32, 2, (int64_t[]){0, 4});
    tc_ints(&c, 3, (int64_t[]){4, 0, 3});
    tc_node(&c, 1);
    tc_attr_int(&c, "allowzero", 1);
    tc_infer_ok(&c);
    tc_expect_shape(&c, 0, 3, (int64_t[]){4, 0, 3});
    tc_end(&c);
    /* allowzero with 0 and -1 together is invalid */
    tc_begin(&c, "Reshape", 14);
    tc_input(&c, DLC_FLOAT32, 2, (int64_t[]){0, 4});
    tc_ints(&c, 2, (int64_t[]){0, -1});
    tc_node(&c, 1);
    tc_attr_int(&c, "allowzero", 1);
    tc_infer_fails(&c, "allowzero");
    tc_end(&c);
}

Test(tensor_ops, reshape_errors_name_the_node) {
    tcase c;
    tc_begin(&c, "Reshape", 13);
    tc_input(&c, DLC_FLOAT32, 2, (int64_t[]){2, 3});
    tc_ints(&c, 1, (int64_t[]){5});
    tc_node(&c, 1);
    tc_infer_fails(&c, "element counts differ");
    tc_end(&c);
    tc_begin(&c, "Reshape", 13);
    tc_input(&c, DLC_FLOAT32, 2, (int64_t[]){2, 3});
    tc_input(&c, DLC_INT64, 1, (int64_t[]){2});
    tc_node(&c, 1);
    tc_infer_fails(&c, "constant");
    tc_end(&c);
    /* opset 1-4: shape from the attribute */
    tc_begin(&c, "Reshape", 4);
    tc_input(&c, DLC_FLOAT32, 2, (int64_t[]){2, 3});
    tc_node(&c, 1);
    tc_attr_ints(&c, "shape", 2, (int64_t[]){3, -1});
    tc_infer_ok(&c);
    tc_expect_shape(&c, 0, 2, (int64_t[]){3, 2});
    tc_end(&c);
}

Test(tensor_ops, reshape_keeps_symbolic_batch_with_zero) {
    tcase c;
    tc_begin(&c, "Reshape", 13);
    int32_t sym;
    cr_assert_eq(dlc_graph_symbol(c.g, "batch", &sym), DLC_OK);
    dlc_shape s = {.rank = 3, .dims = {{-1, sym}, {3, 0}, {4, 0}}};
    cr_assert_eq(dlc_graph_add_value(c.g, "x", DLC_VALUE_INPUT, DLC_FLOAT32, &s, &c.in[0]), DLC_OK);
    c.nin = 1;
    tc_ints(&c, 2, (int64_t[]){0, 12});
    tc_node(&c, 1);
    tc_infer_ok(&c);
    cr_assert_eq(c.out[0]->shape.dims[0].value, -1);
    cr_assert_eq(c.out[0]->shape.dims[0].sym, sym);
    cr_assert_eq(c.out[0]->shape.dims[1].value, 12);
    tc_end(&c);
}

Test(tensor_ops, flatten_negative_axis) {
    tcase c;
    tc_begin(&c, "Flatten", 13);
    tc_input(&c, DLC_FLOAT32, 4, (int64_t[]){2, 3, 4, 5});
    tc_node(&c, 1);
    tc_attr_int(&c, "axis", -1);
    tc_infer_ok(&c);
    tc_expect_shape(&c, 0, 2, (int64_t[]){24, 5});
    tc_end(&c);
    tc_begin(&c, "Flatten", 13);
    tc_input(&c, DLC_FLOAT32, 2, (int64_t[]){2, 3});
    tc_node(&c, 1);
    tc_attr_int(&c, "axis", 0);
    tc_infer_ok(&c);
    tc_expect_shape(&c, 0, 2, (int64_t[]){1, 6});
    tc_end(&c);
}

Test(tensor_ops, squeeze_axes_attribute_before_13_input_after) {
    tcase c;
    tc_begin(&c, "Squeeze", 11);
    tc_input(&c, DLC_FLOAT32, 4, (int64_t[]){1, 3, 1, 2});
    tc_node(&c, 1);
    tc_attr_ints(&c, "axes", 1, (int64_t[]){-2});
    tc_infer_ok(&c);
    tc_expect_shape(&c, 0, 3, (int64_t[]){1, 3, 2});
    tc_end(&c);
    tc_begin(&c, "Squeeze", 13);
    tc_input(&c, DLC_FLOAT32, 4, (int64_t[]){1, 3, 1, 2});
    tc_ints(&c, 1, (int64_t[]){0});
    tc_node(&c, 1);
    tc_infer_ok(&c);
    tc_expect_shape(&c, 0, 3, (int64_t[]){3, 1, 2});
    tc_end(&c);
    tc_begin(&c, "Squeeze", 13); /* no axes: every 1 goes */
    tc_input(&c, DLC_FLOAT32, 4, (int64_t[]){1, 3, 1, 2});
    tc_node(&c, 1);
    tc_infer_ok(&c);
    tc_expect_shape(&c, 0, 2, (int64_t[]){3, 2});
    tc_end(&c);
    tc_begin(&c, "Squeeze", 13);
    tc_input(&c, DLC_FLOAT32, 2, (int64_t[]){1, 3});
    tc_ints(&c, 1, (int64_t[]){1});
    tc_node(&c, 1);
    tc_infer_fails(&c, "not 1");
    tc_end(&c);
}

Test(tensor_ops, unsqueeze_negative_axes_and_opsets) {
    tcase c;
    tc_begin(&c, "Unsqueeze", 13);
    tc_input(&c, DLC_FLOAT32, 2, (int64_t[]){3, 4});
    tc_ints(&c, 2, (int64_t[]){0, -1});
    tc_node(&c, 1);
    tc_infer_ok(&c);
    tc_expect_shape(&c, 0, 4, (int64_t[]){1, 3, 4, 1});
    tc_end(&c);
    tc_begin(&c, "Unsqueeze", 11);
    tc_input(&c, DLC_FLOAT32, 0, NULL);
    tc_node(&c, 1);
    tc_attr_ints(&c, "axes", 1, (int64_t[]){0});
    tc_infer_ok(&c);
    tc_expect_shape(&c, 0, 1, (int64_t[]){1});
    tc_end(&c);
}

/* ---- Transpose ------------------------------------------------------------------ */

Test(tensor_ops, transpose_perm_and_default_reverse) {
    int64_t dims[4] = {2, 3, 4, 5};
    int64_t perm[4] = {0, 2, 3, 1};
    float *x = iota_f(120), y[120];
    for (int threads = 1; threads <= 2; threads++) {
        tcase c;
        tc_begin(&c, "Transpose", 13);
        tc_input(&c, DLC_FLOAT32, 4, dims);
        tc_node(&c, 1);
        tc_attr_ints(&c, "perm", 4, perm);
        tc_infer_ok(&c);
        tc_expect_shape(&c, 0, 4, (int64_t[]){2, 4, 5, 3});
        cr_assert_eq(tc_run(&c, (void *[8]){x}, (void *[]){y}, threads), 0);
        for (int n = 0; n < 2; n++)
            for (int h = 0; h < 4; h++)
                for (int w = 0; w < 5; w++)
                    for (int ch = 0; ch < 3; ch++)
                        cr_assert_eq(y[((n * 4 + h) * 5 + w) * 3 + ch], x[((n * 3 + ch) * 4 + h) * 5 + w]);
        tc_end(&c);
    }
    tcase c;
    tc_begin(&c, "Transpose", 1);
    tc_input(&c, DLC_INT64, 2, (int64_t[]){3, 2});
    tc_node(&c, 1);
    tc_infer_ok(&c);
    tc_expect_shape(&c, 0, 2, (int64_t[]){2, 3});
    int64_t xi[6] = {0, 1, 2, 3, 4, 5}, yi[6];
    cr_assert_eq(tc_run(&c, (void *[8]){xi}, (void *[]){yi}, 1), 0);
    int64_t want[6] = {0, 2, 4, 1, 3, 5};
    for (int i = 0; i < 6; i++) cr_assert_eq(yi[i], want[i]);
    tc_end(&c);
    free(x);
}

Test(tensor_ops, transpose_bad_perm_fails) {
    tcase c;
    tc_begin(&c, "Transpose", 13);
    tc_input(&c, DLC_FLOAT32, 2, (int64_t[]){3, 2});
    tc_node(&c, 1);
    tc_attr_ints(&c, "perm", 2, (int64_t[]){0, 0});
    tc_infer_fails(&c, "permutation");
    tc_end(&c);
}

/* ---- Concat / Split --------------------------------------------------------------- */

Test(tensor_ops, concat_with_empty_input_and_negative_axis) {
    tcase c;
    tc_begin(&c, "Concat", 13);
    tc_input(&c, DLC_FLOAT32, 2, (int64_t[]){2, 2});
    tc_input(&c, DLC_FLOAT32, 2, (int64_t[]){2, 0});
    tc_input(&c, DLC_FLOAT32, 2, (int64_t[]){2, 3});
    tc_node(&c, 1);
    tc_attr_int(&c, "axis", -1);
    tc_infer_ok(&c);
    tc_expect_shape(&c, 0, 2, (int64_t[]){2, 5});
    float a[4] = {1, 2, 3, 4}, b[6] = {5, 6, 7, 8, 9, 10}, y[10];
    cr_assert_eq(tc_run(&c, (void *[8]){a, NULL, b}, (void *[]){y}, 2), 0);
    float want[10] = {1, 2, 5, 6, 7, 3, 4, 8, 9, 10};
    expect_floats(y, want, 10, 0);
    tc_end(&c);
    tc_begin(&c, "Concat", 13);
    tc_input(&c, DLC_FLOAT32, 2, (int64_t[]){2, 2});
    tc_input(&c, DLC_FLOAT32, 2, (int64_t[]){3, 3});
    tc_node(&c, 1);
    tc_attr_int(&c, "axis", 1);
    tc_infer_fails(&c, "dim 0 differs");
    tc_end(&c);
}

static void check_split(tcase *c, int32_t nout, const int64_t *sizes) {
    tc_infer_ok(c);
    float *x = iota_f(20), *outs[4];
    for (int32_t i = 0; i < nout; i++) {
        tc_expect_shape(c, i, 2, (int64_t[]){2, sizes[i]});
        outs[i] = malloc(sizeof(float) * 20);
    }
    cr_assert_eq(tc_run(c, (void *[8]){x}, (void **)outs, 1), 0);
    int64_t col = 0;
    for (int32_t i = 0; i < nout; i++) {
        for (int64_t r = 0; r < 2; r++)
            for (int64_t k = 0; k < sizes[i]; k++) cr_assert_eq(outs[i][r * sizes[i] + k], x[r * 10 + col + k]);
        col += sizes[i];
        free(outs[i]);
    }
    free(x);
    tc_end(c);
}

Test(tensor_ops, split_by_opset) {
    tcase c;
    tc_begin(&c, "Split", 11); /* attribute */
    tc_input(&c, DLC_FLOAT32, 2, (int64_t[]){2, 10});
    tc_node(&c, 3);
    tc_attr_int(&c, "axis", 1);
    tc_attr_ints(&c, "split", 3, (int64_t[]){2, 3, 5});
    check_split(&c, 3, (int64_t[]){2, 3, 5});
    tc_begin(&c, "Split", 13); /* input */
    tc_input(&c, DLC_FLOAT32, 2, (int64_t[]){2, 10});
    tc_ints(&c, 2, (int64_t[]){4, 6});
    tc_node(&c, 2);
    tc_attr_int(&c, "axis", -1);
    check_split(&c, 2, (int64_t[]){4, 6});
    tc_begin(&c, "Split", 13); /* equal parts */
    tc_input(&c, DLC_FLOAT32, 2, (int64_t[]){2, 10});
    tc_node(&c, 2);
    tc_attr_int(&c, "axis", 1);
    check_split(&c, 2, (int64_t[]){5, 5});
    tc_begin(&c, "Split", 18); /* num_outputs, last part smaller */
    tc_input(&c, DLC_FLOAT32, 2, (int64_t[]){2, 10});
    tc_node(&c, 3);
    tc_attr_int(&c, "axis", 1);
    tc_attr_int(&c, "num_outputs", 3);
    check_split(&c, 3, (int64_t[]){4, 4, 2});
    tc_begin(&c, "Split", 13);
    tc_input(&c, DLC_FLOAT32, 2, (int64_t[]){2, 10});
    tc_node(&c, 3);
    tc_attr_int(&c, "axis", 1);
    tc_infer_fails(&c, "equal parts");
    tc_end(&c);
}

/* ---- Slice ------------------------------------------------------------------------- */

Test(tensor_ops, slice_opset1_attributes) {
    tcase c;
    tc_begin(&c, "Slice", 1);
    tc_input(&c, DLC_FLOAT32, 2, (int64_t[]){3, 4});
    tc_node(&c, 1);
    tc_attr_ints(&c, "starts", 2, (int64_t[]){1, -3});
    tc_attr_ints(&c, "ends", 2, (int64_t[]){1000, -1});
    tc_infer_ok(&c);
    tc_expect_shape(&c, 0, 2, (int64_t[]){2, 2});
    float *x = iota_f(12), y[4];
    cr_assert_eq(tc_run(&c, (void *[8]){x}, (void *[]){y}, 1), 0);
    expect_floats(y, (float[]){5, 6, 9, 10}, 4, 0);
    free(x);
    tc_end(&c);
}

Test(tensor_ops, slice_negative_steps_and_clamped_ends) {
    tcase c;
    tc_begin(&c, "Slice", 13);
    tc_input(&c, DLC_FLOAT32, 2, (int64_t[]){3, 5});
    tc_ints(&c, 2, (int64_t[]){100, -1});       /* starts: clamped to the last element */
    tc_ints(&c, 2, (int64_t[]){INT64_MIN, 0});  /* ends: to the very beginning, and before column 0 */
    tc_ints(&c, 2, (int64_t[]){1, 0});          /* axes, out of order */
    tc_ints(&c, 2, (int64_t[]){-2, -1});        /* steps */
    tc_node(&c, 1);
    tc_infer_ok(&c);
    /* axis 0: start -1 -> 2, end 0 (exclusive), step -1: rows 2,1; axis 1: 4,2,0 */
    tc_expect_shape(&c, 0, 2, (int64_t[]){2, 3});
    float *x = iota_f(15), y[6];
    cr_assert_eq(tc_run(&c, (void *[8]){x}, (void *[]){y}, 1), 0);
    expect_floats(y, (float[]){14, 12, 10, 9, 7, 5}, 6, 0);
    free(x);
    tc_end(&c);
    /* a start past the end gives an empty result */
    tc_begin(&c, "Slice", 10);
    tc_input(&c, DLC_FLOAT32, 1, (int64_t[]){4});
    tc_ints(&c, 1, (int64_t[]){7});
    tc_ints(&c, 1, (int64_t[]){10});
    tc_node(&c, 1);
    tc_infer_ok(&c);
    tc_expect_shape(&c, 0, 1, (int64_t[]){0});
    tc_end(&c);
    tc_begin(&c, "Slice", 13);
    tc_input(&c, DLC_FLOAT32, 1, (int64_t[]){4});
    tc_ints(&c, 1, (int64_t[]){0});
    tc_ints(&c, 1, (int64_t[]){3});
    tc_skip(&c);
    tc_ints(&c, 1, (int64_t[]){0});
    tc_node(&c, 1);
    tc_infer_fails(&c, "step");
    tc_end(&c);
}

/* ---- Gather family ----------------------------------------------------------------- */

Test(tensor_ops, gather_negative_indices_and_out_of_range) {
    tcase c;
    tc_begin(&c, "Gather", 13);
    tc_input(&c, DLC_FLOAT32, 2, (int64_t[]){3, 4});
    tc_input(&c, DLC_INT64, 2, (int64_t[]){2, 2});
    tc_node(&c, 1);
    tc_attr_int(&c, "axis", -1);
    tc_infer_ok(&c);
    tc_expect_shape(&c, 0, 3, (int64_t[]){3, 2, 2});
    float *x = iota_f(12), y[12];
    int64_t idx[4] = {0, -1, 2, -4};
    cr_assert_eq(tc_run(&c, (void *[8]){x, idx}, (void *[]){y}, 2), 0);
    for (int r = 0; r < 3; r++) expect_floats(y + 4 * r, (float[]){4.0f * r, 4.0f * r + 3, 4.0f * r + 2, 4.0f * r}, 4, 0);
    int64_t bad[4] = {0, 1, 4, 0};
    cr_assert_eq(tc_run(&c, (void *[8]){x, bad}, (void *[]){y}, 1), DLC_KERR_INDEX_OUT_OF_RANGE);
    int64_t bad_neg[4] = {0, -5, 1, 0};
    cr_assert_eq(tc_run(&c, (void *[8]){x, bad_neg}, (void *[]){y}, 2), DLC_KERR_INDEX_OUT_OF_RANGE);
    free(x);
    tc_end(&c);
    /* constant indices are checked at compile time */
    tc_begin(&c, "Gather", 13);
    tc_input(&c, DLC_FLOAT32, 2, (int64_t[]){3, 4});
    tc_const(&c, DLC_INT32, 1, (int64_t[]){1}, (int32_t[]){3});
    tc_node(&c, 1);
    tc_infer_fails(&c, "index 3 is out of range");
    tc_end(&c);
}

Test(tensor_ops, gather_elements_and_scatter_elements_add) {
    tcase c;
    tc_begin(&c, "GatherElements", 13);
    tc_input(&c, DLC_FLOAT32, 2, (int64_t[]){2, 2});
    tc_input(&c, DLC_INT64, 2, (int64_t[]){2, 2});
    tc_node(&c, 1);
    tc_attr_int(&c, "axis", 1);
    tc_infer_ok(&c);
    float x[4] = {1, 2, 3, 4}, y[4];
    int64_t idx[4] = {0, 0, -1, 0};
    cr_assert_eq(tc_run(&c, (void *[8]){x, idx}, (void *[]){y}, 1), 0);
    expect_floats(y, (float[]){1, 1, 4, 3}, 4, 0);
    tc_end(&c);

    tc_begin(&c, "ScatterElements", 18);
    tc_input(&c, DLC_FLOAT32, 2, (int64_t[]){1, 5});
    tc_input(&c, DLC_INT64, 2, (int64_t[]){1, 2});
    tc_input(&c, DLC_FLOAT32, 2, (int64_t[]){1, 2});
    tc_node(&c, 1);
    tc_attr_int(&c, "axis", 1);
    tc_attr_string(&c, "reduction", "add");
    tc_infer_ok(&c);
    float data[5] = {1, 2, 3, 4, 5}, upd[2] = {1.1f, 2.1f}, out[5];
    int64_t sidx[2] = {1, 1};
    cr_assert_eq(tc_run(&c, (void *[8]){data, sidx, upd}, (void *[]){out}, 1), 0);
    expect_floats(out, (float[]){1, 5.2f, 3, 4, 5}, 5, 1e-6f);
    tc_end(&c);

    tc_begin(&c, "ScatterElements", 16); /* max arrived in 18 */
    tc_input(&c, DLC_FLOAT32, 2, (int64_t[]){1, 5});
    tc_input(&c, DLC_INT64, 2, (int64_t[]){1, 2});
    tc_input(&c, DLC_FLOAT32, 2, (int64_t[]){1, 2});
    tc_node(&c, 1);
    tc_attr_string(&c, "reduction", "max");
    tc_infer_fails(&c, "reduction 'max'");
    tc_end(&c);
}

/* ---- Pad ----------------------------------------------------------------------------- */

static void run_pad(const char *mode, int32_t opset, const float *want) {
    tcase c;
    tc_begin(&c, "Pad", opset);
    tc_input(&c, DLC_FLOAT32, 2, (int64_t[]){2, 3});
    int64_t pads[4] = {1, 2, 0, 1}; /* begin rows 1, cols 2; end rows 0, cols 1 */
    if (opset >= 11) {
        tc_ints(&c, 4, pads);
        tc_const(&c, DLC_FLOAT32, 0, NULL, (float[]){-1});
    }
    tc_node(&c, 1);
    tc_attr_string(&c, "mode", mode);
    if (opset < 11) {
        tc_attr_ints(&c, "pads", 4, pads);
        tc_attr_float(&c, "value", -1);
    }
    tc_infer_ok(&c);
    tc_expect_shape(&c, 0, 2, (int64_t[]){3, 6});
    float x[6] = {1, 2, 3, 4, 5, 6}, y[18];
    cr_assert_eq(tc_run(&c, (void *[8]){x}, (void *[]){y}, 1), 0);
    expect_floats(y, want, 18, 0);
    tc_end(&c);
}

Test(tensor_ops, pad_modes) {
    const float constant[18] = {-1, -1, -1, -1, -1, -1, -1, -1, 1, 2, 3, -1, -1, -1, 4, 5, 6, -1};
    run_pad("constant", 2, constant);
    run_pad("constant", 18, constant);
    /* reflect: rows [4 5 6],[1 2 3],[4 5 6]; cols mirror without repeating the edge */
    run_pad("reflect", 13, (const float[]){6, 5, 4, 5, 6, 5, 3, 2, 1, 2, 3, 2, 6, 5, 4, 5, 6, 5});
    run_pad("edge", 11, (const float[]){1, 1, 1, 2, 3, 3, 1, 1, 1, 2, 3, 3, 4, 4, 4, 5, 6, 6});
    run_pad("wrap", 19, (const float[]){5, 6, 4, 5, 6, 4, 2, 3, 1, 2, 3, 1, 5, 6, 4, 5, 6, 4});
}

Test(tensor_ops, pad_negative_crops_and_axes_input) {
    tcase c;
    tc_begin(&c, "Pad", 18);
    tc_input(&c, DLC_INT32, 2, (int64_t[]){2, 4});
    tc_ints(&c, 2, (int64_t[]){-1, 1});
    tc_skip(&c);
    tc_ints(&c, 1, (int64_t[]){-1});
    tc_node(&c, 1);
    tc_infer_ok(&c);
    tc_expect_shape(&c, 0, 2, (int64_t[]){2, 4});
    int32_t x[8] = {1, 2, 3, 4, 5, 6, 7, 8}, y[8];
    cr_assert_eq(tc_run(&c, (void *[8]){x}, (void *[]){y}, 1), 0);
    int32_t want[8] = {2, 3, 4, 0, 6, 7, 8, 0};
    for (int i = 0; i < 8; i++) cr_assert_eq(y[i], want[i]);
    tc_end(&c);
}

/* ---- shapes as data ----------------------------------------------------------------------- */

Test(tensor_ops, shape_start_end_size_constant_of_shape_range) {
    tcase c;
    tc_begin(&c, "Shape", 15);
    tc_input(&c, DLC_FLOAT32, 4, (int64_t[]){2, 3, 4, 5});
    tc_node(&c, 1);
    tc_attr_int(&c, "start", 1);
    tc_attr_int(&c, "end", -1);
    tc_infer_ok(&c);
    tc_expect_shape(&c, 0, 1, (int64_t[]){2});
    int64_t s[2];
    cr_assert_eq(tc_run(&c, (void *[8]){NULL}, (void *[]){s}, 1), 0);
    cr_assert(s[0] == 3 && s[1] == 4);
    tc_end(&c);

    tc_begin(&c, "Size", 13);
    tc_input(&c, DLC_FLOAT32, 2, (int64_t[]){6, 7});
    tc_node(&c, 1);
    tc_infer_ok(&c);
    int64_t n;
    cr_assert_eq(tc_run(&c, (void *[8]){NULL}, (void *[]){&n}, 1), 0);
    cr_assert_eq(n, 42);
    tc_end(&c);

    tc_begin(&c, "ConstantOfShape", 9);
    tc_ints(&c, 2, (int64_t[]){2, 3});
    tc_node(&c, 1);
    dlc_value *v;
    dlc_shape one = {.rank = 1, .dims = {{1, 0}}};
    cr_assert_eq(dlc_value_create_detached_const("v", DLC_INT32, &one, (int32_t[]){7}, 4, &v), DLC_OK);
    dlc_attr a = {.name = "value", .type = DLC_ATTR_TENSOR, .tensor = v};
    cr_assert_eq(dlc_node_add_attr(c.node, &a), DLC_OK);
    dlc_value_free(v);
    tc_infer_ok(&c);
    cr_assert_eq(c.out[0]->dtype, DLC_INT32);
    tc_expect_shape(&c, 0, 2, (int64_t[]){2, 3});
    int32_t filled[6];
    cr_assert_eq(tc_run(&c, NULL, (void *[]){filled}, 1), 0);
    for (int i = 0; i < 6; i++) cr_assert_eq(filled[i], 7);
    tc_end(&c);

    tc_begin(&c, "Range", 11);
    tc_const(&c, DLC_FLOAT32, 0, NULL, (float[]){1});
    tc_const(&c, DLC_FLOAT32, 0, NULL, (float[]){2});
    tc_const(&c, DLC_FLOAT32, 0, NULL, (float[]){0.3f});
    tc_node(&c, 1);
    tc_infer_ok(&c);
    tc_expect_shape(&c, 0, 1, (int64_t[]){4});
    float r[4];
    cr_assert_eq(tc_run(&c, NULL, (void *[]){r}, 1), 0);
    expect_floats(r, (float[]){1, 1.3f, 1.6f, 1.9f}, 4, 1e-6f);
    tc_end(&c);

    tc_begin(&c, "Range", 11);
    tc_const(&c, DLC_INT32, 0, NULL, (int32_t[]){10});
    tc_const(&c, DLC_INT32, 0, NULL, (int32_t[]){-1});
    tc_const(&c, DLC_INT32, 0, NULL, (int32_t[]){-4});
    tc_node(&c, 1);
    tc_infer_ok(&c);
    tc_expect_shape(&c, 0, 1, (int64_t[]){3});
    int32_t ri[3];
    cr_assert_eq(tc_run(&c, NULL, (void *[]){ri}, 1), 0);
    cr_assert(ri[0] == 10 && ri[1] == 6 && ri[2] == 2);
    tc_end(&c);
}

Test(tensor_ops, expand_and_tile) {
    tcase c;
    tc_begin(&c, "Expand", 13);
    tc_input(&c, DLC_FLOAT32, 2, (int64_t[]){3, 1});
    tc_ints(&c, 3, (int64_t[]){2, 1, 4});
    tc_node(&c, 1);
    tc_infer_ok(&c);
    tc_expect_shape(&c, 0, 3, (int64_t[]){2, 3, 4});
    float x[3] = {1, 2, 3}, y[24];
    cr_assert_eq(tc_run(&c, (void *[8]){x}, (void *[]){y}, 1), 0);
    for (int i = 0; i < 24; i++) cr_assert_eq(y[i], x[(i / 4) % 3]);
    tc_end(&c);

    tc_begin(&c, "Tile", 13);
    tc_input(&c, DLC_INT64, 2, (int64_t[]){2, 2});
    tc_ints(&c, 2, (int64_t[]){2, 3});
    tc_node(&c, 1);
    tc_infer_ok(&c);
    tc_expect_shape(&c, 0, 2, (int64_t[]){4, 6});
    int64_t t[4] = {1, 2, 3, 4}, ty[24];
    cr_assert_eq(tc_run(&c, (void *[8]){t}, (void *[]){ty}, 1), 0);
    for (int r = 0; r < 4; r++)
        for (int k = 0; k < 6; k++) cr_assert_eq(ty[r * 6 + k], t[(r % 2) * 2 + k % 2]);
    tc_end(&c);
}

/* ---- Constant / Identity / Dropout ---------------------------------------------------------- */

Test(tensor_ops, constant_becomes_a_const_value) {
    tcase c;
    tc_begin(&c, "Constant", 13);
    tc_node(&c, 1);
    tc_attr_ints(&c, "value_ints", 3, (int64_t[]){4, 5, 6});
    tc_infer_ok(&c);
    cr_assert_eq(c.out[0]->kind, DLC_VALUE_CONST);
    cr_assert_eq(c.out[0]->dtype, DLC_INT64);
    tc_expect_shape(&c, 0, 1, (int64_t[]){3});
    cr_assert_eq(((int64_t *)c.out[0]->data)[2], 6);
    tc_end(&c);
    tc_begin(&c, "Constant", 13);
    tc_node(&c, 1);
    tc_attr_float(&c, "value_float", 2.5);
    tc_infer_ok(&c);
    cr_assert_eq(c.out[0]->shape.rank, 0);
    cr_assert_eq(*(float *)c.out[0]->data, 2.5f);
    tc_end(&c);
    tc_begin(&c, "Constant", 13);
    tc_node(&c, 1);
    tc_attr_string(&c, "value_string", "hello");
    tc_infer_fails(&c, "string");
    tc_end(&c);
}

Test(tensor_ops, dropout_inference_mask_and_training_error) {
    tcase c;
    tc_begin(&c, "Dropout", 13);
    tc_input(&c, DLC_FLOAT32, 1, (int64_t[]){3});
    tc_node(&c, 2);
    tc_infer_ok(&c);
    cr_assert_eq(c.out[1]->dtype, DLC_BOOL);
    float x[3] = {1, 2, 3}, y[3];
    uint8_t mask[3] = {0};
    cr_assert_eq(tc_run(&c, (void *[8]){x}, (void *[]){y, mask}, 1), 0);
    expect_floats(y, x, 3, 0);
    cr_assert(mask[0] == 1 && mask[1] == 1 && mask[2] == 1);
    tc_end(&c);
    /* training mode runs (tests/unit/random_test.c), but which code runs
     * must be known at compile time: a run-time training_mode is refused */
    tc_begin(&c, "Dropout", 13);
    tc_input(&c, DLC_FLOAT32, 1, (int64_t[]){3});
    tc_skip(&c);
    tc_input(&c, DLC_BOOL, 0, NULL);
    tc_node(&c, 1);
    tc_infer_fails(&c, "training_mode");
    tc_end(&c);
}

/* ---- DepthToSpace / SpaceToDepth ------------------------------------------------------------- */

Test(tensor_ops, depth_to_space_modes_and_space_to_depth_inverse) {
    const int64_t N = 1, C = 8, H = 2, W = 3, b = 2, Co = 2;
    float *x = iota_f(N * C * H * W), y[48], z[48];
    for (int crd = 0; crd <= 1; crd++) {
        tcase c;
        tc_begin(&c, "DepthToSpace", 13);
        tc_input(&c, DLC_FLOAT32, 4, (int64_t[]){N, C, H, W});
        tc_node(&c, 1);
        tc_attr_int(&c, "blocksize", b);
        if (crd) tc_attr_string(&c, "mode", "CRD");
        tc_infer_ok(&c);
        tc_expect_shape(&c, 0, 4, (int64_t[]){1, Co, H * b, W * b});
        cr_assert_eq(tc_run(&c, (void *[8]){x}, (void *[]){y}, 1), 0);
        for (int64_t co = 0; co < Co; co++)
            for (int64_t h = 0; h < H * b; h++)
                for (int64_t w = 0; w < W * b; w++) {
                    int64_t b1 = h % b, b2 = w % b;
                    int64_t ci = crd ? (co * b + b1) * b + b2 : (b1 * b + b2) * Co + co;
                    cr_assert_eq(y[(co * H * b + h) * W * b + w], x[(ci * H + h / b) * W + w / b]);
                }
        tc_end(&c);
        if (crd) continue;
        tc_begin(&c, "SpaceToDepth", 13);
        tc_input(&c, DLC_FLOAT32, 4, (int64_t[]){N, Co, H * b, W * b});
        tc_node(&c, 1);
        tc_attr_int(&c, "blocksize", b);
        tc_infer_ok(&c);
        tc_expect_shape(&c, 0, 4, (int64_t[]){N, C, H, W});
        cr_assert_eq(tc_run(&c, (void *[8]){y}, (void *[]){z}, 1), 0);
        expect_floats(z, x, 48, 0);
        tc_end(&c);
    }
    free(x);
}

/* ---- Resize ----------------------------------------------------------------------------------- */

/* Resize opset 13 of a [1,1,h,w] float input with CONST scales. */
static void run_resize(const char *mode, const char *coord, int64_t h, int64_t w, const float *x, float sh, float sw,
                       int64_t oh, int64_t ow, const float *want, float tol) {
    tcase c;
    tc_begin(&c, "Resize", 13);
    tc_input(&c, DLC_FLOAT32, 4, (int64_t[]){1, 1, h, w});
    tc_skip(&c);
    tc_const(&c, DLC_FLOAT32, 1, (int64_t[]){4}, (float[]){1, 1, sh, sw});
    tc_node(&c, 1);
    tc_attr_string(&c, "mode", mode);
    if (coord != NULL) tc_attr_string(&c, "coordinate_transformation_mode", coord);
    tc_infer_ok(&c);
    tc_expect_shape(&c, 0, 4, (int64_t[]){1, 1, oh, ow});
    float *y = malloc(sizeof(float) * (size_t)(oh * ow));
    cr_assert_eq(tc_run(&c, (void *[8]){(void *)x}, (void *[]){y}, 2), 0);
    expect_floats(y, want, oh * ow, tol);
    free(y);
    tc_end(&c);
}

/* Expected values from the ONNX backend tests of the same names. */
Test(tensor_ops, resize_matches_onnx_backend_cases) {
    const float x22[4] = {1, 2, 3, 4};
    /* test_resize_upsample_scales_linear */
    run_resize("linear", NULL, 2, 2, x22, 2, 2, 4, 4,
               (const float[]){1, 1.25f, 1.75f, 2, 1.5f, 1.75f, 2.25f, 2.5f, 2.5f, 2.75f, 3.25f, 3.5f, 3, 3.25f,
                               3.75f, 4},
               1e-5f);
    /* test_resize_upsample_scales_linear_align_corners */
    run_resize("linear", "align_corners", 2, 2, x22, 2, 2, 4, 4,
               (const float[]){1, 1.3333333f, 1.6666667f, 2, 1.6666666f, 2, 2.3333333f, 2.6666667f, 2.3333333f,
                               2.6666665f, 3, 3.3333335f, 3, 3.3333333f, 3.6666667f, 4},
               1e-5f);
    /* test_resize_upsample_scales_nearest */
    run_resize("nearest", NULL, 2, 2, x22, 2, 3, 4, 6,
               (const float[]){1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4}, 0);
    const float x24[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    /* test_resize_downsample_scales_nearest / _linear / _linear_align_corners */
    run_resize("nearest", NULL, 2, 4, x24, 0.6f, 0.6f, 1, 2, (const float[]){1, 3}, 0);
    run_resize("linear", NULL, 2, 4, x24, 0.6f, 0.6f, 1, 2, (const float[]){2.6666665f, 4.3333331f}, 1e-5f);
    run_resize("linear", "align_corners", 2, 4, x24, 0.6f, 0.6f, 1, 2, (const float[]){1, 3.142857f}, 1e-5f);
    /* test_resize_downsample_scales_cubic */
    float x44[16];
    for (int i = 0; i < 16; i++) x44[i] = (float)(i + 1);
    run_resize("cubic", NULL, 4, 4, x44, 0.8f, 0.8f, 3, 3,
               (const float[]){1.47119141f, 2.78125f, 4.08251953f, 6.71142578f, 8.02148438f, 9.32275391f,
                               11.91650391f, 13.2265625f, 14.52783203f},
               1e-4f);
}

/* Resize opset 13 of an input of `dims` with CONST scales, on `threads`
 * threads, in float32 (or float64: the element-by-element path in doubles). */
static void resize_as(dlc_dtype dtype, int32_t rank, const int64_t *dims, const float *scales, const char *mode,
                      const char *coord, const void *x, void *y, int64_t *out_numel, int threads) {
    tcase c;
    tc_begin(&c, "Resize", 13);
    tc_input(&c, dtype, rank, dims);
    tc_skip(&c);
    tc_const(&c, DLC_FLOAT32, 1, (int64_t[]){rank}, scales);
    tc_node(&c, 1);
    tc_attr_string(&c, "mode", mode);
    if (coord != NULL) tc_attr_string(&c, "coordinate_transformation_mode", coord);
    tc_infer_ok(&c);
    *out_numel = dlc_value_numel(c.node->outputs[0]);
    cr_assert_eq(tc_run(&c, (void *[8]){(void *)x}, (void *[]){y}, threads), 0);
    tc_end(&c);
}

/* float32 linear and cubic resizes interpolate each input row once into a
 * per-thread cache and blend the cached rows (kernels/resize.c); checked
 * against the float64 path, which sums every tap product per element, on
 * sizes that split rows across slots and evict cached rows (up- and
 * downscales, 2-D and 3-D, 1 and 3 threads). */
Test(tensor_ops, resize_float_row_cache_matches_the_per_element_path) {
    const struct {
        int32_t rank;
        int64_t dims[5];
        float scales[5];
        const char *mode, *coord;
    } cases[] = {
        {4, {1, 3, 37, 45}, {1, 1, 2.5f, 3.3f}, "linear", NULL},
        {4, {2, 4, 100, 90}, {1, 1, 0.6f, 0.7f}, "linear", "align_corners"},
        {4, {1, 3, 33, 31}, {1, 1, 3, 2}, "cubic", NULL},
        {4, {1, 4, 60, 60}, {1, 1, 0.8f, 1.5f}, "cubic", "asymmetric"},
        {5, {1, 2, 6, 20, 24}, {1, 1, 2, 2, 2}, "linear", "pytorch_half_pixel"},
        {4, {1, 3, 37, 45}, {1, 1, 2.5f, 3.3f}, "nearest", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t in_numel = 1;
        for (int32_t d = 0; d < cases[i].rank; d++) in_numel *= cases[i].dims[d];
        float *x32 = malloc(sizeof(float) * (size_t)in_numel);
        double *x64 = malloc(sizeof(double) * (size_t)in_numel);
        for (int64_t e = 0; e < in_numel; e++) x64[e] = x32[e] = (float)((e * 7919) % 1000) / 250.0f - 2.0f;
        const int64_t cap = 200000;
        float *y32 = malloc(sizeof(float) * cap);
        double *y64 = malloc(sizeof(double) * cap);
        for (int threads = 1; threads <= 3; threads += 2) {
            int64_t n32, n64;
            resize_as(DLC_FLOAT32, cases[i].rank, cases[i].dims, cases[i].scales, cases[i].mode, cases[i].coord, x32,
                      y32, &n32, threads);
            resize_as(DLC_FLOAT64, cases[i].rank, cases[i].dims, cases[i].scales, cases[i].mode, cases[i].coord, x64,
                      y64, &n64, 1);
            cr_assert(n32 == n64 && n32 > 16384 && n32 <= cap, "case %zu: %lld outputs", i, (long long)n32);
            for (int64_t e = 0; e < n32; e++) {
                double err = fabs((double)y32[e] - y64[e]);
                cr_assert(err <= 1e-5 * (1.0 + fabs(y64[e])), "case %zu (%s), %d threads, element %lld: %.8g vs %.8g",
                          i, cases[i].mode, threads, (long long)e, y32[e], y64[e]);
            }
        }
        free(x32), free(x64), free(y32), free(y64);
    }
}

Test(tensor_ops, upsample_repeats_pixels) {
    tcase c;
    tc_begin(&c, "Upsample", 7);
    tc_input(&c, DLC_INT32, 4, (int64_t[]){1, 1, 2, 2});
    tc_node(&c, 1);
    dlc_attr a = {.name = "scales", .type = DLC_ATTR_FLOATS, .floats = (double[]){1, 1, 2, 3}, .count = 4};
    cr_assert_eq(dlc_node_add_attr(c.node, &a), DLC_OK);
    tc_infer_ok(&c);
    tc_expect_shape(&c, 0, 4, (int64_t[]){1, 1, 4, 6});
    int32_t x[4] = {1, 2, 3, 4}, y[24];
    cr_assert_eq(tc_run(&c, (void *[8]){x}, (void *[]){y}, 1), 0);
    for (int r = 0; r < 4; r++)
        for (int k = 0; k < 6; k++) cr_assert_eq(y[r * 6 + k], x[(r / 2) * 2 + k / 3]);
    tc_end(&c);
}

/* ---- OneHot / CumSum / Trilu (NonZero: data_dependent_test.c) --------------------------------------------------------- */

Test(tensor_ops, onehot_cumsum_trilu) {
    tcase c;
    tc_begin(&c, "OneHot", 11);
    tc_input(&c, DLC_INT64, 1, (int64_t[]){3});
    tc_const(&c, DLC_INT64, 0, NULL, (int64_t[]){4});
    tc_const(&c, DLC_FLOAT32, 1, (int64_t[]){2}, (float[]){0, 5});
    tc_node(&c, 1);
    tc_attr_int(&c, "axis", 0);
    tc_infer_ok(&c);
    tc_expect_shape(&c, 0, 2, (int64_t[]){4, 3});
    int64_t idx[3] = {1, -1, 9};
    float oh[12];
    cr_assert_eq(tc_run(&c, (void *[8]){idx}, (void *[]){oh}, 1), 0);
    expect_floats(oh, (float[]){0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 5, 0}, 12, 0);
    tc_end(&c);

    tc_begin(&c, "CumSum", 14);
    tc_input(&c, DLC_FLOAT32, 2, (int64_t[]){2, 3});
    tc_input(&c, DLC_INT32, 0, NULL);
    tc_node(&c, 1);
    tc_attr_int(&c, "exclusive", 1);
    tc_attr_int(&c, "reverse", 1);
    tc_infer_ok(&c);
    float x[6] = {1, 2, 3, 4, 5, 6}, y[6];
    int32_t axis = -1;
    cr_assert_eq(tc_run(&c, (void *[8]){x, &axis}, (void *[]){y}, 1), 0);
    expect_floats(y, (float[]){5, 3, 0, 11, 6, 0}, 6, 0);
    tc_end(&c);

    tc_begin(&c, "Trilu", 14);
    tc_input(&c, DLC_FLOAT32, 2, (int64_t[]){3, 3});
    tc_const(&c, DLC_INT64, 0, NULL, (int64_t[]){-1});
    tc_node(&c, 1);
    tc_attr_int(&c, "upper", 0);
    tc_infer_ok(&c);
    float m[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, t[9];
    cr_assert_eq(tc_run(&c, (void *[8]){m}, (void *[]){t}, 1), 0);
    expect_floats(t, (float[]){0, 0, 0, 4, 0, 0, 7, 8, 0}, 9, 0);
    tc_end(&c);
}

/* ---- through the pass pipeline: Constant and folding of shape ops -------------------------------- */

Test(tensor_ops, constant_node_is_dropped_by_folding) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("g", &g), DLC_OK);
    dlc_shape unknown = {.rank = -1}, xs = dlc_shape_make(2, (int64_t[]){2, 6});
    dlc_value *x, *k, *y;
    cr_assert_eq(dlc_graph_add_value(g, "x", DLC_VALUE_INPUT, DLC_FLOAT32, &xs, &x), DLC_OK);
    cr_assert_eq(dlc_graph_add_value(g, "k", DLC_VALUE_INTERMEDIATE, DLC_DTYPE_UNDEFINED, &unknown, &k), DLC_OK);
    cr_assert_eq(dlc_graph_add_value(g, "y", DLC_VALUE_INTERMEDIATE, DLC_DTYPE_UNDEFINED, &unknown, &y), DLC_OK);
    dlc_node *cn, *rn;
    cr_assert_eq(dlc_graph_add_node(g, "c", "Constant", "", 13, 0, NULL, 1, &k, &cn), DLC_OK);
    dlc_attr a = {.name = "value_ints", .type = DLC_ATTR_INTS, .ints = (int64_t[]){3, -1}, .count = 2};
    cr_assert_eq(dlc_node_add_attr(cn, &a), DLC_OK);
    cr_assert_eq(dlc_graph_add_node(g, "r", "Reshape", "", 13, 2, (dlc_value *[]){x, k}, 1, &y, &rn), DLC_OK);
    g->outputs = malloc(sizeof *g->outputs);
    g->outputs[0] = y;
    g->num_outputs = 1;
    dlc_graph_update_uses(g);
    cr_assert_eq(dlc_infer_and_fold(g), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(g->num_nodes, 1);
    cr_assert_str_eq(g->nodes[0]->op_type, "Reshape");
    cr_assert_eq(y->shape.rank, 2);
    cr_assert_eq(y->shape.dims[0].value, 3);
    cr_assert_eq(y->shape.dims[1].value, 4);
    dlc_graph_free(g);
}

Test(tensor_ops, big_transpose_and_concat_threads_agree) {
    const int64_t A = 64, B = 96, C = 33;
    float *x = iota_f(A * B * C), *y1 = malloc(sizeof(float) * A * B * C), *y2 = malloc(sizeof(float) * A * B * C);
    tcase c;
    tc_begin(&c, "Transpose", 13);
    tc_input(&c, DLC_FLOAT32, 3, (int64_t[]){A, B, C});
    tc_node(&c, 1);
    tc_attr_ints(&c, "perm", 3, (int64_t[]){2, 0, 1});
    tc_infer_ok(&c);
    cr_assert_eq(tc_run(&c, (void *[8]){x}, (void *[]){y1}, 1), 0);
    cr_assert_eq(tc_run(&c, (void *[8]){x}, (void *[]){y2}, 4), 0);
    for (int64_t k = 0; k < C; k++)
        for (int64_t i = 0; i < A; i++)
            for (int64_t j = 0; j < B; j++) cr_assert_eq(y1[(k * A + i) * B + j], x[(i * B + j) * C + k]);
    cr_assert_eq(memcmp(y1, y2, sizeof(float) * A * B * C), 0);
    tc_end(&c);
    free(x);
    free(y1);
    free(y2);
}
