// The page: two tabs (text generation, TiRex forecasting) talking to worker.js.
"use strict";

const $ = (id) => document.getElementById(id);
const worker = new Worker("worker.js");
const handlers = {}; // message type -> function

worker.onmessage = (e) => handlers[e.data.type](e.data);
worker.onerror = (e) => setStatus("text-status", "worker failed: " + e.message, true);

function setStatus(id, text, isError) {
  $(id).textContent = text;
  $(id).classList.toggle("error", !!isError);
}

// ---- tabs ------------------------------------------------------------------
let txRequested = false;
function showTab(name) {
  for (const t of ["text", "tirex"]) {
    $("tab-" + t).setAttribute("aria-selected", String(t === name));
    $("panel-" + t).hidden = t !== name;
  }
  if (name === "tirex" && !txRequested) { // the forecaster loads when first shown
    txRequested = true;
    setStatus("tx-status", "loading the TiRex demo model...");
    worker.postMessage({ type: "loadTX" });
  }
  if (name === "tirex") drawChart();
}
$("tab-text").onclick = () => showTab("text");
$("tab-tirex").onclick = () => showTab("tirex");

// ---- text --------------------------------------------------------------------
let textNode = null; // the completion, appended to as tokens arrive

function loadModel(files) {
  $("generate").disabled = true;
  $("model-name").textContent = "loading...";
  const msg = { type: "loadLM" };
  for (const f of files || []) {
    if (/\.safetensors$/i.test(f.name)) msg.weights = f;
    else if (/tokenizer\.json$/i.test(f.name)) msg.tokenizer = f;
    else if (/\.json$/i.test(f.name)) msg.config = f;
  }
  if (files && !msg.weights) {
    setStatus("text-status", "pick a .safetensors file (and its tokenizer.json / config.json if it needs them)", true);
    return;
  }
  worker.postMessage(msg);
}
$("model-file").onchange = (e) => { if (e.target.files.length) loadModel(e.target.files); };

handlers.status = (m) => setStatus("text-status", m.text);
handlers.lmLoaded = (m) => {
  $("model-name").textContent = m.name;
  setStatus("text-status", `${m.name}: ${(m.params / 1e6).toFixed(2)}M parameters, vocabulary ${m.vocab}, ` +
    `${(m.bytes / 1048576).toFixed(1)} MiB, loaded in ${m.seconds.toFixed(2)} s, kernels: ${m.kernels}`);
  $("generate").disabled = false;
};

// The settings, checked as generate checks its flags; throws on a bad one.
function settings() {
  const num = (id, ok) => {
    const s = $(id).value.trim(), v = Number(s);
    if (s === "" || !Number.isFinite(v) || !ok(v)) throw new Error("bad value for " + id + ": " + s);
    return v;
  };
  const int = (v) => Number.isInteger(v);
  let seed = $("seed").value.trim();
  if (seed === "") seed = $("seed").value = String(Math.floor(Date.now() / 1000)); // as generate: the clock
  if (!/^\d+$/.test(seed) || BigInt(seed) >= 2n ** 63n) throw new Error("bad value for seed: " + seed);
  return {
    n: num("n", (v) => int(v) && v >= 0 && v <= 1e7),
    temp: num("temp", (v) => v >= 0),
    topK: num("top-k", (v) => int(v) && v >= 0 && v <= 0x7fffffff),
    topP: num("top-p", (v) => v > 0 && v <= 1),
    minP: num("min-p", (v) => v >= 0 && v <= 1),
    seed,
  };
}

$("generate").onclick = () => {
  let s;
  try { s = settings(); } catch (err) { setStatus("text-status", err.message, true); return; }
  const prompt = $("prompt").value;
  const out = $("output"), p = document.createElement("span");
  p.className = "prompt";
  p.textContent = prompt; // generate prints the prompt first, then the completion
  textNode = document.createTextNode("");
  out.replaceChildren(p, textNode);
  document.body.dataset.generation = "running";
  $("generate").disabled = $("model-file").disabled = true;
  $("stop").disabled = false;
  $("speed").textContent = "";
  setStatus("text-status", "generating...");
  worker.postMessage({ type: "generate", prompt, ...s });
};
$("stop").onclick = () => worker.postMessage({ type: "stop" });

const rate = (n, s) => (s > 0 ? (n / s).toFixed(1) : "-") + " tokens/s";
handlers.text = (m) => {
  textNode.appendData(m.text);
  $("speed").textContent = `${m.tokens} tokens, ${rate(m.tokens, m.seconds)}`;
};
handlers.done = (m) => {
  $("generate").disabled = $("model-file").disabled = false;
  $("stop").disabled = true;
  $("speed").textContent = `${m.tokens} tokens in ${m.seconds.toFixed(2)} s, ${rate(m.tokens, m.seconds)}`;
  setStatus("text-status", `done (${m.reason}); prompt: ${m.promptTokens} tokens in ` +
    `${m.promptSeconds.toFixed(3)} s`);
  document.body.dataset.generation = m.reason === "stopped" ? "stopped" : "done";
};

handlers.error = (m) => {
  const tx = m.about === "loadTX" || m.about === "forecast";
  setStatus(tx ? "tx-status" : "text-status", m.text, true);
  if (m.about === "generate") { $("generate").disabled = $("model-file").disabled = false; $("stop").disabled = true; }
  if (m.about === "loadLM") $("model-name").textContent = "none";
  if (m.about === "forecast") $("forecast").disabled = false;
  document.body.dataset.error = m.text;
};

// ---- TiRex -------------------------------------------------------------------
let history = [], fc = null; // the series and its forecast, for the chart

$("tx-file").onchange = (e) => {
  if (!e.target.files.length) return;
  $("forecast").disabled = true;
  setStatus("tx-status", "loading " + e.target.files[0].name + "...");
  worker.postMessage({ type: "loadTX", file: e.target.files[0] });
};

handlers.txLoaded = (m) => {
  $("tx-name").textContent = m.name;
  setStatus("tx-status", `${m.name}: quantiles ${m.levels.map((q) => +q.toFixed(3)).join(", ")}; ` +
    `context ${m.context} values`);
  $("forecast").disabled = false;
};

function parseSeries(text) {
  // commas between values (an empty field is missing), or else whitespace
  const fields = text.includes(",") ? text.trim().replace(/,$/, "").split(",").map((f) => f.trim())
                                    : text.trim().split(/\s+/).filter((f) => f !== "");
  return fields.map((f) => {
    if (f === "" || /^[+-]?nan$/i.test(f)) return NaN;
    const v = Number(f);
    if (!Number.isFinite(v)) throw new Error("not a number: " + f);
    return v;
  });
}

$("forecast").onclick = () => {
  let values, h;
  try {
    values = parseSeries($("series").value);
    h = Number($("horizon").value);
    if (!Number.isInteger(h) || h < 1 || h > 4096) throw new Error("horizon: a whole number from 1 to 4096");
  } catch (err) { setStatus("tx-status", err.message, true); return; }
  history = values;
  fc = null;
  $("forecast").disabled = true;
  document.body.dataset.forecast = "running";
  worker.postMessage({ type: "forecast", series: new Float32Array(values), horizon: h });
};

handlers.forecast = (m) => {
  const q = m.levels.length, lo = 0, hi = q - 1;
  fc = m;
  $("forecast").disabled = false;
  $("fc-speed").textContent = `${m.horizon} steps in ${(m.seconds * 1000).toFixed(1)} ms`;
  const f = (v) => v.toFixed(3);
  const rows = [`step  median  q${m.levels[lo].toFixed(2)}  q${m.levels[hi].toFixed(2)}`];
  for (let t = 0; t < m.horizon; t++)
    rows.push(`${t + 1}  ${f(m.median[t])}  ${f(m.quantiles[t * q + lo])}  ${f(m.quantiles[t * q + hi])}`);
  $("fc-table").textContent = rows.join("\n");
  setStatus("tx-status", "");
  drawChart();
  document.body.dataset.forecast = "done";
};

// History (its last part), the median and the outer quantile band.
function drawChart() {
  const cv = $("chart"), g = cv.getContext("2d"), W = cv.width, H = cv.height, pad = 40;
  g.clearRect(0, 0, W, H);
  if (!history.length) return;
  const h = fc ? fc.horizon : 0, q = fc ? fc.levels.length : 0;
  const shown = Math.min(history.length, Math.max(4 * h, 120));
  const hist = history.slice(history.length - shown);
  const vals = hist.filter((v) => !Number.isNaN(v));
  if (fc) for (let t = 0; t < h; t++) vals.push(fc.quantiles[t * q], fc.quantiles[t * q + q - 1], fc.median[t]);
  let ymin = Math.min(...vals), ymax = Math.max(...vals);
  if (!(ymax > ymin)) { ymin -= 1; ymax += 1; }
  const n = shown + h;
  const x = (i) => pad + (i / Math.max(n - 1, 1)) * (W - 2 * pad);
  const y = (v) => H - pad - ((v - ymin) / (ymax - ymin)) * (H - 2 * pad);
  g.font = "12px sans-serif";
  g.fillStyle = "#555";
  g.fillText(ymax.toPrecision(5), 2, pad - 6);
  g.fillText(ymin.toPrecision(5), 2, H - pad + 16);
  g.fillText(`last ${shown} of ${history.length} values` + (h ? `, then ${h} forecast` : ""), pad, H - 8);
  const line = (pts, color) => {
    g.strokeStyle = color;
    g.lineWidth = 1.5;
    g.beginPath();
    let pen = false;
    for (const [i, v] of pts) {
      if (Number.isNaN(v)) { pen = false; continue; }
      if (pen) g.lineTo(x(i), y(v)); else g.moveTo(x(i), y(v));
      pen = true;
    }
    g.stroke();
  };
  line(hist.map((v, i) => [i, v]), "#333");
  if (!fc) return;
  g.fillStyle = "rgba(30, 110, 220, 0.25)";
  g.beginPath();
  for (let t = 0; t < h; t++) g.lineTo(x(shown + t), y(fc.quantiles[t * q + q - 1]));
  for (let t = h - 1; t >= 0; t--) g.lineTo(x(shown + t), y(fc.quantiles[t * q]));
  g.closePath();
  g.fill();
  line(Array.from(fc.median, (v, t) => [shown + t, v]), "#1e6edc");
  g.strokeStyle = "#bbb";
  g.beginPath();
  g.moveTo(x(shown - 0.5), pad);
  g.lineTo(x(shown - 0.5), H - pad);
  g.stroke();
}

// ---- start -------------------------------------------------------------------
loadModel(null);
fetch("models/tirex-demo/heldout.csv").then((r) => r.ok ? r.text() : "").then((t) => {
  if (!$("series").value) $("series").value = t.split("\n")[0];
}).catch(() => {});
