#include "runtime/status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Per-thread, fixed size: recording an error never allocates. */
enum { DLC_MESSAGE_CAPACITY = 2048 };
static _Thread_local char last_message[DLC_MESSAGE_CAPACITY];

dlc_status dlc_fail(dlc_status code, const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    vsnprintf(last_message, sizeof last_message, fmt, args);
    va_end(args);
    return code;
}

dlc_status dlc_fail_context(dlc_status code, const char *fmt, ...) {
    char previous[DLC_MESSAGE_CAPACITY];
    memcpy(previous, last_message, sizeof previous);
    va_list args;
    va_start(args, fmt);
    int n = vsnprintf(last_message, sizeof last_message, fmt, args);
    va_end(args);
    if (n < 0) n = 0;
    size_t used = (size_t)n < sizeof last_message ? (size_t)n : sizeof last_message - 1;
    if (previous[0] == '\0') return code;
    /* Append ": <previous>" by hand; truncation of long chains is intended. */
    const char *parts[2] = {": ", previous};
    for (int p = 0; p < 2; p++)
        for (const char *c = parts[p]; *c != '\0' && used + 1 < sizeof last_message; c++)
            last_message[used++] = *c;
    last_message[used] = '\0';
    return code;
}

void dlc_clear_error(void) { last_message[0] = '\0'; }

const char *dlc_last_error(void) { return last_message; }

const char *dlc_status_name(dlc_status status) {
    switch (status) {
    case DLC_OK: return "DLC_OK";
    case DLC_ERR_INVALID_ARGUMENT: return "DLC_ERR_INVALID_ARGUMENT";
    case DLC_ERR_NOT_FOUND: return "DLC_ERR_NOT_FOUND";
    case DLC_ERR_PARSE: return "DLC_ERR_PARSE";
    case DLC_ERR_UNSUPPORTED: return "DLC_ERR_UNSUPPORTED";
    case DLC_ERR_SHAPE_MISMATCH: return "DLC_ERR_SHAPE_MISMATCH";
    case DLC_ERR_DTYPE_MISMATCH: return "DLC_ERR_DTYPE_MISMATCH";
    case DLC_ERR_OUT_OF_MEMORY: return "DLC_ERR_OUT_OF_MEMORY";
    case DLC_ERR_IO: return "DLC_ERR_IO";
    case DLC_ERR_INCOMPATIBLE: return "DLC_ERR_INCOMPATIBLE";
    case DLC_ERR_RUNTIME: return "DLC_ERR_RUNTIME";
    case DLC_ERR_INTERNAL: return "DLC_ERR_INTERNAL";
    }
    return "DLC_ERR_UNKNOWN";
}
