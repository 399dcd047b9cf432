/* The pass order per optimization level, with verification and IR dumps
 * between passes (dlc compile --print-after-all). */
#include <string.h>

#include "ir/printer.h"
#include "passes/pipeline.h"
#include "runtime/status.h"

typedef struct pass_entry {
    const char *name;
    int32_t min_level;
    dlc_status (*run)(dlc_graph *g, bool *out_changed);
} pass_entry;

static const pass_entry passes[] = {
    {"fold-batchnorm", 1, dlc_pass_fold_batchnorm},
    {"simplify", 1, dlc_pass_simplify},
    {"eliminate-identity", 1, dlc_pass_eliminate_identity},
    {"fold-transpose-matmul", 1, dlc_pass_fold_transpose_matmul},
    {"cse", 1, dlc_pass_cse},
    {"fuse-layernorm", 1, dlc_pass_fuse_layernorm},
    {"fuse-gelu", 1, dlc_pass_fuse_gelu},
    /* before fuse-epilogue: a MatMul -> Add(mask) of Q-prescaled attention
     * would otherwise be taken as a residual epilogue */
    {"fuse-attention", 1, dlc_pass_fuse_attention},
    {"fuse-epilogue", 1, dlc_pass_fuse_epilogue},
    {"fuse-elementwise", 1, dlc_pass_fuse_elementwise}, /* after the pattern fusions: what they leave */
    {"dead-code", 1, dlc_pass_dead_code},
    /* after the fusions (a fused residual is read in the conv's layout),
     * before prepack-weights (which packs these convs' weights for it) */
    {"blocked-layout", 2, dlc_pass_blocked_layout},
    /* last: the fusions above match on plain weights */
    {"prepack-weights", 1, dlc_pass_prepack_weights},
};

static dlc_status after_pass(dlc_graph *g, const dlc_pass_options *opts, const char *name, bool changed) {
    if (opts->verify_each) {
        dlc_status st = dlc_graph_verify(g);
        if (st != DLC_OK) return dlc_fail_context(st, "after pass %s", name);
    }
    if (opts->print_after_all != NULL) {
        fprintf(opts->print_after_all, "// ----- IR after %s%s -----\n", name, changed ? "" : " (unchanged)");
        dlc_graph_print(g, opts->print_after_all);
    }
    return DLC_OK;
}

dlc_status dlc_run_passes(dlc_graph *g, const dlc_pass_options *opts) {
    dlc_pass_options defaults = {.opt_level = 2};
    if (opts == NULL) opts = &defaults;
    DLC_TRY(after_pass(g, opts, "infer-and-fold", true));
    for (size_t i = 0; i < sizeof passes / sizeof passes[0]; i++) {
        if (opts->opt_level < passes[i].min_level) continue;
        bool changed = false;
        dlc_status (*run)(dlc_graph *, bool *) = passes[i].run;
        if (opts->sizes_vary && run == dlc_pass_cse) run = dlc_pass_cse_nodes;
        if (opts->sizes_vary && run == dlc_pass_fuse_elementwise) run = dlc_pass_fuse_elementwise_keep_constants;
        if (opts->sizes_vary && run == dlc_pass_prepack_weights) run = dlc_pass_prepack_weights_any_rows;
        dlc_status st = run(g, &changed);
        if (st != DLC_OK) return dlc_fail_context(st, "pass %s", passes[i].name);
        DLC_TRY(after_pass(g, opts, passes[i].name, changed));
    }
    return DLC_OK;
}
