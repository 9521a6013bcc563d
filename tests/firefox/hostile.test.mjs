// The simulator's hostile strings (every free-text field holds markup, script, RTL overrides, …)
// in headless Firefox ESR: a second HTML engine must show them as text too — no dialog, no script
// run, no element made of provider text, no CSP violation (the Chromium check: tests/console/fleets.test.mjs).

import { test } from "node:test";
import assert from "node:assert/strict";
import { useConsole, waitForRows, assertClean } from "../console/harness.mjs";
import { HOSTILE } from "../sim/hostile.mjs";
import { fill, openDetails, shot, text } from "./pages.mjs";

const c = useConsole({ engine: "firefox", sim: { hostile: true } });

/** Elements that provider text must never become. */
const ACTIVE = "script, img, svg, iframe, object, embed, a[href], [onerror], [onload], [onclick]";
const activeIn = (p, scope) => p.$$eval(ACTIVE.split(", ").map((s) => `${scope} ${s}`).join(", "), (els) => els.length);

test("the hostile-string fleet renders as text in Firefox: no dialog, no script, no CSP violation", async () => {
  const page = await c.open();
  await waitForRows(page, 160);
  const novita = await c.state("novita");
  assert.ok(novita.some((i) => HOSTILE.includes(i.name)), "the simulator serves hostile names");

  await fill(page, "#filter", "<script>alert(1)</script>");
  await page.waitForFunction(() => Number(document.getElementById("main").dataset.rows) > 0);
  assert.ok((await page.$$eval("#fleet tbody td.c-name .name", (els) => els.map((e) => e.textContent))).includes("<script>alert(1)</script>"), "the markup is shown as its characters");
  await fill(page, "#filter", "");
  await waitForRows(page, 160);
  await page.click("#provider-chips [data-provider=novita]");
  const shown = await page.$$eval("#fleet tbody td.c-name .name", (els) => els.map((e) => e.textContent));
  assert.ok(shown.length > 0);
  for (const s of shown) assert.ok(HOSTILE.includes(s), `name shown verbatim: ${JSON.stringify(s)}`);
  assert.equal(await activeIn(page, "#fleet"), 0, "no active element in the table");
  await page.click("#provider-chips [data-provider=novita]");

  const target = novita.find((i) => i.name === "<img src=x onerror=alert(1)>") ?? novita[1];
  await openDetails(page, "novita", target.id);
  assert.equal(await text(page, "#details-title"), target.name);
  assert.deepEqual(JSON.parse(await text(page, "#details-body pre.raw")), target);
  assert.equal(await activeIn(page, "#details"), 0, "no active element in the details");
  await shot(page, "hostile-details");
  assert.equal(await page.evaluate(() => window.__pwned), 0, "no provider text ran");
  await assertClean(assert, page, "(hostile)");
  await page.browserContext().close();
});
