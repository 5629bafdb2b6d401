//! The store's database connections: no call waits behind an unrelated one.
//!
//! - **PostgreSQL**: a pool (r2d2) of sessions, [`PoolSettings::size`] at most, each set up
//!   as the first (TLS, planner settings); the first one migrates. Reads and writes take any.
//! - **SQLite**: one writer connection (SQLite admits one writer at a time anyway, and a
//!   second one would only wait on its lock) and a pool of reader connections in WAL mode,
//!   which read the last committed state beside the writer's transaction and beside each
//!   other. Readers are `query_only`: a write through one is an error, never a wait.
//!
//! A caller picks with [`Connections::writer`] (anything that writes, or reads what it is
//! about to write in one transaction) or [`Connections::reader`] (a read on its own).
//!
//! **Invariant:** a caller holds one connection at a time. (Two, taken in turn by calls that
//! each wait for a free one, could wait on each other once the pool is empty.)

use std::{
    path::Path,
    sync::{Mutex, MutexGuard},
    time::Duration,
};

use crate::{
    StoreError,
    db::{Db, Transaction},
};

/// How the store connects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolSettings {
    /// PostgreSQL: connections at most. SQLite: reader connections at most (besides the
    /// one writer).
    pub size: u32,
    /// How long a call waits for a free connection before it fails.
    pub wait: Duration,
}

impl Default for PoolSettings {
    fn default() -> PoolSettings {
        PoolSettings { size: 8, wait: Duration::from_secs(30) }
    }
}

/// Opens one more connection of a pool.
pub(crate) struct Connector {
    open: Box<dyn Fn() -> Result<Box<dyn Db>, StoreError> + Send + Sync>,
}

impl r2d2::ManageConnection for Connector {
    type Connection = Box<dyn Db>;
    type Error = StoreError;

    fn connect(&self) -> Result<Box<dyn Db>, StoreError> {
        (self.open)()
    }

    fn is_valid(&self, _connection: &mut Box<dyn Db>) -> Result<(), StoreError> {
        Ok(()) // not tested on every checkout (a round trip each); broken ones are dropped
    }

    fn has_broken(&self, connection: &mut Box<dyn Db>) -> bool {
        connection.is_broken()
    }
}

type Pool = r2d2::Pool<Connector>;

/// A pool that opens connections as calls need them (its worker threads open them), one
/// opened at once so that a wrong path, URL or password is an error now.
///
/// With `open_all`, every connection is opened now (SQLite readers cost a file open each):
/// the first reads after a start then wait for none to be opened.
fn pool(settings: PoolSettings, connector: Connector, open_all: bool) -> Result<Pool, StoreError> {
    let size = settings.size.max(1);
    let pool = r2d2::Pool::builder()
        .max_size(size)
        .min_idle(Some(if open_all { size } else { 0 }))
        .connection_timeout(settings.wait)
        .test_on_check_out(false)
        // Sessions keep per-connection state (prepared statements, the planner-statistics
        // tracker): they stay open rather than being recycled on a timer.
        .idle_timeout(None)
        .max_lifetime(None)
        .build(connector)
        .map_err(|error| StoreError::Database(format!("connection pool: {error}")))?;
    drop(get(&pool)?);
    Ok(pool)
}

/// Every connection of one store.
pub(crate) enum Connections {
    Sqlite {
        writer: Mutex<Box<dyn Db>>,
        /// `None` where the database has no WAL (in memory): reads then take the writer.
        readers: Option<Pool>,
    },
    Postgres(Pool),
}

/// A connection, for as long as the caller holds it.
pub(crate) enum Connection<'a> {
    Locked(MutexGuard<'a, Box<dyn Db>>),
    Pooled(r2d2::PooledConnection<Connector>),
}

impl std::ops::Deref for Connection<'_> {
    type Target = Box<dyn Db>;

    fn deref(&self) -> &Box<dyn Db> {
        match self {
            Connection::Locked(guard) => guard,
            Connection::Pooled(pooled) => pooled,
        }
    }
}

impl std::ops::DerefMut for Connection<'_> {
    fn deref_mut(&mut self) -> &mut Box<dyn Db> {
        match self {
            Connection::Locked(guard) => &mut *guard,
            Connection::Pooled(pooled) => &mut *pooled,
        }
    }
}

impl Connections {
    pub(crate) fn sqlite(path: &Path, settings: PoolSettings) -> Result<Connections, StoreError> {
        let mut writer = crate::sqlite::SqliteDb::open(path)?;
        let readers = if writer.is_wal() {
            let path = path.to_path_buf();
            let open = move || Ok(Box::new(crate::sqlite::SqliteDb::open_reader(&path)?) as Box<dyn Db>);
            Some(pool(settings, Connector { open: Box::new(open) }, true)?)
        } else {
            None
        };
        Ok(Connections::Sqlite { writer: Mutex::new(Box::new(writer)), readers })
    }

    pub(crate) fn postgres(url: &str, settings: PoolSettings) -> Result<Connections, StoreError> {
        // One connection migrates first, alone (the pool's open later sessions).
        drop(crate::postgres::PostgresDb::connect(url)?);
        let url = url.to_string();
        let open = move || Ok(Box::new(crate::postgres::PostgresDb::session(&url)?) as Box<dyn Db>);
        Ok(Connections::Postgres(pool(settings, Connector { open: Box::new(open) }, false)?))
    }

    /// A connection that may write.
    pub(crate) fn writer(&self) -> Result<Connection<'_>, StoreError> {
        match self {
            Connections::Sqlite { writer, .. } => {
                Ok(Connection::Locked(writer.lock().unwrap_or_else(|poisoned| poisoned.into_inner())))
            }
            Connections::Postgres(pool) => get(pool),
        }
    }

    /// A connection for a read on its own, in a read-only transaction: its statements see
    /// one committed state (a count and the page it counts, an entity and its rows), whatever
    /// commits meanwhile.
    pub(crate) fn reader(&self) -> Result<Snapshot<'_>, StoreError> {
        let mut connection = match self {
            Connections::Sqlite { readers: Some(readers), .. } => get(readers)?,
            Connections::Sqlite { readers: None, .. } => self.writer()?,
            Connections::Postgres(pool) => get(pool)?,
        };
        connection.run(Transaction::BeginSnapshot)?;
        Ok(Snapshot(connection))
    }
}

/// A connection in a read-only transaction, which ends when this is dropped.
pub(crate) struct Snapshot<'a>(Connection<'a>);

impl std::ops::Deref for Snapshot<'_> {
    type Target = Box<dyn Db>;

    fn deref(&self) -> &Box<dyn Db> {
        &self.0
    }
}

impl std::ops::DerefMut for Snapshot<'_> {
    fn deref_mut(&mut self) -> &mut Box<dyn Db> {
        &mut self.0
    }
}

impl Drop for Snapshot<'_> {
    fn drop(&mut self) {
        // Nothing was written: ending it cannot lose anything. (Where it fails, the
        // connection is broken, and the pool drops it rather than handing it out again.)
        if let Err(error) = self.0.run(Transaction::Rollback) {
            tracing::warn!(?error, "ending a read transaction failed");
        }
    }
}

fn get(pool: &Pool) -> Result<Connection<'static>, StoreError> {
    pool.get()
        .map(Connection::Pooled)
        .map_err(|error| StoreError::Database(format!("no database connection became free in time: {error}")))
}
