/* ONNX external data: a tensor's bytes in a file next to the model, named
 * by the external_data entries location / offset / length. The location
 * comes from the model file, so it must not reach outside the model's folder. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "frontend/tensor_proto.h"
#include "runtime/status.h"

/* A non-negative decimal that fits int64 (no sign, no spaces). */
static bool parse_size(const char *text, uint64_t *out) {
    if (text == NULL || text[0] == '\0') return false;
    uint64_t value = 0;
    for (const char *c = text; *c != '\0'; c++) {
        if (*c < '0' || *c > '9') return false;
        uint64_t digit = (uint64_t)(*c - '0');
        if (value > ((uint64_t)INT64_MAX - digit) / 10) return false;
        value = value * 10 + digit;
    }
    *out = value;
    return true;
}

static dlc_status check_location(const char *name, const char *location) {
    if (location == NULL || location[0] == '\0')
        return dlc_fail(DLC_ERR_PARSE, "tensor '%s': external data without a 'location'", name);
    if (location[0] == '/')
        return dlc_fail(DLC_ERR_PARSE, "tensor '%s': external data location '%s' is an absolute path; it must be "
                        "relative to the model's folder", name, location);
    for (const char *part = location; *part != '\0';) {
        size_t len = strcspn(part, "/");
        if (len == 2 && part[0] == '.' && part[1] == '.')
            return dlc_fail(DLC_ERR_PARSE, "tensor '%s': external data location '%s' leaves the model's folder ('..')",
                            name, location);
        part += len;
        if (*part == '/') part++;
    }
    return DLC_OK;
}

/* realpath(base_dir/location), refusing results outside realpath(base_dir)
 * (a symlink inside the folder may point anywhere). */
static dlc_status resolve_inside(const char *name, const char *base_dir, const char *location, char **out_path) {
    *out_path = NULL;
    char *base = realpath(base_dir, NULL);
    if (base == NULL)
        return dlc_fail(DLC_ERR_NOT_FOUND, "tensor '%s': cannot resolve the model folder '%s': %s", name, base_dir,
                        strerror(errno));
    size_t joined_len = strlen(base_dir) + 1 + strlen(location) + 1;
    char *joined = malloc(joined_len);
    if (joined == NULL) {
        free(base);
        return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "tensor '%s': out of memory", name);
    }
    snprintf(joined, joined_len, "%s/%s", base_dir, location);
    char *resolved = realpath(joined, NULL);
    int err = errno;
    free(joined);
    if (resolved == NULL) {
        free(base);
        return dlc_fail(err == ENOENT || err == ENOTDIR ? DLC_ERR_NOT_FOUND : DLC_ERR_IO,
                        "tensor '%s': cannot open external data file '%s': %s", name, location, strerror(err));
    }
    size_t base_len = strlen(base);
    bool inside = strcmp(base, "/") == 0 ||
                  (strncmp(resolved, base, base_len) == 0 && resolved[base_len] == '/');
    free(base);
    if (!inside) {
        free(resolved);
        return dlc_fail(DLC_ERR_PARSE, "tensor '%s': external data file '%s' resolves outside the model's folder", name,
                        location);
    }
    *out_path = resolved;
    return DLC_OK;
}

static dlc_status read_range(const char *name, const char *location, const char *path, uint64_t offset,
                             bool has_length, uint64_t length, size_t expected, void **out_data) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return dlc_fail(DLC_ERR_IO, "tensor '%s': cannot open external data file '%s': %s", name, location,
                        strerror(errno));
    struct stat st;
    dlc_status status = DLC_OK;
    void *data = NULL;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        status = dlc_fail(DLC_ERR_IO, "tensor '%s': external data '%s' is not a regular file", name, location);
        goto done;
    }
    uint64_t file_size = (uint64_t)st.st_size;
    if (offset > file_size) {
        status = dlc_fail(DLC_ERR_PARSE, "tensor '%s': external data offset %" PRIu64 " is past the end of '%s' (%" PRIu64
                          " bytes)", name, offset, location, file_size);
        goto done;
    }
    if (!has_length) length = file_size - offset;
    if (length > file_size - offset) {
        status = dlc_fail(DLC_ERR_PARSE, "tensor '%s': external data [%" PRIu64 ", +%" PRIu64 ") runs past the end of '%s' (%"
                          PRIu64 " bytes)", name, offset, length, location, file_size);
        goto done;
    }
    if (length != (uint64_t)expected) {
        status = dlc_fail(DLC_ERR_PARSE, "tensor '%s': external data has %" PRIu64 " bytes, its shape needs %zu", name,
                          length, expected);
        goto done;
    }
    data = dlc_alloc_aligned64(expected);
    if (data == NULL) {
        status = dlc_fail(DLC_ERR_OUT_OF_MEMORY, "tensor '%s': cannot allocate %zu bytes", name, expected);
        goto done;
    }
    for (size_t done_bytes = 0; done_bytes < expected;) {
        ssize_t n = pread(fd, (char *)data + done_bytes, expected - done_bytes, (off_t)(offset + done_bytes));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            status = dlc_fail(DLC_ERR_IO, "tensor '%s': reading external data '%s' failed: %s", name, location,
                              n < 0 ? strerror(errno) : "file shrank while reading");
            goto done;
        }
        done_bytes += (size_t)n;
    }
done:
    close(fd);
    if (status != DLC_OK) {
        free(data);
        data = NULL;
    }
    *out_data = data;
    return status;
}

dlc_status dlc_external_data_read(const Onnx__TensorProto *t, const char *name, const char *base_dir,
                                  size_t expected_bytes, void **out_data) {
    *out_data = NULL;
    if (base_dir == NULL)
        return dlc_fail(DLC_ERR_UNSUPPORTED, "tensor '%s': external data needs a model file (not bytes in memory)", name);
    if (t->segment != NULL) return dlc_fail(DLC_ERR_UNSUPPORTED, "tensor '%s': segmented tensors are not supported", name);
    const char *location = NULL;
    uint64_t offset = 0, length = 0;
    bool has_length = false;
    for (size_t i = 0; i < t->n_external_data; i++) {
        const char *key = t->external_data[i]->key ? t->external_data[i]->key : "";
        const char *value = t->external_data[i]->value ? t->external_data[i]->value : "";
        if (strcmp(key, "location") == 0) {
            location = value;
        } else if (strcmp(key, "offset") == 0) {
            if (!parse_size(value, &offset))
                return dlc_fail(DLC_ERR_PARSE, "tensor '%s': external data offset '%s' is not a size", name, value);
        } else if (strcmp(key, "length") == 0) {
            if (!parse_size(value, &length))
                return dlc_fail(DLC_ERR_PARSE, "tensor '%s': external data length '%s' is not a size", name, value);
            has_length = true;
        } /* "checksum" and unknown keys carry nothing we need */
    }
    DLC_TRY(check_location(name, location));
    char *path;
    DLC_TRY(resolve_inside(name, base_dir, location, &path));
    dlc_status status = read_range(name, location, path, offset, has_length, length, expected_bytes, out_data);
    free(path);
    return status;
}
