//! A record's `data`, checked field by field against its entity's schema.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde_json::{Map, Value};

use crate::{
    EntityType, NestedKind, RecordError,
    nested::{NestedRow, parse_rows},
    schema::{self, FieldKind},
    value::{FieldValue, check, type_name},
};

/// What a record says about one scalar field.
#[derive(Clone, Debug, PartialEq)]
pub enum FieldChange {
    Set(FieldValue),
    /// The record gave `null`: the field is cleared.
    Clear,
}

/// What a vacancy record says about its filler.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum FillChange {
    /// Neither `filledBy` nor `filledByExternalId`: the fill stays as it is.
    #[default]
    Untouched,
    /// `filledBy: null` (or `filledByExternalId: null`): the vacancy is open again.
    Clear,
    /// Fill with the employee or contractor of this externalId.
    Set(String),
}

/// The value types of custom attribute definitions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CustomFieldType {
    String,
    Number,
    Date,
    DateRange,
}

/// An active custom attribute definition for the entity type being synced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomAttributeDefinition {
    pub attribute_key: String,
    pub field_type: CustomFieldType,
}

/// A record that passed validation. (Its [`crate::Fingerprint`] is computed apart: the
/// store checks it before validating, so a re-run skips validation.)
#[derive(Clone, Debug, PartialEq)]
pub struct ParsedRecord {
    pub external_id: String,
    pub action: RecordAction,
}

/// Whether the record upserts or deletes its entity.
#[derive(Clone, Debug, PartialEq)]
pub enum RecordAction {
    /// `deletedAt` was given: hard-delete the entity and its nested rows.
    Delete {
        deleted_at: NaiveDate,
    },
    Upsert(Upsert),
}

/// The changes an upserting record carries. Absent keys are absent here too.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Upsert {
    pub fields: BTreeMap<&'static str, FieldChange>,
    /// Custom attribute values by key; `None` clears.
    pub custom_attributes: BTreeMap<String, Option<Value>>,
    /// Only the arrays present in the record (`[]` included).
    pub nested: BTreeMap<NestedKind, Vec<NestedRow>>,
    pub fill: FillChange,
    /// The key the fill came from (`filledBy` or `filledByExternalId`), to name it in errors.
    pub fill_key: &'static str,
}

/// Collects errors for one record.
struct Errors<'a> {
    external_id: &'a str,
    list: Vec<RecordError>,
}

impl Errors<'_> {
    fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        let field = field.into();
        let message = message.into();
        self.list.push(RecordError {
            external_id: self.external_id.to_string(),
            message: format!("{field} {message}"),
            field: Some(field),
        });
    }
}

/// Checks a record's `data` for `entity`. Unknown custom attribute keys are ignored (the
/// spec); any other unknown key is an error, so a misspelt field is reported rather than
/// silently dropped. Every problem is reported, each naming its field.
///
/// ```
/// use flowstate_sync::{parse_record, EntityType};
/// use serde_json::json;
/// let data = json!({ "firstName": "Ada", "lastName": "Lovelace", "email": "not-an-email" });
/// let errors = parse_record(EntityType::Employee, "emp-1", data.as_object().unwrap(), &[]).unwrap_err();
/// assert_eq!(errors[0].field.as_deref(), Some("email"));
/// assert_eq!(errors[0].message, "email must be an email address, got \"not-an-email\"");
/// ```
pub fn parse_record(
    entity: EntityType,
    external_id: &str,
    data: &Map<String, Value>,
    custom_definitions: &[CustomAttributeDefinition],
) -> Result<ParsedRecord, Vec<RecordError>> {
    let mut errors = Errors { external_id, list: Vec::new() };
    if external_id.contains('\0') {
        errors.push("externalId", crate::value::NUL);
        return Err(errors.list);
    }

    if let Some(deleted_at) = data.get("deletedAt").filter(|value| !value.is_null()) {
        return match check(FieldKind::Date, deleted_at) {
            Ok(value) => Ok(ParsedRecord {
                external_id: external_id.to_string(),
                action: RecordAction::Delete { deleted_at: value.as_date().expect("a date") },
            }),
            Err(problem) => {
                errors.push("deletedAt", problem.to_string());
                Err(errors.list)
            }
        };
    }

    let specs = schema::fields(entity);
    let mut upsert = Upsert::default();
    for (key, value) in data {
        if let Some(spec) = specs.iter().find(|spec| spec.name == key) {
            if value.is_null() {
                if spec.required {
                    errors.push(spec.name, "is required and cannot be null");
                } else {
                    upsert.fields.insert(spec.name, FieldChange::Clear);
                }
                continue;
            }
            match check(spec.kind, value) {
                Ok(checked) if spec.required && checked.as_text().is_some_and(|text| text.trim().is_empty()) => {
                    errors.push(spec.name, "is required and cannot be blank")
                }
                Ok(checked) => {
                    upsert.fields.insert(spec.name, FieldChange::Set(checked));
                }
                Err(problem) => errors.push(spec.name, problem.to_string()),
            }
            continue;
        }
        if let Some(kind) = entity.nested_kinds().iter().find(|kind| kind.key() == key) {
            match value {
                Value::Array(items) => match parse_rows(*kind, items) {
                    Ok(rows) => {
                        upsert.nested.insert(*kind, rows);
                    }
                    Err(problems) => problems.into_iter().for_each(|(field, message)| errors.push(field, message)),
                },
                // `null` is not `[]`: deleting rows takes an explicit empty list.
                other => errors.push(kind.key(), format!("must be an array, got {}", type_name(other))),
            }
            continue;
        }
        if entity == EntityType::Vacancy && (key == "filledBy" || key == "filledByExternalId") {
            upsert.fill_key = if key == "filledBy" { "filledBy" } else { "filledByExternalId" };
        }
        match (entity, key.as_str()) {
            (_, "deletedAt") => {} // null: nothing to delete.
            (_, "customAttributes") => parse_custom(value, custom_definitions, &mut upsert, &mut errors),
            (EntityType::Vacancy, "filledBy") => match value {
                Value::Null => upsert.fill = merge_fill(&mut errors, &upsert.fill, FillChange::Clear, key),
                Value::Object(filler) => match filler.get("externalId") {
                    Some(Value::String(id)) if id.contains('\0') => {
                        errors.push("filledBy.externalId", crate::value::NUL)
                    }
                    Some(Value::String(id)) if !id.trim().is_empty() => {
                        upsert.fill = merge_fill(&mut errors, &upsert.fill, FillChange::Set(id.clone()), key)
                    }
                    Some(Value::Number(id)) => {
                        upsert.fill = merge_fill(&mut errors, &upsert.fill, FillChange::Set(id.to_string()), key)
                    }
                    _ => errors.push("filledBy.externalId", "must be a non-empty string"),
                },
                other => errors.push("filledBy", format!("must be {{ externalId }} or null, got {}", type_name(other))),
            },
            (EntityType::Vacancy, "filledByExternalId") => match value {
                Value::Null => upsert.fill = merge_fill(&mut errors, &upsert.fill, FillChange::Clear, key),
                Value::String(id) if id.contains('\0') => errors.push("filledByExternalId", crate::value::NUL),
                Value::String(id) if !id.trim().is_empty() => {
                    upsert.fill = merge_fill(&mut errors, &upsert.fill, FillChange::Set(id.clone()), key)
                }
                Value::Number(id) => {
                    upsert.fill = merge_fill(&mut errors, &upsert.fill, FillChange::Set(id.to_string()), key)
                }
                other => errors.push(
                    "filledByExternalId",
                    format!("must be a non-empty string or null, got {}", type_name(other)),
                ),
            },
            _ => errors.push(key.clone(), format!("is not a field of {entity}")),
        }
    }

    for (start, end) in schema::date_order(entity) {
        if let (Some(FieldChange::Set(start_value)), Some(FieldChange::Set(end_value))) =
            (upsert.fields.get(start), upsert.fields.get(end))
            && start_value.as_date() > end_value.as_date()
        {
            errors.push(
                *end,
                format!("({}) is before {start} ({})", end_value.to_json(), start_value.to_json()).replace('"', ""),
            );
        }
    }
    if let (Some(FieldChange::Set(min)), Some(FieldChange::Set(max))) =
        (upsert.fields.get("salaryMin"), upsert.fields.get("salaryMax"))
        && min.as_number() > max.as_number()
    {
        errors.push("salaryMax", format!("({}) is less than salaryMin ({})", max.to_json(), min.to_json()));
    }

    if errors.list.is_empty() {
        Ok(ParsedRecord { external_id: external_id.to_string(), action: RecordAction::Upsert(upsert) })
    } else {
        Err(errors.list)
    }
}

fn merge_fill(errors: &mut Errors<'_>, current: &FillChange, new: FillChange, key: &str) -> FillChange {
    if *current != FillChange::Untouched && *current != new {
        errors.push(key, "disagrees with the other of filledBy and filledByExternalId");
    }
    new
}

fn parse_custom(
    value: &Value,
    definitions: &[CustomAttributeDefinition],
    upsert: &mut Upsert,
    errors: &mut Errors<'_>,
) {
    let Value::Object(values) = value else {
        if !value.is_null() {
            errors.push("customAttributes", format!("must be an object, got {}", type_name(value)));
        }
        return;
    };
    for (key, value) in values {
        // Keys without an active definition are ignored silently (spec).
        let Some(definition) = definitions.iter().find(|definition| definition.attribute_key == *key) else { continue };
        let field = format!("customAttributes.{key}");
        if value.is_null() {
            upsert.custom_attributes.insert(key.clone(), None);
            continue;
        }
        let checked = match definition.field_type {
            CustomFieldType::String => check(FieldKind::Text { max: 10_000 }, value)
                .map(|_| value.clone())
                .map_err(|problem| problem.to_string()),
            CustomFieldType::Number => check(FieldKind::Number { min: f64::MIN, max: f64::MAX }, value)
                .map(|_| value.clone())
                .map_err(|problem| problem.to_string()),
            CustomFieldType::Date => {
                check(FieldKind::Date, value).map(|_| value.clone()).map_err(|problem| problem.to_string())
            }
            CustomFieldType::DateRange => check_date_range(value),
        };
        match checked {
            Ok(value) => {
                upsert.custom_attributes.insert(key.clone(), Some(value));
            }
            Err(message) => errors.push(field, message),
        }
    }
}

/// `{ "start": date, "end": date | null }`.
fn check_date_range(value: &Value) -> Result<Value, String> {
    let problem = || format!("must be {{ start: YYYY-MM-DD, end: YYYY-MM-DD or null }}, got {value}");
    let Value::Object(range) = value else { return Err(problem()) };
    if range.keys().any(|key| key != "start" && key != "end") {
        return Err(problem());
    }
    let start = range.get("start").and_then(Value::as_str).and_then(crate::value::parse_date).ok_or_else(problem)?;
    let end = match range.get("end") {
        None | Some(Value::Null) => None,
        Some(end) => Some(end.as_str().and_then(crate::value::parse_date).ok_or_else(problem)?),
    };
    if end.is_some_and(|end| end < start) {
        return Err("end is before start".to_string());
    }
    Ok(value.clone())
}
