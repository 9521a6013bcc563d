#!/usr/bin/env node
// The console as Workers Static Assets: a folder the platform (and Miniflare, locally) serves
// before the Worker runs, so the Worker bundle carries neither the console nor a second wasm.
//
//   node scripts/build-console-assets.mjs [--www www] [--pkg pkg] [--out dist/console]
//
// The folder holds www/ as it is, the package's browser files under /pkg/ (the console loads
// gpufleet itself, in proxy mode: index.js, the wasm-bindgen glue gpufleet.js, its snippets/ and
// gpufleet_bg.wasm — the client build, without the proxy server) and a `_headers` file giving
// every file the console's security headers (strict CSP with 'wasm-unsafe-eval', no framing, no
// sniffing, no referrer, no-cache). Those headers come from the proxy's own `consoleHeaders()`
// (src/proxy/headers.rs), read by loading the Worker's wasm here, so there is one source of truth.
// Content types and ETags are the asset server's. Dotfiles in www/ are skipped.

import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
// An unknown option or one without its value is an error (parseArgs strict), not ignored.
const { values: args } = parseArgs({
  options: { www: { type: "string", default: "www" }, pkg: { type: "string", default: "pkg" }, out: { type: "string", default: "dist/console" } },
});
const wwwDir = resolve(root, args.www);
const pkgDir = resolve(root, args.pkg);
const outDir = resolve(root, args.out);
/** The package files the console needs, relative to the package folder (snippets/ is copied too). */
const PKG_FILES = ["index.js", "gpufleet.js", "gpufleet_bg.wasm"];
/** The Worker's glue and wasm, relative to the package folder: the source of the headers. */
const PROXY_GLUE = "proxy/gpufleet_proxy.js";
const PROXY_WASM = "proxy/gpufleet_proxy_bg.wasm";

function walk(dir) {
  let out = [];
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith(".")) continue;
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) out = out.concat(walk(p));
    else if (st.isFile()) out.push(p);
  }
  return out;
}

const missing = [...PKG_FILES, PROXY_GLUE, PROXY_WASM].filter((f) => !existsSync(join(pkgDir, f)));
if (missing.length) {
  throw new Error(`console assets: ${missing.join(", ")} missing in ${relative(root, pkgDir) || "."} (build the package first, or pass --pkg)`);
}

// The headers, from the Worker's own function (one source of truth for the CSP).
const glue = await import(pathToFileURL(join(pkgDir, PROXY_GLUE)).href);
glue.initSync({ module: readFileSync(join(pkgDir, PROXY_WASM)) });
const headers = glue.consoleHeaders("text/html; charset=utf-8").filter(([name]) => name.toLowerCase() !== "content-type");
if (!headers.some(([name]) => name.toLowerCase() === "content-security-policy")) throw new Error("console assets: consoleHeaders() gave no CSP");
for (const [name, value] of headers) {
  if (/[\r\n]/.test(name + value)) throw new Error(`console assets: header ${name} holds a line break`);
}

rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
const files = existsSync(wwwDir) ? walk(wwwDir) : [];
for (const file of files) {
  const rel = relative(wwwDir, file).split(sep).join("/");
  if (rel.startsWith("pkg/") || rel === "_headers" || rel === "_redirects") {
    throw new Error(`console assets: www/${rel} collides with a generated file`);
  }
  mkdirSync(dirname(join(outDir, rel)), { recursive: true });
  cpSync(file, join(outDir, rel));
}
const pkgOut = join(outDir, "pkg");
mkdirSync(pkgOut, { recursive: true });
for (const f of PKG_FILES) cpSync(join(pkgDir, f), join(pkgOut, f));
if (existsSync(join(pkgDir, "snippets"))) cpSync(join(pkgDir, "snippets"), join(pkgOut, "snippets"), { recursive: true });

// index.html: preload hints for the package, so that its wasm (the largest file) and its modules
// download while the browser is still walking the page's own modules (app.js → its imports →
// theirs), instead of after all of them, when session.js imports /pkg/index.js. `as="fetch"
// crossorigin` matches the glue's own `fetch`, so the preloaded answer is the one
// `instantiateStreaming` compiles. Only the package is hinted: hinting all ~20 modules of the page
// as well queued them ahead of the package on the browser's six connections (measured: no gain).
// The package's modules are read from the files, so a rebuilt glue (new snippet names) is followed.
const indexHtml = join(outDir, "index.html");
if (existsSync(indexHtml)) {
  const html = readFileSync(indexHtml, "utf8");
  const entry = /<script type="module" src="\/([^"]+)"><\/script>/.exec(html);
  if (!entry) throw new Error("console assets: index.html has no <script type=\"module\" src=\"/…\"> entry");
  const already = new Set([...html.matchAll(/<link rel="modulepreload" href="\/([^"]+)">/g)].map((m) => m[1]));
  const wasm = `<link rel="preload" href="/pkg/gpufleet_bg.wasm" as="fetch" type="application/wasm" crossorigin>`;
  const modules = moduleGraph(outDir, ["pkg/index.js"]).filter((m) => !already.has(m)).map((m) => `<link rel="modulepreload" href="/${m}">`);
  const first = /<link rel="modulepreload"/.exec(html)?.[0] ?? entry[0];
  writeFileSync(indexHtml, html.replace(entry[0], `${modules.join("\n  ")}\n  ${entry[0]}`).replace(first, `${wasm}\n  ${first}`));
}

/** Every module reachable by static imports (and the dynamic import of a literal path) from
 * `entries`, as paths relative to `dir`, in the order first seen (breadth first). */
function moduleGraph(dir, entries) {
  const seen = [];
  const queue = [...entries];
  while (queue.length) {
    const rel = queue.shift();
    if (seen.includes(rel) || !existsSync(join(dir, rel))) continue;
    seen.push(rel);
    const src = readFileSync(join(dir, rel), "utf8");
    for (const m of src.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)["']([^"']+\.js)["']/g)) {
      const target = m[1].startsWith("/") ? m[1].slice(1) : join(dirname(rel), m[1]).split(sep).join("/");
      queue.push(target);
    }
  }
  return seen;
}

// `_headers` (Cloudflare's format): one rule for every path.
const rules = ["# Generated by scripts/build-console-assets.mjs from consoleHeaders(). Do not edit.", "/*", ...headers.map(([n, v]) => `  ${n}: ${v}`)];
writeFileSync(join(outDir, "_headers"), rules.join("\n") + "\n");
const count = walk(outDir).length;
console.log(`console assets: ${files.length} file(s) from ${relative(root, wwwDir) || "."}, the package's browser files and _headers -> ${relative(root, outDir)}/ (${count} files)`);
