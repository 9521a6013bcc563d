// The console an operator keeps open all day (issue #18): compact rows and the column chooser
// (kept per browser), the view in the URL (reload, links, back button), grouping, the keyboard
// (`/` j k Enter Esc), CSV/JSON export of the view, and bulk stop/delete with one instance failing
// — per-instance errors, the others done, each instance acted on exactly once (the sim's request
// log). Screenshots of compact and regular rows, both themes and phone width: test-output/console/
// (UPDATE_README_SCREENSHOT=1 copies them to docs/).

import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { SHOTS, useConsole, waitForRows, row, assertClean } from "./harness.mjs";
import { ROOT } from "../../scripts/proxy-runtime.mjs";

const c = useConsole();

const query = (p) => Object.fromEntries(new URL(p.url()).searchParams);
const renderedKeys = (p) => p.$$eval("#fleet tbody tr[data-key]", (trs) => trs.map((t) => t.dataset.key));
const rowHeight = (p) => p.$eval("#fleet tbody tr[data-key]", (tr) => tr.getBoundingClientRect().height);

async function shot(p, name) {
  await p.evaluate(() => document.activeElement?.blur());
  await p.screenshot({ path: join(SHOTS, name) });
  if (process.env.UPDATE_README_SCREENSHOT) {
    mkdirSync(join(ROOT, "docs"), { recursive: true });
    copyFileSync(join(SHOTS, name), join(ROOT, "docs", name));
  }
}

test("compact rows and the column chooser are kept by this browser across a reload; no repeated “(no name)”", async () => {
  const p = await c.open();
  await waitForRows(p, 160);
  assert.ok(!(await p.textContent("#fleet tbody")).includes("(no name)"), "an unnamed instance shows its id, not “(no name)”");
  const unnamed = p.locator("#fleet tbody td.c-name.unnamed").first();
  if (await unnamed.count()) assert.equal(await unnamed.locator(".name").count(), 0);
  await shot(p, "console-rows-regular.png");
  const regular = await rowHeight(p);
  const before = (await renderedKeys(p)).length;

  await p.click("#density");
  assert.equal(await p.getAttribute("#density", "aria-pressed"), "true");
  await p.waitForFunction((h) => document.querySelector("#fleet tbody tr[data-key]").getBoundingClientRect().height < h - 10, regular);
  const compact = await rowHeight(p);
  assert.ok(compact <= 32, `one line a row (${compact}px)`);
  // Twice as many rows fit: on 900 px, well over the 14 the issue counted, still virtualized.
  const visible = await p.evaluate(() => [...document.querySelectorAll("#fleet tbody tr[data-key]")].filter((tr) => {
    const r = tr.getBoundingClientRect();
    return r.top >= 0 && r.bottom <= innerHeight;
  }).length);
  assert.ok(visible >= 20, `${visible} rows on screen`);
  assert.ok((await renderedKeys(p)).length < 160 && (await renderedKeys(p)).length >= before, "still virtualized");
  await shot(p, "console-rows-compact.png");

  await p.click("#columns summary");
  await p.uncheck("#column-list input[data-col=region]");
  await p.uncheck("#column-list input[data-col=ip]");
  assert.equal(await p.isDisabled("#column-list input[data-col=name]"), true, "the name column stays");
  assert.equal(await p.isVisible("th[data-col=region]"), false);
  assert.equal(await p.isVisible("#fleet tbody td.c-ip >> nth=0"), false);
  await p.click("#columns summary");

  await p.reload();
  await waitForRows(p, 160);
  assert.equal(await p.getAttribute("#density", "aria-pressed"), "true", "compact survives a reload");
  assert.ok((await rowHeight(p)) <= 32);
  assert.equal(await p.isVisible("th[data-col=region]"), false, "hidden columns survive a reload");
  assert.equal(await p.isVisible("th[data-col=ip]"), false);
  assert.equal(await p.isVisible("th[data-col=type]"), true);
  assert.deepEqual(JSON.parse(await p.evaluate(() => localStorage.getItem("gpufleet.view"))), { compact: true, hidden: ["region", "ip"] });
  await p.click("#columns summary");
  await p.check("#column-list input[data-col=region]");
  await p.check("#column-list input[data-col=ip]");
  await p.click("#columns summary");
  await assertClean(assert, p, "(density)");
  await p.context().close();

  // Both themes and a phone, compact and regular (the README's pictures).
  for (const [theme, suffix] of [["dark", "-dark"]]) {
    const d = await c.open({ colorScheme: theme });
    await waitForRows(d, 160);
    await shot(d, `console-rows-regular${suffix}.png`);
    await d.click("#density");
    await d.waitForFunction(() => document.querySelector("#fleet tbody tr[data-key]").getBoundingClientRect().height <= 32);
    await shot(d, `console-rows-compact${suffix}.png`);
    await assertClean(assert, d, `(${theme})`);
    await d.context().close();
  }
  for (const theme of ["light", "dark"]) {
    const m = await c.open({ colorScheme: theme, viewport: { width: 390, height: 844 } });
    await waitForRows(m, 160);
    await m.click("#density");
    await m.waitForFunction(() => document.querySelector("#fleet tbody tr[data-key]").getBoundingClientRect().height <= 32);
    const overflow = await m.evaluate(() => document.documentElement.scrollWidth - innerWidth);
    assert.ok(overflow <= 1, `no sideways scroll at phone width (${overflow}px)`);
    await shot(m, `console-phone-compact-${theme}.png`);
    await assertClean(assert, m, `(phone ${theme})`);
    await m.context().close();
  }
});

test("filter, chips, sort, grouping and the open instance live in the URL: reload, a shared link and the back button", async () => {
  const target = (await c.state("novita"))[3];
  const p = await c.open();
  await waitForRows(p, 160);
  await p.click("#provider-chips [data-provider=novita]");
  await waitForRows(p, 40);
  await p.click("th[data-col=price] button");
  assert.equal(await p.getAttribute("th[data-col=price]", "aria-sort"), "descending");
  await p.fill("#filter", target.id.slice(0, 6));
  await p.fill("#filter", target.id);
  await waitForRows(p, 1);
  // Typing is written to the URL once it pauses, replacing the current entry.
  const depth = await p.evaluate(() => history.length);
  await p.waitForFunction((id) => new URLSearchParams(location.search).get("q") === id, target.id);
  assert.equal(await p.evaluate(() => history.length), depth, "no history entry a keystroke");
  await row(p, "novita", target.id).click();
  await p.waitForSelector("#details:not([hidden])");
  assert.deepEqual(query(p), { q: target.id, p: "novita", sort: "-price", open: `novita/${target.id}` });
  assert.equal(new URL(p.url()).hash, "", "no token in the URL");

  await p.reload();
  await waitForRows(p, 1);
  await p.waitForSelector("#details:not([hidden])");
  assert.equal(await p.textContent("#details-body dd code"), target.id, "the open instance reopens");
  assert.equal(await p.inputValue("#filter"), target.id);
  assert.equal(await p.getAttribute("#provider-chips [data-provider=novita]", "aria-pressed"), "true");
  assert.equal(await p.getAttribute("th[data-col=price]", "aria-sort"), "descending");

  // Back: the instance closes; back again: the typing was one entry, so the sort goes; again: the chip.
  await p.goBack();
  await p.waitForSelector("#details", { state: "hidden" });
  assert.equal(query(p).open, undefined);
  assert.equal(await p.inputValue("#filter"), target.id);
  await p.goBack();
  assert.equal(await p.getAttribute("th[data-col=price]", "aria-sort"), "none");
  assert.equal(await p.inputValue("#filter"), "");
  await waitForRows(p, 40);
  await p.goBack();
  await waitForRows(p, 160);
  assert.equal(await p.getAttribute("#provider-chips [data-provider=novita]", "aria-pressed"), "false");
  await p.goForward();
  await waitForRows(p, 40);
  await assertClean(assert, p, "(url)");
  await p.context().close();

  // A link someone shares, opened in a new browser: status chip, grouping and the open instance.
  const sfc = (await c.state("sfcompute"))[0];
  const shared = await c.open({ path: `/?s=running&group=provider&open=${encodeURIComponent(`sfcompute/${sfc.id}`)}` });
  await waitForRows(shared);
  await shared.waitForSelector("#details:not([hidden])");
  assert.equal(await shared.textContent("#details-body dd code"), sfc.id);
  assert.equal(await shared.getAttribute("#status-chips [data-status=running]", "aria-pressed"), "true");
  assert.equal(await shared.inputValue("#group-by"), "provider");
  assert.ok((await shared.locator("#fleet tbody tr.group").count()) >= 1);
  await assertClean(assert, shared, "(shared link)");
  await shared.context().close();
});

/** Every group header of the table, scrolling through it: [[label, count]] in order. */
async function collectHeaders(p) {
  const headers = [];
  const height = await p.evaluate(() => document.body.scrollHeight);
  for (let y = 0; y <= height; y += 500) {
    await p.evaluate((top) => scrollTo(0, top), y);
    await p.waitForFunction((top) => Math.abs(scrollY - top) < 2 || innerHeight + scrollY >= document.body.scrollHeight - 2, y);
    await p.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    for (const g of await p.$$eval("#fleet tbody tr.group", (trs) => trs.map((tr) => [tr.dataset.group, Number(tr.querySelector(".n").textContent)]))) {
      if (!headers.some(([s]) => s === g[0])) headers.push(g);
    }
  }
  await p.evaluate(() => scrollTo(0, 0));
  return headers;
}

test("grouping by provider, status and region: a header a group with its count, the body still virtualized", async () => {
  const p = await c.open();
  await waitForRows(p, 160);
  await p.selectOption("#group-by", "provider");
  await p.waitForSelector("#fleet tbody tr.group");
  const first = await p.$eval("#fleet tbody tr.group", (tr) => [tr.dataset.group, Number(tr.querySelector(".n").textContent)]);
  assert.equal(first[1], 40, "each provider holds 40");
  const rendered = await p.locator("#fleet tbody tr[data-key], #fleet tbody tr.group").count();
  assert.ok(rendered < 164, `not every row rendered (${rendered})`);
  // The rows under the first header are that provider's.
  const under = await p.$$eval("#fleet tbody tr", (trs) => {
    const from = trs.findIndex((t) => t.classList.contains("group"));
    return trs.slice(from + 1, from + 11).map((t) => t.dataset.provider);
  });
  assert.equal(under.length, 10);
  assert.equal(new Set(under).size, 1, under.join());
  // Every group is reached by scrolling: one header a provider, 40 each.
  const providers = await collectHeaders(p);
  assert.equal(providers.length, 4, JSON.stringify(providers));
  assert.ok(providers.every(([, n]) => n === 40));

  await p.evaluate(() => scrollTo(0, 0));
  await p.selectOption("#group-by", "status");
  await p.waitForFunction(() => !!document.querySelector("#fleet tbody tr.group") && document.querySelector("#fleet tbody tr.group").dataset.group !== undefined);
  await p.click("#density"); // compact: more groups on the screen
  await p.waitForFunction(() => document.querySelector("#fleet tbody tr[data-key]").getBoundingClientRect().height <= 32);
  // The sim's instances move on while the test scrolls: one header a status, 160 in all.
  const statuses = await collectHeaders(p);
  const known = ["pending", "provisioning", "running", "stopping", "stopped", "terminating", "terminated", "failed", "unknown"];
  assert.ok(statuses.length >= 2 && statuses.every(([s]) => known.includes(s)), JSON.stringify(statuses));
  assert.equal(statuses.reduce((a, [, n]) => a + n, 0), 160);
  assert.equal(query(p).group, "status");
  await p.click("#density");

  // By owner (the `owner` tag) and by one tag's value: SF Compute's tags; the rest under "(no …)".
  await p.selectOption("#group-by", "owner");
  const owners = await collectHeaders(p);
  const sfc = await c.state("sfcompute");
  const wantOwners = new Map();
  for (const i of sfc) if (i.tags?.owner) wantOwners.set(i.tags.owner, (wantOwners.get(i.tags.owner) || 0) + 1);
  assert.ok(wantOwners.size >= 2, "the sim tags some owners");
  for (const [o, n] of wantOwners) assert.deepEqual(owners.find(([g]) => g === o), [o, n], `owner ${o}`);
  assert.equal(owners.at(-1)[0], "", "no owner last");
  assert.equal(owners.reduce((a, [, n]) => a + n, 0), 160);
  const tagOptions = await p.$$eval("#group-by option", (os) => os.map((o) => o.value).filter((v) => v.startsWith("tag:")));
  assert.ok(tagOptions.includes("tag:team"), tagOptions.join());
  await p.selectOption("#group-by", "tag:team");
  const teams = await collectHeaders(p);
  const wantTeams = new Set(sfc.map((i) => i.tags?.team).filter(Boolean));
  assert.deepEqual(new Set(teams.map(([g]) => g).filter(Boolean)), wantTeams);
  assert.equal(query(p).group, "tag:team");

  await p.selectOption("#group-by", "region");
  await p.waitForFunction(() => document.querySelectorAll("#fleet tbody tr.group").length > 0);
  await p.selectOption("#group-by", "");
  await p.waitForFunction(() => document.querySelectorAll("#fleet tbody tr.group").length === 0);
  await assertClean(assert, p, "(grouping)");
  await p.context().close();
});

test("keyboard: / focuses the filter, j and k move, Enter opens, Esc closes", async () => {
  const p = await c.open();
  await waitForRows(p, 160);
  await p.keyboard.press("/");
  assert.equal(await p.evaluate(() => document.activeElement.id), "filter");
  await p.keyboard.type("j");
  assert.equal(await p.inputValue("#filter"), "j", "letters typed into the filter stay there");
  await p.fill("#filter", "");
  await p.keyboard.press("Escape");
  assert.notEqual(await p.evaluate(() => document.activeElement.id), "filter");

  const keys = await renderedKeys(p);
  const active = () => p.evaluate(() => document.activeElement?.dataset?.key ?? null);
  await p.keyboard.press("j");
  assert.equal(await active(), keys[0]);
  await p.keyboard.press("j");
  await p.keyboard.press("j");
  assert.equal(await active(), keys[2]);
  await p.keyboard.press("k");
  assert.equal(await active(), keys[1]);
  await p.keyboard.press("Enter");
  await p.waitForSelector("#details:not([hidden])");
  assert.equal(query(p).open, keys[1]);
  await p.keyboard.press("Escape");
  await p.waitForSelector("#details", { state: "hidden" });

  // Far down the table: the window follows the cursor.
  await p.keyboard.press("j");
  for (let i = 0; i < 60; i++) await p.keyboard.press("j");
  const far = await active();
  assert.ok(far && !keys.includes(far), `the cursor moved past the first window (${far}: ${keys.indexOf(far)} of ${keys.length})`);
  assert.ok(await p.evaluate(() => scrollY > 0), "scrolled to it");
  const box = await p.evaluate(() => {
    const r = document.activeElement.getBoundingClientRect();
    return [r.top, r.bottom, innerHeight];
  });
  assert.ok(box[0] >= 0 && box[1] <= box[2], "the focused row is on screen");
  await assertClean(assert, p, "(keyboard)");
  await p.context().close();
});

test("export: CSV of the rows and columns shown, JSON of the instances shown, in the table's order", async () => {
  const p = await c.open();
  await waitForRows(p, 160);
  await p.click("#provider-chips [data-provider=sfcompute]");
  await waitForRows(p, 40);
  await p.click("th[data-col=name] button");
  await p.click("#columns summary");
  await p.uncheck("#column-list input[data-col=ip]");
  await p.click("#columns summary");
  const order = await renderedKeys(p);

  const [csvDl] = await Promise.all([p.waitForEvent("download"), p.click("#export-csv")]);
  assert.match(csvDl.suggestedFilename(), /^gpufleet-instances-\d{8}T\d{6}Z\.csv$/);
  const csv = readFileSync(await csvDl.path(), "utf8");
  const lines = csv.trimEnd().split("\r\n");
  assert.equal(lines.length, 41, "a header and the 40 rows shown");
  const head = lines[0].split(",");
  assert.deepEqual(head.slice(0, 4), ["Provider", "Name", "ID", "Status"]);
  assert.ok(!head.includes("IP"), "a hidden column is not exported");
  assert.ok(head.includes("Region") && head.includes("USD per hour"));
  const truth = new Map((await c.state("sfcompute")).map((i) => [i.id, i]));
  const csvIds = lines.slice(1).map((l) => l.split(",")[2]);
  assert.deepEqual(csvIds.slice(0, order.length).map((id) => `sfcompute/${id}`), order.slice(0, Math.min(order.length, 40)), "the table's order");
  for (const id of csvIds) assert.ok(truth.has(id), `a real instance ${id}`);
  assert.ok(lines.slice(1).every((l) => l.startsWith("sfcompute,")));

  const [jsonDl] = await Promise.all([p.waitForEvent("download"), p.click("#export-json")]);
  const list = JSON.parse(readFileSync(await jsonDl.path(), "utf8"));
  assert.equal(list.length, 40);
  assert.deepEqual(list.map((i) => i.id), csvIds, "the same rows in the same order");
  assert.ok(list.every((i) => i.provider === "sfcompute" && i.raw && typeof i.raw === "object"), "whole instances, raw included");
  await p.click("#columns summary");
  await p.check("#column-list input[data-col=ip]");
  await assertClean(assert, p, "(export)");
  await p.context().close();
});

/** The sim's logged requests since `since` that name `id` (in the path or the body). */
async function actedOn(since, id, path) {
  const requests = await c.control("GET", `/requests?since=${since}`);
  return requests.filter((r) => r.method !== "GET" && r.path.includes(path) && (r.path.includes(id) || String(r.body ?? "").includes(id)));
}

async function lastSeq() {
  const requests = await c.control("GET", "/requests");
  return requests.length ? requests[requests.length - 1].seq : 0;
}

test("bulk stop and delete: one confirm listing what happens, per-instance progress and errors, each instance acted on once", async () => {
  const running = (await c.state("novita")).filter((i) => i.status === "running").slice(0, 3);
  assert.equal(running.length, 3);
  const p = await c.open();
  await waitForRows(p, 160);
  for (const i of running) {
    await p.fill("#filter", i.id);
    await waitForRows(p, 1);
    await row(p, "novita", i.id).locator("input[data-bulk]").check();
  }
  await p.fill("#filter", "");
  await waitForRows(p, 160);
  assert.equal(await p.textContent("#bulk-count"), "3 selected");
  // Novita stops, terminates (no), deletes: only what it supports.
  const offered = await p.$$eval("#bulk-actions [data-bulk-op]", (bs) => bs.map((b) => b.dataset.bulkOp));
  assert.ok(offered.includes("stop") && offered.includes("delete"), offered.join());

  // The provider fails the first stop it receives (a 500; a stop is never retried).
  await c.control("POST", "/faults", { provider: "novita", kinds: ["500"], paths: ["/gpu/instance/stop"], methods: ["POST"], times: 1 });
  const since = await lastSeq();
  await p.click("#bulk-actions [data-bulk-op=stop]");
  const listed = await p.$$eval("#bulk-confirm li", (lis) => lis.map((l) => l.dataset.key));
  assert.deepEqual(listed.sort(), running.map((i) => `novita/${i.id}`).sort(), "the confirm lists exactly those three");
  assert.match(await p.textContent("#bulk-confirm"), /Stop 3 instances\?/);
  // A refresh while the question is open keeps the very buttons a click is about to land on
  // (they were redrawn on every refresh, and a click at that moment was lost).
  const yesButton = await p.$("[data-bulk-confirm=stop]");
  const stopButton = await p.$("#bulk-actions [data-bulk-op=stop]");
  const refreshed = p.waitForResponse((r) => r.url().endsWith("/api/v1/live/refresh"));
  await p.click("#refresh");
  await refreshed;
  await p.waitForTimeout(500); // the walk's pushed events, applied to the table
  assert.ok(await yesButton.evaluate((b) => b.isConnected), "the confirm's Yes is the same button after a refresh");
  assert.ok(await stopButton.evaluate((b) => b.isConnected), "so is the Stop… button");
  await p.locator("[data-bulk-confirm=stop]").dblclick(); // a second click does nothing more
  await p.waitForFunction(() => {
    const items = [...document.querySelectorAll("#bulk-progress li[data-state]")];
    return items.length === 3 && items.every((li) => li.dataset.state === "done" || li.dataset.state === "failed");
  }, null, { timeout: 60_000 });
  const states = await p.$$eval("#bulk-progress li[data-state]", (lis) => lis.map((l) => [l.dataset.key, l.dataset.state, l.textContent]));
  const failed = states.filter(([, s]) => s === "failed");
  assert.equal(failed.length, 1, JSON.stringify(states));
  assert.match(failed[0][2], /Stop failed: .*(500|server)/i);
  assert.equal(states.filter(([, s]) => s === "done").length, 2);
  for (const i of running) assert.equal((await actedOn(since, i.id, "/gpu/instance/stop")).length, 1, `${i.id} stopped once`);
  const truth = new Map((await c.state("novita")).map((i) => [i.id, i.status]));
  const failedId = failed[0][0].split("/")[1];
  for (const i of running) assert.equal(truth.get(i.id), i.id === failedId ? "running" : "exited", i.id);
  await c.control("DELETE", "/faults");
  await p.click("[data-bulk-dismiss]");

  // An instance whose stop is under way is not acted on again: ticked again while its request is
  // in flight (the provider answers slowly), a second Stop lists it as skipped, with nothing to do.
  const slow = (await c.state("novita")).find((i) => i.status === "running" && !running.some((r) => r.id === i.id));
  const pickOne = async (prov, id) => {
    await p.fill("#filter", id);
    await waitForRows(p, 1);
    await row(p, prov, id).locator("input[data-bulk]").check();
  };
  await c.control("POST", "/latency", { provider: "novita", ms: 3000 });
  const since1 = await lastSeq();
  await pickOne("novita", slow.id);
  await p.click("#bulk-actions [data-bulk-op=stop]");
  await p.click("[data-bulk-confirm=stop]");
  await p.waitForSelector(`#bulk-progress li[data-key="novita/${slow.id}"][data-state=queued], #bulk-progress li[data-key="novita/${slow.id}"][data-state=sent]`);
  await pickOne("novita", slow.id);
  await p.click("#bulk-actions [data-bulk-op=stop]");
  assert.equal(await p.locator("#bulk-confirm li[data-key]").count(), 1, "listed once, as skipped");
  assert.match(await p.textContent("#bulk-confirm .skipped"), /already stop/i);
  assert.equal(await p.isDisabled("[data-bulk-confirm=stop]"), true, "nothing to stop");
  await p.keyboard.press("Escape"); // Esc cancels the confirm
  await p.waitForSelector("#bulk-confirm", { state: "hidden" });
  await p.click("#bulk-clear");
  await p.waitForSelector(`#bulk-progress li[data-key="novita/${slow.id}"][data-state=done]`, { timeout: 60_000 });
  await c.control("DELETE", "/latency");
  assert.equal((await actedOn(since1, slow.id, "/gpu/instance/stop")).length, 1, "stopped once");
  await p.click("[data-bulk-dismiss]");

  // Delete: two stopped Novita instances and a running SF Compute one. SF Compute deletes only
  // terminated instances, and the library's rule (fleet.actionsFor) knows it: the confirm lists
  // that one as not acted on, and no request is sent for it.
  const sfc = (await c.state("sfcompute")).find((i) => i.status === "running");
  const stopped = running.filter((i) => i.id !== failedId);
  const picks = [["sfcompute", sfc.id], ...stopped.map((i) => ["novita", i.id])];
  for (const [prov, id] of picks) {
    await p.fill("#filter", id);
    await waitForRows(p, 1);
    await row(p, prov, id).locator("input[data-bulk]").check();
  }
  await p.fill("#filter", "");
  const offered2 = await p.$$eval("#bulk-actions [data-bulk-op]", (bs) => bs.map((b) => b.dataset.bulkOp));
  assert.ok(!offered2.includes("stop"), "SF Compute cannot stop: no bulk stop");
  assert.ok(offered2.includes("delete"));
  const since2 = await lastSeq();
  await p.click("#bulk-actions [data-bulk-op=delete]");
  assert.equal(await p.locator("#bulk-confirm li[data-key]").count(), 3);
  assert.match(await p.textContent(`#bulk-confirm ul.skipped li[data-key="sfcompute/${sfc.id}"]`), /running: nothing to delete/);
  await p.click("[data-bulk-confirm=delete]");
  await p.waitForFunction(() => {
    const items = [...document.querySelectorAll("#bulk-progress li[data-state]")];
    return items.length === 2 && items.every((li) => li.dataset.state === "done" || li.dataset.state === "failed");
  }, null, { timeout: 60_000 });
  const states2 = Object.fromEntries(await p.$$eval("#bulk-progress li[data-state]", (lis) => lis.map((l) => [l.dataset.key, [l.dataset.state, l.textContent]])));
  assert.equal(states2[`sfcompute/${sfc.id}`], undefined, "the running SF Compute instance is not acted on");
  for (const i of stopped) assert.equal(states2[`novita/${i.id}`][0], "done");
  assert.equal((await actedOn(since2, sfc.id, "/instances")).length, 0, "nothing sent to SF Compute for it");
  for (const i of stopped) assert.equal((await actedOn(since2, i.id, "/gpu/instance/delete")).length, 1, `${i.id} deleted once`);
  await assertClean(assert, p, "(bulk)");
  await p.context().close();
});

test("the read-only token gets no select boxes and no bulk bar", async () => {
  const p = await c.open({ token: c.readOnlyToken });
  await waitForRows(p);
  await p.waitForSelector("#read-only:not([hidden])");
  assert.equal(await p.isVisible("#fleet tbody td.c-pick >> nth=0"), false);
  assert.equal(await p.isVisible("#pick-all"), false);
  assert.equal(await p.isHidden("#bulk"), true);
  await assertClean(assert, p, "(read-only)");
  await p.context().close();
});
