//! Runs hook executions on threads of their own (JavaScript never runs on the HTTP
//! workers): on one, a current-thread runtime owns a hook engine and takes jobs from a
//! queue, up to [`RunnerSettings::pull_concurrency`] PULL executions at once (interleaved
//! while they wait on HTTP or the store; a hook itself never has two); on another, with an
//! engine of its own, runs the PUSH dispatcher. A PULL
//! execution applies and commits each page before the next page runs, and saves the
//! execution after every page, so it can be watched while it runs.

use std::sync::Arc;

use flowstate_runtime::{Engine, ExecutionRecord, HookInvocation, OrgInfo, Secrets, Status};
use flowstate_store::{
    IncomingRecord, OrgId, Store,
    integrations::{Execution, Hook, Integration},
};
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tracing::Instrument;

use crate::{dispatcher::PushSettings, metrics::Metrics, vault::Vault};

/// One execution to run.
pub struct Job {
    pub org: OrgId,
    pub integration: Integration,
    pub hook: Hook,
    pub execution: Execution,
}

/// How the execution thread works.
#[derive(Clone, Copy, Debug)]
pub struct RunnerSettings {
    /// PUSH dispatch; `None`: no PUSH hook is dispatched.
    pub push: Option<PushSettings>,
    /// PULL executions run at once (at least 1).
    pub pull_concurrency: usize,
}

impl Default for RunnerSettings {
    fn default() -> RunnerSettings {
        RunnerSettings { push: None, pull_concurrency: 4 }
    }
}

/// Where jobs go.
#[derive(Clone)]
pub struct Runner {
    queue: mpsc::UnboundedSender<Job>,
    metrics: Arc<Metrics>,
}

impl Runner {
    /// Starts the execution thread and, with `settings.push`, the PUSH dispatch thread;
    /// `engine` builds each thread's hook engine on it. PUSH delivery has a thread of its
    /// own so that PULL runs computing at length never starve it (a delivery must finish
    /// inside its lease).
    pub fn start(
        store: Arc<Store>,
        vault: Vault,
        settings: RunnerSettings,
        metrics: Arc<Metrics>,
        engine: impl Fn() -> anyhow::Result<Engine> + Send + Sync + 'static,
    ) -> std::io::Result<Runner> {
        let engine = Arc::new(engine);
        if let Some(push) = settings.push {
            let (store, vault, engine) = (store.clone(), vault.clone(), engine.clone());
            execution_thread("push-dispatch", store, move |store| async move {
                match engine() {
                    Ok(engine) => crate::dispatcher::run(&engine, &store, &vault, push).await,
                    Err(error) => tracing::error!(error = %format!("{error:#}"), "cannot build the PUSH hook engine"),
                }
            })?;
        }
        let (queue, mut jobs) = mpsc::unbounded_channel::<Job>();
        let runner = Runner { queue, metrics: metrics.clone() };
        execution_thread("hook-executions", store, move |store| async move {
            let engine = match engine() {
                Ok(engine) => engine,
                Err(error) => return tracing::error!(error = %format!("{error:#}"), "cannot build the hook engine"),
            };
            let (engine, metrics, vault, store) = (&engine, &metrics, &vault, &store);
            let queue =
                futures_util::stream::unfold(&mut jobs, |jobs| async move { jobs.recv().await.map(|job| (job, jobs)) });
            queue
                .for_each_concurrent(settings.pull_concurrency.max(1), |job| {
                    metrics.queued(-1);
                    let span = tracing::info_span!("execution", id = %job.execution.id, hook = %job.hook.id);
                    run(engine, store, vault, metrics, job).instrument(span)
                })
                .await;
        })?;
        Ok(runner)
    }

    pub fn submit(&self, job: Job) -> bool {
        self.metrics.queued(1);
        let sent = self.queue.send(job).is_ok();
        if !sent {
            self.metrics.queued(-1);
        }
        sent
    }
}

/// A thread running `work` on a current-thread runtime of its own. The thread keeps a
/// handle to the store that it drops after that runtime: a PostgreSQL store (whose client
/// owns a small runtime) may only be dropped outside another.
fn execution_thread<F, Fut>(name: &str, store: Arc<Store>, work: F) -> std::io::Result<()>
where
    F: FnOnce(Arc<Store>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()>,
{
    std::thread::Builder::new().name(name.into()).stack_size(8 * 1024 * 1024).spawn(move || {
        let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
            Ok(runtime) => runtime,
            Err(error) => return tracing::error!(%error, "cannot start an execution runtime"),
        };
        let kept = store.clone();
        runtime.block_on(work(store));
        drop(runtime);
        drop(kept);
    })?;
    Ok(())
}

/// The store is synchronous: calls go to the blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
    store: &Arc<Store>,
    call: impl FnOnce(&Store) -> Result<T, flowstate_store::StoreError> + Send + 'static,
) -> Result<T, String> {
    let store = store.clone();
    match tokio::task::spawn_blocking(move || call(&store)).await {
        Ok(result) => result.map_err(|error| error.to_string()),
        Err(error) => Err(error.to_string()),
    }
}

async fn run(engine: &Engine, store: &Arc<Store>, vault: &Vault, metrics: &Metrics, job: Job) {
    let Job { org, integration, hook, mut execution } = job;
    let prepared = prepare(store, vault, &org, &integration, &hook).await;
    let invocation = match prepared {
        Ok(invocation) => invocation,
        Err(unprepared) => {
            execution.status = "failed".into();
            execution.error = Some(unprepared.message());
            execution.finished_at = Some(now());
            save(store, &org, &execution).await;
            return;
        }
    };
    let mut pull = engine.start_pull(&invocation);
    let mut page_started = std::time::Instant::now();
    while let Some(page) = pull.next_page().await {
        let records: Vec<IncomingRecord> = page
            .records
            .into_iter()
            .map(|record| IncomingRecord { external_id: record.external_id.to_string(), data: record.data })
            .collect();
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
    execution.status = status_name(record.status).into();
    execution.error = record.error.as_ref().map(|error| error.message.clone());
    execution.record = Some(serde_json::to_value(&record).expect("records serialize"));
    execution.finished_at = Some(now());
    tracing::info!(status = %execution.status, pages = record.pages.len(), "execution finished");
    save(store, &org, &execution).await;
}

pub(crate) fn status_name(status: Status) -> &'static str {
    match status {
        Status::Succeeded => "succeeded",
        Status::Failed => "failed",
        Status::TimedOut => "timed_out",
    }
}

pub(crate) fn now() -> String {
    flowstate_store::timestamp(chrono::Utc::now())
}

pub(crate) async fn save(store: &Arc<Store>, org: &OrgId, execution: &Execution) {
    let (org, execution) = (org.clone(), execution.clone());
    if let Err(message) = blocking(store, move |store| store.save_execution(&org, &execution)).await {
        tracing::error!(%message, "saving an execution failed");
    }
}

/// The hook's invocation: its code, the organisation, and its integration's secrets opened.
/// Why a hook could not be made ready to run.
#[derive(Debug)]
pub(crate) enum Unprepared {
    /// The store could not be read: worth trying again later.
    Store(String),
    /// A secret cannot be opened with this server's master key: the run fails.
    Secret(String),
}

impl Unprepared {
    pub(crate) fn message(self) -> String {
        match self {
            Unprepared::Store(message) | Unprepared::Secret(message) => message,
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
        file_name: format!("{}.js", hook.name),
        code: hook.code.clone(),
        kv_scope: crate::kv::scope(org, &hook.id),
        secrets: Secrets::new(secrets),
        org: OrgInfo {
            id: org.to_string(),
            name: organization.name,
            timezone: organization.timezone,
            currency: organization.currency,
        },
    })
}
