// The money endpoints of the simulated clouds (novita.mjs, fal.mjs, sfcompute.mjs; billing in
// money.mjs): shapes and units, auth, parameter errors, faults, the exact URLs gpufleet's client
// builds, and billing that accrues on the sim clock. Shapes against the derived schemas are in
// conformance.test.mjs.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { testSim } from "./helpers.mjs";
import { SIM_KEYS, AUTH_HEADERS, SIBLING_PATHS, baseUrls } from "./defaults.mjs";
import { LIFECYCLE } from "./fleet.mjs";
import { NOVITA_ALL_PRODUCTS, FAL_PRICES, SFC_PRICES } from "./catalog.mjs";
import { OPENING, roundDiv, CYCLES, billedIntervals, secondsByHour } from "./money.mjs";

const HOUR = 3_600_000;
const EPOCH_S = Date.parse("2026-11-01T00:00:00Z") / 1000;
const BALANCE = "/openapi/v1/billing/balance/detail";
const BILLS = "/openapi/v1/billing/bill/list";
const NOVITA_CREATE = { productId: "prod-h100sxm-80g", gpuNum: 2, rootfsSize: 100, imageUrl: "vllm/vllm-openai:v0.6.4", kind: "gpu" };
const SKU = "isku_h100x8ib0001";

const novitaErr = (r, status, reason) => {
  assert.equal(r.status, status, r.text);
  assert.deepEqual(Object.keys(r.json), ["code", "reason", "message", "metadata"]);
  if (reason) assert.equal(r.json.reason, reason, r.text);
};
const sfcErr = (r, status, type) => {
  assert.equal(r.status, status, r.text);
  assert.equal(r.json.error.type, type, r.text);
  assert.equal(typeof r.json.error.message, "string");
};
const falErr = (r, status, type) => {
  assert.equal(r.status, status, r.text);
  assert.equal(r.json.error.type, type, r.text);
  assert.match(r.json.error.request_id, /^req_sim/);
};
const nowSec = async (t) => Math.floor((await t.control("GET", "/clock")).json.now / 1000);

/** ProviderConfig::sibling_url (src/provider.rs), mirrored: the base with its trailing api root replaced. */
function siblingUrl(base, apiRoot, path) {
  const b = base.trim().replace(/\/+$/, "");
  if (b.endsWith(apiRoot)) return b.slice(0, b.length - apiRoot.length) + path;
  const u = new URL(b);
  return u.origin + path;
}

describe("money: the URLs gpufleet's client builds", () => {
  let t;
  before(async () => {
    t = await testSim({ instances: 5 });
  });
  after(() => t.close());

  test("every money request of the Rust builders, from the configured base URLs, answers 200", async () => {
    const base = baseUrls(t.url);
    const now = EPOCH_S;
    const start = Math.ceil(now / 60) * 60;
    const [one] = await t.state("novita");
    const requests = [
      // novita.rs build_products_request: config.url("/products")
      ["novita", `${base.novita}/products`],
      // novita.rs build_balance_request / build_bill_request: sibling_url("/gpu-instance/openapi/v1", …)
      ["novita", siblingUrl(base.novita, "/gpu-instance/openapi/v1", BALANCE)],
      ["novita", siblingUrl(base.novita, "/gpu-instance/openapi/v1", `${BILLS}?cycleType=Hour&productCategory=gpu&startTime=${now - 86_400}&endTime=${now}&ownerId=${one.id}`)],
      // fal.rs build_balance_request: config.url("/account/billing?expand=credits")
      ["fal", `${base.fal}/account/billing?expand=credits`],
      // sfcompute.rs build_quote_request: config.url("/orderbook/quote?requirements=instance_sku:<sku>&start_at&end_at"), the colon percent-encoded
      ["sfcompute", `${base.sfcompute}/orderbook/quote?requirements=instance_sku%3A${SKU}&start_at=${start}&end_at=${start + 3600}`],
      // sfcompute.rs build_balance_request: sibling_url("/preview/v2", "/v1/balances")
      ["sfcompute", siblingUrl(base.sfcompute, "/preview/v2", "/v1/balances")],
      // sfcompute.rs build_legacy_balance_request (asked only when v1 answers 404): sibling_url("/preview/v2", "/v0/balance")
      ["sfcompute", siblingUrl(base.sfcompute, "/preview/v2", "/v0/balance")],
    ];
    assert.equal(requests[1][1], `${t.url}/novita/openapi/v1/billing/balance/detail`);
    assert.equal(requests[5][1], `${t.url}/sfcompute/v1/balances`);
    assert.equal(requests[6][1], `${t.url}/sfcompute/v0/balance`);
    for (const [p, url] of requests) {
      const headers = { authorization: AUTH_HEADERS[p] };
      if (p === "novita") headers["content-type"] = "application/json";
      const r = await fetch(url, { headers });
      assert.equal(r.status, 200, `${url}: ${await r.text()}`);
      assert.match(r.headers.get("content-type"), /^application\/json/);
      assert.match(r.headers.get("x-request-id"), /^req_sim/);
    }
    const log = (await t.control("GET", "/requests")).json;
    assert.deepEqual(log.slice(-requests.length).map((e) => e.provider), requests.map(([p]) => p), "each is logged under its provider");
    assert.deepEqual((await t.control("GET", "/config")).json.siblingPaths, SIBLING_PATHS);
    assert.deepEqual((await (await fetch(t.url + "/")).json()).siblingPaths, SIBLING_PATHS);
  });

  test("what the client's parsers read is there, in the units they assume", async () => {
    // novita parse_products_response: data[].id, price (whole 1/100,000 USD), spotPrice (text), billingMethods
    const products = (await t.call("novita", "GET", "/products")).json.data;
    for (const p of products) {
      assert.ok(Number.isInteger(p.price) && p.price > 0, p.id);
      assert.match(p.spotPrice, /^\d+$/, p.id);
      const micro = p.price * 10; // PRICE_UNITS_PER_USD = 100,000
      assert.ok(micro >= 10_000 && micro <= 100_000_000, `${p.id}: $${micro / 1e6} per GPU-hour is in the client's plausible range`);
    }
    // novita parse_balance_response: availableBalance and the details, integers as text (1/10,000 USD)
    const b = (await t.call("novita", "GET", BALANCE, { root: true })).json;
    for (const k of ["availableBalance", "cashBalance", "creditLimit", "pendingCharges", "outstandingInvoices"]) assert.match(b[k], /^-?\d+$/, k);
    // fal parse_balance_response: credits.current_balance (number), currency USD
    const f = (await t.call("fal", "GET", "/account/billing", { query: { expand: "credits" } })).json;
    assert.equal(typeof f.credits.current_balance, "number");
    assert.equal(f.credits.currency, "USD");
    // sfcompute parse_quote_response: best_ask absent or null (no ask, no price) or {dollars_per_node_hour}
    const q = (await t.call("sfcompute", "GET", "/orderbook/quote", { query: { requirements: `instance_sku:${SKU}`, start_at: EPOCH_S, end_at: EPOCH_S + 3600 } })).json;
    assert.ok("best_ask" in q);
    assert.equal(q.best_ask.dollars_per_node_hour, "14.000000");
    // sfcompute parse_balance_response: available_balance_cents (v1), else available.amount (v0), cents
    const s1 = (await t.call("sfcompute", "GET", "/v1/balances", { root: true })).json;
    assert.equal(s1.available_balance_cents, OPENING.sfcCents);
    for (const k of ["current_balance_cents", "current_overage_cents", "overage_limit_cents"]) assert.ok(Number.isInteger(s1[k]), k);
    const s = (await t.call("sfcompute", "GET", "/v0/balance", { root: true })).json;
    assert.equal(s.available.amount, OPENING.sfcCents);
    assert.equal(s.available.currency, "usd");
  });
});

describe("money: Novita products", () => {
  let t;
  const products = (query) => t.call("novita", "GET", "/products", { query });
  const ids = (r) => r.json.data.map((p) => p.id);
  before(async () => {
    t = await testSim({ instances: 20 });
  });
  after(() => t.close());

  test("every GPU product of the catalog, with the sim's prices in 1/100,000 USD per GPU-hour", async () => {
    const r = await products();
    assert.equal(r.status, 200);
    const gpu = NOVITA_ALL_PRODUCTS.filter((p) => p.kind === "gpu");
    assert.deepEqual(ids(r), gpu.map((p) => p.id), "CPU products are not in List GPU Products");
    const by = Object.fromEntries(r.json.data.map((p) => [p.id, p]));
    assert.equal(by["prod-h100sxm-80g"].price, 249_000); // $2.49
    assert.equal(by["prod-h100sxm-80g"].spotPrice, "124500");
    assert.equal(by["prod-rtx4090-24g"].price, 35_000); // $0.35
    assert.deepEqual(Object.keys(by["prod-rtx4090-24g"]), [
      "id", "name", "cpuPerGpu", "memoryPerGpu", "diskPerGpu", "availableDeploy", "minRootFS", "maxRootFS", "minLocalStorage", "maxLocalStorage",
      "regions", "price", "monthlyPrice", "billingMethods", "spotPrice",
    ]);
    const noSpot = r.json.data.filter((p) => !p.billingMethods.includes("spot"));
    assert.deepEqual(noSpot.map((p) => [p.id, p.spotPrice]), [["prod-a6000-48g", "0"]]);
    assert.deepEqual(r.json.data.filter((p) => !p.availableDeploy).map((p) => p.id), ["prod-b200sxm-180g"]);
    for (const p of r.json.data) {
      assert.ok(Array.isArray(p.regions) && p.regions.length > 0);
      assert.equal(p.minRootFS, 10);
      for (const m of p.monthlyPrice) assert.ok(Number.isInteger(m.price) && m.price < p.price * 720 * m.month);
    }
  });

  test("the documented filters", async () => {
    assert.deepEqual(ids(await products({ productName: "h100" })), ["prod-h100sxm-80g"]);
    assert.ok(!ids(await products({ billingMethod: "spot" })).includes("prod-a6000-48g"));
    assert.ok(ids(await products({ billingMethod: "onDemand" })).includes("prod-a6000-48g"));
    const eu = ids(await products({ clusterId: "cls-eu-nl-01" }));
    assert.ok(eu.includes("prod-a6000-48g") && !eu.includes("prod-b200sxm-180g"));
    const us = ids(await products({ clusterId: "cls-us-ca-01" }));
    assert.ok(!us.includes("prod-a6000-48g") && us.includes("prod-b200sxm-180g"));
    assert.deepEqual(ids(await products({ clusterId: "cls-nowhere" })), []);
    assert.deepEqual(ids(await products({ minMemoryPerGpu: 200 })), ["prod-h100sxm-80g", "prod-h200sxm-141g", "prod-b200sxm-180g"]);
    assert.deepEqual(ids(await products({ minCpuPerGpu: 25 })), ["prod-b200sxm-180g"]);
    assert.deepEqual(ids(await products({ minRootFSSize: 6000 })), ["prod-h100sxm-80g", "prod-h200sxm-141g", "prod-b200sxm-180g"]);
    assert.equal(ids(await products({ gpuNum: 8 })).length, 10);
    for (const [query, name] of [[{ gpuNum: 9 }, "gpuNum"], [{ gpuNum: "x" }, "gpuNum"], [{ minCpuPerGpu: -1 }, "minCpuPerGpu"], [{ billingMethod: "hourly" }, "billingMethod"], [{ productName: "x".repeat(256) }, "productName"]]) {
      const r = await products(query);
      novitaErr(r, 400, "VALIDATOR_PARAM");
      assert.match(r.json.message, new RegExp(name));
    }
  });

  test("creates follow the catalog: sold out, no spot, outside the product's regions → 400 PRODUCT_UNAVAILABLE", async () => {
    const create = (body) => t.call("novita", "POST", "/gpu/instance/create", { body: { ...NOVITA_CREATE, gpuNum: 1, ...body } });
    novitaErr(await create({ productId: "prod-b200sxm-180g" }), 400, "PRODUCT_UNAVAILABLE");
    novitaErr(await create({ productId: "prod-a6000-48g", billingMode: "spot" }), 400, "PRODUCT_UNAVAILABLE");
    novitaErr(await create({ productId: "prod-a6000-48g", clusterId: "cls-us-ca-01" }), 400, "PRODUCT_UNAVAILABLE");
    const ok = await create({ productId: "prod-a6000-48g" });
    assert.equal(ok.status, 200, ok.text);
    const got = await t.call("novita", "GET", "/gpu/instance", { query: { instanceId: ok.json.id } });
    assert.ok(["cls-eu-nl-01", "cls-eu-de-02"].includes(got.json.clusterId), "a random cluster among the product's regions");
    assert.equal((await create({ productId: "prod-a6000-48g", clusterId: "cls-eu-de-02", month: 3 })).status, 200);
  });

  test("auth and Content-Type like every Novita route; faults by path", async () => {
    for (const [p, root] of [["/products", false], [BALANCE, true], [`${BILLS}?cycleType=Hour&productCategory=gpu&startTime=1&endTime=2`, true]]) {
      novitaErr(await t.call("novita", "GET", p, { root, auth: false }), 401, "UNAUTHORIZED");
      novitaErr(await t.call("novita", "GET", p, { root, auth: "Bearer nope" }), 401, "UNAUTHORIZED");
      novitaErr(await t.call("novita", "GET", p, { root, auth: `Bearer ${SIM_KEYS.novitaForbidden}` }), 403, "FORBIDDEN");
      novitaErr(await t.call("novita", "GET", p, { root, contentType: false }), 400, "INVALID_CONTENT_TYPE");
      novitaErr(await t.call("novita", "POST", p, { root, body: {} }), 405, "METHOD_NOT_ALLOWED");
    }
    novitaErr(await t.call("novita", "GET", "/openapi/v1/billing/nothing", { root: true }), 404, "NOT_FOUND");
    await t.control("POST", "/faults", { provider: "novita", kinds: ["500"], paths: ["/products"] });
    await t.control("POST", "/faults", { provider: "novita", kinds: ["429"], paths: ["/billing/balance"], retryAfterSeconds: 7 });
    try {
      novitaErr(await t.call("novita", "GET", "/products"), 500);
      const limited = await t.call("novita", "GET", BALANCE, { root: true });
      novitaErr(limited, 429, "RATE_LIMIT_EXCEEDED");
      assert.equal(limited.headers.get("retry-after"), "7");
      assert.equal((await t.call("novita", "GET", "/gpu/instances", { query: { pageSize: 1, pageNum: 1 } })).status, 200, "other paths are not faulted");
      const log = (await t.control("GET", "/requests?provider=novita")).json;
      assert.deepEqual(log.slice(-3).map((e) => e.fault ?? null), ["500", "429", null]);
    } finally {
      await t.control("DELETE", "/faults");
    }
  });
});

describe("money: Novita balance and bills on the sim clock", () => {
  let t;
  const balance = async () => (await t.call("novita", "GET", BALANCE, { root: true })).json;
  const bills = (query) => t.call("novita", "GET", BILLS, { root: true, query });
  const create = async (body) => {
    const r = await t.call("novita", "POST", "/gpu/instance/create", { body: { ...NOVITA_CREATE, ...body } });
    assert.equal(r.status, 200, r.text);
    return r.json.id;
  };
  const act = (verb, instanceId) => t.call("novita", "POST", `/gpu/instance/${verb}`, { body: { instanceId } });
  const get = async (id) => (await t.call("novita", "GET", "/gpu/instance", { query: { instanceId: id } })).json;
  before(async () => {
    t = await testSim({ instances: 0 });
  });
  after(() => t.close());

  test("the balance opens at the epoch as documented: $500 cash + $20 credit, nothing owed", async () => {
    assert.deepEqual(await balance(), { availableBalance: "5200000", cashBalance: "5000000", creditLimit: "200000", pendingCharges: "0", outstandingInvoices: "0" });
  });

  test("an on-demand instance bills from pulling, per clock hour, price × GPUs, in 1/10,000 USD", async () => {
    await t.control("POST", "/reset", { instances: 0 });
    const id = await create({}); // 2 × H100 at 249000 / 100,000 USD per GPU-hour; created at the epoch
    await t.advance(HOUR);
    // pulling at +5 s: 3595 s billed in the first hour
    const first = roundDiv(249_000 * 2 * 3595, 36_000);
    assert.equal(first, 49_731);
    assert.equal((await balance()).cashBalance, String(5_000_000 - first));
    await t.advance(HOUR / 2);
    const second = roundDiv(249_000 * 2 * 1800, 36_000);
    assert.equal(second, 24_900); // a whole half hour: $2.49 exactly
    const b = await balance();
    assert.equal(b.cashBalance, String(5_000_000 - first - second));
    assert.equal(b.availableBalance, String(5_200_000 - first - second));
    const now = await nowSec(t);
    const r = await bills({ cycleType: "Hour", productCategory: "gpu", startTime: EPOCH_S, endTime: now, ownerId: id });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(
      r.json.bills.map((x) => [x.startTime, x.endTime, x.billNum0, x.basePrice0, x.amount, x.payAmount, x.payAmountDisplay, x.billingMethod, x.ownerID, x.productId, x.category]),
      [
        [String(EPOCH_S), String(EPOCH_S + 3599), "7190", "249000", "49731", "49731", 4.9731, 1, id, "prod-h100sxm-80g", "gpu"],
        [String(EPOCH_S + 3600), String(EPOCH_S + 7199), "3600", "249000", "24900", "24900", 2.49, 1, id, "prod-h100sxm-80g", "gpu"],
      ],
    );
    const day = await bills({ cycleType: "Day", productCategory: "gpu", startTime: EPOCH_S, endTime: now, ownerId: id });
    assert.deepEqual(day.json.bills.map((x) => [x.startTime, x.endTime, x.amount, x.billNum0]), [[String(EPOCH_S), String(EPOCH_S + 86_399), String(first + second), "10790"]]);

    // stop: billed until exited (+5 s), then nothing; start: billed again from running's approach
    const stopAt = await nowSec(t);
    assert.equal((await act("stop", id)).status, 200);
    await t.advance(HOUR);
    const stopped = await get(id);
    assert.equal(stopped.status, "exited");
    assert.equal(stopped.lastStoppedAt, String(stopAt + 5));
    assert.equal(stopped.lastStartedAt, String(EPOCH_S + 12), "entered running 12 s after the create");
    const third = roundDiv(249_000 * 2 * 5, 36_000);
    assert.equal((await balance()).cashBalance, String(5_000_000 - first - second - third));
    const after1 = await bills({ cycleType: "Hour", productCategory: "gpu", startTime: EPOCH_S, endTime: await nowSec(t), ownerId: id });
    assert.deepEqual(after1.json.bills.map((x) => x.amount), ["49731", String(second + third)], "the stop's 5 s join the second hour");
  });

  test("spot bills at spotPrice (billingMethod 3); monthly instances have no usage bills; deleted ones keep theirs", async () => {
    await t.control("POST", "/reset", { instances: 0 });
    const spot = await create({ productId: "prod-rtx4090-24g", gpuNum: 1, billingMode: "spot" });
    const monthly = await create({ month: 1 });
    const gone = await create({ productId: "prod-l40s-48g", gpuNum: 4 });
    await t.advance(HOUR);
    assert.equal((await act("delete", gone)).status, 200);
    await t.advance(2 * HOUR); // removed and vanished (LIFECYCLE.novita.delete)
    assert.equal((await t.call("novita", "GET", "/gpu/instance", { query: { instanceId: gone } })).json.reason, "RESOURCE_NOT_FOUND");
    const now = await nowSec(t);
    const all = (await bills({ cycleType: "Hour", productCategory: "gpu", startTime: EPOCH_S, endTime: now })).json.bills;
    assert.deepEqual([...new Set(all.map((b) => b.ownerID))].sort(), [spot, gone].sort(), "no monthly bills");
    const spotBills = all.filter((b) => b.ownerID === spot);
    assert.deepEqual(spotBills.map((b) => [b.billingMethod, b.basePrice0, b.amount]), [
      [3, "17500", String(roundDiv(17_500 * 3595, 36_000))],
      [3, "17500", "1750"],
      [3, "17500", "1750"],
    ]);
    const goneBills = all.filter((b) => b.ownerID === gone);
    assert.deepEqual(goneBills.map((b) => b.amount), [String(roundDiv(55_000 * 4 * 3595, 36_000))], "billed until toRemove");
    const charged = all.reduce((n, b) => n + Number(b.amount), 0);
    assert.equal((await balance()).cashBalance, String(5_000_000 - charged));
    assert.deepEqual((await bills({ cycleType: "Hour", productCategory: "gpu", startTime: EPOCH_S, endTime: now, ownerId: monthly })).json, { bills: [] });
  });

  test("past the cash, the rest is owed: cashBalance 0, outstandingInvoices, availableBalance below the credit", async () => {
    await t.control("POST", "/reset", { instances: 0 });
    await create({ productId: "prod-h200sxm-141g", gpuNum: 8 }); // 248000 an hour
    await t.advance(25 * HOUR);
    const b = await balance();
    const charged = roundDiv(310_000 * 8 * 3595, 36_000) + 24 * 248_000;
    assert.deepEqual(b, {
      availableBalance: String(200_000 - (charged - 5_000_000)),
      cashBalance: "0",
      creditLimit: "200000",
      pendingCharges: "0",
      outstandingInvoices: String(charged - 5_000_000),
    });
    assert.ok(Number(b.availableBalance) < 0);
  });

  test("a seeded fleet: the hourly summary since the epoch is exactly what the cash paid, and the per-instance bills sum to it", async () => {
    await t.control("POST", "/reset", { instances: 60 });
    await t.advance(5 * HOUR + 17 * 60_000 + 3_456);
    const now = await nowSec(t);
    const q = { cycleType: "Hour", startTime: EPOCH_S, endTime: now };
    const summary = (await bills({ ...q, productCategory: "summary" })).json.bills;
    assert.equal(summary.length, 6);
    assert.ok(summary.every((b) => b.category === "summary" && b.ownerID === ""));
    const total = summary.reduce((n, b) => n + Number(b.amount), 0);
    const b = await balance();
    assert.equal(Number(b.cashBalance) - Number(b.outstandingInvoices), 5_000_000 - total);
    const per = (await bills({ ...q, productCategory: "gpu" })).json.bills;
    assert.equal(per.reduce((n, x) => n + Number(x.amount), 0), total);
    assert.ok(per.some((x) => x.billingMethod === 3) && per.some((x) => x.billingMethod === 1));
    assert.ok(per.some((x) => x.productId.startsWith("prod-cpu-")), "CPU instances bill per instance-hour");
    // bills before the epoch exist too (the fleet ran before it), and Day/Week/Month sum their hours
    const before = (await bills({ ...q, startTime: EPOCH_S - 86_400, endTime: EPOCH_S, productCategory: "summary" })).json.bills;
    assert.equal(before.length, 24);
    for (const cycleType of ["Day", "Month"]) {
      const r = (await bills({ cycleType, productCategory: "summary", startTime: EPOCH_S, endTime: now })).json.bills;
      assert.equal(r.length, 1, cycleType);
      assert.equal(Number(r[0].amount), total, cycleType);
      assert.equal(r[0].startTime, String(EPOCH_S), `${cycleType}: the epoch (2026-11-01) starts a day and a month`);
    }
    // 2026-11-01 is a Sunday: its week began on Monday 2026-10-26, before startTime, so it is not in
    // [epoch, now); from that Monday it is, with the six days before the epoch in it
    assert.deepEqual((await bills({ cycleType: "Week", productCategory: "summary", startTime: EPOCH_S, endTime: now })).json.bills, []);
    const monday = EPOCH_S - 6 * 86_400;
    const week = (await bills({ cycleType: "Week", productCategory: "summary", startTime: monday, endTime: now })).json.bills;
    assert.deepEqual(week.map((x) => [x.startTime, x.endTime]), [[String(monday), String(monday + 7 * 86_400 - 1)]]);
    const sixDays = (await bills({ cycleType: "Day", productCategory: "summary", startTime: monday, endTime: EPOCH_S })).json.bills;
    assert.equal(sixDays.length, 6);
    assert.equal(Number(week[0].amount), total + sixDays.reduce((n, x) => n + Number(x.amount), 0));
    // ranges that meet share no bill
    const mid = EPOCH_S + 2 * 3600 + 77;
    const a = (await bills({ ...q, endTime: mid, productCategory: "gpu" })).json.bills;
    const c = (await bills({ ...q, startTime: mid, productCategory: "gpu" })).json.bills;
    assert.equal(a.length + c.length, per.length);
    // productName filters (substring, any case)
    const h100 = (await bills({ ...q, productCategory: "gpu", productName: "h100" })).json.bills;
    assert.ok(h100.length > 0 && h100.every((x) => x.productName === "H100 SXM 80GB"));
    // other categories: nothing billed here
    assert.deepEqual((await bills({ ...q, productCategory: "llm" })).json, { bills: [] });
  });

  test("bill/list parameters: cycleType and productCategory required, times required, a range of at most 31 days", async () => {
    const ok = { cycleType: "Hour", productCategory: "gpu", startTime: EPOCH_S, endTime: EPOCH_S + 3600 };
    const bad = async (query, name) => {
      const r = await bills(query);
      novitaErr(r, 400, "VALIDATOR_PARAM");
      assert.match(r.json.message, new RegExp(name), JSON.stringify(query));
    };
    await bad({ ...ok, cycleType: undefined }, "cycleType");
    await bad({ ...ok, cycleType: "hour" }, "cycleType");
    await bad({ ...ok, productCategory: undefined }, "productCategory");
    await bad({ ...ok, productCategory: "gpus" }, "productCategory");
    await bad({ ...ok, startTime: undefined }, "startTime");
    await bad({ ...ok, endTime: "soon" }, "endTime");
    await bad({ ...ok, endTime: EPOCH_S }, "endTime");
    await bad({ ...ok, endTime: EPOCH_S + 31 * 86_400 + 1 }, "31 days");
    const strip = (q) => Object.fromEntries(Object.entries(q).filter(([, v]) => v !== undefined));
    assert.equal((await bills(strip({ ...ok, endTime: EPOCH_S + 31 * 86_400 }))).status, 200);
    assert.deepEqual((await bills({ ...ok, ownerId: "0000000000000000" })).json, { bills: [] });
  });

  test("lastStartedAt / lastStoppedAt: \"0\" until it happens, then Unix seconds; on list items too", async () => {
    await t.control("POST", "/reset", { instances: 0 });
    const id = await create({});
    const fresh = await get(id);
    assert.equal(fresh.lastStartedAt, "0");
    assert.equal(fresh.lastStoppedAt, "0");
    await t.advance(LIFECYCLE.novita.create.at(-1)[0]);
    assert.equal((await get(id)).lastStartedAt, String(EPOCH_S + 12));
    await act("stop", id);
    await t.advance(10_000);
    assert.equal((await act("start", id)).status, 200);
    await t.advance(10_000);
    const [item] = (await t.call("novita", "GET", "/gpu/instances", { query: { pageSize: 10, pageNum: 1 } })).json.instances;
    assert.equal(item.id, id);
    assert.equal(item.productId, "prod-h100sxm-80g");
    assert.equal(item.lastStoppedAt, String(EPOCH_S + 12 + 5));
    assert.equal(item.lastStartedAt, String(EPOCH_S + 12 + 10 + 6));
  });
});

describe("money: fal account billing", () => {
  let t;
  const billing = (query, opts = {}) => t.call("fal", "GET", "/account/billing", { query, ...opts });
  before(async () => {
    t = await testSim({ instances: 0 });
  });
  after(() => t.close());

  test("credits only with expand=credits; current_balance a number of USD", async () => {
    assert.deepEqual((await billing()).json, { username: "simfleet" });
    assert.deepEqual((await billing({ expand: "credits" })).json, { username: "simfleet", credits: { current_balance: 5000, currency: "USD" } });
    assert.deepEqual((await billing({ expand: ["credits", "credits"] })).json.credits.currency, "USD");
    assert.equal((await billing("expand[]=credits")).json.credits.current_balance, 5000);
    const bad = await billing({ expand: "credits,invoices" });
    falErr(bad, 400, "validation_error");
    assert.match(bad.json.error.docs_url, /^https:\/\/fal\.ai\/docs\//);
  });

  test("auth: 401 without a key or with another scheme, 403 for an API-scope key; 405 for other methods", async () => {
    falErr(await billing({ expand: "credits" }, { auth: false }), 401, "authorization_error");
    falErr(await billing({ expand: "credits" }, { auth: `Bearer ${SIM_KEYS.fal}` }), 401, "authorization_error");
    falErr(await billing({ expand: "credits" }, { auth: `Key ${SIM_KEYS.falForbidden}` }), 403, "authorization_error");
    assert.equal((await t.call("fal", "POST", "/account/billing", { body: {} })).status, 405);
  });

  test("the balance drains while fal v1 and fal-alpha instances are ready, at the sim's prices; a deleted one stops", async () => {
    const ssh_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDummy user@host";
    const one = await t.call("fal", "POST", "/compute/instances", { body: { instance_type: "gpu_1x_h100_sxm5", ssh_key } });
    assert.equal(one.status, 201, one.text);
    const eight = await t.call("fal", "POST", "/compute/instances", { body: { instance_type: "gpu_8x_h100_sxm5", ssh_key } });
    const alpha = await t.call("fal-alpha", "POST", "/compute/instance", { body: { instance_type: "gpu_1x_h100_sxm5", ssh_key } });
    assert.equal(alpha.status, 200, alpha.text);
    await t.advance(HOUR);
    assert.equal((await t.call("fal", "DELETE", `/compute/instances/${eight.json.id}`)).status, 204);
    await t.advance(HOUR);
    const ready = (3600 - LIFECYCLE.fal.readyAfter / 1000) + 3600; // seconds ready of the ones kept
    const charged = roundDiv(FAL_PRICES.gpu_1x_h100_sxm5 * ready, 3600) * 2 + roundDiv(FAL_PRICES.gpu_8x_h100_sxm5 * (3600 - 20), 3600);
    const { current_balance } = (await billing({ expand: "credits" })).json.credits;
    assert.equal(current_balance, (OPENING.falMicro - charged) / 1e6);
    assert.equal(current_balance, 4976.230556); // 5000 − 2 × 3.968944 − 15.831556
    assert.ok(String(current_balance).split(".")[1].length <= 6);
    const state = (await t.control("GET", "/money")).json;
    assert.equal(state.balances.fal.charged, charged);
  });

  test("never below 0 (the spec's minimum)", async () => {
    const r = await t.call("fal", "POST", "/compute/instances", { body: { instance_type: "gpu_8x_h100_sxm5", ssh_key: "ssh-ed25519 AAAA x" } });
    assert.equal(r.status, 201);
    await t.advance(400 * HOUR);
    assert.equal((await billing({ expand: "credits" })).json.credits.current_balance, 0);
  });

  test("faults reach the billing route like any other", async () => {
    await t.control("POST", "/faults", { provider: "fal", kinds: ["503"], paths: ["/account/billing"], retryAfterSeconds: 3 });
    try {
      const r = await billing({ expand: "credits" });
      falErr(r, 503, "server_error");
      assert.equal(r.headers.get("retry-after"), "3");
      assert.equal((await t.call("fal", "GET", "/compute/instances")).status, 200);
    } finally {
      await t.control("DELETE", "/faults");
    }
  });
});

describe("money: SF Compute order-book quote", () => {
  let t;
  const start = EPOCH_S + 60;
  const quote = (query, opts = {}) => t.call("sfcompute", "GET", "/orderbook/quote", { query: { start_at: start, end_at: start + 3600, ...query }, ...opts });
  before(async () => {
    t = await testSim({ instances: 5 });
  });
  after(() => t.close());

  test("per SKU: best ask and bid in dollars per node-hour, null when nobody rests on a side", async () => {
    for (const [sku, p] of Object.entries(SFC_PRICES)) {
      const r = await quote({ requirements: `instance_sku:${sku}` });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json.requirements, { instance_sku: [sku] });
      assert.equal(r.json.start_at, start);
      assert.equal(r.json.end_at, start + 3600);
      assert.equal(r.json.requested_at, EPOCH_S);
      for (const [side, cents, nodes] of [["best_ask", p.ask, p.askNodes], ["best_bid", p.bid, p.bidNodes]]) {
        if (cents === null) assert.equal(r.json[side], null, `${sku} ${side}`);
        else {
          assert.deepEqual(r.json[side], {
            instance_sku: sku,
            dollars_per_node_hour: (cents / 100).toFixed(6),
            allocation_schedule_delta: [{ start_at: start, end_at: start + 3600, node_count: nodes }],
          });
        }
      }
    }
    assert.equal((await quote({ requirements: "instance_sku:isku_b200x8000004" })).json.best_ask, null, "no sellers of B200");
    assert.equal((await quote({ requirements: "instance_sku:clus_h100x8ib0001" })).json.best_ask.instance_sku, SKU, "the legacy clus_ alias");
  });

  test("requirements over several SKUs: the lowest ask and the highest bid", async () => {
    const h100 = (await quote({ requirements: "accelerator:H100" })).json;
    assert.deepEqual(h100.requirements, { accelerator: ["H100"] });
    assert.equal(h100.best_ask.instance_sku, "isku_h100x8000002");
    assert.equal(h100.best_bid.instance_sku, SKU);
    const all = (await quote({})).json;
    assert.deepEqual(all.requirements, {});
    assert.equal(all.best_ask.dollars_per_node_hour, "12.800000");
    assert.equal(all.best_bid.dollars_per_node_hour, "26.400000");
    const both = (await quote({ requirements: "accelerator:eq:h200;instance_sku:isku_h200x8ib0003" })).json;
    assert.equal(both.best_ask.instance_sku, "isku_h200x8ib0003");
    assert.equal(both.best_bid, null);
    assert.deepEqual((await quote({ requirements: "accelerator:B200;instance_sku:isku_h200x8ib0003" })).json.best_ask, null, "fields AND");
  });

  test("validation → 422 unprocessable_entity with details (the documented status)", async () => {
    const fails = async (query, field, code) => {
      const r = await t.call("sfcompute", "GET", "/orderbook/quote", { query });
      sfcErr(r, 422, "unprocessable_entity");
      assert.equal(r.json.error.message, "Validation failed");
      assert.ok(r.json.error.details.some((d) => d.field === field && d.code === code), `${JSON.stringify(query)}: ${r.text}`);
    };
    const w = { start_at: start, end_at: start + 3600 };
    await fails({ requirements: `instance_sku:${SKU}`, end_at: start }, "start_at", "required");
    await fails({ requirements: `instance_sku:${SKU}`, start_at: start }, "end_at", "required");
    await fails({ ...w, start_at: "tomorrow" }, "start_at", "invalid_type");
    await fails({ ...w, start_at: start + 1 }, "start_at", "not_aligned");
    await fails({ ...w, end_at: start }, "end_at", "invalid_range");
    await fails({ ...w, requirements: "instance_sku:isku_nothere0001" }, "requirements", "unknown_instance_sku");
    await fails({ ...w, requirements: "instance_sku:h100" }, "requirements", "invalid_format");
    await fails({ ...w, requirements: "gpu_type:h100" }, "requirements", "unknown_property");
    await fails({ ...w, requirements: "accelerator:gte:H100" }, "requirements", "unsupported_operator");
    await fails({ ...w, requirements: "accelerator:A100" }, "requirements", "invalid_value");
    await fails({ ...w, requirements: "accelerator" }, "requirements", "invalid_format");
  });

  test("auth like the instance routes; 405; faults", async () => {
    sfcErr(await quote({}, { auth: false }), 401, "authentication_error");
    sfcErr(await quote({}, { auth: "Bearer nope" }), 401, "authentication_error");
    sfcErr(await quote({}, { auth: `Bearer ${SIM_KEYS.sfcomputeForbidden}` }), 403, "forbidden");
    sfcErr(await t.call("sfcompute", "POST", "/orderbook/quote", { body: {} }), 405, "api_error");
    await t.control("POST", "/faults", { provider: "sfcompute", kinds: ["500"], paths: ["/orderbook/quote"], times: 1 });
    sfcErr(await quote({}), 500, "api_error");
    assert.equal((await quote({})).status, 200, "times: 1");
    await t.control("DELETE", "/faults");
  });
});

describe("money: SF Compute balance", () => {
  let t;
  const v0 = (opts) => t.call("sfcompute", "GET", "/v0/balance", { root: true, ...opts });
  const v1 = (opts) => t.call("sfcompute", "GET", "/v1/balances", { root: true, ...opts });
  const create = async (sku) => {
    const cap = { isku_h100x8ib0001: "cap_h100sfprod01", isku_b200x8000004: "cap_b200burst04" }[sku];
    const r = await t.call("sfcompute", "POST", "/instances", { body: { capacity: cap, image: "image_ubuntu2204cuda127", instance_sku: sku } });
    assert.equal(r.status, 201, r.text);
    return r.json.id;
  };
  before(async () => {
    t = await testSim({ instances: 0 });
  });
  after(() => t.close());

  test("v0 (what the client asks) and v1 shapes, in cents, opening at $10,000", async () => {
    assert.deepEqual((await v0()).json, { object: "balance", available: { amount: 1_000_000, currency: "usd" }, reserved: { amount: 0, currency: "usd" } });
    assert.deepEqual((await v1()).json, {
      object: "balances", available_balance_cents: 1_000_000, current_balance_cents: 1_000_000, current_overage_cents: 0, overage_limit_cents: 0, updated_at: EPOCH_S,
    });
  });

  test("drains while instances run, at their SKU's price; terminated and deleted ones stop but stay charged", async () => {
    const a = await create(SKU);
    const b = await create("isku_b200x8000004");
    await t.advance(HOUR);
    const running = 3600 - LIFECYCLE.sfcompute.runningAfter / 1000;
    assert.equal((await t.call("sfcompute", "POST", `/instances/${b}/terminate`)).status, 200);
    assert.equal((await t.call("sfcompute", "DELETE", `/instances/${b}`)).status, 204);
    await t.advance(HOUR);
    const charged = roundDiv(1400 * (running + 3600), 3600) + roundDiv(2800 * running, 3600);
    assert.equal((await v0()).json.available.amount, 1_000_000 - charged);
    const one = (await v1()).json;
    assert.equal(one.available_balance_cents, 1_000_000 - charged);
    assert.equal(one.updated_at, EPOCH_S + 7200);
    assert.ok(a);
  });

  test("past zero: 0 available, the rest is overage", async () => {
    await t.control("POST", "/reset", { instances: 0 });
    await create("isku_b200x8000004");
    await t.advance(400 * HOUR);
    const charged = roundDiv(2800 * (400 * 3600 - 10), 3600);
    assert.equal((await v0()).json.available.amount, 0);
    const one = (await v1()).json;
    assert.equal(one.current_balance_cents, 0);
    assert.equal(one.current_overage_cents, charged - 1_000_000);
  });

  test("auth, 404 / 405 on the sibling API, faults", async () => {
    for (const call of [v0, v1]) {
      sfcErr(await call({ auth: false }), 401, "authentication_error");
      sfcErr(await call({ auth: `Bearer ${SIM_KEYS.sfcomputeForbidden}` }), 403, "forbidden");
    }
    sfcErr(await t.call("sfcompute", "GET", "/v0/balances", { root: true }), 404, "not_found");
    sfcErr(await t.call("sfcompute", "POST", "/v0/balance", { root: true, body: {} }), 405, "api_error");
    await t.control("POST", "/faults", { provider: "sfcompute", kinds: ["429"], paths: ["/v0/balance"] });
    try {
      const r = await v0();
      sfcErr(r, 429, "rate_limited");
      assert.equal(r.headers.get("retry-after"), "1");
      assert.equal((await v1()).status, 200);
    } finally {
      await t.control("DELETE", "/faults");
    }
  });
});

describe("money: the billing math (money.mjs)", () => {
  test("billed intervals: whole seconds, merged, clipped, ended by removedAt", () => {
    const S = new Set(["running", "pulling"]);
    const rec = { timeline: [{ at: 500, status: "creating" }, { at: 1_999, status: "pulling" }, { at: 4_500, status: "running" }, { at: 9_999, status: "exited" }, { at: 20_000, status: "running" }] };
    assert.deepEqual(billedIntervals(rec, S, 0, 100), [[1, 9], [20, 100]]);
    assert.deepEqual(billedIntervals(rec, S, 5, 25), [[5, 9], [20, 25]]);
    assert.deepEqual(billedIntervals({ ...rec, removedAt: 22_700 }, S, 0, 100), [[1, 9], [20, 22]]);
    assert.deepEqual(billedIntervals(rec, S, 30, 30), []);
  });

  test("seconds per clock hour and the cycles (UTC; weeks from Monday)", () => {
    assert.deepEqual([...secondsByHour([[3590, 3610], [7200, 7201]])], [[0, 10], [3600, 10], [7200, 1]]);
    const d = (iso) => Date.parse(iso) / 1000;
    assert.equal(CYCLES.Week.start(d("2026-11-01T12:00:00Z")), d("2026-10-26T00:00:00Z"));
    assert.equal(CYCLES.Week.start(d("2026-11-02T00:00:00Z")), d("2026-11-02T00:00:00Z"));
    assert.equal(CYCLES.Month.start(d("2026-12-31T23:59:59Z")), d("2026-12-01T00:00:00Z"));
    assert.equal(CYCLES.Month.next(d("2026-12-01T00:00:00Z")), d("2027-01-01T00:00:00Z"));
    assert.equal(CYCLES.Day.start(d("2026-11-01T23:59:59Z")), d("2026-11-01T00:00:00Z"));
    assert.equal(roundDiv(5, 2), 3);
    assert.equal(roundDiv(4, 3), 1);
  });

  test("GET /__sim/money: the price list, opening balances and charges", async () => {
    const t = await testSim({ instances: 10 });
    try {
      await t.advance(HOUR);
      const m = (await t.control("GET", "/money")).json;
      assert.equal(m.ok, true);
      assert.equal(m.prices.novita.find((p) => p.id === "prod-h100sxm-80g").price, 249_000);
      assert.deepEqual(m.prices.fal, FAL_PRICES);
      assert.equal(m.opening.novitaCash, 5_000_000);
      const nb = (await t.call("novita", "GET", BALANCE, { root: true })).json;
      assert.equal(String(m.balances.novita.cash), nb.cashBalance);
      assert.ok(m.balances.novita.charged > 0 && m.balances.fal.charged > 0 && m.balances.sfcompute.charged > 0);
    } finally {
      await t.close();
    }
  });
});
