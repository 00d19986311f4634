/* Seed generator for the fuzz corpora (run by run.sh --seeds; plain C, no
   sanitizers needed):  gen_seeds OUTDIR
   OUTDIR/fuzz_model/tiny_<cfg>_<dtype>.safetensors  tiny models with the config in metadata
   OUTDIR/fuzz_state/blob_<model>_<steps>             selector byte + xlstm_state_save blob
   (fuzz_state's models are the same tiny models, same seeds). */
#include "fuzz_common.h"

static void write_file(const char *path, const void *a, size_t na, const void *b, size_t nb) {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(a, 1, na, f) != na || (nb && fwrite(b, 1, nb, f) != nb)) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
    fclose(f);
}

int main(int argc, char **argv) {
    static const char *const dn[] = {"f32", "bf16", "f16", "q8", "q4"};
    char path[1024];
    int i, d, n_models = 0;
    if (argc != 2) {
        fprintf(stderr, "usage: gen_seeds OUTDIR\n");
        return 2;
    }
    for (i = 0; i < FZ_N_TINY; i++) {
        for (d = 0; d < 5; d++) {
            size_t len;
            unsigned char *buf;
            xlstm_model *m;
            xlstm_error err;
            if (i < 5 && d >= 3) continue; /* nothing quantizable below D = 32 */
            buf = fz_make_model(fz_tiny_configs[i], d, 1000 + i * 10 + d, 1, &len);
            if (!buf || xlstm_model_load_from_memory(buf, len, NULL, 0, NULL, &m, &err)) {
                fprintf(stderr, "tiny %d %s: %s\n", i, dn[d], buf ? err.message : "build failed");
                return 1;
            }
            snprintf(path, sizeof path, "%s/fuzz_model/tiny_%d_%s.safetensors", argv[1], i, dn[d]);
            write_file(path, buf, len, NULL, 0);
            xlstm_model_free(m);
            free(buf);
        }
    }
    /* state blobs for fuzz_state's models (same construction as its init) */
    for (i = 0; i < FZ_N_TINY && n_models < 8; i++, n_models++) {
        size_t len, bs;
        unsigned char *buf = fz_make_model(fz_tiny_configs[i], i >= 5 ? FZ_Q4 : (i % 3), 42 + i, 1, &len), *blob;
        xlstm_model *m;
        xlstm_state *s;
        xlstm_error err;
        int steps;
        unsigned char sel = (unsigned char)n_models;
        if (!buf || xlstm_model_load_from_memory(buf, len, NULL, 0, NULL, &m, &err) || xlstm_state_create(m, &s, &err))
            return 1;
        bs = xlstm_state_blob_size(s);
        blob = (unsigned char *)malloc(bs);
        for (steps = 0; steps <= 5; steps += 5) {
            int k;
            for (k = 0; k < steps; k++) xlstm_step(s, (k * 7 + 3) % xlstm_model_config(m)->vocab_size, NULL);
            xlstm_state_save(s, blob, bs);
            snprintf(path, sizeof path, "%s/fuzz_state/blob_%d_%d", argv[1], i, steps);
            write_file(path, &sel, 1, blob, bs);
        }
        free(blob);
        xlstm_state_free(s);
        xlstm_model_free(m);
        free(buf);
    }
    return 0;
}
