/* ew_chain: a fused chain of float32 elementwise ops (dlc.ElementwiseChain,
 * passes/fuse_elementwise.c), its program described in kernels/ew_chain.h.
 *
 * The output is walked in segments of at most CHAIN_BLOCK elements along
 * its innermost (merged) dim, as the "binary" kernel walks it: within a
 * segment every input is either contiguous or one repeated element (a
 * scalar, a per-channel bias). Each instruction is one tight loop over the
 * segment into a block register on the stack, so intermediates stay in L1
 * and every input and the output are touched once, instead of one kernel
 * per op each reading and writing a whole tensor. A repeated element stays
 * a scalar: an instruction whose operands are all scalars is computed once
 * per segment.
 *
 * The formulas are those of kernels/elementwise_unary.c and
 * kernels/elementwise.c, written the same way (fast_math.h for exp, tanh,
 * sigmoid and erf), so a fused chain gives the bits the separate kernels give. */
#include "kernels/ew_chain.h"
#include "kernels/ew_ops.h"
#include "kernels/dlc_kernel.h"

#include <stdbool.h>
#include <tgmath.h> /* log/sqrt/... of a float argument are the float functions, as in elementwise_unary.c */

#include "kernels/ew_support.h" /* EW_BLOCK: reduce.c's block, part of the fold's rounding */
#include "kernels/reduce_fold.h"

#include "kernels/fast_math.h"

#define CHAIN_BLOCK 512
#define CHAIN_MIN_CHUNK 8192 /* elements per thread: a chain does several ops per element */

/* min(1, max(0, v)) keeping NaN (elementwise_unary.c's clamp01) */
#define clamp01(V, ZERO, ONE) ((V) < (ZERO) ? (ZERO) : (V) > (ONE) ? (ONE) : (V))

#define CHAIN_MAP(EXPR)                                                                            \
    for (int64_t i = 0; i < n; i++) {                                                              \
        float v = x[i];                                                                            \
        y[i] = (EXPR);                                                                             \
    }                                                                                              \
    return 1

/* elementwise_unary.c's float ops, for float only; 0 for an op it lacks. */
static int chain_unary(int op, float alpha, float beta, const float *x, float *y, int64_t n) {
    const float one = 1, zero = 0, half = 0.5f;
    switch (op) {
    case DLC_UN_IDENTITY: CHAIN_MAP(v);
    case DLC_UN_RELU: CHAIN_MAP(v < zero ? zero : v);
    case DLC_UN_LEAKY_RELU: CHAIN_MAP(v < zero ? alpha * v : v);
    case DLC_UN_SIGMOID: CHAIN_MAP(dlc_sigmoid(v));
    case DLC_UN_HARD_SIGMOID: CHAIN_MAP(clamp01(alpha * v + beta, zero, one));
    case DLC_UN_HARD_SWISH: CHAIN_MAP(v * clamp01(v / (float)6 + half, zero, one));
    case DLC_UN_TANH: CHAIN_MAP(dlc_tanh(v));
    case DLC_UN_EXP: CHAIN_MAP(dlc_exp(v));
    case DLC_UN_LOG: CHAIN_MAP(log(v));
    case DLC_UN_SQRT: CHAIN_MAP(sqrt(v));
    case DLC_UN_RECIPROCAL: CHAIN_MAP(one / v);
    case DLC_UN_NEG: CHAIN_MAP(-v);
    case DLC_UN_ABS: CHAIN_MAP(fabs(v));
    case DLC_UN_ERF: CHAIN_MAP(dlc_erf(v));
    case DLC_UN_FLOOR: CHAIN_MAP(floor(v));
    case DLC_UN_CEIL: CHAIN_MAP(ceil(v));
    case DLC_UN_ROUND: CHAIN_MAP(rint(v));
    case DLC_UN_SIGN: CHAIN_MAP(v > zero ? one : (v < zero ? -one : v));
    case DLC_UN_SIN: CHAIN_MAP(sin(v));
    case DLC_UN_COS: CHAIN_MAP(cos(v));
    case DLC_UN_TAN: CHAIN_MAP(tan(v));
    case DLC_UN_ASIN: CHAIN_MAP(asin(v));
    case DLC_UN_ACOS: CHAIN_MAP(acos(v));
    case DLC_UN_ATAN: CHAIN_MAP(atan(v));
    case DLC_UN_SINH: CHAIN_MAP(sinh(v));
    case DLC_UN_COSH: CHAIN_MAP(cosh(v));
    case DLC_UN_ASINH: CHAIN_MAP(asinh(v));
    case DLC_UN_ACOSH: CHAIN_MAP(acosh(v));
    case DLC_UN_ATANH: CHAIN_MAP(atanh(v));
    case DLC_UN_SOFTPLUS: CHAIN_MAP(v > zero ? v + log1p(exp(-v)) : log1p(exp(v)));
    case DLC_UN_SOFTSIGN: CHAIN_MAP(v / (one + fabs(v)));
    case DLC_UN_ELU: CHAIN_MAP(v < zero ? alpha * expm1(v) : v);
    case DLC_UN_SELU: CHAIN_MAP(v <= zero ? beta * alpha * expm1(v) : beta * v);
    case DLC_UN_CELU: CHAIN_MAP(v > zero ? v : alpha * expm1(v / alpha));
    case DLC_UN_MISH: CHAIN_MAP(v * tanh(v > zero ? v + log1p(exp(-v)) : log1p(exp(v))));
    case DLC_UN_GELU: CHAIN_MAP(half * v * (one + dlc_erf(v * (float)0.70710678118654752440)));
    case DLC_UN_GELU_TANH:
        CHAIN_MAP(half * v * (one + dlc_tanh((float)0.79788456080286535588 * (v + (float)0.044715 * v * v * v))));
    case DLC_UN_THRESHOLDED_RELU: CHAIN_MAP(v > alpha ? v : zero);
    default: return 0;
    }
}

/* y = a (op) b where a NULL stands for the scalar as, b NULL for bs: the
 * four loops keep a repeated operand in a register. */
#define CHAIN_ZIP(EXPR)                                                                            \
    if (a != NULL && b != NULL) {                                                                  \
        for (int64_t i = 0; i < n; i++) {                                                          \
            float u = a[i], v = b[i];                                                              \
            y[i] = (EXPR);                                                                         \
        }                                                                                          \
    } else if (a != NULL) {                                                                        \
        for (int64_t i = 0; i < n; i++) {                                                          \
            float u = a[i], v = bs;                                                                \
            y[i] = (EXPR);                                                                         \
        }                                                                                          \
    } else if (b != NULL) {                                                                        \
        for (int64_t i = 0; i < n; i++) {                                                          \
            float u = as, v = b[i];                                                                \
            y[i] = (EXPR);                                                                         \
        }                                                                                          \
    } else {                                                                                       \
        float u = as, v = bs;                                                                      \
        float r = (EXPR);                                                                          \
        for (int64_t i = 0; i < n; i++) y[i] = r;                                                  \
    }                                                                                              \
    return 1

/* elementwise.c's float arithmetic; 0 for an op it lacks. */
static int chain_binary(int op, const float *a, float as, const float *b, float bs, float *y, int64_t n) {
    const float zero = 0;
    switch (op) {
    case DLC_BIN_ADD: CHAIN_ZIP(u + v);
    case DLC_BIN_SUB: CHAIN_ZIP(u - v);
    case DLC_BIN_MUL: CHAIN_ZIP(u * v);
    case DLC_BIN_DIV: CHAIN_ZIP(u / v);
    case DLC_BIN_POW: CHAIN_ZIP(pow(u, v));
    case DLC_BIN_PRELU: CHAIN_ZIP(u < zero ? u * v : u);
    case DLC_BIN_MAX: CHAIN_ZIP(u > v || u != u ? u : v); /* NaN in either wins */
    case DLC_BIN_MIN: CHAIN_ZIP(u < v || u != u ? u : v);
    default: return 0;
    }
}

/* The Clip kernel's order: NaN passes, min > max gives max. */
static void chain_clip(float lo, float hi, const float *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        float v = x[i] < lo ? lo : x[i];
        y[i] = v > hi ? hi : v;
    }
}

typedef struct chain_instr {
    int op, dst, a, b, param;
} chain_instr;

/* Broadcast plan over the output (ew_support.h's, for more inputs): dims
 * without the output's 1s, merged while every input stays contiguous. */
typedef struct chain_job {
    int32_t count, num_in, rank;
    chain_instr code[DLC_CHAIN_MAX_INSTR];
    float consts[DLC_CHAIN_MAX_FLOATS];
    const float *in[DLC_CHAIN_MAX_IN];
    float *y;
    int64_t dims[DLC_KMAX_RANK];
    int64_t strides[DLC_CHAIN_MAX_IN][DLC_KMAX_RANK];
} chain_job;

static void plan_init(chain_job *j, const dlc_kparams *p, const int64_t *out_dims, int32_t out_rank) {
    int32_t r = 0;
    for (int32_t d = 0; d < out_rank; d++) {
        if (out_dims[d] == 1) continue;
        j->dims[r] = out_dims[d];
        for (int k = 0; k < j->num_in; k++) {
            const dlc_ktensor *in = dlc_kp_in(p, k);
            int32_t id = d - (out_rank - in->rank);
            int64_t stride = 0;
            if (id >= 0 && in->dims[id] != 1) {
                stride = 1;
                for (int32_t e = id + 1; e < in->rank; e++) stride *= in->dims[e];
            }
            j->strides[k][r] = stride;
        }
        r++;
    }
    if (r == 0) {
        j->dims[0] = 1;
        for (int k = 0; k < j->num_in; k++) j->strides[k][0] = 0;
        r = 1;
    }
    int32_t m = 0;
    for (int32_t d = 1; d < r; d++) {
        int mergeable = 1;
        for (int k = 0; k < j->num_in; k++)
            if (j->strides[k][m] != j->strides[k][d] * j->dims[d]) mergeable = 0;
        if (mergeable) {
            j->dims[m] *= j->dims[d];
            for (int k = 0; k < j->num_in; k++) j->strides[k][m] = j->strides[k][d];
        } else {
            m++;
            j->dims[m] = j->dims[d];
            for (int k = 0; k < j->num_in; k++) j->strides[k][m] = j->strides[k][d];
        }
    }
    j->rank = m + 1;
}

/* An operand within a segment: n contiguous floats at p, or (p NULL) the scalar s. */
typedef struct chain_val {
    const float *p;
    float s;
} chain_val;

typedef struct chain_regs {
    float buf[DLC_CHAIN_MAX_REGS][CHAIN_BLOCK];
    chain_val val[DLC_CHAIN_MAX_REGS];
} chain_regs;

static chain_val operand(const chain_job *j, const chain_val *ins, const chain_regs *r, int x) {
    if (x >= DLC_CHAIN_CONST) return (chain_val){NULL, j->consts[x - DLC_CHAIN_CONST]};
    if (x >= DLC_CHAIN_REG) return r->val[x - DLC_CHAIN_REG];
    return ins[x];
}

/* Runs the program over output elements [pos, pos + n) into out[0..n). */
static void run_segment(const chain_job *j, chain_regs *r, const chain_val *ins, float *out, int64_t n) {
    for (int32_t k = 0; k < j->count; k++) {
        const chain_instr *c = &j->code[k];
        chain_val a = operand(j, ins, r, c->a);
        chain_val b = c->b >= 0 ? operand(j, ins, r, c->b) : (chain_val){NULL, 0.0f};
        bool scalar = a.p == NULL && b.p == NULL;
        float *y = c->dst < 0 ? out : r->buf[c->dst];
        float s = 0.0f, *dst = scalar ? &s : y;
        const float *x = a.p != NULL ? a.p : &a.s;
        int64_t m = scalar ? 1 : n;
        if (c->op >= DLC_CHAIN_CLIP) {
            chain_clip(j->consts[c->param], j->consts[c->param + 1], x, dst, m);
        } else if (c->op >= DLC_CHAIN_BINARY) {
            chain_binary(c->op - DLC_CHAIN_BINARY, a.p, a.s, b.p, b.s, dst, m);
        } else {
            float alpha = c->param >= 0 ? j->consts[c->param] : 0.0f;
            float beta = c->param >= 0 ? j->consts[c->param + 1] : 0.0f;
            chain_unary(c->op - DLC_CHAIN_UNARY, alpha, beta, x, dst, m);
        }
        if (c->dst >= 0) r->val[c->dst] = scalar ? (chain_val){NULL, s} : (chain_val){y, 0.0f};
        else if (scalar)
            for (int64_t i = 0; i < n; i++) y[i] = s; /* every input repeated along the segment */
    }
}

static void regs_init(chain_regs *regs) {
    for (int k = 0; k < DLC_CHAIN_MAX_REGS; k++) regs->val[k] = (chain_val){regs->buf[k], 0.0f};
}

/* Evaluates the chain's elements [begin, end) into y[0..end - begin). */
static void chain_eval(const chain_job *j, chain_regs *regs, int64_t begin, int64_t end, float *y) {
    chain_val ins[DLC_CHAIN_MAX_IN];
    int64_t coord[DLC_KMAX_RANK];
    int64_t rest = begin;
    for (int32_t d = j->rank - 1; d >= 0; d--) {
        coord[d] = rest % j->dims[d];
        rest /= j->dims[d];
    }
    int32_t inner = j->rank - 1;
    for (int64_t pos = begin; pos < end;) {
        int64_t n = j->dims[inner] - coord[inner];
        if (n > end - pos) n = end - pos;
        if (n > CHAIN_BLOCK) n = CHAIN_BLOCK;
        for (int k = 0; k < j->num_in; k++) {
            int64_t off = 0;
            for (int32_t d = 0; d < j->rank; d++) off += coord[d] * j->strides[k][d];
            ins[k] = j->strides[k][inner] != 0 ? (chain_val){j->in[k] + off, 0.0f} : (chain_val){NULL, j->in[k][off]};
        }
        run_segment(j, regs, ins, y + (pos - begin), n);
        pos += n;
        coord[inner] += n;
        for (int32_t d = inner; d > 0 && coord[d] == j->dims[d]; d--) {
            coord[d] = 0;
            coord[d - 1]++;
        }
    }
}

static void chain_range(void *arg, int64_t begin, int64_t end) {
    const chain_job *j = arg;
    chain_regs regs;
    regs_init(&regs);
    chain_eval(j, &regs, begin, end, j->y + begin);
}

/* The program is checked by the op rule; this guards the ABI (an index out
 * of range would read or write outside the job). */
static bool decode(chain_job *j, const dlc_kparams *p, int32_t extra_ints) {
    const int64_t *ints = dlc_kp_ints(p);
    const double *floats = dlc_kp_floats(p);
    if (p->num_ints < 1 || p->num_floats > DLC_CHAIN_MAX_FLOATS) return false;
    j->count = (int32_t)ints[0];
    if (j->count < 1 || j->count > DLC_CHAIN_MAX_INSTR || p->num_ints != 1 + j->count * DLC_CHAIN_WORDS + extra_ints)
        return false;
    for (int32_t c = 0; c < p->num_floats; c++) j->consts[c] = (float)floats[c];
    for (int32_t k = 0; k < j->count; k++) {
        const int64_t *w = ints + 1 + k * DLC_CHAIN_WORDS;
        chain_instr *c = &j->code[k];
        *c = (chain_instr){(int)w[0], (int)w[1], (int)w[2], (int)w[3], (int)w[4]};
        bool last = k == j->count - 1;
        if (last ? c->dst != -1 : (c->dst < 0 || c->dst >= DLC_CHAIN_MAX_REGS)) return false;
        bool binary = c->op >= DLC_CHAIN_BINARY && c->op < DLC_CHAIN_CLIP;
        for (int s = 0; s < 2; s++) {
            int x = s == 0 ? c->a : c->b;
            if (s == 1 && !binary) {
                if (x != -1) return false;
                continue;
            }
            bool ok = (x >= DLC_CHAIN_IN && x < DLC_CHAIN_IN + j->num_in) ||
                      (x >= DLC_CHAIN_REG && x < DLC_CHAIN_REG + DLC_CHAIN_MAX_REGS) ||
                      (x >= DLC_CHAIN_CONST && x < DLC_CHAIN_CONST + p->num_floats);
            if (!ok) return false;
        }
        int params = c->op == DLC_CHAIN_CLIP ? 2 : c->op < DLC_CHAIN_BINARY && c->param >= 0 ? 2 : 0;
        if (params > 0 && (c->param < 0 || c->param + params > p->num_floats)) return false;
        float probe = 0.0f, out;
        if (c->op < DLC_CHAIN_BINARY && !chain_unary(c->op - DLC_CHAIN_UNARY, 0, 0, &probe, &out, 1)) return false;
        if (binary && !chain_binary(c->op - DLC_CHAIN_BINARY, NULL, 0, NULL, 0, &out, 1)) return false;
        if (c->op > DLC_CHAIN_CLIP) return false;
    }
    return true;
}

int32_t dlc_kernel_ew_chain(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx) {
    chain_job j;
    j.num_in = p->num_inputs;
    if (j.num_in < 1 || j.num_in > DLC_CHAIN_MAX_IN || !decode(&j, p, 0)) return DLC_KERR_BAD_VALUE;
    const dlc_ktensor *out = dlc_kp_out(p, 0);
    if (out->dtype != 1) return DLC_KERR_UNSUPPORTED;
    for (int k = 0; k < j.num_in; k++) {
        if (dlc_kp_in(p, k)->dtype != 1) return DLC_KERR_UNSUPPORTED;
        j.in[k] = inputs[k];
    }
    j.y = outputs[0];
    plan_init(&j, p, out->dims, out->rank);
    dlc_parallel_for(ctx, out->numel, CHAIN_MIN_CHUNK, chain_range, &j);
    return DLC_KOK;
}

/* ---- ew_chain_reduce: the chain, then a reduction over trailing axes ----
 * Each output reduces one contiguous run of K chain elements. The run is
 * evaluated EW_BLOCK elements at a time into a stack buffer and folded as
 * kernels/reduce.c folds a row of its input, with the same code
 * (kernels/reduce_fold.h: blocks of EW_BLOCK, eight lanes per block, lanes
 * combined in order, then into the running result), so the fused node gives the bits the chain kernel followed by
 * the reduce kernel give, without the full-size intermediate. Threads take
 * outputs; with fewer outputs than threads, the blocks of one output. */

DEFINE_REDUCE_FOLD(f32, float)

typedef struct chain_red_job {
    chain_job chain;
    int op, kind;
    int64_t K; /* chain elements per output */
} chain_red_job;

/* The chain's run [base, base + K) folded by kind. */
static float red_fold(const chain_red_job *j, chain_regs *regs, int64_t base, int kind, float shift) {
    float buf[EW_BLOCK], acc = init_f32(kind);
    for (int64_t c = 0; c < j->K; c += EW_BLOCK) {
        int64_t n = j->K - c < EW_BLOCK ? j->K - c : EW_BLOCK;
        chain_eval(&j->chain, regs, base + c, base + c + n, buf);
        acc = combine_f32(red_combine_kind(kind), acc, lanes_f32(kind, buf, n, shift));
    }
    return acc;
}

static void chain_red_range(void *arg, int64_t begin, int64_t end) {
    const chain_red_job *j = arg;
    chain_regs regs;
    regs_init(&regs);
    for (int64_t m = begin; m < end; m++) {
        float shift = 0.0f;
        /* LogSumExp: the run's max first, as reduce.c does (the chain computed twice) */
        if (j->kind == K_EXP) shift = red_fold(j, &regs, m * j->K, K_MAX, 0.0f);
        float acc = red_fold(j, &regs, m * j->K, j->kind, shift);
        j->chain.y[m] = finish_f32(j->op, acc, shift, j->K);
    }
}

/* Fewer outputs than threads (a loss, a global mean): one output's run is
 * split instead, its blocks' results computed in parallel, RED_SPLIT at a
 * time, then combined in block order: the very operations of red_fold. */
#define RED_SPLIT 1024

typedef struct red_split {
    const chain_red_job *j;
    int64_t base, first; /* the run's first element, this round's first block */
    int kind;
    float shift;
    float partial[RED_SPLIT];
} red_split;

static void red_split_range(void *arg, int64_t begin, int64_t end) {
    red_split *s = arg;
    chain_regs regs;
    regs_init(&regs);
    float buf[EW_BLOCK];
    for (int64_t b = begin; b < end; b++) {
        int64_t c = (s->first + b) * EW_BLOCK;
        int64_t n = s->j->K - c < EW_BLOCK ? s->j->K - c : EW_BLOCK;
        chain_eval(&s->j->chain, &regs, s->base + c, s->base + c + n, buf);
        s->partial[b] = lanes_f32(s->kind, buf, n, s->shift);
    }
}

static float red_fold_split(const chain_red_job *j, const dlc_kctx *ctx, int64_t base, int kind, float shift) {
    red_split s = {.j = j, .base = base, .kind = kind, .shift = shift};
    float acc = init_f32(kind);
    int64_t blocks = (j->K + EW_BLOCK - 1) / EW_BLOCK;
    for (s.first = 0; s.first < blocks; s.first += RED_SPLIT) {
        int64_t count = blocks - s.first < RED_SPLIT ? blocks - s.first : RED_SPLIT;
        dlc_parallel_for(ctx, count, CHAIN_MIN_CHUNK / EW_BLOCK + 1, red_split_range, &s);
        for (int64_t b = 0; b < count; b++) acc = combine_f32(red_combine_kind(kind), acc, s.partial[b]);
    }
    return acc;
}

/* ints: count, the program, the DLC_RED_* op, how many trailing axes of the
 * chain's shape (the inputs' broadcast shape) are reduced. */
int32_t dlc_kernel_ew_chain_reduce(const dlc_kparams *p, void *const *inputs, void *const *outputs,
                                   const dlc_kctx *ctx) {
    chain_red_job j;
    j.chain.num_in = p->num_inputs;
    if (j.chain.num_in < 1 || j.chain.num_in > DLC_CHAIN_MAX_IN || !decode(&j.chain, p, 2)) return DLC_KERR_BAD_VALUE;
    const int64_t *ints = dlc_kp_ints(p);
    j.op = (int)ints[p->num_ints - 2];
    int64_t axes = ints[p->num_ints - 1];
    if (j.op < 0 || j.op >= DLC_RED_COUNT) return DLC_KERR_BAD_VALUE;
    j.kind = red_kind_of(j.op);
    const dlc_ktensor *out = dlc_kp_out(p, 0);
    if (out->dtype != 1) return DLC_KERR_UNSUPPORTED;
    /* the chain's shape: the inputs' broadcast (each dim equal or 1) */
    int64_t dims[DLC_KMAX_RANK];
    int32_t rank = 0;
    for (int k = 0; k < j.chain.num_in; k++) {
        const dlc_ktensor *in = dlc_kp_in(p, k);
        if (in->dtype != 1 || in->rank > DLC_KMAX_RANK) return DLC_KERR_UNSUPPORTED;
        if (in->rank > rank) rank = in->rank;
        j.chain.in[k] = inputs[k];
    }
    for (int32_t d = 0; d < rank; d++) dims[d] = 1;
    for (int k = 0; k < j.chain.num_in; k++) {
        const dlc_ktensor *in = dlc_kp_in(p, k);
        for (int32_t d = 0; d < in->rank; d++)
            if (in->dims[d] != 1) dims[d + rank - in->rank] = in->dims[d];
    }
    if (axes < 1 || axes > rank) return DLC_KERR_BAD_VALUE;
    int64_t M = 1;
    j.K = 1;
    for (int32_t d = 0; d < rank; d++) {
        if (d < rank - axes) M *= dims[d];
        else j.K *= dims[d];
    }
    if (M != out->numel) return DLC_KERR_BAD_VALUE;
    j.chain.y = outputs[0];
    plan_init(&j.chain, p, dims, rank);
    if (M == 0) return DLC_KOK;
    int32_t threads = ctx != NULL && ctx->num_threads > 1 ? ctx->num_threads : 1;
    if (threads > 1 && M < threads && j.K >= 4 * EW_BLOCK) {
        for (int64_t m = 0; m < M; m++) {
            float shift = j.kind == K_EXP ? red_fold_split(&j, ctx, m * j.K, K_MAX, 0.0f) : 0.0f;
            float acc = red_fold_split(&j, ctx, m * j.K, j.kind, shift);
            j.chain.y[m] = finish_f32(j.op, acc, shift, j.K);
        }
        return DLC_KOK;
    }
    dlc_parallel_for(ctx, M, CHAIN_MIN_CHUNK / (j.K > 0 ? j.K : 1) + 1, chain_red_range, &j);
    return DLC_KOK;
}

#ifndef DLC_KERNEL_BITCODE
#include "kernels/kernel_registry.h"
const dlc_kernel_entry dlc_kernels_ew_chain[] = {
    {"ew_chain", dlc_kernel_ew_chain, NULL},
    {"ew_chain_reduce", dlc_kernel_ew_chain_reduce, NULL},
    {NULL, NULL, NULL},
};
#endif
