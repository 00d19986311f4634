# xlstm.h: `make` builds everything into build/, `make test` runs the tests.
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

BINS := build/xlstm-logits build/xlstm-perplexity build/xlstm-quantize build/xlstm-bench build/xlstm-stream \
        build/xlstm-tokenize build/generate build/embed build/test_xlstm build/minimal build/xlstm-forecast

.PHONY: all test check-compile check-embedded check-fuzz-regressions clean install sanitize valgrind fuzz run bench bench-tirex cortex-m4 cross-test wasm-test

all: $(BINS)

build:
	mkdir -p build

build/xlstm-logits: tools/logits.c xlstm.h | build
	$(CC) $(WARN) $(CFLAGS) -o $@ tools/logits.c $(LDLIBS)

build/xlstm-perplexity: tools/perplexity.c xlstm.h | build
	$(CC) $(WARN) $(CFLAGS) -o $@ tools/perplexity.c $(LDLIBS)

build/xlstm-tokenize: tools/tokenize.c xlstm.h | build
	$(CC) $(WARN) $(CFLAGS) -o $@ tools/tokenize.c $(LDLIBS)

build/xlstm-stream: tools/stream.c xlstm.h | build
	$(CC) $(WARN) $(CFLAGS) -o $@ tools/stream.c $(LDLIBS)

build/xlstm-quantize: tools/quantize.c tools/st_writer.h xlstm.h | build
	$(CC) $(WARN) $(CFLAGS) -o $@ tools/quantize.c $(LDLIBS)

# the benchmark always uses OpenMP so that -t THREADS means something
build/xlstm-bench: tools/bench.c tools/st_writer.h xlstm.h | build
	$(CC) $(WARN) $(CFLAGS) $(OMPFLAG) -o $@ tools/bench.c $(LDLIBS)

# TiRex forecasts; OpenMP so that -t THREADS means something
build/xlstm-forecast: examples/forecast.c xlstm.h | build
	$(CC) $(WARN) $(CFLAGS) $(OMPFLAG) -o $@ examples/forecast.c $(LDLIBS)

build/test_xlstm_omp: tests/test_main.c tests/test_tokenizer.c tests/test_tirex.c tests/test_ckpt.c xlstm.h | build
	$(CC) $(WARN) $(CFLAGS) $(OMPFLAG) -o $@ tests/test_main.c $(LDLIBS)

build/embed: examples/embed.c xlstm.h | build
	$(CC) $(WARN) $(CFLAGS) -o $@ examples/embed.c $(LDLIBS)

build/test_threads: tests/test_threads.c xlstm.h | build
	$(CC) $(WARN) $(CFLAGS) -pthread -o $@ tests/test_threads.c $(LDLIBS)

build/generate: examples/generate.c xlstm.h | build
	$(CC) $(WARN) $(CFLAGS) -o $@ examples/generate.c $(LDLIBS)

build/test_xlstm: tests/test_main.c tests/test_tokenizer.c tests/test_tirex.c tests/test_ckpt.c xlstm.h | build
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
	@# the README's embedding example must compile as printed
	sed -n '/^```c$$/,/^```$$/p' README.md | sed '1d;$$d' > build/readme_example.c
	$(CC) $(WARN) -Werror -I. -o build/readme_example build/readme_example.c -lm

# The heap-less, stdio-less build: no stdio or malloc symbol may appear, and
# the exact arena size must be exactly enough.
check-embedded: | build
	$(CC) $(WARN) -Werror -O2 -c -o build/embedded_lib.o tests/embedded_lib.c
	@if nm -u build/embedded_lib.o | grep -E ' (malloc|calloc|realloc|free|fopen|fread|printf|fprintf|snprintf|vsnprintf|puts|abort|exit)$$'; then \
	  echo "the embedded build references stdio/heap/exit symbols above"; exit 1; fi
	$(CC) $(WARN) -O2 -o build/embedded tests/embedded_main.c build/embedded_lib.o $(LDLIBS)
	./build/embedded

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

# Every input a fuzzer ever crashed on, replayed under ASan+UBSan (no libFuzzer needed).
FUZZ_TARGETS := fuzz_safetensors fuzz_config fuzz_model fuzz_state fuzz_tokenizer fuzz_ckpt
SANFLAGS := -O1 -g -fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=all -fno-omit-frame-pointer
check-fuzz-regressions: | build
	@for t in $(FUZZ_TARGETS); do \
	  if ls tests/fuzz/regressions/$$t/* >/dev/null 2>&1; then \
	    $(CC) -std=c99 $(SANFLAGS) -I. -DXLSTM_FUZZ_DATA_DIR="\"$$PWD/tests/data\"" -o build/replay_$$t \
	      tests/fuzz/$$t.c tests/fuzz/replay_main.c -lm && \
	    printf '%s: ' $$t && ./build/replay_$$t tests/fuzz/regressions/$$t/* || exit 1; \
	  fi; done

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

test: all check-compile check-embedded check-fuzz-regressions build/test_xlstm_omp build/test_threads
	OMP_NUM_THREADS=2 ./build/test_xlstm_omp threads
	./build/test_threads
	tests/test_cli.sh
	./build/test_xlstm

# The test suite (and the heap-less build) under AddressSanitizer + UndefinedBehaviorSanitizer.
sanitize: | build
	$(CC) $(WARN) $(SANFLAGS) -o build/test_xlstm_asan tests/test_main.c $(LDLIBS)
	./build/test_xlstm_asan
	$(CC) $(WARN) $(SANFLAGS) -o build/embedded_asan tests/embedded_main.c tests/embedded_lib.c $(LDLIBS)
	./build/embedded_asan

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
	@for d in f32 bf16 q8 q4; do for t in 1 $(BENCH_THREADS); do \
	  ./build/xlstm-bench --random 125M --dtype $$d -t $$t --tokens 32 --prefill 512 | tail -1; done; done
	@for b in 4 16; do ./build/xlstm-bench --random 125M --dtype bf16 -t $(BENCH_THREADS) --batch $$b --tokens 8 --prefill 0 | tail -1; done
	@if [ "$(BENCH_7B)" = 1 ]; then for d in bf16 q8 q4; do \
	  ./build/xlstm-bench --random xlstm-7b --dtype $$d -t $(BENCH_THREADS) --tokens 4 --prefill 0 | tail -1; done; fi

# TiRex forecast and streaming-step latency: the released shape (35.3M
# parameters, random weights) in f32 and int8, 1 and 32 series of 2048
# values, horizons 32 and 256, 1 and BENCH_THREADS threads.
bench-tirex: build/xlstm-bench
	@for d in f32 q8; do for b in 1 32; do for h in 32 256; do for t in 1 $(BENCH_THREADS); do \
	  ./build/xlstm-bench --random tirex --dtype $$d --batch $$b --horizon $$h -t $$t | tail -1; done; done; done; done

# The bundled demo model completes a prompt.
run: build/generate
	./build/generate -m models/tiny-shakespeare -p "ROMEO:" -n 300 --seed 1

# The TiRex demo model forecasts its held-out series and draws them.
.PHONY: forecast-demo
forecast-demo: build/xlstm-forecast
	./build/xlstm-forecast -m models/tirex-demo -f models/tirex-demo/heldout.csv -H 24 --plot build/forecast-demo.svg

install: xlstm.h
	install -d $(DESTDIR)$(PREFIX)/include
	install -m 644 xlstm.h $(DESTDIR)$(PREFIX)/include/xlstm.h

clean:
	rm -rf build
