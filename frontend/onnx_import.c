/*
 * ONNX ModelProto → dlc IR.
 *
 * Rules worth knowing (ONNX leaves some choices open):
 * - An initializer that is also listed in graph.input (allowed from IR
 *   version 4, meaning "an input with a default value") becomes a CONST:
 *   dlc compiles for inference and folds weights, so such inputs cannot be
 *   overridden at run time.
 * - A model without an opset_import for the default domain gets opset 1
 *   when its ir_version is below 3 (those models predate opset_import);
 *   otherwise a node of a domain without an entry is an error.
 * - A subgraph (If/Loop/Scan body) that reads a value of an enclosing graph
 *   gets an INPUT value of the same name, after its own formal inputs, and
 *   the node holding the subgraph gets the outer value as an implicit input
 *   (ir/subgraph.h). A subgraph's formal input may have no type (a Loop's
 *   carried value takes its initial value's).
 * - dim_value < 0 and dims without value or name become fresh unnamed
 *   symbols ("unk__N").
 * Every error message starts with the model's file name.
 */
#include "frontend/onnx_import.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/file_bytes.h"
#include "frontend/onnx_import_internal.h"
#include "frontend/proto_depth.h"
#include "frontend/tensor_proto.h"
#include "ir/op_registry.h"
#include "ir/subgraph.h"
#include "runtime/status.h"

static const char *str_or_empty(const char *s) { return s != NULL ? s : ""; }

static bool is_default_domain(const char *domain) {
    return domain == NULL || domain[0] == '\0' || strcmp(domain, "ai.onnx") == 0;
}

/* ---- opsets ---- */

static void free_opsets(dlc_opset_import *opsets, int32_t count) {
    for (int32_t i = 0; i < count; i++) free(opsets[i].domain);
    free(opsets);
}

static dlc_status read_opsets(const Onnx__ModelProto *m, dlc_opset_import **out, int32_t *out_count) {
    *out = NULL;
    *out_count = 0;
    if (m->n_opset_import > 1000) return dlc_fail(DLC_ERR_PARSE, "%zu opset_import entries", m->n_opset_import);
    dlc_opset_import *opsets = calloc(m->n_opset_import + 1, sizeof *opsets);
    if (opsets == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "out of memory");
    int32_t count = 0;
    bool has_default = false;
    for (size_t i = 0; i < m->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *op = m->opset_import[i];
        const char *domain = is_default_domain(op->domain) ? "" : op->domain;
        const char *shown = domain[0] ? domain : "ai.onnx";
        dlc_status st = DLC_OK;
        if (!op->has_version || op->version < 1 || op->version > INT32_MAX)
            st = dlc_fail(DLC_ERR_PARSE, "opset_import for domain '%s' has no valid version", shown);
        for (int32_t k = 0; k < count && st == DLC_OK; k++)
            if (strcmp(opsets[k].domain, domain) == 0)
                st = dlc_fail(DLC_ERR_PARSE, "opset_import lists domain '%s' twice", shown);
        if (st == DLC_OK && (opsets[count].domain = strdup(domain)) == NULL)
            st = dlc_fail(DLC_ERR_OUT_OF_MEMORY, "out of memory");
        if (st != DLC_OK) {
            free_opsets(opsets, count);
            return st;
        }
        opsets[count++].version = op->version;
        has_default |= domain[0] == '\0';
    }
    int64_t ir_version = m->has_ir_version ? m->ir_version : 0;
    if (!has_default && ir_version < 3) {
        if ((opsets[count].domain = strdup("")) == NULL) {
            free_opsets(opsets, count);
            return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "out of memory");
        }
        opsets[count++].version = 1;
    }
    *out = opsets;
    *out_count = count;
    return DLC_OK;
}

static dlc_status copy_opsets(dlc_graph *g, const onnx_model_ctx *ctx) {
    g->opsets = calloc((size_t)ctx->num_opsets + 1, sizeof *g->opsets);
    if (g->opsets == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "out of memory");
    for (int32_t i = 0; i < ctx->num_opsets; i++) {
        g->opsets[i].version = ctx->opsets[i].version;
        if ((g->opsets[i].domain = strdup(ctx->opsets[i].domain)) == NULL)
            return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "out of memory");
        g->num_opsets = i + 1;
    }
    return DLC_OK;
}

static bool find_opset(const onnx_model_ctx *ctx, const char *domain, int32_t *out_version) {
    for (int32_t i = 0; i < ctx->num_opsets; i++)
        if (strcmp(ctx->opsets[i].domain, domain) == 0) {
            *out_version = (int32_t)ctx->opsets[i].version;
            return true;
        }
    return false;
}

/* ---- names and scopes ---- */

/* A value of an enclosing graph, re-created in scope's graph as an INPUT. */
static dlc_status capture_outer(onnx_scope *scope, const char *name, dlc_value **out) {
    *out = NULL;
    for (const onnx_scope *s = scope->outer; s != NULL; s = s->outer) {
        const dlc_value *outer = dlc_name_table_get(&s->names, name);
        if (outer == NULL) continue;
        dlc_shape shape = outer->shape;
        for (int32_t i = 0; i < shape.rank; i++)
            if (shape.dims[i].value < 0 && shape.dims[i].sym >= 0 && shape.dims[i].sym < s->graph->num_symbols)
                DLC_TRY(dlc_graph_symbol(scope->graph, s->graph->symbols[shape.dims[i].sym], &shape.dims[i].sym));
        dlc_value *v;
        DLC_TRY(dlc_graph_add_value(scope->graph, name, DLC_VALUE_INPUT, outer->dtype, &shape, &v));
        DLC_TRY(dlc_name_table_put(&scope->names, v->name, v));
        *out = v;
        return DLC_OK;
    }
    return DLC_OK;
}

/* The value called name here or in an enclosing graph; NULL if none. */
static dlc_status resolve(onnx_scope *scope, const char *name, dlc_value **out) {
    *out = dlc_name_table_get(&scope->names, name);
    if (*out != NULL) return DLC_OK;
    return capture_outer(scope, name, out);
}

/* ---- graph parts ---- */

static dlc_status import_initializers(const onnx_model_ctx *ctx, onnx_scope *scope, const Onnx__GraphProto *gp) {
    if (gp->n_sparse_initializer > 0)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "sparse initializers are not supported (graph '%s')", str_or_empty(gp->name));
    for (size_t i = 0; i < gp->n_initializer; i++) {
        const Onnx__TensorProto *t = gp->initializer[i];
        const char *name = str_or_empty(t->name);
        if (name[0] == '\0') return dlc_fail(DLC_ERR_PARSE, "initializer %zu has no name", i);
        if (dlc_name_table_get(&scope->names, name) != NULL)
            return dlc_fail(DLC_ERR_PARSE, "initializer '%s' is defined twice", name);
        dlc_tensor_data td;
        DLC_TRY(dlc_tensor_proto_decode(t, ctx->base_dir, &td));
        dlc_value *v;
        dlc_status st = dlc_graph_add_const(scope->graph, name, td.dtype, &td.shape, td.data, td.nbytes, &v);
        dlc_tensor_data_release(&td);
        DLC_TRY(st);
        DLC_TRY(dlc_name_table_put(&scope->names, v->name, v));
    }
    return DLC_OK;
}

static dlc_status import_inputs(onnx_scope *scope, const Onnx__GraphProto *gp) {
    for (size_t i = 0; i < gp->n_input; i++) {
        const Onnx__ValueInfoProto *vi = gp->input[i];
        const char *name = str_or_empty(vi->name);
        if (name[0] == '\0') return dlc_fail(DLC_ERR_PARSE, "graph input %zu has no name", i);
        const dlc_value *existing = dlc_name_table_get(&scope->names, name);
        if (existing != NULL && existing->kind == DLC_VALUE_CONST) continue; /* input with a default: a constant */
        if (existing != NULL) return dlc_fail(DLC_ERR_PARSE, "graph input '%s' is listed twice", name);
        char what[300];
        snprintf(what, sizeof what, "graph input '%s'", name);
        onnx_full_type ft = {.dtype = DLC_DTYPE_UNDEFINED, .shape = {.rank = -1}};
        /* A subgraph's formal input may leave its type to the op (a Loop's
         * carried value takes the type of its initial value). */
        if (scope->depth == 0 || vi->type != NULL) DLC_TRY(onnx_value_full_type(scope->graph, vi->type, what, &ft));
        dlc_value *v;
        DLC_TRY(dlc_graph_add_value(scope->graph, name, DLC_VALUE_INPUT, ft.dtype, &ft.shape, &v));
        /* a sequence or optional input: its elements are bound at compile
         * time (dlc_bind_input_sequences) */
        v->type = ft.type;
        v->elem_type = ft.elem_type;
        DLC_TRY(dlc_name_table_put(&scope->names, v->name, v));
    }
    return DLC_OK;
}

static const char *node_name(const Onnx__NodeProto *np, size_t index, char *buf, size_t size) {
    if (np->name != NULL && np->name[0] != '\0') return np->name;
    snprintf(buf, size, "%s_%zu", str_or_empty(np->op_type), index);
    return buf;
}

/* Pass 1: a value for every node output, so that inputs may name outputs of
 * nodes further down the file (graphs need not be sorted). producer_index
 * maps value id → node index, for the "defined twice" message. */
static dlc_status declare_outputs(onnx_scope *scope, const Onnx__GraphProto *gp, int32_t **producer_index) {
    dlc_graph *g = scope->graph;
    for (size_t n = 0; n < gp->n_node; n++) {
        const Onnx__NodeProto *np = gp->node[n];
        char buf[160];
        for (size_t o = 0; o < np->n_output; o++) {
            const char *name = str_or_empty(np->output[o]);
            if (name[0] == '\0') continue; /* omitted optional output */
            const dlc_value *existing = dlc_name_table_get(&scope->names, name);
            if (existing != NULL) {
                char other_buf[160];
                const char *other = existing->kind == DLC_VALUE_CONST ? "an initializer" : "a graph input";
                if (existing->kind == DLC_VALUE_INTERMEDIATE) {
                    int32_t k = (*producer_index)[existing->id];
                    other = node_name(gp->node[k], (size_t)k, other_buf, sizeof other_buf);
                }
                return dlc_fail(DLC_ERR_PARSE, "value '%s' has two producers: %s%s%s and node '%s' (%s)", name,
                                existing->kind == DLC_VALUE_INTERMEDIATE ? "node '" : "", other,
                                existing->kind == DLC_VALUE_INTERMEDIATE ? "'" : "", node_name(np, n, buf, sizeof buf),
                                str_or_empty(np->op_type));
            }
            dlc_value *v;
            DLC_TRY(dlc_graph_add_value(g, name, DLC_VALUE_INTERMEDIATE, DLC_DTYPE_UNDEFINED, NULL, &v));
            DLC_TRY(dlc_name_table_put(&scope->names, v->name, v));
            int32_t *p = realloc(*producer_index, (size_t)g->num_values * sizeof *p);
            if (p == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "out of memory");
            *producer_index = p;
            p[v->id] = (int32_t)n;
        }
    }
    return DLC_OK;
}

/* The values of enclosing graphs that a subgraph reads become trailing inputs
 * of its node (ONNX Runtime's "implicit inputs"), so that ordering, use
 * counts and dead-code removal see them; attribute DLC_ATTR_IMPLICIT_INPUTS
 * counts them. They follow the subgraph's own captured INPUTs (those after its
 * formal inputs) in order, attribute after attribute; nested subgraphs'
 * captures reach here through their node's implicit inputs. */
static dlc_status add_implicit_inputs(onnx_scope *scope, dlc_node *node, const Onnx__AttributeProto *ap) {
    const dlc_attr *attr = dlc_node_attr(node, ap->name);
    if (attr == NULL || attr->graph == NULL) return DLC_OK;
    const dlc_graph *sub = attr->graph;
    for (int32_t k = 0; k < sub->num_inputs; k++) {
        const char *name = sub->inputs[k]->name;
        bool formal = false;
        for (size_t f = 0; f < ap->g->n_input && !formal; f++) formal = strcmp(str_or_empty(ap->g->input[f]->name), name) == 0;
        if (formal) continue;
        dlc_value *outer;
        DLC_TRY(resolve(scope, name, &outer));
        if (outer == NULL) return dlc_fail(DLC_ERR_INTERNAL, "subgraph '%s' captured '%s', which no enclosing graph defines", sub->name, name);
        dlc_value **p = realloc(node->inputs, (size_t)(node->num_inputs + 2) * sizeof *p);
        if (p == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "out of memory");
        node->inputs = p;
        node->inputs[node->num_inputs++] = outer;
        node->inputs[node->num_inputs] = NULL;
        dlc_attr *count = NULL;
        for (int32_t i = 0; i < node->num_attrs; i++)
            if (strcmp(node->attrs[i].name, DLC_ATTR_IMPLICIT_INPUTS) == 0) count = &node->attrs[i];
        if (count != NULL) {
            count->i++;
        } else {
            dlc_attr a = {.name = (char *)DLC_ATTR_IMPLICIT_INPUTS, .type = DLC_ATTR_INT, .i = 1};
            DLC_TRY(dlc_node_add_attr(node, &a));
        }
    }
    return DLC_OK;
}

/* Pass 2: the nodes themselves, with their attributes. */
static dlc_status import_node(const onnx_model_ctx *ctx, onnx_scope *scope, const Onnx__NodeProto *np, size_t index) {
    char buf[160];
    const char *name = node_name(np, index, buf, sizeof buf);
    const char *op_type = str_or_empty(np->op_type);
    if (op_type[0] == '\0') return dlc_fail(DLC_ERR_PARSE, "node '%s' has no op_type", name);
    const char *domain = is_default_domain(np->domain) ? "" : np->domain;
    int32_t opset;
    if (!find_opset(ctx, domain, &opset))
        return dlc_fail(DLC_ERR_PARSE, "node '%s' (%s) uses domain '%s', which the model's opset_import does not list",
                        name, op_type, domain[0] ? domain : "ai.onnx");
    if (np->n_input > INT32_MAX || np->n_output > INT32_MAX)
        return dlc_fail(DLC_ERR_PARSE, "node '%s' has too many inputs or outputs", name);
    dlc_value **inputs = calloc(np->n_input + 1, sizeof *inputs);
    dlc_value **outputs = calloc(np->n_output + 1, sizeof *outputs);
    dlc_status st = inputs && outputs ? DLC_OK : dlc_fail(DLC_ERR_OUT_OF_MEMORY, "out of memory");
    const char *undefined = NULL;
    for (size_t i = 0; i < np->n_input && st == DLC_OK; i++) {
        const char *in = str_or_empty(np->input[i]);
        if (in[0] == '\0') continue; /* omitted optional input */
        st = resolve(scope, in, &inputs[i]);
        if (st == DLC_OK && inputs[i] == NULL && undefined == NULL) undefined = in;
    }
    for (size_t o = 0; o < np->n_output && st == DLC_OK; o++)
        if (np->output[o] != NULL && np->output[o][0] != '\0') outputs[o] = dlc_name_table_get(&scope->names, np->output[o]);
    dlc_node *node = NULL;
    if (st == DLC_OK)
        st = dlc_graph_add_node(scope->graph, name, op_type, domain, opset, (int32_t)np->n_input, inputs,
                                (int32_t)np->n_output, outputs, &node);
    free(inputs);
    free(outputs);
    DLC_TRY(st);
    char where[256];
    if (undefined != NULL)
        return dlc_fail(DLC_ERR_PARSE, "node %s: input '%s' is not defined by any initializer, graph input or node output",
                        dlc_node_describe(node, where, sizeof where), undefined);
    for (size_t a = 0; a < np->n_attribute; a++) DLC_TRY(onnx_import_attr(ctx, scope, node, np->attribute[a]));
    for (size_t a = 0; a < np->n_attribute; a++)
        if (np->attribute[a]->g != NULL && dlc_op_takes_implicit_inputs(domain, op_type))
            DLC_TRY(add_implicit_inputs(scope, node, np->attribute[a]));
    return DLC_OK;
}

static dlc_status import_outputs(onnx_scope *scope, const Onnx__GraphProto *gp) {
    dlc_graph *g = scope->graph;
    g->outputs = calloc(gp->n_output + 1, sizeof *g->outputs);
    if (g->outputs == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "out of memory");
    for (size_t i = 0; i < gp->n_output; i++) {
        const Onnx__ValueInfoProto *vi = gp->output[i];
        const char *name = str_or_empty(vi->name);
        if (name[0] == '\0') return dlc_fail(DLC_ERR_PARSE, "graph output %zu has no name", i);
        dlc_value *v;
        DLC_TRY(resolve(scope, name, &v));
        if (v == NULL)
            return dlc_fail(DLC_ERR_PARSE, "graph output '%s' is not produced by any node, graph input or initializer",
                            name);
        g->outputs[g->num_outputs++] = v;
        /* The declared type is a hint for values that inference has not reached yet. */
        if (v->kind == DLC_VALUE_INTERMEDIATE && v->dtype == DLC_DTYPE_UNDEFINED && vi->type != NULL) {
            char what[300];
            snprintf(what, sizeof what, "graph output '%s'", name);
            onnx_full_type ft;
            DLC_TRY(onnx_value_full_type(g, vi->type, what, &ft));
            /* sequences and optionals get their elements when their producer
             * is expanded; the declared type tells `dlc test` how to read data */
            if (ft.type == DLC_TYPE_TENSOR) v->dtype = ft.dtype, v->shape = ft.shape;
            else v->type = ft.type, v->elem_type = ft.elem_type;
        }
    }
    return DLC_OK;
}

static dlc_status import_graph_body(const onnx_model_ctx *ctx, onnx_scope *scope, const Onnx__GraphProto *gp) {
    DLC_TRY(copy_opsets(scope->graph, ctx));
    DLC_TRY(import_initializers(ctx, scope, gp));
    DLC_TRY(import_inputs(scope, gp));
    int32_t *producer_index = NULL;
    dlc_status st = declare_outputs(scope, gp, &producer_index);
    free(producer_index);
    DLC_TRY(st);
    for (size_t n = 0; n < gp->n_node; n++) DLC_TRY(import_node(ctx, scope, gp->node[n], n));
    DLC_TRY(import_outputs(scope, gp));
    for (int32_t n = 0; n < scope->graph->num_nodes; n++) DLC_TRY(dlc_node_bind_schema(scope->graph->nodes[n]));
    DLC_TRY(dlc_graph_toposort(scope->graph));
    dlc_graph_update_uses(scope->graph);
    return DLC_OK;
}

dlc_status onnx_import_graph(const onnx_model_ctx *ctx, const Onnx__GraphProto *gp, const onnx_scope *outer, int depth,
                             dlc_graph **out_graph) {
    *out_graph = NULL;
    if (depth > DLC_ONNX_MAX_GRAPH_DEPTH)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "subgraphs nested more than %d deep", DLC_ONNX_MAX_GRAPH_DEPTH);
    onnx_scope scope = {.outer = outer, .depth = depth};
    DLC_TRY(dlc_graph_create(str_or_empty(gp->name), &scope.graph));
    dlc_status st = import_graph_body(ctx, &scope, gp);
    dlc_name_table_free(&scope.names);
    if (st != DLC_OK) {
        dlc_graph_free(scope.graph);
        return st;
    }
    *out_graph = scope.graph;
    return DLC_OK;
}

/* ---- entry points ---- */

static dlc_status import_model(const Onnx__ModelProto *m, const char *base_dir, dlc_graph **out_graph) {
    if (m->graph == NULL) return dlc_fail(DLC_ERR_PARSE, "the model has no graph (not an ONNX model?)");
    onnx_model_ctx ctx = {.base_dir = base_dir};
    dlc_opset_import *opsets;
    DLC_TRY(read_opsets(m, &opsets, &ctx.num_opsets));
    ctx.opsets = opsets;
    dlc_status st = onnx_import_graph(&ctx, m->graph, NULL, 0, out_graph);
    free_opsets(opsets, ctx.num_opsets);
    return st;
}

dlc_status dlc_onnx_import_bytes(const void *data, size_t size, const char *base_dir, const char *display_name,
                                 dlc_graph **out_graph) {
    *out_graph = NULL;
    const char *file = display_name != NULL ? display_name : "<memory>";
    if (data == NULL || size == 0) return dlc_fail(DLC_ERR_PARSE, "'%s' is empty, not an ONNX model", file);
    if (!dlc_proto_depth_ok(&onnx__model_proto__descriptor, data, size, DLC_PROTO_MAX_DEPTH))
        return dlc_fail(DLC_ERR_PARSE, "'%s' nests messages more than %d deep; refusing it", file, DLC_PROTO_MAX_DEPTH);
    Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, size, data);
    if (m == NULL)
        return dlc_fail(DLC_ERR_PARSE, "'%s' is not a valid ONNX model (protobuf parse failed; truncated or not ONNX?)",
                        file);
    dlc_graph *g = NULL;
    dlc_status st = import_model(m, base_dir, &g);
    onnx__model_proto__free_unpacked(m, NULL);
    if (st == DLC_OK && (g->source_path = strdup(file)) == NULL) st = dlc_fail(DLC_ERR_OUT_OF_MEMORY, "out of memory");
    if (st != DLC_OK) {
        dlc_graph_free(g);
        return dlc_fail_context(st, "%s", file);
    }
    *out_graph = g;
    return DLC_OK;
}

dlc_status dlc_onnx_import_file(const char *path, dlc_graph **out_graph) {
    *out_graph = NULL;
    dlc_file_bytes bytes;
    DLC_TRY(dlc_file_bytes_map(path, "an ONNX model", &bytes));
    char *base_dir = dlc_path_dirname(path);
    dlc_status st = base_dir != NULL ? dlc_onnx_import_bytes(bytes.data, bytes.size, base_dir, path, out_graph)
                                     : dlc_fail(DLC_ERR_OUT_OF_MEMORY, "out of memory");
    free(base_dir);
    dlc_file_bytes_unmap(&bytes);
    return st;
}
