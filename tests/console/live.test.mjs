// One shared live view (issue #18): consoles get the fleet from the proxy's FleetLive Durable
// Object, which walks the providers once per interval for all of them, in real Chromium against
// real workerd (its Durable Object and alarms) and the simulated clouds' request log.

import { test } from "node:test";
import assert from "node:assert/strict";
import { startConsole, useConsole, waitForRows, row, assertClean } from "./harness.mjs";
import { openLive } from "../proxy/live-client.mjs";

const INTERVAL_MS = 2000;
const c = useConsole({ env: { LIVE_INTERVAL_MS: String(INTERVAL_MS) } });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const LIST = /\/instances$/; // every provider's list path ends so (fal, fal alpha, SF Compute, Novita's /gpu/instances)

async function waitForMode(page, mode, timeout = 20_000) {
  await page.waitForFunction((m) => document.getElementById("sync-mode")?.dataset.mode === m, mode, { timeout });
}

test("twenty consoles (two real pages, eighteen push clients) cost the providers what one does", async () => {
  const pages = [await c.open(), await c.open()];
  for (const p of pages) {
    await waitForRows(p, 160);
    await waitForMode(p, "live");
    assert.match(await p.textContent("#sync-mode"), /^Live/);
    assert.match(await p.getAttribute("#sync-mode", "title"), /every 2 s for every open console/);
  }
  const pushers = await Promise.all(Array.from({ length: 18 }, () => openLive(`${c.url}/api/v1/live`, { authorization: `Bearer ${c.token}` })));
  await Promise.all(pushers.map((p) => p.waitFor((e) => e.event === "snapshot")));
  await c.control("DELETE", "/requests");
  const from = Date.now();
  await sleep(INTERVAL_MS * 3 + 500);
  const log = await c.control("GET", "/requests");
  const elapsed = Date.now() - from;
  const walks = Math.floor(elapsed / INTERVAL_MS) + 1;
  for (const p of ["fal", "fal-alpha", "sfcompute", "novita"]) {
    const lists = log.filter((e) => e.provider === p && e.method === "GET" && LIST.test(e.path));
    assert.ok(lists.length >= 1, `${p}: walked`);
    assert.ok(lists.length <= walks, `${p}: ${lists.length} list calls in ${elapsed} ms: one walk per ${INTERVAL_MS} ms allows ${walks}; twenty polling consoles would make about ${20 * walks}`);
  }
  // Nothing else is asked twice: balances and prices once (the pages ask nothing of their own).
  const others = log.filter((e) => !LIST.test(e.path)).map((e) => `${e.method} ${e.path}?${e.query}`);
  assert.deepEqual(others, [...new Set(others)], "no provider call but the walk's lists repeats");
  for (const p of pages) await assertClean(assert, p, "(live)");
  for (const p of pushers) p.close();
  for (const p of pages) await p.context().close();
});

test("a status change in the simulator reaches an open console within one interval, without a reload", async () => {
  const page = await c.open();
  await waitForRows(page, 160);
  await waitForMode(page, "live");
  const inst = (await c.state("novita")).find((i) => i.status === "running" && !i.statusError);
  await page.fill("#filter", inst.id);
  await waitForRows(page, 1);
  assert.equal(await row(page, "novita", inst.id).locator(".badge").textContent(), "running");
  const changedAt = Date.now();
  await c.control("POST", "/force-status", { provider: "novita", id: inst.id, status: "exited" });
  await page.waitForFunction(
    (sel) => document.querySelector(sel)?.textContent === "stopped",
    `#fleet tbody tr[data-key="novita/${inst.id}"] .badge`,
    { timeout: INTERVAL_MS * 2 + 3000 },
  );
  const took = Date.now() - changedAt;
  assert.ok(took <= INTERVAL_MS + 2000, `shown ${took} ms after the change (interval ${INTERVAL_MS} ms)`);
  await assertClean(assert, page, "(pushed change)");
  await page.context().close();
});

test("without the live view the console polls, and says so", async () => {
  const polling = await startConsole({ live: false });
  try {
    const page = await polling.open();
    const lists = [];
    page.on("request", (r) => new URL(r.url()).pathname === "/api/v1/instances" && lists.push(r));
    await waitForRows(page, 160);
    await waitForMode(page, "polling");
    assert.equal(await page.textContent("#sync-mode"), "Polling");
    assert.match(await page.getAttribute("#sync-mode", "title"), /lists the fleet itself every 10 s: the proxy has no live view/);
    assert.ok(lists.length >= 1, "the page lists the fleet itself");
    await assertClean(assert, page, "(polling)");
    await page.context().close();
  } finally {
    await polling.close();
  }
});

test("a fleet larger than one invocation's walk: the console says the snapshot is still filling, then Live", async () => {
  const big = await startConsole({ sim: { instances: 300 }, env: { LIVE_PAGES_PER_RUN: "1", LIVE_INTERVAL_MS: "60000" } });
  try {
    // Slow providers: each one-page step of the walk takes a while, so the filling is seen.
    await big.control("POST", "/latency", { ms: 400 });
    const page = await big.open();
    await page.waitForFunction(() => /^Live · filling: \d+ instances so far$/.test(document.getElementById("sync-mode")?.textContent), null, { timeout: 30_000 });
    assert.match(await page.getAttribute("#sync-mode", "title"), /still coming in, a part at a time/);
    await page.waitForFunction(() => document.getElementById("sync-mode")?.textContent === "Live", null, { timeout: 60_000 });
    await waitForRows(page, 1200);
    await assertClean(assert, page, "(filling)");
    await page.context().close();
  } finally {
    await big.close();
  }
});

test("a live stream that ends (the proxy restarted) falls back to polling at once, then goes live again", async () => {
  const page = await c.open();
  await waitForRows(page, 160);
  await waitForMode(page, "live");
  const lists = [];
  page.on("request", (r) => new URL(r.url()).pathname === "/api/v1/instances" && lists.push(Date.now()));
  await c.proxy.restart();
  await waitForMode(page, "polling");
  assert.match(await page.getAttribute("#sync-mode", "title"), /the live stream ended|could not be opened or broke/);
  await page.waitForFunction(() => document.querySelector("#main")?.dataset.rows === "160", null, { timeout: 20_000 });
  await page.waitForFunction(() => /^Updated \d+ s ago/.test(document.getElementById("updated").textContent), null, { timeout: 20_000 });
  assert.ok(lists.length >= 1, "the page listed the fleet itself meanwhile");
  // 15 s after the break, at its next poll, it tries the stream again.
  await waitForMode(page, "live", 45_000);
  assert.equal(await page.textContent("#sync-mode"), "Live");
  await assertClean(assert, page, "(stream ended)");
  await page.context().close();
});
