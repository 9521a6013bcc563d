// Driving the console's page in Firefox (a Puppeteer page, tests/console/harness.mjs with engine
// "firefox") the way a user does: real clicks and key events, no value set from script.

import assert from "node:assert/strict";
import { join } from "node:path";
import { SHOTS, waitForRows } from "../console/harness.mjs";

/** A screenshot in test-output/console/firefox-<name>.png. */
export const shot = (p, name) => p.screenshot({ path: join(SHOTS, `firefox-${name}.png`) });
/** The text of the first element matching `selector`. */
export const text = (p, selector) => p.$eval(selector, (e) => e.textContent);
/** The row of one instance. */
export const rowSelector = (provider, id) => `#fleet tbody tr[data-key="${provider}/${id}"]`;
/** page.waitForFunction(fn, arg) with a timeout. */
export const waitFor = (p, fn, arg, timeout = 30_000) => p.waitForFunction(fn, { timeout }, arg);

/** Replaces an input's text the way a user does: focus, select all, delete, type (real key events). */
export async function fill(p, selector, value) {
  await p.focus(selector);
  await p.keyboard.down("Control");
  await p.keyboard.press("a");
  await p.keyboard.up("Control");
  await p.keyboard.press("Backspace");
  if (value) await p.keyboard.type(value);
  assert.equal(await p.$eval(selector, (e) => e.value), value, `${selector} holds what was typed`);
}

/** Waits until a row's status badge reads `status`. */
export function waitForStatus(p, provider, id, status) {
  return waitFor(p, ([key, want]) => document.querySelector(`#fleet tr[data-key="${key}"] .badge`)?.textContent === want, [`${provider}/${id}`, status]);
}

/** Opens an instance's details through the UI: filter by its id, click its row. */
export async function openDetails(p, provider, id) {
  await fill(p, "#filter", id);
  await waitForRows(p, 1);
  await p.click(rowSelector(provider, id));
  await p.waitForSelector("#details:not([hidden])");
  assert.equal(await text(p, "#details-body dd code"), id);
}

/** Closes the details and clears the filter. */
export async function closeDetails(p) {
  await p.click("#details-close");
  await p.waitForSelector("#details", { hidden: true });
  await fill(p, "#filter", "");
}
