#!/usr/bin/env node
// `npm run build`: the npm package in pkg/.
//
//   1. cargo build --release --target wasm32-unknown-unknown, twice: the client (no proxy server,
//      --features js-client) for pkg/gpufleet*.{js,wasm}, and the Worker's (only --features proxy)
//      for pkg/proxy/gpufleet_proxy*.{js,wasm}
//   2. wasm-bindgen --target web                          (.tools/bin, pinned = the crate's version)
//   3. wasm-opt at the same level (binaryen@132 from node_modules — never a system wasm-opt),
//      with the functions in name order (then the names dropped); the client's without
//      binaryen's one-caller inlining
//   4. pkg-template/* copied into pkg/, version stamped from Cargo.toml
//   5. dist/console/: the console as Workers Static Assets (scripts/build-console-assets.mjs)
//
// Steps 2–3 are skipped when the release .wasm and the tool versions are unchanged (their output
// and a stamp are kept in target/), so a second build with nothing changed takes about a second.
//
//   node scripts/build.mjs [--force]

import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const pkg = join(root, "pkg");
const { force } = parseArgs({ options: { force: { type: "boolean", default: false } } }).values;
// wasm-opt runs at the build's own level; --converge repeats -Oz until it stops shrinking (only
// worth it at z). Two choices are about gzip, not raw bytes (BENCHMARKS.md, "What a browser loads
// (2026-12-08)"): the functions sorted by name put the copies of one generic side by side, within
// gzip's 32 KiB window; and binaryen's inlining of every function that has one caller makes the
// wasm smaller but compresses worse (the client: 44 KB gzip more, and no faster), so the client
// goes without it (`oneCallerInlining: false`); the Worker keeps it (without it: 44 KB gzip less,
// but its CPU per answer measured 7–20 % slower, and that target is the tighter one).
// The names come from the cargo build (`strip = false`) and are dropped here (--strip-debug),
// with the producers and target_features sections (metadata no runtime reads).
const WASM_OPT_FEATURES = ["--enable-bulk-memory", "--enable-nontrapping-float-to-int", "--enable-sign-ext", "--enable-mutable-globals"];
/** wasm-opt's flags for build `b` (at its cargo opt-level; --converge only pays for z). */
const wasmOptFlags = ({ optLevel, oneCallerInlining }) => [
  `-O${optLevel}`,
  ...(optLevel === "z" ? ["--converge"] : []),
  ...(oneCallerInlining ? [] : ["--one-caller-inline-max-function-size=0"]),
  "--reorder-functions-by-name",
  "--strip-debug",
  "--strip-producers",
  "--strip-target-features",
  ...WASM_OPT_FEATURES,
];

/**
 * `wasm` without its `target_features` custom section. wasm-bindgen reads that section to choose
 * its glue (with `multivalue` listed, results come back as multi-value returns instead of through
 * the stack); the release wasm used to lose it to `strip = true`, which also dropped the names
 * wasm-opt now sorts by. So the names stay and only this section goes: the glue is today's (only
 * the wasm's internal export names, e.g. `__wbindgen_malloc` for `__wbindgen_export`, now carry
 * their Rust names).
 */
function withoutTargetFeatures(wasm) {
  const leb = (at) => {
    let value = 0;
    let shift = 0;
    let byte;
    do {
      byte = wasm[at++];
      value += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte & 0x80);
    return [value, at];
  };
  const kept = [wasm.subarray(0, 8)];
  let at = 8;
  while (at < wasm.length) {
    const start = at;
    const id = wasm[at];
    const [size, body] = leb(at + 1);
    at = body + size;
    if (id === 0) {
      const [nameLength, name] = leb(body);
      if (wasm.subarray(name, name + nameLength).toString() === "target_features") continue;
    }
    kept.push(wasm.subarray(start, at));
  }
  return Buffer.concat(kept);
}

const t0 = Date.now();
const log = (msg) => console.log(`[build] ${msg}`);

function run(cmd, args, opts = {}) {
  execFileSync(cmd, args, { cwd: root, stdio: "inherit", ...opts });
}

function tool(name, candidates) {
  for (const c of candidates) if (existsSync(c)) return c;
  throw new Error(`${name} not found (looked in ${candidates.join(", ")}); run scripts/ensure-tools.sh`);
}

const cargoToml = readFileSync(join(root, "Cargo.toml"), "utf8");
const version = /^version\s*=\s*"([^"]+)"/m.exec(cargoToml)?.[1];
const wbgVersion = /^wasm-bindgen\s*=\s*"=([^"]+)"/m.exec(cargoToml)?.[1];
if (!version || !wbgVersion) throw new Error("could not read version / wasm-bindgen pin from Cargo.toml");

const wasmBindgen = tool("wasm-bindgen", [join(root, ".tools/bin/wasm-bindgen")]);
const have = execFileSync(wasmBindgen, ["--version"], { encoding: "utf8" }).trim().split(/\s+/)[1];
if (have !== wbgVersion) throw new Error(`wasm-bindgen CLI is ${have}, the crate pins ${wbgVersion}; run scripts/ensure-tools.sh`);
const wasmOpt = tool("wasm-opt (binaryen from npm)", [join(root, "node_modules/binaryen/bin/wasm-opt")]);
const binaryenVersion = JSON.parse(readFileSync(join(root, "node_modules/binaryen/package.json"), "utf8")).version;

// Two builds from one crate (BENCHMARKS.md "Two builds"): the package's wasm without the proxy
// server (browsers, Node, Deno, Bun, and the Worker-side *client*), and the Worker's with it.
// `optLevel` is each build's measured choice (see BENCHMARKS.md for the z / s / 3 table).
const BUILDS = [
  // Its own target dir: with one dir the two feature sets overwrite each other's gpufleet.wasm and
  // every build relinks both (about 15 s each).
  { name: "client", features: ["--no-default-features", "--features", "js-client"], targetDir: "target/wasm-client", outName: "gpufleet", dir: "", optLevel: process.env.GPUFLEET_CLIENT_OPT ?? "s", oneCallerInlining: false },
  // target/ itself, shared with `npm test`'s wasm32 build step.
  { name: "proxy", features: ["--no-default-features", "--features", "proxy"], targetDir: "target", outName: "gpufleet_proxy", dir: "proxy", optLevel: process.env.GPUFLEET_PROXY_OPT ?? "s", oneCallerInlining: process.env.GPUFLEET_PROXY_ONE_CALLER_INLINING !== "0" },
];

/** Builds one wasm (cargo → wasm-bindgen → wasm-opt) into target/gpufleet-pkg-wasm-<name>/. */
function buildWasm(b) {
  // 1. cargo (incremental: fast when nothing changed; each feature set keeps its own artifacts)
  const profile = ["--config", `profile.release.opt-level=${/^[0-3]$/.test(b.optLevel) ? b.optLevel : JSON.stringify(b.optLevel)}`];
  log(`cargo build --release --target wasm32-unknown-unknown --lib ${b.features.join(" ")} (${b.name}, opt-level ${b.optLevel})`);
  run("cargo", ["build", "--release", "--target", "wasm32-unknown-unknown", "--lib", "--target-dir", b.targetDir, ...b.features, ...profile]);
  const wasmIn = join(root, b.targetDir, "wasm32-unknown-unknown/release/gpufleet.wasm");
  // 2–3. wasm-bindgen + wasm-opt, unless the stamp says this output already holds this wasm
  // built with these tools.
  const wasmOut = join(root, `target/gpufleet-pkg-wasm-${b.name}`);
  const stampFile = join(wasmOut, ".stamp");
  const stamp = createHash("sha256")
    .update(readFileSync(wasmIn))
    .update(`${wbgVersion} ${binaryenVersion} ${wasmOptFlags(b).join(" ")} ${b.outName}`)
    .digest("hex");
  if (!force && existsSync(stampFile) && readFileSync(stampFile, "utf8") === stamp) {
    log(`${b.name} wasm unchanged: reusing the last wasm-bindgen + wasm-opt output`);
    return wasmOut;
  }
  rmSync(wasmOut, { recursive: true, force: true });
  mkdirSync(wasmOut, { recursive: true });
  const bindgenIn = join(wasmOut, "cargo.wasm");
  writeFileSync(bindgenIn, withoutTargetFeatures(readFileSync(wasmIn)));
  log(`wasm-bindgen ${have} --target web --out-name ${b.outName} (target_features removed: the warning below is expected)`);
  run(wasmBindgen, ["--target", "web", "--out-name", b.outName, "--out-dir", wasmOut, bindgenIn]);
  rmSync(bindgenIn);
  const bgWasm = join(wasmOut, `${b.outName}_bg.wasm`);
  const before = statSync(bgWasm).size;
  log(`wasm-opt (binaryen ${binaryenVersion}) ${wasmOptFlags(b).join(" ")}`);
  run(wasmOpt, [...wasmOptFlags(b), bgWasm, "-o", bgWasm]);
  log(`${b.outName}_bg.wasm: ${(before / 1024).toFixed(0)} KiB → ${(statSync(bgWasm).size / 1024).toFixed(0)} KiB`);
  writeFileSync(stampFile, stamp);
  return wasmOut;
}

const outputs = BUILDS.map((b) => ({ ...b, wasmOut: buildWasm(b) }));

// 4. the package, assembled in a staging folder and then swapped in for pkg/ with two renames,
// so a test or `npm start` reading pkg/ meanwhile never sees it half-written.
const staging = join(root, "target/gpufleet-pkg-staging");
rmSync(staging, { recursive: true, force: true });
for (const o of outputs) {
  cpSync(o.wasmOut, join(staging, o.dir), { recursive: true, filter: (src) => !src.endsWith(".stamp") });
}
const template = join(root, "pkg-template");
for (const name of readdirSync(template)) {
  cpSync(join(template, name), join(staging, name), { recursive: true });
}
// The entry points re-export every export of gpufleet.js as their own bindings (see index.js).
const glue = readFileSync(join(staging, "gpufleet.js"), "utf8");
const names = new Set([...glue.matchAll(/^export (?:class|function|const|let) (\w+)/gm)].map((m) => m[1]));
for (const m of glue.matchAll(/^export \{([^}]*)\}/gm)) {
  for (const part of m[1].split(",")) {
    const name = part.trim().split(/\s+as\s+/).pop();
    if (name && name !== "default") names.add(name);
  }
}
const exportLines = [...names].sort().map((n) => `export const ${n} = wasm.${n};`).join("\n");
for (const entry of ["index.js", "node.js", "workerd.js"]) {
  const file = join(staging, entry);
  const src = readFileSync(file, "utf8");
  if (!src.includes("/* gpufleet:exports */")) throw new Error(`${entry}: the /* gpufleet:exports */ marker is missing`);
  writeFileSync(file, src.replace("/* gpufleet:exports */", exportLines));
}
// The licences the manifest declares (MIT OR Apache-2.0) and the changelog, from the repository.
for (const f of ["LICENSE-MIT", "LICENSE-APACHE", "CHANGELOG.md"]) cpSync(join(root, f), join(staging, f));
const manifestPath = join(staging, "package.json");
const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
manifest.version = version;
writeFileSync(manifestPath, JSON.stringify(manifest, null, 2) + "\n");

const old = join(root, `target/gpufleet-pkg-old-${process.pid}`);
if (existsSync(pkg)) renameSync(pkg, old);
renameSync(staging, pkg);
rmSync(old, { recursive: true, force: true });

// 5. the console as Workers Static Assets (dist/console/, wrangler.toml [assets])
run(process.execPath, [join(root, "scripts/build-console-assets.mjs"), "--pkg", pkg, "--out", join(root, "dist/console")]);

log(`pkg/ gpufleet@${version} and dist/console/ ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
