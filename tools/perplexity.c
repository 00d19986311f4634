/* xlstm-perplexity [--fast-prompts] MODEL TEXT_FILE
   Streams the whole file through one state and reports the mean next-token
   loss. Byte-level models (vocab 256) read bytes; a model directory with a
   tokenizer.json is tokenized with it (xLSTM Large models get BOS first).
   --fast-prompts loads the model with xlstm_model_params.fast_prompts (the
   prompt products on bf16- or int8-rounded activations).
   Last stdout line: loss_nats_per_token=X bits_per_byte=Y ppl=Z */
#if !defined(_WIN32) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#define XLSTM_IMPLEMENTATION
#include "../xlstm.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#define STDERR_IS_TTY() isatty(2)
#else
#define STDERR_IS_TTY() 0
#endif

#define CHUNK 256

int main(int argc, char **argv) {
    xlstm_model *model = NULL;
    xlstm_state *state = NULL;
    xlstm_error err;
    FILE *f;
    unsigned char *text = NULL;
    size_t len = 0, cap = 0, got, pos, V;
    int32_t *toks = NULL;
    size_t n_tok = 0, t;
    float *logits = NULL;
    double total = 0;
    size_t n_pred = 0, pred_bytes = 0;
    xlstm_tokenizer *tok = NULL;
    int rc = 1, progress;
    char path[4096];
    xlstm_model_params params = xlstm_model_default_params();

    if (argc == 4 && !strcmp(argv[1], "--fast-prompts")) {
        params.fast_prompts = 1;
        argv++, argc--;
    }
    if (argc != 3) {
        fprintf(stderr, "usage: xlstm-perplexity [--fast-prompts] MODEL TEXT_FILE\n");
        return 2;
    }
    f = fopen(argv[2], "rb");
    if (!f) {
        fprintf(stderr, "xlstm-perplexity: %s: %s\n", argv[2], strerror(errno));
        return 1;
    }
    do {
        if (len == cap) {
            unsigned char *nb;
            cap = cap ? cap * 2 : 1 << 16;
            nb = (unsigned char *)realloc(text, cap);
            if (!nb) {
                fprintf(stderr, "xlstm-perplexity: out of memory\n");
                fclose(f);
                free(text);
                return 1;
            }
            text = nb;
        }
        got = fread(text + len, 1, cap - len, f);
        len += got;
    } while (got);
    fclose(f);

    if (xlstm_model_load(argv[1], &params, &model, &err) != XLSTM_OK ||
        xlstm_state_create(model, &state, &err) != XLSTM_OK) {
        fprintf(stderr, "xlstm-perplexity: %s\n", err.message);
        goto done;
    }
    V = (size_t)xlstm_model_config(model)->vocab_size;
    snprintf(path, sizeof path, "%s/tokenizer.json", argv[1]);
    f = fopen(path, "rb");
    if (f) { /* BPE: the model directory's tokenizer; xLSTM Large models start with BOS */
        const xlstm_config *cfg = xlstm_model_config(model);
        size_t n = 0, extra = cfg->arch == XLSTM_ARCH_LARGE ? 1 : 0;
        fclose(f);
        if (xlstm_tokenizer_load(path, NULL, &tok, &err) != XLSTM_OK ||
            xlstm_tokenize(tok, (const char *)text, len, NULL, 0, &n) != XLSTM_OK) {
            fprintf(stderr, "xlstm-perplexity: %s\n", err.message);
            goto done;
        }
        toks = (int32_t *)malloc((n + 2) * sizeof(int32_t));
        if (!toks || xlstm_tokenize(tok, (const char *)text, len, toks + extra, n, &n) != XLSTM_OK) {
            fprintf(stderr, "xlstm-perplexity: cannot tokenize %s\n", argv[2]);
            goto done;
        }
        if (extra) toks[0] = cfg->large.bos_token_id;
        n_tok = n + extra;
        for (t = 0; t < n_tok; t++)
            if (toks[t] < 0 || (size_t)toks[t] >= V) {
                fprintf(stderr, "xlstm-perplexity: token id %d outside the model's vocabulary\n", (int)toks[t]);
                goto done;
            }
    } else if (V == 256) { /* byte-level: one token per byte */
        toks = (int32_t *)malloc((len + 1) * sizeof(int32_t));
        if (!toks) {
            fprintf(stderr, "xlstm-perplexity: out of memory\n");
            goto done;
        }
        for (t = 0; t < len; t++) toks[t] = text[t];
        n_tok = len;
    } else {
        fprintf(stderr, "xlstm-perplexity: vocab %lu and no %s\n", (unsigned long)V, path);
        goto done;
    }
    logits = (float *)malloc(CHUNK * V * sizeof(float));
    if (!logits) {
        fprintf(stderr, "xlstm-perplexity: out of memory\n");
        goto done;
    }
    if (n_tok < 2) {
        fprintf(stderr, "xlstm-perplexity: need at least 2 tokens\n");
        goto done;
    }
    progress = STDERR_IS_TTY() && n_tok > 20000;
    /* logits after token t predict token t+1 */
    for (pos = 0; pos + 1 < n_tok; pos += CHUNK) {
        size_t n = n_tok - 1 - pos < CHUNK ? n_tok - 1 - pos : CHUNK;
        xlstm_status s = xlstm_prefill(state, toks + pos, n, logits, NULL);
        if (s != XLSTM_OK) {
            fprintf(stderr, "xlstm-perplexity: %s\n", xlstm_status_string(s));
            goto done;
        }
        for (t = 0; t < n; t++) {
            const float *l = logits + t * V;
            double m = l[0], sum = 0;
            size_t k;
            for (k = 1; k < V; k++)
                if (l[k] > m) m = l[k];
            for (k = 0; k < V; k++) sum += exp((double)l[k] - m);
            total += m + log(sum) - l[toks[pos + t + 1]];
            n_pred++;
            if (tok) { /* bytes the predicted token stands for */
                size_t nb = 0;
                xlstm_token_bytes(tok, toks[pos + t + 1], &nb);
                pred_bytes += nb;
            } else {
                pred_bytes++;
            }
        }
        if (progress) {
            int w = 40, filled = (int)((double)(pos + n) / (double)(n_tok - 1) * w), b;
            fprintf(stderr, "\r[");
            for (b = 0; b < w; b++) fputc(b < filled ? '#' : ' ', stderr);
            fprintf(stderr, "] %lu/%lu  loss %.4f", (unsigned long)(pos + n), (unsigned long)(n_tok - 1), total / (double)n_pred);
        }
    }
    if (progress) fprintf(stderr, "\n");
    {
        double mean = total / (double)n_pred;
        /* bits per byte over the bytes of the predicted tokens */
        double bpb = total / log(2.0) / (double)(pred_bytes ? pred_bytes : 1);
        printf("tokens=%lu predicted=%lu bytes=%lu\n", (unsigned long)n_tok, (unsigned long)n_pred, (unsigned long)len);
        printf("loss_nats_per_token=%.6f bits_per_byte=%.6f ppl=%.6f\n", mean, bpb, exp(mean));
    }
    rc = 0;
done:
    free(text);
    free(toks);
    xlstm_tokenizer_free(tok);
    free(logits);
    xlstm_state_free(state);
    xlstm_model_free(model);
    return rc;
}
