# xlstm.h: `make` builds the tools and examples into build/, `make test` builds and runs the tests.
CC      ?= cc
CXX     ?= c++
CFLAGS  ?= -O2 -g
WARN    := -std=c99 -Wall -Wextra -Wpedantic
PREFIX  ?= /usr/local
LDLIBS  := -lm
OMPFLAG ?= -fopenmp
ifeq ($(OPENMP),1)
CFLAGS  += $(OMPFLAG)
endif
# under -j each target's output comes out in one piece
MAKEFLAGS += --output-sync=target

# The implementation is compiled once per flavour, into build/xlstm.o and (with
# OpenMP) build/xlstm_omp.o, and linked by every program that uses only the
# public API. Those programs keep their `#define XLSTM_IMPLEMENTATION` (each
# still builds alone with `cc prog.c -lm`); LIBUSE, the header's own guard,
# makes the header skip the implementation there. The objects map weight files
# (XLSTM_MMAP, POSIX; `make LIBDEFS=` reads them into memory instead).
LIBDEFS ?= -DXLSTM_MMAP
LIBUSE  := -DXLSTM_IMPLEMENTATION_DONE
LIB     := build/xlstm.o
LIB_OMP := build/xlstm_omp.o
LINK     = $(CC) $(WARN) $(CFLAGS) $(LIBUSE) -o $@ $< $(LIB) $(LDLIBS)
LINK_OMP = $(CC) $(WARN) $(CFLAGS) $(OMPFLAG) $(LIBUSE) -o $@ $< $(LIB_OMP) $(LDLIBS)

# the tools and examples (the longest builds first, for -j); the test binaries are built by `make test`
BINS := build/xlstm-bench build/xlstm-quantize build/xlstm-logits build/xlstm-perplexity build/xlstm-stream \
        build/xlstm-tokenize build/generate build/embed build/minimal build/xlstm-forecast
TEST_SRCS := tests/test_main.c tests/test_tokenizer.c tests/test_tirex.c tests/test_ckpt.c

.PHONY: all test test-unit test-omp test-threads test-cli check-compile check-embedded check-fuzz-regressions \
        consumer-test tsan clean install sanitize valgrind fuzz run bench bench-tirex cortex-m4 cross-test wasm-test

all: $(LIB) $(LIB_OMP) $(BINS)

build:
	mkdir -p build

$(LIB): tools/xlstm_impl.c xlstm.h | build
	$(CC) $(WARN) $(CFLAGS) $(LIBDEFS) -c -o $@ tools/xlstm_impl.c

$(LIB_OMP): tools/xlstm_impl.c xlstm.h | build
	$(CC) $(WARN) $(CFLAGS) $(OMPFLAG) $(LIBDEFS) -c -o $@ tools/xlstm_impl.c

build/xlstm-logits: tools/logits.c $(LIB)
	$(LINK)

build/xlstm-perplexity: tools/perplexity.c $(LIB)
	$(LINK)

build/xlstm-tokenize: tools/tokenize.c $(LIB)
	$(LINK)

build/xlstm-stream: tools/stream.c $(LIB)
	$(LINK)

build/generate: examples/generate.c $(LIB)
	$(LINK)

build/embed: examples/embed.c $(LIB)
	$(LINK) -pthread

build/minimal: examples/minimal.c $(LIB)
	$(LINK)

# TiRex forecasts; OpenMP so that -t THREADS means something
build/xlstm-forecast: examples/forecast.c $(LIB_OMP)
	$(LINK_OMP)

# its own implementation, forking every parallel loop (the test models are
# tiny); and in plain C99, where there are no atomics and each task keeps to
# its static share of every loop
build/test_threads: tests/test_threads.c xlstm.h | build
	$(CC) $(WARN) $(CFLAGS) -pthread -DXLSTM_PARALLEL_MIN_WORK=0 -o $@ $< $(LDLIBS)

build/test_threads_plain: tests/test_threads.c xlstm.h | build
	$(CC) $(WARN) $(CFLAGS) -pthread -DXLSTM_PARALLEL_MIN_WORK=0 -DXLSTM_NO_GNU_EXTENSIONS -o $@ $< $(LDLIBS)

# These call the header's static internals, so each compiles the implementation
# itself; the tools in static mode (XLSTM_STATIC), where the compiler drops what
# they do not use: xlstm-quantize builds in a third of the time.
build/xlstm-quantize: tools/quantize.c tools/st_writer.h xlstm.h | build
	$(CC) $(WARN) $(CFLAGS) -DXLSTM_STATIC -o $@ tools/quantize.c $(LDLIBS)

# the benchmark always uses OpenMP so that -t THREADS means something
build/xlstm-bench: tools/bench.c tools/st_writer.h xlstm.h | build
	$(CC) $(WARN) $(CFLAGS) $(OMPFLAG) -pthread -DXLSTM_STATIC -o $@ tools/bench.c $(LDLIBS)

build/test_xlstm: $(TEST_SRCS) xlstm.h | build
	$(CC) $(WARN) $(CFLAGS) -o $@ tests/test_main.c $(LDLIBS)

build/test_xlstm_omp: $(TEST_SRCS) xlstm.h | build
	$(CC) $(WARN) $(CFLAGS) $(OMPFLAG) -o $@ tests/test_main.c $(LDLIBS)

# The header must build warning-free as C99 (gcc and clang), as C++ and in static mode.
HAVE_CLANG := $(shell command -v clang 2>/dev/null)
check-compile: build/compile_gcc build/compile_cpp build/readme_example $(if $(HAVE_CLANG),build/compile_clang build/compile_clangxx)
	@$(if $(HAVE_CLANG),:,echo "clang not found: skipping the clang build")
	./build/compile_gcc && ./build/compile_cpp

build/compile_gcc: tests/compile_static.c xlstm.h | build
	gcc   -std=c99 -Wall -Wextra -Wpedantic -Werror -O2 -o $@ tests/compile_static.c -lm

build/compile_cpp: tests/compile_cpp.cpp xlstm.h | build
	g++   -std=c++11 -Wall -Wextra -Wpedantic -Werror -O2 -o $@ tests/compile_cpp.cpp -lm

# clang warns from its front end whatever the optimisation level (gcc warns
# from its optimisers too), so its builds, never run, are -O0: 1 s, not 10 s
build/compile_clang: $(TEST_SRCS) xlstm.h | build
	clang -std=c99 -Wall -Wextra -Wpedantic -Werror -O0 -o $@ tests/test_main.c -lm

build/compile_clangxx: tests/compile_cpp.cpp xlstm.h | build
	clang++ -std=c++11 -Wall -Wextra -Wpedantic -Werror -O0 -o $@ tests/compile_cpp.cpp -lm

# the README's embedding example must compile as printed
build/readme_example: README.md xlstm.h | build
	sed -n '/^```c$$/,/^```$$/p' README.md | sed '1d;$$d' > build/readme_example.c
	$(CC) $(WARN) -Werror -I. -o $@ build/readme_example.c -lm

# The heap-less, stdio-less build: no stdio or malloc symbol may appear, and
# the exact arena size must be exactly enough.
check-embedded: build/embedded
	@if nm -u build/embedded_lib.o | grep -E ' (malloc|calloc|realloc|free|fopen|fread|printf|fprintf|snprintf|vsnprintf|puts|abort|exit)$$'; then \
	  echo "the embedded build references stdio/heap/exit symbols above"; exit 1; fi
	./build/embedded

build/embedded_lib.o: tests/embedded_lib.c xlstm.h | build
	$(CC) $(WARN) -Werror -O2 -c -o $@ tests/embedded_lib.c

build/embedded: tests/embedded_main.c build/embedded_lib.o
	$(CC) $(WARN) -O2 -o $@ tests/embedded_main.c build/embedded_lib.o $(LDLIBS)

# Cortex-M4F firmware build of the library (no stdio, no heap): warnings are errors; prints the code size.
ARM_CC ?= arm-none-eabi-gcc
cortex-m4: | build
	$(ARM_CC) -std=c99 -Wall -Wextra -Wpedantic -Werror -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 -Os \
	  -ffunction-sections -fdata-sections -c -o build/xlstm-cortex-m4.o tests/embedded_lib.c
	arm-none-eabi-size build/xlstm-cortex-m4.o

# The test suite on aarch64 and armhf (NEON) under qemu-user: static binaries, no sysroot needed.
cross-test: | build
	aarch64-linux-gnu-gcc $(WARN) -O2 -static -o build/test_xlstm_aarch64 tests/test_main.c -lm
	qemu-aarch64 ./build/test_xlstm_aarch64
	arm-linux-gnueabihf-gcc $(WARN) -O2 -static -mfpu=neon -o build/test_xlstm_armhf tests/test_main.c -lm
	qemu-arm ./build/test_xlstm_armhf

# The test suite compiled for wasm32-wasi (with SIMD128) and run under Node's WASI.
WASI_CC ?= clang --target=wasm32-wasi --sysroot=/usr -isystem /usr/include/wasm32-wasi -L/usr/lib/wasm32-wasi
wasm-test: | build
	$(WASI_CC) $(WARN) -O2 -msimd128 -o build/test_xlstm.wasm tests/test_main.c -lm
	node tests/wasi_run.js build/test_xlstm.wasm

# Every input a fuzzer ever crashed on, replayed under ASan+UBSan (no libFuzzer
# needed): one binary holds every target that has saved inputs, so the library
# is compiled once.
FUZZ_TARGETS := fuzz_safetensors fuzz_config fuzz_model fuzz_state fuzz_tokenizer fuzz_ckpt
FUZZ_REPLAYED = $(foreach t,$(FUZZ_TARGETS),$(if $(wildcard tests/fuzz/regressions/$(t)/*),$(t)))
SANFLAGS := -O1 -g -fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=all -fno-omit-frame-pointer
build/replay_fuzz: tests/fuzz/replay_all.c $(FUZZ_TARGETS:%=tests/fuzz/%.c) tests/fuzz/fuzz_common.h tools/st_writer.h xlstm.h \
                   $(wildcard tests/fuzz/regressions/*/*) | build
	$(CC) -std=c99 $(SANFLAGS) -I. -DXLSTM_FUZZ_DATA_DIR="\"$$PWD/tests/data\"" $(FUZZ_REPLAYED:%=-DFZ_WITH_%) \
	  -o $@ tests/fuzz/replay_all.c -lm

check-fuzz-regressions: build/replay_fuzz
	@for t in $(FUZZ_REPLAYED); do \
	  printf '%s: ' $$t && ./build/replay_fuzz $$t tests/fuzz/regressions/$$t/* || exit 1; done

# libFuzzer: every target for FUZZ_SECONDS each (clang with libclang-rt), two at a time.
# FUZZ_SEED=0 draws a fresh seed each run (exploring); CI passes a fixed seed so
# that its verdict can be replayed on any machine (a fixed seed and a clean
# corpus walk the same inputs, only faster or slower).
FUZZ_SECONDS ?= 60
FUZZ_JOBS ?= 2
FUZZ_SEED ?= 0
fuzz: | build
	@printf '%s\n' $(FUZZ_TARGETS) | xargs -P $(FUZZ_JOBS) -I{} sh -c \
	  'FUZZ_NICE=0 tests/fuzz/run.sh {} $(FUZZ_SECONDS) -seed=$(FUZZ_SEED) > build/fuzz-{}.log 2>&1 && echo "{}: $$(grep -Eo "stat::number_of_executed_units: *[0-9]+" build/fuzz-{}.log | grep -Eo "[0-9]+$$") runs, no crash" || { tail -40 build/fuzz-{}.log; exit 1; }'

# Each suite is a target of its own, so that `make -j2 test` runs them side by
# side; the longest builds come first.
test: check-fuzz-regressions test-unit test-omp all check-compile check-embedded test-threads test-cli

test-omp: build/test_xlstm_omp
	OMP_NUM_THREADS=2 ./build/test_xlstm_omp threads

test-threads: build/test_threads build/test_threads_plain
	./build/test_threads
	./build/test_threads_plain

test-cli: all
	tests/test_cli.sh

test-unit: build/test_xlstm
	./build/test_xlstm

# The test suite (and the heap-less build) under AddressSanitizer + UndefinedBehaviorSanitizer.
sanitize: | build
	$(CC) $(WARN) $(SANFLAGS) -o build/test_xlstm_asan tests/test_main.c $(LDLIBS)
	./build/test_xlstm_asan
	$(CC) $(WARN) $(SANFLAGS) -o build/embedded_asan tests/embedded_main.c tests/embedded_lib.c $(LDLIBS)
	./build/embedded_asan

# ThreadSanitizer (clang): threads sharing one model, LMs and TiRex, and the
# parallel_for hook on a pthread pool (libgomp is not instrumented, so this
# covers the pthread paths, not OpenMP's).
tsan: | build
	clang $(WARN) -O1 -g -fsanitize=thread -pthread -DXLSTM_PARALLEL_MIN_WORK=0 -o build/test_threads_tsan tests/test_threads.c $(LDLIBS)
	./build/test_threads_tsan

# valgrind memcheck over the test suite and one generate run: 0 errors, 0 leaks.
VALGRIND := valgrind --error-exitcode=9 --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect -q
valgrind: build/test_xlstm build/generate
	XLSTM_TEST_KERNELS=scalar,simd $(VALGRIND) ./build/test_xlstm '!long' '!tok_files' '!allocation_failures' > build/valgrind-tests.log; tail -1 build/valgrind-tests.log
	$(VALGRIND) ./build/generate -m models/tiny-shakespeare -p "ROMEO:" -n 32 --seed 1 > /dev/null

# Speed against this machine's read bandwidth: a 125M-parameter xLSTM[7:1] in
# each storage type, 1 and 2 threads, then batched decoding. BENCH_7B=1 adds the
# 7B shape (needs ~15 GB of memory for bf16).
BENCH_THREADS ?= 2
bench: build/xlstm-bench
	@./build/xlstm-bench --cpu
	@for d in f32 bf16 q8 q4; do for t in 1 $(BENCH_THREADS); do \
	  ./build/xlstm-bench --random 125M --dtype $$d -t $$t --tokens 32 --prefill 512 | tail -1; done; done
	@for b in 4 16; do ./build/xlstm-bench --random 125M --dtype bf16 -t $(BENCH_THREADS) --batch $$b --tokens 8 --prefill 0 | tail -1; done
	@if [ "$(BENCH_7B)" = 1 ]; then for d in bf16 q8 q4; do \
	  ./build/xlstm-bench --random xlstm-7b --dtype $$d -t $(BENCH_THREADS) --tokens 4 --prefill 0 | tail -1; done; fi

# TiRex forecast and streaming-step latency: the released shape (35.3M
# parameters, random weights) in f32 and int8, 1 and 32 series of 2048
# values, horizons 32 and 256, 1 and BENCH_THREADS threads.
bench-tirex: build/xlstm-bench
	@./build/xlstm-bench --cpu
	@for d in f32 q8; do for b in 1 32; do for h in 32 256; do for t in 1 $(BENCH_THREADS); do \
	  ./build/xlstm-bench --random tirex --dtype $$d --batch $$b --horizon $$h -t $$t | tail -1; done; done; done; done

# The bundled demo model completes a prompt.
run: build/generate
	./build/generate -m models/tiny-shakespeare -p "ROMEO:" -n 300 --seed 1

# The TiRex demo model forecasts its held-out series and draws them.
.PHONY: forecast-demo
forecast-demo: build/xlstm-forecast
	./build/xlstm-forecast -m models/tirex-demo -f models/tirex-demo/heldout.csv -H 24 --plot build/forecast-demo.svg

include examples/web/web.mk

# The header into $(PREFIX)/include and a pkg-config file (version from the header's
# XLSTM_VERSION_* macros) into $(PREFIX)/lib/pkgconfig; DESTDIR stages it.
install: xlstm.h tools/xlstm.pc.in
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 xlstm.h $(DESTDIR)$(PREFIX)/include/xlstm.h
	@v=; for p in MAJOR MINOR PATCH; do \
	  n=$$(sed -n "s/^.define XLSTM_VERSION_$$p \([0-9][0-9]*\).*/\1/p" xlstm.h); \
	  [ -n "$$n" ] || { echo "install: no XLSTM_VERSION_$$p in xlstm.h"; exit 1; }; v=$$v$${v:+.}$$n; done; \
	echo "xlstm.pc: version $$v, prefix $(PREFIX)"; \
	sed -e 's|@XLSTM_PC_PREFIX@|$(PREFIX)|g' -e 's|@XLSTM_PC_INCLUDEDIR@|$${prefix}/include|g' \
	    -e "s|@XLSTM_PC_VERSION@|$$v|g" tools/xlstm.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/xlstm.pc
	chmod 644 $(DESTDIR)$(PREFIX)/lib/pkgconfig/xlstm.pc

# A project that uses the installed or vendored header three ways: pkg-config
# over `make install`, CMake find_package over CMake's install, CMake add_subdirectory.
consumer-test:
	tests/consumer/run.sh

clean:
	rm -rf build
include tests/windows.mk
