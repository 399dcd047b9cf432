/* Identity elimination: Identity, and Dropout at inference (training_mode
 * absent or a constant false, mask output unused), pass their input through.
 *
 * Readers of the output read the input instead. When the output is a graph
 * output its name must survive (it is part of the artifact's interface), so
 * the input's producer is made to write the output value directly; when the
 * input is a graph input or a constant there is no producer to redirect and
 * the node stays (it lowers to a copy). */
#include <string.h>

#include "passes/pipeline.h"
#include "runtime/status.h"

static bool is_passthrough(const dlc_node *node) {
    if (node->domain[0] != '\0' || node->num_inputs < 1 || node->inputs[0] == NULL) return false;
    if (node->num_outputs < 1 || node->outputs[0] == NULL) return false;
    if (strcmp(node->op_type, "Identity") == 0) return true;
    if (strcmp(node->op_type, "Dropout") != 0) return false;
    if (node->num_outputs > 1 && node->outputs[1] != NULL &&
        (node->outputs[1]->num_uses > 0 || node->outputs[1]->is_graph_output))
        return false;
    if (node->num_inputs > 2 && node->inputs[2] != NULL) {
        double training;
        if (node->inputs[2]->kind != DLC_VALUE_CONST || dlc_value_const_scalar(node->inputs[2], &training) != DLC_OK ||
            training != 0.0)
            return false;
    }
    return true;
}

/* Returns whether the node was removed. */
static bool eliminate(dlc_graph *g, dlc_node *node) {
    dlc_value *in = node->inputs[0], *out = node->outputs[0];
    if (!out->is_graph_output) {
        dlc_graph_remove_node(g, node);
        dlc_graph_replace_uses(g, out, in);
        return true;
    }
    dlc_node *producer = in->producer;
    if (in->kind != DLC_VALUE_INTERMEDIATE || producer == NULL || in->is_graph_output) return false;
    dlc_graph_remove_node(g, node);
    dlc_graph_replace_uses(g, in, out);
    producer->outputs[in->producer_output] = out;
    out->producer = producer;
    out->producer_output = in->producer_output;
    out->kind = DLC_VALUE_INTERMEDIATE;
    in->producer = NULL;
    return true;
}

dlc_status dlc_pass_eliminate_identity(dlc_graph *g, bool *out_changed) {
    *out_changed = false;
    dlc_graph_update_uses(g);
    for (int32_t i = 0; i < g->num_nodes;) {
        dlc_node *node = g->nodes[i];
        if (is_passthrough(node) && eliminate(g, node)) {
            *out_changed = true;
            continue; /* the next node moved into slot i */
        }
        i++;
    }
    if (*out_changed) {
        bool removed;
        DLC_TRY(dlc_pass_dead_code(g, &removed));
    }
    return DLC_OK;
}
