/* Window geometry shared by Conv, ConvTranspose and the pooling ops:
 * kernel_shape, strides, dilations, pads and auto_pad, checked and resolved
 * into explicit per-dim pads and output sizes. */
#ifndef DLC_IR_OPS_SPATIAL_H
#define DLC_IR_OPS_SPATIAL_H

#include <stdbool.h>

#include "ir/op_registry.h"

typedef enum dlc_auto_pad { DLC_PAD_NOTSET, DLC_PAD_SAME_UPPER, DLC_PAD_SAME_LOWER, DLC_PAD_VALID } dlc_auto_pad;

typedef struct dlc_window {
    int32_t rank; /* spatial dims */
    dlc_auto_pad auto_pad;
    int64_t kernel[DLC_MAX_RANK], stride[DLC_MAX_RANK], dilation[DLC_MAX_RANK];
    int64_t pad_begin[DLC_MAX_RANK], pad_end[DLC_MAX_RANK];
} dlc_window;

/* Reads and checks the attributes of node for rank spatial dims. kernel: the
 * kernel from W's shape (Conv), or NULL to require kernel_shape. dilations
 * are read only when allow_dilations (ops/opsets without them reject it). */
dlc_status dlc_window_read(const dlc_node *node, int32_t rank, const int64_t *kernel, bool allow_dilations,
                           dlc_window *out);

/* Output size of a forward window (Conv, pools) along dim d for input size
 * in; for SAME auto_pad it also fills w's pads for that dim. Fails, naming
 * the node and the input shape, when the window does not fit. */
dlc_status dlc_window_output(const dlc_graph *g, const dlc_node *node, const dlc_shape *input, dlc_window *w,
                             int32_t d, bool ceil_mode, int64_t *out);

/* Output shape [N, channels, out...] for the forward window ops; a
 * symbolic input dim gives a fresh symbol "<node>:<output dim>". */
dlc_status dlc_window_output_shape(dlc_graph *g, const dlc_node *node, const dlc_shape *input,
                                   dlc_window *w, bool ceil_mode, dlc_dim channels, dlc_shape *out);

/* A new symbolic dim named "<node name>:<dim>" for output dims computed
 * from symbolic input dims. */
dlc_status dlc_fresh_symbol(dlc_graph *g, const dlc_node *node, int32_t dim, dlc_dim *out);

/* Pushes [kernel[3]?, stride[3], dilation[3], pad_begin[3]] front-padded to
 * three spatial dims (unit stride/dilation, zero pad on the padding dims)
 * onto call; the kernel triple only when with_kernel. */
dlc_status dlc_window_push(dlc_kcall *call, const dlc_window *w, bool with_kernel);
/* Pushes pad_end, front-padded to three dims. */
dlc_status dlc_window_push_pad_end(dlc_kcall *call, const dlc_window *w);

#endif
