/* BatchNormalization folding: at inference a BN after a Conv (or Gemm, or a
 * 2-D MatMul) with constant weights is an affine map per output channel, so
 * it can be merged into the weights and bias:
 *
 *     s[c]  = scale[c] / sqrt(var[c] + eps)
 *     W'[c] = W[c] * s[c]                (every weight of output channel c)
 *     b'[c] = (b[c] - mean[c]) * s[c] + B[c]
 *
 * Grouped and depthwise convs need nothing special: W's first dim is always
 * the output channel. The BN's output value is kept (it may be a graph
 * output, whose name is part of the artifact); the producer now writes it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ir/op_registry.h"
#include "passes/pipeline.h"
#include "runtime/status.h"

typedef struct bn_affine {
    int64_t channels;
    double *scale; /* s[c] */
    double *shift; /* B[c] - mean[c] * s[c] */
} bn_affine;

static bool is_const_f32(const dlc_value *v) {
    return v != NULL && v->kind == DLC_VALUE_CONST && v->dtype == DLC_FLOAT32 && v->data != NULL;
}

static bool output_is_unused(const dlc_node *node, int32_t index) {
    if (index >= node->num_outputs || node->outputs[index] == NULL) return true;
    const dlc_value *v = node->outputs[index];
    return v->num_uses == 0 && !v->is_graph_output;
}

/* Reads the BN's parameters; false when it is not a foldable inference BN. */
static bool bn_affine_read(const dlc_node *bn, bn_affine *out) {
    memset(out, 0, sizeof *out);
    const dlc_value *x = bn->inputs[0];
    if (bn->num_inputs < 5 || x == NULL || x->dtype != DLC_FLOAT32 || x->shape.rank < 2) return false;
    if (!dlc_dim_is_static(x->shape.dims[1])) return false;
    if (dlc_node_attr_int(bn, "training_mode", 0) != 0) return false;
    if (dlc_node_attr_int(bn, "spatial", 1) == 0) return false; /* opset < 9: per-element statistics */
    for (int32_t o = 1; o < bn->num_outputs; o++)
        if (!output_is_unused(bn, o)) return false;
    int64_t channels = x->shape.dims[1].value;
    for (int i = 1; i < 5; i++)
        if (!is_const_f32(bn->inputs[i]) || dlc_value_numel(bn->inputs[i]) != channels) return false;
    double eps = dlc_node_attr_float(bn, "epsilon", 1e-5);
    out->scale = malloc((size_t)channels * sizeof(double) + 1);
    out->shift = malloc((size_t)channels * sizeof(double) + 1);
    if (out->scale == NULL || out->shift == NULL) {
        free(out->scale), free(out->shift);
        return false;
    }
    const float *gamma = bn->inputs[1]->data, *beta = bn->inputs[2]->data;
    const float *mean = bn->inputs[3]->data, *var = bn->inputs[4]->data;
    for (int64_t c = 0; c < channels; c++) {
        out->scale[c] = (double)gamma[c] / sqrt((double)var[c] + eps);
        out->shift[c] = (double)beta[c] - (double)mean[c] * out->scale[c];
    }
    out->channels = channels;
    return true;
}

static void bn_affine_free(bn_affine *a) {
    free(a->scale);
    free(a->shift);
}

static dlc_status add_f32_const(dlc_graph *g, const char *owner, const char *what, const dlc_shape *shape,
                                const float *data, dlc_value **out) {
    char name[512];
    snprintf(name, sizeof name, "%s.bn_folded_%s", owner, what);
    size_t nbytes = (size_t)dlc_shape_numel(shape) * sizeof(float);
    return dlc_graph_add_const(g, name, DLC_FLOAT32, shape, data, nbytes, out);
}

/* The new bias b'[c] = bias[c] * s[c] + shift[c] as a [C] constant. */
static dlc_status make_bias(dlc_graph *g, const dlc_node *producer, const bn_affine *a, const float *bias,
                            int64_t bias_stride, double bias_factor, dlc_value **out) {
    float *b = malloc((size_t)a->channels * sizeof(float) + 1);
    if (b == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "BatchNormalization folding: out of memory");
    for (int64_t c = 0; c < a->channels; c++) {
        double old = bias != NULL ? bias_factor * (double)bias[c * bias_stride] : 0.0;
        b[c] = (float)(old * a->scale[c] + a->shift[c]);
    }
    dlc_shape shape = dlc_shape_make(1, &a->channels);
    dlc_status st = add_f32_const(g, producer->name, "bias", &shape, b, out);
    free(b);
    return st;
}

/* W'[c, ...] = W[c, ...] * s[c] (out_channel_axis 0) or W'[..., c] = W[..., c] * s[c] (axis 1 of a matrix). */
static dlc_status make_weights(dlc_graph *g, const dlc_node *producer, const bn_affine *a, const dlc_value *w,
                               bool channel_is_last, dlc_value **out) {
    int64_t numel = dlc_value_numel(w);
    float *data = malloc((size_t)numel * sizeof(float) + 1);
    if (data == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "BatchNormalization folding: out of memory");
    const float *src = w->data;
    int64_t inner = numel / a->channels;
    for (int64_t i = 0; i < numel; i++) {
        int64_t c = channel_is_last ? i % a->channels : i / inner;
        data[i] = (float)((double)src[i] * a->scale[c]);
    }
    dlc_status st = add_f32_const(g, producer->name, "weight", &w->shape, data, out);
    free(data);
    return st;
}

static dlc_status set_input(dlc_node *node, int32_t index, dlc_value *v) {
    if (index >= node->num_inputs) {
        dlc_value **p = realloc(node->inputs, (size_t)(index + 2) * sizeof *p);
        if (p == NULL) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "BatchNormalization folding: out of memory");
        for (int32_t i = node->num_inputs; i <= index + 1; i++) p[i] = NULL;
        node->inputs = p;
        node->num_inputs = index + 1;
    }
    node->inputs[index] = v;
    return DLC_OK;
}

/* The producer now writes the BN's output; the BN and the old value go. */
static void take_over_output(dlc_graph *g, dlc_node *producer, dlc_node *bn) {
    dlc_value *x = bn->inputs[0], *y = bn->outputs[0];
    dlc_graph_remove_node(g, bn);
    producer->outputs[0] = y;
    y->producer = producer;
    y->producer_output = 0;
    y->kind = DLC_VALUE_INTERMEDIATE;
    x->producer = NULL;
    dlc_graph_update_uses(g);
}

static dlc_status fold_into_conv(dlc_graph *g, dlc_node *conv, dlc_node *bn, const bn_affine *a, bool *out_done) {
    const dlc_value *w = conv->inputs[1];
    const dlc_value *bias = conv->num_inputs > 2 ? conv->inputs[2] : NULL;
    if (!is_const_f32(w) || w->shape.rank < 3 || w->shape.dims[0].value != a->channels) return DLC_OK;
    if (bias != NULL && (!is_const_f32(bias) || dlc_value_numel(bias) != a->channels)) return DLC_OK;
    dlc_value *new_w, *new_b;
    DLC_TRY(make_weights(g, conv, a, w, false, &new_w));
    DLC_TRY(make_bias(g, conv, a, bias != NULL ? bias->data : NULL, 1, 1.0, &new_b));
    DLC_TRY(set_input(conv, 1, new_w));
    DLC_TRY(set_input(conv, 2, new_b));
    take_over_output(g, conv, bn);
    *out_done = true;
    return DLC_OK;
}

static dlc_status set_float_attr(dlc_node *node, const char *name, double value) {
    for (int32_t i = 0; i < node->num_attrs; i++)
        if (strcmp(node->attrs[i].name, name) == 0) {
            node->attrs[i].type = DLC_ATTR_FLOAT;
            node->attrs[i].f = value;
            return DLC_OK;
        }
    dlc_attr attr = {.name = (char *)name, .type = DLC_ATTR_FLOAT, .f = value};
    return dlc_node_add_attr(node, &attr);
}

/* Gemm: Y[m, n] = alpha * A·op(B) + beta * C; the BN channel is n. */
static dlc_status fold_into_gemm(dlc_graph *g, dlc_node *gemm, dlc_node *bn, const bn_affine *a, bool *out_done) {
    const dlc_value *w = gemm->inputs[1];
    const dlc_value *c = gemm->num_inputs > 2 ? gemm->inputs[2] : NULL;
    bool trans_b = dlc_node_attr_int(gemm, "transB", 0) != 0;
    if (!is_const_f32(w) || w->shape.rank != 2) return DLC_OK;
    if (w->shape.dims[trans_b ? 0 : 1].value != a->channels) return DLC_OK;
    int64_t bias_stride = 1;
    if (c != NULL) {
        /* only a bias broadcast along n ([], [1], [N], [1,N]) is per channel */
        int64_t numel = dlc_value_numel(c);
        if (!is_const_f32(c) || c->shape.rank > 2) return DLC_OK;
        if (c->shape.rank == 2 && c->shape.dims[0].value != 1) return DLC_OK;
        if (numel == 1) bias_stride = 0;
        else if (numel != a->channels) return DLC_OK;
    }
    double beta = dlc_node_attr_float(gemm, "beta", 1.0);
    dlc_value *new_w, *new_c;
    DLC_TRY(make_weights(g, gemm, a, w, !trans_b, &new_w));
    DLC_TRY(make_bias(g, gemm, a, c != NULL ? c->data : NULL, bias_stride, beta, &new_c));
    DLC_TRY(set_input(gemm, 1, new_w));
    DLC_TRY(set_input(gemm, 2, new_c));
    DLC_TRY(set_float_attr(gemm, "beta", 1.0));
    take_over_output(g, gemm, bn);
    *out_done = true;
    return DLC_OK;
}

/* A 2-D MatMul with constant weights becomes Gemm(A, W', b'). */
static dlc_status fold_into_matmul(dlc_graph *g, dlc_node *matmul, dlc_node *bn, const bn_affine *a,
                                   bool *out_done) {
    dlc_value *lhs = matmul->inputs[0];
    const dlc_value *w = matmul->inputs[1];
    const dlc_op_schema *gemm_schema = dlc_op_find("", "Gemm");
    if (gemm_schema == NULL || lhs == NULL || lhs->shape.rank != 2) return DLC_OK;
    if (!is_const_f32(w) || w->shape.rank != 2 || w->shape.dims[1].value != a->channels) return DLC_OK;
    dlc_value *new_w, *new_b;
    DLC_TRY(make_weights(g, matmul, a, w, true, &new_w));
    DLC_TRY(make_bias(g, matmul, a, NULL, 1, 1.0, &new_b));
    char name[512];
    snprintf(name, sizeof name, "%s", matmul->name);
    int32_t opset = matmul->opset;
    dlc_value *x = bn->inputs[0], *y = bn->outputs[0];
    dlc_graph_remove_node(g, bn);
    dlc_graph_remove_node(g, matmul);
    x->producer = NULL;
    dlc_node *gemm;
    dlc_value *inputs[3] = {lhs, new_w, new_b};
    DLC_TRY(dlc_graph_add_node(g, name, "Gemm", "", opset, 3, inputs, 1, &y, &gemm));
    DLC_TRY(dlc_node_bind_schema(gemm));
    DLC_TRY(gemm->schema->infer(g, gemm));
    DLC_TRY(dlc_graph_toposort(g));
    dlc_graph_update_uses(g);
    *out_done = true;
    return DLC_OK;
}

static dlc_status try_fold(dlc_graph *g, dlc_node *bn, bool *out_done) {
    *out_done = false;
    dlc_value *x = bn->inputs[0];
    if (x == NULL || x->producer == NULL || x->num_uses != 1 || x->is_graph_output) return DLC_OK;
    dlc_node *producer = x->producer;
    if (producer->domain[0] != '\0' || producer->outputs[0] != x) return DLC_OK;
    bool is_conv = strcmp(producer->op_type, "Conv") == 0;
    bool is_gemm = strcmp(producer->op_type, "Gemm") == 0;
    bool is_matmul = strcmp(producer->op_type, "MatMul") == 0;
    if (!is_conv && !is_gemm && !is_matmul) return DLC_OK;
    if ((is_gemm || is_matmul) && x->shape.rank != 2) return DLC_OK;
    bn_affine a;
    if (!bn_affine_read(bn, &a)) return DLC_OK;
    dlc_status st = is_conv   ? fold_into_conv(g, producer, bn, &a, out_done)
                    : is_gemm ? fold_into_gemm(g, producer, bn, &a, out_done)
                              : fold_into_matmul(g, producer, bn, &a, out_done);
    bn_affine_free(&a);
    return st;
}

dlc_status dlc_pass_fold_batchnorm(dlc_graph *g, bool *out_changed) {
    *out_changed = false;
    dlc_graph_update_uses(g);
    bool progress = true;
    while (progress) {
        progress = false;
        for (int32_t i = 0; i < g->num_nodes; i++) {
            dlc_node *node = g->nodes[i];
            if (strcmp(node->op_type, "BatchNormalization") != 0 || node->domain[0] != '\0') continue;
            bool done;
            DLC_TRY(try_fold(g, node, &done));
            if (done) {
                *out_changed = progress = true;
                break; /* the node list changed */
            }
        }
    }
    if (*out_changed) {
        bool removed;
        DLC_TRY(dlc_pass_dead_code(g, &removed));
    }
    return DLC_OK;
}
