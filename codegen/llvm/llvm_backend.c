/* The CPU backend's steps, in order, with every temporary removed on every
 * path: target → module → optimize → object (in a private temp dir) → link. */
#include "codegen/llvm/llvm_backend.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codegen/llvm/emit.h"
#include "codegen/llvm/link.h"
#include "codegen/llvm/module_builder.h"
#include "codegen/llvm/target.h"
#include "runtime/status.h"

static void log_line(const dlc_compile_options *opts, const char *fmt, const char *a, const char *b) {
    if (opts->log == NULL) return;
    fprintf(opts->log, fmt, a, b);
    fflush(opts->log);
}

/* Object file in a fresh private directory, then the link. */
static dlc_status emit_and_link(LLVMModuleRef module, LLVMTargetMachineRef machine, const char *out_path) {
    const char *tmp_root = getenv("TMPDIR");
    if (tmp_root == NULL || tmp_root[0] == '\0') tmp_root = "/tmp";
    char dir[4096], object_path[4200];
    if ((size_t)snprintf(dir, sizeof dir, "%s/dlc-XXXXXX", tmp_root) >= sizeof dir)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "TMPDIR is too long");
    if (mkdtemp(dir) == NULL) return dlc_fail(DLC_ERR_IO, "cannot create a temporary folder in '%s': %s", tmp_root,
                                              strerror(errno));
    snprintf(object_path, sizeof object_path, "%s/model.o", dir);
    dlc_status st = dlc_llvm_emit_object(module, machine, object_path);
    if (st == DLC_OK) st = dlc_llvm_link_shared(object_path, dir, out_path);
    remove(object_path);
    rmdir(dir);
    return st;
}

dlc_status dlc_llvm_compile(const dlc_graph *g, const dlc_memory_plan *plan, const dlc_dyn_plan *dyn,
                            const dlc_compile_options *opts, const char *out_path) {
    dlc_llvm_target target;
    DLC_TRY(dlc_llvm_target_resolve(opts->cpu, &target));
    log_line(opts, "codegen: target %s%s", target.cpu, target.features[0] ? " (host features)\n" : "\n");
    LLVMTargetMachineRef machine = NULL;
    dlc_status st = dlc_llvm_target_machine(&target, opts->opt_level, &machine);
    LLVMContextRef ctx = LLVMContextCreate();
    LLVMModuleRef module = NULL;
    if (st == DLC_OK) st = dlc_llvm_build_module(ctx, g, plan, dyn, &target, &module);
    if (st == DLC_OK) {
        char level[8];
        snprintf(level, sizeof level, "O%d", opts->opt_level);
        log_line(opts, "codegen: optimizing with LLVM at -%s%s\n", level, "");
        st = dlc_llvm_optimize(module, &target, machine, opts->opt_level);
    }
    if (st == DLC_OK && opts->emit_llvm_path != NULL) st = dlc_llvm_write_ir(module, opts->emit_llvm_path);
    if (st == DLC_OK) {
        log_line(opts, "codegen: writing %s%s\n", out_path, "");
        st = emit_and_link(module, machine, out_path);
    }
    if (module != NULL) LLVMDisposeModule(module);
    LLVMContextDispose(ctx);
    if (machine != NULL) LLVMDisposeTargetMachine(machine);
    dlc_llvm_target_free(&target);
    return st;
}
