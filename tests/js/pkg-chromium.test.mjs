// The packed package in headless Chromium (playwright-core + /usr/bin/chromium): the scratch
// project is served over a tiny local HTTP server; the page imports "gpufleet" through an import
// map naming what the exports map's "browser" condition resolves to (top-level-await entry: no
// init call), and runs the scenario with dangerouslyAllowBrowser (and checks keys are refused
// without it).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize } from "node:path";
import { chromium } from "playwright-core";
import { ensureScratch, installedManifest, sim } from "./helpers.mjs";

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".wasm": "application/wasm",
  ".json": "application/json",
};

function serve(dir) {
  const server = http.createServer(async (req, res) => {
    let path = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname));
    if (path.endsWith("/")) path += "index.html";
    if (path.includes("..")) return res.writeHead(400).end();
    try {
      const body = await readFile(join(dir, path));
      res.writeHead(200, { "content-type": TYPES[extname(path)] ?? "application/octet-stream", "cache-control": "no-store" });
      res.end(body);
    } catch {
      res.writeHead(404).end("not found");
    }
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

let s;
let server;
let browser;
before(async () => {
  const scratch = ensureScratch();
  s = await sim();
  server = await serve(scratch);
});
after(async () => {
  await browser?.close();
  server?.close();
  await s?.close();
});

test("scenario in headless Chromium", async () => {
  const html = await readFile(join(ensureScratch(), "index.html"), "utf8");
  const entry = installedManifest().exports["."].browser;
  assert.ok(html.includes(`"gpufleet": "/node_modules/gpufleet/${entry.replace(/^\.\//, "")}"`), `the import map names ${entry}`);
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  const page = await browser.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("console", (m) => m.type() === "error" && problems.push(`console: ${m.text()}`));
  const { port } = server.address();
  await page.goto(`http://127.0.0.1:${port}/?sim=${encodeURIComponent(s.url)}`);
  await page.waitForFunction(() => window.__scenario !== undefined, null, { timeout: 90_000 });
  const report = await page.evaluate(() => window.__scenario);
  assert.equal(report.ok, true, `${report.error ?? ""}\n${problems.join("\n")}`);
  assert.match(report.runtime, /Chrome/);
  assert.equal(report.steps.at(-1).browserKeyRefused, true);
});
