// The package scenario, the same in every runtime (Node, Chromium, workerd, Deno, Bun).
//
// It uses only what every runtime has (fetch, setTimeout, AbortController) and takes the package
// as an argument, so each runtime's runner imports "gpufleet" its own way (exports-map condition)
// and hands it over:
//
//   const report = await runScenario({ gpufleet, simUrl, runtime: "deno" });
//
// Against the simulated clouds (tests/sim/): resets them (seed 7, 120 instances per provider,
// clock frozen so listings are stable), then
//   1. lists every provider through pagination (listPage), checked against the sim's true state,
//      and the same through `for await (… of fleet.instances())` and listAll();
//   1b. offers (Novita's catalog prices) and balances, against the sim's own books;
//   2. get;
//   3. create (fal), waitFor running while the test moves the sim clock, delete (and delete
//      again → alreadyGone);
//   4. stop (Novita) and wait for stopped; terminate (SF Compute), then delete it;
//   5. errors with the right code: notFound, unauthorized (wrong key), unsupported, invalidInput,
//      aborted; in a browser page, keys without dangerouslyAllowBrowser → invalidInput.
// Throws on the first failed check; returns a report of what it saw.

const PAGE = { fal: 50, "fal-alpha": undefined, sfcompute: 50, novita: 50 };

class CheckFailed extends Error {}

function check(cond, what, detail) {
  if (!cond) throw new CheckFailed(`${what}${detail === undefined ? "" : `: ${typeof detail === "string" ? detail : JSON.stringify(detail)}`}`);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function control(simUrl, path, body) {
  const res = await fetch(`${simUrl}/__sim${path}`, body === undefined ? {} : {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  check(res.ok, `sim control ${path}`, res.status);
  return res.json();
}

export function simConfig(simUrl, overrides = {}) {
  const u = simUrl.replace(/\/+$/, "");
  return {
    fal: { apiKey: "sim-fal-key", baseUrl: `${u}/fal/v1` },
    falAlpha: { apiKey: "sim-fal-key", baseUrl: `${u}/fal-alpha` },
    sfcompute: { token: "sim-sfc-token", workspace: "wksp_simfleet01", baseUrl: `${u}/sfcompute/preview/v2` },
    novita: { apiKey: "sim-novita-key", baseUrl: `${u}/novita/gpu-instance/openapi/v1` },
    retries: { max: 2, baseDelayMs: 20, maxDelayMs: 200 },
    timeoutMs: 10_000,
    ...overrides,
  };
}

async function expectError(promise, code, what) {
  try {
    await promise;
  } catch (e) {
    check(e instanceof Error, `${what}: a real Error`, String(e));
    check(e.name === "GpufleetError", `${what}: name`, e.name);
    check(e.code === code, `${what}: code ${code}`, { code: e.code, message: e.message });
    return e;
  }
  throw new CheckFailed(`${what}: expected a ${code} error, got success`);
}

function expectThrow(fn, code, what) {
  try {
    fn();
  } catch (e) {
    check(e.name === "GpufleetError" && e.code === code, `${what}: code ${code}`, { name: e.name, code: e.code, message: e.message });
    return e;
  }
  throw new CheckFailed(`${what}: expected a ${code} error, got success`);
}

export async function runScenario({ gpufleet, simUrl, runtime = "unknown", log = () => {} }) {
  const { Fleet, isGpufleetError } = gpufleet;
  check(typeof Fleet === "function", "the package exports Fleet");
  const report = { runtime, steps: [] };
  const step = (name, data) => {
    report.steps.push({ name, ...data });
    log(`${runtime}: ${name} ${JSON.stringify(data)}`);
  };
  const t0 = Date.now();

  await control(simUrl, "/reset", { seed: 7, instances: 120, speed: 0 });
  const inPage = typeof window !== "undefined" && typeof document !== "undefined";
  const fleet = new Fleet(simConfig(simUrl, inPage ? { dangerouslyAllowBrowser: true } : {}));

  // 1. every provider, through pagination
  const providers = (await fleet.providers()).map((c) => c.provider);
  check(providers.join() === "fal,fal-alpha,sfcompute,novita", "providers()", providers);
  const listed = {};
  for (const provider of providers) {
    const truth = (await control(simUrl, `/state?provider=${provider}`)).instances.map((i) => i.id);
    const ids = [];
    let pages = 0;
    let cursor;
    for (;;) {
      const query = { ...(PAGE[provider] ? { limit: PAGE[provider] } : {}), ...(cursor ? { cursor } : {}) };
      const page = await fleet.listPage(provider, query);
      pages += 1;
      for (const inst of page.items) {
        check(inst.provider === provider, `${provider} item provider`, inst.provider);
        check(typeof inst.status === "string" && typeof inst.providerStatus === "string", `${provider} status fields`, inst);
        check(inst.raw && typeof inst.raw === "object" && !(inst.raw instanceof Map), `${provider} raw is a plain object`);
        ids.push(inst.id);
      }
      if (!page.hasMore) break;
      check(typeof page.nextCursor === "string", `${provider} nextCursor`, page);
      cursor = page.nextCursor;
      check(pages < 50, `${provider} pagination ends`);
    }
    check(ids.length === truth.length, `${provider}: listed every instance`, { listed: ids.length, truth: truth.length });
    check(new Set(ids).size === ids.length, `${provider}: no duplicates`);
    check(truth.every((id) => ids.includes(id)), `${provider}: the same ids as the sim`);
    if (PAGE[provider]) check(pages >= 3, `${provider}: several pages`, pages);
    listed[provider] = { pages, instances: ids.length };
  }
  step("list every provider through pagination", listed);

  let iterated = 0;
  const running = [];
  for await (const inst of fleet.instances({ providers: ["novita"], status: ["running"], pageSize: 40 })) {
    check(inst.provider === "novita" && inst.status === "running", "instances() filters", inst.status);
    iterated += 1;
    running.push(inst);
  }
  check(iterated > 0, "instances() yielded running Novita instances");
  let early = 0;
  for await (const _ of fleet.instances()) {
    if (++early === 3) break; // leaving early is fine
  }
  const all = await fleet.listAll();
  const total = Object.values(listed).reduce((n, p) => n + p.instances, 0);
  check(all.errors.length === 0, "listAll errors", all.errors);
  check(all.instances.length === total, "listAll instances", { got: all.instances.length, total });
  step("instances() and listAll()", { novitaRunning: iterated, listAll: all.instances.length });

  // 1b. money: offers and balances against the sim's own price list and books (clock frozen)
  const money = await control(simUrl, "/money");
  const offers = await fleet.offers("novita");
  check(offers.errors.length === 0, "offers errors", offers.errors);
  const gpuProducts = money.prices.novita.filter((p) => p.kind === "gpu");
  for (const p of gpuProducts) {
    const o = offers.offers.find((x) => x.provider === "novita" && x.id === p.id);
    check(o, `novita offer ${p.id}`, offers.offers.map((x) => x.id));
    // The catalog's price is in 1/100,000 USD per GPU-hour; the model's in micro-USD.
    check(o.price && o.price.microUsdPerHour === p.price * 10 && o.unit === "gpu", `novita offer ${p.id} price`, { offer: o.price, sim: p.price });
    check(o.raw && o.raw.id === p.id, `novita offer ${p.id} raw`);
  }
  check(offers.offers.every((o) => o.provider === "novita"), "offers(provider) only that provider");
  const balances = await fleet.balances();
  check(balances.errors.length === 0, "balances errors", balances.errors);
  const balanceOf = (provider) => balances.balances.find((b) => b.provider === provider);
  // Novita's balance is in 1/10,000 USD (cash + credit − outstanding); fal's in micro-USD.
  check(balanceOf("novita")?.available.microUsd === money.balances.novita.available * 100, "novita balance", { got: balanceOf("novita"), sim: money.balances.novita });
  check(balanceOf("fal")?.available.microUsd === money.balances.fal.micro, "fal balance", { got: balanceOf("fal"), sim: money.balances.fal });
  const sfc = balanceOf("sfcompute");
  check(sfc && Number.isInteger(sfc.available.microUsd) && sfc.available.microUsd % 10_000 === 0, "sfcompute balance in whole cents", sfc);
  step("offers() and balances()", { novitaOffers: gpuProducts.length, balances: balances.balances.map((b) => b.provider) });

  // 2. get
  const sample = all.instances.find((i) => i.provider === "sfcompute");
  const got = await fleet.get("sfcompute", sample.id);
  check(got.id === sample.id && got.provider === "sfcompute", "get", got.id);
  step("get", { provider: "sfcompute", id: got.id, status: got.status });

  // 3. create (fal) → wait until running (moving the sim clock) → delete
  const created = await fleet.create("fal", { instanceType: "gpu_1x_h100_sxm5", sshKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM1outtTd7rm8LaDTtENTqynJVQeK/YgFBsxefmB6Cu2 scenario" });
  check(created.provider === "fal" && typeof created.id === "string", "create", created);
  check(created.status === "pending" || created.status === "provisioning", "a new instance is not running yet", created.status);
  const polled = [];
  const waiting = fleet.waitFor("fal", created.id, {
    until: "running",
    minDelayMs: 20,
    maxDelayMs: 60,
    maxWaitMs: 60_000,
    onPoll: (i) => polled.push(i.status),
  });
  let done = false;
  waiting.then(() => (done = true), () => (done = true));
  for (let i = 0; i < 40 && !done; i++) {
    await sleep(40);
    await control(simUrl, "/advance", { ms: 4_000 });
  }
  const ready = await waiting;
  check(ready && ready.status === "running", "waitFor running", ready && ready.status);
  check(polled.length >= 2 && polled.at(-1) === "running", "onPoll saw the instance change", polled);
  const deleted = await fleet.delete("fal", created.id);
  check(deleted.alreadyGone === false, "delete", deleted);
  const again = await fleet.delete("fal", created.id);
  check(again.alreadyGone === true, "delete again: alreadyGone", again);
  step("create, waitFor running, delete", { id: created.id, polled, deleted, again });

  // 4. stop (Novita), terminate (SF Compute)
  const victim = running[0];
  const stopped = await fleet.stop("novita", victim.id);
  check(stopped === null || typeof stopped === "object", "stop resolves to an instance or null");
  const waitStop = fleet.waitFor("novita", victim.id, { until: "stopped", minDelayMs: 20, maxDelayMs: 60, maxWaitMs: 60_000 });
  let stopDone = false;
  waitStop.then(() => (stopDone = true), () => (stopDone = true));
  for (let i = 0; i < 40 && !stopDone; i++) {
    await sleep(40);
    await control(simUrl, "/advance", { ms: 2_000 });
  }
  const afterStop = await waitStop;
  check(afterStop.status === "stopped" && afterStop.providerStatus === "exited", "novita stopped", afterStop.providerStatus);
  const sfcRunning = all.instances.find((i) => i.provider === "sfcompute" && i.status === "running");
  await expectError(fleet.delete("sfcompute", sfcRunning.id), "conflict", "deleting a running SF Compute instance");
  await fleet.terminate("sfcompute", sfcRunning.id);
  const terminated = await fleet.get("sfcompute", sfcRunning.id);
  check(terminated.status === "terminated" || terminated.status === "terminating", "sfcompute terminated", terminated.status);
  const sfcDeleted = await fleet.delete("sfcompute", sfcRunning.id);
  step("stop (Novita), terminate + delete (SF Compute)", { novita: victim.id, sfcompute: sfcRunning.id, sfcDeleted });

  // 5. errors with the right code
  const notFound = await expectError(fleet.get("fal", "inst_doesnotexist"), "notFound", "get a missing instance");
  check(notFound.provider === "fal" && notFound.status === 404 && notFound.retryable === false, "notFound fields", notFound);
  check(isGpufleetError(notFound), "isGpufleetError");
  const wrongKey = new Fleet(simConfig(simUrl, { novita: { apiKey: "wrong-key", baseUrl: `${simUrl}/novita/gpu-instance/openapi/v1` }, ...(inPage ? { dangerouslyAllowBrowser: true } : {}) }));
  const unauthorized = await expectError(wrongKey.listPage("novita"), "unauthorized", "a wrong key");
  check(unauthorized.status === 401 && unauthorized.provider === "novita", "unauthorized fields", unauthorized);
  check(!unauthorized.message.includes("wrong-key"), "the key is not in the message");
  const withErrors = await wrongKey.listAll();
  check(withErrors.errors.length === 1 && withErrors.errors[0].provider === "novita" && withErrors.errors[0].error.code === "unauthorized",
    "listAll reports the failing provider beside the others", withErrors.errors);
  const others = (await fleet.listAll({ providers: ["fal", "fal-alpha", "sfcompute"] })).instances.length;
  check(withErrors.instances.length === others, "the others still answer", { got: withErrors.instances.length, others });
  await expectError(fleet.stop("fal", created.id), "unsupported", "stop on fal");
  const badInput = await expectError(fleet.create("fal", { instanceType: "gpu_3x", sshKey: "k" }), "invalidInput", "a bad instance type");
  check(typeof badInput.field === "string" && badInput.field.includes("instanceType"), "invalidInput names the field", badInput.field);
  const badConfig = expectThrow(() => new Fleet({ sfcompute: { token: "t" } }), "invalidInput", "a config without workspace");
  check(badConfig.field === "sfcompute", "config error names the field", badConfig.field);
  const controller = new AbortController();
  const aborting = fleet.waitFor("fal", all.instances.find((i) => i.provider === "fal").id, { until: "terminated", minDelayMs: 30_000, signal: controller.signal });
  await sleep(30);
  const abortedAt = Date.now();
  controller.abort("scenario cancelled");
  const aborted = await expectError(aborting, "aborted", "an aborted waiter");
  check(Date.now() - abortedAt < 2_000, "the abort settled at once", Date.now() - abortedAt);
  check(aborted.cause === "scenario cancelled", "aborted cause", aborted.cause);
  if (inPage) {
    expectThrow(() => new Fleet({ fal: { apiKey: "k" } }), "invalidInput", "a provider key in a page without dangerouslyAllowBrowser");
  }
  step("errors", {
    notFound: notFound.message,
    unauthorized: unauthorized.message,
    invalidInput: badInput.field,
    aborted: aborted.message,
    browserKeyRefused: inPage,
  });

  wrongKey.free();
  fleet.free();
  report.ms = Date.now() - t0;
  report.ok = true;
  return report;
}

// ---------------------------------------------------------------------------------------------
// Proxy mode: the same API through the gpufleet edge proxy (pkg/worker.js in workerd), which
// holds the provider keys. `proxyUrl` is the proxy's API base (…/api), `token` its bearer token.
export async function runProxyScenario({ gpufleet, simUrl, proxyUrl, token, runtime = "unknown", log = () => {} }) {
  const { Fleet } = gpufleet;
  const report = { runtime, mode: "proxy", steps: [] };
  const step = (name, data) => {
    report.steps.push({ name, ...data });
    log(`${runtime} (proxy): ${name} ${JSON.stringify(data)}`);
  };
  await control(simUrl, "/reset", { seed: 11, instances: 120, speed: 0 });
  const fleet = new Fleet({ proxy: { url: proxyUrl, token }, retries: { max: 1, baseDelayMs: 20 } });
  check(fleet.proxyMode === true, "proxyMode");

  const providers = (await fleet.providers()).map((c) => c.provider).sort();
  check(providers.join() === "fal,fal-alpha,novita,sfcompute", "providers() asked from the proxy", providers);
  const counts = {};
  for (const provider of ["fal", "sfcompute", "novita"]) {
    const truth = (await control(simUrl, `/state?provider=${provider}`)).instances.length;
    let n = 0;
    let pages = 0;
    let cursor;
    for (;;) {
      const page = await fleet.listPage(provider, { limit: 50, ...(cursor ? { cursor } : {}) });
      pages += 1;
      n += page.items.length;
      if (!page.hasMore) break;
      cursor = page.nextCursor;
      check(pages < 50, `${provider} pagination ends`);
    }
    check(n === truth && pages >= 3, `${provider} through the proxy: every instance, several pages`, { n, truth, pages });
    counts[provider] = { pages, instances: n };
  }
  const all = await fleet.listAll({ status: ["running"] });
  check(all.errors.length === 0 && all.instances.length > 0 && all.instances.every((i) => i.status === "running"), "listAll through the proxy", all.errors);
  let iterated = 0;
  for await (const inst of fleet.instances({ providers: ["sfcompute"], pageSize: 30 })) {
    check(inst.provider === "sfcompute", "instances() through the proxy");
    iterated += 1;
  }
  check(iterated === counts.sfcompute.instances, "instances() walked every page", { iterated });
  step("list through the proxy", { ...counts, runningEverywhere: all.instances.length });

  const created = await fleet.create("fal", { instanceType: "gpu_1x_h100_sxm5", sshKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM1outtTd7rm8LaDTtENTqynJVQeK/YgFBsxefmB6Cu2 proxy" });
  const waiting = fleet.waitFor("fal", created.id, { until: "running", minDelayMs: 20, maxDelayMs: 60, maxWaitMs: 60_000 });
  let done = false;
  waiting.then(() => (done = true), () => (done = true));
  for (let i = 0; i < 40 && !done; i++) {
    await sleep(40);
    await control(simUrl, "/advance", { ms: 4_000 });
  }
  const ready = await waiting;
  check(ready.status === "running", "waitFor through the proxy", ready.status);
  check((await fleet.get("fal", created.id)).id === created.id, "get through the proxy");
  const victim = all.instances.find((i) => i.provider === "novita");
  await fleet.stop("novita", victim.id);
  const deleted = await fleet.delete("fal", created.id);
  check(deleted.alreadyGone === false, "delete through the proxy", deleted);
  step("create, waitFor, get, stop, delete through the proxy", { id: created.id, novita: victim.id });

  const notFound = await expectError(fleet.get("fal", "inst_doesnotexist"), "notFound", "a missing instance through the proxy");
  check(notFound.provider === "fal", "the proxy keeps the provider", notFound);
  await expectError(fleet.stop("fal", created.id), "unsupported", "stop on fal through the proxy");
  const badToken = new Fleet({ proxy: { url: proxyUrl, token: "not-the-token" } });
  const unauthorized = await expectError(badToken.listPage("fal"), "unauthorized", "a wrong proxy token");
  check(unauthorized.provider === undefined, "a proxy 401 names no provider", unauthorized);
  await expectError(badToken.providers(), "unauthorized", "providers() with a wrong proxy token");
  step("errors through the proxy", { notFound: notFound.message, unauthorized: unauthorized.message });

  // The proxy's records (D1): a deadline as a Date, an ISO string and ms; the audit log of this
  // scenario's own mutations, with the caller; the orphan report.
  const target = all.instances.find((i) => i.provider === "sfcompute");
  const at = new Date(Date.now() + 3_600_000);
  const set = await fleet.setDeadline("sfcompute", target.id, { at });
  check(set.deadline.atMs === at.getTime() && set.deadline.action === "terminate" && set.deadline.setBy === "token" && set.previous === undefined, "setDeadline(at: Date), SF Compute's default action", set);
  const iso = new Date(Date.now() + 7_200_123).toISOString();
  const moved = await fleet.setDeadline("sfcompute", target.id, { at: iso, action: "delete" });
  check(moved.deadline.atMs === Date.parse(iso) && moved.deadline.action === "delete" && moved.previous?.atMs === at.getTime(), "setDeadline(at: ISO) replaces, to the ms", moved);
  const listed = await fleet.deadlines();
  check(listed.deadlines.some((d) => d.instanceId === target.id && d.state === "pending"), "deadlines()", listed);
  await expectError(fleet.setDeadline("sfcompute", target.id, { after: 60_000, at }), "invalidInput", "setDeadline with at and after");
  await expectError(fleet.setDeadline("fal", "inst_x", { after: 60_000, action: "stop" }), "invalidInput", "a deadline action fal does not have");
  const cleared = await fleet.clearDeadline("sfcompute", target.id);
  check(cleared.cleared?.instanceId === target.id, "clearDeadline()", cleared);
  const audit = await fleet.audit({ caller: "token", limit: 500 });
  const actions = new Set(audit.entries.map((e) => `${e.action} ${e.instanceId}`));
  for (const want of [`create ${created.id}`, `stop ${victim.id}`, `delete ${created.id}`, `deadline.set ${target.id}`, `deadline.changed ${target.id}`, `deadline.cleared ${target.id}`]) {
    check(actions.has(want), `audit(): ${want}`, [...actions]);
  }
  check(audit.entries.every((e) => e.caller === "token"), "audit({ caller })", audit.entries.slice(0, 3));
  const page = await fleet.audit({ limit: 2 });
  const next = await fleet.audit({ limit: 2, before: page.nextCursor });
  check(page.entries.length === 2 && next.entries.length === 2 && next.entries[0].seq < page.entries[1].seq, "audit() pages by cursor", { page, next });
  const orphans = await fleet.orphans({ olderThanMs: 60_000 });
  check(Array.isArray(orphans.orphans) && orphans.olderThanMs === 60_000 && !orphans.orphans.some((o) => o.id === created.id), "orphans()", orphans.orphans.length);
  step("records through the proxy", { audited: audit.entries.length, orphans: orphans.orphans.length });

  // A deadline given in the create call, and the instances carrying their deadlines.
  const falCount = async () => (await control(simUrl, "/state?provider=fal")).instances.length;
  const falInput = { instanceType: "gpu_1x_h100_sxm5", sshKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM1outtTd7rm8LaDTtENTqynJVQeK/YgFBsxefmB6Cu2 deadline" };
  const timed = await fleet.create("fal", falInput, { deadline: { after: 3_600_000 } });
  check(timed.deadline?.instanceId === timed.id && timed.deadline.action === "delete" && timed.deadline.state === "pending" && timed.deadlineError === undefined, "create(…, { deadline }): the stored deadline on the instance", timed);
  const got = await fleet.get("fal", timed.id);
  check(got.deadline?.atMs === timed.deadline.atMs && got.deadline.setBy === "token", "get(): instance.deadline", got.deadline);
  const seen = await fleet.listAll({ providers: ["fal"] });
  const mine = seen.instances.find((i) => i.id === timed.id);
  check(mine?.deadline?.state === "pending" && seen.instances.filter((i) => i.deadline).length === 1, "listAll(): only the instance with a deadline has one", seen.instances.filter((i) => i.deadline).map((i) => i.id));
  check(typeof mine.raw === "object" && mine.raw.id === timed.id, "listAll(): raw beside the deadline", mine.raw);
  const onPage = [];
  for await (const inst of fleet.instances({ providers: ["fal"], pageSize: 100 })) if (inst.deadline) onPage.push(inst);
  check(onPage.length === 1 && onPage[0].id === timed.id, "instances(): the deadline on its page", onPage.map((i) => i.id));
  const sfc = (await control(simUrl, "/state?provider=sfcompute")).instances[0];
  const when = new Date(Date.now() + 5_400_000);
  const tagged = await fleet.create("sfcompute", { name: "deadline-scenario", capacity: sfc.capacity.id, image: sfc.image.id }, { deadline: { at: when } });
  check(tagged.deadline?.atMs === when.getTime() && tagged.deadline.action === "terminate" && tagged.deadlineMirror?.ok === true && tagged.tags?.["gpufleet-deadline"] === tagged.deadlineMirror.value, "create(sfcompute, …, { deadline: { at: Date } }): the tag mirrored", tagged);
  const before = await falCount();
  const badDeadline = await expectError(fleet.create("fal", falInput, { deadline: { after: 60_000, action: "stop" } }), "invalidInput", "a create with a deadline action fal does not have");
  check(badDeadline.field === "deadline.action", "the bad deadline's field", badDeadline);
  await expectError(fleet.create("fal", falInput, { deadline: { after: 60_000, at: when } }), "invalidInput", "a create with at and after");
  // A direct Fleet holds provider keys: in a page only with dangerouslyAllowBrowser.
  const inPage = typeof window !== "undefined" && typeof document !== "undefined";
  const direct = new Fleet(simConfig(simUrl, inPage ? { dangerouslyAllowBrowser: true } : {}));
  const refused = await expectError(direct.create("fal", falInput, { deadline: { after: 60_000 } }), "unsupported", "a direct Fleet given a deadline");
  check(/proxy/.test(refused.message), "says the proxy keeps deadlines", refused.message);
  check((await falCount()) === before, "nothing was created by the refused creates", { before });
  const direct1 = await direct.get("fal", timed.id);
  check(direct1.deadline === undefined, "a direct Fleet never sets deadline", direct1.deadline);
  direct.free();
  await fleet.delete("fal", timed.id);
  await fleet.clearDeadline("fal", timed.id);
  step("deadlines in the create call and on instances", { fal: timed.id, sfcompute: tagged.id, tag: tagged.deadlineMirror.value });

  badToken.free();
  fleet.free();
  report.ok = true;
  return report;
}
