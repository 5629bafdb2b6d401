//! Integrations, their secrets and hooks, manual runs and executions.

use axum::{
    Json,
    extract::{Path, Query, State},
    http::StatusCode,
};
use flowstate_store::{
    OrgId,
    integrations::{Hook, HookUpdate, NewHook, RetryPolicy},
    kinds::{ExecutionStatus, HookType, Language, Trigger},
};
use flowstate_sync::EntityType;
use serde_json::{Value, json};

use crate::{
    AppState,
    auth::Org,
    contract::{
        checked,
        hooks::{
            Execution as ExecutionView, Hook as HookView, HookChange, HookPlan, NewHook as NewHookBody, PlanRequest,
        },
        integrations::{Integration, IntegrationChange, NewIntegration, SecretInfo, SecretValue},
    },
    error::{ApiError, ErrorCode},
    execution::blocking,
    reply::{self, created, whole},
    schedule::Schedule,
    scheduler::{MAX_EXECUTIONS_PER_HOUR, Refusal, may_start},
};

fn not_found(what: &str, id: &str) -> ApiError {
    ApiError::new(ErrorCode::NotFound, format!("no {what} {id:?}"))
}

pub(crate) async fn create_integration(
    State(state): State<AppState>,
    Org(org): Org,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let NewIntegration { name, description, source_system } = checked(&body)?;
    let integration = blocking(&state.store, move |store| {
        store.create_integration(&org, &name, description.as_deref(), &source_system)
    })
    .await?;
    Ok(created(Integration::from(integration)))
}

pub(crate) async fn list_integrations(State(state): State<AppState>, Org(org): Org) -> Result<Json<Value>, ApiError> {
    let integrations = blocking(&state.store, move |store| store.integrations(&org)).await?;
    Ok(whole(integrations.into_iter().map(Integration::from).collect()))
}

pub(crate) async fn get_integration(
    State(state): State<AppState>,
    Org(org): Org,
    Path((_, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let (org, key) = (org, id.clone());
    match blocking(&state.store, move |store| store.integration(&org, &key)).await? {
        Some(integration) => Ok(Json(json!({ "data": Integration::from(integration) }))),
        None => Err(not_found("integration", &id)),
    }
}

/// `PUT …/secrets/{name}` with `{ "value": "…" }`: sets or replaces; the value never comes back.
pub(crate) async fn put_secret(
    State(state): State<AppState>,
    Org(org): Org,
    Path((_, integration_id, name)): Path<(String, String, String)>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    // At least `flowstate_runtime::MIN_REDACTED_CHARS` (docs/decisions.md: very short
    // secrets); the schema says so, and a test ties the two.
    let SecretValue { value } = checked(&body)?;
    let sealed = state.vault.seal(&integration_id, &name, &value);
    let updated_at = sealed.updated_at.clone();
    blocking(&state.store, move |store| store.put_secret(&org, &integration_id, &sealed)).await?;
    Ok(Json(json!({ "data": SecretInfo { name, updated_at } })))
}

pub(crate) async fn delete_secret(
    State(state): State<AppState>,
    Org(org): Org,
    Path((_, integration_id, name)): Path<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    let (org, key) = (org, name.clone());
    if blocking(&state.store, move |store| store.delete_secret(&org, &integration_id, &key)).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found("secret", &name))
    }
}

/// Names and `updatedAt` only.
pub(crate) async fn list_secrets(
    State(state): State<AppState>,
    Org(org): Org,
    Path((_, integration_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let secrets = blocking(&state.store, move |store| store.secrets(&org, &integration_id)).await?;
    let names: Vec<SecretInfo> =
        secrets.into_iter().map(|secret| SecretInfo { name: secret.name, updated_at: secret.updated_at }).collect();
    Ok(whole(names))
}

pub(crate) async fn create_hook(
    State(state): State<AppState>,
    Org(org): Org,
    Path((_, integration_id)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let body: NewHookBody = checked(&body)?;
    let language = body.language.unwrap_or(Language::JavaScript);
    compiles(&body.name, language, &body.code).await?;
    let new = NewHook {
        name: body.name,
        hook_type: body.hook_type,
        entity_type: body.entity_type,
        event_types: body.event_types.unwrap_or_default(),
        language,
        code: body.code,
        schedule: body.schedule.map(|interval| interval.as_str().to_string()),
        preferred_hour: body.preferred_hour,
        enabled: body.enabled.unwrap_or(true),
        retry_policy: body.retry_policy.map(|policy| RetryPolicy { max_attempts: policy.max_attempts }),
    };
    let (create_org, hook_org) = (org.clone(), org);
    let hook = blocking(&state.store, move |store| store.create_hook(&create_org, &integration_id, new)).await?;
    let org = hook_org;
    Ok(created(shown(&state, &org, vec![hook]).await?.remove(0)))
}

/// A hook's code must compile (as the script it runs as) to be saved: a syntax error is a 400
/// with QuickJS's message and where it is (`details: { field, line, column }`), for an editor
/// to mark. Compiling takes milliseconds of CPU: it runs on the blocking pool.
async fn compiles(hook_name: &str, language: Language, code: &str) -> Result<(), ApiError> {
    let (file_name, code) = (language.file_name(hook_name), code.to_string());
    let checked = tokio::task::spawn_blocking(move || flowstate_runtime::check_syntax(&file_name, &code))
        .await
        .map_err(ApiError::internal)?;
    checked.map_err(|error| {
        ApiError::new(ErrorCode::ValidationError, format!("code does not compile: {}", error.message))
            .with_details(json!({ "field": "code", "line": error.line, "column": error.column }))
    })
}

/// `PATCH …/hooks/{hookId}`: the fields given change, the rest stay; `null` clears
/// `schedule` or `preferredHour`. `type` and `entityType` are fixed.
pub(crate) async fn update_hook(
    State(state): State<AppState>,
    Org(org): Org,
    Path((_, id)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let stored = find_hook(&state, &org, &id).await?;
    let change: HookChange = checked(&body)?;
    let mut fixed = Vec::new();
    if change.entity_type.is_some_and(|entity| entity != stored.entity_type) {
        fixed.push(
            json!({ "field": "entityType", "message": "entityType is fixed once the hook exists; create a new hook" }),
        );
    }
    if change.hook_type.is_some_and(|hook_type| hook_type != stored.hook_type) {
        fixed.push(json!({ "field": "type", "message": "type is fixed once the hook exists; create a new hook" }));
    }
    if !fixed.is_empty() {
        return Err(ApiError::new(ErrorCode::ValidationError, "the body is invalid").with_details(Value::Array(fixed)));
    }
    let update = HookUpdate {
        name: change.name,
        language: change.language,
        code: change.code,
        event_types: change.event_types.map(Option::unwrap_or_default),
        schedule: change.schedule.map(|schedule| schedule.map(|interval| interval.as_str().to_string())),
        preferred_hour: change.preferred_hour,
        enabled: change.enabled,
        retry_policy: change.retry_policy.map(|policy| RetryPolicy { max_attempts: policy.max_attempts }),
    };
    let language = update.language.unwrap_or(stored.language);
    if update.code.is_some() || language != stored.language {
        let code = update.code.as_deref().unwrap_or(&stored.code);
        compiles(update.name.as_deref().unwrap_or(&stored.name), language, code).await?;
    }
    let update_org = org.clone();
    let hook = blocking(&state.store, move |store| store.update_hook(&update_org, &stored.id, update)).await?;
    Ok(Json(json!({ "data": shown(&state, &org, vec![hook]).await?.remove(0) })))
}

/// `DELETE …/hooks/{hookId}`: the hook and its executions; 409 while it runs.
pub(crate) async fn delete_hook(
    State(state): State<AppState>,
    Org(org): Org,
    Path((_, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let (org, key) = (org, id.clone());
    if blocking(&state.store, move |store| store.delete_hook(&org, &key)).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found("hook", &id))
    }
}

/// `PATCH …/integrations/{id}`: `name` and `description` (null clears it); the
/// `sourceSystem` key is fixed.
pub(crate) async fn update_integration(
    State(state): State<AppState>,
    Org(org): Org,
    Path((_, id)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    // sourceSystem is not a field of a change: synced records remember their source by it.
    let IntegrationChange { name, description } = checked(&body)?;
    let integration = blocking(&state.store, move |store| {
        store.update_integration(&org, &id, name.as_deref(), description.as_ref().map(Option::as_deref))
    })
    .await?;
    Ok(Json(json!({ "data": Integration::from(integration) })))
}

/// `DELETE …/integrations/{id}`: with its hooks, secrets and executions; synced records stay.
pub(crate) async fn delete_integration(
    State(state): State<AppState>,
    Org(org): Org,
    Path((_, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let (org, key) = (org, id.clone());
    if blocking(&state.store, move |store| store.delete_integration(&org, &key)).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found("integration", &id))
    }
}

pub(crate) async fn list_hooks(
    State(state): State<AppState>,
    Org(org): Org,
    Path((_, integration_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let list_org = org.clone();
    let hooks = blocking(&state.store, move |store| store.hooks(&list_org, &integration_id)).await?;
    Ok(whole(shown(&state, &org, hooks).await?))
}

/// Hooks as the API shows them: each enabled scheduled PULL hook with its next run, in the
/// organisation's time zone.
async fn shown(state: &AppState, org: &OrgId, hooks: Vec<Hook>) -> Result<Vec<HookView>, ApiError> {
    let org = org.clone();
    let organization = blocking(&state.store, move |store| store.organization(&org)).await?;
    let timezone: chrono_tz::Tz = organization.timezone.parse().unwrap_or(chrono_tz::Tz::UTC);
    let now = chrono::Utc::now();
    Ok(hooks
        .into_iter()
        .map(|hook| {
            let schedule = hook.schedule.as_deref().and_then(|interval| Schedule::parse(interval, hook.preferred_hour));
            let next = schedule
                .filter(|_| hook.enabled && hook.hook_type == HookType::Pull)
                .map(|schedule| flowstate_store::timestamp(schedule.next_slot(timezone, now)));
            HookView { next_run_at: next, ..HookView::from(hook) }
        })
        .collect())
}

async fn find_hook(state: &AppState, org: &OrgId, id: &str) -> Result<Hook, ApiError> {
    let (org, key) = (org.clone(), id.to_string());
    blocking(&state.store, move |store| store.hook(&org, &key)).await?.ok_or_else(|| not_found("hook", id))
}

pub(crate) async fn get_hook(
    State(state): State<AppState>,
    Org(org): Org,
    Path((_, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let hook = find_hook(&state, &org, &id).await?;
    Ok(Json(json!({ "data": shown(&state, &org, vec![hook]).await?.remove(0) })))
}

/// `POST …/hooks/{hookId}/run`: a PULL execution now; 202 with the execution, which is
/// visible (running) at once.
pub(crate) async fn run_hook(
    State(state): State<AppState>,
    Org(org): Org,
    Path((_, id)): Path<(String, String)>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let hook = find_hook(&state, &org, &id).await?;
    if hook.hook_type != HookType::Pull {
        return Err(ApiError::new(ErrorCode::ValidationError, "PUSH hooks run when an entity changes, not on demand"));
    }
    if !hook.enabled {
        return Err(ApiError::new(ErrorCode::Conflict, "this hook is disabled; enable it to run it"));
    }
    let (lookup_org, integration_id, hook_id) = (org.clone(), hook.integration_id.clone(), hook.id.clone());
    let (integration, allowed) = blocking(&state.store, move |store| {
        let integration = store.integration(&lookup_org, &integration_id)?;
        Ok((integration, may_start(store, &lookup_org, &hook_id, chrono::Utc::now())?))
    })
    .await?;
    integration.ok_or_else(|| not_found("integration", &hook.integration_id))?;
    match allowed {
        Ok(()) => {}
        Err(Refusal::Unfinished) => {
            return Err(ApiError::new(
                ErrorCode::Conflict,
                "an execution of this hook is queued or running; one at a time",
            ));
        }
        Err(Refusal::HourlyLimit { recent }) => {
            return Err(ApiError::new(
                ErrorCode::RateLimited,
                format!("this hook ran {recent} times in the last hour; the limit is {MAX_EXECUTIONS_PER_HOUR}"),
            ));
        }
    }
    let (queue_org, hook_id) = (org.clone(), hook.id.clone());
    let at = flowstate_time::now();
    let execution =
        blocking(&state.store, move |store| store.queue_execution(&queue_org, &hook_id, Trigger::Manual, &at)).await?;
    // The queue is in the database: a worker of any server takes the run; this server's,
    // if it has them, are told at once.
    if let Some(runner) = &state.runner {
        runner.wake();
    }
    Ok((StatusCode::ACCEPTED, Json(json!({ "data": ExecutionView::from(execution) }))))
}

/// `POST …/hooks/{hookId}/plan`: a dry run of a PULL hook (its saved code, or the code in the
/// body): run for real on a PULL worker, its pages planned by the sync with nothing written.
/// The answer waits for the run; it is not stored as an execution.
pub(crate) async fn plan_hook(
    State(state): State<AppState>,
    Org(org): Org,
    Path((_, id)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let PlanRequest { code } = checked(&body)?;
    let mut hook = find_hook(&state, &org, &id).await?;
    if hook.hook_type != HookType::Pull {
        return Err(ApiError::new(
            ErrorCode::ValidationError,
            "only a PULL hook has a plan: a PUSH hook writes nothing here",
        ));
    }
    if let Some(code) = code {
        compiles(&hook.name, hook.language, &code).await?;
        hook.code = code;
    }
    let (lookup_org, integration_id) = (org.clone(), hook.integration_id.clone());
    let integration = blocking(&state.store, move |store| store.integration(&lookup_org, &integration_id))
        .await?
        .ok_or_else(|| not_found("integration", &hook.integration_id))?;
    let Some(runner) = &state.runner else {
        return Err(ApiError::new(ErrorCode::Unavailable, "this server runs no hooks"));
    };
    let (reply, answer) = tokio::sync::oneshot::channel();
    if !runner.plan(crate::runner::PlanJob { org, integration, hook, reply }) {
        return Err(ApiError::new(ErrorCode::Unavailable, "this server's hook workers have stopped"));
    }
    let dry_run = answer
        .await
        .map_err(|_| ApiError::new(ErrorCode::Unavailable, "the dry run was dropped (the server is stopping)"))?
        .map_err(|message| ApiError::new(ErrorCode::Conflict, message))?;
    let mut plan = dry_run.plan?;
    plan["execution"] = serde_json::to_value(&dry_run.record).map_err(ApiError::internal)?;
    let plan: HookPlan = serde_json::from_value(plan).map_err(ApiError::internal)?;
    Ok(Json(json!({ "data": plan })))
}

/// The hook's executions, newest first, a page at a time (`page`, `limit`; paged in SQL:
/// a PUSH hook has one per change).
pub(crate) async fn list_executions(
    State(state): State<AppState>,
    Org(org): Org,
    Path((_, id)): Path<(String, String)>,
    Query(params): Query<std::collections::HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let query = crate::list::ListQuery::parse(&params)?;
    let filter = execution_filter(&params)?;
    let hook = find_hook(&state, &org, &id).await?;
    let (page, limit) = (query.page, query.limit);
    let (executions, total) =
        blocking(&state.store, move |store| store.executions_page(&org, &hook.id, filter, page, limit)).await?;
    let executions: Vec<ExecutionView> = executions.into_iter().map(ExecutionView::from).collect();
    Ok(reply::page(executions, page, limit, total))
}

/// `status` and `trigger` of an executions list, each naming its parameter when refused.
fn execution_filter(
    params: &std::collections::HashMap<String, String>,
) -> Result<flowstate_store::integrations::ExecutionFilter, ApiError> {
    let mut problems = Vec::new();
    let status = spelled(params, "status", ExecutionStatus::parse, &ExecutionStatus::listed(), &mut problems);
    let trigger = spelled(params, "trigger", Trigger::parse, &Trigger::listed(), &mut problems);
    if !problems.is_empty() {
        return Err(ApiError::new(ErrorCode::ValidationError, "the query parameters are invalid")
            .with_details(Value::Array(problems)));
    }
    Ok(flowstate_store::integrations::ExecutionFilter { status, trigger })
}

/// The query parameter `name`, one of a closed set's spellings, or a problem naming it.
fn spelled<T>(
    params: &std::collections::HashMap<String, String>,
    name: &str,
    parse: fn(&str) -> Option<T>,
    listed: &str,
    problems: &mut Vec<Value>,
) -> Option<T> {
    let text = params.get(name)?;
    let parsed = parse(text);
    if parsed.is_none() {
        problems.push(json!({ "field": name, "message": format!("{name} must be one of {listed}, got {text:?}") }));
    }
    parsed
}

/// `GET /hook-starters?type=PULL&entity=employee`: the code a new hook starts from (the same
/// `flowstate hook init` writes).
pub(crate) async fn hook_starter(
    Org(_): Org,
    Query(params): Query<std::collections::HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let mut problems = Vec::new();
    let kind = spelled(&params, "type", HookType::parse, &HookType::listed(), &mut problems);
    let entity =
        spelled(&params, "entity", |text| text.parse::<EntityType>().ok(), &EntityType::listed(), &mut problems);
    let language = spelled(&params, "language", Language::parse, &Language::listed(), &mut problems);
    for (name, given) in [("type", params.contains_key("type")), ("entity", params.contains_key("entity"))] {
        if !given {
            problems.push(json!({ "field": name, "message": format!("{name} is required") }));
        }
    }
    let (Some(kind), Some(entity), true) = (kind, entity, problems.is_empty()) else {
        return Err(ApiError::new(ErrorCode::ValidationError, "the query parameters are invalid")
            .with_details(Value::Array(problems)));
    };
    let kind = match kind {
        HookType::Pull => flowstate_devkit::HookKind::Pull,
        HookType::Push => flowstate_devkit::HookKind::Push,
    };
    let typescript = language == Some(Language::TypeScript);
    let starter =
        crate::contract::hooks::HookStarter { code: flowstate_devkit::starter::code(kind, entity, typescript) };
    Ok(Json(json!({ "data": starter })))
}

pub(crate) async fn get_execution(
    State(state): State<AppState>,
    Org(org): Org,
    Path((_, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let (org, key) = (org, id.clone());
    match blocking(&state.store, move |store| store.execution(&org, &key)).await? {
        Some(execution) => Ok(Json(json!({ "data": ExecutionView::from(execution) }))),
        None => Err(not_found("execution", &id)),
    }
}
