// The header compiled as C++ (implementation included): must build warning-free.
#define XLSTM_IMPLEMENTATION
#include "../xlstm.h"

int main() {
    xlstm_model_params p = xlstm_model_default_params();
    xlstm_model *m = nullptr;
    xlstm_error err;
    xlstm_status s = xlstm_model_load("tests/data/mixed", &p, &m, &err);
    xlstm_model_free(m);
    return s == XLSTM_OK ? 0 : 1;
}
