/* Sequences and optionals on the command line: --sequence NAME=N|none, and
 * test data files read as the model declares them (a SequenceProto or
 * OptionalProto file does not say what it is), flattened into the tensors
 * the artifact takes and gives: "x[0]", "x[1]"... for a sequence, "x" for a
 * present optional tensor (codegen/bind_sequences.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/onnx_import.h"
#include "tools/cli.h"

bool cli_add_sequence(cli_compile_settings *cs, const char *arg) {
    const char *eq = strrchr(arg, '=');
    if (eq == NULL || eq == arg) {
        cli_error("--sequence '%s': expected NAME=LENGTH, or NAME=none for an absent optional", arg);
        return false;
    }
    if (cs->num_sequences >= (int32_t)(sizeof cs->sequences / sizeof cs->sequences[0])) {
        cli_error("--sequence: at most %zu", sizeof cs->sequences / sizeof cs->sequences[0]);
        return false;
    }
    size_t name_len = (size_t)(eq - arg);
    if (name_len >= sizeof cs->sequence_names[0]) {
        cli_error("--sequence: input name '%.*s...' is too long", 40, arg);
        return false;
    }
    int64_t length = -1;
    if (strcmp(eq + 1, "none") != 0 && !cli_parse_int(eq + 1, 0, 1 << 20, &length)) {
        cli_error("--sequence '%s': '%s' is neither a length nor 'none'", arg, eq + 1);
        return false;
    }
    memcpy(cs->sequence_names[cs->num_sequences], arg, name_len);
    cs->sequence_names[cs->num_sequences][name_len] = '\0';
    cs->sequences[cs->num_sequences] = (dlc_input_sequence){cs->sequence_names[cs->num_sequences], (int32_t)length};
    cs->num_sequences++;
    return true;
}

static dlc_file_kind kind_of(const dlc_value *v) {
    return v->type == DLC_TYPE_SEQUENCE ? DLC_FILE_SEQUENCE
           : v->type == DLC_TYPE_OPTIONAL ? DLC_FILE_OPTIONAL
                                          : DLC_FILE_TENSOR;
}

void cli_io_types_free(cli_io_types *io) {
    for (int i = 0; i < io->num_inputs; i++) free(io->input_names[i]);
    for (int i = 0; i < io->num_outputs; i++) free(io->output_names[i]);
    free(io->input_names);
    free(io->output_names);
    free(io->input_kinds);
    free(io->output_kinds);
    memset(io, 0, sizeof *io);
}

int cli_io_types_read(const char *onnx_path, cli_io_types *io) {
    memset(io, 0, sizeof *io);
    dlc_graph *g;
    dlc_status st = dlc_onnx_import_file(onnx_path, &g);
    if (st != DLC_OK) return cli_status_error(st);
    io->input_names = calloc((size_t)g->num_inputs + 1, sizeof *io->input_names);
    io->output_names = calloc((size_t)g->num_outputs + 1, sizeof *io->output_names);
    io->input_kinds = calloc((size_t)g->num_inputs + 1, sizeof *io->input_kinds);
    io->output_kinds = calloc((size_t)g->num_outputs + 1, sizeof *io->output_kinds);
    int rc = io->input_names && io->output_names && io->input_kinds && io->output_kinds ? CLI_OK
                                                                                        : cli_error("out of memory");
    for (int32_t i = 0; rc == CLI_OK && i < g->num_inputs; i++, io->num_inputs++) {
        io->input_kinds[i] = kind_of(g->inputs[i]);
        io->any_sequence |= io->input_kinds[i] != DLC_FILE_TENSOR;
        if ((io->input_names[i] = strdup(g->inputs[i]->name)) == NULL) rc = cli_error("out of memory");
    }
    /* an output's declared type (the importer keeps it until the producer is expanded) */
    for (int32_t i = 0; rc == CLI_OK && i < g->num_outputs; i++, io->num_outputs++) {
        io->output_kinds[i] = kind_of(g->outputs[i]);
        io->any_sequence |= io->output_kinds[i] != DLC_FILE_TENSOR;
        if ((io->output_names[i] = strdup(g->outputs[i]->name)) == NULL) rc = cli_error("out of memory");
    }
    dlc_graph_free(g);
    if (rc != CLI_OK) cli_io_types_free(io);
    return rc;
}

void cli_element_name(const dlc_owned_value *v, const char *base, int32_t k, char *buf, size_t size) {
    if (v->holds_sequence) snprintf(buf, size, "%s[%d]", base, (int)k);
    else snprintf(buf, size, "%s", base);
}

bool cli_inputs_read_typed(cli_inputs *in, char *const *paths, int count, const cli_io_types *io,
                           cli_compile_settings *cs) {
    memset(in, 0, sizeof *in);
    if (count != io->num_inputs) {
        cli_error("the model has %d input%s, %d file%s given", io->num_inputs, io->num_inputs == 1 ? "" : "s", count,
                  count == 1 ? "" : "s");
        return false;
    }
    int cap = 0, used = 0;
    for (int i = 0; i < count; i++) {
        dlc_owned_value v;
        dlc_status st = dlc_value_file_read(paths[i], io->input_kinds[i], &v);
        if (st != DLC_OK) {
            cli_status_error(st);
            return false;
        }
        const char *base = io->input_names[i];
        if (io->input_kinds[i] != DLC_FILE_TENSOR) {
            bool given = false;
            for (int32_t k = 0; k < cs->num_sequences; k++) given |= strcmp(cs->sequences[k].name, base) == 0;
            if (!given && cs->num_sequences < (int32_t)(sizeof cs->sequences / sizeof cs->sequences[0])) {
                snprintf(cs->sequence_names[cs->num_sequences], sizeof cs->sequence_names[0], "%s", base);
                cs->sequences[cs->num_sequences] =
                    (dlc_input_sequence){cs->sequence_names[cs->num_sequences], v.present ? v.count : -1};
                cs->num_sequences++;
            }
        }
        if (used + v.count + 1 > cap) {
            cap = (used + v.count + 1) * 2;
            dlc_owned_tensor *t = realloc(in->tensors, (size_t)cap * sizeof *t);
            char **p = t != NULL ? realloc(in->paths, (size_t)cap * sizeof *p) : NULL;
            if (t != NULL) in->tensors = t;
            if (p != NULL) in->paths = p;
            if (t == NULL || p == NULL) {
                dlc_owned_value_free(&v);
                cli_error("out of memory");
                return false;
            }
        }
        for (int32_t k = 0; k < v.count; k++) {
            char name[600];
            cli_element_name(&v, base, k, name, sizeof name);
            dlc_owned_tensor *t = &in->tensors[used];
            *t = v.elems[k];
            memset(&v.elems[k], 0, sizeof v.elems[k]); /* moved */
            free(t->name);
            t->name = strdup(name); /* matched to the artifact's inputs by name */
            in->paths[used] = paths[i];
            used++;
            in->count = used;
            if (t->name == NULL) {
                dlc_owned_value_free(&v);
                cli_error("out of memory");
                return false;
            }
        }
        dlc_owned_value_free(&v);
    }
    if (in->tensors == NULL) in->tensors = calloc(1, sizeof *in->tensors);
    if (in->paths == NULL) in->paths = calloc(1, sizeof *in->paths);
    if (in->paths != NULL) in->paths[used] = NULL;
    return in->tensors != NULL && in->paths != NULL ? true : (cli_error("out of memory"), false);
}
