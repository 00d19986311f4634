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
#ifdef _OPENMP
#include <omp.h>
#endif

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
#if defined(CLOCK_MONOTONIC) && !defined(_WIN32) /* MinGW: clock_gettime is in winpthread; clock() is wall time there */
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
   A model directory with a tokenizer.json beside its config uses it (BPE);
   a model with vocab 256 and no tokenizer.json is byte-level: token = byte. */
typedef struct codec {
    xlstm_tokenizer *tok;   /* NULL: byte-level */
    int32_t bos;            /* prepended to the first prompt, or -1 */
    int32_t eot;            /* generation stops here, or -1 */
    xlstm_utf8_stream utf8; /* never print half a character */
} codec;

static int codec_open(codec *c, const char *model_path, const xlstm_config *cfg, char *msg, size_t cap) {
    char path[4096];
    FILE *f;
    xlstm_error err;
    memset(c, 0, sizeof *c);
    c->bos = c->eot = -1;
    snprintf(path, sizeof path, "%s/tokenizer.json", model_path);
    f = fopen(path, "rb");
    if (!f) {
        if (cfg->vocab_size == 256) return 1;
        snprintf(msg, cap, "model has vocab %d but no %s (byte-level models have vocab 256)", (int)cfg->vocab_size, path);
        return 0;
    }
    fclose(f);
    if (xlstm_tokenizer_load(path, NULL, &c->tok, &err) != XLSTM_OK) {
        snprintf(msg, cap, "%s", err.message);
        return 0;
    }
    if (xlstm_tokenizer_n_vocab(c->tok) > cfg->vocab_size) {
        snprintf(msg, cap, "tokenizer has %d ids, the model only %d", (int)xlstm_tokenizer_n_vocab(c->tok), (int)cfg->vocab_size);
        return 0;
    }
    /* End of text is <|endoftext|> (id 0 for GPT-NeoX / xLSTM-7b). xLSTM-7b's
       config says eos 2, which is "!" in that vocabulary: we do not stop on it. */
    c->eot = xlstm_tokenizer_token_id(c->tok, "<|endoftext|>");
    /* xLSTM-7b was trained with BOS (force_bos_token_insert): its bos_token_id */
    if (cfg->arch == XLSTM_ARCH_LARGE) c->bos = cfg->large.bos_token_id;
    return 1;
}

static void codec_close(codec *c) { xlstm_tokenizer_free(c->tok); }

/* Encode text into a newly allocated array; returns the count, or -1. */
static long codec_encode(const codec *c, const char *text, size_t len, int add_bos, int32_t **out) {
    size_t i, n = 0;
    long extra = add_bos && c->bos >= 0 ? 1 : 0;
    if (!c->tok) {
        *out = (int32_t *)malloc((len + 1) * sizeof(int32_t));
        if (!*out) return -1;
        for (i = 0; i < len; i++) (*out)[i] = (unsigned char)text[i];
        return (long)len;
    }
    if (xlstm_tokenize(c->tok, text, len, NULL, 0, &n) != XLSTM_OK) return -1;
    *out = (int32_t *)malloc((n + 2) * sizeof(int32_t));
    if (!*out) return -1;
    if (extra) (*out)[0] = c->bos;
    if (xlstm_tokenize(c->tok, text, len, *out + extra, n, &n) != XLSTM_OK) return -1;
    return (long)n + extra;
}

static void codec_print(codec *c, int32_t tok) {
    char out[XLSTM_UTF8_STREAM_BOUND(256)];
    const char *bytes;
    char b;
    size_t len, n;
    if (!c->tok) {
        b = (char)tok;
        bytes = &b;
        len = 1;
    } else {
        if (xlstm_token_is_special(c->tok, tok)) return;
        bytes = xlstm_token_bytes(c->tok, tok, &len);
        if (!bytes) return;
    }
    while (len) { /* long tokens in pieces that fit the buffer */
        size_t piece = len < 256 ? len : 256;
        n = xlstm_utf8_stream_push(&c->utf8, bytes, piece, out, sizeof out);
        fwrite(out, 1, n, stdout);
        bytes += piece;
        len -= piece;
    }
}

static void codec_flush(codec *c) {
    char out[8];
    size_t n = xlstm_utf8_stream_flush(&c->utf8, out, sizeof out);
    fwrite(out, 1, n, stdout);
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
    codec cd = {0};
    int32_t *ptoks = NULL, *history = NULL;
    size_t n_hist = 0, hist_cap = 0;
    void *work = NULL;
    const float *logits = NULL;
    double t_prompt = 0, t_gen = 0;
    long n_prompt_tokens = 0, n_gen_tokens = 0;
    int rc = 1;
    char msg[4608];

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
    for (;;) { /* one turn: feed text, then generate */
        long n = codec_encode(&cd, prompt, strlen(prompt), n_hist == 0, &ptoks), k;
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
        if (!logits) { /* empty prompt at the very start: begin from BOS, or a newline */
            int32_t start = cd.bos >= 0 ? cd.bos : cd.tok ? 0 : 10;
            xlstm_step(state, start, &logits);
            history[n_hist++] = start;
        }
        t0 = now_seconds();
        for (k = 0; k < n_predict; k++) {
            int32_t tok = xlstm_sample(&sampler, logits, xlstm_model_config(model)->vocab_size, history, n_hist, work);
            history[n_hist++] = tok;
            n_gen_tokens++;
            if (tok == cd.eot) break; /* end of text */
            codec_print(&cd, tok);
            fflush(stdout);
            if (xlstm_step(state, tok, &logits) != XLSTM_OK) break;
        }
        t_gen += now_seconds() - t0;
        codec_flush(&cd);
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
    codec_close(&cd);
    xlstm_state_free(state);
    xlstm_model_free(model);
    return rc;
}
