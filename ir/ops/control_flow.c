/* If, Loop and Scan: schemas only. These ops have no kernel; the compiler
 * expands them into their subgraphs' nodes at compile time
 * (passes/control_flow.c, called while inferring), so their infer rule only
 * runs when the expansion did not happen and says so.
 *
 * const_inputs: Loop's trip count and condition decide how many copies of
 * the body run, and If's condition which branch runs, so `dlc test` and
 * --bind fix them when they are graph inputs. */
#include "ir/op_registry.h"
#include "runtime/status.h"

static dlc_status not_expanded_infer(dlc_graph *g, dlc_node *node) {
    (void)g;
    char where[256];
    return dlc_fail(DLC_ERR_UNSUPPORTED,
                    "node %s: %s is expanded at compile time (passes/control_flow.c) and cannot be inferred as one node",
                    dlc_node_describe(node, where, sizeof where), node->op_type);
}

const dlc_op_schema dlc_ops_control_flow[] = {
    {"If", "", 1, 1, -1, 1, -1, not_expanded_infer, NULL, NULL, 1u << 0},
    /* min_inputs 0: M and cond are optional (an empty name), the expansion checks for both slots */
    {"Loop", "", 1, 0, -1, 0, -1, not_expanded_infer, NULL, NULL, (1u << 0) | (1u << 1)},
    /* min_inputs 0: opset 8 may omit its first input, sequence_lens */
    {"Scan", "", 8, 0, -1, 1, -1, not_expanded_infer, NULL, NULL, 0},
    {0},
};
