# Windows: the test suite, generate and a > 4 GB XLSTM_MMAP model built with
# MinGW-w64 (static) and run under Wine; and the plain-C99 build (what MSVC
# compiles: no GNU extensions, scalar kernels). Included by the Makefile.
#   apt-get install --no-install-recommends gcc-mingw-w64-x86-64-win32 wine wine64
MINGW_CC ?= x86_64-w64-mingw32-gcc
WINE     ?= wine
WIN_DIR  := build/windows
# a private prefix; no Mono/Gecko prompts, no Wine chatter
WINE_ENV := WINEPREFIX=$(abspath $(WIN_DIR))/prefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
WIN_DEPS := xlstm.h tests/windows.mk
TEST_SRCS := tests/test_main.c tests/test_tokenizer.c tests/test_tirex.c tests/test_ckpt.c

.PHONY: windows-test check-plain-c

$(WIN_DIR):
	mkdir -p $(WIN_DIR)/wine/big $(WIN_DIR)/native/big

$(WIN_DIR)/test_xlstm.exe: $(TEST_SRCS) $(WIN_DEPS) | $(WIN_DIR)
	$(MINGW_CC) $(WARN) -Werror -O2 -static -o $@ tests/test_main.c -lm
# the MSVC configuration: plain C99, scalar kernels only
$(WIN_DIR)/test_xlstm_plain.exe: $(TEST_SRCS) $(WIN_DEPS) | $(WIN_DIR)
	$(MINGW_CC) $(WARN) -Werror -O2 -static -DXLSTM_NO_GNU_EXTENSIONS -o $@ tests/test_main.c -lm
$(WIN_DIR)/generate.exe: examples/generate.c $(WIN_DEPS) | $(WIN_DIR)
	$(MINGW_CC) $(WARN) -Werror -O2 -static -o $@ examples/generate.c -lm
# the pthread pool behind the parallel_for hook, on MinGW's winpthreads
$(WIN_DIR)/embed.exe: examples/embed.c $(WIN_DEPS) | $(WIN_DIR)
	$(MINGW_CC) $(WARN) -Werror -O2 -static -pthread -o $@ examples/embed.c -lm
# the loader is what this one tests: -O0 builds in a third of the time
$(WIN_DIR)/test_mmap_big.exe: tests/test_mmap_big.c $(WIN_DEPS) | $(WIN_DIR)
	$(MINGW_CC) $(WARN) -Werror -O0 -static -o $@ tests/test_mmap_big.c -lm
# native twins, same flags: generate's text must match byte for byte
$(WIN_DIR)/generate: examples/generate.c $(WIN_DEPS) | $(WIN_DIR)
	$(CC) $(WARN) -Werror -O2 -o $@ examples/generate.c -lm
$(WIN_DIR)/embed: examples/embed.c $(WIN_DEPS) | $(WIN_DIR)
	$(CC) $(WARN) -Werror -O2 -pthread -o $@ examples/embed.c -lm
$(WIN_DIR)/test_mmap_big: tests/test_mmap_big.c $(WIN_DEPS) | $(WIN_DIR)
	$(CC) $(WARN) -Werror -O0 -o $@ tests/test_mmap_big.c -lm

WIN_GEN := -m models/tiny-shakespeare -p "ROMEO:" -n 64 --seed 1
windows-test: $(WIN_DIR)/test_xlstm.exe $(WIN_DIR)/test_xlstm_plain.exe $(WIN_DIR)/generate.exe $(WIN_DIR)/embed.exe \
              $(WIN_DIR)/test_mmap_big.exe $(WIN_DIR)/generate $(WIN_DIR)/embed $(WIN_DIR)/test_mmap_big
	@# the Windows code as C++ too (there is no MinGW g++ here; clang++ uses MinGW's headers)
	@if command -v clang++ >/dev/null 2>&1; then echo "clang++ --target=x86_64-w64-mingw32: xlstm.h with XLSTM_MMAP as C++11"; \
	  printf '#define XLSTM_IMPLEMENTATION\n#include "xlstm.h"\n' | clang++ --target=x86_64-w64-mingw32 -std=c++11 -Wall -Wextra \
	    -Wpedantic -Werror -fsyntax-only -DXLSTM_MMAP -I. -x c++ - || exit 1; fi
	@test -d $(WIN_DIR)/prefix || { echo "wineboot (a new Wine prefix in $(WIN_DIR)/prefix)"; $(WINE_ENV) $(WINE) wineboot -i >/dev/null 2>&1; }
	$(WINE_ENV) $(WINE) $(WIN_DIR)/test_xlstm.exe > $(WIN_DIR)/test.log 2>&1 || { cat $(WIN_DIR)/test.log; exit 1; }
	@echo "kernel levels run: $$(grep -oE '^  (scalar|simd|avx[0-9a-z]*) ' $(WIN_DIR)/test.log | sort -u | tr -s ' \n' ' ')"; tail -1 $(WIN_DIR)/test.log
	$(WINE_ENV) $(WINE) $(WIN_DIR)/test_xlstm_plain.exe > $(WIN_DIR)/test_plain.log 2>&1 || { cat $(WIN_DIR)/test_plain.log; exit 1; }
	@tail -1 $(WIN_DIR)/test_plain.log
	@# the same seed and kernel level: the same text (Windows writes CRLF)
	$(WIN_DIR)/generate $(WIN_GEN) > $(WIN_DIR)/gen_native.txt 2>/dev/null
	$(WINE_ENV) $(WINE) $(WIN_DIR)/generate.exe $(WIN_GEN) 2>/dev/null | tr -d '\r' > $(WIN_DIR)/gen_wine.txt
	@test -s $(WIN_DIR)/gen_wine.txt && cmp $(WIN_DIR)/gen_native.txt $(WIN_DIR)/gen_wine.txt && \
	  echo "generate: the same $$(wc -c < $(WIN_DIR)/gen_wine.txt) bytes under Wine as natively"
	@# the NPCs on a winpthreads pool: the same lines as natively
	$(WIN_DIR)/embed > $(WIN_DIR)/embed_native.txt
	$(WINE_ENV) $(WINE) $(WIN_DIR)/embed.exe 2>/dev/null | tr -d '\r' > $(WIN_DIR)/embed_wine.txt
	@test -s $(WIN_DIR)/embed_wine.txt && cmp $(WIN_DIR)/embed_native.txt $(WIN_DIR)/embed_wine.txt && \
	  echo "embed: the same $$(wc -c < $(WIN_DIR)/embed_wine.txt) bytes under Wine as natively"
	$(WINE_ENV) $(WINE) $(WIN_DIR)/test_mmap_big.exe $(WIN_DIR)/wine
	$(WIN_DIR)/test_mmap_big $(WIN_DIR)/native

# Plain C99, the MSVC path (run by check-compile): XLSTM_NO_GNU_EXTENSIONS
# builds warning-free as C99 and C++, and no attribute, builtin, vector type,
# asm, statement expression or GCC pragma is left in the header's own lines
# once preprocessed. Macros stay unexpanded (-fdirectives-only: va_arg or
# isfinite may be builtins inside libc's headers; those are not looked at),
# comments are dropped. The last pass, without the macro, must find some.
PLAIN_BAD := __attribute__|__builtin|vector_size|__asm|\<asm\>|__extension__|typeof|\#pragma GCC|_Pragma\("GCC|__restrict|__inline|__int128|__label__|__declspec|\(\{
check-plain-c: | build
	printf '#define XLSTM_IMPLEMENTATION\n#include "xlstm.h"\n' | gcc -std=c99 -Wall -Wextra -Wpedantic -Werror -O2 \
	  -DXLSTM_NO_GNU_EXTENSIONS -DXLSTM_MMAP -I. -c -o build/plain_c.o -x c -
	printf '#define XLSTM_IMPLEMENTATION\n#include "xlstm.h"\n' | g++ -std=c++11 -Wall -Wextra -Wpedantic -Werror -O2 \
	  -DXLSTM_NO_GNU_EXTENSIONS -DXLSTM_MMAP -I. -c -o build/plain_cpp.o -x c++ -
	@for d in "" "-DXLSTM_MMAP" "-D_OPENMP=201511 -DXLSTM_STATIC" "-DXLSTM_NO_STDIO -DXLSTM_NO_MALLOC" control; do \
	  if [ "$$d" = control ]; then f=-DXLSTM_MMAP; else f="-DXLSTM_NO_GNU_EXTENSIONS $$d"; fi; \
	  gcc -std=c99 -E -fdirectives-only -DXLSTM_IMPLEMENTATION $$f -x c xlstm.h > build/plain_c.e || exit 1; \
	  awk '/^# [0-9]+ "/ { f = $$3; next } f == "\"xlstm.h\""' build/plain_c.e | gcc -E -fpreprocessed -dD -P -x c - > build/plain_c.i || exit 1; \
	  grep -q xlstm__kern_scalar build/plain_c.i || { echo "check-plain-c: the preprocessed header lacks its code"; exit 1; }; \
	  if [ "$$d" = control ]; then \
	    grep -qE '$(PLAIN_BAD)' build/plain_c.i || { echo "check-plain-c: finds no GNU C even in the GNU build"; exit 1; }; \
	  elif grep -nE '$(PLAIN_BAD)' build/plain_c.i; then echo "GNU C left with XLSTM_NO_GNU_EXTENSIONS $$d (above)"; exit 1; fi; \
	done; echo "check-plain-c: no GNU extension left in xlstm.h with XLSTM_NO_GNU_EXTENSIONS"
check-compile: check-plain-c
