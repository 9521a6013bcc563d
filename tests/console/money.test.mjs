// Money in the console, in headless Chromium against the simulated clouds behind the edge proxy
// in workerd (npm start's setup, with its fal price table, harness.mjs PRICES): the $/h column
// (the configured fal price, Novita's catalog, SF Compute's order book; "—" with the reason where
// there is none), the fleet's burn rate and cost so far (checked against the listing the page
// itself received), the balances, sorting by price and by cost (most expensive first), creates
// through the offer pickers with the choice's price shown before Create, and a provider whose
// offers fail leaving the form usable. Every expected price is read from the simulator's catalog
// (tests/sim/catalog.mjs) or from what the API returned, never copied here.

import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { PRICES, SHOTS, useConsole, waitForRows, row, assertClean } from "./harness.mjs";
import { NOVITA_IMAGES, NOVITA_PRODUCTS, SFC_PRICES } from "../sim/catalog.mjs";

// A polling console: these tests read "the listing the page got" (`/api/v1/instances`); the live
// view's sums are checked against the library's in tests/proxy/live.test.mjs.
const c = useConsole({ library: true, live: false });

/** The page's own dollar format (www/money.js usdText), for a micro-dollar amount. */
function usd(micro) {
  const abs = Math.abs(micro);
  const max = abs > 0 && abs < 10_000 ? 4 : 2;
  return new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", minimumFractionDigits: 2, maximumFractionDigits: max }).format(micro / 1e6);
}
/** The page's rate format (www/money.js rateText): exact, 2 to 6 decimals. */
const rate = (micro) => new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", minimumFractionDigits: 2, maximumFractionDigits: 6 }).format(micro / 1e6);
const perHour = (micro) => `${rate(micro)}/h`;
/** Novita's catalog unit, 1/100,000 USD per GPU-hour, in micro-dollars. */
const novitaMicro = (units) => units * 10;
/** SF Compute's order book, cents per node-hour, in micro-dollars. */
const centsMicro = (cents) => cents * 10_000;

/** Refreshes the page and returns the listing it received (and has rendered once this resolves). */
async function refreshAndRead(p) {
  const answer = p.waitForResponse((r) => new URL(r.url()).pathname === "/api/v1/instances" && r.request().method() === "GET");
  await p.click("#refresh");
  const body = await (await answer).json();
  await p.waitForFunction(() => /^Updated/.test(document.getElementById("updated").textContent));
  return body;
}

/** The rendered rows' keys, top to bottom. */
function keys(p) {
  return p.$$eval("#fleet tbody tr[data-key]", (trs) => trs.map((t) => t.dataset.key));
}

async function openCreate(p, provider) {
  await p.click("#new-instance");
  await p.waitForSelector("#create:not([hidden])");
  await p.selectOption("#create-provider", provider);
  await p.waitForFunction(() => ["ok", "error", "empty"].includes(document.getElementById("create-offers").dataset.state), null, { timeout: 60_000 });
}

test("a provider whose offers fail (and a balance that fails) leaves the form usable: free text, the reason shown", async () => {
  // First in this file: nothing has read Novita's catalog yet, so nothing serves it from a cache.
  await c.control("POST", "/faults", {
    rules: [
      { provider: "novita", paths: ["/products"], kinds: ["500"] },
      { provider: "sfcompute", paths: ["/balance"], kinds: ["500"] },
    ],
  });
  try {
    const p = await c.open();
    await waitForRows(p, 160);
    // The failing balance is a quiet note of its own; the others show.
    const sfc = p.locator("#balances [data-provider=sfcompute]");
    await sfc.waitFor({ timeout: 60_000 });
    assert.match(await sfc.textContent(), /unavailable/);
    assert.match(await sfc.getAttribute("title"), /^SF Compute's balance could not be read: /);
    assert.ok(await sfc.evaluate((e) => e.classList.contains("muted")));
    assert.match(await p.textContent("#balances [data-provider=novita]"), /^Novita \$[\d,]+\.\d\d$/);
    assert.equal(await p.locator("#banners .banner").count(), 0, "no banner: the listing works");

    await openCreate(p, "novita");
    assert.equal(await p.getAttribute("#create-offers", "data-state"), "error");
    assert.match(await p.textContent("#create-offers"), /^Novita's offers could not be loaded \(.+\): type the ids\.$/);
    assert.equal(await p.$eval("#cf-productId", (e) => e.tagName), "INPUT", "the product id is typed");
    assert.equal(await p.locator("#create-fields select.picker").count(), 0, "no picker");
    assert.equal(await p.textContent("#create-price"), "");

    const product = NOVITA_PRODUCTS.find((x) => x.kind === "gpu");
    await p.fill("#cf-productId", product.id);
    await p.fill("#cf-gpuNum", "1");
    await p.fill("#cf-rootfsSize", "50");
    await p.fill("#cf-imageUrl", NOVITA_IMAGES[0]);
    await p.fill("#cf-name", "money-typed-1");
    await p.click("#create-submit");
    await p.waitForSelector("#create", { state: "hidden", timeout: 30_000 });
    const made = (await c.state("novita")).find((i) => i.name === "money-typed-1");
    assert.ok(made, "created with the typed product id");
    assert.equal(made.productId, product.id);
    await p.screenshot({ path: join(SHOTS, "money-offers-failing.png") });
    await assertClean(assert, p, "(offers failing)");
    await p.context().close();
  } finally {
    await c.control("DELETE", "/faults");
  }
});

test("the $/h column: the configured fal price, Novita's catalog, SF Compute's quote, and — with the reason", async () => {
  const { instances } = await c.lib.listAll();
  const p = await c.open();
  await waitForRows(p, null);
  const cell = async (inst, cls = "c-price") => {
    await p.fill("#filter", inst.id);
    await waitForRows(p, 1);
    const td = row(p, inst.provider, inst.id).locator(`td.${cls}`);
    return { text: await td.textContent(), title: await td.getAttribute("title"), source: await td.getAttribute("data-source"), td };
  };

  // fal: the price table's figure, labelled as yours.
  for (const [type, dollars] of Object.entries(PRICES.fal)) {
    const inst = instances.find((i) => i.provider === "fal" && i.instanceType === type && i.status === "running");
    const got = await cell(inst);
    assert.equal(got.text, perHour(Math.round(dollars * 1e6)), type);
    assert.equal(got.source, "configured");
    assert.match(got.title, /your configured price \(the proxy's GPUFLEET_PRICES\)/);
  }
  // fal-alpha's 1× type is not in the table: "—", and the library's reason on hover.
  const unpriced = instances.find((i) => i.provider === "fal-alpha" && i.instanceType === "gpu_1x_h100_sxm5");
  assert.ok(unpriced && !unpriced.price && unpriced.priceNote);
  let got = await cell(unpriced);
  assert.equal(got.text, "—");
  assert.equal(got.title, `No price\n${unpriced.priceNote}`);
  assert.equal((await cell(unpriced, "c-cost")).text, "—");

  // Novita: GPUs × the product's catalog price per GPU-hour (spot instances at its spot price).
  const novita = instances.filter((i) => i.provider === "novita" && i.status === "running" && i.price);
  assert.ok(novita.some((i) => i.billingMode === "spot") && novita.some((i) => i.billingMode === "onDemand"));
  for (const inst of [novita.find((i) => i.billingMode === "spot"), novita.find((i) => i.billingMode === "onDemand" && i.gpuCount > 1)]) {
    const product = NOVITA_PRODUCTS.find((x) => x.id === inst.offerId);
    const unit = inst.billingMode === "spot" ? product.spotPrice : product.price;
    got = await cell(inst);
    assert.equal(got.text, perHour(novitaMicro(unit) * inst.gpuCount), `${inst.id} ${inst.billingMode}`);
    assert.equal(got.source, "catalog");
    assert.match(got.title, /the provider's catalog price/);
    const cost = await cell(inst, "c-cost");
    assert.match(cost.text, /^\$[\d,]+\.\d{2,4} est\.$/, "a running priced instance has its estimated cost");
    assert.match(cost.title, /an estimate of the current run/);
  }

  // SF Compute: the order book's best ask for the SKU, marked as an estimate (≈).
  const sfc = instances.find((i) => i.provider === "sfcompute" && i.status === "running" && SFC_PRICES[i.offerId]?.ask);
  got = await cell(sfc);
  assert.equal(got.text, `≈${perHour(centsMicro(SFC_PRICES[sfc.offerId].ask))}`);
  assert.equal(got.source, "quote");
  assert.match(got.title, /market quote: an estimate/);
  const noAsk = instances.find((i) => i.provider === "sfcompute" && SFC_PRICES[i.offerId] && SFC_PRICES[i.offerId].ask === null);
  got = await cell(noAsk);
  assert.equal(got.text, "—");
  assert.match(got.title, /no ask in SF Compute's order book/);

  // The details say the same, in words.
  await cell(sfc);
  await row(p, sfc.provider, sfc.id).click();
  await p.waitForSelector("#details:not([hidden])");
  const price = await p.textContent("#details-body dt:text-is('Price') + dd");
  assert.ok(price.startsWith(`≈${perHour(centsMicro(SFC_PRICES[sfc.offerId].ask))} — a market quote`), price);
  await p.click("#details-close");
  await p.fill("#filter", "");
  await assertClean(assert, p, "(price column)");
  await p.context().close();
});

test("the burn rate is the sum of the running instances' prices in the listing the page got; cost so far and balances", async () => {
  const before = await c.lib.balances();
  const p = await c.open();
  await waitForRows(p, null);
  const body = await refreshAndRead(p);
  const running = body.instances.filter((i) => i.status === "running");
  const priced = running.filter((i) => i.price);
  const sum = priced.reduce((a, i) => a + i.price.microUsdPerHour, 0);
  assert.ok(priced.length > 10 && sum > 0);
  assert.equal(body.cost.burnRatePerHour.microUsd, sum, "the library's burn rate is that sum");
  const lower = running.length > priced.length || body.errors.length > 0;
  assert.equal(lower, true, "fal-alpha's unpriced 1× instances make it a lower bound");

  assert.equal(Number(await p.getAttribute("#burn", "data-micro")), sum);
  assert.equal(await p.textContent("#burn .value"), `${lower ? "≥ " : ""}${perHour(sum)}`);
  const unpricedRunning = running.length - priced.length;
  assert.match(await p.textContent("#burn .note"), new RegExp(`^${unpricedRunning} running instances? without a price`));
  assert.match(await p.getAttribute("#burn", "title"), /a lower bound/);

  // Cost so far: the sum of the running instances' costs, as the library made it.
  const costs = priced.filter((i) => i.cost).reduce((a, i) => a + i.cost.amount.microUsd, 0);
  assert.equal(body.cost.costSoFar.microUsd, costs);
  assert.equal(Number(await p.getAttribute("#spent", "data-micro")), costs);
  assert.equal(await p.textContent("#spent .value"), `≥ ${usd(costs)}`);

  // Balances: what the API said between the two reads (they only drain while instances run).
  await p.locator("#balances [data-provider]").first().waitFor();
  const after = await c.lib.balances();
  assert.deepEqual(after.errors, []);
  for (const b of after.balances) {
    const shown = Number(await p.getAttribute(`#balances [data-provider="${b.provider}"]`, "data-micro"));
    const was = before.balances.find((x) => x.provider === b.provider).available.microUsd;
    assert.ok(shown <= was && shown >= b.available.microUsd, `${b.provider}: ${shown} within [${b.available.microUsd}, ${was}]`);
    assert.equal(await p.textContent(`#balances [data-provider="${b.provider}"] strong`), usd(shown));
  }
  await p.evaluate(() => document.activeElement?.blur());
  await p.screenshot({ path: join(SHOTS, "money-fleet.png") });
  await assertClean(assert, p, "(burn rate)");
  await p.context().close();
});

test("sorting by $/h and by cost: the first click puts the most expensive first, missing figures last", async () => {
  // A tall window: the virtualized table renders enough rows to see the order end to end.
  const p = await c.open({ viewport: { width: 1360, height: 3200 } });
  await waitForRows(p, null);
  const body = await refreshAndRead(p);
  const byKey = new Map(body.instances.map((i) => [`${i.provider}/${i.id}`, i]));

  await p.click("th[data-col=price] button");
  assert.equal(await p.getAttribute("th[data-col=price]", "aria-sort"), "descending");
  let shown = (await keys(p)).map((k) => byKey.get(k));
  const prices = shown.map((i) => i.price?.microUsdPerHour ?? -1);
  assert.ok(prices.length > 20);
  assert.deepEqual(prices, [...prices].sort((a, b) => b - a), "descending by price");
  assert.equal(prices[0], Math.max(...body.instances.map((i) => i.price?.microUsdPerHour ?? -1)), "the most expensive first");
  assert.equal(await row(p, shown[0].provider, shown[0].id).locator("td.c-price").textContent(), `${shown[0].price.source === "quote" ? "≈" : ""}${perHour(prices[0])}`);

  await p.click("th[data-col=cost] button");
  assert.equal(await p.getAttribute("th[data-col=cost]", "aria-sort"), "descending");
  shown = (await keys(p)).map((k) => byKey.get(k));
  const costs = shown.map((i) => i.cost?.amount.microUsd ?? -1);
  assert.ok(costs.filter((x) => x >= 0).length > 10, "enough costed rows to sort");
  assert.deepEqual(costs, [...costs].sort((a, b) => b - a), "descending by cost");
  assert.equal(costs[0], Math.max(...body.instances.map((i) => i.cost?.amount.microUsd ?? -1)), "the most expensive run first");
  assert.match(await row(p, shown[0].provider, shown[0].id).locator("td.c-cost").textContent(), new RegExp(`^${usd(costs[0]).replace(/[$.]/g, "\\$&")} est\\.$`));
  await p.evaluate(() => document.activeElement?.blur());
  await p.screenshot({ path: join(SHOTS, "money-sorted-by-cost.png") });

  // The second click: cheapest first, and the rows without a cost still last.
  await p.click("th[data-col=cost] button");
  assert.equal(await p.getAttribute("th[data-col=cost]", "aria-sort"), "ascending");
  await p.fill("#filter", "");
  await p.click("#provider-chips [data-provider=novita]");
  shown = (await keys(p)).map((k) => byKey.get(k));
  const asc = shown.map((i) => i.cost?.amount.microUsd ?? Infinity);
  assert.deepEqual(asc, [...asc].sort((a, b) => a - b), "ascending by cost, missing last");
  assert.equal(asc.at(-1), Infinity, "Novita has rows without a cost (not running), at the end");
  await assertClean(assert, p, "(sort)");
  await p.context().close();
});

test("create through Novita's offer picker: a spot product, its cluster, the price before Create; the new row priced", async () => {
  const p = await c.open();
  await waitForRows(p, null);
  await openCreate(p, "novita");
  assert.equal(await p.getAttribute("#create-offers", "data-state"), "ok");
  assert.equal(await p.$eval("#cf-productId", (e) => e.tagName), "SELECT", "a picker, not a text field");
  const groups = await p.$$eval("#cf-productId optgroup", (gs) => gs.map((g) => g.label));
  assert.deepEqual(groups, ["On demand", "Spot (may be reclaimed)"]);
  assert.match(await p.textContent("#create-price"), /^Choose a product to see its hourly price\.$/);

  // Every product of the catalog on demand, at its price per GPU-hour.
  const onDemand = await p.$$eval("#cf-productId optgroup:first-of-type option", (os) => os.map((o) => [o.dataset.offerId, o.textContent]));
  for (const product of NOVITA_PRODUCTS.filter((x) => x.kind === "gpu")) {
    const opt = onDemand.find(([id]) => id === product.id);
    assert.ok(opt, product.id);
    assert.ok(opt[1].endsWith(`— ${rate(novitaMicro(product.price))}/GPU-h`), opt[1]);
  }

  const product = NOVITA_PRODUCTS.find((x) => x.id === "prod-h100sxm-80g");
  const value = await p.$eval("#cf-productId", (s, id) => [...s.options].find((o) => o.dataset.offerId === id && o.dataset.billing === "spot").value, product.id);
  await p.selectOption("#cf-productId", value);
  assert.equal(await p.inputValue("#cf-billingMode"), "spot", "the spot offer sets spot billing");
  assert.equal(await p.inputValue("#cf-gpuNum"), "1");
  await p.fill("#cf-gpuNum", "2");
  const total = novitaMicro(product.spotPrice) * 2;
  assert.equal(Number(await p.getAttribute("#create-price", "data-micro")), total);
  assert.equal(await p.textContent("#create-price"), `Price: ${perHour(total)} — 2 GPUs × ${rate(novitaMicro(product.spotPrice))} per GPU-hour (${product.name}, spot, the provider's catalog price)`);

  // The cluster, from the product's regions.
  const clusters = await p.$$eval("#cf-clusterId option", (os) => os.map((o) => o.value));
  assert.deepEqual(clusters, ["", ...product.regions, "__other"]);
  const cluster = product.regions[2];
  await p.selectOption("#cf-clusterId", cluster);
  await p.fill("#cf-rootfsSize", "100");
  await p.fill("#cf-imageUrl", NOVITA_IMAGES[1]);
  await p.fill("#cf-name", "money-picked-1");
  // Back to on demand by the billing field: the price follows.
  await p.selectOption("#cf-billingMode", "");
  assert.equal(Number(await p.getAttribute("#create-price", "data-micro")), novitaMicro(product.price) * 2);
  await p.selectOption("#cf-billingMode", "spot");
  assert.equal(Number(await p.getAttribute("#create-price", "data-micro")), total);
  await p.screenshot({ path: join(SHOTS, "money-create-novita.png") });

  await p.click("#create-submit");
  await p.waitForSelector("#create", { state: "hidden", timeout: 30_000 });
  await p.waitForSelector("#details:not([hidden])");
  const made = (await c.state("novita")).find((i) => i.name === "money-picked-1");
  assert.ok(made, "created");
  assert.deepEqual([made.productId, made.clusterId, made.billingMode, String(made.gpuNum)], [product.id, cluster, "spot", "2"]);
  // Its row appears, priced from the catalog like the others.
  await p.fill("#filter", made.id);
  await waitForRows(p, 1);
  const price = row(p, "novita", made.id).locator("td.c-price");
  await p.waitForFunction((key) => document.querySelector(`#fleet tr[data-key="${key}"] td.c-price`)?.dataset.source === "catalog", `novita/${made.id}`, { timeout: 30_000 });
  assert.equal(await price.textContent(), perHour(total));
  await p.click("#details-close");
  await p.fill("#filter", "");
  await assertClean(assert, p, "(novita picker)");
  await p.context().close();
});

test("SF Compute's SKU picker and fal's instance types carry their prices; a SKU without one says why", async () => {
  const p = await c.open();
  await waitForRows(p, null);
  await openCreate(p, "sfcompute");
  assert.equal(await p.getAttribute("#create-offers", "data-state"), "ok");
  const options = await p.$$eval("#cf-instanceSku option", (os) => os.map((o) => [o.value, o.textContent, o.dataset.offerId]));
  for (const [sku, money] of Object.entries(SFC_PRICES)) {
    const opt = options.find(([, , id]) => id === sku);
    if (!opt) continue; // only the SKUs the fleet runs are offered
    assert.ok(opt[1].endsWith(money.ask === null ? "— no price" : `— ≈${perHour(centsMicro(money.ask))}`), opt[1]);
    await p.selectOption("#cf-instanceSku", opt[0]);
    const line = await p.textContent("#create-price");
    if (money.ask === null) assert.match(line, /^Price: — \(no ask in SF Compute's order book/);
    else assert.ok(line.startsWith(`Price: ≈${perHour(centsMicro(money.ask))} (`), line);
  }
  assert.ok(options.length >= 3);
  // "Other" keeps the typed way.
  await p.selectOption("#cf-instanceSku", "__other");
  assert.equal(await p.isVisible("#cf-instanceSku-text"), true);
  await p.fill("#cf-instanceSku-text", "isku_typedbyhand01");
  assert.match(await p.textContent("#create-price"), /isku_typedbyhand01 is not among the offers/);

  await p.selectOption("#create-provider", "fal");
  await p.waitForFunction(() => document.getElementById("create-offers").dataset.state === "ok");
  for (const [type, dollars] of Object.entries(PRICES.fal)) {
    await p.selectOption("#cf-instanceType", type);
    const micro = Math.round(dollars * 1e6);
    assert.equal(Number(await p.getAttribute("#create-price", "data-micro")), micro);
    assert.equal(await p.textContent("#create-price"), `Price: ${perHour(micro)} (${type}, your configured price (the proxy's GPUFLEET_PRICES))`);
  }
  await p.selectOption("#create-provider", "fal-alpha");
  await p.waitForFunction(() => document.getElementById("create-offers").dataset.state === "ok");
  await p.selectOption("#cf-instanceType", "gpu_1x_h100_sxm5");
  assert.match(await p.textContent("#create-price"), /^Price: — \(fal publishes no compute prices/);
  await assertClean(assert, p, "(sku and type pickers)");
  await p.context().close();
});
