/* Threads and the parallel_for hook (make test builds this with -pthread and
   XLSTM_PARALLEL_MIN_WORK=0, so that the tiny test models fork every loop;
   make tsan runs it under ThreadSanitizer):
     - several threads share one const model, each with its own state, and
       get logits (or, for TiRex, forecasts) identical to a single thread's;
     - a state whose parallel loops run on a small pthread pool through the
       hook, with 2 and 3 tasks, and with adversarial hooks (every task on
       the calling thread in reverse order, one task starting late), gives
       the same bits as a single-threaded state;
     - a state with n_threads 1 never calls its hook. */
#define _POSIX_C_SOURCE 200809L /* nanosleep */
#define XLSTM_IMPLEMENTATION
#include "../xlstm.h"
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N_THREADS 4
#define N_TOKENS 200

static int passed, failed;

static void check(int ok, const char *what, const char *dir) {
    if (ok) passed++;
    else failed++, printf("FAILED %s: %s\n", dir, what);
}

/* ---- a small thread pool behind the hook -------------------------------------
   The caller posts a job (task, ctx, n) and runs tasks too; workers wake and
   take task indices until none is left; the call returns when every task
   taken has returned. A worker that wakes after the caller has taken every
   index finds nothing to do, so a late worker never holds the caller up. */
#define POOL_MAX 4
typedef struct pool {
    pthread_mutex_t mu;
    pthread_cond_t wake, done;
    pthread_t th[POOL_MAX];
    int n_workers, quit;
    void (*task)(void *ctx, int t);
    void *ctx;
    int n_tasks, next, running;
    /* adversarial modes */
    int serial_reverse; /* no workers: every task on the calling thread, n-1 first */
    int late_task;      /* this task index sleeps 2 ms before it runs; -1: none */
    /* what the hook saw */
    int calls, bad_n, max_tasks;
} pool;

static void pool_run(pool *p, void (*task)(void *, int), void *ctx, int t) {
    if (t == p->late_task) {
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
    task(ctx, t);
}

static void *pool_worker(void *arg) {
    pool *p = (pool *)arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        void (*task)(void *, int);
        void *ctx;
        int t;
        while (!p->quit && p->next >= p->n_tasks) pthread_cond_wait(&p->wake, &p->mu);
        if (p->quit) break;
        t = p->next++, task = p->task, ctx = p->ctx;
        p->running++;
        pthread_mutex_unlock(&p->mu);
        pool_run(p, task, ctx, t);
        pthread_mutex_lock(&p->mu);
        if (--p->running == 0 && p->next >= p->n_tasks) pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* the hook: xlstm_state_params.parallel_for */
static void pool_parallel_for(void *user, void (*task)(void *ctx, int t), void *ctx, int n) {
    pool *p = (pool *)user;
    int t;
    pthread_mutex_lock(&p->mu);
    p->calls++;
    if (n < 2 || n > p->max_tasks) p->bad_n++;
    if (p->serial_reverse) {
        pthread_mutex_unlock(&p->mu);
        for (t = n - 1; t >= 0; t--) pool_run(p, task, ctx, t);
        return;
    }
    p->task = task, p->ctx = ctx, p->n_tasks = n, p->next = 0;
    pthread_cond_broadcast(&p->wake);
    while (p->next < n) {
        t = p->next++;
        p->running++;
        pthread_mutex_unlock(&p->mu);
        pool_run(p, task, ctx, t);
        pthread_mutex_lock(&p->mu);
        p->running--;
    }
    while (p->running) pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

static void pool_init(pool *p, int n_workers, int max_tasks) {
    int i;
    memset(p, 0, sizeof *p);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    p->n_workers = n_workers, p->late_task = -1, p->max_tasks = max_tasks;
    for (i = 0; i < n_workers; i++) pthread_create(&p->th[i], NULL, pool_worker, p);
}

static void pool_free(pool *p) {
    int i;
    pthread_mutex_lock(&p->mu);
    p->quit = 1;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (i = 0; i < p->n_workers; i++) pthread_join(p->th[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done);
}

/* ---- what a model computes, every output in one buffer -------------------------- */
typedef struct trace {
    float *v;
    size_t n, cap;
} trace;

static void put(trace *tr, const float *x, size_t n) {
    if (tr->n + n > tr->cap) return; /* too small a buffer shows as a mismatch in the length */
    memcpy(tr->v + tr->n, x, n * sizeof(float));
    tr->n += n;
}

#define BATCH 20
/* LM: a prompt (all logits), steps, and batched steps of 4 and of 20 sequences
   (the small-batch rows and the tiled product); TiRex: a batch of forecasts,
   a stream, embeddings. A failed call records a NaN. */
static void run_trace(const xlstm_model *m, const xlstm_state_params *params, trace *tr) {
    const xlstm_config *c = xlstm_model_config(m);
    xlstm_state *s[BATCH];
    const float *lg[BATCH];
    float nan = (float)NAN;
    int i, t;
    tr->n = 0;
    for (i = 0; i < BATCH; i++)
        if (xlstm_state_create_with_params(m, params, &s[i], NULL) != XLSTM_OK) {
            put(tr, &nan, 1);
            while (i-- > 0) xlstm_state_free(s[i]);
            return;
        }
    if (c->arch == XLSTM_ARCH_TIREX) {
        enum { LEN = 700, H = 40 };
        float x[3][LEN], q[3 * H * 64], emb[64 * 64 * 4];
        const float *series[3] = {x[0], x[1], x[2]};
        size_t len[3] = {LEN, 300, 90}, n_tok = 0;
        for (i = 0; i < 3; i++)
            for (t = 0; t < LEN; t++) x[i][t] = (float)((t * (i + 3)) % 17) + 0.1f * (float)t + (t == 7 * i + 5 ? nan : 0.0f);
        if (xlstm_forecast(s[0], series, len, 3, H, q, NULL) != XLSTM_OK) put(tr, &nan, 1);
        put(tr, q, (size_t)(3 * H * c->tirex.num_quantiles));
        for (t = 0; t < LEN; t += 100) { /* past the window: the stream's one-row steps */
            if (xlstm_stream_observe(s[1], x[0] + t, 100) != XLSTM_OK || xlstm_stream_forecast(s[1], H, q, NULL) != XLSTM_OK)
                put(tr, &nan, 1);
            put(tr, q, (size_t)(H * c->tirex.num_quantiles));
        }
        if (xlstm_embed_series(s[2], x[1], 300, NULL, &n_tok) != XLSTM_OK ||
            n_tok * (size_t)(c->num_blocks * c->embedding_dim) > sizeof emb / sizeof emb[0] ||
            xlstm_embed_series(s[2], x[1], 300, emb, &n_tok) != XLSTM_OK)
            put(tr, &nan, 1);
        else
            put(tr, emb, n_tok * (size_t)(c->num_blocks * c->embedding_dim));
    } else {
        int32_t tok[100];
        float all[100 * 128];
        const int32_t V = c->vocab_size;
        for (t = 0; t < 100; t++) tok[t] = (int32_t)((t * 7 + 3) % V);
        if ((size_t)V * 100 > sizeof all / sizeof all[0] || xlstm_prefill(s[0], tok, 100, all, NULL) != XLSTM_OK) put(tr, &nan, 1);
        else put(tr, all, (size_t)V * 100);
        for (t = 0; t < 8; t++) {
            if (xlstm_step(s[0], (int32_t)((t * 5 + 1) % V), &lg[0]) != XLSTM_OK) put(tr, &nan, 1);
            else put(tr, lg[0], (size_t)V);
        }
        for (t = 0; t < 2; t++) {
            int n = t ? BATCH : 4, j;
            for (j = 0; j < n; j++) tok[j] = (int32_t)((j * 11 + t) % V);
            if (xlstm_step_batch(s, tok, (size_t)n, lg) != XLSTM_OK) put(tr, &nan, 1);
            else
                for (j = 0; j < n; j++) put(tr, lg[j], (size_t)V);
        }
    }
    for (i = 0; i < BATCH; i++) xlstm_state_free(s[i]);
}

static int same(const trace *a, const trace *b) {
    return a->n == b->n && a->n > 0 && memcmp(a->v, b->v, a->n * sizeof(float)) == 0;
}

/* ---- several threads sharing one model ------------------------------------------ */
typedef struct job {
    const xlstm_model *model;
    trace tr;
} job;

static void *thread_main(void *arg) {
    job *j = (job *)arg;
    run_trace(j->model, NULL, &j->tr);
    return NULL;
}

static trace trace_new(void) {
    trace tr;
    tr.cap = 1 << 20, tr.n = 0;
    tr.v = (float *)malloc(tr.cap * sizeof(float));
    if (!tr.v) tr.cap = 0;
    return tr;
}

int main(void) {
    const char *dirs[3] = {"tests/data/mixed", "tests/data/large/bias_on", "tests/data/tirex/b_d96_h4_b3_p32"};
    int d, i;
    for (d = 0; d < 3; d++) {
        xlstm_model *m;
        pthread_t th[N_THREADS];
        job jobs[N_THREADS];
        trace alone = trace_new(), tr = trace_new();
        xlstm_state_params sp = xlstm_state_default_params();
        pool p;
        int tasks, nan_free = 1;
        char what[128];
        if (xlstm_model_load(dirs[d], NULL, &m, NULL) != XLSTM_OK) {
            check(0, "cannot load the model", dirs[d]);
            continue;
        }
        run_trace(m, NULL, &alone);
        for (i = 0; i < (int)alone.n; i++) nan_free &= isfinite(alone.v[i]) != 0;
        check(alone.n > 0 && nan_free, "single-threaded outputs all finite", dirs[d]);

        for (i = 0; i < N_THREADS; i++) {
            jobs[i].model = m, jobs[i].tr = trace_new();
            pthread_create(&th[i], NULL, thread_main, &jobs[i]);
        }
        for (i = 0; i < N_THREADS; i++) pthread_join(th[i], NULL);
        for (i = 0; i < N_THREADS; i++) {
            check(same(&alone, &jobs[i].tr), "a thread sharing the model differs from a single-threaded run", dirs[d]);
            free(jobs[i].tr.v);
        }

        /* the hook on a pool: tasks 2 and 3, the caller plus two workers */
        for (tasks = 2; tasks <= 3; tasks++) {
            pool_init(&p, 2, tasks);
            sp.n_threads = tasks, sp.parallel_for = pool_parallel_for, sp.parallel_user = &p;
            run_trace(m, &sp, &tr);
            sprintf(what, "pool, %d tasks: identical to one thread", tasks);
            check(same(&alone, &tr), what, dirs[d]);
            sprintf(what, "pool, %d tasks: the hook is called, with 2..%d tasks", tasks, tasks);
            check(p.calls > 0 && p.bad_n == 0, what, dirs[d]);
            if (tasks == 3) printf("%s: the pool ran %d parallel loops\n", dirs[d], p.calls);
            /* one task starts 2 ms late: the others take its chunks */
            p.late_task = 1;
            run_trace(m, &sp, &tr);
            sprintf(what, "pool, %d tasks, task 1 late: identical", tasks);
            check(same(&alone, &tr), what, dirs[d]);
            pool_free(&p);
        }
        /* every task on the calling thread, the last first: it claims all the
           work, the others find none */
        pool_init(&p, 0, 3);
        p.serial_reverse = 1;
        sp.n_threads = 3, sp.parallel_user = &p;
        run_trace(m, &sp, &tr);
        check(same(&alone, &tr) && p.calls > 0 && p.bad_n == 0, "hook running tasks in reverse on one thread: identical", dirs[d]);
        /* a copy between a pool state and a plain one carries the sequence, not the threads */
        if (xlstm_model_config(m)->arch != XLSTM_ARCH_TIREX) {
            xlstm_state *a = NULL, *b = NULL;
            const float *la = NULL, *lb = NULL;
            int32_t tok[40];
            for (i = 0; i < 40; i++) tok[i] = (int32_t)((i * 3 + 1) % xlstm_model_config(m)->vocab_size);
            p.serial_reverse = 0;
            if (xlstm_state_create_with_params(m, &sp, &a, NULL) == XLSTM_OK && xlstm_state_create(m, &b, NULL) == XLSTM_OK &&
                xlstm_prefill(a, tok, 40, NULL, NULL) == XLSTM_OK && xlstm_state_copy(b, a) == XLSTM_OK &&
                xlstm_step(a, 5, &la) == XLSTM_OK && xlstm_step(b, 5, &lb) == XLSTM_OK)
                check(memcmp(la, lb, (size_t)xlstm_model_config(m)->vocab_size * sizeof(float)) == 0,
                      "a pool state copied into a plain one steps to the same logits", dirs[d]);
            else
                check(0, "copy between a pool state and a plain one", dirs[d]);
            xlstm_state_free(a);
            xlstm_state_free(b);
            p.serial_reverse = 1;
        }
        /* n_threads 1: the hook is never called */
        p.calls = 0;
        sp.n_threads = 1;
        run_trace(m, &sp, &tr);
        check(same(&alone, &tr) && p.calls == 0, "n_threads 1 never calls the hook", dirs[d]);
        pool_free(&p);
        printf("%s: threads sharing the model and pools behind the hook: %s\n", dirs[d], failed ? "FAILED" : "identical to one thread");
        xlstm_model_free(m);
        free(alone.v);
        free(tr.v);
    }
    {
        xlstm_model *m;
        xlstm_state *s = NULL;
        xlstm_state_params sp = xlstm_state_default_params();
        sp.n_threads = -1;
        if (xlstm_model_load(dirs[0], NULL, &m, NULL) == XLSTM_OK) {
            check(xlstm_state_create_with_params(m, &sp, &s, NULL) == XLSTM_ERR_ARG && !s, "n_threads -1 is XLSTM_ERR_ARG", dirs[0]);
            xlstm_model_free(m);
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
