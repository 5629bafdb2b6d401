-- The same tables as 0001 made them, with their CHECK constraints spelled as `=` … `OR`.
-- SQLite evaluates `x IN ('a', 'b', 'c')` (three values or more) in a CHECK by building a
-- temporary B-tree of the list on every insert; for the two tables a sync inserts into most
-- that was about a tenth of a first sync's time. The rows are copied as they are.

CREATE TABLE assignments_rebuilt (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    external_id   TEXT,
    resource_type TEXT NOT NULL CHECK (resource_type = 'employee' OR resource_type = 'contractor' OR resource_type = 'vacancy' OR resource_type = 'team'),
    resource_id   TEXT NOT NULL,
    target_type   TEXT NOT NULL CHECK (target_type = 'team' OR target_type = 'project'),
    target_id     TEXT NOT NULL,
    fte           REAL NOT NULL,
    start_date    TEXT NOT NULL,
    end_date      TEXT,
    source_system TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO assignments_rebuilt (id, org_id, external_id, resource_type, resource_id, target_type, target_id, fte, start_date, end_date, source_system, created_at, updated_at)
    SELECT id, org_id, external_id, resource_type, resource_id, target_type, target_id, fte, start_date, end_date, source_system, created_at, updated_at
    FROM assignments;
DROP TABLE assignments;
ALTER TABLE assignments_rebuilt RENAME TO assignments;
CREATE UNIQUE INDEX assignments_external_id ON assignments(org_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX assignments_resource ON assignments(resource_type, resource_id);
CREATE INDEX assignments_target ON assignments(target_type, target_id);

-- An event's seq is its id (`evt_<seq>`) and PUSH cursors point at it: the AUTOINCREMENT
-- counter carries over, so a seq is never handed out twice, even one whose event is gone.
CREATE TEMP TABLE change_events_counter AS SELECT seq FROM sqlite_sequence WHERE name = 'change_events';
CREATE TABLE change_events_rebuilt (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id       TEXT NOT NULL,
    entity_type  TEXT NOT NULL,
    entity_id    TEXT NOT NULL,
    change_type  TEXT NOT NULL CHECK (change_type = 'create' OR change_type = 'update' OR change_type = 'delete'),
    before       TEXT,
    after        TEXT,
    source       TEXT NOT NULL,
    created_at   TEXT NOT NULL
);
INSERT INTO change_events_rebuilt (seq, org_id, entity_type, entity_id, change_type, before, after, source, created_at)
    SELECT seq, org_id, entity_type, entity_id, change_type, before, after, source, created_at FROM change_events;
DROP TABLE change_events;
ALTER TABLE change_events_rebuilt RENAME TO change_events;
DELETE FROM sqlite_sequence WHERE name = 'change_events';
INSERT INTO sqlite_sequence (name, seq) SELECT 'change_events', seq FROM temp.change_events_counter;
DROP TABLE temp.change_events_counter;
CREATE INDEX change_events_org ON change_events(org_id, seq);
