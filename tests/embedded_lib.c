/* The library as a firmware build would compile it: no stdio, no heap, no
   SIMD (make checks with nm that it references no stdio or malloc symbol). */
#define XLSTM_NO_STDIO
#define XLSTM_NO_MALLOC
#define XLSTM_NO_SIMD
#define XLSTM_IMPLEMENTATION
#include "../xlstm.h"
