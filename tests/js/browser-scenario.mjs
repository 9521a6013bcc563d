// The packed package in a headless browser page, one runner for every engine (tests/browsers.mjs):
// the scratch project is served over a tiny local HTTP server; the page imports "gpufleet" through
// an import map naming what the exports map's "browser" condition resolves to (top-level-await
// entry: no init call), and runs the scenario with dangerouslyAllowBrowser (and checks keys are
// refused without it); then the proxy-mode scenario against the edge proxy in workerd (CORS allows
// the page's origin), the way a dashboard should use it. Each pkg-<engine>.test.mjs calls
// browserScenarioTest once.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize } from "node:path";
import { randomBytes } from "node:crypto";
import { ensureScratch, installedManifest, sim } from "./helpers.mjs";
import { simEnv, startProxy } from "../../scripts/proxy-runtime.mjs";
import { waitForPageFunction } from "../browsers.mjs";

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

/**
 * Registers "scenario in <title>": `launch()` starts the engine (a Playwright or Puppeteer
 * Browser), `runtime` must match the page's navigator.userAgent (the engine really ran it).
 */
export function browserScenarioTest({ title, launch, runtime }) {
  let s;
  let server;
  let browser;
  let proxy;
  const token = randomBytes(18).toString("base64url");
  before(async () => {
    const scratch = ensureScratch();
    s = await sim();
    server = await serve(scratch);
    proxy = await startProxy({
      env: {
        ...(await simEnv(s)),
        GPUFLEET_TOKEN: token,
        ALLOWED_ORIGINS: `http://127.0.0.1:${server.address().port}`,
        RATE_LIMIT_PER_MINUTE: "100000",
        RATE_LIMIT_BURST: "100000",
      },
      port: 0,
      onLog: () => {},
    });
  });
  after(async () => {
    await browser?.close();
    await proxy?.dispose();
    server?.close();
    await s?.close();
  });

  test(`scenario in ${title}`, async () => {
    const html = await readFile(join(ensureScratch(), "index.html"), "utf8");
    const entry = installedManifest().exports["."].browser;
    assert.ok(html.includes(`"gpufleet": "/node_modules/gpufleet/${entry.replace(/^\.\//, "")}"`), `the import map names ${entry}`);
    browser = await launch();
    const page = await browser.newPage();
    const problems = [];
    page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
    page.on("console", (m) => m.type() === "error" && problems.push(`console: ${m.text()}`));
    const { port } = server.address();
    const q = new URLSearchParams({ sim: s.url, proxy: `${proxy.url}/api`, token });
    await page.goto(`http://127.0.0.1:${port}/?${q}`);
    await waitForPageFunction(page, () => window.__scenario !== undefined, null, { timeout: 90_000 });
    const report = await page.evaluate(() => window.__scenario);
    assert.equal(report.ok, true, `${report.error ?? ""}\n${problems.join("\n")}`);
    assert.match(report.runtime, runtime);
    assert.equal(report.steps.at(-1).browserKeyRefused, true);
    assert.equal(report.proxy?.ok, true, `the proxy-mode scenario ran in the page: ${report.proxy?.error ?? ""}`);
  });
}
