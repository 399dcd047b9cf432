/* dlc test: ONNX backend-test folders (model.onnx + test_data_set_N with
 * input_N.pb, output_N.pb). Each model is compiled once and run on every
 * data set; each case runs in its own process, so a crash in one case is a
 * FAIL line rather than the end of the run, and -j N runs N at once. */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tools/cli.h"

static const char usage[] =
    "usage: dlc test DIR... [options]\n"
    "       dlc test --ort MODEL.onnx [--seed N] [--save DIR] [--shape NAME=D0,D1,...] [options]\n\n"
    "Each DIR holds model.onnx and test_data_set_*/ folders with input_N.pb and\n"
    "output_N.pb (the ONNX backend-test layout), or sub-folders that do. Prints\n"
    "one line per case (PASS, FAIL with the first mismatch, or UNSUPPORTED with\n"
    "the reason) and a summary; exits 1 if any case failed.\n\n"
    "--ort compares dlc with ONNX Runtime (npm onnxruntime-node, run by node\n"
    "tests/ort/ort_run.js) on any model: inputs are generated from the seed (floats\n"
    "in [-1,1), token ids within the embedding they index, *mask* inputs as ones\n"
    "with a tail of zeros, other integers small), ORT computes the expected\n"
    "outputs, then the case runs as above. Tolerances default per dtype: float32\n"
    "rtol 1e-3 atol 1e-5, float16/bfloat16 1e-2, float64 rtol 1e-5 atol 1e-8,\n"
    "integers exact.\n\n"
    "options:\n"
    "  --rtol X                 relative tolerance (default 1e-3)\n"
    "  --atol X                 absolute tolerance (default 1e-7)\n"
    "  -O LEVEL                 optimization level (default 2)\n"
    "  --cpu CPU                target CPU (default native)\n"
    "  -j, --jobs N             cases run in parallel (default 1)\n"
    "  --threads N              threads per run (default 1)\n"
    "  --timeout SECONDS        fail a case that takes longer (default: none)\n"
    "  --ort                    the argument is a model to compare with ONNX Runtime\n"
    "  --seed N                 --ort: input data seed (default 0)\n"
    "  --save DIR               --ort: keep the case (model + inputs + ORT outputs) in DIR\n"
    "  --shape NAME=D0,D1,...   --ort: size of an input with symbolic dims\n"
    "  --static-shapes          bind symbolic dims from each data set and compile per size\n"
    "                           (default: one artifact for every size, falling back to this\n"
    "                           when the model cannot be compiled for every size)\n"
    "  -h, --help               this text\n";

enum { OPT_RTOL = 256, OPT_ATOL, OPT_CPU, OPT_THREADS, OPT_TIMEOUT, OPT_ORT, OPT_SEED, OPT_SAVE, OPT_SHAPE,
       OPT_STATIC_SHAPES };
enum { MSG_SIZE = 2048 };

typedef struct test_settings {
    cli_compile_settings cs;
    double rtol, atol;
    int64_t jobs, threads, timeout;
    bool tolerance_per_dtype; /* --ort without --rtol/--atol */
} test_settings;

/* --ort's defaults: ONNX Runtime may sum in another order, and half-precision
 * results round at 1e-3 relative already. */
static void tolerance_for(const test_settings *ts, dlc_dtype dtype, double *rtol, double *atol) {
    *rtol = ts->rtol, *atol = ts->atol;
    if (!ts->tolerance_per_dtype) return;
    switch (dtype) {
    case DLC_FLOAT16: case DLC_BFLOAT16: *rtol = 1e-2, *atol = 1e-2; break;
    case DLC_FLOAT64: *rtol = 1e-5, *atol = 1e-8; break;
    default: *rtol = 1e-3, *atol = 1e-5; break; /* float32; integers compare exactly anyway */
    }
}

typedef enum case_result { CASE_PASS = 'P', CASE_FAIL = 'F', CASE_UNSUPPORTED = 'U' } case_result;

static bool is_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int data_set_filter(const struct dirent *e) { return strncmp(e->d_name, "test_data_set_", 14) == 0; }

/* The files prefix_0.pb, prefix_1.pb, ... of a data set, read. */
typedef struct numbered {
    cli_inputs in;
    char **paths; /* owned; in.paths borrows them */
    int count;
} numbered;

static void free_numbered(numbered *n) {
    cli_inputs_free(&n->in);
    for (int i = 0; i < n->count; i++) free(n->paths[i]);
    free(n->paths);
    memset(n, 0, sizeof *n);
}

/* Reads prefix_0.pb, prefix_1.pb, ... from folder: as tensors, or when io
 * is given as the model's inputs declare them (sequences and optionals
 * flattened into named tensors, their lengths added to cs). */
static bool read_numbered(const char *folder, const char *prefix, const cli_io_types *io, cli_compile_settings *cs,
                          numbered *out) {
    memset(out, 0, sizeof *out);
    for (;; out->count++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s_%d.pb", folder, prefix, out->count);
        if (!is_file(path)) break;
        char **p = realloc(out->paths, (size_t)(out->count + 1) * sizeof *p);
        if (p == NULL || (p[out->count] = strdup(path)) == NULL) {
            if (p != NULL) out->paths = p;
            free_numbered(out);
            cli_error("out of memory");
            return false;
        }
        out->paths = p;
    }
    bool ok = io != NULL ? cli_inputs_read_typed(&out->in, out->paths, out->count, io, cs)
                         : cli_inputs_read(&out->in, out->paths, out->count);
    if (!ok) free_numbered(out);
    return ok;
}

static case_result compare_one(const char *name, const dlc_tensor *got, dlc_tensor *expected, const test_settings *ts,
                               char *msg, size_t size) {
    cli_accept_bf16_bits(expected, got->dtype); /* bfloat16 data as uint16 */
    double rtol, atol;
    tolerance_for(ts, expected->dtype, &rtol, &atol);
    return cli_compare_tensors(name, got, expected, rtol, atol, msg, size) ? CASE_PASS : CASE_FAIL;
}

static case_result compare_outputs(const char *set_dir, const cli_bindings *b, const test_settings *ts, char *msg,
                                   size_t size) {
    numbered expected;
    if (!read_numbered(set_dir, "output", NULL, NULL, &expected)) return CASE_FAIL;
    case_result result = CASE_PASS;
    if (expected.in.count > b->num_outputs) {
        snprintf(msg, size, "the data set has %d outputs, the model %d", expected.in.count, b->num_outputs);
        result = CASE_FAIL;
    } else if (expected.in.count == 0) {
        snprintf(msg, size, "no output_0.pb in %.1900s", set_dir);
        result = CASE_FAIL;
    }
    for (int o = 0; result == CASE_PASS && o < expected.in.count; o++)
        result = compare_one(b->output_infos[o].name, &b->outputs[o], &expected.in.tensors[o].tensor, ts, msg, size);
    free_numbered(&expected);
    return result;
}

/* Whether artifact output name is one of the tensors model output base
 * flattens into ("base" or "base[k]"). */
static bool flattened_from(const char *name, const char *base) {
    size_t n = strlen(base);
    return strncmp(name, base, n) == 0 && (name[n] == '\0' || name[n] == '[');
}

/* Outputs of a model with sequences or optionals: each output_N.pb is read
 * as the model declares output N and compared element by element with the
 * artifact's outputs of the same names, which must be all there is of it. */
static case_result compare_typed_outputs(const char *set_dir, const cli_bindings *b, const cli_io_types *io,
                                         const test_settings *ts, char *msg, size_t size) {
    case_result result = CASE_PASS;
    int o = 0;
    for (; result == CASE_PASS && o < io->num_outputs; o++) {
        char path[4200];
        snprintf(path, sizeof path, "%.4000s/output_%d.pb", set_dir, o);
        if (!is_file(path)) break;
        dlc_owned_value v;
        dlc_status st = dlc_value_file_read(path, io->output_kinds[o], &v);
        if (st != DLC_OK) {
            cli_status_error(st);
            return CASE_FAIL;
        }
        const char *base = io->output_names[o];
        int produced = 0;
        for (int k = 0; k < b->num_outputs; k++) produced += flattened_from(b->output_infos[k].name, base);
        if (produced != v.count) {
            snprintf(msg, size, "output '%.200s': expected %s%d element%s, the model gives %d", base,
                     v.kind == DLC_FILE_OPTIONAL && !v.present ? "an empty optional, " : "", (int)v.count,
                     v.count == 1 ? "" : "s", produced);
            result = CASE_FAIL;
        }
        for (int32_t k = 0; result == CASE_PASS && k < v.count; k++) {
            char name[600];
            cli_element_name(&v, base, k, name, sizeof name);
            int found = -1;
            for (int j = 0; j < b->num_outputs && found < 0; j++)
                if (strcmp(b->output_infos[j].name, name) == 0) found = j;
            if (found < 0) {
                snprintf(msg, size, "the model has no output '%.500s'", name);
                result = CASE_FAIL;
            } else {
                result = compare_one(name, &b->outputs[found], &v.elems[k].tensor, ts, msg, size);
            }
        }
        dlc_owned_value_free(&v);
    }
    if (result == CASE_PASS && o == 0) {
        snprintf(msg, size, "no output_0.pb in %.1900s", set_dir);
        result = CASE_FAIL;
    }
    return result;
}

static case_result run_case(const char *dir, const test_settings *ts, char *msg, size_t size) {
    char model_path[4096];
    snprintf(model_path, sizeof model_path, "%s/model.onnx", dir);
    struct dirent **sets = NULL;
    int num_sets = scandir(dir, &sets, data_set_filter, alphasort);
    if (num_sets <= 0) {
        snprintf(msg, size, "no test_data_set_* folders in %s", dir);
        free(sets);
        return CASE_FAIL;
    }
    /* a model with sequence or optional inputs or outputs: its data files
     * are read as it declares them, and each data set compiled for its own
     * lengths (an import error shows again when compiling) */
    cli_io_types io = {0};
    bool typed = cli_io_types_read(model_path, &io) == CLI_OK && io.any_sequence;
    cli_compile_settings *cs = malloc(sizeof *cs);
    if (cs == NULL) {
        cli_io_types_free(&io);
        for (int s = 0; s < num_sets; s++) free(sets[s]);
        free(sets);
        snprintf(msg, size, "out of memory");
        return CASE_FAIL;
    }
    case_result result = CASE_PASS;
    cli_model model = {0};
    dlc_session *session = NULL;
    bool fell_back = false;
    char why_static[640] = ""; /* why one artifact could not run every size */
    for (int s = 0; s < num_sets && result == CASE_PASS; s++) {
        char set_dir[4096];
        snprintf(set_dir, sizeof set_dir, "%s/%s", dir, sets[s]->d_name);
        *cs = ts->cs;
        if (fell_back) cs->dynamic = false;
        numbered inputs;
        if (!read_numbered(set_dir, "input", typed ? &io : NULL, cs, &inputs)) {
            result = CASE_FAIL;
            break;
        }
        /* compile once, binding symbolic dims from the first data set; a
         * model whose shape inputs were bound to values, or whose sequences
         * were, is compiled again for every data set, since each may give
         * other values */
        bool rebind = s > 0 && (model.bound[0] != '\0' || typed || !cs->dynamic);
        if (rebind) {
            dlc_session_free(session);
            session = NULL;
            cli_model_close(&model);
        }
        if (s == 0 || rebind) {
            int opened = cli_model_open(model_path, cs, &inputs.in, &model);
            if (opened != CLI_OK && cs->dynamic && cli_last_status() != DLC_OK) {
                /* not compilable for every size (unsupported, or the samples
                 * of its symbols fail to infer): bind each data set's sizes,
                 * and say so on the PASS line */
                fell_back = true;
                cs->dynamic = false;
                snprintf(why_static, sizeof why_static, "%s", msg);
                opened = cli_model_open(model_path, cs, &inputs.in, &model);
            }
            if (opened != CLI_OK) {
                result = cli_last_status() == DLC_ERR_UNSUPPORTED ? CASE_UNSUPPORTED : CASE_FAIL;
            } else {
                dlc_session_options so = {.num_threads = (int32_t)ts->threads};
                dlc_status st = dlc_session_create(model.model, &so, &session);
                if (st != DLC_OK) {
                    cli_status_error(st);
                    result = CASE_FAIL;
                }
            }
        }
        cli_bindings b = {0};
        if (result == CASE_PASS && cli_bindings_prepare(model.model, &inputs.in, 0, &b) != CLI_OK) result = CASE_FAIL;
        if (result == CASE_PASS) {
            dlc_status st = dlc_session_run(session, b.inputs, b.num_inputs, b.outputs, b.num_outputs);
            if (st != DLC_OK) {
                cli_status_error(st);
                result = CASE_FAIL;
            }
        }
        if (result == CASE_PASS)
            result = typed ? compare_typed_outputs(set_dir, &b, &io, ts, msg, size)
                           : compare_outputs(set_dir, &b, ts, msg, size);
        if (result == CASE_FAIL && num_sets > 1) { /* say which data set */
            char inner[MSG_SIZE];
            snprintf(inner, sizeof inner, "%s", msg);
            snprintf(msg, size, "%.200s: %.1800s", sets[s]->d_name, inner);
        }
        cli_bindings_free(&b);
        free_numbered(&inputs);
    }
    if (result == CASE_PASS && model.bound[0] != '\0') snprintf(msg, size, "bound: %s", model.bound);
    else if (result == CASE_PASS && fell_back)
        snprintf(msg, size, "compiled per data set: no one artifact for every size: %s", why_static);
    else if (result == CASE_PASS) msg[0] = '\0';
    if (result == CASE_PASS && model.model != NULL && num_sets > 0) { /* say when one artifact ran every size */
        for (int i = 0; i < dlc_model_num_inputs(model.model) && msg[0] == '\0'; i++) {
            dlc_tensor_info info;
            if (dlc_model_input(model.model, i, &info) != DLC_OK) continue;
            for (int32_t d = 0; d < info.rank; d++)
                if (info.dims[d] < 0) {
                    snprintf(msg, size, "one artifact for every size (%d data set%s)", num_sets, num_sets > 1 ? "s" : "");
                    break;
                }
        }
    }
    if (session != NULL) dlc_session_free(session);
    cli_model_close(&model);
    cli_io_types_free(&io);
    free(cs);
    for (int s = 0; s < num_sets; s++) free(sets[s]);
    free(sets);
    return result;
}

/* ---- case list ---- */

typedef struct case_list {
    char **dirs;
    int count, cap;
} case_list;

static bool add_case(case_list *l, const char *dir) {
    if (l->count == l->cap) {
        int cap = l->cap ? l->cap * 2 : 64;
        char **p = realloc(l->dirs, (size_t)cap * sizeof *p);
        if (p == NULL) return false;
        l->dirs = p;
        l->cap = cap;
    }
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/') n--;
    l->dirs[l->count] = strndup(dir, n);
    return l->dirs[l->count++] != NULL;
}

static int subdir_filter(const struct dirent *e) { return e->d_name[0] != '.'; }

/* DIR itself when it holds model.onnx, else its sub-folders that do. */
static int collect_cases(case_list *l, const char *dir) {
    char path[4096];
    if (!is_dir(dir)) return cli_error("cannot open '%s': %s", dir, is_file(dir) ? "not a folder" : strerror(ENOENT));
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    if (is_file(path)) return add_case(l, dir) ? CLI_OK : cli_error("out of memory");
    struct dirent **entries;
    int n = scandir(dir, &entries, subdir_filter, alphasort);
    if (n < 0) return cli_error("cannot read '%s': %s", dir, strerror(errno));
    int found = 0, rc = CLI_OK;
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/%s/model.onnx", dir, entries[i]->d_name);
        if (rc == CLI_OK && is_file(path)) {
            snprintf(path, sizeof path, "%s/%s", dir, entries[i]->d_name);
            if (!add_case(l, path)) rc = cli_error("out of memory");
            found++;
        }
        free(entries[i]);
    }
    free(entries);
    if (rc == CLI_OK && found == 0) rc = cli_error("'%s' holds no model.onnx, neither directly nor in a sub-folder", dir);
    return rc;
}

static const char *case_name(const char *dir) {
    const char *slash = strrchr(dir, '/');
    return slash != NULL ? slash + 1 : dir;
}

/* ---- processes ---- */

typedef struct running_case {
    pid_t pid;
    int fd;
    int index;
} running_case;

typedef struct case_outcome {
    char code; /* 0 while pending */
    char msg[MSG_SIZE];
} case_outcome;

static void child_run(const char *dir, const test_settings *ts, int fd) {
    char msg[MSG_SIZE] = "";
    if (ts->timeout > 0) alarm((unsigned)ts->timeout);
    cli_capture_errors(msg, sizeof msg);
    case_result r = run_case(dir, ts, msg, sizeof msg);
    char code = (char)r;
    size_t len = strlen(msg);
    if (write(fd, &code, 1) != 1 || write(fd, msg, len) != (ssize_t)len) _exit(3);
    _exit(0);
}

static void finish(running_case *rc, int status, case_outcome *out) {
    char buf[MSG_SIZE + 1];
    size_t got = 0;
    ssize_t n;
    while (got < sizeof buf - 1 && (n = read(rc->fd, buf + got, sizeof buf - 1 - got)) > 0) got += (size_t)n;
    buf[got] = '\0';
    close(rc->fd);
    if (WIFSIGNALED(status)) {
        out->code = CASE_FAIL;
        int sig = WTERMSIG(status);
        snprintf(out->msg, sizeof out->msg, "%s (signal %d: %s)", sig == SIGALRM ? "timed out" : "crashed", sig,
                 strsignal(sig));
    } else if (got == 0 || (buf[0] != CASE_PASS && buf[0] != CASE_FAIL && buf[0] != CASE_UNSUPPORTED)) {
        out->code = CASE_FAIL;
        snprintf(out->msg, sizeof out->msg, "the test process exited with status %d without a result",
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    } else {
        out->code = buf[0];
        snprintf(out->msg, sizeof out->msg, "%s", buf + 1);
    }
}

static int run_all(const case_list *cases, const test_settings *ts) {
    case_outcome *outcomes = calloc((size_t)cases->count + 1, sizeof *outcomes);
    running_case *running = calloc((size_t)ts->jobs + 1, sizeof *running);
    if (outcomes == NULL || running == NULL) {
        free(outcomes), free(running);
        return cli_error("out of memory");
    }
    int next = 0, active = 0, printed = 0, passed = 0, failed = 0, skipped = 0;
    while (printed < cases->count) {
        while (active < ts->jobs && next < cases->count) {
            int fds[2];
            if (pipe(fds) != 0) {
                free(outcomes), free(running);
                return cli_error("pipe: %s", strerror(errno));
            }
            fflush(stdout);
            fflush(stderr);
            pid_t pid = fork();
            if (pid < 0) {
                free(outcomes), free(running);
                return cli_error("fork: %s", strerror(errno));
            }
            if (pid == 0) {
                close(fds[0]);
                child_run(cases->dirs[next], ts, fds[1]);
            }
            close(fds[1]);
            running[active++] = (running_case){pid, fds[0], next++};
        }
        int status;
        pid_t done = waitpid(-1, &status, 0);
        if (done < 0) {
            if (errno == EINTR) continue;
            break;
        }
        for (int r = 0; r < active; r++)
            if (running[r].pid == done) {
                finish(&running[r], status, &outcomes[running[r].index]);
                running[r] = running[--active];
                break;
            }
        /* print in case order, as soon as the next case in line is done */
        for (; printed < cases->count && outcomes[printed].code != 0; printed++) {
            const case_outcome *o = &outcomes[printed];
            const char *name = case_name(cases->dirs[printed]);
            if (o->code == CASE_PASS && o->msg[0] != '\0') printf("PASS %s (%s)\n", name, o->msg), passed++;
            else if (o->code == CASE_PASS) printf("PASS %s\n", name), passed++;
            else if (o->code == CASE_UNSUPPORTED) printf("UNSUPPORTED %s: %s\n", name, o->msg), skipped++;
            else printf("FAIL %s: %s\n", name, o->msg), failed++;
            fflush(stdout);
        }
    }
    printf("%d passed, %d failed", passed, failed);
    if (skipped > 0) printf(", %d skipped", skipped);
    printf("\n");
    free(outcomes);
    free(running);
    return failed > 0 || printed < cases->count ? CLI_ERROR : CLI_OK;
}

/* ---- --ort ---- */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

/* "mlp_mnist" for .../mlp_mnist/model.onnx, else the file name without .onnx */
static void ort_case_name(const char *model, char *out, size_t size) {
    const char *base = strrchr(model, '/') ? strrchr(model, '/') + 1 : model;
    if (strcmp(base, "model.onnx") == 0 && base - model >= 2) {
        const char *end = base - 1, *start = end;
        while (start > model && start[-1] != '/') start--;
        snprintf(out, size, "%.*s", (int)(end - start), start);
    } else {
        size_t n = strlen(base);
        if (cli_ends_with(base, ".onnx")) n -= 5;
        snprintf(out, size, "%.*s", (int)n, base);
    }
    if (out[0] == '\0' || strcmp(out, ".") == 0 || strcmp(out, "..") == 0) snprintf(out, size, "model");
}

/* Builds the ORT case (in save_dir, or a temporary folder removed after) and
 * runs it like any other. */
static int run_ort_case(const char *model, test_settings *ts, uint64_t seed, const char *save_dir) {
    char tmp[4096] = "", dir[4096], name[256];
    if (save_dir != NULL) {
        snprintf(dir, sizeof dir, "%s", save_dir);
    } else {
        snprintf(tmp, sizeof tmp, "%s/dlc-ort-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        if (mkdtemp(tmp) == NULL) return cli_error("cannot create a temporary folder '%s': %s", tmp, strerror(errno));
        ort_case_name(model, name, sizeof name);
        int len = snprintf(dir, sizeof dir, "%s/%s", tmp, name);
        if (len < 0 || (size_t)len >= sizeof dir) {
            rmdir(tmp);
            return cli_error("the temporary folder name '%s/%s' is too long (set TMPDIR)", tmp, name);
        }
    }
    int rc = cli_ort_make_case(model, &ts->cs, seed, dir);
    if (rc == CLI_OK) {
        case_list cases = {0};
        rc = add_case(&cases, dir) ? run_all(&cases, ts) : cli_error("out of memory");
        for (int i = 0; i < cases.count; i++) free(cases.dirs[i]);
        free(cases.dirs);
    }
    if (tmp[0] != '\0') nftw(tmp, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return rc;
}

int cmd_test(int argc, char **argv) {
    static const struct option options[] = {
        {"ort", no_argument, NULL, OPT_ORT},               {"seed", required_argument, NULL, OPT_SEED},
        {"save", required_argument, NULL, OPT_SAVE},       {"shape", required_argument, NULL, OPT_SHAPE},
        {"rtol", required_argument, NULL, OPT_RTOL},       {"atol", required_argument, NULL, OPT_ATOL},
        {"cpu", required_argument, NULL, OPT_CPU},         {"jobs", required_argument, NULL, 'j'},
        {"threads", required_argument, NULL, OPT_THREADS}, {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"static-shapes", no_argument, NULL, OPT_STATIC_SHAPES},
        {"help", no_argument, NULL, 'h'},                  {NULL, 0, NULL, 0},
    };
    test_settings ts = {.rtol = 1e-3, .atol = 1e-7, .jobs = 1, .threads = 1};
    cli_compile_settings_init(&ts.cs);
    ts.cs.quiet = true; /* a PASS line names the inputs bound to their values */
    ts.cs.dynamic = true; /* symbolic dims: one artifact for every data set's sizes */
    bool ort = false, tolerance_given = false;
    int64_t seed = 0;
    const char *save_dir = NULL;
    opterr = 0;
    optind = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, "O:j:h", options, NULL)) != -1) {
        switch (opt) {
        case OPT_RTOL:
            if (!cli_parse_double(optarg, &ts.rtol) || ts.rtol < 0)
                return cli_usage_error("test", "--rtol '%s': expected a non-negative number", optarg);
            tolerance_given = true;
            break;
        case OPT_ATOL:
            if (!cli_parse_double(optarg, &ts.atol) || ts.atol < 0)
                return cli_usage_error("test", "--atol '%s': expected a non-negative number", optarg);
            tolerance_given = true;
            break;
        case 'O':
            if (!cli_parse_opt_level(optarg, &ts.cs.opt_level))
                return cli_usage_error("test", "-O%s: the level is 0, 1, 2 or 3", optarg);
            break;
        case OPT_CPU: ts.cs.cpu = optarg; break;
        case 'j':
            if (!cli_parse_int(optarg, 1, 1024, &ts.jobs))
                return cli_usage_error("test", "-j '%s': expected a number of jobs", optarg);
            break;
        case OPT_THREADS:
            if (!cli_parse_int(optarg, 0, 4096, &ts.threads))
                return cli_usage_error("test", "--threads '%s': expected a number of threads", optarg);
            break;
        case OPT_TIMEOUT:
            if (!cli_parse_int(optarg, 0, 86400, &ts.timeout))
                return cli_usage_error("test", "--timeout '%s': expected seconds", optarg);
            break;
        case OPT_ORT: ort = true; break;
        case OPT_STATIC_SHAPES: ts.cs.dynamic = false; break;
        case OPT_SEED:
            if (!cli_parse_int(optarg, 0, INT64_MAX, &seed))
                return cli_usage_error("test", "--seed '%s': expected a non-negative integer", optarg);
            break;
        case OPT_SAVE: save_dir = optarg; break;
        case OPT_SHAPE:
            if (!cli_add_shape(&ts.cs, optarg)) return CLI_USAGE;
            break;
        case 'h': fputs(usage, stdout); return CLI_OK;
        default: return cli_usage_error("test", "unknown option or missing value in '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc) return cli_usage_error("test", ort ? "no model given" : "no test folder given");
    if (!ort && (save_dir != NULL || ts.cs.num_shapes > 0))
        return cli_usage_error("test", "--save and --shape go with --ort");
    if (ort) {
        if (argc - optind > 1) return cli_usage_error("test", "--ort takes one model; unexpected '%s'", argv[optind + 1]);
        ts.tolerance_per_dtype = !tolerance_given;
        return run_ort_case(argv[optind], &ts, (uint64_t)seed, save_dir);
    }
    case_list cases = {0};
    int rc = CLI_OK;
    for (int i = optind; i < argc && rc == CLI_OK; i++) rc = collect_cases(&cases, argv[i]);
    if (rc == CLI_OK) rc = run_all(&cases, &ts);
    for (int i = 0; i < cases.count; i++) free(cases.dirs[i]);
    free(cases.dirs);
    return rc;
}
