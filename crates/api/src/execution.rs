//! What PULL runs (`runner`) and PUSH deliveries (`dispatcher`) share: a hook made ready to
//! run (its secrets opened), an execution's status and save, and the one way to call the
//! synchronous store from async code. Both depend on this module, neither on the other's
//! internals.

use std::sync::Arc;

use flowstate_runtime::{HookInvocation, HookRecord, OrgInfo, Secrets, Status};
use flowstate_store::{
    IncomingRecord, OrgId, Store, StoreError,
    integrations::{Execution, Hook, Integration, Organization},
    kinds::ExecutionStatus,
};

use crate::vault::Vault;

/// The store is synchronous: calls go to the blocking pool. A call that could not finish
/// (it panicked) is a database error.
pub(crate) async fn blocking<T: Send + 'static>(
    store: &Arc<Store>,
    call: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    let store = store.clone();
    tokio::task::spawn_blocking(move || call(&store))
        .await
        .unwrap_or_else(|error| Err(StoreError::Database(format!("a store call did not finish: {error}"))))
}

/// An execution's status once the runtime has run it.
pub(crate) fn finished_status(status: Status) -> ExecutionStatus {
    match status {
        Status::Succeeded => ExecutionStatus::Succeeded,
        Status::Failed => ExecutionStatus::Failed,
        Status::TimedOut => ExecutionStatus::TimedOut,
    }
}

pub(crate) async fn save(store: &Arc<Store>, org: &OrgId, execution: &Execution) {
    let (org, execution) = (org.clone(), execution.clone());
    match blocking(store, move |store| store.save_execution(&org, &execution)).await {
        Ok(true) => {}
        Ok(false) => {
            tracing::warn!("the execution was failed as interrupted meanwhile (its lease passed); this save is dropped")
        }
        Err(error) => tracing::error!(%error, "saving an execution failed"),
    }
}

/// The hook's invocation: its code, the organisation, and its integration's secrets opened.
/// Why a hook could not be made ready to run.
#[derive(Debug)]
pub(crate) enum Unprepared {
    /// The store could not be read: worth trying again later.
    Store(StoreError),
    /// A secret cannot be opened with this server's master key: the run fails.
    Secret(String),
}

impl Unprepared {
    pub(crate) fn message(self) -> String {
        match self {
            Unprepared::Store(error) => error.to_string(),
            Unprepared::Secret(message) => message,
        }
    }
}

pub(crate) async fn prepare(
    store: &Arc<Store>,
    vault: &Vault,
    org: &OrgId,
    integration: &Integration,
    hook: &Hook,
) -> Result<HookInvocation, Unprepared> {
    let (secrets_org, integration_id) = (org.clone(), integration.id.clone());
    let sealed =
        blocking(store, move |store| store.secrets(&secrets_org, &integration_id)).await.map_err(Unprepared::Store)?;
    let mut secrets = Vec::new();
    for secret in sealed {
        let Some(value) = vault.open(&integration.id, &secret) else {
            let message = format!("secret {:?} cannot be opened with this server's master key", secret.name);
            return Err(Unprepared::Secret(message));
        };
        secrets.push((secret.name, value));
    }
    let info_org = org.clone();
    let organization = blocking(store, move |store| store.organization(&info_org)).await.map_err(Unprepared::Store)?;
    Ok(HookInvocation {
        file_name: hook.file_name(),
        code: hook.code.clone(),
        kv_scope: crate::kv::scope(org, &hook.id),
        secrets: Secrets::new(secrets),
        org: hook_org(organization),
    })
}

/// `ctx.org`: the organisation a hook runs for, as the store keeps it.
pub fn hook_org(organization: Organization) -> OrgInfo {
    let Organization { id, name, timezone, currency } = organization;
    OrgInfo { id, name, timezone, currency }
}

/// A PULL page's records, as the store applies (or plans) them.
pub(crate) fn incoming(records: Vec<HookRecord>) -> Vec<IncomingRecord> {
    records
        .into_iter()
        .map(|record| IncomingRecord { external_id: record.external_id.to_string(), data: record.data })
        .collect()
}
