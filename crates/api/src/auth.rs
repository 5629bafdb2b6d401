//! Bearer keys: who is calling, for which organisation, with which scopes.
//!
//! [`authenticate`] runs before any handler of `/api/v1/org/{orgId}/…`: it checks the key and
//! the path's organisation before a byte of the body is read (so an unauthenticated upload is
//! refused without being received, and `Expect: 100-continue` is answered with the refusal,
//! never with `100 Continue`). Handlers then check their scope with [`authorize`].

use axum::{
    extract::{Request, State},
    http::header::AUTHORIZATION,
    middleware::Next,
    response::{IntoResponse, Response},
};
use flowstate_store::keys::ApiKey;

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
    let token = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(|token| token.trim().to_string());
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

async fn caller(state: &AppState, token: Option<String>, org: Option<String>) -> Result<Caller, ApiError> {
    let unauthorized = || {
        ApiError::new(ErrorCode::Unauthorized, "send a live API key as `Authorization: Bearer private_{id}_{secret}`")
    };
    let token = token.ok_or_else(unauthorized)?;
    let key = crate::execution::blocking(&state.store, move |store| store.authenticate(&token))
        .await?
        .ok_or_else(unauthorized)?;
    // Another organisation's data is refused the same way whether or not it exists.
    if org.as_deref() != Some(key.org.as_str()) {
        return Err(ApiError::new(ErrorCode::Forbidden, "this API key belongs to another organisation"));
    }
    Ok(Caller(key))
}

/// Whether the caller may act on `org` with `scope`.
pub(crate) fn authorize(caller: &Caller, org: &str, scope: &str) -> Result<(), ApiError> {
    let Caller(key) = caller;
    if key.org.as_str() != org {
        return Err(ApiError::new(ErrorCode::Forbidden, "this API key belongs to another organisation"));
    }
    if !key.allows(scope) {
        return Err(ApiError::new(ErrorCode::Forbidden, format!("this API key lacks the scope {scope}"))
            .with_details(serde_json::json!({ "requiredScope": scope })));
    }
    Ok(())
}
