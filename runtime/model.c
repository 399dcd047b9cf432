/* Loading a compiled model: dlopen, find the one entry point, check that the
 * descriptor is ours (magic, ABI version) and that this CPU can run the code,
 * then keep a copy of its input/output tables. */
#include <dlfcn.h>
#include <stdbool.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "runtime/elf_check.h"
#include "runtime/model_internal.h"
#include "runtime/status.h"

const char *dlc_format_tensor_type(dlc_dtype dtype, int32_t rank, const int64_t *dims, char *buf, size_t size) {
    size_t used = (size_t)snprintf(buf, size, "%s[", dlc_dtype_name(dtype));
    for (int32_t d = 0; d < rank && used < size; d++)
        used += (size_t)snprintf(buf + used, size - used, d ? ",%lld" : "%lld", (long long)dims[d]);
    if (used < size) snprintf(buf + used, size - used, "]");
    return buf;
}

/* CPU features this machine has, as DLC_CPU_* bits. */
static uint64_t host_cpu_features(void) {
    uint64_t bits = 0;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("sse4.2")) bits |= DLC_CPU_SSE4_2;
    if (__builtin_cpu_supports("avx")) bits |= DLC_CPU_AVX;
    if (__builtin_cpu_supports("avx2")) bits |= DLC_CPU_AVX2;
    if (__builtin_cpu_supports("fma")) bits |= DLC_CPU_FMA;
    if (__builtin_cpu_supports("f16c")) bits |= DLC_CPU_F16C;
    if (__builtin_cpu_supports("avx512f")) bits |= DLC_CPU_AVX512F;
    if (__builtin_cpu_supports("avx512bw")) bits |= DLC_CPU_AVX512BW;
    if (__builtin_cpu_supports("avx512dq")) bits |= DLC_CPU_AVX512DQ;
    if (__builtin_cpu_supports("avx512vl")) bits |= DLC_CPU_AVX512VL;
    if (__builtin_cpu_supports("avx512vnni")) bits |= DLC_CPU_AVX512VNNI;
    if (__builtin_cpu_supports("avx512bf16")) bits |= DLC_CPU_AVX512BF16;
    if (__builtin_cpu_supports("avx512fp16")) bits |= DLC_CPU_AVX512FP16;
    if (__builtin_cpu_supports("bmi2")) bits |= DLC_CPU_BMI2;
    if (__builtin_cpu_supports("popcnt")) bits |= DLC_CPU_POPCNT;
#endif
    return bits;
}

static const char *const cpu_feature_names[] = {
    "sse4.2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512dq",
    "avx512vl", "avx512vnni", "avx512bf16", "avx512fp16", "bmi2", "popcnt",
};

static dlc_status check_cpu(const dlc_model *model) {
    uint64_t missing = model->desc->required_cpu_features & ~host_cpu_features();
    if (missing == 0) return DLC_OK;
    char list[256] = "";
    size_t used = 0;
    for (size_t i = 0; i < sizeof cpu_feature_names / sizeof cpu_feature_names[0]; i++)
        if (missing & (1ull << i))
            used += (size_t)snprintf(list + used, used < sizeof list ? sizeof list - used : 0, "%s%s",
                                     used ? " " : "", cpu_feature_names[i]);
    if (missing >> (sizeof cpu_feature_names / sizeof cpu_feature_names[0]))
        snprintf(list + strlen(list), sizeof list - strlen(list), "%sunknown bits", list[0] ? " " : "");
    return dlc_fail(DLC_ERR_INCOMPATIBLE,
                    "model '%s' was compiled for CPU %s and needs features this CPU lacks: %s; recompile it with "
                    "--cpu native (or an older level such as x86-64-v2)",
                    model->path, model->desc->target_cpu ? model->desc->target_cpu : "?", list);
}

static dlc_status check_descriptor(const dlc_model *model) {
    const dlc_artifact_desc *d = model->desc;
    if (d == NULL || d->magic != DLC_ARTIFACT_MAGIC)
        return dlc_fail(DLC_ERR_INCOMPATIBLE, "'%s' is not a dlc model (bad descriptor magic)", model->path);
    if (d->abi_version != DLC_ARTIFACT_ABI_VERSION)
        return dlc_fail(DLC_ERR_INCOMPATIBLE,
                        "model '%s' has artifact ABI version %u, this runtime (dlc %s) reads version %u; recompile "
                        "the model with a matching dlc",
                        model->path, d->abi_version, DLC_VERSION_STRING, DLC_ARTIFACT_ABI_VERSION);
    if (d->num_inputs < 0 || d->num_outputs < 0 || d->num_nodes < 0 || d->run == NULL ||
        (d->num_inputs > 0 && d->inputs == NULL) || (d->num_outputs > 0 && d->outputs == NULL) ||
        d->arena_alignment < 64 || (d->arena_alignment & (d->arena_alignment - 1)) != 0 || d->num_symbols < 0 ||
        d->num_symbols > DLC_MAX_RANK * 4 ||
        (d->num_symbols > 0 && (d->shapes == NULL || d->symbol_names == NULL || d->symbol_min == NULL)))
        return dlc_fail(DLC_ERR_PARSE, "model '%s' has a malformed descriptor", model->path);
    return DLC_OK;
}

static dlc_status copy_table(const dlc_model *model, const dlc_artifact_tensor *table, int32_t count,
                             const char *what, dlc_tensor_info **out) {
    *out = calloc((size_t)count + 1, sizeof **out);
    if (*out == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "model '%s': %s table", model->path, what);
    for (int32_t i = 0; i < count; i++) {
        const dlc_artifact_tensor *t = &table[i];
        if (t->rank < 0 || t->rank > DLC_MAX_RANK || (t->rank > 0 && t->dims == NULL))
            return dlc_fail(DLC_ERR_PARSE, "model '%s': %s %d has a malformed shape", model->path, what, i);
        dlc_tensor_info *info = &(*out)[i];
        info->name = t->name ? t->name : "";
        info->dtype = (dlc_dtype)t->dtype;
        info->rank = t->rank;
        /* only outputs may have data-dependent extents; bits past the rank mean a broken artifact */
        if (t->bounded_dims != 0 && (strcmp(what, "output") != 0 || (t->bounded_dims >> t->rank) != 0))
            return dlc_fail(DLC_ERR_PARSE, "model '%s': %s %d has malformed bounded dims", model->path, what, i);
        info->bounded_dims = t->bounded_dims;
        for (int32_t d = 0; d < t->rank; d++) {
            info->dims[d] = t->dims[d];
            info->dim_names[d] = t->dim_names ? t->dim_names[d] : NULL;
        }
    }
    return DLC_OK;
}

void dlc_model_free(dlc_model *model) {
    if (model == NULL) return;
    free(model->inputs);
    free(model->outputs);
    free(model->path);
    if (model->handle != NULL) dlclose(model->handle);
    free(model);
}

static dlc_status open_artifact(dlc_model *model) {
    struct stat st;
    if (stat(model->path, &st) != 0)
        return dlc_fail(errno == ENOENT ? DLC_ERR_NOT_FOUND : DLC_ERR_IO, "cannot open model '%s': %s", model->path,
                        strerror(errno));
    DLC_TRY(dlc_elf_check_shared_object(model->path));
    /* dlopen searches the library path for names without a '/' */
    char local[4096];
    const char *open_path = model->path;
    if (strchr(model->path, '/') == NULL) {
        snprintf(local, sizeof local, "./%s", model->path);
        open_path = local;
    }
    model->handle = dlopen(open_path, RTLD_NOW | RTLD_LOCAL);
    if (model->handle == NULL) {
        const char *why = dlerror();
        return dlc_fail(DLC_ERR_PARSE, "cannot load model '%s': %s", model->path, why ? why : "unknown error");
    }
    /* The model pulls in libgomp, whose worker threads outlive a run. If the
     * last model were unloaded, dlclose would unmap libgomp under those
     * parked threads and the process would crash at exit; pinning libgomp
     * (RTLD_NOLOAD: only if the model loaded it) keeps its code mapped. */
    (void)dlopen("libgomp.so.1", RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
    dlerror();
    void *entry = dlsym(model->handle, DLC_ARTIFACT_ENTRY);
    if (entry == NULL)
        return dlc_fail(DLC_ERR_INCOMPATIBLE, "'%s' is not a dlc model: it has no '%s' entry point", model->path,
                        DLC_ARTIFACT_ENTRY);
    dlc_artifact_describe_fn describe;
    memcpy(&describe, &entry, sizeof describe); /* object pointer → function pointer, as POSIX allows */
    model->desc = describe();
    void *max_threads = dlsym(model->handle, "omp_get_max_threads");
    if (max_threads != NULL) memcpy(&model->omp_get_max_threads, &max_threads, sizeof max_threads);
    return DLC_OK;
}

dlc_status dlc_model_load(const char *path, dlc_model **out_model) {
    if (out_model == NULL) return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "dlc_model_load: out_model is NULL");
    *out_model = NULL;
    if (path == NULL) return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "dlc_model_load: path is NULL");
    dlc_model *model = calloc(1, sizeof *model);
    if (model == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "loading model '%s'", path);
    model->path = strdup(path);
    dlc_status st = model->path ? DLC_OK : dlc_fail(DLC_ERR_OUT_OF_MEMORY, "loading model '%s'", path);
    if (st == DLC_OK) st = open_artifact(model);
    if (st == DLC_OK) st = check_descriptor(model);
    if (st == DLC_OK) st = check_cpu(model);
    if (st == DLC_OK) st = copy_table(model, model->desc->inputs, model->desc->num_inputs, "input", &model->inputs);
    if (st == DLC_OK)
        st = copy_table(model, model->desc->outputs, model->desc->num_outputs, "output", &model->outputs);
    if (st != DLC_OK) {
        dlc_model_free(model);
        return st;
    }
    *out_model = model;
    return DLC_OK;
}

int dlc_model_num_inputs(const dlc_model *model) { return model ? model->desc->num_inputs : 0; }
int dlc_model_num_outputs(const dlc_model *model) { return model ? model->desc->num_outputs : 0; }

static dlc_status get_info(const dlc_model *model, int index, dlc_tensor_info *out_info, bool input) {
    const char *what = input ? "input" : "output";
    if (model == NULL || out_info == NULL)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "dlc_model_%s: NULL argument", what);
    int count = input ? model->desc->num_inputs : model->desc->num_outputs;
    if (index < 0 || index >= count)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "model '%s': %s index %d is out of range (it has %d)", model->path,
                        what, index, count);
    *out_info = input ? model->inputs[index] : model->outputs[index];
    return DLC_OK;
}

dlc_status dlc_model_input(const dlc_model *model, int index, dlc_tensor_info *out_info) {
    return get_info(model, index, out_info, true);
}
dlc_status dlc_model_output(const dlc_model *model, int index, dlc_tensor_info *out_info) {
    return get_info(model, index, out_info, false);
}

static dlc_status find_by_name(const dlc_model *model, const char *name, int *out_index, bool input) {
    const char *what = input ? "input" : "output";
    if (model == NULL || name == NULL || out_index == NULL)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "dlc_model_find_%s: NULL argument", what);
    *out_index = -1;
    int count = input ? model->desc->num_inputs : model->desc->num_outputs;
    const dlc_tensor_info *table = input ? model->inputs : model->outputs;
    for (int i = 0; i < count; i++)
        if (strcmp(table[i].name, name) == 0) {
            *out_index = i;
            return DLC_OK;
        }
    char names[512] = "";
    size_t used = 0;
    for (int i = 0; i < count && used < sizeof names; i++)
        used += (size_t)snprintf(names + used, sizeof names - used, "%s'%s'", i ? ", " : "", table[i].name);
    return dlc_fail(DLC_ERR_NOT_FOUND, "model '%s' has no %s named '%s' (its %ss: %s)", model->path, what, name, what,
                    count ? names : "none");
}

dlc_status dlc_model_find_input(const dlc_model *model, const char *name, int *out_index) {
    return find_by_name(model, name, out_index, true);
}
dlc_status dlc_model_find_output(const dlc_model *model, const char *name, int *out_index) {
    return find_by_name(model, name, out_index, false);
}

const char *dlc_model_target(const dlc_model *model) {
    return model && model->desc->target_cpu ? model->desc->target_cpu : "";
}

int dlc_model_num_nodes(const dlc_model *model) { return model ? model->desc->num_nodes : 0; }

const char *dlc_model_node_name(const dlc_model *model, int index) {
    if (model == NULL || index < 0 || index >= model->desc->num_nodes || model->desc->node_names == NULL) return NULL;
    return model->desc->node_names[index];
}

double dlc_model_node_flops(const dlc_model *model, int index) {
    if (model == NULL || index < 0 || index >= model->desc->num_nodes || model->desc->node_flops == NULL ||
        model->desc->num_symbols > 0)
        return 0.0;
    return model->desc->node_flops[index];
}
