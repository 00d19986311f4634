/* Shared by the fuzz targets and gen_seeds: the whole library (static
   internals included), tiny deterministic model builders, and helpers. */
#ifndef XLSTM_FUZZ_COMMON_H
#define XLSTM_FUZZ_COMMON_H
#define XLSTM_STATIC
#define XLSTM_IMPLEMENTATION
/* prompts of 16-token chunks, so fuzz_model's 20-token prefills cross a
   chunk and take both the matrix-product (16 rows) and the dot-product (4)
   paths */
#define XLSTM_PREFILL_ROWS 16
#include "xlstm.h"
#include "../../tools/st_writer.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Tiny configs covering both architectures and most config branches. */
static const char *const fz_tiny_configs[] = {
    /* 0: 2024 mixed mLSTM + sLSTM (vanilla layout) */
    "{\"vocab_size\":11,\"embedding_dim\":8,\"num_blocks\":2,\"slstm_at\":[1],"
    "\"mlstm_block\":{\"mlstm\":{\"proj_factor\":2.0,\"round_proj_up_to_multiple_of\":8,\"num_heads\":2,"
    "\"qkv_proj_blocksize\":4,\"conv1d_kernel_size\":2}},"
    "\"slstm_block\":{\"slstm\":{\"num_heads\":2,\"conv1d_kernel_size\":2,\"backend\":\"vanilla\"},"
    "\"feedforward\":{\"proj_factor\":1.5,\"round_proj_up_to_multiple_of\":4,\"act_fn\":\"gelu\"}}}",
    /* 1: 2024 sLSTM only, cuda layout, lstm function, no ffn, tied */
    "{\"vocab_size\":7,\"embedding_dim\":8,\"num_blocks\":1,\"tie_weights\":true,\"mlstm_block\":null,"
    "\"slstm_block\":{\"slstm\":{\"num_heads\":4,\"conv1d_kernel_size\":0,\"backend\":\"cuda\",\"function\":\"lstm\","
    "\"group_norm_weight\":false},\"feedforward\":null}}",
    /* 2: 2024 mLSTM only, biases, no conv, no post norm */
    "{\"vocab_size\":9,\"embedding_dim\":8,\"num_blocks\":1,\"bias\":true,\"add_post_blocks_norm\":false,"
    "\"mlstm_block\":{\"mlstm\":{\"proj_factor\":1.0,\"round_proj_up_to_multiple_of\":4,\"num_heads\":1,"
    "\"qkv_proj_blocksize\":2,\"conv1d_kernel_size\":0}},\"slstm_block\":null}",
    /* 3: xLSTM Large, single weights, biases */
    "{\"model_type\":\"xlstm\",\"vocab_size\":10,\"hidden_size\":8,\"num_hidden_layers\":1,\"num_heads\":2,"
    "\"qk_dim_factor\":0.5,\"v_dim_factor\":1.0,\"ffn_proj_factor\":1.0,\"ffn_round_up_to_multiple_of\":8,"
    "\"use_bias\":true,\"gate_soft_cap\":15.0,\"output_logit_soft_cap\":30.0,\"weight_mode\":\"single\"}",
    /* 4: xLSTM Large, fused weights, no out norm, no caps */
    "{\"model_type\":\"xlstm\",\"vocab_size\":6,\"hidden_size\":8,\"num_hidden_layers\":2,\"num_heads\":2,"
    "\"qk_dim_factor\":1.0,\"v_dim_factor\":0.5,\"ffn_proj_factor\":1.5,\"ffn_round_up_to_multiple_of\":4,"
    "\"add_out_norm\":false,\"gate_soft_cap\":null,\"output_logit_soft_cap\":null,\"weight_mode\":\"fused\"}",
    /* 5: 2024 mLSTM with D = 32 so matrices can be block-quantized */
    "{\"vocab_size\":5,\"embedding_dim\":32,\"num_blocks\":1,"
    "\"mlstm_block\":{\"mlstm\":{\"proj_factor\":1.0,\"round_proj_up_to_multiple_of\":32,\"num_heads\":1,"
    "\"qkv_proj_blocksize\":4,\"conv1d_kernel_size\":2}},\"slstm_block\":null}",
    /* 6: xLSTM Large with D = 32 (quantizable) */
    "{\"model_type\":\"xlstm\",\"vocab_size\":4,\"hidden_size\":32,\"num_hidden_layers\":1,\"num_heads\":1,"
    "\"qk_dim_factor\":1.0,\"v_dim_factor\":1.0,\"ffn_proj_factor\":1.0,\"ffn_round_up_to_multiple_of\":32}",
};
#define FZ_N_TINY (int)(sizeof fz_tiny_configs / sizeof fz_tiny_configs[0])

enum { FZ_F32, FZ_BF16, FZ_F16, FZ_Q8, FZ_Q4 };

static uint32_t fz_rng(uint64_t *s) {
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(*s >> 33);
}
static float fz_uniform(uint64_t *s) { return (float)(fz_rng(s) & 0xFFFFFF) / 16777216.0f - 0.5f; }
static uint16_t fz_f32_to_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return (uint16_t)(u >> 16);
}
static uint16_t fz_f32_to_f16(float f) { /* |f| < 1, normal range only: good enough for seeds */
    uint32_t u, s, e, m;
    memcpy(&u, &f, 4);
    s = (u >> 16) & 0x8000u;
    e = (u >> 23) & 0xFF;
    m = (u >> 13) & 0x3FF;
    if (e < 113) return (uint16_t)s;
    return (uint16_t)(s | ((e - 112) << 10) | m);
}

typedef struct fz_buf {
    unsigned char *p;
    size_t n, cap;
} fz_buf;
static void fz_put(fz_buf *b, const void *src, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 4096;
        b->p = (unsigned char *)realloc(b->p, b->cap);
        if (!b->p) abort();
    }
    memcpy(b->p + b->n, src, n);
    b->n += n;
}

/* Build a complete safetensors file for config cfg (weights ~U(-0.5,0.5)),
   with the config in __metadata__["xlstm_config"] when embed_config. dtype
   applies to matrices (vectors stay F32; Q8/Q4 fall back to F32 when the row
   length is not a multiple of 32). Returns malloc'd bytes or NULL. */
static unsigned char *fz_make_model(const char *cfg, int dtype, uint64_t seed, int embed_config, size_t *out_len) {
    xlstm__json j;
    xlstm__alloc a;
    xlstm_model m;
    xlstm__specs s;
    st_writer w;
    fz_buf data = {0, 0, 0};
    unsigned char *hdr, *out = NULL;
    size_t hlen, i, k;
    memset(&a, 0, sizeof a);
    memset(&m, 0, sizeof m);
    memset(&s, 0, sizeof s);
    memset(&w, 0, sizeof w);
    if (xlstm__json_parse(&j, &a, cfg, strlen(cfg), "cfg", NULL)) return NULL;
    if (xlstm__parse_config(&j, &m.cfg, NULL)) {
        free(j.tok);
        return NULL;
    }
    free(j.tok);
    m.blocks = (xlstm__block *)calloc((size_t)m.cfg.num_blocks + 1, sizeof(xlstm__block));
    s.cap = (size_t)m.cfg.num_blocks * 24 + 8;
    s.v = (xlstm__spec *)calloc(s.cap, sizeof(xlstm__spec));
    xlstm__build_specs(&m, &s);
    for (i = 0; i < s.n && !s.overflow; i++) {
        const xlstm__spec *sp = &s.v[i];
        int64_t rows = sp->shape[0], cols = sp->shape[sp->ndim - 1], shp[4];
        size_t n = 1;
        int d, q = sp->is_mat && (dtype == FZ_Q8 || dtype == FZ_Q4) && cols % 32 == 0;
        if (sp->optional) continue;
        if (sp->ndim == 3) rows *= sp->shape[1];
        for (d = 0; d < sp->ndim; d++) n *= (size_t)sp->shape[d];
        if (q) {
            char nm[200];
            size_t nb = (size_t)rows * (size_t)(cols / 32), qbytes = dtype == FZ_Q8 ? n : n / 2;
            shp[0] = rows, shp[1] = dtype == FZ_Q8 ? cols : cols / 2;
            snprintf(nm, sizeof nm, "%s.%s", sp->name, dtype == FZ_Q8 ? "q8" : "q4");
            st_add(&w, nm, dtype == FZ_Q8 ? "I8" : "U8", 2, shp, qbytes);
            for (k = 0; k < qbytes; k++) {
                unsigned char c = (unsigned char)fz_rng(&seed);
                fz_put(&data, &c, 1);
            }
            shp[1] = cols / 32;
            snprintf(nm, sizeof nm, "%s.%s_scale", sp->name, dtype == FZ_Q8 ? "q8" : "q4");
            st_add(&w, nm, "F32", 2, shp, nb * 4);
            for (k = 0; k < nb; k++) {
                float f = (dtype == FZ_Q8 ? 0.5f / 127 : 0.5f / 8) * (1.0f + fz_uniform(&seed));
                fz_put(&data, &f, 4);
            }
        } else {
            int dt = sp->is_mat ? dtype : FZ_F32;
            if (dt > FZ_F16) dt = FZ_F32;
            st_add(&w, sp->name, dt == FZ_F32 ? "F32" : dt == FZ_BF16 ? "BF16" : "F16", sp->ndim, sp->shape,
                   n * (dt == FZ_F32 ? 4 : 2));
            for (k = 0; k < n; k++) {
                float f = fz_uniform(&seed);
                if (dt == FZ_F32) fz_put(&data, &f, 4);
                else {
                    uint16_t h = dt == FZ_BF16 ? fz_f32_to_bf16(f) : fz_f32_to_f16(f);
                    fz_put(&data, &h, 2);
                }
            }
        }
    }
    hdr = s.overflow ? NULL : st_header(&w, embed_config ? cfg : NULL, &hlen);
    if (hdr) {
        out = (unsigned char *)malloc(hlen + data.n + 1);
        if (out) {
            memcpy(out, hdr, hlen);
            if (data.n) memcpy(out + hlen, data.p, data.n);
            *out_len = hlen + data.n;
        }
    }
    free(hdr);
    free(data.p);
    free(w.e);
    free(s.v);
    free(m.blocks);
    return out;
}

/* Read a whole file; NULL on failure. */
static unsigned char *fz_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    unsigned char *p;
    long n;
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    p = (unsigned char *)malloc((size_t)n + 1);
    if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
        free(p);
        p = NULL;
    }
    fclose(f);
    if (p) *len = (size_t)n;
    return p;
}

/* Kernel level from a byte (every level this machine has). */
static xlstm_kernels fz_kernels(unsigned v) {
    static const xlstm_kernels k[] = {XLSTM_KERNELS_SCALAR, XLSTM_KERNELS_SIMD, XLSTM_KERNELS_AUTO, XLSTM_KERNELS_AVX2};
    xlstm_kernels r = k[v % 4];
    if (r == XLSTM_KERNELS_AVX2 && !xlstm__pick_kernels(r)) r = XLSTM_KERNELS_SCALAR;
    return r;
}

/* Largest |weight| a model can produce from its file: plain floats, Q8/Q4
   scale * code range. Used as the "finite, moderate weights" oracle. */
static double fz_max_abs_weight(const unsigned char *buf, size_t size) {
    xlstm__st st;
    xlstm__alloc a;
    double mx = 0;
    uint32_t i;
    size_t k;
    memset(&a, 0, sizeof a);
    if (xlstm__st_parse(&st, &a, buf, size, NULL)) return INFINITY;
    for (i = 0; i < st.n; i++) {
        const xlstm__st_tensor *t = &st.t[i];
        const xlstm__jtok *nt = &st.hdr.tok[t->name_tok];
        size_t nl = nt->end - nt->start;
        double mul = 1;
        int is_scale = nl > 9 && memcmp(st.hdr.text + nt->end - 9, ".q8_scale", 9) == 0;
        if (nl > 9 && memcmp(st.hdr.text + nt->end - 9, ".q4_scale", 9) == 0) is_scale = 1, mul = 8;
        else if (is_scale) mul = 128;
        if (t->dtype != XLSTM__DT_F32 && t->dtype != XLSTM__DT_BF16 && t->dtype != XLSTM__DT_F16) continue;
        for (k = 0; k < t->nbytes / (t->dtype == XLSTM__DT_F32 ? 4 : 2); k++) {
            double v = fabs((double)xlstm__load_elem(t->data, t->dtype, k)) * mul;
            if (!(v <= mx)) mx = v; /* NaN propagates as "not moderate" */
        }
    }
    xlstm__st_free(&st, &a);
    return mx;
}

/* Bytes of recurrent state a loaded model's state would need. */
static size_t fz_state_bytes(const xlstm_model *m) {
    size_t t = 0;
    int b;
    for (b = 0; b < m->cfg.num_blocks; b++) t += xlstm__state_floats(&m->cfg, b);
    return t * 4;
}

/* Run a few tokens (in range and out of range) through a loaded model; returns
   1 if any logits were non-finite. Never fails otherwise. */
static int fz_exercise(const xlstm_model *model, const unsigned char *tok, size_t ntok) {
    xlstm_state *s = NULL, *s2 = NULL;
    const float *logits = NULL;
    int32_t V = xlstm_model_config(model)->vocab_size, toks[40];
    size_t i, n = ntok < 40 ? ntok : 40;
    int nonfinite = 0, v;
    if (fz_state_bytes(model) > ((size_t)64 << 20)) return 0; /* too big to fuzz quickly */
    if (xlstm_state_create(model, &s, NULL)) return 0;
    if (xlstm_state_create(model, &s2, NULL)) {
        xlstm_state_free(s);
        return 0;
    }
    if (xlstm_step(s, -1, &logits) != XLSTM_ERR_TOKEN || xlstm_step(s, V, &logits) != XLSTM_ERR_TOKEN ||
        xlstm_step(s, INT32_MIN, &logits) != XLSTM_ERR_TOKEN)
        abort();
    for (i = 0; i < n; i++) toks[i] = (int32_t)(tok[i] % (unsigned)V);
    if (n < 3) {
        toks[0] = 0, toks[1] = V - 1, toks[2] = V / 2;
        n = 3;
    }
    if (xlstm_step(s, toks[0], &logits)) abort();
    for (v = 0; v < V; v++) nonfinite |= !isfinite(logits[v]);
    if (xlstm_prefill(s, toks, n, NULL, &logits)) abort();
    for (v = 0; v < V; v++) nonfinite |= !isfinite(logits[v]);
    toks[n - 1] = V; /* one bad token: nothing is fed */
    if (xlstm_prefill(s2, toks, n, NULL, &logits) != XLSTM_ERR_TOKEN) abort();
    {
        xlstm_state *both[2];
        int32_t bt[2];
        both[0] = s, both[1] = s2;
        bt[0] = toks[0], bt[1] = V - 1;
        if (xlstm_step_batch(both, bt, 2, NULL)) abort();
    }
    xlstm_state_free(s2);
    xlstm_state_free(s);
    return nonfinite;
}

/* An allocator that fails the fz_fail_at-th allocation (0 = never), to walk
   every error path of the loader (LeakSanitizer checks the clean-up). */
static long fz_fail_at, fz_n_alloc;
static void *fz_alloc(size_t n, void *user) {
    (void)user;
    if (fz_fail_at && ++fz_n_alloc == fz_fail_at) return NULL;
    return malloc(n);
}
static void fz_free(void *p, void *user) {
    (void)user;
    free(p);
}

/* What to do when logits are non-finite although the oracle says they should
   not be: abort (default) or just count (XLSTM_FUZZ_NONFINITE=count). */
static void fz_nonfinite(const char *why) {
    static int mode = -1;
    if (mode < 0) {
        const char *e = getenv("XLSTM_FUZZ_NONFINITE");
        mode = e && strcmp(e, "count") == 0;
    }
    if (!mode) {
        fprintf(stderr, "non-finite logits: %s\n", why);
        abort();
    }
}
#endif
