/* Internal error helpers shared by the runtime and the compiler.
 * A failing function records its message for this thread and returns the code:
 *
 *     if (rank > DLC_MAX_RANK)
 *         return dlc_fail(DLC_ERR_UNSUPPORTED, "tensor '%s': rank %d > %d", name, rank, DLC_MAX_RANK);
 *
 * Callers add context on the way up with dlc_fail_context(), which prefixes
 * the current message ("node 'conv1' (Conv, opset 13): ..."). */
#ifndef DLC_RUNTIME_STATUS_H
#define DLC_RUNTIME_STATUS_H

#include "dlc/dlc.h"

#if defined(__GNUC__)
#define DLC_PRINTF(fmt_index, first_arg) __attribute__((format(printf, fmt_index, first_arg)))
#else
#define DLC_PRINTF(fmt_index, first_arg)
#endif

/* Sets this thread's message and returns code. */
dlc_status dlc_fail(dlc_status code, const char *fmt, ...) DLC_PRINTF(2, 3);
/* Prefixes this thread's message with "<context>: " and returns code. */
dlc_status dlc_fail_context(dlc_status code, const char *fmt, ...) DLC_PRINTF(2, 3);
/* Clears this thread's message. */
void dlc_clear_error(void);

/* Propagates a non-OK status to the caller. */
#define DLC_TRY(expr)                                                                              \
    do {                                                                                           \
        dlc_status dlc_try_status_ = (expr);                                                       \
        if (dlc_try_status_ != DLC_OK) return dlc_try_status_;                                     \
    } while (0)

#endif
