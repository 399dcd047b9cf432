/* Recurrent kernels: RNN, GRU and LSTM share one kernel, "rnn".
 *
 * Tensors: inputs X, W, R, [B], [sequence_lens], [initial_h], and for LSTM
 * [initial_c], [P]; outputs [Y], [Y_h], and for LSTM [Y_c] (ONNX order;
 * absent operands have dtype 0).
 * ints:   [cell (0 RNN, 1 GRU, 2 LSTM), direction (0 forward, 1 reverse,
 *          2 bidirectional), layout (0: X [seq,batch,I]; 1: [batch,seq,I]),
 *          hidden_size, linear_before_reset (GRU), input_forget (LSTM),
 *          has_clip, activation code per slot...]
 * floats: [clip, then alpha, beta per activation slot]
 * Activation slots: per direction f (RNN); f, g (GRU); f, g, h (LSTM).
 *
 * float32 runs the input projection X·W^T of every time step as one SGEMM
 * (kernels/gemm.h), then per step one SGEMM of the hidden state with R^T
 * (two for GRU without linear_before_reset, whose candidate gate needs the
 * reset gate first) followed by the gate math row by row. Other float
 * dtypes are widened into float32 copies in the workspace, run the same
 * way, and rounded back on store (so float64 computes in float32).
 *
 * sequence_lens: batch row b runs its first len_b steps (reverse direction:
 * steps len_b-1 down to 0); Y past len_b is zero and Y_h/Y_c hold the state
 * after the last step run (initial state when len_b is 0). */
#include <math.h>
#include <stdbool.h>

#include "kernels/gemm.h"
#include "kernels/kvalue.h"

enum { CELL_RNN = 0, CELL_GRU = 1, CELL_LSTM = 2 };
/* Must match ir/ops/rnn.c. */
enum {
    ACT_SIGMOID, ACT_TANH, ACT_RELU, ACT_HARD_SIGMOID, ACT_LEAKY_RELU, ACT_THRESHOLDED_RELU,
    ACT_SCALED_TANH, ACT_AFFINE, ACT_ELU, ACT_SOFTSIGN, ACT_SOFTPLUS,
};
#define RNN_FIXED_INTS 7

typedef struct rnn_act {
    int32_t code;
    float alpha, beta;
} rnn_act;

static inline float act_apply(rnn_act a, float x) {
    switch (a.code) {
    case ACT_SIGMOID: return 1.0f / (1.0f + expf(-x));
    case ACT_TANH: return tanhf(x);
    case ACT_RELU: return x > 0.0f ? x : 0.0f;
    case ACT_HARD_SIGMOID: {
        float v = a.alpha * x + a.beta;
        return v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
    }
    case ACT_LEAKY_RELU: return x >= 0.0f ? x : a.alpha * x;
    case ACT_THRESHOLDED_RELU: return x > a.alpha ? x : 0.0f;
    case ACT_SCALED_TANH: return a.alpha * tanhf(a.beta * x);
    case ACT_AFFINE: return a.alpha * x + a.beta;
    case ACT_ELU: return x >= 0.0f ? x : a.alpha * (expf(x) - 1.0f);
    case ACT_SOFTSIGN: return x / (1.0f + fabsf(x));
    case ACT_SOFTPLUS: return x > 20.0f ? x : log1pf(expf(x));
    default: return x;
    }
}

typedef struct rnn_dims {
    int32_t cell, direction, layout;
    bool lbr, input_forget, has_clip;
    float clip;
    int64_t seq, batch, input, hidden, gates, num_dir;
} rnn_dims;

static int32_t acts_per_direction(int32_t cell) { return cell == CELL_LSTM ? 3 : cell == CELL_GRU ? 2 : 1; }

static bool read_dims(const dlc_kparams *p, rnn_dims *d) {
    const int64_t *ints = dlc_kp_ints(p);
    if (p->num_ints < RNN_FIXED_INTS || p->num_inputs < 3) return false;
    const dlc_ktensor *x = dlc_kp_in(p, 0);
    if (x->rank != 3) return false;
    d->cell = (int32_t)ints[0];
    d->direction = (int32_t)ints[1];
    d->layout = (int32_t)ints[2];
    d->hidden = ints[3];
    d->lbr = ints[4] != 0;
    d->input_forget = ints[5] != 0;
    d->has_clip = ints[6] != 0;
    d->clip = (float)dlc_kp_floats(p)[0];
    d->seq = x->dims[d->layout == 0 ? 0 : 1];
    d->batch = x->dims[d->layout == 0 ? 1 : 0];
    d->input = x->dims[2];
    d->gates = d->cell == CELL_LSTM ? 4 : d->cell == CELL_GRU ? 3 : 1;
    d->num_dir = d->direction == 2 ? 2 : 1;
    return p->num_ints == RNN_FIXED_INTS + d->num_dir * acts_per_direction(d->cell) && d->hidden >= 1;
}

static const dlc_ktensor *opt_in(const dlc_kparams *p, int i) {
    return i < p->num_inputs && dlc_kp_in(p, i)->dtype != 0 ? dlc_kp_in(p, i) : NULL;
}
static const dlc_ktensor *opt_out(const dlc_kparams *p, int i) {
    return i < p->num_outputs && dlc_kp_out(p, i)->dtype != 0 ? dlc_kp_out(p, i) : NULL;
}

/* ---- workspace layout ------------------------------------------------------ */

/* Float counts of the workspace pieces, in order. */
enum {
    WS_XW, WS_GATES, WS_TMP, WS_H, WS_C, WS_BIAS, WS_RBH,
    WS_X, WS_W, WS_R, WS_B, WS_H0, WS_C0, WS_P, WS_Y, WS_YH, WS_YC, /* staging (not float32) */
    WS_COUNT
};

static int64_t round16(int64_t n) { return (n + 15) / 16 * 16; }

static int64_t gemm_bytes(const rnn_dims *d) {
    int64_t a = dlc_sgemm_workspace(d->seq * d->batch, d->gates * d->hidden, d->input);
    int64_t b = dlc_sgemm_workspace(d->batch, d->gates * d->hidden, d->hidden);
    return a > b ? a : b;
}

/* Fills sizes[WS_COUNT] (floats) and returns the total bytes. */
static int64_t ws_layout(const dlc_kparams *p, const rnn_dims *d, int64_t *sizes) {
    int64_t gh = d->gates * d->hidden, bh = d->batch * d->hidden;
    for (int i = 0; i < WS_COUNT; i++) sizes[i] = 0;
    sizes[WS_XW] = d->seq * d->batch * gh;
    sizes[WS_GATES] = d->batch * gh;
    sizes[WS_TMP] = bh;
    sizes[WS_H] = bh;
    sizes[WS_C] = bh;
    sizes[WS_BIAS] = gh;
    sizes[WS_RBH] = d->hidden;
    if (dlc_kp_in(p, 0)->dtype != DLC_KT_FLOAT32) {
        static const int map_in[] = {WS_X, WS_W, WS_R, WS_B, -1, WS_H0, WS_C0, WS_P};
        for (int i = 0; i < 8; i++) {
            const dlc_ktensor *t = opt_in(p, i);
            if (t != NULL && map_in[i] >= 0) sizes[map_in[i]] = t->numel;
        }
        static const int map_out[] = {WS_Y, WS_YH, WS_YC};
        for (int i = 0; i < 3; i++) {
            const dlc_ktensor *t = opt_out(p, i);
            if (t != NULL) sizes[map_out[i]] = t->numel;
        }
    }
    int64_t total = 0;
    for (int i = 0; i < WS_COUNT; i++) total += round16(sizes[i]) * (int64_t)sizeof(float);
    return total + gemm_bytes(d);
}

int64_t dlc_kernel_rnn_workspace(const dlc_kparams *p) {
    rnn_dims d;
    if (!read_dims(p, &d)) return 0;
    int64_t sizes[WS_COUNT];
    return ws_layout(p, &d, sizes);
}

/* ---- the float32 recurrence ------------------------------------------------- */

typedef struct rnn_io {
    const float *x, *w, *r, *b, *h0, *c0, *p;
    const int32_t *lens;
    float *y, *yh, *yc;
} rnn_io;

typedef struct rnn_scratch {
    float *xw, *gates, *tmp, *h, *c, *bias, *rbh;
    void *gemm;
    int64_t gemm_size;
} rnn_scratch;

static float clipped(const rnn_dims *d, float v) {
    if (!d->has_clip) return v;
    return v < -d->clip ? -d->clip : v > d->clip ? d->clip : v;
}

static int64_t x_row(const rnn_dims *d, int64_t t, int64_t b) {
    return d->layout == 0 ? t * d->batch + b : b * d->seq + t;
}
static int64_t y_offset(const rnn_dims *d, int64_t t, int64_t dir, int64_t b) {
    return (d->layout == 0 ? (t * d->num_dir + dir) * d->batch + b : (b * d->seq + t) * d->num_dir + dir) * d->hidden;
}
static int64_t state_offset(const rnn_dims *d, int64_t dir, int64_t b) {
    return (d->layout == 0 ? dir * d->batch + b : b * d->num_dir + dir) * d->hidden;
}

/* gates[batch, n] (row stride ldc) = A[batch, H] · Rpart^T where Rpart is n rows of R. */
static void recurrent_gemm(const dlc_kctx *ctx, const rnn_dims *d, const float *a, const float *r_rows, int64_t n,
                           float *c, rnn_scratch *s) {
    dlc_gemm_operand A = {.data = a, .row_stride = d->hidden, .col_stride = 1};
    dlc_gemm_operand B = {.data = r_rows, .row_stride = 1, .col_stride = d->hidden};
    dlc_sgemm(ctx, d->batch, n, d->hidden, 1.0f, &A, &B, 0.0f, c, d->gates * d->hidden, s->gemm, s->gemm_size);
}

/* One direction over the whole sequence. */
static void run_direction(const dlc_kctx *ctx, const rnn_dims *d, const rnn_io *io, const rnn_act *acts, int64_t dir,
                          rnn_scratch *s) {
    int64_t H = d->hidden, gh = d->gates * H, I = d->input;
    bool reverse = d->direction == 1 || (d->direction == 2 && dir == 1);
    const float *W = io->w + dir * gh * I, *R = io->r + dir * gh * H;
    const float *P = io->p != NULL ? io->p + dir * 3 * H : NULL;
    /* biases: Wb + Rb, except GRU's Rbh with linear_before_reset, which the reset gate scales */
    for (int64_t j = 0; j < gh; j++) s->bias[j] = 0.0f;
    for (int64_t j = 0; j < H; j++) s->rbh[j] = 0.0f;
    if (io->b != NULL) {
        const float *wb = io->b + dir * 2 * gh, *rb = wb + gh;
        for (int64_t j = 0; j < gh; j++) {
            bool separate = d->cell == CELL_GRU && d->lbr && j >= 2 * H;
            s->bias[j] = wb[j] + (separate ? 0.0f : rb[j]);
            if (separate) s->rbh[j - 2 * H] = rb[j];
        }
    }
    /* input projection of all steps at once, rows in X's memory order */
    int64_t rows = d->seq * d->batch;
    if (rows > 0) {
        if (I > 0) {
            dlc_gemm_operand A = {.data = io->x, .row_stride = I, .col_stride = 1};
            dlc_gemm_operand B = {.data = W, .row_stride = 1, .col_stride = I};
            dlc_sgemm(ctx, rows, gh, I, 1.0f, &A, &B, 0.0f, s->xw, gh, s->gemm, s->gemm_size);
        } else {
            for (int64_t i = 0; i < rows * gh; i++) s->xw[i] = 0.0f;
        }
    }
    for (int64_t b = 0; b < d->batch; b++)
        for (int64_t j = 0; j < H; j++) {
            int64_t so = state_offset(d, dir, b) + j;
            s->h[b * H + j] = io->h0 != NULL ? io->h0[so] : 0.0f;
            s->c[b * H + j] = io->c0 != NULL ? io->c0[so] : 0.0f;
        }
    const rnn_act *a = acts + dir * acts_per_direction(d->cell);
    for (int64_t step = 0; step < d->seq; step++) {
        /* the recurrent product for every row (rows already finished are simply not used) */
        bool split_gru = d->cell == CELL_GRU && !d->lbr;
        recurrent_gemm(ctx, d, s->h, R, split_gru ? 2 * H : gh, s->gates, s);
        for (int64_t b = 0; b < d->batch; b++) {
            int64_t len = io->lens != NULL ? io->lens[b] : d->seq;
            if (step >= len) continue;
            int64_t t = reverse ? len - 1 - step : step;
            const float *xw = s->xw + x_row(d, t, b) * gh;
            float *g = s->gates + b * gh, *h = s->h + b * H, *c = s->c + b * H;
            switch (d->cell) {
            case CELL_RNN:
                for (int64_t j = 0; j < H; j++) h[j] = act_apply(a[0], clipped(d, xw[j] + g[j] + s->bias[j]));
                break;
            case CELL_LSTM:
                /* gate order i, o, f, c; peepholes P: i, o, f */
                for (int64_t j = 0; j < H; j++) {
                    float pi = xw[j] + g[j] + s->bias[j] + (P != NULL ? P[j] * c[j] : 0.0f);
                    float pf = xw[2 * H + j] + g[2 * H + j] + s->bias[2 * H + j] + (P != NULL ? P[2 * H + j] * c[j] : 0.0f);
                    float pc = xw[3 * H + j] + g[3 * H + j] + s->bias[3 * H + j];
                    float ig = act_apply(a[0], clipped(d, pi));
                    float fg = d->input_forget ? 1.0f - ig : act_apply(a[0], clipped(d, pf));
                    float cand = act_apply(a[1], clipped(d, pc));
                    float cell = fg * c[j] + ig * cand;
                    float po = xw[H + j] + g[H + j] + s->bias[H + j] + (P != NULL ? P[H + j] * cell : 0.0f);
                    float og = act_apply(a[0], clipped(d, po));
                    c[j] = cell;
                    h[j] = og * act_apply(a[2], cell);
                }
                break;
            case CELL_GRU:
                /* gate order z, r, h */
                for (int64_t j = 0; j < 2 * H; j++) g[j] = act_apply(a[0], clipped(d, xw[j] + g[j] + s->bias[j]));
                if (d->lbr) {
                    for (int64_t j = 0; j < H; j++) {
                        float z = g[j], r = g[H + j];
                        float cand = act_apply(a[1], clipped(d, xw[2 * H + j] + s->bias[2 * H + j] +
                                                                    r * (g[2 * H + j] + s->rbh[j])));
                        h[j] = (1.0f - z) * cand + z * h[j];
                    }
                } else {
                    for (int64_t j = 0; j < H; j++) s->tmp[b * H + j] = g[H + j] * h[j];
                }
                break;
            default: break;
            }
        }
        if (d->cell == CELL_GRU && !d->lbr) {
            /* candidate gate: (r ⊙ H) · Rh^T, now that every row's r is known */
            for (int64_t b = 0; b < d->batch; b++) {
                int64_t len = io->lens != NULL ? io->lens[b] : d->seq;
                if (step >= len)
                    for (int64_t j = 0; j < H; j++) s->tmp[b * H + j] = 0.0f;
            }
            recurrent_gemm(ctx, d, s->tmp, R + 2 * H * H, H, s->gates + 2 * H, s);
            for (int64_t b = 0; b < d->batch; b++) {
                int64_t len = io->lens != NULL ? io->lens[b] : d->seq;
                if (step >= len) continue;
                int64_t t = reverse ? len - 1 - step : step;
                const float *xw = s->xw + x_row(d, t, b) * gh;
                float *g = s->gates + b * gh, *h = s->h + b * H;
                for (int64_t j = 0; j < H; j++) {
                    float z = g[j];
                    float cand = act_apply(a[1], clipped(d, xw[2 * H + j] + g[2 * H + j] + s->bias[2 * H + j]));
                    h[j] = (1.0f - z) * cand + z * h[j];
                }
            }
        }
        if (io->y != NULL)
            for (int64_t b = 0; b < d->batch; b++) {
                int64_t len = io->lens != NULL ? io->lens[b] : d->seq;
                if (step >= len) continue;
                int64_t t = reverse ? len - 1 - step : step;
                float *y = io->y + y_offset(d, t, dir, b);
                for (int64_t j = 0; j < H; j++) y[j] = s->h[b * H + j];
            }
    }
    for (int64_t b = 0; b < d->batch; b++)
        for (int64_t j = 0; j < H; j++) {
            int64_t so = state_offset(d, dir, b) + j;
            if (io->yh != NULL) io->yh[so] = s->h[b * H + j];
            if (io->yc != NULL) io->yc[so] = s->c[b * H + j];
        }
}

/* ---- the kernel ----------------------------------------------------------- */

static float *stage_in(const dlc_ktensor *t, const void *data, float *buf) {
    if (t == NULL) return NULL;
    for (int64_t i = 0; i < t->numel; i++) buf[i] = (float)dlc_kload_f(data, t->dtype, i);
    return buf;
}

int32_t dlc_kernel_rnn(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx) {
    rnn_dims d;
    if (!read_dims(p, &d)) return DLC_KERR_BAD_VALUE;
    int32_t dt = dlc_kp_in(p, 0)->dtype;
    if (!dlc_kdtype_is_float(dt)) return DLC_KERR_UNSUPPORTED;
    const dlc_ktensor *lens_t = opt_in(p, 4);
    const int32_t *lens = lens_t != NULL ? (const int32_t *)inputs[4] : NULL;
    if (lens_t != NULL && (lens_t->dtype != DLC_KT_INT32 || lens_t->numel != d.batch)) return DLC_KERR_BAD_VALUE;
    for (int64_t b = 0; lens != NULL && b < d.batch; b++)
        if (lens[b] < 0 || lens[b] > d.seq) return DLC_KERR_INDEX_OUT_OF_RANGE;

    int64_t sizes[WS_COUNT];
    int64_t need = ws_layout(p, &d, sizes);
    if (ctx->workspace == NULL || ctx->workspace_size < need) return DLC_KERR_BAD_VALUE;
    float *piece[WS_COUNT];
    float *cursor = ctx->workspace;
    for (int i = 0; i < WS_COUNT; i++) {
        piece[i] = cursor;
        cursor += round16(sizes[i]);
    }
    rnn_scratch s = {.xw = piece[WS_XW], .gates = piece[WS_GATES], .tmp = piece[WS_TMP], .h = piece[WS_H],
                     .c = piece[WS_C], .bias = piece[WS_BIAS], .rbh = piece[WS_RBH], .gemm = cursor,
                     .gemm_size = gemm_bytes(&d)};

    int per = acts_per_direction(d.cell);
    rnn_act acts[6];
    const int64_t *ints = dlc_kp_ints(p);
    const double *floats = dlc_kp_floats(p);
    for (int i = 0; i < d.num_dir * per; i++)
        acts[i] = (rnn_act){(int32_t)ints[RNN_FIXED_INTS + i], (float)floats[1 + 2 * i], (float)floats[2 + 2 * i]};

    bool lstm = d.cell == CELL_LSTM;
    const dlc_ktensor *y_t = opt_out(p, 0), *yh_t = opt_out(p, 1), *yc_t = lstm ? opt_out(p, 2) : NULL;
    rnn_io io = {.lens = lens};
    if (dt == DLC_KT_FLOAT32) {
        io.x = inputs[0];
        io.w = inputs[1];
        io.r = inputs[2];
        io.b = opt_in(p, 3) != NULL ? inputs[3] : NULL;
        io.h0 = opt_in(p, 5) != NULL ? inputs[5] : NULL;
        io.c0 = lstm && opt_in(p, 6) != NULL ? inputs[6] : NULL;
        io.p = lstm && opt_in(p, 7) != NULL ? inputs[7] : NULL;
        io.y = y_t != NULL ? outputs[0] : NULL;
        io.yh = yh_t != NULL ? outputs[1] : NULL;
        io.yc = yc_t != NULL ? outputs[2] : NULL;
    } else {
        io.x = stage_in(dlc_kp_in(p, 0), inputs[0], piece[WS_X]);
        io.w = stage_in(dlc_kp_in(p, 1), inputs[1], piece[WS_W]);
        io.r = stage_in(dlc_kp_in(p, 2), inputs[2], piece[WS_R]);
        io.b = stage_in(opt_in(p, 3), inputs[3 < p->num_inputs ? 3 : 0], piece[WS_B]);
        io.h0 = stage_in(opt_in(p, 5), inputs[5 < p->num_inputs ? 5 : 0], piece[WS_H0]);
        io.c0 = lstm ? stage_in(opt_in(p, 6), inputs[6 < p->num_inputs ? 6 : 0], piece[WS_C0]) : NULL;
        io.p = lstm ? stage_in(opt_in(p, 7), inputs[7 < p->num_inputs ? 7 : 0], piece[WS_P]) : NULL;
        io.y = y_t != NULL ? piece[WS_Y] : NULL;
        io.yh = yh_t != NULL ? piece[WS_YH] : NULL;
        io.yc = yc_t != NULL ? piece[WS_YC] : NULL;
    }
    /* steps past a row's length leave zeros in Y */
    if (io.y != NULL)
        for (int64_t i = 0; i < y_t->numel; i++) io.y[i] = 0.0f;
    for (int64_t dir = 0; dir < d.num_dir; dir++) run_direction(ctx, &d, &io, acts, dir, &s);
    if (dt != DLC_KT_FLOAT32) {
        const dlc_ktensor *outs[3] = {y_t, yh_t, yc_t};
        const float *staged[3] = {io.y, io.yh, io.yc};
        for (int o = 0; o < 3; o++)
            if (outs[o] != NULL)
                for (int64_t i = 0; i < outs[o]->numel; i++) dlc_kstore_f(outputs[o], dt, i, staged[o][i]);
    }
    return DLC_KOK;
}

#ifndef DLC_KERNEL_BITCODE
#include "kernels/kernel_registry.h"
const dlc_kernel_entry dlc_kernels_rnn[] = {
    {"rnn", dlc_kernel_rnn, dlc_kernel_rnn_workspace},
    {NULL, NULL, NULL},
};
#endif
