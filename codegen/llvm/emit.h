/* From a built module to an object file: internalize everything but the entry
 * point, retarget every function, verify, optimize. */
#ifndef DLC_CODEGEN_LLVM_EMIT_H
#define DLC_CODEGEN_LLVM_EMIT_H

#include <llvm-c/Core.h>
#include <llvm-c/TargetMachine.h>

#include "codegen/llvm/target.h"

/* Internalizes, sets target attributes, verifies and runs default<O{opt_level}>. */
dlc_status dlc_llvm_optimize(LLVMModuleRef module, const dlc_llvm_target *target, LLVMTargetMachineRef machine,
                             int32_t opt_level);
dlc_status dlc_llvm_emit_object(LLVMModuleRef module, LLVMTargetMachineRef machine, const char *path);
dlc_status dlc_llvm_write_ir(LLVMModuleRef module, const char *path);

#endif
