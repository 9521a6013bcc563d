// The proxy's own CPU for one `GET /api/v1/instances` answer of 1,000 instances (250 per
// provider): the Worker's real wasm (pkg/proxy/) and its `handleFetch`, called in this process
// with `fetch` replaced by in-memory answers (each provider's list body, built once), so only
// gpufleet's work is timed — decoding four upstream bodies, merging, filtering and writing the
// answer — and no network, sim or runtime scheduling. The Workers Free plan allows 10 ms of CPU
// per request; that is the target. A trivial handler that returns the same bytes it was given
// (`JSON.parse` + `JSON.stringify` of the four bodies, what a hand-written JS proxy would do at
// least) runs beside it as the baseline.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { listBodies } from "./bodies.mjs";
import { interleave, median, ROOT, row } from "./lib.mjs";

const PER_PROVIDER = 250;

export async function run({ quick, log }) {
  // GPUFLEET_BENCH_PROXY_DIR: another build of the Worker's wasm to measure (e.g. at another
  // opt-level, for BENCHMARKS.md's "Two builds" table); by default the one in pkg/proxy/.
  const dir = process.env.GPUFLEET_BENCH_PROXY_DIR ?? join(ROOT, "pkg/proxy");
  const glue = await import(pathToFileURL(join(dir, "gpufleet_proxy.js")).href);
  glue.initSync({ module: readFileSync(join(dir, "gpufleet_proxy_bg.wasm")) });
  const bodies = listBodies(PER_PROVIDER);
  const byHost = {
    "fal.bench.invalid": bodies.fal,
    "fal-alpha.bench.invalid": bodies["fal-alpha"],
    "sfc.bench.invalid": bodies.sfcompute,
    "novita.bench.invalid": bodies.novita,
  };
  const realFetch = globalThis.fetch;
  // The Worker logs one JSON line per request (workerd ships it off-thread); Node's console.log is
  // a synchronous write, which is not the proxy's work: silenced while measuring.
  const realLog = console.log;
  console.log = () => {};
  let upstreamCalls = 0;
  globalThis.fetch = async (input) => {
    upstreamCalls += 1;
    const url = new URL(typeof input === "string" ? input : input.url);
    const body = byHost[url.hostname];
    if (body === undefined) return new Response("{}", { status: 404 });
    return new Response(body, { status: 200, headers: { "content-type": "application/json" } });
  };
  const token = "bench-token-0123456789abcdef";
  const env = {
    GPUFLEET_TOKEN: token,
    FAL_KEY: "k",
    FAL_BASE_URL: "https://fal.bench.invalid/v1",
    FAL_ALPHA_BASE_URL: "https://fal-alpha.bench.invalid",
    SFC_TOKEN: "t",
    SFC_WORKSPACE: "wksp_bench",
    SFC_BASE_URL: "https://sfc.bench.invalid/preview/v2",
    NOVITA_API_KEY: "n",
    NOVITA_BASE_URL: "https://novita.bench.invalid/gpu-instance/openapi/v1",
    GPUFLEET_ORIGIN: "https://proxy.bench.invalid",
    RATE_LIMIT_PER_MINUTE: "0",
  };
  const request = () => new Request("https://proxy.bench.invalid/api/v1/instances", { headers: { authorization: `Bearer ${token}` } });
  try {
    const first = await glue.handleFetch(request(), env, {});
    const answer = await first.json();
    if (first.status !== 200 || answer.instances.length !== 4 * PER_PROVIDER || answer.errors.length) {
      throw new Error(`proxy cpu: answered ${first.status} with ${answer.instances?.length} instances, errors ${JSON.stringify(answer.errors)}`);
    }
    const rounds = quick ? 10 : 40;
    const texts = Object.values(byHost);
    const times = await interleave(
      {
        gpufleet: async () => {
          const r = await glue.handleFetch(request(), env, {});
          await r.arrayBuffer();
        },
        baseline: async () => {
          // The least a JS proxy does with the same answers: read each, write one.
          const all = texts.map((t) => JSON.parse(t));
          const out = new TextEncoder().encode(JSON.stringify({ instances: all, errors: [] }));
          if (out.length === 0) throw new Error("empty");
        },
      },
      { rounds, warmup: 3 },
    );
    const g = median(times.gpufleet);
    const b = median(times.baseline);
    log(`handleFetch /api/v1/instances, ${4 * PER_PROVIDER} instances: ${g.toFixed(2)} ms (baseline JSON round trip ${b.toFixed(2)} ms), ${upstreamCalls} upstream calls in all`);
    return {
      rows: [
        row({
          section: "proxy",
          figure: `proxy's own CPU: one /api/v1/instances answer of ${4 * PER_PROVIDER} instances (handleFetch, upstream answers in memory)`,
          value: g,
          unit: "ms",
          baseline: b,
          target: "≤ 10 ms (Workers Free CPU per request)",
          met: g <= 10,
        }),
      ],
      details: { perProvider: PER_PROVIDER, gpufleetMs: times.gpufleet, baselineMs: times.baseline },
    };
  } finally {
    globalThis.fetch = realFetch;
    console.log = realLog;
  }
}
