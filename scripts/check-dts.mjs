#!/usr/bin/env node
// The package's TypeScript surface, pinned: the generated pkg/gpufleet.d.ts (the client build's
// wasm-bindgen + tsify output) must equal tests/types/gpufleet.d.ts.golden, so a change to the
// public types is seen in review, not discovered by users. (The `InitOutput` block, the wasm
// module's raw exports, is left out of both.)
//
//   node scripts/check-dts.mjs            # npm test: fails with the first differences
//   node scripts/check-dts.mjs --update   # after an intended change: rewrite the golden file
//
// Run after `npm run build`.

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const { update } = parseArgs({ options: { update: { type: "boolean", default: false } } }).values;
const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const generated = join(root, "pkg/gpufleet.d.ts");
const golden = join(root, "tests/types/gpufleet.d.ts.golden");
if (!existsSync(generated)) {
  console.error("check-dts: pkg/gpufleet.d.ts is missing: run `npm run build` first");
  process.exit(2);
}
// The wasm module's raw exports (`InitOutput`: wasm-bindgen's ABI, whose internal names change
// with any change to the Rust code) are not the TypeScript surface users program against.
const surface = (text) => text.replace(/^export interface InitOutput \{\n[\s\S]*?^\}\n/m, "export interface InitOutput { /* the wasm module's exports: not pinned */ }\n");
const now = surface(readFileSync(generated, "utf8"));
if (update) {
  writeFileSync(golden, now);
  console.log(`check-dts: wrote ${golden.slice(root.length + 1)} (${now.split("\n").length} lines)`);
  process.exit(0);
}
const pinned = existsSync(golden) ? readFileSync(golden, "utf8") : "";
if (now === pinned) {
  console.log(`check-dts: the TypeScript surface matches tests/types/gpufleet.d.ts.golden (${now.split("\n").length} lines)`);
  process.exit(0);
}
const a = pinned.split("\n");
const b = now.split("\n");
const shown = [];
for (let i = 0, j = 0; (i < a.length || j < b.length) && shown.length < 40; ) {
  if (a[i] === b[j]) {
    i++;
    j++;
    continue;
  }
  // The next line of each side that the other side has again soon: a resynchronizing diff.
  const ahead = (xs, from, line) => xs.slice(from, from + 30).indexOf(line);
  const inB = ahead(b, j, a[i]);
  const inA = ahead(a, i, b[j]);
  if (i < a.length && (inB === -1 || (inA !== -1 && inA < inB))) shown.push(`- ${a[i++]}`);
  else shown.push(`+ ${b[j++]}`);
}
console.error("check-dts: pkg/gpufleet.d.ts differs from tests/types/gpufleet.d.ts.golden (- pinned, + generated):");
console.error(shown.join("\n"));
console.error("If the change to the TypeScript surface is intended: node scripts/check-dts.mjs --update, and commit the golden file.");
process.exit(1);
