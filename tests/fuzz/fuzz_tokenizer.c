/* libFuzzer target: the tokenizer (xlstm.h built with XLSTM_HAS_TOKENIZER).
   byte 0 bit 2 set: the rest is a tokenizer.json -> xlstm_tokenizer_load_from_memory,
     and a loaded tokenizer encodes a few fixed texts (valid and invalid UTF-8);
   bit 2 clear: the rest is text encoded with fixture tokenizer (byte 0 & 3) of
     tests/data/tokenizer/synth_{a,b,c,d}. Every encoding is checked: the size
     query matches, a short cap writes a prefix and returns XLSTM_ERR_ARG, ids
     are in [0, n_vocab) and name tokens, and their bytes stream back through
     xlstm_utf8_stream to valid UTF-8 within XLSTM_UTF8_STREAM_BOUND. */
#include "fuzz_common.h"

#if defined(XLSTM_HAS_TOKENIZER)
#ifndef XLSTM_FUZZ_DATA_DIR
#define XLSTM_FUZZ_DATA_DIR "tests/data"
#endif
static xlstm_tokenizer *fix[4];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    const char *dir = getenv("XLSTM_FUZZ_DATA");
    int i;
    (void)argc, (void)argv;
    if (!dir) dir = XLSTM_FUZZ_DATA_DIR;
    for (i = 0; i < 4; i++) {
        char path[1024];
        size_t len;
        unsigned char *buf;
        xlstm_error err;
        snprintf(path, sizeof path, "%s/tokenizer/synth_%c/tokenizer.json", dir, 'a' + i);
        buf = fz_read_file(path, &len);
        if (!buf || xlstm_tokenizer_load_from_memory((const char *)buf, len, NULL, &fix[i], &err)) {
            fprintf(stderr, "fuzz_tokenizer: cannot load %s (set XLSTM_FUZZ_DATA)\n", path);
            exit(1);
        }
        free(buf);
    }
    return 0;
}

static int valid_utf8(const unsigned char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        size_t k, len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        uint32_t cp;
        if (!len || i + len > n || (len == 2 && c < 0xC2)) return 0;
        cp = len == 1 ? c : (uint32_t)(c & (0x7F >> len));
        for (k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return 0;
            cp = cp << 6 | (s[i + k] & 0x3F);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp < 0xE000))
            return 0;
        i += len;
    }
    return 1;
}

static void check_encode(const xlstm_tokenizer *tok, const char *text, size_t len) {
    size_t n = 0, n2 = 0, i;
    int32_t *ids, V = xlstm_tokenizer_n_vocab(tok);
    xlstm_status s = xlstm_tokenize(tok, text, len, NULL, 0, &n);
    xlstm_utf8_stream st;
    char *out;
    size_t o = 0, cap = 64;
    if (s == XLSTM_ERR_NOMEM) return;
    if (s) abort();
    ids = (int32_t *)malloc((n + 1) * sizeof *ids);
    if (xlstm_tokenize(tok, text, len, ids, n, &n2) || n2 != n) abort();
    if (n > 1) {
        int32_t first = ids[0];
        if (xlstm_tokenize(tok, text, len, ids, 1, &n2) != XLSTM_ERR_ARG || n2 != n || ids[0] != first) abort();
        xlstm_tokenize(tok, text, len, ids, n, &n2);
    }
    memset(&st, 0, sizeof st);
    out = (char *)malloc(cap);
    for (i = 0; i <= n; i++) {
        size_t bl = 0;
        const char *b = "";
        if (i < n) {
            if (ids[i] < 0 || ids[i] >= V) abort();
            b = xlstm_token_bytes(tok, ids[i], &bl);
            if (!b) abort();
            (void)xlstm_token_is_special(tok, ids[i]);
        }
        while (o + XLSTM_UTF8_STREAM_BOUND(bl) + 3 > cap) out = (char *)realloc(out, cap *= 2);
        o += i < n ? xlstm_utf8_stream_push(&st, b, bl, out + o, cap - o) : xlstm_utf8_stream_flush(&st, out + o, cap - o);
    }
    if (!valid_utf8((const unsigned char *)out, o)) abort();
    free(out);
    free(ids);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char *const texts[] = {"Hello, world! It's 2026.\n", "  \t\xC3\xA9t\xC3\xA9 \xE2\x80\x94 \xF0\x9F\x98\x80 <|endoftext|>",
                                        "\xFF\xC0\x80\xED\xA0\x80 abc \xE2\x82", ""};
    if (size < 1) return 0;
    if (data[0] & 4) {
        xlstm_tokenizer *tok = NULL;
        xlstm_error err;
        if (xlstm_tokenizer_load_from_memory((const char *)data + 1, size - 1, NULL, &tok, &err) == XLSTM_OK) {
            size_t i;
            for (i = 0; i < sizeof texts / sizeof texts[0]; i++) check_encode(tok, texts[i], strlen(texts[i]));
            (void)xlstm_tokenizer_token_id(tok, "<|endoftext|>");
            (void)xlstm_token_bytes(tok, -1, &i);
            (void)xlstm_token_bytes(tok, xlstm_tokenizer_n_vocab(tok), &i);
            xlstm_tokenizer_free(tok);
        } else if (tok) {
            abort();
        }
    } else {
        check_encode(fix[data[0] & 3], (const char *)data + 1, size - 1);
    }
    return 0;
}
#else
/* xlstm.h without a tokenizer: nothing to fuzz. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    (void)data, (void)size;
    return 0;
}
#endif
