/* The LLVM backend and compile driver: optimization levels agree, targets
 * resolve (or fail clearly), the .so exports one symbol, failed compiles
 * leave nothing behind, outputs that alias inputs or each other are copied. */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "dlc/dlc.h"
#include "dlc/dlc_artifact.h"
#include "model_builders.h"

static void run_mlp(const char *path, float *y) {
    dlc_model *m;
    dlc_session *s;
    cr_assert_eq(dlc_model_load(path, &m), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(dlc_session_create(m, NULL, &s), DLC_OK, "%s", dlc_last_error());
    float x[MLP_BATCH * MLP_IN];
    mlp_input(x);
    dlc_tensor in = {DLC_FLOAT32, 2, {MLP_BATCH, MLP_IN}, x, sizeof x};
    dlc_tensor out = {DLC_FLOAT32, 2, {MLP_BATCH, MLP_OUT}, y, MLP_BATCH * MLP_OUT * sizeof(float)};
    cr_assert_eq(dlc_session_run(s, &in, 1, &out, 1), DLC_OK, "%s", dlc_last_error());
    dlc_session_free(s);
    dlc_model_free(m);
}

Test(codegen, all_optimization_levels_agree) {
    char dir[64], path[256];
    tb_mkdtemp(dir, sizeof dir);
    float x[MLP_BATCH * MLP_IN], want[MLP_BATCH * MLP_OUT];
    mlp_input(x);
    mlp_reference(x, want);
    for (int level = 0; level <= 3; level++) {
        char name[16];
        snprintf(name, sizeof name, "O%d.so", level);
        tb_compile_mlp(dir, name, level, NULL, path, sizeof path);
        float y[MLP_BATCH * MLP_OUT];
        run_mlp(path, y);
        for (int i = 0; i < MLP_BATCH * MLP_OUT; i++)
            cr_assert(fabsf(y[i] - want[i]) <= 1e-5f, "-O%d element %d: %g vs %g", level, i, (double)y[i],
                      (double)want[i]);
    }
    tb_rmdir(dir);
}

Test(codegen, portable_cpu_levels_compile_and_run) {
    char dir[64], path[256];
    tb_mkdtemp(dir, sizeof dir);
    tb_compile_mlp(dir, "v2.so", 2, "x86-64-v2", path, sizeof path);
    float y[MLP_BATCH * MLP_OUT], want[MLP_BATCH * MLP_OUT], x[MLP_BATCH * MLP_IN];
    run_mlp(path, y);
    mlp_input(x);
    mlp_reference(x, want);
    for (int i = 0; i < MLP_BATCH * MLP_OUT; i++) cr_assert(fabsf(y[i] - want[i]) <= 1e-5f);
    dlc_model *m;
    cr_assert_eq(dlc_model_load(path, &m), DLC_OK, "%s", dlc_last_error());
    cr_assert_str_eq(dlc_model_target(m), "x86-64-v2");
    dlc_model_free(m);

    /* the descriptor records what the loader must check */
    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    cr_assert_not_null(handle, "%s", dlerror());
    dlc_artifact_describe_fn describe;
    void *entry = dlsym(handle, DLC_ARTIFACT_ENTRY);
    cr_assert_not_null(entry);
    memcpy(&describe, &entry, sizeof describe);
    const dlc_artifact_desc *desc = describe();
    cr_assert_eq(desc->magic, DLC_ARTIFACT_MAGIC);
    cr_assert_eq(desc->abi_version, DLC_ARTIFACT_ABI_VERSION);
    cr_assert_eq(desc->required_cpu_features, (uint64_t)(DLC_CPU_SSE4_2 | DLC_CPU_POPCNT));
    cr_assert_eq(desc->num_nodes, 2); /* the Relu is fused into the Gemm (fuse-epilogue) */
    cr_assert_str_eq(desc->node_names[0], "fc (Gemm+Relu)");
    cr_assert_eq(desc->weights_size % 64, 0);
    cr_assert_geq(desc->arena_alignment, 64);
    dlclose(handle);
    tb_rmdir(dir);
}

Test(codegen, unknown_cpu_is_a_clear_error_and_leaves_nothing) {
    char dir[64], path[256];
    tb_mkdtemp(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/never.so", dir);
    dlc_graph *g = tb_mlp_graph();
    dlc_compile_options opts;
    dlc_compile_options_init(&opts);
    opts.cpu = "pentium-9000";
    cr_assert_eq(dlc_compile_graph(g, &opts, path), DLC_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(dlc_last_error(), "unknown target CPU 'pentium-9000'") != NULL, "%s", dlc_last_error());
    cr_assert(strstr(dlc_last_error(), "x86-64-v3") != NULL, "%s", dlc_last_error());
    cr_assert_eq(tb_count_files(dir), 0);
    dlc_graph_free(g);
    tb_rmdir(dir);
}

Test(codegen, artifact_exports_only_the_entry_point) {
    char dir[64], path[256];
    tb_mkdtemp(dir, sizeof dir);
    tb_compile_mlp(dir, "m.so", 2, NULL, path, sizeof path);
    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    cr_assert_not_null(handle, "%s", dlerror());
    cr_assert_not_null(dlsym(handle, DLC_ARTIFACT_ENTRY));
    /* kernels and the run function stay internal */
    cr_assert_null(dlsym(handle, "dlc_kernel_copy"));
    cr_assert_null(dlsym(handle, "dlc_kernel_gemm"));
    cr_assert_null(dlsym(handle, "dlc_model_run"));
    cr_assert_null(dlsym(handle, "dlc_parallel_for"));
    dlclose(handle);

    char command[400];
    snprintf(command, sizeof command, "nm -D --defined-only '%s' 2>/dev/null", path);
    FILE *nm = popen(command, "r");
    if (nm != NULL) {
        char line[512];
        int symbols = 0;
        while (fgets(line, sizeof line, nm) != NULL) {
            symbols++;
            cr_assert(strstr(line, DLC_ARTIFACT_ENTRY) != NULL, "unexpected export: %s", line);
        }
        int status = pclose(nm);
        if (status == 0) cr_assert_eq(symbols, 1);
    }
    tb_rmdir(dir);
}

Test(codegen, emit_llvm_writes_the_optimized_ir) {
    char dir[64], path[256], ll[256];
    tb_mkdtemp(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/m.so", dir);
    snprintf(ll, sizeof ll, "%s/m.ll", dir);
    dlc_graph *g = tb_mlp_graph();
    dlc_compile_options opts;
    dlc_compile_options_init(&opts);
    opts.emit_llvm_path = ll;
    cr_assert_eq(dlc_compile_graph(g, &opts, path), DLC_OK, "%s", dlc_last_error());
    dlc_graph_free(g);
    FILE *f = fopen(ll, "r");
    cr_assert_not_null(f);
    static char text[1 << 20];
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    char *entry = strstr(text, "@" DLC_ARTIFACT_ENTRY "()");
    cr_assert(entry != NULL && strstr(text, "define ") != NULL && strstr(text, "define ") < entry);
    cr_assert_eq(tb_count_files(dir), 2, "only the model and the IR: no temporaries left");
    tb_rmdir(dir);
}

Test(codegen, symbolic_input_dim_compiles_for_every_size_or_binds) {
    char dir[64], path[256];
    tb_mkdtemp(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/sym.so", dir);
    /* a graph built in memory (no model file) left symbolic: one artifact
     * for every batch, its samples cloned from the graph */
    dlc_graph *g = tb_mlp_graph();
    cr_assert_null(g->source_path);
    int32_t sym;
    cr_assert_eq(dlc_graph_symbol(g, "batch", &sym), DLC_OK);
    g->inputs[0]->shape.dims[0] = (dlc_dim){-1, sym};
    cr_assert_eq(dlc_compile_graph(g, NULL, path), DLC_OK, "%s", dlc_last_error());
    dlc_graph_free(g);
    dlc_model *model;
    cr_assert_eq(dlc_model_load(path, &model), DLC_OK, "%s", dlc_last_error());
    dlc_tensor_info info;
    cr_assert_eq(dlc_model_input(model, 0, &info), DLC_OK);
    cr_assert_lt(info.dims[0], 0, "dim 0 stays symbolic");
    dlc_model_free(model);
    float dynamic_y[MLP_BATCH * MLP_OUT];
    run_mlp(path, dynamic_y);

    /* binding it compiles, and a wrong binding names both shapes */
    g = tb_mlp_graph();
    g->inputs[0]->shape.dims[0] = (dlc_dim){-1, 0};
    cr_assert_eq(dlc_graph_symbol(g, "batch", &g->inputs[0]->shape.dims[0].sym), DLC_OK);
    dlc_input_shape bad = {"x", 2, {2, 5}};
    dlc_compile_options opts;
    dlc_compile_options_init(&opts);
    opts.input_shapes = &bad;
    opts.num_input_shapes = 1;
    cr_assert_eq(dlc_compile_graph(g, &opts, path), DLC_ERR_SHAPE_MISMATCH);
    cr_assert(strstr(dlc_last_error(), "[2,5]") != NULL, "%s", dlc_last_error());
    cr_assert(strstr(dlc_last_error(), "[batch,4]") != NULL, "%s", dlc_last_error());
    dlc_input_shape unknown = {"nope", 2, {2, 4}};
    opts.input_shapes = &unknown;
    cr_assert_eq(dlc_compile_graph(g, &opts, path), DLC_ERR_NOT_FOUND);
    dlc_input_shape good = {"x", 2, {MLP_BATCH, MLP_IN}};
    opts.input_shapes = &good;
    cr_assert_eq(dlc_compile_graph(g, &opts, path), DLC_OK, "%s", dlc_last_error());
    dlc_graph_free(g);
    float y[MLP_BATCH * MLP_OUT];
    run_mlp(path, y);
    for (int i = 0; i < MLP_BATCH * MLP_OUT; i++) cr_assert_float_eq(dynamic_y[i], y[i], 1e-6f, "element %d", i);
    tb_rmdir(dir);
}

/* Outputs that are an input, a constant, or the same value twice are copied. */
Test(codegen, aliased_outputs_are_copied) {
    char dir[64], path[256];
    tb_mkdtemp(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/alias.so", dir);
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("alias", &g), DLC_OK);
    float k[3] = {7, 8, 9};
    dlc_value *x = tb_value(g, "x", DLC_VALUE_INPUT, 1, (int64_t[]){3});
    dlc_value *c = tb_const(g, "k", 1, (int64_t[]){3}, k);
    dlc_value *r = tb_value(g, "r", DLC_VALUE_INTERMEDIATE, -1, NULL);
    tb_node(g, "relu", "Relu", 1, &x, r);
    tb_set_io(g, 1, &x, 4, (dlc_value *[]){r, r, x, c});
    dlc_compile_options opts;
    dlc_compile_options_init(&opts);
    opts.opt_level = 0; /* keep the constant output: passes may not remove it anyway */
    cr_assert_eq(dlc_compile_graph(g, &opts, path), DLC_OK, "%s", dlc_last_error());
    dlc_graph_free(g);
    dlc_model *m;
    dlc_session *s;
    cr_assert_eq(dlc_model_load(path, &m), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(dlc_model_num_outputs(m), 4);
    cr_assert_eq(dlc_session_create(m, NULL, &s), DLC_OK);
    float in[3] = {-1, 2, -3}, o[4][3];
    memset(o, 0, sizeof o);
    dlc_tensor ti = {DLC_FLOAT32, 1, {3}, in, sizeof in};
    dlc_tensor to[4];
    for (int j = 0; j < 4; j++) to[j] = (dlc_tensor){DLC_FLOAT32, 1, {3}, o[j], sizeof o[j]};
    cr_assert_eq(dlc_session_run(s, &ti, 1, to, 4), DLC_OK, "%s", dlc_last_error());
    float want[4][3] = {{0, 2, 0}, {0, 2, 0}, {-1, 2, -3}, {7, 8, 9}};
    for (int j = 0; j < 4; j++)
        for (int i = 0; i < 3; i++) cr_assert_float_eq(o[j][i], want[j][i], 0, "output %d element %d", j, i);
    dlc_session_free(s);
    dlc_model_free(m);
    tb_rmdir(dir);
}

Test(codegen, unwritable_output_fails_cleanly) {
    dlc_graph *g = tb_mlp_graph();
    cr_assert_neq(dlc_compile_graph(g, NULL, "/nonexistent-dir/m.so"), DLC_OK);
    cr_assert(strstr(dlc_last_error(), "/nonexistent-dir/m.so") != NULL, "%s", dlc_last_error());
    dlc_graph_free(g);
}

/* ABI 3: a run reports every output's actual dims into run_args.output_dims
 * (stride DLC_ARTIFACT_MAX_RANK), and a caller that passes NULL there (a
 * minimal user of ABI 2 habits) still gets a correct run. */
Test(codegen, run_reports_output_dims_through_the_abi) {
    char dir[64], path[256];
    tb_mkdtemp(dir, sizeof dir);
    tb_compile_mlp(dir, "m.so", 2, NULL, path, sizeof path);
    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    cr_assert_not_null(handle, "%s", dlerror());
    dlc_artifact_describe_fn describe;
    void *entry = dlsym(handle, DLC_ARTIFACT_ENTRY);
    cr_assert_not_null(entry);
    memcpy(&describe, &entry, sizeof describe);
    const dlc_artifact_desc *desc = describe();
    cr_assert_geq(desc->abi_version, 3u); /* output_dims since ABI 3 */
    cr_assert_eq(desc->outputs[0].bounded_dims, 0u);
    cr_assert_eq(desc->inputs[0].bounded_dims, 0u);

    size_t arena_bytes = (desc->arena_size + desc->arena_alignment - 1) / desc->arena_alignment *
                         desc->arena_alignment;
    void *arena = aligned_alloc(desc->arena_alignment, arena_bytes > 0 ? arena_bytes : desc->arena_alignment);
    float x[MLP_BATCH * MLP_IN], y[MLP_BATCH * MLP_OUT], want[MLP_BATCH * MLP_OUT];
    mlp_input(x);
    mlp_reference(x, want);
    const void *ins[1] = {x};
    void *outs[1] = {y};
    int64_t dims[DLC_ARTIFACT_MAX_RANK] = {-7, -7, -7, -7, -7, -7, -7, -7};
    dlc_artifact_run_args args = {.arena = arena, .inputs = ins, .outputs = outs, .num_threads = 1,
                                  .failed_node = 99, .output_dims = dims};
    cr_assert_eq(desc->run(&args), 0);
    cr_assert_eq(args.failed_node, -1);
    cr_assert_eq(dims[0], MLP_BATCH);
    cr_assert_eq(dims[1], MLP_OUT);
    cr_assert_eq(dims[2], -7, "only rank entries are written");
    for (int i = 0; i < MLP_BATCH * MLP_OUT; i++) cr_assert(fabsf(y[i] - want[i]) <= 1e-5f);

    memset(y, 0, sizeof y);
    args.output_dims = NULL;
    cr_assert_eq(desc->run(&args), 0);
    for (int i = 0; i < MLP_BATCH * MLP_OUT; i++) cr_assert(fabsf(y[i] - want[i]) <= 1e-5f);
    free(arena);
    dlclose(handle);
    tb_rmdir(dir);
}

/* ABI 5: run_args.node_stamps, when given, receives num_nodes + 1 rising
 * clock stamps and nothing past them; desc->node_flops holds the compiler's
 * estimates (the MLP's Gemm: 2*M*K*N and the bias). */
Test(codegen, run_stamps_every_kernel_through_the_abi) {
    char dir[64], path[256];
    tb_mkdtemp(dir, sizeof dir);
    tb_compile_mlp(dir, "m.so", 2, NULL, path, sizeof path);
    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    cr_assert_not_null(handle, "%s", dlerror());
    dlc_artifact_describe_fn describe;
    void *entry = dlsym(handle, DLC_ARTIFACT_ENTRY);
    cr_assert_not_null(entry);
    memcpy(&describe, &entry, sizeof describe);
    const dlc_artifact_desc *desc = describe();
    cr_assert_geq(desc->abi_version, 5u); /* node_stamps and node_flops since ABI 5 */
    int32_t n = desc->num_nodes;
    cr_assert(n >= 2 && n < 30, "%d nodes", n);
    cr_assert_not_null(desc->node_flops);
    bool saw_gemm = false;
    for (int32_t i = 0; i < n; i++) {
        cr_assert_geq(desc->node_flops[i], 0.0);
        if (strstr(desc->node_names[i], "(Gemm") != NULL) { /* "(Gemm+Relu)" when fused */
            saw_gemm = true;
            cr_assert_geq(desc->node_flops[i], 2.0 * MLP_BATCH * MLP_IN * MLP_OUT);
        }
    }
    cr_assert(saw_gemm);

    size_t arena_bytes = (desc->arena_size + desc->arena_alignment - 1) / desc->arena_alignment *
                         desc->arena_alignment;
    void *arena = aligned_alloc(desc->arena_alignment, arena_bytes > 0 ? arena_bytes : desc->arena_alignment);
    float x[MLP_BATCH * MLP_IN], y[MLP_BATCH * MLP_OUT], want[MLP_BATCH * MLP_OUT];
    mlp_input(x);
    mlp_reference(x, want);
    const void *ins[1] = {x};
    void *outs[1] = {y};
    uint64_t stamps[32];
    for (int i = 0; i < 32; i++) stamps[i] = 0;
    dlc_artifact_run_args args = {.arena = arena, .inputs = ins, .outputs = outs, .num_threads = 1,
                                  .node_stamps = stamps};
    cr_assert_eq(desc->run(&args), 0);
    cr_assert_gt(stamps[0], 0u);
    for (int32_t i = 1; i <= n; i++) cr_assert_geq(stamps[i], stamps[i - 1], "stamp %d", i);
    cr_assert_eq(stamps[n + 1], 0u, "nothing is written past num_nodes + 1 stamps");
    for (int i = 0; i < MLP_BATCH * MLP_OUT; i++) cr_assert(fabsf(y[i] - want[i]) <= 1e-5f);
    free(arena);
    dlclose(handle);
    tb_rmdir(dir);
}
