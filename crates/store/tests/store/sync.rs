use flowstate_sync::{CustomFieldType, EntityType};
use serde_json::json;

use crate::helpers::{TestStore, summary};

fn ada() -> serde_json::Value {
    json!({ "firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.com", "startDate": "2024-03-15" })
}

fn grace() -> serde_json::Value {
    json!({ "firstName": "Grace", "lastName": "Hopper", "email": "grace@example.com" })
}

/// A re-run writes nothing but the time each record was last seen.
fn a_re_run_moves_only_last_synced_at(test: TestStore) {
    test.apply_from("workday", EntityType::Employee, &[("emp-1", ada())], "2026-05-15");
    let before = test.get(EntityType::Employee, "emp-1");
    let synced =
        |test: &TestStore| test.store.last_synced_at(&test.org, "workday", EntityType::Employee, "emp-1").unwrap();
    assert_eq!(synced(&test).as_deref(), Some("2026-05-15T12:00:00.000000Z"));
    test.apply_from("workday", EntityType::Employee, &[("emp-1", ada())], "2026-05-16");
    assert_eq!(synced(&test).as_deref(), Some("2026-05-16T12:00:00.000000Z"));
    assert_eq!(test.get(EntityType::Employee, "emp-1"), before);
    assert_eq!(test.store.last_synced_at(&test.org, "bamboo", EntityType::Employee, "emp-1").unwrap(), None);
}

fn a_first_sync_creates_and_the_same_page_again_changes_nothing(test: TestStore) {
    let page = [("emp-1", ada()), ("emp-2", grace())];
    assert_eq!(summary(&test.apply(EntityType::Employee, &page)), (2, 0, 0, 0, vec![]));
    let before = test.store.export(&test.org, EntityType::Employee).unwrap();
    let events = test.event_count();
    assert_eq!(events, 2);
    assert_eq!(summary(&test.apply(EntityType::Employee, &page)), (0, 0, 2, 0, vec![]));
    assert_eq!(test.store.export(&test.org, EntityType::Employee).unwrap(), before, "no updatedAt may move");
    assert_eq!(test.event_count(), events, "a no-op writes no event");
    assert_eq!(before[0]["firstName"], "Ada");
    assert_eq!(before[0]["externalId"], "emp-1");
}

fn a_changed_record_is_updated_with_before_and_after(test: TestStore) {
    test.apply(EntityType::Employee, &[("emp-1", ada()), ("emp-2", grace())]);
    let mut changed = ada();
    changed["lastName"] = json!("King");
    assert_eq!(
        summary(&test.apply(EntityType::Employee, &[("emp-1", changed), ("emp-2", grace())])),
        (0, 1, 1, 0, vec![])
    );
    let events = test.store.change_events(&test.org, 0).unwrap();
    let update = events.last().unwrap();
    assert_eq!(
        (update.entity_type.as_str(), update.change_type.as_str(), update.source.as_str()),
        ("employee", "update", "sync:workday")
    );
    assert_eq!(update.before.as_ref().unwrap()["lastName"], "Lovelace");
    assert_eq!(update.after.as_ref().unwrap()["lastName"], "King");
}

fn absent_fields_stay_and_null_clears(test: TestStore) {
    test.apply(EntityType::Employee, &[("emp-1", ada())]);
    test.apply(EntityType::Employee, &[("emp-1", json!({ "startDate": null, "internalEmployeeId": "E1" }))]);
    let stored = test.get(EntityType::Employee, "emp-1");
    assert_eq!(stored["firstName"], "Ada");
    assert_eq!(stored.get("startDate"), None);
    assert_eq!(stored["internalEmployeeId"], "E1");
}

fn records_match_by_source_first_then_by_external_id(test: TestStore) {
    test.apply_from("bamboo", EntityType::Employee, &[("emp-1", ada())], "2026-05-15");
    // Another source with the same externalId adopts the record instead of duplicating it.
    let outcome =
        test.apply_from("workday", EntityType::Employee, &[("emp-1", json!({ "firstName": "Augusta" }))], "2026-05-15");
    assert_eq!(summary(&outcome), (0, 1, 0, 0, vec![]));
    assert_eq!(test.count(EntityType::Employee), 1);
    assert_eq!(test.get(EntityType::Employee, "emp-1")["firstName"], "Augusta");
}

fn a_bad_record_is_reported_and_rolled_back_alone(test: TestStore) {
    let outcome = test.apply(
        EntityType::Employee,
        &[
            ("emp-1", ada()),
            ("emp-2", json!({ "firstName": "Bad", "lastName": "Email", "email": "nope" })),
            ("emp-3", json!({ "firstName": "No", "lastName": "Email" })),
            ("emp-4", json!({ "firstName": "Dup", "lastName": "Email", "email": "ADA@example.com" })),
            ("emp-5", grace()),
        ],
    );
    let fields: Vec<(String, Option<String>)> =
        outcome.errors.iter().map(|error| (error.external_id.clone(), error.field.clone())).collect();
    assert_eq!(
        fields,
        [
            ("emp-2".into(), Some("email".into())),
            ("emp-3".into(), Some("email".into())),
            ("emp-4".into(), Some("email".into()))
        ]
    );
    assert_eq!(
        summary(&outcome).4,
        [
            "email must be an email address, got \"nope\"",
            "email is required to create an employee",
            "email \"ada@example.com\" is already used by another employee",
        ]
    );
    assert_eq!((outcome.created, test.count(EntityType::Employee)), (2, 2));
    assert_eq!(test.event_count(), 2, "rejected records leave no event");
}

fn a_failure_inside_the_writes_rolls_back_that_records_nested_rows_too(test: TestStore) {
    test.apply(EntityType::Employee, &[("emp-1", ada())]);
    // Valid nested rows, then a taken email: nothing of emp-2 may remain, not even its team.
    let outcome = test.apply(
        EntityType::Employee,
        &[(
            "emp-2",
            json!({ "firstName": "X", "lastName": "Y", "email": "ada@example.com",
            "teamAllocations": [{ "teamId": "TEAM-new", "fte": 1, "startDate": "2026-01-01" }] }),
        )],
    );
    assert_eq!(outcome.errors.len(), 1);
    assert_eq!(test.count(EntityType::Team), 0);
    assert_eq!(test.count(EntityType::Employee), 1);
}

fn deleting_removes_the_entity_and_its_rows_and_deleting_nothing_is_a_no_op(test: TestStore) {
    let mut with_rows = ada();
    with_rows["teamAllocations"] = json!([{ "teamId": "T1", "fte": 1, "startDate": "2026-01-01" }]);
    with_rows["salaryAdjustments"] = json!([{ "effectiveDate": "2026-01-01", "salary": 90000, "currencyCode": "GBP" }]);
    test.apply(EntityType::Employee, &[("emp-1", with_rows)]);
    assert_eq!(
        summary(&test.apply(EntityType::Employee, &[("emp-1", json!({ "deletedAt": "2026-05-01" }))])),
        (0, 0, 0, 1, vec![])
    );
    assert_eq!(test.get(EntityType::Employee, "emp-1"), serde_json::Value::Null);
    assert_eq!(
        summary(&test.apply(EntityType::Employee, &[("emp-1", json!({ "deletedAt": "2026-05-01" }))])),
        (0, 0, 1, 0, vec![])
    );
    assert_eq!(
        summary(&test.apply(EntityType::Employee, &[("ghost", json!({ "deletedAt": "2026-05-01" }))])),
        (0, 0, 1, 0, vec![])
    );
    let last = test.store.change_events(&test.org, 0).unwrap().into_iter().last().unwrap();
    assert_eq!((last.change_type.as_str(), last.after.is_none()), ("delete", true));
    assert_eq!(last.before.unwrap()["teamAllocations"][0]["teamId"], "T1");
    // Re-created later: a new entity.
    assert_eq!(summary(&test.apply(EntityType::Employee, &[("emp-1", ada())])).0, 1);
}

fn custom_attributes_are_stored_by_definition(test: TestStore) {
    test.store
        .define_custom_attribute(&test.org, "Department", "department", CustomFieldType::String, &[EntityType::Project])
        .unwrap();
    test.store
        .define_custom_attribute(&test.org, "Budget", "budget", CustomFieldType::Number, &[EntityType::Project])
        .unwrap();
    let outcome = test.apply(
        EntityType::Project,
        &[
            ("P1", json!({ "name": "Apollo", "customAttributes": { "department": "R&D", "budget_approved": "Yes" } })),
            ("P2", json!({ "name": "Gemini", "customAttributes": { "budget": "lots" } })),
        ],
    );
    assert_eq!(summary(&outcome).4, ["customAttributes.budget must be a number, got a string"]);
    assert_eq!(test.get(EntityType::Project, "P1")["customAttributes"], json!({ "department": "R&D" }));
}

fn teams_form_a_tree_without_cycles(test: TestStore) {
    let outcome = test.apply(
        EntityType::Team,
        &[
            ("T-eng", json!({ "name": "Engineering" })),
            ("T-plat", json!({ "name": "Platform", "parentTeamExternalId": "T-eng" })),
            ("T-self", json!({ "name": "Self", "parentTeamExternalId": "T-self" })),
        ],
    );
    assert_eq!(summary(&outcome).4, ["parentTeamExternalId makes the team its own parent"]);
    let outcome =
        test.apply(EntityType::Team, &[("T-eng", json!({ "name": "Engineering", "parentTeamExternalId": "T-plat" }))]);
    assert_eq!(summary(&outcome).4, ["parentTeamExternalId \"T-plat\" would make a cycle"]);
}

fn assignments_link_resources_to_targets(test: TestStore) {
    test.apply(EntityType::Employee, &[("emp-1", ada())]);
    let outcome = test.apply(
        EntityType::Assignment,
        &[
            ("A1", json!({ "resourceType": "employee", "resourceExternalId": "emp-1", "targetType": "project", "targetExternalId": "P-new", "fte": 0.5, "startDate": "2026-01-01" })),
            ("A2", json!({ "resourceType": "employee", "resourceExternalId": "emp-404", "targetType": "team", "targetExternalId": "T", "fte": 0.5, "startDate": "2026-01-01" })),
        ],
    );
    assert_eq!(summary(&outcome), (1, 0, 0, 0, vec!["employee \"emp-404\" not found".to_string()]));
    let assignment = test.get(EntityType::Assignment, "A1");
    assert_eq!(
        (assignment["resourceExternalId"].as_str(), assignment["targetExternalId"].as_str()),
        (Some("emp-1"), Some("P-new"))
    );
    assert_eq!(test.get(EntityType::Project, "P-new")["name"], "P-new");
}

fn organisations_never_see_each_others_records(test: TestStore) {
    let other = test.store.create_org("Other", "UTC", "USD").unwrap();
    test.apply(EntityType::Employee, &[("emp-1", ada())]);
    // The same externalId and email in another organisation is another employee.
    let outcome = test
        .store
        .apply_page(&other, "workday", EntityType::Employee, &crate::helpers::records(&[("emp-1", ada())]))
        .unwrap();
    assert_eq!(summary(&outcome), (1, 0, 0, 0, vec![]));
    assert_eq!(test.store.export(&other, EntityType::Employee).unwrap().len(), 1);
    assert_eq!(test.count(EntityType::Employee), 1);
    assert_eq!(test.store.change_events(&other, 0).unwrap().len(), 1);
    let unknown = flowstate_store::OrgId::new("org_missing");
    assert_eq!(
        test.store.apply_page(&unknown, "workday", EntityType::Employee, &[]).unwrap_err().to_string(),
        "organisation org_missing does not exist"
    );
}

fn deleting_a_parent_team_leaves_its_children_at_the_top_with_an_event(test: TestStore) {
    test.apply(
        EntityType::Team,
        &[
            ("T-eng", json!({ "name": "Engineering" })),
            ("T-plat", json!({ "name": "Platform", "parentTeamExternalId": "T-eng" })),
        ],
    );
    assert_eq!(test.get(EntityType::Team, "T-plat")["parentTeamExternalId"], "T-eng");
    assert_eq!(
        summary(&test.apply(EntityType::Team, &[("T-eng", json!({ "deletedAt": "2026-05-01" }))])),
        (0, 0, 0, 1, vec![])
    );
    assert_eq!(test.get(EntityType::Team, "T-plat").get("parentTeamExternalId"), None);
    let last = test.store.change_events(&test.org, 0).unwrap().into_iter().last().unwrap();
    assert_eq!((last.entity_type.as_str(), last.change_type.as_str()), ("team", "update"));
    assert_eq!(last.before.unwrap()["parentTeamExternalId"], "T-eng");
}

/// The allocations to a deleted team go with it, and each resource that had one says so in
/// an update event (the PUSH side learns the employee left the team).
fn deleting_a_team_tells_the_resources_allocated_to_it(test: TestStore) {
    let mut person = ada();
    person["teamAllocations"] = json!([
        { "teamId": "T-eng", "fte": 0.5, "startDate": "2026-01-01" },
        { "teamId": "T-ops", "fte": 0.5, "startDate": "2026-01-01" },
    ]);
    test.apply(EntityType::Employee, &[("emp-1", person)]);
    let events = test.event_count();
    assert_eq!(
        summary(&test.apply_from(
            "workday",
            EntityType::Team,
            &[("T-eng", json!({ "deletedAt": "2026-05-01" }))],
            "2026-05-15"
        )),
        (0, 0, 0, 1, vec![])
    );
    let new_events: Vec<_> = test.store.change_events(&test.org, 0).unwrap().into_iter().skip(events).collect();
    let kinds: Vec<(&str, &str)> =
        new_events.iter().map(|event| (event.entity_type.as_str(), event.change_type.as_str())).collect();
    assert_eq!(kinds, [("team", "delete"), ("employee", "update")]);
    let team_ids = |value: &serde_json::Value| -> Vec<String> {
        value["teamAllocations"].as_array().unwrap().iter().map(|a| a["teamId"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(team_ids(new_events[1].before.as_ref().unwrap()), ["T-eng", "T-ops"]);
    assert_eq!(team_ids(new_events[1].after.as_ref().unwrap()), ["T-ops"]);
    assert_eq!(team_ids(&test.get(EntityType::Employee, "emp-1")), ["T-ops"]);
}

fn pairs_are_checked_against_the_stored_other_half(test: TestStore) {
    test.apply(EntityType::Employee, &[("emp-1", ada())]); // startDate 2024-03-15
    let outcome = test.apply(EntityType::Employee, &[("emp-1", json!({ "endDate": "2024-01-01" }))]);
    assert_eq!(summary(&outcome).4, ["endDate (2024-01-01) is before startDate (2024-03-15)"]);
    assert_eq!(outcome.errors[0].field.as_deref(), Some("endDate"));
    test.apply(EntityType::Vacancy, &[("V-1", json!({ "role": "R", "salaryMax": 90000 }))]);
    let outcome = test.apply(EntityType::Vacancy, &[("V-1", json!({ "salaryMin": 95000 }))]);
    assert_eq!(summary(&outcome).4, ["salaryMax (90000) is less than salaryMin (95000)"]);
    assert_eq!(outcome.errors[0].field.as_deref(), Some("salaryMin"));
}

fn creating_applies_defaults_and_reports_every_missing_field(test: TestStore) {
    test.apply(EntityType::Vacancy, &[("V-1", json!({ "role": "R" }))]);
    test.apply(EntityType::Project, &[("P-1", json!({ "name": "Apollo" }))]);
    let vacancy = test.get(EntityType::Vacancy, "V-1");
    assert_eq!((vacancy["status"].as_str(), vacancy["fte"].as_f64()), (Some("open"), Some(1.0)));
    assert_eq!(test.get(EntityType::Project, "P-1")["priority"], 0);
    let outcome = test.apply(EntityType::Employee, &[("emp-9", json!({}))]);
    let fields: Vec<&str> = outcome.errors.iter().filter_map(|error| error.field.as_deref()).collect();
    assert_eq!(fields, ["firstName", "lastName", "email"]);
}

fn a_team_deleted_and_referenced_again_in_one_page_is_created_anew(test: TestStore) {
    let outcome = test.apply(
        EntityType::Team,
        &[
            ("T-B", json!({ "name": "B", "parentTeamExternalId": "T-A" })),
            ("T-A", json!({ "deletedAt": "2026-01-01" })),
            ("T-C", json!({ "name": "C", "parentTeamExternalId": "T-A" })),
        ],
    );
    assert_eq!(summary(&outcome).4, Vec::<String>::new());
    assert_eq!(test.get(EntityType::Team, "T-C")["parentTeamExternalId"], "T-A");
    assert_eq!(test.get(EntityType::Team, "T-A")["name"], "T-A");
}

fn custom_attribute_definitions_are_checked(test: TestStore) {
    let define = |key: &str, entities: &[EntityType]| {
        test.store
            .define_custom_attribute(&test.org, key, key, CustomFieldType::String, entities)
            .map_err(|error| error.to_string())
    };
    assert!(define("Cost Centre", &[EntityType::Project]).unwrap_err().contains("must be lowercase letters"));
    assert!(define("cost_centre", &[EntityType::Assignment]).unwrap_err().contains("entityTypes"));
    define("cost_centre", &[EntityType::Project]).unwrap();
    assert!(define("cost_centre", &[EntityType::Project]).unwrap_err().contains("already defined"));
}

/// Each record of this page is valid in turn, but written as one batch the final rows
/// collide midway (A takes w while B still has it): the database refuses the batch and the
/// page is applied again record by record, with the same result a record-at-a-time sync
/// gives.
fn a_batch_the_database_refuses_is_applied_record_by_record(test: TestStore) {
    let person = |first: &str, email: &str| json!({ "firstName": first, "lastName": "Test", "email": email });
    test.apply(
        EntityType::Employee,
        &[("emp-a", person("A", "x@example.com")), ("emp-b", person("B", "w@example.com"))],
    );
    let rotation = [
        ("emp-a", person("A", "z@example.com")),
        ("emp-b", person("B", "x@example.com")),
        ("emp-a", person("A", "w@example.com")),
    ];
    assert_eq!(summary(&test.apply(EntityType::Employee, &rotation)), (0, 3, 0, 0, vec![]));
    assert_eq!(test.get(EntityType::Employee, "emp-a")["email"], "w@example.com");
    assert_eq!(test.get(EntityType::Employee, "emp-b")["email"], "x@example.com");
    assert_eq!(test.event_count(), 5, "two creates, three updates: one event per change, none doubled");
}

crate::on_both_backends!(
    a_re_run_moves_only_last_synced_at,
    a_first_sync_creates_and_the_same_page_again_changes_nothing,
    a_changed_record_is_updated_with_before_and_after,
    absent_fields_stay_and_null_clears,
    records_match_by_source_first_then_by_external_id,
    a_bad_record_is_reported_and_rolled_back_alone,
    a_failure_inside_the_writes_rolls_back_that_records_nested_rows_too,
    deleting_removes_the_entity_and_its_rows_and_deleting_nothing_is_a_no_op,
    custom_attributes_are_stored_by_definition,
    teams_form_a_tree_without_cycles,
    assignments_link_resources_to_targets,
    organisations_never_see_each_others_records,
    deleting_a_parent_team_leaves_its_children_at_the_top_with_an_event,
    pairs_are_checked_against_the_stored_other_half,
    deleting_a_team_tells_the_resources_allocated_to_it,
    creating_applies_defaults_and_reports_every_missing_field,
    a_team_deleted_and_referenced_again_in_one_page_is_created_anew,
    custom_attribute_definitions_are_checked,
    a_batch_the_database_refuses_is_applied_record_by_record,
    text_with_a_nul_character_is_refused_per_record,
);

/// Text holding U+0000 (which a PostgreSQL text column cannot store) is a per-record error
/// naming the field, on both backends; the rest of the page is written.
fn text_with_a_nul_character_is_refused_per_record(test: TestStore) {
    let outcome = test.apply(
        EntityType::Employee,
        &[
            ("E-1", json!({ "firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.com" })),
            ("E-\u{0}2", json!({ "firstName": "Nul", "lastName": "Key", "email": "key@example.com" })),
            ("E-3", json!({ "firstName": "Nul\u{0}", "lastName": "Field", "email": "field@example.com" })),
            (
                "E-4",
                json!({ "firstName": "Nul", "lastName": "Team", "email": "team@example.com",
                        "teamAllocations": [{ "teamId": "T\u{0}1", "fte": 1, "startDate": "2026-01-01" }] }),
            ),
        ],
    );
    let fields: Vec<Option<String>> = outcome.errors.iter().map(|error| error.field.clone()).collect();
    assert_eq!(
        fields,
        [Some("externalId".to_string()), Some("firstName".to_string()), Some("teamAllocations[0].teamId".to_string())],
        "{:?}",
        outcome.errors
    );
    assert_eq!(outcome.errors[1].message, "firstName must not contain the NUL character (U+0000)");
    assert_eq!(outcome.created, 1);
    let vacancy = test.apply(EntityType::Vacancy, &[("V-1", json!({ "role": "R", "filledByExternalId": "E\u{0}1" }))]);
    assert_eq!(vacancy.errors[0].field.as_deref(), Some("filledByExternalId"), "{:?}", vacancy.errors);
}

/// Two processes (here: two stores, each with its own connection) syncing into one SQLite
/// file wait for each other's writes; neither is told "database is locked".
#[test]
fn two_writers_on_one_sqlite_file_wait_for_each_other() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("flowstate.db");
    let first = flowstate_store::Store::open_sqlite(&path).unwrap();
    let org = first.create_org("Acme", "Europe/London", "GBP").unwrap();
    let second = flowstate_store::Store::open_sqlite(&path).unwrap();
    let write = |store: &flowstate_store::Store, source: &str| {
        for page in 0..30 {
            let list: Vec<(String, serde_json::Value)> = (0..20)
                .map(|index| {
                    let id = format!("{source}-{page}-{index}");
                    let record = json!({ "firstName": "A", "lastName": "B", "email": format!("{id}@example.com") });
                    (id, record)
                })
                .collect();
            let list: Vec<(&str, serde_json::Value)> =
                list.iter().map(|(id, data)| (id.as_str(), data.clone())).collect();
            let outcome =
                store.apply_page(&org, source, EntityType::Employee, &crate::helpers::records(&list)).unwrap();
            assert_eq!(outcome.created, 20);
        }
    };
    std::thread::scope(|scope| {
        scope.spawn(|| write(&first, "workday"));
        scope.spawn(|| write(&second, "bamboo"));
    });
    assert_eq!(first.export(&org, EntityType::Employee).unwrap().len(), 1200);
}

/// What the store commits reaches the database file itself soon after, copied by the
/// store's checkpoint thread, while the store stays open and long before the WAL holds the
/// 20,000 pages at which the committing connection would copy it: a single statement (an
/// organisation created) as well as a sync's page.
#[test]
fn committed_pages_reach_the_database_file_in_the_background() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("flowstate.db");
    let store = flowstate_store::Store::open_sqlite(&path).unwrap();
    // A copy of the database file alone (no WAL beside it) holds only what was checkpointed.
    let copy = directory.path().join("copy.db");
    let in_file = |table: &str| {
        std::fs::copy(&path, &copy).ok()?;
        let connection = rusqlite::Connection::open(&copy).ok()?;
        connection.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |row| row.get::<_, i64>(0)).ok()
    };
    let wait_for = |table: &str, rows: i64| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while in_file(table) != Some(rows) {
            assert!(std::time::Instant::now() < deadline, "{table} is still only in the WAL: {:?}", in_file(table));
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    };
    let org = store.create_org("Acme", "Europe/London", "GBP").unwrap();
    wait_for("organizations", 1);
    let list: Vec<(String, serde_json::Value)> = (0..50)
        .map(|index| {
            (
                format!("E{index}"),
                json!({ "firstName": "A", "lastName": "B", "email": format!("e{index}@example.com") }),
            )
        })
        .collect();
    let list: Vec<(&str, serde_json::Value)> = list.iter().map(|(id, data)| (id.as_str(), data.clone())).collect();
    let outcome = store.apply_page(&org, "workday", EntityType::Employee, &crate::helpers::records(&list)).unwrap();
    assert_eq!(outcome.created, 50);
    wait_for("employees", 50);
    drop(store);
}

/// PostgreSQL: the tables a sync fills are analyzed as they grow (here where autovacuum is
/// off, or has not come round yet), so the planner sees their size: after 1,000 rows and
/// again each time they doubled.
#[test]
fn postgres_statistics_follow_the_tables_a_sync_fills() {
    // A schema of its own: other tests' rows would move the sizes.
    let Some(url) = flowstate_test_support::postgres_schema("statistics") else { return };
    let store = flowstate_store::Store::open_postgres(&url).unwrap();
    let org = store.create_org("Acme", "Europe/London", "GBP").unwrap();
    let mut client = ::postgres::Client::connect(&url, ::postgres::NoTls).unwrap();
    let believed = |client: &mut ::postgres::Client, table: &str| -> i64 {
        client
            .query_one("SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass($1)", &[&table])
            .unwrap()
            .get(0)
    };
    for page in 0..2 {
        let list: Vec<(String, serde_json::Value)> = (0..1000)
            .map(|index| {
                let id = format!("E-{page}-{index}");
                let record = json!({
                    "firstName": "A", "lastName": "B", "email": format!("{id}@example.com"),
                    "teamAllocations": [{ "teamId": "T1", "fte": 0.5, "startDate": "2026-01-01" }],
                });
                (id, record)
            })
            .collect();
        let list: Vec<(&str, serde_json::Value)> = list.iter().map(|(id, data)| (id.as_str(), data.clone())).collect();
        let outcome = store.apply_page(&org, "workday", EntityType::Employee, &crate::helpers::records(&list)).unwrap();
        assert_eq!(outcome.created, 1000);
        // -1: never analyzed.
        let expected = 1000 * (page + 1);
        for table in ["employees", "sync_state", "assignments"] {
            assert_eq!(believed(&mut client, table), expected, "{table} after page {page}");
        }
    }
}
