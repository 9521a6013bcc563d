// The plain-JS baseline of the decode benchmark: what a careful JavaScript client would write by
// hand to turn a provider's list body into gpufleet's `Page<Instance>` — `JSON.parse` plus a map
// to the same output shape, with the same rules as src/provider/*.rs:
//
//   - the same status mapping per provider (Novita `statusError` → failed except on running and
//     the removal states; spot reclaim reasons), `providerStatus` and `raw` (the record) kept;
//   - the same derived fields: fal GPU count/model from `instance_type`, IP and SSH; SF Compute
//     SKU/pool/capacity name, region, Unix-seconds `created_at` → ISO; Novita numbers sent as
//     text, GPU model from the product name, SSH command parsing, cluster, createdAt;
//     the offer each instance runs (`offerId`: fal instance type, SF Compute SKU id, Novita
//     product id) and Novita's last start/stop times;
//   - the same page fields (`nextCursor`, `hasMore`, Novita `total` and page arithmetic);
//   - the same required-field and type checks (a body that does not read as documented throws).
//
// It is not a second implementation to ship: it exists so the wasm path has an honest opponent.

import { isIP } from "node:net";

class DecodeError extends Error {
  constructor(provider, field, message) {
    super(`${provider}: ${field}: ${message}`);
    this.code = "decode";
    this.field = field;
  }
}

const isObj = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

/** An optional string field: string, or absent/null → undefined; anything else is an error. */
function optStr(provider, o, key, path) {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw new DecodeError(provider, `${path}.${key}`, "expected a string");
  return v;
}

function reqStr(provider, o, key, path) {
  const v = o[key];
  if (v === undefined || v === null) throw new DecodeError(provider, `${path}.${key}`, "missing required field");
  if (typeof v !== "string") throw new DecodeError(provider, `${path}.${key}`, "expected a string");
  return v;
}

const nonEmpty = (s) => (s === undefined || s === "" ? undefined : s);

/** Unix seconds → `YYYY-MM-DDTHH:MM:SSZ`. */
function isoFromSeconds(secs) {
  const s = new Date(secs * 1000).toISOString();
  return s.slice(0, 19) + "Z";
}

// ----- fal v1 and alpha ----------------------------------------------------------------------

const FAL_STATUS = { pending: "pending", init: "provisioning", provisioning: "provisioning", ready: "running", stopped: "stopped" };

function falInstance(provider, v, path) {
  if (!isObj(v)) throw new DecodeError(provider, path, "expected an instance object");
  const id = reqStr(provider, v, "id", path);
  const status = reqStr(provider, v, "status", path);
  const instanceType = optStr(provider, v, "instance_type", path);
  const region = optStr(provider, v, "region", path);
  const sector = optStr(provider, v, "sector", path);
  const ip = nonEmpty(optStr(provider, v, "ip", path));
  const out = { provider, id, status: FAL_STATUS[status] ?? "unknown", providerStatus: status };
  if (instanceType !== undefined) {
    out.instanceType = instanceType;
    if (instanceType.startsWith("gpu_")) {
      const rest = instanceType.slice(4);
      const x = rest.indexOf("x_");
      if (x >= 0) {
        const count = rest.slice(0, x);
        if (/^\+?\d+$/.test(count) && Number(count) <= 0xffffffff) out.gpuCount = Number(count);
        const model = rest.slice(x + 2);
        if (model) out.gpuModel = model.replaceAll("_", " ").toUpperCase();
      }
    }
  }
  if (region !== undefined) out.region = region;
  if (sector !== undefined) out.sector = sector;
  if (ip !== undefined) {
    out.ip = ip;
    out.ssh = { host: ip, port: 22, command: `ssh ${ip}` };
  }
  if (instanceType !== undefined) out.offerId = instanceType;
  out.raw = v;
  return out;
}

function decodeFal(body) {
  const b = JSON.parse(body);
  if (!isObj(b)) throw new DecodeError("fal", "", "expected a list object");
  if (!Array.isArray(b.instances)) throw new DecodeError("fal", "instances", "expected an array");
  const items = b.instances.map((v, i) => falInstance("fal", v, `instances[${i}]`));
  const cursor = b.next_cursor;
  if (cursor !== undefined && cursor !== null && typeof cursor !== "string") throw new DecodeError("fal", "next_cursor", "expected a string");
  const nextCursor = nonEmpty(cursor ?? undefined);
  let hasMore = b.has_more;
  if (hasMore === undefined || hasMore === null) hasMore = nextCursor !== undefined;
  else if (typeof hasMore !== "boolean") throw new DecodeError("fal", "has_more", "expected a boolean");
  const page = { items };
  if (nextCursor !== undefined) page.nextCursor = nextCursor;
  page.hasMore = hasMore;
  return page;
}

function decodeFalAlpha(body) {
  const b = JSON.parse(body);
  if (!Array.isArray(b)) throw new DecodeError("fal-alpha", "", "expected a JSON array of instances");
  return { items: b.map((v, i) => falInstance("fal-alpha", v, `[${i}]`)), hasMore: false };
}

// ----- SF Compute ----------------------------------------------------------------------------

const SFC_STATUS = { awaiting_allocation: "pending", running: "running", terminated: "terminated", failed: "failed" };

function refName(p, v, key, path) {
  const r = v[key];
  if (r === undefined || r === null) return undefined;
  if (!isObj(r)) throw new DecodeError(p, `${path}.${key}`, "expected an object");
  return r;
}

/** GPUs per node and their model from a SKU name or its accelerator (src/provider/sfcompute.rs gpus_from_sku). */
function sfcGpus(name, accelerator) {
  const parts = name.split(/[-_ .]/).filter(Boolean);
  let count;
  for (const part of parts) {
    const m = /^(?:([1-9]\d*)x|x([1-9]\d*))$/i.exec(part);
    if (m) {
      const n = Number(m[1] ?? m[2]);
      if (n >= 1 && n <= 64) { count = n; break; }
    }
  }
  let model = accelerator && accelerator.trim() ? accelerator.trim().toUpperCase() : undefined;
  if (model === undefined) {
    const part = parts.find((p) => { const l = p.toLowerCase(); return !/^(sxm|pcie|nvl|ib)/.test(l) && /^[a-z]{1,3}\d{2,}[a-z]?$/.test(l); });
    if (part) model = part.toUpperCase();
  }
  return [count, model];
}

function sfcInstance(v, path) {
  const p = "sfcompute";
  if (!isObj(v)) throw new DecodeError(p, path, "expected an instance object");
  const id = reqStr(p, v, "id", path);
  const name = nonEmpty(optStr(p, v, "name", path));
  const providerStatus = optStr(p, v, "status", path) ?? "";
  const created = v.created_at;
  if (created !== undefined && created !== null && !Number.isInteger(created)) throw new DecodeError(p, `${path}.created_at`, "expected an integer");
  const sku = refName(p, v, "instance_sku", path);
  const skuName = sku && (nonEmpty(optStr(p, sku, "alias", path)) ?? nonEmpty(optStr(p, sku, "name", path)));
  const region = sku && nonEmpty(optStr(p, sku, "region", path));
  const accelerator = sku && nonEmpty(optStr(p, sku, "accelerator", path));
  const [gpuCount, gpuModel] = skuName !== undefined ? sfcGpus(skuName, accelerator) : [undefined, accelerator?.toUpperCase()];
  const pool = refName(p, v, "pool", path);
  const capacity = refName(p, v, "capacity", path);
  const hardware = (pool && nonEmpty(optStr(p, pool, "name", path))) ?? (capacity && nonEmpty(optStr(p, capacity, "name", path)));
  const ip = nonEmpty(optStr(p, v, "public_ip", path));
  let tags = v.tags;
  if (tags === null) tags = undefined;
  if (tags !== undefined) {
    if (!isObj(tags)) throw new DecodeError(p, `${path}.tags`, "expected a map");
    for (const k in tags) if (typeof tags[k] !== "string") throw new DecodeError(p, `${path}.tags.${k}`, "expected a string");
  }
  const out = { provider: p, id };
  if (name !== undefined) out.name = name;
  out.status = SFC_STATUS[providerStatus] ?? "unknown";
  out.providerStatus = providerStatus;
  const instanceType = skuName ?? hardware;
  if (instanceType !== undefined) out.instanceType = instanceType;
  if (gpuCount !== undefined) out.gpuCount = gpuCount;
  if (gpuModel !== undefined) out.gpuModel = gpuModel;
  if (region !== undefined) out.region = region;
  if (ip !== undefined) out.ip = ip;
  if (created !== undefined && created !== null) out.createdAt = isoFromSeconds(created);
  if (tags !== undefined) out.tags = tags;
  // The 2026 fields, each read leniently (a wrong type is left out).
  const poolRef = (x) => {
    if (typeof x === "string" && x !== "") return { id: x };
    if (!isObj(x) || typeof x.id !== "string" || x.id === "") return undefined;
    const ref = { id: x.id };
    if (typeof x.name === "string" && x.name !== "") ref.name = x.name;
    return ref;
  };
  const poolOut = poolRef(v.pool) ?? poolRef(v.capacity);
  if (poolOut !== undefined) out.pool = poolOut;
  if (typeof v.priority_level === "string" && v.priority_level !== "") out.priorityLevel = v.priority_level;
  const managed = (m, kind) => {
    if (!isObj(m) || typeof m.id !== "string" || m.id === "") return undefined;
    const k = kind ?? (typeof m.object === "string" && m.object !== "" ? m.object : m.id.startsWith("depl_") ? "deployment" : m.id.startsWith("spot_") ? "spot_deployment" : "unknown");
    const r = { kind: k, id: m.id };
    if (typeof m.name === "string" && m.name !== "") r.name = m.name;
    return r;
  };
  const managedBy = managed(v.managed_by) ?? managed(v.deployment, "deployment");
  if (managedBy !== undefined) out.managedBy = managedBy;
  if (typeof v.enable_public_ipv4 === "boolean") out.publicIpv4 = v.enable_public_ipv4;
  const skuId = sku && nonEmpty(optStr(p, sku, "id", path));
  if (skuId !== undefined) out.offerId = skuId;
  out.raw = v;
  return out;
}

function decodeSfcompute(body) {
  const b = JSON.parse(body);
  if (!isObj(b)) throw new DecodeError("sfcompute", "", "expected a list object");
  if (typeof b.has_more !== "boolean") throw new DecodeError("sfcompute", "has_more", "expected a boolean");
  if (!Array.isArray(b.data)) throw new DecodeError("sfcompute", "data", "expected an array");
  const items = b.data.map((v, i) => sfcInstance(v, `data[${i}]`));
  const page = { items };
  if (b.has_more) {
    const c = optStr("sfcompute", b, "cursor", "");
    if (c) page.nextCursor = c;
  }
  page.hasMore = b.has_more;
  return page;
}

// ----- Novita --------------------------------------------------------------------------------

const NOVITA_STATUS = {
  toCreate: "pending", toStart: "pending", toRestart: "pending", toReset: "pending",
  creating: "provisioning", pulling: "provisioning", starting: "provisioning", restarting: "provisioning",
  resetting: "provisioning", migrating: "provisioning",
  running: "running", toStop: "stopping", stopping: "stopping", freezing: "stopping",
  exited: "stopped", toRemove: "terminating", removing: "terminating", removed: "terminated",
};
const KEEPS_STATUS_ON_ERROR = new Set(["running", "terminating", "terminated"]);

/** A non-empty string field, trimmed, or undefined. */
function field(o, key) {
  if (!isObj(o)) return undefined;
  const v = o[key];
  if (typeof v !== "string" || v === "") return undefined;
  const t = v.trim();
  return t === "" ? undefined : t;
}

function statusErrorText(v) {
  if (typeof v === "string") return v.trim() || undefined;
  if (!isObj(v)) return undefined;
  for (const k of ["message", "state"]) {
    const s = v[k];
    if (typeof s === "string" && s.trim()) return s.trim();
  }
  return undefined;
}

function lenientUint(v, max = 0xffffffff) {
  if (typeof v === "number") return Number.isInteger(v) && v >= 0 && v <= max ? v : undefined;
  if (typeof v === "string") {
    const t = v.trim();
    return /^\+?\d+$/.test(t) && Number(t) <= max ? Number(t) : undefined;
  }
  return undefined;
}

function unixTimeIso(v) {
  let n;
  if (typeof v === "number") n = Number.isFinite(v) ? Math.trunc(v) : NaN;
  else if (typeof v === "string") n = /^[+-]?\d+$/.test(v.trim()) ? Number(v.trim()) : NaN;
  else return undefined;
  if (!(n > 0)) return undefined;
  return isoFromSeconds(n >= 1e12 ? Math.trunc(n / 1000) : n);
}

function createdAtIso(v) {
  if (typeof v === "string") {
    const s = v.trim();
    if (s.length >= 10 && /^\d{4}-/.test(s)) return s;
  }
  return unixTimeIso(v);
}

function spotReason(r) {
  const s = r.spotStatus;
  const what = s === "reclaiming" ? "spot instance being reclaimed" : s === "notified" ? "spot instance notified for reclaim" : undefined;
  if (!what) return undefined;
  const at = createdAtIso(r.spotReclaimTime);
  return at ? `${what} (reclaim time ${at})` : what;
}

const isCount = (t) => /^(?:\d+x|x\d+|\*\d+)$/i.test(t);
const isMemory = (t) => /^[\d.]+(?:gib|gb|g)$/i.test(t.replace(/^[()]+|[()]+$/g, "")) ;
const isUnit = (t) => /^(?:gb|gib)$/i.test(t.replace(/^[()]+|[()]+$/g, ""));

/** `RTX 4090 24GB` → `RTX 4090`, `8x A100 80G` → `A100`; undefined for CPU products. */
function gpuModelFromProductName(name) {
  const tokens = name.split(/\s+/).filter(Boolean);
  if (tokens.some((t) => /^v?cpu$/i.test(t) || /vcpu$/i.test(t))) return undefined;
  if (tokens.length && isCount(tokens[0])) tokens.shift();
  for (;;) {
    const t = tokens.at(-1);
    if (t !== undefined && (isMemory(t) || isCount(t))) tokens.pop();
    else if (t !== undefined && isUnit(t) && tokens.length >= 2 && isMemory(`${tokens.at(-2)}gb`)) tokens.length -= 2;
    else break;
  }
  const model = tokens.join(" ");
  return /[A-Za-z]/.test(model) && /\d/.test(model) ? model : undefined;
}

const SSH_WITH_ARG = "BbcDEeFIiJLlmOopQRSWw";

/** `ssh root@203.0.113.7 -p 31234` (and the other forms the core reads) → SshInfo. */
function parseSshCommand(command) {
  command = command.trim();
  const tokens = command.split(/\s+/).filter(Boolean);
  let i = 0;
  const program = tokens[i++];
  if (program !== "ssh" && !program?.endsWith("/ssh")) return undefined;
  let user, port, dest;
  const portOf = (s) => (/^\+?\d+$/.test(s) && Number(s) > 0 && Number(s) <= 65535 ? Number(s) : null);
  while (i < tokens.length) {
    const token = tokens[i++];
    if (token.startsWith("-") && token.length > 1) {
      const flags = token.slice(1);
      if (flags === "-") continue;
      for (let k = 0; k < flags.length; k++) {
        if (SSH_WITH_ARG.includes(flags[k])) {
          const inline = flags.slice(k + 1);
          let value = inline;
          if (!inline) {
            if (i >= tokens.length) return undefined;
            value = tokens[i++];
          }
          if (flags[k] === "p") {
            port = portOf(value);
            if (port === null) return undefined;
          } else if (flags[k] === "l") user = value;
          break;
        }
      }
    } else if (dest === undefined) dest = token;
    else break;
  }
  if (dest === undefined) return undefined;
  let uriPort;
  if (dest.startsWith("ssh://")) {
    const rest = dest.slice(6).replace(/\/+$/, "");
    let host = rest;
    let p;
    const end = rest.lastIndexOf("]");
    if (end >= 0) {
      host = rest.slice(0, end + 1);
      const after = rest.slice(end + 1);
      if (after.startsWith(":")) p = after.slice(1);
    } else {
      const c = rest.lastIndexOf(":");
      if (c >= 0) [host, p] = [rest.slice(0, c), rest.slice(c + 1)];
    }
    if (p !== undefined) {
      uriPort = portOf(p);
      if (uriPort === null) return undefined;
    }
    dest = host;
  }
  let host = dest;
  const at = dest.lastIndexOf("@");
  if (at >= 0) {
    if (at > 0) user = dest.slice(0, at);
    host = dest.slice(at + 1);
  }
  host = host.replace(/^\[+/, "").replace(/\]+$/, "");
  if (!host || !/^[A-Za-z0-9.\-_:]+$/.test(host)) return undefined;
  const out = { host, port: port ?? uriPort ?? 22 };
  if (user !== undefined) out.user = user;
  out.command = command;
  return out;
}

function novitaInstance(r, path) {
  const p = "novita";
  if (!isObj(r)) throw new DecodeError(p, path, "expected an instance object");
  const id = reqStr(p, r, "id", path);
  const providerStatus = reqStr(p, r, "status", path);
  if (!id.trim()) throw new DecodeError(p, `${path}.id`, "the instance id is empty");
  const base = NOVITA_STATUS[providerStatus] ?? "unknown";
  const error = statusErrorText(r.statusError);
  let status = base;
  let statusReason;
  if (error !== undefined) {
    status = KEEPS_STATUS_ON_ERROR.has(base) ? base : "failed";
    statusReason = error;
  } else statusReason = spotReason(r);
  const productName = field(r, "productName");
  const gpuModel = field(r, "kind") === "cpu" || productName === undefined ? undefined : gpuModelFromProductName(productName);
  const sshCommand = field(r.connectComponentSSH, "sshCommand") ?? field(r, "sshCommand");
  const ssh = sshCommand === undefined ? undefined : parseSshCommand(sshCommand);
  const ip = field(r.network, "ip") ?? (ssh && isIP(ssh.host) ? ssh.host : undefined);
  const out = { provider: p, id };
  const name = field(r, "name");
  if (name !== undefined) out.name = name;
  out.status = status;
  out.providerStatus = providerStatus;
  if (statusReason !== undefined) out.statusReason = statusReason;
  if (productName !== undefined) out.instanceType = productName;
  const gpuCount = lenientUint(r.gpuNum);
  if (gpuCount !== undefined) out.gpuCount = gpuCount;
  if (gpuModel !== undefined) out.gpuModel = gpuModel;
  const region = field(r, "clusterName") ?? field(r, "clusterId");
  if (region !== undefined) out.region = region;
  if (ip !== undefined) out.ip = ip;
  if (ssh !== undefined) out.ssh = ssh;
  const createdAt = createdAtIso(r.createdAt);
  if (createdAt !== undefined) out.createdAt = createdAt;
  const billingMode = field(r, "billingMode");
  if (billingMode !== undefined) out.billingMode = billingMode;
  const spotStatus = field(r, "spotStatus");
  if (spotStatus !== undefined) {
    out.spot = { status: spotStatus };
    const at = createdAtIso(r.spotReclaimTime);
    if (at !== undefined) out.spot.reclaimAt = at;
  }
  const offerId = field(r, "productId");
  if (offerId !== undefined) out.offerId = offerId;
  const startedAt = createdAtIso(r.lastStartedAt);
  if (startedAt !== undefined) out.startedAt = startedAt;
  const stoppedAt = createdAtIso(r.lastStoppedAt);
  if (stoppedAt !== undefined) out.stoppedAt = stoppedAt;
  out.raw = r;
  return out;
}

function decodeNovita(body, query = {}) {
  const size = query.limit ?? 50;
  const num = query.cursor === undefined ? 1 : Number(query.cursor);
  const b = JSON.parse(body);
  if (!isObj(b)) throw new DecodeError("novita", "", "expected a JSON object");
  if (!("instances" in b) && (b.error || b.reason || (b.code !== undefined && b.code !== 0 && !(b.code >= 200 && b.code < 300)))) {
    throw new DecodeError("novita", "", `error body: ${JSON.stringify(b).slice(0, 200)}`);
  }
  const total = b.total === undefined || b.total === null ? undefined : lenientUint(b.total, Number.MAX_SAFE_INTEGER);
  let list = b.instances;
  if (list === null || (list === undefined && "total" in b)) list = [];
  if (!Array.isArray(list)) throw new DecodeError("novita", "instances", "expected an array of instances");
  const items = list.map((v, i) => novitaInstance(v, `instances[${i}]`));
  // The cursor's position (`N`, `N.first`, `N.first.served`) and the page after it, as
  // src/provider/novita.rs `next_position` computes them.
  const [pageNum, first = 1, servedText] = (query.cursor ?? "1").split(".").map(Number);
  const isFirst = query.cursor === undefined || pageNum === first;
  const len = items.length;
  let served = servedText;
  let hasMore;
  if (len === 0) hasMore = false;
  else if (served !== undefined) hasMore = total !== undefined ? (pageNum - first + 1) * served < total : len >= served;
  else if (isFirst) {
    if (len !== size) served = len;
    hasMore = total !== undefined ? len < total : true;
  } else hasMore = total !== undefined ? (pageNum - first + 1) * size < total : len >= size;
  void num;
  const page = { items };
  if (hasMore) page.nextCursor = first === 1 && served === undefined ? String(pageNum + 1) : served === undefined ? `${pageNum + 1}.${first}` : `${pageNum + 1}.${first}.${served}`;
  page.hasMore = hasMore;
  if (total !== undefined) page.total = total;
  return page;
}

/** `decodeInstances(provider, body, query?)`, by hand. */
export function decodeBaseline(provider, body, query) {
  switch (provider) {
    case "fal": return decodeFal(body);
    case "fal-alpha": return decodeFalAlpha(body);
    case "sfcompute": return decodeSfcompute(body);
    case "novita": return decodeNovita(body, query ?? {});
    default: throw new TypeError(`unknown provider ${provider}`);
  }
}

export { gpuModelFromProductName, parseSshCommand };
