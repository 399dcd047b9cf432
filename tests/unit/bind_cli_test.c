/* dlc compile --bind / --bind-value and dlc run on a model whose Reshape
 * takes its shape as a graph input: the artifact keeps the input, computes
 * with the bound value, and a run with another value is refused naming both. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "frontend/tensor_file.h"
#include "onnx/onnx.pb-c.h"

#define DLC DLC_BINARY_DIR "/dlc"

static char tmp[256];
static char out_text[1 << 14], err_text[1 << 14];

static void make_tmp(void) {
    snprintf(tmp, sizeof tmp, "/tmp/dlc-bind-cli-XXXXXX");
    cr_assert_not_null(mkdtemp(tmp));
}

static void remove_tmp(void) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(bind_cli, .init = make_tmp, .fini = remove_tmp, .timeout = 300);

static void slurp(const char *path, char *buf, size_t size) {
    buf[0] = '\0';
    FILE *f = fopen(path, "rb");
    if (f == NULL) return;
    size_t n = fread(buf, 1, size - 1, f);
    buf[n] = '\0';
    fclose(f);
}

/* Runs `dlc ARGS` in tmp, keeps stdout/stderr, returns the exit code. */
static int dlc(const char *args) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "cd '%s' && %s %s >stdout.txt 2>stderr.txt </dev/null", tmp, DLC, args);
    int status = system(cmd);
    char path[512];
    snprintf(path, sizeof path, "%s/stdout.txt", tmp);
    slurp(path, out_text, sizeof out_text);
    snprintf(path, sizeof path, "%s/stderr.txt", tmp);
    slurp(path, err_text, sizeof err_text);
    cr_assert(WIFEXITED(status), "dlc %s: did not exit normally (crash?)", args);
    return WEXITSTATUS(status);
}

/* Every allocation of the model under construction, freed once it is written. */
static void *allocs[64];
static int num_allocs;

static void *zalloc(size_t size) {
    cr_assert_lt(num_allocs, 64);
    void *p = calloc(1, size);
    cr_assert_not_null(p);
    return allocs[num_allocs++] = p;
}

static Onnx__ValueInfoProto *value_info(const char *name, int32_t elem_type, int rank, const int64_t *dims) {
    Onnx__ValueInfoProto *vi = zalloc(sizeof *vi);
    Onnx__TypeProto *tp = zalloc(sizeof *tp);
    Onnx__TypeProto__Tensor *tt = zalloc(sizeof *tt);
    onnx__value_info_proto__init(vi);
    onnx__type_proto__init(tp);
    onnx__type_proto__tensor__init(tt);
    vi->name = (char *)name;
    vi->type = tp;
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tt;
    tt->has_elem_type = 1;
    tt->elem_type = elem_type;
    if (rank >= 0) {
        Onnx__TensorShapeProto *shape = zalloc(sizeof *shape);
        onnx__tensor_shape_proto__init(shape);
        shape->n_dim = (size_t)rank;
        shape->dim = zalloc(((size_t)rank + 1) * sizeof *shape->dim);
        for (int d = 0; d < rank; d++) {
            shape->dim[d] = zalloc(sizeof **shape->dim);
            onnx__tensor_shape_proto__dimension__init(shape->dim[d]);
            shape->dim[d]->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            shape->dim[d]->dim_value = dims[d];
        }
        tt->shape = shape;
    }
    return vi;
}

/* y = Reshape(x float[2,3], shape int64[2]), opset 14, written to tmp/reshape.onnx. */
static void write_reshape_model(void) {
    static char *node_inputs[2] = {"x", "shape"}, *node_outputs[1] = {"y"};
    Onnx__NodeProto *node = zalloc(sizeof *node);
    onnx__node_proto__init(node);
    node->op_type = "Reshape";
    node->name = "reshape";
    node->n_input = 2, node->input = node_inputs;
    node->n_output = 1, node->output = node_outputs;
    Onnx__GraphProto graph = ONNX__GRAPH_PROTO__INIT;
    graph.name = "bind";
    graph.n_node = 1, graph.node = &node;
    Onnx__ValueInfoProto *inputs[2] = {value_info("x", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 2, (int64_t[]){2, 3}),
                                       value_info("shape", ONNX__TENSOR_PROTO__DATA_TYPE__INT64, 1, (int64_t[]){2})};
    Onnx__ValueInfoProto *outputs[1] = {value_info("y", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, -1, NULL)};
    graph.n_input = 2, graph.input = inputs;
    graph.n_output = 1, graph.output = outputs;
    Onnx__OperatorSetIdProto opset = ONNX__OPERATOR_SET_ID_PROTO__INIT, *opsets[1] = {&opset};
    opset.domain = "";
    opset.has_version = 1, opset.version = 14;
    Onnx__ModelProto model = ONNX__MODEL_PROTO__INIT;
    model.has_ir_version = 1, model.ir_version = 8;
    model.graph = &graph;
    model.n_opset_import = 1, model.opset_import = opsets;
    size_t size = onnx__model_proto__get_packed_size(&model);
    uint8_t *buf = malloc(size);
    onnx__model_proto__pack(&model, buf);
    char path[512];
    snprintf(path, sizeof path, "%s/reshape.onnx", tmp);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(buf, 1, size, f), size);
    fclose(f);
    free(buf);
    while (num_allocs > 0) free(allocs[--num_allocs]);
}

static void write_tensor(const char *file, const char *name, dlc_dtype dtype, int32_t rank, const int64_t *dims,
                         void *data, size_t bytes) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmp, file);
    dlc_tensor t = {.dtype = dtype, .rank = rank, .data = data, .size_bytes = bytes};
    memcpy(t.dims, dims, (size_t)rank * sizeof *dims);
    cr_assert_eq(dlc_tensor_file_write(path, name, &t), DLC_OK, "%s", dlc_last_error());
}

static void write_inputs(void) {
    float x[6] = {1, 2, 3, 4, 5, 6};
    int64_t s32[2] = {3, 2}, s16[2] = {1, 6};
    write_tensor("x.pb", "x", DLC_FLOAT32, 2, (int64_t[]){2, 3}, x, sizeof x);
    write_tensor("s32.pb", "shape", DLC_INT64, 1, (int64_t[]){2}, s32, sizeof s32);
    write_tensor("s16.pb", "shape", DLC_INT64, 1, (int64_t[]){2}, s16, sizeof s16);
}

Test(bind_cli, bind_value_compiles_and_runs_with_that_value_only) {
    write_reshape_model();
    write_inputs();
    cr_assert_eq(dlc("compile reshape.onnx -o m.so --bind-value shape=3,-1 -q"), 0, "%s", err_text);
    cr_assert_eq(dlc("run m.so -i x.pb -i s16.pb"), 1);
    cr_assert(strstr(err_text, "input 'shape' was bound to [3,-1] at compile time (dlc compile --bind); got [1,6]; "
                               "recompile to change it") != NULL,
              "%s", err_text);
    /* a run must pass the bound value itself: 3,-1, not its meaning 3,2 */
    int64_t same[2] = {3, -1};
    write_tensor("same.pb", "shape", DLC_INT64, 1, (int64_t[]){2}, same, sizeof same);
    cr_assert_eq(dlc("run m.so -i x.pb -i same.pb -o out"), 0, "%s", err_text);
    cr_assert(strstr(out_text, "float32[3,2]") != NULL, "%s", out_text);
}

Test(bind_cli, bind_file_and_run_onnx) {
    write_reshape_model();
    write_inputs();
    cr_assert_eq(dlc("compile reshape.onnx -o m.so --bind shape=s16.pb -q"), 0, "%s", err_text);
    cr_assert_eq(dlc("run m.so -i x.pb -i s16.pb"), 0, "%s", err_text);
    cr_assert(strstr(out_text, "float32[1,6]") != NULL, "%s", out_text);
    /* dlc run on the .onnx binds the shape input to the value it is given */
    cr_assert_eq(dlc("run reshape.onnx -i x.pb -i s32.pb"), 0, "%s", err_text);
    cr_assert(strstr(out_text, "float32[3,2]") != NULL, "%s", out_text);
    cr_assert(strstr(err_text, "binding input 'shape'") != NULL, "%s", err_text);
}

Test(bind_cli, bad_bindings_are_one_clear_error) {
    write_reshape_model();
    write_inputs();
    cr_assert_eq(dlc("compile reshape.onnx -o m.so --bind-value shap=3,2 -q"), 1);
    cr_assert(strstr(err_text, "the model has no input 'shap'") != NULL, "%s", err_text);
    cr_assert_eq(dlc("compile reshape.onnx -o m.so --bind-value shape=3,x -q"), 1);
    cr_assert(strstr(err_text, "'x' is not a int64 value") != NULL, "%s", err_text);
    cr_assert_eq(dlc("compile reshape.onnx -o m.so --bind-value shape=6 -q"), 1);
    cr_assert(strstr(err_text, "input 'shape' is [2], the value given is [1]") != NULL, "%s", err_text);
    cr_assert_eq(dlc("compile reshape.onnx -o m.so --bind-value shape -q"), 2);
    cr_assert_eq(dlc("compile reshape.onnx -o m.so -q"), 1, "an unbound shape input cannot compile");
    cr_assert(strstr(err_text, "Reshape") != NULL, "%s", err_text);
    char so[512];
    snprintf(so, sizeof so, "%s/m.so", tmp);
    cr_assert_eq(access(so, F_OK), -1, "a failed compile leaves no artifact");
    cr_assert_eq(dlc("compile reshape.onnx -o m.so --bind-value shape=3,2 -q"), 0, "%s", err_text);
    cr_assert_eq(dlc("run m.so --bind-value shape=3,2 -i x.pb -i s32.pb"), 2, "--bind goes with an .onnx");
}

/* dlc test binds the shape input from each data set (two sets, two values)
 * and names it on the PASS line. */
Test(bind_cli, test_rebinds_per_data_set_and_says_so) {
    write_reshape_model();
    write_inputs();
    float x[6] = {1, 2, 3, 4, 5, 6};
    const char *setup = "mkdir -p case/test_data_set_0 case/test_data_set_1 && cp reshape.onnx case/model.onnx && "
                        "cp x.pb case/test_data_set_0/input_0.pb && cp s32.pb case/test_data_set_0/input_1.pb && "
                        "cp x.pb case/test_data_set_1/input_0.pb && cp s16.pb case/test_data_set_1/input_1.pb";
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cd '%s' && %s", tmp, setup);
    cr_assert_eq(system(cmd), 0);
    write_tensor("case/test_data_set_0/output_0.pb", "y", DLC_FLOAT32, 2, (int64_t[]){3, 2}, x, sizeof x);
    write_tensor("case/test_data_set_1/output_0.pb", "y", DLC_FLOAT32, 2, (int64_t[]){1, 6}, x, sizeof x);
    cr_assert_eq(dlc("test case"), 0, "%s%s", out_text, err_text);
    cr_assert(strstr(out_text, "PASS case (bound: shape)\n") != NULL, "%s", out_text);
    cr_assert_eq(err_text[0], '\0', "no binding notices on stderr: %s", err_text);
}
