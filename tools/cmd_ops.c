/* dlc ops: the ops this build supports, from the op registry itself (so the
 * README's table can be regenerated rather than kept by hand). */
#include <stdlib.h>
#include <string.h>

#include "ir/op_registry.h"
#include "tools/cli.h"

static const char usage[] =
    "usage: dlc ops [--markdown]\n\n"
    "Lists every supported op with its domain and the oldest opset handled.\n"
    "  --markdown   as a Markdown table\n";

static int by_name(const void *a, const void *b) {
    const dlc_op_schema *x = *(const dlc_op_schema *const *)a, *y = *(const dlc_op_schema *const *)b;
    int d = strcmp(x->domain ? x->domain : "", y->domain ? y->domain : "");
    return d != 0 ? d : strcmp(x->op_type, y->op_type);
}

int cmd_ops(int argc, char **argv) {
    bool markdown = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage, stdout);
            return CLI_OK;
        }
        if (strcmp(argv[i], "--markdown") == 0) markdown = true;
        else return cli_usage_error("ops", "unexpected argument '%s'", argv[i]);
    }
    int32_t n = dlc_op_count();
    const dlc_op_schema **ops = calloc((size_t)n + 1, sizeof *ops);
    if (ops == NULL) return cli_error("out of memory");
    for (int32_t i = 0; i < n; i++) ops[i] = dlc_op_at(i);
    qsort(ops, (size_t)n, sizeof *ops, by_name);
    if (markdown) printf("| op | domain | from opset |\n|---|---|---:|\n");
    for (int32_t i = 0; i < n; i++) {
        const char *domain = ops[i]->domain && ops[i]->domain[0] ? ops[i]->domain : "ai.onnx";
        if (markdown) printf("| %s | %s | %d |\n", ops[i]->op_type, domain, ops[i]->min_opset);
        else printf("%-28s %-16s opset %d+\n", ops[i]->op_type, domain, ops[i]->min_opset);
    }
    if (!markdown) printf("%d ops\n", n);
    free(ops);
    return CLI_OK;
}
