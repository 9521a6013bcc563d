// List bodies as each provider sends them, from the simulated clouds' seeded fleet generator
// (tests/sim/): the records the sim would list, wrapped in each provider's list envelope.
// Deterministic: the same (seed, n) gives the same bytes.

import { Sim, normalizeConfig } from "../tests/sim/sim.mjs";
import { PROVIDER_MODULES } from "../tests/sim/server.mjs";

export const PROVIDERS = ["fal", "fal-alpha", "sfcompute", "novita"];

/** `{ provider: bodyText }` with `n` instances each (one page holding all of them). */
export function listBodies(n, { seed = 8, epoch = "2026-05-01T00:00:00.000Z", sfcShape = "seed" } = {}) {
  const { config, errors } = normalizeConfig({ seed, instances: n, speed: 0, epoch, sfcShape });
  if (errors.length) throw new Error(errors.join("; "));
  const sim = new Sim(config);
  const records = (p) => PROVIDER_MODULES[p].renderAll(sim);
  return {
    fal: JSON.stringify({ instances: records("fal"), next_cursor: null, has_more: false }),
    "fal-alpha": JSON.stringify(records("fal-alpha")),
    sfcompute: JSON.stringify({ object: "list", has_more: false, data: records("sfcompute") }),
    novita: JSON.stringify({ instances: records("novita"), total: n }),
  };
}
