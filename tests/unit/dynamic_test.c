/* One artifact for every size (codegen/dynamic.h): an attention block with
 * symbolic batch and seq (tests/data/dynamic/gen_dynamic.py) compiled once
 * matches per-size static compiles at several sizes, reports its output
 * shapes, names the dim when inputs disagree, and a size that is no
 * polynomial (floor(n/2)) is refused naming the node. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codegen/compile.h"
#include "dlc/dlc.h"
#include "dlc/dlc_artifact.h"
#include "model_builders.h"
#include "runtime/model_internal.h"

#define ATTENTION DLC_SOURCE_DIR "/tests/data/dynamic/attention.onnx"
#define FLOOR_DIV DLC_SOURCE_DIR "/tests/data/dynamic/floor_div.onnx"
#define EQUAL_AT_TWO DLC_SOURCE_DIR "/tests/data/dynamic/equal_at_two.onnx"

static void compile(const char *onnx, const char *so, int64_t batch, int64_t seq) {
    dlc_compile_options opts;
    dlc_compile_options_init(&opts);
    dlc_input_shape shapes[2] = {{"x", 3, {batch, seq, 8}}, {"mask", 2, {batch, seq}}};
    if (batch > 0) {
        opts.input_shapes = shapes;
        opts.num_input_shapes = 2;
    }
    cr_assert_eq(dlc_compile_file(onnx, &opts, so), DLC_OK, "%s", dlc_last_error());
}

/* y for x/mask of batch x seq (deterministic data, a masked tail). */
static float *run(dlc_model *model, int64_t batch, int64_t seq, dlc_tensor *out) {
    size_t nx = (size_t)(batch * seq * 8), nm = (size_t)(batch * seq);
    float *x = malloc(nx * sizeof *x), *mask = malloc(nm * sizeof *mask), *y = malloc(nx * sizeof *y);
    for (size_t i = 0; i < nx; i++) x[i] = (float)((i * 37) % 17) / 8.0f - 1.0f;
    for (size_t i = 0; i < nm; i++) mask[i] = (int64_t)(i % (size_t)seq) == seq - 1 && seq > 1 ? -10000.0f : 0.0f;
    dlc_tensor in[2] = {{DLC_FLOAT32, 3, {batch, seq, 8}, x, nx * sizeof *x},
                        {DLC_FLOAT32, 2, {batch, seq}, mask, nm * sizeof *mask}};
    *out = (dlc_tensor){.data = y, .size_bytes = nx * sizeof *y}; /* type filled in by the run */
    dlc_session *session;
    cr_assert_eq(dlc_session_create(model, NULL, &session), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(dlc_session_run(session, in, 2, out, 1), DLC_OK, "%s", dlc_last_error());
    dlc_session_free(session);
    free(x);
    free(mask);
    return y;
}

Test(dynamic, one_artifact_matches_static_compiles_at_every_size) {
    char dir[64], dyn[256], fixed[256];
    tb_mkdtemp(dir, sizeof dir);
    snprintf(dyn, sizeof dyn, "%s/dyn.so", dir);
    snprintf(fixed, sizeof fixed, "%s/fixed.so", dir);
    compile(ATTENTION, dyn, 0, 0);
    dlc_model *model;
    cr_assert_eq(dlc_model_load(dyn, &model), DLC_OK, "%s", dlc_last_error());
    cr_assert_gt(model->desc->num_symbols, 0);
    dlc_tensor_info info;
    cr_assert_eq(dlc_model_input(model, 1, &info), DLC_OK);
    cr_assert_eq(info.dims[1], -1);
    cr_assert_str_eq(info.dim_names[1], "seq");
    const int64_t sizes[][2] = {{1, 1}, {1, 5}, {2, 7}, {3, 19}, {4, 2}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        int64_t b = sizes[i][0], t = sizes[i][1];
        dlc_tensor got, want;
        float *y = run(model, b, t, &got);
        cr_assert_eq(got.rank, 3);
        cr_assert(got.dims[0] == b && got.dims[1] == t && got.dims[2] == 8, "output dims [%lld,%lld,%lld]",
                  (long long)got.dims[0], (long long)got.dims[1], (long long)got.dims[2]);
        compile(ATTENTION, fixed, b, t);
        dlc_model *static_model;
        cr_assert_eq(dlc_model_load(fixed, &static_model), DLC_OK, "%s", dlc_last_error());
        cr_assert_eq(static_model->desc->num_symbols, 0, "a bound model stays fully static");
        float *ref = run(static_model, b, t, &want);
        for (int64_t e = 0; e < b * t * 8; e++) {
            float d = y[e] - ref[e];
            cr_assert(d <= 1e-6f && d >= -1e-6f, "size %lldx%lld element %lld: %g vs %g", (long long)b, (long long)t,
                      (long long)e, y[e], ref[e]);
        }
        free(y);
        free(ref);
        dlc_model_free(static_model);
    }
    dlc_model_free(model);
    tb_rmdir(dir);
}

Test(dynamic, output_shapes_before_the_run_and_a_disagreeing_dim_named) {
    char dir[64], dyn[256];
    tb_mkdtemp(dir, sizeof dir);
    snprintf(dyn, sizeof dyn, "%s/dyn.so", dir);
    compile(ATTENTION, dyn, 0, 0);
    dlc_model *model;
    cr_assert_eq(dlc_model_load(dyn, &model), DLC_OK, "%s", dlc_last_error());
    dlc_tensor in[2] = {{DLC_FLOAT32, 3, {2, 7, 8}, NULL, 0}, {DLC_FLOAT32, 2, {2, 7}, NULL, 0}};
    dlc_tensor out;
    float x[2 * 7 * 8] = {0}, m[2 * 19] = {0};
    in[0].data = x;
    in[0].size_bytes = sizeof x;
    in[1].data = m;
    in[1].size_bytes = sizeof m;
    cr_assert_eq(dlc_model_infer_outputs(model, in, 2, &out, 1), DLC_OK, "%s", dlc_last_error());
    cr_assert(out.rank == 3 && out.dims[0] == 2 && out.dims[1] == 7 && out.dims[2] == 8);
    in[1].dims[1] = 19;
    cr_assert_eq(dlc_model_infer_outputs(model, in, 2, &out, 1), DLC_ERR_SHAPE_MISMATCH);
    const char *msg = dlc_last_error();
    cr_assert(strstr(msg, "input 'mask' dim 1 'seq' is 19 but input 'x' gives 'seq' = 7") != NULL, "%s", msg);
    dlc_session *session;
    cr_assert_eq(dlc_session_create(model, NULL, &session), DLC_OK);
    cr_assert_eq(dlc_session_run(session, in, 2, &out, 1), DLC_ERR_SHAPE_MISMATCH);
    cr_assert(strstr(dlc_last_error(), "'seq' is 19") != NULL, "%s", dlc_last_error());
    dlc_session_free(session);
    dlc_model_free(model);
    tb_rmdir(dir);
}

/* The per-node FLOPs dlc_model_node_flops_at gives at batch x seq (malloc'ed). */
static double *flops_at(dlc_model *model, int64_t batch, int64_t seq) {
    dlc_tensor in[2] = {{DLC_FLOAT32, 3, {batch, seq, 8}, NULL, 0}, {DLC_FLOAT32, 2, {batch, seq}, NULL, 0}};
    double *flops = calloc((size_t)dlc_model_num_nodes(model) + 1, sizeof *flops);
    cr_assert_eq(dlc_model_node_flops_at(model, in, 2, flops), DLC_OK, "%s", dlc_last_error());
    return flops;
}

/* Profiles of an every-size artifact count each kernel's FLOPs at the run's
 * sizes: the polynomials the compile fitted (attention's seq^2 terms, times
 * batch: degree 3) give what a static compile at those sizes counts for the
 * same kernel. (The every-size artifact also runs the kernels that a static
 * compile folds away, like the causal mask's Trilu.) */
Test(dynamic, kernel_flops_at_a_runs_sizes_match_a_static_compile) {
    char dir[64], dyn[256], fixed[256];
    tb_mkdtemp(dir, sizeof dir);
    snprintf(dyn, sizeof dyn, "%s/dyn.so", dir);
    snprintf(fixed, sizeof fixed, "%s/fixed.so", dir);
    compile(ATTENTION, dyn, 0, 0);
    dlc_model *model;
    cr_assert_eq(dlc_model_load(dyn, &model), DLC_OK, "%s", dlc_last_error());
    cr_assert(model->desc->node_flops_at != NULL, "every node's FLOPs are polynomials in batch and seq");
    cr_assert_eq(dlc_model_node_flops(model, 0), 0.0, "no size-independent count for an every-size model");
    const int64_t sizes[][2] = {{2, 7}, {3, 19}, {1, 64}, {5, 3}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        int64_t b = sizes[i][0], t = sizes[i][1];
        compile(ATTENTION, fixed, b, t);
        dlc_model *static_model;
        cr_assert_eq(dlc_model_load(fixed, &static_model), DLC_OK, "%s", dlc_last_error());
        double *got = flops_at(model, b, t), *want = flops_at(static_model, b, t);
        int matched = 0;
        for (int s = 0; s < dlc_model_num_nodes(static_model); s++) {
            cr_assert_eq(want[s], dlc_model_node_flops(static_model, s), "a static model gives its own counts");
            for (int d = 0; d < dlc_model_num_nodes(model); d++) {
                if (strcmp(dlc_model_node_name(model, d), dlc_model_node_name(static_model, s)) != 0) continue;
                cr_assert_eq(got[d], want[s], "size %lldx%lld, %s: %.0f FLOPs, static compile %.0f", (long long)b,
                             (long long)t, dlc_model_node_name(model, d), got[d], want[s]);
                matched += want[s] > 0;
            }
        }
        cr_assert_geq(matched, 4, "size %lldx%lld: the MatMuls, Softmax and Adds compared", (long long)b, (long long)t);
        free(got);
        free(want);
        dlc_model_free(static_model);
    }
    /* an artifact without the polynomials says so instead of guessing */
    dlc_artifact_desc copy = *model->desc;
    const dlc_artifact_desc *saved = model->desc;
    copy.node_flops_at = NULL;
    model->desc = &copy;
    double flops[64];
    dlc_tensor in[2] = {{DLC_FLOAT32, 3, {2, 7, 8}, NULL, 0}, {DLC_FLOAT32, 2, {2, 7}, NULL, 0}};
    cr_assert_eq(dlc_model_node_flops_at(model, in, 2, flops), DLC_ERR_UNSUPPORTED);
    cr_assert(strstr(dlc_last_error(), "--shape") != NULL, "%s", dlc_last_error());
    model->desc = saved;
    /* sizes that disagree are named, as a run names them */
    in[1].dims[1] = 19;
    cr_assert_eq(dlc_model_node_flops_at(model, in, 2, flops), DLC_ERR_SHAPE_MISMATCH);
    cr_assert(strstr(dlc_last_error(), "'seq' is 19") != NULL, "%s", dlc_last_error());
    dlc_model_free(model);
    tb_rmdir(dir);
}

Test(dynamic, a_size_that_is_no_polynomial_is_refused_naming_the_node) {
    char dir[64], so[256];
    tb_mkdtemp(dir, sizeof dir);
    snprintf(so, sizeof so, "%s/fd.so", dir);
    cr_assert_eq(dlc_compile_file(FLOOR_DIV, NULL, so), DLC_ERR_UNSUPPORTED);
    const char *msg = dlc_last_error();
    cr_assert(strstr(msg, "'first_half' (Slice") != NULL, "%s", msg);
    cr_assert(strstr(msg, "not a polynomial") != NULL, "%s", msg);
    cr_assert(strstr(msg, "'n'") != NULL && strstr(msg, "--shape") != NULL, "%s", msg);
    /* bound, it compiles */
    dlc_compile_options opts;
    dlc_compile_options_init(&opts);
    dlc_input_shape shape = {"x", 1, {9}};
    opts.input_shapes = &shape;
    opts.num_input_shapes = 1;
    cr_assert_eq(dlc_compile_file(FLOOR_DIV, &opts, so), DLC_OK, "%s", dlc_last_error());
    tb_rmdir(dir);
}

Test(dynamic, constants_equal_at_one_size_stay_apart) {
    /* Slice ends Shape(x)[0] and 2 fold to equal constants at n = 2 only:
     * CSE must not merge them in the samples, or n = 2 and n = 3 differ */
    char dir[64], so[256];
    tb_mkdtemp(dir, sizeof dir);
    snprintf(so, sizeof so, "%s/eq.so", dir);
    cr_assert_eq(dlc_compile_file(EQUAL_AT_TWO, NULL, so), DLC_OK, "%s", dlc_last_error());
    dlc_model *model;
    cr_assert_eq(dlc_model_load(so, &model), DLC_OK, "%s", dlc_last_error());
    dlc_session *session;
    cr_assert_eq(dlc_session_create(model, NULL, &session), DLC_OK, "%s", dlc_last_error());
    const int64_t sizes[] = {1, 2, 3, 5};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        int64_t n = sizes[k];
        float x[5 * 4], y[5 * 6];
        for (int64_t i = 0; i < n * 4; i++) x[i] = (float)(i * 3 % 7) - 2.5f;
        dlc_tensor in = {DLC_FLOAT32, 2, {n, 4}, x, (size_t)(n * 4) * sizeof(float)};
        dlc_tensor out = {.data = y, .size_bytes = sizeof y};
        cr_assert_eq(dlc_session_run(session, &in, 1, &out, 1), DLC_OK, "n=%lld: %s", (long long)n, dlc_last_error());
        cr_assert_eq(out.dims[0], n);
        cr_assert_eq(out.dims[1], 6);
        for (int64_t r = 0; r < n; r++)
            for (int64_t c = 0; c < 6; c++)
                cr_assert_eq(y[r * 6 + c], x[r * 4 + (c < 4 ? c : c - 4)], "n=%lld y[%lld,%lld]", (long long)n,
                             (long long)r, (long long)c);
    }
    dlc_session_free(session);
    dlc_model_free(model);
    tb_rmdir(dir);
}

/* s = Relu(row) + Relu(x), row [1,16], x [batch,16]: the samples' plans
 * (batch >= 2) write s over Relu(x), which dies at the Add; at batch 1 the
 * row is full-size too, and the general program still runs there (the
 * size-1 check). The one artifact must give the reference at every size,
 * 1 included (the slot of an in-place group is shared only when every
 * member has the root's size polynomial: codegen/dynamic.c
 * mark_shared_roots). */
static dlc_graph *broadcast_at_one_graph(void) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("bcast_one", &g), DLC_OK);
    int32_t sym;
    cr_assert_eq(dlc_graph_symbol(g, "batch", &sym), DLC_OK);
    dlc_value *x = tb_value(g, "x", DLC_VALUE_INPUT, 2, (int64_t[]){1, 16});
    x->shape.dims[0] = (dlc_dim){-1, sym};
    dlc_value *row = tb_value(g, "row", DLC_VALUE_INPUT, 2, (int64_t[]){1, 16});
    dlc_value *rv = tb_value(g, "rv", DLC_VALUE_INTERMEDIATE, -1, NULL);
    dlc_value *xv = tb_value(g, "xv", DLC_VALUE_INTERMEDIATE, -1, NULL);
    dlc_value *s = tb_value(g, "s", DLC_VALUE_INTERMEDIATE, -1, NULL);
    dlc_value *y = tb_value(g, "y", DLC_VALUE_INTERMEDIATE, -1, NULL);
    tb_node(g, "relu_row", "Relu", 1, &row, rv);
    tb_node(g, "relu_x", "Relu", 1, &x, xv);
    tb_node(g, "add", "Add", 2, (dlc_value *[]){rv, xv}, s);
    tb_node(g, "neg", "Neg", 1, &s, y);
    tb_set_io(g, 2, (dlc_value *[]){x, row}, 1, &y);
    return g;
}

Test(dynamic, in_place_over_an_operand_full_size_at_one_size_only) {
    char dir[64], so[256];
    tb_mkdtemp(dir, sizeof dir);
    snprintf(so, sizeof so, "%s/bcast.so", dir);
    dlc_graph *g = broadcast_at_one_graph();
    dlc_compile_options opts;
    dlc_compile_options_init(&opts);
    opts.opt_level = 0; /* keep the nodes apart (-O1 fuses them into one chain) */
    cr_assert_eq(dlc_compile_graph(g, &opts, so), DLC_OK, "%s", dlc_last_error());
    dlc_graph_free(g);
    dlc_model *model;
    cr_assert_eq(dlc_model_load(so, &model), DLC_OK, "%s", dlc_last_error());
    cr_assert_gt(model->desc->num_symbols, 0);
    dlc_session *session;
    cr_assert_eq(dlc_session_create(model, NULL, &session), DLC_OK, "%s", dlc_last_error());
    const int64_t sizes[] = {1, 3, 1, 4, 2};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        int64_t n = sizes[k];
        float x[4 * 16], row[16], y[4 * 16];
        for (int64_t i = 0; i < n * 16; i++) x[i] = (float)((i * 5 + k) % 11) - 5.0f;
        for (int j = 0; j < 16; j++) row[j] = (float)(j % 7) - 3.0f;
        dlc_tensor in[2] = {{DLC_FLOAT32, 2, {n, 16}, x, (size_t)(n * 16) * sizeof(float)},
                            {DLC_FLOAT32, 2, {1, 16}, row, sizeof row}};
        dlc_tensor out = {.data = y, .size_bytes = sizeof y};
        cr_assert_eq(dlc_session_run(session, in, 2, &out, 1), DLC_OK, "n=%lld: %s", (long long)n, dlc_last_error());
        cr_assert_eq(out.dims[0], n);
        for (int64_t i = 0; i < n * 16; i++) {
            float want = -((row[i % 16] > 0 ? row[i % 16] : 0) + (x[i] > 0 ? x[i] : 0));
            cr_assert_eq(y[i], want, "n=%lld y[%lld]: %g, expected %g", (long long)n, (long long)i, y[i], want);
        }
    }
    dlc_session_free(session);
    dlc_model_free(model);
    tb_rmdir(dir);
}
