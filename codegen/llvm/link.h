/* Linking the model's object into a shared library with the system toolchain. */
#ifndef DLC_CODEGEN_LLVM_LINK_H
#define DLC_CODEGEN_LLVM_LINK_H

#include "dlc/dlc.h"

/* Runs `cc -shared` (no shell) on object_path, exporting only the artifact
 * entry point, into a temporary name beside out_path, then renames it.
 * work_dir holds the linker's scratch files (version script, its stderr). */
dlc_status dlc_llvm_link_shared(const char *object_path, const char *work_dir, const char *out_path);

#endif
