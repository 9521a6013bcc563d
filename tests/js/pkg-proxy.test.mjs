// The packed package in proxy mode (Node): `new Fleet({ proxy: { url, token } })` against the
// gpufleet edge proxy (pkg/worker.js in workerd via Miniflare), which talks to the simulated clouds.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { ensureScratch, sim } from "./helpers.mjs";
import { simEnv, startProxy } from "../../scripts/proxy-runtime.mjs";

let s;
let proxy;
let scratch;
const token = randomBytes(18).toString("base64url");
const logs = []; // the proxy's request log, kept quiet
before(async () => {
  scratch = ensureScratch();
  s = await sim();
  proxy = await startProxy({
    env: { ...(await simEnv(s)), GPUFLEET_TOKEN: token, RATE_LIMIT_PER_MINUTE: "100000", RATE_LIMIT_BURST: "100000" },
    port: 0,
    onLog: (line) => logs.push(line),
  });
});
after(async () => {
  await proxy?.dispose?.();
  await s?.close();
});

test(`proxy-mode scenario in Node ${process.version}`, async () => {
  const { gpufleet } = await import(pathToFileURL(join(scratch, "node-entry.mjs")).href);
  const { runProxyScenario } = await import(pathToFileURL(join(scratch, "scenario.mjs")).href);
  const report = await runProxyScenario({ gpufleet, simUrl: s.url, proxyUrl: `${proxy.url}/api`, token, runtime: `node ${process.version}` });
  assert.equal(report.ok, true);
});
