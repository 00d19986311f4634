/* The implementation of xlstm.h as a translation unit of its own: the
   Makefile (and CMakeLists.txt) compile it once per flavour (build/xlstm.o,
   build/xlstm_omp.o with OpenMP) and link that object into every program
   that uses only the public API. Those programs keep their
   `#define XLSTM_IMPLEMENTATION` (each still builds alone with
   `cc prog.c -lm`) and are compiled with -DXLSTM_IMPLEMENTATION_DONE, the
   header's own guard, so that they see only the declarations. */
#if !defined(_WIN32) && !defined(_DEFAULT_SOURCE)
#define _DEFAULT_SOURCE /* with XLSTM_MMAP: madvise's MADV_HUGEPAGE for the mapped weights */
#endif
#define XLSTM_IMPLEMENTATION
#include "../xlstm.h"
