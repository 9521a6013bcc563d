// The scenario as a command, for every runtime in tests/js/runtime-scenario.mjs (Node, Deno, Bun):
// `<runtime> run-cli.mjs <sim url>`.
// "gpufleet" resolves through this project's node_modules and the package's exports map
// (conditions "deno" / "bun" / "node").
import * as gpufleet from "gpufleet";
import { runScenario } from "./scenario.mjs";

const args = globalThis.Deno ? Deno.args : process.argv.slice(2);
const runtime = globalThis.Deno ? `deno ${Deno.version.deno}` : globalThis.Bun ? `bun ${Bun.version}` : `node ${process.version}`;
const exit = (code) => (globalThis.Deno ? Deno.exit(code) : process.exit(code));
try {
  const report = await runScenario({ gpufleet, simUrl: args[0], runtime });
  report.entry = import.meta.resolve("gpufleet"); // which file the exports map chose
  console.log(JSON.stringify(report));
  exit(0);
} catch (e) {
  console.error(`scenario failed in ${runtime}: ${e && e.stack ? e.stack : e}`);
  exit(1);
}
