/* dlc compile: model.onnx → model.so, with progress lines on stderr. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "frontend/onnx_import.h"
#include "ir/printer.h"
#include "tools/cli.h"

static const char usage[] =
    "usage: dlc compile MODEL.onnx [-o MODEL.so] [options]\n\n"
    "Compiles an ONNX model into one shared library that libdlcrt (dlc.h) loads.\n\n"
    "options:\n"
    "  -o, --output FILE        artifact to write (default: MODEL.so beside the model)\n"
    "  -O0, -O1, -O2, -O3       optimization level (default -O2; -O0 folds constants only)\n"
    "  --cpu CPU                native (default), x86-64-v2, x86-64-v3, x86-64-v4 or an LLVM CPU name\n"
    "  --shape NAME=D0,D1,...   bind the shape of an input with symbolic dims (repeatable)\n"
    "  --bind NAME=FILE.pb      fix an input to the value in FILE.pb (a shape input: Reshape's\n"
    "                           shape, Slice's starts...); runs refuse any other value (repeatable)\n"
    "  --bind-value NAME=V,...  the same with the value written out (a scalar or a 1-D list)\n"
    "  --sequence NAME=N|none   the length of a sequence input, or for an optional input: none\n"
    "                           (absent) or N (present; an optional sequence of length N). Its\n"
    "                           elements become inputs NAME[0], NAME[1]... (NAME for an optional\n"
    "                           tensor), shaped with --shape NAME[1]=... (repeatable)\n"
    "  --print-ir               print the IR after the graph passes (stdout)\n"
    "  --print-after-all        print the IR after every pass (stdout)\n"
    "  --emit-llvm FILE         also write the optimized LLVM IR to FILE\n"
    "  -q, --quiet              no progress lines on stderr\n"
    "  -h, --help               this text\n";

enum { OPT_CPU = 256, OPT_SHAPE, OPT_PRINT_IR, OPT_PRINT_AFTER_ALL, OPT_EMIT_LLVM, OPT_BIND, OPT_BIND_VALUE, OPT_SEQUENCE };

/* model.onnx → model.so beside it. */
static char *default_output(const char *model_path) {
    size_t n = strlen(model_path);
    char *out = malloc(n + 4);
    if (out == NULL) return NULL;
    memcpy(out, model_path, n + 1);
    if (cli_ends_with(out, ".onnx")) out[n - 5] = '\0';
    strcat(out, ".so");
    return out;
}

int cmd_compile(int argc, char **argv) {
    static const struct option options[] = {
        {"output", required_argument, NULL, 'o'},
        {"cpu", required_argument, NULL, OPT_CPU},
        {"shape", required_argument, NULL, OPT_SHAPE},
        {"input-shape", required_argument, NULL, OPT_SHAPE},
        {"bind", required_argument, NULL, OPT_BIND},
        {"bind-value", required_argument, NULL, OPT_BIND_VALUE},
        {"sequence", required_argument, NULL, OPT_SEQUENCE},
        {"print-ir", no_argument, NULL, OPT_PRINT_IR},
        {"print-after-all", no_argument, NULL, OPT_PRINT_AFTER_ALL},
        {"emit-llvm", required_argument, NULL, OPT_EMIT_LLVM},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    cli_compile_settings cs;
    cli_compile_settings_init(&cs);
    const char *out_arg = NULL, *emit_llvm = NULL;
    bool print_ir = false, print_after_all = false;
    opterr = 0;
    optind = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, "o:O:qh", options, NULL)) != -1) {
        switch (opt) {
        case 'o': out_arg = optarg; break;
        case 'O':
            if (!cli_parse_opt_level(optarg, &cs.opt_level))
                return cli_usage_error("compile", "-O%s: the level is 0, 1, 2 or 3", optarg);
            break;
        case OPT_CPU: cs.cpu = optarg; break;
        case OPT_SHAPE:
            if (!cli_add_shape(&cs, optarg)) return CLI_USAGE;
            break;
        case OPT_BIND:
        case OPT_BIND_VALUE:
            if (!cli_add_bind(&cs, optarg, opt == OPT_BIND)) return CLI_USAGE;
            break;
        case OPT_SEQUENCE:
            if (!cli_add_sequence(&cs, optarg)) return CLI_USAGE;
            break;
        case OPT_PRINT_IR: print_ir = true; break;
        case OPT_PRINT_AFTER_ALL: print_after_all = true; break;
        case OPT_EMIT_LLVM: emit_llvm = optarg; break;
        case 'q': cs.quiet = true; break;
        case 'h': fputs(usage, stdout); return CLI_OK;
        default: return cli_usage_error("compile", "unknown option or missing value in '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc) return cli_usage_error("compile", "no model given");
    if (argc - optind > 1) return cli_usage_error("compile", "one model at a time; unexpected '%s'", argv[optind + 1]);
    const char *model_path = argv[optind];
    char *out_path = out_arg != NULL ? strdup(out_arg) : default_output(model_path);
    if (out_path == NULL) return cli_error("out of memory");

    FILE *log = cs.quiet ? NULL : stderr;
    double t0 = cli_now_seconds();
    dlc_graph *g;
    dlc_status st = dlc_onnx_import_file(model_path, &g);
    if (st != DLC_OK) {
        free(out_path);
        return cli_status_error(st);
    }
    double t1 = cli_now_seconds();
    if (log)
        fprintf(log, "import   %s: %d nodes, %d inputs, %d outputs (%.3f s)\n", model_path, g->num_nodes,
                g->num_inputs, g->num_outputs, t1 - t0);

    /* sequence and optional inputs are flattened first: --shape and --bind name their elements */
    st = dlc_bind_input_sequences(g, cs.sequences, cs.num_sequences);
    if (st != DLC_OK) {
        dlc_graph_free(g);
        free(out_path);
        return cli_status_error(st);
    }
    cli_bound_inputs *bound = malloc(sizeof *bound);
    int rc = bound == NULL ? cli_error("out of memory") : cli_bound_inputs_resolve(g, &cs, bound);
    if (rc != CLI_OK) {
        if (bound != NULL) cli_bound_inputs_free(bound);
        free(bound);
        dlc_graph_free(g);
        free(out_path);
        return rc;
    }
    for (int32_t i = 0; log != NULL && i < bound->count; i++)
        fprintf(log, "bind     input '%s' to %s (runs must pass this value)\n", bound->values[i].name,
                cs.binds[i] + strlen(bound->values[i].name) + 1);

    dlc_compile_options opts;
    dlc_compile_options_init(&opts);
    opts.opt_level = cs.opt_level;
    opts.cpu = cs.cpu;
    opts.input_shapes = cs.shapes;
    opts.num_input_shapes = cs.num_shapes;
    opts.print_after_all = print_after_all ? stdout : NULL;
    opts.print_ir = print_ir ? stdout : NULL;
    opts.log = log;
    opts.emit_llvm_path = emit_llvm;
    opts.input_values = bound->values;
    opts.num_input_values = bound->count;
    st = dlc_compile_graph(g, &opts, out_path);
    cli_bound_inputs_free(bound);
    free(bound);
    dlc_graph_free(g);
    if (st != DLC_OK) {
        free(out_path);
        return cli_status_error(st);
    }
    double t2 = cli_now_seconds();
    if (log) {
        struct stat sb;
        char size[32] = "?";
        if (stat(out_path, &sb) == 0) cli_format_bytes((uint64_t)sb.st_size, size, sizeof size);
        fprintf(log, "wrote    %s (%s, -O%d, cpu %s) in %.3f s (compile %.3f s)\n", out_path, size, cs.opt_level,
                cs.cpu ? cs.cpu : "native", t2 - t0, t2 - t1);
    }
    free(out_path);
    return CLI_OK;
}
