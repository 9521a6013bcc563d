// Static catalogs of the simulated providers: names, types, regions, SF Compute capacities/SKUs/
// images, Novita products and clusters, and the sim's price list (FAL_PRICES, SFC_PRICES, the
// Novita products' price/spotPrice; money.mjs bills by them). Ids are fixed strings so tests and
// demos can use them.

export const FAL_INSTANCE_TYPES = ["gpu_8x_h100_sxm5", "gpu_1x_h100_sxm5"];

/**
 * The sim's own hourly price of each fal instance type, micro-USD per instance-hour (fal publishes
 * no compute price API; these only drive the sim's fal account balance).
 */
export const FAL_PRICES = Object.freeze({ gpu_1x_h100_sxm5: 1_990_000, gpu_8x_h100_sxm5: 15_920_000 });
export const FAL_REGIONS = ["us-west", "us-central", "us-east", "eu-north", "eu-west", "other"];
export const FAL_SECTORS = ["sector_1", "sector_2", "sector_3"];
export const FAL_V1_STATUSES = ["ready", "init", "pending", "provisioning", "stopped", "unknown"];
export const FAL_ALPHA_STATUSES = ["ready", "init", "pending", "provisioning", "unknown"];
export const FAL_NICKNAMES = ["developer", "alice", "bob-ml", "chen.wei", "dana", "ops-bot", "priya", "sam_r"];

export const NAME_STEMS = [
  "llm-train", "sd-worker", "vllm-serve", "inference", "whisper-batch", "embed-index", "rl-rollout",
  "dev-box", "jupyter", "finetune-lora", "eval-harness", "comfyui", "tts-serve", "data-prep",
  "flux-render", "moe-pretrain", "rag-api", "video-gen", "bench-node", "distill",
];

export const SFC_STATUSES = ["awaiting_allocation", "running", "terminated", "failed"];

/** SF Compute capacities (seed 003 `capacity{id,name}`; July `pool{id,name}` uses the pool_ id). */
export const SFC_CAPACITIES = [
  { id: "cap_h100sfprod01", pool: "pool_h100sfprod01", name: "h100-sf-prod", skus: ["isku_h100x8ib0001", "isku_h100x8000002"] },
  { id: "cap_h100research02", pool: "pool_h100research02", name: "h100-research", skus: ["isku_h100x8ib0001"] },
  { id: "cap_h200train03", pool: "pool_h200train03", name: "h200-training", skus: ["isku_h200x8ib0003"] },
  { id: "cap_b200burst04", pool: "pool_b200burst04", name: "b200-burst", skus: ["isku_b200x8000004"] },
];

/** SF Compute instance SKUs (seed `{id,name}`; July `{object:"instance_sku",id,alias}`). */
export const SFC_SKUS = [
  { id: "isku_h100x8ib0001", name: "h100-8x-sxm5-ib", infiniband: true, publicIpv4: true },
  { id: "isku_h100x8000002", name: "h100-8x-sxm5", infiniband: false, publicIpv4: true },
  { id: "isku_h200x8ib0003", name: "h200-8x-sxm5-ib", infiniband: true, publicIpv4: false },
  { id: "isku_b200x8000004", name: "b200-8x", infiniband: false, publicIpv4: true },
];

/**
 * SF Compute money per SKU, cents per node-hour: `billed` is what a running instance of the SKU
 * costs the sim account (the price of the order that bought its allocation); `ask` / `bid` are the
 * order book's best ask / bid for any delivery window (null = nobody sells / buys). The ask equals
 * the billed price where there is one, so a quote-based estimate matches the balance.
 */
export const SFC_PRICES = Object.freeze({
  isku_h100x8ib0001: { billed: 1400, ask: 1400, bid: 1320, askNodes: 16, bidNodes: 4 },
  isku_h100x8000002: { billed: 1280, ask: 1280, bid: 1200, askNodes: 32, bidNodes: 8 },
  isku_h200x8ib0003: { billed: 1920, ask: 1920, bid: null, askNodes: 8, bidNodes: 0 },
  isku_b200x8000004: { billed: 2800, ask: null, bid: 2640, askNodes: 0, bidNodes: 2 },
});

/** SF Compute SKU properties for order-book `requirements` (`accelerator:H100`). */
export const SFC_SKU_ACCELERATOR = Object.freeze({
  isku_h100x8ib0001: "H100", isku_h100x8000002: "H100", isku_h200x8ib0003: "H200", isku_b200x8000004: "B200",
});

/** SF Compute public images. */
export const SFC_IMAGES = [
  { id: "image_ubuntu2204cuda127", name: "ubuntu-22.04.5-cuda-12.7" },
  { id: "image_ubuntu2404cuda128", name: "ubuntu-24.04-cuda-12.8" },
  { id: "image_pytorch25cu124", name: "pytorch-2.5-cuda-12.4" },
  { id: "image_debian12minimal", name: "debian-12-minimal" },
];

export const SFC_DEPLOYMENTS = [
  { id: "depl_trainfleet01", name: "train-fleet" },
  { id: "depl_servingpool02", name: "serving-pool" },
];

/** Spot deployments (July shape `managed_by: {object: "spot_deployment", id, name}`). */
export const SFC_SPOT_DEPLOYMENTS = [
  { id: "spot_batchjobs01", name: "batch-spot" },
  { id: "spot_evalsweep02", name: "eval-sweep" },
];

export const SFC_TAG_VALUES = {
  env: ["prod", "staging", "dev"],
  team: ["infra", "research", "ml", "platform"],
  project: ["atlas", "orion", "nebula", "zephyr"],
  owner: ["alice", "bob", "chen", "dana"],
};

export const SFC_PRIORITY_LEVELS = ["yield", "normal", "preferred", "critical"];

export const NOVITA_STATUSES = [
  "toCreate", "creating", "pulling", "running", "toStart", "starting", "toStop", "stopping", "exited",
  "toRestart", "restarting", "toRemove", "removing", "removed", "toReset", "resetting", "migrating", "freezing",
];

export const NOVITA_CLUSTERS = [
  { id: "cls-us-ca-01", name: "US-CA-01" },
  { id: "cls-us-tx-02", name: "US-TX-02" },
  { id: "cls-eu-nl-01", name: "EU-NL-01" },
  { id: "cls-eu-de-02", name: "EU-DE-02" },
  { id: "cls-as-sg-01", name: "AS-SG-01" },
  { id: "cls-as-jp-01", name: "AS-JP-01" },
];

const ALL_CLUSTER_IDS = NOVITA_CLUSTERS.map((c) => c.id);
const GPU_BILLING = ["onDemand", "spot", "monthly"];
const gpu = (id, name, cpuPerGpu, memPerGpu, maxRootfs, price, spotPrice, extra = {}) => ({
  id, name, kind: "gpu", cpuPerGpu, memPerGpu, maxGpu: 8, maxRootfs, price, spotPrice,
  availableDeploy: true, billingMethods: GPU_BILLING, regions: ALL_CLUSTER_IDS, ...extra,
});

/**
 * Novita products. `price` and `spotPrice` are the sim's prices in Novita's catalog unit, 1/100,000 USD
 * per GPU-hour (per instance-hour for CPU products), so 249000 = $2.49; null = not offered that way.
 * `availableDeploy`, `billingMethods` and `regions` (cluster ids) are what List GPU Products says of
 * each; ids are sim-made. The seeded fleet draws its products from this list (order matters: do not
 * reorder or insert, append to NOVITA_UNSEEDED_PRODUCTS instead).
 */
export const NOVITA_PRODUCTS = [
  gpu("prod-rtx4090-24g", "RTX 4090 24GB", 16, 62, 1000, 35_000, 17_500),
  gpu("prod-rtx3090-24g", "RTX 3090 24GB", 8, 31, 500, 21_000, 10_500),
  gpu("prod-rtx5090-32g", "RTX 5090 32GB", 16, 62, 1000, 50_000, 25_000),
  gpu("prod-rtx6000ada-48g", "RTX 6000 Ada 48GB", 16, 92, 2000, 70_000, 35_000),
  gpu("prod-l40s-48g", "L40S 48GB", 16, 92, 2000, 55_000, 27_500),
  gpu("prod-a100sxm-80g", "A100 SXM 80GB", 24, 120, 4000, 120_000, 60_000),
  gpu("prod-h100sxm-80g", "H100 SXM 80GB", 24, 240, 6144, 249_000, 124_500),
  gpu("prod-h200sxm-141g", "H200 SXM 141GB", 24, 240, 6144, 310_000, 155_000),
  { id: "prod-cpu-8c32g", name: "CPU 8 vCPU 32GB", kind: "cpu", cpu: 8, mem: 32, maxRootfs: 200, price: 8_000, spotPrice: 4_000, availableDeploy: true, billingMethods: GPU_BILLING, regions: ALL_CLUSTER_IDS },
  { id: "prod-cpu-32c128g", name: "CPU 32 vCPU 128GB", kind: "cpu", cpu: 32, mem: 128, maxRootfs: 500, price: 30_000, spotPrice: 15_000, availableDeploy: true, billingMethods: GPU_BILLING, regions: ALL_CLUSTER_IDS },
];

/**
 * Products the seeded fleet never uses (so adding them changed no seeded record): one offered on
 * demand only, in two clusters (no spot), and one sold out (`availableDeploy: false`).
 */
export const NOVITA_UNSEEDED_PRODUCTS = [
  gpu("prod-a6000-48g", "RTX A6000 48GB", 8, 46, 1000, 49_000, null, { billingMethods: ["onDemand", "monthly"], regions: ["cls-eu-nl-01", "cls-eu-de-02"] }),
  gpu("prod-b200sxm-180g", "B200 SXM 180GB", 28, 240, 6144, 599_000, 299_500, { availableDeploy: false, regions: ["cls-us-ca-01"] }),
];

/** Every Novita product: what creates accept and what the catalog lists (GPU ones). */
export const NOVITA_ALL_PRODUCTS = [...NOVITA_PRODUCTS, ...NOVITA_UNSEEDED_PRODUCTS];

export const NOVITA_IMAGES = [
  "pytorch/pytorch:2.5.1-cuda12.4-cudnn9-devel",
  "nvidia/cuda:12.4.1-cudnn-devel-ubuntu22.04",
  "vllm/vllm-openai:v0.6.4",
  "ghcr.io/huggingface/text-generation-inference:2.4.0",
  "novitalabs/comfyui:latest",
  "jupyter/base-notebook:python-3.11",
  "registry.example.com/team/trainer:1.8.2",
];

export const NOVITA_STATUS_ERRORS = [
  { state: "pullFailed", message: "pull image failed: manifest for registry.example.com/team/trainer:9.9 not found" },
  { state: "createFailed", message: "insufficient GPU resources in the selected cluster" },
  { state: "startFailed", message: "container exited with code 137 (out of memory)" },
];
