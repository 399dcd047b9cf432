/* Symbolic dims at run time: the value of each symbol read from the inputs,
 * and the resulting input, output and arena sizes (artifact ABI 3). */
#ifndef DLC_RUNTIME_SYMBOLS_H
#define DLC_RUNTIME_SYMBOLS_H

#include "runtime/model_internal.h"

/* For inputs (num_inputs == the model's): in_infos/out_infos receive the
 * model's tables with every symbolic dim replaced by its value at this run,
 * symbols the values (desc->num_symbols entries), arena_size the bytes the
 * run needs. A static model gives its own tables. Fails naming the input
 * and dim when two inputs disagree on a symbol or a symbol is below the
 * smallest value the compile verified. Allocates nothing. */
dlc_status dlc_resolve_shapes(const dlc_model *model, const dlc_tensor *inputs, dlc_tensor_info *in_infos,
                              dlc_tensor_info *out_infos, int64_t *symbols, uint64_t *arena_size);

#endif
