// The console in headless Chromium, against the simulated clouds behind the edge proxy in workerd
// as `npm start` runs them (seed 1, 40 instances per provider, speed 5): sign-in, the fleet from
// all four providers, filter, sort, chips, details and copy, create (with the library's
// validation messages), Novita stop/start, SF Compute terminate/delete, a failing provider's
// banner, and a phone-width screen in dark mode. Screenshots go to test-output/console/.

import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { copyFileSync, mkdirSync, readFileSync, readdirSync } from "node:fs";
import { SECRETS, SHOTS, PROVIDERS, useConsole, openDetails, waitForRows, column, row, assertClean } from "./harness.mjs";
import { ROOT } from "../../scripts/proxy-runtime.mjs";

const c = useConsole();
let page;
const apiBodies = [];

async function statusOf(p, provider, id) {
  return row(p, provider, id).locator("td.c-status .badge").textContent();
}

test("the console's source puts no data into the page as HTML and nothing inline", () => {
  const www = join(ROOT, "www");
  const files = readdirSync(www).filter((f) => /\.(js|html|css)$/.test(f));
  assert.ok(files.includes("app.js") && files.includes("index.html"));
  for (const f of files.filter((x) => x.endsWith(".js"))) {
    const src = readFileSync(join(www, f), "utf8");
    assert.doesNotMatch(src, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|setAttribute\(\s*["'](style|on)/, f);
  }
  const html = readFileSync(join(www, "index.html"), "utf8");
  assert.doesNotMatch(html, /<script(?![^>]*\ssrc=)|<style|\sstyle=|\son[a-z]+=|javascript:/i, "index.html: no inline script, style or handler");
});

test("sign-in: the token prompt, a wrong token, #token=, sign-out", async () => {
  const p = await c.open({ token: false });
  await p.waitForSelector("#login:not([hidden])");
  assert.equal(await p.isHidden("#main"), true);
  await p.fill("#token", "not-the-token-0123456789");
  await p.click("#login button[type=submit]");
  await p.waitForFunction(() => document.getElementById("login-error").textContent.includes("token"));
  assert.match(await p.textContent("#login-error"), /not accepted|not valid/);
  assert.equal(await p.evaluate(() => sessionStorage.getItem("gpufleet.token")), null, "a refused token is not kept");
  assert.ok(p.problems.http.some((t) => t.includes("401")), "the proxy refused it");
  await p.fill("#token", c.token);
  await p.click("#login button[type=submit]");
  await waitForRows(p, 160);
  assert.equal(await p.evaluate(() => sessionStorage.getItem("gpufleet.token")), c.token);
  await p.click("#logout");
  await p.waitForSelector("#login:not([hidden])");
  assert.equal(await p.evaluate(() => sessionStorage.getItem("gpufleet.token")), null);
  assert.equal(await p.locator("#fleet tbody tr[data-key]").count(), 0, "signing out clears the table");
  await assertClean(assert, p, "(sign-in)");
  await p.context().close();
});

test("the read-only token lists and inspects but is offered no create or action", async () => {
  const p = await c.open({ token: c.readOnlyToken });
  await waitForRows(p, 160);
  await p.waitForSelector("#read-only:not([hidden])");
  assert.equal(await p.isHidden("#new-instance"), true, "no New instance button");
  const inst = (await c.state("novita")).find((i) => i.status === "running");
  await openDetails(p, "novita", inst.id);
  assert.equal(await p.locator("#details-body [data-action]").count(), 0, "no action buttons");
  assert.match(await p.textContent("#details-body .detail-actions"), /read-only/);
  assert.ok((await p.textContent("#details-body")).includes(inst.id), "the details still show");
  await p.screenshot({ path: join(SHOTS, "read-only.png") });
  await assertClean(assert, p, "(read-only)");
  await p.context().close();
});

test("the page loads the package in proxy mode and lists instances from all four providers", async () => {
  page = await c.open();
  const responses = [];
  page.on("response", (r) => responses.push(r));
  await waitForRows(page, 160);
  assert.equal(new URL(page.url()).hash, "", "#token= is taken off the URL");

  // The wasm came from /pkg/ as application/wasm under the console's CSP.
  const main = await page.request.get(`${c.url}/`);
  assert.match(main.headers()["content-security-policy"], /script-src 'self' 'wasm-unsafe-eval';/);
  const wasm = await page.request.get(`${c.url}/pkg/gpufleet_bg.wasm`);
  assert.equal(wasm.status(), 200);
  assert.equal(wasm.headers()["content-type"], "application/wasm");

  // Every provider's instances, as many as the simulator holds.
  for (const p of PROVIDERS) {
    const want = (await c.state(p)).length;
    assert.ok(want > 0);
    const chip = page.locator(`#provider-chips [data-provider="${p}"] .n`);
    assert.equal(Number(await chip.textContent()), want, `${p} count`);
  }
  const providersShown = await page.$$eval("#fleet tbody tr[data-key]", (trs) => [...new Set(trs.map((t) => t.dataset.provider))]);
  assert.ok(providersShown.length >= 1);
  for (const p of PROVIDERS) {
    await page.click(`#provider-chips [data-provider="${p}"]`);
    assert.deepEqual(await page.$$eval("#fleet tbody tr[data-key]", (trs) => [...new Set(trs.map((t) => t.dataset.provider))]), [p]);
    await page.click(`#provider-chips [data-provider="${p}"]`);
  }
  await waitForRows(page, 160);

  // Counts per status add up; badges carry the provider's word on hover.
  const statusCounts = await page.$$eval("#status-chips .chip", (cs) => cs.map((x) => Number(x.querySelector(".n").textContent)));
  assert.equal(statusCounts.reduce((a, b) => a + b, 0), 160);
  await page.click("#provider-chips [data-provider=novita]");
  const badge = page.locator("#fleet tbody tr[data-provider=novita] .badge").first();
  assert.match(await badge.getAttribute("title"), /^novita status: \S/);
  await page.click("#provider-chips [data-provider=novita]");
  assert.match(await page.textContent("#updated"), /^Updated \d+ s ago/);

  // No key on the page or in anything the page received.
  for (const r of responses) {
    if (!r.url().includes("/api/")) continue;
    assert.equal(r.request().headers().authorization, `Bearer ${c.token}`);
    // The live view's stream never ends: its events are scanned in tests/proxy/live.test.mjs.
    if (r.headers()["content-type"]?.startsWith("text/event-stream")) continue;
    apiBodies.push(await r.text().catch(() => ""));
  }
  const html = await page.content();
  for (const s of SECRETS) {
    assert.ok(!html.includes(s), "no provider key in the page");
    assert.ok(!apiBodies.some((b) => b.includes(s)), "no provider key in an API answer");
  }
  await page.screenshot({ path: join(SHOTS, "fleet.png") });

  // The README's picture: the whole fleet, newest first. UPDATE_README_SCREENSHOT=1 copies it to
  // docs/console.png.
  await page.click("th[data-col=age] button");
  assert.equal(await page.getAttribute("th[data-col=age]", "aria-sort"), "ascending");
  await page.evaluate(() => document.activeElement?.blur());
  await page.screenshot({ path: join(SHOTS, "readme.png") });
  if (process.env.UPDATE_README_SCREENSHOT) {
    mkdirSync(join(ROOT, "docs"), { recursive: true });
    copyFileSync(join(SHOTS, "readme.png"), join(ROOT, "docs", "console.png"));
  }
  await page.click("th[data-col=provider] button");
  assert.equal(await page.getAttribute("th[data-col=provider]", "aria-sort"), "ascending");
  await assertClean(assert, page, "(load)");
});

test("filter and sort", async () => {
  const novita = await c.state("novita");
  const target = (await c.state("fal")).find((i) => i.ip);
  // By IP: that instance, and only instances whose IP contains it (…100.2 also matches …100.23).
  const sameIp = (await Promise.all(PROVIDERS.map((p) => c.state(p)))).flat().filter((i) => (i.ip || "").includes(target.ip));
  await page.fill("#filter", target.ip);
  await waitForRows(page, sameIp.length);
  assert.ok((await page.$$eval("#fleet tbody tr[data-key]", (trs) => trs.map((t) => t.dataset.key))).includes(`fal/${target.id}`));
  assert.ok((await column(page, "c-ip")).every((ip) => ip.includes(target.ip)));
  // By name (case-insensitive part).
  const named = novita.find((i) => i.name && i.name.length > 4);
  await page.fill("#filter", named.name.slice(1, -1).toUpperCase());
  await page.waitForFunction((key) => [...document.querySelectorAll("#fleet tbody tr[data-key]")].some((t) => t.dataset.key === key), `novita/${named.id}`);
  // By type: every row shown has it.
  await page.fill("#filter", "gpu_8x");
  await page.waitForFunction(() => Number(document.getElementById("main").dataset.rows) < 160);
  const types = await column(page, "c-type");
  assert.ok(types.length > 0 && types.every((t) => t.includes("gpu_8x")), "every row matches the type filter");
  // Nothing matches: the empty state with a way out.
  await page.fill("#filter", "no-such-instance-anywhere");
  await waitForRows(page, 0);
  assert.equal(await page.isVisible("#empty"), true);
  assert.match(await page.textContent("#empty-text"), /No instance matches/);
  await page.click("#clear-filters");
  await waitForRows(page, 160);
  assert.equal(await page.inputValue("#filter"), "");

  // Sort by IP ascending then descending (IPv4 compared numerically, rows without IP last).
  const ipKey = (ip) => ip.split(".").map((p) => p.padStart(3, "0")).join(".");
  await page.click("th[data-col=ip] button");
  assert.equal(await page.getAttribute("th[data-col=ip]", "aria-sort"), "ascending");
  let ips = (await column(page, "c-ip")).filter(Boolean).map(ipKey);
  assert.ok(ips.length > 10);
  assert.deepEqual(ips, [...ips].sort(), "ascending by IP");
  await page.click("th[data-col=ip] button");
  assert.equal(await page.getAttribute("th[data-col=ip]", "aria-sort"), "descending");
  ips = (await column(page, "c-ip")).filter(Boolean).map(ipKey);
  assert.deepEqual(ips, [...ips].sort().reverse(), "descending by IP");
  // Sort by GPUs: numeric.
  await page.click("th[data-col=gpus] button");
  const gpus = (await column(page, "c-gpus")).filter(Boolean).map((t) => Number(t.split(" ")[0]));
  assert.deepEqual(gpus, [...gpus].sort((a, b) => a - b));
  // Sort by status follows the lifecycle order.
  await page.click("th[data-col=status] button");
  const order = ["pending", "provisioning", "running", "stopping", "stopped", "terminating", "terminated", "failed", "unknown"];
  const st = (await column(page, "c-status")).map((t) => order.indexOf(t.replace(/→.*/, "").trim()));
  assert.deepEqual(st, [...st].sort((a, b) => a - b));

  // Status chip: only that status, and its count is the number of rows.
  const running = page.locator("#status-chips [data-status=running]");
  const n = Number(await running.locator(".n").textContent());
  await running.click();
  await waitForRows(page, n);
  assert.equal(await running.getAttribute("aria-pressed"), "true");
  const statuses = await page.$$eval("#fleet tbody tr[data-key]", (trs) => [...new Set(trs.map((t) => t.dataset.status))]);
  assert.deepEqual(statuses, ["running"]);
  await page.screenshot({ path: join(SHOTS, "filter-running.png") });
  await running.click();
  await page.click("th[data-col=provider] button");
  await waitForRows(page, 160);
  await assertClean(assert, page, "(filter, sort)");
});

test("details: every field, the raw record, copy IP and SSH command", async () => {
  const inst = (await c.state("fal")).find((i) => i.status === "ready" && i.ip);
  await openDetails(page, "fal", inst.id);
  const labels = await page.$$eval("#details-body dl.fields > dt", (dts) => dts.map((d) => d.textContent));
  for (const l of ["Provider", "Id", "Name", "Status", "Provider status", "Status reason", "Instance type", "GPUs", "GPU model", "Region / cluster", "Sector", "IP", "SSH command", "Created", "Tags"]) {
    assert.ok(labels.includes(l), `field ${l}`);
  }
  const raw = JSON.parse(await page.textContent("#details-body pre.raw"));
  assert.deepEqual(raw, inst, "the raw record is the provider's record");

  const ipDd = page.locator("#details-body dt:text-is('IP') + dd");
  assert.equal(await ipDd.locator("code").textContent(), inst.ip);
  await ipDd.locator("button[data-copy=IP]").click();
  await page.waitForFunction(() => document.querySelector("button[data-copy=IP]")?.textContent === "Copied");
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), inst.ip);
  const sshDd = page.locator("#details-body dt:text-is('SSH command') + dd");
  const cmd = await sshDd.locator("code").textContent();
  assert.equal(cmd, `ssh ${inst.ip}`);
  await sshDd.locator("button[data-copy='SSH command']").click();
  await page.waitForFunction(() => document.querySelector("button[data-copy='SSH command']")?.textContent === "Copied");
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), cmd);
  await page.screenshot({ path: join(SHOTS, "details.png") });

  // SF Compute: SSH details come from their own endpoint, on request.
  const sfc = (await c.state("sfcompute")).find((i) => i.status === "running");
  await openDetails(page, "sfcompute", sfc.id);
  await page.click("#details-body [data-action=ssh]");
  const sfcCmd = page.locator("#details-body section.ssh dt:text-is('SSH command') + dd");
  await sfcCmd.waitFor();
  assert.match(await sfcCmd.locator("code").textContent(), /^ssh (-p \d+ )?\d+\.\d+\.\d+\.\d+$/);
  assert.match(await page.textContent("#details-body section.ssh"), /ssh-ed25519 AAAA/);
  await sfcCmd.locator("button[data-copy='SSH command']").click();
  await page.waitForFunction(() => document.querySelector("section.ssh button[data-copy='SSH command']")?.textContent === "Copied");
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), await sfcCmd.locator("code").textContent());
  await page.click("#details-close");
  await page.fill("#filter", "");
  await assertClean(assert, page, "(details)");
});

test("create a fal instance, with the library's validation messages, and watch it reach running", async () => {
  const { Fleet } = await import("../../pkg/node.js");
  const lib = new Fleet({ proxy: { url: `${c.url}/api`, token: c.token } });
  const libError = async (input) => lib.create("fal", input).then(() => assert.fail("the library accepted it"), (e) => e);
  // The form says each problem in words: the field's label and the library's rule, no `input.` path.
  const labels = Object.fromEntries(lib.capabilities("fal").createFields.map((f) => [f.name, f.label]));
  const inWords = (e) => `${labels[e.field.replace(/^input\./, "")]} ${e.message.slice(`${e.field}: `.length)}`;
  const libMessage = async (input) => inWords(await libError(input));

  await page.click("#new-instance");
  await page.waitForSelector("#create:not([hidden])");
  await page.selectOption("#create-provider", "fal");
  const fields = await page.$$eval("#create-fields .field", (fs) => fs.map((f) => f.dataset.field));
  assert.deepEqual(fields, lib.capabilities("fal").createFields.map((f) => f.name), "the form is built from createFields");

  // Empty: every missing field at once (#18), each next to its input in words.
  await page.click("#create-submit");
  const typeError = page.locator(".field[data-field=instanceType] .field-error");
  await typeError.waitFor({ state: "visible" });
  assert.equal(await typeError.textContent(), await libMessage({}));
  assert.equal(await typeError.textContent(), "Instance type is required");
  assert.equal(await page.textContent(".field[data-field=sshKey] .field-error"), `${labels.sshKey} is required`);
  assert.deepEqual((await libError({})).details.map((d) => d.field), ["input.instanceType", "input.sshKey"]);
  assert.equal(await page.textContent("#create-error"), "", "no raw path above the form");
  // Not an SSH public key: refused by the library before any request, next to "sshKey" (#18).
  await page.selectOption("#cf-instanceType", "gpu_1x_h100_sxm5");
  await page.fill("#cf-sshKey", "not-a-key");
  await page.click("#create-submit");
  const keyError = page.locator(".field[data-field=sshKey] .field-error");
  await keyError.waitFor({ state: "visible" });
  assert.equal(await keyError.textContent(), await libMessage({ instanceType: "gpu_1x_h100_sxm5", sshKey: "not-a-key" }));
  assert.match(await keyError.textContent(), /must be an SSH public key/);
  // 1× H100 with a sector: the library's rule, shown next to "sector".
  await page.fill("#cf-sshKey", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM1outtTd7rm8LaDTtENTqynJVQeK/YgFBsxefmB6Cu2 console@test");
  await page.selectOption("#cf-sector", "sector_1");
  await page.click("#create-submit");
  const sectorError = page.locator(".field[data-field=sector] .field-error");
  await sectorError.waitFor({ state: "visible" });
  assert.equal(await sectorError.textContent(), await libMessage({ instanceType: "gpu_1x_h100_sxm5", sshKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM1outtTd7rm8LaDTtENTqynJVQeK/YgFBsxefmB6Cu2", sector: "sector_1" }));
  assert.equal(await typeError.textContent(), "", "the earlier message is cleared");
  assert.equal(await keyError.textContent(), "", "the key's message is cleared");
  assert.equal((await c.control("GET", "/requests?provider=fal")).filter((r) => r.method === "POST").length, 0, "nothing was sent to fal");
  await page.screenshot({ path: join(SHOTS, "create-validation.png") });

  lib.free();
  await page.selectOption("#cf-sector", "");
  await page.click("#create-submit");
  await page.waitForSelector("#create", { state: "hidden" });
  await page.waitForSelector("#details:not([hidden])");
  const posts = (await c.control("GET", "/requests?provider=fal")).filter((r) => r.method === "POST");
  assert.equal(posts.length, 1, "one create request");
  const id = (await page.textContent("#details-body dd code")).trim();
  assert.match(id, /^inst_/);
  // The row shows the transition live, then running.
  await page.fill("#filter", id);
  await waitForRows(page, 1);
  const r = row(page, "fal", id);
  await r.locator(".transition").waitFor({ timeout: 10_000 });
  assert.match(await r.locator(".transition").textContent(), /→ running/);
  assert.notEqual(await statusOf(page, "fal", id), "running");
  await page.screenshot({ path: join(SHOTS, "create-transition.png") });
  await page.waitForFunction((key) => document.querySelector(`#fleet tr[data-key="${key}"] .badge`)?.textContent === "running", `fal/${id}`, { timeout: 30_000 });
  await r.locator(".transition").waitFor({ state: "detached" });
  assert.match(await page.textContent("#details-body .detail-actions"), /reports running \(ready\)/);
  const sim = (await c.state("fal")).find((i) => i.id === id);
  assert.equal(sim.status, "ready");
  assert.equal(sim.instance_type, "gpu_1x_h100_sxm5");
  await page.click("#details-close");
  await page.fill("#filter", "");
  await assertClean(assert, page, "(create)");
});

test("stop and start a Novita instance, each after a confirm step", async () => {
  const inst = (await c.state("novita")).find((i) => i.status === "running" && !i.statusError);
  await c.control("DELETE", "/requests");
  await openDetails(page, "novita", inst.id);
  // Novita offers start/stop/restart/delete, no terminate; a running instance cannot be started.
  const actions = () => page.$$eval("#details-body .detail-actions [data-action]", (bs) => bs.map((b) => b.dataset.action));
  assert.deepEqual(await actions(), ["stop", "restart", "delete"]);
  // Cancel sends nothing.
  await page.click("#details-body [data-action=stop]");
  assert.match(await page.textContent("#details-body .confirm"), /^Stop Novita instance/);
  await page.click("#details-body .confirm button:not([data-confirm])");
  await page.waitForSelector("#details-body .confirm", { state: "detached" });
  assert.equal((await c.control("GET", "/requests?provider=novita")).filter((r) => r.method === "POST").length, 0, "cancel sent nothing");

  await page.click("#details-body [data-action=stop]");
  await page.click("#details-body [data-confirm=stop]");
  const r = row(page, "novita", inst.id);
  await r.locator(".transition").waitFor({ timeout: 10_000 });
  assert.match(await r.locator(".transition").textContent(), /→ stopped/);
  await page.waitForFunction((key) => document.querySelector(`#fleet tr[data-key="${key}"] .badge`)?.textContent === "stopped", `novita/${inst.id}`, { timeout: 30_000 });
  assert.equal((await c.state("novita")).find((i) => i.id === inst.id).status, "exited");
  await page.screenshot({ path: join(SHOTS, "novita-stopped.png") });

  await page.waitForSelector("#details-body [data-action=start]");
  assert.deepEqual(await actions(), ["start", "delete"]);
  await page.click("#details-body [data-action=start]");
  await page.click("#details-body [data-confirm=start]");
  await page.waitForFunction((key) => document.querySelector(`#fleet tr[data-key="${key}"] .badge`)?.textContent === "running", `novita/${inst.id}`, { timeout: 30_000 });
  assert.equal((await c.state("novita")).find((i) => i.id === inst.id).status, "running");
  const posts = (await c.control("GET", "/requests?provider=novita")).filter((r) => r.method === "POST").map((r) => r.path);
  assert.deepEqual(posts.map((p) => p.split("/").pop()), ["stop", "start"]);
  await page.click("#details-close");
  await page.fill("#filter", "");
  await assertClean(assert, page, "(novita)");
});

test("terminate then delete an SF Compute instance", async () => {
  const inst = (await c.state("sfcompute")).find((i) => i.status === "running");
  await openDetails(page, "sfcompute", inst.id);
  const actions = await page.$$eval("#details-body .detail-actions [data-action]", (bs) => bs.map((b) => b.dataset.action));
  // SF Compute deletes only an ended instance (a 409 otherwise): a running one offers terminate (fleet.actionsFor).
  assert.deepEqual(actions, ["terminate"]);
  await page.click("#details-body [data-action=terminate]");
  assert.match(await page.textContent("#details-body .confirm"), /for good/);
  await page.click("#details-body [data-confirm=terminate]");
  await page.waitForFunction((key) => document.querySelector(`#fleet tr[data-key="${key}"] .badge`)?.textContent === "terminated", `sfcompute/${inst.id}`, { timeout: 30_000 });
  assert.equal((await c.state("sfcompute")).find((i) => i.id === inst.id).status, "terminated");

  await page.waitForSelector("#details-body [data-action=delete]");
  assert.deepEqual(await page.$$eval("#details-body .detail-actions [data-action]", (bs) => bs.map((b) => b.dataset.action)), ["delete"]);
  await page.click("#details-body [data-action=delete]");
  assert.match(await page.textContent("#details-body .confirm"), /cannot be undone/);
  await page.click("#details-body [data-confirm=delete]");
  await row(page, "sfcompute", inst.id).waitFor({ state: "detached", timeout: 30_000 });
  await page.waitForFunction(() => /no longer listed|gone/.test(document.getElementById("details-body").textContent));
  assert.equal((await c.state("sfcompute")).find((i) => i.id === inst.id), undefined, "gone from the provider");
  await waitForRows(page, 0);
  await page.screenshot({ path: join(SHOTS, "sfcompute-deleted.png") });
  await page.click("#details-close");
  await page.fill("#filter", "");
  await assertClean(assert, page, "(sfcompute)");
});

test("a failing provider gets its banner while the others keep showing; the refresh backs off", async () => {
  await page.click("#refresh");
  await page.waitForFunction(() => /^Updated/.test(document.getElementById("updated").textContent));
  const before = Number(await page.textContent("#provider-chips [data-provider=fal] .n"));
  await c.control("POST", "/faults", { provider: "novita", kinds: [503] });
  try {
    await page.click("#refresh");
    const banner = page.locator("#banners [data-provider=novita]");
    await banner.waitFor({ timeout: 30_000 });
    assert.match(await banner.textContent(), /^Novita is failing: .*\(server, HTTP 503.*Showing its \d+ instances as last seen at/);
    assert.equal(await page.locator("#banners .banner").count(), 1, "one banner: only Novita fails");
    assert.equal(Number(await page.textContent("#provider-chips [data-provider=fal] .n")), before, "fal still listed");
    for (const p of ["fal", "fal-alpha", "sfcompute"]) {
      await page.click(`#provider-chips [data-provider="${p}"]`);
      assert.ok(Number(await page.getAttribute("#main", "data-rows")) > 0, `${p} rows still shown`);
      assert.equal(await page.locator("#fleet tbody tr.stale").count(), 0, `${p} rows are fresh`);
      await page.click(`#provider-chips [data-provider="${p}"]`);
    }
    await page.click("#provider-chips [data-provider=novita]");
    assert.ok(await page.locator("#fleet tbody tr.stale").count() > 0, "Novita's last known rows are marked stale");
    await page.click("#provider-chips [data-provider=novita]");
    await page.waitForFunction(() => /retrying in \d+ s/.test(document.getElementById("updated").textContent));
    await page.screenshot({ path: join(SHOTS, "provider-failing.png") });
  } finally {
    await c.control("DELETE", "/faults");
  }
  await page.click("#refresh");
  await page.locator("#banners [data-provider=novita]").waitFor({ state: "detached", timeout: 30_000 });
  assert.equal(await page.locator("#fleet tbody tr.stale").count(), 0);
  assert.doesNotMatch(await page.textContent("#updated"), /retrying/);

  // A hidden tab pauses the refresh.
  await page.evaluate(() => {
    Object.defineProperty(document, "hidden", { configurable: true, get: () => true });
    document.dispatchEvent(new Event("visibilitychange"));
  });
  assert.match(await page.textContent("#updated"), /paused while hidden/);
  await page.evaluate(() => {
    delete document.hidden;
    document.dispatchEvent(new Event("visibilitychange"));
  });
  // Failed fetches of the fault are console errors in Chromium only for non-2xx answers: the
  // fleet listing answered 200 with the failure inside, so the page stays clean.
  await assertClean(assert, page, "(fault)");
});

test("a phone-width screen in dark mode", async () => {
  const p = await c.open({ viewport: { width: 390, height: 844 }, colorScheme: "dark" });
  await waitForRows(p, null);
  const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `no sideways scrolling (overflow ${overflow}px)`);
  const nameWidth = await p.$eval("#fleet th[data-col=name]", (th) => th.getBoundingClientRect().width);
  assert.ok(nameWidth >= 120, `the name column stays readable (${nameWidth}px)`);
  const bg = await p.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
  assert.notEqual(bg, "rgb(255, 255, 255)", "dark background");
  await p.screenshot({ path: join(SHOTS, "phone-dark.png") });
  await p.locator("#fleet tbody tr[data-key]").first().click();
  await p.waitForSelector("#details:not([hidden])");
  const w = await p.$eval("#details", (d) => d.getBoundingClientRect().width);
  assert.equal(Math.round(w), 390, "details take the whole width");
  await p.screenshot({ path: join(SHOTS, "phone-dark-details.png") });
  await assertClean(assert, p, "(phone)");
  await p.context().close();
});
