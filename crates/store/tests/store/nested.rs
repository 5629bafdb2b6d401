use flowstate_sync::{EntityType, NestedKind, nested::NestedCounts};
use serde_json::{Value, json};

use crate::helpers::TestStore;

fn person(allocations: Option<Value>) -> Value {
    let mut data = json!({ "firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.com" });
    if let Some(allocations) = allocations {
        data["teamAllocations"] = allocations;
    }
    data
}

fn counts(created: usize, updated: usize, deleted: usize, unchanged: usize) -> NestedCounts {
    NestedCounts { created, updated, deleted, unchanged }
}

fn teams(test: &crate::helpers::TestStore) -> Vec<(String, Option<String>, Option<String>)> {
    test.get(EntityType::Employee, "emp-1")["teamAllocations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row["teamId"].as_str().unwrap().to_string(),
                row["endDate"].as_str().map(str::to_string),
                row["sourceSystem"].as_str().map(str::to_string),
            )
        })
        .collect()
}

fn absent_leaves_rows_empty_list_deletes_present_diffs(test: TestStore) {
    let two = json!([{ "teamId": "T-a", "fte": 0.5, "startDate": "2026-01-01" }, { "teamId": "T-b", "teamName": "Bravo", "fte": 0.5, "startDate": "2026-01-01" }]);
    let outcome = test.apply(EntityType::Employee, &[("emp-1", person(Some(two)))]);
    assert_eq!(outcome.nested[&NestedKind::TeamAllocations], counts(2, 0, 0, 0));
    assert_eq!(test.get(EntityType::Team, "T-b")["name"], "Bravo", "unknown teams are created");

    // Absent: untouched (the record changed otherwise, so it was applied).
    let mut absent = person(None);
    absent["internalEmployeeId"] = json!("E1");
    let outcome = test.apply(EntityType::Employee, &[("emp-1", absent)]);
    assert_eq!(outcome.nested.get(&NestedKind::TeamAllocations), None);
    assert_eq!(teams(&test).len(), 2);

    // Present: diff. T-a changes fte, T-b is an orphan that started: ended the day before the
    // earliest new start... which is not after its own start, so the day before the sync.
    let outcome = test.apply(
        EntityType::Employee,
        &[("emp-1", person(Some(json!([{ "teamId": "T-a", "fte": 1.0, "startDate": "2026-01-01" }]))))],
    );
    assert_eq!(outcome.nested[&NestedKind::TeamAllocations], counts(0, 1, 1, 0));
    assert_eq!(
        teams(&test),
        [
            ("T-a".into(), None, Some("workday".into())),
            ("T-b".into(), Some("2026-05-14".into()), Some("workday".into()))
        ]
    );

    // []: every row of this source deleted.
    let outcome = test.apply(EntityType::Employee, &[("emp-1", person(Some(json!([]))))]);
    assert_eq!(outcome.nested[&NestedKind::TeamAllocations], counts(0, 0, 2, 0));
    assert!(teams(&test).is_empty());
}

/// Which orphans have started is judged on the organisation's date: at 12:30 UTC on 15 May
/// it is already 16 May in Auckland, so an allocation starting on the 15th has started there
/// (it is ended) but not in London (it is deleted).
fn today_is_the_organisations_date(test: TestStore) {
    let noon_thirty = |store: &flowstate_store::Store, org: &flowstate_store::OrgId, data: Value| {
        let at = chrono::DateTime::parse_from_rfc3339("2026-05-15T12:30:00Z").unwrap().with_timezone(&chrono::Utc);
        let records = crate::helpers::records(&[("emp-1", data)]);
        store.apply_page_at(org, "workday", EntityType::Employee, &records, at).unwrap()
    };
    let auckland = test.store.create_org("Kiwi", "Pacific/Auckland", "NZD").unwrap();
    for org in [&test.org, &auckland] {
        let first = json!([{ "teamId": "T-a", "fte": 1.0, "startDate": "2026-05-15" }]);
        noon_thirty(&test.store, org, person(Some(first)));
        let moved = json!([{ "teamId": "T-b", "fte": 1.0, "startDate": "2026-06-01" }]);
        noon_thirty(&test.store, org, person(Some(moved)));
    }
    let allocations = |org: &flowstate_store::OrgId| -> Vec<(String, Option<String>)> {
        let employee = test.store.find_by_external_id(org, EntityType::Employee, "emp-1").unwrap().unwrap();
        employee["teamAllocations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| (row["teamId"].as_str().unwrap().to_string(), row["endDate"].as_str().map(str::to_string)))
            .collect()
    };
    assert_eq!(allocations(&test.org), [("T-b".to_string(), None)], "London: T-a had not started, deleted");
    assert_eq!(
        allocations(&auckland),
        [("T-a".to_string(), Some("2026-05-31".to_string())), ("T-b".to_string(), None)],
        "Auckland: T-a had started, ended the day before T-b"
    );
}

fn rows_of_another_source_are_never_touched(test: TestStore) {
    test.apply_from(
        "bamboo",
        EntityType::Employee,
        &[("emp-1", person(Some(json!([{ "teamId": "T-x", "fte": 1, "startDate": "2026-01-01" }]))))],
        "2026-05-15",
    );
    let outcome = test.apply_from("workday", EntityType::Employee, &[("emp-1", person(Some(json!([]))))], "2026-05-15");
    assert_eq!(outcome.nested[&NestedKind::TeamAllocations], counts(0, 0, 0, 0));
    assert_eq!(teams(&test), [("T-x".into(), None, Some("bamboo".into()))]);
}

fn adjustments_are_history_diffed_by_effective_date(test: TestStore) {
    let mut data = person(None);
    data["salaryAdjustments"] = json!([
        { "effectiveDate": "2025-01-01", "salary": 80000, "currencyCode": "GBP" },
        { "effectiveDate": "2026-01-01", "salary": 90000, "bonus": 5000, "currencyCode": "GBP", "reason": "promotion" },
    ]);
    let outcome = test.apply(EntityType::Employee, &[("emp-1", data.clone())]);
    assert_eq!(outcome.nested[&NestedKind::SalaryAdjustments], counts(2, 0, 0, 0));
    data["salaryAdjustments"] = json!([{ "effectiveDate": "2026-01-01", "salary": 95000, "currencyCode": "GBP" }]);
    let outcome = test.apply(EntityType::Employee, &[("emp-1", data)]);
    assert_eq!(outcome.nested[&NestedKind::SalaryAdjustments], counts(0, 1, 1, 0));
    let stored = test.get(EntityType::Employee, "emp-1");
    assert_eq!(stored["salaryAdjustments"].as_array().unwrap().len(), 1);
    assert_eq!(stored["salaryAdjustments"][0]["salary"], 95000.0);
}

crate::on_both_backends!(
    today_is_the_organisations_date,
    absent_leaves_rows_empty_list_deletes_present_diffs,
    rows_of_another_source_are_never_touched,
    adjustments_are_history_diffed_by_effective_date,
);
