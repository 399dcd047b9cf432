#include <stdlib.h>
#include <string.h>

#include "ir/op_registry.h"
#include "kernels/dlc_kernel.h"
#include "runtime/status.h"

static dlc_status describe_operand(const dlc_node *node, const dlc_value *value, dlc_ktensor *out) {
    memset(out, 0, sizeof *out);
    if (value == NULL) return DLC_OK; /* omitted optional operand: dtype 0 */
    if (value->shape.rank < 0 || value->shape.rank > DLC_KMAX_RANK || !dlc_shape_is_static(&value->shape)) {
        char where[256];
        return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: tensor '%s' has no static shape at code generation",
                        dlc_node_describe(node, where, sizeof where), value->name ? value->name : "?");
    }
    out->dtype = (int32_t)value->dtype;
    out->rank = value->shape.rank;
    out->numel = 1;
    for (int d = 0; d < value->shape.rank; d++) {
        out->dims[d] = value->shape.dims[d].value;
        out->numel *= out->dims[d];
    }
    return DLC_OK;
}

dlc_status dlc_kparams_build(const dlc_node *node, const dlc_kcall *call, void **out_blob, size_t *out_size) {
    *out_blob = NULL;
    *out_size = 0;
    size_t size = dlc_kparams_size(node->num_inputs, node->num_outputs, call->num_ints, call->num_floats);
    /* calloc: padding bytes are zero so equal calls give equal blobs */
    dlc_kparams *params = calloc(1, size);
    if (params == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "kernel parameters (%zu bytes)", size);
    params->num_inputs = node->num_inputs;
    params->num_outputs = node->num_outputs;
    params->num_ints = call->num_ints;
    params->num_floats = call->num_floats;
    dlc_ktensor *tensors = (dlc_ktensor *)(void *)(params + 1);
    for (int i = 0; i < node->num_inputs; i++) {
        dlc_status st = describe_operand(node, node->inputs[i], &tensors[i]);
        if (st != DLC_OK) {
            free(params);
            return st;
        }
    }
    for (int i = 0; i < node->num_outputs; i++) {
        dlc_status st = describe_operand(node, node->outputs[i], &tensors[node->num_inputs + i]);
        if (st != DLC_OK) {
            free(params);
            return st;
        }
    }
    memcpy((void *)dlc_kp_ints(params), call->ints, (size_t)call->num_ints * sizeof(int64_t));
    memcpy((void *)dlc_kp_floats(params), call->floats, (size_t)call->num_floats * sizeof(double));
    *out_blob = params;
    *out_size = size;
    return DLC_OK;
}
