// The packed package in Bun (node_modules/.bin/bun; exports condition "bun"):
//   bun run-cli.mjs <sim url>
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { ensureScratch, root, sim } from "./helpers.mjs";
import { runCommand } from "./spawn.mjs";

let s;
let scratch;
before(async () => {
  scratch = ensureScratch();
  s = await sim();
});
after(() => s?.close());

test("scenario in Bun", async () => {
  const bun = join(root, "node_modules/.bin/bun");
  const env = { BUN_INSTALL_CACHE_DIR: join(root, ".tmp/bun-cache"), NO_COLOR: "1", DO_NOT_TRACK: "1" };
  const { code, stdout, stderr } = await runCommand(bun, ["run-cli.mjs", s.url], { cwd: scratch, env });
  assert.equal(code, 0, `bun exited ${code}\n${stderr}\n${stdout}`);
  const report = JSON.parse(stdout.trim().split("\n").pop());
  assert.equal(report.ok, true);
  assert.match(report.runtime, /^bun /);
  assert.match(report.entry, /node_modules\/gpufleet\/node\.js$/, "the exports map's \"bun\" condition");
});
