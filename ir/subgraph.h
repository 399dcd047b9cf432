/* Nodes with subgraphs (If, Loop, Scan, SequenceMap): how their inputs are laid out.
 *
 * The importer appends the enclosing-graph values that a node's subgraphs
 * read ("implicit inputs", as ONNX Runtime calls them) after the node's own
 * ONNX inputs, so that topological order, use counts and dead-code removal
 * see them. The INT attribute DLC_ATTR_IMPLICIT_INPUTS counts them. For each
 * GRAPH attribute in attribute order, the subgraph's inputs after its formal
 * ones are its captures, and they match the next implicit inputs in order. */
#ifndef DLC_IR_SUBGRAPH_H
#define DLC_IR_SUBGRAPH_H

#include <string.h>

#include "ir/graph.h"

#define DLC_ATTR_IMPLICIT_INPUTS "dlc.implicit_inputs"

/* The ops whose nodes get implicit inputs: those the compiler expands
 * (passes/control_flow.c). Other ops keep the inputs their schema counts. */
static inline bool dlc_op_takes_implicit_inputs(const char *domain, const char *op_type) {
    if (domain != NULL && domain[0] != '\0' && strcmp(domain, "ai.onnx") != 0) return false;
    return strcmp(op_type, "If") == 0 || strcmp(op_type, "Loop") == 0 || strcmp(op_type, "Scan") == 0 ||
           strcmp(op_type, "SequenceMap") == 0;
}

static inline int32_t dlc_node_num_implicit_inputs(const dlc_node *node) {
    int64_t n = dlc_node_attr_int(node, DLC_ATTR_IMPLICIT_INPUTS, 0);
    return n < 0 || n > node->num_inputs ? 0 : (int32_t)n;
}

/* The node's ONNX inputs, without the implicit ones. */
static inline int32_t dlc_node_num_explicit_inputs(const dlc_node *node) {
    return node->num_inputs - dlc_node_num_implicit_inputs(node);
}

#endif
