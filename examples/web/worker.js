// The page's Web Worker: runs xlstm_web.wasm (xlstm.h built for wasm32-wasi)
// so that the page stays responsive. Messages in: loadLM, generate, stop,
// loadTX, forecast. Messages out: status, lmLoaded, text, done, txLoaded,
// forecast, error.
"use strict";

let X = null; // the module's exports
const enc = new TextEncoder();

// The module imports nothing today; should a libc call ever bring in a WASI
// import, it gets a stub that answers ENOSYS (proc_exit throws).
function stubImports(module) {
  const imports = {};
  for (const imp of WebAssembly.Module.imports(module)) {
    if (imp.kind !== "function") continue;
    imports[imp.module] = imports[imp.module] || {};
    imports[imp.module][imp.name] = imp.name === "proc_exit"
      ? (code) => { throw new Error("wasm exit " + code); }
      : () => 52;
  }
  return imports;
}

const ready = (async () => {
  const module = await WebAssembly.compileStreaming(fetch("xlstm_web.wasm"));
  const instance = await WebAssembly.instantiate(module, stubImports(module));
  X = instance.exports;
  X._initialize();
})();

const bytes = () => new Uint8Array(X.memory.buffer); // a fresh view: memory may have grown

function put(data) { // copy bytes into the module; returns the pointer
  const p = X.xw_alloc(data.length);
  if (!p) throw new Error("out of memory (" + data.length + " bytes)");
  bytes().set(data, p);
  return p;
}

function cstr(p) {
  const b = bytes();
  let end = p;
  while (b[end]) end++;
  return new TextDecoder().decode(b.subarray(p, end));
}

const fail = (what) => { throw new Error(what + ": " + cstr(X.xw_error())); };

async function fetchBytes(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(url + ": HTTP " + r.status);
  return new Uint8Array(await r.arrayBuffer());
}

const read = async (file) => file ? new Uint8Array(await file.arrayBuffer()) : null;

// ---- language model ------------------------------------------------------
async function loadLM(msg) {
  let weights, config, tokenizer, name;
  if (msg.weights) { // files the user picked
    weights = await read(msg.weights);
    config = await read(msg.config);
    tokenizer = await read(msg.tokenizer);
    name = msg.weights.name;
  } else {
    post({ type: "status", text: "fetching the Tiny Shakespeare model..." });
    [weights, config] = await Promise.all([
      fetchBytes("models/tiny-shakespeare/model.safetensors"),
      fetchBytes("models/tiny-shakespeare/config.json"),
    ]);
    name = "Tiny Shakespeare";
  }
  const t0 = performance.now();
  const w = put(weights); // the module owns it from here on
  const c = config ? put(config) : 0, t = tokenizer ? put(tokenizer) : 0;
  const vocab = X.xw_lm_load(w, weights.length, c, config ? config.length : 0, t, tokenizer ? tokenizer.length : 0);
  if (c) X.xw_free(c);
  if (t) X.xw_free(t);
  if (vocab < 0) fail(name);
  post({
    type: "lmLoaded", name, vocab, params: X.xw_lm_n_params(), kernels: cstr(X.xw_kernels()),
    bytes: weights.length, seconds: (performance.now() - t0) / 1000,
  });
}

let gen = null; // the completion in progress

function generate(msg) {
  const prompt = enc.encode(msg.prompt);
  const seed = BigInt(msg.seed);
  const p = put(prompt);
  const t0 = performance.now();
  const n = X.xw_lm_begin(p, prompt.length, msg.n, Number(seed >> 32n), Number(seed & 0xffffffffn),
    msg.temp, msg.topK, msg.topP, msg.minP, 1.0, 64);
  X.xw_free(p);
  if (n < 0) fail("generate");
  gen = { left: msg.n, tokens: 0, promptTokens: n, promptSeconds: (performance.now() - t0) / 1000,
          start: performance.now(), stop: false, decoder: new TextDecoder() };
  slice();
}

// Generate for about 20 ms, send the text, then let messages (Stop) in.
const tick = new MessageChannel();
tick.port1.onmessage = () => slice();

function slice() {
  const g = gen, t0 = performance.now();
  let text = "", end = g.stop ? "stopped" : null;
  while (!end && performance.now() - t0 < 20) {
    if (g.left === 0) { end = "length"; break; }
    const k = X.xw_lm_next();
    if (k < 0) { end = "end of text"; break; }
    g.left--;
    g.tokens++;
    if (k) text += g.decoder.decode(bytes().subarray(X.xw_lm_out(), X.xw_lm_out() + k), { stream: true });
  }
  if (end) {
    const k = X.xw_lm_flush();
    text += g.decoder.decode(bytes().subarray(X.xw_lm_out(), X.xw_lm_out() + k));
  }
  const seconds = (performance.now() - g.start) / 1000;
  if (text) post({ type: "text", text, tokens: g.tokens, seconds });
  if (end) {
    gen = null;
    post({ type: "done", reason: end, tokens: g.tokens, seconds, promptTokens: g.promptTokens,
           promptSeconds: g.promptSeconds });
  } else {
    tick.port2.postMessage(0);
  }
}

// ---- TiRex ---------------------------------------------------------------
let txLevels = null;

async function loadTX(msg) {
  const data = msg.file ? await read(msg.file) : await fetchBytes("models/tirex-demo/model.ckpt");
  const q = X.xw_tx_load(put(data), data.length);
  if (q < 0) fail(msg.file ? msg.file.name : "model.ckpt");
  txLevels = Array.from({ length: q }, (_, i) => X.xw_tx_quantile(i));
  post({ type: "txLoaded", name: msg.file ? msg.file.name : "tirex-demo", levels: txLevels, context: X.xw_tx_context() });
}

function forecast(msg) {
  const n = msg.series.length, h = msg.horizon, q = txLevels.length;
  const s = put(new Uint8Array(msg.series.buffer, msg.series.byteOffset, n * 4));
  const out = X.xw_alloc(4 * h * (q + 1));
  const t0 = performance.now();
  const rc = X.xw_tx_forecast(s, n, h, out, out + 4 * h * q);
  const seconds = (performance.now() - t0) / 1000;
  const res = rc < 0 ? null : new Float32Array(X.memory.buffer.slice(out, out + 4 * h * (q + 1)));
  X.xw_free(s);
  X.xw_free(out);
  if (!res) fail("forecast");
  post({ type: "forecast", quantiles: res.subarray(0, h * q), median: res.subarray(h * q), levels: txLevels,
         horizon: h, seconds });
}

// ---- messages --------------------------------------------------------------
function post(m) { self.postMessage(m); }

self.onmessage = async (e) => {
  const msg = e.data;
  try {
    await ready;
    if (msg.type === "stop") { if (gen) gen.stop = true; return; }
    if (gen && (msg.type === "loadLM" || msg.type === "generate")) throw new Error("busy generating: stop first");
    if (msg.type === "loadLM") await loadLM(msg);
    else if (msg.type === "generate") generate(msg);
    else if (msg.type === "loadTX") await loadTX(msg);
    else if (msg.type === "forecast") forecast(msg);
  } catch (err) {
    post({ type: "error", about: msg.type, text: String(err.message || err) });
  }
};
