/* The blocked float32 GEMM behind Gemm, MatMul and Conv (see gemm.h).
 *
 * Loop order (Goto/BLIS): for each task's column block, for each KC slice of
 * K, pack the B panel (KC x NC, stays in L2); for each MC block of rows pack
 * A (MC x KC) and run the MR x NR micro-kernel over all panel pairs. The
 * micro-kernel is plain C whose fixed-size inner loops clang unrolls and
 * turns into vector FMAs, the accumulators living in registers. */
#include "kernels/gemm.h"

#include <stdbool.h>

/* Three register tiles, chosen per product (gemm_pick_tile):
 *  - 6 x 32: 12 zmm (or 24 ymm) accumulators, the B row in two vectors and
 *    one A broadcast at a time; the default.
 *  - 8 x 32: 16 zmm accumulators, for M a multiple of 8 but not of 6: a
 *    transformer's sequence length (32 rows padded to 36 wasted 11%) and
 *    power-of-two conv channel counts; measured 6-9% faster on bert_tiny
 *    and gpt2_tiny (seq 32), ~2% on ResNet-18.
 *  - 12 x 16: 12 zmm accumulators over a 16-wide B row, for narrow products
 *    (convolutions on 4x4 feature maps, N = 16) where 32 columns would waste
 *    half the FMAs on padding.
 *  - 7 x 32: 14 zmm accumulators, for M a multiple of 7 but not of 6 or 8:
 *    the pixels of 7x7 and 14x14 feature maps in pixel-major convolutions
 *    (49 rows padded to 54 wasted 10% of ResNet-50's last 1x1 convs).
 * Each leaves room for B and the broadcasts in AVX-512's 32 registers and
 * keeps 12 or more independent FMA chains to hide latency. Panels are packed
 * for the chosen tile; buffers are sized for the largest. */
#define GEMM_MR 6
#define GEMM_NR 32
#define GEMM_MR_NARROW 12
#define GEMM_NR_NARROW 16
#define GEMM_MR_SQUARE 8
#define GEMM_MR_SEVEN 7
#define GEMM_MR_MAX 12
#define GEMM_KC 256
#define GEMM_MC 120  /* rows of A per block (to a multiple of MR below it); MC x KC floats = 120 KiB, an L2 share */
#define GEMM_NC 1024 /* widest column block of one task; KC x NC = 1 MiB */
#define GEMM_ALIGN 64

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }
static int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }
static int64_t ceil_div(int64_t x, int64_t m) { return (x + m - 1) / m; }

#define GEMM_KC_DEEP 768

int64_t dlc_sgemm_deep_kc(int64_t K) {
    int64_t slices = ceil_div(max64(K, 1), GEMM_KC_DEEP);
    return round_up(ceil_div(max64(K, 1), slices), 16);
}

/* The K slice depth of a packed B (packed_kc, or the default). */
static int64_t operand_kc(const dlc_gemm_operand *B) { return B->packed_kc > 0 ? B->packed_kc : GEMM_KC; }

/* Floats of the A and B packing buffers of one thread; kc_max the deepest
 * K slice. */
static void buffer_floats_kc(int64_t M, int64_t N, int64_t K, int64_t kc_max, int64_t *a_floats, int64_t *b_floats) {
    int64_t kc = max64(1, min64(K, kc_max));
    /* enough for any tile: one is picked only where it pads M less than 6
     * rows do, so to no more than GEMM_MR_MAX does */
    int64_t mc = min64(round_up(max64(M, 1), GEMM_MR_MAX), GEMM_MC);
    int64_t nc = min64(round_up(max64(N, 1), GEMM_NR), GEMM_NC);
    *a_floats = round_up(mc * kc, GEMM_ALIGN / 4);
    *b_floats = round_up(kc * nc, GEMM_ALIGN / 4);
}

static void buffer_floats(int64_t M, int64_t N, int64_t K, int64_t *a_floats, int64_t *b_floats) {
    buffer_floats_kc(M, N, K, GEMM_KC, a_floats, b_floats);
}

int64_t dlc_sgemm_workspace_single(int64_t M, int64_t N, int64_t K) {
    int64_t a, b;
    buffer_floats(M, N, K, &a, &b);
    return (a + b) * 4;
}

int64_t dlc_sgemm_workspace(int64_t M, int64_t N, int64_t K) {
    return DLC_GEMM_MAX_THREADS * dlc_sgemm_workspace_single(M, N, K);
}

/* A packed B needs no B buffer: only A's, as deep as B's slices can be. */
int64_t dlc_sgemm_workspace_single_packed(int64_t M, int64_t N, int64_t K) {
    int64_t a, b;
    buffer_floats_kc(M, N, K, max64(GEMM_KC, dlc_sgemm_deep_kc(K)), &a, &b);
    return a * 4;
}

int64_t dlc_sgemm_workspace_packed(int64_t M, int64_t N, int64_t K) {
    return DLC_GEMM_MAX_THREADS * dlc_sgemm_workspace_single_packed(M, N, K);
}

/* ---- packing --------------------------------------------------------- */

static void pack_im2col(const dlc_im2col *v, int64_t k0, int64_t kc, int64_t j0, int64_t nc, int64_t nr,
                       float *restrict dst);

/* A transposed A (a pointwise conv's input seen pixel-major): each k's MR
 * values are contiguous. With MR a constant each row is a few vector moves
 * (a variable count became a memcpy call per 24 bytes: 17% of a 1x1 conv). */
static inline __attribute__((always_inline)) void pack_a_transposed_rows(int MR, int64_t kc, const float *src,
                                                                        int64_t k_stride, float *restrict panel) {
    for (int64_t k = 0; k < kc; k++)
        for (int r = 0; r < MR; r++) panel[k * MR + r] = src[k * k_stride + r];
}

static void pack_a_transposed(int64_t mr, int64_t kc, const float *src, int64_t k_stride, float *restrict panel) {
    switch (mr) {
    case GEMM_MR: pack_a_transposed_rows(GEMM_MR, kc, src, k_stride, panel); break;
    case GEMM_MR_SQUARE: pack_a_transposed_rows(GEMM_MR_SQUARE, kc, src, k_stride, panel); break;
    case GEMM_MR_SEVEN: pack_a_transposed_rows(GEMM_MR_SEVEN, kc, src, k_stride, panel); break;
    default: pack_a_transposed_rows(GEMM_MR_NARROW, kc, src, k_stride, panel); break;
    }
}

/* A[i0:i0+mc, k0:k0+kc] * alpha into mr-row panels: panel p holds rows
 * p*mr.. as kc columns of mr values (zero rows pad the last panel). An
 * im2col A (a pixel-major convolution: rows are output pixels) is the
 * transpose of the B view, and its mr-row panels are laid out exactly as
 * B's nr-column panels with nr = mr. */
static void pack_a(const dlc_gemm_operand *A, int64_t i0, int64_t mc, int64_t k0, int64_t kc, float alpha,
                   int64_t mr, float *restrict dst) {
    if (A->im2col != NULL) {
        pack_im2col(A->im2col, k0, kc, i0, mc, mr, dst);
        return;
    }
    for (int64_t ip = 0; ip < mc; ip += mr) {
        int64_t rows = min64(mr, mc - ip);
        float *restrict panel = dst + ip * kc;
        const float *src = A->data + (i0 + ip) * A->row_stride + k0 * A->col_stride;
        if (A->row_stride == 1 && rows == mr && alpha == 1.0f) {
            pack_a_transposed(mr, kc, src, A->col_stride, panel);
            continue;
        }
        for (int64_t k = 0; k < kc; k++)
            for (int64_t r = 0; r < mr; r++)
                panel[k * mr + r] = r < rows ? alpha * src[r * A->row_stride + k * A->col_stride] : 0.0f;
    }
}

static void pack_b_dense(const dlc_gemm_operand *B, int64_t k0, int64_t kc, int64_t j0, int64_t nc, int64_t nr,
                         float *restrict dst) {
    for (int64_t jp = 0; jp < nc; jp += nr) {
        int64_t cols = min64(nr, nc - jp);
        float *restrict panel = dst + jp * kc;
        const float *src = B->data + k0 * B->row_stride + (j0 + jp) * B->col_stride;
        if (cols == nr && B->col_stride == 1) {
            /* constant sizes: inline vector moves, not a memcpy call per row */
            if (nr == GEMM_NR)
                for (int64_t k = 0; k < kc; k++) memcpy(panel + k * GEMM_NR, src + k * B->row_stride, GEMM_NR * 4);
            else
                for (int64_t k = 0; k < kc; k++) memcpy(panel + k * nr, src + k * B->row_stride, (size_t)nr * 4);
        } else if (B->row_stride == 1) {
            /* transposed B: walk each column contiguously */
            for (int64_t c = 0; c < nr; c++)
                for (int64_t k = 0; k < kc; k++)
                    panel[k * nr + c] = c < cols ? src[c * B->col_stride + k] : 0.0f;
        } else {
            for (int64_t k = 0; k < kc; k++)
                for (int64_t c = 0; c < nr; c++)
                    panel[k * nr + c] = c < cols ? src[k * B->row_stride + c * B->col_stride] : 0.0f;
        }
    }
}

static bool im2col_unpadded(const dlc_im2col *v) {
    for (int i = 0; i < 3; i++)
        if (v->pad[i] != 0 || (v->out[i] - 1) * v->stride[i] + (v->kernel[i] - 1) * v->dilation[i] >= v->in[i])
            return false;
    return true;
}

/* Gathers the im2col rows k0..k0+kc, columns j0..j0+nc straight from the
 * convolution input, one output row (fixed oz, oy) run at a time. */
static void pack_b_im2col_general(const dlc_im2col *v, int64_t k0, int64_t kc, int64_t j0, int64_t nc, int64_t nr,
                                  float *restrict dst) {
    const int64_t ID = v->in[0], IH = v->in[1], IW = v->in[2];
    const int64_t KD = v->kernel[0], KH = v->kernel[1], KW = v->kernel[2];
    const int64_t OH = v->out[1], OW = v->out[2];
    const int64_t nc_padded = round_up(nc, nr);
    for (int64_t k = 0; k < kc; k++) {
        int64_t kk = k0 + k;
        int64_t kx = kk % KW, t = kk / KW;
        int64_t ky = t % KH;
        t /= KH;
        int64_t kz = t % KD, c = t / KD;
        const float *xc = v->x + c * ID * IH * IW;
        int64_t j = j0;
        int64_t ox = j % OW, oy = (j / OW) % OH, oz = j / (OW * OH);
        int64_t jj = 0;
        while (jj < nc) {
            int64_t run = min64(OW - ox, nc - jj);
            int64_t iz = oz * v->stride[0] - v->pad[0] + kz * v->dilation[0];
            int64_t iy = oy * v->stride[1] - v->pad[1] + ky * v->dilation[1];
            bool row_inside = iz >= 0 && iz < ID && iy >= 0 && iy < IH;
            const float *row = xc + (iz * IH + iy) * IW;
            int64_t ix0 = ox * v->stride[2] - v->pad[2] + kx * v->dilation[2];
            for (int64_t r = 0; r < run; r++) {
                int64_t col = jj + r;
                int64_t ix = ix0 + r * v->stride[2];
                float value = row_inside && ix >= 0 && ix < IW ? row[ix] : 0.0f;
                dst[(col / nr) * kc * nr + k * nr + col % nr] = value;
            }
            jj += run;
            ox = 0;
            if (++oy == OH) {
                oy = 0;
                oz++;
            }
        }
        for (int64_t col = nc; col < nc_padded; col++) dst[(col / nr) * kc * nr + k * nr + col % nr] = 0.0f;
    }
}

/* The same for a view that never reads outside the input (the conv kernel
 * pads the input into its workspace first): no bounds checks. The columns
 * split into runs along one output row within a panel, found once; every
 * im2col row is then a few strided copies (plain copies at stride 1).
 * Rows run outermost, so that each input row is read from start to end:
 * with panels outermost, consecutive reads were a channel plane apart and
 * the packing of a 1x1 stride-2 conv (ResNet-50's downsamples, whose
 * inputs do not fit in L2) took 28% of its time. */
static void pack_b_im2col_inside(const dlc_im2col *v, int64_t k0, int64_t kc, int64_t j0, int64_t nc, int64_t nr,
                                 float *restrict dst) {
    const int64_t IH = v->in[1], IW = v->in[2], OH = v->out[1], OW = v->out[2];
    const int64_t KH = v->kernel[1], KW = v->kernel[2], sx = v->stride[2];
    /* run r: run_len[r] columns from run_dst[r] of the packed rows (panel
     * and column), from input offset run_base[r] on. A run holds at least
     * one column, and callers pack at most GEMM_NC columns (B's column
     * block) or GEMM_MC rows (A's row block). */
    enum { MAX_RUNS = GEMM_NC };
    _Static_assert(GEMM_MC <= GEMM_NC, "A's row blocks pack through these runs too");
    int64_t run_dst[MAX_RUNS], run_base[MAX_RUNS];
    int32_t run_len[MAX_RUNS];
    int64_t runs = 0;
    for (int64_t jp = 0; jp < nc; jp += nr) {
        int64_t cols = min64(nr, nc - jp);
        for (int64_t c = 0; c < cols;) {
            int64_t j = j0 + jp + c;
            int64_t ox = j % OW, oy = (j / OW) % OH, oz = j / (OW * OH);
            int64_t n = min64(OW - ox, cols - c);
            run_dst[runs] = jp / nr * kc * nr + c;
            run_base[runs] = (oz * v->stride[0] * IH + oy * v->stride[1]) * IW + ox * sx;
            run_len[runs] = (int32_t)n;
            runs++;
            c += n;
        }
    }
    const int64_t panels = (nc + nr - 1) / nr, tail = nc - (panels - 1) * nr;
    int64_t kx = k0 % KW, ky = (k0 / KW) % KH, kz = (k0 / (KW * KH)) % v->kernel[0];
    int64_t ch = k0 / (KW * KH * v->kernel[0]);
    for (int64_t k = 0; k < kc; k++) {
        const float *src =
            v->x + ((ch * v->in[0] + kz * v->dilation[0]) * IH + ky * v->dilation[1]) * IW + kx * v->dilation[2];
        float *restrict rows = dst + k * nr; /* panel p's row k at rows + p * kc * nr */
        for (int64_t r = 0; r < runs; r++) {
            const float *s = src + run_base[r];
            float *restrict out = rows + run_dst[r];
            int64_t n = run_len[r];
            if (sx == 1)
                for (int64_t i = 0; i < n; i++) out[i] = s[i];
            else
                for (int64_t i = 0; i < n; i++) out[i] = s[i * sx];
        }
        for (int64_t c = tail; c < nr; c++) rows[(panels - 1) * kc * nr + c] = 0.0f;
        if (++kx == KW) {
            kx = 0;
            if (++ky == KH) {
                ky = 0;
                if (++kz == v->kernel[0]) {
                    kz = 0;
                    ch++;
                }
            }
        }
    }
}

static void pack_im2col(const dlc_im2col *v, int64_t k0, int64_t kc, int64_t j0, int64_t nc, int64_t nr,
                        float *restrict dst) {
    if (im2col_unpadded(v)) pack_b_im2col_inside(v, k0, kc, j0, nc, nr, dst);
    else pack_b_im2col_general(v, k0, kc, j0, nc, nr, dst);
}

static void pack_b(const dlc_gemm_operand *B, int64_t k0, int64_t kc, int64_t j0, int64_t nc, int64_t nr,
                   float *restrict dst) {
    if (B->im2col == NULL) pack_b_dense(B, k0, kc, j0, nc, nr, dst);
    else pack_im2col(B->im2col, k0, kc, j0, nc, nr, dst);
}

/* The whole of B as gemm_block would pack it slice by slice, each slice's
 * panels contiguous: a task's column block jc of slice k0 is then the run
 * of panels at k0 * round_up(N, nr) + jc * kc (see gemm.h). */
int64_t dlc_sgemm_packed_b_floats(int64_t K, int64_t N, int64_t nr) { return K * round_up(N, nr); }

void dlc_sgemm_pack_b(int64_t K, int64_t N, const dlc_gemm_operand *B, int64_t nr, int64_t kc, float *dst) {
    int64_t n_padded = round_up(N, nr);
    if (kc <= 0) kc = GEMM_KC;
    for (int64_t k0 = 0; k0 < K; k0 += kc) pack_b_dense(B, k0, min64(kc, K - k0), 0, N, nr, dst + k0 * n_padded);
}

/* ---- micro-kernels ------------------------------------------------------- */

/* C[0:mr, 0:nr] (=|+=) A x B panel, A element (i, k) at a[i * a_rs + k * a_cs]
 * (a packed panel: a_rs 1, a_cs MR; a row-major A read in place: a_rs lda,
 * a_cs 1). first: this is the first K slice, so beta applies (beta == 0
 * overwrites without reading C). Instantiated per tile and A layout with
 * constant sizes, so clang keeps the accumulators in registers. */
static inline __attribute__((always_inline)) void micro_kernel_body(int MR, int NR, int64_t kc, const float *restrict a,
                                                                   int64_t a_rs, int64_t a_cs, const float *restrict b,
                                                                   float *restrict c, int64_t ldc, int64_t mr,
                                                                   int64_t nr, float beta, int first) {
    float acc[GEMM_MR_MAX][GEMM_NR];
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++) acc[i][j] = 0.0f;
    for (int64_t k = 0; k < kc; k++) {
        const float *restrict bk = b + k * NR;
        for (int i = 0; i < MR; i++) {
            float ai = a[i * a_rs + k * a_cs];
            for (int j = 0; j < NR; j++) acc[i][j] += ai * bk[j];
        }
    }
    if (mr == MR && nr == NR) {
        if (!first) {
            for (int i = 0; i < MR; i++)
                for (int j = 0; j < NR; j++) c[i * ldc + j] += acc[i][j];
        } else if (beta == 0.0f) {
            for (int i = 0; i < MR; i++)
                for (int j = 0; j < NR; j++) c[i * ldc + j] = acc[i][j];
        } else {
            for (int i = 0; i < MR; i++)
                for (int j = 0; j < NR; j++) c[i * ldc + j] = beta * c[i * ldc + j] + acc[i][j];
        }
        return;
    }
    for (int64_t i = 0; i < mr; i++)
        for (int64_t j = 0; j < nr; j++) {
            float *out = &c[i * ldc + j];
            if (!first) *out += acc[i][j];
            else if (beta == 0.0f) *out = acc[i][j];
            else *out = beta * *out + acc[i][j];
        }
}

typedef void (*micro_kernel_fn)(int64_t kc, const float *restrict a, int64_t lda, const float *restrict b,
                                float *restrict c, int64_t ldc, int64_t mr, int64_t nr, float beta, int first);

static void mk_6x32_packed(int64_t kc, const float *restrict a, int64_t lda, const float *restrict b,
                           float *restrict c, int64_t ldc, int64_t mr, int64_t nr, float beta, int first) {
    (void)lda;
    micro_kernel_body(GEMM_MR, GEMM_NR, kc, a, 1, GEMM_MR, b, c, ldc, mr, nr, beta, first);
}
static void mk_6x32_direct(int64_t kc, const float *restrict a, int64_t lda, const float *restrict b,
                           float *restrict c, int64_t ldc, int64_t mr, int64_t nr, float beta, int first) {
    micro_kernel_body(GEMM_MR, GEMM_NR, kc, a, lda, 1, b, c, ldc, mr, nr, beta, first);
}
static void mk_12x16_packed(int64_t kc, const float *restrict a, int64_t lda, const float *restrict b,
                            float *restrict c, int64_t ldc, int64_t mr, int64_t nr, float beta, int first) {
    (void)lda;
    micro_kernel_body(GEMM_MR_NARROW, GEMM_NR_NARROW, kc, a, 1, GEMM_MR_NARROW, b, c, ldc, mr, nr, beta, first);
}
static void mk_12x16_direct(int64_t kc, const float *restrict a, int64_t lda, const float *restrict b,
                            float *restrict c, int64_t ldc, int64_t mr, int64_t nr, float beta, int first) {
    micro_kernel_body(GEMM_MR_NARROW, GEMM_NR_NARROW, kc, a, lda, 1, b, c, ldc, mr, nr, beta, first);
}

static void mk_8x32_packed(int64_t kc, const float *restrict a, int64_t lda, const float *restrict b,
                           float *restrict c, int64_t ldc, int64_t mr, int64_t nr, float beta, int first) {
    (void)lda;
    micro_kernel_body(GEMM_MR_SQUARE, GEMM_NR, kc, a, 1, GEMM_MR_SQUARE, b, c, ldc, mr, nr, beta, first);
}
static void mk_8x32_direct(int64_t kc, const float *restrict a, int64_t lda, const float *restrict b,
                           float *restrict c, int64_t ldc, int64_t mr, int64_t nr, float beta, int first) {
    micro_kernel_body(GEMM_MR_SQUARE, GEMM_NR, kc, a, lda, 1, b, c, ldc, mr, nr, beta, first);
}

static void mk_7x32_packed(int64_t kc, const float *restrict a, int64_t lda, const float *restrict b,
                           float *restrict c, int64_t ldc, int64_t mr, int64_t nr, float beta, int first) {
    (void)lda;
    micro_kernel_body(GEMM_MR_SEVEN, GEMM_NR, kc, a, 1, GEMM_MR_SEVEN, b, c, ldc, mr, nr, beta, first);
}
static void mk_7x32_direct(int64_t kc, const float *restrict a, int64_t lda, const float *restrict b,
                           float *restrict c, int64_t ldc, int64_t mr, int64_t nr, float beta, int first) {
    micro_kernel_body(GEMM_MR_SEVEN, GEMM_NR, kc, a, lda, 1, b, c, ldc, mr, nr, beta, first);
}

/* ---- driver --------------------------------------------------------------- */

typedef struct gemm_problem {
    int64_t M, N, K;
    float alpha, beta;
    const dlc_gemm_operand *A, *B;
    float *C;
    int64_t ldc;
    int64_t mr, nr;             /* the register tile */
    int64_t mc;                 /* rows of A per block: GEMM_MC rounded down to mr */
    int64_t kc;                 /* K slice depth: GEMM_KC, or a pre-packed B's */
    int64_t n_padded;           /* packed B: round_up(N, nr), the floats of one packed row */
    bool direct_a;              /* full row panels of A are read in place, not packed */
    micro_kernel_fn packed_kernel, direct_kernel;
    /* task grid: m_tasks x n_tasks blocks of at most task_m x task_n */
    int64_t task_m, task_n, m_tasks, n_tasks;
    int64_t slots;
    char *workspace;
    int64_t slot_bytes, a_floats;
    const dlc_epilogue *ep;     /* NULL or applied to each MC x NC block after its last K slice */
} gemm_problem;

enum { TILE_WIDE, TILE_NARROW, TILE_SQUARE, TILE_SEVEN };

/* The tile wasting the fewest multiply-adds on padding; 6 x 32 on ties, then
 * 8 x 32, then 12 x 16. A B packed for panel width nr (> 0) allows only
 * tiles that wide. */
static int tile_choice(int64_t M, int64_t N, int64_t nr) {
    if (nr == GEMM_NR_NARROW) return TILE_NARROW;
    int64_t wide = round_up(M, GEMM_MR) * round_up(N, GEMM_NR);
    int64_t narrow = nr == GEMM_NR ? INT64_MAX : round_up(M, GEMM_MR_NARROW) * round_up(N, GEMM_NR_NARROW);
    int64_t square = round_up(M, GEMM_MR_SQUARE) * round_up(N, GEMM_NR);
    int64_t seven = round_up(M, GEMM_MR_SEVEN) * round_up(N, GEMM_NR);
    if (seven < wide && seven < square && seven < narrow) return TILE_SEVEN;
    if (square < wide && square <= narrow) return TILE_SQUARE;
    return narrow < wide ? TILE_NARROW : TILE_WIDE;
}

static int64_t tile_mr(int tile) {
    switch (tile) {
    case TILE_SQUARE: return GEMM_MR_SQUARE;
    case TILE_NARROW: return GEMM_MR_NARROW;
    case TILE_SEVEN: return GEMM_MR_SEVEN;
    default: return GEMM_MR;
    }
}

static int64_t tile_nr(int tile) { return tile == TILE_NARROW ? GEMM_NR_NARROW : GEMM_NR; }

int64_t dlc_sgemm_pack_nr(int64_t M, int64_t N) {
    /* M unknown: the width padding N the least (ties: 32, the wider tiles' FMA density) */
    if (M < 0) return round_up(N, GEMM_NR_NARROW) < round_up(N, GEMM_NR) ? GEMM_NR_NARROW : GEMM_NR;
    return tile_nr(tile_choice(M, N, 0));
}

int64_t dlc_sgemm_tile_macs(int64_t M, int64_t N, int64_t K, int64_t nr) {
    int tile = tile_choice(M, N, nr);
    return round_up(M, tile_mr(tile)) * round_up(N, tile_nr(tile)) * K;
}

static void gemm_pick_tile(gemm_problem *p) {
    int tile = tile_choice(p->M, p->N, p->B->packed_nr);
    p->mr = tile_mr(tile);
    p->nr = tile_nr(tile);
    p->mc = GEMM_MC / p->mr * p->mr;
    if (tile == TILE_SQUARE) p->packed_kernel = mk_8x32_packed, p->direct_kernel = mk_8x32_direct;
    else if (tile == TILE_NARROW) p->packed_kernel = mk_12x16_packed, p->direct_kernel = mk_12x16_direct;
    else if (tile == TILE_SEVEN) p->packed_kernel = mk_7x32_packed, p->direct_kernel = mk_7x32_direct;
    else p->packed_kernel = mk_6x32_packed, p->direct_kernel = mk_6x32_direct;
    /* A row-major A needs no packing: the micro-kernel broadcasts from mr
     * rows in place (mr sequential streams), so constant weights are never
     * copied at run time. Only the last, partial row panel is packed. */
    p->direct_a = p->A->im2col == NULL && p->A->col_stride == 1 && p->alpha == 1.0f;
    p->n_padded = round_up(p->N, p->nr);
}

/* One register tile of C (rows i0.., columns j0..) over one K slice. */
static inline __attribute__((always_inline)) void gemm_tile(const gemm_problem *p, int64_t ic, int64_t ir, int64_t jc,
                                                            int64_t jr, int64_t mc, int64_t nc, int64_t pc, int64_t kc,
                                                            int64_t direct, const float *abuf, const float *bpanels) {
    float *c = p->C + (ic + ir) * p->ldc + jc + jr;
    int64_t rows = min64(p->mr, mc - ir), cols = min64(p->nr, nc - jr);
    if (ir < direct)
        p->direct_kernel(kc, p->A->data + (ic + ir) * p->A->row_stride + pc, p->A->row_stride, bpanels + jr * kc, c,
                         p->ldc, rows, cols, p->beta, pc == 0);
    else
        p->packed_kernel(kc, abuf + ir * kc, 0, bpanels + jr * kc, c, p->ldc, rows, cols, p->beta, pc == 0);
}

static void gemm_block(const gemm_problem *p, int64_t i_begin, int64_t i_end, int64_t j_begin, int64_t j_end,
                       float *abuf, float *bbuf) {
    const int64_t mr = p->mr, nr = p->nr;
    /* Tiles along C's rows when B is packed at run time (a conv's input:
     * rows of C are output channels, a feature map apart): the stores, and
     * the epilogue's residual, then run along rows the prefetcher follows
     * instead of touching MC rows 128 bytes each; the B panels come from L2.
     * ResNet-50's 1x1 convs on 56x56 maps ran 25% faster (1T, in the
     * network). A pre-packed B (weights), or rows of C a few panels short
     * (attention's products), keep the panel in L1 and walk down the rows. */
    const bool along_rows = p->B->packed_nr == 0 && j_end - j_begin >= 8 * nr;
    for (int64_t jc = j_begin; jc < j_end; jc += GEMM_NC) {
        int64_t nc = min64(GEMM_NC, j_end - jc);
        for (int64_t pc = 0; pc < p->K; pc += p->kc) {
            int64_t kc = min64(p->kc, p->K - pc);
            const bool last_slice = p->ep != NULL && pc + kc >= p->K;
            /* a pre-packed B is read in place: this slice's panels from column jc */
            const float *bpanels = bbuf;
            if (p->B->packed_nr > 0) bpanels = p->B->data + pc * p->n_padded + jc * kc;
            else pack_b(p->B, pc, kc, jc, nc, nr, bbuf);
            for (int64_t ic = i_begin; ic < i_end; ic += p->mc) {
                int64_t mc = min64(p->mc, i_end - ic);
                /* rows [ic, ic + direct) are read in place, the rest packed */
                int64_t direct = p->direct_a ? mc / mr * mr : 0;
                if (direct < mc) pack_a(p->A, ic + direct, mc - direct, pc, kc, p->alpha, mr, abuf + direct * kc);
                if (along_rows)
                    for (int64_t ir = 0; ir < mc; ir += mr)
                        for (int64_t jr = 0; jr < nc; jr += nr)
                            gemm_tile(p, ic, ir, jc, jr, mc, nc, pc, kc, direct, abuf, bpanels);
                else
                    for (int64_t jr = 0; jr < nc; jr += nr)
                        for (int64_t ir = 0; ir < mc; ir += mr)
                            gemm_tile(p, ic, ir, jc, jr, mc, nc, pc, kc, direct, abuf, bpanels);
                /* this MC x NC block of C is final and still in L2: the
                 * epilogue reads it once more from there, and the residual's
                 * rows as contiguous runs the hardware prefetcher follows
                 * (per register tile was slower: strided residual rows, and
                 * loads of the tile the micro-kernel had just stored) */
                if (last_slice) dlc_epilogue_apply(p->ep, p->C, p->ldc, ic, ic + mc, jc, jc + nc);
            }
        }
    }
}

static void run_task(const gemm_problem *p, int64_t task, float *abuf, float *bbuf) {
    int64_t tm = task / p->n_tasks, tn = task % p->n_tasks;
    int64_t i0 = tm * p->task_m, j0 = tn * p->task_n;
    if (i0 >= p->M || j0 >= p->N) return;
    gemm_block(p, i0, min64(p->M, i0 + p->task_m), j0, min64(p->N, j0 + p->task_n), abuf, bbuf);
}

/* One slot = one pair of packing buffers, used by one thread at a time. */
static void run_slots(void *arg, int64_t begin, int64_t end) {
    const gemm_problem *p = arg;
    int64_t tasks = p->m_tasks * p->n_tasks;
    for (int64_t slot = begin; slot < end; slot++) {
        float *abuf = (float *)(void *)(p->workspace + slot * p->slot_bytes);
        float *bbuf = abuf + p->a_floats;
        for (int64_t t = tasks * slot / p->slots; t < tasks * (slot + 1) / p->slots; t++) run_task(p, t, abuf, bbuf);
    }
}

/* C = beta * C when there is nothing to multiply (K == 0 or alpha == 0). */
static void scale_c(int64_t M, int64_t N, float beta, float *C, int64_t ldc) {
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
}

/* ---- matrix-vector products -------------------------------------------------
 * With one row (or column) the MR x NR tile wastes most of its work and the
 * product is bound by reading the matrix once, so these stream it instead. */

typedef struct gemv_problem {
    int64_t len, K;          /* outputs, reduction length */
    float alpha, beta;
    const float *vec;        /* K values, stride vec_stride */
    int64_t vec_stride;
    const float *mat;        /* output o reads mat[o * o_stride + k * k_stride] */
    int64_t o_stride, k_stride;
    float *out;
    int64_t out_stride;
} gemv_problem;

#define GEMV_LANES 16
#define GEMV_BLOCK 256

static void gemv_store(const gemv_problem *p, int64_t o, float sum) {
    float *y = &p->out[o * p->out_stride];
    *y = p->beta == 0.0f ? p->alpha * sum : p->alpha * sum + p->beta * *y;
}

static void gemv_range(void *arg, int64_t begin, int64_t end) {
    const gemv_problem *p = arg;
    if (p->k_stride == 1 && p->vec_stride == 1) {
        /* each output is a dot product of contiguous rows: LANES partial sums
         * vectorize without reassociating float adds */
        for (int64_t o = begin; o < end; o++) {
            const float *row = p->mat + o * p->o_stride;
            float part[GEMV_LANES] = {0};
            int64_t k = 0;
            for (; k + GEMV_LANES <= p->K; k += GEMV_LANES)
                for (int l = 0; l < GEMV_LANES; l++) part[l] += row[k + l] * p->vec[k + l];
            float sum = 0.0f;
            for (int l = 0; l < GEMV_LANES; l++) sum += part[l];
            for (; k < p->K; k++) sum += row[k] * p->vec[k];
            gemv_store(p, o, sum);
        }
        return;
    }
    /* outputs contiguous in the matrix (o_stride == 1): axpy over blocks */
    for (int64_t o0 = begin; o0 < end; o0 += GEMV_BLOCK) {
        int64_t n = min64(GEMV_BLOCK, end - o0);
        float acc[GEMV_BLOCK];
        for (int64_t o = 0; o < n; o++) acc[o] = 0.0f;
        for (int64_t k = 0; k < p->K; k++) {
            float v = p->vec[k * p->vec_stride];
            const float *row = p->mat + k * p->k_stride + o0 * p->o_stride;
            if (p->o_stride == 1)
                for (int64_t o = 0; o < n; o++) acc[o] += v * row[o];
            else
                for (int64_t o = 0; o < n; o++) acc[o] += v * row[o * p->o_stride];
        }
        for (int64_t o = 0; o < n; o++) gemv_store(p, o0 + o, acc[o]);
    }
}

static void gemv(const dlc_kctx *ctx, gemv_problem *p) {
    dlc_parallel_for(ctx, p->len, max64(16, 32768 / max64(p->K, 1)), gemv_range, p);
}

/* y[1,N] = alpha * a[1,K] * B + beta * y on a packed B (GPT-2's decode
 * step): each panel is read as one contiguous stream per K slice, rows of nr
 * floats that a broadcast of a[k] multiplies. Even and odd k accumulate
 * apart so that twice as many FMA chains hide their latency. */
typedef struct gemv_packed_problem {
    int64_t N, K, n_padded, kc;
    float alpha, beta;
    const float *vec;
    int64_t vec_stride;
    const float *packed;
    float *out;
} gemv_packed_problem;

static inline __attribute__((always_inline)) void gemv_packed_panels(int NR, const gemv_packed_problem *p,
                                                                    int64_t begin, int64_t end) {
    for (int64_t panel = begin; panel < end; panel++) {
        float even[GEMM_NR], odd[GEMM_NR];
        for (int j = 0; j < NR; j++) even[j] = odd[j] = 0.0f;
        for (int64_t k0 = 0; k0 < p->K; k0 += p->kc) {
            int64_t kc = min64(p->kc, p->K - k0);
            const float *restrict b = p->packed + k0 * p->n_padded + panel * NR * kc;
            const float *v = p->vec + k0 * p->vec_stride;
            int64_t k = 0;
            for (; k + 2 <= kc; k += 2) {
                float a0 = v[k * p->vec_stride], a1 = v[(k + 1) * p->vec_stride];
                for (int j = 0; j < NR; j++) even[j] += a0 * b[k * NR + j];
                for (int j = 0; j < NR; j++) odd[j] += a1 * b[(k + 1) * NR + j];
            }
            if (k < kc) {
                float a0 = v[k * p->vec_stride];
                for (int j = 0; j < NR; j++) even[j] += a0 * b[k * NR + j];
            }
        }
        int64_t cols = min64(NR, p->N - panel * NR);
        float *y = p->out + panel * NR;
        for (int64_t j = 0; j < cols; j++) {
            float sum = even[j] + odd[j];
            y[j] = p->beta == 0.0f ? p->alpha * sum : p->alpha * sum + p->beta * y[j];
        }
    }
}

static void gemv_packed_range_32(void *arg, int64_t begin, int64_t end) {
    gemv_packed_panels(GEMM_NR, arg, begin, end);
}
static void gemv_packed_range_16(void *arg, int64_t begin, int64_t end) {
    gemv_packed_panels(GEMM_NR_NARROW, arg, begin, end);
}

static void gemv_packed(const dlc_kctx *ctx, int64_t N, int64_t K, float alpha, const dlc_gemm_operand *A,
                        const dlc_gemm_operand *B, float beta, float *C) {
    int64_t nr = B->packed_nr;
    gemv_packed_problem p = {.N = N, .K = K, .n_padded = round_up(N, nr), .kc = operand_kc(B), .alpha = alpha,
                             .beta = beta,
                             .vec = A->data, .vec_stride = A->col_stride, .packed = B->data, .out = C};
    int64_t min_panels = ceil_div(max64(16, 32768 / max64(K, 1)), nr);
    dlc_parallel_for(ctx, ceil_div(N, nr), min_panels, nr == GEMM_NR ? gemv_packed_range_32 : gemv_packed_range_16,
                     &p);
}

/* Returns 1 when the product was handled as a matrix-vector product. */
static int try_gemv(const dlc_kctx *ctx, int64_t M, int64_t N, int64_t K, float alpha, const dlc_gemm_operand *A,
                    const dlc_gemm_operand *B, float beta, float *C, int64_t ldc) {
    if (A->im2col != NULL || B->im2col != NULL) return 0;
    if (B->packed_nr > 0) {
        if (M != 1) return 0;
        gemv_packed(ctx, N, K, alpha, A, B, beta, C);
        return 1;
    }
    gemv_problem p = {.K = K, .alpha = alpha, .beta = beta, .out = C};
    if (M == 1) { /* y[j] = sum_k a[k] B[k,j] */
        p.len = N;
        p.vec = A->data;
        p.vec_stride = A->col_stride;
        p.mat = B->data;
        p.o_stride = B->col_stride;
        p.k_stride = B->row_stride;
        p.out_stride = 1;
    } else if (N == 1) { /* y[i] = sum_k A[i,k] b[k] */
        p.len = M;
        p.vec = B->data;
        p.vec_stride = B->row_stride;
        p.mat = A->data;
        p.o_stride = A->row_stride;
        p.k_stride = A->col_stride;
        p.out_stride = ldc;
    } else {
        return 0;
    }
    if (!((p.k_stride == 1 && p.vec_stride == 1) || p.o_stride == 1)) return 0;
    gemv(ctx, &p);
    return 1;
}

/* Cost model of the task split, in multiply-adds: a task computes its
 * rows x columns padded to the tile, packs its own columns of B and, unless
 * A is read in place, its own rows of A once per column block (each packed
 * element costs about as much as this many multiply-adds: a copy or gather
 * next to 16 FMAs a cycle). */
#define PLAN_PACK_B_COST 12
#define PLAN_TASK_OVERHEAD 4096
#define PLAN_ROW_SEGMENT_COST 16384

static int64_t task_cost(const gemm_problem *p, int64_t rows, int64_t cols) {
    int64_t cols_padded = round_up(cols, p->nr);
    /* a B pre-packed at compile time is read in place: splitting rows costs no repacking */
    int64_t pack = p->B->packed_nr > 0 ? 0 : PLAN_PACK_B_COST * cols_padded * p->K;
    if (!p->direct_a) pack += PLAN_PACK_B_COST * round_up(rows, p->mr) * p->K * ceil_div(cols, GEMM_NC);
    /* With B packed at run time the tiles walk along C's rows (gemm_block),
     * and each row segment a task writes per K slice, with its residual,
     * starts the hardware prefetcher's streams over: about a memory latency
     * each. Splitting columns doubles the segments; ResNet-50's 1x1 convs on
     * 28x28 maps ran 3-20% faster on 2 threads split by rows, each thread
     * packing all of B. */
    if (p->B->packed_nr == 0)
        pack += PLAN_ROW_SEGMENT_COST * rows * ceil_div(cols, GEMM_NC) * ceil_div(p->K, p->kc);
    return round_up(rows, p->mr) * cols_padded * p->K + pack + PLAN_TASK_OVERHEAD;
}

/* The time of a split: slots run consecutive runs of tasks (run_slots), so
 * the slowest slot's sum. */
static int64_t split_makespan(const gemm_problem *p, int64_t task_m, int64_t task_n, int64_t slots) {
    int64_t m_tasks = ceil_div(p->M, task_m), n_tasks = ceil_div(p->N, task_n), tasks = m_tasks * n_tasks;
    int64_t worst = 0;
    for (int64_t slot = 0; slot < slots; slot++) {
        int64_t sum = 0;
        for (int64_t t = tasks * slot / slots; t < tasks * (slot + 1) / slots; t++) {
            int64_t i0 = t / n_tasks * task_m, j0 = t % n_tasks * task_n;
            sum += task_cost(p, min64(task_m, p->M - i0), min64(task_n, p->N - j0));
        }
        worst = max64(worst, sum);
    }
    return worst;
}

/* The rows x columns grid of tasks whose slowest thread finishes first.
 * Splitting columns shares no packing, splitting rows balances better when
 * N is a few panels (a 14x14 feature map is 196 columns: 128 + 68 on two
 * threads left one idle a third of the time); the model weighs both. */
static void plan_tasks(gemm_problem *p, int64_t threads) {
    int64_t row_panels = ceil_div(p->M, p->mr), col_panels = ceil_div(p->N, p->nr);
    int64_t best_m = p->M, best_n = p->N, best = INT64_MAX;
    for (int64_t m_tasks = 1; threads > 1 && m_tasks <= min64(row_panels, 2 * threads); m_tasks++)
        for (int64_t n_tasks = 1; n_tasks <= min64(col_panels, 4 * threads); n_tasks++) {
            int64_t task_m = round_up(ceil_div(p->M, m_tasks), p->mr);
            int64_t task_n = round_up(ceil_div(p->N, n_tasks), p->nr);
            int64_t tasks = ceil_div(p->M, task_m) * ceil_div(p->N, task_n);
            int64_t cost = split_makespan(p, task_m, task_n, min64(threads, tasks));
            if (cost < best) best = cost, best_m = task_m, best_n = task_n;
        }
    p->task_m = best_m;
    p->task_n = best_n;
    p->n_tasks = ceil_div(p->N, p->task_n);
    p->m_tasks = ceil_div(p->M, p->task_m);
}

void dlc_sgemm_task_grid(int64_t M, int64_t N, int64_t K, const dlc_gemm_operand *A, const dlc_gemm_operand *B,
                         int64_t threads, int64_t *m_tasks, int64_t *n_tasks) {
    gemm_problem p = {.M = M, .N = N, .K = K, .alpha = 1.0f, .A = A, .B = B};
    p.kc = B->packed_nr > 0 ? operand_kc(B) : GEMM_KC;
    gemm_pick_tile(&p);
    plan_tasks(&p, threads);
    *m_tasks = p.m_tasks;
    *n_tasks = p.n_tasks;
}

void dlc_sgemm_ep(const dlc_kctx *ctx, int64_t M, int64_t N, int64_t K, float alpha, const dlc_gemm_operand *A,
                  const dlc_gemm_operand *B, float beta, float *C, int64_t ldc, void *workspace,
                  int64_t workspace_size, const dlc_epilogue *ep) {
    if (M <= 0 || N <= 0) return;
    if (!dlc_epilogue_active(ep)) ep = NULL;
    /* no tiles here: the epilogue runs once over the finished (small or
     * memory-bound) result */
    if (K <= 0 || alpha == 0.0f) {
        scale_c(M, N, beta, C, ldc);
        if (ep != NULL) dlc_epilogue_apply(ep, C, ldc, 0, M, 0, N);
        return;
    }
    if (try_gemv(ctx, M, N, K, alpha, A, B, beta, C, ldc)) {
        if (ep != NULL) dlc_epilogue_apply(ep, C, ldc, 0, M, 0, N);
        return;
    }
    gemm_problem p = {.M = M, .N = N, .K = K, .alpha = alpha, .beta = beta, .A = A, .B = B, .C = C, .ldc = ldc,
                      .workspace = workspace, .ep = ep};
    int64_t b_floats;
    p.kc = B->packed_nr > 0 ? operand_kc(B) : GEMM_KC;
    buffer_floats_kc(M, N, K, p.kc, &p.a_floats, &b_floats);
    if (B->packed_nr > 0) b_floats = 0; /* panels are read in place */
    p.slot_bytes = (p.a_floats + b_floats) * 4;
    int64_t threads = ctx != NULL && ctx->num_threads > 1 ? ctx->num_threads : 1;
    threads = min64(threads, min64(DLC_GEMM_MAX_THREADS, max64(1, workspace_size / p.slot_bytes)));
    /* below ~1 MFLOP per thread the fork costs more than it saves */
    threads = min64(threads, max64(1, M * N * K / (1 << 19)));
    gemm_pick_tile(&p);
    plan_tasks(&p, threads);
    p.slots = min64(threads, p.m_tasks * p.n_tasks);
    dlc_parallel_for(ctx, p.slots, 1, run_slots, &p);
}

void dlc_sgemm(const dlc_kctx *ctx, int64_t M, int64_t N, int64_t K, float alpha, const dlc_gemm_operand *A,
               const dlc_gemm_operand *B, float beta, float *C, int64_t ldc, void *workspace,
               int64_t workspace_size) {
    dlc_sgemm_ep(ctx, M, N, K, alpha, A, B, beta, C, ldc, workspace, workspace_size, NULL);
}

void dlc_sgemm_single_ep(int64_t M, int64_t N, int64_t K, float alpha, const dlc_gemm_operand *A,
                         const dlc_gemm_operand *B, float beta, float *C, int64_t ldc, void *workspace,
                         const dlc_epilogue *ep) {
    dlc_kctx serial = {.num_threads = 1};
    int64_t size = B->packed_nr > 0 ? dlc_sgemm_workspace_single_packed(M, N, K) : dlc_sgemm_workspace_single(M, N, K);
    dlc_sgemm_ep(&serial, M, N, K, alpha, A, B, beta, C, ldc, workspace, size, ep);
}

void dlc_sgemm_single(int64_t M, int64_t N, int64_t K, float alpha, const dlc_gemm_operand *A,
                      const dlc_gemm_operand *B, float beta, float *C, int64_t ldc, void *workspace) {
    dlc_sgemm_single_ep(M, N, K, alpha, A, B, beta, C, ldc, workspace, NULL);
}

#ifndef DLC_KERNEL_BITCODE
#include "kernels/kernel_registry.h"
/* The GEMM is a building block of other kernels, not an op's kernel. */
const dlc_kernel_entry dlc_kernels_gemm[] = {
    {NULL, NULL, NULL},
};
#endif
