/* SGEMM throughput next to the machine's measured FMA peak (not a test):
 *   clang-19 -O3 -march=native -fno-math-errno -I. bench/sgemm_bench.c kernels/gemm.c \
 *       kernels/parallel.c kernels/epilogue.c -lgomp -lm -o /tmp/sgemm_bench && /tmp/sgemm_bench 1024 1024 1024 2
 * prints GFLOP/s of C = A*B for M N K (default 1024^3) and a thread count,
 * and the peak of one core's FMA units times the threads. Times are process
 * CPU time divided by the threads, best of 20: on a machine shared with other
 * work, wall time would mostly measure waiting for a core (the wall-clock
 * figure is printed too). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "kernels/gemm.h"

static double seconds(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* 12 independent chains of 16-wide FMAs (AVX-512 where the target has it):
 * enough in flight to cover the FMA latency on both pipes. */
typedef float v16 __attribute__((vector_size(64)));
#define PEAK_CHAINS 12

static double fma_peak_gflops(void) {
    v16 acc[PEAK_CHAINS], x, y;
    for (int i = 0; i < 16; i++) x[i] = 0.999999f, y[i] = 1e-7f;
    for (int a = 0; a < PEAK_CHAINS; a++) acc[a] = x * (float)a;
    const long iters = 20000000;
    double best = 1e30;
    for (int rep = 0; rep < 5; rep++) {
        double t0 = seconds(CLOCK_THREAD_CPUTIME_ID);
        for (long it = 0; it < iters; it++)
            for (int a = 0; a < PEAK_CHAINS; a++) acc[a] = acc[a] * x + y;
        double t = seconds(CLOCK_THREAD_CPUTIME_ID) - t0;
        if (t < best) best = t;
    }
    float sink = 0;
    for (int a = 0; a < PEAK_CHAINS; a++) sink += acc[a][0];
    if (sink == 12345.0f) printf("(%g)\n", sink); /* keeps the chains alive */
    return 2.0 * PEAK_CHAINS * 16 * (double)iters / best * 1e-9;
}

int main(int argc, char **argv) {
    int64_t M = argc > 1 ? atoll(argv[1]) : 1024, N = argc > 2 ? atoll(argv[2]) : 1024;
    int64_t K = argc > 3 ? atoll(argv[3]) : 1024;
    int threads = argc > 4 ? atoi(argv[4]) : 1;
    if (M < 1 || N < 1 || K < 1 || threads < 1) {
        fprintf(stderr, "usage: sgemm_bench [M N K [threads]]\n");
        return 2;
    }
    float *a = aligned_alloc(64, (size_t)(M * K * 4 + 63) / 64 * 64);
    float *b = aligned_alloc(64, (size_t)(K * N * 4 + 63) / 64 * 64);
    float *c = aligned_alloc(64, (size_t)(M * N * 4 + 63) / 64 * 64);
    int64_t ws_size = dlc_sgemm_workspace(M, N, K);
    void *ws = aligned_alloc(64, (size_t)ws_size);
    for (int64_t i = 0; i < M * K; i++) a[i] = (float)(i % 7) - 3.0f;
    for (int64_t i = 0; i < K * N; i++) b[i] = (float)(i % 5) - 2.0f;
    dlc_kctx ctx = {.num_threads = threads};
    dlc_gemm_operand A = {a, K, 1, NULL}, B = {b, N, 1, NULL};
    double best_cpu = 1e30, best_wall = 1e30;
    for (int rep = 0; rep < 20; rep++) {
        double c0 = seconds(CLOCK_PROCESS_CPUTIME_ID), w0 = seconds(CLOCK_MONOTONIC);
        dlc_sgemm(&ctx, M, N, K, 1.0f, &A, &B, 0.0f, c, N, ws, ws_size);
        double cpu = (seconds(CLOCK_PROCESS_CPUTIME_ID) - c0) / threads, wall = seconds(CLOCK_MONOTONIC) - w0;
        if (cpu < best_cpu) best_cpu = cpu;
        if (wall < best_wall) best_wall = wall;
    }
    /* spot check one element against a direct dot product */
    double ref = 0;
    for (int64_t k = 0; k < K; k++) ref += (double)a[(M / 2) * K + k] * b[k * N + N / 3];
    double flops = 2.0 * (double)M * (double)N * (double)K;
    double peak = fma_peak_gflops() * threads;
    double gflops = flops / best_cpu * 1e-9;
    printf("sgemm M=%lld N=%lld K=%lld threads=%d: %.1f GFLOP/s (%.3f ms CPU per thread; wall %.1f GFLOP/s), "
           "peak %.1f GFLOP/s (%d x %.1f), %.0f%% of peak; check %g vs %g\n",
           (long long)M, (long long)N, (long long)K, threads, gflops, best_cpu * 1e3, flops / best_wall * 1e-9, peak,
           threads, peak / threads, 100.0 * gflops / peak, (double)c[(M / 2) * N + N / 3], ref);
    int ok = (double)c[(M / 2) * N + N / 3] == ref;
    free(a);
    free(b);
    free(c);
    free(ws);
    return ok ? 0 : 1;
}
