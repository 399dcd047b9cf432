/* Sequence and optional ops: schemas only. Their values are lists of tensors
 * known at compile time (ir/graph.h, dlc_value_type), so the compiler expands
 * these ops into tensor ops or plain rewiring (passes/sequence.c, called
 * while inferring); their infer rule only runs when the expansion did not
 * happen, and says so.
 *
 * const_inputs: a position (SequenceInsert/At/Erase) picks which element is
 * read or where one goes, and SplitToSequence's split decides how many
 * elements there are and their shapes, so `dlc test` and --bind fix them when
 * they are graph inputs. */
#include "ir/op_registry.h"
#include "runtime/status.h"

static dlc_status not_expanded_infer(dlc_graph *g, dlc_node *node) {
    (void)g;
    char where[256];
    return dlc_fail(DLC_ERR_UNSUPPORTED,
                    "node %s: %s is expanded at compile time (passes/sequence.c) and cannot be inferred as one node",
                    dlc_node_describe(node, where, sizeof where), node->op_type);
}

const dlc_op_schema dlc_ops_sequence[] = {
    {"SequenceEmpty", "", 11, 0, 0, 1, 1, not_expanded_infer, NULL, NULL, 0},
    {"SequenceConstruct", "", 11, 1, -1, 1, 1, not_expanded_infer, NULL, NULL, 0},
    {"SequenceInsert", "", 11, 2, 3, 1, 1, not_expanded_infer, NULL, NULL, 1u << 2},
    {"SequenceAt", "", 11, 2, 2, 1, 1, not_expanded_infer, NULL, NULL, 1u << 1},
    {"SequenceErase", "", 11, 1, 2, 1, 1, not_expanded_infer, NULL, NULL, 1u << 1},
    {"SequenceLength", "", 11, 1, 1, 1, 1, not_expanded_infer, NULL, NULL, 0},
    {"ConcatFromSequence", "", 11, 1, 1, 1, 1, not_expanded_infer, NULL, NULL, 0},
    {"SplitToSequence", "", 11, 1, 2, 1, 1, not_expanded_infer, NULL, NULL, 1u << 1},
    /* variadic inputs: the body's captures follow as implicit inputs (ir/subgraph.h) */
    {"SequenceMap", "", 17, 1, -1, 1, -1, not_expanded_infer, NULL, NULL, 0},
    {"Optional", "", 15, 0, 1, 1, 1, not_expanded_infer, NULL, NULL, 0},
    {"OptionalHasElement", "", 15, 0, 1, 1, 1, not_expanded_infer, NULL, NULL, 0},
    {"OptionalGetElement", "", 15, 1, 1, 1, 1, not_expanded_infer, NULL, NULL, 0},
    {0},
};
