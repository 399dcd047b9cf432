/* `dlc test --ort`: turns any model into a backend-test case whose expected
 * outputs come from ONNX Runtime. Inputs are generated deterministically from
 * a seed, with values the model can take: token ids within the embedding
 * they index, attention masks as ones with a tail of zeros, floats in
 * [-1, 1). ONNX Runtime runs through the npm package (tests/ort/ort_run.js),
 * so dlc itself never links it. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "frontend/onnx_import.h"
#include "kernels/dlc_kernel.h"
#include "tools/cli.h"

extern char **environ;

/* splitmix64: small, and the same stream on every machine */
static uint64_t next_random(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double next_unit(uint64_t *state) { return (double)(next_random(state) >> 11) / 9007199254740992.0; }

/* Indices a Gather reads from a constant table (an embedding) must lie in
 * [0, rows): the smallest such row count over the Gathers `v` feeds, or 0. */
static int64_t embedding_rows(const dlc_graph *g, const dlc_value *v) {
    int64_t rows = 0;
    for (int32_t n = 0; n < g->num_nodes; n++) {
        const dlc_node *node = g->nodes[n];
        if (strcmp(node->op_type, "Gather") != 0 || node->num_inputs < 2 || node->inputs[1] != v) continue;
        const dlc_value *table = node->inputs[0];
        if (table == NULL || table->kind != DLC_VALUE_CONST || table->shape.rank < 1) continue;
        int64_t axis = dlc_node_attr_int(node, "axis", 0);
        if (axis < 0) axis += table->shape.rank;
        if (axis < 0 || axis >= table->shape.rank || !dlc_dim_is_static(table->shape.dims[axis])) continue;
        int64_t r = table->shape.dims[axis].value;
        if (r > 0 && (rows == 0 || r < rows)) rows = r;
    }
    return rows;
}

static bool is_mask_name(const char *name) {
    for (const char *p = name; *p != '\0'; p++)
        if (strncasecmp(p, "mask", 4) == 0) return true;
    return false;
}

/* Integer value i of a tensor with last dim `row`: see the file comment. */
static int64_t int_value(uint64_t *state, bool mask, int64_t rows, int64_t i, int64_t row) {
    if (mask) return row > 0 && i % row >= row - row / 4 ? 0 : 1; /* the last quarter of each row padded */
    if (rows > 0) return (int64_t)(next_random(state) % (uint64_t)rows);
    return (int64_t)(next_random(state) % 4); /* small and non-negative: safe as an index or a count */
}

static void fill(dlc_tensor *t, uint64_t seed, bool mask, int64_t rows) {
    size_t elem = dlc_dtype_size(t->dtype);
    int64_t n = (int64_t)(t->size_bytes / elem);
    int64_t row = t->rank > 0 ? t->dims[t->rank - 1] : 1;
    uint64_t state = seed;
    for (int64_t i = 0; i < n; i++) {
        double f = 2.0 * next_unit(&state) - 1.0;
        switch (t->dtype) {
        case DLC_FLOAT32: ((float *)t->data)[i] = (float)f; break;
        case DLC_FLOAT64: ((double *)t->data)[i] = f; break;
        case DLC_FLOAT16: ((uint16_t *)t->data)[i] = dlc_f32_to_f16((float)f); break;
        case DLC_BFLOAT16: ((uint16_t *)t->data)[i] = dlc_f32_to_bf16((float)f); break;
        case DLC_BOOL: ((uint8_t *)t->data)[i] = (uint8_t)(mask ? int_value(&state, true, 0, i, row) : f >= 0.0); break;
        case DLC_INT64: ((int64_t *)t->data)[i] = int_value(&state, mask, rows, i, row); break;
        case DLC_UINT64: ((uint64_t *)t->data)[i] = (uint64_t)int_value(&state, mask, rows, i, row); break;
        case DLC_INT32: ((int32_t *)t->data)[i] = (int32_t)int_value(&state, mask, rows, i, row); break;
        case DLC_UINT32: ((uint32_t *)t->data)[i] = (uint32_t)int_value(&state, mask, rows, i, row); break;
        case DLC_INT16: ((int16_t *)t->data)[i] = (int16_t)int_value(&state, mask, rows < 32768 ? rows : 0, i, row); break;
        case DLC_UINT16: ((uint16_t *)t->data)[i] = (uint16_t)int_value(&state, mask, rows < 65536 ? rows : 0, i, row); break;
        case DLC_INT8: ((int8_t *)t->data)[i] = (int8_t)int_value(&state, mask, rows < 128 ? rows : 0, i, row); break;
        case DLC_UINT8: ((uint8_t *)t->data)[i] = (uint8_t)int_value(&state, mask, rows < 256 ? rows : 0, i, row); break;
        default: break;
        }
    }
}

static const dlc_input_shape *given_shape(const cli_compile_settings *cs, const char *name) {
    for (int32_t i = 0; i < cs->num_shapes; i++)
        if (strcmp(cs->shapes[i].name, name) == 0) return &cs->shapes[i];
    return NULL;
}

/* The shape input `v` gets: --shape when given, else its static dims, with a
 * symbolic dim taking the size it already got elsewhere (inputs share
 * [batch, seq]) or 1 as the first dim (batch) and 16 otherwise. sym_size
 * holds each symbol's size (0: not chosen yet). */
static int choose_shape(const dlc_graph *g, const dlc_value *v, const cli_compile_settings *cs, int64_t *sym_size,
                        dlc_tensor *t) {
    char shape[256];
    dlc_shape_format(g, &v->shape, shape, sizeof shape);
    if (v->shape.rank < 0) {
        const dlc_input_shape *s = given_shape(cs, v->name);
        if (s == NULL) return cli_error("input '%s' has an unknown rank: give it with --shape %s=D0,D1,...", v->name, v->name);
        t->rank = s->rank;
        memcpy(t->dims, s->dims, sizeof t->dims);
        return CLI_OK;
    }
    const dlc_input_shape *s = given_shape(cs, v->name);
    if (s != NULL && s->rank != v->shape.rank)
        return cli_error("--shape %s: %d dims given, the model's input is %s", v->name, s->rank, shape);
    t->rank = v->shape.rank;
    for (int32_t d = 0; d < t->rank; d++) {
        dlc_dim dim = v->shape.dims[d];
        int64_t *slot = dlc_dim_is_static(dim) || dim.sym < 0 || dim.sym >= g->num_symbols ? NULL : &sym_size[dim.sym];
        if (s != NULL) {
            if (dlc_dim_is_static(dim) && dim.value != s->dims[d])
                return cli_error("--shape %s: dim %d is %lld in the model", v->name, d, (long long)dim.value);
            t->dims[d] = s->dims[d];
            if (slot != NULL && *slot == 0) *slot = s->dims[d];
        } else if (dlc_dim_is_static(dim)) {
            t->dims[d] = dim.value;
        } else {
            int64_t fallback = d == 0 ? 1 : 16; /* batch 1; sequence-like dims 16 */
            if (slot != NULL && *slot == 0) *slot = fallback;
            t->dims[d] = slot != NULL ? *slot : fallback;
        }
    }
    if (s == NULL && !dlc_shape_is_static(&v->shape)) { /* say what was chosen: the user may want other sizes */
        char type[320];
        cli_format_tensor_type(t->dtype, t->rank, t->dims, type, sizeof type);
        fprintf(stderr, "dlc: input '%s' %s%s: symbolic dims bound to %s (choose with --shape %s=D0,D1,...)\n", v->name,
                dlc_dtype_name(v->dtype), shape, type, v->name);
    }
    return CLI_OK;
}

/* mkdir -p: --save may name a folder whose parents do not exist yet */
static bool make_dir(const char *path) {
    char parent[3200];
    snprintf(parent, sizeof parent, "%s", path);
    for (char *p = parent + 1; *p != '\0'; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(parent, 0777) != 0 && errno != EEXIST) break; /* reported below */
        *p = '/';
    }
    if (mkdir(path, 0777) == 0 || errno == EEXIST) return true;
    cli_error("cannot create '%s': %s", path, strerror(errno));
    return false;
}

static int copy_file(const char *from, const char *to) {
    FILE *in = fopen(from, "rb");
    if (in == NULL) return cli_error("cannot open '%s': %s", from, strerror(errno));
    FILE *out = fopen(to, "wb");
    if (out == NULL) {
        fclose(in);
        return cli_error("cannot create '%s': %s", to, strerror(errno));
    }
    char buf[1 << 16];
    size_t n;
    bool ok = true;
    while (ok && (n = fread(buf, 1, sizeof buf, in)) > 0) ok = fwrite(buf, 1, n, out) == n;
    ok = ok && !ferror(in);
    fclose(in);
    if (fclose(out) != 0) ok = false;
    return ok ? CLI_OK : cli_error("copying '%s' to '%s' failed", from, to);
}

/* tests/ort/ort_run.js: $DLC_ORT_RUNNER, else beside the build folder the
 * running dlc is in (build/dlc -> tests/ort/ort_run.js). */
static bool find_runner(char *out, size_t size) {
    const char *env = getenv("DLC_ORT_RUNNER");
    if (env != NULL && env[0] != '\0') {
        snprintf(out, size, "%s", env);
        return access(out, R_OK) == 0;
    }
    char exe[PATH_MAX - 64]; /* room for the relative part in out */
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return false;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash == NULL) return false;
    *slash = '\0';
    static const char *const relative[] = {"/../tests/ort/ort_run.js", "/../../tests/ort/ort_run.js"};
    for (size_t i = 0; i < sizeof relative / sizeof relative[0]; i++) {
        snprintf(out, size, "%s%s", exe, relative[i]);
        if (access(out, R_OK) == 0) return true;
    }
    return false;
}

/* node ort_run.js MODEL -i input_0.pb ... -o SET_DIR */
static int run_ort(const char *model, const char *set_dir, int num_inputs) {
    char runner[PATH_MAX];
    if (!find_runner(runner, sizeof runner))
        return cli_error("cannot find tests/ort/ort_run.js beside the dlc binary; set DLC_ORT_RUNNER to its path");
    const char *node = getenv("DLC_NODE") != NULL ? getenv("DLC_NODE") : "node";
    char **argv = calloc((size_t)num_inputs * 2 + 8, sizeof *argv);
    char **paths = calloc((size_t)num_inputs + 1, sizeof *paths);
    int rc = argv != NULL && paths != NULL ? CLI_OK : cli_error("out of memory");
    int argc = 0;
    if (rc == CLI_OK) {
        argv[argc++] = (char *)node;
        argv[argc++] = runner;
        argv[argc++] = (char *)model;
        for (int i = 0; rc == CLI_OK && i < num_inputs; i++) {
            size_t len = strlen(set_dir) + 32;
            if ((paths[i] = malloc(len)) == NULL) rc = cli_error("out of memory");
            else snprintf(paths[i], len, "%s/input_%d.pb", set_dir, i);
            argv[argc++] = "-i";
            argv[argc++] = paths[i];
        }
        argv[argc++] = "-o";
        argv[argc++] = (char *)set_dir;
    }
    if (rc == CLI_OK) {
        fflush(stdout);
        fflush(stderr);
        /* ort_run.js prints output summaries on stdout: dlc test's stdout keeps
         * to PASS/FAIL lines; its errors still reach stderr */
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
        pid_t pid;
        int err = posix_spawnp(&pid, node, &actions, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&actions);
        int status = 0;
        if (err != 0) rc = cli_error("cannot run '%s' (ONNX Runtime runs under node): %s", node, strerror(err));
        else if (waitpid(pid, &status, 0) < 0) rc = cli_error("waiting for node: %s", strerror(errno));
        else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            rc = cli_error("ONNX Runtime (%s %s) failed on '%s' (exit status %d): see its message above", node, runner,
                           model, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    }
    for (int i = 0; paths != NULL && i < num_inputs; i++) free(paths[i]);
    free(paths);
    free(argv);
    return rc;
}

int cli_ort_make_case(const char *model_path, const cli_compile_settings *cs, uint64_t seed, const char *case_dir) {
    dlc_graph *g;
    dlc_status st = dlc_onnx_import_file(model_path, &g);
    if (st != DLC_OK) return cli_status_error(st);
    if (strlen(case_dir) > 3000) {
        dlc_graph_free(g);
        return cli_error("the case folder path is too long (%zu bytes)", strlen(case_dir));
    }
    char set_dir[3100], path[3200];
    snprintf(set_dir, sizeof set_dir, "%s/test_data_set_0", case_dir);
    int rc = make_dir(case_dir) && make_dir(set_dir) ? CLI_OK : CLI_ERROR;
    int64_t *sym_size = calloc((size_t)g->num_symbols + 1, sizeof *sym_size);
    if (rc == CLI_OK && sym_size == NULL) rc = cli_error("out of memory");
    for (int32_t i = 0; rc == CLI_OK && i < g->num_inputs; i++) {
        const dlc_value *v = g->inputs[i];
        dlc_tensor t = {.dtype = v->dtype};
        rc = choose_shape(g, v, cs, sym_size, &t);
        uint64_t bytes = dlc_dtype_size(v->dtype);
        if (rc == CLI_OK && (bytes == 0 || v->dtype == DLC_STRING))
            rc = cli_error("input '%s': cannot generate %s data", v->name, dlc_dtype_name(v->dtype));
        for (int32_t d = 0; rc == CLI_OK && d < t.rank; d++)
            if (t.dims[d] != 0 && bytes > (UINT64_C(1) << 34) / (uint64_t)t.dims[d])
                rc = cli_error("input '%s': the chosen shape is too large (over 16 GiB)", v->name);
            else bytes *= (uint64_t)t.dims[d];
        if (rc != CLI_OK) break;
        t.size_bytes = (size_t)bytes;
        t.data = calloc(1, t.size_bytes + 1);
        if (t.data == NULL) {
            rc = cli_error("out of memory for input '%s' (%zu bytes)", v->name, t.size_bytes);
            break;
        }
        /* a different stream per input, so equal shapes do not get equal data */
        fill(&t, seed * 1000003u + (uint64_t)i, is_mask_name(v->name), embedding_rows(g, v));
        snprintf(path, sizeof path, "%s/input_%d.pb", set_dir, i);
        st = dlc_tensor_file_write(path, v->name, &t);
        if (st != DLC_OK) rc = cli_status_error(st);
        free(t.data);
    }
    int num_inputs = g->num_inputs;
    free(sym_size);
    dlc_graph_free(g);
    snprintf(path, sizeof path, "%s/model.onnx", case_dir);
    if (rc == CLI_OK) rc = copy_file(model_path, path);
    /* ORT runs the copy, so a kept case is exactly what was compared */
    if (rc == CLI_OK) rc = run_ort(path, set_dir, num_inputs);
    return rc;
}
