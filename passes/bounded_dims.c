/* Data-dependent extents: which nodes may read a value whose dims are only
 * upper bounds (dlc_value.bounded_dims, set by the infer rules of NonZero,
 * Compress, Unique and NonMaxSuppression).
 *
 * Such a value is allocated for its bound and its producer reports the actual
 * extent at run time. Every other kernel is specialized on static shapes, so
 * reading the value would silently use the bound (Shape would even fold to
 * it). Only pass-through nodes (Identity) may read it, carrying the bound on;
 * anything else is refused here, before the consumer's rule or the folder
 * could bake the bound in. */
#include <string.h>

#include "passes/pipeline.h"
#include "runtime/status.h"

static bool passes_bounds_through(const dlc_node *node) {
    return node->domain[0] == '\0' && strcmp(node->op_type, "Identity") == 0 && node->num_inputs == 1 &&
           node->num_outputs == 1;
}

dlc_status dlc_bounded_dims_check_inputs(const dlc_graph *g, const dlc_node *node) {
    if (passes_bounds_through(node)) return DLC_OK;
    for (int32_t i = 0; i < node->num_inputs; i++) {
        const dlc_value *v = node->inputs[i];
        if (v == NULL || v->bounded_dims == 0) continue;
        int32_t d = 0;
        while (((v->bounded_dims >> d) & 1u) == 0) d++;
        char where[256], producer[256], shape[256];
        return dlc_fail(DLC_ERR_UNSUPPORTED,
                        "node %s: input %d '%s' %s%s has a data-dependent dim %d (at most %lld, known only after "
                        "node %s has run); dlc compiles this op for static shapes and cannot take such an input "
                        "(only a graph output, possibly through Identity, may have a data-dependent extent)",
                        dlc_node_describe(node, where, sizeof where), i, v->name, dlc_dtype_name(v->dtype),
                        dlc_shape_format(g, &v->shape, shape, sizeof shape), d, (long long)v->shape.dims[d].value,
                        v->producer != NULL ? dlc_node_describe(v->producer, producer, sizeof producer) : "?");
    }
    return DLC_OK;
}

void dlc_bounded_dims_propagate(dlc_node *node) {
    if (!passes_bounds_through(node) || node->inputs[0] == NULL || node->outputs[0] == NULL) return;
    node->outputs[0]->bounded_dims = node->inputs[0]->bounded_dims;
}
