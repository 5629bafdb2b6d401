//! Reading a JSON request body as an object; typed bodies then go through
//! `contract::checked`, workforce records through the sync's field rules.

use serde_json::{Map, Value};

use crate::error::{ApiError, ErrorCode};

/// The request body, which must be a JSON object.
pub(crate) fn object(bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(ApiError::new(ErrorCode::ValidationError, "the body must be a JSON object")),
        Err(error) => Err(ApiError::new(ErrorCode::ValidationError, format!("the body is not JSON: {error}"))),
    }
}
