/* Random ops: RandomUniform, RandomNormal, RandomUniformLike,
 * RandomNormalLike, Bernoulli, Multinomial (kernels/random.c).
 *
 * `seed` (a float attribute in ONNX) is taken as an unsigned 32-bit integer
 * and seeds numpy's MT19937 stream (kernels/random_gen.h); without it the
 * seed is 0, so a compiled model is reproducible run to run. Every run of a
 * node draws the same values: the state is derived from the seed alone.
 * These ops are never constant-folded (passes/const_fold.c lists them), so
 * they stay nodes that run in the artifact. */
#include <math.h>

#include "ir/op_registry.h"
#include "runtime/status.h"

#define WHERE(node) dlc_node_describe((node), where, sizeof where)

/* The seed attribute as the generator's 32-bit seed (wrapping outside
 * [0, 2^32), where numpy would refuse). */
static int64_t seed_of(const dlc_node *node) {
    double seed = dlc_node_attr_float(node, "seed", 0.0);
    if (!isfinite(seed)) return 0;
    return (int64_t)(uint32_t)(int64_t)seed;
}

/* The dtype attribute, or fallback when absent; must be a float type. */
static dlc_status float_dtype_attr(const dlc_node *node, dlc_dtype fallback, dlc_dtype *out) {
    char where[256];
    dlc_dtype dtype = (dlc_dtype)dlc_node_attr_int(node, "dtype", fallback);
    if (!dlc_dtype_is_float(dtype))
        return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: dtype %s is not a floating-point type (float16, bfloat16, "
                        "float or double)", WHERE(node), dlc_dtype_name(dtype));
    *out = dtype;
    return DLC_OK;
}

/* RandomUniform / RandomNormal: shape from the `shape` attribute. */
static dlc_status generator_infer(dlc_graph *g, dlc_node *node) {
    char where[256];
    int32_t rank;
    const int64_t *dims = dlc_node_attr_ints(node, "shape", &rank);
    if (dlc_node_attr(node, "shape") == NULL)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: the shape attribute is required", WHERE(node));
    if (rank > DLC_MAX_RANK)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: shape has rank %d, more than %d", WHERE(node), (int)rank,
                        DLC_MAX_RANK);
    int64_t numel = 1;
    for (int32_t i = 0; i < rank; i++)
        if (!dlc_mul_size(numel, dims[i], &numel))
            return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: shape dim %d is %lld (negative or too large)",
                            WHERE(node), (int)i, (long long)dims[i]);
    DLC_TRY(float_dtype_attr(node, DLC_FLOAT32, &node->outputs[0]->dtype));
    node->outputs[0]->shape = dlc_shape_make(rank, dims);
    return DLC_OK;
}

/* RandomUniformLike / RandomNormalLike: shape of the input, dtype from the
 * attribute or the input. */
static dlc_status like_infer(dlc_graph *g, dlc_node *node) {
    DLC_TRY(float_dtype_attr(node, node->inputs[0]->dtype, &node->outputs[0]->dtype));
    node->outputs[0]->shape = node->inputs[0]->shape;
    return DLC_OK;
}

static dlc_status uniform_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    dlc_kcall_init(call, "random_uniform");
    DLC_TRY(dlc_kcall_push_int(call, seed_of(node)));
    DLC_TRY(dlc_kcall_push_float(call, dlc_node_attr_float(node, "low", 0.0)));
    return dlc_kcall_push_float(call, dlc_node_attr_float(node, "high", 1.0));
}

static dlc_status normal_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    dlc_kcall_init(call, "random_normal");
    DLC_TRY(dlc_kcall_push_int(call, seed_of(node)));
    DLC_TRY(dlc_kcall_push_float(call, dlc_node_attr_float(node, "mean", 0.0)));
    return dlc_kcall_push_float(call, dlc_node_attr_float(node, "scale", 1.0));
}

/* Bernoulli(p): p float, output dtype from the attribute (any numeric or
 * bool) or p's. */
static dlc_status bernoulli_infer(dlc_graph *g, dlc_node *node) {
    char where[256];
    const dlc_value *p = node->inputs[0];
    if (!dlc_dtype_is_float(p->dtype))
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: input '%s' holds probabilities, so it must be float, not %s",
                        WHERE(node), p->name, dlc_dtype_name(p->dtype));
    dlc_dtype dtype = (dlc_dtype)dlc_node_attr_int(node, "dtype", p->dtype);
    if (dlc_dtype_size(dtype) == 0 || dtype == DLC_COMPLEX64 || dtype == DLC_COMPLEX128)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "node %s: output dtype %s is not supported", WHERE(node),
                        dlc_dtype_name(dtype));
    node->outputs[0]->dtype = dtype;
    node->outputs[0]->shape = p->shape;
    return DLC_OK;
}

static dlc_status bernoulli_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    dlc_kcall_init(call, "bernoulli");
    return dlc_kcall_push_int(call, seed_of(node));
}

/* Multinomial(input [batch, classes] of log-probabilities) -> [batch,
 * sample_size] of class indices, int32 (default) or int64. */
static dlc_status multinomial_infer(dlc_graph *g, dlc_node *node) {
    char where[256];
    const dlc_value *x = node->inputs[0];
    if (!dlc_dtype_is_float(x->dtype) || x->shape.rank != 2)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: input '%s' must be a float [batch_size, class_size] "
                        "tensor (rank %d, %s)", WHERE(node), x->name, (int)x->shape.rank, dlc_dtype_name(x->dtype));
    int64_t samples = dlc_node_attr_int(node, "sample_size", 1);
    if (samples < 1)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: sample_size %lld must be positive", WHERE(node),
                        (long long)samples);
    dlc_dtype dtype = (dlc_dtype)dlc_node_attr_int(node, "dtype", DLC_INT32);
    if (dtype != DLC_INT32 && dtype != DLC_INT64)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "node %s: dtype %s must be int32 or int64", WHERE(node),
                        dlc_dtype_name(dtype));
    node->outputs[0]->dtype = dtype;
    node->outputs[0]->shape = x->shape;
    node->outputs[0]->shape.dims[1] = (dlc_dim){.value = samples};
    return DLC_OK;
}

static dlc_status multinomial_lower(const dlc_graph *g, const dlc_node *node, dlc_kcall *call) {
    dlc_kcall_init(call, "multinomial");
    DLC_TRY(dlc_kcall_push_int(call, seed_of(node)));
    return dlc_kcall_push_int(call, dlc_node_attr_int(node, "sample_size", 1));
}

const dlc_op_schema dlc_ops_random[] = {
    {"RandomUniform", "", 1, 0, 0, 1, 1, generator_infer, uniform_lower, NULL, 0},
    {"RandomNormal", "", 1, 0, 0, 1, 1, generator_infer, normal_lower, NULL, 0},
    {"RandomUniformLike", "", 1, 1, 1, 1, 1, like_infer, uniform_lower, NULL, 0},
    {"RandomNormalLike", "", 1, 1, 1, 1, 1, like_infer, normal_lower, NULL, 0},
    {"Bernoulli", "", 15, 1, 1, 1, 1, bernoulli_infer, bernoulli_lower, NULL, 0},
    {"Multinomial", "", 7, 1, 1, 1, 1, multinomial_infer, multinomial_lower, NULL, 0},
    {0},
};
