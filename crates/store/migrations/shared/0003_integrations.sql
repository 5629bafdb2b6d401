-- Integrations, their hooks, their secrets (encrypted by the server: only nonce and
-- ciphertext are here) and the executions of hooks. Every column is text, so the store
-- reads and writes these tables with the same SQL on both backends.
CREATE TABLE integrations (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL,
    name          TEXT NOT NULL,
    description   TEXT,
    source_system TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE UNIQUE INDEX integrations_source ON integrations(org_id, source_system);

CREATE TABLE hooks (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL,
    integration_id TEXT NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    hook_type      TEXT NOT NULL CHECK (hook_type IN ('PULL', 'PUSH')),
    entity_type    TEXT NOT NULL,
    event_types    TEXT NOT NULL,
    code           TEXT NOT NULL,
    schedule       TEXT,
    preferred_hour TEXT,
    enabled        TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX hooks_integration ON hooks(integration_id);

CREATE TABLE integration_secrets (
    integration_id TEXT NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    org_id         TEXT NOT NULL,
    name           TEXT NOT NULL,
    nonce          TEXT NOT NULL,
    ciphertext     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    PRIMARY KEY (integration_id, name)
);

CREATE TABLE executions (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL,
    hook_id     TEXT NOT NULL REFERENCES hooks(id) ON DELETE CASCADE,
    status      TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'timed_out', 'skipped')),
    trigger     TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    pages       TEXT NOT NULL,
    record      TEXT,
    error       TEXT
);
CREATE INDEX executions_hook ON executions(hook_id, started_at);
