//! `GET /api/v1/key`: who a key is, so a client holding only the key (the console after
//! sign-in) finds its organisation.

use serde::Serialize;
use utoipa::ToSchema;

/// The calling key and its organisation. Never its secret.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CallingKey {
    /// The key's id (the `{id}` of `private_{id}_{secret}`).
    pub id: String,
    pub name: String,
    /// What the key may do.
    #[schema(value_type = Vec<String>)]
    pub scopes: Vec<&'static str>,
    #[schema(format = DateTime)]
    pub created_at: String,
    pub organization: Organization,
}

/// The organisation a key belongs to, as hooks see it in `ctx.org`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Organization {
    pub id: String,
    pub name: String,
    /// IANA time zone (schedules' preferred hours are in it).
    pub timezone: String,
    /// ISO 4217 code (the forecast's currency).
    pub currency: String,
}

impl From<flowstate_store::integrations::Organization> for Organization {
    fn from(stored: flowstate_store::integrations::Organization) -> Organization {
        let flowstate_store::integrations::Organization { id, name, timezone, currency } = stored;
        Organization { id, name, timezone, currency }
    }
}
