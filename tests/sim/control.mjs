// The control API under /__sim/ (JSON in/out, no auth, CORS like everything else). Tests use it
// to reset/reseed, move the clock, add latency and faults, read the request log and the true state.
//
//   GET    /__sim/health                      {ok:true}
//   GET    /__sim/config                      config, clock, base paths, keys, lifecycle durations
//   POST   /__sim/config   {sfcShape?, speed?, novitaPaging?, novitaInstanceLimit?}
//          live change, no regeneration; all fields are validated before any is applied
//   POST   /__sim/reset    {seed?, instances?, hostile?, sfcShape?, speed?, epoch?, novitaPaging?,
//          novitaInstanceLimit?}
//          regenerates everything; clears faults, latency, log, idempotency cache, clock offset;
//          omitted fields fall back to the values the server was started with
//          (novitaInstanceLimit: null or "unlimited" = no limit)
//
//   Novita knobs (CLI --novita-paging <mode>, --novita-instance-limit <n>; startSim options):
//   - novitaPaging: comma-separated parts, at most one of each kind, any order (novita.mjs
//     parseNovitaPaging); the config shows the canonical form, numbering first. Default
//     "one,cap:100" (the behaviour before the knob existed).
//       one          pageNum counted from 1; pageNum=0 is served as page 1          (default)
//       zero         pageNum counted from 0; pageNum=0 is the first page, 1 the second
//       one-strict   pageNum counted from 1; pageNum=0 → 400 VALIDATOR_PARAM naming pageNum
//       cap:N        pages of min(pageSize, N) items; a larger pageSize is capped silently;
//                    pageSize=0 → an empty page with `total`                        (default cap:100)
//       fixed:N      pages of N items whatever pageSize is (still required and validated; 0 too)
//     e.g. "zero,cap:20", "one-strict,fixed:25". A bad mode → 400 here, exit 2 from the CLI,
//     a RangeError from startSim, each naming the bad part.
//   - novitaInstanceLimit: integer >= 0 or null (default, unlimited): a create when that many
//     Novita instances count (every listed one not `removed`) → 400 CREATE_INSTANCE_LIMIT.
//   GET    /__sim/clock                       {now, nowIso, speed}
//   POST   /__sim/advance  {ms}               move the sim clock forward
//   POST   /__sim/speed    {speed}            sim ms per real ms (0 = frozen)
//   GET|POST|DELETE /__sim/latency  {provider?, ms}        no provider = every provider
//   GET|POST|DELETE /__sim/faults   {provider?, rate=1, kinds[], retryAfterSeconds=1, slowMs=2000,
//          seed?, after=0, times?, paths?, methods?}  (or {rules:[…]}); times = fire at most n times; POST APPENDS rules, the first rule
//          that fires wins; kinds: 429 500 502 503 drop truncate slow drop-after-commit
//   GET    /__sim/requests[?provider=&since=<seq>]   the request log (bounded, newest last)
//   DELETE /__sim/requests
//   GET    /__sim/state[?provider=][&include=cloud_init_user_data][&detail=1]
//          every instance exactly as a complete listing would return it, in list order
//   POST   /__sim/force-status {provider, id, status, statusError?}   test hook
//   GET    /__sim/money                       the sim's price list, opening balances and what each
//          account has been charged and holds now, in each provider's unit (money.mjs)

import { normalizeConfig, parseNovitaInstanceLimit } from "./sim.mjs";
import { parseNovitaPaging } from "./novita.mjs";
import { normalizeProvider, FAULT_KINDS } from "./faults.mjs";
import { schedule } from "./clock.mjs";
import { json, parseJsonBody, isPlainObject } from "./util.mjs";
import { PROVIDERS, BASE_PATHS, SIBLING_PATHS, SIM_KEYS } from "./defaults.mjs";
import { LIFECYCLE } from "./fleet.mjs";
import { moneyState } from "./money.mjs";

const ok = (body = {}) => json(200, { ok: true, ...body });
const fail = (status, message) => json(status, { ok: false, error: message });

function clockInfo(sim) {
  const now = sim.now();
  return { now, nowIso: new Date(now).toISOString(), speed: sim.clock.speed };
}

function bodyOf(ctx) {
  if (ctx.body.length === 0) return { ok: true, value: {} };
  const p = parseJsonBody(ctx.body);
  if (!p.ok) return p;
  if (!isPlainObject(p.value)) return { ok: false, error: "body must be a JSON object" };
  return p;
}

/**
 * @param ctx {sim, method, path (after /__sim), query, body, providers}
 */
export function handleControl(ctx) {
  const { sim, method, path, query, providers } = ctx;
  const route = `${method} ${path}`;
  let b = {};
  if (method === "POST" || method === "PUT" || method === "PATCH") {
    const p = bodyOf(ctx);
    if (!p.ok) return fail(400, p.error);
    b = p.value;
  }
  try {
    switch (route) {
      case "GET /health":
        return json(200, { ok: true });

      case "GET /config":
        return ok({ config: sim.config, ...clockInfo(sim), basePaths: BASE_PATHS, siblingPaths: SIBLING_PATHS, keys: SIM_KEYS, lifecycle: LIFECYCLE, faultKinds: FAULT_KINDS });

      case "POST /config": {
        // live changes that do not regenerate the fleet; validate everything, then apply
        if (b.sfcShape !== undefined && b.sfcShape !== "seed" && b.sfcShape !== "july") return fail(400, 'sfcShape must be "seed" or "july"');
        if (b.speed !== undefined && !(Number.isFinite(Number(b.speed)) && Number(b.speed) >= 0 && Number(b.speed) <= 1e6)) return fail(400, "speed must be a number 0..1000000");
        let paging;
        if (b.novitaPaging !== undefined) {
          paging = parseNovitaPaging(b.novitaPaging);
          if (!paging.ok) return fail(400, paging.error);
        }
        let limit;
        if (b.novitaInstanceLimit !== undefined) {
          limit = parseNovitaInstanceLimit(b.novitaInstanceLimit);
          if (!limit.ok) return fail(400, limit.error);
        }
        if (b.sfcShape !== undefined) sim.config.sfcShape = b.sfcShape;
        if (paging) sim.config.novitaPaging = paging.value.mode;
        if (limit) sim.config.novitaInstanceLimit = limit.value;
        if (b.speed !== undefined) {
          sim.clock.setSpeed(Number(b.speed));
          sim.config.speed = Number(b.speed);
        }
        return ok({ config: sim.config, ...clockInfo(sim) });
      }

      case "POST /reset": {
        // omitted fields fall back to the values the server was started with
        const { config, errors } = normalizeConfig(b, sim.startConfig);
        if (errors.length) return fail(400, errors.join("; "));
        sim.reset(config);
        return ok({ config: sim.config, ...clockInfo(sim) });
      }

      case "GET /clock":
        return ok(clockInfo(sim));

      case "POST /advance": {
        const ms = Number(b.ms ?? (b.seconds !== undefined ? b.seconds * 1000 : NaN));
        if (!Number.isFinite(ms) || ms < 0) return fail(400, "ms must be a non-negative number");
        sim.clock.advance(ms);
        return ok(clockInfo(sim));
      }

      case "POST /speed": {
        const speed = Number(b.speed);
        if (!Number.isFinite(speed) || speed < 0 || speed > 1e6) return fail(400, "speed must be a number 0..1000000");
        sim.clock.setSpeed(speed);
        sim.config.speed = speed;
        return ok(clockInfo(sim));
      }

      case "GET /latency":
        return ok({ latency: sim.latency });

      case "POST /latency": {
        const ms = Number(b.ms);
        if (!Number.isFinite(ms) || ms < 0 || ms > 600_000) return fail(400, "ms must be a number 0..600000");
        const provider = normalizeProvider(b.provider);
        if (provider) sim.latency[provider] = ms;
        else {
          sim.latency = { "*": ms };
        }
        return ok({ latency: sim.latency });
      }

      case "DELETE /latency":
        sim.latency = {};
        return ok({ latency: sim.latency });

      case "GET /faults":
        return ok({ rules: sim.faults.toJSON() });

      case "POST /faults": {
        const inputs = Array.isArray(b.rules) ? b.rules : [b];
        const added = inputs.map((r) => sim.faults.add(r));
        return ok({ added: added.map((r) => ({ ...r })), rules: sim.faults.toJSON() });
      }

      case "DELETE /faults":
        sim.faults.clear();
        return ok({ rules: [] });

      case "GET /requests": {
        let entries = sim.log;
        const provider = query.get("provider");
        if (provider) {
          const p = normalizeProvider(provider);
          entries = entries.filter((e) => e.provider === p);
        }
        const since = Number(query.get("since") ?? 0);
        if (since > 0) entries = entries.filter((e) => e.seq > since);
        return json(200, entries);
      }

      case "DELETE /requests":
        sim.log = [];
        return ok();

      case "GET /state": {
        const p = normalizeProvider(query.get("provider"));
        const opts = {
          includeCloudInit: query.getAll("include").includes("cloud_init_user_data"),
          detail: query.get("detail") === "1" || query.get("detail") === "true",
        };
        const now = sim.now();
        if (p) return json(200, { provider: p, now, instances: providers[p].renderAll(sim, opts) });
        return json(200, { now, ...Object.fromEntries(PROVIDERS.map((q) => [q, providers[q].renderAll(sim, opts)])) });
      }

      case "GET /money":
        return ok({ now: sim.now(), ...moneyState(sim) });

      case "POST /force-status": {
        // test hook: put one instance into a given status from now on (future transitions dropped)
        const p = normalizeProvider(b.provider);
        if (!p) return fail(400, "provider is required");
        if (typeof b.id !== "string" || typeof b.status !== "string" || !b.status) return fail(400, "id and status are required strings");
        const now = sim.now();
        const rec = sim.stores[p].get(b.id, now);
        if (!rec) return fail(404, `no ${p} instance ${b.id}`);
        rec.timeline = schedule(rec.timeline, now, [[0, b.status]]);
        if (p === "novita" && b.statusError !== undefined) rec.statusError = b.statusError;
        const [one] = providers[p].renderAll(sim).filter((i) => i.id === b.id);
        return ok({ instance: one ?? null });
      }

      default:
        return fail(404, `unknown control route ${route}`);
    }
  } catch (e) {
    if (e instanceof RangeError) return fail(400, e.message);
    throw e;
  }
}
