/* xlstm_web.c: the browser page's side of xlstm.h (make web). Compiled for
   wasm32-wasi as a reactor (no main); examples/web/worker.js calls these
   exports. The generation loop is examples/generate.c's, one token per call,
   so the same prompt, seed and settings give byte-identical text.

   Buffers cross as pointers into the module's memory: JS gets space with
   xw_alloc, copies bytes in, and passes the pointer. Every call that can fail
   returns a negative status and leaves a message for xw_error(). */
#define XLSTM_IMPLEMENTATION
#include "../../xlstm.h"

#include <stdlib.h>
#include <string.h>

#define EXPORT(name) __attribute__((export_name(#name)))

static char g_msg[sizeof(((xlstm_error *)0)->message) + 64];

static int fail(int status, const char *what) {
    size_t n = strlen(what) < sizeof g_msg - 1 ? strlen(what) : sizeof g_msg - 1;
    memcpy(g_msg, what, n);
    g_msg[n] = 0;
    return status < 0 ? status : -1;
}

EXPORT(xw_error) const char *xw_error(void) { return g_msg; }
EXPORT(xw_alloc) void *xw_alloc(size_t n) { return malloc(n ? n : 1); }
EXPORT(xw_free) void xw_free(void *p) { free(p); }

/* ---- language model --------------------------------------------------- */
static struct {
    xlstm_model *model;
    xlstm_state *state;
    xlstm_tokenizer *tok; /* NULL: byte-level (vocab 256) */
    void *weights;        /* the safetensors bytes, borrowed by the model */
    int32_t bos, eot, n_vocab;
    xlstm_sampler sampler;
    void *work;
    int32_t *history;
    size_t n_hist, hist_cap;
    const float *logits;
    xlstm_utf8_stream utf8;
    char *out; /* bytes of the latest token, for xw_lm_out */
    size_t out_cap;
} lm;

EXPORT(xw_lm_free) void xw_lm_free(void) {
    xlstm_state_free(lm.state);
    xlstm_model_free(lm.model);
    xlstm_tokenizer_free(lm.tok);
    free(lm.weights);
    free(lm.work);
    free(lm.history);
    free(lm.out);
    memset(&lm, 0, sizeof lm);
}

/* Load a language model. weights (from xw_alloc) becomes the module's: it is
   freed by xw_lm_free, also on failure. config may be NULL (the safetensors
   metadata carries it), tokenizer NULL for a byte-level model. Returns the
   vocabulary size. */
EXPORT(xw_lm_load)
int xw_lm_load(void *weights, size_t n, const char *config, size_t config_n, const char *tokenizer,
               size_t tokenizer_n) {
    xlstm_model_params p = xlstm_model_default_params();
    xlstm_error err;
    xlstm_status s;
    xw_lm_free();
    lm.weights = weights;
    p.borrow_buffer = 1;
    lm.bos = lm.eot = -1;
    if ((s = xlstm_model_load_from_memory(weights, n, config, config_n, &p, &lm.model, &err)) != XLSTM_OK) {
        xw_lm_free();
        return fail(s, err.message);
    }
    lm.n_vocab = xlstm_model_config(lm.model)->vocab_size;
    if (xlstm_model_config(lm.model)->arch == XLSTM_ARCH_TIREX) {
        xw_lm_free();
        return fail(XLSTM_ERR_ARG, "this is a TiRex forecaster: load it in the TiRex tab");
    }
    if (tokenizer) {
        if ((s = xlstm_tokenizer_load_from_memory(tokenizer, tokenizer_n, NULL, &lm.tok, &err)) != XLSTM_OK) {
            xw_lm_free();
            return fail(s, err.message);
        }
        if (xlstm_tokenizer_n_vocab(lm.tok) > lm.n_vocab) {
            xw_lm_free();
            return fail(XLSTM_ERR_CONFIG, "the tokenizer has more ids than the model");
        }
        /* as generate: stop at <|endoftext|>; xLSTM-7b starts from its BOS */
        lm.eot = xlstm_tokenizer_token_id(lm.tok, "<|endoftext|>");
        if (xlstm_model_config(lm.model)->arch == XLSTM_ARCH_LARGE) lm.bos = xlstm_model_config(lm.model)->large.bos_token_id;
    } else if (lm.n_vocab != 256) {
        xw_lm_free();
        return fail(XLSTM_ERR_CONFIG, "the model's vocabulary is not 256 bytes: pick its tokenizer.json too");
    }
    if ((s = xlstm_state_create(lm.model, &lm.state, &err)) != XLSTM_OK) {
        xw_lm_free();
        return fail(s, err.message);
    }
    lm.work = malloc(xlstm_sampler_work_size(lm.n_vocab));
    if (!lm.work) {
        xw_lm_free();
        return fail(XLSTM_ERR_NOMEM, "out of memory");
    }
    return lm.n_vocab;
}

EXPORT(xw_lm_n_params) double xw_lm_n_params(void) { return (double)xlstm_model_n_params(lm.model); }
EXPORT(xw_kernels) const char *xw_kernels(void) { return xlstm_model_kernels(lm.model); }

/* Start a completion: a fresh state, a sampler as generate sets it up
   (xlstm_sampler_init's defaults, then these settings; the RNG from the seed,
   given as two 32-bit halves), and the prompt fed. Room is made for
   n_predict tokens. Returns the number of prompt tokens. */
EXPORT(xw_lm_begin)
int xw_lm_begin(const char *prompt, size_t len, int n_predict, uint32_t seed_hi, uint32_t seed_lo, float temp,
                int top_k, float top_p, float min_p, float repeat_penalty, int repeat_last_n) {
    xlstm_sampler s;
    size_t n = len, i, need;
    xlstm_status st;
    if (!lm.model) return fail(XLSTM_ERR_ARG, "no model loaded");
    if (n_predict < 0) return fail(XLSTM_ERR_ARG, "bad token count");
    s = xlstm_sampler_init(((uint64_t)seed_hi << 32) | seed_lo);
    lm.sampler = xlstm_sampler_init(0);
    lm.sampler.rng = s.rng;
    lm.sampler.temperature = temp;
    lm.sampler.top_k = top_k;
    lm.sampler.top_p = top_p;
    lm.sampler.min_p = min_p;
    lm.sampler.repeat_penalty = repeat_penalty;
    lm.sampler.repeat_last_n = repeat_last_n;
    xlstm_state_reset(lm.state);
    memset(&lm.utf8, 0, sizeof lm.utf8);
    lm.logits = NULL;
    lm.n_hist = 0;
    if (lm.tok && xlstm_tokenize(lm.tok, prompt, len, NULL, 0, &n) != XLSTM_OK) return fail(XLSTM_ERR_NOMEM, "cannot encode the prompt");
    need = n + 2 + (size_t)n_predict;
    if (need > lm.hist_cap) {
        int32_t *h = (int32_t *)realloc(lm.history, need * sizeof(int32_t));
        if (!h) return fail(XLSTM_ERR_NOMEM, "out of memory");
        lm.history = h;
        lm.hist_cap = need;
    }
    if (lm.bos >= 0) lm.history[lm.n_hist++] = lm.bos;
    if (lm.tok) {
        if (xlstm_tokenize(lm.tok, prompt, len, lm.history + lm.n_hist, n, &n) != XLSTM_OK)
            return fail(XLSTM_ERR_NOMEM, "cannot encode the prompt");
    } else {
        for (i = 0; i < len; i++) lm.history[lm.n_hist + i] = (unsigned char)prompt[i];
    }
    lm.n_hist += n;
    if (lm.n_hist > 0 && (st = xlstm_prefill(lm.state, lm.history, lm.n_hist, NULL, &lm.logits)) != XLSTM_OK)
        return fail(st, xlstm_status_string(st));
    if (!lm.logits) { /* empty prompt: begin from BOS, or a newline */
        int32_t start = lm.bos >= 0 ? lm.bos : lm.tok ? 0 : 10;
        xlstm_step(lm.state, start, &lm.logits);
        lm.history[lm.n_hist++] = start;
    }
    return (int)lm.n_hist;
}

static int out_reserve(size_t need) {
    if (need > lm.out_cap) {
        char *o = (char *)realloc(lm.out, need);
        if (!o) return 0;
        lm.out = o;
        lm.out_cap = need;
    }
    return 1;
}

static size_t out_push(const char *bytes, size_t len) {
    if (!out_reserve(XLSTM_UTF8_STREAM_BOUND(len))) return 0;
    return xlstm_utf8_stream_push(&lm.utf8, bytes, len, lm.out, lm.out_cap);
}

/* Sample the next token and feed it back. Returns the number of bytes of text
   it completes (read them at xw_lm_out()), or -1 at the end of the text. */
EXPORT(xw_lm_next) int xw_lm_next(void) {
    int32_t tok;
    size_t n = 0, len;
    char b;
    const char *bytes = &b;
    if (!lm.logits || lm.n_hist >= lm.hist_cap) return -1;
    tok = xlstm_sample(&lm.sampler, lm.logits, lm.n_vocab, lm.history, lm.n_hist, lm.work);
    lm.history[lm.n_hist++] = tok;
    if (tok == lm.eot) return -1;
    if (!lm.tok) {
        b = (char)tok;
        n = out_push(&b, 1);
    } else if (!xlstm_token_is_special(lm.tok, tok) && (bytes = xlstm_token_bytes(lm.tok, tok, &len)) != NULL) {
        n = out_push(bytes, len);
    }
    if (xlstm_step(lm.state, tok, &lm.logits) != XLSTM_OK) lm.logits = NULL;
    return (int)n;
}

/* End of the completion: an incomplete UTF-8 tail. Returns its bytes at xw_lm_out(). */
EXPORT(xw_lm_flush) int xw_lm_flush(void) {
    if (!out_reserve(8)) return 0;
    return (int)xlstm_utf8_stream_flush(&lm.utf8, lm.out, lm.out_cap);
}

EXPORT(xw_lm_out) const char *xw_lm_out(void) { return lm.out; }

/* ---- TiRex ---------------------------------------------------------- */
static struct {
    xlstm_model *model;
    xlstm_state *state;
    void *weights;
} tx;

EXPORT(xw_tx_free) void xw_tx_free(void) {
    xlstm_state_free(tx.state);
    xlstm_model_free(tx.model);
    free(tx.weights);
    memset(&tx, 0, sizeof tx);
}

/* Load a TiRex model (model.ckpt bytes, or a converted .safetensors);
   weights is the module's from here on, as for xw_lm_load. Returns the
   number of quantiles. */
EXPORT(xw_tx_load) int xw_tx_load(void *weights, size_t n) {
    xlstm_model_params p = xlstm_model_default_params();
    xlstm_error err;
    xlstm_status s;
    xw_tx_free();
    tx.weights = weights;
    p.borrow_buffer = 1;
    if ((s = xlstm_model_load_from_memory(weights, n, NULL, 0, &p, &tx.model, &err)) != XLSTM_OK) {
        xw_tx_free();
        return fail(s, err.message);
    }
    if (xlstm_model_config(tx.model)->arch != XLSTM_ARCH_TIREX) {
        xw_tx_free();
        return fail(XLSTM_ERR_ARG, "not a TiRex forecaster");
    }
    if ((s = xlstm_state_create(tx.model, &tx.state, &err)) != XLSTM_OK) {
        xw_tx_free();
        return fail(s, err.message);
    }
    return xlstm_model_config(tx.model)->tirex.num_quantiles;
}

EXPORT(xw_tx_quantile) float xw_tx_quantile(int i) { return xlstm_model_config(tx.model)->tirex.quantiles[i]; }
EXPORT(xw_tx_context) int xw_tx_context(void) { return xlstm_model_config(tx.model)->tirex.train_ctx_len; }

/* Forecast one series of n values (NaN = missing) horizon steps ahead into
   quantiles (horizon * Q floats, [step][quantile]) and median (horizon). */
EXPORT(xw_tx_forecast) int xw_tx_forecast(const float *series, size_t n, int horizon, float *quantiles, float *median) {
    xlstm_status s;
    if (!tx.model) return fail(XLSTM_ERR_ARG, "no forecaster loaded");
    if ((s = xlstm_forecast(tx.state, &series, &n, 1, horizon, quantiles, median)) != XLSTM_OK)
        return fail(s, xlstm_status_string(s));
    return 0;
}
