/* dlc.BoundInput(input, value): the check left behind by binding an input to
 * a value at compile time (codegen/bind_values.c). It has no outputs; its
 * kernel fails the run when the input differs from the bound value. */
#include "ir/op_registry.h"
#include "runtime/status.h"

static dlc_status bound_infer(dlc_graph *g, dlc_node *node) {
    const dlc_value *input = node->inputs[0], *value = node->inputs[1];
    char where[256], a[160], b[160];
    if (input->dtype != value->dtype || !dlc_shape_equal(&input->shape, &value->shape))
        return dlc_fail(DLC_ERR_INTERNAL, "node %s: input %s %s bound to a %s %s value",
                        dlc_node_describe(node, where, sizeof where), dlc_dtype_name(input->dtype),
                        dlc_shape_format(g, &input->shape, a, sizeof a), dlc_dtype_name(value->dtype),
                        dlc_shape_format(g, &value->shape, b, sizeof b));
    return DLC_OK;
}

static dlc_status bound_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    dlc_kcall_init(call, "check_equal");
    return DLC_OK;
}

static int64_t no_flops(const dlc_node *node) { return 0; }

const dlc_op_schema dlc_ops_bound[] = {
    {"BoundInput", "dlc", 1, 2, 2, 0, 0, bound_infer, bound_lower, no_flops},
    {0},
};
