/* dlc_parallel_for's worker pool (kernels/parallel.c): every index runs
 * exactly once whatever the thread count and chunking, nested and
 * concurrent calls run inline, a forked child works and exits, and the
 * GEMM gives bit-identical results at any thread count on both sides of its
 * threading thresholds, with every register tile. */
#include <criterion/criterion.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kernels/dlc_kernel.h"
#include "kernels/gemm.h"

#define MAX_N 5000

typedef struct count_job {
    atomic_int hits[MAX_N];
    atomic_int calls;
    const dlc_kctx *inner; /* non-NULL: each body calls dlc_parallel_for again */
} count_job;

static void count_inner(void *arg, int64_t begin, int64_t end) {
    count_job *job = arg;
    for (int64_t i = begin; i < end; i++) atomic_fetch_add(&job->hits[i], 1);
}

static void count_body(void *arg, int64_t begin, int64_t end) {
    count_job *job = arg;
    atomic_fetch_add(&job->calls, 1);
    if (job->inner != NULL) {
        /* the pool is owned by the outer call: this one must run inline */
        count_job *sub = calloc(1, sizeof *sub);
        dlc_parallel_for(job->inner, end - begin, 1, count_inner, sub);
        for (int64_t i = 0; i < end - begin; i++) atomic_fetch_add(&job->hits[begin + i], atomic_load(&sub->hits[i]));
        free(sub);
        return;
    }
    count_inner(arg, begin, end);
}

static void expect_each_once(int32_t threads, int64_t n, int64_t min_chunk, bool nested) {
    count_job *job = calloc(1, sizeof *job);
    dlc_kctx ctx = {.num_threads = threads};
    job->inner = nested ? &ctx : NULL;
    dlc_parallel_for(&ctx, n, min_chunk, count_body, job);
    for (int64_t i = 0; i < n; i++)
        cr_assert_eq(atomic_load(&job->hits[i]), 1, "threads %d n %lld min_chunk %lld: index %lld ran %d times",
                     threads, (long long)n, (long long)min_chunk, (long long)i, atomic_load(&job->hits[i]));
    for (int64_t i = n; i < MAX_N; i++) cr_assert_eq(atomic_load(&job->hits[i]), 0);
    /* chunks respect min_chunk: never more calls than n / min_chunk (one call when that is < 2) */
    int64_t most = n / min_chunk > 1 ? n / min_chunk : 1;
    cr_assert_leq(atomic_load(&job->calls), most, "%d calls for n %lld min_chunk %lld", atomic_load(&job->calls),
                  (long long)n, (long long)min_chunk);
    free(job);
}

Test(parallel, every_index_once_at_any_thread_count) {
    const int32_t threads[] = {1, 2, 3, 8};
    const int64_t sizes[] = {1, 2, 3, 7, 64, 1000, MAX_N};
    const int64_t chunks[] = {1, 3, 100, 10000};
    for (size_t t = 0; t < sizeof threads / sizeof *threads; t++)
        for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++)
            for (size_t c = 0; c < sizeof chunks / sizeof *chunks; c++)
                expect_each_once(threads[t], sizes[s], chunks[c], false);
    /* n <= 0 calls nothing */
    count_job *job = calloc(1, sizeof *job);
    dlc_kctx ctx = {.num_threads = 4};
    dlc_parallel_for(&ctx, 0, 1, count_body, job);
    dlc_parallel_for(&ctx, -5, 1, count_body, job);
    cr_assert_eq(atomic_load(&job->calls), 0);
    free(job);
}

Test(parallel, nested_calls_run_inline) {
    expect_each_once(2, 1000, 1, true);
    expect_each_once(4, MAX_N, 10, true);
}

static void *hammer(void *arg) {
    int32_t threads = (int32_t)(intptr_t)arg;
    for (int round = 0; round < 200; round++) expect_each_once(threads, 997 + round, 1 + round % 5, false);
    return NULL;
}

Test(parallel, concurrent_callers) {
    /* several sessions running at once share one pool: whoever does not own
     * it runs inline, every result still complete */
    pthread_t callers[4];
    for (int i = 0; i < 4; i++) cr_assert_eq(pthread_create(&callers[i], NULL, hammer, (void *)(intptr_t)(2 + i)), 0);
    for (int i = 0; i < 4; i++) pthread_join(callers[i], NULL);
}

Test(parallel, forked_child_runs_and_exits) {
    expect_each_once(3, 1000, 1, false); /* the parent's workers exist now */
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        alarm(20); /* a hang at exit (joining the parent's threads) fails the test */
        count_job *job = calloc(1, sizeof *job);
        dlc_kctx ctx = {.num_threads = 3};
        dlc_parallel_for(&ctx, 1000, 1, count_body, job);
        int bad = 0;
        for (int i = 0; i < 1000; i++) bad += atomic_load(&job->hits[i]) != 1;
        exit(bad == 0 ? 0 : 1); /* runs the pool's destructor */
    }
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
}

static void fill(float *x, int64_t n, unsigned seed) {
    for (int64_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        x[i] = (float)((seed >> 9) % 2001) / 1000.0f - 1.0f;
    }
}

Test(parallel, gemm_identical_at_any_thread_count) {
    /* sizes below, at and above the threading thresholds (gemv included) */
    const int64_t shapes[][3] = {{1, 64, 64},    {64, 1, 64},   {4, 64, 64},    {8, 96, 64},   {16, 128, 128},
                                 {32, 384, 128}, {32, 32, 64},  {40, 128, 512}, {64, 64, 64},  {128, 64, 96},
                                 {128, 256, 64}, {36, 16, 300}, {37, 300, 77},  {200, 130, 300}};
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        int64_t M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
        float *a = malloc((size_t)(M * K) * 4), *b = malloc((size_t)(K * N) * 4);
        float *c1 = malloc((size_t)(M * N) * 4), *cn = malloc((size_t)(M * N) * 4);
        fill(a, M * K, 1u + (unsigned)s);
        fill(b, K * N, 100u + (unsigned)s);
        int64_t ws_size = dlc_sgemm_workspace(M, N, K);
        void *ws = aligned_alloc(64, (size_t)(ws_size + 63) / 64 * 64);
        for (int trans = 0; trans < 2; trans++) {
            dlc_gemm_operand ga = {a, K, 1, NULL};
            dlc_gemm_operand gb = trans ? (dlc_gemm_operand){b, 1, K, NULL} : (dlc_gemm_operand){b, N, 1, NULL};
            dlc_kctx one = {.num_threads = 1};
            dlc_sgemm(&one, M, N, K, 1.0f, &ga, &gb, 0.0f, c1, N, ws, ws_size);
            /* and right: against a double-precision reference (every tile shape is picked by some size) */
            for (int64_t i = 0; i < M; i++)
                for (int64_t j = 0; j < N; j++) {
                    double ref = 0.0;
                    for (int64_t k = 0; k < K; k++) ref += (double)a[i * K + k] * (trans ? b[j * K + k] : b[k * N + j]);
                    cr_assert(fabs(c1[i * N + j] - ref) <= 1e-4 * (1.0 + fabs(ref)), "M %lld N %lld K %lld (%lld,%lld): %g vs %g",
                              (long long)M, (long long)N, (long long)K, (long long)i, (long long)j, (double)c1[i * N + j], ref);
                }
            for (int32_t threads = 2; threads <= 5; threads++) {
                dlc_kctx ctx = {.num_threads = threads};
                dlc_sgemm(&ctx, M, N, K, 1.0f, &ga, &gb, 0.0f, cn, N, ws, ws_size);
                cr_assert_arr_eq(c1, cn, (size_t)(M * N) * 4, "M %lld N %lld K %lld trans %d: %d threads differ",
                                 (long long)M, (long long)N, (long long)K, trans, threads);
            }
        }
        free(ws);
        free(a), free(b), free(c1), free(cn);
    }
}
