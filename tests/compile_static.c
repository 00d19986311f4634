/* XLSTM_STATIC: every function is static to this file, so two libraries in one
   program can each embed their own copy. Also includes the header twice. */
#define XLSTM_STATIC
#include "../xlstm.h"
#define XLSTM_IMPLEMENTATION
#include "../xlstm.h"
#include "../xlstm.h"

int main(void) {
    xlstm_model *m = NULL;
    xlstm_status s = xlstm_model_load("tests/data/mlstm_only", NULL, &m, NULL);
    xlstm_model_free(m);
    return s == XLSTM_OK ? 0 : 1;
}
