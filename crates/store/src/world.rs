//! The rows a page works on, in memory.
//!
//! The loader fills a [`World`] with what the page's records can touch (read in bulk), the
//! planner changes it record by record, and the writer turns what changed into statements.
//! Every change goes through a method that keeps the indexes, remembers the key as dirty
//! (in first-change order, so a parent team is written before its children) and logs the
//! previous value, so a rejected record is undone with [`World::rollback`].
//!
//! **Architecture Invariant:** nothing here does IO; a row absent from the world is absent
//! from the database only for the keys the loader was asked for.

use std::collections::{HashMap, HashSet};

use flowstate_sync::{EntityType, NestedKind};
use serde_json::{Map, Value};

/// An employee, contractor, vacancy, project or team.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct EntityRow {
    pub entity: EntityType,
    pub id: String,
    pub external_id: Option<String>,
    /// Scalar fields by record field name (schema in `flowstate_sync::schema`).
    pub fields: Map<String, Value>,
    pub custom: Map<String, Value>,
    pub filled_by_employee: Option<String>,
    pub filled_by_contractor: Option<String>,
    pub parent_team_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl EntityRow {
    /// Employees' email, lowercased: unique per organisation.
    pub fn email_key(&self) -> Option<String> {
        if self.entity != EntityType::Employee {
            return None;
        }
        self.fields.get("email").and_then(Value::as_str).map(str::to_lowercase)
    }
}

/// A team or project allocation (or an Assignment entity, which has an externalId).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct AssignmentRow {
    pub id: String,
    pub external_id: Option<String>,
    pub resource_type: EntityType,
    pub resource_id: String,
    pub target_type: EntityType,
    pub target_id: String,
    pub fte: f64,
    pub start_date: String,
    pub end_date: Option<String>,
    /// The integration that owns the row; `None`: made by hand.
    pub source_system: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// A salary adjustment (of an employee) or a rate adjustment (of a contractor).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct AdjustmentRow {
    /// `SalaryAdjustments` or `RateAdjustments`.
    pub kind: NestedKind,
    pub id: String,
    pub resource_id: String,
    pub effective_date: String,
    /// Salary, or rate.
    pub amount: f64,
    pub bonus: Option<f64>,
    pub rate_type: Option<String>,
    pub currency_code: String,
    pub reason: Option<String>,
    pub source_system: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// What one source last applied for one externalId (the page's source and entity type).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct SyncStateRow {
    pub external_id: String,
    pub entity_id: String,
    pub fingerprint: String,
    pub last_synced_at: String,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct JobRoleRow {
    pub id: String,
    pub external_id: Option<String>,
    pub title: String,
    pub created_at: String,
    pub updated_at: String,
}

/// A change event, written to the outbox with the page's source and time.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct EventRow {
    pub entity_type: EntityType,
    pub entity_id: String,
    pub change_type: crate::kinds::ChangeType,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// Deletes by something other than a row's id, for rows the page did not load.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum SetDelete {
    /// Every allocation to a deleted team or project.
    AssignmentsToTarget(EntityType, String),
    /// The sync state of a deleted entity, of every source.
    SyncStatesOf(EntityType, String),
}

/// A row that changed, by table and id.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Key {
    Entity(EntityType, String),
    Assignment(String),
    Adjustment(NestedKind, String),
    SyncState(String),
    JobRole(String),
}

enum Undo {
    Entity(String, Option<EntityRow>),
    Assignment(String, Option<AssignmentRow>),
    Adjustment(String, Option<AdjustmentRow>),
    SyncState(String, Option<SyncStateRow>),
    JobRole(String, Option<JobRoleRow>),
    Dirty,
    SetDelete,
    Touch,
}

/// A point to roll back to.
#[derive(Clone, Copy)]
pub(crate) struct Mark {
    undo: usize,
    events: usize,
}

#[derive(Default)]
pub(crate) struct World {
    entities: HashMap<String, EntityRow>,
    by_external: HashMap<(EntityType, String), String>,
    by_email: HashMap<String, String>,
    assignments: HashMap<String, AssignmentRow>,
    assignments_by_resource: HashMap<String, Vec<String>>,
    assignments_by_external: HashMap<String, String>,
    adjustments: HashMap<String, AdjustmentRow>,
    adjustments_by_resource: HashMap<String, Vec<String>>,
    sync_states: HashMap<String, SyncStateRow>,
    job_roles: HashMap<String, JobRoleRow>,
    /// The organisation's work types, (name, externalId), when the page names any.
    work_types: Vec<(String, Option<String>)>,
    events: Vec<EventRow>,
    set_deletes: Vec<SetDelete>,
    /// ExternalIds whose sync state only moves its `lastSyncedAt` to the page's time.
    touched: Vec<String>,
    dirty: Vec<Key>,
    dirty_set: HashSet<Key>,
    undo: Vec<Undo>,
    /// Ids of the entities, assignments and adjustments read from the database, and the
    /// externalIds of the sync states read: a changed row not among them is new.
    stored: HashSet<String>,
    stored_sync_states: HashSet<String>,
}

fn index_remove(index: &mut HashMap<String, Vec<String>>, group: &str, id: &str) {
    if let Some(ids) = index.get_mut(group) {
        ids.retain(|other| other != id);
        if ids.is_empty() {
            index.remove(group);
        }
    }
}

impl World {
    // ---- reading ----

    pub fn entity(&self, id: &str) -> Option<&EntityRow> {
        self.entities.get(id)
    }

    pub fn entity_by_external(&self, entity: EntityType, external_id: &str) -> Option<&EntityRow> {
        self.by_external.get(&(entity, external_id.to_string())).and_then(|id| self.entities.get(id))
    }

    pub fn employee_by_email(&self, email_key: &str) -> Option<&EntityRow> {
        self.by_email.get(email_key).and_then(|id| self.entities.get(id))
    }

    pub fn entities_of(&self, entity: EntityType) -> impl Iterator<Item = &EntityRow> {
        self.entities.values().filter(move |row| row.entity == entity)
    }

    pub fn assignment(&self, id: &str) -> Option<&AssignmentRow> {
        self.assignments.get(id)
    }

    pub fn assignment_by_external(&self, external_id: &str) -> Option<&AssignmentRow> {
        self.assignments_by_external.get(external_id).and_then(|id| self.assignments.get(id))
    }

    /// Allocations of a resource (Assignment entities included).
    pub fn assignments_of(&self, resource_id: &str) -> Vec<&AssignmentRow> {
        self.assignments_by_resource
            .get(resource_id)
            .map(|ids| ids.iter().filter_map(|id| self.assignments.get(id)).collect())
            .unwrap_or_default()
    }

    pub fn assignments_to(&self, target_id: &str) -> Vec<&AssignmentRow> {
        self.assignments.values().filter(|row| row.target_id == target_id).collect()
    }

    pub fn adjustments_of(&self, resource_id: &str) -> Vec<&AdjustmentRow> {
        self.adjustments_by_resource
            .get(resource_id)
            .map(|ids| ids.iter().filter_map(|id| self.adjustments.get(id)).collect())
            .unwrap_or_default()
    }

    pub fn sync_state(&self, external_id: &str) -> Option<&SyncStateRow> {
        self.sync_states.get(external_id)
    }

    pub fn job_role_by(&self, external_id: Option<&str>, title: &str) -> Option<&JobRoleRow> {
        match external_id {
            Some(external_id) => self.job_roles.values().find(|role| role.external_id.as_deref() == Some(external_id)),
            None => self.job_roles.values().find(|role| role.title == title),
        }
    }

    /// Every entity an assignment or a vacancy here points at: (type, id).
    pub fn references(&self) -> Vec<(EntityType, String)> {
        let mut references = Vec::new();
        for row in self.assignments.values() {
            references.push((row.resource_type, row.resource_id.clone()));
            references.push((row.target_type, row.target_id.clone()));
        }
        for row in self.entities.values() {
            if let Some(id) = &row.filled_by_employee {
                references.push((EntityType::Employee, id.clone()));
            }
            if let Some(id) = &row.filled_by_contractor {
                references.push((EntityType::Contractor, id.clone()));
            }
        }
        references
    }

    // ---- loading (no undo, no dirt; never overwrites a row already here) ----

    pub fn load_entity(&mut self, row: EntityRow) {
        if !self.entities.contains_key(&row.id) {
            self.stored.insert(row.id.clone());
            self.set_entity(row.id.clone(), Some(row));
        }
    }

    pub fn load_assignment(&mut self, row: AssignmentRow) {
        if !self.assignments.contains_key(&row.id) {
            self.stored.insert(row.id.clone());
            self.set_assignment(row.id.clone(), Some(row));
        }
    }

    pub fn load_adjustment(&mut self, row: AdjustmentRow) {
        if !self.adjustments.contains_key(&row.id) {
            self.stored.insert(row.id.clone());
            self.set_adjustment(row.id.clone(), Some(row));
        }
    }

    pub fn load_sync_state(&mut self, row: SyncStateRow) {
        self.stored_sync_states.insert(row.external_id.clone());
        self.sync_states.entry(row.external_id.clone()).or_insert(row);
    }

    pub fn load_job_role(&mut self, row: JobRoleRow) {
        self.job_roles.entry(row.id.clone()).or_insert(row);
    }

    pub fn load_work_type(&mut self, name: String, external_id: Option<String>) {
        self.work_types.push((name, external_id));
    }

    /// Whether a work type has this externalId or, failing that, this name.
    pub fn has_work_type(&self, key: &str) -> bool {
        self.work_types.iter().any(|(name, external_id)| external_id.as_deref() == Some(key) || name == key)
    }

    // ---- changing (undone by rollback, written by the writer) ----

    pub fn put_entity(&mut self, row: EntityRow) {
        let previous = self.set_entity(row.id.clone(), Some(row.clone()));
        self.changed(Key::Entity(row.entity, row.id.clone()), Undo::Entity(row.id, previous));
    }

    pub fn remove_entity(&mut self, id: &str) -> Option<EntityRow> {
        let previous = self.set_entity(id.to_string(), None)?;
        self.changed(
            Key::Entity(previous.entity, id.to_string()),
            Undo::Entity(id.to_string(), Some(previous.clone())),
        );
        Some(previous)
    }

    pub fn put_assignment(&mut self, row: AssignmentRow) {
        let previous = self.set_assignment(row.id.clone(), Some(row.clone()));
        self.changed(Key::Assignment(row.id.clone()), Undo::Assignment(row.id, previous));
    }

    pub fn remove_assignment(&mut self, id: &str) {
        if let Some(previous) = self.set_assignment(id.to_string(), None) {
            self.changed(Key::Assignment(id.to_string()), Undo::Assignment(id.to_string(), Some(previous)));
        }
    }

    pub fn put_adjustment(&mut self, row: AdjustmentRow) {
        let previous = self.set_adjustment(row.id.clone(), Some(row.clone()));
        self.changed(Key::Adjustment(row.kind, row.id.clone()), Undo::Adjustment(row.id, previous));
    }

    pub fn remove_adjustment(&mut self, id: &str) {
        if let Some(previous) = self.set_adjustment(id.to_string(), None) {
            let key = Key::Adjustment(previous.kind, id.to_string());
            self.changed(key, Undo::Adjustment(id.to_string(), Some(previous)));
        }
    }

    pub fn put_sync_state(&mut self, row: SyncStateRow) {
        let external_id = row.external_id.clone();
        let previous = self.sync_states.insert(external_id.clone(), row);
        self.changed(Key::SyncState(external_id.clone()), Undo::SyncState(external_id, previous));
    }

    pub fn remove_sync_state(&mut self, external_id: &str) {
        if let Some(previous) = self.sync_states.remove(external_id) {
            self.changed(
                Key::SyncState(external_id.to_string()),
                Undo::SyncState(external_id.to_string(), Some(previous)),
            );
        }
    }

    /// The sync states in the world, replaced by `states` (the planner's tests plan pages of
    /// several sources and entity types into one world; each page sees its own).
    #[cfg(test)]
    pub fn swap_sync_states(&mut self, states: HashMap<String, SyncStateRow>) -> HashMap<String, SyncStateRow> {
        std::mem::replace(&mut self.sync_states, states)
    }

    /// Removes this source's sync state of an entity (the page's entity type).
    pub fn remove_sync_state_of(&mut self, entity_id: &str) {
        let keys: Vec<String> = self
            .sync_states
            .values()
            .filter(|state| state.entity_id == entity_id)
            .map(|state| state.external_id.clone())
            .collect();
        for key in keys {
            self.remove_sync_state(&key);
        }
    }

    pub fn put_job_role(&mut self, row: JobRoleRow) {
        let previous = self.job_roles.insert(row.id.clone(), row.clone());
        self.changed(Key::JobRole(row.id.clone()), Undo::JobRole(row.id, previous));
    }

    /// A re-run of what this source last applied: only `lastSyncedAt` moves (to the page's
    /// time, set by the writer).
    pub fn touch(&mut self, external_id: &str) {
        self.touched.push(external_id.to_string());
        self.undo.push(Undo::Touch);
    }

    pub fn set_delete(&mut self, delete: SetDelete) {
        self.set_deletes.push(delete);
        self.undo.push(Undo::SetDelete);
    }

    pub fn emit(&mut self, event: EventRow) {
        self.events.push(event);
    }

    /// The change events emitted since `mark`.
    pub fn events_since(&self, mark: Mark) -> &[EventRow] {
        &self.events[mark.events.min(self.events.len())..]
    }

    pub fn mark(&self) -> Mark {
        Mark { undo: self.undo.len(), events: self.events.len() }
    }

    /// Undoes every change made since `mark`.
    pub fn rollback(&mut self, mark: Mark) {
        while self.undo.len() > mark.undo {
            match self.undo.pop().expect("above the mark") {
                Undo::Entity(id, previous) => {
                    self.set_entity(id, previous);
                }
                Undo::Assignment(id, previous) => {
                    self.set_assignment(id, previous);
                }
                Undo::Adjustment(id, previous) => {
                    self.set_adjustment(id, previous);
                }
                Undo::SyncState(external_id, previous) => match previous {
                    Some(row) => {
                        self.sync_states.insert(external_id, row);
                    }
                    None => {
                        self.sync_states.remove(&external_id);
                    }
                },
                Undo::JobRole(id, previous) => match previous {
                    Some(row) => {
                        self.job_roles.insert(id, row);
                    }
                    None => {
                        self.job_roles.remove(&id);
                    }
                },
                Undo::Dirty => {
                    let key = self.dirty.pop().expect("a dirty key per Undo::Dirty");
                    self.dirty_set.remove(&key);
                }
                Undo::SetDelete => {
                    self.set_deletes.pop();
                }
                Undo::Touch => {
                    self.touched.pop();
                }
            }
        }
        self.events.truncate(mark.events);
    }

    /// What the page changed: each dirty row as it is now (`None`: deleted), in first-change
    /// order, the deletes by other keys, and the events.
    pub fn changes(&self) -> Changes<'_> {
        let mut changes = Changes {
            set_deletes: &self.set_deletes,
            events: &self.events,
            touched: &self.touched,
            stored: Some(&self.stored),
            stored_sync_states: Some(&self.stored_sync_states),
            ..Changes::default()
        };
        for key in &self.dirty {
            match key {
                Key::Entity(entity, id) => changes.entities.push((*entity, id, self.entities.get(id))),
                Key::Assignment(id) => changes.assignments.push((id, self.assignments.get(id))),
                Key::Adjustment(kind, id) => changes.adjustments.push((*kind, id, self.adjustments.get(id))),
                Key::SyncState(external_id) => {
                    changes.sync_states.push((external_id, self.sync_states.get(external_id)))
                }
                Key::JobRole(id) => {
                    if let Some(row) = self.job_roles.get(id) {
                        changes.job_roles.push(row);
                    }
                }
            }
        }
        changes
    }

    fn changed(&mut self, key: Key, undo: Undo) {
        self.undo.push(undo);
        if self.dirty_set.insert(key.clone()) {
            self.dirty.push(key);
            self.undo.push(Undo::Dirty);
        }
    }

    fn set_entity(&mut self, id: String, row: Option<EntityRow>) -> Option<EntityRow> {
        let previous = self.entities.remove(&id);
        if let Some(previous) = &previous {
            if let Some(external_id) = &previous.external_id {
                let key = (previous.entity, external_id.clone());
                if self.by_external.get(&key) == Some(&id) {
                    self.by_external.remove(&key);
                }
            }
            if let Some(email) = previous.email_key()
                && self.by_email.get(&email) == Some(&id)
            {
                self.by_email.remove(&email);
            }
        }
        if let Some(row) = row {
            if let Some(external_id) = &row.external_id {
                self.by_external.insert((row.entity, external_id.clone()), id.clone());
            }
            if let Some(email) = row.email_key() {
                self.by_email.insert(email, id.clone());
            }
            self.entities.insert(id, row);
        }
        previous
    }

    fn set_assignment(&mut self, id: String, row: Option<AssignmentRow>) -> Option<AssignmentRow> {
        let previous = self.assignments.remove(&id);
        if let Some(previous) = &previous {
            index_remove(&mut self.assignments_by_resource, &previous.resource_id, &id);
            if let Some(external_id) = &previous.external_id {
                self.assignments_by_external.remove(external_id);
            }
        }
        if let Some(row) = row {
            self.assignments_by_resource.entry(row.resource_id.clone()).or_default().push(id.clone());
            if let Some(external_id) = &row.external_id {
                self.assignments_by_external.insert(external_id.clone(), id.clone());
            }
            self.assignments.insert(id, row);
        }
        previous
    }

    fn set_adjustment(&mut self, id: String, row: Option<AdjustmentRow>) -> Option<AdjustmentRow> {
        let previous = self.adjustments.remove(&id);
        if let Some(previous) = &previous {
            index_remove(&mut self.adjustments_by_resource, &previous.resource_id, &id);
        }
        if let Some(row) = row {
            self.adjustments_by_resource.entry(row.resource_id.clone()).or_default().push(id.clone());
            self.adjustments.insert(id, row);
        }
        previous
    }
}

/// The page's changes, for the writer. A row of `None` was deleted.
#[derive(Default)]
pub(crate) struct Changes<'w> {
    pub entities: Vec<(EntityType, &'w String, Option<&'w EntityRow>)>,
    pub assignments: Vec<(&'w String, Option<&'w AssignmentRow>)>,
    pub adjustments: Vec<(NestedKind, &'w String, Option<&'w AdjustmentRow>)>,
    pub sync_states: Vec<(&'w String, Option<&'w SyncStateRow>)>,
    pub job_roles: Vec<&'w JobRoleRow>,
    pub set_deletes: &'w [SetDelete],
    pub events: &'w [EventRow],
    /// ExternalIds (of the page's source and entity type) whose `lastSyncedAt` moves.
    pub touched: &'w [String],
    stored: Option<&'w HashSet<String>>,
    stored_sync_states: Option<&'w HashSet<String>>,
}

impl Changes<'_> {
    /// Whether the row with this id (entity, assignment or adjustment) was in the database
    /// before the page: if not, it is inserted, never updated.
    pub fn is_stored(&self, id: &str) -> bool {
        self.stored.is_some_and(|stored| stored.contains(id))
    }

    /// Whether the sync state of this externalId was in the database before the page.
    pub fn is_stored_sync_state(&self, external_id: &str) -> bool {
        self.stored_sync_states.is_some_and(|stored| stored.contains(external_id))
    }
}
