/* GridSample, RoiAlign (vision) and DFT, STFT, TfIdfVectorizer (signal and
 * text) run natively against independent references: the expected numbers
 * were computed with PyTorch 1.13's grid_sample, torchvision 0.14's
 * roi_align and numpy's fft (the ONNX spec defines these ops by them), and
 * TF-IDF counts by hand. Plus the attribute checks that keep the kernels in
 * bounds, refused with the node's name. */
#include "op_harness.h"

/* ---- a node over any mix of graph inputs and constants ---- */

static void begin_graph(oph_case *c) {
    memset(c, 0, sizeof *c);
    cr_assert_eq(dlc_graph_create("test", &c->g), DLC_OK);
}

static dlc_value *add_input(oph_case *c, const char *name, dlc_dtype dtype, int32_t rank, const int64_t *dims) {
    dlc_shape s = dlc_shape_make(rank, dims);
    dlc_value *v;
    cr_assert_eq(dlc_graph_add_value(c->g, name, DLC_VALUE_INPUT, dtype, &s, &v), DLC_OK);
    return v;
}

static dlc_value *add_const_i64(oph_case *c, const char *name, int64_t value) {
    dlc_shape s = {.rank = 0};
    dlc_value *v;
    cr_assert_eq(dlc_graph_add_const(c->g, name, DLC_INT64, &s, &value, sizeof value, &v), DLC_OK);
    return v;
}

static void add_node(oph_case *c, const char *op, int32_t opset, int32_t num_inputs, dlc_value **inputs) {
    dlc_shape unknown = {.rank = -1};
    cr_assert_eq(dlc_graph_add_value(c->g, "out0", DLC_VALUE_INTERMEDIATE, DLC_DTYPE_UNDEFINED, &unknown, &c->out[0]),
                 DLC_OK);
    for (int32_t i = 0; i < num_inputs; i++) c->in[i] = inputs[i];
    cr_assert_eq(dlc_graph_add_node(c->g, "node_under_test", op, "", opset, num_inputs, inputs, 1, c->out, &c->node),
                 DLC_OK);
}

/* Runs the node: graph inputs from `data` in order, constants from the graph. */
static void run_node(oph_case *c, void *const *data, void *out) {
    cr_assert_eq(oph_infer(c), DLC_OK, "%s", dlc_last_error());
    void *inputs[OPH_MAX_IO];
    int32_t next = 0;
    for (int32_t i = 0; i < c->node->num_inputs; i++) {
        dlc_value *v = c->node->inputs[i];
        inputs[i] = v == NULL ? NULL : v->kind == DLC_VALUE_CONST ? v->data : data[next++];
    }
    oph_run(c, inputs, (void *[]){out}, 2);
}

static void expect_doubles(const double *got, const double *want, int64_t n, double tol, const char *what) {
    for (int64_t i = 0; i < n; i++)
        cr_assert(fabs(got[i] - want[i]) <= tol * (1.0 + fabs(want[i])), "%s: [%lld] = %.12g, expected %.12g", what,
                  (long long)i, got[i], want[i]);
}

static void expect_refused(oph_case *c, const char *needle) {
    cr_assert_neq(oph_infer(c), DLC_OK, "accepted, expected a refusal mentioning '%s'", needle);
    cr_assert(strstr(dlc_last_error(), "node_under_test") != NULL && strstr(dlc_last_error(), needle) != NULL,
              "message '%s' should name the node and '%s'", dlc_last_error(), needle);
}

/* ---- GridSample ---- */

static const double grid_x[12] = {-1.0, -0.2, -0.2, 0.6, 1.5, 1.5, 2.7, 2.1, 3.2, 4.4, 4.0, 4.8};
/* (x, y) pairs: corners, inside, outside on either side, a rounding tie */
static const double grid_points[12] = {-1.0, -1.0, 0.3, -0.6, 1.2, 0.4, -1.7, 0.9, 0.0, 0.0, 0.95, 1.6};

static void run_grid_sample(const char *mode, const char *padding, int64_t align, double *out) {
    oph_case c;
    begin_graph(&c);
    dlc_value *x = add_input(&c, "X", DLC_FLOAT64, 4, (int64_t[]){1, 1, 3, 4});
    dlc_value *grid = add_input(&c, "grid", DLC_FLOAT64, 4, (int64_t[]){1, 2, 3, 2});
    add_node(&c, "GridSample", 16, 2, (dlc_value *[]){x, grid});
    oph_attr_string(&c, "mode", mode);
    oph_attr_string(&c, "padding_mode", padding);
    oph_attr_int(&c, "align_corners", align);
    run_node(&c, (void *[]){(void *)grid_x, (void *)grid_points}, out);
    cr_assert_eq(c.out[0]->shape.dims[2].value, 2);
    cr_assert_eq(c.out[0]->shape.dims[3].value, 3);
    oph_end(&c);
}

Test(vision_signal, grid_sample_matches_torch) {
    static const struct {
        const char *mode, *padding;
        int64_t align;
        double want[6];
    } cases[] = {
        {"bilinear", "zeros", 0, {-0.25, 0.156, 0.372, 0, 2.1, 0}},
        {"bilinear", "zeros", 1, {-1, 0.936, 2.226, 0, 2.1, 1.896}},
        {"bilinear", "border", 0, {-1, 0.156, 3.72, 3.2, 2.1, 4.8}},
        {"bilinear", "border", 1, {-1, 0.936, 3.18, 3.03, 2.1, 4.74}},
        {"bilinear", "reflection", 0, {-1, 0.156, 3.72, 4.28, 2.1, 3.72}},
        {"bilinear", "reflection", 1, {-1, 0.936, 3.192, 4.098, 2.1, 3.183}},
        {"nearest", "zeros", 0, {-1, -0.2, 0, 0, 2.7, 0}},
        {"nearest", "zeros", 1, {-1, -0.2, 2.1, 0, 2.7, 0}},
        {"nearest", "border", 0, {-1, -0.2, 4.8, 3.2, 2.7, 4.8}},
        {"nearest", "border", 1, {-1, -0.2, 2.1, 3.2, 2.7, 4.8}},
        {"nearest", "reflection", 0, {-1, -0.2, 4.8, 4.4, 2.7, 4.8}},
        {"nearest", "reflection", 1, {-1, -0.2, 2.1, 4.4, 2.7, 2.1}},
        {"bicubic", "zeros", 0, {-0.41171875, 0.08790886875, 0.3606978, -0.0156811992187, 2.15625, -0.326592}},
        {"bicubic", "zeros", 1, {-1, 0.779835675, 2.6188176, -0.110732519531, 2.15625, 2.12995832813}},
        {"bicubic", "border", 0, {-1.31640625, 0.0910704, 3.861453, 3.388540625, 2.15625, 4.8864}},
        {"bicubic", "border", 1, {-1, 0.804205875, 3.286668, 3.077475, 2.15625, 4.938109275}},
        {"bicubic", "reflection", 0, {-1.646875, 0.0910704, 3.87093, 4.82050775, 2.15625, 3.88848}},
        {"bicubic", "reflection", 1, {-1, 0.4911375, 3.5501376, 4.37399160937, 2.15625, 3.50761665}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double out[6];
        char what[64];
        run_grid_sample(cases[i].mode, cases[i].padding, cases[i].align, out);
        snprintf(what, sizeof what, "%s/%s/align %lld", cases[i].mode, cases[i].padding, (long long)cases[i].align);
        expect_doubles(out, cases[i].want, 6, 1e-9, what);
    }
}

Test(vision_signal, grid_sample_refusals) {
    oph_case c;
    begin_graph(&c);
    dlc_value *x = add_input(&c, "X", DLC_FLOAT32, 4, (int64_t[]){1, 1, 3, 4});
    dlc_value *grid = add_input(&c, "grid", DLC_FLOAT32, 4, (int64_t[]){1, 2, 3, 3});
    add_node(&c, "GridSample", 16, 2, (dlc_value *[]){x, grid});
    expect_refused(&c, "[1,2,3,3]");
    oph_end(&c);

    begin_graph(&c);
    x = add_input(&c, "X", DLC_FLOAT32, 4, (int64_t[]){1, 1, 3, 4});
    grid = add_input(&c, "grid", DLC_FLOAT32, 4, (int64_t[]){1, 2, 3, 2});
    add_node(&c, "GridSample", 16, 2, (dlc_value *[]){x, grid});
    oph_attr_string(&c, "mode", "trilinear");
    expect_refused(&c, "mode");
    oph_end(&c);
}

/* ---- RoiAlign ---- */

Test(vision_signal, roi_align_avg_matches_torchvision) {
    double x[50];
    for (int i = 0; i < 50; i++) x[i] = fmod(i * 0.37, 3.1) - 1.0;
    const double rois[8] = {0.0, 1.0, 6.0, 8.0, 2.0, 0.5, 9.0, 3.0};
    const int64_t batch[2] = {0, 0};
    /* torchvision's aligned=True is half_pixel, aligned=False output_half_pixel */
    static const struct {
        const char *ctm;
        int64_t sampling_ratio;
        double want[24];
    } cases[] = {
        {"half_pixel", 2, {0.180625, 0.504375, 0.874375, 0.705625, 0.81140625, -0.12640625, 0.893515625, 0.563359375,
                           0.824375, 0.655625, 0.76140625, -0.17640625, -0.396822916667, 0.03484375, 0.325234375,
                           0.672708333333, 1.104375, 0.648020833333, -0.159225260417, -0.01515625, 0.275234375,
                           0.723619791667, 1.054375, 0.598020833333}},
        {"half_pixel", 0, {0.134375, 0.504375, 0.874375, 0.659375, 1.029375, -0.344375, 0.95625, 0.454375, 0.824375,
                           0.609375, 0.979375, -0.394375, -0.483541666667, -0.051875, 0.2990625, 0.672708333333,
                           1.104375, 0.648020833333, -0.230807291667, -0.101875, 0.2490625, 0.723619791667, 1.054375,
                           0.598020833333}},
        {"output_half_pixel", 2, {0.469375, 0.839375, 1.209375, 0.994375, 0.4925, -0.009375, 0.4678125, 0.789375,
                                  1.159375, 0.944375, 0.4425, -0.059375, 0.626458333333, 1.021796875, 0.034453125,
                                  1.20145833333, 1.58065104167, -0.020234375, 0.576458333333, 0.971796875,
                                  -0.015546875, 1.15145833333, 1.53065104167, -0.070234375}},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        oph_case c;
        begin_graph(&c);
        dlc_value *xv = add_input(&c, "X", DLC_FLOAT64, 4, (int64_t[]){1, 2, 5, 5});
        dlc_value *rv = add_input(&c, "rois", DLC_FLOAT64, 2, (int64_t[]){2, 4});
        dlc_value *bv = add_input(&c, "batch_indices", DLC_INT64, 1, (int64_t[]){2});
        add_node(&c, "RoiAlign", 16, 3, (dlc_value *[]){xv, rv, bv});
        oph_attr_int(&c, "output_height", 2);
        oph_attr_int(&c, "output_width", 3);
        oph_attr_int(&c, "sampling_ratio", cases[k].sampling_ratio);
        oph_attr_float(&c, "spatial_scale", 0.5);
        oph_attr_string(&c, "coordinate_transformation_mode", cases[k].ctm);
        double out[24];
        run_node(&c, (void *[]){x, (void *)rois, (void *)batch}, out);
        cr_assert_eq(c.out[0]->shape.dims[0].value, 2);
        cr_assert_eq(c.out[0]->shape.dims[1].value, 2);
        expect_doubles(out, cases[k].want, 24, 1e-9, cases[k].ctm);
        oph_end(&c);
    }
}

/* Max mode on a constant image: ONNX (and ONNX Runtime) take the largest
 * weighted sample, which for c everywhere is c times the largest bilinear
 * weight; for samples on pixel centres that weight is 1. */
Test(vision_signal, roi_align_max_on_pixel_centres) {
    oph_case c;
    begin_graph(&c);
    dlc_value *xv = add_input(&c, "X", DLC_FLOAT32, 4, (int64_t[]){1, 1, 4, 4});
    dlc_value *rv = add_input(&c, "rois", DLC_FLOAT32, 2, (int64_t[]){1, 4});
    dlc_value *bv = add_input(&c, "batch_indices", DLC_INT64, 1, (int64_t[]){1});
    add_node(&c, "RoiAlign", 16, 3, (dlc_value *[]){xv, rv, bv});
    oph_attr_string(&c, "mode", "max");
    oph_attr_int(&c, "output_height", 2);
    oph_attr_int(&c, "output_width", 2);
    oph_attr_int(&c, "sampling_ratio", 1);
    /* half_pixel: roi [0.5, 4.5) shifts to [0, 4); bins of 2 sample at 1.0 and 3.0 */
    float x[16], rois[4] = {0.5f, 0.5f, 4.5f, 4.5f}, out[4];
    for (int i = 0; i < 16; i++) x[i] = (float)i;
    int64_t batch[1] = {0};
    run_node(&c, (void *[]){x, rois, batch}, out);
    const double want[4] = {5, 7, 13, 15};
    oph_expect_close(out, want, 4, 1e-6, "max");
    oph_end(&c);
}

Test(vision_signal, roi_align_refusals) {
    oph_case c;
    begin_graph(&c);
    dlc_value *xv = add_input(&c, "X", DLC_FLOAT32, 4, (int64_t[]){1, 1, 4, 4});
    dlc_value *rv = add_input(&c, "rois", DLC_FLOAT32, 2, (int64_t[]){1, 4});
    dlc_value *bv = add_input(&c, "batch_indices", DLC_INT64, 1, (int64_t[]){1});
    add_node(&c, "RoiAlign", 16, 3, (dlc_value *[]){xv, rv, bv});
    oph_attr_int(&c, "output_height", 0);
    expect_refused(&c, "output_height");
    oph_end(&c);

    begin_graph(&c);
    xv = add_input(&c, "X", DLC_FLOAT32, 4, (int64_t[]){1, 1, 4, 4});
    rv = add_input(&c, "rois", DLC_FLOAT32, 2, (int64_t[]){1, 5});
    bv = add_input(&c, "batch_indices", DLC_INT64, 1, (int64_t[]){1});
    add_node(&c, "RoiAlign", 16, 3, (dlc_value *[]){xv, rv, bv});
    expect_refused(&c, "[1,5]");
    oph_end(&c);
}

/* ---- DFT ---- */

static const double signal6[6] = {1, 2, -1, 0.5, 3, -2};

/* DFT of signal [1, n, comps] along axis 1; dft_length < 0: none given. */
static void run_dft(const double *x, int64_t n, int64_t comps, int64_t length, int64_t onesided, int64_t inverse,
                    double *out, int64_t *out_bins) {
    oph_case c;
    begin_graph(&c);
    dlc_value *xv = add_input(&c, "signal", DLC_FLOAT64, 3, (int64_t[]){1, n, comps});
    dlc_value *inputs[2] = {xv, length >= 0 ? add_const_i64(&c, "dft_length", length) : NULL};
    add_node(&c, "DFT", 17, length >= 0 ? 2 : 1, inputs);
    if (onesided) oph_attr_int(&c, "onesided", 1);
    if (inverse) oph_attr_int(&c, "inverse", 1);
    run_node(&c, (void *[]){(void *)x}, out);
    cr_assert_eq(c.out[0]->shape.dims[2].value, 2);
    *out_bins = c.out[0]->shape.dims[1].value;
    oph_end(&c);
}

Test(vision_signal, dft_matches_numpy_fft) {
    double out[16];
    int64_t bins;
    /* np.fft.fft([1, 2, -1, 0.5, 3, -2]) */
    run_dft(signal6, 6, 1, -1, 0, 0, out, &bins);
    const double fft6[12] = {3.5, 0, -0.5, 0, 0.5, -6.92820323028, 2.5, 0, 0.5, 6.92820323028, -0.5, 0};
    cr_assert_eq(bins, 6);
    expect_doubles(out, fft6, 12, 1e-10, "fft");

    /* np.fft.rfft: onesided keeps n/2 + 1 bins */
    run_dft(signal6, 6, 1, -1, 1, 0, out, &bins);
    cr_assert_eq(bins, 4);
    expect_doubles(out, fft6, 8, 1e-10, "rfft");

    /* np.fft.fft(x, 8) zero-pads, np.fft.fft(x, 4) cuts */
    run_dft(signal6, 6, 1, 8, 0, 0, out, &bins);
    const double fft8[16] = {3.5, 0, 0.474873734153, -2.18198051534, 5, 0.5, -4.47487373415, -4.18198051534,
                             2.5, 0, -4.47487373415, 4.18198051534, 5, -0.5, 0.474873734153, 2.18198051534};
    cr_assert_eq(bins, 8);
    expect_doubles(out, fft8, 16, 1e-10, "fft n=8");
    run_dft(signal6, 6, 1, 4, 0, 0, out, &bins);
    const double fft4[8] = {2.5, 0, 2, -1.5, -2.5, 0, 2, 1.5};
    cr_assert_eq(bins, 4);
    expect_doubles(out, fft4, 8, 1e-10, "fft n=4");

    /* np.fft.ifft of a complex input (re, im pairs) */
    const double z[8] = {1, 1, -0.5, 2, 0.25, -1, 3, 0};
    run_dft(z, 4, 2, -1, 0, 1, out, &bins);
    const double ifft[8] = {0.9375, 0.5, -0.3125, -0.375, -0.3125, -0.5, 0.6875, 1.375};
    expect_doubles(out, ifft, 8, 1e-12, "ifft");
}

/* axis 0 of a [2, 3, 1] signal: np.fft.fft(m, axis=0) */
Test(vision_signal, dft_along_another_axis) {
    oph_case c;
    begin_graph(&c);
    dlc_value *xv = add_input(&c, "signal", DLC_FLOAT32, 3, (int64_t[]){2, 3, 1});
    add_node(&c, "DFT", 17, 1, &xv);
    oph_attr_int(&c, "axis", 0);
    float m[6] = {1, 2, 3, 4, -5, 6}, out[12];
    run_node(&c, (void *[]){m}, out);
    const double want[12] = {5, 0, -3, 0, 9, 0, -3, 0, 7, 0, -3, 0};
    oph_expect_close(out, want, 12, 1e-6, "axis 0");
    oph_end(&c);

    begin_graph(&c);
    xv = add_input(&c, "signal", DLC_FLOAT32, 3, (int64_t[]){2, 3, 1});
    add_node(&c, "DFT", 17, 1, &xv);
    oph_attr_int(&c, "axis", 2);
    expect_refused(&c, "axis");
    oph_end(&c);

    begin_graph(&c);
    xv = add_input(&c, "signal", DLC_FLOAT32, 3, (int64_t[]){2, 3, 3});
    add_node(&c, "DFT", 17, 1, &xv);
    expect_refused(&c, "last dim");
    oph_end(&c);
}

/* ---- STFT ---- */

static const double stft_signal[10] = {0.5, -1, 2, 0.25, 1.5, -0.75, 3, 1, -2, 0.1};

Test(vision_signal, stft_windowed_frames_match_numpy) {
    oph_case c;
    begin_graph(&c);
    dlc_value *sv = add_input(&c, "signal", DLC_FLOAT64, 3, (int64_t[]){1, 10, 1});
    dlc_value *step = add_const_i64(&c, "frame_step", 3);
    dlc_value *wv = add_input(&c, "window", DLC_FLOAT64, 1, (int64_t[]){4});
    add_node(&c, "STFT", 17, 3, (dlc_value *[]){sv, step, wv});
    /* periodic Hann of 4: 0, 0.5, 1, 0.5; frames start at 0, 3, 6 */
    const double window[4] = {0.0, 0.5, 1.0, 0.5};
    double out[18];
    run_node(&c, (void *[]){(void *)stft_signal, (void *)window}, out);
    cr_assert_eq(c.out[0]->shape.rank, 4);
    cr_assert_eq(c.out[0]->shape.dims[1].value, 3);
    cr_assert_eq(c.out[0]->shape.dims[2].value, 3);
    const double want[18] = {1.625, 0, -2, 0.625, 2.375, 0, 1.5, 0, 0.75, 0.75, -3, 0, -1.45, 0, 2, -0.45, -2.55, 0};
    expect_doubles(out, want, 18, 1e-12, "stft");
    oph_end(&c);
}

/* No window, frame_length given, both sides: each frame's full fft. */
Test(vision_signal, stft_two_sided_without_window) {
    oph_case c;
    begin_graph(&c);
    dlc_value *sv = add_input(&c, "signal", DLC_FLOAT64, 3, (int64_t[]){1, 10, 1});
    dlc_value *step = add_const_i64(&c, "frame_step", 3);
    dlc_value *len = add_const_i64(&c, "frame_length", 4);
    add_node(&c, "STFT", 17, 4, (dlc_value *[]){sv, step, NULL, len});
    oph_attr_int(&c, "onesided", 0);
    double out[24];
    run_node(&c, (void *[]){(void *)stft_signal}, out);
    cr_assert_eq(c.out[0]->shape.dims[2].value, 4);
    const double want[24] = {1.75, 0, -1.5, 1.25, 3.25, 0, -1.5, -1.25, 4, 0, 1, 1.5,
                             -5, 0, 1, -1.5, 2.1, 0, 5, -0.9, -0.1, 0, 5, 0.9};
    expect_doubles(out, want, 24, 1e-12, "stft two-sided");
    oph_end(&c);
}

/* A window shorter than frame_length would be read past its end. */
Test(vision_signal, stft_refuses_mismatched_window) {
    oph_case c;
    begin_graph(&c);
    dlc_value *sv = add_input(&c, "signal", DLC_FLOAT32, 3, (int64_t[]){1, 10, 1});
    dlc_value *step = add_const_i64(&c, "frame_step", 3);
    dlc_value *wv = add_input(&c, "window", DLC_FLOAT32, 1, (int64_t[]){3});
    dlc_value *len = add_const_i64(&c, "frame_length", 4);
    add_node(&c, "STFT", 17, 4, (dlc_value *[]){sv, step, wv, len});
    expect_refused(&c, "window");
    oph_end(&c);
}

/* ---- TfIdfVectorizer ---- */

/* pool: unigrams 2, 3, 5 (indexes 0..2) and bigrams (5, 6), (3, 5)
 * (indexes 3, 4); input rows of int32 tokens. */
static void begin_tfidf(oph_case *c, const char *mode, int64_t max_gram, int64_t max_skip, int64_t rows) {
    begin_graph(c);
    dlc_value *xv = add_input(c, "tokens", DLC_INT32, 2, (int64_t[]){rows, 6});
    add_node(c, "TfIdfVectorizer", 9, 1, &xv);
    oph_attr_string(c, "mode", mode);
    oph_attr_int(c, "min_gram_length", 1);
    oph_attr_int(c, "max_gram_length", max_gram);
    oph_attr_int(c, "max_skip_count", max_skip);
    oph_attr_ints(c, "ngram_counts", 2, (int64_t[]){0, 3});
    oph_attr_ints(c, "ngram_indexes", 5, (int64_t[]){0, 1, 2, 3, 4});
    oph_attr_ints(c, "pool_int64s", 7, (int64_t[]){2, 3, 5, 5, 6, 3, 5});
}

Test(vision_signal, tfidf_counts_ngrams_and_skip_grams) {
    const int32_t tokens[12] = {2, 3, 5, 6, 2, 7, /* row 2: a skip apart */ 5, 9, 6, 3, 1, 5};
    float out[10];
    oph_case c;
    /* TF, unigrams and bigrams without skips */
    begin_tfidf(&c, "TF", 2, 0, 2);
    run_node(&c, (void *[]){(void *)tokens}, out);
    cr_assert_eq(c.out[0]->dtype, DLC_FLOAT32);
    cr_assert_eq(c.out[0]->shape.dims[1].value, 5);
    const double tf[10] = {2, 1, 1, 1, 1, /* row 2 */ 0, 1, 2, 0, 0};
    oph_expect_close(out, tf, 10, 0, "TF");
    oph_end(&c);

    /* max_skip_count 1: (5, _, 6) and (3, _, 5) now count in row 2 */
    begin_tfidf(&c, "TF", 2, 1, 2);
    run_node(&c, (void *[]){(void *)tokens}, out);
    const double tf_skip[10] = {2, 1, 1, 1, 1, 0, 1, 2, 1, 1};
    oph_expect_close(out, tf_skip, 10, 0, "TF with skips");
    oph_end(&c);

    /* unigrams only: bigram slots stay 0 */
    begin_tfidf(&c, "TF", 1, 0, 2);
    run_node(&c, (void *[]){(void *)tokens}, out);
    const double tf_uni[10] = {2, 1, 1, 0, 0, 0, 1, 2, 0, 0};
    oph_expect_close(out, tf_uni, 10, 0, "unigrams");
    oph_end(&c);
}

Test(vision_signal, tfidf_idf_and_tfidf_weights) {
    const int32_t tokens[6] = {2, 3, 5, 6, 2, 7};
    const double weights[5] = {0.5, 2.0, 3.0, 4.0, 0.25};
    dlc_attr w = {.name = "weights", .type = DLC_ATTR_FLOATS, .floats = (double *)weights, .count = 5};
    float out[5];
    oph_case c;
    begin_tfidf(&c, "IDF", 2, 0, 1);
    cr_assert_eq(dlc_node_add_attr(c.node, &w), DLC_OK);
    run_node(&c, (void *[]){(void *)tokens}, out);
    const double idf[5] = {0.5, 2.0, 3.0, 4.0, 0.25};
    oph_expect_close(out, idf, 5, 0, "IDF");
    oph_end(&c);

    begin_tfidf(&c, "TFIDF", 2, 0, 1);
    cr_assert_eq(dlc_node_add_attr(c.node, &w), DLC_OK);
    run_node(&c, (void *[]){(void *)tokens}, out);
    const double tfidf[5] = {1.0, 2.0, 3.0, 4.0, 0.25}; /* token 2 occurs twice */
    oph_expect_close(out, tfidf, 5, 0, "TFIDF");
    oph_end(&c);

    /* IDF without weights: 1 where the n-gram occurs; no bigram occurs in
     * [7, 7, 3, 2, 6, 5] */
    const int32_t sparse[6] = {7, 7, 3, 2, 6, 5};
    begin_tfidf(&c, "IDF", 2, 0, 1);
    run_node(&c, (void *[]){(void *)sparse}, out);
    const double present[5] = {1, 1, 1, 0, 0};
    oph_expect_close(out, present, 5, 0, "IDF unweighted");
    oph_end(&c);
}

/* Pools the kernel could not walk safely are refused. */
Test(vision_signal, tfidf_refuses_malformed_pools) {
    oph_case c;
    /* negative index */
    begin_graph(&c);
    dlc_value *xv = add_input(&c, "tokens", DLC_INT64, 1, (int64_t[]){4});
    add_node(&c, "TfIdfVectorizer", 9, 1, &xv);
    oph_attr_string(&c, "mode", "TF");
    oph_attr_int(&c, "max_gram_length", 1);
    oph_attr_ints(&c, "ngram_counts", 1, (int64_t[]){0});
    oph_attr_ints(&c, "ngram_indexes", 2, (int64_t[]){0, -1});
    oph_attr_ints(&c, "pool_int64s", 2, (int64_t[]){4, 5});
    expect_refused(&c, "negative");
    oph_end(&c);

    /* counts that do not cut the pool into whole bigrams */
    begin_graph(&c);
    xv = add_input(&c, "tokens", DLC_INT64, 1, (int64_t[]){4});
    add_node(&c, "TfIdfVectorizer", 9, 1, &xv);
    oph_attr_string(&c, "mode", "TF");
    oph_attr_int(&c, "max_gram_length", 2);
    oph_attr_ints(&c, "ngram_counts", 2, (int64_t[]){0, 2});
    oph_attr_ints(&c, "ngram_indexes", 3, (int64_t[]){0, 1, 2});
    oph_attr_ints(&c, "pool_int64s", 5, (int64_t[]){4, 5, 6, 7, 8});
    expect_refused(&c, "ngram_counts");
    oph_end(&c);

    /* one index per pool n-gram */
    begin_graph(&c);
    xv = add_input(&c, "tokens", DLC_INT64, 1, (int64_t[]){4});
    add_node(&c, "TfIdfVectorizer", 9, 1, &xv);
    oph_attr_string(&c, "mode", "TF");
    oph_attr_ints(&c, "ngram_counts", 1, (int64_t[]){0});
    oph_attr_ints(&c, "ngram_indexes", 1, (int64_t[]){0});
    oph_attr_ints(&c, "pool_int64s", 2, (int64_t[]){4, 5});
    expect_refused(&c, "ngram_indexes");
    oph_end(&c);

    /* an unknown mode */
    begin_graph(&c);
    xv = add_input(&c, "tokens", DLC_INT64, 1, (int64_t[]){4});
    add_node(&c, "TfIdfVectorizer", 9, 1, &xv);
    oph_attr_string(&c, "mode", "BM25");
    oph_attr_ints(&c, "ngram_counts", 1, (int64_t[]){0});
    oph_attr_ints(&c, "ngram_indexes", 2, (int64_t[]){0, 1});
    oph_attr_ints(&c, "pool_int64s", 2, (int64_t[]){4, 5});
    expect_refused(&c, "BM25");
    oph_end(&c);
}
