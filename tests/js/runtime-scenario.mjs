// The packed package's scenario as a command, one runner for every command-line runtime: the
// table below says how each is started (command, arguments before the script, environment), and
// `scenarioTest(id)` registers the test that runs, in the scratch project,
//
//   <command> <args…> run-cli.mjs <sim url>
//
// against a fresh simulator, then checks the JSON report run-cli.mjs prints last: ok, the
// runtime's name, and that "gpufleet" resolved (through the exports map's condition named after
// the runtime) to node.js. Each pkg-<runtime>.test.mjs calls it once.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { ensureScratch, root, sim } from "./helpers.mjs";

export const RUNTIMES = {
  node: {
    title: `Node ${process.version}`,
    command: process.execPath,
    args: [],
    env: { NO_COLOR: "1" },
  },
  deno: {
    title: "Deno",
    command: join(root, "node_modules/.bin/deno"),
    args: ["run", "--allow-net", "--allow-read"],
    env: { DENO_DIR: join(root, ".tmp/deno-dir"), DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
  },
  bun: {
    title: "Bun",
    command: join(root, "node_modules/.bin/bun"),
    args: [],
    env: { BUN_INSTALL_CACHE_DIR: join(root, ".tmp/bun-cache"), NO_COLOR: "1", DO_NOT_TRACK: "1" },
  },
};

/** Registers "scenario in <runtime>" (with its own simulator) for the runtime `id` of RUNTIMES. */
export function scenarioTest(id) {
  const rt = RUNTIMES[id];
  if (!rt) throw new Error(`no runtime ${id} in RUNTIMES (${Object.keys(RUNTIMES).join(", ")})`);
  let s;
  let scratch;
  before(async () => {
    scratch = ensureScratch();
    s = await sim();
  });
  after(() => s?.close());

  test(`scenario in ${rt.title} (${id} run-cli.mjs)`, async () => {
    const { code, stdout, stderr } = await runCommand(rt.command, [...rt.args, "run-cli.mjs", s.url], { cwd: scratch, env: rt.env });
    assert.equal(code, 0, `${id} exited ${code}\n${stderr}\n${stdout}`);
    const report = JSON.parse(stdout.trim().split("\n").pop());
    assert.equal(report.ok, true);
    assert.match(report.runtime, new RegExp(`^${id} `));
    assert.match(report.entry, /node_modules\/gpufleet\/node\.js$/, `the exports map's "${id}" condition`);
  });
}

/** Runs a command (async, so the sim in this process keeps answering) and collects its output. */
export function runCommand(cmd, args, { cwd, env = {}, timeoutMs = 120_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? signal, stdout, stderr });
    });
  });
}
