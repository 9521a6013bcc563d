// "gpufleet" as Node resolves it from this project (exports condition "node").
export * as gpufleet from "gpufleet";
