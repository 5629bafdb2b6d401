use flowstate_sync::EntityType;
use serde_json::json;

use crate::helpers::{TestStore, summary};

/// The five position lifecycle examples of the vacancies guide, in order.
fn the_position_lifecycle_examples_in_order(test: TestStore) {
    test.apply(
        EntityType::Employee,
        &[("EMP-ada-001", json!({ "firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.com" }))],
    );

    // 1. Open position is created.
    let outcome = test.apply_from(
        "workday",
        EntityType::Vacancy,
        &[(
            "POS-001",
            json!({
                "role": "Staff Engineer", "targetStartDate": "2026-03-01",
                "teamAllocations": [{ "teamId": "TEAM-platform", "fte": 1.0, "startDate": "2026-03-01" }],
            }),
        )],
        "2026-02-01",
    );
    assert_eq!(summary(&outcome), (1, 0, 0, 0, vec![]));
    let position = test.get(EntityType::Vacancy, "POS-001");
    assert_eq!((position["isFilled"].as_bool(), position["filledBy"].is_null()), (Some(false), true));

    // 2. Filled by an employee.
    let outcome = test.apply_from(
        "workday",
        EntityType::Vacancy,
        &[(
            "POS-001",
            json!({
                "role": "Staff Engineer", "targetStartDate": "2026-03-01",
                "teamAllocations": [{ "teamId": "TEAM-platform", "fte": 1.0, "startDate": "2026-03-01" }],
                "filledByExternalId": "EMP-ada-001",
            }),
        )],
        "2026-03-15",
    );
    assert_eq!(summary(&outcome), (0, 1, 0, 0, vec![]));
    let position = test.get(EntityType::Vacancy, "POS-001");
    assert_eq!(position["filledBy"]["type"], "employee");
    assert_eq!(position["filledBy"]["externalId"], "EMP-ada-001");
    assert_eq!(position["isFilled"], true);

    // 3. Person moves teams; the position follows: old allocation ended, new one created.
    let outcome = test.apply_from(
        "workday",
        EntityType::Vacancy,
        &[(
            "POS-001",
            json!({
                "role": "Staff Engineer",
                "teamAllocations": [{ "teamId": "TEAM-growth", "fte": 1.0, "startDate": "2026-06-01" }],
                "filledByExternalId": "EMP-ada-001",
            }),
        )],
        "2026-05-20",
    );
    assert_eq!(summary(&outcome).4, Vec::<String>::new());
    let position = test.get(EntityType::Vacancy, "POS-001");
    let allocations: Vec<(String, Option<String>)> = position["teamAllocations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| (row["teamId"].as_str().unwrap().into(), row["endDate"].as_str().map(str::to_string)))
        .collect();
    assert_eq!(allocations, [("TEAM-platform".into(), Some("2026-05-31".into())), ("TEAM-growth".into(), None)]);
    assert_eq!(position["filledBy"]["externalId"], "EMP-ada-001", "the filler stays");
    assert_eq!(position["targetStartDate"], "2026-03-01", "absent fields stay");

    // 4. Back on the original team and open again.
    let outcome = test.apply_from(
        "workday",
        EntityType::Vacancy,
        &[(
            "POS-001",
            json!({
                "role": "Staff Engineer",
                "teamAllocations": [{ "teamId": "TEAM-platform", "fte": 1.0, "startDate": "2026-03-01" }],
                "filledBy": null,
            }),
        )],
        "2026-07-01",
    );
    assert_eq!(summary(&outcome).4, Vec::<String>::new());
    let position = test.get(EntityType::Vacancy, "POS-001");
    assert_eq!((position["filledBy"].is_null(), position["isFilled"].as_bool()), (true, Some(false)));

    // 5. Person and position both end.
    let outcome = test.apply_from(
        "workday",
        EntityType::Vacancy,
        &[("POS-001", json!({ "deletedAt": "2026-08-01" }))],
        "2026-08-01",
    );
    assert_eq!(summary(&outcome), (0, 0, 0, 1, vec![]));
    assert!(test.get(EntityType::Vacancy, "POS-001").is_null());
}

fn fills_resolve_to_employee_or_contractor_and_report_ambiguous_and_not_found(test: TestStore) {
    test.apply(
        EntityType::Employee,
        &[
            ("P-1", json!({ "firstName": "A", "lastName": "B", "email": "a@example.com" })),
            ("SHARED", json!({ "firstName": "C", "lastName": "D", "email": "c@example.com" })),
        ],
    );
    test.apply(
        EntityType::Contractor,
        &[("C-1", json!({ "name": "Contractor" })), ("SHARED", json!({ "name": "Also shared" }))],
    );
    let outcome = test.apply(
        EntityType::Vacancy,
        &[
            ("V-emp", json!({ "role": "R", "filledBy": { "externalId": "P-1" } })),
            ("V-ctr", json!({ "role": "R", "filledByExternalId": "C-1" })),
            ("V-amb", json!({ "role": "R", "filledByExternalId": "SHARED" })),
            ("V-404", json!({ "role": "R", "filledByExternalId": "NOBODY" })),
        ],
    );
    assert_eq!(outcome.created, 2);
    let errors: Vec<(&str, Option<&str>, bool, bool)> = outcome
        .errors
        .iter()
        .map(|error| {
            (
                error.external_id.as_str(),
                error.field.as_deref(),
                error.message.contains("ambiguous"),
                error.message.contains("not found"),
            )
        })
        .collect();
    // The error names the key the record used.
    assert_eq!(
        errors,
        [("V-amb", Some("filledByExternalId"), true, false), ("V-404", Some("filledByExternalId"), false, true)]
    );
    let outcome =
        test.apply(EntityType::Vacancy, &[("V-obj", json!({ "role": "R", "filledBy": { "externalId": "NOBODY" } }))]);
    assert_eq!(outcome.errors[0].field.as_deref(), Some("filledBy"));
    assert!(
        outcome.errors[0].message.starts_with("filledBy filler \"NOBODY\" not found"),
        "{}",
        outcome.errors[0].message
    );
    assert_eq!(test.get(EntityType::Vacancy, "V-ctr")["filledBy"]["type"], "contractor");
    assert!(test.get(EntityType::Vacancy, "V-amb").is_null(), "the rejected vacancy was rolled back");
}

fn a_vacancy_is_open_again_when_its_filler_is_deleted_or_has_left(test: TestStore) {
    test.apply(
        EntityType::Employee,
        &[
            ("E-1", json!({ "firstName": "A", "lastName": "B", "email": "a@example.com" })),
            ("E-2", json!({ "firstName": "C", "lastName": "D", "email": "c@example.com", "endDate": "2026-01-31" })),
        ],
    );
    test.apply(
        EntityType::Vacancy,
        &[
            ("V-1", json!({ "role": "R", "filledByExternalId": "E-1" })),
            ("V-2", json!({ "role": "R", "filledByExternalId": "E-2" })),
        ],
    );
    assert_eq!(
        test.get(EntityType::Vacancy, "V-2")["isFilled"],
        false,
        "a filler whose end date passed leaves the vacancy open"
    );
    assert_eq!(test.get(EntityType::Vacancy, "V-1")["isFilled"], true);
    test.apply(EntityType::Employee, &[("E-1", json!({ "deletedAt": "2026-05-01" }))]);
    let vacancy = test.get(EntityType::Vacancy, "V-1");
    assert_eq!((vacancy["filledBy"].is_null(), vacancy["isFilled"].as_bool()), (true, Some(false)));
    let last = test.store.change_events(&test.org, 0).unwrap().into_iter().last().unwrap();
    assert_eq!((last.entity_type.as_str(), last.change_type.as_str()), ("vacancy", "update"));
}

crate::on_both_backends!(
    the_position_lifecycle_examples_in_order,
    fills_resolve_to_employee_or_contractor_and_report_ambiguous_and_not_found,
    a_vacancy_is_open_again_when_its_filler_is_deleted_or_has_left,
);
