use flowstate_sync::{
    CustomAttributeDefinition, CustomFieldType, EntityType, FieldChange, FieldValue, FillChange, Fingerprint,
    NestedKind, RecordAction, parse_record,
};
use serde_json::{Value, json};

fn definitions() -> Vec<CustomAttributeDefinition> {
    vec![
        CustomAttributeDefinition { attribute_key: "department".into(), field_type: CustomFieldType::String },
        CustomAttributeDefinition { attribute_key: "budget".into(), field_type: CustomFieldType::Number },
        CustomAttributeDefinition { attribute_key: "review".into(), field_type: CustomFieldType::Date },
        CustomAttributeDefinition { attribute_key: "contract".into(), field_type: CustomFieldType::DateRange },
    ]
}

/// Parses `data` and returns the error messages ("" when it is valid).
fn problems(entity: EntityType, data: Value) -> Vec<String> {
    match parse_record(entity, "rec-1", data.as_object().unwrap(), &definitions()) {
        Ok(_) => Vec::new(),
        Err(errors) => {
            assert!(errors.iter().all(|error| error.external_id == "rec-1" && error.field.is_some()));
            errors.into_iter().map(|error| error.message).collect()
        }
    }
}

fn upsert(entity: EntityType, data: Value) -> flowstate_sync::Upsert {
    match parse_record(entity, "rec-1", data.as_object().unwrap(), &definitions()).unwrap().action {
        RecordAction::Upsert(upsert) => upsert,
        other => panic!("expected an upsert, got {other:?}"),
    }
}

#[test]
fn the_guides_examples_are_valid() {
    let employee = json!({ "firstName": "Jane", "lastName": "Smith", "email": "jane.smith@example.com", "startDate": "2024-03-15",
        "internalEmployeeId": "E00001", "endDate": null });
    assert_eq!(problems(EntityType::Employee, employee), Vec::<String>::new());
    let contractor = json!({ "name": "Contractor 1", "email": "c1@example.com", "rate": 55, "currencyCode": "GBP" });
    assert_eq!(problems(EntityType::Contractor, contractor), Vec::<String>::new());
    let project = json!({ "name": "Apollo", "description": "x", "projectCode": "AP-1", "startDate": "2026-01-01", "endDate": "2026-12-31",
        "priority": 2, "customAttributes": { "department": "R&D", "budget_approved": "Yes" } });
    assert_eq!(problems(EntityType::Project, project), Vec::<String>::new());
    let vacancy = json!({ "role": "Staff Engineer", "targetStartDate": "2026-03-01",
        "teamAllocations": [{ "teamId": "TEAM-platform", "fte": 1.0, "startDate": "2026-03-01" }], "filledByExternalId": "EMP-ada-001" });
    assert_eq!(problems(EntityType::Vacancy, vacancy), Vec::<String>::new());
}

#[test]
fn each_invalid_field_is_named() {
    use EntityType::*;
    let cases: Vec<(EntityType, Value, Vec<&str>)> = vec![
        (
            Employee,
            json!({ "firstName": null, "lastName": "", "email": "x@" }),
            vec![
                "email must be an email address, got \"x@\"",
                "firstName is required and cannot be null",
                "lastName is required and cannot be blank",
            ],
        ),
        (
            Employee,
            json!({ "startDate": "03/15/2024", "endDate": 20240315, "noticeDate": "2024-02-30" }),
            vec![
                "endDate must be a date (YYYY-MM-DD), got a number",
                "noticeDate must be a date (YYYY-MM-DD), got \"2024-02-30\"",
                "startDate must be a date (YYYY-MM-DD), got \"03/15/2024\"",
            ],
        ),
        (
            Employee,
            json!({ "startDate": "2024-05-01", "endDate": "2024-04-30" }),
            vec!["endDate (2024-04-30) is before startDate (2024-05-01)"],
        ),
        (Employee, json!({ "fristName": "Ada" }), vec!["fristName is not a field of employee"]),
        (
            Employee,
            json!({ "defaultCurrencyCode": "gbp", "jobRole": { "name": "x" } }),
            vec![
                "defaultCurrencyCode must be an ISO 4217 currency code such as GBP, got \"gbp\"",
                "jobRole must have a title of 1 to 255 characters",
            ],
        ),
        (
            Contractor,
            json!({ "rateType": "weekly", "rate": -5, "name": "x".repeat(256) }),
            vec![
                "name is 256 characters long, more than the limit of 255",
                "rate must be an amount between 0 and 10^15, got -5",
                "rateType must be one of hourly, daily, monthly, got \"weekly\"",
            ],
        ),
        (
            Vacancy,
            json!({ "fte": 1.5, "salaryMin": 90000, "salaryMax": 80000, "status": "closed" }),
            vec![
                "fte must be between 0 and 1, got 1.5",
                "status must be one of open, filled, cancelled, on_hold, got \"closed\"",
                "salaryMax (80000.0) is less than salaryMin (90000.0)",
            ],
        ),
        (
            Vacancy,
            json!({ "filledBy": { "id": "x" }, "filledByExternalId": 5.5 }),
            vec!["filledBy.externalId must be a non-empty string"],
        ),
        (
            Vacancy,
            json!({ "filledBy": { "externalId": "A" }, "filledByExternalId": "B" }),
            vec!["filledByExternalId disagrees with the other of filledBy and filledByExternalId"],
        ),
        (Project, json!({ "priority": 1.5 }), vec!["priority must be a whole number, got a fraction"]),
        (
            Project,
            json!({ "customAttributes": { "budget": "lots", "review": "soon", "contract": { "start": "2026-01-01", "end": "2025-01-01" }, "unknown": 1 } }),
            vec![
                "customAttributes.budget must be a number, got a string",
                "customAttributes.contract end is before start",
                "customAttributes.review must be a date (YYYY-MM-DD), got \"soon\"",
            ],
        ),
        (
            Employee,
            json!({ "teamAllocations": [{ "teamId": "T", "fte": 12, "startDate": "2026-01-01" }, { "fte": 1, "startDate": "x", "extra": 1 }, "row"] }),
            vec![
                "teamAllocations[0].fte must be between 0 and 10, got 12",
                "teamAllocations[1].extra is not a field of teamAllocations rows",
                "teamAllocations[1].teamId is required",
                "teamAllocations[1].startDate must be a date (YYYY-MM-DD), got \"x\"",
                "teamAllocations[2] must be an object, got a string",
            ],
        ),
        (
            Employee,
            json!({ "teamAllocations": [{ "teamId": "T", "fte": 1, "startDate": "2026-01-01" }, { "teamId": "T", "fte": 0.5, "startDate": "2026-01-01" }] }),
            vec!["teamAllocations[1] duplicates teamAllocations[0] (the same teamId and startDate)"],
        ),
        (
            Employee,
            json!({ "salaryAdjustments": [{ "effectiveDate": "2026-01-01", "salary": 50000 }], "rateAdjustments": [] }),
            vec!["rateAdjustments is not a field of employee", "salaryAdjustments[0].currencyCode is required"],
        ),
        (
            Contractor,
            json!({ "rateAdjustments": [{ "effectiveDate": "2026-01-01", "rate": 500, "currencyCode": "EUR" }] }),
            vec!["rateAdjustments[0].rateType is required"],
        ),
        (Employee, json!({ "teamAllocations": null }), vec!["teamAllocations must be an array, got null"]),
        (
            Employee,
            json!({ "deletedAt": "yesterday" }),
            vec!["deletedAt must be a date (YYYY-MM-DD), got \"yesterday\""],
        ),
        (Team, json!({ "name": "Platform", "filledBy": null }), vec!["filledBy is not a field of team"]),
        (
            Team,
            json!({ "name": "Platform", "parentTeamExternalId": " " }),
            vec!["parentTeamExternalId must not be blank"],
        ),
        (
            Employee,
            json!({ "startDate": " 2024-1-05", "endDate": "+024-01-05" }),
            vec![
                "endDate must be a date (YYYY-MM-DD), got \"+024-01-05\"",
                "startDate must be a date (YYYY-MM-DD), got \" 2024-1-05\"",
            ],
        ),
        (Project, json!({ "priority": 1e20 }), vec!["priority must be between -2147483648 and 2147483647, got 1e+20"]),
    ];
    for (entity, data, expected) in cases {
        let mut got = problems(entity, data.clone());
        let mut expected: Vec<String> = expected.into_iter().map(str::to_string).collect();
        got.sort();
        expected.sort();
        assert_eq!(got, expected, "{entity}: {data}");
    }
}

#[test]
fn absent_null_and_present_are_three_different_things() {
    let parsed = upsert(EntityType::Vacancy, json!({ "role": "SRE", "description": null, "fte": 0.5 }));
    assert_eq!(parsed.fields.get("role"), Some(&FieldChange::Set(FieldValue::Text("SRE".into()))));
    assert_eq!(parsed.fields.get("description"), Some(&FieldChange::Clear));
    assert_eq!(parsed.fields.get("targetStartDate"), None);
    assert_eq!(parsed.fill, FillChange::Untouched);
    assert!(parsed.nested.is_empty(), "absent arrays stay absent");

    let parsed = upsert(EntityType::Vacancy, json!({ "teamAllocations": [], "filledBy": null }));
    assert_eq!(parsed.nested.get(&NestedKind::TeamAllocations), Some(&Vec::new()));
    assert_eq!(parsed.fill, FillChange::Clear);
    assert_eq!(
        upsert(EntityType::Vacancy, json!({ "filledBy": { "externalId": "EMP-1" } })).fill,
        FillChange::Set("EMP-1".into())
    );
    assert_eq!(
        upsert(EntityType::Vacancy, json!({ "filledByExternalId": "EMP-1" })).fill,
        FillChange::Set("EMP-1".into())
    );
    assert_eq!(upsert(EntityType::Vacancy, json!({ "filledByExternalId": null })).fill, FillChange::Clear);
}

#[test]
fn custom_attributes_are_kept_ignored_or_cleared() {
    let parsed = upsert(
        EntityType::Project,
        json!({ "customAttributes": { "department": "Ops", "budget": 5, "nope": "x", "review": null,
        "contract": { "start": "2026-01-01", "end": null } } }),
    );
    let keys: Vec<&str> = parsed.custom_attributes.keys().map(String::as_str).collect();
    assert_eq!(keys, ["budget", "contract", "department", "review"]);
    assert_eq!(parsed.custom_attributes["review"], None);
    assert_eq!(parsed.custom_attributes["department"], Some(json!("Ops")));
}

#[test]
fn money_rounds_to_cents_and_job_roles_take_both_shapes() {
    let parsed =
        upsert(EntityType::Vacancy, json!({ "salaryMin": 1000.125, "jobRole": { "title": "SRE", "externalId": 12 } }));
    assert_eq!(parsed.fields["salaryMin"], FieldChange::Set(FieldValue::Number(1000.13)));
    assert_eq!(
        parsed.fields["jobRole"],
        FieldChange::Set(FieldValue::JobRole { title: "SRE".into(), external_id: Some("12".into()) })
    );
    let parsed = upsert(EntityType::Employee, json!({ "jobRole": "Engineer" }));
    assert_eq!(
        parsed.fields["jobRole"],
        FieldChange::Set(FieldValue::JobRole { title: "Engineer".into(), external_id: None })
    );
}

#[test]
fn deleted_at_wins_over_everything_else() {
    let parsed = parse_record(
        EntityType::Vacancy,
        "POS-001",
        json!({ "deletedAt": "2026-08-01", "role": null }).as_object().unwrap(),
        &[],
    )
    .unwrap();
    assert_eq!(
        parsed.action,
        RecordAction::Delete { deleted_at: chrono::NaiveDate::from_ymd_opt(2026, 8, 1).unwrap() }
    );
}

#[test]
fn fingerprints_ignore_key_order_and_see_every_value() {
    let fingerprint = |value: Value| Fingerprint::of(value.as_object().unwrap());
    let base = fingerprint(json!({ "a": 1, "b": { "x": [1, 2], "y": null } }));
    assert_eq!(base, fingerprint(json!({ "b": { "y": null, "x": [1, 2] }, "a": 1 })));
    for changed in [
        json!({ "a": 2, "b": { "x": [1, 2], "y": null } }),
        json!({ "a": 1, "b": { "x": [2, 1], "y": null } }),
        json!({ "a": 1, "b": { "x": [1, 2] } }),
        json!({ "a": "1", "b": { "x": [1, 2], "y": null } }),
    ] {
        assert_ne!(base, fingerprint(changed.clone()), "{changed}");
    }
    assert_eq!(base.as_str().len(), 64);
}
