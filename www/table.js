// The fleet table: filter, sort and a virtualized body. Only the rows near the viewport are in the
// DOM (spacer rows above and below keep the scroll height true), so 5,000 instances scroll and
// filter smoothly. Every provider string is set with textContent.

import { attention, statusSince } from "./status-since.js";
import { h, ageText, durationText } from "./dom.js";
import { deadlineCell } from "./records.js";
import { MISSING, costKindText, costTitle, moneyMicro, moneyUsd, perHourText, priceMicro, priceTitle, priceUsd, usdText } from "./money.js";

export const STATUSES = ["pending", "provisioning", "running", "stopping", "stopped", "terminating", "terminated", "failed", "unknown"];
const STATUS_RANK = Object.fromEntries(STATUSES.map((s, i) => [s, i]));
const OVERSCAN = 12; // rows rendered beyond each edge of the viewport
const STEP = 8; // the window moves in steps of this many rows, so small scrolls re-render nothing
const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

/** The table's columns, in order: the key (th[data-col], td.c-KEY) and its header text. */
export const COLUMNS = [
  ["provider", "Provider"], ["name", "Name / id"], ["status", "Status"], ["type", "Type"], ["gpus", "GPUs"],
  ["region", "Region"], ["ip", "IP"], ["age", "Age"], ["price", "$/h"], ["cost", "Cost"], ["deadline", "Deadline"],
];

/**
 * What the rows can be grouped by: the group's label of a row ("" = none; sorted last). `tag` is
 * all of an instance's tags together, `tag:KEY` (groupOf) one tag's value; `owner` is the
 * instance's `owner` tag (the providers keep no owner of their own).
 */
export const GROUPS = {
  provider: (r) => r.providerName,
  region: (r) => r.inst.region || "",
  status: (r) => r.inst.status || "",
  tag: (r) => (r.inst.tags ? Object.entries(r.inst.tags).map(([k, v]) => `${k}=${v}`).sort().join(", ") : ""),
  owner: (r) => r.inst.tags?.owner || "",
};

/** The group function of a grouping key: a GROUPS key or `tag:KEY` (the value of that tag), else null. */
export function groupOf(key) {
  if (Object.hasOwn(GROUPS, key)) return GROUPS[key];
  const m = /^tag:(.+)$/s.exec(key || "");
  return m ? (r) => (r.inst.tags && Object.hasOwn(r.inst.tags, m[1]) ? String(r.inst.tags[m[1]]) : "") : null;
}

/** Every tag key of `rows`, sorted (the "Group by" menu offers one entry each). */
export function tagKeys(rows) {
  const keys = new Set();
  for (const r of rows) if (r.inst.tags) for (const k of Object.keys(r.inst.tags)) keys.add(k);
  return [...keys].sort(collator.compare);
}

/** A sortable key for an IPv4 address (or the text itself for anything else). */
function ipKey(ip) {
  if (!ip) return "";
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  return m ? m.slice(1).map((p) => p.padStart(3, "0")).join(".") : `~${ip}`;
}

/** The row model of one instance: the instance plus precomputed filter and sort keys. */
export function rowOf(inst, displayName) {
  const created = inst.createdAt ? Date.parse(inst.createdAt) : NaN;
  return {
    key: `${inst.provider}/${inst.id}`,
    inst,
    providerName: displayName || inst.provider,
    search: [inst.name, inst.id, inst.ip, inst.instanceType].filter(Boolean).join("\n").toLowerCase(),
    created: Number.isFinite(created) ? created : NaN,
    ipKey: ipKey(inst.ip),
    // Exact micro-dollars (NaN when missing: sorted last either way).
    price: priceMicro(inst.price),
    cost: moneyMicro(inst.cost?.amount),
    stale: false,
    transition: null,
    deadline: null, // the proxy's Deadline for it (fleet-view.js joins fleet.deadlines() in)
    since: statusSince(inst), // when it entered its current status (status-since.js)
  };
}

// Missing values sort last in both directions.
function cmpText(a, b, dir) {
  if (!a && !b) return 0;
  if (!a) return 1;
  if (!b) return -1;
  return dir * collator.compare(a, b);
}
function cmpNum(a, b, dir) {
  const na = !Number.isFinite(a);
  const nb = !Number.isFinite(b);
  if (na && nb) return 0;
  if (na) return 1;
  if (nb) return -1;
  return dir * (a - b);
}

const SORTS = {
  provider: (a, b, d) => cmpText(a.providerName, b.providerName, d),
  name: (a, b, d) => cmpText(a.inst.name || a.inst.id, b.inst.name || b.inst.id, d),
  status: (a, b, d) => d * ((STATUS_RANK[a.inst.status] ?? 99) - (STATUS_RANK[b.inst.status] ?? 99)),
  type: (a, b, d) => cmpText(a.inst.instanceType, b.inst.instanceType, d),
  gpus: (a, b, d) => cmpNum(a.inst.gpuCount, b.inst.gpuCount, d),
  region: (a, b, d) => cmpText(a.inst.region, b.inst.region, d),
  ip: (a, b, d) => cmpText(a.ipKey, b.ipKey, d),
  // Age ascending = youngest first = newest createdAt first.
  age: (a, b, d) => cmpNum(a.created, b.created, -d),
  price: (a, b, d) => cmpNum(a.price, b.price, d),
  cost: (a, b, d) => cmpNum(a.cost, b.cost, d),
  // Pending deadlines by when they fire (soonest first); fired, failed and none last.
  deadline: (a, b, d) => cmpNum(pendingAt(a), pendingAt(b), d),
};

function pendingAt(r) {
  return r.deadline && r.deadline.state === "pending" ? r.deadline.atMs : NaN;
}

/** The direction of a column's first click: money columns start with the most expensive. */
const FIRST_DIR = { price: -1, cost: -1 };

export class FleetTable {
  /**
   * @param {object} o
   * @param {HTMLTableElement} o.table
   * @param {(key: string) => void} o.onOpen      a row was chosen
   * @param {(info: {total: number, matching: number}) => void} o.onRendered
   */
  constructor({ table, onOpen, onRendered }) {
    this.table = table;
    this.tbody = table.tBodies[0];
    this.onOpen = onOpen;
    this.onRendered = onRendered;
    this.rows = [];
    this.view = [];
    this.filter = { text: "", providers: new Set(), statuses: new Set() };
    this.sort = { key: "provider", dir: 1 };
    this.groupBy = ""; // a GROUPS key, or "" for none
    this.items = []; // what the body shows: the view's rows, with { group, count } headers when grouped
    this.selected = null;
    this.cursor = null; // the row j/k last moved to
    this.picked = new Set(); // keys ticked for a bulk action (bulk.js)
    this.onPick = null; // (key, on) => void: a row's box was ticked or cleared
    this.viewListeners = []; // () => void each: after every re-filter, re-sort and selection (url-state.js, bulk.js)
    this.rowH = 0;
    this.range = null;
    this.now = Date.now();
    // One cell each: a colspan over columns that narrow screens hide would take width from the
    // visible ones in the fixed table layout.
    this.topSpacer = h("tr", { className: "spacer", attrs: { "aria-hidden": "true" } }, h("td"));
    this.bottomSpacer = h("tr", { className: "spacer", attrs: { "aria-hidden": "true" } }, h("td"));

    for (const b of table.tHead.querySelectorAll("button[data-sort]")) {
      b.addEventListener("click", () => this.sortBy(b.dataset.sort));
    }
    this.tbody.addEventListener("click", (ev) => {
      // The select cell ticks the box (a larger target than the box itself); it never opens the row.
      const pickCell = ev.target.closest("td.c-pick");
      if (pickCell) {
        if (!ev.target.closest("[data-bulk]")) pickCell.querySelector("input")?.click();
        return;
      }
      const tr = ev.target.closest("tr[data-key]");
      if (tr) this.onOpen(tr.dataset.key);
    });
    this.tbody.addEventListener("change", (ev) => {
      const key = ev.target.dataset?.bulk;
      if (key === undefined) return;
      if (ev.target.checked) this.picked.add(key);
      else this.picked.delete(key);
      ev.target.closest("tr")?.classList.toggle("picked", ev.target.checked);
      this.onPick?.(key, ev.target.checked);
    });
    this.tbody.addEventListener("keydown", (ev) => {
      if (ev.key !== "Enter" && ev.key !== " ") return;
      const tr = ev.target.closest("tr[data-key]");
      if (tr && ev.target === tr) {
        ev.preventDefault();
        this.onOpen(tr.dataset.key);
      }
    });
    let queued = false;
    const onScroll = () => {
      if (queued) return;
      queued = true;
      requestAnimationFrame(() => {
        queued = false;
        this.renderWindow(false);
      });
    };
    window.addEventListener("scroll", onScroll, { passive: true });
    window.addEventListener("resize", onScroll, { passive: true });
    this.updateSortHeaders();
  }

  /** Replaces every row (a new listing). */
  setRows(rows) {
    this.rows = rows;
    this.refresh();
  }

  setFilter(patch) {
    Object.assign(this.filter, patch);
    this.refresh();
  }

  sortBy(key) {
    if (!SORTS[key]) return;
    this.setSort(this.sort.key === key ? { key, dir: -this.sort.dir } : { key, dir: FIRST_DIR[key] ?? 1 });
  }

  /** Sets the sort as is (a restored URL); unknown keys are ignored. */
  setSort({ key, dir }) {
    if (!SORTS[key]) return;
    this.sort = { key, dir: dir < 0 ? -1 : 1 };
    this.updateSortHeaders();
    this.refresh();
  }

  /** Groups the rows by a GROUPS key or `tag:KEY` ("" or anything else: no grouping). */
  setGroup(key) {
    this.groupBy = groupOf(key) ? key : "";
    this.refresh();
  }

  /**
   * Moves the keyboard cursor `delta` rows (j/k) from the focused or selected row, scrolls it into
   * view and focuses it. Only the window is rendered, so the target is scrolled to first.
   */
  moveCursor(delta) {
    const n = this.items.length;
    if (!n) return;
    const active = document.activeElement;
    // From the focused row, else where the cursor last was (a re-render can drop the focus), else the open one.
    const from = active && active.parentNode === this.tbody && active.dataset.key ? active.dataset.key : this.cursor || this.selected;
    let i = from ? this.items.findIndex((it) => it.key === from) : -1;
    if (i < 0) i = delta > 0 ? -1 : n;
    do i += delta;
    while (i >= 0 && i < n && !this.items[i].key);
    if (i < 0 || i >= n) return;
    const key = this.items[i].key;
    const rowH = this.rowH || 44;
    const bodyTop = this.tbody.getBoundingClientRect().top + window.scrollY;
    const y = bodyTop + i * rowH;
    const head = this.table.tHead.getBoundingClientRect().height;
    if (y < window.scrollY + head) window.scrollTo(0, y - head);
    else if (y + rowH > window.scrollY + window.innerHeight) window.scrollTo(0, y + rowH - window.innerHeight);
    this.cursor = key;
    this.renderWindow(true);
    this.tbody.querySelector(`tr[data-key="${CSS.escape(key)}"]`)?.focus({ preventScroll: true });
  }

  select(key) {
    this.selected = key;
    for (const tr of this.tbody.querySelectorAll("tr[data-key]")) tr.classList.toggle("selected", tr.dataset.key === key);
    for (const f of this.viewListeners) f();
  }

  updateSortHeaders() {
    for (const th of this.table.tHead.querySelectorAll("th[data-col]")) {
      const on = th.dataset.col === this.sort.key;
      th.setAttribute("aria-sort", on ? (this.sort.dir > 0 ? "ascending" : "descending") : "none");
    }
  }

  /** Whether `r` passes the filter, ignoring the status chips and/or provider chips. */
  matches(r, { ignoreStatus = false, ignoreProvider = false } = {}) {
    const f = this.filter;
    if (!ignoreProvider && f.providers.size && !f.providers.has(r.inst.provider)) return false;
    if (!ignoreStatus && f.statuses.size && !f.statuses.has(r.inst.status)) return false;
    const q = f.text.trim().toLowerCase();
    return !q || r.search.includes(q);
  }

  /** Counts per status (over rows matching text + provider) and per provider (text + status). */
  counts() {
    const status = {};
    const provider = {};
    for (const r of this.rows) {
      if (this.matches(r, { ignoreStatus: true })) status[r.inst.status] = (status[r.inst.status] || 0) + 1;
      if (this.matches(r, { ignoreProvider: true })) provider[r.inst.provider] = (provider[r.inst.provider] || 0) + 1;
    }
    return { status, provider };
  }

  /** Re-filters, re-sorts and re-renders (keeps the scroll position). */
  refresh() {
    this.now = Date.now();
    const cmp = SORTS[this.sort.key];
    const dir = this.sort.dir;
    // A row being acted on (r.transition) stays in view until its action ends, whatever the chips
    // and filter say: stopping a row with the "running" chip on must not make it vanish mid-action.
    const inView = (r) => r.transition || this.matches(r);
    const group = this.groupBy ? groupOf(this.groupBy) : null;
    const tie = (a, b) => cmp(a, b, dir) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
    if (group) {
      // Groups by their label (none last), the sort inside each; a header item opens each group.
      const labelled = this.rows.filter(inView).map((r) => [group(r), r]);
      // Labels the collator deems equal ("prod", "Prod") still make separate, adjacent groups.
      labelled.sort(([ga, a], [gb, b]) => cmpText(ga, gb, 1) || (ga < gb ? -1 : ga > gb ? 1 : 0) || tie(a, b));
      this.view = labelled.map(([, r]) => r);
      this.items = [];
      for (let i = 0; i < labelled.length; ) {
        let j = i;
        while (j < labelled.length && labelled[j][0] === labelled[i][0]) j++;
        this.items.push({ group: labelled[i][0], count: j - i });
        for (let k = i; k < j; k++) this.items.push(labelled[k][1]);
        i = j;
      }
    } else {
      this.view = this.rows.filter(inView).sort(tie);
      this.items = this.view;
    }
    this.renderWindow(true);
    for (const f of this.viewListeners) f();
  }

  renderWindow(force) {
    const n = this.items.length;
    const rowH = this.rowH || 44;
    const top = this.tbody.getBoundingClientRect().top;
    const viewTop = Math.max(0, -top);
    const viewH = window.innerHeight || 800;
    let first = Math.max(0, Math.floor(viewTop / rowH) - OVERSCAN);
    first -= first % STEP;
    let last = Math.min(n, Math.ceil((viewTop + viewH) / rowH) + OVERSCAN);
    last = Math.min(n, last + (STEP - (last % STEP)) % STEP);
    if (first > last) first = Math.max(0, last - STEP);
    if (!force && this.range && this.range[0] === first && this.range[1] === last) return;
    this.range = [first, last];

    // Keyboard focus on a row survives the re-render (a refresh every few seconds).
    const active = document.activeElement;
    const focusedKey = active && active.parentNode === this.tbody ? active.dataset.key : undefined;
    const frag = document.createDocumentFragment();
    frag.append(this.topSpacer);
    for (let i = first; i < last; i++) {
      const it = this.items[i];
      frag.append(it.key ? this.rowElement(it) : this.groupElement(it));
    }
    frag.append(this.bottomSpacer);
    this.topSpacer.hidden = first === 0;
    this.bottomSpacer.hidden = last >= n;
    this.topSpacer.firstChild.style.height = `${first * rowH}px`;
    this.bottomSpacer.firstChild.style.height = `${(n - last) * rowH}px`;
    this.tbody.replaceChildren(frag);
    if (focusedKey !== undefined) {
      for (const tr of this.tbody.querySelectorAll("tr[data-key]")) {
        if (tr.dataset.key === focusedKey) {
          tr.focus({ preventScroll: true });
          break;
        }
      }
    }

    // The real row height (CSS decides it; phones and zoom change it): measure once, re-lay out.
    const sample = this.tbody.querySelector("tr[data-key]");
    if (sample) {
      const measured = sample.getBoundingClientRect().height;
      if (measured > 0 && Math.abs(measured - rowH) > 0.5) {
        this.rowH = measured;
        this.range = null;
        this.renderWindow(true);
        return;
      }
    }
    performance.mark("gpufleet:render");
    document.getElementById("main").dataset.rows = String(this.view.length);
    this.onRendered({ total: this.rows.length, matching: this.view.length });
  }

  /** A group's header row: its label and how many rows it holds (as tall as a row). */
  groupElement(g) {
    const td = h("td", { attrs: { colspan: COLUMNS.length + 1 } });
    td.append(h("span", { className: g.group ? "group-label" : "group-label muted" }, g.group || `(no ${this.groupBy.replace(/^tag:/, "tag ")})`), " ", h("span", { className: "n muted" }, String(g.count)));
    return h("tr", { className: "group", dataset: { group: g.group } }, td);
  }

  rowElement(r) {
    const i = r.inst;
    const tr = h("tr", { className: "row", tabIndex: 0, dataset: { key: r.key, provider: i.provider, status: i.status } });
    if (r.stale) tr.classList.add("stale");
    if (r.key === this.selected) tr.classList.add("selected");
    if (this.picked.has(r.key)) tr.classList.add("picked");
    if (r.transition) tr.classList.add("busy");

    const pick = h("input", { type: "checkbox", checked: this.picked.has(r.key), dataset: { bulk: r.key }, attrs: { "aria-label": `Select ${i.name || i.id}` } });
    tr.append(h("td", { className: "c-pick" }, pick));

    const cell = (cls, text, title) => h("td", { className: cls, title: title ?? (text || undefined) }, text ?? "");
    tr.append(cell("c-provider", r.providerName));

    // No name: the id alone (a "(no name)" on every such row says nothing).
    const name = h("td", { className: i.name ? "c-name" : "c-name unnamed", title: i.name ? `${i.name}\n${i.id}` : i.id });
    if (i.name) name.append(h("span", { className: "name" }, i.name));
    name.append(h("span", { className: "id" }, i.id));
    tr.append(name);

    const status = h("td", { className: "c-status" });
    status.append(statusBadge(i, r.stale));
    if (r.transition) {
      status.append(h("span", { className: "transition", title: r.transition.label }, `→ ${r.transition.target}`));
    }
    const reclaim = reclaimLine(i.spot, this.now);
    if (reclaim) status.append(reclaim);
    // Failed, or stuck pending/provisioning: flagged, with how long it has been so.
    const flag = r.since && attention(i, r.since, this.now);
    if (flag) {
      tr.classList.add(`attention-${flag}`);
      status.append(h("span", { className: "attention", dataset: { attention: flag } }, `${flag === "stuck" ? "stuck " : ""}${ageText(r.since.at, this.now)}`));
    }
    tr.append(status);

    tr.append(cell("c-type", i.instanceType ?? ""));
    const gpus = i.gpuCount === undefined ? "" : i.gpuModel ? `${i.gpuCount} × ${i.gpuModel}` : String(i.gpuCount);
    tr.append(cell("c-gpus", gpus));
    tr.append(cell("c-region", i.region ?? ""));
    tr.append(cell("c-ip", i.ip ?? ""));
    tr.append(cell("c-age", ageText(r.created, this.now), i.createdAt));
    tr.append(priceCell(i), costCell(i));
    tr.append(deadlineCell(r.deadline, this.now));
    return tr;
  }
}

// ---- money cells ------------------------------------------------------------------------------

/** The $/h cell: the price and its source on hover; "—" with the reason when there is none. */
function priceCell(inst) {
  const usd = priceUsd(inst.price);
  const idle = inst.status !== "running";
  const title = priceTitle(inst.price, inst.priceNote) + (Number.isFinite(usd) && idle ? `\nNot running now (${inst.status})` : "");
  const td = h("td", { className: "c-price", title });
  if (!Number.isFinite(usd)) {
    td.classList.add("missing");
    td.append(h("span", { className: "muted" }, MISSING));
    return td;
  }
  td.dataset.source = String(inst.price.source);
  // A market quote is an estimate: marked as one.
  td.append(inst.price.source === "quote" ? `≈${perHourText(usd)}` : perHourText(usd));
  if (idle) td.classList.add("idle");
  return td;
}

/** The cost-so-far cell: the amount and whether it is billed or an estimate. */
function costCell(inst) {
  const usd = moneyUsd(inst.cost?.amount);
  const td = h("td", { className: "c-cost", title: costTitle(inst) });
  if (!Number.isFinite(usd)) {
    td.classList.add("missing");
    td.append(h("span", { className: "muted" }, MISSING));
    return td;
  }
  td.dataset.kind = String(inst.cost.kind);
  td.append(h("span", { className: "amount" }, usdText(usd)), " ", h("span", { className: `kind kind-${inst.cost.kind === "billed" ? "billed" : "est"}` }, costKindText(inst.cost.kind)));
  return td;
}

// ---- spot reclaim countdown -------------------------------------------------------------------
//
// Counted against this browser's clock (Date.now()): `reclaimAt` is an absolute instant the
// provider set on its own clock, and the page has no other clock to hand (the proxy and the
// providers send no time of their own with a listing). A browser clock that is off shifts the
// countdown by the same amount.

/** "reclaim in 42 min" before `atMs`, "reclaim due" from then on. */
export function countdownText(atMs, now = Date.now()) {
  return atMs > now ? `reclaim in ${durationText(atMs - now)}` : "reclaim due";
}

/**
 * The reclaim line of a spot instance (`inst.spot`), or null when there is nothing to say: a
 * live countdown to `reclaimAt` (see `tickCountdowns`) unless the reclaim is under way or over;
 * "being reclaimed" while it is; "reclaim notified" for a notice without a time.
 */
export function reclaimLine(spot, now = Date.now()) {
  if (!spot || spot.status === "terminated") return null;
  if (spot.status === "reclaiming") return h("span", { className: "reclaim due", title: "spot instance being reclaimed" }, "being reclaimed");
  const at = spot.reclaimAt ? Date.parse(spot.reclaimAt) : NaN;
  if (Number.isFinite(at)) {
    const due = at <= now;
    return h("span", { className: due ? "reclaim due" : "reclaim", dataset: { reclaimAt: String(at) }, title: `spot reclaim at ${spot.reclaimAt} (${spot.status})` }, countdownText(at, now));
  }
  if (spot.status === "notified") return h("span", { className: "reclaim", title: "spot instance notified for reclaim" }, "reclaim notified");
  return null;
}

/** Moves every countdown under `root` on to `now` (called once a second). */
export function tickCountdowns(root, now = Date.now()) {
  for (const el of root.querySelectorAll("[data-reclaim-at]")) {
    const at = Number(el.dataset.reclaimAt);
    const text = countdownText(at, now);
    if (el.textContent !== text) el.textContent = text;
    el.classList.toggle("due", at <= now);
  }
}

/** The status badge: the normalized word in its colour, the provider's own word on hover. */
export function statusBadge(inst, stale = false) {
  const raw = inst.statusReason ? `${inst.providerStatus}: ${inst.statusReason}` : inst.providerStatus;
  const title = `${inst.provider} status: ${raw || "(none)"}${stale ? " — last known; this provider is failing" : ""}`;
  return h("span", { className: `badge status-${STATUSES.includes(inst.status) ? inst.status : "unknown"}`, title }, inst.status);
}
