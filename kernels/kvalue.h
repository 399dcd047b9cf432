/* Element access by run-time dtype, for the generic (non-float32) paths of
 * the linalg, conv, pool and norm kernels: float16/bfloat16 compute in
 * float32 precision or better (double), float64 in double, integers in
 * 64-bit wrap-around arithmetic. */
#ifndef DLC_KERNELS_KVALUE_H
#define DLC_KERNELS_KVALUE_H

#include "kernels/dlc_kernel.h"

enum {
    DLC_KT_FLOAT32 = 1, DLC_KT_UINT8 = 2, DLC_KT_INT8 = 3, DLC_KT_UINT16 = 4, DLC_KT_INT16 = 5,
    DLC_KT_INT32 = 6, DLC_KT_INT64 = 7, DLC_KT_BOOL = 9, DLC_KT_FLOAT16 = 10, DLC_KT_FLOAT64 = 11,
    DLC_KT_UINT32 = 12, DLC_KT_UINT64 = 13, DLC_KT_BFLOAT16 = 16,
};

static inline int dlc_kdtype_is_float(int32_t dtype) {
    return dtype == DLC_KT_FLOAT32 || dtype == DLC_KT_FLOAT64 || dtype == DLC_KT_FLOAT16 || dtype == DLC_KT_BFLOAT16;
}

static inline double dlc_kload_f(const void *data, int32_t dtype, int64_t i) {
    switch (dtype) {
    case DLC_KT_FLOAT32: return ((const float *)data)[i];
    case DLC_KT_FLOAT64: return ((const double *)data)[i];
    case DLC_KT_FLOAT16: return dlc_f16_to_f32(((const uint16_t *)data)[i]);
    case DLC_KT_BFLOAT16: return dlc_bf16_to_f32(((const uint16_t *)data)[i]);
    case DLC_KT_INT8: return ((const int8_t *)data)[i];
    case DLC_KT_UINT8: case DLC_KT_BOOL: return ((const uint8_t *)data)[i];
    case DLC_KT_INT16: return ((const int16_t *)data)[i];
    case DLC_KT_UINT16: return ((const uint16_t *)data)[i];
    case DLC_KT_INT32: return ((const int32_t *)data)[i];
    case DLC_KT_UINT32: return ((const uint32_t *)data)[i];
    case DLC_KT_INT64: return (double)((const int64_t *)data)[i];
    case DLC_KT_UINT64: return (double)((const uint64_t *)data)[i];
    default: return 0.0;
    }
}

static inline void dlc_kstore_f(void *data, int32_t dtype, int64_t i, double v) {
    switch (dtype) {
    case DLC_KT_FLOAT32: ((float *)data)[i] = (float)v; break;
    case DLC_KT_FLOAT64: ((double *)data)[i] = v; break;
    case DLC_KT_FLOAT16: ((uint16_t *)data)[i] = dlc_f32_to_f16((float)v); break;
    case DLC_KT_BFLOAT16: ((uint16_t *)data)[i] = dlc_f32_to_bf16((float)v); break;
    default: break;
    }
}

/* Integers as 64-bit two's complement bits: products and sums wrap the way
 * the narrower type does once truncated on store. */
static inline uint64_t dlc_kload_u(const void *data, int32_t dtype, int64_t i) {
    switch (dtype) {
    case DLC_KT_INT8: return (uint64_t)(int64_t)((const int8_t *)data)[i];
    case DLC_KT_UINT8: case DLC_KT_BOOL: return ((const uint8_t *)data)[i];
    case DLC_KT_INT16: return (uint64_t)(int64_t)((const int16_t *)data)[i];
    case DLC_KT_UINT16: return ((const uint16_t *)data)[i];
    case DLC_KT_INT32: return (uint64_t)(int64_t)((const int32_t *)data)[i];
    case DLC_KT_UINT32: return ((const uint32_t *)data)[i];
    case DLC_KT_INT64: return (uint64_t)((const int64_t *)data)[i];
    case DLC_KT_UINT64: return ((const uint64_t *)data)[i];
    default: return 0;
    }
}

static inline void dlc_kstore_u(void *data, int32_t dtype, int64_t i, uint64_t v) {
    switch (dtype) {
    case DLC_KT_INT8: case DLC_KT_UINT8: case DLC_KT_BOOL: ((uint8_t *)data)[i] = (uint8_t)v; break;
    case DLC_KT_INT16: case DLC_KT_UINT16: ((uint16_t *)data)[i] = (uint16_t)v; break;
    case DLC_KT_INT32: case DLC_KT_UINT32: ((uint32_t *)data)[i] = (uint32_t)v; break;
    case DLC_KT_INT64: case DLC_KT_UINT64: ((uint64_t *)data)[i] = v; break;
    default: break;
    }
}

#endif
