// The edge proxy's Store (src/store.rs) on Cloudflare D1: the audit log and instance deadlines.
// Tables: migrations/0001_audit_and_deadlines.sql. The Rust side (src/bindings/store.rs) calls
// these methods with and for JSON text (the camelCase shapes of `AuditEntry`, `AuditFilter`,
// `Deadline`, `Finish`), so the decisions stay in the core and only SQL lives here. Each method
// is one statement (or one batch), so each is atomic; claimDue is one UPDATE … RETURNING.

const DEADLINE_COLUMNS =
  "provider, instance_id, instance_name, at_ms, action, set_by, set_at_ms, state, attempts, next_attempt_ms, lease_owner, lease_until_ms, last_error, fired_at_ms";

/** A `deadlines` row as the core's `Deadline` (absent columns left out). */
function deadlineOf(row) {
  const d = {
    provider: row.provider,
    instanceId: row.instance_id,
    atMs: row.at_ms,
    action: row.action,
    setBy: row.set_by,
    setAtMs: row.set_at_ms,
    state: row.state,
    attempts: row.attempts,
    nextAttemptMs: row.next_attempt_ms,
  };
  if (row.instance_name != null) d.instanceName = row.instance_name;
  if (row.lease_owner != null) d.leaseOwner = row.lease_owner;
  if (row.lease_until_ms != null) d.leaseUntilMs = row.lease_until_ms;
  if (row.last_error != null) d.lastError = row.last_error;
  if (row.fired_at_ms != null) d.firedAtMs = row.fired_at_ms;
  return d;
}

/** An `audit` row as the core's `AuditEntry`. */
function entryOf(row) {
  const outcome =
    row.outcome_kind === "error"
      ? { kind: "error", code: row.outcome_code, ...(row.outcome_status != null ? { status: row.outcome_status } : {}) }
      : { kind: row.outcome_kind };
  const e = {
    seq: row.seq,
    atMs: row.at_ms,
    caller: row.caller,
    action: row.action,
    provider: row.provider,
    requestId: row.request_id,
    outcome,
  };
  if (row.instance_id != null) e.instanceId = row.instance_id;
  if (row.instance_name != null) e.instanceName = row.instance_name;
  if (row.detail != null) e.detail = row.detail;
  return e;
}

export class D1Store {
  /** @param {D1Database} db the `DB` binding (wrangler.toml [[d1_databases]]) */
  constructor(db) {
    this.db = db;
  }

  async appendAudit(json) {
    const e = JSON.parse(json);
    const o = e.outcome ?? { kind: "unknown" };
    const row = await this.db
      .prepare(
        "INSERT INTO audit (at_ms, caller, action, provider, instance_id, instance_name, request_id, outcome_kind, outcome_code, outcome_status, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) RETURNING seq",
      )
      .bind(e.atMs, e.caller, e.action, e.provider, e.instanceId ?? null, e.instanceName ?? null, e.requestId, o.kind, o.code ?? null, o.status ?? null, e.detail ?? null)
      .first();
    return String(row.seq);
  }

  async audit(json) {
    const f = JSON.parse(json);
    const limit = Math.min(Math.max(f.limit ?? 50, 1), 500);
    const where = [];
    const args = [];
    const add = (sql, value) => {
      args.push(value);
      where.push(sql.replace("?", `?${args.length}`));
    };
    if (f.beforeSeq != null) add("seq < ?", f.beforeSeq);
    if (f.provider != null) add("provider = ?", f.provider);
    if (f.instanceId != null) add("instance_id = ?", f.instanceId);
    if (f.caller != null) add("caller = ?", f.caller);
    if (f.action != null) add("action = ?", f.action);
    args.push(limit + 1);
    const sql = `SELECT * FROM audit ${where.length ? "WHERE " + where.join(" AND ") : ""} ORDER BY seq DESC LIMIT ?${args.length}`;
    const { results } = await this.db.prepare(sql).bind(...args).all();
    const entries = results.slice(0, limit).map(entryOf);
    const page = { entries };
    if (results.length > limit) page.nextCursor = String(entries[entries.length - 1].seq);
    return JSON.stringify(page);
  }

  async putDeadline(json) {
    const d = JSON.parse(json);
    const [before] = await this.db.batch([
      this.db.prepare(`SELECT ${DEADLINE_COLUMNS} FROM deadlines WHERE provider = ?1 AND instance_id = ?2`).bind(d.provider, d.instanceId),
      this.db
        .prepare(
          `INSERT OR REPLACE INTO deadlines (${DEADLINE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)`,
        )
        .bind(d.provider, d.instanceId, d.instanceName ?? null, d.atMs, d.action, d.setBy, d.setAtMs, d.state, d.attempts, d.nextAttemptMs, d.leaseOwner ?? null, d.leaseUntilMs ?? null, d.lastError ?? null, d.firedAtMs ?? null),
    ]);
    return before.results.length ? JSON.stringify(deadlineOf(before.results[0])) : null;
  }

  async clearDeadline(provider, instanceId) {
    const row = await this.db
      .prepare(`DELETE FROM deadlines WHERE provider = ?1 AND instance_id = ?2 RETURNING ${DEADLINE_COLUMNS}`)
      .bind(provider, instanceId)
      .first();
    return row ? JSON.stringify(deadlineOf(row)) : null;
  }

  async deadline(provider, instanceId) {
    const row = await this.db.prepare(`SELECT ${DEADLINE_COLUMNS} FROM deadlines WHERE provider = ?1 AND instance_id = ?2`).bind(provider, instanceId).first();
    return row ? JSON.stringify(deadlineOf(row)) : null;
  }

  async deadlines() {
    const { results } = await this.db
      .prepare(`SELECT ${DEADLINE_COLUMNS} FROM deadlines ORDER BY state <> 'pending', at_ms`)
      .all();
    return JSON.stringify(results.map(deadlineOf));
  }

  /**
   * The deadlines of the instances in `json` (`[[provider, instanceId], …]`, one bound parameter
   * however many), in one statement over the primary key: what an answer's instances need, not
   * every deadline ever kept.
   */
  async deadlinesOf(json) {
    const { results } = await this.db
      .prepare(
        `SELECT ${DEADLINE_COLUMNS} FROM deadlines WHERE (provider, instance_id) IN (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?1))`,
      )
      .bind(json)
      .all();
    return JSON.stringify(results.map(deadlineOf));
  }

  /** One UPDATE … RETURNING: no two runs can take the same deadline (D1 runs it atomically). */
  async claimDue(nowMs, owner, leaseMs, limit) {
    const { results } = await this.db
      .prepare(
        `UPDATE deadlines SET lease_owner = ?2, lease_until_ms = ?1 + ?3, attempts = attempts + 1
         WHERE rowid IN (SELECT rowid FROM deadlines
                         WHERE state = 'pending' AND at_ms <= ?1 AND next_attempt_ms <= ?1
                           AND (lease_until_ms IS NULL OR lease_until_ms <= ?1)
                         ORDER BY at_ms LIMIT ?4)
         RETURNING ${DEADLINE_COLUMNS}`,
      )
      .bind(nowMs, owner, leaseMs, limit)
      .all();
    results.sort((a, b) => a.at_ms - b.at_ms);
    return JSON.stringify(results.map(deadlineOf));
  }

  /** Only the lease's holder can finish a pending deadline; returns whether it did. */
  async finish(provider, instanceId, owner, json) {
    const how = JSON.parse(json);
    const where = "WHERE provider = ?1 AND instance_id = ?2 AND lease_owner = ?3 AND state = 'pending'";
    let stmt;
    if (how.done) {
      stmt = this.db.prepare(`UPDATE deadlines SET state = 'done', fired_at_ms = ?4, lease_owner = NULL, lease_until_ms = NULL ${where}`).bind(provider, instanceId, owner, how.done.atMs);
    } else if (how.retry) {
      stmt = this.db
        .prepare(`UPDATE deadlines SET next_attempt_ms = ?4, last_error = ?5, lease_owner = NULL, lease_until_ms = NULL ${where}`)
        .bind(provider, instanceId, owner, how.retry.nextAttemptMs, how.retry.error);
    } else if (how.gaveUp) {
      stmt = this.db
        .prepare(`UPDATE deadlines SET state = 'failed', last_error = ?4, lease_owner = NULL, lease_until_ms = NULL ${where}`)
        .bind(provider, instanceId, owner, how.gaveUp.error);
    } else {
      throw new TypeError("finish: expected done, retry or gaveUp");
    }
    const { meta } = await stmt.run();
    return meta.changes > 0;
  }
}
