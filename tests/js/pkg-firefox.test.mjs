// The packed package's scenario in headless Firefox ESR (puppeteer-core over WebDriver BiDi +
// /usr/bin/firefox-esr); see browser-scenario.mjs.
import { browserScenarioTest } from "./browser-scenario.mjs";
import { launchFirefox } from "../browsers.mjs";

browserScenarioTest({ title: "headless Firefox ESR", launch: launchFirefox, runtime: /Firefox\/\d+/ });
