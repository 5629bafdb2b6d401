-- PUSH delivery: per hook, the last change event (seq, as text) done with; and which event
-- an execution delivered.
CREATE TABLE push_cursors (
    hook_id    TEXT PRIMARY KEY REFERENCES hooks(id) ON DELETE CASCADE,
    org_id     TEXT NOT NULL,
    last_seq   TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
ALTER TABLE executions ADD COLUMN event_id TEXT;
