//! `ctx.kv`: a small persistent key-value store, scoped to one hook.

use std::{
    collections::HashMap,
    future::Future,
    path::{Path, PathBuf},
    pin::Pin,
    sync::Mutex,
    time::{SystemTime, UNIX_EPOCH},
};

use serde::{Deserialize, Serialize};

/// A boxed future, so stores can be trait objects.
pub type KvFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, KvError>> + Send + 'a>>;

/// Why a `get` or `set` failed; the hook gets the message as an `Error`. (A hook's own
/// mistakes, such as a key too long, are thrown in the sandbox before a call.)
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KvError {
    /// The store failed.
    #[error("key-value store: {0}")]
    Store(String),
    /// The set would take the hook over its quota; nothing was stored.
    #[error("kv quota exceeded: {0}")]
    Quota(String),
}

/// Where `ctx.kv` keeps values. `scope` identifies the hook; a store never lets one scope
/// see another's keys. Expiry is decided by the caller's clock, passed in as `now`.
pub trait KvStore: Send + Sync + 'static {
    /// The value of `key`, or `None` if absent or expired at `now`.
    fn get<'a>(&'a self, scope: &'a str, key: &'a str, now: SystemTime) -> KvFuture<'a, Option<String>>;
    /// Stores `value` under `key` until `expires_at`, replacing any previous value.
    fn set<'a>(&'a self, scope: &'a str, key: &'a str, value: String, expires_at: SystemTime) -> KvFuture<'a, ()>;
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    value: String,
    /// Milliseconds since the Unix epoch.
    expires_at: u64,
}

fn millis(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

type Table = HashMap<String, HashMap<String, Entry>>;

fn lookup(table: &Table, scope: &str, key: &str, now: SystemTime) -> Option<String> {
    let entry = table.get(scope)?.get(key)?;
    (entry.expires_at > millis(now)).then(|| entry.value.clone())
}

fn store(table: &mut Table, scope: &str, key: &str, value: String, expires_at: SystemTime) {
    table
        .entry(scope.to_string())
        .or_default()
        .insert(key.to_string(), Entry { value, expires_at: millis(expires_at) });
}

/// Keeps values in memory for the life of the process.
#[derive(Debug, Default)]
pub struct MemoryKv {
    table: Mutex<Table>,
}

impl KvStore for MemoryKv {
    fn get<'a>(&'a self, scope: &'a str, key: &'a str, now: SystemTime) -> KvFuture<'a, Option<String>> {
        let value = lookup(&self.table.lock().expect("kv lock"), scope, key, now);
        Box::pin(async move { Ok(value) })
    }

    fn set<'a>(&'a self, scope: &'a str, key: &'a str, value: String, expires_at: SystemTime) -> KvFuture<'a, ()> {
        store(&mut self.table.lock().expect("kv lock"), scope, key, value, expires_at);
        Box::pin(async { Ok(()) })
    }
}

/// Reads through to another store and keeps every write to itself, in memory: a dry run
/// sees the hook's `ctx.kv` as a real run would and changes nothing of it.
pub struct KvOverlay {
    base: std::sync::Arc<dyn KvStore>,
    written: Mutex<Table>,
}

impl KvOverlay {
    pub fn over(base: std::sync::Arc<dyn KvStore>) -> KvOverlay {
        KvOverlay { base, written: Mutex::new(Table::new()) }
    }
}

impl KvStore for KvOverlay {
    fn get<'a>(&'a self, scope: &'a str, key: &'a str, now: SystemTime) -> KvFuture<'a, Option<String>> {
        // Written here (an expired entry too: a delete is a write): the overlay answers.
        let written = self.written.lock().expect("kv lock").get(scope).and_then(|keys| keys.get(key)).cloned();
        match written {
            Some(entry) => {
                let value = (entry.expires_at > millis(now)).then_some(entry.value);
                Box::pin(async move { Ok(value) })
            }
            None => self.base.get(scope, key, now),
        }
    }

    fn set<'a>(&'a self, scope: &'a str, key: &'a str, value: String, expires_at: SystemTime) -> KvFuture<'a, ()> {
        store(&mut self.written.lock().expect("kv lock"), scope, key, value, expires_at);
        Box::pin(async { Ok(()) })
    }
}

/// Keeps values in a JSON file, for the command line: read once, rewritten atomically on
/// every `set` (entries expired at that moment are dropped then).
#[derive(Debug)]
pub struct FileKv {
    path: PathBuf,
    table: Mutex<Table>,
}

impl FileKv {
    /// Opens (or, on the first `set`, creates) the store at `path`.
    pub fn open(path: &Path) -> Result<FileKv, KvError> {
        let table = match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|error| KvError::Store(format!("{} is not a key-value file: {error}", path.display())))?,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Table::new(),
            Err(error) => return Err(KvError::Store(format!("reading {}: {error}", path.display()))),
        };
        Ok(FileKv { path: path.to_path_buf(), table: Mutex::new(table) })
    }

    fn save(&self, table: &Table) -> Result<(), KvError> {
        let bytes = serde_json::to_vec_pretty(table).expect("kv table serializes");
        let temporary = self.path.with_extension("tmp");
        std::fs::write(&temporary, bytes)
            .and_then(|()| std::fs::rename(&temporary, &self.path))
            .map_err(|error| KvError::Store(format!("writing {}: {error}", self.path.display())))
    }
}

impl KvStore for FileKv {
    fn get<'a>(&'a self, scope: &'a str, key: &'a str, now: SystemTime) -> KvFuture<'a, Option<String>> {
        let value = lookup(&self.table.lock().expect("kv lock"), scope, key, now);
        Box::pin(async move { Ok(value) })
    }

    fn set<'a>(&'a self, scope: &'a str, key: &'a str, value: String, expires_at: SystemTime) -> KvFuture<'a, ()> {
        let result = {
            let mut table = self.table.lock().expect("kv lock");
            store(&mut table, scope, key, value, expires_at);
            let now = millis(SystemTime::now());
            for entries in table.values_mut() {
                entries.retain(|_, entry| entry.expires_at > now);
            }
            table.retain(|_, entries| !entries.is_empty());
            self.save(&table)
        };
        Box::pin(async move { result })
    }
}

#[cfg(test)]
mod tests {
    use std::{
        sync::Arc,
        time::{Duration, SystemTime},
    };

    use super::*;

    fn block<T>(future: KvFuture<'_, T>) -> T {
        futures_util::FutureExt::now_or_never(future).expect("ready").expect("no error")
    }

    #[test]
    fn an_overlay_reads_through_and_keeps_its_writes() {
        let base: Arc<dyn KvStore> = Arc::new(MemoryKv::default());
        let now = SystemTime::now();
        let later = now + Duration::from_secs(60);
        block(base.set("hook", "cursor", "c1".into(), later));
        block(base.set("hook", "kept", "k".into(), later));
        let overlay = KvOverlay::over(base.clone());
        assert_eq!(block(overlay.get("hook", "cursor", now)).as_deref(), Some("c1"), "reads the store");
        block(overlay.set("hook", "cursor", "c2".into(), later));
        // Deleted (expired at once) in the overlay: gone there, kept in the store.
        block(overlay.set("hook", "kept", String::new(), now));
        assert_eq!(block(overlay.get("hook", "cursor", now)).as_deref(), Some("c2"));
        assert_eq!(block(overlay.get("hook", "kept", now)), None);
        assert_eq!(block(base.get("hook", "cursor", now)).as_deref(), Some("c1"), "the store is unchanged");
        assert_eq!(block(base.get("hook", "kept", now)).as_deref(), Some("k"));
    }
}
