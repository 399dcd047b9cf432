/* A run allocates nothing on the heap: the session's arena was sized at
 * compile time. Every allocation in the process is counted while runs are
 * in flight (malloc interposition; under ASan, its allocator hooks). */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codegen/compile.h"
#include "dlc/dlc.h"
#include "frontend/tensor_file.h"

static atomic_bool counting;
static atomic_long allocations;

static void note_allocation(void) {
    if (atomic_load(&counting)) atomic_fetch_add(&allocations, 1);
}

#if defined(__SANITIZE_ADDRESS__)
/* from the sanitizer runtime (its header is not shipped with gcc 12) */
int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void *, size_t),
                                              void (*free_hook)(const volatile void *));
static void on_malloc(const volatile void *ptr, size_t size) {
    (void)ptr, (void)size;
    note_allocation();
}
static void on_free(const volatile void *ptr) { (void)ptr; }
static void install_counter(void) { __sanitizer_install_malloc_and_free_hooks(on_malloc, on_free); }
#else
/* glibc's allocator under its internal names; ours wrap them. */
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
void *malloc(size_t n) {
    note_allocation();
    return __libc_malloc(n);
}
void *calloc(size_t count, size_t n) {
    note_allocation();
    return __libc_calloc(count, n);
}
void *realloc(void *p, size_t n) {
    note_allocation();
    return __libc_realloc(p, n);
}
void *aligned_alloc(size_t alignment, size_t n) {
    note_allocation();
    return __libc_memalign(alignment, n);
}
int posix_memalign(void **out, size_t alignment, size_t n) {
    note_allocation();
    *out = __libc_memalign(alignment, n);
    return *out != NULL ? 0 : 12 /* ENOMEM */;
}
static void install_counter(void) {}
#endif

static long allocations_during_runs(int32_t threads) {
    install_counter();
    char dir[] = "/tmp/dlc-alloc-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char so[128];
    snprintf(so, sizeof so, "%s/mnist.so", dir);
    dlc_compile_options opts;
    dlc_compile_options_init(&opts);
    cr_assert_eq(dlc_compile_file(DLC_SOURCE_DIR "/models/mlp_mnist/model.onnx", &opts, so), DLC_OK, "%s",
                 dlc_last_error());
    dlc_owned_tensor input;
    cr_assert_eq(dlc_tensor_file_read(DLC_SOURCE_DIR "/models/mlp_mnist/test_data_set_0/input_0.pb", &input), DLC_OK);
    dlc_model *model;
    cr_assert_eq(dlc_model_load(so, &model), DLC_OK, "%s", dlc_last_error());
    dlc_session *session;
    dlc_session_options options = {.num_threads = threads};
    cr_assert_eq(dlc_session_create(model, &options, &session), DLC_OK, "%s", dlc_last_error());
    float logits[10];
    dlc_tensor out = {.dtype = DLC_FLOAT32, .rank = 2, .dims = {1, 10}, .data = logits, .size_bytes = sizeof logits};
    /* warm-up: lets the OpenMP runtime build its thread team once */
    cr_assert_eq(dlc_session_run(session, &input.tensor, 1, &out, 1), DLC_OK, "%s", dlc_last_error());

    /* the counter must see allocations, or a zero below proves nothing */
    atomic_store(&counting, true);
    void *volatile probe = malloc(16);
    atomic_store(&counting, false);
    free(probe);
    cr_assert_eq(atomic_load(&allocations), 1, "the allocation counter is not wired in");

    atomic_store(&allocations, 0);
    atomic_store(&counting, true);
    for (int i = 0; i < 20; i++) cr_assert_eq(dlc_session_run(session, &input.tensor, 1, &out, 1), DLC_OK);
    dlc_tensor wrong = input.tensor;
    wrong.dims[1] = 3; /* a refused run must not allocate either */
    dlc_status refused = dlc_session_run(session, &wrong, 1, &out, 1);
    atomic_store(&counting, false);
    cr_assert_eq(refused, DLC_ERR_SHAPE_MISMATCH, "%s", dlc_last_error());

    dlc_session_free(session);
    dlc_model_free(model);
    dlc_owned_tensor_free(&input);
    unlink(so);
    rmdir(dir);
    return atomic_load(&allocations);
}

Test(run_alloc, one_thread_runs_allocate_nothing) {
    long n = allocations_during_runs(1);
    cr_assert_eq(n, 0, "%ld heap allocations during 21 runs", n);
}

Test(run_alloc, two_thread_runs_allocate_nothing) {
    long n = allocations_during_runs(2);
    cr_assert_eq(n, 0, "%ld heap allocations during 21 runs", n);
}
