/*
 * dlc_artifact.h — the binary interface between a compiled model (model.so)
 * and whoever loads it. libdlcrt wraps it in dlc.h; a minimal user may
 * dlopen the artifact and call DLC_ARTIFACT_ENTRY directly.
 *
 * The artifact exports exactly one symbol, DLC_ARTIFACT_ENTRY, a function
 * returning a pointer to a read-only dlc_artifact_desc. Everything it points
 * at lives inside the artifact and stays valid while it is loaded.
 *
 * Change rules: fields are only appended; any change in meaning or layout
 * bumps DLC_ARTIFACT_ABI_VERSION, and loaders refuse versions they do not know.
 */
#ifndef DLC_ARTIFACT_H
#define DLC_ARTIFACT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 2: dlc_artifact_tensor.bound_value; 3: dlc_artifact_tensor.bounded_dims and
 * dlc_artifact_run_args.output_dims (outputs whose extent is known only after
 * the run, like NonZero's); 4: symbolic dims at run time (run_args.symbols,
 * the descriptor's symbol table and shapes()); 5: dlc_artifact_run_args.node_stamps and
 * dlc_artifact_desc.node_flops (per-kernel profiles); 6: node_flops_at (the FLOPs
 * of a model compiled for every size, at a run's sizes) */
#define DLC_ARTIFACT_ABI_VERSION 6u
#define DLC_ARTIFACT_ENTRY "dlc_artifact_describe"
#define DLC_ARTIFACT_MAGIC 0x31434c44u /* "DLC1" little-endian */
#define DLC_ARTIFACT_MAX_RANK 8 /* stride of dlc_artifact_run_args.output_dims */

/* CPU features an artifact may require (bit positions are ABI). */
enum {
    DLC_CPU_SSE4_2 = 1u << 0,
    DLC_CPU_AVX = 1u << 1,
    DLC_CPU_AVX2 = 1u << 2,
    DLC_CPU_FMA = 1u << 3,
    DLC_CPU_F16C = 1u << 4,
    DLC_CPU_AVX512F = 1u << 5,
    DLC_CPU_AVX512BW = 1u << 6,
    DLC_CPU_AVX512DQ = 1u << 7,
    DLC_CPU_AVX512VL = 1u << 8,
    DLC_CPU_AVX512VNNI = 1u << 9,
    DLC_CPU_AVX512BF16 = 1u << 10,
    DLC_CPU_AVX512FP16 = 1u << 11,
    DLC_CPU_BMI2 = 1u << 12,
    DLC_CPU_POPCNT = 1u << 13,
};

typedef struct dlc_artifact_tensor {
    const char *name;
    int32_t dtype;            /* dlc_dtype / ONNX TensorProto.DataType */
    int32_t rank;
    const int64_t *dims;      /* rank entries; < 0 marks a symbolic dim */
    const char *const *dim_names; /* rank entries; NULL for static dims */
    /* An input fixed to a value at compile time (dlc compile --bind; a shape
     * input such as a Reshape's shape): its bytes, and a run must pass
     * exactly these. NULL and 0 for every other tensor. */
    const void *bound_value;
    uint64_t bound_value_size;
    /* Outputs only (ABI 3): bit d set means dims[d] is an upper bound and the
     * actual extent is known only after the run (NonZero, Compress, Unique,
     * NonMaxSuppression). Buffers are sized for the bound; the run writes
     * the output dense for its actual dims and reports them in
     * dlc_artifact_run_args.output_dims. 0 for every input. */
    uint32_t bounded_dims;
    uint32_t reserved;
} dlc_artifact_tensor;

/* Passed to run(): everything a run needs, owned by the caller. */
typedef struct dlc_artifact_run_args {
    void *arena;                /* arena_size bytes, arena_alignment aligned */
    const void *const *inputs;  /* num_inputs data pointers, model order */
    void *const *outputs;       /* num_outputs data pointers, model order */
    int32_t num_threads;        /* >= 1 */
    int32_t failed_node;        /* out: index into node_names of a failing kernel, else -1 */
    /* out (ABI 3), may be NULL: num_outputs * DLC_ARTIFACT_MAX_RANK entries;
     * a successful run writes output i's actual dims at
     * [i * DLC_ARTIFACT_MAX_RANK, i * DLC_ARTIFACT_MAX_RANK + rank). They equal
     * the descriptor's dims except where bounded_dims marks a dim. */
    int64_t *output_dims;
    /* ABI 4: the value of each symbolic dim (desc->num_symbols entries, in
     * desc->symbol_names order), read from the inputs' dims; NULL when the
     * model has none. The arena must hold what desc->shapes gives for them. */
    const int64_t *symbols;
    /* out (ABI 5), may be NULL (the normal case: then no clock is read):
     * num_nodes + 1 entries; the run writes CLOCK_MONOTONIC nanoseconds
     * before the first kernel at [0] and after kernel i returns at [i + 1],
     * so kernel i took [i + 1] - [i]. For profilers (dlc profile). */
    uint64_t *node_stamps;
} dlc_artifact_run_args;

typedef struct dlc_artifact_desc {
    uint32_t magic;                /* DLC_ARTIFACT_MAGIC */
    uint32_t abi_version;          /* DLC_ARTIFACT_ABI_VERSION */
    const char *producer;          /* "dlc 0.1.0" */
    const char *model_name;        /* graph name from the .onnx */
    const char *target_cpu;        /* LLVM CPU name the code was generated for */
    const char *target_features;   /* LLVM feature string */
    uint64_t required_cpu_features; /* DLC_CPU_* bits the code needs */
    int32_t num_inputs;
    int32_t num_outputs;
    const dlc_artifact_tensor *inputs;
    const dlc_artifact_tensor *outputs;
    uint64_t arena_size;           /* bytes of scratch a run needs */
    uint64_t arena_alignment;      /* power of two, >= 64 */
    uint64_t weights_size;         /* bytes of constants inside the artifact */
    int32_t num_nodes;             /* kernels run, in order; for errors and profiles */
    int32_t reserved;
    const char *const *node_names; /* "name (OpType)" per kernel */
    /* Returns 0 on success; otherwise the kernel's error code with
     * args->failed_node set. Inputs must match the descriptor exactly. */
    int32_t (*run)(dlc_artifact_run_args *args);
    /* ABI 4: symbolic dims, for models compiled once for every size. An
     * input dim < 0 in the tensor table is the symbol named by its dim_name;
     * the caller reads each symbol's value from the inputs (they must agree),
     * checks it against symbol_min, and passes them in run_args.symbols. An
     * output dim < 0 is a polynomial in the symbols (dim_name shows it).
     * num_symbols == 0: a fully static model (arena_size holds). */
    int32_t num_symbols;
    int32_t reserved2;
    const char *const *symbol_names;
    const int64_t *symbol_min;     /* smallest value of each symbol the compile verified */
    /* For symbol values: the arena bytes a run needs and every output's dims
     * (output after output, rank entries each). Returns 0. */
    int32_t (*shapes)(const int64_t *symbols, uint64_t *arena_size, int64_t *output_dims);
    /* ABI 5: the compiler's estimate of each kernel call's floating-point
     * operations (multiply-add = 2), num_nodes entries; NULL when there are
     * no nodes. For achieved GFLOP/s in profiles. */
    const double *node_flops;
    /* ABI 6: for a model with symbols, each kernel call's floating-point
     * operations at these symbol values (num_nodes entries into flops, each
     * a polynomial in the symbols fitted by the compiler); returns 0. NULL
     * for a static model (node_flops holds) and when some call's count is
     * no such polynomial (node_flops then holds the compile's sample only). */
    int32_t (*node_flops_at)(const int64_t *symbols, double *flops);
} dlc_artifact_desc;

typedef const dlc_artifact_desc *(*dlc_artifact_describe_fn)(void);

#ifdef __cplusplus
}
#endif
#endif
