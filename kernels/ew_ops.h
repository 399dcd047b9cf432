/* Op codes of the elementwise and reduce kernels: the first int parameter
 * of their dlc_kcall. Shared by ir/ops/{elementwise,reduce}.c (lowering) and
 * kernels/ (execution); the numbers are part of the kernel ABI of compiled
 * models, so append only. */
#ifndef DLC_KERNELS_EW_OPS_H
#define DLC_KERNELS_EW_OPS_H

/* kernel "unary": ints {op, detect_negative, detect_positive},
 * floats {alpha, beta}; one input broadcast to the output shape. */
enum dlc_unary_op {
    DLC_UN_IDENTITY = 0, /* converts dtype and broadcasts: Max/Min/Sum/Mean of one input */
    DLC_UN_RELU, DLC_UN_LEAKY_RELU, DLC_UN_SIGMOID, DLC_UN_HARD_SIGMOID, DLC_UN_HARD_SWISH,
    DLC_UN_TANH, DLC_UN_EXP, DLC_UN_LOG, DLC_UN_SQRT, DLC_UN_RECIPROCAL, DLC_UN_NEG, DLC_UN_ABS,
    DLC_UN_ERF, DLC_UN_FLOOR, DLC_UN_CEIL, DLC_UN_ROUND, DLC_UN_SIGN, DLC_UN_SIN, DLC_UN_COS,
    DLC_UN_TAN, DLC_UN_ASIN, DLC_UN_ACOS, DLC_UN_ATAN, DLC_UN_SINH, DLC_UN_COSH, DLC_UN_ASINH,
    DLC_UN_ACOSH, DLC_UN_ATANH, DLC_UN_SOFTPLUS, DLC_UN_SOFTSIGN, DLC_UN_ELU, DLC_UN_SELU,
    DLC_UN_CELU, DLC_UN_MISH, DLC_UN_GELU, DLC_UN_GELU_TANH, DLC_UN_THRESHOLDED_RELU, DLC_UN_NOT,
    DLC_UN_ISNAN, DLC_UN_ISINF, DLC_UN_BITWISE_NOT,
    DLC_UN_COUNT
};

/* kernel "binary": ints {op}; two inputs with numpy broadcasting.
 * kernel "variadic": ints {op} with op MAX, MIN, ADD (Sum) or MEAN. */
enum dlc_binary_op {
    DLC_BIN_ADD = 0, DLC_BIN_SUB, DLC_BIN_MUL, DLC_BIN_DIV, DLC_BIN_POW,
    DLC_BIN_MOD,  /* sign of the divisor (Python %) */
    DLC_BIN_FMOD, /* sign of the dividend (C fmod / %) */
    DLC_BIN_PRELU, DLC_BIN_EQUAL, DLC_BIN_LESS, DLC_BIN_GREATER, DLC_BIN_LESS_EQUAL,
    DLC_BIN_GREATER_EQUAL, DLC_BIN_AND, DLC_BIN_OR, DLC_BIN_XOR, DLC_BIN_SHL, DLC_BIN_SHR,
    DLC_BIN_BITAND, DLC_BIN_BITOR, DLC_BIN_BITXOR, DLC_BIN_MAX, DLC_BIN_MIN,
    DLC_BIN_MEAN, /* variadic only: Sum then divide by the input count */
    DLC_BIN_COUNT
};

/* kernel "reduce": ints {op, axes mask (bit d = input axis d reduced)}. */
enum dlc_reduce_op {
    DLC_RED_SUM = 0, DLC_RED_MEAN, DLC_RED_MAX, DLC_RED_MIN, DLC_RED_PROD, DLC_RED_L1, DLC_RED_L2,
    DLC_RED_LOG_SUM, DLC_RED_LOG_SUM_EXP, DLC_RED_SUM_SQUARE,
    DLC_RED_COUNT
};

/* kernel "softmax": ints {mode, axis (normalized), coerce_2d (opset < 13:
 * the axis and all after it form one row)}. */
enum dlc_softmax_mode { DLC_SOFTMAX = 0, DLC_LOG_SOFTMAX, DLC_HARDMAX };

/* kernel "argreduce": ints {op, axis (normalized), select_last_index}. */
enum dlc_argreduce_op { DLC_ARG_MAX = 0, DLC_ARG_MIN };

#endif
