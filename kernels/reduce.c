/* Reduction kernels: "reduce" (ReduceSum/Mean/Max/Min/Prod/L1/L2/LogSum/
 * LogSumExp/SumSquare over an axes mask), "argreduce" (ArgMax/ArgMin) and
 * "softmax" (Softmax, LogSoftmax, Hardmax). Parameters: kernels/ew_ops.h.
 *
 * float16/bfloat16 accumulate in float32, float32 in float32 with eight
 * independent partial results (vectorizable and more accurate than one
 * running sum), float64 in double, integers in wrapping 64-bit arithmetic.
 * Integer L2/LogSum/LogSumExp compute in double and truncate on store. */
#include "kernels/ew_ops.h"
#include "kernels/ew_support.h"

#include <tgmath.h>

#include "kernels/reduce_fold.h"

/* ---- geometry of a reduction ------------------------------------------- */

/* The input's dims with size-1 dims dropped and neighbours of the same kind
 * (both reduced or both kept) merged; inner is the last merged dim. */
typedef struct red_geom {
    int64_t M, K;        /* outputs, elements reduced into each */
    int inner_reduced;
    int64_t L;           /* length of the innermost merged dim */
    int32_t nk, nr;      /* kept / reduced dims other than the innermost */
    int64_t kdims[DLC_KMAX_RANK], kstr[DLC_KMAX_RANK];
    int64_t rdims[DLC_KMAX_RANK], rstr[DLC_KMAX_RANK];
} red_geom;

static void red_geom_init(red_geom *g, const dlc_ktensor *in, int64_t mask) {
    int64_t dims[DLC_KMAX_RANK];
    int red[DLC_KMAX_RANK];
    int32_t r = 0;
    g->M = 1;
    g->K = 1;
    for (int32_t d = 0; d < in->rank; d++) {
        int reduced = (int)((mask >> d) & 1);
        if (reduced) g->K *= in->dims[d];
        else g->M *= in->dims[d];
        if (in->dims[d] == 1) continue;
        if (r > 0 && red[r - 1] == reduced) {
            dims[r - 1] *= in->dims[d];
        } else {
            dims[r] = in->dims[d];
            red[r] = reduced;
            r++;
        }
    }
    if (r == 0) { /* a scalar or all ones: one kept element */
        dims[0] = 1;
        red[0] = 0;
        r = 1;
    }
    int64_t strides[DLC_KMAX_RANK];
    strides[r - 1] = 1;
    for (int32_t d = r - 2; d >= 0; d--) strides[d] = strides[d + 1] * dims[d + 1];
    g->inner_reduced = red[r - 1];
    g->L = dims[r - 1];
    g->nk = g->nr = 0;
    for (int32_t d = 0; d < r - 1; d++) {
        if (red[d]) {
            g->rdims[g->nr] = dims[d];
            g->rstr[g->nr++] = strides[d];
        } else {
            g->kdims[g->nk] = dims[d];
            g->kstr[g->nk++] = strides[d];
        }
    }
}

/* Input offset of the outer index m over the kept dims (not the inner one). */
static int64_t kept_offset(const red_geom *g, int64_t m) {
    int64_t off = 0;
    for (int32_t d = g->nk - 1; d >= 0; d--) {
        off += (m % g->kdims[d]) * g->kstr[d];
        m /= g->kdims[d];
    }
    return off;
}

/* Odometer over the reduced dims (not the inner one): advances *off. */
static void next_reduced(const red_geom *g, int64_t *idx, int64_t *off) {
    for (int32_t d = g->nr - 1; d >= 0; d--) {
        idx[d]++;
        *off += g->rstr[d];
        if (idx[d] < g->rdims[d]) return;
        *off -= g->rstr[d] * g->rdims[d];
        idx[d] = 0;
    }
}

typedef struct red_job {
    red_geom g;
    int op, kind;
    const void *x;
    int32_t xdt;
    void *y;
    int32_t ydt;
    int uns;
} red_job;

#define DEFINE_REDUCE_FLOAT(S, T, NATIVE_DT, CONVERT, STORE)                                       \
    DEFINE_REDUCE_FOLD(S, T)                                                                       \
    static const T *load_##S(const red_job *j, int64_t off, int64_t n, T *buf) {                   \
        if (j->xdt == NATIVE_DT) return (const T *)j->x + off;                                     \
        CONVERT(j->x, j->xdt, off, n, buf);                                                        \
        return buf;                                                                                \
    }                                                                                              \
    /* acc combined with the contributions of x[0..n) */                                           \
    static T row_##S(int kind, const T *x, int64_t n, T shift, T acc) {                            \
        return combine_##S(red_combine_kind(kind), acc, lanes_##S(kind, x, n, shift));             \
    }                                                                                              \
    static void col_##S(int kind, T *acc, const T *x, int64_t n, const T *shift) {                 \
        switch (kind) {                                                                            \
        case K_SUM: for (int64_t i = 0; i < n; i++) acc[i] += x[i]; break;                         \
        case K_ABS: for (int64_t i = 0; i < n; i++) acc[i] += fabs(x[i]); break;                   \
        case K_SQ: for (int64_t i = 0; i < n; i++) acc[i] += x[i] * x[i]; break;                   \
        case K_PROD: for (int64_t i = 0; i < n; i++) acc[i] *= x[i]; break;                        \
        case K_MAX: for (int64_t i = 0; i < n; i++) acc[i] = RED_NAN_MAX(acc[i], x[i]); break;     \
        case K_MIN: for (int64_t i = 0; i < n; i++) acc[i] = RED_NAN_MIN(acc[i], x[i]); break;     \
        default: for (int64_t i = 0; i < n; i++) acc[i] += dlc_exp(x[i] - shift[i]); break;        \
        }                                                                                          \
    }                                                                                              \
    /* innermost dim reduced: each output folds contiguous rows */                                 \
    static T fold_rows_##S(const red_job *j, int64_t base, int kind, T shift) {                    \
        const red_geom *g = &j->g;                                                                 \
        T buf[EW_BLOCK], acc = init_##S(kind);                                                     \
        int64_t idx[DLC_KMAX_RANK] = {0}, roff = 0;                                                \
        for (int64_t r = 0, rows = g->K / g->L; r < rows; r++) {                                   \
            for (int64_t c = 0; c < g->L; c += EW_BLOCK) {                                         \
                int64_t n = g->L - c < EW_BLOCK ? g->L - c : EW_BLOCK;                             \
                acc = row_##S(kind, load_##S(j, base + roff + c, n, buf), n, shift, acc);          \
            }                                                                                      \
            next_reduced(g, idx, &roff);                                                           \
        }                                                                                          \
        return acc;                                                                                \
    }                                                                                              \
    static void rows_range_##S(void *arg, int64_t begin, int64_t end) {                            \
        const red_job *j = arg;                                                                    \
        for (int64_t m = begin; m < end; m++) {                                                    \
            int64_t base = kept_offset(&j->g, m);                                                  \
            T shift = 0;                                                                           \
            if (j->kind == K_EXP) shift = fold_rows_##S(j, base, K_MAX, 0);                        \
            T acc = fold_rows_##S(j, base, j->kind, shift);                                        \
            T v = finish_##S(j->op, acc, shift, j->g.K);                                           \
            STORE(j->y, j->ydt, m, &v, 1);                                                         \
        }                                                                                          \
    }                                                                                              \
    /* innermost dim kept: blocks of outputs accumulate whole input rows */                        \
    static void fold_cols_##S(const red_job *j, int64_t base, int64_t n, int kind, T *acc, const T *shift) { \
        const red_geom *g = &j->g;                                                                 \
        T buf[EW_BLOCK];                                                                           \
        for (int64_t i = 0; i < n; i++) acc[i] = init_##S(kind);                                   \
        int64_t idx[DLC_KMAX_RANK] = {0}, roff = 0;                                                \
        for (int64_t r = 0; r < g->K; r++) {                                                       \
            col_##S(kind, acc, load_##S(j, base + roff, n, buf), n, shift);                        \
            next_reduced(g, idx, &roff);                                                           \
        }                                                                                          \
    }                                                                                              \
    static void cols_range_##S(void *arg, int64_t begin, int64_t end) {                            \
        const red_job *j = arg;                                                                    \
        int64_t blocks = (j->g.L + EW_BLOCK - 1) / EW_BLOCK;                                       \
        T acc[EW_BLOCK], shift[EW_BLOCK];                                                          \
        for (int64_t item = begin; item < end; item++) {                                           \
            int64_t row = item / blocks, c0 = (item % blocks) * EW_BLOCK;                          \
            int64_t n = j->g.L - c0 < EW_BLOCK ? j->g.L - c0 : EW_BLOCK;                           \
            int64_t base = kept_offset(&j->g, row) + c0;                                           \
            if (j->kind == K_EXP) fold_cols_##S(j, base, n, K_MAX, shift, shift);                  \
            fold_cols_##S(j, base, n, j->kind, acc, shift);                                        \
            for (int64_t i = 0; i < n; i++)                                                        \
                acc[i] = finish_##S(j->op, acc[i], j->kind == K_EXP ? shift[i] : 0, j->g.K);       \
            STORE(j->y, j->ydt, row * j->g.L + c0, acc, n);                                        \
        }                                                                                          \
    }

DEFINE_REDUCE_FLOAT(f32, float, EW_DT_F32, ew_convert_to_f32, ew_store_f32)
DEFINE_REDUCE_FLOAT(f64, double, EW_DT_F64, ew_convert_to_f64, ew_store_f64)

/* ---- integer reductions (wrapping) --------------------------------------- */

static int64_t int_combine(int kind, int uns, int64_t a, int64_t b) {
    switch (kind) {
    case K_PROD: return (int64_t)((uint64_t)a * (uint64_t)b);
    case K_MAX: return (uns ? (uint64_t)b > (uint64_t)a : b > a) ? b : a;
    case K_MIN: return (uns ? (uint64_t)b < (uint64_t)a : b < a) ? b : a;
    default: return (int64_t)((uint64_t)a + (uint64_t)b);
    }
}
static int64_t int_contribution(int kind, int uns, int64_t v) {
    if (kind == K_ABS) return !uns && v < 0 ? (int64_t)(0u - (uint64_t)v) : v;
    if (kind == K_SQ) return (int64_t)((uint64_t)v * (uint64_t)v);
    return v;
}
static int64_t int_init(int kind, int uns) {
    if (kind == K_PROD) return 1;
    if (kind == K_MAX) return uns ? 0 : INT64_MIN;
    if (kind == K_MIN) return uns ? (int64_t)UINT64_MAX : INT64_MAX;
    return 0;
}
static int64_t int_finish(int op, int uns, int64_t acc, int64_t K) {
    if (op != DLC_RED_MEAN || K == 0) return acc;
    return uns ? (int64_t)((uint64_t)acc / (uint64_t)K) : acc / K; /* truncates like C */
}

static void int_fold(const red_job *j, int64_t base, int64_t n, int64_t *acc, int64_t stride_n) {
    const red_geom *g = &j->g;
    int64_t buf[EW_BLOCK];
    int ckind = j->kind == K_ABS || j->kind == K_SQ ? K_SUM : j->kind;
    int64_t idx[DLC_KMAX_RANK] = {0}, roff = 0;
    int64_t rows = g->inner_reduced ? g->K / g->L : g->K;
    for (int64_t r = 0; r < rows; r++) {
        if (g->inner_reduced) {
            for (int64_t c = 0; c < g->L; c += EW_BLOCK) {
                int64_t m = g->L - c < EW_BLOCK ? g->L - c : EW_BLOCK;
                ew_convert_to_i64(j->x, j->xdt, base + roff + c, m, buf);
                for (int64_t i = 0; i < m; i++)
                    acc[0] = int_combine(ckind, j->uns, acc[0], int_contribution(j->kind, j->uns, buf[i]));
            }
        } else {
            ew_convert_to_i64(j->x, j->xdt, base + roff, n, buf);
            for (int64_t i = 0; i < n; i++)
                acc[i] = int_combine(ckind, j->uns, acc[i], int_contribution(j->kind, j->uns, buf[i]));
        }
        next_reduced(g, idx, &roff);
    }
    (void)stride_n;
}

static void int_range(void *arg, int64_t begin, int64_t end) {
    const red_job *j = arg;
    int64_t acc[EW_BLOCK];
    int64_t blocks = j->g.inner_reduced ? 1 : (j->g.L + EW_BLOCK - 1) / EW_BLOCK;
    for (int64_t item = begin; item < end; item++) {
        int64_t row = item / blocks, c0 = (item % blocks) * EW_BLOCK;
        int64_t n = j->g.inner_reduced ? 1 : (j->g.L - c0 < EW_BLOCK ? j->g.L - c0 : EW_BLOCK);
        for (int64_t i = 0; i < n; i++) acc[i] = int_init(j->kind, j->uns);
        int_fold(j, kept_offset(&j->g, row) + c0, n, acc, n);
        for (int64_t i = 0; i < n; i++) acc[i] = int_finish(j->op, j->uns, acc[i], j->g.K);
        ew_store_i64(j->y, j->ydt, j->g.inner_reduced ? row : row * j->g.L + c0, acc, n);
    }
}

/* Reductions over nothing give the identity of the op, after finishing
 * (Sum 0, Prod 1, Max -inf, Mean NaN, LogSum -inf, ...). */
static void fill_empty(const red_job *j, int cls) {
    for (int64_t m = 0; m < j->g.M; m++) {
        if (cls == EW_F32 || cls == EW_F64) {
            double shift = j->kind == K_EXP ? -INFINITY : 0.0;
            double v = finish_f64(j->op, init_f64(j->kind == K_EXP ? K_SUM : j->kind), shift, 0);
            ew_put_f64(j->y, j->ydt, m, v);
        } else {
            ew_put_i64(j->y, j->ydt, m, int_init(j->kind, j->uns));
        }
    }
}

int32_t dlc_kernel_reduce(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx) {
    const dlc_ktensor *in = dlc_kp_in(p, 0), *out = dlc_kp_out(p, 0);
    const int64_t *ints = dlc_kp_ints(p);
    red_job j = {.op = (int)ints[0], .x = inputs[0], .xdt = in->dtype, .y = outputs[0], .ydt = out->dtype};
    if (j.op < 0 || j.op >= DLC_RED_COUNT || in->dtype == EW_DT_BOOL) return DLC_KERR_UNSUPPORTED;
    j.kind = red_kind_of(j.op);
    red_geom_init(&j.g, in, ints[1]);
    int cls = ew_class_of(in->dtype);
    int needs_float = j.op == DLC_RED_L2 || j.op == DLC_RED_LOG_SUM || j.op == DLC_RED_LOG_SUM_EXP;
    if ((cls == EW_I64 || cls == EW_U64) && needs_float) cls = EW_F64;
    j.uns = cls == EW_U64;
    if (j.g.M == 0) return DLC_KOK;
    if (j.g.K == 0) {
        fill_empty(&j, cls);
        return DLC_KOK;
    }
    int64_t items = j.g.inner_reduced ? j.g.M : j.g.M / j.g.L * ((j.g.L + EW_BLOCK - 1) / EW_BLOCK);
    int64_t work_per_item = j.g.inner_reduced ? j.g.K : j.g.K * (j.g.L < EW_BLOCK ? j.g.L : EW_BLOCK);
    int64_t min_items = EW_MIN_CHUNK / (work_per_item > 0 ? work_per_item : 1) + 1;
    dlc_parallel_body body;
    if (cls == EW_F32) body = j.g.inner_reduced ? rows_range_f32 : cols_range_f32;
    else if (cls == EW_F64) body = j.g.inner_reduced ? rows_range_f64 : cols_range_f64;
    else body = int_range;
    dlc_parallel_for(ctx, items, min_items, body, &j);
    return DLC_KOK;
}

/* ---- argreduce ------------------------------------------------------------
 * int64 index of the first (or with select_last_index the last) max/min
 * along axis; NaN counts as the extreme, like numpy.argmax. */
typedef struct arg_job {
    int is_max, last;
    int64_t outer, K, inner;
    const void *x;
    int32_t dt;
    int64_t *y;
} arg_job;

static int better_f(const arg_job *j, double v, double best) {
    if (best != best) return j->last && v != v;
    if (v != v) return 1;
    return (j->is_max ? v > best : v < best) || (j->last && v == best);
}

static void arg_range(void *arg, int64_t begin, int64_t end) {
    const arg_job *j = arg;
    int is_float = ew_is_float(j->dt), uns = j->dt == EW_DT_U64;
    for (int64_t o = begin; o < end; o++) {
        int64_t outer = o / j->inner, c = o % j->inner;
        int64_t base = outer * j->K * j->inner + c, best_k = 0;
        if (j->dt == EW_DT_F32) {
            const float *x = (const float *)j->x + base;
            float best = x[0];
            for (int64_t k = 1; k < j->K; k++)
                if (better_f(j, x[k * j->inner], best)) best = x[k * j->inner], best_k = k;
        } else if (is_float) {
            double best = ew_get_f64(j->x, j->dt, base);
            for (int64_t k = 1; k < j->K; k++) {
                double v = ew_get_f64(j->x, j->dt, base + k * j->inner);
                if (better_f(j, v, best)) best = v, best_k = k;
            }
        } else {
            int64_t best = ew_get_i64(j->x, j->dt, base);
            for (int64_t k = 1; k < j->K; k++) {
                int64_t v = ew_get_i64(j->x, j->dt, base + k * j->inner);
                int gt = uns ? (uint64_t)v > (uint64_t)best : v > best;
                int lt = uns ? (uint64_t)v < (uint64_t)best : v < best;
                if ((j->is_max ? gt : lt) || (j->last && v == best)) best = v, best_k = k;
            }
        }
        j->y[o] = best_k;
    }
}

int32_t dlc_kernel_argreduce(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx) {
    const dlc_ktensor *in = dlc_kp_in(p, 0);
    const int64_t *ints = dlc_kp_ints(p);
    int32_t axis = (int32_t)ints[1];
    if (axis < 0 || axis >= (in->rank > 0 ? in->rank : 1) || dlc_kp_out(p, 0)->dtype != EW_DT_I64)
        return DLC_KERR_UNSUPPORTED;
    arg_job j = {.is_max = ints[0] == DLC_ARG_MAX, .last = (int)ints[2], .outer = 1, .K = 1, .inner = 1,
                 .x = inputs[0], .dt = in->dtype, .y = outputs[0]};
    for (int32_t d = 0; d < in->rank; d++) {
        if (d < axis) j.outer *= in->dims[d];
        else if (d == axis) j.K = in->dims[d];
        else j.inner *= in->dims[d];
    }
    if (j.outer * j.inner == 0) return DLC_KOK;
    if (j.K == 0) return DLC_KERR_BAD_VALUE; /* no element to point at */
    dlc_parallel_for(ctx, j.outer * j.inner, EW_MIN_CHUNK / j.K + 1, arg_range, &j);
    return DLC_KOK;
}

/* ---- softmax ----------------------------------------------------------------
 * Numerically stable: x - max before exp. Rows are [outer, K, inner]; with
 * inner == 1 a row is contiguous, else blocks of columns advance together. */
typedef struct softmax_job {
    int mode;
    int64_t outer, K, inner;
    const void *x;
    int32_t xdt;
    void *y;
    int32_t ydt;
} softmax_job;

#define DEFINE_SOFTMAX(S, T, NATIVE_DT, CONVERT, STORE)                                            \
    static const T *sm_load_##S(const softmax_job *j, int64_t off, int64_t n, T *buf) {            \
        if (j->xdt == NATIVE_DT) return (const T *)j->x + off;                                     \
        CONVERT(j->x, j->xdt, off, n, buf);                                                        \
        return buf;                                                                                \
    }                                                                                              \
    /* one contiguous row of K at off */                                                           \
    static void sm_row_##S(const softmax_job *j, int64_t off) {                                    \
        T buf[EW_BLOCK], out[EW_BLOCK];                                                            \
        int64_t K = j->K, arg = 0;                                                                 \
        T max = -(T)INFINITY;                                                                      \
        for (int64_t c = 0; c < K; c += EW_BLOCK) {                                                \
            int64_t n = K - c < EW_BLOCK ? K - c : EW_BLOCK;                                       \
            const T *x = sm_load_##S(j, off + c, n, buf);                                          \
            for (int64_t i = 0; i < n; i++)                                                        \
                if (x[i] > max || (x[i] != x[i] && max == max)) max = x[i], arg = c + i;           \
        }                                                                                          \
        if (j->mode == DLC_HARDMAX) {                                                              \
            for (int64_t c = 0; c < K; c += EW_BLOCK) {                                            \
                int64_t n = K - c < EW_BLOCK ? K - c : EW_BLOCK;                                   \
                for (int64_t i = 0; i < n; i++) out[i] = c + i == arg ? (T)1 : (T)0;               \
                STORE(j->y, j->ydt, off + c, out, n);                                              \
            }                                                                                      \
            return;                                                                                \
        }                                                                                          \
        int in_place = j->ydt == NATIVE_DT && j->mode == DLC_SOFTMAX;                              \
        T sum = 0;                                                                                 \
        for (int64_t c = 0; c < K; c += EW_BLOCK) {                                                \
            int64_t n = K - c < EW_BLOCK ? K - c : EW_BLOCK;                                       \
            const T *x = sm_load_##S(j, off + c, n, buf);                                          \
            T *e = in_place ? (T *)j->y + off + c : out;                                           \
            for (int64_t i = 0; i < n; i++) e[i] = dlc_exp(x[i] - max);                            \
            for (int64_t i = 0; i < n; i++) sum += e[i];                                           \
        }                                                                                          \
        T scale = (T)1 / sum, log_sum = log(sum);                                                  \
        for (int64_t c = 0; c < K; c += EW_BLOCK) {                                                \
            int64_t n = K - c < EW_BLOCK ? K - c : EW_BLOCK;                                       \
            if (in_place) {                                                                        \
                T *e = (T *)j->y + off + c;                                                        \
                for (int64_t i = 0; i < n; i++) e[i] *= scale;                                     \
                continue;                                                                          \
            }                                                                                      \
            const T *x = sm_load_##S(j, off + c, n, buf);                                          \
            if (j->mode == DLC_LOG_SOFTMAX)                                                        \
                for (int64_t i = 0; i < n; i++) out[i] = x[i] - max - log_sum;                     \
            else                                                                                   \
                for (int64_t i = 0; i < n; i++) out[i] = dlc_exp(x[i] - max) * scale;              \
            STORE(j->y, j->ydt, off + c, out, n);                                                  \
        }                                                                                          \
    }                                                                                              \
    /* n columns from off, rows inner apart */                                                     \
    static void sm_cols_##S(const softmax_job *j, int64_t off, int64_t n) {                        \
        T buf[EW_BLOCK], out[EW_BLOCK], max[EW_BLOCK], sum[EW_BLOCK];                              \
        int64_t arg[EW_BLOCK];                                                                     \
        for (int64_t i = 0; i < n; i++) max[i] = -(T)INFINITY, sum[i] = 0, arg[i] = 0;             \
        for (int64_t k = 0; k < j->K; k++) {                                                       \
            const T *x = sm_load_##S(j, off + k * j->inner, n, buf);                               \
            for (int64_t i = 0; i < n; i++)                                                        \
                if (x[i] > max[i] || (x[i] != x[i] && max[i] == max[i])) max[i] = x[i], arg[i] = k; \
        }                                                                                          \
        if (j->mode != DLC_HARDMAX)                                                                \
            for (int64_t k = 0; k < j->K; k++) {                                                   \
                const T *x = sm_load_##S(j, off + k * j->inner, n, buf);                           \
                for (int64_t i = 0; i < n; i++) sum[i] += dlc_exp(x[i] - max[i]);                  \
            }                                                                                      \
        for (int64_t i = 0; i < n; i++) sum[i] = j->mode == DLC_LOG_SOFTMAX ? log(sum[i]) : (T)1 / sum[i]; \
        for (int64_t k = 0; k < j->K; k++) {                                                       \
            const T *x = sm_load_##S(j, off + k * j->inner, n, buf);                               \
            if (j->mode == DLC_HARDMAX)                                                            \
                for (int64_t i = 0; i < n; i++) out[i] = arg[i] == k ? (T)1 : (T)0;                \
            else if (j->mode == DLC_LOG_SOFTMAX)                                                   \
                for (int64_t i = 0; i < n; i++) out[i] = x[i] - max[i] - sum[i];                   \
            else                                                                                   \
                for (int64_t i = 0; i < n; i++) out[i] = dlc_exp(x[i] - max[i]) * sum[i];          \
            STORE(j->y, j->ydt, off + k * j->inner, out, n);                                       \
        }                                                                                          \
    }                                                                                              \
    static void sm_range_##S(void *arg, int64_t begin, int64_t end) {                              \
        const softmax_job *j = arg;                                                                \
        int64_t blocks = (j->inner + EW_BLOCK - 1) / EW_BLOCK;                                     \
        for (int64_t item = begin; item < end; item++) {                                           \
            int64_t o = item / blocks, c0 = (item % blocks) * EW_BLOCK;                            \
            if (j->inner == 1) sm_row_##S(j, o * j->K);                                            \
            else sm_cols_##S(j, o * j->K * j->inner + c0, j->inner - c0 < EW_BLOCK ? j->inner - c0 : EW_BLOCK); \
        }                                                                                          \
    }

DEFINE_SOFTMAX(f32, float, EW_DT_F32, ew_convert_to_f32, ew_store_f32)
DEFINE_SOFTMAX(f64, double, EW_DT_F64, ew_convert_to_f64, ew_store_f64)

static void sm_range_fast_f32(void *arg, int64_t begin, int64_t end) {
    const softmax_job *j = arg;
    for (int64_t o = begin; o < end; o++)
        softmax_row_f32((const float *)j->x + o * j->K, (float *)j->y + o * j->K, j->K, j->mode == DLC_LOG_SOFTMAX);
}

int32_t dlc_kernel_softmax(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx) {
    const dlc_ktensor *in = dlc_kp_in(p, 0), *out = dlc_kp_out(p, 0);
    const int64_t *ints = dlc_kp_ints(p);
    softmax_job j = {.mode = (int)ints[0], .outer = 1, .K = 1, .inner = 1, .x = inputs[0], .xdt = in->dtype,
                     .y = outputs[0], .ydt = out->dtype};
    int32_t axis = (int32_t)ints[1];
    int coerce_2d = (int)ints[2];
    if (!ew_is_float(in->dtype) || j.mode < DLC_SOFTMAX || j.mode > DLC_HARDMAX) return DLC_KERR_UNSUPPORTED;
    for (int32_t d = 0; d < in->rank; d++) {
        if (d < axis) j.outer *= in->dims[d];
        else if (d == axis || coerce_2d) j.K *= in->dims[d];
        else j.inner *= in->dims[d];
    }
    if (in->numel == 0) return DLC_KOK;
    int64_t items = j.outer * ((j.inner + EW_BLOCK - 1) / EW_BLOCK);
    int64_t per_item = j.K * (j.inner < EW_BLOCK ? j.inner : EW_BLOCK);
    int fast = j.inner == 1 && j.xdt == EW_DT_F32 && j.ydt == EW_DT_F32 && j.mode != DLC_HARDMAX;
    dlc_parallel_for(ctx, items, EW_MIN_CHUNK / per_item + 1,
                     fast ? sm_range_fast_f32 : in->dtype == EW_DT_F64 ? sm_range_f64 : sm_range_f32, &j);
    return DLC_KOK;
}

#ifndef DLC_KERNEL_BITCODE
#include "kernels/kernel_registry.h"
const dlc_kernel_entry dlc_kernels_reduce[] = {
    {"reduce", dlc_kernel_reduce, NULL},
    {"argreduce", dlc_kernel_argreduce, NULL},
    {"softmax", dlc_kernel_softmax, NULL},
    {NULL, NULL, NULL},
};
#endif
