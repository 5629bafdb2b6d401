//! The REST API (`/api/v1/org/{orgId}/…`), over a [`Store`].
//!
//! Conventions (issue 5, the product's public API): `Authorization: Bearer
//! private_{id}_{secret}` keys with scopes; lists as `{ data, meta: { page, limit, total,
//! hasNextPage } }`; single objects as `{ data }`; every error as `{ error: { code,
//! message, details?, errorId } }`; `{id}` is the internal id or the externalId.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let store = std::sync::Arc::new(flowstate_store::Store::open("flowstate.db").unwrap());
//! let state = flowstate_api::AppState {
//!     store,
//!     vault: flowstate_api::vault::Vault::new([0; 32]),
//!     runner: None,
//!     metrics: Default::default(),
//! };
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! flowstate_api::serve(listener, state, std::future::pending()).await
//! # }
//! ```
//!
//! **Architecture Invariant:** handlers are thin: they authenticate, authorise, parse the
//! query, and call the store (on the blocking pool: the store is synchronous); the rules of
//! the product live in the store and the sync crate.

mod auth;
mod body;
mod contract;
pub mod dispatcher;
pub mod dry_run;
mod edge;
mod error;
mod execution;
pub mod fair;
pub mod forecast;
mod integrations;
pub mod kv;
mod list;
pub mod metrics;
mod openapi;
mod reference;
mod reply;
mod resources;
mod routes;
pub mod runner;
pub mod schedule;
pub mod scheduler;
pub mod vault;
mod workers;

use std::{future::Future, sync::Arc};

use axum::{Json, Router, routing::get};
use flowstate_store::Store;
use serde_json::json;

pub use edge::{EdgeSettings, MAX_URI_BYTES};
pub use error::{ApiError, ErrorCode};
pub use execution::hook_org;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<Store>,
    /// Seals and opens integration secrets.
    pub vault: vault::Vault,
    /// Runs hook executions; `None` for a server that runs none.
    pub runner: Option<runner::Runner>,
    pub metrics: Arc<metrics::Metrics>,
}

/// The whole HTTP surface.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(health))
        .route("/api/v1/openapi.json", get(|| async { Json(openapi::document()) }))
        .route("/metrics", get(render_metrics))
        .route("/api/v1/key", get(auth::calling_key))
        .merge(routes::organisation(&state))
        .with_state(state)
        // Everything else is the web console's, or nothing's.
        .fallback_service(flowstate_console::router(
            Router::new().fallback(|| async { ApiError::new(ErrorCode::NotFound, "no such route") }),
        ))
}

/// `ok`, or 503 with what is wrong (a hook worker or the dispatch loop could not start).
async fn health(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> Result<Json<serde_json::Value>, ApiError> {
    match state.runner.as_ref().map_or(Ok(()), runner::Runner::health) {
        Ok(()) => Ok(Json(json!({ "status": "ok" }))),
        Err(problems) => Err(ApiError::new(ErrorCode::Unavailable, problems.to_string())),
    }
}

async fn render_metrics(axum::extract::State(state): axum::extract::State<AppState>) -> Result<String, ApiError> {
    let counts = execution::blocking(&state.store, |store| store.execution_counts()).await?;
    Ok(state.metrics.render(&counts))
}

/// Serves the API on `listener` until `shutdown` completes (in-flight requests finish), with
/// the default [`EdgeSettings`].
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, state, EdgeSettings::default(), shutdown).await
}

/// [`serve`] with connection settings.
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    state: AppState,
    settings: EdgeSettings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    edge::serve(listener, router(state), settings, shutdown).await
}
