/* Whole-file reads for the parsers of outside bytes (models, tensor files). */
#ifndef DLC_FRONTEND_FILE_BYTES_H
#define DLC_FRONTEND_FILE_BYTES_H

#include <stddef.h>

#include "dlc/dlc.h"

typedef struct dlc_file_bytes {
    const void *data; /* read-only mapping of the whole file */
    size_t size;
} dlc_file_bytes;

/* Maps path read-only. Errors: DLC_ERR_NOT_FOUND "cannot open 'path': No such
 * file or directory", DLC_ERR_IO for other failures and non-regular files,
 * DLC_ERR_PARSE "'path' is empty, not <what>" for an empty file. */
dlc_status dlc_file_bytes_map(const char *path, const char *what, dlc_file_bytes *out);
void dlc_file_bytes_unmap(dlc_file_bytes *bytes);

/* The folder of path ("." when it has none), malloc'd; NULL when out of memory. */
char *dlc_path_dirname(const char *path);

#endif
