// A plain push client of the proxy's live view (`GET /api/v1/live`, Server-Sent Events), for
// tests: it keeps every event it reads, and the fleet as the events build it.

/**
 * Opens the stream at `url` with `headers`. Resolves once the answer's head is in:
 * `{ status, headers, events, fleet, waitFor(pred, ms), close() }`; `events` are
 * `{ event, data, at }` in arrival order, `fleet` a Map "provider/id" → instance.
 */
export async function openLive(url, headers = {}) {
  const ctrl = new AbortController();
  const r = await fetch(url, { headers, signal: ctrl.signal });
  const client = {
    status: r.status,
    headers: r.headers,
    events: [],
    fleet: new Map(),
    last: {}, // the latest data of each event type
    waiters: new Set(),
    async waitFor(pred, ms = 10_000, what = "a live event") {
      const found = () => client.events.find(pred);
      if (found()) return found();
      return new Promise((resolve, reject) => {
        const w = () => {
          const e = found();
          if (!e) return;
          clearTimeout(timer);
          client.waiters.delete(w);
          resolve(e);
        };
        const timer = setTimeout(() => {
          client.waiters.delete(w);
          reject(new Error(`no ${what} within ${ms} ms; got: ${client.events.map((e) => e.event).join(", ")}`));
        }, ms);
        client.waiters.add(w);
      });
    },
    close() {
      ctrl.abort();
    },
  };
  if (r.status !== 200) {
    client.text = await r.text();
    return client;
  }
  (async () => {
    const reader = r.body.getReader();
    const decoder = new TextDecoder();
    let buf = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += decoder.decode(value, { stream: true });
        let i;
        while ((i = buf.indexOf("\n\n")) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (!event) continue; // a heartbeat comment
          const parsed = JSON.parse(data);
          apply(client, event, parsed);
          client.events.push({ event, data: parsed, at: Date.now() });
          for (const w of client.waiters) w();
        }
      }
    } catch {
      // closed by close(), or the proxy went away
    }
    client.ended = true;
  })();
  return client;
}

function apply(client, event, data) {
  client.last[event] = data;
  if (event === "snapshot") {
    client.fleet = new Map(data.instances.map((i) => [`${i.provider}/${i.id}`, i]));
  } else if (event === "diff") {
    for (const i of data.upserts) client.fleet.set(`${i.provider}/${i.id}`, i);
    for (const key of data.removed) client.fleet.delete(key);
  }
}

/** Whether `e` says a walk is complete (a step's status, or a snapshot sent after one). */
export const walked = (e) => (e.event === "status" || e.event === "snapshot") && !e.data.filling && !e.data.walking;
