/* Unary elementwise kernels: "unary" (activations, math functions, logical
 * and bitwise not, IsNaN/IsInf, and a converting broadcast copy) and "clip".
 * Parameters: see kernels/ew_ops.h. */
#include "kernels/ew_ops.h"
#include "kernels/ew_support.h"

#include <tgmath.h> /* exp/log/... pick the float or double function by argument type */

#include "kernels/fast_math.h" /* float exp/tanh/sigmoid/erf that vectorize */

/* min(1, max(0, v)) keeping NaN, as numpy does (fmin/fmax would drop it) */
#define clamp01(V, ZERO, ONE) ((V) < (ZERO) ? (ZERO) : (V) > (ONE) ? (ONE) : (V))

#define EW_MAP_HINTED(HINT, EXPR)                                                                  \
    HINT()                                                                                         \
    for (int64_t i = 0; i < n; i++) {                                                              \
        ew_t v = x[i];                                                                             \
        y[i] = (EXPR);                                                                             \
    }                                                                                              \
    return 1
/* EW_MAP for a libm call or a rounding instruction some targets lack;
 * EW_MAP_SAFE vectorizes even in place (ew_support.h EW_ALIAS_SAFE). */
#define EW_MAP(EXPR) EW_MAP_HINTED(EW_NO_HINT, EXPR)
#define EW_MAP_SAFE(EXPR) EW_MAP_HINTED(EW_ALIAS_SAFE, EXPR)

/* Float ops written once for float and double. Returns 0 for an op the
 * class does not have. Each case is one loop the compiler can vectorize.
 * FAST_HINT: the loop hint for kernels/fast_math.h's functions, which are
 * plain arithmetic for float but libm calls for double. */
#define DEFINE_UNARY_FLOAT(NAME, T, FAST_HINT)                                                     \
    static int NAME(int op, T alpha, T beta, const T *x, T *y, int64_t n) {                        \
        typedef T ew_t;                                                                            \
        const T one = 1, zero = 0, half = (T)0.5;                                                  \
        switch (op) {                                                                              \
        case DLC_UN_IDENTITY: EW_MAP_SAFE(v);                                                      \
        case DLC_UN_RELU: EW_MAP_SAFE(v < zero ? zero : v); /* NaN stays NaN */                    \
        case DLC_UN_LEAKY_RELU: EW_MAP_SAFE(v < zero ? alpha * v : v);                             \
        case DLC_UN_SIGMOID: EW_MAP_HINTED(FAST_HINT, dlc_sigmoid(v));                             \
        case DLC_UN_HARD_SIGMOID: EW_MAP_SAFE(clamp01(alpha * v + beta, zero, one));               \
        case DLC_UN_HARD_SWISH: EW_MAP_SAFE(v * clamp01(v / (T)6 + half, zero, one));              \
        case DLC_UN_TANH: EW_MAP_HINTED(FAST_HINT, dlc_tanh(v));                                   \
        case DLC_UN_EXP: EW_MAP_HINTED(FAST_HINT, dlc_exp(v));                                     \
        case DLC_UN_LOG: EW_MAP(log(v));                                                           \
        case DLC_UN_SQRT: EW_MAP_SAFE(sqrt(v));                                                    \
        case DLC_UN_RECIPROCAL: EW_MAP_SAFE(one / v);                                              \
        case DLC_UN_NEG: EW_MAP_SAFE(-v);                                                          \
        case DLC_UN_ABS: EW_MAP_SAFE(fabs(v));                                                     \
        case DLC_UN_ERF: EW_MAP_HINTED(FAST_HINT, dlc_erf(v));                                     \
        case DLC_UN_FLOOR: EW_MAP(floor(v));                                                       \
        case DLC_UN_CEIL: EW_MAP(ceil(v));                                                         \
        case DLC_UN_ROUND: EW_MAP(rint(v)); /* default rounding mode: half to even */              \
        case DLC_UN_SIGN: EW_MAP_SAFE(v > zero ? one : (v < zero ? -one : v)); /* keeps 0 and NaN */ \
        case DLC_UN_SIN: EW_MAP(sin(v));                                                           \
        case DLC_UN_COS: EW_MAP(cos(v));                                                           \
        case DLC_UN_TAN: EW_MAP(tan(v));                                                           \
        case DLC_UN_ASIN: EW_MAP(asin(v));                                                         \
        case DLC_UN_ACOS: EW_MAP(acos(v));                                                         \
        case DLC_UN_ATAN: EW_MAP(atan(v));                                                         \
        case DLC_UN_SINH: EW_MAP(sinh(v));                                                         \
        case DLC_UN_COSH: EW_MAP(cosh(v));                                                         \
        case DLC_UN_ASINH: EW_MAP(asinh(v));                                                       \
        case DLC_UN_ACOSH: EW_MAP(acosh(v));                                                       \
        case DLC_UN_ATANH: EW_MAP(atanh(v));                                                       \
        /* log(1 + e^v) without overflowing e^v for large v */                                     \
        case DLC_UN_SOFTPLUS: EW_MAP(v > zero ? v + log1p(exp(-v)) : log1p(exp(v)));               \
        case DLC_UN_SOFTSIGN: EW_MAP_SAFE(v / (one + fabs(v)));                                    \
        case DLC_UN_ELU: EW_MAP(v < zero ? alpha * expm1(v) : v);                                  \
        case DLC_UN_SELU: EW_MAP(v <= zero ? beta * alpha * expm1(v) : beta * v);                  \
        case DLC_UN_CELU: EW_MAP(v > zero ? v : alpha * expm1(v / alpha));                         \
        case DLC_UN_MISH: EW_MAP(v * tanh(v > zero ? v + log1p(exp(-v)) : log1p(exp(v))));         \
        case DLC_UN_GELU: EW_MAP_HINTED(FAST_HINT, half * v * (one + dlc_erf(v * (T)0.70710678118654752440))); \
        case DLC_UN_GELU_TANH:                                                                     \
            EW_MAP_HINTED(FAST_HINT, half * v * (one + dlc_tanh((T)0.79788456080286535588 * (v + (T)0.044715 * v * v * v)))); \
        case DLC_UN_THRESHOLDED_RELU: EW_MAP_SAFE(v > alpha ? v : zero);                           \
        default: return 0;                                                                         \
        }                                                                                          \
    }

DEFINE_UNARY_FLOAT(unary_f32, float, EW_ALIAS_SAFE)
DEFINE_UNARY_FLOAT(unary_f64, double, EW_NO_HINT)

/* Integer ops in 64-bit two's complement; the store truncates to the
 * operand width, which wraps exactly as the narrow type would. */
static int unary_int(int op, int is_unsigned, const int64_t *x, int64_t *y, int64_t n) {
    switch (op) {
    case DLC_UN_IDENTITY:
        for (int64_t i = 0; i < n; i++) y[i] = x[i];
        return 1;
    case DLC_UN_RELU:
        for (int64_t i = 0; i < n; i++) y[i] = !is_unsigned && x[i] < 0 ? 0 : x[i];
        return 1;
    case DLC_UN_NEG:
        for (int64_t i = 0; i < n; i++) y[i] = (int64_t)(0u - (uint64_t)x[i]);
        return 1;
    case DLC_UN_ABS:
        for (int64_t i = 0; i < n; i++) y[i] = !is_unsigned && x[i] < 0 ? (int64_t)(0u - (uint64_t)x[i]) : x[i];
        return 1;
    case DLC_UN_SIGN:
        for (int64_t i = 0; i < n; i++) y[i] = is_unsigned ? x[i] != 0 : (x[i] > 0) - (x[i] < 0);
        return 1;
    case DLC_UN_NOT:
        for (int64_t i = 0; i < n; i++) y[i] = x[i] == 0;
        return 1;
    case DLC_UN_BITWISE_NOT:
        for (int64_t i = 0; i < n; i++) y[i] = (int64_t)~(uint64_t)x[i];
        return 1;
    default: return 0;
    }
}

static int unary_int_has(int op) {
    int64_t x = 0, y;
    return unary_int(op, 0, &x, &y, 1);
}

typedef struct unary_job {
    int op, cls, detect_negative, detect_positive;
    double alpha, beta;
    const void *x;
    int32_t xdt;
    void *y;
    int32_t ydt;
} unary_job;

static void classify_seg(const unary_job *j, ew_scratch *s, const ew_seg *seg) {
    uint8_t *y = (uint8_t *)j->y + seg->pos;
    int64_t n = seg->n;
    int nan = j->op == DLC_UN_ISNAN, neg = j->detect_negative, pos = j->detect_positive;
    if (j->cls == EW_F64) {
        const double *x = ew_load_f64(s, 0, j->x, j->xdt, seg);
        for (int64_t i = 0; i < n; i++)
            y[i] = nan ? x[i] != x[i] : ((pos && x[i] == INFINITY) || (neg && x[i] == -INFINITY));
    } else {
        const float *x = ew_load_f32(s, 0, j->x, j->xdt, seg);
        for (int64_t i = 0; i < n; i++)
            y[i] = nan ? x[i] != x[i] : ((pos && x[i] == INFINITY) || (neg && x[i] == -INFINITY));
    }
}

static void unary_seg(void *arg, ew_scratch *s, const ew_seg *seg) {
    const unary_job *j = arg;
    int64_t n = seg->n;
    if (j->op == DLC_UN_ISNAN || j->op == DLC_UN_ISINF) {
        classify_seg(j, s, seg);
        return;
    }
    switch (j->cls) {
    case EW_F32: {
        const float *x = ew_load_f32(s, 0, j->x, j->xdt, seg);
        float *y = j->ydt == EW_DT_F32 ? (float *)j->y + seg->pos : s->buf[EW_MAX_IN].f32;
        unary_f32(j->op, (float)j->alpha, (float)j->beta, x, y, n);
        if (j->ydt != EW_DT_F32) ew_store_f32(j->y, j->ydt, seg->pos, y, n);
        break;
    }
    case EW_F64: {
        const double *x = ew_load_f64(s, 0, j->x, j->xdt, seg);
        double *y = j->ydt == EW_DT_F64 ? (double *)j->y + seg->pos : s->buf[EW_MAX_IN].f64;
        unary_f64(j->op, j->alpha, j->beta, x, y, n);
        if (j->ydt != EW_DT_F64) ew_store_f64(j->y, j->ydt, seg->pos, y, n);
        break;
    }
    default: {
        const int64_t *x = ew_load_i64(s, 0, j->x, j->xdt, seg);
        int64_t *y = s->buf[EW_MAX_IN].i64;
        unary_int(j->op, j->cls == EW_U64, x, y, n);
        if (j->cls == EW_U64 && ew_is_float(j->ydt))
            for (int64_t i = 0; i < n; i++) ew_put_u64(j->y, j->ydt, seg->pos + i, (uint64_t)y[i]);
        else
            ew_store_i64(j->y, j->ydt, seg->pos, y, n);
        break;
    }
    }
}

int32_t dlc_kernel_unary(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx) {
    const int64_t *ints = dlc_kp_ints(p);
    const double *floats = dlc_kp_floats(p);
    const dlc_ktensor *in = dlc_kp_in(p, 0), *out = dlc_kp_out(p, 0);
    unary_job j = {
        .op = (int)ints[0],
        .cls = ew_class_of(in->dtype),
        .detect_negative = p->num_ints > 1 ? (int)ints[1] : 1,
        .detect_positive = p->num_ints > 2 ? (int)ints[2] : 1,
        .alpha = p->num_floats > 0 ? floats[0] : 0.0,
        .beta = p->num_floats > 1 ? floats[1] : 0.0,
        .x = inputs[0], .xdt = in->dtype, .y = outputs[0], .ydt = out->dtype,
    };
    if (j.op < 0 || j.op >= DLC_UN_COUNT) return DLC_KERR_UNSUPPORTED;
    int is_classify = j.op == DLC_UN_ISNAN || j.op == DLC_UN_ISINF;
    if (is_classify ? j.cls == EW_I64 || j.cls == EW_U64
                    : (j.cls == EW_I64 || j.cls == EW_U64) && !unary_int_has(j.op))
        return DLC_KERR_UNSUPPORTED;
    if (!is_classify && (j.cls == EW_F32 || j.cls == EW_F64) &&
        (j.op == DLC_UN_NOT || j.op == DLC_UN_BITWISE_NOT))
        return DLC_KERR_UNSUPPORTED;
    ew_plan plan;
    const dlc_ktensor *ins[1] = {in};
    ew_plan_init(&plan, out, ins, 1);
    ew_run(ctx, &plan, unary_seg, &j);
    return DLC_KOK;
}

/* ---- clip ---------------------------------------------------------------
 * inputs {x, min?, max?}; floats {min, max} stand in for absent bound
 * inputs (opset < 11 attributes, or +-inf). NaN passes through; min > max
 * gives max, like numpy.clip. */
typedef struct clip_job {
    int cls;
    const void *x;
    int32_t dt;
    void *y;
    double lo_f, hi_f;
    int64_t lo_i, hi_i;
} clip_job;

static void clip_seg(void *arg, ew_scratch *s, const ew_seg *seg) {
    const clip_job *j = arg;
    int64_t n = seg->n;
    switch (j->cls) {
    case EW_F32: {
        const float *x = ew_load_f32(s, 0, j->x, j->dt, seg);
        float *y = j->dt == EW_DT_F32 ? (float *)j->y + seg->pos : s->buf[EW_MAX_IN].f32;
        float lo = (float)j->lo_f, hi = (float)j->hi_f;
        EW_ALIAS_SAFE()
        for (int64_t i = 0; i < n; i++) {
            float v = x[i] < lo ? lo : x[i];
            y[i] = v > hi ? hi : v;
        }
        if (j->dt != EW_DT_F32) ew_store_f32(j->y, j->dt, seg->pos, y, n);
        break;
    }
    case EW_F64: {
        const double *x = ew_load_f64(s, 0, j->x, j->dt, seg);
        double *y = (double *)j->y + seg->pos;
        for (int64_t i = 0; i < n; i++) {
            double v = x[i] < j->lo_f ? j->lo_f : x[i];
            y[i] = v > j->hi_f ? j->hi_f : v;
        }
        break;
    }
    case EW_I64: {
        const int64_t *x = ew_load_i64(s, 0, j->x, j->dt, seg);
        int64_t *y = s->buf[EW_MAX_IN].i64;
        for (int64_t i = 0; i < n; i++) {
            int64_t v = x[i] < j->lo_i ? j->lo_i : x[i];
            y[i] = v > j->hi_i ? j->hi_i : v;
        }
        ew_store_i64(j->y, j->dt, seg->pos, y, n);
        break;
    }
    default: {
        const uint64_t *x = (const uint64_t *)j->x + seg->off[0];
        uint64_t *y = (uint64_t *)j->y + seg->pos, lo = (uint64_t)j->lo_i, hi = (uint64_t)j->hi_i;
        for (int64_t i = 0; i < n; i++) {
            uint64_t v = x[i] < lo ? lo : x[i];
            y[i] = v > hi ? hi : v;
        }
        break;
    }
    }
}

int32_t dlc_kernel_clip(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx) {
    const dlc_ktensor *in = dlc_kp_in(p, 0), *out = dlc_kp_out(p, 0);
    const double *floats = dlc_kp_floats(p);
    clip_job j = {.cls = ew_class_of(in->dtype), .x = inputs[0], .dt = in->dtype, .y = outputs[0]};
    if (in->dtype == EW_DT_BOOL) return DLC_KERR_UNSUPPORTED;
    j.lo_f = p->num_floats > 0 ? floats[0] : -INFINITY;
    j.hi_f = p->num_floats > 1 ? floats[1] : INFINITY;
    j.lo_i = j.cls == EW_U64 ? 0 : INT64_MIN;
    j.hi_i = j.cls == EW_U64 ? (int64_t)UINT64_MAX : INT64_MAX;
    for (int b = 1; b <= 2 && b < p->num_inputs; b++) {
        const dlc_ktensor *bound = dlc_kp_in(p, b);
        if (bound->dtype == 0 || inputs[b] == NULL) continue;
        if (bound->numel < 1) return DLC_KERR_BAD_VALUE;
        double f = ew_get_f64(inputs[b], bound->dtype, 0);
        int64_t i = ew_get_i64(inputs[b], bound->dtype, 0);
        if (b == 1) j.lo_f = f, j.lo_i = i;
        else j.hi_f = f, j.hi_i = i;
    }
    ew_plan plan;
    const dlc_ktensor *ins[1] = {in};
    ew_plan_init(&plan, out, ins, 1);
    ew_run(ctx, &plan, clip_seg, &j);
    return DLC_KOK;
}
