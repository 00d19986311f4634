// A small static file server for the page (make serve-web):
//   node examples/web/serve.js DIR [PORT]   (serves DIR on 127.0.0.1; PORT 0 picks a free one)
"use strict";
const fs = require("fs");
const http = require("http");
const path = require("path");

const TYPES = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".wasm": "application/wasm",
  ".json": "application/json", ".csv": "text/csv; charset=utf-8", ".png": "image/png", ".svg": "image/svg+xml",
};

function serve(root, port) {
  root = path.resolve(root);
  const server = http.createServer((req, res) => {
    let rel;
    try { rel = decodeURIComponent(new URL(req.url, "http://x").pathname); } catch { rel = "\0"; }
    if (rel.endsWith("/")) rel += "index.html";
    const file = path.join(root, rel);
    if (rel.includes("\0") || !file.startsWith(root + path.sep) || (req.method !== "GET" && req.method !== "HEAD")) {
      res.writeHead(400).end();
      return;
    }
    fs.stat(file, (err, st) => {
      if (err || !st.isFile()) { res.writeHead(404, { "Content-Type": "text/plain" }).end("not found\n"); return; }
      res.writeHead(200, {
        "Content-Type": TYPES[path.extname(file).toLowerCase()] || "application/octet-stream",
        "Content-Length": st.size, "Cache-Control": "no-cache",
      });
      if (req.method === "HEAD") res.end(); else fs.createReadStream(file).pipe(res);
    });
  });
  return new Promise((resolve, reject) => {
    server.on("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}

module.exports = { serve };

if (require.main === module) {
  const dir = process.argv[2] || "build/web", port = Number(process.argv[3] || 8000);
  serve(dir, port).then((s) => console.log(`serving ${dir} on http://127.0.0.1:${s.address().port}/ (Ctrl-C stops)`),
    (err) => { console.error("serve: " + err.message); process.exit(1); });
}
