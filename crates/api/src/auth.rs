//! Bearer keys: who is calling, for which organisation, with which scopes.
//!
//! [`authenticate`] runs before any handler of `/api/v1/org/{orgId}/…`: it checks the key and
//! the path's organisation before a byte of the body is read (so an unauthenticated upload is
//! refused without being received, and `Expect: 100-continue` is answered with the refusal,
//! never with `100 Continue`). Each operation's scope is then checked by [`require_scope`]
//! (the route table in `crate::routes` says which), and handlers take the checked
//! organisation as [`Org`].

use axum::{
    extract::{FromRequestParts, Request, State},
    http::{header::AUTHORIZATION, request::Parts},
    middleware::Next,
    response::{IntoResponse, Response},
};
use flowstate_store::{
    OrgId,
    keys::{ApiKey, Scope},
};

use crate::{
    AppState,
    error::{ApiError, ErrorCode},
};

/// The caller's live key, for its own organisation (put in the request by [`authenticate`]).
#[derive(Clone, Debug)]
pub(crate) struct Caller(pub ApiKey);

/// Middleware of the organisation routes: a live key of the path's organisation, or the
/// error (401 without one, 403 for another organisation's key), before the body is read.
pub(crate) async fn authenticate(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    // Read from the request before waiting: a body is not `Sync`, so a borrowed request
    // cannot be held across an await in a handler's future.
    let token = bearer(request.headers());
    // `/api/v1/org/{org}/…`: the organisation as the path spells it (percent-decoding cannot
    // turn another organisation's id into this key's: ids are letters, digits and `_`).
    let org =
        request.uri().path().strip_prefix("/api/v1/org/").and_then(|rest| rest.split('/').next()).map(str::to_string);
    match caller(&state, token, org).await {
        Ok(caller) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Err(error) => error.into_response(),
    }
}

/// The token of an `Authorization: Bearer …` header.
fn bearer(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        // The scheme's name is case-insensitive (RFC 9110 §11.1).
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim().to_string())
}

/// The live key `token` stands for, or 401.
async fn live_key(state: &AppState, token: Option<String>) -> Result<ApiKey, ApiError> {
    let unauthorized = || {
        ApiError::new(ErrorCode::Unauthorized, "send a live API key as `Authorization: Bearer private_{id}_{secret}`")
    };
    let token = token.ok_or_else(unauthorized)?;
    crate::execution::blocking(&state.store, move |store| store.authenticate(&token)).await?.ok_or_else(unauthorized)
}

/// `GET /api/v1/key`: the calling key and its organisation (any live key may ask).
pub(crate) async fn calling_key(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let key = live_key(&state, bearer(&headers)).await?;
    let org = key.org.clone();
    let organization = crate::execution::blocking(&state.store, move |store| store.organization(&org)).await?;
    let answer = crate::contract::session::CallingKey {
        id: key.id,
        name: key.name,
        scopes: key.scopes.iter().map(|scope| scope.as_str()).collect(),
        created_at: key.created_at,
        organization: organization.into(),
    };
    Ok(axum::Json(serde_json::json!({ "data": answer })))
}

async fn caller(state: &AppState, token: Option<String>, org: Option<String>) -> Result<Caller, ApiError> {
    let key = live_key(state, token).await?;
    // Another organisation's data is refused the same way whether or not it exists.
    if org.as_deref() != Some(key.org.as_str()) {
        return Err(ApiError::new(ErrorCode::Forbidden, "this API key belongs to another organisation"));
    }
    Ok(Caller(key))
}

/// The organisation a request acts on: the caller's, which [`authenticate`] checked is the
/// path's. Handlers take it instead of the path's `{orgId}`, so none can act on an
/// organisation that was not checked.
#[derive(Clone, Debug)]
pub(crate) struct Org(pub OrgId);

impl<S: Send + Sync> FromRequestParts<S> for Org {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Org, ApiError> {
        match parts.extensions.get::<Caller>() {
            Some(Caller(key)) => Ok(Org(key.org.clone())),
            // A route outside `authenticate`: a defect in the router, not the caller's fault.
            None => Err(ApiError::new(ErrorCode::InternalError, "the organisation was not authenticated")),
        }
    }
}

/// Whether the caller's key has `scope` (403 naming it otherwise).
pub(crate) fn require(caller: &Caller, scope: Scope) -> Result<(), ApiError> {
    let Caller(key) = caller;
    if !key.allows(scope) {
        return Err(ApiError::new(ErrorCode::Forbidden, format!("this API key lacks the scope {scope}"))
            .with_details(serde_json::json!({ "requiredScope": scope.as_str() })));
    }
    Ok(())
}

/// Middleware of one operation: the scope it needs (`crate::routes`), checked after
/// [`authenticate`] and before the body is read.
pub(crate) async fn require_scope(State(scope): State<Scope>, request: Request, next: Next) -> Response {
    let checked = match request.extensions().get::<Caller>() {
        Some(caller) => require(caller, scope),
        None => Err(ApiError::new(ErrorCode::InternalError, "the caller was not authenticated")),
    };
    match checked {
        Ok(()) => next.run(request).await,
        Err(error) => error.into_response(),
    }
}

/// Middleware of an operation that needs one more scope, which one depending on its body
/// (a fill: `employees:write` or `contractors:write`): a key holding none of `scopes` is
/// refused before the body is read; the handler checks the one the body asks for.
pub(crate) async fn require_one_of(State(scopes): State<&'static [Scope]>, request: Request, next: Next) -> Response {
    let held = match request.extensions().get::<Caller>() {
        Some(Caller(key)) => scopes.iter().any(|scope| key.allows(*scope)),
        None => false,
    };
    if held {
        return next.run(request).await;
    }
    let names: Vec<&str> = scopes.iter().map(|scope| scope.as_str()).collect();
    ApiError::new(ErrorCode::Forbidden, format!("this API key lacks the scopes {}", names.join(" and ")))
        .with_details(serde_json::json!({ "requiredScope": names.join(" or ") }))
        .into_response()
}
