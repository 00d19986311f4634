/* libFuzzer target: bytes as one .safetensors file carrying its config in
   __metadata__["xlstm_config"] -> xlstm_model_load_from_memory (config NULL),
   then steps, prefill, batch and out-of-range tokens on a model that loads
   (a third of the sizes with fast prompts on).
   Oracle: logits must be finite when every weight is finite and moderate
   (|w| <= 4) and the config's eps values are not tiny. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    xlstm_model_params p = xlstm_model_default_params();
    xlstm_model *m = NULL;
    xlstm_error err;
    /* the libFuzzer buffer is used in place (borrow) so ASan sees overreads;
       options come from the hash of the size, not the bytes, to keep seeds valid */
    unsigned h = (unsigned)(size * 2654435761u);
    static unsigned char arena_buf[4 << 20];
    xlstm_arena arena;
    p.borrow_buffer = 1;
    p.kernels = fz_kernels(h >> 7);
    if ((h >> 12) % 4 == 0) { /* a quarter of the sizes: everything from a bounded arena */
        xlstm_arena_init(&arena, arena_buf + (h >> 20) % 16, 16384 + (size_t)(h >> 14) % (sizeof arena_buf - 16384 - 16));
        p = xlstm_arena_params(&arena);
        p.kernels = fz_kernels(h >> 7);
    }
    p.fast_prompts = (h >> 24) % 3 == 0; /* a third: the opt-in bf16 / int8 prompt products */
    if (xlstm_model_load_from_memory(data, size, NULL, 0, &p, &m, &err) == XLSTM_OK) {
        const xlstm_config *c = xlstm_model_config(m);
        int bad = fz_exercise(m, data + size / 2, 20);
        if (bad) {
            int eps_ok = c->arch != XLSTM_ARCH_LARGE || (c->large.norm_eps >= 1e-6f && c->large.eps >= 1e-6f);
            /* (fast prompts round activations to bf16, where the largest floats become inf) */
            if (eps_ok && !p.fast_prompts && fz_max_abs_weight(data, size) <= 4.0) fz_nonfinite("finite moderate weights");
        }
        xlstm_model_free(m);
    } else if (m) {
        abort();
    }
    return 0;
}
