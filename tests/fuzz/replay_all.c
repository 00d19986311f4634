/* Replays saved fuzz inputs without libFuzzer (any compiler), the targets in
   one binary so that the library is compiled (with sanitizers) once:
   `replay_all TARGET FILE...` runs TARGET's LLVMFuzzerInitialize, if it has
   one, then each FILE through its LLVMFuzzerTestOneInput. make test replays
   every file of tests/fuzz/regressions/TARGET/ this way, and defines
   FZ_WITH_<TARGET> for the targets that have such files, so that only those
   are compiled in; with none defined, every target is. Each target is
   included with its entry points renamed; they share fuzz_common.h (and the
   library), which its include guard includes once. */
#if !defined(FZ_WITH_fuzz_safetensors) && !defined(FZ_WITH_fuzz_config) && !defined(FZ_WITH_fuzz_model) && \
    !defined(FZ_WITH_fuzz_state) && !defined(FZ_WITH_fuzz_tokenizer) && !defined(FZ_WITH_fuzz_ckpt)
#define FZ_WITH_fuzz_safetensors
#define FZ_WITH_fuzz_config
#define FZ_WITH_fuzz_model
#define FZ_WITH_fuzz_state
#define FZ_WITH_fuzz_tokenizer
#define FZ_WITH_fuzz_ckpt
#endif

#ifdef FZ_WITH_fuzz_safetensors
#define LLVMFuzzerTestOneInput fz_one_safetensors
#include "fuzz_safetensors.c"
#undef LLVMFuzzerTestOneInput
#endif
#ifdef FZ_WITH_fuzz_config
#define LLVMFuzzerInitialize fz_init_config
#define LLVMFuzzerTestOneInput fz_one_config
#include "fuzz_config.c"
#undef LLVMFuzzerInitialize
#undef LLVMFuzzerTestOneInput
#endif
#ifdef FZ_WITH_fuzz_model
#define LLVMFuzzerTestOneInput fz_one_model
#include "fuzz_model.c"
#undef LLVMFuzzerTestOneInput
#endif
#ifdef FZ_WITH_fuzz_state
#define LLVMFuzzerInitialize fz_init_state
#define LLVMFuzzerTestOneInput fz_one_state
#include "fuzz_state.c"
#undef LLVMFuzzerInitialize
#undef LLVMFuzzerTestOneInput
#endif
#ifdef FZ_WITH_fuzz_tokenizer
#define LLVMFuzzerInitialize fz_init_tokenizer
#define LLVMFuzzerTestOneInput fz_one_tokenizer
#include "fuzz_tokenizer.c"
#undef LLVMFuzzerInitialize
#undef LLVMFuzzerTestOneInput
#if !defined(XLSTM_HAS_TOKENIZER)
#define fz_init_tokenizer NULL
#endif
#endif
#ifdef FZ_WITH_fuzz_ckpt
#define LLVMFuzzerTestOneInput fz_one_ckpt
#include "fuzz_ckpt.c"
#undef LLVMFuzzerTestOneInput
#endif

static const struct {
    const char *name;
    int (*init)(int *argc, char ***argv);
    int (*one)(const uint8_t *data, size_t size);
} fz_targets[] = {
#ifdef FZ_WITH_fuzz_safetensors
    {"fuzz_safetensors", NULL, fz_one_safetensors},
#endif
#ifdef FZ_WITH_fuzz_config
    {"fuzz_config", fz_init_config, fz_one_config},
#endif
#ifdef FZ_WITH_fuzz_model
    {"fuzz_model", NULL, fz_one_model},
#endif
#ifdef FZ_WITH_fuzz_state
    {"fuzz_state", fz_init_state, fz_one_state},
#endif
#ifdef FZ_WITH_fuzz_tokenizer
    {"fuzz_tokenizer", fz_init_tokenizer, fz_one_tokenizer},
#endif
#ifdef FZ_WITH_fuzz_ckpt
    {"fuzz_ckpt", NULL, fz_one_ckpt},
#endif
};
#define FZ_N_TARGETS (sizeof fz_targets / sizeof fz_targets[0])

int main(int argc, char **argv) {
    size_t t;
    int i, n = 0;
    for (t = 0; t < FZ_N_TARGETS; t++)
        if (argc > 1 && !strcmp(argv[1], fz_targets[t].name)) break;
    if (t == FZ_N_TARGETS) {
        fprintf(stderr, "usage: replay_all TARGET FILE...; TARGET, as built:");
        for (t = 0; t < FZ_N_TARGETS; t++) fprintf(stderr, " %s", fz_targets[t].name);
        fprintf(stderr, "\n");
        return 2;
    }
    if (fz_targets[t].init) fz_targets[t].init(&argc, &argv);
    for (i = 2; i < argc; i++) {
        size_t len;
        unsigned char *buf = fz_read_file(argv[i], &len);
        if (!buf) {
            fprintf(stderr, "replay: cannot read %s\n", argv[i]);
            return 1;
        }
        fz_targets[t].one(buf, len);
        free(buf);
        n++;
    }
    printf("replayed %d inputs\n", n);
    return 0;
}
