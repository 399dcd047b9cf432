/*
 * Shape polynomials: integer-valued polynomials in the symbolic dims of a
 * model (batch, sequence length), of total degree <= 3, used to compile one
 * artifact for every size (codegen/dynamic.c).
 *
 * A polynomial is kept in the binomial basis around the base point
 * s = (2, 2, ...):
 *
 *     p(s) = sum over exponent vectors a with |a| <= 3 of
 *            c[a] * prod_k binom(s_k - 2, a_k)
 *
 * An integer-valued polynomial has integer coefficients in this basis, and
 * c[a] is the forward difference of p at the base point, so fitting takes
 * the values at the lattice points base + a (|a| <= 3) and needs nothing but
 * exact integer arithmetic; so does evaluation (binom(n, 3) = n(n-1)(n-2)/6
 * divides exactly for every integer n, negative too).
 */
#ifndef DLC_IR_SHAPE_POLY_H
#define DLC_IR_SHAPE_POLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DLC_POLY_MAX_SYMBOLS 4
#define DLC_POLY_MAX_DEGREE 3
#define DLC_POLY_MAX_TERMS 35 /* binom(4 + 3, 3) */
#define DLC_POLY_BASE 2

/* The monomials (exponent vectors) of the polynomials in num_symbols
 * symbols, ordered by total degree; term 0 is the constant. */
typedef struct dlc_poly_space {
    int32_t num_symbols;
    int32_t num_terms;
    uint8_t exps[DLC_POLY_MAX_TERMS][DLC_POLY_MAX_SYMBOLS];
} dlc_poly_space;

typedef struct dlc_poly {
    int64_t c[DLC_POLY_MAX_TERMS]; /* binomial-basis coefficients, num_terms used */
} dlc_poly;

/* num_symbols in 0..DLC_POLY_MAX_SYMBOLS. */
void dlc_poly_space_init(dlc_poly_space *space, int32_t num_symbols);
/* The symbol values of fitting sample `term`: base + exps[term]. */
void dlc_poly_fit_point(const dlc_poly_space *space, int32_t term, int64_t *symbols);
/* Fits from values[t] = p(dlc_poly_fit_point(t)); false on int64 overflow. */
bool dlc_poly_fit(const dlc_poly_space *space, const int64_t *values, dlc_poly *out);
/* p(symbols); false on int64 overflow. */
bool dlc_poly_eval(const dlc_poly_space *space, const dlc_poly *p, const int64_t *symbols, int64_t *out);
/* True when p is the constant *out_value. */
bool dlc_poly_is_const(const dlc_poly_space *space, const dlc_poly *p, int64_t *out_value);
bool dlc_poly_equal(const dlc_poly_space *space, const dlc_poly *a, const dlc_poly *b);
/* binom(n, k) for k in 0..3 and any integer n (exact). */
int64_t dlc_poly_binom(int64_t n, int32_t k);
/* p in the power basis, e.g. "2*batch*seq+seq" or "(seq*seq+seq)/2", into buf. */
const char *dlc_poly_format(const dlc_poly_space *space, const dlc_poly *p, const char *const *names, char *buf,
                            size_t size);

#endif
