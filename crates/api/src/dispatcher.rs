//! PUSH dispatch: the store's change outbox feeds every enabled PUSH hook whose entity type
//! and event types match, as `ctx.event`.
//!
//! Each hook keeps a cursor: the last event it is done with, and a lease naming the one
//! server that delivers its events (taken again each pass; a dead server's passes). It starts at the newest event
//! when the hook is first seen (history is not replayed) and moves, by compare-and-set,
//! only after an event has been delivered or has used up its attempts. So delivery is
//! at least once (a crash before the cursor moves delivers again), in order per hook (and so
//! per entity), and a committed change is never lost. A failed attempt (the hook throws or
//! times out) is retried after a backoff that doubles (at most [`MAX_BACKOFF`]), up to the
//! hook's retry policy (`maxAttempts`, 3 by default); every attempt is an execution with
//! trigger `event` and the event's id. Before every attempt the lease is renewed if a quarter
//! of it has passed, so an attempt (10 s at most) always starts with 45 s of lease ahead and
//! no second server starts on the same event.
//!
//! Each hook with events waiting is a piece of work for the worker pool (`runner.rs`), one at
//! a time per hook: hooks deliver independently, and a slow or spinning hook delays only its
//! own events.

use std::{sync::Arc, time::Duration};

use flowstate_runtime::{Engine, Status};
use flowstate_store::{
    ChangeEvent, OrgId, Store, StoreError,
    integrations::Hook,
    kinds::{ExecutionStatus, Trigger},
};
use serde_json::{Value, json};

use crate::{
    execution::{Unprepared, blocking, finished_status, prepare, save},
    vault::Vault,
};

/// How PUSH deliveries are paced.
#[derive(Clone, Copy, Debug)]
pub struct PushSettings {
    /// How often the outbox is read when there was nothing to deliver.
    pub poll: Duration,
    /// The wait before the second attempt; doubled for each further one, up to
    /// [`MAX_BACKOFF`]. (How many attempts is each hook's retry policy.)
    pub first_backoff: Duration,
}

/// The longest wait between two attempts: with a PUSH run's 10 s limit it stays inside the
/// lease.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);

impl Default for PushSettings {
    fn default() -> PushSettings {
        PushSettings { poll: Duration::from_millis(100), first_backoff: Duration::from_secs(1) }
    }
}

/// Events read per hook per pass.
const BATCH: i64 = 100;

/// How long a server holds a hook's delivery after it last took it: a pass over a batch,
/// retries included, fits well inside it.
const LEASE: chrono::Duration = chrono::Duration::seconds(60);

/// How often every PUSH hook is looked at even when no new change event appeared: for hooks
/// created or enabled meanwhile, and leases of other servers that passed.
const FULL_PASS: Duration = Duration::from_secs(5);

/// Decides when to look for PUSH hooks with events waiting: when the dispatch loop was woken
/// (a change committed by this process, a PUSH hook created or changed, a worker finished),
/// when the newest event number moved (other writers' changes: one cheap query), when work
/// was left waiting, and every [`FULL_PASS`] (hooks enabled by other servers, leases that
/// passed).
#[derive(Debug, Default)]
pub(crate) struct Watch {
    seen_seq: Option<i64>,
    last_full_pass: Option<std::time::Instant>,
    again: bool,
}

impl Watch {
    /// Look at every hook on the next pass.
    pub(crate) fn look_again(&mut self) {
        self.again = true;
    }

    /// The enabled PUSH hooks (of every organisation) with change events past their cursor,
    /// when a look is due; none otherwise. A hook seen for the first time gets its cursor
    /// here, at the newest event (history is not replayed).
    pub(crate) async fn pending_hooks(
        &mut self,
        store: &Arc<Store>,
        woken: bool,
    ) -> Result<Vec<(OrgId, Hook)>, StoreError> {
        let latest = blocking(store, |store| store.latest_event_seq()).await?;
        let due = woken
            || self.again
            || latest.is_none()
            || latest != self.seen_seq
            || self.last_full_pass.is_none_or(|at| at.elapsed() >= FULL_PASS);
        if !due {
            return Ok(Vec::new());
        }
        self.again = false;
        self.seen_seq = latest;
        self.last_full_pass = Some(std::time::Instant::now());
        blocking(store, |store| {
            let mut pending = Vec::new();
            for (org, hook) in store.push_hooks()? {
                let Some(position) = store.push_cursor(&org, &hook.id)? else {
                    store.start_push_cursor(&org, &hook.id)?;
                    continue;
                };
                if !store.change_events_page(&org, position, 1)?.is_empty() {
                    pending.push((org, hook));
                }
            }
            Ok(pending)
        })
        .await
    }
}

/// Delivers the hook's next events; how many events it went past (delivered or not wanted).
pub(crate) async fn deliver_pending(
    engine: &Engine,
    store: &Arc<Store>,
    vault: &Vault,
    settings: PushSettings,
    org: &OrgId,
    hook: &Hook,
) -> Result<usize, StoreError> {
    let (lookup_org, hook_id) = (org.clone(), hook.id.clone());
    let Some(mut position) = blocking(store, move |store| store.push_cursor(&lookup_org, &hook_id)).await? else {
        let (start_org, hook_id) = (org.clone(), hook.id.clone());
        blocking(store, move |store| store.start_push_cursor(&start_org, &hook_id)).await?;
        return Ok(0);
    };
    // One server delivers a hook's events: the one holding its lease (a dead one's passes).
    let mut lease = Lease::take(store, org, hook).await?;
    if !lease.held {
        return Ok(0);
    }
    let events_org = org.clone();
    let events = blocking(store, move |store| store.change_events_page(&events_org, position, BATCH)).await?;
    if events.is_empty() {
        return Ok(0);
    }
    let (integration_org, integration_id) = (org.clone(), hook.integration_id.clone());
    let integration = blocking(store, move |store| store.integration(&integration_org, &integration_id))
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("integration {}", hook.integration_id)))?;
    // Secrets and organisation once per batch, not per event (read again after a failure).
    let mut invocation = None;
    let mut delivered = 0;
    for event in events {
        let wanted = event.entity_type == hook.entity_type
            && (hook.event_types.is_empty() || hook.event_types.contains(&event.change_type));
        let target = Target { org, integration: &integration, hook, vault };
        if wanted && !deliver(engine, store, settings, &target, &mut invocation, &mut lease, &event).await? {
            break; // the lease was lost: another server owns these events now
        }
        delivered += 1;
        let (advance_org, hook_id, to) = (org.clone(), hook.id.clone(), event.seq);
        if !blocking(store, move |store| store.advance_push_cursor(&advance_org, &hook_id, position, to)).await? {
            break; // another server moved it: it owns these events now
        }
        position = event.seq;
    }
    Ok(delivered)
}

/// This server's lease on delivering a hook's events, renewed when a quarter of it has
/// passed: an attempt always starts with most of the lease ahead of it.
struct Lease {
    held: bool,
    taken_at: std::time::Instant,
}

impl Lease {
    async fn take(store: &Arc<Store>, org: &OrgId, hook: &Hook) -> Result<Lease, StoreError> {
        // Its age counts from before the call: the lease runs from `now`.
        let taken_at = std::time::Instant::now();
        let (org, hook_id, now) = (org.clone(), hook.id.clone(), chrono::Utc::now());
        let held = blocking(store, move |store| {
            store.lease_push_cursor(
                &org,
                &hook_id,
                &flowstate_store::timestamp(now),
                &flowstate_store::timestamp(now + LEASE),
            )
        })
        .await?;
        Ok(Lease { held, taken_at })
    }

    /// Whether this server still holds the lease, renewing it if it is getting old.
    async fn keep(&mut self, store: &Arc<Store>, org: &OrgId, hook: &Hook) -> Result<bool, StoreError> {
        let renew_after = (LEASE / 4).to_std().expect("a positive lease");
        if self.held && self.taken_at.elapsed() >= renew_after {
            *self = Lease::take(store, org, hook).await?;
        }
        Ok(self.held)
    }
}

/// `ctx.event`.
fn context_event(event: &ChangeEvent) -> Value {
    json!({
        "id": event.id,
        "entityType": event.entity_type,
        "entityId": event.entity_id,
        "changeType": event.change_type,
        "before": event.before,
        "after": event.after,
        "source": event.source,
    })
}

/// The hook an event goes to, and what its invocation is made from.
struct Target<'a> {
    org: &'a OrgId,
    integration: &'a flowstate_store::integrations::Integration,
    hook: &'a Hook,
    vault: &'a Vault,
}

/// Attempts the event up to the hook's retry policy; `false` when this server lost the
/// hook's lease before an attempt (the event is then the new holder's). `invocation` is the
/// batch's prepared hook, made on first need and again after a failure to make it.
async fn deliver(
    engine: &Engine,
    store: &Arc<Store>,
    settings: PushSettings,
    target: &Target<'_>,
    invocation: &mut Option<flowstate_runtime::HookInvocation>,
    lease: &mut Lease,
    event: &ChangeEvent,
) -> Result<bool, StoreError> {
    let Target { org, integration, hook, vault } = *target;
    let context = context_event(event);
    let attempts = hook.retry_policy.unwrap_or_default().max_attempts.max(1);
    for attempt in 1..=attempts {
        if attempt > 1 {
            tokio::time::sleep((settings.first_backoff * 2u32.pow(attempt - 2)).min(MAX_BACKOFF)).await;
        }
        if !lease.keep(store, org, hook).await? {
            return Ok(false);
        }
        let (start_org, hook_id) = (org.clone(), hook.id.clone());
        // Made ready first: a store that cannot be read leaves the event for a later pass
        // (the cursor stays) rather than failing its attempts.
        let ready = match invocation {
            Some(ready) => Ok(&*ready),
            None => match prepare(store, vault, org, integration, hook).await {
                Ok(prepared) => Ok(&*invocation.insert(prepared)),
                // The store could not be read: the event waits for a later pass.
                Err(Unprepared::Store(error)) => return Err(error),
                Err(unprepared) => Err(unprepared.message()),
            },
        };
        let mut execution =
            blocking(store, move |store| store.start_execution(&start_org, &hook_id, Trigger::Event)).await?;
        execution.event_id = Some(event.id.clone());
        let succeeded = match ready {
            Ok(invocation) => {
                let record = engine.run_push(invocation, &context).await;
                execution.status = finished_status(record.status);
                execution.error = record.error.as_ref().map(|error| error.message.clone());
                execution.record = Some(serde_json::to_value(&record).expect("records serialize"));
                record.status == Status::Succeeded
            }
            Err(message) => {
                execution.status = ExecutionStatus::Failed;
                execution.error = Some(message);
                false
            }
        };
        execution.finished_at = Some(flowstate_time::now());
        save(store, org, &execution).await;
        if succeeded {
            return Ok(true);
        }
    }
    tracing::warn!(hook = %hook.id, event = %event.id, attempts, "PUSH delivery gave up");
    Ok(true)
}
