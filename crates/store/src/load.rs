//! Reading, in bulk, everything a page's records can touch into a [`World`]: the page's
//! matches and their sync state, the teams, projects, fillers, emails and job roles the
//! records name, the nested rows of every resource involved, and the rows those point at.
//! A page of 1,000 records costs about a dozen queries, whatever the backend.

use std::collections::{BTreeSet, HashMap};

use flowstate_sync::{
    EntityType, FieldChange, FieldValue, FillChange, Fingerprint, NestedKind, RecordAction, nested::NestedRow,
    parse_record,
};

use crate::{
    IncomingRecord,
    db::{AssignmentFilter, Db, DbResult, EntityFilter},
    plan::{Page, Prepared, Writer, find_existing},
    world::World,
};

/// The world of one page, and each record prepared: unchanged, parsed or invalid.
pub(crate) fn load_page(
    db: &mut dyn Db,
    page: &Page<'_>,
    records: &[IncomingRecord],
) -> DbResult<(World, Vec<Prepared>)> {
    let mut world = World::default();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for record in records {
        *seen.entry(record.external_id.as_str()).or_default() += 1;
    }
    // A key holding U+0000 is refused by the parser, and PostgreSQL would refuse a query
    // naming it (failing the whole page): it is never looked up.
    let queryable = |id: &str| !id.contains('\0');
    let external_ids: Vec<String> = seen.keys().filter(|id| queryable(id)).map(|id| id.to_string()).collect();
    if let Writer::Sync(source) = page.writer {
        for state in db.sync_states(page.org, source, page.entity, &external_ids)? {
            world.load_sync_state(state);
        }
    }
    // A record this source applied with the same data is unchanged: its sync state is all
    // it needs (a sync state always names an existing entity: deletes remove them). One
    // that appears twice in the page is planned in order instead (an earlier twin may
    // change it first).
    let fingerprints: Vec<Fingerprint> = records.iter().map(|record| Fingerprint::of(&record.data)).collect();
    let unchanged: Vec<bool> = records
        .iter()
        .zip(&fingerprints)
        .map(|(record, fingerprint)| {
            seen[record.external_id.as_str()] == 1
                && world.sync_state(&record.external_id).is_some_and(|state| state.fingerprint == fingerprint.as_str())
        })
        .collect();
    let changing: Vec<String> = records
        .iter()
        .zip(&unchanged)
        .filter(|(record, unchanged)| !**unchanged && queryable(&record.external_id))
        .map(|(record, _)| record.external_id.clone())
        .collect();
    let mut state_ids: Vec<String> =
        changing.iter().filter_map(|id| world.sync_state(id)).map(|state| state.entity_id.clone()).collect();
    if let Writer::Api { entity_id, create: false, .. } = &page.writer {
        state_ids.push(entity_id.clone());
    }
    if page.entity == EntityType::Assignment {
        for filter in [AssignmentFilter::Ids(&state_ids), AssignmentFilter::ExternalIds(&changing)] {
            for row in db.assignments(page.org, filter)? {
                world.load_assignment(row);
            }
        }
    } else {
        for row in db.entities(page.org, page.entity, EntityFilter::Ids(&state_ids))? {
            world.load_entity(row);
        }
        // Adoption by externalId, for the records this source has not applied before.
        let unmatched: Vec<String> =
            changing.iter().filter(|id| find_existing(&world, page, id).is_none()).cloned().collect();
        for row in db.entities(page.org, page.entity, EntityFilter::ExternalIds(&unmatched))? {
            world.load_entity(row);
        }
    }
    let prepared: Vec<Prepared> = records
        .iter()
        .zip(fingerprints)
        .zip(unchanged)
        .map(|((record, fingerprint), unchanged)| {
            if unchanged {
                return Prepared::Unchanged;
            }
            match parse_record(page.entity, &record.external_id, &record.data, &page.definitions) {
                Ok(parsed) => Prepared::Parsed(Box::new(parsed), fingerprint),
                Err(errors) => Prepared::Invalid(errors),
            }
        })
        .collect();

    // Only the records that will change need more than their match.
    let mut wanted = Wanted::default();
    let mut resources: Vec<(EntityType, String)> = Vec::new();
    for prepared in &prepared {
        if let Prepared::Parsed(parsed, _) = prepared {
            if let Some(existing) = find_existing(&world, page, &parsed.external_id) {
                resources.push((page.entity, existing.entity_id));
            }
            wanted.collect(page, &world, parsed);
        }
    }
    // An assignment changed without naming a side's externalId keeps it, maybe in another
    // type (`targetType: team`): the entity of that externalId in every type is wanted.
    for (entity, ids) in std::mem::take(&mut wanted.kept_sides) {
        let ids: Vec<String> = ids.into_iter().collect();
        for row in db.entities(page.org, entity, EntityFilter::Ids(&ids))? {
            if let Some(external_id) = &row.external_id {
                for other in EntityType::ALL.into_iter().filter(|other| *other != EntityType::Assignment) {
                    wanted.want(other, external_id);
                }
            }
            world.load_entity(row);
        }
    }
    for (entity, external_ids) in &wanted.external_ids {
        let external_ids: Vec<String> = external_ids.iter().cloned().collect();
        for row in db.entities(page.org, *entity, EntityFilter::ExternalIds(&external_ids))? {
            world.load_entity(row);
        }
    }
    if !wanted.emails.is_empty() {
        let emails: Vec<String> = wanted.emails.iter().cloned().collect();
        for row in db.entities(page.org, EntityType::Employee, EntityFilter::EmailKeys(&emails))? {
            world.load_entity(row);
        }
    }
    if !wanted.role_ids.is_empty() || !wanted.role_titles.is_empty() {
        let ids: Vec<String> = wanted.role_ids.iter().cloned().collect();
        let titles: Vec<String> = wanted.role_titles.iter().cloned().collect();
        for row in db.job_roles(page.org, &ids, &titles)? {
            world.load_job_role(row);
        }
    }
    if wanted.work_types {
        // A handful of rows per organisation: all of them.
        let rows = db.query_text("SELECT name, external_id FROM work_types WHERE org_id = $1", &[Some(page.org)])?;
        for row in rows {
            let mut columns = row.into_iter();
            if let Some(Some(name)) = columns.next() {
                world.load_work_type(name, columns.next().flatten());
            }
        }
    }
    if page.entity == EntityType::Team {
        // The whole tree, for the cycle check and the children of deleted teams.
        for row in db.entities(page.org, EntityType::Team, EntityFilter::All)? {
            world.load_entity(row);
        }
    }
    if !wanted.deleted.is_empty() && matches!(page.entity, EntityType::Employee | EntityType::Contractor) {
        let deleted: Vec<String> = wanted.deleted.iter().cloned().collect();
        for row in db.entities(page.org, EntityType::Vacancy, EntityFilter::FilledBy(page.entity, &deleted))? {
            resources.push((EntityType::Vacancy, row.id.clone()));
            world.load_entity(row);
        }
    }
    if !wanted.deleted.is_empty() && matches!(page.entity, EntityType::Team | EntityType::Project) {
        // The resources allocated to a deleted team or project: they get an update event.
        let deleted: Vec<String> = wanted.deleted.iter().cloned().collect();
        for row in db.assignments(page.org, AssignmentFilter::Targets(page.entity, &deleted))? {
            resources.push((row.resource_type, row.resource_id.clone()));
            world.load_assignment(row);
        }
    }
    load_related(db, page.org, &mut world, &resources)?;
    Ok((world, prepared))
}

/// Adds entities of one type, by id, to a loaded world with what their representation
/// needs (a fill's vacancy beside its filler's page).
pub(crate) fn load_more(
    db: &mut dyn Db,
    org: &str,
    world: &mut World,
    entity: EntityType,
    ids: &[String],
) -> DbResult<()> {
    for row in db.entities(org, entity, EntityFilter::Ids(ids))? {
        world.load_entity(row);
    }
    let resources: Vec<(EntityType, String)> = ids.iter().map(|id| (entity, id.clone())).collect();
    load_related(db, org, world, &resources)
}

/// Entities of one type (all of them, or by externalId) with what their representation needs.
pub(crate) fn load_entities(
    db: &mut dyn Db,
    org: &str,
    entity: EntityType,
    filter: EntityFilter<'_>,
) -> DbResult<(World, Vec<String>)> {
    let mut world = World::default();
    let mut ids = Vec::new();
    if entity == EntityType::Assignment {
        let filter = match filter {
            EntityFilter::ExternalIds(external_ids) => AssignmentFilter::ExternalIds(external_ids),
            EntityFilter::Ids(ids) => AssignmentFilter::Ids(ids),
            _ => AssignmentFilter::All,
        };
        for row in db.assignments(org, filter)? {
            ids.push(row.id.clone());
            world.load_assignment(row);
        }
        load_related(db, org, &mut world, &[])?;
    } else {
        for row in db.entities(org, entity, filter)? {
            ids.push(row.id.clone());
            world.load_entity(row);
        }
        let resources: Vec<(EntityType, String)> = ids.iter().map(|id| (entity, id.clone())).collect();
        load_related(db, org, &mut world, &resources)?;
    }
    Ok((world, ids))
}

/// The nested rows of `resources`, then every entity that an assignment or a vacancy in the
/// world points at and the world lacks (targets, resources, fillers).
fn load_related(db: &mut dyn Db, org: &str, world: &mut World, resources: &[(EntityType, String)]) -> DbResult<()> {
    let mut by_type: HashMap<EntityType, Vec<String>> = HashMap::new();
    for (entity, id) in resources {
        by_type.entry(*entity).or_default().push(id.clone());
    }
    for (entity, ids) in &by_type {
        for row in db.assignments(org, AssignmentFilter::Resources(*entity, ids))? {
            world.load_assignment(row);
        }
        let kind = match entity {
            EntityType::Employee => NestedKind::SalaryAdjustments,
            EntityType::Contractor => NestedKind::RateAdjustments,
            _ => continue,
        };
        for row in db.adjustments(org, kind, ids)? {
            world.load_adjustment(row);
        }
    }
    let mut missing: HashMap<EntityType, BTreeSet<String>> = HashMap::new();
    for (entity, id) in world.references() {
        if world.entity(&id).is_none() {
            missing.entry(entity).or_default().insert(id);
        }
    }
    for (entity, ids) in missing {
        let ids: Vec<String> = ids.into_iter().collect();
        for row in db.entities(org, entity, EntityFilter::Ids(&ids))? {
            world.load_entity(row);
        }
    }
    Ok(())
}

/// The keys the page's parsed records name.
#[derive(Default)]
struct Wanted {
    external_ids: HashMap<EntityType, BTreeSet<String>>,
    emails: BTreeSet<String>,
    role_ids: BTreeSet<String>,
    role_titles: BTreeSet<String>,
    /// Whether a record names a work type.
    work_types: bool,
    /// Ids of the entities the page deletes.
    deleted: BTreeSet<String>,
    /// Assignments changed without naming a side's externalId: that side's stored entity,
    /// by type and id.
    kept_sides: HashMap<EntityType, BTreeSet<String>>,
}

impl Wanted {
    fn want(&mut self, entity: EntityType, external_id: &str) {
        self.external_ids.entry(entity).or_default().insert(external_id.to_string());
    }

    fn collect(&mut self, page: &Page<'_>, world: &World, parsed: &flowstate_sync::ParsedRecord) {
        let upsert = match &parsed.action {
            RecordAction::Delete { .. } => {
                if let Some(existing) = find_existing(world, page, &parsed.external_id) {
                    self.deleted.insert(existing.entity_id);
                }
                return;
            }
            RecordAction::Upsert(upsert) => upsert,
        };
        for (name, change) in &upsert.fields {
            let FieldChange::Set(value) = change else { continue };
            match (*name, value) {
                ("parentTeamExternalId", FieldValue::Text(parent)) => self.want(EntityType::Team, parent),
                ("email", FieldValue::Text(email)) => {
                    self.emails.insert(email.to_lowercase());
                }
                ("workType", FieldValue::Text(_)) => self.work_types = true,
                ("jobRole", FieldValue::JobRole { title, external_id }) => {
                    match external_id {
                        Some(id) => self.role_ids.insert(id.clone()),
                        None => self.role_titles.insert(title.clone()),
                    };
                }
                _ => {}
            }
        }
        if page.entity == EntityType::Assignment {
            // Both halves of each pair may come from the stored row, so want every type.
            for (kind_field, id_field) in [("resourceType", "resourceExternalId"), ("targetType", "targetExternalId")] {
                let given = |field: &str| match upsert.fields.get(field) {
                    Some(FieldChange::Set(FieldValue::Text(text))) => Some(text.clone()),
                    _ => None,
                };
                if let Some(id) = given(id_field) {
                    let types: Vec<EntityType> = match given(kind_field).and_then(|kind| kind.parse().ok()) {
                        Some(entity) => vec![entity],
                        None => {
                            EntityType::ALL.into_iter().filter(|entity| *entity != EntityType::Assignment).collect()
                        }
                    };
                    for entity in types {
                        self.want(entity, &id);
                    }
                } else if let Some(stored) = find_existing(world, page, &parsed.external_id)
                    .and_then(|existing| world.assignment(&existing.entity_id))
                {
                    // The id is kept from the stored row (its type may change): that side's
                    // entity, to learn its externalId.
                    let side = if id_field == "resourceExternalId" {
                        (stored.resource_type, stored.resource_id.clone())
                    } else {
                        (stored.target_type, stored.target_id.clone())
                    };
                    self.kept_sides.entry(side.0).or_default().insert(side.1);
                }
            }
        }
        for (kind, rows) in &upsert.nested {
            let target = if *kind == NestedKind::TeamAllocations { EntityType::Team } else { EntityType::Project };
            for row in rows {
                if let NestedRow::Allocation(allocation) = row {
                    self.want(target, &allocation.target_external_id);
                }
            }
        }
        if let FillChange::Set(filler) = &upsert.fill {
            self.want(EntityType::Employee, filler);
            self.want(EntityType::Contractor, filler);
        }
    }
}
