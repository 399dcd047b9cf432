/* Shape polynomials (ir/shape_poly.h): fitting from the lattice, exact
 * evaluation (negative binomial arguments too), printing. */
#include <criterion/criterion.h>
#include <string.h>

#include "ir/shape_poly.h"

typedef int64_t (*fn2)(int64_t b, int64_t t);

static dlc_poly fit2(fn2 f) {
    dlc_poly_space space;
    dlc_poly_space_init(&space, 2);
    int64_t values[DLC_POLY_MAX_TERMS];
    for (int32_t t = 0; t < space.num_terms; t++) {
        int64_t s[DLC_POLY_MAX_SYMBOLS];
        dlc_poly_fit_point(&space, t, s);
        values[t] = f(s[0], s[1]);
    }
    dlc_poly p;
    cr_assert(dlc_poly_fit(&space, values, &p));
    return p;
}

static int64_t attention(int64_t b, int64_t t) { return 4 * b * 2 * t * t; } /* float32 scores, 2 heads */
static int64_t triangle(int64_t b, int64_t t) { return b + t * (t + 1) / 2; }
static int64_t floor_half(int64_t b, int64_t t) { return b * (t / 2); }

Test(shape_poly, space_has_every_monomial_up_to_degree_3) {
    dlc_poly_space space;
    dlc_poly_space_init(&space, 2);
    cr_assert_eq(space.num_terms, 10);
    dlc_poly_space_init(&space, 4);
    cr_assert_eq(space.num_terms, 35);
    dlc_poly_space_init(&space, 0);
    cr_assert_eq(space.num_terms, 1);
}

Test(shape_poly, fits_and_evaluates_exactly) {
    dlc_poly_space space;
    dlc_poly_space_init(&space, 2);
    fn2 fns[] = {attention, triangle};
    for (size_t i = 0; i < 2; i++) {
        dlc_poly p = fit2(fns[i]);
        for (int64_t b = 0; b < 40; b += 3)
            for (int64_t t = 0; t < 300; t += 7) {
                int64_t got;
                cr_assert(dlc_poly_eval(&space, &p, (int64_t[]){b, t, 0, 0}, &got));
                cr_assert_eq(got, fns[i](b, t), "fn %zu at (%lld, %lld): %lld", i, (long long)b, (long long)t,
                             (long long)got);
            }
    }
}

Test(shape_poly, a_floor_division_is_caught_by_another_point) {
    dlc_poly_space space;
    dlc_poly_space_init(&space, 2);
    dlc_poly p = fit2(floor_half);
    int mismatches = 0;
    for (int64_t t = 2; t < 20; t++) {
        int64_t got;
        cr_assert(dlc_poly_eval(&space, &p, (int64_t[]){3, t, 0, 0}, &got));
        mismatches += got != floor_half(3, t);
    }
    cr_assert_gt(mismatches, 0);
}

Test(shape_poly, constants_and_printing) {
    dlc_poly_space space;
    dlc_poly_space_init(&space, 2);
    const char *names[] = {"batch", "seq"};
    char buf[128];
    dlc_poly p = fit2(triangle);
    cr_assert_not(dlc_poly_is_const(&space, &p, NULL));
    cr_assert_str_eq(dlc_poly_format(&space, &p, names, buf, sizeof buf), "(seq*seq+seq+2*batch)/2");
    dlc_poly q = fit2(attention);
    cr_assert_str_eq(dlc_poly_format(&space, &q, names, buf, sizeof buf), "8*batch*seq*seq");
    dlc_poly c = {{0}};
    c.c[0] = 768;
    int64_t value;
    cr_assert(dlc_poly_is_const(&space, &c, &value));
    cr_assert_eq(value, 768);
    cr_assert_str_eq(dlc_poly_format(&space, &c, names, buf, sizeof buf), "768");
    cr_assert(dlc_poly_equal(&space, &q, &q));
    cr_assert_not(dlc_poly_equal(&space, &p, &q));
}

Test(shape_poly, binomials_of_negative_arguments) {
    cr_assert_eq(dlc_poly_binom(-1, 1), -1);
    cr_assert_eq(dlc_poly_binom(-1, 2), 1);
    cr_assert_eq(dlc_poly_binom(-1, 3), -1);
    cr_assert_eq(dlc_poly_binom(-2, 3), -4);
    cr_assert_eq(dlc_poly_binom(5, 3), 10);
}
