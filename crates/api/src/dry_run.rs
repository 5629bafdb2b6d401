//! A PULL hook's dry run: the hook runs for real (its HTTP calls, its pages) and the sync
//! plans its pages without writing anything (`Store::plan_sync`); its `ctx.kv` reads the
//! hook's store and writes nowhere that lasts. `flowstate hook plan` and
//! `POST …/hooks/{hookId}/plan` both come here.

use std::sync::Arc;

use flowstate_runtime::{Engine, ExecutionRecord, HookInvocation, PageSummary};
use flowstate_store::{IncomingRecord, OrgId, Store, StoreError};
use flowstate_sync::EntityType;
use serde_json::Value;

use crate::execution::{blocking, incoming};

/// What a dry run found.
pub struct DryRun {
    /// The plan (`SyncPlan` as JSON, secrets redacted: records may quote them), or why the
    /// store could not make one.
    pub plan: Result<Value, StoreError>,
    /// The execution, as a real run would record it (logs, HTTP calls, pages, error).
    pub record: ExecutionRecord,
}

/// Runs the PULL hook of `invocation` through all its pages and plans them as a sync of
/// `source` would apply them. `on_page` hears of each page as it comes back.
pub async fn dry_run(
    engine: &Engine,
    store: &Arc<Store>,
    invocation: &HookInvocation,
    org: &OrgId,
    source: &str,
    entity: EntityType,
    mut on_page: impl FnMut(&[PageSummary]),
) -> DryRun {
    // `ctx.kv` as the hook's real runs see it, its writes kept apart and dropped at the end.
    let kv = Arc::new(flowstate_runtime::KvOverlay::over(engine.kv()));
    let mut pull = engine.start_pull_with_kv(invocation, kv);
    let mut pages: Vec<Vec<IncomingRecord>> = Vec::new();
    while let Some(page) = pull.next_page().await {
        on_page(pull.pages());
        pages.push(incoming(page.records));
    }
    on_page(pull.pages());
    let record = pull.finish();
    let (org, source) = (org.clone(), source.to_string());
    let planned =
        blocking(store, move |store| store.plan_sync(&org, &source, entity, &pages, chrono::Utc::now())).await;
    let redactor = invocation.secrets.redactor();
    let plan = planned.map(|plan| {
        let mut plan = serde_json::to_value(plan).expect("plans serialize");
        redactor.redact_json(&mut plan);
        plan
    });
    DryRun { plan, record }
}
