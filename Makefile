# xlstm.h: `make` builds everything into build/, `make test` runs the tests.
CC      ?= cc
CXX     ?= c++
CFLAGS  ?= -O2 -g
WARN    := -std=c99 -Wall -Wextra -Wpedantic
PREFIX  ?= /usr/local
LDLIBS  := -lm
ifeq ($(OPENMP),1)
CFLAGS  += -fopenmp
endif

BINS := build/xlstm-logits build/xlstm-perplexity build/generate build/test_xlstm build/minimal

.PHONY: all test check-compile clean install sanitize run

all: $(BINS)

build:
	mkdir -p build

build/xlstm-logits: tools/logits.c xlstm.h | build
	$(CC) $(WARN) $(CFLAGS) -o $@ tools/logits.c $(LDLIBS)

build/xlstm-perplexity: tools/perplexity.c xlstm.h | build
	$(CC) $(WARN) $(CFLAGS) -o $@ tools/perplexity.c $(LDLIBS)

build/generate: examples/generate.c xlstm.h | build
	$(CC) $(WARN) $(CFLAGS) -o $@ examples/generate.c $(LDLIBS)

build/test_xlstm: tests/test_main.c xlstm.h | build
	$(CC) $(WARN) $(CFLAGS) -o $@ tests/test_main.c $(LDLIBS)

build/minimal: examples/minimal.c xlstm.h | build
	$(CC) $(WARN) $(CFLAGS) -o $@ examples/minimal.c $(LDLIBS)

# The header must build warning-free as C99 (gcc and clang), as C++ and in static mode.
check-compile: | build
	gcc   -std=c99 -Wall -Wextra -Wpedantic -Werror -O2 -o build/compile_gcc tests/compile_static.c -lm
	g++   -std=c++11 -Wall -Wextra -Wpedantic -Werror -O2 -o build/compile_cpp tests/compile_cpp.cpp -lm
	@if command -v clang >/dev/null; then \
	  echo clang -std=c99 -Wall -Wextra -Wpedantic -Werror tests/test_main.c; \
	  clang -std=c99 -Wall -Wextra -Wpedantic -Werror -O2 -o build/compile_clang tests/test_main.c -lm && \
	  clang++ -std=c++11 -Wall -Wextra -Wpedantic -Werror -O2 -o build/compile_clangxx tests/compile_cpp.cpp -lm; \
	else echo "clang not found: skipping the clang build"; fi
	./build/compile_gcc && ./build/compile_cpp

test: all check-compile
	./build/test_xlstm

# The test suite under AddressSanitizer + UndefinedBehaviorSanitizer.
sanitize: | build
	$(CC) $(WARN) -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all \
	  -o build/test_xlstm_asan tests/test_main.c $(LDLIBS)
	./build/test_xlstm_asan

# The bundled demo model completes a prompt.
run: build/generate
	./build/generate -m models/tiny-shakespeare -p "ROMEO:" -n 300 --seed 1

install: xlstm.h
	install -d $(DESTDIR)$(PREFIX)/include
	install -m 644 xlstm.h $(DESTDIR)$(PREFIX)/include/xlstm.h

clean:
	rm -rf build
