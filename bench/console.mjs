// Console: the page the proxy serves, in headless Chromium (playwright-core, Debian's chromium),
// against 5,000 instances (1,250 per provider) in the simulated clouds behind the proxy in
// workerd. The console's contract (www/): after every render the app calls
// `performance.mark("gpufleet:render")` and sets `#main`'s `data-rows` to the number of matching
// rows; the filter box is `#filter`, rows are in `#fleet tbody`.
//
//   - first render: navigation start → the first render showing all 5,000 rows (fresh context);
//   - filter: `input` event on #filter → the next `gpufleet:render` mark (median over terms that
//     narrow and then clear the filter; any debounce the app applies is part of the figure).

import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { simEnv, startProxy } from "../scripts/proxy-runtime.mjs";
import { median, ROOT, row, startSimProcess } from "./lib.mjs";

const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];
const PER_PROVIDER = 1250;
const TOTAL = 4 * PER_PROVIDER;

/** Runs before the page's scripts: records every data-rows change with its time. */
function recorder() {
  window.__rows = [];
  const observe = () => {
    const main = document.getElementById("main");
    if (!main) return false;
    new MutationObserver(() => window.__rows.push([performance.now(), main.dataset.rows])).observe(main, { attributes: true, attributeFilter: ["data-rows"] });
    return true;
  };
  if (!observe()) document.addEventListener("DOMContentLoaded", observe, { once: true });
}

export async function run({ quick, log }) {
  const { chromium } = await import("playwright-core");
  const tmp = join(ROOT, ".tmp", "bench", "chromium");
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const sim = await startSimProcess(["--seed", "1", "--instances", String(PER_PROVIDER), "--speed", "0"]);
  const token = randomBytes(24).toString("base64url");
  const proxy = await startProxy({ env: { ...(await simEnv(sim)), GPUFLEET_TOKEN: token, RATE_LIMIT_PER_MINUTE: "0" }, port: 0, onLog: () => {} });
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS, env: { ...process.env, TMPDIR: tmp } });
  const reps = quick ? 1 : 4;
  const firstRender = [];
  const filterTimes = [];
  try {
    for (let r = 0; r < reps + 1; r++) {
      const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
      const page = await context.newPage();
      await page.addInitScript(recorder);
      await page.goto(`${proxy.url}/#token=${encodeURIComponent(token)}`);
      const contract = await page
        .waitForFunction((n) => document.getElementById("main")?.dataset.rows === String(n), TOTAL, { timeout: 60_000 })
        .then(() => true, () => false);
      if (!contract) {
        const state = await page.evaluate(() => ({ rows: document.getElementById("main")?.dataset.rows ?? null, marks: performance.getEntriesByName("gpufleet:render").length, tbody: document.querySelectorAll("#fleet tbody tr").length }));
        await context.close();
        throw new Error(`the console never reported ${TOTAL} rows (data-rows ${state.rows}, ${state.marks} gpufleet:render marks, ${state.tbody} tbody rows): the render contract is not implemented in www/ yet`);
      }
      const t = await page.evaluate((n) => {
        const hit = window.__rows.find(([, rows]) => rows === String(n));
        const mark = performance.getEntriesByName("gpufleet:render").filter((m) => m.startTime <= hit[0]).at(-1);
        return mark ? Math.min(hit[0], Math.max(mark.startTime, 0)) : hit[0];
      }, TOTAL);
      if (r > 0) firstRender.push(t); // the first navigation warms the proxy and the browser cache
      // Filter: narrow, clear, narrow further, clear.
      for (const term of ["h100", "", "llm", "", "running", ""]) {
        const ms = await page.evaluate(async (value) => {
          const input = document.getElementById("filter");
          const before = performance.getEntriesByName("gpufleet:render").length;
          const done = new Promise((resolve) => {
            const po = new PerformanceObserver((list) => {
              for (const e of list.getEntries()) if (e.name === "gpufleet:render") (po.disconnect(), resolve(e.startTime));
            });
            po.observe({ type: "mark" });
          });
          const t0 = performance.now();
          input.value = value;
          input.dispatchEvent(new Event("input", { bubbles: true }));
          const at = await Promise.race([done, new Promise((r) => setTimeout(() => r(null), 10_000))]);
          if (at === null || performance.getEntriesByName("gpufleet:render").length === before) return null;
          return at - t0;
        }, term);
        if (ms === null) throw new Error(`filtering for "${term}" gave no gpufleet:render mark within 10 s`);
        if (r > 0) filterTimes.push(ms);
      }
      await context.close();
    }
  } finally {
    await browser.close().catch(() => {});
    await proxy.dispose().catch(() => {});
    await sim.close();
    rmSync(tmp, { recursive: true, force: true });
  }
  const fr = median(firstRender);
  const ft = median(filterTimes);
  log(`first render of ${TOTAL} rows ${fr.toFixed(0)} ms; filter → render ${ft.toFixed(1)} ms`);
  return {
    rows: [
      row({ section: "console", figure: `navigation → first render of all ${TOTAL.toLocaleString("en")} rows`, value: fr, unit: "ms" }),
      row({ section: "console", figure: "filter input → render (median of narrow/clear)", value: ft, unit: "ms" }),
    ],
    details: { instances: TOTAL, reps, firstRenderMs: firstRender, filterMs: filterTimes },
  };
}
