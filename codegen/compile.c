/* The compile driver: bind input shapes, infer and fold, optimize, check that
 * every shape is static, plan memory, generate the shared library. */
#include "codegen/compile.h"

#include <stdlib.h>
#include <string.h>

#include "codegen/dynamic.h"
#include "codegen/llvm/llvm_backend.h"
#include "frontend/onnx_import.h"
#include "ir/printer.h"
#include "passes/memory_plan.h"
#include "passes/pipeline.h"
#include "runtime/status.h"

void dlc_compile_options_init(dlc_compile_options *opts) {
    memset(opts, 0, sizeof *opts);
    opts->opt_level = 2;
    opts->cpu = NULL;
}

static const char *symbol_name(const dlc_graph *g, dlc_dim d) {
    return d.sym >= 0 && d.sym < g->num_symbols && g->symbols[d.sym] != NULL ? g->symbols[d.sym] : "?";
}

/* After binding symbol sym to size, every other input using it agrees. */
static void bind_symbol_everywhere(dlc_graph *g, int32_t sym, int64_t size) {
    for (int32_t i = 0; i < g->num_inputs; i++) {
        dlc_shape *s = &g->inputs[i]->shape;
        for (int32_t d = 0; d < s->rank; d++)
            if (!dlc_dim_is_static(s->dims[d]) && s->dims[d].sym == sym) s->dims[d] = (dlc_dim){size, -1};
    }
}

static dlc_status bind_one(dlc_graph *g, const dlc_input_shape *shape) {
    char have[256], want[256];
    dlc_value *input = NULL;
    for (int32_t i = 0; i < g->num_inputs; i++)
        if (shape->name != NULL && strcmp(g->inputs[i]->name, shape->name) == 0) input = g->inputs[i];
    if (input == NULL)
        return dlc_fail(DLC_ERR_NOT_FOUND, "input shape given for '%s', but the model has no input of that name",
                        shape->name ? shape->name : "(null)");
    if (shape->rank < 0 || shape->rank > DLC_MAX_RANK)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "input '%s': rank %d is out of range", input->name, shape->rank);
    dlc_shape given = dlc_shape_make(shape->rank, shape->dims);
    for (int32_t d = 0; d < shape->rank; d++)
        if (shape->dims[d] < 0)
            return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "input '%s': dim %d of the given shape %s is negative",
                            input->name, d, dlc_shape_format(g, &given, want, sizeof want));
    dlc_shape_format(g, &given, want, sizeof want);
    dlc_shape_format(g, &input->shape, have, sizeof have);
    if (input->shape.rank < 0) { /* unknown rank: take the given shape whole */
        input->shape = given;
        return DLC_OK;
    }
    if (input->shape.rank != shape->rank)
        return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "input '%s': cannot bind shape %s to %s%s (rank %d vs %d)",
                        input->name, want, dlc_dtype_name(input->dtype), have, shape->rank, input->shape.rank);
    for (int32_t d = 0; d < shape->rank; d++) {
        dlc_dim dim = input->shape.dims[d];
        if (dlc_dim_is_static(dim) && dim.value != shape->dims[d])
            return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "input '%s': cannot bind shape %s to %s%s (dim %d is fixed at %lld)",
                            input->name, want, dlc_dtype_name(input->dtype), have, d, (long long)dim.value);
    }
    for (int32_t d = 0; d < shape->rank; d++) {
        dlc_dim dim = input->shape.dims[d];
        if (dlc_dim_is_static(dim)) continue;
        if (dim.sym >= 0) bind_symbol_everywhere(g, dim.sym, shape->dims[d]);
        input->shape.dims[d] = (dlc_dim){shape->dims[d], -1};
    }
    return DLC_OK;
}

dlc_status dlc_bind_input_shapes(dlc_graph *g, const dlc_input_shape *shapes, int32_t count) {
    if (g == NULL || (count > 0 && shapes == NULL))
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "dlc_bind_input_shapes: NULL argument");
    for (int32_t i = 0; i < count; i++) DLC_TRY(bind_one(g, &shapes[i]));
    return DLC_OK;
}

/* Code generation needs every size known: name the first symbolic dim of an
 * input (the user can bind it), else the first tensor left without a shape. */
dlc_status dlc_check_static_shapes(const dlc_graph *g) {
    char shape[256];
    for (int32_t i = 0; i < g->num_inputs; i++) {
        const dlc_value *v = g->inputs[i];
        if (v->shape.rank < 0)
            return dlc_fail(DLC_ERR_UNSUPPORTED,
                            "input '%s' has an unknown rank; give its shape with --shape %s=d0,d1,...", v->name,
                            v->name);
        for (int32_t d = 0; d < v->shape.rank; d++) {
            if (dlc_dim_is_static(v->shape.dims[d])) continue;
            dlc_shape_format(g, &v->shape, shape, sizeof shape);
            return dlc_fail(DLC_ERR_UNSUPPORTED,
                            "input '%s' %s%s has symbolic dim '%s' (dim %d); dlc compiles static shapes: bind it, "
                            "e.g. --shape %s=... (dlc_compile_options.input_shapes)",
                            v->name, dlc_dtype_name(v->dtype), shape, symbol_name(g, v->shape.dims[d]), d, v->name);
        }
    }
    for (int32_t n = 0; n < g->num_nodes; n++) {
        const dlc_node *node = g->nodes[n];
        for (int32_t o = 0; o < node->num_outputs; o++) {
            const dlc_value *v = node->outputs[o];
            if (v == NULL || (v->shape.rank >= 0 && dlc_shape_is_static(&v->shape))) continue;
            char where[256];
            return dlc_fail(DLC_ERR_UNSUPPORTED,
                            "tensor '%s' (output of node %s) has shape %s, which is not static although every input "
                            "shape is; dlc cannot compile data-dependent shapes yet",
                            v->name, dlc_node_describe(node, where, sizeof where),
                            v->shape.rank < 0 ? "of unknown rank" : dlc_shape_format(g, &v->shape, shape, sizeof shape));
        }
    }
    return DLC_OK;
}

dlc_status dlc_compile_graph(dlc_graph *g, const dlc_compile_options *opts_in, const char *out_path) {
    if (g == NULL || out_path == NULL) return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "dlc_compile_graph: NULL argument");
    dlc_compile_options defaults;
    dlc_compile_options_init(&defaults);
    const dlc_compile_options *opts = opts_in != NULL ? opts_in : &defaults;
    if (opts->opt_level < 0 || opts->opt_level > 3)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "optimization level %d is out of range 0..3", opts->opt_level);

    DLC_TRY(dlc_bind_input_sequences(g, opts->input_sequences, opts->num_input_sequences));
    DLC_TRY(dlc_bind_input_shapes(g, opts->input_shapes, opts->num_input_shapes));
    /* symbolic dims left unbound: one artifact for every size (codegen/dynamic.h) */
    if (dlc_graph_has_symbolic_inputs(g)) return dlc_compile_dynamic(g, opts, out_path);
    DLC_TRY(dlc_bind_input_values(g, opts->input_values, opts->num_input_values));
    if (opts->log) fprintf(opts->log, "compile: graph '%s', %d nodes\n", g->name ? g->name : "", g->num_nodes);
    DLC_TRY(dlc_infer_and_fold(g));
    /* Debug and sanitizer builds check the IR after every pass (DLC_VERIFY_PASSES, set by CMake). */
#ifdef DLC_VERIFY_PASSES
    const bool verify_each = true;
#else
    const bool verify_each = getenv("DLC_VERIFY") != NULL;
#endif
    dlc_pass_options pass_opts = {
        .opt_level = opts->opt_level, .print_after_all = opts->print_after_all, .verify_each = verify_each};
    DLC_TRY(dlc_run_passes(g, &pass_opts));
    if (opts->log) fprintf(opts->log, "compile: %d nodes after graph passes\n", g->num_nodes);
    DLC_TRY(dlc_check_static_shapes(g));
    if (opts->print_ir) dlc_graph_print(g, opts->print_ir);

    dlc_memory_plan plan;
    DLC_TRY(dlc_memory_plan_build(g, &plan));
    if (opts->log)
        fprintf(opts->log, "compile: arena %llu bytes (%d nodes in place, %d copies shared), weights %llu bytes\n",
                (unsigned long long)plan.arena_size, plan.num_in_place, plan.num_copies_shared,
                (unsigned long long)plan.weights_size);
    dlc_status st = dlc_llvm_compile(g, &plan, NULL, opts, out_path);
    dlc_memory_plan_free(&plan);
    return st;
}

dlc_status dlc_compile_file(const char *onnx_path, const dlc_compile_options *opts, const char *out_path) {
    if (onnx_path == NULL || out_path == NULL)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "dlc_compile_file: NULL argument");
    dlc_graph *g;
    DLC_TRY(dlc_onnx_import_file(onnx_path, &g));
    dlc_status st = dlc_compile_graph(g, opts, out_path);
    if (st != DLC_OK) dlc_fail_context(st, "compiling '%s'", onnx_path);
    dlc_graph_free(g);
    return st;
}
