// A client for the simulated clouds' control API (`/__sim/…`), for tests and benchmarks in Node.

/**
 * Calls `method path` on the control API of the sim at `simUrl` (e.g. `POST /faults`), with
 * `body` as JSON when given; resolves to the JSON answer, rejects with the status and answer
 * when the sim refuses.
 */
export async function simControl(simUrl, method, path, body) {
  const r = await fetch(`${simUrl}/__sim${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await r.json();
  if (!r.ok) throw new Error(`sim ${method} ${path}: ${r.status} ${JSON.stringify(json)}`);
  return json;
}
