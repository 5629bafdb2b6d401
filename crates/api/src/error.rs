//! One JSON shape for every error: `{ error: { code, message, details?, errorId } }`.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::Value;

/// The error codes of the public API, each with its HTTP status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    ValidationError,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    RateLimited,
    InternalError,
    /// The server cannot do its work (`/healthz`).
    Unavailable,
    MethodNotAllowed,
    PayloadTooLarge,
    UriTooLong,
}

impl ErrorCode {
    /// Every code, in a stable order (the document lists them).
    pub const ALL: [ErrorCode; 11] = [
        ErrorCode::ValidationError,
        ErrorCode::Unauthorized,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::Conflict,
        ErrorCode::RateLimited,
        ErrorCode::InternalError,
        ErrorCode::Unavailable,
        ErrorCode::MethodNotAllowed,
        ErrorCode::PayloadTooLarge,
        ErrorCode::UriTooLong,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::ValidationError => "VALIDATION_ERROR",
            ErrorCode::Unauthorized => "UNAUTHORIZED",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::Conflict => "CONFLICT",
            ErrorCode::RateLimited => "RATE_LIMITED",
            ErrorCode::InternalError => "INTERNAL_ERROR",
            ErrorCode::Unavailable => "UNAVAILABLE",
            ErrorCode::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            ErrorCode::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            ErrorCode::UriTooLong => "URI_TOO_LONG",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            ErrorCode::ValidationError => StatusCode::BAD_REQUEST,
            ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
            ErrorCode::Forbidden => StatusCode::FORBIDDEN,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::Conflict => StatusCode::CONFLICT,
            ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::InternalError => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::UriTooLong => StatusCode::URI_TOO_LONG,
        }
    }

    /// The code of an error response with this status that some layer other than ours
    /// produced (its status is kept).
    pub fn for_status(status: StatusCode) -> ErrorCode {
        match status {
            StatusCode::UNAUTHORIZED => ErrorCode::Unauthorized,
            StatusCode::FORBIDDEN => ErrorCode::Forbidden,
            StatusCode::NOT_FOUND => ErrorCode::NotFound,
            StatusCode::METHOD_NOT_ALLOWED => ErrorCode::MethodNotAllowed,
            StatusCode::CONFLICT => ErrorCode::Conflict,
            StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
            StatusCode::URI_TOO_LONG => ErrorCode::UriTooLong,
            StatusCode::TOO_MANY_REQUESTS => ErrorCode::RateLimited,
            StatusCode::SERVICE_UNAVAILABLE => ErrorCode::Unavailable,
            status if status.is_server_error() => ErrorCode::InternalError,
            _ => ErrorCode::ValidationError,
        }
    }
}

/// An error response.
#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    pub details: Option<Value>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError { code, message: message.into(), details: None }
    }

    /// A `VALIDATION_ERROR` about one field (or query parameter): `message` names it, and
    /// `details` is `[{ field, message }]`.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> ApiError {
        let message = message.into();
        let details = serde_json::json!([{ "field": field, "message": message }]);
        ApiError::new(ErrorCode::ValidationError, message).with_details(details)
    }

    pub fn with_details(mut self, details: Value) -> ApiError {
        self.details = Some(details);
        self
    }

    /// A failure of ours: the client gets an id to quote, the log gets the cause.
    pub fn internal(cause: impl std::fmt::Display) -> ApiError {
        ApiError { code: ErrorCode::InternalError, message: cause.to_string(), details: None }
    }
}

impl From<flowstate_store::StoreError> for ApiError {
    fn from(error: flowstate_store::StoreError) -> ApiError {
        match error {
            flowstate_store::StoreError::Invalid(message) => ApiError::new(ErrorCode::ValidationError, message),
            flowstate_store::StoreError::NotFound(what) => {
                ApiError::new(ErrorCode::NotFound, format!("{what} not found"))
            }
            flowstate_store::StoreError::Conflict(message) => ApiError::new(ErrorCode::Conflict, message),
            flowstate_store::StoreError::UnknownOrg(org) => {
                ApiError::new(ErrorCode::NotFound, format!("organisation {org} does not exist"))
            }
            other => ApiError::internal(other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let error_id = format!("err_{}", uuid::Uuid::now_v7().simple());
        let message = if self.code == ErrorCode::InternalError {
            // The cause may name tables or servers: it goes to the log, not to the client.
            tracing::error!(error_id, cause = %self.message, "internal error");
            "something went wrong on our side; quote the errorId when reporting it".to_string()
        } else {
            self.message
        };
        let body = crate::contract::envelope::ErrorBody {
            error: crate::contract::envelope::ErrorDetail {
                code: self.code.as_str(),
                message,
                details: self.details,
                error_id,
            },
        };
        (self.code.status(), Json(body)).into_response()
    }
}
