/* The CPU a model is compiled for: LLVM CPU name, feature string, the
 * DLC_CPU_* bits the loader checks, and the LLVM target machine. */
#ifndef DLC_CODEGEN_LLVM_TARGET_H
#define DLC_CODEGEN_LLVM_TARGET_H

#include <stdint.h>

#include <llvm-c/TargetMachine.h>

#include "dlc/dlc.h"

typedef struct dlc_llvm_target {
    char *triple;     /* LLVM-owned message (LLVMDisposeMessage) */
    char *cpu;        /* malloc'd LLVM CPU name */
    char *features;   /* malloc'd LLVM feature string ("" when the CPU name implies them) */
    uint64_t required_cpu_features; /* DLC_CPU_* bits */
} dlc_llvm_target;

/* Resolves cpu (NULL or "native": this machine; "x86-64-v2/v3/v4" or an LLVM
 * CPU name). Unknown names fail with a message listing valid examples. */
dlc_status dlc_llvm_target_resolve(const char *cpu, dlc_llvm_target *out_target);
void dlc_llvm_target_free(dlc_llvm_target *target);

/* A PIC target machine for target at LLVM's optimization level for opt_level. */
dlc_status dlc_llvm_target_machine(const dlc_llvm_target *target, int32_t opt_level,
                                   LLVMTargetMachineRef *out_machine);

/* DLC_CPU_* bits named by "+feat" entries of an LLVM feature string. */
uint64_t dlc_cpu_bits_from_features(const char *features);

#endif
