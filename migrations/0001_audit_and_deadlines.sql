-- gpufleet edge proxy: the audit log and instance deadlines (D1, SQLite).
-- Applied by `wrangler d1 migrations apply gpufleet` (and by `npm start` and the tests, locally).

-- Every mutating call through the proxy and every deadline change or firing; reads are not logged.
CREATE TABLE IF NOT EXISTS audit (
  seq            INTEGER PRIMARY KEY AUTOINCREMENT,  -- newest first = seq DESC; the paging cursor
  at_ms          INTEGER NOT NULL,
  caller         TEXT    NOT NULL,                   -- a caller name, or "deadline"
  action         TEXT    NOT NULL,                   -- create, stop, …, deadline.set, deadline.fired, …
  provider       TEXT    NOT NULL,
  instance_id    TEXT,
  instance_name  TEXT,
  request_id     TEXT    NOT NULL,
  outcome_kind   TEXT    NOT NULL CHECK (outcome_kind IN ('ok', 'error', 'unknown')),
  outcome_code   TEXT,
  outcome_status INTEGER,
  detail         TEXT
);
CREATE INDEX IF NOT EXISTS audit_by_instance ON audit (provider, instance_id, seq);
CREATE INDEX IF NOT EXISTS audit_by_caller ON audit (caller, seq);

-- One deadline per instance. A claim sets the lease (owner, until) in one UPDATE … RETURNING.
CREATE TABLE IF NOT EXISTS deadlines (
  provider         TEXT    NOT NULL,
  instance_id      TEXT    NOT NULL,
  instance_name    TEXT,
  at_ms            INTEGER NOT NULL,
  action           TEXT    NOT NULL CHECK (action IN ('stop', 'terminate', 'delete')),
  set_by           TEXT    NOT NULL,
  set_at_ms        INTEGER NOT NULL,
  state            TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'failed')),
  attempts         INTEGER NOT NULL DEFAULT 0,
  next_attempt_ms  INTEGER NOT NULL,
  lease_owner      TEXT,
  lease_until_ms   INTEGER,
  last_error       TEXT,
  fired_at_ms      INTEGER,
  PRIMARY KEY (provider, instance_id)
);
CREATE INDEX IF NOT EXISTS deadlines_due ON deadlines (state, next_attempt_ms);
