/* Register-only FMA loops (tools/peak_flops.h). Each loop keeps 12
 * independent accumulators, enough to cover FMA latency times the number of
 * FMA pipes on current x86 cores, so it runs at the FMA issue rate. */
#include "tools/peak_flops.h"

#include <immintrin.h>
#include <pthread.h>
#include <time.h>

#define PEAK_ACC 12
#define PEAK_ITERATIONS 4000000L

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Returns a value depending on every accumulator so nothing is elided. */
__attribute__((target("avx512f"))) static float fma_loop_512(long iterations) {
    __m512 acc[PEAK_ACC];
    for (int i = 0; i < PEAK_ACC; i++) acc[i] = _mm512_set1_ps((float)i * 1e-3f);
    const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
    for (long it = 0; it < iterations; it++) {
        /* unrolled so the accumulators live in registers */
#pragma GCC unroll 12
        for (int i = 0; i < PEAK_ACC; i++) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
    }
    __m512 sum = acc[0];
    for (int i = 1; i < PEAK_ACC; i++) sum = _mm512_add_ps(sum, acc[i]);
    return _mm512_reduce_add_ps(sum);
}

__attribute__((target("avx2,fma"))) static float fma_loop_256(long iterations) {
    __m256 acc[PEAK_ACC];
    for (int i = 0; i < PEAK_ACC; i++) acc[i] = _mm256_set1_ps((float)i * 1e-3f);
    const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
    for (long it = 0; it < iterations; it++) {
#pragma GCC unroll 12
        for (int i = 0; i < PEAK_ACC; i++) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
    }
    __m256 sum = acc[0];
    for (int i = 1; i < PEAK_ACC; i++) sum = _mm256_add_ps(sum, acc[i]);
    float lanes[8];
    _mm256_storeu_ps(lanes, sum);
    float total = 0;
    for (int i = 0; i < 8; i++) total += lanes[i];
    return total;
}

typedef struct peak_job {
    dlc_peak_isa isa;
    volatile float sink;
} peak_job;

static void *peak_thread(void *arg) {
    peak_job *job = arg;
    job->sink = job->isa == DLC_PEAK_AVX512 ? fma_loop_512(PEAK_ITERATIONS) : fma_loop_256(PEAK_ITERATIONS);
    return NULL;
}

int dlc_peak_supported(dlc_peak_isa isa) {
    __builtin_cpu_init();
    if (isa == DLC_PEAK_AVX512) return __builtin_cpu_supports("avx512f");
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

double dlc_peak_gflops(dlc_peak_isa isa, int threads) {
    enum { MAX_THREADS = 256, REPEATS = 3 };
    if (!dlc_peak_supported(isa) || threads < 1 || threads > MAX_THREADS) return 0.0;
    static peak_job jobs[MAX_THREADS];
    pthread_t ids[MAX_THREADS];
    double best = 0.0;
    for (int r = 0; r < REPEATS; r++) {
        double t0 = now_seconds();
        int started = 0;
        for (; started < threads; started++) {
            jobs[started].isa = isa;
            if (pthread_create(&ids[started], NULL, peak_thread, &jobs[started]) != 0) break;
        }
        for (int t = 0; t < started; t++) pthread_join(ids[t], NULL);
        double seconds = now_seconds() - t0;
        if (started < threads) return 0.0;
        double flops = (double)threads * PEAK_ITERATIONS * PEAK_ACC * 2.0 * (isa / 32);
        double gflops = flops / seconds * 1e-9;
        if (gflops > best) best = gflops;
    }
    return best;
}

double dlc_peak_gflops_best(int threads) {
    return dlc_peak_supported(DLC_PEAK_AVX512) ? dlc_peak_gflops(DLC_PEAK_AVX512, threads)
                                                : dlc_peak_gflops(DLC_PEAK_AVX2, threads);
}
