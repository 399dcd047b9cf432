/* Sessions: the arena and pointer tables one run needs, allocated once, so
 * that dlc_session_run checks its arguments and calls the model without
 * touching the heap. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/bound_inputs.h"
#include "runtime/model_internal.h"
#include "runtime/status.h"
#include "runtime/symbols.h"

struct dlc_session {
    const dlc_model *model;
    void *arena;
    int32_t num_threads;
    const void **input_ptrs;
    void **output_ptrs;
    /* num_outputs * DLC_ARTIFACT_MAX_RANK: each output's dims after the last
     * successful run (the descriptor's before any), written by the artifact */
    int64_t *output_dims;
    uint64_t arena_capacity;    /* bytes allocated (a model with symbolic dims grows it) */
    dlc_tensor_info *in_infos;  /* this run's shapes (symbols resolved) */
    dlc_tensor_info *out_infos;
    int64_t symbols[DLC_MAX_RANK * 4];
    uint64_t *stamps; /* num_nodes + 1 clock stamps for dlc_session_run_profiled */
};

/* Every output's dims back to the descriptor's (bounds included). */
static void reset_output_dims(dlc_session *s) {
    for (int32_t i = 0; i < s->model->desc->num_outputs; i++)
        memcpy(s->output_dims + (size_t)i * DLC_ARTIFACT_MAX_RANK, s->model->outputs[i].dims,
               DLC_ARTIFACT_MAX_RANK * sizeof *s->output_dims);
}

static int32_t default_threads(const dlc_model *model) {
    if (model->omp_get_max_threads != NULL) {
        int n = model->omp_get_max_threads(); /* honours OMP_NUM_THREADS */
        if (n >= 1) return n;
    }
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    return cpus >= 1 && cpus <= INT32_MAX ? (int32_t)cpus : 1;
}

/* Makes the arena hold at least size bytes (allocating only to grow). */
static dlc_status grow_arena(dlc_session *s, uint64_t size) {
    if (s->arena != NULL && size <= s->arena_capacity) return DLC_OK;
    /* aligned_alloc wants a multiple of the alignment; never 0 bytes */
    uint64_t align = s->model->desc->arena_alignment;
    uint64_t rounded = size > UINT64_MAX - align ? 0 : (size + align - 1) / align * align;
    if (rounded == 0) rounded = align;
    void *arena = rounded <= SIZE_MAX && size <= SIZE_MAX - align ? aligned_alloc((size_t)align, (size_t)rounded) : NULL;
    if (arena == NULL)
        return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "model '%s': cannot allocate the session's arena of %llu bytes",
                        s->model->path, (unsigned long long)size);
    free(s->arena);
    s->arena = arena;
    s->arena_capacity = rounded;
    return DLC_OK;
}

void dlc_session_free(dlc_session *session) {
    if (session == NULL) return;
    free(session->arena);
    free(session->input_ptrs);
    free(session->output_ptrs);
    free(session->output_dims);
    free(session->in_infos);
    free(session->out_infos);
    free(session->stamps);
    free(session);
}

dlc_status dlc_session_create(const dlc_model *model, const dlc_session_options *options,
                              dlc_session **out_session) {
    if (out_session == NULL) return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "dlc_session_create: out_session is NULL");
    *out_session = NULL;
    if (model == NULL) return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "dlc_session_create: model is NULL");
    if (options != NULL && options->num_threads < 0)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "dlc_session_create: num_threads %d is negative",
                        options->num_threads);
    const dlc_artifact_desc *desc = model->desc;
    dlc_session *s = calloc(1, sizeof *s);
    if (s == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "session for model '%s'", model->path);
    s->model = model;
    s->num_threads = options != NULL && options->num_threads > 0 ? options->num_threads : default_threads(model);
    s->input_ptrs = calloc((size_t)desc->num_inputs + 1, sizeof *s->input_ptrs);
    s->output_ptrs = calloc((size_t)desc->num_outputs + 1, sizeof *s->output_ptrs);
    s->output_dims = calloc(((size_t)desc->num_outputs + 1) * DLC_ARTIFACT_MAX_RANK, sizeof *s->output_dims);
    s->in_infos = calloc((size_t)desc->num_inputs + 1, sizeof *s->in_infos);
    s->out_infos = calloc((size_t)desc->num_outputs + 1, sizeof *s->out_infos);
    s->stamps = calloc((size_t)desc->num_nodes + 1, sizeof *s->stamps);
    dlc_status st = s->input_ptrs && s->output_ptrs && s->output_dims && s->in_infos && s->out_infos && s->stamps
                        ? DLC_OK
                        : dlc_fail(DLC_ERR_OUT_OF_MEMORY, "session for model '%s'", model->path);
    if (st == DLC_OK) st = grow_arena(s, desc->arena_size);
    if (st != DLC_OK) {
        dlc_session_free(s);
        return st;
    }
    reset_output_dims(s);
    *out_session = s;
    return DLC_OK;
}

dlc_status dlc_session_reserve(dlc_session *session, const dlc_tensor *inputs, int num_inputs) {
    if (session == NULL || (num_inputs > 0 && inputs == NULL))
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "dlc_session_reserve: NULL argument");
    const dlc_model *model = session->model;
    if (num_inputs != model->desc->num_inputs)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "model '%s' takes %d inputs, got %d", model->path,
                        model->desc->num_inputs, num_inputs);
    uint64_t arena_size;
    DLC_TRY(dlc_resolve_shapes(model, inputs, session->in_infos, session->out_infos, session->symbols, &arena_size));
    return grow_arena(session, arena_size);
}

dlc_status dlc_session_set_num_threads(dlc_session *session, int32_t num_threads) {
    if (session == NULL) return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "dlc_session_set_num_threads: session is NULL");
    if (num_threads < 0)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "dlc_session_set_num_threads: %d is negative", num_threads);
    session->num_threads = num_threads > 0 ? num_threads : default_threads(session->model);
    return DLC_OK;
}

/* Bytes of a tensor of this type, or 0 with *ok = false on overflow. */
static size_t tensor_bytes(dlc_dtype dtype, int32_t rank, const int64_t *dims, bool *ok) {
    size_t bytes = dlc_dtype_size(dtype);
    *ok = true;
    for (int32_t d = 0; d < rank; d++) {
        if (dims[d] < 0 || (dims[d] > 0 && bytes > SIZE_MAX / (uint64_t)dims[d])) {
            *ok = false;
            return 0;
        }
        bytes *= (size_t)dims[d];
    }
    return bytes;
}

static bool same_type(const dlc_tensor *t, const dlc_tensor_info *info) {
    if (t->dtype != info->dtype || t->rank != info->rank) return false;
    for (int32_t d = 0; d < info->rank; d++)
        if (t->dims[d] != info->dims[d]) return false;
    return true;
}

static dlc_status check_tensor(const dlc_model *model, const dlc_tensor *t, const dlc_tensor_info *info,
                               const char *what, bool is_output) {
    char want[256], got[256];
    dlc_format_tensor_type(info->dtype, info->rank, info->dims, want, sizeof want);
    /* outputs: an unset type (rank 0, dtype undefined) is filled in by the run */
    bool unset_output = is_output && t->rank == 0 && (t->dtype == DLC_DTYPE_UNDEFINED || t->dtype == info->dtype);
    if (!unset_output) {
        if (t->rank < 0 || t->rank > DLC_MAX_RANK)
            return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "%s '%s': rank %d is out of range (expected %s)", what,
                            info->name, t->rank, want);
        dlc_format_tensor_type(t->dtype, t->rank, t->dims, got, sizeof got);
        if (t->dtype != info->dtype)
            return dlc_fail(DLC_ERR_DTYPE_MISMATCH, "%s '%s': expected %s, got %s", what, info->name, want, got);
        if (!same_type(t, info))
            return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "%s '%s': expected %s, got %s", what, info->name, want, got);
    }
    bool ok;
    size_t needed = tensor_bytes(info->dtype, info->rank, info->dims, &ok);
    if (!ok) return dlc_fail(DLC_ERR_INTERNAL, "%s '%s': size of %s overflows", what, info->name, want);
    if (t->size_bytes < needed)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "%s '%s' %s: buffer has %zu bytes, needs %zu", what, info->name,
                        want, t->size_bytes, needed);
    if (t->data == NULL && needed > 0)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "%s '%s' %s: data is NULL", what, info->name, want);
    (void)model;
    return DLC_OK;
}

/* The artifact's reported dims must fit the buffers the caller sized from
 * the descriptor: only bounded dims may differ, and only downwards. */
static dlc_status check_output_dims(dlc_session *session) {
    const dlc_model *model = session->model;
    for (int32_t i = 0; i < model->desc->num_outputs; i++) {
        const dlc_tensor_info *info = &session->out_infos[i]; /* symbolic dims resolved for this run */
        const int64_t *got = session->output_dims + (size_t)i * DLC_ARTIFACT_MAX_RANK;
        for (int32_t d = 0; d < info->rank; d++) {
            bool bounded = (info->bounded_dims >> d) & 1u;
            if (got[d] == info->dims[d] || (bounded && got[d] >= 0 && got[d] <= info->dims[d])) continue;
            char want[256];
            dlc_format_tensor_type(info->dtype, info->rank, info->dims, want, sizeof want);
            dlc_status st = dlc_fail(DLC_ERR_INTERNAL,
                                     "model '%s': output '%s' %s: the run reported extent %lld for dim %d, which "
                                     "does not fit its %s %lld",
                                     model->path, info->name, want, (long long)got[d], d,
                                     bounded ? "bound" : "static size", (long long)info->dims[d]);
            reset_output_dims(session);
            return st;
        }
    }
    return DLC_OK;
}

static const char *kernel_error_name(int32_t code) {
    switch (code) {
    case 1: return "index out of range";
    case 2: return "bad value in the data";
    case 3: return "unsupported dtype or attribute combination";
    case 4: return "the input differs from the value bound at compile time (dlc compile --bind); recompile to change it";
    default: return "unknown kernel error";
    }
}

/* A run; stamps (num_nodes + 1 entries) receives clock stamps when not NULL. */
static dlc_status session_run(dlc_session *session, const dlc_tensor *inputs, int num_inputs, dlc_tensor *outputs,
                              int num_outputs, uint64_t *stamps) {
    if (session == NULL) return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "dlc_session_run: session is NULL");
    const dlc_model *model = session->model;
    const dlc_artifact_desc *desc = model->desc;
    if (num_inputs != desc->num_inputs || num_outputs != desc->num_outputs)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "model '%s' takes %d inputs and %d outputs, got %d and %d",
                        model->path, desc->num_inputs, desc->num_outputs, num_inputs, num_outputs);
    if ((num_inputs > 0 && inputs == NULL) || (num_outputs > 0 && outputs == NULL))
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "dlc_session_run: inputs or outputs is NULL");
    /* a model with symbolic dims: their values from the inputs, every size from them */
    uint64_t arena_size;
    DLC_TRY(dlc_resolve_shapes(model, inputs, session->in_infos, session->out_infos, session->symbols, &arena_size));
    for (int i = 0; i < num_inputs; i++) {
        DLC_TRY(check_tensor(model, &inputs[i], &session->in_infos[i], "input", false));
        session->input_ptrs[i] = inputs[i].data;
    }
    for (int i = 0; i < num_outputs; i++) {
        DLC_TRY(check_tensor(model, &outputs[i], &session->out_infos[i], "output", true));
        session->output_ptrs[i] = outputs[i].data;
    }
    DLC_TRY(grow_arena(session, arena_size));
    DLC_TRY(dlc_check_bound_inputs(model, inputs));
    dlc_artifact_run_args args = {
        .arena = session->arena,
        .inputs = session->input_ptrs,
        .outputs = session->output_ptrs,
        .num_threads = session->num_threads,
        .failed_node = -1,
        .output_dims = session->output_dims,
        .symbols = desc->num_symbols > 0 ? session->symbols : NULL,
        .node_stamps = stamps,
    };
    int32_t rc = desc->run(&args);
    if (rc != 0) {
        reset_output_dims(session);
        const char *node = args.failed_node >= 0 && args.failed_node < desc->num_nodes && desc->node_names
                               ? desc->node_names[args.failed_node]
                               : "?";
        return dlc_fail(DLC_ERR_RUNTIME, "model '%s': node %d '%s' failed: %s (kernel error %d)", model->path,
                        args.failed_node, node, kernel_error_name(rc), rc);
    }
    DLC_TRY(check_output_dims(session));
    for (int i = 0; i < num_outputs; i++) {
        const dlc_tensor_info *info = &session->out_infos[i];
        outputs[i].dtype = info->dtype;
        outputs[i].rank = info->rank;
        memset(outputs[i].dims, 0, sizeof outputs[i].dims);
        memcpy(outputs[i].dims, session->output_dims + (size_t)i * DLC_ARTIFACT_MAX_RANK,
               (size_t)info->rank * sizeof outputs[i].dims[0]);
    }
    return DLC_OK;
}

dlc_status dlc_session_run(dlc_session *session, const dlc_tensor *inputs, int num_inputs, dlc_tensor *outputs,
                           int num_outputs) {
    return session_run(session, inputs, num_inputs, outputs, num_outputs, NULL);
}

dlc_status dlc_session_run_profiled(dlc_session *session, const dlc_tensor *inputs, int num_inputs,
                                    dlc_tensor *outputs, int num_outputs, double *node_seconds) {
    if (session == NULL || node_seconds == NULL)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "dlc_session_run_profiled: session or node_seconds is NULL");
    DLC_TRY(session_run(session, inputs, num_inputs, outputs, num_outputs, session->stamps));
    for (int32_t i = 0; i < session->model->desc->num_nodes; i++)
        node_seconds[i] = (double)(session->stamps[i + 1] - session->stamps[i]) * 1e-9;
    return DLC_OK;
}

dlc_status dlc_session_output_shape(const dlc_session *session, int index, int32_t *out_rank, int64_t *out_dims) {
    if (session == NULL || out_rank == NULL || out_dims == NULL)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "dlc_session_output_shape: NULL argument");
    const dlc_model *model = session->model;
    if (index < 0 || index >= model->desc->num_outputs)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "model '%s' has %d outputs, index %d is out of range", model->path,
                        model->desc->num_outputs, index);
    *out_rank = model->outputs[index].rank;
    memcpy(out_dims, session->output_dims + (size_t)index * DLC_ARTIFACT_MAX_RANK,
           (size_t)*out_rank * sizeof *out_dims);
    return DLC_OK;
}

dlc_status dlc_model_infer_outputs(const dlc_model *model, const dlc_tensor *inputs, int num_inputs,
                                   dlc_tensor *outputs, int num_outputs) {
    if (model == NULL || (num_inputs > 0 && inputs == NULL) || (num_outputs > 0 && outputs == NULL))
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "dlc_model_infer_outputs: NULL argument");
    const dlc_artifact_desc *desc = model->desc;
    if (num_inputs != desc->num_inputs || num_outputs != desc->num_outputs)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "model '%s' takes %d inputs and %d outputs, got %d and %d",
                        model->path, desc->num_inputs, desc->num_outputs, num_inputs, num_outputs);
    dlc_tensor_info *in_infos = calloc((size_t)num_inputs + 1, sizeof *in_infos);
    dlc_tensor_info *out_infos = calloc((size_t)num_outputs + 1, sizeof *out_infos);
    int64_t symbols[DLC_MAX_RANK * 4];
    uint64_t arena_size;
    dlc_status st = in_infos && out_infos ? DLC_OK : dlc_fail(DLC_ERR_OUT_OF_MEMORY, "dlc_model_infer_outputs");
    if (st == DLC_OK) st = dlc_resolve_shapes(model, inputs, in_infos, out_infos, symbols, &arena_size);
    for (int i = 0; i < num_inputs && st == DLC_OK; i++)
        st = check_tensor(model, &inputs[i], &in_infos[i], "input", false);
    for (int i = 0; i < num_outputs && st == DLC_OK; i++) {
        outputs[i].dtype = out_infos[i].dtype;
        outputs[i].rank = out_infos[i].rank;
        memset(outputs[i].dims, 0, sizeof outputs[i].dims);
        memcpy(outputs[i].dims, out_infos[i].dims, (size_t)out_infos[i].rank * sizeof outputs[i].dims[0]);
    }
    free(in_infos);
    free(out_infos);
    return st;
}

dlc_status dlc_model_node_flops_at(const dlc_model *model, const dlc_tensor *inputs, int num_inputs, double *flops) {
    if (model == NULL || (num_inputs > 0 && inputs == NULL) || flops == NULL)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "dlc_model_node_flops_at: NULL argument");
    const dlc_artifact_desc *desc = model->desc;
    if (num_inputs != desc->num_inputs)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "model '%s' takes %d inputs, got %d", model->path,
                        desc->num_inputs, num_inputs);
    if (desc->num_symbols == 0) {
        for (int32_t i = 0; i < desc->num_nodes; i++) flops[i] = desc->node_flops != NULL ? desc->node_flops[i] : 0.0;
        return DLC_OK;
    }
    if (desc->node_flops_at == NULL)
        return dlc_fail(DLC_ERR_UNSUPPORTED,
                        "model '%s' was compiled for every size and some kernel's FLOPs are no polynomial in its "
                        "symbolic dims; compile it with --shape for FLOP counts",
                        model->path);
    dlc_tensor_info *in_infos = calloc((size_t)desc->num_inputs + 1, sizeof *in_infos);
    dlc_tensor_info *out_infos = calloc((size_t)desc->num_outputs + 1, sizeof *out_infos);
    int64_t symbols[DLC_MAX_RANK * 4];
    uint64_t arena_size;
    dlc_status st = in_infos && out_infos ? DLC_OK : dlc_fail(DLC_ERR_OUT_OF_MEMORY, "dlc_model_node_flops_at");
    if (st == DLC_OK) st = dlc_resolve_shapes(model, inputs, in_infos, out_infos, symbols, &arena_size);
    if (st == DLC_OK) desc->node_flops_at(symbols, flops);
    free(in_infos);
    free(out_infos);
    return st;
}
