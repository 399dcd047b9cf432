/* Elementwise ops: inference (dtypes, broadcast shapes, symbolic dims,
 * errors naming the node) and their kernels run natively against plain
 * reference values. */
#include "ew_test_util.h"

#include "kernels/dlc_kernel.h"

TestSuite(elementwise, .init = t_setup, .fini = t_teardown);

static dlc_node *binary(const char *op, int32_t opset, dlc_value *a, dlc_value *b) {
    dlc_value *ins[2] = {a, b};
    return t_node(op, opset, 2, ins);
}
static dlc_node *unary(const char *op, int32_t opset, dlc_value *x) { return t_node(op, opset, 1, &x); }

Test(elementwise, add_same_shape_and_broadcast_rows) {
    dlc_value *a = t_input("a", DLC_FLOAT32, 2, (int64_t[]){2, 3});
    dlc_value *b = t_input("b", DLC_FLOAT32, 1, (int64_t[]){3});
    dlc_node *n = binary("Add", 14, a, b);
    t_infer_ok(n);
    cr_assert_eq(n->outputs[0]->dtype, DLC_FLOAT32);
    t_expect_shape(n->outputs[0], 2, (int64_t[]){2, 3});
    float x[6] = {1, 2, 3, 4, 5, 6}, y[3] = {10, 20, 30}, out[6];
    t_run(n, (void *[]){x, y}, (void *[]){out});
    t_expect_floats(out, (float[]){11, 22, 33, 14, 25, 36}, 6, 0);
}

Test(elementwise, broadcast_both_sides_and_rank0) {
    dlc_value *a = t_input("a", DLC_FLOAT32, 3, (int64_t[]){2, 1, 3});
    dlc_value *b = t_input("b", DLC_FLOAT32, 2, (int64_t[]){4, 1});
    dlc_node *n = binary("Mul", 14, a, b);
    t_infer_ok(n);
    t_expect_shape(n->outputs[0], 3, (int64_t[]){2, 4, 3});
    float x[6] = {1, 2, 3, 4, 5, 6}, y[4] = {1, 10, 100, 1000}, out[24], want[24];
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 4; j++)
            for (int k = 0; k < 3; k++) want[(i * 4 + j) * 3 + k] = x[i * 3 + k] * y[j];
    t_run(n, (void *[]){x, y}, (void *[]){out});
    t_expect_floats(out, want, 24, 0);

    dlc_value *s = t_input("s", DLC_FLOAT32, 0, NULL);
    dlc_node *m = binary("Sub", 14, s, a);
    t_infer_ok(m);
    t_expect_shape(m->outputs[0], 3, (int64_t[]){2, 1, 3});
    float scalar = 10, out2[6];
    t_run(m, (void *[]){&scalar, x}, (void *[]){out2});
    t_expect_floats(out2, (float[]){9, 8, 7, 6, 5, 4}, 6, 0);
}

Test(elementwise, bad_broadcast_names_the_node_and_shapes) {
    dlc_value *a = t_input("a", DLC_FLOAT32, 2, (int64_t[]){2, 3});
    dlc_value *b = t_input("b", DLC_FLOAT32, 1, (int64_t[]){4});
    dlc_node *n = binary("Add", 14, a, b);
    cr_assert_eq(t_infer(n), DLC_ERR_SHAPE_MISMATCH);
    cr_assert(strstr(dlc_last_error(), "Add_node") != NULL, "%s", dlc_last_error());
    cr_assert(strstr(dlc_last_error(), "[2,3]") != NULL, "%s", dlc_last_error());
}

Test(elementwise, dtype_errors) {
    dlc_value *a = t_input("a", DLC_FLOAT32, 1, (int64_t[]){3});
    dlc_value *b = t_input("b", DLC_INT32, 1, (int64_t[]){3});
    cr_assert_eq(t_infer(binary("Add", 14, a, b)), DLC_ERR_DTYPE_MISMATCH);
    cr_assert(strstr(dlc_last_error(), "Add_node") != NULL, "%s", dlc_last_error());
    dlc_value *s = t_input("s", DLC_STRING, 1, (int64_t[]){3});
    cr_assert_eq(t_infer(unary("Relu", 14, s)), DLC_ERR_UNSUPPORTED);
    dlc_node *c = unary("Cast", 13, a);
    t_attr_int(c, "to", DLC_STRING);
    cr_assert_eq(t_infer(c), DLC_ERR_UNSUPPORTED);
    cr_assert(strstr(dlc_last_error(), "Cast_node") != NULL, "%s", dlc_last_error());
    dlc_value *fi = t_input("fi", DLC_FLOAT32, 1, (int64_t[]){3});
    cr_assert_eq(t_infer(binary("Mod", 13, a, fi)), DLC_ERR_INVALID_ARGUMENT); /* float Mod needs fmod=1 */
}

Test(elementwise, symbolic_dims_propagate) {
    int32_t batch;
    cr_assert_eq(dlc_graph_symbol(t_graph, "batch", &batch), DLC_OK);
    dlc_shape s = {.rank = 2, .dims = {{-1, batch}, {3, 0}}};
    dlc_value *a;
    cr_assert_eq(dlc_graph_add_value(t_graph, "a", DLC_VALUE_INPUT, DLC_FLOAT32, &s, &a), DLC_OK);
    dlc_value *b = t_input("b", DLC_FLOAT32, 2, (int64_t[]){1, 3});
    dlc_node *n = binary("Add", 14, a, b);
    t_infer_ok(n);
    cr_assert_eq(n->outputs[0]->shape.rank, 2);
    cr_assert_eq(n->outputs[0]->shape.dims[0].value, -1);
    cr_assert_eq(n->outputs[0]->shape.dims[0].sym, batch);
    dlc_node *r = unary("Sigmoid", 13, n->outputs[0]);
    t_infer_ok(r);
    cr_assert_eq(r->outputs[0]->shape.dims[0].sym, batch);
}

Test(elementwise, empty_tensors) {
    dlc_value *a = t_input("a", DLC_FLOAT32, 2, (int64_t[]){0, 3});
    dlc_value *b = t_input("b", DLC_FLOAT32, 1, (int64_t[]){3});
    dlc_node *n = binary("Add", 14, a, b);
    t_infer_ok(n);
    t_expect_shape(n->outputs[0], 2, (int64_t[]){0, 3});
    float y[3] = {1, 2, 3}, dummy[1] = {0};
    t_run(n, (void *[]){dummy, y}, (void *[]){dummy});
    dlc_node *u = unary("Exp", 13, a);
    t_infer_ok(u);
    t_run(u, (void *[]){dummy}, (void *[]){dummy});
}

Test(elementwise, integer_arithmetic_wraps_and_truncates) {
    dlc_value *a = t_input("a", DLC_INT8, 1, (int64_t[]){4});
    dlc_value *b = t_input("b", DLC_INT8, 1, (int64_t[]){4});
    int8_t x[4] = {127, -128, 100, -7}, y[4] = {1, -1, 3, 2}, out[4];
    dlc_node *add = binary("Add", 14, a, b);
    t_infer_ok(add);
    t_run(add, (void *[]){x, y}, (void *[]){out});
    cr_assert_arr_eq(out, ((int8_t[]){-128, 127, 103, -5}), 4);
    dlc_node *mul = binary("Mul", 14, a, b);
    t_infer_ok(mul);
    t_run(mul, (void *[]){x, y}, (void *[]){out});
    cr_assert_arr_eq(out, ((int8_t[]){127, -128, 44, -14}), 4); /* 300 wraps to 44, -128*-1 to -128 */
    dlc_node *div = binary("Div", 14, a, b);
    t_infer_ok(div);
    t_run(div, (void *[]){x, y}, (void *[]){out});
    cr_assert_arr_eq(out, ((int8_t[]){127, -128, 33, -3}), 4); /* -7/2 truncates */

    dlc_value *c = t_input("c", DLC_INT32, 1, (int64_t[]){5});
    dlc_value *d = t_input("d", DLC_INT32, 1, (int64_t[]){5});
    int32_t u[5] = {-7, 7, -7, 7, 5}, v[5] = {2, -2, -2, 2, 0}, r[5];
    dlc_node *mod = binary("Mod", 13, c, d);
    t_infer_ok(mod);
    t_run(mod, (void *[]){u, v}, (void *[]){r});
    cr_assert_arr_eq(r, ((int32_t[]){1, -1, -1, 1, 0}), 5 * sizeof(int32_t));
    dlc_node *fmod = binary("Mod", 13, c, d);
    t_attr_int(fmod, "fmod", 1);
    t_infer_ok(fmod);
    t_run(fmod, (void *[]){u, v}, (void *[]){r});
    cr_assert_arr_eq(r, ((int32_t[]){-1, 1, -1, 1, 0}), 5 * sizeof(int32_t));
    dlc_node *idiv = binary("Div", 13, c, d);
    t_infer_ok(idiv);
    t_run(idiv, (void *[]){u, v}, (void *[]){r});
    cr_assert_arr_eq(r, ((int32_t[]){-3, -3, 3, 3, 0}), 5 * sizeof(int32_t)); /* x/0 defined as 0 */

    dlc_value *e = t_input("e", DLC_INT64, 1, (int64_t[]){2});
    int64_t big[2] = {INT64_MAX, INT64_MIN}, one[2] = {1, -1}, r64[2];
    dlc_value *f = t_input("f", DLC_INT64, 1, (int64_t[]){2});
    dlc_node *add64 = binary("Add", 14, e, f);
    t_infer_ok(add64);
    t_run(add64, (void *[]){big, one}, (void *[]){r64});
    cr_assert_eq(r64[0], INT64_MIN);
    cr_assert_eq(r64[1], INT64_MAX);
    dlc_node *div64 = binary("Div", 14, e, f);
    t_infer_ok(div64);
    t_run(div64, (void *[]){big, one}, (void *[]){r64});
    cr_assert_eq(r64[1], INT64_MIN); /* INT64_MIN / -1 wraps instead of trapping */
}

Test(elementwise, unsigned_ops_and_bitshift) {
    dlc_value *a = t_input("a", DLC_UINT64, 1, (int64_t[]){3});
    dlc_value *b = t_input("b", DLC_UINT64, 1, (int64_t[]){3});
    uint64_t x[3] = {UINT64_MAX, 10, 1}, y[3] = {2, 3, 64}, out[3];
    dlc_node *div = binary("Div", 14, a, b);
    t_infer_ok(div);
    t_run(div, (void *[]){x, y}, (void *[]){out});
    cr_assert_eq(out[0], UINT64_MAX / 2);
    dlc_node *shl = binary("BitShift", 11, a, b);
    t_attr_string(shl, "direction", "LEFT");
    t_infer_ok(shl);
    t_run(shl, (void *[]){x, y}, (void *[]){out});
    cr_assert_eq(out[0], UINT64_MAX << 2);
    cr_assert_eq(out[1], 80u);
    cr_assert_eq(out[2], 0u);
    dlc_node *shr = binary("BitShift", 11, a, b);
    t_attr_string(shr, "direction", "RIGHT");
    t_infer_ok(shr);
    t_run(shr, (void *[]){x, y}, (void *[]){out});
    cr_assert_eq(out[0], UINT64_MAX >> 2);
    dlc_node *gt = binary("Greater", 13, a, b);
    t_infer_ok(gt);
    cr_assert_eq(gt->outputs[0]->dtype, DLC_BOOL);
    uint8_t flags[3];
    t_run(gt, (void *[]){x, y}, (void *[]){flags});
    cr_assert_arr_eq(flags, ((uint8_t[]){1, 1, 0}), 3);

    dlc_value *c = t_input("c", DLC_UINT8, 1, (int64_t[]){2});
    dlc_value *d = t_input("d", DLC_UINT8, 1, (int64_t[]){2});
    uint8_t p[2] = {200, 1}, q[2] = {1, 9}, r[2];
    dlc_node *shl8 = binary("BitShift", 11, c, d);
    t_attr_string(shl8, "direction", "LEFT");
    t_infer_ok(shl8);
    t_run(shl8, (void *[]){p, q}, (void *[]){r});
    cr_assert_arr_eq(r, ((uint8_t[]){144, 0}), 2);
    dlc_node *bn = unary("BitwiseNot", 18, c);
    t_infer_ok(bn);
    t_run(bn, (void *[]){p}, (void *[]){r});
    cr_assert_arr_eq(r, ((uint8_t[]){55, 254}), 2);
}

Test(elementwise, nan_semantics) {
    dlc_value *a = t_input("a", DLC_FLOAT32, 1, (int64_t[]){4});
    dlc_value *b = t_input("b", DLC_FLOAT32, 1, (int64_t[]){4});
    float x[4] = {NAN, 1, 2, -1}, y[4] = {1, NAN, 3, -2}, out[4];
    dlc_value *ins[2] = {a, b};
    dlc_node *mx = t_node("Max", 13, 2, ins);
    t_infer_ok(mx);
    t_run(mx, (void *[]){x, y}, (void *[]){out});
    t_expect_floats(out, (float[]){NAN, NAN, 3, -1}, 4, 0);
    dlc_node *mn = t_node("Min", 13, 2, ins);
    t_infer_ok(mn);
    t_run(mn, (void *[]){x, y}, (void *[]){out});
    t_expect_floats(out, (float[]){NAN, NAN, 2, -2}, 4, 0);
    dlc_node *relu = unary("Relu", 14, a);
    t_infer_ok(relu);
    t_run(relu, (void *[]){x}, (void *[]){out});
    t_expect_floats(out, (float[]){NAN, 1, 2, 0}, 4, 0);
    dlc_node *isnan_node = unary("IsNaN", 13, a);
    t_infer_ok(isnan_node);
    cr_assert_eq(isnan_node->outputs[0]->dtype, DLC_BOOL);
    uint8_t flags[4];
    t_run(isnan_node, (void *[]){x}, (void *[]){flags});
    cr_assert_arr_eq(flags, ((uint8_t[]){1, 0, 0, 0}), 4);
    float z[4] = {INFINITY, -INFINITY, NAN, 0};
    dlc_node *isinf_node = unary("IsInf", 10, a);
    t_attr_int(isinf_node, "detect_negative", 0);
    t_infer_ok(isinf_node);
    t_run(isinf_node, (void *[]){z}, (void *[]){flags});
    cr_assert_arr_eq(flags, ((uint8_t[]){1, 0, 0, 0}), 4);
}

Test(elementwise, round_half_to_even_and_sign) {
    dlc_value *a = t_input("a", DLC_FLOAT32, 1, (int64_t[]){7});
    float x[7] = {0.5f, 1.5f, 2.5f, -0.5f, -2.5f, 2.4f, -2.6f}, out[7];
    dlc_node *r = unary("Round", 11, a);
    t_infer_ok(r);
    t_run(r, (void *[]){x}, (void *[]){out});
    t_expect_floats(out, (float[]){0, 2, 2, -0.0f, -2, 2, -3}, 7, 0);
    dlc_node *s = unary("Sign", 13, a);
    t_infer_ok(s);
    t_run(s, (void *[]){x}, (void *[]){out});
    t_expect_floats(out, (float[]){1, 1, 1, -1, -1, 1, -1}, 7, 0);
}

Test(elementwise, activations_match_reference) {
    dlc_value *a = t_input("a", DLC_FLOAT32, 1, (int64_t[]){6});
    float x[6] = {-100, -2, -0.5f, 0, 0.7f, 100}, out[6], want[6];
    struct { const char *op; int opset; } ops[] = {{"Sigmoid", 13}, {"Softplus", 1}, {"Gelu", 20}, {"Tanh", 13},
                                                   {"Elu", 6}, {"Selu", 6}, {"HardSigmoid", 6}, {"HardSwish", 14},
                                                   {"Mish", 18}, {"Softsign", 1}, {"Celu", 12}, {"LeakyRelu", 16}};
    for (size_t o = 0; o < sizeof ops / sizeof ops[0]; o++) {
        dlc_node *n = unary(ops[o].op, ops[o].opset, a);
        t_infer_ok(n);
        t_run(n, (void *[]){x}, (void *[]){out});
        for (int i = 0; i < 6; i++) {
            double v = x[i], sp = log1p(exp(-fabs(v))) + (v > 0 ? v : 0);
            switch (o) {
            case 0: want[i] = (float)(1 / (1 + exp(-v))); break;
            case 1: want[i] = (float)sp; break;
            case 2: want[i] = (float)(0.5 * v * (1 + erf(v / sqrt(2.0)))); break;
            case 3: want[i] = (float)tanh(v); break;
            case 4: want[i] = (float)(v < 0 ? exp(v) - 1 : v); break;
            case 5: want[i] = (float)(1.0507009873554805 * (v <= 0 ? 1.6732632423543772 * (exp(v) - 1) : v)); break;
            case 6: want[i] = (float)fmax(0, fmin(1, 0.2 * v + 0.5)); break;
            case 7: want[i] = (float)(v * fmax(0, fmin(1, v / 6 + 0.5))); break;
            case 8: want[i] = (float)(v * tanh(sp)); break;
            case 9: want[i] = (float)(v / (1 + fabs(v))); break;
            case 10: want[i] = (float)(fmax(0, v) + fmin(0, exp(v) - 1)); break;
            default: want[i] = (float)(v < 0 ? 0.01 * v : v); break;
            }
        }
        cr_assert(isfinite(out[0]) && isfinite(out[5]), "%s overflowed", ops[o].op);
        t_expect_floats(out, want, 6, 1e-6f);
    }
    dlc_node *g = unary("Gelu", 20, a);
    t_attr_string(g, "approximate", "tanh");
    t_infer_ok(g);
    t_run(g, (void *[]){x}, (void *[]){out});
    for (int i = 0; i < 6; i++) {
        double v = x[i];
        want[i] = (float)(0.5 * v * (1 + tanh(sqrt(2 / M_PI) * (v + 0.044715 * v * v * v))));
    }
    t_expect_floats(out, want, 6, 1e-6f);
}

/* float Erf is a rational approximation (kernels/elementwise_unary.c), not
 * libm's erff: within 5e-7 of the exact value everywhere, relatively close
 * near 0, exactly +-1 far out, and NaN, infinities and -0 as erf has them. */
Test(elementwise, float_erf_approximation_is_within_5e7) {
    enum { N = 120001, S = 6 };
    dlc_value *a = t_input("a", DLC_FLOAT32, 1, (int64_t[]){N + S});
    float *x = malloc((N + S) * sizeof *x), *out = malloc((N + S) * sizeof *out);
    cr_assert(x != NULL && out != NULL);
    for (int i = 0; i < N; i++) x[i] = -6.0f + 12.0f * (float)i / (N - 1);
    float special[S] = {NAN, INFINITY, -INFINITY, -0.0f, 1e-30f, -3e-4f};
    for (int i = 0; i < S; i++) x[N + i] = special[i];
    dlc_node *n = unary("Erf", 13, a);
    t_infer_ok(n);
    t_run(n, (void *[]){x}, (void *[]){out});
    double worst = 0;
    for (int i = 0; i < N; i++) {
        double want = erf((double)x[i]), err = fabs(out[i] - want);
        if (err > worst) worst = err;
        cr_assert(err <= 5e-7, "erf(%.9g) = %.9g, want %.9g", x[i], out[i], want);
        if (fabs(x[i]) < 0.5f && x[i] != 0)
            cr_assert(err <= 1e-6 * fabs(want), "erf(%.9g) = %.9g, relative error above 1e-6", x[i], out[i]);
        if (fabs(x[i]) >= 4.0f) cr_assert_eq(fabsf(out[i]), 1.0f, "erf(%.9g) = %.9g", x[i], out[i]);
    }
    cr_assert(worst > 0, "the grid exercises the approximation");
    cr_assert(isnan(out[N]));
    cr_assert_eq(out[N + 1], 1.0f);
    cr_assert_eq(out[N + 2], -1.0f);
    cr_assert(out[N + 3] == 0 && signbit(out[N + 3]), "erf(-0) = -0");
    cr_assert(fabs(out[N + 4] - 1.1283791670955126e-30) <= 1e-36);
    cr_assert(fabs(out[N + 5] - erf(-3e-4)) <= 1e-6 * fabs(erf(-3e-4)));
    free(x);
    free(out);
}

Test(elementwise, float16_and_bfloat16_round_on_store) {
    dlc_value *a = t_input("a", DLC_FLOAT16, 1, (int64_t[]){3});
    dlc_value *b = t_input("b", DLC_FLOAT16, 1, (int64_t[]){3});
    /* 1 + 2^-11 is halfway between float16 1 and 1+2^-10: ties to even (1) */
    uint16_t x[3] = {dlc_f32_to_f16(1.0f), dlc_f32_to_f16(1.0f), dlc_f32_to_f16(65504.0f)};
    uint16_t y[3] = {dlc_f32_to_f16(0.00048828125f), dlc_f32_to_f16(0.00146484375f), dlc_f32_to_f16(65504.0f)};
    uint16_t out[3];
    dlc_node *n = binary("Add", 14, a, b);
    t_infer_ok(n);
    cr_assert_eq(n->outputs[0]->dtype, DLC_FLOAT16);
    t_run(n, (void *[]){x, y}, (void *[]){out});
    cr_assert_eq(dlc_f16_to_f32(out[0]), 1.0f);
    cr_assert_eq(dlc_f16_to_f32(out[1]), 1.0f + 0.001953125f); /* 1+1.5*2^-10 ties up to 1+2^-9 */
    cr_assert(isinf(dlc_f16_to_f32(out[2])));

    dlc_value *c = t_input("c", DLC_BFLOAT16, 1, (int64_t[]){2});
    uint16_t bx[2] = {dlc_f32_to_bf16(1.0f), dlc_f32_to_bf16(-2.0f)}, bout[2];
    dlc_node *m = binary("Mul", 14, c, c);
    t_infer_ok(m);
    t_run(m, (void *[]){bx, bx}, (void *[]){bout});
    cr_assert_eq(dlc_bf16_to_f32(bout[0]), 1.0f);
    cr_assert_eq(dlc_bf16_to_f32(bout[1]), 4.0f);
}

Test(elementwise, cast_between_dtypes) {
    dlc_value *a = t_input("a", DLC_FLOAT32, 1, (int64_t[]){6});
    float x[6] = {1.5f, -2.7f, NAN, 300.0f, 65520.0f, 0.0f};
    dlc_node *to_i8 = unary("Cast", 13, a);
    t_attr_int(to_i8, "to", DLC_INT8);
    t_infer_ok(to_i8);
    cr_assert_eq(to_i8->outputs[0]->dtype, DLC_INT8);
    int8_t i8[6];
    t_run(to_i8, (void *[]){x}, (void *[]){i8});
    cr_assert_arr_eq(i8, ((int8_t[]){1, -2, 0, 44, (int8_t)(65520 & 0xff), 0}), 6);
    dlc_node *to_f16 = unary("Cast", 13, a);
    t_attr_int(to_f16, "to", DLC_FLOAT16);
    t_infer_ok(to_f16);
    uint16_t h[6];
    t_run(to_f16, (void *[]){x}, (void *[]){h});
    cr_assert_eq(dlc_f16_to_f32(h[0]), 1.5f);
    cr_assert(isnan(dlc_f16_to_f32(h[2])));
    cr_assert(isinf(dlc_f16_to_f32(h[4]))); /* 65520 rounds up past the largest float16 */
    dlc_node *to_bool = unary("Cast", 13, a);
    t_attr_int(to_bool, "to", DLC_BOOL);
    t_infer_ok(to_bool);
    uint8_t bl[6];
    t_run(to_bool, (void *[]){x}, (void *[]){bl});
    cr_assert_arr_eq(bl, ((uint8_t[]){1, 1, 1, 1, 1, 0}), 6);

    /* float64 -> float16 rounds once: 1 + 2^-11 + 2^-40 is just above the tie */
    dlc_value *d = t_input("d", DLC_FLOAT64, 1, (int64_t[]){1});
    double dx = 1.0 + 0x1p-11 + 0x1p-40;
    dlc_node *d_to_h = unary("Cast", 13, d);
    t_attr_int(d_to_h, "to", DLC_FLOAT16);
    t_infer_ok(d_to_h);
    uint16_t dh;
    t_run(d_to_h, (void *[]){&dx}, (void *[]){&dh});
    cr_assert_eq(dlc_f16_to_f32(dh), 1.0f + 0x1p-10f);

    dlc_value *u = t_input("u", DLC_UINT64, 1, (int64_t[]){2});
    uint64_t ux[2] = {UINT64_MAX, 3};
    dlc_node *u_to_f = unary("Cast", 13, u);
    t_attr_int(u_to_f, "to", DLC_FLOAT64);
    t_infer_ok(u_to_f);
    double uf[2];
    t_run(u_to_f, (void *[]){ux}, (void *[]){uf});
    cr_assert_eq(uf[0], 18446744073709551616.0);
    cr_assert_eq(uf[1], 3.0);
    dlc_node *i_to_u8 = unary("Cast", 13, u);
    t_attr_int(i_to_u8, "to", DLC_UINT8);
    t_infer_ok(i_to_u8);
    uint8_t u8[2];
    t_run(i_to_u8, (void *[]){ux}, (void *[]){u8});
    cr_assert_arr_eq(u8, ((uint8_t[]){255, 3}), 2);
}

Test(elementwise, clip_attributes_before_11_inputs_after) {
    dlc_value *a = t_input("a", DLC_FLOAT32, 1, (int64_t[]){4});
    float x[4] = {-5, 0.5f, 5, NAN}, out[4];
    dlc_node *old = unary("Clip", 6, a);
    t_attr_float(old, "min", -1.0);
    t_attr_float(old, "max", 1.0);
    t_infer_ok(old);
    t_run(old, (void *[]){x}, (void *[]){out});
    t_expect_floats(out, (float[]){-1, 0.5f, 1, NAN}, 4, 0);

    float lo = 0.0f;
    dlc_value *mn = t_const("lo", DLC_FLOAT32, 0, NULL, &lo, sizeof lo);
    dlc_value *ins[3] = {a, mn, NULL};
    dlc_node *neu = t_node("Clip", 13, 3, ins);
    t_infer_ok(neu);
    t_run(neu, (void *[]){x, &lo, NULL}, (void *[]){out});
    t_expect_floats(out, (float[]){0, 0.5f, 5, NAN}, 4, 0); /* no max: unbounded above */

    dlc_node *bad = unary("Clip", 13, a);
    dlc_value *vec = t_input("vec", DLC_FLOAT32, 1, (int64_t[]){2});
    dlc_value *ins2[2] = {a, vec};
    bad = t_node("Clip", 13, 2, ins2);
    cr_assert_eq(t_infer(bad), DLC_ERR_SHAPE_MISMATCH);

    dlc_value *i = t_input("i", DLC_INT32, 1, (int64_t[]){3});
    int32_t ix[3] = {-10, 3, 10}, ilo = -2, ihi = 4, iout[3];
    dlc_value *lo_v = t_input("ilo", DLC_INT32, 0, NULL), *hi_v = t_input("ihi", DLC_INT32, 0, NULL);
    dlc_value *ins3[3] = {i, lo_v, hi_v};
    dlc_node *ic = t_node("Clip", 13, 3, ins3);
    t_infer_ok(ic);
    t_run(ic, (void *[]){ix, &ilo, &ihi}, (void *[]){iout});
    cr_assert_arr_eq(iout, ((int32_t[]){-2, 3, 4}), sizeof iout);
}

Test(elementwise, where_broadcasts_three_ways) {
    dlc_value *c = t_input("c", DLC_BOOL, 2, (int64_t[]){2, 1});
    dlc_value *x = t_input("x", DLC_INT64, 1, (int64_t[]){3});
    dlc_value *y = t_input("y", DLC_INT64, 0, NULL);
    dlc_value *ins[3] = {c, x, y};
    dlc_node *n = t_node("Where", 16, 3, ins);
    t_infer_ok(n);
    t_expect_shape(n->outputs[0], 2, (int64_t[]){2, 3});
    cr_assert_eq(n->outputs[0]->dtype, DLC_INT64);
    uint8_t cond[2] = {1, 0};
    int64_t xv[3] = {1, 2, 3}, yv = -1, out[6];
    t_run(n, (void *[]){cond, xv, &yv}, (void *[]){out});
    cr_assert_arr_eq(out, ((int64_t[]){1, 2, 3, -1, -1, -1}), sizeof out);
}

Test(elementwise, pow_with_mixed_dtypes) {
    dlc_value *a = t_input("a", DLC_FLOAT32, 1, (int64_t[]){3});
    dlc_value *e = t_input("e", DLC_INT64, 1, (int64_t[]){3});
    float x[3] = {2, -3, 0.5f}, out[3];
    int64_t ev[3] = {10, 3, -2};
    dlc_node *n = binary("Pow", 15, a, e);
    t_infer_ok(n);
    cr_assert_eq(n->outputs[0]->dtype, DLC_FLOAT32);
    t_run(n, (void *[]){x, ev}, (void *[]){out});
    t_expect_floats(out, (float[]){1024, -27, 4}, 3, 0);
    dlc_value *ib = t_input("ib", DLC_INT32, 1, (int64_t[]){3});
    dlc_value *ie = t_input("ie", DLC_INT32, 1, (int64_t[]){3});
    int32_t bx[3] = {3, -2, 2}, bexp[3] = {4, 3, 40}, bout[3];
    dlc_node *m = binary("Pow", 15, ib, ie);
    t_infer_ok(m);
    t_run(m, (void *[]){bx, bexp}, (void *[]){bout});
    cr_assert_eq(bout[0], 81);
    cr_assert_eq(bout[1], -8);
    cr_assert_eq(bout[2], 0); /* 2^40 wraps to 0 in 32 bits */
}

Test(elementwise, prelu_broadcasts_slope_one_way) {
    dlc_value *x = t_input("x", DLC_FLOAT32, 2, (int64_t[]){2, 3});
    dlc_value *s = t_input("s", DLC_FLOAT32, 1, (int64_t[]){3});
    dlc_node *n = binary("PRelu", 16, x, s);
    t_infer_ok(n);
    t_expect_shape(n->outputs[0], 2, (int64_t[]){2, 3});
    float xv[6] = {-1, 2, -3, 4, -5, 6}, sv[3] = {0.1f, 0.2f, 0.3f}, out[6];
    t_run(n, (void *[]){xv, sv}, (void *[]){out});
    t_expect_floats(out, (float[]){-0.1f, 2, -0.9f, 4, -1.0f, 6}, 6, 1e-7f);
    dlc_value *big = t_input("big", DLC_FLOAT32, 3, (int64_t[]){4, 2, 3});
    cr_assert_eq(t_infer(binary("PRelu", 16, x, big)), DLC_ERR_SHAPE_MISMATCH);
    cr_assert(strstr(dlc_last_error(), "PRelu_node") != NULL, "%s", dlc_last_error());
}

Test(elementwise, variadic_sum_mean_with_broadcast) {
    dlc_value *a = t_input("a", DLC_FLOAT32, 2, (int64_t[]){2, 2});
    dlc_value *b = t_input("b", DLC_FLOAT32, 1, (int64_t[]){2});
    dlc_value *c = t_input("c", DLC_FLOAT32, 0, NULL);
    dlc_value *ins[3] = {a, b, c};
    float av[4] = {1, 2, 3, 4}, bv[2] = {10, 20}, cv = 100, out[4];
    dlc_node *sum = t_node("Sum", 13, 3, ins);
    t_infer_ok(sum);
    t_expect_shape(sum->outputs[0], 2, (int64_t[]){2, 2});
    t_run(sum, (void *[]){av, bv, &cv}, (void *[]){out});
    t_expect_floats(out, (float[]){111, 122, 113, 124}, 4, 0);
    dlc_node *mean = t_node("Mean", 13, 3, ins);
    t_infer_ok(mean);
    t_run(mean, (void *[]){av, bv, &cv}, (void *[]){out});
    t_expect_floats(out, (float[]){37, 122.0f / 3, 113.0f / 3, 124.0f / 3}, 4, 1e-7f);
    dlc_value *one[1] = {b};
    dlc_node *mx = t_node("Max", 13, 1, one);
    t_infer_ok(mx);
    t_run(mx, (void *[]){bv}, (void *[]){out});
    t_expect_floats(out, bv, 2, 0);
    dlc_value *i1 = t_input("i1", DLC_INT32, 1, (int64_t[]){2});
    dlc_value *ins_i[2] = {i1, i1};
    dlc_node *old = t_node("Max", 8, 2, ins_i);
    cr_assert_eq(t_infer(old), DLC_ERR_DTYPE_MISMATCH); /* integer Max from opset 12 */
}

Test(elementwise, comparisons_and_logic) {
    dlc_value *a = t_input("a", DLC_FLOAT32, 1, (int64_t[]){3});
    dlc_value *b = t_input("b", DLC_FLOAT32, 1, (int64_t[]){3});
    float x[3] = {1, 2, NAN}, y[3] = {2, 2, NAN};
    uint8_t out[3];
    const char *ops[] = {"Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual"};
    uint8_t want[5][3] = {{0, 1, 0}, {1, 0, 0}, {1, 1, 0}, {0, 0, 0}, {0, 1, 0}};
    for (int o = 0; o < 5; o++) {
        dlc_node *n = binary(ops[o], 13, a, b);
        t_infer_ok(n);
        cr_assert_eq(n->outputs[0]->dtype, DLC_BOOL);
        t_run(n, (void *[]){x, y}, (void *[]){out});
        cr_assert_arr_eq(out, want[o], 3, "%s", ops[o]);
    }
    dlc_value *p = t_input("p", DLC_BOOL, 1, (int64_t[]){4});
    dlc_value *q = t_input("q", DLC_BOOL, 1, (int64_t[]){4});
    uint8_t pv[4] = {0, 0, 1, 1}, qv[4] = {0, 1, 0, 1}, r[4];
    dlc_node *x_or = binary("Xor", 7, p, q);
    t_infer_ok(x_or);
    t_run(x_or, (void *[]){pv, qv}, (void *[]){r});
    cr_assert_arr_eq(r, ((uint8_t[]){0, 1, 1, 0}), 4);
    dlc_node *n_ot = unary("Not", 1, p);
    t_infer_ok(n_ot);
    t_run(n_ot, (void *[]){pv}, (void *[]){r});
    cr_assert_arr_eq(r, ((uint8_t[]){1, 1, 0, 0}), 4);
    cr_assert_eq(t_infer(binary("And", 7, a, b)), DLC_ERR_DTYPE_MISMATCH);
}

/* Large enough to split across threads; checks every segment boundary. */
Test(elementwise, large_broadcast_across_threads) {
    enum { R = 300, C = 701 };
    dlc_value *a = t_input("a", DLC_FLOAT32, 2, (int64_t[]){R, C});
    dlc_value *b = t_input("b", DLC_FLOAT32, 2, (int64_t[]){R, 1});
    dlc_value *s = t_input("s", DLC_FLOAT32, 0, NULL);
    float *x = malloc(sizeof(float) * R * C), *out = malloc(sizeof(float) * R * C), col[R], two = 2;
    for (int i = 0; i < R * C; i++) x[i] = (float)(i % 97) - 40;
    for (int i = 0; i < R; i++) col[i] = (float)i;
    dlc_node *n = binary("Sub", 14, a, b);
    t_infer_ok(n);
    cr_assert_eq(t_run_threads(n, (void *[]){x, col}, (void *[]){out}, 4), 0);
    for (int i = 0; i < R * C; i++) cr_assert_eq(out[i], x[i] - col[i / C], "at %d", i);
    dlc_node *m = binary("Mul", 14, a, s);
    t_infer_ok(m);
    cr_assert_eq(t_run_threads(m, (void *[]){x, &two}, (void *[]){out}, 3), 0);
    for (int i = 0; i < R * C; i++) cr_assert_eq(out[i], x[i] * 2, "at %d", i);
    dlc_node *e = unary("Exp", 13, a);
    t_infer_ok(e);
    cr_assert_eq(t_run_threads(e, (void *[]){x}, (void *[]){out}, 4), 0);
    for (int i = 0; i < R * C; i += 7) cr_assert_float_eq(out[i], expf(x[i]), 1e-6f * expf(x[i]) + 1e-30f);
    free(x);
    free(out);
}

/* Units in the last place of want rounded to float (subnormals: 2^-149). */
static double ulps_from(float got, double want) {
    double w = fabs((double)(float)want);
    int e;
    frexp(w < 0x1p-126 ? 0x1p-126 : w, &e);
    return fabs((double)got - want) / ldexp(1.0, e - 24);
}

/* float Exp, Tanh and Sigmoid run kernels/fast_math.h (no libm call, so the
 * loops vectorize): within 2 ulp of the double libm values (sigmoid 2.5) on
 * a dense grid through the whole float range, relatively accurate near 0
 * (log-spaced points down to 1e-30), and exact at the special values. */
Test(elementwise, float_exp_tanh_sigmoid_within_2ulp) {
    enum { N = 400001, L = 2 * 301, S = 9 };
    dlc_value *a = t_input("a", DLC_FLOAT32, 1, (int64_t[]){N + L + S});
    float *x = malloc((N + L + S) * sizeof *x), *out = malloc((N + L + S) * sizeof *out);
    cr_assert(x != NULL && out != NULL);
    for (int i = 0; i < N; i++) x[i] = -106.0f + 200.0f * (float)i / (N - 1);
    for (int i = 0; i < L / 2; i++) {
        x[N + 2 * i] = (float)pow(10.0, -30.0 + 0.1 * i);
        x[N + 2 * i + 1] = -x[N + 2 * i];
    }
    float special[S] = {NAN, INFINITY, -INFINITY, -0.0f, 0.0f, 88.72283f, 88.7229f, -87.33655f, -103.9f};
    for (int i = 0; i < S; i++) x[N + L + i] = special[i];
    struct { const char *op; double limit; } ops[] = {{"Exp", 2.0}, {"Tanh", 2.0}, {"Sigmoid", 2.5}};
    for (int o = 0; o < 3; o++) {
        dlc_node *n = unary(ops[o].op, 13, a);
        t_infer_ok(n);
        t_run(n, (void *[]){x}, (void *[]){out});
        double worst = 0;
        for (int i = 0; i < N + L + S - 3; i++) {
            if (isnan(x[i])) continue;
            double v = x[i], want = o == 0 ? exp(v) : o == 1 ? tanh(v) : 1 / (1 + exp(-v));
            if ((float)want == INFINITY) {
                cr_assert_eq(out[i], INFINITY, "%s(%.9g) = %.9g, want inf", ops[o].op, x[i], out[i]);
                continue;
            }
            double err = ulps_from(out[i], want);
            worst = err > worst ? err : worst;
            cr_assert(err <= ops[o].limit, "%s(%.9g) = %.9g, want %.9g (%.2f ulp)", ops[o].op, x[i], out[i], want, err);
        }
        cr_assert(worst > 0.1, "%s: the grid exercises the approximation", ops[o].op);
        const float *sp = out + N + L;
        cr_assert(isnan(sp[0]), "%s(NaN) = %.9g", ops[o].op, sp[0]);
        float at_inf[3] = {INFINITY, 1.0f, 1.0f}, at_minus_inf[3] = {0.0f, -1.0f, 0.0f};
        cr_assert_eq(sp[1], at_inf[o], "%s(inf) = %.9g", ops[o].op, sp[1]);
        cr_assert_eq(sp[2], at_minus_inf[o], "%s(-inf) = %.9g", ops[o].op, sp[2]);
        if (o == 1) cr_assert(sp[3] == 0 && signbit(sp[3]), "tanh(-0) = -0");
    }
    /* exp: overflow just past log(FLT_MAX), gradual underflow into the
     * subnormals, 0 below them */
    dlc_node *n = unary("Exp", 13, a);
    t_infer_ok(n);
    t_run(n, (void *[]){x}, (void *[]){out});
    const float *sp = out + N + L;
    cr_assert(isfinite(sp[5]) && sp[5] > 3.4e38f, "exp(88.72283) = %.9g", sp[5]);
    cr_assert_eq(sp[6], INFINITY, "exp(88.7229) = %.9g", sp[6]);
    cr_assert(sp[7] > 0 && sp[7] < 0x1p-125f, "exp(-87.33655) = %.9g, near FLT_MIN", sp[7]);
    cr_assert(sp[8] > 0 && sp[8] < 0x1p-148f, "exp(-103.9) = %.9g, the least subnormals", sp[8]);
    cr_assert_eq(exp(-106.0) < 0x1p-150 ? out[0] : -1.0f, 0.0f, "exp(-106) = %.9g", out[0]);
    free(x);
    free(out);
}

/* The memory plan runs elementwise nodes in place (passes/memory_plan.h):
 * every float fast path must give the same bits with the output over an
 * operand as into a separate buffer. 1500 elements: several 512-element
 * segments and a tail. */
enum { INPLACE_N = 1500 };

static void inplace_fill(float *x, int n, int seed) {
    for (int i = 0; i < n; i++) x[i] = (float)((i * 37 + seed * 11) % 201 - 100) * 0.05f;
}

static void expect_same_bits(const float *got, const float *want, int n, const char *what) {
    for (int i = 0; i < n; i++)
        cr_assert(memcmp(&got[i], &want[i], sizeof(float)) == 0, "%s in place [%d]: %.9g, separate %.9g", what, i,
                  got[i], want[i]);
}

Test(elementwise, unary_float_paths_in_place) {
    dlc_value *a = t_input("a", DLC_FLOAT32, 1, (int64_t[]){INPLACE_N});
    struct { const char *op; int opset; } ops[] = {
        {"Relu", 14}, {"LeakyRelu", 16}, {"Sigmoid", 13}, {"HardSigmoid", 6}, {"HardSwish", 14}, {"Tanh", 13},
        {"Exp", 13}, {"Sqrt", 13}, {"Reciprocal", 13}, {"Neg", 13}, {"Abs", 13}, {"Erf", 13}, {"Sign", 13},
        {"Softsign", 1}, {"Gelu", 20}, {"ThresholdedRelu", 10}, {"Identity", 16}, {"Log", 13}, {"Floor", 13}};
    static float x[INPLACE_N], sep[INPLACE_N], inplace[INPLACE_N];
    for (size_t o = 0; o < sizeof ops / sizeof ops[0]; o++) {
        dlc_node *n = unary(ops[o].op, ops[o].opset, a);
        t_infer_ok(n);
        inplace_fill(x, INPLACE_N, (int)o);
        t_run(n, (void *[]){x}, (void *[]){sep});
        memcpy(inplace, x, sizeof x);
        t_run(n, (void *[]){inplace}, (void *[]){inplace});
        expect_same_bits(inplace, sep, INPLACE_N, ops[o].op);
    }
    dlc_node *c = unary("Clip", 6, a);
    t_attr_float(c, "min", -1.5);
    t_attr_float(c, "max", 2.0);
    t_infer_ok(c);
    inplace_fill(x, INPLACE_N, 3);
    t_run(c, (void *[]){x}, (void *[]){sep});
    memcpy(inplace, x, sizeof x);
    t_run(c, (void *[]){inplace}, (void *[]){inplace});
    expect_same_bits(inplace, sep, INPLACE_N, "Clip");
}

/* Binary ops over each operand in turn, over both (x op x), and with the
 * other operand a broadcast row; Max/Min/Sum go through the variadic kernel. */
Test(elementwise, binary_float_paths_in_place) {
    dlc_value *a = t_input("a", DLC_FLOAT32, 2, (int64_t[]){3, INPLACE_N / 3});
    dlc_value *b = t_input("b", DLC_FLOAT32, 2, (int64_t[]){3, INPLACE_N / 3});
    dlc_value *row = t_input("row", DLC_FLOAT32, 1, (int64_t[]){INPLACE_N / 3});
    const char *ops[] = {"Add", "Sub", "Mul", "Div", "PRelu", "Max", "Min", "Sum", "Pow", "Mod"};
    static float x[INPLACE_N], y[INPLACE_N], r[INPLACE_N / 3], sep[INPLACE_N], inplace[INPLACE_N];
    inplace_fill(r, INPLACE_N / 3, 7);
    for (size_t o = 0; o < sizeof ops / sizeof ops[0]; o++) {
        int opset = strcmp(ops[o], "PRelu") == 0 ? 16 : 13;
        inplace_fill(x, INPLACE_N, (int)o);
        inplace_fill(y, INPLACE_N, (int)o + 5);
        if (strcmp(ops[o], "Mod") == 0)
            for (int i = 0; i < INPLACE_N; i++) y[i] = y[i] == 0 ? 1 : y[i];
        dlc_node *n = binary(ops[o], opset, a, b);
        if (strcmp(ops[o], "Mod") == 0) t_attr_int(n, "fmod", 1);
        t_infer_ok(n);
        t_run(n, (void *[]){x, y}, (void *[]){sep});
        memcpy(inplace, x, sizeof x); /* over the first operand */
        t_run(n, (void *[]){inplace, y}, (void *[]){inplace});
        expect_same_bits(inplace, sep, INPLACE_N, ops[o]);
        memcpy(inplace, y, sizeof y); /* over the second */
        t_run(n, (void *[]){x, inplace}, (void *[]){inplace});
        expect_same_bits(inplace, sep, INPLACE_N, ops[o]);
        t_run(n, (void *[]){x, x}, (void *[]){sep}); /* x op x over x */
        memcpy(inplace, x, sizeof x);
        t_run(n, (void *[]){inplace, inplace}, (void *[]){inplace});
        expect_same_bits(inplace, sep, INPLACE_N, ops[o]);
        dlc_node *m = binary(ops[o], opset, a, row); /* broadcast row: over the full-size operand */
        if (strcmp(ops[o], "Mod") == 0) t_attr_int(m, "fmod", 1);
        t_infer_ok(m);
        t_run(m, (void *[]){x, r}, (void *[]){sep});
        memcpy(inplace, x, sizeof x);
        t_run(m, (void *[]){inplace, r}, (void *[]){inplace});
        expect_same_bits(inplace, sep, INPLACE_N, ops[o]);
    }
}
