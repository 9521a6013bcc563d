// Novita on the simulator: the paging modes (config `novitaPaging`), the account instance quota
// (`novitaInstanceLimit`), the documented error reasons and the seeded spot instances.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import path from "node:path";
import { testSim, assertNoDupes, SIM_DIR } from "./helpers.mjs";
import { startSim, parseArgs } from "./server.mjs";
import { normalizeConfig } from "./sim.mjs";
import { parseNovitaPaging, pageWindow, DEFAULT_PAGING } from "./novita.mjs";
import { spotMinimum, LIFECYCLE } from "./fleet.mjs";
import { SIM_DEFAULTS } from "./defaults.mjs";

const CREATE = { productId: "prod-rtx4090-24g", gpuNum: 1, rootfsSize: 50, imageUrl: "nvidia/cuda:12.4.1-devel-ubuntu22.04", kind: "gpu" };

const isErr = (r, status, reason) => {
  assert.equal(r.status, status, r.text);
  assert.deepEqual(Object.keys(r.json), ["code", "reason", "message", "metadata"]);
  assert.equal(r.json.code, status);
  assert.equal(r.json.reason, reason);
  assert.equal(typeof r.json.message, "string");
};

/** Runs the CLI with `args`; resolves {code, out, err} once it exits (or is stopped after the ready line). */
function runCli(args, { untilReady = false } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(SIM_DIR, "server.mjs"), ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`CLI did not finish: ${out} ${err}`));
    }, 10_000);
    child.stdout.on("data", async (d) => {
      out += d;
      const m = /^gpufleet sim listening on (http:\/\/127\.0\.0\.1:\d+)$/m.exec(out);
      if (m && untilReady) {
        untilReady = false;
        try {
          const cfg = await (await fetch(m[1] + "/__sim/config")).json();
          child.once("exit", (code) => {
            clearTimeout(timer);
            resolve({ code, out, err, cfg });
          });
          child.kill("SIGTERM");
        } catch (e) {
          child.kill("SIGKILL");
          reject(e);
        }
      }
    });
    child.stderr.on("data", (d) => (err += d));
    child.on("exit", (code) => {
      if (untilReady === false && /listening/.test(out)) return; // handled above
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

describe("novitaPaging grammar", () => {
  test("valid modes, in any order and with spaces, normalize to numbering,size", () => {
    const cases = [
      ["one", "one,cap:100"],
      ["zero", "zero,cap:100"],
      ["one-strict", "one-strict,cap:100"],
      ["cap:20", "one,cap:20"],
      ["fixed:25", "one,fixed:25"],
      ["zero,cap:20", "zero,cap:20"],
      ["cap:20,zero", "zero,cap:20"],
      [" one-strict , fixed:25 ", "one-strict,fixed:25"],
      ["one,cap:100", "one,cap:100"],
      ["zero,fixed:1", "zero,fixed:1"],
      ["cap:100000", "one,cap:100000"],
    ];
    for (const [input, mode] of cases) {
      const p = parseNovitaPaging(input);
      assert.equal(p.ok, true, input);
      assert.equal(p.value.mode, mode, input);
    }
    assert.equal(DEFAULT_PAGING, "one,cap:100");
    assert.equal(SIM_DEFAULTS.novitaPaging, DEFAULT_PAGING);
    assert.deepEqual(parseNovitaPaging("one-strict,fixed:25").value, { numbering: "one-strict", size: "fixed", n: 25, mode: "one-strict,fixed:25" });
  });

  test("invalid modes are refused with an error naming the bad part", () => {
    const cases = [
      ["bogus", /unknown part "bogus"/],
      ["zero,bogus", /unknown part "bogus"/],
      ["ZERO", /unknown part "ZERO"/],
      ["one-based", /unknown part "one-based"/],
      ["cap:0", /part "cap:0": N must be an integer 1\.\.100000/],
      ["cap:-1", /part "cap:-1": N must be/],
      ["cap:x", /part "cap:x": N must be/],
      ["cap:", /part "cap:": N must be/],
      ["fixed:1.5", /part "fixed:1\.5": N must be/],
      ["fixed:100001", /part "fixed:100001": N must be/],
      ["zero,one", /part "one": numbering given twice/],
      ["cap:10,fixed:5", /part "fixed:5": page size given twice/],
      ["zero,", /empty part/],
      ["", /must not be empty/],
      [" ", /must not be empty/],
      [5, /must be a string/],
    ];
    for (const [input, re] of cases) {
      const p = parseNovitaPaging(input);
      assert.equal(p.ok, false, JSON.stringify(input));
      assert.match(p.error, /^novitaPaging: /);
      assert.match(p.error, re, JSON.stringify(input));
      assert.match(p.error, /one\|zero\|one-strict/, "the error lists the grammar");
    }
  });

  test("pageWindow: page k is the slice [k·size, (k+1)·size) for the effective size", () => {
    const w = (mode, pageSize, pageNum) => pageWindow(parseNovitaPaging(mode).value, pageSize, pageNum);
    assert.deepEqual(w("one", 10, 0), { start: 0, size: 10 });
    assert.deepEqual(w("one", 10, 1), { start: 0, size: 10 });
    assert.deepEqual(w("one", 10, 3), { start: 20, size: 10 });
    assert.deepEqual(w("one", 500, 2), { start: 100, size: 100 });
    assert.deepEqual(w("one", 0, 2), { start: 0, size: 0 });
    assert.deepEqual(w("zero", 10, 0), { start: 0, size: 10 });
    assert.deepEqual(w("zero", 10, 1), { start: 10, size: 10 });
    assert.deepEqual(w("zero,cap:20", 50, 2), { start: 40, size: 20 });
    assert.deepEqual(w("one-strict", 10, 1), { start: 0, size: 10 });
    assert.match(w("one-strict", 10, 0).error, /pageNum/);
    assert.deepEqual(w("fixed:25", 1, 2), { start: 25, size: 25 });
    assert.deepEqual(w("fixed:25", 0, 1), { start: 0, size: 25 });
    assert.deepEqual(w("zero,fixed:25", 500, 0), { start: 0, size: 25 });
  });

  test("normalizeConfig and startSim validate novitaPaging and novitaInstanceLimit", async () => {
    assert.equal(normalizeConfig({}).config.novitaPaging, "one,cap:100");
    assert.equal(normalizeConfig({}).config.novitaInstanceLimit, null);
    assert.equal(normalizeConfig({ novitaPaging: "cap:20,zero" }).config.novitaPaging, "zero,cap:20");
    assert.equal(normalizeConfig({ novitaInstanceLimit: "7" }).config.novitaInstanceLimit, 7);
    assert.equal(normalizeConfig({ novitaInstanceLimit: 0 }).config.novitaInstanceLimit, 0);
    assert.equal(normalizeConfig({ novitaInstanceLimit: "unlimited" }, { ...SIM_DEFAULTS, novitaInstanceLimit: 3 }).config.novitaInstanceLimit, null);
    assert.equal(normalizeConfig({ novitaInstanceLimit: null }, { ...SIM_DEFAULTS, novitaInstanceLimit: 3 }).config.novitaInstanceLimit, null);
    for (const bad of [-1, 1.5, "x", "", true, 1_000_001]) {
      const { errors } = normalizeConfig({ novitaInstanceLimit: bad });
      assert.equal(errors.length, 1, JSON.stringify(bad));
      assert.match(errors[0], /^novitaInstanceLimit must be an integer 0\.\.1000000 or "unlimited"/);
    }
    await assert.rejects(startSim({ port: 0, novitaPaging: "zero,cap:0" }), (e) => e instanceof RangeError && /part "cap:0"/.test(e.message));
    await assert.rejects(startSim({ port: 0, novitaInstanceLimit: -2 }), (e) => e instanceof RangeError && /novitaInstanceLimit/.test(e.message));
    const s = await startSim({ port: 0, speed: 0, instances: 3, novitaPaging: "fixed:5", novitaInstanceLimit: 9 });
    try {
      const cfg = await (await fetch(s.url + "/__sim/config")).json();
      assert.equal(cfg.config.novitaPaging, "one,fixed:5");
      assert.equal(cfg.config.novitaInstanceLimit, 9);
    } finally {
      await s.close();
    }
  });

  test("parseArgs reads --novita-paging and --novita-instance-limit (both spellings)", () => {
    assert.deepEqual(parseArgs(["--novita-paging", "zero,cap:20", "--novita-instance-limit", "4"]), { novitaPaging: "zero,cap:20", novitaInstanceLimit: "4" });
    assert.deepEqual(parseArgs(["--novita-paging=one-strict,fixed:25", "--novita-instance-limit=unlimited"]), { novitaPaging: "one-strict,fixed:25", novitaInstanceLimit: "unlimited" });
    assert.throws(() => parseArgs(["--novita-paging"]), /--novita-paging needs a value/);
  });
});

// ---------------------------------------------------------------------------------------------

const NUMBERINGS = ["one", "zero", "one-strict"];
const SIZES = [null, "cap:20", "cap:7", "cap:250", "fixed:25", "fixed:1000"];
const modeOf = (numbering, size) => (size ? `${numbering},${size}` : numbering);
const effective = (size, pageSize) => {
  if (size === null) return Math.min(pageSize, 100);
  const n = Number(size.split(":")[1]);
  return size.startsWith("fixed") ? n : Math.min(pageSize, n);
};

describe("novitaPaging on the wire", () => {
  let t;
  let truth;
  const N = 230;
  const list = (query) => t.call("novita", "GET", "/gpu/instances", { query });
  const setMode = async (mode) => {
    const r = await t.control("POST", "/config", { novitaPaging: mode });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    return r.json.config.novitaPaging;
  };

  before(async () => {
    t = await testSim({ instances: N, seed: 11 });
    truth = (await t.state("novita")).map((i) => i.id);
    assert.equal(truth.length, N);
  });
  after(() => t.close());

  test("the default is the old behaviour: one,cap:100 (0 = page 1, capped at 100, pageSize 0 → empty)", async () => {
    assert.equal((await t.control("GET", "/config")).json.config.novitaPaging, "one,cap:100");
    assert.deepEqual((await list({ pageSize: 10, pageNum: 0 })).json, (await list({ pageSize: 10, pageNum: 1 })).json);
    const big = (await list({ pageSize: 500, pageNum: 1 })).json;
    assert.deepEqual(big.instances.map((i) => i.id), truth.slice(0, 100));
    assert.equal(big.total, N);
    assert.deepEqual((await list({ pageSize: 0, pageNum: 1 })).json, { instances: [], total: N });
    assert.deepEqual((await list({ pageSize: 0, pageNum: 0 })).json, { instances: [], total: N });
    assert.deepEqual((await list({ pageSize: 100, pageNum: 3 })).json.instances.map((i) => i.id), truth.slice(200));
    assert.deepEqual((await list({ pageSize: 100, pageNum: 4 })).json, { instances: [], total: N });
  });

  test("every mode: walking from the first page to the end yields exactly the true ids once, in order", async () => {
    for (const numbering of NUMBERINGS) {
      for (const size of SIZES) {
        const mode = modeOf(numbering, size);
        await setMode(mode);
        for (const pageSize of [10, 33, 150]) {
          const eff = effective(size, pageSize);
          const first = numbering === "zero" ? 0 : 1;
          const ids = [];
          let page = first;
          for (; ids.length < N; page++) {
            assert.ok(page - first <= N, `${mode} pageSize ${pageSize}: runaway walk`);
            const r = await list({ pageSize, pageNum: page });
            assert.equal(r.status, 200, r.text);
            assert.equal(r.json.total, N, `${mode}: total stays the full count`);
            const want = Math.min(eff, N - ids.length);
            assert.equal(r.json.instances.length, want, `${mode} pageSize ${pageSize} page ${page}`);
            ids.push(...r.json.instances.map((i) => i.id));
          }
          assert.equal(page - first, Math.ceil(N / eff), `${mode} pageSize ${pageSize}: page count`);
          const past = await list({ pageSize, pageNum: page });
          assert.deepEqual(past.json, { instances: [], total: N }, `${mode}: the page after the last is empty`);
          assertNoDupes(assert, ids, `${mode} pageSize ${pageSize}`);
          assert.deepEqual(ids, truth, `${mode} pageSize ${pageSize}`);
        }
      }
    }
  });

  test("pageNum=0 per numbering: one → page 1, zero → the first page (1 is the second), one-strict → 400", async () => {
    for (const size of SIZES) {
      await setMode(modeOf("one", size));
      const a0 = await list({ pageSize: 10, pageNum: 0 });
      const a1 = await list({ pageSize: 10, pageNum: 1 });
      assert.deepEqual(a0.json, a1.json, `one ${size}`);
      const eff = effective(size, 10);
      assert.deepEqual(a0.json.instances.map((i) => i.id), truth.slice(0, eff));

      await setMode(modeOf("zero", size));
      const z0 = await list({ pageSize: 10, pageNum: 0 });
      const z1 = await list({ pageSize: 10, pageNum: 1 });
      assert.deepEqual(z0.json.instances.map((i) => i.id), truth.slice(0, eff), `zero ${size}: page 0`);
      assert.deepEqual(z1.json.instances.map((i) => i.id), truth.slice(eff, 2 * eff), `zero ${size}: page 1`);

      await setMode(modeOf("one-strict", size));
      const s0 = await list({ pageSize: 10, pageNum: 0 });
      isErr(s0, 400, "VALIDATOR_PARAM");
      assert.match(s0.json.message, /pageNum/);
      assert.deepEqual(s0.json.metadata, {});
      assert.deepEqual((await list({ pageSize: 10, pageNum: 1 })).json.instances.map((i) => i.id), truth.slice(0, eff), `one-strict ${size}: page 1`);
    }
  });

  test("one-strict: the refusal is a 400 only for pageNum=0; other bad values keep their own message", async () => {
    await setMode("one-strict");
    const r = await list({ pageSize: 0, pageNum: 0 });
    isErr(r, 400, "VALIDATOR_PARAM");
    assert.equal(r.json.message, "pageNum must be >= 1 (pages are numbered from 1)");
    isErr(await list({ pageSize: 10, pageNum: -1 }), 400, "VALIDATOR_PARAM");
    assert.match((await list({ pageSize: 10, pageNum: -1 })).json.message, /pageNum must be an integer >= 0/);
    assert.match((await list({ pageSize: 10 })).json.message, /pageNum is required/);
  });

  test("cap:N serves min(pageSize, N) silently; pageSize 0 → an empty page with total", async () => {
    for (const numbering of NUMBERINGS) {
      await setMode(`${numbering},cap:20`);
      const first = numbering === "zero" ? 0 : 1;
      for (const [pageSize, len] of [[1, 1], [5, 5], [20, 20], [21, 20], [500, 20]]) {
        const r = await list({ pageSize, pageNum: first });
        assert.equal(r.status, 200);
        assert.equal(r.json.instances.length, len, `${numbering} pageSize ${pageSize}`);
        assert.deepEqual(Object.keys(r.json), ["instances", "total"]);
      }
      assert.deepEqual((await list({ pageSize: 0, pageNum: first })).json, { instances: [], total: N });
      assert.deepEqual((await list({ pageSize: 0, pageNum: first + 3 })).json, { instances: [], total: N });
    }
    await setMode("cap:250"); // above the default 100
    assert.equal((await list({ pageSize: 1000, pageNum: 1 })).json.instances.length, N);
  });

  test("fixed:N ignores pageSize (0 included) but still requires and validates it", async () => {
    for (const numbering of NUMBERINGS) {
      await setMode(`${numbering},fixed:25`);
      const first = numbering === "zero" ? 0 : 1;
      for (const pageSize of [0, 1, 25, 26, 100, 100000]) {
        const r = await list({ pageSize, pageNum: first + 1 });
        assert.deepEqual(r.json.instances.map((i) => i.id), truth.slice(25, 50), `${numbering} pageSize ${pageSize}`);
        assert.equal(r.json.total, N);
      }
      const missing = await list({ pageNum: first });
      isErr(missing, 400, "VALIDATOR_PARAM");
      assert.match(missing.json.message, /pageSize is required/);
      for (const pageSize of [-1, "x", "2.5", ""]) isErr(await list({ pageSize, pageNum: first }), 400, "VALIDATOR_PARAM");
    }
  });

  test("filters combine with every numbering and size: total is the filtered count, pages slice the filtered list", async () => {
    const all = await t.state("novita");
    const running = all.filter((i) => i.status === "running").map((i) => i.id);
    assert.ok(running.length > 25);
    for (const mode of ["zero,fixed:25", "one-strict,cap:7", "one"]) {
      await setMode(mode);
      const first = mode.startsWith("zero") ? 0 : 1;
      const ids = [];
      for (let page = first; ids.length < running.length; page++) {
        const r = await list({ pageSize: 10, pageNum: page, status: "running" });
        assert.equal(r.json.total, running.length, mode);
        assert.ok(r.json.instances.length > 0, `${mode}: page ${page} is not empty before the end`);
        ids.push(...r.json.instances.map((i) => i.id));
      }
      assert.deepEqual(ids, running, mode);
    }
  });

  test("POST /__sim/config switches the mode live (no regeneration); a bad mode → 400 naming the part, nothing changed", async () => {
    await setMode("one");
    const c = await t.call("novita", "POST", "/gpu/instance/create", { body: CREATE });
    assert.equal(c.status, 200, c.text);
    const before = (await t.state("novita")).map((i) => i.id);
    assert.ok(before.includes(c.json.id));
    const clock0 = (await t.control("GET", "/clock")).json.now;
    assert.equal(await setMode("cap:20,zero"), "zero,cap:20");
    assert.equal((await t.control("GET", "/config")).json.config.novitaPaging, "zero,cap:20");
    assert.deepEqual((await t.state("novita")).map((i) => i.id), before, "the fleet is not regenerated");
    assert.equal((await t.control("GET", "/clock")).json.now, clock0);
    for (const [mode, part] of [["zero,cap:0", "cap:0"], ["fixed", "fixed"], ["one,zero", "zero"], ["cap:5,cap:6", "cap:6"]]) {
      const r = await t.control("POST", "/config", { novitaPaging: mode });
      assert.equal(r.status, 400, mode);
      assert.equal(r.json.ok, false);
      assert.match(r.json.error, new RegExp(`novitaPaging: .*"${part}"`), mode);
    }
    assert.equal((await t.control("POST", "/config", { novitaPaging: 3 })).status, 400);
    // a bad field refuses the whole change
    const mixed = await t.control("POST", "/config", { sfcShape: "july", novitaPaging: "bogus" });
    assert.equal(mixed.status, 400);
    const cfg = (await t.control("GET", "/config")).json.config;
    assert.deepEqual([cfg.novitaPaging, cfg.sfcShape], ["zero,cap:20", "seed"]);
    await setMode("one");
  });

  test("POST /__sim/reset takes novitaPaging; omitted → the start-up value; bad → 400 naming the part", async () => {
    const r = await t.control("POST", "/reset", { novitaPaging: "one-strict,fixed:25" });
    assert.equal(r.status, 200);
    assert.equal(r.json.config.novitaPaging, "one-strict,fixed:25");
    isErr(await list({ pageSize: 10, pageNum: 0 }), 400, "VALIDATOR_PARAM");
    assert.equal((await list({ pageSize: 10, pageNum: 1 })).json.instances.length, 25);
    const back = await t.control("POST", "/reset", {});
    assert.equal(back.json.config.novitaPaging, "one,cap:100");
    const bad = await t.control("POST", "/reset", { novitaPaging: "zero,fixed:0" });
    assert.equal(bad.status, 400);
    assert.match(bad.json.error, /part "fixed:0"/);
    assert.equal((await t.control("GET", "/config")).json.config.novitaPaging, "one,cap:100");
    truth = (await t.state("novita")).map((i) => i.id);
  });
});

// ---------------------------------------------------------------------------------------------

describe("novitaInstanceLimit → 400 CREATE_INSTANCE_LIMIT", () => {
  let t;
  const create = (body = CREATE) => t.call("novita", "POST", "/gpu/instance/create", { body });
  const act = (verb, instanceId) => t.call("novita", "POST", `/gpu/instance/${verb}`, { body: { instanceId } });
  const counting = async () => (await t.state("novita")).filter((i) => i.status !== "removed").length;

  before(async () => {
    t = await testSim({ instances: 100, seed: 3 });
  });
  after(() => t.close());

  test("unlimited by default", async () => {
    assert.equal((await t.control("GET", "/config")).json.config.novitaInstanceLimit, null);
    assert.equal((await create()).status, 200);
  });

  test("a create beyond the limit is refused; validation comes first; removed instances stop counting", async () => {
    const n = await counting();
    assert.ok((await t.state("novita")).some((i) => i.status === "removed"), "the seeded fleet has removed instances, which do not count");
    const set = await t.control("POST", "/config", { novitaInstanceLimit: n + 1 });
    assert.equal(set.status, 200);
    assert.equal(set.json.config.novitaInstanceLimit, n + 1);
    const ok = await create();
    assert.equal(ok.status, 200, ok.text);
    const before = (await t.state("novita")).length;
    const r = await create();
    isErr(r, 400, "CREATE_INSTANCE_LIMIT");
    assert.match(r.json.message, new RegExp(`instance limit reached: ${n + 1} instances count against this account's limit of ${n + 1}`));
    assert.deepEqual(r.json.metadata, { limit: n + 1, instances: n + 1 });
    assert.equal((await t.state("novita")).length, before, "nothing created");
    // invalid bodies still get their own error
    isErr(await create({ ...CREATE, gpuNum: 0 }), 400, "VALIDATOR_PARAM");
    isErr(await create({ ...CREATE, productId: "prod-nope" }), 400, "PRODUCT_NOT_FOUND");
    // deleting: toRemove / removing still count, removed does not
    assert.equal((await act("delete", ok.json.id)).status, 200);
    isErr(await create(), 400, "CREATE_INSTANCE_LIMIT");
    await t.advance(LIFECYCLE.novita.delete[1][0]);
    isErr(await create(), 400, "CREATE_INSTANCE_LIMIT");
    await t.advance(LIFECYCLE.novita.delete[2][0] - LIFECYCLE.novita.delete[1][0]);
    assert.equal((await create()).status, 200);
    isErr(await create(), 400, "CREATE_INSTANCE_LIMIT");
  });

  test("reset takes the limit (0 refuses every create); null or \"unlimited\" lifts it; bad values → 400", async () => {
    const r = await t.control("POST", "/reset", { novitaInstanceLimit: 0 });
    assert.equal(r.json.config.novitaInstanceLimit, 0);
    const refused = await create();
    isErr(refused, 400, "CREATE_INSTANCE_LIMIT");
    assert.deepEqual(refused.json.metadata.limit, 0);
    assert.equal((await t.control("POST", "/reset", { novitaInstanceLimit: null })).json.config.novitaInstanceLimit, null);
    assert.equal((await create()).status, 200);
    await t.control("POST", "/config", { novitaInstanceLimit: 1 });
    assert.equal((await t.control("POST", "/config", { novitaInstanceLimit: "unlimited" })).json.config.novitaInstanceLimit, null);
    for (const bad of [-1, "lots", 2.5]) {
      for (const route of ["/reset", "/config"]) {
        const b = await t.control("POST", route, { novitaInstanceLimit: bad });
        assert.equal(b.status, 400, `${route} ${bad}`);
        assert.match(b.json.error, /novitaInstanceLimit must be an integer/);
      }
    }
    await t.control("POST", "/reset", {});
  });
});

// ---------------------------------------------------------------------------------------------

describe("Novita documented error reasons", () => {
  let t;
  before(async () => {
    t = await testSim({ instances: 10 });
  });
  after(() => t.close());

  test("429 RATE_LIMIT_EXCEEDED, 500 UNKNOWN; unknown ids → 400 RESOURCE_NOT_FOUND on get and every action", async () => {
    const q = { pageSize: 1, pageNum: 1 };
    await t.control("POST", "/faults", { provider: "novita", kinds: ["429"], times: 1 });
    isErr(await t.call("novita", "GET", "/gpu/instances", { query: q }), 429, "RATE_LIMIT_EXCEEDED");
    await t.control("POST", "/faults", { provider: "novita", kinds: ["500"], times: 1 });
    isErr(await t.call("novita", "GET", "/gpu/instances", { query: q }), 500, "UNKNOWN");
    await t.control("DELETE", "/faults");
    const get = await t.call("novita", "GET", "/gpu/instance", { query: { instanceId: "0000000000000000" } });
    isErr(get, 400, "RESOURCE_NOT_FOUND");
    assert.equal(get.json.message, "instance 0000000000000000 not found");
    for (const verb of ["start", "stop", "restart", "delete"]) {
      isErr(await t.call("novita", "POST", `/gpu/instance/${verb}`, { body: { instanceId: "0000000000000000" } }), 400, "RESOURCE_NOT_FOUND");
    }
    // parameter errors anywhere are VALIDATOR_PARAM
    isErr(await t.call("novita", "GET", "/gpu/instance"), 400, "VALIDATOR_PARAM");
    isErr(await t.call("novita", "POST", "/gpu/instance/stop", { body: "{bad" }), 400, "VALIDATOR_PARAM");
    isErr(await t.call("novita", "POST", "/gpu/instance/create", { body: [] }), 400, "VALIDATOR_PARAM");
  });
});

// ---------------------------------------------------------------------------------------------

describe("Novita seeded spot instances", () => {
  test("every fleet of 4+ holds notified spot instances (reclaim within the hour) and running ones (\"0\"), deterministically", async () => {
    for (const [seed, instances] of [[1, 25], [2, 25], [9, 8], [42, 300]]) {
      const a = await testSim({ seed, instances });
      const b = await testSim({ seed, instances });
      try {
        const { now, instances: all } = (await a.control("GET", "/state?provider=novita")).json;
        const nowS = Math.floor(now / 1000);
        for (const i of all) assert.ok(["onDemand", "monthly", "spot"].includes(i.billingMode), `${i.id} billingMode`);
        const spot = all.filter((i) => i.billingMode === "spot");
        for (const i of spot) {
          assert.ok(["running", "notified", "reclaiming", "terminated"].includes(i.spotStatus), i.id);
          assert.match(i.spotReclaimTime, /^\d+$/);
        }
        for (const i of all.filter((x) => x.billingMode !== "spot")) assert.equal("spotStatus" in i, false, i.id);
        const notified = spot.filter((i) => i.spotStatus === "notified" && i.status === "running");
        const running = spot.filter((i) => i.spotStatus === "running" && i.status === "running");
        assert.ok(notified.length >= spotMinimum(instances), `seed ${seed}: ${notified.length} notified`);
        assert.ok(running.length >= spotMinimum(instances), `seed ${seed}: ${running.length} spot running`);
        for (const i of notified) {
          const at = Number(i.spotReclaimTime);
          assert.ok(at > nowS && at <= nowS + 3600, `${i.id}: reclaim ${at} within the hour after ${nowS}`);
        }
        for (const i of running) assert.equal(i.spotReclaimTime, "0", i.id);
        const key = (i) => `${i.id}:${i.billingMode}:${i.spotStatus}:${i.spotReclaimTime}`;
        assert.deepEqual(all.map(key), (await b.state("novita")).map(key), `seed ${seed}: deterministic`);
        // the detail shape carries them too
        const d = await a.call("novita", "GET", "/gpu/instance", { query: { instanceId: notified[0].id } });
        assert.deepEqual([d.json.billingMode, d.json.spotStatus, d.json.spotReclaimTime], ["spot", "notified", notified[0].spotReclaimTime]);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    }
    assert.equal(spotMinimum(3), 0);
    assert.equal(spotMinimum(25), 2);
    assert.equal(spotMinimum(1000), 10);
  });
});

// ---------------------------------------------------------------------------------------------

describe("CLI: Novita flags", () => {
  test("--novita-paging and --novita-instance-limit are honoured and shown in /__sim/config", async () => {
    const r = await runCli(["--port", "0", "--instances", "2", "--novita-paging", "cap:20,zero", "--novita-instance-limit=5"], { untilReady: true });
    assert.equal(r.cfg.config.novitaPaging, "zero,cap:20");
    assert.equal(r.cfg.config.novitaInstanceLimit, 5);
    assert.match(r.out, /novitaPaging zero,cap:20, novitaInstanceLimit 5/);
  });

  test("a bad --novita-paging or --novita-instance-limit exits 2 with the bad part and the usage", async () => {
    for (const [args, re] of [
      [["--novita-paging", "zero,cap:0"], /novitaPaging: part "cap:0": N must be an integer/],
      [["--novita-paging=one,sideways"], /novitaPaging: unknown part "sideways"/],
      [["--novita-paging", ""], /novitaPaging: must not be empty/],
      [["--novita-instance-limit", "many"], /novitaInstanceLimit must be an integer/],
      [["--novita-paging"], /--novita-paging needs a value/],
    ]) {
      const r = await runCli(["--port", "0", ...args]);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.err}`);
      assert.match(r.err, re, args.join(" "));
      assert.match(r.err, /usage: npm run sim/);
      assert.doesNotMatch(r.out, /listening/);
    }
  });
});
