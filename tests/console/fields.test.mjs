// The console and the 2026 instance fields, against the simulator's SF Compute July shape and its
// Novita spot instances, with the sim clock frozen (speed 0): the details panel shows pool,
// priority level, managed by, public IPv4, billing mode, spot status and reclaim time; the row of
// a spot instance with a notified reclaim counts down to it, live.
//
// The countdown runs on the browser's clock (Date.now()), not the sim's: `reclaimAt` is an absolute
// instant, a real provider's clock is not visible to the page, and the frozen sim clock is a test
// device that no real cloud has. So the test sets the page's clock (Playwright's fake clock) to
// known distances from the instance's reclaim time and moves it; the sim stays put.

import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { SHOTS, useConsole, openDetails, waitForRows, row, assertClean } from "./harness.mjs";

const c = useConsole({ sim: { sfcShape: "july", speed: 0 } });

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const iso = (secs) => new Date(Number(secs) * 1000).toISOString().replace(".000Z", "Z");

/** The details panel's normalized fields, label → text. */
function detailFields(p) {
  return p.$$eval("#details-body > dl.fields > dt", (dts) => Object.fromEntries(dts.map((dt) => [dt.textContent, dt.nextElementSibling.textContent])));
}

/** Waits until `locator`'s text matches `re`; returns it. */
async function waitText(locator, re) {
  const handle = await locator.elementHandle();
  await handle.evaluate((el, src) => new Promise((resolve) => {
    const check = () => (new RegExp(src).test(el.textContent) ? resolve() : setTimeout(check, 50));
    check();
  }), re.source);
  return locator.textContent();
}

test("a notified spot instance's row counts down to its reclaim on the browser's clock, live, then says it is due", async () => {
  const novita = await c.state("novita");
  const spot = novita.find((i) => i.billingMode === "spot" && i.spotStatus === "notified" && i.status === "running");
  assert.ok(spot, "the simulator serves a spot instance with a notified reclaim");
  const at = Number(spot.spotReclaimTime) * 1000;

  const p = await c.open({ time: at - (42 * 60 + 10) * 1000 });
  await waitForRows(p);
  await p.fill("#filter", spot.id);
  await waitForRows(p, 1);
  const line = row(p, "novita", spot.id).locator("td.c-status .reclaim");
  assert.equal(await line.textContent(), "reclaim in 42 min");
  assert.equal(await line.getAttribute("title"), `spot reclaim at ${iso(spot.spotReclaimTime)} (notified)`);
  assert.equal(await row(p, "novita", spot.id).locator("td.c-status .badge").textContent(), "running", "the badge is unchanged");

  // The details say the same, and count down with the row.
  await row(p, "novita", spot.id).click();
  await p.waitForSelector("#details:not([hidden])");
  let f = await detailFields(p);
  assert.equal(f.Billing, "spot");
  assert.equal(f["Spot status"], "notified");
  assert.equal(f["Spot reclaim"], `${iso(spot.spotReclaimTime)} · reclaim in 42 min`);
  await p.screenshot({ path: join(SHOTS, "spot-reclaim.png") });

  // Time passes on the page (no new listing is needed: the line follows the clock every second).
  await p.clock.setSystemTime(at - 37 * 60 * 1000 - 5000);
  assert.equal(await waitText(line, /37 min/), "reclaim in 37 min");
  await p.clock.setSystemTime(at - 30 * 1000);
  assert.match(await waitText(line, / s$/), /^reclaim in (30|29|28) s$/);
  assert.equal(await line.evaluate((el) => el.classList.contains("due")), false);
  await p.clock.setSystemTime(at + 2000);
  assert.equal(await waitText(line, /due/), "reclaim due");
  assert.equal(await line.evaluate((el) => el.classList.contains("due")), true);
  f = await detailFields(p);
  assert.equal(f["Spot reclaim"], `${iso(spot.spotReclaimTime)} · reclaim due`);
  await assertClean(assert, p, "(spot countdown)");
  await p.context().close();
});

test("only a scheduled reclaim shows in a row: spot instances without one and on-demand ones show none", async () => {
  const novita = await c.state("novita");
  const p = await c.open();
  await waitForRows(p);
  const notified = novita.filter((i) => i.spotStatus === "notified");
  const quiet = novita.filter((i) => i.spotStatus === "running" && i.spotReclaimTime === "0").slice(0, 2);
  const onDemand = novita.filter((i) => i.billingMode !== "spot").slice(0, 2);
  assert.ok(notified.length >= 1 && quiet.length >= 1 && onDemand.length >= 1);
  for (const i of notified) {
    await p.fill("#filter", i.id);
    await waitForRows(p, 1);
    assert.match(await row(p, "novita", i.id).locator("td.c-status .reclaim").textContent(), /^reclaim (in \d+ (s|min|h|d)|due)$/, i.id);
  }
  for (const i of [...quiet, ...onDemand]) {
    await p.fill("#filter", i.id);
    await waitForRows(p, 1);
    assert.equal(await row(p, "novita", i.id).locator("td.c-status .reclaim").count(), 0, `${i.id} (${i.billingMode})`);
    const cell = row(p, "novita", i.id).locator("td.c-status");
    assert.equal(await cell.textContent(), await cell.locator(".badge").textContent(), "nothing but the badge");
  }
  // A spot instance without a reclaim: its details say so.
  await openDetails(p, "novita", quiet[0].id);
  const f = await detailFields(p);
  assert.deepEqual([f.Billing, f["Spot status"], f["Spot reclaim"]], ["spot", "running", "none scheduled"]);
  await p.click("#details-close");
  await openDetails(p, "novita", onDemand[0].id);
  const g = await detailFields(p);
  assert.equal(g.Billing, onDemand[0].billingMode);
  assert.equal("Spot status" in g, false, "no spot fields on an on-demand instance");
  await assertClean(assert, p, "(spot rows)");
  await p.context().close();
});

test("SF Compute's July fields in the details: pool, priority level, managed by, public IPv4", async () => {
  const sfc = await c.state("sfcompute");
  assert.ok(sfc.every((i) => "pool" in i), "the simulator serves the July shape");
  const managed = sfc.find((i) => i.managed_by?.object === "spot_deployment") ?? sfc.find((i) => i.managed_by);
  const withIp = sfc.find((i) => i.enable_public_ipv4);
  const plain = sfc.find((i) => !i.managed_by && !i.enable_public_ipv4);
  assert.ok(managed && withIp && plain, "the seeded fleet has managed, public-IPv4 and plain instances");
  const p = await c.open();
  await waitForRows(p);

  for (const s of [managed, withIp, plain]) {
    await openDetails(p, "sfcompute", s.id);
    const f = await detailFields(p);
    assert.equal(f.Pool, `${s.pool.name} ${s.pool.id}`, s.id);
    assert.equal(f["Priority level"], s.priority_level, s.id);
    assert.equal(f["Managed by"], s.managed_by ? `${s.managed_by.object}: ${s.managed_by.name} ${s.managed_by.id}` : undefined, s.id);
    assert.equal(f["Public IPv4"], s.enable_public_ipv4 ? "yes" : "no (only SSH is reachable)", s.id);
    if (s.enable_public_ipv4) assert.match(f.IP, new RegExp(`^${s.public_ip.replace(/\./g, "\\.")}`), "the public IP is the IP");
    assert.equal("Billing" in f || "Spot status" in f, false, "no Novita fields");
    await p.click("#details-close");
  }
  await openDetails(p, "sfcompute", managed.id);
  const cell = row(p, "sfcompute", managed.id).locator("td.c-status");
  assert.equal(await cell.textContent(), await cell.locator(".badge").textContent(), "no reclaim line outside spot instances");
  await p.screenshot({ path: join(SHOTS, "sfc-july-details.png") });
  await p.click("#details-close");

  // fal has none of them.
  const fal = (await c.state("fal"))[0];
  await openDetails(p, "fal", fal.id);
  const f = await detailFields(p);
  for (const label of ["Pool", "Priority level", "Managed by", "Public IPv4", "Billing", "Spot status", "Spot reclaim"]) {
    assert.equal(label in f, false, label);
  }
  await assertClean(assert, p, "(July details)");
  await p.context().close();
});
