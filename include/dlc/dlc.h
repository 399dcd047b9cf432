/*
 * dlc.h — the one public header of the dlc runtime (libdlcrt).
 *
 * A compiled model (model.so made by `dlc compile`) is loaded with
 * dlc_model_load(), described with dlc_model_input()/dlc_model_output(),
 * and run through a session, which owns the memory a run needs:
 *
 *     dlc_model *model;
 *     if (dlc_model_load("model.so", &model) != DLC_OK) {
 *         fprintf(stderr, "%s\n", dlc_last_error());
 *         return 1;
 *     }
 *     dlc_session *session;
 *     dlc_session_create(model, NULL, &session);
 *     dlc_tensor in = {.dtype = DLC_FLOAT32, .rank = 4, .dims = {1, 3, 32, 32},
 *                      .data = pixels, .size_bytes = sizeof pixels};
 *     dlc_tensor out = {.dtype = DLC_FLOAT32, .rank = 2, .dims = {1, 10},
 *                       .data = logits, .size_bytes = sizeof logits};
 *     dlc_session_run(session, &in, 1, &out, 1);
 *
 * Errors: every function that can fail returns a dlc_status. On failure the
 * message (naming the model, tensor, node and shapes involved) is kept per
 * thread and read with dlc_last_error() until the next failing call.
 *
 * Threads: a dlc_model is read-only after loading and may be shared; a
 * dlc_session must be used by one thread at a time. Create one session per
 * thread. dlc_session_run allocates no heap memory, except once when a model
 * compiled with symbolic dims runs a size larger than any before on that
 * session (dlc_session_reserve sizes it in advance).
 *
 * Symbolic dims: a model compiled without --shape for its symbolic input dims
 * runs any size. dlc_model_input() shows such a dim as dims[i] = -1 with its
 * name; an output dim that depends on them is -1 with a formula as its name
 * ("batch", "2*seq"). dlc_model_infer_outputs() gives the output shapes for
 * given inputs, and dlc_session_run() writes them into the outputs' dims.
 */
#ifndef DLC_DLC_H
#define DLC_DLC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DLC_VERSION_STRING "0.1.0"
#define DLC_MAX_RANK 8

typedef enum dlc_status {
    DLC_OK = 0,
    DLC_ERR_INVALID_ARGUMENT = 1, /* a NULL pointer, an out-of-range index, a bad option */
    DLC_ERR_NOT_FOUND = 2,        /* a missing file, input name or symbol */
    DLC_ERR_PARSE = 3,            /* a malformed model or tensor file */
    DLC_ERR_UNSUPPORTED = 4,      /* an op, opset, dtype or feature dlc does not handle */
    DLC_ERR_SHAPE_MISMATCH = 5,   /* shapes that do not fit together */
    DLC_ERR_DTYPE_MISMATCH = 6,   /* dtypes that do not fit together */
    DLC_ERR_OUT_OF_MEMORY = 7,
    DLC_ERR_IO = 8,               /* reading or writing a file failed */
    DLC_ERR_INCOMPATIBLE = 9,     /* artifact ABI version or CPU features do not match */
    DLC_ERR_RUNTIME = 10,         /* a kernel refused its data (e.g. an index out of range) */
    DLC_ERR_INTERNAL = 11,        /* a bug in dlc: please report it */
} dlc_status;

/* Element types; the numbers are ONNX's TensorProto.DataType. */
typedef enum dlc_dtype {
    DLC_DTYPE_UNDEFINED = 0,
    DLC_FLOAT32 = 1,
    DLC_UINT8 = 2,
    DLC_INT8 = 3,
    DLC_UINT16 = 4,
    DLC_INT16 = 5,
    DLC_INT32 = 6,
    DLC_INT64 = 7,
    DLC_STRING = 8,
    DLC_BOOL = 9,
    DLC_FLOAT16 = 10,
    DLC_FLOAT64 = 11,
    DLC_UINT32 = 12,
    DLC_UINT64 = 13,
    DLC_COMPLEX64 = 14,
    DLC_COMPLEX128 = 15,
    DLC_BFLOAT16 = 16,
} dlc_dtype;

/* Bytes per element; 0 for UNDEFINED, STRING and unknown values. */
size_t dlc_dtype_size(dlc_dtype dtype);
/* "float32", "int64", ...; "unknown" for values outside the enum. */
const char *dlc_dtype_name(dlc_dtype dtype);
/* "DLC_ERR_PARSE" style names of status codes. */
const char *dlc_status_name(dlc_status status);
/* The message of the last failure on this thread ("" if none). */
const char *dlc_last_error(void);

/* A dense, row-major tensor in caller-owned memory. */
typedef struct dlc_tensor {
    dlc_dtype dtype;
    int32_t rank;
    int64_t dims[DLC_MAX_RANK];
    void *data;
    size_t size_bytes; /* capacity of data, checked against dims */
} dlc_tensor;

/* What a model expects for one input or produces for one output.
 * dims[i] < 0 marks a symbolic dimension whose name is dim_names[i].
 * For an output, bit i of bounded_dims set means dims[i] is only an upper
 * bound: the extent depends on the data (NonZero, Compress, Unique,
 * NonMaxSuppression). Its buffer must hold the bound; the run reports the
 * actual shape (see dlc_session_run and dlc_session_output_shape). */
typedef struct dlc_tensor_info {
    const char *name;
    dlc_dtype dtype;
    int32_t rank;
    int64_t dims[DLC_MAX_RANK];
    const char *dim_names[DLC_MAX_RANK];
    uint32_t bounded_dims;
} dlc_tensor_info;

typedef struct dlc_model dlc_model;
typedef struct dlc_session dlc_session;

/* Loads an artifact made by `dlc compile`; checks its ABI version and that
 * this CPU has the features it was compiled for. */
dlc_status dlc_model_load(const char *path, dlc_model **out_model);
void dlc_model_free(dlc_model *model);

int dlc_model_num_inputs(const dlc_model *model);
int dlc_model_num_outputs(const dlc_model *model);
dlc_status dlc_model_input(const dlc_model *model, int index, dlc_tensor_info *out_info);
dlc_status dlc_model_output(const dlc_model *model, int index, dlc_tensor_info *out_info);
/* Index of the input/output with this name. */
dlc_status dlc_model_find_input(const dlc_model *model, const char *name, int *out_index);
dlc_status dlc_model_find_output(const dlc_model *model, const char *name, int *out_index);
/* Target the artifact was compiled for, e.g. "x86-64-v3" or the host CPU name. */
const char *dlc_model_target(const dlc_model *model);

/* The kernel calls a run makes, in order (for profiles): their count, the
 * "name (OpType)" of call index (NULL when out of range), and the
 * compiler's estimate of its floating-point operations (multiply-add = 2; 0
 * when unknown, and for a model with symbolic dims, whose counts depend on
 * the sizes: see dlc_model_node_flops_at). */
int dlc_model_num_nodes(const dlc_model *model);
const char *dlc_model_node_name(const dlc_model *model, int index);
double dlc_model_node_flops(const dlc_model *model, int index);
/* Every kernel call's estimated floating-point operations for inputs of
 * these shapes (their data is not read): dlc_model_num_nodes entries into
 * flops. A static model gives dlc_model_node_flops; a model compiled for
 * every size evaluates the counts the compiler fitted as polynomials in its
 * symbolic dims. Fails naming the input and dim as dlc_session_run would,
 * and with DLC_ERR_UNSUPPORTED when the artifact has no such counts (some
 * call's count is no polynomial of degree <= 3 in the dims). */
dlc_status dlc_model_node_flops_at(const dlc_model *model, const dlc_tensor *inputs, int num_inputs, double *flops);

typedef struct dlc_session_options {
    int32_t num_threads; /* 0: as many as the OpenMP runtime would use */
} dlc_session_options;

/* Allocates the session's arena (sized at compile time; for a model with
 * symbolic dims, grown to the largest size run so far). options may be NULL. */
dlc_status dlc_session_create(const dlc_model *model, const dlc_session_options *options,
                              dlc_session **out_session);
void dlc_session_free(dlc_session *session);
dlc_status dlc_session_set_num_threads(dlc_session *session, int32_t num_threads);

/* Runs the model. inputs and outputs are in the model's order, one per
 * input/output. Every dtype and shape is checked before any work is done; on
 * a mismatch the message names the tensor and both shapes. An output may be
 * passed with rank 0 and dtype UNDEFINED to take the model's type. Outputs
 * are written into the caller's buffers, dense row-major, and on success each
 * outputs[i].dtype/rank/dims is set to the actual type: for an output with
 * bounded_dims (dlc_tensor_info) the actual dims may be smaller than the
 * bound the buffer was sized for. */
dlc_status dlc_session_run(dlc_session *session, const dlc_tensor *inputs, int num_inputs,
                           dlc_tensor *outputs, int num_outputs);

/* dlc_session_run that also times every kernel call: node_seconds gets
 * dlc_model_num_nodes() wall-clock durations. Reads the clock once per
 * kernel; dlc_session_run reads none. */
dlc_status dlc_session_run_profiled(dlc_session *session, const dlc_tensor *inputs, int num_inputs,
                                    dlc_tensor *outputs, int num_outputs, double *node_seconds);

/* The actual shape of output index after the session's last successful run
 * (before any run, or after a failed one: the model's dims, bounds included).
 * out_dims has room for DLC_MAX_RANK entries. */
dlc_status dlc_session_output_shape(const dlc_session *session, int index, int32_t *out_rank,
                                    int64_t *out_dims);
/* Output dtypes, ranks and dims (not data) of a run with these inputs (only
 * their dtype, rank and dims are read). For a model with symbolic dims, fails
 * naming the input and dim when inputs disagree on a symbol ("input 'mask'
 * dim 1 'seq' is 19 but input 'ids' gives 'seq' = 7"). */
dlc_status dlc_model_infer_outputs(const dlc_model *model, const dlc_tensor *inputs, int num_inputs,
                                   dlc_tensor *outputs, int num_outputs);
/* Grows the session's arena for a run with inputs of these dims, so that
 * dlc_session_run with them (or smaller) allocates nothing. */
dlc_status dlc_session_reserve(dlc_session *session, const dlc_tensor *inputs, int num_inputs);

#ifdef __cplusplus
}
#endif
#endif
