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
mod validate;

use serde::{Deserialize, Deserializer, de::DeserializeOwned};
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use crate::error::{ApiError, ErrorCode};

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
    schemas.extend(resources::schemas());
    schemas.into_iter().collect()
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
