/* PyTorch checkpoint (torch.save zip) tests: the hostile files of
   tests/data/tirex/bad (tools/make_bad_checkpoints.py; expected.txt gives each
   file's status), the 2024 LM saved with torch.save against its safetensors
   twin, and a TiRex model.ckpt loaded from a path and from memory.

   test_main.c includes this file after its helpers (CHECK, CHECK_EQ_INT,
   read_all, counter/counting_params, DATA) and lists CKPT_TESTS in tests[]. */

#define CKPTBAD DATA "tirex/bad/"

/* ---- helpers ---------------------------------------------------------------- */

static int ckpt_status_from_name(const char *name, xlstm_status *out) {
    static const struct {
        const char *name;
        xlstm_status s;
    } t[] = {{"XLSTM_OK", XLSTM_OK}, {"XLSTM_ERR_ARG", XLSTM_ERR_ARG}, {"XLSTM_ERR_IO", XLSTM_ERR_IO},
             {"XLSTM_ERR_NOMEM", XLSTM_ERR_NOMEM}, {"XLSTM_ERR_JSON", XLSTM_ERR_JSON},
             {"XLSTM_ERR_CONFIG", XLSTM_ERR_CONFIG}, {"XLSTM_ERR_FORMAT", XLSTM_ERR_FORMAT},
             {"XLSTM_ERR_TRUNCATED", XLSTM_ERR_TRUNCATED}, {"XLSTM_ERR_MISSING", XLSTM_ERR_MISSING},
             {"XLSTM_ERR_SHAPE", XLSTM_ERR_SHAPE}, {"XLSTM_ERR_DTYPE", XLSTM_ERR_DTYPE},
             {"XLSTM_ERR_UNEXPECTED", XLSTM_ERR_UNEXPECTED}, {"XLSTM_ERR_UNSUPPORTED", XLSTM_ERR_UNSUPPORTED},
             {"XLSTM_ERR_TOKEN", XLSTM_ERR_TOKEN}, {"XLSTM_ERR_VALUE", XLSTM_ERR_VALUE}};
    size_t i;
    for (i = 0; i < sizeof t / sizeof t[0]; i++)
        if (strcmp(t[i].name, name) == 0) {
            *out = t[i].s;
            return 1;
        }
    return 0;
}

/* The files the code-running pickles would create (see make_bad_checkpoints.py). */
static const char *const ckpt_markers[] = {"/tmp/xlstm-pwned-posix-system", "/tmp/xlstm-pwned-builtins-eval",
                                           "/tmp/xlstm-pwned-os-system", "/tmp/xlstm-pwned-inst"};
#define CKPT_N_MARKERS (sizeof ckpt_markers / sizeof ckpt_markers[0])

static int ckpt_file_exists(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    fclose(f);
    return 1;
}

/* One load (from the path, or from memory when buf is set): the status must
   be want, a failure leaves no model, no live allocation and a message.
   Returns 1 if all of that holds, printing what did not. */
static int ckpt_check_one(const char *file, const unsigned char *buf, size_t len, int borrow, xlstm_status want) {
    counter c;
    xlstm_model_params p = counting_params(&c);
    xlstm_model *m = (xlstm_model *)&c; /* must be overwritten */
    xlstm_error err;
    xlstm_status st;
    const char *how = buf ? (borrow ? "memory (borrowed)" : "memory") : "path";
    char path[512];
    int ok = 1;
    p.borrow_buffer = borrow;
    snprintf(path, sizeof path, CKPTBAD "%s", file);
    memset(&err, 0x55, sizeof err);
    st = buf ? xlstm_model_load_from_memory(buf, len, NULL, 0, &p, &m, &err) : xlstm_model_load(path, &p, &m, &err);
    if (st != want) {
        printf("  %s (%s): status %d (%s), expected %d: %s\n", file, how, (int)st, xlstm_status_string(st), (int)want,
               st ? err.message : "");
        ok = 0;
    }
    if (st == XLSTM_OK) {
        if (!m) ok = 0, printf("  %s (%s): XLSTM_OK without a model\n", file, how);
        xlstm_model_free(m);
    } else {
        if (m) ok = 0, printf("  %s (%s): a failed load left *out_model set\n", file, how);
        if (err.status != st) ok = 0, printf("  %s (%s): err.status %d, returned %d\n", file, how, (int)err.status, (int)st);
        if (!memchr(err.message, 0, sizeof err.message) || err.message[0] == 0)
            ok = 0, printf("  %s (%s): no error message\n", file, how);
    }
    if (c.live != 0) ok = 0, printf("  %s (%s): %ld allocations live after the load\n", file, how, c.live);
    return ok;
}

/* ---- every hostile file fails as expected, without leaks or side effects ---------- */

static void test_ckpt_bad_files(void) {
    size_t len, pos = 0, n_files = 0, i;
    int failures = 0, saw_posix = 0, saw_eval = 0;
    unsigned char *list = read_all(CKPTBAD "expected.txt", &len);
    CHECK(list != NULL);
    for (i = 0; i < CKPT_N_MARKERS; i++) remove(ckpt_markers[i]);
    while (pos < len) {
        char line[256], file[200], status[64];
        size_t e = pos, flen = 0;
        xlstm_status want;
        unsigned char *buf;
        while (e < len && list[e] != '\n') e++;
        if (e - pos < sizeof line) {
            memcpy(line, list + pos, e - pos);
            line[e - pos] = 0;
        } else {
            line[0] = 0;
        }
        pos = e + 1;
        if (line[0] == '#' || line[0] == 0) continue;
        if (sscanf(line, "%199s %63s", file, status) != 2 || !ckpt_status_from_name(status, &want)) {
            printf("  expected.txt: bad line: %s\n", line);
            failures++;
            continue;
        }
        n_files++;
        saw_posix |= strstr(file, "posix_system") != NULL;
        saw_eval |= strstr(file, "builtins_eval") != NULL;
        failures += !ckpt_check_one(file, NULL, 0, 0, want);
        {
            char path[512];
            snprintf(path, sizeof path, CKPTBAD "%s", file);
            buf = read_all(path, &flen);
        }
        if (!buf) {
            printf("  %s: cannot read\n", file);
            failures++;
            continue;
        }
        /* the same bytes from memory: copied, and borrowed in place */
        failures += !ckpt_check_one(file, buf, flen, 0, want);
        failures += !ckpt_check_one(file, buf, flen, 1, want);
        free(buf);
    }
    free(list);
    for (i = 0; i < CKPT_N_MARKERS; i++)
        if (ckpt_file_exists(ckpt_markers[i])) {
            printf("  %s exists: a pickle ran code\n", ckpt_markers[i]);
            failures++;
        }
    CHECK(n_files >= 40 && saw_posix && saw_eval);
    CHECK_EQ_INT(failures, 0);
}

/* ---- every allocation of a checkpoint load may fail: an error, no leak ------------ */

static void test_ckpt_allocation_failures(void) {
    size_t len;
    unsigned char *buf = read_all(CKPTBAD "ok_tiny.ckpt", &len);
    long k;
    int loaded = 0;
    CHECK(buf != NULL);
    for (k = 0; k < 200 && !loaded; k++) {
        counter c;
        xlstm_model_params p = counting_params(&c);
        xlstm_model *m = NULL;
        xlstm_error err;
        xlstm_status st;
        c.fail_after = k;
        st = xlstm_model_load_from_memory(buf, len, NULL, 0, &p, &m, &err);
        if (st == XLSTM_OK) {
            loaded = 1;
            xlstm_model_free(m);
        } else {
            if (st != XLSTM_ERR_NOMEM || m != NULL) printf("  allocation %ld failing: status %d: %s\n", k, (int)st, err.message);
            CHECK(st == XLSTM_ERR_NOMEM && m == NULL);
        }
        CHECK_EQ_INT(c.live, 0);
    }
    free(buf);
    CHECK(loaded);
}

/* ---- the 2024 LM saved with torch.save = its safetensors twin, bit for bit --------- */

static void test_ckpt_mixed_pt(void) {
    static const int32_t toks[] = {1, 7, 3, 0, 12, 5, 5, 9, 2, 11, 4, 8};
    const size_t n = sizeof toks / sizeof toks[0];
    counter c;
    xlstm_model_params p = counting_params(&c);
    xlstm_model *a = NULL, *b = NULL;
    xlstm_state *sa = NULL, *sb = NULL;
    xlstm_error err;
    const xlstm_config *ca, *cb;
    float *la, *lb;
    const float *last_a, *last_b;
    size_t V, i;
    int32_t tk[sizeof toks / sizeof toks[0]];
    CHECK(xlstm_model_load(DATA "mixed", NULL, &a, &err) == XLSTM_OK);
    if (xlstm_model_load(DATA "mixed_pt", &p, &b, &err) != XLSTM_OK) {
        printf("  mixed_pt: %s\n", err.message);
        xlstm_model_free(a);
        CHECK(0);
    }
    ca = xlstm_model_config(a);
    cb = xlstm_model_config(b);
    CHECK_EQ_INT(cb->arch, ca->arch);
    CHECK_EQ_INT(cb->vocab_size, ca->vocab_size);
    CHECK_EQ_INT(cb->embedding_dim, ca->embedding_dim);
    CHECK_EQ_INT(cb->num_blocks, ca->num_blocks);
    CHECK_EQ_INT(xlstm_model_n_params(b), xlstm_model_n_params(a));
    CHECK_EQ_INT(xlstm_model_weight_bytes(b), xlstm_model_weight_bytes(a));
    CHECK(strcmp(xlstm_model_kernels(a), xlstm_model_kernels(b)) == 0);
    V = (size_t)ca->vocab_size;
    for (i = 0; i < n; i++) tk[i] = (int32_t)((size_t)toks[i] % V);
    CHECK(xlstm_state_create(a, &sa, NULL) == XLSTM_OK);
    CHECK(xlstm_state_create(b, &sb, NULL) == XLSTM_OK);
    la = (float *)malloc(n * V * sizeof(float));
    lb = (float *)malloc(n * V * sizeof(float));
    CHECK(la && lb);
    CHECK(xlstm_prefill(sa, tk, n, la, &last_a) == XLSTM_OK);
    CHECK(xlstm_prefill(sb, tk, n, lb, &last_b) == XLSTM_OK);
    CHECK(memcmp(la, lb, n * V * sizeof(float)) == 0); /* the same weights and kernels: exactly equal */
    CHECK(memcmp(last_a, last_b, V * sizeof(float)) == 0);
    CHECK(xlstm_step(sa, tk[3], &last_a) == XLSTM_OK);
    CHECK(xlstm_step(sb, tk[3], &last_b) == XLSTM_OK);
    CHECK(memcmp(last_a, last_b, V * sizeof(float)) == 0);
    free(la);
    free(lb);
    xlstm_state_free(sa);
    xlstm_state_free(sb);
    xlstm_model_free(a);
    xlstm_model_free(b);
    CHECK_EQ_INT(c.live, 0);
}

/* ---- a TiRex model.ckpt: by directory, by file, from memory (copied, borrowed) ---- */

#define CKPT_TX DATA "tirex/a_d64_h2_b2_p32"

static int ckpt_forecast(xlstm_model *m, const float *series, size_t len, int32_t H, float *q, float *med) {
    xlstm_state *s = NULL;
    const float *rows[1];
    size_t lens[1];
    xlstm_status st;
    rows[0] = series;
    lens[0] = len;
    if (xlstm_state_create(m, &s, NULL) != XLSTM_OK) return 0;
    st = xlstm_forecast(s, rows, lens, 1, H, q, med);
    xlstm_state_free(s);
    return st == XLSTM_OK;
}

static void test_ckpt_tirex_from_memory(void) {
    enum { L = 300, H = 40, NQ = 64 };
    float series[L], q[4][H * NQ], med[4][H];
    xlstm_model *m[4] = {NULL, NULL, NULL, NULL};
    xlstm_model_params p = xlstm_model_default_params(), pb = xlstm_model_default_params();
    xlstm_error err;
    unsigned char *buf;
    size_t len, i, nq;
    int k;
    for (i = 0; i < L; i++) series[i] = (float)(10.0 + 3.0 * sin(0.21 * (double)i) + 0.01 * (double)(i % 7));
    series[17] = series[18] = NAN; /* missing values */
    buf = read_all(CKPT_TX "/model.ckpt", &len);
    CHECK(buf != NULL);
    pb.borrow_buffer = 1;
    CHECK(xlstm_model_load(CKPT_TX, &p, &m[0], &err) == XLSTM_OK);
    CHECK(xlstm_model_load(CKPT_TX "/model.ckpt", &p, &m[1], &err) == XLSTM_OK);
    CHECK(xlstm_model_load_from_memory(buf, len, NULL, 0, &p, &m[2], &err) == XLSTM_OK);
    CHECK(xlstm_model_load_from_memory(buf, len, NULL, 0, &pb, &m[3], &err) == XLSTM_OK);
    nq = (size_t)xlstm_model_config(m[0])->tirex.num_quantiles;
    CHECK(xlstm_model_config(m[0])->arch == XLSTM_ARCH_TIREX && nq >= 1 && nq <= NQ);
    for (k = 1; k < 4; k++) {
        CHECK(memcmp(xlstm_model_config(m[k]), xlstm_model_config(m[0]), sizeof(xlstm_config)) == 0);
        CHECK_EQ_INT(xlstm_model_n_params(m[k]), xlstm_model_n_params(m[0]));
    }
    /* the copied loads must not need the caller's buffer */
    memset(buf, 0, len / 2);
    for (k = 0; k < 3; k++) CHECK(ckpt_forecast(m[k], series, L, H, q[k], med[k]));
    /* the borrowed one reads it: reload it over intact bytes */
    xlstm_model_free(m[3]);
    m[3] = NULL;
    free(buf);
    buf = read_all(CKPT_TX "/model.ckpt", &len);
    CHECK(buf != NULL);
    CHECK(xlstm_model_load_from_memory(buf, len, NULL, 0, &pb, &m[3], &err) == XLSTM_OK);
    CHECK(ckpt_forecast(m[3], series, L, H, q[3], med[3]));
    for (i = 0; i < (size_t)H * nq; i++) CHECK(isfinite(q[0][i]));
    for (k = 1; k < 4; k++) {
        CHECK(memcmp(q[k], q[0], (size_t)H * nq * sizeof(float)) == 0);
        CHECK(memcmp(med[k], med[0], (size_t)H * sizeof(float)) == 0);
    }
    for (k = 0; k < 4; k++) xlstm_model_free(m[k]);
    free(buf);
}

#define CKPT_TESTS                                                                                         \
    {"ckpt_bad_files", test_ckpt_bad_files}, {"ckpt_allocation_failures", test_ckpt_allocation_failures}, \
        {"ckpt_mixed_pt", test_ckpt_mixed_pt}, {"ckpt_tirex_from_memory", test_ckpt_tirex_from_memory},
