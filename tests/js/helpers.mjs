// Shared by the package tests: the scratch project (packed + installed once) and the sim.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { packAndInstall, root, scratch } from "./pack.mjs";
import { startSim } from "../sim/server.mjs";

export { root, scratch };

/** The scratch project with the packed package installed (packs it when missing). */
export function ensureScratch() {
  if (!existsSync(join(scratch, "node_modules/gpufleet/package.json"))) packAndInstall({ quiet: true });
  return scratch;
}

/** The installed package's manifest. */
export function installedManifest() {
  return JSON.parse(readFileSync(join(scratch, "node_modules/gpufleet/package.json"), "utf8"));
}

/** Starts the simulated clouds (the scenario resets them to its own seed and size). */
export async function sim() {
  return startSim({ port: 0, instances: 120, speed: 0 });
}
