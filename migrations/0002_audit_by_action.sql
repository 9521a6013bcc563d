-- The orphan report asks the audit log which instances have a recorded `create`.
CREATE INDEX IF NOT EXISTS audit_by_action ON audit (action, provider, instance_id);
