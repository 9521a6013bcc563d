// What ships: the npm package (`npm publish --dry-run` of pkg/) and the crate (`cargo package
// --list`) hold what a user needs — the code, its types, the README, the changelog and both
// licence texts the manifests declare — and nothing stray: no tests, fixtures, simulator, bench,
// console build, source maps or secrets.

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { root } from "./pack.mjs";
import { SIM_KEYS } from "../sim/defaults.mjs";

const LICENCES = ["LICENSE-MIT", "LICENSE-APACHE"];

test("npm publish --dry-run of pkg/ ships the package and nothing else", () => {
  const pkg = join(root, "pkg");
  const out = execFileSync("npm", ["publish", "--dry-run", "--json", "--ignore-scripts"], {
    cwd: pkg,
    encoding: "utf8",
    env: { ...process.env, npm_config_loglevel: "silent", npm_config_update_notifier: "false" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const report = JSON.parse(out.slice(out.indexOf("{")));
  const files = (report.files ?? report[Object.keys(report)[0]]?.files ?? []).map((f) => f.path).sort();
  assert.ok(files.length > 10, files.join());
  for (const f of ["package.json", "README.md", "CHANGELOG.md", ...LICENCES, "index.js", "index.d.ts", "node.js", "workerd.js", "gpufleet.js", "gpufleet.d.ts", "gpufleet_bg.wasm", "worker.js", "worker.d.ts", "d1-store.js", "access.js", "live.js", "proxy/gpufleet_proxy.js", "proxy/gpufleet_proxy_bg.wasm"]) {
    assert.ok(files.includes(f), `ships ${f}`);
  }
  for (const f of files) {
    assert.doesNotMatch(f, /^(tests?|fixtures|bench|www|dist|src|scripts|\.tmp)\/|\.map$|\.tgz$|^\.|\/\./, `nothing stray: ${f}`);
    assert.match(f, /\.(js|d\.ts|wasm|json|md)$|^LICENSE-(MIT|APACHE)$/, `an expected kind of file: ${f}`);
  }
  const manifest = JSON.parse(readFileSync(join(pkg, "package.json"), "utf8"));
  assert.equal(manifest.license, "MIT OR Apache-2.0");
  // No key or token of the simulated clouds (the only secrets the build ever sees) in any file.
  const secrets = Object.values(SIM_KEYS).filter((v) => typeof v === "string" && v.length >= 8);
  for (const f of files.filter((x) => !x.endsWith(".wasm"))) {
    const text = readFileSync(join(pkg, f), "utf8");
    for (const s of secrets) assert.ok(!text.includes(s), `${f} holds a simulator key`);
  }
});

test("cargo package --list ships the library, its docs and licences, and nothing else", () => {
  const out = execFileSync("cargo", ["package", "--list", "--allow-dirty", "--offline"], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  const files = out.split("\n").filter(Boolean);
  for (const f of ["Cargo.toml", "Cargo.lock", "README.md", "CHANGELOG.md", ...LICENCES, "src/lib.rs"]) assert.ok(files.includes(f), `ships ${f}`);
  for (const f of files) {
    assert.ok(f.startsWith("src/") || ["Cargo.toml", "Cargo.toml.orig", "Cargo.lock", "README.md", "CHANGELOG.md", ".cargo_vcs_info.json", ...LICENCES].includes(f), `nothing stray: ${f}`);
    if (f.startsWith("src/")) assert.match(f, /\.rs$/, f);
  }
  const cargo = readFileSync(join(root, "Cargo.toml"), "utf8");
  assert.match(cargo, /^license = "MIT OR Apache-2.0"$/m);
  for (const l of LICENCES) assert.ok(readFileSync(join(root, l), "utf8").length > 500, `${l} holds the licence text`);
});
