/* xlstm-stream MODEL N [--seed S]
   Feeds N pseudo-random tokens through one state (the longest input a game or
   service might stream) and checks that every logit and every state value
   stays finite. Prints the largest |state| value, per kind, along the way. */
#define XLSTM_MMAP
#define XLSTM_IMPLEMENTATION
#include "../xlstm.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    xlstm_model *m;
    xlstm_state *s;
    xlstm_error err;
    long n, t, report;
    unsigned long long seed = 1;
    float maxabs = 0;
    int32_t V;
    unsigned char *blob;
    size_t blob_size, n_mem;
    if (argc < 3 || (n = atol(argv[2])) <= 0) {
        fprintf(stderr, "usage: xlstm-stream MODEL N_TOKENS [--seed S]\n");
        return 2;
    }
    if (argc == 5 && !strcmp(argv[3], "--seed")) seed = strtoull(argv[4], NULL, 10);
    if (xlstm_model_load(argv[1], NULL, &m, &err) || xlstm_state_create(m, &s, &err)) {
        fprintf(stderr, "xlstm-stream: %s\n", err.message);
        return 1;
    }
    /* the state is read through its public serialisation: a saved blob ends
       with the recurrent state, xlstm_state_recurrent_bytes of floats */
    blob_size = xlstm_state_blob_size(s);
    n_mem = xlstm_state_recurrent_bytes(s) / sizeof(float);
    if (blob_size < n_mem * sizeof(float) || !(blob = (unsigned char *)malloc(blob_size))) {
        fprintf(stderr, "xlstm-stream: cannot hold the state's blob\n");
        return 1;
    }
    V = xlstm_model_config(m)->vocab_size;
    report = n / 10 > 0 ? n / 10 : 1;
    for (t = 0; t < n; t++) {
        const float *lg;
        size_t i;
        int32_t tok;
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        tok = (int32_t)((seed >> 33) % (unsigned long long)V);
        xlstm_step(s, tok, &lg);
        for (i = 0; i < (size_t)V; i++)
            if (!isfinite(lg[i])) {
                printf("token %ld: non-finite logit\n", t);
                return 1;
            }
        if ((t + 1) % report == 0 || t + 1 == n) {
            const unsigned char *mem = blob + (blob_size - n_mem * sizeof(float));
            float mx = 0, v;
            if (xlstm_state_save(s, blob, blob_size) != XLSTM_OK) {
                printf("token %ld: cannot save the state\n", t);
                return 1;
            }
            for (i = 0; i < n_mem; i++) {
                memcpy(&v, mem + i * sizeof v, sizeof v);
                if (!isfinite(v)) {
                    printf("token %ld: non-finite state\n", t);
                    return 1;
                }
                if (fabsf(v) > mx) mx = fabsf(v);
            }
            if (mx > maxabs) maxabs = mx;
            printf("tokens=%ld max_abs_state=%g\n", t + 1, mx);
            fflush(stdout);
        }
    }
    printf("tokens=%ld finite=1 largest_abs_state=%g\n", n, maxabs);
    free(blob);
    xlstm_state_free(s);
    xlstm_model_free(m);
    return 0;
}
