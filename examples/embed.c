/* embed: the game-engine pattern. One model, loaded once and shared; every
   NPC owns a small state and advances one token per frame, all NPCs in one
   batched step (the weights are read once per frame, not once per NPC).
   The library's parallel loops run on the game's own worker threads (here a
   small pthread pool) through the parallel_for hook, not on OpenMP's.
   A save game stores each NPC's state blob; loading restores it exactly.
     build/embed [MODEL] */
#define XLSTM_IMPLEMENTATION
#include "../xlstm.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if !defined(_WIN32) || defined(__MINGW32__) /* pthreads (MinGW: winpthreads); MSVC: one thread */
#define HAVE_POOL 1
#include <pthread.h>

/* A job system in miniature: N_WORKERS threads, started once, sleep until the
   library hands out a parallel loop; the calling thread runs tasks too. */
#define N_WORKERS 3
typedef struct pool {
    pthread_mutex_t mu;
    pthread_cond_t wake, done;
    pthread_t th[N_WORKERS];
    void (*task)(void *ctx, int t); /* the job: task(ctx, t) for t in [0, n_tasks) */
    void *ctx;
    int n_tasks, next, running, quit;
} pool;

/* with mu held: run the job's next task if one is left */
static int pool_run_one(pool *p) {
    void (*task)(void *, int) = p->task;
    void *ctx = p->ctx;
    int t;
    if (p->next >= p->n_tasks) return 0;
    t = p->next++;
    p->running++;
    pthread_mutex_unlock(&p->mu);
    task(ctx, t);
    pthread_mutex_lock(&p->mu);
    if (--p->running == 0 && p->next >= p->n_tasks) pthread_cond_broadcast(&p->done);
    return 1;
}

static void *pool_worker(void *arg) {
    pool *p = (pool *)arg;
    pthread_mutex_lock(&p->mu);
    while (!p->quit)
        if (!pool_run_one(p)) pthread_cond_wait(&p->wake, &p->mu);
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* xlstm_state_params.parallel_for. A worker that wakes after the caller has
   taken every task finds nothing to do: the call never waits for a worker
   that has not started. */
static void pool_parallel_for(void *user, void (*task)(void *ctx, int t), void *ctx, int n_tasks) {
    pool *p = (pool *)user;
    pthread_mutex_lock(&p->mu);
    p->task = task, p->ctx = ctx, p->n_tasks = n_tasks, p->next = 0;
    pthread_cond_broadcast(&p->wake);
    while (pool_run_one(p)) {}
    while (p->running) pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

static void pool_start(pool *p) {
    int i;
    memset(p, 0, sizeof *p);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    for (i = 0; i < N_WORKERS; i++) pthread_create(&p->th[i], NULL, pool_worker, p);
}

static void pool_stop(pool *p) {
    int i;
    pthread_mutex_lock(&p->mu);
    p->quit = 1;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (i = 0; i < N_WORKERS; i++) pthread_join(p->th[i], NULL);
}
#endif

#define N_NPC 8
#define N_FRAMES 48

typedef struct npc {
    const char *name;
    xlstm_state *state;
    xlstm_sampler sampler;
    int32_t next;      /* token to feed this frame */
    char line[N_FRAMES + 1];
    int len;
} npc;

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : "models/tiny-shakespeare";
    static const char *names[N_NPC] = {"ROMEO", "JULIET", "MERCUTIO", "TYBALT", "NURSE", "FRIAR", "PARIS", "BENVOLIO"};
    npc npcs[N_NPC];
    xlstm_state *batch[N_NPC];
    int32_t tokens[N_NPC];
    const float *logits[N_NPC];
    xlstm_model *model;
    xlstm_error err;
    unsigned char *save[N_NPC];
    void *work;
    int i, f, rc = 1;
    int32_t V;
    xlstm_state_params sp = xlstm_state_default_params();
#ifdef HAVE_POOL
    pool workers;
    pool_start(&workers);
    sp.n_threads = N_WORKERS + 1; /* the workers and this thread */
    sp.parallel_for = pool_parallel_for;
    sp.parallel_user = &workers;
#endif

    if (xlstm_model_load(path, NULL, &model, &err) != XLSTM_OK) {
        fprintf(stderr, "embed: %s\n", err.message);
        return 1;
    }
    V = xlstm_model_config(model)->vocab_size;
    if (V != 256) {
        fprintf(stderr, "embed: this demo speaks bytes: it wants a byte-level model (vocab 256)\n");
        xlstm_model_free(model);
        return 1;
    }
    work = malloc(xlstm_sampler_work_size(V));
    for (i = 0; i < N_NPC; i++) {
        npc *n = &npcs[i];
        const char *p;
        memset(n, 0, sizeof *n);
        n->name = names[i];
        if (xlstm_state_create_with_params(model, &sp, &n->state, &err) != XLSTM_OK) {
            fprintf(stderr, "embed: %s\n", err.message);
            return 1;
        }
        n->sampler = xlstm_sampler_init(1000 + (uint64_t)i);
        /* each NPC starts from its own cue: "NAME:\n" */
        for (p = n->name; *p; p++) xlstm_step(n->state, (unsigned char)*p, NULL);
        xlstm_step(n->state, ':', NULL);
        xlstm_step(n->state, '\n', &logits[i]);
        n->next = xlstm_sample(&n->sampler, logits[i], V, NULL, 0, work);
        batch[i] = n->state;
    }
    /* the game loop: one batched step per frame for every NPC */
    for (f = 0; f < N_FRAMES; f++) {
        if (f == N_FRAMES / 2) { /* save the game mid-sentence... */
            for (i = 0; i < N_NPC; i++) {
                size_t size = xlstm_state_blob_size(npcs[i].state);
                save[i] = (unsigned char *)malloc(size);
                xlstm_state_save(npcs[i].state, save[i], size);
            }
        }
        for (i = 0; i < N_NPC; i++) tokens[i] = npcs[i].next;
        if (xlstm_step_batch(batch, tokens, N_NPC, logits) != XLSTM_OK) goto out;
        for (i = 0; i < N_NPC; i++) {
            npc *n = &npcs[i];
            char c = (char)tokens[i];
            n->line[n->len++] = c == '\n' ? '/' : c;
            n->next = xlstm_sample(&n->sampler, logits[i], V, NULL, 0, work);
        }
    }
    for (i = 0; i < N_NPC; i++) printf("%-9s %.*s\n", npcs[i].name, npcs[i].len, npcs[i].line);
    /* ...and load it: restoring NPC 0 replays its second half exactly */
    {
        int32_t tok;
        const float *lg;
        if (xlstm_state_restore(npcs[0].state, save[0], xlstm_state_blob_size(npcs[0].state)) != XLSTM_OK) goto out;
        tok = (unsigned char)npcs[0].line[N_FRAMES / 2] == '/' ? '\n' : (unsigned char)npcs[0].line[N_FRAMES / 2];
        xlstm_step(npcs[0].state, tok, &lg);
        printf("restored %s from its save: state blob %lu bytes, next-token argmax '%c'\n", npcs[0].name,
               (unsigned long)xlstm_state_blob_size(npcs[0].state), (char)xlstm_argmax(lg, V));
    }
    rc = 0;
out:
    for (i = 0; i < N_NPC; i++) {
        xlstm_state_free(npcs[i].state);
        if (f >= N_FRAMES / 2) free(save[i]);
    }
    free(work);
    xlstm_model_free(model);
#ifdef HAVE_POOL
    pool_stop(&workers);
#endif
    return rc;
}
