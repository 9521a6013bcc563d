// Shared helpers of the benchmark sections: statistics, interleaved rounds, rows of the table.

import { execFileSync } from "node:child_process";
import { cpus, totalmem, platform, release, arch } from "node:os";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { simControl } from "../tests/sim/control-client.mjs";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

export const median = (xs) => quantile(xs, 0.5);

/** The q-quantile (0..1) of `xs`, nearest rank. */
export function quantile(xs, q) {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

export const round = (x, digits = 2) => (Number.isFinite(x) ? Number(x.toFixed(digits)) : null);

/**
 * Runs `fns` (name → () => number | Promise<number>, each returning a time in ms or undefined to
 * time the call itself) `rounds` times, interleaved (A B C, B C A, …: the order rotates so
 * neither goes first every time), after `warmup` untimed rounds. Returns name → [ms…].
 */
export async function interleave(fns, { rounds, warmup = 1 } = {}) {
  const names = Object.keys(fns);
  const out = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < warmup + rounds; r++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(r + k) % names.length];
      const t0 = performance.now();
      const reported = await fns[name]();
      const ms = typeof reported === "number" ? reported : performance.now() - t0;
      if (r >= warmup) out[name].push(ms);
    }
  }
  return out;
}

/**
 * One row of the table. `value`/`baseline` are numbers in `unit`; `ratio` = value / baseline
 * unless given; `target` is text; `met` true/false, or null when there is no target.
 */
export function row({ section, figure, value, unit = "", baseline = null, ratio, target = "", met = null, note }) {
  const r = { section, figure, value: round(value, 3), unit };
  r.baseline = baseline === null || baseline === undefined ? null : round(baseline, 3);
  r.ratio = ratio !== undefined ? round(ratio, 3) : r.baseline ? round(value / baseline, 3) : null;
  r.target = target;
  r.met = met;
  if (note) r.note = note;
  return r;
}

export function machineInfo() {
  let commit = null;
  let dirty = null;
  try {
    commit = execFileSync("git", ["rev-parse", "--short=12", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim();
    dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], { cwd: ROOT, encoding: "utf8" }).trim() !== "";
  } catch {
    /* not a git checkout */
  }
  const cpu = cpus();
  return {
    cpu: cpu[0]?.model?.trim() ?? "unknown",
    cores: cpu.length,
    memoryGiB: round(totalmem() / 2 ** 30, 1),
    os: `${platform()} ${release()} ${arch()}`,
    node: process.version,
    date: new Date().toISOString(),
    commit,
    dirty,
  };
}

const fmtNum = (v) => {
  if (v === null || v === undefined) return "";
  if (typeof v !== "number") return String(v);
  const a = Math.abs(v);
  if (a >= 1000) return v.toFixed(0);
  if (a >= 100) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toFixed(3);
};

/** The table printed by `npm run bench`. */
export function formatTable(rows) {
  const header = ["section", "figure", "value", "baseline", "ratio", "target", "met?"];
  const lines = rows.map((r) => [
    r.section,
    r.figure,
    r.value === null ? "n/a" : `${fmtNum(r.value)}${r.unit ? " " + r.unit : ""}`,
    r.baseline === null ? "" : `${fmtNum(r.baseline)}${r.unit ? " " + r.unit : ""}`,
    r.ratio === null ? "" : `${fmtNum(r.ratio)}×`,
    r.target ?? "",
    r.met === true ? "yes" : r.met === false ? "NO" : "–",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells) => cells.map((c, i) => (i >= 2 && i <= 4 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join("  ");
  return [fmt(header), widths.map((w) => "-".repeat(w)).join("  "), ...lines.map(fmt)].join("\n");
}

/** The same table as Markdown (for BENCHMARKS.md). */
export function markdownTable(rows) {
  const esc = (s) => String(s).replaceAll("|", "\\|");
  const out = ["| figure | value | baseline | ratio | target | met? |", "|---|---:|---:|---:|---|---|"];
  for (const r of rows) {
    out.push(
      `| ${esc(`${r.section}: ${r.figure}`)} | ${r.value === null ? "n/a" : `${fmtNum(r.value)} ${r.unit}`.trim()} | ${
        r.baseline === null ? "" : `${fmtNum(r.baseline)} ${r.unit}`.trim()
      } | ${r.ratio === null ? "" : `${fmtNum(r.ratio)}×`} | ${esc(r.target ?? "")} | ${r.met === true ? "✅" : r.met === false ? "❌" : "–"} |`,
    );
  }
  return out.join("\n");
}

/** Fetches `url` and reads the whole body; resolves to the status. */
export async function fetchDrain(url, init) {
  const r = await fetch(url, init);
  await r.arrayBuffer();
  return r.status;
}

/**
 * Closed loop: `concurrency` workers each send `make()` requests back to back for `requests`
 * in total. Returns { latencies (ms), seconds, reqPerSec, errors }.
 */
export async function closedLoop(send, { requests, concurrency }) {
  const latencies = [];
  let sent = 0;
  let errors = 0;
  const t0 = performance.now();
  async function worker() {
    while (sent < requests) {
      sent += 1;
      const s = performance.now();
      try {
        const status = await send();
        if (status >= 400) errors += 1;
      } catch {
        errors += 1;
      }
      latencies.push(performance.now() - s);
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - t0) / 1000;
  return { latencies, seconds, reqPerSec: latencies.length / seconds, errors };
}

/**
 * Starts the simulated clouds in a child process (so the sim does not share this process's event
 * loop with the load generator). `args`: CLI flags of tests/sim/server.mjs. Resolves to
 * { url, baseUrls, control(method, path, body), close() }.
 */
export async function startSimProcess(args = []) {
  const { spawn } = await import("node:child_process");
  const { baseUrls } = await import("../tests/sim/defaults.mjs");
  const child = spawn(process.execPath, [`${ROOT}/tests/sim/server.mjs`, "--port", "0", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const url = await new Promise((resolvePromise, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`the sim did not start: ${stderr}`)), 30_000);
    child.stdout.on("data", (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolvePromise(m[1].replace(/\/$/, ""));
      }
    });
    child.on("exit", (code) => reject(new Error(`the sim exited (${code}): ${stderr}`)));
  });
  child.stdout.resume();
  return {
    url,
    baseUrls: baseUrls(url),
    control: (method, path, body) => simControl(url, method, path, body),
    close: () =>
      new Promise((resolveClose) => {
        if (child.exitCode !== null) return resolveClose();
        child.once("exit", () => resolveClose());
        child.kill("SIGTERM");
      }),
  };
}
