/*
 * How a float32 Conv's weight is stored, chosen per Conv at compile time by
 * passes/prepack_weights.c (kernels/conv.c runs each):
 *
 *  - plain: W[M, C/group, k...] as given. The conv is a channel-major GEMM,
 *    W[M, K] x im2col(X)[K, pixels] (K = C/group * kernel volume), with the
 *    im2col panels gathered from the input as the GEMM packs them.
 *  - direct: per block of nr = 32 (or 16) output channels, K rows of nr
 *    weights. A direct loop keeps nr channels x 8 pixels of one output row
 *    in registers and reads the input in place: no im2col copy, which costs a
 *    3x3 conv with 64-128 output channels 10-20% of its time. For every
 *    2-D window larger than 1x1, and for 1x1 windows reading or writing
 *    NCHW16c (below).
 *  - pixel-major: Y^T[pixels, M] = im2col(X)^T x W^T, W^T packed into the
 *    GEMM's nr-wide panels (gemm.h) in K slices of dlc_sgemm_deep_kc(K),
 *    as MatMul weights are. For 1x1 convs on small feature maps: the
 *    channel-major product pads the pixel count to 16/32-wide column panels
 *    (a 7x7 map: 49 to 64) and reads W's rows in place, 4 KiB apart when
 *    K = 1024. Swapping the operands pads pixels to the tile's 6-12 rows
 *    (none for 7x7 and 14x14 maps: 7-row tiles) instead and costs one
 *    transpose of the small output.
 *
 * A packed W keeps its shape (M is a multiple of nr, so the floats are as
 * many); only its data's order changes.
 */
#ifndef DLC_KERNELS_CONV_H
#define DLC_KERNELS_CONV_H

#include <stdbool.h>
#include <stdint.h>

enum dlc_conv_weight_layout { DLC_CONV_W_PLAIN = 0, DLC_CONV_W_PIXEL_MAJOR = 1, DLC_CONV_W_DIRECT = 2 };

/* Activation layouts of a Conv (the int after the weight layout in its
 * kernel call; set by passes/blocked_layout.c): NCHW16c holds
 * [N, C/16, H, W, 16], each pixel's 16 channels of a block contiguous. A
 * conv reading or writing it runs the direct loop (W in the direct layout,
 * for 1x1 windows too): the 16 values of a block are one vector for the
 * epilogue and the next conv's broadcasts, and no transpose or im2col
 * packing is left between convs. */
enum { DLC_CONV_BLOCKED_X = 1, DLC_CONV_BLOCKED_Y = 2 };

/* What the choice looks at, per image. */
typedef struct dlc_conv_shape {
    int64_t M;             /* output channels */
    int64_t K;             /* C/group * kernel volume */
    int64_t group;
    int64_t pixels;        /* output pixels per image */
    int64_t kernel_volume;
    int64_t spatial_rank;  /* 1, 2 or 3 */
    bool blocked;          /* reads or writes NCHW16c: the direct layout whatever the window */
} dlc_conv_shape;

/* The layout expected to run fastest; *nr its panel or block width. */
int32_t dlc_conv_choose_layout(const dlc_conv_shape *s, int64_t *nr);

/* W[M, K] (row-major, as given) in layout into dst (M * K floats). */
void dlc_conv_pack_weights(int32_t layout, int64_t M, int64_t K, const float *w, int64_t nr, float *dst);

#endif
