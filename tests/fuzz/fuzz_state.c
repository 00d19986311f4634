/* libFuzzer target: byte 0 picks one of the tiny built-in models (built at
   start-up from fz_tiny_configs), the rest is a state blob ->
   xlstm_state_restore, then steps. A blob that restores must step without
   UB; non-finite logits from a restored (finite) state are counted, and abort
   only with XLSTM_FUZZ_NONFINITE unset and XLSTM_FUZZ_STATE_STRICT=1. */
#include "fuzz_common.h"

#define N_MODELS 8
static xlstm_model *models[N_MODELS];
static int n_models;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    int i;
    (void)argc, (void)argv;
    for (i = 0; i < FZ_N_TINY && n_models < N_MODELS; i++) {
        size_t len;
        unsigned char *buf = fz_make_model(fz_tiny_configs[i], i >= 5 ? FZ_Q4 : (i % 3), 42 + i, 1, &len);
        xlstm_error err;
        if (!buf || xlstm_model_load_from_memory(buf, len, NULL, 0, NULL, &models[n_models], &err)) {
            fprintf(stderr, "fuzz_state: tiny model %d: %s\n", i, buf ? err.message : "build failed");
            exit(1);
        }
        free(buf);
        n_models++;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    xlstm_state *s;
    const xlstm_model *m;
    unsigned char *blob;
    if (size < 1) return 0;
    m = models[data[0] % n_models];
    if (xlstm_state_create(m, &s, NULL)) abort();
    if (xlstm_state_restore(s, data + 1, size - 1) == XLSTM_OK) {
        const float *logits;
        int32_t V = xlstm_model_config(m)->vocab_size, v, toks[3];
        int bad = 0;
        size_t bs = xlstm_state_blob_size(s);
        /* a restored state saves back to the same bytes */
        blob = (unsigned char *)malloc(bs);
        if (xlstm_state_save(s, blob, bs) || bs != size - 1 || memcmp(blob, data + 1, bs)) abort();
        free(blob);
        toks[0] = 0, toks[1] = V - 1, toks[2] = data[size - 1] % V;
        if (xlstm_step(s, toks[2], &logits)) abort();
        for (v = 0; v < V; v++) bad |= !isfinite(logits[v]);
        if (xlstm_prefill(s, toks, 3, NULL, &logits)) abort();
        for (v = 0; v < V; v++) bad |= !isfinite(logits[v]);
        if (bad && getenv("XLSTM_FUZZ_STATE_STRICT")) fz_nonfinite("restored finite state");
    }
    xlstm_state_free(s);
    return 0;
}
