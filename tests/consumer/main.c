/* A project that uses xlstm.h as an installed or vendored dependency
   (tests/consumer/run.sh builds it through pkg-config, CMake find_package and
   CMake add_subdirectory). Loads nothing: prints the header's version and
   checks a few calls that need no model. */
#define XLSTM_IMPLEMENTATION
#include <xlstm.h>

#include <stdio.h>
#include <string.h>

int main(void) {
    xlstm_model_params p = xlstm_model_default_params();
    xlstm_model *m = NULL;
    xlstm_error err;
    /* a model that does not exist: an error with a message, no model */
    if (xlstm_model_load_from_memory("", 0, NULL, 0, &p, &m, &err) == XLSTM_OK || m || !err.message[0]) {
        fprintf(stderr, "consumer: an empty buffer loaded\n");
        return 1;
    }
    if (strcmp(xlstm_status_string(XLSTM_OK), xlstm_status_string(XLSTM_ERR_ARG)) == 0) return 1;
    printf("xlstm %s\n", XLSTM_VERSION_STRING);
    return 0;
}
