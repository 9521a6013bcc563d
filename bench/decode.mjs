// Decode + normalize: a 10,000-instance list body per provider turned into `Page<Instance>` by
// the package (`decodeInstances`, wasm) and by the plain-JS baseline (bench/baseline.mjs:
// JSON.parse + the same mapping), in the same Node process, in interleaved rounds from the same
// body text. The two outputs are checked equal (key order aside) before timing.

import { decodeInstances } from "../pkg/node.js";
import { decodeBaseline } from "./baseline.mjs";
import { listBodies, PROVIDERS } from "./bodies.mjs";
import { interleave, median, row } from "./lib.mjs";

const N = 10_000;

/** Deep equality that ignores object key order. Returns the first differing path, or null. */
export function firstDifference(a, b, path = "") {
  if (a === b) return null;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== "object") return path || "(root)";
  if (Array.isArray(a) !== Array.isArray(b)) return path;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return `${path} keys [${ka.sort()}] vs [${kb.sort()}]`;
  for (const k of ka) {
    if (!(k in b)) return `${path}.${k} missing`;
    const d = firstDifference(a[k], b[k], `${path}.${k}`);
    if (d) return d;
  }
  return null;
}

export async function run({ quick, log }) {
  const rounds = quick ? 3 : 9;
  const t0 = performance.now();
  const bodies = listBodies(N);
  log(`generated ${PROVIDERS.length} bodies of ${N} instances in ${(performance.now() - t0).toFixed(0)} ms`);
  const rows = [];
  const details = { instances: N, rounds, providers: {} };
  for (const p of PROVIDERS) {
    const body = bodies[p];
    const query = p === "novita" ? { limit: 100 } : undefined;
    const diff = firstDifference(decodeInstances(p, body, query), decodeBaseline(p, body, query));
    if (diff) throw new Error(`decode ${p}: the package and the baseline disagree at ${diff}`);
    let sink = 0;
    const times = await interleave(
      {
        wasm: () => {
          sink += decodeInstances(p, body, query).items.length;
        },
        baseline: () => {
          sink += decodeBaseline(p, body, query).items.length;
        },
      },
      { rounds, warmup: 1 },
    );
    if (sink !== 2 * N * (rounds + 1)) throw new Error("decode: lost items");
    // The same, when every instance's `raw` is read afterwards (the package parses each record's
    // span on first read; the baseline has them already).
    let rawSink = 0;
    const readAll = (page) => {
      for (const item of page.items) rawSink += item.raw.id === undefined ? 0 : 1;
    };
    const withRaw = await interleave(
      {
        wasm: () => readAll(decodeInstances(p, body, query)),
        baseline: () => readAll(decodeBaseline(p, body, query)),
      },
      { rounds, warmup: 1 },
    );
    if (rawSink !== 2 * N * (rounds + 1)) throw new Error("decode: raw lost its id");
    const wr = median(withRaw.wasm);
    const br = median(withRaw.baseline);
    const w = median(times.wasm);
    const b = median(times.baseline);
    details.providers[p] = { bodyBytes: Buffer.byteLength(body), wasmMs: times.wasm, baselineMs: times.baseline, withRawWasmMs: withRaw.wasm, withRawBaselineMs: withRaw.baseline };
    log(`${p}: wasm ${w.toFixed(1)} ms, baseline ${b.toFixed(1)} ms (${(Buffer.byteLength(body) / 1e6).toFixed(1)} MB)`);
    rows.push(
      row({
        section: "decode",
        figure: `${p}: 10k-instance body (${(Buffer.byteLength(body) / 1e6).toFixed(1)} MB) → Page, wasm vs plain JS`,
        value: w,
        unit: "ms",
        baseline: b,
        target: "≤ 1.0× (wasm at least as fast)",
        met: w <= b,
      }),
      row({
        section: "decode",
        figure: `${p}: the same, then every instance's raw read`,
        value: wr,
        unit: "ms",
        baseline: br,
        target: "≤ 1.5×",
        met: wr <= 1.5 * br,
      }),
    );
  }
  return { rows, details };
}
