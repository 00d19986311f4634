/* libFuzzer target: bytes as a safetensors file -> xlstm__st_parse. Every
   accepted tensor's data range is touched so ASan sees any bad offset. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    xlstm__st st;
    xlstm__alloc a;
    xlstm_error err;
    uint32_t i;
    volatile unsigned char sink = 0;
    memset(&a, 0, sizeof a);
    if (xlstm__st_parse(&st, &a, data, size, &err) != XLSTM_OK) return 0;
    for (i = 0; i < st.n; i++) {
        const xlstm__st_tensor *t = &st.t[i];
        char name[200];
        if (t->nbytes) sink ^= t->data[0] ^ t->data[t->nbytes - 1];
        if (t->data < data || t->data + t->nbytes > data + size) abort();
        (void)xlstm__jstr_decode(&st.hdr, t->name_tok, name, sizeof name);
        if (xlstm__jstr_decode(&st.hdr, t->name_tok, name, sizeof name) >= 0 && xlstm__st_find(&st, name) == NULL &&
            strchr(name, '\\') == NULL) {
            /* names are looked up raw; only an escaped name may miss */
            const xlstm__jtok *k = &st.hdr.tok[t->name_tok];
            if (memchr(st.hdr.text + k->start, '\\', k->end - k->start) == NULL) abort();
        }
    }
    if (st.meta_tok) {
        uint32_t t = xlstm__jget(&st.hdr, st.meta_tok, "xlstm_config");
        if (t && st.hdr.tok[t].type == XLSTM__J_STR) {
            size_t cap = st.hdr.tok[t].end - st.hdr.tok[t].start + 1;
            char *buf = (char *)malloc(cap);
            long n = xlstm__jstr_decode(&st.hdr, t, buf, cap);
            if (n >= 0) {
                xlstm__json j;
                if (xlstm__json_parse(&j, &a, buf, (size_t)n, "config", &err) == XLSTM_OK) {
                    xlstm_config cfg;
                    (void)xlstm__parse_config(&j, &cfg, &err);
                    free(j.tok);
                }
            }
            free(buf);
        }
    }
    /* a second shard that is the same file: every tensor collides (names of
       200+ bytes are not compared: load_weights rejects them as unused) */
    if (st.n) {
        int short_name = 0;
        for (i = 0; i < st.n; i++)
            short_name |= st.hdr.tok[st.t[i].name_tok].end - st.hdr.tok[st.t[i].name_tok].start < 200;
        if (xlstm__st_add_shard(&st, &a, data, size, &err) != XLSTM_ERR_FORMAT && short_name) abort();
    }
    xlstm__st_free(&st, &a);
    (void)sink;
    return 0;
}
