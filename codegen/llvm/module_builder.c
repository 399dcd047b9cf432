/* The module of one model. The generated code is deliberately simple: the
 * run function computes each tensor's address (arena + offset, caller's
 * buffers, weights + offset) and calls the kernels in order with constant
 * parameter blocks; LLVM then inlines and specializes the kernels for those
 * constants and the target CPU. */
#include "codegen/llvm/module_builder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <llvm-c/BitReader.h>

#include "dlc/dlc_artifact.h"
#include "ir/op_registry.h"
#include "ir/ops/epilogue.h"
#include "kernels/dlc_kernel.h"
#include "runtime/status.h"

extern const char dlc_kernels_bitcode[];
extern const char dlc_kernels_bitcode_end[];

typedef struct module_builder {
    LLVMContextRef ctx;
    LLVMModuleRef module;
    LLVMBuilderRef body;     /* positioned in the current block of run() */
    LLVMBuilderRef allocas;  /* positioned in run()'s entry block */
    const dlc_graph *g;
    const dlc_memory_plan *plan;
    LLVMTypeRef i8, i32, i64, ptr;
    LLVMTypeRef run_args_type, kctx_type, tensor_type;
    LLVMValueRef run_fn, args, arena, inputs, outputs, num_threads;
    LLVMValueRef stamp_fn, stamps; /* dlc.stamp(stamps, slot), args->node_stamps */
    LLVMValueRef weights;
    /* by value id: for a value with bounded_dims, the i64[DLC_KMAX_RANK] slot
     * where its producer's kernel reported the actual dims (else NULL) */
    LLVMValueRef *actual_dims;
    /* dynamic shapes (NULL dyn: a static model) */
    const dlc_dyn_plan *dyn;
    LLVMValueRef basis[DLC_POLY_MAX_SYMBOLS][DLC_POLY_MAX_DEGREE + 1]; /* binom(s_k - base, e) in run() */
    LLVMValueRef *slot_offset;  /* arena offset of each slot, in run() */
    LLVMValueRef shapes_fn;
    LLVMValueRef flops_fn;       /* node_flops_at, or NULL */
    LLVMValueRef *params_global; /* by node position */
    LLVMValueRef scratch_offset; /* run(): where run-time-sized workspaces go */
} module_builder;

static LLVMValueRef const_i32(module_builder *mb, int64_t v) { return LLVMConstInt(mb->i32, (unsigned long long)v, 1); }
static LLVMValueRef const_i64(module_builder *mb, uint64_t v) { return LLVMConstInt(mb->i64, v, 0); }

/* A private constant global holding bytes (NUL-terminated when text). */
static LLVMValueRef add_bytes_global(module_builder *mb, const char *name, const void *data, size_t size, bool text,
                                     unsigned alignment) {
    LLVMValueRef init = LLVMConstStringInContext2(mb->ctx, (const char *)data, size, text ? 0 : 1);
    LLVMValueRef global = LLVMAddGlobal(mb->module, LLVMTypeOf(init), name);
    LLVMSetInitializer(global, init);
    LLVMSetGlobalConstant(global, 1);
    LLVMSetLinkage(global, LLVMPrivateLinkage);
    LLVMSetAlignment(global, alignment);
    return global;
}

static LLVMValueRef add_string(module_builder *mb, const char *text) {
    LLVMValueRef global = add_bytes_global(mb, "dlc.str", text, strlen(text), true, 1);
    LLVMSetUnnamedAddress(global, LLVMGlobalUnnamedAddr);
    return global;
}

static LLVMValueRef add_constant_global(module_builder *mb, const char *name, LLVMValueRef init) {
    LLVMValueRef global = LLVMAddGlobal(mb->module, LLVMTypeOf(init), name);
    LLVMSetInitializer(global, init);
    LLVMSetGlobalConstant(global, 1);
    LLVMSetLinkage(global, LLVMPrivateLinkage);
    return global;
}

/* ---- dynamic shapes: polynomials evaluated at run time ---- */

/* basis[k][e] = binom(symbols[k] - base, e), exact in int64. */
static void emit_basis(module_builder *mb, LLVMBuilderRef b, LLVMValueRef symbols,
                       LLVMValueRef basis[DLC_POLY_MAX_SYMBOLS][DLC_POLY_MAX_DEGREE + 1]) {
    for (int32_t k = 0; k < mb->dyn->space.num_symbols; k++) {
        LLVMValueRef idx = const_i64(mb, (uint64_t)k);
        LLVMValueRef s = LLVMBuildLoad2(b, mb->i64, LLVMBuildInBoundsGEP2(b, mb->i64, symbols, &idx, 1, ""), "sym");
        LLVMValueRef n = LLVMBuildSub(b, s, const_i64(mb, DLC_POLY_BASE), "");
        LLVMValueRef n1 = LLVMBuildSub(b, n, const_i64(mb, 1), "");
        LLVMValueRef n2 = LLVMBuildSub(b, n, const_i64(mb, 2), "");
        LLVMValueRef nn1 = LLVMBuildMul(b, n, n1, "");
        basis[k][0] = const_i64(mb, 1);
        basis[k][1] = n;
        basis[k][2] = LLVMBuildExactSDiv(b, nn1, const_i64(mb, 2), "");
        basis[k][3] = LLVMBuildExactSDiv(b, LLVMBuildMul(b, nn1, n2, ""), const_i64(mb, 6), "");
    }
}

static LLVMValueRef emit_poly(module_builder *mb, LLVMBuilderRef b,
                              LLVMValueRef basis[DLC_POLY_MAX_SYMBOLS][DLC_POLY_MAX_DEGREE + 1], int32_t poly) {
    const dlc_poly_space *space = &mb->dyn->space;
    const dlc_poly *p = &mb->dyn->polys[poly];
    LLVMValueRef sum = const_i64(mb, (uint64_t)p->c[0]);
    for (int32_t t = 1; t < space->num_terms; t++) {
        if (p->c[t] == 0) continue;
        LLVMValueRef term = const_i64(mb, (uint64_t)p->c[t]);
        for (int32_t k = 0; k < space->num_symbols; k++)
            if (space->exps[t][k] > 0) term = LLVMBuildMul(b, term, basis[k][space->exps[t][k]], "");
        sum = LLVMBuildAdd(b, sum, term, "");
    }
    return sum;
}

/* The parameter block of node pos at this run: the constant global when no
 * word depends on the symbols, else a stack copy with those words computed. */
static LLVMValueRef dynamic_params(module_builder *mb, LLVMBuilderRef b, LLVMBuilderRef allocas,
                                   LLVMValueRef basis[DLC_POLY_MAX_SYMBOLS][DLC_POLY_MAX_DEGREE + 1], int32_t pos,
                                   LLVMValueRef params_global, size_t params_size) {
    const dlc_dyn_node *dn = &mb->dyn->nodes[pos];
    if (dn->num_words == 0) return params_global;
    LLVMValueRef block = LLVMBuildAlloca(allocas, LLVMArrayType2(mb->i64, params_size / 8), "params");
    LLVMSetAlignment(block, 16);
    LLVMBuildMemCpy(b, block, 16, params_global, 16, const_i64(mb, params_size));
    for (int32_t i = 0; i < dn->num_words; i++) {
        LLVMValueRef idx = const_i64(mb, (uint64_t)dn->words[i].word);
        LLVMBuildStore(b, emit_poly(mb, b, basis, dn->words[i].poly), LLVMBuildInBoundsGEP2(b, mb->i64, block, &idx, 1, ""));
    }
    return block;
}

static dlc_status call_workspace_fn(module_builder *mb, LLVMBuilderRef b, const dlc_dyn_node *dn, LLVMValueRef params,
                                    LLVMValueRef *out_bytes) {
    LLVMValueRef fn = LLVMGetNamedFunction(mb->module, dn->workspace_fn);
    if (fn == NULL || LLVMIsDeclaration(fn))
        return dlc_fail(DLC_ERR_INTERNAL, "codegen: '%s' is not in the kernel library", dn->workspace_fn);
    *out_bytes = LLVMBuildCall2(b, LLVMGlobalGetValueType(fn), fn, &params, 1, "workspace_bytes");
    return DLC_OK;
}

/* Slot offsets, one slot after another, each rounded up to the alignment;
 * returns the arena size. offsets may be NULL. */
static LLVMValueRef emit_slot_offsets(module_builder *mb, LLVMBuilderRef b,
                                      LLVMValueRef basis[DLC_POLY_MAX_SYMBOLS][DLC_POLY_MAX_DEGREE + 1],
                                      LLVMValueRef *offsets) {
    LLVMValueRef cursor = const_i64(mb, 0);
    uint64_t align = mb->plan->alignment;
    for (int32_t i = 0; i < mb->dyn->num_slots; i++) {
        if (offsets != NULL) offsets[i] = cursor;
        LLVMValueRef size = emit_poly(mb, b, basis, mb->dyn->slot_poly[i]);
        size = LLVMBuildAnd(b, LLVMBuildAdd(b, size, const_i64(mb, align - 1), ""), const_i64(mb, ~(align - 1)), "");
        cursor = LLVMBuildAdd(b, cursor, size, "slot_end");
    }
    return cursor;
}

static dlc_status parse_kernel_library(LLVMContextRef ctx, LLVMModuleRef *out_module) {
    size_t size = (size_t)(dlc_kernels_bitcode_end - dlc_kernels_bitcode);
    LLVMMemoryBufferRef buffer =
        LLVMCreateMemoryBufferWithMemoryRange(dlc_kernels_bitcode, size, "dlc_kernels.bc", 0);
    LLVMBool failed = LLVMParseBitcodeInContext2(ctx, buffer, out_module);
    LLVMDisposeMemoryBuffer(buffer);
    if (failed) return dlc_fail(DLC_ERR_INTERNAL, "the embedded kernel bitcode (%zu bytes) does not parse", size);
    return DLC_OK;
}

/* All constants packed at their planned offsets. */
static dlc_status add_weights(module_builder *mb) {
    if (mb->plan->weights_size == 0) return DLC_OK;
    if (mb->plan->weights_size > SIZE_MAX) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "weights do not fit in memory");
    unsigned char *blob = calloc(1, (size_t)mb->plan->weights_size);
    if (blob == NULL)
        return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "weights blob of %llu bytes",
                        (unsigned long long)mb->plan->weights_size);
    for (int32_t id = 0; id < mb->g->num_values; id++) {
        const dlc_location *loc = &mb->plan->values[id];
        const dlc_value *v = mb->g->values[id];
        if (loc->kind == DLC_LOC_WEIGHT && v != NULL && v->nbytes > 0) memcpy(blob + loc->offset, v->data, v->nbytes);
    }
    mb->weights = add_bytes_global(mb, "dlc.weights", blob, (size_t)mb->plan->weights_size, false,
                                   (unsigned)mb->plan->alignment);
    free(blob);
    return DLC_OK;
}

static LLVMValueRef load_pointer_at(module_builder *mb, LLVMValueRef array, int32_t index) {
    LLVMValueRef idx = const_i64(mb, (uint64_t)index);
    LLVMValueRef slot = LLVMBuildInBoundsGEP2(mb->body, mb->ptr, array, &idx, 1, "");
    return LLVMBuildLoad2(mb->body, mb->ptr, slot, "");
}

static LLVMValueRef byte_offset(module_builder *mb, LLVMValueRef base, uint64_t offset) {
    /* no weights blob (or arena) at all: the only tensors placed there are empty */
    if (base == NULL) return LLVMConstNull(mb->ptr);
    LLVMValueRef off = const_i64(mb, offset);
    return LLVMBuildInBoundsGEP2(mb->body, mb->i8, base, &off, 1, "");
}

/* Where value v lives during the run. */
static dlc_status value_pointer(module_builder *mb, const dlc_value *v, LLVMValueRef *out) {
    const dlc_location *loc = &mb->plan->values[v->id];
    if (mb->dyn != NULL && mb->dyn->value_slot[v->id] >= 0) {
        LLVMValueRef off = mb->slot_offset[mb->dyn->value_slot[v->id]];
        *out = LLVMBuildInBoundsGEP2(mb->body, mb->i8, mb->arena, &off, 1, "");
        return DLC_OK;
    }
    switch (loc->kind) {
    case DLC_LOC_INPUT: *out = load_pointer_at(mb, mb->inputs, loc->index); return DLC_OK;
    case DLC_LOC_OUTPUT: *out = load_pointer_at(mb, mb->outputs, loc->index); return DLC_OK;
    case DLC_LOC_WEIGHT:
        if (mb->dyn != NULL && mb->dyn->value_slot[v->id] >= 0) break; /* a shape vector computed at run time */
        *out = byte_offset(mb, mb->weights, loc->offset);
        return DLC_OK;
    case DLC_LOC_ARENA: *out = byte_offset(mb, mb->arena, loc->offset); return DLC_OK;
    case DLC_LOC_NONE: break;
    }
    return dlc_fail(DLC_ERR_INTERNAL, "codegen: tensor '%s' has no memory location", v->name);
}

/* Fills an on-stack array of operand pointers (NULL for omitted operands). */
static dlc_status operand_array(module_builder *mb, dlc_value *const *values, int32_t count, LLVMValueRef *out) {
    LLVMTypeRef type = LLVMArrayType2(mb->ptr, (uint64_t)(count > 0 ? count : 1));
    LLVMValueRef array = LLVMBuildAlloca(mb->allocas, type, "operands");
    for (int32_t i = 0; i < count; i++) {
        LLVMValueRef p = LLVMConstNull(mb->ptr);
        if (values[i] != NULL) DLC_TRY(value_pointer(mb, values[i], &p));
        LLVMValueRef idx = const_i64(mb, (uint64_t)i);
        LLVMBuildStore(mb->body, p, LLVMBuildInBoundsGEP2(mb->body, mb->ptr, array, &idx, 1, ""));
    }
    *out = array;
    return DLC_OK;
}

static void store_field(module_builder *mb, LLVMTypeRef struct_type, LLVMValueRef base, unsigned field,
                        LLVMValueRef value) {
    LLVMBuildStore(mb->body, value, LLVMBuildStructGEP2(mb->body, struct_type, base, field, ""));
}

static dlc_status lower_node(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    char where[256];
    if (node->schema == NULL || node->schema->lower == NULL)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "codegen: node %s has no kernel lowering",
                        dlc_node_describe(node, where, sizeof where));
    dlc_status st = node->schema->lower(g, node, call);
    if (st != DLC_OK) return dlc_fail_context(st, "codegen: node %s", dlc_node_describe(node, where, sizeof where));
    return DLC_OK;
}

static LLVMValueRef dims_slot(module_builder *mb, LLVMValueRef base, uint64_t index) {
    LLVMValueRef idx = const_i64(mb, index);
    return LLVMBuildInBoundsGEP2(mb->body, mb->i64, base, &idx, 1, "");
}

/* Outputs of data-dependent extent (dlc_value.bounded_dims): the kernel gets
 * an on-stack array for every output's actual dims (dlc_kctx.out_dims), and
 * each such output remembers its slot. A pass-through (Identity, the only
 * reader passes/bounded_dims.c allows) shares its input's slot. */
static dlc_status track_actual_dims(module_builder *mb, const dlc_node *node, LLVMValueRef *out_kctx_dims) {
    bool produces = false, passes = false;
    for (int32_t o = 0; o < node->num_outputs; o++) {
        const dlc_value *v = node->outputs[o];
        if (v == NULL || v->bounded_dims == 0) continue;
        bool from_input = false;
        for (int32_t i = 0; i < node->num_inputs; i++)
            if (node->inputs[i] != NULL && mb->actual_dims[node->inputs[i]->id] != NULL) from_input = true;
        if (from_input) passes = true;
        else produces = true;
    }
    if (passes && !produces && node->num_inputs == 1) {
        mb->actual_dims[node->outputs[0]->id] = mb->actual_dims[node->inputs[0]->id];
        return DLC_OK;
    }
    if (!produces) return DLC_OK;
    LLVMTypeRef type = LLVMArrayType2(mb->i64, (uint64_t)node->num_outputs * DLC_KMAX_RANK);
    LLVMValueRef array = LLVMBuildAlloca(mb->allocas, type, "actual_dims");
    for (int32_t o = 0; o < node->num_outputs; o++) {
        const dlc_value *v = node->outputs[o];
        if (v == NULL) continue;
        LLVMValueRef slot = dims_slot(mb, array, (uint64_t)o * DLC_KMAX_RANK);
        /* a kernel need only report its bounded dims: the static ones are preset */
        for (int32_t d = 0; d < v->shape.rank; d++)
            LLVMBuildStore(mb->body, const_i64(mb, (uint64_t)v->shape.dims[d].value), dims_slot(mb, slot, (uint64_t)d));
        if (v->bounded_dims != 0) mb->actual_dims[v->id] = slot;
    }
    *out_kctx_dims = array;
    return DLC_OK;
}

/* args->output_dims, when the caller passed it: every output's actual dims,
 * constants except where a kernel reported a data-dependent extent. */
static dlc_status emit_output_dims(module_builder *mb) {
    for (int32_t j = 0; j < mb->g->num_outputs; j++) {
        const dlc_value *v = mb->g->outputs[j];
        if (v->bounded_dims != 0 && mb->actual_dims[v->id] == NULL)
            return dlc_fail(DLC_ERR_INTERNAL, "codegen: output '%s' has a data-dependent extent no kernel reports",
                            v->name);
    }
    LLVMValueRef dims_ptr = LLVMBuildLoad2(
        mb->body, mb->ptr, LLVMBuildStructGEP2(mb->body, mb->run_args_type, mb->args, 5, ""), "output_dims");
    LLVMValueRef is_null = LLVMBuildIsNull(mb->body, dims_ptr, "no_output_dims");
    LLVMBasicBlockRef write_block = LLVMAppendBasicBlockInContext(mb->ctx, mb->run_fn, "write_output_dims");
    LLVMBasicBlockRef done_block = LLVMAppendBasicBlockInContext(mb->ctx, mb->run_fn, "done");
    LLVMBuildCondBr(mb->body, is_null, done_block, write_block);
    LLVMPositionBuilderAtEnd(mb->body, write_block);
    for (int32_t j = 0; j < mb->g->num_outputs; j++) {
        const dlc_value *v = mb->g->outputs[j];
        LLVMValueRef actual = mb->actual_dims[v->id];
        for (int32_t d = 0; d < v->shape.rank; d++) {
            LLVMValueRef dim = const_i64(mb, (uint64_t)v->shape.dims[d].value);
            if (mb->dyn != NULL) dim = emit_poly(mb, mb->body, mb->basis, mb->dyn->output_dims[j * DLC_MAX_RANK + d]);
            if (actual != NULL && ((v->bounded_dims >> d) & 1u))
                dim = LLVMBuildLoad2(mb->body, mb->i64, dims_slot(mb, actual, (uint64_t)d), "actual_dim");
            LLVMBuildStore(mb->body, dim, dims_slot(mb, dims_ptr, (uint64_t)j * DLC_ARTIFACT_MAX_RANK + (uint64_t)d));
        }
    }
    LLVMBuildBr(mb->body, done_block);
    LLVMPositionBuilderAtEnd(mb->body, done_block);
    return DLC_OK;
}

/* dlc.stamp(stamps, slot): stamps[slot] = CLOCK_MONOTONIC in ns when stamps
 * is not NULL. Only profilers pass stamps; a normal run pays one test of a
 * register per kernel and reads no clock. */
static void build_stamp_function(module_builder *mb) {
    LLVMTypeRef timespec_fields[2] = {mb->i64, mb->i64};
    LLVMTypeRef timespec = LLVMStructTypeInContext(mb->ctx, timespec_fields, 2, 0);
    LLVMTypeRef clock_params[2] = {mb->i32, mb->ptr};
    LLVMTypeRef clock_type = LLVMFunctionType(mb->i32, clock_params, 2, 0);
    LLVMValueRef clock_fn = LLVMGetNamedFunction(mb->module, "clock_gettime");
    if (clock_fn == NULL) clock_fn = LLVMAddFunction(mb->module, "clock_gettime", clock_type);

    LLVMTypeRef params[2] = {mb->ptr, mb->i64};
    mb->stamp_fn = LLVMAddFunction(mb->module, "dlc.stamp", LLVMFunctionType(LLVMVoidTypeInContext(mb->ctx), params, 2, 0));
    LLVMSetLinkage(mb->stamp_fn, LLVMInternalLinkage);
    LLVMBuilderRef b = LLVMCreateBuilderInContext(mb->ctx);
    LLVMBasicBlockRef entry = LLVMAppendBasicBlockInContext(mb->ctx, mb->stamp_fn, "entry");
    LLVMBasicBlockRef stamp = LLVMAppendBasicBlockInContext(mb->ctx, mb->stamp_fn, "stamp");
    LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(mb->ctx, mb->stamp_fn, "done");
    LLVMPositionBuilderAtEnd(b, entry);
    LLVMValueRef stamps = LLVMGetParam(mb->stamp_fn, 0), slot = LLVMGetParam(mb->stamp_fn, 1);
    LLVMValueRef ts = LLVMBuildAlloca(b, timespec, "ts");
    LLVMBuildCondBr(b, LLVMBuildIsNull(b, stamps, "off"), done, stamp);
    LLVMPositionBuilderAtEnd(b, stamp);
    LLVMValueRef clock_args[2] = {const_i32(mb, 1 /* CLOCK_MONOTONIC */), ts};
    LLVMBuildCall2(b, clock_type, clock_fn, clock_args, 2, "");
    LLVMValueRef sec = LLVMBuildLoad2(b, mb->i64, LLVMBuildStructGEP2(b, timespec, ts, 0, ""), "sec");
    LLVMValueRef nsec = LLVMBuildLoad2(b, mb->i64, LLVMBuildStructGEP2(b, timespec, ts, 1, ""), "nsec");
    LLVMValueRef ns = LLVMBuildAdd(b, LLVMBuildMul(b, sec, const_i64(mb, 1000000000u), ""), nsec, "ns");
    LLVMBuildStore(b, ns, LLVMBuildInBoundsGEP2(b, mb->i64, stamps, &slot, 1, ""));
    LLVMBuildBr(b, done);
    LLVMPositionBuilderAtEnd(b, done);
    LLVMBuildRetVoid(b);
    LLVMDisposeBuilder(b);
}

static void emit_stamp(module_builder *mb, int32_t slot) {
    LLVMValueRef args[2] = {mb->stamps, const_i64(mb, (uint64_t)slot)};
    LLVMBuildCall2(mb->body, LLVMGlobalGetValueType(mb->stamp_fn), mb->stamp_fn, args, 2, "");
}

/* One kernel call: operands, context, call, early return on failure. */
static dlc_status emit_node(module_builder *mb, int32_t pos, dlc_kcall *call) {
    const dlc_node *node = mb->g->nodes[pos];
    char where[256], symbol[96];
    DLC_TRY(lower_node(mb->g, node, call));
    snprintf(symbol, sizeof symbol, "dlc_kernel_%s", call->kernel);
    LLVMValueRef kernel = LLVMGetNamedFunction(mb->module, symbol);
    if (kernel == NULL || LLVMIsDeclaration(kernel))
        return dlc_fail(DLC_ERR_UNSUPPORTED, "codegen: node %s needs kernel '%s' (%s), which is not in the kernel "
                        "library", dlc_node_describe(node, where, sizeof where), call->kernel, symbol);

    void *params;
    size_t params_size;
    dlc_status st = dlc_kparams_build(node, call, &params, &params_size);
    if (st != DLC_OK) return st;
    LLVMValueRef params_global = add_bytes_global(mb, "dlc.params", params, params_size, false, 16);
    free(params);
    const dlc_dyn_node *dn = mb->dyn != NULL ? &mb->dyn->nodes[pos] : NULL;
    if (dn != NULL) {
        mb->params_global[pos] = params_global;
        params_global = dynamic_params(mb, mb->body, mb->allocas, mb->basis, pos, params_global, params_size);
    }

    LLVMValueRef in_array, out_array;
    DLC_TRY(operand_array(mb, node->inputs, node->num_inputs, &in_array));
    DLC_TRY(operand_array(mb, node->outputs, node->num_outputs, &out_array));

    LLVMValueRef out_dims = LLVMConstNull(mb->ptr);
    DLC_TRY(track_actual_dims(mb, node, &out_dims));

    LLVMValueRef kctx = LLVMBuildAlloca(mb->allocas, mb->kctx_type, "kctx");
    uint64_t ws_size = mb->plan->workspace_size[pos];
    LLVMValueRef workspace = ws_size > 0 ? byte_offset(mb, mb->arena, mb->plan->workspace_offset[pos])
                                         : LLVMConstNull(mb->ptr);
    LLVMValueRef ws_bytes = const_i64(mb, ws_size);
    if (dn != NULL) {
        workspace = LLVMConstNull(mb->ptr);
        ws_bytes = const_i64(mb, 0);
        if (dn->workspace_slot >= 0) {
            LLVMValueRef off = mb->slot_offset[dn->workspace_slot];
            workspace = LLVMBuildInBoundsGEP2(mb->body, mb->i8, mb->arena, &off, 1, "");
            ws_bytes = emit_poly(mb, mb->body, mb->basis, dn->workspace_poly);
        } else if (dn->workspace_fn[0] != '\0') {
            workspace = LLVMBuildInBoundsGEP2(mb->body, mb->i8, mb->arena, &mb->scratch_offset, 1, "scratch");
            DLC_TRY(call_workspace_fn(mb, mb->body, dn, params_global, &ws_bytes));
        }
    }
    store_field(mb, mb->kctx_type, kctx, 0, mb->num_threads);
    store_field(mb, mb->kctx_type, kctx, 1, const_i32(mb, 0));
    store_field(mb, mb->kctx_type, kctx, 2, workspace);
    store_field(mb, mb->kctx_type, kctx, 3, ws_bytes);
    store_field(mb, mb->kctx_type, kctx, 4, out_dims);

    LLVMValueRef call_args[4] = {params_global, in_array, out_array, kctx};
    LLVMValueRef rc = LLVMBuildCall2(mb->body, LLVMGlobalGetValueType(kernel), kernel, call_args, 4, "rc");
    LLVMValueRef failed = LLVMBuildICmp(mb->body, LLVMIntNE, rc, const_i32(mb, 0), "failed");
    LLVMBasicBlockRef fail_block = LLVMAppendBasicBlockInContext(mb->ctx, mb->run_fn, "kernel_failed");
    LLVMBasicBlockRef next_block = LLVMAppendBasicBlockInContext(mb->ctx, mb->run_fn, "next");
    LLVMBuildCondBr(mb->body, failed, fail_block, next_block);
    LLVMPositionBuilderAtEnd(mb->body, fail_block);
    store_field(mb, mb->run_args_type, mb->args, 4, const_i32(mb, pos));
    LLVMBuildRet(mb->body, rc);
    LLVMPositionBuilderAtEnd(mb->body, next_block);
    emit_stamp(mb, pos + 1);
    return DLC_OK;
}

/* Graph outputs not written in place (an input, a constant, or a value that
 * is also an earlier output) are copied into the caller's buffer. */
static dlc_status emit_output_copies(module_builder *mb) {
    for (int32_t j = 0; j < mb->g->num_outputs; j++) {
        const dlc_value *v = mb->g->outputs[j];
        const dlc_location *loc = &mb->plan->values[v->id];
        if (loc->kind == DLC_LOC_OUTPUT && loc->index == j) continue;
        int64_t numel = dlc_value_numel(v), bytes;
        if (numel < 0 || !dlc_mul_size(numel, (int64_t)dlc_dtype_size(v->dtype), &bytes))
            return dlc_fail(DLC_ERR_INTERNAL, "codegen: output '%s' has no static size", v->name);
        LLVMValueRef size = const_i64(mb, (uint64_t)bytes);
        if (mb->dyn != NULL) { /* dtype size times the output's dims at this run */
            size = const_i64(mb, dlc_dtype_size(v->dtype));
            for (int32_t d = 0; d < v->shape.rank; d++)
                size = LLVMBuildMul(mb->body, size,
                                    emit_poly(mb, mb->body, mb->basis, mb->dyn->output_dims[j * DLC_MAX_RANK + d]), "");
        } else if (bytes == 0) {
            continue;
        }
        LLVMValueRef src;
        DLC_TRY(value_pointer(mb, v, &src));
        LLVMValueRef dst = load_pointer_at(mb, mb->outputs, j);
        /* memmove: a caller may pass one buffer as both input and output */
        LLVMBuildMemMove(mb->body, dst, 1, src, 1, size);
    }
    return DLC_OK;
}

/* Symbols, slot offsets, and the shape vectors written into their slots. */
static dlc_status emit_dynamic_prologue(module_builder *mb) {
    const dlc_dyn_plan *dyn = mb->dyn;
    LLVMValueRef symbols = LLVMBuildLoad2(mb->body, mb->ptr,
                                          LLVMBuildStructGEP2(mb->body, mb->run_args_type, mb->args, 6, ""), "symbols");
    emit_basis(mb, mb->body, symbols, mb->basis);
    mb->slot_offset = calloc((size_t)dyn->num_slots + 1, sizeof *mb->slot_offset);
    if (mb->slot_offset == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "codegen: slot offsets");
    mb->scratch_offset = emit_slot_offsets(mb, mb->body, mb->basis, mb->slot_offset);
    mb->params_global = calloc((size_t)mb->g->num_nodes + 1, sizeof *mb->params_global);
    if (mb->params_global == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "codegen: parameter blocks");
    for (int32_t i = 0; i < dyn->num_consts; i++) {
        const dlc_dyn_const *c = &dyn->consts[i];
        LLVMTypeRef elem = c->dtype == DLC_INT64 ? mb->i64 : mb->i32;
        LLVMValueRef off = mb->slot_offset[c->slot];
        LLVMValueRef base = LLVMBuildInBoundsGEP2(mb->body, mb->i8, mb->arena, &off, 1, "shape_vector");
        for (int64_t e = 0; e < c->numel; e++) {
            LLVMValueRef v = emit_poly(mb, mb->body, mb->basis, c->first_poly + (int32_t)e);
            if (elem != mb->i64) v = LLVMBuildTrunc(mb->body, v, elem, "");
            LLVMValueRef idx = const_i64(mb, (uint64_t)e);
            LLVMBuildStore(mb->body, v, LLVMBuildInBoundsGEP2(mb->body, elem, base, &idx, 1, ""));
        }
    }
    return DLC_OK;
}

/* shapes(symbols, &arena_size, output_dims) of the descriptor. */
static dlc_status build_shapes_function(module_builder *mb) {
    LLVMTypeRef params[3] = {mb->ptr, mb->ptr, mb->ptr};
    mb->shapes_fn = LLVMAddFunction(mb->module, "dlc_model_shapes", LLVMFunctionType(mb->i32, params, 3, 0));
    LLVMSetLinkage(mb->shapes_fn, LLVMInternalLinkage);
    LLVMBuilderRef b = LLVMCreateBuilderInContext(mb->ctx);
    LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(mb->ctx, mb->shapes_fn, "entry"));
    LLVMValueRef basis[DLC_POLY_MAX_SYMBOLS][DLC_POLY_MAX_DEGREE + 1];
    emit_basis(mb, b, LLVMGetParam(mb->shapes_fn, 0), basis);
    LLVMValueRef arena = emit_slot_offsets(mb, b, basis, NULL), scratch = const_i64(mb, 0);
    /* the scratch region: the largest run-time-sized workspace */
    for (int32_t pos = 0; pos < mb->g->num_nodes; pos++) {
        const dlc_dyn_node *dn = &mb->dyn->nodes[pos];
        if (dn->workspace_fn[0] == '\0') continue;
        LLVMTypeRef array = LLVMGlobalGetValueType(mb->params_global[pos]);
        size_t size = (size_t)LLVMGetArrayLength2(array);
        LLVMValueRef block = dynamic_params(mb, b, b, basis, pos, mb->params_global[pos], size), bytes;
        dlc_status st = call_workspace_fn(mb, b, dn, block, &bytes);
        if (st != DLC_OK) {
            LLVMDisposeBuilder(b);
            return st;
        }
        LLVMValueRef larger = LLVMBuildICmp(b, LLVMIntSGT, bytes, scratch, "");
        scratch = LLVMBuildSelect(b, larger, bytes, scratch, "scratch");
    }
    LLVMBuildStore(b, LLVMBuildAdd(b, arena, scratch, ""), LLVMGetParam(mb->shapes_fn, 1));
    LLVMValueRef dims = LLVMGetParam(mb->shapes_fn, 2);
    int64_t at = 0;
    for (int32_t j = 0; j < mb->g->num_outputs; j++)
        for (int32_t d = 0; d < mb->g->outputs[j]->shape.rank; d++) {
            LLVMValueRef idx = const_i64(mb, (uint64_t)at++);
            LLVMBuildStore(b, emit_poly(mb, b, basis, mb->dyn->output_dims[j * DLC_MAX_RANK + d]),
                           LLVMBuildInBoundsGEP2(b, mb->i64, dims, &idx, 1, ""));
        }
    LLVMBuildRet(b, const_i32(mb, 0));
    LLVMDisposeBuilder(b);
    return DLC_OK;
}

/* node_flops_at(symbols, flops) of the descriptor: each node's fitted FLOP
 * polynomial at these sizes (int64 arithmetic, as the fit is exact). */
static void build_flops_function(module_builder *mb) {
    LLVMTypeRef params[2] = {mb->ptr, mb->ptr};
    mb->flops_fn = LLVMAddFunction(mb->module, "dlc_model_node_flops_at", LLVMFunctionType(mb->i32, params, 2, 0));
    LLVMSetLinkage(mb->flops_fn, LLVMInternalLinkage);
    LLVMBuilderRef b = LLVMCreateBuilderInContext(mb->ctx);
    LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(mb->ctx, mb->flops_fn, "entry"));
    LLVMValueRef basis[DLC_POLY_MAX_SYMBOLS][DLC_POLY_MAX_DEGREE + 1];
    emit_basis(mb, b, LLVMGetParam(mb->flops_fn, 0), basis);
    LLVMTypeRef f64 = LLVMDoubleTypeInContext(mb->ctx);
    for (int32_t pos = 0; pos < mb->g->num_nodes; pos++) {
        LLVMValueRef idx = const_i64(mb, (uint64_t)pos);
        LLVMValueRef flops = LLVMBuildSIToFP(b, emit_poly(mb, b, basis, mb->dyn->nodes[pos].flops_poly), f64, "");
        LLVMBuildStore(b, flops, LLVMBuildInBoundsGEP2(b, f64, LLVMGetParam(mb->flops_fn, 1), &idx, 1, ""));
    }
    LLVMBuildRet(b, const_i32(mb, 0));
    LLVMDisposeBuilder(b);
}

static dlc_status build_run_function(module_builder *mb) {
    LLVMTypeRef fn_type = LLVMFunctionType(mb->i32, &mb->ptr, 1, 0);
    mb->run_fn = LLVMAddFunction(mb->module, "dlc_model_run", fn_type);
    LLVMSetLinkage(mb->run_fn, LLVMInternalLinkage);
    LLVMBasicBlockRef entry = LLVMAppendBasicBlockInContext(mb->ctx, mb->run_fn, "entry");
    LLVMBasicBlockRef start = LLVMAppendBasicBlockInContext(mb->ctx, mb->run_fn, "start");
    LLVMPositionBuilderAtEnd(mb->allocas, entry);
    LLVMPositionBuilderAtEnd(mb->body, start);

    mb->args = LLVMGetParam(mb->run_fn, 0);
    LLVMSetValueName2(mb->args, "args", 4);
    LLVMValueRef fields[4];
    LLVMTypeRef field_types[4] = {mb->ptr, mb->ptr, mb->ptr, mb->i32};
    const char *names[4] = {"arena", "inputs", "outputs", "num_threads"};
    for (unsigned f = 0; f < 4; f++)
        fields[f] = LLVMBuildLoad2(mb->body, field_types[f],
                                   LLVMBuildStructGEP2(mb->body, mb->run_args_type, mb->args, f, ""), names[f]);
    mb->arena = fields[0];
    mb->inputs = fields[1];
    mb->outputs = fields[2];
    mb->num_threads = fields[3];
    store_field(mb, mb->run_args_type, mb->args, 4, const_i32(mb, -1));
    if (mb->dyn != NULL) DLC_TRY(emit_dynamic_prologue(mb));
    mb->stamps = LLVMBuildLoad2(mb->body, mb->ptr, LLVMBuildStructGEP2(mb->body, mb->run_args_type, mb->args, 7, ""),
                                "node_stamps");
    build_stamp_function(mb);
    emit_stamp(mb, 0);

    dlc_kcall *call = malloc(sizeof *call);
    if (call == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "codegen: kernel call");
    dlc_status st = DLC_OK;
    for (int32_t pos = 0; pos < mb->g->num_nodes && st == DLC_OK; pos++) st = emit_node(mb, pos, call);
    free(call);
    DLC_TRY(st);
    DLC_TRY(emit_output_copies(mb));
    DLC_TRY(emit_output_dims(mb));
    LLVMBuildRet(mb->body, const_i32(mb, 0));
    LLVMBuildBr(mb->allocas, start); /* allocas first, then the code */
    return DLC_OK;
}

/* dlc_artifact_tensor for value v. */
/* Input dims: a symbol, or static; output dims: a polynomial, shown by its
 * text when not constant. */
static void tensor_dim(module_builder *mb, const dlc_value *v, int32_t d, LLVMValueRef *dim, LLVMValueRef *name) {
    *dim = const_i64(mb, (uint64_t)v->shape.dims[d].value);
    *name = LLVMConstNull(mb->ptr); /* every dim is static once compiled */
    if (mb->dyn == NULL) return;
    for (int32_t i = 0; i < mb->g->num_inputs; i++)
        if (mb->g->inputs[i] == v) {
            int32_t k = mb->dyn->input_dim_symbol[i * DLC_MAX_RANK + d];
            if (k < 0) return;
            *dim = const_i64(mb, (uint64_t)-1);
            *name = add_string(mb, mb->dyn->symbol_names[k]);
            return;
        }
    for (int32_t j = 0; j < mb->g->num_outputs; j++)
        if (mb->g->outputs[j] == v) {
            const dlc_poly *p = &mb->dyn->polys[mb->dyn->output_dims[j * DLC_MAX_RANK + d]];
            int64_t value;
            if (dlc_poly_is_const(&mb->dyn->space, p, &value)) {
                *dim = const_i64(mb, (uint64_t)value);
                return;
            }
            char text[256];
            dlc_poly_format(&mb->dyn->space, p, (const char *const *)mb->dyn->symbol_names, text, sizeof text);
            *dim = const_i64(mb, (uint64_t)-1);
            *name = add_string(mb, text);
            return;
        }
}

static LLVMValueRef tensor_entry(module_builder *mb, const dlc_value *v) {
    int32_t rank = v->shape.rank;
    LLVMValueRef dims_global = LLVMConstNull(mb->ptr), names_global = LLVMConstNull(mb->ptr);
    if (rank > 0) {
        LLVMValueRef dims[DLC_MAX_RANK], names[DLC_MAX_RANK];
        for (int32_t d = 0; d < rank; d++) tensor_dim(mb, v, d, &dims[d], &names[d]);
        dims_global = add_constant_global(mb, "dlc.dims", LLVMConstArray2(mb->i64, dims, (uint64_t)rank));
        names_global = add_constant_global(mb, "dlc.dim_names", LLVMConstArray2(mb->ptr, names, (uint64_t)rank));
    }
    /* an input bound to a value at compile time (codegen/bind_values.c) is
     * the first operand of its dlc.BoundInput check; the second holds the value */
    const dlc_value *bound = NULL;
    for (int32_t i = 0; i < mb->g->num_nodes && bound == NULL; i++) {
        const dlc_node *n = mb->g->nodes[i];
        if (strcmp(n->op_type, "BoundInput") == 0 && n->num_inputs == 2 && n->inputs[0] == v &&
            n->inputs[1]->kind == DLC_VALUE_CONST)
            bound = n->inputs[1];
    }
    LLVMValueRef bound_global = LLVMConstNull(mb->ptr);
    if (bound != NULL && bound->nbytes > 0)
        bound_global = add_bytes_global(mb, "dlc.bound_value", bound->data, bound->nbytes, false, 16);
    /* bounds reach the interface only for outputs (inputs have none) */
    uint32_t bounded = v->kind == DLC_VALUE_INPUT ? 0u : v->bounded_dims;
    LLVMValueRef fields[9] = {add_string(mb, v->name), const_i32(mb, v->dtype), const_i32(mb, rank), dims_global,
                              names_global, bound_global, const_i64(mb, bound != NULL ? bound->nbytes : 0),
                              const_i32(mb, (int32_t)bounded), const_i32(mb, 0)};
    return LLVMConstNamedStruct(mb->tensor_type, fields, 9);
}

static LLVMValueRef tensor_table(module_builder *mb, dlc_value *const *values, int32_t count) {
    if (count == 0) return LLVMConstNull(mb->ptr);
    LLVMValueRef *entries = malloc((size_t)count * sizeof *entries);
    if (entries == NULL) return NULL;
    for (int32_t i = 0; i < count; i++) entries[i] = tensor_entry(mb, values[i]);
    LLVMValueRef table =
        add_constant_global(mb, "dlc.tensors", LLVMConstArray2(mb->tensor_type, entries, (uint64_t)count));
    free(entries);
    return table;
}

static LLVMValueRef node_name_table(module_builder *mb) {
    int32_t count = mb->g->num_nodes;
    if (count == 0) return LLVMConstNull(mb->ptr);
    LLVMValueRef *names = malloc((size_t)count * sizeof *names);
    if (names == NULL) return NULL;
    for (int32_t i = 0; i < count; i++) {
        const dlc_node *node = mb->g->nodes[i];
        char text[512];
        char label[256];
        snprintf(text, sizeof text, "%s (%s)", node->name ? node->name : "?", dlc_node_label(node, label, sizeof label));
        names[i] = add_string(mb, text);
    }
    LLVMValueRef table = add_constant_global(mb, "dlc.node_names", LLVMConstArray2(mb->ptr, names, (uint64_t)count));
    free(names);
    return table;
}

/* dlc_artifact_desc.node_flops: the schema estimate per kernel call. */
static LLVMValueRef node_flops_table(module_builder *mb) {
    int32_t count = mb->g->num_nodes;
    if (count == 0) return LLVMConstNull(mb->ptr);
    LLVMTypeRef f64 = LLVMDoubleTypeInContext(mb->ctx);
    LLVMValueRef *flops = malloc((size_t)count * sizeof *flops);
    if (flops == NULL) return NULL;
    for (int32_t i = 0; i < count; i++) {
        int64_t f = dlc_node_flops(mb->g->nodes[i]);
        flops[i] = LLVMConstReal(f64, f > 0 ? (double)f : 0.0);
    }
    LLVMValueRef table = add_constant_global(mb, "dlc.node_flops", LLVMConstArray2(f64, flops, (uint64_t)count));
    free(flops);
    return table;
}

static dlc_status build_descriptor(module_builder *mb, const dlc_llvm_target *target) {
    LLVMValueRef inputs = tensor_table(mb, mb->g->inputs, mb->g->num_inputs);
    LLVMValueRef outputs = tensor_table(mb, mb->g->outputs, mb->g->num_outputs);
    LLVMValueRef node_names = node_name_table(mb);
    LLVMValueRef symbol_names = LLVMConstNull(mb->ptr), symbol_min = LLVMConstNull(mb->ptr);
    if (mb->dyn != NULL) {
        int32_t count = mb->dyn->space.num_symbols;
        LLVMValueRef names[DLC_POLY_MAX_SYMBOLS], mins[DLC_POLY_MAX_SYMBOLS];
        for (int32_t k = 0; k < count; k++) {
            names[k] = add_string(mb, mb->dyn->symbol_names[k]);
            mins[k] = const_i64(mb, (uint64_t)mb->dyn->symbol_min[k]);
        }
        symbol_names = add_constant_global(mb, "dlc.symbol_names", LLVMConstArray2(mb->ptr, names, (uint64_t)count));
        symbol_min = add_constant_global(mb, "dlc.symbol_min", LLVMConstArray2(mb->i64, mins, (uint64_t)count));
        DLC_TRY(build_shapes_function(mb));
        if (mb->dyn->flops_fitted) build_flops_function(mb);
    }
    LLVMValueRef node_flops = node_flops_table(mb);
    if (inputs == NULL || outputs == NULL || node_names == NULL || node_flops == NULL)
        return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "codegen: descriptor tables");
    LLVMValueRef fields[] = {
        const_i32(mb, (int32_t)DLC_ARTIFACT_MAGIC),
        const_i32(mb, DLC_ARTIFACT_ABI_VERSION),
        add_string(mb, "dlc " DLC_VERSION_STRING),
        add_string(mb, mb->g->name ? mb->g->name : ""),
        add_string(mb, target->cpu),
        add_string(mb, target->features),
        const_i64(mb, target->required_cpu_features),
        const_i32(mb, mb->g->num_inputs),
        const_i32(mb, mb->g->num_outputs),
        inputs,
        outputs,
        const_i64(mb, mb->dyn != NULL ? 0 : mb->plan->arena_size), /* dynamic: from shapes() */
        const_i64(mb, mb->plan->alignment),
        const_i64(mb, mb->plan->weights_size),
        const_i32(mb, mb->g->num_nodes),
        const_i32(mb, 0),
        node_names,
        mb->run_fn,
        const_i32(mb, mb->dyn != NULL ? mb->dyn->space.num_symbols : 0),
        const_i32(mb, 0),
        symbol_names,
        symbol_min,
        mb->dyn != NULL ? mb->shapes_fn : LLVMConstNull(mb->ptr),
        node_flops,
        mb->flops_fn != NULL ? mb->flops_fn : LLVMConstNull(mb->ptr),
    };
    LLVMValueRef desc_init = LLVMConstStructInContext(mb->ctx, fields, sizeof fields / sizeof fields[0], 0);
    LLVMValueRef desc = add_constant_global(mb, "dlc.descriptor", desc_init);
    LLVMSetAlignment(desc, 16);

    LLVMTypeRef entry_type = LLVMFunctionType(mb->ptr, NULL, 0, 0);
    LLVMValueRef entry = LLVMAddFunction(mb->module, DLC_ARTIFACT_ENTRY, entry_type);
    LLVMSetLinkage(entry, LLVMExternalLinkage);
    LLVMSetVisibility(entry, LLVMDefaultVisibility);
    LLVMPositionBuilderAtEnd(mb->body, LLVMAppendBasicBlockInContext(mb->ctx, entry, "entry"));
    LLVMBuildRet(mb->body, desc);
    return DLC_OK;
}

static void init_types(module_builder *mb) {
    mb->i8 = LLVMInt8TypeInContext(mb->ctx);
    mb->i32 = LLVMInt32TypeInContext(mb->ctx);
    mb->i64 = LLVMInt64TypeInContext(mb->ctx);
    mb->ptr = LLVMPointerTypeInContext(mb->ctx, 0);
    /* dlc_artifact_run_args {arena, inputs, outputs, num_threads, failed_node, output_dims, symbols, node_stamps} */
    LLVMTypeRef run_args[8] = {mb->ptr, mb->ptr, mb->ptr, mb->i32, mb->i32, mb->ptr, mb->ptr, mb->ptr};
    mb->run_args_type = LLVMStructTypeInContext(mb->ctx, run_args, 8, 0);
    /* dlc_kctx {num_threads, reserved, workspace, workspace_size, out_dims} */
    LLVMTypeRef kctx[5] = {mb->i32, mb->i32, mb->ptr, mb->i64, mb->ptr};
    mb->kctx_type = LLVMStructTypeInContext(mb->ctx, kctx, 5, 0);
    /* dlc_artifact_tensor {name, dtype, rank, dims, dim_names, bound_value, bound_value_size,
     *                      bounded_dims, reserved} */
    mb->tensor_type = LLVMStructCreateNamed(mb->ctx, "dlc.artifact_tensor");
    LLVMTypeRef tensor[9] = {mb->ptr, mb->i32, mb->i32, mb->ptr, mb->ptr, mb->ptr, mb->i64, mb->i32, mb->i32};
    LLVMStructSetBody(mb->tensor_type, tensor, 9, 0);
}

dlc_status dlc_llvm_build_module(LLVMContextRef ctx, const dlc_graph *g, const dlc_memory_plan *plan,
                                 const dlc_dyn_plan *dyn, const dlc_llvm_target *target, LLVMModuleRef *out_module) {
    *out_module = NULL;
    if (plan->num_values != g->num_values || plan->num_nodes != g->num_nodes)
        return dlc_fail(DLC_ERR_INTERNAL, "codegen: the memory plan is for another graph");
    module_builder mb = {.ctx = ctx, .g = g, .plan = plan, .dyn = dyn};
    mb.actual_dims = calloc((size_t)g->num_values + 1, sizeof *mb.actual_dims);
    if (mb.actual_dims == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "codegen: dims table");
    dlc_status parsed = parse_kernel_library(ctx, &mb.module);
    if (parsed != DLC_OK) {
        free(mb.actual_dims);
        return parsed;
    }
    LLVMSetTarget(mb.module, target->triple);
    LLVMSetModuleIdentifier(mb.module, g->name ? g->name : "model", g->name ? strlen(g->name) : 5);
    init_types(&mb);
    mb.body = LLVMCreateBuilderInContext(ctx);
    mb.allocas = LLVMCreateBuilderInContext(ctx);
    dlc_status st = add_weights(&mb);
    if (st == DLC_OK) st = build_run_function(&mb);
    if (st == DLC_OK) st = build_descriptor(&mb, target);
    LLVMDisposeBuilder(mb.body);
    LLVMDisposeBuilder(mb.allocas);
    free(mb.actual_dims);
    free(mb.slot_offset);
    free(mb.params_global);
    if (st != DLC_OK) {
        LLVMDisposeModule(mb.module);
        return st;
    }
    *out_module = mb.module;
    return DLC_OK;
}
