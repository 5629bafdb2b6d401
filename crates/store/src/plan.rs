//! The sync rules, applied to a [`World`] in memory: one record at a time, in page order,
//! each seeing what the records before it did. A record that is rejected is rolled back
//! out of the world alone and reported.
//!
//! **Architecture Invariant:** no IO here. What a record may touch was loaded beforehand
//! (`load.rs`); what changed is written afterwards (`write.rs`).

use chrono::NaiveDate;
use flowstate_sync::{
    CustomAttributeDefinition, EntityType, FieldChange, FieldValue, FillChange, Filler, Fingerprint, NestedKind,
    ParsedRecord, RecordAction, RecordError, Upsert,
    nested::{self, Adjustment, Allocation, NestedRow, StoredRow},
    resolve_fill, schema,
};
use serde_json::{Map, Value};

use crate::{
    IncomingRecord, PageOutcome,
    kinds::ChangeType,
    model::{id_prefix, new_id},
    represent::represent,
    sync_plan::{self, PlannedRecord},
    world::{AdjustmentRow, AssignmentRow, EntityRow, EventRow, JobRoleRow, SetDelete, SyncStateRow, World},
};

/// Who writes a page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Writer<'a> {
    /// A PULL sync of this source system: records match by sync state, then externalId,
    /// and their nested rows belong to the source.
    Sync(&'a str),
    /// A REST call writing the one entity `entity_id`: a new one (`create`, with
    /// `external_id`) or an existing one. No sync state; nested rows it writes are
    /// hand-made (no source system).
    /// With `append`, nested arrays add rows (or replace those of the same identity) and
    /// never remove any: the append-only adjustment history.
    Api { entity_id: String, create: bool, external_id: Option<String>, append: bool },
}

impl Writer<'_> {
    /// The source system whose rows these are; `None` for hand-made ones.
    pub fn owner(&self) -> Option<&str> {
        match self {
            Writer::Sync(source) => Some(source),
            Writer::Api { .. } => None,
        }
    }

    /// `source` of the change events: `sync:{sourceSystem}` or `api`.
    pub fn event_source(&self) -> String {
        match self {
            Writer::Sync(source) => format!("sync:{source}"),
            Writer::Api { .. } => "api".to_string(),
        }
    }

    /// The externalId a new entity gets from a record keyed `key`.
    fn new_external_id(&self, key: &str) -> Option<String> {
        match self {
            Writer::Sync(_) => Some(key.to_string()),
            Writer::Api { external_id, .. } => external_id.clone(),
        }
    }
}

/// What every record of a page shares.
pub(crate) struct Page<'a> {
    pub org: &'a str,
    pub writer: Writer<'a>,
    pub entity: EntityType,
    pub today: NaiveDate,
    pub now: String,
    pub definitions: Vec<CustomAttributeDefinition>,
}

/// A record as the loader left it: unchanged since this source last applied it, parsed,
/// or invalid.
pub(crate) enum Prepared {
    Unchanged,
    Parsed(Box<ParsedRecord>, Fingerprint),
    Invalid(Vec<RecordError>),
}

/// Plans every record of the page into `world`, returning the counts and errors. With a
/// `trace`, what became of each record is described there too (a sync's plan).
pub(crate) fn plan_page(
    world: &mut World,
    page: &Page<'_>,
    records: &[IncomingRecord],
    prepared: Vec<Prepared>,
    mut trace: Option<&mut Vec<PlannedRecord>>,
) -> PageOutcome {
    let mut outcome = PageOutcome::default();
    for (record, prepared) in records.iter().zip(prepared) {
        let external_id = record.external_id.as_str();
        let unchanged = || PageOutcome { unchanged: 1, ..PageOutcome::default() };
        let (applied, entity_id, mark) = match prepared {
            Prepared::Unchanged => {
                touch(world, external_id);
                (unchanged(), None, world.mark())
            }
            Prepared::Invalid(errors) => {
                if let Some(trace) = trace.as_deref_mut() {
                    trace.push(sync_plan::refused(external_id, errors.clone()));
                }
                outcome.errors.extend(errors);
                continue;
            }
            Prepared::Parsed(parsed, fingerprint) => {
                let existing = find_existing(world, page, external_id);
                if existing.as_ref().and_then(|existing| existing.fingerprint.as_deref()) == Some(fingerprint.as_str())
                {
                    // The same record twice in one page: the second is a re-run of the first.
                    touch(world, external_id);
                    (unchanged(), None, world.mark())
                } else {
                    let existing_id = existing.as_ref().map(|existing| existing.entity_id.clone());
                    let mark = world.mark();
                    match plan_record(world, page, &parsed, existing, &fingerprint) {
                        Ok(applied) => {
                            let entity_id = existing_id
                                .or_else(|| find_existing(world, page, external_id).map(|found| found.entity_id));
                            (applied, entity_id, mark)
                        }
                        Err(errors) => {
                            world.rollback(mark);
                            if let Some(trace) = trace.as_deref_mut() {
                                trace.push(sync_plan::refused(external_id, errors.clone()));
                            }
                            outcome.errors.extend(errors);
                            continue;
                        }
                    }
                }
            }
        };
        if let Some(trace) = trace.as_deref_mut() {
            let events = world.events_since(mark);
            trace.push(sync_plan::planned(external_id, page.entity, entity_id.as_deref(), &applied, events));
        }
        outcome.absorb(applied);
    }
    outcome
}

/// The no-op of a re-run: `lastSyncedAt` moves, nothing else.
fn touch(world: &mut World, external_id: &str) {
    world.touch(external_id);
}

pub(crate) struct Existing {
    pub entity_id: String,
    /// The fingerprint this source last applied; `None` when adopted by externalId.
    pub fingerprint: Option<String>,
}

/// (org, source, externalId) first, then (org, externalId): data-model.md "Sync identity".
/// A REST write names its entity itself.
pub(crate) fn find_existing(world: &World, page: &Page<'_>, external_id: &str) -> Option<Existing> {
    let exists = |id: &str| match page.entity {
        EntityType::Assignment => world.assignment(id).is_some(),
        _ => world.entity(id).is_some(),
    };
    if let Writer::Api { entity_id, create, .. } = &page.writer {
        // Over the API an assignment row is an Assignment entity only with an externalId;
        // one without is a resource's nested allocation.
        let is_entity = page.entity != EntityType::Assignment
            || world.assignment(entity_id).is_some_and(|row| row.external_id.is_some());
        return (!create && is_entity && exists(entity_id))
            .then(|| Existing { entity_id: entity_id.clone(), fingerprint: None });
    }
    if let Some(state) = world.sync_state(external_id)
        && exists(&state.entity_id)
    {
        return Some(Existing { entity_id: state.entity_id.clone(), fingerprint: Some(state.fingerprint.clone()) });
    }
    let adopted = match page.entity {
        EntityType::Assignment => world.assignment_by_external(external_id).map(|row| row.id.clone()),
        entity => world.entity_by_external(entity, external_id).map(|row| row.id.clone()),
    };
    adopted.map(|entity_id| Existing { entity_id, fingerprint: None })
}

type Planned = Result<PageOutcome, Vec<RecordError>>;

/// Why a fill was not planned.
#[derive(Debug)]
pub(crate) enum FillRefused {
    NotFound,
    AlreadyFilled,
    /// The filler broke a rule: one error per field.
    Invalid(Vec<RecordError>),
}

/// A REST fill, all or nothing: the filler is created (`filler_page` is a `Writer::Api`
/// create of the filler's type) and takes over the vacancy's allocations, then the vacancy
/// is linked to it with status `filled`. Each changed entity gets its event.
pub(crate) fn plan_fill(
    world: &mut World,
    filler_page: &Page<'_>,
    parsed: &ParsedRecord,
    fingerprint: &Fingerprint,
    vacancy_id: &str,
) -> Result<(), FillRefused> {
    let mark = world.mark();
    let planned = plan_fill_steps(world, filler_page, parsed, fingerprint, vacancy_id);
    if planned.is_err() {
        world.rollback(mark);
    }
    planned
}

fn plan_fill_steps(
    world: &mut World,
    page: &Page<'_>,
    parsed: &ParsedRecord,
    fingerprint: &Fingerprint,
    vacancy_id: &str,
) -> Result<(), FillRefused> {
    let Writer::Api { entity_id: filler_id, create: true, .. } = &page.writer else {
        unreachable!("a fill creates its filler over the API");
    };
    let Some(before) = represent(world, EntityType::Vacancy, vacancy_id, page.today) else {
        return Err(FillRefused::NotFound);
    };
    if before["isFilled"] == Value::Bool(true) {
        return Err(FillRefused::AlreadyFilled);
    }
    // Its allocations (and Assignment entities) move to the filler, before the filler is
    // planned so that its create event shows them.
    let moved: Vec<AssignmentRow> = world.assignments_of(vacancy_id).into_iter().cloned().collect();
    let mut moved_entities = Vec::new();
    for row in moved {
        if row.external_id.is_some() {
            moved_entities.push((row.id.clone(), represent(world, EntityType::Assignment, &row.id, page.today)));
        }
        world.put_assignment(AssignmentRow {
            resource_type: page.entity,
            resource_id: filler_id.clone(),
            updated_at: page.now.clone(),
            ..row
        });
    }
    plan_record(world, page, parsed, None, fingerprint).map_err(FillRefused::Invalid)?;
    // Assignment entities that moved: their events come after the filler's create, and
    // name it.
    for (id, before) in moved_entities {
        let after = represent(world, EntityType::Assignment, &id, page.today);
        emit(world, EntityType::Assignment, &id, ChangeType::Update, before, after);
    }
    let Some(vacancy) = world.entity(vacancy_id).cloned() else {
        return Err(FillRefused::NotFound);
    };
    let mut fields = vacancy.fields.clone();
    fields.insert("status".into(), Value::String("filled".into()));
    let is_employee = page.entity == EntityType::Employee;
    world.put_entity(EntityRow {
        fields,
        filled_by_employee: is_employee.then(|| filler_id.clone()),
        filled_by_contractor: (!is_employee).then(|| filler_id.clone()),
        updated_at: page.now.clone(),
        ..vacancy
    });
    let after = represent(world, EntityType::Vacancy, vacancy_id, page.today);
    emit(world, EntityType::Vacancy, vacancy_id, ChangeType::Update, Some(before), after);
    Ok(())
}

fn reject(external_id: &str, field: &str, message: String) -> Vec<RecordError> {
    vec![RecordError { external_id: external_id.to_string(), field: Some(field.to_string()), message }]
}

fn plan_record(
    world: &mut World,
    page: &Page<'_>,
    parsed: &ParsedRecord,
    existing: Option<Existing>,
    fingerprint: &Fingerprint,
) -> Planned {
    let mut outcome = PageOutcome::default();
    let upsert = match (&parsed.action, existing.as_ref()) {
        (RecordAction::Delete { .. }, None) => {
            outcome.unchanged += 1;
            return Ok(outcome);
        }
        (RecordAction::Delete { .. }, Some(existing)) => {
            delete_entity(world, page, page.entity, &existing.entity_id);
            outcome.deleted += 1;
            return Ok(outcome);
        }
        (RecordAction::Upsert(upsert), _) => upsert,
    };
    let before = existing.as_ref().and_then(|existing| represent(world, page.entity, &existing.entity_id, page.today));
    let entity_id = match (&existing, &page.writer) {
        (Some(existing), _) => existing.entity_id.clone(),
        (None, Writer::Api { entity_id, create: true, .. }) => entity_id.clone(),
        (None, Writer::Api { entity_id, create: false, .. }) => {
            // Deleted since the caller found it: an update must not create it again.
            let message = format!("{} {entity_id:?} not found", page.entity);
            return Err(vec![RecordError { external_id: parsed.external_id.clone(), field: None, message }]);
        }
        (None, Writer::Sync(_)) => new_id(id_prefix(page.entity)),
    };
    if page.entity == EntityType::Assignment {
        plan_assignment(world, page, &parsed.external_id, upsert, &entity_id, before.as_ref())?;
    } else {
        plan_entity(world, page, &parsed.external_id, upsert, &entity_id, before.is_some(), &mut outcome)?;
    }
    if let Writer::Sync(_) = page.writer {
        world.put_sync_state(SyncStateRow {
            external_id: parsed.external_id.clone(),
            entity_id: entity_id.clone(),
            fingerprint: fingerprint.as_str().to_string(),
            last_synced_at: page.now.clone(),
        });
    }
    let mut after = represent(world, page.entity, &entity_id, page.today);
    match before {
        None => {
            emit(world, page.entity, &entity_id, ChangeType::Create, None, after);
            outcome.created += 1;
        }
        Some(before) if differs(&before, after.as_ref()) => {
            bump_updated_at(world, page, page.entity, &entity_id);
            if let Some(Value::Object(object)) = after.as_mut() {
                object.insert("updatedAt".into(), Value::String(page.now.clone()));
            }
            emit(world, page.entity, &entity_id, ChangeType::Update, Some(before), after);
            outcome.updated += 1;
        }
        Some(_) => outcome.unchanged += 1,
    }
    Ok(outcome)
}

fn bump_updated_at(world: &mut World, page: &Page<'_>, entity: EntityType, id: &str) {
    if entity == EntityType::Assignment {
        if let Some(row) = world.assignment(id) {
            let row = AssignmentRow { updated_at: page.now.clone(), ..row.clone() };
            world.put_assignment(row);
        }
    } else if let Some(row) = world.entity(id) {
        let row = EntityRow { updated_at: page.now.clone(), ..row.clone() };
        world.put_entity(row);
    }
}

fn emit(
    world: &mut World,
    entity_type: EntityType,
    entity_id: &str,
    change_type: ChangeType,
    before: Option<Value>,
    after: Option<Value>,
) {
    world.emit(EventRow { entity_type, entity_id: entity_id.to_string(), change_type, before, after });
}

/// Equal but for `updatedAt`.
fn differs(before: &Value, after: Option<&Value>) -> bool {
    let (Some(Value::Object(before)), Some(Value::Object(after))) = (Some(before), after) else {
        return true;
    };
    before.len() != after.len() || before.iter().any(|(key, value)| key != "updatedAt" && after.get(key) != Some(value))
}

fn with_article(entity: EntityType) -> String {
    match entity {
        EntityType::Employee | EntityType::Assignment => format!("an {entity}"),
        _ => format!("a {entity}"),
    }
}

fn plan_entity(
    world: &mut World,
    page: &Page<'_>,
    external_id: &str,
    upsert: &Upsert,
    entity_id: &str,
    exists: bool,
    outcome: &mut PageOutcome,
) -> Result<(), Vec<RecordError>> {
    let stored = world.entity(entity_id).cloned();
    // Patch semantics: absent fields keep their value, null clears, a value sets.
    let mut fields = stored.as_ref().map(|row| row.fields.clone()).unwrap_or_default();
    for (name, change) in &upsert.fields {
        match change {
            FieldChange::Set(value) => fields.insert(name.to_string(), value.to_json()),
            FieldChange::Clear => fields.remove(*name),
        };
    }
    if !exists {
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
            return Err(missing);
        }
        for (name, value) in schema::defaults(page.entity) {
            fields.entry(name).or_insert_with(|| value.to_json());
        }
    }
    check_merged_fields(page.entity, external_id, upsert, &fields)?;
    if let Some(FieldChange::Set(FieldValue::Text(work_type))) = upsert.fields.get("workType")
        && !world.has_work_type(work_type)
    {
        return Err(reject(external_id, "workType", format!("work type {work_type:?} not found")));
    }
    let mut custom = stored.as_ref().map(|row| row.custom.clone()).unwrap_or_default();
    for (key, value) in &upsert.custom_attributes {
        match value {
            Some(value) => custom.insert(key.clone(), value.clone()),
            None => custom.remove(key),
        };
    }
    if let Some(FieldChange::Set(FieldValue::JobRole { title, external_id: role_id })) = upsert.fields.get("jobRole") {
        upsert_job_role(world, page, title, role_id.as_deref());
    }
    let mut row = match stored {
        Some(stored) => EntityRow { fields, custom, ..stored },
        None => EntityRow {
            entity: page.entity,
            id: entity_id.to_string(),
            external_id: page.writer.new_external_id(external_id),
            fields,
            custom,
            filled_by_employee: None,
            filled_by_contractor: None,
            parent_team_id: None,
            created_at: page.now.clone(),
            updated_at: page.now.clone(),
        },
    };
    match page.entity {
        EntityType::Employee => {
            if let Some(email) = row.email_key()
                && world.employee_by_email(&email).is_some_and(|owner| owner.id != entity_id)
            {
                return Err(reject(
                    external_id,
                    "email",
                    format!("email {email:?} is already used by another employee"),
                ));
            }
        }
        EntityType::Team => {
            row.parent_team_id = match row.fields.get("parentTeamExternalId").and_then(Value::as_str) {
                Some(parent) if parent == external_id => {
                    return Err(reject(
                        external_id,
                        "parentTeamExternalId",
                        "parentTeamExternalId makes the team its own parent".to_string(),
                    ));
                }
                Some(parent) => {
                    let parent = parent.to_string();
                    let parent_id = ensure_target(world, page, EntityType::Team, &parent, None);
                    if team_is_ancestor(world, entity_id, &parent_id) {
                        return Err(reject(
                            external_id,
                            "parentTeamExternalId",
                            format!("parentTeamExternalId {:?} would make a cycle", parent),
                        ));
                    }
                    Some(parent_id)
                }
                None => None,
            };
        }
        EntityType::Vacancy => fill(world, &mut row, external_id, &upsert.fill, upsert.fill_key)?,
        _ => {}
    }
    world.put_entity(row);
    for (kind, rows) in &upsert.nested {
        let counts = plan_nested(world, page, entity_id, *kind, rows);
        *outcome.nested.entry(*kind).or_default() += counts;
    }
    Ok(())
}

fn team_is_ancestor(world: &World, team_id: &str, start: &str) -> bool {
    let mut current = Some(start.to_string());
    let mut steps = 0;
    while let Some(id) = current {
        if id == team_id {
            return true;
        }
        steps += 1;
        if steps > 10_000 {
            return true;
        }
        current = world.entity(&id).and_then(|team| team.parent_team_id.clone());
    }
    false
}

fn upsert_job_role(world: &mut World, page: &Page<'_>, title: &str, external_id: Option<&str>) {
    match world.job_role_by(external_id, title) {
        Some(role) if role.title == title => {}
        Some(role) => {
            let role = JobRoleRow { title: title.to_string(), updated_at: page.now.clone(), ..role.clone() };
            world.put_job_role(role);
        }
        None => world.put_job_role(JobRoleRow {
            id: new_id("role"),
            external_id: external_id.map(str::to_string),
            title: title.to_string(),
            created_at: page.now.clone(),
            updated_at: page.now.clone(),
        }),
    }
}

/// The id of the team or project with this externalId, created (with a change event) when
/// unknown: data-model.md, "an unknown team is created with teamName (or the id) as its name".
fn ensure_target(
    world: &mut World,
    page: &Page<'_>,
    entity: EntityType,
    external_id: &str,
    name: Option<&str>,
) -> String {
    if let Some(target) = world.entity_by_external(entity, external_id) {
        return target.id.clone();
    }
    let id = new_id(id_prefix(entity));
    let mut fields = Map::new();
    fields.insert("name".into(), Value::String(name.unwrap_or(external_id).to_string()));
    world.put_entity(EntityRow {
        entity,
        id: id.clone(),
        external_id: Some(external_id.to_string()),
        fields,
        custom: Map::new(),
        filled_by_employee: None,
        filled_by_contractor: None,
        parent_team_id: None,
        created_at: page.now.clone(),
        updated_at: page.now.clone(),
    });
    let after = represent(world, entity, &id, page.today);
    emit(world, entity, &id, ChangeType::Create, None, after);
    id
}

/// The record's date pairs and salary range, judged on the merged values: with patch
/// semantics a record may carry one side of a pair, to be compared with the stored other.
fn check_merged_fields(
    entity: EntityType,
    external_id: &str,
    upsert: &Upsert,
    fields: &Map<String, Value>,
) -> Result<(), Vec<RecordError>> {
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

fn fill(
    world: &World,
    vacancy: &mut EntityRow,
    external_id: &str,
    change: &FillChange,
    fill_key: &str,
) -> Result<(), Vec<RecordError>> {
    let (employee, contractor) = match change {
        FillChange::Untouched => return Ok(()),
        FillChange::Clear => (None, None),
        FillChange::Set(filler) => {
            let find =
                |entity| world.entity_by_external(entity, filler).map(|row| row.id.clone()).into_iter().collect();
            let employees: Vec<String> = find(EntityType::Employee);
            let contractors: Vec<String> = find(EntityType::Contractor);
            match resolve_fill(filler, &employees, &contractors) {
                Ok(Filler::Employee(id)) => (Some(id), None),
                Ok(Filler::Contractor(id)) => (None, Some(id)),
                Err(message) => return Err(reject(external_id, fill_key, format!("{fill_key} {message}"))),
            }
        }
    };
    vacancy.filled_by_employee = employee;
    vacancy.filled_by_contractor = contractor;
    Ok(())
}

fn allocation_target(kind: NestedKind) -> EntityType {
    if kind == NestedKind::TeamAllocations { EntityType::Team } else { EntityType::Project }
}

fn date_text(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

fn plan_nested(
    world: &mut World,
    page: &Page<'_>,
    resource_id: &str,
    kind: NestedKind,
    rows: &[NestedRow],
) -> nested::NestedCounts {
    let stored = stored_rows(world, page, resource_id, kind);
    let appended;
    let rows = if let Writer::Api { append: true, .. } = page.writer {
        // The stored rows stay; a new row replaces the one of its identity, if any.
        let mut merged: Vec<NestedRow> = stored.iter().map(|stored| stored.row.clone()).collect();
        for row in rows {
            match merged.iter_mut().find(|existing| existing.identity() == row.identity()) {
                Some(existing) => *existing = row.clone(),
                None => merged.push(row.clone()),
            }
        }
        appended = merged;
        &appended
    } else {
        rows
    };
    let plan = nested::diff(&stored, rows, page.today);
    for row in &plan.create {
        match row {
            NestedRow::Allocation(allocation) => {
                let target_type = allocation_target(kind);
                let target_id = ensure_target(
                    world,
                    page,
                    target_type,
                    &allocation.target_external_id,
                    allocation.target_name.as_deref(),
                );
                world.put_assignment(AssignmentRow {
                    id: new_id("asg"),
                    external_id: None,
                    resource_type: page.entity,
                    resource_id: resource_id.to_string(),
                    target_type,
                    target_id,
                    fte: allocation.fte,
                    start_date: date_text(allocation.start_date),
                    end_date: allocation.end_date.map(date_text),
                    source_system: page.writer.owner().map(str::to_string),
                    created_at: page.now.clone(),
                    updated_at: page.now.clone(),
                });
            }
            NestedRow::Adjustment(adjustment) => put_adjustment(world, page, kind, resource_id, adjustment),
        }
    }
    for (id, row) in &plan.update {
        match row {
            NestedRow::Allocation(allocation) => {
                if let Some(stored) = world.assignment(id) {
                    let row = AssignmentRow {
                        fte: allocation.fte,
                        end_date: allocation.end_date.map(date_text),
                        updated_at: page.now.clone(),
                        ..stored.clone()
                    };
                    world.put_assignment(row);
                }
            }
            NestedRow::Adjustment(adjustment) => {
                world.remove_adjustment(id);
                put_adjustment(world, page, kind, resource_id, adjustment);
            }
        }
    }
    for id in &plan.delete {
        match kind {
            NestedKind::TeamAllocations | NestedKind::ProjectAllocations => world.remove_assignment(id),
            NestedKind::SalaryAdjustments | NestedKind::RateAdjustments => world.remove_adjustment(id),
        }
    }
    for (id, end) in &plan.end {
        if let Some(stored) = world.assignment(id) {
            let row = AssignmentRow { end_date: Some(date_text(*end)), updated_at: page.now.clone(), ..stored.clone() };
            world.put_assignment(row);
        }
    }
    plan.counts()
}

/// The rows of one kind that this source owns on this resource.
fn stored_rows(world: &World, page: &Page<'_>, resource_id: &str, kind: NestedKind) -> Vec<StoredRow<String>> {
    let owned = |source: &Option<String>| source.as_deref() == page.writer.owner();
    match kind {
        NestedKind::TeamAllocations | NestedKind::ProjectAllocations => world
            .assignments_of(resource_id)
            .into_iter()
            .filter(|row| {
                row.external_id.is_none() && row.target_type == allocation_target(kind) && owned(&row.source_system)
            })
            .filter_map(|row| {
                Some(StoredRow {
                    id: row.id.clone(),
                    row: NestedRow::Allocation(Allocation {
                        target_external_id: world.entity(&row.target_id)?.external_id.clone().unwrap_or_default(),
                        target_name: None,
                        fte: row.fte,
                        start_date: flowstate_sync::parse_date(&row.start_date)?,
                        end_date: row.end_date.as_deref().and_then(flowstate_sync::parse_date),
                    }),
                })
            })
            .collect(),
        NestedKind::SalaryAdjustments | NestedKind::RateAdjustments => world
            .adjustments_of(resource_id)
            .into_iter()
            .filter(|row| row.kind == kind && owned(&row.source_system))
            .filter_map(|row| {
                Some(StoredRow {
                    id: row.id.clone(),
                    row: NestedRow::Adjustment(Adjustment {
                        effective_date: flowstate_sync::parse_date(&row.effective_date)?,
                        amount: row.amount,
                        bonus: row.bonus,
                        rate_type: row.rate_type.clone(),
                        currency_code: row.currency_code.clone(),
                        reason: row.reason.clone(),
                    }),
                })
            })
            .collect(),
    }
}

fn put_adjustment(world: &mut World, page: &Page<'_>, kind: NestedKind, resource_id: &str, adjustment: &Adjustment) {
    let prefix = if kind == NestedKind::SalaryAdjustments { "sal" } else { "rate" };
    world.put_adjustment(AdjustmentRow {
        kind,
        id: new_id(prefix),
        resource_id: resource_id.to_string(),
        effective_date: date_text(adjustment.effective_date),
        amount: adjustment.amount,
        bonus: adjustment.bonus,
        rate_type: adjustment.rate_type.clone(),
        currency_code: adjustment.currency_code.clone(),
        reason: adjustment.reason.clone(),
        source_system: page.writer.owner().map(str::to_string),
        created_at: page.now.clone(),
        updated_at: page.now.clone(),
    });
}

/// Hard-deletes an entity with its nested rows and sync state; vacancies it filled are open
/// again and teams it parented move to the top (each with an update event).
fn delete_entity(world: &mut World, page: &Page<'_>, entity: EntityType, entity_id: &str) {
    if entity == EntityType::Assignment {
        let before = represent(world, entity, entity_id, page.today);
        world.remove_assignment(entity_id);
        world.remove_sync_state_of(entity_id);
        world.set_delete(SetDelete::SyncStatesOf(entity, entity_id.to_string()));
        emit(world, entity, entity_id, ChangeType::Delete, before, None);
        return;
    }
    let before = represent(world, entity, entity_id, page.today);
    // What changes with it: vacancies it filled open again, child teams move to the top,
    // resources allocated to it lose those allocations. Each gets an update event.
    let mut dependents: Vec<(Dependent, EntityType, String)> = match entity {
        EntityType::Employee | EntityType::Contractor => world
            .entities_of(EntityType::Vacancy)
            .filter(|vacancy| {
                let filler = if entity == EntityType::Employee {
                    &vacancy.filled_by_employee
                } else {
                    &vacancy.filled_by_contractor
                };
                filler.as_deref() == Some(entity_id)
            })
            .map(|vacancy| (Dependent::Filled, EntityType::Vacancy, vacancy.id.clone()))
            .collect(),
        EntityType::Team => world
            .entities_of(EntityType::Team)
            .filter(|team| team.parent_team_id.as_deref() == Some(entity_id))
            .map(|team| (Dependent::Child, EntityType::Team, team.id.clone()))
            .collect(),
        _ => Vec::new(),
    };
    if matches!(entity, EntityType::Team | EntityType::Project) {
        // Teams allocated to projects do not show their allocations: no news for them.
        let allocated = world.assignments_to(entity_id).into_iter().filter(|row| {
            row.external_id.is_none()
                && matches!(row.resource_type, EntityType::Employee | EntityType::Contractor | EntityType::Vacancy)
        });
        let allocated: std::collections::BTreeSet<(EntityType, String)> =
            allocated.map(|row| (row.resource_type, row.resource_id.clone())).collect();
        dependents.extend(allocated.into_iter().map(|(kind, id)| (Dependent::Allocated, kind, id)));
    }
    dependents.sort_by(|a, b| a.2.cmp(&b.2));
    dependents.dedup_by(|a, b| a.2 == b.2);
    let dependents: Vec<(Dependent, EntityType, String, Option<Value>)> = dependents
        .into_iter()
        .map(|(dependent, kind, id)| {
            let before = represent(world, kind, &id, page.today);
            (dependent, kind, id, before)
        })
        .collect();
    for row in world.assignments_of(entity_id).into_iter().map(|row| row.id.clone()).collect::<Vec<_>>() {
        world.remove_assignment(&row);
    }
    for row in world.adjustments_of(entity_id).into_iter().map(|row| row.id.clone()).collect::<Vec<_>>() {
        world.remove_adjustment(&row);
    }
    if matches!(entity, EntityType::Team | EntityType::Project) {
        for row in world.assignments_to(entity_id).into_iter().map(|row| row.id.clone()).collect::<Vec<_>>() {
            world.remove_assignment(&row);
        }
        world.set_delete(SetDelete::AssignmentsToTarget(entity, entity_id.to_string()));
    }
    world.remove_entity(entity_id);
    world.remove_sync_state_of(entity_id);
    world.set_delete(SetDelete::SyncStatesOf(entity, entity_id.to_string()));
    emit(world, entity, entity_id, ChangeType::Delete, before, None);
    for (dependent, kind, id, dependent_before) in dependents {
        let Some(mut row) = world.entity(&id).cloned() else { continue };
        match dependent {
            Dependent::Child => {
                row.fields.remove("parentTeamExternalId");
                row.parent_team_id = None;
            }
            Dependent::Filled => {
                row.filled_by_employee = None;
                row.filled_by_contractor = None;
            }
            Dependent::Allocated => {}
        }
        row.updated_at = page.now.clone();
        world.put_entity(row);
        let after = represent(world, kind, &id, page.today);
        emit(world, kind, &id, ChangeType::Update, dependent_before, after);
    }
}

/// How an entity depends on one being deleted.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Dependent {
    /// A vacancy it filled.
    Filled,
    /// A team whose parent it was.
    Child,
    /// A resource with allocations to it.
    Allocated,
}

/// Assignment records: `resourceType`, `resourceExternalId`, `targetType`,
/// `targetExternalId`, `fte`, `startDate`, `endDate` (data-model.md Decision).
fn plan_assignment(
    world: &mut World,
    page: &Page<'_>,
    external_id: &str,
    upsert: &Upsert,
    entity_id: &str,
    before: Option<&Value>,
) -> Result<(), Vec<RecordError>> {
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
    let resource_entity: EntityType = resource_type
        .parse()
        .map_err(|error: flowstate_sync::UnknownEntityType| reject(external_id, "resourceType", error.to_string()))?;
    let resource_external_id = text("resourceExternalId");
    let Some(resource_id) = world.entity_by_external(resource_entity, &resource_external_id).map(|row| row.id.clone())
    else {
        return Err(reject(
            external_id,
            "resourceExternalId",
            format!("{resource_type} {resource_external_id:?} not found"),
        ));
    };
    let start = text("startDate");
    let end = values.get("endDate").and_then(Value::as_str).map(str::to_string);
    if end.as_deref().is_some_and(|end| end < start.as_str()) {
        return Err(reject(
            external_id,
            "endDate",
            format!("endDate ({}) is before startDate ({start})", end.unwrap_or_default()),
        ));
    }
    let target_entity = if target_type == "team" { EntityType::Team } else { EntityType::Project };
    let target_id = ensure_target(world, page, target_entity, &text("targetExternalId"), None);
    let fte = values.get("fte").and_then(Value::as_f64).unwrap_or(0.0);
    let stored = world.assignment(entity_id).cloned();
    world.put_assignment(AssignmentRow {
        id: entity_id.to_string(),
        external_id: match &stored {
            Some(stored) => stored.external_id.clone(),
            None => page.writer.new_external_id(external_id),
        },
        resource_type: resource_entity,
        resource_id,
        target_type: target_entity,
        target_id,
        fte,
        start_date: start,
        end_date: end,
        source_system: stored.as_ref().map_or(page.writer.owner().map(str::to_string), |row| row.source_system.clone()),
        created_at: stored.as_ref().map_or(page.now.clone(), |row| row.created_at.clone()),
        updated_at: stored.as_ref().map_or(page.now.clone(), |row| row.updated_at.clone()),
    });
    Ok(())
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
