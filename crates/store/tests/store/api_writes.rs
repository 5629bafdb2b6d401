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
    assert!(matches!(test.store.write_entity(&test.org, EntityType::Employee, gone), Err(StoreError::NotFound(_))));
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

fn fill(
    test: &TestStore,
    vacancy: &str,
    filler: EntityType,
    body: Value,
) -> Result<flowstate_store::Filled, StoreError> {
    test.store.fill_vacancy(&test.org, vacancy, filler, &object(body))
}

/// `POST /vacancies/{id}/fill`: the filler is created, takes over the vacancy's
/// allocations, and the vacancy is filled — all of it or, on any error, none of it.
fn a_rest_fill_creates_the_filler_and_moves_the_allocations_to_it(test: TestStore) {
    test.apply(
        EntityType::Vacancy,
        &[
            ("VAC-1", json!({ "role": "Engineer", "teamAllocations": [{ "teamId": "T-1", "fte": 0.5, "startDate": "2026-01-01" }] })),
            ("VAC-2", json!({ "role": "Designer" })),
        ],
    );
    test.apply(EntityType::Employee, &[("EMP-1", ada())]);
    test.apply(
        EntityType::Assignment,
        &[("ASG-1", json!({ "resourceType": "vacancy", "resourceExternalId": "VAC-1", "targetType": "project", "targetExternalId": "P-1", "fte": 0.2, "startDate": "2026-01-01" }))],
    );
    let before_fill = test.event_count();

    // Any error: nothing of the fill is written.
    let taken = json!({ "firstName": "B", "lastName": "C", "email": "ADA@example.com", "startDate": "2026-03-01" });
    let Ok(flowstate_store::Filled::Rejected(errors)) = fill(&test, "VAC-1", EntityType::Employee, taken) else {
        panic!("a taken email is refused");
    };
    assert_eq!(errors[0].field.as_deref(), Some("email"), "{errors:?}");
    let missing = json!({ "firstName": "B" });
    let Ok(flowstate_store::Filled::Rejected(errors)) = fill(&test, "VAC-1", EntityType::Employee, missing) else {
        panic!("missing fields are refused");
    };
    let fields: Vec<&str> = errors.iter().filter_map(|error| error.field.as_deref()).collect();
    assert_eq!(fields, ["lastName", "email", "startDate"]);
    assert_eq!(test.event_count(), before_fill, "nothing written");
    assert_eq!(test.get(EntityType::Vacancy, "VAC-1")["teamAllocations"].as_array().unwrap().len(), 1);

    let body = json!({ "externalId": "EMP-2", "firstName": "Grace", "lastName": "Hopper", "email": "grace@example.com", "startDate": "2026-03-01",
        "salary": { "effectiveDate": "2026-03-01", "salary": 90000, "currencyCode": "GBP" } });
    let Ok(flowstate_store::Filled::Done { vacancy, filler }) = fill(&test, "VAC-1", EntityType::Employee, body) else {
        panic!("the fill is done");
    };
    assert_eq!((vacancy["status"].clone(), vacancy["isFilled"].clone()), (json!("filled"), json!(true)));
    assert_eq!(vacancy["filledBy"], json!({ "type": "employee", "id": filler["id"], "externalId": "EMP-2" }));
    assert_eq!(vacancy["teamAllocations"], json!([]), "moved away");
    assert_eq!(filler["teamAllocations"][0]["teamId"], "T-1");
    assert_eq!(filler["teamAllocations"][0]["sourceSystem"], "workday", "moved, not copied");
    assert_eq!(filler["salaryAdjustments"][0]["salary"], 90000.0);
    let events = test.store.change_events(&test.org, 0).unwrap();
    let new: Vec<(&str, &str, &str)> = events[before_fill..]
        .iter()
        .map(|event| (event.entity_type.as_str(), event.change_type.as_str(), event.source.as_str()))
        .collect();
    assert_eq!(new, [("employee", "create", "api"), ("assignment", "update", "api"), ("vacancy", "update", "api")]);
    let moved = events[before_fill + 1].after.as_ref().unwrap();
    assert_eq!(
        (moved["resourceType"].clone(), moved["resourceExternalId"].clone()),
        (json!("employee"), json!("EMP-2")),
        "{moved}"
    );
    assert_eq!(events[before_fill].after.as_ref().unwrap()["teamAllocations"][0]["teamId"], "T-1");

    let again = json!({ "firstName": "X", "lastName": "Y", "email": "x@example.com", "startDate": "2026-03-01" });
    assert!(
        matches!(fill(&test, "VAC-1", EntityType::Employee, again), Err(StoreError::Conflict(_))),
        "filled already"
    );
    assert!(matches!(fill(&test, "VAC-404", EntityType::Employee, json!({})), Err(StoreError::NotFound(_))));

    let contractor = json!({ "name": "Studio Ltd", "rate": 600, "rateType": "daily", "currencyCode": "EUR", "startDate": "2026-04-01" });
    let Ok(flowstate_store::Filled::Done { vacancy, filler }) =
        fill(&test, "VAC-2", EntityType::Contractor, contractor)
    else {
        panic!("a contractor fills too");
    };
    assert_eq!(vacancy["filledBy"]["type"], "contractor");
    assert_eq!(filler["externalId"], Value::Null);
    assert_eq!(filler["rateAdjustments"][0]["effectiveDate"], "2026-04-01");
}

/// Adjustments are history: an append adds a row or replaces the one of its date, keeps
/// the rest (a sync's included) and tells PUSH hooks with an update.
fn appending_an_adjustment_keeps_the_history(test: TestStore) {
    let mut employee = ada();
    employee["salaryAdjustments"] = json!([{ "effectiveDate": "2026-01-01", "salary": 50000, "currencyCode": "GBP" }]);
    test.apply(EntityType::Employee, &[("EMP-1", employee)]);
    let id = test.get(EntityType::Employee, "EMP-1")["id"].as_str().unwrap().to_string();
    let append = |salary: f64| EntityWrite::Append {
        id: id.clone(),
        data: object(
            json!({ "salaryAdjustments": [{ "effectiveDate": "2026-06-01", "salary": salary, "currencyCode": "GBP", "reason": "promotion" }] }),
        ),
    };
    let salaries = |value: &Value| -> Vec<(String, f64)> {
        value["salaryAdjustments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| (row["effectiveDate"].as_str().unwrap().to_string(), row["salary"].as_f64().unwrap()))
            .collect()
    };
    entity(test.store.write_entity(&test.org, EntityType::Employee, append(60000.0)).unwrap());
    let first = entity(test.store.write_entity(&test.org, EntityType::Employee, append(61000.0)).unwrap());
    assert_eq!(
        salaries(&first),
        [("2026-01-01".to_string(), 50000.0), ("2026-06-01".to_string(), 61000.0)],
        "replaced by date"
    );
    let second = EntityWrite::Append {
        id: id.clone(),
        data: object(
            json!({ "salaryAdjustments": [{ "effectiveDate": "2026-09-01", "salary": 70000, "currencyCode": "GBP" }] }),
        ),
    };
    let written = entity(test.store.write_entity(&test.org, EntityType::Employee, second).unwrap());
    assert_eq!(salaries(&written).len(), 3, "nothing removed: {written}");
    let last = test.store.change_events(&test.org, 0).unwrap().pop().unwrap();
    assert_eq!((last.change_type.as_str(), last.source.as_str()), ("update", "api"));
}

crate::on_both_backends!(
    rest_writes_follow_the_sync_rules_and_emit_api_events,
    rest_created_entities_are_adopted_by_a_sync_and_external_ids_stay_unique,
    rest_allocations_are_hand_made_and_syncs_leave_them,
    a_rest_delete_reopens_the_vacancy_its_person_filled,
    a_rest_fill_creates_the_filler_and_moves_the_allocations_to_it,
    appending_an_adjustment_keeps_the_history,
);

/// A resource's nested allocation is not an Assignment entity: over the API it is neither
/// found, changed nor deleted by its id (only through its resource).
#[test]
fn a_nested_allocation_is_not_an_assignment_entity_over_the_api() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("flowstate.db");
    let store = flowstate_store::Store::open_sqlite(&path).unwrap();
    let org = store.create_org("Acme", "Europe/London", "GBP").unwrap();
    let mut employee = ada();
    employee["teamAllocations"] = json!([{ "teamId": "T-1", "fte": 0.5, "startDate": "2026-01-01" }]);
    let records = crate::helpers::records(&[("EMP-1", employee)]);
    store.apply_page(&org, "workday", EntityType::Employee, &records).unwrap();
    let allocation: String = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("SELECT id FROM assignments WHERE external_id IS NULL", [], |row| row.get(0))
        .unwrap();
    assert_eq!(store.find(&org, EntityType::Assignment, &allocation).unwrap(), None);
    let update = EntityWrite::Update { id: allocation.clone(), data: object(json!({ "fte": 1.0 })) };
    assert!(matches!(store.write_entity(&org, EntityType::Assignment, update), Err(StoreError::NotFound(_))));
    let delete = EntityWrite::Delete { id: allocation };
    store.write_entity(&org, EntityType::Assignment, delete).unwrap();
    let after = store.find_by_external_id(&org, EntityType::Employee, "EMP-1").unwrap().unwrap();
    assert_eq!(after["teamAllocations"][0]["fte"], 0.5, "untouched: {after}");
}

/// Two fills of one vacancy at once (two stores, as two servers would have): one fills it,
/// the other is told it is filled already; never two fillers.
fn two_fills_race(first: flowstate_store::Store, second: flowstate_store::Store, org: flowstate_store::OrgId) {
    let vacancy = crate::helpers::records(&[("VAC-1", json!({ "role": "Engineer" }))]);
    first.apply_page(&org, "workday", EntityType::Vacancy, &vacancy).unwrap();
    let fill = |store: &flowstate_store::Store, n: usize| {
        let body = object(
            json!({ "firstName": "F", "lastName": "L", "email": format!("f{n}@example.com"), "startDate": "2026-01-01" }),
        );
        store.fill_vacancy(&org, "VAC-1", EntityType::Employee, &body)
    };
    for round in 0..5 {
        let results = std::thread::scope(|scope| {
            let a = scope.spawn(|| fill(&first, round * 2));
            let b = scope.spawn(|| fill(&second, round * 2 + 1));
            [a.join().unwrap(), b.join().unwrap()]
        });
        let done = results.iter().filter(|result| matches!(result, Ok(flowstate_store::Filled::Done { .. }))).count();
        let conflicts = results.iter().filter(|result| matches!(result, Err(StoreError::Conflict(_)))).count();
        assert_eq!((done, conflicts), (1, 1), "round {round}: {results:?}");
        // Open it again for the next round: the filler leaves.
        let filler =
            first.find_by_external_id(&org, EntityType::Vacancy, "VAC-1").unwrap().unwrap()["filledBy"]["id"].clone();
        let delete = EntityWrite::Delete { id: filler.as_str().unwrap().to_string() };
        assert_eq!(first.write_entity(&org, EntityType::Employee, delete).unwrap(), Written::Deleted);
    }
}

#[test]
fn two_fills_of_one_vacancy_fill_it_once_on_sqlite() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("flowstate.db");
    let first = flowstate_store::Store::open_sqlite(&path).unwrap();
    let org = first.create_org("Acme", "Europe/London", "GBP").unwrap();
    two_fills_race(first, flowstate_store::Store::open_sqlite(&path).unwrap(), org);
}

#[test]
fn two_fills_of_one_vacancy_fill_it_once_on_postgres() {
    let Some(url) = flowstate_test_support::postgres_schema("fill_race") else { return };
    let first = flowstate_store::Store::open_postgres(&url).unwrap();
    let org = first.create_org("Acme", "Europe/London", "GBP").unwrap();
    two_fills_race(first, flowstate_store::Store::open_postgres(&url).unwrap(), org);
}
