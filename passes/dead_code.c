/* Dead code elimination: nodes whose results nobody reads, and constants
 * nobody uses (so unused weights stay out of the artifact). */
#include "passes/pipeline.h"

dlc_status dlc_pass_dead_code(dlc_graph *g, bool *out_changed) {
    int32_t values_before = 0;
    for (int32_t i = 0; i < g->num_values; i++) values_before += g->values[i] != NULL;
    int removed_nodes = dlc_graph_remove_dead(g);
    int32_t values_after = 0;
    for (int32_t i = 0; i < g->num_values; i++) values_after += g->values[i] != NULL;
    *out_changed = removed_nodes > 0 || values_after != values_before;
    return DLC_OK;
}
