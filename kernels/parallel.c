#include "kernels/dlc_kernel.h"

/* libgomp's entry point (stable ABI since GCC 4.9): runs fn(data) on
 * num_threads threads, the caller being thread 0. Calling it directly keeps
 * OpenMP code generation out of the kernel bitcode and uses gcc's runtime. */
extern void GOMP_parallel(void (*fn)(void *), void *data, unsigned num_threads, unsigned flags);
extern int omp_get_thread_num(void);
extern int omp_get_num_threads(void);

typedef struct parallel_job {
    dlc_parallel_body body;
    void *arg;
    int64_t n;
} parallel_job;

static void run_share(void *data) {
    const parallel_job *job = data;
    int64_t threads = omp_get_num_threads();
    int64_t t = omp_get_thread_num();
    int64_t begin = job->n * t / threads;
    int64_t end = job->n * (t + 1) / threads;
    if (begin < end) job->body(job->arg, begin, end);
}

void dlc_parallel_for(const dlc_kctx *ctx, int64_t n, int64_t min_chunk, dlc_parallel_body body, void *arg) {
    if (n <= 0) return;
    int64_t threads = ctx != NULL && ctx->num_threads > 1 ? ctx->num_threads : 1;
    if (min_chunk < 1) min_chunk = 1;
    if (threads > n / min_chunk) threads = n / min_chunk;
    if (threads <= 1) {
        body(arg, 0, n);
        return;
    }
    parallel_job job = {body, arg, n};
    GOMP_parallel(run_share, &job, (unsigned)threads, 0);
}
