// Run a WASI program under Node (make wasm-test): node tests/wasi_run.js PROG.wasm [ARGS...]
// The repository directory is preopened as "." so the tests find tests/data.
"use strict";
const fs = require("fs");
const { WASI } = require("wasi");
const wasi = new WASI({
  version: "preview1",
  args: process.argv.slice(2),
  env: {},
  preopens: { ".": process.cwd() },
  returnOnExit: true,
});
(async () => {
  const wasm = await WebAssembly.compile(fs.readFileSync(process.argv[2]));
  const instance = await WebAssembly.instantiate(wasm, wasi.getImportObject());
  process.exitCode = wasi.start(instance);
})();
