//! REST writes (`Store::write_entity`): the sync's rules, an `api` change event, no sync
//! state, and hand-made nested rows that syncs leave alone.

use flowstate_store::{EntityWrite, StoreError, Written};
use flowstate_sync::EntityType;
use serde_json::{Map, Value, json};

use crate::helpers::TestStore;

fn object(value: Value) -> Map<String, Value> {
    value.as_object().unwrap().clone()
}

fn create(test: &TestStore, entity: EntityType, external_id: Option<&str>, data: Value) -> Written {
    let write = EntityWrite::Create { external_id: external_id.map(str::to_string), data: object(data) };
    test.store.write_entity(&test.org, entity, write).unwrap()
}

fn entity(written: Written) -> Value {
    match written {
        Written::Entity(value) => value,
        other => panic!("expected the entity, got {other:?}"),
    }
}

fn ada() -> Value {
    json!({ "firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.com" })
}

/// Create, update and delete over the API, each a change event with source `api` and the
/// same before/after a sync would give.
fn rest_writes_follow_the_sync_rules_and_emit_api_events(test: TestStore) {
    let created = entity(create(&test, EntityType::Employee, None, ada()));
    let id = created["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("emp_"), "{created}");
    assert_eq!(created["externalId"], Value::Null, "an externalId is optional");
    assert_eq!(created["lastName"], "Lovelace");

    let update = EntityWrite::Update { id: id.clone(), data: object(json!({ "lastName": "King", "endDate": null })) };
    let updated = entity(test.store.write_entity(&test.org, EntityType::Employee, update).unwrap());
    assert_eq!((updated["lastName"].clone(), updated["firstName"].clone()), (json!("King"), json!("Ada")));

    let bad = EntityWrite::Update {
        id: id.clone(),
        data: object(json!({ "email": "not-an-email", "startDate": "2026-13-01" })),
    };
    let Written::Rejected(errors) = test.store.write_entity(&test.org, EntityType::Employee, bad).unwrap() else {
        panic!("invalid fields are rejected");
    };
    let fields: Vec<&str> = errors.iter().filter_map(|error| error.field.as_deref()).collect();
    assert!(fields.contains(&"startDate"), "{errors:?}");
    assert_eq!(
        test.store.find(&test.org, EntityType::Employee, &id).unwrap().unwrap()["lastName"],
        "King",
        "nothing written"
    );

    let deleted =
        test.store.write_entity(&test.org, EntityType::Employee, EntityWrite::Delete { id: id.clone() }).unwrap();
    assert_eq!(deleted, Written::Deleted);
    assert_eq!(test.store.find(&test.org, EntityType::Employee, &id).unwrap(), None);

    let events = test.store.change_events(&test.org, 0).unwrap();
    let seen: Vec<(&str, &str)> =
        events.iter().map(|event| (event.change_type.as_str(), event.source.as_str())).collect();
    assert_eq!(seen, [("create", "api"), ("update", "api"), ("delete", "api")]);
    assert_eq!(events[1].before.as_ref().unwrap()["lastName"], "Lovelace");
    assert_eq!(events[1].after.as_ref().unwrap()["lastName"], "King");
    assert_eq!(events[2].after, None);
}

/// An externalId is unique per organisation and entity type; a sync later adopts the
/// entity by it; an update of an entity that is gone creates nothing.
fn rest_created_entities_are_adopted_by_a_sync_and_external_ids_stay_unique(test: TestStore) {
    let created = entity(create(&test, EntityType::Employee, Some("EMP-1"), ada()));
    let conflict = test.store.write_entity(
        &test.org,
        EntityType::Employee,
        EntityWrite::Create { external_id: Some("EMP-1".into()), data: object(ada()) },
    );
    assert!(matches!(conflict, Err(StoreError::Conflict(_))), "{conflict:?}");

    let outcome = test.apply(
        EntityType::Employee,
        &[("EMP-1", json!({ "firstName": "Ada", "lastName": "King", "email": "ada@example.com" }))],
    );
    assert_eq!((outcome.created, outcome.updated), (0, 1), "adopted by externalId");
    assert_eq!(test.get(EntityType::Employee, "EMP-1")["id"], created["id"]);

    let gone = EntityWrite::Update { id: "emp_nope".into(), data: object(json!({ "lastName": "X" })) };
    assert!(matches!(test.store.write_entity(&test.org, EntityType::Employee, gone).unwrap(), Written::Rejected(_)));
    assert_eq!(test.count(EntityType::Employee), 1, "no entity made by updating a missing one");

    let assignment = EntityWrite::Create { external_id: None, data: Map::new() };
    let refused = test.store.write_entity(&test.org, EntityType::Assignment, assignment);
    assert!(matches!(refused, Err(StoreError::Invalid(message)) if message.contains("externalId is required")));
}

/// Allocations written over the API are hand-made: a sync's `[]` leaves them, and the API's
/// `[]` removes only them.
fn rest_allocations_are_hand_made_and_syncs_leave_them(test: TestStore) {
    test.apply(
        EntityType::Employee,
        &[(
            "EMP-1",
            json!({ "firstName": "Ada", "lastName": "L", "email": "ada@example.com",
            "teamAllocations": [{ "teamId": "T-SYNC", "fte": 0.5, "startDate": "2026-01-01" }] }),
        )],
    );
    let id = test.get(EntityType::Employee, "EMP-1")["id"].as_str().unwrap().to_string();
    let by_hand = json!({ "teamAllocations": [{ "teamId": "T-HAND", "fte": 0.5, "startDate": "2026-02-01" }] });
    let written = entity(
        test.store
            .write_entity(
                &test.org,
                EntityType::Employee,
                EntityWrite::Update { id: id.clone(), data: object(by_hand) },
            )
            .unwrap(),
    );
    let teams = |value: &Value| -> Vec<(String, Value)> {
        value["teamAllocations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| (row["teamId"].as_str().unwrap().to_string(), row["sourceSystem"].clone()))
            .collect()
    };
    assert_eq!(teams(&written), [("T-SYNC".to_string(), json!("workday")), ("T-HAND".to_string(), Value::Null)]);

    test.apply(
        EntityType::Employee,
        &[("EMP-1", json!({ "firstName": "Ada", "lastName": "L", "email": "ada@example.com", "teamAllocations": [] }))],
    );
    assert_eq!(
        teams(&test.get(EntityType::Employee, "EMP-1")),
        [("T-HAND".to_string(), Value::Null)],
        "the sync removed only its own"
    );

    test.apply(
        EntityType::Employee,
        &[(
            "EMP-1",
            json!({ "firstName": "Ada", "lastName": "L", "email": "ada@example.com",
            "teamAllocations": [{ "teamId": "T-SYNC", "fte": 0.5, "startDate": "2026-01-01" }] }),
        )],
    );
    let cleared = EntityWrite::Update { id, data: object(json!({ "teamAllocations": [] })) };
    let written = entity(test.store.write_entity(&test.org, EntityType::Employee, cleared).unwrap());
    assert_eq!(teams(&written), [("T-SYNC".to_string(), json!("workday"))], "the API removed only hand-made rows");
}

/// A REST delete of a person reopens the vacancy they filled, as a synced delete does.
fn a_rest_delete_reopens_the_vacancy_its_person_filled(test: TestStore) {
    test.apply(EntityType::Employee, &[("EMP-1", ada())]);
    test.apply(EntityType::Vacancy, &[("VAC-1", json!({ "role": "Engineer", "filledBy": { "externalId": "EMP-1" } }))]);
    assert_eq!(test.get(EntityType::Vacancy, "VAC-1")["isFilled"], true);
    let id = test.get(EntityType::Employee, "EMP-1")["id"].as_str().unwrap().to_string();
    assert_eq!(
        test.store.write_entity(&test.org, EntityType::Employee, EntityWrite::Delete { id }).unwrap(),
        Written::Deleted
    );
    assert_eq!(test.get(EntityType::Vacancy, "VAC-1")["isFilled"], false);
    let events = test.store.change_events(&test.org, 0).unwrap();
    let last: Vec<(&str, &str, &str)> = events
        .iter()
        .rev()
        .take(2)
        .map(|event| (event.entity_type.as_str(), event.change_type.as_str(), event.source.as_str()))
        .collect();
    assert!(last.contains(&("vacancy", "update", "api")) && last.contains(&("employee", "delete", "api")), "{last:?}");
}

crate::on_both_backends!(
    rest_writes_follow_the_sync_rules_and_emit_api_events,
    rest_created_entities_are_adopted_by_a_sync_and_external_ids_stay_unique,
    rest_allocations_are_hand_made_and_syncs_leave_them,
    a_rest_delete_reopens_the_vacancy_its_person_filled,
);
