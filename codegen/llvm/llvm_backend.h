/* The CPU backend: a planned graph → LLVM module (kernel bitcode + a run
 * function calling the kernels + the artifact descriptor) → object → .so. */
#ifndef DLC_CODEGEN_LLVM_LLVM_BACKEND_H
#define DLC_CODEGEN_LLVM_LLVM_BACKEND_H

#include "codegen/compile.h"
#include "codegen/dynamic.h"
#include "passes/memory_plan.h"

/* g: static shapes, nodes in run order, every node lowerable. dyn: NULL for
 * a static model, else what is computed at run time from the symbolic dims
 * (g is then the base sample). Writes out_path atomically (temporary name
 * beside it, then rename). */
dlc_status dlc_llvm_compile(const dlc_graph *g, const dlc_memory_plan *plan, const dlc_dyn_plan *dyn,
                            const dlc_compile_options *opts, const char *out_path);

#endif
