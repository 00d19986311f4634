/* xlstm-quantize MODEL OUT.safetensors --dtype f32|bf16|f16|q8|q4
   Rewrites a model's weight matrices in another storage type and writes one
   .safetensors file carrying the config in __metadata__["xlstm_config"], which
   xlstm.h loads (and mmaps) directly. Vectors (norms, biases, conv, the sLSTM
   recurrent kernel) stay F32. Matrices whose row length is not a multiple of
   32 cannot be block-quantized and stay F32 under q8/q4.
   Quantized tensor naming (see the top of xlstm.h):
     NAME.q8 (I8 [rows, cols]) + NAME.q8_scale (F32 [rows, cols/32])
     NAME.q4 (U8 [rows, cols/2]) + NAME.q4_scale (F32 [rows, cols/32]) */
#define _DEFAULT_SOURCE /* madvise */
#define XLSTM_MMAP
#define XLSTM_IMPLEMENTATION
#include "../xlstm.h"
#include "st_writer.h"

/* Drop the pages of a tensor already written: input shards are memory-mapped,
   so the converted model never has to fit in memory (the 7B is 27 GB in F32). */
static void release(const unsigned char *p, size_t n) {
    uintptr_t page = 4096, start = ((uintptr_t)p + page - 1) & ~(page - 1), end = ((uintptr_t)p + n) & ~(page - 1);
    if (end > start) madvise((void *)start, end - start, MADV_DONTNEED);
}

#include <errno.h>
#include <math.h>

enum { OUT_F32, OUT_BF16, OUT_F16, OUT_Q8, OUT_Q4 };

static int usage(void) {
    fprintf(stderr, "usage: xlstm-quantize MODEL OUT.safetensors --dtype f32|bf16|f16|q8|q4\n");
    return 2;
}

static uint16_t f32_to_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    u += 0x7FFFu + ((u >> 16) & 1u); /* round to nearest even */
    return (uint16_t)(u >> 16);
}

static uint16_t f32_to_f16(float f) {
    uint32_t u, sign, mant;
    int exp;
    memcpy(&u, &f, 4);
    sign = (u >> 16) & 0x8000u;
    exp = (int)((u >> 23) & 0xFF) - 127 + 15;
    mant = u & 0x7FFFFFu;
    if (exp >= 31) return (uint16_t)(sign | 0x7BFFu); /* clamp to the largest finite half */
    if (exp <= 0) {                                    /* subnormal or zero */
        uint32_t m, shift, r;
        if (exp < -10) return (uint16_t)sign;
        m = mant | 0x800000u;
        shift = (uint32_t)(14 - exp);
        r = m >> shift;
        if ((m >> (shift - 1)) & 1u && ((m & ((1u << (shift - 1)) - 1)) || (r & 1u))) r++;
        return (uint16_t)(sign | r);
    }
    {
        uint32_t r = (uint32_t)exp << 10 | (mant >> 13);
        if ((mant & 0x1000u) && ((mant & 0x2FFFu) || (r & 1u))) r++; /* round to nearest even; may carry into exp */
        if ((r >> 10) >= 31) return (uint16_t)(sign | 0x7BFFu);
        return (uint16_t)(sign | r);
    }
}

/* Source tensor row r as f32, whatever its stored form. */
static void source_row(const xlstm__spec *sp, int64_t r, int64_t cols, float *out) {
    if (sp->qscale) {
        const xlstm__kern *k = xlstm__pick_kernels(XLSTM_KERNELS_SCALAR);
        size_t rb = xlstm__row_bytes(sp->dtype, (int32_t)cols);
        k->dequant[sp->dtype](out, sp->t->data + (size_t)r * rb, (const float *)(const void *)(sp->qscale->data) + (size_t)r * (size_t)(cols / 32),
                              (int)cols);
    } else {
        int64_t i;
        for (i = 0; i < cols; i++) out[i] = xlstm__load_elem(sp->t->data, sp->t->dtype, (size_t)(r * cols + i));
    }
}

static int write_all(FILE *f, const void *p, size_t n) { return fwrite(p, 1, n, f) == n; }

int main(int argc, char **argv) {
    const char *in = NULL, *outp = NULL;
    int target = -1, i, rc = 1;
    xlstm__alloc a;
    xlstm_error err;
    unsigned char *cfg_buf = NULL, *index = NULL, *hdr = NULL;
    size_t cfg_len = 0, index_len = 0, hlen, k;
    xlstm__src *src = NULL;
    uint32_t n_src = 0, si;
    char path[4096], *cfg_text = NULL;
    xlstm__st st;
    xlstm__json cj;
    xlstm_model model;
    xlstm__specs specs;
    st_writer w;
    FILE *f = NULL;
    float *row = NULL;
    int *plan = NULL;

    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--dtype") && i + 1 < argc) {
            const char *d = argv[++i];
            target = !strcmp(d, "f32") ? OUT_F32 : !strcmp(d, "bf16") ? OUT_BF16 : !strcmp(d, "f16") ? OUT_F16
                   : !strcmp(d, "q8") ? OUT_Q8 : !strcmp(d, "q4") ? OUT_Q4 : -1;
            if (target < 0) return usage();
        } else if (argv[i][0] == '-') {
            return usage();
        } else if (!in) {
            in = argv[i];
        } else if (!outp) {
            outp = argv[i];
        } else {
            return usage();
        }
    }
    if (!in || !outp || target < 0) return usage();
    memset(&a, 0, sizeof a);
    memset(&st, 0, sizeof st);
    memset(&cj, 0, sizeof cj);
    memset(&model, 0, sizeof model);
    memset(&specs, 0, sizeof specs);
    memset(&w, 0, sizeof w);

    /* a model directory (one file or Hugging Face shards) or one .safetensors file */
    snprintf(path, sizeof path, "%s/config.json", in);
    if (xlstm__read_file(&a, path, &cfg_buf, &cfg_len, &err) == XLSTM_OK) {
        cfg_text = (char *)cfg_buf;
        snprintf(path, sizeof path, "%s/model.safetensors.index.json", in);
        if (xlstm__read_file(&a, path, &index, &index_len, NULL) == XLSTM_OK) {
            if (xlstm__index_shards(&a, in, index, index_len, &src, &n_src, &err) != XLSTM_OK) goto fail;
        } else {
            snprintf(path, sizeof path, "%s/model.safetensors", in);
            src = (xlstm__src *)calloc(1, sizeof *src);
            n_src = 1;
            if (!src || xlstm__open_source(&a, path, src, &err) != XLSTM_OK) goto fail;
        }
    } else {
        src = (xlstm__src *)calloc(1, sizeof *src);
        n_src = 1;
        if (!src || xlstm__open_source(&a, in, src, &err) != XLSTM_OK) goto fail;
    }
    if (xlstm__st_parse(&st, &a, src[0].bytes, src[0].size, &err) != XLSTM_OK) goto fail;
    for (si = 1; si < n_src; si++)
        if (xlstm__st_add_shard(&st, &a, src[si].bytes, src[si].size, &err) != XLSTM_OK) goto fail;
    if (!cfg_text) {
        uint32_t t = st.meta_tok ? xlstm__jget(&st.hdr, st.meta_tok, "xlstm_config") : 0;
        size_t cap;
        if (!t || st.hdr.tok[t].type != XLSTM__J_STR) {
            fprintf(stderr, "xlstm-quantize: %s: no config.json and no xlstm_config metadata\n", in);
            goto done;
        }
        cap = st.hdr.tok[t].end - st.hdr.tok[t].start + 1;
        cfg_text = (char *)malloc(cap);
        if (!cfg_text || xlstm__jstr_decode(&st.hdr, t, cfg_text, cap) < 0) goto done;
        cfg_len = strlen(cfg_text);
    }
    if (xlstm__json_parse(&cj, &a, cfg_text, strlen(cfg_text), "config", &err) != XLSTM_OK) goto fail;
    if (xlstm__parse_config(&cj, &model.cfg, &err) != XLSTM_OK) goto fail;
    model.blocks = (xlstm__block *)calloc((size_t)model.cfg.num_blocks + 1, sizeof(xlstm__block));
    specs.cap = (size_t)model.cfg.num_blocks * 24 + 8;
    specs.v = (xlstm__spec *)calloc(specs.cap, sizeof(xlstm__spec));
    plan = (int *)calloc(specs.cap, sizeof(int));
    if (!model.blocks || !specs.v || !plan) goto done;
    xlstm__build_specs(&model, &specs);

    /* decide each tensor's output form */
    for (k = 0; k < specs.n; k++) {
        xlstm__spec *sp = &specs.v[k];
        xlstm_status s = sp->is_mat ? xlstm__find_mat(&st, sp, &err) : XLSTM_ERR_MISSING;
        int64_t rows = sp->shape[0], cols = sp->shape[sp->ndim - 1], sh[4];
        uint64_t n;
        char name[256];
        if (s == XLSTM_ERR_MISSING && !sp->t) s = xlstm__check_plain(&st, sp, &err);
        if (s != XLSTM_OK) goto fail;
        if (!sp->t) continue; /* optional and absent (a tied head) */
        if (sp->ndim == 3) rows *= sp->shape[1];
        n = sp->ndim == 1 ? (uint64_t)rows : (uint64_t)rows * (uint64_t)cols;
        plan[k] = !sp->is_mat ? OUT_F32 : target;
        if ((plan[k] == OUT_Q8 || plan[k] == OUT_Q4) && cols % XLSTM__QBLOCK) plan[k] = OUT_F32;
        if (plan[k] == OUT_Q8 || plan[k] == OUT_Q4) {
            const char *tag = plan[k] == OUT_Q8 ? "q8" : "q4";
            sh[0] = rows;
            sh[1] = plan[k] == OUT_Q8 ? cols : cols / 2;
            snprintf(name, sizeof name, "%s.%s", sp->name, tag);
            if (!st_add(&w, name, plan[k] == OUT_Q8 ? "I8" : "U8", 2, sh, (uint64_t)rows * (uint64_t)sh[1])) goto done;
            sh[1] = cols / XLSTM__QBLOCK;
            snprintf(name, sizeof name, "%s.%s_scale", sp->name, tag);
            if (!st_add(&w, name, "F32", 2, sh, (uint64_t)rows * (uint64_t)sh[1] * 4)) goto done;
        } else {
            static const char *names[] = {"F32", "BF16", "F16"};
            int d;
            for (d = 0; d < sp->ndim; d++) sh[d] = sp->shape[d];
            if (!st_add(&w, sp->name, names[plan[k]], sp->ndim, sh, n * (plan[k] == OUT_F32 ? 4 : 2))) goto done;
        }
    }
    hdr = st_header(&w, cfg_text, &hlen);
    f = fopen(outp, "wb");
    if (!hdr || !f || !write_all(f, hdr, hlen)) {
        fprintf(stderr, "xlstm-quantize: %s: cannot write: %s\n", outp, strerror(errno));
        goto done;
    }
    row = (float *)malloc(sizeof(float) * (size_t)(XLSTM_MAX_DIM * 4 + 64));
    if (!row) goto done;
    for (k = 0; k < specs.n; k++) {
        xlstm__spec *sp = &specs.v[k];
        int64_t rows = sp->shape[0], cols = sp->shape[sp->ndim - 1], r, c;
        if (!sp->t) continue;
        if (sp->ndim == 3) rows *= sp->shape[1];
        if (!sp->is_mat) { /* vectors: f32, original layout */
            size_t nel = sp->t->nbytes / (sp->t->dtype == XLSTM__DT_F32 ? 4 : 2), e;
            for (e = 0; e < nel; e++) {
                float v = xlstm__load_elem(sp->t->data, sp->t->dtype, e);
                if (!write_all(f, &v, 4)) goto io;
            }
            continue;
        }
        if (k > 0) { /* the previous matrix is done: let its input pages go */
            const xlstm__spec *prev = &specs.v[k - 1];
            if (prev->t) release(prev->t->data, prev->t->nbytes);
        }
        if (plan[k] == OUT_Q8 || plan[k] == OUT_Q4) {
            /* codes for every row first, then the scales: two passes over the rows */
            int pass;
            for (pass = 0; pass < 2; pass++) {
                for (r = 0; r < rows; r++) {
                    source_row(sp, r, cols, row);
                    for (c = 0; c < cols; c += XLSTM__QBLOCK) {
                        float *b = row + c, d;
                        int j;
                        if (plan[k] == OUT_Q8) {
                            float amax = 0;
                            signed char q[XLSTM__QBLOCK];
                            for (j = 0; j < XLSTM__QBLOCK; j++) amax = fabsf(b[j]) > amax ? fabsf(b[j]) : amax;
                            d = amax / 127.0f;
                            for (j = 0; j < XLSTM__QBLOCK; j++) q[j] = (signed char)(d > 0 ? lrintf(b[j] / d) : 0);
                            if (pass == 0 ? !write_all(f, q, sizeof q) : !write_all(f, &d, 4)) goto io;
                        } else {
                            /* the block's largest-magnitude value maps to -8 exactly, using all 16 levels */
                            float mx = 0, id;
                            unsigned char q[XLSTM__QBLOCK / 2];
                            for (j = 0; j < XLSTM__QBLOCK; j++)
                                if (fabsf(b[j]) > fabsf(mx)) mx = b[j];
                            d = mx / -8.0f;
                            id = d != 0 ? 1.0f / d : 0.0f;
                            for (j = 0; j < XLSTM__QBLOCK / 2; j++) {
                                int lo = (int)(b[j] * id + 8.5f), hi = (int)(b[j + 16] * id + 8.5f);
                                lo = lo < 0 ? 0 : lo > 15 ? 15 : lo;
                                hi = hi < 0 ? 0 : hi > 15 ? 15 : hi;
                                q[j] = (unsigned char)(lo | hi << 4);
                            }
                            if (pass == 0 ? !write_all(f, q, sizeof q) : !write_all(f, &d, 4)) goto io;
                        }
                    }
                }
            }
        } else {
            for (r = 0; r < rows; r++) {
                source_row(sp, r, cols, row);
                for (c = 0; c < cols; c++) {
                    if (plan[k] == OUT_F32) {
                        if (!write_all(f, &row[c], 4)) goto io;
                    } else {
                        uint16_t h = plan[k] == OUT_BF16 ? f32_to_bf16(row[c]) : f32_to_f16(row[c]);
                        unsigned char b2[2] = {(unsigned char)h, (unsigned char)(h >> 8)};
                        if (!write_all(f, b2, 2)) goto io;
                    }
                }
            }
        }
    }
    if (fclose(f) != 0) {
        f = NULL;
        goto io;
    }
    f = NULL;
    rc = 0;
    goto done;
io:
    fprintf(stderr, "xlstm-quantize: %s: write error: %s\n", outp, strerror(errno));
    goto done;
fail:
    fprintf(stderr, "xlstm-quantize: %s\n", err.message);
done:
    if (f) fclose(f);
    free(row);
    free(hdr);
    free(w.e);
    free(plan);
    free(specs.v);
    free(model.blocks);
    xlstm__free(&a, cj.tok);
    xlstm__st_free(&st, &a);
    if (cfg_text != (char *)cfg_buf) free(cfg_text);
    xlstm__free(&a, cfg_buf);
    xlstm__free(&a, index);
    if (src) {
        for (si = 0; si < n_src; si++) {
            xlstm__free(&a, src[si].owned);
            if (src[si].map) xlstm__unmap(src[si].map, src[si].size);
        }
        free(src);
    }
    return rc;
}
