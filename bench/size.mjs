// Size: both builds in pkg/ (the package's client wasm without the proxy server, the Worker's
// with it), raw / gzip (level 9) / brotli (quality 11), via node:zlib; what a browser loads
// (target ≤ 150 KiB gzip); and the Worker bundle `wrangler deploy --dry-run` produces (≤ 400 KiB).

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { deployDryRun } from "../scripts/deploy-dry-run.mjs";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { ROOT, row } from "./lib.mjs";

const KIB = 1024;
const TARGET_KIB = 150;
const BUNDLE_TARGET_KIB = 400;

function sizes(buf) {
  return {
    raw: buf.length,
    gzip: gzipSync(buf, { level: 9 }).length,
    brotli: brotliCompressSync(buf, {
      params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: buf.length },
    }).length,
  };
}

/** Every file under `dir` (relative names), for the snippets/ folders. */
function walk(dir, base = dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name), base) : [relative(base, join(dir, e.name))],
  );
}

export async function run({ log }) {
  const pkg = join(ROOT, "pkg");
  const snippets = (dir) => walk(join(pkg, dir, "snippets")).map((f) => join(dir, "snippets", f));
  // Two builds from one crate: the package's (no proxy server) and the Worker's.
  const groups = {
    "client wasm (package build)": ["gpufleet_bg.wasm"],
    "client JS glue (gpufleet.js + snippets)": ["gpufleet.js", ...snippets("")],
    "entries (index, node, workerd)": ["index.js", "node.js", "workerd.js"],
    "Worker wasm (proxy build)": ["proxy/gpufleet_proxy_bg.wasm"],
    "Worker JS (glue + snippets + worker.js)": ["proxy/gpufleet_proxy.js", ...snippets("proxy"), "worker.js"],
  };
  const files = {};
  for (const list of Object.values(groups)) {
    for (const f of list) {
      const p = join(pkg, f);
      if (!existsSync(p)) throw new Error(`pkg/${f} is missing (build first)`);
      files[f] = sizes(readFileSync(p));
    }
  }
  const sum = (list, k) => list.reduce((a, f) => a + files[f][k], 0);
  const rows = [];
  for (const [name, list] of Object.entries(groups)) {
    const s = { raw: sum(list, "raw"), gzip: sum(list, "gzip"), brotli: sum(list, "brotli") };
    log(`${name}: ${s.raw} B raw, ${s.gzip} B gzip, ${s.brotli} B brotli`);
    rows.push(
      row({
        section: "size",
        figure: `${name} gzip (raw ${(s.raw / KIB).toFixed(1)} KiB, brotli ${(s.brotli / KIB).toFixed(1)} KiB)`,
        value: s.gzip / KIB,
        unit: "KiB",
      }),
    );
  }
  // What a browser loads for the package: the client wasm, its glue and snippets, the entry.
  const browser = ["gpufleet_bg.wasm", "gpufleet.js", ...snippets(""), "index.js"];
  const total = { raw: sum(browser, "raw"), gzip: sum(browser, "gzip"), brotli: sum(browser, "brotli") };
  rows.push(
    row({
      section: "size",
      figure: `what a browser loads (client wasm + glue + entry), gzip; ${(total.brotli / KIB).toFixed(0)} KiB br`,
      value: total.gzip / KIB,
      unit: "KiB",
      target: `≤ ${TARGET_KIB} KiB gzip`,
      met: total.gzip / KIB <= TARGET_KIB,
    }),
  );
  // What Cloudflare receives: `wrangler deploy --dry-run` (the console goes up as static assets).
  const dry = deployDryRun();
  const bundleKib = dry.gzipTotal / KIB;
  log(`wrangler deploy --dry-run: ${dry.files.map((f) => `${f.name} ${f.gzip} B gzip`).join(", ")}`);
  rows.push(
    row({
      section: "size",
      figure: "Worker bundle (`wrangler deploy --dry-run` total), gzip",
      value: bundleKib,
      unit: "KiB",
      target: `≤ ${BUNDLE_TARGET_KIB} KiB gzip`,
      met: bundleKib <= BUNDLE_TARGET_KIB,
    }),
  );
  return { rows, details: { files, browser: total, targetKiB: TARGET_KIB, dryRun: dry.files, bundleTargetKiB: BUNDLE_TARGET_KIB } };
}
