/* Standalone SGEMM throughput check (not a test):
 *   clang-19 -O3 -march=native -fno-math-errno -I. bench/sgemm_bench.c kernels/gemm.c \
 *       kernels/parallel.c -lgomp -o /tmp/sgemm_bench && /tmp/sgemm_bench 512 512 512 1
 * prints GFLOP/s of C = A*B for the given M N K and thread count. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "kernels/gemm.h"

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv) {
    int64_t M = argc > 1 ? atoll(argv[1]) : 512, N = argc > 2 ? atoll(argv[2]) : 512;
    int64_t K = argc > 3 ? atoll(argv[3]) : 512;
    int threads = argc > 4 ? atoi(argv[4]) : 1;
    float *a = aligned_alloc(64, (size_t)(M * K) * 4 + 64), *b = aligned_alloc(64, (size_t)(K * N) * 4 + 64);
    float *c = aligned_alloc(64, (size_t)(M * N) * 4 + 64);
    int64_t ws_size = dlc_sgemm_workspace(M, N, K);
    void *ws = aligned_alloc(64, (size_t)ws_size);
    for (int64_t i = 0; i < M * K; i++) a[i] = (float)(i % 7) - 3.0f;
    for (int64_t i = 0; i < K * N; i++) b[i] = (float)(i % 5) - 2.0f;
    dlc_kctx ctx = {.num_threads = threads};
    dlc_gemm_operand A = {a, K, 1, NULL}, B = {b, N, 1, NULL};
    double best = 1e30;
    for (int rep = 0; rep < 20; rep++) {
        double t0 = now_seconds();
        dlc_sgemm(&ctx, M, N, K, 1.0f, &A, &B, 0.0f, c, N, ws, ws_size);
        double t = now_seconds() - t0;
        if (t < best) best = t;
    }
    /* spot check one element against a direct dot product */
    double ref = 0;
    for (int64_t k = 0; k < K; k++) ref += (double)a[(M / 2) * K + k] * b[k * N + N / 3];
    printf("M=%lld N=%lld K=%lld threads=%d: %.1f GFLOP/s (best of 20, %.3f ms), check %g vs %g\n", (long long)M,
           (long long)N, (long long)K, threads, 2.0 * (double)M * (double)N * (double)K / best * 1e-9, best * 1e3,
           (double)c[(M / 2) * N + N / 3], ref);
    free(a);
    free(b);
    free(c);
    free(ws);
    return 0;
}
