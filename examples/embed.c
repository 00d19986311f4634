/* embed: the game-engine pattern. One model, loaded once and shared; every
   NPC owns a small state and advances one token per frame, all NPCs in one
   batched step (the weights are read once per frame, not once per NPC).
   A save game stores each NPC's state blob; loading restores it exactly.
     build/embed [MODEL] */
#define XLSTM_IMPLEMENTATION
#include "../xlstm.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
        if (xlstm_state_create(model, &n->state, &err) != XLSTM_OK) {
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
    return rc;
}
