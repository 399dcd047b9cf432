/* Helpers shared by the data-movement kernels (kernels/tensor*.c): element
 * copies by size (so one kernel serves every dtype of that width) and
 * reading small integer operands given as data. */
#ifndef DLC_KERNELS_TENSOR_SUPPORT_H
#define DLC_KERNELS_TENSOR_SUPPORT_H

#include "kernels/dlc_kernel.h"

/* Strided views (strided_copy) may be twice the tensor rank (Tile). */
#define DLC_STRIDED_MAX_RANK 16

/* Copies one element of es bytes; the fixed-size memcpys become single moves. */
static inline void tk_put(void *dst, const void *src, int64_t es) {
    switch (es) {
    case 1: memcpy(dst, src, 1); break;
    case 2: memcpy(dst, src, 2); break;
    case 4: memcpy(dst, src, 4); break;
    case 8: memcpy(dst, src, 8); break;
    default: memcpy(dst, src, (size_t)es); break;
    }
}

/* Copies n elements of es bytes from src (stride src_stride elements) to a
 * dense dst; the switch sits outside the loop. */
static inline void tk_gather_run(char *dst, const char *src, int64_t n, int64_t src_stride, int64_t es) {
    if (src_stride == 1) {
        memcpy(dst, src, (size_t)(n * es));
        return;
    }
    switch (es) {
    case 1:
        for (int64_t i = 0; i < n; i++) dst[i] = src[i * src_stride];
        break;
    case 2:
        for (int64_t i = 0; i < n; i++) memcpy(dst + 2 * i, src + 2 * i * src_stride, 2);
        break;
    case 4:
        for (int64_t i = 0; i < n; i++) memcpy(dst + 4 * i, src + 4 * i * src_stride, 4);
        break;
    case 8:
        for (int64_t i = 0; i < n; i++) memcpy(dst + 8 * i, src + 8 * i * src_stride, 8);
        break;
    default:
        for (int64_t i = 0; i < n; i++) memcpy(dst + es * i, src + es * i * src_stride, (size_t)es);
        break;
    }
}

/* Writes n copies of the es-byte element value (doubling memcpy). */
static inline void tk_fill(char *dst, const void *value, int64_t n, int64_t es) {
    if (n <= 0) return;
    memcpy(dst, value, (size_t)es);
    int64_t done = 1;
    while (done < n) {
        int64_t chunk = done < n - done ? done : n - done;
        memcpy(dst + done * es, dst, (size_t)(chunk * es));
        done += chunk;
    }
}

/* Element i of an integer tensor (int8..uint64) as int64; floats truncate. */
static inline int64_t tk_load_index(const void *data, int32_t dtype, int64_t i) {
    switch (dtype) {
    case 1: return (int64_t)((const float *)data)[i];
    case 2: return ((const uint8_t *)data)[i];
    case 3: return ((const int8_t *)data)[i];
    case 4: return ((const uint16_t *)data)[i];
    case 5: return ((const int16_t *)data)[i];
    case 6: return ((const int32_t *)data)[i];
    case 7: return ((const int64_t *)data)[i];
    case 9: return ((const uint8_t *)data)[i] != 0;
    case 10: return (int64_t)dlc_f16_to_f32(((const uint16_t *)data)[i]);
    case 11: return (int64_t)((const double *)data)[i];
    case 12: return ((const uint32_t *)data)[i];
    case 13: return (int64_t)((const uint64_t *)data)[i];
    case 16: return (int64_t)dlc_bf16_to_f32(((const uint16_t *)data)[i]);
    default: return 0;
    }
}

/* Row-major strides (elements) of t. */
static inline void tk_strides(const dlc_ktensor *t, int64_t *strides) {
    int64_t s = 1;
    for (int32_t d = t->rank - 1; d >= 0; d--) {
        strides[d] = s;
        s *= t->dims[d];
    }
}

#endif
