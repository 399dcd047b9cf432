/*
 * Pixel-major float32 convolution (kernels/conv.c), chosen per Conv at
 * compile time by passes/prepack_weights.c:
 *
 *     Y^T[pixels, M] = im2col(X)^T [pixels, K] x W^T [K, M],   K = C * kernel volume
 *
 * The default, channel-major product W[M, K] x im2col(X)[K, pixels] pads
 * the pixel count to the GEMM's 16/32-wide column panels (a 7x7 map: 49 to
 * 64) and reads W's rows in place. Swapping the operands pads the pixels to
 * the tile's 6-12 rows instead, reads W^T from panels packed once by the
 * compiler, and costs one transpose of the (small) output.
 */
#ifndef DLC_KERNELS_CONV_H
#define DLC_KERNELS_CONV_H

#include <stdint.h>

/* The panel width to pack W^T for when the pixel-major product is expected
 * to be faster for a group-1 conv with M output channels, this many output
 * pixels per image and reduction length K; 0 when channel-major wins. */
int64_t dlc_conv_pixel_major_nr(int64_t M, int64_t pixels, int64_t K);

/* W[M, K] (a conv weight, row-major) packed as W^T in nr-wide panels
 * (gemm.h's packed-B layout), dlc_sgemm_packed_b_floats(K, M, nr) floats. */
void dlc_conv_pack_weights(int64_t M, int64_t K, const float *w, int64_t nr, float *dst);

#endif
