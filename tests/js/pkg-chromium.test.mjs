// The packed package's scenario in headless Chromium (playwright-core + /usr/bin/chromium); see
// browser-scenario.mjs.
import { browserScenarioTest } from "./browser-scenario.mjs";
import { launchChromium } from "../browsers.mjs";

browserScenarioTest({ title: "headless Chromium", launch: launchChromium, runtime: /Chrome/ });
