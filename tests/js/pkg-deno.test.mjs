// The packed package in Deno (node_modules/.bin/deno; exports condition "deno"): see RUNTIMES.deno.
import { scenarioTest } from "./runtime-scenario.mjs";
scenarioTest("deno");
