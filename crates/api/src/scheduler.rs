//! The scheduler: on every tick, each enabled PULL hook whose latest schedule slot is newer
//! than the one it last claimed runs once: after downtime a missed schedule runs once, not
//! once per missed slot. A slot is claimed by compare-and-set in the store, so it runs at
//! most once whatever the number of servers. A run over the limit of
//! [`MAX_EXECUTIONS_PER_HOUR`] (scheduled and manual together, rolling hour), or while the
//! hook is still queued or running, is recorded as `skipped` with the reason. A run that is
//! due is queued in the database (`runner.rs` takes it from there).

use std::{future::Future, sync::Arc, time::Duration as StdDuration};

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use flowstate_store::{Store, StoreError, kinds::Trigger};

use crate::{runner::Runner, schedule::Schedule};

/// Executions of one hook per rolling hour, scheduled and manual together (spec: Limits).
pub const MAX_EXECUTIONS_PER_HOUR: usize = 5;

/// What one tick did, by hook id.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Tick {
    pub started: Vec<String>,
    pub skipped: Vec<String>,
}

fn stamp(at: DateTime<Utc>) -> String {
    flowstate_store::timestamp(at)
}

/// Why a hook may not start an execution now (the one place these rules are checked, for
/// scheduled and manual runs alike).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// One of its executions is queued or running.
    Unfinished,
    /// It started [`MAX_EXECUTIONS_PER_HOUR`] executions in the rolling hour before now.
    HourlyLimit { recent: usize },
}

impl std::fmt::Display for Refusal {
    /// The reason a skipped scheduled run records.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Unfinished => f.write_str("an execution of this hook is still queued or running (one at a time)"),
            Refusal::HourlyLimit { .. } => {
                write!(f, "the limit of {MAX_EXECUTIONS_PER_HOUR} executions per hour is reached")
            }
        }
    }
}

/// Whether the hook may start an execution at `now`.
pub fn may_start(
    store: &Store,
    org: &flowstate_store::OrgId,
    hook_id: &str,
    now: DateTime<Utc>,
) -> Result<Result<(), Refusal>, StoreError> {
    if store.has_unfinished_execution(org, hook_id)? {
        return Ok(Err(Refusal::Unfinished));
    }
    let recent = store.executions_since(org, hook_id, &stamp(now - Duration::hours(1)))?;
    if recent >= MAX_EXECUTIONS_PER_HOUR {
        return Ok(Err(Refusal::HourlyLimit { recent }));
    }
    Ok(Ok(()))
}

/// One pass over the scheduled hooks at `now` (the clock is an argument: tests drive it).
pub fn tick(store: &Store, runner: &Runner, now: DateTime<Utc>) -> Result<Tick, StoreError> {
    let mut report = Tick::default();
    for scheduled in store.scheduled_hooks()? {
        let hook = &scheduled.hook;
        let Some(schedule) =
            hook.schedule.as_deref().and_then(|interval| Schedule::parse(interval, hook.preferred_hour))
        else {
            continue;
        };
        let timezone: Tz = scheduled.timezone.parse().unwrap_or(Tz::UTC);
        let slot = stamp(schedule.latest_slot(timezone, now));
        let previous = scheduled.last_scheduled_at.as_deref();
        if previous.is_some_and(|previous| previous >= slot.as_str()) {
            continue;
        }
        if !store.claim_slot(&scheduled.org, &hook.id, previous, &slot)? {
            continue; // another server claimed it
        }
        if previous.is_none() {
            continue; // first sight of this hook: its schedule starts from here
        }
        let at = stamp(now);
        if let Err(reason) = may_start(store, &scheduled.org, &hook.id, now)? {
            tracing::info!(hook = %hook.id, %reason, "scheduled run skipped");
            store.record_skipped_execution(&scheduled.org, &hook.id, Trigger::Schedule, &at, &reason.to_string())?;
            report.skipped.push(hook.id.clone());
            continue;
        }
        // Queued in the database: whichever server has a worker free runs it. A manual run
        // queued since the check above takes the hook's one place: this slot is skipped.
        match store.queue_execution(&scheduled.org, &hook.id, Trigger::Schedule, &at) {
            Ok(_) => {
                runner.wake();
                report.started.push(hook.id.clone());
            }
            Err(StoreError::Conflict(reason)) => {
                store.record_skipped_execution(&scheduled.org, &hook.id, Trigger::Schedule, &at, &reason)?;
                report.skipped.push(hook.id.clone());
            }
            Err(error) => return Err(error),
        }
    }
    Ok(report)
}

/// Ticks every `period` until `shutdown` completes; every ten minutes also deletes the
/// finished executions older than `retention`.
pub async fn run(
    store: Arc<Store>,
    runner: Runner,
    period: StdDuration,
    retention: Duration,
    shutdown: impl Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    let mut interval = tokio::time::interval(period);
    let mut last_prune: Option<DateTime<Utc>> = None;
    loop {
        tokio::select! {
            () = &mut shutdown => return,
            _ = interval.tick() => {
                let now = Utc::now();
                let prune = last_prune.is_none_or(|last| now - last >= Duration::minutes(10));
                if prune {
                    last_prune = Some(now);
                }
                let (store, runner) = (store.clone(), runner.clone());
                let pass = tokio::task::spawn_blocking(move || {
                    if prune {
                        let pruned = store.prune_executions(&stamp(now - retention))?;
                        if pruned > 0 {
                            tracing::info!(pruned, "old executions deleted");
                        }
                        let expired = store.prune_kv(&stamp(now))?;
                        if expired > 0 {
                            tracing::info!(expired, "expired ctx.kv values deleted");
                        }
                    }
                    // A server that died and did not come back leaves its leases to pass.
                    let interrupted = store.fail_interrupted_executions_at(&stamp(now), false)?;
                    if interrupted > 0 {
                        tracing::warn!(interrupted, "executions whose server stopped are marked failed (interrupted)");
                    }
                    tick(&store, &runner, now)
                });
                match pass.await {
                    Ok(Ok(_)) => {}
                    Ok(Err(error)) => tracing::error!(%error, "scheduler tick failed"),
                    Err(error) => tracing::error!(%error, "scheduler tick panicked"),
                }
            }
        }
    }
}
