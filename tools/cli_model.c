/* Loading a model for run/test/bench: a compiled .so as is, an .onnx compiled
 * into a temporary folder first; and the tensors a run reads and writes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "frontend/onnx_import.h"
#include "ir/op_registry.h"
#include "tools/cli.h"

static bool file_exists(const char *path) {
    struct stat st;
    if (stat(path, &st) != 0) {
        cli_error("cannot open '%s': %s", path, strerror(errno));
        return false;
    }
    if (!S_ISREG(st.st_mode)) {
        cli_error("'%s' is not a regular file", path);
        return false;
    }
    return true;
}

static bool shape_given(const cli_compile_settings *cs, const char *name) {
    for (int32_t i = 0; i < cs->num_shapes; i++)
        if (strcmp(cs->shapes[i].name, name) == 0) return true;
    return false;
}

/* Checks a tensor against a graph input and adds its shape to `settings`
 * when the input has symbolic dims. */
static int bind_from_tensor(const dlc_graph *g, const dlc_value *input, const dlc_owned_tensor *t, const char *path,
                            cli_compile_settings *settings) {
    const dlc_tensor *x = &t->tensor;
    char want[320], got[320], shape[256];
    snprintf(want, sizeof want, "%s%s", dlc_dtype_name(input->dtype), dlc_shape_format(g, &input->shape, shape, sizeof shape));
    cli_format_tensor_type(x->dtype, x->rank, x->dims, got, sizeof got);
    dlc_tensor relabelled = *x; /* a uint16 file may carry bfloat16 bits */
    cli_accept_bf16_bits(&relabelled, input->dtype);
    if (input->dtype != DLC_DTYPE_UNDEFINED && input->dtype != relabelled.dtype)
        return cli_error("input '%s' (from %s): got %s, the model expects %s", input->name, path, got, want);
    bool symbolic = input->shape.rank < 0;
    if (input->shape.rank >= 0) {
        if (input->shape.rank != x->rank)
            return cli_error("input '%s' (from %s): got %s, the model expects %s", input->name, path, got, want);
        for (int32_t d = 0; d < x->rank; d++) {
            if (!dlc_dim_is_static(input->shape.dims[d])) symbolic = true;
            else if (input->shape.dims[d].value != x->dims[d])
                return cli_error("input '%s' (from %s): got %s, the model expects %s", input->name, path, got, want);
        }
    }
    if (!symbolic || shape_given(settings, input->name) || settings->dynamic) return CLI_OK;
    if (settings->num_shapes >= (int32_t)(sizeof settings->shapes / sizeof settings->shapes[0]))
        return cli_error("too many inputs with symbolic shapes");
    dlc_input_shape *s = &settings->shapes[settings->num_shapes++];
    s->name = input->name; /* the graph outlives the compile call */
    s->rank = x->rank;
    memcpy(s->dims, x->dims, sizeof s->dims);
    return CLI_OK;
}

static int compile_to_temp(const char *onnx_path, const cli_compile_settings *cs, const cli_inputs *inputs,
                           cli_model *out) {
    dlc_graph *g;
    dlc_status st = dlc_onnx_import_file(onnx_path, &g);
    if (st != DLC_OK) return cli_status_error(st);
    /* sequence and optional inputs become tensor inputs first, so that the
     * run's (flattened) tensors match them by name */
    st = dlc_bind_input_sequences(g, cs->sequences, cs->num_sequences);
    if (st != DLC_OK) {
        dlc_graph_free(g);
        return cli_status_error(st);
    }
    cli_compile_settings settings = *cs;
    /* inputs that decide output shapes (a Reshape's shape, Slice's starts...)
     * are bound to the values given with --bind, else to the run's inputs;
     * the artifact refuses other values */
    cli_bound_inputs *bound = malloc(sizeof *bound);
    if (bound == NULL) {
        dlc_graph_free(g);
        return cli_error("out of memory");
    }
    int rc = cli_bound_inputs_resolve(g, cs, bound);
    dlc_input_value *values = bound->values;
    int32_t num_values = bound->count;
    if (rc == CLI_OK && inputs != NULL && inputs->count > 0) {
        const char **names = calloc((size_t)g->num_inputs + 1, sizeof *names);
        int *index = calloc((size_t)inputs->count + 1, sizeof *index);
        if (names == NULL || index == NULL) rc = cli_error("out of memory");
        for (int32_t i = 0; rc == CLI_OK && i < g->num_inputs; i++) names[i] = g->inputs[i]->name;
        if (rc == CLI_OK && !cli_match_inputs(names, g->num_inputs, inputs, index)) rc = CLI_ERROR;
        for (int t = 0; rc == CLI_OK && t < inputs->count; t++)
            rc = bind_from_tensor(g, g->inputs[index[t]], &inputs->tensors[t], inputs->paths[t], &settings);
        for (int t = 0; rc == CLI_OK && t < inputs->count && num_values < 64; t++)
            if (dlc_value_decides_shapes(g, g->inputs[index[t]]) &&
                !cli_bound_inputs_has(bound, g->inputs[index[t]]->name)) {
                values[num_values++] = (dlc_input_value){g->inputs[index[t]]->name, &inputs->tensors[t].tensor};
                if (!settings.quiet)
                    fprintf(stderr, "dlc: binding input '%s' to its value in %s (it decides output shapes)\n",
                            g->inputs[index[t]]->name, inputs->paths[t]);
            }
        free(names);
        free(index);
    }
    for (int32_t i = 0; rc == CLI_OK && (inputs == NULL || inputs->count == 0) && settings.batch > 0 &&
                        i < g->num_inputs && settings.num_shapes < 64;
         i++) {
        const dlc_value *in = g->inputs[i];
        bool only_dim0 = in->shape.rank >= 1 && !dlc_dim_is_static(in->shape.dims[0]);
        for (int32_t d = 1; only_dim0 && d < in->shape.rank; d++) only_dim0 = dlc_dim_is_static(in->shape.dims[d]);
        if (!only_dim0 || shape_given(&settings, in->name)) continue;
        dlc_input_shape *s = &settings.shapes[settings.num_shapes++];
        s->name = in->name;
        s->rank = in->shape.rank;
        s->dims[0] = settings.batch;
        for (int32_t d = 1; d < in->shape.rank; d++) s->dims[d] = in->shape.dims[d].value;
    }
    if (rc == CLI_OK) {
        snprintf(out->temp_dir, sizeof out->temp_dir, "%s/dlc-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        if (mkdtemp(out->temp_dir) == NULL) {
            rc = cli_error("cannot create a temporary folder '%s': %s", out->temp_dir, strerror(errno));
            out->temp_dir[0] = '\0';
        }
    }
    if (rc == CLI_OK) {
        snprintf(out->so_path, sizeof out->so_path, "%s/model.so", out->temp_dir);
        dlc_compile_options opts;
        dlc_compile_options_init(&opts);
        opts.opt_level = settings.opt_level;
        opts.cpu = settings.cpu;
        opts.input_shapes = settings.shapes;
        opts.num_input_shapes = settings.num_shapes;
        opts.input_values = values;
        opts.num_input_values = num_values;
        st = dlc_compile_graph(g, &opts, out->so_path);
        if (st != DLC_OK) rc = cli_status_error(st);
    }
    for (int32_t i = 0; rc == CLI_OK && i < num_values; i++) {
        size_t used = strlen(out->bound);
        snprintf(out->bound + used, sizeof out->bound - used, "%s%s", used > 0 ? ", " : "", values[i].name);
    }
    cli_bound_inputs_free(bound);
    free(bound);
    dlc_graph_free(g);
    return rc;
}

int cli_model_open(const char *path, const cli_compile_settings *cs, const cli_inputs *inputs, cli_model *out) {
    memset(out, 0, sizeof *out);
    if (!file_exists(path)) return CLI_ERROR;
    if (!cli_ends_with(path, ".so")) {
        int rc = compile_to_temp(path, cs, inputs, out);
        if (rc != CLI_OK) {
            cli_model_close(out);
            return rc;
        }
    } else {
        snprintf(out->so_path, sizeof out->so_path, "%s", path);
    }
    dlc_status st = dlc_model_load(out->so_path, &out->model);
    if (st != DLC_OK) {
        int rc = cli_status_error(st);
        cli_model_close(out);
        return rc;
    }
    return CLI_OK;
}

double *cli_node_flops(const dlc_model *model, const cli_bindings *b, char *why, size_t why_size) {
    double *flops = calloc((size_t)dlc_model_num_nodes(model) + 1, sizeof *flops);
    if (flops == NULL) {
        snprintf(why, why_size, "out of memory");
        return NULL;
    }
    if (dlc_model_node_flops_at(model, b->inputs, b->num_inputs, flops) != DLC_OK) {
        snprintf(why, why_size, "%s", dlc_last_error());
        free(flops);
        return NULL;
    }
    return flops;
}

void cli_model_close(cli_model *m) {
    if (m->model != NULL) dlc_model_free(m->model);
    m->model = NULL;
    if (m->temp_dir[0] != '\0') {
        unlink(m->so_path);
        rmdir(m->temp_dir);
        m->temp_dir[0] = '\0';
    }
}

/* ---- bindings ---- */

static void *alloc_buffer(size_t nbytes) {
    size_t rounded = (nbytes + 63) & ~(size_t)63;
    if (rounded == 0) rounded = 64;
    void *p = aligned_alloc(64, rounded);
    if (p != NULL) memset(p, 0, rounded);
    return p;
}

static bool keep(cli_bindings *b, void *p) {
    if (p == NULL) return false;
    b->owned[b->num_owned++] = p;
    return true;
}

static bool tensor_bytes(dlc_dtype dtype, int32_t rank, const int64_t *dims, size_t *out) {
    uint64_t n = dlc_dtype_size(dtype);
    if (n == 0) return false;
    for (int32_t i = 0; i < rank; i++) {
        if (dims[i] < 0) return false;
        if (dims[i] != 0 && n > UINT64_MAX / 4 / (uint64_t)dims[i]) return false;
        n *= (uint64_t)dims[i];
    }
    *out = (size_t)n;
    return true;
}

/* Deterministic data for benchmarks: small floats, zero integers (valid indices). */
static void fill_synthetic(dlc_tensor *t) {
    size_t n = t->size_bytes / (dlc_dtype_size(t->dtype) ? dlc_dtype_size(t->dtype) : 1);
    uint32_t state = 12345u;
    if (t->dtype == DLC_FLOAT32) {
        float *f = t->data;
        for (size_t i = 0; i < n; i++) {
            state = state * 1664525u + 1013904223u;
            f[i] = (float)(state >> 8) / 16777216.0f - 0.5f;
        }
    } else if (t->dtype == DLC_FLOAT64) {
        double *f = t->data;
        for (size_t i = 0; i < n; i++) {
            state = state * 1664525u + 1013904223u;
            f[i] = (double)(state >> 8) / 16777216.0 - 0.5;
        }
    }
}

/* The actual size of symbolic dim `name` as given by the inputs. */
static bool resolve_symbol(const dlc_model *model, const cli_bindings *b, const char *name, int64_t *out) {
    if (name == NULL) return false;
    for (int i = 0; i < b->num_inputs; i++) {
        dlc_tensor_info info;
        if (dlc_model_input(model, i, &info) != DLC_OK) continue;
        for (int32_t d = 0; d < info.rank && d < b->inputs[i].rank; d++)
            if (info.dims[d] < 0 && info.dim_names[d] != NULL && strcmp(info.dim_names[d], name) == 0) {
                *out = b->inputs[i].dims[d];
                return true;
            }
    }
    return false;
}

static void format_info(const dlc_tensor_info *info, char *buf, size_t size) {
    size_t used = (size_t)snprintf(buf, size, "%s[", dlc_dtype_name(info->dtype));
    for (int32_t i = 0; i < info->rank && used < size; i++) {
        if (info->dims[i] >= 0) used += (size_t)snprintf(buf + used, size - used, "%s%lld", i ? "," : "", (long long)info->dims[i]);
        else used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? "," : "", info->dim_names[i] ? info->dim_names[i] : "?");
    }
    if (used < size) snprintf(buf + used, size - used, "]");
}

int cli_bindings_prepare(const dlc_model *model, const cli_inputs *inputs, int64_t batch, cli_bindings *b) {
    memset(b, 0, sizeof *b);
    b->num_inputs = dlc_model_num_inputs(model);
    b->num_outputs = dlc_model_num_outputs(model);
    if (b->num_inputs < 0 || b->num_outputs < 0) return cli_error("the model describes no inputs or outputs");
    b->inputs = calloc((size_t)b->num_inputs + 1, sizeof *b->inputs);
    b->outputs = calloc((size_t)b->num_outputs + 1, sizeof *b->outputs);
    b->output_infos = calloc((size_t)b->num_outputs + 1, sizeof *b->output_infos);
    b->owned = calloc((size_t)(b->num_inputs + b->num_outputs) + 1, sizeof *b->owned);
    if (b->inputs == NULL || b->outputs == NULL || b->output_infos == NULL || b->owned == NULL)
        return cli_error("out of memory");

    char want[320], got[320];
    if (inputs != NULL) {
        const char **names = calloc((size_t)b->num_inputs + 1, sizeof *names);
        int *index = calloc((size_t)inputs->count + 1, sizeof *index);
        dlc_tensor_info *infos = calloc((size_t)b->num_inputs + 1, sizeof *infos);
        int rc = names && index && infos ? CLI_OK : cli_error("out of memory");
        for (int i = 0; rc == CLI_OK && i < b->num_inputs; i++) {
            if (dlc_model_input(model, i, &infos[i]) != DLC_OK) rc = cli_status_error(DLC_ERR_INTERNAL);
            else names[i] = infos[i].name;
        }
        if (rc == CLI_OK && !cli_match_inputs(names, b->num_inputs, inputs, index)) rc = CLI_ERROR;
        for (int t = 0; rc == CLI_OK && t < inputs->count; t++) {
            const dlc_tensor_info *info = &infos[index[t]];
            dlc_tensor *x = &b->inputs[index[t]];
            *x = inputs->tensors[t].tensor;
            cli_accept_bf16_bits(x, info->dtype); /* bfloat16 test data comes as uint16 */
            bool ok = info->dtype == x->dtype && info->rank == x->rank;
            for (int32_t d = 0; ok && d < x->rank; d++) ok = info->dims[d] < 0 || info->dims[d] == x->dims[d];
            if (!ok) {
                format_info(info, want, sizeof want);
                cli_format_tensor_type(x->dtype, x->rank, x->dims, got, sizeof got);
                rc = cli_error("input '%s' (from %s): got %s, the model expects %s", info->name, inputs->paths[t], got,
                               want);
            }
        }
        free(names);
        free(index);
        free(infos);
        if (rc != CLI_OK) return rc;
    } else {
        for (int i = 0; i < b->num_inputs; i++) {
            dlc_tensor_info info;
            if (dlc_model_input(model, i, &info) != DLC_OK) return cli_status_error(DLC_ERR_INTERNAL);
            dlc_tensor *t = &b->inputs[i];
            t->dtype = info.dtype;
            t->rank = info.rank;
            memcpy(t->dims, info.dims, sizeof t->dims);
            if (batch > 0 && t->rank >= 1 && t->dims[0] >= 0 && t->dims[0] != batch) {
                format_info(&info, want, sizeof want);
                return cli_error("--batch %lld: input '%s' %s has a fixed batch (export it with a dynamic batch axis)",
                                 (long long)batch, info.name, want);
            }
            if (batch > 0 && t->rank >= 1) t->dims[0] = batch;
            if (!tensor_bytes(t->dtype, t->rank, t->dims, &t->size_bytes)) {
                format_info(&info, want, sizeof want);
                return cli_error("input '%s' %s has symbolic dims or an unsupported dtype: give data with -i FILE.pb",
                                 info.name, want);
            }
            if (!keep(b, t->data = alloc_buffer(t->size_bytes))) return cli_error("out of memory");
            fill_synthetic(t);
        }
    }

    /* a model compiled for every size: the output dims these inputs give
     * (and a message naming the dim when the inputs disagree) */
    bool symbolic_outputs = false;
    for (int o = 0; o < b->num_outputs; o++) {
        dlc_tensor_info info;
        if (dlc_model_output(model, o, &info) != DLC_OK) return cli_status_error(DLC_ERR_INTERNAL);
        for (int32_t d = 0; d < info.rank; d++) symbolic_outputs = symbolic_outputs || info.dims[d] < 0;
    }
    if (symbolic_outputs) {
        dlc_status st = dlc_model_infer_outputs(model, b->inputs, b->num_inputs, b->outputs, b->num_outputs);
        if (st != DLC_OK) return cli_status_error(st);
    }
    for (int o = 0; o < b->num_outputs; o++) {
        dlc_tensor_info *info = &b->output_infos[o];
        if (dlc_model_output(model, o, info) != DLC_OK) return cli_status_error(DLC_ERR_INTERNAL);
        dlc_tensor *t = &b->outputs[o];
        int64_t inferred[DLC_MAX_RANK];
        memcpy(inferred, t->dims, sizeof inferred);
        t->dtype = info->dtype;
        t->rank = info->rank;
        for (int32_t d = 0; d < info->rank; d++) {
            t->dims[d] = info->dims[d] >= 0 || !symbolic_outputs ? info->dims[d] : inferred[d];
            if (t->dims[d] < 0 && !resolve_symbol(model, b, info->dim_names[d], &t->dims[d])) {
                format_info(info, want, sizeof want);
                return cli_error("output '%s' %s: dim '%s' is not set by any input", info->name, want,
                                 info->dim_names[d] ? info->dim_names[d] : "?");
            }
        }
        if (!tensor_bytes(t->dtype, t->rank, t->dims, &t->size_bytes))
            return cli_error("output '%s': unsupported dtype %s or size", info->name, dlc_dtype_name(info->dtype));
        if (!keep(b, t->data = alloc_buffer(t->size_bytes))) return cli_error("out of memory");
    }
    return CLI_OK;
}

void cli_bindings_free(cli_bindings *b) {
    for (int i = 0; i < b->num_owned; i++) free(b->owned[i]);
    free(b->owned);
    free(b->inputs);
    free(b->outputs);
    free(b->output_infos);
    memset(b, 0, sizeof *b);
}

int cli_timed_model_open(const char *path, cli_compile_settings *cs, char *const *input_paths, int num_inputs,
                         int64_t batch, int64_t threads, cli_timed_model *out) {
    memset(out, 0, sizeof *out);
    const cli_inputs *given = num_inputs > 0 ? &out->inputs : NULL;
    if (num_inputs > 0 && !cli_inputs_read(&out->inputs, input_paths, num_inputs)) return CLI_ERROR;
    if (num_inputs > 0 && batch > 0 && !cli_inputs_tile_batch(&out->inputs, batch)) return CLI_ERROR;
    cs->batch = batch;
    int rc = cli_model_open(path, cs, given, &out->model);
    if (rc == CLI_OK) rc = cli_bindings_prepare(out->model.model, given, batch, &out->bindings);
    if (rc == CLI_OK) {
        dlc_session_options so = {.num_threads = (int32_t)threads};
        dlc_status st = dlc_session_create(out->model.model, &so, &out->session);
        if (st != DLC_OK) rc = cli_status_error(st);
    }
    return rc;
}

void cli_timed_model_close(cli_timed_model *t) {
    if (t->session != NULL) dlc_session_free(t->session);
    cli_bindings_free(&t->bindings);
    cli_model_close(&t->model);
    cli_inputs_free(&t->inputs);
    memset(t, 0, sizeof *t);
}
