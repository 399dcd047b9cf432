/* examples/classify.c, the documented way to use dlc from C, built and run
 * as a user would: compile the bundled MNIST model, feed its stored input,
 * and check the program's top class against the reference output. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "codegen/compile.h"
#include "frontend/tensor_file.h"

#define MNIST DLC_SOURCE_DIR "/models/mlp_mnist"

static int argmax(const float *v, int n) {
    int best = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[best]) best = i;
    return best;
}

Test(example, classify_prints_the_reference_top_class) {
    char dir[] = "/tmp/dlc-example-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char so[128], raw[128], cmd[512];
    snprintf(so, sizeof so, "%s/mnist.so", dir);
    snprintf(raw, sizeof raw, "%s/input.raw", dir);
    dlc_compile_options opts;
    dlc_compile_options_init(&opts);
    cr_assert_eq(dlc_compile_file(MNIST "/model.onnx", &opts, so), DLC_OK, "%s", dlc_last_error());

    dlc_owned_tensor input, expected;
    cr_assert_eq(dlc_tensor_file_read(MNIST "/test_data_set_0/input_0.pb", &input), DLC_OK);
    cr_assert_eq(dlc_tensor_file_read(MNIST "/test_data_set_0/output_0.pb", &expected), DLC_OK);
    FILE *f = fopen(raw, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(input.tensor.data, 1, input.tensor.size_bytes, f), input.tensor.size_bytes);
    fclose(f);
    int want = argmax(expected.tensor.data, 10);

    snprintf(cmd, sizeof cmd, "%s/example_classify %s %s", DLC_BINARY_DIR, so, raw);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    char line[256], first_ranked[256] = "";
    bool in_ranking = false;
    while (fgets(line, sizeof line, p) != NULL) {
        if (strstr(line, "top") != NULL) in_ranking = true;
        else if (in_ranking && first_ranked[0] == '\0') memcpy(first_ranked, line, sizeof line);
    }
    cr_assert_eq(pclose(p), 0, "example_classify failed");
    int got = -1;
    cr_assert_eq(sscanf(first_ranked, " [%d]", &got), 1, "unexpected output line '%s'", first_ranked);
    cr_assert_eq(got, want, "example says class %d, the reference says %d", got, want);

    /* Unloading the last model once crashed the process at exit (libgomp's
     * parked threads lost their code); it showed in about half the runs. */
    snprintf(cmd, sizeof cmd, "%s/example_classify %s %s >/dev/null 2>&1", DLC_BINARY_DIR, so, raw);
    for (int run = 0; run < 20; run++) cr_assert_eq(system(cmd), 0, "run %d of example_classify failed", run);

    dlc_owned_tensor_free(&input);
    dlc_owned_tensor_free(&expected);
    unlink(so);
    unlink(raw);
    rmdir(dir);
}

Test(example, classify_reports_a_missing_model) {
    FILE *p = popen(DLC_BINARY_DIR "/example_classify /nonexistent/model.so 2>&1", "r");
    cr_assert_not_null(p);
    char text[1024] = "";
    size_t n = fread(text, 1, sizeof text - 1, p);
    text[n] = '\0';
    cr_assert_neq(pclose(p), 0);
    cr_assert(strstr(text, "/nonexistent/model.so") != NULL, "%s", text);
}
