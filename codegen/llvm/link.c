/* The system toolchain links the object (cc knows where libc, libgomp and
 * libm live). It runs through posix_spawnp — no shell, so paths with spaces
 * or quotes are safe — with its stderr kept for the error message. */
#include "codegen/llvm/link.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dlc/dlc_artifact.h"
#include "runtime/status.h"

extern char **environ;

static dlc_status write_text_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (f == NULL) return dlc_fail(DLC_ERR_IO, "cannot create '%s': %s", path, strerror(errno));
    bool ok = fputs(text, f) >= 0;
    ok = fclose(f) == 0 && ok;
    if (!ok) return dlc_fail(DLC_ERR_IO, "cannot write '%s'", path);
    return DLC_OK;
}

/* The first part of the linker's output, for the error message. */
static void read_log(const char *path, char *out, size_t size) {
    out[0] = '\0';
    FILE *f = fopen(path, "r");
    if (f == NULL) return;
    size_t n = fread(out, 1, size - 1, f);
    fclose(f);
    out[n] = '\0';
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' ')) out[--n] = '\0';
}

static dlc_status run_linker(char *const argv[], const char *log_path) {
    posix_spawn_file_actions_t actions;
    if (posix_spawn_file_actions_init(&actions) != 0) return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "spawning the linker");
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&actions, STDERR_FILENO, STDOUT_FILENO);
    pid_t pid;
    int err = posix_spawnp(&pid, argv[0], &actions, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    if (err != 0)
        return dlc_fail(DLC_ERR_NOT_FOUND, "cannot run the linker '%s': %s (dlc needs a C toolchain to link models)",
                        argv[0], strerror(err));
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) return dlc_fail(DLC_ERR_IO, "waiting for the linker: %s", strerror(errno));
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return DLC_OK;
    char log[1536];
    read_log(log_path, log, sizeof log);
    if (WIFEXITED(status))
        return dlc_fail(DLC_ERR_IO, "linking with '%s' failed (exit status %d): %s", argv[0], WEXITSTATUS(status),
                        log[0] ? log : "(no output)");
    return dlc_fail(DLC_ERR_IO, "the linker '%s' was killed by signal %d: %s", argv[0],
                    WIFSIGNALED(status) ? WTERMSIG(status) : -1, log[0] ? log : "(no output)");
}

/* Reserves a unique name beside out_path (so the final rename is atomic).
 * Created with mode 0755 filtered by the umask, which the linker keeps, so
 * the model gets the permissions any new executable file would. */
static dlc_status reserve_temp_name(const char *out_path, char *tmp_path, size_t size) {
    static _Atomic unsigned counter;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    for (int attempt = 0; attempt < 100; attempt++) {
        unsigned n = counter++;
        snprintf(tmp_path, size, "%s.tmp.%ld.%u.%ld", out_path, (long)getpid(), n, (long)now.tv_nsec);
        int fd = open(tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
        if (fd >= 0) {
            close(fd);
            return DLC_OK;
        }
        if (errno != EEXIST) break;
    }
    return dlc_fail(DLC_ERR_IO, "cannot create a file beside '%s': %s", out_path, strerror(errno));
}

dlc_status dlc_llvm_link_shared(const char *object_path, const char *work_dir, const char *out_path) {
    char map_path[4096], log_path[4096], map_option[4200], tmp_path[4096];
    if ((size_t)snprintf(map_path, sizeof map_path, "%s/exports.map", work_dir) >= sizeof map_path ||
        (size_t)snprintf(log_path, sizeof log_path, "%s/link.log", work_dir) >= sizeof log_path ||
        strlen(out_path) + 64 >= sizeof tmp_path)
        return dlc_fail(DLC_ERR_INVALID_ARGUMENT, "output path too long: '%s'", out_path);
    snprintf(map_option, sizeof map_option, "-Wl,--version-script=%s", map_path);
    DLC_TRY(write_text_file(map_path, "{\n  global: " DLC_ARTIFACT_ENTRY ";\n  local: *;\n};\n"));

    DLC_TRY(reserve_temp_name(out_path, tmp_path, sizeof tmp_path));

    const char *cc = getenv("DLC_CC");
    if (cc == NULL || cc[0] == '\0') cc = "cc";
    char *const argv[] = {(char *)cc, "-shared", "-o", tmp_path, (char *)object_path, map_option,
                          "-Wl,-z,noexecstack", "-Wl,-z,now", "-lgomp", "-lm", NULL};
    dlc_status st = run_linker(argv, log_path);
    remove(log_path);
    remove(map_path);
    if (st == DLC_OK && rename(tmp_path, out_path) != 0)
        st = dlc_fail(DLC_ERR_IO, "cannot write '%s': %s", out_path, strerror(errno));
    if (st != DLC_OK) remove(tmp_path);
    return st;
}
