// make web-test: the page in headless Chromium (Debian's, driven by playwright-core).
//   node examples/web/test.js BUILD -- generate's flags (-p, -n, --seed, --temp, --top-k, --top-p)
// Serves BUILD/web on 127.0.0.1 and, with those settings in the page:
//   1. generates with the bundled model: the text must equal BUILD/web-ref.txt (generate.wasm's
//      stdout for the same flags); screenshot BUILD/web-test.png;
//   2. Stop ends a long completion, which begins with that same text;
//   3. forecasts the TiRex demo series: 24 finite steps, near NX-AI's reference forecast;
//      screenshot BUILD/web-test-tirex.png;
//   4. loads BUILD/web-own.safetensors through the file picker: the text must equal
//      BUILD/web-own-ref.txt.
"use strict";
const fs = require("fs");
const path = require("path");
const { chromium } = require("playwright-core");
const { serve } = require("./serve.js");

const [build, dashes, ...flags] = process.argv.slice(2);
if (dashes !== "--") throw new Error("usage: test.js BUILD -- FLAGS...");
const out = (name) => path.join(build, name);
const flag = (name, dflt) => { const i = flags.indexOf(name); return i >= 0 ? flags[i + 1] : dflt; };
const want = {
  prompt: flag("-p", ""), n: flag("-n", "256"), seed: flag("--seed", "1"),
  temp: flag("--temp", "0.8"), "top-k": flag("--top-k", "40"), "top-p": flag("--top-p", "0.95"),
};

let passed = 0, failed = 0;
function check(name, ok, detail) {
  if (ok) passed++; else failed++;
  console.log(`${ok ? "ok  " : "FAIL"} ${name}${detail ? ": " + detail : ""}`);
}

(async () => {
  const t0 = Date.now();
  const server = await serve(out("web"), 0);
  const url = `http://127.0.0.1:${server.address().port}/`;
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
           "--disable-component-update", "--disable-sync"],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
    const errors = [];
    page.on("pageerror", (e) => errors.push(e.message));
    page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
    await page.goto(url);
    await page.waitForSelector("#generate:not([disabled])", { timeout: 60000 });

    // Generate with the flags' settings; the text must equal generate's stdout in refFile.
    const sameText = async (what, refFile) => {
      await page.fill("#prompt", want.prompt);
      for (const id of ["n", "seed", "temp", "top-k", "top-p"]) await page.fill("#" + id, want[id]);
      await page.click("#generate");
      await page.waitForSelector("body[data-generation=done]", { timeout: 120000 });
      const text = await page.textContent("#output");
      const ref = fs.readFileSync(refFile, "utf8").replace(/\n$/, ""); // generate ends with a newline
      let at = 0;
      while (at < text.length && text[at] === ref[at]) at++;
      check(`${what}: text equals generate's (prompt ${JSON.stringify(want.prompt)}, seed ${want.seed}, ${want.n} tokens)`,
        text === ref, text === ref ? `${Buffer.byteLength(text)} bytes; ${await page.textContent("#speed")}` :
          `differs at ${at}: page ${JSON.stringify(text.slice(at, at + 40))}, generate ${JSON.stringify(ref.slice(at, at + 40))}`);
      return ref;
    };

    // 1. the bundled model
    const ref = await sameText("Tiny Shakespeare", out("web-ref.txt"));
    await page.screenshot({ path: out("web-test.png") });

    // 2. Stop ends a long completion early, and what came is the start of the same text
    await page.fill("#n", "1000000");
    await page.click("#generate");
    await page.waitForFunction((n) => document.getElementById("output").textContent.length > n, ref.length + 100);
    await page.click("#stop");
    await page.waitForSelector("body[data-generation=stopped]", { timeout: 30000 });
    const stopped = await page.textContent("#output");
    check("Stop", stopped.startsWith(ref) && stopped.length < ref.length + 1e6, `${stopped.length} characters`);

    // 3. TiRex: forecast the demo series (row 0 of heldout.csv) 24 steps ahead
    await page.click("#tab-tirex");
    await page.waitForSelector("#forecast:not([disabled])", { timeout: 60000 });
    await page.waitForFunction(() => document.getElementById("series").value.length > 0);
    await page.fill("#horizon", "24");
    await page.click("#forecast");
    await page.waitForSelector("body[data-forecast=done]", { timeout: 60000 });
    const rows = (await page.textContent("#fc-table")).trim().split("\n").slice(1).map((r) => r.split(/\s+/).map(Number));
    const refq = new Float32Array(fs.readFileSync("models/tirex-demo/heldout_ref.f32").buffer.slice(0, 24 * 9 * 4));
    const hist = fs.readFileSync("models/tirex-demo/heldout.csv", "utf8").split("\n")[0].split(",").map(Number)
      .filter((v) => !Number.isNaN(v));
    const mean = hist.reduce((a, b) => a + b, 0) / hist.length;
    const sd = Math.sqrt(hist.reduce((a, b) => a + (b - mean) ** 2, 0) / hist.length);
    let worst = 0, sane = rows.length === 24;
    rows.forEach((r, t) => {
      sane = sane && r.length === 4 && r.every(Number.isFinite) && r[0] === t + 1 && r[2] <= r[1] && r[1] <= r[3];
      worst = Math.max(worst, Math.abs(r[1] - refq[t * 9 + 4]));
    });
    check("forecast: 24 finite steps, q0.1 <= median <= q0.9", sane, `median ${rows[0] && rows[0][1]} ... ${rows[23] && rows[23][1]}`);
    check("forecast median within 0.1 scale of NX-AI's reference", sane && worst <= 0.1 * sd,
      `max |difference| ${worst.toFixed(4)}, scale ${sd.toFixed(2)}`);
    await page.screenshot({ path: out("web-test-tirex.png") });

    // 4. a model file the user picks: the bundled model in 4 bits, config in its metadata
    await page.click("#tab-text");
    await page.setInputFiles("#model-file", out("web-own.safetensors"));
    await page.waitForFunction(() => document.getElementById("model-name").textContent === "web-own.safetensors" &&
      !document.getElementById("generate").disabled, null, { timeout: 60000 });
    await sameText("picked q4 file", out("web-own-ref.txt"));

    check("no errors on the page", errors.length === 0, errors.join(" | "));
  } finally {
    await browser.close();
    server.close();
  }
  console.log(`(${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  console.log(`web-test: ${passed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
})().catch((err) => {
  console.error("web-test: " + err.message);
  process.exitCode = 1;
});
