/* xlstm.h - run xLSTM language models in plain C99.        v0.1.0
   Single-file library; MIT license at the end of this file.

   USAGE
     In exactly one C or C++ file:
         #define XLSTM_IMPLEMENTATION
         #include "xlstm.h"
     Everywhere else just #include "xlstm.h". Link with -lm.

   QUICK START
     xlstm_model *model; xlstm_state *state; xlstm_error err;
     const float *logits;
     int32_t prompt[3] = {72, 105, 33};
     if (xlstm_model_load("models/tiny-shakespeare", NULL, &model, &err)) {
         fprintf(stderr, "%s\n", err.message); return 1;
     }
     xlstm_state_create(model, &state, &err);
     xlstm_prefill(state, prompt, 3, NULL, &logits);   // logits after "Hi!"
     int32_t next = xlstm_argmax(logits, xlstm_model_config(model)->vocab_size);
     xlstm_step(state, next, &logits);                 // feed it back
     xlstm_state_free(state);
     xlstm_model_free(model);

   COMPILE-TIME OPTIONS (define before including the implementation)
     XLSTM_STATIC            make every function static to this translation unit
     XLSTM_MALLOC/XLSTM_FREE replace malloc/free (define both or neither)
     XLSTM_ASSERT(x)         internal invariant check (default: assert)
     XLSTM_MAX_DIM           cap on any model dimension (default 1<<20)
     XLSTM_MAX_BLOCKS        cap on the number of blocks (default 1024)

   THREADING & MEMORY
     A loaded xlstm_model is immutable: share one `const xlstm_model *` between
     any number of threads. Everything mutable (recurrent memories, scratch,
     logits) lives in an xlstm_state, one per sequence, owned by the caller.
     Only load and create allocate; xlstm_step and xlstm_prefill never do.
     The library keeps no global or thread-local state and never prints.

   FILE FORMATS
     A model is either
       - a directory holding config.json and model.safetensors, or
       - one .safetensors file whose __metadata__ has the config JSON as the
         string value of the key "xlstm_config".
     config.json is NX-AI xlstm's xLSTMLMModelConfig as JSON (the keys of its
     dataclasses and YAML files: mlstm_block.mlstm.*, slstm_block.slstm.*,
     slstm_block.feedforward.*, num_blocks, embedding_dim, slstm_at, vocab_size,
     tie_weights, add_post_blocks_norm, bias, ...). Absent keys take the
     reference defaults; unknown keys are ignored.
     model.safetensors holds the reference state_dict under its own names
     (token_embedding.weight, xlstm_block_stack.blocks.N.*, lm_head.weight) in
     F32, BF16 or F16. The sLSTM recurrent kernel and bias are accepted in the
     layout of either reference backend, chosen by slstm.backend ("cuda",
     the default, or "vanilla"). Every tensor is checked for presence, dtype,
     shape and bounds; unexpected tensors are an error.

   RECENT CHANGES
     0.1.0  first release: the 2024 xLSTM LM (mLSTM + sLSTM blocks).
*/
#ifndef XLSTM_H
#define XLSTM_H

#include <stddef.h>
#include <stdint.h>

#define XLSTM_VERSION_MAJOR 0
#define XLSTM_VERSION_MINOR 1
#define XLSTM_VERSION_PATCH 0
#define XLSTM_VERSION_STRING "0.1.0"

#ifndef XLSTMDEF
#if defined(XLSTM_STATIC) && defined(__GNUC__)
#define XLSTMDEF static __attribute__((unused)) /* unused API is no warning */
#elif defined(XLSTM_STATIC)
#define XLSTMDEF static
#else
#define XLSTMDEF extern
#endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- status codes ------------------------------------------------------ */
typedef enum xlstm_status {
    XLSTM_OK = 0,
    XLSTM_ERR_ARG = -1,          /* bad argument (NULL pointer, bad size)    */
    XLSTM_ERR_IO = -2,           /* a file could not be opened or read       */
    XLSTM_ERR_NOMEM = -3,        /* allocation failed                        */
    XLSTM_ERR_JSON = -4,         /* malformed JSON (config or header)        */
    XLSTM_ERR_CONFIG = -5,       /* config values invalid or inconsistent    */
    XLSTM_ERR_FORMAT = -6,       /* malformed safetensors container          */
    XLSTM_ERR_TRUNCATED = -7,    /* file shorter than its header says        */
    XLSTM_ERR_MISSING = -8,      /* a tensor the config needs is absent      */
    XLSTM_ERR_SHAPE = -9,        /* a tensor has the wrong shape             */
    XLSTM_ERR_DTYPE = -10,       /* a tensor has an unsupported dtype        */
    XLSTM_ERR_UNEXPECTED = -11,  /* the file holds a tensor nobody asked for */
    XLSTM_ERR_UNSUPPORTED = -12, /* valid but not supported by this version  */
    XLSTM_ERR_TOKEN = -13,       /* token id outside [0, vocab_size)         */
    XLSTM_ERR_VALUE = -14        /* non-finite value in weights or state     */
} xlstm_status;

/* Optional error report: receives the status and a message naming the culprit. */
typedef struct xlstm_error {
    xlstm_status status;
    char message[256];
} xlstm_error;

XLSTMDEF const char *xlstm_status_string(xlstm_status status);

/* ---- opaque types ------------------------------------------------------ */
typedef struct xlstm_model xlstm_model; /* immutable weights + config      */
typedef struct xlstm_state xlstm_state; /* one sequence's mutable state    */

/* ---- the configuration, as read and derived from config.json ----------- */
#ifndef XLSTM_MAX_BLOCKS
#define XLSTM_MAX_BLOCKS 1024
#endif

typedef enum xlstm_block_kind { XLSTM_BLOCK_MLSTM = 0, XLSTM_BLOCK_SLSTM = 1 } xlstm_block_kind;

typedef enum xlstm_act {
    XLSTM_ACT_GELU = 0, /* exact erf form */
    XLSTM_ACT_SWISH,
    XLSTM_ACT_RELU,
    XLSTM_ACT_RELU2,
    XLSTM_ACT_SIGMOID,
    XLSTM_ACT_SELU
} xlstm_act;

typedef enum xlstm_arch {
    XLSTM_ARCH_XLSTM = 0, /* the 2024 paper's LM: NX-AI xlstm's xLSTMLMModel */
    XLSTM_ARCH_LARGE = 1  /* "xLSTM Large": NX-AI/xLSTM-7b, Hugging Face model_type "xlstm" */
} xlstm_arch;

typedef struct xlstm_config {
    int32_t arch; /* xlstm_arch; the fields of the other architecture are zero */
    int32_t vocab_size;
    int32_t embedding_dim;
    int32_t num_blocks;
    int32_t context_length; /* informational: the recurrence has no limit */
    int32_t tie_weights;
    int32_t add_post_blocks_norm;
    int32_t bias; /* biases in the mLSTM projections */
    struct {      /* mLSTM layer (pre up-projection block) */
        double proj_factor;
        int32_t round_proj_up_dim_up, round_proj_up_to_multiple_of;
        int32_t inner_dim; /* derived: proj_factor * embedding_dim, rounded */
        int32_t num_heads, head_dim;
        int32_t conv1d_kernel_size; /* 0 = no convolution */
        int32_t qkv_proj_blocksize; /* as configured */
        int32_t qkv_num_blocks;     /* derived: inner_dim / qkv_proj_blocksize */
    } mlstm;
    struct { /* sLSTM layer (post up-projection block) */
        int32_t num_heads, head_dim;
        int32_t conv1d_kernel_size;
        int32_t group_norm_weight;
        int32_t backend_cuda;  /* 1: tensors stored in the cuda backend's layout */
        int32_t function_lstm; /* 1: the plain "lstm" pointwise function */
    } slstm;
    struct { /* the sLSTM block's gated feed-forward */
        int32_t present;
        double proj_factor;
        int32_t round_proj_up_dim_up, round_proj_up_to_multiple_of;
        int32_t proj_up_dim; /* derived */
        int32_t act_fn;      /* xlstm_act */
        int32_t bias;
    } ffn;
    struct { /* xLSTM Large (7B): every block is mLSTM + SwiGLU feed-forward */
        int32_t num_heads;
        int32_t qk_dim, v_dim;           /* derived: int(embedding_dim * factor) */
        int32_t qk_head_dim, v_head_dim; /* derived */
        int32_t ffn_dim;                 /* derived: rounded up to ffn_round_up_to_multiple_of */
        float gate_soft_cap;             /* <= 0: none */
        float logit_soft_cap;            /* <= 0: none */
        float norm_eps, eps;
        int32_t use_bias;
        int32_t fused; /* weight_mode "fused": q|k|v|o, i|f and gate|up stored stacked */
        int32_t add_out_norm;
        int32_t bos_token_id, eos_token_id, pad_token_id;
    } large;
    uint8_t block_kind[XLSTM_MAX_BLOCKS]; /* xlstm_block_kind per block */
} xlstm_config;

/* ---- model ------------------------------------------------------------- */
/* Compute kernels. AUTO picks the best the CPU supports at load time; the
   others force a level (XLSTM_ERR_UNSUPPORTED if this CPU or build lacks it).
   SCALAR is the plain-C reference every other level is tested against. */
typedef enum xlstm_kernels {
    XLSTM_KERNELS_AUTO = 0,
    XLSTM_KERNELS_SCALAR,
    XLSTM_KERNELS_SIMD,   /* portable vectors: SSE2 on x86-64, NEON on ARM, SIMD128 on wasm */
    XLSTM_KERNELS_AVX2,   /* x86-64 with AVX2 + FMA */
    XLSTM_KERNELS_AVX512  /* x86-64 with AVX-512 F/BW/VL */
} xlstm_kernels;

typedef struct xlstm_model_params {
    /* Run-time allocator; NULL uses XLSTM_MALLOC/XLSTM_FREE. */
    void *(*alloc_fn)(size_t size, void *user);
    void (*free_fn)(void *ptr, void *user);
    void *alloc_user;
    xlstm_kernels kernels;
    /* xlstm_model_load_from_memory only: 1 = use the caller's safetensors
       buffer in place (it must outlive the model); 0 = copy it. */
    int borrow_buffer;
    /* 1 = skip the load-time scan for NaN/Inf weights (faster load). */
    int skip_value_check;
} xlstm_model_params;

XLSTMDEF xlstm_model_params xlstm_model_default_params(void);

#ifndef XLSTM_NO_STDIO
/* Load from a directory (config.json + model.safetensors, or Hugging Face
   shards listed in model.safetensors.index.json) or from one .safetensors
   file carrying its config in __metadata__["xlstm_config"]. On success
   *out_model is set and XLSTM_OK returned; on failure *out_model is NULL,
   nothing leaks, and err (optional) names the culprit. */
XLSTMDEF xlstm_status xlstm_model_load(const char *path, const xlstm_model_params *params,
                                       xlstm_model **out_model, xlstm_error *err);
#endif
/* Same, from memory. config_json may be NULL when the safetensors metadata
   carries the config. The buffers may be freed once this returns. */
XLSTMDEF xlstm_status xlstm_model_load_from_memory(const void *safetensors, size_t safetensors_size,
                                                   const char *config_json, size_t config_json_size,
                                                   const xlstm_model_params *params,
                                                   xlstm_model **out_model, xlstm_error *err);
XLSTMDEF void xlstm_model_free(xlstm_model *model);
XLSTMDEF const xlstm_config *xlstm_model_config(const xlstm_model *model);
/* Number of parameters (tied embedding counted once). */
XLSTMDEF size_t xlstm_model_n_params(const xlstm_model *model);
/* Bytes of weights a decode step reads (every matrix once, in its stored type). */
XLSTMDEF size_t xlstm_model_weight_bytes(const xlstm_model *model);
/* Name of the kernel level in use: "scalar", "simd", "avx2" or "avx512". */
XLSTMDEF const char *xlstm_model_kernels(const xlstm_model *model);

/* ---- memory without a heap ------------------------------------------------
   An arena hands out pieces of one caller buffer (a static array, a region of
   SRAM); pass xlstm_arena_params(&arena) to the loader, and states created
   from that model come from the same arena. Initialised with a NULL buffer,
   the arena measures instead: it allocates with XLSTM_MALLOC but counts
   exactly what a real arena would need, in `peak`. */
typedef struct xlstm_arena {
    unsigned char *base;
    size_t size, used, peak;
} xlstm_arena;
XLSTMDEF void xlstm_arena_init(xlstm_arena *arena, void *buffer, size_t size);
XLSTMDEF xlstm_model_params xlstm_arena_params(xlstm_arena *arena);

/* ---- state ------------------------------------------------------------- */
XLSTMDEF xlstm_status xlstm_state_create(const xlstm_model *model, xlstm_state **out_state, xlstm_error *err);
XLSTMDEF void xlstm_state_reset(xlstm_state *state); /* back to the empty sequence */
/* dst and src must come from the same model. */
XLSTMDEF xlstm_status xlstm_state_copy(xlstm_state *dst, const xlstm_state *src);
XLSTMDEF void xlstm_state_free(xlstm_state *state);
/* Serialise the recurrent state: a blob with magic, version and a fingerprint
   of the model's shape, so it cannot be restored into a different model. */
XLSTMDEF size_t xlstm_state_blob_size(const xlstm_state *state);
XLSTMDEF xlstm_status xlstm_state_save(const xlstm_state *state, void *dst, size_t dst_size);
XLSTMDEF xlstm_status xlstm_state_restore(xlstm_state *state, const void *src, size_t src_size);

/* ---- inference --------------------------------------------------------- */
/* Feed one token; *logits (vocab_size floats, owned by the state) receives
   the next-token logits and stays valid until the next call on this state.
   A token outside [0, vocab_size) returns XLSTM_ERR_TOKEN and leaves the
   state untouched. */
XLSTMDEF xlstm_status xlstm_step(xlstm_state *state, int32_t token, const float **logits);
/* Feed n tokens; equal to n calls of xlstm_step. all_logits (optional,
   n * vocab_size floats) receives every position's logits; *last_logits
   (optional) the last position's. Every token is checked before any is fed. */
XLSTMDEF xlstm_status xlstm_prefill(xlstm_state *state, const int32_t *tokens, size_t n,
                                    float *all_logits, const float **last_logits);
/* Step n independent sequences at once, one token each, reading the weights
   once for all of them (many NPCs, or a server's requests). states[i] must be
   distinct states of one model; logits[i] (optional) receives states[i]'s
   logits. Equal to xlstm_step on each. */
XLSTMDEF xlstm_status xlstm_step_batch(xlstm_state *const *states, const int32_t *tokens, size_t n,
                                       const float **logits);
/* Bytes of recurrent state (what save/restore carries) and of the whole state object. */
XLSTMDEF size_t xlstm_state_recurrent_bytes(const xlstm_state *state);

/* ---- sampling ---------------------------------------------------------- */
/* Index of the largest logit (the first on ties); -1 when n <= 0. */
XLSTMDEF int32_t xlstm_argmax(const float *logits, int32_t n);

/* A sampler is a plain value: settings plus its own RNG, so two samplers never
   share randomness and a fixed seed replays the same sequence. Filters apply in
   this order: repetition penalty, temperature, top-k, top-p, min-p. */
typedef struct xlstm_sampler {
    float temperature;     /* <= 0: greedy (argmax after the penalty)          */
    int32_t top_k;         /* keep the k most likely tokens; <= 0: off          */
    float top_p;           /* keep the smallest set with mass >= p; >= 1: off   */
    float min_p;           /* drop tokens below min_p * max prob; <= 0: off     */
    float repeat_penalty;  /* divide positive / multiply negative logits of
                              recent tokens (CTRL-style); 1: off               */
    int32_t repeat_last_n; /* how many recent tokens the penalty looks at      */
    uint64_t rng;          /* RNG state; set by xlstm_sampler_init             */
} xlstm_sampler;

/* Defaults: temperature 0.8, top-k 40, top-p 0.95, min-p 0.05, repeat penalty
   1.0 over the last 64 tokens, RNG seeded with seed. */
XLSTMDEF xlstm_sampler xlstm_sampler_init(uint64_t seed);
/* Bytes of scratch xlstm_sample needs for a vocabulary of n_vocab. */
XLSTMDEF size_t xlstm_sampler_work_size(int32_t n_vocab);
/* Draw a token from logits (never modified). recent (optional) holds the
   n_recent previous tokens, oldest first, for the repetition penalty. work is
   caller scratch of xlstm_sampler_work_size(n_vocab) bytes, so sampling never
   allocates. Returns the token, or -1 on bad arguments. */
XLSTMDEF int32_t xlstm_sample(xlstm_sampler *sampler, const float *logits, int32_t n_vocab, const int32_t *recent,
                              size_t n_recent, void *work);
/* Uniform float in [0, 1) from the sampler's RNG (PCG32). */
XLSTMDEF float xlstm_sampler_uniform(xlstm_sampler *sampler);

#ifdef __cplusplus
}
#endif
#endif /* XLSTM_H */

/* ======================================================================== */
#ifdef XLSTM_IMPLEMENTATION
#ifndef XLSTM_IMPLEMENTATION_DONE
#define XLSTM_IMPLEMENTATION_DONE

#include <math.h>
#include <stdarg.h>
#ifndef XLSTM_NO_STDIO
#include <stdio.h>
#endif
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#if defined(XLSTM_NO_MALLOC) && !defined(XLSTM_MALLOC)
#define XLSTM_MALLOC(sz) ((void)(sz), (void *)0) /* every allocation must come from params (an arena) */
#define XLSTM_FREE(p) ((void)(p))
#endif
#if defined(XLSTM_MALLOC) != defined(XLSTM_FREE)
#error "define both XLSTM_MALLOC and XLSTM_FREE, or neither"
#endif
#ifndef XLSTM_MALLOC
#define XLSTM_MALLOC(sz) malloc(sz)
#define XLSTM_FREE(p) free(p)
#endif
#ifndef XLSTM_ASSERT
#include <assert.h>
#define XLSTM_ASSERT(x) assert(x)
#endif
#ifndef XLSTM_MAX_DIM
#define XLSTM_MAX_DIM (1 << 20)
#endif
#define XLSTM__MAX_JSON_DEPTH 64

#ifdef __cplusplus
#define XLSTM__CAST(T, x) static_cast<T>(x)
#define XLSTM__BYTES_AS_CHARS(x) reinterpret_cast<const char *>(x)
#define XLSTM__ADDR(p) reinterpret_cast<uintptr_t>(p)
#else
#define XLSTM__BYTES_AS_CHARS(x) ((const char *)(x))
#define XLSTM__ADDR(p) ((uintptr_t)(const void *)(p))
#define XLSTM__CAST(T, x) ((T)(x))
#endif

/* ---- errors and allocation --------------------------------------------- */

XLSTMDEF const char *xlstm_status_string(xlstm_status s) {
    switch (s) {
    case XLSTM_OK: return "ok";
    case XLSTM_ERR_ARG: return "invalid argument";
    case XLSTM_ERR_IO: return "I/O error";
    case XLSTM_ERR_NOMEM: return "out of memory";
    case XLSTM_ERR_JSON: return "malformed JSON";
    case XLSTM_ERR_CONFIG: return "invalid config";
    case XLSTM_ERR_FORMAT: return "malformed safetensors file";
    case XLSTM_ERR_TRUNCATED: return "truncated file";
    case XLSTM_ERR_MISSING: return "missing tensor";
    case XLSTM_ERR_SHAPE: return "tensor shape mismatch";
    case XLSTM_ERR_DTYPE: return "unsupported tensor dtype";
    case XLSTM_ERR_UNEXPECTED: return "unexpected tensor";
    case XLSTM_ERR_UNSUPPORTED: return "unsupported feature";
    case XLSTM_ERR_TOKEN: return "token id out of range";
    case XLSTM_ERR_VALUE: return "non-finite value";
    }
    return "unknown status";
}

/* A small formatter for messages and names (%s %d %u %ld %lu %lld %llu %%),
   so the library needs no stdio; output is always NUL-terminated. */
static size_t xlstm__vfmt(char *buf, size_t cap, const char *fmt, va_list ap) {
    size_t o = 0;
    if (!cap) return 0;
#define XLSTM__PUT(c)                   \
    do {                                \
        if (o + 1 < cap) buf[o++] = (c); \
    } while (0)
    for (; *fmt; fmt++) {
        char num[24];
        int n = 0, longs = 0, is_signed = 1;
        unsigned long long u = 0;
        const char *str;
        if (*fmt != '%') {
            XLSTM__PUT(*fmt);
            continue;
        }
        fmt++;
        while (*fmt == 'l') longs++, fmt++;
        switch (*fmt) {
        case 's':
            for (str = va_arg(ap, const char *); str && *str; str++) XLSTM__PUT(*str);
            continue;
        case '%': XLSTM__PUT('%'); continue;
        case 'u': is_signed = 0; /* fall through */
        case 'd': {
            long long v;
            if (longs >= 2) v = is_signed ? va_arg(ap, long long) : XLSTM__CAST(long long, va_arg(ap, unsigned long long));
            else if (longs == 1) v = is_signed ? va_arg(ap, long) : XLSTM__CAST(long long, va_arg(ap, unsigned long));
            else v = is_signed ? va_arg(ap, int) : XLSTM__CAST(long long, va_arg(ap, unsigned int));
            if (!is_signed && longs >= 2) u = XLSTM__CAST(unsigned long long, v);
            else if (v < 0) {
                XLSTM__PUT('-');
                u = 0ull - XLSTM__CAST(unsigned long long, v);
            } else {
                u = XLSTM__CAST(unsigned long long, v);
            }
            do num[n++] = XLSTM__CAST(char, '0' + u % 10); while ((u /= 10) != 0);
            while (n) XLSTM__PUT(num[--n]);
            continue;
        }
        default:
            if (!*fmt) fmt--;
            continue;
        }
    }
#undef XLSTM__PUT
    buf[o] = 0;
    return o;
}

static size_t xlstm__fmt(char *buf, size_t cap, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static size_t xlstm__fmt(char *buf, size_t cap, const char *fmt, ...) {
    va_list ap;
    size_t n;
    va_start(ap, fmt);
    n = xlstm__vfmt(buf, cap, fmt, ap);
    va_end(ap);
    return n;
}

static xlstm_status xlstm__fail(xlstm_error *err, xlstm_status s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static xlstm_status xlstm__fail(xlstm_error *err, xlstm_status s, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->status = s;
        xlstm__vfmt(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return s;
}

typedef struct xlstm__alloc {
    void *(*alloc_fn)(size_t, void *);
    void (*free_fn)(void *, void *);
    void *user;
} xlstm__alloc;

static void *xlstm__malloc(const xlstm__alloc *a, size_t n) {
    if (n == 0) n = 1;
    return a->alloc_fn ? a->alloc_fn(n, a->user) : XLSTM_MALLOC(n);
}
static void xlstm__free(const xlstm__alloc *a, void *p) {
    if (!p) return;
    if (a->free_fn) a->free_fn(p, a->user);
    else XLSTM_FREE(p);
}

/* Arena: a bump allocator. Each piece has a 16-byte header remembering where
   the arena stood before it, so freeing the newest piece gives its space back
   (the loader frees its temporaries in that order where it can). */
typedef struct xlstm__arena_hdr {
    size_t before, end;
    unsigned char pad[16 - 2 * sizeof(size_t) > 0 ? 16 - 2 * sizeof(size_t) : 1];
} xlstm__arena_hdr;

static void *xlstm__arena_alloc(size_t n, void *user) {
    xlstm_arena *a = XLSTM__CAST(xlstm_arena *, user);
    size_t start = (a->used + 15) & ~XLSTM__CAST(size_t, 15), need = 16 + ((n + 15) & ~XLSTM__CAST(size_t, 15));
    unsigned char *p;
    xlstm__arena_hdr h;
    if (n > SIZE_MAX - 64 || start + need < start) return NULL;
    if (a->base) {
        if (start + need > a->size) return NULL;
        p = a->base + start;
    } else {
        p = XLSTM__CAST(unsigned char *, XLSTM_MALLOC(need)); /* measuring */
        if (!p) return NULL;
    }
    h.before = a->used;
    h.end = start + need;
    memcpy(p, &h, sizeof h < 16 ? sizeof h : 16);
    a->used = start + need;
    if (a->used > a->peak) a->peak = a->used;
    return p + 16;
}

static void xlstm__arena_free(void *ptr, void *user) {
    xlstm_arena *a = XLSTM__CAST(xlstm_arena *, user);
    unsigned char *p = XLSTM__CAST(unsigned char *, ptr) - 16;
    xlstm__arena_hdr h;
    memcpy(&h, p, sizeof h < 16 ? sizeof h : 16);
    if (h.end == a->used) a->used = h.before;
    if (!a->base) XLSTM_FREE(p);
}

XLSTMDEF void xlstm_arena_init(xlstm_arena *a, void *buffer, size_t size) {
    if (!a) return;
    a->base = XLSTM__CAST(unsigned char *, buffer);
    a->size = buffer ? size : 0;
    a->used = 0;
    a->peak = 0;
    /* 16-byte alignment for what we hand out */
    if (a->base && XLSTM__ADDR(a->base) % 16) {
        size_t skip = 16 - XLSTM__CAST(size_t, XLSTM__ADDR(a->base) % 16);
        a->used = a->peak = skip < a->size ? skip : a->size;
    }
}

/* Checked size arithmetic: every size derived from a file goes through these. */
static int xlstm__mul(size_t a, size_t b, size_t *out) {
    if (a != 0 && b > SIZE_MAX / a) return 0;
    *out = a * b;
    return 1;
}
static int xlstm__add(size_t a, size_t b, size_t *out) {
    if (b > SIZE_MAX - a) return 0;
    *out = a + b;
    return 1;
}

/* ---- a small JSON parser (DOM of tokens, jsmn-like) --------------------- */

enum { XLSTM__J_NULL, XLSTM__J_BOOL, XLSTM__J_NUM, XLSTM__J_STR, XLSTM__J_ARR, XLSTM__J_OBJ };

typedef struct xlstm__jtok {
    uint8_t type;
    uint8_t truth;  /* for BOOL */
    uint32_t start; /* byte range in the text; strings exclude the quotes */
    uint32_t end;
    uint32_t count; /* ARR: elements; OBJ: key/value pairs */
    uint32_t next;  /* index of the token after this whole subtree */
} xlstm__jtok;

typedef struct xlstm__json {
    const char *text;
    size_t len;
    xlstm__jtok *tok; /* NULL during the counting pass */
    uint32_t n, cap;
    size_t pos;
} xlstm__json;

static void xlstm__jskip_ws(xlstm__json *j) {
    while (j->pos < j->len) {
        char c = j->text[j->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        j->pos++;
    }
}

static int xlstm__jhex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int xlstm__jvalue(xlstm__json *j, int depth);

static int xlstm__jnew(xlstm__json *j, int type, size_t start, uint32_t *idx) {
    if (j->n == UINT32_MAX || start > UINT32_MAX) return 0;
    *idx = j->n++;
    if (j->tok) {
        xlstm__jtok *t;
        if (*idx >= j->cap) return 0;
        t = &j->tok[*idx];
        memset(t, 0, sizeof *t);
        t->type = XLSTM__CAST(uint8_t, type);
        t->start = XLSTM__CAST(uint32_t, start);
    }
    return 1;
}

static int xlstm__jstring(xlstm__json *j) {
    uint32_t idx;
    size_t start;
    j->pos++; /* opening quote */
    start = j->pos;
    while (j->pos < j->len) {
        unsigned char c = XLSTM__CAST(unsigned char, j->text[j->pos]);
        if (c == '"') break;
        if (c < 0x20) return 0;
        if (c == '\\') {
            if (++j->pos >= j->len) return 0;
            c = XLSTM__CAST(unsigned char, j->text[j->pos]);
            if (c == 'u') {
                int k;
                for (k = 1; k <= 4; k++)
                    if (j->pos + k >= j->len || xlstm__jhex(j->text[j->pos + k]) < 0) return 0;
                j->pos += 4;
            } else if (!strchr("\"\\/bfnrt", c) || c == 0) {
                return 0;
            }
        }
        j->pos++;
    }
    if (j->pos >= j->len) return 0;
    if (!xlstm__jnew(j, XLSTM__J_STR, start, &idx)) return 0;
    if (j->tok) {
        j->tok[idx].end = XLSTM__CAST(uint32_t, j->pos);
        j->tok[idx].next = j->n;
    }
    j->pos++; /* closing quote */
    return 1;
}

static int xlstm__jnumber(xlstm__json *j) {
    uint32_t idx;
    size_t start = j->pos, digits = 0;
    if (j->text[j->pos] == '-') j->pos++;
    while (j->pos < j->len && j->text[j->pos] >= '0' && j->text[j->pos] <= '9') j->pos++, digits++;
    if (!digits) return 0;
    if (j->pos < j->len && j->text[j->pos] == '.') {
        j->pos++;
        digits = 0;
        while (j->pos < j->len && j->text[j->pos] >= '0' && j->text[j->pos] <= '9') j->pos++, digits++;
        if (!digits) return 0;
    }
    if (j->pos < j->len && (j->text[j->pos] == 'e' || j->text[j->pos] == 'E')) {
        j->pos++;
        if (j->pos < j->len && (j->text[j->pos] == '+' || j->text[j->pos] == '-')) j->pos++;
        digits = 0;
        while (j->pos < j->len && j->text[j->pos] >= '0' && j->text[j->pos] <= '9') j->pos++, digits++;
        if (!digits) return 0;
    }
    if (j->pos - start > 64) return 0; /* no config number needs more */
    if (!xlstm__jnew(j, XLSTM__J_NUM, start, &idx)) return 0;
    if (j->tok) {
        j->tok[idx].end = XLSTM__CAST(uint32_t, j->pos);
        j->tok[idx].next = j->n;
    }
    return 1;
}

static int xlstm__jliteral(xlstm__json *j, const char *word, int type, int truth) {
    size_t n = strlen(word);
    uint32_t idx;
    if (j->len - j->pos < n || memcmp(j->text + j->pos, word, n) != 0) return 0;
    if (!xlstm__jnew(j, type, j->pos, &idx)) return 0;
    j->pos += n;
    if (j->tok) {
        j->tok[idx].truth = XLSTM__CAST(uint8_t, truth);
        j->tok[idx].end = XLSTM__CAST(uint32_t, j->pos);
        j->tok[idx].next = j->n;
    }
    return 1;
}

static int xlstm__jcontainer(xlstm__json *j, int depth, int is_obj) {
    uint32_t idx, count = 0;
    if (depth >= XLSTM__MAX_JSON_DEPTH) return 0;
    if (!xlstm__jnew(j, is_obj ? XLSTM__J_OBJ : XLSTM__J_ARR, j->pos, &idx)) return 0;
    j->pos++;
    xlstm__jskip_ws(j);
    if (j->pos < j->len && j->text[j->pos] == (is_obj ? '}' : ']')) {
        j->pos++;
    } else {
        for (;;) {
            xlstm__jskip_ws(j);
            if (is_obj) {
                if (j->pos >= j->len || j->text[j->pos] != '"' || !xlstm__jstring(j)) return 0;
                xlstm__jskip_ws(j);
                if (j->pos >= j->len || j->text[j->pos] != ':') return 0;
                j->pos++;
            }
            if (!xlstm__jvalue(j, depth + 1)) return 0;
            if (count == UINT32_MAX) return 0;
            count++;
            xlstm__jskip_ws(j);
            if (j->pos >= j->len) return 0;
            if (j->text[j->pos] == ',') {
                j->pos++;
                continue;
            }
            if (j->text[j->pos] != (is_obj ? '}' : ']')) return 0;
            j->pos++;
            break;
        }
    }
    if (j->tok) {
        j->tok[idx].end = XLSTM__CAST(uint32_t, j->pos);
        j->tok[idx].count = count;
        j->tok[idx].next = j->n;
    }
    return 1;
}

static int xlstm__jvalue(xlstm__json *j, int depth) {
    char c;
    xlstm__jskip_ws(j);
    if (j->pos >= j->len) return 0;
    c = j->text[j->pos];
    switch (c) {
    case '{': return xlstm__jcontainer(j, depth, 1);
    case '[': return xlstm__jcontainer(j, depth, 0);
    case '"': return xlstm__jstring(j);
    case 't': return xlstm__jliteral(j, "true", XLSTM__J_BOOL, 1);
    case 'f': return xlstm__jliteral(j, "false", XLSTM__J_BOOL, 0);
    case 'n': return xlstm__jliteral(j, "null", XLSTM__J_NULL, 0);
    default:
        if (c == '-' || (c >= '0' && c <= '9')) return xlstm__jnumber(j);
        return 0;
    }
}

/* Two passes: count tokens, then fill an exactly sized array. */
static xlstm_status xlstm__json_parse(xlstm__json *j, const xlstm__alloc *a, const char *text, size_t len,
                                      const char *what, xlstm_error *err) {
    size_t bytes;
    memset(j, 0, sizeof *j);
    j->text = text;
    j->len = len;
    if (len >= UINT32_MAX) return xlstm__fail(err, XLSTM_ERR_JSON, "%s: JSON larger than 4 GB", what);
    if (!xlstm__jvalue(j, 0)) goto bad;
    xlstm__jskip_ws(j);
    if (j->pos != len) goto bad;
    if (!xlstm__mul(j->n, sizeof(xlstm__jtok), &bytes))
        return xlstm__fail(err, XLSTM_ERR_NOMEM, "%s: JSON too large", what);
    j->cap = j->n;
    j->tok = XLSTM__CAST(xlstm__jtok *, xlstm__malloc(a, bytes));
    if (!j->tok) return xlstm__fail(err, XLSTM_ERR_NOMEM, "%s: out of memory for JSON", what);
    j->n = 0;
    j->pos = 0;
    if (!xlstm__jvalue(j, 0)) { /* cannot fail after the first pass succeeded */
        xlstm__free(a, j->tok);
        j->tok = NULL;
        goto bad;
    }
    return XLSTM_OK;
bad:
    return xlstm__fail(err, XLSTM_ERR_JSON, "%s: malformed JSON near byte %lu", what,
                       XLSTM__CAST(unsigned long, j->pos));
}

/* Decode a string token (escapes, \uXXXX with surrogate pairs) into out
   (NUL-terminated). Returns the decoded length, or -1 if it does not fit. */
static long xlstm__jstr_decode(const xlstm__json *j, uint32_t ti, char *out, size_t cap) {
    const xlstm__jtok *t = &j->tok[ti];
    size_t i = t->start, o = 0;
    while (i < t->end) {
        unsigned long cp;
        char c = j->text[i++];
        if (c != '\\') {
            if (o + 1 >= cap) return -1;
            out[o++] = c;
            continue;
        }
        c = j->text[i++];
        switch (c) {
        case 'b': cp = '\b'; break;
        case 'f': cp = '\f'; break;
        case 'n': cp = '\n'; break;
        case 'r': cp = '\r'; break;
        case 't': cp = '\t'; break;
        case 'u':
            cp = XLSTM__CAST(unsigned long, (xlstm__jhex(j->text[i]) << 12) | (xlstm__jhex(j->text[i + 1]) << 8) |
                                                 (xlstm__jhex(j->text[i + 2]) << 4) | xlstm__jhex(j->text[i + 3]));
            i += 4;
            if (cp >= 0xD800 && cp < 0xDC00 && i + 6 <= t->end && j->text[i] == '\\' && j->text[i + 1] == 'u') {
                unsigned long lo = XLSTM__CAST(unsigned long,
                                               (xlstm__jhex(j->text[i + 2]) << 12) | (xlstm__jhex(j->text[i + 3]) << 8) |
                                                   (xlstm__jhex(j->text[i + 4]) << 4) | xlstm__jhex(j->text[i + 5]));
                if (lo >= 0xDC00 && lo < 0xE000) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    i += 6;
                }
            }
            if (cp >= 0xD800 && cp < 0xE000) cp = 0xFFFD; /* lone surrogate */
            break;
        default: cp = XLSTM__CAST(unsigned char, c); break;
        }
        if (o + 4 >= cap) return -1;
        if (cp < 0x80) {
            out[o++] = XLSTM__CAST(char, cp);
        } else if (cp < 0x800) {
            out[o++] = XLSTM__CAST(char, 0xC0 | (cp >> 6));
            out[o++] = XLSTM__CAST(char, 0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            out[o++] = XLSTM__CAST(char, 0xE0 | (cp >> 12));
            out[o++] = XLSTM__CAST(char, 0x80 | ((cp >> 6) & 0x3F));
            out[o++] = XLSTM__CAST(char, 0x80 | (cp & 0x3F));
        } else {
            out[o++] = XLSTM__CAST(char, 0xF0 | (cp >> 18));
            out[o++] = XLSTM__CAST(char, 0x80 | ((cp >> 12) & 0x3F));
            out[o++] = XLSTM__CAST(char, 0x80 | ((cp >> 6) & 0x3F));
            out[o++] = XLSTM__CAST(char, 0x80 | (cp & 0x3F));
        }
    }
    if (o >= cap) return -1;
    out[o] = 0;
    return XLSTM__CAST(long, o);
}

/* Compare a string token with a plain ASCII key (escapes decoded). */
static int xlstm__jstr_eq(const xlstm__json *j, uint32_t ti, const char *s) {
    char buf[128];
    const xlstm__jtok *t = &j->tok[ti];
    size_t n = strlen(s);
    if (t->type != XLSTM__J_STR) return 0;
    if (t->end - t->start == n && memcmp(j->text + t->start, s, n) == 0) return 1;
    if (xlstm__jstr_decode(j, ti, buf, sizeof buf) < 0) return 0;
    return strcmp(buf, s) == 0;
}

/* Value token of key in object token obj, or 0 when absent (token 0 is
   always the root, never a value). The last occurrence wins, as in Python. */
static uint32_t xlstm__jget(const xlstm__json *j, uint32_t obj, const char *key) {
    uint32_t i, k, found = 0;
    if (obj >= j->n || j->tok[obj].type != XLSTM__J_OBJ) return 0;
    k = obj + 1;
    for (i = 0; i < j->tok[obj].count; i++) {
        uint32_t v = k + 1;
        if (xlstm__jstr_eq(j, k, key)) found = v;
        k = j->tok[v].next;
    }
    return found;
}

static int xlstm__jnum(const xlstm__json *j, uint32_t ti, double *out) {
    char buf[72];
    const xlstm__jtok *t = &j->tok[ti];
    size_t n = t->end - t->start;
    if (t->type != XLSTM__J_NUM || n >= sizeof buf) return 0;
    memcpy(buf, j->text + t->start, n);
    buf[n] = 0;
    *out = strtod(buf, NULL);
    return 1;
}

/* ---- config ------------------------------------------------------------- */

typedef struct xlstm__cfgctx {
    const xlstm__json *j;
    xlstm_error *err;
    xlstm_status st;
} xlstm__cfgctx;

/* Read an integer field; absent or null keeps the default. */
static void xlstm__cfg_int(xlstm__cfgctx *c, uint32_t obj, const char *key, int32_t *out) {
    double v;
    uint32_t t = xlstm__jget(c->j, obj, key);
    if (!t || c->st != XLSTM_OK || c->j->tok[t].type == XLSTM__J_NULL) return;
    if (!xlstm__jnum(c->j, t, &v) || v != floor(v) || v < -2147483648.0 || v > 2147483647.0) {
        c->st = xlstm__fail(c->err, XLSTM_ERR_CONFIG, "config: %s must be an integer", key);
        return;
    }
    *out = XLSTM__CAST(int32_t, v);
}
static void xlstm__cfg_num(xlstm__cfgctx *c, uint32_t obj, const char *key, double *out) {
    double v;
    uint32_t t = xlstm__jget(c->j, obj, key);
    if (!t || c->st != XLSTM_OK || c->j->tok[t].type == XLSTM__J_NULL) return;
    if (!xlstm__jnum(c->j, t, &v) || !(v == v) || v > 1e9 || v < -1e9) {
        c->st = xlstm__fail(c->err, XLSTM_ERR_CONFIG, "config: %s must be a number", key);
        return;
    }
    *out = v;
}
static void xlstm__cfg_bool(xlstm__cfgctx *c, uint32_t obj, const char *key, int32_t *out) {
    uint32_t t = xlstm__jget(c->j, obj, key);
    if (!t || c->st != XLSTM_OK || c->j->tok[t].type == XLSTM__J_NULL) return;
    if (c->j->tok[t].type != XLSTM__J_BOOL) {
        c->st = xlstm__fail(c->err, XLSTM_ERR_CONFIG, "config: %s must be true or false", key);
        return;
    }
    *out = c->j->tok[t].truth;
}
/* Read a short string field into buf; absent keeps buf. */
static void xlstm__cfg_str(xlstm__cfgctx *c, uint32_t obj, const char *key, char *buf, size_t cap) {
    uint32_t t = xlstm__jget(c->j, obj, key);
    if (!t || c->st != XLSTM_OK || c->j->tok[t].type == XLSTM__J_NULL) return;
    if (c->j->tok[t].type != XLSTM__J_STR || xlstm__jstr_decode(c->j, t, buf, cap) < 0)
        c->st = xlstm__fail(c->err, XLSTM_ERR_CONFIG, "config: %s must be a short string", key);
}

/* The reference's UpProjConfigMixin: proj_factor * dim rounded to a multiple. */
static int32_t xlstm__round_proj(double factor, int32_t dim, int32_t multiple, int32_t up) {
    double m = factor * dim / multiple;
    m = up ? ceil(m) : floor(m);
    if (!(m >= 0) || m * multiple > XLSTM_MAX_DIM) return -1;
    return XLSTM__CAST(int32_t, m * multiple);
}

static int xlstm__dim_ok(int32_t v) { return v > 0 && v <= XLSTM_MAX_DIM; }

/* Hugging Face config.json of model_type "xlstm" (NX-AI/xLSTM-7b), equal to NX
   xlstm_large's xLSTMLargeConfig; absent keys take that dataclass's defaults. */
static xlstm_status xlstm__parse_config_large(const xlstm__json *j, xlstm_config *cfg, xlstm_error *err) {
    xlstm__cfgctx c;
    double qk_factor = 0.5, v_factor = 1.0, ffn_factor = 2.6667, gate_cap = 15.0, logit_cap = 30.0;
    double norm_eps = 1e-6, eps = 1e-6, f;
    int32_t mult = 64, hidden = -1, layers = -1, i;
    char buf[32];
    uint32_t t;
    c.j = j;
    c.err = err;
    c.st = XLSTM_OK;
    cfg->arch = XLSTM_ARCH_LARGE;
    cfg->vocab_size = -1;
    cfg->embedding_dim = -1;
    cfg->num_blocks = -1;
    cfg->context_length = -1;
    cfg->large.num_heads = -1;
    cfg->large.add_out_norm = 1;
    cfg->large.bos_token_id = 0;
    cfg->large.eos_token_id = 2;
    cfg->large.pad_token_id = 1;
    xlstm__cfg_int(&c, 0, "vocab_size", &cfg->vocab_size);
    xlstm__cfg_int(&c, 0, "embedding_dim", &cfg->embedding_dim);
    xlstm__cfg_int(&c, 0, "hidden_size", &hidden);
    xlstm__cfg_int(&c, 0, "num_blocks", &cfg->num_blocks);
    xlstm__cfg_int(&c, 0, "num_hidden_layers", &layers);
    xlstm__cfg_int(&c, 0, "num_heads", &cfg->large.num_heads);
    xlstm__cfg_bool(&c, 0, "use_bias", &cfg->large.use_bias);
    xlstm__cfg_bool(&c, 0, "add_out_norm", &cfg->large.add_out_norm);
    xlstm__cfg_num(&c, 0, "qk_dim_factor", &qk_factor);
    xlstm__cfg_num(&c, 0, "v_dim_factor", &v_factor);
    xlstm__cfg_num(&c, 0, "ffn_proj_factor", &ffn_factor);
    xlstm__cfg_int(&c, 0, "ffn_round_up_to_multiple_of", &mult);
    xlstm__cfg_num(&c, 0, "norm_eps", &norm_eps);
    xlstm__cfg_num(&c, 0, "eps", &eps);
    xlstm__cfg_int(&c, 0, "bos_token_id", &cfg->large.bos_token_id);
    xlstm__cfg_int(&c, 0, "eos_token_id", &cfg->large.eos_token_id);
    xlstm__cfg_int(&c, 0, "pad_token_id", &cfg->large.pad_token_id);
    /* a soft cap of null means none */
    t = xlstm__jget(j, 0, "gate_soft_cap");
    if (t && j->tok[t].type == XLSTM__J_NULL) gate_cap = 0;
    else xlstm__cfg_num(&c, 0, "gate_soft_cap", &gate_cap);
    t = xlstm__jget(j, 0, "output_logit_soft_cap");
    if (t && j->tok[t].type == XLSTM__J_NULL) logit_cap = 0;
    else xlstm__cfg_num(&c, 0, "output_logit_soft_cap", &logit_cap);
    strcpy(buf, "single");
    xlstm__cfg_str(&c, 0, "weight_mode", buf, sizeof buf);
    if (c.st) return c.st;
    if (strcmp(buf, "single") && strcmp(buf, "fused"))
        return xlstm__fail(err, XLSTM_ERR_UNSUPPORTED, "config: weight_mode \"%s\" unknown", buf);
    cfg->large.fused = strcmp(buf, "fused") == 0;
    if (xlstm__jget(j, 0, "tie_word_embeddings")) {
        int32_t tie = 0;
        xlstm__cfg_bool(&c, 0, "tie_word_embeddings", &tie);
        if (c.st) return c.st;
        if (tie) return xlstm__fail(err, XLSTM_ERR_UNSUPPORTED, "config: tie_word_embeddings is not supported for xLSTM Large");
    }
    if (cfg->embedding_dim < 0) cfg->embedding_dim = hidden;
    if (cfg->num_blocks < 0) cfg->num_blocks = layers;
    if (!xlstm__dim_ok(cfg->vocab_size) || cfg->vocab_size > (1 << 24))
        return xlstm__fail(err, XLSTM_ERR_CONFIG, "config: vocab_size %d out of range", XLSTM__CAST(int, cfg->vocab_size));
    if (!xlstm__dim_ok(cfg->embedding_dim))
        return xlstm__fail(err, XLSTM_ERR_CONFIG, "config: embedding_dim/hidden_size %d out of range", XLSTM__CAST(int, cfg->embedding_dim));
    if (cfg->num_blocks < 0 || cfg->num_blocks > XLSTM_MAX_BLOCKS)
        return xlstm__fail(err, XLSTM_ERR_CONFIG, "config: num_blocks %d out of range (max %d)", XLSTM__CAST(int, cfg->num_blocks), XLSTM_MAX_BLOCKS);
    if (!xlstm__dim_ok(cfg->large.num_heads))
        return xlstm__fail(err, XLSTM_ERR_CONFIG, "config: num_heads %d out of range", XLSTM__CAST(int, cfg->large.num_heads));
    if (!(qk_factor > 0 && v_factor > 0 && ffn_factor > 0 && mult > 0 && mult <= XLSTM_MAX_DIM && norm_eps >= 0 && eps >= 0))
        return xlstm__fail(err, XLSTM_ERR_CONFIG, "config: dimension factors and eps must be positive");
    /* truncation, as int() in the reference */
    f = cfg->embedding_dim * qk_factor;
    cfg->large.qk_dim = f < XLSTM_MAX_DIM ? XLSTM__CAST(int32_t, f) : -1;
    f = cfg->embedding_dim * v_factor;
    cfg->large.v_dim = f < XLSTM_MAX_DIM ? XLSTM__CAST(int32_t, f) : -1;
    f = floor((cfg->embedding_dim * ffn_factor + mult - 1) / mult) * mult;
    cfg->large.ffn_dim = f < XLSTM_MAX_DIM ? XLSTM__CAST(int32_t, f) : -1;
    if (!xlstm__dim_ok(cfg->large.qk_dim) || !xlstm__dim_ok(cfg->large.v_dim) || !xlstm__dim_ok(cfg->large.ffn_dim) ||
        cfg->large.qk_dim % cfg->large.num_heads || cfg->large.v_dim % cfg->large.num_heads)
        return xlstm__fail(err, XLSTM_ERR_CONFIG, "config: q/k dim %d and v dim %d must be positive multiples of num_heads %d",
                           XLSTM__CAST(int, cfg->large.qk_dim), XLSTM__CAST(int, cfg->large.v_dim), XLSTM__CAST(int, cfg->large.num_heads));
    cfg->large.qk_head_dim = cfg->large.qk_dim / cfg->large.num_heads;
    cfg->large.v_head_dim = cfg->large.v_dim / cfg->large.num_heads;
    cfg->large.gate_soft_cap = XLSTM__CAST(float, gate_cap);
    cfg->large.logit_soft_cap = XLSTM__CAST(float, logit_cap);
    cfg->large.norm_eps = XLSTM__CAST(float, norm_eps);
    cfg->large.eps = XLSTM__CAST(float, eps);
    for (i = 0; i < cfg->num_blocks; i++) cfg->block_kind[i] = XLSTM_BLOCK_MLSTM;
    return XLSTM_OK;
}

static xlstm_status xlstm__parse_config(const xlstm__json *j, xlstm_config *cfg, xlstm_error *err) {
    xlstm__cfgctx c;
    uint32_t root = 0, mb, sb, t, ffn_t = 0, ml = 0, sl = 0;
    int32_t i, has_m, has_s;
    char buf[32];
    c.j = j;
    c.err = err;
    c.st = XLSTM_OK;
    memset(cfg, 0, sizeof *cfg);
    if (j->tok[0].type != XLSTM__J_OBJ) return xlstm__fail(err, XLSTM_ERR_CONFIG, "config: top level must be an object");
    /* Hugging Face's xLSTM (the 7B) says model_type "xlstm"; the 2024 LM has block configs */
    t = xlstm__jget(j, root, "model_type");
    if (t && xlstm__jstr_eq(j, t, "xlstm")) return xlstm__parse_config_large(j, cfg, err);
    if (t && j->tok[t].type == XLSTM__J_STR)
        return xlstm__fail(err, XLSTM_ERR_UNSUPPORTED, "config: model_type is not \"xlstm\"");
    if (!xlstm__jget(j, root, "mlstm_block") && !xlstm__jget(j, root, "slstm_block") && xlstm__jget(j, root, "qk_dim_factor"))
        return xlstm__parse_config_large(j, cfg, err);

    /* reference defaults (xLSTMBlockStackConfig / xLSTMLMModelConfig) */
    cfg->vocab_size = -1;
    cfg->embedding_dim = 128;
    cfg->num_blocks = 1;
    cfg->context_length = -1;
    cfg->add_post_blocks_norm = 1;
    xlstm__cfg_int(&c, root, "vocab_size", &cfg->vocab_size);
    xlstm__cfg_int(&c, root, "embedding_dim", &cfg->embedding_dim);
    xlstm__cfg_int(&c, root, "num_blocks", &cfg->num_blocks);
    xlstm__cfg_int(&c, root, "context_length", &cfg->context_length);
    xlstm__cfg_bool(&c, root, "tie_weights", &cfg->tie_weights);
    xlstm__cfg_bool(&c, root, "add_post_blocks_norm", &cfg->add_post_blocks_norm);
    xlstm__cfg_bool(&c, root, "bias", &cfg->bias);
    if (c.st) return c.st;
    if (!xlstm__dim_ok(cfg->vocab_size) || cfg->vocab_size > (1 << 24))
        return xlstm__fail(err, XLSTM_ERR_CONFIG, "config: vocab_size %d out of range", XLSTM__CAST(int, cfg->vocab_size));
    if (!xlstm__dim_ok(cfg->embedding_dim))
        return xlstm__fail(err, XLSTM_ERR_CONFIG, "config: embedding_dim %d out of range", XLSTM__CAST(int, cfg->embedding_dim));
    if (cfg->num_blocks < 0 || cfg->num_blocks > XLSTM_MAX_BLOCKS)
        return xlstm__fail(err, XLSTM_ERR_CONFIG, "config: num_blocks %d out of range (max %d)", XLSTM__CAST(int, cfg->num_blocks),
                           XLSTM_MAX_BLOCKS);

    mb = xlstm__jget(j, root, "mlstm_block");
    sb = xlstm__jget(j, root, "slstm_block");
    has_m = mb && j->tok[mb].type != XLSTM__J_NULL;
    has_s = sb && j->tok[sb].type != XLSTM__J_NULL;
    if ((has_m && j->tok[mb].type != XLSTM__J_OBJ) || (has_s && j->tok[sb].type != XLSTM__J_OBJ))
        return xlstm__fail(err, XLSTM_ERR_CONFIG, "config: mlstm_block/slstm_block must be objects or null");

    /* block map: slstm_at is a list of indices or "all"; no mlstm_block means all sLSTM */
    t = xlstm__jget(j, root, "slstm_at");
    if (!has_m || (t && j->tok[t].type == XLSTM__J_STR && xlstm__jstr_eq(j, t, "all"))) {
        for (i = 0; i < cfg->num_blocks; i++) cfg->block_kind[i] = XLSTM_BLOCK_SLSTM;
    } else if (t && j->tok[t].type == XLSTM__J_ARR) {
        uint32_t e = t + 1, k;
        for (k = 0; k < j->tok[t].count; k++, e = j->tok[e].next) {
            double v;
            if (!xlstm__jnum(j, e, &v) || v != floor(v) || v < 0 || v >= cfg->num_blocks)
                return xlstm__fail(err, XLSTM_ERR_CONFIG, "config: slstm_at entry %u is not a block index below %d",
                                   XLSTM__CAST(unsigned, k), XLSTM__CAST(int, cfg->num_blocks));
            cfg->block_kind[XLSTM__CAST(int32_t, v)] = XLSTM_BLOCK_SLSTM;
        }
    } else if (t && j->tok[t].type != XLSTM__J_NULL) {
        return xlstm__fail(err, XLSTM_ERR_CONFIG, "config: slstm_at must be a list or \"all\"");
    }
    for (i = 0; i < cfg->num_blocks; i++) {
        if (cfg->block_kind[i] == XLSTM_BLOCK_SLSTM && !has_s)
            return xlstm__fail(err, XLSTM_ERR_CONFIG, "config: block %d is sLSTM but slstm_block is null", XLSTM__CAST(int, i));
    }

    if (has_m) { /* mLSTMLayerConfig defaults */
        ml = xlstm__jget(j, mb, "mlstm");
        if (ml && j->tok[ml].type != XLSTM__J_OBJ)
            return xlstm__fail(err, XLSTM_ERR_CONFIG, "config: mlstm_block.mlstm must be an object");
        cfg->mlstm.proj_factor = 2.0;
        cfg->mlstm.round_proj_up_dim_up = 1;
        cfg->mlstm.round_proj_up_to_multiple_of = 64;
        cfg->mlstm.num_heads = 4;
        cfg->mlstm.conv1d_kernel_size = 4;
        cfg->mlstm.qkv_proj_blocksize = 4;
        if (ml) {
            xlstm__cfg_num(&c, ml, "proj_factor", &cfg->mlstm.proj_factor);
            xlstm__cfg_bool(&c, ml, "round_proj_up_dim_up", &cfg->mlstm.round_proj_up_dim_up);
            xlstm__cfg_int(&c, ml, "round_proj_up_to_multiple_of", &cfg->mlstm.round_proj_up_to_multiple_of);
            xlstm__cfg_int(&c, ml, "num_heads", &cfg->mlstm.num_heads);
            xlstm__cfg_int(&c, ml, "conv1d_kernel_size", &cfg->mlstm.conv1d_kernel_size);
            xlstm__cfg_int(&c, ml, "qkv_proj_blocksize", &cfg->mlstm.qkv_proj_blocksize);
        }
        if (c.st) return c.st;
        if (!xlstm__dim_ok(cfg->mlstm.round_proj_up_to_multiple_of) || !(cfg->mlstm.proj_factor > 0))
            return xlstm__fail(err, XLSTM_ERR_CONFIG, "config: mlstm proj_factor/round_proj_up_to_multiple_of invalid");
        cfg->mlstm.inner_dim = xlstm__round_proj(cfg->mlstm.proj_factor, cfg->embedding_dim,
                                                 cfg->mlstm.round_proj_up_to_multiple_of,
                                                 cfg->mlstm.round_proj_up_dim_up);
        if (!xlstm__dim_ok(cfg->mlstm.inner_dim))
            return xlstm__fail(err, XLSTM_ERR_CONFIG, "config: mlstm inner dimension %d out of range",
                               XLSTM__CAST(int, cfg->mlstm.inner_dim));
        if (!xlstm__dim_ok(cfg->mlstm.num_heads) || cfg->mlstm.inner_dim % cfg->mlstm.num_heads)
            return xlstm__fail(err, XLSTM_ERR_CONFIG, "config: mlstm num_heads %d does not divide inner dim %d",
                               XLSTM__CAST(int, cfg->mlstm.num_heads), XLSTM__CAST(int, cfg->mlstm.inner_dim));
        cfg->mlstm.head_dim = cfg->mlstm.inner_dim / cfg->mlstm.num_heads;
        if (cfg->mlstm.conv1d_kernel_size < 0 || cfg->mlstm.conv1d_kernel_size > 4096)
            return xlstm__fail(err, XLSTM_ERR_CONFIG, "config: mlstm conv1d_kernel_size %d out of range",
                               XLSTM__CAST(int, cfg->mlstm.conv1d_kernel_size));
        /* the reference splits inner_dim into inner_dim // blocksize heads */
        if (!xlstm__dim_ok(cfg->mlstm.qkv_proj_blocksize) ||
            cfg->mlstm.inner_dim / cfg->mlstm.qkv_proj_blocksize < 1 ||
            cfg->mlstm.inner_dim % (cfg->mlstm.inner_dim / cfg->mlstm.qkv_proj_blocksize))
            return xlstm__fail(err, XLSTM_ERR_CONFIG, "config: qkv_proj_blocksize %d does not split inner dim %d",
                               XLSTM__CAST(int, cfg->mlstm.qkv_proj_blocksize), XLSTM__CAST(int, cfg->mlstm.inner_dim));
        cfg->mlstm.qkv_num_blocks = cfg->mlstm.inner_dim / cfg->mlstm.qkv_proj_blocksize;
    }

    if (has_s) { /* sLSTMLayerConfig / FeedForwardConfig defaults */
        sl = xlstm__jget(j, sb, "slstm");
        if (sl && j->tok[sl].type != XLSTM__J_OBJ)
            return xlstm__fail(err, XLSTM_ERR_CONFIG, "config: slstm_block.slstm must be an object");
        cfg->slstm.num_heads = 4;
        cfg->slstm.conv1d_kernel_size = 4;
        cfg->slstm.group_norm_weight = 1;
        cfg->slstm.backend_cuda = 1;
        if (sl) {
            int32_t num_gates = 4;
            xlstm__cfg_int(&c, sl, "num_heads", &cfg->slstm.num_heads);
            xlstm__cfg_int(&c, sl, "conv1d_kernel_size", &cfg->slstm.conv1d_kernel_size);
            xlstm__cfg_bool(&c, sl, "group_norm_weight", &cfg->slstm.group_norm_weight);
            xlstm__cfg_int(&c, sl, "num_gates", &num_gates);
            strcpy(buf, "cuda");
            xlstm__cfg_str(&c, sl, "backend", buf, sizeof buf);
            if (c.st) return c.st;
            if (strcmp(buf, "cuda") && strcmp(buf, "vanilla"))
                return xlstm__fail(err, XLSTM_ERR_UNSUPPORTED, "config: slstm backend \"%s\" unknown", buf);
            cfg->slstm.backend_cuda = strcmp(buf, "cuda") == 0;
            strcpy(buf, "slstm");
            xlstm__cfg_str(&c, sl, "function", buf, sizeof buf);
            if (c.st) return c.st;
            if (strcmp(buf, "slstm") && strcmp(buf, "lstm"))
                return xlstm__fail(err, XLSTM_ERR_UNSUPPORTED, "config: slstm function \"%s\" unknown", buf);
            cfg->slstm.function_lstm = strcmp(buf, "lstm") == 0;
            if (num_gates != 4)
                return xlstm__fail(err, XLSTM_ERR_UNSUPPORTED, "config: slstm num_gates %d (only 4)", XLSTM__CAST(int, num_gates));
        }
        if (cfg->slstm.num_heads <= 0) cfg->slstm.num_heads = 1; /* as the reference does */
        if (cfg->slstm.num_heads > XLSTM_MAX_DIM || cfg->embedding_dim % cfg->slstm.num_heads)
            return xlstm__fail(err, XLSTM_ERR_CONFIG, "config: slstm num_heads %d does not divide embedding_dim %d",
                               XLSTM__CAST(int, cfg->slstm.num_heads), XLSTM__CAST(int, cfg->embedding_dim));
        cfg->slstm.head_dim = cfg->embedding_dim / cfg->slstm.num_heads;
        if (cfg->slstm.conv1d_kernel_size < 0 || cfg->slstm.conv1d_kernel_size > 4096)
            return xlstm__fail(err, XLSTM_ERR_CONFIG, "config: slstm conv1d_kernel_size %d out of range",
                               XLSTM__CAST(int, cfg->slstm.conv1d_kernel_size));

        t = xlstm__jget(j, sb, "feedforward");
        cfg->ffn.present = !t || j->tok[t].type != XLSTM__J_NULL;
        if (cfg->ffn.present) {
            if (t && j->tok[t].type != XLSTM__J_OBJ)
                return xlstm__fail(err, XLSTM_ERR_CONFIG, "config: slstm_block.feedforward must be an object");
            ffn_t = t;
            cfg->ffn.proj_factor = 1.3;
            cfg->ffn.round_proj_up_dim_up = 1;
            cfg->ffn.round_proj_up_to_multiple_of = 64;
            cfg->ffn.act_fn = XLSTM_ACT_GELU;
            if (ffn_t) {
                static const char *const acts[] = {"gelu", "swish", "relu", "relu^2", "sigmoid", "selu"};
                int a, found = -1;
                xlstm__cfg_num(&c, ffn_t, "proj_factor", &cfg->ffn.proj_factor);
                xlstm__cfg_bool(&c, ffn_t, "round_proj_up_dim_up", &cfg->ffn.round_proj_up_dim_up);
                xlstm__cfg_int(&c, ffn_t, "round_proj_up_to_multiple_of", &cfg->ffn.round_proj_up_to_multiple_of);
                xlstm__cfg_bool(&c, ffn_t, "bias", &cfg->ffn.bias);
                strcpy(buf, "gelu");
                xlstm__cfg_str(&c, ffn_t, "act_fn", buf, sizeof buf);
                if (c.st) return c.st;
                for (a = 0; a < 6; a++)
                    if (strcmp(buf, acts[a]) == 0) found = a;
                if (found < 0) return xlstm__fail(err, XLSTM_ERR_UNSUPPORTED, "config: feedforward act_fn \"%s\" unknown", buf);
                cfg->ffn.act_fn = found;
                strcpy(buf, "ffn_gated");
                xlstm__cfg_str(&c, ffn_t, "ff_type", buf, sizeof buf);
                if (c.st) return c.st;
                if (strcmp(buf, "ffn_gated"))
                    return xlstm__fail(err, XLSTM_ERR_UNSUPPORTED, "config: feedforward ff_type \"%s\" unknown", buf);
            }
            if (!xlstm__dim_ok(cfg->ffn.round_proj_up_to_multiple_of) || !(cfg->ffn.proj_factor > 0))
                return xlstm__fail(err, XLSTM_ERR_CONFIG, "config: feedforward proj_factor/rounding invalid");
            cfg->ffn.proj_up_dim = xlstm__round_proj(cfg->ffn.proj_factor, cfg->embedding_dim,
                                                     cfg->ffn.round_proj_up_to_multiple_of,
                                                     cfg->ffn.round_proj_up_dim_up);
            if (!xlstm__dim_ok(cfg->ffn.proj_up_dim))
                return xlstm__fail(err, XLSTM_ERR_CONFIG, "config: feedforward dimension %d out of range",
                                   XLSTM__CAST(int, cfg->ffn.proj_up_dim));
        }
    }
    return XLSTM_OK;
}

/* ---- safetensors --------------------------------------------------------- */

/* Weight storage types. Quantized matrices come in blocks of XLSTM__QBLOCK
   values along a row, each block with one f32 scale:
     Q8: int8 values v, weight = v * scale
     Q4: 16 bytes per block, byte j holding element j in its low nibble and
         element j+16 in its high nibble; weight = (nibble - 8) * scale */
enum { XLSTM__DT_F32, XLSTM__DT_BF16, XLSTM__DT_F16, XLSTM__DT_Q8, XLSTM__DT_Q4, XLSTM__DT_COUNT };
enum { XLSTM__ST_I8 = 16, XLSTM__ST_U8 }; /* safetensors integer dtypes the loader reads */
#define XLSTM__QBLOCK 32

typedef struct xlstm__st_tensor {
    uint32_t name_tok; /* string token of the name in the header */
    int dtype;         /* XLSTM__DT_F32/BF16/F16, XLSTM__ST_I8/U8, or -1 for any other */
    int ndim;
    int64_t shape[8];
    const unsigned char *data;
    size_t nbytes;
    int used;
} xlstm__st_tensor;

/* One parsed file; a sharded checkpoint chains one per shard. */
typedef struct xlstm__st {
    xlstm__json hdr;
    xlstm__st_tensor *t;
    uint32_t n;
    uint32_t meta_tok; /* __metadata__ object, 0 if absent */
    struct xlstm__st *next;
} xlstm__st;

static void xlstm__st_free(xlstm__st *st, const xlstm__alloc *a) {
    xlstm__st *next = st->next;
    xlstm__free(a, st->hdr.tok);
    xlstm__free(a, st->t);
    memset(st, 0, sizeof *st);
    while (next) {
        xlstm__st *after = next->next;
        xlstm__free(a, next->hdr.tok);
        xlstm__free(a, next->t);
        xlstm__free(a, next);
        next = after;
    }
}

static uint64_t xlstm__rd_u64le(const unsigned char *p) {
    uint64_t v = 0;
    int i;
    for (i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

static xlstm_status xlstm__st_parse(xlstm__st *st, const xlstm__alloc *a, const unsigned char *buf, size_t size,
                                    xlstm_error *err) {
    uint64_t hlen;
    const unsigned char *data;
    size_t data_size, k;
    uint32_t ti, i;
    xlstm_status s;
    memset(st, 0, sizeof *st);
    if (size < 8) return xlstm__fail(err, XLSTM_ERR_TRUNCATED, "safetensors: file has %lu bytes, fewer than the 8-byte header length",
                                     XLSTM__CAST(unsigned long, size));
    hlen = xlstm__rd_u64le(buf);
    if (hlen > 100000000u) return xlstm__fail(err, XLSTM_ERR_FORMAT, "safetensors: header length %llu over 100 MB",
                                              XLSTM__CAST(unsigned long long, hlen));
    if (hlen > size - 8) return xlstm__fail(err, XLSTM_ERR_TRUNCATED, "safetensors: header of %llu bytes runs past the end of the file",
                                            XLSTM__CAST(unsigned long long, hlen));
    data = buf + 8 + hlen;
    data_size = size - 8 - XLSTM__CAST(size_t, hlen);
    /* trailing spaces pad the header to an alignment; JSON parsing skips them */
    s = xlstm__json_parse(&st->hdr, a, XLSTM__BYTES_AS_CHARS(buf + 8), XLSTM__CAST(size_t, hlen), "safetensors header", err);
    if (s) return s;
    if (st->hdr.tok[0].type != XLSTM__J_OBJ) {
        xlstm__st_free(st, a);
        return xlstm__fail(err, XLSTM_ERR_FORMAT, "safetensors: header is not a JSON object");
    }
    st->t = XLSTM__CAST(xlstm__st_tensor *, xlstm__malloc(a, (st->hdr.tok[0].count + 1) * sizeof(xlstm__st_tensor)));
    if (!st->t) {
        xlstm__st_free(st, a);
        return xlstm__fail(err, XLSTM_ERR_NOMEM, "safetensors: out of memory");
    }
    ti = 1;
    for (i = 0; i < st->hdr.tok[0].count; i++, ti = st->hdr.tok[ti + 1].next) {
        const xlstm__json *j = &st->hdr;
        uint32_t v = ti + 1, dt, sh, off, e, d;
        xlstm__st_tensor *t;
        uint64_t begin, end;
        double x, y;
        size_t elems = 1, esize;
        char name[200];
        if (xlstm__jstr_decode(j, ti, name, sizeof name) < 0) strcpy(name, "(long name)");
        if (xlstm__jstr_eq(j, ti, "__metadata__")) {
            if (j->tok[v].type != XLSTM__J_OBJ) goto bad_meta;
            st->meta_tok = v;
            continue;
        }
        dt = xlstm__jget(j, v, "dtype");
        sh = xlstm__jget(j, v, "shape");
        off = xlstm__jget(j, v, "data_offsets");
        if (j->tok[v].type != XLSTM__J_OBJ || !dt || !sh || !off || j->tok[dt].type != XLSTM__J_STR ||
            j->tok[sh].type != XLSTM__J_ARR || j->tok[off].type != XLSTM__J_ARR || j->tok[off].count != 2) {
            xlstm__st_free(st, a);
            return xlstm__fail(err, XLSTM_ERR_FORMAT, "safetensors: tensor %s lacks dtype, shape or data_offsets", name);
        }
        for (k = 0; k < st->n; k++) {
            if (j->tok[st->t[k].name_tok].end - j->tok[st->t[k].name_tok].start == j->tok[ti].end - j->tok[ti].start &&
                memcmp(j->text + j->tok[st->t[k].name_tok].start, j->text + j->tok[ti].start,
                       j->tok[ti].end - j->tok[ti].start) == 0) {
                xlstm__st_free(st, a);
                return xlstm__fail(err, XLSTM_ERR_FORMAT, "safetensors: tensor %s appears twice", name);
            }
        }
        t = &st->t[st->n++];
        memset(t, 0, sizeof *t);
        t->name_tok = ti;
        t->dtype = -1;
        esize = 0;
        if (xlstm__jstr_eq(j, dt, "F32")) t->dtype = XLSTM__DT_F32, esize = 4;
        else if (xlstm__jstr_eq(j, dt, "BF16")) t->dtype = XLSTM__DT_BF16, esize = 2;
        else if (xlstm__jstr_eq(j, dt, "F16")) t->dtype = XLSTM__DT_F16, esize = 2;
        else if (xlstm__jstr_eq(j, dt, "F64") || xlstm__jstr_eq(j, dt, "I64") || xlstm__jstr_eq(j, dt, "U64")) esize = 8;
        else if (xlstm__jstr_eq(j, dt, "I32") || xlstm__jstr_eq(j, dt, "U32")) esize = 4;
        else if (xlstm__jstr_eq(j, dt, "I16") || xlstm__jstr_eq(j, dt, "U16")) esize = 2;
        else if (xlstm__jstr_eq(j, dt, "I8")) t->dtype = XLSTM__ST_I8, esize = 1;
        else if (xlstm__jstr_eq(j, dt, "U8")) t->dtype = XLSTM__ST_U8, esize = 1;
        else if (xlstm__jstr_eq(j, dt, "BOOL") ||
                 xlstm__jstr_eq(j, dt, "F8_E4M3") || xlstm__jstr_eq(j, dt, "F8_E5M2")) esize = 1;
        if (!esize) {
            xlstm__st_free(st, a);
            return xlstm__fail(err, XLSTM_ERR_FORMAT, "safetensors: tensor %s has an unknown dtype", name);
        }
        if (j->tok[sh].count > 8) {
            xlstm__st_free(st, a);
            return xlstm__fail(err, XLSTM_ERR_FORMAT, "safetensors: tensor %s has more than 8 dimensions", name);
        }
        t->ndim = XLSTM__CAST(int, j->tok[sh].count);
        for (d = 0, e = sh + 1; d < j->tok[sh].count; d++, e = j->tok[e].next) {
            if (!xlstm__jnum(j, e, &x) || x != floor(x) || x < 0 || x > 1e15 ||
                !xlstm__mul(elems, XLSTM__CAST(size_t, x), &elems)) {
                xlstm__st_free(st, a);
                return xlstm__fail(err, XLSTM_ERR_FORMAT, "safetensors: tensor %s has an invalid shape", name);
            }
            t->shape[d] = XLSTM__CAST(int64_t, x);
        }
        e = off + 1;
        if (!xlstm__jnum(j, e, &x) || !xlstm__jnum(j, j->tok[e].next, &y) || x != floor(x) || y != floor(y) || x < 0 ||
            y < x || y > 1.8e19) {
            xlstm__st_free(st, a);
            return xlstm__fail(err, XLSTM_ERR_FORMAT, "safetensors: tensor %s has invalid data_offsets", name);
        }
        begin = XLSTM__CAST(uint64_t, x);
        end = XLSTM__CAST(uint64_t, y);
        if (end > data_size) {
            xlstm__st_free(st, a);
            return xlstm__fail(err, XLSTM_ERR_TRUNCATED, "safetensors: tensor %s ends at byte %llu, past the %lu data bytes",
                               name, XLSTM__CAST(unsigned long long, end), XLSTM__CAST(unsigned long, data_size));
        }
        if (!xlstm__mul(elems, esize, &t->nbytes) || t->nbytes != end - begin) {
            xlstm__st_free(st, a);
            return xlstm__fail(err, XLSTM_ERR_FORMAT, "safetensors: tensor %s: data_offsets span %llu bytes, shape needs %lu",
                               name, XLSTM__CAST(unsigned long long, end - begin), XLSTM__CAST(unsigned long, t->nbytes));
        }
        t->data = data + begin;
    }
    return XLSTM_OK;
bad_meta:
    xlstm__st_free(st, a);
    return xlstm__fail(err, XLSTM_ERR_FORMAT, "safetensors: __metadata__ is not an object");
}

static xlstm__st_tensor *xlstm__st_find(xlstm__st *st, const char *name) {
    uint32_t i;
    size_t n = strlen(name);
    for (; st; st = st->next) {
        for (i = 0; i < st->n; i++) {
            const xlstm__jtok *k = &st->hdr.tok[st->t[i].name_tok];
            if (k->end - k->start == n && memcmp(st->hdr.text + k->start, name, n) == 0) return &st->t[i];
        }
    }
    return NULL;
}

/* Append another shard; a tensor name may appear in only one shard. */
static xlstm_status xlstm__st_add_shard(xlstm__st *st, const xlstm__alloc *a, const unsigned char *buf, size_t size,
                                        xlstm_error *err) {
    xlstm__st *node = XLSTM__CAST(xlstm__st *, xlstm__malloc(a, sizeof *node)), *tail = st;
    xlstm_status s;
    uint32_t i;
    if (!node) return xlstm__fail(err, XLSTM_ERR_NOMEM, "out of memory");
    s = xlstm__st_parse(node, a, buf, size, err);
    if (s) {
        xlstm__free(a, node);
        return s;
    }
    for (i = 0; i < node->n; i++) {
        char name[200];
        const xlstm__jtok *k = &node->hdr.tok[node->t[i].name_tok];
        size_t len = k->end - k->start;
        if (len >= sizeof name) continue;
        memcpy(name, node->hdr.text + k->start, len);
        name[len] = 0;
        if (xlstm__st_find(st, name)) {
            s = xlstm__fail(err, XLSTM_ERR_FORMAT, "safetensors: tensor %s is in two shards", name);
            xlstm__st_free(node, a);
            xlstm__free(a, node);
            return s;
        }
    }
    while (tail->next) tail = tail->next;
    tail->next = node;
    return XLSTM_OK;
}

static float xlstm__bf16_to_f32(uint16_t h) {
    uint32_t u = XLSTM__CAST(uint32_t, h) << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static float xlstm__f16_to_f32(uint16_t h) {
    uint32_t sign = XLSTM__CAST(uint32_t, h >> 15) << 31, exp = (h >> 10) & 0x1F, man = h & 0x3FF, u;
    float f;
    if (exp == 0) { /* zero or subnormal: value = man * 2^-24 */
        f = ldexpf(XLSTM__CAST(float, man), -24);
        return sign ? -f : f;
    }
    if (exp == 31) u = sign | 0x7F800000u | (man << 13);
    else u = sign | ((exp + 112) << 23) | (man << 13);
    memcpy(&f, &u, 4);
    return f;
}

/* ---- the model --------------------------------------------------------- */

/* A weight matrix (rows, cols), row-major (out, in) as in PyTorch, kept in
   its stored type. Quantized types carry one scale per block of a row. */
typedef struct xlstm__mat {
    const unsigned char *w;
    const float *scale; /* (rows, cols / XLSTM__QBLOCK) for Q8/Q4, else NULL */
    int32_t rows, cols;
    int dtype;
    size_t row_bytes;
} xlstm__mat;

/* Weights of one block. Matrices stay in their stored type; the small
   vectors (norms, biases, conv, recurrent kernel) are f32 copies. */
typedef struct xlstm__block {
    int kind;
    const float *norm_w; /* (D) pre-norm offset weight: scale = 1 + w */
    const float *conv_w; /* (C, K) depthwise causal conv; C = channels */
    const float *conv_b; /* (C) */
    /* mLSTM, I = inner dim, NH heads, NB = qkv blocks of size S = I/NB */
    xlstm__mat up;                      /* (2I, D) */
    const float *up_b;                  /* (2I) */
    xlstm__mat q, k, v;                 /* (NB*S, S) block-diagonal (f32 views of qkv_w) */
    const float *qkv_w[3];              /* (NB, S, S) each */
    const float *q_b, *k_b, *v_b;       /* (I) */
    xlstm__mat ig, fg;                  /* (NH, 3I) gate projections of concat(q, k, v) */
    const float *ig_b, *fg_b;           /* (NH) */
    const float *outnorm_w;             /* (I) */
    const float *skip;                  /* (I) */
    xlstm__mat down;                    /* (D, I) */
    const float *down_b;                /* (D) */
    /* sLSTM, NH heads of DH, gates in the cell's order i, f, z, o */
    xlstm__mat gate_w[4];               /* (NH*DH, DH) block-diagonal */
    const float *rec;                   /* (NH, 4, DH, DH): [h][g][out][in] */
    const float *gate_b;                /* (4, D): [g][h*DH + j] */
    const float *gn_w;                  /* (D) or NULL */
    const float *ffn_norm_w;            /* (D) */
    xlstm__mat ffn_up;                  /* (2P, D) */
    const float *ffn_up_b;              /* (2P) */
    xlstm__mat ffn_down;                /* (D, P) */
    const float *ffn_down_b;            /* (D) */
    /* xLSTM Large: RMSNorms with optional bias, q/k/v above (qk, qk, v rows),
       output gate o, per-head norm (outnorm_w, outnorm_b), out projection in
       down, SwiGLU feed-forward silu(ffn_gate x) * (ffn_up x) -> ffn_down */
    const float *norm_b, *ffn_norm_b;   /* (D) */
    xlstm__mat o;                       /* (v, D) */
    const float *o_b;                   /* (v) */
    const float *outnorm_b;             /* (v) */
    xlstm__mat ffn_gate;                /* (F, D) */
    const float *ffn_gate_b;            /* (F) */
    /* weight_mode "fused": the stacked matrices, split into the views above */
    xlstm__mat qkvo, ifg, gate_up;
    const float *qkvo_b, *ifg_b, *gate_up_b;
} xlstm__block;

typedef struct xlstm__kern xlstm__kern;

/* Bytes of one safetensors file: owned (read into memory), mapped, or borrowed
   from the caller (neither). */
typedef struct xlstm__src {
    const unsigned char *bytes;
    size_t size;
    unsigned char *owned;
    void *map;
} xlstm__src;

struct xlstm_model {
    xlstm_config cfg;
    xlstm__alloc alloc;
    const xlstm__kern *kern;
    struct xlstm__src *src;  /* the safetensors bytes the weights point into, one per shard */
    uint32_t n_src;
    unsigned char *arena;    /* f32 vectors and any re-aligned matrices */
    size_t n_params, weight_bytes;
    xlstm__mat embedding;    /* (V, D) */
    xlstm__mat head;         /* (V, D) */
    const float *post_norm;  /* (D) or NULL; xLSTM Large: out_norm (RMSNorm) */
    const float *post_norm_b; /* (D) or NULL */
    xlstm__block *blocks;
    uint64_t fingerprint;
};

/* One expected tensor: name, shape, and where it goes. VEC tensors become f32
   copies (with a layout change for the cuda sLSTM tensors); MAT tensors stay
   in their stored type, in place when aligned. */
enum { XLSTM__LAY_PLAIN, XLSTM__LAY_REC_CUDA, XLSTM__LAY_BIAS_CUDA };
typedef struct xlstm__spec {
    char name[96];
    char alt[32]; /* another name the tensor may have (NX vs Hugging Face) */
    int ndim;
    int64_t shape[3];
    int is_mat;
    const float **vec; /* VEC destination */
    xlstm__mat *mat;   /* MAT destination */
    int layout;
    int optional;
    /* filled while checking */
    xlstm__st_tensor *t, *qscale;
    int dtype;
    size_t arena_off, arena_bytes; /* where a copy goes, if one is needed */
} xlstm__spec;

typedef struct xlstm__specs {
    xlstm__spec *v;
    size_t n, cap;
    int overflow;
} xlstm__specs;

static xlstm__spec *xlstm__want(xlstm__specs *s, const char *prefix, const char *name, int ndim, int64_t d0,
                                int64_t d1, int64_t d2) {
    xlstm__spec *p;
    size_t lp, ln;
    if (s->n >= s->cap) {
        s->overflow = 1;
        return NULL;
    }
    lp = strlen(prefix);
    ln = strlen(name);
    if (lp + ln >= sizeof p->name) {
        s->overflow = 1;
        return NULL;
    }
    p = &s->v[s->n++];
    memset(p, 0, sizeof *p);
    memcpy(p->name, prefix, lp);
    memcpy(p->name + lp, name, ln + 1);
    p->ndim = ndim;
    p->shape[0] = d0;
    p->shape[1] = d1;
    p->shape[2] = d2;
    return p;
}
static void xlstm__want_vec(xlstm__specs *s, const char *prefix, const char *name, const float **dst, int ndim,
                            int64_t d0, int64_t d1, int64_t d2) {
    xlstm__spec *p = xlstm__want(s, prefix, name, ndim, d0, d1, d2);
    if (p) p->vec = dst;
}
static void xlstm__want_mat(xlstm__specs *s, const char *prefix, const char *name, xlstm__mat *dst, int ndim,
                            int64_t d0, int64_t d1, int64_t d2) {
    xlstm__spec *p = xlstm__want(s, prefix, name, ndim, d0, d1, d2);
    if (p) p->is_mat = 1, p->mat = dst;
}

/* xLSTM Large under its Hugging Face names (NX's differ only for the embedding). */
static void xlstm__build_specs_large(xlstm_model *m, xlstm__specs *s) {
    const xlstm_config *c = &m->cfg;
    int64_t D = c->embedding_dim, V = c->vocab_size, NH = c->large.num_heads;
    int64_t QK = c->large.qk_dim, VD = c->large.v_dim, F = c->large.ffn_dim;
    int bias = c->large.use_bias;
    int32_t b;
    char pre[64];
    xlstm__want_mat(s, "", "backbone.embeddings.weight", &m->embedding, 2, V, D, 0);
    if (!s->overflow) strcpy(s->v[s->n - 1].alt, "embedding.weight");
    for (b = 0; b < c->num_blocks; b++) {
        xlstm__block *blk = &m->blocks[b];
        blk->kind = XLSTM_BLOCK_MLSTM;
        xlstm__fmt(pre, sizeof pre, "backbone.blocks.%d.", XLSTM__CAST(int, b));
        xlstm__want_vec(s, pre, "norm_mlstm.weight", &blk->norm_w, 1, D, 0, 0);
        if (bias) xlstm__want_vec(s, pre, "norm_mlstm.bias", &blk->norm_b, 1, D, 0, 0);
        if (c->large.fused) {
            xlstm__want_mat(s, pre, "mlstm_layer.qkv_opreact.weight", &blk->qkvo, 2, 2 * QK + 2 * VD, D, 0);
            if (bias) xlstm__want_vec(s, pre, "mlstm_layer.qkv_opreact.bias", &blk->qkvo_b, 1, 2 * QK + 2 * VD, 0, 0);
            xlstm__want_mat(s, pre, "mlstm_layer.ifgate_preact.weight", &blk->ifg, 2, 2 * NH, D, 0);
            xlstm__want_vec(s, pre, "mlstm_layer.ifgate_preact.bias", &blk->ifg_b, 1, 2 * NH, 0, 0);
        } else {
            xlstm__want_mat(s, pre, "mlstm_layer.q.weight", &blk->q, 2, QK, D, 0);
            if (bias) xlstm__want_vec(s, pre, "mlstm_layer.q.bias", &blk->q_b, 1, QK, 0, 0);
            xlstm__want_mat(s, pre, "mlstm_layer.k.weight", &blk->k, 2, QK, D, 0);
            if (bias) xlstm__want_vec(s, pre, "mlstm_layer.k.bias", &blk->k_b, 1, QK, 0, 0);
            xlstm__want_mat(s, pre, "mlstm_layer.v.weight", &blk->v, 2, VD, D, 0);
            if (bias) xlstm__want_vec(s, pre, "mlstm_layer.v.bias", &blk->v_b, 1, VD, 0, 0);
            xlstm__want_mat(s, pre, "mlstm_layer.ogate_preact.weight", &blk->o, 2, VD, D, 0);
            if (bias) xlstm__want_vec(s, pre, "mlstm_layer.ogate_preact.bias", &blk->o_b, 1, VD, 0, 0);
            /* the gate biases exist whatever use_bias says */
            xlstm__want_mat(s, pre, "mlstm_layer.igate_preact.weight", &blk->ig, 2, NH, D, 0);
            xlstm__want_vec(s, pre, "mlstm_layer.igate_preact.bias", &blk->ig_b, 1, NH, 0, 0);
            xlstm__want_mat(s, pre, "mlstm_layer.fgate_preact.weight", &blk->fg, 2, NH, D, 0);
            xlstm__want_vec(s, pre, "mlstm_layer.fgate_preact.bias", &blk->fg_b, 1, NH, 0, 0);
        }
        xlstm__want_vec(s, pre, "mlstm_layer.multihead_norm.weight", &blk->outnorm_w, 1, VD, 0, 0);
        if (bias) xlstm__want_vec(s, pre, "mlstm_layer.multihead_norm.bias", &blk->outnorm_b, 1, VD, 0, 0);
        xlstm__want_mat(s, pre, "mlstm_layer.out_proj.weight", &blk->down, 2, D, VD, 0);
        if (bias) xlstm__want_vec(s, pre, "mlstm_layer.out_proj.bias", &blk->down_b, 1, D, 0, 0);
        xlstm__want_vec(s, pre, "norm_ffn.weight", &blk->ffn_norm_w, 1, D, 0, 0);
        if (bias) xlstm__want_vec(s, pre, "norm_ffn.bias", &blk->ffn_norm_b, 1, D, 0, 0);
        if (c->large.fused) {
            xlstm__want_mat(s, pre, "ffn.proj_up_gate_z.weight", &blk->gate_up, 2, 2 * F, D, 0);
            if (bias) xlstm__want_vec(s, pre, "ffn.proj_up_gate_z.bias", &blk->gate_up_b, 1, 2 * F, 0, 0);
        } else {
            xlstm__want_mat(s, pre, "ffn.proj_up_gate.weight", &blk->ffn_gate, 2, F, D, 0);
            if (bias) xlstm__want_vec(s, pre, "ffn.proj_up_gate.bias", &blk->ffn_gate_b, 1, F, 0, 0);
            xlstm__want_mat(s, pre, "ffn.proj_up.weight", &blk->ffn_up, 2, F, D, 0);
            if (bias) xlstm__want_vec(s, pre, "ffn.proj_up.bias", &blk->ffn_up_b, 1, F, 0, 0);
        }
        xlstm__want_mat(s, pre, "ffn.proj_down.weight", &blk->ffn_down, 2, D, F, 0);
        if (bias) xlstm__want_vec(s, pre, "ffn.proj_down.bias", &blk->ffn_down_b, 1, D, 0, 0);
    }
    /* Hugging Face always has out_norm (without bias); NX has it when add_out_norm,
       with a bias when use_bias: accept each form */
    xlstm__want_vec(s, "", "backbone.out_norm.weight", &m->post_norm, 1, D, 0, 0);
    if (!s->overflow && !c->large.add_out_norm) s->v[s->n - 1].optional = 1;
    xlstm__want_vec(s, "", "backbone.out_norm.bias", &m->post_norm_b, 1, D, 0, 0);
    if (!s->overflow) s->v[s->n - 1].optional = 1;
    xlstm__want_mat(s, "", "lm_head.weight", &m->head, 2, V, D, 0);
}

static void xlstm__build_specs(xlstm_model *m, xlstm__specs *s) {
    const xlstm_config *c = &m->cfg;
    int64_t D = c->embedding_dim, V = c->vocab_size;
    int32_t b;
    char pre[64];
    if (c->arch == XLSTM_ARCH_LARGE) {
        xlstm__build_specs_large(m, s);
        return;
    }
    for (b = 0; b < c->num_blocks; b++) {
        xlstm__block *blk = &m->blocks[b];
        blk->kind = c->block_kind[b];
        xlstm__fmt(pre, sizeof pre, "xlstm_block_stack.blocks.%d.", XLSTM__CAST(int, b));
        xlstm__want_vec(s, pre, "xlstm_norm.weight", &blk->norm_w, 1, D, 0, 0);
        if (blk->kind == XLSTM_BLOCK_MLSTM) {
            int64_t I = c->mlstm.inner_dim, NH = c->mlstm.num_heads, NB = c->mlstm.qkv_num_blocks, S = I / NB;
            int64_t K = c->mlstm.conv1d_kernel_size;
            xlstm__want_mat(s, pre, "xlstm.proj_up.weight", &blk->up, 2, 2 * I, D, 0);
            if (c->bias) xlstm__want_vec(s, pre, "xlstm.proj_up.bias", &blk->up_b, 1, 2 * I, 0, 0);
            /* the block-diagonal q/k/v weights are small (I x S): kept as f32 */
            xlstm__want_vec(s, pre, "xlstm.q_proj.weight", &blk->qkv_w[0], 3, NB, S, S);
            xlstm__want_vec(s, pre, "xlstm.k_proj.weight", &blk->qkv_w[1], 3, NB, S, S);
            xlstm__want_vec(s, pre, "xlstm.v_proj.weight", &blk->qkv_w[2], 3, NB, S, S);
            if (c->bias) {
                xlstm__want_vec(s, pre, "xlstm.q_proj.bias", &blk->q_b, 1, I, 0, 0);
                xlstm__want_vec(s, pre, "xlstm.k_proj.bias", &blk->k_b, 1, I, 0, 0);
                xlstm__want_vec(s, pre, "xlstm.v_proj.bias", &blk->v_b, 1, I, 0, 0);
            }
            if (K > 0) {
                xlstm__want_vec(s, pre, "xlstm.conv1d.conv.weight", &blk->conv_w, 3, I, 1, K);
                xlstm__want_vec(s, pre, "xlstm.conv1d.conv.bias", &blk->conv_b, 1, I, 0, 0);
            }
            xlstm__want_mat(s, pre, "xlstm.mlstm_cell.igate.weight", &blk->ig, 2, NH, 3 * I, 0);
            xlstm__want_vec(s, pre, "xlstm.mlstm_cell.igate.bias", &blk->ig_b, 1, NH, 0, 0);
            xlstm__want_mat(s, pre, "xlstm.mlstm_cell.fgate.weight", &blk->fg, 2, NH, 3 * I, 0);
            xlstm__want_vec(s, pre, "xlstm.mlstm_cell.fgate.bias", &blk->fg_b, 1, NH, 0, 0);
            xlstm__want_vec(s, pre, "xlstm.mlstm_cell.outnorm.weight", &blk->outnorm_w, 1, I, 0, 0);
            xlstm__want_vec(s, pre, "xlstm.learnable_skip", &blk->skip, 1, I, 0, 0);
            xlstm__want_mat(s, pre, "xlstm.proj_down.weight", &blk->down, 2, D, I, 0);
            if (c->bias) xlstm__want_vec(s, pre, "xlstm.proj_down.bias", &blk->down_b, 1, D, 0, 0);
        } else {
            int64_t NH = c->slstm.num_heads, DH = c->slstm.head_dim, K = c->slstm.conv1d_kernel_size;
            if (K > 0) {
                xlstm__want_vec(s, pre, "xlstm.conv1d.conv.weight", &blk->conv_w, 3, D, 1, K);
                xlstm__want_vec(s, pre, "xlstm.conv1d.conv.bias", &blk->conv_b, 1, D, 0, 0);
            }
            /* the reference's fgate computes the cell's input gate, its igate the forget gate */
            xlstm__want_mat(s, pre, "xlstm.fgate.weight", &blk->gate_w[0], 3, NH, DH, DH);
            xlstm__want_mat(s, pre, "xlstm.igate.weight", &blk->gate_w[1], 3, NH, DH, DH);
            xlstm__want_mat(s, pre, "xlstm.zgate.weight", &blk->gate_w[2], 3, NH, DH, DH);
            xlstm__want_mat(s, pre, "xlstm.ogate.weight", &blk->gate_w[3], 3, NH, DH, DH);
            if (c->slstm.backend_cuda) {
                xlstm__want_vec(s, pre, "xlstm.slstm_cell._recurrent_kernel_", &blk->rec, 3, NH, DH, 4 * DH);
                if (!s->overflow) s->v[s->n - 1].layout = XLSTM__LAY_REC_CUDA;
                xlstm__want_vec(s, pre, "xlstm.slstm_cell._bias_", &blk->gate_b, 1, 4 * D, 0, 0);
                if (!s->overflow) s->v[s->n - 1].layout = XLSTM__LAY_BIAS_CUDA;
            } else {
                xlstm__want_vec(s, pre, "xlstm.slstm_cell._recurrent_kernel_", &blk->rec, 3, NH, 4 * DH, DH);
                xlstm__want_vec(s, pre, "xlstm.slstm_cell._bias_", &blk->gate_b, 1, 4 * D, 0, 0);
            }
            if (c->slstm.group_norm_weight) xlstm__want_vec(s, pre, "xlstm.group_norm.weight", &blk->gn_w, 1, D, 0, 0);
            if (c->ffn.present) {
                int64_t P = c->ffn.proj_up_dim;
                xlstm__want_vec(s, pre, "ffn_norm.weight", &blk->ffn_norm_w, 1, D, 0, 0);
                xlstm__want_mat(s, pre, "ffn.proj_up.weight", &blk->ffn_up, 2, 2 * P, D, 0);
                if (c->ffn.bias) xlstm__want_vec(s, pre, "ffn.proj_up.bias", &blk->ffn_up_b, 1, 2 * P, 0, 0);
                xlstm__want_mat(s, pre, "ffn.proj_down.weight", &blk->ffn_down, 2, D, P, 0);
                if (c->ffn.bias) xlstm__want_vec(s, pre, "ffn.proj_down.bias", &blk->ffn_down_b, 1, D, 0, 0);
            }
        }
    }
    if (c->add_post_blocks_norm)
        xlstm__want_vec(s, "", "xlstm_block_stack.post_blocks_norm.weight", &m->post_norm, 1, D, 0, 0);
    xlstm__want_mat(s, "", "token_embedding.weight", &m->embedding, 2, V, D, 0);
    xlstm__want_mat(s, "", "lm_head.weight", &m->head, 2, V, D, 0);
    /* a tied checkpoint may omit the head: the embedding serves both */
    if (c->tie_weights && !s->overflow) s->v[s->n - 1].optional = 1;
}

static void xlstm__shape_str(char *buf, size_t cap, int ndim, const int64_t *shape) {
    size_t o = 0;
    int d;
    o += xlstm__fmt(buf, cap, "[");
    for (d = 0; d < ndim && o < cap; d++) o += xlstm__fmt(buf + o, cap - o, "%s%lld", d ? "," : "", XLSTM__CAST(long long, shape[d]));
    if (o < cap) xlstm__fmt(buf + o, cap - o, "]");
}

static float xlstm__load_elem(const unsigned char *p, int dtype, size_t i) {
    if (dtype == XLSTM__DT_F32) {
        float v;
        memcpy(&v, p + 4 * i, 4);
        return v;
    } else {
        uint16_t h = XLSTM__CAST(uint16_t, p[2 * i] | (p[2 * i + 1] << 8));
        return dtype == XLSTM__DT_BF16 ? xlstm__bf16_to_f32(h) : xlstm__f16_to_f32(h);
    }
}

/* Copy one VEC tensor into f32, converting dtype and layout. */
static void xlstm__convert_vec(const xlstm_config *c, const xlstm__spec *sp, const xlstm__st_tensor *t, float *dst) {
    size_t n = t->nbytes / (t->dtype == XLSTM__DT_F32 ? 4 : 2), i;
    for (i = 0; i < n; i++) {
        size_t o = i;
        if (sp->layout == XLSTM__LAY_REC_CUDA) {
            /* cuda keeps (NH, DH_in, 4*DH_out); we want (NH, 4, DH_out, DH_in) */
            size_t DH = XLSTM__CAST(size_t, c->slstm.head_dim), G = 4 * DH;
            size_t h = i / (DH * G), rem = i % (DH * G), din = rem / G, gout = rem % G;
            o = h * G * DH + gout * DH + din;
        } else if (sp->layout == XLSTM__LAY_BIAS_CUDA) {
            /* cuda keeps (NH, 4, DH); we want (4, NH, DH) */
            size_t DH = XLSTM__CAST(size_t, c->slstm.head_dim), NH = XLSTM__CAST(size_t, c->slstm.num_heads);
            size_t h = i / (4 * DH), g = (i / DH) % 4, jj = i % DH;
            o = g * NH * DH + h * DH + jj;
        }
        dst[o] = xlstm__load_elem(t->data, t->dtype, i);
    }
}

/* NaN/Inf anywhere in a stored matrix? Checked on the raw bits. */
static int xlstm__mat_finite(const unsigned char *p, int dtype, size_t n) {
    size_t i;
    if (dtype == XLSTM__DT_F32) {
        for (i = 0; i < n; i++)
            if ((p[4 * i + 3] & 0x7F) == 0x7F && (p[4 * i + 2] & 0x80)) return 0;
    } else if (dtype == XLSTM__DT_BF16) {
        for (i = 0; i < n; i++)
            if ((p[2 * i + 1] & 0x7F) == 0x7F && (p[2 * i] & 0x80)) return 0;
    } else if (dtype == XLSTM__DT_F16) {
        for (i = 0; i < n; i++)
            if ((p[2 * i + 1] & 0x7C) == 0x7C) return 0;
    }
    return 1; /* int8/4-bit codes are always finite; their scales are checked as f32 */
}

static uint64_t xlstm__fnv(uint64_t h, const void *p, size_t n) {
    const unsigned char *b = XLSTM__CAST(const unsigned char *, p);
    size_t i;
    for (i = 0; i < n; i++) h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

static size_t xlstm__align64(size_t n) { return (n + 63) & ~XLSTM__CAST(size_t, 63); }

/* Find the stored form of a MAT spec: plain float, or NAME.q8 / NAME.q4 with
   NAME.q8_scale / NAME.q4_scale. Returns a status; sets sp->t, qscale, dtype. */
static xlstm_status xlstm__find_mat(xlstm__st *st, xlstm__spec *sp, xlstm_error *err) {
    char qn[128], sn[128];
    int64_t rows = sp->shape[0], cols = sp->shape[sp->ndim - 1];
    int q;
    if (sp->ndim == 3) rows *= sp->shape[1];
    for (q = 0; q < 2; q++) {
        const char *tag = q == 0 ? "q8" : "q4";
        xlstm__st_tensor *t, *sc;
        int64_t want_cols = q == 0 ? cols : cols / 2, nblk = cols / XLSTM__QBLOCK;
        xlstm__fmt(qn, sizeof qn, "%s.%s", sp->name, tag);
        xlstm__fmt(sn, sizeof sn, "%s.%s_scale", sp->name, tag);
        t = xlstm__st_find(st, qn);
        sc = xlstm__st_find(st, sn);
        if (!t && !sc) continue;
        if (!t || !sc)
            return xlstm__fail(err, XLSTM_ERR_MISSING, "tensor %s: missing its %s", sp->name, t ? sn : qn);
        t->used = sc->used = 1;
        if (t->dtype != (q == 0 ? XLSTM__ST_I8 : XLSTM__ST_U8) || sc->dtype != XLSTM__DT_F32)
            return xlstm__fail(err, XLSTM_ERR_DTYPE, "tensor %s: %s must be %s with F32 scales", qn, tag,
                               q == 0 ? "I8" : "U8");
        if (cols % XLSTM__QBLOCK || t->ndim != 2 || t->shape[0] != rows || t->shape[1] != want_cols ||
            sc->ndim != 2 || sc->shape[0] != rows || sc->shape[1] != nblk)
            return xlstm__fail(err, XLSTM_ERR_SHAPE, "tensor %s: quantized shape does not match [%lld,%lld]", qn,
                               XLSTM__CAST(long long, rows), XLSTM__CAST(long long, cols));
        if (xlstm__st_find(st, sp->name))
            return xlstm__fail(err, XLSTM_ERR_UNEXPECTED, "tensor %s: stored both plain and quantized", sp->name);
        sp->t = t;
        sp->qscale = sc;
        sp->dtype = q == 0 ? XLSTM__DT_Q8 : XLSTM__DT_Q4;
        return XLSTM_OK;
    }
    return XLSTM_ERR_MISSING; /* not quantized: the caller looks for the plain name */
}

/* Is the tensor stored under this name, plain or quantized? */
static int xlstm__st_has(xlstm__st *st, const char *name) {
    char q[160];
    if (xlstm__st_find(st, name)) return 1;
    xlstm__fmt(q, sizeof q, "%s.q8", name);
    if (xlstm__st_find(st, q)) return 1;
    xlstm__fmt(q, sizeof q, "%s.q4", name);
    return xlstm__st_find(st, q) != NULL;
}

static xlstm_status xlstm__check_plain(xlstm__st *st, xlstm__spec *sp, xlstm_error *err) {
    xlstm__st_tensor *t = xlstm__st_find(st, sp->name);
    int d, same;
    if (!t) {
        if (sp->optional) return XLSTM_OK;
        return xlstm__fail(err, XLSTM_ERR_MISSING, "tensor %s: missing from the checkpoint", sp->name);
    }
    t->used = 1;
    if (t->dtype != XLSTM__DT_F32 && t->dtype != XLSTM__DT_BF16 && t->dtype != XLSTM__DT_F16)
        return xlstm__fail(err, XLSTM_ERR_DTYPE, "tensor %s: dtype is not F32, BF16 or F16", sp->name);
    same = t->ndim == sp->ndim;
    for (d = 0; same && d < sp->ndim; d++) same = t->shape[d] == sp->shape[d];
    if (!same) {
        char got[96], want[96];
        xlstm__shape_str(got, sizeof got, t->ndim, t->shape);
        xlstm__shape_str(want, sizeof want, sp->ndim, sp->shape);
        return xlstm__fail(err, XLSTM_ERR_SHAPE, "tensor %s: shape %s, config wants %s", sp->name, got, want);
    }
    sp->t = t;
    sp->dtype = t->dtype;
    return XLSTM_OK;
}

static size_t xlstm__row_bytes(int dtype, int32_t cols) {
    size_t c = XLSTM__CAST(size_t, cols);
    switch (dtype) {
    case XLSTM__DT_F32: return 4 * c;
    case XLSTM__DT_BF16:
    case XLSTM__DT_F16: return 2 * c;
    case XLSTM__DT_Q8: return c;
    default: return c / 2;
    }
}

static xlstm_status xlstm__load_weights(xlstm_model *m, xlstm__st *st, int check_values, xlstm_error *err) {
    xlstm__specs s;
    size_t i, arena = 0;
    uint32_t k;
    xlstm__st *node;
    xlstm_status status = XLSTM_OK;
    const xlstm_config *c = &m->cfg;
    memset(&s, 0, sizeof s);
    s.cap = XLSTM__CAST(size_t, c->num_blocks) * 24 + 8;
    s.v = XLSTM__CAST(xlstm__spec *, xlstm__malloc(&m->alloc, s.cap * sizeof(xlstm__spec)));
    if (!s.v) return xlstm__fail(err, XLSTM_ERR_NOMEM, "out of memory for the tensor table");
    xlstm__build_specs(m, &s);
    if (s.overflow) {
        status = xlstm__fail(err, XLSTM_ERR_CONFIG, "config: model too large");
        goto done;
    }
    /* 1. find and check every tensor before allocating anything big */
    for (i = 0; i < s.n; i++) {
        xlstm__spec *sp = &s.v[i];
        if (sp->alt[0] && !xlstm__st_has(st, sp->name) && xlstm__st_has(st, sp->alt)) strcpy(sp->name, sp->alt);
        status = sp->is_mat ? xlstm__find_mat(st, sp, err) : XLSTM_ERR_MISSING;
        if (status == XLSTM_ERR_MISSING && !sp->t) status = xlstm__check_plain(st, sp, err);
        if (status) goto done;
    }
    for (node = st; node; node = node->next) {
        for (k = 0; k < node->n; k++) {
            if (!node->t[k].used) {
                char name[160];
                if (xlstm__jstr_decode(&node->hdr, node->t[k].name_tok, name, sizeof name) < 0) strcpy(name, "(long name)");
                status = xlstm__fail(err, XLSTM_ERR_UNEXPECTED, "tensor %s: not part of this config's model", name);
                goto done;
            }
        }
    }
    /* 2. plan the arena: f32 copies of vectors, copies of misaligned matrices */
    for (i = 0; i < s.n; i++) {
        xlstm__spec *sp = &s.v[i];
        size_t bytes = 0;
        if (!sp->t) continue;
        if (!sp->is_mat) {
            bytes = sp->t->nbytes / (sp->t->dtype == XLSTM__DT_F32 ? 4 : 2) * sizeof(float);
        } else {
            size_t align = sp->dtype == XLSTM__DT_F32 ? 4 : sp->dtype <= XLSTM__DT_F16 ? 2 : 1;
            int misaligned = XLSTM__ADDR(sp->t->data) % align != 0 ||
                             (sp->qscale && XLSTM__ADDR(sp->qscale->data) % 4 != 0);
            if (misaligned) bytes = xlstm__align64(sp->t->nbytes) + (sp->qscale ? sp->qscale->nbytes : 0);
        }
        sp->arena_off = arena;
        sp->arena_bytes = bytes;
        if (!xlstm__add(arena, xlstm__align64(bytes), &arena)) {
            status = xlstm__fail(err, XLSTM_ERR_CONFIG, "config: model too large");
            goto done;
        }
    }
    m->arena = XLSTM__CAST(unsigned char *, xlstm__malloc(&m->alloc, arena + 64));
    if (!m->arena) {
        status = xlstm__fail(err, XLSTM_ERR_NOMEM, "out of memory for %lu bytes of weights", XLSTM__CAST(unsigned long, arena));
        goto done;
    }
    {   /* align the arena base to 64 bytes */
        size_t mis = XLSTM__CAST(size_t, XLSTM__ADDR(m->arena) % 64);
        unsigned char *base = m->arena + (mis ? 64 - mis : 0);
        m->fingerprint = 14695981039346656037ull;
        /* 3. place every tensor */
        for (i = 0; i < s.n; i++) {
            xlstm__spec *sp = &s.v[i];
            m->fingerprint = xlstm__fnv(m->fingerprint, sp->name, strlen(sp->name));
            m->fingerprint = xlstm__fnv(m->fingerprint, sp->shape, sizeof sp->shape);
            m->fingerprint = xlstm__fnv(m->fingerprint, &sp->dtype, sizeof sp->dtype);
            if (!sp->t) continue;
            if (!sp->is_mat) {
                float *dst = XLSTM__CAST(float *, XLSTM__CAST(void *, base + sp->arena_off));
                size_t j, n = sp->t->nbytes / (sp->t->dtype == XLSTM__DT_F32 ? 4 : 2);
                xlstm__convert_vec(c, sp, sp->t, dst);
                for (j = 0; j < n; j++) {
                    if (!isfinite(dst[j])) {
                        status = xlstm__fail(err, XLSTM_ERR_VALUE, "tensor %s: non-finite value at element %lu",
                                             sp->name, XLSTM__CAST(unsigned long, j));
                        goto done;
                    }
                }
                if (sp->vec) *sp->vec = dst;
                m->n_params += n;
            } else {
                xlstm__mat *mt = sp->mat;
                const unsigned char *w = sp->t->data, *scale = sp->qscale ? sp->qscale->data : NULL;
                size_t n_el;
                if (sp->arena_bytes) { /* misaligned in the file: copy */
                    unsigned char *dst = base + sp->arena_off;
                    memcpy(dst, w, sp->t->nbytes);
                    w = dst;
                    if (scale) {
                        memcpy(dst + xlstm__align64(sp->t->nbytes), scale, sp->qscale->nbytes);
                        scale = dst + xlstm__align64(sp->t->nbytes);
                    }
                }
                mt->w = w;
                mt->scale = XLSTM__CAST(const float *, XLSTM__CAST(const void *, scale));
                mt->dtype = sp->dtype;
                mt->cols = XLSTM__CAST(int32_t, sp->shape[sp->ndim - 1]);
                mt->rows = XLSTM__CAST(int32_t, sp->ndim == 3 ? sp->shape[0] * sp->shape[1] : sp->shape[0]);
                mt->row_bytes = xlstm__row_bytes(mt->dtype, mt->cols);
                n_el = XLSTM__CAST(size_t, mt->rows) * XLSTM__CAST(size_t, mt->cols);
                if (check_values) {
                    int ok = xlstm__mat_finite(w, mt->dtype, n_el);
                    if (ok && scale) {
                        size_t j, nb = n_el / XLSTM__QBLOCK;
                        for (j = 0; j < nb && ok; j++) ok = isfinite(mt->scale[j]) != 0;
                    }
                    if (!ok) {
                        status = xlstm__fail(err, XLSTM_ERR_VALUE, "tensor %s: non-finite value", sp->name);
                        goto done;
                    }
                }
                m->n_params += n_el;
                m->weight_bytes += sp->t->nbytes + (sp->qscale ? sp->qscale->nbytes : 0);
            }
        }
    }
done:
    xlstm__free(&m->alloc, s.v);
    return status;
}

static const xlstm__kern *xlstm__pick_kernels(xlstm_kernels want);

/* Rows [r0, r0 + n) of a matrix, as a matrix. */
static xlstm__mat xlstm__mat_rows(const xlstm__mat *m, int32_t r0, int32_t n) {
    xlstm__mat v = *m;
    v.w = m->w + XLSTM__CAST(size_t, r0) * m->row_bytes;
    if (m->scale) v.scale = m->scale + XLSTM__CAST(size_t, r0) * XLSTM__CAST(size_t, m->cols / XLSTM__QBLOCK);
    v.rows = n;
    return v;
}

/* The 2024 mLSTM's block-diagonal q/k/v weights as f32 matrices (I, S). */
static void xlstm__qkv_views(xlstm_model *m) {
    const xlstm_config *c = &m->cfg;
    int32_t b, g;
    for (b = 0; b < c->num_blocks; b++) {
        xlstm__block *k = &m->blocks[b];
        xlstm__mat *dst[3];
        if (k->kind != XLSTM_BLOCK_MLSTM) continue;
        dst[0] = &k->q, dst[1] = &k->k, dst[2] = &k->v;
        for (g = 0; g < 3; g++) {
            dst[g]->w = XLSTM__CAST(const unsigned char *, XLSTM__CAST(const void *, k->qkv_w[g]));
            dst[g]->scale = NULL;
            dst[g]->dtype = XLSTM__DT_F32;
            dst[g]->rows = c->mlstm.inner_dim;
            dst[g]->cols = c->mlstm.inner_dim / c->mlstm.qkv_num_blocks;
            dst[g]->row_bytes = XLSTM__CAST(size_t, dst[g]->cols) * sizeof(float);
        }
    }
}

/* weight_mode "fused": q|k|v|o, i|f and gate|up were stored stacked by rows. */
static void xlstm__split_fused(xlstm_model *m) {
    const xlstm_config *c = &m->cfg;
    int32_t QK = c->large.qk_dim, VD = c->large.v_dim, NH = c->large.num_heads, F = c->large.ffn_dim, b;
    for (b = 0; b < c->num_blocks; b++) {
        xlstm__block *k = &m->blocks[b];
        k->q = xlstm__mat_rows(&k->qkvo, 0, QK);
        k->k = xlstm__mat_rows(&k->qkvo, QK, QK);
        k->v = xlstm__mat_rows(&k->qkvo, 2 * QK, VD);
        k->o = xlstm__mat_rows(&k->qkvo, 2 * QK + VD, VD);
        if (k->qkvo_b) k->q_b = k->qkvo_b, k->k_b = k->qkvo_b + QK, k->v_b = k->qkvo_b + 2 * QK, k->o_b = k->qkvo_b + 2 * QK + VD;
        k->ig = xlstm__mat_rows(&k->ifg, 0, NH);
        k->fg = xlstm__mat_rows(&k->ifg, NH, NH);
        k->ig_b = k->ifg_b, k->fg_b = k->ifg_b + NH;
        k->ffn_gate = xlstm__mat_rows(&k->gate_up, 0, F);
        k->ffn_up = xlstm__mat_rows(&k->gate_up, F, F);
        if (k->gate_up_b) k->ffn_gate_b = k->gate_up_b, k->ffn_up_b = k->gate_up_b + F;
    }
}

XLSTMDEF xlstm_model_params xlstm_model_default_params(void) {
    xlstm_model_params p;
    memset(&p, 0, sizeof p);
    return p;
}

XLSTMDEF xlstm_model_params xlstm_arena_params(xlstm_arena *arena) {
    xlstm_model_params p;
    memset(&p, 0, sizeof p);
    p.alloc_fn = xlstm__arena_alloc;
    p.free_fn = xlstm__arena_free;
    p.alloc_user = arena;
    p.borrow_buffer = 1; /* weights stay where they are (flash, a mapped file) */
    return p;
}

static xlstm_status xlstm__alloc_from_params(const xlstm_model_params *params, xlstm__alloc *a, xlstm_error *err) {
    memset(a, 0, sizeof *a);
    if (params) {
        if ((params->alloc_fn == NULL) != (params->free_fn == NULL))
            return xlstm__fail(err, XLSTM_ERR_ARG, "params: set both alloc_fn and free_fn, or neither");
        a->alloc_fn = params->alloc_fn;
        a->free_fn = params->free_fn;
        a->user = params->alloc_user;
    }
    return XLSTM_OK;
}

#if defined(XLSTM_MMAP)
static void xlstm__unmap(void *p, size_t n);
#endif

static void xlstm__free_sources(const xlstm__alloc *a, xlstm__src *src, uint32_t n) {
    uint32_t i;
    if (!src) return;
    for (i = 0; i < n; i++) {
        xlstm__free(a, src[i].owned);
#if defined(XLSTM_MMAP)
        if (src[i].map) xlstm__unmap(src[i].map, src[i].size);
#endif
    }
    xlstm__free(a, src);
}

/* Build a model over n_src safetensors files (shards). The model takes the
   sources array and what it owns, success or not. cfg_json NULL: the config
   is in the first file's __metadata__["xlstm_config"]. */
static xlstm_status xlstm__load_impl(xlstm__src *src, uint32_t n_src, const char *cfg_json, size_t cfg_len,
                                     const xlstm__alloc *a, const xlstm_model_params *params, xlstm_model **out,
                                     xlstm_error *err) {
    xlstm_model *m = NULL;
    xlstm__st st;
    xlstm__json cj;
    xlstm_status s;
    char *meta_cfg = NULL;
    uint32_t i;
    xlstm_kernels want = params ? params->kernels : XLSTM_KERNELS_AUTO;
    memset(&cj, 0, sizeof cj);
    memset(&st, 0, sizeof st);
    *out = NULL;
    s = xlstm__st_parse(&st, a, src[0].bytes, src[0].size, err);
    for (i = 1; !s && i < n_src; i++) s = xlstm__st_add_shard(&st, a, src[i].bytes, src[i].size, err);
    if (s) goto out;
    if (!cfg_json) {
        uint32_t t = st.meta_tok ? xlstm__jget(&st.hdr, st.meta_tok, "xlstm_config") : 0;
        long n;
        size_t cap;
        if (!t || st.hdr.tok[t].type != XLSTM__J_STR) {
            s = xlstm__fail(err, XLSTM_ERR_CONFIG, "no config: no config.json and no __metadata__ key xlstm_config");
            goto out;
        }
        cap = st.hdr.tok[t].end - st.hdr.tok[t].start + 1;
        meta_cfg = XLSTM__CAST(char *, xlstm__malloc(a, cap));
        if (!meta_cfg) {
            s = xlstm__fail(err, XLSTM_ERR_NOMEM, "out of memory");
            goto out;
        }
        n = xlstm__jstr_decode(&st.hdr, t, meta_cfg, cap);
        cfg_json = meta_cfg;
        cfg_len = n < 0 ? 0 : XLSTM__CAST(size_t, n);
    }
    s = xlstm__json_parse(&cj, a, cfg_json, cfg_len, "config", err);
    if (s) goto out;
    m = XLSTM__CAST(xlstm_model *, xlstm__malloc(a, sizeof *m));
    if (!m) {
        s = xlstm__fail(err, XLSTM_ERR_NOMEM, "out of memory");
        goto out;
    }
    memset(m, 0, sizeof *m);
    m->alloc = *a;
    m->src = src;
    m->n_src = n_src;
    src = NULL;
    m->kern = xlstm__pick_kernels(want);
    if (!m->kern) {
        s = xlstm__fail(err, XLSTM_ERR_UNSUPPORTED, "kernels: level %d is not available on this CPU or build", XLSTM__CAST(int, want));
        goto out;
    }
    s = xlstm__parse_config(&cj, &m->cfg, err);
    if (!s) {
        size_t nb = (XLSTM__CAST(size_t, m->cfg.num_blocks) + 1) * sizeof(xlstm__block);
        m->blocks = XLSTM__CAST(xlstm__block *, xlstm__malloc(a, nb));
        if (!m->blocks) s = xlstm__fail(err, XLSTM_ERR_NOMEM, "out of memory");
        else memset(m->blocks, 0, nb);
    }
    if (!s) s = xlstm__load_weights(m, &st, !(params && params->skip_value_check), err);
    if (!s && m->cfg.arch == XLSTM_ARCH_LARGE && m->cfg.large.fused) xlstm__split_fused(m);
    if (!s && m->cfg.arch == XLSTM_ARCH_XLSTM) xlstm__qkv_views(m);
    if (!s && m->cfg.tie_weights) {
        if (m->head.w) { /* both stored: the reference loads lm_head last into the shared tensor */
            m->embedding = m->head;
            m->n_params -= XLSTM__CAST(size_t, m->cfg.vocab_size) * XLSTM__CAST(size_t, m->cfg.embedding_dim);
            m->weight_bytes -= m->head.row_bytes * XLSTM__CAST(size_t, m->cfg.vocab_size);
        } else {
            m->head = m->embedding;
        }
    }
    if (!s) {
        /* the embedding is read one row per token, not as a whole matrix */
        m->weight_bytes -= m->embedding.row_bytes * XLSTM__CAST(size_t, m->cfg.vocab_size);
        m->weight_bytes += m->embedding.row_bytes;
        if (m->cfg.tie_weights) m->weight_bytes += m->head.row_bytes * XLSTM__CAST(size_t, m->cfg.vocab_size);
    }
out:
    xlstm__free(a, cj.tok);
    xlstm__free(a, meta_cfg);
    xlstm__st_free(&st, a);
    xlstm__free_sources(a, src, n_src);
    if (s) {
        xlstm_model_free(m);
        m = NULL;
    }
    *out = m;
    return s;
}

XLSTMDEF xlstm_status xlstm_model_load_from_memory(const void *safetensors, size_t safetensors_size,
                                                   const char *config_json, size_t config_json_size,
                                                   const xlstm_model_params *params, xlstm_model **out_model,
                                                   xlstm_error *err) {
    xlstm__alloc a;
    unsigned char *copy = NULL;
    xlstm__src *src;
    const unsigned char *buf = XLSTM__CAST(const unsigned char *, safetensors);
    xlstm_status s;
    if (err) {
        err->status = XLSTM_OK;
        err->message[0] = 0;
    }
    if (!out_model) return xlstm__fail(err, XLSTM_ERR_ARG, "out_model is NULL");
    *out_model = NULL;
    if (!safetensors) return xlstm__fail(err, XLSTM_ERR_ARG, "safetensors buffer is NULL");
    if ((s = xlstm__alloc_from_params(params, &a, err)) != XLSTM_OK) return s;
    if (!(params && params->borrow_buffer)) {
        copy = XLSTM__CAST(unsigned char *, xlstm__malloc(&a, safetensors_size + 1));
        if (!copy) return xlstm__fail(err, XLSTM_ERR_NOMEM, "out of memory copying the model");
        memcpy(copy, safetensors, safetensors_size);
        buf = copy;
    }
    src = XLSTM__CAST(xlstm__src *, xlstm__malloc(&a, sizeof *src));
    if (!src) {
        xlstm__free(&a, copy);
        return xlstm__fail(err, XLSTM_ERR_NOMEM, "out of memory");
    }
    src->bytes = buf;
    src->size = safetensors_size;
    src->owned = copy;
    src->map = NULL;
    return xlstm__load_impl(src, 1, config_json, config_json_size, &a, params, out_model, err);
}

#if defined(XLSTM_MMAP)
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
static void xlstm__unmap(void *p, size_t n) { munmap(p, n); }
/* Map a whole file read-only; 1 on success. Pages load lazily, so resident
   memory grows only with what is read. */
static int xlstm__map_file(const char *path, void **out, size_t *len) {
    struct stat sb;
    void *p;
    int fd = open(path, O_RDONLY);
    if (fd < 0) return 0;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size <= 0) {
        close(fd);
        return 0;
    }
    p = mmap(NULL, XLSTM__CAST(size_t, sb.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED) return 0;
    *out = p;
    *len = XLSTM__CAST(size_t, sb.st_size);
    return 1;
}
#endif

#ifndef XLSTM_NO_STDIO
/* Read a whole file; returns XLSTM_ERR_IO if it cannot be opened. */
static xlstm_status xlstm__read_file(const xlstm__alloc *a, const char *path, unsigned char **out, size_t *out_len,
                                     xlstm_error *err) {
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    size_t len = 0, cap = 0;
    *out = NULL;
    *out_len = 0;
    if (!f) return xlstm__fail(err, XLSTM_ERR_IO, "%s: cannot open", path);
    /* grow by doubling: works for pipes and needs no fseek/ftell past 2 GB */
    for (;;) {
        size_t got;
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 1 << 16;
            unsigned char *nb;
            if (ncap < cap) break;
            nb = XLSTM__CAST(unsigned char *, xlstm__malloc(a, ncap + 1));
            if (!nb) {
                xlstm__free(a, buf);
                fclose(f);
                return xlstm__fail(err, XLSTM_ERR_NOMEM, "%s: out of memory reading the file", path);
            }
            if (buf) memcpy(nb, buf, len);
            xlstm__free(a, buf);
            buf = nb;
            cap = ncap;
        }
        got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
    }
    if (ferror(f)) {
        xlstm__free(a, buf);
        fclose(f);
        return xlstm__fail(err, XLSTM_ERR_IO, "%s: read error", path);
    }
    fclose(f);
    buf[len] = 0;
    *out = buf;
    *out_len = len;
    return XLSTM_OK;
}

/* Open one weights file into a source: mmap when enabled, else read into memory. */
static xlstm_status xlstm__open_source(const xlstm__alloc *a, const char *path, xlstm__src *src, xlstm_error *err) {
    memset(src, 0, sizeof *src);
#if defined(XLSTM_MMAP)
    if (xlstm__map_file(path, &src->map, &src->size)) {
        src->bytes = XLSTM__CAST(const unsigned char *, src->map);
        return XLSTM_OK;
    }
#endif
    if (xlstm__read_file(a, path, &src->owned, &src->size, err) != XLSTM_OK) return err ? err->status : XLSTM_ERR_IO;
    src->bytes = src->owned;
    return XLSTM_OK;
}

#ifndef XLSTM_MAX_SHARDS
#define XLSTM_MAX_SHARDS 1024
#endif

/* The shard files named by a Hugging Face model.safetensors.index.json
   ({"weight_map": {tensor: file}}), each once, in order of first mention.
   Names must be plain file names inside the model directory. */
static xlstm_status xlstm__index_shards(const xlstm__alloc *a, const char *dir, const unsigned char *text, size_t len,
                                        xlstm__src **out, uint32_t *n_out, xlstm_error *err) {
    xlstm__json j;
    uint32_t wm, k, v, i, n = 0, cnt;
    uint32_t *names = NULL;
    xlstm__src *src = NULL;
    xlstm_status s = xlstm__json_parse(&j, a, XLSTM__BYTES_AS_CHARS(text), len, "model.safetensors.index.json", err);
    *out = NULL;
    *n_out = 0;
    if (s) return s;
    wm = xlstm__jget(&j, 0, "weight_map");
    if (!wm || j.tok[wm].type != XLSTM__J_OBJ || j.tok[wm].count == 0) {
        s = xlstm__fail(err, XLSTM_ERR_FORMAT, "model.safetensors.index.json: no weight_map object");
        goto done;
    }
    cnt = j.tok[wm].count;
    names = XLSTM__CAST(uint32_t *, xlstm__malloc(a, XLSTM__CAST(size_t, cnt) * sizeof(uint32_t)));
    if (!names) {
        s = xlstm__fail(err, XLSTM_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (i = 0, k = wm + 1; i < cnt; i++, k = j.tok[k + 1].next) {
        uint32_t u;
        int dup = 0;
        v = k + 1;
        if (j.tok[v].type != XLSTM__J_STR) {
            s = xlstm__fail(err, XLSTM_ERR_FORMAT, "model.safetensors.index.json: weight_map values must be file names");
            goto done;
        }
        for (u = 0; u < n && !dup; u++)
            dup = j.tok[names[u]].end - j.tok[names[u]].start == j.tok[v].end - j.tok[v].start &&
                  !memcmp(j.text + j.tok[names[u]].start, j.text + j.tok[v].start, j.tok[v].end - j.tok[v].start);
        if (!dup) names[n++] = v;
    }
    if (n > XLSTM_MAX_SHARDS) {
        s = xlstm__fail(err, XLSTM_ERR_FORMAT, "model.safetensors.index.json: %u shards (max %d)", n, XLSTM_MAX_SHARDS);
        goto done;
    }
    src = XLSTM__CAST(xlstm__src *, xlstm__malloc(a, XLSTM__CAST(size_t, n) * sizeof(xlstm__src)));
    if (!src) {
        s = xlstm__fail(err, XLSTM_ERR_NOMEM, "out of memory");
        goto done;
    }
    memset(src, 0, XLSTM__CAST(size_t, n) * sizeof(xlstm__src));
    for (i = 0; i < n; i++) {
        char file[256], *path;
        size_t plen;
        if (xlstm__jstr_decode(&j, names[i], file, sizeof file) <= 0 || file[0] == '.' || strchr(file, '/') ||
            strchr(file, '\\')) {
            s = xlstm__fail(err, XLSTM_ERR_FORMAT, "model.safetensors.index.json: shard name is not a plain file name");
            goto done;
        }
        plen = strlen(dir) + strlen(file) + 2;
        path = XLSTM__CAST(char *, xlstm__malloc(a, plen));
        if (!path) {
            s = xlstm__fail(err, XLSTM_ERR_NOMEM, "out of memory");
            goto done;
        }
        xlstm__fmt(path, plen, "%s/%s", dir, file);
        s = xlstm__open_source(a, path, &src[i], err);
        xlstm__free(a, path);
        if (s) goto done;
    }
done:
    if (s) {
        xlstm__free_sources(a, src, n);
        src = NULL;
        n = 0;
    }
    xlstm__free(a, names);
    xlstm__free(a, j.tok);
    *out = src;
    *n_out = n;
    return s;
}

XLSTMDEF xlstm_status xlstm_model_load(const char *path, const xlstm_model_params *params, xlstm_model **out_model,
                                       xlstm_error *err) {
    xlstm__alloc a;
    unsigned char *cfg_buf = NULL, *index = NULL;
    size_t cfg_len = 0, index_len = 0, plen;
    xlstm__src *src = NULL;
    uint32_t n_src = 1;
    char *p;
    xlstm_status s;
    if (err) {
        err->status = XLSTM_OK;
        err->message[0] = 0;
    }
    if (!out_model) return xlstm__fail(err, XLSTM_ERR_ARG, "out_model is NULL");
    *out_model = NULL;
    if (!path) return xlstm__fail(err, XLSTM_ERR_ARG, "path is NULL");
    if ((s = xlstm__alloc_from_params(params, &a, err)) != XLSTM_OK) return s;
    plen = strlen(path) + 40;
    p = XLSTM__CAST(char *, xlstm__malloc(&a, plen));
    if (!p) return xlstm__fail(err, XLSTM_ERR_NOMEM, "out of memory");
    /* a directory is recognised by the config.json inside it */
    xlstm__fmt(p, plen, "%s/config.json", path);
    s = xlstm__read_file(&a, p, &cfg_buf, &cfg_len, err);
    if (s == XLSTM_OK) {
        /* one model.safetensors, or shards listed by model.safetensors.index.json */
        xlstm__fmt(p, plen, "%s/model.safetensors.index.json", path);
        if (xlstm__read_file(&a, p, &index, &index_len, NULL) == XLSTM_OK) {
            s = xlstm__index_shards(&a, path, index, index_len, &src, &n_src, err);
        } else {
            src = XLSTM__CAST(xlstm__src *, xlstm__malloc(&a, sizeof *src));
            xlstm__fmt(p, plen, "%s/model.safetensors", path);
            s = src ? xlstm__open_source(&a, p, src, err) : xlstm__fail(err, XLSTM_ERR_NOMEM, "out of memory");
        }
    } else if (s == XLSTM_ERR_IO) {
        src = XLSTM__CAST(xlstm__src *, xlstm__malloc(&a, sizeof *src));
        s = src ? xlstm__open_source(&a, path, src, err) : xlstm__fail(err, XLSTM_ERR_NOMEM, "out of memory");
        if (s == XLSTM_ERR_IO)
            s = xlstm__fail(err, XLSTM_ERR_IO, "%s: cannot open (neither a model directory nor a .safetensors file)", path);
    }
    xlstm__free(&a, p);
    xlstm__free(&a, index);
    if (s == XLSTM_OK) s = xlstm__load_impl(src, n_src, XLSTM__BYTES_AS_CHARS(cfg_buf), cfg_len, &a, params, out_model, err);
    else if (src && n_src == 1 && s) xlstm__free(&a, src); /* open failed: nothing inside to free */
    xlstm__free(&a, cfg_buf);
    return s;
}

#endif /* XLSTM_NO_STDIO */

XLSTMDEF void xlstm_model_free(xlstm_model *m) {
    xlstm__alloc a;
    if (!m) return;
    a = m->alloc;
    xlstm__free_sources(&a, m->src, m->n_src);
    xlstm__free(&a, m->arena);
    xlstm__free(&a, m->blocks);
    xlstm__free(&a, m);
}

XLSTMDEF const xlstm_config *xlstm_model_config(const xlstm_model *m) { return m ? &m->cfg : NULL; }
XLSTMDEF size_t xlstm_model_n_params(const xlstm_model *m) { return m ? m->n_params : 0; }
XLSTMDEF size_t xlstm_model_weight_bytes(const xlstm_model *m) { return m ? m->weight_bytes : 0; }

/* ---- kernels ---------------------------------------------------------------
   Every hot loop has a plain scalar version (the oracle the tests compare
   against, and the fallback on unknown compilers) and one vector version
   written once with GCC/Clang vector extensions. The vector body is compiled
   for several targets (baseline, AVX2, AVX-512) and the best one the CPU
   supports is picked at load time, so one binary runs everywhere. No
   intrinsics headers are needed. */

struct xlstm__kern {
    const char *name;
    /* dot product of one stored row (n values) with x */
    float (*dot[XLSTM__DT_COUNT])(const unsigned char *row, const float *scale, const float *x, int n);
    /* one stored row to f32 */
    void (*dequant[XLSTM__DT_COUNT])(float *out, const unsigned char *row, const float *scale, int n);
    /* y[j][r] = W[r] . x[j] for a tile of nr <= 4 f32 rows (stride n) and nx vectors */
    void (*tile)(const float *W, int nr, int n, const float *X, size_t ldx, int nx, float *const *Y, int r0);
    /* y += a x */
    void (*axpy)(float *y, float a, const float *x, int n);
    /* one head of the mLSTM step, C (dk, dv): C = f C + (i k) v^T, n = f n + i k,
       h = C^T q; returns q.n */
    float (*mlstm_head)(float *C, float *nv, const float *q, const float *k, const float *v, float f, float i,
                        int dk, int dv, float *h);
};

/* -- scalar ------------------------------------------------------------------ */

static float xlstm__dot_f32_scalar(const unsigned char *row, const float *scale, const float *x, int n) {
    const float *w = XLSTM__CAST(const float *, XLSTM__CAST(const void *, row));
    float acc = 0.0f;
    int i;
    (void)scale;
    for (i = 0; i < n; i++) acc += w[i] * x[i];
    return acc;
}
static float xlstm__dot_bf16_scalar(const unsigned char *row, const float *scale, const float *x, int n) {
    float acc = 0.0f;
    int i;
    (void)scale;
    for (i = 0; i < n; i++) acc += xlstm__bf16_to_f32(XLSTM__CAST(uint16_t, row[2 * i] | (row[2 * i + 1] << 8))) * x[i];
    return acc;
}
static float xlstm__dot_f16_scalar(const unsigned char *row, const float *scale, const float *x, int n) {
    float acc = 0.0f;
    int i;
    (void)scale;
    for (i = 0; i < n; i++) acc += xlstm__f16_to_f32(XLSTM__CAST(uint16_t, row[2 * i] | (row[2 * i + 1] << 8))) * x[i];
    return acc;
}
static float xlstm__dot_q8_scalar(const unsigned char *row, const float *scale, const float *x, int n) {
    const signed char *q = XLSTM__CAST(const signed char *, XLSTM__CAST(const void *, row));
    float acc = 0.0f;
    int b, i;
    for (b = 0; b < n / XLSTM__QBLOCK; b++) {
        float s = 0.0f;
        for (i = 0; i < XLSTM__QBLOCK; i++) s += XLSTM__CAST(float, q[b * XLSTM__QBLOCK + i]) * x[b * XLSTM__QBLOCK + i];
        acc += scale[b] * s;
    }
    return acc;
}
static float xlstm__dot_q4_scalar(const unsigned char *row, const float *scale, const float *x, int n) {
    float acc = 0.0f;
    int b, i;
    for (b = 0; b < n / XLSTM__QBLOCK; b++) {
        const unsigned char *q = row + b * (XLSTM__QBLOCK / 2);
        const float *xb = x + b * XLSTM__QBLOCK;
        float s = 0.0f;
        for (i = 0; i < XLSTM__QBLOCK / 2; i++)
            s += XLSTM__CAST(float, (q[i] & 15) - 8) * xb[i] + XLSTM__CAST(float, (q[i] >> 4) - 8) * xb[i + 16];
        acc += scale[b] * s;
    }
    return acc;
}

static void xlstm__deq_f32_scalar(float *out, const unsigned char *row, const float *scale, int n) {
    (void)scale;
    memcpy(out, row, XLSTM__CAST(size_t, n) * sizeof(float));
}
static void xlstm__deq_bf16_scalar(float *out, const unsigned char *row, const float *scale, int n) {
    int i;
    (void)scale;
    for (i = 0; i < n; i++) out[i] = xlstm__bf16_to_f32(XLSTM__CAST(uint16_t, row[2 * i] | (row[2 * i + 1] << 8)));
}
static void xlstm__deq_f16_scalar(float *out, const unsigned char *row, const float *scale, int n) {
    int i;
    (void)scale;
    for (i = 0; i < n; i++) out[i] = xlstm__f16_to_f32(XLSTM__CAST(uint16_t, row[2 * i] | (row[2 * i + 1] << 8)));
}
static void xlstm__deq_q8_scalar(float *out, const unsigned char *row, const float *scale, int n) {
    const signed char *q = XLSTM__CAST(const signed char *, XLSTM__CAST(const void *, row));
    int i;
    for (i = 0; i < n; i++) out[i] = XLSTM__CAST(float, q[i]) * scale[i / XLSTM__QBLOCK];
}
static void xlstm__deq_q4_scalar(float *out, const unsigned char *row, const float *scale, int n) {
    int b, i;
    for (b = 0; b < n / XLSTM__QBLOCK; b++) {
        const unsigned char *q = row + b * (XLSTM__QBLOCK / 2);
        for (i = 0; i < XLSTM__QBLOCK / 2; i++) {
            out[b * XLSTM__QBLOCK + i] = XLSTM__CAST(float, (q[i] & 15) - 8) * scale[b];
            out[b * XLSTM__QBLOCK + i + 16] = XLSTM__CAST(float, (q[i] >> 4) - 8) * scale[b];
        }
    }
}

static void xlstm__tile_scalar(const float *W, int nr, int n, const float *X, size_t ldx, int nx, float *const *Y,
                               int r0) {
    int r, j;
    for (j = 0; j < nx; j++)
        for (r = 0; r < nr; r++)
            Y[j][r0 + r] = xlstm__dot_f32_scalar(XLSTM__CAST(const unsigned char *, XLSTM__CAST(const void *, W + XLSTM__CAST(size_t, r) * n)),
                                                 NULL, X + j * ldx, n);
}

static float xlstm__mlstm_head_scalar(float *C, float *nv, const float *q, const float *k, const float *v, float f,
                                      float i, int dk, int dv, float *h) {
    float qn = 0.0f;
    int a, b;
    for (b = 0; b < dv; b++) h[b] = 0.0f;
    for (a = 0; a < dk; a++) {
        float ka = i * k[a], qa = q[a];
        float *Ca = C + XLSTM__CAST(size_t, a) * dv;
        for (b = 0; b < dv; b++) {
            Ca[b] = f * Ca[b] + ka * v[b];
            h[b] += qa * Ca[b];
        }
        nv[a] = f * nv[a] + ka;
        qn += qa * nv[a];
    }
    return qn;
}

static void xlstm__axpy_scalar(float *y, float a, const float *x, int n) {
    int i;
    for (i = 0; i < n; i++) y[i] += a * x[i];
}

static const xlstm__kern xlstm__kern_scalar = {
    "scalar",
    {xlstm__dot_f32_scalar, xlstm__dot_bf16_scalar, xlstm__dot_f16_scalar, xlstm__dot_q8_scalar, xlstm__dot_q4_scalar},
    {xlstm__deq_f32_scalar, xlstm__deq_bf16_scalar, xlstm__deq_f16_scalar, xlstm__deq_q8_scalar, xlstm__deq_q4_scalar},
    xlstm__tile_scalar,
    xlstm__axpy_scalar,
    xlstm__mlstm_head_scalar,
};

/* -- vectors ------------------------------------------------------------------ */
#if (defined(__GNUC__) || defined(__clang__)) && !defined(XLSTM_NO_SIMD)
#define XLSTM__HAVE_VEC 1

typedef float xlstm__v16f __attribute__((vector_size(64)));
typedef uint32_t xlstm__v16u __attribute__((vector_size(64)));
typedef uint16_t xlstm__v16h __attribute__((vector_size(32)));
typedef int8_t xlstm__v16b __attribute__((vector_size(16)));
typedef int16_t xlstm__v16s __attribute__((vector_size(32)));
typedef int32_t xlstm__v16i __attribute__((vector_size(64)));
typedef uint8_t xlstm__v16ub __attribute__((vector_size(16)));
#define XLSTM__VI static inline __attribute__((always_inline))

/* Helpers pass vectors by pointer: no vector ever crosses a call boundary, so
   no ABI question arises when a body is compiled for several targets. */
XLSTM__VI void xlstm__vld(xlstm__v16f *v, const float *p) { memcpy(v, p, sizeof *v); }
XLSTM__VI void xlstm__vst(float *p, const xlstm__v16f *v) { memcpy(p, v, sizeof *v); }
XLSTM__VI void xlstm__vzero(xlstm__v16f *v) { memset(v, 0, sizeof *v); }
XLSTM__VI float xlstm__vsum(const xlstm__v16f *v) {
    float s = 0.0f;
    int i;
    for (i = 0; i < 16; i++) s += (*v)[i];
    return s;
}
XLSTM__VI void xlstm__vld_f32b(xlstm__v16f *v, const unsigned char *p) { memcpy(v, p, sizeof *v); }
/* 16 bf16 values: the top half of an f32 */
XLSTM__VI void xlstm__vld_bf16(xlstm__v16f *v, const unsigned char *p) {
    xlstm__v16h h;
    xlstm__v16u u;
    memcpy(&h, p, sizeof h);
    u = __builtin_convertvector(h, xlstm__v16u) << 16;
    memcpy(v, &u, sizeof *v);
}
/* 16 f16 values: shift exponent and mantissa into place and rescale by 2^112,
   which also handles subnormals (NaN/Inf never reach here: rejected at load) */
XLSTM__VI void xlstm__vld_f16(xlstm__v16f *v, const unsigned char *p) {
    xlstm__v16h h;
    xlstm__v16u u, sign, mb;
    xlstm__v16f mag;
    memcpy(&h, p, sizeof h);
    u = __builtin_convertvector(h, xlstm__v16u);
    sign = (u & 0x8000u) << 16;
    mb = (u & 0x7FFFu) << 13;
    memcpy(&mag, &mb, sizeof mag);
    mag *= 5.192296858534828e33f; /* 2^112 */
    memcpy(&mb, &mag, sizeof mb);
    mb |= sign;
    memcpy(v, &mb, sizeof *v);
}
/* bytes to floats in two widening steps: GCC scalarises a direct int8 -> float
   conversion but vectorises int8 -> int16 -> int32 -> float */
XLSTM__VI void xlstm__vld_i8(xlstm__v16f *v, const unsigned char *p) {
    xlstm__v16b b;
    memcpy(&b, p, sizeof b);
    *v = __builtin_convertvector(__builtin_convertvector(__builtin_convertvector(b, xlstm__v16s), xlstm__v16i), xlstm__v16f);
}
XLSTM__VI void xlstm__q4_unpack(const unsigned char *q, xlstm__v16f *lo, xlstm__v16f *hi) {
    xlstm__v16ub b;
    xlstm__v16s l, h;
    memcpy(&b, q, sizeof b);
    l = __builtin_convertvector(b & 15, xlstm__v16s) - 8;
    h = __builtin_convertvector(b >> 4, xlstm__v16s) - 8;
    *lo = __builtin_convertvector(__builtin_convertvector(l, xlstm__v16i), xlstm__v16f);
    *hi = __builtin_convertvector(__builtin_convertvector(h, xlstm__v16i), xlstm__v16f);
}

#define XLSTM__DOT_LOOP(LOAD, ESIZE)                                                       \
    xlstm__v16f a0, a1, w0, w1, x0, x1;                                                    \
    float s;                                                                               \
    int i = 0;                                                                             \
    xlstm__vzero(&a0);                                                                     \
    xlstm__vzero(&a1);                                                                     \
    for (; i + 32 <= n; i += 32) {                                                         \
        LOAD(&w0, row + (size_t)i * ESIZE);                                                \
        LOAD(&w1, row + (size_t)(i + 16) * ESIZE);                                         \
        xlstm__vld(&x0, x + i);                                                            \
        xlstm__vld(&x1, x + i + 16);                                                       \
        a0 += w0 * x0;                                                                     \
        a1 += w1 * x1;                                                                     \
    }                                                                                      \
    for (; i + 16 <= n; i += 16) {                                                         \
        LOAD(&w0, row + (size_t)i * ESIZE);                                                \
        xlstm__vld(&x0, x + i);                                                            \
        a0 += w0 * x0;                                                                     \
    }                                                                                      \
    a0 += a1;                                                                              \
    s = xlstm__vsum(&a0);

XLSTM__VI float xlstm__dot_f32_v(const unsigned char *row, const float *scale, const float *x, int n) {
    XLSTM__DOT_LOOP(xlstm__vld_f32b, 4)
    (void)scale;
    for (; i < n; i++) s += xlstm__dot_f32_scalar(row + 4 * (size_t)i, NULL, x + i, 1);
    return s;
}
XLSTM__VI float xlstm__dot_bf16_v(const unsigned char *row, const float *scale, const float *x, int n) {
    XLSTM__DOT_LOOP(xlstm__vld_bf16, 2)
    (void)scale;
    for (; i < n; i++) s += xlstm__dot_bf16_scalar(row + 2 * (size_t)i, NULL, x + i, 1);
    return s;
}
XLSTM__VI float xlstm__dot_f16_v(const unsigned char *row, const float *scale, const float *x, int n) {
    XLSTM__DOT_LOOP(xlstm__vld_f16, 2)
    (void)scale;
    for (; i < n; i++) s += xlstm__dot_f16_scalar(row + 2 * (size_t)i, NULL, x + i, 1);
    return s;
}
XLSTM__VI float xlstm__dot_q8_v(const unsigned char *row, const float *scale, const float *x, int n) {
    xlstm__v16f acc, w0, w1, x0, x1;
    int b;
    xlstm__vzero(&acc);
    for (b = 0; b < n / XLSTM__QBLOCK; b++) {
        const unsigned char *q = row + (size_t)b * XLSTM__QBLOCK;
        const float *xb = x + (size_t)b * XLSTM__QBLOCK;
        xlstm__vld_i8(&w0, q);
        xlstm__vld_i8(&w1, q + 16);
        xlstm__vld(&x0, xb);
        xlstm__vld(&x1, xb + 16);
        acc += scale[b] * (w0 * x0 + w1 * x1);
    }
    return xlstm__vsum(&acc);
}
XLSTM__VI float xlstm__dot_q4_v(const unsigned char *row, const float *scale, const float *x, int n) {
    xlstm__v16f acc, lo, hi, x0, x1;
    int b;
    xlstm__vzero(&acc);
    for (b = 0; b < n / XLSTM__QBLOCK; b++) {
        const float *xb = x + (size_t)b * XLSTM__QBLOCK;
        xlstm__q4_unpack(row + (size_t)b * (XLSTM__QBLOCK / 2), &lo, &hi);
        xlstm__vld(&x0, xb);
        xlstm__vld(&x1, xb + 16);
        acc += scale[b] * (lo * x0 + hi * x1);
    }
    return xlstm__vsum(&acc);
}

#define XLSTM__DEQ_LOOP(LOAD, ESIZE, SCALAR)                                               \
    xlstm__v16f v;                                                                         \
    int i = 0;                                                                             \
    (void)scale;                                                                           \
    for (; i + 16 <= n; i += 16) {                                                         \
        LOAD(&v, row + (size_t)i * ESIZE);                                                 \
        xlstm__vst(out + i, &v);                                                           \
    }                                                                                      \
    if (i < n) SCALAR(out + i, row + (size_t)i * ESIZE, NULL, n - i);

XLSTM__VI void xlstm__deq_f32_v(float *out, const unsigned char *row, const float *scale, int n) {
    XLSTM__DEQ_LOOP(xlstm__vld_f32b, 4, xlstm__deq_f32_scalar)
}
XLSTM__VI void xlstm__deq_bf16_v(float *out, const unsigned char *row, const float *scale, int n) {
    XLSTM__DEQ_LOOP(xlstm__vld_bf16, 2, xlstm__deq_bf16_scalar)
}
XLSTM__VI void xlstm__deq_f16_v(float *out, const unsigned char *row, const float *scale, int n) {
    XLSTM__DEQ_LOOP(xlstm__vld_f16, 2, xlstm__deq_f16_scalar)
}
XLSTM__VI void xlstm__deq_q8_v(float *out, const unsigned char *row, const float *scale, int n) {
    xlstm__v16f v;
    int b;
    for (b = 0; b < n / XLSTM__QBLOCK; b++) {
        const unsigned char *q = row + (size_t)b * XLSTM__QBLOCK;
        xlstm__vld_i8(&v, q);
        v *= scale[b];
        xlstm__vst(out + (size_t)b * XLSTM__QBLOCK, &v);
        xlstm__vld_i8(&v, q + 16);
        v *= scale[b];
        xlstm__vst(out + (size_t)b * XLSTM__QBLOCK + 16, &v);
    }
}
XLSTM__VI void xlstm__deq_q4_v(float *out, const unsigned char *row, const float *scale, int n) {
    xlstm__v16f lo, hi;
    int b;
    for (b = 0; b < n / XLSTM__QBLOCK; b++) {
        xlstm__q4_unpack(row + (size_t)b * (XLSTM__QBLOCK / 2), &lo, &hi);
        lo *= scale[b];
        hi *= scale[b];
        xlstm__vst(out + (size_t)b * XLSTM__QBLOCK, &lo);
        xlstm__vst(out + (size_t)b * XLSTM__QBLOCK + 16, &hi);
    }
}

/* f32 tile: up to 4 weight rows against nx vectors; each x chunk is loaded once
   for 4 rows, and the rows stay in L1 across the vectors. */
XLSTM__VI void xlstm__tile_v(const float *W, int nr, int n, const float *X, size_t ldx, int nx, float *const *Y, int r0) {
    int j, r, i;
    if (nr < 4) {
        for (j = 0; j < nx; j++)
            for (r = 0; r < nr; r++)
                Y[j][r0 + r] = xlstm__dot_f32_v(XLSTM__CAST(const unsigned char *, XLSTM__CAST(const void *, W + (size_t)r * n)),
                                                NULL, X + j * ldx, n);
        return;
    }
    for (j = 0; j < nx; j++) {
        const float *x = X + j * ldx;
        const float *w0 = W, *w1 = W + n, *w2 = W + 2 * (size_t)n, *w3 = W + 3 * (size_t)n;
        xlstm__v16f a0, a1, a2, a3, xv, t;
        float s0, s1, s2, s3;
        xlstm__vzero(&a0), xlstm__vzero(&a1), xlstm__vzero(&a2), xlstm__vzero(&a3);
        for (i = 0; i + 16 <= n; i += 16) {
            xlstm__vld(&xv, x + i);
            xlstm__vld(&t, w0 + i), a0 += t * xv;
            xlstm__vld(&t, w1 + i), a1 += t * xv;
            xlstm__vld(&t, w2 + i), a2 += t * xv;
            xlstm__vld(&t, w3 + i), a3 += t * xv;
        }
        s0 = xlstm__vsum(&a0), s1 = xlstm__vsum(&a1), s2 = xlstm__vsum(&a2), s3 = xlstm__vsum(&a3);
        for (; i < n; i++) {
            s0 += w0[i] * x[i];
            s1 += w1[i] * x[i];
            s2 += w2[i] * x[i];
            s3 += w3[i] * x[i];
        }
        Y[j][r0] = s0, Y[j][r0 + 1] = s1, Y[j][r0 + 2] = s2, Y[j][r0 + 3] = s3;
    }
}

XLSTM__VI void xlstm__axpy_v(float *y, float a, const float *x, int n) {
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        xlstm__v16f yv, xv;
        xlstm__vld(&yv, y + i);
        xlstm__vld(&xv, x + i);
        yv += a * xv;
        xlstm__vst(y + i, &yv);
    }
    for (; i < n; i++) y[i] += a * x[i];
}

XLSTM__VI float xlstm__mlstm_head_v(float *C, float *nv, const float *q, const float *k, const float *v, float f,
                                    float i, int dk, int dv, float *h) {
    float qn = 0.0f;
    int a, b;
    if (dv % 16) return xlstm__mlstm_head_scalar(C, nv, q, k, v, f, i, dk, dv, h);
    for (b = 0; b < dv; b++) h[b] = 0.0f;
    for (a = 0; a < dk; a++) {
        float ka = i * k[a], qa = q[a];
        float *Ca = C + (size_t)a * dv;
        for (b = 0; b < dv; b += 16) {
            xlstm__v16f c, vb, hb;
            xlstm__vld(&c, Ca + b);
            xlstm__vld(&vb, v + b);
            xlstm__vld(&hb, h + b);
            c = f * c + ka * vb;
            hb += qa * c;
            xlstm__vst(Ca + b, &c);
            xlstm__vst(h + b, &hb);
        }
        nv[a] = f * nv[a] + ka;
        qn += qa * nv[a];
    }
    return qn;
}

/* Instantiate the vector bodies for one target. */
#define XLSTM__VEC_KERNELS(SUF, ATTR)                                                                              \
    ATTR static float xlstm__dot_f32_##SUF(const unsigned char *r, const float *s, const float *x, int n) {       \
        return xlstm__dot_f32_v(r, s, x, n);                                                                       \
    }                                                                                                              \
    ATTR static float xlstm__dot_bf16_##SUF(const unsigned char *r, const float *s, const float *x, int n) {      \
        return xlstm__dot_bf16_v(r, s, x, n);                                                                      \
    }                                                                                                              \
    ATTR static float xlstm__dot_f16_##SUF(const unsigned char *r, const float *s, const float *x, int n) {       \
        return xlstm__dot_f16_v(r, s, x, n);                                                                       \
    }                                                                                                              \
    ATTR static float xlstm__dot_q8_##SUF(const unsigned char *r, const float *s, const float *x, int n) {        \
        return xlstm__dot_q8_v(r, s, x, n);                                                                        \
    }                                                                                                              \
    ATTR static float xlstm__dot_q4_##SUF(const unsigned char *r, const float *s, const float *x, int n) {        \
        return xlstm__dot_q4_v(r, s, x, n);                                                                        \
    }                                                                                                              \
    ATTR static void xlstm__deq_f32_##SUF(float *o, const unsigned char *r, const float *s, int n) {              \
        xlstm__deq_f32_v(o, r, s, n);                                                                              \
    }                                                                                                              \
    ATTR static void xlstm__deq_bf16_##SUF(float *o, const unsigned char *r, const float *s, int n) {             \
        xlstm__deq_bf16_v(o, r, s, n);                                                                             \
    }                                                                                                              \
    ATTR static void xlstm__deq_f16_##SUF(float *o, const unsigned char *r, const float *s, int n) {              \
        xlstm__deq_f16_v(o, r, s, n);                                                                              \
    }                                                                                                              \
    ATTR static void xlstm__deq_q8_##SUF(float *o, const unsigned char *r, const float *s, int n) {               \
        xlstm__deq_q8_v(o, r, s, n);                                                                               \
    }                                                                                                              \
    ATTR static void xlstm__deq_q4_##SUF(float *o, const unsigned char *r, const float *s, int n) {               \
        xlstm__deq_q4_v(o, r, s, n);                                                                               \
    }                                                                                                              \
    ATTR static void xlstm__tile_##SUF(const float *W, int nr, int n, const float *X, size_t ldx, int nx,         \
                                       float *const *Y, int r0) {                                                  \
        xlstm__tile_v(W, nr, n, X, ldx, nx, Y, r0);                                                                \
    }                                                                                                              \
    ATTR static void xlstm__axpy_##SUF(float *y, float a, const float *x, int n) { xlstm__axpy_v(y, a, x, n); }     \
    ATTR static float xlstm__mlstm_head_##SUF(float *C, float *nv, const float *q, const float *k, const float *v, \
                                              float f, float i, int dk, int dv, float *h) {                        \
        return xlstm__mlstm_head_v(C, nv, q, k, v, f, i, dk, dv, h);                                               \
    }                                                                                                              \
    static const xlstm__kern xlstm__kern_##SUF = {                                                                 \
        #SUF,                                                                                                      \
        {xlstm__dot_f32_##SUF, xlstm__dot_bf16_##SUF, xlstm__dot_f16_##SUF, xlstm__dot_q8_##SUF,                   \
         xlstm__dot_q4_##SUF},                                                                                     \
        {xlstm__deq_f32_##SUF, xlstm__deq_bf16_##SUF, xlstm__deq_f16_##SUF, xlstm__deq_q8_##SUF,                   \
         xlstm__deq_q4_##SUF},                                                                                     \
        xlstm__tile_##SUF,                                                                                         \
        xlstm__axpy_##SUF,                                                                                         \
        xlstm__mlstm_head_##SUF,                                                                                   \
    };

XLSTM__VEC_KERNELS(simd, )
#if defined(__x86_64__) || defined(__i386__)
#define XLSTM__HAVE_X86 1
XLSTM__VEC_KERNELS(avx2, __attribute__((target("avx2,fma"))))
XLSTM__VEC_KERNELS(avx512, __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma"))))
#endif
#endif /* vectors */

static const xlstm__kern *xlstm__pick_kernels(xlstm_kernels want) {
#if defined(XLSTM__HAVE_X86)
    int has_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    int has_avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                     __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
#endif
    switch (want) {
    case XLSTM_KERNELS_SCALAR: return &xlstm__kern_scalar;
#if defined(XLSTM__HAVE_VEC)
    case XLSTM_KERNELS_SIMD: return &xlstm__kern_simd;
#endif
#if defined(XLSTM__HAVE_X86)
    case XLSTM_KERNELS_AVX2: return has_avx2 ? &xlstm__kern_avx2 : NULL;
    case XLSTM_KERNELS_AVX512: return has_avx512 ? &xlstm__kern_avx512 : NULL;
#endif
    case XLSTM_KERNELS_AUTO:
#if defined(XLSTM__HAVE_X86)
        if (has_avx512) return &xlstm__kern_avx512;
        if (has_avx2) return &xlstm__kern_avx2;
#endif
#if defined(XLSTM__HAVE_VEC)
        return &xlstm__kern_simd;
#else
        return &xlstm__kern_scalar;
#endif
    default: return NULL;
    }
}

XLSTMDEF const char *xlstm_model_kernels(const xlstm_model *m) { return m ? m->kern->name : ""; }

/* ---- small pointwise kernels ------------------------------------------------- */

/* LayerNorm without bias, weight stored as an offset (scale = 1 + w), eps 1e-5.
   w may be NULL (no affine). Statistics in double: inputs can be large. */
static void xlstm__layernorm(float *y, const float *x, const float *w, int n) {
    double mean = 0, var = 0;
    float inv;
    int i;
    for (i = 0; i < n; i++) mean += x[i];
    mean /= n;
    for (i = 0; i < n; i++) var += (x[i] - mean) * (x[i] - mean);
    var /= n;
    inv = XLSTM__CAST(float, 1.0 / sqrt(var + 1e-5));
    for (i = 0; i < n; i++) {
        float v = XLSTM__CAST(float, x[i] - mean) * inv;
        y[i] = w ? v * (1.0f + w[i]) : v;
    }
}

/* Multi-head norm: one group norm group per head, per-channel offset weight. */
static void xlstm__groupnorm(float *y, const float *x, const float *w, int heads, int dh) {
    int h;
    for (h = 0; h < heads; h++) {
        size_t off = XLSTM__CAST(size_t, h) * XLSTM__CAST(size_t, dh);
        xlstm__layernorm(y + off, x + off, w ? w + off : NULL, dh);
    }
}

static float xlstm__sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }
static float xlstm__silu(float x) { return x / (1.0f + expf(-x)); }
/* log(sigmoid(x)) without overflow for large |x| */
static float xlstm__logsigmoid(float x) { return (x < 0 ? x : 0.0f) - log1pf(expf(-fabsf(x))); }

static float xlstm__act(int act, float x) {
    switch (act) {
    case XLSTM_ACT_GELU: return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
    case XLSTM_ACT_SWISH: return xlstm__silu(x);
    case XLSTM_ACT_RELU: return x > 0 ? x : 0.0f;
    case XLSTM_ACT_RELU2: return x > 0 ? x * x : 0.0f;
    case XLSTM_ACT_SIGMOID: return xlstm__sigmoid(x);
    case XLSTM_ACT_SELU:
        return 1.0507009873554804934f * (x > 0 ? x : 1.6732632423543772848f * expm1f(x));
    }
    return x;
}

/* Causal depthwise conv over the last K inputs, one step. hist is (K-1, C):
   the previous inputs, oldest first; it is shifted to take x. */
static void xlstm__conv_step(float *y, float *hist, const float *x, const float *w, const float *b, int C, int K) {
    int c, k;
    for (c = 0; c < C; c++) {
        const float *wc = w + XLSTM__CAST(size_t, c) * XLSTM__CAST(size_t, K);
        float acc = b[c] + wc[K - 1] * x[c];
        for (k = 0; k < K - 1; k++) acc += wc[k] * hist[XLSTM__CAST(size_t, k) * C + c];
        y[c] = acc;
    }
    if (K > 1) {
        memmove(hist, hist + C, XLSTM__CAST(size_t, K - 2) * C * sizeof(float));
        memcpy(hist + XLSTM__CAST(size_t, K - 2) * C, x, XLSTM__CAST(size_t, C) * sizeof(float));
    }
}

/* ---- state ------------------------------------------------------------- */

#ifndef XLSTM_PREFILL_ROWS
#define XLSTM_PREFILL_ROWS 32 /* tokens per prefill chunk; also the largest batch per pass */
#endif

/* Per block recurrent state, pointers into state->mem:
     mLSTM: conv (K-1, I); C (NH, DH, DH); n (NH, DH); m (NH)
     sLSTM: conv (K-1, D); y, c, n, m (D each) */
typedef struct xlstm__bstate {
    float *conv, *C, *n, *m, *y, *c;
} xlstm__bstate;

/* Scratch rows: one row per token of a prefill chunk, or per sequence of a batch. */
struct xlstm_state {
    const xlstm_model *model;
    float *mem;     /* recurrent state: everything reset() zeroes */
    size_t mem_len; /* floats */
    xlstm__bstate *bs;
    float *logits;  /* (V) */
    /* scratch, XLSTM_PREFILL_ROWS rows each */
    float *x, *xn, *up, *conv, *qkv, *h, *raw, *gates;
    size_t ld_up, ld_wide; /* row strides of up (2 max(I,P)) and conv/h (max(I,D)) */
    float *chunk;          /* chunkwise mLSTM: (R, R) weights + (4, R) vectors */
    float *deq;            /* per-thread dequantised weight tiles: (threads, 4, max_cols) */
    size_t deq_stride;
    int n_threads;
    float **yptr;              /* (R) output row pointers */
    xlstm_state **owner;       /* (R) whose recurrent state each row uses */
};

static size_t xlstm__state_floats(const xlstm_config *c, int b) {
    size_t D = XLSTM__CAST(size_t, c->embedding_dim);
    if (c->arch == XLSTM_ARCH_LARGE) { /* C (NH, DK, DV); n (NH, DK); m (NH) */
        size_t NH = XLSTM__CAST(size_t, c->large.num_heads), DK = XLSTM__CAST(size_t, c->large.qk_head_dim);
        return NH * DK * XLSTM__CAST(size_t, c->large.v_head_dim) + NH * DK + NH;
    }
    if (c->block_kind[b] == XLSTM_BLOCK_MLSTM) {
        size_t I = XLSTM__CAST(size_t, c->mlstm.inner_dim), NH = XLSTM__CAST(size_t, c->mlstm.num_heads);
        size_t DH = XLSTM__CAST(size_t, c->mlstm.head_dim), K = XLSTM__CAST(size_t, c->mlstm.conv1d_kernel_size);
        return (K > 1 ? (K - 1) * I : 0) + NH * DH * DH + NH * DH + NH;
    } else {
        size_t K = XLSTM__CAST(size_t, c->slstm.conv1d_kernel_size);
        return (K > 1 ? (K - 1) * D : 0) + 4 * D;
    }
}

XLSTMDEF void xlstm_state_free(xlstm_state *s);

XLSTMDEF xlstm_status xlstm_state_create(const xlstm_model *model, xlstm_state **out, xlstm_error *err) {
    const xlstm_config *c;
    xlstm_state *s;
    size_t total = 0, D, I, P, V, NH, R = XLSTM_PREFILL_ROWS, wide, cols, scratch, i, ld_qkv;
    float *p;
    int b;
    if (!out) return xlstm__fail(err, XLSTM_ERR_ARG, "out_state is NULL");
    *out = NULL;
    if (!model) return xlstm__fail(err, XLSTM_ERR_ARG, "model is NULL");
    c = &model->cfg;
    /* sizes were bounded by the config caps (dims <= 2^20, blocks <= 1024), so
       these products fit in 64 bits */
    for (b = 0; b < c->num_blocks; b++) total += xlstm__state_floats(c, b);
    D = XLSTM__CAST(size_t, c->embedding_dim);
    V = XLSTM__CAST(size_t, c->vocab_size);
    if (c->arch == XLSTM_ARCH_LARGE) {
        /* qkv rows hold (q | k | v); "I" sizes the wide rows, "P" the (gate | up) rows */
        size_t QK = XLSTM__CAST(size_t, c->large.qk_dim), VD = XLSTM__CAST(size_t, c->large.v_dim);
        I = VD;
        P = XLSTM__CAST(size_t, c->large.ffn_dim);
        NH = XLSTM__CAST(size_t, c->large.num_heads);
        ld_qkv = 2 * QK + VD;
    } else {
        I = XLSTM__CAST(size_t, c->mlstm.inner_dim);
        P = XLSTM__CAST(size_t, c->ffn.proj_up_dim);
        NH = XLSTM__CAST(size_t, c->mlstm.num_heads);
        ld_qkv = 3 * I;
    }
    wide = I > D ? I : D;
    cols = ld_qkv > wide ? ld_qkv : wide;
    if (P > cols) cols = P;
    s = XLSTM__CAST(xlstm_state *, xlstm__malloc(&model->alloc, sizeof *s));
    if (!s) return xlstm__fail(err, XLSTM_ERR_NOMEM, "out of memory for the state");
    memset(s, 0, sizeof *s);
    s->model = model;
    s->mem_len = total;
    s->n_threads = 1;
#ifdef _OPENMP
    s->n_threads = omp_get_max_threads();
    if (s->n_threads < 1) s->n_threads = 1;
    if (s->n_threads > 256) s->n_threads = 256;
#endif
    s->ld_up = 2 * (I > P ? I : P);
    s->ld_wide = wide;
    s->deq_stride = 4 * cols;
    scratch = V + R * (2 * D + s->ld_up + 2 * wide + ld_qkv + (4 * D > wide ? 4 * D : wide) + 2 * NH) + R * R + 4 * R +
              XLSTM__CAST(size_t, s->n_threads) * s->deq_stride + 64;
    s->mem = XLSTM__CAST(float *, xlstm__malloc(&model->alloc, (total + scratch) * sizeof(float)));
    s->bs = XLSTM__CAST(xlstm__bstate *, xlstm__malloc(&model->alloc, (XLSTM__CAST(size_t, c->num_blocks) + 1) * sizeof(xlstm__bstate)));
    s->yptr = XLSTM__CAST(float **, xlstm__malloc(&model->alloc, R * sizeof(float *)));
    s->owner = XLSTM__CAST(xlstm_state **, xlstm__malloc(&model->alloc, R * sizeof(xlstm_state *)));
    if (!s->mem || !s->bs || !s->yptr || !s->owner) {
        xlstm_state_free(s);
        return xlstm__fail(err, XLSTM_ERR_NOMEM, "out of memory for the state");
    }
    p = s->mem;
    for (b = 0; b < c->num_blocks; b++) {
        xlstm__bstate *bs = &s->bs[b];
        memset(bs, 0, sizeof *bs);
        if (c->arch == XLSTM_ARCH_LARGE) {
            size_t DK = XLSTM__CAST(size_t, c->large.qk_head_dim), DV = XLSTM__CAST(size_t, c->large.v_head_dim);
            bs->C = p, p += NH * DK * DV;
            bs->n = p, p += NH * DK;
            bs->m = p, p += NH;
        } else if (c->block_kind[b] == XLSTM_BLOCK_MLSTM) {
            size_t DH = XLSTM__CAST(size_t, c->mlstm.head_dim), K = XLSTM__CAST(size_t, c->mlstm.conv1d_kernel_size);
            bs->conv = p;
            p += K > 1 ? (K - 1) * I : 0;
            bs->C = p, p += NH * DH * DH;
            bs->n = p, p += NH * DH;
            bs->m = p, p += NH;
        } else {
            size_t K = XLSTM__CAST(size_t, c->slstm.conv1d_kernel_size);
            bs->conv = p;
            p += K > 1 ? (K - 1) * D : 0;
            bs->y = p, p += D;
            bs->c = p, p += D;
            bs->n = p, p += D;
            bs->m = p, p += D;
        }
    }
    s->logits = p, p += V;
    s->x = p, p += R * D;
    s->xn = p, p += R * D;
    s->up = p, p += R * s->ld_up;
    s->conv = p, p += R * wide;
    s->h = p, p += R * wide;
    s->qkv = p, p += R * ld_qkv;
    s->raw = p, p += R * (4 * D > wide ? 4 * D : wide);
    s->gates = p, p += R * 2 * NH;
    s->chunk = p, p += R * R + 4 * R;
    i = XLSTM__CAST(size_t, XLSTM__ADDR(p) % 64) / sizeof(float); /* 64-byte align the tiles */
    s->deq = p + (i ? 16 - i : 0);
    xlstm_state_reset(s);
    *out = s;
    return XLSTM_OK;
}

XLSTMDEF void xlstm_state_reset(xlstm_state *s) {
    if (!s) return;
    /* the empty sequence: memories, normalisers, stabilisers and conv history
       all zero, as the reference's step() starts them */
    memset(s->mem, 0, s->mem_len * sizeof(float));
    memset(s->logits, 0, XLSTM__CAST(size_t, s->model->cfg.vocab_size) * sizeof(float));
}

XLSTMDEF xlstm_status xlstm_state_copy(xlstm_state *dst, const xlstm_state *src) {
    if (!dst || !src || dst->model != src->model) return XLSTM_ERR_ARG;
    if (dst == src) return XLSTM_OK;
    memcpy(dst->mem, src->mem, src->mem_len * sizeof(float));
    memcpy(dst->logits, src->logits, XLSTM__CAST(size_t, src->model->cfg.vocab_size) * sizeof(float));
    return XLSTM_OK;
}

XLSTMDEF void xlstm_state_free(xlstm_state *s) {
    if (!s) return;
    xlstm__free(&s->model->alloc, s->mem);
    xlstm__free(&s->model->alloc, s->bs);
    xlstm__free(&s->model->alloc, XLSTM__CAST(void *, s->yptr));
    xlstm__free(&s->model->alloc, XLSTM__CAST(void *, s->owner));
    xlstm__free(&s->model->alloc, XLSTM__CAST(void *, s));
}

XLSTMDEF size_t xlstm_state_recurrent_bytes(const xlstm_state *s) { return s ? s->mem_len * sizeof(float) : 0; }

/* blob: "XLST" magic, u32 version, u64 model fingerprint, u64 float count, floats (host byte order) */
#define XLSTM__BLOB_MAGIC 0x54534C58u
#define XLSTM__BLOB_VERSION 1u
#define XLSTM__BLOB_HEADER 24

XLSTMDEF size_t xlstm_state_blob_size(const xlstm_state *s) {
    return s ? XLSTM__BLOB_HEADER + s->mem_len * sizeof(float) : 0;
}

XLSTMDEF xlstm_status xlstm_state_save(const xlstm_state *s, void *dst, size_t dst_size) {
    unsigned char *p = XLSTM__CAST(unsigned char *, dst);
    uint32_t magic = XLSTM__BLOB_MAGIC, version = XLSTM__BLOB_VERSION;
    uint64_t count;
    if (!s || !dst || dst_size < xlstm_state_blob_size(s)) return XLSTM_ERR_ARG;
    count = s->mem_len;
    memcpy(p, &magic, 4);
    memcpy(p + 4, &version, 4);
    memcpy(p + 8, &s->model->fingerprint, 8);
    memcpy(p + 16, &count, 8);
    memcpy(p + XLSTM__BLOB_HEADER, s->mem, s->mem_len * sizeof(float));
    return XLSTM_OK;
}

XLSTMDEF xlstm_status xlstm_state_restore(xlstm_state *s, const void *src, size_t src_size) {
    const unsigned char *p = XLSTM__CAST(const unsigned char *, src);
    uint32_t magic, version;
    uint64_t fp, count;
    size_t i;
    if (!s || !src) return XLSTM_ERR_ARG;
    if (src_size < XLSTM__BLOB_HEADER) return XLSTM_ERR_TRUNCATED;
    memcpy(&magic, p, 4);
    memcpy(&version, p + 4, 4);
    memcpy(&fp, p + 8, 8);
    memcpy(&count, p + 16, 8);
    if (magic != XLSTM__BLOB_MAGIC || version != XLSTM__BLOB_VERSION) return XLSTM_ERR_FORMAT;
    if (fp != s->model->fingerprint || count != s->mem_len) return XLSTM_ERR_SHAPE;
    if (src_size != xlstm_state_blob_size(s)) return XLSTM_ERR_TRUNCATED;
    for (i = 0; i < s->mem_len; i++) {
        float v;
        memcpy(&v, p + XLSTM__BLOB_HEADER + i * sizeof(float), sizeof v);
        if (!isfinite(v)) return XLSTM_ERR_VALUE;
    }
    memcpy(s->mem, p + XLSTM__BLOB_HEADER, s->mem_len * sizeof(float));
    memset(s->logits, 0, XLSTM__CAST(size_t, s->model->cfg.vocab_size) * sizeof(float));
    return XLSTM_OK;
}

/* ---- matrix products ------------------------------------------------------------ */

/* Y[j] = W x_j (+ bias) for the nx row vectors of X (stride ldx). Output rows
   go to Y + j*ldy, or to Yrows[j] when Yrows is given. One vector: a fused
   dot per weight row, reading each weight once. Several: tiles of 4 rows
   dequantised to f32 once and reused for every vector. */
static void xlstm__matmul(xlstm_state *s, const xlstm__mat *m, const float *X, size_t ldx, int nx, float *Y,
                          size_t ldy, float *const *Yrows, const float *bias) {
    const xlstm__kern *k = s->model->kern;
    float *const *yp = Yrows;
    int r, j, rows = m->rows, cols = m->cols;
    size_t nblk = XLSTM__CAST(size_t, cols) / XLSTM__QBLOCK;
    if (!yp) {
        for (j = 0; j < nx; j++) s->yptr[j] = Y + XLSTM__CAST(size_t, j) * ldy;
        yp = s->yptr;
    }
    if (nx == 1) {
        float *y = yp[0];
#ifdef _OPENMP
#pragma omp parallel for num_threads(s->n_threads) schedule(static) if (XLSTM__CAST(size_t, rows) * XLSTM__CAST(size_t, cols) > 32768)
#endif
        for (r = 0; r < rows; r++)
            y[r] = k->dot[m->dtype](m->w + XLSTM__CAST(size_t, r) * m->row_bytes, m->scale ? m->scale + XLSTM__CAST(size_t, r) * nblk : NULL, X, cols);
    } else {
        int tiles = (rows + 3) / 4;
#ifdef _OPENMP
#pragma omp parallel for num_threads(s->n_threads) schedule(static) if (XLSTM__CAST(size_t, rows) * XLSTM__CAST(size_t, cols) * XLSTM__CAST(size_t, nx) > 32768)
#endif
        for (r = 0; r < tiles; r++) {
            int r0 = 4 * r, nr = rows - r0 < 4 ? rows - r0 : 4, t, tid = 0;
            const float *W;
#ifdef _OPENMP
            tid = omp_get_thread_num();
#endif
            if (m->dtype == XLSTM__DT_F32) {
                W = XLSTM__CAST(const float *, XLSTM__CAST(const void *, m->w + XLSTM__CAST(size_t, r0) * m->row_bytes));
            } else {
                float *tile = s->deq + XLSTM__CAST(size_t, tid) * s->deq_stride;
                for (t = 0; t < nr; t++)
                    k->dequant[m->dtype](tile + XLSTM__CAST(size_t, t) * cols, m->w + XLSTM__CAST(size_t, r0 + t) * m->row_bytes,
                                         m->scale ? m->scale + XLSTM__CAST(size_t, r0 + t) * nblk : NULL, cols);
                W = tile;
            }
            k->tile(W, nr, cols, X, ldx, nx, yp, r0);
        }
    }
    if (bias)
        for (j = 0; j < nx; j++)
            for (r = 0; r < rows; r++) yp[j][r] += bias[r];
}

/* Block-diagonal (headwise) projection: m is (nb*bs, bs); output r reads the
   input block r / bs: y[r] = W[r] . x[(r/bs)*bs .. +bs]. */
static void xlstm__headwise(xlstm_state *s, const xlstm__mat *m, const float *X, size_t ldx, int nx, float *Y,
                            size_t ldy, const float *bias) {
    const xlstm__kern *k = s->model->kern;
    int j, r, bs = m->cols;
    size_t nblk = XLSTM__CAST(size_t, bs) / XLSTM__QBLOCK;
    for (j = 0; j < nx; j++) {
        const float *x = X + XLSTM__CAST(size_t, j) * ldx;
        float *y = Y + XLSTM__CAST(size_t, j) * ldy;
        if (m->dtype == XLSTM__DT_F32 && bs < 16) { /* tiny blocks: a call per output would dominate */
            const float *W = XLSTM__CAST(const float *, XLSTM__CAST(const void *, m->w));
            for (r = 0; r < m->rows; r++) {
                const float *w = W + XLSTM__CAST(size_t, r) * bs, *xb = x + XLSTM__CAST(size_t, r / bs) * bs;
                float acc = 0.0f;
                int i;
                for (i = 0; i < bs; i++) acc += w[i] * xb[i];
                y[r] = acc + (bias ? bias[r] : 0.0f);
            }
            continue;
        }
#ifdef _OPENMP
#pragma omp parallel for num_threads(s->n_threads) schedule(static) if (XLSTM__CAST(size_t, m->rows) * XLSTM__CAST(size_t, bs) > 65536)
#endif
        for (r = 0; r < m->rows; r++)
            y[r] = k->dot[m->dtype](m->w + XLSTM__CAST(size_t, r) * m->row_bytes, m->scale ? m->scale + XLSTM__CAST(size_t, r) * nblk : NULL,
                                    x + XLSTM__CAST(size_t, r / bs) * XLSTM__CAST(size_t, bs), bs) +
                   (bias ? bias[r] : 0.0f);
    }
}

/* ---- blocks ---------------------------------------------------------------- */
/* Each block works on n rows of s->x (D each). Row t uses the recurrent state
   of s->owner[t]: the same state for all rows of a prefill chunk (tokens in
   order), or one state per row in a batched step. */

/* Where the mLSTM cell reads and writes for n rows: row t's q (NH heads of dk)
   at q + t*ld, k likewise, v (NH heads of dv) at v + t*ld; gate
   pre-activations i~ at g + t*ldg + h and f~ at g + t*ldg + NH + h; the cell
   output (NH heads of dv) goes to out + t*ldo. The two architectures differ
   only in where 1/sqrt(dk) goes (k in 2024, q in Large: the caller pre-scales
   q and passes k_scale 1) and in eps. */
typedef struct xlstm__cellp {
    int NH, dk, dv;
    float k_scale, eps;
    const float *q, *k, *v, *g;
    size_t ld, ldg;
    float *out;
    size_t ldo;
} xlstm__cellp;

/* h = num / (max(|q.n|, exp(-m)) + eps): the exp(-m) floor is the stabilised
   form of the paper's max(|q.n|, 1), in units where n carries a factor e^-m */
static void xlstm__normalise_head(float *h, int dv, float qn, float m, float eps) {
    float denom = fabsf(qn);
    int b;
    if (expf(-m) > denom) denom = expf(-m);
    denom += eps;
    for (b = 0; b < dv; b++) h[b] /= denom;
}

/* The cell over a chunk of L tokens of one sequence, per head, in closed form.
   With b_t the running sum of log forget gates and g_t = b_t + m_0, the step
   recurrence unrolls to
     m_t = max(g_t, max_{s<=t} b_t - b_s + i_s)
     h_t ~ exp(g_t - m_t) q_t C_0 + sum_{s<=t} exp(b_t - b_s + i_s - m_t) (q_t.k_s) v_s
   which is the same function as L steps, computed with matrix products: the
   state is read once for the chunk instead of once per token. */
static void xlstm__mlstm_chunk(xlstm_state *s, xlstm__bstate *st, int L, const xlstm__cellp *p) {
    const int NH = p->NH, dk = p->dk, dv = p->dv;
    float *Wm = s->chunk;                                      /* (L, L): exp(D_ts - m_t) * (q_t.k_s) */
    float *cum = Wm + XLSTM_PREFILL_ROWS * XLSTM_PREFILL_ROWS; /* (L) b_t */
    float *mt = cum + XLSTM_PREFILL_ROWS;                      /* (L) m_t */
    float *alpha = mt + XLSTM_PREFILL_ROWS;                    /* (L) exp(g_t - m_t) */
    float *wl = alpha + XLSTM_PREFILL_ROWS;                    /* (L) last row's exp(D_Ls - m_L), times k_scale */
    const xlstm__kern *kern = s->model->kern;
    int hd, t, u, a, b;
#define XLSTM__ROW(base, ld, t, off) ((base) + XLSTM__CAST(size_t, t) * (ld) + XLSTM__CAST(size_t, off))
    for (hd = 0; hd < NH; hd++) {
        float *C = st->C + XLSTM__CAST(size_t, hd) * dk * dv, *nv = st->n + XLSTM__CAST(size_t, hd) * dk;
        const float m0 = st->m[hd];
        float run = 0.0f;
        for (t = 0; t < L; t++) {
            run += xlstm__logsigmoid(*XLSTM__ROW(p->g, p->ldg, t, NH + hd));
            cum[t] = run;
        }
        for (t = 0; t < L; t++) {
            const float *qt = XLSTM__ROW(p->q, p->ld, t, hd * dk);
            float *ht = XLSTM__ROW(p->out, p->ldo, t, hd * dv);
            float m = cum[t] + m0, qn;
            for (u = 0; u <= t; u++) {
                float d = cum[t] - cum[u] + *XLSTM__ROW(p->g, p->ldg, u, hd);
                if (d > m) m = d;
            }
            mt[t] = m;
            alpha[t] = expf(cum[t] + m0 - m);
            for (u = 0; u <= t; u++) {
                const float *ku = XLSTM__ROW(p->k, p->ld, u, hd * dk);
                float d = cum[t] - cum[u] + *XLSTM__ROW(p->g, p->ldg, u, hd);
                float qk = kern->dot[XLSTM__DT_F32](XLSTM__CAST(const unsigned char *, XLSTM__CAST(const void *, ku)), NULL, qt, dk);
                Wm[t * L + u] = expf(d - m) * qk * p->k_scale;
            }
            /* inter-chunk part: alpha_t q_t C_0 and alpha_t q_t.n_0 */
            for (b = 0; b < dv; b++) ht[b] = 0.0f;
            for (a = 0; a < dk; a++) kern->axpy(ht, alpha[t] * qt[a], C + XLSTM__CAST(size_t, a) * dv, dv);
            qn = alpha[t] * kern->dot[XLSTM__DT_F32](XLSTM__CAST(const unsigned char *, XLSTM__CAST(const void *, nv)), NULL, qt, dk);
            /* intra-chunk part */
            for (u = 0; u <= t; u++) {
                float w = Wm[t * L + u];
                kern->axpy(ht, w, XLSTM__ROW(p->v, p->ld, u, hd * dv), dv);
                qn += w;
            }
            xlstm__normalise_head(ht, dv, qn, m, p->eps);
        }
        /* carry the state to the chunk's end: C = alpha_L C_0 + sum_s w_s k_s v_s^T */
        for (u = 0; u < L; u++)
            wl[u] = expf(cum[L - 1] - cum[u] + *XLSTM__ROW(p->g, p->ldg, u, hd) - mt[L - 1]) * p->k_scale;
        for (a = 0; a < dk; a++) {
            float *Ca = C + XLSTM__CAST(size_t, a) * dv;
            float na = alpha[L - 1] * nv[a];
            for (b = 0; b < dv; b++) Ca[b] *= alpha[L - 1];
            for (u = 0; u < L; u++) {
                float w = wl[u] * *XLSTM__ROW(p->k, p->ld, u, hd * dk + a);
                kern->axpy(Ca, w, XLSTM__ROW(p->v, p->ld, u, hd * dv), dv);
                na += w;
            }
            nv[a] = na;
        }
        st->m[hd] = mt[L - 1];
    }
}

/* The cell for n rows: chunkwise for a run of one sequence's tokens, else one
   step per row (each row its own sequence, heads in parallel). */
static void xlstm__mlstm_cell(xlstm_state *s, int bi, int n, int one_sequence, const xlstm__cellp *p) {
    const int NH = p->NH, dk = p->dk, dv = p->dv;
    int i;
    if (one_sequence && n > 1) {
        xlstm__mlstm_chunk(s, &s->owner[0]->bs[bi], n, p);
        return;
    }
#ifdef _OPENMP
#pragma omp parallel for num_threads(s->n_threads) schedule(static) if (XLSTM__CAST(size_t, n) * NH * dk * dv > 65536)
#endif
    for (i = 0; i < n * NH; i++) {
        int t = i / NH, h = i % NH;
        xlstm__bstate *st = &s->owner[t]->bs[bi];
        const float ig = *XLSTM__ROW(p->g, p->ldg, t, h), fg = *XLSTM__ROW(p->g, p->ldg, t, NH + h);
        float *hh = XLSTM__ROW(p->out, p->ldo, t, h * dv);
        /* exponential input gate, sigmoid forget gate in log space; m keeps
           the largest exponent seen so exp() never overflows:
             m_t = max(log f_t + m_{t-1}, i~_t)
             f' = exp(log f_t + m_{t-1} - m_t),  i' = exp(i~_t - m_t)
           then C = f' C + i' k v^T and n = f' n + i' k */
        float logf = xlstm__logsigmoid(fg), m_old = st->m[h];
        float m_new = logf + m_old > ig ? logf + m_old : ig;
        float fa = expf(logf + m_old - m_new), ia = expf(ig - m_new), qn;
        st->m[h] = m_new;
        qn = s->model->kern->mlstm_head(st->C + XLSTM__CAST(size_t, h) * dk * dv, st->n + XLSTM__CAST(size_t, h) * dk,
                                        XLSTM__ROW(p->q, p->ld, t, h * dk), XLSTM__ROW(p->k, p->ld, t, h * dk),
                                        XLSTM__ROW(p->v, p->ld, t, h * dv), fa, ia * p->k_scale, dk, dv, hh);
        xlstm__normalise_head(hh, dv, qn, m_new, p->eps);
    }
}

/* mLSTM block (pre up-projection). */
static void xlstm__mlstm_block(xlstm_state *s, int bi, int n, int one_sequence) {
    const xlstm_model *mdl = s->model;
    const xlstm_config *c = &mdl->cfg;
    const xlstm__block *w = &mdl->blocks[bi];
    const int D = c->embedding_dim, I = c->mlstm.inner_dim, NH = c->mlstm.num_heads, DH = c->mlstm.head_dim;
    const int K = c->mlstm.conv1d_kernel_size;
    const size_t q3 = XLSTM__CAST(size_t, 3) * I, ldw = s->ld_wide, ldu = s->ld_up;
    xlstm__cellp cp;
    int t, i;

    for (t = 0; t < n; t++)
        xlstm__layernorm(s->xn + XLSTM__CAST(size_t, t) * D, s->x + XLSTM__CAST(size_t, t) * D, w->norm_w, D);
    /* up-projection: rows hold (x_mlstm | z), I each */
    xlstm__matmul(s, &w->up, s->xn, XLSTM__CAST(size_t, D), n, s->up, ldu, NULL, w->up_b);
    for (t = 0; t < n; t++) { /* causal conv + SiLU on the mLSTM path, in token order */
        float *xm = s->up + XLSTM__CAST(size_t, t) * ldu, *xc = s->conv + XLSTM__CAST(size_t, t) * ldw;
        if (K > 0) xlstm__conv_step(xc, s->owner[t]->bs[bi].conv, xm, w->conv_w, w->conv_b, I, K);
        else memcpy(xc, xm, XLSTM__CAST(size_t, I) * sizeof(float));
        for (i = 0; i < I; i++) xc[i] = xlstm__silu(xc[i]);
    }
    /* q, k from the conv path, v from the plain path; rows hold (q | k | v) */
    xlstm__headwise(s, &w->q, s->conv, ldw, n, s->qkv, q3, w->q_b);
    xlstm__headwise(s, &w->k, s->conv, ldw, n, s->qkv + I, q3, w->k_b);
    xlstm__headwise(s, &w->v, s->up, ldu, n, s->qkv + 2 * I, q3, w->v_b);
    /* gate pre-activations from concat(q, k, v): rows hold (i~ | f~), NH each */
    xlstm__matmul(s, &w->ig, s->qkv, q3, n, s->gates, XLSTM__CAST(size_t, 2) * NH, NULL, w->ig_b);
    xlstm__matmul(s, &w->fg, s->qkv, q3, n, s->gates + NH, XLSTM__CAST(size_t, 2) * NH, NULL, w->fg_b);

    cp.NH = NH, cp.dk = DH, cp.dv = DH;
    cp.k_scale = 1.0f / sqrtf(XLSTM__CAST(float, DH)); /* k is scaled by 1/sqrt(DH) */
    cp.eps = 1e-6f;
    cp.q = s->qkv, cp.k = s->qkv + I, cp.v = s->qkv + 2 * I, cp.ld = q3;
    cp.g = s->gates, cp.ldg = XLSTM__CAST(size_t, 2) * NH;
    cp.out = s->h, cp.ldo = ldw;
    xlstm__mlstm_cell(s, bi, n, one_sequence, &cp);

    for (t = 0; t < n; t++) {
        float *h = s->h + XLSTM__CAST(size_t, t) * ldw, *hn = s->raw + XLSTM__CAST(size_t, t) * ldw;
        const float *xc = s->conv + XLSTM__CAST(size_t, t) * ldw, *z = s->up + XLSTM__CAST(size_t, t) * ldu + I;
        xlstm__groupnorm(hn, h, w->outnorm_w, NH, DH);
        /* learnable skip from the conv path, then the output gate SiLU(z) */
        for (i = 0; i < I; i++) hn[i] = (hn[i] + w->skip[i] * xc[i]) * xlstm__silu(z[i]);
    }
    xlstm__matmul(s, &w->down, s->raw, ldw, n, s->xn, XLSTM__CAST(size_t, D), NULL, w->down_b);
    for (i = 0; i < n * D; i++) s->x[i] += s->xn[i];
}

/* RMSNorm: x * rsqrt(mean(x^2) + eps) * w (+ b); statistics in double. */
static void xlstm__rmsnorm(float *y, const float *x, const float *w, const float *b, int n, float eps) {
    double ss = 0;
    float inv;
    int i;
    for (i = 0; i < n; i++) ss += XLSTM__CAST(double, x[i]) * x[i];
    inv = XLSTM__CAST(float, 1.0 / sqrt(ss / n + eps));
    for (i = 0; i < n; i++) y[i] = x[i] * inv * (w ? w[i] : 1.0f) + (b ? b[i] : 0.0f);
}

/* Per-head LayerNorm (biased variance) with a plain weight and optional bias. */
static void xlstm__headnorm(float *y, const float *x, const float *w, const float *b, int heads, int dh, float eps) {
    int h, i;
    for (h = 0; h < heads; h++) {
        const float *xh = x + XLSTM__CAST(size_t, h) * dh;
        float *yh = y + XLSTM__CAST(size_t, h) * dh;
        double mean = 0, var = 0;
        float inv;
        for (i = 0; i < dh; i++) mean += xh[i];
        mean /= dh;
        for (i = 0; i < dh; i++) var += (xh[i] - mean) * (xh[i] - mean);
        inv = XLSTM__CAST(float, 1.0 / sqrt(var / dh + eps));
        for (i = 0; i < dh; i++) {
            size_t j = XLSTM__CAST(size_t, h) * dh + i;
            yh[i] = XLSTM__CAST(float, xh[i] - mean) * inv * w[j] + (b ? b[j] : 0.0f);
        }
    }
}

static float xlstm__soft_cap(float x, float cap) { return cap > 0 ? cap * tanhf(x / cap) : x; }

/* xLSTM Large block: RMSNorm -> mLSTM layer -> residual; RMSNorm -> SwiGLU -> residual. */
static void xlstm__large_block(xlstm_state *s, int bi, int n, int one_sequence) {
    const xlstm_model *mdl = s->model;
    const xlstm_config *c = &mdl->cfg;
    const xlstm__block *w = &mdl->blocks[bi];
    const int D = c->embedding_dim, NH = c->large.num_heads, QK = c->large.qk_dim, VD = c->large.v_dim;
    const int DK = c->large.qk_head_dim, DV = c->large.v_head_dim, F = c->large.ffn_dim;
    const size_t ldq = XLSTM__CAST(size_t, 2) * QK + VD, ldw = s->ld_wide, ldu = s->ld_up, ldg = XLSTM__CAST(size_t, 2) * NH;
    const float q_scale = 1.0f / sqrtf(XLSTM__CAST(float, DK));
    xlstm__cellp cp;
    int t, i;

    for (t = 0; t < n; t++)
        xlstm__rmsnorm(s->xn + XLSTM__CAST(size_t, t) * D, s->x + XLSTM__CAST(size_t, t) * D, w->norm_w, w->norm_b, D,
                       c->large.norm_eps);
    /* rows of qkv hold (q | k | v); the output gate goes to conv */
    xlstm__matmul(s, &w->q, s->xn, XLSTM__CAST(size_t, D), n, s->qkv, ldq, NULL, w->q_b);
    xlstm__matmul(s, &w->k, s->xn, XLSTM__CAST(size_t, D), n, s->qkv + QK, ldq, NULL, w->k_b);
    xlstm__matmul(s, &w->v, s->xn, XLSTM__CAST(size_t, D), n, s->qkv + 2 * QK, ldq, NULL, w->v_b);
    xlstm__matmul(s, &w->o, s->xn, XLSTM__CAST(size_t, D), n, s->conv, ldw, NULL, w->o_b);
    xlstm__matmul(s, &w->ig, s->xn, XLSTM__CAST(size_t, D), n, s->gates, ldg, NULL, w->ig_b);
    xlstm__matmul(s, &w->fg, s->xn, XLSTM__CAST(size_t, D), n, s->gates + NH, ldg, NULL, w->fg_b);
    for (t = 0; t < n; t++) {
        float *g = s->gates + XLSTM__CAST(size_t, t) * ldg, *q = s->qkv + XLSTM__CAST(size_t, t) * ldq;
        for (i = 0; i < 2 * NH; i++) g[i] = xlstm__soft_cap(g[i], c->large.gate_soft_cap);
        for (i = 0; i < QK; i++) q[i] *= q_scale; /* here q carries 1/sqrt(dk), not k */
    }
    cp.NH = NH, cp.dk = DK, cp.dv = DV;
    cp.k_scale = 1.0f;
    cp.eps = c->large.eps;
    cp.q = s->qkv, cp.k = s->qkv + QK, cp.v = s->qkv + 2 * QK, cp.ld = ldq;
    cp.g = s->gates, cp.ldg = ldg;
    cp.out = s->h, cp.ldo = ldw;
    xlstm__mlstm_cell(s, bi, n, one_sequence, &cp);
    for (t = 0; t < n; t++) { /* per-head norm, then the sigmoid output gate */
        float *h = s->h + XLSTM__CAST(size_t, t) * ldw, *hn = s->raw + XLSTM__CAST(size_t, t) * ldw;
        const float *o = s->conv + XLSTM__CAST(size_t, t) * ldw;
        xlstm__headnorm(hn, h, w->outnorm_w, w->outnorm_b, NH, DV, c->large.norm_eps);
        for (i = 0; i < VD; i++) hn[i] *= xlstm__sigmoid(o[i]);
    }
    xlstm__matmul(s, &w->down, s->raw, ldw, n, s->xn, XLSTM__CAST(size_t, D), NULL, w->down_b);
    for (i = 0; i < n * D; i++) s->x[i] += s->xn[i];

    /* SwiGLU feed-forward: rows of up hold (gate | up), F each */
    for (t = 0; t < n; t++)
        xlstm__rmsnorm(s->xn + XLSTM__CAST(size_t, t) * D, s->x + XLSTM__CAST(size_t, t) * D, w->ffn_norm_w,
                       w->ffn_norm_b, D, c->large.norm_eps);
    xlstm__matmul(s, &w->ffn_gate, s->xn, XLSTM__CAST(size_t, D), n, s->up, ldu, NULL, w->ffn_gate_b);
    xlstm__matmul(s, &w->ffn_up, s->xn, XLSTM__CAST(size_t, D), n, s->up + F, ldu, NULL, w->ffn_up_b);
    for (t = 0; t < n; t++) {
        float *u = s->up + XLSTM__CAST(size_t, t) * ldu;
        for (i = 0; i < F; i++) u[i] = xlstm__silu(u[i]) * u[F + i];
    }
    xlstm__matmul(s, &w->ffn_down, s->up, ldu, n, s->xn, XLSTM__CAST(size_t, D), NULL, w->ffn_down_b);
    for (i = 0; i < n * D; i++) s->x[i] += s->xn[i];
}

/* sLSTM block (post up-projection): sLSTM layer, then gated feed-forward. */
static void xlstm__slstm_block(xlstm_state *s, int bi, int n) {
    const xlstm_model *mdl = s->model;
    const xlstm_config *c = &mdl->cfg;
    const xlstm__block *w = &mdl->blocks[bi];
    const int D = c->embedding_dim, NH = c->slstm.num_heads, DH = c->slstm.head_dim;
    const int K = c->slstm.conv1d_kernel_size;
    const size_t ldw = s->ld_wide, ldr = XLSTM__CAST(size_t, 4) * D;
    int t, g, hd, j;

    for (t = 0; t < n; t++) {
        float *xn = s->xn + XLSTM__CAST(size_t, t) * D, *xc = s->conv + XLSTM__CAST(size_t, t) * ldw;
        xlstm__layernorm(xn, s->x + XLSTM__CAST(size_t, t) * D, w->norm_w, D);
        if (K > 0) {
            xlstm__conv_step(xc, s->owner[t]->bs[bi].conv, xn, w->conv_w, w->conv_b, D, K);
            for (j = 0; j < D; j++) xc[j] = xlstm__silu(xc[j]);
        } else {
            memcpy(xc, xn, XLSTM__CAST(size_t, D) * sizeof(float));
        }
    }
    /* input and forget gates see the conv path; cell input and output gate the
       raw input; rows hold (i | f | z | o), D each */
    xlstm__headwise(s, &w->gate_w[0], s->conv, ldw, n, s->raw, ldr, NULL);
    xlstm__headwise(s, &w->gate_w[1], s->conv, ldw, n, s->raw + D, ldr, NULL);
    xlstm__headwise(s, &w->gate_w[2], s->xn, XLSTM__CAST(size_t, D), n, s->raw + 2 * D, ldr, NULL);
    xlstm__headwise(s, &w->gate_w[3], s->xn, XLSTM__CAST(size_t, D), n, s->raw + 3 * D, ldr, NULL);
    for (t = 0; t < n; t++) { /* the recurrence, in token order */
        xlstm__bstate *st = &s->owner[t]->bs[bi];
        float *raw = s->raw + XLSTM__CAST(size_t, t) * ldr;
        int all_n_zero = 1;
        /* + R y_{t-1} (block-diagonal per head) + bias */
        for (hd = 0; hd < NH; hd++) {
            const float *yh = st->y + hd * DH;
            for (g = 0; g < 4; g++) {
                const float *R = w->rec + (XLSTM__CAST(size_t, hd) * 4 + g) * DH * DH; /* (DH_out, DH_in) */
                for (j = 0; j < DH; j++) {
                    float acc = mdl->kern->dot[XLSTM__DT_F32](
                        XLSTM__CAST(const unsigned char *, XLSTM__CAST(const void *, R + XLSTM__CAST(size_t, j) * DH)), NULL, yh, DH);
                    raw[g * D + hd * DH + j] += acc + w->gate_b[g * D + hd * DH + j];
                }
            }
        }
        if (c->slstm.function_lstm) { /* classic LSTM pointwise function: states y, c */
            for (j = 0; j < D; j++) {
                float ig = xlstm__sigmoid(raw[j]), fg = xlstm__sigmoid(raw[D + j]);
                float zz = tanhf(raw[2 * D + j]), og = xlstm__sigmoid(raw[3 * D + j]);
                st->c[j] = fg * st->c[j] + ig * zz;
                st->y[j] = og * tanhf(st->c[j]);
            }
        } else {
            /* the reference starts the stabiliser at i~ while the normaliser is all zero */
            for (j = 0; j < D; j++)
                if (st->n[j] != 0.0f) all_n_zero = 0;
            for (j = 0; j < D; j++) {
                float ir = raw[j], fr = raw[D + j], zr = raw[2 * D + j], orr = raw[3 * D + j];
                /* m_t = max(i~, log f + m_{t-1}); gates exp(. - m_t), capped at 1 */
                float logfm = st->m[j] + xlstm__logsigmoid(fr);
                float m_new = all_n_zero ? ir : (ir > logfm ? ir : logfm);
                float ig = expf(ir - m_new), fg = expf(logfm - m_new), og = xlstm__sigmoid(orr);
                if (ig > 1.0f) ig = 1.0f;
                if (fg > 1.0f) fg = 1.0f;
                st->c[j] = fg * st->c[j] + ig * tanhf(zr);
                st->n[j] = fg * st->n[j] + ig;
                st->m[j] = m_new;
                st->y[j] = og * st->c[j] / st->n[j];
            }
        }
        xlstm__groupnorm(s->h + XLSTM__CAST(size_t, t) * ldw, st->y, w->gn_w, NH, DH);
        for (j = 0; j < D; j++) s->x[XLSTM__CAST(size_t, t) * D + j] += s->h[XLSTM__CAST(size_t, t) * ldw + j];
    }

    if (c->ffn.present) {
        const int P = c->ffn.proj_up_dim;
        const size_t ldu = s->ld_up;
        for (t = 0; t < n; t++)
            xlstm__layernorm(s->xn + XLSTM__CAST(size_t, t) * D, s->x + XLSTM__CAST(size_t, t) * D, w->ffn_norm_w, D);
        xlstm__matmul(s, &w->ffn_up, s->xn, XLSTM__CAST(size_t, D), n, s->up, ldu, NULL, w->ffn_up_b);
        for (t = 0; t < n; t++) { /* gated: act(first half) * second half */
            float *u = s->up + XLSTM__CAST(size_t, t) * ldu;
            for (j = 0; j < P; j++) u[j] = xlstm__act(c->ffn.act_fn, u[j]) * u[P + j];
        }
        xlstm__matmul(s, &w->ffn_down, s->up, ldu, n, s->xn, XLSTM__CAST(size_t, D), NULL, w->ffn_down_b);
        for (j = 0; j < n * D; j++) s->x[j] += s->xn[j];
    }
}

/* n rows through the model. Row t is token tokens[t] of sequence s->owner[t]
   (one sequence: tokens in order). logit_rows[t] receives row t's logits, or
   is NULL when they are not needed. */
static void xlstm__forward_rows(xlstm_state *s, const int32_t *tokens, int n, int one_sequence, float *const *logit_rows) {
    const xlstm_model *m = s->model;
    const xlstm_config *c = &m->cfg;
    const int D = c->embedding_dim;
    int b, t, nl = 0;
    float *lrows[XLSTM_PREFILL_ROWS];
    for (t = 0; t < n; t++)
        m->kern->dequant[m->embedding.dtype](s->x + XLSTM__CAST(size_t, t) * D,
                                              m->embedding.w + XLSTM__CAST(size_t, tokens[t]) * m->embedding.row_bytes,
                                              m->embedding.scale ? m->embedding.scale + XLSTM__CAST(size_t, tokens[t]) * (XLSTM__CAST(size_t, D) / XLSTM__QBLOCK) : NULL,
                                              D);
    for (b = 0; b < c->num_blocks; b++) {
        if (c->arch == XLSTM_ARCH_LARGE) xlstm__large_block(s, b, n, one_sequence);
        else if (m->blocks[b].kind == XLSTM_BLOCK_MLSTM) xlstm__mlstm_block(s, b, n, one_sequence);
        else xlstm__slstm_block(s, b, n);
    }
    /* only the rows whose logits are wanted go through the head */
    for (t = 0; t < n; t++) {
        float *y = s->xn + XLSTM__CAST(size_t, nl) * D;
        const float *x = s->x + XLSTM__CAST(size_t, t) * D;
        if (!logit_rows[t]) continue;
        if (!m->post_norm) memcpy(y, x, XLSTM__CAST(size_t, D) * sizeof(float));
        else if (c->arch == XLSTM_ARCH_LARGE) xlstm__rmsnorm(y, x, m->post_norm, m->post_norm_b, D, c->large.norm_eps);
        else xlstm__layernorm(y, x, m->post_norm, D);
        lrows[nl++] = logit_rows[t];
    }
    if (nl) xlstm__matmul(s, &m->head, s->xn, XLSTM__CAST(size_t, D), nl, NULL, 0, lrows, NULL);
    if (c->arch == XLSTM_ARCH_LARGE && c->large.logit_soft_cap > 0) {
        for (t = 0; t < nl; t++) {
            int v;
            for (v = 0; v < c->vocab_size; v++) lrows[t][v] = xlstm__soft_cap(lrows[t][v], c->large.logit_soft_cap);
        }
    }
}

XLSTMDEF xlstm_status xlstm_step(xlstm_state *s, int32_t token, const float **logits) {
    float *out;
    if (!s) return XLSTM_ERR_ARG;
    if (token < 0 || token >= s->model->cfg.vocab_size) return XLSTM_ERR_TOKEN;
    s->owner[0] = s;
    out = s->logits;
    xlstm__forward_rows(s, &token, 1, 1, &out);
    if (logits) *logits = s->logits;
    return XLSTM_OK;
}

XLSTMDEF xlstm_status xlstm_prefill(xlstm_state *s, const int32_t *tokens, size_t n, float *all_logits,
                                    const float **last_logits) {
    size_t t, V, pos;
    float *rows[XLSTM_PREFILL_ROWS];
    if (!s || (n && !tokens)) return XLSTM_ERR_ARG;
    V = XLSTM__CAST(size_t, s->model->cfg.vocab_size);
    for (t = 0; t < n; t++)
        if (tokens[t] < 0 || tokens[t] >= s->model->cfg.vocab_size) return XLSTM_ERR_TOKEN;
    for (pos = 0; pos < n; pos += XLSTM_PREFILL_ROWS) {
        int cnt = XLSTM__CAST(int, n - pos < XLSTM_PREFILL_ROWS ? n - pos : XLSTM_PREFILL_ROWS), j;
        for (j = 0; j < cnt; j++) {
            s->owner[j] = s;
            rows[j] = all_logits ? all_logits + (pos + XLSTM__CAST(size_t, j)) * V : NULL;
        }
        if (!all_logits && pos + XLSTM__CAST(size_t, cnt) == n) rows[cnt - 1] = s->logits;
        xlstm__forward_rows(s, tokens + pos, cnt, 1, rows);
    }
    if (all_logits && n) memcpy(s->logits, all_logits + (n - 1) * V, V * sizeof(float));
    if (last_logits) *last_logits = s->logits;
    return XLSTM_OK;
}

XLSTMDEF xlstm_status xlstm_step_batch(xlstm_state *const *states, const int32_t *tokens, size_t n,
                                       const float **logits) {
    size_t i, j, pos;
    float *rows[XLSTM_PREFILL_ROWS];
    xlstm_state *s;
    if (!states || (n && !tokens)) return XLSTM_ERR_ARG;
    if (!n) return XLSTM_OK;
    s = states[0];
    for (i = 0; i < n; i++) {
        if (!states[i] || states[i]->model != s->model) return XLSTM_ERR_ARG;
        if (tokens[i] < 0 || tokens[i] >= s->model->cfg.vocab_size) return XLSTM_ERR_TOKEN;
        for (j = 0; j < i; j++)
            if (states[j] == states[i]) return XLSTM_ERR_ARG; /* rows must not share a state */
    }
    for (pos = 0; pos < n; pos += XLSTM_PREFILL_ROWS) {
        int cnt = XLSTM__CAST(int, n - pos < XLSTM_PREFILL_ROWS ? n - pos : XLSTM_PREFILL_ROWS), k;
        for (k = 0; k < cnt; k++) {
            s->owner[k] = states[pos + XLSTM__CAST(size_t, k)];
            rows[k] = states[pos + XLSTM__CAST(size_t, k)]->logits;
        }
        xlstm__forward_rows(s, tokens + pos, cnt, 0, rows);
    }
    if (logits)
        for (i = 0; i < n; i++) logits[i] = states[i]->logits;
    return XLSTM_OK;
}

/* ---- sampling ------------------------------------------------------------ */

XLSTMDEF int32_t xlstm_argmax(const float *logits, int32_t n) {
    int32_t i, best = 0;
    if (!logits || n <= 0) return -1;
    for (i = 1; i < n; i++)
        if (logits[i] > logits[best]) best = i;
    return best;
}

XLSTMDEF xlstm_sampler xlstm_sampler_init(uint64_t seed) {
    xlstm_sampler s;
    s.temperature = 0.8f;
    s.top_k = 40;
    s.top_p = 0.95f;
    s.min_p = 0.05f;
    s.repeat_penalty = 1.0f;
    s.repeat_last_n = 64;
    /* PCG32 seeding: advance once so nearby seeds diverge at once */
    s.rng = 0;
    xlstm_sampler_uniform(&s);
    s.rng += seed;
    xlstm_sampler_uniform(&s);
    return s;
}

XLSTMDEF float xlstm_sampler_uniform(xlstm_sampler *s) {
    uint64_t old = s->rng;
    uint32_t xorshifted, rot, r;
    s->rng = old * 6364136223846793005ull + 1442695040888963407ull;
    xorshifted = XLSTM__CAST(uint32_t, ((old >> 18) ^ old) >> 27);
    rot = XLSTM__CAST(uint32_t, old >> 59);
    r = (xorshifted >> rot) | (xorshifted << ((32 - rot) & 31));
    return XLSTM__CAST(float, r >> 8) * (1.0f / 16777216.0f); /* 24 bits: exact in float */
}

XLSTMDEF size_t xlstm_sampler_work_size(int32_t n_vocab) {
    return n_vocab > 0 ? XLSTM__CAST(size_t, n_vocab) * (sizeof(float) + sizeof(int32_t)) : 0;
}

/* Sort candidate indices by descending logit (heap sort: no recursion, no allocation). */
static void xlstm__sift(int32_t *idx, const float *v, size_t start, size_t n) {
    size_t root = start;
    while (2 * root + 1 < n) {
        size_t child = 2 * root + 1, swap = root;
        /* min-heap on value, so the final array is descending */
        if (v[idx[child]] < v[idx[swap]] || (v[idx[child]] == v[idx[swap]] && idx[child] > idx[swap])) swap = child;
        if (child + 1 < n && (v[idx[child + 1]] < v[idx[swap]] ||
                              (v[idx[child + 1]] == v[idx[swap]] && idx[child + 1] > idx[swap])))
            swap = child + 1;
        if (swap == root) return;
        {
            int32_t t = idx[root];
            idx[root] = idx[swap];
            idx[swap] = t;
        }
        root = swap;
    }
}
static void xlstm__sort_desc(int32_t *idx, const float *v, size_t n) {
    size_t i;
    if (n < 2) return;
    for (i = n / 2; i-- > 0;) xlstm__sift(idx, v, i, n);
    for (i = n - 1; i > 0; i--) {
        int32_t t = idx[0];
        idx[0] = idx[i];
        idx[i] = t;
        xlstm__sift(idx, v, 0, i);
    }
}

XLSTMDEF int32_t xlstm_sample(xlstm_sampler *s, const float *logits, int32_t n_vocab, const int32_t *recent,
                              size_t n_recent, void *work) {
    float *v = XLSTM__CAST(float *, work); /* (n_vocab) adjusted logits, then probabilities */
    int32_t *idx;                          /* (n_vocab) candidate ids, best first */
    size_t n, i, keep;
    float maxv, sum, r, acc;
    if (!s || !logits || n_vocab <= 0 || !work) return -1;
    idx = XLSTM__CAST(int32_t *, XLSTM__CAST(void *, v + n_vocab));
    memcpy(v, logits, XLSTM__CAST(size_t, n_vocab) * sizeof(float));
    if (recent && s->repeat_penalty != 1.0f && s->repeat_penalty > 0 && s->repeat_last_n > 0) {
        size_t from = n_recent > XLSTM__CAST(size_t, s->repeat_last_n) ? n_recent - XLSTM__CAST(size_t, s->repeat_last_n) : 0;
        /* each distinct token once: mark penalised entries through idx */
        for (i = 0; i < XLSTM__CAST(size_t, n_vocab); i++) idx[i] = 0;
        for (i = from; i < n_recent; i++) {
            int32_t t = recent[i];
            if (t < 0 || t >= n_vocab || idx[t]) continue;
            idx[t] = 1;
            v[t] = v[t] > 0 ? v[t] / s->repeat_penalty : v[t] * s->repeat_penalty;
        }
    }
    if (!(s->temperature > 0)) return xlstm_argmax(v, n_vocab);
    for (i = 0; i < XLSTM__CAST(size_t, n_vocab); i++) v[i] /= s->temperature;
    n = XLSTM__CAST(size_t, n_vocab);
    maxv = v[xlstm_argmax(v, n_vocab)];
    /* Candidates: top-k, or else everything within exp(-30) of the best, which
       keeps the sort short without changing the distribution (float precision). */
    keep = 0;
    for (i = 0; i < n; i++)
        if (v[i] >= maxv - 30.0f) idx[keep++] = XLSTM__CAST(int32_t, i);
    xlstm__sort_desc(idx, v, keep);
    if (s->top_k > 0 && XLSTM__CAST(size_t, s->top_k) < keep) keep = XLSTM__CAST(size_t, s->top_k);
    /* probabilities over the candidates (stored back into v) */
    sum = 0;
    for (i = 0; i < keep; i++) {
        float e = expf(v[idx[i]] - maxv);
        v[idx[i]] = e;
        sum += e;
    }
    for (i = 0; i < keep; i++) v[idx[i]] /= sum;
    if (s->top_p < 1.0f && s->top_p > 0) {
        acc = 0;
        for (i = 0; i < keep; i++) {
            acc += v[idx[i]];
            if (acc >= s->top_p) {
                keep = i + 1;
                break;
            }
        }
    }
    if (s->min_p > 0) {
        float floor_p = s->min_p * v[idx[0]];
        for (i = 1; i < keep; i++)
            if (v[idx[i]] < floor_p) {
                keep = i;
                break;
            }
    }
    sum = 0;
    for (i = 0; i < keep; i++) sum += v[idx[i]];
    r = xlstm_sampler_uniform(s) * sum;
    acc = 0;
    for (i = 0; i < keep; i++) {
        acc += v[idx[i]];
        if (r < acc) return idx[i];
    }
    return idx[keep - 1]; /* r landed on the rounding slack at the end */
}

#endif /* XLSTM_IMPLEMENTATION_DONE */
#endif /* XLSTM_IMPLEMENTATION */

/*
MIT License

Copyright (c) 2026 the xlstm.h authors

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
*/
