// Fan-out, with the package in Node against the simulated clouds (in a child process):
//
//   1. every provider answering after 100 ms → `listAll()` over all four vs over fal alone
//      (the calls overlap, so all four should cost about one);
//   2. Novita paging at 50 ms per page: `listAll({providers:["novita"]})` with
//      `pageConcurrency: 1` (one page after another) vs the default bounded-parallel fetch of the
//      pages after the first once `total` is known. listAll asks for Novita's largest page (100),
//      so the issue's case — 10,000 instances in 100 pages — is exactly `listAll` over a
//      10,000-instance Novita fleet.

import { Fleet } from "../pkg/node.js";
import { SIM_KEYS } from "../tests/sim/defaults.mjs";
import { interleave, median, row, startSimProcess } from "./lib.mjs";

function fleetFor(sim, providers, extra = {}) {
  const b = sim.baseUrls;
  const all = {
    fal: { apiKey: SIM_KEYS.fal, baseUrl: b.fal },
    falAlpha: { apiKey: SIM_KEYS.fal, baseUrl: b["fal-alpha"] },
    sfcompute: { token: SIM_KEYS.sfcompute, workspace: SIM_KEYS.sfcWorkspace, baseUrl: b.sfcompute },
    novita: { apiKey: SIM_KEYS.novita, baseUrl: b.novita },
  };
  return new Fleet({ ...Object.fromEntries(providers.map((p) => [p, all[p]])), ...extra });
}

async function listAllCount(fleet, query, expected) {
  const { instances, errors } = await fleet.listAll(query);
  if (errors.length) throw new Error(`fan-out: ${errors.map((e) => `${e.provider}: ${e.error.message}`).join("; ")}`);
  if (expected !== undefined && instances.length !== expected) throw new Error(`fan-out: listed ${instances.length}, expected ${expected}`);
  return instances.length;
}

export async function run({ quick, log }) {
  const rows = [];
  const details = {};

  // 1. all providers vs one, 100 ms each
  {
    const sim = await startSimProcess(["--seed", "1", "--instances", "25", "--speed", "0"]);
    try {
      await sim.control("POST", "/latency", { ms: 100 });
      const fleet = fleetFor(sim, ["fal", "falAlpha", "sfcompute", "novita"]);
      const times = await interleave(
        { all: () => listAllCount(fleet, null, 100).then(() => undefined), one: () => listAllCount(fleet, { providers: ["fal"] }, 25).then(() => undefined) },
        { rounds: quick ? 3 : 9, warmup: 1 },
      );
      fleet.free();
      const all = median(times.all);
      const one = median(times.one);
      log(`listAll: all four ${all.toFixed(0)} ms, fal alone ${one.toFixed(0)} ms`);
      details.allVsOne = times;
      rows.push(row({ section: "fanout", figure: "listAll of 4 providers vs 1, each answering after 100 ms", value: all, unit: "ms", baseline: one, target: "≤ 1.3×", met: all <= 1.3 * one }));
    } finally {
      await sim.close();
    }
  }

  // 2. Novita paging, 50 ms per page: one page after another, the default 8 in flight, and 16.
  const n = 10_000;
  const pages = n / 100;
  const sim = await startSimProcess(["--seed", "1", "--instances", String(n), "--speed", "0"]);
  try {
    await sim.control("POST", "/latency", { provider: "novita", ms: 50 });
    const sequential = fleetFor(sim, ["novita"], { pageConcurrency: 1 });
    const parallel = fleetFor(sim, ["novita"]);
    const wide = fleetFor(sim, ["novita"], { pageConcurrency: 16 });
    const q = { providers: ["novita"] };
    const list = (fleet) => () => listAllCount(fleet, q, n).then(() => undefined);
    const par = await interleave({ parallel: list(parallel), wide: list(wide) }, { rounds: quick ? 2 : 5, warmup: 1 });
    // 100 × 50 ms: about 6 s a round.
    const seq = await interleave({ sequential: list(sequential) }, { rounds: 1, warmup: 0 });
    for (const f of [sequential, parallel, wide]) f.free();
    const p = median(par.parallel);
    const w = median(par.wide);
    const s = median(seq.sequential);
    log(`Novita ${n} instances / ${pages} pages at 50 ms: sequential ${s.toFixed(0)} ms, 8 in flight ${p.toFixed(0)} ms, 16 in flight ${w.toFixed(0)} ms`);
    details[`novita${n}`] = { pages, sequential: seq.sequential, parallel: par.parallel, pageConcurrency16: par.wide };
    const figure = (how) => `Novita ${n.toLocaleString("en")} instances, ${pages} pages at 50 ms: ${how} vs sequential`;
    rows.push(
      row({ section: "fanout", figure: figure("parallel pages (default, 8 in flight)"), value: p, unit: "ms", baseline: s, target: "≤ 1000 ms", met: p <= 1000 }),
      row({ section: "fanout", figure: figure("pageConcurrency: 16"), value: w, unit: "ms", baseline: s, target: "", met: null }),
    );
  } finally {
    await sim.close();
  }
  return { rows, details };
}
