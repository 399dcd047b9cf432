/* RNN, GRU and LSTM against a direct double-precision reference of the ONNX
 * equations written here: directions, both layouts, sequence_lens (including
 * 0 and full), initial states, peepholes, input_forget, clip, GRU's
 * linear_before_reset, custom activations with alpha/beta, omitted outputs,
 * float64, and sizes large enough for the blocked SGEMM with two threads. */
#include <ctype.h>

#include "op_harness.h"

enum { RNN, GRU, LSTM };

typedef struct rnn_cfg {
    int cell, direction, layout; /* direction: 0 forward, 1 reverse, 2 bidirectional */
    int64_t seq, batch, input, hidden;
    bool bias, h0, c0, peep, lbr, input_forget;
    const int32_t *lens;         /* NULL: absent */
    double clip;                 /* 0: none */
    const char *const *acts;     /* NULL: defaults; else num_acts names */
    int num_acts;
    const double *alpha, *beta;
    int num_alpha, num_beta;
    bool omit_y;
    dlc_dtype dtype;
    int threads;
} rnn_cfg;

static int gates_of(int cell) { return cell == LSTM ? 4 : cell == GRU ? 3 : 1; }
static int per_dir(int cell) { return cell == LSTM ? 3 : cell == GRU ? 2 : 1; }

/* ---- reference ---- */

typedef struct ref_act {
    char name[32];
    double alpha, beta;
} ref_act;

static double ref_apply(const ref_act *a, double x) {
    const char *n = a->name;
    if (!strcmp(n, "sigmoid")) return 1.0 / (1.0 + exp(-x));
    if (!strcmp(n, "tanh")) return tanh(x);
    if (!strcmp(n, "relu")) return x > 0 ? x : 0;
    if (!strcmp(n, "hardsigmoid")) return fmax(0.0, fmin(1.0, a->alpha * x + a->beta));
    if (!strcmp(n, "leakyrelu")) return x >= 0 ? x : a->alpha * x;
    if (!strcmp(n, "thresholdedrelu")) return x > a->alpha ? x : 0;
    if (!strcmp(n, "scaledtanh")) return a->alpha * tanh(a->beta * x);
    if (!strcmp(n, "affine")) return a->alpha * x + a->beta;
    if (!strcmp(n, "elu")) return x >= 0 ? x : a->alpha * (exp(x) - 1);
    if (!strcmp(n, "softsign")) return x / (1 + fabs(x));
    if (!strcmp(n, "softplus")) return log(1 + exp(x));
    cr_assert_fail("unknown activation %s", n);
    return 0;
}

/* Resolves the activation list the way ONNX Runtime does. */
static void ref_acts(const rnn_cfg *c, ref_act *out) {
    static const char *defaults[3][3] = {{"Tanh"}, {"Sigmoid", "Tanh"}, {"Sigmoid", "Tanh", "Tanh"}};
    int per = per_dir(c->cell), nd = c->direction == 2 ? 2 : 1, ia = 0, ib = 0;
    for (int i = 0; i < nd * per; i++) {
        const char *name = c->acts ? c->acts[c->num_acts == per ? i % per : i] : defaults[c->cell][i % per];
        if (c->acts && c->num_acts == per && i == per) ia = ib = 0;
        ref_act *a = &out[i];
        int k = 0;
        for (; name[k] && k < 31; k++) a->name[k] = (char)tolower((unsigned char)name[k]);
        a->name[k] = 0;
        int np = 0;
        a->alpha = a->beta = 0;
        if (!strcmp(a->name, "hardsigmoid")) np = 2, a->alpha = 0.2, a->beta = 0.5;
        if (!strcmp(a->name, "leakyrelu")) np = 1, a->alpha = 0.01;
        if (!strcmp(a->name, "thresholdedrelu") || !strcmp(a->name, "elu")) np = 1, a->alpha = 1.0;
        if (!strcmp(a->name, "scaledtanh")) np = 2, a->alpha = 1.0, a->beta = 1.0;
        if (!strcmp(a->name, "affine")) np = 2, a->alpha = 1.0, a->beta = 0.0;
        if (np >= 1 && ia < c->num_alpha) a->alpha = c->alpha[ia++];
        if (np >= 2 && ib < c->num_beta) a->beta = c->beta[ib++];
    }
}

static double clipv(const rnn_cfg *c, double v) { return c->clip > 0 ? fmax(-c->clip, fmin(c->clip, v)) : v; }

/* x·w_row for one gate row. */
static double dot(const float *a, const float *b, int64_t n) {
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}
static double dotd(const double *a, const float *b, int64_t n) {
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

static void reference(const rnn_cfg *c, const float *X, const float *W, const float *R, const float *B,
                      const float *H0, const float *C0, const float *P, double *Y, double *YH, double *YC) {
    int64_t S = c->seq, N = c->batch, I = c->input, H = c->hidden, G = gates_of(c->cell);
    int nd = c->direction == 2 ? 2 : 1;
    ref_act acts[6];
    ref_acts(c, acts);
    memset(Y, 0, sizeof(double) * (size_t)(S * nd * N * H));
    double *h = calloc((size_t)H, sizeof *h), *cs = calloc((size_t)H, sizeof *cs), *hn = calloc((size_t)H, sizeof *hn);
    double *rh = calloc((size_t)H, sizeof *rh);
    for (int d = 0; d < nd; d++) {
        bool rev = c->direction == 1 || d == 1;
        const float *w = W + d * G * H * I, *r = R + d * G * H * H;
        const float *wb = B ? B + d * 2 * G * H : NULL, *rb = wb ? wb + G * H : NULL;
        const float *p = P ? P + d * 3 * H : NULL;
        const ref_act *a = acts + d * per_dir(c->cell);
        for (int64_t b = 0; b < N; b++) {
            int64_t st = c->layout == 0 ? (d * N + b) * H : (b * nd + d) * H;
            for (int64_t j = 0; j < H; j++) {
                h[j] = H0 ? H0[st + j] : 0;
                cs[j] = C0 ? C0[st + j] : 0;
            }
            int64_t len = c->lens ? c->lens[b] : S;
            for (int64_t s = 0; s < len; s++) {
                int64_t t = rev ? len - 1 - s : s;
                const float *x = X + (c->layout == 0 ? t * N + b : b * S + t) * I;
#define WB(k) (wb ? (double)wb[k] : 0.0)
#define RB(k) (rb ? (double)rb[k] : 0.0)
                for (int64_t j = 0; j < H; j++) {
                    if (c->cell == RNN) {
                        hn[j] = ref_apply(&a[0], clipv(c, dot(x, w + j * I, I) + dotd(h, r + j * H, H) + WB(j) + RB(j)));
                    } else if (c->cell == LSTM) {
                        double gi = dot(x, w + j * I, I) + dotd(h, r + j * H, H) + WB(j) + RB(j) + (p ? p[j] * cs[j] : 0);
                        int64_t o = H + j, f = 2 * H + j, cc = 3 * H + j;
                        double gf = dot(x, w + f * I, I) + dotd(h, r + f * H, H) + WB(f) + RB(f) + (p ? p[2 * H + j] * cs[j] : 0);
                        double gc = dot(x, w + cc * I, I) + dotd(h, r + cc * H, H) + WB(cc) + RB(cc);
                        double iv = ref_apply(&a[0], clipv(c, gi));
                        double fv = c->input_forget ? 1 - iv : ref_apply(&a[0], clipv(c, gf));
                        double cn = fv * cs[j] + iv * ref_apply(&a[1], clipv(c, gc));
                        double go = dot(x, w + o * I, I) + dotd(h, r + o * H, H) + WB(o) + RB(o) + (p ? p[H + j] * cn : 0);
                        hn[j] = ref_apply(&a[0], clipv(c, go)) * ref_apply(&a[2], cn);
                        rh[j] = cn; /* new cell state, committed below */
                    }
                }
                if (c->cell == GRU) {
                    double z[64], rr[64];
                    cr_assert(H <= 64);
                    for (int64_t j = 0; j < H; j++) {
                        z[j] = ref_apply(&a[0], clipv(c, dot(x, w + j * I, I) + dotd(h, r + j * H, H) + WB(j) + RB(j)));
                        int64_t k = H + j;
                        rr[j] = ref_apply(&a[0], clipv(c, dot(x, w + k * I, I) + dotd(h, r + k * H, H) + WB(k) + RB(k)));
                    }
                    double rhv[64];
                    for (int64_t j = 0; j < H; j++) rhv[j] = rr[j] * h[j];
                    for (int64_t j = 0; j < H; j++) {
                        int64_t k = 2 * H + j;
                        double pre = c->lbr ? dot(x, w + k * I, I) + WB(k) + rr[j] * (dotd(h, r + k * H, H) + RB(k))
                                            : dot(x, w + k * I, I) + dotd(rhv, r + k * H, H) + RB(k) + WB(k);
                        double cand = ref_apply(&a[1], clipv(c, pre));
                        hn[j] = (1 - z[j]) * cand + z[j] * h[j];
                    }
                }
#undef WB
#undef RB
                for (int64_t j = 0; j < H; j++) {
                    h[j] = hn[j];
                    if (c->cell == LSTM) cs[j] = rh[j];
                    Y[(c->layout == 0 ? (t * nd + d) * N + b : (b * S + t) * nd + d) * H + j] = h[j];
                }
            }
            for (int64_t j = 0; j < H; j++) {
                YH[st + j] = h[j];
                if (YC) YC[st + j] = cs[j];
            }
        }
    }
    free(h), free(cs), free(hn), free(rh);
}

/* ---- the case runner ---- */

static void *as_dtype(const float *src, int64_t n, dlc_dtype t) {
    if (t == DLC_FLOAT32 || src == NULL) return (void *)src;
    void *out = malloc((size_t)(n > 0 ? n : 1) * 8);
    for (int64_t i = 0; i < n; i++) {
        if (t == DLC_FLOAT64) ((double *)out)[i] = src[i];
        else ((uint16_t *)out)[i] = dlc_f32_to_f16(src[i]);
    }
    return out;
}
static double get_out(const void *p, dlc_dtype t, int64_t i) {
    if (t == DLC_FLOAT64) return ((const double *)p)[i];
    if (t == DLC_FLOAT16) return dlc_f16_to_f32(((const uint16_t *)p)[i]);
    return ((const float *)p)[i];
}

static void run_case(const rnn_cfg *c, double tol) {
    static const char *ops[] = {"RNN", "GRU", "LSTM"};
    int64_t S = c->seq, N = c->batch, I = c->input, H = c->hidden, G = gates_of(c->cell);
    int nd = c->direction == 2 ? 2 : 1;
    dlc_dtype t = c->dtype ? c->dtype : DLC_FLOAT32;
    int ninputs = c->cell == LSTM ? 8 : 6;
    dlc_shape shapes[8];
    dlc_dtype dtypes[8];
    int64_t xdims[3] = {S, N, I}, sdims[3] = {nd, N, H};
    if (c->layout == 1) xdims[0] = N, xdims[1] = S, sdims[0] = N, sdims[1] = nd;
    shapes[0] = oph_shape(3, xdims);
    shapes[1] = oph_shape(3, (int64_t[]){nd, G * H, I});
    shapes[2] = oph_shape(3, (int64_t[]){nd, G * H, H});
    shapes[3] = oph_shape(2, (int64_t[]){nd, 2 * G * H});
    shapes[4] = oph_shape(1, (int64_t[]){N});
    shapes[5] = oph_shape(3, sdims);
    shapes[6] = oph_shape(3, sdims);
    shapes[7] = oph_shape(2, (int64_t[]){nd, 3 * H});
    bool present[8] = {true, true, true, c->bias, c->lens != NULL, c->h0, c->c0, c->peep};
    for (int i = 0; i < 8; i++) {
        dtypes[i] = i == 4 ? DLC_INT32 : t;
        if (!present[i]) shapes[i].rank = -1, dtypes[i] = DLC_DTYPE_UNDEFINED;
    }
    int nout = c->cell == LSTM ? 3 : 2;
    const char *names[3] = {c->omit_y ? "" : "y", "yh", "yc"};
    oph_case k;
    oph_begin(&k, ops[c->cell], 14, ninputs, dtypes, shapes, nout, names);
    oph_attr_int(&k, "hidden_size", H);
    oph_attr_int(&k, "layout", c->layout);
    static const char *dirs[] = {"forward", "reverse", "bidirectional"};
    oph_attr_string(&k, "direction", dirs[c->direction]);
    if (c->lbr) oph_attr_int(&k, "linear_before_reset", 1);
    if (c->input_forget) oph_attr_int(&k, "input_forget", 1);
    if (c->clip > 0) oph_attr_float(&k, "clip", c->clip);
    if (c->acts) {
        dlc_attr a = {.name = "activations", .type = DLC_ATTR_STRINGS, .strings = (char **)c->acts, .count = c->num_acts};
        cr_assert_eq(dlc_node_add_attr(k.node, &a), DLC_OK);
    }
    if (c->num_alpha) {
        dlc_attr a = {.name = "activation_alpha", .type = DLC_ATTR_FLOATS, .floats = (double *)c->alpha, .count = c->num_alpha};
        cr_assert_eq(dlc_node_add_attr(k.node, &a), DLC_OK);
    }
    if (c->num_beta) {
        dlc_attr a = {.name = "activation_beta", .type = DLC_ATTR_FLOATS, .floats = (double *)c->beta, .count = c->num_beta};
        cr_assert_eq(dlc_node_add_attr(k.node, &a), DLC_OK);
    }
    cr_assert_eq(oph_infer(&k), DLC_OK, "infer: %s", dlc_last_error());
    int64_t ysz = S * nd * N * H, ssz = nd * N * H;
    if (!c->omit_y) {
        int64_t want[4] = {S, nd, N, H};
        if (c->layout == 1) want[0] = N, want[1] = S, want[2] = nd;
        dlc_shape ws = oph_shape(4, want);
        cr_assert(dlc_shape_equal(&k.out[0]->shape, &ws), "Y shape");
    }
    float *data[8] = {0};
    int64_t sizes[8];
    for (int i = 0; i < 8; i++) sizes[i] = present[i] && i != 4 ? oph_numel(&shapes[i]) : 0;
    for (int i = 0; i < 8; i++)
        if (sizes[i]) data[i] = oph_random(sizes[i], (uint32_t)(17 * i + 3 + c->cell));
    void *inputs[8] = {0};
    for (int i = 0; i < ninputs; i++) inputs[i] = i == 4 ? (void *)c->lens : as_dtype(data[i], sizes[i], t);
    size_t esz = t == DLC_FLOAT64 ? 8 : t == DLC_FLOAT16 ? 2 : 4;
    void *outs[3] = {c->omit_y ? NULL : calloc((size_t)ysz, esz), calloc((size_t)ssz, esz), calloc((size_t)ssz, esz)};
    oph_run(&k, inputs, outs, c->threads ? c->threads : 1);
    double *Y = malloc(sizeof(double) * (size_t)ysz), *YH = malloc(sizeof(double) * (size_t)ssz),
           *YC = malloc(sizeof(double) * (size_t)ssz);
    reference(c, data[0], data[1], data[2], data[3], data[5], data[6], data[7], Y, YH, c->cell == LSTM ? YC : NULL);
    for (int o = 0; o < nout; o++) {
        if (outs[o] == NULL) continue;
        const double *want = o == 0 ? Y : o == 1 ? YH : YC;
        int64_t n = o == 0 ? ysz : ssz;
        for (int64_t i = 0; i < n; i++)
            cr_assert(fabs(get_out(outs[o], t, i) - want[i]) <= tol * (1 + fabs(want[i])),
                      "%s output %d element %lld: got %.7g, want %.7g", ops[c->cell], o, (long long)i,
                      get_out(outs[o], t, i), want[i]);
    }
    for (int i = 0; i < 8; i++) {
        if (inputs[i] != data[i] && i != 4) free(inputs[i]);
        free(data[i]);
    }
    for (int o = 0; o < 3; o++) free(outs[o]);
    free(Y), free(YH), free(YC);
    oph_end(&k);
}

static const int32_t lens3[3] = {5, 2, 0};
static const int32_t lens4[4] = {7, 3, 7, 1};

Test(rnn, every_cell_direction_and_layout) {
    for (int cell = 0; cell < 3; cell++)
        for (int dir = 0; dir < 3; dir++)
            for (int layout = 0; layout < 2; layout++) {
                rnn_cfg c = {.cell = cell, .direction = dir, .layout = layout, .seq = 5, .batch = 3, .input = 4,
                             .hidden = 6, .bias = true, .h0 = true, .c0 = true};
                run_case(&c, 1e-5);
            }
}

Test(rnn, sequence_lens_with_zero_and_full_lengths) {
    for (int cell = 0; cell < 3; cell++)
        for (int dir = 0; dir < 3; dir++)
            for (int layout = 0; layout < 2; layout++) {
                rnn_cfg c = {.cell = cell, .direction = dir, .layout = layout, .seq = 5, .batch = 3, .input = 4,
                             .hidden = 5, .bias = true, .h0 = layout == 1, .c0 = true, .lens = lens3};
                run_case(&c, 1e-5);
            }
}

Test(rnn, optional_inputs_absent) {
    for (int cell = 0; cell < 3; cell++) {
        rnn_cfg c = {.cell = cell, .seq = 3, .batch = 2, .input = 3, .hidden = 4};
        run_case(&c, 1e-5);
    }
}

Test(rnn, omitted_y_output) {
    rnn_cfg c = {.cell = LSTM, .direction = 2, .seq = 4, .batch = 2, .input = 3, .hidden = 4, .omit_y = true, .lens = NULL};
    run_case(&c, 1e-5);
}

Test(rnn, lstm_peepholes_input_forget_and_clip) {
    rnn_cfg c = {.cell = LSTM, .direction = 2, .seq = 6, .batch = 4, .input = 5, .hidden = 7, .bias = true,
                 .h0 = true, .c0 = true, .peep = true, .input_forget = true, .clip = 0.7, .lens = lens4 + 0};
    int32_t lens[4] = {6, 3, 6, 1};
    c.lens = lens;
    run_case(&c, 1e-5);
    c.input_forget = false;
    c.clip = 0;
    run_case(&c, 1e-5);
}

Test(rnn, gru_linear_before_reset) {
    for (int dir = 0; dir < 3; dir++) {
        rnn_cfg c = {.cell = GRU, .direction = dir, .layout = dir == 1, .seq = 5, .batch = 3, .input = 4,
                     .hidden = 6, .bias = true, .h0 = true, .lbr = true, .lens = lens3};
        run_case(&c, 1e-5);
    }
}

Test(rnn, custom_activations_with_alpha_beta) {
    static const char *lstm_acts[] = {"HardSigmoid", "LeakyRelu", "ScaledTanh", "Sigmoid", "Elu", "Softsign"};
    static const double alpha[] = {0.3, 0.05, 0.9, 1.3}, beta[] = {0.4, 1.1};
    rnn_cfg c = {.cell = LSTM, .direction = 2, .seq = 4, .batch = 2, .input = 3, .hidden = 5, .bias = true,
                 .acts = lstm_acts, .num_acts = 6, .alpha = alpha, .num_alpha = 4, .beta = beta, .num_beta = 2};
    run_case(&c, 1e-5);
    static const char *gru_acts[] = {"Affine", "ThresholdedRelu"};
    rnn_cfg g = {.cell = GRU, .direction = 2, .seq = 4, .batch = 2, .input = 3, .hidden = 5, .bias = true,
                 .acts = gru_acts, .num_acts = 2, .alpha = alpha, .num_alpha = 2, .beta = beta, .num_beta = 1};
    run_case(&g, 1e-5);
    static const char *rnn_acts[] = {"Relu", "Softplus"};
    rnn_cfg r = {.cell = RNN, .direction = 2, .seq = 4, .batch = 2, .input = 3, .hidden = 5, .bias = true,
                 .acts = rnn_acts, .num_acts = 2};
    run_case(&r, 1e-5);
}

Test(rnn, float64_and_float16) {
    for (int cell = 0; cell < 3; cell++) {
        rnn_cfg c = {.cell = cell, .direction = 2, .layout = 1, .seq = 5, .batch = 3, .input = 4, .hidden = 5,
                     .bias = true, .h0 = true, .c0 = true, .lens = lens3, .dtype = DLC_FLOAT64};
        run_case(&c, 1e-5);
    }
    /* float16 inputs round the data; the reference sees the float32 originals */
    rnn_cfg h = {.cell = LSTM, .seq = 3, .batch = 2, .input = 3, .hidden = 4, .bias = true, .dtype = DLC_FLOAT16};
    run_case(&h, 5e-3);
}

Test(rnn, larger_sizes_two_threads) {
    int32_t lens[5] = {9, 4, 9, 1, 6};
    for (int cell = 0; cell < 3; cell++) {
        rnn_cfg c = {.cell = cell, .direction = 2, .layout = cell == 1, .seq = 9, .batch = 5, .input = 37,
                     .hidden = 48, .bias = true, .h0 = true, .c0 = true, .lens = lens, .threads = 2};
        run_case(&c, 1e-4);
    }
}

Test(rnn, rejects_bad_shapes_and_activations) {
    dlc_dtype dt[3] = {DLC_FLOAT32, DLC_FLOAT32, DLC_FLOAT32};
    dlc_shape sh[3] = {oph_shape(3, (int64_t[]){2, 1, 3}), oph_shape(3, (int64_t[]){1, 8, 3}),
                       oph_shape(3, (int64_t[]){1, 8, 5})};
    oph_case k;
    oph_begin(&k, "LSTM", 14, 3, dt, sh, 1, NULL);
    oph_attr_int(&k, "hidden_size", 2); /* R says 5, W says 8 = 4*2 */
    cr_assert_eq(oph_infer(&k), DLC_ERR_SHAPE_MISMATCH);
    cr_assert(strstr(dlc_last_error(), "node_under_test") != NULL, "%s", dlc_last_error());
    oph_end(&k);
    oph_begin(&k, "RNN", 14, 3, dt, (dlc_shape[]){sh[0], oph_shape(3, (int64_t[]){1, 4, 3}), oph_shape(3, (int64_t[]){1, 4, 4})},
              1, NULL);
    const char *bad[] = {"Gelu"};
    dlc_attr a = {.name = "activations", .type = DLC_ATTR_STRINGS, .strings = (char **)bad, .count = 1};
    cr_assert_eq(dlc_node_add_attr(k.node, &a), DLC_OK);
    cr_assert_eq(oph_infer(&k), DLC_ERR_UNSUPPORTED);
    oph_end(&k);
}
