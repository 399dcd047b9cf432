/* Where every tensor lives during a run.
 *
 * Graph inputs and outputs are the caller's buffers; constants live in the
 * artifact's weights blob; every other tensor and every kernel workspace gets
 * an offset in one arena per session, reused by liveness. */
#ifndef DLC_PASSES_MEMORY_PLAN_H
#define DLC_PASSES_MEMORY_PLAN_H

#include "ir/graph.h"

typedef enum dlc_location_kind {
    DLC_LOC_NONE = 0,  /* not used at run time */
    DLC_LOC_INPUT,     /* index: graph input */
    DLC_LOC_OUTPUT,    /* index: graph output written in place by its producer */
    DLC_LOC_WEIGHT,    /* offset: into the weights blob */
    DLC_LOC_ARENA,     /* offset: into the arena */
} dlc_location_kind;

typedef struct dlc_location {
    dlc_location_kind kind;
    int32_t index;
    uint64_t offset;
} dlc_location;

typedef struct dlc_memory_plan {
    int32_t num_values;          /* == graph->num_values */
    dlc_location *values;        /* by value id */
    int32_t num_nodes;           /* == graph->num_nodes */
    uint64_t *workspace_offset;  /* by node position: arena offset of its workspace */
    uint64_t *workspace_size;    /* by node position: bytes (0: none) */
    uint64_t arena_size;
    uint64_t weights_size;
    uint64_t alignment;          /* of every buffer; 64 */
    /* by value id: the value whose bytes this one shares (-1: its own),
     * always the root of a chain. A node that only copies its input
     * (Reshape, Flatten, Squeeze, Unsqueeze, Identity) gets its output placed
     * on its input's bytes, so its kernel finds source and destination equal
     * and copies nothing; copies share arena values and graph inputs. An
     * elementwise node (unary, clip, binary, variadic, where kernels) whose
     * full-size input of the output's dtype dies there writes its output
     * over that input, in place; only arena values are overwritten, never a
     * graph input, output or weight. The source's lifetime is extended over
     * the alias's readers. */
    int32_t *alias_of;
    int32_t num_copies_shared; /* copy nodes whose output is their input's bytes */
    int32_t num_in_place;      /* elementwise nodes writing over their input */
} dlc_memory_plan;

/* Plans g (static shapes, nodes in run order). Workspace sizes come from the
 * native kernel registry. */
dlc_status dlc_memory_plan_build(const dlc_graph *g, dlc_memory_plan *out_plan);
void dlc_memory_plan_free(dlc_memory_plan *plan);

#endif
