// The console's core flows in headless Firefox ESR (Debian's /usr/bin/firefox-esr, driven by
// puppeteer-core over WebDriver BiDi; tests/browsers.mjs), against the simulated clouds behind the
// edge proxy in workerd as `npm start` runs them (tests/console/harness.mjs with engine "firefox"):
// the problem recorders (dialog, error, console, CSP), sign-in with the token, the fleet from all
// four providers, filter and status chips, an instance's details (and Copy), create (the form's
// messages, then a fal instance reaching running), Novita stop after a confirm (and a cancel that
// sends nothing), a deadline typed key by key across the panel's refresh, SF Compute terminate,
// the keyboard and the view in the URL (reload, Back), and the theme (light, then dark at phone
// width). Inputs are typed as a user types them (pages.mjs). The Chromium suites in tests/console/
// go deeper; this one proves the same console works in a second engine. Its own directory, so
// `node --test tests/console/` stays Chromium's step. Screenshots: test-output/console/firefox-*.png.

import { test } from "node:test";
import assert from "node:assert/strict";
import { SECRETS, PROVIDERS, useConsole, waitForRows, assertClean } from "../console/harness.mjs";
import { closeDetails, fill, openDetails, shot, text, waitFor, waitForStatus } from "./pages.mjs";

const c = useConsole({ engine: "firefox" });
let page;

const actions = (p) => p.$$eval("#details-body .detail-actions [data-action]", (bs) => bs.map((b) => b.dataset.action));

test("Firefox ESR drives the page over WebDriver BiDi", async () => {
  assert.match(await c.browser.version(), /^firefox\/\d+/i);
});

test("the page's problem recorders see what Firefox reports: a dialog, an uncaught error, a console error, a CSP violation", async () => {
  // The other tests' assertClean means something only if these reach page.problems in Firefox too.
  const p = await c.open();
  await waitForRows(p, 160);
  await p.evaluate(() => {
    console.error("recorded console error");
    setTimeout(() => {
      throw new Error("recorded uncaught error");
    });
    const script = document.createElement("script");
    script.textContent = "window.__pwned = 1";
    document.body.append(script);
    setTimeout(() => alert("recorded dialog"));
  });
  await waitFor(p, () => window.__csp.length > 0);
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.deepEqual(p.problems.dialogs, ["alert: recorded dialog"]);
  assert.ok(p.problems.errors.some((e) => e.includes("recorded uncaught error")), JSON.stringify(p.problems.errors));
  assert.ok(p.problems.console.includes("recorded console error"), JSON.stringify(p.problems.console));
  assert.match((await p.cspViolations()).join("\n"), /script-src/);
  assert.equal(await p.evaluate(() => window.__pwned), 0, "the CSP kept the inline script out");
  await p.browserContext().close();
});

test("sign-in: the token prompt, a wrong token, the right one, sign-out", async () => {
  const p = await c.open({ token: false });
  assert.match(await p.evaluate(() => navigator.userAgent), /Firefox\/\d+/);
  await p.waitForSelector("#login:not([hidden])");
  assert.equal(await p.$eval("#main", (m) => m.hidden), true);
  await fill(p, "#token", "not-the-token-0123456789");
  await p.click("#login button[type=submit]");
  await waitFor(p, () => document.getElementById("login-error").textContent.includes("token"));
  assert.match(await text(p, "#login-error"), /not accepted|not valid/);
  assert.equal(await p.evaluate(() => sessionStorage.getItem("gpufleet.token")), null, "a refused token is not kept");
  await fill(p, "#token", c.token);
  await p.keyboard.press("Enter");
  await waitForRows(p, 160);
  assert.equal(await p.evaluate(() => sessionStorage.getItem("gpufleet.token")), c.token);
  await p.click("#logout");
  await p.waitForSelector("#login:not([hidden])");
  assert.equal(await p.evaluate(() => sessionStorage.getItem("gpufleet.token")), null);
  assert.equal((await p.$$("#fleet tbody tr[data-key]")).length, 0, "signing out clears the table");
  await assertClean(assert, p, "(sign-in)");
  await p.browserContext().close();
});

test("#token= loads the package in proxy mode and lists instances from all four providers", async () => {
  page = await c.open();
  await waitForRows(page, 160);
  assert.equal(new URL(page.url()).hash, "", "#token= is taken off the URL");
  assert.equal(await page.evaluate(() => window.__csp.length), 0, "the wasm ran under the console's CSP");
  for (const p of PROVIDERS) {
    const want = (await c.state(p)).length;
    assert.ok(want > 0);
    assert.equal(Number(await text(page, `#provider-chips [data-provider="${p}"] .n`)), want, `${p} count`);
  }
  const statusCounts = await page.$$eval("#status-chips .chip .n", (ns) => ns.map((n) => Number(n.textContent)));
  assert.equal(statusCounts.reduce((a, b) => a + b, 0), 160);
  // A provider chip shows only that provider's rows, as many as it holds.
  for (const p of PROVIDERS) {
    const want = (await c.state(p)).length;
    await page.click(`#provider-chips [data-provider="${p}"]`);
    await waitForRows(page, want);
    assert.deepEqual(await page.$$eval("#fleet tbody tr[data-key]", (trs) => [...new Set(trs.map((t) => t.dataset.provider))]), [p]);
    await page.click(`#provider-chips [data-provider="${p}"]`);
    await waitForRows(page, 160);
  }
  const html = await page.content();
  for (const s of SECRETS) assert.ok(!html.includes(s), "no provider key in the page");
  await shot(page, "fleet");
  await assertClean(assert, page, "(load)");
});

test("filter by IP, by name and to nothing; the running chip", async () => {
  const target = (await c.state("fal")).find((i) => i.ip);
  const sameIp = (await Promise.all(PROVIDERS.map((p) => c.state(p)))).flat().filter((i) => (i.ip || "").includes(target.ip));
  await fill(page, "#filter", target.ip);
  await waitForRows(page, sameIp.length);
  assert.ok((await page.$$eval("#fleet tbody tr[data-key]", (trs) => trs.map((t) => t.dataset.key))).includes(`fal/${target.id}`));
  assert.ok((await page.$$eval("#fleet tbody tr[data-key] td.c-ip", (tds) => tds.map((t) => t.textContent))).every((ip) => ip.includes(target.ip)));
  const named = (await c.state("novita")).find((i) => i.name && i.name.length > 4);
  await fill(page, "#filter", named.name.slice(1, -1).toUpperCase());
  await waitFor(page, (key) => [...document.querySelectorAll("#fleet tbody tr[data-key]")].some((t) => t.dataset.key === key), `novita/${named.id}`);
  await fill(page, "#filter", "no-such-instance-anywhere");
  await waitForRows(page, 0);
  assert.equal(await page.$eval("#empty", (e) => e.hidden), false);
  assert.match(await text(page, "#empty-text"), /No instance matches/);
  await page.click("#clear-filters");
  await waitForRows(page, 160);
  assert.equal(await page.$eval("#filter", (e) => e.value), "");

  const running = "#status-chips [data-status=running]";
  const n = Number(await text(page, `${running} .n`));
  await page.click(running);
  await waitForRows(page, n);
  assert.equal(await page.$eval(running, (b) => b.getAttribute("aria-pressed")), "true");
  assert.deepEqual(await page.$$eval("#fleet tbody tr[data-key]", (trs) => [...new Set(trs.map((t) => t.dataset.status))]), ["running"]);
  await page.click(running);
  await waitForRows(page, 160);
  await assertClean(assert, page, "(filter)");
});

test("an instance's details: its fields and the provider's raw record", async () => {
  const inst = (await c.state("fal")).find((i) => i.status === "ready" && i.ip);
  await openDetails(page, "fal", inst.id);
  const labels = await page.$$eval("#details-body dl.fields > dt", (dts) => dts.map((d) => d.textContent));
  for (const l of ["Provider", "Id", "Status", "Instance type", "GPUs", "IP", "SSH command", "Created"]) assert.ok(labels.includes(l), `field ${l}`);
  assert.deepEqual(JSON.parse(await text(page, "#details-body pre.raw")), inst, "the raw record is the provider's record");
  assert.equal(await page.$eval("#details-body", (b) => [...b.querySelectorAll("dt")].find((d) => d.textContent === "SSH command").nextElementSibling.querySelector("code").textContent), `ssh ${inst.ip}`);
  // Copy: the clipboard API answers a real click in Firefox too (the button says so).
  await page.click("#details-body button[data-copy=IP]");
  await waitFor(page, () => document.querySelector("#details-body button[data-copy=IP]")?.textContent !== "Copy");
  assert.equal(await text(page, "#details-body button[data-copy=IP]"), "Copied");
  await shot(page, "details");
  await closeDetails(page);
  await assertClean(assert, page, "(details)");
});

test("create a fal instance: the form's messages, then the instance reaching running", async () => {
  await page.click("#new-instance");
  await page.waitForSelector("#create:not([hidden])");
  await page.select("#create-provider", "fal");
  await page.waitForSelector("#create-fields .field[data-field=instanceType]");
  await page.click("#create-submit");
  await page.waitForSelector(".field[data-field=instanceType] .field-error", { visible: true });
  assert.equal(await text(page, ".field[data-field=instanceType] .field-error"), "Instance type is required");
  await page.select("#cf-instanceType", "gpu_1x_h100_sxm5");
  await fill(page, "#cf-sshKey", "not-a-key");
  await page.click("#create-submit");
  await waitFor(page, () => /must be an SSH public key/.test(document.querySelector(".field[data-field=sshKey] .field-error")?.textContent));
  assert.equal(await text(page, ".field[data-field=instanceType] .field-error"), "", "the earlier message is cleared");
  assert.equal((await c.control("GET", "/requests?provider=fal")).filter((r) => r.method === "POST").length, 0, "nothing was sent to fal");

  await fill(page, "#cf-sshKey", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM1outtTd7rm8LaDTtENTqynJVQeK/YgFBsxefmB6Cu2 console@firefox");
  await page.click("#create-submit");
  await page.waitForSelector("#create", { hidden: true });
  await page.waitForSelector("#details:not([hidden])");
  assert.equal((await c.control("GET", "/requests?provider=fal")).filter((r) => r.method === "POST").length, 1, "one create request");
  const id = (await text(page, "#details-body dd code")).trim();
  assert.match(id, /^inst_/);
  await fill(page, "#filter", id);
  await waitForRows(page, 1);
  await waitForStatus(page, "fal", id, "running");
  const sim = (await c.state("fal")).find((i) => i.id === id);
  assert.equal(sim.status, "ready");
  assert.equal(sim.instance_type, "gpu_1x_h100_sxm5");
  await shot(page, "created");
  await closeDetails(page);
  await assertClean(assert, page, "(create)");
});

test("stop a Novita instance after a confirm; cancel sends nothing", async () => {
  const inst = (await c.state("novita")).find((i) => i.status === "running" && !i.statusError);
  await c.control("DELETE", "/requests");
  await openDetails(page, "novita", inst.id);
  assert.deepEqual(await actions(page), ["stop", "restart", "delete"]);
  await page.click("#details-body [data-action=stop]");
  assert.match(await text(page, "#details-body .confirm"), /^Stop Novita instance/);
  await page.click("#details-body .confirm button:not([data-confirm])");
  await page.waitForSelector("#details-body .confirm", { hidden: true });
  assert.equal((await c.control("GET", "/requests?provider=novita")).filter((r) => r.method === "POST").length, 0, "cancel sent nothing");

  await page.click("#details-body [data-action=stop]");
  await page.click("#details-body [data-confirm=stop]");
  await waitForStatus(page, "novita", inst.id, "stopped");
  assert.equal((await c.state("novita")).find((i) => i.id === inst.id).status, "exited");
  const posts = (await c.control("GET", "/requests?provider=novita")).filter((r) => r.method === "POST").map((r) => r.path.split("/").pop());
  assert.deepEqual(posts, ["stop"]);
  await page.waitForSelector("#details-body [data-action=start]");
  assert.deepEqual(await actions(page), ["start", "delete"]);
  await closeDetails(page);
  await assertClean(assert, page, "(novita stop)");
});

test("a deadline typed like a user: what was selected in the form survives the panel's refresh", async () => {
  // The panel is rebuilt on every poll (the cost so far moves); a user who has selected the
  // minutes to retype them must not find the old text back, or a deadline set they never chose.
  const inst = (await c.state("novita")).find((i) => i.status === "running" && !i.statusError);
  await openDetails(page, "novita", inst.id);
  const after = "#details-body [data-deadline-input=after]";
  assert.equal(await page.$eval(after, (e) => e.value), "60", "the form's default");
  await page.focus(after);
  await page.keyboard.down("Control");
  await page.keyboard.press("a");
  await page.keyboard.up("Control");
  // Mark the panel, then wait for the next poll to re-render it.
  await page.$eval("#details-body dl.fields", (dl) => (dl.dataset.seen = "1"));
  await waitFor(page, () => !document.querySelector("#details-body dl.fields")?.dataset.seen, null, 30_000);
  assert.equal(await page.evaluate(() => document.activeElement?.dataset.deadlineInput), "after", "the focus stays in the form");
  await page.keyboard.press("Backspace");
  await page.keyboard.type("0");
  assert.equal(await page.$eval(after, (e) => e.value), "0", "what was selected was replaced");
  await page.click("#details-body [data-deadline-submit]");
  await waitFor(page, () => document.querySelector("#details-body [data-deadline-error]")?.textContent);
  assert.match(await text(page, "#details-body [data-deadline-error]"), /after.*must be more than 0/);
  const stored = await c.proxy.db.prepare("SELECT * FROM deadlines WHERE provider = ?1 AND instance_id = ?2").bind("novita", inst.id).first();
  assert.equal(stored, null, "no deadline stored");
  await closeDetails(page);
  await assertClean(assert, page, "(deadline typing)");
});

test("terminate an SF Compute instance after a confirm", async () => {
  const inst = (await c.state("sfcompute")).find((i) => i.status === "running");
  await openDetails(page, "sfcompute", inst.id);
  assert.deepEqual(await actions(page), ["terminate"]);
  await page.click("#details-body [data-action=terminate]");
  assert.match(await text(page, "#details-body .confirm"), /for good/);
  await page.click("#details-body [data-confirm=terminate]");
  await waitForStatus(page, "sfcompute", inst.id, "terminated");
  assert.equal((await c.state("sfcompute")).find((i) => i.id === inst.id).status, "terminated");
  await page.waitForSelector("#details-body [data-action=delete]");
  await shot(page, "terminated");
  await closeDetails(page);
  await assertClean(assert, page, "(sfcompute terminate)");
  await page.browserContext().close();
});

test("keyboard and the URL: / j k Enter Esc; the view survives a reload, Back undoes it", async () => {
  // The earlier tests created an instance: count what the providers hold now.
  const total = (await Promise.all(PROVIDERS.map((provider) => c.state(provider)))).flat().length;
  const novitas = (await c.state("novita")).length;
  const p = await c.open();
  await waitForRows(p, total);
  await p.keyboard.press("/");
  assert.equal(await p.evaluate(() => document.activeElement.id), "filter");
  await p.keyboard.press("Escape");
  assert.notEqual(await p.evaluate(() => document.activeElement.id), "filter");
  const keys = await p.$$eval("#fleet tbody tr[data-key]", (trs) => trs.map((t) => t.dataset.key));
  const active = () => p.evaluate(() => document.activeElement?.dataset?.key ?? null);
  await p.keyboard.press("j");
  await p.keyboard.press("j");
  await p.keyboard.press("j");
  await p.keyboard.press("k");
  assert.equal(await active(), keys[1]);
  await p.keyboard.press("Enter");
  await p.waitForSelector("#details:not([hidden])");
  assert.equal(new URL(p.url()).searchParams.get("open"), keys[1]);
  await p.keyboard.press("Escape");
  await p.waitForSelector("#details", { hidden: true });

  // Chip, sort and filter in the URL; a reload keeps them; Back undoes them one by one.
  const target = (await c.state("novita"))[3];
  await p.click("#provider-chips [data-provider=novita]");
  await waitForRows(p, novitas);
  await p.click("th[data-col=price] button");
  await fill(p, "#filter", target.id);
  await waitForRows(p, 1);
  await waitFor(p, (id) => new URLSearchParams(location.search).get("q") === id, target.id);
  assert.deepEqual(Object.fromEntries(new URL(p.url()).searchParams), { q: target.id, p: "novita", sort: "-price" });
  await p.reload();
  await waitForRows(p, 1);
  assert.equal(await p.$eval("#filter", (e) => e.value), target.id);
  assert.equal(await p.$eval("th[data-col=price]", (th) => th.getAttribute("aria-sort")), "descending");
  await p.goBack();
  await waitForRows(p, novitas);
  assert.equal(await p.$eval("#filter", (e) => e.value), "");
  await p.goBack();
  await waitForRows(p, total);
  assert.equal(await p.$eval("#provider-chips [data-provider=novita]", (b) => b.getAttribute("aria-pressed")), "false");
  await assertClean(assert, p, "(keyboard, URL)");
  await p.browserContext().close();
});

test("the theme: light by default; dark at phone width when the system prefers dark", async () => {
  const background = (p) => p.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
  const light = await c.open();
  await waitForRows(light, null);
  assert.equal(await light.evaluate(() => matchMedia("(prefers-color-scheme: dark)").matches), false);
  const lightBg = await background(light);
  await light.browserContext().close();

  const p = await c.open({ viewport: { width: 390, height: 844 }, colorScheme: "dark" });
  await waitForRows(p, null);
  assert.equal(await p.evaluate(() => matchMedia("(prefers-color-scheme: dark)").matches), true);
  const darkBg = await background(p);
  assert.notEqual(darkBg, lightBg, `the dark theme has its own background (${darkBg})`);
  const [r, g, b] = darkBg.match(/\d+/g).map(Number);
  assert.ok(r + g + b < 3 * 96, `a dark background (${darkBg})`);
  const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `no sideways scrolling (overflow ${overflow}px)`);
  await shot(p, "phone-dark");
  await p.click("#fleet tbody tr[data-key]");
  await p.waitForSelector("#details:not([hidden])");
  assert.equal(Math.round(await p.$eval("#details", (d) => d.getBoundingClientRect().width)), 390, "details take the whole width");
  await assertClean(assert, p, "(theme)");
  await p.browserContext().close();
});
