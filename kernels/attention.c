/* attention: scaled dot-product attention (dlc.Attention, ir/ops/attention.c).
 *
 * inputs Q, K, V [, mask]; output Y [..., Sq, Dv], all float32 (mask: float32
 * added, or bool selecting a fill value).
 * ints:   mask kind (0 none, 1 add, 2 where), fill_if, then for Q, K, V a
 *         rank n and n perm entries (n = 0: read as stored);
 * floats: scale, fill.
 *
 * Per (batch, block of query rows): S = scale * Q K^T into a per-thread
 * buffer, the mask and a stable softmax on each row of S in place, then
 * Y = S V, both products by dlc_sgemm_single reading the operands through
 * their strides. The block's scores stay in cache between the three steps
 * instead of a [B,H,Sq,Sk] tensor going through memory four times. */
#include <math.h>

#include "kernels/dlc_kernel.h"
#include "kernels/fast_math.h"
#include "kernels/gemm.h"
#include "kernels/kvalue.h"

enum { MASK_NONE = 0, MASK_ADD = 1, MASK_WHERE = 2 };

/* Score rows per block: about 128 KiB of scores (L2-resident), a multiple
 * of 8 rows (the GEMM's register tile). Depends on the sizes only, so the
 * split, and with it every result, is the same at every thread count. */
#define ATTN_BLOCK_FLOATS 32768

typedef struct attn_dims {
    int32_t batch_rank;
    int64_t batch[DLC_KMAX_RANK], batches;
    int64_t q_bs[DLC_KMAX_RANK], k_bs[DLC_KMAX_RANK], v_bs[DLC_KMAX_RANK], m_bs[DLC_KMAX_RANK];
    int64_t Sq, Sk, D, Dv;
    int64_t q_rs, q_cs; /* Q [Sq, D] */
    int64_t k_rs, k_cs; /* K^T [D, Sk] */
    int64_t v_rs, v_cs; /* V [Sk, Dv] */
    int64_t m_rs, m_cs; /* mask along Sq, Sk; 0 where it broadcasts */
    int mask, fill_if;
    float scale, fill;
    int64_t rows;       /* query rows per block */
    int64_t blocks;     /* per batch */
} attn_dims;

static attn_dims attn_shape(const dlc_kparams *p) {
    const int64_t *ints = dlc_kp_ints(p);
    const double *floats = dlc_kp_floats(p);
    attn_dims a;
    memset(&a, 0, sizeof a);
    a.mask = (int)ints[0];
    a.fill_if = (int)ints[1];
    a.scale = (float)floats[0];
    a.fill = (float)floats[1];
    int64_t qd[DLC_KMAX_RANK], qs[DLC_KMAX_RANK], kd[DLC_KMAX_RANK], ks[DLC_KMAX_RANK], vd[DLC_KMAX_RANK],
        vs[DLC_KMAX_RANK];
    const int64_t *at = ints + 2;
    at += dlc_matmul_operand_view(dlc_kp_in(p, 0), at, qd, qs);
    at += dlc_matmul_operand_view(dlc_kp_in(p, 1), at, kd, ks);
    dlc_matmul_operand_view(dlc_kp_in(p, 2), at, vd, vs);
    int32_t r = dlc_kp_in(p, 0)->rank;
    a.Sq = qd[r - 2], a.D = qd[r - 1], a.Sk = kd[r - 1], a.Dv = vd[r - 1];
    a.q_rs = qs[r - 2], a.q_cs = qs[r - 1];
    a.k_rs = ks[r - 2], a.k_cs = ks[r - 1];
    a.v_rs = vs[r - 2], a.v_cs = vs[r - 1];
    /* the mask's strides over the scores' dims, aligned at the right */
    int64_t ms[DLC_KMAX_RANK] = {0};
    if (a.mask != MASK_NONE) {
        const dlc_ktensor *m = dlc_kp_in(p, 3);
        int64_t step = 1;
        for (int32_t d = m->rank - 1; d >= 0; d--) {
            ms[r - m->rank + d] = m->dims[d] == 1 ? 0 : step;
            step *= m->dims[d];
        }
    }
    a.m_rs = ms[r - 2], a.m_cs = ms[r - 1];
    a.batch_rank = r - 2;
    a.batches = 1;
    for (int32_t d = 0; d < r - 2; d++) {
        a.batch[d] = qd[d];
        a.batches *= qd[d];
        a.q_bs[d] = qs[d], a.k_bs[d] = ks[d], a.v_bs[d] = vs[d], a.m_bs[d] = ms[d];
    }
    int64_t rows = ATTN_BLOCK_FLOATS / (a.Sk > 0 ? a.Sk : 1);
    rows = rows >= 8 ? rows / 8 * 8 : (rows > 0 ? rows : 1);
    a.rows = rows < a.Sq ? rows : (a.Sq > 0 ? a.Sq : 1);
    a.blocks = (a.Sq + a.rows - 1) / a.rows;
    return a;
}

static int64_t align64(int64_t bytes) { return (bytes + 63) / 64 * 64; }

/* One thread's share of the workspace: a block of scores, then the GEMM's
 * packing buffers (large enough for either product). */
static int64_t slot_bytes(const attn_dims *a) {
    int64_t g1 = dlc_sgemm_workspace_single(a->rows, a->Sk, a->D);
    int64_t g2 = dlc_sgemm_workspace_single(a->rows, a->Dv, a->Sk);
    return align64(a->rows * a->Sk * (int64_t)sizeof(float)) + align64(g1 > g2 ? g1 : g2);
}

int64_t dlc_kernel_attention_workspace(const dlc_kparams *p) {
    attn_dims a = attn_shape(p);
    return DLC_GEMM_MAX_THREADS * slot_bytes(&a);
}

typedef struct attn_job {
    const attn_dims *a;
    const float *q, *k, *v, *mask_f;
    const uint8_t *mask_b;
    float *y;
    char *workspace;
    int64_t slot_bytes, slots, tasks;
} attn_job;

/* Adds the mask to (or fills from it) one row of scores, then the softmax,
 * with the row's maximum subtracted before exp (fast_math.h's float exp,
 * which vectorizes; a libm call would keep the row loop scalar). */
static void mask_softmax_row(const attn_job *job, float *s, int64_t m_off) {
    const attn_dims *a = job->a;
    int64_t n = a->Sk, mc = a->m_cs;
    if (a->mask == MASK_ADD) {
        const float *m = job->mask_f + m_off;
        if (mc == 1)
            for (int64_t j = 0; j < n; j++) s[j] += m[j];
        else
            for (int64_t j = 0; j < n; j++) s[j] += m[j * mc];
    } else if (a->mask == MASK_WHERE) {
        const uint8_t *c = job->mask_b + m_off;
        uint8_t hit = a->fill_if ? 1 : 0;
        for (int64_t j = 0; j < n; j++) s[j] = (c[j * mc] != 0) == hit ? a->fill : s[j];
    }
    softmax_row_f32(s, s, n, 0);
}

static void attn_task(const attn_job *job, int64_t task, char *ws) {
    const attn_dims *a = job->a;
    int64_t b = task / a->blocks, r0 = task % a->blocks * a->rows;
    int64_t m = a->Sq - r0 < a->rows ? a->Sq - r0 : a->rows;
    int64_t q_off = 0, k_off = 0, v_off = 0, m_off = 0;
    int64_t idx_rest = b;
    for (int32_t d = a->batch_rank - 1; d >= 0; d--) {
        int64_t i = idx_rest % a->batch[d];
        idx_rest /= a->batch[d];
        q_off += i * a->q_bs[d], k_off += i * a->k_bs[d], v_off += i * a->v_bs[d], m_off += i * a->m_bs[d];
    }
    float *s = (float *)(void *)ws;
    void *gemm_ws = ws + align64(a->rows * a->Sk * (int64_t)sizeof(float));
    dlc_gemm_operand qo = {job->q + q_off + r0 * a->q_rs, a->q_rs, a->q_cs, NULL, 0, 0};
    dlc_gemm_operand ko = {job->k + k_off, a->k_rs, a->k_cs, NULL, 0, 0};
    dlc_sgemm_single(m, a->Sk, a->D, a->scale, &qo, &ko, 0.0f, s, a->Sk, gemm_ws);
    for (int64_t i = 0; i < m; i++) mask_softmax_row(job, s + i * a->Sk, m_off + (r0 + i) * a->m_rs);
    dlc_gemm_operand po = {s, a->Sk, 1, NULL, 0, 0};
    dlc_gemm_operand vo = {job->v + v_off, a->v_rs, a->v_cs, NULL, 0, 0};
    dlc_sgemm_single(m, a->Dv, a->Sk, 1.0f, &po, &vo, 0.0f, job->y + (b * a->Sq + r0) * a->Dv, a->Dv, gemm_ws);
}

/* Slot s owns its workspace share and a contiguous run of tasks. */
static void attn_slots(void *arg, int64_t begin, int64_t end) {
    const attn_job *job = arg;
    for (int64_t slot = begin; slot < end; slot++) {
        char *ws = job->workspace + slot * job->slot_bytes;
        for (int64_t t = job->tasks * slot / job->slots; t < job->tasks * (slot + 1) / job->slots; t++)
            attn_task(job, t, ws);
    }
}

int32_t dlc_kernel_attention(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx) {
    for (int i = 0; i < 3; i++)
        if (dlc_kp_in(p, i)->dtype != DLC_KT_FLOAT32) return DLC_KERR_UNSUPPORTED;
    attn_dims a = attn_shape(p);
    if (a.batches * a.Sq * a.Dv == 0) return DLC_KOK;
    if (a.Sk == 0) { /* no keys: an empty softmax times an empty V is a zero sum */
        memset(outputs[0], 0, (size_t)(a.batches * a.Sq * a.Dv) * sizeof(float));
        return DLC_KOK;
    }
    attn_job job = {.a = &a, .q = inputs[0], .k = inputs[1], .v = inputs[2], .y = outputs[0],
                    .workspace = ctx->workspace, .slot_bytes = slot_bytes(&a), .tasks = a.batches * a.blocks};
    if (a.mask == MASK_ADD) job.mask_f = inputs[3];
    if (a.mask == MASK_WHERE) job.mask_b = inputs[3];
    int64_t threads = ctx->num_threads > 1 ? ctx->num_threads : 1;
    int64_t fit = ctx->workspace_size / job.slot_bytes;
    job.slots = threads < job.tasks ? threads : job.tasks;
    if (job.slots > fit) job.slots = fit;
    if (job.slots < 1) return DLC_KERR_BAD_VALUE; /* no workspace: cannot happen with the declared size */
    dlc_parallel_for(ctx, job.slots, 1, attn_slots, &job);
    return DLC_KOK;
}

#ifndef DLC_KERNEL_BITCODE
#include "kernels/kernel_registry.h"
const dlc_kernel_entry dlc_kernels_attention[] = {
    {"attention", dlc_kernel_attention, dlc_kernel_attention_workspace},
    {NULL, NULL, NULL},
};
#endif
