#include "ir/ops/tensor_util.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kernels/dlc_kernel.h"
#include "runtime/status.h"

dlc_status tu_const_ints(const dlc_node *node, int32_t index, const char *what, int64_t *out, int32_t max_count,
                         int32_t *out_count) {
    char where[256];
    const dlc_value *v = tu_input(node, index);
    *out_count = 0;
    if (v == NULL)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: input %d (%s) is missing",
                        dlc_node_describe(node, where, sizeof where), index, what);
    if (v->kind != DLC_VALUE_CONST)
        return dlc_fail(DLC_ERR_UNSUPPORTED,
                        "node %s: input %d (%s, '%s') is computed at run time; dlc needs it constant to know the "
                        "output shape (dynamic shapes from data are not supported)",
                        dlc_node_describe(node, where, sizeof where), index, what, v->name);
    if (v->dtype != DLC_INT64 && v->dtype != DLC_INT32)
        return dlc_fail(DLC_ERR_DTYPE_MISMATCH, "node %s: input %d (%s, '%s') must be int32 or int64, is %s",
                        dlc_node_describe(node, where, sizeof where), index, what, v->name, dlc_dtype_name(v->dtype));
    if (dlc_value_const_ints(v, out, max_count, out_count) != DLC_OK)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: input %d (%s, '%s') has more than %d elements",
                        dlc_node_describe(node, where, sizeof where), index, what, v->name, max_count);
    return DLC_OK;
}

dlc_status tu_normalize_axes(const dlc_node *node, const int64_t *axes, int32_t count, int32_t rank,
                             int32_t *out_axes) {
    char where[256];
    for (int32_t i = 0; i < count; i++) {
        DLC_TRY(dlc_normalize_axis(node, axes[i], rank, &out_axes[i]));
        for (int32_t k = 0; k < i; k++)
            if (out_axes[k] == out_axes[i])
                return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: axis %d appears twice",
                                dlc_node_describe(node, where, sizeof where), out_axes[i]);
    }
    return DLC_OK;
}

dlc_status tu_fresh_dim(dlc_graph *g, const dlc_node *node, int32_t output, int32_t axis, dlc_dim *out) {
    char name[320];
    const dlc_value *v = tu_output(node, output);
    snprintf(name, sizeof name, "%s_d%d", v != NULL && v->name != NULL ? v->name : node->name, axis);
    int32_t sym;
    DLC_TRY(dlc_graph_symbol(g, name, &sym));
    *out = (dlc_dim){.value = -1, .sym = sym};
    return DLC_OK;
}

dlc_status tu_element_bits(const dlc_node *node, dlc_dtype dtype, double value, int64_t out[2]) {
    unsigned char bytes[16] = {0};
    switch (dtype) {
    case DLC_FLOAT32: { float f = (float)value; memcpy(bytes, &f, 4); break; }
    case DLC_FLOAT64: memcpy(bytes, &value, 8); break;
    case DLC_FLOAT16: { uint16_t h = dlc_f32_to_f16((float)value); memcpy(bytes, &h, 2); break; }
    case DLC_BFLOAT16: { uint16_t h = dlc_f32_to_bf16((float)value); memcpy(bytes, &h, 2); break; }
    case DLC_BOOL: bytes[0] = value != 0.0; break;
    case DLC_UINT8: bytes[0] = (uint8_t)value; break;
    case DLC_INT8: { int8_t x = (int8_t)value; memcpy(bytes, &x, 1); break; }
    case DLC_UINT16: { uint16_t x = (uint16_t)value; memcpy(bytes, &x, 2); break; }
    case DLC_INT16: { int16_t x = (int16_t)value; memcpy(bytes, &x, 2); break; }
    case DLC_INT32: { int32_t x = (int32_t)value; memcpy(bytes, &x, 4); break; }
    case DLC_UINT32: { uint32_t x = (uint32_t)value; memcpy(bytes, &x, 4); break; }
    case DLC_INT64: { int64_t x = (int64_t)value; memcpy(bytes, &x, 8); break; }
    case DLC_UINT64: { uint64_t x = (uint64_t)value; memcpy(bytes, &x, 8); break; }
    case DLC_COMPLEX64: { float f = (float)value; memcpy(bytes, &f, 4); break; }
    case DLC_COMPLEX128: memcpy(bytes, &value, 8); break;
    default: {
        char where[256];
        return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: element type %s is not supported here",
                        dlc_node_describe(node, where, sizeof where), dlc_dtype_name(dtype));
    }
    }
    memcpy(out, bytes, 16);
    return DLC_OK;
}

dlc_status tu_lower_strided(dlc_kcall *call, int32_t rank, const int64_t *dims, const int64_t *strides, int64_t base) {
    int64_t d2[32], s2[32];
    int32_t r = 0;
    for (int32_t d = 0; d < rank; d++) {
        if (dims[d] == 1) continue; /* contributes no movement */
        if (r > 0 && s2[r - 1] == strides[d] * dims[d]) { /* contiguous with the previous dim: merge */
            d2[r - 1] *= dims[d];
            s2[r - 1] = strides[d];
            continue;
        }
        d2[r] = dims[d];
        s2[r] = strides[d];
        r++;
    }
    if (r == 0) { /* one element */
        d2[0] = 1;
        s2[0] = 1;
        r = 1;
    }
    dlc_kcall_init(call, "strided_copy");
    DLC_TRY(dlc_kcall_push_int(call, r));
    DLC_TRY(dlc_kcall_push_int(call, base));
    DLC_TRY(dlc_kcall_push_ints(call, d2, r));
    return dlc_kcall_push_ints(call, s2, r);
}

void tu_strides(const dlc_shape *s, int64_t *strides) {
    int64_t st = 1;
    for (int32_t d = s->rank - 1; d >= 0; d--) {
        strides[d] = st;
        st *= s->dims[d].value;
    }
}

dlc_status tu_require_rank(const dlc_graph *g, const dlc_node *node, const dlc_value *v, const char *what) {
    if (v->shape.rank >= 0) return DLC_OK;
    char where[256];
    return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: %s '%s' has unknown rank",
                    dlc_node_describe(node, where, sizeof where), what, v->name);
}
