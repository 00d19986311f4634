/* xlstm.h - run xLSTM models in plain C99: language models and the TiRex
   time-series forecaster.                                    v0.5.8
   Single-file library; MIT license at the end of this file.

   USAGE
     In exactly one C or C++ file:
         #define XLSTM_IMPLEMENTATION
         #include "xlstm.h"
     Everywhere else just #include "xlstm.h". Link with -lm (and -fopenmp for
     threads). Only the C standard headers are included (plus <omp.h> under
     _OPENMP, <immintrin.h> on x86 with GCC/Clang for the VNNI and BF16
     kernels, <intrin.h> with MSVC for an atomic add, and the POSIX mmap
     headers, or <windows.h> on Windows, if you ask for XLSTM_MMAP).

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
     XLSTM_NO_MALLOC         no heap at all: every allocation comes from an arena
     XLSTM_NO_STDIO          no stdio: load from memory only (firmware, wasm)
     XLSTM_MMAP              map weight files instead of reading them (POSIX, Windows);
                             on Linux define _DEFAULT_SOURCE too, before the first
                             system header, for the huge-page hint (much faster on
                             big models: see xlstm__map_file)
     XLSTM_NO_SIMD           scalar kernels only (no compiler vector extensions)
     XLSTM_NO_GNU_EXTENSIONS plain C99 even under GCC/Clang: no attributes,
                             builtins or vector extensions (what MSVC gets)
     XLSTM_MAX_DIM           cap on any model dimension (default 1<<20)
     XLSTM_MAX_BLOCKS        cap on the number of blocks (default 1024)
     XLSTM_MAX_SHARDS        cap on safetensors shards (default 1024)
     XLSTM_PREFILL_ROWS      tokens per prefill chunk / sequences per batch pass (64)
     XLSTM_PARALLEL_MIN_WORK multiply-adds below which a loop runs on the calling
                             thread, not forked (32768; 0 forks every loop)
     XLSTM_TOKENIZER_MAX_ADDED_LEN  longest added token accepted (default 256)

   THREADING & MEMORY
     A loaded xlstm_model is immutable: share one `const xlstm_model *` between
     any number of threads. Everything mutable (recurrent memories, scratch,
     logits) lives in an xlstm_state, one per sequence, owned by the caller.
     Only load and create allocate; xlstm_step, xlstm_prefill, xlstm_step_batch,
     xlstm_sample and the forecasting calls never do. The library keeps no global or thread-local
     state, never prints and never exits. Weights stay in the bytes they were
     loaded from (an mmap, the caller's buffer with borrow_buffer, or one read
     of the file): nothing is widened to f32 except small vectors.
     Parallel loops (matrix rows and tiles, heads, prompt rows) run as up to
     n_threads tasks per loop (xlstm_state_params; default
     omp_get_max_threads() at state creation), on OpenMP's threads or on the
     caller's pool through the parallel_for hook (examples/embed.c: a small
     pthread pool). Each loop's work is cut into a few chunks per task; a
     task claims the chunks of its own share, then the others' next ones, so
     a thread whose core is busy with other work (or that starts late) does
     less instead of holding up the rest. With OpenMP (GCC, Clang) one team
     runs a whole forward pass: its other threads spin between the loops and
     join each as it opens, and a loop ends when its work is done and the
     threads inside it are out (one that has not come finds none left); the
     hook lets a pool do the same. Results are bit-identical for any thread
     count and any schedule. Small loops run on the calling thread without a
     fork (XLSTM_PARALLEL_MIN_WORK).

   KERNELS
     Every hot loop has a plain scalar version (the oracle in the tests) and a
     vector version written once with GCC/Clang vector extensions, compiled for
     the baseline (SSE2 / NEON / wasm SIMD128), AVX2 and AVX-512; the best the
     CPU has is picked at load (params.kernels forces one). The AVX2 table's
     decode kernels and matrix-product tile use 32-byte vectors instead (GCC
     keeps a 64-byte accumulator in memory below AVX-512). With AVX2 or
     AVX-512 VNNI a decode step (and a batch or prompt of fewer than 16 rows)
     rounds the activations of 4-bit and 8-bit matrices to 8 bits (blocks of
     32) for an integer dot product; every other path keeps f32 activations.
     A prompt is run in chunks of XLSTM_PREFILL_ROWS tokens: matrix products
     over the chunk (register-tiled, each weight tile widened to f32 once) and
     the chunkwise closed form of the mLSTM, equal to stepping token by token.
     A batch of fewer than 16 sequences reads each weight row once: q8 and q4
     rows go into every sequence with a step's int8 kernels (each sequence's
     step to the bit), other rows are widened to f32 once and go into up to 8
     sequences at a time. Larger batches use the matrix products.

   FORECASTING (TiRex)
     xlstm_model *m; xlstm_state *s; float q[32 * 9], median[32];
     const float *series[1] = {values}; size_t len[1] = {n_values};
     xlstm_model_load("model.ckpt", NULL, &m, NULL);      // NX-AI/TiRex as shipped
     xlstm_state_create(m, &s, NULL);
     xlstm_forecast(s, series, len, 1, 32, q, median);    // [step][quantile]
     Streaming: xlstm_stream_observe / xlstm_stream_forecast; embeddings:
     xlstm_embed_series (see the forecasting section below).

   FILE FORMATS
     A model is one of
       - a directory holding config.json and model.safetensors,
       - a directory holding config.json and pytorch_model.bin (torch.save of
         a state_dict),
       - a TiRex model.ckpt (PyTorch Lightning's torch.save zip), or a
         directory holding one: the config comes from its hyper_parameters,
       - a Hugging Face directory: config.json, model-0000N-of-0000M.safetensors
         and model.safetensors.index.json ({"weight_map": {tensor: file}}),
       - one .safetensors file whose __metadata__ has the config JSON as the
         string value of the key "xlstm_config" (what xlstm-quantize writes).
     torch.save files are read without Python: the zip's stored entries and a
     restricted unpickler that builds only dicts, lists, tuples, strings,
     numbers, booleans and None, calls only collections.OrderedDict,
     torch._utils._rebuild_tensor_v2 / _rebuild_parameter and the typed
     storages (torch.FloatStorage, ...), and rejects every other global by
     name; compressed or encrypted entries are XLSTM_ERR_UNSUPPORTED.
     Three architectures, told apart by the config:
       - the 2024 xLSTM LM: NX-AI xlstm's xLSTMLMModelConfig as JSON (the keys
         of its dataclasses and YAML files: mlstm_block.mlstm.*,
         slstm_block.slstm.*, slstm_block.feedforward.*, num_blocks,
         embedding_dim, slstm_at, vocab_size, tie_weights,
         add_post_blocks_norm, bias, ...), tensors under the reference
         state_dict names (token_embedding.weight, xlstm_block_stack.blocks.N.*,
         lm_head.weight). The sLSTM recurrent kernel and bias are accepted in
         the layout of either reference backend (slstm.backend "cuda", the
         default, or "vanilla").
       - xLSTM Large (NX-AI/xLSTM-7b): Hugging Face config.json with
         model_type "xlstm" (embedding_dim/hidden_size, num_blocks/
         num_hidden_layers, num_heads, qk_dim_factor, v_dim_factor,
         ffn_proj_factor, ffn_round_up_to_multiple_of, gate_soft_cap,
         output_logit_soft_cap, norm_eps, eps, use_bias, weight_mode "single"
         or "fused", add_out_norm), tensors under the Hugging Face names
         (backbone.embeddings.weight or NX's embedding.weight,
         backbone.blocks.N.*, backbone.out_norm.weight, lm_head.weight).
       - TiRex (NX-AI/TiRex): hyper_parameters {"model_config":
         {"input_patch_size", "output_patch_size", "quantiles",
         "input_ff_dim", "block_kwargs": {"embedding_dim", "num_blocks",
         "num_heads", "ffn_proj_factor" (2.6667)}}, "train_ctx_len"}, tensors
         under the reference's state_dict names with or without the
         "block_stack." prefix (blocks.N.slstm_layer.*, out_norm.weight,
         input_patch_embedding.*, output_patch_embedding.*).
     Absent config keys take the reference defaults; unknown keys are ignored.
     Tensors may be F32, BF16 or F16, or block-quantized (written by
     tools/quantize), a weight matrix NAME of shape (rows, cols) then being
       NAME.q8 (I8 [rows, cols])   + NAME.q8_scale (F32 [rows, cols/32]):
           w = q * scale of its block of 32
       NAME.q4 (U8 [rows, cols/2]) + NAME.q4_scale (F32 [rows, cols/32]):
           in each block of 32, byte j holds element j (low nibble) and
           element j+16 (high nibble); w = (nibble - 8) * scale
     (3-D block-diagonal weights are stored as 2-D [blocks*rows, cols]).
     Every tensor is checked for presence, dtype, shape, bounds and NaN/Inf;
     unexpected tensors are an error; every size is overflow-checked.
     tokenizer.json: Hugging Face's byte-level BPE format (see the tokenizer
     section below).

   SECTIONS (of the implementation, in order)
     errors and allocation; JSON; config (2024 LM, xLSTM Large, TiRex);
     safetensors; PyTorch checkpoints (zip + restricted unpickler); the model
     (tensor specs, loading); kernels (scalar oracles, then the vector sets);
     small pointwise kernels; state; matrix products; blocks (mLSTM, sLSTM,
     Large) and the LM forward; TiRex forecasting; sampling; tokenizer.

   RECENT CHANGES
     0.5.8  the AVX2 table (every x86 CPU without AVX-512) ran 3-13x slower
            than it should when built with GCC: below AVX-512 GCC has no
            register mode for a 64-byte vector and keeps a loop's 64-byte
            accumulators in memory. Its decode kernels (f32, bf16, f16, q8,
            q4, bf16 even/odd, the mLSTM step) and its matrix-product tile
            are now written on 32-byte vectors; 4-bit and 8-bit decode use
            int8-rounded activations (vpmaddubsw), as AVX-512 VNNI does.
            125M on the Zen 5 VM, AVX2 table forced, 1 thread: f32 20 -> 45,
            bf16 21 -> 100, q8 21 -> 107, q4 26 -> 107 tok/s; 256-token
            prefill 43-47 -> 160-250 tok/s. Clang's build was never affected.
     0.5.7  AVX-512 (VNNI) bf16 and f32 decode dots read rows that start
            off a cache line (Hugging Face files, mapped or borrowed) a
            line at a time, aligned, and rebuild each vector with one
            permute: the same sums. 125M bf16 from such a file, mmapped,
            2 threads: 131-144 -> 183-193 tok/s. q4 rows wider than 2,048
            columns are multiplied one per call again (the two-row kernel's
            interleaved streams read memory slower): 7B q4 2 threads
            7.1-7.8 -> 8.5-9.4 tok/s in one slow minute; the same bits.
            XLSTM_MMAP on Linux advises huge pages for the mapped file
            (MADV_HUGEPAGE; needs _DEFAULT_SOURCE, as tools/xlstm_impl.c
            defines): the 7B-shape q4 file, cold, 2 threads, 2.1-2.7 ->
            9.8-10.2 tok/s on the project's VM. Reading a file (no
            XLSTM_MMAP) allocates its size once where ftell tells it
            (doubling held up to twice the file); a named pipe given to an
            XLSTM_MMAP build is no longer opened twice.
     0.5.6  the step's causal conv prefetches its weights, bias and
            history 128 channels ahead (125M q4 conv -30%; same bits).
            The bench's random models and saved copies lay every matrix
            row on a cache line (they had straddled lines: 125M bf16 from
            the mmapped file 119-126 -> 174-177 tok/s, f32 +26%).
     0.5.5  OpenMP builds (GCC, Clang) run a forward pass on one team: the
            other threads spin between its loops and join each as it opens
            (85 forks per 125M token before); the mLSTM step's loop takes a
            head a strip of 32 columns at a time (4 heads left one thread
            waiting); conv weights kept in 16-channel strips from load; q4
            decode multiplies two rows per kernel call (the same bits).
            125M decode t2 (pairs): q4 +24%, q8 +9%, bf16 +7%, f32 the
            same; 7B q4 +13%. A pass's end that waits on a descheduled
            thread counts as a stall; runs alone go up to 8,192 loops.
     0.5.4  each head's mLSTM C kept in strips of 32 columns: prompt chunks
            update it in place (no strip copies) and a step reads it in
            address order (the same bits; blobs still hold C row by row);
            fast prompts run the chunk's Q C and K^T V in bf16 (vdpbf16ps);
            the busy-core rule goes alone only when the waits outweigh
            what the caller ran since the last stall; the q4 VNNI dot
            prefetches further ahead, its block scales too (7B q4 +12%);
            the causal conv's 16-channel strips through the vector kernels.
     0.5.3  q8/q4 batches of up to 15 sequences (and prompts under 16 tokens)
            round x to int8 per sequence as a step does: a batched step
            equals each sequence's own step to the bit (it drifted by up to
            2 logits), and q8 batches decode 10-20% faster.
     0.5.2  OpenMP builds: after two stalled loops in a row (a thread whose
            core another process holds), the next loops run on the calling
            thread alone for a while, so a busy core no longer halves decode.
     0.5.1  TiRex's bf16 recurrent kernel in row pairs, multiplied with
            vdpbf16ps on CPUs with AVX-512 BF16; the LM's sLSTM recurrent
            kernel kept as (NH, DH, 4 DH) (h R as one vector-matrix product)
            and its gating through the vector pointwise kernel; a prompt's
            sLSTM heads each on one thread for the whole chunk; vector
            kernels for the 4 x 4-block q/k/v projections and the norms;
            fast prompt tiles prefetch their weights.
     0.5.0  q8 decode with VNNI (int8 x int8, as 4-bit already was); TiRex
            stream steps with q8/q4 take it for the gates too; Windows mmap
            (CreateFileMappingW, UTF-8 paths); XLSTM_NO_GNU_EXTENSIONS (the
            plain-C path MSVC takes); CMake package and pkg-config file;
            xlstm_state_params: n_threads and a parallel_for hook (the
            caller's thread pool); parallel loops claim their chunks, so a
            busy core no longer holds every loop up;
            opt-in fast prompts (xlstm_model_params.fast_prompts: bf16 and
            int8 prompt products with AVX-512 BF16 / VNNI).
     0.4.0  TiRex: NX-AI's sLSTM forecaster from its model.ckpt (zip +
            restricted unpickler), batched, streaming and embedding calls;
            torch.save state_dicts (pytorch_model.bin) for the LMs.
     0.3.0  prompts as register-tiled matrix products in 64-token chunks;
            faster q8/q4/bf16 decode kernels; the avx512vnni kernel level
            (4-bit weights x 8-bit activations); XLSTM_PREFILL_ROWS is 64.
     0.2.0  xLSTM Large (the 7B), shards, mmap, bf16/f16/q8/q4 weights, SIMD
            kernels, chunkwise prefill, batched decoding, BPE tokenizer,
            arena / no-stdio builds.
     0.1.0  first release: the 2024 xLSTM LM (mLSTM + sLSTM blocks).
*/
#ifndef XLSTM_H
#define XLSTM_H

#include <stddef.h>
#include <stdint.h>

#define XLSTM_VERSION_MAJOR 0
#define XLSTM_VERSION_MINOR 5
#define XLSTM_VERSION_PATCH 8
#define XLSTM__STR(x) #x
#define XLSTM__XSTR(x) XLSTM__STR(x)
#define XLSTM_VERSION_STRING \
    XLSTM__XSTR(XLSTM_VERSION_MAJOR) "." XLSTM__XSTR(XLSTM_VERSION_MINOR) "." XLSTM__XSTR(XLSTM_VERSION_PATCH)

/* GNU C (GCC, Clang, clang-cl, MinGW): attributes, builtins and vector
   extensions. Elsewhere (MSVC), or with XLSTM_NO_GNU_EXTENSIONS, plain C99
   and the scalar kernels. */
#if (defined(__GNUC__) || defined(__clang__)) && !defined(XLSTM_NO_GNU_EXTENSIONS)
#define XLSTM__GNU 1
#endif

#ifndef XLSTMDEF
#if defined(XLSTM_STATIC) && defined(XLSTM__GNU)
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
    XLSTM_ERR_FORMAT = -6,       /* malformed container (safetensors, zip, pickle) */
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
    XLSTM_ARCH_LARGE = 1, /* "xLSTM Large": NX-AI/xLSTM-7b, Hugging Face model_type "xlstm" */
    XLSTM_ARCH_TIREX = 2  /* TiRex: NX-AI's sLSTM time-series forecaster (NX-AI/TiRex model.ckpt) */
} xlstm_arch;

#ifndef XLSTM_TIREX_MAX_QUANTILES
#define XLSTM_TIREX_MAX_QUANTILES 64
#endif

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
    struct { /* TiRex: embedding_dim, num_blocks and slstm.num_heads/head_dim hold the block shape */
        int32_t patch_size;    /* input_patch_size (== output_patch_size) */
        int32_t input_ff_dim;  /* hidden width of the input and output residual blocks */
        int32_t train_ctx_len; /* the window: contexts are cut or NaN-padded to this */
        int32_t ffn_dim;       /* derived: SwiGLU width from ffn_proj_factor */
        int32_t num_quantiles;
        int32_t median_index;  /* the quantile 0.5, the point forecast */
        float quantiles[XLSTM_TIREX_MAX_QUANTILES];
    } tirex;
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
    XLSTM_KERNELS_AVX2,   /* x86-64 with AVX2 + FMA; 4-bit and 8-bit decode as AVX512_VNNI's (vpmaddubsw) */
    XLSTM_KERNELS_AVX512, /* x86-64 with AVX-512 F/BW/VL */
    XLSTM_KERNELS_AVX512_VNNI /* AVX-512 plus VNNI: a decode step multiplies 4-bit and
                                 8-bit weights by activations rounded to 8 bits (blocks
                                 of 32, one scale each), as llama.cpp's Q4_0/Q8_0 x Q8_0 */
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
    /* TiRex only: 1 = run the sLSTM recurrence in float32. 0 (default) rounds
       where the reference's CPU path rounds to bfloat16 (the gate inputs, the
       recurrent kernel and product, the carried states), as TiRex ships. */
    int fp32_recurrence;
    /* 1 = fast prompts: the matrix products of a prompt chunk or batch (16 or
       more rows at once) multiply bf16 weights by activations rounded to bf16
       (AVX-512 BF16), and q8 and q4 weights by activations rounded to int8
       per block of 32 (AVX-512 VNNI), with f32 sums; f32 and f16 weights are
       rounded to bf16 too. One-token steps, and CPUs or kernel levels without
       those instructions, keep the default. 0 (default): f32-faithful
       products. */
    int fast_prompts;
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
/* Name of the kernel level in use: "scalar", "simd", "avx2", "avx512" or "avx512vnni". */
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
/* How a state runs its parallel loops (matrix rows, heads, prompt rows). */
typedef struct xlstm_state_params {
    /* Tasks a parallel loop is split into at most; the state keeps scratch
       for this many (at most 256). 0: omp_get_max_threads() in an OpenMP
       build, else 1. Without OpenMP and without parallel_for, always 1.
       With parallel_for, the pool's width (its workers + the caller). */
    int n_threads;
    /* Optional: run the parallel loops on the caller's thread pool (a game
       engine's job system) instead of OpenMP's. The state calls
       parallel_for(parallel_user, task, ctx, n_tasks) with
       2 <= n_tasks <= n_threads, from the thread that called into the
       state; it must call task(ctx, t) once for every t in [0, n_tasks),
       possibly concurrently, in any order, on any threads (several on one
       thread is fine), and return when all have returned. Tasks never wait
       for one another (each claims chunks of the loop from shared counters
       until none is left, so a task that starts late finds less to do, or
       nothing) and never call parallel_for themselves: running them all one
       after another on the calling thread is correct. The results are the
       same bits whatever the pool does. A pool shared by states that are
       used from several threads at once must accept concurrent calls.
       NULL: OpenMP's threads in an OpenMP build, else the calling thread.
       xlstm_state_copy carries the sequence, not these. */
    void (*parallel_for)(void *user, void (*task)(void *ctx, int t), void *ctx, int n_tasks);
    void *parallel_user;
} xlstm_state_params;

/* n_threads 0, parallel_for NULL. */
XLSTMDEF xlstm_state_params xlstm_state_default_params(void);
/* A state for one sequence; XLSTM_ERR_ARG for n_threads < 0. params NULL
   means the defaults (xlstm_state_create). */
XLSTMDEF xlstm_status xlstm_state_create_with_params(const xlstm_model *model, const xlstm_state_params *params,
                                                     xlstm_state **out_state, xlstm_error *err);
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
/* Feed n tokens; equal to n calls of xlstm_step (within float rounding; a
   chunk of 16 or more tokens multiplies f32 activations, which differs from
   a step's int8-rounded ones with q8/q4 weights on AVX2 and VNNI CPUs: see KERNELS).
   all_logits (optional, n * vocab_size floats) receives every position's
   logits; *last_logits (optional) the last position's. Every token is
   checked before any is fed. */
XLSTMDEF xlstm_status xlstm_prefill(xlstm_state *state, const int32_t *tokens, size_t n,
                                    float *all_logits, const float **last_logits);
/* Step n independent sequences at once, one token each, reading the weights
   once for all of them (many NPCs, or a server's requests). states[i] must be
   distinct states of one model; logits[i] (optional) receives states[i]'s
   logits. Equal to xlstm_step on each: up to 15 sequences take a step's
   int8 kernels for q8 and q4 rows (the same bits), other rows within float
   rounding; 16 or more take the prompt's matrix products (as
   xlstm_prefill's chunks). */
XLSTMDEF xlstm_status xlstm_step_batch(xlstm_state *const *states, const int32_t *tokens, size_t n,
                                       const float **logits);
/* Bytes of recurrent state (what save/restore carries) and of the whole state object. */
XLSTMDEF size_t xlstm_state_recurrent_bytes(const xlstm_state *state);

/* ---- forecasting (TiRex) ------------------------------------------------
   A TiRex model (config arch XLSTM_ARCH_TIREX) forecasts quantiles of
   univariate series; its state holds the scratch for one window and the
   streaming memories. Values are floats, NaN = missing; a series may have any
   length, 0 included (everything missing). Q = config->tirex.num_quantiles,
   P = patch_size, T = train_ctx_len. As the reference (NX-AI/tirex
   TiRexZero.forecast): the context is cut to its last T values or NaN-padded
   on the left to T, scaled by its NaN-aware mean and standard deviation, and
   forecast one patch per pass: pass k sees the context followed by k*P
   missing values (cut to T again), never its own predictions. */

/* quantiles: n * horizon * Q floats, [series][step][quantile] in the model's
   quantile order; median (optional): n * horizon floats (the 0.5 quantile, the
   reference's "mean"). series[i] holds lengths[i] values. Equal to forecasting
   each series alone. XLSTM_ERR_ARG for horizon <= 0 or a wrong model. */
XLSTMDEF xlstm_status xlstm_forecast(xlstm_state *state, const float *const *series, const size_t *lengths,
                                     size_t n, int32_t horizon, float *quantiles, float *median);

/* Streaming: observations arrive one or a few at a time (xlstm_state_reset
   starts a new stream). While the stream holds at most T values, a forecast
   runs the window over them and equals xlstm_forecast on everything observed.
   When the T-th value arrives the stream takes that window's scaler (mean and
   scale) for good and keeps the sLSTM memories; from then on each completed
   patch of P values costs one step of the network (not a window), and a
   forecast starts from those memories: it forecasts the steps after the last
   observation from the memories at the last completed patch (skipping the
   steps already observed) and rolls out further patches from a copy of them.
   Beyond T values this differs from the reference by design: the reference
   forgets everything older than its window and rescales every window, the
   stream remembers (as a recurrent network does) and keeps its scaler. */
XLSTMDEF xlstm_status xlstm_stream_observe(xlstm_state *state, const float *values, size_t n);
XLSTMDEF xlstm_status xlstm_stream_forecast(xlstm_state *state, int32_t horizon, float *quantiles, float *median);
/* Number of values the stream has observed. */
XLSTMDEF uint64_t xlstm_stream_length(const xlstm_state *state);

/* Embeddings, as the reference's _embed_context: the hidden state after every
   block for each patch of the window that holds data (leading patches that
   are only padding are left out). out: n_tokens * num_blocks * embedding_dim
   floats, [patch][block][dim]; out NULL returns the count in *n_tokens only.
   At most T / P patches. */
XLSTMDEF xlstm_status xlstm_embed_series(xlstm_state *state, const float *series, size_t length, float *out,
                                         size_t *n_tokens);

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

#define XLSTM_HAS_TOKENIZER 1
/* ---- tokenizer ----------------------------------------------------------
   Hugging Face tokenizer.json of the byte-level BPE family (GPT-2, GPT-NeoX,
   xLSTM-7b's, ...), encoding exactly as HF `tokenizers` does: added tokens
   (leftmost-longest, with their lstrip/rstrip/single_word/normalized flags),
   then the normalizer (NFC or NFD, HF's Unicode 9.0 data), the ByteLevel
   pre-tokenizer (the GPT-2 regex, HF's Unicode 16.0 classes) and BPE merges by
   rank. Added-token ids are assigned the way HF assigns them (their "id"
   field is not trusted). Not supported (XLSTM_ERR_UNSUPPORTED): non-BPE
   models, other normalizers/pre-tokenizers/decoders, BPE dropout, added
   tokens longer than XLSTM_TOKENIZER_MAX_ADDED_LEN (256) bytes.
   The post-processor is not applied: no BOS/EOS is ever added.
   A loaded tokenizer is immutable; any number of threads may call
   xlstm_tokenize on it at once (each call allocates its own scratch through
   the tokenizer's allocator). */
typedef struct xlstm_tokenizer xlstm_tokenizer;

#ifndef XLSTM_NO_STDIO
/* Load tokenizer.json; params may be NULL (only its allocator is used). */
XLSTMDEF xlstm_status xlstm_tokenizer_load(const char *path, const xlstm_model_params *params,
                                           xlstm_tokenizer **out, xlstm_error *err);
#endif
XLSTMDEF xlstm_status xlstm_tokenizer_load_from_memory(const char *json, size_t len, const xlstm_model_params *params,
                                                       xlstm_tokenizer **out, xlstm_error *err);
XLSTMDEF void xlstm_tokenizer_free(xlstm_tokenizer *tok);
/* Largest token id + 1 (model vocabulary and added tokens). */
XLSTMDEF int32_t xlstm_tokenizer_n_vocab(const xlstm_tokenizer *tok);
/* Id of a token given as written in tokenizer.json (added tokens first, e.g.
   "<|endoftext|>", then the vocabulary, whose byte-level form spells a space
   as "\xC4\xA0" (U+0120)); -1 when absent. */
XLSTMDEF int32_t xlstm_tokenizer_token_id(const xlstm_tokenizer *tok, const char *token_text);
/* Encode len bytes of UTF-8 text (no BOS/EOS added). Invalid UTF-8 is first
   replaced by U+FFFD, one per maximal invalid subpart (as Python's
   errors="replace" or a WHATWG TextDecoder do). *n_tokens receives the total
   number of ids. Size query: out == NULL with cap == 0 returns XLSTM_OK. If the
   total exceeds cap, the first cap ids are written and XLSTM_ERR_ARG is
   returned. XLSTM_ERR_NOMEM if scratch memory cannot be allocated. */
XLSTMDEF xlstm_status xlstm_tokenize(const xlstm_tokenizer *tok, const char *text, size_t len, int32_t *out,
                                     size_t cap, size_t *n_tokens);
/* The bytes a token stands for (after byte-level decoding; special tokens
   give their text); NULL with *len = 0 for an id that names no token. A token
   may end or start in the middle of a UTF-8 character: print through an
   xlstm_utf8_stream. */
XLSTMDEF const char *xlstm_token_bytes(const xlstm_tokenizer *tok, int32_t id, size_t *len);
/* 1 if id is an added token marked "special" (e.g. <|endoftext|>), else 0. */
XLSTMDEF int xlstm_token_is_special(const xlstm_tokenizer *tok, int32_t id);

/* Streaming detokenisation: push token bytes, get back only complete UTF-8
   characters; an incomplete tail waits in the stream for the next push.
   Invalid bytes become U+FFFD (one per maximal invalid subpart), so the output
   is always valid UTF-8. Zero-initialise the struct to start a stream. out
   needs XLSTM_UTF8_STREAM_BOUND(len) bytes (push) or 3 bytes (flush); output
   beyond out_cap is dropped. Both return the number of bytes written. */
typedef struct xlstm_utf8_stream {
    unsigned char pending[4];
    int n_pending;
} xlstm_utf8_stream;
#define XLSTM_UTF8_STREAM_BOUND(len) (3 * (size_t)(len) + 12)
XLSTMDEF size_t xlstm_utf8_stream_push(xlstm_utf8_stream *s, const char *bytes, size_t len, char *out,
                                       size_t out_cap);
/* End of stream: an incomplete tail becomes U+FFFD. */
XLSTMDEF size_t xlstm_utf8_stream_flush(xlstm_utf8_stream *s, char *out, size_t out_cap);

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
#if defined(_MSC_VER) && !defined(XLSTM__GNU)
#include <intrin.h> /* _InterlockedExchangeAdd: the parallel loops' chunk counters */
#endif
#if (defined(__x86_64__) || defined(__i386__)) && defined(XLSTM__GNU) && !defined(XLSTM_NO_SIMD)
#include <immintrin.h> /* the kernels vector extensions cannot express: VNNI */
#define XLSTM__HAVE_VNNI 1
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
    case XLSTM_ERR_FORMAT: return "malformed file (safetensors, zip or pickle)";
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

/* A small formatter for messages and names (%s %.*s %d %u %ld %lu %lld %llu %%),
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
        int n = 0, longs = 0, is_signed = 1, prec = -1;
        unsigned long long u = 0;
        const char *str;
        if (*fmt != '%') {
            XLSTM__PUT(*fmt);
            continue;
        }
        fmt++;
        if (fmt[0] == '.' && fmt[1] == '*') { /* %.*s: at most that many bytes */
            prec = va_arg(ap, int);
            fmt += 2;
        }
        while (*fmt == 'l') longs++, fmt++;
        switch (*fmt) {
        case 's':
            for (str = va_arg(ap, const char *); str && *str && prec != 0; str++, prec--) XLSTM__PUT(*str);
            continue;
        case '%': XLSTM__PUT('%'); continue;
        case 'u': is_signed = 0; /* fall through */
        case 'd': {
            long long v;
            if (longs >= 2) v = is_signed ? va_arg(ap, long long) : XLSTM__CAST(long long, va_arg(ap, unsigned long long));
            else if (longs == 1) v = is_signed ? va_arg(ap, long) : XLSTM__CAST(long long, va_arg(ap, unsigned long));
            else v = is_signed ? va_arg(ap, int) : XLSTM__CAST(long long, va_arg(ap, unsigned int));
            if (!is_signed) u = XLSTM__CAST(unsigned long long, v); /* the bits of the unsigned value */
            else if (v < 0) {
                XLSTM__PUT('-');
                u = 0ull - XLSTM__CAST(unsigned long long, v);
            } else {
                u = XLSTM__CAST(unsigned long long, v);
            }
            do num[n++] = XLSTM__CAST(char, '0' + u % 10); while ((u /= 10) != 0);
            while (n) { /* not PUT(num[--n]): PUT skips its argument once the buffer is full */
                char digit = num[--n];
                XLSTM__PUT(digit);
            }
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
#if defined(XLSTM__GNU)
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
#if defined(XLSTM__GNU)
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
    /* align the address, not the offset: base need not be 16-byte aligned */
    size_t mis = XLSTM__CAST(size_t, XLSTM__ADDR(a->base) % 16);
    size_t start = ((a->used + mis + 15) & ~XLSTM__CAST(size_t, 15)) - mis, need = 16 + ((n + 15) & ~XLSTM__CAST(size_t, 15));
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

/* TiRex: a Lightning checkpoint's hyper_parameters, {"model_config": {...,
   "block_kwargs": {...}}, "train_ctx_len": T}; mc is model_config. Keys as
   NX-AI/tirex's TiRexZeroConfig and sLSTMBlockConfig; unknown ones ignored. */
static xlstm_status xlstm__parse_config_tirex(const xlstm__json *j, uint32_t mc, xlstm_config *cfg, xlstm_error *err) {
    xlstm__cfgctx c;
    uint32_t bk = xlstm__jget(j, mc, "block_kwargs"), q, e;
    int32_t in_p = -1, out_p = -1, ctx = -1, states = 4, gates = 4, i;
    double f = 2.6667, up;
    c.j = j;
    c.err = err;
    c.st = XLSTM_OK;
    cfg->arch = XLSTM_ARCH_TIREX;
    cfg->embedding_dim = -1;
    cfg->num_blocks = -1;
    cfg->slstm.num_heads = -1;
    cfg->tirex.input_ff_dim = -1;
    if (j->tok[bk].type != XLSTM__J_OBJ) return xlstm__fail(err, XLSTM_ERR_CONFIG, "config: model_config.block_kwargs must be an object");
    xlstm__cfg_int(&c, mc, "input_patch_size", &in_p);
    xlstm__cfg_int(&c, mc, "output_patch_size", &out_p);
    xlstm__cfg_int(&c, mc, "input_ff_dim", &cfg->tirex.input_ff_dim);
    xlstm__cfg_int(&c, mc, "train_ctx_len", &ctx);
    xlstm__cfg_int(&c, 0, "train_ctx_len", &ctx); /* TiRexZero's own argument, beside model_config */
    xlstm__cfg_int(&c, bk, "embedding_dim", &cfg->embedding_dim);
    xlstm__cfg_int(&c, bk, "num_blocks", &cfg->num_blocks);
    xlstm__cfg_int(&c, bk, "num_heads", &cfg->slstm.num_heads);
    xlstm__cfg_int(&c, bk, "num_states", &states);
    xlstm__cfg_int(&c, bk, "num_gates", &gates);
    xlstm__cfg_num(&c, bk, "ffn_proj_factor", &f);
    if (c.st) return c.st;
    if (in_p != out_p || !xlstm__dim_ok(in_p))
        return xlstm__fail(err, XLSTM_ERR_CONFIG, "config: input_patch_size %d and output_patch_size %d must be equal and positive",
                           XLSTM__CAST(int, in_p), XLSTM__CAST(int, out_p));
    if (!xlstm__dim_ok(cfg->embedding_dim) || !xlstm__dim_ok(cfg->tirex.input_ff_dim) || !xlstm__dim_ok(ctx))
        return xlstm__fail(err, XLSTM_ERR_CONFIG, "config: embedding_dim, input_ff_dim and train_ctx_len must be set and in range");
    if (cfg->num_blocks < 1 || cfg->num_blocks > XLSTM_MAX_BLOCKS)
        return xlstm__fail(err, XLSTM_ERR_CONFIG, "config: num_blocks %d out of range", XLSTM__CAST(int, cfg->num_blocks));
    if (!xlstm__dim_ok(cfg->slstm.num_heads) || cfg->embedding_dim % cfg->slstm.num_heads)
        return xlstm__fail(err, XLSTM_ERR_CONFIG, "config: num_heads %d does not divide embedding_dim %d",
                           XLSTM__CAST(int, cfg->slstm.num_heads), XLSTM__CAST(int, cfg->embedding_dim));
    if (states != 4 || gates != 4) return xlstm__fail(err, XLSTM_ERR_UNSUPPORTED, "config: num_states and num_gates must be 4");
    if (ctx % in_p) return xlstm__fail(err, XLSTM_ERR_CONFIG, "config: train_ctx_len %d is not a multiple of the patch size %d",
                                       XLSTM__CAST(int, ctx), XLSTM__CAST(int, in_p));
    /* the reference's round_up_to_next_multiple_of(D * f, 64) on a float:
       floor((D f + 63) / 64) * 64, not a ceiling (D 96, f 2.6667: 256) */
    up = floor((cfg->embedding_dim * f + 63.0) / 64.0) * 64.0;
    if (!(up >= 64) || up > XLSTM_MAX_DIM) return xlstm__fail(err, XLSTM_ERR_CONFIG, "config: ffn_proj_factor gives a width out of range");
    cfg->tirex.ffn_dim = XLSTM__CAST(int32_t, up);
    cfg->tirex.patch_size = in_p;
    cfg->tirex.train_ctx_len = ctx;
    cfg->slstm.head_dim = cfg->embedding_dim / cfg->slstm.num_heads;
    cfg->slstm.group_norm_weight = 1;
    cfg->context_length = ctx;
    for (i = 0; i < cfg->num_blocks; i++) cfg->block_kind[i] = XLSTM_BLOCK_SLSTM;
    q = xlstm__jget(j, mc, "quantiles");
    if (!q || j->tok[q].type != XLSTM__J_ARR || j->tok[q].count < 1 || j->tok[q].count > XLSTM_TIREX_MAX_QUANTILES)
        return xlstm__fail(err, XLSTM_ERR_CONFIG, "config: quantiles must be a list of 1 to %d numbers", XLSTM_TIREX_MAX_QUANTILES);
    cfg->tirex.num_quantiles = XLSTM__CAST(int32_t, j->tok[q].count);
    cfg->tirex.median_index = -1;
    for (i = 0, e = q + 1; i < cfg->tirex.num_quantiles; i++, e = j->tok[e].next) {
        double v;
        if (!xlstm__jnum(j, e, &v) || !(v > 0 && v < 1))
            return xlstm__fail(err, XLSTM_ERR_CONFIG, "config: quantile %d is not a number in (0, 1)", XLSTM__CAST(int, i));
        cfg->tirex.quantiles[i] = XLSTM__CAST(float, v);
        if (v == 0.5 && cfg->tirex.median_index < 0) cfg->tirex.median_index = i; /* quantiles.index(0.5) */
    }
    if (cfg->tirex.median_index < 0) return xlstm__fail(err, XLSTM_ERR_CONFIG, "config: the quantiles do not include 0.5 (the point forecast)");
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
    /* TiRex's hyper_parameters hold a model_config with block_kwargs */
    t = xlstm__jget(j, root, "model_config");
    if (t && j->tok[t].type == XLSTM__J_OBJ && xlstm__jget(j, t, "block_kwargs")) return xlstm__parse_config_tirex(j, t, cfg, err);
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
    uint32_t name_tok; /* string token of the name in the header (safetensors) */
    const char *name;  /* the name's raw bytes (not NUL-terminated) */
    uint32_t name_len;
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

/* A tensor name as raw header bytes, for the duplicate check. */
typedef struct xlstm__name {
    const char *p;
    size_t n;
} xlstm__name;
static int xlstm__name_cmp(const void *x, const void *y) {
    const xlstm__name *a = XLSTM__CAST(const xlstm__name *, x), *b = XLSTM__CAST(const xlstm__name *, y);
    int c;
    if (a->n != b->n) return a->n < b->n ? -1 : 1;
    c = memcmp(a->p, b->p, a->n);
    return c;
}

static uint64_t xlstm__rd_u64le(const unsigned char *p) {
    uint64_t v = 0;
    int i;
    for (i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

/* Duplicate names: sort the names, then compare neighbours (a pairwise
   check is quadratic: 80k tensors, a 4.6 MB header, took 36 s). Frees st on
   failure. */
static xlstm_status xlstm__st_check_dups(xlstm__st *st, const xlstm__alloc *a, const char *what, xlstm_error *err) {
    xlstm__name *v;
    size_t k;
    if (st->n < 2) return XLSTM_OK;
    v = XLSTM__CAST(xlstm__name *, xlstm__malloc(a, st->n * sizeof(xlstm__name)));
    if (!v) {
        xlstm__st_free(st, a);
        return xlstm__fail(err, XLSTM_ERR_NOMEM, "%s: out of memory", what);
    }
    for (k = 0; k < st->n; k++) {
        v[k].p = st->t[k].name;
        v[k].n = st->t[k].name_len;
    }
    qsort(v, st->n, sizeof(xlstm__name), xlstm__name_cmp);
    for (k = 1; k < st->n; k++) {
        if (v[k].n == v[k - 1].n && memcmp(v[k].p, v[k - 1].p, v[k].n) == 0) {
            int len = v[k].n < 100 ? XLSTM__CAST(int, v[k].n) : 100;
            xlstm_status s = xlstm__fail(err, XLSTM_ERR_FORMAT, "%s: tensor %.*s appears twice", what, len, v[k].p);
            xlstm__free(a, v);
            xlstm__st_free(st, a);
            return s;
        }
    }
    xlstm__free(a, v);
    return XLSTM_OK;
}

static xlstm_status xlstm__st_parse(xlstm__st *st, const xlstm__alloc *a, const unsigned char *buf, size_t size,
                                    xlstm_error *err) {
    uint64_t hlen;
    const unsigned char *data;
    size_t data_size;
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
        t = &st->t[st->n++];
        memset(t, 0, sizeof *t);
        t->name_tok = ti;
        t->name = j->text + j->tok[ti].start;
        t->name_len = j->tok[ti].end - j->tok[ti].start;
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
            s = xlstm__fail(err, XLSTM_ERR_FORMAT, "safetensors: tensor %s: data_offsets span %llu bytes, shape needs %lu",
                            name, XLSTM__CAST(unsigned long long, end - begin), XLSTM__CAST(unsigned long, t->nbytes));
            xlstm__st_free(st, a); /* t points into st->t: report first */
            return s;
        }
        t->data = data + begin;
    }
    return xlstm__st_check_dups(st, a, "safetensors", err);
    return XLSTM_OK;
bad_meta:
    xlstm__st_free(st, a);
    return xlstm__fail(err, XLSTM_ERR_FORMAT, "safetensors: __metadata__ is not an object");
}

static xlstm__st_tensor *xlstm__st_find(xlstm__st *st, const char *name) {
    uint32_t i;
    size_t n = strlen(name);
    for (; st; st = st->next) {
        for (i = 0; i < st->n; i++)
            if (st->t[i].name_len == n && memcmp(st->t[i].name, name, n) == 0) return &st->t[i];
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
        size_t len = node->t[i].name_len;
        if (len >= sizeof name) continue;
        memcpy(name, node->t[i].name, len);
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

/* f32 rounded to the nearest bf16 (ties to even), as torch's .to(bfloat16);
   NaN stays NaN. */
static float xlstm__round_bf16(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    if ((u & 0x7F800000u) == 0x7F800000u && (u & 0x7FFFFFu)) u |= 0x400000u; /* quiet NaN */
    else u += 0x7FFFu + ((u >> 16) & 1u);
    u &= 0xFFFF0000u;
    memcpy(&x, &u, 4);
    return x;
}

/* The TiRex recurrent kernel in bf16, one head's (K, n) matrix A: the rows
   in pairs (2p, 2p + 1), each column's two values side by side in 32 bits
   (row 2p in the low half), as vdpbf16ps multiplies them; the columns in
   blocks of XLSTM__REC_BLOCK, each block's pairs contiguous, so a pass over a
   block reads one stream. An odd K has a zero row K. The index (in
   uint16_t) of A[k][o], and the uint16_t count of the whole matrix. */
#define XLSTM__REC_BLOCK 256
static size_t xlstm__rec16_index(int k, int o, int K, int n) {
    const int o0 = o - o % XLSTM__REC_BLOCK, w = n - o0 < XLSTM__REC_BLOCK ? n - o0 : XLSTM__REC_BLOCK;
    const size_t word = XLSTM__CAST(size_t, o0) * XLSTM__CAST(size_t, (K + 1) / 2) + XLSTM__CAST(size_t, k / 2) * XLSTM__CAST(size_t, w) +
                        XLSTM__CAST(size_t, o - o0);
    return 2 * word + XLSTM__CAST(size_t, k & 1);
}
static size_t xlstm__rec16_count(int K, int n) { return 2 * XLSTM__CAST(size_t, (K + 1) / 2) * XLSTM__CAST(size_t, n); }
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

/* ---- PyTorch checkpoints (zip + restricted unpickler) ------------------------
   torch.save writes a zip of stored (uncompressed) entries: <top>/data.pkl, a
   pickle of the saved object, and <top>/data/<key>, one entry per storage
   (little-endian), <top> being whatever name the file had when it was saved.
   The unpickler below runs only the opcodes that build plain data (dicts,
   lists, tuples, strings, numbers, booleans, None), calls only the globals
   torch.load(weights_only=True) allows (OrderedDict, the tensor rebuilds and
   the typed storages) and never executes anything: any other global is an
   error naming it. Its stack, memo, object count and nesting are capped. The
   result becomes a tensor table (the state_dict, or a Lightning checkpoint's
   "state_dict"; a leading "block_stack." is dropped from names, as TiRex's
   on_load_checkpoint does) and, from "hyper_parameters", a config as JSON. */

#define XLSTM__PK_MAX_OBJECTS (1u << 20)
#define XLSTM__PK_MAX_STACK (1u << 20)
#define XLSTM__PK_MAX_MEMO (1u << 20)
#define XLSTM__PK_MAX_MARKS 256
#define XLSTM__PK_MAX_JSON (1u << 20)

typedef struct xlstm__zent {
    const char *name;
    uint32_t name_len;
    const unsigned char *data;
    uint64_t size;
} xlstm__zent;

static uint32_t xlstm__rd_u16le(const unsigned char *p) { return XLSTM__CAST(uint32_t, p[0] | (p[1] << 8)); }
static uint32_t xlstm__rd_u32le(const unsigned char *p) {
    return XLSTM__CAST(uint32_t, p[0]) | XLSTM__CAST(uint32_t, p[1]) << 8 | XLSTM__CAST(uint32_t, p[2]) << 16 |
           XLSTM__CAST(uint32_t, p[3]) << 24;
}

static int xlstm__zent_cmp(const void *x, const void *y) {
    const xlstm__zent *a = XLSTM__CAST(const xlstm__zent *, x), *b = XLSTM__CAST(const xlstm__zent *, y);
    size_t n = a->name_len < b->name_len ? a->name_len : b->name_len;
    int c = memcmp(a->name, b->name, n);
    if (c) return c;
    return a->name_len < b->name_len ? -1 : a->name_len > b->name_len;
}

/* Is [off, off + len) inside a file of size bytes? */
static int xlstm__in_file(uint64_t off, uint64_t len, size_t size) { return off <= size && len <= size - off; }

/* The central directory: every entry stored, inside the file, named once. */
static xlstm_status xlstm__zip_parse(const unsigned char *buf, size_t size, const xlstm__alloc *a, xlstm__zent **out,
                                     uint32_t *out_n, xlstm_error *err) {
    size_t eocd = 0, i;
    uint64_t cd_off, cd_size, count, p, end;
    xlstm__zent *e;
    int found = 0;
    *out = NULL;
    *out_n = 0;
    if (size < 22) return xlstm__fail(err, XLSTM_ERR_TRUNCATED, "checkpoint: %lu bytes, too short for a zip", XLSTM__CAST(unsigned long, size));
    for (i = size - 22;; i--) { /* the end record, behind a comment of at most 64 KB */
        if (xlstm__rd_u32le(buf + i) == 0x06054b50u) {
            eocd = i;
            found = 1;
            break;
        }
        if (i == 0 || size - 22 - i >= 65535) break;
    }
    if (!found) return xlstm__fail(err, XLSTM_ERR_TRUNCATED, "checkpoint: no zip end record (the file is truncated)");
    count = xlstm__rd_u16le(buf + eocd + 10);
    cd_size = xlstm__rd_u32le(buf + eocd + 12);
    cd_off = xlstm__rd_u32le(buf + eocd + 16);
    if (eocd >= 20 && xlstm__rd_u32le(buf + eocd - 20) == 0x07064b50u) { /* zip64 locator: torch writes one */
        uint64_t z = xlstm__rd_u64le(buf + eocd - 12);
        if (!xlstm__in_file(z, 56, size))
            return xlstm__fail(err, XLSTM_ERR_TRUNCATED, "checkpoint: zip64 end record at %llu is past the end of the file",
                               XLSTM__CAST(unsigned long long, z));
        if (xlstm__rd_u32le(buf + z) != 0x06064b50u)
            return xlstm__fail(err, XLSTM_ERR_FORMAT, "checkpoint: no zip64 end record at %llu", XLSTM__CAST(unsigned long long, z));
        count = xlstm__rd_u64le(buf + z + 32);
        cd_size = xlstm__rd_u64le(buf + z + 40);
        cd_off = xlstm__rd_u64le(buf + z + 48);
    }
    if (!xlstm__in_file(cd_off, cd_size, size))
        return xlstm__fail(err, XLSTM_ERR_TRUNCATED, "checkpoint: zip central directory (%llu bytes at %llu) runs past the end of the file",
                           XLSTM__CAST(unsigned long long, cd_size), XLSTM__CAST(unsigned long long, cd_off));
    if (count == 0 || count > cd_size / 46)
        return xlstm__fail(err, XLSTM_ERR_FORMAT, "checkpoint: zip directory claims %llu entries in %llu bytes",
                           XLSTM__CAST(unsigned long long, count), XLSTM__CAST(unsigned long long, cd_size));
    e = XLSTM__CAST(xlstm__zent *, xlstm__malloc(a, XLSTM__CAST(size_t, count) * sizeof *e));
    if (!e) return xlstm__fail(err, XLSTM_ERR_NOMEM, "checkpoint: out of memory");
    p = cd_off;
    end = cd_off + cd_size;
    for (i = 0; i < count; i++) {
        const unsigned char *h = buf + p;
        uint32_t method, nlen, xlen, clen, flags, k;
        uint64_t csize, usize, loff, data;
        if (end - p < 46 || xlstm__rd_u32le(h) != 0x02014b50u) goto bad_cd;
        flags = xlstm__rd_u16le(h + 8);
        method = xlstm__rd_u16le(h + 10);
        csize = xlstm__rd_u32le(h + 20);
        usize = xlstm__rd_u32le(h + 24);
        nlen = xlstm__rd_u16le(h + 28);
        xlen = xlstm__rd_u16le(h + 30);
        clen = xlstm__rd_u16le(h + 32);
        loff = xlstm__rd_u32le(h + 42);
        if (end - p - 46 < XLSTM__CAST(uint64_t, nlen) + xlen + clen) goto bad_cd;
        e[i].name = XLSTM__BYTES_AS_CHARS(h + 46);
        e[i].name_len = nlen;
        for (k = 0; k + 4 <= xlen;) { /* the zip64 extra field holds the sizes that did not fit */
            const unsigned char *x = h + 46 + nlen + k;
            uint32_t id = xlstm__rd_u16le(x), n = xlstm__rd_u16le(x + 2), o = 4;
            if (k + 4 + n > xlen) goto bad_cd;
            if (id == 1) {
                if (usize == 0xFFFFFFFFu) { if (o + 8 > n + 4) goto bad_cd; usize = xlstm__rd_u64le(x + o); o += 8; }
                if (csize == 0xFFFFFFFFu) { if (o + 8 > n + 4) goto bad_cd; csize = xlstm__rd_u64le(x + o); o += 8; }
                if (loff == 0xFFFFFFFFu) { if (o + 8 > n + 4) goto bad_cd; loff = xlstm__rd_u64le(x + o); }
            }
            k += 4 + n;
        }
        if (method != 0 || (flags & 1)) {
            int len = nlen < 100 ? XLSTM__CAST(int, nlen) : 100;
            xlstm_status s = xlstm__fail(err, XLSTM_ERR_UNSUPPORTED,
                                         "checkpoint: zip entry %.*s is %s (method %u, flags %u); torch.save stores entries plain",
                                         len, e[i].name, (flags & 1) ? "encrypted" : "compressed", XLSTM__CAST(unsigned, method),
                                         XLSTM__CAST(unsigned, flags));
            xlstm__free(a, e);
            return s;
        }
        if (csize != usize || !xlstm__in_file(loff, 30, size) || xlstm__rd_u32le(buf + loff) != 0x04034b50u) goto bad_entry;
        data = loff + 30 + xlstm__rd_u16le(buf + loff + 26) + xlstm__rd_u16le(buf + loff + 28);
        if (!xlstm__in_file(data, csize, size)) goto bad_entry;
        e[i].data = buf + data;
        e[i].size = csize;
        p += 46 + XLSTM__CAST(uint64_t, nlen) + xlen + clen;
    }
    qsort(e, XLSTM__CAST(size_t, count), sizeof *e, xlstm__zent_cmp);
    for (i = 1; i < count; i++)
        if (xlstm__zent_cmp(&e[i - 1], &e[i]) == 0) {
            int len = e[i].name_len < 100 ? XLSTM__CAST(int, e[i].name_len) : 100;
            xlstm_status s = xlstm__fail(err, XLSTM_ERR_FORMAT, "checkpoint: zip entry %.*s appears twice", len, e[i].name);
            xlstm__free(a, e);
            return s;
        }
    *out = e;
    *out_n = XLSTM__CAST(uint32_t, count);
    return XLSTM_OK;
bad_entry: {
        int len = e[i].name_len < 100 ? XLSTM__CAST(int, e[i].name_len) : 100;
        xlstm_status s = xlstm__fail(err, XLSTM_ERR_TRUNCATED, "checkpoint: zip entry %.*s: its data runs past the end of the file or its header is malformed",
                                     len, e[i].name);
        xlstm__free(a, e);
        return s;
    }
bad_cd:
    xlstm__free(a, e);
    return xlstm__fail(err, XLSTM_ERR_FORMAT, "checkpoint: zip central directory entry %lu is malformed", XLSTM__CAST(unsigned long, i));
}

static const xlstm__zent *xlstm__zip_find(const xlstm__zent *e, uint32_t n, const char *name, size_t len) {
    xlstm__zent key;
    if (len > UINT32_MAX) return NULL;
    key.name = name;
    key.name_len = XLSTM__CAST(uint32_t, len);
    return XLSTM__CAST(const xlstm__zent *, bsearch(&key, e, n, sizeof *e, xlstm__zent_cmp));
}

/* Pickle objects. Containers hold a linked list of items. */
enum {
    XLSTM__PK_NONE, XLSTM__PK_BOOL, XLSTM__PK_INT, XLSTM__PK_FLOAT, XLSTM__PK_STR, XLSTM__PK_TUPLE, XLSTM__PK_LIST,
    XLSTM__PK_DICT, XLSTM__PK_GLOBAL, XLSTM__PK_STORAGE, XLSTM__PK_TENSOR
};
/* the allowed globals; storages are FIRST_STORAGE + their element type */
enum { XLSTM__G_ORDERED_DICT, XLSTM__G_REBUILD_TENSOR, XLSTM__G_REBUILD_PARAMETER, XLSTM__G_FIRST_STORAGE };
/* element types of the storages, in the order of xlstm__pk_storages */
enum { XLSTM__EL_F32, XLSTM__EL_BF16, XLSTM__EL_F16, XLSTM__EL_F64, XLSTM__EL_I64, XLSTM__EL_I32, XLSTM__EL_I16,
       XLSTM__EL_I8, XLSTM__EL_U8, XLSTM__EL_BOOL, XLSTM__EL_COUNT };
static const char *const xlstm__pk_storages[XLSTM__EL_COUNT] = {
    "FloatStorage", "BFloat16Storage", "HalfStorage", "DoubleStorage", "LongStorage",
    "IntStorage", "ShortStorage", "CharStorage", "ByteStorage", "BoolStorage"};
static const unsigned char xlstm__pk_el_size[XLSTM__EL_COUNT] = {4, 2, 2, 8, 8, 4, 2, 1, 1, 1};

typedef struct xlstm__pobj {
    uint8_t type, sub;     /* sub: BOOL value, GLOBAL id, STORAGE element type */
    uint32_t len;          /* STR bytes; container items */
    uint32_t first, last;  /* container item list; TENSOR: its storage object */
    int64_t i;             /* INT; STORAGE numel; TENSOR storage offset */
    double f;              /* FLOAT */
    const unsigned char *s; /* STR bytes; STORAGE key */
} xlstm__pobj;

typedef struct xlstm__ptensor { /* a TENSOR object's shape (its len indexes these) */
    int ndim;
    int64_t shape[8], stride[8];
} xlstm__ptensor;

typedef struct xlstm__pitem {
    uint32_t key, val, next;
} xlstm__pitem;

typedef struct xlstm__pk {
    const xlstm__alloc *a;
    xlstm_error *err;
    xlstm__pobj *obj;
    xlstm__pitem *item;
    xlstm__ptensor *tens;
    uint32_t *stack, *memo, marks[XLSTM__PK_MAX_MARKS];
    uint32_t n_obj, cap_obj, n_item, cap_item, n_tens, cap_tens, sp, cap_stack, n_memo, cap_memo, n_marks;
} xlstm__pk;

/* Grow an array to hold at least need elements (doubling, at most max). */
static int xlstm__pk_grow(const xlstm__alloc *a, void **p, uint32_t *cap, uint32_t need, size_t elem, uint32_t max) {
    uint32_t ncap = *cap ? *cap : 64;
    void *np;
    if (need <= *cap) return 1;
    if (need > max) return 0;
    while (ncap < need) ncap = ncap > max / 2 ? max : ncap * 2;
    np = xlstm__malloc(a, XLSTM__CAST(size_t, ncap) * elem);
    if (!np) return 0;
    if (*p) memcpy(np, *p, XLSTM__CAST(size_t, *cap) * elem);
    xlstm__free(a, *p);
    *p = np;
    *cap = ncap;
    return 1;
}

static uint32_t xlstm__pk_new(xlstm__pk *k, int type) {
    xlstm__pobj *o;
    void *p = k->obj;
    if (!xlstm__pk_grow(k->a, &p, &k->cap_obj, k->n_obj + 1, sizeof(xlstm__pobj), XLSTM__PK_MAX_OBJECTS)) return UINT32_MAX;
    k->obj = XLSTM__CAST(xlstm__pobj *, p);
    o = &k->obj[k->n_obj];
    memset(o, 0, sizeof *o);
    o->type = XLSTM__CAST(uint8_t, type);
    o->first = o->last = UINT32_MAX;
    return k->n_obj++;
}

static int xlstm__pk_add(xlstm__pk *k, uint32_t container, uint32_t key, uint32_t val) {
    xlstm__pobj *c;
    void *p = k->item;
    if (!xlstm__pk_grow(k->a, &p, &k->cap_item, k->n_item + 1, sizeof(xlstm__pitem), XLSTM__PK_MAX_OBJECTS)) return 0;
    k->item = XLSTM__CAST(xlstm__pitem *, p);
    k->item[k->n_item].key = key;
    k->item[k->n_item].val = val;
    k->item[k->n_item].next = UINT32_MAX;
    c = &k->obj[container];
    if (c->last == UINT32_MAX) c->first = k->n_item;
    else k->item[c->last].next = k->n_item;
    c->last = k->n_item++;
    c->len++;
    return 1;
}

static int xlstm__pk_push(xlstm__pk *k, uint32_t o) {
    void *p = k->stack;
    if (o == UINT32_MAX || !xlstm__pk_grow(k->a, &p, &k->cap_stack, k->sp + 1, sizeof(uint32_t), XLSTM__PK_MAX_STACK)) return 0;
    k->stack = XLSTM__CAST(uint32_t *, p);
    k->stack[k->sp++] = o;
    return 1;
}

/* Elements above the innermost mark. */
static uint32_t xlstm__pk_avail(const xlstm__pk *k) { return k->sp - (k->n_marks ? k->marks[k->n_marks - 1] : 0); }

/* The idx-th value of a tuple or list (callers check the type and length;
   anything else gives UINT32_MAX: a tensor's "first" is its storage). */
static uint32_t xlstm__pk_item_at(const xlstm__pk *k, uint32_t tuple, uint32_t idx) {
    uint32_t it = k->obj[tuple].type == XLSTM__PK_TUPLE || k->obj[tuple].type == XLSTM__PK_LIST ? k->obj[tuple].first : UINT32_MAX;
    while (idx-- && it != UINT32_MAX) it = k->item[it].next;
    return it == UINT32_MAX ? UINT32_MAX : k->item[it].val;
}

static int xlstm__pk_is_str(const xlstm__pk *k, uint32_t o, const char *s) {
    size_t n = strlen(s);
    return k->obj[o].type == XLSTM__PK_STR && k->obj[o].len == n && memcmp(k->obj[o].s, s, n) == 0;
}

/* A tuple of ints (a tensor's size or stride) into v; -1 when it is not one. */
static int xlstm__pk_int_tuple(const xlstm__pk *k, uint32_t t, int64_t *v, int max) {
    uint32_t it, n = 0;
    if (k->obj[t].type != XLSTM__PK_TUPLE || k->obj[t].len > XLSTM__CAST(uint32_t, max)) return -1;
    for (it = k->obj[t].first; it != UINT32_MAX; it = k->item[it].next) {
        const xlstm__pobj *o = &k->obj[k->item[it].val];
        if (o->type != XLSTM__PK_INT || o->i < 0 || o->i > (XLSTM__CAST(int64_t, 1) << 48)) return -1;
        v[n++] = o->i;
    }
    return XLSTM__CAST(int, n);
}

static xlstm_status xlstm__pk_global(xlstm__pk *k, const char *mod, size_t ml, const char *name, size_t nl, uint32_t *out) {
    int g = -1, e;
    if (ml == 11 && memcmp(mod, "collections", 11) == 0 && nl == 11 && memcmp(name, "OrderedDict", 11) == 0) g = XLSTM__G_ORDERED_DICT;
    if (ml == 12 && memcmp(mod, "torch._utils", 12) == 0) {
        if (nl == 18 && memcmp(name, "_rebuild_tensor_v2", 18) == 0) g = XLSTM__G_REBUILD_TENSOR;
        if (nl == 18 && memcmp(name, "_rebuild_parameter", 18) == 0) g = XLSTM__G_REBUILD_PARAMETER;
    }
    if (ml == 5 && memcmp(mod, "torch", 5) == 0)
        for (e = 0; e < XLSTM__EL_COUNT; e++)
            if (nl == strlen(xlstm__pk_storages[e]) && memcmp(name, xlstm__pk_storages[e], nl) == 0) g = XLSTM__G_FIRST_STORAGE + e;
    if (g < 0) {
        int a = ml < 60 ? XLSTM__CAST(int, ml) : 60, b = nl < 60 ? XLSTM__CAST(int, nl) : 60;
        return xlstm__fail(k->err, XLSTM_ERR_FORMAT, "checkpoint: the pickle asks for the global %.*s.%.*s, which a weights-only load does not allow",
                           a, mod, b, name);
    }
    *out = xlstm__pk_new(k, XLSTM__PK_GLOBAL);
    if (*out == UINT32_MAX) return xlstm__fail(k->err, XLSTM_ERR_NOMEM, "checkpoint: pickle too large");
    k->obj[*out].sub = XLSTM__CAST(uint8_t, g);
    return XLSTM_OK;
}

/* REDUCE: call an allowed global on a tuple of arguments. */
static xlstm_status xlstm__pk_reduce(xlstm__pk *k, uint32_t fn, uint32_t args, uint32_t *out) {
    const xlstm__pobj *f = &k->obj[fn], *t = &k->obj[args];
    if (f->type != XLSTM__PK_GLOBAL || t->type != XLSTM__PK_TUPLE)
        return xlstm__fail(k->err, XLSTM_ERR_FORMAT, "checkpoint: pickle REDUCE of something that is not an allowed global");
    if (f->sub == XLSTM__G_ORDERED_DICT) {
        if (t->len) return xlstm__fail(k->err, XLSTM_ERR_FORMAT, "checkpoint: pickle builds an OrderedDict from arguments");
        *out = xlstm__pk_new(k, XLSTM__PK_DICT);
    } else if (f->sub == XLSTM__G_REBUILD_PARAMETER) { /* (tensor, requires_grad, hooks) */
        uint32_t v = t->len == 3 ? xlstm__pk_item_at(k, args, 0) : UINT32_MAX;
        if (v == UINT32_MAX || k->obj[v].type != XLSTM__PK_TENSOR)
            return xlstm__fail(k->err, XLSTM_ERR_FORMAT, "checkpoint: _rebuild_parameter without a tensor");
        *out = v;
        return XLSTM_OK;
    } else if (f->sub == XLSTM__G_REBUILD_TENSOR) { /* (storage, offset, size, stride, requires_grad, hooks[, metadata]) */
        uint32_t st = xlstm__pk_item_at(k, args, 0), off = xlstm__pk_item_at(k, args, 1);
        uint32_t sz = xlstm__pk_item_at(k, args, 2), sd = xlstm__pk_item_at(k, args, 3);
        int64_t shape[8], stride[8], extent = 0;
        int nd, ns, d;
        xlstm__pobj *o;
        if (t->len < 6 || t->len > 7 || k->obj[st].type != XLSTM__PK_STORAGE || k->obj[off].type != XLSTM__PK_INT ||
            k->obj[off].i < 0 || (nd = xlstm__pk_int_tuple(k, sz, shape, 8)) < 0 || (ns = xlstm__pk_int_tuple(k, sd, stride, 8)) != nd)
            return xlstm__fail(k->err, XLSTM_ERR_FORMAT, "checkpoint: malformed _rebuild_tensor_v2 arguments");
        /* the last element it reads must lie inside the storage (sizes and
           strides are below 2^48, so each step is checked before it can overflow) */
        for (d = 0; d < nd; d++) {
            if (shape[d] == 0) { extent = -1; break; }
        }
        for (d = 0; d < nd && extent >= 0; d++) {
            if (stride[d] && shape[d] - 1 > ((XLSTM__CAST(int64_t, 1) << 60) - extent) / stride[d]) {
                extent = XLSTM__CAST(int64_t, 1) << 61;
                break;
            }
            extent += (shape[d] - 1) * stride[d];
        }
        if (k->obj[off].i > k->obj[st].i || (extent >= 0 && extent >= k->obj[st].i - k->obj[off].i))
            return xlstm__fail(k->err, XLSTM_ERR_SHAPE, "checkpoint: a tensor reaches past the end of its storage (%lld elements)",
                               XLSTM__CAST(long long, k->obj[st].i));
        {
            void *tp = k->tens;
            if (!xlstm__pk_grow(k->a, &tp, &k->cap_tens, k->n_tens + 1, sizeof(xlstm__ptensor), XLSTM__PK_MAX_OBJECTS))
                return xlstm__fail(k->err, XLSTM_ERR_NOMEM, "checkpoint: pickle too large");
            k->tens = XLSTM__CAST(xlstm__ptensor *, tp);
        }
        *out = xlstm__pk_new(k, XLSTM__PK_TENSOR);
        if (*out == UINT32_MAX) return xlstm__fail(k->err, XLSTM_ERR_NOMEM, "checkpoint: pickle too large");
        o = &k->obj[*out];
        o->first = st;
        o->i = k->obj[off].i;
        o->len = k->n_tens;
        k->tens[k->n_tens].ndim = nd;
        memcpy(k->tens[k->n_tens].shape, shape, sizeof shape);
        memcpy(k->tens[k->n_tens].stride, stride, sizeof stride);
        k->n_tens++;
        return XLSTM_OK;
    } else {
        return xlstm__fail(k->err, XLSTM_ERR_FORMAT, "checkpoint: pickle calls torch.%s", xlstm__pk_storages[f->sub - XLSTM__G_FIRST_STORAGE]);
    }
    if (*out == UINT32_MAX) return xlstm__fail(k->err, XLSTM_ERR_NOMEM, "checkpoint: pickle too large");
    return XLSTM_OK;
}

/* BINPERSID: ('storage', storage class, key, location, numel) */
static xlstm_status xlstm__pk_persid(xlstm__pk *k, uint32_t pid, uint32_t *out) {
    uint32_t tag, cls, key, numel;
    xlstm__pobj *o;
    if (k->obj[pid].type != XLSTM__PK_TUPLE || k->obj[pid].len != 5)
        return xlstm__fail(k->err, XLSTM_ERR_FORMAT, "checkpoint: malformed storage reference (persistent id)");
    tag = xlstm__pk_item_at(k, pid, 0), cls = xlstm__pk_item_at(k, pid, 1), key = xlstm__pk_item_at(k, pid, 2);
    numel = xlstm__pk_item_at(k, pid, 4);
    if (!xlstm__pk_is_str(k, tag, "storage") ||
        k->obj[cls].type != XLSTM__PK_GLOBAL || k->obj[cls].sub < XLSTM__G_FIRST_STORAGE || k->obj[key].type != XLSTM__PK_STR ||
        k->obj[numel].type != XLSTM__PK_INT || k->obj[numel].i < 0 || k->obj[numel].i > (XLSTM__CAST(int64_t, 1) << 48))
        return xlstm__fail(k->err, XLSTM_ERR_FORMAT, "checkpoint: malformed storage reference (persistent id)");
    *out = xlstm__pk_new(k, XLSTM__PK_STORAGE);
    if (*out == UINT32_MAX) return xlstm__fail(k->err, XLSTM_ERR_NOMEM, "checkpoint: pickle too large");
    o = &k->obj[*out];
    o->sub = XLSTM__CAST(uint8_t, k->obj[cls].sub - XLSTM__G_FIRST_STORAGE);
    o->s = k->obj[key].s;
    o->len = k->obj[key].len;
    o->i = k->obj[numel].i;
    return XLSTM_OK;
}

/* Run the pickle; *root receives the object STOP returns. */
static xlstm_status xlstm__pk_run(xlstm__pk *k, const unsigned char *p, size_t n, uint32_t *root) {
    size_t pos = 0;
#define XLSTM__PK_NEED(nb) do { if (n - pos < XLSTM__CAST(size_t, nb)) goto truncated; } while (0)
#define XLSTM__PK_POP(v) do { if (!xlstm__pk_avail(k)) goto underflow; (v) = k->stack[--k->sp]; } while (0)
#define XLSTM__PK_PUSH(v) do { if (!xlstm__pk_push(k, (v))) goto toolarge; } while (0)
    while (pos < n) {
        const size_t at = pos;
        const unsigned char op = p[pos++];
        uint32_t a = 0, b = 0, o = UINT32_MAX, idx;
        uint64_t len;
        xlstm_status s;
        switch (op) {
        case 0x80: XLSTM__PK_NEED(1); pos++; break;                /* PROTO */
        case 0x95: XLSTM__PK_NEED(8); pos += 8; break;             /* FRAME */
        case '.':                                                  /* STOP */
            if (k->n_marks || k->sp != 1) goto underflow;
            *root = k->stack[0];
            return XLSTM_OK;
        case 'N': o = xlstm__pk_new(k, XLSTM__PK_NONE); XLSTM__PK_PUSH(o); break;
        case 0x88: case 0x89:                                      /* NEWTRUE, NEWFALSE */
            o = xlstm__pk_new(k, XLSTM__PK_BOOL);
            if (o != UINT32_MAX) k->obj[o].sub = op == 0x88;
            XLSTM__PK_PUSH(o);
            break;
        case 'J': case 'K': case 'M': {                            /* BININT, BININT1, BININT2 */
            int nb = op == 'J' ? 4 : op == 'K' ? 1 : 2;
            int64_t v;
            XLSTM__PK_NEED(nb);
            v = op == 'J' ? XLSTM__CAST(int64_t, XLSTM__CAST(int32_t, xlstm__rd_u32le(p + pos))) : op == 'K' ? p[pos] : XLSTM__CAST(int64_t, xlstm__rd_u16le(p + pos));
            pos += XLSTM__CAST(size_t, nb);
            o = xlstm__pk_new(k, XLSTM__PK_INT);
            if (o != UINT32_MAX) k->obj[o].i = v;
            XLSTM__PK_PUSH(o);
            break;
        }
        case 0x8a: {                                               /* LONG1: little-endian two's complement */
            uint64_t u = 0;
            uint32_t nb, j;
            XLSTM__PK_NEED(1);
            nb = p[pos++];
            XLSTM__PK_NEED(nb);
            if (nb > 8) goto badop; /* a long beyond 64 bits */
            for (j = 0; j < nb; j++) u |= XLSTM__CAST(uint64_t, p[pos + j]) << (8 * j);
            if (nb && nb < 8 && (p[pos + nb - 1] & 0x80)) u |= ~XLSTM__CAST(uint64_t, 0) << (8 * nb);
            pos += nb;
            o = xlstm__pk_new(k, XLSTM__PK_INT);
            if (o != UINT32_MAX) k->obj[o].i = XLSTM__CAST(int64_t, u);
            XLSTM__PK_PUSH(o);
            break;
        }
        case 'G': {                                                /* BINFLOAT: big-endian double */
            uint64_t u = 0;
            int j;
            double d;
            XLSTM__PK_NEED(8);
            for (j = 0; j < 8; j++) u = u << 8 | p[pos + XLSTM__CAST(size_t, j)];
            pos += 8;
            memcpy(&d, &u, 8);
            o = xlstm__pk_new(k, XLSTM__PK_FLOAT);
            if (o != UINT32_MAX) k->obj[o].f = d;
            XLSTM__PK_PUSH(o);
            break;
        }
        case 'X': case 0x8c: case 0x8d: case 'B': case 'C':       /* BINUNICODE(8), SHORT_BINUNICODE, (SHORT_)BINBYTES */
            if (op == 'X' || op == 'B') { XLSTM__PK_NEED(4); len = xlstm__rd_u32le(p + pos); pos += 4; }
            else if (op == 0x8d) { XLSTM__PK_NEED(8); len = xlstm__rd_u64le(p + pos); pos += 8; }
            else { XLSTM__PK_NEED(1); len = p[pos++]; }
            if (len > n - pos || len > UINT32_MAX) goto truncated;
            o = xlstm__pk_new(k, XLSTM__PK_STR);
            if (o != UINT32_MAX) k->obj[o].s = p + pos, k->obj[o].len = XLSTM__CAST(uint32_t, len);
            pos += XLSTM__CAST(size_t, len);
            XLSTM__PK_PUSH(o);
            break;
        case ')': o = xlstm__pk_new(k, XLSTM__PK_TUPLE); XLSTM__PK_PUSH(o); break;
        case ']': o = xlstm__pk_new(k, XLSTM__PK_LIST); XLSTM__PK_PUSH(o); break;
        case '}': o = xlstm__pk_new(k, XLSTM__PK_DICT); XLSTM__PK_PUSH(o); break;
        case '(':                                                  /* MARK */
            if (k->n_marks == XLSTM__PK_MAX_MARKS) {
                return xlstm__fail(k->err, XLSTM_ERR_FORMAT, "checkpoint: pickle nests deeper than %d marks", XLSTM__PK_MAX_MARKS);
            }
            k->marks[k->n_marks++] = k->sp;
            break;
        case 0x85: case 0x86: case 0x87: case 't': case 'l': {     /* TUPLE1/2/3, TUPLE, LIST */
            uint32_t cnt, base, j;
            if (op == 't' || op == 'l') {
                if (!k->n_marks) goto underflow;
                base = k->marks[--k->n_marks];
                cnt = k->sp - base;
            } else {
                cnt = XLSTM__CAST(uint32_t, op - 0x84);
                if (xlstm__pk_avail(k) < cnt) goto underflow;
                base = k->sp - cnt;
            }
            o = xlstm__pk_new(k, op == 'l' ? XLSTM__PK_LIST : XLSTM__PK_TUPLE);
            if (o == UINT32_MAX) goto toolarge;
            for (j = 0; j < cnt; j++)
                if (!xlstm__pk_add(k, o, UINT32_MAX, k->stack[base + j])) goto toolarge;
            k->sp = base;
            XLSTM__PK_PUSH(o);
            break;
        }
        case 'a':                                                  /* APPEND */
            XLSTM__PK_POP(b);
            if (!xlstm__pk_avail(k) || k->obj[k->stack[k->sp - 1]].type != XLSTM__PK_LIST) goto badop;
            if (!xlstm__pk_add(k, k->stack[k->sp - 1], UINT32_MAX, b)) goto toolarge;
            break;
        case 'e': case 'u': case 'd': {                            /* APPENDS, SETITEMS, DICT */
            uint32_t base, j, target;
            if (!k->n_marks) goto underflow;
            base = k->marks[--k->n_marks];
            if (op == 'd') {
                target = xlstm__pk_new(k, XLSTM__PK_DICT);
                if (target == UINT32_MAX) goto toolarge;
            } else {
                if (base == 0 || (k->n_marks && k->marks[k->n_marks - 1] == base)) goto underflow;
                target = k->stack[base - 1];
                if (k->obj[target].type != (op == 'e' ? XLSTM__PK_LIST : XLSTM__PK_DICT)) goto badop;
            }
            if (op != 'e' && (k->sp - base) % 2) goto badop;
            for (j = base; j < k->sp; j += op == 'e' ? 1 : 2)
                if (!xlstm__pk_add(k, target, op == 'e' ? UINT32_MAX : k->stack[j], op == 'e' ? k->stack[j] : k->stack[j + 1]))
                    goto toolarge;
            k->sp = base;
            if (op == 'd') XLSTM__PK_PUSH(target);
            break;
        }
        case 's':                                                  /* SETITEM */
            XLSTM__PK_POP(b);
            XLSTM__PK_POP(a);
            if (!xlstm__pk_avail(k) || k->obj[k->stack[k->sp - 1]].type != XLSTM__PK_DICT) goto badop;
            if (!xlstm__pk_add(k, k->stack[k->sp - 1], a, b)) goto toolarge;
            break;
        case '0': XLSTM__PK_POP(a); (void)a; break;                /* POP */
        case 'q': case 'r': case 0x94:                             /* BINPUT, LONG_BINPUT, MEMOIZE */
            if (op == 'q') { XLSTM__PK_NEED(1); idx = p[pos++]; }
            else if (op == 'r') { XLSTM__PK_NEED(4); idx = xlstm__rd_u32le(p + pos); pos += 4; }
            else idx = k->n_memo;
            if (!xlstm__pk_avail(k)) goto underflow;
            if (idx >= XLSTM__PK_MAX_MEMO)
                return xlstm__fail(k->err, XLSTM_ERR_FORMAT, "checkpoint: pickle memo index %u over the cap of %u", XLSTM__CAST(unsigned, idx),
                                   XLSTM__CAST(unsigned, XLSTM__PK_MAX_MEMO));
            if (idx >= k->n_memo) {
                void *m = k->memo;
                uint32_t j;
                if (!xlstm__pk_grow(k->a, &m, &k->cap_memo, idx + 1, sizeof(uint32_t), XLSTM__PK_MAX_MEMO)) goto toolarge;
                k->memo = XLSTM__CAST(uint32_t *, m);
                for (j = k->n_memo; j <= idx; j++) k->memo[j] = UINT32_MAX;
                k->n_memo = idx + 1;
            }
            k->memo[idx] = k->stack[k->sp - 1];
            break;
        case 'h': case 'j':                                        /* BINGET, LONG_BINGET */
            if (op == 'h') { XLSTM__PK_NEED(1); idx = p[pos++]; }
            else { XLSTM__PK_NEED(4); idx = xlstm__rd_u32le(p + pos); pos += 4; }
            if (idx >= k->n_memo || k->memo[idx] == UINT32_MAX)
                return xlstm__fail(k->err, XLSTM_ERR_FORMAT, "checkpoint: pickle reads memo entry %u, which was never set", XLSTM__CAST(unsigned, idx));
            XLSTM__PK_PUSH(k->memo[idx]);
            break;
        case 'c': case 0x93: {                                     /* GLOBAL "module\nname\n", STACK_GLOBAL */
            const char *mod, *name;
            size_t ml, nl;
            if (op == 'c') {
                const unsigned char *e1 = XLSTM__CAST(const unsigned char *, memchr(p + pos, '\n', n - pos)), *e2;
                if (!e1) goto truncated;
                e2 = XLSTM__CAST(const unsigned char *, memchr(e1 + 1, '\n', n - XLSTM__CAST(size_t, e1 + 1 - p)));
                if (!e2) goto truncated;
                mod = XLSTM__BYTES_AS_CHARS(p + pos);
                ml = XLSTM__CAST(size_t, e1 - (p + pos));
                name = XLSTM__BYTES_AS_CHARS(e1 + 1);
                nl = XLSTM__CAST(size_t, e2 - (e1 + 1));
                pos = XLSTM__CAST(size_t, e2 + 1 - p);
            } else {
                XLSTM__PK_POP(b);
                XLSTM__PK_POP(a);
                if (k->obj[a].type != XLSTM__PK_STR || k->obj[b].type != XLSTM__PK_STR) goto badop;
                mod = XLSTM__BYTES_AS_CHARS(k->obj[a].s);
                ml = k->obj[a].len;
                name = XLSTM__BYTES_AS_CHARS(k->obj[b].s);
                nl = k->obj[b].len;
            }
            if ((s = xlstm__pk_global(k, mod, ml, name, nl, &o)) != XLSTM_OK) return s;
            XLSTM__PK_PUSH(o);
            break;
        }
        case 'R':                                                  /* REDUCE */
            XLSTM__PK_POP(b);
            XLSTM__PK_POP(a);
            if ((s = xlstm__pk_reduce(k, a, b, &o)) != XLSTM_OK) return s;
            XLSTM__PK_PUSH(o);
            break;
        case 'b':                                                  /* BUILD: a state_dict's _metadata; ignored */
            XLSTM__PK_POP(b);
            (void)b;
            if (!xlstm__pk_avail(k) || (k->obj[k->stack[k->sp - 1]].type != XLSTM__PK_DICT &&
                                        k->obj[k->stack[k->sp - 1]].type != XLSTM__PK_TENSOR)) goto badop;
            break;
        case 'Q':                                                  /* BINPERSID */
            XLSTM__PK_POP(a);
            if ((s = xlstm__pk_persid(k, a, &o)) != XLSTM_OK) return s;
            XLSTM__PK_PUSH(o);
            break;
        default:
            goto badop;
        }
        continue;
    badop:
        return xlstm__fail(k->err, XLSTM_ERR_FORMAT, "checkpoint: pickle opcode %u at byte %lu is not allowed here",
                           XLSTM__CAST(unsigned, op), XLSTM__CAST(unsigned long, at));
    underflow:
        return xlstm__fail(k->err, XLSTM_ERR_FORMAT, "checkpoint: pickle opcode %u at byte %lu finds too few objects on the stack",
                           XLSTM__CAST(unsigned, op), XLSTM__CAST(unsigned long, at));
    }
    return xlstm__fail(k->err, XLSTM_ERR_TRUNCATED, "checkpoint: pickle ends without STOP");
truncated:
    return xlstm__fail(k->err, XLSTM_ERR_TRUNCATED, "checkpoint: pickle truncated at byte %lu", XLSTM__CAST(unsigned long, pos));
toolarge:
    return xlstm__fail(k->err, XLSTM_ERR_NOMEM, "checkpoint: pickle over the caps (%u objects, %u stack entries) or out of memory",
                       XLSTM__CAST(unsigned, XLSTM__PK_MAX_OBJECTS), XLSTM__CAST(unsigned, XLSTM__PK_MAX_STACK));
#undef XLSTM__PK_NEED
#undef XLSTM__PK_POP
#undef XLSTM__PK_PUSH
}

static void xlstm__pk_free(xlstm__pk *k) {
    xlstm__free(k->a, k->obj);
    xlstm__free(k->a, k->item);
    xlstm__free(k->a, k->tens);
    xlstm__free(k->a, k->stack);
    xlstm__free(k->a, k->memo);
}

/* The value of a string key in a dict, or UINT32_MAX. */
static uint32_t xlstm__pk_dict_get(const xlstm__pk *k, uint32_t d, const char *key) {
    uint32_t it;
    if (k->obj[d].type != XLSTM__PK_DICT) return UINT32_MAX;
    for (it = k->obj[d].first; it != UINT32_MAX; it = k->item[it].next)
        if (xlstm__pk_is_str(k, k->item[it].key, key)) return k->item[it].val;
    return UINT32_MAX;
}

/* A double as the shortest decimal that reads back as the same double (at
   most 17 digits), without stdio; non-finite values become null. */
static size_t xlstm__fmt_double(char *buf, double d) {
    char digits[24], tmp[40];
    int p, e10, j;
    size_t o = 0;
    if (!(d == d) || d - d != 0) {
        memcpy(buf, "null", 5);
        return 4;
    }
    if (d == 0) {
        memcpy(buf, "0", 2);
        return 1;
    }
    e10 = XLSTM__CAST(int, floor(log10(fabs(d))));
    for (p = 1; p <= 17; p++) {
        int delta;
        for (delta = 0; delta < 3; delta++) {
            /* m = |d| * 10^(p-1-e10) rounded; the scaling may be off by an ulp, so the neighbours are tried too */
            double scaled = fabs(d) * pow(10.0, p - 1 - e10 > 300 ? 300 : p - 1 - e10);
            double m;
            uint64_t u;
            int nd = 0, exp10;
            if (p - 1 - e10 > 300) scaled *= pow(10.0, p - 1 - e10 - 300);
            m = floor(scaled + 0.5) + (delta == 1 ? 1 : delta == 2 ? -1 : 0);
            if (m <= 0 || m >= 1e17) continue;
            u = XLSTM__CAST(uint64_t, m);
            while (u) digits[nd++] = XLSTM__CAST(char, '0' + u % 10), u /= 10;
            exp10 = e10 - (p - 1);
            o = 0;
            if (d < 0) tmp[o++] = '-';
            for (j = nd - 1; j >= 0; j--) tmp[o++] = digits[j];
            o += xlstm__fmt(tmp + o, sizeof tmp - o, "e%d", exp10);
            if (strtod(tmp, NULL) == d) {
                memcpy(buf, tmp, o + 1);
                return o;
            }
        }
    }
    memcpy(buf, "null", 5); /* not reached for finite doubles */
    return 4;
}

typedef struct xlstm__jw {
    char *buf;
    size_t len, cap;
    uint32_t visits; /* values and items walked: the memo can make a small pickle a huge tree */
    int fail;
} xlstm__jw;

static void xlstm__jw_put(xlstm__jw *w, const char *s, size_t n) {
    if (w->fail || n > w->cap - w->len) {
        w->fail = 1;
        return;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

/* A pickled value as JSON: containers as arrays and objects, tensors and
   globals as null; a dict's keys must be distinct strings. */
static xlstm_status xlstm__pk_to_json(xlstm__pk *k, uint32_t o, xlstm__jw *w, int depth) {
    xlstm__pobj *v = &k->obj[o];
    char num[48];
    uint32_t it, jt, n;
    xlstm_status s;
    if (depth > 32) return xlstm__fail(k->err, XLSTM_ERR_FORMAT, "checkpoint: hyper_parameters nest deeper than 32 levels");
    w->visits += 1 + (v->type == XLSTM__PK_DICT || v->type == XLSTM__PK_LIST || v->type == XLSTM__PK_TUPLE ? v->len : 0);
    if (w->visits > (1u << 16))
        return xlstm__fail(k->err, XLSTM_ERR_FORMAT, "checkpoint: hyper_parameters hold more than 65536 values");
    switch (v->type) {
    case XLSTM__PK_BOOL: xlstm__jw_put(w, v->sub ? "true" : "false", v->sub ? 4 : 5); break;
    case XLSTM__PK_INT: xlstm__jw_put(w, num, xlstm__fmt(num, sizeof num, "%lld", XLSTM__CAST(long long, v->i))); break;
    case XLSTM__PK_FLOAT: xlstm__jw_put(w, num, xlstm__fmt_double(num, v->f)); break;
    case XLSTM__PK_STR: {
        uint32_t i;
        xlstm__jw_put(w, "\"", 1);
        for (i = 0; i < v->len; i++) {
            unsigned char c = v->s[i];
            if (c == '"' || c == '\\') {
                num[0] = '\\', num[1] = XLSTM__CAST(char, c);
                xlstm__jw_put(w, num, 2);
            } else if (c < 0x20) {
                static const char hex[] = "0123456789abcdef";
                memcpy(num, "\\u00", 4);
                num[4] = hex[c >> 4], num[5] = hex[c & 15];
                xlstm__jw_put(w, num, 6);
            } else {
                xlstm__jw_put(w, XLSTM__BYTES_AS_CHARS(v->s + i), 1);
            }
        }
        xlstm__jw_put(w, "\"", 1);
        break;
    }
    case XLSTM__PK_TUPLE:
    case XLSTM__PK_LIST:
        xlstm__jw_put(w, "[", 1);
        for (it = v->first, n = 0; it != UINT32_MAX && !w->fail; it = k->item[it].next, n++) {
            if (n) xlstm__jw_put(w, ",", 1);
            if ((s = xlstm__pk_to_json(k, k->item[it].val, w, depth + 1)) != XLSTM_OK) return s;
        }
        xlstm__jw_put(w, "]", 1);
        break;
    case XLSTM__PK_DICT:
        if (v->len > 4096) return xlstm__fail(k->err, XLSTM_ERR_FORMAT, "checkpoint: a hyper_parameters dict holds %u entries", XLSTM__CAST(unsigned, v->len));
        xlstm__jw_put(w, "{", 1);
        for (it = v->first, n = 0; it != UINT32_MAX && !w->fail; it = k->item[it].next) {
            const xlstm__pobj *key = &k->obj[k->item[it].key];
            if (key->type != XLSTM__PK_STR) continue; /* JSON has string keys only */
            for (jt = v->sub ? it : v->first; jt != it; jt = k->item[jt].next) { /* once per dict (sub marks it checked) */
                const xlstm__pobj *other = &k->obj[k->item[jt].key];
                if (other->type == XLSTM__PK_STR && other->len == key->len && memcmp(other->s, key->s, key->len) == 0) {
                    int len = key->len < 60 ? XLSTM__CAST(int, key->len) : 60;
                    return xlstm__fail(k->err, XLSTM_ERR_FORMAT, "checkpoint: hyper_parameters key %.*s appears twice", len,
                                       XLSTM__BYTES_AS_CHARS(key->s));
                }
            }
            if (n++) xlstm__jw_put(w, ",", 1);
            if ((s = xlstm__pk_to_json(k, k->item[it].key, w, depth + 1)) != XLSTM_OK) return s;
            xlstm__jw_put(w, ":", 1);
            if ((s = xlstm__pk_to_json(k, k->item[it].val, w, depth + 1)) != XLSTM_OK) return s;
        }
        xlstm__jw_put(w, "}", 1);
        v->sub = 1;
        break;
    default: xlstm__jw_put(w, "null", 4); break;
    }
    if (w->fail) return xlstm__fail(k->err, XLSTM_ERR_FORMAT, "checkpoint: hyper_parameters larger than %u bytes as JSON",
                                    XLSTM__CAST(unsigned, XLSTM__PK_MAX_JSON));
    return XLSTM_OK;
}

static xlstm_status xlstm__st_check_dups(xlstm__st *st, const xlstm__alloc *a, const char *what, xlstm_error *err);

/* A torch.save zip as a tensor table; *cfg_json (allocated, may stay NULL)
   receives hyper_parameters as JSON. */
static xlstm_status xlstm__ckpt_parse(xlstm__st *st, const xlstm__alloc *a, const unsigned char *buf, size_t size,
                                      char **cfg_json, size_t *cfg_len, xlstm_error *err) {
    xlstm__zent *ze = NULL;
    uint32_t nz = 0, i, root = 0, sd, hp, it;
    const xlstm__zent *pkl = NULL;
    xlstm__pk k;
    xlstm_status s;
    size_t top = 0;
    char key[300];
    memset(st, 0, sizeof *st);
    memset(&k, 0, sizeof k);
    *cfg_json = NULL;
    *cfg_len = 0;
    k.a = a;
    k.err = err;
    if ((s = xlstm__zip_parse(buf, size, a, &ze, &nz, err)) != XLSTM_OK) return s;
    for (i = 0; i < nz; i++) { /* <top>/data.pkl, exactly one */
        const xlstm__zent *e = &ze[i];
        if (e->name_len >= 9 && memcmp(e->name + e->name_len - 9, "/data.pkl", 9) == 0 &&
            memchr(e->name, '/', e->name_len - 9) == NULL) {
            if (pkl) {
                s = xlstm__fail(err, XLSTM_ERR_FORMAT, "checkpoint: the zip holds two data.pkl entries");
                goto out;
            }
            pkl = e;
            top = e->name_len - 8; /* "<top>/" */
        }
    }
    if (!pkl) {
        s = xlstm__fail(err, XLSTM_ERR_FORMAT, "checkpoint: no <name>/data.pkl in the zip (not a torch.save file)");
        goto out;
    }
    if (top + 6 > sizeof key - 40) {
        s = xlstm__fail(err, XLSTM_ERR_FORMAT, "checkpoint: zip folder name too long");
        goto out;
    }
    memcpy(key, pkl->name, top);
    {
        const xlstm__zent *bo;
        memcpy(key + top, "byteorder", 9);
        bo = xlstm__zip_find(ze, nz, key, top + 9);
        if (bo && !(bo->size == 6 && memcmp(bo->data, "little", 6) == 0)) {
            s = xlstm__fail(err, XLSTM_ERR_UNSUPPORTED, "checkpoint: storages are not little-endian");
            goto out;
        }
    }
    if ((s = xlstm__pk_run(&k, pkl->data, XLSTM__CAST(size_t, pkl->size), &root)) != XLSTM_OK) goto out;
    sd = xlstm__pk_dict_get(&k, root, "state_dict");
    if (sd == UINT32_MAX) sd = root; /* a plain torch.save(state_dict) */
    if (k.obj[sd].type != XLSTM__PK_DICT) {
        s = xlstm__fail(err, XLSTM_ERR_FORMAT, "checkpoint: holds no state_dict (a dict of tensors)");
        goto out;
    }
    st->t = XLSTM__CAST(xlstm__st_tensor *, xlstm__malloc(a, (k.obj[sd].len + 1) * sizeof(xlstm__st_tensor)));
    if (!st->t) {
        s = xlstm__fail(err, XLSTM_ERR_NOMEM, "checkpoint: out of memory");
        goto out;
    }
    for (it = k.obj[sd].first; it != UINT32_MAX; it = k.item[it].next) {
        const xlstm__pobj *name = &k.obj[k.item[it].key], *t = &k.obj[k.item[it].val], *stg;
        const xlstm__ptensor *tn;
        static const int st_dtype[XLSTM__EL_COUNT] = {XLSTM__DT_F32, XLSTM__DT_BF16, XLSTM__DT_F16, -1, -1, -1, -1, XLSTM__ST_I8, XLSTM__ST_U8, -1};
        xlstm__st_tensor *d = &st->t[st->n];
        const xlstm__zent *data;
        size_t esize, numel = 1;
        int64_t expect = 1;
        int dim, nl;
        if (name->type != XLSTM__PK_STR) {
            s = xlstm__fail(err, XLSTM_ERR_FORMAT, "checkpoint: a state_dict key is not a string");
            goto out;
        }
        nl = name->len < 100 ? XLSTM__CAST(int, name->len) : 100;
        if (t->type != XLSTM__PK_TENSOR) {
            s = xlstm__fail(err, XLSTM_ERR_FORMAT, "checkpoint: state_dict entry %.*s is not a tensor", nl, XLSTM__BYTES_AS_CHARS(name->s));
            goto out;
        }
        stg = &k.obj[t->first];
        esize = xlstm__pk_el_size[stg->sub];
        if (stg->len > sizeof key - top - 8) {
            s = xlstm__fail(err, XLSTM_ERR_FORMAT, "checkpoint: storage key of %.*s too long", nl, XLSTM__BYTES_AS_CHARS(name->s));
            goto out;
        }
        memcpy(key + top, "data/", 5);
        memcpy(key + top + 5, stg->s, stg->len);
        data = xlstm__zip_find(ze, nz, key, top + 5 + stg->len);
        if (!data) {
            s = xlstm__fail(err, XLSTM_ERR_MISSING, "checkpoint: tensor %.*s: its storage data/%.*s is not in the zip", nl,
                            XLSTM__BYTES_AS_CHARS(name->s), XLSTM__CAST(int, stg->len), XLSTM__BYTES_AS_CHARS(stg->s));
            goto out;
        }
        if (data->size / esize < XLSTM__CAST(uint64_t, stg->i)) {
            s = xlstm__fail(err, XLSTM_ERR_TRUNCATED, "checkpoint: tensor %.*s: storage of %llu bytes, fewer than its %lld elements",
                            nl, XLSTM__BYTES_AS_CHARS(name->s), XLSTM__CAST(unsigned long long, data->size), XLSTM__CAST(long long, stg->i));
            goto out;
        }
        tn = &k.tens[t->len];
        for (dim = 0; dim < tn->ndim; dim++) numel = tn->shape[dim] ? numel : 0;
        for (dim = tn->ndim - 1; numel && dim >= 0; dim--) { /* row-major strides only; the size fits: it is inside the storage */
            if (tn->shape[dim] != 1 && tn->stride[dim] != expect) {
                s = xlstm__fail(err, XLSTM_ERR_UNSUPPORTED, "checkpoint: tensor %.*s is not contiguous", nl, XLSTM__BYTES_AS_CHARS(name->s));
                goto out;
            }
            expect *= tn->shape[dim];
        }
        if (numel) numel = XLSTM__CAST(size_t, expect);
        memset(d, 0, sizeof *d);
        d->name = XLSTM__BYTES_AS_CHARS(name->s);
        d->name_len = name->len;
        if (d->name_len > 12 && memcmp(d->name, "block_stack.", 12) == 0) d->name += 12, d->name_len -= 12;
        d->dtype = st_dtype[stg->sub];
        d->ndim = tn->ndim;
        memcpy(d->shape, tn->shape, sizeof d->shape);
        d->data = data->data + XLSTM__CAST(size_t, t->i) * esize;
        d->nbytes = numel * esize;
        st->n++;
    }
    if ((s = xlstm__st_check_dups(st, a, "checkpoint: state_dict", err)) != XLSTM_OK) goto out;
    hp = xlstm__pk_dict_get(&k, root, "hyper_parameters");
    if (hp != UINT32_MAX) {
        xlstm__jw w;
        w.cap = XLSTM__PK_MAX_JSON;
        w.len = 0;
        w.visits = 0;
        w.fail = 0;
        w.buf = XLSTM__CAST(char *, xlstm__malloc(a, w.cap + 1));
        if (!w.buf) {
            s = xlstm__fail(err, XLSTM_ERR_NOMEM, "checkpoint: out of memory");
            goto out;
        }
        s = xlstm__pk_to_json(&k, hp, &w, 0);
        if (s) {
            xlstm__free(a, w.buf);
            goto out;
        }
        w.buf[w.len] = 0;
        *cfg_json = w.buf;
        *cfg_len = w.len;
    }
out:
    xlstm__pk_free(&k);
    xlstm__free(a, ze);
    if (s) xlstm__st_free(st, a);
    return s;
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
#define XLSTM__CONV_K 8 /* conv taps the 16-channel kernel (kern->conv16) takes */

typedef struct xlstm__block {
    int kind;
    const float *norm_w; /* (D) pre-norm offset weight: scale = 1 + w */
    const float *conv_w; /* (C, K) depthwise causal conv, C = channels, in strips (xlstm__conv_strips) */
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
    const float *rec;                   /* (NH, DH, 4 DH): [h][in][g * DH + out], as TiRex and cuda store it */
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
    /* TiRex: the input and output patch embeddings, ResidualBlocks of
       (hidden, output, residual) layers: y = W1 relu(W0 x + b0) + b1 + W2 x + b2 */
    xlstm__mat tx_in[3], tx_out[3];
    const float *tx_in_b[3], *tx_out_b[3];
    int fp32_recurrence;
    int fast_bf16, fast_i8; /* fast_prompts asked for and this CPU's kernels have the products */
    uint16_t *tx_rec16; /* bf16 recurrence: each block's recurrent kernel as bf16, (NB, NH) heads laid out
                           by xlstm__rec16_index, 64-byte aligned (the kernel's 64-byte loads must not straddle lines) */
    void (*tx_vecmat_bf16)(const float *x, const uint16_t *A, int K, int n, float *y); /* h R with it: the kernels' or vdpbf16ps */
    void *tx_rec16_mem; /* its allocation */
};

/* One expected tensor: name, shape, and where it goes. VEC tensors become f32
   copies (with a layout change for the cuda sLSTM tensors); MAT tensors stay
   in their stored type, in place when aligned. */
enum { XLSTM__LAY_PLAIN, XLSTM__LAY_REC_T, XLSTM__LAY_BIAS_CUDA };
typedef struct xlstm__spec {
    char name[96];
    char alt[32]; /* another name the tensor may have (NX vs Hugging Face) */
    int ndim;
    int64_t shape[3];
    int is_mat;
    const float **vec; /* VEC destination */
    xlstm__mat *mat;   /* MAT destination */
    int layout;
    int conv_taps; /* a conv weight with this many taps: rearranged by xlstm__conv_strips */
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

/* TiRex under the state_dict names without the "block_stack." prefix (the
   checkpoint reader drops it, as TiRex's on_load_checkpoint does). */
static void xlstm__build_specs_tirex(xlstm_model *m, xlstm__specs *s) {
    const xlstm_config *c = &m->cfg;
    int64_t D = c->embedding_dim, NH = c->slstm.num_heads, DH = c->slstm.head_dim, F = c->tirex.ffn_dim;
    int64_t P2 = 2 * c->tirex.patch_size, FF = c->tirex.input_ff_dim, QP = c->tirex.num_quantiles * c->tirex.patch_size;
    int32_t b;
    char pre[64];
    for (b = 0; b < c->num_blocks; b++) {
        xlstm__block *blk = &m->blocks[b];
        blk->kind = XLSTM_BLOCK_SLSTM;
        xlstm__fmt(pre, sizeof pre, "blocks.%d.", XLSTM__CAST(int, b));
        xlstm__want_vec(s, pre, "norm_slstm.weight", &blk->norm_w, 1, D, 0, 0);
        /* the reference's fgate computes the cell's input gate, its igate the forget gate */
        xlstm__want_mat(s, pre, "slstm_layer.fgate.weight", &blk->gate_w[0], 3, NH, DH, DH);
        xlstm__want_mat(s, pre, "slstm_layer.igate.weight", &blk->gate_w[1], 3, NH, DH, DH);
        xlstm__want_mat(s, pre, "slstm_layer.zgate.weight", &blk->gate_w[2], 3, NH, DH, DH);
        xlstm__want_mat(s, pre, "slstm_layer.ogate.weight", &blk->gate_w[3], 3, NH, DH, DH);
        /* (NH, DH_in, 4 DH_out), kept so: h R is a row times a matrix; the
           bias (NH, 4, DH) as the 2024 LM's cuda backend stores it */
        xlstm__want_vec(s, pre, "slstm_layer.slstm_cell._recurrent_kernel_", &blk->rec, 3, NH, DH, 4 * DH);
        xlstm__want_vec(s, pre, "slstm_layer.slstm_cell._bias_", &blk->gate_b, 1, 4 * D, 0, 0);
        if (!s->overflow) s->v[s->n - 1].layout = XLSTM__LAY_BIAS_CUDA;
        xlstm__want_vec(s, pre, "slstm_layer.group_norm.weight", &blk->gn_w, 1, D, 0, 0);
        xlstm__want_vec(s, pre, "norm_ffn.weight", &blk->ffn_norm_w, 1, D, 0, 0);
        xlstm__want_mat(s, pre, "ffn.proj_up_gate.weight", &blk->ffn_gate, 2, F, D, 0);
        xlstm__want_mat(s, pre, "ffn.proj_up.weight", &blk->ffn_up, 2, F, D, 0);
        xlstm__want_mat(s, pre, "ffn.proj_down.weight", &blk->ffn_down, 2, D, F, 0);
    }
    xlstm__want_vec(s, "", "out_norm.weight", &m->post_norm, 1, D, 0, 0);
    xlstm__want_mat(s, "input_patch_embedding.", "hidden_layer.weight", &m->tx_in[0], 2, FF, P2, 0);
    xlstm__want_vec(s, "input_patch_embedding.", "hidden_layer.bias", &m->tx_in_b[0], 1, FF, 0, 0);
    xlstm__want_mat(s, "input_patch_embedding.", "output_layer.weight", &m->tx_in[1], 2, D, FF, 0);
    xlstm__want_vec(s, "input_patch_embedding.", "output_layer.bias", &m->tx_in_b[1], 1, D, 0, 0);
    xlstm__want_mat(s, "input_patch_embedding.", "residual_layer.weight", &m->tx_in[2], 2, D, P2, 0);
    xlstm__want_vec(s, "input_patch_embedding.", "residual_layer.bias", &m->tx_in_b[2], 1, D, 0, 0);
    xlstm__want_mat(s, "output_patch_embedding.", "hidden_layer.weight", &m->tx_out[0], 2, FF, D, 0);
    xlstm__want_vec(s, "output_patch_embedding.", "hidden_layer.bias", &m->tx_out_b[0], 1, FF, 0, 0);
    xlstm__want_mat(s, "output_patch_embedding.", "output_layer.weight", &m->tx_out[1], 2, QP, FF, 0);
    xlstm__want_vec(s, "output_patch_embedding.", "output_layer.bias", &m->tx_out_b[1], 1, QP, 0, 0);
    xlstm__want_mat(s, "output_patch_embedding.", "residual_layer.weight", &m->tx_out[2], 2, QP, D, 0);
    xlstm__want_vec(s, "output_patch_embedding.", "residual_layer.bias", &m->tx_out_b[2], 1, QP, 0, 0);
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
    if (c->arch == XLSTM_ARCH_TIREX) {
        xlstm__build_specs_tirex(m, s);
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
                if (!s->overflow) s->v[s->n - 1].conv_taps = XLSTM__CAST(int, K);
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
                if (!s->overflow) s->v[s->n - 1].conv_taps = XLSTM__CAST(int, K);
                xlstm__want_vec(s, pre, "xlstm.conv1d.conv.bias", &blk->conv_b, 1, D, 0, 0);
            }
            /* the reference's fgate computes the cell's input gate, its igate the forget gate */
            xlstm__want_mat(s, pre, "xlstm.fgate.weight", &blk->gate_w[0], 3, NH, DH, DH);
            xlstm__want_mat(s, pre, "xlstm.igate.weight", &blk->gate_w[1], 3, NH, DH, DH);
            xlstm__want_mat(s, pre, "xlstm.zgate.weight", &blk->gate_w[2], 3, NH, DH, DH);
            xlstm__want_mat(s, pre, "xlstm.ogate.weight", &blk->gate_w[3], 3, NH, DH, DH);
            /* the recurrent kernel kept as (NH, DH_in, 4 DH_out), as cuda stores it: h R is a vecmat */
            if (c->slstm.backend_cuda) {
                xlstm__want_vec(s, pre, "xlstm.slstm_cell._recurrent_kernel_", &blk->rec, 3, NH, DH, 4 * DH);
                xlstm__want_vec(s, pre, "xlstm.slstm_cell._bias_", &blk->gate_b, 1, 4 * D, 0, 0);
                if (!s->overflow) s->v[s->n - 1].layout = XLSTM__LAY_BIAS_CUDA;
            } else {
                xlstm__want_vec(s, pre, "xlstm.slstm_cell._recurrent_kernel_", &blk->rec, 3, NH, 4 * DH, DH);
                if (!s->overflow) s->v[s->n - 1].layout = XLSTM__LAY_REC_T;
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
        if (sp->layout == XLSTM__LAY_REC_T) {
            /* (NH, 4 DH_out, DH_in) stored; we keep (NH, DH_in, 4 DH_out) */
            size_t DH = XLSTM__CAST(size_t, c->slstm.head_dim), G = 4 * DH;
            size_t h = i / (DH * G), rem = i % (DH * G), gout = rem / DH, din = rem % DH;
            o = h * G * DH + din * G + gout;
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

/* A conv weight (C, K) rearranged in place for xlstm__conv_seq: with up to
   XLSTM__CONV_K taps, each whole strip of 16 channels becomes (K, 16), tap
   k of channel c + j at c K + 16 k + j, the layout kern->conv16 reads; the
   channels past the last whole strip (and every channel with more taps)
   stay (C, K). */
static void xlstm__conv_strips(float *w, int C, int K) {
    float strip[XLSTM__CONV_K * 16];
    int c, j, k;
    if (K > XLSTM__CONV_K) return;
    for (c = 0; c + 16 <= C; c += 16) {
        float *ws = w + XLSTM__CAST(size_t, c) * XLSTM__CAST(size_t, K);
        for (j = 0; j < 16; j++)
            for (k = 0; k < K; k++) strip[16 * k + j] = ws[j * K + k];
        memcpy(ws, strip, XLSTM__CAST(size_t, 16 * K) * sizeof(float));
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
    s.cap = XLSTM__CAST(size_t, c->num_blocks) * 24 + 16;
    s.v = XLSTM__CAST(xlstm__spec *, xlstm__malloc(&m->alloc, s.cap * sizeof(xlstm__spec)));
    if (!s.v) return xlstm__fail(err, XLSTM_ERR_NOMEM, "out of memory for the tensor table");
    xlstm__build_specs(m, &s);
    if (s.overflow) {
        status = xlstm__fail(err, XLSTM_ERR_CONFIG, "config: model too large");
        goto done;
    }
    /* a file may hold at most two tensors per expected one (a quantized matrix
       and its scales): more means unexpected tensors, rejected before any
       per-tensor search */
    for (k = 0, node = st; node; node = node->next) k += node->n;
    if (k > 2 * s.n + 8) {
        status = xlstm__fail(err, XLSTM_ERR_UNEXPECTED, "checkpoint holds %u tensors; this config's model has %u",
                             XLSTM__CAST(unsigned, k), XLSTM__CAST(unsigned, s.n));
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
                const xlstm__st_tensor *t = &node->t[k];
                status = xlstm__fail(err, XLSTM_ERR_UNEXPECTED, "tensor %.*s: not part of this config's model",
                                     t->name_len < 150 ? XLSTM__CAST(int, t->name_len) : 150, t->name);
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
                if (sp->conv_taps) xlstm__conv_strips(dst, XLSTM__CAST(int, n) / sp->conv_taps, sp->conv_taps);
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
static void xlstm__fast_pick(xlstm_model *m, int want);

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

static size_t xlstm__state_floats(const xlstm_config *c, int b);

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
static int xlstm__map_file(const xlstm__alloc *a, const char *path, void **out, size_t *len);
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
    if (src[0].size >= 4 && memcmp(src[0].bytes, "PK\x03\x04", 4) == 0) {
        /* a torch.save zip: the tensors of its state_dict, and (TiRex) its
           hyper_parameters as the config unless a config.json came along */
        size_t ck_len = 0;
        s = n_src == 1 ? xlstm__ckpt_parse(&st, a, src[0].bytes, src[0].size, &meta_cfg, &ck_len, err)
                       : xlstm__fail(err, XLSTM_ERR_UNSUPPORTED, "checkpoint: sharded PyTorch checkpoints are not supported");
        if (s) goto out;
        if (!cfg_json && !meta_cfg) {
            s = xlstm__fail(err, XLSTM_ERR_CONFIG, "no config: no config.json and no hyper_parameters in the checkpoint");
            goto out;
        }
        if (!cfg_json) cfg_json = meta_cfg, cfg_len = ck_len;
    } else {
        s = xlstm__st_parse(&st, a, src[0].bytes, src[0].size, err);
        for (i = 1; !s && i < n_src; i++) s = xlstm__st_add_shard(&st, a, src[i].bytes, src[i].size, err);
        if (s) goto out;
    }
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
    xlstm__fast_pick(m, params && params->fast_prompts);
    s = xlstm__parse_config(&cj, &m->cfg, err);
    if (!s) {
        size_t nb = (XLSTM__CAST(size_t, m->cfg.num_blocks) + 1) * sizeof(xlstm__block);
        m->blocks = XLSTM__CAST(xlstm__block *, xlstm__malloc(a, nb));
        if (!m->blocks) s = xlstm__fail(err, XLSTM_ERR_NOMEM, "out of memory");
        else memset(m->blocks, 0, nb);
    }
    if (!s) s = xlstm__load_weights(m, &st, !(params && params->skip_value_check), err);
    if (!s) {
        /* a small hostile file must not make every state huge: real models keep
           far fewer recurrent floats than parameters */
        size_t floats = 0;
        int32_t b;
        for (b = 0; b < m->cfg.num_blocks; b++) floats += xlstm__state_floats(&m->cfg, b);
        if (floats / 16 > m->n_params + (XLSTM__CAST(size_t, 1) << 16))
            s = xlstm__fail(err, XLSTM_ERR_CONFIG, "config: a state would hold %lu floats for a model of %lu parameters",
                            XLSTM__CAST(unsigned long, floats), XLSTM__CAST(unsigned long, m->n_params));
    }
    if (!s && m->cfg.arch == XLSTM_ARCH_LARGE && m->cfg.large.fused) xlstm__split_fused(m);
    if (!s && m->cfg.arch == XLSTM_ARCH_XLSTM) xlstm__qkv_views(m);
    if (!s && m->cfg.arch == XLSTM_ARCH_TIREX) {
        /* the reference's CPU cell multiplies by the recurrent kernel cast to bf16 */
        const xlstm_config *c = &m->cfg;
        const int DH = c->slstm.head_dim, NH = c->slstm.num_heads, G = 4 * DH;
        const size_t per_head = xlstm__rec16_count(DH, G), n = XLSTM__CAST(size_t, NH) * per_head;
        int32_t b, h, k, j;
        m->fp32_recurrence = params && params->fp32_recurrence;
        if (!m->fp32_recurrence) {
            m->tx_rec16_mem = xlstm__malloc(a, XLSTM__CAST(size_t, c->num_blocks) * n * sizeof(uint16_t) + 64);
            if (!m->tx_rec16_mem) s = xlstm__fail(err, XLSTM_ERR_NOMEM, "out of memory");
            else {
                m->tx_rec16 = XLSTM__CAST(uint16_t *, XLSTM__CAST(void *, XLSTM__CAST(unsigned char *, m->tx_rec16_mem) +
                                                                         (64 - XLSTM__ADDR(m->tx_rec16_mem) % 64)));
                memset(m->tx_rec16, 0, XLSTM__CAST(size_t, c->num_blocks) * n * sizeof(uint16_t)); /* an odd DH's zero row */
            }
        }
        for (b = 0; b < c->num_blocks && m->tx_rec16; b++)
            for (h = 0; h < NH; h++) {
                /* head h's (DH, 4 DH) block of the stored (NH, DH, 4 DH), laid out for the kernel */
                const float *rec = m->blocks[b].rec + XLSTM__CAST(size_t, h) * XLSTM__CAST(size_t, DH) * XLSTM__CAST(size_t, G);
                uint16_t *out = m->tx_rec16 + XLSTM__CAST(size_t, b) * n + XLSTM__CAST(size_t, h) * per_head;
                for (k = 0; k < DH; k++)
                    for (j = 0; j < G; j++) {
                        uint32_t u;
                        const float r = xlstm__round_bf16(rec[XLSTM__CAST(size_t, k) * XLSTM__CAST(size_t, G) + XLSTM__CAST(size_t, j)]);
                        memcpy(&u, &r, 4);
                        out[xlstm__rec16_index(k, j, DH, G)] = XLSTM__CAST(uint16_t, u >> 16);
                    }
            }
    }
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

#if defined(XLSTM_MMAP) && !defined(_WIN32)
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
static void xlstm__unmap(void *p, size_t n) { munmap(p, n); }
/* Map a whole file read-only; 1 on success. Pages load lazily, so resident
   memory grows only with what is read. */
static int xlstm__map_file(const xlstm__alloc *a, const char *path, void **out, size_t *len) {
    struct stat sb;
    void *p;
    int fd;
    (void)a;
    /* not a regular file (a named pipe): leave it unopened for the reading path, as
       opening and closing it can end the writer's stream */
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) return 0;
    fd = open(path, O_RDONLY);
    if (fd < 0) return 0;
    /* the size must fit size_t (a 32-bit process, a 64-bit off_t) */
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size <= 0 ||
        XLSTM__CAST(unsigned long long, XLSTM__CAST(size_t, sb.st_size)) != XLSTM__CAST(unsigned long long, sb.st_size)) {
        close(fd);
        return 0;
    }
    p = mmap(NULL, XLSTM__CAST(size_t, sb.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED) return 0;
#if defined(MADV_HUGEPAGE)
    /* Linux: huge page-cache folios for what is not cached yet (a hint). A cold 4 GB
       file of the 7B shape decoded 1.4-2.4 tok/s in 4 KB folios, 10.1-10.4 with this,
       on the project's VM; the 125M the same either way. <sys/mman.h> declares it
       with _DEFAULT_SOURCE (not under a strict -std=c99 alone). */
    (void)madvise(p, XLSTM__CAST(size_t, sb.st_size), MADV_HUGEPAGE);
#endif
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
    size_t len = 0, cap = 0, first = 0;
    long size;
    *out = NULL;
    *out_len = 0;
    if (!f) return xlstm__fail(err, XLSTM_ERR_IO, "%s: cannot open", path);
    /* One buffer of the file's size where ftell can tell it; else (a pipe, a long of 32
       bits past 2 GB) grow by doubling. Doubling alone held its last two buffers at once,
       up to twice the file (a 13.7 GB bf16 7B: 22 GB), and copied it on the way. */
    if (fseek(f, 0, SEEK_END) == 0) {
        size = ftell(f);
        rewind(f);
        if (size >= 0 && XLSTM__CAST(size_t, size) < XLSTM__CAST(size_t, -1) / 2)
            first = XLSTM__CAST(size_t, size) + 1; /* + 1: the read that meets the end needs room */
    } else {
        clearerr(f);
    }
    for (;;) {
        size_t got;
        if (len == cap) {
            size_t ncap = first ? first : cap ? cap * 2 : 1 << 16;
            unsigned char *nb;
            /* past what size_t can count (32-bit): out of memory, not a cut file */
            nb = ncap < cap ? NULL : XLSTM__CAST(unsigned char *, xlstm__malloc(a, ncap + 1));
            if (!nb) {
                xlstm__free(a, buf);
                fclose(f);
                return xlstm__fail(err, XLSTM_ERR_NOMEM, "%s: out of memory reading the file", path);
            }
            if (buf) memcpy(nb, buf, len);
            xlstm__free(a, buf);
            buf = nb;
            cap = ncap;
            first = 0; /* the file grew since: double from here */
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
    if (xlstm__map_file(a, path, &src->map, &src->size)) {
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
        if (n > XLSTM_MAX_SHARDS) { /* checked inside the loop: the search above is quadratic */
            s = xlstm__fail(err, XLSTM_ERR_FORMAT, "model.safetensors.index.json: more than %d shards", XLSTM_MAX_SHARDS);
            goto done;
        }
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
            /* model.safetensors, or a torch.save state_dict (pytorch_model.bin) */
            src = XLSTM__CAST(xlstm__src *, xlstm__malloc(&a, sizeof *src));
            xlstm__fmt(p, plen, "%s/model.safetensors", path);
            s = src ? xlstm__open_source(&a, p, src, err) : xlstm__fail(err, XLSTM_ERR_NOMEM, "out of memory");
            if (s == XLSTM_ERR_IO) {
                xlstm__fmt(p, plen, "%s/pytorch_model.bin", path);
                if (xlstm__open_source(&a, p, src, NULL) == XLSTM_OK) s = XLSTM_OK;
            }
        }
    } else if (s == XLSTM_ERR_IO) {
        /* a directory holding a TiRex model.ckpt, or one file */
        src = XLSTM__CAST(xlstm__src *, xlstm__malloc(&a, sizeof *src));
        xlstm__fmt(p, plen, "%s/model.ckpt", path);
        s = src ? xlstm__open_source(&a, p, src, NULL) : xlstm__fail(err, XLSTM_ERR_NOMEM, "out of memory");
        if (s == XLSTM_ERR_IO) s = xlstm__open_source(&a, path, src, err);
        if (s == XLSTM_ERR_IO)
            s = xlstm__fail(err, XLSTM_ERR_IO, "%s: cannot open (not a model directory, a .safetensors file or a model.ckpt)", path);
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
    xlstm__free(&a, m->tx_rec16_mem);
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
   supports is picked at load time, so one binary runs everywhere. Only the
   int8 dot product (VNNI) needs intrinsics. */

/* x rounded to int8 in blocks of 32: q; each block's step d and its share
   of the q4 offset (weights are stored as q + 8), -8 d sum(q) / 8, both
   repeated 8 times: once per 32-bit lane of a block's sums. q4, d4, o4, where
   not NULL: the same x laid out for a q4 kernel that takes four blocks (64
   bytes of weights) per step (xlstm__xq_q4_layout). */
typedef struct xlstm__xq {
    signed char *q;
    float *d8, *off8;
    signed char *q4;
    float *d4, *o4;
} xlstm__xq;
/* The part of x from element x0 on (a multiple of 32), without the q4 layout. */
static xlstm__xq xlstm__xq_from(const xlstm__xq *x, size_t x0) {
    xlstm__xq r;
    r.q = x->q + x0, r.d8 = x->d8 + x0 / 4, r.off8 = x->off8 + x0 / 4;
    r.q4 = NULL, r.d4 = NULL, r.o4 = NULL;
    return r;
}
/* a stored row (n values) against x rounded to int8 */
typedef float (*xlstm__dot_i8_fn)(const unsigned char *row, const float *scale, const xlstm__xq *x, int n);

struct xlstm__kern {
    const char *name;
    /* dot product of one stored row (n values) with x */
    float (*dot[XLSTM__DT_COUNT])(const unsigned char *row, const float *scale, const float *x, int n);
    /* one stored row to f32 */
    void (*dequant[XLSTM__DT_COUNT])(float *out, const unsigned char *row, const float *scale, int n);
    /* C = beta C + A B for C (M, N) and B (P, N) row-major (ldc, ldb), with
       A(i, p) at A[i*a_rs + p*a_cs] (so A may be a transposed view); beta 0
       overwrites C without reading it */
    void (*gemm)(int M, int N, int P, const float *A, size_t a_rs, size_t a_cs, const float *B, size_t ldb, float beta,
                 float *C, size_t ldc);
    /* one head of the mLSTM step, C (dk, dv): C = f C + (i k) v^T, n = f n + i k,
       h = C^T q; returns q.n. With nv NULL, C and h only (returns 0): C and
       h are then a run of whole strips of a wider head, from C + b dk and h + b */
    float (*mlstm_head)(float *C, float *nv, const float *q, const float *k, const float *v, float f, float i,
                        int dk, int dv, float *h);
    /* one q4 row against x rounded to 8 bits (xlstm__quantize_x); NULL where
       the CPU has no 8-bit dot product instruction */
    xlstm__dot_i8_fn dot_q4_i8;
    /* the same for a q8 row (int8 x int8, one scale per block on each side) */
    xlstm__dot_i8_fn dot_q8_i8;
    /* two consecutive q4 rows (row_bytes apart, nblk scales each) into
       y[0..1], the same bits as dot_q4_i8 on each: x is loaded once for
       both, and the two rows' chains overlap (768-wide rows one at a time
       streamed at 3/4 of the read bandwidth on 2 threads); NULL with it. (q8
       rows, already near the bandwidth one at a time, gained nothing.) */
    void (*dot2_q4_i8)(const unsigned char *row, size_t row_bytes, const float *scale, size_t nblk, const xlstm__xq *x,
                       int n, float *y);
    /* four consecutive q8 rows (row_bytes apart, nblk scales each) into y[0..3]:
       x is read once for the four, and a short row's fixed cost is shared */
    void (*dot4_q8_i8)(const unsigned char *row, size_t row_bytes, const float *scale, size_t nblk, const xlstm__xq *x,
                       int n, float *y);
    /* one bf16 row against x split by xlstm__even_odd: a 64-byte load holds
       32 weights as 16 pairs, the even ones are word << 16 and the odd ones
       word & 0xFFFF0000, so no lanes are moved; NULL in the scalar set */
    float (*dot_bf16_eo)(const unsigned char *row, const float *xeo, int n);
    /* x = x sigmoid(x) in place (the vector version's exp is within 2 ulp) */
    void (*silu)(float *x, int n);
    /* a 16 x 16 block: out[c*ldo + r] = in[r*ldi + c] */
    void (*transpose16)(float *out, size_t ldo, const float *in, size_t ldi);
    /* one f32 row against nx vectors (rows of X, ldx apart): out[v] = w . X_v;
       the row is read once for all of them (small batches) */
    void (*dots)(const float *w, const float *X, size_t ldx, int nx, int n, float *out);
    /* block-diagonal product with 4 x 4 blocks (the 2024 LM's q/k/v): y[r] =
       ((w[4r] x[b] + w[4r+1] x[b+1]) + w[4r+2] x[b+2]) + w[4r+3] x[b+3] (+ bias[r]), b = r - r % 4 */
    void (*headwise4)(const float *W, const float *x, const float *bias, float *y, int rows);
    /* y = x A for A (K, n) row-major: the sLSTM recurrence h R */
    void (*vecmat)(const float *x, const float *A, int K, int n, float *y);
    /* the same with A in bfloat16 (the bf16 recurrent kernel: half the bytes) */
    void (*vecmat_bf16)(const float *x, const uint16_t *A, int K, int n, float *y);
    /* the sLSTM pointwise step (xlstm__slstm_point_scalar says what) */
    void (*slstm_point)(const float *wx, size_t ldw, const float *ry, size_t ldr, const float *b, size_t ldb, float *h, float *c,
                        float *nn, float *m, int first, int bf16, float f_cap, int n);
    /* xlstm__rmsnorm and xlstm__groupnorm (statistics in double, as theirs) */
    void (*rmsnorm)(float *y, const float *x, const float *w, const float *b, int n, float eps);
    void (*groupnorm)(float *y, const float *x, const float *w, int heads, int dh);
    /* x = x > 0 ? x : 0 in place, without branches (NaN becomes 0) */
    void (*relu)(float *x, int n);
    /* y = a x, y += x and x = x / d, element by element (y may be x): the
       chunkwise mLSTM's row work, exactly the plain loops' */
    void (*scale)(float *y, const float *x, float a, int n);
    void (*add)(float *y, const float *x, int n);
    void (*div)(float *x, float d, int n);
    /* 16 channels of a causal conv over n tokens (xlstm__conv_seq's strips) */
    void (*conv16)(float *Y, size_t ldy, const float *hist, size_t ldh, const float *X, size_t ldx, int n, const float *wt,
                   const float *b, int K);
};

/* x for dot_bf16_eo: each 32 elements as the 16 even then the 16 odd ones;
   a tail shorter than 32 stays in order. */
static void xlstm__even_odd(float *xeo, const float *x, int n) {
    int b, i;
    for (b = 0; b + 32 <= n; b += 32)
        for (i = 0; i < 16; i++) {
            xeo[b + i] = x[b + 2 * i];
            xeo[b + 16 + i] = x[b + 2 * i + 1];
        }
    for (; b < n; b++) xeo[b] = x[b];
}

static void xlstm__quantize_x(const float *x, int n, const xlstm__xq *o) {
    int b, i;
    for (b = 0; b < n / XLSTM__QBLOCK; b++) {
        const float *xb = x + XLSTM__CAST(size_t, b) * XLSTM__QBLOCK;
        signed char *q = o->q + XLSTM__CAST(size_t, b) * XLSTM__QBLOCK;
        uint32_t umax = 0;
        float amax, d, id;
        int sum = 0;
        /* the largest |x| from the bits (for |x| their order is the value's;
           inf and NaN lie above 0x7F800000): an integer max that vectorises */
        for (i = 0; i < XLSTM__QBLOCK; i++) {
            uint32_t u;
            memcpy(&u, xb + i, 4);
            u &= 0x7FFFFFFFu;
            umax = u > umax ? u : umax;
        }
        memcpy(&amax, &umax, 4);
        if (umax >= 0x7F800000u) { /* inf or NaN: the dot becomes NaN, as the float kernels' would */
            d = amax - amax;
            for (i = 0; i < XLSTM__QBLOCK; i++) q[i] = 0;
        } else {
            d = amax / 127.0f;
            /* |f| <= 127 (+ an ulp or two) keeps the conversion below defined;
               127 / amax overflows below amax ~ 4e-37, where x / amax * 127 is
               used instead; to nearest, halves away from 0 */
            id = amax >= 1e-30f ? 127.0f / amax : 0.0f;
            if (amax == 0.0f)
                for (i = 0; i < XLSTM__QBLOCK; i++) q[i] = 0;
            else if (id > 0.0f)
                for (i = 0; i < XLSTM__QBLOCK; i++) {
                    const float f = xb[i] * id;
                    const int v = XLSTM__CAST(int, f + (f >= 0.0f ? 0.5f : -0.5f));
                    q[i] = XLSTM__CAST(signed char, v);
                    sum += v;
                }
            else
                for (i = 0; i < XLSTM__QBLOCK; i++) {
                    const float f = xb[i] / amax * 127.0f;
                    const int v = XLSTM__CAST(int, f + (f >= 0.0f ? 0.5f : -0.5f));
                    q[i] = XLSTM__CAST(signed char, v);
                    sum += v;
                }
        }
        for (i = 0; i < 8; i++) {
            o->d8[b * 8 + i] = d;
            o->off8[b * 8 + i] = -d * XLSTM__CAST(float, sum);
        }
    }
}
/* The q4 layout of x's first n / 128 groups of four blocks: per group, the
   blocks' first 16 values (the weights' low nibbles), then their last 16
   (the high nibbles), so one 64-byte load of weights and two of x feed two
   vpdpbusd; each block's step and twice its offset share (a block has 4
   32-bit lanes here, not 8) once per lane. */
static void xlstm__xq_q4_layout(const xlstm__xq *o, int n) {
    int g, L, i;
    for (g = 0; g < n / 128; g++)
        for (L = 0; L < 4; L++) {
            const int b = 4 * g + L;
            memcpy(o->q4 + 128 * g + 16 * L, o->q + 32 * b, 16);
            memcpy(o->q4 + 128 * g + 64 + 16 * L, o->q + 32 * b + 16, 16);
            for (i = 0; i < 4; i++) {
                o->d4[16 * g + 4 * L + i] = o->d8[8 * b];
                o->o4[16 * g + 4 * L + i] = 2.0f * o->off8[8 * b];
            }
        }
}
#if defined(XLSTM__HAVE_VNNI)
/* The oracle of every dot_q4_i8: integer block sums, then the scales. */
static float xlstm__dot_q4_i8_scalar(const unsigned char *row, const float *scale, const xlstm__xq *x, int n) {
    double acc = 0.0;
    int b, i;
    for (b = 0; b < n / XLSTM__QBLOCK; b++) {
        const unsigned char *q = row + b * (XLSTM__QBLOCK / 2);
        const signed char *xb = x->q + b * XLSTM__QBLOCK;
        int sum = 0;
        for (i = 0; i < XLSTM__QBLOCK / 2; i++) sum += (q[i] & 15) * xb[i] + (q[i] >> 4) * xb[i + 16];
        acc += XLSTM__CAST(double, scale[b]) * (XLSTM__CAST(double, x->d8[8 * b]) * sum + 8.0 * x->off8[8 * b]);
    }
    return XLSTM__CAST(float, acc);
}
/* The oracle of every dot_q8_i8: sum_b w_scale_b x_scale_b (integer block sum). */
static float xlstm__dot_q8_i8_scalar(const unsigned char *row, const float *scale, const xlstm__xq *x, int n) {
    const signed char *q = XLSTM__CAST(const signed char *, XLSTM__CAST(const void *, row));
    double acc = 0.0;
    int b, i;
    for (b = 0; b < n / XLSTM__QBLOCK; b++) {
        int sum = 0;
        for (i = 0; i < XLSTM__QBLOCK; i++) sum += q[b * XLSTM__QBLOCK + i] * x->q[b * XLSTM__QBLOCK + i];
        acc += XLSTM__CAST(double, scale[b]) * XLSTM__CAST(double, x->d8[8 * b]) * sum;
    }
    return XLSTM__CAST(float, acc);
}
/* a * b + c with one rounding, for the oracles below: the product is exact in
   double, so only the sum rounds (twice, double then float, which differs
   from once only at a tie of odds about 2^-29). Not fmaf: MinGW's is not
   fused. */
static __attribute__((unused)) float xlstm__fma_ref(float a, float b, float c) {
    return XLSTM__CAST(float, XLSTM__CAST(double, a) * XLSTM__CAST(double, b) + XLSTM__CAST(double, c));
}
/* The oracle of the fast int8 products (xlstm__fast_i8_tile): an int8 row
   w (n, one scale per block of 32) against x rounded by xlstm__quantize_x:
   per block S = sum q w in integers, then acc = fma(S d, w_scale, acc), in
   block order, as the kernel rounds. */
static __attribute__((unused)) float xlstm__fast_dot_i8_scalar(const signed char *w, const float *scale, const xlstm__xq *x, int n) {
    float acc = 0.0f;
    int b, i;
    for (b = 0; b < n / XLSTM__QBLOCK; b++) {
        int32_t sum = 0;
        for (i = 0; i < XLSTM__QBLOCK; i++) sum += w[b * XLSTM__QBLOCK + i] * x->q[b * XLSTM__QBLOCK + i];
        acc = xlstm__fma_ref(XLSTM__CAST(float, sum) * x->d8[8 * b], scale[b], acc);
    }
    return acc;
}
/* The oracle of the fast bf16 products (xlstm__fast_bf16_tile): a bf16 row
   w (n even) against x rounded by xlstm__round_bf16, summed as vdpbf16ps
   sums: pair by pair, the odd product then the even one, each added in f32
   (the product exact, one rounding); bf16 inputs and sums below FLT_MIN
   count as zero, as the instruction flushes them. */
static __attribute__((unused)) float xlstm__fast_dot_bf16_scalar(const unsigned char *w, const float *x, int n) {
    const float tiny = 1.17549435e-38f; /* FLT_MIN */
    float acc = 0.0f;
    int p, h;
    for (p = 0; p < n / 2; p++)
        for (h = 1; h >= 0; h--) {
            const int i = 2 * p + h;
            float a = xlstm__bf16_to_f32(XLSTM__CAST(uint16_t, w[2 * i] | w[2 * i + 1] << 8)), b = xlstm__round_bf16(x[i]);
            if (fabsf(a) < tiny) a = 0.0f;
            if (fabsf(b) < tiny) b = 0.0f;
            acc = xlstm__fma_ref(a, b, acc); /* = acc + a b, also where a b alone would be denormal */
            if (fabsf(acc) < tiny) acc = 0.0f;
        }
    return acc;
}
/* The oracle of xlstm__chunk_bf16_gemm: C (M x n) = beta C + A B with A and
   B as bf16 pairs (A(i, p) at A[i a_rs + p a_cs], B(p, j) at B[p n + j], row
   2p in the low half), each sum as xlstm__fast_dot_bf16_scalar's, then
   beta C added with one rounding. */
static __attribute__((unused)) void xlstm__chunk_bf16_gemm_scalar(int M, int n, int np, const uint32_t *A, size_t a_rs, size_t a_cs,
                                                                  const uint32_t *B, float beta, float *Cm, size_t ldc) {
    const float tiny = 1.17549435e-38f;
    int i, j, p, h;
    for (i = 0; i < M; i++)
        for (j = 0; j < n; j++) {
            float acc = 0.0f, *c = Cm + XLSTM__CAST(size_t, i) * ldc + j;
            for (p = 0; p < np; p++)
                for (h = 1; h >= 0; h--) {
                    float a = xlstm__bf16_to_f32(XLSTM__CAST(uint16_t, A[XLSTM__CAST(size_t, i) * a_rs + XLSTM__CAST(size_t, p) * a_cs] >> (16 * h)));
                    float b = xlstm__bf16_to_f32(XLSTM__CAST(uint16_t, B[XLSTM__CAST(size_t, p) * n + j] >> (16 * h)));
                    if (fabsf(a) < tiny) a = 0.0f;
                    if (fabsf(b) < tiny) b = 0.0f;
                    acc = xlstm__fma_ref(a, b, acc);
                    if (fabsf(acc) < tiny) acc = 0.0f;
                }
            *c = beta == 0.0f ? acc : xlstm__fma_ref(beta, *c, acc);
        }
}
#endif

/* -- scalar ------------------------------------------------------------------ */
/* Sums run in double: the oracle should be the most accurate path, and on a
   scalar machine double costs little more than float. */

static float xlstm__dot_f32_scalar(const unsigned char *row, const float *scale, const float *x, int n) {
    const float *w = XLSTM__CAST(const float *, XLSTM__CAST(const void *, row));
    double acc = 0.0;
    int i;
    (void)scale;
    for (i = 0; i < n; i++) acc += w[i] * x[i];
    return XLSTM__CAST(float, acc);
}
static float xlstm__dot_bf16_scalar(const unsigned char *row, const float *scale, const float *x, int n) {
    double acc = 0.0;
    int i;
    (void)scale;
    for (i = 0; i < n; i++) acc += xlstm__bf16_to_f32(XLSTM__CAST(uint16_t, row[2 * i] | (row[2 * i + 1] << 8))) * x[i];
    return XLSTM__CAST(float, acc);
}
static float xlstm__dot_f16_scalar(const unsigned char *row, const float *scale, const float *x, int n) {
    double acc = 0.0;
    int i;
    (void)scale;
    for (i = 0; i < n; i++) acc += xlstm__f16_to_f32(XLSTM__CAST(uint16_t, row[2 * i] | (row[2 * i + 1] << 8))) * x[i];
    return XLSTM__CAST(float, acc);
}
static float xlstm__dot_q8_scalar(const unsigned char *row, const float *scale, const float *x, int n) {
    const signed char *q = XLSTM__CAST(const signed char *, XLSTM__CAST(const void *, row));
    double acc = 0.0;
    int b, i;
    for (b = 0; b < n / XLSTM__QBLOCK; b++) {
        double s = 0.0;
        for (i = 0; i < XLSTM__QBLOCK; i++) s += XLSTM__CAST(float, q[b * XLSTM__QBLOCK + i]) * x[b * XLSTM__QBLOCK + i];
        acc += scale[b] * s;
    }
    return XLSTM__CAST(float, acc);
}
static float xlstm__dot_q4_scalar(const unsigned char *row, const float *scale, const float *x, int n) {
    double acc = 0.0;
    int b, i;
    for (b = 0; b < n / XLSTM__QBLOCK; b++) {
        const unsigned char *q = row + b * (XLSTM__QBLOCK / 2);
        const float *xb = x + b * XLSTM__QBLOCK;
        double s = 0.0;
        for (i = 0; i < XLSTM__QBLOCK / 2; i++)
            s += XLSTM__CAST(float, (q[i] & 15) - 8) * xb[i] + XLSTM__CAST(float, (q[i] >> 4) - 8) * xb[i + 16];
        acc += scale[b] * s;
    }
    return XLSTM__CAST(float, acc);
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

static void xlstm__gemm_scalar(int M, int N, int P, const float *A, size_t a_rs, size_t a_cs, const float *B, size_t ldb,
                               float beta, float *Cm, size_t ldc) {
    int i, j, p;
    for (i = 0; i < M; i++)
        for (j = 0; j < N; j++) {
            float *c = Cm + XLSTM__CAST(size_t, i) * ldc + j;
            double acc = beta == 0.0f ? 0.0 : XLSTM__CAST(double, beta) * *c;
            for (p = 0; p < P; p++)
                acc += XLSTM__CAST(double, A[XLSTM__CAST(size_t, i) * a_rs + XLSTM__CAST(size_t, p) * a_cs]) * B[XLSTM__CAST(size_t, p) * ldb + j];
            *c = XLSTM__CAST(float, acc);
        }
}

/* A head's C (dk x dv) is kept by strips of XLSTM__STRIP columns: the strip
   from column b (w = min(XLSTM__STRIP, dv - b) wide) holds rows of w floats
   at C + b dk. The chunkwise products read and write a strip in place, and a
   step runs through the whole state in address order. */
#define XLSTM__STRIP 32
static size_t xlstm__strip_at(int dk, int dv, int a, int col) {
    const int b = col / XLSTM__STRIP * XLSTM__STRIP, w = dv - b < XLSTM__STRIP ? dv - b : XLSTM__STRIP;
    return XLSTM__CAST(size_t, b) * dk + XLSTM__CAST(size_t, a) * w + XLSTM__CAST(size_t, col - b);
}

static float xlstm__mlstm_head_scalar(float *C, float *nv, const float *q, const float *k, const float *v, float f,
                                      float i, int dk, int dv, float *h) {
    double qn = 0.0;
    int a, b;
    for (b = 0; b < dv; b++) {
        float hb = 0.0f;
        for (a = 0; a < dk; a++) {
            float *c = C + xlstm__strip_at(dk, dv, a, b);
            *c = f * *c + (i * k[a]) * v[b];
            hb += q[a] * *c;
        }
        h[b] = hb;
    }
    if (!nv) return 0.0f;
    for (a = 0; a < dk; a++) {
        nv[a] = f * nv[a] + i * k[a];
        qn += XLSTM__CAST(double, q[a]) * nv[a];
    }
    return XLSTM__CAST(float, qn);
}

static void xlstm__silu_scalar(float *x, int n) {
    int i;
    for (i = 0; i < n; i++) x[i] = x[i] / (1.0f + expf(-x[i]));
}

static void xlstm__dots_scalar(const float *w, const float *X, size_t ldx, int nx, int n, float *out) {
    int v;
    for (v = 0; v < nx; v++)
        out[v] = xlstm__dot_f32_scalar(XLSTM__CAST(const unsigned char *, XLSTM__CAST(const void *, w)), NULL, X + XLSTM__CAST(size_t, v) * ldx, n);
}

static void xlstm__transpose16_scalar(float *out, size_t ldo, const float *in, size_t ldi) {
    size_t r, c;
    for (r = 0; r < 16; r++)
        for (c = 0; c < 16; c++) out[c * ldo + r] = in[r * ldi + c];
}

static float xlstm__sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }
static float xlstm__silu(float x) { return x / (1.0f + expf(-x)); }
/* log(sigmoid(x)) without overflow for large |x| */
static float xlstm__logsigmoid(float x) { return (x < 0 ? x : 0.0f) - log1pf(expf(-fabsf(x))); }

/* NaN-propagating max and min (torch.max / torch.minimum), unlike fmaxf. */
static float xlstm__nan_max(float a, float b) { return a != a ? a : b != b ? b : a > b ? a : b; }
static float xlstm__nan_min(float a, float b) { return a != a ? a : b != b ? b : a < b ? a : b; }

/* The same in bfloat16, as the reference's CPU cell multiplies: x rounded
   to bf16 (the carried h already is), A laid out as xlstm__rec16_index says;
   exact products summed in f32, in order of k. Columns [c0, c1) (the vector
   kernels take a block's last columns from here). */
static void xlstm__vecmat_bf16_cols(const float *x, const uint16_t *A, int K, int n, int c0, int c1, float *y) {
    int c, k;
    for (c = c0; c < c1; c++) {
        float acc = 0.0f;
        for (k = 0; k < K; k++) acc += xlstm__round_bf16(x[k]) * xlstm__bf16_to_f32(A[xlstm__rec16_index(k, c, K, n)]);
        y[c] = acc;
    }
}
static void xlstm__vecmat_bf16_scalar(const float *x, const uint16_t *A, int K, int n, float *y) {
    xlstm__vecmat_bf16_cols(x, A, K, n, 0, n, y);
}

/* The sLSTM step for n elements of one head: raw gates g = (Wx + Ry) + b
   for (i, f, z, o) at wx + k*ldw, ry + k*ldr, b + k*ldw; the states h, c, n,
   m updated in place (paper eqs. 8-17, the reference's pointwise code):
   logfm = m + logsigmoid(min(f, f_cap)), m' = first ? i : max(i, logfm),
   i' = min(exp(i - m'), 1), f' = min(exp(logfm - m'), 1), c' = f'c + i' tanh z,
   n' = f'n + i', h' = sigmoid(o) c' / n'. TiRex caps f at 15, the 2024 LM
   not at all (f_cap = infinity). bf16: Wx and Ry are rounded to
   bfloat16 before the sum and the new states after it, as the reference's
   CPU cell computes and carries them. max and min pass NaN on as torch's do. */
static float xlstm__slstm_pre(float wx, float ry, int bf16) {
    return bf16 ? xlstm__round_bf16(wx) + xlstm__round_bf16(ry) : wx + ry;
}
static void xlstm__slstm_point_scalar(const float *wx, size_t ldw, const float *ry, size_t ldr, const float *b, size_t ldb, float *h,
                                      float *c, float *nn, float *m, int first, int bf16, float f_cap, int n) {
    int j;
    for (j = 0; j < n; j++) {
        const float ir = xlstm__slstm_pre(wx[j], ry[j], bf16) + b[j];
        const float fr = xlstm__slstm_pre(wx[ldw + j], ry[ldr + j], bf16) + b[ldb + j];
        const float zr = xlstm__slstm_pre(wx[2 * ldw + j], ry[2 * ldr + j], bf16) + b[2 * ldb + j];
        const float orw = xlstm__slstm_pre(wx[3 * ldw + j], ry[3 * ldr + j], bf16) + b[3 * ldb + j];
        const float logfm = m[j] + xlstm__logsigmoid(xlstm__nan_min(fr, f_cap));
        const float mn = first ? ir : xlstm__nan_max(ir, logfm);
        const float ig = xlstm__nan_min(expf(ir - mn), 1.0f), fg = xlstm__nan_min(expf(logfm - mn), 1.0f);
        float cn = fg * c[j] + ig * tanhf(zr), n2 = fg * nn[j] + ig, hn = xlstm__sigmoid(orw) * cn / n2, m2 = mn;
        if (bf16) cn = xlstm__round_bf16(cn), n2 = xlstm__round_bf16(n2), hn = xlstm__round_bf16(hn), m2 = xlstm__round_bf16(m2);
        c[j] = cn, nn[j] = n2, m[j] = m2, h[j] = hn;
    }
}

/* y[o] = sum_k x[k] A[k*n + o] (o < n, k < K, in order of k): a row vector
   times a matrix, the sLSTM recurrence's h R. */
static void xlstm__vecmat_scalar(const float *x, const float *A, int K, int n, float *y) {
    int k, o;
    for (o = 0; o < n; o++) y[o] = 0.0f;
    for (k = 0; k < K; k++)
        for (o = 0; o < n; o++) y[o] += x[k] * A[(size_t)k * n + o];
}

static void xlstm__rmsnorm(float *y, const float *x, const float *w, const float *b, int n, float eps);
static void xlstm__groupnorm(float *y, const float *x, const float *w, int heads, int dh);
static void xlstm__relu_scalar(float *x, int n) {
    int i;
    for (i = 0; i < n; i++) x[i] = x[i] > 0 ? x[i] : 0.0f;
}
static void xlstm__scale_scalar(float *y, const float *x, float a, int n) {
    int i;
    for (i = 0; i < n; i++) y[i] = a * x[i];
}
static void xlstm__add_scalar(float *y, const float *x, int n) {
    int i;
    for (i = 0; i < n; i++) y[i] += x[i];
}
static void xlstm__div_scalar(float *x, float d, int n) {
    int i;
    for (i = 0; i < n; i++) x[i] /= d;
}
/* Y row t (16 channels) = b + wt[K-1] x_t + wt[0] s_t + ... + wt[K-2] s_t+K-2,
   in that order, where s_j is hist row j (ldh apart) for j < K - 1, else X
   row j - (K - 1); wt[16 k + j] is channel j's tap k, K <= XLSTM__CONV_K */
static void xlstm__conv16_scalar(float *Y, size_t ldy, const float *hist, size_t ldh, const float *X, size_t ldx, int n,
                                 const float *wt, const float *b, int K) {
    int t, k, j;
    for (t = 0; t < n; t++) {
        const float *x = X + XLSTM__CAST(size_t, t) * ldx;
        float acc[16];
        for (j = 0; j < 16; j++) acc[j] = b[j] + wt[16 * (K - 1) + j] * x[j];
        for (k = 0; k < K - 1; k++) {
            const float *sk = t + k < K - 1 ? hist + XLSTM__CAST(size_t, t + k) * ldh : X + XLSTM__CAST(size_t, t + k - (K - 1)) * ldx;
            for (j = 0; j < 16; j++) acc[j] += wt[16 * k + j] * sk[j];
        }
        memcpy(Y + XLSTM__CAST(size_t, t) * ldy, acc, sizeof acc);
    }
}

static void xlstm__headwise4_scalar(const float *W, const float *x, const float *bias, float *y, int rows) {
    int r;
    for (r = 0; r < rows; r++) {
        const float *w = W + XLSTM__CAST(size_t, r) * 4, *xb = x + r / 4 * 4;
        y[r] = w[0] * xb[0] + w[1] * xb[1] + w[2] * xb[2] + w[3] * xb[3] + (bias ? bias[r] : 0.0f);
    }
}

static const xlstm__kern xlstm__kern_scalar = {
    "scalar",
    {xlstm__dot_f32_scalar, xlstm__dot_bf16_scalar, xlstm__dot_f16_scalar, xlstm__dot_q8_scalar, xlstm__dot_q4_scalar},
    {xlstm__deq_f32_scalar, xlstm__deq_bf16_scalar, xlstm__deq_f16_scalar, xlstm__deq_q8_scalar, xlstm__deq_q4_scalar},
    xlstm__gemm_scalar,
    xlstm__mlstm_head_scalar,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
    xlstm__silu_scalar,
    xlstm__transpose16_scalar,
    xlstm__dots_scalar,
    xlstm__headwise4_scalar,
    xlstm__vecmat_scalar,
    xlstm__vecmat_bf16_scalar,
    xlstm__slstm_point_scalar,
    xlstm__rmsnorm,
    xlstm__groupnorm,
    xlstm__relu_scalar,
    xlstm__scale_scalar,
    xlstm__add_scalar,
    xlstm__div_scalar,
    xlstm__conv16_scalar,
};

/* -- vectors ------------------------------------------------------------------ */
#if defined(XLSTM__GNU) && !defined(XLSTM_NO_SIMD)
#define XLSTM__HAVE_VEC 1
#if defined(__GNUC__) && !defined(__clang__)
/* let a*b+c become one fused multiply-add where the target has FMA (GCC keeps
   them apart in ISO C modes; Clang fuses within an expression already) */
#pragma GCC push_options
#pragma GCC optimize("fp-contract=fast")
#endif

typedef float xlstm__v16f __attribute__((vector_size(64)));
typedef uint32_t xlstm__v16u __attribute__((vector_size(64)));
typedef uint16_t xlstm__v16h __attribute__((vector_size(32)));
typedef int32_t xlstm__v16i __attribute__((vector_size(64)));
#define XLSTM__VI static inline __attribute__((always_inline))

/* Helpers pass vectors by pointer: no vector ever crosses a call boundary, so
   no ABI question arises when a body is compiled for several targets. */
XLSTM__VI void xlstm__vld(xlstm__v16f *v, const float *p) { memcpy(v, p, sizeof *v); }
XLSTM__VI void xlstm__vst(float *p, const xlstm__v16f *v) { memcpy(p, v, sizeof *v); }
XLSTM__VI void xlstm__vzero(xlstm__v16f *v) { memset(v, 0, sizeof *v); }
/* horizontal sum as a tree of half-width vector adds (a scalar loop over the
   16 lanes costs more than a short dot product) */
typedef float xlstm__v8f __attribute__((vector_size(32)));
typedef float xlstm__v4f __attribute__((vector_size(16)));
XLSTM__VI float xlstm__vsum(const xlstm__v16f *v) {
    xlstm__v8f a, b;
    xlstm__v4f c, d;
    memcpy(&a, v, sizeof a);
    memcpy(&b, XLSTM__CAST(const char *, XLSTM__CAST(const void *, v)) + sizeof a, sizeof b);
    a += b;
    memcpy(&c, &a, sizeof c);
    memcpy(&d, XLSTM__CAST(const char *, XLSTM__CAST(const void *, &a)) + sizeof c, sizeof d);
    c += d;
    return (c[0] + c[2]) + (c[1] + c[3]);
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
/* 16 f16 values, in integer arithmetic (a float rescale would hit the slow
   denormal path): normal numbers rebias the exponent; subnormals are
   mantissa * 2^-24. NaN/Inf never reach here: rejected at load. */
XLSTM__VI void xlstm__vld_f16(xlstm__v16f *v, const unsigned char *p) {
    xlstm__v16h h;
    xlstm__v16u u, em, normal, sub, is_sub;
    xlstm__v16f subf;
    memcpy(&h, p, sizeof h);
    u = __builtin_convertvector(h, xlstm__v16u);
    em = u & 0x7FFFu;
    normal = (em << 13) + 0x38000000u; /* exponent + (127 - 15) */
    subf = __builtin_convertvector(__builtin_convertvector(em & 0x3FFu, xlstm__v16i), xlstm__v16f) * 5.9604644775390625e-8f;
    memcpy(&sub, &subf, sizeof sub);
    is_sub = XLSTM__CAST(xlstm__v16u, em < 0x400u); /* all ones where the exponent is 0 */
    u = ((normal & ~is_sub) | (sub & is_sub)) | ((u & 0x8000u) << 16);
    memcpy(v, &u, sizeof *v);
}
/* Bytes to 32-bit lanes without a widening conversion (GCC lowers a 16 ->
   64-byte convertvector in 128-bit pieces): load 64 bytes as 16 words, copy
   word w of quarter Q into 4 lanes with one permute (Q a literal), then
   shift each lane's byte to the bottom (unsigned: >> 0, 8, 16, 24) or to
   the top (signed: << 24, 16, 8, 0, then an arithmetic >> 24). */
#if defined(__clang__)
#define XLSTM__QUARTER(dst, v, Q)                                                                                           \
    ((dst) = __builtin_shufflevector(v, v, 4 * Q, 4 * Q, 4 * Q, 4 * Q, 4 * Q + 1, 4 * Q + 1, 4 * Q + 1, 4 * Q + 1, 4 * Q + 2, \
                                     4 * Q + 2, 4 * Q + 2, 4 * Q + 2, 4 * Q + 3, 4 * Q + 3, 4 * Q + 3, 4 * Q + 3))
#else
XLSTM__VI void xlstm__quarter(xlstm__v16u *dst, const xlstm__v16u *v, unsigned q) {
    const xlstm__v16u words = {0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3};
    *dst = __builtin_shuffle(*v, words + 4 * q);
}
#define XLSTM__QUARTER(dst, v, Q) xlstm__quarter(&(dst), &(v), Q)
#endif
/* The same for 16-bit values: half H of 64 bytes, word w into 2 lanes. */
#if defined(__clang__)
#define XLSTM__HALF(dst, v, H)                                                                                          \
    ((dst) = __builtin_shufflevector(v, v, 8 * H, 8 * H, 8 * H + 1, 8 * H + 1, 8 * H + 2, 8 * H + 2, 8 * H + 3, 8 * H + 3, \
                                     8 * H + 4, 8 * H + 4, 8 * H + 5, 8 * H + 5, 8 * H + 6, 8 * H + 6, 8 * H + 7, 8 * H + 7))
#else
XLSTM__VI void xlstm__half(xlstm__v16u *dst, const xlstm__v16u *v, unsigned h) {
    const xlstm__v16u words = {0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7};
    *dst = __builtin_shuffle(*v, words + 8 * h);
}
#define XLSTM__HALF(dst, v, H) xlstm__half(&(dst), &(v), H)
#endif
/* 16 bf16 values (a half) as floats: each is the top 16 bits of its float */
XLSTM__VI void xlstm__bf16_to_f(xlstm__v16f *v, const xlstm__v16u *half) {
    const xlstm__v16u up = {16, 0, 16, 0, 16, 0, 16, 0, 16, 0, 16, 0, 16, 0, 16, 0};
    const xlstm__v16u u = (*half << up) & 0xFFFF0000u;
    memcpy(v, &u, sizeof *v);
}
/* 16 q8 weights (a quarter) as floats */
XLSTM__VI void xlstm__s8_to_f(xlstm__v16f *v, const xlstm__v16u *quarter) {
    const xlstm__v16u up = {24, 16, 8, 0, 24, 16, 8, 0, 24, 16, 8, 0, 24, 16, 8, 0};
    const xlstm__v16u top = *quarter << up;
    xlstm__v16i w;
    memcpy(&w, &top, sizeof w);
    w >>= 24;
    *v = __builtin_convertvector(w, xlstm__v16f);
}
/* one q4 block (a quarter: 16 bytes, weights i and i + 16 in byte i): the
   nibbles q become floats q - 8 exactly, as the bits of 2^23 + q minus 2^23 + 8 */
XLSTM__VI void xlstm__q4_to_f(const xlstm__v16u *quarter, xlstm__v16f *lo, xlstm__v16f *hi) {
    const xlstm__v16u down = {0, 8, 16, 24, 0, 8, 16, 24, 0, 8, 16, 24, 0, 8, 16, 24};
    const xlstm__v16u w = *quarter >> down;
    xlstm__v16u l = (w & 15u) | 0x4B000000u, h = ((w >> 4) & 15u) | 0x4B000000u;
    memcpy(lo, &l, sizeof l);
    memcpy(hi, &h, sizeof h);
    *lo -= 8388616.0f;
    *hi -= 8388616.0f;
}

/* how far ahead of the weight stream to prefetch: the rows of a matrix are
   contiguous, so this runs into the next rows; the hardware prefetcher alone
   leaves bandwidth unused. 4 KB: one core of the Zen 5 VM keeps enough
   misses in flight only that far ahead (2 KB was tuned at half its bandwidth) */
#ifndef XLSTM__PREFETCH
#define XLSTM__PREFETCH 4096
#endif
#ifndef XLSTM__PREFETCH_SCALES
#define XLSTM__PREFETCH_SCALES (XLSTM__PREFETCH / 2) /* floats ahead in a row's block scales (a q4 row's scales are 1/4 of its bytes) */
#endif
/* four independent accumulators hide the multiply-add latency; XLSTM__DOT_REST
   runs the loops from element i on (xlstm__dot_f32_lines enters there after
   its own loop, and so sums as these kernels do) */
#define XLSTM__DOT_VARS                                                                    \
    xlstm__v16f a0, a1, a2, a3, w0, w1, w2, w3, x0, x1, x2, x3;                            \
    float s;                                                                               \
    int i = 0;                                                                             \
    xlstm__vzero(&a0);                                                                     \
    xlstm__vzero(&a1);                                                                     \
    xlstm__vzero(&a2);                                                                     \
    xlstm__vzero(&a3);
#define XLSTM__DOT_LOOP(LOAD, ESIZE) XLSTM__DOT_VARS XLSTM__DOT_REST(LOAD, ESIZE)
#define XLSTM__DOT_REST(LOAD, ESIZE)                                                       \
    for (; i + 64 <= n; i += 64) {                                                         \
        __builtin_prefetch(row + (size_t)i * ESIZE + XLSTM__PREFETCH);                     \
        __builtin_prefetch(row + (size_t)i * ESIZE + XLSTM__PREFETCH + 64);                \
        LOAD(&w0, row + (size_t)i * ESIZE);                                                \
        LOAD(&w1, row + (size_t)(i + 16) * ESIZE);                                         \
        LOAD(&w2, row + (size_t)(i + 32) * ESIZE);                                         \
        LOAD(&w3, row + (size_t)(i + 48) * ESIZE);                                         \
        xlstm__vld(&x0, x + i);                                                            \
        xlstm__vld(&x1, x + i + 16);                                                       \
        xlstm__vld(&x2, x + i + 32);                                                       \
        xlstm__vld(&x3, x + i + 48);                                                       \
        a0 += w0 * x0;                                                                     \
        a1 += w1 * x1;                                                                     \
        a2 += w2 * x2;                                                                     \
        a3 += w3 * x3;                                                                     \
    }                                                                                      \
    for (; i + 16 <= n; i += 16) {                                                         \
        LOAD(&w0, row + (size_t)i * ESIZE);                                                \
        xlstm__vld(&x0, x + i);                                                            \
        a0 += w0 * x0;                                                                     \
    }                                                                                      \
    a0 += a1;                                                                              \
    a2 += a3;                                                                              \
    a0 += a2;                                                                              \
    s = xlstm__vsum(&a0);

XLSTM__VI float xlstm__dot_f32_v(const unsigned char *row, const float *scale, const float *x, int n) {
    XLSTM__DOT_LOOP(xlstm__vld_f32b, 4)
    (void)scale;
    for (; i < n; i++) s += xlstm__dot_f32_scalar(row + 4 * (size_t)i, NULL, x + i, 1);
    return s;
}
/* bf16: 64-byte loads spread into lanes (a widening conversion costs more
   than the memory it reads), four accumulators, the tail scalar */
XLSTM__VI float xlstm__dot_bf16_v(const unsigned char *row, const float *scale, const float *x, int n) {
    xlstm__v16f a0, a1, a2, a3, w0, w1, x0, x1;
    xlstm__v16u all, hw;
    float s;
    int i = 0;
    (void)scale;
    xlstm__vzero(&a0), a1 = a0, a2 = a0, a3 = a0;
    for (; i + 64 <= n; i += 64) {
        const unsigned char *q = row + (size_t)i * 2;
        __builtin_prefetch(q + XLSTM__PREFETCH);
        __builtin_prefetch(q + XLSTM__PREFETCH + 64);
        memcpy(&all, q, sizeof all);
        XLSTM__HALF(hw, all, 0), xlstm__bf16_to_f(&w0, &hw);
        XLSTM__HALF(hw, all, 1), xlstm__bf16_to_f(&w1, &hw);
        xlstm__vld(&x0, x + i), xlstm__vld(&x1, x + i + 16);
        a0 += w0 * x0, a1 += w1 * x1;
        memcpy(&all, q + 64, sizeof all);
        XLSTM__HALF(hw, all, 0), xlstm__bf16_to_f(&w0, &hw);
        XLSTM__HALF(hw, all, 1), xlstm__bf16_to_f(&w1, &hw);
        xlstm__vld(&x0, x + i + 32), xlstm__vld(&x1, x + i + 48);
        a2 += w0 * x0, a3 += w1 * x1;
    }
    for (; i + 16 <= n; i += 16) { /* as the f32 dot does: a widened copy sums alike */
        xlstm__vld_bf16(&w0, row + (size_t)i * 2);
        xlstm__vld(&x0, x + i);
        a0 += w0 * x0;
    }
    a0 += a1;
    a2 += a3;
    a0 += a2;
    s = xlstm__vsum(&a0);
    if (i < n) s += xlstm__dot_bf16_scalar(row + 2 * (size_t)i, NULL, x + i, n - i);
    return s;
}
/* Masks without vector comparisons (in these always-inline helpers GCC 12
   lowers a 512-bit comparison lane by lane, as the baseline target would):
   all ones where x's sign bit is set, or where x is NaN. */
XLSTM__VI void xlstm__vsignmask(xlstm__v16i *m, const xlstm__v16f *x) {
    memcpy(m, x, sizeof *m);
    *m = *m >> 31;
}
XLSTM__VI void xlstm__vnanmask(xlstm__v16i *m, const xlstm__v16f *x) {
    xlstm__v16u b; /* |x| > inf exactly when |x| + 0x7FFFFF carries into the top bit (not folded into a comparison) */
    memcpy(&b, x, sizeof b);
    b = ((b & 0x7FFFFFFFu) + 0x7FFFFFu) >> 31;
    memcpy(m, &b, sizeof *m);
    *m = -*m;
}
/* exp(x) for 16 lanes, Cephes' expf: x = n ln2 + r with n rounded to nearest
   (ln2 in two parts), a degree-6 polynomial for e^r on |r| <= ln2/2, then
   2^n through the exponent bits. x is clamped to [-87.3, 88.3], where 2^n
   stays a normal number; within 2 ulp of libm's expf. */
XLSTM__VI void xlstm__vexp(xlstm__v16f *y, const xlstm__v16f *x) {
    xlstm__v16f v = *x, n, r, p, lo, hi;
    xlstm__v16i e, vb, lob, hib, below, above;
    xlstm__vzero(&lo), hi = lo + 88.3f, lo = lo - 87.3f;
    /* all-ones lanes below and above the range (NaN stays NaN); by sign bits:
       GCC lowers 512-bit vector comparisons lane by lane in these helpers */
    {
        xlstm__v16f dl = v - lo, dh = hi - v;
        xlstm__v16i nan;
        xlstm__vnanmask(&nan, &v), xlstm__vsignmask(&below, &dl), xlstm__vsignmask(&above, &dh);
        below &= ~nan, above &= ~nan;
    }
    memcpy(&vb, &v, sizeof vb), memcpy(&lob, &lo, sizeof lob), memcpy(&hib, &hi, sizeof hib);
    vb = (vb & ~(below | above)) | (lob & below) | (hib & above);
    memcpy(&v, &vb, sizeof v);
    n = (v * 1.44269504088896341f + 12582912.0f) - 12582912.0f; /* round to nearest via 1.5 * 2^23 */
    r = v - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    p = 1.9875691500e-4f * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    e = (__builtin_convertvector(n, xlstm__v16i) + 127) << 23;
    memcpy(&v, &e, sizeof v);
    *y = p * v;
}
XLSTM__VI void xlstm__silu_v(float *x, int n) {
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        xlstm__v16f v, e, m;
        xlstm__vld(&v, x + i);
        m = -v;
        xlstm__vexp(&e, &m);
        v = v / (1.0f + e);
        xlstm__vst(x + i, &v);
    }
    for (; i < n; i++) x[i] = x[i] / (1.0f + expf(-x[i]));
}
/* bf16 against even/odd-split x: per 64 bytes one shift and one mask. One
   64-byte u (32 weights) against its x: a += the even products, b += the odd. */
XLSTM__VI void xlstm__eo_fma(const xlstm__v16u *u, const float *xeo, xlstm__v16f *a, xlstm__v16f *b) {
    xlstm__v16u t;
    xlstm__v16f w, x;
    t = *u << 16, memcpy(&w, &t, sizeof t);
    xlstm__vld(&x, xeo);
    *a += w * x;
    t = *u & 0xFFFF0000u, memcpy(&w, &t, sizeof t);
    xlstm__vld(&x, xeo + 16);
    *b += w * x;
}
/* the dot from element i on, into the four accumulators acc (xlstm__dot_bf16_eo_lines
   enters here after its own loop, and so sums as this kernel does) */
XLSTM__VI float xlstm__dot_bf16_eo_from(const unsigned char *row, const float *xeo, int n, int i, xlstm__v16f *acc) {
    xlstm__v16u u;
    for (; i + 64 <= n; i += 64) {
        const unsigned char *q = row + (size_t)i * 2;
        __builtin_prefetch(q + XLSTM__PREFETCH);
        __builtin_prefetch(q + XLSTM__PREFETCH + 64);
        memcpy(&u, q, sizeof u), xlstm__eo_fma(&u, xeo + i, &acc[0], &acc[1]);
        memcpy(&u, q + 64, sizeof u), xlstm__eo_fma(&u, xeo + i + 32, &acc[2], &acc[3]);
    }
    for (; i + 32 <= n; i += 32) memcpy(&u, row + (size_t)i * 2, sizeof u), xlstm__eo_fma(&u, xeo + i, &acc[0], &acc[1]);
    acc[0] += acc[1];
    acc[2] += acc[3];
    acc[0] += acc[2];
    return xlstm__vsum(&acc[0]) + (i < n ? xlstm__dot_bf16_scalar(row + (size_t)i * 2, NULL, xeo + i, n - i) : 0.0f);
}
XLSTM__VI float xlstm__dot_bf16_eo_v(const unsigned char *row, const float *xeo, int n) {
    xlstm__v16f acc[4];
    xlstm__vzero(&acc[0]), acc[1] = acc[0], acc[2] = acc[0], acc[3] = acc[0];
    return xlstm__dot_bf16_eo_from(row, xeo, n, 0, acc);
}
XLSTM__VI float xlstm__dot_f16_v(const unsigned char *row, const float *scale, const float *x, int n) {
    XLSTM__DOT_LOOP(xlstm__vld_f16, 2)
    (void)scale;
    for (; i < n; i++) s += xlstm__dot_f16_scalar(row + 2 * (size_t)i, NULL, x + i, 1);
    return s;
}
/* q8: two blocks (64 bytes) per step, the tail block scalar */
XLSTM__VI float xlstm__dot_q8_v(const unsigned char *row, const float *scale, const float *x, int n) {
    xlstm__v16f a0, a1, w0, w1, x0, x1;
    xlstm__v16u all, qt;
    const int nb = n / XLSTM__QBLOCK;
    int b;
    float s;
    xlstm__vzero(&a0);
    xlstm__vzero(&a1);
    for (b = 0; b + 2 <= nb; b += 2) {
        const unsigned char *q = row + (size_t)b * XLSTM__QBLOCK;
        const float *xb = x + (size_t)b * XLSTM__QBLOCK;
        __builtin_prefetch(q + XLSTM__PREFETCH);
        memcpy(&all, q, sizeof all);
        XLSTM__QUARTER(qt, all, 0), xlstm__s8_to_f(&w0, &qt);
        XLSTM__QUARTER(qt, all, 1), xlstm__s8_to_f(&w1, &qt);
        xlstm__vld(&x0, xb);
        xlstm__vld(&x1, xb + 16);
        a0 += scale[b] * (w0 * x0 + w1 * x1);
        XLSTM__QUARTER(qt, all, 2), xlstm__s8_to_f(&w0, &qt);
        XLSTM__QUARTER(qt, all, 3), xlstm__s8_to_f(&w1, &qt);
        xlstm__vld(&x0, xb + 32);
        xlstm__vld(&x1, xb + 48);
        a1 += scale[b + 1] * (w0 * x0 + w1 * x1);
    }
    a0 += a1;
    s = xlstm__vsum(&a0);
    if (b < nb) s += xlstm__dot_q8_scalar(row + (size_t)b * XLSTM__QBLOCK, scale + b, x + (size_t)b * XLSTM__QBLOCK, XLSTM__QBLOCK);
    return s;
}
/* q4: four blocks (64 bytes) per step, then single blocks */
XLSTM__VI float xlstm__dot_q4_v(const unsigned char *row, const float *scale, const float *x, int n) {
    xlstm__v16f a0, a1, lo, hi, x0, x1;
    xlstm__v16u all, qt;
    const int nb = n / XLSTM__QBLOCK;
    int b;
    xlstm__vzero(&a0);
    xlstm__vzero(&a1);
    for (b = 0; b + 4 <= nb; b += 4) {
        const unsigned char *q = row + (size_t)b * (XLSTM__QBLOCK / 2);
        const float *xb = x + (size_t)b * XLSTM__QBLOCK;
        __builtin_prefetch(q + XLSTM__PREFETCH);
        memcpy(&all, q, sizeof all);
#define XLSTM__Q4_STEP(Q, ACC)                                  \
    XLSTM__QUARTER(qt, all, Q), xlstm__q4_to_f(&qt, &lo, &hi);          \
    xlstm__vld(&x0, xb + 32 * Q);                               \
    xlstm__vld(&x1, xb + 32 * Q + 16);                          \
    ACC += scale[b + Q] * (lo * x0 + hi * x1);
        XLSTM__Q4_STEP(0, a0)
        XLSTM__Q4_STEP(1, a1)
        XLSTM__Q4_STEP(2, a0)
        XLSTM__Q4_STEP(3, a1)
    }
    for (; b < nb; b++) { /* the last 1-3 blocks: 16 bytes at a time */
        const float *xb = x + (size_t)b * XLSTM__QBLOCK;
        memset(&all, 0, sizeof all);
        memcpy(&all, row + (size_t)b * (XLSTM__QBLOCK / 2), XLSTM__QBLOCK / 2);
        XLSTM__Q4_STEP(0, a0)
    }
#undef XLSTM__Q4_STEP
    a0 += a1;
    return xlstm__vsum(&a0);
}

#define XLSTM__DEQ_LOOP(LOAD, ESIZE, SCALAR)                                               \
    xlstm__v16f v;                                                                         \
    int i = 0;                                                                             \
    (void)scale;                                                                           \
    for (; i + 16 <= n; i += 16) {                                                         \
        if (!((i * ESIZE) & 63)) __builtin_prefetch(row + (size_t)i * ESIZE + XLSTM__PREFETCH); \
        LOAD(&v, row + (size_t)i * ESIZE);                                                 \
        xlstm__vst(out + i, &v);                                                           \
    }                                                                                      \
    if (i < n) SCALAR(out + i, row + (size_t)i * ESIZE, NULL, n - i);

XLSTM__VI void xlstm__deq_f32_v(float *out, const unsigned char *row, const float *scale, int n) {
    XLSTM__DEQ_LOOP(xlstm__vld_f32b, 4, xlstm__deq_f32_scalar)
}
XLSTM__VI void xlstm__deq_bf16_v(float *out, const unsigned char *row, const float *scale, int n) {
    /* 64-byte loads spread into lanes, as in the bf16 dot */
    xlstm__v16f w0, w1;
    xlstm__v16u all, hw;
    int i = 0;
    (void)scale;
    for (; i + 32 <= n; i += 32) {
        const unsigned char *q = row + (size_t)i * 2;
        __builtin_prefetch(q + XLSTM__PREFETCH);
        memcpy(&all, q, sizeof all);
        XLSTM__HALF(hw, all, 0), xlstm__bf16_to_f(&w0, &hw);
        XLSTM__HALF(hw, all, 1), xlstm__bf16_to_f(&w1, &hw);
        xlstm__vst(out + i, &w0);
        xlstm__vst(out + i + 16, &w1);
    }
    if (i < n) xlstm__deq_bf16_scalar(out + i, row + (size_t)i * 2, NULL, n - i);
}
XLSTM__VI void xlstm__deq_f16_v(float *out, const unsigned char *row, const float *scale, int n) {
    XLSTM__DEQ_LOOP(xlstm__vld_f16, 2, xlstm__deq_f16_scalar)
}
XLSTM__VI void xlstm__deq_q8_v(float *out, const unsigned char *row, const float *scale, int n) {
    xlstm__v16f v;
    xlstm__v16u all, qt;
    const int nb = n / XLSTM__QBLOCK;
    int b;
    for (b = 0; b + 2 <= nb; b += 2) {
        float *o = out + (size_t)b * XLSTM__QBLOCK;
        memcpy(&all, row + (size_t)b * XLSTM__QBLOCK, sizeof all);
        XLSTM__QUARTER(qt, all, 0), xlstm__s8_to_f(&v, &qt), v *= scale[b], xlstm__vst(o, &v);
        XLSTM__QUARTER(qt, all, 1), xlstm__s8_to_f(&v, &qt), v *= scale[b], xlstm__vst(o + 16, &v);
        XLSTM__QUARTER(qt, all, 2), xlstm__s8_to_f(&v, &qt), v *= scale[b + 1], xlstm__vst(o + 32, &v);
        XLSTM__QUARTER(qt, all, 3), xlstm__s8_to_f(&v, &qt), v *= scale[b + 1], xlstm__vst(o + 48, &v);
    }
    if (b < nb) xlstm__deq_q8_scalar(out + (size_t)b * XLSTM__QBLOCK, row + (size_t)b * XLSTM__QBLOCK, scale + b, XLSTM__QBLOCK);
}
XLSTM__VI void xlstm__deq_q4_v(float *out, const unsigned char *row, const float *scale, int n) {
    xlstm__v16f lo, hi;
    xlstm__v16u all, qt;
    const int nb = n / XLSTM__QBLOCK;
    int b;
    for (b = 0; b + 4 <= nb; b += 4) {
        float *o = out + (size_t)b * XLSTM__QBLOCK;
        memcpy(&all, row + (size_t)b * (XLSTM__QBLOCK / 2), sizeof all);
#define XLSTM__Q4_DEQ(Q)                                        \
    XLSTM__QUARTER(qt, all, Q), xlstm__q4_to_f(&qt, &lo, &hi);          \
    lo *= scale[b + Q], hi *= scale[b + Q];                     \
    xlstm__vst(o + 32 * Q, &lo), xlstm__vst(o + 32 * Q + 16, &hi);
        XLSTM__Q4_DEQ(0)
        XLSTM__Q4_DEQ(1)
        XLSTM__Q4_DEQ(2)
        XLSTM__Q4_DEQ(3)
#undef XLSTM__Q4_DEQ
    }
    if (b < nb) xlstm__deq_q4_scalar(out + (size_t)b * XLSTM__QBLOCK, row + (size_t)b * (XLSTM__QBLOCK / 2), scale + b, n - b * XLSTM__QBLOCK);
}

/* One row against NX vectors (NX a constant after inlining): the row's 32
   values are loaded once per step and multiplied into 2 NX accumulators. */
XLSTM__VI void xlstm__dots_nx(const float *w, const float *X, size_t ldx, int n, float *out, const int NX) {
    xlstm__v16f acc[8][2], w0, w1, x0;
    int i = 0, v;
    for (v = 0; v < NX; v++) xlstm__vzero(&acc[v][0]), xlstm__vzero(&acc[v][1]);
    for (; i + 32 <= n; i += 32) {
        xlstm__vld(&w0, w + i);
        xlstm__vld(&w1, w + i + 16);
#pragma GCC unroll 8
        for (v = 0; v < NX; v++) {
            xlstm__vld(&x0, X + (size_t)v * ldx + i);
            acc[v][0] += w0 * x0;
            xlstm__vld(&x0, X + (size_t)v * ldx + i + 16);
            acc[v][1] += w1 * x0;
        }
    }
    for (v = 0; v < NX; v++) {
        const float *xv = X + (size_t)v * ldx;
        int j;
        acc[v][0] += acc[v][1];
        out[v] = xlstm__vsum(&acc[v][0]);
        for (j = i; j < n; j++) out[v] += w[j] * xv[j];
    }
}
/* eight vectors at a time through NX_FN(w, X, ldx, n, out, NX), NX a literal */
#define XLSTM__DOTS_BY_8(NX_FN)                                                            \
    for (; nx > 0; nx -= 8, X += 8 * ldx, out += 8) {                                      \
        switch (nx < 8 ? nx : 8) {                                                         \
        case 1: NX_FN(w, X, ldx, n, out, 1); break;                                        \
        case 2: NX_FN(w, X, ldx, n, out, 2); break;                                        \
        case 3: NX_FN(w, X, ldx, n, out, 3); break;                                        \
        case 4: NX_FN(w, X, ldx, n, out, 4); break;                                        \
        case 5: NX_FN(w, X, ldx, n, out, 5); break;                                        \
        case 6: NX_FN(w, X, ldx, n, out, 6); break;                                        \
        case 7: NX_FN(w, X, ldx, n, out, 7); break;                                        \
        default: NX_FN(w, X, ldx, n, out, 8); break;                                       \
        }                                                                                  \
    }
XLSTM__VI void xlstm__dots_v(const float *w, const float *X, size_t ldx, int nx, int n, float *out) { XLSTM__DOTS_BY_8(xlstm__dots_nx) }

/* 16 outputs at a time: the weights' four columns by two rounds of even/odd
   unzips, x's four values per block spread to the block's lanes; the sums in
   the oracle's order */
#if defined(__clang__)
#define XLSTM__UNZIP(ev, od, a, b)                                                                                     \
    ((ev) = __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30),               \
     (od) = __builtin_shufflevector(a, b, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31))
#define XLSTM__SPREAD4(x0, x1, x2, x3, x)                                                                               \
    ((x0) = __builtin_shufflevector(x, x, 0, 0, 0, 0, 4, 4, 4, 4, 8, 8, 8, 8, 12, 12, 12, 12),                      \
     (x1) = __builtin_shufflevector(x, x, 1, 1, 1, 1, 5, 5, 5, 5, 9, 9, 9, 9, 13, 13, 13, 13),                      \
     (x2) = __builtin_shufflevector(x, x, 2, 2, 2, 2, 6, 6, 6, 6, 10, 10, 10, 10, 14, 14, 14, 14),                  \
     (x3) = __builtin_shufflevector(x, x, 3, 3, 3, 3, 7, 7, 7, 7, 11, 11, 11, 11, 15, 15, 15, 15))
#else
XLSTM__VI void xlstm__unzip(xlstm__v16f *ev, xlstm__v16f *od, const xlstm__v16f *a, const xlstm__v16f *b) {
    const xlstm__v16u e = {0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30};
    *ev = __builtin_shuffle(*a, *b, e);
    *od = __builtin_shuffle(*a, *b, e + 1);
}
XLSTM__VI void xlstm__spread4(xlstm__v16f *x0, xlstm__v16f *x1, xlstm__v16f *x2, xlstm__v16f *x3, const xlstm__v16f *x) {
    const xlstm__v16u base = {0, 0, 0, 0, 4, 4, 4, 4, 8, 8, 8, 8, 12, 12, 12, 12};
    *x0 = __builtin_shuffle(*x, base);
    *x1 = __builtin_shuffle(*x, base + 1);
    *x2 = __builtin_shuffle(*x, base + 2);
    *x3 = __builtin_shuffle(*x, base + 3);
}
#define XLSTM__UNZIP(ev, od, a, b) xlstm__unzip(&(ev), &(od), &(a), &(b))
#define XLSTM__SPREAD4(x0, x1, x2, x3, x) xlstm__spread4(&(x0), &(x1), &(x2), &(x3), &(x))
#endif
XLSTM__VI void xlstm__headwise4_v(const float *W, const float *x, const float *bias, float *y, int rows) {
    int r = 0;
    for (; r + 16 <= rows; r += 16) {
        xlstm__v16f a, b, c, d, e01, o01, e23, o23, w0, w1, w2, w3, xv, x0, x1, x2, x3, acc;
        xlstm__vld(&a, W + XLSTM__CAST(size_t, r) * 4), xlstm__vld(&b, W + XLSTM__CAST(size_t, r) * 4 + 16);
        xlstm__vld(&c, W + XLSTM__CAST(size_t, r) * 4 + 32), xlstm__vld(&d, W + XLSTM__CAST(size_t, r) * 4 + 48);
        XLSTM__UNZIP(e01, o01, a, b), XLSTM__UNZIP(e23, o23, c, d);
        XLSTM__UNZIP(w0, w2, e01, e23), XLSTM__UNZIP(w1, w3, o01, o23);
        xlstm__vld(&xv, x + r);
        XLSTM__SPREAD4(x0, x1, x2, x3, xv);
        acc = w0 * x0;
        acc = acc + w1 * x1;
        acc = acc + w2 * x2;
        acc = acc + w3 * x3;
        if (bias) xlstm__vld(&a, bias + r), acc = acc + a;
        xlstm__vst(y + r, &acc);
    }
    if (r < rows) xlstm__headwise4_scalar(W + XLSTM__CAST(size_t, r) * 4, x + r, bias ? bias + r : NULL, y + r, rows - r);
}

/* 16 x 16 transpose in registers: four rounds of zipping row r with row
   r + 8 (lo halves into row 2r, hi halves into row 2r + 1). A round rotates
   the 8-bit (row, column) index left by one bit, so four rounds swap them. */
#if defined(__clang__)
#define XLSTM__ZIP(lo, hi, a, b)                                                                                       \
    ((lo) = __builtin_shufflevector(a, b, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23),                  \
     (hi) = __builtin_shufflevector(a, b, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31))
#else
XLSTM__VI void xlstm__zip(xlstm__v16f *lo, xlstm__v16f *hi, const xlstm__v16f *a, const xlstm__v16f *b) {
    const xlstm__v16u zl = {0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23};
    *lo = __builtin_shuffle(*a, *b, zl);
    *hi = __builtin_shuffle(*a, *b, zl + 8);
}
#define XLSTM__ZIP(lo, hi, a, b) xlstm__zip(&(lo), &(hi), &(a), &(b))
#endif
XLSTM__VI void xlstm__transpose16_v(float *out, size_t ldo, const float *in, size_t ldi) {
    xlstm__v16f m[2][16];
    int r, round;
#pragma GCC unroll 16
    for (r = 0; r < 16; r++) xlstm__vld(&m[0][r], in + (size_t)r * ldi);
#pragma GCC unroll 4
    for (round = 0; round < 4; round++) {
        xlstm__v16f *from = m[round & 1], *to = m[(round & 1) ^ 1];
#pragma GCC unroll 8
        for (r = 0; r < 8; r++) XLSTM__ZIP(to[2 * r], to[2 * r + 1], from[r], from[r + 8]);
    }
#pragma GCC unroll 16
    for (r = 0; r < 16; r++) xlstm__vst(out + (size_t)r * ldo, &m[0][r]);
}

/* C = beta C + A B in register tiles of MR rows by NV vectors of columns:
   each step over p loads NV vectors of a B row and multiplies them by MR
   broadcast A values (MR*NV accumulators). No reductions across lanes and no
   packing: B rows are contiguous, A is read one value at a time. Rows past M
   repeat the last row (results dropped); columns past the last multiple of 16
   go to the scalar loop. MR and NV are constants per target (register count). */
XLSTM__VI void xlstm__gemm_tile_v(int mr, int nv, int P, const float *A, size_t a_rs, size_t a_cs, const float *B,
                                  size_t ldb, float beta, float *Cm, size_t ldc, const int MR, const int NV) {
    xlstm__v16f acc[8][2], b0, b1, c;
    const float *ar[8];
    int i, p;
    for (i = 0; i < MR; i++) {
        ar[i] = A + (size_t)(i < mr ? i : mr - 1) * a_rs;
        xlstm__vzero(&acc[i][0]);
        xlstm__vzero(&acc[i][1]);
    }
    /* full tiles (the common case) with A's rows or columns contiguous: one
       base pointer and constant offsets, so every address stays in a register */
#define XLSTM__GEMM_FULL(A_AT_P, A_ROW, PREFETCH)                                \
    for (p = 0; p < P; p++) {                                                    \
        const float *a = A_AT_P;                                                 \
        PREFETCH;                                                                \
        xlstm__vld(&b0, B + (size_t)p * ldb);                                    \
        if (NV == 2 && nv == 2) {                                                \
            xlstm__vld(&b1, B + (size_t)p * ldb + 16);                           \
            _Pragma("GCC unroll 8") for (i = 0; i < MR; i++) {                   \
                const float av = a[A_ROW];                                       \
                acc[i][0] += b0 * av;                                            \
                acc[i][1] += b1 * av;                                            \
            }                                                                    \
        } else {                                                                 \
            _Pragma("GCC unroll 8") for (i = 0; i < MR; i++) acc[i][0] += b0 * a[A_ROW]; \
        }                                                                        \
    }
    if (mr == MR && a_cs == 1) { /* a weight tile streams from memory: fetch the next tile's rows */
        XLSTM__GEMM_FULL(A + p, (size_t)i * a_rs,
                         if (!(p & 15)) for (i = 0; i < MR; i++) __builtin_prefetch(a + (size_t)(MR + i) * a_rs))
    } else if (mr == MR && a_rs == 1) { /* A is a transposed view (K^T in the chunkwise mLSTM) */
        XLSTM__GEMM_FULL(A + (size_t)p * a_cs, i, (void)0)
    } else if (nv == 2 && NV == 2) {
        for (p = 0; p < P; p++) {
            const size_t o = (size_t)p * a_cs;
            if (!(p & 15)) /* a weight matrix streams from memory: fetch the next tile's rows */
                for (i = 0; i < MR; i++) __builtin_prefetch(ar[i] + o + (size_t)MR * a_rs);
            xlstm__vld(&b0, B + (size_t)p * ldb);
            xlstm__vld(&b1, B + (size_t)p * ldb + 16);
#pragma GCC unroll 8
            for (i = 0; i < MR; i++) {
                const float a = ar[i][o];
                acc[i][0] += b0 * a;
                acc[i][1] += b1 * a;
            }
        }
    } else {
        for (p = 0; p < P; p++) {
            const size_t o = (size_t)p * a_cs;
            xlstm__vld(&b0, B + (size_t)p * ldb);
#pragma GCC unroll 8
            for (i = 0; i < MR; i++) acc[i][0] += b0 * ar[i][o];
        }
    }
    for (i = 0; i < mr; i++) {
        float *ci = Cm + (size_t)i * ldc;
        for (p = 0; p < nv; p++) {
            if (beta != 0.0f) {
                xlstm__vld(&c, ci + 16 * p);
                acc[i][p] += beta * c;
            }
            xlstm__vst(ci + 16 * p, &acc[i][p]);
        }
    }
}
#undef XLSTM__GEMM_FULL
/* p runs in blocks of XLSTM__GEMM_KB, each added to C: long sums then round
   like a two-level sum, not like one running total */
#define XLSTM__GEMM_KB 256
typedef void (*xlstm__tile4_fn)(int P, const float *A, size_t a_rs, const float *B, size_t ldb, float beta, float *C, size_t ldc);
/* a target's own (mr <= 4) x 16 tile, as xlstm__gemm_tile_v with MR 4 and NV 1 (xlstm__gemm_tile_avx2) */
typedef void (*xlstm__tile_fn)(int mr, int P, const float *A, size_t a_rs, size_t a_cs, const float *B, size_t ldb, float beta,
                               float *C, size_t ldc);
XLSTM__VI void xlstm__gemm_v(int M, int N, int P, const float *A, size_t a_rs, size_t a_cs, const float *B, size_t ldb,
                             float beta, float *Cm, size_t ldc, const int MR, const int NV, xlstm__tile4_fn tile4, xlstm__tile_fn tile) {
    int i, j, p0, nvec = N / 16, j4 = 0;
    /* with tile4 (a target's 4 rows x 4 vectors tile): 64-column panels of
       contiguous weight rows, 4 rows at a time, the same sums in the same order */
    if (tile4 && a_cs == 1 && M >= 4) {
        j4 = nvec / 4 * 4;
        for (j = 0; j < j4; j += 4)
            for (i = 0; i + 4 <= M; i += 4)
                for (p0 = 0; p0 < P || p0 == 0; p0 += XLSTM__GEMM_KB)
                    tile4(P - p0 < XLSTM__GEMM_KB ? P - p0 : XLSTM__GEMM_KB, A + (size_t)i * a_rs + p0, a_rs, B + (size_t)p0 * ldb + 16 * (size_t)j, ldb,
                          p0 ? 1.0f : beta, Cm + (size_t)i * ldc + 16 * (size_t)j, ldc);
    }
    /* a panel of B (all of P, NV vectors wide) is reused by every row tile;
       in the 4-vector panels only the rows below the last 4-row tile */
    for (j = 0; j < nvec; j += NV) {
        const int nv = nvec - j < NV ? nvec - j : NV;
        for (i = j < j4 ? M / 4 * 4 : 0; i < M; i += MR) {
            const int mr = M - i < MR ? M - i : MR;
            const float *Ai = A + (size_t)i * a_rs;
            float *Ci = Cm + (size_t)i * ldc;
            for (p0 = 0; p0 < P || p0 == 0; p0 += XLSTM__GEMM_KB) {
                const int pk = P - p0 < XLSTM__GEMM_KB ? P - p0 : XLSTM__GEMM_KB;
                if (tile)
                    tile(mr, pk, Ai + (size_t)p0 * a_cs, a_rs, a_cs, B + (size_t)p0 * ldb + 16 * (size_t)j, ldb, p0 ? 1.0f : beta,
                         Ci + 16 * (size_t)j, ldc);
                else
                    xlstm__gemm_tile_v(mr, nv, pk, Ai + (size_t)p0 * a_cs, a_rs, a_cs, B + (size_t)p0 * ldb + 16 * (size_t)j, ldb,
                                       p0 ? 1.0f : beta, Ci + 16 * (size_t)j, ldc, MR, NV);
            }
        }
    }
    if (N % 16)
        xlstm__gemm_scalar(M, N % 16, P, A, a_rs, a_cs, B + 16 * (size_t)nvec, ldb, beta, Cm + 16 * (size_t)nvec, ldc);
}

XLSTM__VI float xlstm__mlstm_head_v(float *C, float *nv, const float *q, const float *k, const float *v, float f,
                                    float i, int dk, int dv, float *h) {
    double qn = 0.0;
    int a, b;
    if (dv % 16) return xlstm__mlstm_head_scalar(C, nv, q, k, v, f, i, dk, dv, h);
    for (b = 0; b < dv; b += XLSTM__STRIP) { /* a strip's h stays in registers over all of dk */
        const int nv2 = dv - b >= 32 ? 2 : 1;
        float *Cs = C + (size_t)b * dk;
        xlstm__v16f v0, v1, h0, h1, c0, c1;
        xlstm__vld(&v0, v + b);
        xlstm__vzero(&h0);
        xlstm__vzero(&h1);
        if (nv2 == 2) {
            xlstm__vld(&v1, v + b + 16);
            for (a = 0; a < dk; a++) {
                const float ka = i * k[a], qa = q[a];
                float *Ca = Cs + (size_t)a * 32;
                __builtin_prefetch(Ca + XLSTM__PREFETCH / 4, 1); /* the memory is updated in place */
                xlstm__vld(&c0, Ca);
                xlstm__vld(&c1, Ca + 16);
                c0 = f * c0 + ka * v0;
                c1 = f * c1 + ka * v1;
                h0 += qa * c0;
                h1 += qa * c1;
                xlstm__vst(Ca, &c0);
                xlstm__vst(Ca + 16, &c1);
            }
            xlstm__vst(h + b + 16, &h1);
        } else {
            for (a = 0; a < dk; a++) {
                const float ka = i * k[a], qa = q[a];
                float *Ca = Cs + (size_t)a * 16;
                __builtin_prefetch(Ca + XLSTM__PREFETCH / 4, 1);
                xlstm__vld(&c0, Ca);
                c0 = f * c0 + ka * v0;
                h0 += qa * c0;
                xlstm__vst(Ca, &c0);
            }
        }
        xlstm__vst(h + b, &h0);
    }
    if (!nv) return 0.0f;
    for (a = 0; a < dk; a++) {
        nv[a] = f * nv[a] + i * k[a];
        qn += XLSTM__CAST(double, q[a]) * nv[a];
    }
    return XLSTM__CAST(float, qn);
}

/* Lane-wise select: *r = mask ? a : b (mask lanes all ones or all zeros). */
XLSTM__VI void xlstm__vsel(xlstm__v16f *r, const xlstm__v16i *mask, const xlstm__v16f *a, const xlstm__v16f *b) {
    xlstm__v16i ia, ib;
    memcpy(&ia, a, sizeof ia), memcpy(&ib, b, sizeof ib);
    ia = (ia & *mask) | (ib & ~*mask);
    memcpy(r, &ia, sizeof ia);
}
/* log(x) for normal x > 0, Cephes' logf: x = 2^e w with w in [sqrt(1/2),
   sqrt(2)), a degree-8 polynomial in w - 1, ln2 in two parts. */
XLSTM__VI void xlstm__vlog(xlstm__v16f *y, const xlstm__v16f *x) {
    xlstm__v16i bits, e, small;
    xlstm__v16f w, w2, z, p, ef;
    memcpy(&bits, x, sizeof bits);
    e = ((bits >> 23) & 0xFF) - 126; /* x = 2^e w, w in [0.5, 1) */
    bits = (bits & 0x007FFFFF) | 0x3F000000;
    memcpy(&w, &bits, sizeof w);
    w2 = w - 0.707106781186547524f;
    xlstm__vsignmask(&small, &w2); /* -1 there: w doubles, e drops */
    e = e + small;
    w2 = w + w;
    xlstm__vsel(&w, &small, &w2, &w);
    w = w - 1.0f;
    ef = __builtin_convertvector(e, xlstm__v16f);
    z = w * w;
    p = 7.0376836292e-2f * w - 1.1514610310e-1f;
    p = p * w + 1.1676998740e-1f;
    p = p * w - 1.2420140846e-1f;
    p = p * w + 1.4249322787e-1f;
    p = p * w - 1.6668057665e-1f;
    p = p * w + 2.0000714765e-1f;
    p = p * w - 2.4999993993e-1f;
    p = p * w + 3.3333331174e-1f;
    p = p * w * z;
    p = p + ef * -2.12194440e-4f;
    p = p - 0.5f * z;
    *y = (w + p) + ef * 0.693359375f;
}
/* tanh, Cephes' tanhf: an odd polynomial below 0.625, 1 - 2 / (e^2|x| + 1) above. */
XLSTM__VI void xlstm__vtanh(xlstm__v16f *y, const xlstm__v16f *x) {
    xlstm__v16f v = *x, nv = -v, ax, s = v * v, p, e, big, nbig, t;
    xlstm__v16i neg, large;
    xlstm__vsignmask(&neg, &v);
    xlstm__vsel(&ax, &neg, &nv, &v);
    p = -5.70498872745e-3f * s + 2.06390887954e-2f;
    p = p * s - 5.37397155531e-2f;
    p = p * s + 1.33314422036e-1f;
    p = p * s - 3.33332819422e-1f;
    p = p * s * v + v;
    t = ax + ax;
    xlstm__vexp(&e, &t);
    big = 1.0f - 2.0f / (e + 1.0f);
    nbig = -big;
    xlstm__vsel(&big, &neg, &nbig, &big);
    t = 0.625f - ax;
    xlstm__vsignmask(&large, &t);
    xlstm__vsel(y, &large, &big, &p);
}
/* torch's max / minimum: NaN in either operand gives NaN */
XLSTM__VI void xlstm__vmaxmin_nan(xlstm__v16f *r, const xlstm__v16f *a, const xlstm__v16f *b, int max) {
    xlstm__v16f d = max ? *b - *a : *a - *b;
    xlstm__v16i pick, an, bn;
    xlstm__vsignmask(&pick, &d), xlstm__vnanmask(&an, a), xlstm__vnanmask(&bn, b);
    xlstm__vsel(r, &pick, a, b);
    xlstm__vsel(r, &bn, b, r);
    xlstm__vsel(r, &an, a, r);
}
/* to bfloat16 and back, ties to even; NaN stays (quiet) NaN */
XLSTM__VI void xlstm__vround_bf16(xlstm__v16f *x) {
    xlstm__v16i u, nan;
    memcpy(&u, x, sizeof u);
    xlstm__vnanmask(&nan, x);
    u = ((u | (0x400000 & nan)) + (0x7FFF + ((u >> 16) & 1)) * (nan + 1)) & (int32_t)0xFFFF0000;
    memcpy(x, &u, sizeof u);
}
/* U blocks of 16 lanes side by side (U a constant, at most 4): each step runs
   for every block before the next step, so the U independent chains of exp,
   log and division overlap in the pipeline (one block at a time is
   latency-bound: 4 blocks take half the time of 4 in turn, same bits). */
XLSTM__VI void xlstm__slstm_point_u(const float *wx, size_t ldw, const float *ry, size_t ldr, const float *b, size_t ldb, float *h, float *c,
                                    float *nn, float *m, int first, int bf16, float f_cap, const int U) {
    xlstm__v16f g[4][4], t0[4], t1[4], lf[4], lz[4], mn[4], ig[4], fg[4], e[4], cn[4], n2[4], hn[4], tz[4], zero, lim, one;
    xlstm__v16i neg[4];
    int k, u;
#define XLSTM__EACH _Pragma("GCC unroll 4") for (u = 0; u < U; u++)
    xlstm__vzero(&zero);
    lim = zero + f_cap, one = zero + 1.0f;
    for (k = 0; k < 4; k++) {
        XLSTM__EACH {
            xlstm__vld(&t0[u], wx + k * ldw + 16 * u);
            xlstm__vld(&t1[u], ry + k * ldr + 16 * u);
            xlstm__vld(&e[u], b + k * ldb + 16 * u);
            if (bf16) xlstm__vround_bf16(&t0[u]), xlstm__vround_bf16(&t1[u]);
            g[u][k] = (t0[u] + t1[u]) + e[u];
        }
    }
    /* logsigmoid(x) = min(x, 0) - log1p(e^-|x|); log1p(u) = log(1 + u)
       corrected for the rounding of 1 + u */
    XLSTM__EACH xlstm__vmaxmin_nan(&t0[u], &g[u][1], &lim, 0), xlstm__vsignmask(&neg[u], &t0[u]), t1[u] = -t0[u];
    XLSTM__EACH xlstm__vsel(&t1[u], &neg[u], &t0[u], &t1[u]);
    XLSTM__EACH xlstm__vexp(&e[u], &t1[u]);
    XLSTM__EACH t1[u] = 1.0f + e[u];
    XLSTM__EACH xlstm__vlog(&lz[u], &t1[u]);
    XLSTM__EACH lz[u] = lz[u] + (e[u] - (t1[u] - 1.0f)) / t1[u];
    XLSTM__EACH xlstm__vsel(&lf[u], &neg[u], &t0[u], &zero), xlstm__vld(&t0[u], m + 16 * u), lf[u] = t0[u] + (lf[u] - lz[u]);
    XLSTM__EACH {
        if (first) mn[u] = g[u][0];
        else xlstm__vmaxmin_nan(&mn[u], &g[u][0], &lf[u], 1);
    }
    XLSTM__EACH t0[u] = g[u][0] - mn[u], xlstm__vexp(&e[u], &t0[u]);
    XLSTM__EACH xlstm__vmaxmin_nan(&ig[u], &e[u], &one, 0), t0[u] = lf[u] - mn[u];
    XLSTM__EACH xlstm__vexp(&e[u], &t0[u]);
    XLSTM__EACH xlstm__vmaxmin_nan(&fg[u], &e[u], &one, 0);
    XLSTM__EACH xlstm__vtanh(&tz[u], &g[u][2]);
    XLSTM__EACH xlstm__vld(&t0[u], c + 16 * u), cn[u] = fg[u] * t0[u] + ig[u] * tz[u];
    XLSTM__EACH xlstm__vld(&t0[u], nn + 16 * u), n2[u] = fg[u] * t0[u] + ig[u], t0[u] = -g[u][3];
    XLSTM__EACH xlstm__vexp(&e[u], &t0[u]);
    XLSTM__EACH hn[u] = (1.0f / (1.0f + e[u])) * cn[u] / n2[u];
    if (bf16) {
        XLSTM__EACH xlstm__vround_bf16(&cn[u]), xlstm__vround_bf16(&n2[u]), xlstm__vround_bf16(&hn[u]), xlstm__vround_bf16(&mn[u]);
    }
    XLSTM__EACH {
        xlstm__vst(c + 16 * u, &cn[u]), xlstm__vst(nn + 16 * u, &n2[u]);
        xlstm__vst(m + 16 * u, &mn[u]), xlstm__vst(h + 16 * u, &hn[u]);
    }
#undef XLSTM__EACH
}
XLSTM__VI void xlstm__slstm_point_v(const float *wx, size_t ldw, const float *ry, size_t ldr, const float *b, size_t ldb, float *h, float *c,
                                    float *nn, float *m, int first, int bf16, float f_cap, int n, const int PU) {
    int j = 0;
    for (; PU == 4 && j + 64 <= n; j += 64)
        xlstm__slstm_point_u(wx + j, ldw, ry + j, ldr, b + j, ldb, h + j, c + j, nn + j, m + j, first, bf16, f_cap, 4);
    for (; j + 16 <= n; j += 16) xlstm__slstm_point_u(wx + j, ldw, ry + j, ldr, b + j, ldb, h + j, c + j, nn + j, m + j, first, bf16, f_cap, 1);
    if (j < n) xlstm__slstm_point_scalar(wx + j, ldw, ry + j, ldr, b + j, ldb, h + j, c + j, nn + j, m + j, first, bf16, f_cap, n - j);
}
XLSTM__VI void xlstm__vecmat_v(const float *x, const float *A, int K, int n, float *y) {
    int k, o = 0, j;
    for (; o + 256 <= n; o += 256) { /* 256 outputs in 16 registers; each row of A read as one 1 KB run */
        xlstm__v16f acc[16], w;
        for (j = 0; j < 16; j++) xlstm__vzero(&acc[j]);
        for (k = 0; k < K; k++) {
            const float *r = A + (size_t)k * n + o, xk = x[k];
#pragma GCC unroll 16
            for (j = 0; j < 16; j++) xlstm__vld(&w, r + 16 * j), acc[j] += xk * w;
        }
        for (j = 0; j < 16; j++) xlstm__vst(y + o + 16 * j, &acc[j]);
    }
    for (; o + 16 <= n; o += 16) {
        xlstm__v16f a0, w;
        xlstm__vzero(&a0);
        for (k = 0; k < K; k++) xlstm__vld(&w, A + (size_t)k * n + o), a0 += x[k] * w;
        xlstm__vst(y + o, &a0);
    }
    for (; o < n; o++) {
        float acc = 0.0f;
        for (k = 0; k < K; k++) acc += x[k] * A[(size_t)k * n + o];
        y[o] = acc;
    }
}
/* nv vectors of one column block (pairs kp of them, w words each, from r) */
XLSTM__VI void xlstm__vecmat_bf16_block_v(const float *x, const unsigned char *r, int K, size_t w, float *y, const int nv) {
    xlstm__v16f acc[16], lo, hi;
    xlstm__v16u u, t;
    int p, j;
    for (j = 0; j < nv; j++) xlstm__vzero(&acc[j]);
    for (p = 0; 2 * p < K; p++, r += 4 * w) {
        const float x0 = xlstm__round_bf16(x[2 * p]), x1 = 2 * p + 1 < K ? xlstm__round_bf16(x[2 * p + 1]) : 0.0f;
#pragma GCC unroll 16
        for (j = 0; j < nv; j++) {
            memcpy(&u, r + 64 * j, sizeof u);
            t = u << 16, memcpy(&lo, &t, sizeof lo);
            t = u & 0xFFFF0000u, memcpy(&hi, &t, sizeof hi);
            acc[j] += x0 * lo;
            acc[j] += x1 * hi;
        }
    }
    for (j = 0; j < nv; j++) xlstm__vst(y + 16 * j, &acc[j]);
}
/* Column blocks one after another (each pass one stream from L2); columns
   past a block's last 16 through the oracle's sum. */
XLSTM__VI void xlstm__vecmat_bf16_v(const float *x, const uint16_t *A, int K, int n, float *y) {
    int o0;
    for (o0 = 0; o0 < n; o0 += XLSTM__REC_BLOCK) {
        const int w = n - o0 < XLSTM__REC_BLOCK ? n - o0 : XLSTM__REC_BLOCK;
        const unsigned char *r = XLSTM__CAST(const unsigned char *, XLSTM__CAST(const void *, A + xlstm__rec16_index(0, o0, K, n)));
        if (w == XLSTM__REC_BLOCK) xlstm__vecmat_bf16_block_v(x, r, K, XLSTM__CAST(size_t, w), y + o0, XLSTM__REC_BLOCK / 16);
        else xlstm__vecmat_bf16_block_v(x, r, K, XLSTM__CAST(size_t, w), y + o0, w / 16);
        xlstm__vecmat_bf16_cols(x, A, K, n, o0 + w / 16 * 16, o0 + w, y);
    }
}

/* The norms' statistics as the scalar ones gather them: 8 double lanes, lane
   l summing elements l, l+8, ... (the only difference: a fused d*d + acc). */
typedef double xlstm__v8d __attribute__((vector_size(64)));
XLSTM__VI double xlstm__moment_v(const float *x, int n, double c, int p) {
    xlstm__v8d acc = {0, 0, 0, 0, 0, 0, 0, 0}, d;
    xlstm__v8f v;
    int i;
    for (i = 0; i < n; i += 8) {
        memcpy(&v, x + i, sizeof v);
        d = __builtin_convertvector(v, xlstm__v8d) - c;
        acc += p == 1 ? d : d * d;
    }
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}
XLSTM__VI void xlstm__rmsnorm_v(float *y, const float *x, const float *w, const float *b, int n, float eps) {
    float inv;
    int i;
    if (n % 16) {
        xlstm__rmsnorm(y, x, w, b, n, eps);
        return;
    }
    inv = XLSTM__CAST(float, 1.0 / sqrt(xlstm__moment_v(x, n, 0.0, 2) / n + eps));
    for (i = 0; i < n; i += 16) {
        xlstm__v16f v, t;
        xlstm__vld(&v, x + i);
        v = v * inv;
        if (w) xlstm__vld(&t, w + i), v = v * t;
        if (b) xlstm__vld(&t, b + i), v = v + t;
        xlstm__vst(y + i, &v);
    }
}
XLSTM__VI void xlstm__groupnorm_v(float *y, const float *x, const float *w, int heads, int dh) {
    int h, i;
    if (dh % 8) {
        xlstm__groupnorm(y, x, w, heads, dh);
        return;
    }
    for (h = 0; h < heads; h++) {
        const size_t o = XLSTM__CAST(size_t, h) * XLSTM__CAST(size_t, dh);
        const double mean = xlstm__moment_v(x + o, dh, 0.0, 1) / dh, var = xlstm__moment_v(x + o, dh, mean, 2) / dh;
        const float inv = XLSTM__CAST(float, 1.0 / sqrt(var + 1e-5));
        for (i = 0; i < dh; i += 8) {
            xlstm__v8f v, t;
            memcpy(&v, x + o + i, sizeof v);
            v = __builtin_convertvector(__builtin_convertvector(v, xlstm__v8d) - mean, xlstm__v8f) * inv;
            if (w) memcpy(&t, w + o + i, sizeof t), v = v * (1.0f + t);
            memcpy(y + o + i, &v, sizeof v);
        }
    }
}

/* by the bits: x > 0 exactly when bits - 1 keeps the sign clear and bits do
   not exceed +inf's (a positive NaN) */
XLSTM__VI void xlstm__relu_v(float *x, int n) {
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        xlstm__v16u b;
        memcpy(&b, x + i, sizeof b);
        b &= (((b - 1u) | (0x7F800000u - b)) >> 31) - 1u; /* all ones where both tops are clear */
        memcpy(x + i, &b, sizeof b);
    }
    xlstm__relu_scalar(x + i, n - i);
}
XLSTM__VI void xlstm__conv16_v(float *Y, size_t ldy, const float *hist, size_t ldh, const float *X, size_t ldx, int n,
                               const float *wt, const float *b, int K) {
    xlstm__v16f w[XLSTM__CONV_K], bv, acc, v;
    int t, k;
    for (k = 0; k < K; k++) xlstm__vld(&w[k], wt + 16 * k);
    xlstm__vld(&bv, b);
    for (t = 0; t < n; t++) {
        xlstm__vld(&v, X + (size_t)t * ldx);
        acc = bv + w[K - 1] * v;
        for (k = 0; k < K - 1; k++) {
            xlstm__vld(&v, t + k < K - 1 ? hist + (size_t)(t + k) * ldh : X + (size_t)(t + k - (K - 1)) * ldx);
            acc += w[k] * v;
        }
        xlstm__vst(Y + (size_t)t * ldy, &acc);
    }
}
XLSTM__VI void xlstm__scale_v(float *y, const float *x, float a, int n) {
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        xlstm__v16f v;
        xlstm__vld(&v, x + i);
        v = a * v;
        xlstm__vst(y + i, &v);
    }
    xlstm__scale_scalar(y + i, x + i, a, n - i);
}
XLSTM__VI void xlstm__add_v(float *y, const float *x, int n) {
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        xlstm__v16f u, v;
        xlstm__vld(&u, y + i);
        xlstm__vld(&v, x + i);
        u += v;
        xlstm__vst(y + i, &u);
    }
    xlstm__add_scalar(y + i, x + i, n - i);
}
XLSTM__VI void xlstm__div_v(float *x, float d, int n) {
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        xlstm__v16f v;
        xlstm__vld(&v, x + i);
        v = v / d;
        xlstm__vst(x + i, &v);
    }
    xlstm__div_scalar(x + i, d, n - i);
}

/* Instantiate the vector bodies for one target: MR, NV the GEMM register
   tile, TILE4 a 4 x 4-vector tile for wide panels (or NULL), PU the sLSTM
   point's blocks side by side (1 where registers are few). */
/* KS picks the decode kernels and the matrix product's tile: empty for the
   64-byte ones, 8 for the 32-byte ones */
#define XLSTM__GEMM_TILE NULL
#define XLSTM__DOT_Q4_I8 NULL
#define XLSTM__DOT_Q8_I8 NULL
#define XLSTM__VEC_KERNELS(SUF, ATTR, MR, NV, TILE4, PU, KS)                                                                        \
    ATTR static float xlstm__dot_f32_##SUF(const unsigned char *r, const float *s, const float *x, int n) {       \
        return xlstm__dot_f32_v##KS(r, s, x, n);                                                                       \
    }                                                                                                              \
    ATTR static float xlstm__dot_bf16_##SUF(const unsigned char *r, const float *s, const float *x, int n) {      \
        return xlstm__dot_bf16_v##KS(r, s, x, n);                                                                      \
    }                                                                                                              \
    ATTR static float xlstm__dot_f16_##SUF(const unsigned char *r, const float *s, const float *x, int n) {       \
        return xlstm__dot_f16_v##KS(r, s, x, n);                                                                       \
    }                                                                                                              \
    ATTR static float xlstm__dot_q8_##SUF(const unsigned char *r, const float *s, const float *x, int n) {        \
        return xlstm__dot_q8_v##KS(r, s, x, n);                                                                        \
    }                                                                                                              \
    ATTR static void xlstm__silu_##SUF(float *x, int n) { xlstm__silu_v(x, n); }                                  \
    ATTR static void xlstm__transpose16_##SUF(float *o, size_t ldo, const float *in, size_t ldi) {                \
        xlstm__transpose16_v(o, ldo, in, ldi);                                                                     \
    }                                                                                                              \
    ATTR static void xlstm__headwise4_##SUF(const float *W, const float *x, const float *bias, float *y, int rows) { \
        xlstm__headwise4_v(W, x, bias, y, rows);                                                                   \
    }                                                                                                              \
    ATTR static void xlstm__dots_##SUF(const float *w, const float *X, size_t ldx, int nx, int n, float *out) {  \
        xlstm__dots_v##KS(w, X, ldx, nx, n, out);                                                                      \
    }                                                                                                              \
    ATTR static void xlstm__vecmat_##SUF(const float *x, const float *A, int K, int n, float *y) {               \
        xlstm__vecmat_v(x, A, K, n, y);                                                                            \
    }                                                                                                              \
    ATTR static void xlstm__vecmat_bf16_##SUF(const float *x, const uint16_t *A, int K, int n, float *y) {     \
        xlstm__vecmat_bf16_v(x, A, K, n, y);                                                                       \
    }                                                                                                              \
    ATTR static void xlstm__slstm_point_##SUF(const float *wx, size_t ldw, const float *ry, size_t ldr, const float *b, \
                                              size_t ldb, float *h, float *c, float *nn, float *m, int first, int bf16, \
                                              float f_cap, int n) {                                                \
        xlstm__slstm_point_v(wx, ldw, ry, ldr, b, ldb, h, c, nn, m, first, bf16, f_cap, n, PU);                    \
    }                                                                                                              \
    ATTR static void xlstm__rmsnorm_##SUF(float *y, const float *x, const float *w, const float *b, int n, float eps) { \
        xlstm__rmsnorm_v(y, x, w, b, n, eps);                                                                      \
    }                                                                                                              \
    ATTR static void xlstm__groupnorm_##SUF(float *y, const float *x, const float *w, int heads, int dh) {       \
        xlstm__groupnorm_v(y, x, w, heads, dh);                                                                    \
    }                                                                                                              \
    ATTR static void xlstm__relu_##SUF(float *x, int n) { xlstm__relu_v(x, n); }                                  \
    ATTR static void xlstm__scale_##SUF(float *y, const float *x, float a, int n) { xlstm__scale_v(y, x, a, n); }  \
    ATTR static void xlstm__add_##SUF(float *y, const float *x, int n) { xlstm__add_v(y, x, n); }                 \
    ATTR static void xlstm__div_##SUF(float *x, float d, int n) { xlstm__div_v(x, d, n); }                        \
    ATTR static void xlstm__conv16_##SUF(float *Y, size_t ldy, const float *hist, size_t ldh, const float *X,     \
                                         size_t ldx, int n, const float *wt, const float *b, int K) {             \
        xlstm__conv16_v(Y, ldy, hist, ldh, X, ldx, n, wt, b, K);                                                   \
    }                                                                                                              \
    ATTR static float xlstm__dot_bf16_eo_##SUF(const unsigned char *r, const float *x, int n) {                  \
        return xlstm__dot_bf16_eo_v##KS(r, x, n);                                                                      \
    }                                                                                                              \
    ATTR static float xlstm__dot_q4_##SUF(const unsigned char *r, const float *s, const float *x, int n) {        \
        return xlstm__dot_q4_v##KS(r, s, x, n);                                                                        \
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
    ATTR static void xlstm__gemm_##SUF(int M, int N, int P, const float *A, size_t a_rs, size_t a_cs, const float *B, \
                                       size_t ldb, float beta, float *C, size_t ldc) {                             \
        xlstm__gemm_v(M, N, P, A, a_rs, a_cs, B, ldb, beta, C, ldc, MR, NV, TILE4, XLSTM__GEMM_TILE##KS);                                \
    }                                                                                                              \
    ATTR static float xlstm__mlstm_head_##SUF(float *C, float *nv, const float *q, const float *k, const float *v, \
                                              float f, float i, int dk, int dv, float *h) {                        \
        return xlstm__mlstm_head_v##KS(C, nv, q, k, v, f, i, dk, dv, h);                                               \
    }                                                                                                              \
    static const xlstm__kern xlstm__kern_##SUF = {                                                                 \
        #SUF,                                                                                                      \
        {xlstm__dot_f32_##SUF, xlstm__dot_bf16_##SUF, xlstm__dot_f16_##SUF, xlstm__dot_q8_##SUF,                   \
         xlstm__dot_q4_##SUF},                                                                                     \
        {xlstm__deq_f32_##SUF, xlstm__deq_bf16_##SUF, xlstm__deq_f16_##SUF, xlstm__deq_q8_##SUF,                   \
         xlstm__deq_q4_##SUF},                                                                                     \
        xlstm__gemm_##SUF,                                                                                         \
        xlstm__mlstm_head_##SUF,                                                                                   \
        XLSTM__DOT_Q4_I8##KS,                                                                                      \
        XLSTM__DOT_Q8_I8##KS,                                                                                      \
        NULL,                                                                                                      \
        NULL,                                                                                                      \
        xlstm__dot_bf16_eo_##SUF,                                                                                  \
        xlstm__silu_##SUF,                                                                                         \
        xlstm__transpose16_##SUF,                                                                                  \
        xlstm__dots_##SUF,                                                                                         \
        xlstm__headwise4_##SUF,                                                                                    \
        xlstm__vecmat_##SUF,                                                                                       \
        xlstm__vecmat_bf16_##SUF,                                                                                  \
        xlstm__slstm_point_##SUF,                                                                                  \
        xlstm__rmsnorm_##SUF,                                                                                      \
        xlstm__groupnorm_##SUF,                                                                                    \
        xlstm__relu_##SUF,                                                                                         \
        xlstm__scale_##SUF,                                                                                        \
        xlstm__add_##SUF,                                                                                          \
        xlstm__div_##SUF,                                                                                          \
        xlstm__conv16_##SUF,                                                                                       \
    };

/* register tiles: 4 rows x 1 vector where a 16-float vector is 2 or 4
   registers (16 registers in all), 8 x 2 with AVX-512's 32 */
XLSTM__VEC_KERNELS(simd, , 4, 1, NULL, 1, )
#if defined(__x86_64__) || defined(__i386__)
#define XLSTM__HAVE_X86 1
/* ---- 32-byte decode kernels (the AVX2 table) ----------------------------
   GCC has no machine mode for a 64-byte vector below AVX-512, so a 64-byte
   vector that lives across loop iterations (an accumulator) stays in memory
   and moves through 8-byte pieces: built with GCC 12, the AVX2 table's
   64-byte kernels decoded the 125M model 3-5x slower than the AVX-512 table
   on the same CPU, and Clang's build of the same source ran level with it.
   These are the decode kernels again on vectors of AVX2's own width, with
   the sums grouped as in the 64-byte ones (8 lanes instead of 16). */
#define XLSTM__V8 XLSTM__VI __attribute__((target("avx2,fma")))
typedef uint32_t xlstm__v8u __attribute__((vector_size(32)));
typedef int32_t xlstm__v8i __attribute__((vector_size(32)));
typedef uint16_t xlstm__v8h __attribute__((vector_size(16)));
XLSTM__V8 void xlstm__vld8(xlstm__v8f *v, const void *p) { memcpy(v, p, sizeof *v); }
XLSTM__V8 float xlstm__vsum8(const xlstm__v8f *v) {
    xlstm__v4f c, d;
    memcpy(&c, v, sizeof c);
    memcpy(&d, XLSTM__CAST(const char *, XLSTM__CAST(const void *, v)) + sizeof c, sizeof d);
    c += d;
    return (c[0] + c[2]) + (c[1] + c[3]);
}
/* 8 bf16 values as floats */
XLSTM__V8 void xlstm__vld8_bf16(xlstm__v8f *v, const unsigned char *p) {
    xlstm__v8h h;
    xlstm__v8u u;
    memcpy(&h, p, sizeof h);
    u = __builtin_convertvector(h, xlstm__v8u) << 16;
    memcpy(v, &u, sizeof *v);
}
/* 8 f16 values, as xlstm__vld_f16 */
XLSTM__V8 void xlstm__vld8_f16(xlstm__v8f *v, const unsigned char *p) {
    xlstm__v8h h;
    xlstm__v8u u, em, normal, sub, is_sub;
    xlstm__v8f subf;
    memcpy(&h, p, sizeof h);
    u = __builtin_convertvector(h, xlstm__v8u);
    em = u & 0x7FFFu;
    normal = (em << 13) + 0x38000000u;
    subf = __builtin_convertvector(__builtin_convertvector(em & 0x3FFu, xlstm__v8i), xlstm__v8f) * 5.9604644775390625e-8f;
    memcpy(&sub, &subf, sizeof sub);
    is_sub = XLSTM__CAST(xlstm__v8u, em < 0x400u);
    u = ((normal & ~is_sub) | (sub & is_sub)) | ((u & 0x8000u) << 16);
    memcpy(v, &u, sizeof *v);
}
XLSTM__V8 void xlstm__vld8_f32b(xlstm__v8f *v, const unsigned char *p) { memcpy(v, p, sizeof *v); }
/* 32 weights a step (two lines of f32, one of 16-bit), four accumulators */
#define XLSTM__DOT8_LOOP(LOAD, ESIZE, SCALAR)                                              \
    xlstm__v8f a0, a1, a2, a3, w, xv;                                                      \
    float s;                                                                               \
    int i = 0;                                                                             \
    (void)scale;                                                                           \
    memset(&a0, 0, sizeof a0), a1 = a0, a2 = a0, a3 = a0;                                  \
    for (; i + 32 <= n; i += 32) {                                                         \
        const unsigned char *q = row + (size_t)i * ESIZE;                                  \
        __builtin_prefetch(q + XLSTM__PREFETCH);                                           \
        if (ESIZE == 4) __builtin_prefetch(q + XLSTM__PREFETCH + 64);                      \
        LOAD(&w, q), xlstm__vld8(&xv, x + i), a0 += w * xv;                                \
        LOAD(&w, q + 8 * ESIZE), xlstm__vld8(&xv, x + i + 8), a1 += w * xv;                \
        LOAD(&w, q + 16 * ESIZE), xlstm__vld8(&xv, x + i + 16), a2 += w * xv;              \
        LOAD(&w, q + 24 * ESIZE), xlstm__vld8(&xv, x + i + 24), a3 += w * xv;              \
    }                                                                                      \
    for (; i + 8 <= n; i += 8) LOAD(&w, row + (size_t)i * ESIZE), xlstm__vld8(&xv, x + i), a0 += w * xv; \
    a0 += a1, a2 += a3, a0 += a2;                                                          \
    s = xlstm__vsum8(&a0);                                                                 \
    return i < n ? s + SCALAR(row + (size_t)i * ESIZE, NULL, x + i, n - i) : s;
XLSTM__V8 float xlstm__dot_f32_v8(const unsigned char *row, const float *scale, const float *x, int n) {
    XLSTM__DOT8_LOOP(xlstm__vld8_f32b, 4, xlstm__dot_f32_scalar)
}
XLSTM__V8 float xlstm__dot_bf16_v8(const unsigned char *row, const float *scale, const float *x, int n) {
    XLSTM__DOT8_LOOP(xlstm__vld8_bf16, 2, xlstm__dot_bf16_scalar)
}
XLSTM__V8 float xlstm__dot_f16_v8(const unsigned char *row, const float *scale, const float *x, int n) {
    XLSTM__DOT8_LOOP(xlstm__vld8_f16, 2, xlstm__dot_f16_scalar)
}
/* bf16 against even/odd-split x: 32 bytes hold 8 (even, odd) pairs; a group
   of 32 weights has its 16 even x, then its 16 odd x (xlstm__even_odd) */
XLSTM__V8 float xlstm__dot_bf16_eo_v8(const unsigned char *row, const float *xeo, int n) {
    xlstm__v8f a0, a1, a2, a3, w, xv;
    xlstm__v8u u, t;
    int i = 0;
    memset(&a0, 0, sizeof a0), a1 = a0, a2 = a0, a3 = a0;
    for (; i + 32 <= n; i += 32) {
        const unsigned char *q = row + (size_t)i * 2;
        __builtin_prefetch(q + XLSTM__PREFETCH);
        memcpy(&u, q, sizeof u);
        t = u << 16, memcpy(&w, &t, sizeof w), xlstm__vld8(&xv, xeo + i), a0 += w * xv;
        t = u & 0xFFFF0000u, memcpy(&w, &t, sizeof w), xlstm__vld8(&xv, xeo + i + 16), a1 += w * xv;
        memcpy(&u, q + 32, sizeof u);
        t = u << 16, memcpy(&w, &t, sizeof w), xlstm__vld8(&xv, xeo + i + 8), a2 += w * xv;
        t = u & 0xFFFF0000u, memcpy(&w, &t, sizeof w), xlstm__vld8(&xv, xeo + i + 24), a3 += w * xv;
    }
    a0 += a1, a2 += a3, a0 += a2;
    return xlstm__vsum8(&a0) + (i < n ? xlstm__dot_bf16_scalar(row + (size_t)i * 2, NULL, xeo + i, n - i) : 0.0f);
}
/* q8 and q4 weights to floats through intrinsics: GCC 12 widens an 8-byte
   vector lane by lane through general registers */
XLSTM__V8 void xlstm__vld8_s8(xlstm__v8f *v, const unsigned char *p) {
    const __m256 f = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(XLSTM__CAST(const __m128i *, XLSTM__CAST(const void *, p)))));
    memcpy(v, &f, sizeof *v);
}
/* bytes p[0..7] of a q4 block (weights j and j + 16 in byte j): weights 0-7 (or 8-15) and 16-23 (or 24-31), q - 8 */
XLSTM__V8 void xlstm__q4x8_to_f(const unsigned char *p, xlstm__v8f *lo, xlstm__v8f *hi) {
    const __m256i u = _mm256_cvtepu8_epi32(_mm_loadl_epi64(XLSTM__CAST(const __m128i *, XLSTM__CAST(const void *, p))));
    const __m256i eight = _mm256_set1_epi32(8), fifteen = _mm256_set1_epi32(15);
    const __m256 l = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_and_si256(u, fifteen), eight));
    const __m256 h = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_srli_epi32(u, 4), eight));
    memcpy(lo, &l, sizeof *lo);
    memcpy(hi, &h, sizeof *hi);
}
/* one q8 block (32 weights) against its x */
XLSTM__V8 void xlstm__q8_block8(const unsigned char *q, const float *xb, xlstm__v8f *p) {
    xlstm__v8f w0, w1, x0, x1;
    xlstm__vld8_s8(&w0, q), xlstm__vld8_s8(&w1, q + 8), xlstm__vld8(&x0, xb), xlstm__vld8(&x1, xb + 8);
    *p = w0 * x0 + w1 * x1;
    xlstm__vld8_s8(&w0, q + 16), xlstm__vld8_s8(&w1, q + 24), xlstm__vld8(&x0, xb + 16), xlstm__vld8(&x1, xb + 24);
    *p += w0 * x0 + w1 * x1;
}
/* one q4 block (16 bytes) against its x */
XLSTM__V8 void xlstm__q4_block8(const unsigned char *q, const float *xb, xlstm__v8f *p) {
    xlstm__v8f l0, h0, l1, h1, x0, x1, x2, x3;
    xlstm__q4x8_to_f(q, &l0, &h0), xlstm__q4x8_to_f(q + 8, &l1, &h1);
    xlstm__vld8(&x0, xb), xlstm__vld8(&x1, xb + 8), xlstm__vld8(&x2, xb + 16), xlstm__vld8(&x3, xb + 24);
    *p = (l0 * x0 + l1 * x1) + (h0 * x2 + h1 * x3);
}
/* blocks two at a time into two accumulators, then the last one */
#define XLSTM__BLOCKS8(BLOCK, BBYTES, PF_EVERY)                                            \
    xlstm__v8f a0, a1, p;                                                                  \
    const int nb = n / XLSTM__QBLOCK;                                                      \
    int b;                                                                                 \
    memset(&a0, 0, sizeof a0), a1 = a0;                                                    \
    for (b = 0; b + 2 <= nb; b += 2) {                                                     \
        const unsigned char *q = row + (size_t)b * BBYTES;                                 \
        const float *xb = x + (size_t)b * XLSTM__QBLOCK;                                   \
        if (!(b % PF_EVERY)) __builtin_prefetch(q + XLSTM__PREFETCH);                      \
        BLOCK(q, xb, &p), a0 += scale[b] * p;                                              \
        BLOCK(q + BBYTES, xb + XLSTM__QBLOCK, &p), a1 += scale[b + 1] * p;                 \
    }                                                                                      \
    if (b < nb) BLOCK(row + (size_t)b * BBYTES, x + (size_t)b * XLSTM__QBLOCK, &p), a0 += scale[b] * p; \
    a0 += a1;                                                                              \
    return xlstm__vsum8(&a0);
XLSTM__V8 float xlstm__dot_q8_v8(const unsigned char *row, const float *scale, const float *x, int n) {
    XLSTM__BLOCKS8(xlstm__q8_block8, XLSTM__QBLOCK, 2)
}
XLSTM__V8 float xlstm__dot_q4_v8(const unsigned char *row, const float *scale, const float *x, int n) {
    XLSTM__BLOCKS8(xlstm__q4_block8, XLSTM__QBLOCK / 2, 4)
}
/* one f32 row against NX vectors (a batch's decode), 8 floats a step */
XLSTM__V8 void xlstm__dots_nx8(const float *w, const float *X, size_t ldx, int n, float *out, const int NX) {
    xlstm__v8f acc[8], w0, x0;
    int i = 0, v;
    for (v = 0; v < NX; v++) memset(&acc[v], 0, sizeof acc[v]);
    for (; i + 8 <= n; i += 8) {
        xlstm__vld8(&w0, w + i);
#pragma GCC unroll 8
        for (v = 0; v < NX; v++) xlstm__vld8(&x0, X + (size_t)v * ldx + i), acc[v] += w0 * x0;
    }
    for (v = 0; v < NX; v++) {
        const float *xv = X + (size_t)v * ldx;
        int j;
        out[v] = xlstm__vsum8(&acc[v]);
        for (j = i; j < n; j++) out[v] += w[j] * xv[j];
    }
}
XLSTM__V8 void xlstm__dots_v8(const float *w, const float *X, size_t ldx, int nx, int n, float *out) { XLSTM__DOTS_BY_8(xlstm__dots_nx8) }
/* The mLSTM step on one head, as xlstm__mlstm_head_v */
XLSTM__V8 float xlstm__mlstm_head_v8(float *C, float *nv, const float *q, const float *k, const float *v, float f,
                                     float i, int dk, int dv, float *h) {
    double qn = 0.0;
    int a, b;
    if (dv % 16) return xlstm__mlstm_head_scalar(C, nv, q, k, v, f, i, dk, dv, h);
    for (b = 0; b < dv; b += XLSTM__STRIP) { /* a strip's h stays in registers over all of dk */
        float *Cs = C + (size_t)b * dk;
        xlstm__v8f v0, v1, v2, v3, h0, h1, h2, h3, c0, c1, c2, c3;
        xlstm__vld8(&v0, v + b), xlstm__vld8(&v1, v + b + 8);
        memset(&h0, 0, sizeof h0), h1 = h0, h2 = h0, h3 = h0;
        if (dv - b >= 32) {
            xlstm__vld8(&v2, v + b + 16), xlstm__vld8(&v3, v + b + 24);
            for (a = 0; a < dk; a++) {
                const float ka = i * k[a], qa = q[a];
                float *Ca = Cs + (size_t)a * 32;
                __builtin_prefetch(Ca + XLSTM__PREFETCH / 4, 1); /* the memory is updated in place */
                xlstm__vld8(&c0, Ca), xlstm__vld8(&c1, Ca + 8), xlstm__vld8(&c2, Ca + 16), xlstm__vld8(&c3, Ca + 24);
                c0 = f * c0 + ka * v0, c1 = f * c1 + ka * v1, c2 = f * c2 + ka * v2, c3 = f * c3 + ka * v3;
                h0 += qa * c0, h1 += qa * c1, h2 += qa * c2, h3 += qa * c3;
                memcpy(Ca, &c0, sizeof c0), memcpy(Ca + 8, &c1, sizeof c1), memcpy(Ca + 16, &c2, sizeof c2), memcpy(Ca + 24, &c3, sizeof c3);
            }
            memcpy(h + b + 16, &h2, sizeof h2), memcpy(h + b + 24, &h3, sizeof h3);
        } else {
            for (a = 0; a < dk; a++) {
                const float ka = i * k[a], qa = q[a];
                float *Ca = Cs + (size_t)a * 16;
                __builtin_prefetch(Ca + XLSTM__PREFETCH / 4, 1);
                xlstm__vld8(&c0, Ca), xlstm__vld8(&c1, Ca + 8);
                c0 = f * c0 + ka * v0, c1 = f * c1 + ka * v1;
                h0 += qa * c0, h1 += qa * c1;
                memcpy(Ca, &c0, sizeof c0), memcpy(Ca + 8, &c1, sizeof c1);
            }
        }
        memcpy(h + b, &h0, sizeof h0), memcpy(h + b + 8, &h1, sizeof h1);
    }
    if (!nv) return 0.0f;
    for (a = 0; a < dk; a++) {
        nv[a] = f * nv[a] + i * k[a];
        qn += XLSTM__CAST(double, q[a]) * nv[a];
    }
    return XLSTM__CAST(float, qn);
}

/* C (mr x 16, += beta C) = A (mr rows) B over P, as xlstm__gemm_tile_v with
   MR 4 and NV 1: the same sum for each element, in the same order */
__attribute__((target("avx2,fma"))) static void xlstm__gemm_tile_avx2(int mr, int P, const float *A, size_t a_rs, size_t a_cs,
                                                                      const float *B, size_t ldb, float beta, float *Cm, size_t ldc) {
    xlstm__v8f acc[4][2], b0, b1, c;
    const float *ar[4];
    int i, p;
    for (i = 0; i < 4; i++) {
        ar[i] = A + (size_t)(i < mr ? i : mr - 1) * a_rs;
        memset(&acc[i][0], 0, sizeof acc[i][0]), acc[i][1] = acc[i][0];
    }
    for (p = 0; p < P; p++) {
        const size_t o = (size_t)p * a_cs;
        if (mr == 4 && a_cs == 1 && !(p & 15)) /* a weight tile streams from memory: fetch the next tile's rows */
            for (i = 0; i < 4; i++) __builtin_prefetch(ar[i] + o + 4 * a_rs);
        xlstm__vld8(&b0, B + (size_t)p * ldb), xlstm__vld8(&b1, B + (size_t)p * ldb + 8);
#pragma GCC unroll 4
        for (i = 0; i < 4; i++) {
            const float a = ar[i][o];
            acc[i][0] += b0 * a;
            acc[i][1] += b1 * a;
        }
    }
    for (i = 0; i < mr; i++) {
        float *ci = Cm + (size_t)i * ldc;
        for (p = 0; p < 2; p++) {
            if (beta != 0.0f) xlstm__vld8(&c, ci + 8 * p), acc[i][p] += beta * c;
            memcpy(ci + 8 * p, &acc[i][p], sizeof acc[i][p]);
        }
    }
}
#define XLSTM__GEMM_TILE8 xlstm__gemm_tile_avx2
/* q4 and q8 rows against x rounded to int8 (xlstm__quantize_x), the
   oracles' sums: vpmaddubsw multiplies unsigned bytes by signed ones and adds
   pairs into 16 bits (q4: nibbles 0-15; q8: |w| times x with w's sign, at
   most 2 * 128 * 127 < 2^15), vpmaddwd sums those into 8 lanes a block, and
   each lane takes x's step and 1/8 of its offset (the q4 nibbles' - 8) */
XLSTM__V8 void xlstm__i8_acc_avx2(__m256i pairs, const xlstm__xq *x, int b, int q4, float sw, __m256 *acc) {
    const __m256 d = _mm256_loadu_ps(x->d8 + (size_t)b * 8);
    const __m256 dot = _mm256_cvtepi32_ps(_mm256_madd_epi16(pairs, _mm256_set1_epi16(1)));
    const __m256 v = q4 ? _mm256_fmadd_ps(dot, d, _mm256_loadu_ps(x->off8 + (size_t)b * 8)) : _mm256_mul_ps(dot, d);
    *acc = _mm256_fmadd_ps(v, _mm256_set1_ps(sw), *acc);
}
XLSTM__V8 float xlstm__i8_sum_avx2(__m256 a0, __m256 a1) {
    xlstm__v8f v;
    a0 = _mm256_add_ps(a0, a1);
    memcpy(&v, &a0, sizeof v);
    return xlstm__vsum8(&v);
}
__attribute__((target("avx2,fma"))) static float xlstm__dot_q4_i8_avx2(const unsigned char *row, const float *scale, const xlstm__xq *x,
                                                                      int n) {
    const __m256i low4 = _mm256_set1_epi8(15);
    __m256 acc[2];
    const int nb = n / XLSTM__QBLOCK;
    int b;
    acc[0] = acc[1] = _mm256_setzero_ps();
    for (b = 0; b < nb; b++) {
        const unsigned char *q = row + (size_t)b * (XLSTM__QBLOCK / 2);
        const __m128i w = _mm_loadu_si128(XLSTM__CAST(const __m128i *, XLSTM__CAST(const void *, q)));
        const __m256i u = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(w, 4), w), low4); /* weights 0-15 | 16-31 */
        const __m256i xq = _mm256_loadu_si256(XLSTM__CAST(const __m256i *, XLSTM__CAST(const void *, x->q + (size_t)b * XLSTM__QBLOCK)));
        if (!(b & 3)) __builtin_prefetch(q + XLSTM__PREFETCH);
        xlstm__i8_acc_avx2(_mm256_maddubs_epi16(u, xq), x, b, 1, scale[b], &acc[b & 1]);
    }
    return xlstm__i8_sum_avx2(acc[0], acc[1]);
}
__attribute__((target("avx2,fma"))) static float xlstm__dot_q8_i8_avx2(const unsigned char *row, const float *scale, const xlstm__xq *x,
                                                                      int n) {
    __m256 acc[2];
    const int nb = n / XLSTM__QBLOCK;
    int b;
    acc[0] = acc[1] = _mm256_setzero_ps();
    for (b = 0; b < nb; b++) {
        const unsigned char *q = row + (size_t)b * XLSTM__QBLOCK;
        const __m256i w = _mm256_loadu_si256(XLSTM__CAST(const __m256i *, XLSTM__CAST(const void *, q)));
        const __m256i xq = _mm256_loadu_si256(XLSTM__CAST(const __m256i *, XLSTM__CAST(const void *, x->q + (size_t)b * XLSTM__QBLOCK)));
        if (!(b & 1)) __builtin_prefetch(q + XLSTM__PREFETCH);
        xlstm__i8_acc_avx2(_mm256_maddubs_epi16(_mm256_abs_epi8(w), _mm256_sign_epi8(xq, w)), x, b, 0, scale[b], &acc[b & 1]);
    }
    return xlstm__i8_sum_avx2(acc[0], acc[1]);
}
#define XLSTM__DOT_Q4_I88 xlstm__dot_q4_i8_avx2
#define XLSTM__DOT_Q8_I88 xlstm__dot_q8_i8_avx2
XLSTM__VEC_KERNELS(avx2, __attribute__((target("avx2,fma"))), 4, 1, NULL, 4, 8)
#if defined(XLSTM__HAVE_VNNI)
/* C (4 x 64, += beta C) = A (4 contiguous weight rows) B, in intrinsics: the
   same loop in vector extensions compiles to code that ran 10-15% slower
   with the weights streaming from memory (a register spill where beta stays
   live, integer-domain loads of B); each element's sum as xlstm__gemm_tile_v's. */
__attribute__((target("avx512f,fma"))) static void xlstm__gemm_tile4_avx512(int P, const float *A, size_t a_rs, const float *B, size_t ldb,
                                                                            float beta, float *C, size_t ldc) {
    __m512 acc[4][4];
    int i, v, p;
#pragma GCC unroll 4
    for (i = 0; i < 4; i++)
#pragma GCC unroll 4
        for (v = 0; v < 4; v++) acc[i][v] = _mm512_setzero_ps();
    for (p = 0; p < P; p++) {
        const float *b = B + (size_t)p * ldb;
        const __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16), b2 = _mm512_loadu_ps(b + 32), b3 = _mm512_loadu_ps(b + 48);
        if (!(p & 15)) /* the next tile's rows, a line each */
#pragma GCC unroll 4
            for (i = 0; i < 4; i++) _mm_prefetch(XLSTM__CAST(const char *, XLSTM__CAST(const void *, A + (size_t)(4 + i) * a_rs + p)), _MM_HINT_T0);
#pragma GCC unroll 4
        for (i = 0; i < 4; i++) {
            const __m512 a = _mm512_set1_ps(A[(size_t)i * a_rs + p]);
            acc[i][0] = _mm512_fmadd_ps(b0, a, acc[i][0]);
            acc[i][1] = _mm512_fmadd_ps(b1, a, acc[i][1]);
            acc[i][2] = _mm512_fmadd_ps(b2, a, acc[i][2]);
            acc[i][3] = _mm512_fmadd_ps(b3, a, acc[i][3]);
        }
    }
#pragma GCC unroll 4
    for (i = 0; i < 4; i++)
#pragma GCC unroll 4
        for (v = 0; v < 4; v++) {
            float *c = C + (size_t)i * ldc + 16 * v;
            if (beta != 0.0f) acc[i][v] = _mm512_fmadd_ps(_mm512_set1_ps(beta), _mm512_loadu_ps(c), acc[i][v]);
            _mm512_storeu_ps(c, acc[i][v]);
        }
}
#define XLSTM__TILE4_AVX512 xlstm__gemm_tile4_avx512
#else
#define XLSTM__TILE4_AVX512 NULL
#endif
XLSTM__VEC_KERNELS(avx512, __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma"))), 8, 2, XLSTM__TILE4_AVX512, 4, )

/* q4 x int8 with VNNI, two blocks (64 weights) per step: the 32 bytes become
   [block 0 | block 0 | block 1 | block 1] in 128-bit lanes, the second copy of
   each shifted down a nibble, so the bytes line up with x's 64 int8 values;
   vpdpbusd sums 4 products per 32-bit lane, 8 lanes per block; each lane
   becomes d * sum + off8 (the offset's share) times the block's weight
   scale. Intrinsics here only: vector extensions have no 8-bit dot product. */
#define XLSTM__VNNI_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,fma")))
#if defined(__GNUC__) && !defined(__clang__)
/* GCC's own intrinsics pass _mm512_undefined_*() operands, which its C++
   front end reports as uninitialised once inlined (GCC bug 105593) */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
XLSTM__VNNI_TARGET static float xlstm__dot_q4_i8_vnni(const unsigned char *row, const float *scale, const xlstm__xq *x,
                                                     int n) {
    const __m512i pair = _mm512_set_epi64(3, 2, 3, 2, 1, 0, 1, 0);
    const __m512i nibble = _mm512_set_epi16(4, 4, 4, 4, 4, 4, 4, 4, 0, 0, 0, 0, 0, 0, 0, 0, 4, 4, 4, 4, 4, 4, 4, 4, 0, 0, 0, 0, 0,
                                            0, 0, 0);
    const __m512i low4 = _mm512_set1_epi8(15);
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    const int nb = n / XLSTM__QBLOCK;
    int b = 0;
    float s;
    if (x->q4) { /* four blocks per step, x in its q4 layout: half the instructions per weight */
        const __m512i lane_block = _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0);
        for (; b + 4 <= nb; b += 4) {
            const unsigned char *q = row + (size_t)b * (XLSTM__QBLOCK / 2);
            const signed char *xg = x->q4 + (size_t)b * XLSTM__QBLOCK;
            const __m512i w = _mm512_loadu_si512(XLSTM__CAST(const void *, q));
            __m512i dot = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_and_si512(w, low4), _mm512_loadu_si512(XLSTM__CAST(const void *, xg)));
            __m512 v, sw;
            /* twice the usual distance, and the scales (a second stream, which the hardware alone
               fetched too late; a line covers 16 blocks) too: 4096-wide rows from memory on
               2 threads of the Zen 5 VM, 62-68 -> 72-78 GB/s */
            __builtin_prefetch(q + 2 * XLSTM__PREFETCH);
            if (!(b & 12)) __builtin_prefetch(scale + b + XLSTM__PREFETCH_SCALES);
            dot = _mm512_dpbusd_epi32(dot, _mm512_and_si512(_mm512_srli_epi16(w, 4), low4), _mm512_loadu_si512(XLSTM__CAST(const void *, xg + 64)));
            v = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_loadu_ps(x->d4 + (size_t)b * 4), _mm512_loadu_ps(x->o4 + (size_t)b * 4));
            sw = _mm512_permutexvar_ps(lane_block, _mm512_castps128_ps512(_mm_loadu_ps(scale + b)));
            if (b & 4) acc1 = _mm512_fmadd_ps(v, sw, acc1);
            else acc0 = _mm512_fmadd_ps(v, sw, acc0);
        }
    }
    for (; b + 2 <= nb; b += 2) {
        const unsigned char *q = row + (size_t)b * (XLSTM__QBLOCK / 2);
        __m512i w, xq, dot;
        __m512 sw, v;
        xlstm__v16i di;
        xlstm__v16f df;
        __builtin_prefetch(q + XLSTM__PREFETCH);
        w = _mm512_permutexvar_epi64(pair, _mm512_broadcast_i64x4(_mm256_loadu_si256(XLSTM__CAST(const __m256i *, XLSTM__CAST(const void *, q)))));
        w = _mm512_and_si512(_mm512_srlv_epi16(w, nibble), low4);
        xq = _mm512_loadu_si512(XLSTM__CAST(const void *, x->q + (size_t)b * XLSTM__QBLOCK));
        dot = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w, xq);
        memcpy(&di, &dot, sizeof di);
        df = __builtin_convertvector(di, xlstm__v16f);
        memcpy(&v, &df, sizeof v);
        sw = _mm512_mask_blend_ps(0xFF00, _mm512_set1_ps(scale[b]), _mm512_set1_ps(scale[b + 1]));
        v = _mm512_fmadd_ps(v, _mm512_loadu_ps(x->d8 + (size_t)b * 8), _mm512_loadu_ps(x->off8 + (size_t)b * 8));
        if (b & 2) acc1 = _mm512_fmadd_ps(v, sw, acc1);
        else acc0 = _mm512_fmadd_ps(v, sw, acc0);
    }
    s = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
    if (b < nb) {
        const xlstm__xq tail = xlstm__xq_from(x, (size_t)b * XLSTM__QBLOCK);
        s += xlstm__dot_q4_i8_scalar(row + (size_t)b * (XLSTM__QBLOCK / 2), scale + b, &tail, XLSTM__QBLOCK);
    }
    return s;
}
/* q8 x int8 with VNNI, two blocks (64 weights) per load: vpdpbusd wants one
   unsigned operand, so it gets |w| and x takes w's sign (x is within +-127,
   so negating it cannot overflow); then each lane times x's scale (dx) and
   the block's weight scale (sc[0], sc[1]), as the q4 kernel. */
XLSTM__VNNI_TARGET static __m512 xlstm__q8_i8_pair(const unsigned char *q, __m512i xq, __m512 dx, const float *sc) {
    const __m512i w = _mm512_loadu_si512(XLSTM__CAST(const void *, q));
    const __m512i sx = _mm512_mask_sub_epi8(xq, _mm512_movepi8_mask(w), _mm512_setzero_si512(), xq);
    const __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_abs_epi8(w), sx)), dx);
    return _mm512_mul_ps(v, _mm512_mask_blend_ps(0xFF00, _mm512_set1_ps(sc[0]), _mm512_set1_ps(sc[1])));
}
XLSTM__VNNI_TARGET static float xlstm__dot_q8_i8_vnni(const unsigned char *row, const float *scale, const xlstm__xq *x,
                                                     int n) {
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    const int nb = n / XLSTM__QBLOCK;
    int b;
    float s;
    for (b = 0; b + 2 <= nb; b += 2) {
        const unsigned char *q = row + (size_t)b * XLSTM__QBLOCK;
        const __m512 v = xlstm__q8_i8_pair(q, _mm512_loadu_si512(XLSTM__CAST(const void *, x->q + (size_t)b * XLSTM__QBLOCK)),
                                           _mm512_loadu_ps(x->d8 + (size_t)b * 8), scale + b);
        __builtin_prefetch(q + XLSTM__PREFETCH);
        if (b & 2) acc1 = _mm512_add_ps(acc1, v);
        else acc0 = _mm512_add_ps(acc0, v);
    }
    s = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
    if (b < nb) {
        const xlstm__xq tail = xlstm__xq_from(x, (size_t)b * XLSTM__QBLOCK);
        s += xlstm__dot_q8_i8_scalar(row + (size_t)b * XLSTM__QBLOCK, scale + b, &tail, XLSTM__QBLOCK);
    }
    return s;
}
/* Two q4 rows as two xlstm__dot_q4_i8_vnni calls compute them (the same
   accumulators, order and tail), each x load serving both; rows whose x has
   no q4 layout or whose blocks are not a multiple of 4 take it row by row. */
XLSTM__VNNI_TARGET static void xlstm__dot2_q4_i8_vnni(const unsigned char *row, size_t row_bytes, const float *scale,
                                                      size_t nblk, const xlstm__xq *x, int n, float *y) {
    const __m512i low4 = _mm512_set1_epi8(15);
    const __m512i lane_block = _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0);
    const unsigned char *r1 = row + row_bytes;
    const float *s1 = scale + nblk;
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), b0 = _mm512_setzero_ps(), b1 = _mm512_setzero_ps();
    const int nb = n / XLSTM__QBLOCK;
    int b;
    if (!x->q4 || nb % 4) {
        y[0] = xlstm__dot_q4_i8_vnni(row, scale, x, n);
        y[1] = xlstm__dot_q4_i8_vnni(r1, s1, x, n);
        return;
    }
    for (b = 0; b < nb; b += 4) {
        const signed char *xg = x->q4 + (size_t)b * XLSTM__QBLOCK;
        const __m512i xl = _mm512_loadu_si512(XLSTM__CAST(const void *, xg)), xh = _mm512_loadu_si512(XLSTM__CAST(const void *, xg + 64));
        const __m512 d4 = _mm512_loadu_ps(x->d4 + (size_t)b * 4), o4 = _mm512_loadu_ps(x->o4 + (size_t)b * 4);
        const __m512i w0 = _mm512_loadu_si512(XLSTM__CAST(const void *, row + (size_t)b * (XLSTM__QBLOCK / 2)));
        const __m512i w1 = _mm512_loadu_si512(XLSTM__CAST(const void *, r1 + (size_t)b * (XLSTM__QBLOCK / 2)));
        __m512i d0 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_and_si512(w0, low4), xl);
        __m512i d1 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_and_si512(w1, low4), xl);
        __m512 v0, v1, sw0, sw1;
        __builtin_prefetch(row + (size_t)b * (XLSTM__QBLOCK / 2) + 2 * XLSTM__PREFETCH);
        __builtin_prefetch(r1 + (size_t)b * (XLSTM__QBLOCK / 2) + 2 * XLSTM__PREFETCH);
        if (!(b & 12)) {
            __builtin_prefetch(scale + b + XLSTM__PREFETCH_SCALES);
            __builtin_prefetch(s1 + b + XLSTM__PREFETCH_SCALES);
        }
        d0 = _mm512_dpbusd_epi32(d0, _mm512_and_si512(_mm512_srli_epi16(w0, 4), low4), xh);
        d1 = _mm512_dpbusd_epi32(d1, _mm512_and_si512(_mm512_srli_epi16(w1, 4), low4), xh);
        v0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(d0), d4, o4);
        v1 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(d1), d4, o4);
        sw0 = _mm512_permutexvar_ps(lane_block, _mm512_castps128_ps512(_mm_loadu_ps(scale + b)));
        sw1 = _mm512_permutexvar_ps(lane_block, _mm512_castps128_ps512(_mm_loadu_ps(s1 + b)));
        if (b & 4) {
            a1 = _mm512_fmadd_ps(v0, sw0, a1);
            b1 = _mm512_fmadd_ps(v1, sw1, b1);
        } else {
            a0 = _mm512_fmadd_ps(v0, sw0, a0);
            b0 = _mm512_fmadd_ps(v1, sw1, b0);
        }
    }
    y[0] = _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
    y[1] = _mm512_reduce_add_ps(_mm512_add_ps(b0, b1));
}
XLSTM__VNNI_TARGET static void xlstm__dot4_q8_i8_vnni(const unsigned char *row, size_t row_bytes, const float *scale,
                                                      size_t nblk, const xlstm__xq *x, int n, float *y) {
    __m512 acc[4];
    const int nb = n / XLSTM__QBLOCK;
    int b, i;
    for (i = 0; i < 4; i++) acc[i] = _mm512_setzero_ps();
    for (b = 0; b + 2 <= nb; b += 2) {
        const __m512i xq = _mm512_loadu_si512(XLSTM__CAST(const void *, x->q + (size_t)b * XLSTM__QBLOCK));
        const __m512 dx = _mm512_loadu_ps(x->d8 + (size_t)b * 8);
        for (i = 0; i < 4; i++) {
            const unsigned char *q = row + (size_t)i * row_bytes + (size_t)b * XLSTM__QBLOCK;
            __builtin_prefetch(q + XLSTM__PREFETCH);
            acc[i] = _mm512_add_ps(acc[i], xlstm__q8_i8_pair(q, xq, dx, scale + (size_t)i * nblk + b));
        }
    }
    for (i = 0; i < 4; i++) {
        y[i] = _mm512_reduce_add_ps(acc[i]);
        if (b < nb) {
            const xlstm__xq tail = xlstm__xq_from(x, (size_t)b * XLSTM__QBLOCK);
            y[i] += xlstm__dot_q8_i8_scalar(row + (size_t)i * row_bytes + (size_t)b * XLSTM__QBLOCK, scale + (size_t)i * nblk + b, &tail,
                                            XLSTM__QBLOCK);
        }
    }
}
/* ---- weight rows off a cache line ------------------------------------------------
   Hugging Face pads a safetensors header to 8 bytes only, and a small tensor
   (a 16-byte gate bias) between two matrices shifts every row after it, so
   a mapped or borrowed model's rows can start anywhere in a line. Then each
   64-byte load of the plain kernels touches two lines, and bf16 and f32 rows
   streaming from memory read 25-40% slower. These two read every line once,
   aligned, and rebuild each unaligned vector with one two-source permute: the
   vectors, and so the sums, are exactly the plain kernels' (their oracles).
   Rows whose start is not a multiple of 4 bytes, and short ones, take the
   plain kernel. Aligned loads cover only lines that lie wholly inside the
   row; its first and last lines are read as the plain kernel reads them. */
XLSTM__VNNI_TARGET static __m512i xlstm__line_shift(const unsigned char *row) {
    const __m512i lanes = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    return _mm512_add_epi32(lanes, _mm512_set1_epi32(XLSTM__CAST(int, XLSTM__ADDR(row) % 64 / 4)));
}
/* the 64 bytes after an aligned line a, of which b is the next */
#define XLSTM__LINES(u, a, b, shift)                                         \
    do {                                                                     \
        const __m512i joined_ = _mm512_permutex2var_epi32(a, shift, b);      \
        memcpy(&(u), &joined_, sizeof(u));                                   \
    } while (0)
XLSTM__VNNI_TARGET static float xlstm__dot_bf16_eo_lines(const unsigned char *row, const float *xeo, int n) {
    const unsigned char *line = row - XLSTM__ADDR(row) % 64;
    xlstm__v16f acc[4];
    xlstm__v16u u;
    __m512i shift, l0, l1, l2;
    int i = 0;
    if (line == row || XLSTM__ADDR(row) % 4 || n < 160) return xlstm__dot_bf16_eo_avx512(row, xeo, n);
    shift = xlstm__line_shift(row);
    xlstm__vzero(&acc[0]), acc[1] = acc[0], acc[2] = acc[0], acc[3] = acc[0];
    l2 = _mm512_setzero_si512();
    for (; i + 96 <= n; i += 64) { /* the line at element i + 64 lies inside the row */
        const unsigned char *q = line + (size_t)i * 2;
        __builtin_prefetch(q + XLSTM__PREFETCH);
        __builtin_prefetch(q + XLSTM__PREFETCH + 64);
        l0 = l2;
        l1 = _mm512_load_si512(XLSTM__CAST(const void *, q + 64));
        l2 = _mm512_load_si512(XLSTM__CAST(const void *, q + 128));
        if (i) XLSTM__LINES(u, l0, l1, shift);
        else memcpy(&u, row, sizeof u); /* the row's first line starts before it */
        xlstm__eo_fma(&u, xeo + i, &acc[0], &acc[1]);
        XLSTM__LINES(u, l1, l2, shift);
        xlstm__eo_fma(&u, xeo + i + 32, &acc[2], &acc[3]);
    }
    return xlstm__dot_bf16_eo_from(row, xeo, n, i, acc);
}
XLSTM__VNNI_TARGET static float xlstm__dot_f32_lines(const unsigned char *row, const float *scale, const float *x, int n) {
    const unsigned char *line = row - XLSTM__ADDR(row) % 64;
    __m512i shift, l0, l1, l2, l3, l4;
    XLSTM__DOT_VARS
    if (line == row || XLSTM__ADDR(row) % 4 || n < 160) return xlstm__dot_f32_avx512(row, scale, x, n);
    shift = xlstm__line_shift(row);
    l4 = _mm512_setzero_si512();
    for (; i + 80 <= n; i += 64) { /* the line at element i + 64 lies inside the row */
        const unsigned char *q = line + (size_t)i * 4;
        __builtin_prefetch(q + XLSTM__PREFETCH);
        __builtin_prefetch(q + XLSTM__PREFETCH + 64);
        l0 = l4;
        l1 = _mm512_load_si512(XLSTM__CAST(const void *, q + 64));
        l2 = _mm512_load_si512(XLSTM__CAST(const void *, q + 128));
        l3 = _mm512_load_si512(XLSTM__CAST(const void *, q + 192));
        l4 = _mm512_load_si512(XLSTM__CAST(const void *, q + 256));
        if (i) XLSTM__LINES(w0, l0, l1, shift);
        else xlstm__vld_f32b(&w0, row); /* the row's first line starts before it */
        XLSTM__LINES(w1, l1, l2, shift);
        XLSTM__LINES(w2, l2, l3, shift);
        XLSTM__LINES(w3, l3, l4, shift);
        xlstm__vld(&x0, x + i);
        xlstm__vld(&x1, x + i + 16);
        xlstm__vld(&x2, x + i + 32);
        xlstm__vld(&x3, x + i + 48);
        a0 += w0 * x0;
        a1 += w1 * x1;
        a2 += w2 * x2;
        a3 += w3 * x3;
    }
    XLSTM__DOT_REST(xlstm__vld_f32b, 4)
    for (; i < n; i++) s += xlstm__dot_f32_scalar(row + 4 * (size_t)i, NULL, x + i, 1);
    return s;
}
/* ---- fast prompts (xlstm_model_params.fast_prompts) ----------------------------
   A prompt chunk's matrix products on rounded activations: bf16 weights
   against x rounded to bf16 (vdpbf16ps), q8 and q4 weights against x rounded
   to int8 per block of 32 as xlstm__quantize_x rounds it (vpdpbusd). X is
   packed once per product, transposed so that one register holds one pair
   (bf16) or quad (int8) of columns of 16 input vectors; a weight row's pair
   or quad is broadcast against it, so the weights are read where they lie.
   A register tile is XLSTM__FMR weight rows by 64 (bf16) or 32 (int8)
   vectors. The oracles are xlstm__fast_dot_bf16_scalar and
   xlstm__fast_dot_i8_scalar. */
#define XLSTM__HAVE_FAST 1
#define XLSTM__FMR 6

/* One block of 32 floats rounded to int8 as xlstm__quantize_x rounds them,
   stored offset by 128 (vpdpbusd's unsigned operand); returns the scale. */
XLSTM__VNNI_TARGET static float xlstm__fast_quant_block(const float *x, unsigned char *q) {
    const __m512i abs = _mm512_set1_epi32(0x7FFFFFFF);
    const __m512 lo = _mm512_loadu_ps(x), hi = _mm512_loadu_ps(x + 16);
    const uint32_t umax = XLSTM__CAST(uint32_t, _mm512_reduce_max_epu32(_mm512_max_epu32(
        _mm512_and_si512(_mm512_castps_si512(lo), abs), _mm512_and_si512(_mm512_castps_si512(hi), abs))));
    const __m512 half = _mm512_set1_ps(0.5f), mhalf = _mm512_set1_ps(-0.5f), zero = _mm512_setzero_ps();
    const __m128i off = _mm_set1_epi8(XLSTM__CAST(char, -128));
    float amax, id;
    __m512 f0, f1;
    memcpy(&amax, &umax, 4);
    if (umax >= 0x7F800000u || !(amax >= 1e-30f)) { /* inf, NaN, zero or tiny: the scalar rule's own branches */
        signed char qs[XLSTM__QBLOCK];
        float d8[8], off8[8];
        xlstm__xq o;
        int i;
        o.q = qs, o.d8 = d8, o.off8 = off8, o.q4 = NULL, o.d4 = NULL, o.o4 = NULL;
        xlstm__quantize_x(x, XLSTM__QBLOCK, &o);
        for (i = 0; i < XLSTM__QBLOCK; i++) q[i] = XLSTM__CAST(unsigned char, qs[i] + 128);
        return d8[0];
    }
    id = 127.0f / amax;
    f0 = _mm512_mul_ps(lo, _mm512_set1_ps(id));
    f1 = _mm512_mul_ps(hi, _mm512_set1_ps(id));
    f0 = _mm512_add_ps(f0, _mm512_mask_blend_ps(_mm512_cmp_ps_mask(f0, zero, _CMP_GE_OQ), mhalf, half));
    f1 = _mm512_add_ps(f1, _mm512_mask_blend_ps(_mm512_cmp_ps_mask(f1, zero, _CMP_GE_OQ), mhalf, half));
    _mm_storeu_si128(XLSTM__CAST(__m128i *, XLSTM__CAST(void *, q)), _mm_xor_si128(_mm512_cvtepi32_epi8(_mm512_cvttps_epi32(f0)), off));
    _mm_storeu_si128(XLSTM__CAST(__m128i *, XLSTM__CAST(void *, q + 16)), _mm_xor_si128(_mm512_cvtepi32_epi8(_mm512_cvttps_epi32(f1)), off));
    return amax / 127.0f;
}

/* Blocks b0, b0 + 1 (nbb of them, 1 or 2) of the vectors X[0 .. 16) (zeros
   from nv on), rounded: xq[((b * 8 + k) * np + j) * 4 + i] = q_j[32 (b0 + b)
   + 4 k + i] + 128 and xd[b * np + j] = its scale (xq and xd start at b0). */
XLSTM__VNNI_TARGET static void xlstm__fast_pack_i8(unsigned char *xq, float *xd, size_t np, const float *X, size_t ldx, int nv,
                                                   int b0, int nbb) {
    float tmp[256], tr[256];
    int j, b, r;
    memset(tmp, 0, sizeof tmp);
    for (j = 0; j < nv; j++)
        for (b = 0; b < nbb; b++) {
            unsigned char *q = XLSTM__CAST(unsigned char *, XLSTM__CAST(void *, tmp + 16 * j)) + 32 * b;
            xd[XLSTM__CAST(size_t, b) * np + j] = xlstm__fast_quant_block(X + XLSTM__CAST(size_t, j) * ldx + 32 * XLSTM__CAST(size_t, b0 + b), q);
        }
    for (; j < 16; j++)
        for (b = 0; b < nbb; b++) xd[XLSTM__CAST(size_t, b) * np + j] = 0.0f;
    xlstm__transpose16_avx512(tr, 16, tmp, 16); /* 32-bit moves: the bytes go through unchanged */
    for (r = 0; r < 8 * nbb; r++) memcpy(xq + XLSTM__CAST(size_t, r) * np * 4, tr + 16 * r, 64);
}

/* q4 rows (nb blocks) as int8 weights, nibble - 8 (xlstm__dot_q4_i8_scalar's order) */
XLSTM__VNNI_TARGET static void xlstm__fast_unpack_q4(signed char *out, const unsigned char *row, int nb) {
    const __m128i low4 = _mm_set1_epi8(15), eight = _mm_set1_epi8(8);
    int b;
    for (b = 0; b < nb; b++) {
        const __m128i v = _mm_loadu_si128(XLSTM__CAST(const __m128i *, XLSTM__CAST(const void *, row + 16 * b)));
        _mm_storeu_si128(XLSTM__CAST(__m128i *, XLSTM__CAST(void *, out + 32 * b)), _mm_sub_epi8(_mm_and_si128(v, low4), eight));
        _mm_storeu_si128(XLSTM__CAST(__m128i *, XLSTM__CAST(void *, out + 32 * b + 16)),
                         _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(v, 4), low4), eight));
    }
}

/* corr[t * nb + b] = -128 (sum of row t's block b) for XLSTM__FMR int8 rows:
   what the +128 of x adds to each block's sum. Four blocks per two vpsadbw
   (sums of 8 bytes, w + 128 as unsigned) and a reduction across lanes. */
XLSTM__VNNI_TARGET static void xlstm__fast_i8_corr(const signed char *w, size_t ldw, int nb, int32_t *corr) {
    const __m512i sign = _mm512_set1_epi8(XLSTM__CAST(char, -128)), zero = _mm512_setzero_si512();
    int t, b, i;
    for (t = 0; t < XLSTM__FMR; t++) {
        const signed char *row = w + XLSTM__CAST(size_t, t) * ldw;
        int32_t *c = corr + XLSTM__CAST(size_t, t) * nb;
        for (b = 0; b + 4 <= nb; b += 4) {
            const __m512i A = _mm512_sad_epu8(_mm512_xor_si512(_mm512_loadu_si512(XLSTM__CAST(const void *, row + 32 * b)), sign), zero);
            const __m512i B = _mm512_sad_epu8(_mm512_xor_si512(_mm512_loadu_si512(XLSTM__CAST(const void *, row + 32 * b + 64)), sign), zero);
            const __m512i C = _mm512_add_epi64(_mm512_unpacklo_epi64(A, B), _mm512_unpackhi_epi64(A, B));
            const __m512i D = _mm512_add_epi64(C, _mm512_shuffle_i64x2(C, C, _MM_SHUFFLE(2, 3, 0, 1)));
            int64_t s[8];
            _mm512_storeu_si512(XLSTM__CAST(void *, s), D);
            /* lane 0 holds blocks b and b + 2, lane 2 blocks b + 1 and b + 3 */
            c[b] = -128 * XLSTM__CAST(int32_t, s[0] - 4096), c[b + 2] = -128 * XLSTM__CAST(int32_t, s[1] - 4096);
            c[b + 1] = -128 * XLSTM__CAST(int32_t, s[4] - 4096), c[b + 3] = -128 * XLSTM__CAST(int32_t, s[5] - 4096);
        }
        for (; b < nb; b++) {
            int32_t sum = 0;
            for (i = 0; i < XLSTM__QBLOCK; i++) sum += row[32 * b + i];
            c[b] = -128 * sum;
        }
    }
}

/* out[t * 32 + j] = sum_b ws[t * lds + b] (d_jb (sum_i q_jbi w_tbi)) for the
   XLSTM__FMR int8 rows w (ldw apart) and 16 NJ vectors packed by
   xlstm__fast_pack_i8: each block's integer sum starts from corr and
   gathers the products of x + 128 (exact in int32), then scales into f32. */
XLSTM__VNNI_TARGET static inline __attribute__((always_inline)) void
xlstm__fast_i8_tile_k(const signed char *w, size_t ldw, const float *ws, size_t lds, const int32_t *corr, const unsigned char *xq,
                      const float *xd, size_t np, int nb, float *out, const int NJ) {
    __m512 af[XLSTM__FMR][2];
    int t, v, b, k;
    #pragma GCC unroll 8
    for (t = 0; t < XLSTM__FMR; t++)
        #pragma GCC unroll 8
        for (v = 0; v < NJ; v++) af[t][v] = _mm512_setzero_ps();
    for (b = 0; b < nb; b++) {
        __m512i ai[XLSTM__FMR][2], xv[2];
        __m512 dv[2];
        #pragma GCC unroll 8
        for (t = 0; t < XLSTM__FMR; t++)
            #pragma GCC unroll 8
            for (v = 0; v < NJ; v++) ai[t][v] = _mm512_set1_epi32(corr[XLSTM__CAST(size_t, t) * nb + b]);
#pragma GCC unroll 8
        for (k = 0; k < 8; k++) {
            const unsigned char *xk = xq + XLSTM__CAST(size_t, b * 8 + k) * np * 4;
            #pragma GCC unroll 8
            for (v = 0; v < NJ; v++) xv[v] = _mm512_loadu_si512(XLSTM__CAST(const void *, xk + 64 * v));
            #pragma GCC unroll 8
            for (t = 0; t < XLSTM__FMR; t++) {
                int32_t u;
                __m512i wb;
                memcpy(&u, w + XLSTM__CAST(size_t, t) * ldw + 32 * b + 4 * k, 4);
                wb = _mm512_set1_epi32(u);
                #pragma GCC unroll 8
                for (v = 0; v < NJ; v++) ai[t][v] = _mm512_dpbusd_epi32(ai[t][v], xv[v], wb);
            }
        }
        #pragma GCC unroll 8
        for (v = 0; v < NJ; v++) dv[v] = _mm512_loadu_ps(xd + XLSTM__CAST(size_t, b) * np + 16 * v);
        #pragma GCC unroll 8
        for (t = 0; t < XLSTM__FMR; t++) {
            const __m512 sc = _mm512_set1_ps(ws[XLSTM__CAST(size_t, t) * lds + b]);
            #pragma GCC unroll 8
            for (v = 0; v < NJ; v++) af[t][v] = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(ai[t][v]), dv[v]), sc, af[t][v]);
        }
    }
    #pragma GCC unroll 8
    for (t = 0; t < XLSTM__FMR; t++)
        #pragma GCC unroll 8
        for (v = 0; v < NJ; v++) _mm512_storeu_ps(out + 32 * t + 16 * v, af[t][v]);
}
XLSTM__VNNI_TARGET static void xlstm__fast_i8_tile(const signed char *w, size_t ldw, const float *ws, size_t lds, const int32_t *corr,
                                                   const unsigned char *xq, const float *xd, size_t np, int nb, float *out) {
    if (np > 16) xlstm__fast_i8_tile_k(w, ldw, ws, lds, corr, xq, xd, np, nb, out, 2);
    else xlstm__fast_i8_tile_k(w, ldw, ws, lds, corr, xq, xd, np, nb, out, 1);
}

/* bf16 needs a compiler that knows AVX-512 BF16, its intrinsics and its
   __builtin_cpu_supports name (GCC 11, Clang 14: the versions checked) */
#if (defined(__clang__) && __clang_major__ >= 14) || (!defined(__clang__) && defined(__GNUC__) && __GNUC__ >= 11)
#define XLSTM__HAVE_FAST_BF16 1
#define XLSTM__BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16,fma")))
/* 16 floats' bits rounded as xlstm__round_bf16 rounds (the bf16 in the high half) */
XLSTM__BF16_TARGET static __m512i xlstm__fast_rbf16(__m512 x) {
    const __m512i u = _mm512_castps_si512(x);
    const __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(u, _mm512_set1_epi32(0x7FFFFFFF)), _mm512_set1_epi32(0x7F800000));
    const __m512i r = _mm512_add_epi32(u, _mm512_add_epi32(_mm512_set1_epi32(0x7FFF), _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1))));
    return _mm512_mask_mov_epi32(r, nan, _mm512_or_si512(u, _mm512_set1_epi32(0x400000)));
}

/* Columns [2 p0, 2 p0 + 2 pc) (pc <= 16 pairs) of the vectors X[0 .. 16)
   (zeros from nv on) as rounded bf16 pairs: xp[p * np + j] holds x_j[2 (p0 +
   p)] in its low half and x_j[2 (p0 + p) + 1] in its high half. */
XLSTM__BF16_TARGET static void xlstm__fast_pack_bf16(float *xp, size_t np, const float *X, size_t ldx, int nv, int p0, int pc) {
    /* the high halves of 32 rounded floats, in order: 16-bit words 1, 3, .., 63 of the pair */
    static const uint16_t odd[32] = {1,  3,  5,  7,  9,  11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31,
                                     33, 35, 37, 39, 41, 43, 45, 47, 49, 51, 53, 55, 57, 59, 61, 63};
    const __m512i idx = _mm512_loadu_si512(XLSTM__CAST(const void *, odd));
    const __mmask16 m0 = XLSTM__CAST(__mmask16, pc >= 8 ? 0xFFFFu : (1u << (2 * pc)) - 1u);
    const __mmask16 m1 = XLSTM__CAST(__mmask16, pc >= 16 ? 0xFFFFu : pc > 8 ? (1u << (2 * pc - 16)) - 1u : 0u);
    float tmp[256], tr[256];
    int j, p;
    for (j = 0; j < 16; j++) {
        __m512i v = _mm512_setzero_si512();
        if (j < nv) {
            const float *x = X + XLSTM__CAST(size_t, j) * ldx + 2 * XLSTM__CAST(size_t, p0);
            v = _mm512_permutex2var_epi16(xlstm__fast_rbf16(_mm512_maskz_loadu_ps(m0, x)), idx,
                                          xlstm__fast_rbf16(_mm512_maskz_loadu_ps(m1, x + 16)));
        }
        _mm512_storeu_si512(XLSTM__CAST(void *, tmp + 16 * j), v);
    }
    if (pc == 16) {
        xlstm__transpose16_avx512(xp, np, tmp, 16);
        return;
    }
    xlstm__transpose16_avx512(tr, 16, tmp, 16);
    for (p = 0; p < pc; p++) memcpy(xp + XLSTM__CAST(size_t, p) * np, tr + 16 * p, 64);
}

/* An f32 or f16 row (n even) rounded to bf16 as xlstm__round_bf16 rounds
   (f16 widened exactly first): the tiles of f32 and f16 weights. */
XLSTM__BF16_TARGET static void xlstm__fast_row_bf16(unsigned char *out, const unsigned char *row, int dtype, int n) {
    static const uint16_t odd[32] = {1,  3,  5,  7,  9,  11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31,
                                     33, 35, 37, 39, 41, 43, 45, 47, 49, 51, 53, 55, 57, 59, 61, 63};
    const __m512i idx = _mm512_loadu_si512(XLSTM__CAST(const void *, odd));
    int c;
    for (c = 0; c < n; c += 32) {
        const int left = n - c < 32 ? n - c : 32;
        const __mmask16 m0 = XLSTM__CAST(__mmask16, left >= 16 ? 0xFFFFu : (1u << left) - 1u);
        const __mmask16 m1 = XLSTM__CAST(__mmask16, left >= 32 ? 0xFFFFu : left > 16 ? (1u << (left - 16)) - 1u : 0u);
        __m512 a, b;
        if (dtype == XLSTM__DT_F16) {
            a = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m0, XLSTM__CAST(const void *, row + 2 * XLSTM__CAST(size_t, c))));
            b = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m1, XLSTM__CAST(const void *, row + 2 * XLSTM__CAST(size_t, c) + 32)));
        } else {
            a = _mm512_maskz_loadu_ps(m0, XLSTM__CAST(const void *, row + 4 * XLSTM__CAST(size_t, c)));
            b = _mm512_maskz_loadu_ps(m1, XLSTM__CAST(const void *, row + 4 * XLSTM__CAST(size_t, c) + 64));
        }
        _mm512_mask_storeu_epi16(XLSTM__CAST(void *, out + 2 * XLSTM__CAST(size_t, c)),
                                 XLSTM__CAST(__mmask32, left >= 32 ? 0xFFFFFFFFu : (1u << left) - 1u),
                                 _mm512_permutex2var_epi16(xlstm__fast_rbf16(a), idx, xlstm__fast_rbf16(b)));
    }
}

/* out[t * 64 + j] = w_t . x_j for XLSTM__FMR bf16 rows w (ldw bytes apart,
   npairs pairs) and 16 NJ vectors packed by xlstm__fast_pack_bf16: one
   accumulator per (row, 16 vectors) through all pairs in order */
XLSTM__BF16_TARGET static inline __attribute__((always_inline)) void
xlstm__fast_bf16_tile_k(const unsigned char *w, size_t ldw, const float *xp, size_t np, int npairs, float *out, const int NJ) {
    __m512 acc[XLSTM__FMR][4];
    int t, v, p;
    #pragma GCC unroll 8
    for (t = 0; t < XLSTM__FMR; t++)
        #pragma GCC unroll 8
        for (v = 0; v < NJ; v++) acc[t][v] = _mm512_setzero_ps();
    for (p = 0; p < npairs; p++) {
        __m512i xv[4];
        if (!(p & 15)) /* the next tile's rows (those that follow), a line each: the weights come from memory */
            #pragma GCC unroll 8
            for (t = 0; t < XLSTM__FMR; t++) _mm_prefetch(XLSTM__CAST(const char *, XLSTM__CAST(const void *, w + XLSTM__CAST(size_t, XLSTM__FMR + t) * ldw + 4 * XLSTM__CAST(size_t, p))), _MM_HINT_T0);
        #pragma GCC unroll 8
        for (v = 0; v < NJ; v++) xv[v] = _mm512_loadu_si512(XLSTM__CAST(const void *, xp + XLSTM__CAST(size_t, p) * np + 16 * v));
        #pragma GCC unroll 8
        for (t = 0; t < XLSTM__FMR; t++) {
            int32_t u;
            __m512i wb;
            memcpy(&u, w + XLSTM__CAST(size_t, t) * ldw + 4 * XLSTM__CAST(size_t, p), 4);
            wb = _mm512_set1_epi32(u);
            #pragma GCC unroll 8
            for (v = 0; v < NJ; v++) acc[t][v] = _mm512_dpbf16_ps(acc[t][v], (__m512bh)xv[v], (__m512bh)wb);
        }
    }
    #pragma GCC unroll 8
    for (t = 0; t < XLSTM__FMR; t++)
        #pragma GCC unroll 8
        for (v = 0; v < NJ; v++) _mm512_storeu_ps(out + 64 * t + 16 * v, acc[t][v]);
}
XLSTM__BF16_TARGET static void xlstm__fast_bf16_tile(const unsigned char *w, size_t ldw, const float *xp, size_t np, int npairs, float *out) {
    switch (np) {
    case 16: xlstm__fast_bf16_tile_k(w, ldw, xp, np, npairs, out, 1); break;
    case 32: xlstm__fast_bf16_tile_k(w, ldw, xp, np, npairs, out, 2); break;
    case 48: xlstm__fast_bf16_tile_k(w, ldw, xp, np, npairs, out, 3); break;
    default: xlstm__fast_bf16_tile_k(w, ldw, xp, np, npairs, out, 4); break;
    }
}
/* xlstm__vecmat_bf16 by vdpbf16ps, on CPUs with AVX-512 BF16: each 32-bit
   lane multiplies a column's pair of rows by x's pair in one instruction
   (exact products, summed in f32 as the reference's bf16 matmul sums them,
   the pair's two in the instruction's order); half the instructions per
   weight of widening to f32, and the pass reads its block as one stream */
XLSTM__BF16_TARGET static inline __attribute__((always_inline)) void
xlstm__vecmat_bf16_block_dp(const float *x, const unsigned char *r, int K, size_t w, float *y, const int nv) {
    __m512 acc[16];
    int p, j;
#pragma GCC unroll 16
    for (j = 0; j < nv; j++) acc[j] = _mm512_setzero_ps();
    for (p = 0; 2 * p < K; p++, r += 4 * w) {
        const float x0 = xlstm__round_bf16(x[2 * p]), x1 = 2 * p + 1 < K ? xlstm__round_bf16(x[2 * p + 1]) : 0.0f;
        uint32_t lo, hi;
        __m512i xb;
        memcpy(&lo, &x0, 4), memcpy(&hi, &x1, 4);
        xb = _mm512_set1_epi32(XLSTM__CAST(int32_t, (lo >> 16) | (hi & 0xFFFF0000u)));
#pragma GCC unroll 16
        for (j = 0; j < nv; j++) acc[j] = _mm512_dpbf16_ps(acc[j], (__m512bh)_mm512_loadu_si512(XLSTM__CAST(const void *, r + 64 * j)), (__m512bh)xb);
    }
#pragma GCC unroll 16
    for (j = 0; j < nv; j++) _mm512_storeu_ps(y + 16 * j, acc[j]);
}
XLSTM__BF16_TARGET static void xlstm__vecmat_bf16_dp(const float *x, const uint16_t *A, int K, int n, float *y) {
    int o0;
    for (o0 = 0; o0 < n; o0 += XLSTM__REC_BLOCK) {
        const int w = n - o0 < XLSTM__REC_BLOCK ? n - o0 : XLSTM__REC_BLOCK;
        const unsigned char *r = XLSTM__CAST(const unsigned char *, XLSTM__CAST(const void *, A + xlstm__rec16_index(0, o0, K, n)));
        if (w == XLSTM__REC_BLOCK) xlstm__vecmat_bf16_block_dp(x, r, K, XLSTM__CAST(size_t, w), y + o0, XLSTM__REC_BLOCK / 16);
        else xlstm__vecmat_bf16_block_dp(x, r, K, XLSTM__CAST(size_t, w), y + o0, w / 16);
        xlstm__vecmat_bf16_cols(x, A, K, n, o0 + w / 16 * 16, o0 + w, y);
    }
}

/* The chunkwise mLSTM's two large products with fast prompts (the inputs
   rounded to bf16, sums in f32): C (M x 16 nv, ldc) = beta C + A B over np
   pairs, A(i, p) at A[i a_rs + p a_cs] and B(p, j) at B[p 16 nv + j] as bf16
   pairs (row 2p in the low half). Register tiles of 8 rows by nv vectors;
   rows past M repeat the last (results dropped). Oracle:
   xlstm__chunk_bf16_gemm_scalar. */
XLSTM__BF16_TARGET static inline __attribute__((always_inline)) void
xlstm__chunk_bf16_tile(int mr, int np, const uint32_t *A, size_t a_rs, size_t a_cs, const uint32_t *B, float beta, float *Cm,
                       size_t ldc, const int nv) {
    __m512 acc[8][2];
    const uint32_t *ar[8];
    int i, p, v;
#pragma GCC unroll 8
    for (i = 0; i < 8; i++) {
        ar[i] = A + XLSTM__CAST(size_t, i < mr ? i : mr - 1) * a_rs;
        acc[i][0] = acc[i][1] = _mm512_setzero_ps();
    }
    for (p = 0; p < np; p++) {
        const size_t o = XLSTM__CAST(size_t, p) * a_cs;
        __m512i b[2];
#pragma GCC unroll 2
        for (v = 0; v < nv; v++) b[v] = _mm512_loadu_si512(XLSTM__CAST(const void *, B + XLSTM__CAST(size_t, p) * 16 * nv + 16 * v));
#pragma GCC unroll 8
        for (i = 0; i < 8; i++) {
            const __m512i a = _mm512_set1_epi32(XLSTM__CAST(int32_t, ar[i][o]));
#pragma GCC unroll 2
            for (v = 0; v < nv; v++) acc[i][v] = _mm512_dpbf16_ps(acc[i][v], (__m512bh)b[v], (__m512bh)a);
        }
    }
    for (i = 0; i < mr; i++)
        for (v = 0; v < nv; v++) {
            float *c = Cm + XLSTM__CAST(size_t, i) * ldc + 16 * v;
            _mm512_storeu_ps(c, beta == 0.0f ? acc[i][v] : _mm512_fmadd_ps(_mm512_set1_ps(beta), _mm512_loadu_ps(c), acc[i][v]));
        }
}
XLSTM__BF16_TARGET static void xlstm__chunk_bf16_gemm(int M, int nv, int np, const uint32_t *A, size_t a_rs, size_t a_cs,
                                                     const uint32_t *B, float beta, float *Cm, size_t ldc) {
    int i;
    for (i = 0; i < M; i += 8) {
        const int mr = M - i < 8 ? M - i : 8;
        if (nv == 2) xlstm__chunk_bf16_tile(mr, np, A + XLSTM__CAST(size_t, i) * a_rs, a_rs, a_cs, B, beta, Cm + XLSTM__CAST(size_t, i) * ldc, ldc, 2);
        else xlstm__chunk_bf16_tile(mr, np, A + XLSTM__CAST(size_t, i) * a_rs, a_rs, a_cs, B, beta, Cm + XLSTM__CAST(size_t, i) * ldc, ldc, 1);
    }
}
/* out[j] = rows r0 and r1 (NULL: zeros) at column j rounded to bf16 as
   xlstm__round_bf16 rounds, r0's in the low half: one pair row of a B (or a
   transposed A) for xlstm__chunk_bf16_gemm */
XLSTM__BF16_TARGET static void xlstm__bf16_row_pairs(uint32_t *out, const float *r0, const float *r1, int n) {
    int j = 0;
    for (; j + 16 <= n; j += 16) {
        const __m512i lo = xlstm__fast_rbf16(_mm512_loadu_ps(r0 + j));
        const __m512i hi = r1 ? xlstm__fast_rbf16(_mm512_loadu_ps(r1 + j)) : _mm512_setzero_si512();
        _mm512_storeu_si512(XLSTM__CAST(void *, out + j), _mm512_or_si512(_mm512_srli_epi32(lo, 16), _mm512_and_si512(hi, _mm512_set1_epi32(XLSTM__CAST(int32_t, 0xFFFF0000u)))));
    }
    for (; j < n; j++) {
        const float a = xlstm__round_bf16(r0[j]), b = r1 ? xlstm__round_bf16(r1[j]) : 0.0f;
        uint32_t ua, ub;
        memcpy(&ua, &a, 4), memcpy(&ub, &b, 4);
        out[j] = (ua >> 16) | (ub & 0xFFFF0000u);
    }
}
#endif
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
static const xlstm__kern xlstm__kern_avx512vnni = {
    "avx512vnni",
    {xlstm__dot_f32_lines, xlstm__dot_bf16_avx512, xlstm__dot_f16_avx512, xlstm__dot_q8_avx512, xlstm__dot_q4_avx512},
    {xlstm__deq_f32_avx512, xlstm__deq_bf16_avx512, xlstm__deq_f16_avx512, xlstm__deq_q8_avx512, xlstm__deq_q4_avx512},
    xlstm__gemm_avx512,
    xlstm__mlstm_head_avx512,
    xlstm__dot_q4_i8_vnni,
    xlstm__dot_q8_i8_vnni,
    xlstm__dot2_q4_i8_vnni,
    xlstm__dot4_q8_i8_vnni,
    xlstm__dot_bf16_eo_lines,
    xlstm__silu_avx512,
    xlstm__transpose16_avx512,
    xlstm__dots_avx512,
    xlstm__headwise4_avx512,
    xlstm__vecmat_avx512,
    xlstm__vecmat_bf16_avx512,
    xlstm__slstm_point_avx512,
    xlstm__rmsnorm_avx512,
    xlstm__groupnorm_avx512,
    xlstm__relu_avx512,
    xlstm__scale_avx512,
    xlstm__add_avx512,
    xlstm__div_avx512,
    xlstm__conv16_avx512,
};
#endif
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif
#endif /* vectors */

static const xlstm__kern *xlstm__pick_kernels(xlstm_kernels want) {
#if defined(XLSTM__HAVE_X86)
    int has_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    int has_avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                     __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
    int has_vnni = has_avx512 && __builtin_cpu_supports("avx512vnni");
#endif
    switch (want) {
    case XLSTM_KERNELS_SCALAR: return &xlstm__kern_scalar;
#if defined(XLSTM__HAVE_VEC)
    case XLSTM_KERNELS_SIMD: return &xlstm__kern_simd;
#endif
#if defined(XLSTM__HAVE_X86)
    case XLSTM_KERNELS_AVX2: return has_avx2 ? &xlstm__kern_avx2 : NULL;
    case XLSTM_KERNELS_AVX512: return has_avx512 ? &xlstm__kern_avx512 : NULL;
    case XLSTM_KERNELS_AVX512_VNNI: return has_vnni ? &xlstm__kern_avx512vnni : NULL;
#endif
    case XLSTM_KERNELS_AUTO:
#if defined(XLSTM__HAVE_X86)
        if (has_vnni) return &xlstm__kern_avx512vnni;
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

/* Which fast prompt products this model's kernels have (fast_prompts): bf16
   at the AVX-512 levels on CPUs with AVX-512 BF16, int8 at the VNNI level;
   elsewhere the default products. */
static void xlstm__fast_pick(xlstm_model *m, int want) {
    m->tx_vecmat_bf16 = m->kern->vecmat_bf16; /* not a prompt product: the reference's own bf16 sums, opt-in or not */
#if defined(XLSTM__HAVE_FAST_BF16)
    if ((m->kern == &xlstm__kern_avx512vnni || m->kern == &xlstm__kern_avx512) && __builtin_cpu_supports("avx512bf16"))
        m->tx_vecmat_bf16 = xlstm__vecmat_bf16_dp;
#endif
    m->fast_bf16 = m->fast_i8 = 0;
    if (!want) return;
#if defined(XLSTM__HAVE_FAST)
    m->fast_i8 = m->kern == &xlstm__kern_avx512vnni;
#if defined(XLSTM__HAVE_FAST_BF16)
    m->fast_bf16 = (m->kern == &xlstm__kern_avx512vnni || m->kern == &xlstm__kern_avx512) && __builtin_cpu_supports("avx512bf16");
#endif
#endif
}

/* ---- small pointwise kernels ------------------------------------------------- */

/* LayerNorm without bias, weight stored as an offset (scale = 1 + w), eps 1e-5.
   w may be NULL (no affine). Statistics in double: inputs can be large. */
/* Norm statistics in double: sum of (x - c)^p for p = 1 or 2, in 8 partial
   sums (one chain of dependent double adds would cost its latency per element). */
static double xlstm__moment(const float *x, int n, double c, int p) {
    double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int i, l;
    for (i = 0; i + 8 <= n; i += 8)
        for (l = 0; l < 8; l++) {
            const double d = x[i + l] - c;
            acc[l] += p == 1 ? d : d * d;
        }
    for (; i < n; i++) acc[0] += p == 1 ? x[i] - c : (x[i] - c) * (x[i] - c);
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

static void xlstm__layernorm(float *y, const float *x, const float *w, int n) {
    double mean, var;
    float inv;
    int i;
    mean = xlstm__moment(x, n, 0.0, 1) / n;
    var = xlstm__moment(x, n, mean, 2) / n;
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

#if defined(XLSTM__GNU)
#define XLSTM__PREFETCH_L2(p) __builtin_prefetch((p), 0, 2)
#define XLSTM__PREFETCH_L1(p) __builtin_prefetch((p), 0, 3)
#else
#define XLSTM__PREFETCH_L2(p) ((void)(p))
#define XLSTM__PREFETCH_L1(p) ((void)(p))
#endif

/* Channels ahead of the strip being computed whose weights, bias and history
   a step prefetches: a step's conv reads a few KB from each of five short
   streams, cold after the matrices, which the hardware alone fetched one
   line at a time (Zen 5 VM, 125M q4 decode: conv 98-100 -> 68-75 us a token). */
#define XLSTM__CONV_AHEAD 128

/* Causal depthwise conv over the last K inputs of one sequence, n steps
   (rows of X and Y, ldx and ldy apart), channels [c0, c1) of C. hist is
   (K-1, C): the inputs before X, oldest first; it ends holding the last K-1.
   Step t's inputs are s_t .. s_t+K-1 of s = (hist, X); each output is
   b + w[K-1] x_t + w[0] s_t + ... + w[K-2] s_t+K-2, in that order. Up to
   XLSTM__CONV_K taps, 16 channels at a time through kern->conv16; more
   taps, one channel at a time. w is in the layout xlstm__conv_strips makes
   at load. c0 is a multiple of 16. */
static void xlstm__conv_seq(const xlstm__kern *kern, float *Y, size_t ldy, float *hist, const float *X, size_t ldx, int n, const float *w,
                            const float *b, int C, int K, int c0, int c1) {
    int c, k, t, j;
    for (c = c0; c < c1; c += 16) {
        const int nc = c1 - c < 16 ? c1 - c : 16;
        if (c + XLSTM__CONV_AHEAD + 16 <= c1) { /* a whole strip ahead */
            const float *wa = w + XLSTM__CAST(size_t, c + XLSTM__CONV_AHEAD) * XLSTM__CAST(size_t, K);
            for (k = 0; k < K; k++) XLSTM__PREFETCH_L1(wa + 16 * k);
            for (k = 0; k < K - 1; k++) XLSTM__PREFETCH_L1(hist + XLSTM__CAST(size_t, k) * XLSTM__CAST(size_t, C) + c + XLSTM__CONV_AHEAD);
            XLSTM__PREFETCH_L1(b + c + XLSTM__CONV_AHEAD);
        }
        if (K <= XLSTM__CONV_K && nc == 16) {
            kern->conv16(Y + c, ldy, hist + c, XLSTM__CAST(size_t, C), X + c, ldx, n, w + XLSTM__CAST(size_t, c) * XLSTM__CAST(size_t, K), b + c, K);
        } else {
            for (j = c; j < c + nc; j++) {
                const float *wc = w + XLSTM__CAST(size_t, j) * XLSTM__CAST(size_t, K);
                for (t = 0; t < n; t++) {
                    float a = b[j] + wc[K - 1] * X[XLSTM__CAST(size_t, t) * ldx + XLSTM__CAST(size_t, j)];
                    for (k = 0; k < K - 1; k++)
                        a += wc[k] * (t + k < K - 1 ? hist[XLSTM__CAST(size_t, t + k) * XLSTM__CAST(size_t, C) + XLSTM__CAST(size_t, j)]
                                                    : X[XLSTM__CAST(size_t, t + k - (K - 1)) * ldx + XLSTM__CAST(size_t, j)]);
                    Y[XLSTM__CAST(size_t, t) * ldy + XLSTM__CAST(size_t, j)] = a;
                }
            }
        }
    }
    /* hist[k] = s_n+k, once for the whole range: a later k reads further on, so in place */
    for (k = 0; k < K - 1; k++) {
        float *hk = hist + XLSTM__CAST(size_t, k) * XLSTM__CAST(size_t, C) + c0;
        const float *src = n + k < K - 1 ? hist + XLSTM__CAST(size_t, n + k) * XLSTM__CAST(size_t, C) + c0
                                         : X + XLSTM__CAST(size_t, n + k - (K - 1)) * ldx + c0;
        memmove(hk, src, XLSTM__CAST(size_t, c1 - c0) * sizeof(float));
    }
}

/* ---- state ------------------------------------------------------------- */

#ifndef XLSTM_PREFILL_ROWS
#define XLSTM_PREFILL_ROWS 64 /* tokens per prefill chunk; also the largest batch per pass */
#endif
#define XLSTM__WTILE 8 /* weight rows per tile of a batched matrix product */
#define XLSTM__SMALL_BATCH 16 /* fewer vectors than this: dot products, not a matrix product */
#define XLSTM__XGROUP 64 /* vectors per group of X^T in an f32 matrix product: 4-vector panels */

/* Per block recurrent state, pointers into state->mem:
     mLSTM: conv (K-1, I); C (NH, DH, DH); n (NH, DH); m (NH)
     sLSTM: conv (K-1, D); y, c, n, m (D each) */
typedef struct xlstm__bstate {
    float *conv, *C, *n, *m, *y, *c;
} xlstm__bstate;

#define XLSTM__CLAIM_STRIDE (64 / sizeof(long)) /* counters 64 bytes apart never share a cache line */
/* A loop ends when every thread inside it is out (an OpenMP region: when
   every thread of its team has arrived), however the work was claimed: a
   thread whose core another process holds (and the scheduler gives it only
   every few milliseconds) stalls the loops it is descheduled in. So when
   the end of a loop waited longer than XLSTM__STALL_S and longer than the
   master's own part of the loop took, twice within XLSTM__SOLO_CLEAR regions
   (one alone happens on an idle machine too: a hypervisor's preemption),
   with more time lost waiting than the master ran in the regions between
   the two (a VM's idle vCPU can take milliseconds to wake now and then: the
   7B's long loops still gain from the team), the next loops run on the
   calling thread alone. That run doubles with each
   stall that follows it (from XLSTM__SOLO_MIN up to XLSTM__SOLO_MAX loops,
   about 3 to 100 tokens of the 125M model), and XLSTM__SOLO_CLEAR regions
   without a stall set it back. The results are the same bits either way.
   The counters sit in the line after the claims: loops left to run alone,
   the next such run, regions since the last stall (at most XLSTM__SOLO_CLEAR),
   and the microseconds waited and run since it. */
#define XLSTM__STALL_S 2e-4
#define XLSTM__SOLO_MIN 256
#define XLSTM__SOLO_MAX 8192 /* a core that stays busy costs one stall (about 4 ms) per run */
#define XLSTM__SOLO_CLEAR 256

#if defined(_OPENMP) && defined(XLSTM__GNU)
/* One OpenMP region per forward pass, not per loop (xlstm__team_call): its
   thread 0 runs the pass, the others spin in xlstm__team_work, taking the
   tasks of each loop the pass hands them. Forking a team costs a few
   microseconds and a decode step of the 125M model runs about 85 loops;
   handing a loop to a spinning thread costs a cache line or two. */
#define XLSTM__TEAM 1
#define XLSTM__TEAM_IDLE_S 5e-4 /* a worker with no loop for this long leaves the pass to the caller */
typedef struct xlstm__team {
    long gen; /* odd while a loop is open: workers take tasks of loop gen */
    int open, quit; /* a pass is running on this team (read by the caller only); the pass is over */
    void (*fn)(void *ctx, int t);
    void *ctx;
    int n;
    unsigned char pad0[64]; /* three cache lines: the loop, its task counter, the busy count */
    long next;              /* the open loop's next unclaimed task */
    unsigned char pad1[64];
    long busy; /* workers inside a loop */
    unsigned char pad2[64];
} xlstm__team;
#endif

/* Scratch rows: one row per token of a prefill chunk, or per sequence of a batch. */
struct xlstm_state {
    const xlstm_model *model;
    float *mem;     /* recurrent state: everything reset() zeroes (64-byte aligned, in mem_block) */
    void *mem_block;
    size_t mem_len; /* floats */
    xlstm__bstate *bs;
    float *logits;  /* (V) */
    /* scratch, XLSTM_PREFILL_ROWS rows each */
    float *x, *xn, *up, *conv, *qkv, *h, *raw, *gates;
    float *cellg; /* (R, NH, 4) the mLSTM step's per-head f', i', m and q.n (xlstm__mlstm_step_heads) */
    size_t ld_up, ld_wide; /* row strides of up (2 max(I,P)) and conv/h (max(I,D)) */
    float *chunk;          /* chunkwise mLSTM, per thread: (R, R) weights, (4, R) vectors, 2 x (R, dk) */
    size_t chunk_stride;
    float *xt;             /* (groups of XLSTM__XGROUP, max_cols, np) transposed input rows of a matrix product */
    xlstm__xq xq;          /* one input row rounded to int8 (max_cols); its q4 layout NULL */
    xlstm__xq xq4;         /* room for that row's q4 layout (q4, d4, o4; the rest NULL), set per product */
    float *xeo;            /* one input row split even/odd (max_cols) */
    float *deq;            /* per thread: dequantised weight tile (WTILE, max_cols) + output tile (WTILE, 32) */
    size_t deq_stride;
    int n_threads; /* tasks per parallel loop at most: slots of per-task scratch (chunk, deq) */
    void (*parallel_for)(void *user, void (*task)(void *ctx, int t), void *ctx, int n_tasks);
    void *parallel_user;
    long *claims; /* (n_threads, XLSTM__CLAIM_STRIDE) a parallel loop's counters, one cache line each; NULL for 1 */
#ifdef XLSTM__TEAM
    xlstm__team *team; /* NULL for 1 thread or with parallel_for */
#endif
    float **yptr;              /* (R) output row pointers */
    xlstm_state **owner;       /* (R) whose recurrent state each row uses */
    /* TiRex (NULL for language models): scratch for one chunk of R patch
       tokens, and the stream's memories (inside mem) */
    float *tw;                 /* (R, 2P) patch tokens */
    float *th;                 /* (R, ld_th) hidden rows: patch embeddings, feed-forward gate | up */
    float *tres;               /* (R, max(D, QP)) residual branch of a ResidualBlock */
    float *tg;                 /* (R, 4D) gate pre-activations i, f, z, o */
    float *ry;                 /* (4D) sLSTM recurrent products, per head (4 DH) (language models too) */
    float *win, *tsq;          /* (T) one window, raw then scaled; (T) its squared deviations */
    float *tq;                 /* (Q, P) one pass's output patch */
    float *tpass, *tlast;      /* (NB, 4, D) states of the window being run, (D) its final row */
    float *temb;               /* (R, NB, D) a chunk's embeddings */
    float *tstream, *tstream_last; /* in mem: the stream's states and final row */
    float *thist;              /* in mem: the stream's last T observations, a ring */
    size_t ld_th, n_th; /* n_th: th's floats (R * ld_th, or more for the threads' gate shares) */
};

static size_t xlstm__state_floats_unpadded(const xlstm_config *c, int b) {
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
/* Each block's part rounded up to 16 floats, so the next block's starts on a cache line. */
static size_t xlstm__state_floats(const xlstm_config *c, int b) { return (xlstm__state_floats_unpadded(c, b) + 15) / 16 * 16; }

XLSTMDEF void xlstm_state_free(xlstm_state *s);

/* s->mem: n floats on a 64-byte boundary, so every state matrix row and
   vector starts on a cache line (a vector that straddles two lines costs the
   in-place state update about a quarter of its bandwidth). */
static float *xlstm__state_mem(xlstm_state *s, size_t n) {
    unsigned char *raw = XLSTM__CAST(unsigned char *, xlstm__malloc(&s->model->alloc, n * sizeof(float) + 64));
    s->mem_block = raw;
    if (!raw) return NULL;
    return XLSTM__CAST(float *, XLSTM__CAST(void *, raw + (64 - XLSTM__ADDR(raw) % 64) % 64));
}

XLSTMDEF xlstm_state_params xlstm_state_default_params(void) {
    xlstm_state_params p;
    memset(&p, 0, sizeof p);
    return p;
}

/* A zeroed state object for model, with the task count and hook it will use. */
static xlstm_state *xlstm__state_new(const xlstm_model *model, const xlstm_state_params *params) {
    xlstm_state *s = XLSTM__CAST(xlstm_state *, xlstm__malloc(&model->alloc, sizeof *s));
    if (!s) return NULL;
    memset(s, 0, sizeof *s);
    s->model = model;
    s->parallel_for = params->parallel_for;
    s->parallel_user = params->parallel_user;
    s->n_threads = params->n_threads;
#ifdef _OPENMP
    if (s->n_threads == 0) s->n_threads = omp_get_max_threads();
#else
    if (!s->parallel_for) s->n_threads = 1; /* nothing could run a second task */
#endif
    if (s->n_threads < 1) s->n_threads = 1;
    if (s->n_threads > 256) s->n_threads = 256;
    if (s->n_threads > 1) {
        /* one more line for xlstm__parallel's stall counters */
        s->claims = XLSTM__CAST(long *, xlstm__malloc(&model->alloc, XLSTM__CAST(size_t, s->n_threads + 1) * XLSTM__CLAIM_STRIDE * sizeof(long)));
        if (!s->claims) {
            xlstm__free(&model->alloc, XLSTM__CAST(void *, s));
            return NULL;
        }
        memset(s->claims, 0, XLSTM__CAST(size_t, s->n_threads + 1) * XLSTM__CLAIM_STRIDE * sizeof(long));
        s->claims[XLSTM__CAST(size_t, s->n_threads) * XLSTM__CLAIM_STRIDE + 1] = XLSTM__SOLO_MIN;
        s->claims[XLSTM__CAST(size_t, s->n_threads) * XLSTM__CLAIM_STRIDE + 2] = XLSTM__SOLO_CLEAR;
#ifdef XLSTM__TEAM
        if (!s->parallel_for) {
            s->team = XLSTM__CAST(xlstm__team *, xlstm__malloc(&model->alloc, sizeof *s->team));
            if (!s->team) {
                xlstm__free(&model->alloc, XLSTM__CAST(void *, s->claims));
                xlstm__free(&model->alloc, XLSTM__CAST(void *, s));
                return NULL;
            }
            memset(s->team, 0, sizeof *s->team);
        }
#endif
    }
    return s;
}

/* Floats the matrix products' scratch needs for inputs up to cols wide:
   X^T for XLSTM_PREFILL_ROWS vectors, x rounded to int8, x split even/odd,
   and the threads' weight tiles (s->deq_stride set), with alignment slack. */
static size_t xlstm__kernel_scratch_floats(const xlstm_state *s, size_t cols) {
    return 16 + (XLSTM_PREFILL_ROWS + XLSTM__XGROUP - 1) / XLSTM__XGROUP * XLSTM__XGROUP * cols + 4 * (cols / 4 + 1) + 2 * (cols / 8 + 1) + cols + 16 +
           XLSTM__CAST(size_t, s->n_threads) * s->deq_stride;
}
/* x rounded to int8 (up to cols wide) from p: x's q, d8 and off8, then
   x4's q4 layout (d4, o4, q4; x4 may be x); 1.25 cols + 6 floats. Returns
   the float after them. */
static float *xlstm__xq_place(float *p, size_t cols, xlstm__xq *x, xlstm__xq *x4) {
    x->d8 = p, p += cols / 4 + 1;
    x->off8 = p, p += cols / 4 + 1;
    x->q = XLSTM__CAST(signed char *, XLSTM__CAST(void *, p)), p += cols / 4 + 1;
    x->q4 = NULL, x->d4 = NULL, x->o4 = NULL;
    x4->d4 = p, p += cols / 8 + 1;
    x4->o4 = p, p += cols / 8 + 1;
    x4->q4 = XLSTM__CAST(signed char *, XLSTM__CAST(void *, p)), p += cols / 4 + 1;
    return p;
}
/* Lay that scratch out from p. */
static void xlstm__kernel_scratch_place(xlstm_state *s, float *p, size_t cols) {
    size_t i = XLSTM__CAST(size_t, XLSTM__ADDR(p) % 64) / sizeof(float); /* 64-byte rows for the vector loads */
    p += i ? 16 - i : 0;
    s->xt = p, p += (XLSTM_PREFILL_ROWS + XLSTM__XGROUP - 1) / XLSTM__XGROUP * XLSTM__XGROUP * cols;
    /* s->xq has no q4 layout (a stale one is never read through it); s->xq4 holds it */
    p = xlstm__xq_place(p, cols, &s->xq, &s->xq4);
    s->xq4.q = NULL, s->xq4.d8 = NULL, s->xq4.off8 = NULL;
    s->xeo = p, p += cols;
    i = XLSTM__CAST(size_t, XLSTM__ADDR(p) % 64) / sizeof(float); /* 64-byte align the tiles */
    s->deq = p + (i ? 16 - i : 0);
}

/* The TiRex stream's bookkeeping sits at the front of state->mem, so reset,
   copy, save and restore carry it: observations seen (raw uint64 bits), then
   the scaler's loc and scale fixed when the window first filled. */
#define XLSTM__TX_HDR 4

/* A thread's share of s->th for xlstm__tx_gates_head over Lp rows: a head's
   DH x DH weights widened, one gate's product (DH, Lp), and the head's four
   gates for the cell, row t at t * xlstm__tx_ldgh (a 16-float pad keeps the
   rows off one cache set). */
static size_t xlstm__tx_ldgh(int DH) { return 4 * XLSTM__CAST(size_t, DH) + 16; }
static size_t xlstm__tx_head_share(int DH, int Lp) {
    return XLSTM__CAST(size_t, DH) * XLSTM__CAST(size_t, DH) + XLSTM__CAST(size_t, DH) * XLSTM__CAST(size_t, Lp) +
           XLSTM__CAST(size_t, Lp) * xlstm__tx_ldgh(DH);
}
/* The floats of every task's share: a loop over the heads has one head per task at most. */
static size_t xlstm__tx_head_shares(const xlstm_state *s, int Lp) {
    const xlstm_config *c = &s->model->cfg;
    const int tasks = s->n_threads < c->slstm.num_heads ? s->n_threads : c->slstm.num_heads;
    return XLSTM__CAST(size_t, tasks) * xlstm__tx_head_share(c->slstm.head_dim, Lp);
}

/* A TiRex state: mem holds the stream (bookkeeping, states, final row, the
   last T observations); the rest is scratch for one chunk of R tokens. */
static xlstm_status xlstm__tx_state_create(const xlstm_model *model, const xlstm_state_params *params, xlstm_state **out,
                                           xlstm_error *err) {
    const xlstm_config *c = &model->cfg;
    const size_t R = XLSTM_PREFILL_ROWS, D = XLSTM__CAST(size_t, c->embedding_dim), NB = XLSTM__CAST(size_t, c->num_blocks);
    const size_t P = XLSTM__CAST(size_t, c->tirex.patch_size), T = XLSTM__CAST(size_t, c->tirex.train_ctx_len);
    const size_t FF = XLSTM__CAST(size_t, c->tirex.input_ff_dim), F = XLSTM__CAST(size_t, c->tirex.ffn_dim);
    const size_t QP = XLSTM__CAST(size_t, c->tirex.num_quantiles) * P;
    size_t cols = 2 * P, res = D > QP ? D : QP, total, scratch;
    xlstm_state *s;
    float *p;
    if (FF > cols) cols = FF;
    if (D > cols) cols = D;
    if (F > cols) cols = F;
    s = xlstm__state_new(model, params);
    if (!s) return xlstm__fail(err, XLSTM_ERR_NOMEM, "out of memory for the state");
    s->ld_th = FF > 2 * F ? FF : 2 * F;
    s->n_th = R * s->ld_th;
    if (xlstm__tx_head_shares(s, XLSTM__CAST(int, R)) > s->n_th) s->n_th = xlstm__tx_head_shares(s, XLSTM__CAST(int, R)); /* per-head gates */
    s->ld_wide = D;
    s->deq_stride = XLSTM__WTILE * (cols + XLSTM__XGROUP);
    total = XLSTM__TX_HDR + NB * 4 * D + D + T;
    s->mem_len = total;
    scratch = s->n_th + R * (2 * P + res + 4 * D + 3 * D + NB * D) + 4 * D + 2 * T + QP + NB * 4 * D + D +
              xlstm__kernel_scratch_floats(s, cols);
    s->mem = xlstm__state_mem(s, total + scratch);
    s->yptr = XLSTM__CAST(float **, xlstm__malloc(&model->alloc, R * sizeof(float *)));
    if (!s->mem || !s->yptr) {
        xlstm_state_free(s);
        return xlstm__fail(err, XLSTM_ERR_NOMEM, "out of memory for the state");
    }
    p = s->mem + XLSTM__TX_HDR;
    s->tstream = p, p += NB * 4 * D;
    s->tstream_last = p, p += D;
    s->thist = p, p += T;
    s->tw = p, p += R * 2 * P;
    s->th = p, p += s->n_th;
    s->tres = p, p += R * res;
    s->tg = p, p += R * 4 * D;
    s->x = p, p += R * D;
    s->xn = p, p += R * D;
    s->h = p, p += R * D;
    s->temb = p, p += R * NB * D;
    s->ry = p, p += 4 * D;
    s->win = p, p += T;
    s->tsq = p, p += T;
    s->tq = p, p += QP;
    s->tpass = p, p += NB * 4 * D;
    s->tlast = p, p += D;
    xlstm__kernel_scratch_place(s, p, cols);
    xlstm_state_reset(s);
    *out = s;
    return XLSTM_OK;
}

XLSTMDEF xlstm_status xlstm_state_create_with_params(const xlstm_model *model, const xlstm_state_params *params,
                                                     xlstm_state **out, xlstm_error *err) {
    const xlstm_config *c;
    xlstm_state *s;
    xlstm_state_params dflt = xlstm_state_default_params();
    size_t total = 0, D, I, P, V, NH, DK, DV, R = XLSTM_PREFILL_ROWS, wide, cols, scratch, ld_qkv;
    float *p;
    int b;
    if (!out) return xlstm__fail(err, XLSTM_ERR_ARG, "out_state is NULL");
    *out = NULL;
    if (!model) return xlstm__fail(err, XLSTM_ERR_ARG, "model is NULL");
    if (!params) params = &dflt;
    if (params->n_threads < 0) return xlstm__fail(err, XLSTM_ERR_ARG, "state params: n_threads %d is negative", params->n_threads);
    if (model->cfg.arch == XLSTM_ARCH_TIREX) return xlstm__tx_state_create(model, params, out, err);
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
        DK = XLSTM__CAST(size_t, c->large.qk_head_dim);
        DV = XLSTM__CAST(size_t, c->large.v_head_dim);
        ld_qkv = 2 * QK + VD;
    } else {
        I = XLSTM__CAST(size_t, c->mlstm.inner_dim);
        P = XLSTM__CAST(size_t, c->ffn.proj_up_dim);
        NH = XLSTM__CAST(size_t, c->mlstm.num_heads);
        DK = XLSTM__CAST(size_t, c->mlstm.head_dim);
        DV = DK;
        ld_qkv = 3 * I;
    }
    wide = I > D ? I : D;
    cols = ld_qkv > wide ? ld_qkv : wide;
    if (P > cols) cols = P;
    s = xlstm__state_new(model, params);
    if (!s) return xlstm__fail(err, XLSTM_ERR_NOMEM, "out of memory for the state");
    s->mem_len = total;
    s->ld_up = 2 * (I > P ? I : P);
    s->ld_wide = wide;
    s->deq_stride = XLSTM__WTILE * (cols + XLSTM__XGROUP);
    /* + the bf16 pairs of fast prompts' chunk products (xlstm__mlstm_chunk_heads) */
    s->chunk_stride = R * R + 4 * R + 2 * R * DK + R * DV + R * ((DK + 1) / 2) + (R + 1) / 2 * (DK + DV) + (DK + 1) / 2 * XLSTM__STRIP;
    scratch = V + R * (2 * D + s->ld_up + 2 * wide + ld_qkv + (4 * D > wide ? 4 * D : wide) + 6 * NH) + 4 * D +
              XLSTM__CAST(size_t, s->n_threads) * s->chunk_stride + xlstm__kernel_scratch_floats(s, cols) + 64;
    s->mem = xlstm__state_mem(s, total + scratch);
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
        float *start = p;
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
        p = start + xlstm__state_floats(c, b);
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
    s->cellg = p, p += R * 4 * NH;
    s->ry = p, p += 4 * D;
    s->chunk = p, p += XLSTM__CAST(size_t, s->n_threads) * s->chunk_stride;
    xlstm__kernel_scratch_place(s, p, cols);
    xlstm_state_reset(s);
    *out = s;
    return XLSTM_OK;
}

XLSTMDEF xlstm_status xlstm_state_create(const xlstm_model *model, xlstm_state **out, xlstm_error *err) {
    return xlstm_state_create_with_params(model, NULL, out, err);
}

XLSTMDEF void xlstm_state_reset(xlstm_state *s) {
    if (!s) return;
    /* the empty sequence: memories, normalisers, stabilisers and conv history
       all zero, as the reference's step() starts them */
    memset(s->mem, 0, s->mem_len * sizeof(float));
    if (s->logits) memset(s->logits, 0, XLSTM__CAST(size_t, s->model->cfg.vocab_size) * sizeof(float));
}

XLSTMDEF xlstm_status xlstm_state_copy(xlstm_state *dst, const xlstm_state *src) {
    if (!dst || !src || dst->model != src->model) return XLSTM_ERR_ARG;
    if (dst == src) return XLSTM_OK;
    memcpy(dst->mem, src->mem, src->mem_len * sizeof(float));
    if (dst->logits) memcpy(dst->logits, src->logits, XLSTM__CAST(size_t, src->model->cfg.vocab_size) * sizeof(float));
    return XLSTM_OK;
}

XLSTMDEF void xlstm_state_free(xlstm_state *s) {
    if (!s) return;
    xlstm__free(&s->model->alloc, s->mem_block);
    xlstm__free(&s->model->alloc, XLSTM__CAST(void *, s->claims));
#ifdef XLSTM__TEAM
    xlstm__free(&s->model->alloc, XLSTM__CAST(void *, s->team));
#endif
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

/* Blobs keep each head's C row by row (dk rows of dv), as version 1 always
   has; the state keeps it by strips (XLSTM__STRIP). */
static void xlstm__blob_c(const xlstm_state *s, unsigned char *to_blob, const unsigned char *from_blob) {
    const xlstm_config *c = &s->model->cfg;
    int b, h, a, col;
    if (c->arch == XLSTM_ARCH_TIREX) return;
    for (b = 0; b < c->num_blocks; b++) {
        const int large = c->arch == XLSTM_ARCH_LARGE;
        const int nh = large ? c->large.num_heads : c->mlstm.num_heads;
        const int dk = large ? c->large.qk_head_dim : c->mlstm.head_dim, dv = large ? c->large.v_head_dim : dk;
        if (!s->bs[b].C) continue;
        for (h = 0; h < nh; h++) {
            float *C = s->bs[b].C + XLSTM__CAST(size_t, h) * dk * dv;
            const size_t at = XLSTM__CAST(size_t, C - s->mem) * sizeof(float);
            for (col = 0; col < dv; col += XLSTM__STRIP) {
                const size_t w = XLSTM__CAST(size_t, dv - col < XLSTM__STRIP ? dv - col : XLSTM__STRIP);
                for (a = 0; a < dk; a++) {
                    const size_t r = at + (XLSTM__CAST(size_t, a) * dv + XLSTM__CAST(size_t, col)) * sizeof(float);
                    float *st = C + XLSTM__CAST(size_t, col) * dk + XLSTM__CAST(size_t, a) * w;
                    if (to_blob) memcpy(to_blob + r, st, w * sizeof(float));
                    else memcpy(st, from_blob + r, w * sizeof(float));
                }
            }
        }
    }
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
    xlstm__blob_c(s, p + XLSTM__BLOB_HEADER, NULL);
    return XLSTM_OK;
}

XLSTMDEF xlstm_status xlstm_state_restore(xlstm_state *s, const void *src, size_t src_size) {
    const unsigned char *p = XLSTM__CAST(const unsigned char *, src);
    uint32_t magic, version;
    uint64_t fp, count;
    size_t i, hist0;
    if (!s || !src) return XLSTM_ERR_ARG;
    if (src_size < XLSTM__BLOB_HEADER) return XLSTM_ERR_TRUNCATED;
    memcpy(&magic, p, 4);
    memcpy(&version, p + 4, 4);
    memcpy(&fp, p + 8, 8);
    memcpy(&count, p + 16, 8);
    if (magic != XLSTM__BLOB_MAGIC || version != XLSTM__BLOB_VERSION) return XLSTM_ERR_FORMAT;
    if (fp != s->model->fingerprint || count != s->mem_len) return XLSTM_ERR_SHAPE;
    if (src_size != xlstm_state_blob_size(s)) return XLSTM_ERR_TRUNCATED;
    /* a TiRex stream keeps its count as raw bits and missing observations as NaN */
    hist0 = s->thist ? XLSTM__CAST(size_t, s->thist - s->mem) : s->mem_len;
    for (i = 0; i < s->mem_len; i++) {
        float v;
        if (s->thist && (i < 2 || i >= hist0)) continue;
        memcpy(&v, p + XLSTM__BLOB_HEADER + i * sizeof(float), sizeof v);
        if (!isfinite(v)) return XLSTM_ERR_VALUE;
    }
    memcpy(s->mem, p + XLSTM__BLOB_HEADER, s->mem_len * sizeof(float));
    xlstm__blob_c(s, NULL, p + XLSTM__BLOB_HEADER);
    if (s->logits) memset(s->logits, 0, XLSTM__CAST(size_t, s->model->cfg.vocab_size) * sizeof(float));
    return XLSTM_OK;
}

/* ---- parallel loops ----------------------------------------------------
   Every parallel loop goes through xlstm__parallel: n tasks, task t owning
   slot t of the per-task scratch (t < s->n_threads). The state's hook runs
   them if it has one, else an OpenMP team, else they run in turn. Inside a
   task, xlstm__for hands out the loop's items a chunk at a time from
   per-task counters (xlstm__loop_task): a task whose core is busy with other
   work (or that starts late) takes fewer chunks, where a static split would
   make every other thread wait for it. Each item is computed by the same code
   whichever task claims it, and no sum runs across chunks, so the results
   are the same bits for any thread count and any schedule. */
#ifndef XLSTM_PARALLEL_MIN_WORK
#define XLSTM_PARALLEL_MIN_WORK 32768 /* multiply-adds below which a fork costs more than it saves */
#endif
#define XLSTM__CHUNKS_PER_TASK 8 /* enough to even out a slow task (a last chunk of 1/16 of the loop at 2 threads); few enough to keep chunks long */

typedef void (*xlstm__task_fn)(void *ctx, int t);

#ifdef _OPENMP
/* After a team's region: the master ran `ran` seconds, then waited `wait`
   for the rest (the rule above XLSTM__STALL_S). */
static void xlstm__stall_update(long *solo, double ran, double wait) {
    if (solo[2] < XLSTM__SOLO_CLEAR) { /* microseconds waited and run since the last stall */
        solo[3] += XLSTM__CAST(long, wait * 1e6);
        solo[4] += XLSTM__CAST(long, ran * 1e6);
    }
    if (wait > XLSTM__STALL_S && wait > ran) {
        if (solo[2] < XLSTM__SOLO_CLEAR && solo[3] > solo[4]) { /* the second stall in a row, and waiting cost more than the master ran */
            solo[0] = solo[1];
            solo[1] = solo[1] < XLSTM__SOLO_MAX / 2 ? 2 * solo[1] : XLSTM__SOLO_MAX;
        }
        solo[2] = solo[3] = solo[4] = 0;
    } else if (solo[2] < XLSTM__SOLO_CLEAR && ++solo[2] == XLSTM__SOLO_CLEAR) {
        solo[1] = XLSTM__SOLO_MIN;
    }
}
#endif

#ifdef XLSTM__TEAM
#if defined(__x86_64__) || defined(__i386__)
#define XLSTM__PAUSE() __builtin_ia32_pause()
#elif defined(__aarch64__) || defined(__arm__)
#define XLSTM__PAUSE() __asm__ __volatile__("yield")
#else
#define XLSTM__PAUSE() ((void)0)
#endif

/* A worker of the pass: take the tasks of each loop as it opens, until the
   pass is over or no loop has come for XLSTM__TEAM_IDLE_S (the caller then
   runs every task itself; a thread that spins on a core it shares with the
   caller would only slow it). Entering a loop: count in busy, then check
   that the loop is still open; the caller closes it, then waits for busy
   to drop to 0, so a worker either is counted or sees it closed. */
static void xlstm__team_work(xlstm__team *tm) {
    long seen = 0; /* even: no loop */
    double idle_since = omp_get_wtime();
    unsigned spins = 0;
    for (;;) {
        const long g = __atomic_load_n(&tm->gen, __ATOMIC_ACQUIRE);
        if ((g & 1) && g != seen) {
            __atomic_fetch_add(&tm->busy, 1L, __ATOMIC_SEQ_CST);
            if (__atomic_load_n(&tm->gen, __ATOMIC_SEQ_CST) == g) {
                long t;
                while ((t = __atomic_fetch_add(&tm->next, 1L, __ATOMIC_RELAXED)) < tm->n) tm->fn(tm->ctx, XLSTM__CAST(int, t));
            }
            __atomic_fetch_sub(&tm->busy, 1L, __ATOMIC_RELEASE);
            seen = g;
            spins = 0;
            idle_since = omp_get_wtime();
            continue;
        }
        if (__atomic_load_n(&tm->quit, __ATOMIC_ACQUIRE)) return;
        XLSTM__PAUSE();
        if (++spins % 256 == 0 && omp_get_wtime() - idle_since > XLSTM__TEAM_IDLE_S) return;
    }
}

/* The caller's side of one loop: open it, take tasks until none is left,
   close it, wait for the workers still inside. */
static void xlstm__team_loop(xlstm__team *tm, long *solo, xlstm__task_fn fn, void *ctx, int n) {
    const double t0 = omp_get_wtime();
    double ran;
    long t;
    tm->fn = fn, tm->ctx = ctx, tm->n = n;
    __atomic_store_n(&tm->next, 0L, __ATOMIC_RELAXED);
    __atomic_store_n(&tm->gen, tm->gen + 1, __ATOMIC_SEQ_CST);
    while ((t = __atomic_fetch_add(&tm->next, 1L, __ATOMIC_RELAXED)) < n) fn(ctx, XLSTM__CAST(int, t));
    ran = omp_get_wtime() - t0;
    __atomic_store_n(&tm->gen, tm->gen + 1, __ATOMIC_SEQ_CST);
    while (__atomic_load_n(&tm->busy, __ATOMIC_SEQ_CST)) XLSTM__PAUSE();
    xlstm__stall_update(solo, ran, omp_get_wtime() - t0 - ran);
}
#endif

static void xlstm__parallel(const xlstm_state *s, xlstm__task_fn fn, void *ctx, int n) {
    if (n <= 1) {
        fn(ctx, 0);
        return;
    }
    if (s->parallel_for) {
        s->parallel_for(s->parallel_user, fn, ctx, n);
        return;
    }
#ifdef _OPENMP
    {
        long *solo = s->claims + XLSTM__CAST(size_t, s->n_threads) * XLSTM__CLAIM_STRIDE;
        double t0, master_done = 0.0;
        int t;
        if (solo[0] > 0) { /* each task claims what the ones before it left: task 0 takes it all */
            solo[0]--;
            for (t = 0; t < n; t++) fn(ctx, t);
            return;
        }
#ifdef XLSTM__TEAM
        if (s->team && s->team->open) {
            xlstm__team_loop(s->team, solo, fn, ctx, n);
            return;
        }
#endif
        t0 = omp_get_wtime();
#pragma omp parallel num_threads(n)
        {
            /* a smaller team than asked for (nested regions, OMP_DYNAMIC) runs the rest in turn */
            int u;
            for (u = omp_get_thread_num(); u < n; u += omp_get_num_threads()) fn(ctx, u);
            if (omp_get_thread_num() == 0) master_done = omp_get_wtime();
        }
        xlstm__stall_update(solo, master_done - t0, omp_get_wtime() - master_done);
    }
#else
    {
        int t;
        for (t = 0; t < n; t++) fn(ctx, t);
    }
#endif
}

/* body(ctx, t, lo, hi) computes items [lo, hi) as task t. */
typedef void (*xlstm__range_fn)(void *ctx, int t, int lo, int hi);
typedef struct xlstm__loop {
    xlstm__range_fn body;
    void *ctx;
    int n, step, n_chunks, n_tasks; /* items, items per chunk, chunks, tasks */
    long *next; /* next[u * XLSTM__CLAIM_STRIDE]: the next unclaimed chunk of task u's share */
} xlstm__loop;

/* Task u's share of the chunks: [u C / T, (u+1) C / T). */
static int xlstm__share_end(const xlstm__loop *l, int u) { return l->n_chunks * (u + 1) / l->n_tasks; }

/* Claim the next chunk of task u's share, or -1 when it is all taken. */
static int xlstm__claim(xlstm__loop *l, int u) {
    long *next = l->next + XLSTM__CAST(size_t, u) * XLSTM__CLAIM_STRIDE, c;
#if defined(XLSTM__GNU)
    c = __atomic_fetch_add(next, 1L, __ATOMIC_RELAXED);
#elif defined(_MSC_VER)
    c = _InterlockedExchangeAdd(next, 1L);
#else
    c = (*next)++; /* no atomics: only task u ever touches its share */
#endif
    return c < xlstm__share_end(l, u) ? XLSTM__CAST(int, c) : -1;
}

/* Task t works through its own share in order (one contiguous run of rows
   per task, as a static split: the hardware prefetcher streams straight
   through the chunk boundaries), then helps with the others' shares, taking
   their next chunks, so a task that runs slowly or starts late is left with
   less. Without atomics, a task keeps to its own share. */
static void xlstm__loop_task(void *ctx, int t) {
    xlstm__loop *l = XLSTM__CAST(xlstm__loop *, ctx);
    int i, c;
#if defined(XLSTM__GNU) || defined(_MSC_VER)
    const int shares = l->n_tasks;
#else
    const int shares = 1;
#endif
    for (i = 0; i < shares; i++) {
        const int u = (t + i) % l->n_tasks;
        while ((c = xlstm__claim(l, u)) >= 0) {
            const int lo = c * l->step;
            l->body(l->ctx, t, lo, l->n - lo < l->step ? l->n : lo + l->step);
        }
    }
}

/* Items [0, n) through body: in parallel when work (multiply-adds, or any
   measure of the whole loop) exceeds min_work, in chunks of whole multiples
   of grain items (16 rows: whole cache lines of output); else one call on
   this thread. */
static void xlstm__for(const xlstm_state *s, int n, int grain, size_t work, size_t min_work, xlstm__range_fn body, void *ctx) {
    xlstm__loop l;
    int per, u;
    if (n <= 0) return;
    if (s->n_threads <= 1 || work <= min_work || n <= grain) {
        body(ctx, 0, 0, n);
        return;
    }
    per = (n + s->n_threads * XLSTM__CHUNKS_PER_TASK - 1) / (s->n_threads * XLSTM__CHUNKS_PER_TASK);
    l.body = body, l.ctx = ctx, l.n = n, l.next = s->claims;
    l.step = (per + grain - 1) / grain * grain;
    l.n_chunks = (n + l.step - 1) / l.step;
    l.n_tasks = l.n_chunks < s->n_threads ? l.n_chunks : s->n_threads;
    for (u = 0; u < l.n_tasks; u++) l.next[XLSTM__CAST(size_t, u) * XLSTM__CLAIM_STRIDE] = l.n_chunks * u / l.n_tasks;
    xlstm__parallel(s, xlstm__loop_task, &l, l.n_tasks);
}

/* Row-wise work (norms, activations) of a prefill chunk or batch, n rows in
   parallel when there are two or more. */
#define XLSTM__ROWS_MIN_WORK 1
#define XLSTM__FOR_ROWS(S, N, BODY, CTX) xlstm__for((S), (N), 1, XLSTM__CAST(size_t, N), XLSTM__ROWS_MIN_WORK, (BODY), (CTX))

/* body(arg) with the state's parallel loops handed to one OpenMP team for
   its whole run (XLSTM__TEAM), or as they come. Not while the loops run
   alone after a stall (the team would spin for nothing), nor from inside
   another parallel region. */
static void xlstm__team_call(xlstm_state *s, void (*body)(void *arg), void *arg) {
#ifdef XLSTM__TEAM
    xlstm__team *tm = s->team;
    long *solo = s->claims + XLSTM__CAST(size_t, s->n_threads) * XLSTM__CLAIM_STRIDE;
    if (tm && solo[0] <= 0 && !omp_in_parallel()) {
        double done = 0.0;
        tm->open = 1;
        tm->quit = 0;
#pragma omp parallel num_threads(s->n_threads)
        {
            if (omp_get_thread_num() == 0) {
                body(arg);
                tm->open = 0;
                __atomic_store_n(&tm->quit, 1, __ATOMIC_RELEASE);
                done = omp_get_wtime();
            } else {
                xlstm__team_work(tm);
            }
        }
        /* the region's end waits for every thread: one descheduled there stalls the pass as a loop's would */
        xlstm__stall_update(solo, 0.0, omp_get_wtime() - done);
        return;
    }
#else
    (void)s;
#endif
    body(arg);
}

/* ---- matrix products ------------------------------------------------------------ */
/* The integer dot product for rows of dtype against int8-rounded x, or NULL. */
static xlstm__dot_i8_fn xlstm__dot_i8(const xlstm__kern *k, int dtype) {
    return dtype == XLSTM__DT_Q4 ? k->dot_q4_i8 : dtype == XLSTM__DT_Q8 ? k->dot_q8_i8 : NULL;
}

/* y0 = m0 x, and y1 = m1 x when m1 is given (the same type and shape: a
   SwiGLU's two matrices), in one parallel loop; or (xlstm__matvecs) a few
   vectors against m0. q4 and q8 with an 8-bit dot product: each x rounded
   to int8 once for all rows (with few rows the rounding would cost more than
   it saves); bf16 (one vector): x split into even and odd elements once. */
#define XLSTM__MATVECS_MAX (XLSTM__SMALL_BATCH - 1) /* vectors per xlstm__matvecs */
typedef struct xlstm__matvec_ctx {
    const xlstm_state *s;
    const xlstm__mat *m0, *m1;
    const float *X; /* vector j at X + j ldx, for the dot products on f32 x */
    size_t ldx;
    float *y0, *y1;
    float *const *yp;        /* nx > 1: vector j's outputs (m0 alone) */
    int nx;                  /* vectors */
    xlstm__dot_i8_fn dot_i8; /* non-NULL: vector j is in xq[j] */
    void (*dot2_i8)(const unsigned char *row, size_t row_bytes, const float *scale, size_t nblk, const xlstm__xq *x, int n,
                    float *y); /* dot_i8's two-row form (q4), or NULL */
    xlstm__xq xq[XLSTM__MATVECS_MAX]; /* with the q4 layout for q4 rows */
    int eo;                  /* bf16 against the one vector split even/odd in xeo */
    const float *xeo;
} xlstm__matvec_ctx;

/* one stored row against vector j, as a step multiplies it */
static float xlstm__matvec_dot(const xlstm__matvec_ctx *c, const xlstm__mat *m, const unsigned char *row, const float *sc, int j) {
    const int cols = m->cols;
    return c->dot_i8 ? c->dot_i8(row, sc, &c->xq[j], cols)
           : c->eo   ? c->s->model->kern->dot_bf16_eo(row, c->xeo, cols)
                     : c->s->model->kern->dot[m->dtype](row, sc, c->X + XLSTM__CAST(size_t, j) * c->ldx, cols);
}

/* outputs [lo, hi) of (y0 | y1), or of every vector's */
static void xlstm__matvec_rows(void *ctx, int t, int lo, int hi) {
    const xlstm__matvec_ctx *c = XLSTM__CAST(const xlstm__matvec_ctx *, ctx);
    const int rows = c->m0->rows;
    const size_t nblk = XLSTM__CAST(size_t, c->m0->cols) / XLSTM__QBLOCK;
    int r, j;
    (void)t;
    for (r = lo; r < hi; r++) {
        const xlstm__mat *m = r < rows ? c->m0 : c->m1;
        const int ri = r < rows ? r : r - rows;
        const unsigned char *row = m->w + XLSTM__CAST(size_t, ri) * m->row_bytes;
        const float *sc = m->scale ? m->scale + XLSTM__CAST(size_t, ri) * nblk : NULL;
        if (c->nx == 1 && c->dot2_i8 && r + 1 < hi && (r + 1 < rows) == (r < rows)) { /* two rows of one matrix */
            c->dot2_i8(row, m->row_bytes, sc, nblk, &c->xq[0], m->cols, (r < rows ? c->y0 : c->y1) + ri);
            r++;
        } else if (c->nx == 1) (r < rows ? c->y0 : c->y1)[ri] = xlstm__matvec_dot(c, m, row, sc, 0);
        else
            for (j = 0; j < c->nx; j++) c->yp[j][ri] = xlstm__matvec_dot(c, m, row, sc, j);
    }
}

#ifndef XLSTM__DOT2_MAX_COLS
#define XLSTM__DOT2_MAX_COLS 2048
#endif
/* Which row kernels a step takes for m (the rule of xlstm__matvec). */
static void xlstm__matvec_kinds(const xlstm_state *s, const xlstm__mat *m, xlstm__matvec_ctx *c) {
    const xlstm__kern *k = s->model->kern;
    const xlstm__dot_i8_fn dot_i8 = xlstm__dot_i8(k, m->dtype);
    c->dot_i8 = dot_i8 && m->rows >= 64 ? dot_i8 : NULL;
    /* two q4 rows per call share x's loads (125M, 1 thread: +20%), but on rows wider than
       XLSTM__DOT2_MAX_COLS the two interleaved streams read memory slower than one (7B, 2 threads:
       7.1-7.8 -> 8.5-9.4 tok/s with single rows) */
    c->dot2_i8 = c->dot_i8 && m->dtype == XLSTM__DT_Q4 && m->cols <= XLSTM__DOT2_MAX_COLS ? k->dot2_q4_i8 : NULL;
    c->eo = m->dtype == XLSTM__DT_BF16 && k->dot_bf16_eo && m->rows >= 64;
}

static void xlstm__matvec(xlstm_state *s, const xlstm__mat *m0, const xlstm__mat *m1, const float *X, float *y0, float *y1) {
    const int rows = m0->rows, cols = m0->cols, all = m1 ? 2 * rows : rows;
    xlstm__matvec_ctx c;
    c.s = s, c.m0 = m0, c.m1 = m1, c.X = X, c.ldx = 0, c.y0 = y0, c.y1 = y1, c.yp = NULL, c.nx = 1;
    xlstm__matvec_kinds(s, m0, &c);
    c.xq[0] = s->xq, c.xeo = s->xeo;
    if (c.dot_i8) xlstm__quantize_x(X, cols, &s->xq);
    if (c.dot_i8 && m0->dtype == XLSTM__DT_Q4) {
        c.xq[0].q4 = s->xq4.q4, c.xq[0].d4 = s->xq4.d4, c.xq[0].o4 = s->xq4.o4;
        xlstm__xq_q4_layout(&c.xq[0], cols);
    }
    if (c.eo) xlstm__even_odd(s->xeo, X, cols);
    xlstm__for(s, all, 16, XLSTM__CAST(size_t, all) * XLSTM__CAST(size_t, cols), XLSTM_PARALLEL_MIN_WORK, xlstm__matvec_rows, &c);
}

/* yp[j] = m X_j for 2 <= nx <= XLSTM__MATVECS_MAX vectors (rows of X, ldx
   apart) with the row kernels of a step where a step rounds x to int8 (q8,
   q4), so that a small batch gives each sequence the numbers its own step
   would, each weight row read from memory once for all of them; the rounded
   vectors live in s->xt (free between products). Returns 0, doing nothing,
   where the step multiplies 64 or more rows by f32 x: the caller's 8-vector
   dot products do that faster, equal within rounding. */
static int xlstm__matvecs(xlstm_state *s, const xlstm__mat *m, const float *X, size_t ldx, int nx, float *const *yp) {
    const int rows = m->rows, cols = m->cols;
    const size_t per = 2 * XLSTM__CAST(size_t, cols), cw = XLSTM__CAST(size_t, cols);
    xlstm__matvec_ctx c;
    int j;
    c.s = s, c.m0 = m, c.m1 = NULL, c.X = X, c.ldx = ldx, c.y0 = NULL, c.y1 = NULL, c.yp = yp, c.nx = nx;
    xlstm__matvec_kinds(s, m, &c);
    if (nx < 2 || nx > XLSTM__MATVECS_MAX || (!c.dot_i8 && rows >= 64)) return 0;
    c.eo = 0, c.xeo = NULL; /* bf16: f32 x, as the 8-vector dot products */
    for (j = 0; j < nx && c.dot_i8; j++) {
        xlstm__xq *q = &c.xq[j], q4;
        xlstm__xq_place(s->xt + XLSTM__CAST(size_t, j) * per, cw, q, &q4);
        xlstm__quantize_x(X + XLSTM__CAST(size_t, j) * ldx, cols, q);
        if (m->dtype == XLSTM__DT_Q4) {
            q->q4 = q4.q4, q->d4 = q4.d4, q->o4 = q4.o4;
            xlstm__xq_q4_layout(q, cols);
        }
    }
    xlstm__for(s, rows, 16, XLSTM__CAST(size_t, rows) * cw * XLSTM__CAST(size_t, nx), XLSTM_PARALLEL_MIN_WORK, xlstm__matvec_rows, &c);
    return 1;
}

#if defined(XLSTM__HAVE_FAST)
/* The loops of xlstm__matmul_fast (its arguments, and the packed layout's sizes) */
typedef struct xlstm__fast_ctx {
    xlstm_state *s;
    const xlstm__mat *m;
    const float *X;
    size_t ldx;
    int nx;
    float *const *yp;
} xlstm__fast_ctx;
static void xlstm__fast_i8_pack_items(void *ctx, int task, int lo, int hi) {
    const xlstm__fast_ctx *c = XLSTM__CAST(const xlstm__fast_ctx *, ctx);
    xlstm_state *s = c->s;
    const float *X = c->X;
    const size_t ldx = c->ldx;
    const int nx = c->nx, cols = c->m->cols;
    const int nb = cols / XLSTM__QBLOCK, nbp = (nb + 1) / 2;
    const size_t gstride = XLSTM__CAST(size_t, nb) * 288, nblk = XLSTM__CAST(size_t, nb);
    int u;
    (void)task;
    for (u = lo; u < hi; u++) {
        const int g = u / (2 * nbp), sg = u / nbp % 2, bp = u % nbp, np = nx - 32 * g <= 16 ? 16 : 32;
        const int nv = nx - 32 * g - 16 * sg < 16 ? nx - 32 * g - 16 * sg : 16;
        float *base = s->xt + XLSTM__CAST(size_t, g) * gstride;
        if (16 * sg >= np) continue;
        xlstm__fast_pack_i8(XLSTM__CAST(unsigned char *, XLSTM__CAST(void *, base)) + (XLSTM__CAST(size_t, 16 * bp) * np + 16 * sg) * 4,
                            base + 256 * nblk + XLSTM__CAST(size_t, 2 * bp) * np + 16 * sg, XLSTM__CAST(size_t, np),
                            X + XLSTM__CAST(size_t, 32 * g + 16 * sg) * ldx, ldx, nv, 2 * bp, nb - 2 * bp < 2 ? 1 : 2);
    }
}
static void xlstm__fast_i8_tiles(void *ctx, int task, int lo, int hi) {
    const xlstm__fast_ctx *c = XLSTM__CAST(const xlstm__fast_ctx *, ctx);
    xlstm_state *s = c->s;
    const xlstm__mat *m = c->m;
    const int nx = c->nx, rows = m->rows, cols = m->cols;
    float *const *yp = c->yp;
    const int nb = cols / XLSTM__QBLOCK, groups = (nx + 31) / 32;
    const size_t gstride = XLSTM__CAST(size_t, nb) * 288, nblk = XLSTM__CAST(size_t, nb);
    int rt;
    for (rt = lo; rt < hi; rt++) {
        const int r0 = XLSTM__FMR * rt, nr = rows - r0 < XLSTM__FMR ? rows - r0 : XLSTM__FMR;
        int t, g, jj;
        float *out, *wst;
        int32_t *corr;
        signed char *wt;
        const signed char *W = XLSTM__CAST(const signed char *, XLSTM__CAST(const void *, m->w + XLSTM__CAST(size_t, r0) * m->row_bytes));
        const float *ws = m->scale + XLSTM__CAST(size_t, r0) * nblk;
        size_t ldw = m->row_bytes, lds = nblk;
        out = s->deq + XLSTM__CAST(size_t, task) * s->deq_stride;
        if (rt + 1 < hi) { /* the next tile's rows, which come from memory, while this one runs */
            const unsigned char *nxt = m->w + XLSTM__CAST(size_t, r0 + XLSTM__FMR) * m->row_bytes;
            size_t o;
            for (o = 0; o < XLSTM__CAST(size_t, XLSTM__FMR) * m->row_bytes; o += 64) XLSTM__PREFETCH_L2(nxt + o);
        }
        corr = XLSTM__CAST(int32_t *, XLSTM__CAST(void *, out + XLSTM__FMR * 32));
        wst = out + XLSTM__FMR * 32 + XLSTM__FMR * nblk;
        wt = XLSTM__CAST(signed char *, XLSTM__CAST(void *, wst + XLSTM__FMR * nblk));
        if (m->dtype == XLSTM__DT_Q4 || nr < XLSTM__FMR) {
            /* q4 rows unpacked to int8; a tail tile's missing rows are zeros */
            for (t = 0; t < XLSTM__FMR; t++) {
                signed char *o = wt + XLSTM__CAST(size_t, t) * cols;
                if (t >= nr) memset(o, 0, XLSTM__CAST(size_t, cols));
                else if (m->dtype == XLSTM__DT_Q4) xlstm__fast_unpack_q4(o, m->w + XLSTM__CAST(size_t, r0 + t) * m->row_bytes, nb);
                else memcpy(o, m->w + XLSTM__CAST(size_t, r0 + t) * m->row_bytes, XLSTM__CAST(size_t, cols));
            }
            W = wt, ldw = XLSTM__CAST(size_t, cols);
            if (nr < XLSTM__FMR) {
                memset(wst, 0, XLSTM__FMR * nblk * sizeof(float));
                memcpy(wst, ws, XLSTM__CAST(size_t, nr) * nblk * sizeof(float));
                ws = wst;
            }
        }
        xlstm__fast_i8_corr(W, ldw, nb, corr);
        for (g = 0; g < groups; g++) {
            const int nt = nx - 32 * g < 32 ? nx - 32 * g : 32, np = nt <= 16 ? 16 : 32;
            const float *base = s->xt + XLSTM__CAST(size_t, g) * gstride;
            xlstm__fast_i8_tile(W, ldw, ws, lds, corr, XLSTM__CAST(const unsigned char *, XLSTM__CAST(const void *, base)), base + 256 * nblk,
                                XLSTM__CAST(size_t, np), nb, out);
            for (jj = 0; jj < nt; jj++)
                for (t = 0; t < nr; t++) yp[32 * g + jj][r0 + t] = out[32 * t + jj];
        }
    }
}
#if defined(XLSTM__HAVE_FAST_BF16)
static void xlstm__fast_bf16_pack_items(void *ctx, int task, int lo, int hi) {
    const xlstm__fast_ctx *c = XLSTM__CAST(const xlstm__fast_ctx *, ctx);
    xlstm_state *s = c->s;
    const float *X = c->X;
    const size_t ldx = c->ldx;
    const int nx = c->nx, cols = c->m->cols;
    const int npairs = cols / 2, npb = (npairs + 15) / 16;
    const size_t gstride = XLSTM__CAST(size_t, 64) * XLSTM__CAST(size_t, npairs);
    int u;
    (void)task;
    for (u = lo; u < hi; u++) {
        const int g = u / (4 * npb), sg = u / npb % 4, pb = u % npb, left = nx - 64 * g;
        const int np = (left < 64 ? left + 15 : 64) / 16 * 16, nv = left - 16 * sg < 16 ? left - 16 * sg : 16;
        if (16 * sg >= np) continue;
        xlstm__fast_pack_bf16(s->xt + XLSTM__CAST(size_t, g) * gstride + XLSTM__CAST(size_t, 16 * pb) * np + 16 * sg, XLSTM__CAST(size_t, np),
                              X + XLSTM__CAST(size_t, 64 * g + 16 * sg) * ldx, ldx, nv, 16 * pb,
                              npairs - 16 * pb < 16 ? npairs - 16 * pb : 16);
    }
}
static void xlstm__fast_bf16_tiles(void *ctx, int task, int lo, int hi) {
    const xlstm__fast_ctx *c = XLSTM__CAST(const xlstm__fast_ctx *, ctx);
    xlstm_state *s = c->s;
    const xlstm__mat *m = c->m;
    const int nx = c->nx, rows = m->rows, cols = m->cols;
    float *const *yp = c->yp;
    const int npairs = cols / 2, groups = (nx + 63) / 64;
    const size_t gstride = XLSTM__CAST(size_t, 64) * XLSTM__CAST(size_t, npairs);
    int rt;
    for (rt = lo; rt < hi; rt++) {
        const int r0 = XLSTM__FMR * rt, nr = rows - r0 < XLSTM__FMR ? rows - r0 : XLSTM__FMR;
        int t, g, jj;
        const unsigned char *W = m->w + XLSTM__CAST(size_t, r0) * m->row_bytes;
        size_t ldw = m->row_bytes;
        float *out;
        out = s->deq + XLSTM__CAST(size_t, task) * s->deq_stride;
        if (nr < XLSTM__FMR || m->dtype != XLSTM__DT_BF16) {
            /* f32 and f16 rows rounded to bf16; a tail tile's missing rows are zeros */
            unsigned char *wt = XLSTM__CAST(unsigned char *, XLSTM__CAST(void *, out + XLSTM__FMR * 64));
            const size_t rb = XLSTM__CAST(size_t, cols) * 2;
            for (t = 0; t < XLSTM__FMR; t++) {
                unsigned char *o = wt + XLSTM__CAST(size_t, t) * rb;
                if (t >= nr) memset(o, 0, rb);
                else if (m->dtype == XLSTM__DT_BF16) memcpy(o, W + XLSTM__CAST(size_t, t) * m->row_bytes, rb);
                else xlstm__fast_row_bf16(o, W + XLSTM__CAST(size_t, t) * m->row_bytes, m->dtype, cols);
            }
            W = wt, ldw = rb;
        }
        for (g = 0; g < groups; g++) {
            const int nt = nx - 64 * g < 64 ? nx - 64 * g : 64, np = (nt + 15) / 16 * 16;
            xlstm__fast_bf16_tile(W, ldw, s->xt + XLSTM__CAST(size_t, g) * gstride, XLSTM__CAST(size_t, np), npairs, out);
            for (jj = 0; jj < nt; jj++)
                for (t = 0; t < nr; t++) yp[64 * g + jj][r0 + t] = out[64 * t + jj];
        }
    }
}
#endif

#endif

/* Y = W X^T with the fast prompt products (xlstm_model_params.fast_prompts)
   for the matrices and inputs they apply to: bf16 weights (f32 and f16 ones
   rounded to bf16 a tile at a time; even cols), q8 and q4 weights; returns
   0, having done nothing, elsewhere. X is packed into
   s->xt (bf16 pairs of groups of 64 vectors, or int8 quads of groups of 32
   with their scales), then each tile of XLSTM__FMR weight rows is multiplied
   into every group in the thread's tile scratch (s->deq: the output tile,
   then the rows of a tail tile or of unpacked q4, their scales and block
   sums) and scattered to the output rows. */
static int xlstm__matmul_fast(xlstm_state *s, const xlstm__mat *m, const float *X, size_t ldx, int nx, float *const *yp) {
#if defined(XLSTM__HAVE_FAST)
    const int rows = m->rows, cols = m->cols, tiles = (rows + XLSTM__FMR - 1) / XLSTM__FMR;
    const int i8 = s->model->fast_i8 && (m->dtype == XLSTM__DT_Q8 || m->dtype == XLSTM__DT_Q4) && m->scale && cols % XLSTM__QBLOCK == 0;
    const size_t work = XLSTM__CAST(size_t, rows) * XLSTM__CAST(size_t, cols) * XLSTM__CAST(size_t, nx);
    xlstm__fast_ctx c;
#if defined(XLSTM__HAVE_FAST_BF16)
    const int bf16 = s->model->fast_bf16 && (m->dtype == XLSTM__DT_BF16 || m->dtype == XLSTM__DT_F32 || m->dtype == XLSTM__DT_F16) &&
                     cols % 2 == 0;
#else
    const int bf16 = 0;
#endif
    if (!(bf16 || i8) || nx < XLSTM__SMALL_BATCH || rows < 4 * XLSTM__WTILE || cols < XLSTM__QBLOCK) return 0;
    c.s = s, c.m = m, c.X = X, c.ldx = ldx, c.nx = nx, c.yp = yp;
    if (i8) { /* each group of 32 vectors: int8 quads (nb, 8, 32, 4 bytes), then scales (nb, 32): 288 nb floats */
        const int nb = cols / XLSTM__QBLOCK, nbp = (nb + 1) / 2, groups = (nx + 31) / 32;
        xlstm__for(s, groups * 2 * nbp, 1, work, XLSTM_PARALLEL_MIN_WORK, xlstm__fast_i8_pack_items, &c);
        xlstm__for(s, tiles, 1, work, XLSTM_PARALLEL_MIN_WORK, xlstm__fast_i8_tiles, &c);
        return 1;
    }
#if defined(XLSTM__HAVE_FAST_BF16)
    {
        const int npairs = cols / 2, npb = (npairs + 15) / 16, groups = (nx + 63) / 64; /* 64 npairs floats (pairs) per group */
        xlstm__for(s, groups * 4 * npb, 1, work, XLSTM_PARALLEL_MIN_WORK, xlstm__fast_bf16_pack_items, &c);
        xlstm__for(s, tiles, 1, work, XLSTM_PARALLEL_MIN_WORK, xlstm__fast_bf16_tiles, &c);
    }
#endif
    return 1;
#else
    (void)s, (void)m, (void)X, (void)ldx, (void)nx, (void)yp;
    return 0;
#endif
}

/* Y[j] = W x_j (+ bias) for the nx row vectors of X (stride ldx). Output rows
   go to Y + j*ldy, or to Yrows[j] when Yrows is given. Fewer than
   XLSTM__SMALL_BATCH vectors (or a matrix of few rows): each weight row
   widened once, then multiplied into the vectors 8 at a time. More: a matrix
   product, with tiles of XLSTM__WTILE rows widened to f32 once. */
typedef struct xlstm__matmul_ctx {
    const xlstm_state *s;
    const xlstm__mat *m;
    const float *X;
    size_t ldx;
    int nx, groups, tiles;
    float *const *yp;  /* output row pointers */
    const float *bias; /* added as each output is stored, or NULL */
} xlstm__matmul_ctx;

/* Weight rows [r0, r1) against vectors [j0, j1), 8 at a time: each row
   widened once into task t's tile scratch (f32 rows are read in place). */
static void xlstm__matmul_dots(const xlstm__matmul_ctx *c, int t, int r0, int r1, int j0, int j1) {
    const xlstm__mat *m = c->m;
    const xlstm__kern *k = c->s->model->kern;
    const int cols = m->cols;
    const size_t nblk = XLSTM__CAST(size_t, cols) / XLSTM__QBLOCK;
    int r;
    for (r = r0; r < r1; r++) {
        const unsigned char *row = m->w + XLSTM__CAST(size_t, r) * m->row_bytes;
        const float *w = XLSTM__CAST(const float *, XLSTM__CAST(const void *, row));
        const float b = c->bias ? c->bias[r] : 0.0f;
        float res[8];
        int jv, v;
        if (m->dtype != XLSTM__DT_F32) {
            float *buf = c->s->deq + XLSTM__CAST(size_t, t) * c->s->deq_stride;
            k->dequant[m->dtype](buf, row, m->scale ? m->scale + XLSTM__CAST(size_t, r) * nblk : NULL, cols);
            w = buf;
        }
        for (jv = j0; jv < j1; jv += 8) {
            const int cnt = j1 - jv < 8 ? j1 - jv : 8;
            k->dots(w, c->X + XLSTM__CAST(size_t, jv) * c->ldx, c->ldx, cnt, cols, res);
            for (v = 0; v < cnt; v++) c->yp[jv + v][r] = c->bias ? res[v] + b : res[v];
        }
    }
}
/* A small batch: weight rows [lo, hi) against all nx vectors */
static void xlstm__matmul_rows(void *ctx, int t, int lo, int hi) {
    const xlstm__matmul_ctx *c = XLSTM__CAST(const xlstm__matmul_ctx *, ctx);
    xlstm__matmul_dots(c, t, lo, hi, 0, c->nx);
}
/* A few weight rows (gates) against many vectors: vectors [8 lo, 8 hi) */
static void xlstm__matmul_vecs(void *ctx, int t, int lo, int hi) {
    const xlstm__matmul_ctx *c = XLSTM__CAST(const xlstm__matmul_ctx *, ctx);
    xlstm__matmul_dots(c, t, 0, c->m->rows, 8 * lo, 8 * hi < c->nx ? 8 * hi : c->nx);
}

/* X^T, 16 x 16 blocks of columns [16 lo, 16 hi) of every group of
   XLSTM__XGROUP vectors (zero-padded past nx or cols by the plain loop). */
static void xlstm__matmul_transpose(void *ctx, int t, int lo, int hi) {
    const xlstm__matmul_ctx *c = XLSTM__CAST(const xlstm__matmul_ctx *, ctx);
    const xlstm__kern *k = c->s->model->kern;
    const int cols = c->m->cols, nx = c->nx;
    const size_t ldx = c->ldx;
    int g, cc, c0, c1, jb, jj;
    (void)t;
    for (g = 0; g < c->groups; g++) {
        const int nt = nx - XLSTM__XGROUP * g < XLSTM__XGROUP ? nx - XLSTM__XGROUP * g : XLSTM__XGROUP, np = (nt + 15) / 16 * 16;
        float *xt = c->s->xt + XLSTM__CAST(size_t, g) * XLSTM__XGROUP * cols;
        for (c0 = 16 * lo; c0 < 16 * hi; c0 += 16) {
            c1 = c0 + 16 < cols ? c0 + 16 : cols;
            for (jb = 0; jb < np; jb += 16) {
                const float *xb = c->X + XLSTM__CAST(size_t, XLSTM__XGROUP * g + jb) * ldx;
                if (c1 - c0 == 16 && jb + 16 <= nt) {
                    k->transpose16(xt + XLSTM__CAST(size_t, c0) * np + jb, XLSTM__CAST(size_t, np), xb + c0, ldx);
                    continue;
                }
                for (jj = 0; jj < 16; jj++)
                    for (cc = c0; cc < c1; cc++)
                        xt[XLSTM__CAST(size_t, cc) * np + jb + jj] = jb + jj < nt ? xb[XLSTM__CAST(size_t, jj) * ldx + cc] : 0.0f;
            }
        }
    }
}

/* Tiles [lo, hi) of XLSTM__WTILE weight rows, each widened to f32 once into
   task t's scratch, times every group of X^T, scattered to the output rows. */
static void xlstm__matmul_tiles(void *ctx, int t, int lo, int hi) {
    const xlstm__matmul_ctx *c = XLSTM__CAST(const xlstm__matmul_ctx *, ctx);
    const xlstm__mat *m = c->m;
    const xlstm__kern *k = c->s->model->kern;
    const int rows = m->rows, cols = m->cols, nx = c->nx;
    const size_t nblk = XLSTM__CAST(size_t, cols) / XLSTM__QBLOCK;
    float *tile = c->s->deq + XLSTM__CAST(size_t, t) * c->s->deq_stride;
    float *out = tile + XLSTM__CAST(size_t, XLSTM__WTILE) * cols;
    int rt, g, jj, i;
    for (rt = lo; rt < hi; rt++) {
        const int r0 = XLSTM__WTILE * rt, nr = rows - r0 < XLSTM__WTILE ? rows - r0 : XLSTM__WTILE;
        const float *W;
        if (m->dtype == XLSTM__DT_F32) {
            W = XLSTM__CAST(const float *, XLSTM__CAST(const void *, m->w + XLSTM__CAST(size_t, r0) * m->row_bytes));
        } else {
            /* the next tile's stored rows (one contiguous run) stream towards
               L2 while this tile's products run: short rows give the hardware
               prefetcher too little to go on */
            const unsigned char *next = m->w + XLSTM__CAST(size_t, r0 + nr) * m->row_bytes;
            const size_t next_bytes = rt + 1 < c->tiles ? XLSTM__CAST(size_t, XLSTM__WTILE) * m->row_bytes : 0;
            size_t off;
            for (i = 0; i < nr; i++)
                k->dequant[m->dtype](tile + XLSTM__CAST(size_t, i) * cols, m->w + XLSTM__CAST(size_t, r0 + i) * m->row_bytes,
                                     m->scale ? m->scale + XLSTM__CAST(size_t, r0 + i) * nblk : NULL, cols);
            for (off = 0; off < next_bytes && r0 + nr + XLSTM__WTILE <= rows; off += 64) XLSTM__PREFETCH_L2(next + off);
            W = tile;
        }
        for (g = 0; g < c->groups; g++) {
            const int nt = nx - XLSTM__XGROUP * g < XLSTM__XGROUP ? nx - XLSTM__XGROUP * g : XLSTM__XGROUP, np = (nt + 15) / 16 * 16;
            k->gemm(nr, np, cols, W, XLSTM__CAST(size_t, cols), 1, c->s->xt + XLSTM__CAST(size_t, g) * XLSTM__XGROUP * cols,
                    XLSTM__CAST(size_t, np), 0.0f, out, XLSTM__CAST(size_t, np));
            for (jj = 0; jj < nt; jj++) {
                float *y = c->yp[XLSTM__XGROUP * g + jj] + r0;
                if (c->bias)
                    for (i = 0; i < nr; i++) y[i] = out[i * np + jj] + c->bias[r0 + i];
                else
                    for (i = 0; i < nr; i++) y[i] = out[i * np + jj];
            }
        }
    }
}

static void xlstm__matmul(xlstm_state *s, const xlstm__mat *m, const float *X, size_t ldx, int nx, float *Y,
                          size_t ldy, float *const *Yrows, const float *bias) {
    float *const *yp = Yrows;
    int r, j, rows = m->rows, cols = m->cols;
    const size_t work = XLSTM__CAST(size_t, rows) * XLSTM__CAST(size_t, cols) * XLSTM__CAST(size_t, nx);
    xlstm__matmul_ctx c;
    if (!yp) {
        for (j = 0; j < nx; j++) s->yptr[j] = Y + XLSTM__CAST(size_t, j) * ldy;
        yp = s->yptr;
    }
    c.s = s, c.m = m, c.X = X, c.ldx = ldx, c.nx = nx, c.yp = yp, c.bias = bias;
    c.groups = (nx + XLSTM__XGROUP - 1) / XLSTM__XGROUP, c.tiles = (rows + XLSTM__WTILE - 1) / XLSTM__WTILE;
    if (s->model->fast_bf16 + s->model->fast_i8 && xlstm__matmul_fast(s, m, X, ldx, nx, yp)) {
        /* done with the fast prompt products; the bias below */
    } else if (nx == 1) {
        xlstm__matvec(s, m, NULL, X, yp[0], NULL);
    } else if (nx < XLSTM__SMALL_BATCH && xlstm__matvecs(s, m, X, ldx, nx, yp)) {
        /* a small batch: each vector as its own step multiplies it */
    } else if (rows < 16 && nx >= XLSTM__SMALL_BATCH) {
        /* a few weight rows (gates) against many vectors: split the vectors */
        xlstm__for(s, (nx + 7) / 8, 1, work, XLSTM_PARALLEL_MIN_WORK, xlstm__matmul_vecs, &c);
        return;
    } else if (nx < XLSTM__SMALL_BATCH || rows < 4 * XLSTM__WTILE) {
        /* a few vectors (a small batch), or a few weight rows, where
           transposing X would cost more than the product */
        xlstm__for(s, rows, 16, work, XLSTM_PARALLEL_MIN_WORK, xlstm__matmul_rows, &c);
        return;
    } else {
        /* X^T in groups of XLSTM__XGROUP vectors, each (cols, np) with np
           their count rounded up to 16 (zero-padded); then each tile of
           XLSTM__WTILE weight rows times every group. Two loops: the tiles need all of X^T (the second
           fork costs about as much as the barrier it replaces) */
        xlstm__for(s, (cols + 15) / 16, 1, work, XLSTM_PARALLEL_MIN_WORK, xlstm__matmul_transpose, &c);
        xlstm__for(s, c.tiles, 2, work, XLSTM_PARALLEL_MIN_WORK, xlstm__matmul_tiles, &c);
        return;
    }
    if (bias) /* the fast products' and one vector's */
        for (j = 0; j < nx; j++)
            for (r = 0; r < rows; r++) yp[j][r] += bias[r];
}

/* Block-diagonal (headwise) projection: m is (nb*bs, bs); output r reads the
   input block r / bs: y[r] = W[r] . x[(r/bs)*bs .. +bs]. */
typedef struct xlstm__headwise_ctx {
    const xlstm_state *s;
    const xlstm__mat *m;
    const float *W; /* tiny blocks: the weights as f32 */
    const float *X;
    size_t ldx;
    float *Y;
    size_t ldy;
    const float *bias;
    xlstm__dot_i8_fn dot_i8; /* non-NULL: the input row is in s->xq */
} xlstm__headwise_ctx;

/* Tiny blocks: input rows [lo, hi), every output of each. */
static void xlstm__headwise_tiny(void *ctx, int t, int lo, int hi) {
    const xlstm__headwise_ctx *c = XLSTM__CAST(const xlstm__headwise_ctx *, ctx);
    const int bs = c->m->cols, rows = c->m->rows;
    const float *W = c->W, *bias = c->bias;
    int j;
    (void)t;
    for (j = lo; j < hi; j++) {
        const float *x = c->X + XLSTM__CAST(size_t, j) * c->ldx;
        float *y = c->Y + XLSTM__CAST(size_t, j) * c->ldy;
        int ro = 0;
        if (bs == 4) { /* the 2024 LM's qkv_proj_blocksize */
            c->s->model->kern->headwise4(W, x, bias, y, rows);
            ro = rows;
        }
        for (; ro < rows; ro++) {
            const float *w = W + XLSTM__CAST(size_t, ro) * bs, *xb = x + XLSTM__CAST(size_t, ro / bs) * bs;
            float acc = 0.0f;
            int i;
            for (i = 0; i < bs; i++) acc += w[i] * xb[i];
            y[ro] = acc + (bias ? bias[ro] : 0.0f);
        }
    }
}

/* One input row (c->X, c->Y): outputs [lo, hi), each against its block. */
static void xlstm__headwise_outputs(void *ctx, int t, int lo, int hi) {
    const xlstm__headwise_ctx *c = XLSTM__CAST(const xlstm__headwise_ctx *, ctx);
    const xlstm__mat *m = c->m;
    const xlstm__kern *k = c->s->model->kern;
    const int bs = m->cols;
    const size_t nblk = XLSTM__CAST(size_t, bs) / XLSTM__QBLOCK;
    int r;
    (void)t;
    for (r = lo; r < hi; r++) {
        const unsigned char *row = m->w + XLSTM__CAST(size_t, r) * m->row_bytes;
        const float *sc = m->scale ? m->scale + XLSTM__CAST(size_t, r) * nblk : NULL;
        const size_t x0 = XLSTM__CAST(size_t, r / bs) * XLSTM__CAST(size_t, bs);
        float acc;
        if (c->dot_i8) {
            const xlstm__xq xs = xlstm__xq_from(&c->s->xq, x0);
            acc = c->dot_i8(row, sc, &xs, bs);
        } else {
            acc = k->dot[m->dtype](row, sc, c->X + x0, bs);
        }
        c->Y[r] = acc + (c->bias ? c->bias[r] : 0.0f);
    }
}

static void xlstm__headwise(xlstm_state *s, const xlstm__mat *m, const float *X, size_t ldx, int nx, float *Y,
                            size_t ldy, const float *bias) {
    const xlstm__kern *k = s->model->kern;
    int j, bs = m->cols;
    size_t nblk = XLSTM__CAST(size_t, bs) / XLSTM__QBLOCK;
    xlstm__dot_i8_fn dot_i8 = xlstm__dot_i8(k, m->dtype);
    xlstm__headwise_ctx c;
    c.s = s, c.m = m, c.W = NULL, c.X = X, c.ldx = ldx, c.Y = Y, c.ldy = ldy, c.bias = bias, c.dot_i8 = NULL;
    if (bs < 16 && (m->dtype == XLSTM__DT_F32 ||
                    (!m->scale && XLSTM__CAST(size_t, m->rows) * XLSTM__CAST(size_t, bs) <= XLSTM__CAST(size_t, s->n_threads) * s->deq_stride))) {
        /* tiny blocks: a call per output would dominate; 16-bit weights are
           widened once into the tile scratch */
        c.W = XLSTM__CAST(const float *, XLSTM__CAST(const void *, m->w));
        if (m->dtype != XLSTM__DT_F32) {
            k->dequant[m->dtype](s->deq, m->w, NULL, m->rows * bs);
            c.W = s->deq;
        }
        XLSTM__FOR_ROWS(s, nx, xlstm__headwise_tiny, &c);
        return;
    }
    if (nx >= XLSTM__SMALL_BATCH) { /* a prompt chunk or a batch: a matrix product per block */
        int b;
        for (b = 0; b < m->rows / bs; b++) {
            xlstm__mat blk = *m;
            const size_t r0 = XLSTM__CAST(size_t, b) * XLSTM__CAST(size_t, bs);
            blk.w = m->w + r0 * m->row_bytes;
            blk.scale = m->scale ? m->scale + r0 * nblk : NULL;
            blk.rows = bs;
            xlstm__matmul(s, &blk, X + r0, ldx, nx, Y + r0, ldy, NULL, bias ? bias + r0 : NULL);
        }
        return;
    }
    c.dot_i8 = dot_i8; /* as in xlstm__matmul; the input is rows wide */
    for (j = 0; j < nx; j++) {
        c.X = X + XLSTM__CAST(size_t, j) * ldx;
        c.Y = Y + XLSTM__CAST(size_t, j) * ldy;
        if (dot_i8) xlstm__quantize_x(c.X, m->rows, &s->xq);
        xlstm__for(s, m->rows, 16, XLSTM__CAST(size_t, m->rows) * XLSTM__CAST(size_t, bs), 2 * XLSTM_PARALLEL_MIN_WORK,
                   xlstm__headwise_outputs, &c);
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

static double xlstm__dot_double(const float *a, const float *b, int n) {
    double acc = 0.0;
    int i;
    for (i = 0; i < n; i++) acc += XLSTM__CAST(double, a[i]) * b[i];
    return acc;
}

/* h = num / (max(|q.n|, exp(-m)) + eps): the exp(-m) floor is the stabilised
   form of the paper's max(|q.n|, 1), in units where n carries a factor e^-m */
static void xlstm__normalise_head(const xlstm__kern *k, float *h, int dv, float qn, float m, float eps) {
    float denom = fabsf(qn);
    if (expf(-m) > denom) denom = expf(-m);
    k->div(h, denom + eps, dv);
}

/* The cell over a chunk of L tokens of one sequence, per head, in closed form.
   With b_t the running sum of log forget gates and g_t = b_t + m_0, the step
   recurrence unrolls to
     m_t = max(g_t, max_{s<=t} b_t - b_s + i_s)
     h_t ~ exp(g_t - m_t) q_t C_0 + sum_{s<=t} exp(b_t - b_s + i_s - m_t) (q_t.k_s) v_s
   which is the same function as L steps, computed with matrix products: the
   state is read once for the chunk instead of once per token. */
#define XLSTM__ROW(base, ld, t, off) ((base) + XLSTM__CAST(size_t, t) * (ld) + XLSTM__CAST(size_t, off))
/* Decay weights below 1e-30 count as 0: they are e^-69 of the chunk's
   largest term, and their products with q, k or v would be denormal, which
   makes every multiply that meets them take a microcode assist (prompts ran
   5x slower over 128-token chunks of a random model). */
static float xlstm__flush_tiny(float x) { return fabsf(x) < 1e-30f ? 0.0f : x; }
static float xlstm__decay(float x) { return x < -69.0f ? 0.0f : expf(x); }
typedef struct xlstm__cell_ctx {
    const xlstm_state *s;
    xlstm__bstate *st; /* the chunk's sequence (chunkwise form only) */
    int L, bi;         /* tokens of the chunk; the block (one step per row) */
    const xlstm__cellp *p;
} xlstm__cell_ctx;

/* rows x w floats from src (lds apart) to dst (ldd apart): V's strips for
   the chunk; a whole strip of 32 as fixed-size copies (a variable-size memcpy of 128 bytes became a
   rep movs that cost more than the products) */
static void xlstm__copy_strip(float *dst, size_t ldd, const float *src, size_t lds, int rows, int w) {
    int r;
    if (w == XLSTM__STRIP)
        for (r = 0; r < rows; r++) {
            if (r + 16 < rows) { /* rows far apart: the hardware's prefetch does not follow them */
                const float *ahead = src + XLSTM__CAST(size_t, r + 16) * lds;
                XLSTM__PREFETCH_L1(ahead), XLSTM__PREFETCH_L1(ahead + 16);
            }
            memcpy(dst + XLSTM__CAST(size_t, r) * ldd, src + XLSTM__CAST(size_t, r) * lds, XLSTM__STRIP * sizeof(float));
        }
    else
        for (r = 0; r < rows; r++) memcpy(dst + XLSTM__CAST(size_t, r) * ldd, src + XLSTM__CAST(size_t, r) * lds, XLSTM__CAST(size_t, w) * sizeof(float));
}

/* Heads [lo, hi) of the chunk, with task tid's scratch. */
static void xlstm__mlstm_chunk_heads(void *ctx, int tid, int lo, int hi) {
    const xlstm__cell_ctx *cc = XLSTM__CAST(const xlstm__cell_ctx *, ctx);
    const xlstm_state *s = cc->s;
    xlstm__bstate *st = cc->st;
    const xlstm__cellp *p = cc->p;
    const int L = cc->L, NH = p->NH, dk = p->dk, dv = p->dv;
    const xlstm__kern *kern = s->model->kern;
#if defined(XLSTM__HAVE_FAST_BF16)
    /* fast prompts: Q C_0 and Kw^T V on bf16-rounded inputs (together 2 dk dv
       multiply-adds per head per token: about a third of the block's
       projections at the 125M shape); Wm V and the scores stay f32 */
    const int bf16 = s->model->fast_bf16 && dv % 16 == 0;
    const int dkp = (dk + 1) / 2, lp = (L + 1) / 2; /* pairs along dk and along the chunk */
#endif
    int hd;
    for (hd = lo; hd < hi; hd++) {
        int t, u, a, b;
        double qn;
        float *Wm, *cum, *mt, *alpha, *qnv, *kw, *qa, *vc;
#if defined(XLSTM__HAVE_FAST_BF16)
        uint32_t *qp, *kp, *vp, *cp;
#endif
        float *C = st->C + XLSTM__CAST(size_t, hd) * dk * dv, *nv = st->n + XLSTM__CAST(size_t, hd) * dk;
        const float *Q = p->q + XLSTM__CAST(size_t, hd) * dk, *K = p->k + XLSTM__CAST(size_t, hd) * dk;
        const float *V = p->v + XLSTM__CAST(size_t, hd) * dv;
        float *H = p->out + XLSTM__CAST(size_t, hd) * dv;
        const float m0 = st->m[hd];
        float run = 0.0f;
        Wm = s->chunk + XLSTM__CAST(size_t, tid) * s->chunk_stride; /* (L, L): exp(D_ts - m_t) * (q_t.k_s) */
        cum = Wm + L * L;                                            /* (L) b_t */
        mt = cum + L;                                                /* (L) m_t */
        alpha = mt + L;                                              /* (L) exp(g_t - m_t) */
        qnv = alpha + L;                                             /* (L) normaliser q_t.n_t */
        kw = qnv + L;                                                /* (L, dk) K^T, then keys weighted for the carry */
        qa = kw + L * dk;                                            /* (L, dk) alpha_t q_t */
        vc = qa + L * dk; /* (L, dv) V by strips, as C: the strip from column b at vc + b L, w wide */
#if defined(XLSTM__HAVE_FAST_BF16)
        qp = XLSTM__CAST(uint32_t *, XLSTM__CAST(void *, vc + L * dv)); /* (L, dkp) qa's rows by pairs */
        kp = qp + L * dkp;                                               /* (lp, dk) Kw's row pairs */
        vp = kp + lp * dk;                  /* (lp, dv) V's row pairs by strips: the strip from column b at vp + b lp */
        cp = vp + lp * dv;                  /* (dkp, 32) one strip of C_0's row pairs */
#endif
        for (t = 0; t < L; t++) {
            run += xlstm__logsigmoid(*XLSTM__ROW(p->g, p->ldg, t, NH + hd));
            cum[t] = run;
        }
        /* scores q_t.k_u: K^T into kw's space (16 x 16 blocks, then the
           edges), then one product */
        for (u = 0; u + 16 <= L; u += 16)
            for (a = 0; a + 16 <= dk; a += 16)
                kern->transpose16(kw + XLSTM__CAST(size_t, a) * L + u, XLSTM__CAST(size_t, L), K + XLSTM__CAST(size_t, u) * p->ld + a, p->ld);
        for (u = 0; u < L; u++)
            for (a = (u < L / 16 * 16 ? dk / 16 * 16 : 0); a < dk; a++) kw[XLSTM__CAST(size_t, a) * L + u] = K[XLSTM__CAST(size_t, u) * p->ld + a];
        for (b = 0; b < dv; b += XLSTM__STRIP) {
            const int w = dv - b < XLSTM__STRIP ? dv - b : XLSTM__STRIP;
            xlstm__copy_strip(vc + XLSTM__CAST(size_t, b) * L, XLSTM__CAST(size_t, w), V + b, p->ld, L, w);
        }
        kern->gemm(L, L, dk, Q, p->ld, 1, kw, XLSTM__CAST(size_t, L), 0.0f, Wm, XLSTM__CAST(size_t, L));
        for (t = 0; t < L; t++) {
            float m = cum[t] + m0;
            for (u = 0; u <= t; u++) {
                float d = cum[t] - cum[u] + *XLSTM__ROW(p->g, p->ldg, u, hd);
                if (d > m) m = d;
            }
            mt[t] = m;
            alpha[t] = xlstm__flush_tiny(xlstm__decay(cum[t] + m0 - m));
            /* the normaliser can be a small difference of large terms: summed in double */
            qn = alpha[t] * xlstm__dot_double(nv, Q + XLSTM__CAST(size_t, t) * p->ld, dk);
            for (u = 0; u < L; u++) {
                float d = cum[t] - cum[u] + *XLSTM__ROW(p->g, p->ldg, u, hd);
                float w = u > t ? 0.0f : xlstm__flush_tiny(xlstm__decay(d - m) * p->k_scale * Wm[t * L + u]);
                Wm[t * L + u] = w;
                qn += w;
            }
            qnv[t] = XLSTM__CAST(float, qn);
        }
        /* the carry's weights: C = alpha_L C_0 + sum_u wl_u k_u v_u^T and
           n = alpha_L n_0 + sum_u wl_u k_u */
        for (u = 0; u < L; u++) {
            const float w = xlstm__flush_tiny(xlstm__decay(cum[L - 1] - cum[u] + *XLSTM__ROW(p->g, p->ldg, u, hd) - mt[L - 1]) * p->k_scale);
            kern->scale(kw + XLSTM__CAST(size_t, u) * dk, K + XLSTM__CAST(size_t, u) * p->ld, w, dk);
        }
        kern->scale(nv, nv, alpha[L - 1], dk);
        for (u = 0; u < L; u++) kern->add(nv, kw + XLSTM__CAST(size_t, u) * dk, dk);
        for (t = 0; t < L; t++) kern->scale(qa + XLSTM__CAST(size_t, t) * dk, Q + XLSTM__CAST(size_t, t) * p->ld, alpha[t], dk);
#if defined(XLSTM__HAVE_FAST_BF16)
        if (bf16) {
            for (t = 0; t < L; t++) {
                uint32_t *row = qp + XLSTM__CAST(size_t, t) * dkp;
                const float *q = qa + XLSTM__CAST(size_t, t) * dk;
                xlstm__fast_row_bf16(XLSTM__CAST(unsigned char *, XLSTM__CAST(void *, row)), XLSTM__CAST(const unsigned char *, XLSTM__CAST(const void *, q)), XLSTM__DT_F32, dk / 2 * 2);
                if (dk % 2) xlstm__bf16_row_pairs(row + dk / 2, q + dk - 1, NULL, 1);
            }
            for (u = 0; u < lp; u++) {
                const int odd = 2 * u + 1 < L;
                xlstm__bf16_row_pairs(kp + XLSTM__CAST(size_t, u) * dk, kw + XLSTM__CAST(size_t, 2 * u) * dk, odd ? kw + XLSTM__CAST(size_t, 2 * u + 1) * dk : NULL, dk);
                for (b = 0; b < dv; b += XLSTM__STRIP) {
                    const int w = dv - b < XLSTM__STRIP ? dv - b : XLSTM__STRIP;
                    const float *vs = vc + XLSTM__CAST(size_t, b) * L;
                    xlstm__bf16_row_pairs(vp + XLSTM__CAST(size_t, b) * lp + XLSTM__CAST(size_t, u) * w, vs + XLSTM__CAST(size_t, 2 * u) * w,
                                          odd ? vs + XLSTM__CAST(size_t, 2 * u + 1) * w : NULL, w);
                }
            }
        }
#endif
        /* per strip of C (so each part of the state is read once and written
           once, in place): H = diag(alpha) Q C_0 (inter-chunk) + Wm V
           (intra-chunk), then C = alpha_L C_0 + Kw^T V */
        for (b = 0; b < dv; b += XLSTM__STRIP) {
            const int w = dv - b < XLSTM__STRIP ? dv - b : XLSTM__STRIP;
            const float *vs = vc + XLSTM__CAST(size_t, b) * L;
            float *cs = C + XLSTM__CAST(size_t, b) * dk;
#if defined(XLSTM__HAVE_FAST_BF16)
            if (bf16) {
                for (a = 0; a < dkp; a++)
                    xlstm__bf16_row_pairs(cp + XLSTM__CAST(size_t, a) * w, cs + XLSTM__CAST(size_t, 2 * a) * w, 2 * a + 1 < dk ? cs + XLSTM__CAST(size_t, 2 * a + 1) * w : NULL, w);
                xlstm__chunk_bf16_gemm(L, w / 16, dkp, qp, XLSTM__CAST(size_t, dkp), 1, cp, 0.0f, H + b, p->ldo);
                kern->gemm(L, w, L, Wm, XLSTM__CAST(size_t, L), 1, vs, XLSTM__CAST(size_t, w), 1.0f, H + b, p->ldo);
                xlstm__chunk_bf16_gemm(dk, w / 16, lp, kp, 1, XLSTM__CAST(size_t, dk), vp + XLSTM__CAST(size_t, b) * lp, alpha[L - 1], cs, XLSTM__CAST(size_t, w));
                continue;
            }
#endif
            kern->gemm(L, w, dk, qa, XLSTM__CAST(size_t, dk), 1, cs, XLSTM__CAST(size_t, w), 0.0f, H + b, p->ldo);
            kern->gemm(L, w, L, Wm, XLSTM__CAST(size_t, L), 1, vs, XLSTM__CAST(size_t, w), 1.0f, H + b, p->ldo);
            kern->gemm(dk, w, L, kw, 1, XLSTM__CAST(size_t, dk), vs, XLSTM__CAST(size_t, w), alpha[L - 1], cs, XLSTM__CAST(size_t, w));
        }
        for (t = 0; t < L; t++) xlstm__normalise_head(kern, H + XLSTM__CAST(size_t, t) * p->ldo, dv, qnv[t], mt[t], p->eps);
        st->m[hd] = mt[L - 1];
    }
}

static void xlstm__mlstm_chunk(xlstm_state *s, xlstm__bstate *st, int L, const xlstm__cellp *p) {
    xlstm__cell_ctx c;
    c.s = s, c.st = st, c.L = L, c.bi = 0, c.p = p;
    /* heads are independent, each with its task's scratch */
    xlstm__for(s, p->NH, 1, XLSTM__CAST(size_t, L) * p->dk * p->dv, XLSTM_PARALLEL_MIN_WORK, xlstm__mlstm_chunk_heads, &c);
}

/* One step of (row, head) pairs [lo, hi), i = row * NH + head. */
/* The step's loop takes a head one strip of C's columns at a time: a head's
   state is 0.6 MB (125M) to 1 MB (7B), and 4 to 8 heads as items leave
   threads waiting on the last one. */
static int xlstm__cell_groups(int dv) { return (dv + XLSTM__STRIP - 1) / XLSTM__STRIP; }

/* Items [lo, hi) of the step's loop: item (t, h, g) updates strip g of row
   t's head h (columns from g XLSTM__STRIP), and strip 0 also its n and q.n
   (into cellg). The gates came before the loop (xlstm__mlstm_cell). */
static void xlstm__mlstm_step_heads(void *ctx, int task, int lo, int hi) {
    const xlstm__cell_ctx *cc = XLSTM__CAST(const xlstm__cell_ctx *, ctx);
    const xlstm_state *s = cc->s;
    const xlstm__cellp *p = cc->p;
    const int NH = p->NH, dk = p->dk, dv = p->dv, bi = cc->bi, G = xlstm__cell_groups(dv);
    int i;
    (void)task;
    for (i = lo; i < hi; i++) {
        const int t = i / (NH * G), h = i / G % NH, g = i % G;
        const int b0 = g * XLSTM__STRIP, w = dv - b0 < XLSTM__STRIP ? dv - b0 : XLSTM__STRIP;
        xlstm__bstate *st = &s->owner[t]->bs[bi];
        float *cg = s->cellg + (XLSTM__CAST(size_t, t) * NH + XLSTM__CAST(size_t, h)) * 4;
        const float qn = s->model->kern->mlstm_head(st->C + XLSTM__CAST(size_t, h) * dk * dv + XLSTM__CAST(size_t, b0) * dk,
                                                    g ? NULL : st->n + XLSTM__CAST(size_t, h) * dk,
                                                    XLSTM__ROW(p->q, p->ld, t, h * dk), XLSTM__ROW(p->k, p->ld, t, h * dk),
                                                    XLSTM__ROW(p->v, p->ld, t, h * dv + b0), cg[0], cg[1] * p->k_scale, dk, w,
                                                    XLSTM__ROW(p->out, p->ldo, t, h * dv + b0));
        if (!g) cg[3] = qn;
    }
}

/* The cell for n rows: chunkwise for a run of one sequence's tokens, else one
   step per row (each row its own sequence, heads in parallel). */
static void xlstm__mlstm_cell(xlstm_state *s, int bi, int n, int one_sequence, const xlstm__cellp *p) {
    xlstm__cell_ctx c;
    if (one_sequence && n > 1) {
        xlstm__mlstm_chunk(s, &s->owner[0]->bs[bi], n, p);
        return;
    }
    int t, h;
    /* exponential input gate, sigmoid forget gate in log space; m keeps
       the largest exponent seen so exp() never overflows:
         m_t = max(log f_t + m_{t-1}, i~_t)
         f' = exp(log f_t + m_{t-1} - m_t),  i' = exp(i~_t - m_t)
       then C = f' C + i' k v^T and n = f' n + i' k (xlstm__mlstm_step_heads),
       and h = C^T q / max(|q.n|, exp(-m_t)) */
    for (t = 0; t < n; t++) {
        xlstm__bstate *st = &s->owner[t]->bs[bi];
        for (h = 0; h < p->NH; h++) {
            float *cg = s->cellg + (XLSTM__CAST(size_t, t) * p->NH + XLSTM__CAST(size_t, h)) * 4;
            const float ig = *XLSTM__ROW(p->g, p->ldg, t, h), fg = *XLSTM__ROW(p->g, p->ldg, t, p->NH + h);
            const float logf = xlstm__logsigmoid(fg), m_old = st->m[h];
            const float m_new = logf + m_old > ig ? logf + m_old : ig;
            cg[0] = xlstm__decay(logf + m_old - m_new);
            cg[1] = xlstm__decay(ig - m_new);
            cg[2] = st->m[h] = m_new;
        }
    }
    c.s = s, c.st = NULL, c.L = n, c.bi = bi, c.p = p;
    xlstm__for(s, n * p->NH * xlstm__cell_groups(p->dv), 1, XLSTM__CAST(size_t, n) * p->NH * p->dk * p->dv,
               2 * XLSTM_PARALLEL_MIN_WORK, xlstm__mlstm_step_heads, &c);
    for (t = 0; t < n; t++)
        for (h = 0; h < p->NH; h++) {
            const float *cg = s->cellg + (XLSTM__CAST(size_t, t) * p->NH + XLSTM__CAST(size_t, h)) * 4;
            xlstm__normalise_head(s->model->kern, XLSTM__ROW(p->out, p->ldo, t, h * p->dv), p->dv, cg[3], cg[2], p->eps);
        }
}

/* What a block's row loops read: the state, the block's weights, the norm
   weights of the loop at hand; for the sLSTM recurrence, the sequence's
   state and the row's gate pre-activations. */
typedef struct xlstm__block_ctx {
    const xlstm_state *s;
    const xlstm__block *w;
    const float *norm_w, *norm_b;
    xlstm__bstate *st;
    float *raw, *h, *out; /* the sLSTM token's gates, cell output, row of x */
    int all_n_zero;
    int n_rows; /* xlstm__slstm_seq_heads: the sequence's tokens */
} xlstm__block_ctx;

static void xlstm__block_ctx_init(xlstm__block_ctx *c, const xlstm_state *s, const xlstm__block *w, const float *norm_w,
                                  const float *norm_b) {
    c->s = s, c->w = w, c->norm_w = norm_w, c->norm_b = norm_b, c->st = NULL, c->raw = NULL, c->h = NULL, c->out = NULL;
    c->all_n_zero = 0, c->n_rows = 0;
}

/* xn = LayerNorm(x) for rows [lo, hi) */
static void xlstm__layernorm_rows(void *ctx, int task, int lo, int hi) {
    const xlstm__block_ctx *c = XLSTM__CAST(const xlstm__block_ctx *, ctx);
    const size_t D = XLSTM__CAST(size_t, c->s->model->cfg.embedding_dim);
    int t;
    (void)task;
    for (t = lo; t < hi; t++) /* a LayerNorm is a group norm of one group */
        c->s->model->kern->groupnorm(c->s->xn + XLSTM__CAST(size_t, t) * D, c->s->x + XLSTM__CAST(size_t, t) * D, c->norm_w, 1, XLSTM__CAST(int, D));
}

/* A block's causal conv (K > 0) or copy (K = 0) of n rows of X into s->conv,
   then SiLU where silu is set: each channel's rows in token order, the
   channels [16 lo, 16 hi) in parallel (16 at a time: the SiLU's vectors
   fall where they fall for a whole row). */
typedef struct xlstm__conv_ctx {
    const xlstm_state *s;
    const xlstm__block *w;
    const float *X;
    size_t ldx;
    int bi, n, C, K, silu;
} xlstm__conv_ctx;
static void xlstm__conv_rows(void *ctx, int task, int lo, int hi) {
    const xlstm__conv_ctx *c = XLSTM__CAST(const xlstm__conv_ctx *, ctx);
    const xlstm_state *s = c->s;
    const int c0 = 16 * lo, c1 = 16 * hi < c->C ? 16 * hi : c->C;
    int t;
    (void)task;
    /* one sequence's rows in one pass; rows of a batch (distinct states) one each */
    const int run = s->owner[0] == s->owner[c->n - 1] ? c->n : 1;
    for (t = 0; t < c->n; t += run) {
        const float *x = c->X + XLSTM__CAST(size_t, t) * c->ldx;
        float *y = s->conv + XLSTM__CAST(size_t, t) * s->ld_wide;
        if (c->K > 0) xlstm__conv_seq(s->model->kern, y, s->ld_wide, s->owner[t]->bs[c->bi].conv, x, c->ldx, run, c->w->conv_w, c->w->conv_b, c->C, c->K, c0, c1);
    }
    for (t = 0; t < c->n; t++) {
        const float *x = c->X + XLSTM__CAST(size_t, t) * c->ldx;
        float *y = s->conv + XLSTM__CAST(size_t, t) * s->ld_wide;
        if (c->K == 0) memcpy(y + c0, x + c0, XLSTM__CAST(size_t, c1 - c0) * sizeof(float));
        if (c->silu) s->model->kern->silu(y + c0, c1 - c0);
    }
}
static void xlstm__conv(xlstm_state *s, int bi, const float *X, size_t ldx, int n, int C, int K, int silu) {
    xlstm__conv_ctx c;
    c.s = s, c.w = &s->model->blocks[bi], c.X = X, c.ldx = ldx, c.bi = bi, c.n = n, c.C = C, c.K = K, c.silu = silu;
    xlstm__for(s, (C + 15) / 16, 1, XLSTM__CAST(size_t, n) * XLSTM__CAST(size_t, C) * XLSTM__CAST(size_t, K + 4), XLSTM_PARALLEL_MIN_WORK,
               xlstm__conv_rows, &c);
}

/* GroupNorm of the cell output, the learnable skip, the output gate */
static void xlstm__mlstm_out_rows(void *ctx, int task, int lo, int hi) {
    const xlstm__block_ctx *c = XLSTM__CAST(const xlstm__block_ctx *, ctx);
    const xlstm_state *s = c->s;
    const xlstm__block *w = c->w;
    const int I = s->model->cfg.mlstm.inner_dim, NH = s->model->cfg.mlstm.num_heads, DH = s->model->cfg.mlstm.head_dim;
    const size_t ldw = s->ld_wide, ldu = s->ld_up;
    int t;
    (void)task;
    for (t = lo; t < hi; t++) {
        float *h = s->h + XLSTM__CAST(size_t, t) * ldw, *hn = s->raw + XLSTM__CAST(size_t, t) * ldw;
        const float *xc = s->conv + XLSTM__CAST(size_t, t) * ldw;
        float *z = s->up + XLSTM__CAST(size_t, t) * ldu + I;
        int c_;
        s->model->kern->groupnorm(hn, h, w->outnorm_w, NH, DH);
        /* learnable skip from the conv path, then the output gate SiLU(z) (z is not needed after) */
        s->model->kern->silu(z, I);
        for (c_ = 0; c_ < I; c_++) hn[c_] = (hn[c_] + w->skip[c_] * xc[c_]) * z[c_];
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
    xlstm__block_ctx rc;
    int i;

    xlstm__block_ctx_init(&rc, s, w, w->norm_w, NULL);
    XLSTM__FOR_ROWS(s, n, xlstm__layernorm_rows, &rc);
    /* up-projection: rows hold (x_mlstm | z), I each */
    xlstm__matmul(s, &w->up, s->xn, XLSTM__CAST(size_t, D), n, s->up, ldu, NULL, w->up_b);
    xlstm__conv(s, bi, s->up, ldu, n, I, K, 1); /* causal conv and SiLU on the mLSTM path */
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

    XLSTM__FOR_ROWS(s, n, xlstm__mlstm_out_rows, &rc);
    xlstm__matmul(s, &w->down, s->raw, ldw, n, s->xn, XLSTM__CAST(size_t, D), NULL, w->down_b);
    for (i = 0; i < n * D; i++) s->x[i] += s->xn[i];
}

/* RMSNorm: x * rsqrt(mean(x^2) + eps) * w (+ b); statistics in double. */
static void xlstm__rmsnorm(float *y, const float *x, const float *w, const float *b, int n, float eps) {
    const double ss = xlstm__moment(x, n, 0.0, 2);
    float inv;
    int i;
    inv = XLSTM__CAST(float, 1.0 / sqrt(ss / n + eps));
    for (i = 0; i < n; i++) y[i] = x[i] * inv * (w ? w[i] : 1.0f) + (b ? b[i] : 0.0f);
}

/* Per-head LayerNorm (biased variance) with a plain weight and optional bias. */
static void xlstm__headnorm(float *y, const float *x, const float *w, const float *b, int heads, int dh, float eps) {
    int h, i;
    for (h = 0; h < heads; h++) {
        const float *xh = x + XLSTM__CAST(size_t, h) * dh;
        float *yh = y + XLSTM__CAST(size_t, h) * dh;
        const double mean = xlstm__moment(xh, dh, 0.0, 1) / dh, var = xlstm__moment(xh, dh, mean, 2);
        float inv;
        inv = XLSTM__CAST(float, 1.0 / sqrt(var / dh + eps));
        for (i = 0; i < dh; i++) {
            size_t j = XLSTM__CAST(size_t, h) * dh + i;
            yh[i] = XLSTM__CAST(float, xh[i] - mean) * inv * w[j] + (b ? b[j] : 0.0f);
        }
    }
}

static float xlstm__soft_cap(float x, float cap) { return cap > 0 ? cap * tanhf(x / cap) : x; }

/* xn = RMSNorm(x) for rows [lo, hi) */
static void xlstm__rmsnorm_rows(void *ctx, int task, int lo, int hi) {
    const xlstm__block_ctx *c = XLSTM__CAST(const xlstm__block_ctx *, ctx);
    const xlstm_config *cfg = &c->s->model->cfg;
    const size_t D = XLSTM__CAST(size_t, cfg->embedding_dim);
    int t;
    (void)task;
    for (t = lo; t < hi; t++)
        xlstm__rmsnorm(c->s->xn + XLSTM__CAST(size_t, t) * D, c->s->x + XLSTM__CAST(size_t, t) * D, c->norm_w, c->norm_b,
                       cfg->embedding_dim, cfg->large.norm_eps);
}

/* per-head norm of the cell output, then the sigmoid output gate */
static void xlstm__large_out_rows(void *ctx, int task, int lo, int hi) {
    const xlstm__block_ctx *c = XLSTM__CAST(const xlstm__block_ctx *, ctx);
    const xlstm_state *s = c->s;
    const xlstm_config *cfg = &s->model->cfg;
    const size_t ldw = s->ld_wide;
    int t;
    (void)task;
    for (t = lo; t < hi; t++) {
        float *h = s->h + XLSTM__CAST(size_t, t) * ldw, *hn = s->raw + XLSTM__CAST(size_t, t) * ldw;
        const float *o = s->conv + XLSTM__CAST(size_t, t) * ldw;
        int c_;
        xlstm__headnorm(hn, h, c->w->outnorm_w, c->w->outnorm_b, cfg->large.num_heads, cfg->large.v_head_dim, cfg->large.norm_eps);
        for (c_ = 0; c_ < cfg->large.v_dim; c_++) hn[c_] *= xlstm__sigmoid(o[c_]);
    }
}

/* SwiGLU: gate = silu(gate) * up, rows of up hold (gate | up) */
static void xlstm__large_swiglu_rows(void *ctx, int task, int lo, int hi) {
    const xlstm__block_ctx *c = XLSTM__CAST(const xlstm__block_ctx *, ctx);
    const int F = c->s->model->cfg.large.ffn_dim;
    int t;
    (void)task;
    for (t = lo; t < hi; t++) {
        float *u = c->s->up + XLSTM__CAST(size_t, t) * c->s->ld_up;
        int c_;
        c->s->model->kern->silu(u, F);
        for (c_ = 0; c_ < F; c_++) u[c_] *= u[F + c_];
    }
}

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
    xlstm__block_ctx rc;
    int t, i;

    xlstm__block_ctx_init(&rc, s, w, w->norm_w, w->norm_b);
    XLSTM__FOR_ROWS(s, n, xlstm__rmsnorm_rows, &rc);
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
    XLSTM__FOR_ROWS(s, n, xlstm__large_out_rows, &rc);
    xlstm__matmul(s, &w->down, s->raw, ldw, n, s->xn, XLSTM__CAST(size_t, D), NULL, w->down_b);
    for (i = 0; i < n * D; i++) s->x[i] += s->xn[i];

    /* SwiGLU feed-forward: rows of up hold (gate | up), F each */
    xlstm__block_ctx_init(&rc, s, w, w->ffn_norm_w, w->ffn_norm_b);
    XLSTM__FOR_ROWS(s, n, xlstm__rmsnorm_rows, &rc);
    xlstm__matmul(s, &w->ffn_gate, s->xn, XLSTM__CAST(size_t, D), n, s->up, ldu, NULL, w->ffn_gate_b);
    xlstm__matmul(s, &w->ffn_up, s->xn, XLSTM__CAST(size_t, D), n, s->up + F, ldu, NULL, w->ffn_up_b);
    XLSTM__FOR_ROWS(s, n, xlstm__large_swiglu_rows, &rc);
    xlstm__matmul(s, &w->ffn_down, s->up, ldu, n, s->xn, XLSTM__CAST(size_t, D), NULL, w->ffn_down_b);
    for (i = 0; i < n * D; i++) s->x[i] += s->xn[i];
}

/* raw += R y_{t-1} + bias for (head, gate) pairs [lo, hi), hg = head * 4 + gate
   (R block-diagonal per head and gate) */
/* One token of the sLSTM layer for heads [lo, hi): + R y_{t-1} (block-
   diagonal per head and gate) + bias, the pointwise cell, the head's group
   of the norm, and the residual; a head reads and writes only its own
   lanes. c->raw is the token's (i | f | z | o) row, c->out its row of x. */
static void xlstm__slstm_rec_heads(void *ctx, int task, int lo, int hi) {
    const xlstm__block_ctx *c = XLSTM__CAST(const xlstm__block_ctx *, ctx);
    const xlstm__kern *k = c->s->model->kern;
    const xlstm_config *cfg = &c->s->model->cfg;
    const int D = cfg->embedding_dim, DH = cfg->slstm.head_dim;
    xlstm__bstate *st = c->st;
    float *raw = c->raw;
    int hd, g, r, j;
    (void)task;
    for (hd = lo; hd < hi; hd++) {
        const int j0 = hd * DH, j1 = j0 + DH;
        float *ry = c->s->ry + 4 * XLSTM__CAST(size_t, j0); /* this head's four gates' h R */
        k->vecmat(st->y + j0, c->w->rec + XLSTM__CAST(size_t, hd) * 4 * DH * DH, DH, 4 * DH, ry); /* (DH_in, 4 DH_out) */
        if (cfg->slstm.function_lstm) { /* classic LSTM pointwise function: states y, c */
            for (g = 0; g < 4; g++)
                for (r = 0; r < DH; r++) raw[g * D + j0 + r] = (raw[g * D + j0 + r] + ry[g * DH + r]) + c->w->gate_b[g * D + j0 + r];
            for (j = j0; j < j1; j++) {
                float ig = xlstm__sigmoid(raw[j]), fg = xlstm__sigmoid(raw[D + j]);
                float zz = tanhf(raw[2 * D + j]), og = xlstm__sigmoid(raw[3 * D + j]);
                st->c[j] = fg * st->c[j] + ig * zz;
                st->y[j] = og * tanhf(st->c[j]);
            }
        } else { /* the exponential-gating step, as TiRex's without its forget-gate cap */
            k->slstm_point(raw + j0, XLSTM__CAST(size_t, D), ry, XLSTM__CAST(size_t, DH), c->w->gate_b + j0, XLSTM__CAST(size_t, D), st->y + j0,
                           st->c + j0, st->n + j0, st->m + j0, c->all_n_zero, 0, HUGE_VALF, DH);
        }
        k->groupnorm(c->h + j0, st->y + j0, c->w->gn_w ? c->w->gn_w + j0 : NULL, 1, DH); /* the head's group */
        for (j = j0; j < j1; j++) c->out[j] += c->h[j];
    }
}

/* One sequence's n_rows tokens (rows in order): each head through all of
   them on one thread, as the heads' recurrences are independent (one
   parallel loop instead of one per token; the head's recurrent kernel stays
   in that core's cache). After any step every n is at least 1 or NaN, so
   the first-step rule can hold for the first token alone. */
static void xlstm__slstm_seq_heads(void *ctx, int task, int lo, int hi) {
    const xlstm__block_ctx *c = XLSTM__CAST(const xlstm__block_ctx *, ctx);
    const xlstm_state *s = c->s;
    const size_t D = XLSTM__CAST(size_t, s->model->cfg.embedding_dim);
    xlstm__block_ctx r = *c;
    int t;
    for (t = 0; t < c->n_rows; t++) {
        r.raw = s->raw + XLSTM__CAST(size_t, t) * 4 * D, r.h = s->h + XLSTM__CAST(size_t, t) * s->ld_wide, r.out = s->x + XLSTM__CAST(size_t, t) * D;
        r.all_n_zero = c->all_n_zero && t == 0;
        xlstm__slstm_rec_heads(&r, task, lo, hi);
    }
}

/* the gated feed-forward: act(first half) * second half */
static void xlstm__slstm_ffn_rows(void *ctx, int task, int lo, int hi) {
    const xlstm__block_ctx *c = XLSTM__CAST(const xlstm__block_ctx *, ctx);
    const xlstm_config *cfg = &c->s->model->cfg;
    const int P = cfg->ffn.proj_up_dim;
    int t;
    (void)task;
    for (t = lo; t < hi; t++) {
        float *u = c->s->up + XLSTM__CAST(size_t, t) * c->s->ld_up;
        int c_;
        for (c_ = 0; c_ < P; c_++) u[c_] = xlstm__act(cfg->ffn.act_fn, u[c_]) * u[P + c_];
    }
}

/* sLSTM block (post up-projection): sLSTM layer, then gated feed-forward. */
static void xlstm__slstm_block(xlstm_state *s, int bi, int n) {
    const xlstm_model *mdl = s->model;
    const xlstm_config *c = &mdl->cfg;
    const xlstm__block *w = &mdl->blocks[bi];
    const int D = c->embedding_dim, NH = c->slstm.num_heads, DH = c->slstm.head_dim;
    const int K = c->slstm.conv1d_kernel_size;
    const size_t ldw = s->ld_wide, ldr = XLSTM__CAST(size_t, 4) * D;
    xlstm__block_ctx rc;
    int t, j;

    xlstm__block_ctx_init(&rc, s, w, w->norm_w, NULL);
    XLSTM__FOR_ROWS(s, n, xlstm__layernorm_rows, &rc);
    xlstm__conv(s, bi, s->xn, XLSTM__CAST(size_t, D), n, D, K, K > 0);
    /* input and forget gates see the conv path; cell input and output gate the
       raw input; rows hold (i | f | z | o), D each */
    xlstm__headwise(s, &w->gate_w[0], s->conv, ldw, n, s->raw, ldr, NULL);
    xlstm__headwise(s, &w->gate_w[1], s->conv, ldw, n, s->raw + D, ldr, NULL);
    xlstm__headwise(s, &w->gate_w[2], s->xn, XLSTM__CAST(size_t, D), n, s->raw + 2 * D, ldr, NULL);
    xlstm__headwise(s, &w->gate_w[3], s->xn, XLSTM__CAST(size_t, D), n, s->raw + 3 * D, ldr, NULL);
    for (t = 1; t < n && s->owner[t] == s->owner[0]; t++) {}
    if (n > 1 && t == n) { /* one sequence: each head's tokens on one thread */
        rc.st = &s->owner[0]->bs[bi], rc.n_rows = n, rc.all_n_zero = 1;
        for (j = 0; j < D && rc.all_n_zero; j++) rc.all_n_zero = rc.st->n[j] == 0.0f;
        xlstm__for(s, NH, 1, XLSTM__CAST(size_t, 4) * D * DH * XLSTM__CAST(size_t, n), 2 * XLSTM_PARALLEL_MIN_WORK, xlstm__slstm_seq_heads, &rc);
    } else for (t = 0; t < n; t++) { /* a token, or rows of distinct sequences (a batch): the heads in parallel */
        xlstm__bstate *st = &s->owner[t]->bs[bi];
        rc.st = st, rc.raw = s->raw + XLSTM__CAST(size_t, t) * ldr;
        rc.h = s->h + XLSTM__CAST(size_t, t) * ldw, rc.out = s->x + XLSTM__CAST(size_t, t) * D;
        /* the reference starts the stabiliser at i~ while the normaliser is all zero */
        rc.all_n_zero = 1;
        for (j = 0; j < D && rc.all_n_zero; j++) rc.all_n_zero = st->n[j] == 0.0f;
        xlstm__for(s, NH, 1, XLSTM__CAST(size_t, 4) * D * DH, 2 * XLSTM_PARALLEL_MIN_WORK, xlstm__slstm_rec_heads, &rc);
    }

    if (c->ffn.present) {
        const size_t ldu = s->ld_up;
        xlstm__block_ctx_init(&rc, s, w, w->ffn_norm_w, NULL);
        XLSTM__FOR_ROWS(s, n, xlstm__layernorm_rows, &rc);
        xlstm__matmul(s, &w->ffn_up, s->xn, XLSTM__CAST(size_t, D), n, s->up, ldu, NULL, w->ffn_up_b);
        XLSTM__FOR_ROWS(s, n, xlstm__slstm_ffn_rows, &rc);
        xlstm__matmul(s, &w->ffn_down, s->up, ldu, n, s->xn, XLSTM__CAST(size_t, D), NULL, w->ffn_down_b);
        for (j = 0; j < n * D; j++) s->x[j] += s->xn[j];
    }
}

/* n rows through the model. Row t is token tokens[t] of sequence s->owner[t]
   (one sequence: tokens in order). logit_rows[t] receives row t's logits, or
   is NULL when they are not needed. */
static void xlstm__forward_rows_now(xlstm_state *s, const int32_t *tokens, int n, int one_sequence, float *const *logit_rows) {
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

typedef struct xlstm__forward_args {
    xlstm_state *s;
    const int32_t *tokens;
    int n, one_sequence;
    float *const *logit_rows;
} xlstm__forward_args;
static void xlstm__forward_body(void *arg) {
    const xlstm__forward_args *a = XLSTM__CAST(const xlstm__forward_args *, arg);
    xlstm__forward_rows_now(a->s, a->tokens, a->n, a->one_sequence, a->logit_rows);
}
/* n tokens through the blocks and the head (xlstm__forward_rows_now), on one team. */
static void xlstm__forward_rows(xlstm_state *s, const int32_t *tokens, int n, int one_sequence, float *const *logit_rows) {
    xlstm__forward_args a;
    a.s = s, a.tokens = tokens, a.n = n, a.one_sequence = one_sequence, a.logit_rows = logit_rows;
    xlstm__team_call(s, xlstm__forward_body, &a);
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

/* ---- TiRex forecasting ------------------------------------------------------
   NX-AI/tirex's TiRexZero: a window of T values becomes T/P patch tokens
   [scaled values with NaN as 0 (P), 1 where a value is present (P)]; an input
   ResidualBlock embeds them; each block adds GN(sLSTM(RMSNorm(x))) and then
   SwiGLU(RMSNorm(x)); out_norm and an output ResidualBlock turn the last
   token into Q quantiles of the next patch. Tokens run XLSTM_PREFILL_ROWS at a
   time: every projection as one matrix product over the chunk, the sLSTM
   recurrence token by token (each head on its own, so heads run in parallel). */

static uint64_t xlstm__tx_nobs(const xlstm_state *s) {
    uint64_t n;
    memcpy(&n, s->mem, sizeof n);
    return n;
}
static void xlstm__tx_set_nobs(xlstm_state *s, uint64_t n) { memcpy(s->mem, &n, sizeof n); }

/* torch.nansum of a contiguous float32 row, in its order of additions (ATen's
   cascade_sum at the AVX2 width of Debian's torch: 8-lane vectors in 4
   interleaved accumulators, each folded into the next level every 16 steps,
   then the scalar tail, then the 8 lanes in order). The scaler's mean and
   variance use it because one ulp of loc is visible in the output when the
   series sits far from 0 (1e6 with a scale of 20). */
static float xlstm__torch_nansum(const float *x, int n) {
    enum { W = 8, ILP = 4, LEVELS = 4, STEP = 16 };
    float acc[LEVELS][ILP][W], part[ILP][W], total = 0;
    int nvec = n >= W ? n / W : 0, nilp = nvec / ILP, i = 0, j, k, l, lv;
    if (n < W) { /* the scalar path: 4 interleaved sums */
        float a[ILP] = {0, 0, 0, 0};
        for (i = 0; i < n; i++) a[i % ILP] += x[i] == x[i] ? x[i] : 0.0f;
        return ((a[0] + a[1]) + a[2]) + a[3];
    }
    memset(acc, 0, sizeof acc);
    while (i + STEP <= nilp) {
        for (j = 0; j < STEP; j++, i++)
            for (k = 0; k < ILP; k++)
                for (l = 0; l < W; l++) {
                    const float v = x[(i * ILP + k) * W + l];
                    acc[0][k][l] += v == v ? v : 0.0f;
                }
        for (lv = 1; lv < LEVELS; lv++) {
            for (k = 0; k < ILP; k++)
                for (l = 0; l < W; l++) acc[lv][k][l] += acc[lv - 1][k][l], acc[lv - 1][k][l] = 0;
            if (i & ((STEP - 1) << (lv * 4))) break;
        }
    }
    for (; i < nilp; i++)
        for (k = 0; k < ILP; k++)
            for (l = 0; l < W; l++) {
                const float v = x[(i * ILP + k) * W + l];
                acc[0][k][l] += v == v ? v : 0.0f;
            }
    for (lv = 1; lv < LEVELS; lv++)
        for (k = 0; k < ILP; k++)
            for (l = 0; l < W; l++) acc[0][k][l] += acc[lv][k][l];
    memcpy(part, acc[0], sizeof part);
    for (i = nilp * ILP; i < nvec; i++)
        for (l = 0; l < W; l++) {
            const float v = x[i * W + l];
            part[0][l] += v == v ? v : 0.0f;
        }
    for (k = 1; k < ILP; k++)
        for (l = 0; l < W; l++) part[0][l] += part[k][l];
    for (i = nvec * W; i < n; i++) total += x[i] == x[i] ? x[i] : 0.0f;
    for (l = 0; l < W; l++) total += part[0][l];
    return total;
}

/* The reference's StandardScaler over the window, in float32 as torch runs
   it: NaN-aware mean and population standard deviation (nansum / count);
   no value: (0, 1); scale 0: |loc| + 1e-5. sq is T floats of scratch. */
static void xlstm__tx_scaler(const float *x, int n, float *sq, float *loc, float *scale) {
    int i, cnt = 0;
    float l, sc;
    for (i = 0; i < n; i++) cnt += x[i] == x[i];
    l = cnt ? xlstm__torch_nansum(x, n) / XLSTM__CAST(float, cnt) : 0.0f;
    for (i = 0; i < n; i++) {
        const float d = x[i] - l;
        sq[i] = d * d;
    }
    sc = cnt ? sqrtf(xlstm__torch_nansum(sq, n) / XLSTM__CAST(float, cnt)) : 1.0f;
    if (sc == 0) sc = fabsf(l) + 1e-5f;
    *loc = l;
    *scale = sc;
}

/* A window of T values for pass k: the series followed by k*P missing
   values, cut to its last T or NaN-padded on the left. */
static void xlstm__tx_window(float *win, int T, const float *x, size_t len, size_t extra) {
    const size_t total = len + extra;
    size_t i, start = total > XLSTM__CAST(size_t, T) ? total - XLSTM__CAST(size_t, T) : 0;
    int o = 0;
    for (; o < T && XLSTM__CAST(size_t, T - o) > total - start; o++) win[o] = NAN;
    for (i = start; i < total; i++) win[o++] = i < len ? x[i] : NAN;
}

/* Patch tokens of L patches of scaled values (NaN = missing); torch's
   nan_to_num also maps +-inf to the largest finite floats. */
static void xlstm__tx_tokens(float *tw, const float *z, int L, int P) {
    int t, i;
    for (t = 0; t < L; t++)
        for (i = 0; i < P; i++) {
            float v = z[t * P + i], *row = tw + XLSTM__CAST(size_t, t) * 2 * XLSTM__CAST(size_t, P);
            row[i] = v != v ? 0.0f : v > 3.4028235e38f ? 3.4028235e38f : v < -3.4028235e38f ? -3.4028235e38f : v;
            row[P + i] = v == v ? 1.0f : 0.0f;
        }
}

/* The arguments of TiRex's parallel loops (xlstm__for bodies): each body
   reads the ones its loop sets. */
typedef struct xlstm__txl {
    xlstm_state *s;
    const xlstm__block *blk;
    const xlstm__mat *m;
    const float *A, *B, *bias;
    float *Y, *st;
    size_t ld;
    int n, np, cols, L, t0, first, bf16, i8, add;
} xlstm__txl;

/* 16-column blocks [lo, hi) of xlstm__tx_transpose_in */
static void xlstm__tx_transpose_in_blocks(void *ctx, int task, int lo, int hi) {
    const xlstm__txl *a = XLSTM__CAST(const xlstm__txl *, ctx);
    const xlstm__kern *k = a->s->model->kern;
    const float *X = a->A;
    float *XT = a->Y;
    const size_t lp = XLSTM__CAST(size_t, a->np), ldx = a->ld;
    const int n = a->n, cols = a->cols, np = a->np;
    int cb;
    (void)task;
    for (cb = lo; cb < hi; cb++) {
        const int c0 = 16 * cb, c1 = c0 + 16 < cols ? c0 + 16 : cols;
        int t, c, tt;
        for (t = 0; t < np; t += 16) {
            if (c1 - c0 == 16 && t + 16 <= n) {
                k->transpose16(XT + XLSTM__CAST(size_t, c0) * lp + XLSTM__CAST(size_t, t), lp, X + XLSTM__CAST(size_t, t) * ldx + XLSTM__CAST(size_t, c0), ldx);
                continue;
            }
            for (c = c0; c < c1; c++)
                for (tt = t; tt < t + 16; tt++)
                    XT[XLSTM__CAST(size_t, c) * lp + XLSTM__CAST(size_t, tt)] = tt < n ? X[XLSTM__CAST(size_t, tt) * ldx + XLSTM__CAST(size_t, c)] : 0.0f;
        }
    }
}

/* Rows n x cols of X (ldx) into XT (cols, np), zero past n, for
   xlstm__tx_matmul_t; 16-column blocks over the threads. */
static void xlstm__tx_transpose_in(xlstm_state *s, const float *X, size_t ldx, int n, int cols, float *XT, int np) {
    xlstm__txl a;
    memset(&a, 0, sizeof a);
    a.s = s, a.A = X, a.ld = ldx, a.n = n, a.cols = cols, a.Y = XT, a.np = np;
    xlstm__for(s, (cols + 15) / 16, 1, XLSTM__CAST(size_t, cols) * XLSTM__CAST(size_t, np), 16384, xlstm__tx_transpose_in_blocks, &a);
}

/* YT (rows, np) = W XT for XT (cols, np): the feed-forward of a chunk kept
   transposed from one product to the next, so no input is transposed and no
   output scattered per matrix. Tiles of XLSTM__WTILE rows (widened to f32
   once, f32 read in place) over the threads; the same kernel and order of
   sums as xlstm__matmul's tiles, so the same numbers. */
/* Tile rt (rows XLSTM__WTILE rt ..) of YT = W XT (+ bias), in task's scratch. */
static void xlstm__tx_tile(xlstm_state *s, const xlstm__mat *m, int rt, const float *XT, int np, float *YT, const float *bias, int task) {
    const xlstm__kern *k = s->model->kern;
    const int rows = m->rows, cols = m->cols, r0 = XLSTM__WTILE * rt, nr = rows - r0 < XLSTM__WTILE ? rows - r0 : XLSTM__WTILE;
    const size_t nblk = XLSTM__CAST(size_t, cols) / XLSTM__QBLOCK, lp = XLSTM__CAST(size_t, np);
    const float *W;
    int t;
    if (m->dtype == XLSTM__DT_F32) {
        W = XLSTM__CAST(const float *, XLSTM__CAST(const void *, m->w + XLSTM__CAST(size_t, r0) * m->row_bytes));
    } else {
        float *tile = s->deq + XLSTM__CAST(size_t, task) * s->deq_stride;
        for (t = 0; t < nr; t++)
            k->dequant[m->dtype](tile + XLSTM__CAST(size_t, t) * XLSTM__CAST(size_t, cols), m->w + XLSTM__CAST(size_t, r0 + t) * m->row_bytes,
                                 m->scale ? m->scale + XLSTM__CAST(size_t, r0 + t) * nblk : NULL, cols);
        W = tile;
    }
    k->gemm(nr, np, cols, W, XLSTM__CAST(size_t, cols), 1, XT, lp, 0.0f, YT + XLSTM__CAST(size_t, r0) * lp, lp);
    if (bias)
        for (t = 0; t < nr; t++) {
            float *y = YT + XLSTM__CAST(size_t, r0 + t) * lp;
            const float bt = bias[r0 + t];
            int j;
            for (j = 0; j < np; j++) y[j] += bt;
        }
}
static void xlstm__tx_matmul_t_tiles(void *ctx, int task, int lo, int hi) {
    const xlstm__txl *a = XLSTM__CAST(const xlstm__txl *, ctx);
    int rt;
    for (rt = lo; rt < hi; rt++) xlstm__tx_tile(a->s, a->m, rt, a->A, a->np, a->Y, a->bias, task);
}
static void xlstm__tx_matmul_t(xlstm_state *s, const xlstm__mat *m, const float *XT, int np, float *YT, const float *bias) {
    xlstm__txl a;
    memset(&a, 0, sizeof a);
    a.s = s, a.m = m, a.A = XT, a.np = np, a.Y = YT, a.bias = bias;
    xlstm__for(s, (m->rows + XLSTM__WTILE - 1) / XLSTM__WTILE, 1,
               XLSTM__CAST(size_t, m->rows) * XLSTM__CAST(size_t, m->cols) * XLSTM__CAST(size_t, np), XLSTM_PARALLEL_MIN_WORK,
               xlstm__tx_matmul_t_tiles, &a);
}

/* Y[j][d] (+)= AT[d][j] (+ BT[d][j]) for j < n, d < rows (AT, BT: (rows,
   np)): a transposed result back into rows, added to them with add; 16 x 16
   blocks over the threads. */
static void xlstm__tx_transpose_out_blocks(void *ctx, int task, int lo, int hi) {
    const xlstm__txl *a = XLSTM__CAST(const xlstm__txl *, ctx);
    const xlstm__kern *k = a->s->model->kern;
    const size_t lp = XLSTM__CAST(size_t, a->np), ldy = a->ld;
    const float *AT = a->A, *BT = a->B;
    float *Y = a->Y;
    const int rows = a->cols, n = a->n, add = a->add;
    int db;
    (void)task;
    for (db = lo; db < hi; db++) {
        const int d0 = 16 * db, d1 = d0 + 16 < rows ? d0 + 16 : rows;
        float tile[256], sum[256];
        int j, d, jj;
        for (j = 0; j < n; j += 16) {
            const int j1 = j + 16 < n ? j + 16 : n;
            if (d1 - d0 == 16) { /* j + 16 <= np: the block may read padding columns */
                const float *src = AT + XLSTM__CAST(size_t, d0) * lp + XLSTM__CAST(size_t, j);
                size_t lds = lp;
                if (BT) {
                    for (d = 0; d < 16; d++)
                        for (jj = 0; jj < 16; jj++) {
                            const size_t at = XLSTM__CAST(size_t, d0 + d) * lp + XLSTM__CAST(size_t, j + jj);
                            sum[d * 16 + jj] = AT[at] + BT[at];
                        }
                    src = sum, lds = 16;
                }
                k->transpose16(tile, 16, src, lds);
            } else {
                for (jj = j; jj < j1; jj++)
                    for (d = d0; d < d1; d++) {
                        const size_t at = XLSTM__CAST(size_t, d) * lp + XLSTM__CAST(size_t, jj);
                        tile[(jj - j) * 16 + d - d0] = BT ? AT[at] + BT[at] : AT[at];
                    }
            }
            for (jj = j; jj < j1; jj++) {
                float *y = Y + XLSTM__CAST(size_t, jj) * ldy + d0;
                for (d = 0; d < d1 - d0; d++) y[d] = add ? y[d] + tile[(jj - j) * 16 + d] : tile[(jj - j) * 16 + d];
            }
        }
    }
}
static void xlstm__tx_transpose_out(xlstm_state *s, const float *AT, const float *BT, int np, int rows, int n, float *Y, size_t ldy,
                                    int add) {
    xlstm__txl a;
    memset(&a, 0, sizeof a);
    a.s = s, a.A = AT, a.B = BT, a.np = np, a.cols = rows, a.n = n, a.Y = Y, a.ld = ldy, a.add = add;
    xlstm__for(s, (rows + 15) / 16, 1, XLSTM__CAST(size_t, rows) * XLSTM__CAST(size_t, np), 16384, xlstm__tx_transpose_out_blocks, &a);
}

/* rows [lo, hi) of Y (ld apart, cols long): relu in place, or plus the rows of A (cols apart) */
static void xlstm__tx_relu_rows(void *ctx, int task, int lo, int hi) {
    const xlstm__txl *a = XLSTM__CAST(const xlstm__txl *, ctx);
    int t;
    (void)task;
    for (t = lo; t < hi; t++) a->s->model->kern->relu(a->Y + XLSTM__CAST(size_t, t) * a->ld, a->cols);
}
static void xlstm__tx_add_rows(void *ctx, int task, int lo, int hi) {
    const xlstm__txl *a = XLSTM__CAST(const xlstm__txl *, ctx);
    int t, j;
    (void)task;
    for (t = lo; t < hi; t++) {
        float *y = a->Y + XLSTM__CAST(size_t, t) * a->ld;
        const float *r = a->A + XLSTM__CAST(size_t, t) * XLSTM__CAST(size_t, a->cols);
        for (j = 0; j < a->cols; j++) y[j] += r[j];
    }
}

/* ResidualBlock on n rows: y = W1 relu(W0 x + b0) + b1 + W2 x + b2. A chunk
   runs transposed (as the feed-forward); a row has the hidden row in s->th
   and the residual branch in s->tres. */
static void xlstm__tx_resblock(xlstm_state *s, const xlstm__mat *w, const float *const *b, const float *X, size_t ldx, int n,
                               float *Y, size_t ldy) {
    const int FF = w[0].rows, O = w[1].rows;
    xlstm__txl a;
    memset(&a, 0, sizeof a);
    a.s = s;
    if (n >= XLSTM__SMALL_BATCH) { /* a chunk: transposed from one product to the next (s->xn is free before the blocks) */
        const int np = (n + 15) / 16 * 16;
        float *hT = s->th, *yT = s->tres, *rT = s->xn;
        xlstm__tx_transpose_in(s, X, ldx, n, w[0].cols, s->xt, np);
        xlstm__tx_matmul_t(s, &w[0], s->xt, np, hT, b[0]);
        a.Y = hT, a.ld = XLSTM__CAST(size_t, np), a.cols = np;
        XLSTM__FOR_ROWS(s, FF, xlstm__tx_relu_rows, &a);
        xlstm__tx_matmul_t(s, &w[1], hT, np, yT, b[1]);
        xlstm__tx_matmul_t(s, &w[2], s->xt, np, rT, b[2]);
        xlstm__tx_transpose_out(s, yT, rT, np, O, n, Y, ldy, 0);
        return;
    }
    xlstm__matmul(s, &w[0], X, ldx, n, s->th, s->ld_th, NULL, b[0]);
    a.Y = s->th, a.ld = s->ld_th, a.cols = FF;
    XLSTM__FOR_ROWS(s, n, xlstm__tx_relu_rows, &a);
    xlstm__matmul(s, &w[1], s->th, s->ld_th, n, Y, ldy, NULL, b[1]);
    xlstm__matmul(s, &w[2], X, ldx, n, s->tres, XLSTM__CAST(size_t, O), NULL, b[2]);
    a.Y = Y, a.ld = ldy, a.A = s->tres, a.cols = O;
    XLSTM__FOR_ROWS(s, n, xlstm__tx_add_rows, &a);
}

/* Gate outputs j0 <= j < j1 (j = gate * D + row) of L rows by dot products
   (few rows: a stream's step); with i8, of one row against s->xq (x rounded
   to int8 by xlstm__tx_gates_i8), q8 rows four at a time. */
static void xlstm__tx_gate_rows(xlstm_state *s, const xlstm__block *blk, int L, int i8, int j0, int j1) {
    const xlstm_config *c = &s->model->cfg;
    const xlstm__kern *k = s->model->kern;
    const int D = c->embedding_dim, DH = c->slstm.head_dim;
    const size_t ldg = 4 * XLSTM__CAST(size_t, D), nblk = XLSTM__CAST(size_t, DH) / XLSTM__QBLOCK;
    int j = j0, tt;
    while (j < j1) {
        const xlstm__mat *m = &blk->gate_w[j / D];
        const int o = j % D;
        const size_t x0 = XLSTM__CAST(size_t, o / DH) * XLSTM__CAST(size_t, DH);
        const unsigned char *row = m->w + XLSTM__CAST(size_t, o) * m->row_bytes;
        const float *sc = m->scale ? m->scale + XLSTM__CAST(size_t, o) * nblk : NULL;
        const xlstm__dot_i8_fn dot_i8 = i8 ? xlstm__dot_i8(k, m->dtype) : NULL;
        const xlstm__xq xs = xlstm__xq_from(&s->xq, x0);
        /* four q8 rows of one gate and one head (q8 rows are multiples of 32 wide) */
        if (dot_i8 && m->dtype == XLSTM__DT_Q8 && k->dot4_q8_i8 && j + 4 <= j1 && o % 4 == 0 && o + 4 <= D) {
            k->dot4_q8_i8(row, m->row_bytes, sc, nblk, &xs, DH, s->tg + j);
            j += 4;
            continue;
        }
        if (dot_i8) s->tg[j] = dot_i8(row, sc, &xs, DH);
        else
            for (tt = 0; tt < L; tt++)
                s->tg[XLSTM__CAST(size_t, tt) * ldg + XLSTM__CAST(size_t, j)] =
                    k->dot[m->dtype](row, sc, s->xn + XLSTM__CAST(size_t, tt) * XLSTM__CAST(size_t, D) + x0, DH);
        j++;
    }
}

/* A stream's step (one row) against q8/q4 gates: x (s->xn) rounded to int8
   once into s->xq, as in xlstm__matmul; returns whether it did. */
static int xlstm__tx_gates_i8(xlstm_state *s, const xlstm__block *blk) {
    int g, i8 = 0;
    for (g = 0; g < 4; g++) i8 |= xlstm__dot_i8(s->model->kern, blk->gate_w[g].dtype) != NULL;
    if (i8) xlstm__quantize_x(s->xn, s->model->cfg.embedding_dim, &s->xq);
    return i8;
}

/* The feed-forward's tiles (xlstm__tx_ffn_t: g^T and u^T in Y = s->th, F
   rows each; u^T = A): each task computes the gate and up tiles of the same
   rows and then silu(g) * u on them while they are in its cache; then each
   down tile (into s->tres) is added at once into the rows of x it belongs to. */
static void xlstm__tx_swiglu_tiles(void *ctx, int task, int lo, int hi) {
    const xlstm__txl *a = XLSTM__CAST(const xlstm__txl *, ctx);
    const int F = a->s->model->cfg.tirex.ffn_dim;
    const size_t lp = XLSTM__CAST(size_t, a->np);
    float *gT = a->Y, *uT = a->Y + XLSTM__CAST(size_t, F) * lp;
    int rt;
    for (rt = lo; rt < hi; rt++) {
        const int r0 = XLSTM__WTILE * rt, nr = F - r0 < XLSTM__WTILE ? F - r0 : XLSTM__WTILE;
        const size_t o = XLSTM__CAST(size_t, r0) * lp, len = XLSTM__CAST(size_t, nr) * lp;
        size_t j;
        xlstm__tx_tile(a->s, &a->blk->ffn_gate, rt, a->A, a->np, gT, NULL, task);
        xlstm__tx_tile(a->s, &a->blk->ffn_up, rt, a->A, a->np, uT, NULL, task);
        a->s->model->kern->silu(gT + o, XLSTM__CAST(int, len));
        for (j = 0; j < len; j++) gT[o + j] *= uT[o + j];
    }
}
static void xlstm__tx_down_tiles(void *ctx, int task, int lo, int hi) {
    const xlstm__txl *a = XLSTM__CAST(const xlstm__txl *, ctx);
    xlstm_state *s = a->s;
    const int D = s->model->cfg.embedding_dim;
    const size_t lp = XLSTM__CAST(size_t, a->np);
    int rt, r, j;
    for (rt = lo; rt < hi; rt++) {
        const int r0 = XLSTM__WTILE * rt, nr = D - r0 < XLSTM__WTILE ? D - r0 : XLSTM__WTILE;
        xlstm__tx_tile(s, &a->blk->ffn_down, rt, a->Y, a->np, s->tres, NULL, task);
        for (j = 0; j < a->n; j++) {
            float *x = s->x + XLSTM__CAST(size_t, a->t0 + j) * XLSTM__CAST(size_t, D) + r0;
            for (r = 0; r < nr; r++) x[r] += s->tres[XLSTM__CAST(size_t, r0 + r) * lp + XLSTM__CAST(size_t, j)];
        }
    }
}

/* The SwiGLU feed-forward of rows t0..L-1 of s->xn, added to s->x's rows, in
   the transposed layout: u^T once, then two loops of tiles
   (xlstm__tx_swiglu_tiles, xlstm__tx_down_tiles). */
static void xlstm__tx_ffn_t(xlstm_state *s, const xlstm__block *blk, int t0, int L) {
    const int D = s->model->cfg.embedding_dim, F = s->model->cfg.tirex.ffn_dim, n = L - t0, np = (n + 15) / 16 * 16;
    const size_t lp = XLSTM__CAST(size_t, np), ldd = XLSTM__CAST(size_t, D);
    const size_t work = XLSTM__CAST(size_t, F) * ldd * lp;
    xlstm__txl a;
    memset(&a, 0, sizeof a);
    a.s = s, a.blk = blk, a.A = s->xt, a.Y = s->th, a.np = np, a.n = n, a.t0 = t0;
    xlstm__tx_transpose_in(s, s->xn + XLSTM__CAST(size_t, t0) * ldd, ldd, n, D, s->xt, np);
    xlstm__for(s, (F + XLSTM__WTILE - 1) / XLSTM__WTILE, 1, 2 * work, XLSTM_PARALLEL_MIN_WORK, xlstm__tx_swiglu_tiles, &a);
    xlstm__for(s, (D + XLSTM__WTILE - 1) / XLSTM__WTILE, 1, work, XLSTM_PARALLEL_MIN_WORK, xlstm__tx_down_tiles, &a);
}

/* Whether the gates of L rows run per head (xlstm__tx_gates_head, in the
   threads' shares of s->th) or, where that scratch does not fit, through
   xlstm__headwise; either way s->xn's rows L..Lp-1 become zero padding. */
static int xlstm__tx_gates_tiled(xlstm_state *s, int L) {
    const xlstm_config *c = &s->model->cfg;
    const int D = c->embedding_dim, Lp = (L + 15) / 16 * 16;
    if (L < Lp) memset(s->xn + XLSTM__CAST(size_t, L) * XLSTM__CAST(size_t, D), 0, XLSTM__CAST(size_t, Lp - L) * XLSTM__CAST(size_t, D) * sizeof(float));
    return xlstm__tx_head_shares(s, Lp) <= s->n_th;
}

/* The four gate projections of head h for L rows (s->xn, padded by
   xlstm__tx_gates_tiled), on the thread tid that then runs the head's cell:
   the head's DH inputs transposed into its rows of s->xt, then per gate one
   register-tiled product (DH x DH widened once into tid's share of s->th),
   transposed into the gates' rows of that share, which it returns (row t at
   t * xlstm__tx_ldgh, gate g at g * DH): the same few lines for each head
   the thread runs, in its cache, where rows of s->tg 4 D apart are not. */
static float *xlstm__tx_gates_head(xlstm_state *s, const xlstm__block *blk, int L, int h, int tid) {
    const xlstm_config *c = &s->model->cfg;
    const xlstm__kern *k = s->model->kern;
    const int D = c->embedding_dim, DH = c->slstm.head_dim, Lp = (L + 15) / 16 * 16;
    const size_t ldg = xlstm__tx_ldgh(DH), blkf = XLSTM__CAST(size_t, DH) * XLSTM__CAST(size_t, DH);
    const size_t r0 = XLSTM__CAST(size_t, h) * XLSTM__CAST(size_t, DH), nblk = XLSTM__CAST(size_t, DH) / XLSTM__QBLOCK;
    const size_t lp = XLSTM__CAST(size_t, Lp);
    float *buf = s->th + XLSTM__CAST(size_t, tid) * xlstm__tx_head_share(DH, Lp), *out = buf + blkf, *gates = out + XLSTM__CAST(size_t, DH) * lp;
    float *xt = s->xt + r0 * lp;
    int g, r, j, t, d;
    /* this head's inputs X^T (DH, Lp): 16 x 16 blocks through the kernel */
    for (d = 0; d + 16 <= DH; d += 16)
        for (t = 0; t < Lp; t += 16)
            k->transpose16(xt + XLSTM__CAST(size_t, d) * lp + XLSTM__CAST(size_t, t), lp,
                           s->xn + XLSTM__CAST(size_t, t) * XLSTM__CAST(size_t, D) + r0 + XLSTM__CAST(size_t, d), XLSTM__CAST(size_t, D));
    for (; d < DH; d++)
        for (t = 0; t < Lp; t++) xt[XLSTM__CAST(size_t, d) * lp + XLSTM__CAST(size_t, t)] = s->xn[XLSTM__CAST(size_t, t) * XLSTM__CAST(size_t, D) + r0 + XLSTM__CAST(size_t, d)];
    for (g = 0; g < 4; g++) {
        const xlstm__mat *m = &blk->gate_w[g];
        float *tg = gates + XLSTM__CAST(size_t, g) * XLSTM__CAST(size_t, DH);
        const float *W;
        if (m->dtype == XLSTM__DT_F32) {
            W = XLSTM__CAST(const float *, XLSTM__CAST(const void *, m->w + r0 * m->row_bytes));
        } else {
            for (r = 0; r < DH; r++)
                k->dequant[m->dtype](buf + XLSTM__CAST(size_t, r) * XLSTM__CAST(size_t, DH), m->w + (r0 + XLSTM__CAST(size_t, r)) * m->row_bytes,
                                     m->scale ? m->scale + (r0 + XLSTM__CAST(size_t, r)) * nblk : NULL, DH);
            W = buf;
        }
        k->gemm(DH, Lp, DH, W, XLSTM__CAST(size_t, DH), 1, xt, lp, 0.0f, out, lp);
        /* out^T into the gates' rows (Lp of them: the padding rows are scratch) */
        for (j = 0; j + 16 <= DH; j += 16)
            for (t = 0; t < Lp; t += 16)
                k->transpose16(tg + XLSTM__CAST(size_t, t) * ldg + XLSTM__CAST(size_t, j), ldg, out + XLSTM__CAST(size_t, j) * lp + XLSTM__CAST(size_t, t), lp);
        for (; j < DH; j++)
            for (t = 0; t < L; t++) tg[XLSTM__CAST(size_t, t) * ldg + XLSTM__CAST(size_t, j)] = out[XLSTM__CAST(size_t, j) * lp + XLSTM__CAST(size_t, t)];
    }
    return gates;
}

/* The four headwise gate projections of L rows (s->xn) into s->tg where the
   per-head tiles do not fit (xlstm__tx_gates_tiled): a few rows are dot
   products, all four gates in one parallel loop; more go through
   xlstm__headwise. (A single row, a stream's step, is xlstm__tx_run's: each
   head's gate rows beside its cell.) */
static void xlstm__tx_gate_row_groups(void *ctx, int task, int lo, int hi) { /* gate rows 4 lo .. 4 hi */
    const xlstm__txl *a = XLSTM__CAST(const xlstm__txl *, ctx);
    const int rows = 4 * a->s->model->cfg.embedding_dim;
    (void)task;
    xlstm__tx_gate_rows(a->s, a->blk, a->L, 0, 4 * lo, 4 * hi < rows ? 4 * hi : rows);
}
static void xlstm__tx_gates(xlstm_state *s, const xlstm__block *blk, int L) {
    const xlstm_config *c = &s->model->cfg;
    const int D = c->embedding_dim;
    const size_t ldg = 4 * XLSTM__CAST(size_t, D);
    int idx;
    if (L < XLSTM__SMALL_BATCH) { /* a few rows: the 4 D rows' dot products over the threads at once, 4 at a time */
        xlstm__txl a;
        memset(&a, 0, sizeof a);
        a.s = s, a.blk = blk, a.L = L;
        xlstm__for(s, D, 4, 4 * XLSTM__CAST(size_t, D) * XLSTM__CAST(size_t, c->slstm.head_dim) * XLSTM__CAST(size_t, L), XLSTM_PARALLEL_MIN_WORK,
                   xlstm__tx_gate_row_groups, &a);
        return;
    }
    for (idx = 0; idx < 4; idx++)
        xlstm__headwise(s, &blk->gate_w[idx], s->xn, XLSTM__CAST(size_t, D), L, s->tg + XLSTM__CAST(size_t, idx) * XLSTM__CAST(size_t, D), ldg, NULL);
}

/* One head of the sLSTM cell over L tokens. st holds the block's (h, c, n, m),
   D each; the head's gates (i, f, z, o pre-activations Wx) of token t at
   gates + t*ldt, gate g at + g*ldw; outputs h to s->h. With bf16 the carried states, Wx and the
   recurrent product are bfloat16 (slstm_point rounds them), as in the
   reference's CPU cell; everything else is f32. */
static void xlstm__tx_cell_head(xlstm_state *s, const xlstm__block *blk, float *st, int head, int L, int first, int bf16,
                                const float *gates, size_t ldt, size_t ldw) {
    const xlstm_config *c = &s->model->cfg;
    const int D = c->embedding_dim, DH = c->slstm.head_dim, G = 4 * DH;
    const xlstm__kern *k = s->model->kern;
    const size_t h0 = XLSTM__CAST(size_t, head) * XLSTM__CAST(size_t, DH);
    float *hp = st + h0, *cp = st + D + h0, *np = st + 2 * D + h0, *mp = st + 3 * D + h0;
    float *ry = s->ry + XLSTM__CAST(size_t, head) * XLSTM__CAST(size_t, G);
    const size_t rec0 = XLSTM__CAST(size_t, head) * XLSTM__CAST(size_t, G) * XLSTM__CAST(size_t, DH);
    const float *rec = blk->rec + rec0;
    const size_t per_head16 = xlstm__rec16_count(DH, G);
    const uint16_t *rec16 = bf16 ? s->model->tx_rec16 + (XLSTM__CAST(size_t, blk - s->model->blocks) * XLSTM__CAST(size_t, c->slstm.num_heads) +
                                                         XLSTM__CAST(size_t, head)) * per_head16
                                 : NULL;
    int t;
    for (t = 0; t < L; t++) {
        const float *wx = gates + XLSTM__CAST(size_t, t) * ldt;
        float *out = s->h + XLSTM__CAST(size_t, t) * XLSTM__CAST(size_t, D) + h0;
        /* Ry = h_prev R for this head, the four gates side by side (4 DH) */
        if (bf16) s->model->tx_vecmat_bf16(hp, rec16, DH, G, ry);
        else k->vecmat(hp, rec, DH, G, ry);
        k->slstm_point(wx, ldw, ry, XLSTM__CAST(size_t, DH), blk->gate_b + h0, XLSTM__CAST(size_t, D), out, cp, np, mp, first && t == 0, bf16, 15.0f, DH);
        memcpy(hp, out, XLSTM__CAST(size_t, DH) * sizeof(float));
    }
}

/* xlstm__tx_run's loops: rows of the chunk (norms), heads (gates, cells) */
static void xlstm__tx_norm_rows(void *ctx, int task, int lo, int hi) {
    const xlstm__txl *a = XLSTM__CAST(const xlstm__txl *, ctx);
    xlstm_state *s = a->s;
    const size_t ldd = XLSTM__CAST(size_t, s->model->cfg.embedding_dim);
    int t;
    (void)task;
    for (t = lo; t < hi; t++)
        s->model->kern->rmsnorm(s->xn + XLSTM__CAST(size_t, t) * ldd, s->x + XLSTM__CAST(size_t, t) * ldd, a->blk->norm_w, NULL,
                                XLSTM__CAST(int, ldd), 1e-6f);
}
static void xlstm__tx_step_heads(void *ctx, int task, int lo, int hi) { /* a stream's step: each head's gate rows, then its cell */
    const xlstm__txl *a = XLSTM__CAST(const xlstm__txl *, ctx);
    const int D = a->s->model->cfg.embedding_dim, DH = a->s->model->cfg.slstm.head_dim;
    int i, g;
    (void)task;
    for (i = lo; i < hi; i++) {
        for (g = 0; g < 4; g++) xlstm__tx_gate_rows(a->s, a->blk, 1, a->i8, g * D + i * DH, g * D + (i + 1) * DH);
        xlstm__tx_cell_head(a->s, a->blk, a->st, i, 1, a->first, a->bf16, a->s->tg + i * DH, 4 * XLSTM__CAST(size_t, D), XLSTM__CAST(size_t, D));
    }
}
static void xlstm__tx_chunk_heads(void *ctx, int task, int lo, int hi) { /* each head's gates, then its cell, on one thread */
    const xlstm__txl *a = XLSTM__CAST(const xlstm__txl *, ctx);
    const int DH = a->s->model->cfg.slstm.head_dim;
    int i;
    for (i = lo; i < hi; i++) {
        const float *gates = xlstm__tx_gates_head(a->s, a->blk, a->L, i, task);
        xlstm__tx_cell_head(a->s, a->blk, a->st, i, a->L, a->first, a->bf16, gates, xlstm__tx_ldgh(DH), XLSTM__CAST(size_t, DH));
    }
}
static void xlstm__tx_cell_heads(void *ctx, int task, int lo, int hi) {
    const xlstm__txl *a = XLSTM__CAST(const xlstm__txl *, ctx);
    const int D = a->s->model->cfg.embedding_dim, DH = a->s->model->cfg.slstm.head_dim;
    int i;
    (void)task;
    for (i = lo; i < hi; i++)
        xlstm__tx_cell_head(a->s, a->blk, a->st, i, a->L, a->first, a->bf16, a->s->tg + i * DH, 4 * XLSTM__CAST(size_t, D), XLSTM__CAST(size_t, D));
}
static void xlstm__tx_gn_rows(void *ctx, int task, int lo, int hi) { /* x += GN(h), then u = RMSNorm(x) for the feed-forward */
    const xlstm__txl *a = XLSTM__CAST(const xlstm__txl *, ctx);
    xlstm_state *s = a->s;
    const xlstm_config *c = &s->model->cfg;
    const int D = c->embedding_dim;
    int t, j;
    (void)task;
    for (t = lo; t < hi; t++) {
        float *x = s->x + XLSTM__CAST(size_t, t) * XLSTM__CAST(size_t, D), *xn = s->xn + XLSTM__CAST(size_t, t) * XLSTM__CAST(size_t, D);
        s->model->kern->groupnorm(xn, s->h + XLSTM__CAST(size_t, t) * XLSTM__CAST(size_t, D), a->blk->gn_w, c->slstm.num_heads, c->slstm.head_dim);
        for (j = 0; j < D; j++) x[j] += xn[j];
        if (t >= a->t0) s->model->kern->rmsnorm(xn, x, a->blk->ffn_norm_w, NULL, D, 1e-6f);
    }
}

/* Run L tokens (rows of s->tw) through the embedding and every block,
   carrying the per-block states (NB x 4D floats: h, c, n, m). Only the last
   out_rows rows of the result (s->x) are needed: the last block's
   feed-forward runs for those alone (0 in a window's early chunks, whose
   tokens matter only through the states). embed (optional): each token's
   row after each block, [t][block][D] (then out_rows must be L). */
static void xlstm__tx_run_now(xlstm_state *s, float *states, int L, int out_rows, float *embed) {
    const xlstm_model *m = s->model;
    const xlstm_config *c = &m->cfg;
    const int D = c->embedding_dim, NB = c->num_blocks, NH = c->slstm.num_heads, F = c->tirex.ffn_dim;
    const size_t ldd = XLSTM__CAST(size_t, D), ldf = 2 * XLSTM__CAST(size_t, F);
    const size_t head_work = XLSTM__CAST(size_t, L) * 4 * ldd * XLSTM__CAST(size_t, c->slstm.head_dim);
    int b, t, i;
    xlstm__txl a;
    memset(&a, 0, sizeof a);
    a.s = s, a.L = L, a.bf16 = !m->fp32_recurrence;
    xlstm__tx_resblock(s, m->tx_in, m->tx_in_b, s->tw, 2 * XLSTM__CAST(size_t, c->tirex.patch_size), L, s->x, ldd);
    for (b = 0; b < NB; b++) {
        const xlstm__block *blk = &m->blocks[b];
        float *st = states + XLSTM__CAST(size_t, b) * 4 * XLSTM__CAST(size_t, D);
        /* only the last out_rows rows need the last block's feed-forward */
        const int t0 = b == NB - 1 ? L - out_rows : 0;
        int first = 1;
        a.blk = blk, a.st = st, a.t0 = t0;
        XLSTM__FOR_ROWS(s, L, xlstm__tx_norm_rows, &a);
        /* the reference starts a pass from zero states and takes the first
           stabiliser from i alone while every n is 0 */
        for (i = 0; i < D && first; i++) first = st[2 * D + i] == 0.0f;
        a.first = first;
        if (L == 1) { /* a stream's step: each head's gate rows, then its cell, in one parallel loop */
            a.i8 = xlstm__tx_gates_i8(s, blk);
            xlstm__for(s, NH, 1, head_work, 65536, xlstm__tx_step_heads, &a);
        } else if (L >= XLSTM__SMALL_BATCH && xlstm__tx_gates_tiled(s, L)) {
            xlstm__for(s, NH, 1, head_work, 0, xlstm__tx_chunk_heads, &a);
        } else {
            xlstm__tx_gates(s, blk, L);
            xlstm__for(s, NH, 1, head_work, 65536, xlstm__tx_cell_heads, &a);
        }
        XLSTM__FOR_ROWS(s, L, xlstm__tx_gn_rows, &a);
        if (t0 >= L) continue;
        /* SwiGLU feed-forward: x += W_down (silu(W_gate u) * W_up u) */
        if (L - t0 >= XLSTM__SMALL_BATCH) { /* a chunk: transposed from one product to the next */
            xlstm__tx_ffn_t(s, blk, t0, L);
        } else {
            if (L - t0 == 1 && blk->ffn_gate.dtype == blk->ffn_up.dtype && blk->ffn_gate.rows == blk->ffn_up.rows &&
                blk->ffn_gate.cols == blk->ffn_up.cols) { /* one row (a stream's step): both in one loop */
                xlstm__matvec(s, &blk->ffn_gate, &blk->ffn_up, s->xn + t0 * ldd, s->th, s->th + F);
            } else {
                xlstm__matmul(s, &blk->ffn_gate, s->xn + t0 * ldd, ldd, L - t0, s->th, ldf, NULL, NULL);
                xlstm__matmul(s, &blk->ffn_up, s->xn + t0 * ldd, ldd, L - t0, s->th + F, ldf, NULL, NULL);
            }
            for (t = 0; t < L - t0; t++) { /* a few rows */
                float *gt = s->th + XLSTM__CAST(size_t, t) * ldf;
                int j;
                m->kern->silu(gt, F);
                for (j = 0; j < F; j++) gt[j] *= gt[F + j];
            }
            xlstm__matmul(s, &blk->ffn_down, s->th, ldf, L - t0, s->xn + t0 * ldd, ldd, NULL, NULL);
            for (t = t0; t < L; t++) {
                float *x = s->x + t * ldd;
                const float *y = s->xn + t * ldd;
                int j;
                for (j = 0; j < D; j++) x[j] += y[j];
            }
        }
        if (embed)
            for (t = 0; t < L; t++)
                memcpy(embed + (XLSTM__CAST(size_t, t) * XLSTM__CAST(size_t, NB) + XLSTM__CAST(size_t, b)) * ldd, s->x + t * ldd, ldd * sizeof(float));
    }
}

typedef struct xlstm__tx_run_args {
    xlstm_state *s;
    float *states, *embed;
    int L, out_rows;
} xlstm__tx_run_args;
static void xlstm__tx_run_body(void *arg) {
    const xlstm__tx_run_args *a = XLSTM__CAST(const xlstm__tx_run_args *, arg);
    xlstm__tx_run_now(a->s, a->states, a->L, a->out_rows, a->embed);
}
/* xlstm__tx_run_now on one team. */
static void xlstm__tx_run(xlstm_state *s, float *states, int L, int out_rows, float *embed) {
    xlstm__tx_run_args a;
    a.s = s, a.states = states, a.embed = embed, a.L = L, a.out_rows = out_rows;
    xlstm__team_call(s, xlstm__tx_run_body, &a);
}

/* The whole window (its T/P patches, already in s->win as raw values) from
   zero states: scaler into *loc, *scale; the last token's final row into
   last (D). embed as in xlstm__tx_run, for patches from skip on. */
static void xlstm__tx_window_run(xlstm_state *s, float *states, float *last, float *loc, float *scale, float *embed, int skip) {
    const xlstm_config *c = &s->model->cfg;
    const int P = c->tirex.patch_size, T = c->tirex.train_ctx_len, NT = T / P, R = XLSTM_PREFILL_ROWS;
    const size_t D = XLSTM__CAST(size_t, c->embedding_dim), per = XLSTM__CAST(size_t, c->num_blocks) * D;
    int t0, i;
    xlstm__tx_scaler(s->win, T, s->tsq, loc, scale);
    for (i = 0; i < T; i++) s->win[i] = (s->win[i] - *loc) / *scale;
    memset(states, 0, XLSTM__CAST(size_t, c->num_blocks) * 4 * D * sizeof(float));
    for (t0 = 0; t0 < NT; t0 += R) {
        const int L = NT - t0 < R ? NT - t0 : R;
        xlstm__tx_tokens(s->tw, s->win + XLSTM__CAST(size_t, t0) * XLSTM__CAST(size_t, P), L, P);
        if (embed && t0 + L > skip) {
            xlstm__tx_run(s, states, L, L, s->temb);
            for (i = t0 > skip ? t0 : skip; i < t0 + L; i++)
                memcpy(embed + XLSTM__CAST(size_t, i - skip) * per, s->temb + XLSTM__CAST(size_t, i - t0) * per, per * sizeof(float));
        } else {
            xlstm__tx_run(s, states, L, t0 + L == NT, NULL);
        }
    }
    memcpy(last, s->x + XLSTM__CAST(size_t, (NT - 1) % R) * D, D * sizeof(float));
}

/* The output head on one final row: Q x P values, rescaled. */
static void xlstm__tx_head(xlstm_state *s, const float *last, float loc, float scale) {
    const xlstm_model *m = s->model;
    const xlstm_config *c = &m->cfg;
    const int QP = c->tirex.num_quantiles * c->tirex.patch_size, D = c->embedding_dim;
    int i;
    xlstm__rmsnorm(s->xn, last, m->post_norm, NULL, D, 1e-6f);
    xlstm__tx_resblock(s, m->tx_out, m->tx_out_b, s->xn, XLSTM__CAST(size_t, D), 1, s->tq, XLSTM__CAST(size_t, QP));
    for (i = 0; i < QP; i++) s->tq[i] = s->tq[i] * scale + loc;
}

/* Scatter a pass's patch [Q][P] into [step][Q] rows for steps from..to-1 of
   the rollout (step j of the patch is rollout step base + j). */
static void xlstm__tx_emit(const xlstm_state *s, int base, int from, int to, float *q, float *median) {
    const xlstm_config *c = &s->model->cfg;
    const int P = c->tirex.patch_size, Q = c->tirex.num_quantiles;
    int j, qi;
    for (j = 0; j < P; j++) {
        const int step = base + j;
        if (step < from || step >= to) continue;
        for (qi = 0; qi < Q; qi++) q[XLSTM__CAST(size_t, step - from) * XLSTM__CAST(size_t, Q) + XLSTM__CAST(size_t, qi)] = s->tq[qi * P + j];
        if (median) median[step - from] = s->tq[c->tirex.median_index * P + j];
    }
}

static int xlstm__is_tirex(const xlstm_state *s) { return s && s->model->cfg.arch == XLSTM_ARCH_TIREX; }

/* One series: ceil(H/P) passes, each a full window, as the reference. */
static void xlstm__tx_forecast1(xlstm_state *s, const float *x, size_t len, int32_t H, float *q, float *median) {
    const xlstm_config *c = &s->model->cfg;
    const int P = c->tirex.patch_size;
    int k;
    float loc, scale;
    for (k = 0; k * P < H; k++) {
        xlstm__tx_window(s->win, c->tirex.train_ctx_len, x, len, XLSTM__CAST(size_t, k) * XLSTM__CAST(size_t, P));
        xlstm__tx_window_run(s, s->tpass, s->tlast, &loc, &scale, NULL, 0);
        xlstm__tx_head(s, s->tlast, loc, scale);
        xlstm__tx_emit(s, k * P, 0, H, q, median);
    }
}

XLSTMDEF xlstm_status xlstm_forecast(xlstm_state *s, const float *const *series, const size_t *lengths, size_t n,
                                     int32_t horizon, float *quantiles, float *median) {
    size_t i, per;
    if (!xlstm__is_tirex(s) || horizon <= 0 || (n && (!series || !lengths || !quantiles))) return XLSTM_ERR_ARG;
    for (i = 0; i < n; i++)
        if (!series[i] && lengths[i]) return XLSTM_ERR_ARG;
    per = XLSTM__CAST(size_t, horizon) * XLSTM__CAST(size_t, s->model->cfg.tirex.num_quantiles);
    for (i = 0; i < n; i++)
        xlstm__tx_forecast1(s, series[i], lengths[i], horizon, quantiles + i * per,
                            median ? median + i * XLSTM__CAST(size_t, horizon) : NULL);
    return XLSTM_OK;
}

/* The stream's value v, counting from its first observation; only the last T are kept. */
static float xlstm__tx_hist(const xlstm_state *s, uint64_t v) {
    const uint64_t T = XLSTM__CAST(uint64_t, s->model->cfg.tirex.train_ctx_len);
    return s->thist[v % T];
}

XLSTMDEF xlstm_status xlstm_stream_observe(xlstm_state *s, const float *values, size_t n) {
    const xlstm_config *c;
    uint64_t nobs, T, P;
    size_t i;
    if (!xlstm__is_tirex(s) || (n && !values)) return XLSTM_ERR_ARG;
    c = &s->model->cfg;
    T = XLSTM__CAST(uint64_t, c->tirex.train_ctx_len);
    P = XLSTM__CAST(uint64_t, c->tirex.patch_size);
    nobs = xlstm__tx_nobs(s);
    for (i = 0; i < n; i++) {
        s->thist[nobs % T] = values[i];
        nobs++;
        if (nobs == T) {
            /* the window is full: its scaler stays; its states become the stream's */
            memcpy(s->win, s->thist, XLSTM__CAST(size_t, T) * sizeof(float));
            xlstm__tx_window_run(s, s->tstream, s->tstream_last, &s->mem[2], &s->mem[3], NULL, 0);
        } else if (nobs > T && nobs % P == 0) {
            /* a completed patch: one step */
            uint64_t v;
            for (v = 0; v < P; v++) s->win[v] = (xlstm__tx_hist(s, nobs - P + v) - s->mem[2]) / s->mem[3];
            xlstm__tx_tokens(s->tw, s->win, 1, XLSTM__CAST(int, P));
            xlstm__tx_run(s, s->tstream, 1, 1, NULL);
            memcpy(s->tstream_last, s->x, XLSTM__CAST(size_t, c->embedding_dim) * sizeof(float));
        }
    }
    xlstm__tx_set_nobs(s, nobs);
    return XLSTM_OK;
}

XLSTMDEF uint64_t xlstm_stream_length(const xlstm_state *s) { return xlstm__is_tirex(s) ? xlstm__tx_nobs(s) : 0; }

XLSTMDEF xlstm_status xlstm_stream_forecast(xlstm_state *s, int32_t horizon, float *quantiles, float *median) {
    const xlstm_config *c;
    uint64_t nobs, T;
    int P, r, k, i;
    size_t sbytes;
    if (!xlstm__is_tirex(s) || horizon <= 0 || !quantiles) return XLSTM_ERR_ARG;
    c = &s->model->cfg;
    T = XLSTM__CAST(uint64_t, c->tirex.train_ctx_len);
    P = c->tirex.patch_size;
    nobs = xlstm__tx_nobs(s);
    if (nobs <= T) { /* everything observed fits one window: exactly xlstm_forecast */
        xlstm__tx_forecast1(s, s->thist, XLSTM__CAST(size_t, nobs), horizon, quantiles, median);
        return XLSTM_OK;
    }
    /* from the memories at the last completed patch; its r observed steps are skipped */
    r = XLSTM__CAST(int, nobs % XLSTM__CAST(uint64_t, P));
    sbytes = XLSTM__CAST(size_t, c->num_blocks) * 4 * XLSTM__CAST(size_t, c->embedding_dim) * sizeof(float);
    memcpy(s->tpass, s->tstream, sbytes);
    memcpy(s->tlast, s->tstream_last, XLSTM__CAST(size_t, c->embedding_dim) * sizeof(float));
    for (k = 0; k * P < horizon + r; k++) {
        if (k) { /* roll out: a patch of missing values */
            for (i = 0; i < P; i++) s->win[i] = NAN;
            xlstm__tx_tokens(s->tw, s->win, 1, P);
            xlstm__tx_run(s, s->tpass, 1, 1, NULL);
            memcpy(s->tlast, s->x, XLSTM__CAST(size_t, c->embedding_dim) * sizeof(float));
        }
        xlstm__tx_head(s, s->tlast, s->mem[2], s->mem[3]);
        xlstm__tx_emit(s, k * P, r, r + horizon, quantiles, median);
    }
    return XLSTM_OK;
}

XLSTMDEF xlstm_status xlstm_embed_series(xlstm_state *s, const float *series, size_t length, float *out, size_t *n_tokens) {
    const xlstm_config *c;
    int T, P, skip;
    size_t used;
    float loc, scale;
    if (!xlstm__is_tirex(s) || !n_tokens || (length && !series)) return XLSTM_ERR_ARG;
    c = &s->model->cfg;
    T = c->tirex.train_ctx_len;
    P = c->tirex.patch_size;
    used = length < XLSTM__CAST(size_t, T) ? length : XLSTM__CAST(size_t, T);
    skip = XLSTM__CAST(int, (XLSTM__CAST(size_t, T) - used) / XLSTM__CAST(size_t, P)); /* patches of padding only */
    *n_tokens = XLSTM__CAST(size_t, T / P - skip);
    if (!out) return XLSTM_OK;
    xlstm__tx_window(s->win, T, series, length, 0);
    xlstm__tx_window_run(s, s->tpass, s->tlast, &loc, &scale, out, skip);
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

/* ---- tokenizer: Unicode tables ----------------------------------------- */
/* Generated by tokenizer_gen_tables.py from Python's unicodedata 14.0.0, adjusted to
   HF tokenizers' Unicode versions (normalizer 9.0, pre-tokenizer regex 16.0). */
static const uint32_t xlstm__tok_cls[1610] = {
    0, 39, 56, 131, 132, 194, 232, 261, 364, 389, 492, 535, 536, 643, 644, 681, 684, 714, 720, 725, 728, 742, 745, 748,
    754, 764, 769, 860, 865, 988, 993, 2824, 2841, 2888, 2945, 2964, 2993, 2996, 3001, 3004, 3521, 3540, 3545, 3552,
    3561, 3576, 3581, 3584, 3609, 3612, 3617, 3628, 3633, 3636, 3641, 3720, 3725, 4056, 4061, 4616, 4649, 5312, 5317,
    5468, 5477, 5480, 5505, 5668, 5953, 6060, 6077, 6092, 6273, 6444, 6530, 6568, 6585, 6592, 6597, 6992, 6997, 7000,
    7061, 7068, 7097, 7106, 7145, 7156, 7165, 7168, 7233, 7236, 7241, 7360, 7477, 7832, 7877, 7880, 7938, 7977, 8108,
    8145, 8152, 8169, 8172, 8193, 8280, 8297, 8300, 8337, 8340, 8353, 8356, 8449, 8548, 8577, 8620, 8641, 8736, 8741,
    8764, 8833, 9000, 9233, 9448, 9461, 9464, 9537, 9540, 9569, 9608, 9626, 9664, 9669, 9732, 9749, 9780, 9789, 9796,
    9805, 9892, 9897, 9924, 9929, 9932, 9945, 9960, 9973, 9976, 10041, 10044, 10097, 10104, 10109, 10120, 10138, 10177,
    10184, 10194, 10216, 10225, 10228, 10261, 10284, 10301, 10308, 10317, 10404, 10409, 10436, 10441, 10448, 10453,
    10460, 10465, 10472, 10597, 10612, 10617, 10620, 10650, 10688, 10697, 10708, 10773, 10808, 10813, 10824, 10829,
    10916, 10921, 10948, 10953, 10960, 10965, 10984, 10997, 11000, 11073, 11076, 11137, 11144, 11162, 11200, 11237,
    11240, 11285, 11316, 11325, 11332, 11341, 11428, 11433, 11460, 11465, 11472, 11477, 11496, 11509, 11512, 11633,
    11640, 11645, 11656, 11674, 11712, 11717, 11722, 11744, 11789, 11792, 11797, 11820, 11833, 11844, 11849, 11864,
    11877, 11884, 11889, 11892, 11897, 11904, 11917, 11924, 11937, 11948, 11961, 12008, 12097, 12100, 12186, 12236,
    12309, 12340, 12345, 12356, 12361, 12452, 12457, 12520, 12533, 12536, 12641, 12652, 12661, 12664, 12673, 12680,
    12698, 12736, 12770, 12796, 12801, 12804, 12821, 12852, 12857, 12868, 12873, 12964, 12969, 13008, 13013, 13032,
    13045, 13048, 13173, 13180, 13185, 13192, 13210, 13248, 13253, 13260, 13329, 13364, 13369, 13380, 13385, 13548,
    13557, 13560, 13625, 13628, 13649, 13660, 13666, 13693, 13704, 13722, 13796, 13801, 13824, 13845, 13916, 13929,
    14024, 14029, 14064, 14069, 14072, 14081, 14108, 14234, 14272, 14341, 14532, 14537, 14544, 14593, 14620, 14658,
    14696, 14853, 14860, 14865, 14868, 14873, 14892, 14897, 14992, 14997, 15000, 15005, 15044, 15049, 15056, 15093,
    15096, 15105, 15124, 15129, 15132, 15170, 15208, 15217, 15232, 15361, 15364, 15490, 15568, 15617, 15648, 15653,
    15796, 15905, 15924, 16385, 16556, 16637, 16642, 16680, 16705, 16728, 16745, 16760, 16773, 16776, 16789, 16796,
    16825, 16836, 16853, 16904, 16953, 16956, 16962, 17000, 17025, 17176, 17181, 17184, 17205, 17208, 17217, 17388,
    17393, 18724, 18729, 18744, 18753, 18780, 18785, 18788, 18793, 18808, 18817, 18980, 18985, 19000, 19009, 19140,
    19145, 19160, 19169, 19196, 19201, 19204, 19209, 19224, 19233, 19292, 19297, 19524, 19529, 19544, 19553, 19820,
    19878, 19956, 19969, 20032, 20097, 20440, 20449, 20472, 20485, 22964, 22973, 23043, 23045, 23148, 23169, 23468,
    23482, 23493, 23524, 23553, 23624, 23677, 23752, 23809, 23880, 23937, 23988, 23993, 24004, 24065, 24272, 24413,
    24416, 24433, 24436, 24450, 24488, 24514, 24552, 24642, 24680, 24705, 25060, 25089, 25108, 25117, 25252, 25257,
    25260, 25281, 25560, 25601, 25724, 25882, 25921, 26040, 26049, 26068, 26113, 26288, 26305, 26408, 26434, 26476,
    26625, 26716, 26753, 26964, 27138, 27176, 27202, 27240, 27293, 27296, 27669, 27856, 27925, 27956, 27970, 28008,
    28173, 28292, 28345, 28354, 28393, 28568, 28673, 28816, 28930, 28968, 28981, 28994, 29033, 29176, 29185, 29228,
    29249, 29420, 29429, 29440, 29605, 29620, 29625, 29648, 29653, 29660, 29673, 29676, 29697, 30464, 30721, 31832,
    31841, 31864, 31873, 32024, 32033, 32056, 32065, 32096, 32101, 32104, 32109, 32112, 32117, 32120, 32125, 32248,
    32257, 32468, 32473, 32500, 32505, 32508, 32521, 32532, 32537, 32564, 32577, 32592, 32601, 32624, 32641, 32692,
    32713, 32724, 32729, 32756, 32771, 32812, 32931, 32936, 32959, 32960, 33151, 33152, 33218, 33221, 33224, 33234,
    33256, 33277, 33282, 33320, 33345, 33396, 33801, 33804, 33821, 33824, 33833, 33872, 33877, 33880, 33893, 33912,
    33937, 33940, 33945, 33948, 33953, 33956, 33961, 33976, 33981, 34024, 34033, 34048, 34069, 34088, 34105, 34108,
    34114, 34317, 34326, 34344, 37250, 37488, 37802, 37888, 40410, 40528, 45057, 45972, 45997, 46012, 46025, 46032,
    46070, 46072, 46081, 46232, 46237, 46240, 46261, 46264, 46273, 46496, 46525, 46528, 46593, 46684, 46721, 46748,
    46753, 46780, 46785, 46812, 46817, 46844, 46849, 46876, 46881, 46908, 46913, 46940, 46945, 46972, 47293, 47296,
    49155, 49156, 49173, 49182, 49184, 49286, 49320, 49349, 49368, 49378, 49389, 49396, 49413, 49756, 49781, 49792,
    49797, 50156, 50161, 50176, 50197, 50368, 50373, 50748, 50762, 50776, 50817, 50944, 51137, 51200, 51330, 51368,
    51490, 51520, 51526, 51584, 51714, 51752, 51910, 51968, 53249, 79616, 79873, 168500, 168769, 168952, 168961, 170036,
    170049, 170114, 170153, 170160, 170241, 170428, 170493, 170616, 170625, 170906, 170944, 171101, 171136, 171145,
    171556, 171565, 171832, 171841, 171848, 171853, 171856, 171861, 171892, 171977, 172040, 172045, 172056, 172061,
    172076, 172081, 172172, 172226, 172248, 172289, 172496, 172553, 172752, 172866, 172904, 173001, 173024, 173037,
    173040, 173045, 173052, 173058, 173097, 173208, 173249, 173340, 173441, 173556, 173585, 173772, 173885, 173890,
    173928, 173953, 173972, 173977, 174018, 174057, 174076, 174081, 174244, 174337, 174348, 174353, 174384, 174402,
    174440, 174465, 174556, 174569, 174572, 174585, 174784, 174789, 174792, 174805, 174812, 174821, 174840, 174849,
    174852, 174857, 174860, 174957, 174968, 174977, 175020, 175049, 175060, 175109, 175132, 175141, 175164, 175173,
    175196, 175233, 175260, 175265, 175292, 175297, 175468, 175473, 175528, 175553, 176012, 176066, 176104, 176129,
    220816, 220865, 220956, 220973, 221168, 254977, 256440, 256449, 256872, 257025, 257052, 257101, 257120, 257141,
    257144, 257149, 257188, 257193, 257244, 257249, 257268, 257273, 257276, 257281, 257288, 257293, 257300, 257305,
    257736, 257869, 259320, 259393, 259648, 259657, 259872, 260033, 260080, 260545, 260564, 260569, 261108, 261186,
    261224, 261253, 261356, 261381, 261484, 261529, 261884, 261897, 261920, 261929, 261952, 261961, 261984, 261993,
    262004, 262145, 262192, 262197, 262300, 262305, 262380, 262385, 262392, 262397, 262456, 262465, 262520, 262657,
    263148, 263198, 263376, 263426, 263652, 263722, 263728, 264705, 264820, 264833, 265028, 265094, 265200, 265217,
    265346, 265360, 265397, 265478, 265481, 265514, 265516, 265537, 265688, 265729, 265848, 265857, 266000, 266017,
    266048, 266054, 266072, 266241, 266872, 266882, 266920, 266945, 267088, 267105, 267248, 267265, 267424, 267457,
    267664, 267713, 267756, 267761, 267820, 267825, 267852, 267857, 267864, 267869, 267912, 267917, 267976, 267981,
    268008, 268013, 268020, 268033, 268240, 268289, 269532, 269569, 269656, 269697, 269728, 269825, 269848, 269853,
    270020, 270025, 270060, 270337, 270360, 270369, 270372, 270377, 270552, 270557, 270564, 270577, 270580, 270589,
    270680, 270690, 270721, 270812, 270822, 270849, 270972, 271006, 271040, 271233, 271308, 271313, 271320, 271342,
    271361, 271450, 271472, 271489, 271592, 271873, 272096, 272114, 272121, 272130, 272192, 272202, 272385, 272388,
    272449, 272464, 272469, 272480, 272485, 272600, 272642, 272676, 272769, 272886, 272892, 272897, 273014, 273024,
    273153, 273184, 273189, 273300, 273326, 273344, 273409, 273624, 273665, 273752, 273762, 273793, 273868, 273890,
    273921, 273992, 274086, 274112, 274433, 274724, 274945, 275148, 275201, 275404, 275434, 275457, 275600, 275650,
    275688, 275714, 275753, 275864, 275901, 275992, 276866, 276988, 276993, 277160, 277185, 277192, 277257, 277268,
    277505, 277622, 277661, 277664, 277697, 277784, 277830, 277844, 277953, 278024, 278209, 278294, 278320, 278401,
    278492, 278541, 278752, 278858, 278976, 278981, 278988, 278997, 279000, 279053, 279232, 279361, 279460, 279490,
    279528, 279565, 279708, 279770, 279808, 279825, 279828, 279837, 279840, 279873, 280012, 280025, 280028, 280077,
    280268, 280325, 280340, 280386, 280425, 280428, 280433, 280436, 280454, 280532, 280577, 280648, 280653, 280752,
    280829, 280836, 281089, 281116, 281121, 281124, 281129, 281144, 281149, 281208, 281213, 281252, 281281, 281468,
    281538, 281576, 281621, 281652, 281661, 281668, 281677, 281764, 281769, 281796, 281801, 281808, 281813, 281832,
    281845, 281848, 281921, 281924, 281973, 281992, 282113, 282152, 282157, 282160, 282169, 282172, 282177, 282328,
    282333, 282336, 282437, 282440, 282445, 282448, 282625, 282836, 282909, 282924, 282946, 282984, 283005, 283016,
    283137, 283328, 283409, 283416, 283421, 283424, 283458, 283496, 284161, 284348, 284513, 284528, 284673, 284864,
    284945, 284948, 284994, 285032, 285185, 285356, 285409, 285412, 285442, 285480, 285506, 285584, 285697, 285804,
    285890, 285936, 285953, 285980, 286721, 286896, 287361, 287618, 287692, 287741, 287772, 287781, 287784, 287793,
    287824, 287829, 287836, 287841, 287936, 287997, 288000, 288005, 288008, 288066, 288104, 288385, 288416, 288425,
    288580, 288645, 288648, 288653, 288656, 288769, 288772, 288813, 288972, 289001, 289004, 289089, 289092, 289137,
    289320, 289397, 289400, 289473, 289764, 290561, 290692, 290754, 290792, 290817, 290852, 290857, 291004, 291073,
    291076, 291138, 291252, 291273, 291392, 291841, 291868, 291873, 291880, 291885, 292036, 292121, 292124, 292162,
    292200, 292225, 292248, 292253, 292260, 292265, 292392, 292449, 292452, 292482, 292520, 293761, 293836, 293897,
    293900, 293905, 293956, 293961, 294096, 294210, 294248, 294593, 294596, 294658, 294740, 294913, 298600, 299010,
    299452, 299521, 300304, 310849, 311236, 311297, 315584, 315653, 315676, 315777, 331756, 331777, 334108, 361473,
    361592, 361666, 361704, 368641, 370916, 370945, 371068, 371074, 371112, 371137, 371452, 371458, 371496, 371521,
    371640, 371713, 371904, 371969, 371984, 372034, 372072, 372078, 372104, 372109, 372192, 372213, 372288, 374017,
    374196, 374210, 374248, 375041, 375298, 375388, 375809, 376108, 376129, 376132, 376397, 376448, 376705, 376712,
    376717, 376720, 376833, 401376, 401409, 406360, 406525, 406564, 442305, 442320, 442325, 442352, 442357, 442364,
    442369, 443532, 443593, 443596, 443713, 443724, 443733, 443736, 443793, 443808, 443841, 445424, 454657, 455084,
    455105, 455156, 455169, 455204, 455233, 455272, 472002, 472040, 477954, 478032, 478082, 478160, 478594, 478692,
    479233, 479572, 479577, 479860, 479865, 479872, 479881, 479884, 479893, 479900, 479909, 479924, 479929, 479976,
    479981, 479984, 479989, 480016, 480021, 480280, 480285, 480300, 480309, 480340, 480345, 480372, 480377, 480488,
    480493, 480508, 480513, 480532, 480537, 480540, 480553, 480580, 480585, 481944, 481953, 482052, 482057, 482156,
    482161, 482284, 482289, 482388, 482393, 482516, 482521, 482620, 482625, 482748, 482753, 482852, 482857, 482980,
    482985, 483084, 483089, 483120, 483130, 483328, 490497, 490620, 490645, 490668, 491713, 491960, 492545, 492724,
    492765, 492792, 492802, 492840, 492857, 492860, 494145, 494264, 494337, 494512, 494530, 494568, 496449, 496560,
    496578, 496616, 497473, 497592, 497601, 497606, 497644, 499585, 499612, 499617, 499632, 499637, 499644, 499649,
    499708, 499713, 500500, 500510, 500544, 500737, 501008, 501037, 501040, 501058, 501096, 504262, 504496, 504502,
    504512, 504518, 504532, 504838, 505016, 505022, 505080, 505857, 505872, 505877, 505984, 505989, 505996, 506001,
    506004, 506013, 506016, 506021, 506060, 506065, 506080, 506085, 506088, 506093, 506096, 506121, 506124, 506141,
    506144, 506149, 506152, 506157, 506160, 506165, 506176, 506181, 506188, 506193, 506196, 506205, 506208, 506213,
    506216, 506221, 506224, 506229, 506232, 506237, 506240, 506245, 506252, 506257, 506260, 506269, 506284, 506289,
    506316, 506321, 506336, 506341, 506356, 506361, 506364, 506369, 506408, 506413, 506480, 506501, 506512, 506517,
    506536, 506541, 506608, 508930, 508980, 520130, 520168, 524289, 695168, 695297, 711912, 711937, 712824, 712833,
    735880, 735937, 765828, 765889, 768376, 778241, 780408, 786433, 806188, 806209, 822976,
};
static const uint32_t xlstm__tok_ccc[496] = {
    0, 196838, 202216, 202460, 203496, 203736, 203996, 205258, 205788, 206794, 207324, 209921, 211420, 212454, 214512,
    214758, 215004, 215782, 216540, 216832, 217318, 218076, 219110, 219368, 219612, 220134, 220393, 220650, 221161,
    221418, 221929, 222182, 225280, 295910, 296960, 365020, 365286, 366300, 366566, 367326, 367580, 367846, 369372,
    370918, 371420, 371686, 372190, 372452, 372710, 372746, 373003, 373260, 373517, 373774, 374031, 374288, 374545,
    374802, 375059, 375572, 375829, 376086, 376320, 376599, 376832, 377112, 377369, 377600, 378086, 378332, 378368,
    378642, 378880, 397542, 399390, 399647, 399904, 400128, 412443, 412700, 412957, 413214, 413471, 413728, 413985,
    414242, 414694, 415196, 415718, 416988, 417254, 417756, 417792, 421923, 422144, 448230, 449792, 450534, 451548,
    451814, 451840, 452582, 452864, 453340, 453606, 454108, 454144, 463140, 463360, 471270, 471516, 471782, 472284,
    472550, 473052, 473830, 474076, 474598, 474844, 475110, 475868, 476134, 476380, 476646, 476892, 477158, 477404,
    477670, 477952, 519142, 520924, 521190, 521216, 530150, 530944, 531430, 533504, 533990, 534528, 535014, 536064,
    547292, 547840, 578790, 582144, 582620, 582886, 583388, 583654, 584156, 584422, 585180, 585755, 586012, 586269,
    586726, 587484, 587750, 588252, 588774, 589824, 605191, 605440, 609545, 609792, 610790, 611036, 611302, 611584,
    637959, 638208, 642313, 642560, 670727, 670976, 675081, 675328, 703495, 703744, 707849, 708096, 736263, 736512,
    740617, 740864, 773385, 773632, 806153, 806400, 808276, 808539, 808704, 834567, 834816, 838921, 839168, 871689,
    871936, 903689, 903936, 931943, 932361, 932608, 936043, 936960, 964726, 965120, 968826, 969728, 989404, 989696,
    996828, 996864, 997340, 997376, 997848, 997888, 1012097, 1012354, 1012480, 1012868, 1012992, 1014402, 1015296,
    1015938, 1016064, 1016550, 1016841, 1017088, 1017574, 1017856, 1033948, 1033984, 1062663, 1062912, 1063177, 1063680,
    1084892, 1084928, 1269222, 1269760, 1512457, 1512704, 1520649, 1520896, 1561097, 1561344, 1564134, 1564160, 1616356,
    1616384, 1653214, 1653478, 1653724, 1653760, 1710054, 1710300, 1710336, 1728521, 1728768, 1734118, 1735936, 1736668,
    1736704, 1749222, 1750492, 1752038, 1752540, 1752576, 1782791, 1783040, 1786889, 1787136, 1797094, 1797340, 1797606,
    1799168, 1813001, 1813504, 1828359, 1828608, 1831433, 1831936, 1849095, 1849344, 1888486, 1889024, 1889281, 1889756,
    1891046, 1891548, 1892582, 1892608, 1892865, 1894656, 1895900, 1895936, 1897702, 1897728, 1898726, 1899008, 1949926,
    1950428, 1950694, 1952476, 1952742, 1953258, 1953494, 1953756, 1953994, 1954278, 1963520, 1965030, 1965289, 1965532,
    1965798, 1966044, 1966080, 2150630, 2150913, 2151654, 2152449, 2153446, 2153728, 2154982, 2155008, 2155777, 2156518,
    2156764, 2157030, 2157057, 2157788, 2158822, 2158848, 2944998, 2945536, 2981641, 2981888, 3006694, 3014656, 3156698,
    3156964, 3157224, 3157470, 3157728, 3158016, 3184904, 3185408, 10907622, 10907648, 10908902, 10911232, 10919654,
    10919936, 10940646, 10940928, 11011593, 11011840, 11060233, 11060480, 11067622, 11072000, 11086812, 11087360,
    11096841, 11097088, 11121415, 11121664, 11124745, 11124992, 11186406, 11186432, 11186918, 11187420, 11187456,
    11188198, 11188480, 11189990, 11190272, 11190758, 11190784, 11204105, 11204352, 11267337, 11267584, 16457242,
    16457472, 16654566, 16656348, 16658150, 16658432, 16907740, 16907776, 16965852, 16965888, 17004262, 17005312,
    17436124, 17436160, 17436646, 17436672, 17447142, 17447169, 17447644, 17447680, 17448713, 17448960, 17491430,
    17491676, 17491712, 17843721, 17843968, 17858313, 17858560, 17873161, 17873415, 17873664, 17891558, 17892096,
    17904393, 17904896, 17920775, 17921024, 17940489, 17940736, 17943047, 17943296, 17970441, 17970695, 17970944,
    18016519, 18016777, 18017024, 18037767, 18038016, 18042121, 18042368, 18048742, 18050304, 18051302, 18052352,
    18104841, 18105088, 18105863, 18106112, 18137609, 18137863, 18138112, 18202377, 18202631, 18202880, 18235145,
    18235392, 18265609, 18265863, 18266112, 18295561, 18295808, 18628361, 18628608, 23785473, 23786752, 23802086,
    23803648, 29138433, 29138688, 30500312, 30500609, 30501376, 30502370, 30502616, 30503680, 30505948, 30507776,
    30508518, 30509788, 30510080, 30517990, 30518784, 30556902, 30557440, 31457510, 31459072, 31459558, 31463680,
    31464422, 31465984, 31466470, 31466752, 31467238, 31468288, 32035036, 32036608, 32064742, 32066055, 32066304,
};
static const uint32_t xlstm__tok_dec_run[230] = {
    393222, 407561, 428038, 444421, 458758, 473097, 493574, 509957, 522257, 561172, 606217, 630788, 641030, 661510,
    679942, 696338, 737303, 851970, 882690, 944144, 978950, 995339, 1024002, 1032228, 1110018, 1126414, 1703938,
    1710082, 1810433, 1830913, 1845254, 1859585, 1863683, 1921031, 1986565, 2004994, 2097154, 2103297, 2111489, 2121731,
    2148353, 2213889, 2260994, 2267137, 2275329, 2285571, 2338818, 2492418, 2523140, 2535426, 2543622, 2560006, 2576396,
    2605058, 3215365, 3538945, 3543041, 3577857, 4802561, 4818945, 4825089, 4898824, 5134338, 5169154, 5175297, 5347329,
    5353473, 5425155, 5435393, 5914625, 5920770, 5955586, 6070273, 6180867, 6438913, 6684673, 6699010, 6705154, 6967299,
    7262209, 7266307, 8001537, 8022017, 8032257, 8042497, 8052737, 8079361, 8099841, 8103938, 8110081, 8128513, 8165377,
    8185857, 8196097, 8206337, 8216577, 8243201, 8466433, 14168065, 14172161, 14176257, 14180353, 14184449, 14192641,
    14276609, 14280705, 14286850, 14292993, 15728794, 16046081, 16056410, 16252950, 16302086, 16318502, 16400390,
    16416776, 16435201, 16439297, 16443393, 16447519, 16515125, 16625671, 16642049, 16648196, 16658446, 16691206,
    16705555, 16748547, 16756744, 16777218, 17379329, 17387522, 17616898, 17657857, 17721347, 17833985, 17844225,
    17850369, 17899521, 17903617, 17958913, 17965057, 17971201, 17975297, 18022401, 18026497, 18049029, 18063362,
    18071554, 18087938, 18096130, 18104322, 18178052, 18284548, 18305028, 18434050, 22470657, 25321473, 25325569,
    25329665, 25333761, 25337857, 25341953, 25346049, 25350145, 25354241, 25358337, 25362433, 25366529, 25372673,
    25376769, 25380865, 25395202, 25401346, 25407490, 25413634, 25419778, 25468929, 25489409, 25518081, 25522177,
    25526273, 25530369, 25534465, 25538561, 25542657, 25546753, 25550849, 25554945, 25559041, 25563137, 25569281,
    25573377, 25577473, 25591810, 25597954, 25604098, 25610242, 25616386, 25665537, 25671684, 25686017, 130547982,
    131104769, 131108865, 131115018, 131137537, 131141633, 131147778, 131158084, 131301482, 131655681, 131659777,
    131682317, 131710981, 131723265, 131727362, 131733506, 131739657, 142921729, 142925825, 142956545, 143224834,
    144332802, 145086466, 145092609, 145608706, 243986439, 244176902, 398459422,
};
static const uint16_t xlstm__tok_dec_off[230] = {
    0, 6, 15, 21, 26, 32, 41, 47, 52, 69, 89, 98, 102, 108, 114, 120, 138, 161, 163, 165, 181, 187, 198, 200, 236, 238,
    252, 254, 256, 257, 258, 264, 265, 268, 275, 280, 282, 284, 285, 286, 289, 290, 291, 293, 294, 295, 298, 300, 302,
    306, 308, 314, 320, 332, 334, 339, 340, 341, 342, 343, 344, 345, 353, 355, 357, 358, 359, 360, 363, 364, 365, 367,
    369, 370, 373, 374, 375, 377, 379, 382, 383, 386, 387, 388, 389, 390, 391, 392, 393, 395, 396, 397, 398, 399, 400,
    401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 414, 415, 569, 570, 660, 682, 688, 726, 732, 740, 741,
    742, 743, 774, 827, 834, 835, 839, 853, 859, 878, 881, 889, 891, 892, 894, 896, 897, 900, 901, 902, 903, 904, 905,
    906, 907, 908, 909, 910, 911, 916, 918, 920, 922, 924, 926, 930, 934, 938, 940, 941, 942, 943, 944, 945, 946, 947,
    948, 949, 950, 951, 952, 953, 954, 955, 956, 958, 960, 962, 964, 966, 967, 968, 969, 970, 971, 972, 973, 974, 975,
    976, 977, 978, 979, 980, 981, 982, 983, 985, 987, 989, 991, 993, 994, 998, 999, 1269, 1270, 1271, 1281, 1282, 1283,
    1285, 1353, 1459, 1460, 1461, 1474, 1479, 1480, 1482, 1484, 1493, 1494, 1495, 1496, 1498, 1500, 1502, 1503, 1505,
    1512, 1518,
};
static const uint32_t xlstm__tok_dec_map[2060] = {
    2097217, 4194369, 6291521, 8388673, 16777281, 20971585, 46137411, 2097221, 4194373, 6291525, 16777285, 2097225,
    4194377, 6291529, 16777289, 8388686, 2097231, 4194383, 6291535, 8388687, 16777295, 2097237, 4194389, 6291541,
    16777301, 4194393, 2097249, 4194401, 6291553, 8388705, 16777313, 20971617, 46137443, 2097253, 4194405, 6291557,
    16777317, 2097257, 4194409, 6291561, 16777321, 8388718, 2097263, 4194415, 6291567, 8388719, 16777327, 2097269,
    4194421, 6291573, 16777333, 4194425, 16777337, 10485825, 10485857, 12582977, 12583009, 48234561, 48234593, 4194371,
    4194403, 6291523, 6291555, 14680131, 14680163, 25165891, 25165923, 25165892, 25165924, 10485829, 10485861, 12582981,
    12583013, 14680133, 14680165, 48234565, 48234597, 25165893, 25165925, 6291527, 6291559, 12582983, 12583015,
    14680135, 14680167, 46137415, 46137447, 6291528, 6291560, 8388681, 8388713, 10485833, 10485865, 12582985, 12583017,
    48234569, 48234601, 14680137, 6291530, 6291562, 46137419, 46137451, 4194380, 4194412, 46137420, 46137452, 25165900,
    25165932, 4194382, 4194414, 46137422, 46137454, 25165902, 25165934, 10485839, 10485871, 12582991, 12583023,
    23068751, 23068783, 4194386, 4194418, 46137426, 46137458, 25165906, 25165938, 4194387, 4194419, 6291539, 6291571,
    46137427, 46137459, 25165907, 25165939, 46137428, 46137460, 25165908, 25165940, 8388693, 8388725, 10485845,
    10485877, 12582997, 12583029, 20971605, 20971637, 23068757, 23068789, 48234581, 48234613, 6291543, 6291575, 6291545,
    6291577, 16777305, 4194394, 4194426, 14680154, 14680186, 25165914, 25165946, 35651663, 35651695, 35651669, 35651701,
    25165889, 25165921, 25165897, 25165929, 25165903, 25165935, 25165909, 25165941, 10485980, 10486012, 4194524,
    4194556, 25166044, 25166076, 2097372, 2097404, 10485956, 10485988, 10486310, 10486311, 10485958, 10485990, 25165895,
    25165927, 25165899, 25165931, 48234575, 48234607, 10486250, 10486251, 25166263, 25166482, 25165930, 4194375,
    4194407, 2097230, 2097262, 4194501, 4194533, 4194502, 4194534, 4194520, 4194552, 27263041, 27263073, 29360193,
    29360225, 27263045, 27263077, 29360197, 29360229, 27263049, 27263081, 29360201, 29360233, 27263055, 27263087,
    29360207, 29360239, 27263058, 27263090, 29360210, 29360242, 27263061, 27263093, 29360213, 29360245, 44040275,
    44040307, 44040276, 44040308, 25165896, 25165928, 14680129, 14680161, 46137413, 46137445, 10485974, 10486006,
    10485973, 10486005, 14680143, 14680175, 10486318, 10486319, 10485849, 10485881, 268436224, 268436225, 268436243,
    272630536, 268436153, 268435515, 4194472, 4195217, 268435639, 4195221, 4195223, 4195225, 4195231, 4195237, 4195241,
    4195274, 16778137, 16778149, 4195249, 4195253, 4195255, 4195257, 4195275, 16778169, 16778181, 4195263, 4195269,
    4195273, 4195282, 16778194, 2098197, 16778261, 4195347, 16778246, 4195354, 2098200, 12583971, 12583960, 12583992,
    2098229, 16778293, 4195379, 16778326, 4195386, 2098232, 12584003, 27264116, 27264117, 12583958, 12583990, 12583952,
    12583984, 16778256, 16778288, 12583957, 12583989, 16778456, 16778457, 16778262, 16778294, 16778263, 16778295,
    10486808, 10486840, 16778264, 16778296, 16778270, 16778302, 16778472, 16778473, 16778285, 16778317, 10486819,
    10486851, 16778275, 16778307, 23069731, 23069763, 16778279, 16778311, 16778283, 16778315, 81790503, 83887655,
    83887688, 85984807, 83887690, 83887829, 83887809, 83887826, 88082728, 88082736, 88082739, 356518165, 356518166,
    356518167, 356518172, 356518177, 356518178, 356518187, 356518191, 92277191, 94374343, 358615457, 358615458,
    358615471, 364907058, 364907064, 364907030, 364907031, 364907036, 364907051, 102763335, 100666183, 104860487,
    367004449, 367004450, 109054866, 106957766, 106957767, 109054918, 111152198, 115346623, 115346630, 117443782,
    113249478, 115346634, 119541062, 119541063, 121638214, 123735513, 125832665, 123735516, 127929817, 406851394,
    406851404, 406851409, 406851414, 406851419, 404754240, 398462833, 400559985, 402657202, 402657203, 402657137,
    406851474, 406851484, 406851489, 406851494, 406851499, 404754320, 140513317, 142613253, 142613255, 142613257,
    142613259, 142613261, 142613265, 142613306, 142613308, 142613310, 142613311, 142613314, 41943105, 41943137,
    14680130, 14680162, 37748802, 37748834, 56623170, 56623202, 4194503, 4194535, 14680132, 14680164, 37748804,
    37748836, 56623172, 56623204, 46137412, 46137444, 50331716, 50331748, 2097426, 2097427, 4194578, 4194579, 50331717,
    50331749, 54526021, 54526053, 12583464, 12583465, 14680134, 14680166, 10485831, 10485863, 14680136, 14680168,
    37748808, 37748840, 16777288, 16777320, 46137416, 46137448, 52428872, 52428904, 54526025, 54526057, 4194511,
    4194543, 4194379, 4194411, 37748811, 37748843, 56623179, 56623211, 37748812, 37748844, 10493494, 10493495, 56623180,
    56623212, 50331724, 50331756, 4194381, 4194413, 14680141, 14680173, 37748813, 37748845, 14680142, 14680174,
    37748814, 37748846, 56623182, 56623214, 50331726, 50331758, 4194517, 4194549, 16777429, 16777461, 2097484, 2097485,
    4194636, 4194637, 4194384, 4194416, 14680144, 14680176, 14680146, 14680178, 37748818, 37748850, 10493530, 10493531,
    56623186, 56623218, 14680147, 14680179, 37748819, 37748851, 14680410, 14680411, 14680416, 14680417, 14687842,
    14687843, 14680148, 14680180, 37748820, 37748852, 56623188, 56623220, 50331732, 50331764, 39845973, 39846005,
    54526037, 54526069, 50331733, 50331765, 4194664, 4194665, 16777578, 16777579, 8388694, 8388726, 37748822, 37748854,
    2097239, 2097271, 4194391, 4194423, 16777303, 16777335, 14680151, 14680183, 37748823, 37748855, 14680152, 14680184,
    16777304, 16777336, 14680153, 14680185, 6291546, 6291578, 37748826, 37748858, 56623194, 56623226, 56623208,
    16777332, 20971639, 20971641, 14680447, 37748801, 37748833, 18874433, 18874465, 4194498, 4194530, 2097346, 2097378,
    18874562, 18874594, 8388802, 8388834, 6299296, 6299297, 4194562, 4194563, 2097410, 2097411, 18874626, 18874627,
    8388866, 8388867, 12590752, 12590753, 37748805, 37748837, 18874437, 18874469, 8388677, 8388709, 4194506, 4194538,
    2097354, 2097386, 18874570, 18874602, 8388810, 8388842, 6299320, 6299321, 18874441, 18874473, 37748809, 37748841,
    37748815, 37748847, 18874447, 18874479, 4194516, 4194548, 2097364, 2097396, 18874580, 18874612, 8388820, 8388852,
    6299340, 6299341, 4194720, 4194721, 2097568, 2097569, 18874784, 18874785, 8389024, 8389025, 37749152, 37749153,
    37748821, 37748853, 18874453, 18874485, 4194735, 4194736, 2097583, 2097584, 18874799, 18874800, 8389039, 8389040,
    37749167, 37749168, 2097241, 2097273, 37748825, 37748857, 18874457, 18874489, 8388697, 8388729, 31458225, 33555377,
    2105088, 2105089, 4202240, 4202241, 60825344, 60825345, 31458193, 33555345, 2105096, 2105097, 4202248, 4202249,
    60825352, 60825353, 31458229, 33555381, 2105104, 2105105, 4202256, 4202257, 31458197, 33555349, 2105112, 2105113,
    4202264, 4202265, 31458231, 33555383, 2105120, 2105121, 4202272, 4202273, 60825376, 60825377, 31458199, 33555351,
    2105128, 2105129, 4202280, 4202281, 60825384, 60825385, 31458233, 33555385, 2105136, 2105137, 4202288, 4202289,
    60825392, 60825393, 31458201, 33555353, 2105144, 2105145, 4202296, 4202297, 60825400, 60825401, 31458239, 33555391,
    2105152, 2105153, 4202304, 4202305, 31458207, 33555359, 2105160, 2105161, 4202312, 4202313, 31458245, 33555397,
    2105168, 2105169, 4202320, 4202321, 60825424, 60825425, 33555365, 2105177, 4202329, 60825433, 31458249, 33555401,
    2105184, 2105185, 4202336, 4202337, 60825440, 60825441, 31458217, 33555369, 2105192, 2105193, 4202344, 4202345,
    60825448, 60825449, 2098097, 268436396, 2098101, 268436397, 2098103, 268436398, 2098105, 268436399, 2098111,
    268436428, 2098117, 268436429, 2098121, 268436430, 62922496, 62922497, 62922498, 62922499, 62922500, 62922501,
    62922502, 62922503, 62922504, 62922505, 62922506, 62922507, 62922508, 62922509, 62922510, 62922511, 62922528,
    62922529, 62922530, 62922531, 62922532, 62922533, 62922534, 62922535, 62922536, 62922537, 62922538, 62922539,
    62922540, 62922541, 62922542, 62922543, 62922592, 62922593, 62922594, 62922595, 62922596, 62922597, 62922598,
    62922599, 62922600, 62922601, 62922602, 62922603, 62922604, 62922605, 62922606, 62922607, 12583857, 10486705,
    62922608, 62915505, 62915500, 60818353, 62922678, 12583825, 10486673, 2098065, 268436358, 62915473, 268436409,
    60817576, 62922612, 62915511, 62915502, 60818359, 62922694, 2098069, 268436360, 2098071, 268436361, 62915479,
    2105279, 4202431, 60825535, 12583865, 10486713, 2098122, 268436368, 60818361, 60818378, 12583833, 10486681, 2098073,
    268436362, 2105342, 4202494, 60825598, 12583877, 10486725, 2098123, 268436400, 31458241, 33555393, 60818373,
    60818379, 12583845, 10486693, 2098085, 268436366, 33555361, 2097320, 268436357, 268435552, 62922620, 62915529,
    62915534, 60818377, 62922742, 2098079, 268436364, 2098089, 268436367, 62915497, 268435636, 268443650, 268443651,
    268436393, 268435531, 268435653, 58728848, 58728850, 58728852, 58728912, 58728916, 58728914, 58728963, 58728968,
    58728971, 58728995, 58728997, 58729020, 58729027, 58729029, 58729032, 58720317, 58729057, 58729037, 58720316,
    58720318, 58729060, 58729061, 58729074, 58729075, 58729078, 58729079, 58729082, 58729083, 58729090, 58729091,
    58729094, 58729095, 58729122, 58729128, 58729129, 58729131, 58729084, 58729085, 58729105, 58729106, 58729138,
    58729139, 58729140, 58729141, 268447752, 268447753, 327166685, 144715851, 144715853, 144715855, 144715857,
    144715859, 144715861, 144715863, 144715865, 144715867, 144715869, 144715871, 144715873, 144715876, 144715878,
    144715880, 144715887, 146813039, 144715890, 146813042, 144715893, 146813045, 144715896, 146813048, 144715899,
    146813051, 144715846, 144715933, 144715947, 144715949, 144715951, 144715953, 144715955, 144715957, 144715959,
    144715961, 144715963, 144715965, 144715967, 144715969, 144715972, 144715974, 144715976, 144715983, 146813135,
    144715986, 146813138, 144715989, 146813141, 144715992, 146813144, 144715995, 146813147, 144715942, 144716015,
    144716016, 144716017, 144716018, 144716029, 268471368, 268461812, 268472010, 268471496, 268463825, 268455474,
    268456933, 268476316, 268476316, 268458321, 268472785, 268457351, 268458312, 268460534, 268465769, 268468101,
    268469823, 268470202, 268470520, 268472463, 268462594, 268463387, 268464345, 268465118, 268469309, 268472682,
    268474865, 268455554, 268456821, 268462852, 268464667, 268469805, 268475934, 268459344, 268464107, 268469709,
    268470628, 268460745, 268468696, 268470303, 268459722, 268461847, 268463466, 268464892, 268472526, 268455814,
    268456375, 268456670, 268461252, 268462803, 268464656, 268465895, 268468225, 268469766, 268469852, 268471791,
    268474162, 268475247, 268475898, 268466316, 268466559, 268467616, 268469193, 268473092, 268476031, 268470998,
    268458207, 268459780, 268467296, 268468350, 268464738, 268466378, 268471490, 268474103, 268458200, 268459106,
    268462611, 268463578, 268463887, 268467503, 268467767, 268473931, 268456658, 268468363, 268456412, 268456396,
    268466716, 268467646, 268469233, 268473973, 268471168, 268460751, 268462594, 268471038, 268455481, 268458983,
    268460050, 268465031, 268465520, 268456727, 268466427, 268455871, 268459945, 268455437, 268463308, 268461432,
    268467490, 268456899, 268458078, 268465921, 268469321, 268470954, 268463034, 268472240, 268463240, 268460798,
    268468965, 268460960, 268465509, 268455598, 268456297, 268456393, 268462209, 268467431, 268468847, 268470994,
    268472783, 268456693, 268457026, 268458355, 268459756, 268461509, 268464126, 268466474, 268473773, 268474986,
    268476055, 268476110, 268456603, 268461766, 268462967, 268472162, 268459636, 268460432, 268460544, 268461210,
    268463907, 268464457, 268465289, 268466634, 268467700, 268468335, 268472102, 268469486, 268472355, 268473162,
    268456471, 268456611, 268457149, 268464328, 268470466, 268470954, 268459721, 268460021, 268460923, 268463022,
    268467262, 268465013, 268455652, 268457721, 268458983, 268459450, 268460060, 268465074, 268465257, 268468122,
    268468294, 268472884, 268474102, 268474184, 268474392, 268455819, 268466606, 268472756, 268474040, 268460257,
    268455558, 268456154, 268458990, 268459071, 268461465, 268462594, 268464590, 268465730, 268469500, 268472444,
    268476301, 268461704, 268473902, 268456585, 268461947, 268462067, 268463425, 268463772, 268465161, 268465497,
    268466283, 268467472, 268474462, 268456301, 268460590, 268473976, 268455979, 268459289, 268463594, 268472106,
    268459915, 268460356, 268462103, 268465031, 268473990, 268456489, 268456975, 268459109, 268461587, 268461902,
    268462248, 268463333, 268465158, 268465634, 268468089, 268470479, 268470497, 268472780, 268474082, 268456767,
    268463802, 268456989, 268464592, 268465304, 268469754, 268474019, 268475479, 268476063, 268461975, 268463563,
    268468712, 268466891, 268466976, 268467346, 268464832, 268464281, 268471128, 268455616, 268469046, 268456506,
    268456455, 268459686, 268460755, 268467414, 268458885, 268463390, 268461748, 268472123, 268470348, 268473933,
    268470667, 268459731, 268456256, 268457408, 268458074, 268461684, 268456414, 268464938, 268465866, 268466492,
    268466526, 268466533, 268466575, 268474198, 268467390, 268468157, 268469778, 268471032, 268472376, 268472573,
    268474607, 268474620, 268474664, 268475828, 268472542, 268474039, 268455854, 268456167, 268456269, 268456649,
    268456676, 268456785, 268457373, 268457478, 268457576, 268458048, 268458152, 268459108, 268459118, 268460180,
    268460392, 268460430, 268460530, 268461391, 268461538, 268461713, 268462213, 268463479, 268463642, 268463906,
    268464494, 268464683, 268465186, 268466321, 268466494, 268466505, 268466504, 268466512, 268466518, 268466525,
    268466573, 268466574, 268466752, 268466817, 268467136, 268467700, 268467721, 268467777, 268468082, 268468229,
    268468717, 268468857, 268468857, 268469335, 268470544, 268470678, 268471041, 268471097, 268471507, 268471560,
    268472246, 268472376, 268474083, 268474367, 268474427, 268460149, 268583662, 268468760, 268455462, 268456373,
    268456296, 268455808, 268456261, 268456320, 268456647, 268456698, 268457373, 268457301, 268457369, 268457442,
    268458074, 268458163, 268458308, 268458324, 268458594, 268458792, 268459730, 268459737, 268459881, 268459949,
    268460248, 268460366, 268460296, 268460430, 268460384, 268460530, 268460596, 268460996, 268461084, 268461138,
    268461398, 268461684, 268461847, 268461851, 268461910, 268462969, 268463034, 268463425, 268463835, 268463819,
    268463906, 268464158, 268464494, 268466087, 268464693, 268464815, 268464938, 268465265, 268465414, 268465467,
    268465693, 268465695, 268465866, 268465883, 268465908, 268465994, 268465984, 268466380, 268466865, 268467136,
    268467323, 268467547, 268467700, 268468030, 268468229, 268469074, 268469231, 268470137, 268470593, 268470662,
    268470678, 268470975, 268471032, 268470987, 268471041, 268471038, 268471021, 268471097, 268471178, 268471560,
    268472120, 268472434, 268472729, 268472950, 268473980, 268474083, 268474198, 268474331, 268474367, 268474379,
    268474427, 268475154, 268476316, 268576842, 268576836, 268579797, 268450717, 268451864, 268451897, 268587593,
    268590288, 268598995, 268476227, 268476302, 333448665, 335545842, 346031593, 348128745, 346094409, 348191561,
    335545808, 337642960, 341837264, 341837265, 341837266, 341837267, 341837268, 341837269, 341837270, 341837272,
    341837273, 341837274, 341837275, 341837276, 341837278, 341837280, 341837281, 341837283, 341837284, 341837286,
    341837287, 341837288, 341837289, 341837290, 339740117, 343934417, 343934427, 343934436, 148967577, 148967579,
    148967589, 151064881, 151064882, 153162567, 155259719, 159454393, 157357241, 161551545, 163648952, 163648953,
    434229591, 434229592, 436326751, 438423903, 440521055, 442618207, 444715359, 434229689, 434229690, 436326843,
    436326844, 438423995, 438423996, 268455485, 268455480, 268455489, 268566818, 268455776, 268455854, 268455867,
    268455938, 268456058, 268456089, 268456167, 268456143, 268448926, 268568122, 268456269, 268456276, 268456292,
    268456311, 268567836, 268448953, 268456295, 268456333, 268567883, 268456343, 268456356, 268455628, 268456364,
    268456373, 268603871, 268456437, 268456451, 268448991, 268456507, 268456518, 268456562, 268456567, 268449045,
    268456647, 268456649, 268456676, 268456698, 268456709, 268456710, 268456727, 268456777, 268456785, 268456794,
    268456819, 268456829, 268456831, 268456831, 268456831, 268569132, 268464240, 268456906, 268456927, 268569443,
    268456939, 268456945, 268456966, 268457118, 268457016, 268457032, 268457064, 268457122, 268457206, 268457232,
    268457299, 268457315, 268457348, 268457348, 268457369, 268457387, 268457395, 268457410, 268457750, 268457478,
    268457751, 268457553, 268457588, 268456455, 268458222, 268457934, 268457972, 268457997, 268457867, 268458034,
    268458033, 268458156, 268571876, 268458226, 268458231, 268458246, 268458266, 268458274, 268458338, 268572328,
    268572394, 268458476, 268458523, 268458535, 268458456, 268458598, 268449518, 268449532, 268458760, 268458814,
    268458814, 268573128, 268458947, 268458968, 268458983, 268458995, 268573464, 268459007, 268459014, 268459859,
    268459042, 268449665, 268459104, 268459118, 268459200, 268459149, 268574180, 268459331, 268574182, 268459374,
    268459371, 268459388, 268459489, 268459490, 268449839, 268459517, 268459560, 268459581, 268459625, 268449890,
    268575107, 268449916, 268459696, 268459699, 268459702, 268459722, 268608402, 268459774, 268575537, 268575537,
    268468737, 268459810, 268459810, 268449991, 268579512, 268591578, 268459874, 268459883, 268450019, 268459930,
    268459981, 268459991, 268460025, 268460161, 268450106, 268450076, 268460180, 268576468, 268460231, 268460360,
    268460364, 268460366, 268460364, 268460410, 268460430, 268460466, 268460452, 268460463, 268460510, 268460530,
    268460534, 268460560, 268460571, 268460637, 268460721, 268460756, 268460880, 268577548, 268460861, 268460796,
    268460904, 268460931, 268461028, 268577777, 268461090, 268460997, 268460969, 268450350, 268461161, 268461182,
    268461213, 268461175, 268450412, 268461391, 268461420, 268578826, 268461539, 268461816, 268461641, 268450585,
    268461713, 268450568, 268450532, 268456338, 268456341, 268461824, 268461724, 268468397, 268452825, 268461847,
    268461851, 268461857, 268461918, 268461907, 268579779, 268450633, 268462074, 268461957, 268462162, 268462213,
    268579949, 268462222, 268462111, 268462356, 268450717, 268462402, 268462499, 268462570, 268462760, 268580515,
    268462811, 268450840, 268462881, 268581031, 268462932, 268450894, 268462962, 268463007, 268463034, 268463035,
    268581517, 268573963, 268581626, 268463182, 268582076, 268463295, 268463309, 268463207, 268463382, 268463422,
    268463479, 268463425, 268463465, 268463480, 268463493, 268582174, 268463412, 268463663, 268463726, 268451123,
    268463819, 268463815, 268582609, 268463609, 268463982, 268582750, 268582798, 268464070, 268464185, 268464158,
    268464155, 268451222, 268464202, 268464253, 268464247, 268464301, 268567845, 268464453, 268583523, 268464540,
    268583851, 268464680, 268464693, 268464720, 268584456, 268464768, 268464789, 268584757, 268584980, 268465018,
    268465035, 268451500, 268465061, 268451512, 268451512, 268465223, 268465244, 268465265, 268465285, 268465354,
    268451611, 268465444, 268586038, 268465470, 268586130, 268465520, 268575135, 268465680, 268586913, 268586936,
    268587076, 268451836, 268451848, 268465908, 268587251, 268587250, 268587289, 268587315, 268465950, 268465951,
    268465951, 268465994, 268451897, 268466059, 268451910, 268451990, 268588061, 268466254, 268466316, 268466380,
    268452067, 268588582, 268466518, 268588698, 268588741, 268466575, 268466667, 268452143, 268466752, 268466762,
    268466767, 268589436, 268589735, 268589735, 268466926, 268452354, 268589995, 268467142, 268467145, 268452391,
    268590208, 268467410, 268452512, 268467432, 268467427, 268467456, 268590982, 268467555, 268452609, 268467655,
    268467714, 268467781, 268452660, 268591656, 268591687, 268452697, 268591833, 268468090, 268591934, 268468117,
    268468218, 268468229, 268592346, 268592419, 268468320, 268592552, 268468336, 268579679, 268452821, 268468402,
    268468483, 268452875, 268468542, 268458677, 268593063, 268593077, 268579731, 268579740, 268468737, 268468740,
    268472222, 268452971, 268468881, 268468875, 268468893, 268456627, 268468913, 268468915, 268468925, 268468966,
    268593980, 268468965, 268469021, 268469091, 268469165, 268469027, 268469181, 268469223, 268469335, 268469075,
    268469194, 268469196, 268469212, 268594230, 268594539, 268594389, 268453163, 268469489, 268469491, 268469526,
    268596170, 268469604, 268594988, 268453213, 268453217, 268595121, 268595410, 268453227, 268469840, 268469852,
    268469863, 268469865, 268469929, 268469896, 268470030, 268469986, 268470137, 268470056, 268470123, 268470150,
    268453335, 268470241, 268470273, 268453369, 268470368, 268470371, 268596839, 268470487, 268470494, 268453429,
    268470522, 268448955, 268597422, 268597606, 268453566, 268453575, 268470944, 268471021, 268471178, 268471381,
    268598440, 268471467, 268471489, 268471579, 268471671, 268599087, 268568580, 268471755, 268471740, 268471792,
    268568798, 268472020, 268472120, 268600786, 268600813, 268472468, 268472561, 268472593, 268601134, 268472603,
    268472888, 268473047, 268473048, 268472956, 268473337, 268473365, 268602362, 268473739, 268454293, 268473783,
    268602743, 268454374, 268474051, 268459442, 268474147, 268603717, 268603930, 268454510, 268454518, 268474336,
    268604426, 268454578, 268604566, 268474379, 268474379, 268474409, 268604854, 268474594, 268454707, 268474665,
    268474791, 268474818, 268474878, 268454862, 268606256, 268475154, 268475456, 268475645, 268455118, 268455149,
    268475751, 268607694, 268455160, 268607749, 268608014, 268608145, 268476091, 268455254, 268476153, 268476158,
    268476165, 268476175, 268476182, 268476219, 268609024,
};
static const uint32_t xlstm__tok_dec_b[84] = {
    768, 769, 770, 771, 772, 774, 775, 776, 777, 778, 779, 780, 783, 785, 787, 788, 795, 803, 804, 805, 806, 807, 808,
    813, 814, 816, 817, 824, 834, 837, 1460, 1463, 1464, 1465, 1468, 1471, 1473, 1474, 1619, 1620, 1621, 2364, 2492,
    2494, 2519, 2620, 2876, 2878, 2902, 2903, 3006, 3031, 3158, 3266, 3285, 3286, 3390, 3415, 3530, 3535, 3551, 3954,
    3956, 3968, 4021, 4023, 4142, 6965, 12441, 12442, 69818, 69927, 70462, 70487, 70832, 70842, 70845, 71087, 119141,
    119150, 119151, 119152, 119153, 119154,
};
/* ---- end of generated tables */
/* ---- tokenizer: UTF-8 and Unicode properties ---------------------------- */

/* Decode one character of s[0..n), n >= 1. Returns its length (> 0), or
   -(length of the maximal invalid subpart) (Unicode's "substitution of maximal
   subparts": one U+FFFD each), or 0 when s is a valid but incomplete prefix. */
static int xlstm__tok_utf8(const unsigned char *s, size_t n, uint32_t *cp) {
    unsigned char b0 = s[0], lo = 0x80, hi = 0xBF;
    uint32_t c;
    int need, k;
    if (b0 < 0x80) {
        *cp = b0;
        return 1;
    }
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        need = 1;
        c = b0 & 0x1Fu;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        need = 2;
        c = b0 & 0x0Fu;
        if (b0 == 0xE0) lo = 0xA0; /* overlong */
        if (b0 == 0xED) hi = 0x9F; /* surrogates */
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        need = 3;
        c = b0 & 0x07u;
        if (b0 == 0xF0) lo = 0x90; /* overlong */
        if (b0 == 0xF4) hi = 0x8F; /* > U+10FFFF */
    } else {
        return -1;
    }
    for (k = 1; k <= need; k++) {
        if (XLSTM__CAST(size_t, k) >= n) return 0;
        if (s[k] < lo || s[k] > hi) return -k;
        lo = 0x80;
        hi = 0xBF;
        c = (c << 6) | (s[k] & 0x3Fu);
    }
    *cp = c;
    return need + 1;
}

/* Next character of valid UTF-8 (the tokenizer's texts are sanitised first). */
static size_t xlstm__tok_next(const unsigned char *s, size_t n, size_t i, uint32_t *cp) {
    int k = xlstm__tok_utf8(s + i, n - i, cp);
    if (k > 0) return XLSTM__CAST(size_t, k);
    *cp = 0xFFFD;
    return 1;
}

static size_t xlstm__tok_put_utf8(unsigned char *o, uint32_t c) {
    if (c < 0x80) {
        o[0] = XLSTM__CAST(unsigned char, c);
        return 1;
    }
    if (c < 0x800) {
        o[0] = XLSTM__CAST(unsigned char, 0xC0 | (c >> 6));
        o[1] = XLSTM__CAST(unsigned char, 0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        o[0] = XLSTM__CAST(unsigned char, 0xE0 | (c >> 12));
        o[1] = XLSTM__CAST(unsigned char, 0x80 | ((c >> 6) & 0x3F));
        o[2] = XLSTM__CAST(unsigned char, 0x80 | (c & 0x3F));
        return 3;
    }
    o[0] = XLSTM__CAST(unsigned char, 0xF0 | (c >> 18));
    o[1] = XLSTM__CAST(unsigned char, 0x80 | ((c >> 12) & 0x3F));
    o[2] = XLSTM__CAST(unsigned char, 0x80 | ((c >> 6) & 0x3F));
    o[3] = XLSTM__CAST(unsigned char, 0x80 | (c & 0x3F));
    return 4;
}

/* Index of the last entry of a sorted boundary table whose start
   (entry >> shift) is <= cp. Entry 0 starts at code point 0. */
static size_t xlstm__tok_bsearch(const uint32_t *tab, size_t n, int shift, uint32_t cp) {
    size_t lo = 0, hi = n; /* answer in [lo, hi) */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if ((tab[mid] >> shift) <= cp) lo = mid;
        else hi = mid;
    }
    return lo;
}

/* Character classes of the GPT-2 pre-tokenizer regex (Oniguruma's). */
enum { XLSTM__TOK_OTHER = 0, XLSTM__TOK_LETTER = 1, XLSTM__TOK_NUMBER = 2, XLSTM__TOK_SPACE = 3 };

static int xlstm__tok_class(uint32_t cp) {
    if (cp < 0x80) {
        if ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z') return XLSTM__TOK_LETTER;
        if (cp >= '0' && cp <= '9') return XLSTM__TOK_NUMBER;
        if (cp == ' ' || (cp >= 9 && cp <= 13)) return XLSTM__TOK_SPACE;
        return XLSTM__TOK_OTHER;
    }
    return XLSTM__CAST(int, xlstm__tok_cls[xlstm__tok_bsearch(xlstm__tok_cls, sizeof xlstm__tok_cls / 4, 2, cp)] & 3);
}

static unsigned xlstm__tok_ccc_of(uint32_t cp) {
    if (cp < 0x300) return 0;
    return xlstm__tok_ccc[xlstm__tok_bsearch(xlstm__tok_ccc, sizeof xlstm__tok_ccc / 4, 8, cp)] & 0xFF;
}

/* Canonical decomposition mapping (one step) of cp: the packed map entry. */
static int xlstm__tok_dec_of(uint32_t cp, uint32_t *map) {
    size_t r;
    uint32_t start, count;
    if (cp < 0xC0) return 0;
    r = xlstm__tok_bsearch(xlstm__tok_dec_run, sizeof xlstm__tok_dec_run / 4, 11, cp);
    start = xlstm__tok_dec_run[r] >> 11;
    count = xlstm__tok_dec_run[r] & 0x7FF;
    if (cp < start || cp - start >= count) return 0;
    *map = xlstm__tok_dec_map[xlstm__tok_dec_off[r] + (cp - start)];
    return 1;
}

/* Hangul syllables decompose and compose algorithmically. */
#define XLSTM__TOK_SBASE 0xAC00u
#define XLSTM__TOK_LBASE 0x1100u
#define XLSTM__TOK_VBASE 0x1161u
#define XLSTM__TOK_TBASE 0x11A7u
#define XLSTM__TOK_NSYL 11172u

/* Full canonical decomposition of cp into out (at most 4 code points). */
static size_t xlstm__tok_decompose(uint32_t cp, uint32_t *out) {
    uint32_t map;
    size_t n;
    if (cp - XLSTM__TOK_SBASE < XLSTM__TOK_NSYL) {
        uint32_t s = cp - XLSTM__TOK_SBASE, t = s % 28;
        out[0] = XLSTM__TOK_LBASE + s / (21 * 28);
        out[1] = XLSTM__TOK_VBASE + (s % (21 * 28)) / 28;
        if (!t) return 2;
        out[2] = XLSTM__TOK_TBASE + t;
        return 3;
    }
    if (!xlstm__tok_dec_of(cp, &map)) {
        out[0] = cp;
        return 1;
    }
    /* the first part may decompose again (depth <= 3); the second never does */
    n = xlstm__tok_decompose(map & 0x1FFFFF, out);
    if ((map >> 21) & 0x7F) out[n++] = xlstm__tok_dec_b[((map >> 21) & 0x7F) - 1];
    return n;
}

/* ---- tokenizer: data structures ------------------------------------------ */

/* string -> int32, open addressing over keys stored in an external blob */
typedef struct xlstm__tok_smap {
    const unsigned char *blob;
    uint32_t *off, *len;
    int32_t *val;
    uint32_t *slot; /* entry index + 1; 0 = empty */
    size_t n, cap, mask;
} xlstm__tok_smap;

/* uint64 -> (uint32, int32), open addressing; key UINT64_MAX = empty */
typedef struct xlstm__tok_imap {
    uint64_t *key;
    uint32_t *a;
    int32_t *b;
    size_t n, mask;
} xlstm__tok_imap;

typedef struct xlstm__tok_added {
    uint32_t off, len;   /* content, in added_blob */
    uint32_t noff, nlen; /* the pattern matched: content, normalized if "normalized" */
    int32_t id;
    unsigned char special, normalized, lstrip, rstrip, single_word;
} xlstm__tok_added;

/* A byte trie over the added tokens' patterns; edges in an imap. */
typedef struct xlstm__tok_trie {
    xlstm__tok_imap edge;  /* (node << 8 | byte) -> child */
    int32_t *term;         /* node -> added index or -1 */
    size_t n_nodes;
    unsigned char first[32]; /* bitmap of the patterns' first bytes */
} xlstm__tok_trie;

enum { XLSTM__TOK_NORM_NONE = 0, XLSTM__TOK_NORM_NFC = 1, XLSTM__TOK_NORM_NFD = 2 };
enum { XLSTM__TOK_SYM_ID = 0, XLSTM__TOK_SYM_BYTES = 1, XLSTM__TOK_SYM_UNK = 2 };

struct xlstm_tokenizer {
    xlstm__alloc alloc;
    int32_t n_vocab; /* max id + 1 */
    int norm, add_prefix_space, use_regex, ignore_merges, fuse_unk;
    int32_t unk_id; /* -1: unknown characters are dropped, as HF does */
    uint16_t bchar[256]; /* byte -> its printable stand-in (GPT-2's bytes_to_unicode) */

    unsigned char *vocab_blob; /* the vocabulary's keys as in the JSON */
    xlstm__tok_smap vocab;
    xlstm__tok_imap merges; /* (left << 32 | right) -> (rank, merged id) */

    /* initial BPE symbols of a byte, by position variant (bit 0: not first,
       i.e. continuing_subword_prefix applies; bit 1: last, the suffix applies) */
    unsigned char sym_kind[4][256], sym_n[4][256];
    uint32_t sym_off[4][256];
    int32_t *sym_ids;
    size_t sym_max; /* most symbols one byte can give */

    /* added tokens */
    unsigned char *added_blob;
    xlstm__tok_added *added;
    size_t n_added;
    xlstm__tok_smap added_map; /* content -> index in added */
    xlstm__tok_trie trie_raw, trie_norm;

    /* id -> bytes; kind 0 none, 1 vocabulary, 2 added, 3 added special */
    unsigned char *tb_blob;
    uint32_t *tb_off, *tb_len;
    unsigned char *tb_kind;

    /* normalizer: composition pairs (first << 21 | second -> composite) sorted,
       and a quick-check bitmap of BMP code points that may change */
    uint64_t *comp_key;
    uint32_t *comp_val;
    size_t n_comp;
    unsigned char *qc;
};

static uint64_t xlstm__tok_hash(const unsigned char *s, size_t n) {
    uint64_t h = 14695981039346656037ull;
    size_t i;
    for (i = 0; i < n; i++) h = (h ^ s[i]) * 1099511628211ull;
    return h ^ (h >> 29);
}

static uint64_t xlstm__tok_ihash(uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    return k;
}

static size_t xlstm__tok_pow2(size_t n) {
    size_t c = 16;
    while (c < n && c < (SIZE_MAX >> 2)) c <<= 1;
    return c;
}

/* An array of n elements (at least one), or NULL. */
static void *xlstm__tok_arr(const xlstm__alloc *a, size_t n, size_t elem) {
    size_t bytes;
    if (!xlstm__mul(n ? n : 1, elem, &bytes)) return NULL;
    return xlstm__malloc(a, bytes);
}

static int xlstm__tok_smap_init(const xlstm__alloc *a, xlstm__tok_smap *m, size_t cap) {
    size_t i;
    memset(m, 0, sizeof *m);
    if (cap > (SIZE_MAX >> 4)) return 0;
    m->cap = cap;
    m->mask = xlstm__tok_pow2(2 * cap) - 1;
    if (!(m->off = XLSTM__CAST(uint32_t *, xlstm__tok_arr(a, cap, 4))) ||
        !(m->len = XLSTM__CAST(uint32_t *, xlstm__tok_arr(a, cap, 4))) ||
        !(m->val = XLSTM__CAST(int32_t *, xlstm__tok_arr(a, cap, 4))) ||
        !(m->slot = XLSTM__CAST(uint32_t *, xlstm__tok_arr(a, m->mask + 1, 4))))
        return 0;
    for (i = 0; i <= m->mask; i++) m->slot[i] = 0;
    return 1;
}

static void xlstm__tok_smap_free(const xlstm__alloc *a, xlstm__tok_smap *m) {
    xlstm__free(a, m->off);
    xlstm__free(a, m->len);
    xlstm__free(a, m->val);
    xlstm__free(a, m->slot);
    memset(m, 0, sizeof *m);
}

/* Entry index of key s[0..n), or -1. */
static long xlstm__tok_smap_find(const xlstm__tok_smap *m, const unsigned char *s, size_t n) {
    size_t i;
    if (!m->slot) return -1;
    for (i = XLSTM__CAST(size_t, xlstm__tok_hash(s, n)) & m->mask;; i = (i + 1) & m->mask) {
        uint32_t e = m->slot[i];
        if (!e) return -1;
        e--;
        if (m->len[e] == n && memcmp(m->blob + m->off[e], s, n) == 0) return XLSTM__CAST(long, e);
    }
}

/* Insert the key at blob[off..off+n) (the last value wins); returns the entry. */
static long xlstm__tok_smap_put(xlstm__tok_smap *m, uint32_t off, uint32_t n, int32_t val) {
    size_t i;
    for (i = XLSTM__CAST(size_t, xlstm__tok_hash(m->blob + off, n)) & m->mask;; i = (i + 1) & m->mask) {
        uint32_t e = m->slot[i];
        if (!e) break;
        e--;
        if (m->len[e] == n && memcmp(m->blob + m->off[e], m->blob + off, n) == 0) {
            m->val[e] = val;
            return XLSTM__CAST(long, e);
        }
    }
    if (m->n >= m->cap) return -1;
    m->off[m->n] = off;
    m->len[m->n] = n;
    m->val[m->n] = val;
    m->slot[i] = XLSTM__CAST(uint32_t, m->n + 1);
    return XLSTM__CAST(long, m->n++);
}

static int xlstm__tok_imap_init(const xlstm__alloc *a, xlstm__tok_imap *m, size_t cap) {
    size_t i;
    memset(m, 0, sizeof *m);
    if (cap > (SIZE_MAX >> 4)) return 0;
    m->mask = xlstm__tok_pow2(2 * cap) - 1;
    if (!(m->key = XLSTM__CAST(uint64_t *, xlstm__tok_arr(a, m->mask + 1, 8))) ||
        !(m->a = XLSTM__CAST(uint32_t *, xlstm__tok_arr(a, m->mask + 1, 4))) ||
        !(m->b = XLSTM__CAST(int32_t *, xlstm__tok_arr(a, m->mask + 1, 4))))
        return 0;
    for (i = 0; i <= m->mask; i++) m->key[i] = UINT64_MAX;
    return 1;
}

static void xlstm__tok_imap_free(const xlstm__alloc *a, xlstm__tok_imap *m) {
    xlstm__free(a, m->key);
    xlstm__free(a, m->a);
    xlstm__free(a, m->b);
    memset(m, 0, sizeof *m);
}

/* Slot of key, or -1. */
static long xlstm__tok_imap_find(const xlstm__tok_imap *m, uint64_t key) {
    size_t i;
    if (!m->key) return -1;
    for (i = XLSTM__CAST(size_t, xlstm__tok_ihash(key)) & m->mask;; i = (i + 1) & m->mask) {
        if (m->key[i] == key) return XLSTM__CAST(long, i);
        if (m->key[i] == UINT64_MAX) return -1;
    }
}

/* Insert or overwrite (the caller sized the map: it never fills up). */
static void xlstm__tok_imap_put(xlstm__tok_imap *m, uint64_t key, uint32_t a, int32_t b) {
    size_t i;
    for (i = XLSTM__CAST(size_t, xlstm__tok_ihash(key)) & m->mask;; i = (i + 1) & m->mask) {
        if (m->key[i] == key) break;
        if (m->key[i] == UINT64_MAX) {
            m->key[i] = key;
            m->n++;
            break;
        }
    }
    m->a[i] = a;
    m->b[i] = b;
}

/* ---- tokenizer: per-call scratch ------------------------------------------ */

typedef struct xlstm__tok_buf {
    void *p;
    size_t cap; /* in elements */
} xlstm__tok_buf;

typedef struct xlstm__bpe_merge {
    uint32_t rank, pos;
    int32_t id;
} xlstm__bpe_merge;

typedef struct xlstm__tok_ctx {
    const xlstm_tokenizer *tok;
    const xlstm__alloc *a;
    int32_t *out;
    size_t cap, n;
    int nomem;
    xlstm__tok_buf clean, norm, cps, ccc, tmp, tmpc, pre, mapped, sym, heap;
} xlstm__tok_ctx;

/* Make room for need elements, keeping the contents. */
static int xlstm__tok_grow(xlstm__tok_ctx *cx, xlstm__tok_buf *b, size_t need, size_t elem) {
    size_t ncap = b->cap ? b->cap : 64, bytes;
    void *p;
    if (need <= b->cap) return 1;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2) {
            cx->nomem = 1;
            return 0;
        }
        ncap *= 2;
    }
    if (!xlstm__mul(ncap, elem, &bytes) || !(p = xlstm__malloc(cx->a, bytes))) {
        cx->nomem = 1;
        return 0;
    }
    if (b->p) memcpy(p, b->p, b->cap * elem);
    xlstm__free(cx->a, b->p);
    b->p = p;
    b->cap = ncap;
    return 1;
}

static void xlstm__tok_ctx_free(xlstm__tok_ctx *cx) {
    xlstm__tok_buf *bufs[10];
    int i;
    bufs[0] = &cx->clean, bufs[1] = &cx->norm, bufs[2] = &cx->cps, bufs[3] = &cx->ccc, bufs[4] = &cx->tmp;
    bufs[5] = &cx->tmpc, bufs[6] = &cx->pre, bufs[7] = &cx->mapped, bufs[8] = &cx->sym, bufs[9] = &cx->heap;
    for (i = 0; i < 10; i++) {
        xlstm__free(cx->a, bufs[i]->p);
        bufs[i]->p = NULL;
        bufs[i]->cap = 0;
    }
}

static void xlstm__tok_emit(xlstm__tok_ctx *cx, int32_t id) {
    if (cx->n < cx->cap) cx->out[cx->n] = id;
    cx->n++;
}

/* ---- tokenizer: normalizer (NFC / NFD) ----------------------------------- */

static uint32_t xlstm__tok_compose(const xlstm_tokenizer *t, uint32_t a, uint32_t b) {
    size_t lo = 0, hi = t->n_comp;
    uint64_t key;
    if (a - XLSTM__TOK_LBASE < 19 && b - XLSTM__TOK_VBASE < 21)
        return XLSTM__TOK_SBASE + ((a - XLSTM__TOK_LBASE) * 21 + (b - XLSTM__TOK_VBASE)) * 28;
    if (a - XLSTM__TOK_SBASE < XLSTM__TOK_NSYL && (a - XLSTM__TOK_SBASE) % 28 == 0 && b > XLSTM__TOK_TBASE &&
        b - XLSTM__TOK_TBASE < 28)
        return a + (b - XLSTM__TOK_TBASE);
    key = XLSTM__CAST(uint64_t, a) << 21 | b;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->comp_key[mid] < key) lo = mid + 1;
        else hi = mid;
    }
    return lo < t->n_comp && t->comp_key[lo] == key ? t->comp_val[lo] : 0;
}

/* May cp change under the normalizer, or change its neighbours? (NFC: a
   non-zero combining class, NFC_Quick_Check No or Maybe; NFD: non-zero class
   or a decomposition.) */
static int xlstm__tok_qc_slow(int norm, uint32_t cp) {
    uint32_t map;
    size_t lo = 0, hi = sizeof xlstm__tok_dec_b / 4;
    if (xlstm__tok_ccc_of(cp)) return 1;
    if (norm == XLSTM__TOK_NORM_NFD) return cp - XLSTM__TOK_SBASE < XLSTM__TOK_NSYL || xlstm__tok_dec_of(cp, &map);
    if (xlstm__tok_dec_of(cp, &map) && (map >> 28)) return 1;                        /* never in NFC */
    if (cp - XLSTM__TOK_VBASE < 21 || (cp > XLSTM__TOK_TBASE && cp - XLSTM__TOK_TBASE < 28)) return 1; /* jamo */
    while (lo < hi) { /* may compose with what precedes */
        size_t mid = lo + (hi - lo) / 2;
        if (xlstm__tok_dec_b[mid] < cp) lo = mid + 1;
        else hi = mid;
    }
    return lo < sizeof xlstm__tok_dec_b / 4 && xlstm__tok_dec_b[lo] == cp;
}

static int xlstm__tok_qc(const xlstm_tokenizer *t, uint32_t cp) {
    if (cp < 0x10000) return (t->qc[cp >> 3] >> (cp & 7)) & 1;
    return xlstm__tok_qc_slow(t->norm, cp);
}

/* Stable sort of a run of non-starters by combining class. */
static int xlstm__tok_sort_run(xlstm__tok_ctx *cx, uint32_t *cp, unsigned char *cc, size_t n) {
    size_t i, j, count[256], pos;
    uint32_t *tc;
    unsigned char *tcc;
    if (n <= 16) { /* insertion sort: runs are short in real text */
        for (i = 1; i < n; i++) {
            uint32_t c = cp[i];
            unsigned char k = cc[i];
            for (j = i; j > 0 && cc[j - 1] > k; j--) {
                cp[j] = cp[j - 1];
                cc[j] = cc[j - 1];
            }
            cp[j] = c;
            cc[j] = k;
        }
        return 1;
    }
    /* counting sort: linear even for a hostile megabyte of combining marks */
    if (!xlstm__tok_grow(cx, &cx->tmp, n, 4) || !xlstm__tok_grow(cx, &cx->tmpc, n, 1)) return 0;
    tc = XLSTM__CAST(uint32_t *, cx->tmp.p);
    tcc = XLSTM__CAST(unsigned char *, cx->tmpc.p);
    memset(count, 0, sizeof count);
    for (i = 0; i < n; i++) count[cc[i]]++;
    for (i = 0, pos = 0; i < 256; i++) {
        size_t c = count[i];
        count[i] = pos;
        pos += c;
    }
    for (i = 0; i < n; i++) {
        pos = count[cc[i]]++;
        tc[pos] = cp[i];
        tcc[pos] = cc[i];
    }
    memcpy(cp, tc, n * 4);
    memcpy(cc, tcc, n);
    return 1;
}

/* Normalize valid UTF-8 s[0..n). *out is s itself when nothing changes, else
   cx->norm. Returns 0 when out of memory. */
static int xlstm__tok_normalize(xlstm__tok_ctx *cx, const unsigned char *s, size_t n, const unsigned char **out,
                                size_t *out_n) {
    const xlstm_tokenizer *t = cx->tok;
    unsigned char first = t->norm == XLSTM__TOK_NORM_NFC ? 0xCC : 0xC3; /* lead bytes of U+0300 / U+00C0 */
    size_t i, ncp = 0, w, k;
    uint32_t *cps, dec[4];
    unsigned char *cc, *o;
    long starter;
    unsigned last_cc;
    *out = s;
    *out_n = n;
    if (t->norm == XLSTM__TOK_NORM_NONE) return 1;
    for (i = 0; i < n;) { /* quick check: most text never changes */
        uint32_t cp;
        if (s[i] < first) {
            i++;
            continue;
        }
        k = xlstm__tok_next(s, n, i, &cp);
        if (xlstm__tok_qc(t, cp)) break;
        i += k;
    }
    if (i >= n) return 1;
    /* decompose */
    for (i = 0; i < n;) {
        uint32_t cp;
        size_t nd;
        i += xlstm__tok_next(s, n, i, &cp);
        nd = xlstm__tok_decompose(cp, dec);
        if (!xlstm__tok_grow(cx, &cx->cps, ncp + nd, 4) || !xlstm__tok_grow(cx, &cx->ccc, ncp + nd, 1)) return 0;
        cps = XLSTM__CAST(uint32_t *, cx->cps.p);
        cc = XLSTM__CAST(unsigned char *, cx->ccc.p);
        for (k = 0; k < nd; k++) {
            cps[ncp] = dec[k];
            cc[ncp++] = XLSTM__CAST(unsigned char, xlstm__tok_ccc_of(dec[k]));
        }
    }
    cps = XLSTM__CAST(uint32_t *, cx->cps.p);
    cc = XLSTM__CAST(unsigned char *, cx->ccc.p);
    /* canonical ordering of every run of non-starters */
    for (i = 0; i < ncp;) {
        size_t j = i;
        if (!cc[i]) {
            i++;
            continue;
        }
        while (j < ncp && cc[j]) j++;
        if (j - i > 1 && !xlstm__tok_sort_run(cx, cps + i, cc + i, j - i)) return 0;
        cps = XLSTM__CAST(uint32_t *, cx->cps.p);
        cc = XLSTM__CAST(unsigned char *, cx->ccc.p);
        i = j;
    }
    /* canonical composition: c joins the last starter unless a character in
       between has class 0 or a class >= c's (then c is "blocked") */
    w = ncp;
    if (t->norm == XLSTM__TOK_NORM_NFC) {
        starter = -1;
        last_cc = 0;
        for (i = 0, w = 0; i < ncp; i++) {
            uint32_t c = cps[i];
            unsigned k2 = cc[i];
            if (starter >= 0 && (w == XLSTM__CAST(size_t, starter) + 1 || (last_cc != 0 && last_cc < k2))) {
                uint32_t comp = xlstm__tok_compose(t, cps[starter], c);
                if (comp) {
                    cps[starter] = comp;
                    continue;
                }
            }
            if (k2 == 0) starter = XLSTM__CAST(long, w);
            last_cc = k2;
            cps[w] = c;
            cc[w++] = XLSTM__CAST(unsigned char, k2);
        }
    }
    if (!xlstm__tok_grow(cx, &cx->norm, 4 * w + 1, 1)) return 0;
    o = XLSTM__CAST(unsigned char *, cx->norm.p);
    for (i = 0, k = 0; i < w; i++) k += xlstm__tok_put_utf8(o + k, cps[i]);
    *out = o;
    *out_n = k;
    return 1;
}

/* ---- tokenizer: BPE ------------------------------------------------------ */

static void xlstm__bpe_push(xlstm__bpe_merge *h, size_t *n, xlstm__bpe_merge m) {
    size_t i = (*n)++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (h[p].rank < m.rank || (h[p].rank == m.rank && h[p].pos <= m.pos)) break;
        h[i] = h[p];
        i = p;
    }
    h[i] = m;
}

static xlstm__bpe_merge xlstm__bpe_pop(xlstm__bpe_merge *h, size_t *n) {
    xlstm__bpe_merge top = h[0], last = h[--(*n)];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n) break;
        if (c + 1 < *n && (h[c + 1].rank < h[c].rank || (h[c + 1].rank == h[c].rank && h[c + 1].pos < h[c].pos))) c++;
        if (last.rank < h[c].rank || (last.rank == h[c].rank && last.pos <= h[c].pos)) break;
        h[i] = h[c];
        i = c;
    }
    h[i] = last;
    return top;
}

static int xlstm__bpe_pair(const xlstm_tokenizer *t, int32_t l, int32_t r, uint32_t pos, xlstm__bpe_merge *m) {
    long s = xlstm__tok_imap_find(&t->merges, XLSTM__CAST(uint64_t, XLSTM__CAST(uint32_t, l)) << 32 |
                                                  XLSTM__CAST(uint32_t, r));
    if (s < 0) return 0;
    m->rank = t->merges.a[s];
    m->id = t->merges.b[s];
    m->pos = pos;
    return 1;
}

/* The byte-level form of a piece: each byte as its printable stand-in. */
static uint32_t xlstm__tok_byte_char(unsigned b) {
    unsigned i, n = 0;
    if ((b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE) return b;
    for (i = 0; i < b; i++)
        if (!((i >= 0x21 && i <= 0x7E) || (i >= 0xA1 && i <= 0xAC) || i >= 0xAE)) n++;
    return 256 + n;
}

/* BPE of one pre-token, the way HF's Word::merge_all does it (a min-heap on
   (rank, position); an entry is stale when its pair no longer yields its id). */
static int xlstm__bpe_word(xlstm__tok_ctx *cx, const unsigned char *w, size_t n) {
    const xlstm_tokenizer *t = cx->tok;
    int32_t *c, *prv, *nxt;
    xlstm__bpe_merge *heap, m;
    size_t i, ns = 0, nh = 0, cap;
    int unk_pending = 0;
    if (n == 0) return 1;
    if (t->ignore_merges) { /* a piece that is a whole token skips the merges */
        unsigned char *mp;
        size_t k = 0;
        long e;
        if (!xlstm__tok_grow(cx, &cx->mapped, 2 * n, 1)) return 0;
        mp = XLSTM__CAST(unsigned char *, cx->mapped.p);
        for (i = 0; i < n; i++) k += xlstm__tok_put_utf8(mp + k, t->bchar[w[i]]);
        e = xlstm__tok_smap_find(&t->vocab, mp, k);
        if (e >= 0) {
            xlstm__tok_emit(cx, t->vocab.val[e]);
            return 1;
        }
    }
    if (!xlstm__mul(n, t->sym_max, &cap) || cap > INT32_MAX / 4) {
        cx->nomem = 1;
        return 0;
    }
    if (!xlstm__tok_grow(cx, &cx->sym, 3 * cap, 4) || !xlstm__tok_grow(cx, &cx->heap, cap + 16, sizeof(xlstm__bpe_merge)))
        return 0;
    c = XLSTM__CAST(int32_t *, cx->sym.p);
    prv = c + cap;
    nxt = prv + cap;
    heap = XLSTM__CAST(xlstm__bpe_merge *, cx->heap.p);
    for (i = 0; i < n; i++) { /* HF's merge_word: initial symbols, unknowns */
        int v = (i > 0 ? 1 : 0) | (i + 1 == n ? 2 : 0);
        unsigned kind = t->sym_kind[v][w[i]], k, cnt = t->sym_n[v][w[i]];
        const int32_t *ids = t->sym_ids + t->sym_off[v][w[i]];
        if (kind == XLSTM__TOK_SYM_ID) {
            if (unk_pending) c[ns++] = t->unk_id;
            unk_pending = 0;
            c[ns++] = ids[0];
        } else if (kind == XLSTM__TOK_SYM_BYTES) { /* byte fallback; a pending unk stays pending */
            for (k = 0; k < cnt; k++) c[ns++] = ids[k];
        } else if (t->unk_id >= 0) {
            if (unk_pending && !t->fuse_unk) c[ns++] = t->unk_id;
            unk_pending = 1;
        }
    }
    if (unk_pending) c[ns++] = t->unk_id;
    for (i = 0; i < ns; i++) {
        prv[i] = XLSTM__CAST(int32_t, i) - 1;
        nxt[i] = i + 1 < ns ? XLSTM__CAST(int32_t, i + 1) : -1;
    }
    for (i = 0; i + 1 < ns; i++)
        if (xlstm__bpe_pair(t, c[i], c[i + 1], XLSTM__CAST(uint32_t, i), &m)) xlstm__bpe_push(heap, &nh, m);
    while (nh) {
        xlstm__bpe_merge top = xlstm__bpe_pop(heap, &nh);
        int32_t p = XLSTM__CAST(int32_t, top.pos), r;
        if (nh + 2 > cx->heap.cap) { /* a merge pushes at most two pairs */
            if (!xlstm__tok_grow(cx, &cx->heap, nh + 2, sizeof(xlstm__bpe_merge))) return 0;
            heap = XLSTM__CAST(xlstm__bpe_merge *, cx->heap.p);
        }
        if (c[p] < 0 || nxt[p] < 0) continue; /* removed, or last */
        r = nxt[p];
        if (!xlstm__bpe_pair(t, c[p], c[r], top.pos, &m) || m.id != top.id) continue; /* stale */
        c[p] = top.id;
        nxt[p] = nxt[r];
        c[r] = -1;
        if (nxt[r] >= 0) prv[nxt[r]] = p;
        if (prv[p] >= 0 && xlstm__bpe_pair(t, c[prv[p]], c[p], XLSTM__CAST(uint32_t, prv[p]), &m))
            xlstm__bpe_push(heap, &nh, m);
        if (nxt[p] >= 0 && xlstm__bpe_pair(t, c[p], c[nxt[p]], top.pos, &m)) xlstm__bpe_push(heap, &nh, m);
    }
    if (ns) {
        int32_t p;
        for (p = 0; p >= 0; p = nxt[p]) xlstm__tok_emit(cx, c[p]);
    }
    return 1;
}

/* ---- tokenizer: pre-tokenizer (the GPT-2 regex) -------------------------- */

/* Split s[0..n) as Oniguruma matches
     's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
   (every character falls in one alternative, so the matches tile s), and BPE
   every piece. */
static int xlstm__tok_pretokenize(xlstm__tok_ctx *cx, const unsigned char *s, size_t n) {
    size_t i = 0;
    if (!cx->tok->use_regex) return xlstm__bpe_word(cx, s, n);
    while (i < n) {
        uint32_t cp, c2;
        size_t l = xlstm__tok_next(s, n, i, &cp), j, k, l2;
        int cls;
        if (cp == '\'' && i + 1 < n) {
            unsigned char d = s[i + 1], e = i + 2 < n ? s[i + 2] : 0;
            j = 0;
            if (d == 's' || d == 't' || d == 'm' || d == 'd') j = i + 2;
            else if ((d == 'r' && e == 'e') || (d == 'v' && e == 'e') || (d == 'l' && e == 'l')) j = i + 3;
            if (j) {
                if (!xlstm__bpe_word(cx, s + i, j - i)) return 0;
                i = j;
                continue;
            }
        }
        cls = xlstm__tok_class(cp);
        k = i;
        if (cp == ' ' && i + 1 < n) { /* " ?" takes the space when a run follows it */
            l2 = xlstm__tok_next(s, n, i + 1, &c2);
            if (xlstm__tok_class(c2) != XLSTM__TOK_SPACE) {
                cls = xlstm__tok_class(c2);
                k = i + 1;
                l = l2;
            }
        }
        if (cls != XLSTM__TOK_SPACE) {
            for (j = k + l; j < n; j += l2) {
                l2 = xlstm__tok_next(s, n, j, &c2);
                if (xlstm__tok_class(c2) != cls) break;
            }
        } else {
            size_t last = i, count = 1;
            for (j = i + l; j < n; j += l2) {
                l2 = xlstm__tok_next(s, n, j, &c2);
                if (xlstm__tok_class(c2) != XLSTM__TOK_SPACE) break;
                last = j;
                count++;
            }
            /* \s+(?!\S): a run before a non-space leaves its last space to it */
            if (j < n && count > 1) j = last;
        }
        if (!xlstm__bpe_word(cx, s + i, j - i)) return 0;
        i = j;
    }
    return 1;
}

/* ---- tokenizer: added tokens --------------------------------------------- */

/* Longest pattern starting at s[i]: its added index (or -1) and length. */
static long xlstm__tok_trie_match(const xlstm__tok_trie *tr, const unsigned char *s, size_t n, size_t i,
                                  size_t *mlen) {
    uint64_t node = 0;
    long best = -1;
    size_t k;
    if (!tr->n_nodes || !((tr->first[s[i] >> 3] >> (s[i] & 7)) & 1)) return -1;
    for (k = i; k < n; k++) {
        long e = xlstm__tok_imap_find(&tr->edge, node << 8 | s[k]);
        if (e < 0) break;
        node = tr->edge.a[e];
        if (tr->term[node] >= 0) {
            best = tr->term[node];
            *mlen = k - i + 1;
        }
    }
    return best;
}

/* Rust regex \w, approximated: letters, numbers, marks, '_', ZWNJ/ZWJ. */
static int xlstm__tok_is_word(uint32_t cp) {
    int k = xlstm__tok_class(cp);
    return k == XLSTM__TOK_LETTER || k == XLSTM__TOK_NUMBER || cp == '_' || cp == 0x200C || cp == 0x200D ||
           xlstm__tok_ccc_of(cp) != 0;
}

/* Start of the character that ends at s[end) (s valid UTF-8, end > 0). */
static size_t xlstm__tok_prev(const unsigned char *s, size_t end) {
    size_t i = end - 1;
    while (i > 0 && (s[i] & 0xC0) == 0x80 && end - i < 4) i--;
    return i;
}

static int xlstm__tok_segment(xlstm__tok_ctx *cx, const unsigned char *s, size_t n, int stage);

/* HF's AddedVocabulary::find_matches over s[0..n): emit the matched added
   tokens and hand the text between them to the next stage. */
static int xlstm__tok_split_added(xlstm__tok_ctx *cx, const xlstm__tok_trie *tr, const unsigned char *s, size_t n,
                                  int stage) {
    const xlstm_tokenizer *t = cx->tok;
    size_t pos = 0, start_offset = 0;
    if (!tr->n_nodes) return xlstm__tok_segment(cx, s, n, stage);
    while (pos < n) {
        size_t mlen = 0, start, stop;
        long idx = xlstm__tok_trie_match(tr, s, n, pos, &mlen);
        const xlstm__tok_added *ad;
        if (idx < 0) {
            pos++;
            continue;
        }
        ad = &t->added[idx];
        start = pos;
        stop = pos + mlen;
        pos = stop; /* the matcher goes on after the match, whatever happens to it */
        if (ad->single_word) {
            uint32_t cp;
            int start_space = 1, stop_space = 1;
            if (start > 0) {
                xlstm__tok_next(s, n, xlstm__tok_prev(s, start), &cp);
                start_space = !xlstm__tok_is_word(cp);
            }
            if (stop < n) {
                xlstm__tok_next(s, n, stop, &cp);
                stop_space = !xlstm__tok_is_word(cp);
            }
            if (!start_space || !stop_space) continue;
        }
        if (ad->lstrip) {
            size_t ns = start;
            while (ns > 0) {
                uint32_t cp;
                size_t p = xlstm__tok_prev(s, ns);
                xlstm__tok_next(s, n, p, &cp);
                if (xlstm__tok_class(cp) != XLSTM__TOK_SPACE) break;
                ns = p;
            }
            start = ns > start_offset ? ns : start_offset;
        }
        if (ad->rstrip) {
            while (stop < n) {
                uint32_t cp;
                size_t l = xlstm__tok_next(s, n, stop, &cp);
                if (xlstm__tok_class(cp) != XLSTM__TOK_SPACE) break;
                stop += l;
            }
        }
        if (start_offset < start && !xlstm__tok_segment(cx, s + start_offset, start - start_offset, stage)) return 0;
        xlstm__tok_emit(cx, ad->id);
        start_offset = stop;
    }
    if (start_offset < n) return xlstm__tok_segment(cx, s + start_offset, n - start_offset, stage);
    return 1;
}

/* Stage 1: a piece between non-normalized added tokens: normalize it, then
   split on the normalized added tokens. Stage 2: pre-tokenize and BPE. */
static int xlstm__tok_segment(xlstm__tok_ctx *cx, const unsigned char *s, size_t n, int stage) {
    const xlstm_tokenizer *t = cx->tok;
    if (n == 0) return 1;
    if (stage == 1) {
        const unsigned char *ns;
        size_t nn;
        if (!xlstm__tok_normalize(cx, s, n, &ns, &nn)) return 0;
        return xlstm__tok_split_added(cx, &t->trie_norm, ns, nn, 2);
    }
    if (t->add_prefix_space && s[0] != ' ') {
        unsigned char *p;
        if (!xlstm__tok_grow(cx, &cx->pre, n + 1, 1)) return 0;
        p = XLSTM__CAST(unsigned char *, cx->pre.p);
        p[0] = ' ';
        memcpy(p + 1, s, n);
        return xlstm__tok_pretokenize(cx, p, n + 1);
    }
    return xlstm__tok_pretokenize(cx, s, n);
}

XLSTMDEF xlstm_status xlstm_tokenize(const xlstm_tokenizer *tok, const char *text, size_t len, int32_t *out,
                                     size_t cap, size_t *n_tokens) {
    xlstm__tok_ctx cx;
    const unsigned char *s = XLSTM__CAST(const unsigned char *, XLSTM__CAST(const void *, text));
    size_t i;
    int ok;
    if (n_tokens) *n_tokens = 0;
    if (!tok || !n_tokens || (!text && len) || (!out && cap)) return XLSTM_ERR_ARG;
    memset(&cx, 0, sizeof cx);
    cx.tok = tok;
    cx.a = &tok->alloc;
    cx.out = out;
    cx.cap = cap;
    for (i = 0; i < len;) { /* invalid UTF-8 -> U+FFFD, in a copy */
        uint32_t cp;
        int k = xlstm__tok_utf8(s + i, len - i, &cp);
        if (k <= 0) break;
        i += XLSTM__CAST(size_t, k);
    }
    if (i < len) {
        size_t need, o = i;
        unsigned char *c;
        if (!xlstm__mul(len, 3, &need) || !xlstm__tok_grow(&cx, &cx.clean, need, 1)) return XLSTM_ERR_NOMEM;
        c = XLSTM__CAST(unsigned char *, cx.clean.p);
        memcpy(c, s, i);
        while (i < len) {
            uint32_t cp;
            int k = xlstm__tok_utf8(s + i, len - i, &cp);
            if (k > 0) {
                memcpy(c + o, s + i, XLSTM__CAST(size_t, k));
                o += XLSTM__CAST(size_t, k);
                i += XLSTM__CAST(size_t, k);
            } else {
                o += xlstm__tok_put_utf8(c + o, 0xFFFD);
                i += k < 0 ? XLSTM__CAST(size_t, -k) : len - i;
            }
        }
        s = c;
        len = o;
    }
    ok = len == 0 || xlstm__tok_split_added(&cx, &tok->trie_raw, s, len, 1);
    xlstm__tok_ctx_free(&cx);
    if (!ok) return XLSTM_ERR_NOMEM;
    *n_tokens = cx.n;
    return cx.n > cap && out ? XLSTM_ERR_ARG : XLSTM_OK;
}

/* ---- tokenizer: loading --------------------------------------------------- */

XLSTMDEF void xlstm_tokenizer_free(xlstm_tokenizer *t) {
    xlstm__alloc a;
    if (!t) return;
    a = t->alloc;
    xlstm__free(&a, t->vocab_blob);
    xlstm__tok_smap_free(&a, &t->vocab);
    xlstm__tok_imap_free(&a, &t->merges);
    xlstm__free(&a, t->sym_ids);
    xlstm__free(&a, t->added_blob);
    xlstm__free(&a, t->added);
    xlstm__tok_smap_free(&a, &t->added_map);
    xlstm__tok_imap_free(&a, &t->trie_raw.edge);
    xlstm__free(&a, t->trie_raw.term);
    xlstm__tok_imap_free(&a, &t->trie_norm.edge);
    xlstm__free(&a, t->trie_norm.term);
    xlstm__free(&a, t->tb_blob);
    xlstm__free(&a, t->tb_off);
    xlstm__free(&a, t->tb_len);
    xlstm__free(&a, t->tb_kind);
    xlstm__free(&a, t->comp_key);
    xlstm__free(&a, t->comp_val);
    xlstm__free(&a, t->qc);
    xlstm__free(&a, t);
}

#define XLSTM__TOK_MAX_AFFIX 64 /* continuing_subword_prefix / end_of_word_suffix bytes */
/* Added tokens are matched by walking a trie from every position, so a text
   costs up to (its length x the longest added token): cap that length. */
#ifndef XLSTM_TOKENIZER_MAX_ADDED_LEN
#define XLSTM_TOKENIZER_MAX_ADDED_LEN 256
#endif

typedef struct xlstm__tok_load {
    xlstm_tokenizer *t;
    const xlstm__json *j;
    const char *what;
    xlstm_error *err;
    char prefix[XLSTM__TOK_MAX_AFFIX + 8], suffix[XLSTM__TOK_MAX_AFFIX + 8];
    size_t prefix_len, suffix_len;
    int byte_fallback;
} xlstm__tok_load;

/* A JSON value's "type" string into buf ("" when absent or not a string). */
static void xlstm__tok_jtype(const xlstm__json *j, uint32_t obj, char *buf, size_t cap) {
    uint32_t ti = xlstm__jget(j, obj, "type");
    buf[0] = 0;
    if (ti && (j->tok[ti].type != XLSTM__J_STR || xlstm__jstr_decode(j, ti, buf, cap) < 0)) strcpy(buf, "?");
}

/* Optional boolean field: absent or null keeps *out. */
static int xlstm__tok_jbool(xlstm__tok_load *L, uint32_t obj, const char *key, int *out) {
    uint32_t ti = xlstm__jget(L->j, obj, key);
    if (!ti || L->j->tok[ti].type == XLSTM__J_NULL) return 1;
    if (L->j->tok[ti].type != XLSTM__J_BOOL) {
        xlstm__fail(L->err, XLSTM_ERR_CONFIG, "%s: \"%s\" must be true or false", L->what, key);
        return 0;
    }
    *out = L->j->tok[ti].truth;
    return 1;
}

/* Optional short string field: absent or null gives "" and *present 0. */
static int xlstm__tok_jshort(xlstm__tok_load *L, uint32_t obj, const char *key, char *buf, size_t cap,
                             size_t *len, int *present) {
    uint32_t ti = xlstm__jget(L->j, obj, key);
    long n;
    buf[0] = 0;
    *len = 0;
    *present = 0;
    if (!ti || L->j->tok[ti].type == XLSTM__J_NULL) return 1;
    if (L->j->tok[ti].type != XLSTM__J_STR || (n = xlstm__jstr_decode(L->j, ti, buf, cap)) < 0 ||
        XLSTM__CAST(size_t, n) > XLSTM__TOK_MAX_AFFIX) {
        xlstm__fail(L->err, XLSTM_ERR_CONFIG, "%s: \"%s\" must be a string of at most %d bytes", L->what, key,
                    XLSTM__TOK_MAX_AFFIX);
        return 0;
    }
    *len = XLSTM__CAST(size_t, n);
    *present = 1;
    return 1;
}

static xlstm_status xlstm__tok_parse_normalizer(xlstm__tok_load *L, uint32_t ti, int depth) {
    char type[32];
    if (!ti || L->j->tok[ti].type == XLSTM__J_NULL) return XLSTM_OK;
    if (L->j->tok[ti].type != XLSTM__J_OBJ)
        return xlstm__fail(L->err, XLSTM_ERR_CONFIG, "%s: normalizer must be an object or null", L->what);
    xlstm__tok_jtype(L->j, ti, type, sizeof type);
    if (!strcmp(type, "NFC")) L->t->norm = XLSTM__TOK_NORM_NFC;
    else if (!strcmp(type, "NFD")) L->t->norm = XLSTM__TOK_NORM_NFD;
    else if (!strcmp(type, "Sequence") && depth < 4) { /* NFD then NFC is NFC: the last one decides */
        uint32_t arr = xlstm__jget(L->j, ti, "normalizers"), k, e;
        xlstm_status s;
        if (!arr || L->j->tok[arr].type != XLSTM__J_ARR)
            return xlstm__fail(L->err, XLSTM_ERR_CONFIG, "%s: Sequence normalizer without \"normalizers\"", L->what);
        for (k = 0, e = arr + 1; k < L->j->tok[arr].count; k++, e = L->j->tok[e].next)
            if ((s = xlstm__tok_parse_normalizer(L, e, depth + 1)) != XLSTM_OK) return s;
    } else {
        return xlstm__fail(L->err, XLSTM_ERR_UNSUPPORTED,
                           "%s: normalizer \"%s\" is not supported (only NFC, NFD or a Sequence of them)", L->what,
                           type);
    }
    return XLSTM_OK;
}

static xlstm_status xlstm__tok_parse_pretok(xlstm__tok_load *L, uint32_t ti) {
    char type[32];
    if (!ti || L->j->tok[ti].type != XLSTM__J_OBJ)
        return xlstm__fail(L->err, XLSTM_ERR_UNSUPPORTED, "%s: no pre_tokenizer (only ByteLevel is supported)",
                           L->what);
    xlstm__tok_jtype(L->j, ti, type, sizeof type);
    if (!strcmp(type, "Sequence")) { /* a Sequence holding just one ByteLevel */
        uint32_t arr = xlstm__jget(L->j, ti, "pretokenizers");
        if (!arr || L->j->tok[arr].type != XLSTM__J_ARR || L->j->tok[arr].count != 1 ||
            L->j->tok[arr + 1].type != XLSTM__J_OBJ)
            return xlstm__fail(L->err, XLSTM_ERR_UNSUPPORTED,
                               "%s: pre_tokenizer Sequence is supported only around one ByteLevel", L->what);
        ti = arr + 1;
        xlstm__tok_jtype(L->j, ti, type, sizeof type);
    }
    if (strcmp(type, "ByteLevel") != 0)
        return xlstm__fail(L->err, XLSTM_ERR_UNSUPPORTED, "%s: pre_tokenizer \"%s\" is not supported (only ByteLevel)",
                           L->what, type);
    L->t->add_prefix_space = 1; /* HF's defaults */
    L->t->use_regex = 1;
    if (!xlstm__tok_jbool(L, ti, "add_prefix_space", &L->t->add_prefix_space) ||
        !xlstm__tok_jbool(L, ti, "use_regex", &L->t->use_regex))
        return XLSTM_ERR_CONFIG;
    return XLSTM_OK;
}

static xlstm_status xlstm__tok_check_decoder(xlstm__tok_load *L, uint32_t ti) {
    char type[32];
    if (!ti || L->j->tok[ti].type == XLSTM__J_NULL) return XLSTM_OK;
    if (L->j->tok[ti].type != XLSTM__J_OBJ)
        return xlstm__fail(L->err, XLSTM_ERR_CONFIG, "%s: decoder must be an object or null", L->what);
    xlstm__tok_jtype(L->j, ti, type, sizeof type);
    if (!strcmp(type, "Sequence")) {
        uint32_t arr = xlstm__jget(L->j, ti, "decoders");
        if (arr && L->j->tok[arr].type == XLSTM__J_ARR && L->j->tok[arr].count == 1 &&
            L->j->tok[arr + 1].type == XLSTM__J_OBJ)
            xlstm__tok_jtype(L->j, arr + 1, type, sizeof type);
    }
    if (strcmp(type, "ByteLevel") != 0)
        return xlstm__fail(L->err, XLSTM_ERR_UNSUPPORTED, "%s: decoder \"%s\" is not supported (only ByteLevel)",
                           L->what, type);
    return XLSTM_OK;
}

/* Decode a JSON string token into blob at *used (the blob has room: decoded
   strings are never longer than their JSON form, plus 8 bytes of slack). */
static int xlstm__tok_jstr_to(const xlstm__json *j, uint32_t ti, unsigned char *blob, size_t cap, size_t *used,
                              uint32_t *len) {
    long n = xlstm__jstr_decode(j, ti, XLSTM__CAST(char *, XLSTM__CAST(void *, blob + *used)), cap - *used);
    if (n < 0) return 0;
    *len = XLSTM__CAST(uint32_t, n);
    *used += XLSTM__CAST(size_t, n);
    return 1;
}

/* Vocabulary: keys into a blob and a hash map; ids checked. */
static xlstm_status xlstm__tok_build_vocab(xlstm__tok_load *L, uint32_t vocab) {
    xlstm_tokenizer *t = L->t;
    const xlstm__json *j = L->j;
    size_t total = 8, used = 0, k;
    uint32_t e;
    if (!vocab || j->tok[vocab].type != XLSTM__J_OBJ)
        return xlstm__fail(L->err, XLSTM_ERR_CONFIG, "%s: model.vocab must be an object", L->what);
    for (k = 0, e = vocab + 1; k < j->tok[vocab].count; k++, e = j->tok[e + 1].next)
        total += j->tok[e].end - j->tok[e].start;
    if (!(t->vocab_blob = XLSTM__CAST(unsigned char *, xlstm__malloc(&t->alloc, total))) ||
        !xlstm__tok_smap_init(&t->alloc, &t->vocab, j->tok[vocab].count))
        return xlstm__fail(L->err, XLSTM_ERR_NOMEM, "%s: out of memory for the vocabulary", L->what);
    t->vocab.blob = t->vocab_blob;
    for (k = 0, e = vocab + 1; k < j->tok[vocab].count; k++, e = j->tok[e + 1].next) {
        double v;
        uint32_t len;
        size_t off = used;
        if (!xlstm__jnum(j, e + 1, &v) || v != floor(v) || v < 0 || v >= XLSTM_MAX_DIM)
            return xlstm__fail(L->err, XLSTM_ERR_CONFIG, "%s: model.vocab entry %lu: id must be an integer in [0, %d)",
                               L->what, XLSTM__CAST(unsigned long, k), XLSTM_MAX_DIM);
        if (!xlstm__tok_jstr_to(j, e, t->vocab_blob, total, &used, &len))
            return xlstm__fail(L->err, XLSTM_ERR_CONFIG, "%s: model.vocab entry %lu: bad key", L->what,
                               XLSTM__CAST(unsigned long, k));
        xlstm__tok_smap_put(&t->vocab, XLSTM__CAST(uint32_t, off), len, XLSTM__CAST(int32_t, v));
        if (XLSTM__CAST(int32_t, v) >= t->n_vocab) t->n_vocab = XLSTM__CAST(int32_t, v) + 1;
    }
    return XLSTM_OK;
}

static long xlstm__tok_vocab_find(const xlstm_tokenizer *t, const char *s, size_t n) {
    long e = xlstm__tok_smap_find(&t->vocab, XLSTM__CAST(const unsigned char *, XLSTM__CAST(const void *, s)), n);
    return e < 0 ? -1 : t->vocab.val[e];
}

/* Merges: "left right" strings or [left, right] pairs; rank = position. */
static xlstm_status xlstm__tok_build_merges(xlstm__tok_load *L, uint32_t merges) {
    xlstm_tokenizer *t = L->t;
    const xlstm__json *j = L->j;
    size_t k, maxlen = 0, rank = 0;
    uint32_t e;
    char *buf = NULL, *cat = NULL;
    xlstm_status st = XLSTM_OK;
    if (!merges || j->tok[merges].type != XLSTM__J_ARR)
        return xlstm__fail(L->err, XLSTM_ERR_CONFIG, "%s: model.merges must be an array", L->what);
    for (k = 0, e = merges + 1; k < j->tok[merges].count; k++, e = j->tok[e].next) {
        size_t n = j->tok[e].end - j->tok[e].start;
        if (j->tok[e].type == XLSTM__J_ARR && j->tok[e].count == 2) /* both strings, checked below */
            n = j->tok[e + 1].end - j->tok[e + 1].start + j->tok[j->tok[e + 1].next].end -
                j->tok[j->tok[e + 1].next].start;
        if (n > maxlen) maxlen = n;
    }
    if (!xlstm__tok_imap_init(&t->alloc, &t->merges, j->tok[merges].count) ||
        !(buf = XLSTM__CAST(char *, xlstm__malloc(&t->alloc, maxlen + 16))) ||
        !(cat = XLSTM__CAST(char *, xlstm__malloc(&t->alloc, maxlen + 16))))
        st = xlstm__fail(L->err, XLSTM_ERR_NOMEM, "%s: out of memory for the merges", L->what);
    for (k = 0, e = merges + 1; st == XLSTM_OK && k < j->tok[merges].count; k++, e = j->tok[e].next) {
        const char *left, *right;
        size_t ll, rl, plen;
        long li, ri, mi;
        if (j->tok[e].type == XLSTM__J_STR) {
            long n = xlstm__jstr_decode(j, e, buf, maxlen + 16);
            char *sp;
            if (n < 0) break;
            if (n >= 8 && !memcmp(buf, "#version", 8)) continue; /* a merges.txt header line */
            sp = XLSTM__CAST(char *, memchr(buf, ' ', XLSTM__CAST(size_t, n)));
            if (!sp || memchr(sp + 1, ' ', XLSTM__CAST(size_t, n) - XLSTM__CAST(size_t, sp + 1 - buf))) {
                st = xlstm__fail(L->err, XLSTM_ERR_CONFIG, "%s: merge %lu is not \"left right\"", L->what,
                                 XLSTM__CAST(unsigned long, k));
                break;
            }
            left = buf;
            ll = XLSTM__CAST(size_t, sp - buf);
            right = sp + 1;
            rl = XLSTM__CAST(size_t, n) - ll - 1;
        } else if (j->tok[e].type == XLSTM__J_ARR && j->tok[e].count == 2 && j->tok[e + 1].type == XLSTM__J_STR &&
                   j->tok[j->tok[e + 1].next].type == XLSTM__J_STR) {
            long n1 = xlstm__jstr_decode(j, e + 1, buf, maxlen + 16), n2;
            if (n1 < 0 || (n2 = xlstm__jstr_decode(j, j->tok[e + 1].next, buf + n1 + 1,
                                                   maxlen + 15 - XLSTM__CAST(size_t, n1))) < 0)
                break;
            left = buf;
            ll = XLSTM__CAST(size_t, n1);
            right = buf + n1 + 1;
            rl = XLSTM__CAST(size_t, n2);
        } else {
            st = xlstm__fail(L->err, XLSTM_ERR_CONFIG, "%s: merge %lu must be a string or a pair of strings",
                             L->what, XLSTM__CAST(unsigned long, k));
            break;
        }
        /* the merged token is left + right without the right's continuing prefix */
        plen = L->prefix_len <= rl ? L->prefix_len : rl;
        memcpy(cat, left, ll);
        memcpy(cat + ll, right + plen, rl - plen);
        li = xlstm__tok_vocab_find(t, left, ll);
        ri = xlstm__tok_vocab_find(t, right, rl);
        mi = xlstm__tok_vocab_find(t, cat, ll + rl - plen);
        if (li < 0 || ri < 0 || mi < 0) {
            st = xlstm__fail(L->err, XLSTM_ERR_CONFIG, "%s: merge %lu (\"%.*s\" \"%.*s\"): token not in the vocabulary",
                             L->what, XLSTM__CAST(unsigned long, k), XLSTM__CAST(int, ll < 40 ? ll : 40), left,
                             XLSTM__CAST(int, rl < 40 ? rl : 40), right);
            break;
        }
        /* a repeated pair keeps its last rank, as HF's HashMap collect does */
        xlstm__tok_imap_put(&t->merges, XLSTM__CAST(uint64_t, li) << 32 | XLSTM__CAST(uint64_t, ri),
                            XLSTM__CAST(uint32_t, rank++), XLSTM__CAST(int32_t, mi));
    }
    if (st == XLSTM_OK && k < j->tok[merges].count)
        st = xlstm__fail(L->err, XLSTM_ERR_CONFIG, "%s: merge %lu: bad string", L->what, XLSTM__CAST(unsigned long, k));
    xlstm__free(&t->alloc, buf);
    xlstm__free(&t->alloc, cat);
    return st;
}

/* Initial BPE symbols of every byte in every position variant. */
static xlstm_status xlstm__tok_build_syms(xlstm__tok_load *L) {
    xlstm_tokenizer *t = L->t;
    size_t per = L->prefix_len + 4 + L->suffix_len, used = 0;
    unsigned v, b, k;
    char s[2 * XLSTM__TOK_MAX_AFFIX + 16], code[8] = "<0x00>";
    static const char hex[] = "0123456789ABCDEF";
    if (!(t->sym_ids = XLSTM__CAST(int32_t *, xlstm__tok_arr(&t->alloc, 4 * 256 * per, 4))))
        return xlstm__fail(L->err, XLSTM_ERR_NOMEM, "%s: out of memory", L->what);
    t->sym_max = 1;
    for (v = 0; v < 4; v++) {
        for (b = 0; b < 256; b++) {
            size_t n = 0;
            long id;
            if (v & 1) memcpy(s, L->prefix, L->prefix_len), n = L->prefix_len;
            n += xlstm__tok_put_utf8(XLSTM__CAST(unsigned char *, XLSTM__CAST(void *, s + n)), t->bchar[b]);
            if (v & 2) memcpy(s + n, L->suffix, L->suffix_len), n += L->suffix_len;
            t->sym_off[v][b] = XLSTM__CAST(uint32_t, used);
            t->sym_n[v][b] = 0;
            t->sym_kind[v][b] = XLSTM__TOK_SYM_UNK;
            if ((id = xlstm__tok_vocab_find(t, s, n)) >= 0) {
                t->sym_kind[v][b] = XLSTM__TOK_SYM_ID;
                t->sym_n[v][b] = 1;
                t->sym_ids[used++] = XLSTM__CAST(int32_t, id);
                continue;
            }
            if (!L->byte_fallback) continue;
            for (k = 0; k < n; k++) { /* "<0xAB>" for every byte of s, or nothing */
                code[3] = hex[XLSTM__CAST(unsigned char, s[k]) >> 4];
                code[4] = hex[XLSTM__CAST(unsigned char, s[k]) & 15];
                if ((id = xlstm__tok_vocab_find(t, code, 6)) < 0) break;
                t->sym_ids[used + k] = XLSTM__CAST(int32_t, id);
            }
            if (k < n) continue;
            t->sym_kind[v][b] = XLSTM__TOK_SYM_BYTES;
            t->sym_n[v][b] = XLSTM__CAST(unsigned char, n);
            used += n;
            if (n > t->sym_max) t->sym_max = n;
        }
    }
    return XLSTM_OK;
}

/* Byte-level decoding of a token string: every character back to its byte,
   or, if one is not a byte stand-in, the UTF-8 as it is (HF's decoder). */
static size_t xlstm__tok_unbyte(const int16_t *rev, const unsigned char *s, size_t n, unsigned char *out) {
    size_t i = 0, o = 0;
    while (i < n) {
        uint32_t cp;
        int k = xlstm__tok_utf8(s + i, n - i, &cp);
        if (k <= 0 || cp >= 0x144 || rev[cp] < 0) break;
        out[o++] = XLSTM__CAST(unsigned char, rev[cp]);
        i += XLSTM__CAST(size_t, k);
    }
    if (i < n) {
        memcpy(out, s, n);
        return n;
    }
    return o;
}

static int xlstm__tok_trie_build(const xlstm__alloc *a, xlstm__tok_trie *tr, const xlstm_tokenizer *t, int normalized) {
    size_t k, total = 1, i;
    for (k = 0; k < t->n_added; k++)
        if (t->added[k].normalized == normalized) total += t->added[k].nlen;
    memset(tr, 0, sizeof *tr);
    if (total == 1) return 1;
    if (!xlstm__tok_imap_init(a, &tr->edge, total) ||
        !(tr->term = XLSTM__CAST(int32_t *, xlstm__tok_arr(a, total, 4))))
        return 0;
    tr->n_nodes = 1;
    tr->term[0] = -1;
    for (k = 0; k < t->n_added; k++) {
        const xlstm__tok_added *ad = &t->added[k];
        const unsigned char *p = t->added_blob + ad->noff;
        uint64_t node = 0;
        if (ad->normalized != normalized || ad->nlen == 0) continue;
        tr->first[p[0] >> 3] = XLSTM__CAST(unsigned char, tr->first[p[0] >> 3] | (1 << (p[0] & 7)));
        for (i = 0; i < ad->nlen; i++) {
            long e = xlstm__tok_imap_find(&tr->edge, node << 8 | p[i]);
            if (e >= 0) {
                node = tr->edge.a[e];
            } else {
                xlstm__tok_imap_put(&tr->edge, node << 8 | p[i], XLSTM__CAST(uint32_t, tr->n_nodes), 0);
                node = tr->n_nodes;
                tr->term[tr->n_nodes++] = -1;
            }
        }
        tr->term[node] = XLSTM__CAST(int32_t, k); /* the same pattern twice: the last wins */
    }
    return 1;
}

static int xlstm__tok_cmp_comp(const void *x, const void *y) {
    const uint64_t *a = XLSTM__CAST(const uint64_t *, x), *b = XLSTM__CAST(const uint64_t *, y);
    return *a < *b ? -1 : *a > *b;
}

/* Composition pairs and the quick-check bitmap, from the static tables. */
static int xlstm__tok_build_norm(xlstm_tokenizer *t) {
    size_t r, i, n = 0;
    uint64_t *pairs;
    uint32_t cp;
    if (!(t->qc = XLSTM__CAST(unsigned char *, xlstm__tok_arr(&t->alloc, 8192, 1)))) return 0;
    memset(t->qc, 0, 8192);
    if (t->norm == XLSTM__TOK_NORM_NONE) return 1;
    for (cp = 0; cp < 0x10000; cp++)
        if (xlstm__tok_qc_slow(t->norm, cp)) t->qc[cp >> 3] = XLSTM__CAST(unsigned char, t->qc[cp >> 3] | (1 << (cp & 7)));
    if (!(pairs = XLSTM__CAST(uint64_t *, xlstm__tok_arr(&t->alloc, sizeof xlstm__tok_dec_map / 4, 8)))) return 0;
    for (r = 0; r < sizeof xlstm__tok_dec_run / 4; r++) {
        uint32_t start = xlstm__tok_dec_run[r] >> 11, count = xlstm__tok_dec_run[r] & 0x7FF;
        for (i = 0; i < count; i++) {
            uint32_t map = xlstm__tok_dec_map[xlstm__tok_dec_off[r] + i], second = (map >> 21) & 0x7F;
            if (!second || (map >> 28)) continue; /* singleton or excluded */
            /* key, with the composite packed below for the sort */
            pairs[n++] = (XLSTM__CAST(uint64_t, map & 0x1FFFFF) << 21 | xlstm__tok_dec_b[second - 1]) << 21 |
                         (start + XLSTM__CAST(uint32_t, i));
        }
    }
    qsort(pairs, n, 8, xlstm__tok_cmp_comp);
    if (!(t->comp_key = XLSTM__CAST(uint64_t *, xlstm__tok_arr(&t->alloc, n, 8))) ||
        !(t->comp_val = XLSTM__CAST(uint32_t *, xlstm__tok_arr(&t->alloc, n, 4)))) {
        xlstm__free(&t->alloc, pairs);
        return 0;
    }
    for (i = 0; i < n; i++) {
        t->comp_key[i] = pairs[i] >> 21;
        t->comp_val[i] = XLSTM__CAST(uint32_t, pairs[i] & 0x1FFFFF);
    }
    t->n_comp = n;
    xlstm__free(&t->alloc, pairs);
    return 1;
}

/* Added tokens, with HF's id assignment: a content already known (added or
   in the vocabulary) keeps that id, any other takes the next free id after
   the vocabulary (entries, not max id) and the added ids so far. */
static xlstm_status xlstm__tok_build_added(xlstm__tok_load *L, uint32_t arr) {
    xlstm_tokenizer *t = L->t;
    const xlstm__json *j = L->j;
    size_t total = 8, used = 0, k, i, n;
    uint32_t e;
    int32_t next_id = XLSTM__CAST(int32_t, t->vocab.n);
    xlstm__tok_imap by_id;
    xlstm__tok_ctx cx;
    xlstm_status st = XLSTM_OK;
    if (!arr || j->tok[arr].type == XLSTM__J_NULL) return XLSTM_OK;
    if (j->tok[arr].type != XLSTM__J_ARR)
        return xlstm__fail(L->err, XLSTM_ERR_CONFIG, "%s: added_tokens must be an array", L->what);
    n = j->tok[arr].count;
    for (k = 0, e = arr + 1; k < n; k++, e = j->tok[e].next) {
        uint32_t c = j->tok[e].type == XLSTM__J_OBJ ? xlstm__jget(j, e, "content") : 0;
        if (!c || j->tok[c].type != XLSTM__J_STR)
            return xlstm__fail(L->err, XLSTM_ERR_CONFIG, "%s: added_tokens[%lu] needs a string \"content\"", L->what,
                               XLSTM__CAST(unsigned long, k));
        /* the content and its normalized form: NFC/NFD lengthen UTF-8 at most 3x */
        total += 4 * XLSTM__CAST(size_t, j->tok[c].end - j->tok[c].start) + 8;
    }
    if (!(t->added_blob = XLSTM__CAST(unsigned char *, xlstm__malloc(&t->alloc, total))) ||
        !(t->added = XLSTM__CAST(xlstm__tok_added *, xlstm__tok_arr(&t->alloc, n, sizeof(xlstm__tok_added)))) ||
        !xlstm__tok_smap_init(&t->alloc, &t->added_map, n))
        return xlstm__fail(L->err, XLSTM_ERR_NOMEM, "%s: out of memory for the added tokens", L->what);
    t->added_map.blob = t->added_blob;
    if (!xlstm__tok_imap_init(&t->alloc, &by_id, n)) {
        xlstm__tok_imap_free(&t->alloc, &by_id);
        return xlstm__fail(L->err, XLSTM_ERR_NOMEM, "%s: out of memory for the added tokens", L->what);
    }
    memset(&cx, 0, sizeof cx);
    cx.tok = t;
    cx.a = &t->alloc;
    for (k = 0, e = arr + 1; st == XLSTM_OK && k < n; k++, e = j->tok[e].next) {
        xlstm__tok_added ad;
        int special = 0, normalized, lstrip = 0, rstrip = 0, single_word = 0;
        long me, slot;
        size_t off = used;
        int32_t id;
        memset(&ad, 0, sizeof ad);
        if (!xlstm__tok_jstr_to(j, xlstm__jget(j, e, "content"), t->added_blob, total, &used, &ad.len)) {
            st = xlstm__fail(L->err, XLSTM_ERR_CONFIG, "%s: added_tokens[%lu]: bad content", L->what,
                             XLSTM__CAST(unsigned long, k));
            break;
        }
        ad.off = XLSTM__CAST(uint32_t, off);
        if (!xlstm__tok_jbool(L, e, "special", &special)) st = XLSTM_ERR_CONFIG;
        normalized = !special;
        if (st || !xlstm__tok_jbool(L, e, "normalized", &normalized) || !xlstm__tok_jbool(L, e, "lstrip", &lstrip) ||
            !xlstm__tok_jbool(L, e, "rstrip", &rstrip) || !xlstm__tok_jbool(L, e, "single_word", &single_word)) {
            st = XLSTM_ERR_CONFIG;
            break;
        }
        if (ad.len == 0) continue; /* HF ignores empty tokens */
        if (ad.len > XLSTM_TOKENIZER_MAX_ADDED_LEN) {
            st = xlstm__fail(L->err, XLSTM_ERR_UNSUPPORTED, "%s: added_tokens[%lu] is longer than %d bytes", L->what,
                             XLSTM__CAST(unsigned long, k), XLSTM_TOKENIZER_MAX_ADDED_LEN);
            break;
        }
        ad.special = XLSTM__CAST(unsigned char, special);
        ad.normalized = XLSTM__CAST(unsigned char, normalized);
        ad.lstrip = XLSTM__CAST(unsigned char, lstrip);
        ad.rstrip = XLSTM__CAST(unsigned char, rstrip);
        ad.single_word = XLSTM__CAST(unsigned char, single_word);
        me = xlstm__tok_smap_find(&t->added_map, t->added_blob + ad.off, ad.len);
        if (me >= 0) {
            id = t->added[t->added_map.val[me]].id;
        } else {
            long vi = xlstm__tok_smap_find(&t->vocab, t->added_blob + ad.off, ad.len);
            if (vi >= 0) id = t->vocab.val[vi];
            else if (next_id >= XLSTM_MAX_DIM) {
                st = xlstm__fail(L->err, XLSTM_ERR_CONFIG, "%s: too many added tokens", L->what);
                break;
            } else id = next_id++;
        }
        ad.id = id;
        ad.noff = ad.off;
        ad.nlen = ad.len;
        if (normalized && t->norm != XLSTM__TOK_NORM_NONE) { /* match the normalized form */
            const unsigned char *ns;
            size_t nn;
            if (!xlstm__tok_normalize(&cx, t->added_blob + ad.off, ad.len, &ns, &nn) || used + nn > total) {
                st = xlstm__fail(L->err, XLSTM_ERR_NOMEM, "%s: out of memory for the added tokens", L->what);
                break;
            }
            if (ns != t->added_blob + ad.off) {
                memcpy(t->added_blob + used, ns, nn);
                ad.noff = XLSTM__CAST(uint32_t, used);
                ad.nlen = XLSTM__CAST(uint32_t, nn);
                used += nn;
            }
        }
        /* one entry per id: a later token with the same id replaces it */
        slot = xlstm__tok_imap_find(&by_id, XLSTM__CAST(uint64_t, id));
        if (slot >= 0) {
            i = by_id.a[slot];
        } else {
            i = t->n_added++;
            xlstm__tok_imap_put(&by_id, XLSTM__CAST(uint64_t, id), XLSTM__CAST(uint32_t, i), 0);
        }
        t->added[i] = ad;
        xlstm__tok_smap_put(&t->added_map, ad.off, ad.len, XLSTM__CAST(int32_t, i));
        if (id >= t->n_vocab) t->n_vocab = id + 1;
    }
    xlstm__tok_ctx_free(&cx);
    xlstm__tok_imap_free(&t->alloc, &by_id);
    return st;
}

/* id -> bytes for every token; added tokens override the vocabulary. */
static xlstm_status xlstm__tok_build_bytes(xlstm__tok_load *L) {
    xlstm_tokenizer *t = L->t;
    size_t total = 1, used = 0, k, nv = XLSTM__CAST(size_t, t->n_vocab);
    int16_t rev[0x144];
    for (k = 0; k < 0x144; k++) rev[k] = -1;
    for (k = 0; k < 256; k++) rev[t->bchar[k]] = XLSTM__CAST(int16_t, k);
    for (k = 0; k < t->vocab.n; k++) total += t->vocab.len[k];
    for (k = 0; k < t->n_added; k++) total += t->added[k].nlen;
    if (!(t->tb_blob = XLSTM__CAST(unsigned char *, xlstm__malloc(&t->alloc, total))) ||
        !(t->tb_off = XLSTM__CAST(uint32_t *, xlstm__tok_arr(&t->alloc, nv, 4))) ||
        !(t->tb_len = XLSTM__CAST(uint32_t *, xlstm__tok_arr(&t->alloc, nv, 4))) ||
        !(t->tb_kind = XLSTM__CAST(unsigned char *, xlstm__tok_arr(&t->alloc, nv, 1))))
        return xlstm__fail(L->err, XLSTM_ERR_NOMEM, "%s: out of memory", L->what);
    memset(t->tb_kind, 0, nv);
    for (k = 0; k < t->vocab.n; k++) {
        int32_t id = t->vocab.val[k];
        size_t n = xlstm__tok_unbyte(rev, t->vocab_blob + t->vocab.off[k], t->vocab.len[k], t->tb_blob + used);
        t->tb_off[id] = XLSTM__CAST(uint32_t, used);
        t->tb_len[id] = XLSTM__CAST(uint32_t, n);
        t->tb_kind[id] = 1;
        used += n;
    }
    for (k = 0; k < t->n_added; k++) { /* HF decodes the normalized form */
        const xlstm__tok_added *ad = &t->added[k];
        size_t n = xlstm__tok_unbyte(rev, t->added_blob + ad->noff, ad->nlen, t->tb_blob + used);
        t->tb_off[ad->id] = XLSTM__CAST(uint32_t, used);
        t->tb_len[ad->id] = XLSTM__CAST(uint32_t, n);
        t->tb_kind[ad->id] = ad->special ? 3 : 2;
        used += n;
    }
    return XLSTM_OK;
}

static xlstm_status xlstm__tok_build(xlstm__tok_load *L) {
    xlstm_tokenizer *t = L->t;
    const xlstm__json *j = L->j;
    uint32_t model, ti;
    char type[32];
    xlstm_status st;
    int present, ignore = 0, fuse = 0;
    double dropout;
    if (j->tok[0].type != XLSTM__J_OBJ)
        return xlstm__fail(L->err, XLSTM_ERR_CONFIG, "%s: not a JSON object", L->what);
    ti = xlstm__jget(j, 0, "version");
    if (ti && !xlstm__jstr_eq(j, ti, "1.0"))
        return xlstm__fail(L->err, XLSTM_ERR_UNSUPPORTED, "%s: unknown tokenizer.json version", L->what);
    model = xlstm__jget(j, 0, "model");
    if (!model || j->tok[model].type != XLSTM__J_OBJ)
        return xlstm__fail(L->err, XLSTM_ERR_CONFIG, "%s: no \"model\" object", L->what);
    xlstm__tok_jtype(j, model, type, sizeof type);
    if (type[0] ? strcmp(type, "BPE") != 0 : !xlstm__jget(j, model, "merges"))
        return xlstm__fail(L->err, XLSTM_ERR_UNSUPPORTED, "%s: model type \"%s\" is not supported (only BPE)",
                           L->what, type);
    if ((st = xlstm__tok_parse_normalizer(L, xlstm__jget(j, 0, "normalizer"), 0)) != XLSTM_OK ||
        (st = xlstm__tok_parse_pretok(L, xlstm__jget(j, 0, "pre_tokenizer"))) != XLSTM_OK ||
        (st = xlstm__tok_check_decoder(L, xlstm__jget(j, 0, "decoder"))) != XLSTM_OK)
        return st;
    ti = xlstm__jget(j, model, "dropout");
    if (ti && j->tok[ti].type != XLSTM__J_NULL && !xlstm__jnum(j, ti, &dropout))
        return xlstm__fail(L->err, XLSTM_ERR_CONFIG, "%s: model.dropout must be a number or null", L->what);
    if (ti && j->tok[ti].type != XLSTM__J_NULL && dropout != 0) /* random: no reproducible ids */
        return xlstm__fail(L->err, XLSTM_ERR_UNSUPPORTED, "%s: BPE dropout is not supported", L->what);
    if (!xlstm__tok_jshort(L, model, "continuing_subword_prefix", L->prefix, sizeof L->prefix, &L->prefix_len,
                           &present) ||
        !xlstm__tok_jshort(L, model, "end_of_word_suffix", L->suffix, sizeof L->suffix, &L->suffix_len, &present) ||
        !xlstm__tok_jbool(L, model, "byte_fallback", &L->byte_fallback) ||
        !xlstm__tok_jbool(L, model, "ignore_merges", &ignore) || !xlstm__tok_jbool(L, model, "fuse_unk", &fuse))
        return XLSTM_ERR_CONFIG;
    t->ignore_merges = ignore;
    t->fuse_unk = fuse;
    if ((st = xlstm__tok_build_vocab(L, xlstm__jget(j, model, "vocab"))) != XLSTM_OK ||
        (st = xlstm__tok_build_merges(L, xlstm__jget(j, model, "merges"))) != XLSTM_OK)
        return st;
    t->unk_id = -1;
    ti = xlstm__jget(j, model, "unk_token");
    if (ti && j->tok[ti].type != XLSTM__J_NULL) {
        char unk[256];
        long n;
        if (j->tok[ti].type != XLSTM__J_STR || (n = xlstm__jstr_decode(j, ti, unk, sizeof unk)) < 0 ||
            (t->unk_id = XLSTM__CAST(int32_t, xlstm__tok_vocab_find(t, unk, XLSTM__CAST(size_t, n)))) < 0)
            return xlstm__fail(L->err, XLSTM_ERR_CONFIG, "%s: model.unk_token is not in the vocabulary", L->what);
    }
    for (ti = 0; ti < 256; ti++) t->bchar[ti] = XLSTM__CAST(uint16_t, xlstm__tok_byte_char(ti));
    if ((st = xlstm__tok_build_syms(L)) != XLSTM_OK) return st;
    if (!xlstm__tok_build_norm(t)) return xlstm__fail(L->err, XLSTM_ERR_NOMEM, "%s: out of memory", L->what);
    if ((st = xlstm__tok_build_added(L, xlstm__jget(j, 0, "added_tokens"))) != XLSTM_OK) return st;
    if (!xlstm__tok_trie_build(&t->alloc, &t->trie_raw, t, 0) || !xlstm__tok_trie_build(&t->alloc, &t->trie_norm, t, 1))
        return xlstm__fail(L->err, XLSTM_ERR_NOMEM, "%s: out of memory for the added tokens", L->what);
    if (t->n_vocab == 0) return xlstm__fail(L->err, XLSTM_ERR_CONFIG, "%s: empty vocabulary", L->what);
    return xlstm__tok_build_bytes(L);
}

static xlstm_status xlstm__tok_load_impl(const char *json, size_t len, const xlstm_model_params *params,
                                         const char *what, xlstm_tokenizer **out, xlstm_error *err) {
    xlstm__alloc a;
    xlstm__json j;
    xlstm__tok_load L;
    xlstm_tokenizer *t;
    xlstm_status st;
    size_t i;
    if ((st = xlstm__alloc_from_params(params, &a, err)) != XLSTM_OK) return st;
    for (i = 0; i < len;) { /* serde_json, hence HF, wants valid UTF-8 */
        uint32_t cp;
        int k = xlstm__tok_utf8(XLSTM__CAST(const unsigned char *, XLSTM__CAST(const void *, json)) + i, len - i, &cp);
        if (k <= 0)
            return xlstm__fail(err, XLSTM_ERR_JSON, "%s: invalid UTF-8 at byte %lu", what, XLSTM__CAST(unsigned long, i));
        i += XLSTM__CAST(size_t, k);
    }
    if ((st = xlstm__json_parse(&j, &a, json, len, what, err)) != XLSTM_OK) return st;
    t = XLSTM__CAST(xlstm_tokenizer *, xlstm__malloc(&a, sizeof *t));
    if (!t) {
        xlstm__free(&a, j.tok);
        return xlstm__fail(err, XLSTM_ERR_NOMEM, "%s: out of memory", what);
    }
    memset(t, 0, sizeof *t);
    t->alloc = a;
    memset(&L, 0, sizeof L);
    L.t = t;
    L.j = &j;
    L.what = what;
    L.err = err;
    st = xlstm__tok_build(&L);
    xlstm__free(&a, j.tok);
    if (st != XLSTM_OK) {
        xlstm_tokenizer_free(t);
        return st;
    }
    *out = t;
    return XLSTM_OK;
}

XLSTMDEF xlstm_status xlstm_tokenizer_load_from_memory(const char *json, size_t len, const xlstm_model_params *params,
                                                       xlstm_tokenizer **out, xlstm_error *err) {
    if (err) {
        err->status = XLSTM_OK;
        err->message[0] = 0;
    }
    if (!out) return xlstm__fail(err, XLSTM_ERR_ARG, "out is NULL");
    *out = NULL;
    if (!json && len) return xlstm__fail(err, XLSTM_ERR_ARG, "json is NULL");
    return xlstm__tok_load_impl(json, len, params, "tokenizer.json", out, err);
}

#ifndef XLSTM_NO_STDIO
XLSTMDEF xlstm_status xlstm_tokenizer_load(const char *path, const xlstm_model_params *params, xlstm_tokenizer **out,
                                           xlstm_error *err) {
    xlstm__alloc a;
    unsigned char *buf;
    size_t len;
    xlstm_status st;
    if (err) {
        err->status = XLSTM_OK;
        err->message[0] = 0;
    }
    if (!out) return xlstm__fail(err, XLSTM_ERR_ARG, "out is NULL");
    *out = NULL;
    if (!path) return xlstm__fail(err, XLSTM_ERR_ARG, "path is NULL");
    if ((st = xlstm__alloc_from_params(params, &a, err)) != XLSTM_OK) return st;
    if ((st = xlstm__read_file(&a, path, &buf, &len, err)) != XLSTM_OK) return st;
    st = xlstm__tok_load_impl(XLSTM__BYTES_AS_CHARS(buf), len, params, path, out, err);
    xlstm__free(&a, buf);
    return st;
}

#endif

/* ---- tokenizer: queries and decoding -------------------------------------- */

XLSTMDEF int32_t xlstm_tokenizer_n_vocab(const xlstm_tokenizer *t) { return t ? t->n_vocab : 0; }

XLSTMDEF int32_t xlstm_tokenizer_token_id(const xlstm_tokenizer *t, const char *s) {
    long e;
    size_t n;
    if (!t || !s) return -1;
    n = strlen(s);
    e = xlstm__tok_smap_find(&t->added_map, XLSTM__CAST(const unsigned char *, XLSTM__CAST(const void *, s)), n);
    if (e >= 0) return t->added[t->added_map.val[e]].id;
    return XLSTM__CAST(int32_t, xlstm__tok_vocab_find(t, s, n));
}

XLSTMDEF const char *xlstm_token_bytes(const xlstm_tokenizer *t, int32_t id, size_t *len) {
    if (len) *len = 0;
    if (!t || id < 0 || id >= t->n_vocab || !t->tb_kind[id]) return NULL;
    if (len) *len = t->tb_len[id];
    return XLSTM__BYTES_AS_CHARS(t->tb_blob + t->tb_off[id]);
}

XLSTMDEF int xlstm_token_is_special(const xlstm_tokenizer *t, int32_t id) {
    return t && id >= 0 && id < t->n_vocab && t->tb_kind[id] == 3;
}

static void xlstm__tok_out(char *out, size_t cap, size_t *o, const unsigned char *p, size_t n) {
    if (*o + n <= cap) memcpy(out + *o, p, n);
    *o += n;
}

XLSTMDEF size_t xlstm_utf8_stream_push(xlstm_utf8_stream *s, const char *bytes, size_t len, char *out,
                                       size_t out_cap) {
    static const unsigned char fffd[3] = {0xEF, 0xBF, 0xBD};
    const unsigned char *in = XLSTM__CAST(const unsigned char *, XLSTM__CAST(const void *, bytes));
    size_t o = 0, i = 0, written = 0;
    if (!s || (!bytes && len) || (!out && out_cap)) return 0;
    if (s->n_pending < 0 || s->n_pending > 3) s->n_pending = 0;
    /* complete the pending character first, one byte at a time */
    while (s->n_pending > 0 && i < len) {
        uint32_t cp;
        int k;
        s->pending[s->n_pending++] = in[i++];
        k = xlstm__tok_utf8(s->pending, XLSTM__CAST(size_t, s->n_pending), &cp);
        if (k == 0) continue;
        if (k > 0) {
            xlstm__tok_out(out, out_cap, &o, s->pending, XLSTM__CAST(size_t, k));
        } else { /* the invalid subpart -> U+FFFD; the byte after it goes back in */
            size_t back = XLSTM__CAST(size_t, s->n_pending + k);
            xlstm__tok_out(out, out_cap, &o, fffd, 3);
            i = back <= i ? i - back : 0; /* (more than one only if the caller garbled pending) */
        }
        s->n_pending = 0;
        if (o <= out_cap) written = o;
    }
    while (i < len) {
        uint32_t cp;
        int k = xlstm__tok_utf8(in + i, len - i, &cp);
        if (k == 0) { /* incomplete tail: keep it */
            memcpy(s->pending, in + i, len - i);
            s->n_pending = XLSTM__CAST(int, len - i);
            break;
        }
        if (k > 0) {
            xlstm__tok_out(out, out_cap, &o, in + i, XLSTM__CAST(size_t, k));
            i += XLSTM__CAST(size_t, k);
        } else {
            xlstm__tok_out(out, out_cap, &o, fffd, 3);
            i += XLSTM__CAST(size_t, -k);
        }
        if (o <= out_cap) written = o;
    }
    return written;
}

XLSTMDEF size_t xlstm_utf8_stream_flush(xlstm_utf8_stream *s, char *out, size_t out_cap) {
    int had;
    if (!s) return 0;
    had = s->n_pending > 0;
    s->n_pending = 0;
    if (!had || !out || out_cap < 3) return 0;
    out[0] = XLSTM__CAST(char, 0xEF);
    out[1] = XLSTM__CAST(char, 0xBF);
    out[2] = XLSTM__CAST(char, 0xBD);
    return 3;
}

#if defined(XLSTM_MMAP) && defined(_WIN32)
/* Windows mapping, last: <windows.h> defines macros (small, min, max, ...)
   that would otherwise reach the code above; lean and without min/max, so
   that less of it reaches the user's code after this include either. */
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#define XLSTM__UNDEF_LEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#define XLSTM__UNDEF_NOMINMAX
#endif
#include <windows.h>
#ifdef XLSTM__UNDEF_LEAN
#undef WIN32_LEAN_AND_MEAN
#undef XLSTM__UNDEF_LEAN
#endif
#ifdef XLSTM__UNDEF_NOMINMAX
#undef NOMINMAX
#undef XLSTM__UNDEF_NOMINMAX
#endif
static void xlstm__unmap(void *p, size_t n) {
    (void)n;
    UnmapViewOfFile(p);
}
/* Map a whole file read-only; 1 on success. The path is UTF-8. */
static int xlstm__map_file(const xlstm__alloc *a, const char *path, void **out, size_t *len) {
    HANDLE f, map;
    LARGE_INTEGER size;
    void *p = NULL;
    wchar_t *wpath;
    const int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, NULL, 0);
    if (n <= 0) return 0;
    wpath = XLSTM__CAST(wchar_t *, xlstm__malloc(a, XLSTM__CAST(size_t, n) * sizeof(wchar_t)));
    if (!wpath) return 0;
    f = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, wpath, n) == n
            ? CreateFileW(wpath, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL)
            : INVALID_HANDLE_VALUE;
    xlstm__free(a, wpath);
    if (f == INVALID_HANDLE_VALUE) return 0; /* directories too: they need FILE_FLAG_BACKUP_SEMANTICS */
    /* 64-bit size; it must fit size_t (a 32-bit process) */
    if (GetFileSizeEx(f, &size) && size.QuadPart > 0 &&
        XLSTM__CAST(unsigned long long, XLSTM__CAST(size_t, size.QuadPart)) == XLSTM__CAST(unsigned long long, size.QuadPart)) {
        map = CreateFileMappingW(f, NULL, PAGE_READONLY, 0, 0, NULL);
        if (map) {
            p = MapViewOfFile(map, FILE_MAP_READ, 0, 0, 0);
            CloseHandle(map); /* the view keeps the mapping alive */
        }
    }
    CloseHandle(f);
    if (!p) return 0;
    *out = p;
    *len = XLSTM__CAST(size_t, size.QuadPart);
    return 1;
}
#endif

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
