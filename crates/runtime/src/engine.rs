//! The engine: runs whole executions (the PULL pagination loop, one PUSH call) and turns
//! what happened into an [`ExecutionRecord`].

use std::{
    collections::BTreeMap,
    fmt,
    sync::{Arc, Mutex},
    time::{Instant, SystemTime},
};

use chrono::{DateTime, Utc};
use flowstate_egress::Transport;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{
    Limits, Redactor,
    compiled::CompiledHooks,
    host::{Clock, Host, Journal},
    kv::KvStore,
    output::{HookRecord, parse_page},
    record::{ErrorKind, ExecutionError, ExecutionRecord, HookType, PageSummary, Status},
    sandbox::{self, PageInput},
    watchdog::Watchdog,
};

/// Everything the engine needs, passed in (no globals).
#[derive(Clone)]
pub struct EngineConfig {
    pub limits: Limits,
    /// Where `ctx.http` requests go: the policy-enforcing `HttpClient`, or a recording.
    pub http: Arc<dyn Transport>,
    pub kv: Arc<dyn KvStore>,
    /// The time `ctx.kv` expiry is judged by.
    pub clock: Clock,
}

/// The engine could not start (not a hook's fault).
#[derive(Debug, thiserror::Error)]
#[error("hook engine: {0}")]
pub struct EngineError(String);

/// Runs hooks. Create one per process and share it; each execution is independent.
pub struct Engine {
    config: EngineConfig,
    prelude: Arc<[u8]>,
    watchdog: Watchdog,
    compiled: CompiledHooks,
}

/// The organisation a hook runs for: `ctx.org`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgInfo {
    pub id: String,
    pub name: String,
    /// IANA time zone, e.g. `Europe/London`.
    pub timezone: String,
    /// ISO 4217 reporting currency, e.g. `GBP`.
    pub currency: String,
}

/// A hook's secrets: name to value. `Debug` never shows values.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secrets(BTreeMap<String, String>);

impl Secrets {
    /// Secrets from `(name, value)` pairs.
    pub fn new(entries: impl IntoIterator<Item = (String, String)>) -> Secrets {
        Secrets(entries.into_iter().collect())
    }

    /// The names, without values.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    fn to_json(&self) -> String {
        serde_json::to_string(&self.0).expect("strings serialize")
    }

    /// The redactor for these secrets' values (see [`Redactor`]), also for text the caller
    /// adds to an execution record.
    pub fn redactor(&self) -> Redactor {
        Redactor::new(self.0.iter().map(|(name, value)| (name.as_str(), value.as_str())))
    }
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

/// One hook, ready to run.
#[derive(Clone, Debug)]
pub struct HookInvocation {
    /// Shown in stack traces, e.g. `employees.js`.
    pub file_name: String,
    /// The hook's source: defines `async function run(ctx)`.
    pub code: String,
    /// Which hook's `ctx.kv` keys this run sees.
    pub kv_scope: String,
    pub secrets: Secrets,
    pub org: OrgInfo,
}

/// `ctx.secrets` and `ctx.org` as JSON, made once per execution.
struct PreparedJson {
    secrets: String,
    org: String,
    /// The hook's bytecode: this engine's earlier compile of the same code, or written by
    /// the first page that compiles it; every later page loads it instead of parsing the
    /// source again.
    hook: std::sync::OnceLock<Arc<[u8]>>,
    /// Whether a page's compile is to be kept in the engine's cache for the hook's next
    /// executions: not when `hook` came from there, nor for a dry run (see
    /// [`Engine::start_pull_with_kv`]).
    keep: bool,
}

impl PreparedJson {
    /// `keep`: whether a compile this execution makes may be kept for the hook's next ones.
    fn new(invocation: &HookInvocation, compiled: &CompiledHooks, keep: bool) -> PreparedJson {
        let hook = std::sync::OnceLock::new();
        let cached = match compiled.get(&invocation.kv_scope, &invocation.file_name, &invocation.code) {
            Some(bytecode) => hook.set(bytecode).is_ok(),
            None => false,
        };
        let keep = keep && !cached;
        PreparedJson {
            secrets: invocation.secrets.to_json(),
            org: serde_json::to_string(&invocation.org).expect("org serializes"),
            hook,
            keep,
        }
    }

    /// After a page: a compile it made is kept for the hook's later executions.
    fn keep_compiled(&mut self, invocation: &HookInvocation, compiled: &CompiledHooks) {
        if self.keep
            && let Some(bytecode) = self.hook.get()
        {
            compiled.put(&invocation.kv_scope, &invocation.file_name, &invocation.code, bytecode.clone());
            self.keep = false;
        }
    }
}

/// The records of one PULL page, handed to the caller before the next page runs.
#[derive(Debug)]
pub struct PulledPage {
    pub index: u32,
    pub records: Vec<HookRecord>,
}

impl Engine {
    /// Prepares the engine (compiles the prelude once).
    pub fn new(config: EngineConfig) -> Result<Engine, EngineError> {
        let prelude = sandbox::compile_prelude().map_err(EngineError)?;
        let watchdog =
            Watchdog::start().map_err(|error| EngineError(format!("starting the watchdog thread: {error}")))?;
        Ok(Engine { config, prelude: prelude.into(), watchdog, compiled: CompiledHooks::new() })
    }

    /// The store `ctx.kv` uses.
    pub fn kv(&self) -> Arc<dyn KvStore> {
        self.config.kv.clone()
    }

    /// The limits executions run under.
    pub fn limits(&self) -> &Limits {
        &self.config.limits
    }

    fn host(&self, invocation: &HookInvocation, kv: Arc<dyn KvStore>) -> Arc<Host> {
        Arc::new(Host {
            http: self.config.http.clone(),
            limits: self.config.limits.clone(),
            kv,
            kv_scope: invocation.kv_scope.clone(),
            clock: self.config.clock.clone(),
            redactor: invocation.secrets.redactor(),
            journal: Mutex::new(Journal::default()),
        })
    }

    /// Starts a PULL execution. Drive it with [`PullExecution::next_page`], store each page,
    /// then take the record with [`PullExecution::finish`]:
    ///
    /// ```no_run
    /// # async fn demo(engine: &flowstate_runtime::Engine, hook: &flowstate_runtime::HookInvocation) {
    /// let mut execution = engine.start_pull(hook);
    /// while let Some(page) = execution.next_page().await {
    ///     println!("page {}: {} records", page.index, page.records.len());
    /// }
    /// let record = execution.finish();
    /// println!("{:?}", record.status);
    /// # }
    /// ```
    pub fn start_pull<'e>(&'e self, invocation: &'e HookInvocation) -> PullExecution<'e> {
        self.start(invocation, self.config.kv.clone(), PreparedJson::new(invocation, &self.compiled, true))
    }

    /// A dry run: [`Engine::start_pull`] with `ctx.kv` in `kv` instead of the engine's store
    /// (a dry run reads the hook's store through a [`crate::KvOverlay`] that keeps its
    /// writes), and its compile not kept for the hook's next executions (the engine keeps
    /// one per hook, and the code of a dry run may be an unsaved edit, which would take the
    /// place of the saved code's).
    pub fn start_pull_with_kv<'e>(&'e self, invocation: &'e HookInvocation, kv: Arc<dyn KvStore>) -> PullExecution<'e> {
        self.start(invocation, kv, PreparedJson::new(invocation, &self.compiled, false))
    }

    fn start<'e>(
        &'e self,
        invocation: &'e HookInvocation,
        kv: Arc<dyn KvStore>,
        json: PreparedJson,
    ) -> PullExecution<'e> {
        PullExecution {
            engine: self,
            invocation,
            host: self.host(invocation, kv),
            json,
            started_at: Utc::now(),
            started: Instant::now(),
            next_index: 0,
            meta: None,
            finished: false,
            pages: Vec::new(),
            record_count: 0,
            error: None,
        }
    }

    /// Runs a PUSH hook once with `ctx.event = event`. Its return value is ignored.
    pub async fn run_push(&self, invocation: &HookInvocation, event: &Value) -> ExecutionRecord {
        let host = self.host(invocation, self.config.kv.clone());
        let started_at = Utc::now();
        let started = Instant::now();
        host.begin_page(None);
        let mut json = PreparedJson::new(invocation, &self.compiled, true);
        let result = sandbox::run_page(
            &self.prelude,
            &self.watchdog,
            &host,
            self.page_input(invocation, &json, HookType::Push, Some(event), None),
        )
        .await;
        json.keep_compiled(invocation, &self.compiled);
        build_record(&host, HookType::Push, started_at, started, Vec::new(), 0, result.err())
    }

    fn page_input<'a>(
        &self,
        invocation: &'a HookInvocation,
        json: &'a PreparedJson,
        kind: HookType,
        meta_or_event: Option<&'a Value>,
        page: Option<u32>,
    ) -> PageInput<'a> {
        let budget = match kind {
            HookType::Pull => self.config.limits.pull_page_time,
            HookType::Push => self.config.limits.push_time,
        };
        PageInput {
            kind,
            file_name: &invocation.file_name,
            code: &invocation.code,
            compiled: &json.hook,
            secrets_json: &json.secrets,
            org_json: &json.org,
            meta_or_event,
            deadline: Instant::now() + budget,
            page,
        }
    }
}

/// A PULL execution in progress: pages run one at a time, when the caller asks.
pub struct PullExecution<'e> {
    engine: &'e Engine,
    invocation: &'e HookInvocation,
    host: Arc<Host>,
    json: PreparedJson,
    started_at: DateTime<Utc>,
    started: Instant,
    next_index: u32,
    meta: Option<Value>,
    finished: bool,
    pages: Vec<PageSummary>,
    record_count: usize,
    error: Option<ExecutionError>,
}

impl PullExecution<'_> {
    /// Runs the next page and returns its records, or `None` when the execution is over
    /// (the last page said `more: false`, a page failed, or the page limit was reached).
    pub async fn next_page(&mut self) -> Option<PulledPage> {
        if self.finished {
            return None;
        }
        let limits = &self.engine.config.limits;
        if self.next_index >= limits.max_pages {
            self.finished = true;
            self.host.warn(format!(
                "pagination stopped after {} pages: the hook still returned more: true (fetch more records per page)",
                limits.max_pages
            ));
            return None;
        }
        let index = self.next_index;
        self.next_index += 1;
        self.host.begin_page(Some(index));
        let page_started = Instant::now();
        let input =
            self.engine.page_input(self.invocation, &self.json, HookType::Pull, self.meta.as_ref(), Some(index));
        let result =
            sandbox::run_page(&self.engine.prelude, &self.engine.watchdog, &self.host, input).await.and_then(|value| {
                parse_page(value, limits.meta_bytes).map_err(|error| ExecutionError {
                    kind: ErrorKind::InvalidOutput,
                    message: self.host.redactor.redact(&error.to_string()).into_owned(),
                    stack: None,
                    page: Some(index),
                })
            });
        self.json.keep_compiled(self.invocation, &self.engine.compiled);
        let request_count = self.host.journal().requests_this_page;
        let duration_ms = page_started.elapsed().as_secs_f64() * 1000.0;
        // Only counts and kinds: hook-provided text stays in the (redacted) record.
        tracing::debug!(
            page = index,
            ok = result.is_ok(),
            records = result.as_ref().map(|output| output.records.len()).unwrap_or(0),
            requests = request_count,
            duration_ms,
            "pull page finished"
        );
        match result {
            Ok(output) => {
                self.pages.push(PageSummary {
                    index,
                    record_count: output.records.len(),
                    more: output.more,
                    duration_ms,
                    request_count,
                });
                self.record_count += output.records.len();
                self.finished = !output.more;
                self.meta = output.meta;
                Some(PulledPage { index, records: output.records })
            }
            Err(error) => {
                self.pages.push(PageSummary { index, record_count: 0, more: false, duration_ms, request_count });
                self.error = Some(error);
                self.finished = true;
                None
            }
        }
    }

    /// The redactor this execution's record passes through, for text the caller adds to the
    /// record itself (per-record sync errors).
    pub fn redactor(&self) -> &Redactor {
        &self.host.redactor
    }

    /// The pages run so far.
    pub fn pages(&self) -> &[PageSummary] {
        &self.pages
    }

    /// Ends the execution as failed because the caller could not store a page (the page's
    /// records are lost to this execution; earlier pages stay stored).
    pub fn reject_page(&mut self, index: u32, message: &str) {
        self.finished = true;
        self.error = Some(ExecutionError {
            kind: ErrorKind::Sink,
            message: self.host.redactor.redact(message).into_owned(),
            stack: None,
            page: Some(index),
        });
    }

    /// The execution record. Runs no further pages.
    pub fn finish(self) -> ExecutionRecord {
        build_record(
            &self.host,
            HookType::Pull,
            self.started_at,
            self.started,
            self.pages,
            self.record_count,
            self.error,
        )
    }
}

fn build_record(
    host: &Host,
    hook_type: HookType,
    started_at: DateTime<Utc>,
    started: Instant,
    pages: Vec<PageSummary>,
    record_count: usize,
    error: Option<ExecutionError>,
) -> ExecutionRecord {
    let mut journal = host.journal();
    if journal.logs_dropped > 0 {
        let warning = format!(
            "{} log entries were dropped: at most {} are kept per execution",
            journal.logs_dropped, host.limits.log_entries
        );
        journal.warnings.push(warning);
    }
    let status = match &error {
        None => Status::Succeeded,
        Some(error) if error.kind == ErrorKind::Timeout => Status::TimedOut,
        Some(_) => Status::Failed,
    };
    tracing::info!(
        hook_type = ?hook_type,
        status = ?status,
        error_kind = ?error.as_ref().map(|error| error.kind),
        pages = pages.len(),
        records = record_count,
        http_requests = journal.http.len(),
        duration_ms = started.elapsed().as_secs_f64() * 1000.0,
        "execution finished"
    );
    ExecutionRecord {
        hook_type,
        status,
        started_at,
        finished_at: Utc::now(),
        duration_ms: started.elapsed().as_secs_f64() * 1000.0,
        pages,
        record_count,
        logs: std::mem::take(&mut journal.logs),
        http_requests: std::mem::take(&mut journal.http),
        error,
        warnings: std::mem::take(&mut journal.warnings),
    }
}

/// The system clock, for [`EngineConfig::clock`].
pub fn system_clock() -> Clock {
    Arc::new(SystemTime::now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MemoryKv, OrgInfo, Secrets, Status, system_clock};

    fn invocation(code: &str) -> HookInvocation {
        HookInvocation {
            file_name: "hook.js".into(),
            code: code.into(),
            kv_scope: "org_1/hook_1".into(),
            secrets: Secrets::new([]),
            org: OrgInfo { id: "org_1".into(), name: "Org".into(), timezone: "UTC".into(), currency: "USD".into() },
        }
    }

    async fn finish(mut execution: PullExecution<'_>) {
        while execution.next_page().await.is_some() {}
        assert_eq!(execution.finish().status, Status::Succeeded);
    }

    /// A dry run of an unsaved edit leaves the engine's kept compile of the saved code.
    #[tokio::test]
    async fn a_dry_run_does_not_take_the_place_of_the_saved_codes_compile() {
        let engine = Engine::new(EngineConfig {
            limits: Limits::default(),
            http: Arc::new(flowstate_egress::HttpClient::new(flowstate_egress::EgressOptions::default()).unwrap()),
            kv: Arc::new(MemoryKv::default()),
            clock: system_clock(),
        })
        .unwrap();
        let saved = invocation("async function run(ctx) { return { records: [] }; }");
        let edited = invocation("async function run(ctx) { return { records: [], more: false }; }");
        finish(engine.start_pull(&saved)).await;
        assert!(engine.compiled.get(&saved.kv_scope, &saved.file_name, &saved.code).is_some());
        finish(engine.start_pull_with_kv(&edited, Arc::new(MemoryKv::default()))).await;
        assert!(engine.compiled.get(&saved.kv_scope, &saved.file_name, &saved.code).is_some());
        assert!(engine.compiled.get(&edited.kv_scope, &edited.file_name, &edited.code).is_none());
    }
}
