// The seeded, deterministic fleet. Same (seed, instances, hostile) → the same records, so the same
// listings byte for byte (at the same sim time). Generation is a single pass with a PRNG per
// provider, run lazily on a provider's first use (sim.mjs); generated lifecycles are anchored to
// the fixed sim epoch, so when it runs does not matter.

import { Rng, hashSeed, ALNUM, ID_CHARS, docIp, wtable } from "./util.mjs";
import { hostile, HOSTILE, HOSTILE_TAG_KEYS, HOSTILE_TAG_VALUES } from "./hostile.mjs";
import * as C from "./catalog.mjs";
import { GONE } from "./clock.mjs";

/**
 * Lifecycle durations in sim milliseconds, measured from the action (create/stop/...).
 * Documented in the README section; tests import them.
 */
export const LIFECYCLE = Object.freeze({
  fal: { provisioningAfter: 5_000, readyAfter: 20_000 }, // pending → provisioning (5 s) → ready (20 s, IP)
  sfcompute: { runningAfter: 10_000 }, // awaiting_allocation → running (10 s)
  novita: {
    create: [[0, "toCreate"], [2_000, "creating"], [5_000, "pulling"], [12_000, "running"]],
    stop: [[0, "toStop"], [2_000, "stopping"], [5_000, "exited"]],
    start: [[0, "toStart"], [2_000, "starting"], [6_000, "running"]],
    restart: [[0, "toRestart"], [2_000, "restarting"], [6_000, "running"]],
    // removed instances stay listed as `removed` for 5 minutes, then vanish (404 / not listed)
    delete: [[0, "toRemove"], [2_000, "removing"], [5_000, "removed"], [305_000, GONE]],
  },
  falIdempotencyMs: 10 * 60_000, // fal v1 Idempotency-Key responses are cached 10 minutes
});

const DAY = 86_400_000;

// weight tables (precomputed once; generation runs 10,000s of times)
const W_FAL_TYPE = wtable([["gpu_1x_h100_sxm5", 6], ["gpu_8x_h100_sxm5", 4]]);
const W_FAL_REGION = wtable([["us-west", 4], ["us-central", 2], ["us-east", 3], ["eu-north", 2], ["eu-west", 2], ["other", 1]]);
const W_FAL_STATUS = wtable([["ready", 70], ["pending", 5], ["provisioning", 7], ["init", 5], ["stopped", 8], ["unknown", 5]]);
const W_ALPHA_TYPE = wtable([["gpu_1x_h100_sxm5", 6], ["gpu_8x_h100_sxm5", 4]]);
const W_ALPHA_STATUS = wtable([["ready", 75], ["pending", 6], ["provisioning", 8], ["init", 6], ["unknown", 5]]);
const W_TAG_COUNT = wtable([[0, 2], [1, 3], [2, 4], [3, 2]]);
const W_SFC_STATUS = wtable([["running", 55], ["awaiting_allocation", 12], ["terminated", 23], ["failed", 10]]);
const W_SFC_PRIORITY = wtable([[0, 1], [1, 6], [2, 2], [3, 1]]);
const W_NOVITA_GPUS = wtable([[1, 10], [2, 4], [4, 3], [8, 2]]);
const W_NOVITA_BILLING = wtable([["onDemand", 75], ["monthly", 12], ["spot", 13]]);
const W_NOVITA_KIND = wtable([
  ["running", 55], ["exited", 14], ["failed", 5], ["creating", 8], ["stopping", 3], ["starting", 3],
  ["restarting", 2], ["removed", 3], ["other", 4], ["toCreate", 3],
]);
const W_NOVITA_SPOT = wtable([["running", 8], ["notified", 1]]);

/** A realistic instance name such as `llm-train-07` or `sd-worker-a3`. */
function realisticName(rng) {
  const stem = rng.pick(C.NAME_STEMS);
  const style = rng.int(0, 3);
  if (style === 0) return `${stem}-${String(rng.int(1, 99)).padStart(2, "0")}`;
  if (style === 1) return `${stem}-${rng.chars(1, "abcdef")}${rng.int(1, 9)}`;
  if (style === 2) return `${stem}-${rng.pick(["prod", "staging", "dev", "exp"])}-${rng.int(1, 12)}`;
  return `${stem}-${rng.chars(4, "0123456789abcdefghijklmnopqrstuvwxyz")}`;
}

/** A name unique within `used`, valid for SF Compute (`[a-zA-Z0-9][a-zA-Z0-9._-]{0,254}`). */
function uniqueName(rng, used) {
  let name = realisticName(rng);
  if (used.has(name)) {
    let k = 2;
    while (used.has(`${name}-${k}`)) k++;
    name = `${name}-${k}`;
  }
  used.add(name);
  return name;
}

/** Truncates a string to at most n code points (JSON Schema maxLength counts code points). */
export function truncCodePoints(s, n) {
  const cps = [...s];
  return cps.length <= n ? s : cps.slice(0, n).join("");
}

/** A timeline for a generated instance: a starting status, then future steps after sim start. */
function genTimeline(createdAt, first, futureSteps, epochMs) {
  const tl = [{ at: createdAt, status: first }];
  for (const [at, status] of futureSteps) tl.push({ at: epochMs + at, status });
  return tl;
}

// ---------------------------------------------------------------------------------------------
// fal Platform API v1

export function genFalId(rng) {
  return "inst_" + rng.chars(12, ALNUM);
}

export function generateFal(n, seed, hostileMode, epochMs) {
  const rng = new Rng(hashSeed(seed, "fal"));
  const list = [];
  const ids = new Set();
  for (let i = 0; i < n; i++) {
    let id;
    do id = genFalId(rng); while (ids.has(id));
    ids.add(id);
    const instance_type = rng.weighted(W_FAL_TYPE);
    const region = rng.weighted(W_FAL_REGION);
    const sector = instance_type === "gpu_8x_h100_sxm5" && rng.chance(0.6) ? rng.pick(C.FAL_SECTORS) : null;
    const createdAt = epochMs - rng.int(60_000, 60 * DAY);
    const kind = rng.weighted(W_FAL_STATUS);
    const t1 = rng.int(30_000, 10 * 60_000);
    let timeline;
    if (kind === "pending") timeline = genTimeline(createdAt, "pending", rng.chance(0.7) ? [[t1, "provisioning"], [t1 + 15_000, "ready"]] : [], epochMs);
    else if (kind === "provisioning" || kind === "init") timeline = genTimeline(createdAt, kind, rng.chance(0.7) ? [[t1, "ready"]] : [], epochMs);
    else timeline = genTimeline(createdAt, kind, [], epochMs);
    const nick = hostileMode ? hostile(i) : rng.chance(0.9) ? rng.pick(C.FAL_NICKNAMES) : undefined;
    list.push({ id, instance_type, region, sector, ip: docIp(i * 7 + 3), creator_user_nickname: nick, createdAt, timeline });
  }
  return list;
}

// ---------------------------------------------------------------------------------------------
// fal alpha Compute API

export function generateFalAlpha(n, seed, epochMs) {
  const rng = new Rng(hashSeed(seed, "fal-alpha"));
  const list = [];
  for (let i = 0; i < n; i++) {
    const id = rng.uuid();
    const instance_type = rng.weighted(W_ALPHA_TYPE);
    const sector = instance_type === "gpu_8x_h100_sxm5" && rng.chance(0.6) ? rng.pick(C.FAL_SECTORS) : null;
    const createdAt = epochMs - rng.int(60_000, 60 * DAY);
    const kind = rng.weighted(W_ALPHA_STATUS);
    const t1 = rng.int(30_000, 10 * 60_000);
    let timeline;
    if (kind === "pending") timeline = genTimeline(createdAt, "pending", rng.chance(0.7) ? [[t1, "provisioning"], [t1 + 15_000, "ready"]] : [], epochMs);
    else if (kind === "provisioning" || kind === "init") timeline = genTimeline(createdAt, kind, rng.chance(0.7) ? [[t1, "ready"]] : [], epochMs);
    else timeline = genTimeline(createdAt, kind, [], epochMs);
    list.push({ id, instance_type, sector, ip: docIp(i * 11 + 5), createdAt, timeline });
  }
  return list;
}

// ---------------------------------------------------------------------------------------------
// SF Compute

export function genSfcId(rng) {
  return "inst_" + rng.chars(21, ID_CHARS);
}

/** Image catalog; in hostile mode it also has images with hostile names (valid `Name`s). */
export function sfcImages(hostileMode) {
  if (!hostileMode) return C.SFC_IMAGES;
  return [
    ...C.SFC_IMAGES,
    ...HOSTILE.map((s, k) => ({ id: `image_hostile${String(k).padStart(2, "0")}`, name: truncCodePoints(`img-${s}`, 255) })),
  ];
}

function sfcTags(rng, i, hostileMode) {
  const tags = {};
  const keys = Object.keys(C.SFC_TAG_VALUES);
  const count = rng.weighted(W_TAG_COUNT);
  for (let k = 0; k < count; k++) {
    const key = keys[(i + k) % keys.length];
    tags[key] = rng.pick(C.SFC_TAG_VALUES[key]);
  }
  if (hostileMode) {
    tags.note = HOSTILE_TAG_VALUES[i % HOSTILE_TAG_VALUES.length];
    tags[HOSTILE_TAG_KEYS[i % HOSTILE_TAG_KEYS.length]] = HOSTILE_TAG_VALUES[(i + 3) % HOSTILE_TAG_VALUES.length];
  }
  return tags;
}

export function generateSfc(n, seed, hostileMode, epochMs) {
  const rng = new Rng(hashSeed(seed, "sfcompute"));
  const images = sfcImages(hostileMode);
  const used = new Set();
  const ids = new Set();
  const list = [];
  let prevCreated = null;
  for (let i = 0; i < n; i++) {
    let id;
    do id = genSfcId(rng); while (ids.has(id));
    ids.add(id);
    let name = uniqueName(rng, used);
    if (hostileMode && i === 1) {
      // the longest valid name: 255 characters
      name = ("long-name-" + "x".repeat(255)).slice(0, 255);
      used.add(name);
    }
    const cap = rng.pick(C.SFC_CAPACITIES);
    const skuId = rng.pick(cap.skus);
    const sku = C.SFC_SKUS.find((s) => s.id === skuId);
    const image = hostileMode && i % 2 === 0 ? images[C.SFC_IMAGES.length + (i / 2) % HOSTILE.length] : rng.pick(C.SFC_IMAGES);
    // ~5% share the previous instance's created_at, to exercise the id tie-break in ordering
    const created_at = prevCreated !== null && rng.chance(0.05) ? prevCreated : Math.floor((epochMs - rng.int(120_000, 90 * DAY)) / 1000);
    prevCreated = created_at;
    const createdMs = created_at * 1000;
    const kind = rng.weighted(W_SFC_STATUS);
    let timeline;
    if (kind === "awaiting_allocation" && rng.chance(0.5)) {
      timeline = genTimeline(createdMs, "awaiting_allocation", [[rng.int(30_000, 15 * 60_000), "running"]], epochMs);
    } else if (kind === "terminated" || kind === "failed") {
      const ranFor = rng.int(60_000, 3 * DAY);
      timeline = [{ at: createdMs, status: "running" }, { at: Math.min(createdMs + ranFor, epochMs - 1000), status: kind }];
    } else {
      timeline = genTimeline(createdMs, kind, [], epochMs);
    }
    const cloudInit = rng.chance(0.7)
      ? Buffer.from(
          hostileMode
            ? `#cloud-config\n# ${hostile(i)}\nruncmd:\n  - echo '${hostile(i + 1).replace(/'/g, "")}'\n`
            : `#cloud-config\nssh_authorized_keys:\n  - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${rng.chars(43, ALNUM)} ${name}\n`,
          "utf8",
        ).toString("base64")
      : null;
    const enable_public_ipv4 = sku.publicIpv4 && rng.chance(0.3);
    list.push({
      id,
      name,
      capacity: cap,
      sku,
      image,
      deployment: rng.chance(0.25) ? rng.pick(C.SFC_DEPLOYMENTS) : null,
      tags: sfcTags(rng, i, hostileMode),
      cloud_init_user_data: cloudInit,
      created_at,
      updatedAt: null,
      expected_shutdown_at: rng.chance(0.3) ? created_at + rng.int(1, 30) * 86_400 : null,
      priority: rng.weighted(W_SFC_PRIORITY),
      infiniband: sku.infiniband && rng.chance(0.5),
      enable_public_ipv4,
      public_ip: enable_public_ipv4 ? docIp(i * 13 + 1) : null,
      firewall: enable_public_ipv4 ? "frwl_default" + rng.chars(6, ALNUM) : null,
      sshIp: docIp(i * 5 + 2),
      timeline,
    });
  }
  // Some instances without a deployment are managed by a spot deployment (July shape `managed_by`
  // only; the seed shape has no such field). Its own PRNG keeps the rest of the fleet unchanged.
  const spotRng = new Rng(hashSeed(seed, "sfcompute", "spot-deployment"));
  for (const r of list) r.spotDeployment = r.deployment === null && spotRng.chance(0.15) ? spotRng.pick(C.SFC_SPOT_DEPLOYMENTS) : null;
  return list;
}

/** A syntactically valid ssh-ed25519 public key blob, base64 (sim-made bytes, derived from the id). */
export function sshHostKey(instanceId) {
  const rng = new Rng(hashSeed("hostkey", instanceId));
  const type = Buffer.from("ssh-ed25519");
  const len = (n) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  return Buffer.concat([len(type.length), type, len(32), rng.bytes(32)]).toString("base64");
}

// ---------------------------------------------------------------------------------------------
// Novita

export function genNovitaId(rng) {
  return rng.hex(16);
}

export function generateNovita(n, seed, hostileMode, epochMs) {
  const rng = new Rng(hashSeed(seed, "novita"));
  const gpuProducts = C.NOVITA_PRODUCTS.filter((p) => p.kind === "gpu");
  const cpuProducts = C.NOVITA_PRODUCTS.filter((p) => p.kind === "cpu");
  const ids = new Set();
  const list = [];
  for (let i = 0; i < n; i++) {
    let id;
    do id = genNovitaId(rng); while (ids.has(id));
    ids.add(id);
    const cpuKind = rng.chance(0.06);
    const product = cpuKind ? rng.pick(cpuProducts) : rng.pick(gpuProducts);
    const gpuNum = cpuKind ? 0 : rng.weighted(W_NOVITA_GPUS);
    const cluster = rng.pick(C.NOVITA_CLUSTERS);
    const createdAt = epochMs - rng.int(120_000, 120 * DAY);
    const billingMode = rng.weighted(W_NOVITA_BILLING);
    const kind = rng.weighted(W_NOVITA_KIND);
    const t1 = rng.int(30_000, 15 * 60_000);
    let timeline;
    let statusError = null;
    switch (kind) {
      case "creating": {
        const s = rng.pick(["creating", "pulling"]);
        timeline = genTimeline(createdAt, s, [[t1, "running"]], epochMs);
        break;
      }
      case "toCreate":
        timeline = genTimeline(createdAt, "toCreate", [[t1, "creating"], [t1 + 3000, "pulling"], [t1 + 10_000, "running"]], epochMs);
        break;
      case "stopping":
        timeline = genTimeline(createdAt, rng.pick(["toStop", "stopping"]), [[t1, "exited"]], epochMs);
        break;
      case "starting":
        timeline = genTimeline(createdAt, rng.pick(["toStart", "starting"]), [[t1, "running"]], epochMs);
        break;
      case "restarting":
        timeline = genTimeline(createdAt, rng.pick(["toRestart", "restarting"]), [[t1, "running"]], epochMs);
        break;
      case "removed":
        // deleted shortly before sim start; lingers as `removed`, then vanishes
        timeline = genTimeline(createdAt, rng.pick(["toRemove", "removing", "removed"]), [[t1, "removed"], [t1 + 300_000, GONE]], epochMs);
        break;
      case "other":
        timeline = genTimeline(createdAt, rng.pick(["toReset", "resetting", "migrating", "freezing"]), [[t1, "running"]], epochMs);
        break;
      case "failed": {
        const err = rng.pick(C.NOVITA_STATUS_ERRORS);
        statusError = { state: err.state, message: hostileMode ? `${err.message} ${hostile(i)}` : err.message };
        timeline = genTimeline(createdAt, err.state === "createFailed" ? "creating" : "exited", [], epochMs);
        break;
      }
      default:
        timeline = genTimeline(createdAt, kind, [], epochMs);
    }
    const ports = [{ port: 22, type: "tcp" }];
    if (rng.chance(0.6)) ports.push({ port: 8888, type: "http" });
    if (rng.chance(0.3)) ports.push({ port: rng.pick([7860, 8000, 8080, 3000]), type: "http" });
    const rootfsSize = rng.pick([30, 50, 60, 100, 200]);
    const volumeMounts = [{ type: "local", size: rootfsSize, mountPath: "/" }];
    if (rng.chance(0.2)) volumeMounts.push({ type: "network", size: rng.pick([100, 500, 1000]), id: "nst-" + rng.hex(12), mountPath: "/network" });
    const envs = [];
    if (rng.chance(0.5)) envs.push({ key: "HF_HOME", value: "/workspace/.cache/huggingface" });
    if (rng.chance(0.3)) envs.push({ key: "MODEL_ID", value: rng.pick(["meta-llama/Llama-3.1-8B-Instruct", "Qwen/Qwen2.5-7B", "black-forest-labs/FLUX.1-dev"]) });
    const h = (k) => hostile(i + k);
    const rec = {
      id,
      name: hostileMode ? h(0) : realisticName(rng),
      cluster: hostileMode ? { id: cluster.id, name: `${cluster.name} ${h(1)}` } : cluster,
      imageUrl: hostileMode ? truncCodePoints(`registry.example.com/${h(2)}:latest`, 500) : rng.pick(C.NOVITA_IMAGES),
      imageAuthId: rng.chance(0.1) ? "auth-" + rng.hex(8) : undefined,
      command: hostileMode ? `bash -lc 'echo ${h(3)}'` : rng.chance(0.3) ? "python serve.py --port 8000" : undefined,
      entrypoint: hostileMode ? h(4) : undefined,
      product,
      gpuNum,
      cpuNum: cpuKind ? product.cpu : product.cpuPerGpu * gpuNum,
      memory: cpuKind ? product.mem : product.memPerGpu * gpuNum,
      ports,
      rootfsSize,
      volumeMounts,
      envs: hostileMode ? [...envs, { key: "NOTE", value: h(5) }, { key: h(6).slice(0, 511), value: "hostile-key" }] : envs,
      kind: cpuKind ? "cpu" : "gpu",
      billingMode,
      endTime: billingMode === "monthly" ? String(Math.floor((epochMs + rng.int(1, 300) * DAY) / 1000)) : "-1",
      spotStatus: billingMode === "spot" ? rng.weighted(W_NOVITA_SPOT) : undefined,
      spotReclaimTime: billingMode === "spot" ? "0" : undefined,
      createdAt,
      timeline,
      statusError,
      ip: docIp(i * 3 + 7),
      sshPort: 30000 + rng.int(0, 9999),
      password: rng.chars(16, ALNUM),
      networkId: rng.chance(0.2) ? "vpc-" + rng.hex(10) : "",
      keepDataDay: rng.pick([3, 7, 15]),
      jobs: [],
    };
    if (rec.spotStatus === "notified") rec.spotReclaimTime = String(Math.floor(epochMs / 1000) + rng.int(60, 3600));
    list.push(rec);
  }
  ensureSpotMix(list, seed, epochMs);
  return list;
}

/** How many spot instances of each kind (notified / running) a fleet of n has at least. */
export const spotMinimum = (n) => (n >= 4 ? Math.max(2, Math.ceil(n / 100)) : 0);

/**
 * Makes sure a Novita fleet of 4 or more has at least spotMinimum(n) spot instances reclaim-
 * `notified` (reclaim time 1–60 min after the epoch) and as many spot ones `running` (reclaim time
 * "0"), by turning running on-demand instances (no statusError) into spot ones. Uses its own PRNG,
 * so the rest of the fleet is the same as without this pass.
 */
function ensureSpotMix(list, seed, epochMs) {
  const want = spotMinimum(list.length);
  if (want === 0) return;
  const rng = new Rng(hashSeed(seed, "novita", "spot"));
  const steady = (r) => r.timeline.length === 1 && r.timeline[0].status === "running" && !r.statusError;
  const count = (spotStatus) => list.filter((r) => r.billingMode === "spot" && r.spotStatus === spotStatus && steady(r)).length;
  const candidates = list.filter((r) => r.billingMode === "onDemand" && steady(r));
  const convert = (spotStatus, k) => {
    for (let j = 0; j < k && candidates.length > 0; j++) {
      const [r] = candidates.splice(rng.int(0, candidates.length - 1), 1);
      r.billingMode = "spot";
      r.endTime = "-1";
      r.spotStatus = spotStatus;
      r.spotReclaimTime = spotStatus === "notified" ? String(Math.floor(epochMs / 1000) + rng.int(60, 3600)) : "0";
    }
  };
  convert("notified", want - count("notified"));
  convert("running", want - count("running"));
}

// ---------------------------------------------------------------------------------------------

/** The generator of each provider's fleet: (params) → records in creation order. */
export const GENERATORS = Object.freeze({
  fal: ({ seed, instances, hostile: h, epochMs }) => generateFal(instances, seed, h, epochMs),
  "fal-alpha": ({ seed, instances, epochMs }) => generateFalAlpha(instances, seed, epochMs),
  sfcompute: ({ seed, instances, hostile: h, epochMs }) => generateSfc(instances, seed, h, epochMs),
  novita: ({ seed, instances, hostile: h, epochMs }) => generateNovita(instances, seed, h, epochMs),
});

/**
 * Generates all four fleets at once (the server generates each lazily on first use instead; the
 * result is the same because generated timelines are anchored to the fixed epoch).
 */
export function generateFleet(params) {
  return Object.fromEntries(Object.entries(GENERATORS).map(([p, gen]) => [p, gen(params)]));
}
