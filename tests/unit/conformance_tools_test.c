/* The conformance tooling of `dlc test`: bfloat16 test data stored as uint16
 * files (as onnx 1.12 writes it), and `dlc test --ort`, which compares dlc
 * with ONNX Runtime on generated inputs. Models are built with Debian's
 * python3-onnx (a build dependency: scripts/setup.sh installs it).
 *
 * The --ort tests need node and onnxruntime-node (third_party/, installed by
 * `bash scripts/setup.sh --deps-only`). Without them they are skipped, except
 * where they must be there (CI=true, as scripts/test.sh runs in CI, or
 * DLC_REQUIRE_ORT=1): then they fail. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "frontend/tensor_file.h"

#define DLC DLC_BINARY_DIR "/dlc"
#define PYTHON "/usr/bin/python3"

static char tmp[256];
static char out_text[1 << 16], err_text[1 << 16];

static void make_tmp(void) {
    snprintf(tmp, sizeof tmp, "/tmp/dlc-conformance-test-XXXXXX");
    cr_assert_not_null(mkdtemp(tmp));
}

static void remove_tmp(void) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(conformance_tools, .init = make_tmp, .fini = remove_tmp, .timeout = 300);

static void slurp(const char *path, char *buf, size_t size) {
    buf[0] = '\0';
    FILE *f = fopen(path, "rb");
    if (f == NULL) return;
    size_t n = fread(buf, 1, size - 1, f);
    buf[n] = '\0';
    fclose(f);
}

/* Runs a shell command line, keeps stdout/stderr, returns the exit code. */
static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...) {
    char args[8192], cmd[9000], out_path[300], err_path[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(out_path, sizeof out_path, "%s/stdout.txt", tmp);
    snprintf(err_path, sizeof err_path, "%s/stderr.txt", tmp);
    snprintf(cmd, sizeof cmd, "%s >%s 2>%s </dev/null", args, out_path, err_path);
    int status = system(cmd);
    slurp(out_path, out_text, sizeof out_text);
    slurp(err_path, err_text, sizeof err_text);
    cr_assert(WIFEXITED(status), "%s: did not exit normally (crash?)", args);
    return WEXITSTATUS(status);
}

/* Runs python source (a model builder) with argv[1] = tmp. */
static void python(const char *source) {
    char path[300];
    snprintf(path, sizeof path, "%s/make.py", tmp);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(source, f);
    fclose(f);
    cr_assert_eq(sh(PYTHON " %s %s", path, tmp), 0, "python failed: %s", err_text);
}

/* ---- bfloat16 data as uint16 ---- */

/* y = Cast(x, float), z = Identity(x) for a bfloat16 x; the data files keep
 * bfloat16 as uint16 bits, the way onnx 1.12's generators do. */
static const char bf16_case[] =
    "import os, sys\n"
    "import numpy as np, onnx\n"
    "from onnx import helper, numpy_helper, TensorProto as T\n"
    "d = sys.argv[1]\n"
    "g = helper.make_graph([helper.make_node('Cast', ['x'], ['y'], to=T.FLOAT),\n"
    "                       helper.make_node('Identity', ['x'], ['z'])], 'bf16',\n"
    "    [helper.make_tensor_value_info('x', T.BFLOAT16, [2, 3])],\n"
    "    [helper.make_tensor_value_info('y', T.FLOAT, [2, 3]), helper.make_tensor_value_info('z', T.BFLOAT16, [2, 3])])\n"
    "os.makedirs(d + '/bf16/test_data_set_0')\n"
    "onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid('', 13)]), d + '/bf16/model.onnx')\n"
    "f = np.array([[1.0, -2.5, 0.15625], [3.0e10, -0.0, 7.0]], dtype=np.float32)\n"
    "bits = (f.view(np.uint32) >> 16).astype(np.uint16)\n"
    "exact = (bits.astype(np.uint32) << 16).view(np.float32)\n"
    "save = lambda a, name, p: onnx.save_tensor(numpy_helper.from_array(a, name), d + p)\n"
    "save(bits, 'x', '/bf16/test_data_set_0/input_0.pb')\n"
    "save(exact, 'y', '/bf16/test_data_set_0/output_0.pb')\n"
    "save(bits, 'z', '/bf16/test_data_set_0/output_1.pb')\n"
    "save(bits.reshape(3, 2), 'x', '/x_3x2.pb')\n"
    "save(f, 'x', '/x_float.pb')\n";

Test(conformance_tools, bfloat16_test_data_stored_as_uint16_passes) {
    python(bf16_case);
    int rc = sh("%s test %s/bf16", DLC, tmp);
    cr_assert_eq(rc, 0, "stdout: %s\nstderr: %s", out_text, err_text);
    cr_assert(strstr(out_text, "PASS bf16") != NULL, "%s", out_text);
}

Test(conformance_tools, dlc_run_reads_a_uint16_file_as_bfloat16) {
    python(bf16_case);
    int rc = sh("%s run %s/bf16/model.onnx -i %s/bf16/test_data_set_0/input_0.pb -o %s/out", DLC, tmp, tmp, tmp);
    cr_assert_eq(rc, 0, "stderr: %s", err_text);
    cr_assert(strstr(out_text, "output 'y' float32[2,3]") != NULL, "%s", out_text);
    cr_assert(strstr(out_text, "output 'z' bfloat16[2,3]") != NULL, "%s", out_text);
    /* the output is written as real bfloat16 */
    char path[400];
    snprintf(path, sizeof path, "%s/out/output_1.pb", tmp);
    dlc_owned_tensor z;
    cr_assert_eq(dlc_tensor_file_read(path, &z), DLC_OK);
    cr_assert_eq(z.tensor.dtype, DLC_BFLOAT16);
    cr_assert_eq(((const uint16_t *)z.tensor.data)[1], 0xC020); /* -2.5 */
    dlc_owned_tensor_free(&z);
}

Test(conformance_tools, uint16_bits_of_another_shape_or_a_float_file_are_still_rejected) {
    python(bf16_case);
    cr_assert_eq(sh("%s run %s/bf16/model.onnx -i %s/x_3x2.pb", DLC, tmp, tmp), 1);
    cr_assert(strstr(err_text, "uint16[3,2]") != NULL && strstr(err_text, "bfloat16[2,3]") != NULL, "%s", err_text);
    cr_assert_eq(sh("%s run %s/bf16/model.onnx -i %s/x_float.pb", DLC, tmp, tmp), 1);
    cr_assert(strstr(err_text, "float32[2,3]") != NULL, "%s", err_text);
}

/* ---- dlc test --ort ---- */

static bool ort_required(void) {
    const char *ci = getenv("CI"), *req = getenv("DLC_REQUIRE_ORT");
    return (ci != NULL && ci[0] != '\0' && strcmp(ci, "false") != 0 && strcmp(ci, "0") != 0) ||
           (req != NULL && strcmp(req, "1") == 0);
}

/* Skips the test when node or onnxruntime-node is missing, unless they are required. */
static void need_ort(void) {
    int rc = sh("node -e \"require('%s/third_party/node_modules/onnxruntime-node')\"", DLC_SOURCE_DIR);
    if (rc == 0) return;
    if (ort_required())
        cr_assert_fail("node + onnxruntime-node are required (CI or DLC_REQUIRE_ORT=1) but do not load; "
                       "install with bash scripts/setup.sh --deps-only: %s",
                       err_text);
    else
        cr_skip_test("node + onnxruntime-node not installed (bash scripts/setup.sh --deps-only)");
}

static bool same_file(const char *a, const char *b) {
    return sh("cmp -s '%s' '%s'", a, b) == 0;
}

Test(conformance_tools, ort_comparison_passes_mnist_and_keeps_the_case) {
    need_ort();
    int rc = sh("%s test --ort %s/models/mlp_mnist/model.onnx --save %s/kept/mnist", DLC, DLC_SOURCE_DIR, tmp);
    cr_assert_eq(rc, 0, "stdout: %s\nstderr: %s", out_text, err_text);
    cr_assert(strstr(out_text, "PASS mnist") != NULL, "%s", out_text);
    /* the kept case is a plain backend-test folder */
    rc = sh("%s test %s/kept/mnist --atol 1e-5", DLC, tmp);
    cr_assert_eq(rc, 0, "stdout: %s\nstderr: %s", out_text, err_text);
    /* without --save nothing is left behind, and the case is named after the model's folder */
    rc = sh("TMPDIR=%s %s test --ort %s/models/mlp_mnist/model.onnx", tmp, DLC, DLC_SOURCE_DIR);
    cr_assert_eq(rc, 0, "stdout: %s\nstderr: %s", out_text, err_text);
    cr_assert(strstr(out_text, "PASS mlp_mnist") != NULL, "%s", out_text);
    cr_assert_eq(sh("ls -d %s/dlc-ort-* 2>/dev/null", tmp), 2, "left behind: %s", out_text);
}

Test(conformance_tools, ort_inputs_follow_the_seed) {
    need_ort();
    const char *model = DLC_SOURCE_DIR "/models/mlp_mnist/model.onnx";
    cr_assert_eq(sh("%s test --ort %s --seed 5 --save %s/a", DLC, model, tmp), 0, "%s", err_text);
    cr_assert_eq(sh("%s test --ort %s --seed 5 --save %s/b", DLC, model, tmp), 0, "%s", err_text);
    cr_assert_eq(sh("%s test --ort %s --seed 6 --save %s/c", DLC, model, tmp), 0, "%s", err_text);
    char a[400], b[400], c[400];
    snprintf(a, sizeof a, "%s/a/test_data_set_0/input_0.pb", tmp);
    snprintf(b, sizeof b, "%s/b/test_data_set_0/input_0.pb", tmp);
    snprintf(c, sizeof c, "%s/c/test_data_set_0/input_0.pb", tmp);
    cr_assert(same_file(a, b), "the same seed gave different inputs");
    cr_assert(!same_file(a, c), "another seed gave the same inputs");
}

/* logits = Gather(table[50,4], ids) summed with Cast(attention_mask); both
 * inputs [batch, seq] symbolic */
static const char embedding_model[] =
    "import os, sys\n"
    "import numpy as np, onnx\n"
    "from onnx import helper, numpy_helper, TensorProto as T\n"
    "d = sys.argv[1]\n"
    "table = numpy_helper.from_array(np.arange(200, dtype=np.float32).reshape(50, 4) / 7, 'table')\n"
    "nodes = [helper.make_node('Gather', ['table', 'ids'], ['emb']),\n"
    "         helper.make_node('Cast', ['attention_mask'], ['m'], to=T.FLOAT),\n"
    "         helper.make_node('Unsqueeze', ['m', 'axes'], ['m3']),\n"
    "         helper.make_node('Add', ['emb', 'm3'], ['y'])]\n"
    "axes = numpy_helper.from_array(np.array([2], dtype=np.int64), 'axes')\n"
    "g = helper.make_graph(nodes, 'emb',\n"
    "    [helper.make_tensor_value_info('ids', T.INT64, ['batch', 'seq']),\n"
    "     helper.make_tensor_value_info('attention_mask', T.INT64, ['batch', 'seq'])],\n"
    "    [helper.make_tensor_value_info('y', T.FLOAT, ['batch', 'seq', 4])], [table, axes])\n"
    "onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid('', 13)]), d + '/emb.onnx')\n";

static const char check_embedding_inputs[] =
    "import sys\n"
    "import numpy as np, onnx\n"
    "from onnx import numpy_helper\n"
    "d = sys.argv[1] + '/emb/test_data_set_0/'\n"
    "ids = numpy_helper.to_array(onnx.load_tensor(d + 'input_0.pb'))\n"
    "mask = numpy_helper.to_array(onnx.load_tensor(d + 'input_1.pb'))\n"
    "assert ids.shape == (1, 16) and mask.shape == (1, 16), (ids.shape, mask.shape)\n"
    "assert ids.min() >= 0 and ids.max() < 50 and len(set(ids.flat)) > 4, ids\n"
    "assert (mask[0, :12] == 1).all() and (mask[0, 12:] == 0).all(), mask\n";

Test(conformance_tools, ort_inputs_respect_embeddings_masks_and_symbolic_dims) {
    need_ort();
    python(embedding_model);
    int rc = sh("%s test --ort %s/emb.onnx --save %s/emb", DLC, tmp, tmp);
    cr_assert_eq(rc, 0, "stdout: %s\nstderr: %s", out_text, err_text);
    cr_assert(strstr(err_text, "bound to int64[1,16]") != NULL, "the chosen shape is reported: %s", err_text);
    python(check_embedding_inputs);
    /* --shape sets the size; the mask shares its symbols */
    rc = sh("%s test --ort %s/emb.onnx --shape ids=2,8 --save %s/emb8", DLC, tmp, tmp);
    cr_assert_eq(rc, 0, "stdout: %s\nstderr: %s", out_text, err_text);
    cr_assert(strstr(err_text, "bound to int64[2,8]") != NULL, "%s", err_text);
}

Test(conformance_tools, ort_usage_errors) {
    cr_assert_eq(sh("%s test --ort", DLC), 2);
    cr_assert(strstr(err_text, "no model given") != NULL, "%s", err_text);
    cr_assert_eq(sh("%s test --ort a.onnx b.onnx", DLC), 2);
    cr_assert_eq(sh("%s test %s --save x", DLC, tmp), 2);
    cr_assert(strstr(err_text, "--ort") != NULL, "%s", err_text);
    cr_assert_eq(sh("%s test --ort %s/models/mlp_mnist/model.onnx --seed -1", DLC, DLC_SOURCE_DIR), 2);
}
