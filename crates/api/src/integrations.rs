//! Integrations, their secrets and hooks, manual runs and executions.

use axum::{
    Json,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
};
use flowstate_store::{
    OrgId,
    integrations::{Hook, NewHook},
};
use flowstate_sync::EntityType;
use serde_json::{Map, Value, json};

use crate::{
    AppState,
    auth::authorize,
    error::{ApiError, ErrorCode},
    resources::blocking,
    runner::Job,
    scheduler::MAX_EXECUTIONS_PER_HOUR,
};

/// Field-by-field reading of a JSON body, collecting every problem.
struct Body {
    object: Map<String, Value>,
    problems: Vec<Value>,
}

impl Body {
    /// The request body, which must be a JSON object (any problem is a `VALIDATION_ERROR`).
    fn new(bytes: axum::body::Bytes) -> Result<Body, ApiError> {
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(object)) => Ok(Body { object, problems: Vec::new() }),
            Ok(_) => Err(ApiError::new(ErrorCode::ValidationError, "the body must be a JSON object")),
            Err(error) => Err(ApiError::new(ErrorCode::ValidationError, format!("the body is not JSON: {error}"))),
        }
    }

    fn problem(&mut self, field: &str, message: String) {
        self.problems.push(json!({ "field": field, "message": message }));
    }

    fn text(&mut self, field: &str, required: bool) -> Option<String> {
        match self.object.get(field) {
            Some(Value::String(text)) => Some(text.clone()),
            None | Some(Value::Null) if !required => None,
            None | Some(Value::Null) => {
                self.problem(field, format!("{field} is required"));
                None
            }
            Some(_) => {
                self.problem(field, format!("{field} must be a string"));
                None
            }
        }
    }

    fn finish(self) -> Result<(), ApiError> {
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(ApiError::new(ErrorCode::ValidationError, "the body is invalid")
                .with_details(Value::Array(self.problems)))
        }
    }
}

fn created(data: impl serde::Serialize) -> (StatusCode, Json<Value>) {
    (StatusCode::CREATED, Json(json!({ "data": data })))
}

fn not_found(what: &str, id: &str) -> ApiError {
    ApiError::new(ErrorCode::NotFound, format!("no {what} {id:?}"))
}

pub(crate) async fn create_integration(
    State(state): State<AppState>,
    Path(org): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    authorize(&state, &headers, &org, "integrations:write").await?;
    let mut body = Body::new(body)?;
    let name = body.text("name", true);
    let description = body.text("description", false);
    let source = body.text("sourceSystem", true);
    body.finish()?;
    let (name, source) = (name.unwrap_or_default(), source.unwrap_or_default());
    let org = OrgId::new(org);
    let integration =
        blocking(&state, move |store| store.create_integration(&org, &name, description.as_deref(), &source)).await?;
    Ok(created(integration))
}

pub(crate) async fn list_integrations(
    State(state): State<AppState>,
    Path(org): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    authorize(&state, &headers, &org, "integrations:read").await?;
    let org = OrgId::new(org);
    let integrations = blocking(&state, move |store| store.integrations(&org)).await?;
    Ok(Json(list_of(integrations)))
}

/// Every row on one page (these lists are short).
fn list_of<T: serde::Serialize>(rows: Vec<T>) -> Value {
    let total = rows.len();
    json!({ "data": rows, "meta": { "page": 1, "limit": total.max(1), "total": total, "hasNextPage": false } })
}

pub(crate) async fn get_integration(
    State(state): State<AppState>,
    Path((org, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    authorize(&state, &headers, &org, "integrations:read").await?;
    let (org, key) = (OrgId::new(org), id.clone());
    match blocking(&state, move |store| store.integration(&org, &key)).await? {
        Some(integration) => Ok(Json(json!({ "data": integration }))),
        None => Err(not_found("integration", &id)),
    }
}

/// `PUT …/secrets/{name}` with `{ "value": "…" }`: sets or replaces; the value never comes back.
pub(crate) async fn put_secret(
    State(state): State<AppState>,
    Path((org, integration_id, name)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    authorize(&state, &headers, &org, "integrations:write").await?;
    let mut body = Body::new(body)?;
    let value = body.text("value", true);
    body.finish()?;
    let sealed = state.vault.seal(&integration_id, &name, &value.unwrap_or_default());
    let updated_at = sealed.updated_at.clone();
    let org = OrgId::new(org);
    blocking(&state, move |store| store.put_secret(&org, &integration_id, &sealed)).await?;
    Ok(Json(json!({ "data": { "name": name, "updatedAt": updated_at } })))
}

pub(crate) async fn delete_secret(
    State(state): State<AppState>,
    Path((org, integration_id, name)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    authorize(&state, &headers, &org, "integrations:write").await?;
    let (org, key) = (OrgId::new(org), name.clone());
    if blocking(&state, move |store| store.delete_secret(&org, &integration_id, &key)).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found("secret", &name))
    }
}

/// Names and `updatedAt` only.
pub(crate) async fn list_secrets(
    State(state): State<AppState>,
    Path((org, integration_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    authorize(&state, &headers, &org, "integrations:read").await?;
    let org = OrgId::new(org);
    let secrets = blocking(&state, move |store| store.secrets(&org, &integration_id)).await?;
    let names: Vec<Value> =
        secrets.into_iter().map(|secret| json!({ "name": secret.name, "updatedAt": secret.updated_at })).collect();
    Ok(Json(list_of(names)))
}

pub(crate) async fn create_hook(
    State(state): State<AppState>,
    Path((org, integration_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    authorize(&state, &headers, &org, "integrations:write").await?;
    let mut body = Body::new(body)?;
    let name = body.text("name", true);
    let hook_type = body.text("type", true);
    let entity = body.text("entityType", true).and_then(|text| match text.parse::<EntityType>() {
        Ok(entity) => Some(entity),
        Err(message) => {
            body.problem("entityType", message);
            None
        }
    });
    let code = body.text("code", true);
    let schedule = body.text("schedule", false);
    let event_types = match body.object.get("eventTypes").cloned() {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => {
            items.iter().filter_map(Value::as_str).map(str::to_string).collect()
        }
        Some(_) => {
            body.problem("eventTypes", "eventTypes must be an array of strings".into());
            Vec::new()
        }
    };
    let preferred_hour = match body.object.get("preferredHour").cloned() {
        None | Some(Value::Null) => None,
        Some(Value::Number(number)) if number.as_u64().is_some_and(|hour| hour <= 23) => {
            number.as_u64().map(|hour| hour as u8)
        }
        Some(_) => {
            body.problem("preferredHour", "preferredHour must be a whole number from 0 to 23".into());
            None
        }
    };
    let enabled = match body.object.get("enabled").cloned() {
        None | Some(Value::Null) => true,
        Some(Value::Bool(enabled)) => enabled,
        Some(_) => {
            body.problem("enabled", "enabled must be true or false".into());
            true
        }
    };
    body.finish()?;
    let new = NewHook {
        name: name.unwrap_or_default(),
        hook_type: hook_type.unwrap_or_default(),
        entity_type: entity.unwrap_or(EntityType::Employee),
        event_types,
        code: code.unwrap_or_default(),
        schedule,
        preferred_hour,
        enabled,
    };
    let org = OrgId::new(org);
    let hook = blocking(&state, move |store| store.create_hook(&org, &integration_id, new)).await?;
    Ok(created(hook))
}

pub(crate) async fn list_hooks(
    State(state): State<AppState>,
    Path((org, integration_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    authorize(&state, &headers, &org, "integrations:read").await?;
    let org = OrgId::new(org);
    let hooks = blocking(&state, move |store| store.hooks(&org, &integration_id)).await?;
    Ok(Json(list_of(hooks)))
}

async fn find_hook(state: &AppState, org: &OrgId, id: &str) -> Result<Hook, ApiError> {
    let (org, key) = (org.clone(), id.to_string());
    blocking(state, move |store| store.hook(&org, &key)).await?.ok_or_else(|| not_found("hook", id))
}

pub(crate) async fn get_hook(
    State(state): State<AppState>,
    Path((org, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    authorize(&state, &headers, &org, "integrations:read").await?;
    let hook = find_hook(&state, &OrgId::new(org), &id).await?;
    Ok(Json(json!({ "data": hook })))
}

/// `POST …/hooks/{hookId}/run`: a PULL execution now; 202 with the execution, which is
/// visible (running) at once.
pub(crate) async fn run_hook(
    State(state): State<AppState>,
    Path((org, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    authorize(&state, &headers, &org, "integrations:write").await?;
    let org = OrgId::new(org);
    let hook = find_hook(&state, &org, &id).await?;
    if hook.hook_type != "PULL" {
        return Err(ApiError::new(ErrorCode::ValidationError, "PUSH hooks run when an entity changes, not on demand"));
    }
    let (lookup_org, integration_id, hook_id) = (org.clone(), hook.integration_id.clone(), hook.id.clone());
    let (integration, running, recent) = blocking(&state, move |store| {
        let integration = store.integration(&lookup_org, &integration_id)?;
        let running = store.has_running_execution(&lookup_org, &hook_id)?;
        let hour_ago = flowstate_store::timestamp(chrono::Utc::now() - chrono::Duration::hours(1));
        let recent = store.executions_since(&lookup_org, &hook_id, &hour_ago)?;
        Ok((integration, running, recent))
    })
    .await?;
    let integration = integration.ok_or_else(|| not_found("integration", &hook.integration_id))?;
    if running {
        return Err(ApiError::new(ErrorCode::Conflict, "an execution of this hook is running; one at a time"));
    }
    if recent >= MAX_EXECUTIONS_PER_HOUR {
        return Err(ApiError::new(
            ErrorCode::RateLimited,
            format!("this hook ran {recent} times in the last hour; the limit is {MAX_EXECUTIONS_PER_HOUR}"),
        ));
    }
    let Some(runner) = state.runner.clone() else {
        return Err(ApiError::internal("this server runs no hooks"));
    };
    let (start_org, hook_id) = (org.clone(), hook.id.clone());
    let execution = blocking(&state, move |store| store.start_execution(&start_org, &hook_id, "manual")).await?;
    if !runner.submit(Job { org, integration, hook, execution: execution.clone() }) {
        return Err(ApiError::internal("the execution queue is closed"));
    }
    Ok((StatusCode::ACCEPTED, Json(json!({ "data": execution }))))
}

pub(crate) async fn list_executions(
    State(state): State<AppState>,
    Path((org, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    authorize(&state, &headers, &org, "executions:read").await?;
    let org = OrgId::new(org);
    let hook = find_hook(&state, &org, &id).await?;
    let executions = blocking(&state, move |store| store.executions(&org, &hook.id)).await?;
    Ok(Json(list_of(executions)))
}

pub(crate) async fn get_execution(
    State(state): State<AppState>,
    Path((org, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    authorize(&state, &headers, &org, "executions:read").await?;
    let (org, key) = (OrgId::new(org), id.clone());
    match blocking(&state, move |store| store.execution(&org, &key)).await? {
        Some(execution) => Ok(Json(json!({ "data": execution }))),
        None => Err(not_found("execution", &id)),
    }
}
