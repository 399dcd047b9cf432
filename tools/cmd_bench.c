/* dlc bench: latency of one model, as median/p90/p99 over many runs. */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tools/cli.h"
#include "tools/peak_flops.h"

static const char usage[] =
    "usage: dlc bench MODEL.so|MODEL.onnx [options]\n\n"
    "Times dlc_session_run. Inputs come from -i files or are synthesized\n"
    "(deterministic small floats, zero integers) when the shapes are static.\n"
    "Prints median, p90, p99 and min latency in milliseconds and the process\n"
    "CPU time per run (all threads; on a loaded machine the work done), then\n"
    "the achieved GFLOP/s at the median (the compiler's FLOP estimate) against\n"
    "the peak a register-only FMA loop measures at the same thread count,\n"
    "and the throughput in inferences (batch items) per second.\n\n"
    "options:\n"
    "  -i, --input FILE         an input tensor file (repeatable)\n"
    "  --threads N              threads per run (default 1)\n"
    "  --batch N                batch size: dim 0 of every input (-i tensors of\n"
    "                           batch 1 are repeated; synthesized ones get it)\n"
    "  --runs N                 timed runs (default 100)\n"
    "  --warmup N               untimed runs first (default 10)\n"
    "  --peak GFLOPS            the peak to compare with, instead of measuring it\n"
    "  --shape NAME=D0,D1,...   bind an input shape when compiling an .onnx\n"
    "  -O LEVEL, --cpu CPU      compile options for an .onnx\n"
    "  -h, --help               this text\n";

enum { OPT_THREADS = 256, OPT_RUNS, OPT_WARMUP, OPT_SHAPE, OPT_CPU, OPT_PEAK, OPT_BATCH };

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted values. */
static double percentile(const double *sorted, int n, double p) {
    int rank = (int)ceil(p / 100.0 * n);
    if (rank < 1) rank = 1;
    if (rank > n) rank = n;
    return sorted[rank - 1];
}

int cmd_bench(int argc, char **argv) {
    static const struct option options[] = {
        {"input", required_argument, NULL, 'i'},           {"threads", required_argument, NULL, OPT_THREADS},
        {"runs", required_argument, NULL, OPT_RUNS},       {"warmup", required_argument, NULL, OPT_WARMUP},
        {"shape", required_argument, NULL, OPT_SHAPE},     {"input-shape", required_argument, NULL, OPT_SHAPE},
        {"cpu", required_argument, NULL, OPT_CPU},         {"help", no_argument, NULL, 'h'},
        {"peak", required_argument, NULL, OPT_PEAK},       {"batch", required_argument, NULL, OPT_BATCH},
        {NULL, 0, NULL, 0},
    };
    cli_compile_settings cs;
    cli_compile_settings_init(&cs);
    char **input_paths = calloc((size_t)argc + 1, sizeof *input_paths);
    if (input_paths == NULL) return cli_error("out of memory");
    int num_inputs = 0, rc = CLI_OK;
    int64_t threads = 1, runs = 100, warmup = 10, batch = 0;
    double peak = -1.0;
    opterr = 0;
    optind = 0;
    int opt;
    while (rc == CLI_OK && (opt = getopt_long(argc, argv, "i:O:h", options, NULL)) != -1) {
        switch (opt) {
        case 'i': input_paths[num_inputs++] = optarg; break;
        case OPT_THREADS:
            if (!cli_parse_int(optarg, 0, 4096, &threads))
                rc = cli_usage_error("bench", "--threads '%s': expected a number of threads", optarg);
            break;
        case OPT_RUNS:
            if (!cli_parse_int(optarg, 1, 10000000, &runs))
                rc = cli_usage_error("bench", "--runs '%s': expected a positive number", optarg);
            break;
        case OPT_BATCH:
            if (!cli_parse_int(optarg, 1, 1 << 20, &batch))
                rc = cli_usage_error("bench", "--batch '%s': expected a positive number", optarg);
            break;
        case OPT_WARMUP:
            if (!cli_parse_int(optarg, 0, 10000000, &warmup))
                rc = cli_usage_error("bench", "--warmup '%s': expected a number", optarg);
            break;
        case OPT_SHAPE:
            if (!cli_add_shape(&cs, optarg)) rc = CLI_USAGE;
            break;
        case OPT_CPU: cs.cpu = optarg; break;
        case OPT_PEAK:
            if (!cli_parse_double(optarg, &peak) || peak <= 0)
                rc = cli_usage_error("bench", "--peak '%s': expected GFLOP/s above 0", optarg);
            break;
        case 'O':
            if (!cli_parse_opt_level(optarg, &cs.opt_level))
                rc = cli_usage_error("bench", "-O%s: the level is 0, 1, 2 or 3", optarg);
            break;
        case 'h': fputs(usage, stdout); free(input_paths); return CLI_OK;
        default: rc = cli_usage_error("bench", "unknown option or missing value in '%s'", argv[optind - 1]);
        }
    }
    if (rc == CLI_OK && optind >= argc) rc = cli_usage_error("bench", "no model given");
    if (rc == CLI_OK && argc - optind > 1)
        rc = cli_usage_error("bench", "one model at a time; unexpected '%s'", argv[optind + 1]);
    if (rc != CLI_OK) {
        free(input_paths);
        return rc;
    }
    const char *model_path = argv[optind];

    cli_timed_model tm;
    double cpu0 = 0.0, cpu_ms = 0.0;
    double *times = calloc((size_t)runs, sizeof *times);
    if (times == NULL) rc = cli_error("out of memory");
    if (rc == CLI_OK) rc = cli_timed_model_open(model_path, &cs, input_paths, num_inputs, batch, threads, &tm);
    else memset(&tm, 0, sizeof tm);
    const cli_bindings *b = &tm.bindings;
    if (rc == CLI_OK) {
        dlc_status st = DLC_OK;
        for (int64_t i = 0; st == DLC_OK && i < warmup + runs; i++) {
            if (i == warmup) cpu0 = cli_cpu_seconds();
            double t0 = cli_now_seconds();
            st = dlc_session_run(tm.session, b->inputs, b->num_inputs, b->outputs, b->num_outputs);
            if (i >= warmup) times[i - warmup] = (cli_now_seconds() - t0) * 1e3;
        }
        cpu_ms = (cli_cpu_seconds() - cpu0) * 1e3 / (double)runs;
        if (st != DLC_OK) rc = cli_status_error(st);
    }
    if (rc == CLI_OK) {
        int n = (int)runs;
        qsort(times, (size_t)n, sizeof *times, by_value);
        double median = n % 2 ? times[n / 2] : 0.5 * (times[n / 2 - 1] + times[n / 2]);
        printf("bench %s: threads %lld, runs %d: median %.4f ms  p90 %.4f ms  p99 %.4f ms  min %.4f ms  cpu %.4f ms/run\n",
               model_path, (long long)threads, n, median, percentile(times, n, 90), percentile(times, n, 99), times[0],
               cpu_ms);
        char why[512];
        double flops = 0.0, *node_flops = cli_node_flops(tm.model.model, b, why, sizeof why);
        for (int i = 0; node_flops != NULL && i < dlc_model_num_nodes(tm.model.model); i++) flops += node_flops[i];
        if (peak < 0) peak = dlc_peak_gflops_best(threads > 0 ? (int)threads : 1);
        double gflops = median > 0 ? flops / (median * 1e-3) * 1e-9 : 0.0;
        if (node_flops == NULL) {
            printf("bench %s: GFLOP/s not shown: %s\n", model_path, why);
        } else {
            printf("bench %s: %.4f GFLOP per run, %.2f GFLOP/s at the median", model_path, flops * 1e-9, gflops);
            if (peak > 0) printf(" = %.1f%% of the %.1f GFLOP/s peak", 100.0 * gflops / peak, peak);
            printf("\n");
        }
        free(node_flops);
        int64_t items = batch > 0 ? batch : (b->num_inputs > 0 && b->inputs[0].rank > 0 ? b->inputs[0].dims[0] : 1);
        if (median > 0)
            printf("bench %s: throughput %.1f inferences/s at the median (batch %lld)\n", model_path,
                   (double)items * 1e3 / median, (long long)items);
    }
    cli_timed_model_close(&tm);
    free(times);
    free(input_paths);
    return rc;
}
