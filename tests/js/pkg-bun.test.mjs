// The packed package in Bun (node_modules/.bin/bun; exports condition "bun"): see RUNTIMES.bun.
import { scenarioTest } from "./runtime-scenario.mjs";
scenarioTest("bun");
