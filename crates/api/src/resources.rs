//! The organisation's workforce resources: list, get, create, update, delete.
//!
//! Writes take the fields of a PULL record's `data` (data-model.md) and go through the
//! sync's rules in the store; their change events have source `api`.

use std::collections::HashMap;

use axum::{
    Json,
    extract::{Path, Query, State},
    http::StatusCode,
};
use flowstate_store::{EntityWrite, Filled, ListOrder, ListPageQuery, OrgId, Written, keys::Scope};
use flowstate_sync::EntityType;
use serde_json::{Value, json};

use crate::{
    AppState,
    auth::{Caller, Org, require},
    error::{ApiError, ErrorCode},
    execution::blocking,
    list::ListQuery,
};

pub(crate) async fn list(
    entity: EntityType,
    State(state): State<AppState>,
    Org(org): Org,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let query = ListQuery::parse(&params)?;
    // Ordered by a column and not searched: paged in the database. Otherwise the query is
    // applied in memory (same order either way) to every entity of the type, or, with a
    // search, to those the database finds may mention it.
    let in_database = ListOrder::for_field(entity, &query.sort_by)
        .filter(|_| query.search.is_none() && entity != EntityType::Assignment);
    let (data, total) = match in_database {
        Some(order) => {
            let page = ListPageQuery {
                order,
                descending: query.descending,
                exclude_filled: query.exclude_filled,
                page: query.page,
                limit: query.limit,
            };
            blocking(&state.store, move |store| store.list_page(&org, entity, &page)).await?
        }
        None => {
            // Sorting and filtering every entity is CPU work of its own: on the blocking pool,
            // not on an HTTP worker, where it held up every other request for as long.
            let applied = query.clone();
            blocking(&state.store, move |store| {
                let entities = match &applied.search {
                    Some(text) => store.export_mentioning(&org, entity, text)?,
                    None => store.export(&org, entity)?,
                };
                Ok(applied.apply(entities, entity == EntityType::Vacancy))
            })
            .await?
        }
    };
    Ok(crate::reply::page(data, query.page, query.limit, total))
}

pub(crate) async fn get_one(
    entity: EntityType,
    State(state): State<AppState>,
    Org(org): Org,
    Path((_, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let key = id.clone();
    match blocking(&state.store, move |store| store.find(&org, entity, &key)).await? {
        Some(found) => Ok(Json(json!({ "data": found }))),
        None => Err(ApiError::new(ErrorCode::NotFound, format!("no {entity} with id or externalId {id:?}"))),
    }
}

/// The entity written, or a `VALIDATION_ERROR` listing every field that broke a rule.
pub(crate) fn written(written: Written) -> Result<Value, ApiError> {
    match written {
        Written::Entity(entity) => Ok(entity),
        Written::Deleted => Ok(Value::Null),
        Written::Rejected(errors) => Err(rejected(&errors)),
    }
}

/// A `VALIDATION_ERROR` listing every field that broke a rule.
fn rejected(errors: &[flowstate_sync::RecordError]) -> ApiError {
    let details: Vec<Value> =
        errors.iter().map(|error| json!({ "field": error.field, "message": error.message })).collect();
    let message = errors.first().map_or_else(|| "the body is invalid".to_string(), |error| error.message.clone());
    ApiError::new(ErrorCode::ValidationError, message).with_details(Value::Array(details))
}

/// The internal id of the entity `{id}` names (its id or externalId), or 404.
pub(crate) async fn resolve(state: &AppState, org: &OrgId, entity: EntityType, id: &str) -> Result<String, ApiError> {
    let (lookup_org, key) = (org.clone(), id.to_string());
    let found = blocking(&state.store, move |store| store.find(&lookup_org, entity, &key)).await?;
    found
        .and_then(|found| found["id"].as_str().map(str::to_string))
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("no {entity} with id or externalId {id:?}")))
}

/// `POST /{resource}`: a new entity; `externalId` is optional (required for assignments).
pub(crate) async fn create(
    entity: EntityType,
    State(state): State<AppState>,
    Org(org): Org,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let mut data = crate::body::object(&body)?;
    refuse_deleted_at(entity, &data)?;
    let external_id = match data.remove("externalId") {
        None | Some(Value::Null) => None,
        Some(value) => match flowstate_sync::check(flowstate_sync::schema::FieldKind::Id, &value) {
            Ok(external_id) => external_id.as_text().map(str::to_string),
            Err(error) => return Err(ApiError::invalid_field("externalId", format!("externalId {error}"))),
        },
    };
    let write = EntityWrite::Create { external_id, data };
    let entity = written(blocking(&state.store, move |store| store.write_entity(&org, entity, write)).await?)?;
    Ok(crate::reply::created(entity))
}

/// `PATCH /{resource}/{id}`: the fields given change (null clears), the rest stay.
pub(crate) async fn update(
    entity: EntityType,
    State(state): State<AppState>,
    Org(org): Org,
    Path((_, id)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let data = crate::body::object(&body)?;
    refuse_deleted_at(entity, &data)?;
    if data.contains_key("externalId") {
        return Err(ApiError::invalid_field("externalId", "externalId is set on creation and fixed after"));
    }
    let id = resolve(&state, &org, entity, &id).await?;
    let write = EntityWrite::Update { id, data };
    let entity = written(blocking(&state.store, move |store| store.write_entity(&org, entity, write)).await?)?;
    Ok(Json(json!({ "data": entity })))
}

/// `deletedAt` is how a sync deletes; over REST, `DELETE` does (so a create or a change
/// never answers with nothing).
fn refuse_deleted_at(entity: EntityType, data: &serde_json::Map<String, Value>) -> Result<(), ApiError> {
    if data.contains_key("deletedAt") {
        return Err(ApiError::invalid_field(
            "deletedAt",
            format!("deletedAt is not a field of a REST write: DELETE the {entity} to delete it"),
        ));
    }
    Ok(())
}

/// `DELETE /{resource}/{id}`: hard-deletes, as `deletedAt` in a sync does.
pub(crate) async fn delete(
    entity: EntityType,
    State(state): State<AppState>,
    Org(org): Org,
    Path((_, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let id = resolve(&state, &org, entity, &id).await?;
    written(blocking(&state.store, move |store| store.write_entity(&org, entity, EntityWrite::Delete { id })).await?)?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /vacancies/{id}/fill` (data-model.md "Vacancy fill"): creates the filler
/// (`fillerType` `employee`, the default, or `contractor`), moves the vacancy's allocations
/// to it, links it and sets the vacancy `filled`, in one transaction. Needs `vacancies:write`
/// and the filler's write scope.
pub(crate) async fn fill(
    State(state): State<AppState>,
    Org(org): Org,
    Path((_, id)): Path<(String, String)>,
    axum::Extension(caller): axum::Extension<Caller>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let body = crate::body::object(&body)?;
    let filler = match body.get("fillerType") {
        None | Some(Value::Null) => EntityType::Employee,
        Some(Value::String(kind)) if kind == "employee" => EntityType::Employee,
        Some(Value::String(kind)) if kind == "contractor" => EntityType::Contractor,
        Some(other) => {
            let message = format!("fillerType must be \"employee\" or \"contractor\", got {other}");
            return Err(ApiError::invalid_field("fillerType", message));
        }
    };
    require(&caller, if filler == EntityType::Employee { Scope::EmployeesWrite } else { Scope::ContractorsWrite })?;
    match blocking(&state.store, move |store| store.fill_vacancy(&org, &id, filler, &body)).await? {
        Filled::Done { vacancy, filler: person } => {
            Ok((StatusCode::CREATED, Json(json!({ "data": { "vacancy": vacancy, filler.as_str(): person } }))))
        }
        Filled::Rejected(errors) => Err(rejected(&errors)),
    }
}
