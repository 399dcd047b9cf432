/* Sequence and optional graph inputs flattened into tensor inputs
 * (codegen/compile.h, dlc_bind_input_sequences).
 *
 * Their length (or presence) is fixed at compile time like a symbolic dim,
 * and each element becomes an input of its own: "x[0]", "x[1]"... for a
 * sequence (an optional sequence too), "x" for a present optional tensor.
 * Each element's shape is the element type's, with every symbolic dim
 * renamed per element ("x[1].N"): elements of one sequence may differ in
 * size, so they are bound one by one (--shape x[1]=9). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codegen/compile.h"
#include "runtime/status.h"

static const dlc_input_sequence *find_binding(const dlc_input_sequence *seqs, int32_t count, const char *name) {
    for (int32_t i = 0; i < count; i++)
        if (seqs[i].name != NULL && strcmp(seqs[i].name, name) == 0) return &seqs[i];
    return NULL;
}

/* A new INPUT called name with input's element type; symbols renamed "name.sym". */
static dlc_status element_input(dlc_graph *g, const dlc_value *input, const char *name, dlc_value **out) {
    dlc_shape shape = input->shape;
    char sym[600];
    for (int32_t d = 0; d < shape.rank; d++) {
        if (dlc_dim_is_static(shape.dims[d])) continue;
        const char *base = shape.dims[d].sym >= 0 && shape.dims[d].sym < g->num_symbols ? g->symbols[shape.dims[d].sym] : "?";
        snprintf(sym, sizeof sym, "%s.%s", name, base);
        DLC_TRY(dlc_graph_symbol(g, sym, &shape.dims[d].sym));
    }
    return dlc_graph_add_value(g, name, DLC_VALUE_INPUT, input->dtype, &shape, out);
}

/* Makes list (a sequence) hold length new element inputs named "base[i]". */
static dlc_status flatten_sequence(dlc_graph *g, const dlc_value *input, dlc_value *list, const char *base,
                                   int32_t length) {
    dlc_value **elems = calloc((size_t)length + 1, sizeof *elems);
    if (elems == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "out of memory");
    dlc_status st = DLC_OK;
    char name[512];
    for (int32_t i = 0; i < length && st == DLC_OK; i++) {
        snprintf(name, sizeof name, "%s[%d]", base, (int)i);
        st = element_input(g, input, name, &elems[i]);
    }
    if (st == DLC_OK) st = dlc_value_set_elems(list, DLC_TYPE_SEQUENCE, DLC_TYPE_TENSOR, input->dtype, elems, length);
    free(elems);
    return st;
}

static dlc_status flatten_one(dlc_graph *g, dlc_value *input, const dlc_input_sequence *b) {
    const char *what = input->type == DLC_TYPE_SEQUENCE ? "a sequence" : "an optional";
    if (b == NULL)
        return dlc_fail(DLC_ERR_UNSUPPORTED,
                        "input '%s' is %s of %s; dlc fixes its %s at compile time: give it, e.g. --sequence %s=%s "
                        "(dlc_compile_options.input_sequences)",
                        input->name, what, dlc_dtype_name(input->dtype),
                        input->type == DLC_TYPE_SEQUENCE ? "length" : "presence", input->name,
                        input->type == DLC_TYPE_SEQUENCE ? "3" : "none");
    if (input->type == DLC_TYPE_SEQUENCE) {
        if (b->length < 0)
            return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "--sequence %s: a sequence's length cannot be 'none'", input->name);
        return flatten_sequence(g, input, input, input->name, b->length);
    }
    if (b->length < 0) return dlc_value_set_elems(input, DLC_TYPE_OPTIONAL, input->elem_type, input->dtype, NULL, 0);
    dlc_value *content;
    if (input->elem_type == DLC_TYPE_TENSOR) {
        DLC_TRY(element_input(g, input, input->name, &content));
    } else { /* an optional sequence: a list value holding the element inputs */
        DLC_TRY(dlc_graph_add_value(g, input->name, DLC_VALUE_INTERMEDIATE, input->dtype, NULL, &content));
        DLC_TRY(flatten_sequence(g, input, content, input->name, b->length));
    }
    return dlc_value_set_elems(input, DLC_TYPE_OPTIONAL, input->elem_type, input->dtype, &content, 1);
}

dlc_status dlc_bind_input_sequences(dlc_graph *g, const dlc_input_sequence *seqs, int32_t count) {
    if (g == NULL || (count > 0 && seqs == NULL))
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "dlc_bind_input_sequences: NULL argument");
    for (int32_t k = 0; k < count; k++) {
        bool found = false;
        for (int32_t i = 0; i < g->num_inputs && !found; i++)
            found = strcmp(g->inputs[i]->name, seqs[k].name) == 0 && g->inputs[i]->type != DLC_TYPE_TENSOR;
        if (!found)
            return dlc_fail(DLC_ERR_NOT_FOUND, "--sequence %s: the model has no sequence or optional input of that name",
                            seqs[k].name);
    }
    int32_t num_original = g->num_inputs;
    dlc_value **original = calloc((size_t)num_original + 1, sizeof *original);
    if (original == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "out of memory");
    memcpy(original, g->inputs, (size_t)num_original * sizeof *original);
    dlc_status st = DLC_OK;
    for (int32_t i = 0; i < num_original && st == DLC_OK; i++)
        if (original[i]->type != DLC_TYPE_TENSOR)
            st = flatten_one(g, original[i], find_binding(seqs, count, original[i]->name));
    /* the interface: tensor inputs in model order, each list's elements in
     * its place (dlc_graph_add_value appended them) */
    dlc_value **inputs = st == DLC_OK ? calloc((size_t)g->num_inputs + 1, sizeof *inputs) : NULL;
    if (st == DLC_OK && inputs == NULL) st = dlc_fail(DLC_ERR_OUT_OF_MEMORY, "out of memory");
    if (st == DLC_OK) {
        int32_t n = 0;
        for (int32_t i = 0; i < num_original; i++) {
            dlc_value *v = original[i];
            if (v->type == DLC_TYPE_TENSOR) {
                inputs[n++] = v;
                continue;
            }
            dlc_value *seq = v;
            if (v->type == DLC_TYPE_OPTIONAL) {
                if (v->num_elems == 0) continue;
                seq = v->elems[0];
                if (seq->type == DLC_TYPE_TENSOR) {
                    inputs[n++] = seq;
                    continue;
                }
            }
            for (int32_t k = 0; k < seq->num_elems; k++) inputs[n++] = seq->elems[k];
        }
        /* the lists stay values of the graph, read by the ops that use them,
         * but no longer inputs of the artifact */
        for (int32_t i = 0; i < num_original; i++)
            if (original[i]->type != DLC_TYPE_TENSOR) original[i]->kind = DLC_VALUE_INTERMEDIATE;
        free(g->inputs);
        g->inputs = inputs;
        g->num_inputs = n;
    }
    free(original);
    return st;
}
