-- The workforce model (data-model.md). Tables keyed by text ids are WITHOUT ROWID: the
-- primary key is the table, one B-tree fewer to update per row. Scalar fields of each entity live in `fields`
-- (a JSON object keyed by the record field names, schema in flowstate-sync); columns exist
-- for what is matched, joined or constrained on.

CREATE TABLE organizations (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    timezone   TEXT NOT NULL,
    currency   TEXT NOT NULL,
    created_at TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE job_roles (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    external_id TEXT,
    title       TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
) WITHOUT ROWID;
CREATE UNIQUE INDEX job_roles_external_id ON job_roles(org_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX job_roles_title ON job_roles(org_id, title);

-- One table per entity type, same shape; employees add `email_key` for uniqueness,
-- vacancies their filler, teams their parent.
CREATE TABLE employees (
    id                TEXT PRIMARY KEY,
    org_id            TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    external_id       TEXT,
    fields            TEXT NOT NULL,
    custom_attributes TEXT NOT NULL DEFAULT '{}',
    email_key         TEXT,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
) WITHOUT ROWID;
CREATE UNIQUE INDEX employees_external_id ON employees(org_id, external_id) WHERE external_id IS NOT NULL;
CREATE UNIQUE INDEX employees_email ON employees(org_id, email_key) WHERE email_key IS NOT NULL;

CREATE TABLE contractors (
    id                TEXT PRIMARY KEY,
    org_id            TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    external_id       TEXT,
    fields            TEXT NOT NULL,
    custom_attributes TEXT NOT NULL DEFAULT '{}',
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
) WITHOUT ROWID;
CREATE UNIQUE INDEX contractors_external_id ON contractors(org_id, external_id) WHERE external_id IS NOT NULL;

CREATE TABLE vacancies (
    id                         TEXT PRIMARY KEY,
    org_id                     TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    external_id                TEXT,
    fields                     TEXT NOT NULL,
    custom_attributes          TEXT NOT NULL DEFAULT '{}',
    filled_by_employee_id      TEXT REFERENCES employees(id) ON DELETE SET NULL,
    filled_by_contractor_id    TEXT REFERENCES contractors(id) ON DELETE SET NULL,
    created_at                 TEXT NOT NULL,
    updated_at                 TEXT NOT NULL,
    CHECK (filled_by_employee_id IS NULL OR filled_by_contractor_id IS NULL)
) WITHOUT ROWID;
CREATE UNIQUE INDEX vacancies_external_id ON vacancies(org_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX vacancies_filled_by_employee ON vacancies(filled_by_employee_id) WHERE filled_by_employee_id IS NOT NULL;
CREATE INDEX vacancies_filled_by_contractor ON vacancies(filled_by_contractor_id) WHERE filled_by_contractor_id IS NOT NULL;

CREATE TABLE projects (
    id                TEXT PRIMARY KEY,
    org_id            TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    external_id       TEXT,
    fields            TEXT NOT NULL,
    custom_attributes TEXT NOT NULL DEFAULT '{}',
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
) WITHOUT ROWID;
CREATE UNIQUE INDEX projects_external_id ON projects(org_id, external_id) WHERE external_id IS NOT NULL;

CREATE TABLE teams (
    id                TEXT PRIMARY KEY,
    org_id            TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    external_id       TEXT,
    fields            TEXT NOT NULL,
    custom_attributes TEXT NOT NULL DEFAULT '{}',
    parent_team_id    TEXT REFERENCES teams(id) ON DELETE SET NULL,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
) WITHOUT ROWID;
CREATE UNIQUE INDEX teams_external_id ON teams(org_id, external_id) WHERE external_id IS NOT NULL;

-- Assignments: team and project allocations of employees, contractors and vacancies (and
-- teams to projects). `source_system` is the integration that owns the row (NULL: made by
-- hand); a sync only ever touches its own rows.
CREATE TABLE assignments (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    external_id   TEXT,
    resource_type TEXT NOT NULL CHECK (resource_type IN ('employee', 'contractor', 'vacancy', 'team')),
    resource_id   TEXT NOT NULL,
    target_type   TEXT NOT NULL CHECK (target_type IN ('team', 'project')),
    target_id     TEXT NOT NULL,
    fte           REAL NOT NULL,
    start_date    TEXT NOT NULL,
    end_date      TEXT,
    source_system TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
) WITHOUT ROWID;
CREATE UNIQUE INDEX assignments_external_id ON assignments(org_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX assignments_resource ON assignments(resource_type, resource_id);
CREATE INDEX assignments_target ON assignments(target_type, target_id);

CREATE TABLE salary_adjustments (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    employee_id    TEXT NOT NULL REFERENCES employees(id) ON DELETE CASCADE,
    effective_date TEXT NOT NULL,
    salary         REAL NOT NULL,
    bonus          REAL,
    currency_code  TEXT NOT NULL,
    reason         TEXT,
    source_system  TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX salary_adjustments_employee ON salary_adjustments(employee_id);

CREATE TABLE rate_adjustments (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    contractor_id  TEXT NOT NULL REFERENCES contractors(id) ON DELETE CASCADE,
    effective_date TEXT NOT NULL,
    rate_type      TEXT NOT NULL,
    rate           REAL NOT NULL,
    currency_code  TEXT NOT NULL,
    reason         TEXT,
    source_system  TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX rate_adjustments_contractor ON rate_adjustments(contractor_id);

CREATE TABLE custom_attribute_definitions (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    attribute_key TEXT NOT NULL,
    field_type    TEXT NOT NULL CHECK (field_type IN ('STRING', 'NUMBER', 'DATE', 'DATE_RANGE')),
    entity_types  TEXT NOT NULL,
    is_required   INTEGER NOT NULL DEFAULT 0,
    is_active     INTEGER NOT NULL DEFAULT 1,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
) WITHOUT ROWID;
CREATE UNIQUE INDEX custom_attribute_definitions_name ON custom_attribute_definitions(org_id, name);
CREATE UNIQUE INDEX custom_attribute_definitions_key ON custom_attribute_definitions(org_id, attribute_key);

-- Per source record: which entity it became, and the fingerprint of the data last applied.
CREATE TABLE sync_state (
    org_id         TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    source_system  TEXT NOT NULL,
    entity_type    TEXT NOT NULL,
    external_id    TEXT NOT NULL,
    entity_id      TEXT NOT NULL,
    fingerprint    TEXT NOT NULL,
    last_synced_at TEXT NOT NULL,
    PRIMARY KEY (org_id, source_system, entity_type, external_id)
) WITHOUT ROWID;
CREATE INDEX sync_state_entity ON sync_state(entity_type, entity_id);

-- The outbox: one row per create, update and delete, written in the change's transaction.
-- An event's stable id is `evt_<seq>`.
CREATE TABLE change_events (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id       TEXT NOT NULL,
    entity_type  TEXT NOT NULL,
    entity_id    TEXT NOT NULL,
    change_type  TEXT NOT NULL CHECK (change_type IN ('create', 'update', 'delete')),
    before       TEXT,
    after        TEXT,
    source       TEXT NOT NULL,
    created_at   TEXT NOT NULL
);
CREATE INDEX change_events_org ON change_events(org_id, seq);
