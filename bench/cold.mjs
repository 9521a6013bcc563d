// Cold start: (a) the gpufleet Worker in workerd — `new Miniflare(...)` + ready + the first
// request (one page of 25 fal instances) — next to the same for the trivial pass-through Worker,
// so the runtime's own start-up is visible; (b) the wasm alone in Node: compile
// (`new WebAssembly.Module`) and compile + instantiate (`initSync`), each in a fresh process so
// nothing is cached. A few repetitions, medians.

import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { simEnv, startProxy } from "../scripts/proxy-runtime.mjs";
import { SIM_KEYS } from "../tests/sim/defaults.mjs";
import { fetchDrain, median, ROOT, row, startSimProcess } from "./lib.mjs";
import { startPassthrough } from "./passthrough.mjs";

const WASM_PROBE = `
import { readFileSync } from "node:fs";
const dir = process.argv[1];
const bytes = readFileSync(dir + "/gpufleet_bg.wasm"); // the client build (what the package loads)
const glue = await import(dir + "/gpufleet.js");
let t = performance.now();
const module = new WebAssembly.Module(bytes);
const compileMs = performance.now() - t;
t = performance.now();
glue.initSync({ module });
const instantiateMs = performance.now() - t;
t = performance.now();
glue.Fleet && new glue.Fleet({ fal: { apiKey: "k" } }).free();
const firstCallMs = performance.now() - t;
console.log(JSON.stringify({ compileMs, instantiateMs, firstCallMs }));
`;

export async function run({ quick, log }) {
  const reps = quick ? 2 : 5;
  const sim = await startSimProcess(["--seed", "1", "--instances", "25", "--speed", "0"]);
  const token = randomBytes(24).toString("base64url");
  const env = { ...(await simEnv(sim)), GPUFLEET_TOKEN: token, RATE_LIMIT_PER_MINUTE: "0" };
  const times = { gpufleet: { ready: [], first: [], total: [] }, passthrough: { ready: [], first: [], total: [] } };
  try {
    for (let r = 0; r < reps; r++) {
      for (const which of r % 2 ? ["passthrough", "gpufleet"] : ["gpufleet", "passthrough"]) {
        const t0 = performance.now();
        const w = which === "gpufleet" ? await startProxy({ env, port: 0, onLog: () => {} }) : await startPassthrough({ upstream: sim.url });
        const t1 = performance.now();
        const status =
          which === "gpufleet"
            ? await fetchDrain(`${w.url}/api/v1/fal/instances?limit=25`, { headers: { authorization: `Bearer ${token}` } })
            : await fetchDrain(`${w.url}/fal/v1/compute/instances?limit=25`, { headers: { authorization: `Key ${SIM_KEYS.fal}` } });
        const t2 = performance.now();
        await w.dispose();
        if (status !== 200) throw new Error(`cold start: ${which} answered ${status}`);
        times[which].ready.push(t1 - t0);
        times[which].first.push(t2 - t1);
        times[which].total.push(t2 - t0);
      }
    }
  } finally {
    await sim.close();
  }
  const wasm = [];
  for (let r = 0; r < reps + 1; r++) {
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", WASM_PROBE, join(ROOT, "pkg")], { encoding: "utf8" });
    wasm.push(JSON.parse(out.trim().split("\n").pop()));
  }
  const m = (which, k) => median(times[which][k]);
  log(`gpufleet: ready ${m("gpufleet", "ready").toFixed(0)} ms + first request ${m("gpufleet", "first").toFixed(1)} ms; pass-through: ready ${m("passthrough", "ready").toFixed(0)} ms + first ${m("passthrough", "first").toFixed(1)} ms`);
  const compile = median(wasm.map((w) => w.compileMs));
  const inst = median(wasm.map((w) => w.instantiateMs));
  const firstCall = median(wasm.map((w) => w.firstCallMs));
  log(`wasm in Node: compile ${compile.toFixed(1)} ms, instantiate ${inst.toFixed(1)} ms, first call ${firstCall.toFixed(2)} ms`);
  const rows = [
    row({ section: "cold", figure: "Worker: new Miniflare + ready + first request (vs pass-through)", value: m("gpufleet", "total"), unit: "ms", baseline: m("passthrough", "total") }),
    row({ section: "cold", figure: "Worker: first request after ready (vs pass-through)", value: m("gpufleet", "first"), unit: "ms", baseline: m("passthrough", "first") }),
    row({ section: "cold", figure: "wasm in Node: WebAssembly.Module compile", value: compile, unit: "ms" }),
    row({ section: "cold", figure: "wasm in Node: instantiate (initSync)", value: inst, unit: "ms" }),
  ];
  return { rows, details: { reps, workerd: times, wasmNode: wasm } };
}
