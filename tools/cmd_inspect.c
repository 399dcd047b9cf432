/* dlc inspect: what a model takes, gives and costs. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/onnx_import.h"
#include "ir/op_registry.h"
#include "ir/printer.h"
#include "passes/pipeline.h"
#include "tools/cli.h"

static const char usage[] =
    "usage: dlc inspect MODEL.onnx [options]\n\n"
    "Prints inputs and outputs (dtype, shape with symbolic dims), an op histogram,\n"
    "the parameter count and size, the estimated FLOPs of one run and the opsets.\n\n"
    "options:\n"
    "  --shape NAME=D0,D1,...   bind a symbolic input shape first (repeatable)\n"
    "  --sequence NAME=N|none   a sequence input's length or an optional's presence (see\n"
    "                           dlc compile --help); needed to infer past such inputs\n"
    "  --ir                     also print the IR after the graph passes\n"
    "  -O LEVEL                 passes for --ir (default 2)\n"
    "  -h, --help               this text\n";

enum { OPT_SHAPE = 256, OPT_IR, OPT_SEQUENCE };

/* 1234567 → "1,234,567" */
static const char *group_digits(int64_t v, char *buf, size_t size) {
    char digits[32];
    int n = snprintf(digits, sizeof digits, "%lld", (long long)(v < 0 ? -v : v));
    size_t used = 0;
    if (v < 0 && used + 1 < size) buf[used++] = '-';
    for (int i = 0; i < n && used + 2 < size; i++) {
        if (i > 0 && (n - i) % 3 == 0) buf[used++] = ',';
        buf[used++] = digits[i];
    }
    buf[used] = '\0';
    return buf;
}

typedef struct op_count {
    const char *op_type;
    int count;
} op_count;

static int by_count(const void *a, const void *b) {
    const op_count *x = a, *y = b;
    if (x->count != y->count) return y->count - x->count;
    return strcmp(x->op_type, y->op_type);
}

static void print_values(const char *title, const dlc_graph *g, dlc_value *const *values, int32_t count) {
    char type[320];
    size_t width = 0;
    for (int32_t i = 0; i < count; i++)
        if (strlen(values[i]->name) > width) width = strlen(values[i]->name);
    printf("%s (%d)\n", title, count);
    for (int32_t i = 0; i < count; i++)
        printf("  %-*s  %s\n", (int)width, values[i]->name, dlc_value_type_format(g, values[i], type, sizeof type));
}

static int print_histogram(const dlc_graph *g) {
    op_count *counts = calloc((size_t)g->num_nodes + 1, sizeof *counts);
    if (counts == NULL) return cli_error("out of memory");
    int distinct = 0;
    for (int32_t i = 0; i < g->num_nodes; i++) {
        int k = 0;
        while (k < distinct && strcmp(counts[k].op_type, g->nodes[i]->op_type) != 0) k++;
        if (k == distinct) counts[distinct++] = (op_count){g->nodes[i]->op_type, 0};
        counts[k].count++;
    }
    qsort(counts, (size_t)distinct, sizeof *counts, by_count);
    printf("ops (%d nodes, %d kinds)\n", g->num_nodes, distinct);
    for (int k = 0; k < distinct; k++) printf("  %-24s %d\n", counts[k].op_type, counts[k].count);
    free(counts);
    return CLI_OK;
}

static void print_parameters(const dlc_graph *g) {
    int64_t elements = 0, tensors = 0;
    uint64_t bytes = 0;
    for (int32_t i = 0; i < g->num_values; i++) {
        const dlc_value *v = g->values[i];
        if (v == NULL || v->kind != DLC_VALUE_CONST) continue;
        int64_t n = dlc_value_numel(v);
        if (n > 0) elements += n;
        bytes += v->nbytes;
        tensors++;
    }
    char count[48], size[32];
    printf("parameters  %s in %lld tensors (%s)\n", group_digits(elements, count, sizeof count), (long long)tensors,
           cli_format_bytes(bytes, size, sizeof size));
}

static bool has_symbolic_input(const dlc_graph *g) {
    for (int32_t i = 0; i < g->num_inputs; i++)
        if (!dlc_shape_is_static(&g->inputs[i]->shape)) return true;
    return false;
}

/* Sum of the schemas' estimates; false when a shape is still symbolic. */
static bool estimate_flops(const dlc_graph *g, int64_t *out) {
    int64_t total = 0;
    for (int32_t i = 0; i < g->num_nodes; i++) {
        int64_t f = dlc_node_flops(g->nodes[i]);
        if (f < 0) return false;
        total += f;
    }
    *out = total;
    return true;
}

int cmd_inspect(int argc, char **argv) {
    static const struct option options[] = {
        {"shape", required_argument, NULL, OPT_SHAPE}, {"input-shape", required_argument, NULL, OPT_SHAPE},
        {"ir", no_argument, NULL, OPT_IR},             {"help", no_argument, NULL, 'h'},
        {"sequence", required_argument, NULL, OPT_SEQUENCE},
        {NULL, 0, NULL, 0},
    };
    cli_compile_settings cs;
    cli_compile_settings_init(&cs);
    bool print_ir = false;
    opterr = 0;
    optind = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, "O:h", options, NULL)) != -1) {
        switch (opt) {
        case OPT_SHAPE:
            if (!cli_add_shape(&cs, optarg)) return CLI_USAGE;
            break;
        case OPT_SEQUENCE:
            if (!cli_add_sequence(&cs, optarg)) return CLI_USAGE;
            break;
        case OPT_IR: print_ir = true; break;
        case 'O':
            if (!cli_parse_opt_level(optarg, &cs.opt_level))
                return cli_usage_error("inspect", "-O%s: the level is 0, 1, 2 or 3", optarg);
            break;
        case 'h': fputs(usage, stdout); return CLI_OK;
        default: return cli_usage_error("inspect", "unknown option or missing value in '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc) return cli_usage_error("inspect", "no model given");
    if (argc - optind > 1) return cli_usage_error("inspect", "one model at a time; unexpected '%s'", argv[optind + 1]);
    const char *path = argv[optind];

    dlc_graph *g;
    dlc_status st = dlc_onnx_import_file(path, &g);
    if (st != DLC_OK) return cli_status_error(st);
    printf("model       %s\n", path);
    printf("graph       '%s'\n", g->name ? g->name : "");
    printf("opsets     ");
    for (int32_t i = 0; i < g->num_opsets; i++)
        printf(" %s %lld", g->opsets[i].domain[0] ? g->opsets[i].domain : "ai.onnx", (long long)g->opsets[i].version);
    printf("\n");
    int rc = print_histogram(g);
    if (rc == CLI_OK) print_parameters(g);

    st = dlc_bind_input_sequences(g, cs.sequences, cs.num_sequences);
    if (st == DLC_OK) st = dlc_bind_input_shapes(g, cs.shapes, cs.num_shapes);
    if (st == DLC_OK) st = dlc_infer_and_fold(g);
    if (rc == CLI_OK) {
        print_values("inputs", g, g->inputs, g->num_inputs);
        print_values("outputs", g, g->outputs, g->num_outputs);
    }
    bool partial = false;
    if (rc == CLI_OK && st != DLC_OK && has_symbolic_input(g)) {
        /* a dynamic model whose shapes past some node need the sizes: still a
         * useful summary, and dlc compile handles it without --shape */
        printf("shapes      inferred only up to a node that needs the symbolic sizes:\n"
               "            %s\n"
               "            (bind them with --shape NAME=D0,D1,... to infer further)\n",
               dlc_last_error());
        partial = true;
    } else if (rc == CLI_OK && st != DLC_OK) {
        rc = cli_status_error(st);
    }
    if (rc == CLI_OK) {
        int64_t flops;
        char text[48];
        if (estimate_flops(g, &flops)) printf("FLOPs       %s per run (estimated)\n", group_digits(flops, text, sizeof text));
        else printf("FLOPs       unknown: symbolic dims (bind them with --shape NAME=D0,D1,...)\n");
    }
    if (rc == CLI_OK && print_ir && partial) {
        rc = cli_error("--print-ir needs every shape: bind the symbolic dims with --shape NAME=D0,D1,...");
    } else if (rc == CLI_OK && print_ir) {
        dlc_pass_options po = {.opt_level = cs.opt_level};
        st = dlc_run_passes(g, &po);
        if (st != DLC_OK) rc = cli_status_error(st);
        else {
            printf("\n");
            dlc_graph_print(g, stdout);
        }
    }
    dlc_graph_free(g);
    return rc;
}
