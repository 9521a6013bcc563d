#!/usr/bin/env node
// `npm run bench`: every benchmark section side by side with its baseline, one table, and
// bench/results.json (with the machine it ran on). BENCHMARKS.md explains each figure.
//
//   npm run bench [-- --quick] [-- --only size,decode,proxy,cold,fanout,console]
//
// From a fresh clone it installs what is missing first, the way `npm start` does
// (scripts/ensure-tools.sh --no-browser; Debian's chromium for the console section) and builds
// pkg/ unless it is fresh. A section that fails is reported in the table (and the run exits 1);
// the others still run. With --only, results.json keeps the other sections' last results.

import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensurePkg } from "../scripts/proxy-runtime.mjs";
import { formatTable, machineInfo, ROOT, row } from "./lib.mjs";

const SECTIONS = ["size", "decode", "proxy", "proxy-cpu", "cold", "fanout", "console"];
const USAGE = `usage: npm run bench [-- --quick] [-- --only ${SECTIONS.join(",")}] [-- --no-write]`;

function parseArgs(argv) {
  const o = { quick: false, only: SECTIONS, write: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--quick") o.quick = true;
    else if (a === "--no-write") o.write = false;
    else if (a === "--only" || a.startsWith("--only=")) {
      const v = a.includes("=") ? a.slice(a.indexOf("=") + 1) : argv[++i];
      if (!v) throw new RangeError("--only needs a list of sections");
      o.only = v.split(",").map((s) => s.trim()).filter(Boolean);
      const bad = o.only.filter((s) => !SECTIONS.includes(s));
      if (bad.length) throw new RangeError(`unknown section(s) ${bad.join(", ")}; sections: ${SECTIONS.join(", ")}`);
    } else if (a === "-h" || a === "--help") o.help = true;
    else throw new RangeError(`unknown argument ${a}`);
  }
  return o;
}

let o;
try {
  o = parseArgs(process.argv.slice(2));
} catch (e) {
  console.error(`${e.message}\n${USAGE}`);
  process.exit(2);
}
if (o.help) {
  console.log(USAGE);
  process.exit(0);
}

const say = (m) => console.error(`[bench] ${m}`);
const tmp = join(ROOT, ".tmp", "bench");
mkdirSync(tmp, { recursive: true });
Object.assign(process.env, {
  TMPDIR: tmp,
  PATH: `${join(ROOT, ".tools/bin")}:${process.env.PATH}`,
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_SEND_ERROR_REPORTS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_HIDE_BANNER: "true",
});

// Tools and the package, as `npm start` does.
try {
  if (!existsSync(join(ROOT, "node_modules/miniflare")) || !existsSync(join(ROOT, "node_modules/playwright-core")) || !existsSync(join(ROOT, ".tools/bin/wasm-bindgen"))) {
    say("installing missing tools (scripts/ensure-tools.sh --no-browser)…");
    execFileSync("bash", [join(ROOT, "scripts/ensure-tools.sh"), "--no-browser"], { cwd: ROOT, stdio: ["ignore", process.stderr, process.stderr] });
  }
  if (o.only.includes("console") && !existsSync("/usr/bin/chromium")) {
    say("installing Debian's chromium for the console section…");
    const sudo = process.getuid?.() === 0 ? [] : ["sudo"];
    const run = (args) => execFileSync(sudo.length ? "sudo" : args[0], sudo.length ? args : args.slice(1), { stdio: ["ignore", process.stderr, process.stderr], env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
    run(["apt-get", "update", "-qq"]);
    run(["apt-get", "install", "-y", "-qq", "chromium"]);
  }
  if (!ensurePkg({ log: say })) say("pkg/ is up to date");
} catch (e) {
  console.error(`[bench] setup failed: ${e.message}`);
  process.exit(1);
}

const machine = machineInfo();
say(`${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, commit ${machine.commit}${machine.dirty ? " (uncommitted changes)" : ""}${o.quick ? ", quick mode" : ""}`);

const rows = [];
const sections = {};
let failed = false;
const t0 = performance.now();
for (const name of SECTIONS.filter((s) => o.only.includes(s))) {
  const start = performance.now();
  say(`— ${name}`);
  try {
    const mod = await import(`./${name}.mjs`);
    const result = await mod.run({ quick: o.quick, log: (m) => say(`  ${name}: ${m}`) });
    rows.push(...result.rows);
    sections[name] = { date: new Date().toISOString(), quick: o.quick, seconds: Number(((performance.now() - start) / 1000).toFixed(1)), rows: result.rows, details: result.details };
  } catch (e) {
    failed = true;
    console.error(`[bench] ${name} failed: ${e.stack || e}`);
    const r = row({ section: name, figure: "section failed", value: NaN, note: String(e.message || e) });
    rows.push(r);
    sections[name] = { date: new Date().toISOString(), quick: o.quick, error: String(e.message || e), rows: [r] };
  }
  say(`  ${name} took ${((performance.now() - start) / 1000).toFixed(1)} s`);
}

console.log(`\ngpufleet benchmarks — ${machine.cpu} (${machine.cores} cores), Node ${machine.node}, ${machine.date}, commit ${machine.commit}${o.quick ? " — quick mode" : ""}\n`);
console.log(formatTable(rows));
for (const r of rows.filter((r) => r.note && r.value === null)) console.log(`\n${r.section}: ${r.note}`);
console.log(`\n${((performance.now() - t0) / 1000).toFixed(0)} s`);

if (o.write) {
  const file = join(ROOT, "bench", "results.json");
  let previous = {};
  try {
    previous = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    /* first run */
  }
  const merged = {
    machine,
    quick: o.quick,
    sections: { ...(previous.sections ?? {}), ...Object.fromEntries(Object.entries(sections).map(([k, v]) => [k, { ...v, machine: { cpu: machine.cpu, cores: machine.cores, node: machine.node, commit: machine.commit } }])) },
  };
  merged.rows = SECTIONS.flatMap((s) => merged.sections[s]?.rows ?? []);
  writeFileSync(file, JSON.stringify(merged, null, 2) + "\n");
  say(`wrote bench/results.json`);
}
process.exit(failed ? 1 : 0);
