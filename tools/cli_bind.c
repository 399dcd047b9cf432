/* --bind NAME=FILE.pb and --bind-value NAME=V0,V1,...: graph inputs fixed to
 * a value at compile time (codegen/compile.h, dlc_input_value), as TensorRT
 * fixes "shape tensors". The value is read once the graph is imported,
 * because a --bind-value list takes the dtype and rank of its input. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tools/cli.h"

bool cli_add_bind(cli_compile_settings *cs, const char *arg, bool is_file) {
    const char *option = is_file ? "--bind" : "--bind-value";
    const char *eq = strchr(arg, '=');
    if (eq == NULL || eq == arg) {
        cli_error("%s '%s': expected %s", option, arg, is_file ? "NAME=FILE.pb" : "NAME=V0,V1,... (e.g. shape=2,-1)");
        return false;
    }
    if (cs->num_binds >= (int32_t)(sizeof cs->binds / sizeof cs->binds[0])) {
        cli_error("%s: at most %zu bound inputs", option, sizeof cs->binds / sizeof cs->binds[0]);
        return false;
    }
    cs->binds[cs->num_binds] = arg;
    cs->bind_is_file[cs->num_binds] = is_file;
    cs->num_binds++;
    return true;
}

static const dlc_value *find_input(const dlc_graph *g, const char *name, size_t len) {
    for (int32_t i = 0; i < g->num_inputs; i++)
        if (strlen(g->inputs[i]->name) == len && strncmp(g->inputs[i]->name, name, len) == 0) return g->inputs[i];
    return NULL;
}

/* Stores v into element i of a buffer of dtype; false when v does not fit. */
static bool store_number(dlc_dtype dtype, void *data, int64_t i, const char *text, bool *supported) {
    char *end;
    errno = 0;
    *supported = true;
    if (dtype == DLC_FLOAT32 || dtype == DLC_FLOAT64) {
        double d = strtod(text, &end);
        if (end == text || (*end != ',' && *end != '\0')) return false;
        if (dtype == DLC_FLOAT32) ((float *)data)[i] = (float)d;
        else ((double *)data)[i] = d;
        return true;
    }
    long long v = strtoll(text, &end, 10);
    if (end == text || errno != 0 || (*end != ',' && *end != '\0')) return false;
    switch (dtype) {
    case DLC_INT64: ((int64_t *)data)[i] = v; return true;
    case DLC_INT32: ((int32_t *)data)[i] = (int32_t)v; return v >= INT32_MIN && v <= INT32_MAX;
    case DLC_INT16: ((int16_t *)data)[i] = (int16_t)v; return v >= INT16_MIN && v <= INT16_MAX;
    case DLC_INT8: ((int8_t *)data)[i] = (int8_t)v; return v >= INT8_MIN && v <= INT8_MAX;
    case DLC_UINT64: ((uint64_t *)data)[i] = (uint64_t)v; return v >= 0;
    case DLC_UINT32: ((uint32_t *)data)[i] = (uint32_t)v; return v >= 0 && v <= UINT32_MAX;
    case DLC_UINT16: ((uint16_t *)data)[i] = (uint16_t)v; return v >= 0 && v <= UINT16_MAX;
    case DLC_UINT8: ((uint8_t *)data)[i] = (uint8_t)v; return v >= 0 && v <= UINT8_MAX;
    case DLC_BOOL: ((uint8_t *)data)[i] = (uint8_t)v; return v == 0 || v == 1;
    default: *supported = false; return false;
    }
}

static int parse_value_list(const dlc_value *input, const char *arg, const char *list, dlc_owned_tensor *out) {
    int64_t count = 0;
    for (const char *p = list; *p != '\0'; p++) count += *p == ',';
    if (*list != '\0') count++;
    if (input->shape.rank > 1)
        return cli_error("--bind-value '%s': input '%s' has rank %d; give its value with --bind %s=FILE.pb", arg,
                         input->name, input->shape.rank, input->name);
    if (input->shape.rank == 0 && count != 1)
        return cli_error("--bind-value '%s': input '%s' is a scalar; give one value", arg, input->name);
    size_t elem = dlc_dtype_size(input->dtype);
    if (elem == 0) return cli_error("--bind-value '%s': input '%s' has no fixed-size dtype", arg, input->name);
    /* 64-byte aligned like every dlc_owned_tensor, never zero bytes */
    size_t bytes = (size_t)count * elem;
    void *data = aligned_alloc(64, (bytes + 63) / 64 * 64 + 64);
    if (data == NULL) return cli_error("out of memory");
    out->tensor.dtype = input->dtype;
    out->tensor.rank = input->shape.rank == 0 ? 0 : 1;
    out->tensor.dims[0] = count;
    out->tensor.data = data;
    out->tensor.size_bytes = bytes;
    const char *p = list;
    for (int64_t i = 0; i < count; i++) {
        bool supported;
        if (!store_number(input->dtype, data, i, p, &supported))
            return supported ? cli_error("--bind-value '%s': '%.*s' is not a %s value", arg, (int)strcspn(p, ","), p,
                                         dlc_dtype_name(input->dtype))
                             : cli_error("--bind-value '%s': input '%s' is %s; give its value with --bind %s=FILE.pb",
                                         arg, input->name, dlc_dtype_name(input->dtype), input->name);
        p += strcspn(p, ",");
        if (*p == ',') p++;
    }
    return CLI_OK;
}

int cli_bound_inputs_resolve(const dlc_graph *g, const cli_compile_settings *cs, cli_bound_inputs *out) {
    memset(out, 0, sizeof *out);
    for (int32_t b = 0; b < cs->num_binds; b++) {
        const char *arg = cs->binds[b], *eq = strchr(arg, '=');
        const char *option = cs->bind_is_file[b] ? "--bind" : "--bind-value";
        const dlc_value *input = find_input(g, arg, (size_t)(eq - arg));
        if (input == NULL) return cli_error("%s '%s': the model has no input '%.*s'", option, arg, (int)(eq - arg), arg);
        if (cli_bound_inputs_has(out, input->name))
            return cli_error("%s '%s': input '%s' is bound twice", option, arg, input->name);
        dlc_owned_tensor *t = &out->tensors[out->count];
        if (cs->bind_is_file[b]) {
            dlc_status st = dlc_tensor_file_read(eq + 1, t);
            if (st != DLC_OK) return cli_status_error(st);
            cli_accept_bf16_bits(&t->tensor, input->dtype);
        } else {
            int rc = parse_value_list(input, arg, eq + 1, t);
            if (rc != CLI_OK) {
                dlc_owned_tensor_free(t);
                return rc;
            }
        }
        /* the graph outlives the compile call, so its input names do */
        out->values[out->count] = (dlc_input_value){input->name, &t->tensor};
        out->count++;
    }
    return CLI_OK;
}

bool cli_bound_inputs_has(const cli_bound_inputs *b, const char *name) {
    for (int32_t i = 0; i < b->count; i++)
        if (strcmp(b->values[i].name, name) == 0) return true;
    return false;
}

void cli_bound_inputs_free(cli_bound_inputs *b) {
    for (int32_t i = 0; i < b->count; i++) dlc_owned_tensor_free(&b->tensors[i]);
    b->count = 0;
}
