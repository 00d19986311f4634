/* TiRex forecaster tests, #included by test_main.c (they use its helpers:
   CHECK*, read_all, kernel_names, kernels_available, level_wanted) and
   listed as TIREX_TESTS in tests[]. The models in tests/data/tirex are NX-AI
   TiRex checkpoints (model.ckpt, the real structure) with what the reference
   forecasts for them (expected.safetensors; see its README). */

static const char *const tirex_dirs[] = {DATA "tirex/a_d64_h2_b2_p32", DATA "tirex/b_d96_h4_b3_p32", DATA "tirex/c_d48_h1_b2_p16"};

typedef struct {
    unsigned char *file;
    xlstm__st st;
    int B, L, H, Q;
    float *context, *q, *q32, *scale; /* [B, L] (NaN-padded on the left), [B, H, Q] x 2, [B] */
} tirex_expected;

static float *tirex_copy(xlstm__st *st, const char *name, size_t n) {
    xlstm__st_tensor *t = xlstm__st_find(st, name);
    float *v;
    if (!t || t->nbytes != n * 4) return NULL;
    v = (float *)malloc(t->nbytes);
    memcpy(v, t->data, t->nbytes);
    return v;
}

static int tirex_load_expected(const char *dir, tirex_expected *e) {
    char path[512];
    size_t len;
    xlstm__alloc a;
    xlstm__st_tensor *c, *q, *h;
    memset(e, 0, sizeof *e);
    memset(&a, 0, sizeof a);
    snprintf(path, sizeof path, "%s/expected.safetensors", dir);
    e->file = read_all(path, &len);
    if (!e->file || xlstm__st_parse(&e->st, &a, e->file, len, NULL) != XLSTM_OK) return 0;
    c = xlstm__st_find(&e->st, "context");
    q = xlstm__st_find(&e->st, "quantiles");
    h = xlstm__st_find(&e->st, "horizon");
    if (!c || !q || !h || c->ndim != 2 || q->ndim != 3) return 0;
    e->B = (int)c->shape[0], e->L = (int)c->shape[1], e->H = (int)q->shape[1], e->Q = (int)q->shape[2];
    memcpy(&e->H, h->data, 4);
    e->context = tirex_copy(&e->st, "context", (size_t)e->B * e->L);
    e->q = tirex_copy(&e->st, "quantiles", (size_t)e->B * e->H * e->Q);
    e->q32 = tirex_copy(&e->st, "quantiles_fp32_recurrence", (size_t)e->B * e->H * e->Q);
    e->scale = tirex_copy(&e->st, "scale", (size_t)e->B);
    return e->context && e->q && e->q32 && e->scale;
}

static void tirex_free_expected(tirex_expected *e) {
    xlstm__alloc a;
    memset(&a, 0, sizeof a);
    xlstm__st_free(&e->st, &a);
    free(e->file);
    free(e->context);
    free(e->q);
    free(e->q32);
    free(e->scale);
}

/* Forecast every row of the expected context (as a user has it: without the
   left padding) into out [B, H, Q]. */
static xlstm_status tirex_forecast_rows(xlstm_state *s, const tirex_expected *e, float *out) {
    const float *rows[64];
    size_t lens[64];
    int b;
    for (b = 0; b < e->B && b < 64; b++) {
        const float *r = e->context + (size_t)b * e->L;
        int skip = 0;
        while (skip < e->L && r[skip] != r[skip]) skip++;
        rows[b] = r + skip;
        lens[b] = (size_t)(e->L - skip);
    }
    return xlstm_forecast(s, rows, lens, (size_t)e->B, e->H, out, NULL);
}

/* max and mean of |out - want| / scale of the series */
static void tirex_errors(const tirex_expected *e, const float *out, const float *want, double *max, double *mean) {
    size_t per = (size_t)e->H * e->Q, i;
    *max = *mean = 0;
    for (i = 0; i < (size_t)e->B * per; i++) {
        double d = fabs((double)out[i] - want[i]) / e->scale[i / per];
        if (!(d <= *max)) *max = d;
        *mean += d;
    }
    *mean /= (double)e->B * per;
}

/* The reference forecasts through the model as shipped (bf16 rounding in the
   cell) and its float32-recurrence twin, at every kernel level. The bounds:
   the README's tolerance (0.1 of scale; a faithful emulation has a mean error
   near 0.002), and 1e-3 for the float32 recurrence. */
static void test_tirex_reference(void) {
    size_t d;
    int k, fp32;
    for (d = 0; d < sizeof tirex_dirs / sizeof tirex_dirs[0]; d++) {
        tirex_expected e;
        char path[512];
        CHECK(tirex_load_expected(tirex_dirs[d], &e));
        snprintf(path, sizeof path, "%s/model.ckpt", tirex_dirs[d]);
        for (k = XLSTM_KERNELS_SCALAR; k <= XLSTM_KERNELS_AVX512_VNNI; k++) {
            if (!level_wanted(k) || !kernels_available((xlstm_kernels)k)) continue;
            for (fp32 = 0; fp32 < 2; fp32++) {
                xlstm_model_params params = xlstm_model_default_params();
                xlstm_model *m = NULL;
                xlstm_state *s = NULL;
                xlstm_error err;
                float *out = (float *)malloc((size_t)e.B * e.H * e.Q * sizeof(float));
                double max, mean;
                params.kernels = (xlstm_kernels)k;
                params.fp32_recurrence = fp32;
                CHECK(xlstm_model_load(path, &params, &m, &err) == XLSTM_OK);
                CHECK_EQ_INT(xlstm_model_config(m)->arch, XLSTM_ARCH_TIREX);
                CHECK_EQ_INT(xlstm_model_config(m)->tirex.num_quantiles, e.Q);
                CHECK(xlstm_state_create(m, &s, NULL) == XLSTM_OK);
                CHECK(tirex_forecast_rows(s, &e, out) == XLSTM_OK);
                tirex_errors(&e, out, fp32 ? e.q32 : e.q, &max, &mean);
                printf("  %-7s %-18s %s: max err/scale %.2e  mean %.2e\n", kernel_names[k], tirex_dirs[d] + strlen(DATA "tirex/"),
                       fp32 ? "fp32 recurrence" : "bf16 (shipped) ", max, mean);
                if (fp32) {
                    CHECK(max <= 1e-3);
                } else {
                    CHECK(max <= 0.1);
                    CHECK(mean <= 0.003);
                }
                free(out);
                xlstm_state_free(s);
                xlstm_model_free(m);
            }
        }
        tirex_free_expected(&e);
    }
}

/* A batch equals its series one at a time; 1 and 2 threads agree exactly
   (rows and heads are split between threads, never a sum). */
static void test_tirex_batch_and_threads(void) {
    tirex_expected e;
    xlstm_model *m = load_or_null(DATA "tirex/b_d96_h4_b3_p32");
    xlstm_state *s;
    float *all, *one;
    size_t per;
    int b;
    CHECK(m != NULL);
    CHECK(tirex_load_expected(DATA "tirex/b_d96_h4_b3_p32", &e));
    per = (size_t)e.H * e.Q;
    all = (float *)malloc(e.B * per * sizeof(float));
    one = (float *)malloc(e.B * per * sizeof(float));
    CHECK(xlstm_state_create(m, &s, NULL) == XLSTM_OK);
    CHECK(tirex_forecast_rows(s, &e, all) == XLSTM_OK);
    for (b = 0; b < e.B; b++) {
        tirex_expected single = e;
        single.B = 1;
        single.context = e.context + (size_t)b * e.L;
        CHECK(tirex_forecast_rows(s, &single, one + b * per) == XLSTM_OK);
    }
    CHECK(memcmp(all, one, e.B * per * sizeof(float)) == 0);
#ifdef _OPENMP
    {
        xlstm_state *two;
        omp_set_num_threads(2);
        CHECK(xlstm_state_create(m, &two, NULL) == XLSTM_OK);
        omp_set_num_threads(1);
        CHECK(tirex_forecast_rows(two, &e, one) == XLSTM_OK);
        CHECK(memcmp(all, one, e.B * per * sizeof(float)) == 0);
        printf("  2 threads: identical to 1\n");
        xlstm_state_free(two);
    }
#endif
    /* bad arguments */
    CHECK(xlstm_forecast(s, NULL, NULL, 0, 0, all, NULL) == XLSTM_ERR_ARG);
    CHECK(xlstm_forecast(s, NULL, NULL, 0, -3, all, NULL) == XLSTM_ERR_ARG);
    free(all);
    free(one);
    xlstm_state_free(s);
    xlstm_model_free(m);
    tirex_free_expected(&e);
}

/* The stream equals the windowed forecast of everything observed while that
   fits one window; past it, each patch is a step, forecasts stay finite, and
   copy / save / restore carry the stream. */
/* q8 weights (tests/data/tirex/a_q8.safetensors, xlstm-quantize of model a):
   past the window a stream steps one token per patch through the one-row
   kernels, which with VNNI meet activations rounded to int8 (the gates four
   rows at a time). The same stream at every kernel level against the scalar
   one: f32 rounding apart without VNNI, int8 rounding apart with it. */
static void test_tirex_stream_q8(void) {
    tirex_expected e;
    float ref[64 * 16], fs[64 * 16], *vals = NULL;
    int k;
    CHECK(tirex_load_expected(DATA "tirex/a_d64_h2_b2_p32", &e));
    for (k = XLSTM_KERNELS_SCALAR; k <= XLSTM_KERNELS_AVX512_VNNI; k++) {
        xlstm_model_params p = xlstm_model_default_params();
        xlstm_model *m = NULL;
        xlstm_state *s = NULL;
        double worst = 0, scale = 0;
        size_t n, i;
        int H, Q, T, skip = 0;
        if (!kernels_available((xlstm_kernels)k) || (k > XLSTM_KERNELS_SCALAR && !level_wanted(k))) continue;
        p.kernels = (xlstm_kernels)k;
        CHECK_EQ_INT(xlstm_model_load(DATA "tirex/a_q8.safetensors", &p, &m, NULL), XLSTM_OK);
        if (!m) continue;
        H = xlstm_model_config(m)->tirex.patch_size, Q = xlstm_model_config(m)->tirex.num_quantiles;
        T = xlstm_model_config(m)->tirex.train_ctx_len;
        CHECK(H * Q <= 64 * 16);
        n = (size_t)T + 5 * (size_t)H;
        if (!vals) { /* a context row, then a sine */
            vals = (float *)malloc(n * sizeof(float));
            while (skip < e.L && e.context[skip] != e.context[skip]) skip++;
            for (i = 0; i < n; i++) vals[i] = (int)i < e.L - skip ? e.context[skip + i] : (float)sin((double)i * 0.3) * 5;
        }
        CHECK(xlstm_state_create(m, &s, NULL) == XLSTM_OK);
        for (i = 0; i < n; i += (size_t)H) /* a patch per call: past the window each is a one-token step */
            CHECK(xlstm_stream_observe(s, vals + i, n - i < (size_t)H ? n - i : (size_t)H) == XLSTM_OK);
        CHECK(xlstm_stream_forecast(s, H, k == XLSTM_KERNELS_SCALAR ? ref : fs, NULL) == XLSTM_OK);
        if (k > XLSTM_KERNELS_SCALAR) {
            for (i = 0; i < (size_t)(H * Q); i++) {
                const double d = fabs((double)fs[i] - ref[i]);
                if (d > worst || d != d) worst = d;
                if (fabs(ref[i]) > scale) scale = fabs(ref[i]);
            }
            printf("  %-10s q8 stream past the window vs scalar: max diff %.2e of %.2e%s\n", kernel_names[k], worst, scale,
                   m->kern->dot_q8_i8 ? " (int8 activations)" : "");
            if (m->kern->dot_q8_i8) CHECK(worst <= 0.02 * scale && worst > 1e-5 * scale); /* the int8 path ran */
            else CHECK(worst <= 1e-4 * scale);
        }
        xlstm_state_free(s);
        xlstm_model_free(m);
    }
    free(vals);
    tirex_free_expected(&e);
}

static void test_tirex_stream(void) {
    xlstm_model *m = load_or_null(DATA "tirex/a_d64_h2_b2_p32");
    const xlstm_config *c;
    xlstm_state *s, *w, *s2;
    tirex_expected e;
    const float *row;
    float *fs, *fw, *fr, vals[1000];
    size_t n = 0, lens, blob;
    unsigned char *buf;
    int H, Q, T, P, i, skip = 0;
    CHECK(m != NULL);
    CHECK(tirex_load_expected(DATA "tirex/a_d64_h2_b2_p32", &e));
    c = xlstm_model_config(m);
    Q = c->tirex.num_quantiles, T = c->tirex.train_ctx_len, P = c->tirex.patch_size;
    H = 2 * P + 5; /* three passes */
    fs = (float *)malloc((size_t)H * Q * sizeof(float));
    fw = (float *)malloc((size_t)H * Q * sizeof(float));
    fr = (float *)malloc((size_t)H * Q * sizeof(float));
    CHECK(xlstm_state_create(m, &s, NULL) == XLSTM_OK);
    CHECK(xlstm_state_create(m, &w, NULL) == XLSTM_OK);
    CHECK(xlstm_state_create(m, &s2, NULL) == XLSTM_OK);
    /* row 2 is longer than the window; its values (then a sine) feed the stream */
    row = e.context + 2 * (size_t)e.L;
    while (skip < e.L && row[skip] != row[skip]) skip++;
    for (i = 0; i < 1000; i++) vals[i] = i < e.L - skip ? row[skip + i] : i % 17 == 3 ? NAN : (float)sin(i * 0.3);
    CHECK(xlstm_stream_forecast(s, H, fs, NULL) == XLSTM_OK); /* nothing observed yet */
    lens = 0;
    CHECK(xlstm_forecast(w, NULL, &lens, 1, H, fw, NULL) == XLSTM_ERR_ARG || 1);
    while (n <= (size_t)T) {
        size_t add = n % 3 == 0 ? 7 : 1;
        if (n + add > (size_t)T) add = (size_t)T - n;
        if (!add) break;
        CHECK(xlstm_stream_observe(s, vals + n, add) == XLSTM_OK);
        n += add;
        if (n % 5 == 0 || n == (size_t)T) {
            const float *one = vals;
            CHECK(xlstm_stream_forecast(s, H, fs, NULL) == XLSTM_OK);
            CHECK(xlstm_forecast(w, &one, &n, 1, H, fw, NULL) == XLSTM_OK);
            CHECK(memcmp(fs, fw, (size_t)H * Q * sizeof(float)) == 0);
        }
    }
    CHECK_EQ_INT(xlstm_stream_length(s), T);
    /* past the window: steps; a copy and a saved blob forecast the same (a
       missing value among the kept observations too) */
    vals[T + 5] = NAN;
    CHECK(xlstm_stream_observe(s, vals + T, (size_t)(3 * P + 3)) == XLSTM_OK);
    CHECK(xlstm_stream_forecast(s, H, fs, NULL) == XLSTM_OK);
    for (i = 0; i < H * Q; i++) CHECK(fs[i] == fs[i] && fabsf(fs[i]) < 1e6f);
    CHECK(xlstm_state_copy(s2, s) == XLSTM_OK);
    CHECK(xlstm_stream_forecast(s2, H, fr, NULL) == XLSTM_OK);
    CHECK(memcmp(fs, fr, (size_t)H * Q * sizeof(float)) == 0);
    blob = xlstm_state_blob_size(s);
    buf = (unsigned char *)malloc(blob);
    CHECK(xlstm_state_save(s, buf, blob) == XLSTM_OK);
    xlstm_state_reset(s2);
    CHECK_EQ_INT(xlstm_stream_length(s2), 0);
    CHECK(xlstm_state_restore(s2, buf, blob) == XLSTM_OK);
    CHECK(xlstm_stream_forecast(s2, H, fr, NULL) == XLSTM_OK);
    CHECK(memcmp(fs, fr, (size_t)H * Q * sizeof(float)) == 0);
    /* a forecast mid-patch starts after the last observation: the steps of
       the same rollout, shifted */
    {
        float *mid = (float *)malloc((size_t)H * Q * sizeof(float));
        CHECK(xlstm_stream_observe(s2, vals + T + 3 * P + 3, (size_t)(P - 3)) == XLSTM_OK); /* completes a patch */
        CHECK(xlstm_stream_forecast(s2, H, fr, NULL) == XLSTM_OK);
        CHECK(xlstm_stream_observe(s2, vals + T + 4 * P, 5) == XLSTM_OK);
        CHECK(xlstm_stream_forecast(s2, H - 5, mid, NULL) == XLSTM_OK);
        CHECK(memcmp(mid, fr + 5 * Q, (size_t)(H - 5) * Q * sizeof(float)) == 0);
        free(mid);
    }
    free(buf);
    free(fs);
    free(fw);
    free(fr);
    xlstm_state_free(s);
    xlstm_state_free(w);
    xlstm_state_free(s2);
    xlstm_model_free(m);
    tirex_free_expected(&e);
}

/* Embeddings: one row per data patch and block; the last block's row of the
   last patch, through out_norm and the output head, is the forecast. */
static void test_tirex_embeddings(void) {
    xlstm_model *m = load_or_null(DATA "tirex/c_d48_h1_b2_p16");
    const xlstm_config *c;
    xlstm_state *s;
    float x[40], *emb, *q;
    const float *px = x;
    size_t n, len = 40, D;
    int i, P, Q, NB;
    CHECK(m != NULL);
    c = xlstm_model_config(m);
    D = (size_t)c->embedding_dim, P = c->tirex.patch_size, Q = c->tirex.num_quantiles, NB = c->num_blocks;
    for (i = 0; i < 40; i++) x[i] = i == 7 ? NAN : (float)(10 + 3 * sin(i * 0.5));
    CHECK(xlstm_state_create(m, &s, NULL) == XLSTM_OK);
    CHECK(xlstm_embed_series(s, x, len, NULL, &n) == XLSTM_OK);
    CHECK_EQ_INT(n, c->tirex.train_ctx_len / P - (c->tirex.train_ctx_len - 40) / P); /* 40 values: 3 patches hold data */
    emb = (float *)malloc(n * NB * D * sizeof(float));
    q = (float *)malloc((size_t)P * Q * sizeof(float));
    CHECK(xlstm_embed_series(s, x, len, emb, &n) == XLSTM_OK);
    CHECK(xlstm_forecast(s, &px, &len, 1, P, q, NULL) == XLSTM_OK);
    {
        float loc, scale;
        xlstm__tx_window(s->win, c->tirex.train_ctx_len, x, len, 0);
        xlstm__tx_scaler(s->win, c->tirex.train_ctx_len, s->tsq, &loc, &scale);
        xlstm__tx_head(s, emb + ((n - 1) * NB + (size_t)(NB - 1)) * D, loc, scale);
        /* equal but for summation order: the forecast's last feed-forward
           is a matrix-vector product, the embedding's a matrix product */
        for (i = 0; i < P * Q; i++) CHECK_NEAR(s->tq[i], q[(i % P) * Q + i / P], 1e-5 * scale);
    }
    free(emb);
    free(q);
    xlstm_state_free(s);
    xlstm_model_free(m);
}

/* The sLSTM step and the row-times-matrix kernel of every level against the
   scalar oracle: random gates over the whole range the cell sees (including
   saturation, a forget gate beyond the clamp, NaN and infinities), both
   roundings, the first-step rule, and lengths that leave vector tails. */
/* A (K, n) as bf16 in the recurrent kernel's layout (xlstm__rec16_index), the padding row of an odd K zero */
static void rec16_fill(uint16_t *A16, const float *A, int K, int n) {
    int k, o;
    for (o = 0; o < n; o++)
        if (K % 2) A16[xlstm__rec16_index(K, o, K, n)] = 0;
    for (k = 0; k < K; k++)
        for (o = 0; o < n; o++) {
            uint32_t u;
            const float r = xlstm__round_bf16(A[(size_t)k * n + o]);
            memcpy(&u, &r, 4);
            A16[xlstm__rec16_index(k, o, K, n)] = (uint16_t)(u >> 16);
        }
}
/* the vdpbf16ps product, where this CPU has it, against the oracle's y0 */
static void rec16_check_dp(const float *x, const uint16_t *A16, int K, int n, const float *y0) {
#if defined(XLSTM__HAVE_FAST_BF16)
    static float y[512];
    int i;
    if (!__builtin_cpu_supports("avx512bf16") || !kernels_available(XLSTM_KERNELS_AVX512)) return;
    xlstm__vecmat_bf16_dp(x, A16, K, n, y);
    for (i = 0; i < n; i++) {
        if (y0[i] != y0[i]) CHECK(y[i] != y[i]);
        else CHECK_NEAR(y[i], y0[i], 1e-5 * (fabs(y0[i]) + 1));
    }
#else
    (void)x, (void)A16, (void)K, (void)n, (void)y0;
#endif
}

static void test_tirex_kernels(void) {
    const xlstm__kern *ref = xlstm__pick_kernels(XLSTM_KERNELS_SCALAR);
    enum { N = 149, K = 37, LDW = 160, LDB = 152 }; /* N: two blocks of 64, one of 16, a scalar tail */
    float wx[4 * LDW], ry[4 * N], b[4 * LDW], A[K * N], x[K], y0[N], y1[N];
    float st0[4][N], st1[4][N];
    int k, i, rep, first, bf16;
    uint64_t rng = 12345;
    for (k = XLSTM_KERNELS_SIMD; k <= XLSTM_KERNELS_AVX512_VNNI; k++) {
        const xlstm__kern *kk;
        double worst = 0;
        if (!kernels_available((xlstm_kernels)k)) continue;
        kk = xlstm__pick_kernels((xlstm_kernels)k);
        for (rep = 0; rep < 40; rep++) {
            for (i = 0; i < 4 * LDW; i++) {
                rng = rng * 6364136223846793005ull + 1442695040888963407ull;
                wx[i] = (float)((int)(rng >> 40) % 4000 - 2000) / (rep < 20 ? 300.0f : 40.0f);
                b[i] = (float)((int)(rng >> 20) % 200 - 100) / 100.0f;
            }
            for (i = 0; i < 4 * N; i++) ry[i] = wx[(i * 7) % (4 * LDW)] * 0.1f;
            if (rep == 5) wx[3] = NAN, wx[LDW + 4] = INFINITY, wx[2 * LDW + 5] = -INFINITY, wx[LDW + 6] = 40.0f, wx[LDW + 100] = NAN;
            for (i = 0; i < N; i++) {
                st0[0][i] = 0, st0[1][i] = wx[i] * 0.5f, st0[2][i] = 1.0f + (float)i / N, st0[3][i] = b[i] * 3;
                if (rep % 4 == 0) st0[1][i] = st0[2][i] = st0[3][i] = 0;
            }
            first = rep % 4 == 0, bf16 = rep % 2;
            memcpy(st1, st0, sizeof st0);
            ref->slstm_point(wx, LDW, ry, N, b, LDB, st0[0], st0[1], st0[2], st0[3], first, bf16, 15.0f, N);
            kk->slstm_point(wx, LDW, ry, N, b, LDB, st1[0], st1[1], st1[2], st1[3], first, bf16, 15.0f, N);
            for (i = 0; i < 4 * N; i++) {
                const float a = st0[i / N][i % N], v = st1[i / N][i % N];
                double d;
                if (a != a || v != v) {
                    CHECK(a != a && v != v); /* NaN where the oracle has NaN */
                    continue;
                }
                if (a == v) continue; /* infinities too */
                d = fabs((double)a - v) / (fabs(a) > 1 ? fabs(a) : 1);
                if (d > worst) worst = d;
            }
            for (i = 0; i < K; i++) x[i] = wx[i] * 0.01f;
            for (i = 0; i < K * N; i++) A[i] = b[i % (4 * 64)];
            ref->vecmat(x, A, K, N, y0);
            kk->vecmat(x, A, K, N, y1);
            for (i = 0; i < N; i++) {
                if (y0[i] != y0[i]) CHECK(y1[i] != y1[i]);
                else CHECK_NEAR(y1[i], y0[i], 1e-5 * (fabs(y0[i]) + 1));
            }
            { /* K odd: the layout's zero row; x not bf16: every kernel rounds it */
                static uint16_t A16[(K + 1) * N];
                memset(A16, 0xFF, sizeof A16); /* the padding row must be written */
                rec16_fill(A16, A, K, N);
                ref->vecmat_bf16(x, A16, K, N, y0);
                kk->vecmat_bf16(x, A16, K, N, y1);
                for (i = 0; i < N; i++) {
                    if (y0[i] != y0[i]) CHECK(y1[i] != y1[i]);
                    else CHECK_NEAR(y1[i], y0[i], 1e-5 * (fabs(y0[i]) + 1));
                }
                rec16_check_dp(x, A16, K, N, y0);
            }
        }
        { /* rows of 300: the 256-wide blocks and the tails */
            static float Aw[20 * 300], yw0[300], yw1[300];
            static uint16_t Aw16[20 * 300];
            for (i = 0; i < 20 * 300; i++) Aw[i] = (float)((i * 37) % 101 - 50) / 50.0f;
            rec16_fill(Aw16, Aw, 20, 300);
            ref->vecmat(x, Aw, 20, 300, yw0);
            kk->vecmat(x, Aw, 20, 300, yw1);
            for (i = 0; i < 300; i++) CHECK_NEAR(yw1[i], yw0[i], 1e-5 * (fabs(yw0[i]) + 1));
            ref->vecmat_bf16(x, Aw16, 20, 300, yw0);
            kk->vecmat_bf16(x, Aw16, 20, 300, yw1);
            for (i = 0; i < 300; i++) CHECK_NEAR(yw1[i], yw0[i], 1e-5 * (fabs(yw0[i]) + 1));
            rec16_check_dp(x, Aw16, 20, 300, yw0);
        }
        /* a few ulp from the polynomials; bf16 rounds the states, so a
           rounding boundary may be crossed: one bf16 step (2^-8) */
        printf("  %-10s sLSTM step: max relative difference %.2e\n", kernel_names[k], worst);
        CHECK(worst <= 4e-3);
    }
}

/* The bundled demo model (models/tirex-demo) against the reference's own
   forecasts of its held-out series (heldout_ref*.f32, made by NX-AI/tirex):
   within 1e-3 of each series' scale with the float32 recurrence, 0.1 as shipped. */
static void test_tirex_demo(void) {
    static const char *refs[2] = {"models/tirex-demo/heldout_ref.f32", "models/tirex-demo/heldout_ref_fp32.f32"};
    size_t len, n = 0, i, lens[16];
    unsigned char *csv = read_all("models/tirex-demo/heldout.csv", &len);
    float *vals, *rows[16], *out;
    double scale[16];
    int fp32;
    CHECK(csv != NULL);
    vals = (float *)malloc((len + 1) * sizeof(float));
    { /* one series per line, comma-separated, "nan" = missing */
        char *p = (char *)csv, *end = (char *)csv + len;
        size_t k = 0;
        while (p < end && n < 16) {
            rows[n] = vals + k;
            lens[n] = 0;
            while (p < end && *p != '\n') {
                char *q;
                double v = strtod(p, &q);
                if (q == p) v = NAN, q = p + 3; /* nan */
                vals[k++] = (float)v, lens[n]++;
                p = q;
                if (p < end && *p == ',') p++;
            }
            p++;
            n++;
        }
    }
    for (i = 0; i < n; i++) { /* the scaler's scale over the last 512 values */
        size_t j, cnt = 0, from = lens[i] > 512 ? lens[i] - 512 : 0;
        double m = 0, v = 0;
        for (j = from; j < lens[i]; j++) if (rows[i][j] == rows[i][j]) m += rows[i][j], cnt++;
        m /= (double)cnt;
        for (j = from; j < lens[i]; j++) if (rows[i][j] == rows[i][j]) v += (rows[i][j] - m) * (rows[i][j] - m);
        scale[i] = sqrt(v / (double)cnt);
    }
    out = (float *)malloc(n * 24 * 9 * sizeof(float));
    for (fp32 = 0; fp32 < 2; fp32++) {
        xlstm_model_params params = xlstm_model_default_params();
        xlstm_model *m = NULL;
        xlstm_state *s = NULL;
        unsigned char *ref = read_all(refs[fp32], &len);
        double worst = 0;
        params.fp32_recurrence = fp32;
        CHECK(ref != NULL && len == n * 24 * 9 * 4);
        CHECK(xlstm_model_load("models/tirex-demo", &params, &m, NULL) == XLSTM_OK);
        CHECK(xlstm_state_create(m, &s, NULL) == XLSTM_OK);
        CHECK(xlstm_forecast(s, (const float *const *)rows, lens, n, 24, out, NULL) == XLSTM_OK);
        for (i = 0; i < n * 24 * 9; i++) {
            float r;
            double d;
            memcpy(&r, ref + 4 * i, 4);
            d = fabs((double)out[i] - r) / scale[i / (24 * 9)];
            if (!(d <= worst)) worst = d;
        }
        printf("  demo model, %s: max err/scale %.2e\n", fp32 ? "fp32 recurrence" : "as shipped", worst);
        CHECK(worst <= (fp32 ? 1e-3 : 0.1));
        free(ref);
        xlstm_state_free(s);
        xlstm_model_free(m);
    }
    free(out);
    free(vals);
    free(csv);
}

#define TIREX_TESTS                                          \
    {"tirex_reference", test_tirex_reference},               \
    {"tirex_kernels", test_tirex_kernels},                   \
    {"tirex_batch_and_threads", test_tirex_batch_and_threads}, \
    {"tirex_stream", test_tirex_stream},                     \
    {"tirex_stream_q8", test_tirex_stream_q8},               \
    {"tirex_embeddings", test_tirex_embeddings},             \
    {"tirex_demo", test_tirex_demo},
