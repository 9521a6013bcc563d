// A module Worker that runs the scenario on each request: GET /?sim=<url> → the JSON report.
// The import below is what the exports map's "workerd" condition names (checked by the test).
import * as gpufleet from "./node_modules/gpufleet/workerd.js";
import { runScenario } from "./scenario.mjs";

export default {
  async fetch(request) {
    const simUrl = new URL(request.url).searchParams.get("sim");
    try {
      const report = await runScenario({ gpufleet, simUrl, runtime: "workerd" });
      return Response.json(report);
    } catch (e) {
      return Response.json({ ok: false, error: String(e && e.stack ? e.stack : e) }, { status: 500 });
    }
  },
};
