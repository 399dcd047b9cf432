/* Ops of data-dependent output extent (NonZero, Compress, Unique,
 * NonMaxSuppression): kernels against the ONNX reference semantics (numpy's
 * nonzero/compress/unique, the reference NMS), their bounds, constant
 * folding to the actual shape, the refusal of consumers that need static
 * shapes, and compiled models reporting the actual shape through dlc.h. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "codegen/compile.h"
#include "dlc/dlc.h"
#include "model_builders.h"
#include "op_harness.h"
#include "passes/pipeline.h"

/* Runs the node's kernel on one thread; fills dims (num_outputs *
 * DLC_KMAX_RANK) with what the kernel reports. Returns the kernel's code. */
static int32_t dd_run(oph_case *c, void **inputs, void **outputs, int64_t *dims) {
    return oph_run_code(c, inputs, outputs, 1, dims);
}

static void infer_ok(oph_case *c) { cr_assert_eq(oph_infer(c), DLC_OK, "infer: %s", dlc_last_error()); }

static void expect_shape(const dlc_value *v, int32_t rank, const int64_t *dims, uint32_t bounded) {
    cr_assert_eq(v->shape.rank, rank, "'%s' rank %d, want %d", v->name, v->shape.rank, rank);
    for (int32_t d = 0; d < rank; d++)
        cr_assert_eq(v->shape.dims[d].value, dims[d], "'%s' dim %d: %lld, want %lld", v->name, d,
                     (long long)v->shape.dims[d].value, (long long)dims[d]);
    cr_assert_eq(v->bounded_dims, bounded, "'%s' bounded_dims %u, want %u", v->name, v->bounded_dims, bounded);
}

static void expect_dims(const int64_t *got, int32_t rank, const int64_t *want) {
    for (int32_t d = 0; d < rank; d++)
        cr_assert_eq(got[d], want[d], "dim %d: %lld, want %lld", d, (long long)got[d], (long long)want[d]);
}

static void expect_i64(const int64_t *got, const int64_t *want, int64_t n, const char *what) {
    for (int64_t i = 0; i < n; i++)
        cr_assert_eq(got[i], want[i], "%s[%lld]: %lld, want %lld", what, (long long)i, (long long)got[i],
                     (long long)want[i]);
}

/* ---- NonZero ---------------------------------------------------------------------------------- */

Test(data_dependent, nonzero_bound_and_coordinates) {
    oph_case c;
    oph_begin(&c, "NonZero", 13, 1, (dlc_dtype[]){DLC_FLOAT32}, (dlc_shape[]){oph_shape(2, (int64_t[]){2, 3})}, 1,
              NULL);
    infer_ok(&c);
    expect_shape(c.out[0], 2, (int64_t[]){2, 6}, 1u << 1);
    /* -0.0 is zero, NaN is not (numpy) */
    float x[6] = {1, 0, -0.0f, NAN, 0, 2};
    int64_t y[12], dims[DLC_KMAX_RANK];
    cr_assert_eq(dd_run(&c, (void *[]){x}, (void *[]){y}, dims), 0);
    expect_dims(dims, 2, (int64_t[]){2, 3});
    expect_i64(y, (int64_t[]){0, 1, 1, 0, 0, 2}, 6, "coords"); /* dense [2,3], not spread over the bound */
    oph_end(&c);
}

Test(data_dependent, nonzero_all_zero_empty_and_scalar) {
    oph_case c;
    oph_begin(&c, "NonZero", 13, 1, (dlc_dtype[]){DLC_INT32}, (dlc_shape[]){oph_shape(1, (int64_t[]){3})}, 1, NULL);
    infer_ok(&c);
    int32_t zeros[3] = {0, 0, 0};
    int64_t y[3], dims[DLC_KMAX_RANK];
    cr_assert_eq(dd_run(&c, (void *[]){zeros}, (void *[]){y}, dims), 0);
    expect_dims(dims, 2, (int64_t[]){1, 0});
    oph_end(&c);

    oph_begin(&c, "NonZero", 13, 1, (dlc_dtype[]){DLC_FLOAT32}, (dlc_shape[]){oph_shape(2, (int64_t[]){0, 4})}, 1,
              NULL);
    infer_ok(&c);
    expect_shape(c.out[0], 2, (int64_t[]){2, 0}, 1u << 1);
    float none[1];
    cr_assert_eq(dd_run(&c, (void *[]){none}, (void *[]){y}, dims), 0);
    expect_dims(dims, 2, (int64_t[]){2, 0});
    oph_end(&c);

    oph_begin(&c, "NonZero", 13, 1, (dlc_dtype[]){DLC_BOOL}, (dlc_shape[]){oph_shape(0, NULL)}, 1, NULL);
    infer_ok(&c);
    expect_shape(c.out[0], 2, (int64_t[]){1, 1}, 1u << 1);
    uint8_t truth = 1;
    y[0] = 7;
    cr_assert_eq(dd_run(&c, (void *[]){&truth}, (void *[]){y}, dims), 0);
    expect_dims(dims, 2, (int64_t[]){1, 1});
    cr_assert_eq(y[0], 0);
    oph_end(&c);
}

/* ---- Compress --------------------------------------------------------------------------------- */

Test(data_dependent, compress_axes_and_flattened) {
    oph_case c;
    float x[6] = {1, 2, 3, 4, 5, 6}, y[6];
    int64_t dims[DLC_KMAX_RANK];
    dlc_dtype types[2] = {DLC_FLOAT32, DLC_BOOL};

    oph_begin(&c, "Compress", 11, 2, types, (dlc_shape[]){oph_shape(2, (int64_t[]){2, 3}), oph_shape(1, (int64_t[]){3})},
              1, NULL);
    oph_attr_int(&c, "axis", -1); /* negative: the last axis */
    infer_ok(&c);
    expect_shape(c.out[0], 2, (int64_t[]){2, 3}, 1u << 1);
    uint8_t cond[3] = {0, 1, 1};
    cr_assert_eq(dd_run(&c, (void *[]){x, cond}, (void *[]){y}, dims), 0);
    expect_dims(dims, 2, (int64_t[]){2, 2});
    static const float kept[4] = {2, 3, 5, 6};
    for (int i = 0; i < 4; i++) cr_assert_eq(y[i], kept[i]);
    uint8_t none[3] = {0, 0, 0};
    cr_assert_eq(dd_run(&c, (void *[]){x, none}, (void *[]){y}, dims), 0);
    expect_dims(dims, 2, (int64_t[]){2, 0});
    oph_end(&c);

    /* no axis: the flattened input; a shorter condition drops the rest */
    oph_begin(&c, "Compress", 11, 2, types, (dlc_shape[]){oph_shape(2, (int64_t[]){2, 3}), oph_shape(1, (int64_t[]){4})},
              1, NULL);
    infer_ok(&c);
    expect_shape(c.out[0], 1, (int64_t[]){4}, 1u);
    uint8_t four[4] = {1, 0, 0, 1};
    cr_assert_eq(dd_run(&c, (void *[]){x, four}, (void *[]){y}, dims), 0);
    expect_dims(dims, 1, (int64_t[]){2});
    cr_assert(y[0] == 1 && y[1] == 4);
    oph_end(&c);

    /* a condition longer than the axis: a true entry past it is out of range (numpy) */
    oph_begin(&c, "Compress", 11, 2, types, (dlc_shape[]){oph_shape(2, (int64_t[]){3, 2}), oph_shape(1, (int64_t[]){4})},
              1, NULL);
    oph_attr_int(&c, "axis", 0);
    infer_ok(&c);
    expect_shape(c.out[0], 2, (int64_t[]){3, 2}, 1u);
    uint8_t past_false[4] = {0, 0, 1, 0}, past_true[4] = {1, 0, 0, 1};
    cr_assert_eq(dd_run(&c, (void *[]){x, past_false}, (void *[]){y}, dims), 0);
    expect_dims(dims, 2, (int64_t[]){1, 2});
    cr_assert(y[0] == 5 && y[1] == 6);
    cr_assert_eq(dd_run(&c, (void *[]){x, past_true}, (void *[]){y}, dims), DLC_KERR_INDEX_OUT_OF_RANGE);
    oph_end(&c);
}

/* ---- Unique ----------------------------------------------------------------------------------- */

typedef struct unique_out {
    float y[16];
    int64_t indices[16], inverse[16], counts[16];
    int64_t dims[4 * DLC_KMAX_RANK];
} unique_out;

static void run_unique(oph_case *c, float *x, unique_out *u) {
    cr_assert_eq(dd_run(c, (void *[]){x}, (void *[]){u->y, u->indices, u->inverse, u->counts}, u->dims), 0);
}

static void expect_floats(const float *got, const float *want, int n) {
    for (int i = 0; i < n; i++)
        cr_assert(got[i] == want[i] || (isnan(got[i]) && isnan(want[i])), "[%d]: %g, want %g", i, (double)got[i],
                  (double)want[i]);
}

static void begin_unique(oph_case *c, int32_t rank, const int64_t *dims) {
    oph_begin(c, "Unique", 11, 1, (dlc_dtype[]){DLC_FLOAT32}, (dlc_shape[]){oph_shape(rank, dims)}, 4, NULL);
}

/* numpy: np.unique(x, True, True, True), reordered by first occurrence when unsorted */
Test(data_dependent, unique_sorted_and_unsorted) {
    float x[6] = {2, 1, 1, 3, 4, 3};
    unique_out u;
    oph_case c;
    begin_unique(&c, 1, (int64_t[]){6});
    infer_ok(&c);
    expect_shape(c.out[0], 1, (int64_t[]){6}, 1u);
    expect_shape(c.out[1], 1, (int64_t[]){6}, 1u);
    expect_shape(c.out[2], 1, (int64_t[]){6}, 0u); /* one per input element: static */
    expect_shape(c.out[3], 1, (int64_t[]){6}, 1u);
    run_unique(&c, x, &u);
    expect_dims(u.dims, 1, (int64_t[]){4});
    expect_dims(u.dims + DLC_KMAX_RANK, 1, (int64_t[]){4});
    expect_dims(u.dims + 2 * DLC_KMAX_RANK, 1, (int64_t[]){6});
    expect_dims(u.dims + 3 * DLC_KMAX_RANK, 1, (int64_t[]){4});
    expect_floats(u.y, (float[]){1, 2, 3, 4}, 4);
    expect_i64(u.indices, (int64_t[]){1, 0, 3, 4}, 4, "indices");
    expect_i64(u.inverse, (int64_t[]){1, 0, 0, 2, 3, 2}, 6, "inverse");
    expect_i64(u.counts, (int64_t[]){2, 1, 2, 1}, 4, "counts");
    oph_end(&c);

    begin_unique(&c, 1, (int64_t[]){6});
    oph_attr_int(&c, "sorted", 0);
    infer_ok(&c);
    run_unique(&c, x, &u);
    expect_dims(u.dims, 1, (int64_t[]){4});
    expect_floats(u.y, (float[]){2, 1, 3, 4}, 4);
    expect_i64(u.indices, (int64_t[]){0, 1, 3, 4}, 4, "indices");
    expect_i64(u.inverse, (int64_t[]){0, 1, 1, 2, 3, 2}, 6, "inverse");
    expect_i64(u.counts, (int64_t[]){1, 2, 2, 1}, 4, "counts");
    oph_end(&c);
}

Test(data_dependent, unique_along_axes) {
    unique_out u;
    oph_case c;
    /* rows: np.unique(x, axis=0) */
    float rows[9] = {1, 0, 0, 1, 0, 0, 2, 3, 4};
    begin_unique(&c, 2, (int64_t[]){3, 3});
    oph_attr_int(&c, "axis", 0);
    infer_ok(&c);
    expect_shape(c.out[0], 2, (int64_t[]){3, 3}, 1u);
    run_unique(&c, rows, &u);
    expect_dims(u.dims, 2, (int64_t[]){2, 3});
    expect_floats(u.y, (float[]){1, 0, 0, 2, 3, 4}, 6);
    expect_i64(u.indices, (int64_t[]){0, 2}, 2, "indices");
    expect_i64(u.inverse, (int64_t[]){0, 0, 1}, 3, "inverse");
    expect_i64(u.counts, (int64_t[]){2, 1}, 2, "counts");
    oph_end(&c);

    /* columns through a negative axis: (1,1,2), (0,0,3), (0,0,3) sort to (0,0,3), (1,1,2) */
    float cols[9] = {1, 0, 0, 1, 0, 0, 2, 3, 3};
    begin_unique(&c, 2, (int64_t[]){3, 3});
    oph_attr_int(&c, "axis", -1);
    infer_ok(&c);
    expect_shape(c.out[0], 2, (int64_t[]){3, 3}, 1u << 1);
    run_unique(&c, cols, &u);
    expect_dims(u.dims, 2, (int64_t[]){3, 2});
    expect_floats(u.y, (float[]){0, 1, 0, 1, 3, 2}, 6);
    expect_i64(u.indices, (int64_t[]){1, 0}, 2, "indices");
    expect_i64(u.inverse, (int64_t[]){1, 0, 0}, 3, "inverse");
    expect_i64(u.counts, (int64_t[]){2, 1}, 2, "counts");
    oph_end(&c);
}

Test(data_dependent, unique_nan_equal_values_and_empty) {
    unique_out u;
    oph_case c;
    /* numpy 1.24 gathers every NaN into one, sorted last */
    float x[5] = {NAN, 1, NAN, -0.0f, 0};
    begin_unique(&c, 1, (int64_t[]){5});
    infer_ok(&c);
    run_unique(&c, x, &u);
    expect_dims(u.dims, 1, (int64_t[]){3});
    expect_floats(u.y, (float[]){-0.0f, 1, NAN}, 3);
    expect_i64(u.indices, (int64_t[]){3, 1, 0}, 3, "indices");
    expect_i64(u.counts, (int64_t[]){2, 1, 2}, 3, "counts");
    expect_i64(u.inverse, (int64_t[]){2, 1, 2, 0, 0}, 5, "inverse");
    oph_end(&c);

    float same[4] = {7, 7, 7, 7};
    begin_unique(&c, 1, (int64_t[]){4});
    infer_ok(&c);
    run_unique(&c, same, &u);
    expect_dims(u.dims, 1, (int64_t[]){1});
    expect_i64(u.counts, (int64_t[]){4}, 1, "counts");
    expect_i64(u.inverse, (int64_t[]){0, 0, 0, 0}, 4, "inverse");
    oph_end(&c);

    begin_unique(&c, 1, (int64_t[]){0});
    infer_ok(&c);
    expect_shape(c.out[0], 1, (int64_t[]){0}, 1u);
    run_unique(&c, x, &u);
    expect_dims(u.dims, 1, (int64_t[]){0});
    expect_dims(u.dims + 3 * DLC_KMAX_RANK, 1, (int64_t[]){0});
    oph_end(&c);
}

/* ---- NonMaxSuppression ------------------------------------------------------------------------ */

static void begin_nms(oph_case *c, int64_t batches, int64_t classes, int64_t boxes, bool with_score_threshold) {
    oph_begin(c, "NonMaxSuppression", 11, with_score_threshold ? 5 : 4,
              (dlc_dtype[]){DLC_FLOAT32, DLC_FLOAT32, DLC_INT64, DLC_FLOAT32, DLC_FLOAT32},
              (dlc_shape[]){oph_shape(3, (int64_t[]){batches, boxes, 4}),
                            oph_shape(3, (int64_t[]){batches, classes, boxes}), oph_shape(1, (int64_t[]){1}),
                            oph_shape(1, (int64_t[]){1}), oph_shape(1, (int64_t[]){1})},
              1, NULL);
}

/* Equal scores keep the lower box index first; suppression needs IOU
 * strictly above the threshold; the score threshold is strict too. */
Test(data_dependent, nms_ties_thresholds_and_limits) {
    oph_case c;
    begin_nms(&c, 1, 1, 4, true);
    infer_ok(&c);
    expect_shape(c.out[0], 2, (int64_t[]){4, 3}, 1u); /* max_output_boxes_per_class known only at run time */
    /* boxes 0 and 1: intersection 1, union 2, IOU exactly 0.5; box 2 far away; box 3 scores at the threshold */
    float boxes[16] = {0, 0, 1, 1, 0, 0, 1, 2, 5, 5, 6, 6, 9, 9, 10, 10};
    float scores[4] = {0.9f, 0.9f, 0.9f, 0.25f};
    int64_t max_out = 10, sel[12], dims[DLC_KMAX_RANK];
    float iou = 0.5f, score_min = 0.25f;
    void *in[5] = {boxes, scores, &max_out, &iou, &score_min};
    cr_assert_eq(dd_run(&c, in, (void *[]){sel}, dims), 0);
    expect_dims(dims, 2, (int64_t[]){3, 3});
    expect_i64(sel, (int64_t[]){0, 0, 0, 0, 0, 1, 0, 0, 2}, 9, "IOU 0.5 is not above 0.5");
    iou = 0.49f;
    cr_assert_eq(dd_run(&c, in, (void *[]){sel}, dims), 0);
    expect_dims(dims, 2, (int64_t[]){2, 3});
    expect_i64(sel, (int64_t[]){0, 0, 0, 0, 0, 2}, 6, "box 1 suppressed by box 0");
    max_out = 1;
    cr_assert_eq(dd_run(&c, in, (void *[]){sel}, dims), 0);
    expect_dims(dims, 2, (int64_t[]){1, 3});
    max_out = 0;
    cr_assert_eq(dd_run(&c, in, (void *[]){sel}, dims), 0);
    expect_dims(dims, 2, (int64_t[]){0, 3});
    iou = 1.5f;
    max_out = 3;
    cr_assert_eq(dd_run(&c, in, (void *[]){sel}, dims), DLC_KERR_BAD_VALUE);
    oph_end(&c);
}

/* Two batches and two classes, center-point boxes, higher score first. */
Test(data_dependent, nms_batches_classes_center_point_box) {
    oph_case c;
    begin_nms(&c, 2, 2, 3, false);
    oph_attr_int(&c, "center_point_box", 1);
    infer_ok(&c);
    expect_shape(c.out[0], 2, (int64_t[]){12, 3}, 1u);
    /* [x_center, y_center, width, height]: boxes 0 and 1 overlap (IOU 0.8 / 1.2), box 2 apart */
    float boxes[24] = {0.5f, 0.5f, 1, 1, 0.5f, 0.7f, 1, 1, 5, 5, 1, 1,
                       0.5f, 0.5f, 1, 1, 0.5f, 0.7f, 1, 1, 5, 5, 1, 1};
    float scores[12] = {0.7f, 0.8f, 0.1f, 0.2f, 0.1f, 0.3f, /* batch 0: classes 0, 1 */
                        0.5f, 0.5f, 0.5f, 0.0f, 0.0f, 0.0f};
    int64_t max_out = 2, sel[36], dims[DLC_KMAX_RANK];
    float iou = 0.5f;
    cr_assert_eq(dd_run(&c, (void *[]){boxes, scores, &max_out, &iou}, (void *[]){sel}, dims), 0);
    int64_t want[] = {0, 0, 1, 0, 0, 2, /* box 1 first (0.8), box 0 suppressed */
                      0, 1, 2, 0, 1, 0, /* 0.3 then 0.2; box 1 suppressed by box 0 */
                      1, 0, 0, 1, 0, 2, /* ties: index order, box 1 suppressed by box 0 */
                      1, 1, 0, 1, 1, 2};
    expect_dims(dims, 2, (int64_t[]){8, 3});
    expect_i64(sel, want, 24, "selected");
    oph_end(&c);

    /* a constant max_output_boxes_per_class tightens the bound */
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("nms", &g), DLC_OK);
    dlc_value *b, *s, *m, *y;
    dlc_shape bs = oph_shape(3, (int64_t[]){2, 5, 4}), ss = oph_shape(3, (int64_t[]){2, 3, 5}), one = oph_shape(1, (int64_t[]){1});
    cr_assert_eq(dlc_graph_add_value(g, "boxes", DLC_VALUE_INPUT, DLC_FLOAT32, &bs, &b), DLC_OK);
    cr_assert_eq(dlc_graph_add_value(g, "scores", DLC_VALUE_INPUT, DLC_FLOAT32, &ss, &s), DLC_OK);
    int64_t two = 2;
    cr_assert_eq(dlc_graph_add_const(g, "max", DLC_INT64, &one, &two, sizeof two, &m), DLC_OK);
    dlc_shape unknown = {.rank = -1};
    cr_assert_eq(dlc_graph_add_value(g, "sel", DLC_VALUE_INTERMEDIATE, DLC_DTYPE_UNDEFINED, &unknown, &y), DLC_OK);
    dlc_node *n;
    cr_assert_eq(dlc_graph_add_node(g, "nms", "NonMaxSuppression", "", 11, 3, (dlc_value *[]){b, s, m}, 1, &y, &n),
                 DLC_OK);
    tb_set_io(g, 2, (dlc_value *[]){b, s}, 1, &y);
    cr_assert_eq(dlc_infer_and_fold(g), DLC_OK, "%s", dlc_last_error());
    expect_shape(y, 2, (int64_t[]){2 * 3 * 2, 3}, 1u);
    dlc_graph_free(g);
}

/* ---- folding and the flow of bounded dims ------------------------------------------------------ */

/* value -> op -> (optional second op) -> graph output; returns the graph. */
static dlc_graph *chain(dlc_value **x_out, bool const_input, const char *op, const char *then_op, int32_t then_opset) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("chain", &g), DLC_OK);
    dlc_shape xs = oph_shape(2, (int64_t[]){2, 3});
    dlc_value *x;
    if (const_input) {
        float data[6] = {0, 5, 7, 0, 0, 0};
        cr_assert_eq(dlc_graph_add_const(g, "x", DLC_FLOAT32, &xs, data, sizeof data, &x), DLC_OK);
    } else {
        cr_assert_eq(dlc_graph_add_value(g, "x", DLC_VALUE_INPUT, DLC_FLOAT32, &xs, &x), DLC_OK);
    }
    dlc_shape unknown = {.rank = -1};
    dlc_value *mid, *out;
    cr_assert_eq(dlc_graph_add_value(g, "mid", DLC_VALUE_INTERMEDIATE, DLC_DTYPE_UNDEFINED, &unknown, &mid), DLC_OK);
    dlc_node *n;
    cr_assert_eq(dlc_graph_add_node(g, "nz", op, "", 13, 1, &x, 1, &mid, &n), DLC_OK);
    out = mid;
    if (then_op != NULL) {
        cr_assert_eq(dlc_graph_add_value(g, "out", DLC_VALUE_INTERMEDIATE, DLC_DTYPE_UNDEFINED, &unknown, &out),
                     DLC_OK);
        cr_assert_eq(dlc_graph_add_node(g, "next", then_op, "", then_opset, 1, &mid, 1, &out, &n), DLC_OK);
    }
    tb_set_io(g, const_input ? 0 : 1, &x, 1, &out);
    *x_out = x;
    return g;
}

Test(data_dependent, constant_input_folds_to_the_actual_shape) {
    dlc_value *x;
    dlc_graph *g = chain(&x, true, "NonZero", "Transpose", 13);
    /* folding makes NonZero's result an ordinary constant, so Transpose may follow */
    cr_assert_eq(dlc_infer_and_fold(g), DLC_OK, "%s", dlc_last_error());
    const dlc_value *out = g->outputs[0];
    cr_assert_eq(out->kind, DLC_VALUE_CONST);
    expect_shape(out, 2, (int64_t[]){2, 2}, 0u);
    expect_i64(out->data, (int64_t[]){0, 1, 0, 2}, 4, "transposed coords"); /* nonzero at (0,1), (0,2) */
    cr_assert_eq(g->num_nodes, 0);
    dlc_graph_free(g);

    g = chain(&x, true, "Unique", NULL, 0);
    cr_assert_eq(dlc_infer_and_fold(g), DLC_OK, "%s", dlc_last_error());
    expect_shape(g->outputs[0], 1, (int64_t[]){3}, 0u);
    const float *u = g->outputs[0]->data;
    cr_assert(u[0] == 0 && u[1] == 5 && u[2] == 7);
    dlc_graph_free(g);
}

/* A consumer that needs a static shape is refused naming itself, the input,
 * the dim and the producer; Shape in particular must not fold to the bound. */
Test(data_dependent, consumers_needing_static_shapes_are_refused) {
    const char *ops[] = {"Transpose", "Shape", "Relu"};
    for (int i = 0; i < 3; i++) {
        dlc_value *x;
        dlc_graph *g = chain(&x, false, i == 2 ? "Unique" : "NonZero", ops[i], 13);
        dlc_status st = dlc_infer_and_fold(g);
        cr_assert_eq(st, DLC_ERR_UNSUPPORTED, "%s after NonZero: %s", ops[i], dlc_last_error());
        const char *msg = dlc_last_error();
        char node[64];
        snprintf(node, sizeof node, "'next' (%s, opset 13)", ops[i]);
        cr_assert(strstr(msg, node) != NULL, "message '%s' lacks %s", msg, node);
        cr_assert(strstr(msg, i == 2 ? "data-dependent dim 0" : "data-dependent dim 1") != NULL, "%s", msg);
        cr_assert(strstr(msg, "'mid'") != NULL && strstr(msg, "'nz'") != NULL, "%s", msg);
        dlc_graph_free(g);
    }
}

/* ---- compiled: the actual shape comes back through dlc.h ------------------------------------ */

static void compile_chain(const char *dir, const char *name, const char *then_op, int opt_level, char *path,
                          size_t size) {
    dlc_value *x;
    dlc_graph *g = chain(&x, false, "NonZero", then_op, 13);
    snprintf(path, size, "%s/%s", dir, name);
    dlc_compile_options opts;
    dlc_compile_options_init(&opts);
    opts.opt_level = opt_level;
    cr_assert_eq(dlc_compile_graph(g, &opts, path), DLC_OK, "%s", dlc_last_error());
    dlc_graph_free(g);
}

Test(data_dependent, compiled_nonzero_reports_its_shape) {
    char dir[64], path[256];
    tb_mkdtemp(dir, sizeof dir);
    /* -O2 writes the output in place; -O0 keeps an Identity, whose copy carries the extent on */
    for (int variant = 0; variant < 2; variant++) {
        compile_chain(dir, variant ? "nz_identity.so" : "nz.so", variant ? "Identity" : NULL, variant ? 0 : 2, path,
                      sizeof path);
        dlc_model *m;
        dlc_session *s;
        cr_assert_eq(dlc_model_load(path, &m), DLC_OK, "%s", dlc_last_error());
        cr_assert_eq(dlc_session_create(m, NULL, &s), DLC_OK, "%s", dlc_last_error());
        dlc_tensor_info info;
        cr_assert_eq(dlc_model_output(m, 0, &info), DLC_OK);
        cr_assert_eq(info.bounded_dims, 1u << 1);
        cr_assert(info.dims[0] == 2 && info.dims[1] == 6);
        cr_assert_eq(dlc_model_input(m, 0, &info), DLC_OK);
        cr_assert_eq(info.bounded_dims, 0u);

        float x1[6] = {0, 5, 0, 7, 0, 0}, x2[6] = {1, 1, 0, 1, 1, 1};
        int64_t y[12];
        dlc_tensor in = {DLC_FLOAT32, 2, {2, 3}, x1, sizeof x1};
        dlc_tensor out = {DLC_INT64, 2, {2, 6}, y, sizeof y};
        cr_assert_eq(dlc_session_run(s, &in, 1, &out, 1), DLC_OK, "%s", dlc_last_error());
        cr_assert(out.rank == 2 && out.dims[0] == 2 && out.dims[1] == 2, "got [%lld,%lld]", (long long)out.dims[0],
                  (long long)out.dims[1]);
        expect_i64(y, (int64_t[]){0, 1, 1, 0}, 4, "coords");
        int32_t rank;
        int64_t dims[DLC_MAX_RANK];
        cr_assert_eq(dlc_session_output_shape(s, 0, &rank, dims), DLC_OK);
        cr_assert(rank == 2 && dims[0] == 2 && dims[1] == 2);

        /* the same session, other data, another extent; the caller's dims are the bound again */
        in.data = x2;
        out.dims[1] = 6;
        cr_assert_eq(dlc_session_run(s, &in, 1, &out, 1), DLC_OK, "%s", dlc_last_error());
        cr_assert_eq(out.dims[1], 5);
        expect_i64(y, (int64_t[]){0, 0, 1, 1, 1, 0, 1, 0, 1, 2}, 10, "coords");
        cr_assert_eq(dlc_session_output_shape(s, 0, &rank, dims), DLC_OK);
        cr_assert_eq(dims[1], 5);

        /* a buffer sized for the actual extent only is refused before running: the bound is what counts */
        dlc_tensor small = {DLC_INT64, 2, {2, 6}, y, 10 * sizeof(int64_t)};
        cr_assert_eq(dlc_session_run(s, &in, 1, &small, 1), DLC_ERR_INVALID_ARGUMENT);
        dlc_session_free(s);
        dlc_model_free(m);
    }
    tb_rmdir(dir);
}
