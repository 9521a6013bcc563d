// The trivial pass-through Worker the proxy is compared with: same runtime (workerd via
// Miniflare), no auth, no parsing — it forwards the path and the Authorization header to the
// upstream and streams the answer back.

import { COMPATIBILITY_DATE } from "../scripts/proxy-runtime.mjs";

export const PASSTHROUGH_SCRIPT = `
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const headers = new Headers();
    const auth = request.headers.get("authorization");
    if (auth) headers.set("authorization", auth);
    return fetch(env.UPSTREAM + url.pathname + url.search, { method: request.method, headers });
  },
};
`;

/** Starts the pass-through Worker in workerd in front of `upstream`. Returns { mf, url, dispose }. */
export async function startPassthrough({ upstream, port = 0, host = "127.0.0.1" }) {
  const { Miniflare } = await import("miniflare");
  const mf = new Miniflare({
    modules: true,
    script: PASSTHROUGH_SCRIPT,
    compatibilityDate: COMPATIBILITY_DATE,
    cf: false,
    bindings: { UPSTREAM: upstream },
    port,
    host,
    handleRuntimeStdio: () => {},
  });
  const url = String(await mf.ready).replace(/\/$/, "");
  return { mf, url, dispose: () => mf.dispose() };
}
