/* Several threads share one const model, each with its own state, and get
   logits (or, for TiRex, forecasts) identical to a single thread's (make test
   builds this with -pthread; make tsan runs it under ThreadSanitizer). */
#define XLSTM_IMPLEMENTATION
#include "../xlstm.h"
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define N_THREADS 4
#define N_TOKENS 200

typedef struct job {
    const xlstm_model *model;
    int seed;
    float out[N_TOKENS];
    int ok;
} job;

/* TiRex: a forecast of a seeded series, then a stream fed with it */
static void run_tirex(const xlstm_model *m, int seed, float *out) {
    enum { LEN = 300, H = 32 };
    xlstm_state *s;
    float x[LEN], q[H * 64];
    const float *series = x;
    size_t len = LEN;
    int t;
    for (t = 0; t < LEN; t++) x[t] = (float)((t * (seed + 3)) % 17) + 0.1f * (float)t;
    if (seed == 1) x[7] = x[100] = (float)NAN;
    for (t = 0; t < N_TOKENS; t++) out[t] = 0;
    if (xlstm_state_create(m, &s, NULL) != XLSTM_OK) return;
    /* a failed call leaves NaN, which the caller's finiteness check catches */
    if (xlstm_forecast(s, &series, &len, 1, H, q, out) != XLSTM_OK) out[0] = (float)NAN;
    xlstm_state_reset(s);
    if (xlstm_stream_observe(s, x, LEN) != XLSTM_OK || xlstm_stream_forecast(s, H, q, out + H) != XLSTM_OK) out[H] = (float)NAN;
    xlstm_state_free(s);
}

static void run(const xlstm_model *m, int seed, float *out) {
    xlstm_state *s;
    const float *lg = NULL;
    int32_t V = xlstm_model_config(m)->vocab_size, t;
    if (xlstm_model_config(m)->arch == XLSTM_ARCH_TIREX) {
        run_tirex(m, seed, out);
        return;
    }
    xlstm_state_create(m, &s, NULL);
    for (t = 0; t < N_TOKENS; t++) {
        xlstm_step(s, (int32_t)((t * 7 + seed * 13) % V), &lg);
        out[t] = lg[(t + seed) % V];
    }
    xlstm_state_free(s);
}

static void *thread_main(void *arg) {
    job *j = (job *)arg;
    run(j->model, j->seed, j->out);
    j->ok = 1;
    return NULL;
}

int main(void) {
    const char *dirs[3] = {"tests/data/mixed", "tests/data/large/bias_on", "tests/data/tirex/b_d96_h4_b3_p32"};
    int d, i, failed = 0;
    for (d = 0; d < 3; d++) {
        xlstm_model *m;
        pthread_t th[N_THREADS];
        job jobs[N_THREADS];
        if (xlstm_model_load(dirs[d], NULL, &m, NULL) != XLSTM_OK) {
            printf("cannot load %s\n", dirs[d]);
            failed++;
            continue;
        }
        for (i = 0; i < N_THREADS; i++) {
            jobs[i].model = m, jobs[i].seed = i, jobs[i].ok = 0;
            pthread_create(&th[i], NULL, thread_main, &jobs[i]);
        }
        for (i = 0; i < N_THREADS; i++) pthread_join(th[i], NULL);
        for (i = 0; i < N_THREADS; i++) {
            float alone[N_TOKENS];
            run(m, i, alone);
            if (!jobs[i].ok || memcmp(alone, jobs[i].out, sizeof alone) != 0 || !isfinite(alone[0]) || alone[0] == 0 ||
                !isfinite(alone[32])) {
                printf("%s: thread %d differs from a single-threaded run\n", dirs[d], i);
                failed++;
            }
        }
        printf("%s: %d threads sharing one model, outputs identical to one thread: %s\n", dirs[d], N_THREADS,
               failed ? "NO" : "yes");
        xlstm_model_free(m);
    }
    printf("%d passed, %d failed\n", failed ? 0 : 1, failed ? 1 : 0);
    return failed ? 1 : 0;
}
