//! The OpenAPI 3.1 document of what this server serves (`/api/v1/openapi.json`).

use flowstate_sync::{EntityType, NestedKind};
use serde_json::{Map, Value, json};

use crate::{
    contract::{self, hooks, integrations as typed, reference, reference as referenced, resources},
    list::{MAX_LIMIT, MAX_PAGE},
    resources::RESOURCES,
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
    let org = json!({ "name": "orgId", "in": "path", "required": true, "schema": { "type": "string" } });
    for (segment, entity) in RESOURCES {
        let scope = format!("{segment}:read");
        let mut list_parameters = vec![
            org.clone(),
            json!({ "name": "page", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1 } }),
            json!({ "name": "limit", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 50 } }),
            json!({ "name": "search", "in": "query", "schema": { "type": "string" }, "description": "Case-insensitive text in any top-level text field" }),
            json!({ "name": "sortBy", "in": "query", "schema": { "type": "string", "default": "externalId" } }),
            json!({ "name": "sortDir", "in": "query", "schema": { "type": "string", "enum": ["asc", "desc"], "default": "asc" } }),
        ];
        if segment == "vacancies" {
            list_parameters.push(
                json!({ "name": "excludeFilled", "in": "query", "schema": { "type": "boolean", "default": true } }),
            );
        }
        let write_scope = format!("{segment}:write");
        let name = resources::name(entity);
        let one = || single(json!({ "$ref": format!("#/components/schemas/{name}") }));
        let new = json!({ "$ref": format!("#/components/schemas/New{name}") });
        let change = json!({ "$ref": format!("#/components/schemas/{name}Change") });
        let id = json!({ "name": "id", "in": "path", "required": true, "schema": { "type": "string" }, "description": "The internal id or the externalId" });
        paths.insert(
            format!("/api/v1/org/{{orgId}}/{segment}"),
            json!({ "post": {
                "summary": format!("Create {entity}"),
                "description": format!("Requires the scope `{write_scope}`. `externalId` is optional{}, unique per organisation (409 when taken). The change event's source is `api`.", if segment == "assignments" { " (required for assignments)" } else { "" }),
                "parameters": [org.clone()],
                "requestBody": { "required": true, "content": { "application/json": { "schema": new } } },
                "responses": {
                    "201": { "description": format!("The {entity}"), "content": { "application/json": { "schema": one() } } },
                    "400": error_response(), "409": error_response(),
                },
            }, "get": {
                "summary": format!("List {segment}"),
                "description": format!("Requires the scope `{scope}`."),
                "parameters": list_parameters,
                "responses": {
                    "200": { "description": format!("A page of {segment}"), "content": { "application/json": { "schema": list(json!({ "$ref": format!("#/components/schemas/{name}") })) } } },
                    "400": error_response(),
                },
            } }),
        );
        paths.insert(
            format!("/api/v1/org/{{orgId}}/{segment}/{{id}}"),
            json!({ "patch": {
                "summary": format!("Change {entity}: the fields given change, the rest stay"),
                "description": format!("Requires the scope `{write_scope}`. `externalId` is fixed. The change event's source is `api`."),
                "parameters": [org.clone(), id.clone()],
                "requestBody": { "required": true, "content": { "application/json": { "schema": change } } },
                "responses": {
                    "200": { "description": format!("The {entity}"), "content": { "application/json": { "schema": one() } } },
                    "400": error_response(), "404": error_response(),
                },
            }, "delete": {
                "summary": format!("Delete {entity} (hard delete, as deletedAt in a sync: its allocations and adjustments go, vacancies it filled reopen)"),
                "description": format!("Requires the scope `{write_scope}`."),
                "parameters": [org.clone(), id.clone()],
                "responses": { "204": { "description": "Deleted" }, "404": error_response() },
            }, "get": {
                "summary": format!("Get one {entity} by id or externalId"),
                "description": format!("Requires the scope `{scope}`."),
                "parameters": [org.clone(), id],
                "responses": {
                    "200": { "description": format!("The {entity}"), "content": { "application/json": { "schema": one() } } },
                    "404": error_response(),
                },
            } }),
        );
    }
    let path_param = |name: &str, description: &str| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" }, "description": description });
    let body = |schema: Value| json!({ "required": true, "content": { "application/json": { "schema": schema } } });
    let operation = |summary: &str, scope: &str, parameters: Vec<Value>, success: (&str, &str)| {
        json!({
            "summary": summary,
            "description": format!("Requires the scope `{scope}`."),
            "parameters": parameters,
            "responses": {
                success.0: { "description": success.1 },
                "400": error_response(), "401": error_response(), "403": error_response(), "404": error_response(), "409": error_response(),
            },
        })
    };
    let list_of =
        |summary: &str, scope: &str| operation(summary, scope, vec![org.clone()], ("200", "The list (one page)"));
    paths.insert(
        "/api/v1/org/{orgId}/job-roles".into(),
        json!({
            "get": returning(list_of("List job roles (by title)", "job-roles:read"), "200", list(reference::<referenced::JobRole>())),
            "post": with_body(
                returning(operation("Create a job role (409 when its externalId, or without one its title, is taken)", "job-roles:write", vec![org.clone()], ("201", "The job role")), "201", single(reference::<referenced::JobRole>())),
                body(reference::<referenced::NewJobRole>())),
        }),
    );
    paths.insert(
        "/api/v1/org/{orgId}/custom-attribute-definitions".into(),
        json!({
            "get": returning(list_of("List custom attribute definitions", "custom-attributes:read"), "200", list(reference::<referenced::AttributeDefinition>())),
            "post": with_body(
                returning(operation("Define a custom attribute (attributeKey is generated from the name when omitted, and fixed; 409 when the name or key is taken)", "custom-attributes:write", vec![org.clone()], ("201", "The definition")), "201", single(reference::<referenced::AttributeDefinition>())),
                body(reference::<referenced::NewAttributeDefinition>())),
        }),
    );
    paths.insert(
        "/api/v1/org/{orgId}/exchange-rates".into(),
        json!({
            "get": returning(list_of("List exchange rates (by pair, then date)", "exchange-rates:read"), "200", list(reference::<referenced::ExchangeRate>())),
            "post": with_body(
                returning(operation("Set a currency pair's rate from a date on (replaces the rate of the same pair and date; the two currencies differ)", "exchange-rates:write", vec![org.clone()], ("201", "The rate")), "201", single(reference::<referenced::ExchangeRate>())),
                body(reference::<referenced::NewExchangeRate>())),
        }),
    );
    paths.insert(
        "/api/v1/org/{orgId}/forecast".into(),
        json!({ "get": returning(operation(
            "The team cost forecast (forecast.md): per month in the reporting currency, the cost of each team (parents first; a team's total includes its descendants') or project, and of Unallocated; amounts are decimal strings with two decimals. At most 60 months; `to` not before `from`; `teamId` with groupBy team only (each a 400 naming the parameter); an unknown team is a 404",
            "forecast:read",
            vec![
                org.clone(),
                json!({ "name": "from", "in": "query", "required": true, "schema": { "type": "string", "pattern": MONTH_PATTERN }, "description": "First month, YYYY-MM" }),
                json!({ "name": "to", "in": "query", "required": true, "schema": { "type": "string", "pattern": MONTH_PATTERN }, "description": "Last month, YYYY-MM; at most 60 months from `from`" }),
                json!({ "name": "groupBy", "in": "query", "schema": { "type": "string", "enum": ["team", "project"], "default": "team" } }),
                json!({ "name": "teamId", "in": "query", "schema": { "type": "string" }, "description": "A team's id or externalId: that team and its descendants only (groupBy team)" }),
                json!({ "name": "lines", "in": "query", "schema": { "type": "boolean", "default": false }, "description": "Each group's lines, one per resource" }),
            ],
            ("200", "The forecast"),
        ), "200", single(reference::<contract::forecast::Forecast>())) }),
    );
    paths.insert(
        "/api/v1/org/{orgId}/work-types".into(),
        json!({
            "get": returning(list_of("List work types (by name)", "work-types:read"), "200", list(reference::<referenced::WorkType>())),
            "post": with_body(
                returning(operation("Create a work type (409 when its name or externalId is taken)", "work-types:write", vec![org.clone()], ("201", "The work type")), "201", single(reference::<referenced::WorkType>())),
                body(reference::<referenced::NewWorkType>())),
        }),
    );
    paths.insert(
        "/api/v1/org/{orgId}/work-types/{workTypeId}".into(),
        json!({
            "patch": with_body(
                returning(operation("Change a work type: the fields given (externalId null clears it)", "work-types:write", vec![org.clone(), path_param("workTypeId", "The work type's id or externalId")], ("200", "The work type")), "200", single(reference::<referenced::WorkType>())),
                body(reference::<referenced::WorkTypeChange>())),
            "delete": operation("Delete a work type (employees and vacancies naming it cost without overhead from then on)", "work-types:write", vec![org.clone(), path_param("workTypeId", "The work type's id or externalId")], ("204", "Deleted")),
        }),
    );
    paths.insert(
        "/api/v1/org/{orgId}/exchange-rates/{rateId}".into(),
        json!({ "delete": operation("Delete an exchange rate", "exchange-rates:write", vec![org.clone(), path_param("rateId", "The rate's id")], ("204", "Deleted")) }),
    );
    for (entity, history, kind) in [
        (EntityType::Employee, "salary-adjustments", NestedKind::SalaryAdjustments),
        (EntityType::Contractor, "rate-adjustments", NestedKind::RateAdjustments),
    ] {
        let segment = RESOURCES.iter().find(|(_, listed)| *listed == entity).expect("a resource").0;
        let id = path_param("id", "The internal id or the externalId");
        let row = resources::row_name(kind);
        paths.insert(
            format!("/api/v1/org/{{orgId}}/{segment}/{{id}}/{history}"),
            json!({
                "get": returning(operation("The adjustment history, oldest first", "adjustments:read", vec![org.clone(), id.clone()], ("200", "The adjustments (one page)")), "200", list(json!({ "$ref": format!("#/components/schemas/{row}") }))),
                "post": with_body(
                    returning(operation("Add an adjustment (history is append-only: one made over the API with the same effectiveDate is replaced, none is removed); answers with the person", "adjustments:write", vec![org.clone(), id], ("201", "The person with the history")), "201", single(json!({ "$ref": format!("#/components/schemas/{}", resources::name(entity)) }))),
                    body(json!({ "$ref": format!("#/components/schemas/New{row}") }))),
            }),
        );
    }
    let integration = path_param("integrationId", "The integration's id");
    let hook = path_param("hookId", "The hook's id");
    paths.insert(
        "/api/v1/org/{orgId}/vacancies/{id}/fill".into(),
        json!({ "post": with_body(
            returning(operation("Fill a vacancy: creates the filler, moves the vacancy's allocations to it, links it and sets status `filled`, in one transaction (409 when it is filled already, or the filler's externalId is taken). Also requires `employees:write` or `contractors:write`", "vacancies:write", vec![org.clone(), path_param("id", "The vacancy's internal id or externalId")], ("201", "{ data: { vacancy, employee } } or { data: { vacancy, contractor } }")), "201", single(json!({ "$ref": "#/components/schemas/Filled" }))),
            body(json!({ "$ref": "#/components/schemas/VacancyFill" })),
        ) }),
    );
    // Typed: bodies and answers are `contract::integrations` types.
    let typed_integration = || single(reference::<typed::Integration>());
    paths.insert(
        "/api/v1/org/{orgId}/integrations".into(),
        json!({
            "get": returning(operation("List integrations", "integrations:read", vec![org.clone()], ("200", "The integrations")), "200", list(reference::<typed::Integration>())),
            "post": with_body(
                returning(operation("Create an integration", "integrations:write", vec![org.clone()], ("201", "The integration")), "201", typed_integration()),
                body(reference::<typed::NewIntegration>())),
        }),
    );
    paths.insert(
        "/api/v1/org/{orgId}/integrations/{integrationId}".into(),
        json!({
            "get": returning(operation("Get an integration", "integrations:read", vec![org.clone(), integration.clone()], ("200", "The integration")), "200", typed_integration()),
            "patch": with_body(
                returning(operation("Rename or re-describe an integration (sourceSystem is fixed)", "integrations:write", vec![org.clone(), integration.clone()], ("200", "The integration")), "200", typed_integration()),
                body(reference::<typed::IntegrationChange>())),
            "delete": operation("Delete an integration with its hooks, secrets and executions (409 while a hook runs; synced records stay)", "integrations:write", vec![org.clone(), integration.clone()], ("204", "Deleted")),
        }),
    );
    paths.insert(
        "/api/v1/org/{orgId}/integrations/{integrationId}/secrets".into(),
        json!({ "get": returning(operation("List secret names and updatedAt (never values)", "integrations:read", vec![org.clone(), integration.clone()], ("200", "The names")), "200", list(reference::<typed::SecretInfo>())) }),
    );
    let mut secret_name = path_param("name", "The secret's name, as hooks read it from ctx.secrets");
    secret_name["schema"]["pattern"] = json!(flowstate_store::integrations::KEY_PATTERN);
    paths.insert(
        "/api/v1/org/{orgId}/integrations/{integrationId}/secrets/{name}".into(),
        json!({
            "put": with_body(
                returning(operation("Set or replace a secret (encrypted at rest)", "integrations:write", vec![org.clone(), integration.clone(), secret_name.clone()], ("200", "Its name and updatedAt")), "200", single(reference::<typed::SecretInfo>())),
                body(reference::<typed::SecretValue>())),
            "delete": operation("Delete a secret", "integrations:write", vec![org.clone(), integration.clone(), secret_name], ("204", "Deleted")),
        }),
    );
    let typed_hook = || single(reference::<hooks::Hook>());
    paths.insert(
        "/api/v1/org/{orgId}/integrations/{integrationId}/hooks".into(),
        json!({
            "get": returning(operation("List the integration's hooks", "integrations:read", vec![org.clone(), integration.clone()], ("200", "The hooks")), "200", list(reference::<hooks::Hook>())),
            "post": with_body(
                returning(operation("Create a hook (its code must compile: a 400 gives the line and column)", "integrations:write", vec![org.clone(), integration.clone()], ("201", "The hook")), "201", typed_hook()),
                body(reference::<hooks::NewHook>())),
        }),
    );
    paths.insert(
        "/api/v1/org/{orgId}/hooks/{hookId}".into(),
        json!({
            "get": returning(operation("Get a hook", "integrations:read", vec![org.clone(), hook.clone()], ("200", "The hook")), "200", typed_hook()),
            "patch": with_body(
                returning(operation("Change a hook: fields given change, the rest stay; null clears schedule, preferredHour or eventTypes; type and entityType are fixed", "integrations:write", vec![org.clone(), hook.clone()], ("200", "The hook")), "200", typed_hook()),
                body(reference::<hooks::HookChange>())),
            "delete": operation("Delete a hook and its executions (409 while it runs)", "integrations:write", vec![org.clone(), hook.clone()], ("204", "Deleted")),
        }),
    );
    let typed_execution = || single(reference::<hooks::Execution>());
    let mut run = returning(
        operation(
            "Run a PULL hook now: queues an execution, which a free worker of any server starts (one execution of a hook at a time: 409 while one is queued or runs; 429 past the hourly limit)",
            "integrations:write",
            vec![org.clone(), hook.clone()],
            ("202", "The execution, queued"),
        ),
        "202",
        typed_execution(),
    );
    run["responses"]["429"] = error_response();
    paths.insert("/api/v1/org/{orgId}/hooks/{hookId}/run".into(), json!({ "post": run }));
    paths.insert(
        "/api/v1/org/{orgId}/hooks/{hookId}/executions".into(),
        json!({ "get": returning(operation("List the hook's executions, newest first, a page at a time", "executions:read", vec![org.clone(), hook,
            json!({ "name": "page", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1 } }),
            json!({ "name": "limit", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 50 } })], ("200", "A page of executions")), "200", list(reference::<hooks::Execution>())) }),
    );
    paths.insert(
        "/api/v1/org/{orgId}/executions/{executionId}".into(),
        json!({ "get": returning(operation("Get an execution (pages with counts and errors, logs, HTTP requests, error, warnings); visible while running", "executions:read", vec![org.clone(), path_param("executionId", "The execution's id")], ("200", "The execution")), "200", typed_execution()) }),
    );
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
    every_error_stated(document["paths"].as_object_mut().expect("an object"));
    let schemas = document["components"]["schemas"].as_object_mut().expect("an object");
    for (name, schema) in contract::components() {
        assert!(schemas.insert(name.clone(), schema.clone()).is_none(), "schema {name} is named twice");
    }
    document
}

/// The errors any operation of an organisation can answer with, stated on each: 401 (no
/// valid key), 403 (a key of another organisation, or without the scope), 400 where a body
/// or a query is read, 413 where a body is (over the edge's limit).
fn every_error_stated(paths: &mut Map<String, Value>) {
    for (path, operations) in paths.iter_mut() {
        if !path.starts_with("/api/v1/org/") {
            continue;
        }
        for operation in operations.as_object_mut().expect("an object").values_mut() {
            let has_body = operation.get("requestBody").is_some();
            let has_query = operation["parameters"]
                .as_array()
                .is_some_and(|parameters| parameters.iter().any(|parameter| parameter["in"] == "query"));
            let responses = operation["responses"].as_object_mut().expect("an object");
            let mut statuses = vec!["401", "403"];
            if has_body || has_query {
                statuses.push("400");
            }
            if has_body {
                statuses.push("413");
            }
            for status in statuses {
                responses.entry(status).or_insert_with(error_response);
            }
        }
    }
}

/// A month as the forecast takes it: `YYYY-MM`.
const MONTH_PATTERN: &str = "^[0-9]{4}-(0[1-9]|1[0-2])$";

/// `{ "data": schema }`.
fn single(schema: Value) -> Value {
    json!({ "type": "object", "required": ["data"], "properties": { "data": schema } })
}

/// The list envelope of `schema`: `{ data: [..], meta }`.
fn list(schema: Value) -> Value {
    json!({ "type": "object", "required": ["data", "meta"], "properties": {
        "data": { "type": "array", "items": schema },
        "meta": { "$ref": "#/components/schemas/ListMeta" } } })
}

/// `operation` answering `status` with a body of `schema`.
fn returning(mut operation: Value, status: &str, schema: Value) -> Value {
    operation["responses"][status]["content"] = json!({ "application/json": { "schema": schema } });
    operation
}

fn with_body(mut operation: Value, body: Value) -> Value {
    operation["requestBody"] = body;
    operation
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
        let pattern = regex::Regex::new(MONTH_PATTERN).unwrap();
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
        let mut served = vec!["GET /healthz".to_string(), "GET /metrics".into(), "GET /api/v1/openapi.json".into()];
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
