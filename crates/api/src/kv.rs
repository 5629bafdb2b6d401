//! Hooks' `ctx.kv` on the server: kept in the store, so values survive restarts and every
//! server on one database sees the same ones.

use std::{sync::Arc, time::SystemTime};

use flowstate_runtime::{KvError, KvFuture, KvStore};
use flowstate_store::{OrgId, Store, StoreError, integrations::KvQuota};

/// The scope the runner gives an invocation: the hook, within its organisation.
pub(crate) fn scope(org: &OrgId, hook_id: &str) -> String {
    format!("{org}/{hook_id}")
}

fn parse_scope(scope: &str) -> Result<(OrgId, String), KvError> {
    match scope.split_once('/') {
        Some((org, hook)) => Ok((OrgId::new(org), hook.to_string())),
        None => Err(KvError::Store(format!("not a server kv scope: {scope:?}"))),
    }
}

fn stamp(time: SystemTime) -> String {
    flowstate_store::timestamp(chrono::DateTime::<chrono::Utc>::from(time))
}

/// [`KvStore`] over the store's `hook_kv` table (each call on the blocking pool: the store
/// is synchronous), each hook held to `quota`.
pub struct StoreKv {
    store: Arc<Store>,
    quota: KvQuota,
}

impl StoreKv {
    pub fn new(store: Arc<Store>, quota: KvQuota) -> StoreKv {
        StoreKv { store, quota }
    }
}

fn kv_error(error: StoreError) -> KvError {
    match error {
        StoreError::Quota(message) => KvError::Quota(message),
        other => KvError::Store(other.to_string()),
    }
}

impl KvStore for StoreKv {
    fn get<'a>(&'a self, scope: &'a str, key: &'a str, now: SystemTime) -> KvFuture<'a, Option<String>> {
        let store = self.store.clone();
        let (scope, key) = (scope.to_string(), key.to_string());
        Box::pin(async move {
            let (org, hook) = parse_scope(&scope)?;
            tokio::task::spawn_blocking(move || store.kv_get(&org, &hook, &key, &stamp(now)))
                .await
                .map_err(|error| KvError::Store(error.to_string()))?
                .map_err(kv_error)
        })
    }

    fn set<'a>(&'a self, scope: &'a str, key: &'a str, value: String, expires_at: SystemTime) -> KvFuture<'a, ()> {
        let (store, quota) = (self.store.clone(), self.quota);
        let (scope, key) = (scope.to_string(), key.to_string());
        // Values expired by now do not count against the quota.
        let now = stamp(SystemTime::now());
        Box::pin(async move {
            let (org, hook) = parse_scope(&scope)?;
            let expires_at = stamp(expires_at);
            tokio::task::spawn_blocking(move || store.kv_set(&org, &hook, &key, &value, &expires_at, &now, quota))
                .await
                .map_err(|error| KvError::Store(error.to_string()))?
                .map_err(kv_error)
        })
    }
}
