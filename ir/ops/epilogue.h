/* Fused epilogues of Conv, Gemm and MatMul (passes/fuse_epilogue.c,
 * kernels/epilogue.h): what such a node carries and how it lowers.
 *
 * A fused node keeps its op type and name (messages name the original
 * node) and gains
 *   - attribute dlc_epilogue (STRING): the ops it absorbed, "Add+Relu"
 *     (a SiLU's Sigmoid and Mul as the one word "SiLU");
 *     required for the inputs below, and shown in IR dumps and profiles
 *     (dlc_node_label: "Conv+Add+Relu");
 *   - input 3: a residual of the output's shape, added after the bias;
 *   - MatMul only, input 2: a 1-D bias along the output's last dim
 *     (Conv and Gemm fold a bias into their own B / C);
 *   - attributes dlc_activation (STRING: Relu, Clip, LeakyRelu, Sigmoid,
 *     Tanh, Gelu, GeluTanh for Gelu's approximate="tanh", SiLU for
 *     x * Sigmoid(x)) and dlc_activation_params (FLOATS: Clip [min, max],
 *     LeakyRelu [alpha]), applied last.
 * Epilogues are float32 only. */
#ifndef DLC_IR_OPS_EPILOGUE_H
#define DLC_IR_OPS_EPILOGUE_H

#include "ir/op_registry.h"

#define DLC_EPILOGUE_ATTR "dlc_epilogue"
#define DLC_ACTIVATION_ATTR "dlc_activation"
#define DLC_ACTIVATION_PARAMS_ATTR "dlc_activation_params"
#define DLC_EPILOGUE_RESIDUAL 3 /* input index of the residual */

/* The kernels/epilogue.h code of an activation name; -1 when unknown. */
int32_t dlc_epilogue_act_code(const char *name);

/* Checks a node's epilogue once its output is inferred: inputs past
 * base_inputs (what the unfused op takes) only with dlc_epilogue, float32,
 * the residual of the output's shape, MatMul's bias [N], a known activation
 * with its parameters. Errors name the node. */
dlc_status dlc_epilogue_check(const dlc_graph *g, const dlc_node *node, int32_t base_inputs);

/* Pushes the activation (int code, floats a and b) when the node has one. */
dlc_status dlc_epilogue_lower(const dlc_node *node, dlc_kcall *call);

/* True when the node carries an activation (lowering must push it). */
bool dlc_epilogue_has_activation(const dlc_node *node);

/* "Conv+Add+Relu" for a fused node, the op type otherwise. */
const char *dlc_node_label(const dlc_node *node, char *buf, size_t size);

#endif
