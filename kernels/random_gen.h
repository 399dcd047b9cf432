/* The random generator of the random ops (kernels/random.c): MT19937 seeded
 * and drawn exactly as numpy's legacy RandomState does it.
 *
 * Why this generator: ONNX leaves the generator unspecified, and its
 * reference implementation (which produced the backend suite's expected
 * outputs) is numpy's np.random.seed(seed) followed by uniform/normal draws.
 * Reproducing that stream makes a seeded Dropout or RandomUniform match the
 * reference bit for bit, and gives users a documented meaning for `seed`:
 * the same values as numpy.random.RandomState(seed).
 *
 * The state lives in a struct owned by the caller (a kernel's stack frame),
 * derived only from the seed: no globals, every call with the same seed
 * yields the same values, and concurrent calls do not interfere. The stream
 * is sequential (element i takes draws 2i and 2i+1 of a uniform stream), so
 * kernels fill their output in one thread. */
#ifndef DLC_KERNELS_RANDOM_GEN_H
#define DLC_KERNELS_RANDOM_GEN_H

#include <math.h>
#include <stdint.h>

#define DLC_MT_N 624
#define DLC_MT_M 397

typedef struct dlc_mt19937 {
    uint32_t key[DLC_MT_N];
    int32_t pos;
    int32_t has_gauss; /* numpy's legacy normal draws pairs and caches the second */
    double gauss;
} dlc_mt19937;

/* numpy's mt19937_seed (Matsumoto and Nishimura's init_genrand). */
static inline void dlc_mt_seed(dlc_mt19937 *mt, uint32_t seed) {
    mt->key[0] = seed;
    for (int32_t i = 1; i < DLC_MT_N; i++)
        mt->key[i] = 1812433253u * (mt->key[i - 1] ^ (mt->key[i - 1] >> 30)) + (uint32_t)i;
    mt->pos = DLC_MT_N;
    mt->has_gauss = 0;
    mt->gauss = 0.0;
}

static inline void dlc_mt_refill(dlc_mt19937 *mt) {
    const uint32_t upper = 0x80000000u, lower = 0x7fffffffu, matrix = 0x9908b0dfu;
    for (int32_t i = 0; i < DLC_MT_N; i++) {
        uint32_t y = (mt->key[i] & upper) | (mt->key[(i + 1) % DLC_MT_N] & lower);
        mt->key[i] = mt->key[(i + DLC_MT_M) % DLC_MT_N] ^ (y >> 1) ^ ((y & 1u) ? matrix : 0u);
    }
    mt->pos = 0;
}

static inline uint32_t dlc_mt_next32(dlc_mt19937 *mt) {
    if (mt->pos >= DLC_MT_N) dlc_mt_refill(mt);
    uint32_t y = mt->key[mt->pos++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= y >> 18;
    return y;
}

/* Uniform in [0, 1) with 53 random bits, as numpy's random_standard_uniform. */
static inline double dlc_mt_uniform(dlc_mt19937 *mt) {
    uint32_t a = dlc_mt_next32(mt) >> 5, b = dlc_mt_next32(mt) >> 6;
    return ((double)a * 67108864.0 + (double)b) / 9007199254740992.0;
}

/* Standard normal by the polar method, as numpy's legacy_gauss. */
static inline double dlc_mt_gauss(dlc_mt19937 *mt) {
    if (mt->has_gauss) {
        mt->has_gauss = 0;
        return mt->gauss;
    }
    double x1, x2, r2;
    do {
        x1 = 2.0 * dlc_mt_uniform(mt) - 1.0;
        x2 = 2.0 * dlc_mt_uniform(mt) - 1.0;
        r2 = x1 * x1 + x2 * x2;
    } while (r2 >= 1.0 || r2 == 0.0);
    double f = sqrt(-2.0 * log(r2) / r2);
    mt->gauss = f * x1;
    mt->has_gauss = 1;
    return f * x2;
}

#endif
