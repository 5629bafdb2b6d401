//! The OpenAPI 3.1 document of what this server serves (`/api/v1/openapi.json`).

use serde_json::{Map, Value, json};

use crate::{
    contract,
    routes::{self, Doc},
};

pub(crate) fn document() -> Value {
    let mut paths = Map::new();
    paths.insert(
        "/healthz".into(),
        json!({ "get": { "summary": "Health: 200 when the server and its hook workers are working, 503 (error shape, saying what is wrong) when a worker or the dispatch loop could not start", "security": [], "responses": { "200": { "description": "The server is up", "content": { "application/json": { "schema": { "type": "object", "required": ["status"], "additionalProperties": false, "properties": { "status": { "type": "string", "enum": ["ok"] } } } } } }, "503": { "description": "The server cannot run hooks", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } } } } }),
    );
    paths.insert(
        "/api/v1/openapi.json".into(),
        json!({ "get": { "summary": "This document", "security": [], "responses": { "200": { "description": "OpenAPI 3.1", "content": { "application/json": { "schema": { "type": "object", "required": ["openapi", "info", "paths", "components"], "properties": { "openapi": { "type": "string", "enum": ["3.1.0"] }, "info": { "type": "object" }, "paths": { "type": "object" }, "components": { "type": "object" } } } } } } } } }),
    );
    paths.insert(
        "/metrics".into(),
        json!({ "get": { "summary": "Prometheus metrics (totals only: executions by status, page durations, records applied, hooks' HTTP requests, queue depth)", "security": [], "responses": { "200": { "description": "The Prometheus text format", "content": { "text/plain; version=0.0.4": { "schema": { "type": "string" } } } }, "500": error_response() } } }),
    );
    paths.insert(
        "/api/v1/key".into(),
        json!({ "get": { "summary": "The calling key: its id, name and scopes, and its organisation (how a client that holds only a key finds its organisation)", "responses": { "200": { "description": "Done", "content": { "application/json": { "schema": contract::single(contract::reference::<contract::session::CallingKey>()) } } }, "401": error_response(), "414": error_response() } } }),
    );
    // Every operation of an organisation, as the route table describes it.
    for operation in routes::operations() {
        let Doc { summary, body, success: (status, answer), query, errors } = operation.doc;
        let mut parameters = path_parameters(&operation.path);
        parameters.extend(query);
        let mut responses = Map::new();
        let mut success = json!({ "description": if status == 204 { "Done; nothing to answer" } else { "Done" } });
        if let Some(schema) = answer {
            success["content"] = json!({ "application/json": { "schema": schema } });
        }
        responses.insert(status.to_string(), success);
        // Besides its own errors, what any operation of an organisation can answer with: 400
        // (a path, query or body that does not parse or breaks a rule), 401 (no valid key),
        // 403 (a key of another organisation, or without the scope), 414 (a URI over the
        // edge's limit), and 413 where it reads a body (over the edge's limit).
        let body_limit: &[u16] = if body.is_some() { &[413] } else { &[] };
        for error in errors.iter().chain(&[400, 401, 403, 414]).chain(body_limit) {
            responses.insert(error.to_string(), error_response());
        }
        let mut documented = json!({
            "summary": summary,
            "description": match operation.one_of {
                None => format!("Requires the scope `{}`.", operation.scope.as_str()),
                Some(scopes) => format!(
                    "Requires the scope `{}`, and one of {} (as the body asks).",
                    operation.scope.as_str(),
                    scopes.iter().map(|scope| format!("`{}`", scope.as_str())).collect::<Vec<_>>().join(", ")
                ),
            },
            "parameters": parameters,
            "responses": responses,
        });
        if let Some(schema) = body {
            documented["requestBody"] =
                json!({ "required": true, "content": { "application/json": { "schema": schema } } });
        }
        let methods = paths.entry(operation.path).or_insert_with(|| json!({}));
        methods[operation.method.as_str().to_lowercase()] = documented;
    }
    let mut document = json!({
        "openapi": "3.1.0",
        "info": { "title": "Flowstate Hooks API", "version": env!("CARGO_PKG_VERSION") },
        "security": [{ "bearer": [] }],
        "paths": paths,
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer", "description": "private_{id}_{secret}" } },
            "schemas": {},
        },
    });
    let schemas = document["components"]["schemas"].as_object_mut().expect("an object");
    for (name, schema) in contract::components() {
        assert!(schemas.insert(name.clone(), schema.clone()).is_none(), "schema {name} is named twice");
    }
    document
}

/// The path parameters of `template` (`/api/v1/org/{orgId}/hooks/{hookId}`), each described
/// once, here.
fn path_parameters(template: &str) -> Vec<Value> {
    template
        .split('/')
        .filter_map(|segment| segment.strip_prefix('{').and_then(|name| name.strip_suffix('}')))
        .map(|name| {
            let text = json!({ "type": "string" });
            let (description, schema) = match name {
                "orgId" => ("The organisation's id (the key's own)", text),
                "integrationId" => ("The integration's id", text),
                "hookId" => ("The hook's id", text),
                "executionId" => ("The execution's id", text),
                "workTypeId" => ("The work type's id or externalId", text),
                "rateId" => ("The rate's id", text),
                "name" => (
                    "The secret's name, as hooks read it from ctx.secrets",
                    json!({ "type": "string", "pattern": flowstate_store::integrations::KEY_PATTERN }),
                ),
                "id" => ("The internal id or the externalId", text),
                other => panic!("the path parameter {other} has no description"),
            };
            json!({ "name": name, "in": "path", "required": true, "schema": schema, "description": description })
        })
        .collect()
}

fn error_response() -> Value {
    json!({ "description": "An error", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    /// The month pattern the document gives takes what the forecast takes.
    #[test]
    fn the_month_pattern_is_the_forecasts() {
        let pattern = regex::Regex::new(routes::MONTH_PATTERN).unwrap();
        for text in ["2026-01", "2026-12", "0001-06", "2026-00", "2026-13", "2026-1", "26-01", "2026-01-01", "abcd-ef"]
        {
            assert_eq!(pattern.is_match(text), flowstate_forecast::Month::parse(text).is_some(), "{text}");
        }
    }

    /// Every operation the router serves is documented, with the scope the router checks,
    /// and nothing is documented that it does not serve.
    #[test]
    fn the_document_and_the_router_agree() {
        let document = document();
        let mut documented = std::collections::BTreeMap::new();
        for (path, operations) in document["paths"].as_object().unwrap() {
            for (method, operation) in operations.as_object().unwrap() {
                documented.insert(format!("{} {path}", method.to_uppercase()), operation.clone());
            }
        }
        let mut served = vec![
            "GET /healthz".to_string(),
            "GET /metrics".into(),
            "GET /api/v1/openapi.json".into(),
            "GET /api/v1/key".into(),
        ];
        for operation in crate::routes::operations() {
            let name = format!("{} {}", operation.method, operation.path);
            let Some(documented) = documented.get(&name) else { panic!("{name} is served but not documented") };
            let description = documented["description"].as_str().unwrap_or_default();
            assert!(
                description.contains(&format!("Requires the scope `{}`", operation.scope.as_str())),
                "{name} needs {} but its description says: {description}",
                operation.scope
            );
            served.push(name);
        }
        let mut documented: Vec<String> = documented.into_keys().collect();
        documented.sort();
        served.sort();
        assert_eq!(documented, served);
    }

    /// Every `$ref` names a schema the document has.
    #[test]
    fn every_reference_resolves() {
        fn references<'a>(value: &'a Value, found: &mut Vec<&'a str>) {
            match value {
                Value::Object(object) => {
                    if let Some(Value::String(target)) = object.get("$ref") {
                        found.push(target);
                    }
                    object.values().for_each(|value| references(value, found));
                }
                Value::Array(items) => items.iter().for_each(|value| references(value, found)),
                _ => {}
            }
        }
        let document = document();
        let mut found = Vec::new();
        references(&document, &mut found);
        assert!(found.len() > 100, "{}", found.len());
        for target in found {
            let name = target.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("{target}"));
            assert!(document["components"]["schemas"].get(name).is_some(), "{target} names no schema");
        }
        let code = &document["components"]["schemas"]["ErrorDetail"]["properties"]["code"]["enum"];
        assert_eq!(code.as_array().map(Vec::len), Some(ErrorCode::ALL.len()), "{code}");
    }

    /// No operation's request body or success answer is bare (no schema, or an object with
    /// no properties): a generated client, an explorer or a contract test learns each one's
    /// fields from the document.
    #[test]
    fn every_body_and_answer_has_a_schema() {
        let document = document();
        let schemas = document["components"]["schemas"].as_object().unwrap();
        let bare = |schema: Option<&Value>| -> bool {
            let Some(schema) = schema.filter(|schema| !schema.is_null()) else { return true };
            let schema = match schema.get("$ref").and_then(Value::as_str) {
                Some(name) => &schemas[name.trim_start_matches("#/components/schemas/")],
                None => schema,
            };
            let data = &schema["properties"]["data"];
            let data = if data["type"] == "array" { &data["items"] } else { data };
            let open = |schema: &Value| schema.get("$ref").is_none() && schema.get("properties").is_none();
            (schema["type"] == "object" && open(schema)) || (!data.is_null() && open(data))
        };
        let mut untyped = Vec::new();
        for (path, operations) in document["paths"].as_object().unwrap() {
            for (method, operation) in operations.as_object().unwrap() {
                let request = operation.get("requestBody").map(|body| &body["content"]["application/json"]["schema"]);
                let success = operation["responses"]
                    .as_object()
                    .unwrap()
                    .iter()
                    .find(|(status, _)| status.starts_with('2') && *status != "204");
                let answer = success.and_then(|(_, response)| response.get("content")).map(|content| {
                    content.get("application/json").map_or_else(
                        || {
                            content
                                .as_object()
                                .and_then(|types| types.values().next())
                                .map_or(&Value::Null, |any| &any["schema"])
                        },
                        |json| &json["schema"],
                    )
                });
                let bare_request = request.is_some_and(|schema| bare(Some(schema)));
                let bare_answer = success.is_some() && answer.is_none_or(|schema| bare(Some(schema)));
                if bare_request || bare_answer {
                    untyped.push(format!("{} {path}", method.to_uppercase()));
                }
            }
        }
        assert!(untyped.is_empty(), "bare:\n{}", untyped.join("\n"));
    }
}
