/* The run-time side of binding inputs to values (runtime/bound_inputs.h). */
#include "runtime/bound_inputs.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "runtime/status.h"

/* Appends element i of data as text; false for a dtype it cannot print. */
static bool format_element(dlc_dtype dtype, const void *data, size_t i, char *buf, size_t size) {
    switch (dtype) {
    case DLC_FLOAT32: snprintf(buf, size, "%.9g", (double)((const float *)data)[i]); return true;
    case DLC_FLOAT64: snprintf(buf, size, "%.17g", ((const double *)data)[i]); return true;
    case DLC_INT64: snprintf(buf, size, "%lld", (long long)((const int64_t *)data)[i]); return true;
    case DLC_INT32: snprintf(buf, size, "%d", (int)((const int32_t *)data)[i]); return true;
    case DLC_INT16: snprintf(buf, size, "%d", (int)((const int16_t *)data)[i]); return true;
    case DLC_INT8: snprintf(buf, size, "%d", (int)((const int8_t *)data)[i]); return true;
    case DLC_UINT64: snprintf(buf, size, "%llu", (unsigned long long)((const uint64_t *)data)[i]); return true;
    case DLC_UINT32: snprintf(buf, size, "%u", (unsigned)((const uint32_t *)data)[i]); return true;
    case DLC_UINT16: snprintf(buf, size, "%u", (unsigned)((const uint16_t *)data)[i]); return true;
    case DLC_UINT8:
    case DLC_BOOL: snprintf(buf, size, "%u", (unsigned)((const uint8_t *)data)[i]); return true;
    default: return false;
    }
}

const char *dlc_format_tensor_values(dlc_dtype dtype, const void *data, size_t size_bytes, char *buf, size_t size) {
    enum { SHOWN = 16 };
    size_t elem = dlc_dtype_size(dtype), count = elem > 0 ? size_bytes / elem : 0, used = 0;
    if (size == 0) return buf;
    buf[0] = '\0';
    used += (size_t)snprintf(buf, size, "[");
    for (size_t i = 0; i < count && i < SHOWN && used < size; i++) {
        char item[40];
        if (!format_element(dtype, data, i, item, sizeof item)) {
            snprintf(buf, size, "(%zu bytes of %s)", size_bytes, dlc_dtype_name(dtype));
            return buf;
        }
        used += (size_t)snprintf(buf + used, size - used, "%s%s", i > 0 ? "," : "", item);
    }
    if (used < size) snprintf(buf + used, size - used, "%s]", count > SHOWN ? ",..." : "");
    return buf;
}

dlc_status dlc_check_bound_inputs(const dlc_model *model, const dlc_tensor *inputs) {
    const dlc_artifact_desc *desc = model->desc;
    for (int32_t i = 0; i < desc->num_inputs; i++) {
        const dlc_artifact_tensor *t = &desc->inputs[i];
        if (t->bound_value == NULL || t->bound_value_size == 0) continue;
        /* the shape check before this one guarantees the bytes are there */
        if (inputs[i].size_bytes < t->bound_value_size)
            return dlc_fail(DLC_ERR_INTERNAL, "model '%s': input '%s' holds %zu bytes, its bound value %llu",
                            model->path, t->name, inputs[i].size_bytes, (unsigned long long)t->bound_value_size);
        if (memcmp(inputs[i].data, t->bound_value, (size_t)t->bound_value_size) == 0) continue;
        char bound[256], got[256];
        dlc_format_tensor_values((dlc_dtype)t->dtype, t->bound_value, (size_t)t->bound_value_size, bound, sizeof bound);
        dlc_format_tensor_values((dlc_dtype)t->dtype, inputs[i].data, (size_t)t->bound_value_size, got, sizeof got);
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT,
                        "model '%s': input '%s' was bound to %s at compile time (dlc compile --bind); got %s; "
                        "recompile to change it",
                        model->path, t->name, bound, got);
    }
    return DLC_OK;
}
