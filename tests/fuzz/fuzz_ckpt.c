/* libFuzzer target: bytes as a torch.save checkpoint (zip + pickle) ->
   xlstm__ckpt_parse. Every accepted tensor's bytes are all read (ASan sees
   any range outside the input) and its name, dtype, shape and size checked
   for consistency; the hyper_parameters JSON goes through xlstm__json_parse
   + xlstm__parse_config. Then the whole xlstm_model_load_from_memory path
   on the libFuzzer buffer in place (borrow_buffer); for an eighth of the
   input sizes one allocation fails (LeakSanitizer checks the clean-up). A
   model that loads is run: a TiRex forecast, or fz_exercise for an LM. */
#include "fuzz_common.h"

static void fz_ckpt_tables(const uint8_t *data, size_t size) {
    xlstm__st st;
    xlstm__alloc a;
    xlstm_error err;
    char *cfg = NULL;
    size_t cfg_len = 0;
    uint32_t i;
    volatile unsigned char sink = 0;
    memset(&a, 0, sizeof a);
    if (xlstm__ckpt_parse(&st, &a, data, size, &cfg, &cfg_len, &err) != XLSTM_OK) {
        if (cfg || st.t || st.n) abort(); /* a failure hands back nothing */
        if (err.status == XLSTM_OK || err.message[0] == 0) abort();
        return;
    }
    for (i = 0; i < st.n; i++) {
        const xlstm__st_tensor *t = &st.t[i];
        size_t esize, numel = 1, k;
        int d;
        if (t->dtype == XLSTM__DT_F32) esize = 4;
        else if (t->dtype == XLSTM__DT_BF16 || t->dtype == XLSTM__DT_F16) esize = 2;
        else if (t->dtype == XLSTM__ST_I8 || t->dtype == XLSTM__ST_U8) esize = 1;
        else if (t->dtype == -1) esize = 0; /* another storage type: only the range is known */
        else abort();
        if (t->ndim < 0 || t->ndim > 8) abort();
        for (d = 0; d < t->ndim; d++) {
            if (t->shape[d] < 0) abort();
            numel = t->shape[d] == 0 || numel == 0 ? 0 : numel * (size_t)t->shape[d];
        }
        if (esize && t->nbytes != numel * esize) abort();
        if (t->nbytes && (t->data < data || t->data > data + size || t->nbytes > (size_t)(data + size - t->data))) abort();
        for (k = 0; k < t->nbytes; k++) sink ^= t->data[k];
        /* names point into the pickle, which is inside the input */
        if (t->name_len && ((const uint8_t *)t->name < data || (const uint8_t *)t->name + t->name_len > data + size)) abort();
        if (t->name_len < 200 && memchr(t->name, 0, t->name_len) == NULL) {
            char name[200];
            memcpy(name, t->name, t->name_len);
            name[t->name_len] = 0;
            if (xlstm__st_find(&st, name) != t) abort(); /* names are distinct */
        }
    }
    if (cfg) {
        xlstm__json j;
        if (cfg[cfg_len] != 0 || strlen(cfg) != cfg_len) abort();
        if (xlstm__json_parse(&j, &a, cfg, cfg_len, "config", &err) == XLSTM_OK) {
            xlstm_config c;
            (void)xlstm__parse_config(&j, &c, &err);
            free(j.tok);
        } else {
            abort(); /* the writer only writes valid JSON */
        }
        free(cfg);
    }
    xlstm__st_free(&st, &a);
    (void)sink;
}

static void fz_ckpt_forecast(xlstm_model *m, const uint8_t *data, size_t size) {
    const xlstm_config *c = xlstm_model_config(m);
    xlstm_state *s = NULL;
    float series[64], *q, med[8];
    const float *rows[1];
    size_t lens[1], i;
    int32_t H = c->tirex.patch_size < 8 ? c->tirex.patch_size : 8;
    if (fz_state_bytes(m) > ((size_t)64 << 20) || H < 1) return;
    if ((size_t)c->tirex.train_ctx_len * (size_t)c->embedding_dim > ((size_t)1 << 22)) return; /* too slow to fuzz */
    for (i = 0; i < 64; i++) series[i] = (float)(data[(i * 7919) % size] % 17) - 8.0f;
    series[5] = NAN;
    q = (float *)malloc((size_t)H * (size_t)c->tirex.num_quantiles * sizeof(float));
    if (!q || xlstm_state_create(m, &s, NULL)) {
        free(q);
        return;
    }
    rows[0] = series;
    lens[0] = 1 + size % 64;
    if (xlstm_forecast(s, rows, lens, 1, H, q, med) != XLSTM_OK) abort();
    if (xlstm_stream_observe(s, series, lens[0]) != XLSTM_OK) abort();
    if (xlstm_stream_forecast(s, H, q, med) != XLSTM_OK) abort();
    xlstm_state_free(s);
    free(q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    xlstm_model_params p = xlstm_model_default_params();
    xlstm_model *m = NULL;
    xlstm_error err;
    unsigned h = (unsigned)(size * 2654435761u);
    fz_ckpt_tables(data, size);
    p.borrow_buffer = 1;
    p.kernels = fz_kernels(h >> 7);
    p.skip_value_check = (h >> 11) & 1;
    if ((h >> 13) % 8 == 0) { /* one allocation fails */
        fz_n_alloc = 0;
        fz_fail_at = 1 + (long)((h >> 16) % 48);
        p.alloc_fn = fz_alloc;
        p.free_fn = fz_free;
    }
    if (xlstm_model_load_from_memory(data, size, NULL, 0, &p, &m, &err) == XLSTM_OK) {
        fz_fail_at = 0;
        if (xlstm_model_config(m)->arch == XLSTM_ARCH_TIREX) fz_ckpt_forecast(m, data, size);
        else (void)fz_exercise(m, data + size / 2, 20);
        xlstm_model_free(m);
    } else if (m) {
        abort();
    }
    fz_fail_at = 0;
    return 0;
}
