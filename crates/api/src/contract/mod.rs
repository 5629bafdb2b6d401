//! The REST contract as Rust types: request and response bodies (`serde`, with
//! `deny_unknown_fields` on requests) from which the OpenAPI document's schemas are
//! generated (`utoipa`), and [`checked`], which reads a request body against that same
//! schema before `serde` makes it a value. So the document cannot say one thing while a
//! handler checks another: both come from one type.
//!
//! Operations move here family by family; `openapi.rs` still writes the schemas of those
//! that have not moved (see `tests::bare_schemas_only_where_not_yet_typed`).

pub(crate) mod envelope;
pub(crate) mod forecast;
pub(crate) mod hooks;
pub(crate) mod integrations;
pub(crate) mod reference;
pub(crate) mod resources;
pub(crate) mod session;
mod validate;

use serde::{Deserialize, Deserializer, de::DeserializeOwned};
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use crate::error::{ApiError, ErrorCode};

/// Text with no NUL character (U+0000), which no record may carry.
pub(crate) const NO_NUL: &str = r"^[^\u0000]*$";

/// Text with something besides white space in it, and no NUL character. White space is what
/// the server's `trim` takes away (Unicode White_Space), spelled out character by character
/// because `\s` means another set in each regex dialect (ECMA-262's has U+FEFF and not U+0085;
/// Rust's the other way round), and clients read the pattern in theirs.
pub(crate) const NOT_BLANK: &str =
    r"^[^\u0000]*[^\t\n\u000B\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\u0000][^\u0000]*$";

/// Every schema the document names, by name (`#/components/schemas/…`): generated once, then
/// read by every request body check and every copy of the document.
pub(crate) fn components() -> &'static Map<String, Value> {
    static COMPONENTS: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
    COMPONENTS.get_or_init(generate)
}

fn generate() -> Map<String, Value> {
    let mut schemas = Vec::new();
    collect::<envelope::ErrorBody>(&mut schemas);
    collect::<envelope::ListMeta>(&mut schemas);
    collect::<integrations::NewIntegration>(&mut schemas);
    collect::<integrations::IntegrationChange>(&mut schemas);
    collect::<integrations::Integration>(&mut schemas);
    collect::<integrations::SecretValue>(&mut schemas);
    collect::<integrations::SecretInfo>(&mut schemas);
    collect::<hooks::NewHook>(&mut schemas);
    collect::<hooks::HookChange>(&mut schemas);
    collect::<hooks::Hook>(&mut schemas);
    collect::<hooks::RetryPolicy>(&mut schemas);
    collect::<hooks::Execution>(&mut schemas);
    collect::<hooks::HookStarter>(&mut schemas);
    collect::<hooks::PlanRequest>(&mut schemas);
    collect::<hooks::HookPlan>(&mut schemas);
    collect::<reference::NewJobRole>(&mut schemas);
    collect::<reference::JobRole>(&mut schemas);
    collect::<reference::NewWorkType>(&mut schemas);
    collect::<reference::WorkTypeChange>(&mut schemas);
    collect::<reference::WorkType>(&mut schemas);
    collect::<reference::NewExchangeRate>(&mut schemas);
    collect::<reference::ExchangeRate>(&mut schemas);
    collect::<reference::NewAttributeDefinition>(&mut schemas);
    collect::<reference::AttributeDefinition>(&mut schemas);
    collect::<forecast::Forecast>(&mut schemas);
    collect::<session::CallingKey>(&mut schemas);
    schemas.extend(resources::schemas());
    for (_, schema) in &mut schemas {
        portable(schema);
    }
    schemas.into_iter().collect()
}

/// The derives write "not blank" as `pattern = r"\S"`; the document spells it [`NOT_BLANK`],
/// which every regex dialect reads as the server's `trim` does.
fn portable(schema: &mut Value) {
    match schema {
        Value::Object(object) => {
            if object.get("pattern").and_then(Value::as_str) == Some(r"\S") {
                object.insert("pattern".into(), Value::from(NOT_BLANK));
            }
            object.values_mut().for_each(portable);
        }
        Value::Array(items) => items.iter_mut().for_each(portable),
        _ => {}
    }
}

fn collect<T: ToSchema>(schemas: &mut Vec<(String, Value)>) {
    let mut nested = Vec::new();
    T::schemas(&mut nested);
    schemas.push((T::name().into_owned(), to_json(T::schema())));
    schemas.extend(nested.into_iter().map(|(name, schema)| (name, to_json(schema))));
}

fn to_json(schema: impl serde::Serialize) -> Value {
    serde_json::to_value(schema).expect("a schema serializes")
}

/// `{ "$ref": "#/components/schemas/T" }`.
pub(crate) fn reference<T: ToSchema>() -> Value {
    json!({ "$ref": format!("#/components/schemas/{}", T::name()) })
}

/// `{ "data": schema }`.
pub(crate) fn single(schema: Value) -> Value {
    json!({ "type": "object", "required": ["data"], "properties": { "data": schema } })
}

/// The list envelope of `schema`: `{ data: [..], meta }`.
pub(crate) fn list(schema: Value) -> Value {
    json!({ "type": "object", "required": ["data", "meta"], "properties": {
        "data": { "type": "array", "items": schema },
        "meta": reference::<envelope::ListMeta>() } })
}

/// A request body read as `T`: JSON, an object, and every field as `T`'s schema says (the
/// same schema the document gives). Every problem is reported at once, each naming its
/// field, as one `VALIDATION_ERROR`; unknown fields are refused by name.
pub(crate) fn checked<T: ToSchema + DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let object = crate::body::object(bytes)?;
    let value = Value::Object(object);
    let components = components();
    let problems = match components.get(T::name().as_ref()) {
        Some(schema) => validate::problems(schema, &value, components),
        // A type not listed in the document's schemas (a defect a test would show): its own.
        None => validate::problems(&to_json(T::schema()), &value, components),
    };
    if !problems.is_empty() {
        let details: Vec<Value> =
            problems.into_iter().map(|(field, message)| json!({ "field": field, "message": message })).collect();
        return Err(
            ApiError::new(ErrorCode::ValidationError, "the body is invalid").with_details(Value::Array(details))
        );
    }
    serde_json::from_value(value).map_err(|error| {
        // The schema check passed, so this is a rule serde holds that the schema does not
        // state: a defect in the type, reported rather than hidden.
        ApiError::new(ErrorCode::ValidationError, format!("the body is invalid: {error}"))
    })
}

/// For `Option<Option<T>>` fields: absent is `None`, `null` is `Some(None)`, a value is
/// `Some(Some(value))` (with `#[serde(default)]`).
pub(crate) fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

/// A whole number as JSON Schema's `integer` takes it: `3`, or `3.0` (serde alone would
/// refuse the second for an integer type).
fn whole_number<E: serde::de::Error, T: TryFrom<u64>>(number: f64) -> Result<T, E> {
    if number.fract() != 0.0 || number < 0.0 {
        return Err(E::custom(format!("expected a whole number, got {number}")));
    }
    T::try_from(number as u64).map_err(|_| E::custom(format!("{number} is out of range")))
}

/// `deserialize_with` for a whole number (see [`whole_number`]).
pub(crate) fn whole<'de, D: Deserializer<'de>, T: TryFrom<u64>>(deserializer: D) -> Result<T, D::Error> {
    whole_number(f64::deserialize(deserializer)?)
}

/// `deserialize_with` for an optional whole number (with `#[serde(default)]`).
pub(crate) fn optional_whole<'de, D: Deserializer<'de>, T: TryFrom<u64>>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    Option::<f64>::deserialize(deserializer)?.map(whole_number).transpose()
}

/// [`present`] for a whole number: absent `None`, `null` `Some(None)`.
pub(crate) fn present_whole<'de, D: Deserializer<'de>, T: TryFrom<u64>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    optional_whole(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemas_state_what_the_types_refuse() {
        let components = components();
        let new = &components["NewIntegration"];
        assert_eq!(new["additionalProperties"], json!(false), "{new}");
        assert_eq!(new["required"], json!(["name", "sourceSystem"]), "{new}");
        let change = &components["IntegrationChange"];
        assert_eq!(change["properties"]["name"]["type"], json!("string"), "name cannot be null: {change}");
        assert!(
            change["properties"]["description"]["type"].as_array().is_some_and(|types| types.contains(&json!("null"))),
            "{change}"
        );
        assert_eq!(new["properties"]["sourceSystem"]["pattern"], json!(flowstate_store::integrations::KEY_PATTERN));
        // An ISO 4217 code as the store checks it.
        let rate = &components["NewExchangeRate"]["properties"]["fromCurrency"];
        assert_eq!(rate["pattern"], json!(flowstate_store::reference::CURRENCY_PATTERN), "{rate}");
        // The shortest secret the server keeps, as the schema states it.
        let secret = &components["SecretValue"]["properties"]["value"];
        assert_eq!(secret["minLength"], json!(flowstate_runtime::MIN_REDACTED_CHARS), "{secret}");
    }

    /// "Not blank" means what the server's `trim` means, in the Rust dialect the server checks
    /// with; the document spells it out so no other dialect reads another set.
    #[test]
    fn not_blank_is_what_trim_leaves_something_of() {
        let pattern = regex::Regex::new(NOT_BLANK).unwrap();
        for text in ["a", " a ", "\u{85}", "\u{feff}", "\u{3000}", "\u{a0}x", "\t\n\r", "", "\0", "a\0", "\u{200b}"] {
            let kept = !text.trim().is_empty() && !text.contains('\0');
            assert_eq!(pattern.is_match(text), kept, "{text:?}");
        }
        let document = serde_json::to_string(components()).unwrap();
        assert!(!document.contains(r#""pattern":"\\S""#), "a bare \\S pattern is left");
        assert!(!document.contains(r"\\s"), "a \\s class is left");
    }

    /// `1.0` is a whole number to JSON Schema, so to the server too.
    #[test]
    fn whole_numbers_may_be_written_with_a_fraction_of_zero() {
        let code = "async function run(ctx) { return { records: [] }; }";
        let push = flowstate_store::kinds::HookType::Push.as_str();
        let body =
            |extra: &str| format!(r#"{{"name":"h","type":"{push}","entityType":"employee","code":"{code}"{extra}}}"#);
        let hook =
            checked::<hooks::NewHook>(body(r#","preferredHour":2.0,"retryPolicy":{"maxAttempts":3.0}"#).as_bytes())
                .unwrap();
        assert_eq!((hook.preferred_hour, hook.retry_policy.map(|policy| policy.max_attempts)), (Some(2), Some(3)));
        assert!(checked::<hooks::NewHook>(body(r#","preferredHour":2.5"#).as_bytes()).is_err());
        let change = checked::<hooks::HookChange>(br#"{"preferredHour":null}"#).unwrap();
        assert_eq!(change.preferred_hour, Some(None));
        let change = checked::<hooks::HookChange>(br#"{"preferredHour":4.0}"#).unwrap();
        assert_eq!(change.preferred_hour, Some(Some(4)));
    }

    #[test]
    fn bodies_are_checked_against_their_schema_with_every_problem_named() {
        let fields = |bytes: &str| -> Vec<String> {
            match checked::<integrations::NewIntegration>(bytes.as_bytes()) {
                Ok(_) => Vec::new(),
                Err(error) => error
                    .details
                    .as_ref()
                    .unwrap()
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|problem| problem["field"].as_str().unwrap().to_string())
                    .collect(),
            }
        };
        assert!(fields(r#"{"name":"HR","sourceSystem":"hr"}"#).is_empty());
        assert_eq!(fields(r#"{"name":"  ","sourceSystem":"h r","colour":1}"#), ["colour", "name", "sourceSystem"]);
        assert_eq!(fields(r#"{"name":5}"#), ["name", "sourceSystem"]);
        let change = |bytes: &str| checked::<integrations::IntegrationChange>(bytes.as_bytes());
        assert!(change(r#"{"name":null}"#).is_err(), "a name cannot be cleared");
        assert_eq!(change(r#"{"description":null}"#).unwrap().description, Some(None));
        assert_eq!(change(r#"{}"#).unwrap().description, None);
    }
}
