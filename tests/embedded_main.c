/* Drives tests/embedded_lib.c: a model loaded into a caller buffer (arena),
   no heap in the library. Checks the exact-size contract and the logits. */
#define XLSTM_NO_STDIO
#include "../xlstm.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned char arena_buf[4 << 20];

static unsigned char *read_all(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    unsigned char *b;
    long n;
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    b = (unsigned char *)malloc((size_t)n);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) b = NULL;
    fclose(f);
    *len = (size_t)n;
    return b;
}

/* Load + create a state inside `size` bytes of the arena; returns the status. */
static xlstm_status run(const unsigned char *st, size_t st_len, const char *cfg, size_t cfg_len, size_t size,
                        size_t *peak, float *first_logit, size_t offset) {
    xlstm_arena arena;
    xlstm_model_params params;
    xlstm_model *m = NULL;
    xlstm_state *s = NULL;
    xlstm_status status;
    const float *lg;
    xlstm_arena_init(&arena, arena_buf + offset, size);
    params = xlstm_arena_params(&arena);
    status = xlstm_model_load_from_memory(st, st_len, cfg, cfg_len, &params, &m, NULL);
    if (status == XLSTM_OK) status = xlstm_state_create(m, &s, NULL);
    if (status == XLSTM_OK) {
        xlstm_step(s, 5, &lg);
        xlstm_step(s, 7, &lg);
        *first_logit = lg[0];
    }
    xlstm_state_free(s);
    xlstm_model_free(m);
    *peak = arena.peak; /* frees out of order do not shrink a bump arena: re-init it to reuse */
    return status;
}

int main(void) {
    size_t st_len, cfg_len, peak, peak2;
    unsigned char *st = read_all("tests/data/mixed/model.safetensors", &st_len);
    char *cfg = (char *)read_all("tests/data/mixed/config.json", &cfg_len);
    float a, b;
    int failed = 0;
    if (!st || !cfg) {
        printf("cannot read tests/data/mixed\n0 passed, 1 failed\n");
        return 1;
    }
    if (run(st, st_len, cfg, cfg_len, sizeof arena_buf - 16, &peak, &a, 0) != XLSTM_OK) {
        printf("load into a 4 MB arena failed\n");
        failed++;
    }
    printf("arena bytes needed for model + one state: %lu (weights borrowed: %lu bytes)\n", (unsigned long)peak,
           (unsigned long)st_len);
    /* exactly that much is enough; one byte less fails cleanly */
    if (run(st, st_len, cfg, cfg_len, peak, &peak2, &b, 0) != XLSTM_OK || b != a) {
        printf("a buffer of exactly the measured size did not work\n");
        failed++;
    }
    /* a buffer at an odd address: every piece must still be 16-byte aligned */
    if (run(st, st_len, cfg, cfg_len, sizeof arena_buf - 16, &peak2, &b, 3) != XLSTM_OK || b != a) {
        printf("an arena at an odd address did not work\n");
        failed++;
    }
    if (run(st, st_len, cfg, cfg_len, peak - 1, &peak2, &b, 0) != XLSTM_ERR_NOMEM) {
        printf("a buffer one byte short did not fail with XLSTM_ERR_NOMEM\n");
        failed++;
    }
    /* without an arena, a heap-less build has no memory at all */
    {
        xlstm_model *m = NULL;
        if (xlstm_model_load_from_memory(st, st_len, cfg, cfg_len, NULL, &m, NULL) != XLSTM_ERR_NOMEM || m) {
            printf("a heap-less build allocated without an arena\n");
            failed++;
        }
    }
    printf("first logit after two tokens: %.6f\n", a);
    printf("%d passed, %d failed\n", 5 - failed, failed);
    free(st);
    free(cfg);
    return failed ? 1 : 0;
}
