// The proxy's records in the console, in headless Chromium against the simulated clouds behind
// the edge proxy in workerd with a real D1 database (Miniflare; harness.mjs, npm start's setup):
// the Deadline column and the details panel's Deadline form (set, change, clear, an inline error
// with its field), deadlines fired by the cron (`scheduled()`, dispatched here) stopping a Novita
// instance and deleting a fal one in the simulator, each instance's History and the Audit log
// panel (filters, "Load more" through the cursor), the Orphans panel, a read-only token offered
// no enabled deadline control, and a proxy without D1 showing one notice and no records controls.

import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { SHOTS, startConsole, useConsole, waitForRows, row, assertClean } from "./harness.mjs";

const c = useConsole({ library: true });

/** Opens an instance's details through the UI: filter by its id, click its row. */
async function openDetails(p, provider, id) {
  if (!(await p.isHidden("#details"))) await p.click("#details-close");
  await p.fill("#filter", id);
  await waitForRows(p, 1);
  await row(p, provider, id).click();
  await p.waitForSelector("#details:not([hidden]) [data-deadline-form]");
  assert.equal(await p.textContent("#details-body dd code"), id);
}

const cell = (p, provider, id) => row(p, provider, id).locator("td.c-deadline");

/** The stored deadline of an instance, straight from D1. */
const storedDeadline = (provider, id) =>
  c.proxy.db.prepare("SELECT * FROM deadlines WHERE provider = ?1 AND instance_id = ?2").bind(provider, id).first();

/** `ms` as the page's datetime-local value (the browser's own time zone), with seconds. */
function localInput(p, ms) {
  return p.evaluate((t) => {
    const d = new Date(t);
    const z = (n) => String(n).padStart(2, "0");
    return `${d.getFullYear()}-${z(d.getMonth() + 1)}-${z(d.getDate())}T${z(d.getHours())}:${z(d.getMinutes())}:${z(d.getSeconds())}`;
  }, ms);
}

async function submitDeadline(p, want) {
  await p.click("#details-body [data-deadline-submit]");
  await p.waitForFunction((w) => document.querySelector("#details-body [data-deadline-message]")?.textContent === w, want);
}

/** The simulator's word for a running instance (its state is the provider's raw record). */
const RUNNING = { fal: "ready", novita: "running" };
const running = async (provider, skip = []) => (await c.state(provider)).find((i) => i.status === RUNNING[provider] && !skip.includes(i.id));
/** The audit entries in the instance's History: "caller action" each, newest first. */
const history = (p) => p.$$eval("#details-body .history li.audit-entry", (lis) => lis.map((li) => `${li.dataset.caller} ${li.dataset.action}`));

let falDone; // the fal instance test 1 used (its deadline cleared)

test("a deadline from the details panel: only what the provider supports, an inline error with its field, set, change, clear, the History", async () => {
  const p = await c.open();
  await waitForRows(p, 160);
  await p.waitForSelector("#audit-open:not([hidden])");
  assert.equal(await p.isHidden("#records-notice"), true, "no notice: the proxy keeps records");
  const fal = await running("fal");
  falDone = fal.id;
  await openDetails(p, "fal", fal.id);
  assert.deepEqual(await p.$$eval("#details-body [data-deadline-input=action] option", (os) => os.map((o) => o.value)), ["delete"], "fal: delete only");
  assert.equal(await cell(p, "fal", fal.id).textContent(), "—");
  assert.match(await p.textContent("#details-body [data-deadline-status]"), /No deadline/);

  // The proxy's refusal, inline with its field (never a blank).
  await p.fill("#details-body [data-deadline-input=after]", "0");
  await p.click("#details-body [data-deadline-submit]");
  const err = p.locator("#details-body [data-deadline-error]");
  await err.waitFor();
  assert.match(await err.textContent(), /after.*must be more than 0/);
  assert.equal(await err.getAttribute("data-field"), "after");
  assert.equal(await p.getAttribute("#details-body [data-deadline-input=after]", "aria-invalid"), "true");
  // The page's own check of an empty time, likewise.
  await p.selectOption("#details-body [data-deadline-input=mode]", "at");
  await p.fill("#details-body [data-deadline-input=at]", "");
  await p.click("#details-body [data-deadline-submit]");
  await p.waitForFunction(() => /^at: /.test(document.querySelector("#details-body [data-deadline-error]")?.textContent));
  assert.equal(await storedDeadline("fal", fal.id), null, "nothing stored");

  // Set: in 30 minutes. The row counts down; D1 holds it, set by the full token.
  await p.selectOption("#details-body [data-deadline-input=mode]", "after");
  await p.fill("#details-body [data-deadline-input=after]", "30");
  const t0 = Date.now();
  await submitDeadline(p, "Deadline set.");
  assert.match(await cell(p, "fal", fal.id).textContent(), /^deleted in (29|30) min$/);
  assert.equal(await cell(p, "fal", fal.id).getAttribute("data-state"), "pending");
  const stored = await storedDeadline("fal", fal.id);
  assert.equal(stored.action, "delete");
  assert.equal(stored.set_by, "token");
  assert.ok(Math.abs(stored.at_ms - (t0 + 30 * 60_000)) < 10_000, "in 30 minutes");
  assert.equal(await p.textContent("#details-body [data-deadline-submit]"), "Change deadline");

  // Change: in 2 hours; the form survives the polls meanwhile.
  await p.fill("#details-body [data-deadline-input=after]", "120");
  await submitDeadline(p, "Deadline changed.");
  assert.equal(await cell(p, "fal", fal.id).textContent(), "deleted in 2 h");
  await p.screenshot({ path: join(SHOTS, "deadline-set.png") });

  // Clear.
  await p.click("#details-body [data-deadline-clear]");
  await p.waitForFunction(() => document.querySelector("#details-body [data-deadline-message]")?.textContent === "Deadline cleared.");
  assert.equal(await cell(p, "fal", fal.id).textContent(), "—");
  assert.equal(await storedDeadline("fal", fal.id), null);

  // The History: the three changes, newest first, by the token.
  await p.waitForFunction(() => document.querySelectorAll("#details-body .history li.audit-entry").length >= 3);
  assert.deepEqual((await history(p)).slice(0, 3), ["token deadline.cleared", "token deadline.changed", "token deadline.set"]);
  assert.match(await p.textContent("#details-body .history li.audit-entry"), /was delete at/);
  await assertClean(assert, p, "(deadline form)");
  await p.context().close();
});

test("deadlines fire from the cron: a Novita instance stopped and a fal one deleted in the simulator, the rows say fired, the audit log shows both callers", async () => {
  const p = await c.open();
  await waitForRows(p, 160);
  const novita = await running("novita");
  const fal = await running("fal", [falDone]);
  const atMs = Date.now() + 4000;
  const at = await localInput(p, atMs);

  await openDetails(p, "novita", novita.id);
  assert.deepEqual(await p.$$eval("#details-body [data-deadline-input=action] option", (os) => os.map((o) => o.value)), ["stop", "delete"]);
  assert.equal(await p.inputValue("#details-body [data-deadline-input=action]"), "stop", "Novita's default: stop");
  await p.selectOption("#details-body [data-deadline-input=mode]", "at");
  await p.fill("#details-body [data-deadline-input=at]", at);
  await submitDeadline(p, "Deadline set.");
  assert.match(await cell(p, "novita", novita.id).textContent(), /^stops in \d s$/);
  assert.ok(await cell(p, "novita", novita.id).locator(".deadline.soon").count(), "a warning before it fires (under ten minutes)");
  assert.match(await cell(p, "novita", novita.id).getAttribute("title"), /^Fires in under 10 minutes/);

  await openDetails(p, "fal", fal.id);
  await p.selectOption("#details-body [data-deadline-input=mode]", "at");
  await p.fill("#details-body [data-deadline-input=at]", at);
  await submitDeadline(p, "Deadline set.");
  assert.match(await cell(p, "fal", fal.id).textContent(), /^deleted in \d s$/);
  const stored = await storedDeadline("fal", fal.id);
  assert.equal(stored.at_ms, Math.floor(atMs / 1000) * 1000, "the time as typed (to the second)");

  // Not due yet: a run fires nothing. Then past it, one run fires both.
  await c.proxy.scheduled();
  assert.equal((await storedDeadline("novita", novita.id)).state, "pending");
  await new Promise((r) => setTimeout(r, Math.max(0, stored.at_ms - Date.now() + 300)));
  await p.waitForFunction(() => /^(stop|delete) due$/.test(document.querySelector("#details-body .deadline-status .deadline")?.textContent || ""));
  await c.proxy.scheduled();
  assert.equal((await storedDeadline("novita", novita.id)).state, "done");
  assert.equal((await storedDeadline("fal", fal.id)).state, "done");
  const n = (await c.state("novita")).find((i) => i.id === novita.id);
  assert.ok(n && n.status !== "running", `the Novita instance is stopping or stopped (${n?.status})`);
  assert.ok(!(await c.state("fal")).some((i) => i.id === fal.id), "the fal instance is deleted");

  // The next poll (here: Refresh) shows the Novita row's deadline as fired.
  await p.click("#details-close");
  await p.fill("#filter", novita.id);
  await p.click("#refresh");
  await p.waitForFunction((key) => document.querySelector(`#fleet tr[data-key="${key}"] td.c-deadline`)?.dataset.state === "done", `novita/${novita.id}`);
  assert.equal(await cell(p, "novita", novita.id).locator(".deadline").textContent(), "stop fired");
  assert.match(await cell(p, "novita", novita.id).locator(".deadline-when").textContent(), /^\d+ s ago$/);
  await p.screenshot({ path: join(SHOTS, "deadline-row.png") });
  await row(p, "novita", novita.id).click();
  await p.waitForSelector("#details:not([hidden]) .history li.audit-entry");
  await p.waitForFunction(() => [...document.querySelectorAll("#details-body .history li.audit-entry")].some((li) => li.dataset.action === "deadline.fired"));
  assert.deepEqual((await history(p)).slice(0, 2), ["deadline deadline.fired", "token deadline.set"]);
  assert.equal(await p.getAttribute("#details-body [data-deadline-status]", "data-deadline-status"), "done");
  await p.screenshot({ path: join(SHOTS, "deadline-fired.png") });

  // The Audit log panel: everything, then only the deadline's own entries, then one action.
  await p.click("#audit-open");
  await p.waitForSelector("#audit:not([hidden]) #audit-list li.audit-entry");
  assert.equal(await p.isHidden("#details"), true, "one panel at a time");
  const callersAll = await p.$$eval("#audit-list li.audit-entry", (lis) => lis.map((li) => li.dataset.caller));
  assert.ok(callersAll.includes("token") && callersAll.includes("deadline"), "both callers");
  await p.fill("#audit-caller", "deadline");
  await p.click("#audit-apply");
  await p.waitForFunction(() => {
    const lis = [...document.querySelectorAll("#audit-list li.audit-entry")];
    return lis.length > 0 && lis.every((li) => li.dataset.caller === "deadline");
  });
  const fired = await p.$$eval("#audit-list li.audit-entry", (lis) => lis.map((li) => `${li.dataset.action} ${li.textContent}`));
  assert.equal(fired.length, 2, "the two firings");
  assert.ok(fired.every((t) => t.startsWith("deadline.fired")));
  assert.ok(fired.some((t) => t.includes(novita.id) || t.includes(novita.name)) && fired.some((t) => t.includes(fal.id) || (fal.name && t.includes(fal.name))));
  await p.fill("#audit-caller", "");
  await p.selectOption("#audit-action", "deadline.set");
  await p.waitForFunction(() => {
    const lis = [...document.querySelectorAll("#audit-list li.audit-entry")];
    return lis.length === 3 && lis.every((li) => li.dataset.action === "deadline.set" && li.dataset.caller === "token");
  });
  await p.selectOption("#audit-action", "");

  // "Load more": 60 older entries of one caller, put straight into D1, read in pages of 50.
  await c.proxy.db.batch(
    Array.from({ length: 60 }, (_, k) =>
      c.proxy.db
        .prepare("INSERT INTO audit (at_ms, caller, action, provider, instance_id, request_id, outcome_kind) VALUES (?1, 'seeded', 'stop', 'novita', ?2, ?3, 'ok')")
        .bind(Date.now() - 3_600_000 + k, `seed-${k}`, `req-${k}`),
    ),
  );
  await p.fill("#audit-caller", "seeded");
  await p.click("#audit-apply");
  await p.waitForFunction(() => document.querySelectorAll("#audit-list li.audit-entry").length === 50);
  assert.equal(await p.isHidden("#audit-more"), false);
  await p.click("#audit-more");
  await p.waitForFunction(() => document.querySelectorAll("#audit-list li.audit-entry").length === 60);
  await p.waitForSelector("#audit-more", { state: "hidden" });
  const seqs = await p.$$eval("#audit-list li.audit-entry", (lis) => lis.map((li) => Number(li.dataset.seq)));
  assert.deepEqual(seqs, [...seqs].sort((a, b) => b - a), "newest first, no repeats across the pages");
  assert.equal(new Set(seqs).size, 60);
  assert.match(await p.textContent("#audit-count"), /^60 entries · caller seeded$/);
  await p.screenshot({ path: join(SHOTS, "audit-log.png") });
  await assertClean(assert, p, "(deadlines fired, audit log)");
  await p.context().close();
});

test("the Orphans panel lists what the report says; a deadline takes an instance off it", async () => {
  const p = await c.open();
  await waitForRows(p, null); // 159 now: a fal instance was deleted
  await p.click("#orphans-open");
  await p.selectOption("#orphans-age", String(3_600_000));
  const want = await c.lib.orphans({ olderThanMs: 3_600_000 });
  assert.ok(want.orphans.length > 0, "the simulated fleet has old instances nobody created here");
  await p.waitForFunction((n) => document.querySelectorAll("#orphans-list li.orphan").length === n && /^\d+ orphans? older than/.test(document.getElementById("orphans-summary").textContent), want.orphans.length);
  const keys = await p.$$eval("#orphans-list li.orphan", (lis) => lis.map((li) => li.dataset.key));
  assert.deepEqual(keys, want.orphans.map((o) => `${o.provider}/${o.id}`), "the report's orphans, oldest first");
  // fal (both APIs) gives no creation time: its orphans say so rather than show an age.
  const ageText = await p.$$eval("#orphans-list li.orphan", (lis) => lis.map((li) => li.querySelector(".age").textContent));
  assert.deepEqual(ageText.map((t) => t === "age unknown"), want.orphans.map((o) => o.ageMs === undefined), ageText.join(" | "));
  assert.ok(want.orphans.some((o) => o.ageMs === undefined) && ageText.every((t) => !/NaN|undefined/.test(t)));

  // A pending deadline makes an instance owned: off the list after a reload.
  const first = want.orphans.find((o) => o.provider === "novita") ?? want.orphans[0];
  await c.lib.setDeadline(first.provider, first.id, { after: 3_600_000 });
  await p.click("#orphans-reload");
  await p.waitForFunction((n) => document.querySelectorAll("#orphans-list li.orphan").length === n - 1, want.orphans.length);
  assert.ok(!(await p.$$eval("#orphans-list li.orphan", (lis) => lis.map((li) => li.dataset.key))).includes(`${first.provider}/${first.id}`));
  await c.lib.clearDeadline(first.provider, first.id);

  // An orphan opens its details.
  const second = p.locator("#orphans-list li.orphan button[data-open]").first();
  const key = await second.getAttribute("data-open");
  await second.click();
  await p.waitForSelector("#details:not([hidden])");
  assert.equal(await p.isHidden("#orphans"), true);
  assert.equal(await p.textContent("#details-body dd code"), key.slice(key.indexOf("/") + 1));
  await p.screenshot({ path: join(SHOTS, "orphans.png") });
  await assertClean(assert, p, "(orphans)");
  await p.context().close();
});

test("the read-only token sees the deadlines and the audit log but no enabled deadline control", async () => {
  const novita = await running("novita");
  await c.lib.setDeadline("novita", novita.id, { after: 45 * 60_000, action: "delete" });
  // One given up after its attempts (as the cron leaves it), with its last error.
  const other = await running("novita", [novita.id]);
  await c.lib.setDeadline("novita", other.id, { after: 60_000 });
  await c.proxy.db.prepare("UPDATE deadlines SET state = 'failed', attempts = 10, last_error = 'novita: HTTP 500 upstream' WHERE provider = 'novita' AND instance_id = ?1").bind(other.id).run();
  const p = await c.open({ token: c.readOnlyToken });
  await waitForRows(p, null); // 159 now: a fal instance was deleted
  await p.waitForSelector("#read-only:not([hidden])");
  await p.fill("#filter", other.id);
  await waitForRows(p, 1);
  assert.equal(await cell(p, "novita", other.id).textContent(), "stop failednovita: HTTP 500 upstream");
  assert.equal(await cell(p, "novita", other.id).locator(".deadline-error").textContent(), "novita: HTTP 500 upstream");
  assert.equal(await cell(p, "novita", other.id).getAttribute("data-state"), "failed");
  assert.equal(await p.isHidden("#audit-open"), false, "reading the audit log is allowed");
  await openDetails(p, "novita", novita.id);
  assert.match(await cell(p, "novita", novita.id).textContent(), /^deleted in (44|45) min$/);
  const controls = await p.$$eval("#details-body [data-deadline-form] :is(input, select, button, textarea)", (els) => els.map((e) => ({ tag: e.tagName, enabled: e.matches(":enabled") })));
  assert.ok(controls.length >= 4, "the form is shown");
  assert.deepEqual(controls.filter((x) => x.enabled), [], "none enabled");
  assert.match(await p.textContent("#details-body [data-deadline-form]"), /read-only/);
  // Clicking does nothing (a disabled fieldset).
  await p.locator("#details-body [data-deadline-clear]").click({ force: true });
  assert.equal((await storedDeadline("novita", novita.id)).state, "pending");
  await p.waitForFunction(() => [...document.querySelectorAll("#details-body .history li.audit-entry")].some((li) => li.dataset.caller === "token" && li.dataset.action === "deadline.set"));
  await assertClean(assert, p, "(read-only)");
  await p.context().close();
  await c.lib.clearDeadline("novita", novita.id);
  await c.lib.clearDeadline("novita", other.id);
});

test("a deadline no scheduled run has tried, 5 minutes past due: the console says the cron is not running; a run fires it and the notice goes", async () => {
  const inst = await running("novita");
  await c.lib.setDeadline("novita", inst.id, { after: 3_600_000 });
  const p = await c.open();
  await waitForRows(p); // fewer than 160 by now: the cron test deleted a fal instance
  assert.equal(await p.locator("#banners [data-scope=cron]").count(), 0, "no notice while nothing is past due");
  // As if the Cron Trigger never ran: the deadline stays pending, untried, six minutes past due.
  const past = Date.now() - 6 * 60_000;
  await c.proxy.db.prepare("UPDATE deadlines SET at_ms = ?1, next_attempt_ms = ?1 WHERE provider = 'novita' AND instance_id = ?2").bind(past, inst.id).run();
  await p.click("#refresh");
  const notice = p.locator("#banners [data-scope=cron]");
  await notice.waitFor();
  assert.match(await notice.textContent(), /^1 deadline is past due \(the oldest by 6 min\) and no scheduled run has tried it: the proxy's Cron Trigger is not running/);
  await c.proxy.scheduled();
  assert.equal((await storedDeadline("novita", inst.id)).state, "done");
  await p.click("#refresh");
  await notice.waitFor({ state: "detached" });
  await assertClean(assert, p, "(cron notice)");
  await p.context().close();
});

test("a proxy without D1: one notice, no Deadline column, no records controls, no records calls — and a 503 unsupported turns them off too", async () => {
  const c2 = await startConsole({ d1: false });
  try {
    const health = await (await fetch(`${c2.url}/healthz`)).json();
    assert.equal(health.records, "none");
    const p = await c2.open();
    const asked = [];
    p.on("request", (r) => asked.push(new URL(r.url()).pathname));
    await waitForRows(p, 160);
    await p.waitForSelector("#records-notice:not([hidden])");
    assert.match(await p.textContent("#records-notice"), /D1 database/);
    assert.equal(await p.locator(".banner:not([hidden])").count(), 1, "one notice, no error banner");
    for (const id of ["#audit-open", "#orphans-open"]) assert.equal(await p.isHidden(id), true, id);
    assert.equal(await p.isVisible("th.c-deadline"), false);
    assert.equal(await p.locator("#fleet tbody td.c-deadline:visible").count(), 0);
    const inst = (await c2.state("novita")).find((i) => i.status === "running");
    await p.fill("#filter", inst.id);
    await waitForRows(p, 1);
    await row(p, "novita", inst.id).click();
    await p.waitForSelector("#details:not([hidden])");
    assert.equal(await p.locator("#details-body .deadline-section, #details-body .history").count(), 0);
    await p.click("#refresh");
    await p.waitForFunction(() => /^Updated/.test(document.getElementById("updated").textContent));
    assert.deepEqual(asked.filter((x) => /\/api\/v1\/(deadlines|audit|orphans)|\/deadline$/.test(x)), [], "no records call");
    await p.screenshot({ path: join(SHOTS, "records-off.png") });
    await assertClean(assert, p, "(no D1)");
    assert.deepEqual(p.problems.http, [], "no failed request");
    await p.context().close();

    // /healthz unreachable: the first deadlines call answers 503 unsupported, and that is all.
    const q = await c2.open({ token: false });
    await q.route("**/healthz", (r) => r.abort());
    const calls = [];
    q.on("response", (r) => new URL(r.url()).pathname === "/api/v1/deadlines" && calls.push(r.status()));
    await q.fill("#token", c2.token);
    await q.click("#login button[type=submit]");
    await waitForRows(q, 160);
    await q.waitForSelector("#records-notice:not([hidden])");
    await q.click("#refresh");
    await q.waitForFunction(() => /^Updated/.test(document.getElementById("updated").textContent));
    assert.deepEqual(calls, [503], "asked once, then not again");
    assert.equal(await q.isHidden("#audit-open"), true);
    await assertClean(assert, q, "(503 unsupported)");
    await q.context().close();
  } finally {
    await c2.close();
  }
});
