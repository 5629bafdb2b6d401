//! `POST /vacancies/{id}/fill` (data-model.md "Vacancy fill"): the body of a REST fill
//! turned into the filler's record, the same `data` a PULL record of that type carries.
//!
//! **Architecture Invariant:** pure: no IO, no world. The planner does the rest
//! (`plan::plan_fill`).

use flowstate_sync::{EntityType, RecordError, schema::FieldKind};
use serde_json::{Map, Value, json};

/// The filler a fill creates: its externalId (optional) and its record's data.
#[derive(Debug)]
pub(crate) struct FillerRecord {
    pub external_id: Option<String>,
    pub data: Map<String, Value>,
}

/// The fields of the filler a fill takes from its body, beside `fillerType`, `externalId`
/// and (employees) `salary`: those it needs, then those it may carry. Each is checked as
/// the filler's entity checks it (`flowstate_sync::schema::fields`).
pub fn fields(filler: EntityType) -> (&'static [&'static str], &'static [&'static str]) {
    match filler {
        EntityType::Employee => (
            &["firstName", "lastName", "email", "startDate"],
            &["endDate", "internalEmployeeId", "jobRole", "defaultCurrencyCode"],
        ),
        _ => (&["name", "rate", "rateType", "currencyCode"], &["email", "contractorType", "startDate", "endDate"]),
    }
}

/// The filler's record, or every problem of the body.
///
/// Employee: `firstName`, `lastName`, `email`, `startDate`, optional `salary { effectiveDate,
/// salary, bonus?, currencyCode }` (its first salary adjustment). Contractor: `name`,
/// `rate`, `rateType`, `currencyCode` (its first rate adjustment, effective on `startDate`
/// or else `today`), optional `email`, `contractorType`, `startDate`, `endDate`.
pub(crate) fn filler_record(
    filler: EntityType,
    body: &Map<String, Value>,
    today: &str,
) -> Result<FillerRecord, Vec<RecordError>> {
    let mut problems = Vec::new();
    let mut problem = |field: &str, message: String| {
        problems.push(RecordError { external_id: String::new(), field: Some(field.to_string()), message })
    };
    let external_id = match body.get("externalId") {
        None | Some(Value::Null) => None,
        Some(value) => match flowstate_sync::check(FieldKind::Id, value) {
            Ok(external_id) => external_id.as_text().map(str::to_string),
            Err(error) => {
                problem("externalId", format!("externalId {error}"));
                None
            }
        },
    };
    let (required, optional) = fields(filler);
    let mut data = Map::new();
    for field in required {
        match body.get(*field) {
            None | Some(Value::Null) => problem(field, format!("{field} is required to fill with {}", article(filler))),
            Some(value) => {
                data.insert(field.to_string(), value.clone());
            }
        }
    }
    for field in optional {
        if let Some(value) = body.get(*field) {
            data.insert(field.to_string(), value.clone());
        }
    }
    let allowed = |key: &str| {
        required.contains(&key) || optional.contains(&key) || matches!(key, "fillerType" | "externalId" | "salary")
    };
    for key in body.keys().filter(|key| !allowed(key)) {
        problem(key, format!("{key} is not a field of a fill with {}", article(filler)));
    }
    if filler == EntityType::Employee {
        match body.get("salary") {
            None | Some(Value::Null) => {}
            Some(Value::Object(salary)) => {
                data.insert("salaryAdjustments".into(), json!([salary]));
            }
            Some(_) => {
                problem("salary", "salary must be an object { effectiveDate, salary, bonus?, currencyCode }".into())
            }
        }
    } else if body.contains_key("salary") {
        problem("salary", "a contractor is paid a rate, not a salary".into());
    } else {
        let effective = body.get("startDate").and_then(Value::as_str).unwrap_or(today);
        let adjustment = json!({
            "effectiveDate": effective,
            "rateType": body.get("rateType"),
            "rate": body.get("rate"),
            "currencyCode": body.get("currencyCode"),
        });
        data.insert("rateAdjustments".into(), json!([adjustment]));
    }
    if problems.is_empty() { Ok(FillerRecord { external_id, data }) } else { Err(problems) }
}

fn article(filler: EntityType) -> &'static str {
    if filler == EntityType::Employee { "an employee" } else { "a contractor" }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn an_employee_fill_carries_its_salary_as_the_first_adjustment() {
        let FillerRecord { external_id, data } = filler_record(
            EntityType::Employee,
            &body(json!({ "externalId": "EMP-7", "firstName": "A", "lastName": "B", "email": "a@b.c", "startDate": "2026-03-01",
                "salary": { "effectiveDate": "2026-03-01", "salary": 90000, "currencyCode": "GBP" } })),
            "2026-01-01",
        )
        .unwrap();
        assert_eq!(external_id.as_deref(), Some("EMP-7"));
        assert_eq!(data["salaryAdjustments"][0]["salary"], 90000);
        assert!(data.get("externalId").is_none(), "the key is not a field");
    }

    #[test]
    fn a_contractor_fill_needs_a_rate_and_starts_its_rate_history() {
        let FillerRecord { data, .. } = filler_record(
            EntityType::Contractor,
            &body(json!({ "name": "Acme", "rate": 500, "rateType": "daily", "currencyCode": "EUR" })),
            "2026-01-01",
        )
        .unwrap();
        assert_eq!(
            data["rateAdjustments"],
            json!([{ "effectiveDate": "2026-01-01", "rateType": "daily", "rate": 500, "currencyCode": "EUR" }])
        );
        let errors =
            filler_record(EntityType::Contractor, &body(json!({ "name": "Acme", "salary": {} })), "2026-01-01")
                .unwrap_err();
        let fields: Vec<&str> = errors.iter().filter_map(|error| error.field.as_deref()).collect();
        assert_eq!(fields, ["rate", "rateType", "currencyCode", "salary"]);
    }

    #[test]
    fn unknown_fields_are_named() {
        let errors = filler_record(
            EntityType::Employee,
            &body(json!({ "firstName": "A", "lastName": "B", "email": "a@b.c", "startDate": "2026-03-01", "rate": 1 })),
            "2026-01-01",
        )
        .unwrap_err();
        assert_eq!(errors[0].field.as_deref(), Some("rate"));
    }
}
