//! The workforce store and the page-applying half of the PULL sync.
//!
//! [`Store::apply_page`] takes the records of one PULL page and makes them the right rows of
//! the workforce model (data-model.md) in three steps: **load** everything the records can
//! touch in a few bulk queries (`load.rs`), **plan** record by record in memory (`plan.rs`,
//! pure, on `flowstate_sync`), where a failing record is undone alone and reported in
//! [`PageOutcome::errors`], and **write** what changed in one transaction (`db.rs`: batched
//! on PostgreSQL). Every create, update and delete writes a change event (the outbox) in the
//! same transaction. Should the database refuse the batch (another writer got there
//! first), the page is applied again record by record, each in its own savepoint.
//!
//! ```no_run
//! # fn demo() -> Result<(), flowstate_store::StoreError> {
//! use flowstate_store::{IncomingRecord, Store};
//! use flowstate_sync::EntityType;
//! let store = Store::open_sqlite("flowstate.db".as_ref())?;
//! let org = store.create_org("Acme", "Europe/London", "GBP")?;
//! let data = serde_json::json!({ "firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.com" });
//! let records = vec![IncomingRecord { external_id: "emp-1".into(), data: data.as_object().unwrap().clone() }];
//! let outcome = store.apply_page(&org, "workday", EntityType::Employee, &records)?;
//! assert_eq!(outcome.created, 1);
//! # Ok(()) }
//! ```
//!
//! **Architecture Invariant:** only this crate has SQL, and no `rusqlite` (or `sqlx`) type
//! appears in its public API. Organisation scoping is in the API itself: every read and
//! write takes an [`OrgId`].

mod db;
pub mod fill;
mod forecast;
pub mod integrations;
pub mod keys;
pub mod kinds;
mod load;
mod migrate;
mod model;
mod pg_tls;
mod plan;
mod pool;
mod postgres;
pub mod reference;
mod represent;
mod sqlite;
mod store;
pub mod sync_plan;
mod world;

use std::collections::BTreeMap;

pub use pool::PoolSettings;
pub use store::{ChangeEvent, EntityWrite, Filled, ListOrder, ListPageQuery, Store, Written, is_postgres_url};

use flowstate_sync::{NestedKind, RecordError, nested::NestedCounts};
use serde::Serialize;
use serde_json::{Map, Value};

/// The one format of the times the store keeps (`flowstate_time`): stored times are compared
/// as text (execution windows, leases, schedule slots), which is right only while every
/// writer uses it.
pub use flowstate_time::format as timestamp;

/// An organisation's id. Every store call is scoped by one.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct OrgId(String);

impl OrgId {
    /// An id as given by a user (checked against the store when used).
    pub fn new(id: impl Into<String>) -> OrgId {
        OrgId(id.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for OrgId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One record of a page, as a PULL hook returned it.
#[derive(Clone, Debug, PartialEq)]
pub struct IncomingRecord {
    pub external_id: String,
    pub data: Map<String, Value>,
}

/// What applying a page did.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct PageOutcome {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub deleted: usize,
    /// Per nested array kind (`teamAllocations`, …).
    pub nested: BTreeMap<NestedKind, NestedCounts>,
    pub errors: Vec<RecordError>,
}

impl PageOutcome {
    /// Adds another page's counts and errors to these.
    pub fn absorb(&mut self, other: PageOutcome) {
        self.created += other.created;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
        self.deleted += other.deleted;
        for (kind, counts) in other.nested {
            *self.nested.entry(kind).or_default() += counts;
        }
        self.errors.extend(other.errors);
    }
}

/// A failure of the store itself (not of a record: those are [`PageOutcome::errors`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("organisation {0} does not exist")]
    UnknownOrg(OrgId),
    #[error("invalid value: {0}")]
    Invalid(String),
    #[error("database: {0}")]
    Database(String),
    #[error("migrating the database: {0}")]
    Migration(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// A hook's `ctx.kv` would go over its quota.
    #[error("kv quota exceeded: {0}")]
    Quota(String),
}
