//! Integrations and their secrets on the wire.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `POST /integrations`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct NewIntegration {
    /// What people call it; not blank.
    #[schema(min_length = 1, max_length = 200, pattern = r"\S", example = "Workday")]
    pub name: String,
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    /// The key synced records remember their source by: letters, digits, `-` and `_`.
    /// Fixed once the integration exists.
    #[schema(pattern = "^[A-Za-z0-9_-]{1,100}$", example = "workday")]
    pub source_system: String,
}

/// `PATCH /integrations/{id}`: the fields given change; `description: null` clears it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct IntegrationChange {
    #[schema(nullable = false, min_length = 1, max_length = 200, pattern = r"\S")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "super::present")]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub description: Option<Option<String>>,
}

/// A connection to one external system.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Integration {
    #[schema(example = "int_01j9…")]
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub source_system: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

impl From<flowstate_store::integrations::Integration> for Integration {
    fn from(stored: flowstate_store::integrations::Integration) -> Integration {
        let flowstate_store::integrations::Integration { id, name, description, source_system, created_at, updated_at } =
            stored;
        Integration { id, name, description, source_system, created_at, updated_at }
    }
}

/// `PUT /integrations/{id}/secrets/{name}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SecretValue {
    /// Write-only: encrypted at rest, never returned. At least 4 characters (a shorter one
    /// could not be kept out of execution records without blanking ordinary text).
    #[schema(min_length = 4, write_only)]
    pub value: String,
}

/// A secret as the API shows it: never its value.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SecretInfo {
    pub name: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}
