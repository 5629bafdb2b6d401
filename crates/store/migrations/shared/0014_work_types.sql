-- Issue 11: work types (forecast.md "Work types"), reference data of an organisation whose
-- overhead loads the cost of the employees and vacancies that name them.
CREATE TABLE work_types (
    id                  TEXT PRIMARY KEY,
    org_id              TEXT NOT NULL,
    name                TEXT NOT NULL,
    external_id         TEXT,
    overhead_percentage TEXT NOT NULL,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
);
CREATE UNIQUE INDEX work_types_name ON work_types(org_id, name);
CREATE UNIQUE INDEX work_types_external_id ON work_types(org_id, external_id) WHERE external_id IS NOT NULL;
