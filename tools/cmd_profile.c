/* dlc profile: where a run's time goes, kernel by kernel, with the achieved
 * GFLOP/s of each against the machine's measured FMA peak. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "tools/cli.h"
#include "tools/peak_flops.h"

static const char usage[] =
    "usage: dlc profile MODEL.so|MODEL.onnx [options]\n\n"
    "Runs the model with per-kernel timing (dlc_session_run_profiled) and prints\n"
    "every kernel call, slowest first: mean ms per run, share of the kernels'\n"
    "total, achieved GFLOP/s from the compiler's FLOP estimate and its share of\n"
    "the peak measured by a register-only FMA loop; then the same by op type.\n"
    "Inputs come from -i files or are synthesized as for dlc bench.\n\n"
    "options:\n"
    "  -i, --input FILE         an input tensor file (repeatable)\n"
    "  --threads N              threads per run (default 1)\n"
    "  --runs N                 profiled runs (default 20), after 3 warm-up runs\n"
    "  --top N                  kernel lines to print (default 25, 0: all)\n"
    "  --peak GFLOPS            the peak to compare with, instead of measuring it\n"
    "  --shape NAME=D0,D1,...   bind an input shape when compiling an .onnx\n"
    "  -O LEVEL, --cpu CPU      compile options for an .onnx\n"
    "  -h, --help               this text\n";

enum { OPT_THREADS = 256, OPT_RUNS, OPT_TOP, OPT_PEAK, OPT_SHAPE, OPT_CPU };

typedef struct row {
    const char *name; /* "node (OpType)", or the op type in the by-op table */
    double seconds;   /* summed over runs */
    double flops;     /* per run */
    int64_t calls;    /* per run */
} row;

static int by_time(const void *a, const void *b) {
    double x = ((const row *)a)->seconds, y = ((const row *)b)->seconds;
    return (x < y) - (x > y);
}

/* The op type inside the last "(...)" of a node name, into buf. */
static const char *op_of(const char *name, char *buf, size_t size) {
    const char *open = strrchr(name, '(');
    const char *close = open ? strchr(open, ')') : NULL;
    if (open == NULL || close == NULL || (size_t)(close - open - 1) >= size) return "?";
    memcpy(buf, open + 1, (size_t)(close - open - 1));
    buf[close - open - 1] = '\0';
    return buf;
}

/* flops_known false: the GFLOP/s columns show "-" (see cli_node_flops). */
static void print_row(const row *r, int64_t runs, double total, double peak, bool flops_known) {
    double ms = r->seconds / (double)runs * 1e3;
    double gflops = r->seconds > 0 ? r->flops * (double)runs / r->seconds * 1e-9 : 0.0;
    printf("%10.4f  %5.1f%%  %5lld  ", ms, total > 0 ? 100.0 * r->seconds / total : 0.0, (long long)r->calls);
    if (flops_known) printf("%9.2f  %5.1f%%  %s\n", gflops, peak > 0 ? 100.0 * gflops / peak : 0.0, r->name);
    else printf("%9s  %6s  %s\n", "-", "-", r->name);
}

/* node_flops NULL: unknown, for the reason in why. */
static int report(const dlc_model *model, const double *node_seconds, const double *node_flops, const char *why,
                  int64_t runs, int64_t top, double peak, double wall_seconds) {
    int n = dlc_model_num_nodes(model);
    row *rows = calloc((size_t)n + 1, sizeof *rows), *ops = calloc((size_t)n + 1, sizeof *ops);
    char (*op_names)[64] = calloc((size_t)n + 1, sizeof *op_names);
    if (rows == NULL || ops == NULL || op_names == NULL) {
        free(rows), free(ops), free(op_names);
        return cli_error("out of memory");
    }
    double total = 0.0, flops = 0.0;
    int num_ops = 0;
    for (int i = 0; i < n; i++) {
        const char *name = dlc_model_node_name(model, i);
        rows[i] = (row){.name = name ? name : "?", .seconds = node_seconds[i],
                        .flops = node_flops != NULL ? node_flops[i] : 0.0, .calls = 1};
        total += node_seconds[i];
        flops += rows[i].flops;
        char buf[64];
        const char *op = op_of(rows[i].name, buf, sizeof buf);
        int k = 0;
        while (k < num_ops && strcmp(op_names[k], op) != 0) k++;
        if (k == num_ops) {
            snprintf(op_names[num_ops], sizeof op_names[0], "%s", op);
            ops[num_ops++] = (row){.name = op_names[k]};
        }
        ops[k].seconds += node_seconds[i];
        ops[k].flops += rows[i].flops;
        ops[k].calls++;
    }
    qsort(rows, (size_t)n, sizeof *rows, by_time);
    qsort(ops, (size_t)num_ops, sizeof *ops, by_time);
    double run_ms = wall_seconds / (double)runs * 1e3, kernel_ms = total / (double)runs * 1e3;
    double model_gflops = total > 0 ? flops * (double)runs / total * 1e-9 : 0.0;
    bool flops_known = node_flops != NULL;
    printf("%d kernel calls per run; %.4f ms per run (kernels %.4f ms)", n, run_ms, kernel_ms);
    if (flops_known) printf("; %.3f GFLOP per run, %.2f GFLOP/s", flops * 1e-9, model_gflops);
    else printf("; GFLOP/s not shown: %s", why);
    if (flops_known && peak > 0) printf(" = %.1f%% of the %.1f GFLOP/s peak", 100.0 * model_gflops / peak, peak);
    printf("\n\n   ms/run   share  calls    GFLOP/s  %%peak  kernel\n");
    int shown = top > 0 && top < n ? (int)top : n;
    for (int i = 0; i < shown; i++) print_row(&rows[i], runs, total, peak, flops_known);
    if (shown < n) printf("  ... %d more kernel calls (--top 0 lists all)\n", n - shown);
    printf("\n   ms/run   share  calls    GFLOP/s  %%peak  op\n");
    for (int k = 0; k < num_ops; k++) print_row(&ops[k], runs, total, peak, flops_known);
    free(rows), free(ops), free(op_names);
    return CLI_OK;
}

int cmd_profile(int argc, char **argv) {
    static const struct option options[] = {
        {"input", required_argument, NULL, 'i'},     {"threads", required_argument, NULL, OPT_THREADS},
        {"runs", required_argument, NULL, OPT_RUNS}, {"top", required_argument, NULL, OPT_TOP},
        {"peak", required_argument, NULL, OPT_PEAK}, {"shape", required_argument, NULL, OPT_SHAPE},
        {"cpu", required_argument, NULL, OPT_CPU},   {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    cli_compile_settings cs;
    cli_compile_settings_init(&cs);
    char **input_paths = calloc((size_t)argc + 1, sizeof *input_paths);
    if (input_paths == NULL) return cli_error("out of memory");
    int num_inputs = 0, rc = CLI_OK;
    int64_t threads = 1, runs = 20, top = 25;
    double peak = -1.0;
    opterr = 0;
    optind = 0;
    int opt;
    while (rc == CLI_OK && (opt = getopt_long(argc, argv, "i:O:h", options, NULL)) != -1) {
        switch (opt) {
        case 'i': input_paths[num_inputs++] = optarg; break;
        case OPT_THREADS:
            if (!cli_parse_int(optarg, 1, 4096, &threads))
                rc = cli_usage_error("profile", "--threads '%s': expected a number of threads", optarg);
            break;
        case OPT_RUNS:
            if (!cli_parse_int(optarg, 1, 10000000, &runs))
                rc = cli_usage_error("profile", "--runs '%s': expected a positive number", optarg);
            break;
        case OPT_TOP:
            if (!cli_parse_int(optarg, 0, 10000000, &top))
                rc = cli_usage_error("profile", "--top '%s': expected a number", optarg);
            break;
        case OPT_PEAK:
            if (!cli_parse_double(optarg, &peak) || peak <= 0)
                rc = cli_usage_error("profile", "--peak '%s': expected GFLOP/s above 0", optarg);
            break;
        case OPT_SHAPE:
            if (!cli_add_shape(&cs, optarg)) rc = CLI_USAGE;
            break;
        case OPT_CPU: cs.cpu = optarg; break;
        case 'O':
            if (!cli_parse_opt_level(optarg, &cs.opt_level))
                rc = cli_usage_error("profile", "-O%s: the level is 0, 1, 2 or 3", optarg);
            break;
        case 'h': fputs(usage, stdout); free(input_paths); return CLI_OK;
        default: rc = cli_usage_error("profile", "unknown option or missing value in '%s'", argv[optind - 1]);
        }
    }
    if (rc == CLI_OK && optind >= argc) rc = cli_usage_error("profile", "no model given");
    if (rc == CLI_OK && argc - optind > 1)
        rc = cli_usage_error("profile", "one model at a time; unexpected '%s'", argv[optind + 1]);
    if (rc != CLI_OK) {
        free(input_paths);
        return rc;
    }
    const char *model_path = argv[optind];
    cli_timed_model tm;
    double *once = NULL, *sum = NULL, wall = 0.0;
    rc = cli_timed_model_open(model_path, &cs, input_paths, num_inputs, 0, threads, &tm);
    const cli_bindings *b = &tm.bindings;
    if (rc == CLI_OK) {
        size_t n = (size_t)dlc_model_num_nodes(tm.model.model) + 1;
        once = calloc(n, sizeof *once);
        sum = calloc(n, sizeof *sum);
        if (once == NULL || sum == NULL) rc = cli_error("out of memory");
    }
    if (rc == CLI_OK) {
        dlc_status st = DLC_OK;
        for (int i = 0; st == DLC_OK && i < 3; i++)
            st = dlc_session_run(tm.session, b->inputs, b->num_inputs, b->outputs, b->num_outputs);
        for (int64_t r = 0; st == DLC_OK && r < runs; r++) {
            double t0 = cli_now_seconds();
            st = dlc_session_run_profiled(tm.session, b->inputs, b->num_inputs, b->outputs, b->num_outputs, once);
            wall += cli_now_seconds() - t0;
            for (int i = 0; i < dlc_model_num_nodes(tm.model.model); i++) sum[i] += once[i];
        }
        if (st != DLC_OK) rc = cli_status_error(st);
    }
    if (rc == CLI_OK) {
        if (peak < 0) peak = dlc_peak_gflops_best((int)threads);
        printf("profile %s: threads %lld, runs %lld\n", model_path, (long long)threads, (long long)runs);
        char why[512];
        double *flops = cli_node_flops(tm.model.model, b, why, sizeof why);
        rc = report(tm.model.model, sum, flops, why, runs, top, peak, wall);
        free(flops);
    }
    cli_timed_model_close(&tm);
    free(once);
    free(sum);
    free(input_paths);
    return rc;
}
