/* NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss: shape rules and the
 * nll_loss kernel against direct formulas (weights, ignore_index, reductions,
 * N-d targets, out-of-range targets). */
#include <criterion/criterion.h>
#include <math.h>

#include "op_harness.h"

/* scores [2,3,2] (N=2, C=3, D=2), targets [2,2] */
static const float scores[12] = {0.1f, -1.0f, 2.0f, 0.5f, -0.3f, 1.5f, 0.7f, 0.2f, -2.0f, 1.0f, 0.4f, -0.6f};
static const int64_t targets[4] = {2, 0, 1, 2};
static const float weights[3] = {0.2f, 0.5f, 1.5f};

static double score(int n, int c, int d) { return scores[n * 6 + c * 2 + d]; }

static void begin(oph_case *c, const char *op, bool with_weights, int outputs) {
    dlc_dtype dtypes[3] = {DLC_FLOAT32, DLC_INT64, DLC_FLOAT32};
    dlc_shape shapes[3] = {oph_shape(3, (int64_t[]){2, 3, 2}), oph_shape(2, (int64_t[]){2, 2}),
                           oph_shape(1, (int64_t[]){3})};
    oph_begin(c, op, 13, with_weights ? 3 : 2, dtypes, shapes, outputs, NULL);
}

Test(loss, nll_mean_divides_by_the_weights_of_kept_targets) {
    oph_case c;
    begin(&c, "NegativeLogLikelihoodLoss", true, 1);
    oph_attr_int(&c, "ignore_index", 0);
    cr_assert_eq(oph_infer(&c), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(c.out[0]->shape.rank, 0);
    double sum = 0, wsum = 0;
    for (int n = 0; n < 2; n++)
        for (int d = 0; d < 2; d++) {
            int64_t t = targets[n * 2 + d];
            if (t == 0) continue;
            sum += -score(n, (int)t, d) * weights[t];
            wsum += weights[t];
        }
    float got;
    oph_run(&c, (void *[]){(void *)scores, (void *)targets, (void *)weights}, (void *[]){&got}, 1);
    double want = sum / wsum;
    oph_expect_close(&got, &want, 1, 1e-6, "mean loss");
    oph_end(&c);
}

Test(loss, nll_none_keeps_the_target_shape) {
    oph_case c;
    begin(&c, "NegativeLogLikelihoodLoss", false, 1);
    oph_attr_string(&c, "reduction", "none");
    cr_assert_eq(oph_infer(&c), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(c.out[0]->shape.rank, 2);
    float got[4];
    oph_run(&c, (void *[]){(void *)scores, (void *)targets}, (void *[]){got}, 1);
    double want[4];
    for (int n = 0; n < 2; n++)
        for (int d = 0; d < 2; d++) want[n * 2 + d] = -score(n, (int)targets[n * 2 + d], d);
    oph_expect_close(got, want, 4, 1e-6, "per-element loss");
    oph_end(&c);
}

Test(loss, sce_sum_and_log_prob) {
    oph_case c;
    begin(&c, "SoftmaxCrossEntropyLoss", false, 2);
    oph_attr_string(&c, "reduction", "sum");
    cr_assert_eq(oph_infer(&c), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(c.out[1]->shape.rank, 3);
    float loss, log_prob[12];
    oph_run(&c, (void *[]){(void *)scores, (void *)targets}, (void *[]){&loss, log_prob}, 1);
    double want_logp[12], want_loss = 0;
    for (int n = 0; n < 2; n++)
        for (int d = 0; d < 2; d++) {
            double z = 0;
            for (int k = 0; k < 3; k++) z += exp(score(n, k, d));
            for (int k = 0; k < 3; k++) want_logp[n * 6 + k * 2 + d] = score(n, k, d) - log(z);
            want_loss -= want_logp[n * 6 + (int)targets[n * 2 + d] * 2 + d];
        }
    oph_expect_close(log_prob, want_logp, 12, 1e-6, "log_prob");
    oph_expect_close(&loss, &want_loss, 1, 1e-6, "summed loss");
    oph_end(&c);
}

Test(loss, target_out_of_range_is_a_kernel_error) {
    oph_case c;
    begin(&c, "NegativeLogLikelihoodLoss", false, 1);
    cr_assert_eq(oph_infer(&c), DLC_OK);
    dlc_kcall call;
    cr_assert_eq(c.node->schema->lower(c.g, c.node, &call), DLC_OK);
    void *blob;
    size_t size;
    cr_assert_eq(dlc_kparams_build(c.node, &call, &blob, &size), DLC_OK);
    int64_t bad[4] = {0, 3, 1, 2};
    float out;
    dlc_kctx ctx = {.num_threads = 1};
    cr_assert_eq(dlc_kernel_find(call.kernel)->fn(blob, (void *[]){(void *)scores, bad}, (void *[]){&out}, &ctx),
                 DLC_KERR_INDEX_OUT_OF_RANGE);
    free(blob);
    oph_end(&c);
}

Test(loss, mismatched_target_shape_names_both_shapes) {
    oph_case c;
    dlc_dtype dtypes[2] = {DLC_FLOAT32, DLC_INT64};
    dlc_shape shapes[2] = {oph_shape(3, (int64_t[]){2, 3, 2}), oph_shape(2, (int64_t[]){2, 5})};
    oph_begin(&c, "NegativeLogLikelihoodLoss", 13, 2, dtypes, shapes, 1, NULL);
    cr_assert_eq(oph_infer(&c), DLC_ERR_SHAPE_MISMATCH);
    cr_assert(strstr(dlc_last_error(), "[2,3,2]") && strstr(dlc_last_error(), "[2,5]"), "%s", dlc_last_error());
    oph_end(&c);
}
