//! [`Store`]: the store's API over either backend. The handle and its connections are
//! here; what it does is in one module per concern: the page apply of a PULL sync
//! (`apply`), writes through the REST API (`writes`), reads (`queries`), and organisations
//! and API keys (`orgs`). Integrations, hooks and executions are in `crate::integrations`.

mod apply;
mod orgs;
mod queries;
mod writes;

pub use queries::{ChangeEvent, ListOrder, ListPageQuery};
pub use writes::{EntityWrite, Filled, Written};

use std::{path::Path, sync::Mutex};

use chrono_tz::Tz;

use crate::{
    OrgId, StoreError,
    db::Db,
    pool::{Connection, Connections, PoolSettings, Snapshot},
};

/// The workforce store, on SQLite or PostgreSQL.
pub struct Store {
    connections: crate::pool::Connections,
    /// Called after a page that changed something commits (the PUSH dispatcher wakes up).
    change_listeners: Mutex<Vec<ChangeListener>>,
    /// Which server this is, in the executions it runs (see [`Store::set_node_id`]).
    node_id: std::sync::OnceLock<String>,
}

pub(super) type ChangeListener = Box<dyn Fn() + Send + Sync>;

/// Whether `location` names a PostgreSQL database rather than a SQLite file.
pub fn is_postgres_url(location: &str) -> bool {
    location.starts_with("postgres://") || location.starts_with("postgresql://")
}

impl Store {
    /// Opens the store at `location`: a `postgres://` URL, or else a SQLite file path.
    pub fn open(location: &str) -> Result<Store, StoreError> {
        Store::open_with(location, PoolSettings::default())
    }

    /// [`Store::open`] with connection settings.
    pub fn open_with(location: &str, settings: PoolSettings) -> Result<Store, StoreError> {
        let connections = if is_postgres_url(location) {
            Connections::postgres(location, settings)?
        } else {
            Connections::sqlite(Path::new(location), settings)?
        };
        Ok(Store::with(connections))
    }

    /// Opens (creating if needed) a SQLite database file and applies pending migrations.
    pub fn open_sqlite(path: &Path) -> Result<Store, StoreError> {
        Ok(Store::with(Connections::sqlite(path, PoolSettings::default())?))
    }

    /// Connects to PostgreSQL (`postgres://user@host:port/database`) and applies pending
    /// migrations.
    pub fn open_postgres(url: &str) -> Result<Store, StoreError> {
        Ok(Store::with(Connections::postgres(url, PoolSettings::default())?))
    }

    pub(super) fn with(connections: Connections) -> Store {
        Store { connections, change_listeners: Mutex::new(Vec::new()), node_id: std::sync::OnceLock::new() }
    }

    /// Names this server in the executions it starts (once; by default `local`).
    pub fn set_node_id(&self, node_id: &str) {
        let _ = self.node_id.set(node_id.to_string());
    }

    pub fn node_id(&self) -> &str {
        self.node_id.get().map(String::as_str).unwrap_or("local")
    }

    /// Calls `listener` after every page applied by this process that wrote a change event.
    /// (Changes written by other processes are not announced: read the outbox too.)
    pub fn on_change(&self, listener: impl Fn() + Send + Sync + 'static) {
        self.change_listeners.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(Box::new(listener));
    }

    /// Tells the listeners (this process's PUSH dispatcher) that changes or PUSH hooks
    /// changed.
    pub(crate) fn announce_change(&self) {
        for listener in self.change_listeners.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).iter() {
            listener();
        }
    }

    /// A connection that may write (see `pool.rs`).
    pub(crate) fn db(&self) -> Result<Connection<'_>, StoreError> {
        self.connections.writer()
    }

    /// A connection for a read on its own: never waits behind a write.
    pub(crate) fn reader(&self) -> Result<Snapshot<'_>, StoreError> {
        self.connections.reader()
    }

    /// The organisation's time zone; an error if there is no such organisation.
    pub(crate) fn check_org(db: &mut dyn Db, org: &OrgId) -> Result<Tz, StoreError> {
        let Some(timezone) = db.org_timezone(org.as_str())? else { return Err(StoreError::UnknownOrg(org.clone())) };
        timezone
            .parse()
            .map_err(|_| StoreError::Database(format!("organisation {org} has an unknown time zone {timezone:?}")))
    }
}
