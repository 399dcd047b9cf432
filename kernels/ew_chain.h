/* The program of a fused elementwise chain (dlc.ElementwiseChain, made by
 * passes/fuse_elementwise.c, run by kernels/ew_chain.c). Shared by the op
 * rule (ir/ops/ew_chain.c), the pass and the kernel; the numbers are part
 * of the kernel ABI of compiled models, so append only.
 *
 * kernel "ew_chain": inputs x0..x(n-1) (float32, each broadcasting to the
 * output), output y (float32);
 *   ints:   count, then count instructions of DLC_CHAIN_WORDS words
 *           {op, dst, a, b, param};
 *   floats: the scalar constants and op parameters the instructions name.
 *
 *   op:     DLC_CHAIN_UNARY + a dlc_unary_op (kernels/ew_ops.h; float ops),
 *           DLC_CHAIN_BINARY + a dlc_binary_op (ADD SUB MUL DIV POW PRELU MAX MIN),
 *           DLC_CHAIN_CLIP (bounds floats[param], floats[param + 1]);
 *   dst:    a block register 0..DLC_CHAIN_MAX_REGS-1; -1 (the last
 *           instruction only) the output;
 *   a, b:   operands: DLC_CHAIN_IN + k (input k), DLC_CHAIN_REG + r
 *           (register r, written by an earlier instruction), DLC_CHAIN_CONST + c
 *           (floats[c] as a float); b is -1 for unary ops and Clip;
 *   param:  unary ops: alpha = floats[param], beta = floats[param + 1] as
 *           the "unary" kernel takes them; -1: none (both 0).
 *
 * kernel "ew_chain_reduce": the same inputs and program, the program's
 * result (the inputs' broadcast shape) then reduced over its last axes;
 *   ints:   count, the program, then a DLC_RED_* op (kernels/ew_ops.h) and
 *           how many trailing axes it reduces (1 to the rank);
 *   output: float32, the reduced shape (keepdims or not: same elements). */
#ifndef DLC_KERNELS_EW_CHAIN_H
#define DLC_KERNELS_EW_CHAIN_H

#define DLC_CHAIN_MAX_IN 8
#define DLC_CHAIN_MAX_INSTR 16
#define DLC_CHAIN_MAX_REGS 6
#define DLC_CHAIN_MAX_FLOATS 32
#define DLC_CHAIN_WORDS 5

enum { DLC_CHAIN_UNARY = 0, DLC_CHAIN_BINARY = 1000, DLC_CHAIN_CLIP = 2000 };
enum { DLC_CHAIN_IN = 0, DLC_CHAIN_REG = 64, DLC_CHAIN_CONST = 128 };

#endif
