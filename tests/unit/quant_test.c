/* Quantization ops run natively: rounding half to even and saturation,
 * per-axis scales, DynamicQuantizeLinear's formula, integer matmuls with
 * per-row/per-column zero points and batch broadcasting, integer
 * convolutions with padding, strides, groups and per-channel weights,
 * requantization, and dtype errors. References are written out here. */
#include "op_harness.h"

static void expect_bytes(const void *got, const void *want, int64_t n, bool is_signed, const char *what) {
    for (int64_t i = 0; i < n; i++) {
        int g = is_signed ? ((const int8_t *)got)[i] : ((const uint8_t *)got)[i];
        int w = is_signed ? ((const int8_t *)want)[i] : ((const uint8_t *)want)[i];
        cr_assert_eq(g, w, "%s: element %lld is %d, expected %d", what, (long long)i, g, w);
    }
}

Test(quant, quantize_rounds_half_to_even_and_saturates) {
    float x[8] = {0.5f, 1.5f, 2.5f, -0.5f, 300.0f, -300.0f, 1.49f, -2.5f};
    float scale = 1.0f;
    dlc_dtype dt[3] = {DLC_FLOAT32, DLC_FLOAT32, DLC_UINT8};
    dlc_shape sh[3] = {oph_shape(1, (int64_t[]){8}), oph_shape(0, NULL), oph_shape(0, NULL)};
    oph_case c;
    uint8_t zp_u = 0, yu[8];
    oph_begin(&c, "QuantizeLinear", 13, 3, dt, sh, 1, NULL);
    cr_assert_eq(oph_infer(&c), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(c.out[0]->dtype, DLC_UINT8);
    oph_run(&c, (void *[]){x, &scale, &zp_u}, (void *[]){yu}, 1);
    expect_bytes(yu, (uint8_t[]){0, 2, 2, 0, 255, 0, 1, 0}, 8, false, "uint8");
    oph_end(&c);

    dt[2] = DLC_INT8;
    int8_t zp_s = -1, ys[8];
    oph_begin(&c, "QuantizeLinear", 13, 3, dt, sh, 1, NULL);
    cr_assert_eq(oph_infer(&c), DLC_OK, "%s", dlc_last_error());
    oph_run(&c, (void *[]){x, &scale, &zp_s}, (void *[]){ys}, 1);
    expect_bytes(ys, (int8_t[]){-1, 1, 1, -1, 127, -128, 0, -3}, 8, true, "int8");
    oph_end(&c);

    /* no zero point: uint8 output */
    oph_begin(&c, "QuantizeLinear", 10, 2, dt, sh, 1, NULL);
    cr_assert_eq(oph_infer(&c), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(c.out[0]->dtype, DLC_UINT8);
    scale = 2.0f;
    oph_run(&c, (void *[]){x, &scale}, (void *[]){yu}, 1);
    expect_bytes(yu, (uint8_t[]){0, 1, 1, 0, 150, 0, 1, 0}, 8, false, "no zero point");
    oph_end(&c);
}

Test(quant, per_axis_quantize_and_dequantize) {
    /* x [2,3,2], axis 1: channel c has scale s[c] and zero point z[c] */
    float x[12], s[3] = {1.0f, 0.5f, 4.0f};
    int8_t z[3] = {0, 10, -5}, q[12], want[12];
    for (int i = 0; i < 12; i++) {
        x[i] = (float)(i * 3 - 17) * 0.75f;
        int ch = (i / 2) % 3;
        float v = rintf(x[i] / s[ch]) + z[ch];
        want[i] = (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
    }
    dlc_dtype dt[3] = {DLC_FLOAT32, DLC_FLOAT32, DLC_INT8};
    dlc_shape sh[3] = {oph_shape(3, (int64_t[]){2, 3, 2}), oph_shape(1, (int64_t[]){3}), oph_shape(1, (int64_t[]){3})};
    oph_case c;
    oph_begin(&c, "QuantizeLinear", 13, 3, dt, sh, 1, NULL);
    cr_assert_eq(oph_infer(&c), DLC_OK, "%s", dlc_last_error());
    oph_run(&c, (void *[]){x, s, z}, (void *[]){q}, 1);
    expect_bytes(q, want, 12, true, "per-axis quantize");
    oph_end(&c);

    dlc_dtype dq[3] = {DLC_INT8, DLC_FLOAT32, DLC_INT8};
    oph_begin(&c, "DequantizeLinear", 13, 3, dq, sh, 1, NULL);
    cr_assert_eq(oph_infer(&c), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(c.out[0]->dtype, DLC_FLOAT32);
    float back[12];
    double expect[12];
    oph_run(&c, (void *[]){q, s, z}, (void *[]){back}, 1);
    for (int i = 0; i < 12; i++) expect[i] = (double)((q[i] - z[(i / 2) % 3]) * s[(i / 2) % 3]);
    oph_expect_close(back, expect, 12, 0, "per-axis dequantize");
    oph_end(&c);

    /* axis = -1 over the last dim, which has 2 values: 3 scales do not fit */
    oph_begin(&c, "QuantizeLinear", 13, 3, dt, sh, 1, NULL);
    oph_attr_int(&c, "axis", -1);
    cr_assert_eq(oph_infer(&c), DLC_ERR_SHAPE_MISMATCH);
    cr_assert(strstr(dlc_last_error(), "node_under_test") != NULL, "%s", dlc_last_error());
    oph_end(&c);
}

Test(quant, dequantize_int32) {
    int32_t x[4] = {-100000, 0, 7, 123456};
    float s = 0.25f, y[4];
    dlc_dtype dt[2] = {DLC_INT32, DLC_FLOAT32};
    dlc_shape sh[2] = {oph_shape(1, (int64_t[]){4}), oph_shape(0, NULL)};
    oph_case c;
    oph_begin(&c, "DequantizeLinear", 13, 2, dt, sh, 1, NULL);
    cr_assert_eq(oph_infer(&c), DLC_OK, "%s", dlc_last_error());
    oph_run(&c, (void *[]){x, &s}, (void *[]){y}, 1);
    oph_expect_close(y, (double[]){-25000, 0, 1.75, 30864}, 4, 0, "int32 dequantize");
    oph_end(&c);
}

Test(quant, dynamic_quantize_formula) {
    float inputs[3][6] = {{0, 2, -3, -2.5f, 1.34f, 0.5f}, {-1, -2.1f, -1.3f, -2.5f, -3.34f, -4}, {1, 2.1f, 1.3f, 2.5f, 3.34f, 4}};
    for (int k = 0; k < 3; k++) {
        const float *x = inputs[k];
        float lo = 0, hi = 0;
        for (int i = 0; i < 6; i++) lo = fminf(lo, x[i]), hi = fmaxf(hi, x[i]);
        float scale = (hi - lo) / 255.0f;
        float zpf = fminf(255, fmaxf(0, rintf(0 - lo / scale)));
        uint8_t want[6];
        for (int i = 0; i < 6; i++) want[i] = (uint8_t)fminf(255, fmaxf(0, rintf(x[i] / scale) + zpf));
        dlc_dtype dt[1] = {DLC_FLOAT32};
        dlc_shape sh[1] = {oph_shape(2, (int64_t[]){2, 3})};
        oph_case c;
        oph_begin(&c, "DynamicQuantizeLinear", 11, 1, dt, sh, 3, NULL);
        cr_assert_eq(oph_infer(&c), DLC_OK, "%s", dlc_last_error());
        cr_assert_eq(c.out[1]->shape.rank, 0);
        uint8_t y[6], zp;
        float got_scale;
        oph_run(&c, (void *[]){(void *)x}, (void *[]){y, &got_scale, &zp}, 1);
        cr_assert_eq(got_scale, scale);
        cr_assert_eq(zp, (uint8_t)zpf);
        expect_bytes(y, want, 6, false, "dynamic quantize");
        oph_end(&c);
    }
}

/* ---- matmuls ---- */

Test(quant, matmul_integer_per_row_and_column_zero_points_batched) {
    /* A [2,3,4] int8 with per-row zero points [3]; B [4,5] int8 with per-column [5] */
    int8_t A[24], B[20], azp[3] = {1, -2, 3}, bzp[5] = {0, 1, -1, 2, -3};
    for (int i = 0; i < 24; i++) A[i] = (int8_t)((i * 37) % 255 - 127);
    for (int i = 0; i < 20; i++) B[i] = (int8_t)((i * 53) % 251 - 125);
    dlc_dtype dt[4] = {DLC_INT8, DLC_INT8, DLC_INT8, DLC_INT8};
    dlc_shape sh[4] = {oph_shape(3, (int64_t[]){2, 3, 4}), oph_shape(2, (int64_t[]){4, 5}), oph_shape(1, (int64_t[]){3}),
                       oph_shape(1, (int64_t[]){5})};
    oph_case c;
    oph_begin(&c, "MatMulInteger", 10, 4, dt, sh, 1, NULL);
    cr_assert_eq(oph_infer(&c), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(c.out[0]->dtype, DLC_INT32);
    int32_t y[30];
    oph_run(&c, (void *[]){A, B, azp, bzp}, (void *[]){y}, 2);
    for (int b = 0; b < 2; b++)
        for (int m = 0; m < 3; m++)
            for (int n = 0; n < 5; n++) {
                int32_t acc = 0;
                for (int k = 0; k < 4; k++) acc += (A[(b * 3 + m) * 4 + k] - azp[m]) * (B[k * 5 + n] - bzp[n]);
                cr_assert_eq(y[(b * 3 + m) * 5 + n], acc, "y[%d,%d,%d]", b, m, n);
            }
    oph_end(&c);
}

Test(quant, matmul_integer_uint8_without_zero_points_1d) {
    uint8_t A[3] = {255, 1, 2}, B[6] = {255, 0, 3, 4, 5, 200};
    dlc_dtype dt[2] = {DLC_UINT8, DLC_UINT8};
    dlc_shape sh[2] = {oph_shape(1, (int64_t[]){3}), oph_shape(2, (int64_t[]){3, 2})};
    oph_case c;
    oph_begin(&c, "MatMulInteger", 10, 2, dt, sh, 1, NULL);
    cr_assert_eq(oph_infer(&c), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(c.out[0]->shape.rank, 1);
    int32_t y[2];
    oph_run(&c, (void *[]){A, B}, (void *[]){y}, 1);
    cr_assert_eq(y[0], 255 * 255 + 3 + 10);
    cr_assert_eq(y[1], 0 + 4 + 400);
    oph_end(&c);
}

Test(quant, qlinear_matmul_requantizes) {
    uint8_t a[6] = {208, 236, 0, 238, 3, 214}, b[6] = {152, 51, 244, 60, 26, 255};
    float as = 0.0066f, bs = 0.00705f, ys = 0.0107f;
    uint8_t az = 113, bz = 114, yz = 118, y[4];
    dlc_dtype dt[8] = {DLC_UINT8, DLC_FLOAT32, DLC_UINT8, DLC_UINT8, DLC_FLOAT32, DLC_UINT8, DLC_FLOAT32, DLC_UINT8};
    dlc_shape scalar = oph_shape(0, NULL);
    dlc_shape sh[8] = {oph_shape(2, (int64_t[]){2, 3}), scalar, scalar, oph_shape(2, (int64_t[]){3, 2}), scalar, scalar,
                       scalar, scalar};
    oph_case c;
    oph_begin(&c, "QLinearMatMul", 10, 8, dt, sh, 1, NULL);
    cr_assert_eq(oph_infer(&c), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(c.out[0]->dtype, DLC_UINT8);
    oph_run(&c, (void *[]){a, &as, &az, b, &bs, &bz, &ys, &yz}, (void *[]){y}, 1);
    for (int m = 0; m < 2; m++)
        for (int n = 0; n < 2; n++) {
            int32_t acc = 0;
            for (int k = 0; k < 3; k++) acc += (a[m * 3 + k] - az) * (b[k * 2 + n] - bz);
            float v = fminf(255, fmaxf(0, rintf((float)acc * (as * bs / ys)) + yz));
            cr_assert_eq(y[m * 2 + n], (uint8_t)v, "y[%d,%d]", m, n);
        }
    oph_end(&c);
}

/* ---- convolutions ---- */

/* Direct 2-D reference: x [N,C,H,W], w [M,C/g,KH,KW], stride/pad/dilation equal in both dims. */
static int32_t conv_ref(const int32_t *x, const int32_t *w, int C, int H, int W, int M, int g, int KH, int KW,
                        int stride, int pad, int dil, int n, int oc, int oy, int ox) {
    int Cg = C / g, grp = oc / (M / g);
    int32_t acc = 0;
    for (int c = 0; c < Cg; c++)
        for (int ky = 0; ky < KH; ky++)
            for (int kx = 0; kx < KW; kx++) {
                int iy = oy * stride - pad + ky * dil, ix = ox * stride - pad + kx * dil;
                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                acc += x[((n * C + grp * Cg + c) * H + iy) * W + ix] * w[((oc * Cg + c) * KH + ky) * KW + kx];
            }
    return acc;
}

Test(quant, conv_integer_groups_padding_per_channel_zero_point) {
    enum { N = 2, C = 4, H = 6, W = 5, M = 6, G = 2, K = 3, S = 2, P = 1, D = 1 };
    int OH = (H + 2 * P - D * (K - 1) - 1) / S + 1, OW = (W + 2 * P - D * (K - 1) - 1) / S + 1;
    uint8_t x[N * C * H * W], w[M * (C / G) * K * K], xz = 7, wz[M] = {1, 2, 3, 250, 5, 0};
    int32_t xi[N * C * H * W], wi[M * (C / G) * K * K];
    for (int i = 0; i < N * C * H * W; i++) x[i] = (uint8_t)((i * 29) % 256), xi[i] = x[i] - xz;
    for (int i = 0; i < M * (C / G) * K * K; i++) w[i] = (uint8_t)((i * 71) % 256), wi[i] = w[i] - wz[i / ((C / G) * K * K)];
    dlc_dtype dt[4] = {DLC_UINT8, DLC_UINT8, DLC_UINT8, DLC_UINT8};
    dlc_shape sh[4] = {oph_shape(4, (int64_t[]){N, C, H, W}), oph_shape(4, (int64_t[]){M, C / G, K, K}), oph_shape(0, NULL),
                       oph_shape(1, (int64_t[]){M})};
    oph_case c;
    oph_begin(&c, "ConvInteger", 10, 4, dt, sh, 1, NULL);
    oph_attr_int(&c, "group", G);
    oph_attr_ints(&c, "strides", 2, (int64_t[]){S, S});
    oph_attr_ints(&c, "pads", 4, (int64_t[]){P, P, P, P});
    cr_assert_eq(oph_infer(&c), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(c.out[0]->dtype, DLC_INT32);
    cr_assert_eq(c.out[0]->shape.dims[2].value, OH);
    int32_t *y = malloc(sizeof(int32_t) * N * M * OH * OW);
    oph_run(&c, (void *[]){x, w, &xz, wz}, (void *[]){y}, 2);
    for (int n = 0; n < N; n++)
        for (int oc = 0; oc < M; oc++)
            for (int oy = 0; oy < OH; oy++)
                for (int ox = 0; ox < OW; ox++)
                    cr_assert_eq(y[((n * M + oc) * OH + oy) * OW + ox],
                                 conv_ref(xi, wi, C, H, W, M, G, K, K, S, P, D, n, oc, oy, ox), "y[%d,%d,%d,%d]", n, oc,
                                 oy, ox);
    free(y);
    oph_end(&c);
}

Test(quant, qlinear_conv_per_channel_scale_and_bias) {
    enum { C = 2, H = 5, W = 5, M = 3, K = 2 };
    int OH = H - K + 1, OW = W - K + 1;
    int8_t x[C * H * W], w[M * C * K * K], xz = -3, wz = 0, yz = 5;
    int32_t xi[C * H * W], wi[M * C * K * K], bias[M] = {100, -2000, 0};
    for (int i = 0; i < C * H * W; i++) x[i] = (int8_t)((i * 41) % 256 - 128), xi[i] = x[i] - xz;
    for (int i = 0; i < M * C * K * K; i++) w[i] = (int8_t)((i * 13) % 200 - 100), wi[i] = w[i];
    float xs = 0.05f, ws[M] = {0.01f, 0.02f, 0.005f}, ys = 0.3f;
    dlc_dtype dt[9] = {DLC_INT8, DLC_FLOAT32, DLC_INT8, DLC_INT8, DLC_FLOAT32, DLC_INT8, DLC_FLOAT32, DLC_INT8, DLC_INT32};
    dlc_shape scalar = oph_shape(0, NULL);
    dlc_shape sh[9] = {oph_shape(4, (int64_t[]){1, C, H, W}), scalar, scalar, oph_shape(4, (int64_t[]){M, C, K, K}),
                       oph_shape(1, (int64_t[]){M}), scalar, scalar, scalar, oph_shape(1, (int64_t[]){M})};
    /* nine inputs: more than op_harness.h holds, so the node is built here */
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("qconv", &g), DLC_OK);
    dlc_value *in[9], *out;
    for (int i = 0; i < 9; i++) {
        char name[16];
        snprintf(name, sizeof name, "in%d", i);
        cr_assert_eq(dlc_graph_add_value(g, name, DLC_VALUE_INPUT, dt[i], &sh[i], &in[i]), DLC_OK);
    }
    dlc_shape unknown = {.rank = -1};
    cr_assert_eq(dlc_graph_add_value(g, "y", DLC_VALUE_INTERMEDIATE, DLC_DTYPE_UNDEFINED, &unknown, &out), DLC_OK);
    oph_case c = {.g = g};
    cr_assert_eq(dlc_graph_add_node(g, "qconv", "QLinearConv", "", 10, 9, in, 1, &out, &c.node), DLC_OK);
    cr_assert_eq(oph_infer(&c), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(out->dtype, DLC_INT8);
    int8_t y[M * 4 * 4];
    oph_run(&c, (void *[]){x, &xs, &xz, w, ws, &wz, &ys, &yz, bias}, (void *[]){y}, 1);
    for (int oc = 0; oc < M; oc++)
        for (int oy = 0; oy < OH; oy++)
            for (int ox = 0; ox < OW; ox++) {
                int32_t acc = conv_ref(xi, wi, C, H, W, M, 1, K, K, 1, 0, 1, 0, oc, oy, ox) + bias[oc];
                float v = fminf(127, fmaxf(-128, rintf((float)acc * (xs * ws[oc] / ys)) + yz));
                cr_assert_eq(y[(oc * OH + oy) * OW + ox], (int8_t)v, "y[%d,%d,%d]", oc, oy, ox);
            }
    oph_end(&c);
}

Test(quant, dtype_errors_name_the_node) {
    dlc_dtype dt[2] = {DLC_FLOAT32, DLC_UINT8};
    dlc_shape sh[2] = {oph_shape(2, (int64_t[]){2, 2}), oph_shape(2, (int64_t[]){2, 2})};
    oph_case c;
    oph_begin(&c, "MatMulInteger", 10, 2, dt, sh, 1, NULL);
    cr_assert_eq(oph_infer(&c), DLC_ERR_DTYPE_MISMATCH);
    cr_assert(strstr(dlc_last_error(), "node_under_test") != NULL, "%s", dlc_last_error());
    oph_end(&c);
    dlc_dtype dq[3] = {DLC_UINT8, DLC_FLOAT32, DLC_INT8};
    dlc_shape s3[3] = {sh[0], oph_shape(0, NULL), oph_shape(0, NULL)};
    oph_begin(&c, "DequantizeLinear", 13, 3, dq, s3, 1, NULL);
    cr_assert_eq(oph_infer(&c), DLC_ERR_DTYPE_MISMATCH); /* zero point int8 but x uint8 */
    oph_end(&c);
}
