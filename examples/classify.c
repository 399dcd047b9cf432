/* classify: run a compiled model from plain C, using only dlc.h and libdlcrt.
 *
 *     dlc compile model.onnx -o model.so
 *     example_classify model.so [input.raw]
 *
 * Prints the model's inputs and outputs, fills the inputs (input 0 from a raw
 * little-endian float32 file when given, otherwise a fixed pattern), runs the
 * model and prints the largest values of each output. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dlc/dlc.h"

enum { TOP_K = 5 };

static void print_info(const char *role, int index, const dlc_tensor_info *info) {
    printf("%s %d: %s %s[", role, index, info->name, dlc_dtype_name(info->dtype));
    for (int d = 0; d < info->rank; d++) {
        if (d) printf(",");
        if (info->dims[d] < 0)
            printf("%s", info->dim_names[d] ? info->dim_names[d] : "?");
        else
            printf("%lld", (long long)info->dims[d]);
    }
    printf("]\n");
}

/* Allocates a buffer for info and sets up t; 0 on success. */
static int make_tensor(const dlc_tensor_info *info, dlc_tensor *t) {
    size_t count = 1;
    for (int d = 0; d < info->rank; d++) {
        if (info->dims[d] < 0) {
            fprintf(stderr, "tensor '%s' has a symbolic dim; compile the model with its shape bound\n", info->name);
            return 1;
        }
        count *= (size_t)info->dims[d];
    }
    size_t bytes = count * dlc_dtype_size(info->dtype);
    memset(t, 0, sizeof *t);
    t->dtype = info->dtype;
    t->rank = info->rank;
    memcpy(t->dims, info->dims, sizeof t->dims);
    t->size_bytes = bytes;
    t->data = calloc(bytes ? bytes : 1, 1);
    if (t->data == NULL) {
        fprintf(stderr, "out of memory (%zu bytes for '%s')\n", bytes, info->name);
        return 1;
    }
    return 0;
}

/* A deterministic pattern in [-1, 1] for float inputs, small integers otherwise. */
static void fill_pattern(dlc_tensor *t, int seed) {
    size_t count = t->size_bytes / dlc_dtype_size(t->dtype);
    for (size_t i = 0; i < count; i++) {
        int v = (int)((i * 37u + (size_t)seed * 11u) % 201u) - 100;
        switch (t->dtype) {
        case DLC_FLOAT32: ((float *)t->data)[i] = (float)v / 100.0f; break;
        case DLC_FLOAT64: ((double *)t->data)[i] = v / 100.0; break;
        case DLC_INT64: ((int64_t *)t->data)[i] = (v + 100) % 10; break;
        case DLC_INT32: ((int32_t *)t->data)[i] = (v + 100) % 10; break;
        case DLC_UINT8: ((uint8_t *)t->data)[i] = (uint8_t)(v + 100); break;
        default: break; /* zeros */
        }
    }
}

static int read_raw(const char *path, dlc_tensor *t) {
    if (t->dtype != DLC_FLOAT32) {
        fprintf(stderr, "%s: only float32 inputs can be read from a raw file\n", path);
        return 1;
    }
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        return 1;
    }
    size_t got = fread(t->data, 1, t->size_bytes, f);
    int extra = fgetc(f);
    fclose(f);
    if (got != t->size_bytes || extra != EOF) {
        fprintf(stderr, "%s: expected exactly %zu bytes of float32 data\n", path, t->size_bytes);
        return 1;
    }
    return 0;
}

static void print_top(const dlc_tensor_info *info, const dlc_tensor *t) {
    if (t->dtype != DLC_FLOAT32) {
        printf("output '%s': %s (not printed)\n", info->name, dlc_dtype_name(t->dtype));
        return;
    }
    const float *v = t->data;
    size_t count = t->size_bytes / sizeof(float);
    size_t best[TOP_K];
    int found = 0;
    for (size_t i = 0; i < count; i++) { /* insertion into a small sorted list */
        int pos = found < TOP_K ? found++ : TOP_K;
        while (pos > 0 && v[i] > v[best[pos - 1]]) {
            if (pos < TOP_K) best[pos] = best[pos - 1];
            pos--;
        }
        if (pos < TOP_K) best[pos] = i;
    }
    printf("output '%s' top %d:\n", info->name, found);
    for (int k = 0; k < found; k++) printf("  [%zu] %.6f\n", best[k], v[best[k]]);
}

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s model.so [input0.raw]\n", argv[0]);
        return 2;
    }
    dlc_model *model = NULL;
    dlc_session *session = NULL;
    dlc_tensor *inputs = NULL, *outputs = NULL;
    int status = 1;
    if (dlc_model_load(argv[1], &model) != DLC_OK) goto fail;
    int num_inputs = dlc_model_num_inputs(model), num_outputs = dlc_model_num_outputs(model);
    printf("model %s (target %s)\n", argv[1], dlc_model_target(model));
    inputs = calloc((size_t)num_inputs + 1, sizeof *inputs);
    outputs = calloc((size_t)num_outputs + 1, sizeof *outputs);
    if (inputs == NULL || outputs == NULL) goto fail;
    for (int i = 0; i < num_inputs; i++) {
        dlc_tensor_info info;
        if (dlc_model_input(model, i, &info) != DLC_OK) goto fail;
        print_info("input", i, &info);
        if (make_tensor(&info, &inputs[i])) goto cleanup;
        if (i == 0 && argc == 3) {
            if (read_raw(argv[2], &inputs[i])) goto cleanup;
        } else {
            fill_pattern(&inputs[i], i);
        }
    }
    for (int i = 0; i < num_outputs; i++) {
        dlc_tensor_info info;
        if (dlc_model_output(model, i, &info) != DLC_OK) goto fail;
        print_info("output", i, &info);
        if (make_tensor(&info, &outputs[i])) goto cleanup;
    }
    if (dlc_session_create(model, NULL, &session) != DLC_OK) goto fail;
    if (dlc_session_run(session, inputs, num_inputs, outputs, num_outputs) != DLC_OK) goto fail;
    for (int i = 0; i < num_outputs; i++) {
        dlc_tensor_info info;
        dlc_model_output(model, i, &info);
        print_top(&info, &outputs[i]);
    }
    status = 0;
    goto cleanup;
fail:
    fprintf(stderr, "error: %s\n", dlc_last_error()[0] ? dlc_last_error() : "out of memory");
cleanup:
    for (int i = 0; inputs != NULL && i < dlc_model_num_inputs(model); i++) free(inputs[i].data);
    for (int i = 0; outputs != NULL && i < dlc_model_num_outputs(model); i++) free(outputs[i].data);
    free(inputs);
    free(outputs);
    dlc_session_free(session);
    dlc_model_free(model);
    return status;
}
