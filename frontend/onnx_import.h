/* ONNX ModelProto → dlc IR. */
#ifndef DLC_FRONTEND_ONNX_IMPORT_H
#define DLC_FRONTEND_ONNX_IMPORT_H

#include <stddef.h>

#include "ir/graph.h"

/* Reads and imports a .onnx file; external data files are resolved relative
 * to its folder (and must stay inside it). Every node is bound to its schema
 * (unknown ops/domains fail here, naming op, opset and node) and the graph is
 * topologically sorted. Shapes of intermediate values are not inferred yet
 * (see dlc_infer_and_fold). Errors name the file. */
dlc_status dlc_onnx_import_file(const char *path, dlc_graph **out_graph);

/* The same from bytes in memory; base_dir resolves external data (NULL: none allowed). */
dlc_status dlc_onnx_import_bytes(const void *data, size_t size, const char *base_dir, const char *display_name,
                                 dlc_graph **out_graph);

#endif
