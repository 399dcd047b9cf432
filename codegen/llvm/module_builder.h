/* Builds the LLVM module of one model: the kernel library parsed from the
 * embedded bitcode, the weights, one parameter block per node, the run
 * function and the descriptor behind the exported entry point. */
#ifndef DLC_CODEGEN_LLVM_MODULE_BUILDER_H
#define DLC_CODEGEN_LLVM_MODULE_BUILDER_H

#include <llvm-c/Core.h>

#include "codegen/llvm/target.h"
#include "passes/memory_plan.h"

dlc_status dlc_llvm_build_module(LLVMContextRef ctx, const dlc_graph *g, const dlc_memory_plan *plan,
                                 const dlc_llvm_target *target, LLVMModuleRef *out_module);

#endif
