// The seeded fleet: determinism, scale, hostile strings, IP ranges; and the CLI.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import path from "node:path";
import { testSim, SIM_DIR } from "./helpers.mjs";
import { HOSTILE, HOSTILE_TAG_VALUES } from "./hostile.mjs";
import { NAME_RE } from "./sfcompute.mjs";
import { SIM_KEYS } from "./defaults.mjs";

const WS = SIM_KEYS.sfcWorkspace;
const listings = async (t) => ({
  fal: (await t.call("fal", "GET", "/compute/instances", { query: { limit: 100 } })).text,
  falPage2: (await t.call("fal", "GET", "/compute/instances", { query: { limit: 100, cursor: "Mg==" } })).text,
  alpha: (await t.call("fal-alpha", "GET", "/compute/instances")).text,
  sfc: (await t.call("sfcompute", "GET", "/instances", { query: { workspace: WS, limit: 200, include: "cloud_init_user_data" } })).text,
  novita: (await t.call("novita", "GET", "/gpu/instances", { query: { pageSize: 100, pageNum: 2 } })).text,
});

describe("fleet", () => {
  test("the same seed gives byte-identical listings; another seed differs", async () => {
    const a = await testSim({ seed: 1234, instances: 300, speed: 1 });
    const b = await testSim({ seed: 1234, instances: 300, speed: 1 });
    const c = await testSim({ seed: 1235, instances: 300, speed: 1 });
    try {
      const [la, lb, lc] = [await listings(a), await listings(b), await listings(c)];
      for (const k of Object.keys(la)) {
        assert.equal(la[k], lb[k], k);
        assert.notEqual(la[k], lc[k], k);
      }
      // the true state too (minus the clock reading)
      const state = async (t) => {
        const { now, ...rest } = (await t.control("GET", "/state")).json;
        return rest;
      };
      assert.deepEqual(await state(a), await state(b));
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });

  test("instances created in the same order get the same ids on two servers", async () => {
    const a = await testSim({ seed: 3, instances: 5 });
    const b = await testSim({ seed: 3, instances: 5 });
    try {
      for (const t of [a, b]) {
        await t.call("fal", "POST", "/compute/instances", { body: { instance_type: "gpu_1x_h100_sxm5", ssh_key: "k" } });
        await t.call("sfcompute", "POST", "/instances", { body: { capacity: "cap_h100sfprod01", image: "image_ubuntu2204cuda127" } });
        await t.call("novita", "POST", "/gpu/instance/create", { body: { productId: "prod-rtx4090-24g", gpuNum: 1, rootfsSize: 20, imageUrl: "u", kind: "gpu" } });
      }
      assert.deepEqual((await a.control("GET", "/state")).json, (await b.control("GET", "/state")).json);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  test("10,000 instances per provider: starts and lists every provider", async () => {
    const t0 = performance.now();
    const t = await testSim({ instances: 10_000 });
    const started = performance.now() - t0;
    try {
      assert.ok(started < 5000, `start took ${started} ms`); // generation is lazy; real target: well under 1 s
      const f = await t.call("fal", "GET", "/compute/instances", { query: { limit: 100, cursor: Buffer.from("100").toString("base64") } });
      assert.equal(f.json.instances.length, 100);
      assert.equal(f.json.has_more, false);
      const s = await t.call("sfcompute", "GET", "/instances", { query: { workspace: WS, limit: 200, status: "running" } });
      assert.equal(s.json.data.length, 200);
      const n = await t.call("novita", "GET", "/gpu/instances", { query: { pageSize: 100, pageNum: 100 } });
      assert.equal(n.json.total, 10_000);
      assert.equal(n.json.instances.length, 100);
      const a = await t.call("fal-alpha", "GET", "/compute/instances");
      assert.equal(a.json.length, 10_000);
    } finally {
      await t.close();
    }
  });

  test("IPs come only from the documentation ranges", async () => {
    const t = await testSim({ instances: 400 });
    try {
      await t.advance(3_600_000); // everything that will become ready has
      const text = JSON.stringify((await t.control("GET", "/state?detail=1")).json) + (await t.control("GET", "/state?provider=novita&detail=1")).json.instances.map((i) => JSON.stringify(i)).join("");
      const ips = text.match(/\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b/g) ?? [];
      assert.ok(ips.length > 500);
      for (const ip of ips) assert.match(ip, /^(203\.0\.113|198\.51\.100)\./, ip);
    } finally {
      await t.close();
    }
  });

  test("generated transitional instances move with the clock", async () => {
    const t = await testSim({ instances: 300 });
    try {
      const count = (list, s) => list.filter((i) => i.status === s).length;
      const f0 = await t.state("fal");
      const n0 = await t.state("novita");
      await t.advance(20 * 60_000);
      const f1 = await t.state("fal");
      const n1 = await t.state("novita");
      assert.ok(count(f1, "ready") > count(f0, "ready"));
      assert.ok(count(n1, "running") > count(n0, "running"));
      assert.ok(n1.length < n0.length, "lingering removed Novita instances vanished");
    } finally {
      await t.close();
    }
  });

  test("--hostile seeds hostile-but-valid strings in every free-text field", async () => {
    const t = await testSim({ instances: 60, hostile: true });
    try {
      const fal = await t.state("fal");
      const sfc = await t.state("sfcompute");
      const nov = await t.state("novita");
      const falNicks = new Set(fal.map((i) => i.creator_user_nickname));
      for (const h of HOSTILE) assert.ok(falNicks.has(h), `fal nickname ${JSON.stringify(h)}`);
      const novText = JSON.stringify(nov);
      for (const h of HOSTILE) assert.ok(novText.includes(JSON.stringify(h).slice(1, -1)), `novita ${JSON.stringify(h)}`);
      assert.ok(nov.some((i) => i.name.length === 255));
      assert.ok(nov.some((i) => i.name === "<script>alert(1)</script>"));
      assert.ok(nov.some((i) => i.clusterName.includes("<img src=x onerror=alert(1)>")));
      const tagValues = new Set(sfc.flatMap((i) => Object.values(i.tags)));
      for (const h of HOSTILE_TAG_VALUES) assert.ok(tagValues.has(h), `sfc tag ${JSON.stringify(h)}`);
      assert.ok(sfc.some((i) => i.image.name.includes('"><svg onload=alert(1)>')));
      assert.ok(sfc.some((i) => i.name.length === 255));
      // still valid per SF Compute's rules
      for (const i of sfc) {
        assert.match(i.name, NAME_RE);
        for (const [k, v] of Object.entries(i.tags)) {
          assert.match(k, /^[^_,= ][^,= ]{0,127}$/u);
          assert.match(v, /^[^,=]{0,256}$/u);
        }
        assert.ok([...i.image.name].length <= 255);
      }
      // hostile strings survive the round trip through list/get untouched
      const g = await t.call("novita", "GET", "/gpu/instance", { query: { instanceId: nov[0].id } });
      assert.equal(g.json.name, nov[0].name);
      const created = await t.call("novita", "POST", "/gpu/instance/create", {
        body: { productId: "prod-rtx4090-24g", gpuNum: 1, rootfsSize: 20, imageUrl: "u", kind: "gpu", name: "\u202E<b>x</b>" },
      });
      assert.equal((await t.call("novita", "GET", "/gpu/instance", { query: { instanceId: created.json.id } })).json.name, "\u202E<b>x</b>");
    } finally {
      await t.close();
    }
  });
});

describe("CLI", () => {
  test("npm run sim prints the ready line; flags are honoured; SIGTERM stops it", async () => {
    const child = spawn(process.execPath, [path.join(SIM_DIR, "server.mjs"), "--port", "0", "--seed", "77", "--instances", "3", "--speed", "10", "--sfc-shape=july", "--hostile"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      const url = await new Promise((resolve, reject) => {
        let out = "";
        const timer = setTimeout(() => reject(new Error("no ready line: " + out)), 10_000);
        child.stdout.on("data", (d) => {
          out += d;
          const m = /^gpufleet sim listening on (http:\/\/127\.0\.0\.1:\d+)$/m.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]);
          }
        });
        child.on("exit", (code) => reject(new Error(`exited ${code}: ${out}`)));
      });
      const cfg = await (await fetch(url + "/__sim/config")).json();
      assert.deepEqual([cfg.config.seed, cfg.config.instances, cfg.config.speed, cfg.config.sfcShape, cfg.config.hostile], [77, 3, 10, "july", true]);
    } finally {
      const exited = new Promise((r) => child.on("exit", r));
      child.kill("SIGTERM");
      await exited;
    }
  });

  test("bad flags exit with status 2 and usage", async () => {
    const child = spawn(process.execPath, [path.join(SIM_DIR, "server.mjs"), "--bogus"], { stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    const code = await new Promise((r) => child.on("exit", r));
    assert.equal(code, 2);
    assert.match(err, /usage: npm run sim/);
  });
});
