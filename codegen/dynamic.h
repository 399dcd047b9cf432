/*
 * One artifact for every size of a model's symbolic dims ("shape
 * polynomials").
 *
 * The pipeline (binding, inference and folding, graph passes, lowering,
 * memory planning) runs once per sample assignment of the symbols: on the
 * lattice base + a (|a| <= 3, ir/shape_poly.h) for fitting, plus samples that
 * verify. Every sample must give the same structure (nodes, kernels,
 * parameter-block layout, where each tensor lives); every 8-byte word of
 * every parameter block, every arena buffer and workspace size and every
 * output dim is then fitted as a polynomial in the symbols. Constants that
 * folding made from symbolic sizes are either fitted element by element
 * (shape vectors of fixed length: written into the arena at run start) or,
 * when their size changes, their producing node is kept unfolded and the
 * sampling repeats. Whatever does not fit (a floor division, a flag that
 * changes with the size) fails the compile naming the node and the
 * parameter, suggesting --shape.
 *
 * The base sample's graph and memory plan are handed to codegen together
 * with a dlc_dyn_plan saying which words and buffers are computed at run
 * time. Arena buffers are shared only between tensors whose sizes are the
 * same polynomial (with disjoint lifetimes), and slots are laid out one after
 * another at run time, so the placement is valid for every size.
 */
#ifndef DLC_CODEGEN_DYNAMIC_H
#define DLC_CODEGEN_DYNAMIC_H

#include "codegen/compile.h"
#include "ir/shape_poly.h"

typedef struct dlc_dyn_word {
    int32_t word; /* 8-byte word index in the node's parameter block */
    int32_t poly; /* index into dlc_dyn_plan.polys */
} dlc_dyn_word;

typedef struct dlc_dyn_node {
    int32_t num_words;
    dlc_dyn_word *words;     /* words computed at run time */
    int32_t workspace_slot;  /* arena slot of its workspace, -1: none */
    int32_t workspace_poly;  /* its size in bytes */
    /* A workspace whose size is no polynomial (blocked GEMM packing buffers
     * stop growing at the block size): computed at run time by the kernel's
     * own dlc_kernel_<name>_workspace from the run's parameter block, and
     * placed in the scratch region after the slots, shared by all such nodes. */
    char workspace_fn[96];   /* "" unless computed at run time */
    int32_t flops_poly;      /* its FLOPs (dlc_node_flops), for profiles; -1: no polynomial */
} dlc_dyn_node;

/* A folded constant whose elements depend on the symbols (a shape vector),
 * written into its arena slot at the start of every run. */
typedef struct dlc_dyn_const {
    int32_t value_id;
    int32_t slot;
    int32_t dtype;      /* int64 or int32 */
    int64_t numel;
    int32_t first_poly; /* element i: polys[first_poly + i] */
} dlc_dyn_const;

typedef struct dlc_dyn_plan {
    dlc_poly_space space;
    char *symbol_names[DLC_POLY_MAX_SYMBOLS];
    int64_t symbol_min[DLC_POLY_MAX_SYMBOLS]; /* smallest value verified */
    dlc_poly *polys;
    int32_t num_polys, cap_polys;
    int32_t num_nodes;
    dlc_dyn_node *nodes;      /* by node position */
    bool flops_fitted;        /* every node's flops_poly >= 0 */
    int32_t num_values;
    int32_t *value_slot;      /* by value id: arena slot, or -1 (location from the memory plan) */
    int32_t num_slots;
    int32_t *slot_poly;       /* bytes of each slot */
    int32_t num_consts;
    dlc_dyn_const *consts;
    int32_t num_outputs;
    int32_t *output_dims;     /* [output * DLC_MAX_RANK + dim]: poly */
    int32_t num_inputs;
    int32_t *input_dim_symbol; /* [input * DLC_MAX_RANK + dim]: symbol, or -1 for a static dim */
} dlc_dyn_plan;

/* True when some input of g (after --shape binding) still has a symbolic dim. */
bool dlc_graph_has_symbolic_inputs(const dlc_graph *g);

/* Compiles g (imported from g->source_path, --shape bindings applied) into
 * one artifact for every value of its remaining symbolic input dims. */
dlc_status dlc_compile_dynamic(dlc_graph *g, const dlc_compile_options *opts, const char *out_path);

void dlc_dyn_plan_free(dlc_dyn_plan *plan);

#endif
