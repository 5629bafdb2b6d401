//! The organisation's workforce resources: list and get.

use std::collections::HashMap;

use axum::{
    Json,
    extract::{Path, Query, State},
    http::HeaderMap,
};
use flowstate_store::OrgId;
use flowstate_sync::EntityType;
use serde_json::{Value, json};

use crate::{
    AppState,
    auth::authorize,
    error::{ApiError, ErrorCode},
    list::ListQuery,
};

/// The resources served, by path segment.
pub(crate) const RESOURCES: [(&str, EntityType); 6] = [
    ("employees", EntityType::Employee),
    ("contractors", EntityType::Contractor),
    ("vacancies", EntityType::Vacancy),
    ("teams", EntityType::Team),
    ("projects", EntityType::Project),
    ("assignments", EntityType::Assignment),
];

fn resource(segment: &str) -> Result<EntityType, ApiError> {
    RESOURCES
        .iter()
        .find(|(name, _)| *name == segment)
        .map(|(_, entity)| *entity)
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("no resource {segment:?}")))
}

/// Runs a store call on the blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
    state: &AppState,
    call: impl FnOnce(&flowstate_store::Store) -> Result<T, flowstate_store::StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    let store = state.store.clone();
    Ok(tokio::task::spawn_blocking(move || call(&store)).await.map_err(ApiError::internal)??)
}

pub(crate) async fn list(
    State(state): State<AppState>,
    Path((org, segment)): Path<(String, String)>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let entity = resource(&segment)?;
    authorize(&state, &headers, &org, &format!("{segment}:read")).await?;
    let query = ListQuery::parse(&params)?;
    let org = OrgId::new(org);
    let entities = blocking(&state, move |store| store.export(&org, entity)).await?;
    let (data, total) = query.apply(entities, entity == EntityType::Vacancy);
    let has_next_page = query.page.saturating_mul(query.limit) < total;
    Ok(Json(json!({
        "data": data,
        "meta": { "page": query.page, "limit": query.limit, "total": total, "hasNextPage": has_next_page },
    })))
}

pub(crate) async fn get_one(
    State(state): State<AppState>,
    Path((org, segment, id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let entity = resource(&segment)?;
    authorize(&state, &headers, &org, &format!("{segment}:read")).await?;
    let org = OrgId::new(org);
    let key = id.clone();
    match blocking(&state, move |store| store.find(&org, entity, &key)).await? {
        Some(found) => Ok(Json(json!({ "data": found }))),
        None => Err(ApiError::new(ErrorCode::NotFound, format!("no {entity} with id or externalId {id:?}"))),
    }
}
