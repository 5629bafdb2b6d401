-- Issue 10: the PULL queue lives in the database. A manual or due run is a `queued`
-- execution any server may claim (compare-and-set to `running`); a hook has at most one
-- execution queued or running, whatever the number of servers or concurrent requests.
-- SQLite cannot change a CHECK constraint: the table is rebuilt with its rows as they are
-- (the CHECK spelled with OR, not IN: see 0012).
CREATE TABLE executions_rebuilt (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL,
    hook_id     TEXT NOT NULL REFERENCES hooks(id) ON DELETE CASCADE,
    status      TEXT NOT NULL CHECK (status = 'queued' OR status = 'running' OR status = 'succeeded' OR status = 'failed' OR status = 'timed_out' OR status = 'skipped'),
    trigger     TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    pages       TEXT NOT NULL,
    record      TEXT,
    error       TEXT,
    event_id    TEXT,
    node_id     TEXT,
    lease_until TEXT
);
INSERT INTO executions_rebuilt (id, org_id, hook_id, status, trigger, started_at, finished_at, pages, record, error, event_id, node_id, lease_until)
    SELECT id, org_id, hook_id, status, trigger, started_at, finished_at, pages, record, error, event_id, node_id, lease_until
    FROM executions;
DROP TABLE executions;
ALTER TABLE executions_rebuilt RENAME TO executions;
CREATE INDEX executions_hook ON executions(hook_id, started_at);
CREATE UNIQUE INDEX executions_one_unfinished ON executions(hook_id) WHERE status = 'queued' OR status = 'running';
CREATE INDEX executions_running ON executions(status) WHERE status = 'running';
CREATE INDEX executions_queued ON executions(started_at) WHERE status = 'queued';
