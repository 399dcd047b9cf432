/* Gemm and MatMul kernels. float32 runs on the blocked GEMM (gemm.h); other
 * dtypes use direct loops (float16/bfloat16/float64 accumulate in double,
 * integers in wrapping 64-bit arithmetic).
 *
 * gemm:   inputs A, B, [C]; output Y. ints: [transA, transB]; floats: [alpha, beta].
 *         C broadcasts unidirectionally to [M, N] (rank 0, 1 or 2).
 * matmul: inputs A, B; output Y (numpy matmul: 1-D operands, broadcast
 *         leading dims). No parameters: everything follows from the shapes.
 *
 * Fused epilogues (passes/fuse_epilogue.c, kernels/epilogue.h), float32 only:
 * input 3, when present, is a residual of Y's shape added to the product;
 * matmul's input 2 a bias along Y's last dim. The activation follows the
 * parameters above: gemm ints [transA, transB, act], floats
 * [alpha, beta, a, b]; matmul ints [perm part (always present then), act],
 * floats [a, b]. Either may get
 * a float32 B pre-packed at compile time (gemm.h; the prepack-weights pass):
 * B is then the packed floats and [K, N, nr], B's logical dims and the panel
 * width, come right after the transposes / the perm part, before the
 * activation. */
#include "kernels/gemm.h"
#include "kernels/kvalue.h"

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

/* ---- gemm ---------------------------------------------------------------- */

/* B of a product: read through its strides, or (packed_nr > 0) pre-packed
 * by prepack-weights in dlc_sgemm_deep_kc slices. */
static dlc_gemm_operand b_operand(const float *data, int64_t rs, int64_t cs, int64_t packed_nr, int64_t K) {
    dlc_gemm_operand b = {data, rs, cs, NULL, packed_nr, 0};
    if (packed_nr > 0) b.packed_kc = dlc_sgemm_deep_kc(K);
    return b;
}

typedef struct gemm_dims {
    int64_t M, N, K;
    int64_t a_rs, a_cs, b_rs, b_cs; /* element strides of op(A), op(B) */
    int64_t c_rs, c_cs;             /* broadcast strides of C over [M, N] (0 on broadcast dims) */
    int64_t b_packed_nr;            /* > 0: B is pre-packed for this panel width */
} gemm_dims;

static gemm_dims gemm_shape(const dlc_kparams *p) {
    const dlc_ktensor *a = dlc_kp_in(p, 0), *b = dlc_kp_in(p, 1);
    const int64_t *ints = dlc_kp_ints(p);
    int64_t trans_a = ints[0], trans_b = ints[1];
    gemm_dims d;
    d.M = trans_a ? a->dims[1] : a->dims[0];
    d.K = trans_a ? a->dims[0] : a->dims[1];
    d.N = trans_b ? b->dims[0] : b->dims[1];
    d.a_rs = trans_a ? 1 : a->dims[1];
    d.a_cs = trans_a ? a->dims[1] : 1;
    d.b_rs = trans_b ? 1 : b->dims[1];
    d.b_cs = trans_b ? b->dims[1] : 1;
    d.b_packed_nr = 0;
    if (p->num_ints >= 5) { /* [transA, transB, K, N, nr]: B packed, transB already applied */
        d.N = ints[3];
        d.b_rs = d.b_cs = 0;
        d.b_packed_nr = ints[4];
    }
    d.c_rs = d.c_cs = 0;
    if (p->num_inputs > 2 && dlc_kp_in(p, 2)->dtype != 0) {
        const dlc_ktensor *c = dlc_kp_in(p, 2);
        int64_t rows = c->rank == 2 ? c->dims[0] : 1;
        int64_t cols = c->rank >= 1 ? c->dims[c->rank - 1] : 1;
        d.c_rs = rows == 1 ? 0 : cols;
        d.c_cs = cols == 1 ? 0 : 1;
    }
    return d;
}

static int has_c(const dlc_kparams *p) { return p->num_inputs > 2 && dlc_kp_in(p, 2)->dtype != 0; }

static const float *residual_of(const dlc_kparams *p, void *const *inputs) {
    return p->num_inputs > 3 && dlc_kp_in(p, 3)->dtype != 0 ? inputs[3] : NULL;
}

int64_t dlc_kernel_gemm_workspace(const dlc_kparams *p) {
    if (dlc_kp_out(p, 0)->dtype != DLC_KT_FLOAT32) return 0;
    gemm_dims d = gemm_shape(p);
    return d.b_packed_nr > 0 ? dlc_sgemm_workspace_packed(d.M, d.N, d.K) : dlc_sgemm_workspace(d.M, d.N, d.K);
}

static void gemm_generic(const dlc_kparams *p, gemm_dims d, void *const *inputs, void *y) {
    const dlc_ktensor *out = dlc_kp_out(p, 0);
    int32_t t = out->dtype;
    double alpha = dlc_kp_floats(p)[0], beta = dlc_kp_floats(p)[1];
    const void *a = inputs[0], *b = inputs[1], *c = has_c(p) ? inputs[2] : NULL;
    int floating = dlc_kdtype_is_float(t);
    for (int64_t i = 0; i < d.M; i++)
        for (int64_t j = 0; j < d.N; j++) {
            int64_t ci = i * d.c_rs + j * d.c_cs;
            if (floating) {
                double sum = 0.0;
                for (int64_t k = 0; k < d.K; k++)
                    sum += dlc_kload_f(a, t, i * d.a_rs + k * d.a_cs) * dlc_kload_f(b, t, k * d.b_rs + j * d.b_cs);
                double v = alpha * sum + (c != NULL && beta != 0.0 ? beta * dlc_kload_f(c, t, ci) : 0.0);
                dlc_kstore_f(y, t, i * d.N + j, v);
            } else {
                uint64_t sum = 0;
                for (int64_t k = 0; k < d.K; k++)
                    sum += dlc_kload_u(a, t, i * d.a_rs + k * d.a_cs) * dlc_kload_u(b, t, k * d.b_rs + j * d.b_cs);
                uint64_t cv = c != NULL ? dlc_kload_u(c, t, ci) : 0;
                uint64_t v;
                if (alpha == 1.0 && (beta == 1.0 || c == NULL)) v = sum + cv; /* exact, the common case */
                else v = (uint64_t)(int64_t)(alpha * (double)(int64_t)sum + (c != NULL ? beta * (double)(int64_t)cv : 0.0));
                dlc_kstore_u(y, t, i * d.N + j, v);
            }
        }
}

int32_t dlc_kernel_gemm(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx) {
    gemm_dims d = gemm_shape(p);
    dlc_epilogue ep = {.residual = residual_of(p, inputs), .residual_ld = d.N};
    dlc_epilogue_read(p, d.b_packed_nr > 0 ? 5 : 2, 2, &ep); /* after [K, N, nr] when B is packed */
    if (dlc_kp_out(p, 0)->dtype != DLC_KT_FLOAT32) {
        if (dlc_epilogue_active(&ep)) return DLC_KERR_UNSUPPORTED; /* fused for float32 only */
        gemm_generic(p, d, inputs, outputs[0]);
        return DLC_KOK;
    }
    float *y = outputs[0];
    float alpha = (float)dlc_kp_floats(p)[0], beta = (float)dlc_kp_floats(p)[1];
    float gemm_beta = 0.0f;
    if (has_c(p) && beta == 1.0f) {
        /* C is the epilogue's bias: added to each block as it completes,
         * without a pass writing it into Y first */
        ep.bias = inputs[2];
        ep.bias_rs = d.c_rs;
        ep.bias_cs = d.c_cs;
    } else if (has_c(p) && beta != 0.0f) {
        /* Y = beta * C first, then the product accumulates into it */
        const float *c = inputs[2];
        for (int64_t i = 0; i < d.M; i++)
            for (int64_t j = 0; j < d.N; j++) y[i * d.N + j] = beta * c[i * d.c_rs + j * d.c_cs];
        gemm_beta = 1.0f;
    }
    dlc_gemm_operand a = {inputs[0], d.a_rs, d.a_cs, NULL, 0, 0};
    dlc_gemm_operand b = b_operand(inputs[1], d.b_rs, d.b_cs, d.b_packed_nr, d.K);
    dlc_sgemm_ep(ctx, d.M, d.N, d.K, alpha, &a, &b, gemm_beta, y, d.N, ctx->workspace, ctx->workspace_size, &ep);
    return DLC_KOK;
}

/* ---- matmul ------------------------------------------------------------------ */

/* Each operand may be read through a permutation of its stored dims (ints,
 * see ir/ops/linalg.c): a Transpose folded into the MatMul. Everything is
 * then described by element strides: rows and columns of each matrix and
 * each batch dim (0 where the operand broadcasts). */
typedef struct matmul_dims {
    int64_t M, N, K;
    int32_t ints_used;              /* ints of the perm part and [K, N, nr]: the activation follows */
    int32_t batch_rank;
    int64_t batch[DLC_KMAX_RANK];
    int64_t a_stride[DLC_KMAX_RANK], b_stride[DLC_KMAX_RANK]; /* per batch dim, 0 when broadcast */
    int64_t batches;
    int64_t a_rs, a_cs, b_rs, b_cs; /* matrix element strides */
    int64_t b_packed_nr;            /* > 0: B is a pre-packed [K, N] matrix (no batch dims) */
} matmul_dims;

/* See gemm.h. */
int32_t dlc_matmul_operand_view(const dlc_ktensor *t, const int64_t *ints, int64_t *dims, int64_t *strides) {
    int64_t stored[DLC_KMAX_RANK];
    int64_t step = 1;
    for (int32_t d = t->rank - 1; d >= 0; d--) {
        stored[d] = step;
        step *= t->dims[d];
    }
    int32_t n = ints != NULL ? (int32_t)ints[0] : 0;
    for (int32_t d = 0; d < t->rank; d++) {
        int32_t src = n > 0 ? (int32_t)ints[1 + d] : d;
        dims[d] = t->dims[src];
        strides[d] = stored[src];
    }
    return ints != NULL ? 1 + n : 0;
}

static matmul_dims matmul_shape(const dlc_kparams *p) {
    const dlc_ktensor *a = dlc_kp_in(p, 0), *b = dlc_kp_in(p, 1), *y = dlc_kp_out(p, 0);
    const int64_t *ints = p->num_ints > 0 ? dlc_kp_ints(p) : NULL;
    int64_t ad[DLC_KMAX_RANK], as[DLC_KMAX_RANK], bd[DLC_KMAX_RANK], bs[DLC_KMAX_RANK];
    int32_t used = dlc_matmul_operand_view(a, ints, ad, as);
    int32_t used_b = dlc_matmul_operand_view(b, ints != NULL ? ints + used : NULL, bd, bs);
    matmul_dims d;
    memset(&d, 0, sizeof d);
    d.ints_used = used + used_b;
    int32_t ra = a->rank, rb = b->rank;
    /* after the perm part: nothing, the activation (1 int), [K, N, nr] (3) or both (4) */
    if (ints != NULL && p->num_ints >= d.ints_used + 3) { /* B packed: its logical dims [K, N] */
        const int64_t *kn = ints + d.ints_used;
        rb = 2;
        bd[0] = kn[0], bd[1] = kn[1];
        bs[0] = bs[1] = 0;
        d.b_packed_nr = kn[2];
        d.ints_used += 3;
    }
    d.M = ra == 1 ? 1 : ad[ra - 2];
    d.K = ad[ra - 1];
    d.N = rb == 1 ? 1 : bd[rb - 1];
    d.a_cs = as[ra - 1];
    d.a_rs = ra == 1 ? 0 : as[ra - 2];
    d.b_rs = rb == 1 ? bs[0] : bs[rb - 2];
    d.b_cs = rb == 1 ? 0 : bs[rb - 1];
    d.batch_rank = y->rank - (ra > 1) - (rb > 1);
    int32_t a_batch_rank = ra > 2 ? ra - 2 : 0, b_batch_rank = rb > 2 ? rb - 2 : 0;
    d.batches = 1;
    for (int32_t i = d.batch_rank - 1; i >= 0; i--) {
        d.batch[i] = y->dims[i];
        d.batches *= d.batch[i];
        int32_t ai = i - (d.batch_rank - a_batch_rank), bi = i - (d.batch_rank - b_batch_rank);
        d.a_stride[i] = ai >= 0 && ad[ai] != 1 ? as[ai] : 0;
        d.b_stride[i] = bi >= 0 && bd[bi] != 1 ? bs[bi] : 0;
    }
    return d;
}

static void batch_offsets(const matmul_dims *d, int64_t batch, int64_t *a_off, int64_t *b_off) {
    *a_off = *b_off = 0;
    for (int32_t i = d->batch_rank - 1; i >= 0; i--) {
        int64_t idx = batch % d->batch[i];
        batch /= d->batch[i];
        *a_off += idx * d->a_stride[i];
        *b_off += idx * d->b_stride[i];
    }
}

/* B shared by every batch and A's rows, batch after batch, evenly spaced:
 * one tall product. */
static int matmul_folds_batches(const matmul_dims *d) {
    if (d->batches <= 1) return 0;
    int64_t expect = d->M * d->a_rs;
    for (int32_t i = d->batch_rank - 1; i >= 0; i--) {
        if (d->b_stride[i] != 0 || (d->batch[i] != 1 && d->a_stride[i] != expect)) return 0;
        expect *= d->batch[i];
    }
    return 1;
}

int64_t dlc_kernel_matmul_workspace(const dlc_kparams *p) {
    if (dlc_kp_out(p, 0)->dtype != DLC_KT_FLOAT32) return 0;
    matmul_dims d = matmul_shape(p);
    int64_t rows = matmul_folds_batches(&d) ? d.M * d.batches : d.M;
    return d.b_packed_nr > 0 ? dlc_sgemm_workspace_packed(rows, d.N, d.K) : dlc_sgemm_workspace(rows, d.N, d.K);
}

/* The epilogue of batch `batch`: the residual moves with the output, the
 * bias (along the last dim) is the same for every batch. */
static dlc_epilogue batch_epilogue(const dlc_epilogue *ep, const matmul_dims *d, int64_t batch) {
    dlc_epilogue e = *ep;
    if (e.residual != NULL) e.residual += batch * d->M * d->N;
    return e;
}

typedef struct matmul_batch_job {
    const matmul_dims *d;
    const dlc_epilogue *ep;
    const float *a, *b;
    float *y;
    char *workspace;
    int64_t slot_bytes;
    int64_t slots;
} matmul_batch_job;

static void matmul_batch_slots(void *arg, int64_t begin, int64_t end) {
    const matmul_batch_job *job = arg;
    const matmul_dims *d = job->d;
    for (int64_t slot = begin; slot < end; slot++) {
        void *ws = job->workspace + slot * job->slot_bytes;
        for (int64_t batch = d->batches * slot / job->slots; batch < d->batches * (slot + 1) / job->slots; batch++) {
            int64_t a_off, b_off;
            batch_offsets(d, batch, &a_off, &b_off);
            dlc_gemm_operand a = {job->a + a_off, d->a_rs, d->a_cs, NULL, 0, 0};
            dlc_gemm_operand b = b_operand(job->b + b_off, d->b_rs, d->b_cs, d->b_packed_nr, d->K);
            dlc_epilogue ep = batch_epilogue(job->ep, d, batch);
            dlc_sgemm_single_ep(d->M, d->N, d->K, 1.0f, &a, &b, 0.0f, job->y + batch * d->M * d->N, d->N, ws, &ep);
        }
    }
}

static void matmul_f32(const matmul_dims *d, const dlc_epilogue *ep, const float *a, const float *b, float *y,
                       const dlc_kctx *ctx) {
    if (matmul_folds_batches(d) || d->batches == 1) {
        dlc_gemm_operand ga = {a, d->a_rs, d->a_cs, NULL, 0, 0};
        dlc_gemm_operand gb = b_operand(b, d->b_rs, d->b_cs, d->b_packed_nr, d->K);
        dlc_sgemm_ep(ctx, d->M * d->batches, d->N, d->K, 1.0f, &ga, &gb, 0.0f, y, d->N, ctx->workspace,
                     ctx->workspace_size, ep);
        return;
    }
    int64_t threads = ctx->num_threads > 1 ? ctx->num_threads : 1;
    int64_t slot_bytes = d->b_packed_nr > 0 ? dlc_sgemm_workspace_single_packed(d->M, d->N, d->K)
                                            : dlc_sgemm_workspace_single(d->M, d->N, d->K);
    int64_t slots = min64(min64(threads, d->batches), ctx->workspace_size / slot_bytes);
    /* many small products: one thread per group of batches; a few big ones:
     * every thread inside each product */
    if (slots > 1 && (d->batches >= 4 * threads || d->M * d->N * d->K < (1 << 21))) {
        matmul_batch_job job = {d, ep, a, b, y, ctx->workspace, slot_bytes, slots};
        dlc_parallel_for(ctx, slots, 1, matmul_batch_slots, &job);
        return;
    }
    for (int64_t batch = 0; batch < d->batches; batch++) {
        int64_t a_off, b_off;
        batch_offsets(d, batch, &a_off, &b_off);
        dlc_gemm_operand ga = {a + a_off, d->a_rs, d->a_cs, NULL, 0, 0};
        dlc_gemm_operand gb = b_operand(b + b_off, d->b_rs, d->b_cs, d->b_packed_nr, d->K);
        dlc_epilogue eb = batch_epilogue(ep, d, batch);
        dlc_sgemm_ep(ctx, d->M, d->N, d->K, 1.0f, &ga, &gb, 0.0f, y + batch * d->M * d->N, d->N, ctx->workspace,
                     ctx->workspace_size, &eb);
    }
}

static void matmul_generic(const matmul_dims *d, int32_t t, const void *a, const void *b, void *y) {
    int floating = dlc_kdtype_is_float(t);
    for (int64_t batch = 0; batch < d->batches; batch++) {
        int64_t a_off, b_off, y_off = batch * d->M * d->N;
        batch_offsets(d, batch, &a_off, &b_off);
        for (int64_t i = 0; i < d->M; i++)
            for (int64_t j = 0; j < d->N; j++) {
                if (floating) {
                    double sum = 0.0;
                    for (int64_t k = 0; k < d->K; k++)
                        sum += dlc_kload_f(a, t, a_off + i * d->a_rs + k * d->a_cs) *
                               dlc_kload_f(b, t, b_off + k * d->b_rs + j * d->b_cs);
                    dlc_kstore_f(y, t, y_off + i * d->N + j, sum);
                } else {
                    uint64_t sum = 0;
                    for (int64_t k = 0; k < d->K; k++)
                        sum += dlc_kload_u(a, t, a_off + i * d->a_rs + k * d->a_cs) *
                               dlc_kload_u(b, t, b_off + k * d->b_rs + j * d->b_cs);
                    dlc_kstore_u(y, t, y_off + i * d->N + j, sum);
                }
            }
    }
}

int32_t dlc_kernel_matmul(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx) {
    matmul_dims d = matmul_shape(p);
    int32_t t = dlc_kp_out(p, 0)->dtype;
    dlc_epilogue ep = {.residual = residual_of(p, inputs), .residual_ld = d.N};
    if (p->num_inputs > 2 && dlc_kp_in(p, 2)->dtype != 0) {
        ep.bias = inputs[2];
        ep.bias_cs = dlc_kp_in(p, 2)->dims[dlc_kp_in(p, 2)->rank - 1] == 1 ? 0 : 1;
    }
    dlc_epilogue_read(p, d.ints_used, 0, &ep);
    if (t == DLC_KT_FLOAT32) matmul_f32(&d, &ep, inputs[0], inputs[1], outputs[0], ctx);
    else if (dlc_epilogue_active(&ep)) return DLC_KERR_UNSUPPORTED; /* fused for float32 only */
    else matmul_generic(&d, t, inputs[0], inputs[1], outputs[0]);
    return DLC_KOK;
}

#ifndef DLC_KERNEL_BITCODE
#include "kernels/kernel_registry.h"
const dlc_kernel_entry dlc_kernels_linalg[] = {
    {"gemm", dlc_kernel_gemm, dlc_kernel_gemm_workspace},
    {"matmul", dlc_kernel_matmul, dlc_kernel_matmul_workspace},
    {NULL, NULL, NULL},
};
#endif
