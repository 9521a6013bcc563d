// The two browser engines the browser tests drive, both Debian's own builds (scripts/ensure-tools.sh
// installs them): Chromium (/usr/bin/chromium) through playwright-core over CDP, and Firefox ESR
// (/usr/bin/firefox-esr) through puppeteer-core over WebDriver BiDi (Playwright drives only its own
// patched Firefox, which cannot be downloaded here; stock Firefox speaks BiDi).
//
// The two drivers' pages share what the engine-neutral tests use: goto, evaluate, screenshot,
// on("pageerror" | "console" | "dialog"). waitForPageFunction papers over the one call whose
// arguments differ.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import puppeteer from "puppeteer-core";

export const CHROMIUM_PATH = "/usr/bin/chromium";
export const FIREFOX_PATH = "/usr/bin/firefox-esr";
export const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

/** Headless Chromium (a Playwright Browser). */
export function launchChromium() {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}

/**
 * Headless Firefox ESR over WebDriver BiDi (a Puppeteer Browser). Its profile is a fresh directory
 * under TMPDIR, removed by the returned browser's close(). `colorScheme` ("light" | "dark") is what
 * pages see as prefers-color-scheme: a preference fixed at launch (Puppeteer's media emulation
 * needs CDP, which Firefox no longer has).
 */
export async function launchFirefox({ colorScheme = "light" } = {}) {
  const profile = mkdtempSync(join(tmpdir(), "gpufleet-firefox-"));
  let browser;
  try {
    browser = await puppeteer.launch({
      browser: "firefox",
      executablePath: FIREFOX_PATH,
      headless: true,
      userDataDir: profile,
      // A temp profile of our own: Puppeteer writes its prefs (no updates, no telemetry, no
      // first-run pages) into it; these are added.
      extraPrefsFirefox: {
        // 0 dark, 1 light: what prefers-color-scheme answers in pages.
        "layout.css.prefers-color-scheme.content-override": colorScheme === "dark" ? 0 : 1,
        "browser.safebrowsing.update.enabled": false,
        "network.captive-portal-service.enabled": false,
        "network.connectivity-service.enabled": false,
      },
      // Nothing outside the temp dir: Firefox (and GTK's dconf) would otherwise write ~/.cache.
      env: { ...process.env, XDG_CACHE_HOME: join(profile, ".cache"), MOZ_CRASHREPORTER_DISABLE: "1" },
      // Firefox's own chatter on stderr (GLib, sandbox notes) is not the test's concern.
      dumpio: false,
    });
  } catch (e) {
    rmSync(profile, { recursive: true, force: true });
    throw e;
  }
  const close = browser.close.bind(browser);
  browser.close = async () => {
    try {
      await close();
    } finally {
      rmSync(profile, { recursive: true, force: true });
    }
  };
  return browser;
}

/** True for a page of puppeteer-core (Firefox), false for one of playwright-core (Chromium). */
export function isPuppeteerPage(page) {
  return typeof page.browserContext === "function";
}

/**
 * page.waitForFunction(fn, arg) with a timeout, in either driver (Playwright takes (fn, arg,
 * options), Puppeteer (fn, options, ...args)).
 */
export function waitForPageFunction(page, fn, arg = null, { timeout = 30_000 } = {}) {
  return isPuppeteerPage(page) ? page.waitForFunction(fn, { timeout }, arg) : page.waitForFunction(fn, arg, { timeout });
}
