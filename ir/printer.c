#include "ir/printer.h"

#include <inttypes.h>
#include <string.h>

/* Constants with at most this many elements print their values. */
enum { PRINT_MAX_CONST_VALUES = 8 };

const char *dlc_value_type_format(const dlc_graph *g, const dlc_value *v, char *buf, size_t size) {
    char shape[256];
    dlc_shape_format(g, &v->shape, shape, sizeof shape);
    const char *dtype = dlc_dtype_name(v->dtype);
    /* sequences and optionals: their element type, and their length once known */
    if (v->type == DLC_TYPE_SEQUENCE && v->num_elems >= 0) {
        snprintf(buf, size, "sequence(%s%s) of %d", dtype, shape, (int)v->num_elems);
        return buf;
    }
    if (v->type == DLC_TYPE_SEQUENCE) {
        snprintf(buf, size, "sequence(%s%s)", dtype, shape);
        return buf;
    }
    if (v->type == DLC_TYPE_OPTIONAL) {
        snprintf(buf, size, "optional(%s%s%s%s)%s", v->elem_type == DLC_TYPE_SEQUENCE ? "sequence(" : "", dtype, shape,
                 v->elem_type == DLC_TYPE_SEQUENCE ? ")" : "",
                 v->num_elems == 0 ? " absent" : v->num_elems == 1 ? " present" : "");
        return buf;
    }
    if (v->bounded_dims == 0 || v->shape.rank <= 0) {
        snprintf(buf, size, "%s%s", dtype, shape);
        return buf;
    }
    /* a data-dependent extent shows its bound: int64[2,<=6] */
    size_t used = (size_t)snprintf(shape, sizeof shape, "[");
    for (int32_t d = 0; d < v->shape.rank && used < sizeof shape; d++)
        used += (size_t)snprintf(shape + used, sizeof shape - used, "%s%s%lld", d ? "," : "",
                                 (v->bounded_dims >> d) & 1u ? "<=" : "", (long long)v->shape.dims[d].value);
    if (used < sizeof shape) snprintf(shape + used, sizeof shape - used, "]");
    snprintf(buf, size, "%s%s", dtype, shape);
    return buf;
}

static void print_element(const dlc_value *v, int64_t i, FILE *out) {
    const void *d = v->data;
    switch (v->dtype) {
    case DLC_FLOAT32: fprintf(out, "%g", (double)((const float *)d)[i]); break;
    case DLC_FLOAT64: fprintf(out, "%g", ((const double *)d)[i]); break;
    case DLC_INT8: fprintf(out, "%d", ((const int8_t *)d)[i]); break;
    case DLC_UINT8: fprintf(out, "%u", ((const uint8_t *)d)[i]); break;
    case DLC_BOOL: fprintf(out, "%s", ((const uint8_t *)d)[i] ? "true" : "false"); break;
    case DLC_INT16: fprintf(out, "%d", ((const int16_t *)d)[i]); break;
    case DLC_UINT16: fprintf(out, "%u", ((const uint16_t *)d)[i]); break;
    case DLC_INT32: fprintf(out, "%" PRId32, ((const int32_t *)d)[i]); break;
    case DLC_UINT32: fprintf(out, "%" PRIu32, ((const uint32_t *)d)[i]); break;
    case DLC_INT64: fprintf(out, "%" PRId64, ((const int64_t *)d)[i]); break;
    case DLC_UINT64: fprintf(out, "%" PRIu64, ((const uint64_t *)d)[i]); break;
    default: fprintf(out, "?"); break;
    }
}

static void print_bytes(size_t n, FILE *out) {
    if (n < 1024) fprintf(out, "%zu B", n);
    else if (n < ((size_t)1 << 20)) fprintf(out, "%.1f KiB", (double)n / 1024.0);
    else fprintf(out, "%.1f MiB", (double)n / (1024.0 * 1024.0));
}

static void print_const_summary(const dlc_value *v, FILE *out) {
    int64_t numel = dlc_value_numel(v);
    if (numel >= 0 && numel <= PRINT_MAX_CONST_VALUES && v->data != NULL && dlc_dtype_size(v->dtype) != 0) {
        fprintf(out, " = [");
        for (int64_t i = 0; i < numel; i++) {
            if (i) fprintf(out, ", ");
            print_element(v, i, out);
        }
        fprintf(out, "]");
    } else {
        fprintf(out, "  # ");
        print_bytes(v->nbytes, out);
    }
}

static void print_attr(const dlc_attr *a, FILE *out) {
    fprintf(out, "%s=", a->name);
    switch (a->type) {
    case DLC_ATTR_INT: fprintf(out, "%" PRId64, a->i); break;
    case DLC_ATTR_FLOAT: fprintf(out, "%g", a->f); break;
    case DLC_ATTR_STRING: fprintf(out, "\"%s\"", a->s ? a->s : ""); break;
    case DLC_ATTR_INTS:
        fprintf(out, "[");
        for (int32_t i = 0; i < a->count; i++) fprintf(out, "%s%" PRId64, i ? "," : "", a->ints[i]);
        fprintf(out, "]");
        break;
    case DLC_ATTR_FLOATS:
        fprintf(out, "[");
        for (int32_t i = 0; i < a->count; i++) fprintf(out, "%s%g", i ? "," : "", a->floats[i]);
        fprintf(out, "]");
        break;
    case DLC_ATTR_STRINGS:
        fprintf(out, "[");
        for (int32_t i = 0; i < a->count; i++) fprintf(out, "%s\"%s\"", i ? "," : "", a->strings[i]);
        fprintf(out, "]");
        break;
    case DLC_ATTR_TENSOR: {
        char type[300] = "?";
        if (a->tensor != NULL) dlc_value_type_format(NULL, a->tensor, type, sizeof type);
        fprintf(out, "<tensor %s>", type);
        break;
    }
    case DLC_ATTR_GRAPH: fprintf(out, "<graph '%s'>", a->graph && a->graph->name ? a->graph->name : ""); break;
    default: fprintf(out, "<undefined>"); break;
    }
}

void dlc_node_print(const dlc_graph *g, const dlc_node *node, FILE *out) {
    char type[300];
    int printed = 0;
    for (int32_t o = 0; o < node->num_outputs; o++) {
        const dlc_value *v = node->outputs[o];
        if (v == NULL) continue;
        fprintf(out, "%s%%%s: %s", printed++ ? ", " : "", v->name, dlc_value_type_format(g, v, type, sizeof type));
    }
    fprintf(out, "%s%s%s%s(", printed ? " = " : "", node->domain[0] ? node->domain : "",
            node->domain[0] ? "." : "", node->op_type);
    for (int32_t i = 0; i < node->num_inputs; i++) {
        const dlc_value *v = node->inputs[i];
        fprintf(out, "%s%s%s", i ? ", " : "", v ? "%" : "_", v ? v->name : "");
    }
    fprintf(out, ")");
    if (node->num_attrs > 0) {
        fprintf(out, " {");
        for (int32_t a = 0; a < node->num_attrs; a++) {
            if (a) fprintf(out, ", ");
            print_attr(&node->attrs[a], out);
        }
        fprintf(out, "}");
    }
    fprintf(out, "  # %s\n", node->name);
}

void dlc_graph_print(const dlc_graph *g, FILE *out) {
    char type[300];
    fprintf(out, "graph '%s'", g->name ? g->name : "");
    for (int32_t i = 0; i < g->num_opsets; i++)
        fprintf(out, "%s%s=%" PRId64, i ? ", " : " opsets ", g->opsets[i].domain[0] ? g->opsets[i].domain : "ai.onnx",
                g->opsets[i].version);
    fprintf(out, "\n");
    for (int32_t i = 0; i < g->num_inputs; i++)
        fprintf(out, "input  %%%s: %s\n", g->inputs[i]->name, dlc_value_type_format(g, g->inputs[i], type, sizeof type));
    for (int32_t i = 0; i < g->num_values; i++) {
        const dlc_value *v = g->values[i];
        if (v == NULL || v->kind != DLC_VALUE_CONST) continue;
        fprintf(out, "const  %%%s: %s", v->name, dlc_value_type_format(g, v, type, sizeof type));
        print_const_summary(v, out);
        fprintf(out, "\n");
    }
    for (int32_t i = 0; i < g->num_nodes; i++) dlc_node_print(g, g->nodes[i], out);
    fprintf(out, "return ");
    for (int32_t i = 0; i < g->num_outputs; i++)
        fprintf(out, "%s%%%s", i ? ", " : "", g->outputs[i] ? g->outputs[i]->name : "?");
    fprintf(out, "\n");
}
