/* Messages, formatting and option values for the command line. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tools/cli.h"

static char *capture_buf;
static size_t capture_size;
static dlc_status last_status;

void cli_capture_errors(char *buf, size_t size) {
    capture_buf = buf;
    capture_size = size;
    last_status = DLC_OK;
    if (buf != NULL && size > 0) buf[0] = '\0';
}

dlc_status cli_last_status(void) { return last_status; }

int cli_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    if (capture_buf != NULL) {
        vsnprintf(capture_buf, capture_size, fmt, ap);
    } else {
        fputs("dlc: error: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
    }
    va_end(ap);
    return CLI_ERROR;
}

int cli_usage_error(const char *command, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("dlc: error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n(see 'dlc %s%s--help')\n", command ? command : "", command ? " " : "");
    va_end(ap);
    return CLI_USAGE;
}

int cli_status_error(dlc_status status) {
    const char *message = dlc_last_error();
    if (message == NULL || message[0] == '\0') message = dlc_status_name(status);
    last_status = status;
    return cli_error("%s", message);
}

double cli_now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double cli_cpu_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

const char *cli_format_bytes(uint64_t bytes, char *buf, size_t size) {
    if (bytes < 1024) snprintf(buf, size, "%" PRIu64 " B", bytes);
    else if (bytes < ((uint64_t)1 << 20)) snprintf(buf, size, "%.1f KiB", (double)bytes / 1024.0);
    else if (bytes < ((uint64_t)1 << 30)) snprintf(buf, size, "%.1f MiB", (double)bytes / (1024.0 * 1024.0));
    else snprintf(buf, size, "%.2f GiB", (double)bytes / (1024.0 * 1024.0 * 1024.0));
    return buf;
}

const char *cli_format_tensor_type(dlc_dtype dtype, int32_t rank, const int64_t *dims, char *buf, size_t size) {
    size_t used = (size_t)snprintf(buf, size, "%s[", dlc_dtype_name(dtype));
    for (int32_t i = 0; i < rank && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%" PRId64, i ? "," : "", dims[i]);
    if (used < size) snprintf(buf + used, size - used, "]");
    return buf;
}

bool cli_ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

bool cli_parse_int(const char *text, int64_t min, int64_t max, int64_t *out) {
    if (text == NULL || *text == '\0') return false;
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max) return false;
    *out = v;
    return true;
}

bool cli_parse_double(const char *text, double *out) {
    if (text == NULL || *text == '\0') return false;
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno != 0 || *end != '\0' || v != v) return false;
    *out = v;
    return true;
}

void cli_compile_settings_init(cli_compile_settings *cs) {
    memset(cs, 0, sizeof *cs);
    cs->opt_level = 2;
}

bool cli_parse_opt_level(const char *text, int32_t *out) {
    int64_t v;
    if (!cli_parse_int(text, 0, 3, &v)) return false;
    *out = (int32_t)v;
    return true;
}

bool cli_add_shape(cli_compile_settings *cs, const char *arg) {
    const char *eq = strrchr(arg, '=');
    if (eq == NULL || eq == arg) {
        cli_error("--shape '%s': expected NAME=D0,D1,... (e.g. input=1,3,32,32)", arg);
        return false;
    }
    if (cs->num_shapes >= (int32_t)(sizeof cs->shapes / sizeof cs->shapes[0])) {
        cli_error("--shape: at most %zu shapes", sizeof cs->shapes / sizeof cs->shapes[0]);
        return false;
    }
    dlc_input_shape *shape = &cs->shapes[cs->num_shapes];
    memset(shape, 0, sizeof *shape);
    size_t name_len = (size_t)(eq - arg);
    if (name_len >= sizeof cs->shape_names[0]) {
        cli_error("--shape: input name '%.*s...' is too long", 40, arg);
        return false;
    }
    memcpy(cs->shape_names[cs->num_shapes], arg, name_len);
    cs->shape_names[cs->num_shapes][name_len] = '\0';
    shape->name = cs->shape_names[cs->num_shapes];
    const char *p = eq + 1;
    /* "name=" is a scalar (rank 0) */
    while (*p != '\0') {
        if (shape->rank >= DLC_MAX_RANK) {
            cli_error("--shape '%s': more than %d dims", arg, DLC_MAX_RANK);
            return false;
        }
        char *end;
        errno = 0;
        long long d = strtoll(p, &end, 10);
        if (end == p || errno != 0 || d < 0 || (*end != ',' && *end != 'x' && *end != '\0')) {
            cli_error("--shape '%s': dims must be non-negative integers separated by commas", arg);
            return false;
        }
        shape->dims[shape->rank++] = d;
        p = *end ? end + 1 : end;
    }
    cs->num_shapes++;
    return true;
}

bool cli_inputs_read(cli_inputs *in, char *const *paths, int count) {
    memset(in, 0, sizeof *in);
    in->tensors = calloc((size_t)count + 1, sizeof *in->tensors);
    in->paths = calloc((size_t)count + 1, sizeof *in->paths);
    if (in->tensors == NULL || in->paths == NULL) {
        cli_error("out of memory");
        return false;
    }
    for (int i = 0; i < count; i++) {
        in->paths[i] = paths[i];
        dlc_status st = dlc_tensor_file_read(paths[i], &in->tensors[i]);
        if (st != DLC_OK) {
            cli_status_error(st);
            return false;
        }
        in->count++;
    }
    return true;
}

bool cli_inputs_tile_batch(cli_inputs *in, int64_t batch) {
    for (int i = 0; i < in->count; i++) {
        dlc_tensor *t = &in->tensors[i].tensor;
        if (t->rank < 1 || t->dims[0] == batch) continue;
        if (t->dims[0] != 1) {
            cli_error("--batch %lld: input %s holds a batch of %lld; give a batch of 1 (repeated) or of %lld",
                      (long long)batch, in->paths[i], (long long)t->dims[0], (long long)batch);
            return false;
        }
        if (t->size_bytes > SIZE_MAX / (size_t)batch) {
            cli_error("--batch %lld: input %s becomes too large", (long long)batch, in->paths[i]);
            return false;
        }
        void *data = aligned_alloc(64, (t->size_bytes * (size_t)batch + 63) / 64 * 64);
        if (data == NULL) {
            cli_error("out of memory");
            return false;
        }
        for (int64_t b = 0; b < batch; b++) memcpy((char *)data + (size_t)b * t->size_bytes, t->data, t->size_bytes);
        free(t->data);
        t->data = data;
        t->size_bytes *= (size_t)batch;
        t->dims[0] = batch;
    }
    return true;
}

void cli_inputs_free(cli_inputs *in) {
    for (int i = 0; i < in->count; i++) dlc_owned_tensor_free(&in->tensors[i]);
    free(in->tensors);
    free(in->paths);
    memset(in, 0, sizeof *in);
}

bool cli_match_inputs(const char *const *input_names, int num_inputs, const cli_inputs *in, int *out_index) {
    if (in->count != num_inputs) {
        cli_error("the model has %d input%s, %d tensor file%s given", num_inputs, num_inputs == 1 ? "" : "s",
                  in->count, in->count == 1 ? "" : "s");
        return false;
    }
    bool *claimed = calloc((size_t)num_inputs + 1, sizeof *claimed);
    if (claimed == NULL) {
        cli_error("out of memory");
        return false;
    }
    /* names first: a file named after an input feeds it wherever it is listed */
    for (int t = 0; t < in->count; t++) {
        const char *name = in->tensors[t].name;
        out_index[t] = -1;
        for (int k = 0; name != NULL && name[0] != '\0' && k < num_inputs; k++)
            if (strcmp(input_names[k], name) == 0) {
                if (claimed[k]) {
                    cli_error("'%s' and another file both hold input '%s'", in->paths[t], name);
                    free(claimed);
                    return false;
                }
                claimed[k] = true;
                out_index[t] = k;
            }
    }
    /* the rest by position, skipping inputs already fed by name */
    for (int t = 0; t < in->count; t++) {
        if (out_index[t] >= 0) continue;
        int k = t < num_inputs && !claimed[t] ? t : 0;
        while (k < num_inputs && claimed[k]) k++;
        claimed[k] = true;
        out_index[t] = k;
    }
    free(claimed);
    return true;
}
