// The proxy's own CPU for one `GET /api/v1/instances` answer of 1,000 instances (250 per
// provider): the Worker's real wasm (pkg/proxy/) and its `handleFetch`, called in this process
// with `fetch` replaced by in-memory answers (each provider's list body, built once), so only
// gpufleet's work is timed — decoding four upstream bodies, merging, filtering and writing the
// answer — and no network, sim or runtime scheduling. The Workers Free plan allows 10 ms of CPU
// per request; that is the target. A trivial handler that returns the same bytes it was given
// (`JSON.parse` + `JSON.stringify` of the four bodies, what a hand-written JS proxy would do at
// least) runs beside it as the baseline. A second figure is the same answer from a proxy that
// keeps records: the store holds a deadline for every tenth instance and 1,000 more for instances
// long gone; asked for the answer's instances (`deadlinesOf`, one D1 statement, which runs in
// D1, not in the Worker's CPU), it answers from memory with their 100, and each instance is
// answered with its own. Timed: the Worker's part — the instance keys it sends, the deadlines
// it reads back, the join and the longer answer.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { listBodies } from "./bodies.mjs";
import { interleave, median, ROOT, row } from "./lib.mjs";
import { startSim } from "../tests/sim/server.mjs";
import { simEnv } from "../scripts/proxy-runtime.mjs";

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
  // A listing also prices its instances: Novita's catalog (GET /products) and SF Compute's quotes
  // (GET /orderbook/quote). Those answers come from the simulated clouds, fetched once during the
  // first (checked) request and then served from memory like the list bodies, keyed by path and
  // the query without its times (a quote's window moves with the clock).
  const sim = await startSim({ port: 0, seed: 8, instances: 1, speed: 0 });
  const simBase = await simEnv(sim);
  const BENCH_BASE = {
    "fal.bench.invalid": ["https://fal.bench.invalid/v1", simBase.FAL_BASE_URL],
    "fal-alpha.bench.invalid": ["https://fal-alpha.bench.invalid", simBase.FAL_ALPHA_BASE_URL],
    "sfc.bench.invalid": ["https://sfc.bench.invalid/preview/v2", simBase.SFC_BASE_URL],
    "novita.bench.invalid": ["https://novita.bench.invalid/gpu-instance/openapi/v1", simBase.NOVITA_BASE_URL],
  };
  const LIST_PATHS = new Set(["/v1/compute/instances", "/compute/instances", "/preview/v2/instances", "/gpu-instance/openapi/v1/gpu/instances"]);
  const side = new Map();
  let sideMisses = 0;
  const keyOf = (url) => {
    const q = new URLSearchParams(url.search);
    for (const k of ["start_at", "end_at", "startTime", "endTime"]) q.delete(k);
    return `${url.hostname}${url.pathname}?${q}`;
  };
  globalThis.fetch = async (input, init) => {
    upstreamCalls += 1;
    const request = new Request(input, init);
    const url = new URL(request.url);
    if (LIST_PATHS.has(url.pathname)) {
      return new Response(byHost[url.hostname], { status: 200, headers: { "content-type": "application/json" } });
    }
    const key = keyOf(url);
    let answer = side.get(key);
    if (!answer) {
      sideMisses += 1;
      const [from, to] = BENCH_BASE[url.hostname] ?? [];
      if (!from) return new Response("{}", { status: 404 });
      const r = await realFetch(to + url.href.slice(from.length), { headers: request.headers });
      answer = { status: r.status, text: await r.text() };
      if (r.status !== 200) throw new Error(`proxy cpu: the simulated clouds answered ${r.status} to ${url.pathname}: ${answer.text.slice(0, 200)}`);
      side.set(key, answer);
    }
    return new Response(answer.text, { status: answer.status, headers: { "content-type": "application/json" } });
  };
  const token = "bench-token-0123456789abcdef";
  const env = {
    ...simBase,
    GPUFLEET_TOKEN: token,
    FAL_BASE_URL: "https://fal.bench.invalid/v1",
    FAL_ALPHA_BASE_URL: "https://fal-alpha.bench.invalid",
    SFC_BASE_URL: "https://sfc.bench.invalid/preview/v2",
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
    // The records: deadlines (as the D1 store's JSON) for every tenth listed instance, plus
    // 1,000 for instances no longer listed (fired deadlines stay in the table).
    const deadline = (provider, instanceId, i) => ({
      provider, instanceId, atMs: 1_800_000_000_000 + i, action: provider === "novita" ? "stop" : provider === "sfcompute" ? "terminate" : "delete",
      setBy: "bench", setAtMs: 1_790_000_000_000, state: i % 3 ? "pending" : "done", attempts: 0, nextAttemptMs: 1_800_000_000_000 + i,
    });
    const listed = answer.instances.filter((_, i) => i % 10 === 0).map((inst, i) => deadline(inst.provider, inst.id, i));
    const gone = Array.from({ length: 1_000 }, (_, i) => deadline("fal", `inst_gone${String(i).padStart(6, "0")}`, i));
    // What D1's query gives for the listed instances: `listed` (the `gone` ones are filtered out
    // by the query itself). The keys the Worker sends are checked once, not on every round.
    const kept = new Map([...listed, ...gone].map((d) => [`${d.provider}/${d.instanceId}`, d]));
    const listedText = JSON.stringify(listed);
    let asked = null;
    const store = {
      deadlinesOf: async (json) => {
        asked ??= JSON.parse(json);
        return listedText;
      },
    };
    const withRecords = await glue.handleFetch(request(), env, {}, store);
    const recorded = await withRecords.json();
    const carrying = recorded.instances.filter((i) => i.deadline).length;
    const found = (asked ?? []).filter(([p, id]) => kept.has(`${p}/${id}`)).length;
    if (asked?.length !== recorded.instances.length || found !== listed.length) {
      throw new Error(`proxy cpu: the Worker asked the store for ${asked?.length} instances (${found} with a deadline)`);
    }
    if (withRecords.status !== 200 || carrying !== listed.length) {
      throw new Error(`proxy cpu: with records, ${carrying} of ${recorded.instances?.length} instances carried a deadline (wanted ${listed.length})`);
    }
    const missesBefore = sideMisses;
    const rounds = quick ? 10 : 40;
    const texts = Object.values(byHost);
    const times = await interleave(
      {
        gpufleet: async () => {
          const r = await glue.handleFetch(request(), env, {});
          await r.arrayBuffer();
        },
        records: async () => {
          const r = await glue.handleFetch(request(), env, {}, store);
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
    if (sideMisses !== missesBefore) throw new Error(`proxy cpu: ${sideMisses - missesBefore} price answers were not in memory while timing`);
    const g = median(times.gpufleet);
    const rec = median(times.records);
    const b = median(times.baseline);
    log(`handleFetch /api/v1/instances, ${4 * PER_PROVIDER} instances: ${g.toFixed(2)} ms (with records: ${rec.toFixed(2)} ms, ${listed.length} deadlines on them; baseline JSON round trip ${b.toFixed(2)} ms), ${upstreamCalls} upstream calls in all (${side.size} price answers from the simulated clouds, held in memory)`);
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
        row({
          section: "proxy",
          figure: `the same answer from a proxy with records: ${listed.length} of the instances carry their deadline (${listed.length + gone.length} kept; D1 gives the ${listed.length})`,
          value: rec,
          unit: "ms",
          baseline: b,
          target: "≤ 10 ms (Workers Free CPU per request)",
          met: rec <= 10,
        }),
      ],
      details: { perProvider: PER_PROVIDER, gpufleetMs: times.gpufleet, recordsMs: times.records, baselineMs: times.baseline },
    };
  } finally {
    globalThis.fetch = realFetch;
    console.log = realLog;
    await sim.close();
  }
}
