/* generate: text generation with a GPT-2-style decoder, using only dlc.h and libdlcrt.
 *
 *     /usr/bin/python3 scripts/gen_generate_models.py   # writes tests/generated/generate/gpt2_lm.onnx
 *     dlc compile tests/generated/generate/gpt2_lm.onnx --shape input_ids=1,32 -o gpt2_lm.so
 *     example_generate gpt2_lm.so --prompt 5,17,42 -n 16                      # greedy
 *     example_generate gpt2_lm.so --prompt 5,17,42 -n 16 --top-k 5 --temperature 0.8 --seed 7
 *
 * Runs the decoder token by token, as model.generate does: each step feeds the
 * prompt and the tokens generated so far, reads the logits at the last real
 * position and picks the next token, either the largest logit (greedy, the
 * first index on ties, as torch.argmax) or a draw from the k largest after
 * dividing by the temperature (top-k sampling with this file's own PRNG, so a
 * seed gives the same tokens on every machine). The generated token ids are
 * printed on one line of stdout; timing goes to stderr.
 *
 * The artifact runs one fixed sequence length T (dlc compiles for static
 * shapes), so the input is right-padded with token 0: the decoder's causal mask
 * keeps every position independent of the positions after it, so the logits
 * at the last real position are those of the unpadded sequence. A prompt of P
 * tokens generating N needs P + N - 1 <= T. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dlc/dlc.h"

typedef struct options {
    const char *model_path;
    int64_t *prompt;
    int num_prompt;
    int count;          /* tokens to generate */
    int top_k;          /* 0: greedy */
    double temperature; /* divides the logits before sampling */
    uint64_t seed;
    int threads;
} options;

/* The decoder: input_ids int64[1, T] -> logits float32[1, T, vocab]. */
typedef struct decoder {
    dlc_model *model;
    dlc_session *session;
    int64_t capacity; /* T */
    int64_t vocab;
    int64_t *ids;    /* [T], right-padded */
    float *logits;   /* [T, vocab] */
} decoder;

/* ---- a small PRNG: splitmix64, the same stream on every platform ---------------- */

static uint64_t prng_next(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1) with 53 random bits. */
static double prng_uniform(uint64_t *state) { return (double)(prng_next(state) >> 11) * 0x1.0p-53; }

/* ---- choosing the next token ---------------------------------------------------- */

static int64_t argmax(const float *v, int64_t n) {
    int64_t best = 0;
    for (int64_t i = 1; i < n; i++)
        if (v[i] > v[best]) best = i;
    return best;
}

/* Indices of the k largest values, largest first (the lower index first on
 * ties), by insertion into a sorted list: O(n k), fine for k in the tens. */
static void top_k(const float *v, int64_t n, int k, int64_t *best) {
    int found = 0;
    for (int64_t i = 0; i < n; i++) {
        int pos = found < k ? found++ : k;
        while (pos > 0 && v[i] > v[best[pos - 1]]) {
            if (pos < k) best[pos] = best[pos - 1];
            pos--;
        }
        if (pos < k) best[pos] = i;
    }
}

/* Draws from softmax(logits / temperature) restricted to the k largest. */
static int64_t sample_top_k(const float *logits, int64_t vocab, int k, double temperature, uint64_t *state,
                            int64_t *best, double *weight) {
    if (k > vocab) k = (int)vocab;
    top_k(logits, vocab, k, best);
    double total = 0.0;
    for (int i = 0; i < k; i++) { /* relative to the largest, so exp cannot overflow */
        weight[i] = exp(((double)logits[best[i]] - (double)logits[best[0]]) / temperature);
        total += weight[i];
    }
    double u = prng_uniform(state) * total;
    for (int i = 0; i < k; i++) {
        if (u < weight[i]) return best[i];
        u -= weight[i];
    }
    return best[k - 1]; /* u landed on the rounding error of the sum */
}

/* ---- the model ------------------------------------------------------------------- */

static int fail_dlc(const char *what) {
    fprintf(stderr, "generate: %s: %s\n", what, dlc_last_error());
    return 1;
}

static int decoder_open(decoder *d, const char *path, int threads) {
    memset(d, 0, sizeof *d);
    if (dlc_model_load(path, &d->model) != DLC_OK) return fail_dlc("loading the model");
    dlc_tensor_info in, out;
    if (dlc_model_num_inputs(d->model) != 1 || dlc_model_num_outputs(d->model) < 1) {
        fprintf(stderr,
                "generate: %s: expected one input (input_ids) and logits as output 0; a model with past "
                "keys/values needs an artifact that runs any past length, so compile gpt2_lm.onnx\n",
                path);
        return 1;
    }
    if (dlc_model_input(d->model, 0, &in) != DLC_OK || dlc_model_output(d->model, 0, &out) != DLC_OK)
        return fail_dlc("reading the model's interface");
    if (in.dtype != DLC_INT64 || in.rank != 2 || in.dims[0] != 1) {
        fprintf(stderr, "generate: input '%s' must be int64[1, T] token ids (got %s, rank %d)\n", in.name,
                dlc_dtype_name(in.dtype), in.rank);
        return 1;
    }
    if (in.dims[1] < 0) {
        fprintf(stderr, "generate: input '%s' has a symbolic length '%s'; compile with --shape %s=1,T\n", in.name,
                in.dim_names[1] ? in.dim_names[1] : "?", in.name);
        return 1;
    }
    if (out.dtype != DLC_FLOAT32 || out.rank != 3 || out.dims[0] != 1 || out.dims[1] != in.dims[1] ||
        out.dims[2] < 1) {
        fprintf(stderr, "generate: output '%s' must be float32[1, %lld, vocab]\n", out.name,
                (long long)in.dims[1]);
        return 1;
    }
    d->capacity = in.dims[1];
    d->vocab = out.dims[2];
    d->ids = calloc((size_t)d->capacity, sizeof *d->ids);
    d->logits = malloc((size_t)(d->capacity * d->vocab) * sizeof *d->logits);
    if (d->ids == NULL || d->logits == NULL) {
        fprintf(stderr, "generate: out of memory\n");
        return 1;
    }
    dlc_session_options so = {.num_threads = threads};
    if (dlc_session_create(d->model, &so, &d->session) != DLC_OK) return fail_dlc("creating a session");
    return 0;
}

static void decoder_close(decoder *d) {
    dlc_session_free(d->session);
    dlc_model_free(d->model);
    free(d->ids);
    free(d->logits);
}

/* Runs the decoder on ids[0..length) (the rest stays padding) and returns the
 * logits at position length - 1. */
static const float *decoder_step(decoder *d, int64_t length) {
    dlc_tensor in = {.dtype = DLC_INT64, .rank = 2, .dims = {1, d->capacity}, .data = d->ids,
                     .size_bytes = (size_t)d->capacity * sizeof *d->ids};
    dlc_tensor out = {.dtype = DLC_FLOAT32, .rank = 3, .dims = {1, d->capacity, d->vocab}, .data = d->logits,
                      .size_bytes = (size_t)(d->capacity * d->vocab) * sizeof *d->logits};
    if (dlc_session_run(d->session, &in, 1, &out, 1) != DLC_OK) return NULL;
    return d->logits + (length - 1) * d->vocab;
}

/* ---- the command line ------------------------------------------------------------- */

static int usage(const char *argv0) {
    fprintf(stderr,
            "usage: %s MODEL.so --prompt ID,ID,... [-n N] [--top-k K [--temperature T] [--seed S]] [--threads N]\n"
            "  greedy decoding unless --top-k is given; prints the N generated token ids\n",
            argv0);
    return 2;
}

/* Parses a non-negative integer that must fill the whole argument. */
static int parse_int(const char *text, long long max, long long *out) {
    char *end;
    long long v = strtoll(text, &end, 10);
    if (end == text || *end != '\0' || v < 0 || v > max) return 1;
    *out = v;
    return 0;
}

static int parse_prompt(const char *text, options *o) {
    int n = 1;
    for (const char *p = text; *p; p++) n += *p == ',';
    o->prompt = malloc((size_t)n * sizeof *o->prompt);
    if (o->prompt == NULL) return 1;
    const char *p = text;
    for (o->num_prompt = 0; o->num_prompt < n; o->num_prompt++) {
        char *end;
        long long v = strtoll(p, &end, 10);
        if (end == p || v < 0 || (*end != ',' && *end != '\0')) return 1;
        o->prompt[o->num_prompt] = v;
        p = end + (*end == ',');
    }
    return *p != '\0';
}

static int parse_args(int argc, char **argv, options *o) {
    *o = (options){.count = 16, .temperature = 1.0, .threads = 1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        long long n;
        if (a[0] != '-') {
            if (o->model_path != NULL) return usage(argv[0]);
            o->model_path = a;
            continue;
        }
        if (v == NULL) return usage(argv[0]);
        i++;
        if (strcmp(a, "--prompt") == 0) {
            if (parse_prompt(v, o)) {
                fprintf(stderr, "generate: --prompt '%s': expected comma-separated token ids\n", v);
                return 2;
            }
        } else if (strcmp(a, "-n") == 0 && !parse_int(v, 1 << 20, &n) && n > 0) {
            o->count = (int)n;
        } else if (strcmp(a, "--top-k") == 0 && !parse_int(v, 1 << 16, &n) && n > 0) {
            o->top_k = (int)n;
        } else if (strcmp(a, "--seed") == 0 && !parse_int(v, INT64_MAX, &n)) {
            o->seed = (uint64_t)n;
        } else if (strcmp(a, "--threads") == 0 && !parse_int(v, 1024, &n)) {
            o->threads = (int)n;
        } else if (strcmp(a, "--temperature") == 0) {
            char *end;
            o->temperature = strtod(v, &end);
            if (end == v || *end != '\0' || !(o->temperature > 0.0) || !isfinite(o->temperature)) {
                fprintf(stderr, "generate: --temperature '%s': expected a positive number\n", v);
                return 2;
            }
        } else {
            fprintf(stderr, "generate: bad option or value: %s %s\n", a, v);
            return usage(argv[0]);
        }
    }
    if (o->model_path == NULL || o->num_prompt == 0) return usage(argv[0]);
    return 0;
}

static double seconds_now(void) {
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv) {
    options o;
    int status = parse_args(argc, argv, &o);
    if (status) {
        free(o.prompt);
        return status;
    }
    decoder d;
    int64_t *best = NULL;
    double *weight = NULL;
    status = 1;
    if (decoder_open(&d, o.model_path, o.threads)) goto done;
    if (o.num_prompt + o.count - 1 > d.capacity) {
        fprintf(stderr,
                "generate: %d prompt tokens + %d new ones need a sequence of %d, the artifact runs %lld; "
                "recompile with --shape input_ids=1,%d\n",
                o.num_prompt, o.count, o.num_prompt + o.count - 1, (long long)d.capacity,
                o.num_prompt + o.count - 1);
        goto done;
    }
    for (int i = 0; i < o.num_prompt; i++) {
        if (o.prompt[i] >= d.vocab) {
            fprintf(stderr, "generate: prompt token %lld is outside the vocabulary of %lld\n",
                    (long long)o.prompt[i], (long long)d.vocab);
            goto done;
        }
        d.ids[i] = o.prompt[i];
    }
    if (o.top_k > 0) {
        best = malloc((size_t)o.top_k * sizeof *best);
        weight = malloc((size_t)o.top_k * sizeof *weight);
        if (best == NULL || weight == NULL) {
            fprintf(stderr, "generate: out of memory\n");
            goto done;
        }
    }
    uint64_t state = o.seed;
    int64_t length = o.num_prompt;
    double start = seconds_now();
    for (int step = 0; step < o.count; step++) {
        const float *logits = decoder_step(&d, length);
        if (logits == NULL) {
            fail_dlc("running the decoder");
            goto done;
        }
        int64_t next = o.top_k > 0 ? sample_top_k(logits, d.vocab, o.top_k, o.temperature, &state, best, weight)
                                   : argmax(logits, d.vocab);
        printf(step ? " %lld" : "%lld", (long long)next);
        if (length < d.capacity) d.ids[length++] = next; /* the last token needs no room */
    }
    printf("\n");
    double elapsed = seconds_now() - start;
    fprintf(stderr, "generate: %d tokens in %.3f s (%.3f ms per token, sequence %lld)\n", o.count, elapsed,
            1e3 * elapsed / o.count, (long long)d.capacity);
    status = 0;
done:
    decoder_close(&d);
    free(best);
    free(weight);
    free(o.prompt);
    return status;
}
