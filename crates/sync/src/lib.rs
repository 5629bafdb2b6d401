//! The pure half of the PULL sync.
//!
//! - [`parse_record`] checks a record's `data` against its entity's schema
//!   ([`schema::fields`]) and returns either a [`ParsedRecord`] or every problem, each a
//!   [`RecordError`] naming the field (`teamAllocations[0].fte must be between 0 and 10, got 12`).
//! - [`Fingerprint::of`] hashes canonical `data` for change detection.
//! - [`nested::diff`] plans what happens to the nested rows a source owns.
//! - [`resolve_fill`] decides a vacancy's filler from what the store found.
//!
//! **Architecture Invariant:** this crate is pure: no IO, no async, no clock (today's date
//! is an argument), no database. The store feeds it what exists and applies what it plans.

mod entity;
mod fill;
mod fingerprint;
pub mod nested;
mod parse;
pub mod schema;
mod value;

pub use entity::{EntityType, NestedKind, UnknownEntityType};
pub use fill::{Filler, resolve_fill};
pub use fingerprint::Fingerprint;
pub use parse::{
    CustomAttributeDefinition, CustomFieldType, FieldChange, FillChange, ParsedRecord, RecordAction, Upsert,
    parse_record,
};
pub use value::{CurrencyCode, FieldError, FieldValue, MAX_MONEY, NUL, check, is_email, parse_date};

/// A per-record failure, as reported in a page's `errors[]`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordError {
    pub external_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub message: String,
}
