/* Symbolic dims at run time (runtime/symbols.h). */
#include "runtime/symbols.h"

#include <string.h>

#include "runtime/status.h"

static int32_t find_symbol(const dlc_artifact_desc *desc, const char *name) {
    for (int32_t k = 0; name != NULL && k < desc->num_symbols; k++)
        if (desc->symbol_names[k] != NULL && strcmp(desc->symbol_names[k], name) == 0) return k;
    return -1;
}

dlc_status dlc_resolve_shapes(const dlc_model *model, const dlc_tensor *inputs, dlc_tensor_info *in_infos,
                              dlc_tensor_info *out_infos, int64_t *symbols, uint64_t *arena_size) {
    const dlc_artifact_desc *desc = model->desc;
    memcpy(in_infos, model->inputs, (size_t)desc->num_inputs * sizeof *in_infos);
    memcpy(out_infos, model->outputs, (size_t)desc->num_outputs * sizeof *out_infos);
    *arena_size = desc->arena_size;
    if (desc->num_symbols == 0) return DLC_OK;
    if (desc->num_symbols > DLC_MAX_RANK * 4 || desc->shapes == NULL || desc->symbol_names == NULL)
        return dlc_fail(DLC_ERR_PARSE, "model '%s' has a malformed symbol table", model->path);
    /* where each symbol got its value, for messages */
    int32_t from_input[DLC_MAX_RANK * 4], from_dim[DLC_MAX_RANK * 4];
    for (int32_t k = 0; k < desc->num_symbols; k++) from_input[k] = -1;
    for (int32_t i = 0; i < desc->num_inputs; i++) {
        const dlc_tensor_info *info = &model->inputs[i];
        const dlc_tensor *t = &inputs[i];
        if (t->rank != info->rank) continue; /* reported with both shapes by the caller */
        for (int32_t d = 0; d < info->rank; d++) {
            if (info->dims[d] >= 0) continue;
            int32_t k = find_symbol(desc, info->dim_names[d]);
            if (k < 0)
                return dlc_fail(DLC_ERR_PARSE, "model '%s': input '%s' dim %d names no symbol", model->path,
                                info->name, d);
            int64_t value = t->dims[d];
            if (from_input[k] < 0) {
                if (value < desc->symbol_min[k])
                    return dlc_fail(DLC_ERR_SHAPE_MISMATCH,
                                    "model '%s': input '%s' dim %d '%s' is %lld, but the model was compiled for '%s' "
                                    ">= %lld only; compile it with --shape to run this size",
                                    model->path, info->name, d, desc->symbol_names[k], (long long)value,
                                    desc->symbol_names[k], (long long)desc->symbol_min[k]);
                symbols[k] = value;
                from_input[k] = i;
                from_dim[k] = d;
            } else if (symbols[k] != value) {
                return dlc_fail(DLC_ERR_SHAPE_MISMATCH,
                                "model '%s': input '%s' dim %d '%s' is %lld but input '%s' gives '%s' = %lld (its dim "
                                "%d)",
                                model->path, info->name, d, desc->symbol_names[k], (long long)value,
                                model->inputs[from_input[k]].name, desc->symbol_names[k], (long long)symbols[k],
                                from_dim[k]);
            }
            in_infos[i].dims[d] = value;
        }
    }
    for (int32_t k = 0; k < desc->num_symbols; k++)
        if (from_input[k] < 0)
            return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "model '%s': no input gives the size of '%s'", model->path,
                            desc->symbol_names[k]);
    int64_t dims[DLC_MAX_RANK * 64];
    int64_t total = 0;
    for (int32_t j = 0; j < desc->num_outputs; j++) total += model->outputs[j].rank;
    if (total > (int64_t)(sizeof dims / sizeof dims[0]))
        return dlc_fail(DLC_ERR_UNSUPPORTED, "model '%s' has too many output dims", model->path);
    if (desc->shapes(symbols, arena_size, dims) != 0)
        return dlc_fail(DLC_ERR_RUNTIME, "model '%s': the shapes for these input sizes cannot be computed", model->path);
    int64_t at = 0;
    for (int32_t j = 0; j < desc->num_outputs; j++)
        for (int32_t d = 0; d < out_infos[j].rank; d++) {
            int64_t value = dims[at++];
            if (value < 0)
                return dlc_fail(DLC_ERR_SHAPE_MISMATCH,
                                "model '%s': output '%s' dim %d would be %lld for these input sizes", model->path,
                                out_infos[j].name, d, (long long)value);
            out_infos[j].dims[d] = value;
        }
    return DLC_OK;
}
