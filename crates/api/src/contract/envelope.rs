//! What every answer is wrapped in: the one error shape, and a list's page.

use serde::Serialize;
use serde_json::Value;
use utoipa::{
    ToSchema,
    openapi::{ObjectBuilder, Type},
};

use crate::error::ErrorCode;

fn code() -> utoipa::openapi::Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(ErrorCode::ALL.iter().map(|code| code.as_str())))
        .build()
}

fn details() -> utoipa::openapi::Object {
    ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([Type::Array, Type::Object]))
        .description(Some(
            "Per field (`[{ field, message }]`) for a `VALIDATION_ERROR` of a body; for a missing scope, `{ requiredScope }`",
        ))
        .build()
}

/// Every error the server answers with, whatever refused the request.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Error)]
pub(crate) struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ErrorDetail {
    #[schema(schema_with = code)]
    pub code: &'static str,
    /// What is wrong, for people.
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = details)]
    pub details: Option<Value>,
    /// Quote it when reporting a problem: the log has the cause under it.
    #[schema(example = "err_01a249c1fa727082aea400e4e1c38ee7")]
    pub error_id: String,
}

/// A list's page: 1-based, with how many rows there are in all.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ListMeta {
    #[schema(minimum = 1)]
    pub page: usize,
    #[schema(minimum = 1)]
    pub limit: usize,
    pub total: usize,
    pub has_next_page: bool,
}
