/* Output comparison for `dlc test`, with the ONNX backend-test rule. */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "kernels/dlc_kernel.h"
#include "tools/cli.h"

static bool is_float(dlc_dtype t) {
    return t == DLC_FLOAT32 || t == DLC_FLOAT64 || t == DLC_FLOAT16 || t == DLC_BFLOAT16;
}

static double float_at(const dlc_tensor *t, int64_t i) {
    switch (t->dtype) {
    case DLC_FLOAT32: return ((const float *)t->data)[i];
    case DLC_FLOAT64: return ((const double *)t->data)[i];
    case DLC_FLOAT16: return dlc_f16_to_f32(((const uint16_t *)t->data)[i]);
    case DLC_BFLOAT16: return dlc_bf16_to_f32(((const uint16_t *)t->data)[i]);
    default: return 0.0;
    }
}

/* Integers as text, exactly (uint64 does not fit a double). */
static void format_int(const dlc_tensor *t, int64_t i, char *buf, size_t size) {
    const void *d = t->data;
    switch (t->dtype) {
    case DLC_BOOL: snprintf(buf, size, "%s", ((const uint8_t *)d)[i] ? "true" : "false"); break;
    case DLC_UINT8: snprintf(buf, size, "%u", ((const uint8_t *)d)[i]); break;
    case DLC_INT8: snprintf(buf, size, "%d", ((const int8_t *)d)[i]); break;
    case DLC_UINT16: snprintf(buf, size, "%u", ((const uint16_t *)d)[i]); break;
    case DLC_INT16: snprintf(buf, size, "%d", ((const int16_t *)d)[i]); break;
    case DLC_UINT32: snprintf(buf, size, "%" PRIu32, ((const uint32_t *)d)[i]); break;
    case DLC_INT32: snprintf(buf, size, "%" PRId32, ((const int32_t *)d)[i]); break;
    case DLC_UINT64: snprintf(buf, size, "%" PRIu64, ((const uint64_t *)d)[i]); break;
    case DLC_INT64: snprintf(buf, size, "%" PRId64, ((const int64_t *)d)[i]); break;
    default: snprintf(buf, size, "?"); break;
    }
}

static void format_dims(const dlc_tensor *t, char *buf, size_t size) {
    size_t used = (size_t)snprintf(buf, size, "[");
    for (int32_t i = 0; i < t->rank && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%" PRId64, i ? "," : "", t->dims[i]);
    if (used < size) snprintf(buf + used, size - used, "]");
}

static bool close_enough(double a, double b, double rtol, double atol) {
    if (isnan(a) || isnan(b)) return isnan(a) && isnan(b);
    if (a == b) return true; /* also equal infinities */
    return fabs(a - b) <= atol + rtol * fabs(b);
}

bool cli_compare_tensors(const char *name, const dlc_tensor *got, const dlc_tensor *expected, double rtol,
                         double atol, char *msg, size_t size) {
    char got_dims[160], want_dims[160];
    format_dims(got, got_dims, sizeof got_dims);
    format_dims(expected, want_dims, sizeof want_dims);
    if (got->dtype != expected->dtype) {
        snprintf(msg, size, "output '%s': got dtype %s, expected %s", name, dlc_dtype_name(got->dtype),
                 dlc_dtype_name(expected->dtype));
        return false;
    }
    bool same_shape = got->rank == expected->rank;
    for (int32_t d = 0; same_shape && d < got->rank; d++) same_shape = got->dims[d] == expected->dims[d];
    if (!same_shape) {
        snprintf(msg, size, "output '%s': got shape %s, expected %s", name, got_dims, want_dims);
        return false;
    }
    size_t elem = dlc_dtype_size(expected->dtype);
    if (elem == 0) {
        snprintf(msg, size, "output '%s': dtype %s cannot be compared", name, dlc_dtype_name(expected->dtype));
        return false;
    }
    int64_t numel = (int64_t)(expected->size_bytes / elem);
    if ((size_t)numel * elem > got->size_bytes) {
        snprintf(msg, size, "output '%s': got %zu bytes of data, expected %zu", name, got->size_bytes,
                 expected->size_bytes);
        return false;
    }
    int64_t first_bad = -1, bad = 0;
    double worst = 0.0;
    for (int64_t i = 0; i < numel; i++) {
        bool ok;
        if (is_float(expected->dtype)) {
            double a = float_at(got, i), b = float_at(expected, i);
            ok = close_enough(a, b, rtol, atol);
            if (!ok && isfinite(a) && isfinite(b) && fabs(a - b) > worst) worst = fabs(a - b);
        } else {
            ok = memcmp((const char *)got->data + i * (int64_t)elem, (const char *)expected->data + i * (int64_t)elem,
                        elem) == 0;
        }
        if (!ok) {
            if (first_bad < 0) first_bad = i;
            bad++;
        }
    }
    if (bad == 0) return true;
    char a[64], b[64];
    if (is_float(expected->dtype)) {
        snprintf(a, sizeof a, "%.9g", float_at(got, first_bad));
        snprintf(b, sizeof b, "%.9g", float_at(expected, first_bad));
    } else {
        format_int(got, first_bad, a, sizeof a);
        format_int(expected, first_bad, b, sizeof b);
    }
    int n = snprintf(msg, size, "output '%s' %s index %" PRId64 ": got %s expected %s (%" PRId64 " of %" PRId64
                     " elements differ", name, want_dims, first_bad, a, b, bad, numel);
    if (n > 0 && (size_t)n < size) {
        if (worst > 0.0) snprintf(msg + n, size - (size_t)n, ", max abs diff %.3g)", worst);
        else snprintf(msg + n, size - (size_t)n, ")");
    }
    return false;
}
