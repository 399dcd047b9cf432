/* Random ops (ir/ops/random.c, kernels/random.c) and Dropout in training
 * mode. Their values cannot be checked element by element against a
 * formula, so the tests check what a user relies on: the seed reproduces
 * numpy.random.RandomState(seed)'s stream, the same seed gives the same
 * output, and over 100k samples the mean, variance and rates are where the
 * distribution puts them. Plus the shape/dtype rules and that constant
 * folding leaves random ops as nodes. */
#include "op_harness.h"
#include "passes/pipeline.h"

#define SAMPLES 100000

/* Runs a generator op (no inputs) with the given attributes set by the caller
 * after oph_begin; output must be float64 of SAMPLES elements. */
static double *run_generator(oph_case *c) {
    cr_assert_eq(oph_infer(c), DLC_OK, "%s", dlc_last_error());
    int64_t n = oph_numel(&c->out[0]->shape);
    double *out = malloc((size_t)n * sizeof *out);
    oph_run(c, NULL, (void *[]){out}, 1);
    return out;
}

static void mean_and_variance(const double *x, int64_t n, double *out_mean, double *out_var) {
    double sum = 0.0, sq = 0.0;
    for (int64_t i = 0; i < n; i++) sum += x[i];
    double mean = sum / (double)n;
    for (int64_t i = 0; i < n; i++) sq += (x[i] - mean) * (x[i] - mean);
    *out_mean = mean;
    *out_var = sq / (double)(n - 1);
}

static void begin_generator(oph_case *c, const char *op, int64_t n, int64_t dtype) {
    oph_begin(c, op, 17, 0, NULL, NULL, 1, NULL);
    oph_attr_ints(c, "shape", 1, (int64_t[]){n});
    oph_attr_int(c, "dtype", dtype);
}

/* numpy: np.random.seed(0); np.random.uniform(0, 1, 4) / np.random.normal(size=4) */
Test(random, seed_zero_reproduces_numpy_stream) {
    oph_case c;
    begin_generator(&c, "RandomUniform", 4, DLC_FLOAT64);
    oph_attr_float(&c, "seed", 0.0);
    double *u = run_generator(&c);
    const double want_u[] = {0.5488135039273248, 0.7151893663724195, 0.6027633760716439, 0.5448831829968969};
    for (int i = 0; i < 4; i++) cr_assert_float_eq(u[i], want_u[i], 1e-15, "uniform[%d] = %.17g", i, u[i]);
    free(u);
    oph_end(&c);

    begin_generator(&c, "RandomNormal", 4, DLC_FLOAT64);
    double *z = run_generator(&c); /* no seed attribute: seed 0 */
    const double want_z[] = {1.764052345967664, 0.4001572083672233, 0.9787379841057392, 2.240893199201458};
    for (int i = 0; i < 4; i++) cr_assert_float_eq(z[i], want_z[i], 1e-12, "normal[%d] = %.17g", i, z[i]);
    free(z);
    oph_end(&c);
}

Test(random, uniform_statistics_and_range) {
    oph_case c;
    begin_generator(&c, "RandomUniform", SAMPLES, DLC_FLOAT64);
    oph_attr_float(&c, "low", -2.0);
    oph_attr_float(&c, "high", 3.0);
    oph_attr_float(&c, "seed", 42.0);
    double *u = run_generator(&c);
    double mean, var;
    mean_and_variance(u, SAMPLES, &mean, &var);
    /* U(-2, 3): mean 0.5, variance 25/12; the mean's standard error is 0.0046 */
    cr_assert(fabs(mean - 0.5) < 0.03, "mean %g", mean);
    cr_assert(fabs(var - 25.0 / 12.0) < 0.05, "variance %g", var);
    for (int64_t i = 0; i < SAMPLES; i++) cr_assert(u[i] >= -2.0 && u[i] < 3.0, "u[%lld] = %g", (long long)i, u[i]);
    free(u);
    oph_end(&c);
}

Test(random, normal_statistics) {
    oph_case c;
    begin_generator(&c, "RandomNormal", SAMPLES, DLC_FLOAT64);
    oph_attr_float(&c, "mean", 1.0);
    oph_attr_float(&c, "scale", 2.0);
    oph_attr_float(&c, "seed", 7.0);
    double *z = run_generator(&c);
    double mean, var;
    mean_and_variance(z, SAMPLES, &mean, &var);
    cr_assert(fabs(mean - 1.0) < 0.03, "mean %g", mean);
    cr_assert(fabs(var - 4.0) < 0.1, "variance %g", var);
    int64_t within_one_sigma = 0;
    for (int64_t i = 0; i < SAMPLES; i++) within_one_sigma += fabs(z[i] - 1.0) < 2.0;
    double frac = (double)within_one_sigma / SAMPLES;
    cr_assert(fabs(frac - 0.6827) < 0.01, "fraction within one sigma %g", frac);
    free(z);
    oph_end(&c);
}

/* Same seed, same values; another seed, other values. */
Test(random, same_seed_same_output) {
    double *runs[3];
    const double seeds[3] = {5.0, 5.0, 6.0};
    for (int r = 0; r < 3; r++) {
        oph_case c;
        begin_generator(&c, "RandomNormal", 1000, DLC_FLOAT64);
        oph_attr_float(&c, "seed", seeds[r]);
        runs[r] = run_generator(&c);
        oph_end(&c);
    }
    cr_assert(memcmp(runs[0], runs[1], 1000 * sizeof(double)) == 0, "seed 5 twice differs");
    cr_assert(memcmp(runs[0], runs[2], 1000 * sizeof(double)) != 0, "seeds 5 and 6 agree");
    for (int r = 0; r < 3; r++) free(runs[r]);
}

Test(random, generator_dtype_and_shape) {
    oph_case c;
    oph_begin(&c, "RandomUniform", 17, 0, NULL, NULL, 1, NULL);
    oph_attr_ints(&c, "shape", 3, (int64_t[]){2, 3, 4});
    oph_attr_int(&c, "dtype", DLC_FLOAT16);
    cr_assert_eq(oph_infer(&c), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(c.out[0]->dtype, DLC_FLOAT16);
    cr_assert_eq(c.out[0]->shape.rank, 3);
    cr_assert_eq(c.out[0]->shape.dims[2].value, 4);
    uint16_t half[24];
    oph_run(&c, NULL, (void *[]){half}, 1);
    for (int i = 0; i < 24; i++) {
        float v = dlc_f16_to_f32(half[i]);
        cr_assert(v >= 0.0f && v <= 1.0f, "half[%d] = %g", i, (double)v);
    }
    oph_end(&c);

    /* float32 is the default dtype */
    oph_begin(&c, "RandomNormal", 17, 0, NULL, NULL, 1, NULL);
    oph_attr_ints(&c, "shape", 1, (int64_t[]){3});
    cr_assert_eq(oph_infer(&c), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(c.out[0]->dtype, DLC_FLOAT32);
    oph_end(&c);

    /* integer dtype and a missing shape are refused, naming the node */
    oph_begin(&c, "RandomUniform", 17, 0, NULL, NULL, 1, NULL);
    oph_attr_ints(&c, "shape", 1, (int64_t[]){3});
    oph_attr_int(&c, "dtype", DLC_INT32);
    cr_assert_neq(oph_infer(&c), DLC_OK);
    cr_assert(strstr(dlc_last_error(), "node_under_test") != NULL, "%s", dlc_last_error());
    oph_end(&c);
    oph_begin(&c, "RandomNormal", 17, 0, NULL, NULL, 1, NULL);
    cr_assert_neq(oph_infer(&c), DLC_OK);
    cr_assert(strstr(dlc_last_error(), "shape") != NULL, "%s", dlc_last_error());
    oph_end(&c);
}

/* *Like: the input gives shape and (without a dtype attribute) dtype; the
 * values are those of the plain generator with the same seed. */
Test(random, like_ops_follow_input) {
    oph_case c;
    dlc_shape s = oph_shape(2, (int64_t[]){5, 7});
    oph_begin(&c, "RandomUniformLike", 17, 1, (dlc_dtype[]){DLC_FLOAT64}, &s, 1, NULL);
    oph_attr_float(&c, "seed", 3.0);
    cr_assert_eq(oph_infer(&c), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(c.out[0]->dtype, DLC_FLOAT64);
    cr_assert(dlc_shape_equal(&c.out[0]->shape, &s));
    double input[35] = {0}, like[35];
    oph_run(&c, (void *[]){input}, (void *[]){like}, 1);
    oph_end(&c);

    begin_generator(&c, "RandomUniform", 35, DLC_FLOAT64);
    oph_attr_float(&c, "seed", 3.0);
    double *plain = run_generator(&c);
    cr_assert(memcmp(like, plain, sizeof like) == 0);
    free(plain);
    oph_end(&c);

    oph_begin(&c, "RandomNormalLike", 17, 1, (dlc_dtype[]){DLC_INT64}, &s, 1, NULL);
    oph_attr_int(&c, "dtype", DLC_FLOAT32);
    cr_assert_eq(oph_infer(&c), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(c.out[0]->dtype, DLC_FLOAT32);
    oph_end(&c);

    /* an integer input without a dtype attribute would give an integer output */
    oph_begin(&c, "RandomNormalLike", 17, 1, (dlc_dtype[]){DLC_INT64}, &s, 1, NULL);
    cr_assert_neq(oph_infer(&c), DLC_OK);
    oph_end(&c);
}

static void run_bernoulli(const double *p, int64_t n, int64_t dtype, double seed, void *out) {
    oph_case c;
    dlc_shape s = oph_shape(1, &n);
    oph_begin(&c, "Bernoulli", 15, 1, (dlc_dtype[]){DLC_FLOAT64}, &s, 1, NULL);
    if (dtype != 0) oph_attr_int(&c, "dtype", dtype);
    oph_attr_float(&c, "seed", seed);
    cr_assert_eq(oph_infer(&c), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(c.out[0]->dtype, dtype != 0 ? (dlc_dtype)dtype : DLC_FLOAT64);
    oph_run(&c, (void *[]){(void *)p}, (void *[]){out}, 1);
    oph_end(&c);
}

Test(random, bernoulli_rate_and_extremes) {
    double *p = malloc(SAMPLES * sizeof *p);
    double *y = malloc(SAMPLES * sizeof *y);
    for (int64_t i = 0; i < SAMPLES; i++) p[i] = 0.3;
    run_bernoulli(p, SAMPLES, 0, 11.0, y);
    int64_t ones = 0;
    for (int64_t i = 0; i < SAMPLES; i++) {
        cr_assert(y[i] == 0.0 || y[i] == 1.0, "y[%lld] = %g", (long long)i, y[i]);
        ones += y[i] == 1.0;
    }
    double rate = (double)ones / SAMPLES; /* standard error 0.0014 */
    cr_assert(fabs(rate - 0.3) < 0.01, "rate %g", rate);

    /* p = 0 never fires, p = 1 always does; int64 and bool outputs */
    for (int64_t i = 0; i < 1000; i++) p[i] = (double)(i % 2);
    int64_t *as_int = malloc(1000 * sizeof *as_int);
    run_bernoulli(p, 1000, DLC_INT64, 0.0, as_int);
    for (int64_t i = 0; i < 1000; i++) cr_assert_eq(as_int[i], i % 2);
    uint8_t as_bool[1000];
    run_bernoulli(p, 1000, DLC_BOOL, 0.0, as_bool);
    for (int64_t i = 0; i < 1000; i++) cr_assert_eq(as_bool[i], (uint8_t)(i % 2));
    free(as_int);
    free(p);
    free(y);
}

Test(random, bernoulli_refuses_integer_probabilities) {
    oph_case c;
    dlc_shape s = oph_shape(1, (int64_t[]){4});
    oph_begin(&c, "Bernoulli", 15, 1, (dlc_dtype[]){DLC_INT32}, &s, 1, NULL);
    cr_assert_neq(oph_infer(&c), DLC_OK);
    cr_assert(strstr(dlc_last_error(), "in0") != NULL, "%s", dlc_last_error());
    oph_end(&c);
}

Test(random, multinomial_frequencies) {
    oph_case c;
    dlc_shape s = oph_shape(2, (int64_t[]){2, 3});
    oph_begin(&c, "Multinomial", 7, 1, (dlc_dtype[]){DLC_FLOAT32}, &s, 1, NULL);
    oph_attr_int(&c, "sample_size", SAMPLES);
    oph_attr_int(&c, "dtype", DLC_INT64);
    oph_attr_float(&c, "seed", 1.0);
    cr_assert_eq(oph_infer(&c), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(c.out[0]->dtype, DLC_INT64);
    cr_assert_eq(c.out[0]->shape.dims[0].value, 2);
    cr_assert_eq(c.out[0]->shape.dims[1].value, SAMPLES);
    /* row 0: unnormalized log-probabilities of 0.1/0.2/0.7 (shifted by 5);
     * row 1: one class only */
    float logits[6] = {logf(0.1f) + 5.0f, logf(0.2f) + 5.0f, logf(0.7f) + 5.0f, -INFINITY, 0.0f, -INFINITY};
    int64_t *out = malloc(2 * SAMPLES * sizeof *out);
    oph_run(&c, (void *[]){logits}, (void *[]){out}, 1);
    int64_t counts[3] = {0};
    for (int64_t i = 0; i < SAMPLES; i++) {
        cr_assert(out[i] >= 0 && out[i] < 3);
        counts[out[i]]++;
        cr_assert_eq(out[SAMPLES + i], 1);
    }
    const double want[3] = {0.1, 0.2, 0.7};
    for (int k = 0; k < 3; k++)
        cr_assert(fabs((double)counts[k] / SAMPLES - want[k]) < 0.01, "class %d frequency %g", k,
                  (double)counts[k] / SAMPLES);
    free(out);
    oph_end(&c);
}

/* Dropout(x, ratio, training_mode = true): mask ~ keep with 1 - ratio,
 * y = x / (1 - ratio) where kept and 0 where dropped. */
static dlc_graph *dropout_graph(int64_t n, double ratio, bool training, int64_t seed, dlc_node **out_node) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("dropout", &g), DLC_OK);
    dlc_shape s = oph_shape(1, &n), scalar = {.rank = 0};
    dlc_value *x, *r, *t, *y, *mask;
    float ratio_f = (float)ratio;
    uint8_t training_b = training;
    dlc_shape unknown = {.rank = -1};
    cr_assert_eq(dlc_graph_add_value(g, "x", DLC_VALUE_INPUT, DLC_FLOAT32, &s, &x), DLC_OK);
    cr_assert_eq(dlc_graph_add_const(g, "ratio", DLC_FLOAT32, &scalar, &ratio_f, sizeof ratio_f, &r), DLC_OK);
    cr_assert_eq(dlc_graph_add_const(g, "training", DLC_BOOL, &scalar, &training_b, 1, &t), DLC_OK);
    cr_assert_eq(dlc_graph_add_value(g, "y", DLC_VALUE_INTERMEDIATE, DLC_DTYPE_UNDEFINED, &unknown, &y), DLC_OK);
    cr_assert_eq(dlc_graph_add_value(g, "mask", DLC_VALUE_INTERMEDIATE, DLC_DTYPE_UNDEFINED, &unknown, &mask), DLC_OK);
    cr_assert_eq(dlc_graph_add_node(g, "drop", "Dropout", "", 13, 3, (dlc_value *[]){x, r, t}, 2,
                                    (dlc_value *[]){y, mask}, out_node),
                 DLC_OK);
    dlc_attr a = {.name = "seed", .type = DLC_ATTR_INT, .i = seed};
    cr_assert_eq(dlc_node_add_attr(*out_node, &a), DLC_OK);
    cr_assert_eq(dlc_node_bind_schema(*out_node), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq((*out_node)->schema->infer(g, *out_node), DLC_OK, "%s", dlc_last_error());
    return g;
}

static void run_dropout(dlc_graph *g, dlc_node *node, const float *x, float *y, uint8_t *mask) {
    oph_case c = {.g = g, .node = node};
    float ratio;
    uint8_t training;
    memcpy(&ratio, node->inputs[1]->data, sizeof ratio);
    memcpy(&training, node->inputs[2]->data, 1);
    oph_run(&c, (void *[]){(void *)x, &ratio, &training}, (void *[]){y, mask}, 1);
}

Test(random, dropout_training_scales_and_masks) {
    dlc_node *node;
    dlc_graph *g = dropout_graph(SAMPLES, 0.25, true, 9, &node);
    cr_assert_eq(node->outputs[1]->dtype, DLC_BOOL);
    float *x = malloc(SAMPLES * sizeof *x), *y = malloc(SAMPLES * sizeof *y);
    uint8_t *mask = malloc(SAMPLES);
    for (int64_t i = 0; i < SAMPLES; i++) x[i] = (float)(i % 17) - 8.0f;
    run_dropout(g, node, x, y, mask);
    int64_t kept = 0;
    for (int64_t i = 0; i < SAMPLES; i++) {
        cr_assert(mask[i] <= 1);
        kept += mask[i];
        float want = mask[i] ? x[i] * (1.0f / (1.0f - 0.25f)) : 0.0f;
        cr_assert_eq(y[i], want, "y[%lld] = %g, x %g, mask %d", (long long)i, (double)y[i], (double)x[i], mask[i]);
    }
    double rate = (double)kept / SAMPLES;
    cr_assert(fabs(rate - 0.75) < 0.01, "kept %g", rate);

    /* the same seed gives the same mask */
    uint8_t *again = malloc(SAMPLES);
    float *y2 = malloc(SAMPLES * sizeof *y2);
    run_dropout(g, node, x, y2, again);
    cr_assert(memcmp(mask, again, SAMPLES) == 0);
    cr_assert(memcmp(y, y2, SAMPLES * sizeof *y) == 0);
    free(again);
    free(y2);
    free(x);
    free(y);
    free(mask);
    dlc_graph_free(g);
}

/* np.random.seed(0); mask = np.random.uniform(0, 1, 4) >= 0.6: the ONNX
 * reference's Dropout, element for element. */
Test(random, dropout_seed_matches_reference) {
    dlc_node *node;
    dlc_graph *g = dropout_graph(4, 0.6, true, 0, &node);
    const float x[4] = {1.0f, -2.0f, 3.0f, 4.0f};
    float y[4];
    uint8_t mask[4];
    run_dropout(g, node, x, y, mask);
    /* uniforms 0.549 0.715 0.603 0.545 */
    const uint8_t want_mask[4] = {0, 1, 1, 0};
    /* the reference computes the scale in float32, the ratio's dtype */
    const float scale = 1.0f / (1.0f - 0.6f);
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(mask[i], want_mask[i], "mask[%d]", i);
        cr_assert_eq(y[i], want_mask[i] ? x[i] * scale : 0.0f * x[i], "y[%d]", i);
    }
    dlc_graph_free(g);
}

/* A ratio outside [0, 1) is refused at compile time, naming the node. */
Test(random, dropout_refuses_ratio_one) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("dropout", &g), DLC_OK);
    dlc_shape s = oph_shape(1, (int64_t[]){4}), scalar = {.rank = 0}, unknown = {.rank = -1};
    float one = 1.0f;
    uint8_t yes = 1;
    dlc_value *x, *r, *t, *y;
    dlc_node *node;
    cr_assert_eq(dlc_graph_add_value(g, "x", DLC_VALUE_INPUT, DLC_FLOAT32, &s, &x), DLC_OK);
    cr_assert_eq(dlc_graph_add_const(g, "ratio", DLC_FLOAT32, &scalar, &one, sizeof one, &r), DLC_OK);
    cr_assert_eq(dlc_graph_add_const(g, "training", DLC_BOOL, &scalar, &yes, 1, &t), DLC_OK);
    cr_assert_eq(dlc_graph_add_value(g, "y", DLC_VALUE_INTERMEDIATE, DLC_DTYPE_UNDEFINED, &unknown, &y), DLC_OK);
    cr_assert_eq(dlc_graph_add_node(g, "drop", "Dropout", "", 13, 3, (dlc_value *[]){x, r, t}, 1, &y, &node),
                 DLC_OK);
    cr_assert_eq(dlc_node_bind_schema(node), DLC_OK);
    cr_assert_neq(node->schema->infer(g, node), DLC_OK);
    cr_assert(strstr(dlc_last_error(), "drop") != NULL && strstr(dlc_last_error(), "ratio") != NULL, "%s",
              dlc_last_error());
    dlc_graph_free(g);
}

/* Constant inputs do not make a random op (or Dropout in training mode) a
 * constant: the folder leaves them as nodes. Inference Dropout still folds. */
Test(random, constant_folding_skips_random_ops) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("fold", &g), DLC_OK);
    dlc_shape s = oph_shape(1, (int64_t[]){3}), unknown = {.rank = -1};
    const float data[3] = {0.2f, 0.5f, 0.9f};
    dlc_value *p, *out;
    dlc_node *node;
    cr_assert_eq(dlc_graph_add_const(g, "p", DLC_FLOAT32, &s, data, sizeof data, &p), DLC_OK);
    const char *const ops[] = {"RandomUniformLike", "RandomNormalLike", "Bernoulli"};
    for (int i = 0; i < 3; i++) {
        char name[32];
        snprintf(name, sizeof name, "out%d", i);
        cr_assert_eq(dlc_graph_add_value(g, name, DLC_VALUE_INTERMEDIATE, DLC_DTYPE_UNDEFINED, &unknown, &out), DLC_OK);
        cr_assert_eq(dlc_graph_add_node(g, ops[i], ops[i], "", 15, 1, &p, 1, &out, &node), DLC_OK);
        cr_assert_eq(dlc_node_bind_schema(node), DLC_OK, "%s", dlc_last_error());
        cr_assert_eq(node->schema->infer(g, node), DLC_OK, "%s", dlc_last_error());
        bool folded = true;
        cr_assert_eq(dlc_fold_node(g, node, &folded), DLC_OK, "%s", dlc_last_error());
        cr_assert(!folded, "%s was folded", ops[i]);
        cr_assert_neq(out->kind, DLC_VALUE_CONST);
    }
    dlc_graph_free(g);

    /* Dropout with every input constant: training folds not, inference does */
    for (int training = 0; training <= 1; training++) {
        cr_assert_eq(dlc_graph_create("fold", &g), DLC_OK);
        dlc_value *x, *r, *t, *y;
        float ratio = 0.5f;
        uint8_t mode = (uint8_t)training;
        dlc_shape scalar = {.rank = 0};
        cr_assert_eq(dlc_graph_add_const(g, "x", DLC_FLOAT32, &s, data, sizeof data, &x), DLC_OK);
        cr_assert_eq(dlc_graph_add_const(g, "ratio", DLC_FLOAT32, &scalar, &ratio, sizeof ratio, &r), DLC_OK);
        cr_assert_eq(dlc_graph_add_const(g, "training", DLC_BOOL, &scalar, &mode, 1, &t), DLC_OK);
        cr_assert_eq(dlc_graph_add_value(g, "y", DLC_VALUE_INTERMEDIATE, DLC_DTYPE_UNDEFINED, &unknown, &y), DLC_OK);
        cr_assert_eq(dlc_graph_add_node(g, "drop", "Dropout", "", 13, 3, (dlc_value *[]){x, r, t}, 1, &y, &node),
                     DLC_OK);
        cr_assert_eq(dlc_node_bind_schema(node), DLC_OK);
        cr_assert_eq(node->schema->infer(g, node), DLC_OK, "%s", dlc_last_error());
        bool folded = !training;
        cr_assert_eq(dlc_fold_node(g, node, &folded), DLC_OK, "%s", dlc_last_error());
        cr_assert_eq(folded, !training, "training %d: folded %d", training, folded);
        dlc_graph_free(g);
    }
}
