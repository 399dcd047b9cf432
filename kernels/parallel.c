/* dlc_parallel_for: a small persistent worker pool, one per loaded artifact.
 *
 * Why not OpenMP: GOMP_parallel splits the range statically and ends in a
 * barrier, so the caller waits for every team thread to be scheduled, run its
 * share and arrive. On a machine whose cores are busy with other work a
 * woken worker may not get a core for milliseconds, and every kernel call
 * paid that (a 6 us MLP took 12 ms at 2 threads). Here the range is cut into
 * chunks that threads claim one at a time, the caller included: the caller
 * only ever waits for chunks a worker has actually started, never for a
 * worker that has not shown up, so a late worker costs nothing.
 *
 * Results do not depend on which thread runs a chunk, nor on the thread
 * count: callers' bodies compute each index independently of the split.
 *
 * Claiming: one 64-bit word holds (epoch, free seats, next chunk). A job is
 * published by bumping the epoch; a worker takes a seat and then chunks with
 * compare-and-swap on that epoch, so a worker that wakes up late, after its
 * job ended, fails its CAS and never touches a finished job's (stack) data.
 *
 * Waiting: idle workers spin briefly, then sleep on a futex; the caller wakes sleepers only
 * when there are any. Workers start lazily, at the first call that wants
 * them, and stop in the artifact's destructor (dlclose, exit), so no thread
 * runs code that is being unmapped. Only libc is used (pthreads and futex
 * are part of glibc's libc.so). A call made while the pool is busy (another
 * session running in parallel, or a body calling dlc_parallel_for) runs on
 * its own thread, inline. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* syscall() for the futex */
#endif
#include "kernels/dlc_kernel.h"

#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define POOL_MAX_WORKERS 63
/* Chunks per thread: a few, so a slow (descheduled) thread's share moves to
 * the others, not so many that claiming costs show. */
#define POOL_CHUNKS_PER_THREAD 4
/* Polls (each a pause instruction, ~10-40 ns) before an idle worker starts
 * yielding. A worker that only ever pauses takes the core the caller needs
 * on a loaded 2-core machine: resnet18_cifar at 2 threads ran a 20 ms median
 * with 8192 pure polls, 13 ms with 0 or 256. */
#define POOL_SPIN 256
/* Then polling with sched_yield between bursts, up to this long
 * (spin_budget_ns), before the futex sleep. */
#define POOL_SPIN_US 100

/* word layout: epoch (bits 40..63) | seats (bits 32..39) | next chunk (0..31) */
#define W_EPOCH(w) ((w) >> 40)
#define W_SEATS(w) (((w) >> 32) & 0xffu)
#define W_NEXT(w) ((w) & 0xffffffffu)
#define W_MAKE(e, s, n) (((uint64_t)(e) << 40) | ((uint64_t)(s) << 32) | (uint64_t)(n))

typedef struct pool_state {
    _Atomic uint64_t word;
    _Atomic(dlc_parallel_body) body;
    _Atomic(void *) arg;
    _Atomic int64_t n, chunks;
    _Atomic int64_t done;    /* chunks finished in this job */
    atomic_uint wake;        /* futex word: bumped per published job and at shutdown */
    atomic_int sleepers;
    atomic_int busy;         /* a caller owns the pool */
    atomic_bool stopping;
    atomic_int started;      /* workers that reached worker_main */
    int workers;             /* started; changed only by the owning caller */
    pthread_t threads[POOL_MAX_WORKERS];
} pool_state;

static pool_state pool;

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static void futex_wait(atomic_uint *addr, unsigned expected) {
    syscall(SYS_futex, (void *)addr, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
}
static void futex_wake(atomic_uint *addr, int count) {
    syscall(SYS_futex, (void *)addr, FUTEX_WAKE_PRIVATE, count, NULL, NULL, 0);
}

static void run_chunk(dlc_parallel_body body, void *arg, int64_t n, int64_t chunks, int64_t c) {
    body(arg, n * c / chunks, n * (c + 1) / chunks);
    atomic_fetch_add(&pool.done, 1);
}

/* Claims and runs chunks of the job of epoch `epoch` until none are left or
 * the epoch moves on. take_seat: a worker first takes one of the seats. */
static void work_on(uint64_t epoch, bool take_seat) {
    uint64_t w = atomic_load(&pool.word);
    if (take_seat) {
        for (;;) {
            if (W_EPOCH(w) != epoch || W_SEATS(w) == 0 || (int64_t)W_NEXT(w) >= atomic_load(&pool.chunks)) return;
            if (atomic_compare_exchange_weak(&pool.word, &w, w - W_MAKE(0, 1, 0))) break;
        }
    }
    /* body/arg/n were stored before the epoch was published; a successful
     * claim on this epoch proves they still belong to it */
    dlc_parallel_body body = atomic_load(&pool.body);
    void *arg = atomic_load(&pool.arg);
    int64_t n = atomic_load(&pool.n), chunks = atomic_load(&pool.chunks);
    w = atomic_load(&pool.word);
    for (;;) {
        if (W_EPOCH(w) != epoch || (int64_t)W_NEXT(w) >= chunks) return;
        if (atomic_compare_exchange_weak(&pool.word, &w, w + 1)) run_chunk(body, arg, n, chunks, (int64_t)W_NEXT(w));
    }
}

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* How long an idle worker keeps polling before it sleeps, in ns:
 * DLC_SPIN_US (microseconds) when set, else POOL_SPIN_US. A worker that
 * sleeps between two kernels of one run wakes too late for the next: with
 * two chunks the caller then runs both and the second thread gains nothing
 * (bert_tiny, 2 threads, 0.50 ms median without the spin, 0.39-0.40 ms
 * with 50-200 us, on a machine loaded by other builds too). The polls yield
 * the core between bursts, so a caller that needs it gets it. */
static int64_t spin_budget_ns(void) {
    static _Atomic int64_t budget = -1;
    int64_t b = atomic_load(&budget);
    if (b >= 0) return b;
    const char *env = getenv("DLC_SPIN_US");
    b = (env != NULL ? (int64_t)strtol(env, NULL, 10) : POOL_SPIN_US) * 1000;
    if (b < 0) b = 0;
    atomic_store(&budget, b);
    return b;
}

static void *worker_main(void *unused) {
    (void)unused;
    unsigned seen = atomic_load(&pool.wake);
    atomic_fetch_add(&pool.started, 1);
    while (!atomic_load(&pool.stopping)) {
        unsigned now = atomic_load(&pool.wake);
        for (int spin = 0; now == seen && spin < POOL_SPIN; spin++) {
            cpu_relax();
            now = atomic_load(&pool.wake);
        }
        int64_t budget = spin_budget_ns();
        if (now == seen && budget > 0) {
            /* keep polling between the kernels of one run, giving the core
             * away whenever someone else wants it */
            int64_t until = now_ns() + budget;
            while (now == seen && now_ns() < until) {
                for (int spin = 0; now == seen && spin < 64; spin++) {
                    cpu_relax();
                    now = atomic_load(&pool.wake);
                }
                if (now == seen) sched_yield();
                now = atomic_load(&pool.wake);
            }
        }
        if (now == seen) {
            atomic_fetch_add(&pool.sleepers, 1);
            futex_wait(&pool.wake, seen); /* returns at once if wake moved on */
            atomic_fetch_sub(&pool.sleepers, 1);
            continue;
        }
        seen = now;
        work_on(W_EPOCH(atomic_load(&pool.word)), true);
    }
    return NULL;
}

/* A forked child has none of the parent's threads: it starts its own. */
static void pool_after_fork_child(void) {
    pool.workers = 0;
    atomic_store(&pool.started, 0);
    atomic_store(&pool.sleepers, 0);
    atomic_store(&pool.busy, 0);
}

/* Starts workers up to `want` (the caller owns the pool); returns how many run. */
static int ensure_workers(int want) {
    if (want > POOL_MAX_WORKERS) want = POOL_MAX_WORKERS;
    static bool fork_handler;
    if (!fork_handler && want > pool.workers) fork_handler = pthread_atfork(NULL, NULL, pool_after_fork_child) == 0;
    while (pool.workers < want) {
        pthread_attr_t attr;
        if (pthread_attr_init(&attr) != 0) break;
        pthread_attr_setstacksize(&attr, 1u << 20); /* kernels keep little on the stack */
        int rc = pthread_create(&pool.threads[pool.workers], &attr, worker_main, NULL);
        pthread_attr_destroy(&attr);
        if (rc != 0) break;
        pool.workers++;
    }
    /* Return only once every worker runs our code. A thread still starting
     * may hold a lock that fork() copies locked: under ASan a child forked
     * right after the first threaded call hung in 3 of 10 runs, its new
     * workers waiting on the allocator lock a starting parent thread held
     * (ASan's thread setup frees memory). Paid once per worker. */
    while (atomic_load(&pool.started) < pool.workers) sched_yield();
    return pool.workers;
}

__attribute__((destructor)) static void pool_shutdown(void) {
    if (pool.workers == 0) return;
    atomic_store(&pool.stopping, true);
    atomic_fetch_add(&pool.wake, 1);
    futex_wake(&pool.wake, INT_MAX);
    for (int i = 0; i < pool.workers; i++) pthread_join(pool.threads[i], NULL);
    pool.workers = 0;
    atomic_store(&pool.started, 0);
}

/* dlc_parallel_for's threaded case: threads >= 2, n / min_chunk >= threads. */
void dlc_parallel_run(int64_t threads, int64_t n, int64_t min_chunk, dlc_parallel_body body, void *arg) {
    int expected = 0;
    if (threads <= 1 || !atomic_compare_exchange_strong(&pool.busy, &expected, 1)) {
        body(arg, 0, n);
        return;
    }
    int64_t helpers = ensure_workers((int)(threads - 1 < POOL_MAX_WORKERS ? threads - 1 : POOL_MAX_WORKERS));
    if (helpers == 0) {
        atomic_store(&pool.busy, 0);
        body(arg, 0, n);
        return;
    }
    int64_t chunks = threads * POOL_CHUNKS_PER_THREAD;
    if (chunks > n / min_chunk) chunks = n / min_chunk;
    if (chunks > INT32_MAX) chunks = INT32_MAX;
    if (helpers > 255) helpers = 255;

    /* close the previous epoch (no chunk claimable) before its fields change */
    uint64_t epoch = (W_EPOCH(atomic_load(&pool.word)) + 1) & 0xffffffu;
    atomic_store(&pool.word, W_MAKE(epoch, 0, 0xffffffffu));
    atomic_store(&pool.body, body);
    atomic_store(&pool.arg, arg);
    atomic_store(&pool.n, n);
    atomic_store(&pool.chunks, chunks);
    atomic_store(&pool.done, 0);
    atomic_store(&pool.word, W_MAKE(epoch, helpers, 0));
    atomic_fetch_add(&pool.wake, 1);
    if (atomic_load(&pool.sleepers) > 0) futex_wake(&pool.wake, (int)helpers);

    work_on(epoch, false);
    /* every chunk is claimed; wait for those still running elsewhere */
    for (int spin = 0; atomic_load(&pool.done) < chunks; spin++) {
        if (spin < 4096) cpu_relax();
        else sched_yield();
    }
    atomic_store(&pool.busy, 0);
}
