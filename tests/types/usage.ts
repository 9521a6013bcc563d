// Realistic uses of the published types, checked with `tsc --noEmit` against the packed package
// (installed into a scratch project, resolved through its exports map). Lines marked
// `@ts-expect-error` must NOT type-check: if one starts compiling, tsc fails ("unused directive").
import {
  Fleet,
  isGpufleetError,
  init,
  type Capabilities,
  type CreateInputMap,
  type Deadline,
  type ErrorInfo,
  type FleetConfig,
  type FleetListing,
  type GpufleetError,
  type Instance,
  type ListQueryMap,
  type Page,
  type Provider,
  type SshDetails,
  type Status,
  type TagMirror,
} from "gpufleet";

await init(); // optional everywhere; a no-op once the entry point has initialized the wasm

const config: FleetConfig = {
  fal: { apiKey: "fal-key" },
  falAlpha: { apiKey: "fal-key", baseUrl: "https://rest.alpha.fal.ai" },
  sfcompute: { token: "sfc-token", workspace: "wksp_123" },
  novita: { apiKey: "novita-key" },
  retries: { max: 2, baseDelayMs: 250 },
  timeoutMs: 30_000,
  fetch: globalThis.fetch,
  dangerouslyAllowBrowser: false,
};
const fleet = new Fleet(config);
const viaProxy = new Fleet({ proxy: { url: "/api", token: "dev-token" } });
console.log(viaProxy.proxyMode);

// Pagination, per provider.
const controller = new AbortController();
let page: Page<Instance> = await fleet.listPage("sfcompute", { limit: 50, status: ["running"], tag: ["env=prod"] });
while (page.hasMore && page.nextCursor) {
  page = await fleet.listPage("sfcompute", { limit: 50, cursor: page.nextCursor }, { signal: controller.signal, timeoutMs: 5_000 });
}
await fleet.listPage("novita", { limit: 20, name: "train", status: "running" });
await fleet.listPage("fal", { limit: 100 });
await fleet.listPage("fal-alpha");
const dynamic: Provider = Math.random() > 0.5 ? "fal" : "novita";
await fleet.listPage(dynamic, { limit: 10 }); // a provider known only at run time

for await (const inst of fleet.instances({ providers: ["novita", "fal"], status: ["running"], q: "train", signal: controller.signal })) {
  const s: Status = inst.status;
  console.log(inst.id, s, inst.providerStatus, inst.ip ?? "-", inst.tags?.["env"], inst.raw["anything"]);
}

const listing: FleetListing = await fleet.listAll({ status: ["running", "provisioning"], q: "h100" });
for (const failure of listing.errors) console.warn(failure.provider, failure.error.code, failure.error.message);

const inst: Instance = await fleet.get("fal", "inst_123");
const created: Instance = await fleet.create("fal", {
  instanceType: "gpu_8x_h100_sxm5",
  sshKey: "ssh-ed25519 AAAA…",
  sector: "sector_1",
});
await fleet.create("novita", { productId: "prod-1", imageUrl: "nvidia/cuda:12.4.0-base-ubuntu22.04", gpuNum: 1, rootfsSize: 50 });
await fleet.create("sfcompute", { image: "image_123", capacity: "cap_123", tags: { team: "ml" } });
const input: CreateInputMap["fal-alpha"] = { instanceType: "gpu_1x_h100_sxm5", sshKey: "ssh-ed25519 AAAA…" };
await fleet.create("fal-alpha", input);
const query: ListQueryMap["novita"] = { productName: "H100" };
await fleet.listPage("novita", query);

const ready: Instance | null = await fleet.waitFor("fal", created.id, {
  until: "running",
  maxWaitMs: 20 * 60_000,
  onPoll: (i) => console.log(i.status),
  signal: AbortSignal.timeout(60_000),
});
if (ready) console.log(ready.ssh?.command);
// Only a wait for "terminated" can resolve to null.
const up: Instance = await fleet.waitFor("fal", created.id, { until: "running" });
console.log(up.id);
// Lifecycle actions are typed per provider (capabilities): start/stop/restart are Novita's,
// terminate and ssh SF Compute's.
// @ts-expect-error fal has no stop
await fleet.stop("fal", "inst_1");
// @ts-expect-error fal has no start
await fleet.start("fal-alpha", "inst_1");
// @ts-expect-error Novita has no terminate
await fleet.terminate("novita", "abc123");
// @ts-expect-error Novita gives no SSH details record
await fleet.ssh("novita", "abc123");
const gone = await fleet.delete("fal", inst.id);
if (gone.alreadyGone) console.log("was already gone");
const stopped = await fleet.stop("novita", "abc123");
console.log(stopped?.status);
await fleet.start("novita", "abc123");
await fleet.restart("novita", "abc123", { timeoutMs: 10_000 });
await fleet.terminate("sfcompute", "inst_1");
const ssh: SshDetails = await fleet.ssh("sfcompute", "inst_1");
console.log(ssh.host, ssh.port, ssh.hostKeys.map((k) => k.keyType));
const caps: Capabilities = fleet.capabilities("novita");
if (caps.operations.includes("stop")) console.log(caps.displayName, caps.pagination, caps.createFields.length);
const reachable: Capabilities[] = await fleet.providers();
const access: "readWrite" | "readOnly" = await fleet.access();
// @ts-expect-error access is one of two words, not any string
const accessWord: "admin" = await fleet.access();
console.log(reachable.map((c) => c.provider), access, accessWord);

try {
  await fleet.get("sfcompute", "inst_missing");
} catch (e) {
  if (isGpufleetError(e)) {
    const err: GpufleetError = e;
    if (err.code === "notFound") console.log("no such instance", err.provider, err.status, err.requestId);
    else if (err.code === "rateLimited") console.log("retry after", err.retryAfterMs);
    else if (err.retryable) console.log("transient", err.message);
    console.log(err.field, err.docsUrl, err.details?.[0]?.message, err instanceof Error);
    // The thrown error is the generated error record (what the proxy answers with) on an Error.
    const record: ErrorInfo = err;
    const thrown: Error = err;
    console.log(record.code, thrown.name, err.cause);
  }
}
fleet.free();

// The proxy's records: a deadline given in the create call, and each instance's deadline on the
// proxy's list, get and create answers (absent from a direct Fleet's).
const timed: Instance = await viaProxy.create(
  "novita",
  { productId: "prod-1", imageUrl: "nginx:latest", gpuNum: 1, rootfsSize: 50 },
  { deadline: { after: 3_600_000, action: "stop" }, timeoutMs: 10_000 },
);
const due: Deadline | undefined = timed.deadline;
if (timed.deadlineError) console.warn("created, but its deadline was not stored:", timed.deadlineError.message);
if (due?.state === "pending") console.log(due.action, new Date(due.atMs), due.attempts, due.lastError ?? "", due.firedAtMs);
const tagged = await viaProxy.create("sfcompute", { image: "image_123", capacity: "cap_123" }, { deadline: { at: new Date(Date.now() + 3_600_000) } });
const mirror: TagMirror | undefined = tagged.deadlineMirror;
if (mirror && !mirror.ok) console.warn(mirror.tag, mirror.error?.message);
await viaProxy.create("fal", { instanceType: "gpu_1x_h100_sxm5", sshKey: "ssh-ed25519 AAAA…" }, { deadline: { at: "2026-12-24T18:00:00Z", action: "delete" } });
for (const i of (await viaProxy.listAll()).instances) if (i.deadline?.state === "failed") console.log(i.id, i.deadline.lastError);
const moved = await viaProxy.setDeadline("sfcompute", tagged.id, { after: 7_200_000 });
console.log(moved.mirror?.ok, (await viaProxy.clearDeadline("sfcompute", tagged.id)).mirror?.value);
// @ts-expect-error: `after` is a number of milliseconds
await viaProxy.create("novita", { productId: "p", imageUrl: "x" }, { deadline: { after: "1h" } });
// @ts-expect-error: not a deadline action
await viaProxy.create("novita", { productId: "p", imageUrl: "x" }, { deadline: { after: 60_000, action: "explode" } });
// @ts-expect-error: a deadline is not a create option of its own name on the input
const notInput: CreateInputMap["novita"] = { productId: "p", imageUrl: "x", deadline: { after: 60_000 } };
console.log(notInput);
viaProxy.free();

// ---- calls that must not type-check ----
// @ts-expect-error: not a provider
await fleet.listPage("aws");
// @ts-expect-error: a Novita filter on an SF Compute listing
await fleet.listPage("sfcompute", { name: "train" });
// @ts-expect-error: SF Compute statuses are a list
await fleet.listPage("sfcompute", { status: "running" });
// @ts-expect-error: fal instance types are a closed set
await fleet.create("fal", { instanceType: "gpu_3x_h100", sshKey: "ssh-ed25519 AAAA…" });
// @ts-expect-error: sshKey is required on fal
await fleet.create("fal", { instanceType: "gpu_1x_h100_sxm5" });
// @ts-expect-error: fal sectors are a closed set
await fleet.create("fal", { instanceType: "gpu_8x_h100_sxm5", sshKey: "k", sector: "sector_9" });
// @ts-expect-error: an SF Compute input is not a Novita input
await fleet.create("novita", { image: "image_123" });
// @ts-expect-error: start may resolve to null
const startedNow: Instance = await fleet.start("novita", "abc123");
// @ts-expect-error: not a normalized status
await fleet.waitFor("fal", "inst_1", { until: "ready" });
// @ts-expect-error: `until` is required
await fleet.waitFor("fal", "inst_1", { maxWaitMs: 1_000 });
// @ts-expect-error: waitFor may resolve to null (waiting for "terminated")
const surely: Instance = await fleet.waitFor("fal", "inst_1", { until: "terminated" });
// @ts-expect-error: misspelt config field
new Fleet({ fal: { apikey: "k" } });
// @ts-expect-error: SF Compute needs a workspace
new Fleet({ sfcompute: { token: "t" } });
// @ts-expect-error: timeoutMs is a number of milliseconds
await fleet.get("fal", "inst_1", { timeoutMs: "5s" });
// @ts-expect-error: capabilities() is synchronous, not a Promise
fleet.capabilities("fal").then(() => {});
// @ts-expect-error: instances() yields Instance
for await (const i of fleet.instances()) console.log(i.hostname);
// @ts-expect-error: listAll() resolves to { instances, errors }, not an array
(await fleet.listAll()).map((i: Instance) => i.id);
// @ts-expect-error: an error code that does not exist
const bogus: GpufleetError["code"] = "notfound";

console.log(startedNow, surely, bogus);
