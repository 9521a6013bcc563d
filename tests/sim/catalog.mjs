// Static catalogs of the simulated providers: names, types, regions, SF Compute capacities/SKUs/
// images, Novita products and clusters. Ids are fixed strings so tests and demos can use them.

export const FAL_INSTANCE_TYPES = ["gpu_8x_h100_sxm5", "gpu_1x_h100_sxm5"];
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

/** Novita GPU products (List GPU Products would return these; ids are sim-made). */
export const NOVITA_PRODUCTS = [
  { id: "prod-rtx4090-24g", name: "RTX 4090 24GB", kind: "gpu", cpuPerGpu: 16, memPerGpu: 62, maxGpu: 8, maxRootfs: 1000, price: 0.35 },
  { id: "prod-rtx3090-24g", name: "RTX 3090 24GB", kind: "gpu", cpuPerGpu: 8, memPerGpu: 31, maxGpu: 8, maxRootfs: 500, price: 0.21 },
  { id: "prod-rtx5090-32g", name: "RTX 5090 32GB", kind: "gpu", cpuPerGpu: 16, memPerGpu: 62, maxGpu: 8, maxRootfs: 1000, price: 0.5 },
  { id: "prod-rtx6000ada-48g", name: "RTX 6000 Ada 48GB", kind: "gpu", cpuPerGpu: 16, memPerGpu: 92, maxGpu: 8, maxRootfs: 2000, price: 0.7 },
  { id: "prod-l40s-48g", name: "L40S 48GB", kind: "gpu", cpuPerGpu: 16, memPerGpu: 92, maxGpu: 8, maxRootfs: 2000, price: 0.55 },
  { id: "prod-a100sxm-80g", name: "A100 SXM 80GB", kind: "gpu", cpuPerGpu: 24, memPerGpu: 120, maxGpu: 8, maxRootfs: 4000, price: 1.2 },
  { id: "prod-h100sxm-80g", name: "H100 SXM 80GB", kind: "gpu", cpuPerGpu: 24, memPerGpu: 240, maxGpu: 8, maxRootfs: 6144, price: 2.4 },
  { id: "prod-h200sxm-141g", name: "H200 SXM 141GB", kind: "gpu", cpuPerGpu: 24, memPerGpu: 240, maxGpu: 8, maxRootfs: 6144, price: 3.1 },
  { id: "prod-cpu-8c32g", name: "CPU 8 vCPU 32GB", kind: "cpu", cpu: 8, mem: 32, maxRootfs: 200, price: 0.08 },
  { id: "prod-cpu-32c128g", name: "CPU 32 vCPU 128GB", kind: "cpu", cpu: 32, mem: 128, maxRootfs: 500, price: 0.3 },
];

export const NOVITA_CLUSTERS = [
  { id: "cls-us-ca-01", name: "US-CA-01" },
  { id: "cls-us-tx-02", name: "US-TX-02" },
  { id: "cls-eu-nl-01", name: "EU-NL-01" },
  { id: "cls-eu-de-02", name: "EU-DE-02" },
  { id: "cls-as-sg-01", name: "AS-SG-01" },
  { id: "cls-as-jp-01", name: "AS-JP-01" },
];

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
