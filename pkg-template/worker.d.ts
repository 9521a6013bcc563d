// Types of "gpufleet/worker": the edge proxy as a module Worker (`export default { fetch }`).
declare const worker: {
  fetch(request: Request, env: Record<string, unknown>, ctx?: unknown): Promise<Response>;
  scheduled(controller: unknown, env: Record<string, unknown>, ctx?: unknown): Promise<void>;
};
export default worker;

/**
 * The shared live view's Durable Object: bind it as `FLEET_LIVE` (wrangler.toml
 * `[[durable_objects.bindings]]` and a `new_sqlite_classes` migration) and `GET /api/v1/live`
 * streams the fleet to every console from one walk of the providers per interval.
 */
export declare class FleetLive {
  constructor(ctx: unknown, env: Record<string, unknown>);
  fetch(request: Request): Promise<Response>;
  alarm(): Promise<void>;
}
