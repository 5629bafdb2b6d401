-- Hooks' ctx.kv: per hook, values with an expiry (RFC 3339, compared as text). Survives
-- restarts and is shared by every server on one database.
CREATE TABLE hook_kv (
    org_id     TEXT NOT NULL,
    hook_id    TEXT NOT NULL REFERENCES hooks(id) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    PRIMARY KEY (hook_id, key)
);
CREATE INDEX hook_kv_expiry ON hook_kv(expires_at);
