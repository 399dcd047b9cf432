/* libFuzzer target for the ONNX importer: any bytes must give either a graph
 * or an error with a message; never a crash, leak, hang or sanitizer report.
 * Built with -DDLC_FUZZ=ON and CC=clang-19; run with scripts/fuzz.sh. */
#include <stddef.h>
#include <stdint.h>

#include "frontend/onnx_import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    dlc_graph *graph = NULL;
    dlc_status status = dlc_onnx_import_bytes(data, size, NULL, "fuzz.onnx", &graph);
    if (status == DLC_OK) {
        if (graph == NULL) __builtin_trap();
        dlc_graph_free(graph);
    } else if (graph != NULL || dlc_last_error()[0] == '\0') {
        __builtin_trap(); /* failures must leave no graph and explain themselves */
    }
    return 0;
}
