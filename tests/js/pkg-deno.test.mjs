// The packed package in Deno (node_modules/.bin/deno; exports condition "deno"):
//   deno run --allow-net --allow-read run-cli.mjs <sim url>
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

test("scenario in Deno", async () => {
  const deno = join(root, "node_modules/.bin/deno");
  const env = { DENO_DIR: join(root, ".tmp/deno-dir"), DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" };
  const { code, stdout, stderr } = await runCommand(deno, ["run", "--allow-net", "--allow-read", "run-cli.mjs", s.url], { cwd: scratch, env });
  assert.equal(code, 0, `deno exited ${code}\n${stderr}\n${stdout}`);
  const report = JSON.parse(stdout.trim().split("\n").pop());
  assert.equal(report.ok, true);
  assert.match(report.runtime, /^deno /);
  assert.match(report.entry, /node_modules\/gpufleet\/node\.js$/, "the exports map's \"deno\" condition");
});
