// The console an operator keeps open all day (issue #18): the actions offered follow the library's
// rule (fleet.actionsFor), a row acted on stays in view while a chip would hide it, and filled
// buttons and pressed chips stay readable on hover in both themes.

import { test } from "node:test";
import assert from "node:assert/strict";
import { useConsole, openDetails, waitForRows, row, assertClean } from "./harness.mjs";

const c = useConsole();

const actions = (p) => p.$$eval("#details-body .detail-actions [data-action]", (bs) => bs.map((b) => b.dataset.action));

test("a failed Novita instance that exited offers Start and Delete, not Stop or Restart", async () => {
  const inst = (await c.state("novita")).find((i) => i.status === "running" && !i.statusError);
  await c.control("POST", "/force-status", { provider: "novita", id: inst.id, status: "exited", statusError: { state: "exited", message: "container exited with code 137" } });
  const page = await c.open();
  await waitForRows(page);
  await openDetails(page, "novita", inst.id);
  assert.equal(await row(page, "novita", inst.id).locator(".badge").textContent(), "failed");
  assert.deepEqual(await actions(page), ["start", "delete"]);
  await assertClean(assert, page, "(failed novita)");
  await page.context().close();
});

test("fleet.actionsFor follows provider and status", async () => {
  const { Fleet } = await import("../../pkg/node.js");
  const f = new Fleet({ proxy: { url: `${c.url}/api`, token: c.token } });
  try {
    assert.deepEqual(f.actionsFor({ provider: "novita", status: "failed", providerStatus: "exited" }), ["start", "delete"]);
    assert.deepEqual(f.actionsFor({ provider: "novita", status: "running", providerStatus: "running" }), ["stop", "restart", "delete"]);
    assert.deepEqual(f.actionsFor({ provider: "sfcompute", status: "running", providerStatus: "running" }), ["terminate"]);
    assert.deepEqual(f.actionsFor({ provider: "fal", status: "running", providerStatus: "ready" }), ["delete"]);
    assert.throws(() => f.actionsFor({ provider: "novita", status: "asleep" }), (e) => e.code === "invalidInput" && e.field === "instance.status");
  } finally {
    f.free();
  }
});

test("a row being stopped stays in view with the running chip on until its action ends", async () => {
  const inst = (await c.state("novita")).find((i) => i.status === "running" && !i.statusError);
  const page = await c.open();
  await waitForRows(page);
  await page.fill("#filter", inst.id);
  await waitForRows(page, 1);
  await page.click("#status-chips [data-status=running]");
  await row(page, "novita", inst.id).waitFor();
  await row(page, "novita", inst.id).click();
  await page.waitForSelector("#details:not([hidden])");
  await page.click("#details-body [data-action=stop]");
  await page.click("#details-body [data-confirm=stop]");
  // No longer running, still listed (the chip alone would hide it), marked as being acted on.
  await page.waitForFunction((key) => {
    const tr = document.querySelector(`#fleet tr[data-key="${key}"]`);
    const badge = tr?.querySelector(".badge")?.textContent;
    return tr && tr.querySelector(".transition") && badge && badge !== "running";
  }, `novita/${inst.id}`, { timeout: 30_000 });
  // Once the action ends, the chip applies again.
  await row(page, "novita", inst.id).waitFor({ state: "detached", timeout: 30_000 });
  assert.equal((await c.state("novita")).find((i) => i.id === inst.id).status, "exited");
  await assertClean(assert, page, "(stop under a chip)");
  await page.context().close();
});

test("a Novita instance's details read the instance for its IP and SSH, which its list answer lacks", async () => {
  const inst = (await c.state("novita")).find((i) => i.status === "running" && !i.statusError && i.id);
  await c.control("DELETE", "/requests");
  const page = await c.open();
  await waitForRows(page);
  await openDetails(page, "novita", inst.id);
  assert.equal(await row(page, "novita", inst.id).locator("td.c-ip").textContent(), "", "the list gives no IP");
  const fields = () => page.$$eval("#details-body > dl.fields > dt", (dts) => Object.fromEntries(dts.map((dt) => [dt.textContent, dt.nextElementSibling.textContent])));
  await page.waitForFunction(() => [...document.querySelectorAll("#details-body > dl.fields > dt")].some((dt) => dt.textContent === "SSH host"), null, { timeout: 15_000 });
  const f = await fields();
  const host = f["SSH host"].split(":")[0];
  assert.match(f.IP, new RegExp(`^${host.replace(/\./g, "\\.")}`), "the IP field agrees with the SSH host");
  const gets = (await c.control("GET", "/requests?provider=novita")).filter((r) => r.method === "GET" && JSON.stringify(r).includes(inst.id));
  assert.ok(gets.length >= 1, "the instance was read");
  await assertClean(assert, page, "(novita details)");
  await page.context().close();
});

test("fal and fal alpha details say which fields their provider never sends", async () => {
  const page = await c.open();
  await waitForRows(page);
  const fields = () => page.$$eval("#details-body > dl.fields > dt", (dts) => Object.fromEntries(dts.map((dt) => [dt.textContent, dt.nextElementSibling.textContent])));
  const alpha = (await c.state("fal-alpha"))[0];
  await openDetails(page, "fal-alpha", alpha.id);
  let f = await fields();
  assert.match(f["Region / cluster"], /fal alpha does not report a region/);
  assert.match(f.Created, /fal alpha does not report when an instance was created/);
  await page.click("#details-close");
  const fal = (await c.state("fal")).find((i) => i.region);
  await openDetails(page, "fal", fal.id);
  f = await fields();
  assert.equal(f["Region / cluster"], fal.region, "a region fal sends is shown as is");
  assert.match(f.Created, /fal does not report when an instance was created/);
  await assertClean(assert, page, "(not sent)");
  await page.context().close();
});

test("time in the current status: the provider's start time where it gives one, else since first seen; failed and stuck rows are flagged", async () => {
  const novita = await c.state("novita");
  const failed = novita.find((i) => i.status === "exited" && i.statusError);
  assert.ok(failed, "the first test left a failed Novita instance");
  const stuck = novita.find((i) => i.status === "running" && !i.statusError);
  await c.control("POST", "/force-status", { provider: "novita", id: stuck.id, status: "pulling" });
  const running = (await c.state("novita")).find((i) => i.status === "running" && !i.statusError && i.id !== stuck.id);
  const page = await c.open({ time: Date.now() });
  await waitForRows(page);
  const fields = () => page.$$eval("#details-body > dl.fields > dt", (dts) => Object.fromEntries(dts.map((dt) => [dt.textContent, dt.nextElementSibling.textContent])));

  await openDetails(page, "novita", failed.id);
  assert.match(await row(page, "novita", failed.id).getAttribute("class"), /attention-failed/);
  await page.click("#details-close");

  await openDetails(page, "novita", running.id);
  assert.match((await fields())["In this status"], /since \d{4}-\d\d-\d\dT.*the provider's startedAt/);
  await page.click("#details-close");

  await openDetails(page, "novita", stuck.id);
  assert.match((await fields())["In this status"], /since this console first saw it/);
  assert.doesNotMatch(await row(page, "novita", stuck.id).getAttribute("class"), /attention/);
  // 16 minutes later, still provisioning: flagged as stuck, with how long.
  await page.clock.fastForward(16 * 60_000);
  await page.waitForFunction((key) => document.querySelector(`#fleet tr[data-key="${key}"]`)?.classList.contains("attention-stuck"), `novita/${stuck.id}`, { timeout: 30_000 });
  assert.match(await row(page, "novita", stuck.id).locator(".attention").textContent(), /^stuck 16 min$/);
  assert.match((await fields())["In this status"], /^16 min \(stuck\?\) since this console first saw it/);
  await assertClean(assert, page, "(status since)");
  await page.context().close();
});

/** WCAG contrast ratio of two `rgb(…)` colours. */
function contrast(a, b) {
  const lum = (s) => {
    const [r, g, bl] = s.match(/[\d.]+/g).slice(0, 3).map((v) => Number(v) / 255).map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [x, y] = [lum(a), lum(b)].sort((m, n) => n - m);
  return (x + 0.05) / (y + 0.05);
}

for (const colorScheme of ["light", "dark"]) {
  test(`the primary button and a pressed chip stay readable on hover (${colorScheme})`, async () => {
    const page = await c.open({ colorScheme });
    await waitForRows(page);
    await page.click("#status-chips [data-status=running]");
    const colours = async (sel) => {
      await page.hover(sel);
      return page.$eval(sel, (el) => [getComputedStyle(el).color, getComputedStyle(el).backgroundColor]);
    };
    for (const sel of ["#new-instance", "#status-chips [data-status=running]"]) {
      await page.waitForSelector(`${sel}:not([hidden])`);
      const [fg, bg] = await colours(sel);
      assert.ok(contrast(fg, bg) >= 4.5, `${sel} on hover: ${fg} on ${bg} (contrast ${contrast(fg, bg).toFixed(2)})`);
    }
    await assertClean(assert, page, `(hover ${colorScheme})`);
    await page.context().close();
  });
}
