#include "runtime/elf_check.h"

#include <elf.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/status.h"

static bool read_at(int fd, void *buf, size_t size, uint64_t offset) {
    size_t done = 0;
    while (done < size) {
        ssize_t n = pread(fd, (char *)buf + done, size - done, (off_t)(offset + done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        done += (size_t)n;
    }
    return true;
}

static dlc_status check_headers(int fd, const char *path, uint64_t file_size) {
    Elf64_Ehdr eh;
    if (file_size < sizeof eh || !read_at(fd, &eh, sizeof eh, 0) || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
        return dlc_fail(DLC_ERR_PARSE, "'%s' is not a shared library (no ELF header)", path);
    if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_type != ET_DYN)
        return dlc_fail(DLC_ERR_PARSE, "'%s' is not a 64-bit shared library", path);
    if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 ||
        eh.e_phoff > file_size || (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr) > file_size - eh.e_phoff)
        return dlc_fail(DLC_ERR_PARSE, "'%s' is truncated or corrupt: its program headers are not in the file", path);
    if (eh.e_shnum > 0 &&
        (eh.e_shoff > file_size || (uint64_t)eh.e_shnum * eh.e_shentsize > file_size - eh.e_shoff))
        return dlc_fail(DLC_ERR_PARSE,
                        "'%s' is truncated: its section headers end past its %llu bytes", path,
                        (unsigned long long)file_size);
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        if (!read_at(fd, &ph, sizeof ph, eh.e_phoff + (uint64_t)i * sizeof ph))
            return dlc_fail(DLC_ERR_PARSE, "'%s': cannot read program header %u", path, i);
        if (ph.p_type != PT_LOAD) continue;
        if (ph.p_offset > file_size || ph.p_filesz > file_size - ph.p_offset)
            return dlc_fail(DLC_ERR_PARSE, "'%s' is truncated: a segment ends at byte %llu, the file has %llu", path,
                            (unsigned long long)ph.p_offset + (unsigned long long)ph.p_filesz,
                            (unsigned long long)file_size);
    }
    return DLC_OK;
}

dlc_status dlc_elf_check_shared_object(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return dlc_fail(errno == ENOENT ? DLC_ERR_NOT_FOUND : DLC_ERR_IO, "cannot open '%s': %s", path,
                                strerror(errno));
    struct stat st;
    dlc_status status = fstat(fd, &st) == 0 ? DLC_OK : dlc_fail(DLC_ERR_IO, "cannot stat '%s': %s", path, strerror(errno));
    if (status == DLC_OK && !S_ISREG(st.st_mode)) status = dlc_fail(DLC_ERR_PARSE, "'%s' is not a regular file", path);
    if (status == DLC_OK) status = check_headers(fd, path, (uint64_t)st.st_size);
    close(fd);
    return status;
}
