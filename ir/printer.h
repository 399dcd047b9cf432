/* The IR as readable text, one line per node:
 *
 *   %conv1_out: float32[1,64,32,32] = Conv(%input, %w1, %b1) {kernel_shape=[3,3], pads=[1,1,1,1]}  # conv1
 *
 * Symbolic dims print by name; constants are listed once, small ones with
 * their values. For `dlc compile --print-ir`, --print-after-all and tests. */
#ifndef DLC_IR_PRINTER_H
#define DLC_IR_PRINTER_H

#include <stddef.h>
#include <stdio.h>

#include "ir/graph.h"

/* "float32[1,batch,28,28]" into buf. */
const char *dlc_value_type_format(const dlc_graph *g, const dlc_value *v, char *buf, size_t size);
void dlc_node_print(const dlc_graph *g, const dlc_node *node, FILE *out);
void dlc_graph_print(const dlc_graph *g, FILE *out);

#endif
