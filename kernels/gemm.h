/*
 * The float32 matrix multiply shared by the linalg and conv kernels:
 *
 *     C[M,N] = alpha * A[M,K] * B[K,N] + beta * C      (beta == 0: C is not read)
 *
 * Blocked the BLIS way: B is packed into KC x NR column panels, A into
 * MR x KC row panels (both in the caller's workspace), and a register-blocked
 * MR x NR micro-kernel multiplies a pair of panels. Operands are read through
 * strides, so transposes cost nothing extra, and B may be an implicit im2col
 * view of a convolution input: the conv kernels never materialize the
 * unfolded matrix, the packing routine gathers it panel by panel.
 */
#ifndef DLC_KERNELS_GEMM_H
#define DLC_KERNELS_GEMM_H

#include "kernels/dlc_kernel.h"
#include "kernels/epilogue.h"

/* A convolution input seen as the im2col matrix B[K,N] of one image and one
 * group: row k = ((c * KD + kz) * KH + ky) * KW + kx, column
 * j = (oz * OH + oy) * OW + ox; element = x[c][iz][iy][ix] with
 * iz = oz * stride - pad + kz * dilation (zero outside the input).
 * 1-D and 2-D convolutions use leading unit dims. */
typedef struct dlc_im2col {
    const float *x;          /* first channel of the group in this image */
    int64_t channels;        /* channels per group */
    int64_t in[3];           /* D, H, W */
    int64_t kernel[3];
    int64_t out[3];
    int64_t stride[3];
    int64_t dilation[3];
    int64_t pad[3];          /* leading pads */
} dlc_im2col;

typedef struct dlc_gemm_operand {
    const float *data;       /* element (r, c) = data[r * row_stride + c * col_stride] */
    int64_t row_stride, col_stride;
    /* non-NULL replaces data/strides: B = the im2col matrix [K, pixels], or
     * A = its transpose [pixels, K] (a pixel-major convolution) */
    const dlc_im2col *im2col;
    /* B only: > 0 means data holds B pre-packed by dlc_sgemm_pack_b for this
     * panel width (strides and im2col unused). */
    int64_t packed_nr;
    /* with packed_nr: the K slice depth it was packed with (0: the GEMM's
     * own, 256) */
    int64_t packed_kc;
} dlc_gemm_operand;

/* Largest number of threads one GEMM uses: the workspace holds one pair of
 * packing buffers per thread and its size cannot depend on the session. */
#define DLC_GEMM_MAX_THREADS 8

/* Bytes of workspace dlc_sgemm needs for these sizes (any thread count). */
int64_t dlc_sgemm_workspace(int64_t M, int64_t N, int64_t K);

/* C (row stride ldc, unit column stride) = alpha*A*B + beta*C, threaded over
 * ctx->num_threads. workspace must hold dlc_sgemm_workspace(M, N, K) bytes,
 * 64-byte aligned; with less it uses fewer threads (at least one pair of
 * buffers is required). */
void dlc_sgemm(const dlc_kctx *ctx, int64_t M, int64_t N, int64_t K, float alpha, const dlc_gemm_operand *A,
               const dlc_gemm_operand *B, float beta, float *C, int64_t ldc, void *workspace,
               int64_t workspace_size);

/* The same, then ep applied to C (bias, residual, activation: epilogue.h)
 * block by block (MC rows x NC columns) as each block's last K slice
 * completes, while it is in cache.
 * ep NULL: plain dlc_sgemm. */
void dlc_sgemm_ep(const dlc_kctx *ctx, int64_t M, int64_t N, int64_t K, float alpha, const dlc_gemm_operand *A,
                  const dlc_gemm_operand *B, float beta, float *C, int64_t ldc, void *workspace,
                  int64_t workspace_size, const dlc_epilogue *ep);

/* Same, on the calling thread only, with one pair of packing buffers
 * (dlc_sgemm_workspace_single bytes): for callers that parallelize over
 * many small products themselves (batched MatMul, grouped Conv). */
int64_t dlc_sgemm_workspace_single(int64_t M, int64_t N, int64_t K);
void dlc_sgemm_single(int64_t M, int64_t N, int64_t K, float alpha, const dlc_gemm_operand *A,
                      const dlc_gemm_operand *B, float beta, float *C, int64_t ldc, void *workspace);
void dlc_sgemm_single_ep(int64_t M, int64_t N, int64_t K, float alpha, const dlc_gemm_operand *A,
                         const dlc_gemm_operand *B, float beta, float *C, int64_t ldc, void *workspace,
                         const dlc_epilogue *ep);

/* ---- B pre-packed at compile time ------------------------------------------
 * A constant B (a weight) is packed once, by the compiler, into the layout
 * the micro-kernel reads, so no run copies it: for each KC slice of K (the
 * slice at k0 holds kc = min(KC, K - k0) rows and starts at float
 * k0 * round_up(N, nr)), each nr-wide column panel in turn (panel j0 at
 * j0 * kc within the slice) as kc rows of nr floats, zero past column N.
 * Products on a packed B only use tiles of that nr (any M works). */

/* The panel width to pack B[K,N] for, M rows of A (M < 0: not known at
 * compile time, e.g. a sequence length; the choice then depends on N only). */
int64_t dlc_sgemm_pack_nr(int64_t M, int64_t N);
/* Multiply-adds the product runs, padding to its register tile included
 * (nr > 0: B packed for that width). */
int64_t dlc_sgemm_tile_macs(int64_t M, int64_t N, int64_t K, int64_t nr);
/* The grid of tasks (row blocks x column blocks) the product C = A x B
 * (alpha 1) is split into on this many threads, as dlc_sgemm_ep plans it
 * when the workspace allows them all: what the tests check the planner's
 * choices with. */
void dlc_sgemm_task_grid(int64_t M, int64_t N, int64_t K, const dlc_gemm_operand *A, const dlc_gemm_operand *B,
                         int64_t threads, int64_t *m_tasks, int64_t *n_tasks);
/* Floats of the packed form (16 or 32 for nr). */
int64_t dlc_sgemm_packed_b_floats(int64_t K, int64_t N, int64_t nr);
/* Packs B (read through its strides; not im2col, not packed) into dst in K
 * slices of kc rows (0: the GEMM's own depth, 256). */
void dlc_sgemm_pack_b(int64_t K, int64_t N, const dlc_gemm_operand *B, int64_t nr, int64_t kc, float *dst);
/* The K slices MatMul and Gemm pack their constant B in: equal, at most 768
 * deep. Each tile of C is then stored and reloaded fewer times (BERT's
 * 3072-wide feed-forward: 85.6% -> 92.5% of the FMA peak). Convolutions
 * keep 256: their longer sums moved ResNet-50's outputs past 1e-4 of ORT's. */
int64_t dlc_sgemm_deep_kc(int64_t K);
/* Workspace for a product on a packed B: A's packing buffers only. */
int64_t dlc_sgemm_workspace_packed(int64_t M, int64_t N, int64_t K);
int64_t dlc_sgemm_workspace_single_packed(int64_t M, int64_t N, int64_t K);

/* A MatMul operand's dims and element strides as the product reads it: the
 * stored tensor t seen through the permutation in ints ([n, perm...], n = 0
 * or ints NULL: as stored), as the transposes folded into MatMul and
 * Attention operands are. Returns the ints it used. */
int32_t dlc_matmul_operand_view(const dlc_ktensor *t, const int64_t *ints, int64_t *dims, int64_t *strides);

#endif
