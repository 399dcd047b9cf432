/* Choosing the target CPU. LLVM's C API silently ignores an unknown CPU name
 * (it only prints a warning to stderr), so names are checked against the x86
 * processors LLVM 19 knows; the table also says which DLC_CPU_* features
 * each one implies, which the runtime checks before running the code. */
#include "codegen/llvm/target.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <llvm-c/Core.h>
#include <llvm-c/Target.h>

#include "dlc/dlc_artifact.h"
#include "runtime/status.h"

enum {
    BITS_V2 = DLC_CPU_SSE4_2 | DLC_CPU_POPCNT,
    BITS_AVX = BITS_V2 | DLC_CPU_AVX,
    BITS_IVB = BITS_AVX | DLC_CPU_F16C,
    BITS_V3 = BITS_IVB | DLC_CPU_AVX2 | DLC_CPU_FMA | DLC_CPU_BMI2,
    BITS_V4 = BITS_V3 | DLC_CPU_AVX512F | DLC_CPU_AVX512BW | DLC_CPU_AVX512DQ | DLC_CPU_AVX512VL,
    BITS_ICL = BITS_V4 | DLC_CPU_AVX512VNNI,
    BITS_CPX = BITS_ICL | DLC_CPU_AVX512BF16,
    BITS_SPR = BITS_CPX | DLC_CPU_AVX512FP16,
};

typedef struct known_cpu {
    const char *name;
    uint64_t bits;
} known_cpu;

/* 64-bit x86 processors of `llc -mtriple=x86_64 -mcpu=help` (LLVM 19). */
static const known_cpu known_cpus[] = {
    {"x86-64", 0}, {"generic", 0}, {"nocona", 0}, {"core2", 0}, {"penryn", 0}, {"k8", 0}, {"k8-sse3", 0},
    {"opteron", 0}, {"opteron-sse3", 0}, {"athlon64", 0}, {"athlon64-sse3", 0}, {"athlon-fx", 0},
    {"bonnell", 0}, {"atom", 0},
    {"amdfam10", DLC_CPU_POPCNT}, {"barcelona", DLC_CPU_POPCNT}, {"btver1", DLC_CPU_POPCNT},
    {"x86-64-v2", BITS_V2}, {"nehalem", BITS_V2}, {"corei7", BITS_V2}, {"westmere", BITS_V2},
    {"silvermont", BITS_V2}, {"slm", BITS_V2}, {"goldmont", BITS_V2}, {"goldmont-plus", BITS_V2},
    {"tremont", BITS_V2},
    {"btver2", BITS_IVB}, {"bdver1", BITS_AVX}, {"bdver2", BITS_IVB | DLC_CPU_FMA},
    {"bdver3", BITS_IVB | DLC_CPU_FMA}, {"bdver4", BITS_V3},
    {"sandybridge", BITS_AVX}, {"corei7-avx", BITS_AVX}, {"ivybridge", BITS_IVB}, {"core-avx-i", BITS_IVB},
    {"x86-64-v3", BITS_V3}, {"haswell", BITS_V3}, {"core-avx2", BITS_V3}, {"broadwell", BITS_V3},
    {"skylake", BITS_V3}, {"alderlake", BITS_V3}, {"raptorlake", BITS_V3}, {"meteorlake", BITS_V3},
    {"gracemont", BITS_V3}, {"arrowlake", BITS_V3}, {"arrowlake-s", BITS_V3}, {"lunarlake", BITS_V3},
    {"pantherlake", BITS_V3}, {"sierraforest", BITS_V3}, {"grandridge", BITS_V3},
    {"clearwaterforest", BITS_V3}, {"znver1", BITS_V3}, {"znver2", BITS_V3}, {"znver3", BITS_V3},
    {"knl", BITS_V3 | DLC_CPU_AVX512F}, {"knm", BITS_V3 | DLC_CPU_AVX512F},
    {"x86-64-v4", BITS_V4}, {"skylake-avx512", BITS_V4}, {"skx", BITS_V4}, {"cannonlake", BITS_V4},
    {"icelake-client", BITS_ICL}, {"icelake-server", BITS_ICL}, {"rocketlake", BITS_ICL},
    {"tigerlake", BITS_ICL}, {"cascadelake", BITS_ICL}, {"cooperlake", BITS_CPX},
    {"znver4", BITS_CPX}, {"znver5", BITS_CPX},
    {"sapphirerapids", BITS_SPR}, {"emeraldrapids", BITS_SPR}, {"graniterapids", BITS_SPR},
    {"graniterapids-d", BITS_SPR},
};

static const struct {
    const char *feature;
    uint64_t bit;
} feature_bits[] = {
    {"sse4.2", DLC_CPU_SSE4_2}, {"avx", DLC_CPU_AVX}, {"avx2", DLC_CPU_AVX2}, {"fma", DLC_CPU_FMA},
    {"f16c", DLC_CPU_F16C}, {"avx512f", DLC_CPU_AVX512F}, {"avx512bw", DLC_CPU_AVX512BW},
    {"avx512dq", DLC_CPU_AVX512DQ}, {"avx512vl", DLC_CPU_AVX512VL}, {"avx512vnni", DLC_CPU_AVX512VNNI},
    {"avx512bf16", DLC_CPU_AVX512BF16}, {"avx512fp16", DLC_CPU_AVX512FP16}, {"bmi2", DLC_CPU_BMI2},
    {"popcnt", DLC_CPU_POPCNT},
};

uint64_t dlc_cpu_bits_from_features(const char *features) {
    uint64_t bits = 0;
    for (const char *p = features; p != NULL && *p != '\0';) {
        const char *end = strchr(p, ',');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        if (len > 1 && p[0] == '+')
            for (size_t i = 0; i < sizeof feature_bits / sizeof feature_bits[0]; i++)
                if (strlen(feature_bits[i].feature) == len - 1 && memcmp(feature_bits[i].feature, p + 1, len - 1) == 0)
                    bits |= feature_bits[i].bit;
        p = end != NULL ? end + 1 : p + len;
    }
    return bits;
}

static char *copy_string(const char *s) {
    size_t n = strlen(s) + 1;
    char *copy = malloc(n);
    if (copy != NULL) memcpy(copy, s, n);
    return copy;
}

void dlc_llvm_target_free(dlc_llvm_target *target) {
    if (target == NULL) return;
    if (target->triple != NULL) LLVMDisposeMessage(target->triple);
    free(target->cpu);
    free(target->features);
    memset(target, 0, sizeof *target);
}

static bool triple_is_x86_64(const char *triple) { return strncmp(triple, "x86_64", 6) == 0; }

dlc_status dlc_llvm_target_resolve(const char *cpu, dlc_llvm_target *out) {
    memset(out, 0, sizeof *out);
    out->triple = LLVMGetDefaultTargetTriple();
    bool native = cpu == NULL || cpu[0] == '\0' || strcmp(cpu, "native") == 0;
    if (native) {
        char *host_cpu = LLVMGetHostCPUName();
        char *host_features = LLVMGetHostCPUFeatures();
        out->cpu = copy_string(host_cpu);
        out->features = copy_string(host_features);
        LLVMDisposeMessage(host_cpu);
        LLVMDisposeMessage(host_features);
        if (out->cpu == NULL || out->features == NULL) {
            dlc_llvm_target_free(out);
            return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "target description");
        }
        out->required_cpu_features = triple_is_x86_64(out->triple) ? dlc_cpu_bits_from_features(out->features) : 0;
        return DLC_OK;
    }
    bool known = false;
    if (triple_is_x86_64(out->triple)) {
        for (size_t i = 0; i < sizeof known_cpus / sizeof known_cpus[0]; i++)
            if (strcmp(known_cpus[i].name, cpu) == 0) {
                known = true;
                out->required_cpu_features = known_cpus[i].bits;
            }
    } else {
        known = true; /* no table for other hosts: LLVM decides */
    }
    if (!known) {
        dlc_status st = dlc_fail(DLC_ERR_INVALID_ARGUMENT,
                                 "unknown target CPU '%s' for %s: use native, x86-64-v2, x86-64-v3, x86-64-v4 "
                                 "or an LLVM CPU name such as haswell, skylake-avx512 or znver3",
                                 cpu, out->triple);
        dlc_llvm_target_free(out);
        return st;
    }
    out->cpu = copy_string(cpu);
    out->features = copy_string(""); /* the CPU name implies its features */
    if (out->cpu == NULL || out->features == NULL) {
        dlc_llvm_target_free(out);
        return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "target description");
    }
    return DLC_OK;
}

dlc_status dlc_llvm_target_machine(const dlc_llvm_target *target, int32_t opt_level,
                                   LLVMTargetMachineRef *out_machine) {
    *out_machine = NULL;
    if (LLVMInitializeNativeTarget() != 0 || LLVMInitializeNativeAsmPrinter() != 0)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "LLVM has no code generator for this machine (%s)", target->triple);
    LLVMTargetRef llvm_target;
    char *error = NULL;
    if (LLVMGetTargetFromTriple(target->triple, &llvm_target, &error) != 0) {
        dlc_status st = dlc_fail(DLC_ERR_UNSUPPORTED, "target %s: %s", target->triple, error ? error : "unknown");
        LLVMDisposeMessage(error);
        return st;
    }
    LLVMCodeGenOptLevel level = opt_level <= 0   ? LLVMCodeGenLevelNone
                                : opt_level == 1 ? LLVMCodeGenLevelLess
                                : opt_level == 2 ? LLVMCodeGenLevelDefault
                                                 : LLVMCodeGenLevelAggressive;
    LLVMTargetMachineRef machine = LLVMCreateTargetMachine(llvm_target, target->triple, target->cpu, target->features,
                                                           level, LLVMRelocPIC, LLVMCodeModelDefault);
    if (machine == NULL)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "cannot create an LLVM target machine for %s, cpu %s", target->triple,
                        target->cpu);
    *out_machine = machine;
    return DLC_OK;
}
