/* generate: text generation with a GPT-2-style decoder, using only dlc.h and libdlcrt.
 *
 *     /usr/bin/python3 scripts/gen_generate_models.py --dlc build/dlc --context 32
 *     example_generate tests/generated/generate/gpt2_lm_dynamic.so --prompt 5,17,42 -n 16  # greedy
 *     example_generate tests/generated/generate/gpt2_lm_past.so --prompt 5,17,42 -n 16 \
 *         --top-k 5 --temperature 0.8 --seed 7
 *
 * Runs the decoder token by token, as model.generate does: after the prompt,
 * each step reads the logits that follow the context and picks the next token,
 * either the largest logit (greedy, the first index on ties, as torch.argmax)
 * or a draw from the k largest after dividing by the temperature (top-k
 * sampling with this file's own PRNG, so a seed gives the same tokens on every
 * machine). The generated token ids are printed on one line of stdout; timing
 * goes to stderr.
 *
 * The decoder comes in one of three forms, told apart by the artifact's inputs:
 *   - real lengths (gpt2_lm compiled without --shape: input_ids [1, sequence]
 *     -> logits [1, sequence, vocab]): every step runs the prompt and the
 *     tokens so far, at their length.
 *   - right-padded (gpt2_lm compiled with --shape input_ids=1,T): every step
 *     runs the prompt and the tokens so far padded with token 0 to T; the
 *     causal mask keeps each position independent of the ones after it, so the
 *     logits at the last real position are those of the unpadded sequence.
 *   - past keys/values (gpt2_lm_past: input_ids and position_ids [1, 1],
 *     attention_mask [1, T], past_X [1, heads, T - 1, head_dim] -> logits
 *     [1, 1, vocab], present_X [1, heads, T, head_dim]): a fixed-size cache
 *     whose real entries sit in its last slots (left padding, masked by
 *     attention_mask); every step runs only the new token and shifts each
 *     present_X by one slot into past_X, as a static KV cache does.
 * With a fixed T, a prompt of P tokens generating N needs P + N - 1 <= T. (The
 * past model is not run with symbolic dims: to dlc, the attention mask's
 * length is a symbol of its own, not past + new, so it compiles only with
 * every dim bound.) */
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

/* The decoder, in one of two forms (see the comment at the top). */
typedef enum decoder_form { FORM_PADDED, FORM_CACHE } decoder_form;

typedef struct decoder {
    decoder_form form;
    dlc_model *model;
    dlc_session *session;
    int num_inputs, num_outputs;
    dlc_tensor *inputs, *outputs; /* one buffer per input/output, in the model's order */
    int64_t capacity;             /* tokens the context can hold */
    int64_t vocab;
    int64_t length;               /* tokens in the context */
    int dynamic;                  /* FORM_PADDED compiled with a symbolic length: runs are unpadded */
    int ids, logits;              /* input/output indices */
    /* FORM_CACHE only */
    int mask, positions;
    int num_past;
    int *past, *present; /* past[i] is fed from present[i] */
    int64_t slots;       /* P: cached slots of a past_* input */
    int fresh;           /* the logits belong to the last token pushed */
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

static size_t element_count(const dlc_tensor *t) {
    size_t count = 1;
    for (int d = 0; d < t->rank; d++) count *= (size_t)t->dims[d];
    return count;
}

/* Allocates a zeroed buffer with the shape of info; 0 on success. A symbolic
 * dim of these decoders is a sequence length, so it is sized for the context. */
static int make_tensor(const dlc_tensor_info *info, int64_t context, dlc_tensor *t) {
    memset(t, 0, sizeof *t);
    t->dtype = info->dtype;
    t->rank = info->rank;
    for (int d = 0; d < info->rank; d++) t->dims[d] = info->dims[d] < 0 ? context : info->dims[d];
    t->size_bytes = element_count(t) * dlc_dtype_size(info->dtype);
    t->data = calloc(t->size_bytes ? t->size_bytes : 1, 1);
    if (t->data == NULL) {
        fprintf(stderr, "generate: out of memory (%zu bytes for '%s')\n", t->size_bytes, info->name);
        return 1;
    }
    return 0;
}

/* Checks a tensor's dtype and shape; dims of -1 in want match anything. */
static int expect(const dlc_model *model, int index, int is_input, dlc_dtype dtype, int rank, const int64_t *want) {
    dlc_tensor_info info;
    if (is_input) dlc_model_input(model, index, &info);
    else dlc_model_output(model, index, &info);
    int ok = info.dtype == dtype && info.rank == rank;
    for (int d = 0; ok && d < rank; d++) ok = want[d] < 0 || info.dims[d] == want[d];
    if (ok) return 0;
    fprintf(stderr, "generate: %s '%s' must be %s[", is_input ? "input" : "output", info.name, dlc_dtype_name(dtype));
    for (int d = 0; d < rank; d++) {
        if (want[d] < 0) fprintf(stderr, d ? ", ?" : "?");
        else fprintf(stderr, d ? ", %lld" : "%lld", (long long)want[d]);
    }
    fprintf(stderr, "] here\n");
    return 1;
}

static int find(const dlc_model *model, const char *name, int is_input, int *index) {
    dlc_status st = is_input ? dlc_model_find_input(model, name, index) : dlc_model_find_output(model, name, index);
    if (st == DLC_OK) return 0;
    fprintf(stderr, "generate: the model has no %s named '%s'\n", is_input ? "input" : "output", name);
    return 1;
}

/* FORM_PADDED: input_ids int64[1, T] -> logits float32[1, T, vocab]; with T
 * symbolic (compiled without --shape), every run has the real length. */
static int open_padded(decoder *d, int64_t context) {
    dlc_tensor_info ids, logits;
    if (d->num_inputs != 1 || expect(d->model, 0, 1, DLC_INT64, 2, (int64_t[]){1, -1})) return 1;
    d->ids = 0;
    if (find(d->model, "logits", 0, &d->logits)) return 1;
    dlc_model_input(d->model, d->ids, &ids);
    dlc_model_output(d->model, d->logits, &logits);
    d->dynamic = ids.dims[1] < 0;
    if (expect(d->model, d->logits, 0, DLC_FLOAT32, 3, (int64_t[]){1, d->dynamic ? -1 : ids.dims[1], -1})) return 1;
    if (logits.dims[2] < 0) {
        fprintf(stderr, "generate: output '%s' has a symbolic vocabulary size\n", logits.name);
        return 1;
    }
    d->capacity = d->dynamic ? context : ids.dims[1];
    d->vocab = logits.dims[2];
    return 0;
}

/* FORM_CACHE: input_ids and position_ids int64[1, 1], attention_mask int64[1, P + 1],
 * past_X float32[1, heads, P, head_dim] -> logits float32[1, 1, vocab],
 * present_X float32[1, heads, P + 1, head_dim] for every past_X. */
static int open_cache(decoder *d) {
    if (find(d->model, "input_ids", 1, &d->ids) || find(d->model, "attention_mask", 1, &d->mask) ||
        find(d->model, "position_ids", 1, &d->positions) || find(d->model, "logits", 0, &d->logits))
        return 1;
    d->past = calloc((size_t)d->num_inputs, sizeof *d->past);
    d->present = calloc((size_t)d->num_inputs, sizeof *d->present);
    if (d->past == NULL || d->present == NULL) {
        fprintf(stderr, "generate: out of memory\n");
        return 1;
    }
    for (int i = 0; i < d->num_inputs; i++) {
        dlc_tensor_info info;
        dlc_model_input(d->model, i, &info);
        for (int k = 0; k < info.rank; k++) {
            if (info.dims[k] >= 0) continue;
            /* to dlc, the mask's length is a symbol of its own, not past + new */
            fprintf(stderr,
                    "generate: input '%s' dim %d is the symbolic '%s': a past-keys/values model runs here as a "
                    "fixed-size cache, compiled with --shape for every input (gen_generate_models.py --dlc)\n",
                    info.name, k, info.dim_names[k] ? info.dim_names[k] : "?");
            return 1;
        }
    }
    d->slots = d->inputs[d->mask].rank == 2 ? d->inputs[d->mask].dims[1] - 1 : -1;
    if (expect(d->model, d->ids, 1, DLC_INT64, 2, (int64_t[]){1, 1}) ||
        expect(d->model, d->positions, 1, DLC_INT64, 2, (int64_t[]){1, 1}) ||
        expect(d->model, d->mask, 1, DLC_INT64, 2, (int64_t[]){1, -1}) ||
        expect(d->model, d->logits, 0, DLC_FLOAT32, 3, (int64_t[]){1, 1, -1}))
        return 1;
    for (int i = 0; i < d->num_inputs; i++) {
        if (i == d->ids || i == d->mask || i == d->positions) continue;
        dlc_tensor_info info;
        dlc_model_input(d->model, i, &info);
        char name[256];
        if (strncmp(info.name, "past_", 5) != 0 || snprintf(name, sizeof name, "present_%s", info.name + 5) >= (int)sizeof name) {
            fprintf(stderr, "generate: input '%s' is neither input_ids, attention_mask, position_ids nor past_*\n",
                    info.name);
            return 1;
        }
        int out;
        if (find(d->model, name, 0, &out)) return 1;
        const int64_t *dims = info.dims;
        if (expect(d->model, i, 1, DLC_FLOAT32, 4, (int64_t[]){1, -1, d->slots, -1}) ||
            expect(d->model, out, 0, DLC_FLOAT32, 4, (int64_t[]){1, dims[1], d->slots + 1, dims[3]}))
            return 1;
        d->past[d->num_past] = i;
        d->present[d->num_past++] = out;
    }
    if (d->num_past == 0) {
        fprintf(stderr, "generate: the model has no past_* inputs\n");
        return 1;
    }
    d->capacity = d->slots + 1;
    d->vocab = d->outputs[d->logits].dims[2];
    return 0;
}

static int decoder_open(decoder *d, const char *path, int threads, int64_t context) {
    memset(d, 0, sizeof *d);
    if (dlc_model_load(path, &d->model) != DLC_OK) return fail_dlc("loading the model");
    d->num_inputs = dlc_model_num_inputs(d->model);
    d->num_outputs = dlc_model_num_outputs(d->model);
    if (d->num_inputs < 1 || d->num_outputs < 1) {
        fprintf(stderr, "generate: %s: expected token ids in and logits out\n", path);
        return 1;
    }
    d->inputs = calloc((size_t)d->num_inputs, sizeof *d->inputs);
    d->outputs = calloc((size_t)d->num_outputs, sizeof *d->outputs);
    if (d->inputs == NULL || d->outputs == NULL) {
        fprintf(stderr, "generate: out of memory\n");
        return 1;
    }
    for (int i = 0; i < d->num_inputs + d->num_outputs; i++) {
        dlc_tensor_info info;
        int is_input = i < d->num_inputs, index = is_input ? i : i - d->num_inputs;
        if ((is_input ? dlc_model_input(d->model, index, &info) : dlc_model_output(d->model, index, &info)) != DLC_OK)
            return fail_dlc("reading the model's interface");
        if (make_tensor(&info, context, is_input ? &d->inputs[index] : &d->outputs[index])) return 1;
    }
    int index;
    d->form = d->num_inputs > 1 && dlc_model_find_input(d->model, "attention_mask", &index) == DLC_OK ? FORM_CACHE
                                                                                                   : FORM_PADDED;
    if (d->form == FORM_CACHE ? open_cache(d) : open_padded(d, context)) return 1;
    dlc_session_options so = {.num_threads = threads};
    if (dlc_session_create(d->model, &so, &d->session) != DLC_OK) return fail_dlc("creating a session");
    return 0;
}

static void decoder_close(decoder *d) {
    dlc_session_free(d->session);
    dlc_model_free(d->model);
    for (int i = 0; d->inputs != NULL && i < d->num_inputs; i++) free(d->inputs[i].data);
    for (int i = 0; d->outputs != NULL && i < d->num_outputs; i++) free(d->outputs[i].data);
    free(d->inputs);
    free(d->outputs);
    free(d->past);
    free(d->present);
}

static int decoder_run(decoder *d) {
    if (dlc_session_run(d->session, d->inputs, d->num_inputs, d->outputs, d->num_outputs) == DLC_OK) return 0;
    return fail_dlc("running the decoder");
}

/* Appends a token to the context. FORM_CACHE runs the decoder on it: the
 * cache holds the last `length` tokens in its last slots, the first slots are
 * masked; the new token goes in slot P at position `length`; then every
 * present_X drops its oldest slot and becomes the next past_X. */
static int decoder_push(decoder *d, int64_t token) {
    if (d->length >= d->capacity) {
        fprintf(stderr, "generate: the context is full (%lld tokens)\n", (long long)d->capacity);
        return 1;
    }
    if (d->form == FORM_PADDED) {
        ((int64_t *)d->inputs[d->ids].data)[d->length++] = token;
        return 0;
    }
    ((int64_t *)d->inputs[d->ids].data)[0] = token;
    ((int64_t *)d->inputs[d->positions].data)[0] = d->length;
    int64_t *mask = d->inputs[d->mask].data;
    for (int64_t slot = 0; slot <= d->slots; slot++) mask[slot] = slot >= d->slots - d->length;
    if (decoder_run(d)) return 1;
    for (int i = 0; i < d->num_past; i++) {
        const dlc_tensor *past = &d->inputs[d->past[i]];
        int64_t heads = past->dims[1], head_dim = past->dims[3];
        float *to = past->data;
        const float *from = d->outputs[d->present[i]].data;
        for (int64_t h = 0; h < heads; h++)
            memcpy(to + h * d->slots * head_dim, from + (h * (d->slots + 1) + 1) * head_dim,
                   (size_t)(d->slots * head_dim) * sizeof *to);
    }
    d->length++;
    d->fresh = 1;
    return 0;
}

/* The logits that follow the context, or NULL after an error. FORM_PADDED
 * runs the whole (right-padded) sequence and reads its last real position. */
static const float *decoder_logits(decoder *d) {
    const float *logits = d->outputs[d->logits].data;
    if (d->form == FORM_CACHE) return d->fresh ? logits : NULL;
    if (d->dynamic) { /* the real length; the run checks the buffers' capacity */
        d->inputs[d->ids].dims[1] = d->length;
        d->outputs[d->logits].dims[1] = d->length;
    }
    if (d->length == 0 || decoder_run(d)) return NULL;
    return logits + (d->length - 1) * d->vocab;
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
    if (decoder_open(&d, o.model_path, o.threads, o.num_prompt + o.count - 1)) goto done;
    if (o.num_prompt + o.count - 1 > d.capacity) {
        fprintf(stderr,
                "generate: %d prompt tokens + %d new ones need a context of %d tokens, the artifact holds %lld; "
                "recompile it for %d (see the README's \"Text generation\")\n",
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
    double start = seconds_now();
    for (int i = 0; i < o.num_prompt; i++) /* FORM_CACHE: one run per prompt token */
        if (decoder_push(&d, o.prompt[i])) goto done;
    double prompt_done = seconds_now();
    for (int step = 0; step < o.count; step++) {
        const float *logits = decoder_logits(&d);
        if (logits == NULL) goto done;
        int64_t next = o.top_k > 0 ? sample_top_k(logits, d.vocab, o.top_k, o.temperature, &state, best, weight)
                                   : argmax(logits, d.vocab);
        printf(step ? " %lld" : "%lld", (long long)next);
        if (step + 1 < o.count && decoder_push(&d, next)) goto done; /* the last token needs no run */
    }
    printf("\n");
    double end = seconds_now();
    fprintf(stderr, "generate: %s, context %lld: prompt %.3f s, %d tokens in %.3f s (%.3f ms per token)\n",
            d.form == FORM_CACHE ? "past keys/values" : d.dynamic ? "real lengths" : "right-padded", (long long)d.capacity,
            prompt_done - start, o.count, end - prompt_done, 1e3 * (end - prompt_done) / o.count);
    status = 0;
done:
    decoder_close(&d);
    free(best);
    free(weight);
    free(o.prompt);
    return status;
}
