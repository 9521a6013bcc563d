// Types of "gpufleet/worker": the edge proxy as a module Worker (`export default { fetch }`).
declare const worker: {
  fetch(request: Request, env: Record<string, unknown>, ctx?: unknown): Promise<Response>;
};
export default worker;
