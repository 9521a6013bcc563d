// Size: the shipped .wasm and JS glue in pkg/, raw / gzip (level 9) / brotli (quality 11), via
// node:zlib. The target covers what a deployment of every provider plus the proxy loads: the
// wasm, the wasm-bindgen glue (gpufleet.js) and the Worker entry (worker.js).

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { ROOT, row } from "./lib.mjs";

const KIB = 1024;
const TARGET_KIB = 120;

function sizes(buf) {
  return {
    raw: buf.length,
    gzip: gzipSync(buf, { level: 9 }).length,
    brotli: brotliCompressSync(buf, {
      params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: buf.length },
    }).length,
  };
}

export async function run({ log }) {
  const pkg = join(ROOT, "pkg");
  const groups = {
    wasm: ["gpufleet_bg.wasm"],
    "JS glue (gpufleet.js)": ["gpufleet.js"],
    "entries (index, node, workerd)": ["index.js", "node.js", "workerd.js"],
    "Worker entry (worker.js)": ["worker.js"],
    "embedded console (console-assets.js)": ["console-assets.js"],
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
  const shipped = ["gpufleet_bg.wasm", "gpufleet.js", "worker.js"];
  const total = { raw: sum(shipped, "raw"), gzip: sum(shipped, "gzip"), brotli: sum(shipped, "brotli") };
  rows.push(
    row({
      section: "size",
      figure: `all providers + proxy (wasm + glue + worker.js), gzip; ${(total.brotli / KIB).toFixed(0)} KiB br`,
      value: total.gzip / KIB,
      unit: "KiB",
      target: `≤ ${TARGET_KIB} KiB gzip`,
      met: total.gzip / KIB <= TARGET_KIB,
    }),
  );
  return { rows, details: { files, shipped: total, targetKiB: TARGET_KIB } };
}
