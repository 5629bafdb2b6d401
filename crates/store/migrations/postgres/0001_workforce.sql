-- The workforce model (data-model.md) on PostgreSQL: the same tables, columns and keys as
-- the SQLite migration of the same number, so both backends hold the same rows. Scalar
-- fields of each entity live in `fields` (a JSON object as text, keyed by the record field
-- names, schema in flowstate-sync); dates are `YYYY-MM-DD` text and times RFC 3339 text, as
-- the store reads and writes them on both backends.
--
-- One difference: `org_id` columns do not reference `organizations` here. The store checks
-- the organisation once per call; a per-row foreign key check on PostgreSQL share-locks the
-- one organisation row for every row written, which measured at twice the write time of a
-- sync page (141-151 ms against 64-70 ms for 1,000 employees with 2 allocations each).
-- Deleting an organisation therefore deletes its rows explicitly. References between
-- entities (fillers, parent teams, adjustment owners) are kept.

CREATE TABLE organizations (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    timezone   TEXT NOT NULL,
    currency   TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE job_roles (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL,
    external_id TEXT,
    title       TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE UNIQUE INDEX job_roles_external_id ON job_roles(org_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX job_roles_title ON job_roles(org_id, title);

CREATE TABLE employees (
    id                TEXT PRIMARY KEY,
    org_id            TEXT NOT NULL,
    external_id       TEXT,
    fields            TEXT NOT NULL,
    custom_attributes TEXT NOT NULL DEFAULT '{}',
    email_key         TEXT,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE UNIQUE INDEX employees_external_id ON employees(org_id, external_id) WHERE external_id IS NOT NULL;
CREATE UNIQUE INDEX employees_email ON employees(org_id, email_key) WHERE email_key IS NOT NULL;

CREATE TABLE contractors (
    id                TEXT PRIMARY KEY,
    org_id            TEXT NOT NULL,
    external_id       TEXT,
    fields            TEXT NOT NULL,
    custom_attributes TEXT NOT NULL DEFAULT '{}',
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE UNIQUE INDEX contractors_external_id ON contractors(org_id, external_id) WHERE external_id IS NOT NULL;

CREATE TABLE vacancies (
    id                         TEXT PRIMARY KEY,
    org_id                     TEXT NOT NULL,
    external_id                TEXT,
    fields                     TEXT NOT NULL,
    custom_attributes          TEXT NOT NULL DEFAULT '{}',
    filled_by_employee_id      TEXT REFERENCES employees(id) ON DELETE SET NULL,
    filled_by_contractor_id    TEXT REFERENCES contractors(id) ON DELETE SET NULL,
    created_at                 TEXT NOT NULL,
    updated_at                 TEXT NOT NULL,
    CHECK (filled_by_employee_id IS NULL OR filled_by_contractor_id IS NULL)
);
CREATE UNIQUE INDEX vacancies_external_id ON vacancies(org_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX vacancies_filled_by_employee ON vacancies(filled_by_employee_id) WHERE filled_by_employee_id IS NOT NULL;
CREATE INDEX vacancies_filled_by_contractor ON vacancies(filled_by_contractor_id) WHERE filled_by_contractor_id IS NOT NULL;

CREATE TABLE projects (
    id                TEXT PRIMARY KEY,
    org_id            TEXT NOT NULL,
    external_id       TEXT,
    fields            TEXT NOT NULL,
    custom_attributes TEXT NOT NULL DEFAULT '{}',
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE UNIQUE INDEX projects_external_id ON projects(org_id, external_id) WHERE external_id IS NOT NULL;

CREATE TABLE teams (
    id                TEXT PRIMARY KEY,
    org_id            TEXT NOT NULL,
    external_id       TEXT,
    fields            TEXT NOT NULL,
    custom_attributes TEXT NOT NULL DEFAULT '{}',
    parent_team_id    TEXT REFERENCES teams(id) ON DELETE SET NULL,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE UNIQUE INDEX teams_external_id ON teams(org_id, external_id) WHERE external_id IS NOT NULL;

CREATE TABLE assignments (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL,
    external_id   TEXT,
    resource_type TEXT NOT NULL CHECK (resource_type IN ('employee', 'contractor', 'vacancy', 'team')),
    resource_id   TEXT NOT NULL,
    target_type   TEXT NOT NULL CHECK (target_type IN ('team', 'project')),
    target_id     TEXT NOT NULL,
    fte           DOUBLE PRECISION NOT NULL,
    start_date    TEXT NOT NULL,
    end_date      TEXT,
    source_system TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE UNIQUE INDEX assignments_external_id ON assignments(org_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX assignments_resource ON assignments(resource_type, resource_id);
CREATE INDEX assignments_target ON assignments(target_type, target_id);

CREATE TABLE salary_adjustments (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL,
    employee_id    TEXT NOT NULL REFERENCES employees(id) ON DELETE CASCADE,
    effective_date TEXT NOT NULL,
    salary         DOUBLE PRECISION NOT NULL,
    bonus          DOUBLE PRECISION,
    currency_code  TEXT NOT NULL,
    reason         TEXT,
    source_system  TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX salary_adjustments_employee ON salary_adjustments(employee_id);

CREATE TABLE rate_adjustments (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL,
    contractor_id  TEXT NOT NULL REFERENCES contractors(id) ON DELETE CASCADE,
    effective_date TEXT NOT NULL,
    rate_type      TEXT NOT NULL,
    rate           DOUBLE PRECISION NOT NULL,
    currency_code  TEXT NOT NULL,
    reason         TEXT,
    source_system  TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX rate_adjustments_contractor ON rate_adjustments(contractor_id);

CREATE TABLE custom_attribute_definitions (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL,
    name          TEXT NOT NULL,
    attribute_key TEXT NOT NULL,
    field_type    TEXT NOT NULL CHECK (field_type IN ('STRING', 'NUMBER', 'DATE', 'DATE_RANGE')),
    entity_types  TEXT NOT NULL,
    is_required   BOOLEAN NOT NULL DEFAULT FALSE,
    is_active     BOOLEAN NOT NULL DEFAULT TRUE,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE UNIQUE INDEX custom_attribute_definitions_name ON custom_attribute_definitions(org_id, name);
CREATE UNIQUE INDEX custom_attribute_definitions_key ON custom_attribute_definitions(org_id, attribute_key);

CREATE TABLE sync_state (
    org_id         TEXT NOT NULL,
    source_system  TEXT NOT NULL,
    entity_type    TEXT NOT NULL,
    external_id    TEXT NOT NULL,
    entity_id      TEXT NOT NULL,
    fingerprint    TEXT NOT NULL,
    last_synced_at TEXT NOT NULL,
    PRIMARY KEY (org_id, source_system, entity_type, external_id)
);
CREATE INDEX sync_state_entity ON sync_state(entity_type, entity_id);

-- The outbox. `seq` comes from a sequence: on PostgreSQL, with several writers, a smaller
-- seq may commit after a larger one (the consumer must allow for it).
CREATE TABLE change_events (
    seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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
