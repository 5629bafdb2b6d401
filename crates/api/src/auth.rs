//! Bearer keys: who is calling, for which organisation, with which scopes.

use axum::http::{HeaderMap, header::AUTHORIZATION};
use flowstate_store::keys::ApiKey;

use crate::{
    AppState,
    error::{ApiError, ErrorCode},
};

/// The key of `Authorization: Bearer private_…`, if it is live, allowed `scope` on `org`.
pub(crate) async fn authorize(
    state: &AppState,
    headers: &HeaderMap,
    org: &str,
    scope: &str,
) -> Result<ApiKey, ApiError> {
    let unauthorized = || {
        ApiError::new(ErrorCode::Unauthorized, "send a live API key as `Authorization: Bearer private_{id}_{secret}`")
    };
    let token = headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(|token| token.trim().to_string())
        .ok_or_else(unauthorized)?;
    let store = state.store.clone();
    let key = tokio::task::spawn_blocking(move || store.authenticate(&token))
        .await
        .map_err(ApiError::internal)??
        .ok_or_else(unauthorized)?;
    // Another organisation's data is refused the same way whether or not it exists.
    if key.org.as_str() != org {
        return Err(ApiError::new(ErrorCode::Forbidden, "this API key belongs to another organisation"));
    }
    if !key.allows(scope) {
        return Err(ApiError::new(ErrorCode::Forbidden, format!("this API key lacks the scope {scope}"))
            .with_details(serde_json::json!({ "requiredScope": scope })));
    }
    Ok(key)
}
