//! A request body checked against its JSON Schema (the subset `utoipa` writes: `$ref`,
//! `type` with `null`, `enum`, `oneOf`/`anyOf`/`allOf`, `required`, `properties`,
//! `additionalProperties`, `items`, lengths, `pattern`, `minimum`/`maximum`, `format` date and
//! date-time). Pure: every problem, named by its field path, in a stable order.

use serde_json::{Map, Value};

/// The problems of `value` against `schema`: `(field, message)`, sorted by field.
pub(super) fn problems(schema: &Value, value: &Value, components: &Map<String, Value>) -> Vec<(String, String)> {
    let mut found = Vec::new();
    check(schema, value, "", components, &mut found);
    found.sort();
    found.dedup();
    found
}

fn resolve<'a>(schema: &'a Value, components: &'a Map<String, Value>) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str).and_then(|name| name.strip_prefix("#/components/schemas/")) {
        Some(name) => components.get(name).map_or(schema, |found| resolve(found, components)),
        None => schema,
    }
}

/// `field` for a message: the path, or `the body` at the top.
fn label(path: &str) -> &str {
    if path.is_empty() { "the body" } else { path }
}

fn child(path: &str, name: &str) -> String {
    if path.is_empty() { name.to_string() } else { format!("{path}.{name}") }
}

fn type_name(kind: &str) -> &'static str {
    match kind {
        "string" => "a string",
        "integer" => "a whole number",
        "number" => "a number",
        "boolean" => "true or false",
        "array" => "an array",
        "object" => "an object",
        "null" => "null",
        _ => "another type",
    }
}

fn is_type(value: &Value, kind: &str) -> bool {
    match kind {
        "string" => value.is_string(),
        "integer" => value.as_f64().is_some_and(|number| number.fract() == 0.0),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        "null" => value.is_null(),
        _ => true,
    }
}

fn check(schema: &Value, value: &Value, path: &str, components: &Map<String, Value>, out: &mut Vec<(String, String)>) {
    let schema = resolve(schema, components);
    let field = label(path);
    for branches in ["oneOf", "anyOf"] {
        if let Some(branches) = schema.get(branches).and_then(Value::as_array) {
            let tries: Vec<Vec<(String, String)>> = branches
                .iter()
                .map(|branch| {
                    let mut found = Vec::new();
                    check(branch, value, path, components, &mut found);
                    found
                })
                .collect();
            if tries.iter().all(|found| !found.is_empty()) {
                // Report against the branch that is not `null` (`Option<T>` is `oneOf [null, T]`).
                let chosen =
                    branches.iter().position(|branch| branch.get("type") != Some(&Value::from("null"))).unwrap_or(0);
                out.extend(tries[chosen].iter().cloned());
            }
            return;
        }
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for branch in all {
            check(branch, value, path, components, out);
        }
    }
    if let Some(kinds) = schema.get("type") {
        let kinds: Vec<&str> = match kinds {
            Value::String(kind) => vec![kind.as_str()],
            Value::Array(kinds) => kinds.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if !kinds.is_empty() && !kinds.iter().any(|kind| is_type(value, kind)) {
            let names: Vec<&str> = kinds.iter().map(|kind| type_name(kind)).collect();
            let message = match value {
                Value::Null => format!("{field} must be {}, not null", names.join(" or ")),
                _ => format!("{field} must be {}", names.join(" or ")),
            };
            out.push((path.to_string(), message));
            return;
        }
    }
    if value.is_null() {
        return; // allowed by its type; nothing more to check
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        let listed: Vec<String> = allowed
            .iter()
            .filter(|item| !item.is_null())
            .map(|item| item.as_str().map_or(item.to_string(), str::to_string))
            .collect();
        out.push((path.to_string(), format!("{field} must be one of {}, got {value}", listed.join(", "))));
        return;
    }
    match value {
        Value::String(text) => check_string(schema, text, path, out),
        Value::Number(number) => {
            let number = number.as_f64().unwrap_or(f64::NAN);
            if let Some(minimum) = schema.get("minimum").and_then(Value::as_f64)
                && number < minimum
            {
                out.push((path.to_string(), format!("{field} must be at least {minimum}")));
            }
            if let Some(maximum) = schema.get("maximum").and_then(Value::as_f64)
                && number > maximum
            {
                out.push((path.to_string(), format!("{field} must be at most {maximum}")));
            }
            if let Some(bound) = schema.get("exclusiveMinimum").and_then(Value::as_f64)
                && number <= bound
            {
                out.push((path.to_string(), format!("{field} must be more than {bound}")));
            }
            if let Some(bound) = schema.get("exclusiveMaximum").and_then(Value::as_f64)
                && number >= bound
            {
                out.push((path.to_string(), format!("{field} must be less than {bound}")));
            }
        }
        Value::Array(items) => {
            if let Some(min) = schema.get("minItems").and_then(Value::as_u64)
                && (items.len() as u64) < min
            {
                out.push((path.to_string(), format!("{field} must have at least {min} items")));
            }
            if let Some(max) = schema.get("maxItems").and_then(Value::as_u64)
                && (items.len() as u64) > max
            {
                out.push((path.to_string(), format!("{field} must have at most {max} items")));
            }
            if let Some(item_schema) = schema.get("items") {
                for (index, item) in items.iter().enumerate() {
                    check(item_schema, item, &format!("{path}[{index}]"), components, out);
                }
            }
        }
        Value::Object(fields) => check_object(schema, fields, path, components, out),
        _ => {}
    }
}

fn check_string(schema: &Value, text: &str, path: &str, out: &mut Vec<(String, String)>) {
    let field = label(path);
    let length = text.chars().count() as u64;
    if let Some(min) = schema.get("minLength").and_then(Value::as_u64)
        && length < min
    {
        out.push((path.to_string(), format!("{field} must be at least {min} characters")));
    }
    if let Some(max) = schema.get("maxLength").and_then(Value::as_u64)
        && length > max
    {
        out.push((path.to_string(), format!("{field} must be at most {max} characters")));
    }
    if let Some(pattern) = schema.get("pattern").and_then(Value::as_str)
        && !matches(pattern, text)
    {
        let message = if pattern == super::NOT_BLANK && text.contains('\0') {
            format!("{field} {}", flowstate_sync::NUL)
        } else if pattern == super::NOT_BLANK {
            format!("{field} must not be blank")
        } else if pattern == super::NO_NUL {
            format!("{field} {}", flowstate_sync::NUL)
        } else {
            format!("{field} must match {pattern}, got {text:?}")
        };
        out.push((path.to_string(), message));
    }
    match schema.get("format").and_then(Value::as_str) {
        Some("date") if flowstate_sync::parse_date(text).is_none() => {
            out.push((path.to_string(), format!("{field} must be a date as YYYY-MM-DD, got {text:?}")));
        }
        Some("email") if text.chars().count() > 254 || !flowstate_sync::is_email(text) => {
            out.push((path.to_string(), format!("{field} must be an email address, got {text:?}")));
        }
        Some("date-time") if chrono::DateTime::parse_from_rfc3339(text).is_err() => {
            out.push((path.to_string(), format!("{field} must be an RFC 3339 time, got {text:?}")));
        }
        _ => {}
    }
}

/// Whether `text` matches `pattern`, each pattern compiled once (the schemas have a handful;
/// a body is checked on every request). A pattern that does not compile refuses nothing.
fn matches(pattern: &str, text: &str) -> bool {
    static COMPILED: std::sync::OnceLock<std::sync::Mutex<std::collections::HashMap<String, Option<regex::Regex>>>> =
        std::sync::OnceLock::new();
    let mut compiled = COMPILED.get_or_init(Default::default).lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    compiled
        .entry(pattern.to_string())
        .or_insert_with(|| regex::Regex::new(pattern).ok())
        .as_ref()
        .is_none_or(|pattern| pattern.is_match(text))
}

fn check_object(
    schema: &Value,
    fields: &Map<String, Value>,
    path: &str,
    components: &Map<String, Value>,
    out: &mut Vec<(String, String)>,
) {
    let properties = schema.get("properties").and_then(Value::as_object);
    for required in schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
        if !fields.contains_key(required) {
            let name = child(path, required);
            out.push((name.clone(), format!("{name} is required")));
        }
    }
    for (name, value) in fields {
        match properties.and_then(|properties| properties.get(name)) {
            Some(property) => check(property, value, &child(path, name), components, out),
            None => match schema.get("additionalProperties") {
                Some(Value::Bool(false)) => {
                    let name = child(path, name);
                    out.push((name.clone(), format!("unknown field {name:?}")));
                }
                Some(extra @ Value::Object(_)) => check(extra, value, &child(path, name), components, out),
                _ => {}
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn found(schema: Value, value: Value) -> Vec<(String, String)> {
        problems(&schema, &value, &Map::new())
    }

    #[test]
    fn each_keyword_refuses_what_it_states() {
        let schema = json!({ "type": "object", "additionalProperties": false, "required": ["a"], "properties": {
            "a": { "type": "string", "minLength": 2, "maxLength": 3 },
            "b": { "type": ["integer", "null"], "minimum": 1, "maximum": 5 },
            "g": { "type": "number", "exclusiveMinimum": 0 },
            "c": { "type": "string", "enum": ["x", "y"] },
            "d": { "type": "array", "items": { "type": "string", "format": "date" } },
            "e": { "type": "string", "pattern": super::super::NOT_BLANK },
        } });
        assert!(
            found(schema.clone(), json!({ "a": "ab", "b": null, "c": "x", "d": ["2026-02-28"], "e": " x" })).is_empty()
        );
        let messages: Vec<String> =
            found(schema, json!({ "b": 7, "c": "z", "d": ["2026-02-30", 3], "e": "  ", "f": 1, "g": 0 }))
                .into_iter()
                .map(|(field, message)| format!("{field}: {message}"))
                .collect();
        assert_eq!(
            messages,
            [
                "a: a is required",
                "b: b must be at most 5",
                "c: c must be one of x, y, got \"z\"",
                "d[0]: d[0] must be a date as YYYY-MM-DD, got \"2026-02-30\"",
                "d[1]: d[1] must be a string",
                "e: e must not be blank",
                "f: unknown field \"f\"",
                "g: g must be more than 0",
            ]
        );
        assert_eq!(
            found(json!({ "type": "string" }), json!(null)),
            [(String::new(), "the body must be a string, not null".into())]
        );
        assert_eq!(found(json!({ "type": "integer" }), json!(1.5)).len(), 1);
    }

    #[test]
    fn references_and_nullable_branches_are_followed() {
        let components: Map<String, Value> =
            json!({ "Policy": { "type": "object", "additionalProperties": false, "properties": { "n": { "type": "integer", "minimum": 1 } } } })
                .as_object()
                .unwrap()
                .clone();
        let schema = json!({ "type": "object", "properties": { "p": { "oneOf": [{ "type": "null" }, { "$ref": "#/components/schemas/Policy" }] } } });
        assert!(problems(&schema, &json!({ "p": null }), &components).is_empty());
        assert_eq!(
            problems(&schema, &json!({ "p": { "n": 0, "m": 1 } }), &components),
            [
                ("p.m".to_string(), "unknown field \"p.m\"".to_string()),
                ("p.n".to_string(), "p.n must be at least 1".to_string())
            ]
        );
    }
}
