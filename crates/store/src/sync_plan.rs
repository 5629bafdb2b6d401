//! A sync's plan: what applying PULL pages would do, record by record, without doing it
//! (`flowstate hook plan`, `POST …/hooks/{hookId}/plan`).
//!
//! The plan is not a second set of rules: the pages go through the very load, plan and
//! write of a sync (`store/apply.rs`), inside a transaction that is rolled back, and this
//! module only describes what the planner did to each record, from the change events it
//! emitted. So a plan and the sync that follows it agree by construction.
//!
//! Pure: no IO.

use std::collections::BTreeMap;

use flowstate_sync::{EntityType, NestedKind, RecordError, nested::NestedCounts};
use serde::Serialize;
use serde_json::Value;

use crate::{
    PageOutcome,
    kinds::{ChangeType, PlannedAction},
    world::EventRow,
};

/// One field whose value would change: `before` is `null` for a new entity.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FieldDiff {
    pub field: String,
    pub before: Value,
    pub after: Value,
}

/// Another entity a record would change (a vacancy it fills, a parent team it names).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SideEffect {
    pub entity_type: EntityType,
    pub external_id: Value,
    pub change_type: ChangeType,
    pub changes: Vec<FieldDiff>,
}

/// One record of a plan.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedRecord {
    /// The page it came in (0-based, as the execution's pages).
    pub page: usize,
    pub external_id: String,
    pub action: PlannedAction,
    /// For a create, every field it sets; for an update, every field that changes (nested
    /// arrays included, as whole arrays).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<FieldDiff>,
    /// What happens to its nested rows (allocations, adjustments), per array.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub nested: BTreeMap<NestedKind, NestedCounts>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<SideEffect>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<RecordError>,
}

/// The plan of a whole run: each page's counts (as an execution's pages show them), their
/// sum, and every record.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SyncPlan {
    pub totals: PageOutcome,
    pub pages: Vec<PageOutcome>,
    pub records: Vec<PlannedRecord>,
}

/// Fields that say nothing about the change: the database's id, the record's externalId
/// (the plan names each record by it) and the row's stamps.
const NOT_COMPARED: [&str; 4] = ["id", "externalId", "createdAt", "updatedAt"];

/// The fields that differ between two representations of an entity (`null` for absent).
pub(crate) fn field_diffs(before: Option<&Value>, after: Option<&Value>) -> Vec<FieldDiff> {
    let empty = serde_json::Map::new();
    let before = before.and_then(Value::as_object).unwrap_or(&empty);
    let after = after.and_then(Value::as_object).unwrap_or(&empty);
    let mut names: Vec<&String> = after.keys().chain(before.keys().filter(|key| !after.contains_key(*key))).collect();
    names.retain(|name| !NOT_COMPARED.contains(&name.as_str()));
    names
        .into_iter()
        .filter_map(|name| {
            let (old, new) = (before.get(name).unwrap_or(&Value::Null), after.get(name).unwrap_or(&Value::Null));
            (old != new && !(old.is_null() && is_empty(new))).then(|| FieldDiff {
                field: name.clone(),
                before: old.clone(),
                after: new.clone(),
            })
        })
        .collect()
}

/// A new entity's empty arrays and objects are not news.
fn is_empty(value: &Value) -> bool {
    match value {
        Value::Array(items) => items.is_empty(),
        Value::Object(fields) => fields.is_empty(),
        _ => false,
    }
}

/// The record as planned: `applied` is what the planner counted for it (one of created,
/// updated, unchanged or deleted), `events` what it emitted, `entity_id` its entity's id
/// (before the plan for a delete, after it otherwise).
pub(crate) fn planned(
    external_id: &str,
    entity: EntityType,
    entity_id: Option<&str>,
    applied: &PageOutcome,
    events: &[EventRow],
) -> PlannedRecord {
    let action = if applied.created > 0 {
        PlannedAction::Create
    } else if applied.updated > 0 {
        PlannedAction::Update
    } else if applied.deleted > 0 {
        PlannedAction::Delete
    } else {
        PlannedAction::Unchanged
    };
    let own = |event: &&EventRow| event.entity_type == entity && Some(event.entity_id.as_str()) == entity_id;
    let changes = match (action, events.iter().find(own)) {
        (PlannedAction::Create | PlannedAction::Update, Some(event)) => {
            field_diffs(event.before.as_ref(), event.after.as_ref())
        }
        _ => Vec::new(),
    };
    let also = events
        .iter()
        .filter(|event| !own(event))
        .map(|event| SideEffect {
            entity_type: event.entity_type,
            external_id: event
                .after
                .as_ref()
                .or(event.before.as_ref())
                .and_then(|entity| entity.get("externalId"))
                .cloned()
                .unwrap_or(Value::Null),
            change_type: event.change_type,
            changes: field_diffs(event.before.as_ref(), event.after.as_ref()),
        })
        .collect();
    PlannedRecord {
        page: 0,
        external_id: external_id.to_string(),
        action,
        changes,
        nested: applied.nested.clone(),
        also,
        errors: Vec::new(),
    }
}

/// A record the planner (or the database) refused.
pub(crate) fn refused(external_id: &str, errors: Vec<RecordError>) -> PlannedRecord {
    PlannedRecord {
        page: 0,
        external_id: external_id.to_string(),
        action: PlannedAction::Error,
        changes: Vec::new(),
        nested: BTreeMap::new(),
        also: Vec::new(),
        errors,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_diff_names_the_fields_that_change_and_nothing_else() {
        let before = json!({ "id": "emp_1", "title": "Engineer", "team": null, "updatedAt": "a", "gone": 1 });
        let after = json!({ "id": "emp_1", "title": "Lead", "team": null, "updatedAt": "b", "added": [] });
        let diffs = field_diffs(Some(&before), Some(&after));
        assert_eq!(
            diffs,
            [
                FieldDiff { field: "title".into(), before: json!("Engineer"), after: json!("Lead") },
                FieldDiff { field: "gone".into(), before: json!(1), after: Value::Null },
            ]
        );
        // A new entity: every field it sets, not its empty arrays.
        let created = field_diffs(None, Some(&json!({ "id": "x", "title": "Lead", "teamAllocations": [] })));
        assert_eq!(created, [FieldDiff { field: "title".into(), before: Value::Null, after: json!("Lead") }]);
    }
}
