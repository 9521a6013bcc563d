#!/usr/bin/env node
// Packs pkg/ (`npm pack`) and installs the tarball into a fresh scratch project, .tmp/scratch/,
// the way a user would (`npm install ./gpufleet-x.y.z.tgz`; offline, the package has no
// dependencies). Copies in the shared scenario, each runtime's runner and the TypeScript checks.
// Run `npm run build` first.
//
//   node tests/js/pack.mjs            → prints the scratch directory

import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const scratch = join(root, ".tmp/scratch");

export function packAndInstall({ quiet = false } = {}) {
  const pkg = join(root, "pkg");
  if (!existsSync(join(pkg, "gpufleet_bg.wasm"))) throw new Error("pkg/ is not built: run `npm run build` first");
  const packDir = join(root, ".tmp/pack");
  rmSync(packDir, { recursive: true, force: true });
  mkdirSync(packDir, { recursive: true });
  const out = execFileSync("npm", ["pack", "--json", "--pack-destination", packDir, pkg], { cwd: root, encoding: "utf8" });
  const [{ filename, files }] = JSON.parse(out);
  const tarball = join(packDir, filename);

  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  writeFileSync(join(scratch, "package.json"), JSON.stringify({
    name: "gpufleet-scratch",
    private: true,
    type: "module",
    dependencies: { gpufleet: `file:${tarball}` },
  }, null, 2));
  execFileSync("npm", ["install", "--offline", "--no-audit", "--no-fund", "--no-package-lock", "--loglevel=error"], {
    cwd: scratch,
    stdio: quiet ? "ignore" : "inherit",
  });
  cpSync(join(root, "tests/js/scenario.mjs"), join(scratch, "scenario.mjs"));
  for (const f of readdirSync(join(root, "tests/js/runtimes"))) cpSync(join(root, "tests/js/runtimes", f), join(scratch, f));
  cpSync(join(root, "tests/types"), join(scratch, "types"), { recursive: true });
  return { tarball, files: files.map((f) => f.path), scratch };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { tarball, files } = packAndInstall();
  console.log(`packed ${tarball} (${files.length} files: ${files.join(", ")})`);
  console.log(`installed into ${scratch}`);
}
