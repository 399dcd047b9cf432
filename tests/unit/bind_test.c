/* Binding an input that decides shapes (here Reshape's shape) to a value at
 * compile time: the artifact keeps the input, computes with the bound value,
 * and refuses a run whose input differs, naming the input. */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <string.h>
#include <unistd.h>

#include "codegen/compile.h"
#include "dlc/dlc_artifact.h"
#include "ir/op_registry.h"
#include "runtime/bound_inputs.h"

static dlc_graph *reshape_graph(dlc_value **out_shape_input) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create("bind", &g), DLC_OK);
    dlc_shape xs = dlc_shape_make(2, (int64_t[]){2, 3}), ss = dlc_shape_make(1, (int64_t[]){2}), unknown = {.rank = -1};
    dlc_value *x, *shape, *y;
    cr_assert_eq(dlc_graph_add_value(g, "x", DLC_VALUE_INPUT, DLC_FLOAT32, &xs, &x), DLC_OK);
    cr_assert_eq(dlc_graph_add_value(g, "shape", DLC_VALUE_INPUT, DLC_INT64, &ss, &shape), DLC_OK);
    cr_assert_eq(dlc_graph_add_value(g, "y", DLC_VALUE_INTERMEDIATE, DLC_DTYPE_UNDEFINED, &unknown, &y), DLC_OK);
    dlc_node *n;
    cr_assert_eq(dlc_graph_add_node(g, "reshape", "Reshape", "", 14, 2, (dlc_value *[]){x, shape}, 1, &y, &n), DLC_OK);
    g->outputs = malloc(sizeof *g->outputs);
    g->outputs[0] = y;
    g->num_outputs = 1;
    *out_shape_input = shape;
    return g;
}

Test(bind, shape_input_is_known_to_decide_shapes) {
    dlc_value *shape;
    dlc_graph *g = reshape_graph(&shape);
    cr_assert(dlc_value_decides_shapes(g, shape));
    cr_assert_not(dlc_value_decides_shapes(g, g->inputs[0]), "the data input does not decide shapes");
    dlc_graph_free(g);
}

Test(bind, unbound_shape_input_is_a_clear_error) {
    dlc_value *shape;
    dlc_graph *g = reshape_graph(&shape);
    dlc_compile_options opts;
    dlc_compile_options_init(&opts);
    cr_assert_eq(dlc_compile_graph(g, &opts, "/tmp/dlc-bind-never.so"), DLC_ERR_UNSUPPORTED);
    cr_assert(strstr(dlc_last_error(), "Reshape") != NULL, "%s", dlc_last_error());
    cr_assert_neq(access("/tmp/dlc-bind-never.so", F_OK), 0);
    dlc_graph_free(g);
}

Test(bind, bound_artifact_runs_and_refuses_other_values) {
    dlc_value *shape;
    dlc_graph *g = reshape_graph(&shape);
    int64_t bound[2] = {3, 2};
    dlc_tensor value = {.dtype = DLC_INT64, .rank = 1, .dims = {2}, .data = bound, .size_bytes = sizeof bound};
    dlc_input_value binding = {"shape", &value};
    dlc_compile_options opts;
    dlc_compile_options_init(&opts);
    opts.input_values = &binding;
    opts.num_input_values = 1;
    char dir[] = "/tmp/dlc-bind-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char so[128];
    snprintf(so, sizeof so, "%s/m.so", dir);
    cr_assert_eq(dlc_compile_graph(g, &opts, so), DLC_OK, "%s", dlc_last_error());
    dlc_graph_free(g);

    dlc_model *model;
    cr_assert_eq(dlc_model_load(so, &model), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(dlc_model_num_inputs(model), 2, "a bound input stays in the interface");
    dlc_session *session;
    cr_assert_eq(dlc_session_create(model, NULL, &session), DLC_OK);
    float x[6] = {1, 2, 3, 4, 5, 6}, y[6] = {0};
    int64_t given[2] = {3, 2};
    dlc_tensor in[2] = {{.dtype = DLC_FLOAT32, .rank = 2, .dims = {2, 3}, .data = x, .size_bytes = sizeof x},
                        {.dtype = DLC_INT64, .rank = 1, .dims = {2}, .data = given, .size_bytes = sizeof given}};
    dlc_tensor out = {.dtype = DLC_FLOAT32, .rank = 2, .dims = {3, 2}, .data = y, .size_bytes = sizeof y};
    cr_assert_eq(dlc_session_run(session, in, 2, &out, 1), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(y[5], 6.0f);

    given[0] = 6, given[1] = 1;
    cr_assert_eq(dlc_session_run(session, in, 2, &out, 1), DLC_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(dlc_last_error(),
                     "input 'shape' was bound to [3,2] at compile time (dlc compile --bind); got [6,1]; recompile "
                     "to change it") != NULL,
              "%s", dlc_last_error());
    cr_assert_eq(y[5], 6.0f, "a refused run leaves the outputs alone");

    dlc_session_free(session);
    dlc_model_free(model);
    unlink(so);
    rmdir(dir);
}

/* The artifact records the bound value in its descriptor (ABI version 2), so
 * whoever loads it sees which inputs are fixed; other inputs record none. */
Test(bind, descriptor_records_the_bound_value) {
    dlc_value *shape;
    dlc_graph *g = reshape_graph(&shape);
    int64_t bound[2] = {1, -1};
    dlc_tensor value = {.dtype = DLC_INT64, .rank = 1, .dims = {2}, .data = bound, .size_bytes = sizeof bound};
    dlc_input_value binding = {"shape", &value};
    dlc_compile_options opts;
    dlc_compile_options_init(&opts);
    opts.input_values = &binding;
    opts.num_input_values = 1;
    char dir[] = "/tmp/dlc-bind-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char so[128];
    snprintf(so, sizeof so, "%s/m.so", dir);
    cr_assert_eq(dlc_compile_graph(g, &opts, so), DLC_OK, "%s", dlc_last_error());
    dlc_graph_free(g);

    void *handle = dlopen(so, RTLD_NOW | RTLD_LOCAL);
    cr_assert_not_null(handle, "%s", dlerror());
    dlc_artifact_describe_fn describe = (dlc_artifact_describe_fn)dlsym(handle, DLC_ARTIFACT_ENTRY);
    cr_assert_not_null(describe);
    const dlc_artifact_desc *desc = describe();
    cr_assert_geq(desc->abi_version, 2u); /* bound_value since ABI 2 */
    cr_assert_eq(desc->num_inputs, 2);
    cr_assert_null(desc->inputs[0].bound_value);
    cr_assert_eq(desc->inputs[0].bound_value_size, 0u);
    cr_assert_eq(desc->inputs[1].bound_value_size, sizeof bound);
    cr_assert_eq(memcmp(desc->inputs[1].bound_value, bound, sizeof bound), 0);
    cr_assert_null(desc->outputs[0].bound_value);
    dlclose(handle);

    /* through libdlcrt: the right value runs, another is refused naming both */
    dlc_model *model;
    cr_assert_eq(dlc_model_load(so, &model), DLC_OK, "%s", dlc_last_error());
    dlc_session *session;
    cr_assert_eq(dlc_session_create(model, NULL, &session), DLC_OK);
    float x[6] = {1, 2, 3, 4, 5, 6}, y[6] = {0};
    int64_t given[2] = {1, -1};
    dlc_tensor in[2] = {{.dtype = DLC_FLOAT32, .rank = 2, .dims = {2, 3}, .data = x, .size_bytes = sizeof x},
                        {.dtype = DLC_INT64, .rank = 1, .dims = {2}, .data = given, .size_bytes = sizeof given}};
    dlc_tensor out = {.dtype = DLC_FLOAT32, .rank = 2, .dims = {1, 6}, .data = y, .size_bytes = sizeof y};
    cr_assert_eq(dlc_session_run(session, in, 2, &out, 1), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(y[3], 4.0f);
    given[0] = 2, given[1] = 3;
    cr_assert_eq(dlc_session_run(session, in, 2, &out, 1), DLC_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(dlc_last_error(), "input 'shape' was bound to [1,-1] at compile time (dlc compile --bind); got "
                                       "[2,3]; recompile to change it") != NULL,
              "%s", dlc_last_error());
    dlc_session_free(session);
    dlc_model_free(model);
    unlink(so);
    rmdir(dir);
}

Test(bind, values_are_formatted_briefly) {
    char buf[256];
    float f[2] = {0.5f, -2.0f};
    cr_assert_str_eq(dlc_format_tensor_values(DLC_FLOAT32, f, sizeof f, buf, sizeof buf), "[0.5,-2]");
    int32_t many[20];
    for (int i = 0; i < 20; i++) many[i] = i;
    cr_assert_str_eq(dlc_format_tensor_values(DLC_INT32, many, sizeof many, buf, sizeof buf),
                     "[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,...]");
    cr_assert_str_eq(dlc_format_tensor_values(DLC_INT64, NULL, 0, buf, sizeof buf), "[]");
    uint8_t b = 1;
    cr_assert_str_eq(dlc_format_tensor_values(DLC_BOOL, &b, 1, buf, sizeof buf), "[1]");
    char tiny[4];
    dlc_format_tensor_values(DLC_INT32, many, sizeof many, tiny, sizeof tiny);
    cr_assert_eq(strlen(tiny), 3u, "truncated, still terminated");
}
