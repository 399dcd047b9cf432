/* Inputs fixed to a value at compile time (dlc compile --bind): the artifact
 * records the value (dlc_artifact_tensor.bound_value) and a run with any
 * other value is refused before any kernel runs. */
#ifndef DLC_RUNTIME_BOUND_INPUTS_H
#define DLC_RUNTIME_BOUND_INPUTS_H

#include "runtime/model_internal.h"

/* inputs: desc->num_inputs tensors already checked against their dtype and
 * shape. Compares bytes only; no heap use. The error names the input and
 * both values ("input 'shape' was bound to [1,-1] at compile time ...; got
 * [2,3]; recompile to change it"). */
dlc_status dlc_check_bound_inputs(const dlc_model *model, const dlc_tensor *inputs);

/* "[1,-1]" (at most the first 16 elements, then "...") into buf. */
const char *dlc_format_tensor_values(dlc_dtype dtype, const void *data, size_t size_bytes, char *buf, size_t size);

#endif
