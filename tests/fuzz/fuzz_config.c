/* libFuzzer target: byte 0 picks a fixture model (tests/data) and load
   options (bit 7: the (1 + size % 24)-th allocation fails); the rest is its config JSON -> xlstm_model_load_from_memory, then a
   few steps when it loads. Fixtures are read once from XLSTM_FUZZ_DATA
   (default: the tests/data directory this file was built against). */
#include "fuzz_common.h"

#ifndef XLSTM_FUZZ_DATA_DIR
#define XLSTM_FUZZ_DATA_DIR "tests/data"
#endif

static const char *const fixtures[] = {
    "mixed/model.safetensors",           "slstm_only/model.safetensors",
    "ref/f16_mlstm/model.safetensors",   "ref/bf16_mixed/model.safetensors",
    "ref/m_tied_both/model.safetensors", "ref/m_heads2_bs8_conv2_bias/model.safetensors",
    "ref/no_ffn/model.safetensors",      "large/caps_small/model.safetensors",
    "large/fused_bias/model.safetensors", "quant/mixed_q4.safetensors",
    "ref/s_only_relu2_cuda/model.safetensors", "large/no_out_norm/model.safetensors",
    "ref/m_tied_emb_only/model.safetensors",   "mlstm_only/model.safetensors",
    "large/heads1_v05/model.safetensors",      "ref/m_conv1_round_down/model.safetensors",
};
#define N_FIX (int)(sizeof fixtures / sizeof fixtures[0])
static unsigned char *fix_buf[N_FIX];
static size_t fix_len[N_FIX];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    const char *dir = getenv("XLSTM_FUZZ_DATA");
    int i;
    (void)argc, (void)argv;
    if (!dir) dir = XLSTM_FUZZ_DATA_DIR;
    for (i = 0; i < N_FIX; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, fixtures[i]);
        fix_buf[i] = fz_read_file(path, &fix_len[i]);
        if (!fix_buf[i]) {
            fprintf(stderr, "fuzz_config: cannot read %s (set XLSTM_FUZZ_DATA)\n", path);
            exit(1);
        }
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    xlstm_model_params p = xlstm_model_default_params();
    xlstm_model *m = NULL;
    xlstm_error err;
    xlstm__json j;
    xlstm__alloc a;
    int f;
    if (size < 1) return 0;
    f = data[0] % N_FIX;
    p.borrow_buffer = 1;
    p.skip_value_check = (data[0] >> 4) & 1;
    p.kernels = fz_kernels(data[0] >> 5);
    fz_fail_at = 0;
    if (data[0] & 0x80) { /* fail one allocation, picked by the input size */
        p.alloc_fn = fz_alloc, p.free_fn = fz_free;
        fz_fail_at = 1 + (long)(size % 24);
        fz_n_alloc = 0;
    }
    /* the bare parsers first (cheap, and reach configs no fixture matches) */
    memset(&a, 0, sizeof a);
    if (xlstm__json_parse(&j, &a, (const char *)data + 1, size - 1, "config", &err) == XLSTM_OK) {
        xlstm_config cfg;
        (void)xlstm__parse_config(&j, &cfg, &err);
        free(j.tok);
    }
    if (xlstm_model_load_from_memory(fix_buf[f], fix_len[f], (const char *)data + 1, size - 1, &p, &m, &err) ==
        XLSTM_OK) {
        (void)fz_exercise(m, data + 1, size - 1 > 8 ? 8 : size - 1);
        xlstm_model_free(m);
    } else if (m) {
        abort(); /* a failed load must leave *out_model NULL */
    }
    return 0;
}
