/* dlc run: one inference on tensor files, outputs written as .pb files. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kernels/dlc_kernel.h"
#include "tools/cli.h"

static const char usage[] =
    "usage: dlc run MODEL.so|MODEL.onnx -i INPUT.pb [-i INPUT.pb ...] [-o OUTDIR] [options]\n\n"
    "Runs the model once. Inputs are ONNX TensorProto files, taken in the model's\n"
    "input order unless a file's tensor name matches an input. Writes\n"
    "OUTDIR/output_N.pb for every output. An .onnx model is compiled to a\n"
    "temporary artifact first (symbolic dims bound from the inputs; inputs that\n"
    "decide output shapes, like a Reshape's shape, bound to their values).\n\n"
    "options:\n"
    "  -i, --input FILE         an input tensor file (repeatable)\n"
    "  -o, --output-dir DIR     where output_N.pb go (default: no files, summary only)\n"
    "  --threads N              threads for the run (default: OpenMP's choice)\n"
    "  --shape NAME=D0,D1,...   bind an input shape when compiling an .onnx\n"
    "  --bind NAME=FILE.pb      compile an .onnx with the input fixed to this value\n"
    "  --bind-value NAME=V,...  the same with the value written out (see dlc compile --help)\n"
    "  --sequence NAME=N|none   a sequence input's length or an optional input's presence (see\n"
    "                           dlc compile --help); with an .onnx, a SequenceProto or OptionalProto\n"
    "                           file given for such an input sets it. Sequence outputs are written\n"
    "                           one tensor per element, named NAME[0], NAME[1]...\n"
    "  -O LEVEL, --cpu CPU      compile options for an .onnx (see dlc compile --help)\n"
    "  -h, --help               this text\n";

enum { OPT_THREADS = 256, OPT_SHAPE, OPT_CPU, OPT_BIND, OPT_BIND_VALUE, OPT_SEQUENCE };

static double element(const dlc_tensor *t, size_t i) {
    switch (t->dtype) {
    case DLC_FLOAT32: return ((const float *)t->data)[i];
    case DLC_FLOAT64: return ((const double *)t->data)[i];
    case DLC_FLOAT16: return dlc_f16_to_f32(((const uint16_t *)t->data)[i]);
    case DLC_BFLOAT16: return dlc_bf16_to_f32(((const uint16_t *)t->data)[i]);
    case DLC_INT8: return ((const int8_t *)t->data)[i];
    case DLC_UINT8: case DLC_BOOL: return ((const uint8_t *)t->data)[i];
    case DLC_INT16: return ((const int16_t *)t->data)[i];
    case DLC_UINT16: return ((const uint16_t *)t->data)[i];
    case DLC_INT32: return ((const int32_t *)t->data)[i];
    case DLC_UINT32: return ((const uint32_t *)t->data)[i];
    case DLC_INT64: return (double)((const int64_t *)t->data)[i];
    case DLC_UINT64: return (double)((const uint64_t *)t->data)[i];
    default: return 0.0;
    }
}

/* "output 'y' float32[1,10] → out/output_0.pb: [-2.3, ...] min -2.4 max -2.2" */
static void print_summary(const char *name, const dlc_tensor *t, const char *file) {
    char type[320];
    cli_format_tensor_type(t->dtype, t->rank, t->dims, type, sizeof type);
    /* the actual dims, not the buffer: an output of data-dependent extent
     * (NonZero, Unique, ...) fills only part of the buffer sized for its bound */
    size_t elem = dlc_dtype_size(t->dtype);
    size_t n = elem ? 1 : 0;
    for (int32_t d = 0; d < t->rank; d++) n *= (size_t)t->dims[d];
    if (elem == 0 || n * elem > t->size_bytes) n = 0;
    printf("output '%s' %s%s%s: [", name, type, file ? " -> " : "", file ? file : "");
    for (size_t i = 0; i < n && i < 6; i++) printf("%s%.6g", i ? ", " : "", element(t, i));
    printf("%s]", n > 6 ? ", ..." : "");
    if (n > 0) {
        double lo = INFINITY, hi = -INFINITY, sum = 0.0;
        size_t argmax = 0;
        for (size_t i = 0; i < n; i++) {
            double v = element(t, i);
            if (v < lo) lo = v;
            if (v > hi) hi = v, argmax = i;
            sum += v;
        }
        printf(" min %.6g max %.6g mean %.6g argmax %zu", lo, hi, sum / (double)n, argmax);
    }
    printf("\n");
}

int cmd_run(int argc, char **argv) {
    static const struct option options[] = {
        {"input", required_argument, NULL, 'i'},        {"output-dir", required_argument, NULL, 'o'},
        {"threads", required_argument, NULL, OPT_THREADS}, {"shape", required_argument, NULL, OPT_SHAPE},
        {"input-shape", required_argument, NULL, OPT_SHAPE}, {"cpu", required_argument, NULL, OPT_CPU},
        {"bind", required_argument, NULL, OPT_BIND},    {"bind-value", required_argument, NULL, OPT_BIND_VALUE},
        {"sequence", required_argument, NULL, OPT_SEQUENCE},
        {"help", no_argument, NULL, 'h'},               {NULL, 0, NULL, 0},
    };
    cli_compile_settings cs;
    cli_compile_settings_init(&cs);
    char **input_paths = calloc((size_t)argc + 1, sizeof *input_paths);
    if (input_paths == NULL) return cli_error("out of memory");
    int num_inputs = 0;
    const char *out_dir = NULL;
    int64_t threads = 0;
    opterr = 0;
    optind = 0;
    int opt, rc = CLI_OK;
    while (rc == CLI_OK && (opt = getopt_long(argc, argv, "i:o:O:h", options, NULL)) != -1) {
        switch (opt) {
        case 'i': input_paths[num_inputs++] = optarg; break;
        case 'o': out_dir = optarg; break;
        case 'O':
            if (!cli_parse_opt_level(optarg, &cs.opt_level))
                rc = cli_usage_error("run", "-O%s: the level is 0, 1, 2 or 3", optarg);
            break;
        case OPT_CPU: cs.cpu = optarg; break;
        case OPT_THREADS:
            if (!cli_parse_int(optarg, 0, 4096, &threads))
                rc = cli_usage_error("run", "--threads '%s': expected a number of threads", optarg);
            break;
        case OPT_SHAPE:
            if (!cli_add_shape(&cs, optarg)) rc = CLI_USAGE;
            break;
        case OPT_BIND:
        case OPT_BIND_VALUE:
            if (!cli_add_bind(&cs, optarg, opt == OPT_BIND)) rc = CLI_USAGE;
            break;
        case OPT_SEQUENCE:
            if (!cli_add_sequence(&cs, optarg)) rc = CLI_USAGE;
            break;
        case 'h': fputs(usage, stdout); free(input_paths); return CLI_OK;
        default: rc = cli_usage_error("run", "unknown option or missing value in '%s'", argv[optind - 1]);
        }
    }
    if (rc == CLI_OK && optind >= argc) rc = cli_usage_error("run", "no model given");
    if (rc == CLI_OK && argc - optind > 1)
        rc = cli_usage_error("run", "one model at a time; unexpected '%s'", argv[optind + 1]);
    if (rc != CLI_OK) {
        free(input_paths);
        return rc;
    }
    const char *model_path = argv[optind];
    if (cs.num_binds > 0 && cli_ends_with(model_path, ".so")) {
        free(input_paths);
        return cli_usage_error("run", "--bind and --bind-value compile an .onnx; '%s' is compiled already", model_path);
    }

    cli_inputs inputs;
    cli_model model = {0};
    cli_bindings bindings = {0};
    dlc_session *session = NULL;
    /* an .onnx with sequence or optional inputs: files are read as it declares them */
    cli_io_types io = {0};
    bool typed = !cli_ends_with(model_path, ".so") && cli_io_types_read(model_path, &io) == CLI_OK && io.any_sequence;
    if (typed ? !cli_inputs_read_typed(&inputs, input_paths, num_inputs, &io, &cs)
              : !cli_inputs_read(&inputs, input_paths, num_inputs))
        rc = CLI_ERROR;
    cli_io_types_free(&io);
    if (rc == CLI_OK) rc = cli_model_open(model_path, &cs, &inputs, &model);
    if (rc == CLI_OK) rc = cli_bindings_prepare(model.model, &inputs, 0, &bindings);
    if (rc == CLI_OK) {
        dlc_session_options so = {.num_threads = (int32_t)threads};
        dlc_status st = dlc_session_create(model.model, &so, &session);
        if (st == DLC_OK)
            st = dlc_session_run(session, bindings.inputs, bindings.num_inputs, bindings.outputs, bindings.num_outputs);
        if (st != DLC_OK) rc = cli_status_error(st);
    }
    if (rc == CLI_OK && out_dir != NULL && mkdir(out_dir, 0777) != 0 && errno != EEXIST)
        rc = cli_error("cannot create '%s': %s", out_dir, strerror(errno));
    for (int o = 0; rc == CLI_OK && o < bindings.num_outputs; o++) {
        char path[4096];
        const char *name = bindings.output_infos[o].name;
        if (out_dir != NULL) {
            snprintf(path, sizeof path, "%s/output_%d.pb", out_dir, o);
            dlc_status st = dlc_tensor_file_write(path, name, &bindings.outputs[o]);
            if (st != DLC_OK) {
                rc = cli_status_error(st);
                break;
            }
        }
        print_summary(name, &bindings.outputs[o], out_dir != NULL ? path : NULL);
    }
    if (session != NULL) dlc_session_free(session);
    cli_bindings_free(&bindings);
    cli_model_close(&model);
    cli_inputs_free(&inputs);
    free(input_paths);
    return rc;
}
