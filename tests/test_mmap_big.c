/* XLSTM_MMAP on a model file larger than 4 GB: tests/data/mixed rewritten
   with a sparse hole of 4.5 GiB before its tensor data, so every tensor lies
   past 4 GiB. It must load through the mapping (an allocator that refuses
   anything large proves nothing was read into memory) and give the logits of
   the original, bit for bit. `test_mmap_big DIR` writes DIR/big/ and removes
   it again; runs natively and under Wine (make windows-test). */
#define XLSTM_MMAP
#define XLSTM_IMPLEMENTATION
#include "../xlstm.h"
#if defined(_WIN32) && (defined(min) || defined(max))
#error "<windows.h> min/max macros reached the code after the implementation"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SRC "tests/data/mixed"
#define HOLE_GIB 4.5

/* an allocator that refuses any one block over 16 MB and tracks the peak */
typedef struct {
    size_t live, peak;
} meter;
typedef struct {
    size_t n;
    double align; /* keeps the payload aligned like malloc's */
} meter_hdr;
static void *meter_alloc(size_t n, void *u) {
    meter *m = (meter *)u;
    meter_hdr *h;
    if (n > ((size_t)16 << 20) || !(h = (meter_hdr *)malloc(sizeof *h + n))) return NULL;
    h->n = n;
    m->live += n;
    if (m->live > m->peak) m->peak = m->live;
    return h + 1;
}
static void meter_free(void *p, void *u) {
    meter_hdr *h = (meter_hdr *)p - 1;
    ((meter *)u)->live -= h->n;
    free(h);
}

static unsigned char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    size_t cap = 0, got;
    *len = 0;
    if (!f) return NULL;
    do {
        if (*len == cap) {
            unsigned char *nb = (unsigned char *)realloc(buf, (cap = cap ? 2 * cap : 65536) + 1);
            if (!nb) break;
            buf = nb;
        }
        got = fread(buf + *len, 1, cap - *len, f);
        *len += got;
    } while (got);
    fclose(f);
    return buf;
}

/* the header with every data_offsets pair moved by hole, padded with spaces
   so the data starts at the same offset modulo 64 as before */
static char *shift_header(const char *h, size_t n, unsigned long long hole, size_t *out_n) {
    size_t cap = n + 64 * 40 + 64, o = 0, i = 0, want = (8 + n) % 64;
    char *out = (char *)malloc(cap);
    const char *key = "\"data_offsets\"";
    const size_t kl = strlen(key);
    if (!out) return NULL;
    while (i < n) {
        if (i + kl <= n && !memcmp(h + i, key, kl)) {
            unsigned long long b, e;
            char *end;
            const char *lb = (const char *)memchr(h + i, '[', n - i);
            if (!lb) break;
            b = strtoull(lb + 1, &end, 10);
            e = strtoull(end + 1, &end, 10);
            if (o + 80 > cap && !(out = (char *)realloc(out, cap *= 2))) return NULL;
            o += (size_t)sprintf(out + o, "%s:[%llu,%llu]", key, b + hole, e + hole);
            i = (size_t)(strchr(end, ']') - h) + 1;
            continue;
        }
        if (o + 80 > cap && !(out = (char *)realloc(out, cap *= 2))) return NULL;
        out[o++] = h[i++];
    }
    while ((8 + o) % 64 != want) out[o++] = ' ';
    *out_n = o;
    return out;
}

static int write_big(const char *dir, const char *path, unsigned long long hole) { /* dir: under 400 bytes */
    size_t len, hn = 0, cn;
    unsigned char *st = slurp(SRC "/model.safetensors", &len), *cfg = slurp(SRC "/config.json", &cn), lenb[8];
    unsigned long long hlen, left;
    char *hdr, cpath[512];
    FILE *f;
    int i, ok;
    if (!st || !cfg || len < 8) return 0;
    for (hlen = 0, i = 7; i >= 0; i--) hlen = hlen << 8 | st[i];
    hdr = shift_header((const char *)st + 8, (size_t)hlen, hole, &hn);
    snprintf(cpath, sizeof cpath, "%s/config.json", dir);
    f = fopen(cpath, "wb");
    ok = hdr && f && fwrite(cfg, 1, cn, f) == cn;
    if (f) ok &= fclose(f) == 0;
    f = ok ? fopen(path, "wb") : NULL;
    ok = f != NULL;
    for (i = 0; i < 8; i++) lenb[i] = (unsigned char)((unsigned long long)hn >> (8 * i));
    ok = ok && fwrite(lenb, 1, 8, f) == 8 && fwrite(hdr, 1, hn, f) == hn;
    /* the hole: seeks of under 2 GB (long is 32 bits on Windows), nothing written */
    for (left = hole; ok && left; left -= (unsigned long long)(left < (1ull << 30) ? left : (1ull << 30)))
        ok = fseek(f, (long)(left < (1ull << 30) ? left : (1ull << 30)), SEEK_CUR) == 0;
    ok = ok && fwrite(st + 8 + hlen, 1, len - 8 - (size_t)hlen, f) == len - 8 - (size_t)hlen;
    if (f) ok &= fclose(f) == 0;
    free(st);
    free(cfg);
    free(hdr);
    return ok;
}

/* logits of a short prompt, prefill then two steps */
static int run(const char *path, const xlstm_model_params *p, float *out, size_t *vocab, xlstm_model **keep) {
    xlstm_model *m;
    xlstm_state *s;
    xlstm_error err;
    const float *lg;
    const int32_t prompt[5] = {3, 14, 15, 9, 2};
    size_t v;
    if (xlstm_model_load(path, p, &m, &err)) {
        printf("  %s: %s\n", path, err.message);
        return 0;
    }
    v = (size_t)xlstm_model_config(m)->vocab_size;
    if (xlstm_state_create(m, &s, &err) || xlstm_prefill(s, prompt, 5, NULL, &lg)) return 0;
    memcpy(out, lg, v * sizeof(float));
    if (xlstm_step(s, 7, &lg)) return 0;
    memcpy(out + v, lg, v * sizeof(float));
    if (xlstm_step(s, 1, &lg)) return 0;
    memcpy(out + 2 * v, lg, v * sizeof(float));
    xlstm_state_free(s);
    *vocab = v;
    *keep = m;
    return 1;
}

int main(int argc, char **argv) {
    const char *base = argc > 1 ? argv[1] : "build";
    const unsigned long long hole = (unsigned long long)(HOLE_GIB * (1ull << 30));
    char dir[400], path[512];
    static float want[3 * 4096], got[3 * 4096];
    size_t vocab = 0, v2 = 0, i;
    xlstm_model *ref = NULL, *big = NULL;
    xlstm_model_params p = xlstm_model_default_params();
    meter mt = {0, 0};
    int ok = 1;
    if (sizeof(size_t) < 8) {
        printf("mmap_big: skipped (a 32-bit process cannot map 4.5 GB)\n");
        return 0;
    }
    if (strlen(base) > 300) return 1;
    snprintf(dir, sizeof dir, "%s/big", base);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    if (!run(SRC, NULL, want, &vocab, &ref) || vocab > 4096) {
        printf("mmap_big: cannot run " SRC "\n");
        return 1;
    }
    /* DIR/big must exist: made by the caller (no portable mkdir in C) */
    if (!write_big(dir, path, hole)) {
        printf("mmap_big: cannot write %s (does %s exist?)\n", path, dir);
        remove(path);
        return 1;
    }
    p.alloc_fn = meter_alloc;
    p.free_fn = meter_free;
    p.alloc_user = &mt;
    if (!run(dir, &p, got, &v2, &big)) ok = 0;
    if (ok && (!big->src || !big->src[0].map || big->src[0].size < hole)) {
        printf("  the model was not mapped\n");
        ok = 0;
    }
    if (ok && (v2 != vocab || memcmp(want, got, 3 * vocab * sizeof(float)))) {
        for (i = 0; i < 3 * vocab && want[i] == got[i]; i++) continue;
        printf("  logit %lu: %.9g, expected %.9g\n", (unsigned long)i, got[i], want[i]);
        ok = 0;
    }
    if (ok)
        printf("mmap_big: a %.2f GB file, tensors past 4 GiB, mapped (peak heap %lu KB), kernels %s: logits equal\n",
               (double)big->src[0].size / 1e9, (unsigned long)(mt.peak >> 10), xlstm_model_kernels(big));
    xlstm_model_free(big);
    xlstm_model_free(ref);
    if (ok && mt.live) {
        printf("  %lu bytes not freed\n", (unsigned long)mt.live);
        ok = 0;
    }
    remove(path);
    if (!ok) printf("mmap_big: FAILED\n");
    return ok ? 0 : 1;
}
