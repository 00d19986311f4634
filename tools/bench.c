/* xlstm-bench: decode and prefill speed against this machine's memory bandwidth.
     xlstm-bench MODEL [options]
     xlstm-bench --random 125M|350M|760M|1.3B|tiny|tirex [options]
   options: --dtype f32|bf16|f16|q8|q4 (random models), -t THREADS, --batch B,
            --tokens N (decode tokens, default 32), --prefill N (default 512),
            --horizon H (TiRex forecasts, default 32),
            --kernels auto|scalar|simd|avx2|avx512|avx512vnni, --save PATH (write the
            random model as one .safetensors and exit; then bench PATH mmaps it),
            --no-hugepages (big buffers on plain 4 KB pages),
            --pool [SPIN] (the library's parallel loops on a pthread pool of
            THREADS-1 workers through the parallel_for hook instead of OpenMP;
            idle workers spin SPIN times, default 0, before they sleep)
            --fast-prompts (xlstm_model_params.fast_prompts: a prompt's matrix
            products on bf16- or int8-rounded activations where the CPU has them)
   A TiRex model (--random tirex: the released shape, or a TiRex MODEL) is
   timed as a forecaster instead: xlstm_forecast of B series of 2048 values
   for H steps, and the streaming step (the observation that completes a
   patch, and a forecast from the stream).
   The last stdout line is key=value pairs. */
#if !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#if !defined(_DEFAULT_SOURCE)
#define _DEFAULT_SOURCE /* madvise's MADV_HUGEPAGE */
#endif
#define XLSTM_MMAP
#define XLSTM_IMPLEMENTATION
#include "../xlstm.h"
#include "st_writer.h"

#include <math.h>
#include <time.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif
#include <pthread.h>

/* --pool: examples/embed.c's pool (the caller runs tasks too; a worker that
   wakes after every task is taken finds nothing to do), tuned for latency:
   an idle worker polls for a new job SPIN times before it sleeps, and the
   caller polls for the last running task instead of sleeping on it. */
#if defined(__x86_64__) || defined(__i386__)
#define POOL_RELAX() __builtin_ia32_pause()
#else
#define POOL_RELAX() ((void)0)
#endif
#define POOL_MAX 64
typedef struct pool {
    pthread_mutex_t mu;
    pthread_cond_t wake;
    pthread_t th[POOL_MAX];
    int n_workers, spin, sleepers;
    void (*task)(void *ctx, int t);
    void *ctx;
    int n_tasks, next, quit;
    int running;  /* atomic: tasks started and not yet returned */
    unsigned gen; /* atomic: jobs posted, what a polling worker watches */
} pool;

/* with mu held: run the job's next task if one is left */
static int pool_run_one(pool *p) {
    void (*task)(void *, int) = p->task;
    void *ctx = p->ctx;
    int t;
    if (p->next >= p->n_tasks) return 0;
    t = p->next++;
    __atomic_add_fetch(&p->running, 1, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&p->mu);
    task(ctx, t);
    __atomic_sub_fetch(&p->running, 1, __ATOMIC_RELEASE);
    pthread_mutex_lock(&p->mu);
    return 1;
}

static void *pool_worker(void *arg) {
    pool *p = (pool *)arg;
    pthread_mutex_lock(&p->mu);
    while (!p->quit) {
        unsigned seen;
        int i;
        if (pool_run_one(p)) continue;
        seen = __atomic_load_n(&p->gen, __ATOMIC_RELAXED);
        pthread_mutex_unlock(&p->mu);
        for (i = 0; i < p->spin && __atomic_load_n(&p->gen, __ATOMIC_ACQUIRE) == seen; i++) POOL_RELAX();
        pthread_mutex_lock(&p->mu);
        if (__atomic_load_n(&p->gen, __ATOMIC_RELAXED) != seen || p->quit) continue;
        p->sleepers++;
        pthread_cond_wait(&p->wake, &p->mu);
        p->sleepers--;
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static void pool_parallel_for(void *user, void (*task)(void *ctx, int t), void *ctx, int n_tasks) {
    pool *p = (pool *)user;
    pthread_mutex_lock(&p->mu);
    p->task = task, p->ctx = ctx, p->n_tasks = n_tasks, p->next = 0;
    __atomic_store_n(&p->gen, p->gen + 1, __ATOMIC_RELEASE);
    if (p->sleepers) pthread_cond_broadcast(&p->wake);
    while (pool_run_one(p)) {}
    pthread_mutex_unlock(&p->mu);
    while (__atomic_load_n(&p->running, __ATOMIC_ACQUIRE)) POOL_RELAX();
}

static void pool_start(pool *p, int n_workers, int spin) {
    int i;
    memset(p, 0, sizeof *p);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    p->n_workers = n_workers < POOL_MAX ? n_workers : POOL_MAX, p->spin = spin;
    for (i = 0; i < p->n_workers; i++) pthread_create(&p->th[i], NULL, pool_worker, p);
}

/* what every state is created with (-t, --pool) */
static xlstm_state_params state_params;

/* Big buffers (the bandwidth probe, a random model, the library's states)
   sit on 2 MB boundaries with transparent huge pages where Linux offers them:
   a mmapped model file gets huge pages from the page cache, and in a VM each
   4 KB page costs a two-level page walk, so the probe, the model and the
   state all use the same page size. --no-hugepages turns this off. */
static int use_hugepages = 1;
static void *big_alloc(size_t n) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    const size_t huge = (size_t)2 << 20;
    if (use_hugepages && n >= huge) {
        void *p = NULL;
        size_t r = (n + huge - 1) & ~(huge - 1);
        if (posix_memalign(&p, huge, r) != 0) return NULL;
        madvise(p, r, MADV_HUGEPAGE); /* a hint: ignored where unsupported */
        return p;
    }
#endif
    { /* 64-byte aligned either way: the probes load whole 64-byte vectors */
        void *p = NULL;
        return posix_memalign(&p, 64, n ? n : 1) == 0 ? p : NULL;
    }
}
static void *lib_alloc(size_t n, void *user) {
    (void)user;
    return big_alloc(n);
}
static void lib_free(void *p, void *user) {
    (void)user;
    free(p);
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Peak resident set so far, MB (Linux: VmHWM). */
static double peak_rss_mb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double kb = 0;
    if (!f) return 0;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM:", 6)) kb = atof(line + 6);
    fclose(f);
    return kb / 1024.0;
}

/* Read bandwidth: stream a buffer much larger than the caches with all
   threads, OR-ing 64-byte vectors into four accumulators, so the loop is
   bound by memory, not by arithmetic. Best of several passes. On x86 the
   loop is compiled for AVX-512 when the CPU has it: 64-byte loads keep more
   bytes in flight, and reach more of the bandwidth than 16-byte ones. */
typedef uint64_t bw_vec __attribute__((vector_size(64)));

#define BW_BODY                                                                    \
    uint64_t total = 0;                                                            \
    size_t i;                                                                      \
    bw_vec a0, a1, a2, a3;                                                         \
    int k;                                                                         \
    memset(&a0, 0, sizeof a0), a1 = a0, a2 = a0, a3 = a0;                          \
    for (i = lo; i + 4 <= hi; i += 4) {                                            \
        a0 |= buf[i];                                                              \
        a1 |= buf[i + 1];                                                          \
        a2 |= buf[i + 2];                                                          \
        a3 |= buf[i + 3];                                                          \
    }                                                                              \
    a0 |= a1 | a2 | a3;                                                            \
    for (k = 0; k < 8; k++) total |= a0[k];                                        \
    return total;

static uint64_t bw_stream(const bw_vec *buf, size_t lo, size_t hi) { BW_BODY }
#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx512f"))) static uint64_t bw_stream_avx512(const bw_vec *buf, size_t lo, size_t hi) { BW_BODY }
#endif

static double measure_bandwidth_gbs(int threads) {
    size_t bytes = (size_t)1 << 31, nv = bytes / sizeof(bw_vec);
    bw_vec *buf = (bw_vec *)big_alloc(bytes);
    uint64_t (*stream)(const bw_vec *, size_t, size_t) = bw_stream;
    double best = 0;
    int rep;
    if (!buf) return 0;
#if defined(__x86_64__) && defined(__GNUC__)
    if (__builtin_cpu_supports("avx512f")) stream = bw_stream_avx512;
#endif
    memset(buf, 1, bytes); /* touch every page before timing */
    (void)threads;
    for (rep = 0; rep < 5; rep++) {
        double t0 = now(), t;
        uint64_t total = 0;
#ifdef _OPENMP
#pragma omp parallel num_threads(threads) reduction(| : total)
        {
            int nt = omp_get_num_threads(), id = omp_get_thread_num();
            size_t lo = nv / (size_t)nt * (size_t)id, hi = id == nt - 1 ? nv : nv / (size_t)nt * (size_t)(id + 1);
            total |= stream(buf, lo, hi);
        }
#else
        total = stream(buf, 0, nv);
#endif
        t = now() - t0;
        if (total == 0) printf("impossible\n");
        if ((double)bytes / t / 1e9 > best) best = (double)bytes / t / 1e9;
    }
    free(buf);
    return best;
}

/* In-place update bandwidth, counted both ways (bytes read + bytes written),
   as the mLSTM state is updated: every 64-byte vector of a buffer much larger
   than the caches read, changed and written back by all threads. Best of
   several passes. */
#define UPD_BODY                                                                   \
    size_t i;                                                                      \
    for (i = lo; i + 4 <= hi; i += 4) {                                            \
        buf[i] += 1, buf[i + 1] += 1, buf[i + 2] += 1, buf[i + 3] += 1;            \
    }
static void upd_stream(bw_vec *buf, size_t lo, size_t hi) { UPD_BODY }
#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx512f"))) static void upd_stream_avx512(bw_vec *buf, size_t lo, size_t hi) { UPD_BODY }
#endif

static double measure_update_gbs(int threads) {
    size_t bytes = (size_t)1 << 30, nv = bytes / sizeof(bw_vec);
    bw_vec *buf = (bw_vec *)big_alloc(bytes);
    void (*stream)(bw_vec *, size_t, size_t) = upd_stream;
    double best = 0;
    int rep;
    if (!buf) return 0;
#if defined(__x86_64__) && defined(__GNUC__)
    if (__builtin_cpu_supports("avx512f")) stream = upd_stream_avx512;
#endif
    memset(buf, 1, bytes);
    (void)threads;
    for (rep = 0; rep < 5; rep++) {
        double t0 = now(), t;
#ifdef _OPENMP
#pragma omp parallel num_threads(threads)
        {
            int nt = omp_get_num_threads(), id = omp_get_thread_num();
            size_t lo = nv / (size_t)nt * (size_t)id, hi = id == nt - 1 ? nv : nv / (size_t)nt * (size_t)(id + 1);
            stream(buf, lo, hi);
        }
#else
        stream(buf, 0, nv);
#endif
        t = now() - t0;
        if (2.0 * (double)bytes / t / 1e9 > best) best = 2.0 * (double)bytes / t / 1e9;
    }
    if (buf[nv / 2][0] == 0) printf("impossible\n");
    free(buf);
    return best;
}

/* ---- random models of preset sizes (the paper's xLSTM[7:1] shapes) ---- */
typedef struct preset {
    const char *name;
    int dim, blocks, vocab, large; /* large: the xLSTM-7B architecture */
} preset;
static const preset presets[] = {
    {"tiny", 128, 8, 256, 0},     {"125M", 768, 24, 50304, 0},  {"350M", 1024, 48, 50304, 0},
    {"760M", 1536, 48, 50304, 0}, {"1.3B", 2048, 48, 50304, 0}, {"xlstm-7b", 4096, 32, 50304, 1},
    {"xlstm-large-tiny", 256, 4, 512, 1},
};

static char *preset_config(const preset *p) {
    char *cfg = (char *)malloc(8192), at[1024];
    int b, o = 0;
    if (p->large) { /* NX-AI/xLSTM-7b's config.json, resized */
        sprintf(cfg,
                "{\"model_type\":\"xlstm\",\"embedding_dim\":%d,\"hidden_size\":%d,\"num_blocks\":%d,\"num_hidden_layers\":%d,"
                "\"num_heads\":8,\"qk_dim_factor\":0.5,\"v_dim_factor\":1.0,\"ffn_proj_factor\":2.667,"
                "\"ffn_round_up_to_multiple_of\":64,\"gate_soft_cap\":15.0,\"output_logit_soft_cap\":30.0,"
                "\"norm_eps\":1e-6,\"eps\":1e-6,\"use_bias\":false,\"weight_mode\":\"single\",\"vocab_size\":%d}",
                p->dim, p->dim, p->blocks, p->blocks, p->vocab);
        return cfg;
    }
    at[0] = 0;
    for (b = 1; b < p->blocks; b += 8) o += sprintf(at + o, "%s%d", o ? "," : "", b); /* one sLSTM block in 8 */
    sprintf(cfg,
            "{\"mlstm_block\":{\"mlstm\":{\"proj_factor\":2.0,\"conv1d_kernel_size\":4,\"qkv_proj_blocksize\":4,\"num_heads\":4}},"
            "\"slstm_block\":{\"slstm\":{\"backend\":\"vanilla\",\"num_heads\":4,\"conv1d_kernel_size\":4},"
            "\"feedforward\":{\"proj_factor\":1.3,\"act_fn\":\"gelu\"}},"
            "\"context_length\":2048,\"num_blocks\":%d,\"embedding_dim\":%d,\"slstm_at\":[%s],\"vocab_size\":%d}",
            p->blocks, p->dim, at, p->vocab);
    return cfg;
}

/* NX-AI/TiRex's hyper_parameters (its published model_config): 12 sLSTM
   blocks of width 512 with 4 heads, patches of 32, quantiles 0.1..0.9, the
   default ffn_proj_factor 2.6667 (a SwiGLU of 1408), a window of 2048. */
static const char tirex_config[] =
    "{\"model_config\":{\"input_patch_size\":32,\"output_patch_size\":32,"
    "\"quantiles\":[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9],"
    "\"block_kwargs\":{\"all_slstm\":true,\"embedding_dim\":512,\"num_blocks\":12,\"num_heads\":4,"
    "\"return_last_states\":true,\"vocab_size\":0},\"input_ff_dim\":2048},\"train_ctx_len\":2048}";

static uint32_t rng_state = 2463534242u;
static float frand(void) { /* xorshift32 in [-1, 1) */
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return (float)(rng_state >> 8) / 8388608.0f - 1.0f;
}

/* TiRex's weights, tensor by tensor in the order of the header: matrices
   uniform in +-1/sqrt(inputs) (PyTorch's Linear init), the RMSNorm weights
   near 1, the group norm's (stored as an offset from 1) and the biases near
   0, so that a forecast stays finite and of the series' scale. Each row is
   drawn in f32 and encoded in the matrix's stored type. */
static int tirex_fill(const xlstm__specs *specs, unsigned char *p) {
    float *row = (float *)malloc(sizeof(float) * XLSTM_MAX_DIM);
    size_t k;
    if (!row) return 0;
    for (k = 0; k < specs->n; k++) {
        const xlstm__spec *sp = &specs->v[k];
        int64_t rows = sp->shape[0] * (sp->ndim == 3 ? sp->shape[1] : 1), cols = sp->ndim == 1 ? 1 : sp->shape[sp->ndim - 1], r, c;
        const int dt = sp->dtype;
        float bound = 1.0f / sqrtf((float)cols), base = 0;
        unsigned char *scales = p + (dt == XLSTM__DT_Q8 ? rows * cols : rows * cols / 2);
        if (strstr(sp->name, "_recurrent_kernel_")) bound = 1.0f / sqrtf((float)sp->shape[1]);
        else if (strstr(sp->name, "group_norm")) bound = 0.1f;
        else if (strstr(sp->name, "norm")) base = 1.0f, bound = 0.1f;
        else if (sp->ndim == 1) bound = 0.05f;
        if (!sp->is_mat) { /* vectors (and the recurrent kernel): f32 */
            int64_t i, n = rows * cols;
            for (i = 0; i < n; i++) {
                float v = base + bound * frand();
                memcpy(p + 4 * i, &v, 4);
            }
            p += 4 * n;
            continue;
        }
        for (r = 0; r < rows; r++) {
            for (c = 0; c < cols; c++) row[c] = bound * frand();
            for (c = 0; c < cols; c++) {
                if (dt == XLSTM__DT_F32) {
                    memcpy(p + 4 * (r * cols + c), &row[c], 4);
                } else if (dt == XLSTM__DT_BF16 || dt == XLSTM__DT_F16) {
                    uint16_t h = dt == XLSTM__DT_BF16 ? st_f32_to_bf16(row[c]) : st_f32_to_f16(row[c]);
                    p[2 * (r * cols + c)] = (unsigned char)h, p[2 * (r * cols + c) + 1] = (unsigned char)(h >> 8);
                } else if (c % 32 == 0) {
                    float d = dt == XLSTM__DT_Q8 ? st_quant_q8(row + c, (signed char *)(p + r * cols + c))
                                                 : st_quant_q4(row + c, p + (r * cols + c) / 2);
                    memcpy(scales + 4 * (r * (cols / 32) + c / 32), &d, 4);
                }
            }
        }
        p += dt == XLSTM__DT_F32 ? 4 * rows * cols : dt == XLSTM__DT_Q8 ? rows * cols + rows * cols / 8
           : dt == XLSTM__DT_Q4 ? rows * cols / 2 + rows * cols / 8 : 2 * rows * cols;
    }
    free(row);
    return 1;
}

/* Build a random model directly in the target storage type; returns the
   safetensors bytes (the model borrows them). */
static unsigned char *random_model(const char *cfg_text, int dtype, size_t *size, xlstm_error *err) {
    xlstm__alloc a;
    xlstm__json cj;
    xlstm_model model;
    xlstm__specs specs;
    st_writer w;
    unsigned char *hdr, *buf = NULL, *p;
    size_t hlen = 0, k, total;
    memset(&a, 0, sizeof a);
    memset(&model, 0, sizeof model);
    memset(&specs, 0, sizeof specs);
    memset(&w, 0, sizeof w);
    if (xlstm__json_parse(&cj, &a, cfg_text, strlen(cfg_text), "config", err) ||
        xlstm__parse_config(&cj, &model.cfg, err))
        return NULL;
    model.blocks = (xlstm__block *)calloc((size_t)model.cfg.num_blocks + 1, sizeof(xlstm__block));
    specs.cap = (size_t)model.cfg.num_blocks * 24 + 16; /* as the loader's table */
    specs.v = (xlstm__spec *)calloc(specs.cap, sizeof(xlstm__spec));
    xlstm__build_specs(&model, &specs);
    for (k = 0; k < specs.n; k++) {
        xlstm__spec *sp = &specs.v[k];
        int64_t rows = sp->shape[0] * (sp->ndim == 3 ? sp->shape[1] : 1), cols = sp->shape[sp->ndim - 1], sh[3];
        int dt = sp->is_mat ? dtype : XLSTM__DT_F32;
        char name[256];
        if ((dt == XLSTM__DT_Q8 || dt == XLSTM__DT_Q4) && cols % 32) dt = XLSTM__DT_F32;
        sp->dtype = dt;
        if (dt == XLSTM__DT_Q8 || dt == XLSTM__DT_Q4) {
            sh[0] = rows, sh[1] = dt == XLSTM__DT_Q8 ? cols : cols / 2;
            snprintf(name, sizeof name, "%s.%s", sp->name, dt == XLSTM__DT_Q8 ? "q8" : "q4");
            st_add(&w, name, dt == XLSTM__DT_Q8 ? "I8" : "U8", 2, sh, (uint64_t)(rows * sh[1]));
            sh[1] = cols / 32;
            snprintf(name, sizeof name, "%s.%s_scale", sp->name, dt == XLSTM__DT_Q8 ? "q8" : "q4");
            st_add(&w, name, "F32", 2, sh, (uint64_t)(rows * sh[1] * 4));
        } else {
            static const char *nm[] = {"F32", "BF16", "F16"};
            uint64_t n = sp->ndim == 1 ? (uint64_t)rows : (uint64_t)(rows * cols);
            st_add(&w, sp->name, nm[dt], sp->ndim, sp->shape, n * (dt == XLSTM__DT_F32 ? 4 : 2));
        }
    }
    if (model.cfg.arch != XLSTM_ARCH_TIREX) st_sort_aligned(&w); /* TiRex's bytes are written in the specs' order */
    hdr = st_header(&w, cfg_text, &hlen); /* the config rides along: a saved copy loads by itself */
    total = hlen;
    for (k = 0; k < w.n; k++) total += w.e[k].nbytes;
    buf = (unsigned char *)big_alloc(total);
    if (!buf || !hdr) {
        free(buf);
        buf = NULL;
        goto out;
    }
    memcpy(buf, hdr, hlen);
    p = buf + hlen;
    if (model.cfg.arch == XLSTM_ARCH_TIREX) {
        if (!tirex_fill(&specs, p)) {
            free(buf);
            buf = NULL;
        }
        *size = total;
        goto out;
    }
    /* big models: values do not matter for speed, so fill with copies of one random megabyte */
    if (total > ((size_t)1 << 30)) {
        size_t done = hlen, chunk = (size_t)1 << 20;
        unsigned char *first = buf + hlen;
        for (k = 0; k < chunk && hlen + k < total; k++) first[k] = (unsigned char)(frand() * 20.0f + 60.0f);
        for (done = hlen + chunk; done < total; done += chunk)
            memcpy(buf + done, first, total - done < chunk ? total - done : chunk);
        /* scales must be sane: rewrite the F32 tensors */
        for (k = 0; k < w.n; k++) {
            const st_entry *e = &w.e[k];
            if (!strcmp(e->dtype, "F32")) {
                uint64_t i;
                for (i = 0; i < e->nbytes / 4; i++) {
                    float v = strstr(e->name, "_scale") ? 0.002f : 0.05f * frand();
                    memcpy(p + 4 * i, &v, 4);
                }
            }
            p += e->nbytes;
        }
        *size = total;
        goto out;
    }
    for (k = 0; k < w.n; k++) {
        const st_entry *e = &w.e[k];
        uint64_t i;
        int is_norm = strstr(e->name, "norm") || strstr(e->name, "skip") || strstr(e->name, "_bias_") ||
                      strstr(e->name, "bias");
        if (!strcmp(e->dtype, "F32")) {
            int is_scale = strstr(e->name, "_scale") != NULL;
            for (i = 0; i < e->nbytes / 4; i++) {
                float v = is_scale ? 0.002f : is_norm ? 0.1f * frand() : 0.05f * frand();
                memcpy(p + 4 * i, &v, 4);
            }
        } else if (!strcmp(e->dtype, "BF16") || !strcmp(e->dtype, "F16")) {
            for (i = 0; i < e->nbytes / 2; i++) {
                uint16_t h = !strcmp(e->dtype, "BF16") ? (uint16_t)(0x3D00 | (rng_state & 0x80FF)) : (uint16_t)(0x2800 | (rng_state & 0x83FF));
                frand();
                p[2 * i] = (unsigned char)h, p[2 * i + 1] = (unsigned char)(h >> 8);
            }
        } else {
            for (i = 0; i < e->nbytes; i++) {
                frand();
                p[i] = (unsigned char)(rng_state >> 3);
            }
        }
        p += e->nbytes;
    }
    *size = total;
out:
    free(hdr);
    free(w.e);
    free(specs.v);
    free(model.blocks);
    xlstm__free(&a, cj.tok);
    return buf;
}

/* ---- TiRex: forecast and streaming latency ---- */

/* Test series: a daily and a weekly season (periods 24 and 168, phases
   differing per series) on a random walk, with a little noise. */
static void tirex_series(float *x, size_t n, int seed) {
    const double two_pi = 6.283185307179586;
    double walk = 0;
    size_t t;
    for (t = 0; t < n; t++) {
        walk += 0.3 * frand();
        x[t] = (float)(100.0 + 10.0 * sin(two_pi * (double)t / 24.0 + seed) + 4.0 * sin(two_pi * (double)t / 168.0 + 0.5 * seed) +
                       walk + 0.5 * frand());
    }
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The median of n timings (sorts them). */
static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

#define TIREX_CONTEXT 2048 /* values per series */
#define TIREX_RUNS 5       /* timed forecasts, fewer once they have taken TIREX_BUDGET_S */
#define TIREX_STEPS 21     /* timed stream steps, fewer once they have taken TIREX_BUDGET_S */
#define TIREX_BUDGET_S 3.0

/* Bytes one stream step reads: every matrix but the output head's, in its
   stored type (scales included), and the recurrent kernel (bfloat16, or f32
   with fp32_recurrence). */
static double tirex_step_bytes(const xlstm_model *m) {
    const xlstm_config *c = &m->cfg;
    double bytes = (double)c->num_blocks * 4.0 * c->embedding_dim * c->slstm.head_dim * (m->fp32_recurrence ? 4 : 2);
    int b, i;
    for (b = 0; b < c->num_blocks; b++) {
        const xlstm__block *blk = &m->blocks[b];
        const xlstm__mat *mats[7];
        mats[0] = &blk->gate_w[0], mats[1] = &blk->gate_w[1], mats[2] = &blk->gate_w[2], mats[3] = &blk->gate_w[3];
        mats[4] = &blk->ffn_gate, mats[5] = &blk->ffn_up, mats[6] = &blk->ffn_down;
        for (i = 0; i < 7; i++)
            bytes += (double)mats[i]->rows * (double)mats[i]->row_bytes +
                     (mats[i]->scale ? (double)mats[i]->rows * (mats[i]->cols / XLSTM__QBLOCK) * sizeof(float) : 0);
    }
    for (i = 0; i < 3; i++)
        bytes += (double)m->tx_in[i].rows * (double)m->tx_in[i].row_bytes +
                 (m->tx_in[i].scale ? (double)m->tx_in[i].rows * (m->tx_in[i].cols / XLSTM__QBLOCK) * sizeof(float) : 0);
    return bytes;
}

static int bench_tirex(xlstm_model *model, const char *name, const char *dtype, int threads, int batch, int horizon,
                       double load_s) {
    const xlstm_config *c = xlstm_model_config(model);
    const int P = c->tirex.patch_size, Q = c->tirex.num_quantiles, T = c->tirex.train_ctx_len;
    const int stream_h = 32;
    /* the stream is primed with the context (at least a window, whole patches),
       then steps patch by patch */
    const size_t prime = (size_t)((TIREX_CONTEXT > T ? TIREX_CONTEXT : T) + P - 1) / (size_t)P * (size_t)P;
    const size_t stream_len = prime + (size_t)TIREX_STEPS * (size_t)P;
    xlstm_state *st = NULL;
    xlstm_error err;
    float **series = (float **)calloc((size_t)batch, sizeof *series), *stream = (float *)malloc(stream_len * sizeof(float));
    float *q = (float *)malloc((size_t)batch * (size_t)horizon * (size_t)Q * sizeof(float));
    float *sq = (float *)malloc((size_t)(stream_h * Q) * sizeof(float));
    size_t *lens = (size_t *)calloc((size_t)batch, sizeof *lens), i, nonfinite = 0;
    double runs[TIREX_RUNS], obs[TIREX_STEPS], fc[TIREX_STEPS], t0, spent, forecast_s, step_s, sfc_s, rss, step_bytes, bw;
    int b, n_runs, n_steps, rc = 1, passes = (horizon + P - 1) / P;
    if (!series || !stream || !q || !sq || !lens) goto out;
    for (b = 0; b < batch; b++) {
        series[b] = (float *)malloc(TIREX_CONTEXT * sizeof(float));
        if (!series[b]) goto out;
        tirex_series(series[b], TIREX_CONTEXT, b);
        lens[b] = TIREX_CONTEXT;
    }
    tirex_series(stream, stream_len, 7);
    if (xlstm_state_create_with_params(model, &state_params, &st, &err)) {
        fprintf(stderr, "xlstm-bench: %s\n", err.message);
        goto out;
    }
    /* forecast: one window first (cold pages and scratch, excluded), then the
       median of up to TIREX_RUNS calls on the whole batch */
    xlstm_forecast(st, (const float *const *)series, lens, 1, 1, q, NULL);
    for (n_runs = 0, spent = 0; n_runs < TIREX_RUNS && (n_runs == 0 || spent < TIREX_BUDGET_S); n_runs++) {
        t0 = now();
        if (xlstm_forecast(st, (const float *const *)series, lens, (size_t)batch, horizon, q, NULL)) {
            fprintf(stderr, "xlstm-bench: xlstm_forecast failed\n");
            goto out;
        }
        runs[n_runs] = now() - t0;
        spent += runs[n_runs];
    }
    forecast_s = median(runs, n_runs);
    for (i = 0; i < (size_t)batch * (size_t)horizon * (size_t)Q; i++) nonfinite += !(q[i] == q[i] && q[i] - q[i] == 0);
    /* streaming: prime, then per patch feed P-1 values untimed and time the
       P-th (one step of the network), then a forecast from the stream */
    xlstm_state_reset(st);
    xlstm_stream_observe(st, stream, prime);
    for (n_steps = 0, spent = 0; n_steps < TIREX_STEPS && (n_steps < 3 || spent < TIREX_BUDGET_S); n_steps++) {
        const float *v = stream + prime + (size_t)n_steps * (size_t)P;
        xlstm_stream_observe(st, v, (size_t)(P - 1));
        t0 = now();
        xlstm_stream_observe(st, v + P - 1, 1);
        obs[n_steps] = now() - t0;
        t0 = now();
        xlstm_stream_forecast(st, stream_h, sq, NULL);
        fc[n_steps] = now() - t0;
        spent += obs[n_steps] + fc[n_steps];
    }
    step_s = median(obs, n_steps);
    sfc_s = median(fc, n_steps);
    for (i = 0; i < (size_t)(stream_h * Q); i++) nonfinite += !(sq[i] == sq[i] && sq[i] - sq[i] == 0);
    rss = peak_rss_mb();
    step_bytes = tirex_step_bytes(model);
    bw = measure_bandwidth_gbs(threads);
    printf("model: %s (TiRex)  params: %.1fM  weights: %.1f MB  blocks: %d x %d (%d heads)  patch: %d  window: %d  "
           "quantiles: %d  kernels: %s\n",
           name, xlstm_model_n_params(model) / 1e6, xlstm_model_weight_bytes(model) / 1e6, (int)c->num_blocks,
           (int)c->embedding_dim, (int)c->slstm.num_heads, P, T, Q, xlstm_model_kernels(model));
    printf("forecast: %d series x %d values, horizon %d (%d window%s each): %.2f ms (median of %d; %.2f ms per series, "
           "%.1f patch tokens/s)\n",
           batch, TIREX_CONTEXT, horizon, passes, passes > 1 ? "s" : "", 1e3 * forecast_s, n_runs, 1e3 * forecast_s / batch,
           (double)batch * passes * (T / P) / forecast_s);
    printf("stream: the observation completing a patch %.3f ms, then a forecast of %d steps %.3f ms (medians of %d, after %lu "
           "values)\n",
           1e3 * step_s, stream_h, 1e3 * sfc_s, n_steps, (unsigned long)prime);
    printf("stream step: %.1f MB of weights, %.3f ms at the %.1f GB/s read bandwidth measured after it (%.0f%% of that roofline)\n",
           step_bytes / 1e6, 1e3 * step_bytes / (bw * 1e9), bw, bw > 0 ? 100.0 * step_bytes / (bw * 1e9) / step_s : 0.0);
    if (nonfinite) printf("warning: %lu forecast values are not finite\n", (unsigned long)nonfinite);
    printf("model=tirex dtype=%s threads=%d batch=%d horizon=%d forecast_ms=%.3f stream_step_ms=%.4f stream_forecast_ms=%.4f "
           "params=%lu weights_mb=%.1f load_s=%.3f rss_mb=%.1f kernels=%s stream_step_mb=%.2f bandwidth_gb_s=%.2f "
           "stream_roofline_share=%.3f\n",
           dtype, threads, batch, horizon, 1e3 * forecast_s, 1e3 * step_s, 1e3 * sfc_s, (unsigned long)xlstm_model_n_params(model),
           xlstm_model_weight_bytes(model) / 1e6, load_s, rss, xlstm_model_kernels(model), step_bytes / 1e6, bw,
           bw > 0 ? step_bytes / (bw * 1e9) / step_s : 0.0);
    rc = nonfinite ? 1 : 0;
out:
    xlstm_state_free(st);
    for (b = 0; series && b < batch; b++) free(series[b]);
    free(series);
    free(stream);
    free(q);
    free(sq);
    free(lens);
    return rc;
}

/* The CPU's name for the tables: /proc/cpuinfo's model name, "unknown" elsewhere. */
static void cpu_model(char *out, size_t n) {
    char line[512];
    FILE *f = fopen("/proc/cpuinfo", "r");
    snprintf(out, n, "unknown");
    if (!f) return;
    while (fgets(line, sizeof line, f)) {
        const char *v = strchr(line, ':');
        if (strncmp(line, "model name", 10) || !v) continue;
        for (v++; *v == ' ' || *v == '\t'; v++) {}
        snprintf(out, n, "%s", v);
        out[strcspn(out, "\n")] = 0;
        break;
    }
    fclose(f);
}

static int usage(void) {
    fprintf(stderr, "usage: xlstm-bench (MODEL | --random tiny|125M|350M|760M|1.3B|xlstm-7b|xlstm-large-tiny|tirex)\n"
                    "                   [--dtype f32|bf16|f16|q8|q4] [-t THREADS]\n"
                    "                   [--batch B] [--tokens N] [--prefill N] [--horizon H (TiRex)]\n"
                    "                   [--kernels auto|scalar|simd|avx2|avx512|avx512vnni]\n"
                    "                   [--save PATH: write the random model to a file and exit] [--no-hugepages] [--fast-prompts]\n"
                    "                   [--pool [SPIN]: parallel loops on a pthread pool through the hook]\n"
                    "       xlstm-bench --cpu: print the CPU's name and exit\n");
    return 2;
}

int main(int argc, char **argv) {
    const char *model_path = NULL, *random_name = NULL, *save_path = NULL;
    int dtype = XLSTM__DT_F32, threads = 1, batch = 1, n_tokens = 32, n_prefill = 512, horizon = 32, i, b;
    int use_pool = 0, pool_spin = 0;
    pool workers;
    xlstm_model_params params = xlstm_model_default_params();
    xlstm_model *model = NULL;
    xlstm_state **states = NULL;
    xlstm_error err;
    unsigned char *buf = NULL;
    size_t buf_size = 0, weight_bytes, state_bytes;
    double t0, load_s, decode_s, prefill_s = 0, bw, upd, roof_tok_s, rss, bytes_per_token, decode_tok_s, prefill_tok_s;
    int32_t *toks;
    const float **lg;
    static const char *dtype_names[] = {"f32", "bf16", "f16", "q8", "q4"};

    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--random") && v) random_name = v, i++;
        else if (!strcmp(a, "--cpu")) {
            char name[256];
            cpu_model(name, sizeof name);
            printf("cpu: %s\n", name);
            return 0;
        } else if (!strcmp(a, "--save") && v) save_path = v, i++;
        else if (!strcmp(a, "--no-hugepages")) use_hugepages = 0;
        else if (!strcmp(a, "--pool")) {
            use_pool = 1;
            if (v && v[0] >= '0' && v[0] <= '9') pool_spin = atoi(v), i++;
        }
        else if (!strcmp(a, "--fast-prompts")) params.fast_prompts = 1;
        else if (!strcmp(a, "--dtype") && v) {
            for (dtype = 0; dtype < 5 && strcmp(v, dtype_names[dtype]); dtype++) {}
            if (dtype == 5) return usage();
            i++;
        } else if ((!strcmp(a, "-t") || !strcmp(a, "--threads")) && v) threads = atoi(v), i++;
        else if (!strcmp(a, "--batch") && v) batch = atoi(v), i++;
        else if (!strcmp(a, "--tokens") && v) n_tokens = atoi(v), i++;
        else if (!strcmp(a, "--prefill") && v) n_prefill = atoi(v), i++;
        else if (!strcmp(a, "--horizon") && v) horizon = atoi(v), i++;
        else if (!strcmp(a, "--kernels") && v) {
            const char *names[] = {"auto", "scalar", "simd", "avx2", "avx512", "avx512vnni"};
            int k;
            for (k = 0; k < 6 && strcmp(v, names[k]); k++) {}
            if (k == 6) return usage();
            params.kernels = (xlstm_kernels)k;
            i++;
        } else if (a[0] != '-' && !model_path) model_path = a;
        else return usage();
    }
    if ((!model_path) == (!random_name) || threads < 1 || batch < 1 || n_tokens < 2 || n_prefill < 0 || horizon < 1) return usage();
    params.alloc_fn = lib_alloc; /* states on huge pages too */
    params.free_fn = lib_free;
    state_params = xlstm_state_default_params();
    if (use_pool) {
        pool_start(&workers, threads - 1, pool_spin);
        state_params.n_threads = threads;
        state_params.parallel_for = pool_parallel_for;
        state_params.parallel_user = &workers;
    }
#ifdef _OPENMP
    omp_set_num_threads(threads);
#else
    if (threads > 1 && !use_pool) fprintf(stderr, "xlstm-bench: built without OpenMP, running on 1 thread (make OPENMP=1)\n");
    if (!use_pool) threads = 1;
#endif
    t0 = now();
    if (random_name) {
        const preset *p = NULL;
        char *cfg;
        for (i = 0; i < (int)(sizeof presets / sizeof presets[0]); i++)
            if (!strcmp(presets[i].name, random_name)) p = &presets[i];
        if (!p && strcmp(random_name, "tirex")) return usage();
        cfg = p ? preset_config(p) : (char *)malloc(sizeof tirex_config);
        if (!p && cfg) memcpy(cfg, tirex_config, sizeof tirex_config);
        buf = random_model(cfg, dtype, &buf_size, &err);
        if (!buf) {
            fprintf(stderr, "xlstm-bench: cannot build the random model\n");
            return 1;
        }
        if (save_path) { /* write it once; later runs mmap the file: xlstm-bench PATH */
            FILE *f = fopen(save_path, "wb");
            if (!f || fwrite(buf, 1, buf_size, f) != buf_size || fclose(f) != 0) {
                fprintf(stderr, "xlstm-bench: cannot write %s\n", save_path);
                return 1;
            }
            printf("wrote %s (%.1f MB)\n", save_path, buf_size / 1e6);
            free(buf);
            free(cfg);
            return 0;
        }
        t0 = now(); /* load time excludes building the random bytes */
        params.borrow_buffer = 1;
        if (xlstm_model_load_from_memory(buf, buf_size, cfg, strlen(cfg), &params, &model, &err)) {
            fprintf(stderr, "xlstm-bench: %s\n", err.message);
            return 1;
        }
        free(cfg);
    } else if (xlstm_model_load(model_path, &params, &model, &err)) {
        fprintf(stderr, "xlstm-bench: %s\n", err.message);
        return 1;
    }
    load_s = now() - t0;
    if (xlstm_model_config(model)->arch == XLSTM_ARCH_TIREX) { /* a forecaster: its own measurements */
        int rc = bench_tirex(model, random_name ? random_name : model_path, random_name ? dtype_names[dtype] : "file", threads,
                             batch, horizon, load_s);
        xlstm_model_free(model);
        free(buf);
        return rc;
    }
    states = (xlstm_state **)calloc((size_t)batch, sizeof *states);
    toks = (int32_t *)calloc((size_t)(batch > n_prefill ? batch : n_prefill) + 1, sizeof(int32_t));
    lg = (const float **)calloc((size_t)batch, sizeof *lg);
    for (b = 0; b < batch; b++)
        if (xlstm_state_create_with_params(model, &state_params, &states[b], &err)) {
            fprintf(stderr, "xlstm-bench: %s\n", err.message);
            return 1;
        }
    weight_bytes = xlstm_model_weight_bytes(model);
    state_bytes = xlstm_state_recurrent_bytes(states[0]);
    /* decode: the first step (cold pages) is excluded */
    for (b = 0; b < batch; b++) toks[b] = (b * 31 + 7) % xlstm_model_config(model)->vocab_size;
    xlstm_step_batch(states, toks, (size_t)batch, lg);
    t0 = now();
    for (i = 0; i < n_tokens; i++) {
        for (b = 0; b < batch; b++) toks[b] = xlstm_argmax(lg[b], xlstm_model_config(model)->vocab_size);
        xlstm_step_batch(states, toks, (size_t)batch, lg);
    }
    decode_s = now() - t0;
    decode_tok_s = (double)n_tokens * batch / decode_s;
    /* a decode step reads every weight once per batch, and reads and writes each state */
    bytes_per_token = (double)weight_bytes / batch + 2.0 * (double)state_bytes;
    if (n_prefill > 0) {
        for (i = 0; i < n_prefill; i++) toks[i] = (i * 7919 + 13) % xlstm_model_config(model)->vocab_size;
        /* a pause between the phases: right after a long decode this VM
           sometimes runs the prompt 15% slower for about a second (cause
           unknown; not the library's state); then one chunk first touches
           the state's prompt scratch (cold pages, excluded as the decode's
           first step is) */
        {
            double t_pause = now();
            while (now() - t_pause < 1.0) {}
        }
        xlstm_prefill(states[0], toks, (size_t)(n_prefill < XLSTM_PREFILL_ROWS ? n_prefill : XLSTM_PREFILL_ROWS), NULL, NULL);
        /* the median of three runs: a single second-long run on this VM
           moves by 15% from one to the next */
        {
            double runs[3], tmp;
            int r, q;
            for (r = 0; r < 3; r++) {
                xlstm_state_reset(states[0]);
                t0 = now();
                xlstm_prefill(states[0], toks, (size_t)n_prefill, NULL, NULL);
                runs[r] = now() - t0;
                for (q = r; q > 0 && runs[q] < runs[q - 1]; q--) tmp = runs[q], runs[q] = runs[q - 1], runs[q - 1] = tmp;
            }
            prefill_s = runs[1];
        }
    }
    prefill_tok_s = n_prefill > 0 ? n_prefill / prefill_s : 0;
    rss = peak_rss_mb();
    bw = measure_bandwidth_gbs(threads);
    upd = measure_update_gbs(threads);
    /* the roofline: every weight once per batch at the read rate, each state read and written at the update rate */
    roof_tok_s = bw > 0 && upd > 0 ? batch / ((double)weight_bytes / (bw * 1e9) + batch * 2.0 * (double)state_bytes / (upd * 1e9)) : 0;
    printf("model: %s  params: %.1fM  weights: %.1f MB  state: %.2f MB  kernels: %s  fast prompts: %s\n",
           random_name ? random_name : model_path, xlstm_model_n_params(model) / 1e6, weight_bytes / 1e6,
           state_bytes / 1e6, xlstm_model_kernels(model), params.fast_prompts ? "on" : "off");
    printf("decode: %.2f tok/s (batch %d, %d threads)  effective %.1f GB/s of %.1f GB/s read bandwidth (%.0f%%)\n",
           decode_tok_s, batch, threads, bytes_per_token * decode_tok_s / 1e9, bw,
           100.0 * bytes_per_token * decode_tok_s / 1e9 / bw);
    printf("roofline: weights at %.1f GB/s read + state at %.1f GB/s in-place update (both ways) = %.1f tok/s; decode is %.0f%% of it\n",
           bw, upd, roof_tok_s, roof_tok_s > 0 ? 100.0 * decode_tok_s / roof_tok_s : 0.0);
    printf("prefill: %d tokens in %.3f s = %.1f tok/s (%.1fx decode)\n", n_prefill, prefill_s, prefill_tok_s,
           prefill_tok_s / (decode_tok_s / batch));
    printf("dtype=%s threads=%d batch=%d bytes_per_token=%.0f decode_tok_s=%.3f prefill_tok_s=%.3f bandwidth_gb_s=%.2f "
           "effective_gb_s=%.2f load_s=%.3f rss_mb=%.1f kernels=%s update_gb_s=%.2f roofline_tok_s=%.2f roofline_share=%.3f "
           "fast_prompts=%d\n",
           random_name ? dtype_names[dtype] : "file", threads, batch, bytes_per_token, decode_tok_s, prefill_tok_s, bw,
           bytes_per_token * decode_tok_s / 1e9, load_s, rss, xlstm_model_kernels(model), upd, roof_tok_s,
           roof_tok_s > 0 ? decode_tok_s / roof_tok_s : 0.0, params.fast_prompts);
    for (b = 0; b < batch; b++) xlstm_state_free(states[b]);
    xlstm_model_free(model);
    free(buf);
    free(states);
    free(toks);
    free((void *)lg);
    return 0;
}
