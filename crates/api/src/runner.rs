//! Runs hook executions on pools of worker threads (JavaScript never runs on the HTTP
//! workers): each worker owns a current-thread runtime and a hook engine of its own and runs
//! one execution at a time, so a hook that computes occupies its worker only. PULL runs and
//! PUSH deliveries have a pool each (`--workers` threads apiece), so neither waits for the
//! other: an organisation's PUSH deliveries go on while its own long sync runs.
//!
//! The queue of PULL runs lives in the database (`queued` executions, claimed by
//! compare-and-set by whichever server has a worker free: nothing queued is lost when a
//! server stops). PUSH delivery is per hook: a hook with change events waiting is a job of
//! its own (one at a time per hook, so its events stay in order), so a slow or spinning PUSH
//! hook delays only its own queue. The dispatch loop ([`Runner::start`]) hands both kinds to
//! free workers fairly between organisations (`fair.rs`), renews the lease of every execution
//! it runs, and says on `/healthz` when a worker could not start.
//!
//! A PULL execution applies and commits each page before the next page runs, and saves the
//! execution after every page, so it can be watched while it runs.

use std::{
    collections::{BTreeMap, HashMap, HashSet, VecDeque},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use flowstate_runtime::{Engine, ExecutionRecord};
use flowstate_store::{
    OrgId, Store,
    integrations::{EXECUTION_LEASE_SECONDS, Execution, Hook, Integration, QueuedExecution},
    kinds::{ExecutionStatus, HookType},
};
use serde_json::{Value, json};
use tokio::sync::{Notify, mpsc};
use tracing::Instrument;

use crate::{
    dispatcher::PushSettings,
    execution::{blocking, finished_status, incoming, prepare, save},
    fair::Fairness,
    metrics::Metrics,
    vault::Vault,
};

/// One PULL execution to run, claimed.
pub struct Job {
    pub org: OrgId,
    pub integration: Integration,
    pub hook: Hook,
    pub execution: Execution,
}

/// How executions are run.
#[derive(Clone, Copy, Debug)]
pub struct RunnerSettings {
    /// PUSH dispatch; `None`: no PUSH hook is dispatched.
    pub push: Option<PushSettings>,
    /// Worker threads per pool (PULL runs; PUSH deliveries), each running one execution at
    /// a time (at least 1).
    pub workers: usize,
    /// Workers of a pool one organisation may hold at once (at least 1).
    pub org_max_concurrency: usize,
}

impl RunnerSettings {
    /// The defaults for a machine: a worker per core (at least 2), and half of them (at
    /// least 1) per organisation.
    pub fn for_this_machine() -> RunnerSettings {
        RunnerSettings::with_workers(std::thread::available_parallelism().map_or(2, usize::from).max(2))
    }

    /// `workers` per pool, and the default share of them one organisation may hold: half,
    /// at least 1.
    pub fn with_workers(workers: usize) -> RunnerSettings {
        RunnerSettings { push: None, workers, org_max_concurrency: (workers / 2).max(1) }
    }
}

impl Default for RunnerSettings {
    fn default() -> RunnerSettings {
        RunnerSettings::for_this_machine()
    }
}

/// How often the queue is looked at when nothing woke the loop (runs queued by other
/// servers).
const QUEUE_POLL: Duration = Duration::from_millis(250);

/// Queued executions read per pass: at most this many of each organisation (its share of a
/// pool takes no more at once unless `--org-max-concurrency` is set higher; the rest wait for
/// the next pass)...
const QUEUE_PER_ORG: usize = 16;
/// ...and this many in all.
const QUEUE_BATCH: usize = 1_000;

/// How often the leases of running executions are renewed (a lease lasts
/// [`EXECUTION_LEASE_SECONDS`]).
const LEASE_RENEWAL: Duration = Duration::from_secs(20);

/// Something that keeps this server from running hooks. The causes (paths, OS errors) go to
/// the log; `/healthz`, which needs no key, says only what.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Problem {
    /// A worker's runtime or engine could not be built, or building it panicked.
    WorkerCannotStart { kind: HookType, index: usize },
    /// No worker of a pool started: no hook of that type runs here.
    NoWorker { kind: HookType },
    /// The dispatch loop's runtime could not be built.
    DispatchCannotStart,
    /// The dispatch loop stopped with a panic.
    DispatchPanicked,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::WorkerCannotStart { kind, index } => {
                write!(f, "{kind} worker {index} cannot start (the log says why)")
            }
            Problem::NoWorker { kind } => write!(f, "no {kind} worker could start: no {kind} hook runs"),
            Problem::DispatchCannotStart => f.write_str("cannot start the dispatch loop (the log says why)"),
            Problem::DispatchPanicked => {
                f.write_str("the dispatch loop stopped with a panic: no hook runs on this server")
            }
        }
    }
}

/// Every [`Problem`] found, in the order they were.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unhealthy(pub Vec<Problem>);

impl std::fmt::Display for Unhealthy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (index, problem) in self.0.iter().enumerate() {
            if index > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Unhealthy {}

/// What the operator should know about the execution machinery (`/healthz`).
#[derive(Debug, Default)]
pub struct Health {
    problems: Mutex<Vec<Problem>>,
}

impl Health {
    pub(crate) fn report(&self, problem: Problem) {
        tracing::error!(%problem, "the execution machinery is unhealthy");
        self.problems.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(problem);
    }

    /// `Err` with what is wrong, when something is.
    pub fn check(&self) -> Result<(), Unhealthy> {
        let problems = self.problems.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if problems.is_empty() { Ok(()) } else { Err(Unhealthy(problems.clone())) }
    }
}

/// The handle the server keeps: wakes the dispatch loop when a run is queued.
#[derive(Clone)]
pub struct Runner {
    wake: Arc<Notify>,
    health: Arc<Health>,
    plans: mpsc::UnboundedSender<PlanJob>,
}

impl Runner {
    /// Starts `settings.workers` worker threads, each with an engine from `engine`, and the
    /// dispatch loop on a thread of its own. A worker whose engine cannot be built is
    /// reported on `/healthz` and in the log; the others work on.
    pub fn start(
        store: Arc<Store>,
        vault: Vault,
        settings: RunnerSettings,
        metrics: Arc<Metrics>,
        engine: impl Fn() -> anyhow::Result<Engine> + Send + Sync + 'static,
    ) -> std::io::Result<Runner> {
        let health = Arc::new(Health::default());
        let wake = Arc::new(Notify::new());
        let changed = Arc::new(Notify::new());
        let changed_waker = changed.clone();
        let (finished_sender, finished) = mpsc::unbounded_channel();
        let (plans, plan_requests) = mpsc::unbounded_channel();
        let context = Arc::new(WorkerContext { store: store.clone(), vault, metrics, push: settings.push });
        let engine: crate::workers::EngineFactory = Arc::new(engine);
        let lane = |kind: HookType| -> std::io::Result<Lane> {
            let workers = crate::workers::start(
                kind,
                settings.workers.max(1),
                engine.clone(),
                context.clone(),
                finished_sender.clone(),
                &health,
            )?;
            if workers.idle == 0 {
                health.report(Problem::NoWorker { kind });
            }
            Ok(Lane { workers, fairness: Fairness::new(settings.org_max_concurrency) })
        };
        let pull = lane(HookType::Pull)?;
        let push = match settings.push {
            Some(push_settings) => Some((lane(HookType::Push)?, push_settings)),
            None => None,
        };
        let dispatch = Dispatch {
            store: store.clone(),
            pull,
            push,
            finished,
            queued: wake.clone(),
            changed: changed.clone(),
            in_flight: HashMap::new(),
            push_busy: HashSet::new(),
            plan_requests,
            plans_waiting: BTreeMap::new(),
        };
        // Woken at once by changes this process commits (and PUSH hooks it creates or changes).
        store.on_change(move || changed_waker.notify_one());
        let loop_health = health.clone();
        std::thread::Builder::new().name("execution-dispatch".into()).spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(runtime) => runtime,
                Err(error) => {
                    tracing::error!(%error, "the dispatch loop's runtime cannot be built");
                    return loop_health.report(Problem::DispatchCannotStart);
                }
            };
            // A panic here would stop every hook of this server in silence: say so instead.
            let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| runtime.block_on(dispatch.run())));
            if ran.is_err() {
                loop_health.report(Problem::DispatchPanicked);
            }
        })?;
        Ok(Runner { wake, health, plans })
    }

    /// A dry run of `job`'s hook on a PULL worker (taking its turn with the organisations'
    /// queued runs); the answer comes back on `job.reply`. `false` when the dispatch loop
    /// has stopped.
    pub(crate) fn plan(&self, job: PlanJob) -> bool {
        self.plans.send(job).is_ok()
    }

    /// A run was queued: look at the queue now rather than at the next poll.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Whether every worker and the dispatch loop are working.
    pub fn health(&self) -> Result<(), Unhealthy> {
        self.health.check()
    }
}

/// What every worker shares.
pub(crate) struct WorkerContext {
    pub store: Arc<Store>,
    pub vault: Vault,
    pub metrics: Arc<Metrics>,
    pub push: Option<PushSettings>,
}

/// Work for one worker.
pub(crate) enum Work {
    // Both boxed: work is moved through channels, and a job or a hook is a few hundred bytes.
    Pull(Box<Job>),
    /// Deliver the hook's waiting change events.
    Push {
        org: OrgId,
        hook: Box<Hook>,
    },
    /// A PULL hook's dry run.
    Plan(Box<PlanJob>),
}

/// A dry run asked for over the API: the hook (its code perhaps an unsaved edit) of the
/// integration, and where the answer goes.
pub(crate) struct PlanJob {
    pub org: OrgId,
    pub integration: Integration,
    pub hook: Hook,
    pub reply: tokio::sync::oneshot::Sender<Result<crate::dry_run::DryRun, String>>,
}

impl Work {
    pub(crate) fn key(&self) -> (OrgId, WorkKey) {
        match self {
            Work::Pull(job) => (job.org.clone(), WorkKey::Pull(job.execution.id.clone())),
            Work::Push { org, hook } => (org.clone(), WorkKey::Push(hook.id.clone())),
            Work::Plan(job) => (job.org.clone(), WorkKey::Plan),
        }
    }

    /// Runs on a worker, with its engine: whether it got anywhere (a PUSH hook whose lease
    /// another server holds does not, and is not looked at again at once).
    pub(crate) async fn run(self, engine: &Engine, context: &WorkerContext) -> bool {
        match self {
            Work::Pull(job) => {
                let span = tracing::info_span!("execution", id = %job.execution.id, hook = %job.hook.id);
                run(engine, &context.store, &context.vault, &context.metrics, *job).instrument(span).await;
                true
            }
            Work::Plan(job) => {
                let span = tracing::info_span!("plan", hook = %job.hook.id);
                plan(engine, context, *job).instrument(span).await;
                true
            }
            Work::Push { org, hook } => {
                let Some(settings) = context.push else { return false };
                match crate::dispatcher::deliver_pending(engine, &context.store, &context.vault, settings, &org, &hook)
                    .await
                {
                    Ok(delivered) => delivered > 0,
                    Err(message) => {
                        tracing::error!(hook = %hook.id, %message, "PUSH dispatch failed");
                        false
                    }
                }
            }
        }
    }
}

/// Which pool a piece of work ran in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum WorkKind {
    Pull,
    Push,
}

/// Which work finished.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum WorkKey {
    /// An execution id.
    Pull(String),
    /// A PUSH hook id.
    Push(String),
    /// A dry run (on a PULL worker).
    Plan,
}

/// A worker is done with some work of an organisation.
pub(crate) struct Finished {
    pub org: OrgId,
    pub key: WorkKey,
    /// Whether the work got anywhere.
    pub progressed: bool,
}

/// One pool of workers and its turns between organisations.
struct Lane {
    workers: crate::workers::Workers,
    fairness: Fairness,
}

/// Hands candidates from `waiting` to at most `idle` workers, organisations taking turns
/// under `fairness`; `make` turns a candidate into work (`None`: nothing to run after all).
/// What is left stays in `waiting`. Returns the work handed out, which the caller sends (one
/// worker each).
async fn fill<C, W, F>(
    fairness: &mut Fairness,
    idle: usize,
    waiting: &mut BTreeMap<OrgId, VecDeque<C>>,
    mut make: impl FnMut(OrgId, C) -> F,
) -> Vec<(OrgId, W)>
where
    F: std::future::Future<Output = Option<W>>,
{
    let mut handed = Vec::new();
    while handed.len() < idle {
        let with_work = waiting.iter().filter(|(_, work)| !work.is_empty()).map(|(org, _)| org);
        let Some(org) = fairness.next(with_work).cloned() else { break };
        let Some(candidate) = waiting.get_mut(&org).and_then(VecDeque::pop_front) else { break };
        let Some(work) = make(org.clone(), candidate).await else { continue };
        fairness.started(&org);
        handed.push((org, work));
    }
    handed
}

/// The dispatch loop's state.
struct Dispatch {
    store: Arc<Store>,
    pull: Lane,
    /// PUSH delivery, when on.
    push: Option<(Lane, PushSettings)>,
    finished: mpsc::UnboundedReceiver<Finished>,
    /// A run was queued by this process.
    queued: Arc<Notify>,
    /// This process committed a change, or created or changed a PUSH hook.
    changed: Arc<Notify>,
    /// Running PULL executions this server claimed: their leases are renewed.
    in_flight: HashMap<String, OrgId>,
    /// PUSH hooks being delivered by a worker.
    push_busy: HashSet<String>,
    /// Dry runs asked for over the API...
    plan_requests: mpsc::UnboundedReceiver<PlanJob>,
    /// ...waiting for a PULL worker, per organisation.
    plans_waiting: BTreeMap<OrgId, VecDeque<PlanJob>>,
}

impl Dispatch {
    async fn run(mut self) {
        let poll = self.push.as_ref().map_or(QUEUE_POLL, |(_, push)| push.poll.min(QUEUE_POLL));
        let mut push_watch = crate::dispatcher::Watch::default();
        let mut renewed = Instant::now();
        // The queue is read when a run was queued here, a PULL worker came free, or every
        // QUEUE_POLL (runs other servers queued); the outbox when a change was committed
        // here, a delivery got somewhere, or as the PUSH watch polls. A change does not
        // make the loop read the queue, nor a queued run the outbox.
        let (mut read_queue, mut queue_read_at, mut push_woken) = (true, Instant::now(), true);
        loop {
            if self.push.as_ref().is_some_and(|(lane, _)| lane.workers.idle > 0) {
                self.dispatch_push(&mut push_watch, push_woken).await;
            }
            if self.pull.workers.idle > 0 && (read_queue || queue_read_at.elapsed() >= QUEUE_POLL) {
                (read_queue, queue_read_at) = (false, Instant::now());
                self.dispatch_pull().await;
            }
            if renewed.elapsed() >= LEASE_RENEWAL {
                renewed = Instant::now();
                self.renew_leases().await;
            }
            push_woken = false;
            tokio::select! {
                Some(finished) = self.finished.recv() => {
                    let mut finished = Some(finished);
                    // And whatever else finished meanwhile.
                    while let Some(done) = finished.take().or_else(|| self.finished.try_recv().ok()) {
                        match self.done(done) {
                            (WorkKind::Pull, _) => read_queue = true,
                            (WorkKind::Push, progressed) => push_woken |= progressed,
                        }
                    }
                }
                Some(job) = self.plan_requests.recv() => {
                    self.plans_waiting.entry(job.org.clone()).or_default().push_back(job);
                    read_queue = true;
                }
                () = self.queued.notified() => read_queue = true,
                () = self.changed.notified() => push_woken = true,
                () = tokio::time::sleep(poll) => {}
            }
        }
    }

    /// A worker is free again: of which pool, and whether its work got anywhere.
    fn done(&mut self, finished: Finished) -> (WorkKind, bool) {
        let kind = match &finished.key {
            WorkKey::Pull(_) | WorkKey::Plan => WorkKind::Pull,
            WorkKey::Push(_) => WorkKind::Push,
        };
        // The work's own bookkeeping, then its pool's.
        match &finished.key {
            WorkKey::Pull(id) => {
                self.in_flight.remove(id);
            }
            WorkKey::Push(hook) => {
                self.push_busy.remove(hook);
            }
            WorkKey::Plan => {}
        }
        match kind {
            WorkKind::Pull => {
                self.pull.workers.idle += 1;
                self.pull.fairness.finished(&finished.org);
            }
            WorkKind::Push => {
                if let Some((lane, _)) = &mut self.push {
                    lane.workers.idle += 1;
                    lane.fairness.finished(&finished.org);
                }
            }
        }
        (kind, finished.progressed)
    }

    /// Claims queued PULL runs and hands out dry runs for idle PULL workers, organisations
    /// taking turns (an organisation's dry runs before its queued runs: someone waits for
    /// them).
    async fn dispatch_pull(&mut self) {
        let mut waiting: BTreeMap<OrgId, VecDeque<PullCandidate>> = BTreeMap::new();
        for (org, plans) in std::mem::take(&mut self.plans_waiting) {
            waiting.entry(org).or_default().extend(plans.into_iter().map(|job| PullCandidate::Plan(Box::new(job))));
        }
        match blocking(&self.store, |store| store.queued_executions(QUEUE_PER_ORG, QUEUE_BATCH)).await {
            Ok(queued) => {
                for queued in queued {
                    waiting.entry(queued.org.clone()).or_default().push_back(PullCandidate::Queued(queued));
                }
            }
            Err(message) => tracing::error!(%message, "reading the execution queue failed"),
        }
        let store = self.store.clone();
        let idle = self.pull.workers.idle;
        let handed = fill(&mut self.pull.fairness, idle, &mut waiting, |_, candidate| {
            let store = store.clone();
            async move {
                match candidate {
                    // Nobody waits for it any more (the request went away).
                    PullCandidate::Plan(job) if job.reply.is_closed() => None,
                    PullCandidate::Plan(job) => Some(Work::Plan(job)),
                    PullCandidate::Queued(queued) => claim(&store, queued).await.map(|job| Work::Pull(Box::new(job))),
                }
            }
        })
        .await;
        for (org, work) in handed {
            if let Work::Pull(job) = &work {
                self.in_flight.insert(job.execution.id.clone(), org);
            }
            self.pull.workers.send(work);
        }
        // Dry runs left wait for the next free worker; queued runs are read again.
        for (org, candidates) in waiting {
            for candidate in candidates {
                if let PullCandidate::Plan(job) = candidate {
                    self.plans_waiting.entry(org.clone()).or_default().push_back(*job);
                }
            }
        }
    }

    /// Hands PUSH hooks with events waiting to idle PUSH workers, organisations taking turns.
    async fn dispatch_push(&mut self, push_watch: &mut crate::dispatcher::Watch, woken: bool) {
        let Some((lane, _)) = &mut self.push else { return };
        let mut waiting: BTreeMap<OrgId, VecDeque<Hook>> = BTreeMap::new();
        match push_watch.pending_hooks(&self.store, woken).await {
            Ok(hooks) => {
                for (org, hook) in hooks {
                    if !self.push_busy.contains(&hook.id) {
                        waiting.entry(org).or_default().push_back(hook);
                    }
                }
            }
            Err(message) => return tracing::error!(%message, "reading PUSH hooks failed"),
        }
        let idle = lane.workers.idle;
        let handed = fill(&mut lane.fairness, idle, &mut waiting, |org, hook| async move {
            Some(Work::Push { org, hook: Box::new(hook) })
        })
        .await;
        for (_, work) in handed {
            if let Work::Push { hook, .. } = &work {
                self.push_busy.insert(hook.id.clone());
            }
            lane.workers.send(work);
        }
        // Hooks left waiting are looked at again when a worker is free.
        if waiting.values().any(|hooks| !hooks.is_empty()) {
            push_watch.look_again();
        }
    }

    /// Renews the lease of every execution this server runs: a worker busy in JavaScript
    /// cannot, and a lease that passed would mark the execution interrupted.
    async fn renew_leases(&self) {
        let lease = chrono::Duration::seconds(EXECUTION_LEASE_SECONDS);
        let until = flowstate_store::timestamp(chrono::Utc::now() + lease);
        let running: Vec<(String, OrgId)> = self.in_flight.iter().map(|(id, org)| (id.clone(), org.clone())).collect();
        let renewed = blocking(&self.store, move |store| {
            for (id, org) in &running {
                store.renew_execution_lease(org, id, &until)?;
            }
            Ok(())
        })
        .await;
        if let Err(message) = renewed {
            tracing::error!(%message, "renewing execution leases failed");
        }
    }
}

/// What a PULL worker may be given.
enum PullCandidate {
    Plan(Box<PlanJob>),
    Queued(QueuedExecution),
}

/// Claims a queued execution for this server and makes it a job; `None` when another
/// server got it first, or it cannot run (then it is failed with the reason). If what it
/// needs cannot be read, it goes back to the queue for a later pass (never left `running`
/// with nobody running it).
async fn claim(store: &Arc<Store>, queued: QueuedExecution) -> Option<Job> {
    let (org, id) = (queued.org.clone(), queued.id.clone());
    let claimed = blocking(store, move |store| store.claim_execution(&org, &id, chrono::Utc::now())).await;
    let mut execution = match claimed {
        Ok(Some(execution)) => execution,
        Ok(None) => return None, // another server claimed it
        Err(message) => {
            tracing::error!(%message, "claiming a queued execution failed");
            return None;
        }
    };
    let (org, hook_id) = (queued.org.clone(), execution.hook_id.clone());
    let loaded = blocking(store, move |store| {
        let hook = store.hook(&org, &hook_id)?;
        let integration = match &hook {
            Some(hook) => store.integration(&org, &hook.integration_id)?,
            None => None,
        };
        Ok((hook, integration))
    })
    .await;
    let (hook, integration) = match loaded {
        Ok(loaded) => loaded,
        Err(message) => {
            tracing::error!(%message, execution = %execution.id, "reading a claimed execution's hook failed; it is queued again");
            let (org, id) = (queued.org.clone(), execution.id.clone());
            if let Err(message) = blocking(store, move |store| store.requeue_execution(&org, &id)).await {
                tracing::error!(%message, "putting an execution back in the queue failed; its lease will pass");
            }
            return None;
        }
    };
    match (hook, integration) {
        (Some(hook), Some(integration)) if hook.enabled => Some(Job { org: queued.org, integration, hook, execution }),
        (hook, _) => {
            execution.status = ExecutionStatus::Failed;
            execution.error = Some(match hook {
                Some(hook) if !hook.enabled => "the hook was disabled before its queued run started".into(),
                _ => "the hook or its integration was deleted before its queued run started".into(),
            });
            execution.finished_at = Some(flowstate_time::now());
            save(store, &queued.org, &execution).await;
            None
        }
    }
}

async fn run(engine: &Engine, store: &Arc<Store>, vault: &Vault, metrics: &Metrics, job: Job) {
    let Job { org, integration, hook, mut execution } = job;
    let prepared = prepare(store, vault, &org, &integration, &hook).await;
    let invocation = match prepared {
        Ok(invocation) => invocation,
        Err(unprepared) => {
            execution.status = ExecutionStatus::Failed;
            execution.error = Some(unprepared.message());
            execution.finished_at = Some(flowstate_time::now());
            save(store, &org, &execution).await;
            return;
        }
    };
    let redactor = invocation.secrets.redactor();
    let mut pull = engine.start_pull(&invocation);
    let mut page_started = std::time::Instant::now();
    while let Some(page) = pull.next_page().await {
        let records = incoming(page.records);
        let count = records.len();
        let (apply_org, source, entity) = (org.clone(), integration.source_system.clone(), hook.entity_type);
        match blocking(store, move |store| store.apply_page(&apply_org, &source, entity, &records)).await {
            Ok(outcome) => {
                metrics.page(page_started.elapsed().as_secs_f64());
                for (result, count) in [
                    ("created", outcome.created),
                    ("updated", outcome.updated),
                    ("unchanged", outcome.unchanged),
                    ("deleted", outcome.deleted),
                    ("failed", outcome.errors.len()),
                ] {
                    metrics.records(result, count);
                }
                let mut summary = serde_json::to_value(&outcome).expect("outcomes serialize");
                // Per-record errors quote the record (its externalId, the value refused): a
                // hook may have put a secret there.
                redactor.redact_json(&mut summary);
                summary["index"] = json!(page.index);
                summary["recordCount"] = json!(count);
                if let Value::Array(pages) = &mut execution.pages {
                    pages.push(summary);
                }
                save(store, &org, &execution).await;
            }
            Err(message) => pull.reject_page(page.index, &format!("the store could not apply this page: {message}")),
        }
        page_started = std::time::Instant::now();
    }
    let record: ExecutionRecord = pull.finish();
    metrics.http_requests(record.http_requests.len());
    execution.status = finished_status(record.status);
    execution.error = record.error.as_ref().map(|error| error.message.clone());
    execution.record = Some(serde_json::to_value(&record).expect("records serialize"));
    execution.finished_at = Some(flowstate_time::now());
    tracing::info!(status = %execution.status, pages = record.pages.len(), "execution finished");
    save(store, &org, &execution).await;
}

/// A dry run on this worker: the hook made ready (its secrets opened) and run, its pages
/// planned; the answer to whoever asked.
async fn plan(engine: &Engine, context: &WorkerContext, job: PlanJob) {
    let PlanJob { org, integration, hook, reply } = job;
    let answer = match prepare(&context.store, &context.vault, &org, &integration, &hook).await {
        Ok(invocation) => Ok(crate::dry_run::dry_run(
            engine,
            &context.store,
            &invocation,
            &org,
            &integration.source_system,
            hook.entity_type,
            |_| {},
        )
        .await),
        Err(unprepared) => Err(unprepared.message()),
    };
    // The asker may have gone: nothing to do then.
    let _ = reply.send(answer);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three organisations with work and two idle workers: two pieces are handed out, never
    /// more (each organisation's cap allowing one).
    #[tokio::test]
    async fn no_more_work_is_handed_out_than_there_are_idle_workers() {
        let mut fairness = Fairness::new(1);
        let mut waiting: BTreeMap<OrgId, VecDeque<u32>> = BTreeMap::new();
        for (org, work) in [("a", 1), ("b", 2), ("c", 3)] {
            waiting.entry(OrgId::new(org)).or_default().push_back(work);
        }
        let handed = fill(&mut fairness, 2, &mut waiting, |_, work| async move { Some(work) }).await;
        assert_eq!(handed.iter().map(|(_, work)| *work).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(waiting[&OrgId::new("c")].len(), 1, "left waiting for the next free worker");
        // Work that turns out to be nothing does not use a worker.
        let mut waiting: BTreeMap<OrgId, VecDeque<u32>> = BTreeMap::new();
        waiting.entry(OrgId::new("d")).or_default().extend([0, 4]);
        let mut fairness = Fairness::new(2);
        let handed = fill(&mut fairness, 1, &mut waiting, |_, work| async move { (work > 0).then_some(work) }).await;
        assert_eq!(handed.iter().map(|(_, work)| *work).collect::<Vec<_>>(), [4]);
    }
}
