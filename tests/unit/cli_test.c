/* The dlc command line, run as a user would: exit codes, the one-line error
 * messages, and `dlc test` on the bundled model and the zoo. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "frontend/tensor_file.h"

#define DLC DLC_BINARY_DIR "/dlc"
#define MNIST DLC_SOURCE_DIR "/models/mlp_mnist"
#define ZOO DLC_SOURCE_DIR "/../shared/zoo"

static char tmp[256];
static char out_text[1 << 16], err_text[1 << 16];

static void make_tmp(void) {
    snprintf(tmp, sizeof tmp, "/tmp/dlc-cli-test-XXXXXX");
    cr_assert_not_null(mkdtemp(tmp));
}

static void remove_tmp(void) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(cli, .init = make_tmp, .fini = remove_tmp, .timeout = 600);

static void slurp(const char *path, char *buf, size_t size) {
    buf[0] = '\0';
    FILE *f = fopen(path, "rb");
    if (f == NULL) return;
    size_t n = fread(buf, 1, size - 1, f);
    buf[n] = '\0';
    fclose(f);
}

/* Runs `dlc ARGS`, keeps stdout/stderr in out_text/err_text, returns the exit code. */
static int dlc(const char *args) {
    char cmd[8192], out_path[300], err_path[300];
    snprintf(out_path, sizeof out_path, "%s/stdout.txt", tmp);
    snprintf(err_path, sizeof err_path, "%s/stderr.txt", tmp);
    snprintf(cmd, sizeof cmd, "%s %s >%s 2>%s </dev/null", DLC, args, out_path, err_path);
    int status = system(cmd);
    slurp(out_path, out_text, sizeof out_text);
    slurp(err_path, err_text, sizeof err_text);
    cr_assert(WIFEXITED(status), "dlc %s: did not exit normally (crash?)", args);
    return WEXITSTATUS(status);
}

/* One "dlc: error: ..." line and nothing else on stderr. */
static void assert_one_error_line(const char *must_contain) {
    cr_assert(strncmp(err_text, "dlc: error: ", 12) == 0, "stderr: %s", err_text);
    const char *newline = strchr(err_text, '\n');
    cr_assert(newline != NULL && newline[1] == '\0', "expected one line, stderr: %s", err_text);
    if (must_contain) cr_assert(strstr(err_text, must_contain) != NULL, "'%s' not in: %s", must_contain, err_text);
}

static void write_file(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(data, 1, n, f), n);
    fclose(f);
}

/* ---- a hand-serialized ONNX model with an op nobody implements ---- */

typedef struct pb {
    unsigned char data[1024];
    size_t len;
} pb;

static void pb_varint(pb *b, uint64_t v) {
    do {
        unsigned char byte = v & 0x7f;
        v >>= 7;
        b->data[b->len++] = byte | (v ? 0x80 : 0);
    } while (v);
}
static void pb_int(pb *b, int field, uint64_t v) {
    pb_varint(b, (uint64_t)field << 3);
    pb_varint(b, v);
}
static void pb_bytes(pb *b, int field, const void *data, size_t n) {
    pb_varint(b, (uint64_t)field << 3 | 2);
    pb_varint(b, n);
    memcpy(b->data + b->len, data, n);
    b->len += n;
}
static void pb_str(pb *b, int field, const char *s) { pb_bytes(b, field, s, strlen(s)); }
static void pb_msg(pb *b, int field, const pb *m) { pb_bytes(b, field, m->data, m->len); }

/* ValueInfoProto{name, type{tensor_type{elem_type float, shape [2]}}} */
static pb value_info(const char *name) {
    pb dim = {0}, shape = {0}, tensor = {0}, type = {0}, info = {0};
    pb_int(&dim, 1, 2);
    pb_msg(&shape, 1, &dim);
    pb_int(&tensor, 1, 1);
    pb_msg(&tensor, 2, &shape);
    pb_msg(&type, 1, &tensor);
    pb_str(&info, 1, name);
    pb_msg(&info, 2, &type);
    return info;
}

static void write_unknown_op_model(const char *path) {
    pb node = {0}, graph = {0}, opset = {0}, model = {0};
    pb_str(&node, 1, "x");
    pb_str(&node, 2, "y");
    pb_str(&node, 3, "mystery");
    pb_str(&node, 4, "FooBarOp");
    pb_msg(&graph, 1, &node);
    pb_str(&graph, 2, "g");
    pb in = value_info("x"), out = value_info("y");
    pb_msg(&graph, 11, &in);
    pb_msg(&graph, 12, &out);
    pb_int(&opset, 2, 13);
    pb_int(&model, 1, 8);
    pb_msg(&model, 8, &opset);
    pb_msg(&model, 7, &graph);
    write_file(path, model.data, model.len);
}

/* ---- general ---- */

Test(cli, version_and_help) {
    cr_assert_eq(dlc("--version"), 0);
    cr_assert(strstr(out_text, "dlc " DLC_VERSION_STRING) != NULL, "%s", out_text);
    cr_assert_eq(dlc("--help"), 0);
    cr_assert(strstr(out_text, "compile") && strstr(out_text, "test") && strstr(out_text, "inspect"));
    const char *commands[] = {"compile", "run", "test", "inspect", "bench", "profile"};
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        char args[64];
        snprintf(args, sizeof args, "%s --help", commands[i]);
        cr_assert_eq(dlc(args), 0, "%s", args);
        cr_assert(strstr(out_text, "usage: dlc ") != NULL, "%s: %s", args, out_text);
    }
}

Test(cli, usage_errors_exit_2) {
    cr_assert_eq(dlc("frobnicate"), 2);
    cr_assert(strstr(err_text, "unknown command 'frobnicate'"), "%s", err_text);
    cr_assert_eq(dlc("compile"), 2);
    cr_assert(strstr(err_text, "no model given"), "%s", err_text);
    cr_assert_eq(dlc("compile " MNIST "/model.onnx -O7"), 2);
    cr_assert_eq(dlc("compile " MNIST "/model.onnx --no-such-option"), 2);
    cr_assert_eq(dlc("run " MNIST "/model.onnx --shape garbage"), 2);
    cr_assert_eq(dlc("test"), 2);
}

/* ---- errors: one line, exit 1, never a crash ---- */

Test(cli, missing_file) {
    char args[600];
    snprintf(args, sizeof args, "compile %s/does_not_exist.onnx -o %s/x.so", tmp, tmp);
    cr_assert_eq(dlc(args), 1);
    assert_one_error_line("does_not_exist.onnx");
    snprintf(args, sizeof args, "run %s/does_not_exist.so -i " MNIST "/test_data_set_0/input_0.pb", tmp);
    cr_assert_eq(dlc(args), 1);
    assert_one_error_line("does_not_exist.so");
}

Test(cli, garbage_model) {
    char path[300], args[700];
    snprintf(path, sizeof path, "%s/garbage.onnx", tmp);
    unsigned char junk[4096];
    for (size_t i = 0; i < sizeof junk; i++) junk[i] = (unsigned char)(i * 2654435761u >> 13);
    write_file(path, junk, sizeof junk);
    snprintf(args, sizeof args, "compile %s -o %s/x.so", path, tmp);
    cr_assert_eq(dlc(args), 1);
    assert_one_error_line("garbage.onnx");
    snprintf(args, sizeof args, "inspect %s", path);
    cr_assert_eq(dlc(args), 1);
    assert_one_error_line(NULL);
    /* a garbage artifact too */
    snprintf(path, sizeof path, "%s/garbage.so", tmp);
    write_file(path, junk, sizeof junk);
    snprintf(args, sizeof args, "run %s -i " MNIST "/test_data_set_0/input_0.pb", path);
    cr_assert_eq(dlc(args), 1);
    assert_one_error_line(NULL);
}

Test(cli, unknown_op_is_named) {
    char path[300], args[700];
    snprintf(path, sizeof path, "%s/unknown.onnx", tmp);
    write_unknown_op_model(path);
    snprintf(args, sizeof args, "compile %s -o %s/x.so", path, tmp);
    cr_assert_eq(dlc(args), 1);
    assert_one_error_line("FooBarOp");
    cr_assert(strstr(err_text, "mystery") != NULL, "the node is named: %s", err_text);
}

Test(cli, run_with_a_wrong_shaped_input_names_both_shapes) {
    char path[300], args[900];
    snprintf(path, sizeof path, "%s/wrong.pb", tmp);
    static float data[3 * 32 * 32];
    dlc_tensor t = {.dtype = DLC_FLOAT32, .rank = 4, .dims = {1, 3, 32, 32}, .data = data, .size_bytes = sizeof data};
    cr_assert_eq(dlc_tensor_file_write(path, "input", &t), DLC_OK, "%s", dlc_last_error());
    /* through a compiled artifact, and through an .onnx compiled on the fly */
    snprintf(args, sizeof args, "compile " MNIST "/model.onnx -q -o %s/mnist.so", tmp);
    cr_assert_eq(dlc(args), 0, "%s", err_text);
    snprintf(args, sizeof args, "run %s/mnist.so -i %s", tmp, path);
    cr_assert_eq(dlc(args), 1);
    assert_one_error_line("'input'");
    cr_assert(strstr(err_text, "[1,3,32,32]") && strstr(err_text, "[1,1,28,28]"), "%s", err_text);
    snprintf(args, sizeof args, "run " MNIST "/model.onnx -i %s", path);
    cr_assert_eq(dlc(args), 1);
    assert_one_error_line("'input'");
    cr_assert(strstr(err_text, "[1,3,32,32]") && strstr(err_text, "[1,1,28,28]"), "%s", err_text);
}

/* ---- commands that work ---- */

Test(cli, run_writes_outputs_matching_the_reference) {
    char args[900], path[300];
    snprintf(args, sizeof args, "run " MNIST "/model.onnx -i " MNIST "/test_data_set_0/input_0.pb -o %s/out", tmp);
    cr_assert_eq(dlc(args), 0, "%s", err_text);
    cr_assert(strstr(out_text, "output 'output' float32[1,10]") != NULL, "%s", out_text);
    snprintf(path, sizeof path, "%s/out/output_0.pb", tmp);
    dlc_owned_tensor got, want;
    cr_assert_eq(dlc_tensor_file_read(path, &got), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(dlc_tensor_file_read(MNIST "/test_data_set_0/output_0.pb", &want), DLC_OK);
    cr_assert_str_eq(got.name, "output");
    cr_assert_eq(got.tensor.size_bytes, want.tensor.size_bytes);
    const float *a = got.tensor.data, *b = want.tensor.data;
    for (size_t i = 0; i < want.tensor.size_bytes / sizeof(float); i++)
        cr_assert_float_eq(a[i], b[i], 1e-4, "index %zu", i);
    dlc_owned_tensor_free(&got);
    dlc_owned_tensor_free(&want);
}

Test(cli, inspect_describes_the_model) {
    cr_assert_eq(dlc("inspect " MNIST "/model.onnx --ir"), 0, "%s", err_text);
    cr_assert(strstr(out_text, "Gemm") != NULL, "%s", out_text);
    cr_assert(strstr(out_text, "parameters") != NULL, "%s", out_text);
    cr_assert(strstr(out_text, "FLOPs") != NULL, "%s", out_text);
    cr_assert(strstr(out_text, "float32[1,1,28,28]") != NULL, "%s", out_text);
    cr_assert(strstr(out_text, "= Gemm(") != NULL, "the IR is printed: %s", out_text);
}

/* bert_tiny's Range(0, seq) has no length until seq is known: the summary
 * still comes out, with a note naming the node, and not as an error. */
Test(cli, inspect_summarizes_a_dynamic_model) {
    cr_assert_eq(dlc("inspect " ZOO "/bert_tiny/model.onnx"), 0, "%s", err_text);
    cr_assert(strstr(out_text, "int64[batch,seq]") != NULL, "%s", out_text);
    cr_assert(strstr(out_text, "inferred only up to") && strstr(out_text, "'/Range'"), "%s", out_text);
    cr_assert_eq(dlc("inspect " ZOO "/bert_tiny/model.onnx --shape input_ids=1,8 --shape attention_mask=1,8"), 0,
                 "%s", err_text);
    cr_assert(strstr(out_text, "FLOPs       ") && !strstr(out_text, "unknown"), "%s", out_text);
}

Test(cli, bench_prints_percentiles) {
    cr_assert_eq(dlc("bench " MNIST "/model.onnx --runs 5 --warmup 1"), 0, "%s", err_text);
    cr_assert(strstr(out_text, "median") && strstr(out_text, "p90") && strstr(out_text, "p99"), "%s", out_text);
}

/* --batch N: a model with a symbolic batch is compiled for N and reports
 * N items per run; a fixed batch is refused, naming the input. */
Test(cli, bench_batch_sets_dim_zero_and_reports_throughput) {
    const char *model = DLC_SOURCE_DIR "/tests/data/dynamic/equal_at_two.onnx";
    char args[512];
    snprintf(args, sizeof args, "bench %s --batch 3 --runs 3 --warmup 1 --peak 100", model);
    cr_assert_eq(dlc(args), 0, "%s", err_text);
    cr_assert(strstr(out_text, "inferences/s at the median (batch 3)") != NULL, "%s", out_text);
    cr_assert(strstr(out_text, "GFLOP per run") != NULL, "compiled for batch 3, FLOPs known: %s", out_text);
    cr_assert_neq(dlc("bench " MNIST "/model.onnx --batch 2 --runs 2"), 0);
    assert_one_error_line("has a fixed batch");
    cr_assert_neq(dlc("bench " MNIST "/model.onnx --batch 0"), 0);
    cr_assert(strstr(err_text, "--batch '0': expected a positive number") != NULL, "%s", err_text);
}

Test(cli, bench_reports_gflops_against_the_peak) {
    cr_assert_eq(dlc("bench " MNIST "/model.onnx --runs 3 --warmup 1 --peak 100"), 0, "%s", err_text);
    cr_assert(strstr(out_text, "GFLOP/s at the median") && strstr(out_text, "of the 100.0 GFLOP/s peak"), "%s",
              out_text);
}

/* MNIST's MLP has two Gemm kernels, the first with its Relu fused: one line
 * per kernel call (then per op type), the kernel shares adding up to the
 * whole. */
/* An artifact compiled for every size counts its FLOPs at the run's sizes
 * (dynamic_test checks the counts against static compiles): profile and
 * bench show GFLOP/s for it. */
Test(cli, every_size_artifact_shows_gflops_at_the_runs_size) {
    char so[512], in[512], args[2048];
    snprintf(so, sizeof so, "%s/every.so", tmp);
    snprintf(in, sizeof in, "%s/x.pb", tmp);
    snprintf(args, sizeof args, "compile " DLC_SOURCE_DIR "/tests/data/dynamic/equal_at_two.onnx -o %s -q", so);
    cr_assert_eq(dlc(args), 0, "%s", err_text);
    float data[3 * 4] = {0};
    dlc_tensor t = {.dtype = DLC_FLOAT32, .rank = 2, .dims = {3, 4}, .data = data, .size_bytes = sizeof data};
    cr_assert_eq(dlc_tensor_file_write(in, "x", &t), DLC_OK, "%s", dlc_last_error());
    snprintf(args, sizeof args, "bench %s -i %s --runs 2 --warmup 0 --peak 100", so, in);
    cr_assert_eq(dlc(args), 0, "%s", err_text);
    cr_assert(strstr(out_text, "GFLOP per run") && strstr(out_text, "of the 100.0 GFLOP/s peak") &&
                  !strstr(out_text, "not shown"),
              "%s", out_text);
    snprintf(args, sizeof args, "profile %s -i %s --runs 2 --peak 100", so, in);
    cr_assert_eq(dlc(args), 0, "%s", err_text);
    cr_assert(strstr(out_text, "GFLOP per run") && !strstr(out_text, "not shown"), "%s", out_text);
}

Test(cli, profile_lists_every_kernel_with_its_share) {
    cr_assert_eq(dlc("profile " MNIST "/model.onnx --runs 4 --peak 100 --top 0"), 0, "%s", err_text);
    cr_assert(strstr(out_text, "kernel calls per run") != NULL, "%s", out_text);
    cr_assert(strstr(out_text, "(Gemm)") != NULL && strstr(out_text, "(Gemm+Relu)") != NULL, "%s", out_text);
    int gemm_lines = 0;
    double share_sum = 0.0;
    for (const char *line = out_text; line != NULL && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        double ms, share;
        if (sscanf(line, "%lf %lf%%", &ms, &share) == 2 && strstr(line, "(") != NULL &&
            strstr(line, "(") < strchr(line, '\n')) {
            share_sum += share;
            gemm_lines += strncmp(strstr(line, "("), "(Gemm", 5) == 0;
        }
    }
    cr_assert_eq(gemm_lines, 2, "%s", out_text);
    cr_assert(fabs(share_sum - 100.0) < 1.0, "kernel shares sum to %.2f%%: %s", share_sum, out_text);
    cr_assert_eq(dlc("profile " MNIST "/model.onnx --runs 0"), 2);
}

Test(cli, test_passes_the_bundled_model) {
    cr_assert_eq(dlc("test " DLC_SOURCE_DIR "/models --atol 1e-5"), 0, "%s%s", out_text, err_text);
    cr_assert(strstr(out_text, "PASS mlp_mnist\n") != NULL, "%s", out_text);
    cr_assert(strstr(out_text, "PASS train_step_adam\n") != NULL, "%s", out_text);
    cr_assert(strstr(out_text, "2 passed, 0 failed\n") != NULL, "%s", out_text);
}

Test(cli, test_reports_a_mismatch_and_an_unsupported_model) {
    char cmd[4096], args[1200];
    /* a copy of the MNIST case whose expected output is off by one at index 3 */
    snprintf(cmd, sizeof cmd, "mkdir -p %s/cases/wrong/test_data_set_0 %s/cases/unknown/test_data_set_0 && "
                              "cp " MNIST "/model.onnx %s/cases/wrong/ && cp " MNIST
                              "/test_data_set_0/input_0.pb %s/cases/wrong/test_data_set_0/",
             tmp, tmp, tmp, tmp);
    cr_assert_eq(system(cmd), 0);
    dlc_owned_tensor want;
    cr_assert_eq(dlc_tensor_file_read(MNIST "/test_data_set_0/output_0.pb", &want), DLC_OK);
    ((float *)want.tensor.data)[3] += 1.0f;
    char path[400];
    snprintf(path, sizeof path, "%s/cases/wrong/test_data_set_0/output_0.pb", tmp);
    cr_assert_eq(dlc_tensor_file_write(path, want.name, &want.tensor), DLC_OK);
    dlc_owned_tensor_free(&want);
    snprintf(path, sizeof path, "%s/cases/unknown/model.onnx", tmp);
    write_unknown_op_model(path);
    snprintf(path, sizeof path, "%s/cases/unknown/test_data_set_0/input_0.pb", tmp);
    float two[2] = {1, 2};
    dlc_tensor t = {.dtype = DLC_FLOAT32, .rank = 1, .dims = {2}, .data = two, .size_bytes = sizeof two};
    cr_assert_eq(dlc_tensor_file_write(path, "x", &t), DLC_OK);
    snprintf(path, sizeof path, "%s/cases/unknown/test_data_set_0/output_0.pb", tmp);
    cr_assert_eq(dlc_tensor_file_write(path, "y", &t), DLC_OK);

    snprintf(args, sizeof args, "test %s/cases -j 2", tmp);
    cr_assert_eq(dlc(args), 1, "%s%s", out_text, err_text);
    cr_assert(strstr(out_text, "FAIL wrong: output 'output' [1,10] index 3: got ") != NULL, "%s", out_text);
    cr_assert(strstr(out_text, "UNSUPPORTED unknown: ") != NULL, "%s", out_text);
    cr_assert(strstr(out_text, "FooBarOp") != NULL, "%s", out_text);
    cr_assert(strstr(out_text, "0 passed, 1 failed, 1 skipped\n") != NULL, "%s", out_text);
}

Test(cli, test_passes_the_zoo_models) {
    struct stat st;
    if (stat(ZOO, &st) != 0) cr_skip_test("no zoo at %s", ZOO);
    cr_assert_eq(dlc("test " ZOO "/mlp_mnist " ZOO "/simple_cnn " ZOO "/resnet18_cifar " ZOO
                     "/resnet18_cifar_unfolded --atol 1e-5 -j 2"),
                 0, "%s%s", out_text, err_text);
    cr_assert(strstr(out_text, "4 passed, 0 failed\n") != NULL, "%s", out_text);
}
