#include "ir/op_registry.h"

#include <stdio.h>
#include <string.h>

#include "runtime/status.h"

#define DLC_OP_FAMILY(family) extern const dlc_op_schema dlc_ops_##family[];
#include "ir/ops/op_families.h"
#undef DLC_OP_FAMILY

static const dlc_op_schema *const op_families[] = {
#define DLC_OP_FAMILY(family) dlc_ops_##family,
#include "ir/ops/op_families.h"
#undef DLC_OP_FAMILY
};

enum { NUM_FAMILIES = sizeof op_families / sizeof op_families[0] };

static bool domain_is_onnx(const char *domain) {
    return domain == NULL || domain[0] == '\0' || strcmp(domain, "ai.onnx") == 0;
}

static bool same_domain(const char *a, const char *b) {
    if (domain_is_onnx(a) || domain_is_onnx(b)) return domain_is_onnx(a) && domain_is_onnx(b);
    return strcmp(a, b) == 0;
}

const dlc_op_schema *dlc_op_find(const char *domain, const char *op_type) {
    for (int f = 0; f < NUM_FAMILIES; f++)
        for (const dlc_op_schema *op = op_families[f]; op->op_type != NULL; op++)
            if (strcmp(op->op_type, op_type) == 0 && same_domain(op->domain, domain)) return op;
    return NULL;
}

int32_t dlc_op_count(void) {
    int32_t count = 0;
    for (int f = 0; f < NUM_FAMILIES; f++)
        for (const dlc_op_schema *op = op_families[f]; op->op_type != NULL; op++) count++;
    return count;
}

const dlc_op_schema *dlc_op_at(int32_t index) {
    for (int f = 0; f < NUM_FAMILIES; f++)
        for (const dlc_op_schema *op = op_families[f]; op->op_type != NULL; op++)
            if (index-- == 0) return op;
    return NULL;
}

dlc_status dlc_node_bind_schema(dlc_node *node) {
    char where[256];
    dlc_node_describe(node, where, sizeof where);
    const dlc_op_schema *op = dlc_op_find(node->domain, node->op_type);
    if (op == NULL)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "unsupported op '%s%s%s' (opset %d) in node %s",
                        domain_is_onnx(node->domain) ? "" : node->domain,
                        domain_is_onnx(node->domain) ? "" : ".", node->op_type, node->opset, where);
    if (node->opset < op->min_opset)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: op %s is supported from opset %d, the model uses opset %d",
                        where, node->op_type, op->min_opset, node->opset);
    if (node->num_inputs < op->min_inputs || (op->max_inputs >= 0 && node->num_inputs > op->max_inputs))
        return dlc_fail(DLC_ERR_PARSE, "node %s: %d inputs, %s takes %d to %d", where, node->num_inputs,
                        node->op_type, op->min_inputs, op->max_inputs);
    if (node->num_outputs < op->min_outputs || (op->max_outputs >= 0 && node->num_outputs > op->max_outputs))
        return dlc_fail(DLC_ERR_PARSE, "node %s: %d outputs, %s gives %d to %d", where, node->num_outputs,
                        node->op_type, op->min_outputs, op->max_outputs);
    for (int i = 0; i < op->min_inputs && i < node->num_inputs; i++)
        if (node->inputs[i] == NULL)
            return dlc_fail(DLC_ERR_PARSE, "node %s: required input %d is missing", where, i);
    node->schema = op;
    return DLC_OK;
}

void dlc_kcall_init(dlc_kcall *call, const char *kernel) {
    memset(call, 0, sizeof *call);
    snprintf(call->kernel, sizeof call->kernel, "%s", kernel);
}

dlc_status dlc_kcall_push_int(dlc_kcall *call, int64_t value) {
    if (call->num_ints >= DLC_KCALL_MAX_INTS)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "kernel %s: more than %d integer parameters", call->kernel,
                        DLC_KCALL_MAX_INTS);
    call->ints[call->num_ints++] = value;
    return DLC_OK;
}

dlc_status dlc_kcall_push_ints(dlc_kcall *call, const int64_t *values, int32_t count) {
    for (int32_t i = 0; i < count; i++) DLC_TRY(dlc_kcall_push_int(call, values[i]));
    return DLC_OK;
}

dlc_status dlc_kcall_push_float(dlc_kcall *call, double value) {
    if (call->num_floats >= DLC_KCALL_MAX_FLOATS)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "kernel %s: more than %d float parameters", call->kernel,
                        DLC_KCALL_MAX_FLOATS);
    call->floats[call->num_floats++] = value;
    return DLC_OK;
}

/* A value decides shapes when an operand marked in const_inputs reads it, or
 * when it flows (through any op but Shape and Size, which read only shapes)
 * into one: binding it then lets the whole chain fold. */
static bool decides_shapes(const dlc_graph *g, const dlc_value *value, int depth) {
    if (depth > 16) return false;
    for (int32_t i = 0; i < g->num_nodes; i++) {
        const dlc_node *n = g->nodes[i];
        const dlc_op_schema *op = n->schema != NULL ? n->schema : dlc_op_find(n->domain, n->op_type);
        if (op == NULL || strcmp(n->op_type, "Shape") == 0 || strcmp(n->op_type, "Size") == 0) continue;
        bool reads = false;
        for (int32_t k = 0; k < n->num_inputs; k++) {
            if (n->inputs[k] != value) continue;
            if (k < 32 && (op->const_inputs & (1u << k)) != 0) return true;
            reads = true;
        }
        if (!reads) continue;
        for (int32_t o = 0; o < n->num_outputs; o++)
            if (n->outputs[o] != NULL && decides_shapes(g, n->outputs[o], depth + 1)) return true;
    }
    return false;
}

bool dlc_value_decides_shapes(const dlc_graph *g, const dlc_value *value) { return decides_shapes(g, value, 0); }

int64_t dlc_node_flops(const dlc_node *node) {
    for (int32_t o = 0; o < node->num_outputs; o++)
        if (node->outputs[o] != NULL && dlc_value_numel(node->outputs[o]) < 0) return -1;
    if (node->schema != NULL && node->schema->flops != NULL) return node->schema->flops(node);
    int64_t total = 0;
    for (int32_t o = 0; o < node->num_outputs; o++)
        if (node->outputs[o] != NULL) total += dlc_value_numel(node->outputs[o]);
    return total;
}
