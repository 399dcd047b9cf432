/* Shape polynomials: fitting by forward differences on the lattice
 * base + a (|a| <= 3), exact evaluation, printing in the power basis. */
#include "ir/shape_poly.h"

#include <stdio.h>
#include <string.h>

void dlc_poly_space_init(dlc_poly_space *space, int32_t num_symbols) {
    memset(space, 0, sizeof *space);
    if (num_symbols < 0) num_symbols = 0;
    if (num_symbols > DLC_POLY_MAX_SYMBOLS) num_symbols = DLC_POLY_MAX_SYMBOLS;
    space->num_symbols = num_symbols;
    /* by total degree, then lexicographically: a fitting sample only needs
     * the samples of lower terms, and term 0 is the base point */
    for (int32_t degree = 0; degree <= DLC_POLY_MAX_DEGREE; degree++) {
        uint8_t e[DLC_POLY_MAX_SYMBOLS] = {0};
        for (;;) {
            int32_t sum = 0;
            for (int32_t k = 0; k < num_symbols; k++) sum += e[k];
            if (sum == degree) memcpy(space->exps[space->num_terms++], e, sizeof e);
            int32_t k = 0; /* next exponent vector with entries 0..degree */
            while (k < num_symbols && e[k] == degree) e[k++] = 0;
            if (k >= num_symbols) break;
            e[k]++;
        }
        if (num_symbols == 0) break;
    }
}

void dlc_poly_fit_point(const dlc_poly_space *space, int32_t term, int64_t *symbols) {
    for (int32_t k = 0; k < space->num_symbols; k++) symbols[k] = DLC_POLY_BASE + space->exps[term][k];
}

static int32_t find_term(const dlc_poly_space *space, const uint8_t *e) {
    for (int32_t t = 0; t < space->num_terms; t++)
        if (memcmp(space->exps[t], e, DLC_POLY_MAX_SYMBOLS) == 0) return t;
    return -1;
}

static int64_t small_binom(int32_t n, int32_t k) {
    int64_t r = 1;
    for (int32_t i = 0; i < k; i++) r = r * (n - i) / (i + 1);
    return r;
}

bool dlc_poly_fit(const dlc_poly_space *space, const int64_t *values, dlc_poly *out) {
    memset(out, 0, sizeof *out);
    for (int32_t t = 0; t < space->num_terms; t++) {
        /* c[a] = sum over b <= a of (-1)^{|a|-|b|} prod_k binom(a_k, b_k) f(base + b) */
        const uint8_t *a = space->exps[t];
        int64_t sum = 0;
        uint8_t b[DLC_POLY_MAX_SYMBOLS] = {0};
        for (;;) {
            int64_t weight = 1;
            int32_t distance = 0;
            for (int32_t k = 0; k < space->num_symbols; k++) {
                weight *= small_binom(a[k], b[k]);
                distance += a[k] - b[k];
            }
            if (distance % 2) weight = -weight;
            int32_t u = find_term(space, b);
            int64_t product;
            if (u < 0 || __builtin_mul_overflow(weight, values[u], &product) ||
                __builtin_add_overflow(sum, product, &sum))
                return false;
            int32_t k = 0;
            while (k < space->num_symbols && b[k] == a[k]) b[k++] = 0;
            if (k >= space->num_symbols) break;
            b[k]++;
        }
        out->c[t] = sum;
    }
    return true;
}

int64_t dlc_poly_binom(int64_t n, int32_t k) {
    switch (k) {
    case 0: return 1;
    case 1: return n;
    case 2: return n * (n - 1) / 2;
    default: return n * (n - 1) * (n - 2) / 6;
    }
}

bool dlc_poly_eval(const dlc_poly_space *space, const dlc_poly *p, const int64_t *symbols, int64_t *out) {
    int64_t basis[DLC_POLY_MAX_SYMBOLS][DLC_POLY_MAX_DEGREE + 1];
    for (int32_t k = 0; k < space->num_symbols; k++) {
        int64_t n = symbols[k] - DLC_POLY_BASE;
        if (n > 2000000 || n < -2000000) return false; /* keeps n(n-1)(n-2) inside int64 */
        for (int32_t e = 0; e <= DLC_POLY_MAX_DEGREE; e++) basis[k][e] = dlc_poly_binom(n, e);
    }
    int64_t sum = 0;
    for (int32_t t = 0; t < space->num_terms; t++) {
        if (p->c[t] == 0) continue;
        int64_t term = p->c[t];
        for (int32_t k = 0; k < space->num_symbols; k++)
            if (space->exps[t][k] > 0 && __builtin_mul_overflow(term, basis[k][space->exps[t][k]], &term)) return false;
        if (__builtin_add_overflow(sum, term, &sum)) return false;
    }
    *out = sum;
    return true;
}

bool dlc_poly_is_const(const dlc_poly_space *space, const dlc_poly *p, int64_t *out_value) {
    for (int32_t t = 1; t < space->num_terms; t++)
        if (p->c[t] != 0) return false;
    if (out_value != NULL) *out_value = p->c[0];
    return true;
}

bool dlc_poly_equal(const dlc_poly_space *space, const dlc_poly *a, const dlc_poly *b) {
    return memcmp(a->c, b->c, (size_t)space->num_terms * sizeof a->c[0]) == 0;
}

/* a! * binom(s - base, a) as coefficients of s^0..s^a. */
static void falling_factorial(int32_t a, int64_t q[DLC_POLY_MAX_DEGREE + 1]) {
    memset(q, 0, (DLC_POLY_MAX_DEGREE + 1) * sizeof q[0]);
    q[0] = 1;
    for (int32_t i = 0; i < a; i++) { /* multiply by (s - base - i) */
        for (int32_t d = DLC_POLY_MAX_DEGREE; d >= 0; d--)
            q[d] = (d > 0 ? q[d - 1] : 0) - (DLC_POLY_BASE + i) * q[d];
    }
}

static int64_t gcd64(int64_t a, int64_t b) {
    if (a < 0) a = -a;
    if (b < 0) b = -b;
    while (b != 0) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

const char *dlc_poly_format(const dlc_poly_space *space, const dlc_poly *p, const char *const *names, char *buf,
                            size_t size) {
    /* 6 * p in the power basis: every prod_k a_k! divides 6 when |a| <= 3 */
    int64_t power[DLC_POLY_MAX_TERMS] = {0};
    for (int32_t t = 0; t < space->num_terms; t++) {
        if (p->c[t] == 0) continue;
        int64_t scale = 6;
        int64_t q[DLC_POLY_MAX_SYMBOLS][DLC_POLY_MAX_DEGREE + 1];
        for (int32_t k = 0; k < space->num_symbols; k++) {
            falling_factorial(space->exps[t][k], q[k]);
            for (int32_t i = 2; i <= space->exps[t][k]; i++) scale /= i;
        }
        /* expand prod_k q_k(s_k) over exponent vectors e <= exps[t] */
        uint8_t e[DLC_POLY_MAX_SYMBOLS] = {0};
        for (;;) {
            int64_t coef = p->c[t] * scale;
            for (int32_t k = 0; k < space->num_symbols; k++) coef *= q[k][e[k]];
            int32_t u = find_term(space, e);
            if (u >= 0) power[u] += coef;
            int32_t k = 0;
            while (k < space->num_symbols && e[k] == space->exps[t][k]) e[k++] = 0;
            if (k >= space->num_symbols) break;
            e[k]++;
        }
    }
    int64_t den = 6;
    for (int32_t t = 0; t < space->num_terms; t++) den = gcd64(den, power[t]);
    if (den == 0) den = 6;
    size_t used = 0;
    bool any = false;
    int64_t divisor = 6 / den;
    bool grouped = divisor != 1;
    if (grouped) used += (size_t)snprintf(buf + used, used < size ? size - used : 0, "(");
    for (int32_t t = space->num_terms - 1; t >= 0; t--) { /* highest degree first */
        int64_t c = power[t] / den;
        if (c == 0) continue;
        bool constant = t == 0;
        const char *sign = c < 0 ? "-" : any ? "+" : "";
        int64_t mag = c < 0 ? -c : c;
        used += (size_t)snprintf(buf + used, used < size ? size - used : 0, "%s", sign);
        if (mag != 1 || constant)
            used += (size_t)snprintf(buf + used, used < size ? size - used : 0, "%lld%s", (long long)mag,
                                     constant ? "" : "*");
        bool first = true;
        for (int32_t k = 0; k < space->num_symbols; k++)
            for (int32_t i = 0; i < space->exps[t][k]; i++) {
                used += (size_t)snprintf(buf + used, used < size ? size - used : 0, "%s%s", first ? "" : "*",
                                         names != NULL && names[k] != NULL ? names[k] : "?");
                first = false;
            }
        any = true;
    }
    if (!any) used += (size_t)snprintf(buf + used, used < size ? size - used : 0, "0");
    if (grouped) snprintf(buf + used, used < size ? size - used : 0, ")/%lld", (long long)divisor);
    return buf;
}
