//! Success bodies: one object as `{ data }`, lists in the envelope `{ data, meta: { page,
//! limit, total, hasNextPage } }`.

use axum::{Json, http::StatusCode};
use serde::Serialize;
use serde_json::{Value, json};

/// `{ "data": … }` as a type, for answers serialized without a `Value` in between.
#[derive(Debug, Serialize)]
pub(crate) struct Data<T> {
    pub data: T,
}

/// 201 with the created object.
pub(crate) fn created(data: impl Serialize) -> (StatusCode, Json<Value>) {
    (StatusCode::CREATED, Json(json!({ "data": data })))
}

/// One page (1-based) of `total` rows.
pub(crate) fn page(data: impl Serialize, page: usize, limit: usize, total: usize) -> Json<Value> {
    let meta =
        crate::contract::envelope::ListMeta { page, limit, total, has_next_page: page.saturating_mul(limit) < total };
    Json(json!({ "data": data, "meta": meta }))
}

/// Every row on one page (for lists that stay short).
pub(crate) fn whole<T: Serialize>(rows: Vec<T>) -> Json<Value> {
    let total = rows.len();
    page(rows, 1, total.max(1), total)
}
