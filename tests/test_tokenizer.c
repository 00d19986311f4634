/* Tokenizer tests: tests/data/tokenizer/index.txt lists "TOKENIZER TEXT" pairs
   whose X.ids come from Hugging Face tokenizers (tools/make_tokenizer_tests.js).
   TOKENIZER "neox" is GPT-NeoX-20B's tokenizer.json, looked up in
   $XLSTM_TOKENIZER_JSON, tests/data/tokenizer/tokenizer.json, then
   ../shared/tokenizers/gpt-neox-20b/tokenizer.json.

   test_main.c includes this file after its helpers (CHECK, CHECK_EQ_INT,
   read_all, counter/counting_params) and lists TOKENIZER_TESTS in tests[]. */


#define TOKDATA "tests/data/tokenizer/"

/* ---- helpers ---------------------------------------------------------------- */

static const char *tok_neox_path(void) {
    static const char *cands[3];
    size_t len, i;
    unsigned char *b;
    cands[0] = getenv("XLSTM_TOKENIZER_JSON");
    cands[1] = TOKDATA "tokenizer.json";
    cands[2] = "../shared/tokenizers/gpt-neox-20b/tokenizer.json";
    for (i = 0; i < 3; i++) {
        if (!cands[i] || !(b = read_all(cands[i], &len))) continue;
        free(b);
        return cands[i];
    }
    return NULL;
}

/* GPT-NeoX's tokenizer, loaded once and freed at exit. */
static xlstm_tokenizer *g_neox;
static void tok_free_neox(void) {
    xlstm_tokenizer_free(g_neox);
    g_neox = NULL;
}
static xlstm_tokenizer *tok_neox(void) {
    xlstm_error err;
    const char *p = tok_neox_path();
    if (g_neox) return g_neox;
    if (!p) {
        printf("  GPT-NeoX tokenizer.json not found: set XLSTM_TOKENIZER_JSON\n");
        return NULL;
    }
    if (xlstm_tokenizer_load(p, NULL, &g_neox, &err) != XLSTM_OK) printf("  %s\n", err.message);
    else atexit(tok_free_neox);
    return g_neox;
}

/* Whitespace-separated ids; returns the count, or -1. */
static long tok_read_ids(const char *path, int32_t **ids) {
    size_t len, n = 0, cap = 16;
    unsigned char *text = read_all(path, &len);
    char *p, *end;
    *ids = NULL;
    if (!text) return -1;
    *ids = (int32_t *)malloc(cap * sizeof(int32_t));
    for (p = (char *)text;;) {
        long v = strtol(p, &end, 10);
        if (end == p) break;
        if (n == cap) *ids = (int32_t *)realloc(*ids, (cap *= 2) * sizeof(int32_t));
        (*ids)[n++] = (int32_t)v;
        p = end;
    }
    free(text);
    return (long)n;
}

/* Encode with a buffer of exactly the size a size query reports. */
static xlstm_status tok_encode(const xlstm_tokenizer *tok, const char *text, size_t len, int32_t **ids, size_t *n) {
    xlstm_status s = xlstm_tokenize(tok, text, len, NULL, 0, n);
    *ids = NULL;
    if (s != XLSTM_OK) return s;
    *ids = (int32_t *)malloc((*n + 1) * sizeof(int32_t));
    return xlstm_tokenize(tok, text, len, *ids, *n, n);
}

/* Concatenated token bytes, through a stream (so invalid UTF-8 -> U+FFFD). */
static char *tok_decode(const xlstm_tokenizer *tok, const int32_t *ids, size_t n, size_t *len) {
    size_t cap = 64, o = 0, i, bl;
    char *out = (char *)malloc(cap);
    xlstm_utf8_stream st;
    memset(&st, 0, sizeof st);
    for (i = 0; i <= n; i++) {
        const char *b = i < n ? xlstm_token_bytes(tok, ids[i], &bl) : "";
        if (i < n && !b) {
            free(out);
            return NULL;
        }
        if (i == n) bl = 0;
        while (o + XLSTM_UTF8_STREAM_BOUND(bl) + 3 > cap) out = (char *)realloc(out, cap *= 2);
        o += i < n ? xlstm_utf8_stream_push(&st, b, bl, out + o, cap - o) : xlstm_utf8_stream_flush(&st, out + o, cap - o);
    }
    *len = o;
    return out;
}

/* What xlstm_tokenize sees: lossy UTF-8, then the tokenizer's normalizer. */
static char *tok_expected_text(const xlstm_tokenizer *tok, const char *text, size_t len, size_t *out_len) {
    xlstm_utf8_stream st;
    char *lossy = (char *)malloc(XLSTM_UTF8_STREAM_BOUND(len) + 3), *res;
    size_t n, nn;
    const unsigned char *norm;
    xlstm__tok_ctx cx;
    memset(&st, 0, sizeof st);
    n = xlstm_utf8_stream_push(&st, text, len, lossy, XLSTM_UTF8_STREAM_BOUND(len));
    n += xlstm_utf8_stream_flush(&st, lossy + n, 3);
    memset(&cx, 0, sizeof cx);
    cx.tok = tok;
    cx.a = &tok->alloc;
    if (!xlstm__tok_normalize(&cx, (const unsigned char *)lossy, n, &norm, &nn)) {
        free(lossy);
        xlstm__tok_ctx_free(&cx);
        return NULL;
    }
    res = (char *)malloc(nn + 1);
    memcpy(res, norm, nn);
    *out_len = nn;
    xlstm__tok_ctx_free(&cx);
    free(lossy);
    return res;
}

/* ---- every text of the index matches HF's ids --------------------------------- */

static void test_tok_files(void) {
    size_t ilen, checked = 0;
    unsigned char *index = read_all(TOKDATA "index.txt", &ilen);
    char *line;
    int bad = 0;
    CHECK(index != NULL);
    CHECK(tok_neox() != NULL);
    for (line = strtok((char *)index, "\n"); line && !bad; line = strtok(NULL, "\n")) {
        char tj[256], tx[256], path[600];
        xlstm_tokenizer *tok = NULL;
        xlstm_error err;
        unsigned char *text;
        size_t len, n, i;
        int32_t *ids = NULL, *want;
        long nw;
        if (sscanf(line, "%255s %255s", tj, tx) != 2) continue;
        if (!strcmp(tj, "neox")) {
            tok = tok_neox();
        } else {
            snprintf(path, sizeof path, TOKDATA "%s", tj);
            if (xlstm_tokenizer_load(path, NULL, &tok, &err) != XLSTM_OK) {
                printf("  %s: %s\n", path, err.message);
                bad = 1;
                break;
            }
        }
        snprintf(path, sizeof path, TOKDATA "%s", tx);
        text = read_all(path, &len);
        snprintf(path + strlen(path) - 4, 5, ".ids");
        nw = tok_read_ids(path, &want);
        if (!text || nw < 0) {
            printf("  %s: cannot read the text or its ids\n", tx);
            bad = 1;
        } else if (tok_encode(tok, (const char *)text, len, &ids, &n) != XLSTM_OK) {
            printf("  %s: xlstm_tokenize failed\n", tx);
            bad = 1;
        } else {
            for (i = 0; i < n && i < (size_t)nw && ids[i] == want[i]; i++) {}
            if (i < n || n != (size_t)nw) {
                printf("  %s: %lu ids, HF %ld; first difference at %lu: %ld vs HF %ld\n", tx, (unsigned long)n, nw,
                       (unsigned long)i, i < n ? (long)ids[i] : -1L, i < (size_t)nw ? (long)want[i] : -1L);
                bad = 1;
            }
            checked++;
        }
        free(text);
        free(want);
        free(ids);
        if (tok != g_neox) xlstm_tokenizer_free(tok);
    }
    free(index);
    CHECK(!bad);
    CHECK(checked >= 18);
}

/* ---- decode(encode(x)) == NFC(x) ---------------------------------------------- */

static void test_tok_roundtrip(void) {
    static const char *names[] = {"accents", "apostrophes", "cjk", "code_c", "code_python", "emoji",
                                  "invalid_utf8", "numbers", "special_tokens", "whitespace", "gen_fuzz",
                                  "gen_long_runs", "gen_shakespeare", "gen_unicode"};
    xlstm_tokenizer *tok = tok_neox();
    size_t k;
    CHECK(tok != NULL);
    for (k = 0; k < sizeof names / sizeof names[0]; k++) {
        char path[256];
        size_t len, n, dl = 0, el = 0;
        unsigned char *text;
        int32_t *ids;
        char *dec, *exp;
        snprintf(path, sizeof path, TOKDATA "%s.txt", names[k]);
        text = read_all(path, &len);
        CHECK(text != NULL);
        CHECK(tok_encode(tok, (const char *)text, len, &ids, &n) == XLSTM_OK);
        dec = tok_decode(tok, ids, n, &dl);
        exp = tok_expected_text(tok, (const char *)text, len, &el);
        if (!dec || !exp || dl != el || memcmp(dec, exp, dl) != 0) printf("  %s: round trip differs\n", names[k]);
        CHECK(dec && exp && dl == el && memcmp(dec, exp, dl) == 0);
        free(text);
        free(ids);
        free(dec);
        free(exp);
    }
}

/* ---- the UTF-8 stream ----------------------------------------------------------- */

/* Is s[0..n) complete, valid UTF-8? */
static int tok_valid_utf8(const char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        int k = xlstm__tok_utf8((const unsigned char *)s + i, n - i, &cp);
        if (k <= 0) return 0;
        i += (size_t)k;
    }
    return 1;
}

static void test_tok_utf8_stream(void) {
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"abc", "abc"},
        {"\xC3\xA9", "\xC3\xA9"},
        {"\xF0\x9F\x98\x80!", "\xF0\x9F\x98\x80!"},
        {"\x80", "\xEF\xBF\xBD"},
        {"\xE2\x82x", "\xEF\xBF\xBDx"},               /* truncated 3-byte sequence: one U+FFFD */
        {"\xED\xA0\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"}, /* a surrogate: three */
        {"\xF4\x90\x80\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},
        {"\xC0\xAF", "\xEF\xBF\xBD\xEF\xBF\xBD"},
        {"\xF0\x9F\x98", "\xEF\xBF\xBD"}, /* incomplete at the end: flushed as one U+FFFD */
        {"a\xFF" "b", "a\xEF\xBF\xBD" "b"},
    };
    xlstm_tokenizer *tok = tok_neox();
    size_t k, i, o, len, n, dl;
    char out[256];
    unsigned char *text;
    int32_t *ids;
    for (k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        /* whole, then one byte at a time: the same output either way */
        xlstm_utf8_stream st;
        int pass;
        for (pass = 0; pass < 2; pass++) {
            size_t inl = strlen(cases[k].in);
            memset(&st, 0, sizeof st);
            o = 0;
            if (pass == 0) {
                o = xlstm_utf8_stream_push(&st, cases[k].in, inl, out, sizeof out);
            } else {
                for (i = 0; i < inl; i++) {
                    size_t got = xlstm_utf8_stream_push(&st, cases[k].in + i, 1, out + o, sizeof out - o);
                    CHECK(tok_valid_utf8(out + o, got));
                    o += got;
                }
            }
            o += xlstm_utf8_stream_flush(&st, out + o, sizeof out - o);
            CHECK_EQ_INT(o, strlen(cases[k].out));
            CHECK(memcmp(out, cases[k].out, o) == 0);
        }
    }
    { /* a small out_cap drops whole characters, never half of one */
        xlstm_utf8_stream st;
        memset(&st, 0, sizeof st);
        CHECK_EQ_INT(xlstm_utf8_stream_push(&st, "a\xC3\xA9", 3, out, 2), 1);
        CHECK_EQ_INT(xlstm_utf8_stream_push(NULL, "a", 1, out, 2), 0);
    }
    /* every token of a real text, byte by byte: each push gives complete characters */
    CHECK(tok != NULL);
    text = read_all(TOKDATA "emoji.txt", &len);
    CHECK(text != NULL);
    CHECK(tok_encode(tok, (const char *)text, len, &ids, &n) == XLSTM_OK);
    {
        xlstm_utf8_stream st;
        char *acc = (char *)malloc(len + 16);
        size_t total = 0;
        memset(&st, 0, sizeof st);
        for (k = 0; k < n; k++) {
            const char *b = xlstm_token_bytes(tok, ids[k], &dl);
            CHECK(b != NULL);
            for (i = 0; i < dl; i++) {
                size_t got = xlstm_utf8_stream_push(&st, b + i, 1, out, sizeof out);
                CHECK(tok_valid_utf8(out, got));
                CHECK(total + got <= len);
                memcpy(acc + total, out, got);
                total += got;
            }
        }
        total += xlstm_utf8_stream_flush(&st, acc + total, 16);
        CHECK(total == len && memcmp(acc, text, len) == 0); /* emoji.txt is NFC already */
        free(acc);
    }
    free(ids);
    free(text);
}

/* ---- the API on GPT-NeoX ------------------------------------------------------- */

static void test_tok_api(void) {
    xlstm_tokenizer *tok = tok_neox(), *t2;
    xlstm_error err;
    const char *b;
    size_t len, n;
    int32_t ids[8];
    CHECK(tok != NULL);
    CHECK_EQ_INT(xlstm_tokenizer_n_vocab(tok), 50277);
    CHECK_EQ_INT(xlstm_tokenizer_token_id(tok, "<|endoftext|>"), 0);
    CHECK_EQ_INT(xlstm_tokenizer_token_id(tok, "<|padding|>"), 1);
    CHECK_EQ_INT(xlstm_tokenizer_token_id(tok, "  "), 50276);
    CHECK_EQ_INT(xlstm_tokenizer_token_id(tok, "\xC4\xA0the"), 253); /* "Ġthe" */
    CHECK_EQ_INT(xlstm_tokenizer_token_id(tok, "no such token"), -1);
    CHECK_EQ_INT(xlstm_tokenizer_token_id(NULL, "a"), -1);
    b = xlstm_token_bytes(tok, 0, &len);
    CHECK(b && len == 13 && !memcmp(b, "<|endoftext|>", 13));
    b = xlstm_token_bytes(tok, 253, &len);
    CHECK(b && len == 4 && !memcmp(b, " the", 4));
    b = xlstm_token_bytes(tok, 50254, &len);
    CHECK(b && len == 24 && !memcmp(b, "                        ", 24));
    b = xlstm_token_bytes(tok, 187, &len); /* "Ċ" */
    CHECK(b && len == 1 && b[0] == '\n');
    CHECK(xlstm_token_bytes(tok, -1, &len) == NULL && len == 0);
    CHECK(xlstm_token_bytes(tok, 50277, &len) == NULL && len == 0);
    CHECK(xlstm_token_is_special(tok, 0) && xlstm_token_is_special(tok, 1));
    CHECK(!xlstm_token_is_special(tok, 50276) && !xlstm_token_is_special(tok, 253) && !xlstm_token_is_special(tok, -5));
    /* sizes: query, exact, too small, empty */
    CHECK(xlstm_tokenize(tok, "Hello world", 11, NULL, 0, &n) == XLSTM_OK && n == 2);
    CHECK(xlstm_tokenize(tok, "Hello world", 11, ids, 2, &n) == XLSTM_OK && n == 2);
    CHECK(ids[0] == 12092 && ids[1] == 1533);
    ids[1] = -7;
    CHECK(xlstm_tokenize(tok, "Hello world", 11, ids, 1, &n) == XLSTM_ERR_ARG && n == 2);
    CHECK(ids[0] == 12092 && ids[1] == -7);
    CHECK(xlstm_tokenize(tok, "", 0, ids, 8, &n) == XLSTM_OK && n == 0);
    CHECK(xlstm_tokenize(tok, NULL, 0, ids, 8, &n) == XLSTM_OK && n == 0);
    CHECK(xlstm_tokenize(tok, "a\0b", 3, ids, 8, &n) == XLSTM_OK && n == 3); /* NUL is a character */
    CHECK(xlstm_tokenize(tok, NULL, 1, ids, 8, &n) == XLSTM_ERR_ARG);
    CHECK(xlstm_tokenize(tok, "a", 1, NULL, 8, &n) == XLSTM_ERR_ARG);
    CHECK(xlstm_tokenize(tok, "a", 1, ids, 8, NULL) == XLSTM_ERR_ARG);
    CHECK(xlstm_tokenize(NULL, "a", 1, ids, 8, &n) == XLSTM_ERR_ARG);
    /* loading errors */
    CHECK(xlstm_tokenizer_load(TOKDATA "no-such-file.json", NULL, &t2, &err) == XLSTM_ERR_IO && t2 == NULL);
    CHECK(err.status == XLSTM_ERR_IO && strstr(err.message, "no-such-file"));
    CHECK(xlstm_tokenizer_load(NULL, NULL, &t2, &err) == XLSTM_ERR_ARG);
    CHECK(xlstm_tokenizer_load_from_memory("{}", 2, NULL, NULL, &err) == XLSTM_ERR_ARG);
    CHECK_EQ_INT(xlstm_tokenizer_n_vocab(NULL), 0);
    xlstm_tokenizer_free(NULL);
}

/* ---- hostile tokenizer.json ------------------------------------------------------ */

/* A small valid tokenizer: every variant below breaks one thing. */
static const char *tok_small_json(void) {
    return "{\"version\":\"1.0\",\"added_tokens\":[{\"id\":9,\"content\":\"<s>\",\"special\":true,\"normalized\":false,"
           "\"lstrip\":false,\"rstrip\":false,\"single_word\":false},{\"id\":10,\"content\":\"  \",\"special\":false}],"
           "\"normalizer\":{\"type\":\"NFC\"},"
           "\"pre_tokenizer\":{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"trim_offsets\":true},"
           "\"post_processor\":null,\"decoder\":{\"type\":\"ByteLevel\"},"
           "\"model\":{\"type\":\"BPE\",\"dropout\":null,\"unk_token\":null,\"vocab\":{\"a\":0,\"b\":1,\"ab\":2,"
           "\"\\u0120\":3,\"c\":4,\"\\u0120ab\":5,\"\\u00c3\":6,\"\\u00a9\":7,\"\\u00c3\\u00a9\":8},"
           "\"merges\":[\"a b\",\"\\u0120 ab\",[\"\\u00c3\",\"\\u00a9\"]]}}";
}

/* small_json with its first occurrence of from replaced by to (static buffer). */
static const char *tok_variant(const char *from, const char *to) {
    static char buf[4096];
    const char *s = tok_small_json(), *p = strstr(s, from);
    size_t pre;
    if (!p) return NULL;
    pre = (size_t)(p - s);
    memcpy(buf, s, pre);
    strcpy(buf + pre, to);
    strcat(buf, p + strlen(from));
    return buf;
}

static void test_tok_hostile_json(void) {
    static const struct {
        const char *from, *to;
        xlstm_status want;
    } cases[] = {
        {"\"vocab\":{", "\"vocab\":[", XLSTM_ERR_JSON},
        {"\"vocab\":{\"a\":0,", "\"vocab\":[],\"x\":{\"a\":0,", XLSTM_ERR_CONFIG},
        {"\"a\":0", "\"a\":\"0\"", XLSTM_ERR_CONFIG},
        {"\"a\":0", "\"a\":-1", XLSTM_ERR_CONFIG},
        {"\"a\":0", "\"a\":1.5", XLSTM_ERR_CONFIG},
        {"\"a\":0", "\"a\":1e300", XLSTM_ERR_CONFIG},
        {"\"a\":0", "\"a\":2147483648", XLSTM_ERR_CONFIG},
        {"\"a\":0", "\"a\":99999999999999999999999999999999", XLSTM_ERR_CONFIG},
        {"\"a\":0", "\"a\":null", XLSTM_ERR_CONFIG},
        {"\"a b\"", "\"a b c\"", XLSTM_ERR_CONFIG},
        {"\"a b\"", "\"ab\"", XLSTM_ERR_CONFIG},
        {"\"a b\"", "\"a z\"", XLSTM_ERR_CONFIG},
        {"\"a b\"", "\"b c\"", XLSTM_ERR_CONFIG}, /* "bc" is not in the vocabulary */
        {"\"a b\"", "7", XLSTM_ERR_CONFIG},
        {"[\"\\u00c3\",\"\\u00a9\"]", "[\"\\u00c3\"]", XLSTM_ERR_CONFIG},
        {"[\"\\u00c3\",\"\\u00a9\"]", "[\"\\u00c3\",3]", XLSTM_ERR_CONFIG},
        {"\"merges\":[", "\"merges\":{\"x\":[", XLSTM_ERR_JSON},
        {"\"merges\":[\"a b\",", "\"nomerges\":[\"a b\",", XLSTM_ERR_CONFIG},
        {"\"model\":{", "\"model\":[{", XLSTM_ERR_JSON},
        {"\"model\":{", "\"modl\":{", XLSTM_ERR_CONFIG},
        {"\"type\":\"BPE\"", "\"type\":\"Unigram\"", XLSTM_ERR_UNSUPPORTED},
        {"\"type\":\"BPE\"", "\"type\":\"WordPiece\"", XLSTM_ERR_UNSUPPORTED},
        {"\"type\":\"BPE\"", "\"type\":7", XLSTM_ERR_UNSUPPORTED},
        {"\"dropout\":null", "\"dropout\":0.1", XLSTM_ERR_UNSUPPORTED},
        {"\"dropout\":null", "\"dropout\":\"x\"", XLSTM_ERR_CONFIG},
        {"\"unk_token\":null", "\"unk_token\":\"<unk>\"", XLSTM_ERR_CONFIG},
        {"\"unk_token\":null", "\"unk_token\":5", XLSTM_ERR_CONFIG},
        {"\"unk_token\":null", "\"continuing_subword_prefix\":"
                               "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"",
         XLSTM_ERR_CONFIG},
        {"\"unk_token\":null", "\"byte_fallback\":1", XLSTM_ERR_CONFIG},
        {"{\"type\":\"NFC\"}", "{\"type\":\"Lowercase\"}", XLSTM_ERR_UNSUPPORTED},
        {"{\"type\":\"NFC\"}", "{\"type\":\"NFKC\"}", XLSTM_ERR_UNSUPPORTED},
        {"{\"type\":\"NFC\"}", "{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"NFD\"},{\"type\":\"Strip\"}]}",
         XLSTM_ERR_UNSUPPORTED},
        {"{\"type\":\"NFC\"}", "{\"type\":\"Sequence\"}", XLSTM_ERR_CONFIG},
        {"{\"type\":\"NFC\"}", "[]", XLSTM_ERR_CONFIG},
        {"\"type\":\"ByteLevel\",\"add", "\"type\":\"Metaspace\",\"add", XLSTM_ERR_UNSUPPORTED},
        {"\"type\":\"ByteLevel\",\"add", "\"type\":\"Whitespace\",\"add", XLSTM_ERR_UNSUPPORTED},
        {"\"add_prefix_space\":false", "\"add_prefix_space\":\"no\"", XLSTM_ERR_CONFIG},
        {"\"pre_tokenizer\":{", "\"pre_tokenizer\":null,\"x\":{", XLSTM_ERR_UNSUPPORTED},
        {"\"decoder\":{\"type\":\"ByteLevel\"}", "\"decoder\":{\"type\":\"WordPiece\"}", XLSTM_ERR_UNSUPPORTED},
        {"\"decoder\":{\"type\":\"ByteLevel\"}", "\"decoder\":3", XLSTM_ERR_CONFIG},
        {"\"version\":\"1.0\"", "\"version\":\"2.0\"", XLSTM_ERR_UNSUPPORTED},
        {"\"added_tokens\":[", "\"added_tokens\":{\"x\":[", XLSTM_ERR_JSON},
        {"\"added_tokens\":[{", "\"added_tokens\":[7,{", XLSTM_ERR_CONFIG},
        {"\"content\":\"<s>\"", "\"content\":[\"<s>\"]", XLSTM_ERR_CONFIG},
        {"\"content\":\"<s>\"", "\"contents\":\"<s>\"", XLSTM_ERR_CONFIG},
        {"\"special\":true", "\"special\":\"yes\"", XLSTM_ERR_CONFIG},
        {"\"lstrip\":false", "\"lstrip\":0", XLSTM_ERR_CONFIG},
        {"\"content\":\"<s>\"", "\"content\":\"<xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                                "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                                "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx>\"",
         XLSTM_ERR_UNSUPPORTED}, /* longer than XLSTM_TOKENIZER_MAX_ADDED_LEN */
        {"\"a\":0", "\"\\ud800\":11,\"a\":0", XLSTM_OK}, /* a lone surrogate escape reads as U+FFFD */
        {"\"a\":0", "\"\\u0000\":0,\"a\":0", XLSTM_OK},
        {"\"a\":0", "\"a\":0,\"a\":1", XLSTM_OK}, /* repeated key: the last wins, as in HF */
        {"\"a b\"", "\"#version: 0.2\",\"a b\"", XLSTM_OK},
        {"\"dropout\":null", "\"dropout\":0", XLSTM_OK},
        {"{\"type\":\"NFC\"}", "null", XLSTM_OK},
        {"\"content\":\"<s>\"", "\"content\":\"\"", XLSTM_OK}, /* ignored, as in HF */
    };
    const char *base = tok_small_json();
    size_t k, n, len = strlen(base);
    counter c;
    xlstm_model_params p = counting_params(&c);
    xlstm_tokenizer *tok;
    xlstm_error err;
    xlstm_status s;
    int32_t ids[16];
    /* the base loads and works */
    CHECK(xlstm_tokenizer_load_from_memory(base, len, &p, &tok, &err) == XLSTM_OK);
    CHECK(xlstm_tokenize(tok, "ab <s>\xC3\xA9  c", 11, ids, 16, &n) == XLSTM_OK);
    CHECK_EQ_INT(n, 6); /* ab, " ", <s>, é, "  " (added: id 10 after <s>'s 9), c */
    CHECK(ids[0] == 2 && ids[1] == 3 && ids[2] == 9 && ids[3] == 8 && ids[4] == 10 && ids[5] == 4);
    CHECK_EQ_INT(xlstm_tokenizer_n_vocab(tok), 11);
    xlstm_tokenizer_free(tok);
    CHECK_EQ_INT(c.live, 0);
    for (k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const char *v = tok_variant(cases[k].from, cases[k].to);
        CHECK(v != NULL);
        tok = (xlstm_tokenizer *)&tok; /* must be reset to NULL on failure */
        s = xlstm_tokenizer_load_from_memory(v, strlen(v), &p, &tok, &err);
        if (s != cases[k].want) printf("  case %lu: status %d, want %d (%s)\n", (unsigned long)k, s, cases[k].want, err.message);
        CHECK(s == cases[k].want);
        CHECK(s == XLSTM_OK ? tok != NULL : tok == NULL && err.status == s && err.message[0]);
        if (s == XLSTM_OK) CHECK(xlstm_tokenize(tok, "ab \xC3\xA9 c", 8, ids, 16, &n) == XLSTM_OK);
        xlstm_tokenizer_free(tok);
        CHECK_EQ_INT(c.live, 0);
    }
    /* every truncation */
    for (k = 0; k < len; k++) {
        s = xlstm_tokenizer_load_from_memory(base, k, &p, &tok, &err);
        CHECK(s == XLSTM_ERR_JSON && tok == NULL);
        CHECK_EQ_INT(c.live, 0);
    }
    /* invalid UTF-8 anywhere in the file */
    {
        char *bad = (char *)malloc(len + 1);
        memcpy(bad, base, len + 1);
        bad[strstr(base, "<s>") - base + 1] = (char)0xFF;
        CHECK(xlstm_tokenizer_load_from_memory(bad, len, &p, &tok, &err) == XLSTM_ERR_JSON);
        free(bad);
    }
    /* deep nesting, a huge number, a non-object root */
    {
        char deep[600];
        memset(deep, '[', 300);
        memset(deep + 300, ']', 300);
        CHECK(xlstm_tokenizer_load_from_memory(deep, 600, &p, &tok, &err) == XLSTM_ERR_JSON);
        CHECK(xlstm_tokenizer_load_from_memory("[1]", 3, &p, &tok, &err) == XLSTM_ERR_CONFIG);
        CHECK(xlstm_tokenizer_load_from_memory("\"x\"", 3, &p, &tok, &err) == XLSTM_ERR_CONFIG);
        CHECK_EQ_INT(c.live, 0);
    }
    /* random byte mutations: any status, no crash, no leak */
    {
        char *m = (char *)malloc(len + 1);
        uint32_t r = 12345;
        for (k = 0; k < 3000; k++) {
            int flips = 1 + (int)(k % 3), f;
            memcpy(m, base, len + 1);
            for (f = 0; f < flips; f++) {
                r = r * 1664525u + 1013904223u;
                static const char alphabet[] = "{}[]\":,0123456789aetrnul\\ \x80\xC3";
                m[(r >> 8) % len] = alphabet[(r >> 20) % (sizeof alphabet - 1)];
            }
            s = xlstm_tokenizer_load_from_memory(m, len, &p, &tok, &err);
            if (s == XLSTM_OK) {
                CHECK(xlstm_tokenize(tok, "ab \xC3\xA9 c<s>", 11, ids, 16, &n) != XLSTM_ERR_NOMEM);
                xlstm_tokenizer_free(tok);
            }
            CHECK_EQ_INT(c.live, 0);
        }
        free(m);
    }
}

/* Every allocation of loading and of encoding may fail: an error, no leak. */
static void test_tok_allocation_failures(void) {
    const char *base = tok_small_json();
    counter c;
    xlstm_model_params p = counting_params(&c);
    xlstm_tokenizer *tok;
    xlstm_error err;
    long total, i;
    size_t n;
    int32_t ids[64];
    const char *text = "ab \xC3\xA9 e\xCC\x81 c<s>  x\xFF"; /* normalizes, replaces, splits */
    CHECK(xlstm_tokenizer_load_from_memory(base, strlen(base), &p, &tok, &err) == XLSTM_OK);
    total = c.total;
    xlstm_tokenizer_free(tok);
    for (i = 0; i < total; i++) {
        xlstm_status s;
        c.total = 0;
        c.fail_after = i;
        s = xlstm_tokenizer_load_from_memory(base, strlen(base), &p, &tok, &err);
        CHECK(s == XLSTM_ERR_NOMEM && tok == NULL);
        CHECK_EQ_INT(c.live, 0);
    }
    c.fail_after = -1;
    CHECK(xlstm_tokenizer_load_from_memory(base, strlen(base), &p, &tok, &err) == XLSTM_OK);
    c.total = 0;
    CHECK(xlstm_tokenize(tok, text, strlen(text), ids, 64, &n) == XLSTM_OK);
    total = c.total;
    CHECK(total > 0);
    for (i = 0; i < total; i++) {
        long live = c.live;
        c.total = 0;
        c.fail_after = i;
        CHECK(xlstm_tokenize(tok, text, strlen(text), ids, 64, &n) == XLSTM_ERR_NOMEM);
        CHECK_EQ_INT(c.live, live);
    }
    c.fail_after = -1;
    xlstm_tokenizer_free(tok);
    CHECK_EQ_INT(c.live, 0);
}

/* Long hostile inputs stay near-linear: no quadratic blow-ups. */
static void test_tok_long_inputs(void) {
    xlstm_tokenizer *tok = tok_neox();
    size_t n, i, len = 1 << 20;
    char *s = (char *)malloc(len);
    int32_t *ids;
    CHECK(tok != NULL);
    for (i = 0; i < len; i++) s[i] = (char)('a' + (i * 7 + i / 3) % 26); /* one 1 MB word */
    CHECK(tok_encode(tok, s, len, &ids, &n) == XLSTM_OK && n > 1000);
    free(ids);
    s[0] = 'e'; /* a letter and a megabyte of combining marks (two bytes each) */
    for (i = 1; i + 1 < len; i += 2) {
        s[i] = (char)0xCC;
        s[i + 1] = (char)(0x81 + (i % 5)); /* U+0301..U+0305 */
    }
    CHECK(tok_encode(tok, s, len - 1, &ids, &n) == XLSTM_OK && n > 1000);
    free(ids);
    memset(s, ' ', len); /* spaces: the 24-space added token, over and over */
    CHECK(tok_encode(tok, s, len, &ids, &n) == XLSTM_OK);
    CHECK_EQ_INT(n, (len + 23) / 24);
    free(ids);
    for (i = 0; i < len / 4; i++) s[i] = (char)(0x80 + i % 64); /* continuation bytes: U+FFFD each */
    CHECK(tok_encode(tok, s, len / 4, &ids, &n) == XLSTM_OK && n >= len / 96);
    free(ids);
    free(s);
}

#define TOKENIZER_TESTS                                                                                   \
    {"tok_files", test_tok_files}, {"tok_roundtrip", test_tok_roundtrip},                                \
        {"tok_utf8_stream", test_tok_utf8_stream}, {"tok_api", test_tok_api},                            \
        {"tok_hostile_json", test_tok_hostile_json}, {"tok_allocation_failures", test_tok_allocation_failures}, \
        {"tok_long_inputs", test_tok_long_inputs},
