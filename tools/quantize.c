/* xlstm-quantize MODEL OUT.safetensors --dtype f32|bf16|f16|q8|q4
   Rewrites a model's weight matrices in another storage type and writes one
   .safetensors file carrying the config in __metadata__["xlstm_config"], which
   xlstm.h loads (and mmaps) directly. MODEL is what xlstm_model_load takes: a
   directory with config.json and model.safetensors (or Hugging Face shards, or
   a torch.save pytorch_model.bin), one .safetensors file with its config in
   the metadata, or a TiRex model.ckpt (the file, or a directory holding it;
   the config is then the checkpoint's hyper_parameters as JSON). Tensors are
   written under the names the loader wants (a checkpoint's "block_stack."
   prefix dropped); tensors the model does not use are left out. Vectors
   (norms, biases, conv, the sLSTM recurrent kernel) stay F32. Matrices whose
   row length is not a multiple of 32 cannot be block-quantized and stay F32
   under q8/q4.
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

enum { OUT_F32, OUT_BF16, OUT_F16, OUT_Q8, OUT_Q4 };

static int usage(void) {
    fprintf(stderr, "usage: xlstm-quantize MODEL OUT.safetensors --dtype f32|bf16|f16|q8|q4\n");
    return 2;
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
    char path[4096], *cfg_text = NULL, *ck_cfg = NULL;
    xlstm__st st;
    xlstm__json cj;
    xlstm_model model;
    xlstm__specs specs;
    st_writer w;
    FILE *f = NULL;
    float *row = NULL;
    int *plan = NULL, mapped = 1;
    uint32_t unused = 0;

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

    /* a model directory (one file, Hugging Face shards or a pytorch_model.bin),
       a directory holding a TiRex model.ckpt, or one file (.safetensors or a
       torch.save checkpoint) */
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
            if (!src) goto done;
            if (xlstm__open_source(&a, path, src, &err) != XLSTM_OK) {
                snprintf(path, sizeof path, "%s/pytorch_model.bin", in);
                if (xlstm__open_source(&a, path, src, NULL) != XLSTM_OK) goto fail; /* err names model.safetensors */
            }
        }
    } else {
        src = (xlstm__src *)calloc(1, sizeof *src);
        n_src = 1;
        if (!src) goto done;
        snprintf(path, sizeof path, "%s/model.ckpt", in);
        if (xlstm__open_source(&a, path, src, NULL) != XLSTM_OK && xlstm__open_source(&a, in, src, &err) != XLSTM_OK) {
            if (err.status != XLSTM_ERR_IO) goto fail;
            fprintf(stderr, "xlstm-quantize: %s: cannot open (not a model directory, a .safetensors file or a model.ckpt)\n", in);
            goto done;
        }
    }
    for (si = 0; si < n_src; si++) mapped &= src[si].map != NULL;
    if (src[0].size >= 4 && !memcmp(src[0].bytes, "PK\x03\x04", 4)) {
        /* a torch.save zip: its state_dict, and (TiRex) hyper_parameters as the config */
        size_t ck_len = 0;
        if (n_src != 1) {
            fprintf(stderr, "xlstm-quantize: %s: sharded PyTorch checkpoints are not supported\n", in);
            goto done;
        }
        if (xlstm__ckpt_parse(&st, &a, src[0].bytes, src[0].size, &ck_cfg, &ck_len, &err) != XLSTM_OK) goto fail;
        if (!cfg_text && !ck_cfg) {
            fprintf(stderr, "xlstm-quantize: %s: no config.json and no hyper_parameters in the checkpoint\n", in);
            goto done;
        }
        if (!cfg_text) cfg_text = ck_cfg;
    } else {
        if (xlstm__st_parse(&st, &a, src[0].bytes, src[0].size, &err) != XLSTM_OK) goto fail;
        for (si = 1; si < n_src; si++)
            if (xlstm__st_add_shard(&st, &a, src[si].bytes, src[si].size, &err) != XLSTM_OK) goto fail;
    }
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
    specs.cap = (size_t)model.cfg.num_blocks * 24 + 16; /* as the loader's table */
    specs.v = (xlstm__spec *)calloc(specs.cap, sizeof(xlstm__spec));
    plan = (int *)calloc(specs.cap, sizeof(int));
    if (!model.blocks || !specs.v || !plan) goto done;
    xlstm__build_specs(&model, &specs);
    if (specs.overflow) {
        fprintf(stderr, "xlstm-quantize: %s: config: model too large\n", in);
        goto done;
    }

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
    { /* the loader rejects unexpected tensors; the output holds only the model's */
        const xlstm__st *node;
        uint32_t j;
        for (node = &st; node; node = node->next)
            for (j = 0; j < node->n; j++) unused += !node->t[j].used;
        if (unused) fprintf(stderr, "xlstm-quantize: note: %u tensors of %s are not the model's and are left out\n", (unsigned)unused, in);
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
            if (prev->t && mapped) release(prev->t->data, prev->t->nbytes); /* (a read-in copy would be zeroed) */
        }
        if (plan[k] == OUT_Q8 || plan[k] == OUT_Q4) {
            /* codes for every row first, then the scales: two passes over the rows */
            int pass;
            for (pass = 0; pass < 2; pass++) {
                for (r = 0; r < rows; r++) {
                    source_row(sp, r, cols, row);
                    for (c = 0; c < cols; c += XLSTM__QBLOCK) {
                        const float *b = row + c;
                        float d;
                        signed char q8[XLSTM__QBLOCK];
                        unsigned char q4[XLSTM__QBLOCK / 2];
                        const void *q = plan[k] == OUT_Q8 ? (const void *)q8 : (const void *)q4;
                        d = plan[k] == OUT_Q8 ? st_quant_q8(b, q8) : st_quant_q4(b, q4);
                        if (pass == 0 ? !write_all(f, q, plan[k] == OUT_Q8 ? sizeof q8 : sizeof q4) : !write_all(f, &d, 4)) goto io;
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
                        uint16_t h = plan[k] == OUT_BF16 ? st_f32_to_bf16(row[c]) : st_f32_to_f16(row[c]);
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
    if (cfg_text != (char *)cfg_buf && cfg_text != ck_cfg) free(cfg_text);
    xlstm__free(&a, ck_cfg);
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
