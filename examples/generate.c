/* generate: text completion with an xLSTM model, llama.cpp-style CLI.
   build/generate -m MODEL -p "ROMEO:" -n 200 --seed 7
   Prints the prompt, streams the completion to stdout, and reports token
   counts and speed on stderr. */
#if !defined(_WIN32) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#define XLSTM_IMPLEMENTATION
#include "../xlstm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_MODEL "models/tiny-shakespeare"

static void usage(FILE *f) {
    fprintf(f,
            "usage: generate [options]\n"
            "  -m, --model PATH       model directory or .safetensors file (default " DEFAULT_MODEL ")\n"
            "  -p, --prompt TEXT      prompt (default: empty)\n"
            "  -f, --file PATH        read the prompt from a file\n"
            "  -n, --n-predict N      tokens to generate (default 256)\n"
            "      --temp T           temperature (default 0.8; 0 = greedy)\n"
            "      --top-k K          top-k filter (default 40; 0 = off)\n"
            "      --top-p P          top-p filter (default 0.95; 1 = off)\n"
            "      --min-p P          min-p filter (default 0.05; 0 = off)\n"
            "      --repeat-penalty X repetition penalty (default 1.0 = off)\n"
            "      --repeat-last-n N  tokens the penalty looks back over (default 64)\n"
            "  -s, --seed N           RNG seed (default: from the clock)\n"
            "  -t, --threads N        threads (OpenMP builds)\n"
            "      --greedy           always take the most likely token\n"
            "  -i, --interactive      after the completion, read more text from stdin;\n"
            "                         the state carries over between turns\n"
            "  -h, --help             this message\n");
}

static double now_seconds(void) {
#if defined(CLOCK_MONOTONIC)
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
#else
    return (double)clock() / CLOCKS_PER_SEC;
#endif
}

/* Strict number parsing: the whole argument must be a number. */
static int parse_long(const char *s, long *out) {
    char *end;
    errno = 0;
    *out = strtol(s, &end, 10);
    return s[0] && !*end && !errno;
}
static int parse_float(const char *s, float *out) {
    char *end;
    double v;
    errno = 0;
    v = strtod(s, &end);
    *out = (float)v;
    return s[0] && !*end && !errno && v == v;
}

static char *read_text_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0, cap = 0, got;
    if (!f) return NULL;
    do {
        if (n == cap) {
            char *nb;
            cap = cap ? cap * 2 : 4096;
            nb = (char *)realloc(buf, cap + 1);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
    } while (got);
    fclose(f);
    buf[n] = 0;
    *len = n;
    return buf;
}

/* ---- text <-> tokens --------------------------------------------------------
   A model with vocab 256 and no tokenizer.json is byte-level: token = byte. */
typedef struct codec {
    int byte_level;
} codec;

static int codec_open(codec *c, const char *model_path, const xlstm_config *cfg, char *msg, size_t cap) {
    char path[4096];
    FILE *f;
    snprintf(path, sizeof path, "%s/tokenizer.json", model_path);
    f = fopen(path, "rb");
    if (f) fclose(f);
    if (!f && cfg->vocab_size == 256) {
        c->byte_level = 1;
        return 1;
    }
    snprintf(msg, cap, "model has vocab %d: it needs a tokenizer.json beside its config (BPE support comes with a later version)",
             cfg->vocab_size);
    return 0;
}

/* Encode text into a newly allocated array; returns the count, or -1. */
static long codec_encode(const codec *c, const char *text, size_t len, int32_t **out) {
    size_t i;
    (void)c;
    *out = (int32_t *)malloc((len + 1) * sizeof(int32_t));
    if (!*out) return -1;
    for (i = 0; i < len; i++) (*out)[i] = (unsigned char)text[i];
    return (long)len;
}

/* Write a token's bytes, holding back an incomplete UTF-8 sequence so the
   terminal never sees half a character. */
typedef struct printer {
    unsigned char pending[4];
    int n_pending;
} printer;

static void print_bytes(printer *p, const unsigned char *b, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) {
        unsigned char c = b[i];
        int need;
        if (p->n_pending == 0) {
            if (c < 0x80 || c >= 0xF8 || (c >= 0x80 && c < 0xC0)) { /* ASCII or stray byte: pass through */
                fputc(c, stdout);
                continue;
            }
            p->pending[p->n_pending++] = c;
            continue;
        }
        if ((c & 0xC0) != 0x80) { /* broken sequence: flush it as is */
            fwrite(p->pending, 1, (size_t)p->n_pending, stdout);
            p->n_pending = 0;
            i--;
            continue;
        }
        p->pending[p->n_pending++] = c;
        need = p->pending[0] >= 0xF0 ? 4 : p->pending[0] >= 0xE0 ? 3 : 2;
        if (p->n_pending == need) {
            fwrite(p->pending, 1, (size_t)need, stdout);
            p->n_pending = 0;
        }
    }
}

static void print_token(const codec *c, printer *p, int32_t tok) {
    unsigned char b;
    (void)c;
    b = (unsigned char)tok;
    print_bytes(p, &b, 1);
}

int main(int argc, char **argv) {
    const char *model_path = DEFAULT_MODEL, *prompt = NULL, *prompt_file = NULL;
    char *prompt_buf = NULL;
    long n_predict = 256, threads = 0, v;
    unsigned long long seed = 0;
    int have_seed = 0, interactive = 0, greedy = 0, i;
    xlstm_sampler sampler = xlstm_sampler_init(0);
    xlstm_model *model = NULL;
    xlstm_state *state = NULL;
    xlstm_error err;
    codec cd;
    printer pr;
    int32_t *ptoks = NULL, *history = NULL;
    size_t n_hist = 0, hist_cap = 0;
    void *work = NULL;
    const float *logits = NULL;
    double t_prompt = 0, t_gen = 0;
    long n_prompt_tokens = 0, n_gen_tokens = 0;
    int rc = 1;
    char msg[512];

    sampler.repeat_penalty = 1.0f;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED_VALUE()                                                     \
    do {                                                                 \
        if (!val) {                                                      \
            fprintf(stderr, "generate: %s needs a value\n", a);          \
            usage(stderr);                                               \
            return 2;                                                    \
        }                                                                \
        i++;                                                             \
    } while (0)
#define BAD_VALUE()                                                      \
    do {                                                                 \
        fprintf(stderr, "generate: bad value for %s: %s\n", a, val);     \
        usage(stderr);                                                   \
        return 2;                                                        \
    } while (0)
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "-m") || !strcmp(a, "--model")) {
            NEED_VALUE();
            model_path = val;
        } else if (!strcmp(a, "-p") || !strcmp(a, "--prompt")) {
            NEED_VALUE();
            prompt = val;
        } else if (!strcmp(a, "-f") || !strcmp(a, "--file")) {
            NEED_VALUE();
            prompt_file = val;
        } else if (!strcmp(a, "-n") || !strcmp(a, "--n-predict")) {
            NEED_VALUE();
            if (!parse_long(val, &n_predict) || n_predict < 0) BAD_VALUE();
        } else if (!strcmp(a, "--temp")) {
            NEED_VALUE();
            if (!parse_float(val, &sampler.temperature) || sampler.temperature < 0) BAD_VALUE();
        } else if (!strcmp(a, "--top-k")) {
            NEED_VALUE();
            if (!parse_long(val, &v) || v < 0 || v > 0x7fffffff) BAD_VALUE();
            sampler.top_k = (int32_t)v;
        } else if (!strcmp(a, "--top-p")) {
            NEED_VALUE();
            if (!parse_float(val, &sampler.top_p) || sampler.top_p <= 0 || sampler.top_p > 1) BAD_VALUE();
        } else if (!strcmp(a, "--min-p")) {
            NEED_VALUE();
            if (!parse_float(val, &sampler.min_p) || sampler.min_p < 0 || sampler.min_p > 1) BAD_VALUE();
        } else if (!strcmp(a, "--repeat-penalty")) {
            NEED_VALUE();
            if (!parse_float(val, &sampler.repeat_penalty) || sampler.repeat_penalty <= 0) BAD_VALUE();
        } else if (!strcmp(a, "--repeat-last-n")) {
            NEED_VALUE();
            if (!parse_long(val, &v) || v < 0 || v > 1000000) BAD_VALUE();
            sampler.repeat_last_n = (int32_t)v;
        } else if (!strcmp(a, "-s") || !strcmp(a, "--seed")) {
            NEED_VALUE();
            if (!parse_long(val, &v) || v < 0) BAD_VALUE();
            seed = (unsigned long long)v;
            have_seed = 1;
        } else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) {
            NEED_VALUE();
            if (!parse_long(val, &threads) || threads < 1 || threads > 1024) BAD_VALUE();
        } else if (!strcmp(a, "--greedy")) {
            greedy = 1;
        } else if (!strcmp(a, "-i") || !strcmp(a, "--interactive")) {
            interactive = 1;
        } else {
            fprintf(stderr, "generate: unknown argument: %s\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (prompt && prompt_file) {
        fprintf(stderr, "generate: give -p or -f, not both\n");
        usage(stderr);
        return 2;
    }
    if (!have_seed) seed = (unsigned long long)time(NULL);
    {
        xlstm_sampler s = xlstm_sampler_init(seed);
        sampler.rng = s.rng;
    }
    if (greedy) sampler.temperature = 0;
#ifdef _OPENMP
    if (threads > 0) omp_set_num_threads((int)threads);
#endif

    if (prompt_file) {
        size_t len;
        prompt_buf = read_text_file(prompt_file, &len);
        if (!prompt_buf) {
            fprintf(stderr, "generate: %s: %s\n", prompt_file, strerror(errno));
            return 1;
        }
        prompt = prompt_buf;
    }
    if (!prompt) prompt = "";

    if (xlstm_model_load(model_path, NULL, &model, &err) != XLSTM_OK) {
        fprintf(stderr, "generate: %s\n", err.message);
        goto done;
    }
    if (!codec_open(&cd, model_path, xlstm_model_config(model), msg, sizeof msg)) {
        fprintf(stderr, "generate: %s\n", msg);
        goto done;
    }
    if (xlstm_state_create(model, &state, &err) != XLSTM_OK) {
        fprintf(stderr, "generate: %s\n", err.message);
        goto done;
    }
    {
        int32_t nv = xlstm_model_config(model)->vocab_size;
        work = malloc(xlstm_sampler_work_size(nv));
        if (!work) {
            fprintf(stderr, "generate: out of memory\n");
            goto done;
        }
    }
    memset(&pr, 0, sizeof pr);

    for (;;) { /* one turn: feed text, then generate */
        long n = codec_encode(&cd, prompt, strlen(prompt), &ptoks), k;
        double t0;
        if (n < 0) {
            fprintf(stderr, "generate: cannot encode the prompt\n");
            goto done;
        }
        fwrite(prompt, 1, strlen(prompt), stdout);
        fflush(stdout);
        if (n_hist + (size_t)n + (size_t)n_predict > hist_cap) {
            int32_t *nh;
            hist_cap = (n_hist + (size_t)n + (size_t)n_predict) * 2 + 16;
            nh = (int32_t *)realloc(history, hist_cap * sizeof(int32_t));
            if (!nh) {
                fprintf(stderr, "generate: out of memory\n");
                goto done;
            }
            history = nh;
        }
        t0 = now_seconds();
        if (n > 0) {
            xlstm_status s = xlstm_prefill(state, ptoks, (size_t)n, NULL, &logits);
            if (s != XLSTM_OK) {
                fprintf(stderr, "generate: %s\n", xlstm_status_string(s));
                goto done;
            }
            memcpy(history + n_hist, ptoks, (size_t)n * sizeof(int32_t));
            n_hist += (size_t)n;
            n_prompt_tokens += n;
        }
        t_prompt += now_seconds() - t0;
        free(ptoks);
        ptoks = NULL;
        if (!logits) { /* empty prompt at the very start: begin from a newline */
            int32_t start = 10;
            xlstm_step(state, start, &logits);
            history[n_hist++] = start;
        }
        t0 = now_seconds();
        for (k = 0; k < n_predict; k++) {
            int32_t tok = xlstm_sample(&sampler, logits, xlstm_model_config(model)->vocab_size, history, n_hist, work);
            print_token(&cd, &pr, tok);
            fflush(stdout);
            history[n_hist++] = tok;
            n_gen_tokens++;
            if (xlstm_step(state, tok, &logits) != XLSTM_OK) break;
        }
        t_gen += now_seconds() - t0;
        if (pr.n_pending) fwrite(pr.pending, 1, (size_t)pr.n_pending, stdout), pr.n_pending = 0;
        fflush(stdout);
        if (!interactive) break;
        {
            static char line[65536];
            fprintf(stderr, "\n> ");
            if (!fgets(line, sizeof line, stdin)) break;
            prompt = line;
        }
    }
    printf("\n");
    fprintf(stderr, "\nprompt: %ld tokens in %.3f s (%.1f tokens/s)\n", n_prompt_tokens, t_prompt,
            t_prompt > 0 ? n_prompt_tokens / t_prompt : 0.0);
    fprintf(stderr, "generated: %ld tokens in %.3f s (%.1f tokens/s)\n", n_gen_tokens, t_gen,
            t_gen > 0 ? n_gen_tokens / t_gen : 0.0);
    rc = 0;
done:
    free(work);
    free(ptoks);
    free(history);
    free(prompt_buf);
    xlstm_state_free(state);
    xlstm_model_free(model);
    return rc;
}
