// The console in a headless browser against the simulated clouds behind the edge proxy in workerd,
// started the way `npm start` starts them (scripts/proxy-runtime.mjs: startSim with epoch "now",
// simEnv, startProxy with the default limits), plus a page that records everything that must not
// happen: dialogs, page errors, console errors and CSP violations. The engine is Chromium
// (playwright-core: the pages are Playwright's) unless `engine: "firefox"` (Firefox ESR through
// puppeteer-core over WebDriver BiDi: the pages are Puppeteer's); see tests/browsers.mjs.

import { before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { launchChromium, launchFirefox, waitForPageFunction } from "../browsers.mjs";
import { ROOT, ensurePkg, simEnv, startProxy } from "../../scripts/proxy-runtime.mjs";
import { startSim } from "../sim/server.mjs";
import { SIM_KEYS } from "../sim/defaults.mjs";
import { FAL_PRICES } from "../sim/catalog.mjs";
import { simControl } from "../sim/control-client.mjs";

export const SHOTS = join(ROOT, "test-output", "console");
export const SECRETS = [SIM_KEYS.fal, SIM_KEYS.sfcompute, SIM_KEYS.sfcWorkspace, SIM_KEYS.novita];
export const PROVIDERS = ["fal", "fal-alpha", "sfcompute", "novita"];
/**
 * The proxy's price table in these tests (GPUFLEET_PRICES), as `npm start` gives the simulated
 * clouds: fal publishes no compute prices, so fal rows are priced only from a configured table —
 * here the sim's own fal prices (catalog.mjs FAL_PRICES, what its fal balance drains at), in USD
 * per hour. fal-alpha gets only its 8× type, so its 1× rows stay unpriced (a "—" with the reason).
 */
export const PRICES = {
  fal: Object.fromEntries(Object.entries(FAL_PRICES).map(([t, micro]) => [t, micro / 1e6])),
  "fal-alpha": { gpu_8x_h100_sxm5: FAL_PRICES.gpu_8x_h100_sxm5 / 1e6 },
};

const ENGINES = ["chromium", "firefox"];

/** Runs before any page script (not subject to the page's CSP): records CSP violations. */
function recordCspViolations() {
  window.__csp = [];
  window.__pwned = 0;
  document.addEventListener("securitypolicyviolation", (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
}

/**
 * Starts sim + proxy + a browser. `sim`: startSim options (npm start's by default). `prices`:
 * the proxy's GPUFLEET_PRICES (PRICES by default; null for none). `d1`: bind the D1 database
 * (the records: deadlines, audit log; true by default, as `npm start`), see startProxy. `env`:
 * more proxy variables (e.g. Cloudflare Access's). `engine`: "chromium" (default) or "firefox".
 * `live`: bind the live view's Durable Object (true by default, as `npm start`; false: the
 * consoles poll).
 */
export async function startConsole({ sim: simOptions = {}, prices = PRICES, d1 = true, live = true, env: extraEnv = {}, engine = "chromium" } = {}) {
  if (!ENGINES.includes(engine)) throw new Error(`engine must be one of ${ENGINES.join(", ")}, not ${engine}`);
  ensurePkg({ log: (m) => console.error(`[console tests] ${m}`) });
  mkdirSync(SHOTS, { recursive: true });
  const sim = await startSim({ port: 0, seed: 1, instances: 40, speed: 5, epoch: "now", ...simOptions });
  const token = randomBytes(24).toString("base64url");
  const readOnlyToken = randomBytes(24).toString("base64url");
  const logs = [];
  const env = { ...(await simEnv(sim)), GPUFLEET_TOKEN: token, GPUFLEET_READONLY_TOKEN: readOnlyToken, ...extraEnv };
  if (prices) env.GPUFLEET_PRICES = JSON.stringify(prices);
  const proxy = await startProxy({ env, port: 0, d1, live, onLog: (l) => logs.push(l) });
  const browser = engine === "firefox" ? await launchFirefox() : await launchChromium();
  // Firefox's prefers-color-scheme is fixed per browser: a dark page gets a second one, on demand.
  let darkFirefox;
  const libraries = [];

  const pageUrl = (path, token) => `${c.url}${path}${token ? `#token=${encodeURIComponent(token === true ? c.token : token)}` : ""}`;

  async function openChromium({ token = true, viewport = { width: 1360, height: 900 }, colorScheme = "light", path = "/", time, headers } = {}) {
    const context = await browser.newContext({ viewport, colorScheme, extraHTTPHeaders: headers });
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: c.url });
    const page = await context.newPage();
    const problems = recordProblems(page);
    page.on("console", (m) => {
      const text = m.text();
      if (/Content Security Policy|Content-Security-Policy/i.test(text)) problems.csp.push(text);
      // Chromium logs every non-2xx answer (a refused token, a create the proxy rejects) and
      // every failed fetch as a console error; the page handles those, so they are kept apart.
      if (/^Failed to load resource: /.test(text)) problems.http.push(text);
      else if (m.type() === "error") problems.console.push(text);
    });
    if (time !== undefined) await page.clock.install({ time });
    // Runs before any page script (CDP, not subject to the page's CSP).
    await page.addInitScript(recordCspViolations);
    await page.goto(pageUrl(path, token));
    return page;
  }

  async function openFirefox({ token = true, viewport = { width: 1360, height: 900 }, colorScheme = "light", path = "/", time, headers } = {}) {
    if (time !== undefined || headers !== undefined) throw new Error("open(): `time` and `headers` need Playwright (Chromium); Firefox pages are Puppeteer's");
    let engineBrowser = browser;
    if (colorScheme === "dark") engineBrowser = darkFirefox ??= await launchFirefox({ colorScheme: "dark" });
    else if (colorScheme !== "light") throw new Error(`colorScheme must be light or dark, not ${colorScheme}`);
    const context = await engineBrowser.createBrowserContext();
    const page = await context.newPage();
    await page.setViewport(viewport);
    const problems = recordProblems(page);
    page.on("console", (m) => {
      const text = m.text();
      if (/Content Security Policy|Content-Security-Policy/i.test(text)) problems.csp.push(text);
      // Firefox reports a non-2xx answer to fetch() nowhere on the console: any error is one.
      else if (m.type() === "error") problems.console.push(text);
    });
    // A BiDi preload script: runs before any page script, not subject to the page's CSP.
    await page.evaluateOnNewDocument(recordCspViolations);
    await page.goto(pageUrl(path, token));
    return page;
  }

  /** Dialogs (dismissed) and uncaught errors, the same in both drivers; the caller adds the console's. */
  function recordProblems(page) {
    const problems = { dialogs: [], errors: [], console: [], csp: [], http: [] };
    page.on("dialog", (d) => {
      problems.dialogs.push(`${d.type()}: ${d.message()}`);
      d.dismiss().catch(() => {});
    });
    page.on("pageerror", (e) => problems.errors.push(e.message));
    page.problems = problems;
    page.cspViolations = async () => [...problems.csp, ...(await page.evaluate(() => window.__csp))];
    return problems;
  }

  const c = {
    sim,
    proxy,
    token,
    readOnlyToken,
    browser,
    engine,
    logs,
    url: proxy.url,
    control: (method, path, body) => simControl(sim.url, method, path, body),
    /** The sim's true state of one provider's fleet. */
    async state(provider) {
      return (await c.control("GET", `/state?provider=${provider}`)).instances;
    },
    /**
     * A new page (own context) with the problem recorders. `token: false` opens without a token;
     * otherwise the URL carries #token=… as `npm start` prints it. `time` (Unix ms) starts the
     * page's clock there (Playwright's fake clock, installed before any page script; it then
     * runs on unless the test moves it with `page.clock`). `headers`: sent with every request
     * of the page (as Cloudflare's edge adds `Cf-Access-Jwt-Assertion` behind Access). In
     * Firefox (a Puppeteer page) there is no `time` or `headers`, and no clipboard permission.
     */
    async open(options = {}) {
      return engine === "firefox" ? openFirefox(options) : openChromium(options);
    },
    /** The package's own `Fleet` in proxy mode against this proxy (the read-write token); close() frees it. */
    async library() {
      const { Fleet } = await import("../../pkg/node.js");
      const lib = new Fleet({ proxy: { url: `${c.url}/api`, token: c.token } });
      libraries.push(lib);
      return lib;
    },
    async close() {
      for (const lib of libraries.splice(0)) lib.free();
      await browser.close().catch(() => {});
      await darkFirefox?.close().catch(() => {});
      await proxy.dispose().catch(() => {});
      await sim.close().catch(() => {});
    },
  };
  return c;
}

/**
 * The console of one test file: started with startConsole(`options`) before the file's tests and
 * closed after them. The object returned is that console once the tests run; with `library`, its
 * `lib` is the package's own Fleet against the same proxy (c.library()).
 */
export function useConsole({ library = false, ...options } = {}) {
  const c = {};
  // One hook: Node 20 runs a file's top-level before() hooks at once, not one after another.
  before(async () => {
    Object.assign(c, await startConsole(options));
    if (library) c.lib = await c.library();
  });
  after(async () => {
    await c.close?.();
  });
  return c;
}

/** Opens an instance's details through the UI: filter by its id, click its row. */
export async function openDetails(p, provider, id) {
  await p.fill("#filter", id);
  await waitForRows(p, 1);
  await row(p, provider, id).click();
  await p.waitForSelector("#details:not([hidden])");
  assert.equal(await p.textContent("#details-body dd code"), id);
}

/** Waits until the table has rendered a listing with `n` matching rows (or any, without n); either engine. */
export async function waitForRows(page, n, timeout = 30_000) {
  await waitForPageFunction(
    page,
    (want) => {
      const rows = document.getElementById("main")?.dataset.rows;
      return rows !== undefined && document.querySelector("#count")?.textContent !== "" && (want === null ? Number(rows) > 0 : Number(rows) === want);
    },
    n ?? null,
    { timeout },
  );
}

/** The texts of one column of the rendered rows. */
export function column(page, cls) {
  return page.$$eval(`#fleet tbody tr[data-key] td.${cls}`, (tds) => tds.map((td) => td.textContent));
}

/** The row of one instance (a locator). */
export function row(page, provider, id) {
  return page.locator(`#fleet tbody tr[data-key="${provider}/${id}"]`);
}

/** Asserts nothing that must not happen did. */
export async function assertClean(assert, page, what = "") {
  assert.deepEqual(page.problems.dialogs, [], `no dialog ${what}`);
  assert.deepEqual(page.problems.errors, [], `no page error ${what}`);
  assert.deepEqual(await page.cspViolations(), [], `no CSP violation ${what}`);
  assert.deepEqual(page.problems.console, [], `no console error ${what}`);
}
