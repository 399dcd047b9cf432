#include "frontend/file_bytes.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/status.h"

dlc_status dlc_file_bytes_map(const char *path, const char *what, dlc_file_bytes *out) {
    out->data = NULL;
    out->size = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        return dlc_fail(err == ENOENT || err == ENOTDIR ? DLC_ERR_NOT_FOUND : DLC_ERR_IO, "cannot open '%s': %s", path,
                        strerror(err));
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int err = errno;
        close(fd);
        return dlc_fail(DLC_ERR_IO, "cannot read '%s': %s", path, strerror(err));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return dlc_fail(DLC_ERR_IO, "cannot read '%s': %s", path,
                        S_ISDIR(st.st_mode) ? "it is a directory" : "not a regular file");
    }
    if (st.st_size == 0) {
        close(fd);
        return dlc_fail(DLC_ERR_PARSE, "'%s' is empty, not %s", path, what);
    }
    /* mmap rather than read: weights of large models stay in the page cache
     * and are copied once, into the graph's constants. */
    void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    int err = errno;
    close(fd);
    if (map == MAP_FAILED) return dlc_fail(DLC_ERR_IO, "cannot read '%s': %s", path, strerror(err));
    out->data = map;
    out->size = (size_t)st.st_size;
    return DLC_OK;
}

void dlc_file_bytes_unmap(dlc_file_bytes *bytes) {
    if (bytes->data != NULL) munmap((void *)bytes->data, bytes->size);
    bytes->data = NULL;
    bytes->size = 0;
}

char *dlc_path_dirname(const char *path) {
    const char *slash = strrchr(path, '/');
    if (slash == NULL) return strdup(".");
    size_t len = slash == path ? 1 : (size_t)(slash - path); /* "/model.onnx" lives in "/" */
    char *dir = malloc(len + 1);
    if (dir == NULL) return NULL;
    memcpy(dir, path, len);
    dir[len] = '\0';
    return dir;
}
