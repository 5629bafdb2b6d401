//! A sync's plan: what the pages would do, record by record, with nothing written; and the
//! sync that follows it doing exactly that.

use flowstate_store::{
    IncomingRecord, PageOutcome,
    kinds::PlannedAction,
    sync_plan::{PlannedRecord, SyncPlan},
};
use flowstate_sync::{EntityType, NestedKind};
use serde_json::{Value, json};

use crate::helpers::{TestStore, at, records};

fn employee(first: &str, email: &str) -> Value {
    json!({ "firstName": first, "lastName": "Lovelace", "email": email })
}

/// Everything a sync could write, read back: every entity type's export, every change
/// event, and each record's sync state.
fn everything(test: &TestStore) -> (Vec<Vec<Value>>, usize, Vec<Option<String>>) {
    let exports = [EntityType::Employee, EntityType::Team, EntityType::Vacancy]
        .into_iter()
        .map(|entity| test.store.export(&test.org, entity).unwrap())
        .collect();
    let synced = ["emp-1", "emp-2", "emp-3", "emp-4"]
        .into_iter()
        .map(|id| test.store.last_synced_at(&test.org, "workday", EntityType::Employee, id).unwrap())
        .collect();
    (exports, test.event_count(), synced)
}

/// Two pages: the second sees what the first did.
fn pages() -> Vec<Vec<IncomingRecord>> {
    let mut renamed = employee("Augusta", "ada@example.com");
    renamed["internalEmployeeId"] = json!("E-1");
    let mut new = employee("Grace", "grace@example.com");
    new["teamAllocations"] =
        json!([{ "teamId": "T-new", "teamName": "Compilers", "fte": 1.0, "startDate": "2026-01-01" }]);
    let mut promoted = employee("Grace", "grace@example.com");
    promoted["internalEmployeeId"] = json!("E-3");
    promoted["teamAllocations"] = new["teamAllocations"].clone();
    vec![
        records(&[
            ("emp-1", renamed),
            ("emp-2", employee("Mary", "mary@example.com")),
            ("emp-3", new),
            // Taken by emp-1: refused, by name.
            ("emp-4", employee("Eve", "ada@example.com")),
        ]),
        records(&[("emp-3", promoted), ("emp-2", json!({ "deletedAt": "2026-05-01" }))]),
    ]
}

fn plan_both_pages(test: &TestStore) -> SyncPlan {
    test.store.plan_sync(&test.org, "workday", EntityType::Employee, &pages(), at("2026-05-16")).unwrap()
}

fn find<'a>(plan: &'a SyncPlan, page: usize, external_id: &str) -> &'a PlannedRecord {
    plan.records.iter().find(|record| record.page == page && record.external_id == external_id).unwrap()
}

fn changed_fields(record: &PlannedRecord) -> Vec<(&str, &Value, &Value)> {
    record.changes.iter().map(|change| (change.field.as_str(), &change.before, &change.after)).collect()
}

fn a_plan_says_what_each_record_would_do_and_writes_nothing(test: TestStore) {
    test.apply(
        EntityType::Employee,
        &[("emp-1", employee("Ada", "ada@example.com")), ("emp-2", employee("Mary", "mary@example.com"))],
    );
    let before = everything(&test);
    let plan = plan_both_pages(&test);
    assert_eq!(everything(&test), before, "a plan writes no entity, change event or sync state");

    let actions: Vec<(usize, &str, PlannedAction)> =
        plan.records.iter().map(|record| (record.page, record.external_id.as_str(), record.action)).collect();
    assert_eq!(
        actions,
        [
            (0, "emp-1", PlannedAction::Update),
            (0, "emp-2", PlannedAction::Unchanged),
            (0, "emp-3", PlannedAction::Create),
            (0, "emp-4", PlannedAction::Error),
            // The second page sees the first: emp-3 exists by then.
            (1, "emp-3", PlannedAction::Update),
            (1, "emp-2", PlannedAction::Delete),
        ]
    );
    let renamed = find(&plan, 0, "emp-1");
    assert_eq!(
        changed_fields(renamed),
        [("firstName", &json!("Ada"), &json!("Augusta")), ("internalEmployeeId", &Value::Null, &json!("E-1"))]
    );
    let created = find(&plan, 0, "emp-3");
    assert!(changed_fields(created).contains(&("email", &Value::Null, &json!("grace@example.com"))));
    assert_eq!(created.nested[&NestedKind::TeamAllocations].created, 1);
    // The team it names does not exist: the sync would create it.
    assert_eq!(created.also.len(), 1);
    assert_eq!(
        (created.also[0].entity_type, &created.also[0].external_id, created.also[0].change_type.as_str()),
        (EntityType::Team, &json!("T-new"), "create")
    );
    let refused = find(&plan, 0, "emp-4");
    assert_eq!(refused.errors[0].field.as_deref(), Some("email"));
    assert!(refused.changes.is_empty());
    let promoted = find(&plan, 1, "emp-3");
    assert_eq!(changed_fields(promoted), [("internalEmployeeId", &Value::Null, &json!("E-3"))]);
    assert_eq!(promoted.nested[&NestedKind::TeamAllocations].unchanged, 1);
    assert_eq!(
        (
            plan.totals.created,
            plan.totals.updated,
            plan.totals.unchanged,
            plan.totals.deleted,
            plan.totals.errors.len()
        ),
        (1, 2, 1, 1, 1)
    );

    // Planned twice, the same plan: the first left nothing behind.
    let again = plan_both_pages(&test);
    assert_eq!(strip_ids(&again), strip_ids(&plan));
}

/// The sync that follows a plan does what it said, page by page and event by event.
fn the_sync_that_follows_a_plan_agrees_with_it(test: TestStore) {
    test.apply(
        EntityType::Employee,
        &[("emp-1", employee("Ada", "ada@example.com")), ("emp-2", employee("Mary", "mary@example.com"))],
    );
    let plan = plan_both_pages(&test);
    let seen = test.store.change_events(&test.org, 0).unwrap().last().unwrap().seq;
    let applied: Vec<PageOutcome> = pages()
        .iter()
        .map(|page| {
            test.store.apply_page_at(&test.org, "workday", EntityType::Employee, page, at("2026-05-16")).unwrap()
        })
        .collect();
    assert_eq!(applied, plan.pages);

    // Each event the sync wrote, as the plan foretold it: (type, externalId, change, fields).
    let written: Vec<(EntityType, Value, String, Vec<String>)> = test
        .store
        .change_events(&test.org, seen)
        .unwrap()
        .into_iter()
        .map(|event| {
            let entity = event.after.as_ref().or(event.before.as_ref()).unwrap();
            let fields = if event.change_type.as_str() == "delete" {
                Vec::new()
            } else {
                field_names(event.before.as_ref(), event.after.as_ref())
            };
            (event.entity_type, entity["externalId"].clone(), event.change_type.to_string(), fields)
        })
        .collect();
    let mut foretold = Vec::new();
    for record in &plan.records {
        for also in &record.also {
            foretold.push((
                also.entity_type,
                also.external_id.clone(),
                also.change_type.to_string(),
                also.changes.iter().map(|change| change.field.clone()).collect(),
            ));
        }
        let change = match record.action {
            PlannedAction::Create => "create",
            PlannedAction::Update => "update",
            PlannedAction::Delete => "delete",
            PlannedAction::Unchanged | PlannedAction::Error => continue,
        };
        let fields = record.changes.iter().map(|change| change.field.clone()).collect();
        foretold.push((EntityType::Employee, json!(record.external_id), change.to_string(), fields));
    }
    assert_eq!(written, foretold);
}

/// The fields a change event's before and after differ in (as a plan names them).
fn field_names(before: Option<&Value>, after: Option<&Value>) -> Vec<String> {
    let empty = serde_json::Map::new();
    let before = before.and_then(Value::as_object).unwrap_or(&empty);
    let after = after.and_then(Value::as_object).unwrap_or(&empty);
    let mut names: Vec<String> = after
        .iter()
        .filter(|(name, value)| {
            let ignored = ["id", "externalId", "createdAt", "updatedAt"].contains(&name.as_str());
            let new_and_empty = before.get(*name).is_none() && matches!(value, Value::Array(items) if items.is_empty())
                || before.get(*name).is_none() && matches!(value, Value::Object(fields) if fields.is_empty());
            !ignored && !new_and_empty && before.get(*name).unwrap_or(&Value::Null) != *value
        })
        .map(|(name, _)| name.clone())
        .collect();
    names.extend(before.keys().filter(|name| !after.contains_key(*name)).cloned());
    names
}

/// A plan with the ids a new row gets (random each time) taken out.
fn strip_ids(plan: &SyncPlan) -> Value {
    let mut value = serde_json::to_value(plan).unwrap();
    fn strip(value: &mut Value) {
        match value {
            Value::Object(fields) => {
                fields.remove("id");
                fields.remove("teamId");
                fields.values_mut().for_each(strip);
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut value);
    value
}

crate::on_both_backends!(
    a_plan_says_what_each_record_would_do_and_writes_nothing,
    the_sync_that_follows_a_plan_agrees_with_it
);
