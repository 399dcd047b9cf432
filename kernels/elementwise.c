/* Broadcasting elementwise kernels: "binary" (arithmetic, comparisons,
 * logic, bit ops, PRelu), "variadic" (Max, Min, Sum, Mean over N inputs)
 * and "where". Also holds the kernel table of the whole elementwise family
 * (kernels/elementwise_unary.c, kernels/elementwise_cast.c).
 * Parameters: see kernels/ew_ops.h. */
#include "kernels/ew_ops.h"
#include "kernels/ew_support.h"

#include <tgmath.h>

/* Not part of the ABI: the variadic kernel's copy of a single input. */
enum { EW_BIN_FIRST = 1000 };

static int op_gives_bool(int op) {
    return (op >= DLC_BIN_EQUAL && op <= DLC_BIN_GREATER_EQUAL) || op == DLC_BIN_AND || op == DLC_BIN_OR ||
           op == DLC_BIN_XOR;
}

#define EW_ZIP_HINTED(HINT, EXPR)                                                                  \
    HINT()                                                                                         \
    for (int64_t i = 0; i < n; i++) {                                                              \
        ew_t u = a[i], v = b[i];                                                                   \
        (void)u, (void)v;                                                                          \
        y[i] = (EXPR);                                                                             \
    }                                                                                              \
    return 1
/* EW_ZIP_SAFE vectorizes even in place (ew_support.h EW_ALIAS_SAFE): only
 * for arithmetic and selects, never a libm call */
#define EW_ZIP(EXPR) EW_ZIP_HINTED(EW_NO_HINT, EXPR)
#define EW_ZIP_SAFE(EXPR) EW_ZIP_HINTED(EW_ALIAS_SAFE, EXPR)
#define EW_TEST(EXPR)                                                                              \
    for (int64_t i = 0; i < n; i++) {                                                              \
        ew_t u = a[i], v = b[i];                                                                   \
        (void)u, (void)v;                                                                          \
        c[i] = (EXPR);                                                                             \
    }                                                                                              \
    return 1

/* Float ops: y for arithmetic, c (bool bytes) for comparisons and logic. */
#define DEFINE_BINARY_FLOAT(NAME, T)                                                               \
    static int NAME(int op, const T *a, const T *b, T *y, uint8_t *c, int64_t n) {                 \
        typedef T ew_t;                                                                            \
        const T zero = 0;                                                                          \
        switch (op) {                                                                              \
        case EW_BIN_FIRST: EW_ZIP_SAFE(u);                                                         \
        case DLC_BIN_ADD: EW_ZIP_SAFE(u + v);                                                      \
        case DLC_BIN_SUB: EW_ZIP_SAFE(u - v);                                                      \
        case DLC_BIN_MUL: EW_ZIP_SAFE(u * v);                                                      \
        case DLC_BIN_DIV: EW_ZIP_SAFE(u / v);                                                      \
        case DLC_BIN_POW: EW_ZIP(pow(u, v));                                                       \
        case DLC_BIN_FMOD: EW_ZIP(fmod(u, v));                                                     \
        case DLC_BIN_MOD: /* numpy.mod: the result takes the divisor's sign */                     \
            for (int64_t i = 0; i < n; i++) {                                                      \
                T r = fmod(a[i], b[i]);                                                            \
                y[i] = r != zero && ((r < zero) != (b[i] < zero)) ? r + b[i] : r;                  \
            }                                                                                      \
            return 1;                                                                              \
        case DLC_BIN_PRELU: EW_ZIP_SAFE(u < zero ? u * v : u);                                     \
        case DLC_BIN_MAX: EW_ZIP_SAFE(u > v || u != u ? u : v); /* NaN in either wins */           \
        case DLC_BIN_MIN: EW_ZIP_SAFE(u < v || u != u ? u : v);                                    \
        case DLC_BIN_EQUAL: EW_TEST(u == v);                                                       \
        case DLC_BIN_LESS: EW_TEST(u < v);                                                         \
        case DLC_BIN_GREATER: EW_TEST(u > v);                                                      \
        case DLC_BIN_LESS_EQUAL: EW_TEST(u <= v);                                                  \
        case DLC_BIN_GREATER_EQUAL: EW_TEST(u >= v);                                               \
        default: return 0;                                                                         \
        }                                                                                          \
    }

DEFINE_BINARY_FLOAT(binary_f32, float)
DEFINE_BINARY_FLOAT(binary_f64, double)

static int64_t int_pow(int64_t base, int64_t e) {
    if (e < 0) return base == 1 ? 1 : base == -1 ? ((e & 1) ? -1 : 1) : 0; /* truncated 1/base^-e */
    uint64_t result = 1, b = (uint64_t)base;
    for (uint64_t k = (uint64_t)e; k != 0; k >>= 1) {
        if (k & 1u) result *= b;
        b *= b;
    }
    return (int64_t)result;
}

/* Division and remainder defined everywhere: x/0 gives 0 (C leaves it
 * undefined), INT64_MIN / -1 wraps. */
static int64_t int_div(int64_t u, int64_t v) {
    if (v == 0) return 0;
    if (v == -1) return (int64_t)(0u - (uint64_t)u);
    return u / v;
}
static int64_t int_rem(int64_t u, int64_t v) { return v == 0 || v == -1 ? 0 : u % v; }
static int64_t int_mod(int64_t u, int64_t v) {
    int64_t r = int_rem(u, v);
    return r != 0 && ((r < 0) != (v < 0)) ? r + v : r;
}
static int64_t shift_left(int64_t u, int64_t v) { return v < 0 || v >= 64 ? 0 : (int64_t)((uint64_t)u << v); }
static int64_t shift_right(int64_t u, int64_t v) { return v < 0 || v >= 64 ? 0 : (int64_t)((uint64_t)u >> v); }

/* Integer ops on 64-bit patterns; wrapping arithmetic goes through uint64.
 * Unsigned-only semantics (division, order) matter for uint64 alone: the
 * narrower unsigned types are zero-extended, so signed int64 ops are exact. */
static int binary_int(int op, int uns, const int64_t *a, const int64_t *b, int64_t *y, uint8_t *c, int64_t n) {
    typedef int64_t ew_t;
    const uint64_t *ua = (const uint64_t *)a, *ub = (const uint64_t *)b;
    switch (op) {
    case EW_BIN_FIRST: EW_ZIP(u);
    case DLC_BIN_ADD: EW_ZIP((int64_t)((uint64_t)u + (uint64_t)v));
    case DLC_BIN_SUB: EW_ZIP((int64_t)((uint64_t)u - (uint64_t)v));
    case DLC_BIN_MUL: EW_ZIP((int64_t)((uint64_t)u * (uint64_t)v));
    case DLC_BIN_POW: EW_ZIP(int_pow(u, v));
    case DLC_BIN_BITAND: EW_ZIP(u & v);
    case DLC_BIN_BITOR: EW_ZIP(u | v);
    case DLC_BIN_BITXOR: EW_ZIP(u ^ v);
    case DLC_BIN_SHL: EW_ZIP(shift_left(u, v));
    case DLC_BIN_SHR: EW_ZIP(shift_right(u, v));
    case DLC_BIN_PRELU: EW_ZIP(!uns && u < 0 ? (int64_t)((uint64_t)u * (uint64_t)v) : u);
    case DLC_BIN_AND: EW_TEST(u != 0 && v != 0);
    case DLC_BIN_OR: EW_TEST(u != 0 || v != 0);
    case DLC_BIN_XOR: EW_TEST((u != 0) != (v != 0));
    case DLC_BIN_EQUAL: EW_TEST(u == v);
    default: break;
    }
    if (uns) {
        switch (op) {
        case DLC_BIN_DIV: EW_ZIP(v == 0 ? 0 : (int64_t)(ua[i] / ub[i]));
        case DLC_BIN_MOD: case DLC_BIN_FMOD: EW_ZIP(v == 0 ? 0 : (int64_t)(ua[i] % ub[i]));
        case DLC_BIN_MAX: EW_ZIP(ua[i] > ub[i] ? u : v);
        case DLC_BIN_MIN: EW_ZIP(ua[i] < ub[i] ? u : v);
        case DLC_BIN_LESS: EW_TEST(ua[i] < ub[i]);
        case DLC_BIN_GREATER: EW_TEST(ua[i] > ub[i]);
        case DLC_BIN_LESS_EQUAL: EW_TEST(ua[i] <= ub[i]);
        case DLC_BIN_GREATER_EQUAL: EW_TEST(ua[i] >= ub[i]);
        default: return 0;
        }
    }
    switch (op) {
    case DLC_BIN_DIV: EW_ZIP(int_div(u, v));
    case DLC_BIN_MOD: EW_ZIP(int_mod(u, v));
    case DLC_BIN_FMOD: EW_ZIP(int_rem(u, v));
    case DLC_BIN_MAX: EW_ZIP(u > v ? u : v);
    case DLC_BIN_MIN: EW_ZIP(u < v ? u : v);
    case DLC_BIN_LESS: EW_TEST(u < v);
    case DLC_BIN_GREATER: EW_TEST(u > v);
    case DLC_BIN_LESS_EQUAL: EW_TEST(u <= v);
    case DLC_BIN_GREATER_EQUAL: EW_TEST(u >= v);
    default: return 0;
    }
}

typedef struct binary_job {
    int op, cls;
    const void *a, *b;
    int32_t adt, bdt;
    void *y;
    int32_t ydt;
} binary_job;

static void binary_seg(void *arg, ew_scratch *s, const ew_seg *seg) {
    const binary_job *j = arg;
    int64_t n = seg->n;
    uint8_t *c = (uint8_t *)j->y + seg->pos; /* bool results go straight out */
    switch (j->cls) {
    case EW_F32: {
        const float *a = ew_load_f32(s, 0, j->a, j->adt, seg);
        const float *b = ew_load_f32(s, 1, j->b, j->bdt, seg);
        float *y = j->ydt == EW_DT_F32 ? (float *)j->y + seg->pos : s->buf[EW_MAX_IN].f32;
        binary_f32(j->op, a, b, y, c, n);
        if (j->ydt != EW_DT_F32 && j->ydt != EW_DT_BOOL) ew_store_f32(j->y, j->ydt, seg->pos, y, n);
        break;
    }
    case EW_F64: {
        const double *a = ew_load_f64(s, 0, j->a, j->adt, seg);
        const double *b = ew_load_f64(s, 1, j->b, j->bdt, seg);
        double *y = j->ydt == EW_DT_F64 ? (double *)j->y + seg->pos : s->buf[EW_MAX_IN].f64;
        binary_f64(j->op, a, b, y, c, n);
        if (j->ydt != EW_DT_F64 && j->ydt != EW_DT_BOOL) ew_store_f64(j->y, j->ydt, seg->pos, y, n);
        break;
    }
    default: {
        const int64_t *a = ew_load_i64(s, 0, j->a, j->adt, seg);
        const int64_t *b = ew_load_i64(s, 1, j->b, j->bdt, seg);
        int64_t *y = s->buf[EW_MAX_IN].i64;
        binary_int(j->op, j->cls == EW_U64, a, b, y, c, n);
        if (!op_gives_bool(j->op)) ew_store_i64(j->y, j->ydt, seg->pos, y, n);
        break;
    }
    }
}

/* The class an op computes in. Pow may mix dtypes: integer powers stay
 * exact, a float on either side computes in floating point. */
static int binary_class(int op, int32_t adt, int32_t bdt) {
    if (op != DLC_BIN_POW) return ew_class_of(adt);
    if (!ew_is_float(adt) && !ew_is_float(bdt)) return EW_I64;
    if (adt == EW_DT_F64 || bdt == EW_DT_F64 || !ew_is_float(adt)) return EW_F64;
    return EW_F32; /* float32/16 base: an integer exponent converts exactly enough */
}

static int binary_supported(const binary_job *j) {
    float f = 0.0f, fy;
    double d = 0.0, dy;
    int64_t i = 0, iy;
    uint8_t c;
    switch (j->cls) {
    case EW_F32: return binary_f32(j->op, &f, &f, &fy, &c, 1);
    case EW_F64: return binary_f64(j->op, &d, &d, &dy, &c, 1);
    default: return binary_int(j->op, j->cls == EW_U64, &i, &i, &iy, &c, 1);
    }
}

static int32_t run_binary(const dlc_kctx *ctx, int op, const dlc_ktensor *ta, const void *a, const dlc_ktensor *tb,
                          const void *b, const dlc_ktensor *ty, void *y) {
    binary_job j = {.op = op, .cls = binary_class(op, ta->dtype, tb->dtype), .a = a, .b = b,
                    .adt = ta->dtype, .bdt = tb->dtype, .y = y, .ydt = ty->dtype};
    if (!binary_supported(&j)) return DLC_KERR_UNSUPPORTED;
    if (op_gives_bool(op) != (ty->dtype == EW_DT_BOOL) && !(op == EW_BIN_FIRST)) return DLC_KERR_UNSUPPORTED;
    ew_plan plan;
    const dlc_ktensor *ins[2] = {ta, tb};
    ew_plan_init(&plan, ty, ins, 2);
    ew_run(ctx, &plan, binary_seg, &j);
    return DLC_KOK;
}

int32_t dlc_kernel_binary(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx) {
    int op = (int)dlc_kp_ints(p)[0];
    if (op < 0 || op >= DLC_BIN_MEAN) return DLC_KERR_UNSUPPORTED;
    return run_binary(ctx, op, dlc_kp_in(p, 0), inputs[0], dlc_kp_in(p, 1), inputs[1], dlc_kp_out(p, 0), outputs[0]);
}

/* ---- variadic -----------------------------------------------------------
 * Folds the inputs pairwise into the output, each step broadcasting
 * against the output shape: y = x0 (op) x1, then y = y (op) xk. Mean
 * divides by the count at the end. */
int32_t dlc_kernel_variadic(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx) {
    int op = (int)dlc_kp_ints(p)[0];
    const dlc_ktensor *ty = dlc_kp_out(p, 0);
    void *y = outputs[0];
    int fold = op == DLC_BIN_MEAN ? DLC_BIN_ADD : op;
    if (fold != DLC_BIN_MAX && fold != DLC_BIN_MIN && fold != DLC_BIN_ADD) return DLC_KERR_UNSUPPORTED;
    if (p->num_inputs < 1) return DLC_KERR_BAD_VALUE;
    int32_t rc;
    if (p->num_inputs == 1)
        rc = run_binary(ctx, EW_BIN_FIRST, dlc_kp_in(p, 0), inputs[0], dlc_kp_in(p, 0), inputs[0], ty, y);
    else
        rc = run_binary(ctx, fold, dlc_kp_in(p, 0), inputs[0], dlc_kp_in(p, 1), inputs[1], ty, y);
    for (int k = 2; k < p->num_inputs && rc == DLC_KOK; k++)
        rc = run_binary(ctx, fold, ty, y, dlc_kp_in(p, k), inputs[k], ty, y);
    if (rc == DLC_KOK && op == DLC_BIN_MEAN) {
        double count = p->num_inputs;
        dlc_ktensor scalar = {.dtype = EW_DT_F64, .rank = 0, .numel = 1};
        rc = run_binary(ctx, DLC_BIN_DIV, ty, y, &scalar, &count, ty, y);
    }
    return rc;
}

/* ---- where --------------------------------------------------------------
 * inputs {condition (bool), x, y}: a select of raw elements, any dtype. */
typedef struct where_job {
    const uint8_t *cond;
    const void *x, *y;
    void *out;
    int64_t size;
} where_job;

#define WHERE_LOOP(T)                                                                              \
    {                                                                                              \
        const T *x = (const T *)j->x + seg->off[1], *y = (const T *)j->y + seg->off[2];            \
        T *o = (T *)j->out + seg->pos;                                                             \
        for (int64_t i = 0; i < n; i++) o[i] = c[i * cs] ? x[i * xs] : y[i * ys];                  \
        break;                                                                                     \
    }

static void where_seg(void *arg, ew_scratch *s, const ew_seg *seg) {
    (void)s;
    const where_job *j = arg;
    int64_t n = seg->n, cs = seg->step[0], xs = seg->step[1], ys = seg->step[2];
    const uint8_t *c = j->cond + seg->off[0];
    switch (j->size) {
    case 1: WHERE_LOOP(uint8_t)
    case 2: WHERE_LOOP(uint16_t)
    case 4: WHERE_LOOP(uint32_t)
    default: WHERE_LOOP(uint64_t)
    }
}

int32_t dlc_kernel_where(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx) {
    const dlc_ktensor *out = dlc_kp_out(p, 0);
    where_job j = {inputs[0], inputs[1], inputs[2], outputs[0], dlc_kdtype_size(out->dtype)};
    if (j.size != 1 && j.size != 2 && j.size != 4 && j.size != 8) return DLC_KERR_UNSUPPORTED;
    ew_plan plan;
    const dlc_ktensor *ins[3] = {dlc_kp_in(p, 0), dlc_kp_in(p, 1), dlc_kp_in(p, 2)};
    ew_plan_init(&plan, out, ins, 3);
    ew_run(ctx, &plan, where_seg, &j);
    return DLC_KOK;
}

#ifndef DLC_KERNEL_BITCODE
#include "kernels/kernel_registry.h"
int32_t dlc_kernel_unary(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx);
int32_t dlc_kernel_clip(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx);
int32_t dlc_kernel_cast(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx);
const dlc_kernel_entry dlc_kernels_elementwise[] = {
    {"unary", dlc_kernel_unary, NULL},
    {"clip", dlc_kernel_clip, NULL},
    {"binary", dlc_kernel_binary, NULL},
    {"variadic", dlc_kernel_variadic, NULL},
    {"where", dlc_kernel_where, NULL},
    {"cast", dlc_kernel_cast, NULL},
    {NULL, NULL, NULL},
};
#endif
