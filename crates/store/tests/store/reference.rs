//! Reference data: job roles, custom attribute definitions, exchange rates — per
//! organisation, validated, and conflicts named.

use flowstate_store::StoreError;
use flowstate_sync::{CustomFieldType, EntityType};
use serde_json::json;

use crate::helpers::TestStore;

fn job_roles_definitions_and_exchange_rates_are_kept_per_organisation(test: TestStore) {
    let store = &test.store;
    let other = store.create_org("Other", "UTC", "USD").unwrap();

    // Job roles: a sync's role by title is the same role the API lists.
    let mut employee = json!({ "firstName": "A", "lastName": "B", "email": "a@example.com" });
    employee["jobRole"] = json!("Engineer");
    test.apply(EntityType::Employee, &[("EMP-1", employee)]);
    let role = store.create_job_role(&test.org, "Designer", Some("JR-2")).unwrap();
    assert_eq!((role.title.as_str(), role.external_id.as_deref()), ("Designer", Some("JR-2")));
    let titles: Vec<String> = store.job_roles(&test.org).unwrap().into_iter().map(|role| role.title).collect();
    assert_eq!(titles, ["Designer", "Engineer"]);
    assert!(matches!(store.create_job_role(&test.org, "Other", Some("JR-2")), Err(StoreError::Conflict(_))));
    assert!(matches!(store.create_job_role(&test.org, "Engineer", None), Err(StoreError::Conflict(_))));
    assert!(matches!(store.create_job_role(&test.org, " ", None), Err(StoreError::Invalid(_))));
    assert!(store.job_roles(&other).unwrap().is_empty());

    // Definitions.
    store
        .define_custom_attribute(
            &test.org,
            "Cost centre",
            "cost_centre",
            CustomFieldType::String,
            &[EntityType::Employee],
        )
        .unwrap();
    let definitions = store.custom_attribute_definitions(&test.org).unwrap();
    assert_eq!(definitions.len(), 1);
    assert_eq!((definitions[0].attribute_key.as_str(), definitions[0].field_type.as_str()), ("cost_centre", "STRING"));
    assert_eq!(definitions[0].entity_types, ["EMPLOYEE"]);
    assert!(store.custom_attribute_definitions(&other).unwrap().is_empty());

    // Exchange rates: one per pair and date (a second replaces it), validated.
    let first = store.put_exchange_rate(&test.org, "EUR", "GBP", 0.85, "2026-01-01").unwrap();
    let replaced = store.put_exchange_rate(&test.org, "EUR", "GBP", 0.86, "2026-01-01").unwrap();
    assert_eq!((replaced.id.as_str(), replaced.rate), (first.id.as_str(), 0.86));
    store.put_exchange_rate(&test.org, "USD", "GBP", 0.79, "2026-01-01").unwrap();
    assert_eq!(store.exchange_rates(&test.org).unwrap().len(), 2);
    for (from, to, rate, date, words) in [
        ("eur", "GBP", 1.0, "2026-01-01", "fromCurrency must be an ISO 4217 code"),
        ("GBP", "GBP", 1.0, "2026-01-01", "must differ"),
        ("EUR", "GBP", 0.0, "2026-01-01", "rate must be a positive number"),
        ("EUR", "GBP", 1.0, "2026-02-30", "effectiveDate must be a date"),
    ] {
        let error = store.put_exchange_rate(&test.org, from, to, rate, date).unwrap_err().to_string();
        assert!(error.contains(words), "{error}");
    }
    assert!(store.exchange_rates(&other).unwrap().is_empty());
    assert!(!store.delete_exchange_rate(&other, &first.id).unwrap(), "not another organisation's");
    assert!(store.delete_exchange_rate(&test.org, &first.id).unwrap());
    assert_eq!(store.exchange_rates(&test.org).unwrap().len(), 1);
}

/// Issue 11: work types, per organisation, with unique names and externalIds; employees and
/// vacancies name one by externalId, else by name, and an unknown one is a per-record error.
fn work_types_are_reference_data_that_records_name(test: TestStore) {
    let store = &test.store;
    let other = store.create_org("Other", "UTC", "USD").unwrap();
    let engineering = store.create_work_type(&test.org, "Engineering", Some("WT-ENG"), 30.0).unwrap();
    store.create_work_type(&test.org, "Support", None, 12.5).unwrap();
    assert!(matches!(store.create_work_type(&test.org, "Engineering", None, 1.0), Err(StoreError::Conflict(_))));
    assert!(matches!(store.create_work_type(&test.org, "Ops", Some("WT-ENG"), 1.0), Err(StoreError::Conflict(_))));
    assert!(matches!(store.create_work_type(&test.org, "Ops", None, -1.0), Err(StoreError::Invalid(_))));
    assert!(matches!(store.create_work_type(&test.org, " ", None, 1.0), Err(StoreError::Invalid(_))));
    assert!(store.work_types(&other).unwrap().is_empty(), "per organisation");
    store.create_work_type(&other, "Engineering", None, 5.0).unwrap();

    let person = |n: usize, work_type: &str| json!({ "firstName": "A", "lastName": "B", "email": format!("a{n}@example.com"), "workType": work_type });
    let outcome = store
        .apply_page(
            &test.org,
            "hr",
            EntityType::Employee,
            &crate::helpers::records(&[
                ("EMP-1", person(1, "WT-ENG")),
                ("EMP-2", person(2, "Support")),
                ("EMP-3", person(3, "Sales")),
            ]),
        )
        .unwrap();
    assert_eq!((outcome.created, outcome.errors.len()), (2, 1), "{:?}", outcome.errors);
    let error = &outcome.errors[0];
    assert_eq!((error.external_id.as_str(), error.field.as_deref()), ("EMP-3", Some("workType")));
    assert!(error.message.contains("not found"), "{}", error.message);
    let vacancy = json!({ "role": "Engineer", "workType": "Nope" });
    let outcome = store
        .apply_page(&test.org, "hr", EntityType::Vacancy, &crate::helpers::records(&[("POS-1", vacancy)]))
        .unwrap();
    assert_eq!(outcome.errors.len(), 1, "vacancies name work types too");

    let changed = store
        .update_work_type(
            &test.org,
            "WT-ENG",
            flowstate_store::reference::WorkTypeUpdate { overhead_percentage: Some(40.0), ..Default::default() },
        )
        .unwrap();
    assert_eq!((changed.id.as_str(), changed.overhead_percentage), (engineering.id.as_str(), 40.0));
    assert!(store.delete_work_type(&test.org, &engineering.id).unwrap());
    assert!(!store.delete_work_type(&test.org, &engineering.id).unwrap());
    let names: Vec<String> = store.work_types(&test.org).unwrap().into_iter().map(|kind| kind.name).collect();
    assert_eq!(names, ["Support"]);
}

crate::on_both_backends!(
    job_roles_definitions_and_exchange_rates_are_kept_per_organisation,
    work_types_are_reference_data_that_records_name
);
