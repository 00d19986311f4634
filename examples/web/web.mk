# The browser page (included by the Makefile):
#   make web        build/web/: the page, xlstm.h as WebAssembly, the bundled models
#   make serve-web  serve build/web on http://127.0.0.1:$(WEB_PORT)/
#   make web-test   the page in headless Chromium: same text as generate.wasm, Stop, a TiRex forecast
# Needs clang with Debian's wasi-libc and libclang-rt-14-dev-wasm32, and Node; web-test also
# Debian's chromium and playwright-core in examples/web/node_modules (see .ci/run).
WASI_CC ?= clang --target=wasm32-wasi --sysroot=/usr -isystem /usr/include/wasm32-wasi -L/usr/lib/wasm32-wasi
WEB_CFLAGS ?= -O2 -msimd128
WEB_PORT ?= 8000
# what web-test generates, with generate's flags (the page gets the same settings)
WEB_TEST_FLAGS ?= -p "JULIET: Où est Roméo?" -n 200 --seed 7 --temp 0.9 --top-k 30 --top-p 0.9

WEB_PAGE   := build/web/index.html build/web/app.js build/web/worker.js
WEB_MODELS := build/web/models/tiny-shakespeare/config.json build/web/models/tiny-shakespeare/model.safetensors \
              build/web/models/tirex-demo/model.ckpt build/web/models/tirex-demo/heldout.csv

.PHONY: web serve-web web-test
web: build/web/xlstm_web.wasm $(WEB_PAGE) $(WEB_MODELS)

build/web/xlstm_web.wasm: examples/web/xlstm_web.c xlstm.h
	@mkdir -p $(@D)
	$(WASI_CC) $(WARN) $(WEB_CFLAGS) -mexec-model=reactor -o $@ examples/web/xlstm_web.c -lm

$(WEB_PAGE): build/web/%: examples/web/%
	@mkdir -p $(@D)
	cp $< $@

$(WEB_MODELS): build/web/models/%: models/%
	@mkdir -p $(@D)
	cp $< $@

# the reference: examples/generate.c with the page's compiler and flags, under Node's WASI
build/web-generate.wasm: examples/generate.c xlstm.h
	@mkdir -p $(@D)
	$(WASI_CC) $(WARN) $(WEB_CFLAGS) -o $@ examples/generate.c -lm

serve-web: web
	node examples/web/serve.js build/web $(WEB_PORT)

# The page's text must equal generate.wasm's for the bundled model and for a file the
# user picks (the bundled model quantized to 4 bits); screenshots in build/web-test*.png.
web-test: web build/web-generate.wasm build/xlstm-quantize
	@test -d examples/web/node_modules/playwright-core || \
	  { echo "web-test needs playwright-core: npm install --prefix examples/web --no-save --no-package-lock playwright-core"; exit 1; }
	./build/xlstm-quantize models/tiny-shakespeare build/web-own.safetensors --dtype q4 > /dev/null
	node --no-warnings tests/wasi_run.js build/web-generate.wasm -m models/tiny-shakespeare $(WEB_TEST_FLAGS) > build/web-ref.txt
	node --no-warnings tests/wasi_run.js build/web-generate.wasm -m build/web-own.safetensors $(WEB_TEST_FLAGS) > build/web-own-ref.txt
	node examples/web/test.js build -- $(WEB_TEST_FLAGS)
