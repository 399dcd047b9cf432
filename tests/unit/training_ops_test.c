/* The ai.onnx.preview.training optimizers (ir/ops/training.c,
 * kernels/training.c): Adagrad, Momentum (standard and Nesterov) and Adam,
 * each over several tensors per node, checked against the ONNX spec's
 * formulas written out here in double; the attribute defaults of the spec;
 * and refusals that name the node. */
#include "op_harness.h"

#define TRAINING_DOMAIN "ai.onnx.preview.training"

/* Builds a training-domain node: inputs R (float scalar), T (int64 scalar),
 * then `groups` groups of n float tensors with the given shapes (the same
 * shapes in each group); outputs `num_outputs` values. */
static void begin_optimizer(oph_case *c, const char *op, int32_t n, int32_t groups, const dlc_shape *shapes,
                            int32_t num_outputs) {
    memset(c, 0, sizeof *c);
    cr_assert_eq(dlc_graph_create("test", &c->g), DLC_OK);
    dlc_shape scalar = {.rank = 0}, unknown = {.rank = -1};
    dlc_value *in[2 + 3 * 4], *out[4 * 4];
    cr_assert(n * groups <= 12 && num_outputs <= 16);
    cr_assert_eq(dlc_graph_add_value(c->g, "R", DLC_VALUE_INPUT, DLC_FLOAT32, &scalar, &in[0]), DLC_OK);
    cr_assert_eq(dlc_graph_add_value(c->g, "T", DLC_VALUE_INPUT, DLC_INT64, &scalar, &in[1]), DLC_OK);
    for (int32_t grp = 0; grp < groups; grp++)
        for (int32_t i = 0; i < n; i++) {
            char name[32];
            snprintf(name, sizeof name, "in%d_%d", grp, i);
            cr_assert_eq(dlc_graph_add_value(c->g, name, DLC_VALUE_INPUT, DLC_FLOAT32, &shapes[i],
                                             &in[2 + grp * n + i]),
                         DLC_OK);
        }
    for (int32_t o = 0; o < num_outputs; o++) {
        char name[32];
        snprintf(name, sizeof name, "out%d", o);
        cr_assert_eq(dlc_graph_add_value(c->g, name, DLC_VALUE_INTERMEDIATE, DLC_DTYPE_UNDEFINED, &unknown, &out[o]),
                     DLC_OK);
    }
    cr_assert_eq(dlc_graph_add_node(c->g, "opt", op, TRAINING_DOMAIN, 1, 2 + groups * n, in, num_outputs, out,
                                    &c->node),
                 DLC_OK);
}

static void run_optimizer(oph_case *c, float r, int64_t t, float **tensors, float **outputs) {
    cr_assert_eq(oph_infer(c), DLC_OK, "%s", dlc_last_error());
    void *in[2 + 12], *out[16];
    in[0] = &r;
    in[1] = &t;
    for (int32_t i = 0; i < c->node->num_inputs - 2; i++) in[2 + i] = tensors[i];
    for (int32_t o = 0; o < c->node->num_outputs; o++) out[o] = outputs[o];
    oph_run(c, in, out, 1);
}

static void expect_near(const float *got, const double *want, int64_t n, const char *what) {
    for (int64_t i = 0; i < n; i++)
        cr_assert(fabs(got[i] - want[i]) <= 1e-6 * (1.0 + fabs(want[i])), "%s[%lld] = %.9g, expected %.9g", what,
                  (long long)i, (double)got[i], want[i]);
}

Test(training_ops, op_lives_in_the_training_domain) {
    cr_assert_not_null(dlc_op_find(TRAINING_DOMAIN, "Adam"));
    cr_assert_not_null(dlc_op_find(TRAINING_DOMAIN, "Adagrad"));
    cr_assert_not_null(dlc_op_find(TRAINING_DOMAIN, "Momentum"));
    cr_assert_null(dlc_op_find("", "Adam"));
}

/* Two tensors of different shapes in one Adagrad node, with decay. */
Test(training_ops, adagrad_two_tensors) {
    oph_case c;
    dlc_shape shapes[2] = {oph_shape(1, (int64_t[]){1}), oph_shape(2, (int64_t[]){2, 2})};
    begin_optimizer(&c, "Adagrad", 2, 3, shapes, 4);
    oph_attr_float(&c, "decay_factor", 0.1);
    oph_attr_float(&c, "epsilon", 1e-5);
    oph_attr_float(&c, "norm_coefficient", 0.001);
    float x1[1] = {1.0f}, x2[4] = {1.0f, -2.0f, 0.5f, 3.0f};
    float g1[1] = {-1.0f}, g2[4] = {-1.0f, 3.0f, 0.25f, -0.5f};
    float h1[1] = {2.0f}, h2[4] = {0.5f, 1.5f, 0.0f, 4.0f};
    float nx1[1], nx2[4], nh1[1], nh2[4];
    run_optimizer(&c, 0.1f, 3, (float *[]){x1, x2, g1, g2, h1, h2}, (float *[]){nx1, nx2, nh1, nh2});
    const float *xs[2] = {x1, x2}, *gs[2] = {g1, g2}, *hs[2] = {h1, h2};
    float *nxs[2] = {nx1, nx2}, *nhs[2] = {nh1, nh2};
    for (int k = 0; k < 2; k++) {
        int64_t n = k == 0 ? 1 : 4;
        double want_x[4], want_h[4];
        double r = 0.1 / (1.0 + 3 * 0.1);
        for (int64_t i = 0; i < n; i++) {
            double g = 0.001 * xs[k][i] + gs[k][i];
            want_h[i] = hs[k][i] + g * g;
            want_x[i] = xs[k][i] - r * g / (sqrt(want_h[i]) + 1e-5);
        }
        expect_near(nxs[k], want_x, n, "X_new");
        expect_near(nhs[k], want_h, n, "H_new");
    }
    cr_assert_eq(c.node->outputs[0]->dtype, DLC_FLOAT32);
    cr_assert_eq(c.node->outputs[1]->shape.rank, 2);
    oph_end(&c);
}

/* Without attributes Adagrad takes the spec's defaults: no decay, epsilon
 * 1e-6, no regularization. With H = 0 and a tiny gradient the epsilon shows. */
Test(training_ops, adagrad_spec_defaults) {
    oph_case c;
    dlc_shape shape = oph_shape(1, (int64_t[]){1});
    begin_optimizer(&c, "Adagrad", 1, 3, &shape, 2);
    float x[1] = {1.0f}, g[1] = {1e-6f}, h[1] = {0.0f}, nx[1], nh[1];
    run_optimizer(&c, 1.0f, 5, (float *[]){x, g, h}, (float *[]){nx, nh});
    double gd = (double)g[0];
    double want = 1.0 - gd / (sqrt(gd * gd) + 1e-6); /* = 0.5 */
    expect_near(nx, &want, 1, "X_new");
    oph_end(&c);
}

static void momentum_case(const char *mode, int64_t t, double *want_x, double *want_v, float *got_x, float *got_v) {
    oph_case c;
    dlc_shape shape = oph_shape(1, (int64_t[]){3});
    begin_optimizer(&c, "Momentum", 1, 3, &shape, 2);
    const double alpha = 0.9, beta = 0.1, norm = 0.01, r = 0.05;
    oph_attr_float(&c, "alpha", alpha);
    oph_attr_float(&c, "beta", beta);
    oph_attr_float(&c, "norm_coefficient", norm);
    oph_attr_string(&c, "mode", mode);
    float x[3] = {1.2f, 2.8f, -0.5f}, g[3] = {-0.94f, -2.5f, 0.3f}, v[3] = {1.7f, 3.6f, -0.2f};
    run_optimizer(&c, (float)r, t, (float *[]){x, g, v}, (float *[]){got_x, got_v});
    for (int i = 0; i < 3; i++) {
        double g_reg = norm * x[i] + g[i];
        /* the first step (T = 0) takes the gradient at full weight */
        double b = t > 0 ? beta : 1.0;
        want_v[i] = alpha * v[i] + b * g_reg;
        double step = strcmp(mode, "nesterov") == 0 ? g_reg + alpha * want_v[i] : want_v[i];
        want_x[i] = x[i] - (double)(float)r * step;
    }
    oph_end(&c);
}

Test(training_ops, momentum_standard_and_nesterov) {
    const char *modes[2] = {"standard", "nesterov"};
    for (int m = 0; m < 2; m++)
        for (int64_t t = 0; t <= 4; t += 4) {
            double want_x[3], want_v[3];
            float got_x[3], got_v[3];
            momentum_case(modes[m], t, want_x, want_v, got_x, got_v);
            expect_near(got_x, want_x, 3, modes[m]);
            expect_near(got_v, want_v, 3, "V_new");
        }
}

Test(training_ops, momentum_requires_its_attributes) {
    oph_case c;
    dlc_shape shape = oph_shape(1, (int64_t[]){3});
    begin_optimizer(&c, "Momentum", 1, 3, &shape, 2);
    oph_attr_float(&c, "alpha", 0.9);
    oph_attr_float(&c, "beta", 0.1);
    oph_attr_string(&c, "mode", "standard");
    cr_assert_neq(oph_infer(&c), DLC_OK);
    cr_assert(strstr(dlc_last_error(), "norm_coefficient") != NULL && strstr(dlc_last_error(), "opt") != NULL, "%s",
              dlc_last_error());
    oph_end(&c);

    begin_optimizer(&c, "Momentum", 1, 3, &shape, 2);
    oph_attr_float(&c, "alpha", 0.9);
    oph_attr_float(&c, "beta", 0.1);
    oph_attr_float(&c, "norm_coefficient", 0.0);
    oph_attr_string(&c, "mode", "heavy-ball");
    cr_assert_neq(oph_infer(&c), DLC_OK);
    cr_assert(strstr(dlc_last_error(), "heavy-ball") != NULL, "%s", dlc_last_error());
    oph_end(&c);
}

/* Adam over two tensors, with and without bias correction (T > 0 / T = 0)
 * and with the post-update decay. */
Test(training_ops, adam_two_tensors) {
    const double alpha = 0.95, beta = 0.85, eps = 1e-2, norm = 0.001, post = 0.02;
    for (int64_t t = 0; t <= 3; t += 3) {
        oph_case c;
        dlc_shape shapes[2] = {oph_shape(1, (int64_t[]){1}), oph_shape(1, (int64_t[]){2})};
        begin_optimizer(&c, "Adam", 2, 4, shapes, 6);
        oph_attr_float(&c, "alpha", alpha);
        oph_attr_float(&c, "beta", beta);
        oph_attr_float(&c, "epsilon", eps);
        oph_attr_float(&c, "norm_coefficient", norm);
        oph_attr_float(&c, "norm_coefficient_post", post);
        float x1[1] = {1.0f}, x2[2] = {1.0f, 2.0f}, g1[1] = {-1.0f}, g2[2] = {-1.0f, -3.0f};
        float v1[1] = {2.0f}, v2[2] = {4.0f, 1.0f}, h1[1] = {0.5f}, h2[2] = {1.0f, 10.0f};
        float nx1[1], nx2[2], nv1[1], nv2[2], nh1[1], nh2[2];
        const float r = 0.1f;
        run_optimizer(&c, r, t, (float *[]){x1, x2, g1, g2, v1, v2, h1, h2},
                      (float *[]){nx1, nx2, nv1, nv2, nh1, nh2});
        const float *xs[2] = {x1, x2}, *gs[2] = {g1, g2}, *vs[2] = {v1, v2}, *hs[2] = {h1, h2};
        float *nxs[2] = {nx1, nx2}, *nvs[2] = {nv1, nv2}, *nhs[2] = {nh1, nh2};
        double r_adj = t > 0 ? r * sqrt(1.0 - pow(beta, (double)t)) / (1.0 - pow(alpha, (double)t)) : r;
        for (int k = 0; k < 2; k++) {
            double want_x[2], want_v[2], want_h[2];
            for (int i = 0; i <= k; i++) {
                double g = norm * xs[k][i] + gs[k][i];
                want_v[i] = alpha * vs[k][i] + (1 - alpha) * g;
                want_h[i] = beta * hs[k][i] + (1 - beta) * g * g;
                want_x[i] = (1 - post) * (xs[k][i] - r_adj * want_v[i] / (sqrt(want_h[i]) + eps));
            }
            expect_near(nxs[k], want_x, k + 1, "X_new");
            expect_near(nvs[k], want_v, k + 1, "V_new");
            expect_near(nhs[k], want_h, k + 1, "H_new");
        }
        oph_end(&c);
    }
}

Test(training_ops, refusals_name_the_node) {
    /* 2 + 5 inputs cannot be whole Adam groups of four */
    oph_case c;
    dlc_shape shapes[2] = {oph_shape(1, (int64_t[]){2}), oph_shape(1, (int64_t[]){3})};
    begin_optimizer(&c, "Adam", 1, 5, shapes, 3);
    cr_assert_neq(oph_infer(&c), DLC_OK);
    cr_assert(strstr(dlc_last_error(), "opt") != NULL, "%s", dlc_last_error());
    oph_end(&c);

    /* G's shape differs from X's: both shapes in the message */
    begin_optimizer(&c, "Adagrad", 1, 3, shapes, 2);
    dlc_shape other = oph_shape(1, (int64_t[]){5});
    c.node->inputs[3]->shape = other;
    cr_assert_neq(oph_infer(&c), DLC_OK);
    cr_assert(strstr(dlc_last_error(), "[5]") != NULL && strstr(dlc_last_error(), "[2]") != NULL, "%s",
              dlc_last_error());
    oph_end(&c);

    /* T must be int64 */
    begin_optimizer(&c, "Adagrad", 1, 3, shapes, 2);
    c.node->inputs[1]->dtype = DLC_FLOAT32;
    cr_assert_neq(oph_infer(&c), DLC_OK);
    cr_assert(strstr(dlc_last_error(), "int64") != NULL, "%s", dlc_last_error());
    oph_end(&c);
}
