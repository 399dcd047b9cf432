/* A sanity check of a shared library file before dlopen: glibc maps
 * segments past the end of a truncated file and dies of SIGBUS instead of
 * failing, so the loader checks that every loadable segment is in the file. */
#ifndef DLC_RUNTIME_ELF_CHECK_H
#define DLC_RUNTIME_ELF_CHECK_H

#include "dlc/dlc.h"

/* DLC_OK if path is a complete 64-bit ELF shared object; DLC_ERR_PARSE naming
 * the file and what is wrong otherwise. */
dlc_status dlc_elf_check_shared_object(const char *path);

#endif
