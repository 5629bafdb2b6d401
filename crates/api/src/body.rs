//! Reading JSON request bodies: an object, field by field, every problem collected into one
//! `VALIDATION_ERROR` whose `details` name the fields.

use serde_json::{Map, Value, json};

use crate::error::{ApiError, ErrorCode};

/// The request body, which must be a JSON object.
pub(crate) fn object(bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(ApiError::new(ErrorCode::ValidationError, "the body must be a JSON object")),
        Err(error) => Err(ApiError::new(ErrorCode::ValidationError, format!("the body is not JSON: {error}"))),
    }
}

/// Field-by-field reading of a JSON body, collecting every problem. A field the handler
/// never asks for is unknown: [`Body::finish`] refuses it by name (a misspelt `shedule` is a
/// 400, not a silent no-op).
pub(crate) struct Body {
    object: Map<String, Value>,
    asked: std::collections::BTreeSet<String>,
    problems: Vec<Value>,
}

impl Body {
    /// The request body, which must be a JSON object (any problem is a `VALIDATION_ERROR`).
    pub fn new(bytes: axum::body::Bytes) -> Result<Body, ApiError> {
        Ok(Body { object: object(&bytes)?, asked: Default::default(), problems: Vec::new() })
    }

    /// The field's value as sent, if it was (the field is known from now on).
    pub fn get(&mut self, field: &str) -> Option<&Value> {
        self.asked.insert(field.to_string());
        self.object.get(field)
    }

    pub fn problem(&mut self, field: &str, message: String) {
        self.problems.push(json!({ "field": field, "message": message }));
    }

    pub fn text(&mut self, field: &str, required: bool) -> Option<String> {
        match self.get(field).cloned() {
            Some(Value::String(text)) => Some(text),
            None if !required => None,
            None => {
                self.problem(field, format!("{field} is required"));
                None
            }
            // Null is refused where a field cannot be cleared (`nullable_text` takes it).
            Some(_) => {
                self.problem(field, format!("{field} must be a string"));
                None
            }
        }
    }

    /// Every problem found, unknown fields included, as one `VALIDATION_ERROR`.
    pub fn finish(mut self) -> Result<(), ApiError> {
        let unknown: Vec<String> = self.object.keys().filter(|key| !self.asked.contains(*key)).cloned().collect();
        for field in unknown {
            self.problem(&field, format!("unknown field {field:?}"));
        }
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(ApiError::new(ErrorCode::ValidationError, "the body is invalid")
                .with_details(Value::Array(self.problems)))
        }
    }
}
