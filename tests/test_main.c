/* xlstm.h test runner: `build/test_xlstm [FILTER]` runs every test whose name
   contains FILTER. Last line: "N passed, N failed"; exit 1 on any failure. */
#define XLSTM_IMPLEMENTATION
#include "../xlstm.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int g_failed_checks;
#define CHECK(cond)                                                                \
    do {                                                                           \
        if (!(cond)) {                                                             \
            printf("  %s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);      \
            g_failed_checks++;                                                     \
            return;                                                                \
        }                                                                          \
    } while (0)
#define CHECK_EQ_INT(a, b)                                                         \
    do {                                                                           \
        long long a_ = (long long)(a), b_ = (long long)(b);                        \
        if (a_ != b_) {                                                            \
            printf("  %s:%d: %s = %lld, expected %lld\n", __FILE__, __LINE__, #a, a_, b_); \
            g_failed_checks++;                                                     \
            return;                                                                \
        }                                                                          \
    } while (0)
#define CHECK_NEAR(a, b, tol)                                                      \
    do {                                                                           \
        double a_ = (a), b_ = (b);                                                 \
        if (!(fabs(a_ - b_) <= (tol))) {                                           \
            printf("  %s:%d: %s = %.9g, expected %.9g (tol %g)\n", __FILE__, __LINE__, #a, a_, b_, (double)(tol)); \
            g_failed_checks++;                                                     \
            return;                                                                \
        }                                                                          \
    } while (0)

#define DATA "tests/data/"

/* ---- helpers -------------------------------------------------------------- */

static unsigned char *read_all(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    unsigned char *buf;
    long n;
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = (unsigned char *)malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) buf[n] = 0;
    *len = (size_t)n;
    return buf;
}

/* Counting allocator: proves that failures leak nothing. */
typedef struct {
    long live;
    long total;
    long fail_after; /* fail the Nth allocation when >= 0 */
} counter;
static void *count_alloc(size_t n, void *u) {
    counter *c = (counter *)u;
    if (c->fail_after >= 0 && c->total >= c->fail_after) return NULL;
    c->total++;
    c->live++;
    return malloc(n);
}
static void count_free(void *p, void *u) {
    ((counter *)u)->live--;
    free(p);
}
static xlstm_model_params counting_params(counter *c) {
    xlstm_model_params p = xlstm_model_default_params();
    memset(c, 0, sizeof *c);
    c->fail_after = -1;
    p.alloc_fn = count_alloc;
    p.free_fn = count_free;
    p.alloc_user = c;
    return p;
}

/* The reference logits of a golden model directory. */
typedef struct {
    unsigned char *file;
    xlstm__st st;
    int32_t *tokens;
    size_t n;
    const float *step, *forward; /* (n, vocab) */
    size_t vocab;
} expected;

/* key: one table both paths are compared with (e.g. logits_f64), or NULL for
   logits_step / logits_forward */
static int load_expected(const char *dir, expected *e, const char *key) {
    char path[512];
    size_t len, i;
    xlstm__alloc a;
    xlstm__st_tensor *t, *ls, *lf;
    memset(e, 0, sizeof *e);
    memset(&a, 0, sizeof a);
    snprintf(path, sizeof path, "%s/expected.safetensors", dir);
    e->file = read_all(path, &len);
    if (!e->file || xlstm__st_parse(&e->st, &a, e->file, len, NULL) != XLSTM_OK) return 0;
    t = xlstm__st_find(&e->st, "tokens");
    ls = xlstm__st_find(&e->st, key ? key : "logits_step");
    lf = xlstm__st_find(&e->st, key ? key : "logits_forward");
    if (!t || !ls || !lf || ls->ndim != 2) return 0;
    e->n = t->nbytes / 4;
    e->vocab = (size_t)ls->shape[1];
    e->tokens = (int32_t *)malloc(e->n * sizeof(int32_t));
    for (i = 0; i < e->n; i++) memcpy(&e->tokens[i], t->data + 4 * i, 4);
    /* the data section is not guaranteed 4-aligned: copy */
    e->step = (const float *)malloc(ls->nbytes);
    e->forward = (const float *)malloc(lf->nbytes);
    memcpy((void *)e->step, ls->data, ls->nbytes);
    memcpy((void *)e->forward, lf->data, lf->nbytes);
    return 1;
}
static void free_expected(expected *e) {
    xlstm__alloc a;
    memset(&a, 0, sizeof a);
    xlstm__st_free(&e->st, &a);
    free(e->file);
    free(e->tokens);
    free((void *)e->step);
    free((void *)e->forward);
}

static double max_abs_diff(const float *a, const float *b, size_t n) {
    double m = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (!(d <= m)) m = d; /* NaN propagates as a failure */
    }
    return m;
}

static xlstm_model *load_or_null(const char *dir) {
    xlstm_model *m = NULL;
    xlstm_model_load(dir, NULL, &m, NULL);
    return m;
}

/* the tokenizer's tests (they use the helpers above) */
#include "test_tokenizer.c"
#include "test_ckpt.c"

/* ---- reference models ------------------------------------------------------- */

static const char *kernel_names[] = {"auto", "scalar", "simd", "avx2", "avx512", "avx512vnni"};

/* Every model directory listed in tests/data/models.txt, through step and
   prefill, with every kernel level this machine supports. */
static void run_reference_models(xlstm_kernels kernels) {
    FILE *f = fopen(DATA "models.txt", "r");
    xlstm_model_params params = xlstm_model_default_params();
    params.kernels = kernels;
    char line[256];
    int n_models = 0;
    CHECK(f != NULL);
    while (fgets(line, sizeof line, f)) {
        char dir[400];
        expected e;
        xlstm_model *m;
        xlstm_state *s;
        xlstm_error err;
        float *all;
        size_t t, V;
        double err_step = 0, err_prefill;
        char name[200], key[64] = "";
        double tol = 2e-4;
        const float *want_step, *want_prefill;
        line[strcspn(line, "\r\n")] = 0;
        if (!line[0] || line[0] == '#') continue;
        /* a line is: DIR [KEY TOL], KEY naming one table that both paths must match */
        if (sscanf(line, "%199s %63s %lf", name, key, &tol) < 1) continue;
        snprintf(dir, sizeof dir, DATA "%s", name);
        if (!load_expected(dir, &e, key[0] ? key : NULL)) {
            printf("  %s: cannot read expected.safetensors\n", dir);
            g_failed_checks++;
            continue;
        }
        if (xlstm_model_load(dir, &params, &m, &err) != XLSTM_OK) {
            printf("  %s: load failed: %s\n", dir, err.message);
            g_failed_checks++;
            free_expected(&e);
            continue;
        }
        V = (size_t)xlstm_model_config(m)->vocab_size;
        want_step = e.step, want_prefill = e.forward;
        xlstm_state_create(m, &s, NULL);
        all = (float *)malloc(e.n * V * sizeof(float));
        for (t = 0; t < e.n; t++) {
            const float *lg = NULL;
            double d;
            xlstm_step(s, e.tokens[t], &lg);
            d = max_abs_diff(lg, want_step + t * V, V);
            if (!(d <= err_step)) err_step = d;
        }
        xlstm_state_reset(s);
        xlstm_prefill(s, e.tokens, e.n, all, NULL);
        err_prefill = max_abs_diff(all, want_prefill, e.n * V);
        printf("  %-7s %-34s %4lu tokens  step max err %.2e  prefill max err %.2e\n", kernel_names[kernels], name,
               (unsigned long)e.n, err_step, err_prefill);
        if (!(err_step <= tol) || !(err_prefill <= tol) || V != e.vocab) {
            printf("  %s: FAILS the %g tolerance\n", name, tol);
            g_failed_checks++;
        }
        n_models++;
        free(all);
        xlstm_state_free(s);
        xlstm_model_free(m);
        free_expected(&e);
    }
    fclose(f);
    CHECK(n_models >= 4);
}

static int kernels_available(xlstm_kernels k) {
    xlstm_model_params params = xlstm_model_default_params();
    xlstm_model *m = NULL;
    xlstm_status s;
    params.kernels = k;
    s = xlstm_model_load(DATA "mlstm_only", &params, &m, NULL);
    xlstm_model_free(m);
    return s == XLSTM_OK;
}

/* XLSTM_TEST_KERNELS=auto (e.g. under valgrind) limits the reference runs to
   the kernels a normal load picks; by default every level this CPU has runs. */
static int level_wanted(int k) {
    const char *env = getenv("XLSTM_TEST_KERNELS");
    if (!env || !*env) return 1;
    return strstr(env, kernel_names[k]) != NULL;
}

static void test_reference_models(void) {
    int k;
    if (!level_wanted(XLSTM_KERNELS_SCALAR) && level_wanted(XLSTM_KERNELS_AUTO)) {
        run_reference_models(XLSTM_KERNELS_AUTO);
        return;
    }
    for (k = XLSTM_KERNELS_SCALAR; k <= XLSTM_KERNELS_AVX512_VNNI; k++) {
        if (!level_wanted(k)) continue;
        if (!kernels_available((xlstm_kernels)k)) {
            printf("  kernels %s: not available here, skipped\n", kernel_names[k]);
            continue;
        }
        run_reference_models((xlstm_kernels)k);
    }
}

/* Each optimised kernel against the scalar oracle, every storage type, with
   lengths that exercise the vector tails. */
static void test_kernels_match_scalar(void) {
    static unsigned char row[4 * 1024];
    static float x[1024], scale[64], out_ref[1024], out[1024];
    const int lengths[] = {1, 15, 16, 17, 32, 33, 64, 100, 1024};
    unsigned int seed = 12345u;
    const xlstm__kern *ref = xlstm__pick_kernels(XLSTM_KERNELS_SCALAR);
    size_t i;
    int k, dt, li, tested = 0;
    for (i = 0; i < sizeof row; i++) {
        seed = seed * 1103515245u + 12345u;
        row[i] = (unsigned char)(seed >> 16);
    }
    for (i = 0; i < 1024; i++) {
        x[i] = (float)((int)(i * 53 % 101) - 50) / 25.0f;
        if (i < 64) scale[i] = 0.01f + 0.001f * (float)i;
    }
    for (k = XLSTM_KERNELS_SIMD; k <= XLSTM_KERNELS_AVX512_VNNI; k++) {
        const xlstm__kern *kk;
        if (!kernels_available((xlstm_kernels)k)) continue;
        kk = xlstm__pick_kernels((xlstm_kernels)k);
        for (dt = 0; dt < XLSTM__DT_COUNT; dt++) {
            unsigned char buf[4 * 1024];
            memcpy(buf, row, sizeof buf);
            if (dt == XLSTM__DT_F32) {
                for (i = 0; i < 1024; i++) {
                    float v = (float)((int)(i * 37 % 201) - 100) / 37.0f;
                    memcpy(buf + 4 * i, &v, 4);
                }
            } else if (dt == XLSTM__DT_BF16 || dt == XLSTM__DT_F16) {
                for (i = 0; i < 2048; i++) buf[2 * i + 1] &= 0xBB; /* clear exponent bits: never Inf/NaN */
            }
            for (li = 0; li < (int)(sizeof lengths / sizeof lengths[0]); li++) {
                int n = lengths[li];
                float a, b;
                if (dt >= XLSTM__DT_Q8 && n % XLSTM__QBLOCK) continue;
                a = ref->dot[dt](buf, scale, x, n);
                b = kk->dot[dt](buf, scale, x, n);
                CHECK_NEAR(b, a, 1e-4 * (1 + fabs(a)));
                if (dt == XLSTM__DT_BF16 && kk->dot_bf16_eo) { /* the same row against x split even/odd */
                    static float xeo[1024];
                    xlstm__even_odd(xeo, x, n);
                    b = kk->dot_bf16_eo(buf, xeo, n);
                    CHECK_NEAR(b, a, 1e-4 * (1 + fabs(a)));
                }
                ref->dequant[dt](out_ref, buf, scale, n);
                kk->dequant[dt](out, buf, scale, n);
                CHECK(memcmp(out, out_ref, (size_t)n * sizeof(float)) == 0);
                tested++;
            }
        }
        /* the mLSTM head update */
        {
            static float C1[64 * 64], C2[64 * 64], n1[64], n2[64], h1[64], h2[64];
            float q1, q2;
            for (i = 0; i < 64 * 64; i++) C1[i] = C2[i] = (float)((int)(i % 19) - 9) / 10.0f;
            for (i = 0; i < 64; i++) n1[i] = n2[i] = (float)i / 64.0f;
            q1 = ref->mlstm_head(C1, n1, x, x + 64, x + 128, 0.9f, 0.3f, 32, 64, h1);
            q2 = kk->mlstm_head(C2, n2, x, x + 64, x + 128, 0.9f, 0.3f, 32, 64, h2);
            CHECK_NEAR(q2, q1, 1e-4 * (1 + fabs(q1)));
            CHECK(max_abs_diff(C1, C2, 64 * 64) < 1e-5);
            CHECK(max_abs_diff(h1, h2, 64) < 1e-3);
        }
        /* the step's loop runs a head a strip at a time (n with the first): the same bits as the
           whole head at 64 columns, and within rounding at 40 (a vector strip, then a scalar one) */
        {
            static float Cw[32 * 64], Cs[32 * 64], nw[32], ns[32], hw[64], hs[64];
            static const int dvs[2] = {64, 40};
            int kl, di, b;
            for (kl = 0; kl < 2; kl++)
                for (di = 0; di < 2; di++) {
                    const xlstm__kern *kern = kl ? kk : ref;
                    const int dv = dvs[di];
                    float qw, qs = 0.0f;
                    for (i = 0; i < 32 * 64; i++) Cw[i] = Cs[i] = (float)((int)(i % 23) - 11) / 10.0f;
                    for (i = 0; i < 32; i++) nw[i] = ns[i] = (float)i / 32.0f;
                    qw = kern->mlstm_head(Cw, nw, x, x + 64, x + 128, 0.9f, 0.3f, 32, dv, hw);
                    for (b = 0; b < dv; b += XLSTM__STRIP) {
                        const float q = kern->mlstm_head(Cs + b * 32, b ? NULL : ns, x, x + 64, x + 128 + b, 0.9f, 0.3f, 32,
                                                         dv - b < XLSTM__STRIP ? dv - b : XLSTM__STRIP, hs + b);
                        if (!b) qs = q;
                        else CHECK(q == 0.0f);
                    }
                    if (dv == 64 || !kl) {
                        CHECK(qw == qs && memcmp(nw, ns, sizeof nw) == 0);
                        CHECK(memcmp(Cw, Cs, sizeof Cw) == 0 && memcmp(hw, hs, (size_t)dv * sizeof(float)) == 0);
                    } else {
                        CHECK_NEAR(qs, qw, 1e-5 * (1 + fabs(qw)));
                        CHECK(max_abs_diff(nw, ns, 32) < 1e-6);
                        CHECK(max_abs_diff(Cw, Cs, 32 * 64) < 1e-5);
                        CHECK(max_abs_diff(hw, hs, dv) < 1e-4);
                    }
                }
        }
        /* q4 and q8 rows against int8 activations: the vector kernel equals
           the integer oracle, which stays near the float dot */
#if defined(XLSTM__HAVE_VNNI)
        for (dt = 0; dt < 2; dt++) {
            const xlstm__dot_i8_fn vec = dt ? kk->dot_q8_i8 : kk->dot_q4_i8;
            const xlstm__dot_i8_fn oracle = dt ? xlstm__dot_q8_i8_scalar : xlstm__dot_q4_i8_scalar;
            float (*const fdot)(const unsigned char *, const float *, const float *, int) =
                dt ? xlstm__dot_q8_scalar : xlstm__dot_q4_scalar;
            static signed char xq8[1024], xq4[1024];
            static float d8[256], off8[256], d4[128], o4[128];
            xlstm__xq xq;
            int n;
            if (!vec) continue;
            xq.q = xq8, xq.d8 = d8, xq.off8 = off8, xq.q4 = NULL, xq.d4 = NULL, xq.o4 = NULL;
            for (n = 32; n <= 1024; n += n < 224 ? 32 : 352) {
                static float wf[1024];
                double a, b, f, bound = 0;
                xlstm__quantize_x(x, n, &xq);
                a = oracle(row, scale, &xq, n);
                b = vec(row, scale, &xq, n);
                f = fdot(row, scale, x, n);
                /* rounding x moves each product by at most |w| d / 2 */
                ref->dequant[dt ? XLSTM__DT_Q8 : XLSTM__DT_Q4](wf, row, scale, n);
                for (i = 0; i < (size_t)n; i++) bound += fabs(wf[i]) * d8[i / XLSTM__QBLOCK * 8] / 2;
                CHECK_NEAR(b, a, 1e-4 * (1 + fabs(a)));
                CHECK_NEAR(a, f, bound * 1.001 + 1e-5 * (1 + fabs(f)));
                if (!dt) { /* q4 with x in its four-block layout (groups of 128, then the blocks past them) */
                    xlstm__xq x4 = xq;
                    x4.q4 = xq4, x4.d4 = d4, x4.o4 = o4;
                    xlstm__xq_q4_layout(&x4, n);
                    b = vec(row, scale, &x4, n);
                    CHECK_NEAR(b, a, 1e-4 * (1 + fabs(a)));
                    if (kk->dot2_q4_i8) { /* two rows at once: each the bits of its own row's call */
                        const size_t nb = (size_t)n / XLSTM__QBLOCK, rb = (size_t)n / 2;
                        float y2[2], y1[2];
                        int lay;
                        for (lay = 0; lay < 2; lay++) {
                            const xlstm__xq *xx = lay ? &x4 : &xq;
                            kk->dot2_q4_i8(row, rb, scale, nb, xx, n, y2);
                            y1[0] = vec(row, scale, xx, n);
                            y1[1] = vec(row + rb, scale + nb, xx, n);
                            CHECK(memcmp(y1, y2, sizeof y1) == 0);
                        }
                    }
                }
                if (dt && kk->dot4_q8_i8 && n <= 512) { /* four rows n bytes apart, n / 32 scales each */
                    float y4[4];
                    int r;
                    const size_t nb = (size_t)n / XLSTM__QBLOCK;
                    kk->dot4_q8_i8(row, (size_t)n, scale, nb, &xq, n, y4);
                    for (r = 0; r < 4; r++) {
                        a = oracle(row + (size_t)r * n, scale + r * nb, &xq, n);
                        CHECK_NEAR(y4[r], a, 1e-4 * (1 + fabs(a)));
                    }
                }
                tested++;
            }
            /* hostile activations (a fuzzer found the first): a tiny block
               (127 / amax overflows), a denormal one, then inf and NaN, which
               make the dot NaN as the float dot does; no undefined conversion */
            {
                static float xs[64];
                const float odd[4] = {1e-38f, 1e-44f, 1.0f / 0.0f, 0.0f / 0.0f};
                int k;
                for (k = 0; k < 4; k++) {
                    double a, b, f;
                    for (i = 0; i < 64; i++) xs[i] = (float)((i * 7) % 13 - 6) / 6.0f * (k < 2 ? odd[k] : 1.0f);
                    if (k >= 2) xs[37] = odd[k];
                    xlstm__quantize_x(xs, 64, &xq);
                    a = oracle(row, scale, &xq, 64);
                    b = vec(row, scale, &xq, 64);
                    f = fdot(row, scale, xs, 64);
                    if (k < 2) {
                        CHECK(isfinite(a) && isfinite(b));
                        CHECK_NEAR(a, f, 0.02 * fabs(f) + 1e-44);
                    } else {
                        CHECK(isnan(a) && isnan(b));
                    }
                    tested++;
                }
            }
        }
#endif
        /* one row against 1..11 vectors (groups of 8, tails of 32 and 16) */
        {
            static float wr[200], xs[11 * 203];
            float o1[11], o2[11];
            int nv, n;
            for (i = 0; i < 200; i++) wr[i] = (float)((i * 37) % 23 - 11) / 7.0f;
            for (i = 0; i < 11 * 203; i++) xs[i] = (float)((i * 53) % 29 - 14) / 9.0f;
            for (nv = 1; nv <= 11; nv++)
                for (n = 1; n <= 200; n += 49) {
                    ref->dots(wr, xs, 203, nv, n, o1);
                    kk->dots(wr, xs, 203, nv, n, o2);
                    for (i = 0; i < (size_t)nv; i++) CHECK_NEAR(o2[i], o1[i], 1e-4 * (1 + fabs(o1[i])));
                    tested++;
                }
        }
        /* 4 x 4 blocks (the LM's q/k/v): 16 outputs at a time and a tail, with and without bias */
        {
            static float w4[4 * 57], x4[57], b4[57], o1[57], o2[57];
            int rows, wb;
            for (i = 0; i < 4 * 57; i++) w4[i] = (float)((i * 41) % 31 - 15) / 8.0f;
            for (i = 0; i < 57; i++) x4[i] = (float)((i * 17) % 13 - 6) / 3.0f, b4[i] = (float)(i % 5) - 2.0f;
            for (rows = 4; rows <= 56; rows += 4)
                for (wb = 0; wb < 2; wb++) {
                    ref->headwise4(w4, x4, wb ? b4 : NULL, o1, rows);
                    kk->headwise4(w4, x4, wb ? b4 : NULL, o2, rows);
                    for (i = 0; i < (size_t)rows; i++) CHECK_NEAR(o2[i], o1[i], 1e-5 * (1 + fabs(o1[i])));
                    CHECK(o2[rows - 1] != 0.0f || o1[rows - 1] == 0.0f);
                    tested++;
                }
            /* a known value: output 5 is block 1's row 1 */
            ref->headwise4(w4, x4, NULL, o1, 8);
            CHECK_NEAR(o1[5], w4[20] * x4[4] + w4[21] * x4[5] + w4[22] * x4[6] + w4[23] * x4[7], 1e-6);
        }
        /* the 16 x 16 transpose: exactly the plain loop's, with strides */
        {
            static float in[16 * 21], o1[16 * 40], o2[16 * 40];
            for (i = 0; i < 16 * 21; i++) in[i] = (float)i * 0.5f - 7.0f;
            for (i = 0; i < 16 * 40; i++) o1[i] = o2[i] = -1.0f;
            ref->transpose16(o1, 40, in + 3, 21);
            kk->transpose16(o2, 40, in + 3, 21);
            CHECK(memcmp(o1, o2, sizeof o1) == 0);
            CHECK(o2[5 * 40 + 9] == in[3 + 9 * 21 + 5] && o2[16] == -1.0f);
            tested++;
        }
        /* SiLU: the vector exp against libm's, over the range that matters */
        {
            static float v1[1000], v2[1000];
            double worst = 0;
            for (i = 0; i < 1000; i++) v1[i] = v2[i] = (float)(i - 500) * 0.2f + (float)(i % 7) * 0.013f;
            v1[0] = v2[0] = -200.0f, v1[1] = v2[1] = 200.0f, v1[2] = v2[2] = 0.0f;
            ref->silu(v1, 1000);
            kk->silu(v2, 1000);
            for (i = 0; i < 1000; i++) {
                double d = fabs((double)v1[i] - v2[i]) / (1e-30 + fabs((double)v1[i]));
                if (fabs(v1[i]) > 1e-30 && d > worst) worst = d;
            }
            CHECK(worst < 5e-7);
            CHECK(v2[0] == 0.0f || fabs(v2[0]) < 1e-30);
            CHECK(v2[1] == 200.0f);
            tested++;
        }
        /* TiRex's norms (the same double statistics: within an ulp) and the
           branch-free ReLU (exactly the plain loop's, NaN and -0 included) */
        {
            static float x[1000], w[1000], b[1000], y1[1000], y2[1000];
            static const int widths[][2] = {{512, 128}, {96, 24}, {32, 32}, {20, 5}, {1000, 1000}};
            int wi;
            for (i = 0; i < 1000; i++) {
                x[i] = (float)((i * 61) % 103 - 51) * 0.37f + 1000.0f * (float)(i % 5 == 0);
                w[i] = (float)((i * 17) % 19 - 9) * 0.05f, b[i] = (float)(i % 11) * 0.1f;
            }
            for (wi = 0; wi < 5; wi++) {
                const int n = widths[wi][0], dh = widths[wi][1];
                ref->rmsnorm(y1, x, w, b, n, 1e-6f);
                kk->rmsnorm(y2, x, w, b, n, 1e-6f);
                CHECK(max_abs_diff(y1, y2, (size_t)n) <= 1e-6 * (1 + fabs(y1[0])) + 1e-5);
                ref->rmsnorm(y1, x, w, NULL, n, 1e-6f);
                kk->rmsnorm(y2, x, w, NULL, n, 1e-6f);
                CHECK(max_abs_diff(y1, y2, (size_t)n) <= 1e-5);
                ref->groupnorm(y1, x, w, n / dh, dh);
                kk->groupnorm(y2, x, w, n / dh, dh);
                CHECK(max_abs_diff(y1, y2, (size_t)n) <= 1e-5);
                CHECK(fabs(y1[1]) > 1e-3);
                tested++;
            }
            for (i = 0; i < 1000; i++) y1[i] = y2[i] = x[i] - 500.0f;
            y1[3] = y2[3] = (float)NAN, y1[4] = y2[4] = -(float)NAN, y1[5] = y2[5] = 1.0f / 0.0f, y1[6] = y2[6] = -0.0f;
            y1[7] = y2[7] = 1e-45f, y1[8] = y2[8] = -1e-45f;
            ref->relu(y1, 999);
            kk->relu(y2, 999);
            CHECK(memcmp(y1, y2, sizeof y1) == 0);
            CHECK(y2[3] == 0.0f && y2[5] > 1e38f && y2[7] == 1e-45f && y2[8] == 0.0f && y2[999] == x[999] - 500.0f);
            tested++;
            /* the chunkwise mLSTM's row kernels: the plain loops' results to the bit */
            ref->scale(y1, x, 0.37f, 999);
            kk->scale(y2, x, 0.37f, 999);
            CHECK(memcmp(y1, y2, sizeof y1) == 0 && y1[998] == 0.37f * x[998]);
            ref->add(y1, w, 997);
            kk->add(y2, w, 997);
            CHECK(memcmp(y1, y2, sizeof y1) == 0 && y1[996] == 0.37f * x[996] + w[996]);
            ref->div(y1, 3.3f, 995);
            kk->div(y2, 3.3f, 995);
            CHECK(memcmp(y1, y2, sizeof y1) == 0 && y1[17] == (0.37f * x[17] + w[17]) / 3.3f && y1[996] == 0.37f * x[996] + w[996]);
            tested++;
            { /* the causal conv's 16-channel strips (K taps, history then inputs): within float rounding of the plain loops */
                int K;
                for (K = 1; K <= XLSTM__CONV_K; K++) {
                    ref->conv16(y1, 20, x + 500, 17, x, 19, 9, w, b, K);
                    kk->conv16(y2, 20, x + 500, 17, x, 19, 9, w, b, K);
                    CHECK(max_abs_diff(y1, y2, 9 * 20) <= 1e-4 * (1 + fabs(y1[0])));
                    CHECK(fabs(y1[8 * 20 + 15]) > 1e-3);
                }
                tested++;
            }
        }
        /* matrix products: edge shapes (rows past a register tile, columns
           past a vector, sums longer than a block), a transposed A, beta */
        {
            static const int shapes[][3] = {{1, 16, 1}, {8, 32, 40}, {9, 48, 64}, {5, 20, 130}, {17, 35, 7}, {3, 7, 3}, {32, 384, 65},
                                            {7, 64, 300}, {6, 80, 513}}; /* the last two: 4 x 4-vector tiles and rows and columns past them */
            static float A[64 * 160], B[160 * 400], C1[64 * 400], C2[64 * 400];
            static const float betas[] = {0.0f, 1.0f, 0.5f};
            int si, bi, tr;
            for (i = 0; i < (int)(sizeof A / sizeof A[0]); i++) A[i] = (float)((int)(i * 29 % 97) - 48) / 31.0f;
            for (i = 0; i < (int)(sizeof B / sizeof B[0]); i++) B[i] = (float)((int)(i * 41 % 89) - 44) / 23.0f;
            for (si = 0; si < (int)(sizeof shapes / sizeof shapes[0]); si++)
                for (bi = 0; bi < 3; bi++)
                    for (tr = 0; tr < 2; tr++) {
                        const int M = shapes[si][0], N = shapes[si][1], P = shapes[si][2];
                        const size_t ldb = (size_t)N + 3, ldc = (size_t)N + 5;
                        /* A (M, P) as rows of P + 1, or transposed: columns of M + 2 */
                        const size_t a_rs = tr ? 1 : (size_t)P + 1, a_cs = tr ? (size_t)M + 2 : 1;
                        for (i = 0; i < 64 * 400; i++) C1[i] = C2[i] = (float)(i % 13) - 6.0f;
                        ref->gemm(M, N, P, A, a_rs, a_cs, B, ldb, betas[bi], C1, ldc);
                        kk->gemm(M, N, P, A, a_rs, a_cs, B, ldb, betas[bi], C2, ldc);
                        CHECK(max_abs_diff(C1, C2, 64 * 400) < 1e-4 * (1 + P));
                        tested++;
                    }
        }
    }
    printf("  %d kernel/type/length combinations checked\n", tested);
}

/* Under AddressSanitizer, memory the code under test must not touch */
#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif
#if defined(TEST_ASAN)
#include <sanitizer/asan_interface.h>
#define TEST_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define TEST_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define TEST_POISON(p, n) ((void)(p), (void)(n))
#define TEST_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* Rows that start off a cache line (a Hugging Face file's tensors): the
   AVX-512 kernels that read such rows a line at a time give exactly the
   plain kernels' sums, at every offset and length, and read nothing outside
   the row (the memory around it is poisoned for AddressSanitizer; 8-byte
   granules, so a read of a row's first few bytes' granule goes unseen). */
static void test_kernels_misaligned_rows(void) {
#if defined(XLSTM__HAVE_VNNI)
    const int lengths[] = {96, 159, 160, 161, 200, 255, 256, 300, 768, 1000};
    const xlstm__kern *kk, *ref = xlstm__pick_kernels(XLSTM_KERNELS_SCALAR);
    int li, off, dt, tested = 0;
    if (!level_wanted(XLSTM_KERNELS_AVX512_VNNI) || !kernels_available(XLSTM_KERNELS_AVX512_VNNI)) {
        printf("  skipped: no AVX-512 VNNI kernels here\n");
        return;
    }
    kk = xlstm__pick_kernels(XLSTM_KERNELS_AVX512_VNNI);
    for (li = 0; li < (int)(sizeof lengths / sizeof lengths[0]); li++) {
        const int n = lengths[li];
        float *x = (float *)malloc((size_t)n * sizeof(float)), *xeo = (float *)malloc((size_t)n * sizeof(float));
        int i;
        CHECK(x && xeo);
        if (!x || !xeo) return;
        for (i = 0; i < n; i++) x[i] = (float)((int)(i * 53 % 101) - 50) / 25.0f;
        xlstm__even_odd(xeo, x, n);
        for (dt = 0; dt < 2; dt++) {
            const size_t esize = dt ? 2 : 4, bytes = (size_t)n * esize;
            for (off = 0; off < 64; off += (int)esize) { /* f32 rows are 4-byte aligned (the loader copies others) */
                unsigned char *mem = (unsigned char *)malloc(bytes + 192), *row;
                float a, b;
                CHECK(mem != NULL);
                if (!mem) return;
                /* at least a line of memory either side of the row, poisoned under AddressSanitizer */
                row = mem + 128 - (size_t)((uintptr_t)mem % 64) + (size_t)off;
                CHECK((uintptr_t)row % 64 == (uintptr_t)off && row + bytes <= mem + bytes + 192);
                for (i = 0; i < n; i++) {
                    const float v = (float)((int)(i * 37 % 201) - 100) / 37.0f;
                    if (dt) {
                        uint32_t u;
                        memcpy(&u, &v, 4);
                        row[2 * i] = (unsigned char)(u >> 16), row[2 * i + 1] = (unsigned char)(u >> 24);
                    } else memcpy(row + 4 * i, &v, 4);
                }
                TEST_POISON(mem, (size_t)(row - mem));
                TEST_POISON(row + bytes, (size_t)(mem + bytes + 192 - (row + bytes)));
                if (dt) {
                    a = xlstm__dot_bf16_eo_avx512(row, xeo, n);
                    b = kk->dot_bf16_eo(row, xeo, n);
                } else {
                    a = xlstm__dot_f32_avx512(row, NULL, x, n);
                    b = kk->dot[XLSTM__DT_F32](row, NULL, x, n);
                }
                CHECK(memcmp(&a, &b, sizeof a) == 0);
                CHECK_NEAR(b, ref->dot[dt ? XLSTM__DT_BF16 : XLSTM__DT_F32](row, NULL, x, n), 1e-4 * (1 + fabs(b)));
                TEST_UNPOISON(mem, bytes + 192);
                free(mem);
                tested++;
            }
        }
        free(x);
        free(xeo);
    }
    printf("  %d offset/type/length combinations checked\n", tested);
#else
    printf("  skipped: built without the VNNI kernels\n");
#endif
}

/* Each stored type computes exactly what its weights represent: a BF16/F16/Q8/Q4
   model equals the same weights widened to F32 (written by xlstm-quantize),
   for every kernel level; and stays near the original F32 model. */
/* Fast prompt products (fast_prompts): xlstm__matmul's bf16 and int8 paths
   equal their scalar oracles exactly (f32 and f16 weights: on their bf16
   rounding; odd row counts, 16 to 64 vectors,
   column tails; zero, tiny, inf and NaN activations), and stay within the
   activation rounding of the exact product. Where the CPU lacks them the
   model says so and the default products run. */
#if defined(XLSTM__HAVE_FAST)
static unsigned fp_rng = 12345u;
static float fp_rand(void) { /* in [-1, 1) */
    fp_rng = fp_rng * 1664525u + 1013904223u;
    return (float)(fp_rng >> 8) / 8388608.0f - 1.0f;
}
#endif
static void test_fast_prompts(void) {
#if defined(XLSTM__HAVE_FAST)
    static const char *types[] = {"bf16", "q8", "q4", "f32", "f16"};
    static const char *files[] = {"bf16", "q8", "q4", "bf16_as_f32", "f16"};
    static const int shapes[][3] = {{37, 64, 16}, {48, 70, 20}, {101, 384, 64}, {32, 96, 33}, {43, 320, 49}, {96, 32, 64}};
    int ti, si, tested = 0;
    for (ti = 0; ti < 5; ti++) {
        static const int dts[] = {XLSTM__DT_BF16, XLSTM__DT_Q8, XLSTM__DT_Q4, XLSTM__DT_F32, XLSTM__DT_F16};
        const int dt = dts[ti], i8 = dt == XLSTM__DT_Q8 || dt == XLSTM__DT_Q4;
        xlstm_model_params p = xlstm_model_default_params();
        xlstm_model *model = NULL;
        xlstm_state *s = NULL;
        char path[256];
        p.fast_prompts = 1;
        snprintf(path, sizeof path, DATA "quant/mixed_%s.safetensors", files[ti]);
        CHECK_EQ_INT(xlstm_model_load(path, &p, &model, NULL), XLSTM_OK);
        CHECK_EQ_INT(xlstm_state_create(model, &s, NULL), XLSTM_OK);
        if (i8 ? !model->fast_i8 : !model->fast_bf16) {
            printf("  %s: no fast products on this CPU, skipped\n", types[ti]);
            xlstm_state_free(s);
            xlstm_model_free(model);
            continue;
        }
        for (si = 0; si < (int)(sizeof shapes / sizeof shapes[0]); si++) {
            const int rows = shapes[si][0], cols = shapes[si][1], nx = shapes[si][2], nb = cols / 32;
            const size_t ldx = (size_t)cols + 3;
            const size_t rb = dt == XLSTM__DT_F32 ? 4 * (size_t)cols : dt == XLSTM__DT_Q8 ? (size_t)cols : dt == XLSTM__DT_Q4 ? (size_t)cols / 2 : 2 * (size_t)cols;
            unsigned char *w, *r16;
            float *scale, *X, *Y, *wf;
            signed char *w8, *q;
            float *d8, *off8;
            xlstm__mat mat;
            xlstm__xq xq;
            int r, j, c;
            if (i8 && cols % 32) continue;
            w = (unsigned char *)malloc(rb * rows);
            scale = (float *)malloc(sizeof(float) * (size_t)rows * (nb + 1));
            X = (float *)malloc(sizeof(float) * ldx * nx);
            Y = (float *)malloc(sizeof(float) * (size_t)rows * nx);
            wf = (float *)malloc(sizeof(float) * (size_t)cols);
            r16 = (unsigned char *)malloc(2 * (size_t)cols);
            w8 = (signed char *)malloc((size_t)cols);
            q = (signed char *)malloc((size_t)cols);
            d8 = (float *)malloc(sizeof(float) * (size_t)cols / 4 + 8);
            off8 = (float *)malloc(sizeof(float) * (size_t)cols / 4 + 8);
            for (r = 0; r < rows; r++) {
                for (c = 0; c < (int)rb; c++) w[(size_t)r * rb + c] = (unsigned char)(fp_rand() * 128 + 128);
                if (dt == XLSTM__DT_BF16 || dt == XLSTM__DT_F16)
                    for (c = 0; c < cols; c++) w[(size_t)r * rb + 2 * c + 1] &= 0xBB; /* finite */
                if (dt == XLSTM__DT_F32)
                    for (c = 0; c < cols; c++) {
                        float v = fp_rand() * (c % 7 == 0 ? 1e-3f : 1.0f);
                        memcpy(w + (size_t)r * rb + 4 * c, &v, 4);
                    }
                if (dt == XLSTM__DT_Q8)
                    for (c = 0; c < cols; c++) if (w[(size_t)r * rb + c] == 0x80) w[(size_t)r * rb + c] = 0x81; /* -127..127 */
                for (c = 0; c < nb; c++) scale[r * nb + c] = 0.01f + 0.02f * fabsf(fp_rand());
            }
            for (j = 0; j < nx; j++)
                for (c = 0; c < (int)ldx; c++) X[(size_t)j * ldx + c] = fp_rand() * (1 + j % 5);
            for (c = 0; c < cols; c++) X[1 * ldx + c] = 0.0f;          /* a zero vector */
            for (c = 0; c < cols; c++) X[2 * ldx + c] *= 1e-38f;       /* tiny: denormal-ish, the quantizer's small branch */
            X[3 * ldx + 5] = 1.0f / 0.0f;                             /* inf */
            X[4 * ldx + cols - 1] = 0.0f / 0.0f;                      /* NaN */
            mat.w = w, mat.scale = i8 ? scale : NULL, mat.rows = rows, mat.cols = cols, mat.dtype = dt, mat.row_bytes = rb;
            xlstm__matmul(s, &mat, X, ldx, nx, Y, (size_t)rows, NULL, NULL);
            xq.q = q, xq.d8 = d8, xq.off8 = off8, xq.q4 = NULL, xq.d4 = NULL, xq.o4 = NULL;
            for (j = 0; j < nx; j++) {
                const float *x = X + (size_t)j * ldx;
                if (i8) xlstm__quantize_x(x, cols, &xq);
                for (r = 0; r < rows; r++) {
                    const unsigned char *row = w + (size_t)r * rb;
                    double exact = 0, mag = 0, bound;
                    float want, got = Y[(size_t)j * rows + r];
                    if (!i8) { /* f32 and f16 rows: the oracle gets them rounded to bf16 */
                        for (c = 0; c < cols; c++) {
                            float v = 0;
                            uint32_t u;
                            if (dt == XLSTM__DT_F32) memcpy(&v, row + 4 * c, 4);
                            else if (dt == XLSTM__DT_F16) v = xlstm__f16_to_f32((uint16_t)(row[2 * c] | row[2 * c + 1] << 8));
                            if (dt == XLSTM__DT_BF16) r16[2 * c] = row[2 * c], r16[2 * c + 1] = row[2 * c + 1];
                            else {
                                v = xlstm__round_bf16(v);
                                memcpy(&u, &v, 4);
                                r16[2 * c] = (unsigned char)(u >> 16), r16[2 * c + 1] = (unsigned char)(u >> 24);
                            }
                            wf[c] = xlstm__bf16_to_f32((uint16_t)(r16[2 * c] | r16[2 * c + 1] << 8));
                        }
                        want = xlstm__fast_dot_bf16_scalar(r16, x, cols);
                    } else {
                        for (c = 0; c < cols; c++)
                            w8[c] = dt == XLSTM__DT_Q8 ? (signed char)row[c]
                                                      : (signed char)(((c % 32 < 16 ? row[c / 32 * 16 + c % 16] : row[c / 32 * 16 + c % 16] >> 4) & 15) - 8);
                        want = xlstm__fast_dot_i8_scalar(w8, scale + r * nb, &xq, cols);
                        for (c = 0; c < cols; c++) wf[c] = w8[c] * scale[r * nb + c / 32];
                    }
                    if (isnan(want) || isnan(got)) {
                        if (!(isnan(want) && isnan(got))) printf("  %s %dx%d nx %d: row %d vector %d: %g, oracle %g\n", types[ti], rows, cols, nx, r, j, got, want);
                        CHECK(isnan(want) && isnan(got));
                        continue;
                    }
                    if (got != want) printf("  %s %dx%d nx %d: row %d vector %d: %.9g, oracle %.9g\n", types[ti], rows, cols, nx, r, j, got, want);
                    CHECK(got == want);
                    if (!isfinite(want)) continue;
                    /* near the exact product of the stored weights: x rounded
                       to bf16 moves each product by 2^-8 of itself, to int8 by
                       |w| d / 2; f32 sums add cols ulps */
                    for (c = 0; c < cols; c++) {
                        exact += (double)wf[c] * x[c];
                        mag += fabs((double)wf[c] * x[c]);
                    }
                    if (!i8) bound = mag * (1.0 / 256 + cols * 1.2e-7);
                    else {
                        bound = mag * cols * 1.2e-7;
                        for (c = 0; c < cols; c++) bound += fabs(wf[c]) * d8[c / 32 * 8] / 2;
                    }
                    CHECK_NEAR(want, exact, bound * 1.001 + 1e-30);
                }
            }
            tested++;
            free(w), free(r16), free(scale), free(X), free(Y), free(wf), free(w8), free(q), free(d8), free(off8);
        }
        xlstm_state_free(s);
        xlstm_model_free(model);
    }
    printf("  %d fast products checked\n", tested);
#endif
#if defined(XLSTM__HAVE_FAST_BF16)
    if (__builtin_cpu_supports("avx512bf16")) { /* the chunkwise mLSTM's bf16 products against their oracle, to the bit */
        static const int cases[][4] = {{37, 2, 24, 0}, {8, 1, 33, 1}, {5, 2, 1, 1}, {64, 2, 32, 0}, {19, 1, 10, 1}};
        int ci, i, n_ok = 0;
        for (ci = 0; ci < 5; ci++) {
            const int M = cases[ci][0], nv = cases[ci][1], np = cases[ci][2], tr = cases[ci][3], n = 16 * nv;
            const size_t a_rs = tr ? 1 : (size_t)np, a_cs = tr ? (size_t)M : 1, ldc = (size_t)n + 5;
            uint32_t *A = (uint32_t *)malloc(sizeof(uint32_t) * (size_t)M * np), *B = (uint32_t *)malloc(sizeof(uint32_t) * (size_t)np * n);
            float *r0 = (float *)malloc(sizeof(float) * 37), *r1 = (float *)malloc(sizeof(float) * 37);
            float *C1 = (float *)malloc(sizeof(float) * (size_t)M * ldc), *C2 = (float *)malloc(sizeof(float) * (size_t)M * ldc);
            uint32_t pairs[37];
            for (i = 0; i < 37; i++) r0[i] = fp_rand() * 3, r1[i] = fp_rand();
            for (i = 0; i < M * np; i += 37 < M * np - i ? 37 : M * np - i)
                xlstm__bf16_row_pairs(A + i, r0, ci % 2 ? r1 : NULL, 37 < M * np - i ? 37 : M * np - i);
            for (i = 0; i < np * n; i++) {
                float lo = xlstm__round_bf16(fp_rand()), hi = xlstm__round_bf16(fp_rand() * 1e-2f);
                uint32_t ul, uh;
                memcpy(&ul, &lo, 4), memcpy(&uh, &hi, 4);
                B[i] = (ul >> 16) | (uh & 0xFFFF0000u);
            }
            xlstm__bf16_row_pairs(pairs, r0, r1, 37);
            for (i = 0; i < 37; i++) {
                float lo = xlstm__round_bf16(r0[i]), hi = xlstm__round_bf16(r1[i]);
                uint32_t ul, uh;
                memcpy(&ul, &lo, 4), memcpy(&uh, &hi, 4);
                CHECK(pairs[i] == ((ul >> 16) | (uh & 0xFFFF0000u)));
            }
            for (i = 0; i < M * (int)ldc; i++) C1[i] = C2[i] = fp_rand();
            xlstm__chunk_bf16_gemm(M, nv, np, A, a_rs, a_cs, B, ci % 2 ? 0.75f : 0.0f, C1, ldc);
            xlstm__chunk_bf16_gemm_scalar(M, n, np, A, a_rs, a_cs, B, ci % 2 ? 0.75f : 0.0f, C2, ldc);
            CHECK(memcmp(C1, C2, sizeof(float) * (size_t)M * ldc) == 0);
            n_ok += memcmp(C1, C2, sizeof(float) * (size_t)M * ldc) == 0;
            free(A), free(B), free(r0), free(r1), free(C1), free(C2);
        }
        printf("  chunk bf16 products: %d of 5 shapes equal their oracle\n", n_ok);
    }
#endif
    /* the golden models (f32 weights: rounded to bf16 a tile at a time) and
       the quantized mixed model with fast prompts: how far the prefill's
       logits move from the reference (reported; the f32 tolerance is not
       expected to hold). At the scalar level (and on CPUs without the
       instructions) the option changes nothing, to the bit. */
    {
        int level;
        static const char *dirs[] = {"mlstm_only", "mixed", "slstm_only", "ref/bf16_mixed", "quant/mixed_bf16.safetensors",
                                     "quant/mixed_q8.safetensors", "quant/mixed_q4.safetensors", "ref/long_mixed", "large/long"};
        int di;
        for (level = 0; level < 2; level++)
        for (di = 0; di < (int)(sizeof dirs / sizeof dirs[0]); di++) {
            char dir[300];
            expected e;
            xlstm_model_params p = xlstm_model_default_params();
            xlstm_model *m = NULL, *m0 = NULL;
            xlstm_state *s = NULL, *s0 = NULL;
            float *all, *all0;
            double d, d0, top = 0;
            size_t V, i;
            snprintf(dir, sizeof dir, DATA "%s", dirs[di]);
            p.kernels = level ? XLSTM_KERNELS_SCALAR : XLSTM_KERNELS_AUTO;
            CHECK(load_expected(di >= 4 && di <= 6 ? DATA "mixed" : dir, &e, NULL));
            CHECK_EQ_INT(xlstm_model_load(dir, &p, &m0, NULL), XLSTM_OK);
            p.fast_prompts = 1;
            CHECK_EQ_INT(xlstm_model_load(dir, &p, &m, NULL), XLSTM_OK);
            V = (size_t)xlstm_model_config(m)->vocab_size;
            xlstm_state_create(m, &s, NULL);
            xlstm_state_create(m0, &s0, NULL);
            all = (float *)malloc(e.n * V * sizeof(float));
            all0 = (float *)malloc(e.n * V * sizeof(float));
            xlstm_prefill(s, e.tokens, e.n, all, NULL);
            xlstm_prefill(s0, e.tokens, e.n, all0, NULL);
            d = max_abs_diff(all, e.forward, e.n * V);
            d0 = max_abs_diff(all0, e.forward, e.n * V);
            for (i = 0; i < e.n * V; i++) top = fabs(e.forward[i]) > top ? fabs(e.forward[i]) : top;
            if (m->fast_bf16 || m->fast_i8) {
                printf("  %-30s %3lu tokens: fast prompts max err %.2e (default %.2e; max |logit| %.2f)\n", dirs[di],
                       (unsigned long)e.n, d, d0, top);
                CHECK(d <= 0.05 * top + d0); /* about 1% in practice */
            } else {
                CHECK(memcmp(all, all0, e.n * V * sizeof(float)) == 0);
            }
            free(all), free(all0);
            xlstm_state_free(s), xlstm_state_free(s0);
            xlstm_model_free(m), xlstm_model_free(m0);
            free_expected(&e);
        }
    }
}

static void test_quantized_models(void) {
    static const char *types[] = {"bf16", "f16", "q8", "q4"};
    static const double near_original[] = {0.02, 0.005, 0.05, 0.6}; /* random weights: the worst case */
    expected e;
    int ti, k;
    CHECK(load_expected(DATA "mixed", &e, NULL));
    for (ti = 0; ti < 4; ti++) {
        for (k = XLSTM_KERNELS_SCALAR; k <= XLSTM_KERNELS_AVX512_VNNI; k++) {
            char path[256];
            xlstm_model_params params = xlstm_model_default_params();
            xlstm_model *q = NULL, *f = NULL;
            xlstm_state *sq, *sf;
            float *lq, *lf;
            double d_exact, d_orig;
            size_t V = e.vocab;
            if (!kernels_available((xlstm_kernels)k) || !level_wanted(k)) continue;
            params.kernels = (xlstm_kernels)k;
            snprintf(path, sizeof path, DATA "quant/mixed_%s.safetensors", types[ti]);
            CHECK_EQ_INT(xlstm_model_load(path, &params, &q, NULL), XLSTM_OK);
            snprintf(path, sizeof path, DATA "quant/mixed_%s_as_f32.safetensors", types[ti]);
            CHECK_EQ_INT(xlstm_model_load(path, &params, &f, NULL), XLSTM_OK);
            xlstm_state_create(q, &sq, NULL);
            xlstm_state_create(f, &sf, NULL);
            lq = (float *)malloc(e.n * V * sizeof(float));
            lf = (float *)malloc(e.n * V * sizeof(float));
            xlstm_prefill(sq, e.tokens, e.n, lq, NULL);
            xlstm_prefill(sf, e.tokens, e.n, lf, NULL);
            d_exact = max_abs_diff(lq, lf, e.n * V);
            d_orig = max_abs_diff(lq, e.forward, e.n * V);
            if (k == XLSTM_KERNELS_SCALAR || k == XLSTM_KERNELS_AVX512)
                printf("  %-5s %-7s vs its f32 widening %.2e, vs the original model %.2e\n", types[ti], kernel_names[k],
                       d_exact, d_orig);
            CHECK(d_exact <= 1e-4);
            CHECK(d_orig <= near_original[ti]);
            /* steps take the decode kernels: exact too, except that 4-bit
               and 8-bit weights meet 8-bit activations where the level
               has integer dots (AVX2, AVX-512 VNNI) */
            {
                size_t t, steps = e.n < 24 ? e.n : 24;
                const int i8 = ti == 2 ? q->kern->dot_q8_i8 != NULL : ti == 3 ? q->kern->dot_q4_i8 != NULL : 0;
                double d_step = 0, tol = i8 ? 0.05 : 1e-4;
                const float *a, *b;
                xlstm_state_reset(sq);
                xlstm_state_reset(sf);
                for (t = 0; t < steps; t++) {
                    double d;
                    CHECK_EQ_INT(xlstm_step(sq, e.tokens[t], &a), XLSTM_OK);
                    CHECK_EQ_INT(xlstm_step(sf, e.tokens[t], &b), XLSTM_OK);
                    d = max_abs_diff(a, b, V);
                    if (d > d_step) d_step = d;
                }
                if (tol > 1e-4) printf("  %-5s %-7s steps vs its f32 widening %.2e (8-bit activations)\n", types[ti], kernel_names[k], d_step);
                CHECK(d_step <= tol);
            }
            free(lq);
            free(lf);
            xlstm_state_free(sq);
            xlstm_state_free(sf);
            xlstm_model_free(q);
            xlstm_model_free(f);
        }
    }
    free_expected(&e);
}

/* A long stream stays finite: logits and every state value (the 1M-token
   version is build/xlstm-stream). */
static void test_long_stream(void) {
    const char *dirs[3] = {DATA "mixed", DATA "slstm_only", DATA "large/e_d64_h4_b2_denom_sensitive"};
    int d;
    for (d = 0; d < 3; d++) {
        xlstm_model *m = load_or_null(dirs[d]);
        xlstm_state *s;
        unsigned long long seed = 99;
        float mx = 0;
        long t;
        int32_t V;
        size_t i;
        CHECK(m != NULL);
        V = xlstm_model_config(m)->vocab_size;
        xlstm_state_create(m, &s, NULL);
        for (t = 0; t < 20000; t++) {
            const float *lg = NULL;
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            xlstm_step(s, (int32_t)((seed >> 33) % (unsigned long long)V), &lg);
            if (t % 1000 == 999)
                for (i = 0; i < (size_t)V; i++) CHECK(isfinite(lg[i]));
        }
        for (i = 0; i < s->mem_len; i++) {
            CHECK(isfinite(s->mem[i]));
            if (fabsf(s->mem[i]) > mx) mx = fabsf(s->mem[i]);
        }
        printf("  %-44s 20000 tokens, largest |state| %g\n", dirs[d], mx);
        xlstm_state_free(s);
        xlstm_model_free(m);
    }
}

/* OpenMP builds: logits are the same bits for any thread count (2 from
   omp_set_num_threads, 3 from the state's params; OMP_DYNAMIC may give a
   smaller team, whose threads then run the remaining tasks), and when loops
   run on the caller alone after a stall (forced here for some of them). */
static void test_threads_agree(void) {
#ifdef _OPENMP
    xlstm_model *m = load_or_null(DATA "ref/long_mixed");
    xlstm_state *one, *two, *three, *solo;
    xlstm_state_params sp = xlstm_state_default_params();
    expected e;
    float *a, *b, *c, *d;
    size_t V;
    CHECK(m != NULL);
    CHECK(load_expected(DATA "ref/long_mixed", &e, NULL));
    V = e.vocab;
    omp_set_num_threads(1);
    xlstm_state_create(m, &one, NULL);
    omp_set_num_threads(2);
    xlstm_state_create(m, &two, NULL);
    sp.n_threads = 3;
    CHECK(xlstm_state_create_with_params(m, &sp, &three, NULL) == XLSTM_OK);
    sp.n_threads = 2;
    CHECK(xlstm_state_create_with_params(m, &sp, &solo, NULL) == XLSTM_OK);
    solo->claims[2 * XLSTM__CLAIM_STRIDE] = 37; /* the first 37 loops alone, the rest in a team */
    d = (float *)malloc(e.n * V * sizeof(float));
    a = (float *)malloc(e.n * V * sizeof(float));
    b = (float *)malloc(e.n * V * sizeof(float));
    c = (float *)malloc(e.n * V * sizeof(float));
    xlstm_prefill(one, e.tokens, e.n, a, NULL);
    xlstm_prefill(two, e.tokens, e.n, b, NULL);
    xlstm_prefill(three, e.tokens, e.n, c, NULL);
    xlstm_prefill(solo, e.tokens, e.n, d, NULL);
    CHECK(solo->claims[2 * XLSTM__CLAIM_STRIDE] != 37); /* the loops alone ran (a real stall may have started more) */
    CHECK(memcmp(a, d, e.n * V * sizeof(float)) == 0);
    printf("  1 vs 2 vs 3 threads: max diff %.2e, %.2e over %lu tokens\n", max_abs_diff(a, b, e.n * V),
           max_abs_diff(a, c, e.n * V), (unsigned long)e.n);
    CHECK(memcmp(a, b, e.n * V * sizeof(float)) == 0);
    CHECK(memcmp(a, c, e.n * V * sizeof(float)) == 0);
    { /* the stall rule: a busy core's stalls (the waits outlast the loops) go alone, a rare slow wake among long loops does not */
        long st[5] = {0, XLSTM__SOLO_MIN, XLSTM__SOLO_CLEAR, 0, 0};
        int r;
        xlstm__stall_update(st, 1e-4, 3e-3); /* a first stall: nothing yet */
        CHECK(st[0] == 0 && st[2] == 0);
        xlstm__stall_update(st, 1e-4, 1e-5);
        xlstm__stall_update(st, 1e-4, 4e-3); /* a second, waits 4 ms against 0.2 ms run */
        CHECK(st[0] == XLSTM__SOLO_MIN && st[1] == 2 * XLSTM__SOLO_MIN);
        st[0] = 0, st[1] = XLSTM__SOLO_MIN, st[2] = XLSTM__SOLO_CLEAR;
        xlstm__stall_update(st, 1e-3, 2e-3);
        for (r = 0; r < 100; r++) xlstm__stall_update(st, 5e-4, 2e-5); /* the 7B's loops: 50 ms run, 2 ms waited */
        xlstm__stall_update(st, 1e-3, 3e-3); /* 5 ms waited in all against 51 ms run: stays a team */
        CHECK(st[0] == 0 && st[2] == 0);
        for (r = 0; r < XLSTM__SOLO_CLEAR; r++) xlstm__stall_update(st, 5e-4, 2e-4); /* quiet: the next stall starts over */
        CHECK(st[2] == XLSTM__SOLO_CLEAR);
        xlstm__stall_update(st, 1e-4, 9e-3);
        CHECK(st[0] == 0);
    }
    free(a);
    free(b);
    free(c);
    free(d);
    xlstm_state_free(solo);
    xlstm_state_free(one);
    xlstm_state_free(two);
    xlstm_state_free(three);
    xlstm_model_free(m);
    free_expected(&e);
#else
    printf("  built without OpenMP: nothing to compare\n");
#endif
}

/* ---- state semantics ---------------------------------------------------------- */


#include "test_tirex.c"

static void test_prefill_equals_steps(void) {
    xlstm_model *m = load_or_null(DATA "mixed");
    xlstm_state *a, *b;
    int32_t toks[20];
    float *all;
    const float *lg = NULL, *last = NULL;
    size_t V, i;
    CHECK(m != NULL);
    V = (size_t)xlstm_model_config(m)->vocab_size;
    for (i = 0; i < 20; i++) toks[i] = (int32_t)((i * 37 + 11) % V);
    xlstm_state_create(m, &a, NULL);
    xlstm_state_create(m, &b, NULL);
    all = (float *)malloc(20 * V * sizeof(float));
    CHECK_EQ_INT(xlstm_prefill(a, toks, 20, all, &last), XLSTM_OK);
    for (i = 0; i < 20; i++) {
        xlstm_step(b, toks[i], &lg);
        CHECK(max_abs_diff(lg, all + i * V, V) <= 2e-4);
    }
    CHECK(max_abs_diff(lg, last, V) <= 2e-4);
    /* an empty prefill is a no-op */
    CHECK_EQ_INT(xlstm_prefill(a, toks, 0, NULL, NULL), XLSTM_OK);
    free(all);
    xlstm_state_free(a);
    xlstm_state_free(b);
    xlstm_model_free(m);
}

/* Several sequences stepped together equal each stepped alone: to the bit
   where a step rounds x to int8 (q8 and q4 on CPUs with an int8 dot
   product), since a small batch takes the step's kernels there; other rows
   within rounding (the batch's 8-vector dot products). */
static void test_step_batch(void) {
    const char *dirs[5] = {DATA "mixed", DATA "ref/long_mixed", DATA "quant/mixed_q8.safetensors", DATA "quant/mixed_q4.safetensors",
                           DATA "quant/mixed_bf16.safetensors"};
    int d;
    for (d = 0; d < 5; d++) {
        xlstm_model *m = load_or_null(dirs[d]);
        const xlstm__kern *k = m ? m->kern : NULL;
        const int exact = k && (d == 2 ? k->dot_q8_i8 != NULL : d == 3 ? k->dot_q4_i8 != NULL : 0);
        enum { B = 5 };
        xlstm_state *batch[B], *solo[B];
        const float *lb[B], *ls = NULL;
        int32_t toks[B];
        size_t V, i, t;
        CHECK(m != NULL);
        V = (size_t)xlstm_model_config(m)->vocab_size;
        for (i = 0; i < B; i++) {
            xlstm_state_create(m, &batch[i], NULL);
            xlstm_state_create(m, &solo[i], NULL);
        }
        for (t = 0; t < 12; t++) {
            for (i = 0; i < B; i++) toks[i] = (int32_t)((t * 13 + i * 7 + 1) % V);
            CHECK_EQ_INT(xlstm_step_batch(batch, toks, B, lb), XLSTM_OK);
            for (i = 0; i < B; i++) {
                xlstm_step(solo[i], toks[i], &ls);
                CHECK(max_abs_diff(lb[i], ls, V) <= (exact ? 0.0 : 1e-5));
            }
        }
        /* a state may not appear twice in one batch */
        {
            xlstm_state *second = batch[1];
            batch[1] = batch[0];
            CHECK_EQ_INT(xlstm_step_batch(batch, toks, 2, lb), XLSTM_ERR_ARG);
            batch[1] = second;
        }
        for (i = 0; i < B; i++) {
            xlstm_state_free(batch[i]);
            xlstm_state_free(solo[i]);
        }
        xlstm_model_free(m);
    }
}

static void test_state_copy_and_reset(void) {
    const char *dirs[2] = {DATA "mixed", DATA "slstm_only"};
    int d;
    for (d = 0; d < 2; d++) {
        xlstm_model *m = load_or_null(dirs[d]);
        xlstm_state *a, *b, *fresh;
        const float *la = NULL, *lb = NULL;
        float *first;
        size_t V, i;
        CHECK(m != NULL);
        V = (size_t)xlstm_model_config(m)->vocab_size;
        first = (float *)malloc(V * sizeof(float));
        xlstm_state_create(m, &a, NULL);
        xlstm_state_create(m, &b, NULL);
        xlstm_state_create(m, &fresh, NULL);
        xlstm_step(fresh, 3, &la);
        memcpy(first, la, V * sizeof(float));
        for (i = 0; i < 10; i++) xlstm_step(a, (int32_t)(i % V), &la);
        CHECK_EQ_INT(xlstm_state_copy(b, a), XLSTM_OK);
        for (i = 0; i < 10; i++) {
            xlstm_step(a, (int32_t)((i * 7) % V), &la);
            xlstm_step(b, (int32_t)((i * 7) % V), &lb);
            CHECK(memcmp(la, lb, V * sizeof(float)) == 0);
        }
        xlstm_state_reset(a);
        xlstm_step(a, 3, &la);
        CHECK(memcmp(la, first, V * sizeof(float)) == 0);
        free(first);
        xlstm_state_free(a);
        xlstm_state_free(b);
        xlstm_state_free(fresh);
        xlstm_model_free(m);
    }
}

static void test_state_save_restore(void) {
    xlstm_model *m = load_or_null(DATA "mixed"), *other = load_or_null(DATA "mlstm_only");
    xlstm_state *a, *b, *o;
    const float *la = NULL, *lb = NULL;
    unsigned char *blob;
    size_t n, V, i;
    CHECK(m != NULL && other != NULL);
    V = (size_t)xlstm_model_config(m)->vocab_size;
    xlstm_state_create(m, &a, NULL);
    xlstm_state_create(m, &b, NULL);
    xlstm_state_create(other, &o, NULL);
    for (i = 0; i < 7; i++) xlstm_step(a, (int32_t)i, &la);
    n = xlstm_state_blob_size(a);
    blob = (unsigned char *)malloc(n);
    CHECK_EQ_INT(xlstm_state_save(a, blob, n - 1), XLSTM_ERR_ARG);
    CHECK_EQ_INT(xlstm_state_save(a, blob, n), XLSTM_OK);
    CHECK_EQ_INT(xlstm_state_restore(b, blob, n), XLSTM_OK);
    xlstm_step(a, 5, &la);
    xlstm_step(b, 5, &lb);
    CHECK(memcmp(la, lb, V * sizeof(float)) == 0);
    CHECK_EQ_INT(xlstm_state_restore(o, blob, n), XLSTM_ERR_SHAPE); /* another model */
    CHECK_EQ_INT(xlstm_state_restore(b, blob, n - 4), XLSTM_ERR_TRUNCATED);
    blob[0] ^= 1;
    CHECK_EQ_INT(xlstm_state_restore(b, blob, n), XLSTM_ERR_FORMAT);
    free(blob);
    xlstm_state_free(a);
    xlstm_state_free(b);
    xlstm_state_free(o);
    xlstm_model_free(m);
    xlstm_model_free(other);
    { /* a blob that an earlier version saved (C row by row; 72-wide heads are
         kept in strips of 32, 32 and 8; AVX-512 kernels) restores to the same
         sequence (to the float rounding of other kernel levels), and saves
         back to the same bytes */
        size_t len = 0;
        unsigned char *old = read_all(DATA "state_v1_m_conv1_round_down.bin", &len), *again;
        m = load_or_null(DATA "ref/m_conv1_round_down");
        CHECK(old != NULL && m != NULL);
        V = (size_t)xlstm_model_config(m)->vocab_size;
        xlstm_state_create(m, &a, NULL);
        xlstm_state_create(m, &b, NULL);
        for (i = 0; i < 7; i++) xlstm_step(a, (int32_t)i, &la);
        CHECK_EQ_INT(xlstm_state_restore(b, old, len), XLSTM_OK);
        again = (unsigned char *)malloc(len);
        CHECK_EQ_INT(xlstm_state_save(b, again, len), XLSTM_OK);
        CHECK(memcmp(again, old, len) == 0);
        xlstm_step(a, 5, &la);
        xlstm_step(b, 5, &lb);
        printf("  a blob of the previous version: logits within %.2e of the same sequence stepped\n", max_abs_diff(la, lb, V));
        CHECK(max_abs_diff(la, lb, V) < 1e-5);
        free(old);
        free(again);
        xlstm_state_free(a);
        xlstm_state_free(b);
        xlstm_model_free(m);
    }
}

static void test_bad_tokens(void) {
    xlstm_model *m = load_or_null(DATA "mlstm_only");
    xlstm_state *s, *ref;
    const float *lg = NULL, *lr = NULL;
    int32_t toks[3] = {1, 101, 2};
    int32_t V;
    CHECK(m != NULL);
    V = xlstm_model_config(m)->vocab_size;
    xlstm_state_create(m, &s, NULL);
    xlstm_state_create(m, &ref, NULL);
    CHECK_EQ_INT(xlstm_step(s, -1, &lg), XLSTM_ERR_TOKEN);
    CHECK_EQ_INT(xlstm_step(s, V, &lg), XLSTM_ERR_TOKEN);
    CHECK_EQ_INT(xlstm_prefill(s, toks, 3, NULL, &lg), XLSTM_ERR_TOKEN);
    CHECK_EQ_INT(xlstm_prefill(s, NULL, 3, NULL, &lg), XLSTM_ERR_ARG);
    /* the rejected calls left the state empty */
    xlstm_step(s, 4, &lg);
    xlstm_step(ref, 4, &lr);
    CHECK(memcmp(lg, lr, (size_t)V * sizeof(float)) == 0);
    xlstm_state_free(s);
    xlstm_state_free(ref);
    xlstm_model_free(m);
}

/* ---- hostile files ---------------------------------------------------------- */

typedef struct {
    unsigned char *st;
    size_t st_len;
    char *cfg;
    size_t cfg_len;
} model_files;

static int read_model_files(const char *dir, model_files *f) {
    char path[400];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    f->st = read_all(path, &f->st_len);
    snprintf(path, sizeof path, "%s/config.json", dir);
    f->cfg = (char *)read_all(path, &f->cfg_len);
    return f->st && f->cfg;
}

/* Replace the first occurrence of `from` with `to` (same length) inside the header. */
static int patch_header(unsigned char *st, const char *from, const char *to) {
    uint64_t hlen = xlstm__rd_u64le(st);
    size_t n = strlen(from), i;
    for (i = 8; i + n <= 8 + hlen; i++) {
        if (memcmp(st + i, from, n) == 0) {
            memcpy(st + i, to, n);
            return 1;
        }
    }
    return 0;
}

/* Load from memory with a counting allocator; check the status and that nothing leaked. */
static xlstm_status load_counted(const unsigned char *st, size_t st_len, const char *cfg, size_t cfg_len, long *live,
                                 xlstm_error *err) {
    counter c;
    xlstm_model_params p = counting_params(&c);
    xlstm_model *m = NULL;
    xlstm_status s = xlstm_model_load_from_memory(st, st_len, cfg, cfg_len, &p, &m, err);
    if ((s == XLSTM_OK) != (m != NULL)) {
        printf("  load returned %d but model pointer is %p\n", (int)s, (void *)m);
        g_failed_checks++;
    }
    xlstm_model_free(m);
    *live = c.live;
    return s;
}

static void test_corrupt_files(void) {
    model_files f;
    xlstm_error err;
    long live;
    unsigned char *copy;
    char *cfg;
    CHECK(read_model_files(DATA "mixed", &f));
    copy = (unsigned char *)malloc(f.st_len);

    /* intact */
    CHECK_EQ_INT(load_counted(f.st, f.st_len, f.cfg, f.cfg_len, &live, &err), XLSTM_OK);
    CHECK_EQ_INT(live, 0);

    /* truncated: the last tensor runs past the end */
    CHECK_EQ_INT(load_counted(f.st, f.st_len - 100, f.cfg, f.cfg_len, &live, &err), XLSTM_ERR_TRUNCATED);
    CHECK_EQ_INT(live, 0);
    CHECK_EQ_INT(load_counted(f.st, 5, f.cfg, f.cfg_len, &live, &err), XLSTM_ERR_TRUNCATED);
    CHECK_EQ_INT(load_counted(f.st, 20, f.cfg, f.cfg_len, &live, &err), XLSTM_ERR_TRUNCATED);

    /* misshapen: lm_head's [101, 64] stored as [64, 101]; same byte count */
    memcpy(copy, f.st, f.st_len);
    CHECK(patch_header(copy, "\"lm_head.weight\":{\"dtype\":\"F32\",\"shape\":[101,64]",
                       "\"lm_head.weight\":{\"dtype\":\"F32\",\"shape\":[64,101]"));
    CHECK_EQ_INT(load_counted(copy, f.st_len, f.cfg, f.cfg_len, &live, &err), XLSTM_ERR_SHAPE);
    CHECK(strstr(err.message, "lm_head.weight") != NULL);
    CHECK_EQ_INT(live, 0);

    /* missing: a tensor renamed away */
    memcpy(copy, f.st, f.st_len);
    CHECK(patch_header(copy, "\"xlstm_block_stack.blocks.2.xlstm.learnable_skip\"",
                       "\"xlstm_block_stack.blocks.2.xlstm.learnable_skiX\""));
    CHECK_EQ_INT(load_counted(copy, f.st_len, f.cfg, f.cfg_len, &live, &err), XLSTM_ERR_MISSING);
    CHECK(strstr(err.message, "blocks.2.xlstm.learnable_skip") != NULL);
    CHECK_EQ_INT(live, 0);

    /* unexpected: the config has no post-blocks norm, the file does */
    cfg = (char *)malloc(f.cfg_len + 1);
    memcpy(cfg, f.cfg, f.cfg_len + 1);
    {
        char *p = strstr(cfg, "\"add_post_blocks_norm\": true");
        CHECK(p != NULL);
        memcpy(p, "\"add_post_blocks_norm\":false", 28);
    }
    CHECK_EQ_INT(load_counted(f.st, f.st_len, cfg, f.cfg_len, &live, &err), XLSTM_ERR_UNEXPECTED);
    CHECK(strstr(err.message, "post_blocks_norm") != NULL);
    CHECK_EQ_INT(live, 0);

    /* wrong dtype */
    memcpy(copy, f.st, f.st_len);
    CHECK(patch_header(copy, "\"lm_head.weight\":{\"dtype\":\"F32\"", "\"lm_head.weight\":{\"dtype\":\"I32\""));
    CHECK_EQ_INT(load_counted(copy, f.st_len, f.cfg, f.cfg_len, &live, &err), XLSTM_ERR_DTYPE);
    CHECK_EQ_INT(live, 0);

    /* malformed JSON: config and header */
    CHECK_EQ_INT(load_counted(f.st, f.st_len, f.cfg, f.cfg_len - 3, &live, &err), XLSTM_ERR_JSON);
    CHECK_EQ_INT(live, 0);
    memcpy(copy, f.st, f.st_len);
    copy[8] = '[';
    CHECK_EQ_INT(load_counted(copy, f.st_len, f.cfg, f.cfg_len, &live, &err), XLSTM_ERR_JSON);
    CHECK_EQ_INT(live, 0);

    /* non-finite weight */
    memcpy(copy, f.st, f.st_len);
    {
        uint64_t hlen = xlstm__rd_u64le(copy);
        float inf = INFINITY;
        memcpy(copy + 8 + hlen, &inf, 4);
    }
    CHECK_EQ_INT(load_counted(copy, f.st_len, f.cfg, f.cfg_len, &live, &err), XLSTM_ERR_VALUE);
    CHECK_EQ_INT(live, 0);

    /* bad config value */
    memcpy(cfg, f.cfg, f.cfg_len + 1);
    {
        char *p = strstr(cfg, "\"vocab_size\": 101");
        CHECK(p != NULL);
        memcpy(p, "\"vocab_size\": -11", 17);
    }
    CHECK_EQ_INT(load_counted(f.st, f.st_len, cfg, f.cfg_len, &live, &err), XLSTM_ERR_CONFIG);
    CHECK_EQ_INT(live, 0);

    /* missing files */
    CHECK_EQ_INT(xlstm_model_load(DATA "no-such-model", NULL, &(xlstm_model *){NULL}, &err), XLSTM_ERR_IO);
    free(cfg);
    free(copy);
    free(f.st);
    free(f.cfg);
}

/* Fail every allocation in turn: each must fail cleanly with no leak. */
static void test_allocation_failures(void) {
    model_files f;
    long k;
    CHECK(read_model_files(DATA "mixed", &f));
    for (k = 0; k < 12; k++) {
        counter c;
        xlstm_model_params p = counting_params(&c);
        xlstm_model *m = NULL;
        xlstm_state *s = NULL;
        xlstm_status st;
        c.fail_after = k;
        st = xlstm_model_load_from_memory(f.st, f.st_len, f.cfg, f.cfg_len, &p, &m, NULL);
        if (st == XLSTM_OK) {
            st = xlstm_state_create(m, &s, NULL);
            if (st == XLSTM_OK) CHECK(s != NULL);
            else CHECK(st == XLSTM_ERR_NOMEM && s == NULL);
            xlstm_state_free(s);
            xlstm_model_free(m);
        } else {
            CHECK(st == XLSTM_ERR_NOMEM && m == NULL);
        }
        CHECK_EQ_INT(c.live, 0);
    }
    free(f.st);
    free(f.cfg);
}

/* The config carried in the safetensors __metadata__ ("xlstm_config"). */
static void test_single_file_with_metadata(void) {
    model_files f;
    unsigned char *out;
    char *hdr, *meta;
    size_t mlen = 0, i, hlen_new, total;
    uint64_t hlen;
    xlstm_model *m;
    xlstm_error err;
    expected e;
    xlstm_state *s;
    float *all;
    CHECK(read_model_files(DATA "mixed", &f));
    CHECK(load_expected(DATA "mixed", &e, NULL));
    hlen = xlstm__rd_u64le(f.st);
    /* JSON-escape the config into a string value */
    meta = (char *)malloc(2 * f.cfg_len + 64);
    for (i = 0; i < f.cfg_len; i++) {
        char c = f.cfg[i];
        if (c == '"' || c == '\\') meta[mlen++] = '\\', meta[mlen++] = c;
        else if (c == '\n') meta[mlen++] = '\\', meta[mlen++] = 'n';
        else meta[mlen++] = c;
    }
    meta[mlen] = 0;
    hdr = (char *)malloc(hlen + mlen + 64);
    /* original header starts with '{': splice the metadata in front */
    hlen_new = (size_t)sprintf(hdr, "{\"__metadata__\":{\"format\":\"pt\",\"xlstm_config\":\"%s\"},", meta);
    memcpy(hdr + hlen_new, f.st + 9, hlen - 1);
    hlen_new += hlen - 1;
    total = 8 + hlen_new + (f.st_len - 8 - hlen);
    out = (unsigned char *)malloc(total);
    for (i = 0; i < 8; i++) out[i] = (unsigned char)((uint64_t)hlen_new >> (8 * i));
    memcpy(out + 8, hdr, hlen_new);
    memcpy(out + 8 + hlen_new, f.st + 8 + hlen, f.st_len - 8 - hlen);
    CHECK_EQ_INT(xlstm_model_load_from_memory(out, total, NULL, 0, NULL, &m, &err), XLSTM_OK);
    xlstm_state_create(m, &s, NULL);
    all = (float *)malloc(e.n * e.vocab * sizeof(float));
    xlstm_prefill(s, e.tokens, e.n, all, NULL);
    CHECK(max_abs_diff(all, e.forward, e.n * e.vocab) <= 2e-4);
    /* and from a file path */
    {
        FILE *fp = fopen("build/single_file_model.safetensors", "wb");
        xlstm_model *m2;
        CHECK(fp != NULL);
        fwrite(out, 1, total, fp);
        fclose(fp);
        CHECK_EQ_INT(xlstm_model_load("build/single_file_model.safetensors", NULL, &m2, &err), XLSTM_OK);
        xlstm_model_free(m2);
    }
    free(all);
    xlstm_state_free(s);
    xlstm_model_free(m);
    /* no config anywhere */
    CHECK_EQ_INT(xlstm_model_load_from_memory(f.st, f.st_len, NULL, 0, NULL, &m, &err), XLSTM_ERR_CONFIG);
    free_expected(&e);
    free(out);
    free(hdr);
    free(meta);
    free(f.st);
    free(f.cfg);
}

/* ---- JSON and config details ------------------------------------------------- */

static void test_json_parser(void) {
    xlstm__alloc a;
    xlstm__json j;
    char buf[64];
    const char *ok = " {\"a\\u00e9\\n\": [1, -2.5e3, true, null, {\"b\": \"\\ud83d\\ude00\"}], \"c\": {}} ";
    const char *bad[] = {"", "{", "{\"a\" 1}", "[1,]", "{\"a\":01x}", "\"\\x\"", "[1] 2", "{\"a\":tru}", "-", "1.",
                         "\"abc"};
    char deep[300];
    size_t i;
    uint32_t t;
    double v;
    memset(&a, 0, sizeof a);
    CHECK_EQ_INT(xlstm__json_parse(&j, &a, ok, strlen(ok), "t", NULL), XLSTM_OK);
    CHECK_EQ_INT(j.tok[0].count, 2);
    t = xlstm__jget(&j, 0, "a\xc3\xa9\n");
    CHECK(t != 0 && j.tok[t].type == XLSTM__J_ARR && j.tok[t].count == 5);
    CHECK(xlstm__jnum(&j, t + 2, &v) && v == -2500.0);
    t = xlstm__jget(&j, j.tok[t].next - 3, "b");
    CHECK(t != 0);
    CHECK(xlstm__jstr_decode(&j, t, buf, sizeof buf) == 4 && memcmp(buf, "\xf0\x9f\x98\x80", 4) == 0);
    CHECK(xlstm__jget(&j, 0, "zz") == 0);
    xlstm__free(&a, j.tok);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_EQ_INT(xlstm__json_parse(&j, &a, bad[i], strlen(bad[i]), "t", NULL), XLSTM_ERR_JSON);
    /* nesting past the depth cap is rejected, not a stack overflow */
    memset(deep, '[', sizeof deep);
    CHECK_EQ_INT(xlstm__json_parse(&j, &a, deep, sizeof deep, "t", NULL), XLSTM_ERR_JSON);
}

/* The message formatter: numbers of every width, and truncation that always
   terminates (a full buffer once made it loop forever: fuzz regression). */
static void test_message_formatter(void) {
    char b[64], small[8];
    char longname[300];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    xlstm__fmt(b, sizeof b, "%d %u %ld %lu %lld %llu %s %%", -7, 7u, -70000L, 4294967295ul, -1234567890123LL,
               18446744073709551615ull, "ok");
    CHECK(strcmp(b, "-7 7 -70000 4294967295 -1234567890123 18446744073709551615 ok %") == 0);
    CHECK_EQ_INT(xlstm__fmt(small, sizeof small, "%s %llu", longname, 12345678901234567ull), 7);
    CHECK(strcmp(small, "xxxxxxx") == 0);
    CHECK_EQ_INT(xlstm__fmt(small, sizeof small, "ab%llu", 987654321ull), 7);
    CHECK(strcmp(small, "ab98765") == 0);
}

/* The causal conv against a direct sum (scalar and this CPU's kernels): channel counts that are and are not
   multiples of 16, tap counts up to and past XLSTM__CONV_K (the generic
   per-channel path), one pass over n rows or channel ranges one at a time,
   and the history left for the next call. */
static void test_causal_conv(void) {
    enum { C = 37, N = 5, KMAX = 11, LD = 40 };
    static const int ks[] = {1, 2, 4, 8, 9, 11}, cs[] = {16, 32, 37};
    float w[C * KMAX], ws[C * KMAX], b[C], X[N * LD], Y[N * LD], hist[(KMAX - 1) * C], hist0[(KMAX - 1) * C];
    size_t ki, ci;
    int i, level;
    for (i = 0; i < C * KMAX; i++) w[i] = (float)((i * 7) % 13 - 6) / 8.0f;
    for (i = 0; i < C; i++) b[i] = (float)(i % 5) / 4.0f - 0.5f;
    for (i = 0; i < N * LD; i++) X[i] = (float)((i * 5) % 11 - 5) / 4.0f;
    for (i = 0; i < (KMAX - 1) * C; i++) hist0[i] = (float)((i * 3) % 7 - 3) / 2.0f;
    for (level = 0; level < 2; level++)
    for (ki = 0; ki < sizeof ks / sizeof ks[0]; ki++)
        for (ci = 0; ci < sizeof cs / sizeof cs[0]; ci++) {
            const xlstm__kern *kern = xlstm__pick_kernels(level ? XLSTM_KERNELS_AUTO : XLSTM_KERNELS_SCALAR);
            const int K = ks[ki], nc = cs[ci];
            int split, t, c, k;
            memcpy(ws, w, sizeof ws);
            xlstm__conv_strips(ws, nc, K); /* the loader's layout */
            for (split = 0; split < 2; split++) {
                memcpy(hist, hist0, sizeof hist);
                memset(Y, 0, sizeof Y);
                if (split) /* 16 channels at a time, the rest last */
                    for (c = 0; c < nc; c += 16) xlstm__conv_seq(kern, Y, LD, hist, X, LD, N, ws, b, nc, K, c, c + 16 < nc ? c + 16 : nc);
                else
                    xlstm__conv_seq(kern, Y, LD, hist, X, LD, N, ws, b, nc, K, 0, nc);
                for (t = 0; t < N; t++)
                    for (c = 0; c < nc; c++) {
                        /* input s_j for j = t .. t + K - 1: the K - 1 history rows, then X's rows */
                        double acc = b[c];
                        for (k = 0; k < K; k++) {
                            const int j = t + k;
                            const float v = j < K - 1 ? hist0[(size_t)j * nc + c] : X[(size_t)(j - (K - 1)) * LD + c];
                            acc += (double)w[c * K + k] * v;
                        }
                        CHECK_NEAR(Y[t * LD + c], acc, 1e-5 * (1 + fabs(acc)));
                    }
                for (k = 0; k < K - 1; k++) /* the last K - 1 inputs */
                    for (c = 0; c < nc; c++) {
                        const int j = N + k;
                        const float v = j < K - 1 ? hist0[(size_t)j * nc + c] : X[(size_t)(j - (K - 1)) * LD + c];
                        CHECK(hist[(size_t)k * nc + c] == v);
                    }
            }
        }
}

static void test_config_rounding(void) {
    /* proj_factor 1.3 * 64 = 83.2 -> up to 128, down to 64 (multiples of 64) */
    CHECK_EQ_INT(xlstm__round_proj(1.3, 64, 64, 1), 128);
    CHECK_EQ_INT(xlstm__round_proj(1.3, 64, 64, 0), 64);
    CHECK_EQ_INT(xlstm__round_proj(2.0, 64, 64, 1), 128);
    CHECK_EQ_INT(xlstm__round_proj(1.5, 48, 16, 0), 64);
}

static void test_status_strings(void) {
    int s;
    for (s = 0; s >= -14; s--) CHECK(strcmp(xlstm_status_string((xlstm_status)s), "unknown status") != 0);
    CHECK(strcmp(xlstm_status_string((xlstm_status)-99), "unknown status") == 0);
    { /* the version string is made from the version macros */
        char v[32];
        snprintf(v, sizeof v, "%d.%d.%d", XLSTM_VERSION_MAJOR, XLSTM_VERSION_MINOR, XLSTM_VERSION_PATCH);
        CHECK(strcmp(v, XLSTM_VERSION_STRING) == 0);
    }
}


/* ---- sampler ---------------------------------------------------------------------- */

static void test_sampler_greedy(void) {
    float logits[6] = {0.5f, 2.0f, -1.0f, 1.9f, 0.0f, 2.0f};
    float copy[6];
    unsigned char work[6 * 8];
    xlstm_sampler s = xlstm_sampler_init(1);
    int i;
    memcpy(copy, logits, sizeof logits);
    CHECK_EQ_INT(xlstm_argmax(logits, 6), 1); /* first of the tied maxima */
    s.temperature = 0;
    for (i = 0; i < 20; i++) CHECK_EQ_INT(xlstm_sample(&s, logits, 6, NULL, 0, work), 1);
    s = xlstm_sampler_init(2);
    s.top_k = 1;
    s.top_p = 1;
    s.min_p = 0;
    for (i = 0; i < 20; i++) CHECK_EQ_INT(xlstm_sample(&s, logits, 6, NULL, 0, work), 1);
    CHECK(memcmp(copy, logits, sizeof logits) == 0); /* never modified */
    CHECK_EQ_INT(xlstm_sample(&s, NULL, 6, NULL, 0, work), -1);
}

/* softmax probs of a fixed logit vector */
static void softmax(const float *l, double *p, int n, double temp) {
    double m = l[0], sum = 0;
    int i;
    for (i = 1; i < n; i++)
        if (l[i] > m) m = l[i];
    for (i = 0; i < n; i++) sum += p[i] = exp((l[i] - m) / temp);
    for (i = 0; i < n; i++) p[i] /= sum;
}

static void test_sampler_distribution(void) {
    float logits[8] = {1.0f, 0.2f, -0.5f, 2.0f, 0.0f, 1.5f, -2.0f, 0.7f};
    double p[8], count[8] = {0}, chi2 = 0;
    unsigned char work[8 * 8];
    xlstm_sampler s = xlstm_sampler_init(42);
    const int N = 200000;
    int i;
    s.temperature = 0.7f;
    s.top_k = 0;
    s.top_p = 1;
    s.min_p = 0;
    softmax(logits, p, 8, 0.7);
    for (i = 0; i < N; i++) count[xlstm_sample(&s, logits, 8, NULL, 0, work)]++;
    for (i = 0; i < 8; i++) chi2 += (count[i] - N * p[i]) * (count[i] - N * p[i]) / (N * p[i]);
    /* 7 degrees of freedom: chi2 > 24.3 has probability 0.001 */
    printf("  chi2 = %.2f over 8 bins (%d draws)\n", chi2, N);
    CHECK(chi2 < 24.3);
}

static void test_sampler_top_p_top_k_min_p(void) {
    /* probabilities proportional to 1, 1/2, 1/4, ...: 0.508, 0.254, 0.127, 0.063, ... */
    float logits[6];
    unsigned char work[6 * 8];
    int seen[6] = {0}, i;
    xlstm_sampler s = xlstm_sampler_init(7);
    for (i = 0; i < 6; i++) logits[i] = (float)(-i * log(2.0));
    s.temperature = 1;
    s.top_k = 0;
    s.min_p = 0;
    s.top_p = 0.75f; /* 0.508 + 0.254 reaches 0.75: exactly two tokens */
    for (i = 0; i < 2000; i++) seen[xlstm_sample(&s, logits, 6, NULL, 0, work)]++;
    CHECK(seen[0] > 0 && seen[1] > 0 && seen[2] == 0 && seen[3] == 0);
    memset(seen, 0, sizeof seen);
    s.top_p = 0.77f; /* 0.762 falls short: needs the third */
    for (i = 0; i < 4000; i++) seen[xlstm_sample(&s, logits, 6, NULL, 0, work)]++;
    CHECK(seen[2] > 0 && seen[3] == 0);
    memset(seen, 0, sizeof seen);
    s.top_p = 1;
    s.top_k = 3;
    for (i = 0; i < 4000; i++) seen[xlstm_sample(&s, logits, 6, NULL, 0, work)]++;
    CHECK(seen[2] > 0 && seen[3] == 0 && seen[4] == 0);
    memset(seen, 0, sizeof seen);
    s.top_k = 0;
    s.min_p = 0.2f; /* keeps p >= 0.2 * p0: ratios 1, 1/2, 1/4 */
    for (i = 0; i < 4000; i++) seen[xlstm_sample(&s, logits, 6, NULL, 0, work)]++;
    CHECK(seen[2] > 0 && seen[3] == 0);
}

static void test_sampler_seed_and_penalty(void) {
    float logits[16];
    unsigned char work[16 * 8];
    int32_t a[50], b[50], c[50], recent[2] = {3, 3};
    xlstm_sampler s1 = xlstm_sampler_init(123), s2 = xlstm_sampler_init(123), s3 = xlstm_sampler_init(124);
    int i, same = 1;
    for (i = 0; i < 16; i++) logits[i] = (float)((i * 7) % 5) * 0.3f;
    s1.top_k = s2.top_k = s3.top_k = 0;
    for (i = 0; i < 50; i++) {
        a[i] = xlstm_sample(&s1, logits, 16, NULL, 0, work);
        b[i] = xlstm_sample(&s2, logits, 16, NULL, 0, work);
        c[i] = xlstm_sample(&s3, logits, 16, NULL, 0, work);
        if (a[i] != c[i]) same = 0;
    }
    CHECK(memcmp(a, b, sizeof a) == 0);
    CHECK(!same);
    /* the penalty turns a clear winner into a loser, once per distinct token */
    memset(logits, 0, sizeof logits);
    logits[3] = 1.0f;
    logits[5] = 0.6f;
    s1.temperature = 0;
    s1.repeat_penalty = 2.0f;
    CHECK_EQ_INT(xlstm_sample(&s1, logits, 16, recent, 2, work), 5);
    s1.repeat_penalty = 1.0f;
    CHECK_EQ_INT(xlstm_sample(&s1, logits, 16, recent, 2, work), 3);
}

/* ---- runner -------------------------------------------------------------------- */

typedef struct {
    const char *name;
    void (*fn)(void);
} test_case;

static const test_case tests[] = {
    {"reference_models", test_reference_models},
    {"kernels_match_scalar", test_kernels_match_scalar},
    {"kernels_misaligned_rows", test_kernels_misaligned_rows},
    {"causal_conv", test_causal_conv},
    {"quantized_models", test_quantized_models},
    {"fast_prompts", test_fast_prompts},
    {"threads_agree", test_threads_agree},
    {"long_stream", test_long_stream},
    {"prefill_equals_steps", test_prefill_equals_steps},
    {"step_batch", test_step_batch},
    {"state_copy_and_reset", test_state_copy_and_reset},
    {"state_save_restore", test_state_save_restore},
    {"bad_tokens", test_bad_tokens},
    {"corrupt_files", test_corrupt_files},
    {"allocation_failures", test_allocation_failures},
    {"single_file_with_metadata", test_single_file_with_metadata},
    {"json_parser", test_json_parser},
    {"message_formatter", test_message_formatter},
    {"config_rounding", test_config_rounding},
    {"status_strings", test_status_strings},
    {"sampler_greedy", test_sampler_greedy},
    {"sampler_distribution", test_sampler_distribution},
    {"sampler_top_p_top_k_min_p", test_sampler_top_p_top_k_min_p},
    {"sampler_seed_and_penalty", test_sampler_seed_and_penalty},
    TOKENIZER_TESTS
    TIREX_TESTS
    CKPT_TESTS
};

/* Arguments select tests: NAME runs the tests whose name contains NAME, !NAME
   skips them (e.g. under valgrind: test_xlstm !long). */
static int selected(const char *name, int argc, char **argv) {
    int a, any_positive = 0, hit = 0;
    for (a = 1; a < argc; a++) {
        if (argv[a][0] == '!') {
            if (strstr(name, argv[a] + 1)) return 0;
        } else {
            any_positive = 1;
            if (strstr(name, argv[a])) hit = 1;
        }
    }
    return !any_positive || hit;
}

int main(int argc, char **argv) {
    int passed = 0, failed = 0;
    size_t i;
    for (i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        int before = g_failed_checks;
        if (!selected(tests[i].name, argc, argv)) continue;
        printf("[ RUN  ] %s\n", tests[i].name);
        fflush(stdout);
        tests[i].fn();
        if (g_failed_checks == before) {
            printf("[  OK  ] %s\n", tests[i].name);
            passed++;
        } else {
            printf("[ FAIL ] %s\n", tests[i].name);
            failed++;
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
