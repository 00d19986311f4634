/* xlstm-tokenize: encode or decode with a Hugging Face tokenizer.json.
     xlstm-tokenize TOKENIZER_JSON TEXT_FILE           ids of the text (no BOS), one line
     xlstm-tokenize --decode TOKENIZER_JSON IDS_FILE   the text of whitespace/comma-separated ids
     xlstm-tokenize --bench TOKENIZER_JSON TEXT_FILE   encoding speed on one core (stderr)
   Exit status 0 on success; 1 with a one-line message on stderr on failure. */
#define _POSIX_C_SOURCE 199309L /* clock_gettime */
#define XLSTM_IMPLEMENTATION
#include "../xlstm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    char *buf = NULL, *nb;
    size_t cap = 0, n = 0, got;
    if (!f) return NULL;
    do {
        if (n == cap) {
            cap = cap ? 2 * cap : 1 << 16;
            if (!(nb = (char *)realloc(buf, cap + 1))) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
    } while (got > 0);
    if (ferror(f)) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) buf[n] = 0;
    *len = n;
    return buf;
}

static double now_seconds(void) {
#if defined(CLOCK_MONOTONIC) && !defined(_WIN32)
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
#else
    return (double)clock() / CLOCKS_PER_SEC;
#endif
}

static int encode(const xlstm_tokenizer *tok, const char *text, size_t len, int32_t **ids, size_t *n) {
    size_t cap = len + 16;
    xlstm_status s;
    *ids = (int32_t *)malloc(cap * sizeof(int32_t));
    if (!*ids) return 0;
    s = xlstm_tokenize(tok, text, len, *ids, cap, n);
    if (s == XLSTM_ERR_ARG && *n > cap) { /* more ids than bytes: possible after U+FFFD or NFC growth */
        int32_t *more = (int32_t *)realloc(*ids, *n * sizeof(int32_t));
        if (!more) {
            free(*ids);
            *ids = NULL;
            return 0;
        }
        *ids = more;
        s = xlstm_tokenize(tok, text, len, *ids, *n, n);
    }
    if (s == XLSTM_OK) return 1;
    fprintf(stderr, "xlstm-tokenize: %s\n", xlstm_status_string(s));
    free(*ids);
    *ids = NULL;
    return 0;
}

static int decode(const xlstm_tokenizer *tok, const char *text, const char *path) {
    xlstm_utf8_stream st = {{0}, 0};
    char out[XLSTM_UTF8_STREAM_BOUND(4096)];
    const char *p = text;
    int32_t *ids = NULL, *more;
    size_t n = 0, cap = 0, i, len;
    for (;;) { /* every id is checked before anything is printed */
        char *end;
        long v;
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == ',') p++;
        if (!*p) break;
        v = strtol(p, &end, 10);
        if (end == p || v < 0 || v > INT32_MAX || !xlstm_token_bytes(tok, (int32_t)v, &len)) {
            fprintf(stderr, "xlstm-tokenize: %s: bad token id near \"%.20s\"\n", path, p);
            free(ids);
            return 0;
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 1024;
            if (!(more = (int32_t *)realloc(ids, cap * sizeof(int32_t)))) {
                fprintf(stderr, "xlstm-tokenize: out of memory\n");
                free(ids);
                return 0;
            }
            ids = more;
        }
        ids[n++] = (int32_t)v;
        p = end;
    }
    for (i = 0; i < n; i++) {
        const char *bytes = xlstm_token_bytes(tok, ids[i], &len);
        while (len > 0) { /* tokens are short, but stay within the stream's bound */
            size_t chunk = len < 4096 ? len : 4096;
            fwrite(out, 1, xlstm_utf8_stream_push(&st, bytes, chunk, out, sizeof out), stdout);
            bytes += chunk;
            len -= chunk;
        }
    }
    fwrite(out, 1, xlstm_utf8_stream_flush(&st, out, sizeof out), stdout);
    free(ids);
    return 1;
}

int main(int argc, char **argv) {
    xlstm_tokenizer *tok;
    xlstm_error err;
    const char *mode = "encode";
    char *text;
    size_t len, n, i;
    int32_t *ids;
    int ok = 1;
    if (argc == 4 && (!strcmp(argv[1], "--decode") || !strcmp(argv[1], "--bench"))) {
        mode = argv[1] + 2;
        argv++;
        argc--;
    }
    if (argc != 3 || argv[1][0] == '-') {
        fprintf(stderr, "usage: xlstm-tokenize [--decode | --bench] TOKENIZER_JSON FILE\n");
        return 1;
    }
    if (xlstm_tokenizer_load(argv[1], NULL, &tok, &err) != XLSTM_OK) {
        fprintf(stderr, "xlstm-tokenize: %s\n", err.message);
        return 1;
    }
    if (!(text = slurp(argv[2], &len))) {
        fprintf(stderr, "xlstm-tokenize: %s: cannot read\n", argv[2]);
        xlstm_tokenizer_free(tok);
        return 1;
    }
    if (!strcmp(mode, "decode")) {
        ok = decode(tok, text, argv[2]);
    } else if (!strcmp(mode, "bench")) {
        double t0 = now_seconds(), dt, cpu;
        clock_t c0 = clock();
        int reps = 0;
        do {
            ids = NULL;
            ok = encode(tok, text, len, &ids, &n);
            free(ids);
            reps++;
            dt = now_seconds() - t0;
        } while (ok && (dt < 2.0 || reps < 3));
        cpu = (double)(clock() - c0) / CLOCKS_PER_SEC; /* one thread: CPU time ignores a busy machine */
        if (ok)
            fprintf(stderr, "%lu bytes -> %lu tokens, %d runs: %.2f MB/s, %.0f tokens/s (CPU time); %.2f MB/s wall\n",
                    (unsigned long)len, (unsigned long)n, reps, (double)len * reps / cpu / 1e6,
                    (double)n * reps / cpu, (double)len * reps / dt / 1e6);
    } else if ((ok = encode(tok, text, len, &ids, &n))) {
        for (i = 0; i < n; i++) printf(i ? " %ld" : "%ld", (long)ids[i]);
        printf("\n");
        free(ids);
    }
    free(text);
    xlstm_tokenizer_free(tok);
    if (ok && (fflush(stdout) != 0 || ferror(stdout))) {
        fprintf(stderr, "xlstm-tokenize: write error\n");
        ok = 0;
    }
    return ok ? 0 : 1;
}
