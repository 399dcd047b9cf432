/* Conv and ConvTranspose: shape inference (auto_pad, output_shape,
 * output_padding), errors, and the kernels against direct-loop references
 * across groups, depthwise, dilations, strides, asymmetric pads, 1-D/2-D/3-D,
 * sizes that are not multiples of the GEMM blocks, and threads. */
#include "tests/unit/op_harness.h"

#include "ir/ops/epilogue.h"
#include "kernels/conv.h"

typedef struct conv_spec {
    int32_t nsp;
    int64_t N, C, M, group;
    int64_t in[3], k[3];
    int64_t stride[3], dil[3], pads[6]; /* pads: begins then ends */
    const char *auto_pad;               /* NULL: NOTSET with pads */
    int bias;
    int threads;
    int32_t layout; /* dlc_conv_weight_layout W is packed in (kernels/conv.h); 0: as given */
} conv_spec;

/* Direct 7-loop convolution in double; out dims and begin pads given. */
static void conv_ref(const conv_spec *s, const int64_t *out, const int64_t *pad_begin, const float *x, const float *w,
                     const float *b, double *y) {
    int64_t in3[3] = {1, 1, 1}, k3[3] = {1, 1, 1}, o3[3] = {1, 1, 1}, st3[3] = {1, 1, 1}, d3[3] = {1, 1, 1}, p3[3] = {0};
    for (int i = 0; i < s->nsp; i++) {
        int j = 3 - s->nsp + i;
        in3[j] = s->in[i], k3[j] = s->k[i], o3[j] = out[i], st3[j] = s->stride[i], d3[j] = s->dil[i], p3[j] = pad_begin[i];
    }
    int64_t Cg = s->C / s->group, Mg = s->M / s->group;
    for (int64_t n = 0; n < s->N; n++)
        for (int64_t m = 0; m < s->M; m++)
            for (int64_t oz = 0; oz < o3[0]; oz++)
                for (int64_t oy = 0; oy < o3[1]; oy++)
                    for (int64_t ox = 0; ox < o3[2]; ox++) {
                        double sum = b ? b[m] : 0.0;
                        for (int64_t c = 0; c < Cg; c++)
                            for (int64_t kz = 0; kz < k3[0]; kz++)
                                for (int64_t ky = 0; ky < k3[1]; ky++)
                                    for (int64_t kx = 0; kx < k3[2]; kx++) {
                                        int64_t iz = oz * st3[0] - p3[0] + kz * d3[0];
                                        int64_t iy = oy * st3[1] - p3[1] + ky * d3[1];
                                        int64_t ix = ox * st3[2] - p3[2] + kx * d3[2];
                                        if (iz < 0 || iz >= in3[0] || iy < 0 || iy >= in3[1] || ix < 0 || ix >= in3[2]) continue;
                                        int64_t ic = (m / Mg) * Cg + c;
                                        sum += (double)x[(((n * s->C + ic) * in3[0] + iz) * in3[1] + iy) * in3[2] + ix] *
                                               w[(((m * Cg + c) * k3[0] + kz) * k3[1] + ky) * k3[2] + kx];
                                    }
                        y[(((n * s->M + m) * o3[0] + oz) * o3[1] + oy) * o3[2] + ox] = sum;
                    }
}

/* Output size and begin pad the ONNX rules give for one dim. */
static void expected_dim(const conv_spec *s, int i, int64_t *out, int64_t *pad_begin) {
    int64_t span = (s->k[i] - 1) * s->dil[i] + 1;
    if (s->auto_pad && strncmp(s->auto_pad, "SAME", 4) == 0) {
        *out = (s->in[i] + s->stride[i] - 1) / s->stride[i];
        int64_t total = (*out - 1) * s->stride[i] + span - s->in[i];
        if (total < 0) total = 0;
        *pad_begin = strcmp(s->auto_pad, "SAME_UPPER") == 0 ? total / 2 : total - total / 2;
    } else if (s->auto_pad && strcmp(s->auto_pad, "VALID") == 0) {
        *out = (s->in[i] - span) / s->stride[i] + 1;
        *pad_begin = 0;
    } else {
        *out = (s->in[i] + s->pads[i] + s->pads[s->nsp + i] - span) / s->stride[i] + 1;
        *pad_begin = s->pads[i];
    }
}

static void check_conv(conv_spec s) {
    for (int i = 0; i < s.nsp; i++) {
        if (s.stride[i] == 0) s.stride[i] = 1;
        if (s.dil[i] == 0) s.dil[i] = 1;
    }
    int64_t xd[5] = {s.N, s.C}, wd[5] = {s.M, s.C / s.group}, yd[5] = {s.N, s.M}, out[3], pb[3];
    for (int i = 0; i < s.nsp; i++) {
        xd[2 + i] = s.in[i];
        wd[2 + i] = s.k[i];
        expected_dim(&s, i, &out[i], &pb[i]);
        yd[2 + i] = out[i];
    }
    dlc_dtype dt[3] = {DLC_FLOAT32, DLC_FLOAT32, DLC_FLOAT32};
    dlc_shape shapes[3] = {oph_shape(2 + s.nsp, xd), oph_shape(2 + s.nsp, wd), oph_shape(1, &s.M)};
    oph_case c;
    oph_begin(&c, "Conv", 11, s.bias ? 3 : 2, dt, shapes, 1, NULL);
    oph_attr_int(&c, "group", s.group);
    oph_attr_ints(&c, "strides", s.nsp, s.stride);
    oph_attr_ints(&c, "dilations", s.nsp, s.dil);
    if (s.auto_pad) oph_attr_string(&c, "auto_pad", s.auto_pad);
    else oph_attr_ints(&c, "pads", 2 * s.nsp, s.pads);
    cr_assert_eq(oph_infer(&c), DLC_OK, "%s", dlc_last_error());
    dlc_shape want = oph_shape(2 + s.nsp, yd);
    cr_assert(dlc_shape_equal(&c.out[0]->shape, &want), "conv output shape (dim2 %lld vs %lld)",
              (long long)c.out[0]->shape.dims[2].value, (long long)yd[2]);
    int64_t yn = oph_numel(&want);
    float *x = oph_random(oph_numel(&shapes[0]), 11), *w = oph_random(oph_numel(&shapes[1]), 12);
    float *b = oph_random(s.M, 13), *y = malloc((size_t)yn * sizeof *y);
    double *ref = malloc((size_t)yn * sizeof *ref);
    conv_ref(&s, out, pb, x, w, s.bias ? b : NULL, ref);
    float *packed = NULL;
    if (s.layout != DLC_CONV_W_PLAIN) {
        /* the kernel on W as the prepack-weights pass stores it */
        int64_t nr = s.M % 32 == 0 ? 32 : 16, K = oph_numel(&shapes[1]) / s.M, layout_nr[2] = {s.layout, nr};
        packed = malloc((size_t)(s.M * K) * sizeof *packed);
        dlc_conv_pack_weights(s.layout, s.M, K, w, nr, packed);
        oph_attr_ints(&c, DLC_ATTR_PACKED_W, 2, layout_nr);
    }
    void *ins[3] = {x, packed != NULL ? packed : w, b}, *outs[1] = {y};
    oph_run(&c, ins, outs, s.threads ? s.threads : 1);
    oph_expect_close(y, ref, yn, 1e-4, "conv");
    free(x), free(w), free(b), free(y), free(ref), free(packed);
    oph_end(&c);
}

Test(conv, two_d_pads_strides_dilations) {
    check_conv((conv_spec){2, 1, 3, 4, 1, {8, 8}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, NULL, 1, 1});
    check_conv((conv_spec){2, 2, 3, 5, 1, {11, 9}, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}, NULL, 0, 2});
    check_conv((conv_spec){2, 1, 4, 6, 1, {13, 12}, {3, 2}, {1, 2}, {2, 3}, {0, 1, 2, 1}, NULL, 1, 1});
    check_conv((conv_spec){2, 1, 2, 3, 1, {7, 10}, {5, 1}, {3, 1}, {1, 1}, {2, 0, 0, 3}, NULL, 1, 2});
}

Test(conv, auto_pad_variants) {
    const char *modes[3] = {"SAME_UPPER", "SAME_LOWER", "VALID"};
    for (int i = 0; i < 3; i++) {
        check_conv((conv_spec){2, 1, 3, 4, 1, {9, 10}, {4, 3}, {2, 3}, {1, 1}, {0}, modes[i], 1, 1});
        check_conv((conv_spec){2, 1, 3, 4, 1, {8, 8}, {3, 3}, {1, 1}, {2, 1}, {0}, modes[i], 0, 2});
    }
}

Test(conv, groups_and_depthwise) {
    check_conv((conv_spec){2, 2, 6, 4, 2, {9, 7}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, NULL, 1, 2});
    check_conv((conv_spec){2, 1, 12, 9, 3, {6, 6}, {3, 3}, {2, 1}, {1, 1}, {1, 0, 1, 2}, NULL, 1, 1});
    /* depthwise, with and without a channel multiplier */
    check_conv((conv_spec){2, 2, 8, 8, 8, {10, 11}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, NULL, 1, 2});
    check_conv((conv_spec){2, 1, 4, 8, 4, {9, 9}, {5, 3}, {2, 2}, {2, 1}, {2, 1, 0, 1}, NULL, 1, 1});
    check_conv((conv_spec){2, 1, 5, 5, 5, {7, 13}, {3, 3}, {1, 3}, {1, 2}, {0}, "SAME_UPPER", 0, 2});
}

/* ---- depthwise 3x3 and 5x5 (the direct path for MobileNet's and DeepLabV3's
 * convs, kernels/conv.c) ---- */

typedef struct dw3_spec {
    int64_t N, C, mult; /* mult: output channels per input channel */
    int64_t in[2], stride[2], pads[4];
    int bias, residual;
    const char *act; /* NULL, "Relu", "Clip" (to [-0.5, 0.75]), "LeakyRelu" (0.1) or "Sigmoid" */
    int threads;
    int64_t k, dil; /* window and dilation, both axes; 0: 3 and 1 */
} dw3_spec;

static double dw3_activate(const char *act, double v) {
    if (act == NULL) return v;
    if (strcmp(act, "Relu") == 0) return v < 0 ? 0 : v;
    if (strcmp(act, "Clip") == 0) return v < -0.5 ? -0.5 : v > 0.75 ? 0.75 : v;
    if (strcmp(act, "LeakyRelu") == 0) return v < 0 ? 0.1 * v : v;
    return 1.0 / (1.0 + exp(-v));
}

/* A depthwise conv as fuse-epilogue leaves it (bias, residual input 3,
 * activation attributes) against the reference plus the epilogue in double. */
static void check_depthwise3x3(dw3_spec s) {
    int64_t k = s.k > 0 ? s.k : 3, dil = s.dil > 0 ? s.dil : 1;
    conv_spec cs = {2, s.N, s.C, s.C * s.mult, s.C, {s.in[0], s.in[1]}, {k, k}, {s.stride[0], s.stride[1]}, {dil, dil},
                    {s.pads[0], s.pads[1], s.pads[2], s.pads[3]}, NULL, s.bias, s.threads};
    int64_t M = cs.M, out[2], pb[2];
    for (int i = 0; i < 2; i++) expected_dim(&cs, i, &out[i], &pb[i]);
    int64_t xd[4] = {s.N, s.C, s.in[0], s.in[1]}, wd[4] = {M, 1, k, k}, yd[4] = {s.N, M, out[0], out[1]};
    dlc_dtype dt[4] = {DLC_FLOAT32, DLC_FLOAT32, s.bias ? DLC_FLOAT32 : DLC_DTYPE_UNDEFINED, DLC_FLOAT32};
    dlc_shape shapes[4] = {oph_shape(4, xd), oph_shape(4, wd), s.bias ? oph_shape(1, &M) : (dlc_shape){.rank = -1},
                           oph_shape(4, yd)};
    oph_case c;
    oph_begin(&c, "Conv", 11, s.residual ? 4 : s.bias ? 3 : 2, dt, shapes, 1, NULL);
    oph_attr_int(&c, "group", s.C);
    oph_attr_ints(&c, "strides", 2, s.stride);
    oph_attr_ints(&c, "pads", 4, s.pads);
    int64_t dils[2] = {dil, dil};
    oph_attr_ints(&c, "dilations", 2, dils);
    if (s.residual || s.act != NULL) oph_attr_string(&c, DLC_EPILOGUE_ATTR, s.residual ? "Add" : "Act");
    if (s.act != NULL) oph_attr_string(&c, DLC_ACTIVATION_ATTR, s.act);
    double params[2] = {-0.5, 0.75};
    if (s.act != NULL && strcmp(s.act, "LeakyRelu") == 0) params[0] = 0.1;
    int32_t n_params = s.act == NULL ? 0 : strcmp(s.act, "Clip") == 0 ? 2 : strcmp(s.act, "LeakyRelu") == 0 ? 1 : 0;
    if (n_params > 0) {
        dlc_attr a = {.name = DLC_ACTIVATION_PARAMS_ATTR, .type = DLC_ATTR_FLOATS, .floats = params, .count = n_params};
        cr_assert_eq(dlc_node_add_attr(c.node, &a), DLC_OK);
    }
    cr_assert_eq(oph_infer(&c), DLC_OK, "%s", dlc_last_error());
    int64_t yn = oph_numel(&shapes[3]);
    float *x = oph_random(oph_numel(&shapes[0]), 21), *w = oph_random(k * k * M, 22), *b = oph_random(M, 23);
    float *r = oph_random(yn, 24), *y = malloc((size_t)yn * sizeof *y);
    double *ref = malloc((size_t)yn * sizeof *ref);
    conv_ref(&cs, out, pb, x, w, s.bias ? b : NULL, ref);
    for (int64_t i = 0; i < yn; i++) ref[i] = dw3_activate(s.act, ref[i] + (s.residual ? r[i] : 0.0));
    for (int64_t i = 0; i < yn; i++) y[i] = NAN;
    void *ins[4] = {x, w, b, r}, *outs[1] = {y};
    oph_run(&c, ins, outs, s.threads);
    char what[160];
    snprintf(what, sizeof what, "depthwise %dx%d dilation %d, %dx%d map, strides %d %d, pads %d %d %d %d, %s",
             (int)k, (int)k, (int)dil, (int)s.in[0], (int)s.in[1], (int)s.stride[0], (int)s.stride[1], (int)s.pads[0],
             (int)s.pads[1], (int)s.pads[2], (int)s.pads[3], s.act != NULL ? s.act : "no activation");
    oph_expect_close(y, ref, yn, 1e-5, what);
    free(x), free(w), free(b), free(r), free(y), free(ref);
    oph_end(&c);
}

Test(conv, depthwise3x3_map_sizes_and_strides) {
    /* MobileNet's maps (7, 14 and 28 wide: one vector and a partial one per
     * row), odd sizes, stride 2 on even and odd inputs, rows wider than two
     * vectors, single rows and columns, and the blocks of output rows ending
     * inside a plane */
    int64_t sizes[][2] = {{7, 7}, {14, 14}, {13, 13}, {28, 28}, {1, 9}, {9, 1}, {1, 1}, {2, 3}, {5, 37}, {37, 40}, {16, 16}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        for (int64_t st = 1; st <= 2; st++) {
            dw3_spec s = {1, 5, 1, {sizes[i][0], sizes[i][1]}, {st, st}, {1, 1, 1, 1}, 1, 0, "Clip", 1};
            check_depthwise3x3(s);
            s.pads[0] = s.pads[1] = s.pads[2] = s.pads[3] = 0;
            if (s.in[0] >= 3 && s.in[1] >= 3) check_depthwise3x3(s);
        }
    /* strides and pads differing by axis, asymmetric and 2-wide pads */
    check_depthwise3x3((dw3_spec){1, 3, 1, {11, 12}, {1, 2}, {1, 0, 0, 1}, 1, 0, NULL, 1});
    check_depthwise3x3((dw3_spec){1, 3, 1, {12, 11}, {2, 1}, {0, 1, 1, 1}, 0, 0, "Relu", 1});
    check_depthwise3x3((dw3_spec){1, 3, 1, {10, 9}, {1, 1}, {2, 2, 2, 2}, 1, 0, NULL, 1});
    check_depthwise3x3((dw3_spec){1, 3, 1, {10, 9}, {2, 2}, {2, 1, 2, 2}, 1, 0, "Relu", 1});
}

Test(conv, depthwise3x3_epilogues_and_threads) {
    const char *acts[] = {NULL, "Relu", "Clip", "LeakyRelu", "Sigmoid"};
    for (int a = 0; a < 5; a++)
        for (int residual = 0; residual <= 1; residual++) {
            check_depthwise3x3((dw3_spec){2, 6, 1, {14, 14}, {1, 1}, {1, 1, 1, 1}, 1, residual, acts[a], 3});
            check_depthwise3x3((dw3_spec){1, 7, 1, {13, 21}, {2, 2}, {1, 1, 1, 1}, 0, residual, acts[a], 1});
            check_depthwise3x3((dw3_spec){1, 4, 1, {7, 7}, {1, 1}, {1, 1, 1, 1}, 1, residual, acts[a], 1});
        }
    /* larger maps on three threads, and a channel multiplier */
    check_depthwise3x3((dw3_spec){1, 8, 1, {56, 56}, {2, 2}, {1, 1, 1, 1}, 1, 0, "Clip", 3});
    check_depthwise3x3((dw3_spec){1, 8, 1, {45, 50}, {1, 1}, {1, 1, 1, 1}, 1, 1, "Relu", 3});
    check_depthwise3x3((dw3_spec){2, 3, 2, {9, 10}, {1, 1}, {1, 1, 1, 1}, 1, 1, "Clip", 2});
    check_depthwise3x3((dw3_spec){1, 3, 3, {9, 10}, {2, 2}, {1, 1, 1, 1}, 0, 0, NULL, 1});
}

/* 5x5 windows (MobileNet-V3's) and dilation 2 (DeepLabV3's atrous 5x5 on
 * 33x33): "same" pads as wide as the window's reach and none, single rows and
 * columns, maps down to 1x1 (taps reading only padding), odd widths and rows
 * wider than two vectors, at both strides */
Test(conv, depthwise5x5_and_dilated_map_sizes_and_strides) {
    int64_t sizes[][2] = {{1, 1}, {1, 9}, {9, 1}, {2, 3}, {7, 7}, {13, 13}, {14, 14}, {5, 37}, {33, 33}, {40, 45}, {17, 31}};
    int64_t windows[][2] = {{5, 1}, {5, 2}, {3, 2}}; /* k, dilation */
    for (size_t w = 0; w < sizeof windows / sizeof windows[0]; w++) {
        int64_t k = windows[w][0], dil = windows[w][1], reach = (k - 1) * dil;
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
            for (int64_t st = 1; st <= 2; st++) {
                int64_t p = reach / 2;
                dw3_spec s = {1, 3, 1, {sizes[i][0], sizes[i][1]}, {st, st}, {p, p, p, p}, 1, 0, "Clip", 1, k, dil};
                check_depthwise3x3(s);
                s.pads[0] = s.pads[1] = s.pads[2] = s.pads[3] = 0;
                if (s.in[0] > reach && s.in[1] > reach) check_depthwise3x3(s);
                s.pads[0] = s.pads[1] = s.pads[2] = s.pads[3] = reach; /* as wide as the path takes */
                check_depthwise3x3(s);
            }
    }
    /* strides and pads differing by axis, asymmetric pads */
    check_depthwise3x3((dw3_spec){1, 3, 1, {11, 12}, {1, 2}, {2, 1, 0, 2}, 1, 0, NULL, 1, 5, 1});
    check_depthwise3x3((dw3_spec){1, 3, 1, {12, 11}, {2, 1}, {0, 2, 2, 1}, 0, 0, "Relu", 1, 5, 1});
    check_depthwise3x3((dw3_spec){1, 3, 1, {10, 19}, {2, 2}, {3, 0, 1, 4}, 1, 0, NULL, 1, 5, 1});
    check_depthwise3x3((dw3_spec){1, 3, 1, {15, 17}, {1, 2}, {4, 3, 1, 4}, 1, 0, NULL, 1, 5, 2});
    check_depthwise3x3((dw3_spec){1, 3, 1, {17, 15}, {2, 1}, {3, 4, 4, 2}, 1, 0, "Relu", 1, 5, 2});
    check_depthwise3x3((dw3_spec){1, 3, 1, {12, 13}, {1, 1}, {1, 0, 2, 3}, 1, 0, NULL, 1, 5, 2});
    check_depthwise3x3((dw3_spec){1, 3, 1, {9, 10}, {2, 2}, {0, 2, 1, 0}, 0, 0, "Clip", 1, 3, 2});
    /* begin pads wider than the reach: the generic loop */
    check_depthwise3x3((dw3_spec){1, 2, 1, {8, 9}, {1, 1}, {5, 5, 5, 5}, 1, 0, NULL, 1, 5, 1});
    check_depthwise3x3((dw3_spec){1, 2, 1, {8, 9}, {1, 1}, {9, 9, 9, 9}, 1, 0, NULL, 1, 5, 2});
}

Test(conv, depthwise5x5_and_dilated_epilogues_and_threads) {
    const char *acts[] = {NULL, "Relu", "Clip", "LeakyRelu", "Sigmoid"};
    for (int a = 0; a < 5; a++)
        for (int residual = 0; residual <= 1; residual++) {
            check_depthwise3x3((dw3_spec){2, 6, 1, {14, 14}, {1, 1}, {2, 2, 2, 2}, 1, residual, acts[a], 3, 5, 1});
            check_depthwise3x3((dw3_spec){1, 7, 1, {13, 21}, {2, 2}, {2, 2, 2, 2}, 0, residual, acts[a], 1, 5, 1});
            check_depthwise3x3((dw3_spec){1, 4, 1, {11, 12}, {1, 1}, {4, 4, 4, 4}, 1, residual, acts[a], 3, 5, 2});
            check_depthwise3x3((dw3_spec){1, 4, 1, {7, 7}, {1, 1}, {2, 2, 2, 2}, 1, residual, acts[a], 1, 3, 2});
        }
    /* DeepLabV3's maps on three threads, and channel multipliers */
    check_depthwise3x3((dw3_spec){1, 8, 1, {33, 33}, {1, 1}, {4, 4, 4, 4}, 1, 0, "Relu", 3, 5, 2});
    check_depthwise3x3((dw3_spec){1, 6, 1, {65, 65}, {1, 1}, {2, 2, 2, 2}, 1, 1, "Clip", 3, 5, 1});
    check_depthwise3x3((dw3_spec){1, 4, 1, {130, 130}, {2, 2}, {2, 2, 2, 2}, 1, 0, "Relu", 3, 5, 1});
    check_depthwise3x3((dw3_spec){2, 3, 2, {9, 10}, {1, 1}, {4, 4, 4, 4}, 1, 1, "Clip", 2, 5, 2});
    check_depthwise3x3((dw3_spec){1, 3, 3, {9, 10}, {2, 2}, {2, 2, 2, 2}, 0, 0, NULL, 1, 5, 1});
}

Test(conv, pointwise_and_large_reductions) {
    check_conv((conv_spec){2, 2, 37, 19, 1, {7, 9}, {1, 1}, {1, 1}, {1, 1}, {0, 0, 0, 0}, NULL, 1, 2});
    check_conv((conv_spec){2, 1, 16, 8, 1, {9, 9}, {1, 1}, {2, 2}, {1, 1}, {0, 0, 0, 0}, NULL, 1, 1});
    /* K = 64 * 9 > KC and output planes not multiples of the tile */
    check_conv((conv_spec){2, 1, 64, 33, 1, {15, 14}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, NULL, 1, 2});
}

Test(conv, narrow_feature_maps_take_the_narrow_tile) {
    /* 4x4 maps: N = 16 output pixels picks the 12 x 16 tile; M > MC and not
     * a multiple of 12, K = 40 * 9 > KC; padded copies of the input in both
     * thread counts, with a stride, asymmetric pads and a dilation */
    check_conv((conv_spec){2, 1, 40, 130, 1, {4, 4}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, NULL, 1, 1});
    check_conv((conv_spec){2, 2, 40, 130, 1, {4, 4}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, NULL, 0, 2});
    check_conv((conv_spec){2, 1, 24, 50, 1, {8, 9}, {3, 3}, {2, 2}, {1, 2}, {1, 0, 2, 3}, NULL, 1, 2});
    check_conv((conv_spec){3, 1, 6, 14, 2, {5, 4, 6}, {3, 2, 3}, {1, 2, 1}, {2, 1, 1}, {2, 1, 1, 1, 0, 2}, NULL, 1, 2});
}

Test(conv, one_and_three_dimensional) {
    check_conv((conv_spec){1, 2, 3, 4, 1, {17}, {4}, {2}, {2}, {1, 2}, NULL, 1, 1});
    check_conv((conv_spec){1, 1, 4, 4, 4, {20}, {3}, {1}, {1}, {0}, "SAME_LOWER", 1, 1});
    check_conv((conv_spec){3, 1, 2, 3, 1, {5, 6, 7}, {3, 2, 3}, {1, 2, 1}, {1, 1, 2}, {1, 0, 1, 0, 1, 2}, NULL, 1, 2});
    check_conv((conv_spec){3, 2, 4, 4, 2, {4, 5, 4}, {2, 2, 2}, {1, 1, 1}, {1, 1, 1}, {0}, "VALID", 0, 1});
}

Test(conv, float64_direct_path) {
    int64_t xd[4] = {1, 2, 5, 5}, wd[4] = {3, 2, 3, 3};
    dlc_dtype dt[2] = {DLC_FLOAT64, DLC_FLOAT64};
    dlc_shape shapes[2] = {oph_shape(4, xd), oph_shape(4, wd)};
    oph_case c;
    oph_begin(&c, "Conv", 11, 2, dt, shapes, 1, NULL);
    oph_attr_ints(&c, "pads", 4, (int64_t[]){1, 1, 1, 1});
    cr_assert_eq(oph_infer(&c), DLC_OK, "%s", dlc_last_error());
    double x[50], w[54], y[75];
    float xf[50], wf[54];
    for (int i = 0; i < 50; i++) xf[i] = (float)(x[i] = (i % 7) - 3);
    for (int i = 0; i < 54; i++) wf[i] = (float)(w[i] = (i % 5) - 2);
    void *ins[2] = {x, w}, *outs[1] = {y};
    oph_run(&c, ins, outs, 1);
    conv_spec s = {2, 1, 2, 3, 1, {5, 5}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, NULL, 0, 1};
    double ref[75];
    conv_ref(&s, (int64_t[]){5, 5}, (int64_t[]){1, 1}, xf, wf, NULL, ref);
    for (int i = 0; i < 75; i++) cr_assert_eq(y[i], ref[i]);
    oph_end(&c);
}

Test(conv, channel_mismatch_names_node_and_both_shapes) {
    int64_t xd[4] = {1, 3, 8, 8}, wd[4] = {4, 2, 3, 3};
    dlc_dtype dt[2] = {DLC_FLOAT32, DLC_FLOAT32};
    dlc_shape shapes[2] = {oph_shape(4, xd), oph_shape(4, wd)};
    oph_case c;
    oph_begin(&c, "Conv", 11, 2, dt, shapes, 1, NULL);
    cr_assert_eq(oph_infer(&c), DLC_ERR_SHAPE_MISMATCH);
    const char *msg = dlc_last_error();
    cr_assert(strstr(msg, "node_under_test") && strstr(msg, "[1,3,8,8]") && strstr(msg, "[4,2,3,3]"), "message: %s", msg);
    oph_end(&c);
}

/* ---- ConvTranspose ------------------------------------------------------------------ */

typedef struct convt_spec {
    int32_t nsp;
    int64_t N, C, M, group;
    int64_t in[3], k[3], stride[3], dil[3], pads[6], out_pad[3];
    int64_t want_out[3];
    int64_t want_pad_begin[3];
    int bias;
} convt_spec;

/* Scatter form: every input element adds x * w to the outputs it reaches. */
static void convt_ref(const convt_spec *s, const float *x, const float *w, const float *b, double *y) {
    int64_t in3[3] = {1, 1, 1}, k3[3] = {1, 1, 1}, o3[3] = {1, 1, 1}, st3[3] = {1, 1, 1}, d3[3] = {1, 1, 1}, p3[3] = {0};
    for (int i = 0; i < s->nsp; i++) {
        int j = 3 - s->nsp + i;
        in3[j] = s->in[i], k3[j] = s->k[i], o3[j] = s->want_out[i], st3[j] = s->stride[i] ? s->stride[i] : 1;
        d3[j] = s->dil[i] ? s->dil[i] : 1, p3[j] = s->want_pad_begin[i];
    }
    int64_t Cg = s->C / s->group, Mg = s->M / s->group, op = o3[0] * o3[1] * o3[2];
    for (int64_t n = 0; n < s->N; n++)
        for (int64_t m = 0; m < s->M; m++)
            for (int64_t o = 0; o < op; o++) y[(n * s->M + m) * op + o] = b ? b[m] : 0.0;
    for (int64_t n = 0; n < s->N; n++)
        for (int64_t ic = 0; ic < s->C; ic++)
            for (int64_t iz = 0; iz < in3[0]; iz++)
                for (int64_t iy = 0; iy < in3[1]; iy++)
                    for (int64_t ix = 0; ix < in3[2]; ix++) {
                        double xv = x[(((n * s->C + ic) * in3[0] + iz) * in3[1] + iy) * in3[2] + ix];
                        int64_t gi = ic / Cg;
                        for (int64_t m = 0; m < Mg; m++)
                            for (int64_t kz = 0; kz < k3[0]; kz++)
                                for (int64_t ky = 0; ky < k3[1]; ky++)
                                    for (int64_t kx = 0; kx < k3[2]; kx++) {
                                        int64_t oz = iz * st3[0] - p3[0] + kz * d3[0];
                                        int64_t oy = iy * st3[1] - p3[1] + ky * d3[1];
                                        int64_t ox = ix * st3[2] - p3[2] + kx * d3[2];
                                        if (oz < 0 || oz >= o3[0] || oy < 0 || oy >= o3[1] || ox < 0 || ox >= o3[2]) continue;
                                        double wv = w[(((ic * Mg + m) * k3[0] + kz) * k3[1] + ky) * k3[2] + kx];
                                        y[(n * s->M + gi * Mg + m) * op + (oz * o3[1] + oy) * o3[2] + ox] += xv * wv;
                                    }
                    }
}

static void check_convt(convt_spec s, const char *auto_pad, const int64_t *output_shape, int threads) {
    int64_t xd[5] = {s.N, s.C}, wd[5] = {s.C, s.M / s.group}, yd[5] = {s.N, s.M};
    for (int i = 0; i < s.nsp; i++) {
        xd[2 + i] = s.in[i];
        wd[2 + i] = s.k[i];
        yd[2 + i] = s.want_out[i];
    }
    dlc_dtype dt[3] = {DLC_FLOAT32, DLC_FLOAT32, DLC_FLOAT32};
    dlc_shape shapes[3] = {oph_shape(2 + s.nsp, xd), oph_shape(2 + s.nsp, wd), oph_shape(1, &s.M)};
    oph_case c;
    oph_begin(&c, "ConvTranspose", 11, s.bias ? 3 : 2, dt, shapes, 1, NULL);
    oph_attr_int(&c, "group", s.group);
    int64_t ones[3] = {1, 1, 1};
    oph_attr_ints(&c, "strides", s.nsp, s.stride[0] ? s.stride : ones);
    oph_attr_ints(&c, "dilations", s.nsp, s.dil[0] ? s.dil : ones);
    oph_attr_ints(&c, "pads", 2 * s.nsp, s.pads);
    oph_attr_ints(&c, "output_padding", s.nsp, s.out_pad);
    if (auto_pad) oph_attr_string(&c, "auto_pad", auto_pad);
    if (output_shape) oph_attr_ints(&c, "output_shape", s.nsp, output_shape);
    cr_assert_eq(oph_infer(&c), DLC_OK, "%s", dlc_last_error());
    dlc_shape want = oph_shape(2 + s.nsp, yd);
    cr_assert(dlc_shape_equal(&c.out[0]->shape, &want), "conv_transpose output shape: dim2 %lld, expected %lld",
              (long long)c.out[0]->shape.dims[2].value, (long long)yd[2]);
    int64_t yn = oph_numel(&want);
    float *x = oph_random(oph_numel(&shapes[0]), 21), *w = oph_random(oph_numel(&shapes[1]), 22);
    float *b = oph_random(s.M, 23), *y = malloc((size_t)yn * sizeof *y);
    double *ref = malloc((size_t)yn * sizeof *ref);
    convt_ref(&s, x, w, s.bias ? b : NULL, ref);
    void *ins[3] = {x, w, b}, *outs[1] = {y};
    oph_run(&c, ins, outs, threads);
    oph_expect_close(y, ref, yn, 1e-4, "conv_transpose");
    /* the generic (non-float32) path computes the same in float64 */
    free(x), free(w), free(b), free(y), free(ref);
    oph_end(&c);
}

Test(conv_transpose, strides_pads_output_padding_groups) {
    /* out = s*(in-1) + out_pad + (k-1)*d + 1 - pads */
    check_convt((convt_spec){2, 1, 2, 3, 1, {4, 5}, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}, {1, 0}, {8, 9}, {1, 1}, 1}, NULL,
                NULL, 1);
    check_convt((convt_spec){2, 2, 4, 6, 2, {5, 3}, {3, 2}, {3, 2}, {1, 2}, {0, 1, 2, 0}, {0, 1}, {13, 7}, {0, 1}, 1},
                NULL, NULL, 2);
    check_convt((convt_spec){2, 1, 3, 2, 1, {3, 3}, {2, 2}, {1, 1}, {2, 2}, {0}, {0}, {5, 5}, {0, 0}, 0}, NULL, NULL, 1);
    check_convt((convt_spec){1, 1, 3, 4, 1, {7}, {4}, {2}, {1}, {1, 2}, {1}, {14}, {1}, 1}, NULL, NULL, 2);
    /* many channels: the GEMM runs over several K slices */
    check_convt((convt_spec){2, 1, 300, 8, 1, {6, 6}, {4, 4}, {2, 2}, {1, 1}, {1, 1, 1, 1}, {0}, {12, 12}, {1, 1}, 1},
                NULL, NULL, 2);
}

Test(conv_transpose, output_shape_and_auto_pad) {
    /* ONNX's test_convtranspose_output_shape: the extra row/col goes at the end */
    check_convt((convt_spec){2, 1, 1, 2, 1, {3, 3}, {3, 3}, {3, 2}, {1, 1}, {0}, {0}, {10, 8}, {0, 0}, 0}, NULL,
                (int64_t[]){10, 8}, 1);
    /* test_convtranspose_autopad_same: SAME_UPPER, stride 2 -> out = in * 2, total pad 1 at the end */
    check_convt((convt_spec){2, 1, 1, 2, 1, {3, 3}, {3, 3}, {2, 2}, {1, 1}, {0}, {0}, {6, 6}, {0, 0}, 0}, "SAME_UPPER",
                NULL, 1);
    check_convt((convt_spec){2, 1, 1, 2, 1, {3, 3}, {3, 3}, {2, 2}, {1, 1}, {0}, {0}, {6, 6}, {1, 1}, 1}, "SAME_LOWER",
                NULL, 2);
}

Test(conv_transpose, float16_matches_float32_reference) {
    int64_t xd[4] = {1, 2, 3, 3}, wd[4] = {2, 1, 2, 2};
    dlc_dtype dt[2] = {DLC_FLOAT16, DLC_FLOAT16};
    dlc_shape shapes[2] = {oph_shape(4, xd), oph_shape(4, wd)};
    oph_case c;
    oph_begin(&c, "ConvTranspose", 11, 2, dt, shapes, 1, NULL);
    oph_attr_ints(&c, "strides", 2, (int64_t[]){2, 2});
    cr_assert_eq(oph_infer(&c), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(c.out[0]->shape.dims[2].value, 6);
    float xf[18], wf[8];
    uint16_t x[18], w[8], y[36];
    for (int i = 0; i < 18; i++) x[i] = dlc_f32_to_f16(xf[i] = (float)(i % 5) - 2.0f);
    for (int i = 0; i < 8; i++) w[i] = dlc_f32_to_f16(wf[i] = 0.5f * (float)(i % 3));
    void *ins[2] = {x, w}, *outs[1] = {y};
    oph_run(&c, ins, outs, 1);
    convt_spec s = {2, 1, 2, 1, 1, {3, 3}, {2, 2}, {2, 2}, {1, 1}, {0}, {0}, {6, 6}, {0, 0}, 0};
    double ref[36];
    convt_ref(&s, xf, wf, NULL, ref);
    for (int i = 0; i < 36; i++) cr_assert_eq(dlc_f16_to_f32(y[i]), (float)ref[i]);
    oph_end(&c);
}

/* W packed at compile time: the direct loop (partial tiles of 1-7 pixels,
 * stride 2, dilation, asymmetric pads, unpadded, 1-D, two images, blocks
 * of 32 and of 16 channels) and the
 * pixel-major GEMM (1x1 at stride 1 and 2, a 3x3 window through im2col),
 * natively so that sanitizer builds check every read. */
Test(conv, packed_weight_layouts) {
    const int32_t direct = DLC_CONV_W_DIRECT, pixel = DLC_CONV_W_PIXEL_MAJOR;
    check_conv((conv_spec){2, 2, 5, 64, 1, {9, 11}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, NULL, 1, 1, direct});
    check_conv((conv_spec){2, 1, 7, 32, 1, {13, 12}, {3, 3}, {2, 2}, {1, 1}, {1, 0, 2, 1}, NULL, 0, 2, direct});
    check_conv((conv_spec){2, 1, 3, 64, 1, {21, 19}, {7, 7}, {2, 2}, {1, 1}, {3, 3, 3, 3}, NULL, 1, 3, direct});
    check_conv((conv_spec){2, 1, 4, 32, 1, {12, 12}, {3, 3}, {1, 1}, {2, 2}, {0, 0, 0, 0}, NULL, 1, 1, direct});
    check_conv((conv_spec){2, 1, 33, 32, 1, {4, 4}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, NULL, 1, 2, direct});
    check_conv((conv_spec){1, 2, 6, 32, 1, {17}, {5}, {1}, {1}, {2, 2}, NULL, 1, 2, direct});
    /* blocks of 16 channels */
    check_conv((conv_spec){2, 2, 3, 16, 1, {10, 13}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, NULL, 1, 2, direct});
    check_conv((conv_spec){2, 1, 5, 48, 1, {9, 9}, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}, NULL, 1, 1, direct});
    check_conv((conv_spec){2, 2, 40, 64, 1, {7, 7}, {1, 1}, {1, 1}, {1, 1}, {0, 0, 0, 0}, NULL, 1, 2, pixel});
    check_conv((conv_spec){2, 1, 24, 32, 1, {9, 9}, {1, 1}, {2, 2}, {1, 1}, {0, 0, 0, 0}, NULL, 0, 1, pixel});
    check_conv((conv_spec){2, 1, 8, 64, 1, {5, 6}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, NULL, 1, 3, pixel});
}

/* Stride-2 3x3 convs on inputs past 2 MiB run in slabs (each thread pads
 * its own rows and runs every block of output channels on them) whatever
 * the weights' size: with weights under and over the 768 KiB of the
 * stride-1 rule, 1 and 3 threads. */
Test(conv, strided_conv_on_a_large_input_runs_in_slabs) {
    const int32_t direct = DLC_CONV_W_DIRECT;
    check_conv((conv_spec){2, 1, 64, 32, 1, {96, 96}, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}, NULL, 1, 1, direct});
    check_conv((conv_spec){2, 1, 64, 32, 1, {97, 95}, {3, 3}, {2, 2}, {1, 1}, {1, 1, 0, 1}, NULL, 1, 3, direct});
    check_conv((conv_spec){2, 1, 128, 192, 1, {64, 64}, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}, NULL, 1, 3, direct});
}

/* Atrous convs with dilations as large as the map (DeepLab's ASPP: 24 and
 * 36 on 33x33): the direct kernel skips the taps that read only padding for
 * a whole tile (direct_live_taps), down to the centre tap alone. Tiles in
 * one row and across rows, strides, asymmetric pads, a 1-D conv, 1 and 3
 * threads; each against the reference. */
Test(conv, direct_skips_taps_that_read_only_padding) {
    const int32_t direct = DLC_CONV_W_DIRECT;
    check_conv((conv_spec){2, 1, 5, 32, 1, {11, 11}, {3, 3}, {1, 1}, {12, 12}, {12, 12, 12, 12}, NULL, 1, 1, direct});
    check_conv((conv_spec){2, 1, 5, 32, 1, {13, 13}, {3, 3}, {1, 1}, {8, 8}, {8, 8, 8, 8}, NULL, 1, 3, direct});
    check_conv((conv_spec){2, 2, 4, 64, 1, {4, 5}, {3, 3}, {1, 1}, {3, 2}, {3, 2, 3, 2}, NULL, 0, 2, direct});
    check_conv((conv_spec){2, 1, 3, 32, 1, {17, 15}, {3, 3}, {2, 2}, {6, 5}, {6, 5, 7, 4}, NULL, 1, 3, direct});
    check_conv((conv_spec){2, 1, 3, 16, 1, {9, 20}, {5, 3}, {1, 1}, {4, 9}, {8, 9, 8, 9}, NULL, 1, 1, direct});
    check_conv((conv_spec){1, 1, 6, 32, 1, {23}, {3}, {1}, {10}, {10, 10}, NULL, 1, 2, direct});
}
