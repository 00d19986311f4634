/* xlstm-logits MODEL TOKENS_FILE OUT_FILE --mode step|prefill
   Writes raw little-endian float32 logits [n_tokens x vocab]: row t holds the
   logits after token t, starting from the empty state. */
#define XLSTM_IMPLEMENTATION
#include "../xlstm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage(void) {
    fprintf(stderr, "usage: xlstm-logits MODEL TOKENS_FILE OUT_FILE [--mode step|prefill]\n");
    return 2;
}

/* Integers separated by commas and/or whitespace. */
static int read_tokens(const char *path, int32_t **out, size_t *n_out) {
    FILE *f = fopen(path, "rb");
    int32_t *v = NULL;
    size_t n = 0, cap = 0;
    int c;
    if (!f) {
        fprintf(stderr, "xlstm-logits: %s: %s\n", path, strerror(errno));
        return 0;
    }
    for (;;) {
        long long x = 0;
        int neg = 0, digits = 0;
        do c = fgetc(f); while (c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r');
        if (c == EOF) break;
        if (c == '-') neg = 1, c = fgetc(f);
        while (c >= '0' && c <= '9') {
            if (x < 1000000000000LL) x = x * 10 + (c - '0');
            digits++;
            c = fgetc(f);
        }
        if (!digits || (c != EOF && c != ',' && c != ' ' && c != '\t' && c != '\n' && c != '\r')) {
            fprintf(stderr, "xlstm-logits: %s: not a list of integer token ids (at token %lu)\n", path, (unsigned long)n);
            free(v);
            fclose(f);
            return 0;
        }
        if (neg) x = -x;
        if (x < INT32_MIN || x > INT32_MAX) x = -1;
        if (n == cap) {
            int32_t *nv;
            cap = cap ? cap * 2 : 256;
            nv = (int32_t *)realloc(v, cap * sizeof *v);
            if (!nv) {
                fprintf(stderr, "xlstm-logits: out of memory\n");
                free(v);
                fclose(f);
                return 0;
            }
            v = nv;
        }
        v[n++] = (int32_t)x;
        if (c == EOF) break;
    }
    fclose(f);
    *out = v;
    *n_out = n;
    return 1;
}

static int write_le_floats(FILE *f, const float *x, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) {
        uint32_t u;
        unsigned char b[4];
        memcpy(&u, &x[i], 4);
        b[0] = (unsigned char)u, b[1] = (unsigned char)(u >> 8), b[2] = (unsigned char)(u >> 16), b[3] = (unsigned char)(u >> 24);
        if (fwrite(b, 1, 4, f) != 4) return 0;
    }
    return 1;
}

int main(int argc, char **argv) {
    const char *pos[3];
    int npos = 0, i, prefill = 0, rc = 1;
    int32_t *tokens = NULL;
    size_t n = 0, t, V;
    xlstm_model *model = NULL;
    xlstm_state *state = NULL;
    xlstm_error err;
    xlstm_status s;
    float *all = NULL;
    FILE *out = NULL;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--mode") == 0 && i + 1 < argc) {
            i++;
            if (strcmp(argv[i], "step") == 0) prefill = 0;
            else if (strcmp(argv[i], "prefill") == 0) prefill = 1;
            else return usage();
        } else if (strncmp(argv[i], "--mode=", 7) == 0) {
            if (strcmp(argv[i] + 7, "step") == 0) prefill = 0;
            else if (strcmp(argv[i] + 7, "prefill") == 0) prefill = 1;
            else return usage();
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return usage();
        } else if (npos < 3) {
            pos[npos++] = argv[i];
        } else {
            return usage();
        }
    }
    if (npos != 3) return usage();
    if (!read_tokens(pos[1], &tokens, &n)) return 1;
    if ((s = xlstm_model_load(pos[0], NULL, &model, &err)) != XLSTM_OK) {
        fprintf(stderr, "xlstm-logits: %s\n", err.message);
        goto done;
    }
    if ((s = xlstm_state_create(model, &state, &err)) != XLSTM_OK) {
        fprintf(stderr, "xlstm-logits: %s\n", err.message);
        goto done;
    }
    V = (size_t)xlstm_model_config(model)->vocab_size;
    for (t = 0; t < n; t++) {
        if (tokens[t] < 0 || tokens[t] >= (int32_t)V) {
            fprintf(stderr, "xlstm-logits: token %lu has id %d, outside the vocabulary [0, %lu)\n", (unsigned long)t,
                    tokens[t], (unsigned long)V);
            goto done;
        }
    }
    if (n && V > (size_t)-1 / sizeof(float) / n) {
        fprintf(stderr, "xlstm-logits: output too large\n");
        goto done;
    }
    all = (float *)malloc(n * V * sizeof(float) + 1);
    if (!all) {
        fprintf(stderr, "xlstm-logits: out of memory for %lu x %lu logits\n", (unsigned long)n, (unsigned long)V);
        goto done;
    }
    if (prefill) {
        s = xlstm_prefill(state, tokens, n, all, NULL);
    } else {
        for (t = 0, s = XLSTM_OK; t < n && s == XLSTM_OK; t++) {
            const float *lg;
            s = xlstm_step(state, tokens[t], &lg);
            if (s == XLSTM_OK) memcpy(all + t * V, lg, V * sizeof(float));
        }
    }
    if (s != XLSTM_OK) {
        fprintf(stderr, "xlstm-logits: %s\n", xlstm_status_string(s));
        goto done;
    }
    out = fopen(pos[2], "wb");
    if (!out || !write_le_floats(out, all, n * V) || fclose(out) != 0) {
        fprintf(stderr, "xlstm-logits: %s: cannot write: %s\n", pos[2], strerror(errno));
        out = NULL;
        goto done;
    }
    out = NULL;
    rc = 0;
done:
    free(all);
    free(tokens);
    xlstm_state_free(state);
    xlstm_model_free(model);
    return rc;
}
