/* The smallest useful program: load a model, feed a prompt, greedily continue.
   build: cc -O2 examples/minimal.c -lm -o minimal   run: ./minimal MODEL */
#define XLSTM_IMPLEMENTATION
#include "../xlstm.h"
#include <stdio.h>

int main(int argc, char **argv) {
    xlstm_model *model;
    xlstm_state *state;
    xlstm_error err;
    const float *logits;
    int32_t prompt[3] = {1, 2, 3}, token, i;
    if (argc < 2) return fprintf(stderr, "usage: %s MODEL\n", argv[0]), 2;
    if (xlstm_model_load(argv[1], NULL, &model, &err) != XLSTM_OK) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    if (xlstm_state_create(model, &state, &err) != XLSTM_OK) {
        fprintf(stderr, "%s\n", err.message);
        xlstm_model_free(model);
        return 1;
    }
    xlstm_prefill(state, prompt, 3, NULL, &logits);
    for (i = 0; i < 8; i++) {
        token = xlstm_argmax(logits, xlstm_model_config(model)->vocab_size);
        printf("%d ", token);
        xlstm_step(state, token, &logits);
    }
    printf("\n");
    xlstm_state_free(state);
    xlstm_model_free(model);
    return 0;
}
