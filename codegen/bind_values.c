/* Binding graph inputs to values at compile time (codegen/compile.h). */
#include <stdio.h>
#include <string.h>

#include "codegen/compile.h"
#include "runtime/status.h"

static dlc_status bind_one(dlc_graph *g, const dlc_input_value *binding) {
    dlc_value *input = NULL;
    for (int32_t i = 0; i < g->num_inputs; i++)
        if (strcmp(g->inputs[i]->name, binding->name) == 0) input = g->inputs[i];
    if (input == NULL) return dlc_fail(DLC_ERR_NOT_FOUND, "--bind: the model has no input '%s'", binding->name);
    const dlc_tensor *t = binding->tensor;
    dlc_shape shape = dlc_shape_make(t->rank, t->dims);
    char want[160], got[160];
    if (t->dtype != input->dtype)
        return dlc_fail(DLC_ERR_DTYPE_MISMATCH, "--bind: input '%s' is %s, the value given is %s", input->name,
                        dlc_dtype_name(input->dtype), dlc_dtype_name(t->dtype));
    bool fits = input->shape.rank < 0 || input->shape.rank == t->rank;
    for (int32_t d = 0; fits && input->shape.rank >= 0 && d < t->rank; d++)
        fits = input->shape.dims[d].value < 0 || input->shape.dims[d].value == t->dims[d];
    if (!fits)
        return dlc_fail(DLC_ERR_SHAPE_MISMATCH, "--bind: input '%s' is %s, the value given is %s", input->name,
                        dlc_shape_format(g, &input->shape, want, sizeof want),
                        dlc_shape_format(g, &shape, got, sizeof got));
    input->shape = shape; /* a bound input's shape is the value's */

    char name[256];
    snprintf(name, sizeof name, "%s.bound", input->name);
    dlc_value *constant;
    DLC_TRY(dlc_graph_add_const(g, name, t->dtype, &shape, t->data, t->size_bytes, &constant));
    /* readers see the constant; graph outputs keep reading the input itself */
    for (int32_t i = 0; i < g->num_nodes; i++) {
        dlc_node *n = g->nodes[i];
        for (int32_t k = 0; k < n->num_inputs; k++)
            if (n->inputs[k] == input) n->inputs[k] = constant;
    }
    snprintf(name, sizeof name, "input '%s' bound at compile time", input->name);
    dlc_value *operands[2] = {input, constant};
    dlc_node *check;
    DLC_TRY(dlc_graph_add_node(g, name, "BoundInput", "dlc", 1, 2, operands, 0, NULL, &check));
    dlc_graph_update_uses(g);
    return DLC_OK;
}

dlc_status dlc_bind_input_values(dlc_graph *g, const dlc_input_value *values, int32_t count) {
    for (int32_t i = 0; i < count; i++) DLC_TRY(bind_one(g, &values[i]));
    return count > 0 ? dlc_graph_toposort(g) : DLC_OK;
}
