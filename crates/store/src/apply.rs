//! Applying one record inside its savepoint: look up what exists, plan with
//! `flowstate_sync`, write, and record the change event.

use chrono::NaiveDate;
use flowstate_sync::{
    EntityType, FieldChange, FieldValue, FillChange, Filler, Fingerprint, NestedKind, ParsedRecord, RecordAction,
    RecordError, Upsert,
    nested::{self, Adjustment, Allocation, NestedRow, StoredRow},
    parse_record, resolve_fill, schema,
};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::{Map, Value};

use crate::{
    IncomingRecord, PageOutcome, StoreError,
    model::{id_prefix, new_id, represent, table},
};

/// What every record of a page shares.
pub(crate) struct PageContext<'a> {
    pub org: &'a str,
    pub source: &'a str,
    pub entity: EntityType,
    pub today: NaiveDate,
    pub now: String,
    pub custom_definitions: Vec<flowstate_sync::CustomAttributeDefinition>,
    /// Teams and projects looked up or created in this page, by externalId. Cleared when a
    /// record is rolled back, since what it created is gone.
    pub targets: std::cell::RefCell<std::collections::HashMap<(EntityType, String), String>>,
}

/// Why a record was not applied.
pub(crate) enum RecordFailure {
    /// The record's fault: reported, rolled back alone.
    Rejected(Vec<RecordError>),
    /// The store's fault: the page fails.
    Store(StoreError),
}

impl From<rusqlite::Error> for RecordFailure {
    fn from(error: rusqlite::Error) -> RecordFailure {
        RecordFailure::Store(error.into())
    }
}

type Applied = Result<PageOutcome, RecordFailure>;

fn reject(external_id: &str, field: &str, message: String) -> RecordFailure {
    RecordFailure::Rejected(vec![RecordError {
        external_id: external_id.to_string(),
        field: Some(field.to_string()),
        message,
    }])
}

/// The no-op of a re-run: `lastSyncedAt` moves, nothing else.
pub(crate) fn touch(connection: &Connection, page: &PageContext<'_>, external_id: &str) -> rusqlite::Result<()> {
    connection
        .prepare_cached(
            "UPDATE sync_state SET last_synced_at = ?1 WHERE org_id = ?2 AND source_system = ?3 AND entity_type = ?4 AND external_id = ?5",
        )?
        .execute(params![page.now, page.org, page.source, page.entity.as_str(), external_id])?;
    Ok(())
}

/// Applies one record that is not a no-op (the caller compared fingerprints and touched the
/// unchanged ones); the caller wraps it in a savepoint and keeps the outcome only on `Ok`.
pub(crate) fn apply_record(
    connection: &Connection,
    page: &PageContext<'_>,
    record: &IncomingRecord,
    matched: Option<Existing>,
    fingerprint: &Fingerprint,
) -> Applied {
    let parsed = parse_record(page.entity, &record.external_id, &record.data, &page.custom_definitions)
        .map_err(RecordFailure::Rejected)?;
    let mut outcome = PageOutcome::default();
    match (&parsed.action, matched) {
        (RecordAction::Delete { .. }, None) => outcome.unchanged += 1,
        (RecordAction::Delete { .. }, Some(existing)) => {
            delete_entity(connection, page, page.entity, &existing.entity_id)?;
            outcome.deleted += 1;
        }
        (RecordAction::Upsert(upsert), existing) => {
            let before = match &existing {
                Some(existing) => represent(connection, page.org, page.entity, &existing.entity_id, page.today)?,
                None => None,
            };
            let entity_id = match &existing {
                Some(existing) => existing.entity_id.clone(),
                None => new_id(id_prefix(page.entity)),
            };
            write_entity(connection, page, &parsed, upsert, &entity_id, before.as_ref(), &mut outcome)?;
            save_sync_state(connection, page, &parsed, fingerprint, &entity_id)?;
            let after = represent(connection, page.org, page.entity, &entity_id, page.today)?;
            match before {
                None => {
                    emit(connection, page, page.entity, &entity_id, "create", None, after.as_ref())?;
                    outcome.created += 1;
                }
                Some(before) if differs(&before, after.as_ref()) => {
                    let table = table(page.entity);
                    connection.execute(
                        &format!("UPDATE {table} SET updated_at = ?1 WHERE id = ?2"),
                        params![page.now, entity_id],
                    )?;
                    // The row now says what was read, but for updatedAt: set it here rather
                    // than reading the entity a second time.
                    let mut after = after;
                    if let Some(Value::Object(object)) = after.as_mut() {
                        object.insert("updatedAt".into(), Value::String(page.now.clone()));
                    }
                    emit(connection, page, page.entity, &entity_id, "update", Some(&before), after.as_ref())?;
                    outcome.updated += 1;
                }
                Some(_) => outcome.unchanged += 1,
            }
        }
    }
    Ok(outcome)
}

/// Equal but for `updatedAt`.
fn differs(before: &Value, after: Option<&Value>) -> bool {
    let strip = |value: &Value| {
        let mut value = value.clone();
        if let Value::Object(object) = &mut value {
            object.remove("updatedAt");
        }
        value
    };
    after.is_none_or(|after| strip(before) != strip(after))
}

pub(crate) struct Existing {
    pub entity_id: String,
    /// The fingerprint this source last applied; `None` when adopted by externalId.
    pub fingerprint: Option<String>,
}

/// (org, source, externalId) first, then (org, externalId): data-model.md "Sync identity".
pub(crate) fn find_existing(
    connection: &Connection,
    page: &PageContext<'_>,
    external_id: &str,
) -> rusqlite::Result<Option<Existing>> {
    let table = table(page.entity);
    let by_source = connection
        .prepare_cached(&format!(
            "SELECT s.entity_id, s.fingerprint FROM sync_state s JOIN {table} e ON e.id = s.entity_id
             WHERE s.org_id = ?1 AND s.source_system = ?2 AND s.entity_type = ?3 AND s.external_id = ?4"
        ))?
        .query_row(params![page.org, page.source, page.entity.as_str(), external_id], |row| {
            Ok(Existing { entity_id: row.get(0)?, fingerprint: Some(row.get(1)?) })
        })
        .optional()?;
    if by_source.is_some() {
        return Ok(by_source);
    }
    connection
        .prepare_cached(&format!("SELECT id FROM {table} WHERE org_id = ?1 AND external_id = ?2"))?
        .query_row(params![page.org, external_id], |row| Ok(Existing { entity_id: row.get(0)?, fingerprint: None }))
        .optional()
}

fn save_sync_state(
    connection: &Connection,
    page: &PageContext<'_>,
    parsed: &ParsedRecord,
    fingerprint: &Fingerprint,
    entity_id: &str,
) -> rusqlite::Result<()> {
    connection
        .prepare_cached(
            "INSERT INTO sync_state (org_id, source_system, entity_type, external_id, entity_id, fingerprint, last_synced_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (org_id, source_system, entity_type, external_id)
             DO UPDATE SET entity_id = excluded.entity_id, fingerprint = excluded.fingerprint, last_synced_at = excluded.last_synced_at",
        )?
        .execute(params![page.org, page.source, page.entity.as_str(), parsed.external_id, entity_id, fingerprint.as_str(), page.now])?;
    Ok(())
}

/// Writes a change event in the caller's transaction.
pub(crate) fn emit(
    connection: &Connection,
    page: &PageContext<'_>,
    entity: EntityType,
    entity_id: &str,
    change_type: &str,
    before: Option<&Value>,
    after: Option<&Value>,
) -> rusqlite::Result<()> {
    connection
        .prepare_cached(
            "INSERT INTO change_events (org_id, entity_type, entity_id, change_type, before, after, source, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?
        .execute(params![
            page.org,
            entity.as_str(),
            entity_id,
            change_type,
            before.map(Value::to_string),
            after.map(Value::to_string),
            format!("sync:{}", page.source),
            page.now,
        ])?;
    Ok(())
}

fn write_entity(
    connection: &Connection,
    page: &PageContext<'_>,
    parsed: &ParsedRecord,
    upsert: &Upsert,
    entity_id: &str,
    before: Option<&Value>,
    outcome: &mut PageOutcome,
) -> Result<(), RecordFailure> {
    let external_id = &parsed.external_id;
    if page.entity == EntityType::Assignment {
        return write_assignment(connection, page, external_id, upsert, entity_id, before);
    }
    let table = table(page.entity);
    // Patch semantics: absent fields keep their value, null clears, a value sets.
    let mut fields: Map<String, Value> = match before {
        Some(_) => connection
            .prepare_cached(&format!("SELECT fields FROM {table} WHERE id = ?1"))?
            .query_row([entity_id], |row| row.get::<_, String>(0))
            .map(|text| serde_json::from_str(&text).unwrap_or_default())?,
        None => Map::new(),
    };
    for (name, change) in &upsert.fields {
        match change {
            FieldChange::Set(value) => fields.insert(name.to_string(), value.to_json()),
            FieldChange::Clear => fields.remove(*name),
        };
    }
    if before.is_none() {
        let missing: Vec<RecordError> = schema::fields(page.entity)
            .iter()
            .filter(|spec| spec.required && !fields.contains_key(spec.name))
            .map(|spec| RecordError {
                external_id: external_id.to_string(),
                field: Some(spec.name.to_string()),
                message: format!("{} is required to create {}", spec.name, with_article(page.entity)),
            })
            .collect();
        if !missing.is_empty() {
            return Err(RecordFailure::Rejected(missing));
        }
        for (name, value) in schema::defaults(page.entity) {
            fields.entry(name).or_insert_with(|| value.to_json());
        }
    }
    check_merged_fields(page.entity, external_id, upsert, &fields)?;
    let mut custom: Map<String, Value> = match before {
        Some(before) => before.get("customAttributes").and_then(Value::as_object).cloned().unwrap_or_default(),
        None => Map::new(),
    };
    for (key, value) in &upsert.custom_attributes {
        match value {
            Some(value) => custom.insert(key.clone(), value.clone()),
            None => custom.remove(key),
        };
    }
    if let Some(FieldChange::Set(FieldValue::JobRole { title, external_id: role_id })) = upsert.fields.get("jobRole") {
        upsert_job_role(connection, page, title, role_id.as_deref())?;
    }
    let fields_json = Value::Object(fields.clone()).to_string();
    let custom_json = Value::Object(custom).to_string();
    match page.entity {
        EntityType::Employee => {
            let email_key = fields.get("email").and_then(Value::as_str).map(str::to_lowercase);
            // The unique index decides; its violation is this record's error, not the page's.
            let inserted = connection
                .prepare_cached(
                    "INSERT INTO employees (id, org_id, external_id, fields, custom_attributes, email_key, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)
                     ON CONFLICT (id) DO UPDATE SET fields = excluded.fields, custom_attributes = excluded.custom_attributes, email_key = excluded.email_key",
                )?
                .execute(params![entity_id, page.org, external_id, fields_json, custom_json, email_key, page.now]);
            match inserted {
                Err(rusqlite::Error::SqliteFailure(failure, Some(message)))
                    if failure.code == rusqlite::ErrorCode::ConstraintViolation && message.contains("email_key") =>
                {
                    let email = email_key.unwrap_or_default();
                    return Err(reject(
                        external_id,
                        "email",
                        format!("email {email:?} is already used by another employee"),
                    ));
                }
                other => {
                    other?;
                }
            }
        }
        EntityType::Team => {
            let parent_id = match fields.get("parentTeamExternalId").and_then(Value::as_str) {
                Some(parent) if parent == external_id => {
                    return Err(reject(
                        external_id,
                        "parentTeamExternalId",
                        "parentTeamExternalId makes the team its own parent".to_string(),
                    ));
                }
                Some(parent) => Some(ensure_target(connection, page, EntityType::Team, parent, None)?),
                None => None,
            };
            if let Some(parent_id) = &parent_id
                && team_is_ancestor(connection, entity_id, parent_id)?
            {
                return Err(reject(
                    external_id,
                    "parentTeamExternalId",
                    format!("parentTeamExternalId {} would make a cycle", fields["parentTeamExternalId"]),
                ));
            }
            connection
                .prepare_cached(
                    "INSERT INTO teams (id, org_id, external_id, fields, custom_attributes, parent_team_id, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)
                     ON CONFLICT (id) DO UPDATE SET fields = excluded.fields, custom_attributes = excluded.custom_attributes, parent_team_id = excluded.parent_team_id",
                )?
                .execute(params![entity_id, page.org, external_id, fields_json, custom_json, parent_id, page.now])?;
        }
        _ => {
            connection
                .prepare_cached(&format!(
                    "INSERT INTO {table} (id, org_id, external_id, fields, custom_attributes, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)
                     ON CONFLICT (id) DO UPDATE SET fields = excluded.fields, custom_attributes = excluded.custom_attributes"
                ))?
                .execute(params![entity_id, page.org, external_id, fields_json, custom_json, page.now])?;
        }
    }
    if page.entity == EntityType::Vacancy {
        apply_fill(connection, page, external_id, entity_id, &upsert.fill, upsert.fill_key)?;
    }
    for (kind, rows) in &upsert.nested {
        let counts = apply_nested(connection, page, entity_id, before.is_none(), *kind, rows)?;
        *outcome.nested.entry(*kind).or_default() += counts;
    }
    Ok(())
}

fn with_article(entity: EntityType) -> String {
    match entity {
        EntityType::Employee | EntityType::Assignment => format!("an {entity}"),
        _ => format!("a {entity}"),
    }
}

fn team_is_ancestor(connection: &Connection, team_id: &str, start: &str) -> rusqlite::Result<bool> {
    let mut current = Some(start.to_string());
    let mut steps = 0;
    while let Some(id) = current {
        if id == team_id {
            return Ok(true);
        }
        steps += 1;
        if steps > 10_000 {
            return Ok(true);
        }
        current = connection
            .prepare_cached("SELECT parent_team_id FROM teams WHERE id = ?1")?
            .query_row([&id], |row| row.get::<_, Option<String>>(0))
            .optional()?
            .flatten();
    }
    Ok(false)
}

fn upsert_job_role(
    connection: &Connection,
    page: &PageContext<'_>,
    title: &str,
    external_id: Option<&str>,
) -> rusqlite::Result<()> {
    let existing: Option<String> = match external_id {
        Some(external_id) => connection
            .prepare_cached("SELECT id FROM job_roles WHERE org_id = ?1 AND external_id = ?2")?
            .query_row(params![page.org, external_id], |row| row.get(0))
            .optional()?,
        None => connection
            .prepare_cached("SELECT id FROM job_roles WHERE org_id = ?1 AND title = ?2")?
            .query_row(params![page.org, title], |row| row.get(0))
            .optional()?,
    };
    match existing {
        Some(id) => connection.execute("UPDATE job_roles SET title = ?1, updated_at = ?2 WHERE id = ?3 AND title <> ?1", params![title, page.now, id])?,
        None => connection.execute(
            "INSERT INTO job_roles (id, org_id, external_id, title, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
            params![new_id("role"), page.org, external_id, title, page.now],
        )?,
    };
    Ok(())
}

/// The id of the team or project with this externalId, created (with a change event) when
/// unknown: data-model.md, "an unknown team is created with teamName (or the id) as its name".
fn ensure_target(
    connection: &Connection,
    page: &PageContext<'_>,
    entity: EntityType,
    external_id: &str,
    name: Option<&str>,
) -> rusqlite::Result<String> {
    let key = (entity, external_id.to_string());
    if let Some(id) = page.targets.borrow().get(&key) {
        return Ok(id.clone());
    }
    let table = table(entity);
    if let Some(id) = connection
        .prepare_cached(&format!("SELECT id FROM {table} WHERE org_id = ?1 AND external_id = ?2"))?
        .query_row(params![page.org, external_id], |row| row.get::<_, String>(0))
        .optional()?
    {
        page.targets.borrow_mut().insert(key, id.clone());
        return Ok(id);
    }
    let id = new_id(id_prefix(entity));
    let fields = serde_json::json!({ "name": name.unwrap_or(external_id) }).to_string();
    connection
        .prepare_cached(&format!(
            "INSERT INTO {table} (id, org_id, external_id, fields, custom_attributes, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, '{{}}', ?5, ?5)"
        ))?
        .execute(params![id, page.org, external_id, fields, page.now])?;
    let after = represent(connection, page.org, entity, &id, page.today)?;
    emit(connection, page, entity, &id, "create", None, after.as_ref())?;
    page.targets.borrow_mut().insert(key, id.clone());
    Ok(id)
}

/// The record's date pairs and salary range, judged on the merged values: with patch
/// semantics a record may carry one side of a pair, to be compared with the stored other.
fn check_merged_fields(
    entity: EntityType,
    external_id: &str,
    upsert: &Upsert,
    fields: &Map<String, Value>,
) -> Result<(), RecordFailure> {
    // The field the record touched names the error (the later one when it touched both).
    let named =
        |first: &'static str, second: &'static str| if upsert.fields.contains_key(second) { second } else { first };
    for (start, end) in schema::date_order(entity) {
        if let (Some(Value::String(start_value)), Some(Value::String(end_value))) =
            (fields.get(*start), fields.get(*end))
            && end_value < start_value
        {
            let field = named(end, start);
            return Err(reject(external_id, field, format!("{end} ({end_value}) is before {start} ({start_value})")));
        }
    }
    if let (Some(min), Some(max)) =
        (fields.get("salaryMin").and_then(Value::as_f64), fields.get("salaryMax").and_then(Value::as_f64))
        && max < min
    {
        let field = named("salaryMax", "salaryMin");
        return Err(reject(external_id, field, format!("salaryMax ({max}) is less than salaryMin ({min})")));
    }
    Ok(())
}

fn apply_fill(
    connection: &Connection,
    page: &PageContext<'_>,
    external_id: &str,
    vacancy_id: &str,
    fill: &FillChange,
    fill_key: &str,
) -> Result<(), RecordFailure> {
    let (employee, contractor) = match fill {
        FillChange::Untouched => return Ok(()),
        FillChange::Clear => (None, None),
        FillChange::Set(filler) => {
            let find = |table: &str| -> rusqlite::Result<Vec<String>> {
                let mut statement = connection
                    .prepare_cached(&format!("SELECT id FROM {table} WHERE org_id = ?1 AND external_id = ?2"))?;
                let ids = statement.query_map(params![page.org, filler], |row| row.get(0))?;
                ids.collect()
            };
            match resolve_fill(filler, &find("employees")?, &find("contractors")?) {
                Ok(Filler::Employee(id)) => (Some(id), None),
                Ok(Filler::Contractor(id)) => (None, Some(id)),
                Err(message) => return Err(reject(external_id, fill_key, format!("{fill_key} {message}"))),
            }
        }
    };
    connection
        .prepare_cached("UPDATE vacancies SET filled_by_employee_id = ?1, filled_by_contractor_id = ?2 WHERE id = ?3")?
        .execute(params![employee, contractor, vacancy_id])?;
    Ok(())
}

fn apply_nested(
    connection: &Connection,
    page: &PageContext<'_>,
    resource_id: &str,
    is_new: bool,
    kind: NestedKind,
    rows: &[NestedRow],
) -> Result<nested::NestedCounts, RecordFailure> {
    let resource_type = page.entity.as_str();
    // A resource created by this record owns no rows yet.
    let stored = if is_new { Vec::new() } else { stored_rows(connection, page, resource_type, resource_id, kind)? };
    let plan = nested::diff(&stored, rows, page.today);
    for row in &plan.create {
        match row {
            NestedRow::Allocation(allocation) => {
                let (target_entity, target_type) = allocation_target(kind);
                let target_id = ensure_target(
                    connection,
                    page,
                    target_entity,
                    &allocation.target_external_id,
                    allocation.target_name.as_deref(),
                )?;
                connection
                    .prepare_cached(
                        "INSERT INTO assignments (id, org_id, resource_type, resource_id, target_type, target_id, fte, start_date, end_date, source_system, created_at, updated_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)",
                    )?
                    .execute(params![
                        new_id("asg"), page.org, resource_type, resource_id, target_type, target_id, allocation.fte,
                        date_text(allocation.start_date), allocation.end_date.map(date_text), page.source, page.now
                    ])?;
            }
            NestedRow::Adjustment(adjustment) => insert_adjustment(connection, page, kind, resource_id, adjustment)?,
        }
    }
    for (id, row) in &plan.update {
        match row {
            NestedRow::Allocation(allocation) => connection
                .prepare_cached("UPDATE assignments SET fte = ?1, end_date = ?2, updated_at = ?3 WHERE id = ?4")?
                .execute(params![allocation.fte, allocation.end_date.map(date_text), page.now, id])?,
            NestedRow::Adjustment(adjustment) => {
                delete_nested(connection, kind, id)?;
                insert_adjustment(connection, page, kind, resource_id, adjustment)?;
                1
            }
        };
    }
    for id in &plan.delete {
        delete_nested(connection, kind, id)?;
    }
    for (id, end) in &plan.end {
        connection
            .prepare_cached("UPDATE assignments SET end_date = ?1, updated_at = ?2 WHERE id = ?3")?
            .execute(params![date_text(*end), page.now, id])?;
    }
    Ok(plan.counts())
}

fn allocation_target(kind: NestedKind) -> (EntityType, &'static str) {
    if kind == NestedKind::TeamAllocations { (EntityType::Team, "team") } else { (EntityType::Project, "project") }
}

fn date_text(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

fn parse_stored_date(text: String) -> rusqlite::Result<NaiveDate> {
    flowstate_sync::parse_date(&text)
        .ok_or_else(|| rusqlite::Error::InvalidColumnType(0, text, rusqlite::types::Type::Text))
}

/// The rows of one kind that this source owns on this resource.
fn stored_rows(
    connection: &Connection,
    page: &PageContext<'_>,
    resource_type: &str,
    resource_id: &str,
    kind: NestedKind,
) -> rusqlite::Result<Vec<StoredRow<String>>> {
    match kind {
        NestedKind::TeamAllocations | NestedKind::ProjectAllocations => {
            let (target_entity, target_type) = allocation_target(kind);
            let mut statement = connection.prepare_cached(&format!(
                "SELECT a.id, COALESCE(t.external_id, ''), a.fte, a.start_date, a.end_date FROM assignments a JOIN {} t ON t.id = a.target_id
                 WHERE a.resource_type = ?1 AND a.resource_id = ?2 AND a.target_type = ?3 AND a.source_system = ?4 AND a.external_id IS NULL",
                table(target_entity)
            ))?;
            let rows = statement.query_map(params![resource_type, resource_id, target_type, page.source], |row| {
                Ok(StoredRow {
                    id: row.get(0)?,
                    row: NestedRow::Allocation(Allocation {
                        target_external_id: row.get(1)?,
                        target_name: None,
                        fte: row.get(2)?,
                        start_date: parse_stored_date(row.get(3)?)?,
                        end_date: row.get::<_, Option<String>>(4)?.map(parse_stored_date).transpose()?,
                    }),
                })
            })?;
            rows.collect()
        }
        NestedKind::SalaryAdjustments => {
            let mut statement = connection.prepare_cached(
                "SELECT id, effective_date, salary, bonus, currency_code, reason FROM salary_adjustments WHERE employee_id = ?1 AND source_system = ?2",
            )?;
            let rows = statement.query_map(params![resource_id, page.source], |row| {
                Ok(StoredRow {
                    id: row.get(0)?,
                    row: NestedRow::Adjustment(Adjustment {
                        effective_date: parse_stored_date(row.get(1)?)?,
                        amount: row.get(2)?,
                        bonus: row.get(3)?,
                        rate_type: None,
                        currency_code: row.get(4)?,
                        reason: row.get(5)?,
                    }),
                })
            })?;
            rows.collect()
        }
        NestedKind::RateAdjustments => {
            let mut statement = connection.prepare_cached(
                "SELECT id, effective_date, rate, rate_type, currency_code, reason FROM rate_adjustments WHERE contractor_id = ?1 AND source_system = ?2",
            )?;
            let rows = statement.query_map(params![resource_id, page.source], |row| {
                Ok(StoredRow {
                    id: row.get(0)?,
                    row: NestedRow::Adjustment(Adjustment {
                        effective_date: parse_stored_date(row.get(1)?)?,
                        amount: row.get(2)?,
                        bonus: None,
                        rate_type: Some(row.get(3)?),
                        currency_code: row.get(4)?,
                        reason: row.get(5)?,
                    }),
                })
            })?;
            rows.collect()
        }
    }
}

fn insert_adjustment(
    connection: &Connection,
    page: &PageContext<'_>,
    kind: NestedKind,
    resource_id: &str,
    adjustment: &Adjustment,
) -> rusqlite::Result<()> {
    let effective = date_text(adjustment.effective_date);
    if kind == NestedKind::SalaryAdjustments {
        connection
            .prepare_cached(
                "INSERT INTO salary_adjustments (id, org_id, employee_id, effective_date, salary, bonus, currency_code, reason, source_system, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)",
            )?
            .execute(params![new_id("sal"), page.org, resource_id, effective, adjustment.amount, adjustment.bonus, adjustment.currency_code, adjustment.reason, page.source, page.now])?;
    } else {
        connection
            .prepare_cached(
                "INSERT INTO rate_adjustments (id, org_id, contractor_id, effective_date, rate_type, rate, currency_code, reason, source_system, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)",
            )?
            .execute(params![new_id("rate"), page.org, resource_id, effective, adjustment.rate_type, adjustment.amount, adjustment.currency_code, adjustment.reason, page.source, page.now])?;
    }
    Ok(())
}

fn delete_nested(connection: &Connection, kind: NestedKind, id: &str) -> rusqlite::Result<()> {
    let table = match kind {
        NestedKind::TeamAllocations | NestedKind::ProjectAllocations => "assignments",
        NestedKind::SalaryAdjustments => "salary_adjustments",
        NestedKind::RateAdjustments => "rate_adjustments",
    };
    connection.execute(&format!("DELETE FROM {table} WHERE id = ?1"), [id])?;
    Ok(())
}

/// Hard-deletes an entity with its nested rows and sync state; vacancies it filled are open
/// again (each with an update event).
fn delete_entity(
    connection: &Connection,
    page: &PageContext<'_>,
    entity: EntityType,
    entity_id: &str,
) -> Result<(), RecordFailure> {
    let before = represent(connection, page.org, entity, entity_id, page.today)?;
    // What changes with it: vacancies it filled open again; child teams lose their parent.
    let dependent_query = match entity {
        EntityType::Employee => {
            Some((EntityType::Vacancy, "SELECT id FROM vacancies WHERE filled_by_employee_id = ?1"))
        }
        EntityType::Contractor => {
            Some((EntityType::Vacancy, "SELECT id FROM vacancies WHERE filled_by_contractor_id = ?1"))
        }
        EntityType::Team => Some((EntityType::Team, "SELECT id FROM teams WHERE parent_team_id = ?1")),
        _ => None,
    };
    let mut dependents: Vec<(EntityType, String, Option<Value>)> = Vec::new();
    if let Some((dependent_type, sql)) = dependent_query {
        let ids: Vec<String> = connection
            .prepare_cached(sql)?
            .query_map([entity_id], |row| row.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for id in ids {
            let before = represent(connection, page.org, dependent_type, &id, page.today)?;
            dependents.push((dependent_type, id, before));
        }
    }
    connection.execute(
        "DELETE FROM assignments WHERE resource_type = ?1 AND resource_id = ?2",
        params![entity.as_str(), entity_id],
    )?;
    if matches!(entity, EntityType::Team | EntityType::Project) {
        connection.execute(
            "DELETE FROM assignments WHERE target_type = ?1 AND target_id = ?2",
            params![entity.as_str(), entity_id],
        )?;
    }
    connection.execute(
        &format!("DELETE FROM {} WHERE org_id = ?1 AND id = ?2", table(entity)),
        params![page.org, entity_id],
    )?;
    connection.execute(
        "DELETE FROM sync_state WHERE entity_type = ?1 AND entity_id = ?2",
        params![entity.as_str(), entity_id],
    )?;
    emit(connection, page, entity, entity_id, "delete", before.as_ref(), None)?;
    page.targets.borrow_mut().retain(|_, id| id != entity_id);
    // The foreign keys cleared the links (ON DELETE SET NULL); the rest is said here.
    for (dependent_type, id, dependent_before) in dependents {
        if dependent_type == EntityType::Team {
            let mut fields: Map<String, Value> = connection
                .prepare_cached("SELECT fields FROM teams WHERE id = ?1")?
                .query_row([&id], |row| row.get::<_, String>(0))
                .map(|text| serde_json::from_str(&text).unwrap_or_default())?;
            fields.remove("parentTeamExternalId");
            connection.execute(
                "UPDATE teams SET fields = ?1 WHERE id = ?2",
                params![Value::Object(fields).to_string(), id],
            )?;
        }
        connection.execute(
            &format!("UPDATE {} SET updated_at = ?1 WHERE id = ?2", table(dependent_type)),
            params![page.now, id],
        )?;
        let after = represent(connection, page.org, dependent_type, &id, page.today)?;
        emit(connection, page, dependent_type, &id, "update", dependent_before.as_ref(), after.as_ref())?;
    }
    Ok(())
}

/// Assignment records: `resourceType`, `resourceExternalId`, `targetType`,
/// `targetExternalId`, `fte`, `startDate`, `endDate` (data-model.md Decision).
fn write_assignment(
    connection: &Connection,
    page: &PageContext<'_>,
    external_id: &str,
    upsert: &Upsert,
    entity_id: &str,
    before: Option<&Value>,
) -> Result<(), RecordFailure> {
    let mut values: Map<String, Value> = before.and_then(Value::as_object).cloned().unwrap_or_default();
    for (name, change) in &upsert.fields {
        match change {
            FieldChange::Set(value) => values.insert(name.to_string(), value.to_json()),
            FieldChange::Clear => values.insert(name.to_string(), Value::Null),
        };
    }
    for spec in schema::fields(EntityType::Assignment).iter().filter(|spec| spec.required) {
        if values.get(spec.name).is_none_or(Value::is_null) {
            return Err(reject(external_id, spec.name, format!("{} is required to create an assignment", spec.name)));
        }
    }
    let text = |name: &str| values.get(name).and_then(Value::as_str).unwrap_or_default().to_string();
    let resource_type = text("resourceType");
    let target_type = text("targetType");
    if resource_type == "team" && target_type == "team" {
        return Err(reject(external_id, "targetType", "a team can be assigned to projects only".to_string()));
    }
    let resource_entity: EntityType =
        resource_type.parse().map_err(|message: String| reject(external_id, "resourceType", message))?;
    let resource_external_id = text("resourceExternalId");
    let resource_id: Option<String> = connection
        .prepare_cached(&format!("SELECT id FROM {} WHERE org_id = ?1 AND external_id = ?2", table(resource_entity)))?
        .query_row(params![page.org, resource_external_id], |row| row.get(0))
        .optional()?;
    let Some(resource_id) = resource_id else {
        return Err(reject(
            external_id,
            "resourceExternalId",
            format!("{resource_type} {resource_external_id:?} not found"),
        ));
    };
    let target_entity = if target_type == "team" { EntityType::Team } else { EntityType::Project };
    let target_id = ensure_target(connection, page, target_entity, &text("targetExternalId"), None)?;
    let start = text("startDate");
    let end = values.get("endDate").and_then(Value::as_str).map(str::to_string);
    if end.as_deref().is_some_and(|end| end < start.as_str()) {
        return Err(reject(
            external_id,
            "endDate",
            format!("endDate ({}) is before startDate ({start})", end.unwrap_or_default()),
        ));
    }
    let fte = values.get("fte").and_then(Value::as_f64).unwrap_or(0.0);
    connection
        .prepare_cached(
            "INSERT INTO assignments (id, org_id, external_id, resource_type, resource_id, target_type, target_id, fte, start_date, end_date, source_system, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12)
             ON CONFLICT (id) DO UPDATE SET resource_type = excluded.resource_type, resource_id = excluded.resource_id, target_type = excluded.target_type,
               target_id = excluded.target_id, fte = excluded.fte, start_date = excluded.start_date, end_date = excluded.end_date",
        )?
        .execute(params![entity_id, page.org, external_id, resource_type, resource_id, target_type, target_id, fte, start, end, page.source, page.now])?;
    Ok(())
}
