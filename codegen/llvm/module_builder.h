/* Builds the LLVM module of one model: the kernel library parsed from the
 * embedded bitcode, the weights, one parameter block per node, the run
 * function and the descriptor behind the exported entry point. */
#ifndef DLC_CODEGEN_LLVM_MODULE_BUILDER_H
#define DLC_CODEGEN_LLVM_MODULE_BUILDER_H

#include <llvm-c/Core.h>

#include "codegen/llvm/target.h"
#include "codegen/dynamic.h"
#include "passes/memory_plan.h"

/* dyn: NULL for a static model (codegen/dynamic.h). */
dlc_status dlc_llvm_build_module(LLVMContextRef ctx, const dlc_graph *g, const dlc_memory_plan *plan,
                                 const dlc_dyn_plan *dyn, const dlc_llvm_target *target, LLVMModuleRef *out_module);

#endif
