//! Reference data (job roles, custom attribute definitions, exchange rates) and the
//! adjustment history of employees (salary) and contractors (rate).

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use flowstate_store::EntityWrite;
use flowstate_sync::{EntityType, NestedKind};
use serde_json::{Value, json};

use crate::{
    AppState,
    auth::Org,
    contract::{checked, reference as typed},
    error::{ApiError, ErrorCode},
    execution::blocking,
    reply::{created, whole},
    resources::{resolve, written},
};

pub(crate) async fn list_job_roles(State(state): State<AppState>, Org(org): Org) -> Result<Json<Value>, ApiError> {
    let roles = blocking(&state.store, move |store| store.job_roles(&org)).await?;
    Ok(whole(roles.into_iter().map(typed::JobRole::from).collect()))
}

/// `POST /job-roles` with `{ title, externalId? }`.
pub(crate) async fn create_job_role(
    State(state): State<AppState>,
    Org(org): Org,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let typed::NewJobRole { title, external_id } = checked(&body)?;
    let role = blocking(&state.store, move |store| store.create_job_role(&org, &title, external_id.as_deref())).await?;
    Ok(created(typed::JobRole::from(role)))
}

pub(crate) async fn list_definitions(State(state): State<AppState>, Org(org): Org) -> Result<Json<Value>, ApiError> {
    let definitions = blocking(&state.store, move |store| store.custom_attribute_definitions(&org)).await?;
    Ok(whole(definitions.into_iter().map(typed::AttributeDefinition::from).collect()))
}

/// `POST /custom-attribute-definitions` with `{ name, attributeKey?, fieldType, entityTypes }`.
pub(crate) async fn create_definition(
    State(state): State<AppState>,
    Org(org): Org,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let typed::NewAttributeDefinition { name, attribute_key, field_type, entity_types } = checked(&body)?;
    let key = attribute_key
        .unwrap_or_else(|| flowstate_store::reference::AttributeKey::from_name(&name).as_str().to_string());
    let mut entities: Vec<EntityType> = entity_types.into_iter().map(typed::DefinableEntity::entity).collect();
    entities.sort();
    entities.dedup();
    let definition = blocking(&state.store, move |store| {
        store.define_custom_attribute(&org, &name, &key, field_type, &entities)?;
        let definitions = store.custom_attribute_definitions(&org)?;
        definitions
            .into_iter()
            .find(|definition| definition.attribute_key == key)
            .ok_or_else(|| flowstate_store::StoreError::NotFound(format!("custom attribute {key:?}")))
    })
    .await?;
    Ok(created(typed::AttributeDefinition::from(definition)))
}

pub(crate) async fn list_exchange_rates(State(state): State<AppState>, Org(org): Org) -> Result<Json<Value>, ApiError> {
    let rates = blocking(&state.store, move |store| store.exchange_rates(&org)).await?;
    Ok(whole(rates.into_iter().map(typed::ExchangeRate::from).collect()))
}

/// `POST /exchange-rates` with `{ fromCurrency, toCurrency, rate, effectiveDate }`: sets the
/// pair's rate from that date on (a rate of the same pair and date is replaced).
pub(crate) async fn put_exchange_rate(
    State(state): State<AppState>,
    Org(org): Org,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let typed::NewExchangeRate { from_currency, to_currency, rate, effective_date } = checked(&body)?;
    let rate = blocking(&state.store, move |store| {
        store.put_exchange_rate(&org, &from_currency, &to_currency, rate, &effective_date)
    })
    .await?;
    Ok(created(typed::ExchangeRate::from(rate)))
}

pub(crate) async fn delete_exchange_rate(
    State(state): State<AppState>,
    Org(org): Org,
    Path((_, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let (org, key) = (org, id.clone());
    if blocking(&state.store, move |store| store.delete_exchange_rate(&org, &key)).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::new(ErrorCode::NotFound, format!("no exchange rate {id:?}")))
    }
}

/// The adjustment history of one employee (`salaryAdjustments`) or contractor
/// (`rateAdjustments`), oldest first.
pub(crate) async fn list_adjustments(
    kind: NestedKind,
    entity: EntityType,
    State(state): State<AppState>,
    Org(org): Org,
    Path((_, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let key = id.clone();
    let found = blocking(&state.store, move |store| store.find(&org, entity, &key)).await?;
    let found =
        found.ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("no {entity} with id or externalId {id:?}")))?;
    let rows = found[kind.key()].as_array().cloned().unwrap_or_default();
    Ok(whole(rows))
}

/// Adds an adjustment to the history (one of the same `effectiveDate` made over the API is
/// replaced; none is removed): `{ effectiveDate, salary, bonus?, currencyCode, reason? }` or
/// `{ effectiveDate, rateType, rate, currencyCode, reason? }`. Answers with the entity.
pub(crate) async fn add_adjustment(
    kind: NestedKind,
    entity: EntityType,
    State(state): State<AppState>,
    Org(org): Org,
    Path((_, id)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let adjustment = crate::body::object(&body)?;
    let id = resolve(&state, &org, entity, &id).await?;
    let mut data = serde_json::Map::new();
    data.insert(kind.key().to_string(), json!([adjustment]));
    let write = EntityWrite::Append { id, data };
    let entity = written(blocking(&state.store, move |store| store.write_entity(&org, entity, write)).await?)?;
    Ok(created(entity))
}

pub(crate) async fn list_work_types(State(state): State<AppState>, Org(org): Org) -> Result<Json<Value>, ApiError> {
    let work_types = blocking(&state.store, move |store| store.work_types(&org)).await?;
    Ok(whole(work_types.into_iter().map(typed::WorkType::from).collect()))
}

/// `POST /work-types` with `{ name, externalId?, overheadPercentage }` (`30` is 30 %).
pub(crate) async fn create_work_type(
    State(state): State<AppState>,
    Org(org): Org,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let typed::NewWorkType { name, external_id, overhead_percentage } = checked(&body)?;
    let created_type = blocking(&state.store, move |store| {
        store.create_work_type(&org, &name, external_id.as_deref(), overhead_percentage)
    })
    .await?;
    Ok(created(typed::WorkType::from(created_type)))
}

/// `PATCH /work-types/{id}`: the fields given (`externalId: null` clears it).
pub(crate) async fn update_work_type(
    State(state): State<AppState>,
    Org(org): Org,
    Path((_, id)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let typed::WorkTypeChange { name, external_id, overhead_percentage } = checked(&body)?;
    let update = flowstate_store::reference::WorkTypeUpdate { name, external_id, overhead_percentage };
    let changed = blocking(&state.store, move |store| store.update_work_type(&org, &id, update)).await?;
    Ok(Json(json!({ "data": typed::WorkType::from(changed) })))
}

pub(crate) async fn delete_work_type(
    State(state): State<AppState>,
    Org(org): Org,
    Path((_, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let (org, key) = (org, id.clone());
    if blocking(&state.store, move |store| store.delete_work_type(&org, &key)).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::new(ErrorCode::NotFound, format!("no work type {id:?}")))
    }
}
