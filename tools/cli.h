/* Shared helpers of the `dlc` command line: messages, option values, model
 * loading (a compiled .so, or an .onnx compiled on the fly), tensor I/O. */
#ifndef DLC_TOOLS_CLI_H
#define DLC_TOOLS_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "codegen/compile.h"
#include "dlc/dlc.h"
#include "frontend/tensor_file.h"

/* Exit codes. */
enum { CLI_OK = 0, CLI_ERROR = 1, CLI_USAGE = 2 };

#define CLI_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* "dlc: error: <message>" on stderr; returns CLI_ERROR. */
int cli_error(const char *fmt, ...) CLI_PRINTF(1, 2);
/* "dlc: error: <message>" plus a hint to --help; returns CLI_USAGE. */
int cli_usage_error(const char *command, const char *fmt, ...) CLI_PRINTF(2, 3);
/* Prints dlc_last_error() as an error line; returns CLI_ERROR. */
int cli_status_error(dlc_status status);
/* While buf is non-NULL, error lines go into buf (the latest one) instead of
 * stderr, and the status of the latest cli_status_error is remembered. */
void cli_capture_errors(char *buf, size_t size);
dlc_status cli_last_status(void);

double cli_now_seconds(void);
/* CPU time of the whole process (all threads): on a loaded machine it counts
 * the work done, where wall time also counts waiting for a core. */
double cli_cpu_seconds(void);
/* "1.2 MiB" into buf. */
const char *cli_format_bytes(uint64_t bytes, char *buf, size_t size);
/* "float32[1,3,32,32]" into buf. */
const char *cli_format_tensor_type(dlc_dtype dtype, int32_t rank, const int64_t *dims, char *buf, size_t size);
bool cli_ends_with(const char *s, const char *suffix);
/* Strict integer parsing of option values. */
bool cli_parse_int(const char *text, int64_t min, int64_t max, int64_t *out);
bool cli_parse_double(const char *text, double *out);

/* Settings every command that compiles shares. */
typedef struct cli_compile_settings {
    int32_t opt_level;
    const char *cpu;
    dlc_input_shape shapes[64]; /* --shape name=d0,d1,... */
    char shape_names[64][256];  /* storage for shapes[i].name: nothing to free */
    int32_t num_shapes;
    bool quiet;
    /* --bind NAME=FILE.pb / --bind-value NAME=V0,V1,...: the argument
     * strings (argv outlives the settings); read when the graph is known */
    const char *binds[64];
    bool bind_is_file[64];
    int32_t num_binds;
    /* --sequence NAME=N|none: lengths of sequence inputs, presence of optional ones */
    dlc_input_sequence sequences[64];
    char sequence_names[64][256];
    int32_t num_sequences;
    /* compiling an .onnx for a run: leave symbolic dims symbolic (one
     * artifact for every size) instead of binding them from the inputs */
    bool dynamic;
    /* compiling an .onnx with no input data (dlc bench --batch N): inputs
     * whose only symbolic dim is dim 0 are compiled for a batch of N */
    int64_t batch;
} cli_compile_settings;

void cli_compile_settings_init(cli_compile_settings *cs);
/* Parses one "name=1,3,32,32" into cs; returns false (message printed) on error. */
bool cli_add_shape(cli_compile_settings *cs, const char *arg);
/* Records one --bind (is_file) or --bind-value argument; false (message
 * printed) when it is not NAME=... or there are too many. */
bool cli_add_bind(cli_compile_settings *cs, const char *arg, bool is_file);

/* Parses one --sequence NAME=N (a sequence's length; an optional: present,
 * an optional sequence of that length) or NAME=none (an absent optional). */
bool cli_add_sequence(cli_compile_settings *cs, const char *arg);

/* The model's inputs and outputs as ONNX declares them (tools/cli_seq.c). */
typedef struct cli_io_types {
    int num_inputs, num_outputs;
    char **input_names, **output_names;
    dlc_file_kind *input_kinds, *output_kinds;
    bool any_sequence; /* some input or output is a sequence or optional */
} cli_io_types;
int cli_io_types_read(const char *onnx_path, cli_io_types *out);
void cli_io_types_free(cli_io_types *io);
/* The name the artifact gives tensor k of v, a value called base: "base[k]"
 * in a sequence, "base" for a (present optional) tensor. */
void cli_element_name(const dlc_owned_value *v, const char *base, int32_t k, char *buf, size_t size);

/* Inputs bound to values for one compile (tools/cli_bind.c). */
typedef struct cli_bound_inputs {
    dlc_input_value values[64];
    dlc_owned_tensor tensors[64];
    int32_t count;
} cli_bound_inputs;

/* Reads cs's --bind files and parses its --bind-value lists in the dtype
 * and rank of g's input (a rank-0 input takes one value, otherwise a 1-D
 * list). Returns CLI_OK or an exit code (message printed); out is freed by
 * cli_bound_inputs_free either way. */
int cli_bound_inputs_resolve(const dlc_graph *g, const cli_compile_settings *cs, cli_bound_inputs *out);
bool cli_bound_inputs_has(const cli_bound_inputs *b, const char *name);
void cli_bound_inputs_free(cli_bound_inputs *b);

/* Parses "-O2" style values ("0".."3"). */
bool cli_parse_opt_level(const char *text, int32_t *out);

/* Input tensors read from .pb files. */
typedef struct cli_inputs {
    dlc_owned_tensor *tensors;
    char **paths;
    int count;
} cli_inputs;

/* Reads every file; on error prints it and returns false. */
bool cli_inputs_read(cli_inputs *in, char *const *paths, int count);
/* Reads paths[i] as the model's input i declares (tensor, sequence or
 * optional) and flattens them into named tensors; the length of each
 * sequence and presence of each optional not given yet go into cs. in->paths
 * borrows from paths. Prints the error and returns false on failure. */
bool cli_inputs_read_typed(cli_inputs *in, char *const *paths, int count, const cli_io_types *io,
                           cli_compile_settings *cs);
void cli_inputs_free(cli_inputs *in);
/* Repeats each tensor of batch 1 along dim 0 to `batch` (tensors already of
 * that batch stay); prints the error and returns false otherwise. */
bool cli_inputs_tile_batch(cli_inputs *in, int64_t batch);

/* For each tensor, the index of the model input it feeds: the input whose
 * name equals the tensor's name, otherwise the input at the same position.
 * Fails (returns false, message printed) on a count mismatch, duplicates or
 * unknown names. */
bool cli_match_inputs(const char *const *input_names, int num_inputs, const cli_inputs *in, int *out_index);

/* A loaded model; compiled into a temporary folder when given an .onnx. */
typedef struct cli_model {
    dlc_model *model;
    char temp_dir[256];
    char so_path[512];
    char bound[256]; /* inputs bound to their values when compiled here: "shape, axes" */
} cli_model;

/* Opens path (.so, or .onnx compiled with cs; shapes of symbolic inputs are
 * bound from `inputs` when given). Returns CLI_OK or an exit code (message printed). */
int cli_model_open(const char *path, const cli_compile_settings *cs, const cli_inputs *inputs, cli_model *out);
void cli_model_close(cli_model *m);

/* Tensors ready for dlc_session_run: inputs in model order (borrowed from
 * `inputs`, or synthesized when inputs is NULL) and freshly allocated outputs. */
typedef struct cli_bindings {
    int num_inputs, num_outputs;
    dlc_tensor *inputs;
    dlc_tensor *outputs;
    dlc_tensor_info *output_infos;
    void **owned; /* buffers to free */
    int num_owned;
} cli_bindings;

/* Each kernel call's FLOP estimate at the bound inputs' sizes
 * (dlc_model_node_flops_at; malloc'ed, one entry per node), or NULL with the
 * reason in why when the artifact does not know them. */
double *cli_node_flops(const dlc_model *model, const cli_bindings *b, char *why, size_t why_size);

/* Checks every input's dtype and shape against the model (the message names
 * the input and both shapes) and allocates outputs. Symbolic output dims are
 * resolved through same-named input dims. Synthesized inputs (inputs NULL)
 * get dim 0 = batch when batch > 0 (it must be symbolic or equal). Returns
 * CLI_OK or an exit code. */
int cli_bindings_prepare(const dlc_model *model, const cli_inputs *inputs, int64_t batch, cli_bindings *out);
void cli_bindings_free(cli_bindings *b);

/* A model ready to time (dlc bench, dlc profile): the -i tensors read (those
 * of batch 1 repeated to `batch` when batch > 0), the model opened (an .onnx
 * compiled for them, or for `batch`), its bindings and a session of
 * `threads`. Returns CLI_OK or an exit code (message printed); close it
 * either way. */
typedef struct cli_timed_model {
    cli_inputs inputs;
    cli_model model;
    cli_bindings bindings;
    dlc_session *session;
} cli_timed_model;
int cli_timed_model_open(const char *path, cli_compile_settings *cs, char *const *input_paths, int num_inputs,
                         int64_t batch, int64_t threads, cli_timed_model *out);
void cli_timed_model_close(cli_timed_model *t);

/* Compares got with expected (dtype, shape, then every element: floats by
 * |a-b| <= atol + rtol*|b| with NaN equal to NaN, integers and bools
 * exactly). On a mismatch writes "output 'y' [3,4] index 5: got 1.5
 * expected 1.25" into msg and returns false. */
bool cli_compare_tensors(const char *name, const dlc_tensor *got, const dlc_tensor *expected, double rtol,
                         double atol, char *msg, size_t size);

/* A uint16 tensor where bfloat16 is expected is relabelled bfloat16 (the
 * same bits): onnx 1.12 stores bfloat16 test data as uint16 because numpy
 * has no bfloat16. Returns true when t was relabelled. */
bool cli_accept_bf16_bits(dlc_tensor *t, dlc_dtype expected);

/* `dlc test --ort`: writes case_dir/model.onnx (a copy of model_path) and
 * case_dir/test_data_set_0/ with inputs generated from `seed` (floats in
 * [-1,1), token ids below the row count of the embedding a Gather reads,
 * inputs named *mask* as ones with the last quarter of each row zero, other
 * integers in [0,4); symbolic dims from cs's --shape, else 1 for a leading
 * dim and 16 for the rest, reported on stderr) and the outputs ONNX Runtime
 * computes for them (node tests/ort/ort_run.js). Returns CLI_OK or an exit
 * code (message printed). */
int cli_ort_make_case(const char *model_path, const cli_compile_settings *cs, uint64_t seed, const char *case_dir);

/* Commands. */
int cmd_compile(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_test(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_profile(int argc, char **argv);
int cmd_ops(int argc, char **argv);

#endif
