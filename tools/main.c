/* dlc: the command line. Each command lives in tools/cmd_<name>.c. */
#include <stdio.h>
#include <string.h>

#include "tools/cli.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"compile", cmd_compile, "compile an ONNX model into a shared library (model.so)"},
    {"run", cmd_run, "run a model on tensor files (.pb) and write its outputs"},
    {"test", cmd_test, "run ONNX backend-test folders (model.onnx + test_data_set_*) and compare outputs"},
    {"inspect", cmd_inspect, "describe a model: inputs, outputs, ops, parameters, FLOPs"},
    {"bench", cmd_bench, "time a model: median, p90 and p99 latency, achieved GFLOP/s"},
    {"profile", cmd_profile, "time every kernel of a model: share of the run, GFLOP/s against the peak"},
    {"ops", cmd_ops, "list the supported ONNX ops"},
};

static void print_help(FILE *out) {
    fprintf(out,
            "dlc %s: a compiler for ONNX models to native shared libraries\n\n"
            "usage: dlc <command> [options]\n"
            "       dlc <command> --help\n"
            "       dlc --version\n\ncommands:\n",
            DLC_VERSION_STRING);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nexamples:\n"
                 "  dlc compile model.onnx -o model.so\n"
                 "  dlc run model.so -i input_0.pb -o out/\n"
                 "  dlc test models/mlp_mnist\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        print_help(stderr);
        return CLI_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
        if (strcmp(name, "help") == 0 && argc > 2) {
            for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
                if (strcmp(commands[i].name, argv[2]) == 0) {
                    char *help_argv[] = {argv[2], "--help", NULL};
                    return commands[i].run(2, help_argv);
                }
        }
        print_help(stdout);
        return CLI_OK;
    }
    if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0) {
        printf("dlc %s (LLVM 19 backend)\n", DLC_VERSION_STRING);
        return CLI_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, name) == 0) return commands[i].run(argc - 1, argv + 1);
    return cli_usage_error(NULL, "unknown command '%s'", name);
}
